/* naf_int.h - what the NAF's modules share; not an API. */
#ifndef NAF_INT_H
#define NAF_INT_H

#include <stdbool.h>

#include "gba_audit.h"
#include "gba_policy.h"
#include "gba_store.h"
#include "gba_x509.h"
#include "gba_cmc.h"
#include "naf.h"

#define NAF_CACHE_SLOTS 256u          /* Ks_NAF cache entries per worker */

struct naf_cache_entry {
	char btid[GBA_MAX_BTID_LEN + 1];  /* "" when free */
	struct naf_key key;
	uint64_t used;                    /* LRU stamp */
};

struct naf_ccm_w;

struct naf {
	const struct naf_conf *conf;
	struct gba_store *store;
	const struct naf_keysrc *keysrc;
	uint8_t naf_id[GBA_MAX_FQDN_LEN + GBA_UA_ID_LEN];
	size_t naf_id_len;
	char ua_hex[2 * GBA_UA_ID_LEN + 1];
	struct naf_cache_entry *cache;    /* NAF_CACHE_SLOTS */
	uint64_t tick;
	/* default AIA / CRL DP URLs (conf->public_url), per CA; "" for none */
	char ocsp_url[NAF_MAX_URL + 16];
	char crl_url[NAF_MAX_CAS][NAF_MAX_URL + 3 * GBA_STORE_MAX_CA + 16];
	struct naf_ccm_w *ccm;            /* this worker's subscriptions (naf_ccm.c) */
};

/* Ks_NAF for btid through the cache (copy in *out; naf_key_clear it).
 * GBA_ENOTFOUND for an unknown or expired B-TID. */
int naf_key_get(struct naf *n, const char *btid, struct naf_key *out);

/* One request to issue, after every check passed.  Borrowed. */
struct naf_issue {
	const struct naf_ca *ca;
	const char *impi;
	const char *app_id;
	const uint8_t *policy_sha256;
	const uint8_t *spki;
	size_t spki_len;
	const struct gba_policy_template *tmpl;
};

/* The CA named name, or NULL. */
const struct naf_ca *naf_ca_find(const struct naf *n, const char *name);

/* Issue a certificate (not yet recorded).  *der is a new buffer and
 * rec is filled for the store (rec->der points to *der). */
int naf_issue_cert(struct naf *n, const struct naf_issue *is, uint8_t **der, size_t *len,
                   struct gba_cert_record *rec);

/* Commit t durably: through the group committer, or on the worker's
 * handle when there is none. */
int naf_commit(struct naf *n, const struct gba_cmc_txn *t);

/* Pending-request blob: what it takes to issue once approved. */
int naf_pending_pack(const struct naf_issue *is, uint8_t **blob, size_t *len);
/* Unpack into tmpl/spki/policy/ca name; the spki and names point into blob. */
struct naf_unpacked {
	char ca[GBA_STORE_MAX_CA + 1];
	uint8_t policy_sha256[32];
	const uint8_t *spki;
	size_t spki_len;
	int64_t validity_s;
	struct gba_policy_template tmpl;
};
int naf_pending_unpack(const uint8_t *blob, size_t len, struct naf_unpacked *u);

/* Map a policy template into an X.509 template (strings borrowed from
 * tmpl; san/eku arrays filled in the caller's arrays). */
void naf_x509_template(const struct gba_policy_template *tmpl, const char **san,
                       const char **eku, struct gba_x509_template *t);

/* Key type names match: gba_key_type -> policy key type. */
int naf_policy_key_type(enum gba_key_type t, enum gba_policy_key_type *out);

/* Audit one decision (errors are logged; returns the audit result). */
int naf_audit(const struct naf *n, enum gba_audit_type type, enum gba_audit_outcome o,
              const char *reason, const char *peer, const char *impi, const char *btid,
              const char *policy, const uint8_t *policy_sha256, const uint8_t *serial,
              size_t serial_len, const char *subject);

