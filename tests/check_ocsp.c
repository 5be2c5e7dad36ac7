/*
 * check_ocsp.c - the revocation codecs (gba_ocsp.h): OCSP request
 * parsing (requests made by GnuTLS and crafted by hand), OCSP responses
 * and CRLs built and signed with a demo CA, then judged by the strict
 * decoder and by GnuTLS (signature, status, reason, nonce, entries).
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "gba_asn1.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_x509.h"
#include "testutil.h"

static struct gba_signer *ca;
static const uint8_t *ca_der;
static size_t ca_len;
static gnutls_x509_crt_t ca_crt;
static uint8_t ca_key_id[20];
static gnutls_datum_t ca_dn;

static void setup(void)
{
	gnutls_datum_t d;
	size_t n = sizeof(ca_key_id);

	ck_assert_int_eq(gba_signer_generate_ca(&ca, "ocsp check CA", 2), 0);
	ca_der = gba_signer_cert(ca, &ca_len);
	d.data = (unsigned char *)(uintptr_t)ca_der;
	d.size = (unsigned)ca_len;
	ck_assert_int_eq(gnutls_x509_crt_init(&ca_crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(ca_crt, &d, GNUTLS_X509_FMT_DER), 0);
	/* issuerKeyHash as GnuTLS computes it for an OCSP request: SHA-1
	 * of the subjectPublicKey BIT STRING contents, which is what
	 * gba_x509_spki_key_id gives */
	{
		struct gba_cert_info ci;
		uint8_t kid[GBA_X509_KEY_ID_LEN], k256[32];

		gnutls_ocsp_req_t req;
		gnutls_datum_t ik;

		ck_assert_int_eq(gnutls_ocsp_req_init(&req), 0);
		ck_assert_int_eq(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, ca_crt, ca_crt), 0);
		ck_assert_int_eq(gnutls_ocsp_req_get_cert_id(req, 0, NULL, NULL, &ik, NULL), 0);
		ck_assert_uint_eq(ik.size, n);
		memcpy(ca_key_id, ik.data, n);
		gnutls_free(ik.data);
		gnutls_ocsp_req_deinit(req);
		ck_assert_int_eq(gba_x509_cert_info(ca_der, ca_len, &ci), 0);
		ck_assert_int_eq(gba_x509_spki_key_id(ci.spki, ci.spki_len, kid), 0);
		ck_assert_mem_eq(kid, ca_key_id, sizeof(kid));
		/* and the SHA-256 form */
		ck_assert_int_eq(gnutls_ocsp_req_init(&req), 0);
		ck_assert_int_eq(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA256, ca_crt, ca_crt), 0);
		ck_assert_int_eq(gnutls_ocsp_req_get_cert_id(req, 0, NULL, NULL, &ik, NULL), 0);
		ck_assert_uint_eq(ik.size, 32);
		ck_assert_int_eq(gba_x509_spki_key_hash(ci.spki, ci.spki_len, GBA_HASH_SHA256, k256), 0);
		ck_assert_mem_eq(k256, ik.data, 32);
		gnutls_free(ik.data);
		gnutls_ocsp_req_deinit(req);
		gba_cert_info_clear(&ci);
	}
	ck_assert_int_eq(gnutls_x509_crt_get_raw_dn(ca_crt, &ca_dn), 0);
}

static struct gba_ocsp_msg *last_msg;

static void teardown(void)
{
	gba_ocsp_msg_free(last_msg);
	last_msg = NULL;
	gnutls_free(ca_dn.data);
	gnutls_x509_crt_deinit(ca_crt);
	gba_signer_free(ca);
}

/* ---- a tiny DER writer for crafted requests ---- */

static uint8_t wbuf[64 * 1024];

/* Wrap buf[0..n) in tag, in place; returns the new length. */
static size_t wrap(uint8_t tag, uint8_t *buf, size_t n)
{
	size_t h = n < 0x80 ? 2 : n < 0x100 ? 3 : 4;

	ck_assert_uint_lt(n, 0x10000);
	memmove(buf + h, buf, n);
	buf[0] = tag;
	if (h == 2) {
		buf[1] = (uint8_t)n;
	} else if (h == 3) {
		buf[1] = 0x81;
		buf[2] = (uint8_t)n;
	} else {
		buf[1] = 0x82;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
	}
	return h + n;
}

static size_t put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return n;
}

static const uint8_t alg_sha1[] = { 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a,
                                    0x05, 0x00 };
