/*
 * check_asn1.c - the codec layer: CCM encode/decode, SignedData build and
 * verification, strict rejection of crafted inputs, and every allocation
 * failing in turn.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "gba_asn1.h"
#include "gba_cms.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "testutil.h"

static struct gba_signer *ca, *ca2;
static const uint8_t *ca_der, *ca2_der;
static size_t ca_len, ca2_len;
static uint8_t ocsp[8192], crl[8192];
static size_t ocsp_len, crl_len;

static size_t slurp(const char *name, uint8_t *buf, size_t size)
{
	char path[1024];
	const char *dir = getenv("srcdir");
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/data/%s", dir ? dir : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, size, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, size);
	return n;
}

static void setup(void)
{
	ck_assert_int_eq(gba_signer_generate_ca(&ca, "check CA", 2), 0);
	ck_assert_int_eq(gba_signer_generate_ca(&ca2, "other CA", 2), 0);
	ca_der = gba_signer_cert(ca, &ca_len);
	ca2_der = gba_signer_cert(ca2, &ca2_len);
	ocsp_len = slurp("ocsp_resp.der", ocsp, sizeof(ocsp));
	crl_len = slurp("crl.der", crl, sizeof(crl));
}

static void teardown(void)
{
	gba_signer_free(ca);
	gba_signer_free(ca2);
}

static void full_ccm(struct gba_ccm *c)
{
	static const char btid[] = "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org";
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 16; i++)
		c->message_id[i] = (uint8_t)(0xa0 + i);
	c->seq = UINT64_C(0xfedcba9876543210);
	c->issued_at = 1795000000;
	c->subscriber_kind = GBA_CCM_SUB_BTID;
	c->subscriber = gba_str_c(btid);
	c->application_id = GBA_STR_LIT("ims-client");
	c->action = GBA_CCM_INSTALL;
	c->certificate.p = ca_der;
	c->certificate.len = ca_len;
	c->chain[0] = c->certificate;
	c->chain[1].p = ca2_der;
	c->chain[1].len = ca2_len;
	c->nchain = 2;
	c->server_certs[0] = c->chain[1];
	c->nserver_certs = 1;
	c->trust_anchors[0] = c->certificate;
	c->ntrust_anchors = 1;
	c->revocation_kind = GBA_CCM_REV_OCSP;
	c->revocation.p = ocsp;
	c->revocation.len = ocsp_len;
	c->has_validity = 1;
	c->not_before = 1795000000;
	c->not_after = 1795000000 + 86400 * 365;
	c->has_renew_by = 1;
	c->renew_by = 1795000000 + 86400 * 300;
}

static void assert_blob(struct gba_blob a, struct gba_blob b)
{
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.p, b.p, a.len);
}

START_TEST(ccm_roundtrip_every_field)
{
	struct gba_ccm in, out;
	struct gba_ccm_msg *msg = NULL;
	struct gba_der_error err = { 0, NULL };
	uint8_t *der = NULL, *der2 = NULL;
	size_t len = 0, len2 = 0;

	full_ccm(&in);
	ck_assert_int_eq(gba_ccm_encode(&in, &der, &len), 0);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_CCM, der, len, &err), 0);
	ck_assert_int_eq(gba_ccm_decode(der, len, &out, &msg, &err), 0);
	ck_assert_mem_eq(out.message_id, in.message_id, 16);
	ck_assert(out.seq == in.seq);
	ck_assert(out.issued_at == in.issued_at);
	ck_assert_int_eq(out.subscriber_kind, GBA_CCM_SUB_BTID);
	ck_assert(gba_str_eq(out.subscriber, in.subscriber));
	ck_assert(gba_str_eq(out.application_id, in.application_id));
	ck_assert_int_eq(out.action, GBA_CCM_INSTALL);
	assert_blob(out.certificate, in.certificate);
	ck_assert_uint_eq(out.nchain, 2);
	assert_blob(out.chain[0], in.chain[0]);
	assert_blob(out.chain[1], in.chain[1]);
	ck_assert_uint_eq(out.nserver_certs, 1);
	assert_blob(out.server_certs[0], in.server_certs[0]);
	ck_assert_uint_eq(out.ntrust_anchors, 1);
	ck_assert_int_eq(out.revocation_kind, GBA_CCM_REV_OCSP);
	assert_blob(out.revocation, in.revocation);
	ck_assert(out.has_validity && out.not_before == in.not_before &&
	          out.not_after == in.not_after);
	ck_assert(out.has_renew_by && out.renew_by == in.renew_by);
	/* re-encoding the decoded view gives the same bytes */
	ck_assert_int_eq(gba_ccm_encode(&out, &der2, &len2), 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(der2, der, len);
	gba_ccm_msg_free(msg);
	gba_free(der);
	gba_free(der2);
}
END_TEST

