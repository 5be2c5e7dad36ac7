/*
 * gba_store.h - durable state behind an interface.
 *
 * Two interfaces, so that each can be replaced without touching Ub:
 *
 *   struct gba_hss   the subscriber store (Zh).  The built-in one is an
 *                    HSS emulator on SQLite: per IMPI, K, OPc, AMF, SQN
 *                    and the GUSS; it runs Milenage itself.  A remote
 *                    HSS/UDM (Nhss_gba, Diameter Zh) would implement the
 *                    same operations.
 *   struct gba_store the BSF's own state: outstanding challenges
 *                    (single-use nonces) and bootstrap contexts.
 *
 * Secrets at rest (K, OPc, Ks, XRES, CK, IK) are sealed with AES-256-GCM
 * under a 32-byte key read from a key file (mode 0600), with the row's
 * identity as associated data, so a row copied to another IMPI or B-TID
 * does not open.  SQLite runs in WAL mode with secure_delete on; the
 * schema version is PRAGMA user_version.  Every statement is prepared
 * with bound parameters.
 *
 * Each worker thread opens its own handle (SQLite connections are not
 * shared between threads); several daemons may share one database file.
 *
 * Functions return 0 or a negative GBA_E* code.  GBA_ENOTFOUND is used
 * for an unknown IMPI, nonce or B-TID alike, so callers cannot leak
 * which one exists.  Other codes:
 *   GBA_EINVAL    an identity that is empty, too long or not printable
 *                 ASCII (0x21-0x7e), a secret of the wrong length;
 *   GBA_EIO       a database error (logged by nobody: the store has no
 *                 logger), or a stored row that does not authenticate
 *                 or has the wrong shape: tampered or corrupt data is
 *                 never returned;
 *   GBA_EAUTH     (open) the key file does not match the database;
 *                 (generate_av) MAC-S of a resync AUTS is wrong;
 *   GBA_EUNSUPP   (open) the database has a newer schema than this
 *                 build, or is some other application's database.
 * The get/take functions clear *out on entry, and leave it cleared on
 * error.
 *
 * What each sealed value is bound to (AES-GCM associated data): K and
 * OPc to the IMPI, AMF, lifetime and SHA-256(GUSS); a challenge's XRES,
 * CK, IK to its nonce, IMPI, RAND, AUTN and expiry; Ks to the B-TID,
 * IMPI, RAND, creation, expiry and SHA-256(GUSS).  Editing any of those
 * columns makes the row fail to open.  SQN_HE is not authenticated (it
 * changes on every vector); rolling it back only causes a resync.
 */
#ifndef GBA_STORE_H
#define GBA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "gba_limits.h"
#include "gba_milenage.h"
#include "gba_secret.h"

#define GBA_STORE_KEY_LEN 32u
#define GBA_MAX_GUSS_LEN  (16u * 1024u)   /* GUSS as JSON text */

/* ---- subscriber records (the HSS emulator's table) ---- */

struct gba_subscriber {
	char impi[GBA_MAX_IMPI_LEN + 1];
	struct gba_secret k;              /* 16 octets */
	struct gba_secret opc;            /* 16 octets (OP is converted on add) */
	uint8_t amf[2];
	uint8_t sqn[6];                   /* SQN_HE: the last SQN handed out */
	uint32_t lifetime_s;              /* GUSS bsfInfo lifeTime; 0: BSF default */
	/* GUSS as JSON: {"bsfInfo":{"lifeTime":N},"ussList":[{"gsId":1,
	 * "gsType":1,"ueIds":["sip:..."],"flags":[..],"nafGroup":"..."}]}.
	 * NUL-terminated; empty string when none. */
	char *guss_json;                  /* owned; freed by gba_subscriber_clear */
};

/* Wipe the secrets and free guss_json. */
void gba_subscriber_clear(struct gba_subscriber *s);

/* 0 when impi is 1..GBA_MAX_IMPI_LEN printable ASCII characters
 * (0x21-0x7e); GBA_EINVAL otherwise.  The store applies the same rule to
 * every IMPI, B-TID and nonce it is given. */
int gba_store_impi_check(const char *impi);

/* ---- HSS interface (Zh) ---- */

struct gba_hss;

