/*
 * cmc_forge.c - Full PKI Requests with one deliberate fault, for
 * tests/e2e_cmc_neg.sh (a test helper, never installed).
 *
 * It reads gba-ue's state file (ue/ue_usim.h: IMPI, B-TID, RAND, Ks),
 * derives Ks_NAF for NAF_Id = FQDN || 01 00 00 00 00 as gba-ue does, and
 * writes one first-enrolment request (identification = the B-TID,
 * identityProofV2, popLinkRandom, one PKCS#10 or CRMF request with
 * popLinkWitnessV2, SignedData signed by the new key, sid = its SKI) in
 * DER to OUT.  FAULT is one of:
 *
 *   none           no fault: ue_cmc_request, exactly what gba-ue sends
 *   wrong-proof    identityProofV2 witness with one bit flipped
 *   no-proof       no identityProofV2 control
 *   no-link        no popLinkWitnessV2 in the request
 *   wrong-link     popLinkWitnessV2 witness with one bit flipped
 *   pop-wrong-key  the request carries key A, its POP signature is key B's
 *   cms-wrong-key  the SignedData names key A (sid = A's SKI), B signs it
 *   subject        the request names the subject CN=CN (--cn)
 *   san            the request asks for subjectAltName URI (--san)
 *   no-pop         a CRMF request without popo (implies --crmf)
 *   sig-flip       the last octet of the SignedData signature flipped
 *   pkidata-ber    the PKIData's outer length in non-minimal form, signed
 *                  as it is (the SignedData around it stays DER)
 *   outer-nonmin   the ContentInfo's outer length in non-minimal form
 *   outer-indef    the ContentInfo's outer length indefinite (BER)
 *
 * The last three rewrite only the first header of a buffer this tool has
 * just built; nothing here parses DER.
 *
 * usage: cmc_forge FAULT --state F --naf-fqdn FQDN --out REQ.der
 *                  [--crmf] [--key-type T] [--cn CN] [--san URI] [--key-out KEY.pem]
 * --key-out writes the key being certified (PKCS#8 PEM, mode 0600).
 * Exit status 0, 1 on an error, 2 on bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "gba_asn1.h"
#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ue_cmc.h"
#include "ue_der.h"
#include "ue_usim.h"

enum fault {
	F_NONE, F_WRONG_PROOF, F_NO_PROOF, F_NO_LINK, F_WRONG_LINK, F_POP_WRONG_KEY,
	F_CMS_WRONG_KEY, F_SUBJECT, F_SAN, F_NO_POP, F_SIG_FLIP, F_PKIDATA_BER, F_OUTER_NONMIN,
	F_OUTER_INDEF
};

static const char *const fault_names[] = {
	"none", "wrong-proof", "no-proof", "no-link", "wrong-link", "pop-wrong-key",
	"cms-wrong-key", "subject", "san", "no-pop", "sig-flip", "pkidata-ber", "outer-nonmin",
	"outer-indef", NULL
};

struct forge {
	enum fault fault;
	int crmf;
	const char *btid;
	uint8_t ks_naf[GBA_KS_NAF_LEN];
	struct gba_key *key;                 /* A: the key being certified */
	struct gba_key *other;               /* B: the wrong key */
	uint8_t txid[UE_CMC_TXID_LEN];
	uint8_t nonce[UE_CMC_NONCE_LEN];
	struct gba_blob subject;             /* Name DER; len 0: empty Name */
	struct gba_blob san;                 /* GeneralNames DER; len 0: none */
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cmc_forge FAULT --state F --naf-fqdn FQDN --out REQ.der\n"
	           "                 [--crmf] [--key-type T] [--cn CN] [--san URI]\n"
	           "                 [--key-out KEY.pem]\n"
	           "faults:");
	for (i = 0; fault_names[i] != NULL; i++)
		fprintf(f, " %s", fault_names[i]);
	fprintf(f, "\n");
}

