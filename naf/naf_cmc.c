/*
 * naf_cmc.c - the CMC server (RFC 5272 Full PKI Requests over RFC 5273
 * HTTP): first enrolment authenticated by the GBA key (identification =
 * B-TID, identityProofV2 keyed with SHA-256(Ks_NAF || B-TID), POP
 * linking), renewal and rekey signed with an issued certificate,
 * pending requests and polling, getCert, confirmCertAcceptance.
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
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-cmc"
#define MAX_STATUS (GBA_CMC_MAX_REQUESTS + GBA_CMC_MAX_CONTROLS + 1u)
#define MAX_OUT_CERTS (GBA_CMC_MAX_REQUESTS + GBA_CMC_MAX_CONTROLS + 3u)

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
	size_t nok, nfail;
	struct naf_ccm_batch ccm;              /* install CCMs, queued with the certificates */
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
	c->has_pend = 0;
	c->has_pend_issued = 0;
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

/* One request: POP, link, policy, then issue or queue. */
static int do_request(struct cmc *c, const struct gba_cmc_request *r)
{
	struct gba_policy_decision dec;
	struct naf_enrol_req er;
	struct naf_issue is;
	struct gba_cert_info ci;
	const struct naf_ca *ca;
	const char *why = NULL;
	uint8_t *der = NULL;
	size_t dlen = 0;
	int fail = GBA_CMC_BAD_REQUEST, ret;

	memset(&ci, 0, sizeof(ci));
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
	if (ret == 0)
		ret = gba_x509_cert_info(der, dlen, &ci);
	if (ret < 0) {
		gba_free(der);
		return ret;
	}
	/* a request naming another subject is refused unless rewritten */
	if (!dec.rewrite_names && c->mode != MODE_RENEW && r->subject.len > 2 &&
	    (r->subject.len != ci.subject_der_len ||
	     memcmp(r->subject.p, ci.subject_der, ci.subject_der_len) != 0)) {
		gba_cert_info_clear(&ci);
		c->recs[c->nrecs].der = NULL;
		gba_cert_record_clear(&c->recs[c->nrecs]);
		gba_free(der);
		why = "the request names a subject the policy does not give";
		audit_deny(c, why, &dec);
		status_add(c, GBA_CMC_FAILED, r->body_part_id, GBA_CMC_BAD_REQUEST, why);
		c->nfail++;
		return 0;
	}
	gba_cert_info_clear(&ci);
	c->recs[c->nrecs].der = der;    /* borrowed: the out list owns der */
	c->nrecs++;
	ret = out_cert(c, der, dlen, der);
	if (ret < 0)
		return ret;
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
		}
		gba_cert_record_clear(&rec);
		status_add(c, GBA_CMC_SUCCESS, a->body_part_id, -1, NULL);
	}
	return 0;
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
	naf_header(resp, "Content-Type", "application/pkcs7-mime; smime-type=CMC-response", &err);
	if (!err)
		err = gba_http_response_body(resp, out, olen);
	gba_free(out);
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
	size_t i;
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
		goto out;
	}
	if (!oid_eq(c->view.econtent_type, &gba_oid_cct_pkidata) || c->view.econtent.len == 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST, "eContentType is not PKIData");
		goto answer;
	}
	ret = gba_cmc_pkidata_parse(c->view.econtent.p, c->view.econtent.len, &c->pd, &c->cmsg,
	                            &derr);
	if (ret < 0) {
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_REQUEST,
		         ret == GBA_ENOTDER ? "PKIData is not DER" : "PKIData is malformed");
		goto answer;
	}
	if (read_controls(c) < 0)
		goto answer;
	if (check_signer(c) < 0)
		goto answer;
	if (c->mode == MODE_NEW || c->mode == MODE_POLL) {
		if (check_identity(c) < 0)
			goto answer;
	}
	if (c->mode == MODE_POLL) {
		if (c->query_pending.len == 0 || c->pd.nreqs != 0) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
			         "the signer's key identifier matches no request");
			goto answer;
		}
		ret = do_poll(c);
	} else if (c->mode == MODE_NEW) {
		/* the signature over the SignedData is the new key's */
		if (gba_x509_verify_spki(c->signer_spki, c->signer_spki_len, c->sv.sig_alg.p,
		                         c->sv.sig_alg.len, c->tbs, c->tbs_len, c->sv.signature.p,
		                         c->sv.signature.len) != 0) {
			fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_BAD_MESSAGE_CHECK,
			         "the SignedData signature does not verify");
			goto answer;
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
	if (ret < 0) {
		gba_log_err(MOD, "request failed: %s", gba_strerror(ret));
		fail_all(c, GBA_CMC_FAILED, 0, GBA_CMC_INTERNAL_CA_ERROR, "internal error");
	}

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
	}
	txn.ccms = c->ccm.out;
	txn.nccms = c->ccm.n;
	ret = naf_commit(n, &txn);
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
	}
answer:
	ret = respond(c, resp);
	if (ret < 0) {
		gba_log_err(MOD, "response: %s", gba_strerror(ret));
		goto out;
	}
	status = 0;
out:
	if (c != NULL) {
		for (i = 0; i < c->nowned; i++)
			gba_free(c->owned[i]);
		for (i = 0; i < c->nrecs; i++) {
			c->recs[i].der = NULL;
			gba_cert_record_clear(&c->recs[i]);
		}
		if (c->has_pend)
			gba_pending_clear(&c->pend);
		naf_ccm_batch_clear(&c->ccm);
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
