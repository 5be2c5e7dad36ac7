/*
 * check_http.c - the HTTP layer end to end: a server in this process on
 * 127.0.0.1 port 0 (in a thread), driven by the layer's own client and
 * by raw sockets.  Synchronisation is on real events (replies, EOF,
 * semaphores), never on sleeps.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gba_err.h"
#include "gba_http.h"
#include "http_testlib.h"
#include "testutil.h"

static char pki[256];
static char f_ca[300], f_srv[300], f_srvkey[300], f_cli[300], f_clikey[300], f_oth[300],
	f_othkey[300], f_clider[300];

enum { L_CLEAR, L_TLS, L_TLS_REQ, NLSN };

struct tsrv {
	struct gba_http_server *s;
	struct gba_http_listener_conf lc[NLSN];
	struct gba_http_server_conf conf;
	struct th_echo_ctx ec;
	pthread_t th;
	int rc;
	int running;
	char url[NLSN][64];
};

static struct tsrv srv;

static void *run_thread(void *a)
{
	struct tsrv *t = a;

	t->rc = gba_http_server_run(t->s);
	return NULL;
}

static void limits_small(struct gba_http_limits *l)
{
	gba_http_limits_default(l);
	l->max_body = 256u * 1024u;
	l->handshake_timeout_ms = 5000;
	l->idle_timeout_ms = 5000;
	l->request_timeout_ms = 5000;
}

static void tsrv_start(struct tsrv *t, unsigned workers, const struct gba_http_limits *l)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(sem_init(&t->ec.entered, 0, 0), 0);
	ck_assert_int_eq(sem_init(&t->ec.release, 0, 0), 0);
	for (i = 0; i < NLSN; i++) {
		t->lc[i].name = "test";
		t->lc[i].address = "127.0.0.1";
		t->lc[i].handler = th_echo_handler;
		t->lc[i].ctx = &t->ec;
	}
	t->lc[L_TLS].cert_file = t->lc[L_TLS_REQ].cert_file = f_srv;
	t->lc[L_TLS].key_file = t->lc[L_TLS_REQ].key_file = f_srvkey;
	t->lc[L_TLS].client_ca_file = t->lc[L_TLS_REQ].client_ca_file = f_ca;
	t->lc[L_TLS_REQ].require_client_cert = 1;
	t->conf.listeners = t->lc;
	t->conf.nlisteners = NLSN;
	t->conf.workers = workers;
	t->conf.limits = *l;
	ck_assert_int_eq(gba_http_server_new(&t->s, &t->conf), 0);
	for (i = 0; i < NLSN; i++) {
		ck_assert_uint_ne(gba_http_server_port(t->s, i), 0);
		(void)snprintf(t->url[i], sizeof(t->url[i]), "%s://127.0.0.1:%u",
		               i == L_CLEAR ? "http" : "https",
		               (unsigned)gba_http_server_port(t->s, i));
	}
	ck_assert_int_eq(pthread_create(&t->th, NULL, run_thread, t), 0);
	t->running = 1;
}

static void tsrv_stop(struct tsrv *t)
{
	if (t->running) {
		gba_http_server_stop(t->s);
		ck_assert_int_eq(pthread_join(t->th, NULL), 0);
		t->running = 0;
		ck_assert_int_eq(t->rc, 0);
	}
	gba_http_server_free(t->s);
	t->s = NULL;
	sem_destroy(&t->ec.entered);
	sem_destroy(&t->ec.release);
}

static void start_default(unsigned workers)
{
	struct gba_http_limits l;

	limits_small(&l);
	tsrv_start(&srv, workers, &l);
}

static void conf_init(struct gba_http_client_conf *cc, enum gba_http_client_mode mode)
{
	memset(cc, 0, sizeof(*cc));
	cc->mode = mode;
	cc->ca_file = f_ca;
	cc->timeout_ms = 10000;
}

/* One request on a fresh connection; returns the client's rc. */
static int one(const struct gba_http_client_conf *cc, const char *url, const char *method,
               const char *path, const struct gba_http_header *h, size_t nh, const void *body,
               size_t blen, struct gba_http_reply **r)
{
	struct gba_http_client *c = NULL;
	int rc;

	*r = NULL;
	rc = gba_http_client_open(&c, cc, url);
	if (rc == 0)
		rc = gba_http_client_request(c, method, path, h, nh, body, blen, r);
	gba_http_client_close(c);
	return rc;
}

static void assert_hdr(const struct gba_http_reply *r, const char *name, const char *want)
{
	const struct gba_str *v = gba_http_reply_header(r, name);

	ck_assert_msg(v != NULL, "no %s header", name);
	ck_assert_msg(v->len == strlen(want) && memcmp(v->p, want, v->len) == 0,
	              "%s: got '%.*s', want '%s'", name, (int)v->len, v->p, want);
}

static void assert_body(const struct gba_http_reply *r, const void *want, size_t len)
{
	ck_assert_uint_eq(r->body_len, len);
	if (len > 0)
		ck_assert_mem_eq(r->body, want, len);
}

static uint8_t *big_body(size_t n)
{
	uint8_t *b = malloc(n);
	size_t i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + i / 251);
	return b;
}

/* ---- protocols ---- */

static void echo_checks(enum gba_http_client_mode mode, const char *url, const char *version,
                        enum gba_http_version v, const char *tls)
{
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	struct gba_http_header h[1] = { { GBA_STR_LIT("X-Foo"), GBA_STR_LIT("bar baz") } };
	uint8_t *big = big_body(200000);
	int i;

