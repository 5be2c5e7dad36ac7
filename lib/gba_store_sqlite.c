/*
 * gba_store_sqlite.c - gba_store.h on SQLite, and the HSS emulator.
 *
 * The only module that includes <sqlite3.h>.  Every statement is a
 * constant string, prepared here, with its inputs bound as parameters.
 * SQLite results other than OK/ROW/DONE become GBA_EIO (GBA_ENOMEM for
 * SQLITE_NOMEM); a constraint on a primary key becomes GBA_EDUP.
 *
 * Schema version 1 (PRAGMA user_version):
 *   meta(name PK, value)          "keycheck": a sealed constant that
 *                                 proves the key file fits the database
 *   subscribers(impi PK, k_sealed, opc_sealed, amf, sqn, lifetime_s,
 *               guss_json)
 *   challenges(nonce PK, impi, rand, autn, sealed, expires)
 *                                 sealed = XRES || CK || IK
 *   bootstraps(btid PK, impi UNIQUE, rand, ks_sealed, created, expires,
 *              guss_json)
 * with indexes on challenges(expires), challenges(impi) and
 * bootstraps(expires).  No foreign keys: the BSF tables are also used
 * with a remote HSS, where the subscribers table is empty.
 *
 * Schema version 2 adds the CA's records (not secret, so not sealed):
 *   certificates(serial PK, ca, impi, app_id, policy_sha256, spki_sha256,
 *                issued_at, not_before, not_after, status, reason,
 *                revoked_at, invalidity_date, der)
 *   cmc_nonces(nonce PK, expires)
 *   pending(token PK, impi, app_id, state, created, expires, serial,
 *           blob)                 serial is NULL until state ISSUED
 * with indexes on certificates(impi, app_id, issued_at),
 * certificates(spki_sha256), cmc_nonces(expires) and pending(expires).
 * Schema version 3 adds revocation (issue 6):
 *   revocation_log(seq INTEGER PK AUTOINCREMENT, ca, serial, status,
 *                  reason, changed_at)
 *                                 one row per status change, written in
 *                                 the transaction that makes it; the
 *                                 last seq is the change counter
 *   crls(ca PK, crl_number, epoch, this_update, next_update, der)
 *                                 each CA's current CRL
 * with indexes on revocation_log(ca, seq), certificates(ca, serial) for
 * the revoked and held rows only, and certificates(ca, not_after).
 * Versions 1 and 2 are upgraded in place; certificates already revoked
 * or held get their log rows then.
 *
 * Schema version 4 adds certificates.confirm_by: 0, or the time until
 * which the CA waits for the subscriber's confirmCertAcceptance.
 * Older databases are upgraded in place when they are opened.
 *
 * Schema version 5 adds the CCM outbox (issue 7; new tables only):
 *   ccm_outbox(id PK AUTOINCREMENT, msg_id UNIQUE, impi, app_id, seq,
 *              action, ref, state, created, expires, body, der)
 *              UNIQUE(impi, seq); der is NULL until first sent
 *   ccm_seq(impi PK, seq)         the last sequence number per IMPI
 *   ccm_installed(serial PK, acked)   certificates whose install CCM
 *                                 was acknowledged
 * with indexes on ccm_outbox(expires) and ccm_outbox(ref).  AUTOINCREMENT
 * keeps ids growing across deletes, which the change poll relies on.
 * Each step runs in order on older databases.
 *
 * A sealed column is gba_aead_seal output (nonce || ciphertext || tag)
 * whose associated data (struct ad below) is a label naming the column
 * followed by the row's identity and every other column that is written
 * once, so a sealed value moved to another row or column, or a row whose
 * plaintext columns were edited, fails to open (GBA_EIO: corrupt).
 *
 * Transactions that read and then write (the SQN update, replacing a
 * bootstrap context, take) use BEGIN IMMEDIATE, so that with several
 * daemons on one file the write lock is taken up front and the busy
 * timeout applies (a deferred transaction could fail with
 * SQLITE_BUSY_SNAPSHOT instead of waiting).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_store.h"

#define SCHEMA_VERSION  5
#define BUSY_TIMEOUT_MS 5000
#define SEAL_OVERHEAD   (GBA_AEAD_NONCE_LEN + GBA_AEAD_TAG_LEN)
#define SEALED_MAX      (GBA_SECRET_MAX + SEAL_OVERHEAD)
#define CHAL_SECRET_LEN (GBA_AKA_RES_LEN + 16u + 16u)   /* XRES || CK || IK */
#define KS_LEN          32u
#define NONCE_MAX       (sizeof(((struct gba_challenge *)0)->nonce) - 1u)
#define SQN_MAX         ((UINT64_C(1) << 48) - 1u)
#define SQN_IND_BITS    5u
#define AD_MAX          1024u

static const char keycheck_plain[] = "gbacert store key check v1";

struct gba_store {
	sqlite3 *db;
	uint8_t key[GBA_STORE_KEY_LEN];
	sqlite3_stmt *epoch_stmt;   /* gba_store_status_epoch, kept prepared */
};

struct hss_sqlite {
	struct gba_hss base;   /* first: the ops get a struct gba_hss * */
	struct gba_store *st;
};

/* ---- small helpers ---- */

static int db_err(int rc)
{
	if ((rc & 0xff) == SQLITE_NOMEM)
		return GBA_ENOMEM;
	return GBA_EIO;
}

/* A printable-ASCII identity of 1..max characters (IMPI, B-TID, nonce). */
static int id_check(const char *s, size_t max, size_t *lenp)
{
	size_t i, len;

	if (s == NULL)
		return GBA_EINVAL;
	len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return GBA_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return GBA_EINVAL;
	}
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

static int guss_check(const char *g, size_t *lenp)
{
	size_t len;

	if (g == NULL) {
		*lenp = 0;
		return 0;
	}
	len = strnlen(g, GBA_MAX_GUSS_LEN + 1);
	if (len > GBA_MAX_GUSS_LEN)
		return GBA_ETOOBIG;
	*lenp = len;
	return 0;
}

/* Run constant SQL (one or more statements, no parameters, rows
 * ignored). */
static int exec_fixed(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	const char *tail = sql;
	int rc, ret = 0;

	while (tail != NULL && *tail != '\0') {
		rc = sqlite3_prepare_v2(db, tail, -1, &s, &tail);
		if (rc != SQLITE_OK) {
			ret = db_err(rc);
			goto out;
		}
		if (s == NULL)   /* trailing white space or comment */
			break;
		do
			rc = sqlite3_step(s);
		while (rc == SQLITE_ROW);
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
out:
	sqlite3_finalize(s);
	return ret;
}

static int prep(struct gba_store *st, const char *sql, sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	return rc == SQLITE_OK ? 0 : db_err(rc);
}

static int begin(struct gba_store *st)
{
	return exec_fixed(st->db, "BEGIN IMMEDIATE");
}

static int commit(struct gba_store *st)
{
	return exec_fixed(st->db, "COMMIT");
}

/* Roll back the transaction this function began (after an error, or
 * when COMMIT itself failed); callers track whether they began one, so
 * an error never rolls back someone else's. */
static void rollback(struct gba_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)exec_fixed(st->db, "ROLLBACK");
}

static int bind_str(sqlite3_stmt *s, int idx, const char *p, size_t len)
{
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(s, idx, p, (int)len, SQLITE_STATIC);
}

static int bind_blob(sqlite3_stmt *s, int idx, const void *p, size_t len)
{
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(s, idx, p, (int)len, SQLITE_STATIC);
}

/* Copy a BLOB column of exactly len bytes; GBA_EIO (corrupt) if it is
 * anything else. */
static int col_blob(sqlite3_stmt *s, int i, void *out, size_t len)
{
	const void *p;

	if (sqlite3_column_type(s, i) != SQLITE_BLOB)
		return GBA_EIO;
	p = sqlite3_column_blob(s, i);
	if (p == NULL)
		return GBA_ENOMEM;
	if ((size_t)sqlite3_column_bytes(s, i) != len)
		return GBA_EIO;
	memcpy(out, p, len);
	return 0;
}

/* Borrow a TEXT column of at most max bytes with no NUL inside. */
static int col_text(sqlite3_stmt *s, int i, size_t max, const char **p, size_t *len)
{
	const unsigned char *t;
	int n;

	if (sqlite3_column_type(s, i) != SQLITE_TEXT)
		return GBA_EIO;
	t = sqlite3_column_text(s, i);
	if (t == NULL)
		return GBA_ENOMEM;
	n = sqlite3_column_bytes(s, i);
	if (n < 0 || (size_t)n > max || memchr(t, '\0', (size_t)n) != NULL)
		return GBA_EIO;
	*p = (const char *)t;
	*len = (size_t)n;
	return 0;
}

static int col_int(sqlite3_stmt *s, int i, int64_t min, int64_t max, int64_t *v)
{
	if (sqlite3_column_type(s, i) != SQLITE_INTEGER)
		return GBA_EIO;
	*v = sqlite3_column_int64(s, i);
	if (*v < min || *v > max)
		return GBA_EIO;
	return 0;
}

/* ---- associated data and sealing ---- */

struct ad {
	uint8_t b[AD_MAX];
	size_t len;
	int err;
};

static void ad_put(struct ad *a, const void *p, size_t len)
{
	if (a->err != 0)
		return;
	if (len > AD_MAX - a->len) {
		a->err = GBA_EINTERNAL;
		return;
	}
	memcpy(a->b + a->len, p, len);
	a->len += len;
}

/* A string and its NUL: the identities contain no NUL, so the fields
 * cannot run into each other. */
static void ad_str(struct ad *a, const char *s)
{
	ad_put(a, s, strlen(s) + 1);
}

static void ad_u64(struct ad *a, uint64_t v)
{
	uint8_t b[8];
	size_t i;

	for (i = 8; i > 0; i--) {
		b[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	ad_put(a, b, sizeof(b));
}

static void ad_hash(struct ad *a, const char *g, size_t len)
{
	uint8_t h[GBA_SHA256_LEN];
	int ret;

	if (a->err != 0)
		return;
	ret = gba_hash_fast(GBA_HASH_SHA256, g != NULL ? g : "", len, h);
	if (ret < 0) {
		a->err = ret;
		return;
	}
	ad_put(a, h, sizeof(h));
}

static void ad_subscriber(struct ad *a, const char *label, const char *impi,
                          const uint8_t amf[2], uint32_t lifetime_s, const char *guss,
                          size_t guss_len)
{
	a->len = 0;
	a->err = 0;
	ad_str(a, label);
	ad_str(a, impi);
	ad_put(a, amf, 2);
	ad_u64(a, lifetime_s);
	ad_hash(a, guss, guss_len);
}

static void ad_challenge(struct ad *a, const struct gba_challenge *c)
{
	a->len = 0;
	a->err = 0;
	ad_str(a, "gbacert.chal");
	ad_str(a, c->nonce);
	ad_str(a, c->impi);
	ad_put(a, c->av.rand, sizeof(c->av.rand));
	ad_put(a, c->av.autn, sizeof(c->av.autn));
	ad_u64(a, (uint64_t)c->expires);
}

static void ad_bootstrap(struct ad *a, const struct gba_bootstrap *b, const char *guss,
                         size_t guss_len)
{
	a->len = 0;
	a->err = 0;
	ad_str(a, "gbacert.bs");
	ad_str(a, b->btid);
	ad_str(a, b->impi);
	ad_put(a, b->rand, sizeof(b->rand));
	ad_u64(a, (uint64_t)b->created);
	ad_u64(a, (uint64_t)b->expires);
	ad_hash(a, guss, guss_len);
}

static int seal(const struct gba_store *st, const struct ad *a, const uint8_t *in,
                size_t len, uint8_t out[SEALED_MAX])
{
	int ret;

	if (a->err != 0)
		return a->err;
	if (len > GBA_SECRET_MAX)
		return GBA_EINTERNAL;
	ret = gba_aead_seal(st->key, a->b, a->len, in, len, out, SEALED_MAX);
	if (ret < 0)
		return ret;
	return (size_t)ret == len + SEAL_OVERHEAD ? 0 : GBA_EINTERNAL;
}

/* Open a sealed column of exactly len plaintext bytes; a value that does
 * not authenticate (tampered, moved, wrong key) is GBA_EIO. */
static int unseal_buf(const struct gba_store *st, const struct ad *a, const uint8_t *sealed,
                      uint8_t *out, size_t len)
{
	int ret;

	if (a->err != 0)
		return a->err;
	if (len > GBA_SECRET_MAX)
		return GBA_EINTERNAL;
	ret = gba_aead_open(st->key, a->b, a->len, sealed, len + SEAL_OVERHEAD, out, len);
	if (ret == GBA_EAUTH)
		return GBA_EIO;
	if (ret < 0)
		return ret;
	if ((size_t)ret != len) {
		gba_wipe(out, len);
		return GBA_EIO;
	}
	return 0;
}

/* The same, reading the sealed value from column col of s. */
static int unseal(const struct gba_store *st, const struct ad *a, sqlite3_stmt *s, int col,
                  uint8_t *out, size_t len)
{
	uint8_t sealed[SEALED_MAX];
	int ret;

	if (len > GBA_SECRET_MAX)
		return GBA_EINTERNAL;
	ret = col_blob(s, col, sealed, len + SEAL_OVERHEAD);
	if (ret < 0)
		return ret;
	return unseal_buf(st, a, sealed, out, len);
}

/* ---- key file ---- */

/* The directory part of path ("." when none), for fsync after link. */
static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	int fd = -1, ret = 0;

	if (slash == NULL)
		dir = gba_strndup(".", 1);
	else if (slash == path)
		dir = gba_strndup("/", 1);
	else
		dir = gba_strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return GBA_ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		ret = GBA_EIO;
	if (fd >= 0)
		close(fd);
	gba_free(dir);
	return ret;
}

/*
 * Create key_path with 32 random bytes, mode 0600, atomically: the key is
 * written and synced to a mkstemp file which is then link()ed to its
 * name, so a concurrent opener sees either no file or the whole key.  If
 * another process won the race, its key stands and this returns 0.
 */
static int key_create(const char *path)
{
	static const char suffix[] = ".tmpXXXXXX";
	uint8_t key[GBA_STORE_KEY_LEN];
	char *tmp = NULL;
	size_t plen = strlen(path), off = 0;
	int fd = -1, ret;
	ssize_t n;

	if (plen > PATH_MAX) {
		ret = GBA_EINVAL;
		goto out;
	}
	tmp = gba_malloc(plen + sizeof(suffix));
	if (tmp == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	ret = gba_rnd(GBA_RND_KEY, key, sizeof(key));
	if (ret < 0)
		goto out;
	fd = mkstemp(tmp);   /* mode 0600 */
	if (fd < 0) {
		gba_free(tmp);
		tmp = NULL;
		ret = GBA_EIO;
		goto out;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
		ret = GBA_EIO;
		goto out;
	}
	while (off < sizeof(key)) {
		n = write(fd, key + off, sizeof(key) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = GBA_EIO;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		ret = GBA_EIO;
		goto out;
	}
	if (link(tmp, path) != 0 && errno != EEXIST) {
		ret = GBA_EIO;
		goto out;
	}
	ret = fsync_dir_of(path);
out:
	gba_wipe(key, sizeof(key));
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		gba_free(tmp);
	}
	return ret;
}

/* Read the 32-byte key; the file must be regular, exactly 32 bytes and
 * have no group/other permissions.  GBA_ENOTFOUND if it does not exist. */
static int key_load(const char *path, uint8_t key[GBA_STORE_KEY_LEN])
{
	uint8_t buf[GBA_STORE_KEY_LEN + 1];
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? GBA_ENOTFOUND : GBA_EIO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0 || sb.st_size != GBA_STORE_KEY_LEN) {
		ret = GBA_EIO;
		goto out;
	}
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = GBA_EIO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != GBA_STORE_KEY_LEN) {
		ret = GBA_EIO;
		goto out;
	}
	memcpy(key, buf, GBA_STORE_KEY_LEN);
out:
	gba_wipe(buf, sizeof(buf));
	close(fd);
	return ret;
}

