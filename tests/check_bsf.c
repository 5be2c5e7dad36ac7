/*
 * check_bsf.c - the BSF handlers (bsf/) driven with synthetic requests,
 * against the real SQLite store and HSS emulator in a temporary
 * directory.  The test plays the UE with the TS 35.208 set 1 subscriber:
 * it checks AUTN with Milenage, answers with RES as the Digest password,
 * verifies rspauth and derives Ks_NAF itself.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "bsf.h"
#include "gba_audit.h"
#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_http_auth.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "gba_zn.h"
#include "testutil.h"

#define IMPI    "001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
#define BSF     "bsf.mnc001.mcc001.pub.3gppnetwork.org"
#define NAF     "naf.example.org"
#define T0      INT64_C(1800000000)

static const char guss[] =
	"{\"bsfInfo\":{\"lifeTime\":3600},\"ussList\":["
	"{\"gsId\":1,\"gsType\":1,\"ueIds\":[\"sip:alice@example.org\"],\"flags\":[1]},"
	"{\"gsId\":4,\"gsType\":4,\"ueIds\":[\"sip:alice@example.org\"]},"
	"{\"gsId\":7,\"gsType\":2,\"ueIds\":[\"sip:alice@example.org\"]}]}";

static const uint32_t naf_gsids[] = { 1, 4 };
static const struct bsf_naf_allow allow[] = {
	{ NAF, naf_gsids, 2 },
	{ "open.example.org", NULL, 0 },
};
static const struct bsf_conf conf = {
	BSF, 7200, 30, allow, 2, 1, NULL
};

/* ---- fixture ---- */

static char dir[] = "/tmp/check_bsf.XXXXXX";
static char db[64], keyf[64];
static struct gba_store *st;
static struct gba_hss *hss;
static struct bsf *b;
static int64_t now_v;
static int events;
static char ev_btid[GBA_MAX_BTID_LEN + 1];
static int64_t ev_expires;

static int64_t test_now(void *arg)
{
	(void)arg;
	return now_v;
}

static void on_event(void *arg, const struct bsf_bootstrap_event *ev)
{
	struct gba_bootstrap bs;

	ck_assert_ptr_eq(arg, &events);
	ck_assert_str_eq(ev->impi, IMPI);
	/* durably stored before the event */
	ck_assert_int_eq(gba_store_bootstrap_get(st, ev->btid, now_v, &bs), 0);
	gba_bootstrap_clear(&bs);
	ck_assert_ptr_nonnull(strstr(ev->guss_json, "lifeTime"));
	snprintf(ev_btid, sizeof(ev_btid), "%s", ev->btid);
	ev_expires = ev->expires;
	events++;
}

static void add_sub(const char *impi, const char *g)
{
	struct gba_subscriber s;
	uint8_t k[16], opc[16];

	memset(&s, 0, sizeof(s));
	snprintf(s.impi, sizeof(s.impi), "%s", impi);
	th_unhex("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
	th_unhex("cd63cb71954a9f4e48a5994e37a02baf", opc, 16);
	ck_assert_int_eq(gba_secret_set(&s.k, k, 16), 0);
	ck_assert_int_eq(gba_secret_set(&s.opc, opc, 16), 0);
	s.amf[0] = 0xb9;
	s.amf[1] = 0xb9;
	s.guss_json = (char *)(uintptr_t)g;
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);
	gba_secret_clear(&s.k);
	gba_secret_clear(&s.opc);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/bsf.db", dir);
	snprintf(keyf, sizeof(keyf), "%s/store.key", dir);
	ck_assert_int_eq(gba_store_open(&st, db, keyf), 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&hss, db, keyf), 0);
	add_sub(IMPI, guss);
	ck_assert_int_eq(bsf_new(&b, &conf, hss, st), 0);
	now_v = T0;
	bsf_set_clock(b, test_now, NULL);
	ck_assert_int_eq(bsf_subscribe(b, on_event, &events), 0);
	events = 0;
}

