/* gba_http_client.c - the blocking HTTP client (poll(), one connection). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "gba_err.h"
#include "gba_h1.h"
#include "gba_h2.h"
#include "gba_http_int.h"
#include "gba_limits.h"
#include "gba_mem.h"
#include "gba_tls.h"

#define CLIENT_DEFAULT_TIMEOUT_MS 10000u
#define CLIENT_DEFAULT_MAX_BODY   (1024u * 1024u)
#define CLIENT_MAX_PATH           8192u

/* ---- the reply and its collector ---- */

struct reply_field {
	size_t noff, nlen, voff, vlen;
};

struct reply_push {
	struct gba_hbuf path;
	struct gba_hbuf body;
	int status;
};

struct gba_http_reply_store {
	struct gba_http_reply pub;        /* first: gba_http_reply_free casts back */
	struct gba_hbuf hbytes;           /* names (lower-case) and values */
	struct reply_field idx[GBA_HTTP_MAX_REPLY_HEADERS];
	struct gba_http_header headers[GBA_HTTP_MAX_REPLY_HEADERS];
	size_t nh;
	struct gba_hbuf body;
	struct reply_push pushes[GBA_HTTP_MAX_PUSHES];
	struct gba_http_pushed pub_pushes[GBA_HTTP_MAX_PUSHES];
	size_t npushes;
	/* gba_http_client_stream: events instead of a collected reply */
	gba_http_event_fn fn;
	void *arg;
	int stopped;                      /* fn's value when it asked to stop */
	int headers_sent;
	int push_used[GBA_HTTP_MAX_PUSHES];
};

static struct gba_http_reply_store *store_new(size_t max_body)
{
	struct gba_http_reply_store *rs = gba_calloc(1, sizeof(*rs));
	size_t i;

	if (rs == NULL)
		return NULL;
	gba_hbuf_init(&rs->hbytes, GBA_HTTP_MAX_REPLY_HDRLEN);
	gba_hbuf_init(&rs->body, max_body);
	for (i = 0; i < GBA_HTTP_MAX_PUSHES; i++) {
		gba_hbuf_init(&rs->pushes[i].path, CLIENT_MAX_PATH);
		gba_hbuf_init(&rs->pushes[i].body, max_body);
	}
	return rs;
}

void gba_http_reply_free(struct gba_http_reply *r)
{
	struct gba_http_reply_store *rs = (struct gba_http_reply_store *)(void *)r;
	size_t i;

	if (rs == NULL)
		return;
	gba_hbuf_clear(&rs->hbytes);
	gba_hbuf_clear(&rs->body);
	for (i = 0; i < GBA_HTTP_MAX_PUSHES; i++) {
		gba_hbuf_clear(&rs->pushes[i].path);
		gba_hbuf_clear(&rs->pushes[i].body);
	}
	gba_free(rs);
}

/* Point the public view at the stored bytes (they no longer move). */
static void store_finish(struct gba_http_reply_store *rs, enum gba_http_version v)
{
	size_t i;

	for (i = 0; i < rs->nh; i++) {
		rs->headers[i].name.p = (const char *)rs->hbytes.p + rs->idx[i].noff;
		rs->headers[i].name.len = rs->idx[i].nlen;
		rs->headers[i].value.p = rs->idx[i].vlen > 0 ?
		                         (const char *)rs->hbytes.p + rs->idx[i].voff : "";
		rs->headers[i].value.len = rs->idx[i].vlen;
	}
	rs->pub.version = v;
	rs->pub.headers = rs->headers;
	rs->pub.nheaders = rs->nh;
	rs->pub.body = rs->body.p;
	rs->pub.body_len = gba_hbuf_used(&rs->body);
	for (i = 0; i < rs->npushes; i++) {
		rs->pub_pushes[i].path.p = (const char *)rs->pushes[i].path.p;
		rs->pub_pushes[i].path.len = gba_hbuf_used(&rs->pushes[i].path);
		rs->pub_pushes[i].status = rs->pushes[i].status;
		rs->pub_pushes[i].body = rs->pushes[i].body.p;
		rs->pub_pushes[i].body_len = gba_hbuf_used(&rs->pushes[i].body);
	}
	rs->pub.pushed = rs->npushes > 0 ? rs->pub_pushes : NULL;
	rs->pub.npushed = rs->npushes;
}

