/*
 * check_cmc.c - the CMC codec (gba_cmc.h): PKIData built with the
 * builders and parsed back field by field, POP signatures checked with
 * GnuTLS, crafted refusals (duplicate and zero bodyPartIDs, caps, PKCS#10
 * version, BER), PKIResponse round trips, every control getter, and the
 * SignedData changes (signer_ski, SHA-384/512, crls, certs-only).
 */
#include "config.h"

#include <stdio.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "gba_asn1.h"
#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "testutil.h"

static gnutls_privkey_t key;
static gnutls_pubkey_t pub;
static uint8_t spki[512];
static size_t spki_len;
static struct gba_signer *ca, *ca2;
static const uint8_t *ca_der, *ca2_der;
static size_t ca_len, ca2_len;

/* ecdsa-with-SHA256 1.2.840.10045.4.3.2 */
static const uint8_t oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
/* CN=cmc test */
static const uint8_t subject_der[] = {
	0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x08,
	'c', 'm', 'c', ' ', 't', 'e', 's', 't'
};
static const uint8_t ski[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	                         18, 19, 20 };

static int gt_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t **sig, size_t *siglen)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)tbs, (unsigned)len }, s;

	(void)ctx;
	if (gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &d, &s) < 0)
		return GBA_ECRYPTO;
	*sig = gba_malloc(s.size);
	if (*sig == NULL) {
		gnutls_free(s.data);
		return GBA_ENOMEM;
	}
	memcpy(*sig, s.data, s.size);
	*siglen = s.size;
	gnutls_free(s.data);
	return 0;
}

static int gt_verify(struct gba_blob data, struct gba_blob sig)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data.p, (unsigned)data.len };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)sig.p, (unsigned)sig.len };

	return gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &s);
}

static void setup(void)
{
	size_t n = sizeof(spki);

	ck_assert_int_eq(gnutls_global_init(), 0);
	ck_assert_int_eq(gnutls_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_privkey_generate(key, GNUTLS_PK_ECDSA,
	                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	                 0);
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(pub, key, 0, 0), 0);
	ck_assert_int_eq(gnutls_pubkey_export(pub, GNUTLS_X509_FMT_DER, spki, &n), 0);
	spki_len = n;
	ck_assert_int_eq(gba_signer_generate_ca(&ca, "check CA", 2), 0);
	ck_assert_int_eq(gba_signer_generate_ca(&ca2, "other CA", 2), 0);
	ca_der = gba_signer_cert(ca, &ca_len);
	ca2_der = gba_signer_cert(ca2, &ca2_len);
}

static void teardown(void)
{
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	gba_signer_free(ca);
	gba_signer_free(ca2);
}

static void req_build(struct gba_cmc_req_build *r, uint32_t id, struct gba_blob link)
{
	memset(r, 0, sizeof(*r));
	r->body_part_id = id;
	r->spki.p = spki;
	r->spki.len = spki_len;
	r->subject.p = subject_der;
	r->subject.len = sizeof(subject_der);
	r->ski.p = ski;
	r->ski.len = sizeof(ski);
	r->pop_link_v2 = link;
	r->sig_alg.p = oid_ecdsa_sha256;
	r->sig_alg.len = sizeof(oid_ecdsa_sha256);
	r->sign = gt_sign;
}

static int blob_eq(struct gba_blob b, const void *p, size_t len)
{
	return b.len == len && (len == 0 || memcmp(b.p, p, len) == 0);
}

static int oid_eq(struct gba_oid o, const void *p, size_t len)
{
	return o.len == len && (len == 0 || memcmp(o.p, p, len) == 0);
}

/* A PKIData with a tcr (id 2) and a crm (id 3) and several controls. */
struct built {
	uint8_t *pkidata, *reqseq, *tcr, *crm, *link;
	size_t pkidata_len, reqseq_len, tcr_len, crm_len, link_len;
};

static const uint8_t txid[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23 };
static const uint8_t nonce[16] = { 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
	                           0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a };
static const char ident[] = "btid@bsf.example";
static const uint8_t witness[32] = { 0x11, 0x22, 0x33 };

static void build_pkidata(struct built *b, uint32_t ctl_id_base, int dup_tcr_id)
{
	struct gba_cmc_req_build r;
	struct gba_cmc_control_build c[4];
	struct gba_blob reqs[2], link;
	uint8_t *v[4];
	size_t vl[4], i;

	memset(b, 0, sizeof(*b));
	ck_assert_int_eq(gba_cmc_encode_witness_v2(witness, sizeof(witness), &b->link,
	                                           &b->link_len), 0);
	link.p = b->link;
	link.len = b->link_len;
	req_build(&r, dup_tcr_id ? ctl_id_base : 2, link);
	ck_assert_int_eq(gba_cmc_tcr_build(&r, &b->tcr, &b->tcr_len), 0);
	req_build(&r, 3, link);
	ck_assert_int_eq(gba_cmc_crm_build(&r, &b->crm, &b->crm_len), 0);
	reqs[0].p = b->tcr;
	reqs[0].len = b->tcr_len;
	reqs[1].p = b->crm;
	reqs[1].len = b->crm_len;
	ck_assert_int_eq(gba_cmc_reqseq_encode(reqs, 2, &b->reqseq, &b->reqseq_len), 0);
	ck_assert_int_eq(gba_cmc_encode_integer(txid, sizeof(txid), &v[0], &vl[0]), 0);
	ck_assert_int_eq(gba_cmc_encode_octets(nonce, sizeof(nonce), &v[1], &vl[1]), 0);
	ck_assert_int_eq(gba_cmc_encode_utf8(ident, strlen(ident), &v[2], &vl[2]), 0);
	ck_assert_int_eq(gba_cmc_encode_witness_v2(witness, sizeof(witness), &v[3], &vl[3]), 0);
	c[0].control = GBA_CMC_TRANSACTION_ID;
	c[1].control = GBA_CMC_SENDER_NONCE;
	c[2].control = GBA_CMC_IDENTIFICATION;
	c[3].control = GBA_CMC_IDENTITY_PROOF_V2;
	for (i = 0; i < 4; i++) {
		c[i].body_part_id = ctl_id_base + (uint32_t)i;
		c[i].value.p = v[i];
		c[i].value.len = vl[i];
	}
	ck_assert_int_eq(gba_cmc_pkidata_encode(c, 4, (struct gba_blob){ b->reqseq, b->reqseq_len },
	                                        &b->pkidata, &b->pkidata_len), 0);
	for (i = 0; i < 4; i++)
		gba_free(v[i]);
}

