/*
 * check_naf_status.c - the certificate status service (naf/naf_status.c)
 * in process: a CA directory made by gba_ca_init, a store in a mkdtemp
 * directory, certificates recorded through gba_store_cmc_commit, OCSP
 * and CRL requests through naf_status_route, answers read with GnuTLS.
 * The service runs on the test's clock (naf_status_conf.clock) and its
 * background passes are run with naf_status_pass: no thread, no sleep.
 */
#include "config.h"

#include <dirent.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_http_int.h"   /* the response's status, headers and body */
#include "gba_mem.h"
#include "gba_policy.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "naf.h"
#include "testutil.h"

#define CA_NAME "test-ca"

struct env {
	char dir[256], cadir[300], db[300], key[300];
	struct naf_ca ca;
	struct gba_store *st;
	struct gba_policy_store *pol;
	struct naf_status_conf conf;
	struct naf_status *s;
	struct naf_conf nc;
	struct naf_keysrc ks;
	struct naf *n;
	uint8_t secret[32];
	int64_t now;                      /* the service's clock */
	int64_t born;                     /* the real time at set-up */
	uint8_t name_sha1[20], key_sha1[20], name_sha256[32], key_sha256[32];
	struct gba_http_response resp;
	/* the last OCSP answer */
	gnutls_ocsp_resp_t or;
	int have_or;
	/* a request the clock sends once, while a live signature is under
	 * way (ocsp_live_now > 0): certificate, form, nonce; its answer */
	int reenter;
	unsigned in_cert;
	int in_form, in_nonce;
	int in_status, in_has_nonce;
	/* the clock moves on by tick at every call; stop_at: after that
	 * many calls it calls naf_status_stop (0: never) */
	int64_t tick;
	unsigned calls, stop_at;
};

static struct env E;

static void inner_request(void);

static int64_t test_clock(void *ctx)
{
	struct naf_status_stats st;

	if (E.reenter && E.s != NULL) {
		naf_status_stats(E.s, &st);
		if (st.ocsp_live_now > 0) {
			E.reenter = 0;
			inner_request();
		}
	}
	E.calls++;
	if (E.stop_at != 0 && E.calls == E.stop_at)
		naf_status_stop(E.s);
	*(int64_t *)ctx += E.tick;
	return *(const int64_t *)ctx;
}

static int no_key(void *ctx, const char *btid, const uint8_t *naf_id, size_t naf_id_len,
                  struct naf_key *out)
{
	(void)ctx;
	(void)btid;
	(void)naf_id;
	(void)naf_id_len;
	(void)out;
	return GBA_ENOTFOUND;
}

/* The status service on E's store and CA with conf as set by the test. */
static void service_up(void)
{
	ck_assert_int_eq(naf_status_new(&E.s, &E.ca, 1, &E.conf), 0);
	memset(&E.nc, 0, sizeof(E.nc));
	E.nc.fqdn = "naf.test";
	E.nc.cas = &E.ca;
	E.nc.ncas = 1;
	E.nc.policies = E.pol;
	E.nc.digest_secret = E.secret;
	E.nc.status = E.s;
	E.ks.get = no_key;
	ck_assert_int_eq(naf_new(&E.n, &E.nc, E.st, &E.ks), 0);
}

static void service_down(void)
{
	naf_free(E.n);
	E.n = NULL;
	naf_status_free(E.s);
	E.s = NULL;
}

/* responder_days: the delegated responder's validity (0: 90 days). */
static void env_up(unsigned responder_days)
{
	struct gba_ca_init_conf cc;
	struct gba_cert_info ci;
	const uint8_t *der;
	const char *tmp = getenv("TMPDIR");
	size_t len;

	memset(&E, 0, sizeof(E));
	gba_http_response_reset(&E.resp);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	ck_assert_int_lt(snprintf(E.dir, sizeof(E.dir), "%s/check_naf_status.XXXXXX", tmp),
	                 (int)sizeof(E.dir));
	ck_assert_ptr_nonnull(mkdtemp(E.dir));
	snprintf(E.cadir, sizeof(E.cadir), "%s/ca", E.dir);
	snprintf(E.db, sizeof(E.db), "%s/gba.db", E.dir);
	snprintf(E.key, sizeof(E.key), "%s/gba.key", E.dir);
	ck_assert_int_eq(mkdir(E.cadir, 0700), 0);
	memset(&cc, 0, sizeof(cc));
	cc.dir = E.cadir;
	cc.name = "check";
	cc.key_type = GBA_KEY_EC_P256;
	cc.root_days = 30;
	cc.ca_days = 20;
	cc.signer_days = 10;
	cc.responder_days = responder_days;
	ck_assert_int_eq(gba_ca_init(&cc), 0);
	ck_assert_int_eq(naf_ca_load(&E.ca, E.cadir, CA_NAME, NULL), 0);
	ck_assert_int_eq(gba_store_open(&E.st, E.db, E.key), 0);
	ck_assert_int_eq(gba_policy_store_new(&E.pol), 0);
	der = gba_signer_cert(E.ca.issuer, &len);
	ck_assert_int_eq(gba_x509_cert_info(der, len, &ci), 0);
	ck_assert_int_eq(gba_hash_fast(GBA_HASH_SHA1, ci.subject_der, ci.subject_der_len,
	                               E.name_sha1), 0);
	ck_assert_int_eq(gba_hash_fast(GBA_HASH_SHA256, ci.subject_der, ci.subject_der_len,
	                               E.name_sha256), 0);
	ck_assert_int_eq(gba_x509_spki_key_hash(ci.spki, ci.spki_len, GBA_HASH_SHA1, E.key_sha1),
	                 0);
	ck_assert_int_eq(gba_x509_spki_key_hash(ci.spki, ci.spki_len, GBA_HASH_SHA256,
	                                        E.key_sha256), 0);
	gba_cert_info_clear(&ci);
	E.born = gba_time_now();
	E.now = E.born;
	naf_status_conf_default(&E.conf);
	E.conf.clock = test_clock;
	E.conf.clock_ctx = &E.now;
}