struct gba_hss_ops {
	/*
	 * One authentication vector for impi.  SQN_HE advances atomically
	 * (concurrent callers get distinct SQNs).  When auts is not NULL it
	 * is a resync: auts_rand is the RAND of the failed challenge; the
	 * HSS recovers SQN_MS from AUTS, checks MAC-S (GBA_EAUTH if wrong),
	 * sets SQN_HE = SQN_MS and then generates the vector.
	 */
	/*
	 * The SQLite emulator uses SQN = SEQ || IND with a 5-bit IND (TS
	 * 33.102 Annex C.1.1) and always IND = 0: each vector takes
	 * SEQ_HE + 1, i.e. SQN_HE becomes ((SQN_HE >> 5) + 1) << 5.  After
	 * a resync the next SQN is ((SQN_MS >> 5) + 1) << 5.  GBA_ESYNC when
	 * SEQ would leave 43 bits.  On any error SQN_HE is unchanged.
	 */
	int (*generate_av)(struct gba_hss *h, const char *impi, const uint8_t auts_rand[16],
	                   const uint8_t auts[14], struct gba_aka_vector *av);
	/* The subscriber's key lifetime (0: default) and GUSS JSON (a new
	 * string for the caller to gba_free, "" when none). */
	int (*get_guss)(struct gba_hss *h, const char *impi, uint32_t *lifetime_s,
	                char **guss_json);
	void (*close)(struct gba_hss *h);
};

struct gba_hss {
	const struct gba_hss_ops *ops;
};

/* ---- BSF store ---- */

/* An outstanding Ub challenge, keyed by its nonce (base64(RAND||AUTN)). */
struct gba_challenge {
	char nonce[64];                   /* 44 characters + NUL */
	char impi[GBA_MAX_IMPI_LEN + 1];
	struct gba_aka_vector av;         /* XRES, CK, IK are secrets */
	int64_t expires;                  /* UTC seconds */
};

struct gba_bootstrap {
	char btid[GBA_MAX_BTID_LEN + 1];
	char impi[GBA_MAX_IMPI_LEN + 1];
	uint8_t rand[16];
	struct gba_secret ks;             /* 32 octets: CK || IK */
	int64_t created;                  /* UTC seconds */
	int64_t expires;
	char *guss_json;                  /* owned, may be "" */
};

void gba_bootstrap_clear(struct gba_bootstrap *b);
/* Wipe XRES, CK and IK (and the rest of the record). */
void gba_challenge_clear(struct gba_challenge *c);

struct gba_store;

/*
 * Open (creating or migrating) the SQLite database at path, with the
 * at-rest key from key_path (created with 32 random bytes, mode 0600,
 * when it does not exist).  One handle per thread.
 *
 * A new database file is created mode 0600.  The key file must be a
 * regular file of exactly 32 bytes with no group or other permission
 * bits (GBA_EIO otherwise); it is only created together with a new
 * database: a missing key for an existing database is GBA_EIO, and a
 * key that does not open the database's key-check record is GBA_EAUTH.
 * On success the caller owns *out (gba_store_close); on error *out is
 * NULL.
 */
int gba_store_open(struct gba_store **out, const char *path, const char *key_path);
void gba_store_close(struct gba_store *st);

/* The built-in HSS emulator on the same database (its own handle). */
int gba_hss_sqlite_open(struct gba_hss **out, const char *path, const char *key_path);

/* Subscriber administration (gba-ctl).  add fails with GBA_EDUP if the
 * IMPI exists.  The record carries OPc; a caller holding OP converts it
 * with gba_milenage_opc first.  k and opc must be 16 octets, guss_json
 * NULL or at most GBA_MAX_GUSS_LEN characters. */
int gba_store_subscriber_add(struct gba_store *st, const struct gba_subscriber *s);
/* On success the caller owns out->guss_json (gba_subscriber_clear). */
int gba_store_subscriber_get(struct gba_store *st, const char *impi, struct gba_subscriber *out);
/* Also deletes the IMPI's outstanding challenges and bootstrap contexts,
 * so a removed subscriber's B-TID stops working at once. */
int gba_store_subscriber_remove(struct gba_store *st, const char *impi);
/* Calls fn for each IMPI in order; stops early if fn returns non-zero
 * and then returns fn's value.  impi is valid only during the call; fn
 * may read through st but must not write. */
int gba_store_subscriber_list(struct gba_store *st,
                              int (*fn)(void *ctx, const char *impi), void *ctx);