/* ---- open, schema, migration ---- */

static const char schema_v1[] =
	"CREATE TABLE meta("
	" name TEXT PRIMARY KEY NOT NULL,"
	" value BLOB NOT NULL);"
	"CREATE TABLE subscribers("
	" impi TEXT PRIMARY KEY NOT NULL CHECK(length(impi) BETWEEN 1 AND 255),"
	" k_sealed BLOB NOT NULL,"
	" opc_sealed BLOB NOT NULL,"
	" amf BLOB NOT NULL CHECK(length(amf) = 2),"
	" sqn INTEGER NOT NULL CHECK(sqn BETWEEN 0 AND 281474976710655),"
	" lifetime_s INTEGER NOT NULL CHECK(lifetime_s BETWEEN 0 AND 4294967295),"
	" guss_json TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE challenges("
	" nonce TEXT PRIMARY KEY NOT NULL,"
	" impi TEXT NOT NULL,"
	" rand BLOB NOT NULL,"
	" autn BLOB NOT NULL,"
	" sealed BLOB NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX challenges_expires ON challenges(expires);"
	"CREATE INDEX challenges_impi ON challenges(impi);"
	"CREATE TABLE bootstraps("
	" btid TEXT PRIMARY KEY NOT NULL,"
	" impi TEXT NOT NULL UNIQUE,"
	" rand BLOB NOT NULL,"
	" ks_sealed BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" guss_json TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX bootstraps_expires ON bootstraps(expires);"
	"PRAGMA user_version = 1;";

/* Version 1 -> 2: the CA's tables. */
static const char schema_v2[] =
	"CREATE TABLE certificates("
	" serial BLOB PRIMARY KEY NOT NULL CHECK(length(serial) BETWEEN 1 AND 20),"
	" ca TEXT NOT NULL CHECK(length(ca) BETWEEN 1 AND 64),"
	" impi TEXT NOT NULL CHECK(length(impi) BETWEEN 1 AND 255),"
	" app_id TEXT NOT NULL CHECK(length(app_id) BETWEEN 1 AND 253),"
	" policy_sha256 BLOB NOT NULL CHECK(length(policy_sha256) = 32),"
	" spki_sha256 BLOB NOT NULL CHECK(length(spki_sha256) = 32),"
	" issued_at INTEGER NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" status INTEGER NOT NULL CHECK(status BETWEEN 0 AND 2),"
	" reason INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" invalidity_date INTEGER NOT NULL DEFAULT 0,"
	" der BLOB NOT NULL CHECK(length(der) BETWEEN 1 AND 16384));"
	"CREATE INDEX certificates_impi_app ON certificates(impi, app_id, issued_at);"
	"CREATE INDEX certificates_spki ON certificates(spki_sha256);"
	"CREATE TABLE cmc_nonces("
	" nonce BLOB PRIMARY KEY NOT NULL CHECK(length(nonce) BETWEEN 1 AND 64),"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX cmc_nonces_expires ON cmc_nonces(expires);"
	"CREATE TABLE pending("
	" token BLOB PRIMARY KEY NOT NULL CHECK(length(token) = 16),"
	" impi TEXT NOT NULL CHECK(length(impi) BETWEEN 1 AND 255),"
	" app_id TEXT NOT NULL CHECK(length(app_id) BETWEEN 1 AND 253),"
	" state INTEGER NOT NULL CHECK(state BETWEEN 0 AND 3),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" serial BLOB CHECK(serial IS NULL OR length(serial) BETWEEN 1 AND 20),"
	" blob BLOB NOT NULL CHECK(length(blob) BETWEEN 1 AND 32768));"
	"CREATE INDEX pending_expires ON pending(expires);"
	"PRAGMA user_version = 2;";

/* Version 2 -> 3: revocation.  Rows already revoked or held (possible
 * only through gba_store_cmc_commit) get their log rows. */
static const char schema_v3[] =
	"CREATE TABLE revocation_log("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" ca TEXT NOT NULL CHECK(length(ca) BETWEEN 1 AND 64),"
	" serial BLOB NOT NULL CHECK(length(serial) BETWEEN 1 AND 20),"
	" status INTEGER NOT NULL CHECK(status BETWEEN 0 AND 2),"
	" reason INTEGER NOT NULL CHECK(reason BETWEEN 0 AND 10),"
	" changed_at INTEGER NOT NULL);"
	"CREATE INDEX revocation_log_ca ON revocation_log(ca, seq);"
	"CREATE TABLE crls("
	" ca TEXT PRIMARY KEY NOT NULL CHECK(length(ca) BETWEEN 1 AND 64),"
	" crl_number INTEGER NOT NULL CHECK(crl_number >= 1),"
	" epoch INTEGER NOT NULL CHECK(epoch >= 0),"
	" this_update INTEGER NOT NULL,"
	" next_update INTEGER NOT NULL,"
	" der BLOB NOT NULL CHECK(length(der) BETWEEN 1 AND 268435456));"
	"CREATE INDEX certificates_revoked ON certificates(ca, serial) WHERE status != 0;"
	"CREATE INDEX certificates_ca_after ON certificates(ca, not_after);"
	"INSERT INTO revocation_log(ca, serial, status, reason, changed_at)"
	" SELECT ca, serial, status, reason, revoked_at FROM certificates"
	" WHERE status != 0 ORDER BY revoked_at, serial;"
	"PRAGMA user_version = 3;";

/* Version 3 -> 4: certificates awaiting confirmCertAcceptance. */
static const char schema_v4[] =
	"ALTER TABLE certificates ADD COLUMN confirm_by INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 4;";

/* Version 4 -> 5: the CCM outbox. */
static const char schema_v5[] =
	"CREATE TABLE ccm_outbox("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" msg_id BLOB NOT NULL UNIQUE CHECK(length(msg_id) = 16),"
	" impi TEXT NOT NULL CHECK(length(impi) BETWEEN 1 AND 255),"
	" app_id TEXT NOT NULL CHECK(length(app_id) BETWEEN 1 AND 253),"
	" seq INTEGER NOT NULL CHECK(seq >= 1),"
	" action INTEGER NOT NULL CHECK(action BETWEEN 0 AND 5),"
	" ref BLOB CHECK(ref IS NULL OR length(ref) BETWEEN 1 AND 32),"
	" state INTEGER NOT NULL CHECK(state BETWEEN 0 AND 2),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" body BLOB NOT NULL CHECK(length(body) BETWEEN 1 AND 65536),"
	" der BLOB CHECK(der IS NULL OR length(der) BETWEEN 1 AND 65536),"
	" UNIQUE(impi, seq));"
	"CREATE INDEX ccm_outbox_expires ON ccm_outbox(expires);"
	"CREATE INDEX ccm_outbox_ref ON ccm_outbox(ref);"
	"CREATE TABLE ccm_seq("
	" impi TEXT PRIMARY KEY NOT NULL CHECK(length(impi) BETWEEN 1 AND 255),"
	" seq INTEGER NOT NULL CHECK(seq >= 1));"
	"CREATE TABLE ccm_installed("
	" serial BLOB PRIMARY KEY NOT NULL CHECK(length(serial) BETWEEN 1 AND 20),"
	" acked INTEGER NOT NULL);"
	"PRAGMA user_version = 5;";

static void ad_keycheck(struct ad *a)
{
	a->len = 0;
	a->err = 0;
	ad_str(a, "gbacert.meta.keycheck");
}

static int keycheck_write(struct gba_store *st)
{
	sqlite3_stmt *s = NULL;
	uint8_t sealed[SEALED_MAX];
	struct ad a;
	int rc, ret;

	ad_keycheck(&a);
	ret = seal(st, &a, (const uint8_t *)keycheck_plain, sizeof(keycheck_plain) - 1, sealed);
	if (ret < 0)
		goto out;
	ret = prep(st, "INSERT INTO meta(name, value) VALUES('keycheck', ?1)", &s);
	if (ret < 0)
		goto out;
	rc = bind_blob(s, 1, sealed, sizeof(keycheck_plain) - 1 + SEAL_OVERHEAD);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	ret = rc == SQLITE_DONE ? 0 : db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

static int keycheck_verify(struct gba_store *st)
{
	sqlite3_stmt *s = NULL;
	uint8_t plain[sizeof(keycheck_plain) - 1];
	struct ad a;
	int rc, ret;

	ret = prep(st, "SELECT value FROM meta WHERE name = 'keycheck'", &s);
	if (ret < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_EIO : db_err(rc);
		goto out;
	}
	ad_keycheck(&a);
	ret = unseal(st, &a, s, 0, plain, sizeof(plain));
	if (ret == GBA_EIO)
		ret = GBA_EAUTH;   /* the key does not fit this database */
	else if (ret == 0 && !gba_ct_equal(plain, keycheck_plain, sizeof(plain)))
		ret = GBA_EAUTH;
out:
	sqlite3_finalize(s);
	return ret;
}

static int query_int(struct gba_store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st, sql, &s);
	if (ret < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_EIO : db_err(rc);
		goto out;
	}
	*v = sqlite3_column_int64(s, 0);
out:
	sqlite3_finalize(s);
	return ret;
}

/*
 * Under the write lock: a database at user_version 0 with no tables is
 * new (create the key if missing, then schema v1); versions 1 to 5 need
 * their existing key; anything else is refused.  Then each upgrade step
 * up to SCHEMA_VERSION runs, in the same transaction, so a concurrent
 * opener sees either the old or the new schema.
 */
static int migrate(struct gba_store *st, const char *key_path)
{
	int64_t ver = 0, ntables = 0;
	int ret, txn = 0;

	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = query_int(st, "PRAGMA user_version", &ver);
	if (ret < 0)
		goto out;
	if (ver == 0) {
		ret = query_int(st, "SELECT count(*) FROM sqlite_master", &ntables);
		if (ret < 0)
			goto out;
		if (ntables != 0) {   /* someone else's database */
			ret = GBA_EUNSUPP;
			goto out;
		}
		ret = key_load(key_path, st->key);
		if (ret == GBA_ENOTFOUND) {
			ret = key_create(key_path);
			if (ret == 0)
				ret = key_load(key_path, st->key);
		}
		if (ret < 0)
			goto out;
		ret = exec_fixed(st->db, schema_v1);
		if (ret < 0)
			goto out;
		ret = keycheck_write(st);
		if (ret < 0)
			goto out;
		ver = 1;
	} else if (ver >= 1 && ver <= SCHEMA_VERSION) {
		ret = key_load(key_path, st->key);
		if (ret == GBA_ENOTFOUND)
			ret = GBA_EIO;   /* never make a new key for old data */
		if (ret < 0)
			goto out;
		ret = keycheck_verify(st);
		if (ret < 0)
			goto out;
	} else {
		ret = GBA_EUNSUPP;
		goto out;
	}
	if (ver == 1) {
		ret = exec_fixed(st->db, schema_v2);
		if (ret < 0)
			goto out;
		ver = 2;
	}
	if (ver == 2) {
		ret = exec_fixed(st->db, schema_v3);
		if (ret < 0)
			goto out;
		ver = 3;
	}
	if (ver == 3) {
		ret = exec_fixed(st->db, schema_v4);
		if (ret < 0)
			goto out;
		ver = 4;
	}
	if (ver == 4) {
		ret = exec_fixed(st->db, schema_v5);
		if (ret < 0)
			goto out;
	}
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	if (txn)
		rollback(st);
	return ret;
}