static void free_built(struct built *b)
{
	gba_free(b->pkidata);
	gba_free(b->reqseq);
	gba_free(b->tcr);
	gba_free(b->crm);
	gba_free(b->link);
}

START_TEST(pkidata_build_parse_every_field)
{
	struct built b;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	struct gba_blob o;
	struct gba_cmc_witness_v2 w;
	size_t i;

	build_pkidata(&b, 10, 0);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_PKI_DATA, b.pkidata, b.pkidata_len, &err), 0);
	ck_assert_int_eq(gba_cmc_pkidata_parse(b.pkidata, b.pkidata_len, &pd, &msg, &err), 0);
	ck_assert_uint_eq(pd.ncontrols, 4);
	ck_assert_uint_eq(pd.nreqs, 2);
	ck_assert_uint_eq(pd.ncms, 0);
	ck_assert_uint_eq(pd.nother, 0);
	/* identityProofV2 input: the reqSequence exactly as the builder made it */
	ck_assert(blob_eq(pd.req_sequence, b.reqseq, b.reqseq_len));
	ck_assert_ptr_ne(pd.req_sequence.p, b.reqseq);

	ck_assert_uint_eq(pd.controls[0].body_part_id, 10);
	ck_assert_int_eq(pd.controls[0].control, GBA_CMC_TRANSACTION_ID);
	ck_assert_str_eq(gba_cmc_control_name(pd.controls[0].control), "transactionId");
	ck_assert_uint_eq(pd.controls[0].nvalues, 1);
	ck_assert_int_eq(gba_cmc_get_integer(msg, pd.controls[0].values[0], &o, &err), 0);
	ck_assert(blob_eq(o, txid, sizeof(txid)));
	ck_assert_int_eq(pd.controls[1].control, GBA_CMC_SENDER_NONCE);
	ck_assert_int_eq(gba_cmc_get_octets(msg, pd.controls[1].values[0], &o, &err), 0);
	ck_assert(blob_eq(o, nonce, sizeof(nonce)));
	ck_assert_int_eq(pd.controls[2].control, GBA_CMC_IDENTIFICATION);
	ck_assert_int_eq(gba_cmc_get_utf8(msg, pd.controls[2].values[0], &o, &err), 0);
	ck_assert(blob_eq(o, ident, strlen(ident)));
	ck_assert_int_eq(pd.controls[3].control, GBA_CMC_IDENTITY_PROOF_V2);
	ck_assert_uint_eq(pd.controls[3].body_part_id, 13);
	ck_assert_int_eq(gba_cmc_get_witness_v2(msg, pd.controls[3].values[0], &w, &err), 0);
	ck_assert(blob_eq(w.witness, witness, sizeof(witness)));
	ck_assert(oid_eq(w.hash_alg, gba_oid_sha256.p, gba_oid_sha256.len));
	ck_assert(oid_eq(w.mac_alg, gba_oid_hmac_sha256.p, gba_oid_hmac_sha256.len));
	ck_assert_int_eq(w.hash_params_present, 0);
	ck_assert_int_eq(w.mac_params_present, 0);

	for (i = 0; i < 2; i++) {
		const struct gba_cmc_request *r = &pd.reqs[i];

		ck_assert_int_eq(r->kind, i == 0 ? GBA_CMC_REQ_TCR : GBA_CMC_REQ_CRM);
		ck_assert_uint_eq(r->body_part_id, i == 0 ? 2 : 3);
		ck_assert(blob_eq(r->der, i == 0 ? b.tcr : b.crm, i == 0 ? b.tcr_len : b.crm_len));
		ck_assert(blob_eq(r->spki, spki, spki_len));
		ck_assert(blob_eq(r->subject, subject_der, sizeof(subject_der)));
		ck_assert(blob_eq(r->ski, ski, sizeof(ski)));
		ck_assert_uint_gt(r->extensions.len, 0);
		ck_assert_int_eq(r->extensions.p[0], 0x30);
		ck_assert_int_eq(r->has_san, 0);
		ck_assert_int_eq(r->has_pop_sig, 1);
		ck_assert_int_eq(r->crm_pop_other, 0);
		ck_assert_int_eq(r->crm_pop_sig_has_input, 0);
		ck_assert(oid_eq(r->pop_sig_alg, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256)));
		/* the POP signature verifies over the bytes we are handed */
		ck_assert_int_ge(gt_verify(r->pop_signed, r->pop_signature), 0);
		ck_assert_int_eq(r->has_pop_link_v2, 1);
		ck_assert_int_eq(r->has_pop_link_v1, 0);
		ck_assert(blob_eq(r->pop_link_v2.witness, witness, sizeof(witness)));
		ck_assert_int_eq(r->pkcs10_version, 0);
	}
	/* tcr: pop_signed is CertificationRequestInfo; crm: CertRequest */
	ck_assert_int_eq(pd.reqs[0].pop_signed.p[0], 0x30);
	ck_assert_int_eq(pd.reqs[1].pop_signed.p[0], 0x30);
	/* a flipped byte in the signed part breaks the signature */
	{
		uint8_t tmp[4096];
		struct gba_blob t = { tmp, pd.reqs[1].pop_signed.len };

		ck_assert_uint_lt(t.len, sizeof(tmp));
		memcpy(tmp, pd.reqs[1].pop_signed.p, t.len);
		tmp[t.len - 1] ^= 1;
		ck_assert_int_lt(gt_verify(t, pd.reqs[1].pop_signature), 0);
	}
	gba_cmc_msg_free(msg);
	free_built(&b);
}
END_TEST