/* The request's media type without parameters (*type) and the rest of
 * the Content-Type from the first ';' (*params), both borrowed.  0 when
 * there is no Content-Type, 1 otherwise. */
int naf_media_type(const struct gba_http_request *req, struct gba_str *type,
                   struct gba_str *params);

/* Set a header; *err keeps the first failure. */
void naf_header(struct gba_http_response *resp, const char *name, const char *value, int *err);

/* Fill the policy context's USS array from a key's uss_json. */
struct naf_uss_buf;
int naf_policy_uss(const char *uss_json, struct gba_policy_uss *uss, size_t max, size_t *n,
                   struct naf_uss_buf **buf);
void naf_uss_buf_free(struct naf_uss_buf *buf);

/* ---- deciding one request (naf.c) ---- */

struct naf_enrol_req {
	const char *impi;
	const char *btid;                 /* "" for renewals */
	const char *uss_json;             /* may be NULL */
	enum gba_policy_method method;
	const uint8_t *spki;
	size_t spki_len;
	bool renewal;                     /* signed with an issued certificate */
	const struct gba_cert_info *old;  /* renewal: the certificate renewed */
	const uint8_t *old_der;           /* and its DER */
	size_t old_der_len;
};

/*
 * Policy decision for one request: key type from the SPKI, active and
 * recent certificate counts from the store, then gba_policy_evaluate.
 * For a renewal the subject and SANs of the old certificate are carried
 * over into dec->tmpl (SANs are re-read from the policy: the old
 * certificate's are not parsed here) and the window and same-key rules
 * are applied.  Returns 0 (dec filled: allowed, pending or denied; *why
 * is a short static reason for a denial, *fail the CMC failInfo) or a
 * negative code for our own failures.
 */
int naf_decide(struct naf *n, const struct naf_enrol_req *r, struct gba_policy_decision *dec,
               const char **why, int *fail);

/* Audit a CCM event (ccm: "id:<hex>" or "<seq>:<hex>"; serial optional). */
int naf_audit_ccm(const struct naf *n, enum gba_audit_type type, enum gba_audit_outcome o,
                  const char *reason, const char *peer, const char *impi,
                  const uint8_t *serial, size_t serial_len, const char *ccm);

/* ---- CCM (naf_ccm.c) ---- */

#define NAF_CCM_BATCH_MAX 16u         /* messages queued or sent at once */

/* Messages for one IMPI, ready for gba_store_ccm_queue or a
 * gba_cmc_txn (out[]); they own their bodies. */
struct naf_ccm_batch {
	struct gba_ccm_out out[NAF_CCM_BATCH_MAX];
	uint8_t *body[NAF_CCM_BATCH_MAX];
	uint8_t ref[NAF_CCM_BATCH_MAX][GBA_STORE_MAX_REF];
	char impi[GBA_MAX_IMPI_LEN + 1];
	size_t n;
};
void naf_ccm_batch_clear(struct naf_ccm_batch *b);
/* Add an install for each issued certificate when the policy's
 * ccm.on_issue has new-certificate (else nothing). */
int naf_ccm_issued(struct naf *n, const struct gba_cert_record *recs, size_t nrecs,
                   struct naf_ccm_batch *b);
/* One `revoked` message, for a revocation of a CMC request (those may
 * concern several IMPIs: each has its own).  out points into the
 * struct itself: do not move it once made. */
struct naf_ccm_one {
	struct gba_ccm_out out;
	uint8_t *body;                    /* owned; NULL: none made */
	char impi[GBA_MAX_IMPI_LEN + 1];
	char app_id[GBA_STORE_MAX_APP + 1];
	uint8_t ref[GBA_STORE_MAX_SERIAL];
};
/* Make it when the policy of rec's application has ccm.on_revoke
 * [revoked]: 1 made, 0 not wanted, or a negative code. */
