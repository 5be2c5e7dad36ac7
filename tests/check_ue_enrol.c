/*
 * check_ue_enrol.c - gba-ue's enrolment pieces: the shared-secret
 * witnesses (known answers computed independently with Python
 * hashlib/hmac), the Ua Digest client (known answers from Python
 * hashlib.md5), request building parsed back by the CMC codec, and
 * response checking against a CA made by gba_ca_init.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_http_auth.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "testutil.h"
#include "ue_cmc.h"
#include "ue_der.h"
#include "ue_ua.h"

/* docs/notes/gba.md 2.4 Ks_NAF and B-TID (self-computed vectors) */
static const char ks_naf_hex[] =
	"7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610";
static const char btid[] = "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org";

/* python3: key = sha256(ks_naf + btid); hmac(key, 30 00); hmac(key, bytes(range(32))) */
static const char key_hex[] =
	"2d4b1b752679d771c7dd219bd9e20fbe21c7e0f266c5b1666f2ee0a6ff975ec0";
static const char proof_empty_hex[] =
	"6a6c13ff6ff7bcc59916efa590d734116b14bf22d353d21be409e519072b2641";
static const char plink_hex[] =
	"8890097f867106653f5a74c9c9b5ab93ec691e4c58e05df97b162e1cbc2fb289";

START_TEST(test_shared_key_and_witnesses)
{
	uint8_t ks[32], key[32], want[32], out[32], r[32], empty[2] = { 0x30, 0x00 };
	size_t i;

	th_unhex(ks_naf_hex, ks, 32);
	ck_assert_int_eq(ue_cmc_shared_key(ks, btid, strlen(btid), key), 0);
	th_unhex(key_hex, want, 32);
	ck_assert_mem_eq(key, want, 32);
	ck_assert_int_eq(ue_cmc_witness(key, empty, 2, out), 0);
	th_unhex(proof_empty_hex, want, 32);
	ck_assert_mem_eq(out, want, 32);
	for (i = 0; i < 32; i++)
		r[i] = (uint8_t)i;
	ck_assert_int_eq(ue_cmc_witness(key, r, 32, out), 0);
	th_unhex(plink_hex, want, 32);
	ck_assert_mem_eq(out, want, 32);
}
END_TEST

START_TEST(test_txid_is_positive)
{
	uint8_t t[UE_CMC_TXID_LEN];
	int i;

	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(ue_cmc_new_txid(t), 0);
		ck_assert(t[0] >= 0x01 && t[0] <= 0x7f);
	}
}
END_TEST

/* ---- Ua Digest ---- */

static const char realm[] = "3GPP-bootstrapping@naf.example.org";
static const char uri[] = "/enrol?response=single";
static const char req_body[] =
	"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
static const uint8_t resp_body[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
/* python3 hashlib.md5 over RFC 7616 auth-int with password = base64 text */
static const char want_response[] = "732b1558ac1097e9fad1cb2a89e55fb8";
static const char want_rspauth[] = "a0c01234e15b341bdda83301ef94059e";

static void fixed_challenge(struct ue_ua_challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->realm, realm, sizeof(realm));
	memcpy(ch->nonce, "bmFmLW5vbmNl", 13);
}

START_TEST(test_ua_challenge)
{
	static struct gba_auth a;
	struct ue_ua_challenge ch;
	const char *ok = "Digest realm=\"3GPP-bootstrapping@naf.example.org\", "
	                 "nonce=\"bmFmLW5vbmNl\", qop=\"auth-int\", algorithm=MD5, opaque=\"x\"";
	const char *aka = "Digest realm=\"3GPP-bootstrapping@naf.example.org\", "
	                  "nonce=\"n\", qop=\"auth-int\", algorithm=AKAv1-MD5";
	const char *auth = "Digest realm=\"3GPP-bootstrapping@naf.example.org\", "
	                   "nonce=\"n\", qop=\"auth\"";
	const char *plain = "Digest realm=\"naf.example.org\", nonce=\"n\", qop=\"auth,auth-int\"";

	ck_assert_int_eq(ue_ua_parse_challenge(&a, ok, strlen(ok), &ch), 0);
	ck_assert_str_eq(ch.realm, realm);
	ck_assert_str_eq(ch.nonce, "bmFmLW5vbmNl");
	ck_assert_str_eq(ch.opaque, "x");
	ck_assert_int_eq(ue_ua_parse_challenge(&a, aka, strlen(aka), &ch), GBA_EUNSUPP);
	ck_assert_int_eq(ue_ua_parse_challenge(&a, auth, strlen(auth), &ch), GBA_EUNSUPP);
	ck_assert_int_eq(ue_ua_parse_challenge(&a, plain, strlen(plain), &ch), GBA_EUNSUPP);
}
END_TEST

