/*
 * bench_ccm.c - CCM delivery at scale against a running gba-bsfd
 * (bench/ccm.sh starts it; bench/README.md has the figures).
 *
 * Not a test.  One thread, epoll, one connection per subscription:
 *
 *  1. setup (not timed): N bootstrap contexts written straight into the
 *     daemon's store (gba_store_bootstrap_put: random Ks, IMPIs
 *     ccmbenchNNNNNN@...), one Digest challenge fetched from the NAF, and
 *     for each IMPI the Digest answer for GET /ccm computed with its
 *     Ks_NAF (gba_ks_naf), as a UE would;
 *  2. idle subscriptions: N connections (HTTP/1.1, or h2c with or
 *     without push), each GET /ccm authenticated as its own IMPI, opened
 *     in batches until every 200 has arrived; the daemon's VmRSS
 *     (/proc/PID/status) before and after gives RSS per subscription;
 *  3. raw signing: the same work as the daemon's first delivery (decode
 *     the stored CCM, set the sequence number, encode, CMS-sign with the
 *     CMC signer of --ca-dir) for M messages, on W threads, in this
 *     process while the daemon is idle;
 *  4. fan-out: one CCM per subscriber queued in one store transaction
 *     (what a trust-anchor change does); from the commit until every
 *     subscriber has its message, the daemon signs and delivers N
 *     distinct CCMs: rate = N / time, and its ratio to step 3;
 *  5. latency: L times, after a random wait of up to --jitter-ms (out of
 *     phase with the poll), one "revoked" CCM for one subscriber queued
 *     from this process (as gba-ctl revoke would, issue 6) until it
 *     arrives; p50/p99/max.  A message from another process is found by
 *     the daemon's outbox poll (--ccm-poll-ms), which bounds this figure.
 *
 * Output: key=value lines on stdout.  Exit 0 when every subscription
 * opened and every message arrived, 1 otherwise, 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include "gba_asn1.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ue_ua.h"

#define APP_DEFAULT "naf.gbacert.test"
#define MAX_CONNS   200000u
#define BATCH       500u
#define AUTHZ_MAX   1024u
#define MAX_THREADS 16u

enum proto { P_H1, P_H2, P_H2PUSH };

struct conn {
	int fd;
	unsigned idx;
	int status;                       /* 0 until the answer's headers */
	int closed;
	unsigned got;                     /* messages received */
	double t_last;                    /* when the last one arrived */
	/* frames */
	uint8_t *fb;
	size_t flen, fcap;
	/* HTTP/1.1 */
	http_parser hp;
	/* HTTP/2 */
	nghttp2_session *h2;
	int32_t sid;
	uint8_t *wbuf;                    /* output not yet written */
	size_t wlen;
};

struct cfg {
	const char *db, *key, *ca_dir, *naf_host, *app;
	unsigned port;
	long pid;
	unsigned n, sign_n, lat_n, threads;
	unsigned jitter_ms;               /* random wait before each latency message */
	enum proto proto;
};

static struct cfg cfg;
static struct conn *conns;
static int ep = -1;
static unsigned closed_early, messages;
static struct ue_ua_challenge ch;
static uint8_t (*ks_naf)[GBA_KS_NAF_LEN];
static char (*btids)[GBA_MAX_BTID_LEN + 1];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void impi_of(unsigned i, char *out, size_t size)
{
	snprintf(out, size, "ccmbench%06u@ims.mnc001.mcc001.3gppnetwork.org", i);
}

static long rss_kib(void)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", cfg.pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

/* ---- frames of a subscription body ---- */

static void got_message(struct conn *c)
{
	c->got++;
	c->t_last = now_s();
	messages++;
}

static int frames_feed(struct conn *c, const uint8_t *d, size_t n)
{
	size_t off = 0, k;
	uint8_t *nb;

	if (c->flen + n > c->fcap) {
		nb = realloc(c->fb, c->flen + n);
		if (nb == NULL)
			return -1;
		c->fb = nb;
		c->fcap = c->flen + n;
	}
	memcpy(c->fb + c->flen, d, n);
	c->flen += n;
	while (c->flen - off >= 4) {
		k = ((size_t)c->fb[off] << 24) | ((size_t)c->fb[off + 1] << 16) |
		    ((size_t)c->fb[off + 2] << 8) | c->fb[off + 3];
		if (c->flen - off - 4 < k)
			break;
		if (k > 0)
			got_message(c);
		off += 4 + k;
	}
	memmove(c->fb, c->fb + off, c->flen - off);
	c->flen -= off;
	if (c->flen == 0) {
		free(c->fb);
		c->fb = NULL;
		c->fcap = 0;
	}
	return 0;
}