/*
 * Bulk add, all or nothing, in one transaction.  next fills the zeroed
 * *s and returns 1, returns 0 at the end, or a negative code to abort;
 * s->guss_json may be NULL or a gba_malloc'd string, which the store
 * frees (it clears *s after each record).  On success *count is the
 * number added; on any error (from next, or GBA_EDUP, GBA_EINVAL, ... for
 * the record next returned last) nothing is added and *count is 0.
 * next runs inside the store's write transaction: it must not use st,
 * and other handles wait (busy timeout 5 s) until the import ends, so
 * very large imports belong in a quiet period or in several files.
 */
int gba_store_subscriber_import(struct gba_store *st,
                                int (*next)(void *ctx, struct gba_subscriber *s),
                                void *ctx, size_t *count);

/* Challenges: put one; take (read and delete atomically, so a nonce is
 * used at most once) one that has not expired and belongs to impi.
 * put fails with GBA_EDUP for a nonce already stored.  A challenge is
 * valid while now < expires.  A take with the wrong IMPI, or after
 * expiry, deletes nothing and fails with GBA_ENOTFOUND, so a guessed
 * nonce cannot burn another subscriber's challenge; expired rows go in
 * gba_store_purge. */
int gba_store_challenge_put(struct gba_store *st, const struct gba_challenge *c);
int gba_store_challenge_take(struct gba_store *st, const char *nonce, const char *impi,
                             int64_t now, struct gba_challenge *out);

/* Bootstrap contexts: put replaces any earlier context of the same IMPI
 * (a new bootstrap supersedes the old B-TID) or the same B-TID, in one
 * transaction; ks must be 32 octets.  get fails with GBA_ENOTFOUND when
 * absent or expired at `now` (valid while now < expires); on success the
 * caller owns out->guss_json (gba_bootstrap_clear). */
int gba_store_bootstrap_put(struct gba_store *st, const struct gba_bootstrap *b);
int gba_store_bootstrap_get(struct gba_store *st, const char *btid, int64_t now,
                            struct gba_bootstrap *out);
/* Delete expired challenges and contexts (expires <= now); returns how
 * many rows went (capped at INT_MAX) or a negative code. */
int gba_store_purge(struct gba_store *st, int64_t now);

/* ================================================================
 * Issue 5: the CA's records (certificates, CMC nonces, pending
 * requests), written in one transaction per CMC request, with group
 * commit across worker threads.
 * ================================================================ */

#define GBA_STORE_MAX_SERIAL   20u
#define GBA_STORE_MAX_APP      253u     /* application id = NAF FQDN */
#define GBA_STORE_MAX_CA       64u      /* CA name */
#define GBA_STORE_MAX_NONCE    64u
#define GBA_STORE_TOKEN_LEN    16u      /* pending-request token */
#define GBA_STORE_MAX_CERT     (16u * 1024u)   /* certificate DER */
#define GBA_STORE_MAX_PENDING  (32u * 1024u)   /* pending request blob */

enum gba_cert_status {
	GBA_CERT_VALID = 0,
	GBA_CERT_REVOKED = 1,
	GBA_CERT_HOLD = 2                 /* certificateHold (issue 6) */
};

/* One issued certificate.  The store checks (GBA_EINVAL): serial is the
 * minimal content octets of a non-negative INTEGER (so equal numbers
 * are equal octets); ca is 1..GBA_STORE_MAX_CA printable ASCII
 * characters, spaces allowed; impi and app_id follow the identity rule
 * of gba_store_impi_check (app_id at most GBA_STORE_MAX_APP); status and
 * reason (0..10) in range; not_before <= not_after; der 1..
 * GBA_STORE_MAX_CERT octets. */
struct gba_cert_record {
	uint8_t serial[GBA_STORE_MAX_SERIAL];   /* INTEGER content octets, unique */
	size_t serial_len;
	char ca[GBA_STORE_MAX_CA + 1];          /* issuing CA name */
	char impi[GBA_MAX_IMPI_LEN + 1];
	char app_id[GBA_STORE_MAX_APP + 1];
	uint8_t policy_sha256[32];              /* the policy that allowed it */
	uint8_t spki_sha256[32];                /* SHA-256 of the SPKI DER */
	int64_t issued_at, not_before, not_after;
	int status;                             /* enum gba_cert_status */
	int reason;                             /* CRLReason when revoked/held */
	int64_t revoked_at;                     /* 0 when valid */
	int64_t invalidity_date;                /* 0: none */
	uint8_t *der;                           /* certificate DER */
	size_t der_len;                         /* owned when read from the store */
	/* 0: accepted (or no confirmation asked); otherwise the CA waits for
	 * the subscriber's confirmCertAcceptance (RFC 5272 6.14) until then */
	int64_t confirm_by;
};
/* Free der (gba_free) and clear the record: for records the store
 * filled in, not for ones whose der the caller borrowed. */