START_TEST(csr_build_parse)
{
	struct gba_cmc_req_build r;
	struct gba_cmc_request v;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *der = NULL;
	size_t len = 0, i;

	req_build(&r, 1, (struct gba_blob){ NULL, 0 });
	r.subject.len = 0;  /* empty Name */
	ck_assert_int_eq(gba_cmc_csr_build(&r, &der, &len), 0);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_CSR, der, len, &err), 0);
	ck_assert_int_eq(gba_cmc_csr_parse(der, len, &v, &msg, &err), 0);
	ck_assert_int_eq(v.kind, GBA_CMC_REQ_TCR);
	ck_assert_uint_eq(v.body_part_id, 1);
	ck_assert(blob_eq(v.der, der, len));
	ck_assert(blob_eq(v.subject, "\x30\x00", 2));
	ck_assert(blob_eq(v.spki, spki, spki_len));
	ck_assert(blob_eq(v.ski, ski, sizeof(ski)));
	ck_assert_int_eq(v.has_pop_link_v2, 0);
	ck_assert_int_ge(gt_verify(v.pop_signed, v.pop_signature), 0);
	gba_cmc_msg_free(msg);
	msg = NULL;

	/* version 1 (02 01 00 -> 02 01 01 in CertificationRequestInfo) */
	for (i = 0; i + 2 < len; i++)
		if (der[i] == 0x02 && der[i + 1] == 0x01 && der[i + 2] == 0x00)
			break;
	ck_assert_uint_lt(i + 2, len);
	der[i + 2] = 0x01;
	err.reason = NULL;
	ck_assert_int_eq(gba_cmc_csr_parse(der, len, &v, &msg, &err), GBA_EUNSUPP);
	ck_assert_ptr_null(msg);
	ck_assert_ptr_nonnull(err.reason);
	gba_free(der);
}
END_TEST

/* no_pop: a crm without popo, which the parser reports as no POP at all
 * (neither a signature nor another kind); the template is unchanged. */
START_TEST(crm_without_pop)
{
	struct gba_cmc_req_build r;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	struct gba_blob link = { witness, 0 }, rs;
	uint8_t *crm = NULL, *reqseq = NULL, *pkidata = NULL, *ld = NULL;
	size_t crm_len = 0, reqseq_len = 0, pkidata_len = 0, ld_len = 0;

	ck_assert_int_eq(gba_cmc_encode_witness_v2(witness, sizeof(witness), &ld, &ld_len), 0);
	link.p = ld;
	link.len = ld_len;
	req_build(&r, 4, link);
	r.no_pop = 1;
	ck_assert_int_eq(gba_cmc_crm_build(&r, &crm, &crm_len), 0);
	rs.p = crm;
	rs.len = crm_len;
	ck_assert_int_eq(gba_cmc_reqseq_encode(&rs, 1, &reqseq, &reqseq_len), 0);
	rs.p = reqseq;
	rs.len = reqseq_len;
	ck_assert_int_eq(gba_cmc_pkidata_encode(NULL, 0, rs, &pkidata, &pkidata_len), 0);
	ck_assert_int_eq(gba_cmc_pkidata_parse(pkidata, pkidata_len, &pd, &msg, &err), 0);
	ck_assert_uint_eq(pd.nreqs, 1);
	ck_assert_int_eq(pd.reqs[0].kind, GBA_CMC_REQ_CRM);
	ck_assert_uint_eq(pd.reqs[0].body_part_id, 4);
	ck_assert(blob_eq(pd.reqs[0].spki, spki, spki_len));
	ck_assert(blob_eq(pd.reqs[0].ski, ski, sizeof(ski)));
	ck_assert_int_eq(pd.reqs[0].has_pop_sig, 0);
	ck_assert_int_eq(pd.reqs[0].crm_pop_other, 0);
	ck_assert_int_eq(pd.reqs[0].has_pop_link_v2, 1);
	gba_cmc_msg_free(msg);
	gba_free(pkidata);
	gba_free(reqseq);
	gba_free(crm);
	gba_free(ld);
}
END_TEST

