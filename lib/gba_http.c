/* gba_http.c - request helpers and the response object. */
#include "config.h"

#include <string.h>

#include "gba_err.h"
#include "gba_h1.h"
#include "gba_h2.h"
#include "gba_http_int.h"
#include "gba_mem.h"

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int name_eq(struct gba_str a, const char *b)
{
	size_t i, n = strlen(b);

	if (a.len != n)
		return 0;
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a.p[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

const struct gba_str *gba_http_header_get(const struct gba_http_request *req, const char *lname)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (name_eq(req->headers[i].name, lname))
			return &req->headers[i].value;
	return NULL;
}

void gba_http_limits_default(struct gba_http_limits *l)
{
	l->max_connections = 4096;
	l->max_header_list = 16u * 1024u;
	l->max_concurrent_streams = 32;
	l->max_body = 64u * 1024u;
	l->handshake_timeout_ms = 10000;
	l->idle_timeout_ms = 60000;
	l->request_timeout_ms = 30000;
}

int gba_http_response_new(struct gba_http_response **out)
{
	*out = gba_calloc(1, sizeof(**out));
	if (*out == NULL)
		return GBA_ENOMEM;
	(*out)->status = 500;
	return 0;
}

void gba_http_response_reset(struct gba_http_response *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		gba_free((void *)(uintptr_t)r->headers[i].name.p);
		gba_free((void *)(uintptr_t)r->headers[i].value.p);
	}
	for (i = 0; i < r->npushes; i++) {
		gba_free(r->pushes[i].path);
		gba_free(r->pushes[i].content_type);
		gba_free(r->pushes[i].body);
	}
	gba_free(r->body);
	memset(r, 0, sizeof(*r));
	r->status = 500;
}

void gba_http_response_free(struct gba_http_response *r)
{
	if (r == NULL)
		return;
	gba_http_response_reset(r);
	gba_free(r);
}

int gba_http_response_status(struct gba_http_response *r, int status)
{
	if (status < 100 || status > 599)
		return GBA_EINVAL;
	r->status = status;
	return 0;
}

/* Header names are RFC 7230 tokens; values have no CR, LF or NUL. */
static int valid_name(const char *n)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i, len = strlen(n);

	if (len == 0 || len > 256)
		return 0;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(tchar, c) != NULL))
			return 0;
	}
	return 1;
}

static int valid_value(struct gba_str v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.p[i] == '\r' || v.p[i] == '\n' || v.p[i] == '\0')
			return 0;
	return 1;
}

int gba_http_response_header(struct gba_http_response *r, const char *name, struct gba_str value)
{
	char *n, *v;

	if (!valid_name(name) || !valid_value(value))
		return GBA_EINVAL;
	if (r->nheaders >= GBA_HTTP_MAX_RESP_HEADERS || value.len > 8192)
		return GBA_ETOOBIG;
	n = gba_strndup(name, strlen(name));
	v = gba_strndup(value.p ? value.p : "", value.len);
	if (n == NULL || v == NULL) {
		gba_free(n);
		gba_free(v);
		return GBA_ENOMEM;
	}
	r->headers[r->nheaders].name.p = n;
	r->headers[r->nheaders].name.len = strlen(n);
	r->headers[r->nheaders].value.p = v;
	r->headers[r->nheaders].value.len = value.len;
	r->nheaders++;
	return 0;
}

int gba_http_response_body(struct gba_http_response *r, const void *body, size_t len)
{
	uint8_t *b;

	if (len > GBA_HTTP_MAX_RESP_BODY)
		return GBA_ETOOBIG;
	b = gba_malloc(len);
	if (b == NULL)
		return GBA_ENOMEM;
	if (len > 0)
		memcpy(b, body, len);
	gba_free(r->body);
	r->body = b;
	r->body_len = len;
	return 0;
}

void gba_http_response_allow_push(struct gba_http_response *r, int allow)
{
	r->push_allowed = allow != 0;
}

int gba_http_response_can_push(const struct gba_http_response *r)
{
	return r->push_allowed;
}

int gba_http_response_push(struct gba_http_response *r, const char *path,
                           const char *content_type, const void *body, size_t len)
{
	struct gba_http_push *p;

	if (!r->push_allowed)
		return GBA_EUNSUPP;
	if (path == NULL || path[0] != '/' || content_type == NULL ||
	    !valid_value(gba_str_c(path)) || !valid_value(gba_str_c(content_type)))
		return GBA_EINVAL;
	if (r->npushes >= GBA_HTTP_MAX_PUSHES || len > GBA_HTTP_MAX_RESP_BODY)
		return GBA_ETOOBIG;
	p = &r->pushes[r->npushes];
	p->path = gba_strndup(path, strlen(path));
	p->content_type = gba_strndup(content_type, strlen(content_type));
	p->body = gba_malloc(len);
	if (p->path == NULL || p->content_type == NULL || p->body == NULL) {
		gba_free(p->path);
		gba_free(p->content_type);
		gba_free(p->body);
		memset(p, 0, sizeof(*p));
		return GBA_ENOMEM;
	}
	if (len > 0)
		memcpy(p->body, body, len);
	p->body_len = len;
	r->npushes++;
	return 0;
}