/* Connection settings.  journal_mode must be set outside a transaction
 * and reports the mode it ended in. */
static int configure_db(struct gba_store *st)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc, ret;

	sqlite3_extended_result_codes(st->db, 1);
	rc = sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	ret = exec_fixed(st->db,
	                 "PRAGMA secure_delete = ON;"
	                 "PRAGMA foreign_keys = ON;"
	                 "PRAGMA synchronous = FULL;");
	if (ret < 0)
		goto out;
	ret = prep(st, "PRAGMA journal_mode = WAL", &s);
	if (ret < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = db_err(rc);
		goto out;
	}
	mode = sqlite3_column_text(s, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
		ret = GBA_EIO;
out:
	sqlite3_finalize(s);
	return ret;
}

int gba_store_open(struct gba_store **out, const char *path, const char *key_path)
{
	struct gba_store *st = NULL;
	int fd, rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	*out = NULL;
	if (path == NULL || key_path == NULL || *path == '\0' || *key_path == '\0')
		return GBA_EINVAL;
	st = gba_calloc(1, sizeof(*st));
	if (st == NULL)
		return GBA_ENOMEM;
	/* SQLite would create the file with the umask's mode; the database
	 * holds IMPIs and GUSS in clear, so make it 0600.  SQLite gives the
	 * -wal and -shm files the mode of the database. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST) {
		ret = GBA_EIO;
		goto out;
	}
	rc = sqlite3_open_v2(path, &st->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	                     NULL);
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	ret = configure_db(st);
	if (ret < 0)
		goto out;
	ret = migrate(st, key_path);
	if (ret < 0)
		goto out;
	*out = st;
	st = NULL;
out:
	gba_store_close(st);
	return ret;
}

void gba_store_close(struct gba_store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->epoch_stmt);   /* NULL is a no-op */
	sqlite3_close_v2(st->db);   /* NULL is a no-op */
	gba_wipe(st->key, sizeof(st->key));
	gba_free(st);
}

/* ---- subscribers ---- */

/* The row for impi, under the caller's transaction (or none).  guss_json
 * is copied only when want_guss; K and OPc are always opened, which also
 * authenticates AMF, lifetime and GUSS. */
static int sub_read(struct gba_store *st, const char *impi, int want_guss,
                    struct gba_subscriber *out)
{
	sqlite3_stmt *s = NULL;
	const char *guss = NULL;
	size_t impi_len = 0, guss_len = 0;
	uint8_t k[16], opc[16];
	int64_t sqn = 0, lifetime = 0;
	struct ad a;
	int rc, ret;