/* The Name DER for "CN=cn", by GnuTLS (RFC 4514 string in, DER out). */
static int name_der(const char *cn, gnutls_datum_t *out)
{
	gnutls_x509_dn_t dn = NULL;
	char str[256];
	int n, ret = GBA_ECRYPTO;

	n = snprintf(str, sizeof(str), "CN=%s", cn);
	if (n < 0 || (size_t)n >= sizeof(str))
		return GBA_ETOOBIG;
	if (gnutls_x509_dn_init(&dn) < 0)
		return GBA_ECRYPTO;
	if (gnutls_x509_dn_set_str(dn, str, NULL) == 0 &&
	    gnutls_x509_dn_export2(dn, GNUTLS_X509_FMT_DER, out) == 0)
		ret = 0;
	gnutls_x509_dn_deinit(dn);
	return ret;
}

/* GeneralNames { uniformResourceIdentifier uri } DER, by GnuTLS. */
static int san_der(const char *uri, gnutls_datum_t *out)
{
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t d;
	int ret = GBA_ECRYPTO;

	d.data = (unsigned char *)(uintptr_t)uri;
	d.size = (unsigned)strlen(uri);
	if (gnutls_subject_alt_names_init(&sans) < 0)
		return GBA_ECRYPTO;
	if (gnutls_subject_alt_names_set(sans, GNUTLS_SAN_URI, &d, NULL) == 0 &&
	    gnutls_x509_ext_export_subject_alt_names(sans, out) == 0)
		ret = 0;
	gnutls_subject_alt_names_deinit(sans);
	return ret;
}

/* ---- whole-message faults: one request as gba-ue builds it ---- */

static void ue_req(const struct forge *f, struct ue_cmc_req *r, struct gba_key **keys)
{
	memset(r, 0, sizeof(*r));
	keys[0] = f->key;
	r->identification = f->btid;
	r->ks_naf = f->ks_naf;
	r->keys = keys;
	r->nkeys = 1;
	r->crmf = f->crmf;
	r->txid.p = f->txid;
	r->txid.len = sizeof(f->txid);
	r->sender_nonce.p = f->nonce;
	r->sender_nonce.len = sizeof(f->nonce);
	r->sign_key = f->key;
}

/* SignedData{id-cct-PKIData} over pkidata, sid = the SKI of sid_key,
 * signed by sign_key. */
static int sign_pkidata(const uint8_t *pkidata, size_t plen, struct gba_key *sid_key,
                        struct gba_key *sign_key, uint8_t **der, size_t *len)
{
	struct gba_cms_sign_req sr;
	uint8_t *spki = NULL, ski[GBA_X509_KEY_ID_LEN];
	size_t spki_len = 0;
	int ret;

	ret = gba_key_spki(sid_key, &spki, &spki_len);
	if (ret == 0)
		ret = gba_x509_spki_key_id(spki, spki_len, ski);
	gba_free(spki);
	if (ret < 0)
		return ret;
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = gba_oid_cct_pkidata;
	sr.econtent.p = pkidata;
	sr.econtent.len = plen;
	sr.signer_ski.p = ski;
	sr.signer_ski.len = sizeof(ski);
	sr.sig_alg.p = gba_key_sig_oid(sign_key, &sr.sig_alg.len);
	sr.hash = gba_key_cms_hash(sign_key);
	sr.signing_time = gba_time_now();
	sr.sign = gba_key_sign;
	sr.sign_ctx = sign_key;
	return gba_cms_sign(&sr, der, len);
}

/* The same element with its length in non-minimal form: a short-form
 * length L becomes 81 L, a long form 8n X.. becomes 8(n+1) 00 X.. */
static int nonminimal(const uint8_t *in, size_t len, uint8_t **out, size_t *olen)
{
	uint8_t *p;

	if (len < 2 || in[1] == 0x80 || in[1] > 0x84)
		return GBA_EINVAL;
	p = gba_malloc(len + 1);
	if (p == NULL)
		return GBA_ENOMEM;
	p[0] = in[0];
	if (in[1] < 0x80) {
		p[1] = 0x81;
		p[2] = in[1];
	} else {
		p[1] = (uint8_t)(in[1] + 1);
		p[2] = 0x00;
	}
	memcpy(p + 3, in + 2, len - 2);
	*out = p;
	*olen = len + 1;
	return 0;
}

