/*
 * naf_cmc.c - the CMC server (RFC 5272 Full PKI Requests over RFC 5273
 * HTTP): first enrolment authenticated by the GBA key (identification =
 * B-TID, identityProofV2 keyed with SHA-256(Ks_NAF || B-TID), POP
 * linking), renewal and rekey signed with an issued certificate,
 * pending requests and polling, getCert, confirmCertAcceptance,
 * revokeRequest and getCRL (doc/revocation.md).
 *
 * Every answer to a request that parsed as a SignedData is a Full PKI
 * Response signed by the CMC signer; only bodies too malformed for that
 * get a bare 400.  Each request body part gets its own statusInfoV2; a
 * mix of successes and failures adds a `partial` status for body part 0.
 *
 * CMC has no criticality flag on controls: a control this server does
 * not implement fails the whole PKIData with noSupport naming it.
 *
 * The CMCFailInfo for each refusal (doc/cmc.md):
 *   badMessageCheck  the SignedData signature or its attributes
 *   badRequest       a control's syntax, a missing transactionId or
 *                    senderNonce, a replayed senderNonce, a name the
 *                    policy does not allow, an unknown pendToken
 *   badIdentity      identification / identityProofV2 missing or wrong,
 *                    unknown or expired B-TID, a renewal signed by a
 *                    revoked, unknown or foreign certificate, no USS
 *   badAlg           a key type or MAC algorithm outside policy
 *   popRequired      a CRMF request without POP
 *   popFailed        a POP signature or popLinkWitnessV2 that fails
 *   noKeyReuse       a renewal keeping its key where policy forbids it
 *   badTime          a renewal outside the policy's renewal window
 *   tryLater         the policy's rate limit
 *   badCertId        getCert for a certificate we do not have
 *   internalCAError  our own failures
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_ocsp.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-cmc"
#define OID_KP_CMC_RA "1.3.6.1.5.5.7.3.28"   /* id-kp-cmcRA (RFC 6402 2.10) */
#define MAX_STATUS (GBA_CMC_MAX_REQUESTS + GBA_CMC_MAX_CONTROLS + 1u)
#define MAX_OUT_CERTS (GBA_CMC_MAX_REQUESTS + GBA_CMC_MAX_CONTROLS + 3u)
/* What a response holds besides its certificates, CRLs and dataReturn
 * (the CMC signer's and the issuing CA's certificates, the statuses, the
 * SignedData around them) stays below this: getCRL keeps the whole
 * response under the HTTP layer's body cap with it. */
#define RESP_RESERVE (64u * 1024u)
#define CRL_TOO_BIG "the CRL does not fit in this response: fetch it from the CRL " \
                    "distribution point"

enum cmc_mode { MODE_NONE, MODE_NEW, MODE_RENEW, MODE_POLL };

struct cmc {
	struct naf *n;
	const struct gba_http_request *req;
	const struct naf_ca *ca;               /* whose CMC signer answers */
	/* request */
	struct gba_cms_msg *cms;
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	uint8_t *tbs;
	size_t tbs_len;
	struct gba_cmc_msg *cmsg;
	struct gba_cmc_pkidata pd;
	struct gba_blob txid, nonce, ident, data_return, query_pending, plr;
	int has_proof;
	struct gba_cmc_witness_v2 proof;
	enum cmc_mode mode;
	char btid[GBA_MAX_BTID_LEN + 1];
	struct naf_key key;                    /* MODE_NEW / MODE_POLL */
	uint8_t proof_key[32];                 /* SHA-256(Ks_NAF || identification) */
	struct gba_cert_info old;              /* MODE_RENEW: the signer */
	struct gba_cert_record old_rec;
	const uint8_t *signer_spki;
	size_t signer_spki_len;
	/* response */
	struct gba_cmc_status_info st[MAX_STATUS];
	uint32_t ids[MAX_STATUS];
	size_t nst;
	struct gba_blob out_certs[MAX_OUT_CERTS];
	uint8_t *owned[MAX_OUT_CERTS];
	size_t nout, nowned;
	struct gba_cert_record recs[GBA_CMC_MAX_REQUESTS];
	size_t nrecs;
	struct gba_pending pend;
	int has_pend;
	uint8_t pend_issued[GBA_STORE_TOKEN_LEN];
	int has_pend_issued;
	struct gba_cert_ref confirm[GBA_CMC_MAX_CONTROLS];   /* confirmCertAcceptance */
	size_t nconfirm;
	size_t nok, nfail;
	/* revokeRequest and getCRL (issue 6) */
	int ra;                                /* signed by an authorized RA */
	const struct naf_ca *ra_ca;            /* ... of this CA */
	struct gba_revocation revs[GBA_CMC_MAX_CONTROLS];
	char rev_impi[GBA_CMC_MAX_CONTROLS][GBA_MAX_IMPI_LEN + 1];
	size_t rev_st[GBA_CMC_MAX_CONTROLS];   /* each one's status */
	size_t nrevs, nrev_audited;
	struct gba_blob crls[NAF_MAX_CAS];
	uint8_t *crl_owned[NAF_MAX_CAS];
	const struct naf_ca *crl_ca[NAF_MAX_CAS];   /* whose CRL crls[i] is */
	size_t ncrls;
	size_t crl_st[GBA_CMC_MAX_CONTROLS];   /* the getCRL statuses that carry one */
	size_t ncrl_st;
	struct naf_ccm_batch ccm;              /* install CCMs, queued with the certificates */
	struct naf_ccm_one rev_ccm[GBA_CMC_MAX_CONTROLS];   /* revoked CCMs: revs[i].ccm
	                                                     * points into these */
};

/* ---- statuses ---- */

static void status_add(struct cmc *c, enum gba_cmc_status s, uint32_t id, int fail,
                       const char *text)
{
	struct gba_cmc_status_info *si;

	if (c->nst >= MAX_STATUS)
		return;
	si = &c->st[c->nst];
	memset(si, 0, sizeof(*si));
	c->ids[c->nst] = id;
	si->status = s;
	si->body_list = &c->ids[c->nst];
	si->nbody = 1;
	si->status_string = text;
	if (s == GBA_CMC_FAILED && fail >= 0) {
		si->has_fail_info = 1;
		si->fail_info = (enum gba_cmc_fail)fail;
	}
	c->nst++;
}

/* Fail the whole PKIData: every status so far is replaced. */
static void fail_all(struct cmc *c, enum gba_cmc_status s, uint32_t id, int fail,
                     const char *text)
{
	size_t i;

	c->nst = 0;
	for (i = 0; i < c->nrecs; i++) {
		c->recs[i].der = NULL;   /* the out list owns it */
		gba_cert_record_clear(&c->recs[i]);
	}
	c->nrecs = 0;
	if (c->has_pend)
		gba_pending_clear(&c->pend);   /* its blob is ours */
	c->has_pend = 0;
	c->has_pend_issued = 0;
	c->nconfirm = 0;
	c->nout = 0;
	status_add(c, s, id, fail, text);
}

static int out_cert(struct cmc *c, const uint8_t *der, size_t len, uint8_t *owned)
{
	if (c->nout >= MAX_OUT_CERTS) {
		gba_free(owned);
		return GBA_ETOOBIG;
	}
	if (owned != NULL)
		c->owned[c->nowned++] = owned;
	c->out_certs[c->nout].p = der;
	c->out_certs[c->nout].len = len;
	c->nout++;
	return 0;
}

/* ---- controls ---- */

static int single(struct cmc *c, const struct gba_cmc_attr *a, struct gba_blob *seen)
{
	if (seen->len != 0 || a->nvalues != 1) {
		fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
		         "control repeated or with several values");
		return -1;
	}
	return 0;
}

/* revokeRequest / getCRL syntax: 1 when the PKIData failed (status
 * set), else the decoder's result. */
static int revocation_control_ok(struct cmc *c, const struct gba_cmc_attr *a,
                                 struct gba_der_error *err)
{
	struct gba_cmc_revoke rv;
	struct gba_cmc_get_crl gc;