static void teardown(void)
{
	char cmd[128];

	bsf_free(b);
	hss->ops->close(hss);
	gba_store_close(st);
	snprintf(cmd, sizeof(cmd), "%s/bsf.db", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bsf.db-wal", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bsf.db-shm", dir);
	unlink(cmd);
	unlink(keyf);
	snprintf(cmd, sizeof(cmd), "%s/audit.jsonl", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/audit.jsonl.anchor", dir);
	unlink(cmd);
	rmdir(dir);
}

/* ---- requests ---- */

static struct gba_http_response *call(gba_http_handler_fn fn, const char *method,
                                      const char *path, const char *hname, const char *hval,
                                      const uint8_t *cert, size_t certlen,
                                      const void *body, size_t blen)
{
	struct gba_http_header h[2];
	struct gba_http_request req;
	struct gba_http_response *resp = NULL;

	memset(&req, 0, sizeof(req));
	req.method = gba_str_c(method);
	req.path = gba_str_c(path);
	req.authority = gba_str_c(BSF);
	req.peer = "192.0.2.1:4242";
	req.nheaders = 0;
	if (hname != NULL) {
		h[0].name = gba_str_c(hname);
		h[0].value = gba_str_c(hval);
		req.nheaders = 1;
	}
	req.headers = h;
	req.client_cert = cert;
	req.client_cert_len = certlen;
	req.body = body;
	req.body_len = blen;
	ck_assert_int_eq(gba_http_response_new(&resp), 0);
	fn(b, &req, resp);
	return resp;
}

static struct gba_http_response *ub(const char *authz)
{
	return call(bsf_ub_handle, "GET", "/", authz != NULL ? "authorization" : NULL, authz,
	            NULL, 0, NULL, 0);
}

static int status_of(struct gba_http_response *r)
{
	int s = gba_http_response_get_status(r);

	gba_http_response_free(r);
	return s;
}

/* ---- the UE ---- */

struct ue {
	const char *impi;
	uint8_t k[16], opc[16];
	uint8_t sqn_ms[6];        /* highest SQN accepted */
	char nonce[64];
	uint8_t rand[16], autn[16], res[8], ck[16], ik[16];
	int autn_ok;              /* MAC-A verified */
	int sqn_fresh;
};

static void ue_init(struct ue *u, const char *impi)
{
	memset(u, 0, sizeof(*u));
	u->impi = impi;
	th_unhex("465b5ce8b199b49faa5f0a2ee238a6bc", u->k, 16);
	th_unhex("cd63cb71954a9f4e48a5994e37a02baf", u->opc, 16);
}

static struct gba_auth pa;

static void header_field(const struct gba_str *hv, enum gba_auth_kind kind)
{
	ck_assert_ptr_nonnull(hv);
	ck_assert_int_eq(gba_auth_parse(&pa, kind, hv->p, hv->len, NULL), 0);
}

/* Take the 401's challenge and run AKA on it. */
static void ue_take_challenge(struct ue *u, struct gba_http_response *r)
{
	uint8_t raw[32], sqn[6];
	struct gba_str n;

	ck_assert_int_eq(gba_http_response_get_status(r), 401);
	header_field(gba_http_response_get_header(r, "WWW-Authenticate"), GBA_AUTH_CHALLENGE);
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_REALM), GBA_STR_LIT(BSF)));
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_ALGORITHM), GBA_STR_LIT("AKAv1-MD5")));
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_QOP), GBA_STR_LIT("auth-int")));
	n = gba_auth_get(&pa, GBA_AUTH_NONCE);
	ck_assert_uint_eq(n.len, 44);
	memcpy(u->nonce, n.p, n.len);
	u->nonce[n.len] = '\0';
	ck_assert_int_eq(gba_base64_decode(n.p, n.len, raw, sizeof(raw)), 32);
	memcpy(u->rand, raw, 16);
	memcpy(u->autn, raw + 16, 16);
	u->autn_ok = gba_milenage_check_autn(u->k, u->opc, u->rand, u->autn, sqn, u->res,
	                                     u->ck, u->ik) == 0;
	u->sqn_fresh = u->autn_ok && memcmp(sqn, u->sqn_ms, 6) > 0;
	if (u->sqn_fresh)
		memcpy(u->sqn_ms, sqn, 6);
	gba_http_response_free(r);
}

/* Build the answer; fields can be overridden for negative tests. */
struct answer {
	const char *realm, *uri, *qop, *algorithm, *nonce;
	const uint8_t *pw;
	size_t pwlen;
	const uint8_t *auts;
};

static void ue_answer(struct ue *u, const struct answer *o, char *out, size_t outsz)
{
	struct gba_digest_input in;
	struct gba_auth_builder bld;
	char resp[33], auts64[32];
	const char *realm = o && o->realm ? o->realm : BSF;
	const char *uri = o && o->uri ? o->uri : "/";
	const char *nonce = o && o->nonce ? o->nonce : u->nonce;

	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(u->impi);
	in.realm = gba_str_c(realm);
	in.nonce = gba_str_c(nonce);
	in.nc = GBA_STR_LIT("00000001");
	in.cnonce = GBA_STR_LIT("0a4f113b");
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("GET");
	in.uri = gba_str_c(uri);
	in.password = u->res;
	in.password_len = sizeof(u->res);
	if (o && o->pw) {
		in.password = o->pw;
		in.password_len = o->pwlen;
	} else if (o && o->auts) {
		in.password = NULL;   /* resync: empty password */
		in.password_len = 0;
	}
	ck_assert_int_eq(gba_digest_response(&in, resp), 0);
	gba_auth_builder_init(&bld, out, outsz, "Digest");
	gba_auth_add_quoted(&bld, "username", gba_str_c(u->impi));
	gba_auth_add_quoted(&bld, "realm", gba_str_c(realm));
	gba_auth_add_quoted(&bld, "nonce", gba_str_c(nonce));
	gba_auth_add_quoted(&bld, "uri", gba_str_c(uri));
	gba_auth_add_token(&bld, "qop", gba_str_c(o && o->qop ? o->qop : "auth-int"));
	gba_auth_add_token(&bld, "nc", GBA_STR_LIT("00000001"));
	gba_auth_add_quoted(&bld, "cnonce", GBA_STR_LIT("0a4f113b"));
	gba_auth_add_quoted(&bld, "response", gba_str_c(resp));
	gba_auth_add_token(&bld, "algorithm",
	                   gba_str_c(o && o->algorithm ? o->algorithm : "AKAv1-MD5"));
	if (o && o->auts) {
		ck_assert_int_eq(gba_base64_encode(o->auts, 14, auts64, sizeof(auts64)), 20);
		gba_auth_add_quoted(&bld, "auts", gba_str_c(auts64));
	}
	ck_assert_int_gt(gba_auth_builder_finish(&bld), 0);
}