/* The same constructed element with an indefinite length: tag 80
 * contents 00 00. */
static int indefinite(const uint8_t *in, size_t len, uint8_t **out, size_t *olen)
{
	size_t hl;
	uint8_t *p;

	if (len < 2 || (in[0] & 0x20) == 0 || in[1] == 0x80 || in[1] > 0x84)
		return GBA_EINVAL;
	hl = in[1] < 0x80 ? 2 : 2 + (size_t)(in[1] & 0x7f);
	if (hl > len)
		return GBA_EINVAL;
	p = gba_malloc(len - hl + 4);
	if (p == NULL)
		return GBA_ENOMEM;
	p[0] = in[0];
	p[1] = 0x80;
	memcpy(p + 2, in + hl, len - hl);
	p[2 + len - hl] = 0x00;
	p[3 + len - hl] = 0x00;
	*out = p;
	*olen = len - hl + 4;
	return 0;
}

/* Flip the last octet of der, and check that it is the last octet of
 * the (single) signer's signature: the SignerInfo ends the message and
 * the signature ends the SignerInfo (no unsigned attributes). */
static int flip_signature(uint8_t *der, size_t len)
{
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	struct gba_cms_msg *msg = NULL;
	struct gba_der_error err;
	uint8_t *tbs = NULL, before = der[len - 1];
	size_t tbs_len = 0;
	int ret;

	der[len - 1] ^= 0x01;
	ret = gba_cms_parse(der, len, &view, &msg, &err);
	if (ret == 0)
		ret = gba_cms_signer(msg, &sv, &tbs, &tbs_len, &err);
	if (ret == 0 && (sv.signature.len == 0 ||
	                 sv.signature.p[sv.signature.len - 1] != (uint8_t)(before ^ 0x01)))
		ret = GBA_EINTERNAL;
	gba_free(tbs);
	gba_cms_msg_free(msg);
	return ret;
}

/* ---- request-level faults: the PKIData assembled here ---- */

/* Like ue_cmc_pkidata, with the fault put in; bodyPartID 1 for the
 * request, 2.. for the controls. */