	if (a->nvalues != 1) {
		fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
		         "control with several values");
		return 1;
	}
	if (a->control == GBA_CMC_REVOKE_REQUEST)
		return gba_cmc_get_revoke(c->cmsg, a->values[0], &rv, err);
	return gba_cmc_get_getcrl(c->cmsg, a->values[0], &gc, err);
}

/* Read the controls; 0 or -1 when the PKIData has failed (status set). */
static int read_controls(struct cmc *c)
{
	const struct gba_cmc_attr *a;
	struct gba_der_error err;
	struct gba_blob *dst;
	size_t i;
	int ret;

	for (i = 0; i < c->pd.ncontrols; i++) {
		a = &c->pd.controls[i];
		dst = NULL;
		switch (a->control) {
		case GBA_CMC_TRANSACTION_ID:
			if (single(c, a, &c->txid) < 0)
				return -1;
			ret = gba_cmc_get_integer(c->cmsg, a->values[0], &c->txid, &err);
			break;
		case GBA_CMC_SENDER_NONCE:
			dst = &c->nonce;
			break;
		case GBA_CMC_IDENTIFICATION:
			if (single(c, a, &c->ident) < 0)
				return -1;
			ret = gba_cmc_get_utf8(c->cmsg, a->values[0], &c->ident, &err);
			break;
		case GBA_CMC_DATA_RETURN:
			dst = &c->data_return;
			break;
		case GBA_CMC_POP_LINK_RANDOM:
			dst = &c->plr;
			break;
		case GBA_CMC_QUERY_PENDING:
			dst = &c->query_pending;
			break;
		case GBA_CMC_REG_INFO: {
			struct gba_blob ignored = { NULL, 0 };

			if (a->nvalues != 1) {
				fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
				         "regInfo with several values");
				return -1;
			}
			ret = gba_cmc_get_octets(c->cmsg, a->values[0], &ignored, &err);
			break;
		}
		case GBA_CMC_IDENTITY_PROOF_V2:
			if (c->has_proof || a->nvalues != 1) {
				fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
				         "identityProofV2 repeated");
				return -1;
			}
			c->has_proof = 1;
			ret = gba_cmc_get_witness_v2(c->cmsg, a->values[0], &c->proof, &err);
			break;
		case GBA_CMC_REVOKE_REQUEST:
		case GBA_CMC_GET_CRL:
			ret = revocation_control_ok(c, a, &err);
			if (ret > 0)
				return -1;
			break;
		case GBA_CMC_GET_CERT:
		case GBA_CMC_CONFIRM_CERT_ACCEPTANCE: {
			struct gba_cmc_cert_id id;

			if (a->nvalues != 1) {
				fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
				         "control with several values");
				return -1;
			}
			ret = gba_cmc_get_cert_id(c->cmsg, a->control, a->values[0], &id, &err);
			break;
		}
		default:
			/* the bodyList names the control; the string must be static */
			fail_all(c, GBA_CMC_NO_SUPPORT, a->body_part_id, -1, "unsupported control");
			return -1;
		}
		if (dst != NULL) {
			if (single(c, a, dst) < 0)
				return -1;
			ret = gba_cmc_get_octets(c->cmsg, a->values[0], dst, &err);
		}
		if (ret < 0) {
			fail_all(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
			         "a control's value is malformed");
			return -1;
		}
	}
	if (c->txid.len == 0 || c->nonce.len == 0 || c->nonce.len > GBA_STORE_MAX_NONCE) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST,
		         "transactionId and senderNonce are required");
		return -1;
	}
	return 0;
}

/* ---- authentication ---- */

static int oid_eq(struct gba_oid a, const struct gba_oid *b)
{
	return a.len == b->len && memcmp(a.p, b->p, a.len) == 0;
}

/* MAC with proof_key; 0 when witness matches. */
static int witness_ok(const struct cmc *c, const struct gba_cmc_witness_v2 *w,
                      const uint8_t *data, size_t len)
{
	uint8_t mac[32];
	int ok;

	if (!oid_eq(w->hash_alg, &gba_oid_sha256) || !oid_eq(w->mac_alg, &gba_oid_hmac_sha256))
		return GBA_EUNSUPP;
	if (w->witness.len != sizeof(mac))
		return GBA_EAUTH;
	if (gba_hmac_fast(GBA_HASH_SHA256, c->proof_key, sizeof(c->proof_key), data, len, mac) < 0)
		return GBA_ECRYPTO;
	ok = gba_ct_equal(mac, w->witness.p, sizeof(mac));
	gba_wipe(mac, sizeof(mac));
	return ok ? 0 : GBA_EAUTH;
}

/* identification + identityProofV2 -> c->key, c->proof_key. */
static int check_identity(struct cmc *c)
{
	uint8_t *buf;
	size_t blen;
	char tag[GBA_LOG_ID_LEN];
	int ret;

	if (c->ident.len == 0 || !c->has_proof) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY,
		         "identification and identityProofV2 are required");
		return -1;
	}
	if (c->ident.len > GBA_MAX_BTID_LEN || memchr(c->ident.p, 0, c->ident.len) != NULL) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY, "identification is not a B-TID");
		return -1;
	}
	memcpy(c->btid, c->ident.p, c->ident.len);
	c->btid[c->ident.len] = '\0';
	ret = naf_key_get(c->n, c->btid, &c->key);
	if (ret == GBA_ENOTFOUND || ret == GBA_EINVAL) {
		gba_log_info(MOD, "unknown or expired b-tid %s",
		             gba_log_id(c->btid, strlen(c->btid), tag));
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY,
		         "unknown or expired B-TID: bootstrap again");
		return -1;
	}
	if (ret < 0) {
		gba_log_err(MOD, "Ks_NAF: %s", gba_strerror(ret));
		fail_all(c, GBA_CMC_FAILED, 0, ret == GBA_EAUTH ? GBA_CMC_BAD_IDENTITY
		                                                : GBA_CMC_TRY_LATER,
		         "the BSF did not release the key");
		return -1;
	}
	blen = sizeof(c->key.ks_naf) + c->ident.len;
	buf = gba_malloc(blen);
	if (buf == NULL)
		return GBA_ENOMEM;
	memcpy(buf, c->key.ks_naf, sizeof(c->key.ks_naf));
	memcpy(buf + sizeof(c->key.ks_naf), c->ident.p, c->ident.len);
	ret = gba_hash_fast(GBA_HASH_SHA256, buf, blen, c->proof_key);
	gba_wipe(buf, blen);
	gba_free(buf);
	if (ret < 0)
		return ret;
	ret = witness_ok(c, &c->proof, c->pd.req_sequence.p, c->pd.req_sequence.len);
	if (ret == GBA_EUNSUPP) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_ALG,
		         "identityProofV2 must use SHA-256 and HMAC-SHA256");
		return -1;
	}
	if (ret < 0) {
		gba_log_notice(MOD, "wrong identity proof for b-tid %s",
		               gba_log_id(c->btid, strlen(c->btid), tag));
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY, "identityProofV2 is wrong");
		return -1;
	}
	return 0;
}

