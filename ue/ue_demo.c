/*
 * ue_demo.c - `gba-ue demo`: the GBA key hierarchy on the TS 35.208
 * set 1 test subscriber, and a CCM round trip through the project's own
 * codecs.  The keys printed here are published test values, not secrets.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gba_asn1.h"
#include "gba_cms.h"
#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_x509.h"
#include "ue.h"

/* TS 35.208 test set 1 and the identities of docs/notes/gba.md 2.4. */
static const uint8_t k[16] = {
	0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
	0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc
};
static const uint8_t op[16] = {
	0xcd, 0xc2, 0x02, 0xd5, 0x12, 0x3e, 0x20, 0xf6,
	0x2b, 0x6d, 0x67, 0x6a, 0xc7, 0x2c, 0xb3, 0x18
};
static const uint8_t rand_[16] = {
	0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d,
	0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35
};
static const uint8_t sqn[6] = { 0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07 };
static const uint8_t amf[2] = { 0xb9, 0xb9 };
static const char impi[] = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
static const char naf_fqdn[] = "naf.example.org";
static const char bsf_fqdn[] = "bsf.mnc001.mcc001.pub.3gppnetwork.org";

static void hexline(const char *label, const uint8_t *p, size_t len)
{
	char hex[2 * 64 + 1];

	if (len > 64)
		len = 64;
	gba_hex_encode(p, len, hex);
	printf("  %-22s %s\n", label, hex);
}

int ue_demo_vectors(void)
{
	uint8_t opc[16], ks[32], ks_naf[32], both[32], auts[14], res[8];
	static const uint8_t sqn_ms[6] = { 0, 0, 0, 0, 0, 0x21 };
	struct gba_aka_vector av;
	struct gba_digest_input in;
	char s[256], resp[33], nonce[64];
	int ret;

	printf("GBA reference vectors (TS 35.208 set 1 test subscriber)\n");
	printf("  %-22s %s\n", "IMPI", impi);
	printf("  %-22s %s\n", "BSF", bsf_fqdn);
	printf("  %-22s %s\n", "NAF", naf_fqdn);
	ret = gba_milenage_opc(k, op, opc);
	if (ret < 0)
		goto out;
	hexline("OPc", opc, 16);
	ret = gba_milenage_vector(k, opc, rand_, sqn, amf, &av);
	if (ret < 0)
		goto out;
	hexline("RAND", av.rand, 16);
	hexline("AUTN", av.autn, 16);
	hexline("RES", av.xres, 8);
	hexline("CK", av.ck, 16);
	hexline("IK", av.ik, 16);
	memcpy(both, av.rand, 16);
	memcpy(both + 16, av.autn, 16);
	ret = gba_base64_encode(both, 32, nonce, sizeof(nonce));
	if (ret < 0)
		goto out;
	printf("  %-22s %s\n", "nonce", nonce);
	gba_ks_from_ck_ik(av.ck, av.ik, ks);
	hexline("Ks", ks, 32);
	ret = gba_btid(av.rand, bsf_fqdn, strlen(bsf_fqdn), s, sizeof(s));
	if (ret < 0)
		goto out;
	printf("  %-22s %s\n", "B-TID", s);
	ret = gba_ks_naf(ks, av.rand, impi, strlen(impi), naf_fqdn, strlen(naf_fqdn),
	                 gba_ua_id_http_digest, ks_naf);
	if (ret < 0)
		goto out;
	hexline("Ks_NAF (01 00 00 00 02)", ks_naf, 32);
	ret = gba_ks_naf(ks, av.rand, impi, strlen(impi), naf_fqdn, strlen(naf_fqdn),
	                 gba_ua_id_pki_portal, ks_naf);
	if (ret < 0)
		goto out;
	hexline("Ks_NAF (01 00 00 00 00)", ks_naf, 32);
	ret = gba_ks_int_naf(ks, av.rand, impi, strlen(impi), naf_fqdn, strlen(naf_fqdn),
	                     gba_ua_id_http_digest, ks_naf);
	if (ret < 0)
		goto out;
	hexline("Ks_int_NAF (..02)", ks_naf, 32);
	ret = gba_tmpi(ks, av.rand, impi, strlen(impi), bsf_fqdn, strlen(bsf_fqdn), s, sizeof(s));
	if (ret < 0)
		goto out;
	printf("  %-22s %s\n", "TMPI", s);

	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(impi);
	in.realm = gba_str_c(bsf_fqdn);
	in.nonce = gba_str_c(nonce);
	in.nc = GBA_STR_LIT("00000001");
	in.cnonce = GBA_STR_LIT("0a4f113b");
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("GET");
	in.uri = GBA_STR_LIT("/");
	memcpy(res, av.xres, 8);
	in.password = res;
	in.password_len = 8;
	ret = gba_digest_response(&in, resp);
	if (ret < 0)
		goto out;
	printf("  %-22s %s\n", "Ub digest response", resp);
	ret = gba_milenage_auts(k, opc, av.rand, sqn_ms, auts);
	if (ret < 0)
		goto out;
	hexline("AUTS (SQN_MS=..21)", auts, 14);
	in.password_len = 0;
	ret = gba_digest_response(&in, resp);
	if (ret < 0)
		goto out;
	printf("  %-22s %s\n", "resync response", resp);
out:
	gba_wipe(opc, sizeof(opc));
	gba_wipe(ks, sizeof(ks));
	gba_wipe(ks_naf, sizeof(ks_naf));
	gba_wipe(res, sizeof(res));
	gba_wipe(&av, sizeof(av));
	if (ret < 0)
		fprintf(stderr, "gba-ue: vectors: %s\n", gba_strerror(ret));
	return ret < 0 ? 1 : 0;
}