	memset(out, 0, sizeof(*out));
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		goto out;
	ret = prep(st,
	           "SELECT k_sealed, opc_sealed, amf, sqn, lifetime_s, guss_json"
	           " FROM subscribers WHERE impi = ?1",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = col_blob(s, 2, out->amf, sizeof(out->amf));
	if (ret == 0)
		ret = col_int(s, 3, 0, (int64_t)SQN_MAX, &sqn);
	if (ret == 0)
		ret = col_int(s, 4, 0, (int64_t)UINT32_MAX, &lifetime);
	if (ret == 0)
		ret = col_text(s, 5, GBA_MAX_GUSS_LEN, &guss, &guss_len);
	if (ret < 0)
		goto out;
	ad_subscriber(&a, "gbacert.sub.k", impi, out->amf, (uint32_t)lifetime, guss, guss_len);
	ret = unseal(st, &a, s, 0, k, sizeof(k));
	if (ret < 0)
		goto out;
	ad_subscriber(&a, "gbacert.sub.opc", impi, out->amf, (uint32_t)lifetime, guss, guss_len);
	ret = unseal(st, &a, s, 1, opc, sizeof(opc));
	if (ret < 0)
		goto out;
	if (want_guss) {
		out->guss_json = gba_strndup(guss, guss_len);
		if (out->guss_json == NULL) {
			ret = GBA_ENOMEM;
			goto out;
		}
	}
	memcpy(out->impi, impi, impi_len + 1);
	ret = gba_secret_set(&out->k, k, sizeof(k));
	if (ret == 0)
		ret = gba_secret_set(&out->opc, opc, sizeof(opc));
	gba_sqn_put((uint64_t)sqn, out->sqn);
	out->lifetime_s = (uint32_t)lifetime;
out:
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	gba_wipe(&a, sizeof(a));
	sqlite3_finalize(s);
	if (ret < 0)
		gba_subscriber_clear(out);
	return ret;
}

/* Insert one subscriber (no transaction of its own). */
static int sub_insert(struct gba_store *st, const struct gba_subscriber *sub)
{
	sqlite3_stmt *s = NULL;
	uint8_t k_sealed[SEALED_MAX], opc_sealed[SEALED_MAX];
	size_t impi_len = 0, guss_len = 0;
	const char *guss;
	struct ad a;
	int rc, ret;

	if (sub == NULL)
		return GBA_EINVAL;
	ret = id_check(sub->impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		goto out;
	if (sub->k.len != GBA_AKA_K_LEN || sub->opc.len != GBA_AKA_K_LEN) {
		ret = GBA_EINVAL;
		goto out;
	}
	ret = guss_check(sub->guss_json, &guss_len);
	if (ret < 0)
		goto out;
	guss = sub->guss_json != NULL ? sub->guss_json : "";
	ad_subscriber(&a, "gbacert.sub.k", sub->impi, sub->amf, sub->lifetime_s, guss, guss_len);
	ret = seal(st, &a, sub->k.b, GBA_AKA_K_LEN, k_sealed);
	if (ret < 0)
		goto out;
	ad_subscriber(&a, "gbacert.sub.opc", sub->impi, sub->amf, sub->lifetime_s, guss, guss_len);
	ret = seal(st, &a, sub->opc.b, GBA_AKA_K_LEN, opc_sealed);
	if (ret < 0)
		goto out;
	ret = prep(st,
	           "INSERT INTO subscribers(impi, k_sealed, opc_sealed, amf, sqn, lifetime_s,"
	           " guss_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, sub->impi, impi_len);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 2, k_sealed, GBA_AKA_K_LEN + SEAL_OVERHEAD);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 3, opc_sealed, GBA_AKA_K_LEN + SEAL_OVERHEAD);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 4, sub->amf, sizeof(sub->amf));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)gba_sqn_get(sub->sqn));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, (sqlite3_int64)sub->lifetime_s);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 7, guss, guss_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		ret = GBA_EDUP;
	else if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

int gba_store_subscriber_add(struct gba_store *st, const struct gba_subscriber *s)
{
	if (st == NULL)
		return GBA_EINVAL;
	return sub_insert(st, s);
}

int gba_store_subscriber_import(struct gba_store *st,
                                int (*next)(void *ctx, struct gba_subscriber *s),
                                void *ctx, size_t *count)
{
	struct gba_subscriber sub;
	size_t n = 0;
	int ret, txn = 0;

	memset(&sub, 0, sizeof(sub));
	if (count != NULL)
		*count = 0;
	if (st == NULL || next == NULL || count == NULL)
		return GBA_EINVAL;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	for (;;) {
		gba_subscriber_clear(&sub);
		ret = next(ctx, &sub);
		if (ret <= 0)
			break;
		ret = sub_insert(st, &sub);
		if (ret < 0)
			break;
		n++;
	}
	if (ret < 0)
		goto out;
	ret = commit(st);
	if (ret == 0) {
		txn = 0;
		*count = n;
	}
out:
	gba_subscriber_clear(&sub);
	if (txn)
		rollback(st);
	return ret;
}

int gba_store_subscriber_get(struct gba_store *st, const char *impi, struct gba_subscriber *out)
{
	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return GBA_EINVAL;
	return sub_read(st, impi, 1, out);
}

int gba_store_subscriber_remove(struct gba_store *st, const char *impi)
{
	static const char *const sql[] = {
		"DELETE FROM subscribers WHERE impi = ?1",
		"DELETE FROM challenges WHERE impi = ?1",
		"DELETE FROM bootstraps WHERE impi = ?1",
	};
	sqlite3_stmt *s = NULL;
	size_t impi_len = 0, i;
	int rc, ret, txn = 0;

	if (st == NULL)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		ret = prep(st, sql[i], &s);
		if (ret < 0)
			goto out;
		rc = bind_str(s, 1, impi, impi_len);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
		if (i == 0 && sqlite3_changes(st->db) == 0) {
			ret = GBA_ENOTFOUND;
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	return ret;
}

int gba_store_subscriber_list(struct gba_store *st,
                              int (*fn)(void *ctx, const char *impi), void *ctx)
{
	sqlite3_stmt *s = NULL;
	const char *impi = NULL;
	size_t len = 0;
	int rc, ret;

	if (st == NULL || fn == NULL)
		return GBA_EINVAL;
	ret = prep(st, "SELECT impi FROM subscribers ORDER BY impi", &s);
	if (ret < 0)
		goto out;
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		ret = col_text(s, 0, GBA_MAX_IMPI_LEN, &impi, &len);
		if (ret < 0)
			goto out;
		ret = fn(ctx, impi);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- HSS emulator ---- */

static int hss_generate_av(struct gba_hss *h, const char *impi, const uint8_t auts_rand[16],
                           const uint8_t auts[14], struct gba_aka_vector *av)
{
	struct hss_sqlite *hs = (struct hss_sqlite *)h;
	struct gba_store *st = NULL;
	struct gba_subscriber sub;
	sqlite3_stmt *s = NULL;
	uint8_t rand[GBA_AKA_RAND_LEN], sqn_ms[GBA_AKA_SQN_LEN], sqn[GBA_AKA_SQN_LEN];
	uint64_t seq;
	size_t impi_len = 0;
	int rc, ret, txn = 0;

	memset(&sub, 0, sizeof(sub));
	if (av == NULL)
		return GBA_EINVAL;
	memset(av, 0, sizeof(*av));
	if (hs == NULL || (auts == NULL) != (auts_rand == NULL))
		return GBA_EINVAL;
	st = hs->st;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		goto out;
	ret = gba_rnd(GBA_RND_NONCE, rand, sizeof(rand));
	if (ret < 0)
		goto out;
	/* Read, advance and write SQN_HE under the write lock: two handles
	 * (threads, daemons) never hand out the same SQN. */
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = sub_read(st, impi, 0, &sub);
	if (ret < 0)
		goto out;
	memcpy(sqn, sub.sqn, sizeof(sqn));
	if (auts != NULL) {
		ret = gba_milenage_auts_check(sub.k.b, sub.opc.b, auts_rand, auts, sqn_ms);
		if (ret < 0)
			goto out;
		memcpy(sqn, sqn_ms, sizeof(sqn));
	}
	seq = gba_sqn_get(sqn) >> SQN_IND_BITS;
	if (seq >= (SQN_MAX >> SQN_IND_BITS)) {
		ret = GBA_ESYNC;
		goto out;
	}
	gba_sqn_put((seq + 1) << SQN_IND_BITS, sqn);
	ret = prep(st, "UPDATE subscribers SET sqn = ?1 WHERE impi = ?2", &s);
	if (ret < 0)
		goto out;
	rc = sqlite3_bind_int64(s, 1, (sqlite3_int64)gba_sqn_get(sqn));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	/* Durable before use: a vector is only made from a committed SQN. */
	sqlite3_finalize(s);
	s = NULL;
	ret = commit(st);
	if (ret < 0)
		goto out;
	txn = 0;
	ret = gba_milenage_vector(sub.k.b, sub.opc.b, rand, sqn, sub.amf, av);
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	gba_subscriber_clear(&sub);
	if (ret < 0)
		gba_wipe(av, sizeof(*av));
	return ret;
}

static int hss_get_guss(struct gba_hss *h, const char *impi, uint32_t *lifetime_s,
                        char **guss_json)
{
	struct hss_sqlite *hs = (struct hss_sqlite *)h;
	struct gba_subscriber sub;
	int ret;

	if (guss_json != NULL)
		*guss_json = NULL;
	if (hs == NULL || lifetime_s == NULL || guss_json == NULL)
		return GBA_EINVAL;
	*lifetime_s = 0;
	ret = sub_read(hs->st, impi, 1, &sub);
	if (ret < 0)
		return ret;
	*lifetime_s = sub.lifetime_s;
	*guss_json = sub.guss_json;
	sub.guss_json = NULL;
	gba_subscriber_clear(&sub);
	return 0;
}

static void hss_close(struct gba_hss *h)
{
	struct hss_sqlite *hs = (struct hss_sqlite *)h;

	if (hs == NULL)
		return;
	gba_store_close(hs->st);
	gba_free(hs);
}

static const struct gba_hss_ops hss_sqlite_ops = {
	.generate_av = hss_generate_av,
	.get_guss = hss_get_guss,
	.close = hss_close,
};

int gba_hss_sqlite_open(struct gba_hss **out, const char *path, const char *key_path)
{
	struct hss_sqlite *hs = NULL;
	int ret;

	if (out == NULL)
		return GBA_EINVAL;
	*out = NULL;
	hs = gba_calloc(1, sizeof(*hs));
	if (hs == NULL)
		return GBA_ENOMEM;
	hs->base.ops = &hss_sqlite_ops;
	ret = gba_store_open(&hs->st, path, key_path);
	if (ret < 0) {
		gba_free(hs);
		return ret;
	}
	*out = &hs->base;
	return 0;
}

/* ---- challenges ---- */

int gba_store_challenge_put(struct gba_store *st, const struct gba_challenge *c)
{
	sqlite3_stmt *s = NULL;
	uint8_t plain[CHAL_SECRET_LEN], sealed[SEALED_MAX];
	size_t nonce_len = 0, impi_len = 0;
	struct ad a;
	int rc, ret;

	if (st == NULL || c == NULL)
		return GBA_EINVAL;
	ret = id_check(c->nonce, NONCE_MAX, &nonce_len);
	if (ret == 0)
		ret = id_check(c->impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	memcpy(plain, c->av.xres, 8);
	memcpy(plain + 8, c->av.ck, 16);
	memcpy(plain + 24, c->av.ik, 16);
	ad_challenge(&a, c);
	ret = seal(st, &a, plain, sizeof(plain), sealed);
	if (ret < 0)
		goto out;
	ret = prep(st,
	           "INSERT INTO challenges(nonce, impi, rand, autn, sealed, expires)"
	           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, c->nonce, nonce_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, c->impi, impi_len);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 3, c->av.rand, sizeof(c->av.rand));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 4, c->av.autn, sizeof(c->av.autn));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 5, sealed, sizeof(plain) + SEAL_OVERHEAD);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, c->expires);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		ret = GBA_EDUP;
	else if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	gba_wipe(plain, sizeof(plain));
	sqlite3_finalize(s);
	return ret;
}

/*
 * Select the row only if it belongs to impi and is live, then delete it,
 * in one write transaction: two takers of the same nonce cannot both see
 * it.  The row is deleted before it is opened, so a corrupt row is gone
 * too (and reported as GBA_EIO).
 */
int gba_store_challenge_take(struct gba_store *st, const char *nonce, const char *impi,
                             int64_t now, struct gba_challenge *out)
{
	sqlite3_stmt *s = NULL;
	uint8_t plain[CHAL_SECRET_LEN], sealed[CHAL_SECRET_LEN + SEAL_OVERHEAD];
	size_t nonce_len = 0, impi_len = 0;
	int64_t expires = 0;
	struct ad a;
	int rc, ret, shape, txn = 0;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return GBA_EINVAL;
	ret = id_check(nonce, NONCE_MAX, &nonce_len);
	if (ret == 0)
		ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = prep(st,
	           "SELECT rand, autn, sealed, expires FROM challenges"
	           " WHERE nonce = ?1 AND impi = ?2 AND expires > ?3",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, nonce, nonce_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	/* Copy the row out before it is deleted. */
	shape = col_blob(s, 0, out->av.rand, sizeof(out->av.rand));
	if (shape == 0)
		shape = col_blob(s, 1, out->av.autn, sizeof(out->av.autn));
	if (shape == 0)
		shape = col_blob(s, 2, sealed, sizeof(sealed));
	if (shape == 0)
		shape = col_int(s, 3, INT64_MIN, INT64_MAX, &expires);
	if (shape == GBA_ENOMEM) {
		ret = shape;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	ret = prep(st, "DELETE FROM challenges WHERE nonce = ?1", &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, nonce, nonce_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	ret = commit(st);
	if (ret < 0)
		goto out;
	txn = 0;
	if (shape < 0) {   /* deleted anyway: the row was unusable */
		ret = shape;
		goto out;
	}
	memcpy(out->nonce, nonce, nonce_len + 1);
	memcpy(out->impi, impi, impi_len + 1);
	out->expires = expires;
	ad_challenge(&a, out);
	ret = unseal_buf(st, &a, sealed, plain, sizeof(plain));
	if (ret < 0)
		goto out;
	memcpy(out->av.xres, plain, 8);
	memcpy(out->av.ck, plain + 8, 16);
	memcpy(out->av.ik, plain + 24, 16);
out:
	gba_wipe(plain, sizeof(plain));
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	if (ret < 0)
		gba_challenge_clear(out);
	return ret;
}

/* ---- bootstrap contexts ---- */

int gba_store_bootstrap_put(struct gba_store *st, const struct gba_bootstrap *b)
{
	sqlite3_stmt *s = NULL;
	uint8_t sealed[SEALED_MAX];
	size_t btid_len = 0, impi_len = 0, guss_len = 0;
	const char *guss;
	struct ad a;
	int rc, ret, txn = 0;

	if (st == NULL || b == NULL)
		return GBA_EINVAL;
	ret = id_check(b->btid, GBA_MAX_BTID_LEN, &btid_len);
	if (ret == 0)
		ret = id_check(b->impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret == 0 && b->ks.len != KS_LEN)
		ret = GBA_EINVAL;
	if (ret == 0)
		ret = guss_check(b->guss_json, &guss_len);
	if (ret < 0)
		return ret;
	guss = b->guss_json != NULL ? b->guss_json : "";
	ad_bootstrap(&a, b, guss, guss_len);
	ret = seal(st, &a, b->ks.b, KS_LEN, sealed);
	if (ret < 0)
		goto out;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = prep(st, "DELETE FROM bootstraps WHERE impi = ?1 OR btid = ?2", &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, b->impi, impi_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, b->btid, btid_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	ret = prep(st,
	           "INSERT INTO bootstraps(btid, impi, rand, ks_sealed, created, expires,"
	           " guss_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, b->btid, btid_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, b->impi, impi_len);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 3, b->rand, sizeof(b->rand));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 4, sealed, KS_LEN + SEAL_OVERHEAD);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, b->created);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, b->expires);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 7, guss, guss_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	return ret;
}

int gba_store_bootstrap_get(struct gba_store *st, const char *btid, int64_t now,
                            struct gba_bootstrap *out)
{
	sqlite3_stmt *s = NULL;
	const char *guss = NULL, *impi = NULL;
	size_t btid_len = 0, impi_len = 0, guss_len = 0;
	uint8_t ks[KS_LEN];
	int64_t created = 0, expires = 0;
	struct ad a;
	int rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return GBA_EINVAL;
	ret = id_check(btid, GBA_MAX_BTID_LEN, &btid_len);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           "SELECT impi, rand, ks_sealed, created, expires, guss_json"
	           " FROM bootstraps WHERE btid = ?1 AND expires > ?2",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, btid, btid_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = col_text(s, 0, GBA_MAX_IMPI_LEN, &impi, &impi_len);
	if (ret == 0 && id_check(impi, GBA_MAX_IMPI_LEN, NULL) != 0)
		ret = GBA_EIO;
	if (ret == 0)
		ret = col_blob(s, 1, out->rand, sizeof(out->rand));
	if (ret == 0)
		ret = col_int(s, 3, INT64_MIN, INT64_MAX, &created);
	if (ret == 0)
		ret = col_int(s, 4, INT64_MIN, INT64_MAX, &expires);
	if (ret == 0)
		ret = col_text(s, 5, GBA_MAX_GUSS_LEN, &guss, &guss_len);
	if (ret < 0)
		goto out;
	memcpy(out->btid, btid, btid_len + 1);
	memcpy(out->impi, impi, impi_len);
	out->impi[impi_len] = '\0';
	out->created = created;
	out->expires = expires;
	ad_bootstrap(&a, out, guss, guss_len);
	ret = unseal(st, &a, s, 2, ks, sizeof(ks));
	if (ret < 0)
		goto out;
	ret = gba_secret_set(&out->ks, ks, sizeof(ks));
	if (ret < 0)
		goto out;
	out->guss_json = gba_strndup(guss, guss_len);
	if (out->guss_json == NULL)
		ret = GBA_ENOMEM;
out:
	gba_wipe(ks, sizeof(ks));
	sqlite3_finalize(s);
	if (ret < 0)
		gba_bootstrap_clear(out);
	return ret;
}

int gba_store_purge(struct gba_store *st, int64_t now)
{
	static const char *const sql[] = {
		"DELETE FROM challenges WHERE expires <= ?1",
		"DELETE FROM bootstraps WHERE expires <= ?1",
		"DELETE FROM cmc_nonces WHERE expires <= ?1",
		"DELETE FROM pending WHERE expires <= ?1 AND state <> 3",   /* 3: ISSUED */
	};
	sqlite3_stmt *s = NULL;
	int64_t n = 0;
	size_t i;
	int rc, ret, txn = 0;

	if (st == NULL)
		return GBA_EINVAL;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		ret = prep(st, sql[i], &s);
		if (ret < 0)
			goto out;
		rc = sqlite3_bind_int64(s, 1, now);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
		n += sqlite3_changes(st->db);
		sqlite3_finalize(s);
		s = NULL;
	}
	ret = commit(st);
	if (ret == 0) {
		txn = 0;
		ret = n > INT_MAX ? INT_MAX : (int)n;
	}
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	return ret;
}

/* ---- the CA's records (issue 5) ---- */

#define CERT_COLS                                                                  \
	"serial, ca, impi, app_id, policy_sha256, spki_sha256, issued_at, not_before," \
	" not_after, status, reason, revoked_at, invalidity_date, der, confirm_by"
#define PENDING_COLS "token, impi, app_id, state, created, expires, serial, blob"
#define CRL_REASON_MAX 10   /* aACompromise (RFC 5280 5.3.1) */

/* Status changes (issue 6, below). */
static int log_append(struct gba_store *st, const char *ca, const uint8_t *serial,
                      size_t serial_len, int status, int reason, int64_t at);
static int revocation_check(const struct gba_revocation *r);
static int status_apply(struct gba_store *st, const struct gba_revocation *r,
                        int (*before)(void *ctx, const struct gba_cert_record *cur, const struct gba_ccm_out **ccm), void *ctx,
                        struct gba_cert_record *out);


/* 1..GBA_STORE_MAX_CA printable ASCII characters, spaces allowed. */
static int ca_check(const char *s, size_t *lenp)
{
	size_t i, len;

	if (s == NULL)
		return GBA_EINVAL;
	len = strnlen(s, GBA_STORE_MAX_CA + 1);
	if (len == 0 || len > GBA_STORE_MAX_CA)
		return GBA_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return GBA_EINVAL;
	}
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

/* The content octets of a non-negative DER INTEGER, 1..20 octets and
 * minimal, so that equal numbers are equal BLOBs (the uniqueness of
 * the primary key is then the uniqueness of the serial number). */
static int serial_check(const uint8_t *serial, size_t len)
{
	if (serial == NULL || len == 0 || len > GBA_STORE_MAX_SERIAL)
		return GBA_EINVAL;
	if ((serial[0] & 0x80) != 0)
		return GBA_EINVAL;
	if (len > 1 && serial[0] == 0 && (serial[1] & 0x80) == 0)
		return GBA_EINVAL;
	return 0;
}

static int cert_check(const struct gba_cert_record *r)
{
	int ret;

	if (r == NULL)
		return GBA_EINVAL;
	ret = serial_check(r->serial, r->serial_len);
	if (ret == 0)
		ret = ca_check(r->ca, NULL);
	if (ret == 0)
		ret = id_check(r->impi, GBA_MAX_IMPI_LEN, NULL);
	if (ret == 0)
		ret = id_check(r->app_id, GBA_STORE_MAX_APP, NULL);
	if (ret < 0)
		return ret;
	if (r->status < GBA_CERT_VALID || r->status > GBA_CERT_HOLD || r->reason < 0 ||
	    r->reason > CRL_REASON_MAX || r->revoked_at < 0 || r->invalidity_date < 0 ||
	    r->confirm_by < 0 || r->not_before > r->not_after)
		return GBA_EINVAL;
	if (r->der == NULL || r->der_len == 0 || r->der_len > GBA_STORE_MAX_CERT)
		return GBA_EINVAL;
	return 0;
}

static int pending_check(const struct gba_pending *p)
{
	int ret;

	if (p == NULL)
		return GBA_EINVAL;
	ret = id_check(p->impi, GBA_MAX_IMPI_LEN, NULL);
	if (ret == 0)
		ret = id_check(p->app_id, GBA_STORE_MAX_APP, NULL);
	if (ret < 0)
		return ret;
	if (p->state < GBA_PENDING_WAITING || p->state > GBA_PENDING_ISSUED)
		return GBA_EINVAL;
	/* A serial exactly when issued. */
	if (p->state == GBA_PENDING_ISSUED)
		ret = serial_check(p->serial, p->serial_len);
	else if (p->serial_len != 0)
		ret = GBA_EINVAL;
	if (ret < 0)
		return ret;
	if (p->blob == NULL || p->blob_len == 0 || p->blob_len > GBA_STORE_MAX_PENDING)
		return GBA_EINVAL;
	return 0;
}

static int ccm_out_check(const struct gba_ccm_out *m);
static int ccm_insert(struct gba_store *st, const struct gba_ccm_out *m);

/* Everything about t that can be checked without the database. */
static int txn_check(const struct gba_cmc_txn *t)
{
	size_t i;
	int ret;

	if (t == NULL)
		return GBA_EINVAL;
	if (t->nonce != NULL && (t->nonce_len == 0 || t->nonce_len > GBA_STORE_MAX_NONCE))
		return GBA_EINVAL;
	if ((t->ncerts > 0 && t->certs == NULL) || (t->npend_new > 0 && t->pend_new == NULL))
		return GBA_EINVAL;
	if (t->pend_issued != NULL && t->ncerts == 0)
		return GBA_EINVAL;   /* the serial comes from certs[0] */
	if (t->nconfirm > 0 && t->confirm == NULL)
		return GBA_EINVAL;
	for (i = 0; i < t->nconfirm; i++) {
		ret = serial_check(t->confirm[i].serial, t->confirm[i].serial_len);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < t->ncerts; i++) {
		ret = cert_check(&t->certs[i]);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < t->npend_new; i++) {
		ret = pending_check(&t->pend_new[i]);
		if (ret < 0)
			return ret;
	}
	if (t->nrevocations > 0 && t->revocations == NULL)
		return GBA_EINVAL;
	for (i = 0; i < t->nrevocations; i++) {
		ret = revocation_check(&t->revocations[i]);
		if (ret < 0)
			return ret;
	}
	if (t->nccms > 0 && t->ccms == NULL)
		return GBA_EINVAL;
	for (i = 0; i < t->nccms; i++) {
		ret = ccm_out_check(&t->ccms[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Step an INSERT or UPDATE prepared in s to completion; a primary key
 * collision is dup_code.  Finalizes s. */
static int step_done(sqlite3_stmt *s, int rc, int dup_code)
{
	int ret = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		ret = dup_code;
	else if (rc != SQLITE_DONE)
		ret = db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

static int nonce_insert(struct gba_store *st, const struct gba_cmc_txn *t)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st, "INSERT INTO cmc_nonces(nonce, expires) VALUES(?1, ?2)", &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, t->nonce, t->nonce_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, t->nonce_expires);
	return step_done(s, rc, GBA_EREPLAY);
}

static int cert_insert(struct gba_store *st, const struct gba_cert_record *r)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st,
	           "INSERT INTO certificates(" CERT_COLS ")"
	           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, r->serial, r->serial_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, r->ca, strlen(r->ca));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 3, r->impi, strlen(r->impi));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 4, r->app_id, strlen(r->app_id));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 5, r->policy_sha256, sizeof(r->policy_sha256));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 6, r->spki_sha256, sizeof(r->spki_sha256));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 7, r->issued_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 8, r->not_before);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 9, r->not_after);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 10, r->status);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 11, r->reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 12, r->revoked_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 13, r->invalidity_date);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 14, r->der, r->der_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 15, r->confirm_by);
	ret = step_done(s, rc, GBA_EDUP);
	if (ret == 0 && r->status != GBA_CERT_VALID)   /* the change counter moves */
		ret = log_append(st, r->ca, r->serial, r->serial_len, r->status, r->reason,
		                 r->revoked_at);
	return ret;
}