void gba_cert_record_clear(struct gba_cert_record *r);

/* A request waiting for manual approval.  The blob is opaque to the
 * store: whatever the NAF needs to issue once approved. */
enum gba_pending_state {
	GBA_PENDING_WAITING = 0,
	GBA_PENDING_APPROVED = 1,
	GBA_PENDING_REJECTED = 2,
	GBA_PENDING_ISSUED = 3
};
struct gba_pending {
	uint8_t token[GBA_STORE_TOKEN_LEN];
	char impi[GBA_MAX_IMPI_LEN + 1];
	char app_id[GBA_STORE_MAX_APP + 1];
	int state;                              /* enum gba_pending_state */
	int64_t created, expires;
	uint8_t serial[GBA_STORE_MAX_SERIAL];   /* state ISSUED: the certificate */
	size_t serial_len;                      /* 0 in every other state */
	uint8_t *blob;                          /* owned when read */
	size_t blob_len;                        /* 1..GBA_STORE_MAX_PENDING */
};
/* Free blob (gba_free) and clear; as gba_cert_record_clear. */
void gba_pending_clear(struct gba_pending *p);

/* A certificate named by serial (INTEGER content octets). */
struct gba_cert_ref {
	uint8_t serial[GBA_STORE_MAX_SERIAL];
	size_t serial_len;
};
struct gba_revocation;
struct gba_ccm_out;

/*
 * What one CMC request changes, applied all or nothing.  Every part is
 * optional.  The nonce makes replays fail: a (nonce) already recorded
 * fails the whole transaction with GBA_EREPLAY and changes nothing.
 */
struct gba_cmc_txn {
	const uint8_t *nonce;                   /* senderNonce; NULL: none */
	size_t nonce_len;                       /* 1..GBA_STORE_MAX_NONCE */
	int64_t nonce_expires;                  /* kept until then (purge) */
	const struct gba_cert_record *certs;    /* insert (serial unique:
	                                         * GBA_EDUP for a collision) */
	size_t ncerts;
	const struct gba_pending *pend_new;     /* insert */
	size_t npend_new;
	/* Move one pending request from APPROVED to ISSUED with serial
	 * certs[0].serial (GBA_ENOTFOUND if it is not APPROVED any more). */
	const uint8_t *pend_issued;             /* token; NULL: none */
	/* confirmCertAcceptance: set confirm_by = 0 on these certificates
	 * (GBA_ENOTFOUND if one is unknown). */
	const struct gba_cert_ref *confirm;
	size_t nconfirm;
	/* Status changes (issue 6; gba_store_cert_set_status's rules, its
	 * codes fail the whole transaction). */
	const struct gba_revocation *revocations;
	size_t nrevocations;
	/* CCMs queued with the rest (issue 7): an issued certificate and
	 * its install CCM are durable together, or neither is. */
	const struct gba_ccm_out *ccms;
	size_t nccms;
};

/* Apply one transaction (its own SQLite transaction, synchronous=FULL). */
int gba_store_cmc_commit(struct gba_store *st, const struct gba_cmc_txn *t);

/*
 * Apply n transactions in ONE SQLite transaction (one fsync), each in
 * its own SAVEPOINT so that one failing (replay, duplicate serial) does
 * not fail the others.  results[i] gets 0 or the code of txns[i].
 * Returns 0 when the batch committed (whatever the results), or a
 * negative code when nothing was committed (then every result is that
 * code).
 */
int gba_store_cmc_commit_batch(struct gba_store *st, const struct gba_cmc_txn *const *txns,
                               size_t n, int *results);

/*
 * Group commit: one thread with its own handle commits, in one batch,
 * whatever transactions the workers have queued while the previous
 * batch was being written (up to 256 per batch).  gba_store_committer_
 * submit blocks the calling worker until its transaction is durable (or
 * failed) and returns its result; t must stay valid until then.
 * Thread-safe.  Stop waits for queued work; a submit that starts after
 * stop has begun fails with GBA_EINVAL, and none may start after stop
 * returns (c is freed).
 */