int gba_http_response_get_status(const struct gba_http_response *r)
{
	return r->status;
}

const struct gba_str *gba_http_response_get_header(const struct gba_http_response *r,
                                                   const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (name_eq(r->headers[i].name, name))
			return &r->headers[i].value;
	return NULL;
}

struct gba_str gba_http_response_get_body(const struct gba_http_response *r)
{
	struct gba_str s = { (const char *)r->body, r->body_len };

	return s;
}

/* ---- helpers shared by the layer's modules (gba_http_int.h) ---- */

void gba_hbuf_init(struct gba_hbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void gba_hbuf_clear(struct gba_hbuf *b)
{
	size_t max = b->max;

	gba_free(b->p);
	gba_hbuf_init(b, max);
}

int gba_hbuf_append(struct gba_hbuf *b, const void *d, size_t n)
{
	size_t used = b->len - b->off;
	size_t want;
	uint8_t *np;

	if (n == 0)
		return 0;
	if (n > b->max || used > b->max - n)
		return GBA_ETOOBIG;
	if (b->off > 0 && b->len + n > b->cap) {
		/* Compact before growing. */
		memmove(b->p, b->p + b->off, used);
		b->off = 0;
		b->len = used;
	}
	if (b->len + n > b->cap) {
		want = b->cap < 1024 ? 1024 : b->cap;
		while (want < b->len + n)
			want = want > SIZE_MAX / 2 ? SIZE_MAX : want * 2;
		if (want > b->max)
			want = b->max;
		np = gba_realloc(b->p, want);
		if (np == NULL)
			return GBA_ENOMEM;
		b->p = np;
		b->cap = want;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void gba_hbuf_consume(struct gba_hbuf *b, size_t n)
{
	if (n >= b->len - b->off) {
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += n;
}

void gba_http_dispatch(struct gba_http_conn_info *ci, struct gba_http_request *req,
                       struct gba_http_response *resp, int allow_push)
{
	req->tls = ci->tls;
	req->peer = ci->peer;
	req->client_cert = ci->client_cert;
	req->client_cert_len = ci->client_cert_len;
	req->listener = ci->listener;
	req->worker = ci->worker;
	gba_http_response_reset(resp);
	gba_http_response_allow_push(resp, allow_push);
	resp->ci = ci;
	ci->requests++;
	ci->handler(ci->ctx, req, resp);
	if (resp->status < 200)
		resp->status = 500;
}

/* ---- held responses ---- */

int gba_http_response_hold(struct gba_http_response *resp, const struct gba_http_stream_cbs *cbs,
                           void *arg, struct gba_http_stream **out)
{
	struct gba_http_conn_info *ci = resp->ci;
	struct gba_http_stream *st;

	*out = NULL;
	if (ci == NULL)
		return GBA_EUNSUPP;
	if (resp->held != NULL || cbs == NULL || cbs->on_close == NULL)
		return GBA_EINVAL;
	st = gba_calloc(1, sizeof(*st));
	if (st == NULL)
		return GBA_ENOMEM;
	st->ci = ci;
	st->cbs = *cbs;
	st->arg = arg;
	st->resp = resp;
	st->h2 = ci->h2 != NULL;
	st->push_allowed = resp->push_allowed;
	gba_hbuf_init(&st->data, GBA_HTTP_HELD_MAX);
	st->next = ci->streams;
	if (ci->streams != NULL)
		ci->streams->prev = st;
	ci->streams = st;
	resp->held = st;
	*out = st;
	return 0;
}

size_t gba_http_stream_room(const struct gba_http_stream *st)
{
	size_t used, i;

	if (!st->bound) {
		used = gba_hbuf_used(&st->data);
		for (i = 0; st->resp != NULL && i < st->resp->npushes; i++)
			used += st->resp->pushes[i].body_len;
	} else if (st->h2) {
		used = st->ci->held_bytes;
	} else {
		used = gba_hbuf_used(st->ci->out);
	}
	return used >= GBA_HTTP_HELD_MAX ? 0 : GBA_HTTP_HELD_MAX - used;
}

static void stream_kick(struct gba_http_stream *st)
{
	if (st->bound && st->ci->kick != NULL)
		st->ci->kick(st->ci);
}

int gba_http_stream_write(struct gba_http_stream *st, const void *d, size_t len)
{
	int rc;

	if (st->ending || (len > 0 && d == NULL))
		return GBA_EINVAL;
	if (len == 0)
		return 0;
	/* A chunk's framing is counted too, roughly. */
	if (len + 32 > gba_http_stream_room(st)) {
		st->want_drain = 1;
		return GBA_ETOOBIG;
	}
	if (st->bound && !st->h2) {
		rc = gba_h1_stream_write(st->ci->h1, st->ci->out, d, len);
	} else {
		rc = gba_hbuf_append(&st->data, d, len);
		if (rc == 0 && st->h2)
			st->ci->held_bytes += len;
		if (rc == 0 && st->bound)
			rc = gba_h2_stream_resume(st->ci->h2, st);
	}
	if (rc == GBA_ETOOBIG)
		st->want_drain = 1;
	if (rc == 0)
		stream_kick(st);
	return rc;
}

int gba_http_stream_can_push(const struct gba_http_stream *st)
{
	return st->h2 && st->push_allowed;
}

void gba_http_stream_push_window(struct gba_http_stream *st, unsigned n)
{
	st->push_window = n;
}

/* Pushes that may be open at once on st (promised, not yet closed; for
 * an unbound stream: queued). */
static unsigned push_limit(const struct gba_http_stream *st)
{
	unsigned lim = st->bound ? gba_h2_push_limit(st->ci->h2) : GBA_HTTP_MAX_PUSHES;

	return st->push_window != 0 && st->push_window < lim ? st->push_window : lim;
}

int gba_http_stream_push(struct gba_http_stream *st, const char *path, const char *content_type,
                         const void *body, size_t len)
{
	int rc;

	if (!gba_http_stream_can_push(st))
		return GBA_EUNSUPP;
	if (st->ending || path == NULL || path[0] != '/' || content_type == NULL ||
	    !valid_value(gba_str_c(path)) || !valid_value(gba_str_c(content_type)) ||
	    (len > 0 && body == NULL))
		return GBA_EINVAL;
	if (len > gba_http_stream_room(st) ||
	    (st->bound ? st->pushes : (unsigned)st->resp->npushes) >= push_limit(st)) {
		st->want_drain = 1;
		return GBA_ETOOBIG;
	}
	if (!st->bound)
		rc = gba_http_response_push(st->resp, path, content_type, body, len);
	else
		rc = gba_h2_stream_push(st->ci->h2, st, path, content_type, body, len);
	if (rc == GBA_ETOOBIG)
		st->want_drain = 1;
	if (rc == 0)
		stream_kick(st);
	return rc;
}

int gba_http_stream_ping(struct gba_http_stream *st)
{
	int rc;

	if (!st->h2)
		return GBA_EUNSUPP;
	if (!st->bound)
		return 0;   /* the headers are about to go anyway */
	rc = gba_h2_stream_ping(st->ci->h2);
	if (rc == 0)
		stream_kick(st);
	return rc;
}

void gba_http_stream_end(struct gba_http_stream *st)
{
	if (st->ending)
		return;
	st->ending = 1;
	if (!st->bound)
		return;   /* the engine ends it when it binds */
	if (st->h2)
		(void)gba_h2_stream_resume(st->ci->h2, st);
	else
		(void)gba_h1_stream_end(st->ci->h1, st->ci->out);
	stream_kick(st);
}

void gba_http_stream_closed(struct gba_http_stream *st)
{
	struct gba_http_conn_info *ci = st->ci;

	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		ci->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	if (st->h2) {
		size_t n = gba_hbuf_used(&st->data);

		ci->held_bytes = ci->held_bytes > n ? ci->held_bytes - n : 0;
	}
	if (st->resp != NULL && st->resp->held == st)
		st->resp->held = NULL;
	st->cbs.on_close(st->arg, st);
	gba_hbuf_clear(&st->data);
	gba_free(st);
}

void gba_http_streams_close_all(struct gba_http_conn_info *ci)
{
	while (ci->streams != NULL)
		gba_http_stream_closed(ci->streams);
}

int gba_http_streams_drain(struct gba_http_conn_info *ci)
{
	struct gba_http_stream *st, *next;
	int n = 0;

	for (st = ci->streams; st != NULL; st = next) {
		next = st->next;
		if (!st->want_drain || !st->bound || st->ending)
			continue;
		if (gba_http_stream_room(st) < GBA_HTTP_HELD_MAX / 4)
			continue;
		if (st->h2 && st->push_allowed && st->pushes >= push_limit(st))
			continue;
		st->want_drain = 0;
		if (st->cbs.on_drain != NULL) {
			st->cbs.on_drain(st->arg, st);
			n++;
		}
	}
	return n;
}

const char *gba_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "";
	}
}

int gba_http_hop_header(const char *name)
{
	static const char *const hop[] = {
		"content-length", "connection", "transfer-encoding", "keep-alive",
		"upgrade", "proxy-connection",
	};
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (name_eq(gba_str_c(name), hop[i]))
			return 1;
	return 0;
}