static int pending_insert(struct gba_store *st, const struct gba_pending *p)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st,
	           "INSERT INTO pending(" PENDING_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, p->token, sizeof(p->token));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, p->impi, strlen(p->impi));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 3, p->app_id, strlen(p->app_id));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 4, p->state);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, p->created);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, p->expires);
	if (rc == SQLITE_OK)
		rc = p->serial_len != 0 ? bind_blob(s, 7, p->serial, p->serial_len)
		                        : sqlite3_bind_null(s, 7);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 8, p->blob, p->blob_len);
	return step_done(s, rc, GBA_EDUP);
}

/* APPROVED -> ISSUED with the serial; GBA_ENOTFOUND when the token is
 * unknown or in any other state. */
static int pending_issue(struct gba_store *st, const uint8_t *token,
                         const struct gba_cert_record *c)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st,
	           "UPDATE pending SET state = 3, serial = ?2 WHERE token = ?1 AND state = 1",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, token, GBA_STORE_TOKEN_LEN);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 2, c->serial, c->serial_len);
	ret = step_done(s, rc, GBA_EIO);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = GBA_ENOTFOUND;
	return ret;
}

/* confirmCertAcceptance: the certificate no longer awaits it.  Already
 * confirmed (or never asked) is no error; an unknown serial is. */
static int cert_confirm(struct gba_store *st, const struct gba_cert_ref *c)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st, "UPDATE certificates SET confirm_by = 0 WHERE serial = ?1", &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, c->serial, c->serial_len);
	ret = step_done(s, rc, GBA_EIO);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = GBA_ENOTFOUND;
	return ret;
}

/* The writes of one checked transaction, under the caller's savepoint.
 * The nonce goes first, so a replay is GBA_EREPLAY whatever else the
 * request carries. */
static int txn_apply(struct gba_store *st, const struct gba_cmc_txn *t)
{
	size_t i;
	int ret = 0;

	if (t->nonce != NULL)
		ret = nonce_insert(st, t);
	for (i = 0; ret == 0 && i < t->ncerts; i++)
		ret = cert_insert(st, &t->certs[i]);
	for (i = 0; ret == 0 && i < t->npend_new; i++)
		ret = pending_insert(st, &t->pend_new[i]);
	if (ret == 0 && t->pend_issued != NULL)
		ret = pending_issue(st, t->pend_issued, &t->certs[0]);
	for (i = 0; ret == 0 && i < t->nconfirm; i++)
		ret = cert_confirm(st, &t->confirm[i]);
	for (i = 0; ret == 0 && i < t->nccms; i++)
		ret = ccm_insert(st, &t->ccms[i]);
	for (i = 0; ret == 0 && i < t->nrevocations; i++)
		ret = status_apply(st, &t->revocations[i], NULL, NULL, NULL);
	return ret;
}

int gba_store_cmc_commit_batch(struct gba_store *st, const struct gba_cmc_txn *const *txns,
                               size_t n, int *results)
{
	size_t i;
	int r, ret = 0, txn = 0;

	if (results == NULL)
		return GBA_EINVAL;
	if (st == NULL || (txns == NULL && n > 0)) {
		ret = GBA_EINVAL;
		goto out;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		results[i] = txn_check(txns[i]);
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	for (i = 0; i < n; i++) {
		if (results[i] < 0)
			continue;
		ret = exec_fixed(st->db, "SAVEPOINT cmc_txn");
		if (ret < 0)
			goto out;
		r = txn_apply(st, txns[i]);
		if (r == 0) {
			ret = exec_fixed(st->db, "RELEASE cmc_txn");
			if (ret < 0)
				goto out;
			continue;
		}
		if (sqlite3_get_autocommit(st->db)) {
			/* SQLite rolled the whole transaction back (I/O error,
			 * disk full, ...): nothing of the batch stands. */
			txn = 0;
			ret = r;
			goto out;
		}
		ret = exec_fixed(st->db, "ROLLBACK TO cmc_txn; RELEASE cmc_txn");
		if (ret < 0)
			goto out;
		results[i] = r;
	}
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	if (txn)
		rollback(st);
	if (ret < 0)
		for (i = 0; i < n; i++)
			results[i] = ret;
	return ret;
}

int gba_store_cmc_commit(struct gba_store *st, const struct gba_cmc_txn *t)
{
	int r = 0, ret;

	ret = gba_store_cmc_commit_batch(st, &t, 1, &r);
	return ret < 0 ? ret : r;
}

/* A BLOB column of min..max bytes. */
static int col_blob_var(sqlite3_stmt *s, int i, size_t min, size_t max, const uint8_t **p,
                        size_t *len)
{
	int n;

	if (sqlite3_column_type(s, i) != SQLITE_BLOB)
		return GBA_EIO;
	*p = sqlite3_column_blob(s, i);
	if (*p == NULL)
		return GBA_ENOMEM;
	n = sqlite3_column_bytes(s, i);
	if (n < 0 || (size_t)n < min || (size_t)n > max)
		return GBA_EIO;
	*len = (size_t)n;
	return 0;
}

/* A TEXT column that passes check (id_check's rule with max, or the CA
 * name rule), copied NUL-terminated into out[max + 1]. */
static int col_id(sqlite3_stmt *s, int i, size_t max, int is_ca, char *out)
{
	const char *t = NULL;
	size_t len = 0;
	int ret;

	ret = col_text(s, i, max, &t, &len);
	if (ret < 0)
		return ret;
	memcpy(out, t, len);
	out[len] = '\0';
	ret = is_ca ? ca_check(out, NULL) : id_check(out, max, NULL);
	return ret < 0 ? GBA_EIO : 0;
}

/* One certificates row (CERT_COLS) into *r.  der is copied with
 * gba_malloc when copy_der, else borrowed from the statement (valid
 * until its next step). */
static int cert_row(sqlite3_stmt *s, struct gba_cert_record *r, int copy_der)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int64_t v[7];
	int i, ret;

	ret = col_blob_var(s, 0, 1, GBA_STORE_MAX_SERIAL, &p, &len);
	if (ret < 0)
		return ret;
	memcpy(r->serial, p, len);
	r->serial_len = len;
	ret = col_id(s, 1, GBA_STORE_MAX_CA, 1, r->ca);
	if (ret == 0)
		ret = col_id(s, 2, GBA_MAX_IMPI_LEN, 0, r->impi);
	if (ret == 0)
		ret = col_id(s, 3, GBA_STORE_MAX_APP, 0, r->app_id);
	if (ret == 0)
		ret = col_blob(s, 4, r->policy_sha256, sizeof(r->policy_sha256));
	if (ret == 0)
		ret = col_blob(s, 5, r->spki_sha256, sizeof(r->spki_sha256));
	for (i = 0; ret == 0 && i < 7; i++)
		ret = col_int(s, 6 + i, INT64_MIN, INT64_MAX, &v[i]);
	if (ret < 0)
		return ret;
	if (v[3] < GBA_CERT_VALID || v[3] > GBA_CERT_HOLD || v[4] < 0 || v[4] > CRL_REASON_MAX)
		return GBA_EIO;
	r->issued_at = v[0];
	r->not_before = v[1];
	r->not_after = v[2];
	r->status = (int)v[3];
	r->reason = (int)v[4];
	r->revoked_at = v[5];
	r->invalidity_date = v[6];
	ret = col_int(s, 14, 0, INT64_MAX, &r->confirm_by);
	if (ret == 0)
		ret = col_blob_var(s, 13, 1, GBA_STORE_MAX_CERT, &p, &len);
	if (ret < 0)
		return ret;
	if (copy_der) {
		r->der = gba_malloc(len);
		if (r->der == NULL)
			return GBA_ENOMEM;
		memcpy(r->der, p, len);
	} else {
		r->der = (uint8_t *)(uintptr_t)p;   /* borrowed, never written */
	}
	r->der_len = len;
	return 0;
}

int gba_store_cert_get(struct gba_store *st, const uint8_t *serial, size_t serial_len,
                       struct gba_cert_record *out)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return GBA_EINVAL;
	ret = serial_check(serial, serial_len);
	if (ret < 0)
		return ret;
	ret = prep(st, "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1", &s);
	if (ret < 0)
		goto out;
	rc = bind_blob(s, 1, serial, serial_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = cert_row(s, out, 1);
out:
	sqlite3_finalize(s);
	if (ret < 0)
		gba_cert_record_clear(out);
	return ret;
}

/* count(*) of a query on (impi, app_id, t). */
static int cert_count(struct gba_store *st, const char *sql, const char *impi,
                      const char *app_id, int64_t t, uint32_t *count)
{
	sqlite3_stmt *s = NULL;
	size_t impi_len = 0, app_len = 0;
	int64_t n = 0;
	int rc, ret;

	if (count == NULL)
		return GBA_EINVAL;
	*count = 0;
	if (st == NULL)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret == 0)
		ret = id_check(app_id, GBA_STORE_MAX_APP, &app_len);
	if (ret < 0)
		return ret;
	ret = prep(st, sql, &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, app_id, app_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, t);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = db_err(rc);
		goto out;
	}
	ret = col_int(s, 0, 0, INT64_MAX, &n);
	if (ret < 0)
		goto out;
	*count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
out:
	sqlite3_finalize(s);
	return ret;
}

/* not_after is inclusive (RFC 5280 4.1.2.5): valid while now <= not_after. */
int gba_store_cert_count_active(struct gba_store *st, const char *impi, const char *app_id,
                                int64_t now, uint32_t *count)
{
	return cert_count(st,
	                  "SELECT count(*) FROM certificates WHERE impi = ?1 AND app_id = ?2"
	                  " AND status = 0 AND not_after >= ?3",
	                  impi, app_id, now, count);
}

int gba_store_cert_count_since(struct gba_store *st, const char *impi, const char *app_id,
                               int64_t since, uint32_t *count)
{
	return cert_count(st,
	                  "SELECT count(*) FROM certificates WHERE impi = ?1 AND app_id = ?2"
	                  " AND issued_at >= ?3",
	                  impi, app_id, since, count);
}

int gba_store_cert_list(struct gba_store *st, const char *impi,
                        int (*fn)(void *ctx, const struct gba_cert_record *r), void *ctx)
{
	sqlite3_stmt *s = NULL;
	struct gba_cert_record r;
	size_t impi_len = 0;
	int rc = SQLITE_OK, ret;

	if (st == NULL || fn == NULL)
		return GBA_EINVAL;
	if (impi != NULL) {
		ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
		if (ret < 0)
			return ret;
		ret = prep(st,
		           "SELECT " CERT_COLS " FROM certificates WHERE impi = ?1"
		           " ORDER BY issued_at DESC, serial DESC",
		           &s);
		if (ret == 0)
			rc = bind_str(s, 1, impi, impi_len);
	} else {
		ret = prep(st,
		           "SELECT " CERT_COLS " FROM certificates ORDER BY issued_at DESC, serial DESC",
		           &s);
	}
	if (ret < 0)
		goto out;
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		memset(&r, 0, sizeof(r));
		ret = cert_row(s, &r, 0);
		if (ret < 0)
			goto out;
		ret = fn(ctx, &r);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

/* One pending row (PENDING_COLS) into *p; blob copied or borrowed as in
 * cert_row. */
static int pending_row(sqlite3_stmt *s, struct gba_pending *p, int copy_blob)
{
	const uint8_t *b = NULL;
	size_t len = 0;
	int64_t state = 0;
	int ret;

	ret = col_blob(s, 0, p->token, sizeof(p->token));
	if (ret == 0)
		ret = col_id(s, 1, GBA_MAX_IMPI_LEN, 0, p->impi);
	if (ret == 0)
		ret = col_id(s, 2, GBA_STORE_MAX_APP, 0, p->app_id);
	if (ret == 0)
		ret = col_int(s, 3, GBA_PENDING_WAITING, GBA_PENDING_ISSUED, &state);
	if (ret == 0)
		ret = col_int(s, 4, INT64_MIN, INT64_MAX, &p->created);
	if (ret == 0)
		ret = col_int(s, 5, INT64_MIN, INT64_MAX, &p->expires);
	if (ret < 0)
		return ret;
	p->state = (int)state;
	if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
		ret = col_blob_var(s, 6, 1, GBA_STORE_MAX_SERIAL, &b, &len);
		if (ret < 0)
			return ret;
		memcpy(p->serial, b, len);
		p->serial_len = len;
	}
	if ((p->state == GBA_PENDING_ISSUED) != (p->serial_len != 0))
		return GBA_EIO;
	ret = col_blob_var(s, 7, 1, GBA_STORE_MAX_PENDING, &b, &len);
	if (ret < 0)
		return ret;
	if (copy_blob) {
		p->blob = gba_malloc(len);
		if (p->blob == NULL)
			return GBA_ENOMEM;
		memcpy(p->blob, b, len);
	} else {
		p->blob = (uint8_t *)(uintptr_t)b;   /* borrowed, never written */
	}
	p->blob_len = len;
	return 0;
}