/* ---- HTTP/1.1 (http-parser) ---- */

static int h1_headers_done(http_parser *p)
{
	struct conn *c = p->data;

	c->status = (int)p->status_code;
	return 0;
}

static int h1_body(http_parser *p, const char *at, size_t len)
{
	return frames_feed(p->data, (const uint8_t *)at, len) < 0 ? -1 : 0;
}

static const http_parser_settings h1_settings = {
	.on_headers_complete = h1_headers_done,
	.on_body = h1_body,
};

/* ---- HTTP/2 (nghttp2) ---- */

static ssize_t h2_send_cb(nghttp2_session *s, const uint8_t *d, size_t len, int flags, void *u)
{
	struct conn *c = u;
	uint8_t *nb;

	(void)s;
	(void)flags;
	nb = realloc(c->wbuf, c->wlen + len);
	if (nb == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->wbuf = nb;
	memcpy(c->wbuf + c->wlen, d, len);
	c->wlen += len;
	return (ssize_t)len;
}

static int h2_header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                        size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *u)
{
	struct conn *c = u;

	(void)s;
	(void)flags;
	if (f->hd.type == NGHTTP2_HEADERS && f->hd.stream_id == c->sid && nlen == 7 &&
	    memcmp(name, ":status", 7) == 0 && vlen == 3)
		c->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
	return 0;
}

static int h2_data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d,
                      size_t len, void *u)
{
	struct conn *c = u;

	(void)s;
	(void)flags;
	if (id == c->sid)
		return frames_feed(c, d, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	return 0;   /* a pushed body: counted when its stream closes */
}

static int h2_close_cb(nghttp2_session *s, int32_t id, uint32_t err, void *u)
{
	struct conn *c = u;

	(void)s;
	if (id != c->sid && (id & 1) == 0 && err == NGHTTP2_NO_ERROR)
		got_message(c);
	return 0;
}

static int h2_setup(struct conn *c, const nghttp2_nv *nva, size_t nnv)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_settings_entry iv[2];

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cb, h2_send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_close_cb);
	if (nghttp2_session_client_new(&c->h2, cb, c) != 0) {
		nghttp2_session_callbacks_del(cb);
		return -1;
	}
	nghttp2_session_callbacks_del(cb);
	iv[0].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[0].value = cfg.proto == P_H2PUSH ? 1 : 0;
	iv[1].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[1].value = 100;
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		return -1;
	c->sid = nghttp2_submit_request(c->h2, NULL, nva, nnv, NULL, NULL);
	if (c->sid < 0 || nghttp2_session_send(c->h2) != 0)
		return -1;
	return 0;
}

/* ---- connections ---- */

static int flush_out(struct conn *c)
{
	ssize_t n;

	while (c->wlen > 0) {
		n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	free(c->wbuf);
	c->wbuf = NULL;
	return 0;
}

static void conn_drop(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2);
	c->h2 = NULL;
	free(c->wbuf);
	c->wbuf = NULL;
	free(c->fb);
	c->fb = NULL;
	closed_early++;
}