static char authz[1024];

static void ue_initial(struct ue *u)
{
	snprintf(authz, sizeof(authz),
	         "Digest username=\"%s\", realm=\"%s\", nonce=\"\", uri=\"/\", response=\"\"",
	         u->impi, BSF);
	ue_take_challenge(u, ub(authz));
}

/* Check a 200 as the UE does; returns the B-TID in btid. */
static void ue_check_200(struct ue *u, struct gba_http_response *r, char *btid, size_t sz)
{
	struct gba_digest_input in;
	struct gba_str body, v;
	const struct gba_str *ct;
	const char *p, *q;
	char life[GBA_TIME_RFC3339_LEN + 1];
	char xml[1024];

	ck_assert_int_eq(gba_http_response_get_status(r), 200);
	ct = gba_http_response_get_header(r, "Content-Type");
	ck_assert_ptr_nonnull(ct);
	ck_assert(gba_str_eq(*ct, GBA_STR_LIT("application/vnd.3gpp.bsf+xml")));
	body = gba_http_response_get_body(r);
	ck_assert_uint_lt(body.len, sizeof(xml));
	memcpy(xml, body.p, body.len);
	xml[body.len] = '\0';
	ck_assert_ptr_eq(strstr(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	                             "<BootstrappingInfo xmlns=\"uri:3gpp-gba\"><btid>"), xml);
	p = strstr(xml, "<btid>") + 6;
	q = strstr(p, "</btid>");
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_lt((size_t)(q - p), sz);
	memcpy(btid, p, (size_t)(q - p));
	btid[q - p] = '\0';
	ck_assert_int_eq(gba_time_rfc3339(now_v + 3600, life), 0);   /* GUSS lifeTime */
	p = strstr(xml, "<lifetime>");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strncmp(p + 10, life, 20), 0);
	ck_assert_str_eq(p + 30, "</lifetime></BootstrappingInfo>");

	/* Authentication-Info: rspauth over the body, with RES */
	header_field(gba_http_response_get_header(r, "Authentication-Info"), GBA_AUTH_INFO);
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_QOP), GBA_STR_LIT("auth-int")));
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_CNONCE), GBA_STR_LIT("0a4f113b")));
	ck_assert(gba_str_eq(gba_auth_get(&pa, GBA_AUTH_NC), GBA_STR_LIT("00000001")));
	v = gba_auth_get(&pa, GBA_AUTH_RSPAUTH);
	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(u->impi);
	in.realm = GBA_STR_LIT(BSF);
	in.nonce = gba_str_c(u->nonce);
	in.nc = GBA_STR_LIT("00000001");
	in.cnonce = GBA_STR_LIT("0a4f113b");
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("");
	in.uri = GBA_STR_LIT("/");
	in.password = u->res;
	in.password_len = sizeof(u->res);
	in.body = (const uint8_t *)body.p;
	in.body_len = body.len;
	ck_assert_int_eq(gba_digest_verify(&in, v), 0);
	ck_assert_ptr_nonnull(gba_http_response_get_header(r, "Expires"));
	gba_http_response_free(r);
}

/* A full bootstrap; returns the B-TID. */
static void bootstrap(struct ue *u, char *btid, size_t sz)
{
	ue_initial(u);
	ck_assert(u->autn_ok && u->sqn_fresh);
	ue_answer(u, NULL, authz, sizeof(authz));
	ue_check_200(u, ub(authz), btid, sz);
}

/* ---- Zn helpers ---- */

static gnutls_datum_t make_cert(const char *dns)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	                                               NAF, sizeof(NAF) - 1), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns,
	                 (unsigned)strlen(dns), GNUTLS_FSAN_SET), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return der;
}

static struct gba_http_response *zn_raw(const gnutls_datum_t *cert, const char *body)
{
	return call(bsf_zn_handle, "POST", BSF_ZN_PATH, "content-type", "application/json",
	            cert != NULL ? cert->data : NULL, cert != NULL ? cert->size : 0, body,
	            strlen(body));
}

static struct gba_http_response *zn(const gnutls_datum_t *cert, const char *btid,
                                    const char *fqdn, const char *extra)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"btId\":\"%s\",\"nafId\":{\"nafFqdn\":\"%s\","
	         "\"uaSecProtId\":\"0100000000\"}%s}", btid, fqdn, extra);
	return zn_raw(cert, body);
}