static const uint8_t alg_sha256_noparams[] = { 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                               0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t alg_md5[] = { 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x02, 0x05, 0x05, 0x00 };
static const uint8_t oid_nonce[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30,
                                     0x01, 0x02 };
static const uint8_t oid_other[] = { 0x06, 0x03, 0x2a, 0x03, 0x04 };

/* One Request with a CertID: hash 0 = SHA-1, 1 = SHA-256 (no params),
 * 2 = MD5; hl the hash length; serial i+1 (one octet). */
static size_t put_request(uint8_t *p, int hash, size_t hl, unsigned i)
{
	size_t n = 0, m;
	uint8_t h[32];

	memset(h, (int)(0x10 + i), sizeof(h));
	if (hash == 0)
		n += put(p, alg_sha1, sizeof(alg_sha1));
	else if (hash == 1)
		n += put(p, alg_sha256_noparams, sizeof(alg_sha256_noparams));
	else
		n += put(p, alg_md5, sizeof(alg_md5));
	for (m = 0; m < 2; m++) {
		p[n] = 0x04;
		p[n + 1] = (uint8_t)hl;
		memcpy(p + n + 2, h, hl);
		n += 2 + hl;
	}
	p[n++] = 0x02;
	p[n++] = 0x01;
	p[n++] = (uint8_t)(i + 1);
	n = wrap(0x30, p, n);        /* CertID */
	return wrap(0x30, p, n);     /* Request */
}

/* An extension: oid (full TLV), critical flag, value wrapped in OCTET STRING. */
static size_t put_ext(uint8_t *p, const uint8_t *oid, size_t oid_len, int critical,
                      const uint8_t *val, size_t val_len)
{
	size_t n = put(p, oid, oid_len), v;

	if (critical) {
		p[n++] = 0x01;
		p[n++] = 0x01;
		p[n++] = 0xff;
	}
	v = put(p + n, val, val_len);
	n += wrap(0x04, p + n, v);
	return wrap(0x30, p, n);
}

struct req_opts {
	unsigned nids;
	int hash;
	size_t hl;
	int nonces;                   /* how many nonce extensions */
	size_t nonce_len;
	int other_ext_critical;       /* -1 none, 0 or 1 */
	int signed_req;
	int version_v2;
};

static size_t build_request(const struct req_opts *o)
{
	uint8_t *p = wbuf;
	size_t n = 0, l, ext = 0;
	unsigned i;
	int k;

	if (o->version_v2) {   /* [0] EXPLICIT INTEGER 1 */
		static const uint8_t v[] = { 0xa0, 0x03, 0x02, 0x01, 0x01 };

		n += put(p, v, sizeof(v));
	}
	l = 0;
	for (i = 0; i < o->nids; i++)
		l += put_request(p + n + l, o->hash, o->hl, i);
	n += wrap(0x30, p + n, l);   /* requestList */
	for (k = 0; k < o->nonces; k++) {
		uint8_t nv[64];
		size_t nl;

		memset(nv + 2, 0xa5 + k, o->nonce_len);
		nv[0] = 0x04;
		nv[1] = (uint8_t)o->nonce_len;
		nl = 2 + o->nonce_len;
		ext += put_ext(p + n + ext, oid_nonce, sizeof(oid_nonce), 0, nv, nl);
	}
	if (o->other_ext_critical >= 0) {
		static const uint8_t nul[] = { 0x05, 0x00 };

		ext += put_ext(p + n + ext, oid_other, sizeof(oid_other), o->other_ext_critical,
		               nul, sizeof(nul));
	}
	if (ext > 0) {
		ext = wrap(0x30, p + n, ext);
		n += wrap(0xa2, p + n, ext);
	}
	n = wrap(0x30, p, n);        /* TBSRequest */
	if (o->signed_req) {
		static const uint8_t sig[] = {
			0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
			0x03, 0x03, 0x00, 0xaa, 0xbb
		};
		size_t s = put(p + n, sig, sizeof(sig));

		s = wrap(0x30, p + n, s);
		n += wrap(0xa0, p + n, s);
	}
	return wrap(0x30, p, n);
}

static struct req_opts defaults(void)
{
	struct req_opts o = { 1, 0, 20, 1, 16, -1, 0, 0 };

	return o;
}

/* The view of the last parse stays valid until the next one. */

static int parse(size_t len, struct gba_ocsp_req_view *v)
{
	struct gba_der_error err = { 0, NULL };
	int ret;

	gba_ocsp_msg_free(last_msg);
	last_msg = NULL;
	ret = gba_ocsp_request_parse(wbuf, len, v, &last_msg, &err);
	if (ret < 0) {
		ck_assert_ptr_null(last_msg);
		ck_assert_ptr_nonnull(err.reason);
	}
	return ret;
}

START_TEST(request_from_gnutls)
{
	gnutls_ocsp_req_t req;
	gnutls_datum_t der, nonce;
	struct gba_ocsp_req_view v;
	struct gba_ocsp_msg *msg = NULL;
	struct gba_der_error err = { 0, NULL };
	uint8_t serial[64];
	size_t serial_len = sizeof(serial);

	ck_assert_int_eq(gnutls_ocsp_req_init(&req), 0);
	ck_assert_int_eq(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, ca_crt, ca_crt), 0);
	ck_assert_int_eq(gnutls_ocsp_req_randomize_nonce(req), 0);
	ck_assert_int_eq(gnutls_ocsp_req_export(req, &der), 0);
	ck_assert_int_eq(gnutls_ocsp_req_get_nonce(req, NULL, &nonce), 0);
	ck_assert_int_eq(gnutls_x509_crt_get_serial(ca_crt, serial, &serial_len), 0);

	ck_assert_int_eq(gba_ocsp_request_parse(der.data, der.size, &v, &msg, &err), 0);
	ck_assert_uint_eq(v.nids, 1);
	ck_assert_int_eq(v.ids[0].hash, GBA_HASH_SHA1);
	ck_assert_uint_eq(v.ids[0].name_hash.len, 20);
	ck_assert_uint_eq(v.ids[0].key_hash.len, 20);
	ck_assert_mem_eq(v.ids[0].key_hash.p, ca_key_id, 20);
	ck_assert_uint_eq(v.ids[0].serial.len, serial_len);
	ck_assert_mem_eq(v.ids[0].serial.p, serial, serial_len);
	ck_assert_int_eq(v.has_nonce, 1);
	ck_assert_uint_eq(v.nonce.len, nonce.size);
	ck_assert_mem_eq(v.nonce.p, nonce.data, nonce.size);
	ck_assert_int_eq(v.is_signed, 0);
	gba_ocsp_msg_free(msg);
	gnutls_free(nonce.data);
	gnutls_free(der.data);
	gnutls_ocsp_req_deinit(req);
}
END_TEST