static int conn_open(unsigned i)
{
	struct conn *c = &conns[i];
	struct sockaddr_in sa;
	struct epoll_event ev;
	char impi[96], pw[64], authz[AUTHZ_MAX], req[AUTHZ_MAX + 256], nc[9] = "00000001",
	     cnonce[33];
	uint8_t cn[16];
	nghttp2_nv nva[5];
	char host[64];
	int one = 1, n;

	memset(c, 0, sizeof(*c));
	c->idx = i;
	c->fd = -1;
	impi_of(i, impi, sizeof(impi));
	if (gba_base64_encode(ks_naf[i], GBA_KS_NAF_LEN, pw, sizeof(pw)) < 0 ||
	    gba_rnd(GBA_RND_NONCE, cn, sizeof(cn)) < 0)
		return -1;
	gba_hex_encode(cn, sizeof(cn), cnonce);
	if (ue_ua_authorization(&ch, btids[i], pw, "GET", "/ccm", NULL, 0, nc, cnonce, authz,
	                        sizeof(authz)) < 0)
		return -1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg.port);
	inet_pton(AF_INET, cfg.naf_host, &sa.sin_addr);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	snprintf(host, sizeof(host), "%s:%u", cfg.naf_host, cfg.port);
	if (cfg.proto == P_H1) {
		http_parser_init(&c->hp, HTTP_RESPONSE);
		c->hp.data = c;
		n = snprintf(req, sizeof(req),
		             "GET /ccm HTTP/1.1\r\nhost: %s\r\nauthorization: %s\r\n\r\n", host, authz);
		c->wbuf = malloc((size_t)n);
		if (c->wbuf == NULL)
			return -1;
		memcpy(c->wbuf, req, (size_t)n);
		c->wlen = (size_t)n;
	} else {
		/* nghttp2 writes the client preface itself */
		nva[0] = (nghttp2_nv){ (uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0 };
		nva[1] = (nghttp2_nv){ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 };
		nva[2] = (nghttp2_nv){ (uint8_t *)":authority", (uint8_t *)host, 10, strlen(host), 0 };
		nva[3] = (nghttp2_nv){ (uint8_t *)":path", (uint8_t *)"/ccm", 5, 4, 0 };
		nva[4] = (nghttp2_nv){ (uint8_t *)"authorization", (uint8_t *)authz, 13,
		                       strlen(authz), 0 };
		if (h2_setup(c, nva, 5) < 0)
			return -1;
	}
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = i;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -1;
	return 0;
}

static void conn_event(struct conn *c, uint32_t events)
{
	uint8_t buf[16384];
	ssize_t n;
	size_t used;
	struct epoll_event ev;

	if (c->closed)
		return;
	if ((events & EPOLLOUT) && flush_out(c) < 0) {
		conn_drop(c);
		return;
	}
	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_drop(c);
			return;
		}
		if (cfg.proto == P_H1) {
			used = http_parser_execute(&c->hp, &h1_settings, (const char *)buf, (size_t)n);
			if (used != (size_t)n || HTTP_PARSER_ERRNO(&c->hp) != HPE_OK) {
				conn_drop(c);
				return;
			}
		} else if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0 ||
		           nghttp2_session_send(c->h2) != 0) {
			conn_drop(c);
			return;
		}
	}
	if (flush_out(c) < 0) {
		conn_drop(c);
		return;
	}
	ev.events = EPOLLIN | (c->wlen > 0 ? EPOLLOUT : 0);
	ev.data.u32 = c->idx;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Run the loop until done() or the deadline (seconds from now). */
static int loop_until(int (*done)(void *), void *arg, double limit)
{
	struct epoll_event evs[512];
	double end = now_s() + limit;
	int n, i;

	double left;
	int ms;

	while (!done(arg)) {
		left = end - now_s();
		if (left <= 0)
			return -1;
		ms = left > 0.1 ? 100 : (int)(left * 1000.0) + 1;
		n = epoll_wait(ep, evs, 512, ms);
		for (i = 0; i < n; i++)
			conn_event(&conns[evs[i].data.u32], evs[i].events);
	}
	return 0;
}

static int all_answered(void *arg)
{
	unsigned upto = *(unsigned *)arg, i, k = 0;

	for (i = 0; i < upto; i++)
		if (conns[i].status != 0 || conns[i].closed)
			k++;
	return k == upto;
}

static int all_got(void *arg)
{
	unsigned want = *(unsigned *)arg, i;

	for (i = 0; i < cfg.n; i++)
		if (!conns[i].closed && conns[i].got < want)
			return 0;
	return 1;
}

struct one_wait {
	unsigned idx, want;
};

static int one_got(void *arg)
{
	struct one_wait *w = arg;

	return conns[w->idx].closed || conns[w->idx].got >= w->want;
}

/* ---- setup ---- */