/* san: a subjectAltName next to the SKI, in a tcr and a crm; a SAN
 * that is not DER GeneralNames is refused before anything is built. */
START_TEST(request_with_san)
{
	/* GeneralNames { uniformResourceIdentifier "sip:x" } */
	static const uint8_t san[] = { 0x30, 0x07, 0x86, 0x05, 's', 'i', 'p', ':', 'x' };
	static const uint8_t bad[] = { 0x30, 0x81, 0x07, 0x86, 0x05, 's', 'i', 'p', ':', 'x' };
	struct gba_cmc_req_build r;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	struct gba_blob reqs[2], rs;
	uint8_t *tcr = NULL, *crm = NULL, *reqseq = NULL, *pkidata = NULL;
	size_t tcr_len = 0, crm_len = 0, reqseq_len = 0, pkidata_len = 0, i;

	req_build(&r, 1, (struct gba_blob){ NULL, 0 });
	r.san.p = san;
	r.san.len = sizeof(san);
	ck_assert_int_eq(gba_cmc_tcr_build(&r, &tcr, &tcr_len), 0);
	r.body_part_id = 2;
	ck_assert_int_eq(gba_cmc_crm_build(&r, &crm, &crm_len), 0);
	reqs[0].p = tcr;
	reqs[0].len = tcr_len;
	reqs[1].p = crm;
	reqs[1].len = crm_len;
	ck_assert_int_eq(gba_cmc_reqseq_encode(reqs, 2, &reqseq, &reqseq_len), 0);
	rs.p = reqseq;
	rs.len = reqseq_len;
	ck_assert_int_eq(gba_cmc_pkidata_encode(NULL, 0, rs, &pkidata, &pkidata_len), 0);
	ck_assert_int_eq(gba_cmc_pkidata_parse(pkidata, pkidata_len, &pd, &msg, &err), 0);
	ck_assert_uint_eq(pd.nreqs, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pd.reqs[i].has_san, 1);
		ck_assert(blob_eq(pd.reqs[i].ski, ski, sizeof(ski)));
		ck_assert_int_ge(gt_verify(pd.reqs[i].pop_signed, pd.reqs[i].pop_signature), 0);
	}
	gba_cmc_msg_free(msg);
	gba_free(pkidata);
	gba_free(reqseq);
	gba_free(crm);
	gba_free(tcr);

	r.san.p = bad;
	r.san.len = sizeof(bad);
	ck_assert_int_eq(gba_cmc_tcr_build(&r, &tcr, &tcr_len), GBA_EINVAL);
	ck_assert_ptr_null(tcr);
	ck_assert_int_eq(gba_cmc_crm_build(&r, &crm, &crm_len), GBA_EINVAL);
	ck_assert_ptr_null(crm);
}
END_TEST

/* Replace the first "02 01 <from>" followed by tag `next` with <to>. */
static void patch_int(uint8_t *d, size_t len, uint8_t from, uint8_t next, uint8_t to)
{
	size_t i;

	for (i = 0; i + 3 < len; i++) {
		if (d[i] == 0x02 && d[i + 1] == 0x01 && d[i + 2] == from && d[i + 3] == next) {
			d[i + 2] = to;
			return;
		}
	}
	ck_abort_msg("pattern not found");
}

START_TEST(pkidata_refusals)
{
	struct built b;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *big, *ber;
	size_t i, n, off;

	/* a control and the tcr share bodyPartID 2 */
	build_pkidata(&b, 2, 1);
	err.reason = NULL;
	ck_assert_int_eq(gba_cmc_pkidata_parse(b.pkidata, b.pkidata_len, &pd, &msg, &err),
	                 GBA_EDUP);
	ck_assert_ptr_null(msg);
	ck_assert_ptr_nonnull(err.reason);
	ck_assert_uint_lt(err.offset, b.pkidata_len);
	free_built(&b);

	/* bodyPartID 0 in the first control (10 -> 0) */
	build_pkidata(&b, 10, 0);
	patch_int(b.pkidata, b.pkidata_len, 10, 0x06, 0);
	ck_assert_int_eq(gba_cmc_pkidata_parse(b.pkidata, b.pkidata_len, &pd, &msg, &err),
	                 GBA_ECONSTRAINT);
	/* the builder refuses 0 too */
	{
		struct gba_cmc_control_build c = { 0, GBA_CMC_SENDER_NONCE, { nonce, 2 } };
		uint8_t *d = NULL;
		size_t dl = 0;

		ck_assert_int_eq(gba_cmc_pkidata_encode(&c, 1, (struct gba_blob){ NULL, 0 }, &d, &dl),
		                 GBA_EINVAL);
	}

	/* BER: the PKIData with a non-minimal outer length */
	ck_assert_int_eq(b.pkidata[0], 0x30);
	ck_assert_int_eq(b.pkidata[1], 0x82);
	n = b.pkidata_len - 4;
	ber = gba_malloc(n + 5);
	ck_assert_ptr_nonnull(ber);
	ber[0] = 0x30;
	ber[1] = 0x83;
	ber[2] = 0;
	ber[3] = (uint8_t)(n >> 8);
	ber[4] = (uint8_t)n;
	memcpy(ber + 5, b.pkidata + 4, n);
	ck_assert_int_eq(gba_cmc_pkidata_parse(ber, n + 5, &pd, &msg, &err), GBA_ENOTDER);
	gba_free(ber);

	/* 17 requests: over GBA_CMC_MAX_REQUESTS before anything else */
	n = 17 * b.tcr_len;
	big = gba_malloc(n + 32);
	ck_assert_ptr_nonnull(big);
	off = 0;
	big[off++] = 0x30;
	big[off++] = 0x82;
	off += 2;                               /* filled below */
	memcpy(big + off, "\x30\x00", 2);
	off += 2;
	big[off++] = 0x30;
	big[off++] = 0x82;
	big[off++] = (uint8_t)(n >> 8);
	big[off++] = (uint8_t)n;
	for (i = 0; i < 17; i++) {
		memcpy(big + off, b.tcr, b.tcr_len);
		off += b.tcr_len;
	}
	memcpy(big + off, "\x30\x00\x30\x00", 4);
	off += 4;
	big[2] = (uint8_t)((off - 4) >> 8);
	big[3] = (uint8_t)(off - 4);
	ck_assert_int_eq(gba_cmc_pkidata_parse(big, off, &pd, &msg, &err), GBA_ETOOBIG);
	{
		struct gba_blob reqs[17];
		uint8_t *d = NULL;
		size_t dl = 0;

		for (i = 0; i < 17; i++) {
			reqs[i].p = b.tcr;
			reqs[i].len = b.tcr_len;
		}
		ck_assert_int_eq(gba_cmc_reqseq_encode(reqs, 17, &d, &dl), GBA_ETOOBIG);
		/* 16 copies of one tcr: within the cap, but the ids repeat */
		ck_assert_int_eq(gba_cmc_reqseq_encode(reqs, 16, &d, &dl), 0);
		ck_assert_int_eq(gba_cmc_pkidata_encode(NULL, 0, (struct gba_blob){ d, dl }, &ber, &n), 0);
		ck_assert_int_eq(gba_cmc_pkidata_parse(ber, n, &pd, &msg, &err), GBA_EDUP);
		gba_free(ber);
		gba_free(d);
	}
	gba_free(big);

	/* every accepted parse holds; msg stays NULL on refusal */
	ck_assert_ptr_null(msg);
	free_built(&b);
}
END_TEST