/* Status, and for errors a ProblemDetails with that status. */
static int zn_status(struct gba_http_response *r)
{
	int s = gba_http_response_get_status(r);
	const struct gba_str *ct = gba_http_response_get_header(r, "Content-Type");
	struct gba_str body = gba_http_response_get_body(r);
	char want[32];

	ck_assert_ptr_nonnull(ct);
	if (s != 200) {
		ck_assert(gba_str_eq(*ct, GBA_STR_LIT("application/problem+json")));
		snprintf(want, sizeof(want), "{\"status\":%d,", s);
		ck_assert_uint_gt(body.len, strlen(want));
		ck_assert_int_eq(memcmp(body.p, want, strlen(want)), 0);
	}
	gba_http_response_free(r);
	return s;
}

/* ---- Ub tests ---- */

START_TEST(bootstraps_and_fires_one_event)
{
	struct ue u;
	char btid[GBA_MAX_BTID_LEN + 1], want[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	/* B-TID = base64(RAND)@BSF FQDN */
	ck_assert_int_gt(gba_btid(u.rand, BSF, strlen(BSF), want, sizeof(want)), 0);
	ck_assert_str_eq(btid, want);
	ck_assert_uint_eq(strlen(btid), 24 + 1 + strlen(BSF));
	ck_assert_int_eq(events, 1);
	ck_assert_str_eq(ev_btid, btid);
	ck_assert_int_eq(ev_expires, T0 + 3600);
}
END_TEST

START_TEST(new_bootstrap_replaces_old_context)
{
	struct ue u;
	char b1[GBA_MAX_BTID_LEN + 1], b2[GBA_MAX_BTID_LEN + 1];
	struct gba_bootstrap bs;

	ue_init(&u, IMPI);
	bootstrap(&u, b1, sizeof(b1));
	bootstrap(&u, b2, sizeof(b2));
	ck_assert_str_ne(b1, b2);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b1, now_v, &bs), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b2, now_v, &bs), 0);
	gba_bootstrap_clear(&bs);
	ck_assert_int_eq(events, 2);
}
END_TEST