static int blob_eq(struct gba_blob a, struct gba_blob b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/*
 * An RA certificate from ca's ra.pem keeps its power only while it is
 * one: extKeyUsage id-kp-cmcRA, and not revoked or held.  One the store
 * knows must be VALID there (and of this CA); one it does not know was
 * not issued here and is on none of our CRLs (it is withdrawn by taking
 * it out of ra.pem).  1 allowed, 0 refused, or a negative code.
 */
static int ra_still_valid(struct cmc *c, const struct naf_ca *ca)
{
	struct gba_cert_record rec;
	char hex[2 * GBA_X509_MAX_SERIAL + 1];
	int ret;

	memset(&rec, 0, sizeof(rec));
	gba_hex_encode(c->old.serial, c->old.serial_len, hex);
	if (gba_x509_cert_has_eku(c->sv.cert.p, c->sv.cert.len, OID_KP_CMC_RA) != 1) {
		gba_log_notice(MOD, "RA certificate %s of %s has no id-kp-cmcRA: refused", hex,
		               ca->name);
		return 0;
	}
	ret = gba_store_cert_get(c->n->store, c->old.serial, c->old.serial_len, &rec);
	if (ret == GBA_ENOTFOUND || ret == GBA_EINVAL)
		return 1;
	if (ret < 0)
		return ret;
	ret = rec.status == GBA_CERT_VALID && strcmp(rec.ca, ca->name) == 0 &&
	      blob_eq((struct gba_blob){ rec.der, rec.der_len }, c->sv.cert);
	if (!ret)
		gba_log_notice(MOD, "RA certificate %s of %s is revoked or held: refused", hex,
		               ca->name);
	gba_cert_record_clear(&rec);
	return ret;
}

/* The signer: a key being certified (sid = SKI), or an issued certificate. */
static int check_signer(struct cmc *c)
{
	struct gba_der_error err;
	const uint8_t *cacert;
	size_t i, calen;
	int ret;

	ret = gba_cms_signer(c->cms, &c->sv, &c->tbs, &c->tbs_len, &err);
	if (ret < 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
		         "the SignedData signer or its attributes are wrong");
		return -1;
	}
	if (c->sv.cert.len == 0) {
		if (c->sv.ski.len == 0) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK, "no signer");
			return -1;
		}
		for (i = 0; i < c->pd.nreqs; i++) {
			if (c->pd.reqs[i].ski.len > 0 && blob_eq(c->pd.reqs[i].ski, c->sv.ski)) {
				c->signer_spki = c->pd.reqs[i].spki.p;
				c->signer_spki_len = c->pd.reqs[i].spki.len;
				break;
			}
		}
		c->mode = c->signer_spki != NULL ? MODE_NEW : MODE_POLL;
		return 0;   /* POLL: the key comes with the pending request */
	}
	ret = gba_x509_verify_signature(c->sv.cert.p, c->sv.cert.len, c->sv.sig_alg.p,
	                                c->sv.sig_alg.len, c->tbs, c->tbs_len,
	                                c->sv.signature.p, c->sv.signature.len);
	if (ret < 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
		         "the SignedData signature does not verify");
		return -1;
	}
	c->mode = MODE_RENEW;
	ret = gba_x509_cert_info(c->sv.cert.p, c->sv.cert.len, &c->old);
	if (ret < 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY, "the signer certificate");
		return -1;
	}
	for (i = 0; i < c->n->conf->ncas; i++) {
		cacert = gba_signer_cert(c->n->conf->cas[i].issuer, &calen);
		if (gba_x509_verify_path(c->sv.cert.p, c->sv.cert.len, NULL, NULL, 0, cacert, calen,
		                         (time_t)gba_time_now()) == 0)
			break;
	}
	if (i == c->n->conf->ncas) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY,
		         "the signer certificate is not one of ours");
		return -1;
	}
	if (naf_ca_ra_is(&c->n->conf->cas[i], c->sv.cert.p, c->sv.cert.len)) {
		ret = ra_still_valid(c, &c->n->conf->cas[i]);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY,
			         "the RA certificate is revoked, held or not for id-kp-cmcRA");
			return -1;
		}
		c->ra = 1;   /* may revoke; enrols nothing (naf_cmc_handle) */
		c->ra_ca = &c->n->conf->cas[i];
		return 0;
	}
	ret = gba_store_cert_get(c->n->store, c->old.serial, c->old.serial_len, &c->old_rec);
	if (ret == GBA_ENOTFOUND || (ret == 0 && (c->old_rec.status != GBA_CERT_VALID ||
	                                          strcasecmp(c->old_rec.app_id,
	                                                     c->n->conf->fqdn) != 0))) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_IDENTITY,
		         "the signer certificate is revoked, unknown or for another application");
		return -1;
	}
	if (ret < 0)
		return ret;
	return 0;
}

/* ---- requests ---- */

static int pop_ok(const struct gba_cmc_request *r, int *fail, const char **why)
{
	if (r->kind == GBA_CMC_REQ_ORM) {
		*fail = GBA_CMC_BAD_REQUEST;
		*why = "orm requests are not supported";
		return 0;
	}
	if (r->spki.len == 0) {
		*fail = GBA_CMC_BAD_REQUEST;
		*why = "the request has no public key";
		return 0;
	}
	if (!r->has_pop_sig || r->crm_pop_other) {
		*fail = GBA_CMC_POP_REQUIRED_FAIL;
		*why = "no proof of possession";
		return 0;
	}
	if (r->crm_pop_sig_has_input) {
		*fail = GBA_CMC_BAD_REQUEST;
		*why = "POPOSigningKeyInput is not supported";
		return 0;
	}
	if (gba_x509_verify_spki(r->spki.p, r->spki.len, r->pop_sig_alg.p, r->pop_sig_alg.len,
	                         r->pop_signed.p, r->pop_signed.len, r->pop_signature.p,
	                         r->pop_signature.len) != 0) {
		*fail = GBA_CMC_POP_FAILED;
		*why = "the proof-of-possession signature does not verify";
		return 0;
	}
	return 1;
}

static void audit_deny(struct cmc *c, const char *why, const struct gba_policy_decision *d)
{
	(void)naf_audit(c->n, GBA_AUDIT_DENY, GBA_AUDIT_DENIED, why, c->req->peer,
	                c->mode == MODE_RENEW ? c->old_rec.impi : c->key.impi, c->btid,
	                d != NULL ? d->policy_file : NULL, d != NULL ? d->policy_sha256 : NULL,
	                NULL, 0, NULL);
}

/* 1 when subject (a Name DER) is the one the template string dn gives,
 * 0 when not, or a negative GBA_E* code. */
static int subject_is(struct gba_blob subject, const char *dn)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = gba_x509_dn_der(dn, &der, &len);
	if (ret < 0)
		return ret;
	ret = blob_eq(subject, (struct gba_blob){ der, len });
	gba_free(der);
	return ret;
}

