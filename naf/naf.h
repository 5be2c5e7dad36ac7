/*
 * naf.h - the provisioning NAF: Ua authentication, the CA, CMC
 * (RFC 5272/5273/6402) and the TS 33.221 PKI portal, as one handler on
 * the gba_http request/response types.
 *
 * Routes (naf_handle):
 *   POST /cmc                 CMC: Full PKI Request (application/pkcs7-mime;
 *                             smime-type=CMC-request), Simple PKI Request
 *                             (application/pkcs10, under GBA Digest), or
 *                             no content type (sniffed)
 *   POST /enrol?response=single|chain   TS 33.221 portal (GBA Digest)
 *   GET  /getcertificate?in=<base64 issuer Name>  the CA certificate
 *   GET  /crl/<ca>.crl        the CA's full CRL (DER, application/pkix-crl)
 *   POST /ocsp, GET /ocsp/<base64 request>   OCSP (RFC 6960, RFC 5019)
 *                             (the last two only with a struct naf_status)
 *   GET  /ccm[?max=N][&wait=0]  CCM subscription (doc/ccm.md): pushes,
 *                             or length-prefixed frames in the body
 *   GET  /ccm/<id>            one CCM (32 hex digits)
 *   POST /ccm/ack             acknowledge CCMs (ids, text/plain)
 *
 * One struct naf per worker thread: it holds that worker's store handle
 * and its Ks_NAF cache.  The CA keys, policies, audit sink and group
 * committer are shared and borrowed.
 *
 * Ks_NAF comes from a key source (struct naf_keysrc): in gba-bsfd it is
 * derived in-process from the BSF's bootstrap context; in gba-nafd it
 * is fetched over Zn (Nbsp_GBA) with the NAF's TLS client certificate.
 * Either way it is cached per B-TID (the NAF_Id is fixed per NAF) until
 * the key expires, and wiped when evicted.
 */
#ifndef NAF_H
#define NAF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gba_http.h"
#include "gba_keys.h"
#include "gba_limits.h"

struct gba_signer;
struct gba_store;
struct gba_store_committer;
struct gba_policy_store;
struct gba_audit;
struct gba_daemon;

#define NAF_MAX_CAS      8u
#define NAF_MAX_RA       8u               /* authorized RA certificates per CA */
#define NAF_MAX_BODY     (64u * 1024u)    /* CMC and portal request bodies */
#define NAF_CMC_PATH     "/cmc"
#define NAF_ENROL_PATH   "/enrol"
#define NAF_CACERT_PATH  "/getcertificate"
#define NAF_CRL_PREFIX   "/crl/"
#define NAF_OCSP_PATH    "/ocsp"
#define NAF_MAX_URL      512u             /* public base URL */
#define NAF_CCM_PATH     "/ccm"
/* Media types (doc/ccm.md): one CCM (a CMS SignedData, DER), and the
 * subscription's body (frames: 4-octet length, then a CCM). */
#define NAF_CCM_MEDIA         "application/vnd.gbacert.ccm"
#define NAF_CCM_STREAM_MEDIA  "application/vnd.gbacert.ccm-stream"
#define NAF_CCM_MAX_ACK       64u   /* message ids per acknowledgement */
#define NAF_CCM_MAX_PER_IMPI  4u    /* subscriptions per IMPI (default) */

/* One CA the NAF issues from; everything borrowed. */
struct naf_ca {
	const char *name;                 /* policy certificate.issuer */
	struct gba_signer *issuer;        /* issuing CA: key and certificate */
	struct gba_signer *cmc;           /* CMC signer (id-kp-cmcCA/RA) */
	const uint8_t *root;              /* root CA certificate DER; may be NULL */
	size_t root_len;
	struct gba_signer *ocsp;          /* delegated OCSP responder; NULL: the
	                                   * issuing CA signs OCSP responses */
	/* RAs allowed to revoke any certificate of this CA over CMC (DER,
	 * from ra.pem); a signer must match one exactly, carry id-kp-cmcRA
	 * and not be revoked or held in the store (naf_cmc.c) */
	const uint8_t *ra[NAF_MAX_RA];
	size_t ra_len[NAF_MAX_RA];
	size_t nra;
};