START_TEST(response_roundtrip)
{
	static const uint32_t ids_ok[] = { 2, 3 };
	static const uint8_t tok[] = { 't', 'o', 'k', 'e', 'n' };
	struct gba_cmc_status_info st[4];
	struct gba_cmc_response r;
	struct gba_cmc_response_view v;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *der = NULL;
	size_t len = 0;

	memset(st, 0, sizeof(st));
	st[0].status = GBA_CMC_SUCCESS;
	st[0].body_list = ids_ok;
	st[0].nbody = 2;
	st[1].status = GBA_CMC_PENDING;
	st[1].body_list = ids_ok;
	st[1].nbody = 1;
	st[1].has_pend_info = 1;
	st[1].pend_token.p = tok;
	st[1].pend_token.len = sizeof(tok);
	st[1].pend_time = 1795000000;
	st[2].status = GBA_CMC_FAILED;
	st[2].status_string = "no such identity";
	st[2].has_fail_info = 1;
	st[2].fail_info = GBA_CMC_BAD_IDENTITY;
	st[3].status = GBA_CMC_NO_SUPPORT;     /* nbody 0: the whole PKIData */
	memset(&r, 0, sizeof(r));
	r.statuses = st;
	r.nstatuses = 4;
	r.transaction_id.p = txid;
	r.transaction_id.len = sizeof(txid);
	r.sender_nonce.p = nonce;
	r.sender_nonce.len = 8;
	r.recipient_nonce.p = nonce;
	r.recipient_nonce.len = sizeof(nonce);
	r.data_return.p = tok;
	r.data_return.len = 3;
	r.response_info.p = tok;
	r.response_info.len = 2;
	ck_assert_int_eq(gba_cmc_response_encode(&r, &der, &len), 0);
	ck_assert_int_eq(gba_asn1_check(GBA_PDU_PKI_RESPONSE, der, len, &err), 0);
	ck_assert_int_eq(gba_cmc_response_parse(der, len, &v, &msg, &err), 0);
	ck_assert_uint_eq(v.nstatuses, 4);
	ck_assert_int_eq(v.statuses[0].status, GBA_CMC_SUCCESS);
	ck_assert_uint_eq(v.statuses[0].nbody, 2);
	ck_assert_uint_eq(v.statuses[0].body_list[0], 2);
	ck_assert_uint_eq(v.statuses[0].body_list[1], 3);
	ck_assert_int_eq(v.statuses[0].has_fail_info + v.statuses[0].has_pend_info, 0);
	ck_assert_int_eq(v.statuses[1].status, GBA_CMC_PENDING);
	ck_assert_int_eq(v.statuses[1].has_pend_info, 1);
	ck_assert(blob_eq(v.statuses[1].pend_token, tok, sizeof(tok)));
	ck_assert_int_eq(v.statuses[1].pend_time, 1795000000);
	ck_assert_int_eq(v.statuses[2].status, GBA_CMC_FAILED);
	ck_assert_int_eq(v.statuses[2].has_fail_info, 1);
	ck_assert_int_eq(v.statuses[2].fail_info, GBA_CMC_BAD_IDENTITY);
	ck_assert_str_eq(gba_cmc_fail_name(v.statuses[2].fail_info), "badIdentity");
	ck_assert(blob_eq(v.statuses[2].status_string, "no such identity", 16));
	ck_assert_uint_eq(v.statuses[3].nbody, 1);
	ck_assert_uint_eq(v.statuses[3].body_list[0], 0);
	ck_assert_str_eq(gba_cmc_status_name(v.statuses[3].status), "noSupport");
	ck_assert(blob_eq(v.transaction_id, txid, sizeof(txid)));
	ck_assert(blob_eq(v.sender_nonce, nonce, 8));
	ck_assert(blob_eq(v.recipient_nonce, nonce, sizeof(nonce)));
	ck_assert(blob_eq(v.data_return, tok, 3));
	ck_assert(blob_eq(v.response_info, tok, 2));
	ck_assert_uint_eq(v.nunknown, 0);
	gba_cmc_msg_free(msg);
	gba_free(der);

	/* refusals: fail and pend at once, a nonce over the cap, a
	 * non-minimal transactionId */
	st[2].has_pend_info = 1;
	ck_assert_int_eq(gba_cmc_response_encode(&r, &der, &len), GBA_EINVAL);
	st[2].has_pend_info = 0;
	r.sender_nonce.len = GBA_CMC_MAX_NONCE + 1;
	ck_assert_int_eq(gba_cmc_response_encode(&r, &der, &len), GBA_ETOOBIG);
	r.sender_nonce.len = 8;
	st[0].nbody = GBA_CMC_MAX_BODY_LIST + 1;
	ck_assert_int_eq(gba_cmc_response_encode(&r, &der, &len), GBA_ETOOBIG);
	st[0].nbody = 2;
	r.sender_nonce.len = 8;
	r.transaction_id.p = (const uint8_t *)"\x00\x01";
	r.transaction_id.len = 2;
	ck_assert_int_lt(gba_cmc_response_encode(&r, &der, &len), 0);
	ck_assert_ptr_null(der);
}
END_TEST

