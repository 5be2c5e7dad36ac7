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

#include "gba_http.h"
#include "gba_keys.h"
#include "gba_limits.h"

struct gba_signer;
struct gba_store;
struct gba_store_committer;
struct gba_policy_store;
struct gba_audit;

#define NAF_MAX_CAS      8u
#define NAF_MAX_BODY     (64u * 1024u)    /* CMC and portal request bodies */
#define NAF_CMC_PATH     "/cmc"
#define NAF_ENROL_PATH   "/enrol"
#define NAF_CACERT_PATH  "/getcertificate"
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

/* Zn source (gba-nafd): a blocking Nbsp_GBA client, one per worker. */
struct naf_zn;
struct naf_zn_conf {
	const char *url;                  /* https://bsf:port */
	const char *ca_file;              /* trust for the BSF's certificate */
	const char *cert_file, *key_file; /* the NAF's client certificate */
	const char *fqdn;                 /* nafFqdn */
	uint32_t gsid;                    /* asked for in gsIds; 0: none */
};
int naf_zn_new(struct naf_zn **out, const struct naf_zn_conf *conf);
void naf_zn_free(struct naf_zn *z);
int naf_keysrc_zn_get(void *ctx, const char *btid, const uint8_t *naf_id, size_t naf_id_len,
                      struct naf_key *out);

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
 * key_override: a PEM path or a PKCS#11 URI), cmc.pem + cmc.key and
 * root.pem.  Keys must be mode 0600 or stricter (GBA_EPERM otherwise).
 * The CA is named `name` (the policies' certificate.issuer).  On
 * success ca owns two signers and the root DER: naf_ca_unload.
 */
int naf_ca_load(struct naf_ca *ca, const char *dir, const char *name, const char *key_override);
void naf_ca_unload(struct naf_ca *ca);

/* Read or create (32 random octets, mode 0600) the Ua Digest nonce
 * secret at path. */
int naf_secret_load(const char *path, uint8_t secret[32]);

#endif