struct gba_store_committer;
int gba_store_committer_start(struct gba_store_committer **out, const char *path,
                              const char *key_path);
int gba_store_committer_submit(struct gba_store_committer *c, const struct gba_cmc_txn *t);
void gba_store_committer_stop(struct gba_store_committer *c);

/* Certificates.  get: by serial (GBA_ENOTFOUND).  The caller owns
 * out->der (gba_cert_record_clear). */
int gba_store_cert_get(struct gba_store *st, const uint8_t *serial, size_t serial_len,
                       struct gba_cert_record *out);
/* The IMPI's certificates for app that are VALID and not expired at
 * now (now <= not_after: RFC 5280 notAfter is inclusive); and how many
 * it was issued since `since` (issued_at >= since, any status). */
int gba_store_cert_count_active(struct gba_store *st, const char *impi, const char *app_id,
                                int64_t now, uint32_t *count);
int gba_store_cert_count_since(struct gba_store *st, const char *impi, const char *app_id,
                               int64_t since, uint32_t *count);
/* Calls fn for each certificate, newest first, of impi (NULL: all);
 * stops when fn returns non-zero and returns that value.  The record is
 * valid only during the call. */
int gba_store_cert_list(struct gba_store *st, const char *impi,
                        int (*fn)(void *ctx, const struct gba_cert_record *r), void *ctx);

/* Pending requests.  get: GBA_ENOTFOUND when unknown (caller owns
 * out->blob).  set_state moves `from` -> `to` atomically (GBA_ENOTFOUND
 * when the token is not in state `from`): gba-ctl approve/reject.  from
 * and to are WAITING, APPROVED or REJECTED (GBA_EINVAL otherwise): only
 * a CMC transaction (pend_issued) sets ISSUED, which needs the serial
 * and is final.  list: oldest first, with the same rules as cert_list. */
int gba_store_pending_get(struct gba_store *st, const uint8_t token[GBA_STORE_TOKEN_LEN],
                          struct gba_pending *out);
int gba_store_pending_set_state(struct gba_store *st, const uint8_t token[GBA_STORE_TOKEN_LEN],
                                int from, int to);
int gba_store_pending_list(struct gba_store *st,
                           int (*fn)(void *ctx, const struct gba_pending *p), void *ctx);

/* gba_store_purge also deletes expired CMC nonces and pending requests
 * (expires <= now) that were never issued. */

/* ================================================================
 * Issue 6: revocation, the change counter and the stored CRLs.
 * ========================================================= *
 * Every status change of a certificate appends a row to a change log in
 * the transaction that makes it, so the log's last sequence number (the
 * change counter, "epoch") moves exactly when some certificate's
 * revocation status does.  Workers and daemons sharing the database
 * read it to tell whether what they cached (OCSP responses, the CRL) is
 * still current: a change committed before the read is always seen.
 */

#define GBA_STORE_MAX_CRL (256u * 1024u * 1024u)   /* CRL DER */

enum gba_status_op {
	GBA_STATUS_REVOKE = 0,            /* VALID or HOLD -> REVOKED */
	GBA_STATUS_HOLD = 1,              /* VALID -> HOLD (certificateHold) */
	GBA_STATUS_UNHOLD = 2             /* HOLD -> VALID */
};

/*
 * One status change.  Rules (RFC 5280 5.3.1; doc/revocation.md):
 *  - REVOKE: from VALID, or from HOLD (which keeps the hold's time as
 *    revoked_at: the certificate has not been usable since).  reason
 *    is unspecified(0), keyCompromise(1), cACompromise(2),
 *    affiliationChanged(3), superseded(4), cessationOfOperation(5) or
 *    privilegeWithdrawn(9) (GBA_EINVAL otherwise: certificateHold is
 *    GBA_STATUS_HOLD, removeFromCRL belongs to delta CRLs,
 *    aACompromise to attribute certificates).  invalidity_date is 0
 *    or a time not after `at`.
 *  - HOLD: from VALID only; reason becomes certificateHold(6).
 *  - UNHOLD: from HOLD only; back to VALID (reason, revoked_at and
 *    invalidity_date cleared; a full CRL simply drops the entry).
 *  - REVOKED is final.
 * A change that the current status does not allow is GBA_ESTATE.
 */