int naf_ccm_revoked(struct naf *n, const struct gba_cert_record *rec, struct naf_ccm_one *o);
/* After its revocation committed: audit ccm_queued (o: a made
 * naf_ccm_one's out) and wake. */
void naf_ccm_one_queued(struct naf *n, const struct gba_ccm_out *o, const char *peer);
void naf_ccm_one_clear(struct naf_ccm_one *o);
/* After the batch committed: audit ccm_queued and wake the workers. */
void naf_ccm_queued(struct naf *n, const struct naf_ccm_batch *b, const char *peer);
/* The signed DER of a stored message (new buffer). */
int naf_ccm_seal_row(struct naf *n, const struct gba_ccm_row *r, uint8_t **der, size_t *len);
/* The endpoints: 1 when path is /ccm... (resp answered), else 0. */
int naf_ccm_handle(struct naf *n, const struct gba_http_request *req,
                   struct gba_http_response *resp);
void naf_ccm_worker_free(struct naf *n);

/* Handlers. */
void naf_cmc_handle(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp);
void naf_cmc_simple(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp);
/* A Full PKI Response with one failed status for body part 0. */
int naf_cmc_fail_response(struct naf *n, struct gba_http_response *resp, int fail,
                          const char *text);
void naf_portal_enrol(struct naf *n, const struct gba_http_request *req,
                      struct gba_http_response *resp);
void naf_portal_cacert(struct naf *n, const struct gba_http_request *req,
                       struct gba_http_response *resp);
/* GET /crl/<ca>.crl and POST /ocsp, GET /ocsp/<b64> (naf_status.c). */
void naf_crl_handle(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp);
void naf_ocsp_handle(struct naf *n, const struct gba_http_request *req,
                     struct gba_http_response *resp);
/* 1 when der is one of ca's authorized RA certificates (naf.c). */
int naf_ca_ra_is(const struct naf_ca *ca, const uint8_t *der, size_t len);
/* A copy of ca's current CRL (*der: gba_free), through the status cache
 * when there is one (naf_status.c).  GBA_ETOOBIG, nothing copied, when
 * the CRL is longer than max octets. */
int naf_crl_copy(struct naf *n, const struct naf_ca *ca, size_t max, uint8_t **der,
                 size_t *len);
/* A freshly signed OCSP response (SHA-1 CertID, no nonce) for the
 * stored certificate r as it is now (*der: gba_free); GBA_ENOTFOUND
 * when this NAF has no status service or does not know r's CA. */
int naf_ocsp_for(struct naf *n, const struct gba_cert_record *r, uint8_t **der, size_t *len);
/* Percent-encode a CA name for a URL path segment into out (cap
 * bytes, NUL-terminated); GBA_ETOOBIG when it does not fit. */
int naf_url_escape(const char *in, char *out, size_t cap);

/* ---- Ua GBA Digest (naf_ua.c) ---- */

struct naf_ua_auth {
	char btid[GBA_MAX_BTID_LEN + 1];
	struct naf_key key;               /* wiped by naf_ua_auth_clear */
	/* for Authentication-Info */
	char cnonce[128];
	char nc[16];
	char nonce[128];
	char uri[1024];
};
void naf_ua_auth_clear(struct naf_ua_auth *a);

/*
 * Check the request's GBA Digest credentials (qop auth-int, realm
 * 3GPP-bootstrapping@fqdn, username B-TID, password base64(Ks_NAF)).
 * Returns 0 with *a filled, or an HTTP status with resp already set
 * (401 with a fresh challenge when the credentials are absent, stale,
 * wrong or for an unknown or expired B-TID; 400 when malformed).
 */
int naf_ua_check(struct naf *n, const struct gba_http_request *req,
                 struct gba_http_response *resp, struct naf_ua_auth *a);

/* Add Authentication-Info (rspauth over body with auth-int) for a. */
int naf_ua_info(struct naf *n, const struct naf_ua_auth *a, const uint8_t *body, size_t len,
                struct gba_http_response *resp);

#endif