START_TEST(request_crafted)
{
	struct req_opts o = defaults();
	struct gba_ocsp_req_view v;
	size_t n;

	/* the default: one SHA-1 CertID and a 16-octet nonce */
	n = build_request(&o);
	ck_assert_int_eq(parse(n, &v), 0);
	ck_assert_uint_eq(v.nids, 1);
	ck_assert_int_eq(v.ids[0].hash_params_null, 1);
	ck_assert_uint_eq(v.ids[0].serial.len, 1);
	ck_assert_uint_eq(v.ids[0].serial.p[0], 1);
	ck_assert_uint_eq(v.nonce.len, 16);
	ck_assert_uint_eq(v.nonce.p[0], 0xa5);

	/* SHA-256 with absent parameters */
	o.hash = 1;
	o.hl = 32;
	n = build_request(&o);
	ck_assert_int_eq(parse(n, &v), 0);
	ck_assert_int_eq(v.ids[0].hash, GBA_HASH_SHA256);
	ck_assert_int_eq(v.ids[0].hash_params_null, 0);
	ck_assert_uint_eq(v.ids[0].name_hash.len, 32);

	/* a hash of the wrong length for its algorithm */
	o.hl = 20;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_ESYNTAX);
	ck_assert_uint_eq(v.nids, 0);

	/* MD5 is not supported */
	o = defaults();
	o.hash = 2;
	o.hl = 16;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_EUNSUPP);

	/* nonce lengths 1 and 32 pass, 0 and 33 fail (RFC 8954) */
	o = defaults();
	o.nonce_len = 1;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_uint_eq(v.nonce.len, 1);
	o.nonce_len = 32;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_uint_eq(v.nonce.len, 32);
	o.nonce_len = 33;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_ECONSTRAINT);
	o.nonce_len = 0;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_ECONSTRAINT);

	/* two nonces */
	o = defaults();
	o.nonces = 2;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_EDUP);

	/* no nonce */
	o.nonces = 0;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_int_eq(v.has_nonce, 0);

	/* an unknown extension: ignored unless critical */
	o = defaults();
	o.other_ext_critical = 0;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_int_eq(v.has_nonce, 1);
	o.other_ext_critical = 1;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_EUNSUPP);

	/* signed: reported, not verified */
	o = defaults();
	o.signed_req = 1;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_int_eq(v.is_signed, 1);

	/* version other than v1 */
	o = defaults();
	o.version_v2 = 1;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_EUNSUPP);

	/* empty requestList */
	o = defaults();
	o.nids = 0;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_ESYNTAX);
}
END_TEST

START_TEST(request_certid_cap)
{
	struct req_opts o = defaults();
	struct gba_ocsp_req_view v;
	unsigned i;

	o.nids = GBA_OCSP_MAX_CERTIDS;
	ck_assert_int_eq(parse(build_request(&o), &v), 0);
	ck_assert_uint_eq(v.nids, GBA_OCSP_MAX_CERTIDS);
	for (i = 0; i < GBA_OCSP_MAX_CERTIDS; i++)
		ck_assert_uint_eq(v.ids[i].serial.p[0], i + 1);
	o.nids = GBA_OCSP_MAX_CERTIDS + 1;
	ck_assert_int_eq(parse(build_request(&o), &v), GBA_ETOOBIG);
	ck_assert_uint_eq(v.nids, 0);
}
END_TEST