static int forge_pkidata(const struct forge *f, uint8_t **der, size_t *len)
{
	struct gba_cmc_req_build b;
	struct gba_cmc_control_build cb[5];
	struct gba_key *pop_key;
	uint8_t key[32], rnd[UE_CMC_POP_RANDOM_LEN], mac[32], ski[GBA_X509_KEY_ID_LEN];
	uint8_t *spki = NULL, *link = NULL, *req = NULL, *reqseq = NULL, *v[5] = { NULL };
	size_t spki_len = 0, link_len = 0, req_len = 0, reqseq_len = 0, vl[5], n = 0, i;
	struct gba_blob rs;
	int ret;

	ret = ue_cmc_shared_key(f->ks_naf, f->btid, strlen(f->btid), key);
	if (ret == 0)
		ret = gba_rnd(GBA_RND_NONCE, rnd, sizeof(rnd));
	if (ret == 0)
		ret = ue_cmc_witness(key, rnd, sizeof(rnd), mac);
	if (ret == 0 && f->fault == F_WRONG_LINK)
		mac[0] ^= 0x01;
	if (ret == 0)
		ret = gba_cmc_encode_witness_v2(mac, sizeof(mac), &link, &link_len);
	if (ret == 0)
		ret = gba_key_spki(f->key, &spki, &spki_len);
	if (ret == 0)
		ret = gba_x509_spki_key_id(spki, spki_len, ski);
	if (ret < 0)
		goto out;

	pop_key = f->fault == F_POP_WRONG_KEY ? f->other : f->key;
	memset(&b, 0, sizeof(b));
	b.body_part_id = 1;
	b.spki.p = spki;
	b.spki.len = spki_len;
	b.subject = f->subject;
	b.san = f->san;
	b.ski.p = ski;
	b.ski.len = sizeof(ski);
	if (f->fault != F_NO_LINK) {
		b.pop_link_v2.p = link;
		b.pop_link_v2.len = link_len;
	}
	b.sig_alg.p = gba_key_sig_oid(pop_key, &b.sig_alg.len);
	b.sign = gba_key_sign;
	b.sign_ctx = pop_key;
	b.no_pop = f->fault == F_NO_POP;
	if (f->crmf || f->fault == F_NO_POP)
		ret = gba_cmc_crm_build(&b, &req, &req_len);
	else
		ret = gba_cmc_tcr_build(&b, &req, &req_len);
	if (ret < 0)
		goto out;
	rs.p = req;
	rs.len = req_len;
	ret = gba_cmc_reqseq_encode(&rs, 1, &reqseq, &reqseq_len);
	if (ret < 0)
		goto out;

	ret = gba_cmc_encode_integer(f->txid, sizeof(f->txid), &v[n], &vl[n]);
	cb[n++].control = GBA_CMC_TRANSACTION_ID;
	if (ret == 0)
		ret = gba_cmc_encode_octets(f->nonce, sizeof(f->nonce), &v[n], &vl[n]);
	cb[n++].control = GBA_CMC_SENDER_NONCE;
	if (ret == 0)
		ret = gba_cmc_encode_utf8(f->btid, strlen(f->btid), &v[n], &vl[n]);
	cb[n++].control = GBA_CMC_IDENTIFICATION;
	if (ret == 0 && f->fault != F_NO_PROOF) {
		ret = ue_cmc_witness(key, reqseq, reqseq_len, mac);
		if (ret == 0 && f->fault == F_WRONG_PROOF)
			mac[0] ^= 0x01;
		if (ret == 0)
			ret = gba_cmc_encode_witness_v2(mac, sizeof(mac), &v[n], &vl[n]);
		cb[n++].control = GBA_CMC_IDENTITY_PROOF_V2;
	}
	if (ret == 0)
		ret = gba_cmc_encode_octets(rnd, sizeof(rnd), &v[n], &vl[n]);
	cb[n++].control = GBA_CMC_POP_LINK_RANDOM;
	if (ret < 0)
		goto out;
	for (i = 0; i < n; i++) {
		cb[i].body_part_id = (uint32_t)(2 + i);
		cb[i].value.p = v[i];
		cb[i].value.len = vl[i];
	}
	rs.p = reqseq;
	rs.len = reqseq_len;
	ret = gba_cmc_pkidata_encode(cb, n, rs, der, len);
out:
	gba_wipe(key, sizeof(key));
	gba_wipe(mac, sizeof(mac));
	for (i = 0; i < 5; i++)
		gba_free(v[i]);
	gba_free(spki);
	gba_free(link);
	gba_free(req);
	gba_free(reqseq);
	return ret;
}