int gba_store_pending_get(struct gba_store *st, const uint8_t token[GBA_STORE_TOKEN_LEN],
                          struct gba_pending *out)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL || token == NULL)
		return GBA_EINVAL;
	ret = prep(st, "SELECT " PENDING_COLS " FROM pending WHERE token = ?1", &s);
	if (ret < 0)
		goto out;
	rc = bind_blob(s, 1, token, GBA_STORE_TOKEN_LEN);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = pending_row(s, out, 1);
out:
	sqlite3_finalize(s);
	if (ret < 0)
		gba_pending_clear(out);
	return ret;
}

int gba_store_pending_set_state(struct gba_store *st, const uint8_t token[GBA_STORE_TOKEN_LEN],
                                int from, int to)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (st == NULL || token == NULL)
		return GBA_EINVAL;
	/* ISSUED needs a serial: only a CMC transaction (pend_issued) sets
	 * it, and it is final. */
	if (from < GBA_PENDING_WAITING || from >= GBA_PENDING_ISSUED ||
	    to < GBA_PENDING_WAITING || to >= GBA_PENDING_ISSUED)
		return GBA_EINVAL;
	ret = prep(st, "UPDATE pending SET state = ?3 WHERE token = ?1 AND state = ?2", &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, token, GBA_STORE_TOKEN_LEN);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, from);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 3, to);
	ret = step_done(s, rc, GBA_EIO);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = GBA_ENOTFOUND;
	return ret;
}

int gba_store_pending_list(struct gba_store *st,
                           int (*fn)(void *ctx, const struct gba_pending *p), void *ctx)
{
	sqlite3_stmt *s = NULL;
	struct gba_pending p;
	int rc, ret;

	if (st == NULL || fn == NULL)
		return GBA_EINVAL;
	ret = prep(st, "SELECT " PENDING_COLS " FROM pending ORDER BY created, token", &s);
	if (ret < 0)
		goto out;
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		memset(&p, 0, sizeof(p));
		ret = pending_row(s, &p, 0);
		if (ret < 0)
			goto out;
		ret = fn(ctx, &p);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- revocation (issue 6) ---- */

#define REASON_HOLD 6   /* certificateHold */

int gba_store_revoke_reason_ok(int reason)
{
	switch (reason) {
	case 0:   /* unspecified */
	case 1:   /* keyCompromise */
	case 2:   /* cACompromise */
	case 3:   /* affiliationChanged */
	case 4:   /* superseded */
	case 5:   /* cessationOfOperation */
	case 9:   /* privilegeWithdrawn */
		return 1;
	default:
		return 0;
	}
}

/* Append one change-log row (the change counter moves by one). */
static int log_append(struct gba_store *st, const char *ca, const uint8_t *serial,
                      size_t serial_len, int status, int reason, int64_t at)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st,
	           "INSERT INTO revocation_log(ca, serial, status, reason, changed_at)"
	           " VALUES(?1, ?2, ?3, ?4, ?5)",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, ca, strlen(ca));
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 2, serial, serial_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 3, status);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 4, reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, at);
	return step_done(s, rc, GBA_EIO);
}

/* What can be checked about a change without the database. */
static int revocation_check(const struct gba_revocation *r)
{
	int ret;

	if (r == NULL)
		return GBA_EINVAL;
	ret = serial_check(r->serial, r->serial_len);
	if (ret == 0 && r->impi != NULL)
		ret = id_check(r->impi, GBA_MAX_IMPI_LEN, NULL);
	if (ret < 0)
		return ret;
	switch (r->op) {
	case GBA_STATUS_REVOKE:
		if (!gba_store_revoke_reason_ok(r->reason) || r->at <= 0 ||
		    r->invalidity_date < 0 || r->invalidity_date > r->at)
			return GBA_EINVAL;
		return 0;
	case GBA_STATUS_HOLD:
		return r->at > 0 ? 0 : GBA_EINVAL;
	case GBA_STATUS_UNHOLD:
		return 0;
	default:
		return GBA_EINVAL;
	}
}

/*
 * The rules of gba_store_cert_set_status under the caller's write
 * transaction: read the row, check ownership and the transition, call
 * before, write the row and its log row.  On success *out (if not NULL)
 * gets the record after the change, der copied.
 */
static int status_apply(struct gba_store *st, const struct gba_revocation *r,
                        int (*before)(void *ctx, const struct gba_cert_record *cur, const struct gba_ccm_out **ccm), void *ctx,
                        struct gba_cert_record *out)
{
	sqlite3_stmt *s = NULL;
	struct gba_cert_record cur;
	const struct gba_ccm_out *ccm;
	int rc, ret, old_status, log_reason;
	int64_t changed_at;

	memset(&cur, 0, sizeof(cur));
	ret = revocation_check(r);
	if (ret < 0)
		return ret;
	ret = prep(st, "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1", &s);
	if (ret < 0)
		goto out;
	rc = bind_blob(s, 1, r->serial, r->serial_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = cert_row(s, &cur, 1);
	sqlite3_finalize(s);
	s = NULL;
	if (ret < 0)
		goto out;
	/* ownership first: another subscriber learns nothing of the state */
	if (r->impi != NULL && strcmp(cur.impi, r->impi) != 0) {
		ret = GBA_EAUTH;
		goto out;
	}
	old_status = cur.status;
	switch (r->op) {
	case GBA_STATUS_REVOKE:
		if (old_status == GBA_CERT_REVOKED) {
			ret = GBA_ESTATE;
			goto out;
		}
		break;
	case GBA_STATUS_HOLD:
		if (old_status != GBA_CERT_VALID) {
			ret = GBA_ESTATE;
			goto out;
		}
		break;
	default:   /* GBA_STATUS_UNHOLD */
		if (old_status != GBA_CERT_HOLD) {
			ret = GBA_ESTATE;
			goto out;
		}
		break;
	}
	ccm = r->ccm;
	if (before != NULL) {
		ret = before(ctx, &cur, &ccm);
		if (ret != 0)
			goto out;
	}
	if (ccm != NULL) {
		ret = ccm_out_check(ccm);
		if (ret < 0)
			goto out;
	}
	switch (r->op) {
	case GBA_STATUS_REVOKE:
		cur.status = GBA_CERT_REVOKED;
		cur.reason = r->reason;
		if (old_status == GBA_CERT_VALID)   /* a hold keeps its time */
			cur.revoked_at = r->at;
		cur.invalidity_date = r->invalidity_date;
		changed_at = r->at;
		break;
	case GBA_STATUS_HOLD:
		cur.status = GBA_CERT_HOLD;
		cur.reason = REASON_HOLD;
		cur.revoked_at = r->at;
		cur.invalidity_date = 0;
		changed_at = r->at;
		break;
	default:
		cur.status = GBA_CERT_VALID;
		cur.reason = 0;
		changed_at = r->at > 0 ? r->at : cur.revoked_at;
		cur.revoked_at = 0;
		cur.invalidity_date = 0;
		break;
	}
	log_reason = cur.reason;
	ret = prep(st,
	           "UPDATE certificates SET status = ?2, reason = ?3, revoked_at = ?4,"
	           " invalidity_date = ?5 WHERE serial = ?1 AND status = ?6",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_blob(s, 1, cur.serial, cur.serial_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, cur.status);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 3, cur.reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, cur.revoked_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, cur.invalidity_date);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 6, old_status);
	ret = step_done(s, rc, GBA_EIO);
	s = NULL;
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = GBA_EIO;   /* we hold the write lock: cannot happen */
	if (ret == 0)
		ret = log_append(st, cur.ca, cur.serial, cur.serial_len, cur.status, log_reason,
		                 changed_at);
	if (ret == 0 && ccm != NULL)
		ret = ccm_insert(st, ccm);
	if (ret == 0 && out != NULL) {
		*out = cur;
		memset(&cur, 0, sizeof(cur));   /* der now belongs to *out */
	}
out:
	sqlite3_finalize(s);
	gba_cert_record_clear(&cur);
	return ret;
}

int gba_store_cert_set_status(struct gba_store *st, const struct gba_revocation *r,
                              int (*before)(void *ctx, const struct gba_cert_record *cur, const struct gba_ccm_out **ccm),
                              void *ctx, struct gba_cert_record *out)
{
	int ret, txn = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || r == NULL)
		return GBA_EINVAL;
	ret = revocation_check(r);
	if (ret < 0)
		return ret;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = status_apply(st, r, before, ctx, out);
	if (ret != 0)
		goto out;
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	if (txn)
		rollback(st);
	if (ret != 0 && out != NULL)
		gba_cert_record_clear(out);
	return ret;
}

struct serial_list {
	uint8_t (*v)[GBA_STORE_MAX_SERIAL];
	size_t *len;
	size_t n, cap;
};

static void serial_list_free(struct serial_list *l)
{
	gba_free(l->v);
	gba_free(l->len);
	memset(l, 0, sizeof(*l));
}

static int serial_list_add(struct serial_list *l, const uint8_t *p, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : l->cap * 2;
		void *v, *n;

		if (cap > SIZE_MAX / GBA_STORE_MAX_SERIAL)
			return GBA_ETOOBIG;
		v = gba_realloc(l->v, cap * GBA_STORE_MAX_SERIAL);
		if (v == NULL)
			return GBA_ENOMEM;
		l->v = v;
		n = gba_realloc(l->len, cap * sizeof(size_t));
		if (n == NULL)
			return GBA_ENOMEM;
		l->len = n;
		l->cap = cap;
	}
	memcpy(l->v[l->n], p, len);
	l->len[l->n] = len;
	l->n++;
	return 0;
}

int gba_store_revoke_impi(struct gba_store *st, const char *impi, int reason, int64_t at,
                          int (*before)(void *ctx, const struct gba_cert_record *cur, const struct gba_ccm_out **ccm),
                          void *ctx, size_t *count)
{
	sqlite3_stmt *s = NULL;
	struct serial_list l;
	struct gba_revocation r;
	const uint8_t *p = NULL;
	size_t impi_len = 0, len = 0, i;
	int rc, ret, txn = 0;

	memset(&l, 0, sizeof(l));
	if (count == NULL)
		return GBA_EINVAL;
	*count = 0;
	if (st == NULL || !gba_store_revoke_reason_ok(reason) || at <= 0)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = prep(st,
	           "SELECT serial FROM certificates WHERE impi = ?1 AND status != 1 ORDER BY serial",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, impi, impi_len);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = col_blob_var(s, 0, 1, GBA_STORE_MAX_SERIAL, &p, &len);
		if (ret == 0)
			ret = serial_list_add(&l, p, len);
		if (ret < 0)
			goto out;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	memset(&r, 0, sizeof(r));
	r.op = GBA_STATUS_REVOKE;
	r.reason = reason;
	r.at = at;
	r.impi = impi;
	for (i = 0; i < l.n; i++) {
		r.serial = l.v[i];
		r.serial_len = l.len[i];
		ret = status_apply(st, &r, before, ctx, NULL);
		if (ret != 0)
			goto out;
	}
	ret = commit(st);
	if (ret == 0) {
		txn = 0;
		*count = l.n;
	}
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	serial_list_free(&l);
	return ret;
}

/* One integer from a prepared statement's single row; resets it. */
static int step_u64(sqlite3_stmt *s, uint64_t *v)
{
	int64_t x = 0;
	int rc, ret;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = col_int(s, 0, 0, INT64_MAX, &x);
	else
		ret = db_err(rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (ret == 0)
		*v = (uint64_t)x;
	return ret;
}

int gba_store_status_epoch(struct gba_store *st, uint64_t *epoch)
{
	int ret;

	if (st == NULL || epoch == NULL)
		return GBA_EINVAL;
	*epoch = 0;
	if (st->epoch_stmt == NULL) {
		ret = prep(st, "SELECT coalesce(max(seq), 0) FROM revocation_log", &st->epoch_stmt);
		if (ret < 0)
			return ret;
	}
	return step_u64(st->epoch_stmt, epoch);
}

static int ca_epoch(struct gba_store *st, const char *ca, size_t ca_len, uint64_t *epoch)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st, "SELECT coalesce(max(seq), 0) FROM revocation_log WHERE ca = ?1", &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, ca, ca_len);
	ret = rc == SQLITE_OK ? step_u64(s, epoch) : db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