/* One request: POP, link, policy, then issue or queue. */
static int do_request(struct cmc *c, const struct gba_cmc_request *r)
{
	struct gba_policy_decision dec;
	struct naf_enrol_req er;
	struct naf_issue is;
	const struct naf_ca *ca;
	const char *why = NULL;
	uint8_t *der = NULL;
	size_t dlen = 0;
	int fail = GBA_CMC_BAD_REQUEST, ret;

	if (!pop_ok(r, &fail, &why))
		goto refuse;
	if (c->mode == MODE_NEW) {
		if (!r->has_pop_link_v2 || c->plr.len == 0) {
			fail = GBA_CMC_POP_FAILED;
			why = "popLinkRandom and popLinkWitnessV2 are required";
			goto refuse;
		}
		ret = witness_ok(c, &r->pop_link_v2, c->plr.p, c->plr.len);
		if (ret < 0) {
			fail = ret == GBA_EUNSUPP ? GBA_CMC_BAD_ALG : GBA_CMC_POP_FAILED;
			why = "popLinkWitnessV2 is wrong";
			goto refuse;
		}
	}
	memset(&er, 0, sizeof(er));
	er.method = GBA_POLICY_METHOD_CMC_FULL;
	er.spki = r->spki.p;
	er.spki_len = r->spki.len;
	if (c->mode == MODE_RENEW) {
		er.impi = c->old_rec.impi;
		er.btid = "";
		er.renewal = true;
		er.old = &c->old;
		er.old_der = c->sv.cert.p;
		er.old_der_len = c->sv.cert.len;
	} else {
		er.impi = c->key.impi;
		er.btid = c->btid;
		er.uss_json = c->key.uss_json;
	}
	ret = naf_decide(c->n, &er, &dec, &why, &fail);
	if (ret < 0)
		return ret;
	if (dec.allowed && c->mode == MODE_RENEW && !dec.renewal_same_key &&
	    blob_eq(r->spki, (struct gba_blob){ c->old.spki, c->old.spki_len })) {
		dec.allowed = false;
		why = "the policy does not allow renewal with the same key";
		fail = GBA_CMC_NO_KEY_REUSE;
	}
	if (dec.allowed && r->has_san && !dec.rewrite_names) {
		dec.allowed = false;
		why = "the request names a subjectAltName";
		fail = GBA_CMC_BAD_REQUEST;
	}
	/* a request naming another subject is refused unless rewritten;
	 * before the pending branch, which would otherwise queue it */
	if (dec.allowed && !dec.rewrite_names && c->mode != MODE_RENEW && r->subject.len > 2) {
		ret = subject_is(r->subject, dec.tmpl.subject);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			dec.allowed = false;
			why = "the request names a subject the policy does not give";
			fail = GBA_CMC_BAD_REQUEST;
		}
	}
	ca = dec.allowed ? naf_ca_find(c->n, dec.tmpl.issuer) : NULL;
	if (dec.allowed && ca == NULL) {
		dec.allowed = false;
		why = "the policy's issuer is not configured here";
		fail = GBA_CMC_INTERNAL_CA_ERROR;
	}
	if (!dec.allowed) {
		audit_deny(c, why, &dec);
		status_add(c, GBA_CMC_FAILED, r->body_part_id, fail, why);
		c->nfail++;
		return 0;
	}
	memset(&is, 0, sizeof(is));
	is.ca = ca;
	is.impi = er.impi;
	is.app_id = c->n->conf->fqdn;
	is.policy_sha256 = dec.policy_sha256;
	is.spki = r->spki.p;
	is.spki_len = r->spki.len;
	is.tmpl = &dec.tmpl;
	if (dec.pending && c->mode == MODE_NEW && !c->has_pend) {
		struct gba_pending *p = &c->pend;

		memset(p, 0, sizeof(*p));
		ret = gba_rnd(GBA_RND_NONCE, p->token, sizeof(p->token));
		if (ret == 0)
			ret = naf_pending_pack(&is, &p->blob, &p->blob_len);
		if (ret < 0)
			return ret;
		memcpy(p->impi, er.impi, strlen(er.impi));
		memcpy(p->app_id, c->n->conf->fqdn, strlen(c->n->conf->fqdn));
		p->state = GBA_PENDING_WAITING;
		p->created = gba_time_now();
		p->expires = p->created + (c->n->conf->pend_lifetime_s != 0
		                           ? c->n->conf->pend_lifetime_s : 7 * 86400);
		c->has_pend = 1;
		status_add(c, GBA_CMC_PENDING, r->body_part_id, -1, "waiting for approval");
		c->st[c->nst - 1].has_pend_info = 1;
		c->st[c->nst - 1].pend_token.p = p->token;
		c->st[c->nst - 1].pend_token.len = sizeof(p->token);
		c->st[c->nst - 1].pend_time = p->created + (c->n->conf->pend_poll_s != 0
		                                            ? c->n->conf->pend_poll_s : 60);
		(void)naf_audit(c->n, GBA_AUDIT_PENDING, GBA_AUDIT_OK, "manual-approval",
		                c->req->peer, er.impi, c->btid, dec.policy_file, dec.policy_sha256,
		                NULL, 0, NULL);
		return 0;
	}
	if (dec.pending) {
		why = "only one request per PKIData can wait for approval";
		status_add(c, GBA_CMC_FAILED, r->body_part_id, GBA_CMC_BAD_REQUEST, why);
		c->nfail++;
		return 0;
	}
	ret = naf_issue_cert(c->n, &is, &der, &dlen, &c->recs[c->nrecs]);
	if (ret < 0) {
		gba_free(der);
		return ret;
	}
	c->recs[c->nrecs].der = der;    /* borrowed: the out list owns der */
	if (dec.confirm_within_s > 0)
		c->recs[c->nrecs].confirm_by = gba_time_now() + dec.confirm_within_s;
	c->nrecs++;
	ret = out_cert(c, der, dlen, der);
	if (ret < 0)
		return ret;
	if (dec.confirm_within_s > 0)
		status_add(c, GBA_CMC_CONFIRM_REQUIRED, r->body_part_id, -1,
		           "confirm acceptance with confirmCertAcceptance");
	else
		status_add(c, GBA_CMC_SUCCESS, r->body_part_id, -1, NULL);
	c->nok++;
	return 0;
refuse:
	audit_deny(c, why, NULL);
	status_add(c, GBA_CMC_FAILED, r->body_part_id, fail, why);
	c->nfail++;
	return 0;
}

/* queryPending: look the request up, issue it once approved. */
static int do_poll(struct cmc *c)
{
	struct gba_pending p;
	struct naf_unpacked u;
	struct naf_issue is;
	struct gba_cert_record rec;
	const struct naf_ca *ca;
	uint8_t *der = NULL;
	size_t dlen;
	int ret;

	memset(&p, 0, sizeof(p));
	memset(&rec, 0, sizeof(rec));
	if (c->query_pending.len != GBA_STORE_TOKEN_LEN ||
	    gba_store_pending_get(c->n->store, c->query_pending.p, &p) != 0 ||
	    strcmp(p.impi, c->key.impi) != 0 || strcasecmp(p.app_id, c->n->conf->fqdn) != 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST, "unknown pendToken");
		ret = 0;
		goto out;
	}
	ret = naf_pending_unpack(p.blob, p.blob_len, &u);
	if (ret < 0)
		goto out;
	/* the poll is signed by the key waiting for its certificate */
	if (c->sv.cert.len != 0 ||
	    gba_x509_verify_spki(u.spki, u.spki_len, c->sv.sig_alg.p, c->sv.sig_alg.len, c->tbs,
	                         c->tbs_len, c->sv.signature.p, c->sv.signature.len) != 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
		         "the poll is not signed by the pending key");
		ret = 0;
		goto out;
	}
	switch (p.state) {
	case GBA_PENDING_WAITING:
		status_add(c, GBA_CMC_PENDING, 0, -1, "waiting for approval");
		c->st[c->nst - 1].has_pend_info = 1;
		c->st[c->nst - 1].pend_token = c->query_pending;
		c->st[c->nst - 1].pend_time = gba_time_now() + (c->n->conf->pend_poll_s != 0
		                                                ? c->n->conf->pend_poll_s : 60);
		ret = 0;
		goto out;
	case GBA_PENDING_REJECTED:
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST, "rejected by the operator");
		ret = 0;
		goto out;
	case GBA_PENDING_ISSUED:
		ret = gba_store_cert_get(c->n->store, p.serial, p.serial_len, &rec);
		if (ret < 0)
			goto out;
		ret = out_cert(c, rec.der, rec.der_len, rec.der);
		rec.der = NULL;
		if (ret < 0)
			goto out;
		status_add(c, GBA_CMC_SUCCESS, 0, -1, NULL);
		c->nok++;
		goto out;
	default:
		break;
	}
	ca = naf_ca_find(c->n, u.ca);
	if (ca == NULL) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_INTERNAL_CA_ERROR, "issuer not configured");
		ret = 0;
		goto out;
	}
	u.tmpl.not_before = gba_time_now();
	u.tmpl.not_after = u.tmpl.not_before + u.validity_s;
	memset(&is, 0, sizeof(is));
	is.ca = ca;
	is.impi = p.impi;
	is.app_id = c->n->conf->fqdn;
	is.policy_sha256 = u.policy_sha256;
	is.spki = u.spki;
	is.spki_len = u.spki_len;
	is.tmpl = &u.tmpl;
	ret = naf_issue_cert(c->n, &is, &der, &dlen, &c->recs[0]);
	if (ret < 0)
		goto out;
	c->nrecs = 1;
	ret = out_cert(c, der, dlen, der);
	if (ret < 0)
		goto out;
	memcpy(c->pend_issued, p.token, sizeof(c->pend_issued));
	c->has_pend_issued = 1;
	status_add(c, GBA_CMC_SUCCESS, 0, -1, NULL);
	c->nok++;
out:
	gba_pending_clear(&p);
	gba_cert_record_clear(&rec);
	return ret;
}

