/* ue_cmc.c - Full PKI Requests out, Full PKI Responses in (gba-ue). */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "ue_cmc.h"

int ue_cmc_shared_key(const uint8_t ks_naf[32], const char *ident, size_t ident_len,
                      uint8_t key[32])
{
	struct gba_hash *h = NULL;
	int ret;

	ret = gba_hash_new(&h, GBA_HASH_SHA256);
	if (ret < 0)
		return ret;
	ret = gba_hash_update(h, ks_naf, 32);
	if (ret == 0 && ident_len > 0)
		ret = gba_hash_update(h, ident, ident_len);
	if (ret < 0) {
		gba_hash_free(h);
		return ret;
	}
	return gba_hash_final(h, key);
}

int ue_cmc_witness(const uint8_t key[32], const uint8_t *data, size_t len, uint8_t out[32])
{
	return gba_hmac_fast(GBA_HASH_SHA256, key, 32, data, len, out);
}

int ue_cmc_new_txid(uint8_t txid[UE_CMC_TXID_LEN])
{
	int ret = gba_rnd(GBA_RND_NONCE, txid, UE_CMC_TXID_LEN);

	if (ret < 0)
		return ret;
	txid[0] &= 0x7f;
	if (txid[0] == 0)
		txid[0] = 0x01;
	return 0;
}

/* A control's value DER, owned, with its id. */
struct ctl {
	enum gba_cmc_control c;
	uint8_t *der;
	size_t len;
};

#define UE_CMC_MAX_CTL (8u + UE_CMC_MAX_KEYS)

static int add_ctl(struct ctl *ctls, size_t *n, enum gba_cmc_control c, int ret, uint8_t *der,
                   size_t len)
{
	if (ret < 0) {
		gba_free(der);
		return ret;
	}
	if (*n == UE_CMC_MAX_CTL) {
		gba_free(der);
		return GBA_EINTERNAL;
	}
	ctls[*n].c = c;
	ctls[*n].der = der;
	ctls[*n].len = len;
	(*n)++;
	return 0;
}