START_TEST(test_ua_authorization_known_answer)
{
	static struct gba_auth a;
	struct ue_ua_challenge ch;
	uint8_t ks[32];
	char pw[UE_UA_PASSWORD_SIZE], out[GBA_MAX_AUTH_HEADER_LEN];

	th_unhex(ks_naf_hex, ks, 32);
	ck_assert_int_eq(gba_base64_encode(ks, 32, pw, sizeof(pw)), 44);
	ck_assert_str_eq(pw, "eiBc54axTa1vKNH4s510q6KhcqPBNAQ7sDaRLiA2thA=");
	fixed_challenge(&ch);
	ck_assert_int_eq(ue_ua_authorization(&ch, btid, pw, "POST", uri, req_body,
	                                     strlen(req_body), "00000001", "0a4f113b", out,
	                                     sizeof(out)), 0);
	ck_assert_int_eq(gba_auth_parse(&a, GBA_AUTH_CREDENTIALS, out, strlen(out), NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, NULL), 0);
	ck_assert(gba_str_eq(gba_auth_get(&a, GBA_AUTH_RESPONSE), gba_str_c(want_response)));
	ck_assert(gba_str_eq(gba_auth_get(&a, GBA_AUTH_USERNAME), gba_str_c(btid)));
	ck_assert(gba_str_eq(gba_auth_get(&a, GBA_AUTH_URI), gba_str_c(uri)));
	ck_assert(gba_str_eq(gba_auth_get(&a, GBA_AUTH_QOP), GBA_STR_LIT("auth-int")));
	ck_assert(gba_str_eq(gba_auth_get(&a, GBA_AUTH_REALM), gba_str_c(realm)));
}
END_TEST

START_TEST(test_ua_rspauth)
{
	static struct gba_auth a;
	struct ue_ua_challenge ch;
	uint8_t ks[32], bad[sizeof(resp_body)];
	char pw[UE_UA_PASSWORD_SIZE], info[256];

	th_unhex(ks_naf_hex, ks, 32);
	ck_assert_int_eq(gba_base64_encode(ks, 32, pw, sizeof(pw)), 44);
	fixed_challenge(&ch);
	snprintf(info, sizeof(info),
	         "qop=auth-int, rspauth=\"%s\", cnonce=\"0a4f113b\", nc=00000001", want_rspauth);
	ck_assert_int_eq(ue_ua_check_info(&a, &ch, btid, pw, uri, "00000001", "0a4f113b", info,
	                                  strlen(info), resp_body, sizeof(resp_body)), 0);
	/* the body is protected */
	memcpy(bad, resp_body, sizeof(bad));
	bad[4] ^= 1;
	ck_assert_int_eq(ue_ua_check_info(&a, &ch, btid, pw, uri, "00000001", "0a4f113b", info,
	                                  strlen(info), bad, sizeof(bad)), GBA_EAUTH);
	/* someone else's cnonce */
	ck_assert_int_eq(ue_ua_check_info(&a, &ch, btid, pw, uri, "00000001", "ffffffff", info,
	                                  strlen(info), resp_body, sizeof(resp_body)), GBA_EAUTH);
	/* another uri */
	ck_assert_int_eq(ue_ua_check_info(&a, &ch, btid, pw, "/enrol", "00000001", "0a4f113b", info,
	                                  strlen(info), resp_body, sizeof(resp_body)), GBA_EAUTH);
	snprintf(info, sizeof(info), "cnonce=\"0a4f113b\", nc=00000001");
	ck_assert_int_eq(ue_ua_check_info(&a, &ch, btid, pw, uri, "00000001", "0a4f113b", info,
	                                  strlen(info), resp_body, sizeof(resp_body)), GBA_EMISSING);
}
END_TEST

