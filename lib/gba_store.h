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

#endif