START_TEST(ccm_crl_and_minimal)
{
	struct gba_ccm in, out;
	struct gba_ccm_msg *msg = NULL;
	uint8_t *der = NULL;
	size_t len = 0;

	memset(&in, 0, sizeof(in));
	in.subscriber_kind = GBA_CCM_SUB_IMPI;
	in.subscriber = GBA_STR_LIT("001010123456789@ims.mnc001.mcc001.3gppnetwork.org");
	in.application_id = GBA_STR_LIT("a");
	in.action = GBA_CCM_REVOKED;
	in.issued_at = 0;
	in.revocation_kind = GBA_CCM_REV_CRL;
	in.revocation.p = crl;
	in.revocation.len = crl_len;
	ck_assert_int_eq(gba_ccm_encode(&in, &der, &len), 0);
	ck_assert_int_eq(gba_ccm_decode(der, len, &out, &msg, NULL), 0);
	ck_assert_int_eq(out.action, GBA_CCM_REVOKED);
	ck_assert_int_eq(out.revocation_kind, GBA_CCM_REV_CRL);
	assert_blob(out.revocation, in.revocation);
	ck_assert_uint_eq(out.certificate.len, 0);
	ck_assert_uint_eq(out.nchain, 0);
	ck_assert(!out.has_validity && !out.has_renew_by);
	ck_assert(out.seq == 0);
	gba_ccm_msg_free(msg);
	gba_free(der);
}
END_TEST

START_TEST(ccm_encode_enforces_constraints)
{
	struct gba_ccm c;
	uint8_t *der = NULL;
	size_t len = 0;
	char longid[130];

	full_ccm(&c);
	memset(longid, 'x', sizeof(longid));
	c.application_id.p = longid;
	c.application_id.len = 129;                       /* SIZE(1..128) */
	ck_assert_int_eq(gba_ccm_encode(&c, &der, &len), GBA_ECONSTRAINT);
	ck_assert_ptr_null(der);
	c.application_id.len = 128;
	ck_assert_int_eq(gba_ccm_encode(&c, &der, &len), 0);
	gba_free(der);
	der = NULL;
	c.subscriber.len = 0;                             /* SIZE(1..255) */
	ck_assert_int_eq(gba_ccm_encode(&c, &der, &len), GBA_ECONSTRAINT);
	full_ccm(&c);
	c.nchain = GBA_CCM_MAX_CHAIN + 1;
	ck_assert_int_eq(gba_ccm_encode(&c, &der, &len), GBA_EINVAL);
	full_ccm(&c);
	c.action = (enum gba_ccm_action)6;
	ck_assert_int_eq(gba_ccm_encode(&c, &der, &len), GBA_EINVAL);
	full_ccm(&c);
	c.certificate.p = ocsp;                           /* not a certificate */
	c.certificate.len = ocsp_len;
	ck_assert_int_lt(gba_ccm_encode(&c, &der, &len), 0);
	ck_assert_ptr_null(der);
}
END_TEST