struct gba_revocation {
	const uint8_t *serial;            /* INTEGER content octets, as stored */
	size_t serial_len;
	int op;                           /* enum gba_status_op */
	int reason;                       /* REVOKE: the CRLReason */
	int64_t at;                       /* REVOKE, HOLD: when (UTC seconds, > 0) */
	int64_t invalidity_date;          /* REVOKE: 0 or when the key became unsafe */
	const char *impi;                 /* not NULL: only a certificate of this
	                                   * IMPI may change (GBA_EAUTH otherwise) */
	/* Issue 7: a CCM queued with the change, in its transaction (NULL:
	 * none).  Borrowed until the store call returns. */
	const struct gba_ccm_out *ccm;
};

/* 1 when reason may be given to GBA_STATUS_REVOKE. */
int gba_store_revoke_reason_ok(int reason);

/*
 * Apply one status change in its own transaction.  before (may be NULL)
 * is called inside the transaction with the certificate as it is now,
 * once every rule passed and before anything is written: a non-zero
 * return aborts the change and is returned (gba-ctl writes its audit
 * record there).  *ccm comes in as r->ccm; before may set it to another
 * message (or NULL), which the store queues with the change, in the
 * same transaction (gba_store_ccm_queue's checks; a bad one aborts).
 * The message is borrowed from before's ctx and must stay valid until
 * the next call of before or the return of the store call.  Returns 0, GBA_ENOTFOUND (no such serial), GBA_EAUTH,
 * GBA_ESTATE, GBA_EINVAL, or before's value.  On success *out (may be
 * NULL) is the record after the change (caller owns out->der).
 */
int gba_store_cert_set_status(struct gba_store *st, const struct gba_revocation *r,
                              int (*before)(void *ctx, const struct gba_cert_record *cur,
                                            const struct gba_ccm_out **ccm),
                              void *ctx, struct gba_cert_record *out);

/*
 * Revoke every VALID or HOLD certificate of impi (any CA, any
 * application) with reason at `at`, all or nothing, in one
 * transaction; before is called for each certificate as above (a
 * non-zero return aborts everything).  *count: how many were revoked
 * (0 is success).  GBA_EINVAL for a bad IMPI or reason.
 */
int gba_store_revoke_impi(struct gba_store *st, const char *impi, int reason, int64_t at,
                          int (*before)(void *ctx, const struct gba_cert_record *cur,
                                            const struct gba_ccm_out **ccm),
                          void *ctx, size_t *count);

/* The change counter: 0 before the first status change, then the
 * sequence number of the latest one (any CA).  One indexed read on a
 * statement the handle keeps prepared. */
int gba_store_status_epoch(struct gba_store *st, uint64_t *epoch);

/* The same for one CA only. */
int gba_store_ca_epoch(struct gba_store *st, const char *ca, uint64_t *epoch);

/*
 * Calls fn for every status change after `since`, oldest first, with
 * its sequence number; stops early when fn returns non-zero (and
 * returns that).  serial is valid during the call only.
 */
int gba_store_status_changes(struct gba_store *st, uint64_t since,
                             int (*fn)(void *ctx, uint64_t seq, const char *ca,
                                       const uint8_t *serial, size_t serial_len),
                             void *ctx);

/*
 * The CRL's view of one CA, read in one transaction: fn is called for
 * every REVOKED or HOLD certificate of ca whose not_after >=
 * min_not_after, in serial order (the record's der is borrowed and
 * valid during the call), and *epoch is the CA's change counter that
 * this list reflects.  fn's non-zero return stops the walk and is
 * returned.
 */
int gba_store_revoked_list(struct gba_store *st, const char *ca, int64_t min_not_after,
                           int (*fn)(void *ctx, const struct gba_cert_record *r), void *ctx,
                           uint64_t *epoch);

/* Every certificate of ca with not_after >= now (any status), for
 * pre-signing OCSP responses; as gba_store_cert_list otherwise. */
int gba_store_cert_list_current(struct gba_store *st, const char *ca, int64_t now,
                                int (*fn)(void *ctx, const struct gba_cert_record *r),
                                void *ctx);

/*
 * The same list a page at a time, in (not_after, serial) order: at most
 * limit (1..10000) certificates that come after the one with
 * (after_not_after, after_serial); after_serial_len 0 starts from the
 * beginning.  Each page is a read of its own, so a long walk holds no
 * snapshot open.  *n: how many fn was called for (fewer than limit: the
 * end).  fn's non-zero return stops the page and is returned.
 */