int gba_store_ca_epoch(struct gba_store *st, const char *ca, uint64_t *epoch)
{
	size_t ca_len = 0;
	int ret;

	if (st == NULL || epoch == NULL)
		return GBA_EINVAL;
	*epoch = 0;
	ret = ca_check(ca, &ca_len);
	if (ret < 0)
		return ret;
	return ca_epoch(st, ca, ca_len, epoch);
}

int gba_store_status_changes(struct gba_store *st, uint64_t since,
                             int (*fn)(void *ctx, uint64_t seq, const char *ca,
                                       const uint8_t *serial, size_t serial_len),
                             void *ctx)
{
	sqlite3_stmt *s = NULL;
	char ca[GBA_STORE_MAX_CA + 1];
	const uint8_t *p = NULL;
	size_t len = 0;
	int64_t seq = 0;
	int rc, ret;

	if (st == NULL || fn == NULL || since > INT64_MAX)
		return GBA_EINVAL;
	ret = prep(st, "SELECT seq, ca, serial FROM revocation_log WHERE seq > ?1 ORDER BY seq", &s);
	if (ret < 0)
		return ret;
	rc = sqlite3_bind_int64(s, 1, (int64_t)since);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = col_int(s, 0, 1, INT64_MAX, &seq);
		if (ret == 0)
			ret = col_id(s, 1, GBA_STORE_MAX_CA, 1, ca);
		if (ret == 0)
			ret = col_blob_var(s, 2, 1, GBA_STORE_MAX_SERIAL, &p, &len);
		if (ret < 0)
			goto out;
		ret = fn(ctx, (uint64_t)seq, ca, p, len);
		if (ret != 0)
			goto out;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

/* Walk the rows of a prepared certificates query (CERT_COLS). */
static int cert_walk(sqlite3_stmt *s, int (*fn)(void *ctx, const struct gba_cert_record *r),
                     void *ctx)
{
	struct gba_cert_record r;
	int rc, ret;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		memset(&r, 0, sizeof(r));
		ret = cert_row(s, &r, 0);
		if (ret < 0)
			return ret;
		ret = fn(ctx, &r);
		if (ret != 0)
			return ret;
	}
	return rc == SQLITE_DONE ? 0 : db_err(rc);
}

int gba_store_revoked_list(struct gba_store *st, const char *ca, int64_t min_not_after,
                           int (*fn)(void *ctx, const struct gba_cert_record *r), void *ctx,
                           uint64_t *epoch)
{
	sqlite3_stmt *s = NULL;
	size_t ca_len = 0;
	int rc, ret, txn = 0;

	if (st == NULL || fn == NULL || epoch == NULL)
		return GBA_EINVAL;
	*epoch = 0;
	ret = ca_check(ca, &ca_len);
	if (ret < 0)
		return ret;
	/* one read transaction: the epoch and the list are one snapshot */
	ret = exec_fixed(st->db, "BEGIN");
	if (ret < 0)
		return ret;
	txn = 1;
	ret = ca_epoch(st, ca, ca_len, epoch);
	if (ret < 0)
		goto out;
	ret = prep(st,
	           "SELECT " CERT_COLS " FROM certificates WHERE ca = ?1 AND status != 0"
	           " AND not_after >= ?2 ORDER BY serial",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, ca, ca_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, min_not_after);
	ret = rc == SQLITE_OK ? cert_walk(s, fn, ctx) : db_err(rc);
	sqlite3_finalize(s);
	s = NULL;
	if (ret != 0)
		goto out;
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	if (txn)
		rollback(st);
	if (ret != 0)
		*epoch = 0;
	return ret;
}

int gba_store_cert_list_current(struct gba_store *st, const char *ca, int64_t now,
                                int (*fn)(void *ctx, const struct gba_cert_record *r),
                                void *ctx)
{
	sqlite3_stmt *s = NULL;
	size_t ca_len = 0;
	int rc, ret;

	if (st == NULL || fn == NULL)
		return GBA_EINVAL;
	ret = ca_check(ca, &ca_len);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           "SELECT " CERT_COLS " FROM certificates WHERE ca = ?1 AND not_after >= ?2"
	           " ORDER BY not_after, serial",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, ca, ca_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, now);
	ret = rc == SQLITE_OK ? cert_walk(s, fn, ctx) : db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

struct page_count {
	int (*fn)(void *ctx, const struct gba_cert_record *r);
	void *ctx;
	size_t n;
};

static int page_count_cb(void *ctx, const struct gba_cert_record *r)
{
	struct page_count *pc = ctx;

	pc->n++;
	return pc->fn(pc->ctx, r);
}

int gba_store_cert_list_current_page(struct gba_store *st, const char *ca, int64_t now,
                                     int64_t after_not_after, const uint8_t *after_serial,
                                     size_t after_serial_len, size_t limit,
                                     int (*fn)(void *ctx, const struct gba_cert_record *r),
                                     void *ctx, size_t *n)
{
	sqlite3_stmt *s = NULL;
	struct page_count pc;
	size_t ca_len = 0;
	int rc, ret;

	if (n == NULL)
		return GBA_EINVAL;
	*n = 0;
	if (st == NULL || fn == NULL || limit < 1 || limit > 10000 ||
	    (after_serial_len > 0 && serial_check(after_serial, after_serial_len) < 0))
		return GBA_EINVAL;
	ret = ca_check(ca, &ca_len);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           "SELECT " CERT_COLS " FROM certificates WHERE ca = ?1 AND not_after >= ?2"
	           " AND (not_after > ?3 OR (not_after = ?3 AND serial > ?4))"
	           " ORDER BY not_after, serial LIMIT ?5",
	           &s);
	if (ret < 0)
		return ret;
	if (after_serial_len == 0)
		after_not_after = INT64_MIN;   /* every row; serial > X'' holds too */
	rc = bind_str(s, 1, ca, ca_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, after_not_after);
	if (rc == SQLITE_OK)
		rc = after_serial_len > 0 ? bind_blob(s, 4, after_serial, after_serial_len)
		                          : sqlite3_bind_zeroblob(s, 4, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, (int64_t)limit);
	memset(&pc, 0, sizeof(pc));
	pc.fn = fn;
	pc.ctx = ctx;
	ret = rc == SQLITE_OK ? cert_walk(s, page_count_cb, &pc) : db_err(rc);
	sqlite3_finalize(s);
	*n = pc.n;
	return ret;
}

int gba_store_crl_get(struct gba_store *st, const char *ca, int with_der,
                      struct gba_crl_record *out)
{
	sqlite3_stmt *s = NULL;
	const uint8_t *p = NULL;
	size_t ca_len = 0, len = 0;
	int64_t v[4];
	int i, rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return GBA_EINVAL;
	ret = ca_check(ca, &ca_len);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           with_der ? "SELECT crl_number, epoch, this_update, next_update, der FROM crls"
	                      " WHERE ca = ?1"
	                    : "SELECT crl_number, epoch, this_update, next_update FROM crls"
	                      " WHERE ca = ?1",
	           &s);
	if (ret < 0)
		goto out;
	rc = bind_str(s, 1, ca, ca_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	for (i = 0; ret == 0 && i < 4; i++)
		ret = col_int(s, i, i == 0 ? 1 : (i == 1 ? 0 : INT64_MIN), INT64_MAX, &v[i]);
	if (ret < 0)
		goto out;
	memcpy(out->ca, ca, ca_len);
	out->number = (uint64_t)v[0];
	out->epoch = (uint64_t)v[1];
	out->this_update = v[2];
	out->next_update = v[3];
	if (with_der) {
		ret = col_blob_var(s, 4, 1, GBA_STORE_MAX_CRL, &p, &len);
		if (ret < 0)
			goto out;
		out->der = gba_malloc(len);
		if (out->der == NULL) {
			ret = GBA_ENOMEM;
			goto out;
		}
		memcpy(out->der, p, len);
		out->der_len = len;
	}
out:
	sqlite3_finalize(s);
	if (ret < 0)
		gba_crl_record_clear(out);
	return ret;
}

int gba_store_crl_put(struct gba_store *st, const struct gba_crl_record *r)
{
	sqlite3_stmt *s = NULL;
	size_t ca_len = 0;
	int rc, ret;

	if (st == NULL || r == NULL || r->number == 0 || r->number > INT64_MAX ||
	    r->epoch > INT64_MAX || r->der == NULL || r->der_len == 0 ||
	    r->der_len > GBA_STORE_MAX_CRL || r->next_update < r->this_update)
		return GBA_EINVAL;
	ret = ca_check(r->ca, &ca_len);
	if (ret < 0)
		return ret;
	if (r->number == 1)
		ret = prep(st,
		           "INSERT INTO crls(ca, crl_number, epoch, this_update, next_update, der)"
		           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		           &s);
	else
		ret = prep(st,
		           "UPDATE crls SET crl_number = ?2, epoch = ?3, this_update = ?4,"
		           " next_update = ?5, der = ?6 WHERE ca = ?1 AND crl_number = ?2 - 1",
		           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, r->ca, ca_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (int64_t)r->number);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, (int64_t)r->epoch);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, r->this_update);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, r->next_update);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 6, r->der, r->der_len);
	ret = step_done(s, rc, GBA_EDUP);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = GBA_EDUP;
	return ret;
}

/* ---- the CCM outbox (issue 7) ---- */

#define CCM_COLS \
	"id, msg_id, impi, app_id, seq, action, ref, state, created, expires, body, der"
#define CCM_STATE_MAX GBA_CCM_ACKED

void gba_ccm_row_clear(struct gba_ccm_row *r)
{
	if (r == NULL)
		return;
	gba_free(r->body);
	gba_free(r->der);
	memset(r, 0, sizeof(*r));
}

static int ccm_out_check(const struct gba_ccm_out *m)
{
	int ret;

	if (m == NULL)
		return GBA_EINVAL;
	ret = id_check(m->impi, GBA_MAX_IMPI_LEN, NULL);
	if (ret == 0)
		ret = id_check(m->app_id, GBA_STORE_MAX_APP, NULL);
	if (ret < 0)
		return ret;
	if (m->action < 0 || m->action >= (int)GBA_STORE_CCM_ACTIONS ||
	    m->created > m->expires)
		return GBA_EINVAL;
	if (m->ref != NULL && (m->ref_len == 0 || m->ref_len > GBA_STORE_MAX_REF))
		return GBA_EINVAL;
	if (m->ref == NULL && m->ref_len != 0)
		return GBA_EINVAL;
	if (m->body == NULL || m->body_len == 0 || m->body_len > GBA_STORE_MAX_CCM)
		return GBA_EINVAL;
	return 0;
}

/* The IMPI's next sequence number (1 for the first), under the caller's
 * write transaction. */
static int ccm_next_seq(struct gba_store *st, const char *impi, int64_t *seq)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prep(st,
	           "INSERT INTO ccm_seq(impi, seq) VALUES(?1, 1)"
	           " ON CONFLICT(impi) DO UPDATE SET seq = seq + 1 RETURNING seq",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, impi, strlen(impi));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = db_err(rc);
		goto out;
	}
	ret = col_int(s, 0, 1, INT64_MAX, seq);
	if (ret < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

/* Insert one checked message with the IMPI's next sequence number. */
static int ccm_insert(struct gba_store *st, const struct gba_ccm_out *m)
{
	sqlite3_stmt *s = NULL;
	int64_t seq = 0;
	int rc, ret;

	ret = ccm_next_seq(st, m->impi, &seq);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           "INSERT INTO ccm_outbox(msg_id, impi, app_id, seq, action, ref, state,"
	           " created, expires, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9)",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, m->msg_id, sizeof(m->msg_id));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, m->impi, strlen(m->impi));
	if (rc == SQLITE_OK)
		rc = bind_str(s, 3, m->app_id, strlen(m->app_id));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, seq);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 5, m->action);
	if (rc == SQLITE_OK)
		rc = m->ref != NULL ? bind_blob(s, 6, m->ref, m->ref_len) : sqlite3_bind_null(s, 6);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 7, m->created);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 8, m->expires);
	if (rc == SQLITE_OK)
		rc = bind_blob(s, 9, m->body, m->body_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		ret = GBA_EDUP;
	else if (rc != SQLITE_DONE)
		ret = db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

int gba_store_ccm_queue(struct gba_store *st, const struct gba_ccm_out *m, size_t n)
{
	size_t i;
	int ret, txn = 0;

	if (st == NULL || (m == NULL && n > 0))
		return GBA_EINVAL;
	for (i = 0; i < n; i++) {
		ret = ccm_out_check(&m[i]);
		if (ret < 0)
			return ret;
	}
	if (n == 0)
		return 0;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	for (i = 0; i < n && ret == 0; i++)
		ret = ccm_insert(st, &m[i]);
	if (ret < 0)
		goto out;
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	if (txn)
		rollback(st);
	return ret;
}

/* One ccm_outbox row (CCM_COLS) into *r; body and der copied when copy,
 * else borrowed from the statement. */
static int ccm_row(sqlite3_stmt *s, struct gba_ccm_row *r, int copy)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int64_t v[5] = { 0, 0, 0, 0, 0 };
	int ret;

	ret = col_int(s, 0, 1, INT64_MAX, &r->id);
	if (ret == 0)
		ret = col_blob(s, 1, r->msg_id, sizeof(r->msg_id));
	if (ret == 0)
		ret = col_id(s, 2, GBA_MAX_IMPI_LEN, 0, r->impi);
	if (ret == 0)
		ret = col_id(s, 3, GBA_STORE_MAX_APP, 0, r->app_id);
	if (ret == 0)
		ret = col_int(s, 4, 1, INT64_MAX, &v[0]);                       /* seq */
	if (ret == 0)
		ret = col_int(s, 5, 0, GBA_STORE_CCM_ACTIONS - 1, &v[1]);       /* action */
	if (ret == 0)
		ret = col_int(s, 7, GBA_CCM_QUEUED, CCM_STATE_MAX, &v[2]);      /* state */
	if (ret == 0)
		ret = col_int(s, 8, INT64_MIN, INT64_MAX, &v[3]);               /* created */
	if (ret == 0)
		ret = col_int(s, 9, INT64_MIN, INT64_MAX, &v[4]);               /* expires */
	if (ret < 0)
		return ret;
	r->seq = (uint64_t)v[0];
	r->action = (int)v[1];
	r->state = (int)v[2];
	r->created = v[3];
	r->expires = v[4];
	r->ref_len = 0;
	if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
		ret = col_blob_var(s, 6, 1, GBA_STORE_MAX_REF, &p, &len);
		if (ret < 0)
			return ret;
		memcpy(r->ref, p, len);
		r->ref_len = len;
	}
	ret = col_blob_var(s, 10, 1, GBA_STORE_MAX_CCM, &p, &len);
	if (ret < 0)
		return ret;
	r->body = copy ? gba_malloc(len) : (uint8_t *)(uintptr_t)p;
	if (r->body == NULL)
		return GBA_ENOMEM;
	if (copy)
		memcpy(r->body, p, len);
	r->body_len = len;
	r->der = NULL;
	r->der_len = 0;
	if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
		ret = col_blob_var(s, 11, 1, GBA_STORE_MAX_CCM, &p, &len);
		if (ret < 0)
			return ret;
		r->der = copy ? gba_malloc(len) : (uint8_t *)(uintptr_t)p;
		if (r->der == NULL)
			return GBA_ENOMEM;
		if (copy)
			memcpy(r->der, p, len);
		r->der_len = len;
	}
	return 0;
}