START_TEST(request_not_der)
{
	struct req_opts o = defaults();
	struct gba_ocsp_req_view v;
	size_t n = build_request(&o);
	uint8_t ber[1024];

	/* the same request with a non-minimal outer length (81 xx) */
	ck_assert_uint_lt(wbuf[1], 0x80);
	ber[0] = 0x30;
	ber[1] = 0x81;
	memcpy(ber + 2, wbuf + 1, n - 1);
	memcpy(wbuf, ber, n + 1);
	ck_assert_int_eq(parse(n + 1, &v), GBA_ENOTDER);

	/* a critical flag written as DEFAULT FALSE (01 01 00) is not DER */
	o.other_ext_critical = 1;
	n = build_request(&o);
	{
		size_t i;

		for (i = 0; i + 2 < n; i++) {
			if (wbuf[i] == 0x01 && wbuf[i + 1] == 0x01 && wbuf[i + 2] == 0xff) {
				wbuf[i + 2] = 0x00;
				break;
			}
		}
		ck_assert_uint_lt(i + 2, n);
	}
	ck_assert_int_eq(parse(n, &v), GBA_ENOTDER);

	/* truncation, empty input, and a response given as a request */
	n = build_request(&o);
	ck_assert_int_eq(parse(n - 1, &v), GBA_ETRUNC);
	ck_assert_int_eq(parse(0, &v), GBA_EINVAL);
	{
		char path[1024];
		const char *dir = getenv("srcdir");
		FILE *f;

		snprintf(path, sizeof(path), "%s/data/ocsp_resp.der", dir ? dir : ".");
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		n = fread(wbuf, 1, sizeof(wbuf), f);
		fclose(f);
		ck_assert_uint_gt(n, 0);
		ck_assert_int_eq(gba_asn1_check(GBA_PDU_OCSP_RESPONSE, wbuf, n, NULL), 0);
		ck_assert_int_lt(parse(n, &v), 0);
	}
}
END_TEST

/* ---- responses ---- */

/* Read one TLV at p (short or long form up to 3 length octets). */
static const uint8_t *tlv(const uint8_t *p, uint8_t *tag, size_t *clen, size_t *total)
{
	size_t h = 2, n = p[1];

	*tag = p[0];
	if (n & 0x80) {
		size_t k = n & 0x7f, i;

		ck_assert_uint_le(k, 3);
		n = 0;
		for (i = 0; i < k; i++)
			n = (n << 8) | p[2 + i];
		h += k;
	}
	*clen = n;
	*total = h + n;
	return p + h;
}

static int fail_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t **sig, size_t *siglen)
{
	(void)ctx;
	(void)tbs;
	(void)len;
	(void)sig;
	(void)siglen;
	return GBA_ECRYPTO;
}

static struct gba_ocsp_single single;
static uint8_t name_hash[20], key_hash[20];
static const uint8_t serial1[] = { 0x4a, 0x5b, 0x6c, 0x7d, 0x01 };

static void resp_build_init(struct gba_ocsp_resp_build *b, enum gba_ocsp_cert_status st,
                            int64_t now)
{
	memset(b, 0, sizeof(*b));
	memset(&single, 0, sizeof(single));
	memset(name_hash, 0x11, sizeof(name_hash));
	memcpy(key_hash, ca_key_id, sizeof(key_hash));
	single.id.hash = GBA_HASH_SHA1;
	single.id.hash_params_null = 1;
	single.id.name_hash.p = name_hash;
	single.id.name_hash.len = 20;
	single.id.key_hash.p = key_hash;
	single.id.key_hash.len = 20;
	single.id.serial.p = serial1;
	single.id.serial.len = sizeof(serial1);
	single.status = st;
	single.revoked_at = now - 3600;
	single.reason = GBA_CRL_REASON_KEY_COMPROMISE;
	single.this_update = now - 60;
	single.next_update = now + 3600;
	b->responder_key_hash.p = ca_key_id;
	b->responder_key_hash.len = 20;
	b->produced_at = now;
	b->responses = &single;
	b->nresponses = 1;
	b->sig_alg.p = gba_signer_sig_oid(ca, &b->sig_alg.len);
	b->sign = gba_signer_sign;
	b->sign_ctx = ca;
}

/* Strict decode, our own signature check, then GnuTLS's view. */
static void check_response(const uint8_t *der, size_t len, const struct gba_ocsp_resp_build *b,
                           gnutls_ocsp_resp_t *out)
{
	const uint8_t *p, *basic, *tbs, *sig;
	size_t clen, total, basic_len, tbs_len, sig_len, alg_total;
	uint8_t tag;
	gnutls_ocsp_resp_t resp;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len };
	unsigned verify = 99;

	ck_assert_int_eq(gba_asn1_check(GBA_PDU_OCSP_RESPONSE, der, len, NULL), 0);
	/* OCSPResponse { 0a 01 00, a0 { 30 { oid, 04 basic } } } */
	p = tlv(der, &tag, &clen, &total);
	ck_assert_uint_eq(tag, 0x30);
	ck_assert_uint_eq(total, len);
	ck_assert_mem_eq(p, "\x0a\x01\x00\xa0", 4);
	p = tlv(p + 3, &tag, &clen, &total);   /* [0] */
	p = tlv(p, &tag, &clen, &total);       /* ResponseBytes */
	(void)tlv(p, &tag, &clen, &total);     /* responseType */
	ck_assert_uint_eq(tag, 0x06);
	ck_assert_mem_eq(p, "\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01", 11);
	basic = tlv(p + total, &tag, &basic_len, &total);
	ck_assert_uint_eq(tag, 0x04);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_BASIC_OCSP_RESPONSE, basic, basic_len, NULL), 0);
	tbs = tlv(basic, &tag, &clen, &total);  /* BasicOCSPResponse content */
	(void)tlv(tbs, &tag, &clen, &tbs_len);
	ck_assert_uint_eq(tag, 0x30);
	/* no version: ResponseData starts with responderID [1] or [2] */
	ck_assert_uint_eq(tbs[2] == 0xa1 || tbs[2] == 0xa2 || tbs[3] == 0xa1 || tbs[3] == 0xa2, 1);
	(void)tlv(tbs + tbs_len, &tag, &clen, &alg_total);
	sig = tlv(tbs + tbs_len + alg_total, &tag, &sig_len, &total);
	ck_assert_uint_eq(tag, 0x03);
	ck_assert_uint_eq(sig[0], 0);
	ck_assert_int_eq(gba_x509_verify_signature(ca_der, ca_len, b->sig_alg.p, b->sig_alg.len,
	                                           tbs, tbs_len, sig + 1, sig_len - 1), 0);

	ck_assert_int_eq(gnutls_ocsp_resp_init(&resp), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_import(resp, &d), 0);
	ck_assert_int_eq(gnutls_ocsp_resp_get_status(resp), GNUTLS_OCSP_RESP_SUCCESSFUL);
	ck_assert_int_eq(gnutls_ocsp_resp_verify_direct(resp, ca_crt, &verify, 0), 0);
	ck_assert_uint_eq(verify, 0);
	*out = resp;
}