int gba_reply_status(struct gba_http_reply_store *rs, int push, int status)
{
	if (status < 100 || status > 599)
		return GBA_ESYNTAX;
	if (push < 0)
		rs->pub.status = status;
	else if ((size_t)push < rs->npushes)
		rs->pushes[push].status = status;
	else
		return GBA_EINVAL;
	return 0;
}

int gba_reply_header(struct gba_http_reply_store *rs, int push, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen)
{
	struct reply_field *f;
	size_t i, start;
	int rc;

	if (push >= 0)
		return 0;     /* pushed responses keep only status and body */
	if (rs->nh >= GBA_HTTP_MAX_REPLY_HEADERS)
		return GBA_ETOOBIG;
	f = &rs->idx[rs->nh];
	f->noff = rs->hbytes.len;
	f->nlen = nlen;
	start = rs->hbytes.len;
	rc = gba_hbuf_append(&rs->hbytes, name, nlen);
	if (rc < 0)
		return rc;
	for (i = start; i < rs->hbytes.len; i++)
		if (rs->hbytes.p[i] >= 'A' && rs->hbytes.p[i] <= 'Z')
			rs->hbytes.p[i] = (uint8_t)(rs->hbytes.p[i] - 'A' + 'a');
	f->voff = rs->hbytes.len;
	f->vlen = vlen;
	rc = gba_hbuf_append(&rs->hbytes, value, vlen);
	if (rc < 0)
		return rc;
	rs->nh++;
	return 0;
}

/* Hand one event to the streaming callback (none after a stop). */
static void emit(struct gba_http_reply_store *rs, const struct gba_http_event *ev)
{
	int ret;

	if (rs->stopped != 0)
		return;
	ret = rs->fn(rs->arg, ev);
	if (ret != 0)
		rs->stopped = ret;
}

int gba_reply_streaming(const struct gba_http_reply_store *rs)
{
	return rs->fn != NULL;
}

int gba_reply_headers_done(struct gba_http_reply_store *rs)
{
	struct gba_http_event ev;

	if (rs->fn == NULL || rs->headers_sent)
		return 0;
	rs->headers_sent = 1;
	store_finish(rs, GBA_HTTP_2);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_HTTP_EV_HEADERS;
	ev.status = rs->pub.status;
	ev.headers = rs->headers;
	ev.nheaders = rs->nh;
	emit(rs, &ev);
	return 0;
}

int gba_reply_body(struct gba_http_reply_store *rs, int push, const uint8_t *d, size_t n)
{
	struct gba_http_event ev;

	if (push < 0 && rs->fn != NULL) {
		(void)gba_reply_headers_done(rs);
		memset(&ev, 0, sizeof(ev));
		ev.type = GBA_HTTP_EV_DATA;
		ev.data = d;
		ev.len = n;
		if (n > 0)
			emit(rs, &ev);
		return 0;
	}
	if (push < 0)
		return gba_hbuf_append(&rs->body, d, n);
	if ((size_t)push >= rs->npushes || (rs->fn != NULL && !rs->push_used[push]))
		return GBA_EINVAL;
	return gba_hbuf_append(&rs->pushes[push].body, d, n);
}