/* What a key source returns for a B-TID. */
struct naf_key {
	uint8_t ks_naf[GBA_KS_NAF_LEN];   /* secret: wiped by naf_key_clear */
	int64_t expires;                  /* UTC seconds */
	char impi[GBA_MAX_IMPI_LEN + 1];
	char *uss_json;                   /* GUSS or Zn ussList; owned, may be NULL */
};
void naf_key_clear(struct naf_key *k);

/*
 * A source of Ks_NAF.  get returns 0, GBA_ENOTFOUND for an unknown or
 * expired B-TID, GBA_EAUTH when the BSF refuses this NAF, or another
 * code.  naf_id is FQDN || Ua id.  It runs on the worker thread.
 */
struct naf_keysrc {
	int (*get)(void *ctx, const char *btid, const uint8_t *naf_id, size_t naf_id_len,
	           struct naf_key *out);
	void *ctx;
};

/* In-process source (gba-bsfd): the worker's BSF store.  ctx is a
 * struct gba_store *, borrowed. */
int naf_keysrc_store_get(void *ctx, const char *btid, const uint8_t *naf_id,
                         size_t naf_id_len, struct naf_key *out);

/*
 * Zn source (gba-nafd): a blocking Nbsp_GBA client, one per worker
 * (ctx is the struct naf_zn).  nafFqdn and uaSecProtId come from the
 * naf_id asked for.  404 from the BSF is GBA_ENOTFOUND, 403 GBA_EAUTH,
 * an unreachable BSF or a bad answer GBA_EIO, a response without the
 * IMPI GBA_EMISSING.  The connection is opened on first use and kept.
 */
struct naf_zn;
struct naf_zn_conf {
	const char *url;                  /* https://bsf:port (the apiRoot, no path) */
	const char *ca_file;              /* trust for the BSF's certificate; NULL: system */
	const char *cert_file, *key_file; /* the NAF's client certificate (required) */
	uint32_t gsid;                    /* asked for in gsIds; 0: none */
};
/* conf is copied, the strings it points to are borrowed. */
int naf_zn_new(struct naf_zn **out, const struct naf_zn_conf *conf);
void naf_zn_free(struct naf_zn *z);
int naf_keysrc_zn_get(void *ctx, const char *btid, const uint8_t *naf_id, size_t naf_id_len,
                      struct naf_key *out);

struct naf_status;
/*
 * The CCM hub: what the workers of one daemon share for CCM delivery.
 * Create it before the workers, give it to naf_conf.ccm, and once the
 * HTTP server exists set its wake function (gba_http_server_wake), so
 * that a message queued on one worker reaches subscribers on the others
 * at once; other processes' messages are found by each worker's tick
 * (naf_ccm_tick).
 */
struct naf_ccm_hub;
struct naf_ccm_hub_conf {
	unsigned max_per_impi;            /* subscriptions per IMPI (0: 4) */
	unsigned keepalive_s;             /* keep-alive period (0: 30 s) */
	unsigned expire_every_s;          /* expiry sweep period (0: 60 s) */
};
int naf_ccm_hub_new(struct naf_ccm_hub **out, const struct naf_ccm_hub_conf *conf);
void naf_ccm_hub_free(struct naf_ccm_hub *h);
void naf_ccm_hub_set_wake(struct naf_ccm_hub *h, void (*wake)(void *arg), void *arg);
void naf_ccm_hub_wake(struct naf_ccm_hub *h);
/* Messages handed to subscription streams and Ub answers so far. */
unsigned long naf_ccm_hub_delivered(struct naf_ccm_hub *h);
/* The policies were reloaded: one worker (the expiry-duty one) queues
 * the policy's trust-anchor and server-certificate updates, when
 * ccm.on_bootstrap names them, for every IMPI holding a valid
 * certificate of the application, at most 64 IMPIs a second; a set an
 * IMPI already has (unexpired) is not queued again.  Thread-safe. */
void naf_ccm_policy_changed(struct naf_ccm_hub *h);