int gba_store_cert_list_current_page(struct gba_store *st, const char *ca, int64_t now,
                                     int64_t after_not_after, const uint8_t *after_serial,
                                     size_t after_serial_len, size_t limit,
                                     int (*fn)(void *ctx, const struct gba_cert_record *r),
                                     void *ctx, size_t *n);

/* The CA's current CRL as stored by whichever worker or daemon made it
 * last, so that all of them serve the same one. */
struct gba_crl_record {
	char ca[GBA_STORE_MAX_CA + 1];
	uint64_t number;                  /* cRLNumber, 1 for the first */
	uint64_t epoch;                   /* the CA's change counter it reflects */
	int64_t this_update, next_update;
	uint8_t *der;                     /* owned when read with_der */
	size_t der_len;                   /* 1..GBA_STORE_MAX_CRL */
};
void gba_crl_record_clear(struct gba_crl_record *r);

/* GBA_ENOTFOUND when the CA has none yet.  with_der 0 reads only the
 * numbers and times (der NULL, der_len 0). */
int gba_store_crl_get(struct gba_store *st, const char *ca, int with_der,
                      struct gba_crl_record *out);

/*
 * Store r as the CA's CRL if the stored one is still number r->number - 1
 * (or there is none and r->number is 1); GBA_EDUP when another writer
 * got there first (read theirs instead).  This keeps the cRLNumber
 * strictly increasing across every daemon on the database.
 */
int gba_store_crl_put(struct gba_store *st, const struct gba_crl_record *r);

/* ================================================================
 * Issue 7: the CCM outbox (doc/ccm.md).
 *
 * A durable queue of Certificate Configuration Messages per IMPI.  A
 * message is queued as its CertConfigMessage DER with sequenceNumber 0
 * (the "body"): the store gives it the IMPI's next sequence number in
 * the queuing transaction, so sequence order is commit order, numbers
 * are never reused (they survive expiry and purge), and a message
 * rolled back with its event leaves no trace but a gap.  The sender
 * sets the number, signs (CMS SignedData) at first delivery and records
 * the signed DER with the state change to SENT, so a redelivery sends
 * the same octets.  States: QUEUED -> SENT -> ACKED; ACKED is final.
 * Rows are deleted at `expires` whatever their state
 * (gba_store_ccm_expire); unacknowledged ones are reported first so
 * that the caller can audit them.
 * ================================================================ */

#define GBA_STORE_CCM_ID_LEN  16u
#define GBA_STORE_MAX_CCM     (64u * 1024u)   /* body and signed DER */
#define GBA_STORE_MAX_REF     32u
#define GBA_STORE_CCM_ACTIONS 6u              /* enum gba_ccm_action: 0..5 */

enum gba_ccm_state {
	GBA_CCM_QUEUED = 0,
	GBA_CCM_SENT = 1,
	GBA_CCM_ACKED = 2
};

/*
 * A message to queue.  Everything is borrowed.  The store checks
 * (GBA_EINVAL): impi and app_id follow gba_store_impi_check (app_id at
 * most GBA_STORE_MAX_APP); action 0..5; ref NULL or 1..GBA_STORE_MAX_REF
 * octets; created <= expires; body 1..GBA_STORE_MAX_CCM octets.  The
 * body is not parsed here.  A msg_id already queued is GBA_EDUP.
 */
struct gba_ccm_out {
	uint8_t msg_id[GBA_STORE_CCM_ID_LEN];
	const char *impi;
	const char *app_id;
	int action;                       /* enum gba_ccm_action */
	/* What the message is about, for de-duplication and bootstrap
	 * checks: a certificate's serial (content octets) or a hash of the
	 * certificates it carries.  NULL: nothing. */
	const uint8_t *ref;
	size_t ref_len;
	int64_t created, expires;         /* UTC seconds */
	const uint8_t *body;              /* CertConfigMessage DER, seq 0 */
	size_t body_len;
};

/* A queued message as stored.  From gba_store_ccm_get the caller owns
 * body and der (gba_ccm_row_clear); in list callbacks they are borrowed
 * for the duration of the call. */
struct gba_ccm_row {
	int64_t id;                       /* row id: grows with each message queued */
	uint8_t msg_id[GBA_STORE_CCM_ID_LEN];
	char impi[GBA_MAX_IMPI_LEN + 1];
	char app_id[GBA_STORE_MAX_APP + 1];
	uint64_t seq;                     /* 1, 2, ... per IMPI */
	int action;
	int state;                        /* enum gba_ccm_state */
	uint8_t ref[GBA_STORE_MAX_REF];
	size_t ref_len;
	int64_t created, expires;
	uint8_t *body;
	size_t body_len;
	uint8_t *der;                     /* signed; NULL until first sent */
	size_t der_len;
};
void gba_ccm_row_clear(struct gba_ccm_row *r);