int gba_reply_push_new(struct gba_http_reply_store *rs, const uint8_t *path, size_t len,
                       int *index)
{
	size_t i = rs->npushes;
	int rc;

	if (rs->fn != NULL)   /* streaming: reuse a finished push's slot */
		for (i = 0; i < rs->npushes && rs->push_used[i]; i++)
			;
	if (i >= GBA_HTTP_MAX_PUSHES)
		return GBA_ETOOBIG;
	rc = gba_hbuf_append(&rs->pushes[i].path, path, len);
	if (rc < 0)
		return rc;
	*index = (int)i;
	rs->push_used[i] = 1;
	if (i == rs->npushes)
		rs->npushes++;
	return 0;
}

void gba_reply_push_drop(struct gba_http_reply_store *rs, int index)
{
	if (rs->fn == NULL || index < 0 || (size_t)index >= rs->npushes)
		return;
	gba_hbuf_clear(&rs->pushes[index].path);
	gba_hbuf_clear(&rs->pushes[index].body);
	rs->pushes[index].status = 0;
	rs->push_used[index] = 0;
}

int gba_reply_push_done(struct gba_http_reply_store *rs, int index)
{
	struct reply_push *p;
	struct gba_http_event ev;

	if (rs->fn == NULL)
		return 0;
	if (index < 0 || (size_t)index >= rs->npushes || !rs->push_used[index])
		return GBA_EINVAL;
	p = &rs->pushes[index];
	(void)gba_reply_headers_done(rs);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_HTTP_EV_PUSH;
	ev.status = p->status;
	ev.path.p = (const char *)gba_hbuf_data(&p->path);
	ev.path.len = gba_hbuf_used(&p->path);
	ev.data = gba_hbuf_data(&p->body);
	ev.len = gba_hbuf_used(&p->body);
	emit(rs, &ev);
	gba_hbuf_clear(&p->path);
	gba_hbuf_clear(&p->body);
	p->status = 0;
	rs->push_used[index] = 0;
	return 0;
}

void gba_reply_restart(struct gba_http_reply_store *rs)
{
	rs->hbytes.off = rs->hbytes.len = 0;
	rs->body.off = rs->body.len = 0;
	rs->nh = 0;
	rs->pub.status = 0;
}

const struct gba_str *gba_http_reply_header(const struct gba_http_reply *r, const char *lname)
{
	size_t i, n = strlen(lname);

	for (i = 0; i < r->nheaders; i++)
		if (r->headers[i].name.len == n && memcmp(r->headers[i].name.p, lname, n) == 0)
			return &r->headers[i].value;
	return NULL;
}

/* ---- the connection ---- */