struct naf_conf {
	const char *fqdn;                 /* NAF FQDN: NAF_Id and the Ua realm */
	uint8_t ua_id[GBA_UA_ID_LEN];     /* 01 00 00 00 00 for the PKI portal */
	const struct naf_ca *cas;
	size_t ncas;
	struct gba_policy_store *policies;
	struct gba_audit *audit;          /* NULL: no records (tests only) */
	struct gba_store_committer *committer;   /* NULL: commit on the worker's handle */
	uint32_t pend_poll_s;             /* pendTime hint (default 60) */
	uint32_t pend_lifetime_s;         /* how long a pending request lives (default 7 d) */
	uint32_t nonce_lifetime_s;        /* how long senderNonces are kept (default 30 d) */
	/* Secret for stateless Ua Digest nonces (HMAC key), 32 octets,
	 * shared by every worker and daemon of one deployment. */
	const uint8_t *digest_secret;
	uint32_t digest_nonce_lifetime_s; /* default 300 */
	/* Certificate status (issue 6): NULL serves no /crl/ and /ocsp. */
	struct naf_status *status;
	/* Where relying parties reach this NAF, e.g. "http://naf.example:8443"
	 * (no trailing '/').  Issued certificates whose policy names no
	 * ocsp_url / crl_url get <public_url>/ocsp (AIA) and
	 * <public_url>/crl/<ca>.crl (CRL DP).  NULL: no defaults. */
	const char *public_url;
	struct naf_ccm_hub *ccm;          /* NULL: no CCM endpoints, none queued */
};

struct naf;

/* A worker context.  conf, store and keysrc are borrowed and must
 * outlive it.  On success the caller owns *out (naf_free). */
int naf_new(struct naf **out, const struct naf_conf *conf, struct gba_store *store,
            const struct naf_keysrc *keysrc);
void naf_free(struct naf *n);

/* The handler (ctx is the struct naf). */
void naf_handle(void *ctx, const struct gba_http_request *req, struct gba_http_response *resp);

/* Only the certificate-status routes (/crl/, /ocsp), for a listener of
 * their own: relying parties fetch them over plain HTTP (RFC 5019), so
 * that checking a TLS server's certificate does not need TLS first. */
void naf_status_route(void *ctx, const struct gba_http_request *req,
                      struct gba_http_response *resp);
/*
 * CCM work of the worker that owns n, from its event loop
 * (gba_http_server_conf.on_tick): find messages queued since the last
 * tick (by any process) and deliver them to this worker's subscriptions,
 * send keep-alives, and when expiry_duty is set (one worker per daemon)
 * expire and audit old messages.
 */
void naf_ccm_tick(struct naf *n, int expiry_duty);

/*
 * A successful bootstrap of impi (from the BSF's event): queue what the
 * policy's ccm.on_bootstrap asks for (trust anchors, server
 * certificates, installs of certificates never delivered, renewal
 * required inside the renewal window), then push every unacknowledged
 * message on resp (the Ub 200) when its client allows push.  resp may
 * be NULL.  Errors are logged; the bootstrap stands either way.
 */
int naf_ccm_on_bootstrap(struct naf *n, const char *impi, struct gba_http_response *resp,
                         const char *peer);

/* ---- set-up shared by gba-bsfd and gba-nafd ---- */

/*
 * Load a CA directory made by `gba-ctl ca init`: ca.pem + ca.key (or
 * key_override: a PEM path or a PKCS#11 URI), cmc.pem + cmc.key,
 * root.pem, and ocsp.pem + ocsp.key when present (older directories
 * have none: the issuing CA then signs OCSP responses itself), and
 * ra.pem when present: the certificates of RAs that may revoke (at most
 * NAF_MAX_RA; each must chain to the issuing CA when used).  Keys must be mode 0600 or stricter (GBA_EPERM otherwise).
 * The CA is named `name` (the policies' certificate.issuer).  On
 * success ca owns two signers and the root DER: naf_ca_unload.
 */
int naf_ca_load(struct naf_ca *ca, const char *dir, const char *name, const char *key_override);
void naf_ca_unload(struct naf_ca *ca);

/* Read or create (32 random octets, mode 0600) the Ua Digest nonce
 * secret at path. */
int naf_secret_load(const char *path, uint8_t secret[32]);

/* ---- certificate status: CRLs and OCSP (naf_status.c) ---- */