/* A request with one SHA-1 CertID whose serial is n octets 0x41. */
static size_t build_long_serial(size_t n)
{
	uint8_t *p = wbuf;
	size_t l, m;

	l = put(p, alg_sha1, sizeof(alg_sha1));
	for (m = 0; m < 2; m++) {
		p[l] = 0x04;
		p[l + 1] = 20;
		memset(p + l + 2, 0x11, 20);
		l += 22;
	}
	memset(p + l, 0x41, n);
	l += wrap(0x02, p + l, n);
	l = wrap(0x30, p, l);        /* CertID */
	l = wrap(0x30, p, l);        /* Request */
	l = wrap(0x30, p, l);        /* requestList */
	l = wrap(0x30, p, l);        /* TBSRequest */
	return wrap(0x30, p, l);
}

/* What parses, the builder can echo: serials up to GBA_OCSP_MAX_SERIAL. */
START_TEST(request_serial_cap)
{
	struct gba_ocsp_resp_build b;
	struct gba_ocsp_req_view v;
	uint8_t *der = NULL;
	size_t len = 0;

	ck_assert_int_eq(parse(build_long_serial(GBA_OCSP_MAX_SERIAL), &v), 0);
	ck_assert_uint_eq(v.ids[0].serial.len, GBA_OCSP_MAX_SERIAL);
	resp_build_init(&b, GBA_OCSP_UNKNOWN, 1700000000);
	single.id.serial = v.ids[0].serial;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), 0);
	gba_free(der);
	ck_assert_int_eq(parse(build_long_serial(GBA_OCSP_MAX_SERIAL + 1), &v), GBA_ECONSTRAINT);
	ck_assert_uint_eq(v.nids, 0);
}
END_TEST

START_TEST(response_statuses)
{
	static const struct {
		enum gba_ocsp_cert_status st;
		unsigned gnutls_st;
	} cases[] = {
		{ GBA_OCSP_GOOD, GNUTLS_OCSP_CERT_GOOD },
		{ GBA_OCSP_REVOKED, GNUTLS_OCSP_CERT_REVOKED },
		{ GBA_OCSP_UNKNOWN, GNUTLS_OCSP_CERT_UNKNOWN },
	};
	int64_t now = (int64_t)time(NULL);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gba_ocsp_resp_build b;
		gnutls_ocsp_resp_t resp;
		gnutls_datum_t in, ik, sn, nonce, rid;
		gnutls_digest_algorithm_t dig;
		unsigned st, critical, reason;
		time_t tu, nu, rt;
		uint8_t *der = NULL;
		size_t len = 0;
		static const uint8_t nv[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

		resp_build_init(&b, cases[i].st, now);
		b.nonce.p = nv;
		b.nonce.len = sizeof(nv);
		ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), 0);
		check_response(der, len, &b, &resp);
		ck_assert_int_eq(gnutls_ocsp_resp_get_single(resp, 0, &dig, &in, &ik, &sn, &st, &tu,
		                                             &nu, &rt, &reason), 0);
		ck_assert_int_eq(dig, GNUTLS_DIG_SHA1);
		ck_assert_uint_eq(st, cases[i].gnutls_st);
		ck_assert_uint_eq(sn.size, sizeof(serial1));
		ck_assert_mem_eq(sn.data, serial1, sizeof(serial1));
		ck_assert_mem_eq(ik.data, ca_key_id, 20);
		gnutls_free(in.data);
		gnutls_free(ik.data);
		gnutls_free(sn.data);
		ck_assert_int_eq((int64_t)tu, now - 60);
		ck_assert_int_eq((int64_t)nu, now + 3600);
		if (cases[i].st == GBA_OCSP_REVOKED) {
			ck_assert_int_eq((int64_t)rt, now - 3600);
			ck_assert_uint_eq(reason, GNUTLS_X509_CRLREASON_KEYCOMPROMISE);
		}
		ck_assert_int_eq(gnutls_ocsp_resp_get_nonce(resp, &critical, &nonce), 0);
		ck_assert_uint_eq(critical, 0);
		ck_assert_uint_eq(nonce.size, sizeof(nv));
		ck_assert_mem_eq(nonce.data, nv, sizeof(nv));
		gnutls_free(nonce.data);
		ck_assert_int_eq(gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_KEY,
		                                                       &rid), 0);
		ck_assert_uint_eq(rid.size, 20);
		ck_assert_mem_eq(rid.data, ca_key_id, 20);
		gnutls_free(rid.data);
		gnutls_ocsp_resp_deinit(resp);
		gba_free(der);
	}
}
END_TEST