int gba_store_ccm_list(struct gba_store *st, const char *impi, uint64_t after_seq, int64_t now,
                       size_t max, int (*fn)(void *ctx, const struct gba_ccm_row *r),
                       void *ctx)
{
	sqlite3_stmt *s = NULL;
	struct gba_ccm_row r;
	size_t impi_len = 0;
	int rc, ret;

	if (st == NULL || fn == NULL || after_seq > INT64_MAX)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	if (max == 0)
		return 0;
	ret = prep(st,
	           "SELECT " CCM_COLS " FROM ccm_outbox WHERE impi = ?1 AND seq > ?2"
	           " AND state < 2 AND expires > ?3 ORDER BY seq LIMIT ?4",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (int64_t)after_seq);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, max > INT_MAX ? INT_MAX : (int64_t)max);
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		memset(&r, 0, sizeof(r));
		ret = ccm_row(s, &r, 0);
		if (ret < 0)
			goto out;
		ret = fn(ctx, &r);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}

int gba_store_ccm_get(struct gba_store *st, const uint8_t msg_id[GBA_STORE_CCM_ID_LEN],
                      struct gba_ccm_row *out)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL || msg_id == NULL)
		return GBA_EINVAL;
	ret = prep(st, "SELECT " CCM_COLS " FROM ccm_outbox WHERE msg_id = ?1", &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, msg_id, GBA_STORE_CCM_ID_LEN);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? GBA_ENOTFOUND : db_err(rc);
		goto out;
	}
	ret = ccm_row(s, out, 1);
out:
	sqlite3_finalize(s);
	if (ret < 0)
		gba_ccm_row_clear(out);
	return ret;
}

int gba_store_ccm_mark_sent(struct gba_store *st, const struct gba_ccm_sent *v, size_t n)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc = SQLITE_OK, ret, txn = 0;

	if (st == NULL || (v == NULL && n > 0))
		return GBA_EINVAL;
	for (i = 0; i < n; i++)
		if (v[i].msg_id == NULL ||
		    (v[i].der != NULL && (v[i].der_len == 0 || v[i].der_len > GBA_STORE_MAX_CCM)) ||
		    (v[i].der == NULL && v[i].der_len != 0))
			return GBA_EINVAL;
	if (n == 0)
		return 0;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = prep(st,
	           "UPDATE ccm_outbox SET state = 1, der = coalesce(der, ?2)"
	           " WHERE msg_id = ?1 AND state = 0",
	           &s);
	if (ret < 0)
		goto out;
	for (i = 0; i < n; i++) {
		rc = sqlite3_reset(s);
		if (rc == SQLITE_OK)
			rc = bind_blob(s, 1, v[i].msg_id, GBA_STORE_CCM_ID_LEN);
		if (rc == SQLITE_OK)
			rc = v[i].der != NULL ? bind_blob(s, 2, v[i].der, v[i].der_len)
			                      : sqlite3_bind_null(s, 2);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
	}
	sqlite3_finalize(s);
	s = NULL;
	ret = commit(st);
	if (ret == 0)
		txn = 0;
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	return ret;
}

int gba_store_ccm_ack(struct gba_store *st, const char *impi,
                      const uint8_t (*ids)[GBA_STORE_CCM_ID_LEN], size_t n, int *acked)
{
	sqlite3_stmt *up = NULL, *ins = NULL;
	size_t impi_len = 0, i;
	int64_t now = (int64_t)time(NULL);
	int rc = SQLITE_OK, ret, txn = 0, count = 0;

	if (st == NULL || (n > 0 && (ids == NULL || acked == NULL)) || n > INT_MAX)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		acked[i] = 0;
	if (n == 0)
		return 0;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	ret = prep(st,
	           "UPDATE ccm_outbox SET state = 2 WHERE msg_id = ?1 AND impi = ?2 AND state < 2"
	           " RETURNING action, ref",
	           &up);
	if (ret == 0)
		ret = prep(st, "INSERT OR IGNORE INTO ccm_installed(serial, acked) VALUES(?1, ?2)",
		           &ins);
	if (ret < 0)
		goto out;
	for (i = 0; i < n; i++) {
		rc = sqlite3_reset(up);
		if (rc == SQLITE_OK)
			rc = bind_blob(up, 1, ids[i], GBA_STORE_CCM_ID_LEN);
		if (rc == SQLITE_OK)
			rc = bind_str(up, 2, impi, impi_len);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(up);
		if (rc == SQLITE_DONE)
			continue;   /* not ours, unknown or already acknowledged */
		if (rc != SQLITE_ROW) {
			ret = db_err(rc);
			goto out;
		}
		acked[i] = 1;
		count++;
		if (sqlite3_column_int(up, 0) == 0 /* install */ &&
		    sqlite3_column_type(up, 1) == SQLITE_BLOB &&
		    sqlite3_column_bytes(up, 1) >= 1 &&
		    sqlite3_column_bytes(up, 1) <= (int)GBA_STORE_MAX_SERIAL) {
			rc = sqlite3_reset(ins);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_blob(ins, 1, sqlite3_column_blob(up, 1),
				                       sqlite3_column_bytes(up, 1), SQLITE_TRANSIENT);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(ins, 2, now);
			if (rc == SQLITE_OK)
				rc = sqlite3_step(ins);
			if (rc != SQLITE_DONE) {
				ret = db_err(rc);
				goto out;
			}
		}
		rc = sqlite3_step(up);   /* finish the RETURNING statement */
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
	}
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	up = ins = NULL;
	ret = commit(st);
	if (ret == 0) {
		txn = 0;
		ret = count;
	}
out:
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	if (txn)
		rollback(st);
	if (ret < 0)
		for (i = 0; i < n; i++)
			acked[i] = 0;
	return ret;
}

int gba_store_ccm_changes(struct gba_store *st, int64_t after_id, int64_t *last_id,
                          int (*fn)(void *ctx, const char *impi), void *ctx)
{
	sqlite3_stmt *s = NULL;
	char impi[GBA_MAX_IMPI_LEN + 1];
	int64_t id = 0, top = after_id;
	int rc, ret;

	if (st == NULL || last_id == NULL || (fn == NULL && after_id >= 0))
		return GBA_EINVAL;
	if (after_id < 0) {
		ret = query_int(st, "SELECT coalesce(max(id), 0) FROM ccm_outbox", &id);
		if (ret == 0)
			*last_id = id;
		return ret;
	}
	/* One statement, so one snapshot: a row committed meanwhile is
	 * either seen here or has a larger id than *last_id. */
	ret = prep(st,
	           "SELECT impi, max(id) AS m FROM ccm_outbox WHERE id > ?1"
	           " GROUP BY impi ORDER BY m",
	           &s);
	if (ret < 0)
		return ret;
	rc = sqlite3_bind_int64(s, 1, after_id);
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		ret = col_id(s, 0, GBA_MAX_IMPI_LEN, 0, impi);
		if (ret == 0)
			ret = col_int(s, 1, 1, INT64_MAX, &id);
		if (ret < 0)
			goto out;
		if (id > top)
			top = id;
		ret = fn(ctx, impi);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	*last_id = top;
out:
	sqlite3_finalize(s);
	return ret;
}

int gba_store_ccm_expire(struct gba_store *st, int64_t now,
                         int (*fn)(void *ctx, const struct gba_ccm_row *r), void *ctx)
{
	sqlite3_stmt *s = NULL;
	struct gba_ccm_row r;
	int64_t n = 0;
	int rc, ret, txn = 0;

	if (st == NULL)
		return GBA_EINVAL;
	ret = begin(st);
	if (ret < 0)
		goto out;
	txn = 1;
	if (fn != NULL) {
		ret = prep(st,
		           "SELECT " CCM_COLS " FROM ccm_outbox WHERE expires <= ?1 AND state < 2"
		           " ORDER BY id",
		           &s);
		if (ret < 0)
			goto out;
		rc = sqlite3_bind_int64(s, 1, now);
		if (rc != SQLITE_OK) {
			ret = db_err(rc);
			goto out;
		}
		for (;;) {
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW)
				break;
			memset(&r, 0, sizeof(r));
			ret = ccm_row(s, &r, 0);
			if (ret < 0)
				goto out;
			ret = fn(ctx, &r);
			if (ret != 0)
				goto out;
		}
		if (rc != SQLITE_DONE) {
			ret = db_err(rc);
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	ret = prep(st, "DELETE FROM ccm_outbox WHERE expires <= ?1", &s);
	if (ret < 0)
		goto out;
	rc = sqlite3_bind_int64(s, 1, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		ret = db_err(rc);
		goto out;
	}
	n = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	s = NULL;
	ret = commit(st);
	if (ret == 0) {
		txn = 0;
		ret = n > INT_MAX ? INT_MAX : (int)n;
	}
out:
	sqlite3_finalize(s);
	if (txn)
		rollback(st);
	return ret;
}

int gba_store_ccm_exists(struct gba_store *st, const char *impi, int action,
                         const uint8_t *ref, size_t ref_len, int64_t now)
{
	sqlite3_stmt *s = NULL;
	size_t impi_len = 0;
	int rc, ret;

	if (st == NULL || ref == NULL || ref_len == 0 || ref_len > GBA_STORE_MAX_REF)
		return GBA_EINVAL;
	ret = id_check(impi, GBA_MAX_IMPI_LEN, &impi_len);
	if (ret < 0)
		return ret;
	ret = prep(st,
	           "SELECT 1 FROM ccm_outbox WHERE ref = ?1 AND impi = ?2 AND action = ?3"
	           " AND expires > ?4 LIMIT 1",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, ref, ref_len);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 2, impi, impi_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 3, action);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

int gba_store_ccm_delivered(struct gba_store *st, const uint8_t *serial, size_t serial_len)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	if (st == NULL)
		return GBA_EINVAL;
	ret = serial_check(serial, serial_len);
	if (ret < 0)
		return ret;
	ret = prep(st, "SELECT 1 FROM ccm_installed WHERE serial = ?1", &s);
	if (ret < 0)
		return ret;
	rc = bind_blob(s, 1, serial, serial_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_err(rc);
	sqlite3_finalize(s);
	return ret;
}

int gba_store_cert_impis(struct gba_store *st, const char *app_id, const char *after,
                         int64_t now, size_t max, int (*fn)(void *ctx, const char *impi),
                         void *ctx)
{
	sqlite3_stmt *s = NULL;
	char impi[GBA_MAX_IMPI_LEN + 1];
	size_t app_len = 0, after_len = 0;
	int rc, ret;

	if (st == NULL || fn == NULL)
		return GBA_EINVAL;
	ret = id_check(app_id, GBA_STORE_MAX_APP, &app_len);
	if (ret == 0 && after != NULL)
		ret = id_check(after, GBA_MAX_IMPI_LEN, &after_len);
	if (ret < 0)
		return ret;
	if (max == 0)
		return 0;
	ret = prep(st,
	           "SELECT DISTINCT impi FROM certificates WHERE app_id = ?1 AND status = 0"
	           " AND not_after >= ?2 AND impi > ?3 ORDER BY impi LIMIT ?4",
	           &s);
	if (ret < 0)
		return ret;
	rc = bind_str(s, 1, app_id, app_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, now);
	if (rc == SQLITE_OK)
		rc = bind_str(s, 3, after != NULL ? after : "", after_len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, max > INT_MAX ? INT_MAX : (int64_t)max);
	if (rc != SQLITE_OK) {
		ret = db_err(rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		ret = col_id(s, 0, GBA_MAX_IMPI_LEN, 0, impi);
		if (ret < 0)
			goto out;
		ret = fn(ctx, impi);
		if (ret != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(rc);
out:
	sqlite3_finalize(s);
	return ret;
}