/*
 * One per process, shared by the workers (thread-safe).  It keeps each
 * CA's current CRL and a cache of signed OCSP responses per (CA, CertID
 * form, serial), and follows the store's change counter: every request
 * reads it (one indexed read) and drops what a status change made stale
 * before answering, so an answer fetched after a revocation committed
 * never says good.  A background thread (naf_status_start) rebuilds CRLs
 * when they change or pass half their lifetime and pre-signs responses
 * for every current certificate, refreshing them before half their
 * lifetime; requests with a nonce, or for several certificates, are
 * signed live.
 */
struct naf_status_conf {
	uint32_t crl_lifetime_s;          /* nextUpdate - thisUpdate (86400) */
	uint32_t crl_max_age_s;           /* Cache-Control cap for CRLs (60) */
	uint32_t ocsp_lifetime_s;         /* nextUpdate - thisUpdate (3600) */
	uint32_t ocsp_max_age_s;          /* Cache-Control cap for OCSP (60) */
	size_t ocsp_cache_max;            /* cached responses (100000) */
	uint32_t tick_ms;                 /* background pass period (2000) */
	uint32_t ocsp_live_max;           /* live OCSP signatures at once (half
	                                   * the CPUs, at least 1); beyond:
	                                   * the cached answer or tryLater */
	/* The time in UTC seconds; NULL: gba_time_now (tests set a clock
	 * of their own, called with clock_ctx) */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};
void naf_status_conf_default(struct naf_status_conf *c);

/* cas (ncas 1..NAF_MAX_CAS) and conf are borrowed and must outlive s. */
int naf_status_new(struct naf_status **out, const struct naf_ca *cas, size_t ncas,
                   const struct naf_status_conf *conf);
/* The background thread, with its own store handle on db/key. */
int naf_status_start(struct naf_status *s, const char *db, const char *key);
/* One background pass now on st (follow the change counter, CRLs,
 * pre-signing), as the thread does every tick_ms: for tests, which run
 * no thread. */
void naf_status_pass(struct naf_status *s, struct gba_store *st);
/* Stop the background work: a pass under way ends after the signature
 * it is making, and none starts again (naf_status_pass does nothing). */
void naf_status_stop(struct naf_status *s);
/* Stop the thread (if started: naf_status_stop, then wait) and free. */
void naf_status_free(struct naf_status *s);

/* What the cache did since start (for tests and the bench). */
struct naf_status_stats {
	uint64_t ocsp_hits, ocsp_signed_live, ocsp_presigned, ocsp_dropped, crl_builds;
	size_t ocsp_cached;
	uint64_t ocsp_swept;              /* cached answers dropped as stale */
	uint64_t ocsp_busy;               /* requests beyond ocsp_live_max */
	uint64_t changes_read;            /* change-log rows read */
	uint64_t crl_failures;            /* CRL builds that failed */
	unsigned ocsp_live_now;           /* live signatures under way */
};
void naf_status_stats(struct naf_status *s, struct naf_status_stats *out);

/* What a daemon's NAF workers share. */
struct naf_service_conf {
	const char *fqdn;                 /* NAF FQDN */
	const char *ca_dir, *ca_key, *ca_name;   /* naf_ca_load; ca_key may be NULL */
	const char *secret_file;          /* naf_secret_load */
	/* certificate status: 0 takes naf_status_conf_default's */
	uint32_t crl_lifetime_s, crl_max_age_s, ocsp_lifetime_s;
	const char *url;                  /* --naf-url; NULL: naf_service_publish's */
	uint32_t ocsp_cache_max;          /* 0 takes naf_status_conf_default's */
	uint32_t ocsp_live_max;           /* 0 takes naf_status_conf_default's */
	uint32_t ocsp_max_age_s;          /* 0 takes naf_status_conf_default's */
	uint32_t ccm_max_per_impi;        /* CCM subscriptions per IMPI (0: default) */
	uint32_t ccm_poll_ms;             /* outbox poll period, the daemon's tick
	                                   * (0: 1000) */
};

/* The options that fill it, as gba_daemon.h's: getopt_long values,
 * struct option entries, their parser (1 taken, 0 not one of them)
 * and their --help lines (secret: the default --naf-secret). */