START_TEST(getters_good_and_bad)
{
	struct gba_der_error err;
	struct gba_blob o, v;
	struct gba_cmc_witness_v2 w;
	struct gba_cmc_cert_id id, idin;
	struct gba_cmc_revoke rv, rvin;
	struct gba_cmc_get_crl gc;
	uint8_t *d = NULL, buf[128];
	size_t dl = 0;
	static const uint8_t serial[] = { 0x4a, 0x5b, 0x6c };
	static const uint8_t bad_utf8[] = { 0x0c, 0x02, 0xc3, 0x28 };
	static const uint8_t an_int[] = { 0x02, 0x01, 0x05 };
	static const uint8_t octets_ber[] = { 0x04, 0x81, 0x01, 0x00 };

	/* octets */
	ck_assert_int_eq(gba_cmc_encode_octets(nonce, 4, &d, &dl), 0);
	v.p = d;
	v.len = dl;
	ck_assert_int_eq(gba_cmc_get_octets(NULL, v, &o, &err), 0);
	ck_assert(blob_eq(o, nonce, 4));
	ck_assert_int_lt(gba_cmc_get_integer(NULL, v, &o, &err), 0);
	gba_free(d);
	v.p = octets_ber;
	v.len = sizeof(octets_ber);
	ck_assert_int_eq(gba_cmc_get_octets(NULL, v, &o, &err), GBA_ENOTDER);
	v.p = an_int;
	v.len = sizeof(an_int);
	ck_assert_int_lt(gba_cmc_get_octets(NULL, v, &o, &err), 0);
	ck_assert_int_eq(gba_cmc_get_integer(NULL, v, &o, &err), 0);
	ck_assert(blob_eq(o, "\x05", 1));
	v.len = 0;
	ck_assert_int_eq(gba_cmc_get_octets(NULL, v, &o, &err), GBA_EMISSING);
	/* INTEGER over GBA_CMC_MAX_TXID */
	memset(buf, 0x11, sizeof(buf));
	buf[0] = 0x02;
	buf[1] = GBA_CMC_MAX_TXID + 1;
	v.p = buf;
	v.len = 2 + GBA_CMC_MAX_TXID + 1;
	ck_assert_int_eq(gba_cmc_get_integer(NULL, v, &o, &err), GBA_ETOOBIG);
	ck_assert_int_eq(gba_cmc_encode_integer(buf + 2, GBA_CMC_MAX_TXID + 1, &d, &dl),
	                 GBA_ETOOBIG);
	/* utf8 */
	v.p = bad_utf8;
	v.len = sizeof(bad_utf8);
	ck_assert_int_lt(gba_cmc_get_utf8(NULL, v, &o, &err), 0);
	ck_assert_int_eq(gba_cmc_encode_utf8("\xc3\x28", 2, &d, &dl), GBA_ECONSTRAINT);
	/* witness: an OCTET STRING is not one */
	v.p = octets_ber + 0;
	v.p = an_int;
	v.len = sizeof(an_int);
	ck_assert_int_lt(gba_cmc_get_witness_v2(NULL, v, &w, &err), 0);

	/* getCert / confirmCertAcceptance */
	idin.issuer.p = subject_der;
	idin.issuer.len = sizeof(subject_der);
	idin.serial.p = serial;
	idin.serial.len = sizeof(serial);
	ck_assert_int_eq(gba_cmc_encode_cert_id(GBA_CMC_GET_CERT, &idin, &d, &dl), 0);
	v.p = d;
	v.len = dl;
	ck_assert_int_eq(gba_cmc_get_cert_id(NULL, GBA_CMC_GET_CERT, v, &id, &err), 0);
	ck_assert(blob_eq(id.issuer, subject_der, sizeof(subject_der)));
	ck_assert(blob_eq(id.serial, serial, sizeof(serial)));
	ck_assert_int_lt(gba_cmc_get_cert_id(NULL, GBA_CMC_CONFIRM_CERT_ACCEPTANCE, v, &id, &err),
	                 0);
	ck_assert_int_eq(gba_cmc_get_cert_id(NULL, GBA_CMC_SENDER_NONCE, v, &id, &err), GBA_EINVAL);
	/* the same with a dNSName [2] instead of directoryName [4] */
	memcpy(buf, "\x30\x0a\x82\x05" "a.com" "\x02\x01\x01", 12);
	v.p = buf;
	v.len = 12;
	ck_assert_int_eq(gba_cmc_get_cert_id(NULL, GBA_CMC_GET_CERT, v, &id, &err), GBA_EUNSUPP);
	gba_free(d);
	ck_assert_int_eq(gba_cmc_encode_cert_id(GBA_CMC_CONFIRM_CERT_ACCEPTANCE, &idin, &d, &dl), 0);
	v.p = d;
	v.len = dl;
	ck_assert_int_eq(gba_cmc_get_cert_id(NULL, GBA_CMC_CONFIRM_CERT_ACCEPTANCE, v, &id, &err),
	                 0);
	ck_assert(blob_eq(id.issuer, subject_der, sizeof(subject_der)));
	ck_assert(blob_eq(id.serial, serial, sizeof(serial)));
	gba_free(d);

	/* revokeRequest */
	memset(&rvin, 0, sizeof(rvin));
	rvin.issuer = idin.issuer;
	rvin.serial = idin.serial;
	rvin.reason = 1;
	rvin.has_invalidity_date = 1;
	rvin.invalidity_date = 1795000000;
	rvin.passphrase.p = (const uint8_t *)"secret";
	rvin.passphrase.len = 6;
	rvin.comment.p = (const uint8_t *)"lost";
	rvin.comment.len = 4;
	ck_assert_int_eq(gba_cmc_encode_revoke(&rvin, &d, &dl), 0);
	v.p = d;
	v.len = dl;
	ck_assert_int_eq(gba_cmc_get_revoke(NULL, v, &rv, &err), 0);
	ck_assert(blob_eq(rv.issuer, subject_der, sizeof(subject_der)));
	ck_assert(blob_eq(rv.serial, serial, sizeof(serial)));
	ck_assert_int_eq(rv.reason, 1);
	ck_assert_int_eq(rv.has_invalidity_date, 1);
	ck_assert_int_eq(rv.invalidity_date, 1795000000);
	ck_assert(blob_eq(rv.passphrase, "secret", 6));
	ck_assert(blob_eq(rv.comment, "lost", 4));
	/* reason 7 is not a CRLReason: patch the ENUMERATED */
	{
		uint8_t *e = memchr(d, 0x0a, dl);

		while (e != NULL && !(e[1] == 0x01 && e[2] == 0x01))
			e = memchr(e + 1, 0x0a, dl - (size_t)(e + 1 - d));
		ck_assert_ptr_nonnull(e);
		e[2] = 7;
		ck_assert_int_eq(gba_cmc_get_revoke(NULL, v, &rv, &err), GBA_ECONSTRAINT);
	}
	gba_free(d);
	rvin.reason = 7;
	ck_assert_int_eq(gba_cmc_encode_revoke(&rvin, &d, &dl), GBA_EINVAL);

	/* getCRL: SEQUENCE { Name, GeneralizedTime } by hand */
	buf[0] = 0x30;
	buf[1] = (uint8_t)(sizeof(subject_der) + 17);
	memcpy(buf + 2, subject_der, sizeof(subject_der));
	memcpy(buf + 2 + sizeof(subject_der), "\x18\x0f" "20261123120000Z", 17);
	v.p = buf;
	v.len = 2 + sizeof(subject_der) + 17;
	ck_assert_int_eq(gba_cmc_get_getcrl(NULL, v, &gc, &err), 0);
	ck_assert(blob_eq(gc.issuer, subject_der, sizeof(subject_der)));
	ck_assert_int_eq(gc.has_time, 1);
	ck_assert_int_eq(gc.has_crl_name, 0);
	ck_assert_int_eq(gc.has_reasons, 0);
	v.len--;
	ck_assert_int_lt(gba_cmc_get_getcrl(NULL, v, &gc, &err), 0);
}
END_TEST