START_TEST(response_variants)
{
	int64_t now = (int64_t)time(NULL);
	struct gba_ocsp_resp_build b;
	gnutls_ocsp_resp_t resp;
	gnutls_datum_t rid, nonce, cert;
	struct gba_blob certs[1];
	unsigned critical, reason;
	uint8_t *der = NULL;
	size_t len = 0;
	time_t nu;

	/* byName, no nonce, no nextUpdate, revoked without a reason, the CA
	 * certificate carried */
	resp_build_init(&b, GBA_OCSP_REVOKED, now);
	b.responder_key_hash.len = 0;
	b.responder_name.p = ca_dn.data;
	b.responder_name.len = ca_dn.size;
	single.reason = GBA_CRL_REASON_NONE;
	single.next_update = 0;
	certs[0].p = ca_der;
	certs[0].len = ca_len;
	b.certs = certs;
	b.ncerts = 1;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), 0);
	check_response(der, len, &b, &resp);
	ck_assert_int_eq(gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_DN, &rid),
	                 0);
	ck_assert_uint_eq(rid.size, ca_dn.size);
	ck_assert_mem_eq(rid.data, ca_dn.data, ca_dn.size);
	gnutls_free(rid.data);
	ck_assert_int_eq(gnutls_ocsp_resp_get_nonce(resp, &critical, &nonce),
	                 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	ck_assert_int_eq(gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL, NULL, NULL, NULL, NULL,
	                                             &nu, NULL, &reason), 0);
	ck_assert_int_eq((int64_t)nu, -1);
	ck_assert_uint_eq(reason, GNUTLS_X509_CRLREASON_UNSPECIFIED);
	{
		gnutls_x509_crt_t *list = NULL;
		size_t n = 0;

		ck_assert_int_eq(gnutls_ocsp_resp_get_certs(resp, &list, &n), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(gnutls_x509_crt_export2(list[0], GNUTLS_X509_FMT_DER, &cert), 0);
		ck_assert_uint_eq(cert.size, ca_len);
		gnutls_free(cert.data);
		gnutls_x509_crt_deinit(list[0]);
		gnutls_free(list);
	}
	gnutls_ocsp_resp_deinit(resp);
	gba_free(der);

	/* every field the builder refuses */
	resp_build_init(&b, GBA_OCSP_REVOKED, now);
	single.reason = 7;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	ck_assert_ptr_null(der);
	resp_build_init(&b, 3, now);
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	single.id.name_hash.len = 19;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	single.id.serial.p = (const uint8_t *)"\x00\x01";
	single.id.serial.len = 2;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	b.nonce.p = key_hash;
	b.nonce.len = 33;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	b.nresponses = 0;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	b.responder_key_hash.len = 0;   /* and no name */
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_EINVAL);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	b.responder_key_hash.len = 0;
	b.responder_name.p = (const uint8_t *)"\x30\x80\x00\x00";
	b.responder_name.len = 4;
	ck_assert_int_lt(gba_ocsp_response_build(&b, &der, &len), 0);
	resp_build_init(&b, GBA_OCSP_GOOD, now);
	b.sign = fail_sign;
	ck_assert_int_eq(gba_ocsp_response_build(&b, &der, &len), GBA_ECRYPTO);
	ck_assert_ptr_null(der);
}
END_TEST

START_TEST(error_responses)
{
	static const int ok[] = { 1, 2, 3, 5, 6 };
	static const int bad[] = { 0, 4, 7, -1 };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		gnutls_ocsp_resp_t resp;
		gnutls_datum_t d;
		uint8_t *der = NULL;
		size_t len = 0;

		ck_assert_int_eq(gba_ocsp_error_build((enum gba_ocsp_resp_status)ok[i], &der, &len),
		                 0);
		ck_assert_int_eq(gba_asn1_check(GBA_PDU_OCSP_RESPONSE, der, len, NULL), 0);
		d.data = der;
		d.size = (unsigned)len;
		ck_assert_int_eq(gnutls_ocsp_resp_init(&resp), 0);
		ck_assert_int_eq(gnutls_ocsp_resp_import(resp, &d), 0);
		ck_assert_int_eq(gnutls_ocsp_resp_get_status(resp), ok[i]);
		gnutls_ocsp_resp_deinit(resp);
		gba_free(der);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *der = NULL;
		size_t len = 0;

		ck_assert_int_eq(gba_ocsp_error_build((enum gba_ocsp_resp_status)bad[i], &der, &len),
		                 GBA_EINVAL);
		ck_assert_ptr_null(der);
	}
}
END_TEST