enum {
	NAF_OPT_FQDN = 0x200,
	NAF_OPT_CA_DIR,
	NAF_OPT_CA_KEY,
	NAF_OPT_CA_NAME,
	NAF_OPT_SECRET,
	NAF_OPT_CRL_LIFETIME,
	NAF_OPT_CRL_MAX_AGE,
	NAF_OPT_OCSP_LIFETIME,
	NAF_OPT_URL,
	NAF_OPT_OCSP_CACHE_MAX,
	NAF_OPT_OCSP_LIVE_MAX,
	NAF_OPT_OCSP_MAX_AGE,
	NAF_OPT_CCM_MAX_PER_IMPI,
	NAF_OPT_CCM_POLL_MS
};
#define NAF_LONG_OPTIONS                                              \
	{ "naf-fqdn", required_argument, NULL, NAF_OPT_FQDN },        \
	{ "ca-dir", required_argument, NULL, NAF_OPT_CA_DIR },        \
	{ "ca-key", required_argument, NULL, NAF_OPT_CA_KEY },        \
	{ "ca-name", required_argument, NULL, NAF_OPT_CA_NAME },      \
	{ "naf-secret", required_argument, NULL, NAF_OPT_SECRET },    \
	{ "crl-lifetime", required_argument, NULL, NAF_OPT_CRL_LIFETIME }, \
	{ "crl-max-age", required_argument, NULL, NAF_OPT_CRL_MAX_AGE },   \
	{ "ocsp-lifetime", required_argument, NULL, NAF_OPT_OCSP_LIFETIME }, \
	{ "naf-url", required_argument, NULL, NAF_OPT_URL },          \
	{ "ocsp-cache-max", required_argument, NULL, NAF_OPT_OCSP_CACHE_MAX }, \
	{ "ocsp-live-max", required_argument, NULL, NAF_OPT_OCSP_LIVE_MAX }, \
	{ "ocsp-max-age", required_argument, NULL, NAF_OPT_OCSP_MAX_AGE }, \
	{ "ccm-max-per-impi", required_argument, NULL, NAF_OPT_CCM_MAX_PER_IMPI }, \
	{ "ccm-poll-ms", required_argument, NULL, NAF_OPT_CCM_POLL_MS }
/* 1 taken, 0 not one of them, GBA_EINVAL for a bad value */
int naf_service_option(struct naf_service_conf *c, int ch, const char *arg);
void naf_service_usage(FILE *f, const char *secret);

struct naf_service {
	struct naf_ca ca;
	struct naf_conf conf;             /* what each worker's naf_new borrows */
	struct gba_store_committer *committer;
	uint8_t secret[32];
	struct naf_status_conf status_conf;
	struct naf_status *status;        /* CRLs and OCSP, conf.status */
	char url[NAF_MAX_URL + 1];        /* conf.public_url */
	struct naf_ccm_hub *ccm;          /* conf.ccm */
	char client_ca[4096];             /* ca_dir/ca.pem: client certificates we
	                                   * issued, optional on the NAF listener */
};

/*
 * For a daemon d started with gba_daemon_start: load the CA and the Ua
 * nonce secret, start the group committer on d's store (a thread; d
 * has blocked the signals), set up the certificate status cache and
 * fill s->conf for the PKI portal Ua id, with d's policies and audit
 * log.  Nothing is left to free on failure; otherwise stop it with
 * naf_service_stop once no worker uses it.
 */
int naf_service_start(struct naf_service *s, const struct naf_service_conf *c,
                      const struct gba_daemon *d);
/*
 * Once the listeners are bound (gba_daemon_conf.on_bound): the URL where
 * relying parties reach /ocsp and /crl/, the default AIA and CRL DP of
 * issued certificates, is c->url (http:// or https://, trailing slashes
 * dropped; GBA_EINVAL otherwise), or else http[s]://FQDN:port of the
 * listener that serves them; then start the status thread on d's store.
 */
/* Once the listeners are bound: CCMs queued on one worker wake the
 * others' subscriptions at once (gba_http_server_wake). */
void naf_service_bound(struct naf_service *s, struct gba_http_server *server);
int naf_service_publish(struct naf_service *s, const struct naf_service_conf *c, int https,
                        unsigned port, const struct gba_daemon *d);
void naf_service_stop(struct naf_service *s);

#endif