static int forge(const struct forge *f, uint8_t **der, size_t *len)
{
	struct ue_cmc_req r;
	struct gba_key *keys[1];
	uint8_t *pkidata = NULL, *tmp = NULL;
	size_t plen = 0, tlen = 0;
	int ret;

	*der = NULL;
	*len = 0;
	ue_req(f, &r, keys);
	switch (f->fault) {
	case F_NONE:
		return ue_cmc_request(&r, der, len);
	case F_SIG_FLIP:
		ret = ue_cmc_request(&r, der, len);
		if (ret == 0)
			ret = flip_signature(*der, *len);
		break;
	case F_OUTER_NONMIN:
	case F_OUTER_INDEF:
		ret = ue_cmc_request(&r, &tmp, &tlen);
		if (ret == 0)
			ret = f->fault == F_OUTER_NONMIN ? nonminimal(tmp, tlen, der, len)
			                                 : indefinite(tmp, tlen, der, len);
		break;
	case F_CMS_WRONG_KEY:
		ret = ue_cmc_pkidata(&r, &pkidata, &plen);
		if (ret == 0)
			ret = sign_pkidata(pkidata, plen, f->key, f->other, der, len);
		break;
	case F_PKIDATA_BER:
		ret = ue_cmc_pkidata(&r, &tmp, &tlen);
		if (ret == 0)
			ret = nonminimal(tmp, tlen, &pkidata, &plen);
		if (ret == 0)
			ret = sign_pkidata(pkidata, plen, f->key, f->key, der, len);
		break;
	default:
		ret = forge_pkidata(f, &pkidata, &plen);
		if (ret == 0)
			ret = sign_pkidata(pkidata, plen, f->key, f->key, der, len);
		break;
	}
	gba_free(pkidata);
	gba_free(tmp);
	if (ret < 0) {
		gba_free(*der);
		*der = NULL;
		*len = 0;
	}
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "naf-fqdn", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "crmf", no_argument, NULL, 'C' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "cn", required_argument, NULL, 'n' },
		{ "san", required_argument, NULL, 'S' },
		{ "key-out", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state = NULL, *fqdn = NULL, *out = NULL, *cn = NULL, *san = NULL;
	const char *key_out = NULL;
	enum gba_key_type kt = GBA_KEY_EC_P256;
	gnutls_datum_t name = { NULL, 0 }, sans = { NULL, 0 };
	struct ue_usim u;
	struct forge f;
	uint8_t *der = NULL;
	size_t len = 0, i;
	int ch, ret = GBA_EINVAL, rc = 2, have_u = 0;

	memset(&f, 0, sizeof(f));
	if (argc < 2)
		goto out;
	for (i = 0; fault_names[i] != NULL && strcmp(fault_names[i], argv[1]) != 0; i++)
		;
	if (fault_names[i] == NULL)
		goto out;
	f.fault = (enum fault)i;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'f': fqdn = optarg; break;
		case 'o': out = optarg; break;
		case 'C': f.crmf = 1; break;
		case 'k':
			if (gba_key_type_parse(optarg, &kt) < 0)
				goto out;
			break;
		case 'n': cn = optarg; break;
		case 'S': san = optarg; break;
		case 'K': key_out = optarg; break;
		default: goto out;
		}
	}
	if (optind != argc || state == NULL || fqdn == NULL || out == NULL ||
	    (f.fault == F_SUBJECT) != (cn != NULL) || (f.fault == F_SAN) != (san != NULL))
		goto out;

	rc = 1;
	ret = ue_usim_load(&u, state);
	if (ret < 0)
		goto out;
	have_u = 1;
	if (u.btid[0] == '\0' || u.ks.len != GBA_KS_LEN) {
		ret = GBA_EMISSING;   /* no bootstrap in the state file */
		goto out;
	}
	f.btid = u.btid;
	ret = gba_ks_naf(u.ks.b, u.rand, u.impi, strlen(u.impi), fqdn, strlen(fqdn),
	                 gba_ua_id_pki_portal, f.ks_naf);
	if (ret == 0)
		ret = gba_key_generate(&f.key, kt);
	if (ret == 0)
		ret = gba_key_generate(&f.other, kt);
	if (ret == 0)
		ret = ue_cmc_new_txid(f.txid);
	if (ret == 0)
		ret = gba_rnd(GBA_RND_NONCE, f.nonce, sizeof(f.nonce));
	if (ret == 0 && cn != NULL) {
		ret = name_der(cn, &name);
		f.subject.p = name.data;
		f.subject.len = name.size;
	}
	if (ret == 0 && san != NULL) {
		ret = san_der(san, &sans);
		f.san.p = sans.data;
		f.san.len = sans.size;
	}
	if (ret == 0)
		ret = forge(&f, &der, &len);
	if (ret == 0)
		ret = ue_file_write(out, der, len, 0644);
	if (ret == 0 && key_out != NULL)
		ret = gba_key_save(f.key, key_out);
	if (ret == 0)
		rc = 0;
out:
	if (rc == 2)
		usage(stderr);
	else if (rc == 1)
		fprintf(stderr, "cmc_forge %s: %s\n", argv[1], gba_strerror(ret));
	gba_free(der);
	gnutls_free(name.data);
	gnutls_free(sans.data);
	gba_key_free(f.key);
	gba_key_free(f.other);
	gba_wipe(f.ks_naf, sizeof(f.ks_naf));
	if (have_u)
		ue_usim_clear(&u);
	return rc;
}