START_TEST(wrong_res_is_forbidden_and_burns_the_nonce)
{
	struct ue u;
	struct answer o;
	uint8_t bad[8];

	ue_init(&u, IMPI);
	ue_initial(&u);
	memcpy(bad, u.res, 8);
	bad[7] ^= 1;
	memset(&o, 0, sizeof(o));
	o.pw = bad;
	o.pwlen = 8;
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	/* the right RES on the same nonce is now too late */
	ue_answer(&u, NULL, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(events, 0);
}
END_TEST

START_TEST(replayed_answer_is_forbidden)
{
	struct ue u;
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ck_assert_int_eq(status_of(ub(authz)), 403);   /* same Authorization again */
	ck_assert_int_eq(events, 1);
}
END_TEST

START_TEST(expired_nonce_is_forbidden)
{
	struct ue u;

	ue_init(&u, IMPI);
	ue_initial(&u);
	ue_answer(&u, NULL, authz, sizeof(authz));
	now_v += 30;   /* challenge_lifetime_s: valid while now < expires */
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(events, 0);
}
END_TEST

START_TEST(unknown_nonce_is_forbidden)
{
	struct ue u;
	struct answer o;

	ue_init(&u, IMPI);
	ue_initial(&u);
	memset(&o, 0, sizeof(o));
	o.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	o.nonce = "short";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	/* the real nonce is still usable */
	ue_answer(&u, NULL, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 200);
}
END_TEST

START_TEST(unknown_impi_looks_the_same_then_fails)
{
	struct ue known, ghost;
	struct gba_http_response *r1, *r2;
	const struct gba_str *h1, *h2;
	size_t i1, i2;

	ue_init(&known, IMPI);
	ue_init(&ghost, "999990000000000@ims.mnc999.mcc999.3gppnetwork.org");
	snprintf(authz, sizeof(authz), "Digest username=\"%s\", realm=\"%s\", nonce=\"\", "
	         "uri=\"/\", response=\"\"", known.impi, BSF);
	r1 = ub(authz);
	snprintf(authz, sizeof(authz), "Digest username=\"%s\", realm=\"%s\", nonce=\"\", "
	         "uri=\"/\", response=\"\"", ghost.impi, BSF);
	r2 = ub(authz);
	ck_assert_int_eq(gba_http_response_get_status(r1), 401);
	ck_assert_int_eq(gba_http_response_get_status(r2), 401);
	h1 = gba_http_response_get_header(r1, "WWW-Authenticate");
	h2 = gba_http_response_get_header(r2, "WWW-Authenticate");
	ck_assert_ptr_nonnull(h1);
	ck_assert_ptr_nonnull(h2);
	/* same length, same text outside the nonce */
	ck_assert_uint_eq(h1->len, h2->len);
	i1 = (size_t)(strstr(h1->p, "nonce=\"") - h1->p) + 7;
	i2 = (size_t)(strstr(h2->p, "nonce=\"") - h2->p) + 7;
	ck_assert_uint_eq(i1, i2);
	ck_assert_int_eq(memcmp(h1->p, h2->p, i1), 0);
	ck_assert_int_eq(memcmp(h1->p + i1 + 44, h2->p + i2 + 44, h1->len - i1 - 44), 0);
	ck_assert_uint_eq(gba_http_response_get_body(r1).len, gba_http_response_get_body(r2).len);
	gba_http_response_free(r1);

	ue_take_challenge(&ghost, r2);   /* AUTN is noise to this UE */
	ck_assert(!ghost.autn_ok);
	ue_answer(&ghost, NULL, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(events, 0);
}
END_TEST

START_TEST(network_auth_failure_is_forbidden)
{
	struct ue u;
	struct answer o;
	static const uint8_t empty[1] = { 0 };

	ue_init(&u, IMPI);
	ue_initial(&u);
	memset(&o, 0, sizeof(o));
	o.pw = empty;
	o.pwlen = 0;   /* UE: MAC-A wrong, empty password, no auts (24.109 4.4) */
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(events, 0);
}
END_TEST

START_TEST(resynchronises_on_auts)
{
	struct ue u;
	struct answer o;
	uint8_t auts[14];
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	/* The USIM has seen far more than the HSS handed out. */
	th_unhex("000000010020", u.sqn_ms, 6);
	ue_initial(&u);
	ck_assert(u.autn_ok);
	ck_assert(!u.sqn_fresh);
	ck_assert_int_eq(gba_milenage_auts(u.k, u.opc, u.rand, u.sqn_ms, auts), 0);
	memset(&o, 0, sizeof(o));
	o.auts = auts;
	ue_answer(&u, &o, authz, sizeof(authz));
	ue_take_challenge(&u, ub(authz));     /* a fresh 401 */
	ck_assert(u.autn_ok && u.sqn_fresh);  /* the new SQN is above SQN_MS */
	ue_answer(&u, NULL, authz, sizeof(authz));
	ue_check_200(&u, ub(authz), btid, sizeof(btid));
	ck_assert_int_eq(events, 1);
}
END_TEST

START_TEST(resync_with_bad_mac_s_is_forbidden)
{
	struct ue u;
	struct answer o;
	uint8_t auts[14];

	ue_init(&u, IMPI);
	th_unhex("000000010020", u.sqn_ms, 6);
	ue_initial(&u);
	ck_assert_int_eq(gba_milenage_auts(u.k, u.opc, u.rand, u.sqn_ms, auts), 0);
	auts[13] ^= 0x80;
	memset(&o, 0, sizeof(o));
	o.auts = auts;
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);

	/* auts with a response over RES instead of the empty password */
	ue_initial(&u);
	ck_assert_int_eq(gba_milenage_auts(u.k, u.opc, u.rand, u.sqn_ms, auts), 0);
	o.pw = u.res;
	o.pwlen = 8;
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(events, 0);
}
END_TEST

START_TEST(mismatched_parameters_are_bad_requests)
{
	struct ue u;
	struct answer o;

	ue_init(&u, IMPI);
	ue_initial(&u);
	memset(&o, 0, sizeof(o));
	o.realm = "bsf.example.net";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 400);
	memset(&o, 0, sizeof(o));
	o.uri = "/other";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 400);
	memset(&o, 0, sizeof(o));
	o.qop = "auth";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 400);
	memset(&o, 0, sizeof(o));
	o.algorithm = "MD5";
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 400);
	/* none of these used the nonce up */
	ue_answer(&u, NULL, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 200);
	ck_assert_int_eq(events, 1);
}
END_TEST

START_TEST(malformed_requests_are_rejected)
{
	char big[GBA_MAX_AUTH_HEADER_LEN + 64];
	struct gba_http_response *r;

	ck_assert_int_eq(status_of(ub(NULL)), 400);
	ck_assert_int_eq(status_of(ub("Basic dXNlcjpwYXNz")), 400);
	ck_assert_int_eq(status_of(ub("Digest username=\"unterminated")), 400);
	ck_assert_int_eq(status_of(ub("Digest realm=\"" BSF "\", nonce=\"\"")), 400);
	ck_assert_int_eq(status_of(ub("Digest username=\"a b\", nonce=\"\"")), 400);
	ck_assert_int_eq(status_of(ub("Digest username=\"" IMPI "\", nonce=\"\", "
	                              "response=\"0123456789abcdef0123456789abcdef\"")), 400);
	ck_assert_int_eq(status_of(ub("Digest username=\"" IMPI "\", nonce=\"abc\", uri=\"/\"")),
	                 400);
	memset(big, 'a', sizeof(big));
	memcpy(big, "Digest username=\"", 17);
	memcpy(big + sizeof(big) - 16, "\", nonce=\"\"", 12);
	ck_assert_int_eq(status_of(ub(big)), 400);
	r = call(bsf_ub_handle, "POST", "/", "authorization", "Digest username=\"x\"", NULL, 0,
	         NULL, 0);
	ck_assert_int_eq(gba_http_response_get_status(r), 405);
	ck_assert_ptr_nonnull(gba_http_response_get_header(r, "Allow"));
	gba_http_response_free(r);
	ck_assert_int_eq(status_of(call(bsf_ub_handle, "GET", "/x", NULL, NULL, NULL, 0, NULL,
	                                0)), 404);
	ck_assert_int_eq(events, 0);
}
END_TEST