	conf_init(&cc, mode);
	ck_assert_int_eq(gba_http_client_open(&c, &cc, url), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(gba_http_client_request(c, "POST", "/echo?x=1", h, 1, "hello", 5, &r),
		                 0);
		ck_assert_int_eq(r->status, 200);
		ck_assert_int_eq(r->version, v);
		assert_body(r, "hello", 5);
		assert_hdr(r, "x-method", "POST");
		assert_hdr(r, "x-path", "/echo?x=1");
		assert_hdr(r, "x-version", version);
		assert_hdr(r, "x-tls", tls);
		assert_hdr(r, "x-peer-ok", "1");
		assert_hdr(r, "x-foo", "bar baz");
		assert_hdr(r, "content-length", "5");
		assert_hdr(r, "x-client-cert", "none");
		gba_http_reply_free(r);
	}
	/* A body larger than the flow-control windows and the buffers. */
	ck_assert_int_eq(gba_http_client_request(c, "PUT", "/echo", NULL, 0, big, 200000, &r), 0);
	ck_assert_int_eq(r->status, 200);
	assert_body(r, big, 200000);
	gba_http_reply_free(r);
	ck_assert_int_eq(gba_http_client_request(c, "HEAD", "/push", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, 0);
	assert_hdr(r, "content-length", "4");
	gba_http_reply_free(r);
	ck_assert_int_eq(gba_http_client_request(c, "GET", "/nowhere", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 404);
	assert_body(r, "not found\n", 10);
	gba_http_reply_free(r);
	gba_http_client_close(c);
	free(big);
}

START_TEST(h1_cleartext_echo)
{
	start_default(2);
	echo_checks(GBA_HTTP_CLIENT_H1, srv.url[L_CLEAR], "1.1", GBA_HTTP_1_1, "0");
	echo_checks(GBA_HTTP_CLIENT_AUTO, srv.url[L_CLEAR], "1.1", GBA_HTTP_1_1, "0");
	tsrv_stop(&srv);
}
END_TEST

START_TEST(h2c_prior_knowledge_echo)
{
	start_default(2);
	echo_checks(GBA_HTTP_CLIENT_H2, srv.url[L_CLEAR], "2", GBA_HTTP_2, "0");
	tsrv_stop(&srv);
}
END_TEST

START_TEST(h2_over_tls_by_alpn)
{
	start_default(2);
	echo_checks(GBA_HTTP_CLIENT_H2, srv.url[L_TLS], "2", GBA_HTTP_2, "1");
	echo_checks(GBA_HTTP_CLIENT_AUTO, srv.url[L_TLS], "2", GBA_HTTP_2, "1");
	tsrv_stop(&srv);
}
END_TEST

START_TEST(h1_over_tls_by_alpn)
{
	start_default(2);
	echo_checks(GBA_HTTP_CLIENT_H1, srv.url[L_TLS], "1.1", GBA_HTTP_1_1, "1");
	tsrv_stop(&srv);
}
END_TEST

START_TEST(tls_refuses_untrusted_server)
{
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;

	start_default(1);
	conf_init(&cc, GBA_HTTP_CLIENT_AUTO);
	cc.ca_file = f_oth;   /* not the CA that issued the server's certificate */
	ck_assert_int_lt(gba_http_client_open(&c, &cc, srv.url[L_TLS]), 0);
	ck_assert_ptr_null(c);
	tsrv_stop(&srv);
}
END_TEST

/* ---- client certificates ---- */

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(65536);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(b);
	n = fread(b, 1, 65536, f);
	fclose(f);
	*len = n;
	return b;
}

static int cert_req(const char *url, enum gba_http_client_mode mode, const char *cert,
                    const char *key, struct gba_http_reply **r)
{
	struct gba_http_client_conf cc;

	conf_init(&cc, mode);
	cc.cert_file = cert;
	cc.key_file = key;
	return one(&cc, url, "GET", "/cert", NULL, 0, NULL, 0, r);
}

START_TEST(client_cert_verified_is_exposed)
{
	struct gba_http_reply *r = NULL;
	size_t dlen;
	uint8_t *der = read_all(f_clider, &dlen);
	int l, m;
	static const enum gba_http_client_mode modes[] = { GBA_HTTP_CLIENT_H1, GBA_HTTP_CLIENT_H2 };

	start_default(2);
	for (l = L_TLS; l <= L_TLS_REQ; l++)
		for (m = 0; m < 2; m++) {
			ck_assert_int_eq(cert_req(srv.url[l], modes[m], f_cli, f_clikey, &r), 0);
			ck_assert_int_eq(r->status, 200);
			assert_body(r, der, dlen);
			gba_http_reply_free(r);
		}
	free(der);
	tsrv_stop(&srv);
}
END_TEST

START_TEST(client_cert_from_other_ca_is_not_exposed)
{
	struct gba_http_reply *r = NULL;

	start_default(2);
	/* Requested but optional: the handshake succeeds, no certificate. */
	ck_assert_int_eq(cert_req(srv.url[L_TLS], GBA_HTTP_CLIENT_H2, f_oth, f_othkey, &r), 0);
	ck_assert_int_eq(r->status, 404);
	gba_http_reply_free(r);
	ck_assert_int_eq(cert_req(srv.url[L_TLS], GBA_HTTP_CLIENT_H1, NULL, NULL, &r), 0);
	ck_assert_int_eq(r->status, 404);
	gba_http_reply_free(r);
	/* Required: refused (at the handshake, or on the first read in TLS 1.3). */
	ck_assert_int_lt(cert_req(srv.url[L_TLS_REQ], GBA_HTTP_CLIENT_H2, f_oth, f_othkey, &r), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_lt(cert_req(srv.url[L_TLS_REQ], GBA_HTTP_CLIENT_H1, NULL, NULL, &r), 0);
	ck_assert_ptr_null(r);
	/* And the listener still serves good clients. */
	ck_assert_int_eq(cert_req(srv.url[L_TLS_REQ], GBA_HTTP_CLIENT_H1, f_cli, f_clikey, &r), 0);
	ck_assert_int_eq(r->status, 200);
	gba_http_reply_free(r);
	tsrv_stop(&srv);
}
END_TEST

/* ---- push ---- */

static void check_pushes(const struct gba_http_reply *r)
{
	int seen_a = 0, seen_b = 0;
	size_t i;

	ck_assert_uint_eq(r->npushed, 2);
	for (i = 0; i < r->npushed; i++) {
		const struct gba_http_pushed *p = &r->pushed[i];

		ck_assert_int_eq(p->status, 200);
		ck_assert_uint_eq(p->body_len, 1);
		if (gba_str_eq(p->path, GBA_STR_LIT("/pushed/a")) && p->body[0] == 'A')
			seen_a++;
		if (gba_str_eq(p->path, GBA_STR_LIT("/pushed/b")) && p->body[0] == 'B')
			seen_b++;
	}
	ck_assert_int_eq(seen_a, 1);
	ck_assert_int_eq(seen_b, 1);
}

START_TEST(push_received_when_enabled)
{
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	int l, i;

	start_default(2);
	for (l = L_CLEAR; l <= L_TLS; l++) {
		conf_init(&cc, GBA_HTTP_CLIENT_H2);
		ck_assert_int_eq(gba_http_client_open(&c, &cc, srv.url[l]), 0);
		for (i = 0; i < 2; i++) {
			ck_assert_int_eq(gba_http_client_request(c, "GET", "/push", NULL, 0, NULL, 0, &r),
			                 0);
			ck_assert_int_eq(r->status, 200);
			assert_body(r, "main", 4);
			assert_hdr(r, "x-push", "ok");
			check_pushes(r);
			gba_http_reply_free(r);
		}
		gba_http_client_close(c);
	}
	tsrv_stop(&srv);
}
END_TEST

START_TEST(no_push_when_disabled_or_h1)
{
	struct gba_http_client_conf cc;
	struct gba_http_reply *r = NULL;

	start_default(2);
	conf_init(&cc, GBA_HTTP_CLIENT_H2);
	cc.disable_push = 1;
	ck_assert_int_eq(one(&cc, srv.url[L_TLS], "GET", "/push", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->npushed, 0);
	assert_hdr(r, "x-push", "unsupp");
	gba_http_reply_free(r);
	conf_init(&cc, GBA_HTTP_CLIENT_H1);
	ck_assert_int_eq(one(&cc, srv.url[L_CLEAR], "GET", "/push", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->npushed, 0);
	assert_hdr(r, "x-push", "unsupp");
	gba_http_reply_free(r);
	tsrv_stop(&srv);
}
END_TEST

/* ---- limits ---- */

static void still_serves(const char *url, enum gba_http_client_mode mode)
{
	struct gba_http_client_conf cc;
	struct gba_http_reply *r = NULL;

	conf_init(&cc, mode);
	ck_assert_int_eq(one(&cc, url, "POST", "/echo", NULL, 0, "ok", 2, &r), 0);
	ck_assert_int_eq(r->status, 200);
	assert_body(r, "ok", 2);
	gba_http_reply_free(r);
}

START_TEST(oversize_body_is_413)
{
	struct gba_http_limits l;
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	uint8_t *big = big_body(100000);
	static const enum gba_http_client_mode modes[] = { GBA_HTTP_CLIENT_H1, GBA_HTTP_CLIENT_H2 };
	int m, u;

	limits_small(&l);
	l.max_body = 1024;
	tsrv_start(&srv, 1, &l);
	for (u = L_CLEAR; u <= L_TLS; u++)
		for (m = 0; m < 2; m++) {
			conf_init(&cc, modes[m]);
			ck_assert_int_eq(gba_http_client_open(&c, &cc, srv.url[u]), 0);
			ck_assert_int_eq(gba_http_client_request(c, "POST", "/echo", NULL, 0, big, 1025,
			                                         &r), 0);
			ck_assert_int_eq(r->status, 413);
			gba_http_reply_free(r);
			ck_assert_int_eq(gba_http_client_request(c, "POST", "/echo", NULL, 0, big, 100000,
			                                         &r), 0);
			ck_assert_int_eq(r->status, 413);
			gba_http_reply_free(r);
			/* At the limit is fine (the client reconnects after an h1 close). */
			ck_assert_int_eq(gba_http_client_request(c, "POST", "/echo", NULL, 0, big, 1024,
			                                         &r), 0);
			ck_assert_int_eq(r->status, 200);
			assert_body(r, big, 1024);
			gba_http_reply_free(r);
			gba_http_client_close(c);
		}
	free(big);
	tsrv_stop(&srv);
}
END_TEST

START_TEST(oversize_headers_are_431)
{
	struct gba_http_limits l;
	struct gba_http_client_conf cc;
	struct gba_http_reply *r = NULL;
	char *v = malloc(3000);
	struct gba_http_header h[1];
	static const enum gba_http_client_mode modes[] = { GBA_HTTP_CLIENT_H1, GBA_HTTP_CLIENT_H2 };
	int m;

	ck_assert_ptr_nonnull(v);
	memset(v, 'v', 3000);
	h[0].name = GBA_STR_LIT("x-big");
	h[0].value.p = v;
	h[0].value.len = 3000;
	limits_small(&l);
	l.max_header_list = 2048;
	tsrv_start(&srv, 1, &l);
	for (m = 0; m < 2; m++) {
		conf_init(&cc, modes[m]);
		ck_assert_int_eq(one(&cc, srv.url[L_CLEAR], "GET", "/echo", h, 1, NULL, 0, &r), 0);
		ck_assert_int_eq(r->status, 431);
		gba_http_reply_free(r);
		ck_assert_int_eq(one(&cc, srv.url[L_TLS], "GET", "/echo", h, 1, NULL, 0, &r), 0);
		ck_assert_int_eq(r->status, 431);
		gba_http_reply_free(r);
		still_serves(srv.url[L_CLEAR], modes[m]);
	}
	free(v);
	tsrv_stop(&srv);
}
END_TEST

START_TEST(too_many_connections_refused_then_served)
{
	struct gba_http_limits l;
	struct gba_http_client_conf cc;
	struct gba_http_client *a = NULL, *b = NULL;
	struct gba_http_reply *r = NULL;
	int rc, i, ok = 0;

	limits_small(&l);
	l.max_connections = 2;
	tsrv_start(&srv, 1, &l);
	conf_init(&cc, GBA_HTTP_CLIENT_H1);
	ck_assert_int_eq(gba_http_client_open(&a, &cc, srv.url[L_CLEAR]), 0);
	ck_assert_int_eq(gba_http_client_request(a, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	gba_http_reply_free(r);
	conf_init(&cc, GBA_HTTP_CLIENT_H2);
	ck_assert_int_eq(gba_http_client_open(&b, &cc, srv.url[L_TLS]), 0);
	ck_assert_int_eq(gba_http_client_request(b, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	gba_http_reply_free(r);
	/* Both slots are held: a third client is refused on either listener. */
	conf_init(&cc, GBA_HTTP_CLIENT_H1);
	rc = one(&cc, srv.url[L_CLEAR], "GET", "/echo", NULL, 0, NULL, 0, &r);
	ck_assert(rc < 0 || r->status == 503);
	gba_http_reply_free(r);
	conf_init(&cc, GBA_HTTP_CLIENT_AUTO);
	ck_assert_int_lt(one(&cc, srv.url[L_TLS], "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	/* Free a slot.  The worker sees the close no later than the next
	 * refusal it handles, so a retry or two must get through. */
	gba_http_client_close(a);
	for (i = 0; i < 5 && !ok; i++) {
		conf_init(&cc, GBA_HTTP_CLIENT_H1);
		rc = one(&cc, srv.url[L_CLEAR], "GET", "/echo", NULL, 0, NULL, 0, &r);
		ok = rc == 0 && r->status == 200;
		gba_http_reply_free(r);
	}
	ck_assert_msg(ok, "no slot after a client left");
	ck_assert_int_eq(gba_http_client_request(b, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	gba_http_reply_free(r);
	gba_http_client_close(b);
	tsrv_stop(&srv);
}
END_TEST

/* ---- raw sockets ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raw_connect(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const void *d, size_t n)
{
	ck_assert_int_eq(send(fd, d, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read until EOF (or reset) within limit_ms; returns what came, NUL
 * terminated, and the time it took. */
static char *raw_read_to_eof(int fd, long long limit_ms, long long *took)
{
	static char buf[65536];
	size_t len = 0;
	long long t0 = now_ms();
	struct pollfd p;
	ssize_t n;

	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		ck_assert_msg(now_ms() - t0 < limit_ms, "connection not closed in time");
		if (poll(&p, 1, (int)(limit_ms - (now_ms() - t0))) <= 0)
			continue;
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		ck_assert_uint_lt(len, sizeof(buf) - 1);
	}
	buf[len] = '\0';
	*took = now_ms() - t0;
	return buf;
}

START_TEST(silent_client_dropped_after_handshake_timeout)
{
	struct gba_http_limits l;
	long long took;
	int fd, i;

	limits_small(&l);
	l.handshake_timeout_ms = 300;
	l.idle_timeout_ms = 400;
	tsrv_start(&srv, 2, &l);
	for (i = L_CLEAR; i <= L_TLS; i++) {
		fd = raw_connect(gba_http_server_port(srv.s, (size_t)i));
		(void)raw_read_to_eof(fd, 5000, &took);
		ck_assert_int_ge(took, 250);
		close(fd);
	}
	/* Half a request head is no better. */
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n", 29);
	(void)raw_read_to_eof(fd, 5000, &took);
	ck_assert_int_ge(took, 250);
	close(fd);
	/* After a request, the idle timeout applies. */
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	ck_assert_ptr_nonnull(strstr(raw_read_to_eof(fd, 5000, &took), "HTTP/1.1 200 "));
	ck_assert_int_ge(took, 350);
	close(fd);
	still_serves(srv.url[L_CLEAR], GBA_HTTP_CLIENT_H1);
	tsrv_stop(&srv);
}
END_TEST

START_TEST(garbage_does_not_crash)
{
	static const char h2_bad[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	                             "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
	static const char h1_bad[] = "\x16\x03\x01\x02\x00garbage \x01\x02\r\n\r\n";
	static const char pri_bad[] = "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n";
	struct gba_http_limits l;
	long long took;
	char *got;
	int fd;

	limits_small(&l);
	l.handshake_timeout_ms = 1000;
	tsrv_start(&srv, 2, &l);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, h1_bad, sizeof(h1_bad) - 1);
	got = raw_read_to_eof(fd, 5000, &took);
	ck_assert_msg(strncmp(got, "HTTP/1.1 400 ", 13) == 0, "got '%s'", got);
	close(fd);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, pri_bad, sizeof(pri_bad) - 1);
	(void)raw_read_to_eof(fd, 5000, &took);
	close(fd);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, h2_bad, sizeof(h2_bad) - 1);
	(void)raw_read_to_eof(fd, 5000, &took);   /* GOAWAY, then close */
	close(fd);
	/* Plain HTTP on the TLS port: refused at once. */
	fd = raw_connect(gba_http_server_port(srv.s, L_TLS));
	raw_send(fd, "GET / HTTP/1.1\r\n\r\n", 18);
	(void)raw_read_to_eof(fd, 5000, &took);
	close(fd);
	/* A truncated TLS record: dropped by the handshake timeout. */
	fd = raw_connect(gba_http_server_port(srv.s, L_TLS));
	raw_send(fd, h1_bad, sizeof(h1_bad) - 1);
	(void)raw_read_to_eof(fd, 5000, &took);
	close(fd);
	still_serves(srv.url[L_CLEAR], GBA_HTTP_CLIENT_H1);
	still_serves(srv.url[L_CLEAR], GBA_HTTP_CLIENT_H2);
	still_serves(srv.url[L_TLS], GBA_HTTP_CLIENT_AUTO);
	tsrv_stop(&srv);
}
END_TEST

START_TEST(h1_pipelining_and_chunked_request)
{
	static const char two[] = "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"
	                          "GET /push HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	static const char chunked[] = "POST /echo HTTP/1.1\r\nHost: a\r\n"
	                              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	long long took;
	char *got, *second;
	int fd;

	start_default(1);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, two, sizeof(two) - 1);
	got = raw_read_to_eof(fd, 5000, &took);
	ck_assert_msg(strncmp(got, "HTTP/1.1 200 ", 13) == 0, "got '%s'", got);
	second = strstr(got + 1, "HTTP/1.1 200 ");
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_nonnull(strstr(second, "\r\n\r\nmain"));
	ck_assert_ptr_nonnull(strstr(second, "connection: close\r\n"));
	close(fd);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, chunked, sizeof(chunked) - 1);
	got = raw_read_to_eof(fd, 5000, &took);
	ck_assert_msg(strncmp(got, "HTTP/1.1 200 ", 13) == 0, "got '%s'", got);
	ck_assert_ptr_nonnull(strstr(got, "content-length: 11\r\n"));
	ck_assert_ptr_nonnull(strstr(got, "\r\n\r\nhello world"));
	close(fd);
	tsrv_stop(&srv);
}
END_TEST

/* ---- graceful stop ---- */

struct bg_req {
	enum gba_http_client_mode mode;
	const char *url;
	int rc;
	struct gba_http_reply *r;
};

static void *bg_request(void *a)
{
	struct bg_req *b = a;
	struct gba_http_client_conf cc;

	conf_init(&cc, b->mode);
	b->rc = one(&cc, b->url, "GET", "/slow", NULL, 0, NULL, 0, &b->r);
	return NULL;
}

static void sem_wait_ms(sem_t *s, long ms_)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms_ / 1000;
	ts.tv_nsec += (ms_ % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(s, &ts) != 0)
		ck_assert_msg(errno == EINTR, "handler never entered");
}

static void graceful(enum gba_http_client_mode mode, int l)
{
	struct gba_http_limits lim;
	struct gba_http_client_conf cc;
	struct gba_http_client *idle1 = NULL, *idle2 = NULL;
	struct gba_http_reply *r = NULL;
	struct bg_req b;
	pthread_t th;
	long long t0;

	limits_small(&lim);
	lim.idle_timeout_ms = 20000;   /* the grace period: must not be waited out */
	tsrv_start(&srv, 2, &lim);
	srv.ec.slow = 1;
	/* Idle keep-alive connections of both kinds. */
	conf_init(&cc, GBA_HTTP_CLIENT_H1);
	ck_assert_int_eq(gba_http_client_open(&idle1, &cc, srv.url[L_CLEAR]), 0);
	ck_assert_int_eq(gba_http_client_request(idle1, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	gba_http_reply_free(r);
	conf_init(&cc, GBA_HTTP_CLIENT_H2);
	ck_assert_int_eq(gba_http_client_open(&idle2, &cc, srv.url[L_TLS]), 0);
	ck_assert_int_eq(gba_http_client_request(idle2, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	gba_http_reply_free(r);

	memset(&b, 0, sizeof(b));
	b.mode = mode;
	b.url = srv.url[l];
	ck_assert_int_eq(pthread_create(&th, NULL, bg_request, &b), 0);
	sem_wait_ms(&srv.ec.entered, 10000);
	t0 = now_ms();
	gba_http_server_stop(srv.s);
	ck_assert_int_eq(sem_post(&srv.ec.release), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(b.r->status, 200);
	assert_body(b.r, "slow", 4);
	gba_http_reply_free(b.r);
	ck_assert_int_eq(pthread_join(srv.th, NULL), 0);
	srv.running = 0;
	ck_assert_int_eq(srv.rc, 0);
	ck_assert_int_lt(now_ms() - t0, 5000);
	/* The idle connections were closed, and nothing listens any more. */
	ck_assert_int_lt(gba_http_client_request(idle1, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_lt(gba_http_client_request(idle2, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	gba_http_client_close(idle1);
	gba_http_client_close(idle2);
	tsrv_stop(&srv);
}

START_TEST(graceful_stop_finishes_inflight_h1)
{
	graceful(GBA_HTTP_CLIENT_H1, L_CLEAR);
}
END_TEST

START_TEST(graceful_stop_finishes_inflight_h2)
{
	graceful(GBA_HTTP_CLIENT_H2, L_TLS);
}
END_TEST

START_TEST(stop_before_run_returns)
{
	struct gba_http_limits l;
	struct gba_http_server *s = NULL;
	struct gba_http_listener_conf lc;
	struct gba_http_server_conf conf;

	memset(&lc, 0, sizeof(lc));
	lc.address = "127.0.0.1";
	lc.handler = th_echo_handler;
	limits_small(&l);
	memset(&conf, 0, sizeof(conf));
	conf.listeners = &lc;
	conf.nlisteners = 1;
	conf.workers = 3;
	conf.limits = l;
	ck_assert_int_eq(gba_http_server_new(&s, &conf), 0);
	gba_http_server_stop(s);
	ck_assert_int_eq(gba_http_server_run(s), 0);
	gba_http_server_free(s);
	/* Bad configurations are refused. */
	lc.address = "not-an-address";
	ck_assert_int_eq(gba_http_server_new(&s, &conf), GBA_EINVAL);
	lc.address = "127.0.0.1";
	lc.require_client_cert = 1;
	ck_assert_int_eq(gba_http_server_new(&s, &conf), GBA_EINVAL);
	ck_assert_ptr_null(s);
}
END_TEST

/* ---- client details ---- */

struct mini {
	int lfd;
	uint16_t port;
};

/* A hand-written HTTP/1.1 server: a chunked reply, then one that ends
 * with the connection. */
static void *mini_serve(void *a)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
	                         "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	static const char r2[] = "HTTP/1.1 100 Continue\r\n\r\n"
	                         "HTTP/1.1 201 Created\r\nConnection: close\r\n\r\nuntil-eof";
	struct mini *m = a;
	char buf[4096];
	int fd, n = 0;
	ssize_t k;
	size_t have = 0;

	fd = accept(m->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (n < 2) {
		k = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (k <= 0)
			break;
		have += (size_t)k;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") == NULL)
			continue;
		have = 0;
		if (n++ == 0)
			(void)send(fd, r1, sizeof(r1) - 1, MSG_NOSIGNAL);
		else
			(void)send(fd, r2, sizeof(r2) - 1, MSG_NOSIGNAL);
	}
	close(fd);
	return NULL;
}

START_TEST(client_reads_chunked_and_close_delimited)
{
	struct mini m;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	pthread_t th;
	char url[64];

	m.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(m.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(m.lfd, 4), 0);
	ck_assert_int_eq(getsockname(m.lfd, (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, mini_serve, &m), 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/ignored", (unsigned)ntohs(sa.sin_port));
	conf_init(&cc, GBA_HTTP_CLIENT_AUTO);
	ck_assert_int_eq(gba_http_client_open(&c, &cc, url), 0);
	ck_assert_int_eq(gba_http_client_request(c, "GET", "/a", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	assert_body(r, "Wikipedia", 9);
	assert_hdr(r, "x-a", "1");
	gba_http_reply_free(r);
	ck_assert_int_eq(gba_http_client_request(c, "POST", "/b", NULL, 0, "x", 1, &r), 0);
	ck_assert_int_eq(r->status, 201);
	assert_body(r, "until-eof", 9);
	gba_http_reply_free(r);
	gba_http_client_close(c);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	close(m.lfd);
}
END_TEST

START_TEST(client_rejects_bad_urls)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/", "http://", "http://:80", "http://127.0.0.1:99999",
		"http://127.0.0.1:0", "http://[::1", "http://a b/", "http://host:12x",
		"https://a@b/", "http://::1/",
	};
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	size_t i;

	conf_init(&cc, GBA_HTTP_CLIENT_AUTO);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(gba_http_client_open(&c, &cc, bad[i]) == GBA_EINVAL, "%s", bad[i]);
		ck_assert_ptr_null(c);
	}
}
END_TEST

START_TEST(ipv6_literal)
{
	struct gba_http_limits l;
	struct gba_http_server *s = NULL;
	struct gba_http_listener_conf lc;
	struct gba_http_server_conf conf;
	struct gba_http_client_conf cc;
	struct gba_http_reply *r = NULL;
	pthread_t th;
	struct tsrv t;
	char url[64];

	memset(&lc, 0, sizeof(lc));
	lc.address = "::1";
	lc.handler = th_echo_handler;
	limits_small(&l);
	memset(&conf, 0, sizeof(conf));
	conf.listeners = &lc;
	conf.nlisteners = 1;
	conf.workers = 1;
	conf.limits = l;
	if (gba_http_server_new(&s, &conf) != 0)
		return;   /* no IPv6 loopback here */
	memset(&t, 0, sizeof(t));
	t.s = s;
	ck_assert_int_eq(pthread_create(&th, NULL, run_thread, &t), 0);
	(void)snprintf(url, sizeof(url), "http://[::1]:%u", gba_http_server_port(s, 0));
	conf_init(&cc, GBA_HTTP_CLIENT_H2);
	ck_assert_int_eq(one(&cc, url, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
	ck_assert_int_eq(r->status, 200);
	gba_http_reply_free(r);
	gba_http_server_stop(s);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	gba_http_server_free(s);
}
END_TEST

/* ---- held responses (long-lived streams) ---- */

enum hold_op { OP_NONE, OP_WRITE_END, OP_PUSH_END, OP_PUSH_MANY, OP_PING_WRITE_END, OP_FLOOD };

#define HOLD_MANY 40

/* Shared between the test thread and the single worker: op under mu;
 * st, fill and the counters belong to the worker. */
struct hold_ctl {
	pthread_mutex_t mu;
	enum hold_op op;
	sem_t opened, closed, refused;
	struct gba_http_stream *st;
	struct gba_http_server *s;
	size_t accepted;              /* /hold-fill: octets taken before the cap */
	int flood;                    /* /hold-flood: keep writing on drain */
	unsigned pushed;              /* OP_PUSH_MANY */
	int drained;
	unsigned window;              /* gba_http_stream_push_window for the next hold */
};

static struct hold_ctl hc;

static void hold_close(void *arg, struct gba_http_stream *st)
{
	struct hold_ctl *h = arg;

	if (h->st == st)
		h->st = NULL;
	sem_post(&h->closed);
}

static void push_many(struct hold_ctl *h)
{
	char path[32], body[32];
	int rc;

	while (h->st != NULL && h->pushed < HOLD_MANY) {
		snprintf(path, sizeof(path), "/m/%u", h->pushed);
		snprintf(body, sizeof(body), "body %u", h->pushed);
		rc = gba_http_stream_push(h->st, path, "text/plain", body, strlen(body));
		if (rc == GBA_ETOOBIG)
			return;   /* on_drain comes back */
		ck_assert_int_eq(rc, 0);
		h->pushed++;
	}
	if (h->st != NULL)
		gba_http_stream_end(h->st);
}

static void flood(struct hold_ctl *h)
{
	static uint8_t chunk[16384];

	while (h->st != NULL && gba_http_stream_write(h->st, chunk, sizeof(chunk)) == 0)
		h->accepted += sizeof(chunk);
	sem_post(&h->refused);
}

static void hold_drain(void *arg, struct gba_http_stream *st)
{
	struct hold_ctl *h = arg;

	ck_assert_ptr_eq(st, h->st);
	h->drained++;
	if (h->pushed > 0 && h->pushed < HOLD_MANY) {
		push_many(h);
		return;
	}
	if (h->flood) {
		flood(h);
		return;
	}
	ck_assert_int_eq(gba_http_stream_write(st, "END", 3), 0);
	gba_http_stream_end(st);
}

static const struct gba_http_stream_cbs hold_cbs = { hold_close, hold_drain };

static void hold_handler(void *ctx, const struct gba_http_request *req,
                         struct gba_http_response *resp)
{
	struct hold_ctl *h = &hc;
	struct gba_http_stream *st = NULL, *st2 = NULL;
	static uint8_t chunk[16384];
	int rc;

	(void)ctx;
	if (!gba_str_eq(req->path, GBA_STR_LIT("/hold")) &&
	    !gba_str_eq(req->path, GBA_STR_LIT("/hold-push")) &&
	    !gba_str_eq(req->path, GBA_STR_LIT("/hold-fill")) &&
	    !gba_str_eq(req->path, GBA_STR_LIT("/hold-flood"))) {
		th_echo_handler(&srv.ec, req, resp);
		return;
	}
	ck_assert_ptr_null(h->st);   /* one at a time */
	ck_assert_int_eq(gba_http_response_status(resp, 200), 0);
	ck_assert_int_eq(gba_http_response_header(resp, "Content-Type", GBA_STR_LIT("text/x-test")),
	                 0);
	/* A body set before holding is not sent. */
	ck_assert_int_eq(gba_http_response_body(resp, "ignored", 7), 0);
	ck_assert_int_eq(gba_http_response_hold(resp, &hold_cbs, h, &st), 0);
	ck_assert_int_eq(gba_http_response_hold(resp, &hold_cbs, h, &st2), GBA_EINVAL);
	ck_assert_ptr_null(st2);
	h->st = st;
	gba_http_stream_push_window(st, h->window);
	h->accepted = 0;
	h->pushed = 0;
	h->drained = 0;
	h->flood = 0;
	if (gba_str_eq(req->path, GBA_STR_LIT("/hold-push"))) {
		rc = gba_http_stream_push(st, "/p/0", "text/plain", "zero", 4);
		if (gba_http_stream_can_push(st))
			ck_assert_int_eq(rc, 0);
		else
			ck_assert_int_eq(gba_http_stream_write(st, "zero", 4), 0);
	} else if (gba_str_eq(req->path, GBA_STR_LIT("/hold-fill"))) {
		/* Before the headers go, the cap already applies. */
		while ((rc = gba_http_stream_write(st, chunk, sizeof(chunk))) == 0)
			h->accepted += sizeof(chunk);
		ck_assert_int_eq(rc, GBA_ETOOBIG);
		ck_assert_uint_le(h->accepted, GBA_HTTP_HELD_MAX);
		ck_assert_uint_gt(h->accepted, GBA_HTTP_HELD_MAX - 2 * sizeof(chunk));
	} else if (gba_str_eq(req->path, GBA_STR_LIT("/hold-flood"))) {
		h->flood = 1;
		flood(h);
	} else {
		ck_assert_int_eq(gba_http_stream_write(st, "A", 1), 0);
	}
	sem_post(&h->opened);
}

static void hold_tick(void *ctx, unsigned worker)
{
	struct hold_ctl *h = ctx;
	enum hold_op op;
	char path[16];
	int i;

	ck_assert_uint_eq(worker, 0);
	pthread_mutex_lock(&h->mu);
	op = h->op;
	h->op = OP_NONE;
	pthread_mutex_unlock(&h->mu);
	if (h->st == NULL || op == OP_NONE)
		return;
	switch (op) {
	case OP_WRITE_END:
		ck_assert_int_eq(gba_http_stream_write(h->st, "B", 1), 0);
		gba_http_stream_end(h->st);
		ck_assert_int_eq(gba_http_stream_write(h->st, "C", 1), GBA_EINVAL);
		break;
	case OP_PING_WRITE_END:
		ck_assert_int_eq(gba_http_stream_ping(h->st), 0);
		ck_assert_int_eq(gba_http_stream_write(h->st, "B", 1), 0);
		gba_http_stream_end(h->st);
		break;
	case OP_PUSH_END:
		for (i = 1; i <= 2; i++) {
			snprintf(path, sizeof(path), "/p/%d", i);
			if (gba_http_stream_can_push(h->st))
				ck_assert_int_eq(gba_http_stream_push(h->st, path, "text/plain", path, 4),
				                 0);
			else
				ck_assert_int_eq(gba_http_stream_write(h->st, path, 4), 0);
		}
		ck_assert_int_eq(gba_http_stream_push(h->st, "no-slash", "text/plain", "x", 1),
		                 gba_http_stream_can_push(h->st) ? GBA_EINVAL : GBA_EUNSUPP);
		gba_http_stream_end(h->st);
		break;
	case OP_PUSH_MANY:
		ck_assert(gba_http_stream_can_push(h->st));
		push_many(h);
		break;
	default:
		break;
	}
}

static void hold_do(enum hold_op op)
{
	pthread_mutex_lock(&hc.mu);
	hc.op = op;
	pthread_mutex_unlock(&hc.mu);
	gba_http_server_wake(srv.s);
}

/* The usual test server, one worker, with the hold handler and tick. */
static void hold_start(const struct gba_http_limits *l)
{
	struct gba_http_limits dl;
	size_t i;

	if (l == NULL) {
		limits_small(&dl);
		l = &dl;
	}
	memset(&hc, 0, sizeof(hc));
	ck_assert_int_eq(pthread_mutex_init(&hc.mu, NULL), 0);
	ck_assert_int_eq(sem_init(&hc.opened, 0, 0), 0);
	ck_assert_int_eq(sem_init(&hc.closed, 0, 0), 0);
	ck_assert_int_eq(sem_init(&hc.refused, 0, 0), 0);
	memset(&srv, 0, sizeof(srv));
	ck_assert_int_eq(sem_init(&srv.ec.entered, 0, 0), 0);
	ck_assert_int_eq(sem_init(&srv.ec.release, 0, 0), 0);
	for (i = 0; i < NLSN; i++) {
		srv.lc[i].name = "test";
		srv.lc[i].address = "127.0.0.1";
		srv.lc[i].handler = hold_handler;
	}
	srv.lc[L_TLS].cert_file = srv.lc[L_TLS_REQ].cert_file = f_srv;
	srv.lc[L_TLS].key_file = srv.lc[L_TLS_REQ].key_file = f_srvkey;
	srv.lc[L_TLS].client_ca_file = srv.lc[L_TLS_REQ].client_ca_file = f_ca;
	srv.lc[L_TLS_REQ].require_client_cert = 1;
	srv.conf.listeners = srv.lc;
	srv.conf.nlisteners = NLSN;
	srv.conf.workers = 1;
	srv.conf.limits = *l;
	srv.conf.on_tick = hold_tick;
	srv.conf.tick_ctx = &hc;
	ck_assert_int_eq(gba_http_server_new(&srv.s, &srv.conf), 0);
	ck_assert_uint_eq(gba_http_server_workers(srv.s), 1);
	for (i = 0; i < NLSN; i++)
		(void)snprintf(srv.url[i], sizeof(srv.url[i]), "%s://127.0.0.1:%u",
		               i == L_CLEAR ? "http" : "https",
		               (unsigned)gba_http_server_port(srv.s, i));
	hc.s = srv.s;
	ck_assert_int_eq(pthread_create(&srv.th, NULL, run_thread, &srv), 0);
	srv.running = 1;
}

static void hold_stop(void)
{
	tsrv_stop(&srv);
	sem_destroy(&hc.opened);
	sem_destroy(&hc.closed);
	sem_destroy(&hc.refused);
	pthread_mutex_destroy(&hc.mu);
}

/* A blocking request in its own thread. */
struct rq {
	struct gba_http_client_conf cc;
	const char *url, *path;
	struct gba_http_reply *r;
	int rc;
	pthread_t th;
};

static void *rq_main(void *a)
{
	struct rq *q = a;

	q->rc = one(&q->cc, q->url, "GET", q->path, NULL, 0, NULL, 0, &q->r);
	return NULL;
}

static void rq_start(struct rq *q, enum gba_http_client_mode mode, int no_push, const char *url,
                     const char *path)
{
	memset(q, 0, sizeof(*q));
	conf_init(&q->cc, mode);
	q->cc.disable_push = no_push;
	q->url = url;
	q->path = path;
	ck_assert_int_eq(pthread_create(&q->th, NULL, rq_main, q), 0);
}

static void rq_join(struct rq *q)
{
	ck_assert_int_eq(pthread_join(q->th, NULL), 0);
	ck_assert_int_eq(q->rc, 0);
	ck_assert_ptr_nonnull(q->r);
	ck_assert_int_eq(q->r->status, 200);
	assert_hdr(q->r, "content-type", "text/x-test");
	ck_assert_ptr_null(gba_http_reply_header(q->r, "content-length"));
}

START_TEST(held_response_body_written_later)
{
	static const struct {
		enum gba_http_client_mode mode;
		int l;
		enum hold_op op;
	} cases[] = {
		{ GBA_HTTP_CLIENT_H1, L_CLEAR, OP_WRITE_END },
		{ GBA_HTTP_CLIENT_H2, L_CLEAR, OP_WRITE_END },
		{ GBA_HTTP_CLIENT_H1, L_TLS, OP_WRITE_END },
		{ GBA_HTTP_CLIENT_H2, L_TLS, OP_PING_WRITE_END },
	};
	struct rq q;
	size_t i;

	hold_start(NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rq_start(&q, cases[i].mode, 0, srv.url[cases[i].l], "/hold");
		sem_wait(&hc.opened);
		hold_do(cases[i].op);
		rq_join(&q);
		assert_body(q.r, "AB", 2);
		if (cases[i].mode == GBA_HTTP_CLIENT_H1)
			assert_hdr(q.r, "transfer-encoding", "chunked");
		gba_http_reply_free(q.r);
		sem_wait(&hc.closed);
	}
	/* The connection limits and the ordinary handler still work. */
	still_serves(srv.url[L_CLEAR], GBA_HTTP_CLIENT_H2);
	hold_stop();
}
END_TEST

START_TEST(held_response_h1_wire_format)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	long long took;
	int fd;

	hold_start(NULL);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	sem_wait(&hc.opened);
	/* The head and the first chunk arrive before anything else. */
	while (strstr(buf, "\r\n1\r\nA\r\n") == NULL) {
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
	ck_assert_msg(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "got '%s'", buf);
	ck_assert_ptr_nonnull(strstr(buf, "transfer-encoding: chunked\r\n"));
	ck_assert_ptr_null(strstr(buf, "content-length"));
	ck_assert_ptr_null(strstr(buf, "ignored"));
	/* Another request on the same connection is read and dropped. */
	raw_send(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	hold_do(OP_WRITE_END);
	ck_assert_str_eq(raw_read_to_eof(fd, 10000, &took), "1\r\nB\r\n0\r\n\r\n");
	close(fd);
	sem_wait(&hc.closed);
	hold_stop();
}
END_TEST

START_TEST(held_response_pushes_or_falls_back)
{
	struct rq q;
	size_t i;

	hold_start(NULL);
	/* HTTP/2 with push: three pushed responses, an empty body. */
	rq_start(&q, GBA_HTTP_CLIENT_H2, 0, srv.url[L_TLS], "/hold-push");
	sem_wait(&hc.opened);
	hold_do(OP_PUSH_END);
	rq_join(&q);
	ck_assert_uint_eq(q.r->body_len, 0);
	ck_assert_uint_eq(q.r->npushed, 3);
	for (i = 0; i < 3; i++) {
		char want[8];

		snprintf(want, sizeof(want), "/p/%zu", i);
		ck_assert_uint_eq(q.r->pushed[i].path.len, strlen(want));
		ck_assert_mem_eq(q.r->pushed[i].path.p, want, strlen(want));
		ck_assert_int_eq(q.r->pushed[i].status, 200);
	}
	ck_assert_uint_eq(q.r->pushed[0].body_len, 4);
	ck_assert_mem_eq(q.r->pushed[0].body, "zero", 4);
	ck_assert_mem_eq(q.r->pushed[2].body, "/p/2", 4);
	gba_http_reply_free(q.r);
	sem_wait(&hc.closed);
	/* Push disabled, and HTTP/1.1: the same octets in the body. */
	for (i = 0; i < 2; i++) {
		rq_start(&q, i == 0 ? GBA_HTTP_CLIENT_H2 : GBA_HTTP_CLIENT_H1, 1, srv.url[L_CLEAR],
		         "/hold-push");
		sem_wait(&hc.opened);
		hold_do(OP_PUSH_END);
		rq_join(&q);
		ck_assert_uint_eq(q.r->npushed, 0);
		assert_body(q.r, "zero/p/1/p/2", 12);
		gba_http_reply_free(q.r);
		sem_wait(&hc.closed);
	}
	hold_stop();
}
END_TEST

/* Events of a streamed answer, as the client hands them over. */
struct evlog {
	int headers, status, end, pushes;
	char data[256];
	size_t len;
	int stop_at_data;             /* return 5 at the first DATA */
	int wake_on_headers;          /* enum hold_op to run when HEADERS come */
	char last_push[32];
	int order[HOLD_MANY + 1];     /* /m/N pushes in the order completed */
};

static int ev_cb(void *arg, const struct gba_http_event *ev)
{
	struct evlog *l = arg;

	switch (ev->type) {
	case GBA_HTTP_EV_HEADERS:
		ck_assert_int_eq(l->headers, 0);
		l->headers++;
		l->status = ev->status;
		if (l->wake_on_headers != OP_NONE)
			hold_do((enum hold_op)l->wake_on_headers);
		break;
	case GBA_HTTP_EV_DATA:
		ck_assert_int_eq(l->headers, 1);
		ck_assert_uint_lt(l->len + ev->len, sizeof(l->data));
		memcpy(l->data + l->len, ev->data, ev->len);
		l->len += ev->len;
		if (l->stop_at_data)
			return 5;
		break;
	case GBA_HTTP_EV_PUSH:
		ck_assert_int_eq(ev->status, 200);
		ck_assert_uint_lt(ev->path.len, sizeof(l->last_push));
		memcpy(l->last_push, ev->path.p, ev->path.len);
		l->last_push[ev->path.len] = '\0';
		if (l->pushes <= HOLD_MANY)
			l->order[l->pushes] = strncmp(l->last_push, "/m/", 3) == 0
			                      ? (int)strtol(l->last_push + 3, NULL, 10) : -1;
		l->pushes++;
		break;
	case GBA_HTTP_EV_END:
		l->end++;
		break;
	}
	return 0;
}

START_TEST(client_streams_a_held_answer)
{
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	struct evlog l;
	int m;

	hold_start(NULL);
	for (m = 0; m < 2; m++) {
		conf_init(&cc, m == 0 ? GBA_HTTP_CLIENT_H1 : GBA_HTTP_CLIENT_H2);
		ck_assert_int_eq(gba_http_client_open(&c, &cc, srv.url[L_TLS]), 0);
		memset(&l, 0, sizeof(l));
		l.wake_on_headers = OP_WRITE_END;
		ck_assert_int_eq(gba_http_client_stream(c, "GET", "/hold", NULL, 0, 10000, ev_cb, &l),
		                 0);
		sem_wait(&hc.opened);
		ck_assert_int_eq(l.headers, 1);
		ck_assert_int_eq(l.status, 200);
		ck_assert_int_eq(l.end, 1);
		ck_assert_uint_eq(l.len, 2);
		ck_assert_mem_eq(l.data, "AB", 2);
		sem_wait(&hc.closed);
		/* The connection goes on with ordinary requests. */
		ck_assert_int_eq(gba_http_client_request(c, "GET", "/echo", NULL, 0, NULL, 0, &r), 0);
		ck_assert_int_eq(r->status, 200);
		gba_http_reply_free(r);
		/* Stopping early closes the stream on the server. */
		memset(&l, 0, sizeof(l));
		l.stop_at_data = 1;
		ck_assert_int_eq(gba_http_client_stream(c, "GET", "/hold", NULL, 0, 10000, ev_cb, &l),
		                 5);
		sem_wait(&hc.opened);
		sem_wait(&hc.closed);
		gba_http_client_close(c);
	}
	/* Many pushes over one stream: more than the client keeps open at
	 * once (GBA_HTTP_MAX_PUSHES), so the server waits for room; then
	 * one at a time (a push window of 1): they complete in order. */
	for (m = 0; m < 2; m++) {
		int i;

		hc.window = m == 0 ? 0 : 1;
		conf_init(&cc, GBA_HTTP_CLIENT_H2);
		ck_assert_int_eq(gba_http_client_open(&c, &cc, srv.url[L_CLEAR]), 0);
		memset(&l, 0, sizeof(l));
		l.wake_on_headers = OP_PUSH_MANY;
		ck_assert_int_eq(gba_http_client_stream(c, "GET", "/hold-push", NULL, 0, 10000, ev_cb,
		                                        &l),
		                 0);
		sem_wait(&hc.opened);
		ck_assert_int_eq(l.pushes, HOLD_MANY + 1);
		ck_assert_int_gt(hc.drained, 0);
		ck_assert_int_eq(l.end, 1);
		if (m == 1) {
			ck_assert_str_eq(l.last_push, "/m/39");
			for (i = 1; i <= (int)HOLD_MANY; i++)
				ck_assert_int_eq(l.order[i], i - 1);
		}
		sem_wait(&hc.closed);
		gba_http_client_close(c);
	}
	hc.window = 0;
	hold_stop();
}
END_TEST

START_TEST(held_response_cap_and_drain)
{
	struct rq q;
	int m, fd;
	struct gba_http_reply *r = NULL;
	struct gba_http_client_conf cc;

	hold_start(NULL);
	for (m = 0; m < 2; m++) {
		rq_start(&q, m == 0 ? GBA_HTTP_CLIENT_H1 : GBA_HTTP_CLIENT_H2, 0, srv.url[L_TLS],
		         "/hold-fill");
		sem_wait(&hc.opened);
		rq_join(&q);
		/* everything accepted arrived, then the drain's "END" */
		ck_assert_uint_eq(q.r->body_len, hc.accepted + 3);
		ck_assert_mem_eq(q.r->body + hc.accepted, "END", 3);
		ck_assert_int_eq(hc.drained, 1);
		gba_http_reply_free(q.r);
		sem_wait(&hc.closed);
	}
	/* A subscriber that reads nothing: its connection fills up, the
	 * stream is refused, and the worker serves everybody else. */
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, "GET /hold-flood HTTP/1.1\r\nHost: x\r\n\r\n", 37);
	sem_wait(&hc.opened);
	sem_wait(&hc.refused);
	conf_init(&cc, GBA_HTTP_CLIENT_H2);
	ck_assert_int_eq(one(&cc, srv.url[L_TLS], "POST", "/echo", NULL, 0, "ok", 2, &r), 0);
	ck_assert_int_eq(r->status, 200);
	gba_http_reply_free(r);
	close(fd);
	sem_wait(&hc.closed);
	hold_stop();
}
END_TEST

START_TEST(held_response_outlives_idle_timeout)
{
	struct gba_http_limits l;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	long long took;
	int fd, ctl;

	limits_small(&l);
	l.idle_timeout_ms = 300;
	hold_start(&l);
	fd = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	sem_wait(&hc.opened);
	buf[0] = '\0';
	while (strstr(buf, "\r\n1\r\nA\r\n") == NULL) {
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
	/* A connection that went idle later is closed by the idle timeout... */
	ctl = raw_connect(gba_http_server_port(srv.s, L_CLEAR));
	raw_send(ctl, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	ck_assert_ptr_nonnull(strstr(raw_read_to_eof(ctl, 10000, &took), "HTTP/1.1 200 "));
	close(ctl);
	/* ...while the held one is still there. */
	hold_do(OP_WRITE_END);
	ck_assert_str_eq(raw_read_to_eof(fd, 10000, &took), "1\r\nB\r\n0\r\n\r\n");
	close(fd);
	sem_wait(&hc.closed);
	hold_stop();
}
END_TEST

START_TEST(held_responses_end_on_stop)
{
	struct rq q;
	int m;

	for (m = 0; m < 2; m++) {
		hold_start(NULL);
		rq_start(&q, m == 0 ? GBA_HTTP_CLIENT_H2 : GBA_HTTP_CLIENT_H1, 0, srv.url[L_TLS],
		         "/hold");
		sem_wait(&hc.opened);
		gba_http_server_stop(srv.s);
		rq_join(&q);
		assert_body(q.r, "A", 1);
		gba_http_reply_free(q.r);
		sem_wait(&hc.closed);
		ck_assert_int_eq(pthread_join(srv.th, NULL), 0);
		srv.running = 0;
		ck_assert_int_eq(srv.rc, 0);
		hold_stop();
	}
}
END_TEST

START_TEST(hold_needs_a_connection)
{
	struct gba_http_response *resp = NULL;
	struct gba_http_stream *st = NULL;

	ck_assert_int_eq(gba_http_response_new(&resp), 0);
	ck_assert_int_eq(gba_http_response_hold(resp, &hold_cbs, NULL, &st), GBA_EUNSUPP);
	ck_assert_ptr_null(st);
	gba_http_response_free(resp);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("gba_http");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, h1_cleartext_echo);
	tcase_add_test(tc, h2c_prior_knowledge_echo);
	tcase_add_test(tc, h2_over_tls_by_alpn);
	tcase_add_test(tc, h1_over_tls_by_alpn);
	tcase_add_test(tc, tls_refuses_untrusted_server);
	tcase_add_test(tc, client_cert_verified_is_exposed);
	tcase_add_test(tc, client_cert_from_other_ca_is_not_exposed);
	tcase_add_test(tc, push_received_when_enabled);
	tcase_add_test(tc, no_push_when_disabled_or_h1);
	tcase_add_test(tc, oversize_body_is_413);
	tcase_add_test(tc, oversize_headers_are_431);
	tcase_add_test(tc, too_many_connections_refused_then_served);
	tcase_add_test(tc, silent_client_dropped_after_handshake_timeout);
	tcase_add_test(tc, garbage_does_not_crash);
	tcase_add_test(tc, h1_pipelining_and_chunked_request);
	tcase_add_test(tc, graceful_stop_finishes_inflight_h1);
	tcase_add_test(tc, graceful_stop_finishes_inflight_h2);
	tcase_add_test(tc, stop_before_run_returns);
	tcase_add_test(tc, client_reads_chunked_and_close_delimited);
	tcase_add_test(tc, client_rejects_bad_urls);
	tcase_add_test(tc, ipv6_literal);
	tcase_add_test(tc, held_response_body_written_later);
	tcase_add_test(tc, held_response_h1_wire_format);
	tcase_add_test(tc, held_response_pushes_or_falls_back);
	tcase_add_test(tc, client_streams_a_held_answer);
	tcase_add_test(tc, held_response_cap_and_drain);
	tcase_add_test(tc, held_response_outlives_idle_timeout);
	tcase_add_test(tc, held_responses_end_on_stop);
	tcase_add_test(tc, hold_needs_a_connection);
	suite_add_tcase(s, tc);
	return s;
}

static void path_of(char *out, size_t n, const char *name)
{
	if ((size_t)snprintf(out, n, "%s/%s", pki, name) >= n)
		abort();   /* our own invariant: pki is short */
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	(void)snprintf(pki, sizeof(pki), "%s/check_http.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(pki) == NULL || th_make_pki(pki) != 0) {
		fprintf(stderr, "check_http: cannot make the test PKI\n");
		return EXIT_FAILURE;
	}
	path_of(f_ca, sizeof(f_ca), "ca.pem");
	path_of(f_srv, sizeof(f_srv), "server.pem");
	path_of(f_srvkey, sizeof(f_srvkey), "server.key");
	path_of(f_cli, sizeof(f_cli), "client.pem");
	path_of(f_clikey, sizeof(f_clikey), "client.key");
	path_of(f_clider, sizeof(f_clider), "client.der");
	path_of(f_oth, sizeof(f_oth), "other.pem");
	path_of(f_othkey, sizeof(f_othkey), "other.key");
	rc = th_run(http_suite());
	th_remove_pki(pki);
	return rc;
}