int ue_cmc_pkidata(const struct ue_cmc_req *r, uint8_t **der, size_t *len)
{
	uint8_t *spki[UE_CMC_MAX_KEYS] = { NULL }, *req[UE_CMC_MAX_KEYS] = { NULL };
	size_t spki_len[UE_CMC_MAX_KEYS], req_len[UE_CMC_MAX_KEYS];
	uint8_t ski[UE_CMC_MAX_KEYS][GBA_X509_KEY_ID_LEN];
	struct gba_blob reqs[UE_CMC_MAX_KEYS];
	struct gba_cmc_control_build cb[UE_CMC_MAX_CTL];
	struct ctl ctls[UE_CMC_MAX_CTL];
	uint8_t key[32], rnd[UE_CMC_POP_RANDOM_LEN], mac[32];
	uint8_t *plink = NULL, *reqseq = NULL, *v = NULL;
	size_t plink_len = 0, reqseq_len = 0, vlen = 0, nctl = 0, i;
	struct gba_blob rs;
	int ret = 0, proof;

	*der = NULL;
	*len = 0;
	proof = r->identification != NULL;
	if (r->nkeys > UE_CMC_MAX_KEYS || (proof && r->ks_naf == NULL) ||
	    r->txid.len == 0 || r->sender_nonce.len == 0 || r->nconfirm > UE_CMC_MAX_KEYS ||
	    (r->nconfirm > 0 && r->confirm == NULL))
		return GBA_EINVAL;
	if (proof) {
		ret = ue_cmc_shared_key(r->ks_naf, r->identification, strlen(r->identification),
		                        key);
		if (ret < 0)
			goto out;
	}
	if (proof && r->nkeys > 0) {
		ret = gba_rnd(GBA_RND_NONCE, rnd, sizeof(rnd));
		if (ret == 0)
			ret = ue_cmc_witness(key, rnd, sizeof(rnd), mac);
		if (ret == 0)
			ret = gba_cmc_encode_witness_v2(mac, sizeof(mac), &plink, &plink_len);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < r->nkeys; i++) {
		struct gba_cmc_req_build b;
		size_t olen = 0;
		const uint8_t *oid;

		ret = gba_key_spki(r->keys[i], &spki[i], &spki_len[i]);
		if (ret == 0)
			ret = gba_x509_spki_key_id(spki[i], spki_len[i], ski[i]);
		if (ret < 0)
			goto out;
		memset(&b, 0, sizeof(b));
		b.body_part_id = (uint32_t)(i + 1);
		b.spki.p = spki[i];
		b.spki.len = spki_len[i];
		b.ski.p = ski[i];
		b.ski.len = GBA_X509_KEY_ID_LEN;
		if (plink != NULL) {
			b.pop_link_v2.p = plink;
			b.pop_link_v2.len = plink_len;
		}
		oid = gba_key_sig_oid(r->keys[i], &olen);
		b.sig_alg.p = oid;
		b.sig_alg.len = olen;
		b.sign = gba_key_sign;
		b.sign_ctx = r->keys[i];
		if (r->crmf)
			ret = gba_cmc_crm_build(&b, &req[i], &req_len[i]);
		else
			ret = gba_cmc_tcr_build(&b, &req[i], &req_len[i]);
		if (ret < 0)
			goto out;
		reqs[i].p = req[i];
		reqs[i].len = req_len[i];
	}
	ret = gba_cmc_reqseq_encode(reqs, r->nkeys, &reqseq, &reqseq_len);
	if (ret < 0)
		goto out;

	ret = gba_cmc_encode_integer(r->txid.p, r->txid.len, &v, &vlen);
	ret = add_ctl(ctls, &nctl, GBA_CMC_TRANSACTION_ID, ret, v, vlen);
	v = NULL;
	if (ret < 0)
		goto out;
	ret = gba_cmc_encode_octets(r->sender_nonce.p, r->sender_nonce.len, &v, &vlen);
	ret = add_ctl(ctls, &nctl, GBA_CMC_SENDER_NONCE, ret, v, vlen);
	v = NULL;
	if (ret < 0)
		goto out;
	if (proof) {
		ret = gba_cmc_encode_utf8(r->identification, strlen(r->identification), &v, &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_IDENTIFICATION, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
		ret = ue_cmc_witness(key, reqseq, reqseq_len, mac);
		if (ret == 0)
			ret = gba_cmc_encode_witness_v2(mac, sizeof(mac), &v, &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_IDENTITY_PROOF_V2, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
		if (r->nkeys > 0) {
			ret = gba_cmc_encode_octets(rnd, sizeof(rnd), &v, &vlen);
			ret = add_ctl(ctls, &nctl, GBA_CMC_POP_LINK_RANDOM, ret, v, vlen);
			v = NULL;
			if (ret < 0)
				goto out;
		}
	}
	if (r->query_pending.len > 0) {
		ret = gba_cmc_encode_octets(r->query_pending.p, r->query_pending.len, &v, &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_QUERY_PENDING, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < r->nconfirm; i++) {
		ret = gba_cmc_encode_cert_id(GBA_CMC_CONFIRM_CERT_ACCEPTANCE, &r->confirm[i], &v,
		                             &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_CONFIRM_CERT_ACCEPTANCE, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	if (r->revoke != NULL) {
		struct gba_cmc_revoke rv = *r->revoke;

		if (proof) {   /* the GBA passphrase: bound to this request's nonce */
			ret = gba_revoke_passphrase(key, rv.issuer.p, rv.issuer.len, rv.serial.p,
			                            rv.serial.len, rv.reason,
			                            rv.has_invalidity_date ? rv.invalidity_date : 0,
			                            r->sender_nonce.p, r->sender_nonce.len, mac);
			if (ret < 0)
				goto out;
			rv.passphrase.p = mac;
			rv.passphrase.len = sizeof(mac);
		}
		ret = gba_cmc_encode_revoke(&rv, &v, &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_REVOKE_REQUEST, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	if (r->get_crl_issuer.len > 0) {
		ret = gba_cmc_encode_getcrl(r->get_crl_issuer, &v, &vlen);
		ret = add_ctl(ctls, &nctl, GBA_CMC_GET_CRL, ret, v, vlen);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	/* bodyPartIDs are unique across the PKIData: requests 1..n, then
	 * the controls */
	for (i = 0; i < nctl; i++) {
		cb[i].body_part_id = (uint32_t)(r->nkeys + 1 + i);
		cb[i].control = ctls[i].c;
		cb[i].value.p = ctls[i].der;
		cb[i].value.len = ctls[i].len;
	}
	rs.p = reqseq;
	rs.len = reqseq_len;
	ret = gba_cmc_pkidata_encode(cb, nctl, rs, der, len);
out:
	gba_wipe(key, sizeof(key));
	gba_wipe(mac, sizeof(mac));
	gba_wipe(rnd, sizeof(rnd));
	for (i = 0; i < UE_CMC_MAX_KEYS; i++) {
		gba_free(spki[i]);
		gba_free(req[i]);
	}
	for (i = 0; i < nctl; i++)
		gba_free(ctls[i].der);
	gba_free(plink);
	gba_free(reqseq);
	return ret;
}

int ue_cmc_request(const struct ue_cmc_req *r, uint8_t **der, size_t *len)
{
	struct gba_cms_sign_req sr;
	uint8_t *pkidata = NULL, *spki = NULL, ski[GBA_X509_KEY_ID_LEN];
	size_t pkidata_len = 0, spki_len = 0, olen = 0;
	const uint8_t *oid;
	int ret;

	*der = NULL;
	*len = 0;
	if (r->sign_key == NULL)
		return GBA_EINVAL;
	ret = ue_cmc_pkidata(r, &pkidata, &pkidata_len);
	if (ret < 0)
		goto out;
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = gba_oid_cct_pkidata;
	sr.econtent.p = pkidata;
	sr.econtent.len = pkidata_len;
	if (r->signer_cert.len > 0) {
		sr.signer_cert = r->signer_cert;
	} else {
		ret = gba_key_spki(r->sign_key, &spki, &spki_len);
		if (ret == 0)
			ret = gba_x509_spki_key_id(spki, spki_len, ski);
		if (ret < 0)
			goto out;
		sr.signer_ski.p = ski;
		sr.signer_ski.len = sizeof(ski);
	}
	sr.certs = r->certs;
	sr.ncerts = r->ncerts;
	oid = gba_key_sig_oid(r->sign_key, &olen);
	sr.sig_alg.p = oid;
	sr.sig_alg.len = olen;
	sr.hash = gba_key_cms_hash(r->sign_key);
	sr.signing_time = gba_time_now();
	sr.sign = gba_key_sign;
	sr.sign_ctx = r->sign_key;
	ret = gba_cms_sign(&sr, der, len);
out:
	gba_free(pkidata);
	gba_free(spki);
	return ret;
}

void ue_cmc_result_clear(struct ue_cmc_result *res)
{
	ue_certs_clear(&res->issued);
	ue_certs_clear(&res->chain);
	memset(res, 0, sizeof(*res));
}

/* The certificates a message carries, with their facts. */
struct carried {
	struct gba_blob der[UE_MAX_CERTS];
	struct gba_cert_info ci[UE_MAX_CERTS];
	int ok[UE_MAX_CERTS];            /* cert_info succeeded */
	size_t n;
	/* the CA certificates, as verify_path intermediates */
	const uint8_t *ca[UE_MAX_CERTS];
	size_t ca_len[UE_MAX_CERTS];
	size_t nca;
};

/* The certificates carried in a parsed SignedData. */
static int carried_load(struct carried *c, const struct gba_cms_msg *msg,
                        const struct gba_cms_view *view)
{
	size_t i, n = view->ncerts;
	int ret;

	if (n > UE_MAX_CERTS)
		return GBA_ETOOBIG;
	for (i = 0; i < n; i++) {
		ret = gba_cms_cert(msg, i, &c->der[i]);
		if (ret < 0)
			return ret;
	}
	c->n = n;
	for (i = 0; i < n; i++) {
		c->ok[i] = gba_x509_cert_info(c->der[i].p, c->der[i].len, &c->ci[i]) == 0;
		if (c->ok[i] && c->ci[i].is_ca) {
			c->ca[c->nca] = c->der[i].p;
			c->ca_len[c->nca] = c->der[i].len;
			c->nca++;
		}
	}
	return 0;
}

static void carried_clear(struct carried *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->ok[i])
			gba_cert_info_clear(&c->ci[i]);
}

static int blob_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* The carried certificate with that SPKI, or -1. */
static int carried_find_spki(const struct carried *c, const uint8_t *spki, size_t len)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->ok[i] && blob_eq(c->ci[i].spki, c->ci[i].spki_len, spki, len))
			return (int)i;
	return -1;
}

/* Append to chain the carried CA certificates from leaf's issuer
 * upwards (matching subject to issuer), stopping before anchor (when
 * given) and after a self-signed one. */
static int carried_chain(const struct carried *c, int leaf, const uint8_t *anchor,
                         size_t anchor_len, struct ue_certs *chain)
{
	int used[UE_MAX_CERTS] = { 0 };
	size_t i, steps;
	int cur = leaf, ret = 0;

	used[leaf] = 1;
	for (steps = 0; steps < c->n; steps++) {
		int next = -1;

		if (blob_eq(c->ci[cur].issuer_der, c->ci[cur].issuer_der_len,
		            c->ci[cur].subject_der, c->ci[cur].subject_der_len))
			break;                       /* self-signed */
		for (i = 0; i < c->n; i++) {
			if (used[i] || !c->ok[i] || !c->ci[i].is_ca)
				continue;
			if (blob_eq(c->ci[i].subject_der, c->ci[i].subject_der_len,
			            c->ci[cur].issuer_der, c->ci[cur].issuer_der_len)) {
				next = (int)i;
				break;
			}
		}
		if (next < 0)
			break;
		used[next] = 1;
		if (anchor != NULL &&
		    blob_eq(c->der[next].p, c->der[next].len, anchor, anchor_len))
			break;
		ret = ue_certs_add(chain, c->der[next].p, c->der[next].len);
		if (ret < 0)
			return ret;
		cur = next;
	}
	return ret;
}

static void copy_text(char *out, size_t size, struct gba_blob s)
{
	size_t i, n = s.len < size - 1 ? s.len : size - 1;

	for (i = 0; i < n; i++)
		out[i] = (s.p[i] >= 0x20 && s.p[i] != 0x7f) ? (char)s.p[i] : '?';
	out[n] = '\0';
}

int ue_cmc_response(const uint8_t *der, size_t len, const uint8_t *anchor, size_t anchor_len,
                    struct gba_blob txid, struct gba_blob nonce, const struct gba_blob *spkis,
                    size_t nspkis, time_t now, struct ue_cmc_result *res, const char **why)
{
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	struct gba_cmc_response_view rv;
	struct gba_cms_msg *msg = NULL;
	struct gba_cmc_msg *cmsg = NULL;
	struct gba_der_error err = { 0, NULL };
	struct gba_cert_info sci;
	struct carried *c = NULL;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0, i;
	const char *w = NULL;
	int ret, have_sci = 0, failed = -1, pending = -1, k;

	memset(res, 0, sizeof(*res));
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	ret = gba_cms_parse(der, len, &view, &msg, &err);
	if (ret < 0) {
		w = "not a strict DER CMS SignedData";
		goto out;
	}
	if (!blob_eq(view.econtent_type.p, view.econtent_type.len, gba_oid_cct_pkiresponse.p,
	             gba_oid_cct_pkiresponse.len) || view.econtent.len == 0) {
		ret = GBA_EUNSUPP;
		w = "eContentType is not id-cct-PKIResponse";
		goto out;
	}
	ret = gba_cms_signer(msg, &sv, &tbs, &tbs_len, &err);
	if (ret < 0) {
		w = "signer info (one signer, signed attributes, digest)";
		goto out;
	}
	if (sv.cert.len == 0) {
		ret = GBA_EMISSING;
		w = "the signer's certificate is not carried";
		goto out;
	}
	ret = gba_x509_cert_info(sv.cert.p, sv.cert.len, &sci);
	if (ret < 0) {
		w = "signer certificate";
		goto out;
	}
	have_sci = 1;
	ret = gba_x509_verify_spki(sci.spki, sci.spki_len, sv.sig_alg.p, sv.sig_alg.len, tbs,
	                           tbs_len, sv.signature.p, sv.signature.len);
	if (ret < 0) {
		w = "signature of the response";
		goto out;
	}
	ret = carried_load(c, msg, &view);
	if (ret < 0) {
		w = "certificates of the response";
		goto out;
	}
	ret = gba_x509_verify_path(sv.cert.p, sv.cert.len, c->ca, c->ca_len, c->nca, anchor,
	                           anchor_len, now);
	if (ret < 0) {
		w = "the signer's certificate does not chain to the trust anchor";
		goto out;
	}
	if (gba_x509_cert_has_eku(sv.cert.p, sv.cert.len, UE_OID_KP_CMC_CA) != 1 &&
	    gba_x509_cert_has_eku(sv.cert.p, sv.cert.len, UE_OID_KP_CMC_RA) != 1) {
		ret = GBA_EAUTH;
		w = "the signer's certificate has no id-kp-cmcCA / id-kp-cmcRA";
		goto out;
	}
	ret = gba_cmc_response_parse(view.econtent.p, view.econtent.len, &rv, &cmsg, &err);
	if (ret < 0) {
		w = "PKIResponse";
		goto out;
	}
	if (!blob_eq(rv.transaction_id.p, rv.transaction_id.len, txid.p, txid.len)) {
		ret = GBA_EAUTH;
		w = "transactionId not echoed";
		goto out;
	}
	if (rv.recipient_nonce.len != nonce.len ||
	    !gba_ct_equal(rv.recipient_nonce.p, nonce.p, nonce.len)) {
		ret = GBA_EREPLAY;
		w = "recipientNonce is not our senderNonce";
		goto out;
	}
	if (rv.nstatuses == 0) {
		ret = GBA_EMISSING;
		w = "no statusInfoV2";
		goto out;
	}
	for (i = 0; i < rv.nstatuses; i++) {
		if (rv.statuses[i].status == GBA_CMC_PENDING && pending < 0)
			pending = (int)i;
		else if (rv.statuses[i].status == GBA_CMC_CONFIRM_REQUIRED)
			res->confirm_required = 1;
		else if (rv.statuses[i].status != GBA_CMC_SUCCESS && failed < 0)
			failed = (int)i;
	}
	if (failed >= 0) {
		const struct gba_cmc_status_view *s = &rv.statuses[failed];

		res->status = GBA_CMC_FAILED;
		res->has_fail_info = s->has_fail_info;
		res->fail_info = s->fail_info;
		copy_text(res->status_string, sizeof(res->status_string), s->status_string);
		if (s->status != GBA_CMC_FAILED && res->status_string[0] == '\0')
			copy_text(res->status_string, sizeof(res->status_string),
			          (struct gba_blob){ (const uint8_t *)gba_cmc_status_name(s->status),
			                             strlen(gba_cmc_status_name(s->status)) });
		ret = 0;
		goto out;
	}
	if (pending >= 0) {
		const struct gba_cmc_status_view *s = &rv.statuses[pending];

		if (!s->has_pend_info || s->pend_token.len == 0 ||
		    s->pend_token.len > sizeof(res->pend_token)) {
			ret = GBA_EMISSING;
			w = "pending without a usable pendToken";
			goto out;
		}
		res->status = GBA_CMC_PENDING;
		memcpy(res->pend_token, s->pend_token.p, s->pend_token.len);
		res->pend_token_len = s->pend_token.len;
		res->pend_time = s->pend_time;
		copy_text(res->status_string, sizeof(res->status_string), s->status_string);
		ret = 0;
		goto out;
	}
	res->status = GBA_CMC_SUCCESS;
	for (i = 0; i < nspkis; i++) {
		k = carried_find_spki(c, spkis[i].p, spkis[i].len);
		if (k < 0) {
			ret = GBA_ENOTFOUND;
			w = "success, but no carried certificate has our key";
			goto out;
		}
		ret = gba_x509_verify_path(c->der[k].p, c->der[k].len, c->ca, c->ca_len, c->nca,
		                           anchor, anchor_len, now);
		if (ret < 0) {
			w = "the issued certificate does not chain to the trust anchor";
			goto out;
		}
		ret = ue_certs_add(&res->issued, c->der[k].p, c->der[k].len);
		if (ret == 0 && i == 0)
			ret = carried_chain(c, k, anchor, anchor_len, &res->chain);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		ue_cmc_result_clear(res);
		if (why != NULL)
			*why = w != NULL ? w : gba_strerror(ret);
	}
	if (have_sci)
		gba_cert_info_clear(&sci);
	if (c != NULL) {
		carried_clear(c);
		gba_free(c);
	}
	gba_free(tbs);
	gba_cmc_msg_free(cmsg);
	gba_cms_msg_free(msg);
	return ret;
}

int ue_cmc_certs_only(const uint8_t *der, size_t len, struct gba_blob spki,
                      struct ue_certs *leaf, struct ue_certs *chain)
{
	struct gba_cms_view view;
	struct gba_cms_msg *msg = NULL;
	struct gba_der_error err = { 0, NULL };
	struct carried *c = NULL;
	int ret, k;

	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	ret = gba_cms_parse(der, len, &view, &msg, &err);
	if (ret == 0)
		ret = carried_load(c, msg, &view);
	if (ret < 0)
		goto out;
	k = carried_find_spki(c, spki.p, spki.len);
	if (k < 0) {
		ret = GBA_ENOTFOUND;
		goto out;
	}
	ret = ue_certs_add(leaf, c->der[k].p, c->der[k].len);
	if (ret == 0)
		ret = carried_chain(c, k, NULL, 0, chain);
out:
	carried_clear(c);
	gba_free(c);
	gba_cms_msg_free(msg);
	return ret;
}