static void env_down(void)
{
	char path[600];
	struct dirent *d;
	DIR *dp;
	int pass;

	if (E.have_or)
		gnutls_ocsp_resp_deinit(E.or);
	gba_http_response_reset(&E.resp);
	service_down();
	gba_policy_store_free(E.pol);
	gba_store_close(E.st);
	naf_ca_unload(&E.ca);
	for (pass = 0; pass < 2; pass++) {   /* files, then the emptied ca/ */
		dp = opendir(pass == 0 ? E.cadir : E.dir);
		if (dp == NULL)
			continue;
		for (d = readdir(dp); d != NULL; d = readdir(dp)) {
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", pass == 0 ? E.cadir : E.dir,
			         d->d_name);
			if (unlink(path) != 0)
				rmdir(path);
		}
		closedir(dp);
	}
	rmdir(E.dir);
}

static void setup(void)
{
	env_up(0);
}

static void teardown(void)
{
	env_down();
}

/* ---- certificates in the store ---- */

/* Serial i: 0x41 i (two octets). */
static void serial_of(unsigned i, uint8_t s[2])
{
	s[0] = 0x41;
	s[1] = (uint8_t)i;
}

/* Record certificate i of CA_NAME: status, valid until not_after. */
static void add_cert(unsigned i, int status, int64_t not_after)
{
	static const uint8_t placeholder[] = { 0x30, 0x00 };
	struct gba_cert_record r;
	struct gba_cmc_txn t;

	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	serial_of(i, r.serial);
	r.serial_len = 2;
	memcpy(r.ca, CA_NAME, sizeof(CA_NAME));
	memcpy(r.impi, "sub@check.test", sizeof("sub@check.test"));
	memcpy(r.app_id, "naf.test", sizeof("naf.test"));
	r.issued_at = r.not_before = E.born - 86400;
	r.not_after = not_after;
	r.status = status;
	if (status != GBA_CERT_VALID) {
		r.reason = status == GBA_CERT_HOLD ? 6 : 1;
		r.revoked_at = E.born - 60;
	}
	r.der = (uint8_t *)(uintptr_t)placeholder;
	r.der_len = sizeof(placeholder);
	t.certs = &r;
	t.ncerts = 1;
	ck_assert_int_eq(gba_store_cmc_commit(E.st, &t), 0);
}

/* n certificates of CA_NAME (serials 0x42 hi lo from first on) with
 * status, in one transaction (n change-log rows unless VALID). */
static void add_bulk(unsigned first, unsigned n, int status)
{
	static const uint8_t placeholder[] = { 0x30, 0x00 };
	struct gba_cert_record *v;
	struct gba_cmc_txn t;
	unsigned i;

	v = calloc(n, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		v[i].serial[0] = 0x42;
		v[i].serial[1] = (uint8_t)((first + i) >> 8);
		v[i].serial[2] = (uint8_t)(first + i);
		v[i].serial_len = 3;
		memcpy(v[i].ca, CA_NAME, sizeof(CA_NAME));
		memcpy(v[i].impi, "bulk@check.test", sizeof("bulk@check.test"));
		memcpy(v[i].app_id, "naf.test", sizeof("naf.test"));
		v[i].issued_at = v[i].not_before = E.born - 86400;
		v[i].not_after = E.born + 86400;
		v[i].status = status;
		if (status != GBA_CERT_VALID) {
			v[i].reason = 1;
			v[i].revoked_at = E.born - 60;
		}
		v[i].der = (uint8_t *)(uintptr_t)placeholder;
		v[i].der_len = sizeof(placeholder);
	}
	memset(&t, 0, sizeof(t));
	t.certs = v;
	t.ncerts = n;
	ck_assert_int_eq(gba_store_cmc_commit(E.st, &t), 0);
	free(v);
}