/* A minimal CCM: version 1, id, seq 1, issuedAt, impi "u", app "a",
 * action install; built by hand so single bytes can be changed. */
static size_t minimal_ccm(uint8_t *b)
{
	static const uint8_t tmpl[] = {
		0x30, 0x32,
		0x02, 0x01, 0x01,                                 /* version */
		0x04, 0x10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		0x02, 0x01, 0x01,                                 /* sequenceNumber */
		0x18, 0x0f, '2', '0', '2', '6', '1', '1', '2', '3',
		'1', '2', '0', '0', '0', '0', 'Z',               /* issuedAt */
		0x80, 0x01, 'u',                                  /* subscriber impi */
		0x0c, 0x01, 'a',                                  /* applicationId */
		0x0a, 0x01, 0x00                                  /* action */
	};
	memcpy(b, tmpl, sizeof(tmpl));
	return sizeof(tmpl);
}

START_TEST(ccm_decode_rejects_crafted)
{
	struct gba_ccm c;
	struct gba_ccm_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t b[128];
	size_t n;

	n = minimal_ccm(b);
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), 0);
	ck_assert(c.seq == 1);
	ck_assert_int_eq(c.issued_at, 1795435200);  /* 2026-11-23T12:00:00Z */
	gba_ccm_msg_free(msg);
	msg = NULL;

	n = minimal_ccm(b);
	b[4] = 2;                                         /* version 2 */
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), GBA_EUNSUPP);
	ck_assert_str_eq(err.reason, "unsupported CCM version");
	ck_assert_ptr_null(msg);

	n = minimal_ccm(b);
	b[n - 1] = 6;                                     /* action out of range */
	ck_assert_int_lt(gba_ccm_decode(b, n, &c, &msg, &err), 0);
	ck_assert_ptr_null(msg);

	n = minimal_ccm(b);
	b[25] = 0xff;                                     /* seq = -1 */
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), GBA_ECONSTRAINT);

	n = minimal_ccm(b);
	b[n++] = 0x87;                                    /* unknown extension [7] NULL */
	b[n++] = 0x00;
	b[1] = (uint8_t)(n - 2);
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), GBA_ENOTDER);
	ck_assert_ptr_nonnull(strstr(err.reason, "re-encoding differs"));
	ck_assert_uint_eq(err.offset, 1);                 /* the outer length differs first */

	n = minimal_ccm(b);
	b[n++] = 0x00;                                    /* trailing byte */
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), GBA_ENOTDER);
	ck_assert_uint_eq(err.offset, n - 1);

	n = minimal_ccm(b);
	b[43] = 0x81;                                     /* subscriber [1] btid is fine */
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), 0);
	ck_assert_int_eq(c.subscriber_kind, GBA_CCM_SUB_BTID);
	gba_ccm_msg_free(msg);
	msg = NULL;
	b[43] = 0x82;                                     /* no [2] alternative */
	ck_assert_int_lt(gba_ccm_decode(b, n, &c, &msg, &err), 0);

	n = minimal_ccm(b);
	b[44] = 0;                                        /* empty impi: SIZE(1..255) */
	memmove(b + 45, b + 46, n - 46);
	n--;
	b[1] = (uint8_t)(n - 2);
	ck_assert_int_eq(gba_ccm_decode(b, n, &c, &msg, &err), GBA_ECONSTRAINT);
}
END_TEST

static int sign_ccm(struct gba_signer *s, const uint8_t *content, size_t clen,
                    uint8_t **out, size_t *outlen)
{
	struct gba_cms_sign_req req;
	size_t oid_len;

	memset(&req, 0, sizeof(req));
	req.econtent_type = gba_oid_ct_ccm;
	req.econtent.p = content;
	req.econtent.len = clen;
	req.signer_cert.p = gba_signer_cert(s, &req.signer_cert.len);
	req.sig_alg.p = gba_signer_sig_oid(s, &oid_len);
	req.sig_alg.len = oid_len;
	req.signing_time = (int64_t)time(NULL);
	req.sign = gba_signer_sign;
	req.sign_ctx = s;
	return gba_cms_sign(&req, out, outlen);
}