/* ---- Zn tests ---- */

START_TEST(zn_returns_the_ues_ks_naf)
{
	struct ue u;
	struct gba_zn_result res;
	struct gba_http_response *r;
	struct gba_str body;
	gnutls_datum_t cert = make_cert(NAF);
	uint8_t ks[32], ks_naf[32];
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	r = zn(&cert, btid, NAF, ",\"gsIds\":[4]");
	ck_assert_int_eq(gba_http_response_get_status(r), 200);
	ck_assert(gba_str_eq(*gba_http_response_get_header(r, "Content-Type"),
	                     GBA_STR_LIT("application/json")));
	body = gba_http_response_get_body(r);
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)body.p, body.len, &res), 0);
	gba_http_response_free(r);

	gba_ks_from_ck_ik(u.ck, u.ik, ks);
	ck_assert_int_eq(gba_ks_naf(ks, u.rand, IMPI, strlen(IMPI), NAF, strlen(NAF),
	                            gba_ua_id_pki_portal, ks_naf), 0);
	ck_assert_mem_eq(res.me_key, ks_naf, 32);
	ck_assert_int_eq(res.created, T0);
	ck_assert_int_eq(res.key_expiry, T0 + 3600);
	ck_assert_str_eq(res.impi, IMPI);
	ck_assert_uint_eq(res.nuss, 1);
	ck_assert_uint_eq(res.uss_gsids[0], 4);
	gba_zn_result_clear(&res);

	/* without gsIds: the NAF's allowed GSIDs (1 and 4), not 7 */
	r = zn(&cert, btid, NAF, "");
	body = gba_http_response_get_body(r);
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)body.p, body.len, &res), 0);
	ck_assert_uint_eq(res.nuss, 2);
	ck_assert_uint_eq(res.uss_gsids[0], 1);
	ck_assert_uint_eq(res.uss_gsids[1], 4);
	gba_zn_result_clear(&res);
	gba_http_response_free(r);
	gnutls_free(cert.data);
}
END_TEST

START_TEST(zn_unrestricted_naf_gets_every_uss)
{
	struct ue u;
	struct gba_zn_result res;
	struct gba_http_response *r;
	struct gba_str body;
	gnutls_datum_t cert = make_cert("Open.Example.ORG");
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	r = zn(&cert, btid, "open.example.org", "");
	ck_assert_int_eq(gba_http_response_get_status(r), 200);
	body = gba_http_response_get_body(r);
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)body.p, body.len, &res), 0);
	ck_assert_uint_eq(res.nuss, 3);
	gba_zn_result_clear(&res);
	gba_http_response_free(r);
	gnutls_free(cert.data);
}
END_TEST

START_TEST(zn_refuses_unauthorised_nafs)
{
	struct ue u;
	gnutls_datum_t cert = make_cert(NAF), other = make_cert("evil.example.org");
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ck_assert_int_eq(zn_status(zn(NULL, btid, NAF, "")), 403);
	ck_assert_int_eq(zn_status(zn(&other, btid, NAF, "")), 403);
	ck_assert_int_eq(zn_status(zn(&other, btid, "evil.example.org", "")), 403);
	ck_assert_int_eq(zn_status(zn(&cert, btid, NAF, ",\"gsIds\":[1,7]")), 403);
	ck_assert_int_eq(zn_status(zn(&cert, btid, NAF, ",\"gsIds\":[1]")), 200);
	gnutls_free(cert.data);
	gnutls_free(other.data);
}
END_TEST

START_TEST(zn_unknown_or_expired_btid_is_not_found)
{
	struct ue u;
	gnutls_datum_t cert = make_cert(NAF);
	char btid[GBA_MAX_BTID_LEN + 1];

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ck_assert_int_eq(zn_status(zn(&cert, "AAAAAAAAAAAAAAAAAAAAAA==@" BSF, NAF, "")), 404);
	now_v = T0 + 3599;
	ck_assert_int_eq(zn_status(zn(&cert, btid, NAF, "")), 200);
	now_v = T0 + 3600;
	ck_assert_int_eq(zn_status(zn(&cert, btid, NAF, "")), 404);
	gnutls_free(cert.data);
}
END_TEST