static void revoke_cert(unsigned i)
{
	struct gba_revocation r;
	uint8_t s[2];

	serial_of(i, s);
	memset(&r, 0, sizeof(r));
	r.serial = s;
	r.serial_len = 2;
	r.op = GBA_STATUS_REVOKE;
	r.reason = 1;
	r.at = gba_time_now();
	ck_assert_int_eq(gba_store_cert_set_status(E.st, &r, NULL, NULL, NULL), 0);
}

/* ---- requests ---- */

static uint8_t wbuf[8192];

/* Wrap p[0..n) in tag, in place; the new length. */
static size_t wrap(uint8_t tag, uint8_t *p, size_t n)
{
	size_t h = n < 0x80 ? 2 : n < 0x100 ? 3 : 4;

	ck_assert_uint_lt(n, 0x10000);
	memmove(p + h, p, n);
	p[0] = tag;
	if (h == 2) {
		p[1] = (uint8_t)n;
	} else if (h == 3) {
		p[1] = 0x81;
		p[2] = (uint8_t)n;
	} else {
		p[1] = 0x82;
		p[2] = (uint8_t)(n >> 8);
		p[3] = (uint8_t)n;
	}
	return h + n;
}

static size_t put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return n;
}

enum form { SHA1_NULL, SHA1_ABSENT, SHA256_ABSENT, SHA256_NULL };

/* One CertID of our CA in form f for serial (content octets). */
static size_t put_certid(uint8_t *p, enum form f, const uint8_t *serial, size_t slen)
{
	static const uint8_t sha1[] = { 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a };
	static const uint8_t sha256[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
		                          0x04, 0x02, 0x01 };
	static const uint8_t null[] = { 0x05, 0x00 };
	int is1 = f == SHA1_NULL || f == SHA1_ABSENT;
	size_t n = 0, a;

	a = is1 ? put(p, sha1, sizeof(sha1)) : put(p, sha256, sizeof(sha256));
	if (f == SHA1_NULL || f == SHA256_NULL)
		a += put(p + a, null, sizeof(null));
	n = wrap(0x30, p, a);
	a = put(p + n, is1 ? E.name_sha1 : E.name_sha256, is1 ? 20 : 32);
	n += wrap(0x04, p + n, a);
	a = put(p + n, is1 ? E.key_sha1 : E.key_sha256, is1 ? 20 : 32);
	n += wrap(0x04, p + n, a);
	a = put(p + n, serial, slen);
	n += wrap(0x02, p + n, a);
	n = wrap(0x30, p, n);        /* CertID */
	return wrap(0x30, p, n);     /* Request */
}

/* An OCSPRequest into p for n serials (each slen octets) in form f,
 * with a 16-octet nonce when nonce. */
static size_t request_into(uint8_t *p, enum form f, const uint8_t *const *serials, size_t slen,
                           size_t n, int nonce)
{
	static const uint8_t oid_nonce[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
		                             0x30, 0x01, 0x02 };
	size_t len = 0, l = 0, e, i;

	for (i = 0; i < n; i++)
		l += put_certid(p + l, f, serials[i], slen);
	len = wrap(0x30, p, l);      /* requestList */
	if (nonce) {
		e = put(p + len, oid_nonce, sizeof(oid_nonce));
		memset(p + len + e, 0x5a, 16);
		l = wrap(0x04, p + len + e, 16);
		l = wrap(0x04, p + len + e, l);
		e = wrap(0x30, p + len, e + l);   /* Extension */
		e = wrap(0x30, p + len, e);       /* Extensions */
		len += wrap(0xa2, p + len, e);
	}
	len = wrap(0x30, p, len);    /* TBSRequest */
	return wrap(0x30, p, len);   /* OCSPRequest */
}

static size_t request(enum form f, const uint8_t *const *serials, size_t slen, size_t n,
                      int nonce)
{
	return request_into(wbuf, f, serials, slen, n, nonce);
}

/* Send one request through the status routes into resp; its status. */
static int http_into(struct gba_http_response *resp, const char *method, const char *path,
                     const uint8_t *body, size_t len)
{
	struct gba_http_request req;

	memset(&req, 0, sizeof(req));
	req.method.p = method;
	req.method.len = strlen(method);
	req.path.p = path;
	req.path.len = strlen(path);
	req.body = body;
	req.body_len = len;
	req.peer = "127.0.0.1:1";
	gba_http_response_reset(resp);
	naf_status_route(E.n, &req, resp);
	return resp->status;
}

static int http(const char *method, const char *path, const uint8_t *body, size_t len)
{
	return http_into(&E.resp, method, path, body, len);
}