/* Queue n messages in one transaction (all or nothing).  Events that
 * change other records queue theirs in the same gba_cmc_txn instead. */
int gba_store_ccm_queue(struct gba_store *st, const struct gba_ccm_out *m, size_t n);

/* The IMPI's messages that are not ACKED and not expired at now
 * (now < expires), with seq > after_seq, in sequence order, at most max
 * of them; fn as in gba_store_cert_list. */
int gba_store_ccm_list(struct gba_store *st, const char *impi, uint64_t after_seq, int64_t now,
                       size_t max, int (*fn)(void *ctx, const struct gba_ccm_row *r),
                       void *ctx);

/* One message by id (any state; GBA_ENOTFOUND when absent).  Callers
 * check that out->impi is the requester's. */
int gba_store_ccm_get(struct gba_store *st, const uint8_t msg_id[GBA_STORE_CCM_ID_LEN],
                      struct gba_ccm_row *out);

/* Record deliveries in one transaction: QUEUED -> SENT, and the signed
 * DER kept when none is stored yet (a message signed twice, by two
 * daemons, keeps the first).  Unknown ids and other states are left
 * alone.  der 1..GBA_STORE_MAX_CCM octets, or NULL to keep the state
 * change only. */
struct gba_ccm_sent {
	const uint8_t *msg_id;            /* GBA_STORE_CCM_ID_LEN octets */
	const uint8_t *der;
	size_t der_len;
};
int gba_store_ccm_mark_sent(struct gba_store *st, const struct gba_ccm_sent *v, size_t n);

/*
 * Acknowledge: each of the n ids that belongs to impi and is not ACKED
 * yet becomes ACKED (acked[i] = 1; 0 for ids that are unknown, another
 * IMPI's or already acknowledged), in one transaction.  An acknowledged
 * install records its certificate as delivered.  Returns how many were
 * acknowledged, or a negative code (then nothing changed).
 */
int gba_store_ccm_ack(struct gba_store *st, const char *impi,
                      const uint8_t (*ids)[GBA_STORE_CCM_ID_LEN], size_t n, int *acked);

/*
 * What changed since row id after_id: fn(impi) once for each IMPI with
 * a message queued after it (in id order of their newest message), and
 * *last_id the newest of those ids (after_id when none).  A poller that
 * keeps *last_id sees every message, whichever process queued it: ids
 * are handed out in commit order.  after_id < 0 only sets *last_id to
 * the newest id in the outbox (fn may be NULL), where a poller starts.
 * When fn returns non-zero the walk stops, *last_id is left alone and
 * that value is returned.
 */
int gba_store_ccm_changes(struct gba_store *st, int64_t after_id, int64_t *last_id,
                          int (*fn)(void *ctx, const char *impi), void *ctx);

/*
 * Delete every message with expires <= now.  fn sees each one that was
 * not ACKED first (to audit the expiry); when fn returns non-zero
 * nothing is deleted and that value is returned.  Otherwise returns the
 * number of rows deleted (capped at INT_MAX).
 */
int gba_store_ccm_expire(struct gba_store *st, int64_t now,
                         int (*fn)(void *ctx, const struct gba_ccm_row *r), void *ctx);

/* 1 when impi has a message with this action and ref that is not
 * expired at now (any state), else 0; or a negative code. */
int gba_store_ccm_exists(struct gba_store *st, const char *impi, int action,
                         const uint8_t *ref, size_t ref_len, int64_t now);

/* Whether the certificate with this serial was delivered: an install
 * naming it was acknowledged.  1, 0, or a negative code. */
int gba_store_ccm_delivered(struct gba_store *st, const uint8_t *serial, size_t serial_len);

/* The IMPIs that hold a VALID certificate for app_id, unexpired at now,
 * in IMPI order after `after` (NULL: from the first), at most max of
 * them: who a policy change concerns.  fn as in gba_store_cert_list. */
int gba_store_cert_impis(struct gba_store *st, const char *app_id, const char *after,
                         int64_t now, size_t max, int (*fn)(void *ctx, const char *impi),
                         void *ctx);

#endif