static int provision(struct gba_store *st)
{
	struct gba_bootstrap b;
	char impi[96], b64[32];
	uint8_t r[16];
	unsigned i;
	int ret;

	for (i = 0; i < cfg.n; i++) {
		memset(&b, 0, sizeof(b));
		impi_of(i, impi, sizeof(impi));
		memcpy(b.impi, impi, strlen(impi) + 1);
		ret = gba_rnd(GBA_RND_NONCE, r, sizeof(r));
		if (ret == 0)
			ret = gba_base64_encode(r, sizeof(r), b64, sizeof(b64));
		if (ret < 0)
			return ret;
		snprintf(b.btid, sizeof(b.btid), "%s@bsf.bench", b64);
		memcpy(b.rand, r, sizeof(r));
		ret = gba_rnd(GBA_RND_KEY, r, sizeof(r));
		if (ret < 0)
			return ret;
		{
			uint8_t ks[GBA_KS_LEN];

			ret = gba_rnd(GBA_RND_KEY, ks, sizeof(ks));
			if (ret == 0)
				ret = gba_secret_set(&b.ks, ks, sizeof(ks));
			if (ret == 0)
				ret = gba_ks_naf(ks, b.rand, impi, strlen(impi), cfg.app, strlen(cfg.app),
				                 gba_ua_id_pki_portal, ks_naf[i]);
			gba_wipe(ks, sizeof(ks));
		}
		if (ret < 0)
			return ret;
		b.created = gba_time_now();
		b.expires = b.created + 86400;
		b.guss_json = gba_strndup("", 0);
		memcpy(btids[i], b.btid, strlen(b.btid) + 1);
		ret = gba_store_bootstrap_put(st, &b);
		gba_bootstrap_clear(&b);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int challenge(void)
{
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	static struct gba_auth scratch;
	const struct gba_str *h;
	char url[128];
	int ret;

	memset(&cc, 0, sizeof(cc));
	cc.mode = GBA_HTTP_CLIENT_H1;
	snprintf(url, sizeof(url), "http://%s:%u", cfg.naf_host, cfg.port);
	ret = gba_http_client_open(&c, &cc, url);
	if (ret == 0)
		ret = gba_http_client_request(c, "GET", "/ccm", NULL, 0, NULL, 0, &r);
	if (ret == 0) {
		h = r->status == 401 ? gba_http_reply_header(r, "www-authenticate") : NULL;
		ret = h != NULL ? ue_ua_parse_challenge(&scratch, h->p, h->len, &ch) : GBA_EAUTH;
	}
	gba_http_reply_free(r);
	gba_http_client_close(c);
	return ret;
}

/* A CCM body (sequence number 0) for impi: action with the CA certificate. */
static int make_body(const char *impi, enum gba_ccm_action a, const uint8_t *cert, size_t clen,
                     uint8_t **der, size_t *len, uint8_t id[16])
{
	struct gba_ccm m;
	int ret;

	memset(&m, 0, sizeof(m));
	ret = gba_rnd(GBA_RND_NONCE, m.message_id, sizeof(m.message_id));
	if (ret < 0)
		return ret;
	memcpy(id, m.message_id, 16);
	m.issued_at = gba_time_now();
	m.subscriber_kind = GBA_CCM_SUB_IMPI;
	m.subscriber = gba_str_c(impi);
	m.application_id = gba_str_c(cfg.app);
	m.action = a;
	if (a == GBA_CCM_TRUST_ANCHOR_UPDATE) {
		m.trust_anchors[0].p = cert;
		m.trust_anchors[0].len = clen;
		m.ntrust_anchors = 1;
	} else {
		m.certificate.p = cert;
		m.certificate.len = clen;
	}
	return gba_ccm_encode(&m, der, len);
}

/* ---- raw signing (what the daemon's first delivery does) ---- */

struct signer_job {
	struct gba_signer *cmc, *issuer;
	const uint8_t *body;
	size_t body_len;
	unsigned n;
	int ret;
	pthread_t th;
};

static void *sign_main(void *arg)
{
	struct signer_job *j = arg;
	struct gba_cms_sign_req sr;
	struct gba_ccm m;
	struct gba_ccm_msg *msg = NULL;
	struct gba_der_error err;
	struct gba_blob issuer;
	uint8_t *body = NULL, *der = NULL;
	size_t blen, dlen;
	unsigned i;

	for (i = 0; i < j->n && j->ret == 0; i++) {
		j->ret = gba_ccm_decode(j->body, j->body_len, &m, &msg, &err);
		if (j->ret < 0)
			break;
		m.seq = i + 1;
		j->ret = gba_ccm_encode(&m, &body, &blen);
		gba_ccm_msg_free(msg);
		msg = NULL;
		if (j->ret < 0)
			break;
		memset(&sr, 0, sizeof(sr));
		sr.econtent_type = gba_oid_ct_ccm;
		sr.econtent.p = body;
		sr.econtent.len = blen;
		sr.signer_cert.p = gba_signer_cert(j->cmc, &sr.signer_cert.len);
		issuer.p = gba_signer_cert(j->issuer, &issuer.len);
		sr.certs = &issuer;
		sr.ncerts = 1;
		sr.sig_alg.p = gba_signer_sig_oid(j->cmc, &sr.sig_alg.len);
		sr.hash = gba_key_cms_hash(gba_signer_key(j->cmc));
		sr.signing_time = gba_time_now();
		sr.sign = gba_signer_sign;
		sr.sign_ctx = j->cmc;
		j->ret = gba_cms_sign(&sr, &der, &dlen);
		gba_free(body);
		gba_free(der);
		body = der = NULL;
	}
	return NULL;
}

static double sign_rate(unsigned threads, const uint8_t *body, size_t blen)
{
	struct signer_job jobs[MAX_THREADS];
	char k[4096], c[4096];
	double t0, t;
	unsigned i;
	int ok = 1;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < threads; i++) {
		snprintf(k, sizeof(k), "%s/cmc.key", cfg.ca_dir);
		snprintf(c, sizeof(c), "%s/cmc.pem", cfg.ca_dir);
		if (gba_signer_open(&jobs[i].cmc, k, c) < 0)
			return -1;
		snprintf(k, sizeof(k), "%s/ca.key", cfg.ca_dir);
		snprintf(c, sizeof(c), "%s/ca.pem", cfg.ca_dir);
		if (gba_signer_open(&jobs[i].issuer, k, c) < 0)
			return -1;
		jobs[i].body = body;
		jobs[i].body_len = blen;
		jobs[i].n = cfg.sign_n / threads;
	}
	t0 = now_s();
	for (i = 0; i < threads; i++)
		pthread_create(&jobs[i].th, NULL, sign_main, &jobs[i]);
	for (i = 0; i < threads; i++) {
		pthread_join(jobs[i].th, NULL);
		ok = ok && jobs[i].ret == 0;
		gba_signer_free(jobs[i].cmc);
		gba_signer_free(jobs[i].issuer);
	}
	t = now_s() - t0;
	return ok ? (double)(cfg.sign_n / threads * threads) / t : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench_ccm --db F --key-file F --ca-dir DIR --naf-port N --pid PID\n"
	        "                 [--subs N] [--proto h1|h2|h2push] [--sign N] [--latency N]\n"
	        "                 [--threads W] [--app FQDN] [--jitter-ms MS]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "ca-dir", required_argument, NULL, 'c' },
		{ "naf-port", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "subs", required_argument, NULL, 'n' },
		{ "proto", required_argument, NULL, 'x' },
		{ "sign", required_argument, NULL, 's' },
		{ "latency", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "app", required_argument, NULL, 'a' },
		{ "jitter-ms", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct gba_store *st = NULL;
	struct gba_ccm_out *outs = NULL;
	uint8_t **bodies = NULL, id[16];
	const uint8_t *cert = NULL;
	struct gba_signer *ca = NULL;
	struct rlimit rl;
	char impi[96], k[4096], c[4096];
	double t0, t1, srate1, sraten, frate, *lat = NULL;
	long rss0, rss1;
	unsigned i, upto, want, nopen;
	size_t clen = 0;
	int ch_, rc = 1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.naf_host = "127.0.0.1";
	cfg.app = APP_DEFAULT;
	cfg.n = 1000;
	cfg.sign_n = 2000;
	cfg.lat_n = 200;
	cfg.threads = 2;
	while ((ch_ = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch_) {
		case 'd': cfg.db = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'c': cfg.ca_dir = optarg; break;
		case 'p': cfg.port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': cfg.pid = strtol(optarg, NULL, 10); break;
		case 'n': cfg.n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': cfg.sign_n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': cfg.lat_n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': cfg.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'a': cfg.app = optarg; break;
		case 'j': cfg.jitter_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x':
			if (strcmp(optarg, "h1") == 0)
				cfg.proto = P_H1;
			else if (strcmp(optarg, "h2") == 0)
				cfg.proto = P_H2;
			else if (strcmp(optarg, "h2push") == 0)
				cfg.proto = P_H2PUSH;
			else {
				usage();
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (cfg.db == NULL || cfg.key == NULL || cfg.ca_dir == NULL || cfg.port == 0 ||
	    cfg.pid <= 0 || cfg.n == 0 || cfg.n > MAX_CONNS || cfg.threads == 0 ||
	    cfg.threads > MAX_THREADS || cfg.sign_n < cfg.threads) {
		usage();
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	conns = calloc(cfg.n, sizeof(*conns));
	ks_naf = calloc(cfg.n, sizeof(*ks_naf));
	btids = calloc(cfg.n, sizeof(*btids));
	outs = calloc(cfg.n, sizeof(*outs));
	bodies = calloc(cfg.n, sizeof(*bodies));
	lat = calloc(cfg.lat_n + 1, sizeof(*lat));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ks_naf == NULL || btids == NULL || outs == NULL || bodies == NULL ||
	    lat == NULL || ep < 0)
		goto out;
	if (gba_store_open(&st, cfg.db, cfg.key) < 0) {
		fprintf(stderr, "bench_ccm: cannot open the store\n");
		goto out;
	}
	snprintf(k, sizeof(k), "%s/ca.key", cfg.ca_dir);
	snprintf(c, sizeof(c), "%s/ca.pem", cfg.ca_dir);
	if (gba_signer_open(&ca, k, c) < 0)
		goto out;
	cert = gba_signer_cert(ca, &clen);

	/* 1. setup */
	t0 = now_s();
	if (provision(st) < 0 || challenge() < 0) {
		fprintf(stderr, "bench_ccm: setup failed\n");
		goto out;
	}
	printf("setup_bootstraps=%u setup_s=%.1f\n", cfg.n, now_s() - t0);
	fflush(stdout);

	/* 2. idle subscriptions */
	rss0 = rss_kib();
	t0 = now_s();
	for (upto = 0; upto < cfg.n;) {
		unsigned end = upto + BATCH < cfg.n ? upto + BATCH : cfg.n;

		for (i = upto; i < end; i++)
			if (conn_open(i) < 0) {
				fprintf(stderr, "bench_ccm: cannot open connection %u: %s\n", i,
				        strerror(errno));
				goto out;
			}
		upto = end;
		if (loop_until(all_answered, &upto, 60) < 0) {
			fprintf(stderr, "bench_ccm: answers missing at %u\n", upto);
			goto out;
		}
	}
	for (i = nopen = 0; i < cfg.n; i++)
		if (!conns[i].closed && conns[i].status == 200)
			nopen++;
	rss1 = rss_kib();
	printf("proto=%s subscriptions=%u open=%u open_s=%.1f rss_before_kib=%ld rss_after_kib=%ld "
	       "rss_per_sub_bytes=%.0f\n",
	       cfg.proto == P_H1 ? "h1" : cfg.proto == P_H2 ? "h2c" : "h2c-push", cfg.n, nopen,
	       now_s() - t0, rss0, rss1, (double)(rss1 - rss0) * 1024.0 / (double)nopen);
	fflush(stdout);
	if (nopen != cfg.n)
		goto out;

	/* 3. raw signing, while the daemon is idle */
	impi_of(0, impi, sizeof(impi));
	if (make_body(impi, GBA_CCM_TRUST_ANCHOR_UPDATE, cert, clen, &bodies[0], &outs[0].body_len,
	              id) < 0)
		goto out;
	srate1 = sign_rate(1, bodies[0], outs[0].body_len);
	sraten = sign_rate(cfg.threads, bodies[0], outs[0].body_len);
	gba_free(bodies[0]);
	bodies[0] = NULL;
	printf("sign_rate_1thread=%.0f sign_rate_%uthreads=%.0f\n", srate1, cfg.threads, sraten);
	fflush(stdout);

	/* 4. fan-out: one distinct CCM per subscriber, one transaction */
	for (i = 0; i < cfg.n; i++) {
		char *im = malloc(96);

		if (im == NULL)
			goto out;
		impi_of(i, im, 96);
		if (make_body(im, GBA_CCM_TRUST_ANCHOR_UPDATE, cert, clen, &bodies[i],
		              &outs[i].body_len, outs[i].msg_id) < 0)
			goto out;
		outs[i].impi = im;
		outs[i].app_id = cfg.app;
		outs[i].action = GBA_CCM_TRUST_ANCHOR_UPDATE;
		outs[i].created = gba_time_now();
		outs[i].expires = outs[i].created + 3600;
		outs[i].body = bodies[i];
	}
	t0 = now_s();
	if (gba_store_ccm_queue(st, outs, cfg.n) < 0)
		goto out;
	t1 = now_s();
	want = 1;
	if (loop_until(all_got, &want, 600) < 0) {
		fprintf(stderr, "bench_ccm: fan-out incomplete (%u of %u)\n", messages, cfg.n);
		goto out;
	}
	{
		double first = 1e300, last = 0;

		for (i = 0; i < cfg.n; i++) {
			if (conns[i].t_last < first)
				first = conns[i].t_last;
			if (conns[i].t_last > last)
				last = conns[i].t_last;
		}
		frate = (double)cfg.n / (last - t1);
		printf("fanout_messages=%u commit_ms=%.1f commit_to_last_s=%.3f "
		       "first_to_last_s=%.3f fanout_rate=%.0f fanout_rate_first_to_last=%.0f "
		       "ratio_to_sign_%uthreads=%.2f ratio_to_sign_1thread=%.2f\n",
		       cfg.n, (t1 - t0) * 1000, last - t1, last - first, frate,
		       (double)(cfg.n - 1) / (last - first), cfg.threads, frate / sraten,
		       frate / srate1);
		fflush(stdout);
	}

	/* 5. latency: one revoked CCM at a time, from this process */
	for (i = 0; i < cfg.lat_n; i++) {
		struct gba_ccm_out o;
		struct one_wait w;
		uint8_t *body = NULL;
		size_t blen = 0;
		unsigned who = (unsigned)((i * 7919u) % cfg.n);

		impi_of(who, impi, sizeof(impi));
		memset(&o, 0, sizeof(o));
		if (make_body(impi, GBA_CCM_REVOKED, cert, clen, &body, &blen, o.msg_id) < 0)
			goto out;
		o.impi = impi;
		o.app_id = cfg.app;
		o.action = GBA_CCM_REVOKED;
		o.created = gba_time_now();
		o.expires = o.created + 3600;
		o.body = body;
		o.body_len = blen;
		w.idx = who;
		w.want = conns[who].got + 1;
		if (cfg.jitter_ms > 0) {
			/* out of phase with the daemon's poll: a random wait,
			 * serving the connections meanwhile */
			uint8_t rb[2];
			struct one_wait never = { who, UINT32_MAX };

			if (gba_rnd(GBA_RND_NONCE, rb, sizeof(rb)) < 0)
				goto out;
			(void)loop_until(one_got, &never,
			                 (double)(((unsigned)rb[0] << 8 | rb[1]) % cfg.jitter_ms) / 1000.0);
		}
		t0 = now_s();
		if (gba_store_ccm_queue(st, &o, 1) < 0) {
			gba_free(body);
			goto out;
		}
		gba_free(body);
		if (loop_until(one_got, &w, 30) < 0 || conns[who].closed) {
			fprintf(stderr, "bench_ccm: latency message %u lost\n", i);
			goto out;
		}
		lat[i] = (conns[who].t_last - t0) * 1000.0;
	}
	if (cfg.lat_n > 0) {
		qsort(lat, cfg.lat_n, sizeof(*lat), cmp_double);
		printf("latency_n=%u p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", cfg.lat_n,
		       lat[cfg.lat_n / 2], lat[cfg.lat_n * 9 / 10], lat[cfg.lat_n * 99 / 100],
		       lat[cfg.lat_n - 1]);
	}
	printf("connections_closed_early=%u rss_end_kib=%ld\n", closed_early, rss_kib());
	rc = closed_early == 0 ? 0 : 1;
out:
	for (i = 0; conns != NULL && i < cfg.n; i++)
		if (conns[i].fd > 0 && !conns[i].closed) {
			close(conns[i].fd);
			if (conns[i].h2 != NULL)
				nghttp2_session_del(conns[i].h2);
			free(conns[i].wbuf);
			free(conns[i].fb);
		}
	for (i = 0; outs != NULL && bodies != NULL && i < cfg.n; i++) {
		free((void *)(uintptr_t)outs[i].impi);
		gba_free(bodies[i]);
	}
	gba_signer_free(ca);
	gba_store_close(st);
	if (ep >= 0)
		close(ep);
	free(conns);
	free(ks_naf);
	free(btids);
	free(outs);
	free(bodies);
	free(lat);
	return rc;
}