struct gba_http_client {
	enum gba_http_client_mode mode;
	unsigned timeout_ms;
	size_t max_body;
	int disable_push;
	int https;
	char host[GBA_MAX_FQDN_LEN + 1];  /* without brackets */
	char port[8];
	char authority[GBA_MAX_FQDN_LEN + 16];
	struct gba_tls_ctx *tls_ctx;
	int fd;
	struct gba_tls_conn *conn;
	int h2;                           /* the connection speaks HTTP/2 */
	struct gba_h1_client *h1c;
	struct gba_h2_client *h2c;
	struct gba_hbuf out;
	int usable;                       /* connected and reusable */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* scheme://host[:port][/...] ; host is a name, an IPv4 literal or
 * [IPv6]. */
static int parse_url(struct gba_http_client *c, const char *url)
{
	const char *p, *h, *he, *pe;
	size_t hl, pl, i;
	unsigned long port = 0;

	if (strncmp(url, "https://", 8) == 0) {
		c->https = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		c->https = 0;
		p = url + 7;
	} else {
		return GBA_EINVAL;
	}
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (he == NULL)
			return GBA_EINVAL;
		pe = he + 1;
	} else {
		h = p;
		he = h + strcspn(h, ":/?#");
		pe = he;
	}
	hl = (size_t)(he - h);
	if (hl == 0 || hl > GBA_MAX_FQDN_LEN)
		return GBA_EINVAL;
	for (i = 0; i < hl; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.' || h[i] == ':'))
			return GBA_EINVAL;
	if (*p != '[' && memchr(h, ':', hl) != NULL)
		return GBA_EINVAL;
	memcpy(c->host, h, hl);
	c->host[hl] = '\0';
	if (*pe == ':') {
		pe++;
		pl = strspn(pe, "0123456789");
		if (pl == 0 || pl > 5)
			return GBA_EINVAL;
		for (i = 0; i < pl; i++)
			port = port * 10 + (unsigned long)(pe[i] - '0');
		if (port == 0 || port > 65535)
			return GBA_EINVAL;
		pe += pl;
	} else {
		port = c->https ? 443 : 80;
	}
	if (*pe != '\0' && *pe != '/' && *pe != '?' && *pe != '#')
		return GBA_EINVAL;
	(void)snprintf(c->port, sizeof(c->port), "%lu", port);
	if (*p == '[')
		(void)snprintf(c->authority, sizeof(c->authority), "[%s]:%lu", c->host, port);
	else
		(void)snprintf(c->authority, sizeof(c->authority), "%s:%lu", c->host, port);
	return 0;
}

static void disconnect(struct gba_http_client *c)
{
	if (c->conn != NULL)
		gba_tls_bye(c->conn);
	gba_tls_conn_free(c->conn);
	c->conn = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	gba_h1_client_free(c->h1c);
	c->h1c = NULL;
	gba_h2_client_free(c->h2c);
	c->h2c = NULL;
	gba_hbuf_clear(&c->out);
	c->usable = 0;
}

/* Wait for fd; 0 ready, GBA_EIO on timeout or error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return GBA_EIO;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GBA_EIO;
		if (n > 0)
			return 0;
	}
}

static int tcp_connect(struct gba_http_client *c, long long deadline)
{
	struct addrinfo hints, *res = NULL, *ai;
	socklen_t elen;
	int fd = -1, err, one = 1, rc = GBA_EIO;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if (getaddrinfo(c->host, c->port, &hints, &res) != 0) {
		/* Loopback-only hosts have no "configured" address family. */
		hints.ai_flags = 0;
		if (getaddrinfo(c->host, c->port, &hints, &res) != 0)
			return GBA_ENOTFOUND;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0) {
			err = 0;
			elen = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return rc;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

static int do_connect(struct gba_http_client *c, long long deadline)
{
	unsigned offer = 0;
	short ev;
	int rc;

	disconnect(c);
	rc = tcp_connect(c, deadline);
	if (rc < 0)
		return rc;
	if (c->https)
		offer = c->mode == GBA_HTTP_CLIENT_H1 ? GBA_TLS_OFFER_H1 :
		        c->mode == GBA_HTTP_CLIENT_H2 ? GBA_TLS_OFFER_H2 :
		        GBA_TLS_OFFER_H2 | GBA_TLS_OFFER_H1;
	rc = gba_tls_conn_new(&c->conn, c->https ? c->tls_ctx : NULL, c->fd, c->host, offer);
	if (rc < 0)
		goto out;
	for (;;) {
		rc = gba_tls_handshake(c->conn);
		if (rc != GBA_TLS_AGAIN)
			break;
		ev = gba_tls_want_write(c->conn) ? POLLOUT : POLLIN;
		rc = wait_fd(c->fd, ev, deadline);
		if (rc < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	if (c->https) {
		enum gba_tls_alpn a = gba_tls_alpn(c->conn);

		if (c->mode == GBA_HTTP_CLIENT_H2 && a != GBA_TLS_ALPN_H2) {
			rc = GBA_EUNSUPP;
			goto out;
		}
		c->h2 = a == GBA_TLS_ALPN_H2;
	} else {
		c->h2 = c->mode == GBA_HTTP_CLIENT_H2;
	}
	gba_hbuf_init(&c->out, GBA_HTTP_OUT_MAX);
	if (c->h2)
		rc = gba_h2_client_new(&c->h2c, !c->disable_push);
	else
		rc = gba_h1_client_new(&c->h1c);
	if (rc < 0)
		goto out;
	c->usable = 1;
	rc = 0;
out:
	if (rc < 0)
		disconnect(c);
	return rc;
}

int gba_http_client_open(struct gba_http_client **out, const struct gba_http_client_conf *conf,
                         const char *url)
{
	struct gba_http_client *c;
	long long deadline;
	int rc;

	*out = NULL;
	if (conf == NULL || url == NULL || conf->mode > GBA_HTTP_CLIENT_AUTO)
		return GBA_EINVAL;
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	c->fd = -1;
	c->mode = conf->mode;
	c->timeout_ms = conf->timeout_ms ? conf->timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	c->max_body = conf->max_body ? conf->max_body : CLIENT_DEFAULT_MAX_BODY;
	c->disable_push = conf->disable_push;
	gba_hbuf_init(&c->out, GBA_HTTP_OUT_MAX);
	rc = parse_url(c, url);
	if (rc < 0)
		goto out;
	if (c->https) {
		rc = gba_tls_client_ctx_new(&c->tls_ctx, conf->ca_file, conf->cert_file, conf->key_file);
		if (rc < 0)
			goto out;
	}
	deadline = now_ms() + c->timeout_ms;
	rc = do_connect(c, deadline);
	if (rc < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	gba_http_client_close(c);
	return rc;
}

void gba_http_client_close(struct gba_http_client *c)
{
	if (c == NULL)
		return;
	disconnect(c);
	gba_tls_ctx_free(c->tls_ctx);
	gba_free(c);
}

/* Flush out and read until the reply is complete (or a streaming
 * callback asked to stop). */
static int exchange(struct gba_http_client *c, long long deadline,
                    const struct gba_http_reply_store *rs)
{
	uint8_t buf[GBA_HTTP_INBUF];
	size_t n;
	int wrc, rrc, rc, done, eof;
	short ev;

	for (;;) {
		if (c->h2) {
			rc = gba_h2_client_send(c->h2c, &c->out);
			if (rc < 0)
				return rc;
		}
		wrc = 0;
		while (gba_hbuf_used(&c->out) > 0) {
			wrc = gba_tls_write(c->conn, gba_hbuf_data(&c->out), gba_hbuf_used(&c->out), &n);
			if (wrc != 0)
				break;
			gba_hbuf_consume(&c->out, n);
		}
		if (wrc < 0)
			return wrc;
		/* A peer that stopped reading may still have answered (413). */
		if (wrc == GBA_TLS_CLOSED)
			gba_hbuf_consume(&c->out, gba_hbuf_used(&c->out));
		rrc = gba_tls_read(c->conn, buf, sizeof(buf), &n);
		if (rrc < 0)
			return rrc;
		eof = rrc == GBA_TLS_CLOSED;
		rc = 0;
		if (rrc == 0 && c->h2)
			rc = gba_h2_client_recv(c->h2c, buf, n);
		else if (rrc == 0 || eof)
			rc = c->h2 ? 0 : gba_h1_client_recv(c->h1c, buf, eof ? 0 : n);
		if (rc < 0)
			return rc;
		if (rs->stopped != 0)
			return 0;
		if (c->h2) {
			done = gba_h2_client_done(c->h2c);
			if (done < 0)
				return done;
		} else {
			done = gba_h1_client_done(c->h1c);
		}
		if (done) {
			if (eof)
				c->usable = 0;
			return 0;
		}
		if (eof)
			return GBA_EIO;
		if (rrc == 0 || gba_tls_pending(c->conn) > 0)
			continue;
		ev = POLLIN;
		if (gba_hbuf_used(&c->out) > 0 || gba_tls_want_write(c->conn))
			ev |= POLLOUT;
		rc = wait_fd(c->fd, ev, deadline);
		if (rc < 0)
			return rc;
	}
}

int gba_http_client_request(struct gba_http_client *c, const char *method, const char *path,
                            const struct gba_http_header *headers, size_t nheaders,
                            const void *body, size_t body_len, struct gba_http_reply **reply)
{
	struct gba_http_reply_store *rs = NULL;
	long long deadline;
	int rc;

	*reply = NULL;
	if (method == NULL || path == NULL || path[0] != '/' || strlen(path) > CLIENT_MAX_PATH ||
	    (body_len > 0 && body == NULL) || (nheaders > 0 && headers == NULL))
		return GBA_EINVAL;
	if (body_len > GBA_HTTP_OUT_MAX - GBA_HTTP_OUT_SOFT)
		return GBA_ETOOBIG;
	deadline = now_ms() + c->timeout_ms;
	if (c->usable && c->h2 && !gba_h2_client_usable(c->h2c))
		c->usable = 0;
	if (!c->usable) {
		rc = do_connect(c, deadline);
		if (rc < 0)
			return rc;
	}
	rs = store_new(c->max_body);
	if (rs == NULL)
		return GBA_ENOMEM;
	if (c->h2)
		rc = gba_h2_client_request(c->h2c, method, c->https ? "https" : "http", c->authority,
		                           path, headers, nheaders, body, body_len, rs);
	else
		rc = gba_h1_client_request(c->h1c, &c->out, method, c->authority, path, headers,
		                           nheaders, body, body_len, rs);
	if (rc < 0)
		goto out;
	rc = exchange(c, deadline, rs);
	if (rc < 0) {
		disconnect(c);
		goto out;
	}
	if (!c->h2 && !gba_h1_client_keepalive(c->h1c))
		c->usable = 0;
	store_finish(rs, c->h2 ? GBA_HTTP_2 : GBA_HTTP_1_1);
	*reply = &rs->pub;
	rs = NULL;
out:
	gba_http_reply_free(rs != NULL ? &rs->pub : NULL);
	return rc;
}

int gba_http_client_stream(struct gba_http_client *c, const char *method, const char *path,
                           const struct gba_http_header *headers, size_t nheaders,
                           unsigned timeout_ms, gba_http_event_fn fn, void *arg)
{
	struct gba_http_reply_store *rs = NULL;
	struct gba_http_event ev;
	long long deadline;
	int rc;

	if (method == NULL || path == NULL || path[0] != '/' || strlen(path) > CLIENT_MAX_PATH ||
	    (nheaders > 0 && headers == NULL) || fn == NULL)
		return GBA_EINVAL;
	deadline = now_ms() + (timeout_ms != 0 ? (long long)timeout_ms : 365LL * 86400 * 1000);
	if (c->usable && c->h2 && !gba_h2_client_usable(c->h2c))
		c->usable = 0;
	if (!c->usable) {
		rc = do_connect(c, deadline);
		if (rc < 0)
			return rc;
	}
	rs = store_new(c->max_body);
	if (rs == NULL)
		return GBA_ENOMEM;
	rs->fn = fn;
	rs->arg = arg;
	if (c->h2)
		rc = gba_h2_client_request(c->h2c, method, c->https ? "https" : "http", c->authority,
		                           path, headers, nheaders, NULL, 0, rs);
	else
		rc = gba_h1_client_request(c->h1c, &c->out, method, c->authority, path, headers,
		                           nheaders, NULL, 0, rs);
	if (rc < 0)
		goto out;
	rc = exchange(c, deadline, rs);
	if (rc < 0 || rs->stopped != 0) {
		/* an answer left half read: this connection is spent */
		disconnect(c);
		if (rc == 0)
			rc = rs->stopped;
		goto out;
	}
	if (!c->h2 && !gba_h1_client_keepalive(c->h1c))
		c->usable = 0;
	(void)gba_reply_headers_done(rs);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_HTTP_EV_END;
	emit(rs, &ev);
	rc = rs->stopped;
out:
	gba_http_reply_free(&rs->pub);
	return rc;
}