static int cms_sign_with(enum gba_hash_alg h, int by_ski, uint8_t **der, size_t *len)
{
	struct gba_cms_sign_req req;
	struct gba_blob certs[2], crls[1];
	static uint8_t crl[8192];
	size_t sl;
	const uint8_t *soid = gba_signer_sig_oid(ca, &sl);
	FILE *f;
	char path[1024];
	const char *dir = getenv("srcdir");

	snprintf(path, sizeof(path), "%s/data/crl.der", dir ? dir : ".");
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	crls[0].len = fread(crl, 1, sizeof(crl), f);
	crls[0].p = crl;
	fclose(f);
	memset(&req, 0, sizeof(req));
	req.econtent_type = gba_oid_cct_pkidata;
	req.econtent.p = (const uint8_t *)"\x30\x00";
	req.econtent.len = 2;
	if (by_ski) {
		req.signer_ski.p = ski;
		req.signer_ski.len = sizeof(ski);
	} else {
		req.signer_cert.p = ca_der;
		req.signer_cert.len = ca_len;
	}
	/* given in reverse DER order: the SET OF must come out sorted */
	certs[0].p = ca_der;
	certs[0].len = ca_len;
	certs[1].p = ca2_der;
	certs[1].len = ca2_len;
	req.certs = by_ski ? certs : certs + 1;
	req.ncerts = by_ski ? 2 : 1;
	req.crls = crls;
	req.ncrls = 1;
	req.sig_alg.p = soid;
	req.sig_alg.len = sl;
	req.hash = h;
	req.signing_time = 1795000000;
	req.sign = gba_signer_sign;
	req.sign_ctx = ca;
	return gba_cms_sign(&req, der, len);
}