/* ---- CRLs ---- */

static const uint8_t s1[] = { 0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f, 0xa0, 0xb1, 0xc2, 0xd3,
                              0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d };
static const uint8_t s2[] = { 0x0a, 0x0b };
static const uint8_t s3[] = { 0x00, 0xff };
static struct gba_crl_entry ents[3];

static void crl_build_init(struct gba_crl_build *b, int64_t now)
{
	memset(b, 0, sizeof(*b));
	memset(ents, 0, sizeof(ents));
	ents[0].serial = s1;
	ents[0].serial_len = sizeof(s1);
	ents[0].revoked_at = now - 100;
	ents[0].reason = GBA_CRL_REASON_KEY_COMPROMISE;
	ents[0].invalidity_date = now - 86400;
	ents[1].serial = s2;
	ents[1].serial_len = sizeof(s2);
	ents[1].revoked_at = now - 200;
	ents[1].reason = GBA_CRL_REASON_SUPERSEDED;
	ents[2].serial = s3;
	ents[2].serial_len = sizeof(s3);
	ents[2].revoked_at = now - 300;
	ents[2].reason = GBA_CRL_REASON_UNSPECIFIED;
	b->sig_alg.p = gba_signer_sig_oid(ca, &b->sig_alg.len);
	b->issuer.p = ca_dn.data;
	b->issuer.len = ca_dn.size;
	b->this_update = now;
	b->next_update = now + 86400;
	b->entries = ents;
	b->nentries = 3;
	b->crl_number = 0x80;   /* needs a leading 0x00 octet */
	b->aki.p = ca_key_id;
	b->aki.len = 20;
	b->sign = gba_signer_sign;
	b->sign_ctx = ca;
}

/* Strict decode, GnuTLS import and verify; the verification status must
 * be `expect` (0, or a time complaint for CRLs issued in the future). */
static gnutls_x509_crl_t crl_import_flags(const uint8_t *der, size_t len, unsigned expect)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len };
	unsigned verify = 99;

	ck_assert_int_eq(gba_asn1_check(GBA_PDU_CRL, der, len, NULL), 0);
	ck_assert_int_eq(gnutls_x509_crl_init(&crl), 0);
	ck_assert_int_eq(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER), 0);
	ck_assert_int_eq(gnutls_x509_crl_verify(crl, &ca_crt, 1, 0, &verify), 0);
	ck_assert_uint_eq(verify, expect);
	return crl;
}

static gnutls_x509_crl_t crl_import(const uint8_t *der, size_t len)
{
	return crl_import_flags(der, len, 0);
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	size_t i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return 1;
	return 0;
}

START_TEST(crl_three_entries)
{
	int64_t now = (int64_t)time(NULL);
	struct gba_crl_build b;
	gnutls_x509_crl_t crl;
	uint8_t *der = NULL, buf[64];
	size_t len = 0, n;
	unsigned i, critical;
	time_t t;

	crl_build_init(&b, now);
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), 0);
	crl = crl_import(der, len);
	ck_assert_int_eq(gnutls_x509_crl_get_version(crl), 2);
	ck_assert_int_eq(gnutls_x509_crl_get_crt_count(crl), 3);
	for (i = 0; i < 3; i++) {
		n = sizeof(buf);
		ck_assert_int_eq(gnutls_x509_crl_get_crt_serial(crl, i, buf, &n, &t), 0);
		ck_assert_uint_eq(n, ents[i].serial_len);
		ck_assert_mem_eq(buf, ents[i].serial, n);
		ck_assert_int_eq((int64_t)t, ents[i].revoked_at);
	}
	n = sizeof(buf);
	ck_assert_int_eq(gnutls_x509_crl_get_number(crl, buf, &n, &critical), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(buf, "\x00\x80", 2);
	n = sizeof(buf);
	ck_assert_int_eq(gnutls_x509_crl_get_authority_key_id(crl, buf, &n, &critical), 0);
	ck_assert_uint_eq(n, 20);
	ck_assert_mem_eq(buf, ca_key_id, 20);
	ck_assert_int_eq((int64_t)gnutls_x509_crl_get_this_update(crl), now);
	ck_assert_int_eq((int64_t)gnutls_x509_crl_get_next_update(crl), now + 86400);
	/* reasonCode keyCompromise and superseded, none for unspecified */
	ck_assert_int_eq(contains(der, len, "\x55\x1d\x15\x04\x03\x0a\x01\x01", 8), 1);
	ck_assert_int_eq(contains(der, len, "\x55\x1d\x15\x04\x03\x0a\x01\x04", 8), 1);
	ck_assert_int_eq(contains(der, len, "\x55\x1d\x15\x04\x03\x0a\x01\x00", 8), 0);
	ck_assert_int_eq(contains(der, len, "\x55\x1d\x18\x04\x11\x18\x0f", 7), 1);
	gnutls_x509_crl_deinit(crl);
	gba_free(der);

	/* no entries: revokedCertificates is omitted */
	b.nentries = 0;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), 0);
	crl = crl_import(der, len);
	ck_assert_int_eq(gnutls_x509_crl_get_crt_count(crl), 0);
	gnutls_x509_crl_deinit(crl);
	gba_free(der);
}
END_TEST