/* E.in_*: the request the clock sends.  E.in_status: the certificate
 * status (GNUTLS_OCSP_CERT_*) of a successful answer, else 10 times its
 * OCSPResponseStatus (-1: no OCSP response); E.in_has_nonce. */
static void inner_request(void)
{
	static uint8_t buf[1024];
	struct gba_http_response r;
	gnutls_ocsp_resp_t o;
	gnutls_datum_t d, nv;
	uint8_t sr[2];
	const uint8_t *sp = sr;
	unsigned cs = 99;
	size_t len;
	int rs;

	memset(&r, 0, sizeof(r));
	serial_of(E.in_cert, sr);
	len = request_into(buf, (enum form)E.in_form, &sp, 2, 1, E.in_nonce);
	E.in_status = -1;
	if (http_into(&r, "POST", "/ocsp", buf, len) == 200) {
		ck_assert_int_eq(gnutls_ocsp_resp_init(&o), 0);
		d.data = r.body;
		d.size = (unsigned)r.body_len;
		ck_assert_int_eq(gnutls_ocsp_resp_import(o, &d), 0);
		rs = gnutls_ocsp_resp_get_status(o);
		if (rs == 0)
			ck_assert_int_eq(gnutls_ocsp_resp_get_single(o, 0, NULL, NULL, NULL, NULL,
			                                             &cs, NULL, NULL, NULL, NULL), 0);
		E.in_status = rs == 0 ? (int)cs : 10 * rs;
		E.in_has_nonce = gnutls_ocsp_resp_get_nonce(o, NULL, &nv) == 0;
		if (E.in_has_nonce)
			gnutls_free(nv.data);
		gnutls_ocsp_resp_deinit(o);
	}
	gba_http_response_reset(&r);
}

/* Whether the last answer (E.or) carries a nonce. */
static int has_nonce(void)
{
	gnutls_datum_t nv;
	int ret = gnutls_ocsp_resp_get_nonce(E.or, NULL, &nv);

	if (ret == 0)
		gnutls_free(nv.data);
	return ret == 0;
}

/* POST wbuf[0..len) to /ocsp: the OCSPResponseStatus (in E.or), or -1
 * when the answer is not an OCSP response. */
static int post(size_t len)
{
	gnutls_datum_t d;

	if (E.have_or)
		gnutls_ocsp_resp_deinit(E.or);
	E.have_or = 0;
	if (http("POST", "/ocsp", wbuf, len) != 200)
		return -1;
	ck_assert_int_eq(gnutls_ocsp_resp_init(&E.or), 0);
	E.have_or = 1;
	d.data = E.resp.body;
	d.size = (unsigned)E.resp.body_len;
	ck_assert_int_eq(gnutls_ocsp_resp_import(E.or, &d), 0);
	return gnutls_ocsp_resp_get_status(E.or);
}

/* One CertID for certificate i in form f: the certificate status of a
 * successful answer (GNUTLS_OCSP_CERT_*), or -1 - OCSPResponseStatus. */
static int ask(unsigned i, enum form f, int nonce)
{
	uint8_t s[2];
	const uint8_t *sp = s;
	unsigned cs = 99;
	int rs;

	serial_of(i, s);
	rs = post(request(f, &sp, 2, 1, nonce));
	if (rs != 0)
		return -1 - rs;
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(E.or, 0, NULL, NULL, NULL, NULL, &cs, NULL,
	                                             NULL, NULL, NULL), 0);
	return (int)cs;
}

/* Bulk certificate i (0x42 hi lo), SHA-1/NULL CertID, no nonce: its
 * certificate status; *this_update its thisUpdate. */
static int ask_bulk(unsigned i, time_t *this_update)
{
	uint8_t sr[3] = { 0x42, (uint8_t)(i >> 8), (uint8_t)i };
	const uint8_t *sp = sr;
	unsigned cs = 99;

	ck_assert_int_eq(post(request(SHA1_NULL, &sp, 3, 1, 0)), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(E.or, 0, NULL, NULL, NULL, NULL, &cs,
	                                             this_update, NULL, NULL, NULL), 0);
	return (int)cs;
}

static struct naf_status_stats stats(void)
{
	struct naf_status_stats st;

	naf_status_stats(E.s, &st);
	return st;
}

/* The value of response header name (lower case), or NULL. */
static const char *header(const char *name)
{
	static char v[256];
	size_t i;

	for (i = 0; i < E.resp.nheaders; i++) {
		if (E.resp.headers[i].name.len == strlen(name) &&
		    strncasecmp(E.resp.headers[i].name.p, name, strlen(name)) == 0) {
			ck_assert_uint_lt(E.resp.headers[i].value.len, sizeof(v));
			memcpy(v, E.resp.headers[i].value.p, E.resp.headers[i].value.len);
			v[E.resp.headers[i].value.len] = '\0';
			return v;
		}
	}
	return NULL;
}