START_TEST(cms_sign_then_verify_and_tamper)
{
	struct gba_cms_view v;
	struct gba_cms_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t content[128], *sd = NULL;
	size_t clen, sdlen = 0, i;

	clen = minimal_ccm(content);
	ck_assert_int_eq(sign_ccm(ca, content, clen, &sd, &sdlen), 0);
	ck_assert_int_eq(gba_cms_verify(sd, sdlen, ca_der, ca_len, time(NULL), &v, &msg, &err), 0);
	ck_assert_uint_eq(v.econtent_type.len, gba_oid_ct_ccm.len);
	ck_assert_mem_eq(v.econtent_type.p, gba_oid_ct_ccm.p, gba_oid_ct_ccm.len);
	ck_assert_uint_eq(v.econtent.len, clen);
	ck_assert_mem_eq(v.econtent.p, content, clen);
	ck_assert_uint_eq(v.ncerts, 1);
	ck_assert_uint_eq(v.nsigners, 1);
	gba_cms_msg_free(msg);
	msg = NULL;

	/* another trust anchor */
	ck_assert_int_eq(gba_cms_verify(sd, sdlen, ca2_der, ca2_len, time(NULL), &v, &msg, &err),
	                 GBA_ESIG);
	ck_assert_ptr_null(msg);
	/* after the CA expired */
	ck_assert_int_eq(gba_cms_verify(sd, sdlen, ca_der, ca_len, time(NULL) + 3 * 86400, &v,
	                                &msg, &err), GBA_ESIG);
	/* a changed byte of content: messageDigest no longer matches */
	for (i = 0; i + clen <= sdlen; i++)
		if (memcmp(sd + i, content, clen) == 0)
			break;
	ck_assert_uint_le(i + clen, sdlen);
	sd[i + clen - 1] ^= 0x01;                         /* the action */
	ck_assert_int_eq(gba_cms_verify(sd, sdlen, ca_der, ca_len, time(NULL), &v, &msg, &err),
	                 GBA_ESIG);
	ck_assert_str_eq(err.reason, "messageDigest attribute missing, repeated or wrong");
	sd[i + clen - 1] ^= 0x01;
	/* a changed signature byte (ECDSA: s is at the very end) */
	sd[sdlen - 1] ^= 0x01;
	ck_assert_int_eq(gba_cms_verify(sd, sdlen, ca_der, ca_len, time(NULL), &v, &msg, &err),
	                 GBA_ESIG);
	ck_assert_str_eq(err.reason, "signature does not verify");
	/* truncated */
	ck_assert_int_lt(gba_cms_verify(sd, sdlen - 1, ca_der, ca_len, time(NULL), &v, &msg,
	                                &err), 0);
	ck_assert_ptr_null(msg);
	gba_free(sd);
}
END_TEST

/*
 * Found by fuzzing: requestorName [1] EXPLICIT GeneralName sent in
 * primitive form, hiding an indefinite length with a bad end-of-contents.
 * Before gen/patches 0007/0008 the decoder looped forever (the test's
 * timeout would fail it); now it refuses at once.
 */
START_TEST(explicit_tag_in_primitive_form_is_refused)
{
	static const uint8_t hang[] = {
		0x30, 0x0c, 0x30, 0x0a, 0x81, 0x06, 0xa4, 0x80, 0x30, 0x00, 0x00, 0x01, 0x30, 0x00
	};
	/* the same request with a DER requestorName [1] { [4] Name {} } */
	static const uint8_t good[] = {
		0x30, 0x0a, 0x30, 0x08, 0xa1, 0x04, 0xa4, 0x02, 0x30, 0x00, 0x30, 0x00
	};
	struct gba_der_error err;

	ck_assert_int_lt(gba_asn1_check(GBA_PDU_OCSP_REQUEST, hang, sizeof(hang), &err), 0);
	ck_assert_ptr_nonnull(err.reason);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_OCSP_REQUEST, good, sizeof(good), &err), 0);
}
END_TEST