/* ---- requests parsed back ---- */

static const struct gba_cmc_attr *find_ctl(const struct gba_cmc_pkidata *pd,
                                           enum gba_cmc_control c)
{
	size_t i;

	for (i = 0; i < pd->ncontrols; i++)
		if (pd->controls[i].control == c)
			return &pd->controls[i];
	return NULL;
}

static void check_request(int crmf, size_t nkeys)
{
	struct gba_key *keys[2] = { NULL, NULL };
	struct ue_cmc_req r;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err = { 0, NULL };
	struct gba_cmc_witness_v2 w;
	struct gba_blob v;
	const struct gba_cmc_attr *a;
	uint8_t ks[32], key[32], mac[32], txid[UE_CMC_TXID_LEN], nonce[16], *der = NULL, *spki;
	uint8_t ski[GBA_X509_KEY_ID_LEN];
	size_t len = 0, spki_len, i;

	th_unhex(ks_naf_hex, ks, 32);
	ck_assert_int_eq(ue_cmc_shared_key(ks, btid, strlen(btid), key), 0);
	for (i = 0; i < nkeys; i++)
		ck_assert_int_eq(gba_key_generate(&keys[i], GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(ue_cmc_new_txid(txid), 0);
	memset(nonce, 0xa5, sizeof(nonce));
	memset(&r, 0, sizeof(r));
	r.identification = btid;
	r.ks_naf = ks;
	r.keys = keys;
	r.nkeys = nkeys;
	r.crmf = crmf;
	r.txid.p = txid;
	r.txid.len = sizeof(txid);
	r.sender_nonce.p = nonce;
	r.sender_nonce.len = sizeof(nonce);
	ck_assert_int_eq(ue_cmc_pkidata(&r, &der, &len), 0);
	ck_assert_int_eq(gba_cmc_pkidata_parse(der, len, &pd, &msg, &err), 0);
	ck_assert_uint_eq(pd.nreqs, nkeys);

	a = find_ctl(&pd, GBA_CMC_TRANSACTION_ID);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(gba_cmc_get_integer(msg, a->values[0], &v, &err), 0);
	ck_assert_uint_eq(v.len, sizeof(txid));
	ck_assert_mem_eq(v.p, txid, sizeof(txid));
	a = find_ctl(&pd, GBA_CMC_SENDER_NONCE);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(gba_cmc_get_octets(msg, a->values[0], &v, &err), 0);
	ck_assert_mem_eq(v.p, nonce, sizeof(nonce));
	a = find_ctl(&pd, GBA_CMC_IDENTIFICATION);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(gba_cmc_get_utf8(msg, a->values[0], &v, &err), 0);
	ck_assert_uint_eq(v.len, strlen(btid));
	ck_assert_mem_eq(v.p, btid, v.len);

	/* identityProofV2 verifies over the reqSequence bytes as received */
	a = find_ctl(&pd, GBA_CMC_IDENTITY_PROOF_V2);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(gba_cmc_get_witness_v2(msg, a->values[0], &w, &err), 0);
	ck_assert_uint_eq(w.hash_alg.len, gba_oid_sha256.len);
	ck_assert_mem_eq(w.hash_alg.p, gba_oid_sha256.p, gba_oid_sha256.len);
	ck_assert_uint_eq(w.mac_alg.len, gba_oid_hmac_sha256.len);
	ck_assert_mem_eq(w.mac_alg.p, gba_oid_hmac_sha256.p, gba_oid_hmac_sha256.len);
	ck_assert_int_eq(ue_cmc_witness(key, pd.req_sequence.p, pd.req_sequence.len, mac), 0);
	ck_assert_uint_eq(w.witness.len, 32);
	ck_assert_mem_eq(w.witness.p, mac, 32);

	if (nkeys == 0) {
		ck_assert_ptr_null(find_ctl(&pd, GBA_CMC_POP_LINK_RANDOM));
		ck_assert_uint_eq(pd.req_sequence.len, 2);
		goto done;
	}
	/* popLinkWitnessV2 in each request = HMAC(key, popLinkRandom) */
	a = find_ctl(&pd, GBA_CMC_POP_LINK_RANDOM);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(gba_cmc_get_octets(msg, a->values[0], &v, &err), 0);
	ck_assert_uint_eq(v.len, UE_CMC_POP_RANDOM_LEN);
	ck_assert_int_eq(ue_cmc_witness(key, v.p, v.len, mac), 0);
	for (i = 0; i < nkeys; i++) {
		const struct gba_cmc_request *q = &pd.reqs[i];

		ck_assert_int_eq(q->kind, crmf ? GBA_CMC_REQ_CRM : GBA_CMC_REQ_TCR);
		ck_assert_uint_eq(q->body_part_id, i + 1);
		ck_assert_int_eq(q->has_pop_link_v2, 1);
		ck_assert_uint_eq(q->pop_link_v2.witness.len, 32);
		ck_assert_mem_eq(q->pop_link_v2.witness.p, mac, 32);
		ck_assert_int_eq(q->has_pop_sig, 1);
		ck_assert_int_eq(gba_key_spki(keys[i], &spki, &spki_len), 0);
		ck_assert_uint_eq(q->spki.len, spki_len);
		ck_assert_mem_eq(q->spki.p, spki, spki_len);
		ck_assert_int_eq(gba_x509_spki_key_id(spki, spki_len, ski), 0);
		ck_assert_uint_eq(q->ski.len, sizeof(ski));
		ck_assert_mem_eq(q->ski.p, ski, sizeof(ski));
		/* the POP signature is the key's */
		ck_assert_int_eq(gba_x509_verify_spki(spki, spki_len, q->pop_sig_alg.p,
		                                      q->pop_sig_alg.len, q->pop_signed.p,
		                                      q->pop_signed.len, q->pop_signature.p,
		                                      q->pop_signature.len), 0);
		gba_free(spki);
	}
	/* controls do not reuse the requests' bodyPartIDs */
	for (i = 0; i < pd.ncontrols; i++)
		ck_assert_uint_gt(pd.controls[i].body_part_id, nkeys);
done:
	gba_cmc_msg_free(msg);
	gba_free(der);
	for (i = 0; i < nkeys; i++)
		gba_key_free(keys[i]);
}

START_TEST(test_request_tcr)
{
	check_request(0, 1);
}
END_TEST

START_TEST(test_request_crm_two_keys)
{
	check_request(1, 2);
}
END_TEST

START_TEST(test_request_poll_empty_reqseq)
{
	check_request(0, 0);
}
END_TEST

/* ---- responses ---- */

static char cadir[256];
static struct gba_signer *cmc_signer, *ca_signer;
static struct ue_certs root, ca;

static void ca_setup(void)
{
	struct gba_ca_init_conf conf;
	char tmpl[] = "/tmp/check_ue_enrolXXXXXX", k[300], c[300];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cadir, sizeof(cadir), "%s/ca", tmpl);
	memset(&conf, 0, sizeof(conf));
	conf.dir = cadir;
	conf.name = "Test";
	conf.key_type = GBA_KEY_EC_P256;
	conf.root_days = 30;
	conf.ca_days = 20;
	conf.signer_days = 10;
	ck_assert_int_eq(gba_ca_init(&conf), 0);
	snprintf(k, sizeof(k), "%s/cmc.key", cadir);
	snprintf(c, sizeof(c), "%s/cmc.pem", cadir);
	ck_assert_int_eq(gba_signer_open(&cmc_signer, k, c), 0);
	snprintf(k, sizeof(k), "%s/ca.key", cadir);
	snprintf(c, sizeof(c), "%s/ca.pem", cadir);
	ck_assert_int_eq(gba_signer_open(&ca_signer, k, c), 0);
	ck_assert_int_eq(ue_pem_read(c, "CERTIFICATE", &ca), 0);
	snprintf(c, sizeof(c), "%s/root.pem", cadir);
	ck_assert_int_eq(ue_pem_read(c, "CERTIFICATE", &root), 0);
}

static void ca_teardown(void)
{
	static const char *const files[] = { "root.pem", "root.key", "ca.pem", "ca.key",
		                             "cmc.pem", "cmc.key", "chain.pem" };
	char p[400];
	size_t i;

	gba_signer_free(cmc_signer);
	gba_signer_free(ca_signer);
	ue_certs_clear(&root);
	ue_certs_clear(&ca);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", cadir, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(cadir);
	snprintf(p, sizeof(p), "%s", cadir);
	*strrchr(p, '/') = '\0';
	(void)rmdir(p);
}

/* A signed PKIResponse; status st for body part 1. */
static void make_response(const struct gba_signer *signer, enum gba_cmc_status st,
                          struct gba_blob txid, struct gba_blob nonce, const uint8_t *issued,
                          size_t issued_len, uint8_t **der, size_t *len)
{
	struct gba_cmc_status_info si;
	struct gba_cmc_response resp;
	struct gba_cms_sign_req sr;
	struct gba_blob certs[2];
	uint32_t body = 1;
	uint8_t *pr = NULL;
	size_t prlen = 0, olen = 0;
	const struct gba_key *k = gba_signer_key(signer);

	memset(&si, 0, sizeof(si));
	si.status = st;
	si.body_list = &body;
	si.nbody = 1;
	if (st == GBA_CMC_FAILED) {
		si.has_fail_info = 1;
		si.fail_info = GBA_CMC_BAD_IDENTITY;
		si.status_string = "no such B-TID";
	}
	if (st == GBA_CMC_PENDING) {
		si.has_pend_info = 1;
		si.pend_token.p = (const uint8_t *)"tok-1234";
		si.pend_token.len = 8;
		si.pend_time = gba_time_now() + 60;
	}
	memset(&resp, 0, sizeof(resp));
	resp.statuses = &si;
	resp.nstatuses = 1;
	resp.transaction_id = txid;
	resp.recipient_nonce = nonce;
	resp.sender_nonce.p = (const uint8_t *)"ca-nonce-0123456";
	resp.sender_nonce.len = 16;
	ck_assert_int_eq(gba_cmc_response_encode(&resp, &pr, &prlen), 0);
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = gba_oid_cct_pkiresponse;
	sr.econtent.p = pr;
	sr.econtent.len = prlen;
	sr.signer_cert.p = gba_signer_cert(signer, &sr.signer_cert.len);
	certs[0].p = ca.der[0];
	certs[0].len = ca.len[0];
	certs[1].p = issued;
	certs[1].len = issued_len;
	sr.certs = certs;
	sr.ncerts = issued != NULL ? 2 : 1;
	sr.sig_alg.p = gba_key_sig_oid(k, &olen);
	sr.sig_alg.len = olen;
	sr.hash = gba_key_cms_hash(k);
	sr.signing_time = gba_time_now();
	sr.sign = gba_key_sign;
	sr.sign_ctx = (void *)(uintptr_t)k;
	ck_assert_int_eq(gba_cms_sign(&sr, der, len), 0);
	gba_free(pr);
}

static void issue_for(const uint8_t *spki, size_t spki_len, uint8_t **der, size_t *len)
{
	struct gba_x509_template t;
	uint8_t serial[16];
	static const char *const eku[] = { "1.3.6.1.5.5.7.3.2" };

	ck_assert_int_eq(gba_x509_random_serial(serial, sizeof(serial)), 0);
	memset(&t, 0, sizeof(t));
	t.spki = spki;
	t.spki_len = spki_len;
	t.serial = serial;
	t.serial_len = sizeof(serial);
	t.not_before = gba_time_now() - 60;
	t.not_after = gba_time_now() + 86400;
	t.subject = "CN=ue.example.org";
	t.key_usage = GBA_X509_KU_DIGITAL_SIGNATURE;
	t.eku = eku;
	t.neku = 1;
	ck_assert_int_eq(gba_signer_issue(ca_signer, &t, der, len), 0);
}

START_TEST(test_response_checks)
{
	struct gba_key *key = NULL;
	struct ue_cmc_result res;
	uint8_t *spki = NULL, *cert = NULL, *der = NULL, txid_b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t nonce_b[16], other_b[16];
	size_t spki_len = 0, cert_len = 0, len = 0;
	struct gba_blob txid = { txid_b, 8 }, nonce = { nonce_b, 16 }, other = { other_b, 16 };
	struct gba_blob sp;
	const char *why = NULL;
	int eku;

	memset(nonce_b, 0x11, sizeof(nonce_b));
	memset(other_b, 0x22, sizeof(other_b));
	ck_assert_int_eq(gba_key_generate(&key, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_spki(key, &spki, &spki_len), 0);
	sp.p = spki;
	sp.len = spki_len;
	issue_for(spki, spki_len, &cert, &cert_len);

	/* the CMC signer has id-kp-cmcCA, the issuing CA does not */
	{
		size_t cl = 0;
		const uint8_t *c = gba_signer_cert(cmc_signer, &cl);

		eku = gba_x509_cert_has_eku(c, cl, UE_OID_KP_CMC_CA);
		ck_assert_int_eq(eku, 1);
		ck_assert_int_eq(gba_x509_cert_has_eku(ca.der[0], ca.len[0], UE_OID_KP_CMC_CA), 0);
	}

	/* success */
	make_response(cmc_signer, GBA_CMC_SUCCESS, txid, nonce, cert, cert_len, &der, &len);
	{
		struct gba_cms_view v;
		struct gba_cms_msg *m = NULL;
		struct gba_der_error e;
		struct gba_blob b;

		ck_assert_int_eq(gba_cms_parse(der, len, &v, &m, &e), 0);
		ck_assert_uint_eq(v.ncerts, 3);
		ck_assert_int_eq(gba_cms_cert(m, 2, &b), 0);
		ck_assert_int_eq(gba_cms_cert(m, 3, &b), GBA_EINVAL);
		gba_cms_msg_free(m);
	}
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), 0);
	ck_assert_int_eq(res.status, GBA_CMC_SUCCESS);
	ck_assert_uint_eq(res.issued.n, 1);
	ck_assert_uint_eq(res.issued.len[0], cert_len);
	ck_assert_mem_eq(res.issued.der[0], cert, cert_len);
	ck_assert_uint_eq(res.chain.n, 1);
	ck_assert_mem_eq(res.chain.der[0], ca.der[0], ca.len[0]);
	ue_cmc_result_clear(&res);

	/* our nonce not echoed */
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, other, &sp, 1,
	                                 time(NULL), &res, &why), GBA_EREPLAY);
	/* an unrelated trust anchor */
	{
		struct gba_signer *other_ca = NULL;
		const uint8_t *oc;
		size_t ocl = 0;

		ck_assert_int_eq(gba_signer_generate_ca(&other_ca, "Other", 1), 0);
		oc = gba_signer_cert(other_ca, &ocl);
		ck_assert_int_eq(ue_cmc_response(der, len, oc, ocl, txid, nonce, &sp, 1, time(NULL),
		                                 &res, &why), GBA_ESIG);
		gba_signer_free(other_ca);
	}
	/* another transactionId */
	txid_b[0] ^= 1;
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), GBA_EAUTH);
	txid_b[0] ^= 1;
	/* a tampered byte anywhere fails */
	der[len - 5] ^= 0x01;
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why) < 0, 1);
	gba_free(der);

	/* signed by a CA certificate without a CMC EKU */
	make_response(ca_signer, GBA_CMC_SUCCESS, txid, nonce, cert, cert_len, &der, &len);
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), GBA_EAUTH);
	gba_free(der);

	/* pending */
	make_response(cmc_signer, GBA_CMC_PENDING, txid, nonce, NULL, 0, &der, &len);
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), 0);
	ck_assert_int_eq(res.status, GBA_CMC_PENDING);
	ck_assert_uint_eq(res.pend_token_len, 8);
	ck_assert_mem_eq(res.pend_token, "tok-1234", 8);
	ue_cmc_result_clear(&res);
	gba_free(der);

	/* failed */
	make_response(cmc_signer, GBA_CMC_FAILED, txid, nonce, NULL, 0, &der, &len);
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), 0);
	ck_assert_int_eq(res.status, GBA_CMC_FAILED);
	ck_assert_int_eq(res.has_fail_info, 1);
	ck_assert_int_eq(res.fail_info, GBA_CMC_BAD_IDENTITY);
	ck_assert_str_eq(res.status_string, "no such B-TID");
	ue_cmc_result_clear(&res);
	gba_free(der);

	/* success without a certificate for our key */
	make_response(cmc_signer, GBA_CMC_SUCCESS, txid, nonce, NULL, 0, &der, &len);
	ck_assert_int_eq(ue_cmc_response(der, len, root.der[0], root.len[0], txid, nonce, &sp, 1,
	                                 time(NULL), &res, &why), GBA_ENOTFOUND);
	gba_free(der);

	gba_free(cert);
	gba_free(spki);
	gba_key_free(key);
}
END_TEST