START_TEST(cms_signer_ski_and_hashes)
{
	static const enum gba_hash_alg hs[] = { GBA_HASH_SHA256, GBA_HASH_SHA384, GBA_HASH_SHA512 };
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	struct gba_cms_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *der = NULL, *tbs = NULL;
	size_t len = 0, tbs_len = 0, i;

	/* signed by a key being certified: sid = SKI, no signer certificate */
	ck_assert_int_eq(cms_sign_with(GBA_HASH_SHA256, 1, &der, &len), 0);
	ck_assert_int_eq(gba_cms_parse(der, len, &view, &msg, &err), 0);
	ck_assert_uint_eq(view.ncerts, 2);
	ck_assert_int_eq(gba_cms_signer(msg, &sv, &tbs, &tbs_len, &err), 0);
	ck_assert(blob_eq(sv.ski, ski, sizeof(ski)));
	ck_assert_uint_eq(sv.cert.len, 0);
	ck_assert_uint_eq(sv.sid_issuer.len, 0);
	ck_assert_uint_eq(sv.sid_serial.len, 0);
	ck_assert_int_eq(sv.hash, GBA_HASH_SHA256);
	gba_free(tbs);
	gba_cms_msg_free(msg);
	gba_free(der);

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(cms_sign_with(hs[i], 0, &der, &len), 0);
		ck_assert_int_eq(gba_cms_parse(der, len, &view, &msg, &err), 0);
		ck_assert_uint_eq(view.ncerts, 2);
		ck_assert_int_eq(gba_cms_signer(msg, &sv, &tbs, &tbs_len, &err), 0);
		ck_assert_int_eq(sv.hash, hs[i]);
		ck_assert(blob_eq(sv.cert, ca_der, ca_len));
		ck_assert_uint_eq(sv.ski.len, 0);
		ck_assert_uint_gt(sv.sid_issuer.len, 0);
		ck_assert_uint_gt(sv.sid_serial.len, 0);
		ck_assert_int_eq(gba_x509_verify_signature(ca_der, ca_len, sv.sig_alg.p,
		                                           sv.sig_alg.len, tbs, tbs_len,
		                                           sv.signature.p, sv.signature.len), 0);
		gba_free(tbs);
		gba_cms_msg_free(msg);
		gba_free(der);
	}
	/* SHA-1 is not a CMS digest here */
	ck_assert_int_eq(cms_sign_with(GBA_HASH_SHA1, 0, &der, &len), GBA_EINVAL);
}
END_TEST

START_TEST(certs_only)
{
	struct gba_blob certs[2] = { { ca2_der, ca2_len }, { ca_der, ca_len } };
	struct gba_cms_view view;
	struct gba_cms_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *der = NULL;
	size_t len = 0;

	ck_assert_int_eq(gba_cms_certs_only(certs, 2, &der, &len), 0);
	ck_assert_int_eq(gba_cms_parse(der, len, &view, &msg, &err), 0);
	ck_assert_uint_eq(view.ncerts, 2);
	ck_assert_uint_eq(view.nsigners, 0);
	ck_assert_uint_eq(view.econtent.len, 0);
	ck_assert(oid_eq(view.econtent_type, gba_oid_data.p, gba_oid_data.len));
	gba_cms_msg_free(msg);
	gba_free(der);
	certs[1].len = 10;
	ck_assert_int_lt(gba_cms_certs_only(certs, 2, &der, &len), 0);
	ck_assert_ptr_null(der);
}
END_TEST

START_TEST(allocation_failures_are_clean)
{
	struct built b;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error err;
	long n;
	int ret;

	build_pkidata(&b, 10, 0);
	for (n = 0;; n++) {
		gba_mem_fail_after(n);
		ret = gba_cmc_pkidata_parse(b.pkidata, b.pkidata_len, &pd, &msg, &err);
		gba_mem_fail_reset();
		if (ret == 0)
			break;
		ck_assert_ptr_null(msg);
		ck_assert_int_lt(n, 10000);
	}
	gba_cmc_msg_free(msg);
	free_built(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmc");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pkidata_build_parse_every_field);
	tcase_add_test(tc, csr_build_parse);
	tcase_add_test(tc, crm_without_pop);
	tcase_add_test(tc, request_with_san);
	tcase_add_test(tc, pkidata_refusals);
	tcase_add_test(tc, response_roundtrip);
	tcase_add_test(tc, getters_good_and_bad);
	tcase_add_test(tc, cms_signer_ski_and_hashes);
	tcase_add_test(tc, certs_only);
	tcase_add_test(tc, allocation_failures_are_clean);
	suite_add_tcase(s, tc);
	return th_run(s);
}