/* ---- tests ---- */

START_TEST(statuses_from_store_and_cache)
{
	struct naf_status_stats st;

	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	add_cert(2, GBA_CERT_REVOKED, E.born + 86400);
	add_cert(3, GBA_CERT_HOLD, E.born + 86400);
	service_up();
	ck_assert_int_eq(ask(1, SHA256_ABSENT, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(ask(2, SHA1_ABSENT, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_int_eq(ask(3, SHA256_NULL, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_int_eq(ask(9, SHA1_NULL, 0), GNUTLS_OCSP_CERT_UNKNOWN);
	st = stats();
	ck_assert_uint_eq(st.ocsp_signed_live, 4);
	ck_assert_uint_eq(st.ocsp_hits, 0);
	/* the pre-signing pass covers every current certificate */
	naf_status_pass(E.s, E.st);
	st = stats();
	ck_assert_uint_eq(st.ocsp_presigned, 3);
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().ocsp_hits, 1);
	/* a revocation is seen by the next request */
	revoke_cert(1);
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_uint_eq(stats().ocsp_hits, 1);
	/* with a nonce: live, echoed */
	ck_assert_int_eq(ask(2, SHA1_NULL, 1), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_str_eq(header("cache-control"), "no-store");
}
END_TEST

/* Requesters choose the CertID form and the serial: those answers get a
 * quarter of the cache, and every pass drops what can no longer be
 * served (past refresh_at, or the certificate expired). */
START_TEST(cache_caps_other_forms_and_sweeps)
{
	struct naf_status_stats st;
	unsigned i;

	E.conf.ocsp_cache_max = 12;   /* 3 for forms we do not pre-sign */
	for (i = 1; i <= 6; i++)
		add_cert(i, GBA_CERT_VALID, E.born + 86400);
	add_cert(7, GBA_CERT_REVOKED, E.born + 600);
	service_up();
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(ask(i, SHA256_ABSENT, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(ask(7, SHA1_ABSENT, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_uint_eq(stats().ocsp_cached, 3);
	naf_status_pass(E.s, E.st);   /* pre-signs 1..7 */
	st = stats();
	ck_assert_uint_eq(st.ocsp_presigned, 7);
	ck_assert_uint_eq(st.ocsp_cached, 10);
	/* certificate 7 expires: its answers go */
	E.now = E.born + 601;
	naf_status_pass(E.s, E.st);
	st = stats();
	ck_assert_uint_eq(st.ocsp_cached, 9);
	ck_assert_uint_eq(st.ocsp_swept, 1);
	/* half a lifetime on: nothing is served from the old entries; the
	 * pass drops them and pre-signs the six current certificates */
	E.now = E.born + (int64_t)E.conf.ocsp_lifetime_s / 2;
	naf_status_pass(E.s, E.st);
	st = stats();
	ck_assert_uint_eq(st.ocsp_swept, 10);
	ck_assert_uint_eq(st.ocsp_presigned, 13);
	ck_assert_uint_eq(st.ocsp_cached, 6);
	for (i = 1; i <= 4; i++)
		ck_assert_int_eq(ask(i, SHA256_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().ocsp_cached, 9);
	ck_assert_int_eq(ask(6, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().ocsp_hits, 1);
}
END_TEST

/* While ocsp_live_max live signatures run, another request that needs
 * one gets the cached answer (without its nonce) or tryLater. */
START_TEST(live_signatures_are_capped)
{
	struct naf_status_stats st;

	E.conf.ocsp_live_max = 1;
	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	add_cert(2, GBA_CERT_VALID, E.born + 86400);
	service_up();
	naf_status_pass(E.s, E.st);
	/* during a live signature: a nonce request for a cached certificate */
	E.reenter = 1;
	E.in_cert = 2;
	E.in_form = SHA1_NULL;
	E.in_nonce = 1;
	ck_assert_int_eq(ask(1, SHA1_NULL, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert(has_nonce());
	ck_assert_int_eq(E.reenter, 0);
	ck_assert_int_eq(E.in_status, GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(E.in_has_nonce, 0);
	/* ... a nonce request for an answer not cached: tryLater */
	E.reenter = 1;
	E.in_form = SHA256_ABSENT;
	ck_assert_int_eq(ask(1, SHA1_NULL, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(E.in_status, 10 * 3);
	/* ... and one without a nonce, not cached: tryLater */
	E.reenter = 1;
	E.in_nonce = 0;
	ck_assert_int_eq(ask(1, SHA1_NULL, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(E.in_status, 10 * 3);
	st = stats();
	ck_assert_uint_eq(st.ocsp_busy, 3);
	ck_assert_uint_eq(st.ocsp_live_now, 0);
	/* the slot is free again */
	ck_assert_int_eq(ask(2, SHA256_ABSENT, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert(has_nonce());
	ck_assert_uint_eq(stats().ocsp_busy, 3);
}
END_TEST

/* An unknown serial asked again within UNKNOWN_KEEP costs no signature. */
START_TEST(unknown_is_cached_briefly)
{
	uint64_t live;

	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	service_up();
	ck_assert_int_eq(ask(9, SHA1_NULL, 0), GNUTLS_OCSP_CERT_UNKNOWN);
	live = stats().ocsp_signed_live;
	ck_assert_int_eq(ask(9, SHA1_NULL, 0), GNUTLS_OCSP_CERT_UNKNOWN);
	ck_assert_uint_eq(stats().ocsp_signed_live, live);
	ck_assert_uint_eq(stats().ocsp_hits, 1);
	/* it takes a place among the requester's forms, not the pre-signed */
	E.conf.ocsp_cache_max = 4;   /* one such place */
	ck_assert_int_eq(ask(10, SHA1_NULL, 0), GNUTLS_OCSP_CERT_UNKNOWN);
	ck_assert_uint_eq(stats().ocsp_cached, 1);
	/* a minute on, it is signed again */
	E.now += 61;
	naf_status_pass(E.s, E.st);
	ck_assert_int_eq(ask(9, SHA1_NULL, 0), GNUTLS_OCSP_CERT_UNKNOWN);
	ck_assert_uint_eq(stats().ocsp_signed_live, live + 2);
}
END_TEST

/* Serials the store cannot hold (over 20 octets) are not ours: up to
 * the codec's 64 they are answered unknown, echoed as received; longer
 * CertIDs do not parse (malformedRequest).  Never internalError. */
START_TEST(long_serials)
{
	static uint8_t long_serial[65];
	const uint8_t *sp = long_serial;
	gnutls_datum_t sn;
	unsigned cs = 99;

	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	service_up();
	memset(long_serial, 0x41, sizeof(long_serial));
	ck_assert_int_eq(post(request(SHA1_NULL, &sp, 21, 1, 0)), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(E.or, 0, NULL, NULL, NULL, &sn, &cs, NULL,
	                                             NULL, NULL, NULL), 0);
	ck_assert_uint_eq(cs, GNUTLS_OCSP_CERT_UNKNOWN);
	ck_assert_uint_eq(sn.size, 21);
	ck_assert_mem_eq(sn.data, long_serial, 21);
	gnutls_free(sn.data);
	ck_assert_int_eq(post(request(SHA256_ABSENT, &sp, 64, 1, 1)), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(E.or, 0, NULL, NULL, NULL, &sn, &cs, NULL,
	                                             NULL, NULL, NULL), 0);
	ck_assert_uint_eq(cs, GNUTLS_OCSP_CERT_UNKNOWN);
	ck_assert_uint_eq(sn.size, 64);
	gnutls_free(sn.data);
	ck_assert_int_eq(post(request(SHA1_NULL, &sp, 65, 1, 0)), 1);   /* malformedRequest */
	ck_assert_int_eq(post(request(SHA1_NULL, &sp, 65, 1, 1)), 1);
}
END_TEST

static const char *http_date(int64_t t)
{
	static char d[GBA_TIME_HTTP_LEN + 1];

	ck_assert_int_eq(gba_time_http(t, d), 0);
	return d;
}

/* HTTP caches keep an answer at most ocsp_max_age / crl_max_age seconds:
 * Cache-Control max-age and Expires agree. */
START_TEST(http_cache_lifetime_capped)
{
	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	E.conf.crl_max_age_s = 30;
	service_up();
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_str_eq(header("cache-control"), "max-age=60, public, no-transform, must-revalidate");
	ck_assert_str_eq(header("expires"), http_date(E.born + 60));
	ck_assert_str_eq(header("last-modified"), http_date(E.born));
	E.now = E.born + 100;   /* from the cache */
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().ocsp_hits, 1);
	ck_assert_str_eq(header("expires"), http_date(E.born + 160));
	/* a cap beyond nextUpdate: nextUpdate */
	E.conf.ocsp_max_age_s = 7200;
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_str_eq(header("cache-control"),
	                 "max-age=3500, public, no-transform, must-revalidate");
	ck_assert_str_eq(header("expires"), http_date(E.born + 3600));
	/* the CRL (nextUpdate a day on) */
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 200);
	ck_assert_str_eq(header("content-type"), "application/pkix-crl");
	ck_assert_str_eq(header("cache-control"), "max-age=30, public, no-transform, must-revalidate");
	ck_assert_str_eq(header("expires"), http_date(E.now + 30));
}
END_TEST

/* The change log is read from where the process started, and no further
 * than what it takes to know the whole cache must go. */
START_TEST(change_log_read_sparingly)
{
	struct naf_status_stats st;

	add_cert(1, GBA_CERT_VALID, E.born + 86400);
	add_bulk(0, 500, GBA_CERT_REVOKED);   /* history from before the start */
	service_up();
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().changes_read, 0);
	revoke_cert(1);
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_uint_eq(stats().changes_read, 1);
	/* a burst of changes: the cache goes as a whole, the rest unread */
	add_cert(2, GBA_CERT_VALID, E.born + 86400);
	ck_assert_int_eq(ask(2, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	add_bulk(1000, 5000, GBA_CERT_REVOKED);
	ck_assert_int_eq(ask(2, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);
	st = stats();
	ck_assert_uint_lt(st.changes_read, 1 + 5000);
	ck_assert_uint_ge(st.ocsp_dropped, 2);
	ck_assert_uint_eq(st.ocsp_hits, 0);
	/* and later changes are followed one by one again */
	revoke_cert(2);
	ck_assert_int_eq(ask(2, SHA1_NULL, 0), GNUTLS_OCSP_CERT_REVOKED);
	ck_assert_uint_eq(stats().changes_read, st.changes_read + 1);
}
END_TEST

/* Which key signed the last answer: 1 the delegated responder (its
 * certificate carried, responderID its key), 0 the issuing CA. */
static int signed_by_responder(void)
{
	gnutls_x509_crt_t *certs = NULL;
	gnutls_datum_t id, d;
	gnutls_x509_crt_t ca;
	struct gba_cert_info ci;
	const struct gba_signer *g;
	uint8_t kid[GBA_X509_KEY_ID_LEN];
	unsigned verify = 99;
	size_t ncerts = 0, len, i;
	int delegated;

	ck_assert_int_eq(gnutls_ocsp_resp_get_certs(E.or, &certs, &ncerts), 0);
	ck_assert_uint_le(ncerts, 1);
	delegated = ncerts == 1;
	for (i = 0; i < ncerts; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	g = delegated ? E.ca.ocsp : E.ca.issuer;
	d.data = (unsigned char *)(uintptr_t)gba_signer_cert(g, &len);
	d.size = (unsigned)len;
	ck_assert_int_eq(gba_x509_cert_info(d.data, len, &ci), 0);
	ck_assert_int_eq(gba_x509_spki_key_id(ci.spki, ci.spki_len, kid), 0);
	gba_cert_info_clear(&ci);
	ck_assert_int_eq(gnutls_ocsp_resp_get_responder_raw_id(E.or, GNUTLS_OCSP_RESP_ID_KEY, &id),
	                 0);
	ck_assert_uint_eq(id.size, sizeof(kid));
	ck_assert_mem_eq(id.data, kid, sizeof(kid));
	gnutls_free(id.data);
	/* and the signature is that key's */
	ck_assert_int_eq(gnutls_x509_crt_init(&ca), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_DER), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_verify_direct(E.or, ca, &verify, 0), 0);
	ck_assert_uint_eq(verify, 0);
	gnutls_x509_crt_deinit(ca);
	return delegated;
}

/* A delegated responder that would not outlive what it signs is left
 * alone: the issuing CA signs instead. */
static void setup_short_responder(void)
{
	env_up(1);   /* ocsp.pem valid for a day */
}

START_TEST(expiring_responder_replaced_by_ca)
{
	time_t nu = 0;

	add_cert(1, GBA_CERT_VALID, E.born + 5 * 86400);
	service_up();
	ck_assert_int_eq(ask(1, SHA1_NULL, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(signed_by_responder(), 1);
	/* half an hour before ocsp.pem expires (the lifetime is an hour) */
	E.now = E.born + 86400 - 1800;
	naf_status_pass(E.s, E.st);
	ck_assert_int_eq(ask(1, SHA1_NULL, 1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(signed_by_responder(), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(E.or, 0, NULL, NULL, NULL, NULL, NULL, NULL,
	                                             &nu, NULL, NULL), 0);
	ck_assert_int_eq((int64_t)nu, E.now + 3600);
	ck_assert_int_eq(ask(1, SHA1_NULL, 0), GNUTLS_OCSP_CERT_GOOD);   /* pre-signed */
	ck_assert_uint_eq(stats().ocsp_hits, 1);
	ck_assert_int_eq(signed_by_responder(), 0);
}
END_TEST

/* Constant SQL on the database through a connection of its own. */
static void raw_exec(const char *sql)
{
	sqlite3 *h = NULL;
	char *err = NULL;
	int rc;

	ck_assert_int_eq(sqlite3_open_v2(E.db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err != NULL ? err : "?");
	sqlite3_free(err);
	sqlite3_close(h);
}

/* A CRL that cannot be rebuilt: the last one is served until its
 * nextUpdate, and the build is tried again only after a back-off. */
START_TEST(crl_build_failure_serves_last_until_next_update)
{
	char etag[64];

	add_cert(1, GBA_CERT_VALID, E.born + 5 * 86400);
	add_cert(2, GBA_CERT_VALID, E.born + 5 * 86400);
	service_up();
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 200);
	ck_assert_ptr_nonnull(header("etag"));
	snprintf(etag, sizeof(etag), "%s", header("etag"));
	ck_assert_uint_eq(stats().crl_builds, 1);
	/* the store loses its CRL table; then a revocation */
	raw_exec("DROP TABLE crls");
	revoke_cert(1);
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 200);
	ck_assert_str_eq(header("etag"), etag);
	ck_assert_uint_eq(stats().crl_failures, 1);
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 200);
	naf_status_pass(E.s, E.st);
	ck_assert_uint_eq(stats().crl_failures, 1);   /* backing off */
	E.now += 6;
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 200);
	ck_assert_uint_eq(stats().crl_failures, 2);
	ck_assert_str_eq(header("etag"), etag);
	/* past its nextUpdate the old CRL is no answer */
	E.now = E.born + 86400 + 1;
	ck_assert_int_eq(http("GET", "/crl/" CA_NAME ".crl", NULL, 0), 503);
	ck_assert_str_eq(header("retry-after"), "5");
}
END_TEST

/* The pass reads the certificates a page at a time (ties in not_after
 * across pages included) and signs each with the time of its own
 * signature. */
START_TEST(presign_pages_with_own_times)
{
	struct naf_status_stats st;
	time_t t1 = 0, t2 = 0;

	add_bulk(0, 600, GBA_CERT_VALID);   /* one not_after for all */
	service_up();
	E.tick = 1;
	naf_status_pass(E.s, E.st);
	E.tick = 0;
	st = stats();
	ck_assert_uint_eq(st.ocsp_presigned, 600);
	ck_assert_uint_eq(st.ocsp_cached, 600);
	ck_assert_int_eq(ask_bulk(0, &t1), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_int_eq(ask_bulk(599, &t2), GNUTLS_OCSP_CERT_GOOD);
	ck_assert_uint_eq(stats().ocsp_hits, 2);
	ck_assert_int_gt((int64_t)t2, (int64_t)t1 + 500);
}
END_TEST

/* naf_status_stop ends a pass after the signature under way. */
START_TEST(stop_ends_a_pass)
{
	struct naf_status_stats st;

	add_bulk(0, 600, GBA_CERT_VALID);
	service_up();
	E.stop_at = E.calls + 50;
	naf_status_pass(E.s, E.st);
	st = stats();
	ck_assert_uint_gt(st.ocsp_presigned, 0);
	ck_assert_uint_lt(st.ocsp_presigned, 60);
	naf_status_pass(E.s, E.st);   /* stopped: nothing more */
	ck_assert_uint_eq(stats().ocsp_presigned, st.ocsp_presigned);
	/* requests are still answered */
	ck_assert_int_eq(ask_bulk(599, NULL), GNUTLS_OCSP_CERT_GOOD);
}
END_TEST

/* What is not a request gets malformedRequest, not an HTTP error. */
START_TEST(get_without_request)
{
	gnutls_datum_t d;

	service_up();
	ck_assert_int_eq(http("GET", "/ocsp/", NULL, 0), 200);
	ck_assert_str_eq(header("content-type"), "application/ocsp-response");
	ck_assert_int_eq(gnutls_ocsp_resp_init(&E.or), 0);
	E.have_or = 1;
	d.data = E.resp.body;
	d.size = (unsigned)E.resp.body_len;
	ck_assert_int_eq(gnutls_ocsp_resp_import(E.or, &d), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_status(E.or), 1);   /* malformedRequest */
	ck_assert_int_eq(http("GET", "/ocsp", NULL, 0), 405);      /* GET wants a request */
	ck_assert_int_eq(http("PUT", "/ocsp/", NULL, 0), 405);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("naf_status");
	TCase *tc = tcase_create("ocsp");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, statuses_from_store_and_cache);
	tcase_add_test(tc, cache_caps_other_forms_and_sweeps);
	tcase_add_test(tc, live_signatures_are_capped);
	tcase_add_test(tc, unknown_is_cached_briefly);
	tcase_add_test(tc, long_serials);
	tcase_add_test(tc, http_cache_lifetime_capped);
	tcase_add_test(tc, change_log_read_sparingly);
	tcase_add_test(tc, crl_build_failure_serves_last_until_next_update);
	tcase_add_test(tc, presign_pages_with_own_times);
	tcase_add_test(tc, stop_ends_a_pass);
	tcase_add_test(tc, get_without_request);
	suite_add_tcase(s, tc);
	tc = tcase_create("responder");
	tcase_add_checked_fixture(tc, setup_short_responder, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, expiring_responder_replaced_by_ca);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(suite());
}