START_TEST(test_certs_only)
{
	struct gba_key *key = NULL;
	struct ue_certs leaf, chain;
	struct gba_blob certs[3], sp;
	uint8_t *spki = NULL, *cert = NULL, *der = NULL;
	size_t spki_len = 0, cert_len = 0, len = 0;

	memset(&leaf, 0, sizeof(leaf));
	memset(&chain, 0, sizeof(chain));
	ck_assert_int_eq(gba_key_generate(&key, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_spki(key, &spki, &spki_len), 0);
	issue_for(spki, spki_len, &cert, &cert_len);
	certs[0].p = root.der[0];
	certs[0].len = root.len[0];
	certs[1].p = cert;
	certs[1].len = cert_len;
	certs[2].p = ca.der[0];
	certs[2].len = ca.len[0];
	ck_assert_int_eq(gba_cms_certs_only(certs, 3, &der, &len), 0);
	sp.p = spki;
	sp.len = spki_len;
	ck_assert_int_eq(ue_cmc_certs_only(der, len, sp, &leaf, &chain), 0);
	ck_assert_uint_eq(leaf.n, 1);
	ck_assert_mem_eq(leaf.der[0], cert, cert_len);
	ck_assert_uint_eq(chain.n, 2);          /* issuing CA, then the root */
	ck_assert_mem_eq(chain.der[0], ca.der[0], ca.len[0]);
	ck_assert_mem_eq(chain.der[1], root.der[0], root.len[0]);
	ue_certs_clear(&leaf);
	ue_certs_clear(&chain);
	gba_free(der);
	gba_free(cert);
	gba_free(spki);
	gba_key_free(key);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ue_enrol");
	TCase *tc = tcase_create("pure");
	TCase *tr = tcase_create("requests");
	TCase *tp = tcase_create("responses");

	tcase_add_test(tc, test_shared_key_and_witnesses);
	tcase_add_test(tc, test_txid_is_positive);
	tcase_add_test(tc, test_ua_challenge);
	tcase_add_test(tc, test_ua_authorization_known_answer);
	tcase_add_test(tc, test_ua_rspauth);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, test_request_tcr);
	tcase_add_test(tr, test_request_crm_two_keys);
	tcase_add_test(tr, test_request_poll_empty_reqseq);
	suite_add_tcase(s, tr);
	tcase_set_timeout(tp, 60);
	tcase_add_unchecked_fixture(tp, ca_setup, ca_teardown);
	tcase_add_test(tp, test_response_checks);
	tcase_add_test(tp, test_certs_only);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	return th_run(suite());
}