/* getCert and confirmCertAcceptance: answered after the requests. */
static int do_queries(struct cmc *c)
{
	const struct gba_cmc_attr *a;
	struct gba_cmc_cert_id id;
	struct gba_der_error err;
	struct gba_cert_record rec;
	size_t i;
	int ret;

	for (i = 0; i < c->pd.ncontrols; i++) {
		a = &c->pd.controls[i];
		if (a->control != GBA_CMC_GET_CERT && a->control != GBA_CMC_CONFIRM_CERT_ACCEPTANCE)
			continue;
		if (gba_cmc_get_cert_id(c->cmsg, a->control, a->values[0], &id, &err) != 0)
			continue;   /* read_controls already refused it */
		memset(&rec, 0, sizeof(rec));
		ret = id.serial.len <= GBA_STORE_MAX_SERIAL
		      ? gba_store_cert_get(c->n->store, id.serial.p, id.serial.len, &rec)
		      : GBA_ENOTFOUND;
		if (ret == GBA_ENOTFOUND ||
		    (ret == 0 && (strcasecmp(rec.app_id, c->n->conf->fqdn) != 0 ||
		                  (c->mode != MODE_RENEW && strcmp(rec.impi, c->key.impi) != 0) ||
		                  (c->mode == MODE_RENEW &&
		                   strcmp(rec.impi, c->old_rec.impi) != 0)))) {
			gba_cert_record_clear(&rec);
			status_add(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_CERT_ID,
			           "no such certificate");
			continue;
		}
		if (ret < 0)
			return ret;
		if (a->control == GBA_CMC_GET_CERT) {
			ret = out_cert(c, rec.der, rec.der_len, rec.der);
			rec.der = NULL;
			if (ret < 0)
				return ret;
		} else if (rec.confirm_by != 0 && c->nconfirm < GBA_CMC_MAX_CONTROLS) {
			/* recorded with the request's nonce (respond below) */
			memcpy(c->confirm[c->nconfirm].serial, rec.serial, rec.serial_len);
			c->confirm[c->nconfirm].serial_len = rec.serial_len;
			c->nconfirm++;
		}
		gba_cert_record_clear(&rec);
		status_add(c, GBA_CMC_SUCCESS, a->body_part_id, -1, NULL);
	}
	return 0;
}

/* ---- revokeRequest and getCRL (issue 6, doc/revocation.md) ---- */

static void revocations_failed(struct cmc *c, int err);

/* Only revokeRequest / getCRL beside the bookkeeping controls: what a
 * GBA-authenticated request without keys or pendToken may carry. */
static int revocation_only(const struct cmc *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->pd.ncontrols; i++) {
		switch (c->pd.controls[i].control) {
		case GBA_CMC_REVOKE_REQUEST:
		case GBA_CMC_GET_CRL:
			n++;
			break;
		case GBA_CMC_GET_CERT:
		case GBA_CMC_CONFIRM_CERT_ACCEPTANCE:
			return 0;
		default:
			break;
		}
	}
	return n > 0;
}

/* The CA whose issuing certificate has this subject Name DER. */
static const struct naf_ca *ca_by_subject(const struct cmc *c, struct gba_blob name)
{
	struct gba_cert_info ci;
	const uint8_t *der;
	size_t i, len;
	int same;

	for (i = 0; i < c->n->conf->ncas; i++) {
		der = gba_signer_cert(c->n->conf->cas[i].issuer, &len);
		if (gba_x509_cert_info(der, len, &ci) < 0)
			continue;
		same = blob_eq(name, (struct gba_blob){ ci.subject_der, ci.subject_der_len });
		gba_cert_info_clear(&ci);
		if (same)
			return &c->n->conf->cas[i];
	}
	return NULL;
}

/* May this application's subscribers revoke their own certificates? */
static int self_revoke_allowed(const struct cmc *c)
{
	const struct gba_policy_set *set = gba_policy_store_acquire(c->n->conf->policies);
	const struct gba_policy *p = gba_policy_find(set, c->n->conf->fqdn);
	int ok = p != NULL && p->c.revocation.self_revoke;

	gba_policy_store_release(c->n->conf->policies, set);
	return ok;
}

static void revoke_deny(struct cmc *c, uint32_t id, int fail, const char *why,
                        const char *impi, struct gba_blob serial)
{
	(void)naf_audit(c->n, GBA_AUDIT_REVOKE, GBA_AUDIT_DENIED, why, c->req->peer, impi, c->btid,
	                NULL, NULL, serial.len <= GBA_STORE_MAX_SERIAL ? serial.p : NULL,
	                serial.len, NULL);
	status_add(c, GBA_CMC_FAILED, id, fail, why);
	c->nfail++;
}

/*
 * Who may revoke which certificate (doc/revocation.md):
 *  - an authorized RA (its certificate in the CA directory's ra.pem,
 *    id-kp-cmcRA, not revoked: ra_still_valid): any certificate of its
 *    CA;
 *  - the certificate itself (the SignedData signed with it);
 *  - the subscriber's GBA session: identification + identityProofV2
 *    (checked already) and passphrase = gba_revoke_passphrase under
 *    SHA-256(Ks_NAF || B-TID), for a certificate of the same IMPI and
 *    this application.
 * The last two need the policy's revocation.self_revoke.
 */
static int do_revocation(struct cmc *c, const struct gba_cmc_attr *a)
{
	struct gba_cmc_revoke rv;
	struct gba_der_error err;
	struct gba_cert_record rec;
	struct gba_revocation *r;
	const struct naf_ca *ca;
	uint8_t mac[GBA_REVOKE_MAC_LEN];
	int64_t now = gba_time_now();
	const char *impi = c->ra ? NULL : c->mode == MODE_RENEW ? c->old_rec.impi : c->key.impi;
	size_t i;
	int ret, ok;

	memset(&rec, 0, sizeof(rec));
	if (gba_cmc_get_revoke(c->cmsg, a->values[0], &rv, &err) != 0)
		return 0;   /* read_controls refused it already */
	if (!gba_store_revoke_reason_ok(rv.reason)) {
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_REQUEST,
		            "reason not allowed here (certificateHold is the operator's)", impi,
		            rv.serial);
		return 0;
	}
	for (i = 0; i < c->nrevs; i++) {
		if (blob_eq(rv.serial, (struct gba_blob){ c->revs[i].serial, c->revs[i].serial_len })) {
			revoke_deny(c, a->body_part_id, GBA_CMC_BAD_REQUEST,
			            "the same certificate twice in one request", impi, rv.serial);
			return 0;
		}
	}
	if (rv.has_invalidity_date && (rv.invalidity_date > now || rv.invalidity_date <= 0)) {
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_REQUEST,
		            rv.invalidity_date > now ? "invalidityDate in the future"
		                                     : "invalidityDate not after 1970",
		            impi, rv.serial);
		return 0;
	}
	ca = ca_by_subject(c, rv.issuer);
	ret = ca == NULL || rv.serial.len > GBA_STORE_MAX_SERIAL
	      ? GBA_ENOTFOUND
	      : gba_store_cert_get(c->n->store, rv.serial.p, rv.serial.len, &rec);
	if (ret == GBA_ENOTFOUND || ret == GBA_EINVAL ||
	    (ret == 0 && strcmp(rec.ca, ca->name) != 0)) {
		gba_cert_record_clear(&rec);
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_CERT_ID, "no such certificate", impi,
		            rv.serial);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (c->ra) {
		ok = ca == c->ra_ca;
	} else if (c->mode == MODE_RENEW) {
		/* signed by the certificate being revoked */
		ok = blob_eq(rv.serial, (struct gba_blob){ c->old.serial, c->old.serial_len });
	} else {
		ok = strcmp(rec.impi, c->key.impi) == 0 &&
		     strcasecmp(rec.app_id, c->n->conf->fqdn) == 0 && rv.passphrase.len == sizeof(mac);
		if (ok) {
			ret = gba_revoke_passphrase(c->proof_key, rv.issuer.p, rv.issuer.len, rv.serial.p,
			                            rv.serial.len, rv.reason,
			                            rv.has_invalidity_date ? rv.invalidity_date : 0,
			                            c->nonce.p, c->nonce.len, mac);
			ok = ret == 0 && gba_ct_equal(mac, rv.passphrase.p, sizeof(mac));
			gba_wipe(mac, sizeof(mac));
		}
	}
	if (!ok) {
		gba_cert_record_clear(&rec);
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_IDENTITY,
		            "not authorized to revoke this certificate", impi, rv.serial);
		return 0;
	}
	if (!c->ra && !self_revoke_allowed(c)) {
		gba_cert_record_clear(&rec);
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_REQUEST,
		            "the policy does not let subscribers revoke", impi, rv.serial);
		return 0;
	}
	if (rec.status == GBA_CERT_REVOKED) {
		gba_cert_record_clear(&rec);
		revoke_deny(c, a->body_part_id, GBA_CMC_BAD_REQUEST, "already revoked", impi,
		            rv.serial);
		return 0;
	}
	if (c->nrevs >= GBA_CMC_MAX_CONTROLS) {
		gba_cert_record_clear(&rec);
		return GBA_ETOOBIG;
	}
	r = &c->revs[c->nrevs];
	memset(r, 0, sizeof(*r));
	/* queued with the revocation, in its transaction (doc/ccm.md) */
	ret = naf_ccm_revoked(c->n, &rec, &c->rev_ccm[c->nrevs]);
	if (ret < 0) {
		gba_cert_record_clear(&rec);
		return ret;
	}
	if (ret > 0)
		r->ccm = &c->rev_ccm[c->nrevs].out;
	r->serial = rv.serial.p;              /* lives in c->cmsg */
	r->serial_len = rv.serial.len;
	r->op = GBA_STATUS_REVOKE;
	r->reason = rv.reason;
	r->at = now;
	r->invalidity_date = rv.has_invalidity_date ? rv.invalidity_date : 0;
	memcpy(c->rev_impi[c->nrevs], rec.impi, strlen(rec.impi) + 1);   /* for the audit */
	/* the store checks again, in the commit, that the certificate is
	 * the requester's (GBA key or signing certificate); an RA's is not */
	r->impi = impi;
	c->rev_st[c->nrevs] = c->nst;
	c->nrevs++;
	gba_cert_record_clear(&rec);
	status_add(c, GBA_CMC_SUCCESS, a->body_part_id, -1, NULL);
	c->nok++;
	return 0;
}