START_TEST(pdu_table)
{
	enum gba_pdu p;
	struct gba_der_error err;

	ck_assert_int_eq(gba_pdu_by_name("CertConfigMessage", &p), 0);
	ck_assert_int_eq(p, GBA_PDU_CCM);
	ck_assert_int_eq(gba_pdu_by_name("Nope", &p), GBA_ENOTFOUND);
	ck_assert_str_eq(gba_pdu_name(GBA_PDU_PKI_DATA), "PKIData");
	ck_assert_ptr_null(gba_pdu_name(GBA_PDU_COUNT));
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_CERTIFICATE, ca_der, ca_len, &err), 0);
	ck_assert_int_lt(gba_asn1_check(GBA_PDU_CCM, ca_der, ca_len, &err), 0);
	ck_assert_ptr_nonnull(err.reason);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_OCSP_RESPONSE, ocsp, ocsp_len, &err), 0);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_CRL, crl, crl_len, &err), 0);
}
END_TEST

/*
 * Every allocation made by encode, decode, sign and verify fails in
 * turn: each call must return an error (never crash or leak; the
 * sanitizer build checks leaks) until the budget is large enough.
 */
START_TEST(allocation_failures_are_clean)
{
	struct gba_ccm in, out;
	struct gba_ccm_msg *msg;
	struct gba_cms_view v;
	struct gba_cms_msg *cmsg;
	uint8_t *der, *sd = NULL;
	size_t len, sdlen = 0;
	long n;
	int ret, step;

	full_ccm(&in);
	ck_assert_int_eq(gba_ccm_encode(&in, &der, &len), 0);
	ck_assert_int_eq(sign_ccm(ca, der, len, &sd, &sdlen), 0);
	for (step = 0; step < 4; step++) {
		for (n = 0;; n++) {
			uint8_t *tmp = NULL;
			size_t tmplen = 0;

			msg = NULL;
			cmsg = NULL;
			gba_mem_fail_after(n);
			switch (step) {
			case 0:
				ret = gba_ccm_encode(&in, &tmp, &tmplen);
				break;
			case 1:
				ret = gba_ccm_decode(der, len, &out, &msg, NULL);
				break;
			case 2:
				ret = sign_ccm(ca, der, len, &tmp, &tmplen);
				break;
			default:
				ret = gba_cms_verify(sd, sdlen, ca_der, ca_len, time(NULL), &v,
				                     &cmsg, NULL);
				break;
			}
			gba_mem_fail_reset();
			gba_free(tmp);
			gba_ccm_msg_free(msg);
			gba_cms_msg_free(cmsg);
			if (ret == 0)
				break;
			ck_assert_msg(ret < 0, "step %d n %ld", step, n);
			ck_assert_msg(n < 100000, "step %d never succeeds", step);
		}
		ck_assert_int_gt(n, 0);   /* the call does allocate, so this tested something */
	}
	gba_free(der);
	gba_free(sd);
}
END_TEST

static Suite *asn1_suite(void)
{
	Suite *s = suite_create("asn1");
	TCase *tc = tcase_create("codec");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ccm_roundtrip_every_field);
	tcase_add_test(tc, ccm_crl_and_minimal);
	tcase_add_test(tc, ccm_encode_enforces_constraints);
	tcase_add_test(tc, ccm_decode_rejects_crafted);
	tcase_add_test(tc, cms_sign_then_verify_and_tamper);
	tcase_add_test(tc, explicit_tag_in_primitive_form_is_refused);
	tcase_add_test(tc, pdu_table);
	tcase_add_test(tc, allocation_failures_are_clean);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(asn1_suite());
}