static int write_all(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;
	int n, ok;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return GBA_ETOOBIG;
	f = fopen(path, "wb");
	if (f == NULL)
		return GBA_EIO;
	ok = fwrite(p, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : GBA_EIO;
}

static void print_time(const char *label, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	printf("  %-22s %s\n", label, buf);
}

int ue_demo_ccm(const char *outdir)
{
	struct gba_signer *ca = NULL;
	struct gba_ccm ccm, got;
	struct gba_ccm_msg *msg = NULL;
	struct gba_cms_sign_req req;
	struct gba_der_error derr = { 0, NULL };
	uint8_t *ccm_der = NULL, *signed_der = NULL;
	const uint8_t *content;
	struct gba_cms_view view;
	struct gba_cms_msg *cms = NULL;
	size_t ccm_len = 0, signed_len = 0, content_len = 0, ca_len, oid_len;
	const uint8_t *ca_der, *oid;
	char *pem = NULL;
	int64_t now = (int64_t)time(NULL);
	int ret;

	printf("\nDemo CCM (trust-anchor-update, signed by a freshly generated demo CA)\n");
	ret = gba_signer_generate_ca(&ca, "gbacert demo CA", 30);
	if (ret < 0)
		goto out;
	ca_der = gba_signer_cert(ca, &ca_len);

	memset(&ccm, 0, sizeof(ccm));
	ret = gba_rnd(GBA_RND_NONCE, ccm.message_id, sizeof(ccm.message_id));
	if (ret < 0)
		goto out;
	ccm.seq = 1;
	ccm.issued_at = now;
	ccm.subscriber_kind = GBA_CCM_SUB_IMPI;
	ccm.subscriber = gba_str_c(impi);
	ccm.application_id = GBA_STR_LIT("demo-app");
	ccm.action = GBA_CCM_TRUST_ANCHOR_UPDATE;
	ccm.trust_anchors[0].p = ca_der;
	ccm.trust_anchors[0].len = ca_len;
	ccm.ntrust_anchors = 1;
	ccm.has_validity = 1;
	ccm.not_before = now;
	ccm.not_after = now + 30 * 86400;
	ret = gba_ccm_encode(&ccm, &ccm_der, &ccm_len);
	if (ret < 0)
		goto out;

	memset(&req, 0, sizeof(req));
	req.econtent_type = gba_oid_ct_ccm;
	req.econtent.p = ccm_der;
	req.econtent.len = ccm_len;
	req.signer_cert.p = ca_der;
	req.signer_cert.len = ca_len;
	oid = gba_signer_sig_oid(ca, &oid_len);
	req.sig_alg.p = oid;
	req.sig_alg.len = oid_len;
	req.signing_time = now;
	req.sign = gba_signer_sign;
	req.sign_ctx = ca;
	ret = gba_cms_sign(&req, &signed_der, &signed_len);
	if (ret < 0)
		goto out;
	printf("  %-22s %zu bytes (CCM %zu bytes)\n", "SignedData", signed_len, ccm_len);

	if (outdir != NULL) {
		ret = gba_x509_pem("CERTIFICATE", ca_der, ca_len, &pem);
		if (ret < 0)
			goto out;
		ret = write_all(outdir, "ca.pem", pem, strlen(pem));
		if (ret < 0)
			goto out;
		ret = write_all(outdir, "ccm.der", signed_der, signed_len);
		if (ret < 0)
			goto out;
		printf("\nwrote %s/ca.pem and %s/ccm.der; check them with\n"
		       "  openssl cms -verify -inform DER -in %s/ccm.der -CAfile %s/ca.pem "
		       "-binary -out /dev/null\n", outdir, outdir, outdir, outdir);
	}
	/* The UE side: verify against the CA, then decode strictly. */
	ret = gba_cms_verify(signed_der, signed_len, ca_der, ca_len, time(NULL), &view, &cms, &derr);
	if (ret < 0)
		goto out;
	content = view.econtent.p;
	content_len = view.econtent.len;
	printf("  %-22s %s\n", "signature", "verified against the demo CA");
	ret = gba_ccm_decode(content, content_len, &got, &msg, &derr);
	if (ret < 0)
		goto out;
	hexline("messageId", got.message_id, 16);
	printf("  %-22s %llu\n", "sequenceNumber", (unsigned long long)got.seq);
	print_time("issuedAt", got.issued_at);
	printf("  %-22s %s %.*s\n", "subscriber",
	       got.subscriber_kind == GBA_CCM_SUB_IMPI ? "impi" : "btid",
	       (int)got.subscriber.len, got.subscriber.p);
	printf("  %-22s %.*s\n", "applicationId", (int)got.application_id.len,
	       got.application_id.p);
	printf("  %-22s %s\n", "action", gba_ccm_action_name(got.action));
	printf("  %-22s %zu certificate(s)\n", "trustAnchors", got.ntrust_anchors);
	if (got.has_validity) {
		print_time("validity.notBefore", got.not_before);
		print_time("validity.notAfter", got.not_after);
	}
	printf("\nCertConfigMessage as decoded by the generated codec:\n");
	ret = gba_asn1_print(GBA_PDU_CCM, content, content_len);
	if (ret < 0)
		goto out;

out:
	if (ret < 0)
		fprintf(stderr, "gba-ue: demo CCM: %s%s%s\n", gba_strerror(ret),
		        derr.reason ? ": " : "", derr.reason ? derr.reason : "");
	gba_free(pem);
	gba_ccm_msg_free(msg);
	gba_cms_msg_free(cms);
	gba_free(signed_der);
	gba_free(ccm_der);
	gba_signer_free(ca);
	return ret < 0 ? 1 : 0;
}