static int do_revocations(struct cmc *c)
{
	size_t i;
	int ret;

	for (i = 0; i < c->pd.ncontrols; i++) {
		if (c->pd.controls[i].control != GBA_CMC_REVOKE_REQUEST)
			continue;
		ret = do_revocation(c, &c->pd.controls[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The `ok` records go before the commit (fail closed): when one cannot be
 * written, nothing is revoked and the PKIData fails.  -1 then. */
static int revocations_audit(struct cmc *c)
{
	const char *impi;
	size_t i;

	for (i = 0; i < c->nrevs; i++) {
		impi = c->rev_impi[i];
		if (naf_audit(c->n, GBA_AUDIT_REVOKE, GBA_AUDIT_OK,
		              gba_crl_reason_name(c->revs[i].reason), c->req->peer, impi, c->btid,
		              NULL, NULL, c->revs[i].serial, c->revs[i].serial_len,
		              c->ra ? "by RA" : NULL) < 0) {
			c->nrev_audited = i;
			revocations_failed(c, GBA_EIO);
			c->nrevs = 0;
			c->nok = c->nfail = 0;
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_TRY_LATER, "the audit log is unavailable");
			return -1;
		}
	}
	c->nrev_audited = c->nrevs;
	return 0;
}

/* An `error` record for each audited revocation that did not commit. */
static void revocations_failed(struct cmc *c, int err)
{
	size_t i;

	for (i = 0; i < c->nrev_audited; i++)
		(void)naf_audit(c->n, GBA_AUDIT_REVOKE, GBA_AUDIT_ERROR, gba_errname(err),
		                c->req->peer, c->rev_impi[i], c->btid, NULL, NULL, c->revs[i].serial,
		                c->revs[i].serial_len, NULL);
	c->nrev_audited = 0;
}

/*
 * The commit failed with GBA_ESTATE: a certificate was revoked by someone
 * else (gba-ctl, another request) between do_revocation reading it and
 * the commit, which then rolled everything back.  Those revocations get
 * their own "already revoked" (with an `error` record after their `ok`)
 * and leave the transaction, so that the rest can be committed again.
 * Returns how many left, or a negative code.
 */
static int revocations_raced(struct cmc *c)
{
	struct gba_cert_record rec;
	struct gba_cmc_status_info *si;
	size_t i, j = 0;
	int ret = 0, n = 0;

	for (i = 0; i < c->nrevs; i++) {
		memset(&rec, 0, sizeof(rec));
		ret = gba_store_cert_get(c->n->store, c->revs[i].serial, c->revs[i].serial_len, &rec);
		if (ret < 0)
			break;
		if (rec.status == GBA_CERT_REVOKED) {
			(void)naf_audit(c->n, GBA_AUDIT_REVOKE, GBA_AUDIT_ERROR, "already revoked",
			                c->req->peer, c->rev_impi[i], c->btid, NULL, NULL,
			                c->revs[i].serial, c->revs[i].serial_len, NULL);
			si = &c->st[c->rev_st[i]];
			si->status = GBA_CMC_FAILED;
			si->has_fail_info = 1;
			si->fail_info = GBA_CMC_BAD_REQUEST;
			si->status_string = "already revoked";
			c->nok--;
			c->nfail++;
			n++;
		} else {
			if (j != i) {
				c->revs[j] = c->revs[i];
				memcpy(c->rev_impi[j], c->rev_impi[i], sizeof(c->rev_impi[j]));
				c->rev_st[j] = c->rev_st[i];
			}
			j++;
		}
		gba_cert_record_clear(&rec);
	}
	if (ret < 0) {   /* keep the rest as they were */
		for (; i < c->nrevs; i++, j++) {
			c->revs[j] = c->revs[i];
			memcpy(c->rev_impi[j], c->rev_impi[i], sizeof(c->rev_impi[j]));
			c->rev_st[j] = c->rev_st[i];
		}
	}
	c->nrevs = j;
	c->nrev_audited = j;
	return ret < 0 ? ret : n;
}

/* Room left for one more CRL in the response (RESP_RESERVE). */
static size_t crl_room(const struct cmc *c)
{
	size_t used = RESP_RESERVE + c->data_return.len, i;

	for (i = 0; i < c->nout; i++)
		used += c->out_certs[i].len;
	for (i = 0; i < c->ncrls; i++)
		used += c->crls[i].len;
	return used < GBA_HTTP_MAX_RESP_BODY ? GBA_HTTP_MAX_RESP_BODY - used : 0;
}

static void getcrl_ok(struct cmc *c, uint32_t id)
{
	if (c->ncrl_st < GBA_CMC_MAX_CONTROLS && c->nst < MAX_STATUS)
		c->crl_st[c->ncrl_st++] = c->nst;
	status_add(c, GBA_CMC_SUCCESS, id, -1, NULL);
	c->nok++;
}

/*
 * getCRL: the issuer's current CRL goes into the response's crls, once
 * per CA however often it is asked for.  A CRL that would take the
 * response over the HTTP layer's cap fails only its own control: the
 * request's revocations have committed by now and must be answered.
 */
static int do_getcrl(struct cmc *c)
{
	const struct gba_cmc_attr *a;
	struct gba_cmc_get_crl gc;
	struct gba_der_error err;
	const struct naf_ca *ca;
	size_t i, j;
	int ret;

	for (i = 0; i < c->pd.ncontrols; i++) {
		a = &c->pd.controls[i];
		if (a->control != GBA_CMC_GET_CRL ||
		    gba_cmc_get_getcrl(c->cmsg, a->values[0], &gc, &err) != 0)
			continue;
		ca = ca_by_subject(c, gc.issuer);
		if (ca == NULL || gc.has_crl_name || gc.has_time || gc.has_reasons) {
			status_add(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
			           ca == NULL ? "no CRL for that issuer"
			                      : "only the current full CRL is available");
			c->nfail++;
			continue;
		}
		for (j = 0; j < c->ncrls && c->crl_ca[j] != ca; j++)
			;
		if (j < c->ncrls) {   /* carried already */
			getcrl_ok(c, a->body_part_id);
			continue;
		}
		if (c->ncrls >= NAF_MAX_CAS)
			return GBA_ETOOBIG;
		ret = naf_crl_copy(c->n, ca, crl_room(c), &c->crl_owned[c->ncrls],
		                   &c->crls[c->ncrls].len);
		if (ret == GBA_ETOOBIG) {
			gba_log_notice(MOD, "getCRL: the CRL of %s does not fit in a response",
			               ca->name);
			status_add(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_BAD_REQUEST,
			           CRL_TOO_BIG);
			c->nfail++;
			continue;
		}
		if (ret < 0) {
			gba_log_err(MOD, "getCRL: %s", gba_strerror(ret));
			status_add(c, GBA_CMC_FAILED, a->body_part_id, GBA_CMC_TRY_LATER,
			           "the CRL is not available");
			c->nfail++;
			continue;
		}
		c->crls[c->ncrls].p = c->crl_owned[c->ncrls];
		c->crl_ca[c->ncrls] = ca;
		c->ncrls++;
		getcrl_ok(c, a->body_part_id);
	}
	return 0;
}

/* The response could not be made with the CRLs in it: fail the getCRL
 * controls that carried one instead (the safety net behind crl_room). */
static void crls_drop(struct cmc *c)
{
	struct gba_cmc_status_info *si;
	size_t i;

	for (i = 0; i < c->ncrl_st; i++) {
		si = &c->st[c->crl_st[i]];
		si->status = GBA_CMC_FAILED;
		si->has_fail_info = 1;
		si->fail_info = GBA_CMC_BAD_REQUEST;
		si->status_string = CRL_TOO_BIG;
		c->nok--;
		c->nfail++;
	}
	c->ncrl_st = 0;
	for (i = 0; i < c->ncrls; i++) {
		gba_free(c->crl_owned[i]);
		c->crl_owned[i] = NULL;
	}
	c->ncrls = 0;
}

/* ---- the response ---- */

static int respond(struct cmc *c, struct gba_http_response *resp)
{
	struct gba_cmc_response r;
	struct gba_cms_sign_req sr;
	uint8_t our_nonce[16], *pkir = NULL, *out = NULL;
	size_t plen = 0, olen = 0;
	const struct naf_ca *ca = c->ca != NULL ? c->ca : &c->n->conf->cas[0];
	const uint8_t *cert;
	int ret, err = 0;

	if (c->nok > 0 && c->nfail > 0)
		status_add(c, GBA_CMC_PARTIAL, 0, -1, "some requests failed");
	ret = gba_rnd(GBA_RND_NONCE, our_nonce, sizeof(our_nonce));
	if (ret < 0)
		return ret;
	memset(&r, 0, sizeof(r));
	r.statuses = c->st;
	r.nstatuses = c->nst;
	r.transaction_id = c->txid;
	r.sender_nonce.p = our_nonce;
	r.sender_nonce.len = sizeof(our_nonce);
	r.recipient_nonce = c->nonce;
	r.data_return = c->data_return;
	ret = gba_cmc_response_encode(&r, &pkir, &plen);
	if (ret < 0)
		return ret;
	/* the issuing CA certificate, so that the UE can reach the root
	 * from the CMC signer and from issued certificates */
	cert = gba_signer_cert(ca->issuer, &olen);
	ret = out_cert(c, cert, olen, NULL);
	if (ret < 0) {
		gba_free(pkir);
		return ret;
	}
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = gba_oid_cct_pkiresponse;
	sr.econtent.p = pkir;
	sr.econtent.len = plen;
	sr.signer_cert.p = gba_signer_cert(ca->cmc, &sr.signer_cert.len);
	sr.certs = c->out_certs;
	sr.ncerts = c->nout;
	sr.crls = c->crls;
	sr.ncrls = c->ncrls;
	sr.sig_alg.p = gba_signer_sig_oid(ca->cmc, &sr.sig_alg.len);
	sr.hash = gba_key_cms_hash(gba_signer_key(ca->cmc));
	sr.signing_time = gba_time_now();
	sr.sign = gba_signer_sign;
	sr.sign_ctx = ca->cmc;
	olen = 0;
	ret = gba_cms_sign(&sr, &out, &olen);
	gba_free(pkir);
	if (ret < 0)
		return ret;
	/* the body first: when it is refused (over the cap), nothing is set */
	err = gba_http_response_body(resp, out, olen);
	gba_free(out);
	if (!err)
		naf_header(resp, "Content-Type", "application/pkcs7-mime; smime-type=CMC-response",
		           &err);
	if (err)
		return err;
	return gba_http_response_status(resp, 200);
}

int naf_cmc_fail_response(struct naf *n, struct gba_http_response *resp, int fail,
                          const char *text)
{
	struct cmc *c;
	int ret;

	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	c->n = n;
	status_add(c, GBA_CMC_FAILED, 0, fail, text);
	ret = respond(c, resp);
	gba_free(c);
	return ret;
}

/* ---- the handler ---- */

enum body_kind { BODY_FULL, BODY_SIMPLE, BODY_SNIFF, BODY_OTHER };

static enum body_kind media_type(const struct gba_http_request *req)
{
	static const char key[] = "smime-type=";
	const size_t k = sizeof(key) - 1;
	struct gba_str v, pr, t;
	size_t i;

	if (!naf_media_type(req, &v, &pr))
		return BODY_SNIFF;
	if (gba_str_caseeq(v, GBA_STR_LIT("application/pkcs10")))
		return BODY_SIMPLE;
	if (!gba_str_caseeq(v, GBA_STR_LIT("application/pkcs7-mime")))
		return BODY_OTHER;
	/* smime-type, when present, must be CMC-request (any case) */
	for (i = 0; i + k <= pr.len; i++) {
		if (strncasecmp(pr.p + i, key, k) != 0)
			continue;
		t.p = pr.p + i + k;
		t.len = 0;
		while (i + k + t.len < pr.len && t.p[t.len] != ';' && t.p[t.len] != ' ')
			t.len++;
		if (t.len > 1 && t.p[0] == '"' && t.p[t.len - 1] == '"') {
			t.p++;
			t.len -= 2;
		}
		return gba_str_caseeq(t, GBA_STR_LIT("CMC-request")) ? BODY_FULL : BODY_OTHER;
	}
	return BODY_FULL;
}

void naf_cmc_handle(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp)
{
	struct cmc *c = NULL;
	struct gba_der_error derr;
	struct gba_cmc_txn txn;
	enum body_kind kind;
	size_t i, nst, nout;
	int ret, err = 0, status = 500;

	if (!gba_str_eq(req->method, GBA_STR_LIT("POST"))) {
		naf_header(resp, "Allow", "POST", &err);
		(void)gba_http_response_status(resp, 405);
		return;
	}
	if (req->body_len > NAF_MAX_BODY) {
		(void)gba_http_response_status(resp, 413);
		return;
	}
	kind = media_type(req);
	if (kind == BODY_OTHER) {
		(void)gba_http_response_status(resp, 415);
		return;
	}
	if (kind == BODY_SNIFF && req->body_len > 0 && gba_asn1_check(GBA_PDU_CSR, req->body,
	                                                               req->body_len, &derr) == 0)
		kind = BODY_SIMPLE;
	if (kind == BODY_SIMPLE) {
		naf_cmc_simple(n, req, resp);
		return;
	}
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	c->n = n;
	c->req = req;
	ret = gba_cms_parse(req->body, req->body_len, &c->view, &c->cms, &derr);
	if (ret < 0) {
		status = 400;   /* too malformed to answer in CMC */
		goto refused;
	}
	if (!oid_eq(c->view.econtent_type, &gba_oid_cct_pkidata) || c->view.econtent.len == 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST, "eContentType is not PKIData");
		goto refused;
	}
	ret = gba_cmc_pkidata_parse(c->view.econtent.p, c->view.econtent.len, &c->pd, &c->cmsg,
	                            &derr);
	if (ret < 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST,
		         ret == GBA_ENOTDER ? "PKIData is not DER" : "PKIData is malformed");
		goto refused;
	}
	if (read_controls(c) < 0)
		goto refused;
	if (check_signer(c) < 0)
		goto refused;
	if (c->mode == MODE_NEW || c->mode == MODE_POLL) {
		if (check_identity(c) < 0)
			goto refused;
	}
	if (c->ra && c->pd.nreqs != 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST,
		         "an RA signature may revoke, not enrol");
		goto refused;
	}
	if (c->mode == MODE_POLL) {
		if (c->pd.nreqs != 0 || (c->query_pending.len == 0 && !revocation_only(c))) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
			         "the signer's key identifier matches no request");
			goto refused;
		}
		ret = c->query_pending.len > 0 ? do_poll(c) : 0;
	} else if (c->mode == MODE_NEW) {
		/* the signature over the SignedData is the new key's */
		if (gba_x509_verify_spki(c->signer_spki, c->signer_spki_len, c->sv.sig_alg.p,
		                         c->sv.sig_alg.len, c->tbs, c->tbs_len, c->sv.signature.p,
		                         c->sv.signature.len) != 0) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
			         "the SignedData signature does not verify");
			goto refused;
		}
		ret = 0;
	} else {
		ret = 0;
	}
	if (c->mode != MODE_POLL) {
		for (i = 0; i < c->pd.nreqs && ret == 0; i++)
			ret = do_request(c, &c->pd.reqs[i]);
	}
	if (ret == 0)
		ret = do_queries(c);
	if (ret == 0)
		ret = do_revocations(c);
	if (ret < 0) {
		gba_log_err(MOD, "request failed: %s", gba_strerror(ret));
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_INTERNAL_CA_ERROR, "internal error");
		c->nrevs = 0;
	}
	if (revocations_audit(c) < 0)
		goto answer;

	/* Record everything at once, the nonce first: a replay changes nothing. */
	memset(&txn, 0, sizeof(txn));
	txn.nonce = c->nonce.p;
	txn.nonce_len = c->nonce.len;
	txn.nonce_expires = gba_time_now() + (n->conf->nonce_lifetime_s != 0
	                                      ? n->conf->nonce_lifetime_s : 30 * 86400);
	txn.certs = c->recs;
	txn.ncerts = c->nrecs;
	txn.pend_new = c->has_pend ? &c->pend : NULL;
	txn.npend_new = c->has_pend ? 1 : 0;
	txn.pend_issued = c->has_pend_issued ? c->pend_issued : NULL;
	ret = naf_ccm_issued(n, c->recs, c->nrecs, &c->ccm);
	if (ret < 0) {
		/* no certificate goes out without its CCM */
		gba_log_err(MOD, "install CCM: %s", gba_strerror(ret));
		c->nok = c->nfail = 0;
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_INTERNAL_CA_ERROR, "internal error");
		naf_ccm_batch_clear(&c->ccm);
		txn.certs = NULL;
		txn.ncerts = 0;
		txn.pend_new = NULL;
		txn.npend_new = 0;
		txn.pend_issued = NULL;
		c->nrevs = 0;
	}
	txn.ccms = c->ccm.out;
	txn.nccms = c->ccm.n;
	txn.confirm = c->confirm;
	txn.nconfirm = c->nconfirm;
	txn.revocations = c->revs;
	txn.nrevocations = c->nrevs;
	ret = naf_commit(n, &txn);
	for (i = 0; ret == GBA_ESTATE && i < 2 && revocations_raced(c) > 0; i++) {
		txn.nrevocations = c->nrevs;
		ret = naf_commit(n, &txn);
	}
	if (ret < 0)
		revocations_failed(c, ret);
	if (ret == GBA_EREPLAY) {
		gba_log_notice(MOD, "replayed senderNonce from %s", req->peer);
		c->nok = c->nfail = 0;
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST, "replayed senderNonce");
		(void)naf_audit(n, GBA_AUDIT_DENY, GBA_AUDIT_DENIED, "replay", req->peer, NULL,
		                c->btid, NULL, NULL, NULL, 0, NULL);
	} else if (ret < 0) {
		gba_log_err(MOD, "store: %s", gba_strerror(ret));
		c->nok = c->nfail = 0;
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_TRY_LATER, "the store is unavailable");
	} else {
		naf_ccm_queued(n, &c->ccm, req->peer);
		for (i = 0; i < c->nrevs; i++)
			if (c->revs[i].ccm != NULL)
				naf_ccm_one_queued(n, c->revs[i].ccm, req->peer);
		for (i = 0; i < c->nrecs; i++) {
			struct gba_cert_info ci;
			char subj[GBA_X509_MAX_DN + 1] = "";

			memset(&ci, 0, sizeof(ci));
			if (gba_x509_cert_info(c->recs[i].der, c->recs[i].der_len, &ci) == 0)
				memcpy(subj, ci.subject, sizeof(subj));
			gba_cert_info_clear(&ci);
			if (naf_audit(n, GBA_AUDIT_ISSUE, GBA_AUDIT_OK,
			              c->mode == MODE_RENEW ? "cmc-renew" : "cmc", req->peer,
			              c->recs[i].impi, c->btid, NULL, c->recs[i].policy_sha256,
			              c->recs[i].serial, c->recs[i].serial_len, subj) < 0) {
				/* recorded but not handed out: fail closed */
				status = 503;
				goto out;
			}
		}
		/* after the commit, so the CRL shows this request's revocations */
		ret = do_getcrl(c);
		if (ret < 0)
			gba_log_err(MOD, "getCRL: %s", gba_strerror(ret));
	}
	goto answer;