START_TEST(zn_rejects_bad_bodies)
{
	struct ue u;
	gnutls_datum_t cert = make_cert(NAF);
	char btid[GBA_MAX_BTID_LEN + 1], body[1024], big[GBA_ZN_MAX_BODY + 2];
	struct gba_http_response *r;

	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ck_assert_int_eq(zn_status(zn_raw(&cert, "{")), 400);
	ck_assert_int_eq(zn_status(zn_raw(&cert, "not json")), 400);
	snprintf(body, sizeof(body), "{\"btId\":\"%s\",\"btId\":\"%s\",\"nafId\":{\"nafFqdn\":"
	         "\"" NAF "\",\"uaSecProtId\":\"0100000000\"}}", btid, btid);
	ck_assert_int_eq(zn_status(zn_raw(&cert, body)), 400);
	snprintf(body, sizeof(body), "{\"btId\":\"%s\",\"nafId\":{\"nafFqdn\":"
	         "\"" NAF "\",\"uaSecProtId\":\"01000000\"}}", btid);
	ck_assert_int_eq(zn_status(zn_raw(&cert, body)), 400);
	snprintf(body, sizeof(body), "{\"btId\":\"%s\",\"nafId\":{\"nafFqdn\":"
	         "\"" NAF "\",\"uaSecProtId\":\"0100000000\"}} trailing", btid);
	ck_assert_int_eq(zn_status(zn_raw(&cert, body)), 400);
	ck_assert_int_eq(zn_status(zn_raw(&cert, "{\"nafId\":{}}")), 400);
	memset(big, ' ', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(zn_status(zn_raw(&cert, big)), 413);
	r = call(bsf_zn_handle, "POST", BSF_ZN_PATH, "content-type", "text/plain", cert.data,
	         cert.size, "{}", 2);
	ck_assert_int_eq(zn_status(r), 415);
	r = call(bsf_zn_handle, "GET", BSF_ZN_PATH, NULL, NULL, cert.data, cert.size, NULL, 0);
	ck_assert_int_eq(zn_status(r), 405);
	r = call(bsf_zn_handle, "POST", "/nbsp-gba/v1/other", NULL, NULL, cert.data, cert.size,
	         NULL, 0);
	ck_assert_int_eq(zn_status(r), 404);
	gnutls_free(cert.data);
}
END_TEST

START_TEST(x509_dns_name_matching)
{
	gnutls_datum_t cert = make_cert(NAF);

	ck_assert_int_eq(gba_x509_cert_has_dns_name(cert.data, cert.size, NAF), 1);
	ck_assert_int_eq(gba_x509_cert_has_dns_name(cert.data, cert.size, "NAF.example.org"), 1);
	ck_assert_int_eq(gba_x509_cert_has_dns_name(cert.data, cert.size, "naf.example.or"), 0);
	ck_assert_int_eq(gba_x509_cert_has_dns_name(cert.data, cert.size, "x.naf.example.org"),
	                 0);
	ck_assert_int_eq(gba_x509_cert_has_dns_name((const uint8_t *)"junk", 4, NAF),
	                 GBA_ESYNTAX);
	gnutls_free(cert.data);
}
END_TEST

/* ---- audit ---- */

static struct bsf_conf aconf;

/* Replace the fixture's context by one that writes to audit a. */
static void use_audit(struct gba_audit *a)
{
	aconf = conf;
	aconf.audit = a;
	bsf_free(b);
	ck_assert_int_eq(bsf_new(&b, &aconf, hss, st), 0);
	bsf_set_clock(b, test_now, NULL);
	ck_assert_int_eq(bsf_subscribe(b, on_event, &events), 0);
}

START_TEST(audit_records_each_decision)
{
	struct gba_audit *a;
	struct ue u;
	struct answer o;
	gnutls_datum_t cert = make_cert(NAF), other = make_cert("evil.example.org");
	char path[128], line[GBA_AUDIT_LINE_MAX], prev[65], hash[65];
	char btid[GBA_MAX_BTID_LEN + 1];
	const char *want[] = {
		"\"event\":\"bootstrap\",\"outcome\":\"ok\",\"peer\":\"192.0.2.1:4242\",\"impi\":\"sha256:",
		"\"event\":\"bootstrap\",\"outcome\":\"denied\",\"reason\":\"wrong-res\"",
		"\"event\":\"bootstrap\",\"outcome\":\"denied\",\"reason\":\"nonce-unknown\"",
		("\"event\":\"zn_key\",\"outcome\":\"ok\",\"peer\":\"192.0.2.1:4242\","
		 "\"app\":\"naf.example.org\",\"btid\":\"sha256:"),
		"\"event\":\"zn_key\",\"outcome\":\"denied\",\"reason\":\"naf-cert-mismatch\"",
		"\"event\":\"zn_key\",\"outcome\":\"denied\",\"reason\":\"btid-unknown\"",
	};
	uint64_t seq, n = 0;
	uint8_t bad[8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	use_audit(a);
	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ue_initial(&u);
	memcpy(bad, u.res, 8);
	bad[0] ^= 1;
	memset(&o, 0, sizeof(o));
	o.pw = bad;
	o.pwlen = 8;
	ue_answer(&u, &o, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 403);
	ck_assert_int_eq(status_of(ub(authz)), 403);        /* the nonce is used */
	ck_assert_int_eq(zn_status(zn(&cert, btid, NAF, "")), 200);
	ck_assert_int_eq(zn_status(zn(&other, btid, NAF, "")), 403);
	ck_assert_int_eq(zn_status(zn(&cert, "AAAAAAAAAAAAAAAAAAAAAA==@" BSF, NAF, "")), 404);
	gba_audit_close(a);
	gnutls_free(cert.data);
	gnutls_free(other.data);

	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	memcpy(hash, "0000000000000000000000000000000000000000000000000000000000000000", 65);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		ck_assert_uint_lt(n, sizeof(want) / sizeof(want[0]));
		ck_assert_int_eq(line[len - 1], '\n');
		line[--len] = '\0';
		ck_assert_msg(strstr(line, want[n]) != NULL, "line %d: %s", (int)n + 1, line);
		ck_assert_ptr_null(strstr(line, "001010123456789"));    /* IMPI hashed */
		ck_assert_ptr_null(strstr(line, btid));                 /* B-TID hashed */
		ck_assert_int_eq(gba_audit_line_parse(line, len, &seq, prev), 0);
		ck_assert_uint_eq(seq, n + 1);
		ck_assert_str_eq(prev, hash);
		ck_assert_int_eq(gba_audit_line_hash(line, len, hash), 0);
		n++;
	}
	fclose(f);
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
}
END_TEST

START_TEST(audit_failure_fails_closed)
{
	struct gba_audit *a, *full;
	struct gba_bootstrap bs;
	struct gba_http_response *r;
	struct gba_str body;
	struct ue u;
	gnutls_datum_t cert = make_cert(NAF);
	char path[128], btid[GBA_MAX_BTID_LEN + 1], lost[GBA_MAX_BTID_LEN + 1];

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	use_audit(a);
	ue_init(&u, IMPI);
	bootstrap(&u, btid, sizeof(btid));
	ck_assert_int_eq(events, 1);

	/* /dev/full: every record fails with ENOSPC */
	ck_assert_int_eq(gba_audit_open(&full, "/dev/full", 0), 0);
	use_audit(full);
	/* Zn: no key without its record */
	r = zn(&cert, btid, NAF, "");
	ck_assert_int_eq(gba_http_response_get_status(r), 503);
	body = gba_http_response_get_body(r);
	{
		size_t i;

		for (i = 0; i + 13 <= body.len; i++)
			ck_assert_int_ne(memcmp(body.p + i, "meKeyMaterial", 13), 0);
	}
	ck_assert_int_eq(zn_status(r), 503);
	/* Ub: 503, and the context was never stored */
	ue_initial(&u);
	ue_answer(&u, NULL, authz, sizeof(authz));
	ck_assert_int_eq(status_of(ub(authz)), 503);
	ck_assert_int_gt(gba_btid(u.rand, BSF, strlen(BSF), lost, sizeof(lost)), 0);
	ck_assert_int_eq(gba_store_bootstrap_get(st, lost, now_v, &bs), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_bootstrap_get(st, btid, now_v, &bs), 0);   /* the old one */
	gba_bootstrap_clear(&bs);
	ck_assert_int_eq(events, 1);
	use_audit(a);
	gba_audit_close(full);
	gba_audit_close(a);
	gnutls_free(cert.data);
}
END_TEST

static Suite *bsf_suite(void)
{
	Suite *s = suite_create("bsf");
	TCase *ub_tc = tcase_create("ub");
	TCase *zn_tc = tcase_create("zn");

	tcase_add_checked_fixture(ub_tc, setup, teardown);
	tcase_add_checked_fixture(zn_tc, setup, teardown);
	tcase_set_timeout(ub_tc, 60);
	tcase_set_timeout(zn_tc, 60);
	tcase_add_test(ub_tc, bootstraps_and_fires_one_event);
	tcase_add_test(ub_tc, new_bootstrap_replaces_old_context);
	tcase_add_test(ub_tc, wrong_res_is_forbidden_and_burns_the_nonce);
	tcase_add_test(ub_tc, replayed_answer_is_forbidden);
	tcase_add_test(ub_tc, expired_nonce_is_forbidden);
	tcase_add_test(ub_tc, unknown_nonce_is_forbidden);
	tcase_add_test(ub_tc, unknown_impi_looks_the_same_then_fails);
	tcase_add_test(ub_tc, network_auth_failure_is_forbidden);
	tcase_add_test(ub_tc, resynchronises_on_auts);
	tcase_add_test(ub_tc, resync_with_bad_mac_s_is_forbidden);
	tcase_add_test(ub_tc, mismatched_parameters_are_bad_requests);
	tcase_add_test(ub_tc, malformed_requests_are_rejected);
	tcase_add_test(zn_tc, zn_returns_the_ues_ks_naf);
	tcase_add_test(zn_tc, zn_unrestricted_naf_gets_every_uss);
	tcase_add_test(zn_tc, zn_refuses_unauthorised_nafs);
	tcase_add_test(zn_tc, zn_unknown_or_expired_btid_is_not_found);
	tcase_add_test(zn_tc, zn_rejects_bad_bodies);
	tcase_add_test(zn_tc, x509_dns_name_matching);
	tcase_add_test(zn_tc, audit_records_each_decision);
	tcase_add_test(zn_tc, audit_failure_fails_closed);
	suite_add_tcase(s, ub_tc);
	suite_add_tcase(s, zn_tc);
	return s;
}

int main(void)
{
	return th_run(bsf_suite());
}