START_TEST(crl_times)
{
	struct gba_crl_build b;
	gnutls_x509_crl_t crl;
	uint8_t *der = NULL;
	size_t len = 0;
	const int64_t y2049_end = 2524607999;   /* 2049-12-31 23:59:59 */
	const int64_t y2050 = 2524608000;       /* 2050-01-01 00:00:00 */

	crl_build_init(&b, y2049_end);
	b.next_update = y2050;
	ents[0].revoked_at = y2050 + 1;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), 0);
	ck_assert_int_eq(contains(der, len, "\x17\x0d" "491231235959Z", 15), 1);
	ck_assert_int_eq(contains(der, len, "\x18\x0f" "20500101000000Z", 17), 1);
	ck_assert_int_eq(contains(der, len, "\x18\x0f" "20500101000001Z", 17), 1);
	/* GnuTLS flags a CRL issued in the future; the signature is fine */
	crl = crl_import_flags(der, len,
	                       GNUTLS_CERT_INVALID | GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE);
	ck_assert_int_eq((int64_t)gnutls_x509_crl_get_next_update(crl), y2050);
	gnutls_x509_crl_deinit(crl);
	gba_free(der);
}
END_TEST

START_TEST(crl_refusals)
{
	static const uint8_t long_serial[21] = { 0x01 };
	int64_t now = (int64_t)time(NULL);
	struct gba_crl_build b;
	uint8_t *der = NULL;
	size_t len = 0;

	crl_build_init(&b, now);
	ents[1].reason = 7;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	ents[1].reason = GBA_CRL_REASON_REMOVE_FROM_CRL;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	crl_build_init(&b, now);
	ents[2].serial = (const uint8_t *)"\x00\x01";
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	ents[2].serial = long_serial;
	ents[2].serial_len = sizeof(long_serial);
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	crl_build_init(&b, now);
	ents[0].revoked_at = -1;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	crl_build_init(&b, now);
	b.next_update = now - 1;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_EINVAL);
	crl_build_init(&b, now);
	b.sign = fail_sign;
	ck_assert_int_eq(gba_crl_build(&b, &der, &len), GBA_ECRYPTO);
	ck_assert_ptr_null(der);
}
END_TEST

START_TEST(reason_names)
{
	int v, i, n = 0;

	for (i = -2; i < 12; i++) {
		const char *name = gba_crl_reason_name(i);

		if (name == NULL)
			continue;
		n++;
		ck_assert_int_eq(gba_crl_reason_by_name(name, &v), 0);
		ck_assert_int_eq(v, i);
	}
	ck_assert_int_eq(n, 10);
	ck_assert_ptr_null(gba_crl_reason_name(7));
	ck_assert_str_eq(gba_crl_reason_name(1), "keyCompromise");
	ck_assert_str_eq(gba_crl_reason_name(8), "removeFromCRL");
	ck_assert_int_eq(gba_crl_reason_by_name("KeyCompromise", &v), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_crl_reason_by_name("", &v), GBA_ENOTFOUND);
}
END_TEST

/* Every allocation failing in turn: no crash, an error, then success. */
START_TEST(alloc_failures)
{
	int64_t now = (int64_t)time(NULL);
	struct gba_ocsp_resp_build rb;
	struct gba_crl_build cb;
	struct req_opts o = defaults();
	size_t rl = build_request(&o);
	long k;
	int ret, what;

	for (what = 0; what < 3; what++) {
		for (k = 0; k < 10000; k++) {
			struct gba_ocsp_req_view v;
			struct gba_ocsp_msg *msg = NULL;
			uint8_t *der = NULL;
			size_t len = 0;

			resp_build_init(&rb, GBA_OCSP_REVOKED, now);
			crl_build_init(&cb, now);
			gba_mem_fail_after(k);
			if (what == 0)
				ret = gba_ocsp_request_parse(wbuf, rl, &v, &msg, NULL);
			else if (what == 1)
				ret = gba_ocsp_response_build(&rb, &der, &len);
			else
				ret = gba_crl_build(&cb, &der, &len);
			gba_mem_fail_reset();
			gba_ocsp_msg_free(msg);
			gba_free(der);
			if (ret == 0)
				break;
			ck_assert_int_lt(ret, 0);
			ck_assert_ptr_null(der);
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_int_gt(k, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ocsp");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_from_gnutls);
	tcase_add_test(tc, request_crafted);
	tcase_add_test(tc, request_certid_cap);
	tcase_add_test(tc, request_serial_cap);
	tcase_add_test(tc, request_not_der);
	tcase_add_test(tc, response_statuses);
	tcase_add_test(tc, response_variants);
	tcase_add_test(tc, error_responses);
	tcase_add_test(tc, crl_three_entries);
	tcase_add_test(tc, crl_times);
	tcase_add_test(tc, crl_refusals);
	tcase_add_test(tc, reason_names);
	tcase_add_test(tc, alloc_failures);
	suite_add_tcase(s, tc);
	return th_run(s);
}