refused:
	/* refused as a whole, before any request was looked at (or, with
	 * no ContentInfo at all, not even answered in CMC) */
	audit_deny(c, c->nst > 0 && c->st[0].status_string != NULL ? c->st[0].status_string
	                                                           : "malformed CMC request",
	           NULL);
	if (status == 400)
		goto out;
answer:
	nst = c->nst;
	nout = c->nout;
	ret = respond(c, resp);
	if (ret < 0 && c->ncrls > 0) {
		/* whatever committed must be answered: again, without CRLs */
		gba_log_err(MOD, "response with CRLs: %s; answering without", gba_strerror(ret));
		c->nst = nst;
		c->nout = nout;
		crls_drop(c);
		ret = respond(c, resp);
	}
	if (ret < 0) {
		gba_log_err(MOD, "response: %s", gba_strerror(ret));
		goto out;
	}
	status = 0;
out:
	if (c != NULL) {
		for (i = 0; i < c->nowned; i++)
			gba_free(c->owned[i]);
		for (i = 0; i < c->ncrls; i++)
			gba_free(c->crl_owned[i]);
		for (i = 0; i < c->nrecs; i++) {
			c->recs[i].der = NULL;
			gba_cert_record_clear(&c->recs[i]);
		}
		if (c->has_pend)
			gba_pending_clear(&c->pend);
		naf_ccm_batch_clear(&c->ccm);
		for (i = 0; i < GBA_CMC_MAX_CONTROLS; i++)
			naf_ccm_one_clear(&c->rev_ccm[i]);
		gba_free(c->tbs);
		gba_cmc_msg_free(c->cmsg);
		gba_cms_msg_free(c->cms);
		naf_key_clear(&c->key);
		gba_cert_info_clear(&c->old);
		gba_cert_record_clear(&c->old_rec);
		gba_wipe(c->proof_key, sizeof(c->proof_key));
		gba_wipe(c, sizeof(*c));
		gba_free(c);
	}
	if (status != 0)
		(void)gba_http_response_status(resp, status);
}
