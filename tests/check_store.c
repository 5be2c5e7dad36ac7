/*
 * check_store.c - the SQLite store and HSS emulator (gba_store.h).
 *
 * Each test works in its own mkdtemp directory.  Tampering and schema
 * tests edit the database file with SQLite directly (tests may include
 * <sqlite3.h>; the library has no raw-SQL entry point on purpose).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_store.h"
#include "testutil.h"

/* TS 35.208 test set 1. */
#define SET1_K   "465b5ce8b199b49faa5f0a2ee238a6bc"
#define SET1_OPC "cd63cb71954a9f4e48a5994e37a02baf"
#define SET1_AMF "b9b9"

struct env {
	char dir[256];
	char db[320];
	char key[320];
};

static void env_init(struct env *e)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	ck_assert_int_lt(snprintf(e->dir, sizeof(e->dir), "%s/check_store.XXXXXX", tmp),
	                 (int)sizeof(e->dir));
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	snprintf(e->db, sizeof(e->db), "%s/gba.db", e->dir);
	snprintf(e->key, sizeof(e->key), "%s/gba.key", e->dir);
}

static void env_done(struct env *e)
{
	char path[600];
	struct dirent *d;
	DIR *dp = opendir(e->dir);

	if (dp == NULL)
		return;
	for (d = readdir(dp); d != NULL; d = readdir(dp)) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", e->dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(e->dir);
}

/* Constant SQL on the database file, through a connection of its own. */
static void raw_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	char *err = NULL;
	int rc;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err != NULL ? err : "?");
	sqlite3_free(err);
	sqlite3_close(h);
}

static void write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void make_sub(struct gba_subscriber *s, const char *impi, uint64_t sqn,
                     const char *guss)
{
	uint8_t k[16], opc[16];

	memset(s, 0, sizeof(*s));
	ck_assert_uint_lt(strlen(impi), sizeof(s->impi));
	memcpy(s->impi, impi, strlen(impi) + 1);
	th_unhex(SET1_K, k, 16);
	th_unhex(SET1_OPC, opc, 16);
	ck_assert_int_eq(gba_secret_set(&s->k, k, 16), 0);
	ck_assert_int_eq(gba_secret_set(&s->opc, opc, 16), 0);
	th_unhex(SET1_AMF, s->amf, 2);
	gba_sqn_put(sqn, s->sqn);
	s->lifetime_s = 3600;
	s->guss_json = (char *)(uintptr_t)guss;   /* borrowed: never cleared */
}

static void add_sub(struct gba_store *st, const char *impi, uint64_t sqn)
{
	struct gba_subscriber s;

	make_sub(&s, impi, sqn, "{\"bsfInfo\":{\"lifeTime\":3600}}");
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);
}

/* UE side: AUTN must verify for set 1; returns the SQN it carries. */
static uint64_t ue_check(const struct gba_aka_vector *av)
{
	uint8_t k[16], opc[16], sqn[6], res[8], ck[16], ik[16];

	th_unhex(SET1_K, k, 16);
	th_unhex(SET1_OPC, opc, 16);
	ck_assert_int_eq(gba_milenage_check_autn(k, opc, av->rand, av->autn, sqn, res, ck, ik), 0);
	ck_assert_mem_eq(res, av->xres, 8);
	ck_assert_mem_eq(ck, av->ck, 16);
	ck_assert_mem_eq(ik, av->ik, 16);
	ck_assert_uint_eq(av->autn[6], 0xb9);   /* AMF in clear */
	ck_assert_uint_eq(av->autn[7], 0xb9);
	return gba_sqn_get(sqn);
}

static uint64_t stored_sqn(struct gba_store *st, const char *impi)
{
	struct gba_subscriber s;
	uint64_t v;

	ck_assert_int_eq(gba_store_subscriber_get(st, impi, &s), 0);
	v = gba_sqn_get(s.sqn);
	gba_subscriber_clear(&s);
	return v;
}

static void make_bs(struct gba_bootstrap *b, const char *btid, const char *impi,
                    int64_t expires, uint8_t fill)
{
	uint8_t ks[32];

	memset(b, 0, sizeof(*b));
	memcpy(b->btid, btid, strlen(btid) + 1);
	memcpy(b->impi, impi, strlen(impi) + 1);
	memset(b->rand, fill, sizeof(b->rand));
	memset(ks, fill ^ 0x5a, sizeof(ks));
	ck_assert_int_eq(gba_secret_set(&b->ks, ks, 32), 0);
	b->created = expires - 100;
	b->expires = expires;
	b->guss_json = (char *)(uintptr_t)"{\"ussList\":[]}";   /* borrowed */
}

static void make_chal(struct gba_challenge *c, const char *nonce, const char *impi,
                      int64_t expires, uint8_t fill)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->nonce, nonce, strlen(nonce) + 1);
	memcpy(c->impi, impi, strlen(impi) + 1);
	memset(c->av.rand, fill, 16);
	memset(c->av.autn, fill + 1, 16);
	memset(c->av.xres, fill + 2, 8);
	memset(c->av.ck, fill + 3, 16);
	memset(c->av.ik, fill + 4, 16);
	c->expires = expires;
}

/* ---- HSS emulator ---- */

START_TEST(av_matches_milenage_and_sqn_advances)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h = NULL;
	struct gba_aka_vector av, av2;
	uint64_t i;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org", 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	for (i = 1; i <= 4; i++) {
		ck_assert_int_eq(h->ops->generate_av(h,
		                 "001010000000001@ims.mnc001.mcc001.3gppnetwork.org", NULL, NULL,
		                 &av), 0);
		/* SEQ + 1, IND = 0: SQN = 32 * i */
		ck_assert_uint_eq(ue_check(&av), 32 * i);
		ck_assert_uint_eq(stored_sqn(st, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"),
		                  32 * i);
	}
	/* A fresh RAND each time. */
	ck_assert_int_eq(h->ops->generate_av(h, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
	                                     NULL, NULL, &av2), 0);
	ck_assert_int_ne(memcmp(av.rand, av2.rand, 16), 0);
	/* Unknown and malformed IMPIs. */
	ck_assert_int_eq(h->ops->generate_av(h, "nobody@example.org", NULL, NULL, &av),
	                 GBA_ENOTFOUND);
	ck_assert_int_eq(h->ops->generate_av(h, "bad impi", NULL, NULL, &av), GBA_EINVAL);
	ck_assert_int_eq(h->ops->generate_av(h, "", NULL, NULL, &av), GBA_EINVAL);
	h->ops->close(h);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(av_two_handles_interleaved_get_distinct_sqns)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h[2] = { NULL, NULL };
	struct gba_aka_vector av;
	uint64_t last = 0, sqn;
	int i;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "alice@example.org", 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h[0], e.db, e.key), 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h[1], e.db, e.key), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(h[i % 2]->ops->generate_av(h[i % 2], "alice@example.org", NULL, NULL,
		                                            &av), 0);
		sqn = ue_check(&av);
		ck_assert_uint_gt(sqn, last);
		last = sqn;
	}
	ck_assert_uint_eq(last, 10 * 32);
	h[0]->ops->close(h[0]);
	h[1]->ops->close(h[1]);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* Two processes, each with its own handle, race for vectors: every SQN
 * is handed out once (BEGIN IMMEDIATE + busy timeout). */
START_TEST(av_concurrent_processes_get_distinct_sqns)
{
	enum { PER_CHILD = 25, NCHILD = 2 };
	struct env e;
	struct gba_store *st = NULL;
	uint64_t seen[PER_CHILD * NCHILD];
	int fds[2], i, j, status;
	pid_t pid[NCHILD];

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "alice@example.org", 0);
	gba_store_close(st);
	st = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < NCHILD; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			struct gba_hss *h = NULL;
			struct gba_aka_vector av;
			uint8_t k[16], opc[16], sqn[6];
			int ok = 1;

			close(fds[0]);
			th_unhex(SET1_K, k, 16);
			th_unhex(SET1_OPC, opc, 16);
			if (gba_hss_sqlite_open(&h, e.db, e.key) != 0)
				_exit(2);
			for (j = 0; j < PER_CHILD && ok; j++) {
				ok = h->ops->generate_av(h, "alice@example.org", NULL, NULL, &av) == 0 &&
				     gba_milenage_check_autn(k, opc, av.rand, av.autn, sqn, NULL, NULL,
				                             NULL) == 0 &&
				     write(fds[1], sqn, 6) == 6;
			}
			h->ops->close(h);
			_exit(ok ? 0 : 1);
		}
	}
	close(fds[1]);
	for (i = 0; i < PER_CHILD * NCHILD; i++) {
		uint8_t b[6];

		ck_assert_int_eq(read(fds[0], b, 6), 6);
		seen[i] = gba_sqn_get(b);
	}
	close(fds[0]);
	for (i = 0; i < NCHILD; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < PER_CHILD * NCHILD; i++) {
		ck_assert_uint_eq(seen[i] % 32, 0);
		for (j = i + 1; j < PER_CHILD * NCHILD; j++)
			ck_assert_uint_ne(seen[i], seen[j]);
	}
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 32 * PER_CHILD * NCHILD);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(resync_with_valid_auts_sets_sqn)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h = NULL;
	struct gba_aka_vector av, av2;
	uint8_t k[16], opc[16], sqn_ms[6], auts[14];

	env_init(&e);
	th_unhex(SET1_K, k, 16);
	th_unhex(SET1_OPC, opc, 16);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "alice@example.org", 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", NULL, NULL, &av), 0);
	ck_assert_uint_eq(ue_check(&av), 32);
	/* The USIM is ahead (SEQ_MS = 0x80); it answers with AUTS. */
	gba_sqn_put(0x1000, sqn_ms);
	ck_assert_int_eq(gba_milenage_auts(k, opc, av.rand, sqn_ms, auts), 0);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", av.rand, auts, &av2), 0);
	ck_assert_uint_eq(ue_check(&av2), 0x1000 + 32);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", NULL, NULL, &av2), 0);
	ck_assert_uint_eq(ue_check(&av2), 0x1000 + 64);
	/* SQN_MS with IND bits set: the next one is SEQ_MS + 1, IND 0. */
	gba_sqn_put(0x2005, sqn_ms);
	ck_assert_int_eq(gba_milenage_auts(k, opc, av2.rand, sqn_ms, auts), 0);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", av2.rand, auts, &av), 0);
	ck_assert_uint_eq(ue_check(&av), 0x2020);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 0x2020);
	/* At the top of the 48-bit space: GBA_ESYNC, SQN unchanged. */
	gba_sqn_put(UINT64_C(0xffffffffffe0), sqn_ms);
	ck_assert_int_eq(gba_milenage_auts(k, opc, av.rand, sqn_ms, auts), 0);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", av.rand, auts, &av2),
	                 GBA_ESYNC);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 0x2020);
	h->ops->close(h);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(resync_with_wrong_mac_s_changes_nothing)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h = NULL;
	struct gba_aka_vector av, av2;
	uint8_t k[16], opc[16], sqn_ms[6], auts[14], other_rand[16];

	env_init(&e);
	th_unhex(SET1_K, k, 16);
	th_unhex(SET1_OPC, opc, 16);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "alice@example.org", 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", NULL, NULL, &av), 0);
	gba_sqn_put(0x1000, sqn_ms);
	ck_assert_int_eq(gba_milenage_auts(k, opc, av.rand, sqn_ms, auts), 0);
	auts[13] ^= 0x01;   /* MAC-S */
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", av.rand, auts, &av2),
	                 GBA_EAUTH);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 32);
	auts[13] ^= 0x01;
	/* The right AUTS for another RAND does not verify either. */
	memcpy(other_rand, av.rand, 16);
	other_rand[0] ^= 0x80;
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", other_rand, auts, &av2),
	                 GBA_EAUTH);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 32);
	/* AUTS without its RAND is a caller error. */
	ck_assert_int_eq(h->ops->generate_av(h, "alice@example.org", NULL, auts, &av2),
	                 GBA_EINVAL);
	ck_assert_uint_eq(stored_sqn(st, "alice@example.org"), 32);
	h->ops->close(h);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- challenges ---- */

START_TEST(challenge_take_is_single_use_impi_bound_and_expires)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_challenge c, got;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_chal(&c, "I1VTvpY3qJ0hiuZNrke/NQ==", "alice@example.org", 1000, 0x10);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), 0);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), GBA_EDUP);
	/* Someone else's IMPI: not found, and the nonce is not burnt. */
	ck_assert_int_eq(gba_store_challenge_take(st, c.nonce, "mallory@example.org", 500, &got),
	                 GBA_ENOTFOUND);
	ck_assert_int_eq(got.impi[0], 0);
	/* At expiry: not found (valid while now < expires), not burnt. */
	ck_assert_int_eq(gba_store_challenge_take(st, c.nonce, c.impi, 1000, &got), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_challenge_take(st, c.nonce, c.impi, 999, &got), 0);
	ck_assert_str_eq(got.nonce, c.nonce);
	ck_assert_str_eq(got.impi, c.impi);
	ck_assert_mem_eq(&got.av, &c.av, sizeof(c.av));
	ck_assert_int_eq(got.expires, 1000);
	gba_challenge_clear(&got);
	/* Single use. */
	ck_assert_int_eq(gba_store_challenge_take(st, c.nonce, c.impi, 999, &got), GBA_ENOTFOUND);
	/* Malformed identities. */
	ck_assert_int_eq(gba_store_challenge_take(st, "", c.impi, 0, &got), GBA_EINVAL);
	ck_assert_int_eq(gba_store_challenge_take(st, "a b", c.impi, 0, &got), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- bootstrap contexts ---- */

START_TEST(bootstrap_put_replaces_same_impi_and_survives_reopen)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_bootstrap b1, b2, b3, got;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_bs(&b1, "AAAAAAAAAAAAAAAAAAAAAA==@bsf.example.org", "alice@example.org", 5000, 1);
	make_bs(&b2, "BBBBBBBBBBBBBBBBBBBBBB==@bsf.example.org", "alice@example.org", 6000, 2);
	make_bs(&b3, "CCCCCCCCCCCCCCCCCCCCCC==@bsf.example.org", "bob@example.org", 7000, 3);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b1), 0);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b1.btid, 100, &got), 0);
	gba_bootstrap_clear(&got);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b2), 0);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b3), 0);
	/* The new bootstrap superseded the old B-TID. */
	ck_assert_int_eq(gba_store_bootstrap_get(st, b1.btid, 100, &got), GBA_ENOTFOUND);
	ck_assert_ptr_null(got.guss_json);
	gba_store_close(st);
	st = NULL;
	/* Durable: a new handle sees what was acknowledged. */
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b2.btid, 100, &got), 0);
	ck_assert_str_eq(got.btid, b2.btid);
	ck_assert_str_eq(got.impi, "alice@example.org");
	ck_assert_mem_eq(got.rand, b2.rand, 16);
	ck_assert(gba_secret_equal(&got.ks, &b2.ks));
	ck_assert_int_eq(got.created, b2.created);
	ck_assert_int_eq(got.expires, 6000);
	ck_assert_str_eq(got.guss_json, b2.guss_json);
	gba_bootstrap_clear(&got);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b3.btid, 6999, &got), 0);
	ck_assert_str_eq(got.impi, "bob@example.org");
	gba_bootstrap_clear(&got);
	/* Expired at expires. */
	ck_assert_int_eq(gba_store_bootstrap_get(st, b3.btid, 7000, &got), GBA_ENOTFOUND);
	/* Re-putting a B-TID replaces it even for another IMPI; a NULL GUSS
	 * reads back as "". */
	make_bs(&b1, b3.btid, "carol@example.org", 8000, 4);
	b1.guss_json = NULL;
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b1), 0);
	ck_assert_int_eq(gba_store_bootstrap_get(st, b3.btid, 7000, &got), 0);
	ck_assert_str_eq(got.impi, "carol@example.org");
	ck_assert_str_eq(got.guss_json, "");
	gba_bootstrap_clear(&got);
	/* Bad input. */
	b1.ks.len = 16;
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b1), GBA_EINVAL);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "", 0, &got), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(purge_deletes_expired_and_counts)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_challenge c;
	struct gba_bootstrap b;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_chal(&c, "n1", "a@x", 100, 1);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), 0);
	make_chal(&c, "n2", "b@x", 200, 2);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), 0);
	make_chal(&c, "n3", "c@x", 300, 3);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), 0);
	make_bs(&b, "t1@bsf", "a@x", 100, 1);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	make_bs(&b, "t2@bsf", "b@x", 200, 2);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	make_bs(&b, "t3@bsf", "c@x", 300, 3);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	ck_assert_int_eq(gba_store_purge(st, 50), 0);
	ck_assert_int_eq(gba_store_purge(st, 200), 4);   /* expires <= now */
	ck_assert_int_eq(gba_store_purge(st, 200), 0);
	ck_assert_int_eq(gba_store_challenge_take(st, "n3", "c@x", 250, &c), 0);
	gba_challenge_clear(&c);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t3@bsf", 250, &b), 0);
	gba_bootstrap_clear(&b);
	ck_assert_int_eq(gba_store_purge(st, 1000), 1);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- subscribers ---- */

static int collect(void *ctx, const char *impi)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	ck_assert_uint_lt(n + strlen(impi) + 2, 512);
	memcpy(buf + n, impi, strlen(impi));
	buf[n + strlen(impi)] = ',';
	buf[n + strlen(impi) + 1] = '\0';
	return 0;
}

static int stop_after_first(void *ctx, const char *impi)
{
	(void)impi;
	(*(int *)ctx)++;
	return 7;
}

START_TEST(subscriber_add_get_list_remove)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h = NULL;
	struct gba_subscriber s, got;
	struct gba_bootstrap b;
	char list[512] = "", impi[300], *guss = NULL, *big = NULL;
	uint32_t life = 0;
	int calls = 0;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_sub(&s, "bob@example.org", 0x123456789abcu, "{\"ussList\":[{\"gsId\":1}]}");
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), GBA_EDUP);
	make_sub(&s, "alice@example.org", 0, NULL);
	s.lifetime_s = 0;
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);
	ck_assert_int_eq(gba_store_subscriber_get(st, "bob@example.org", &got), 0);
	ck_assert_str_eq(got.impi, "bob@example.org");
	ck_assert(gba_secret_equal(&got.k, &s.k));
	ck_assert(gba_secret_equal(&got.opc, &s.opc));
	ck_assert_mem_eq(got.amf, s.amf, 2);
	ck_assert_uint_eq(gba_sqn_get(got.sqn), 0x123456789abcu);
	ck_assert_uint_eq(got.lifetime_s, 3600);
	ck_assert_str_eq(got.guss_json, "{\"ussList\":[{\"gsId\":1}]}");
	gba_subscriber_clear(&got);
	ck_assert_ptr_null(got.guss_json);
	ck_assert_uint_eq(got.k.len, 0);
	ck_assert_int_eq(gba_store_subscriber_get(st, "alice@example.org", &got), 0);
	ck_assert_str_eq(got.guss_json, "");
	ck_assert_uint_eq(got.lifetime_s, 0);
	gba_subscriber_clear(&got);
	ck_assert_int_eq(gba_store_subscriber_get(st, "carol@example.org", &got), GBA_ENOTFOUND);
	/* The HSS view of the GUSS. */
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	ck_assert_int_eq(h->ops->get_guss(h, "bob@example.org", &life, &guss), 0);
	ck_assert_uint_eq(life, 3600);
	ck_assert_str_eq(guss, "{\"ussList\":[{\"gsId\":1}]}");
	gba_free(guss);
	ck_assert_int_eq(h->ops->get_guss(h, "carol@example.org", &life, &guss), GBA_ENOTFOUND);
	ck_assert_ptr_null(guss);
	h->ops->close(h);
	/* List, in order, and stopping early. */
	ck_assert_int_eq(gba_store_subscriber_list(st, collect, list), 0);
	ck_assert_str_eq(list, "alice@example.org,bob@example.org,");
	ck_assert_int_eq(gba_store_subscriber_list(st, stop_after_first, &calls), 7);
	ck_assert_int_eq(calls, 1);
	/* Remove takes the subscriber's bootstrap context with it. */
	make_bs(&b, "t1@bsf", "bob@example.org", 5000, 1);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	ck_assert_int_eq(gba_store_subscriber_remove(st, "bob@example.org"), 0);
	ck_assert_int_eq(gba_store_subscriber_remove(st, "bob@example.org"), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_subscriber_get(st, "bob@example.org", &got), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t1@bsf", 0, &b), GBA_ENOTFOUND);
	/* Capped and checked input. */
	memset(impi, 'a', 256);
	impi[256] = '\0';
	ck_assert_int_eq(gba_store_impi_check(impi), GBA_EINVAL);
	impi[255] = '\0';
	ck_assert_int_eq(gba_store_impi_check(impi), 0);
	make_sub(&s, impi, 0, NULL);
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);   /* 255 is fine */
	ck_assert_int_eq(gba_store_impi_check("a\tb"), GBA_EINVAL);
	ck_assert_int_eq(gba_store_impi_check("caf\xc3\xa9"), GBA_EINVAL);
	make_sub(&s, "carol@example.org", 0, NULL);
	s.k.len = 15;
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), GBA_EINVAL);
	make_sub(&s, "carol@example.org", 0, NULL);
	big = malloc(GBA_MAX_GUSS_LEN + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', GBA_MAX_GUSS_LEN + 1);
	big[GBA_MAX_GUSS_LEN + 1] = '\0';
	s.guss_json = big;
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), GBA_ETOOBIG);
	big[GBA_MAX_GUSS_LEN] = '\0';
	ck_assert_int_eq(gba_store_subscriber_add(st, &s), 0);   /* exactly the cap */
	free(big);
	ck_assert_int_eq(gba_store_subscriber_get(st, "carol@example.org", &got), 0);
	ck_assert_uint_eq(strlen(got.guss_json), GBA_MAX_GUSS_LEN);
	gba_subscriber_clear(&got);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

struct feed {
	const char *const *impis;
	size_t i, n;
};

static int feed_next(void *ctx, struct gba_subscriber *s)
{
	struct feed *f = ctx;

	if (f->i == f->n)
		return 0;
	make_sub(s, f->impis[f->i++], 0, NULL);
	return 1;
}

START_TEST(import_is_all_or_nothing)
{
	static const char *const bad[] = { "a@x", "b@x", "a@x" };
	static const char *const good[] = { "a@x", "b@x", "c@x" };
	struct env e;
	struct gba_store *st = NULL;
	struct feed f = { bad, 0, 3 };
	char list[512] = "";
	size_t count = 99;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_subscriber_import(st, feed_next, &f, &count), GBA_EDUP);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(f.i, 3);   /* failed on the third record */
	ck_assert_int_eq(gba_store_subscriber_list(st, collect, list), 0);
	ck_assert_str_eq(list, "");
	f.impis = good;
	f.i = 0;
	ck_assert_int_eq(gba_store_subscriber_import(st, feed_next, &f, &count), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert_int_eq(gba_store_subscriber_list(st, collect, list), 0);
	ck_assert_str_eq(list, "a@x,b@x,c@x,");
	/* The handle is usable after a failed import. */
	f.i = 0;
	ck_assert_int_eq(gba_store_subscriber_import(st, feed_next, &f, &count), GBA_EDUP);
	add_sub(st, "d@x", 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- at-rest protection ---- */

START_TEST(tampered_rows_fail_cleanly)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_hss *h = NULL;
	struct gba_subscriber got;
	struct gba_bootstrap b, bg;
	struct gba_challenge c, cg;
	struct gba_aka_vector av;
	char *guss = NULL;
	uint32_t life;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "a@x", 0);
	add_sub(st, "b@x", 0);
	add_sub(st, "c@x", 0);
	add_sub(st, "d@x", 0);
	make_bs(&b, "t1@bsf", "a@x", 5000, 1);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	make_bs(&b, "t2@bsf", "b@x", 5000, 2);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	make_bs(&b, "t3@bsf", "c@x", 5000, 3);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	make_chal(&c, "n1", "a@x", 5000, 1);
	ck_assert_int_eq(gba_store_challenge_put(st, &c), 0);
	gba_store_close(st);
	st = NULL;

	/* K moved to another IMPI; K and OPc swapped within a row; GUSS,
	 * lifetime edited; a bootstrap's Ks moved, its IMPI changed; a
	 * challenge re-assigned to another IMPI. */
	raw_exec(e.db, "UPDATE subscribers SET k_sealed ="
	               " (SELECT k_sealed FROM subscribers WHERE impi = 'b@x') WHERE impi = 'a@x';"
	               "UPDATE subscribers SET k_sealed = opc_sealed, opc_sealed = k_sealed"
	               " WHERE impi = 'c@x';"
	               "UPDATE subscribers SET guss_json = '{}' WHERE impi = 'd@x';"
	               "UPDATE bootstraps SET ks_sealed ="
	               " (SELECT ks_sealed FROM bootstraps WHERE btid = 't2@bsf')"
	               " WHERE btid = 't1@bsf';"
	               "UPDATE bootstraps SET impi = 'd@x' WHERE btid = 't3@bsf';"
	               "UPDATE challenges SET impi = 'd@x' WHERE nonce = 'n1';");

	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_subscriber_get(st, "a@x", &got), GBA_EIO);
	ck_assert_ptr_null(got.guss_json);
	ck_assert_uint_eq(got.k.len, 0);
	ck_assert_int_eq(h->ops->generate_av(h, "a@x", NULL, NULL, &av), GBA_EIO);
	ck_assert_int_eq(gba_store_subscriber_get(st, "c@x", &got), GBA_EIO);
	ck_assert_int_eq(gba_store_subscriber_get(st, "d@x", &got), GBA_EIO);
	ck_assert_int_eq(h->ops->get_guss(h, "d@x", &life, &guss), GBA_EIO);
	ck_assert_ptr_null(guss);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t1@bsf", 0, &bg), GBA_EIO);
	ck_assert_ptr_null(bg.guss_json);
	ck_assert_uint_eq(bg.ks.len, 0);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t3@bsf", 0, &bg), GBA_EIO);
	ck_assert_int_eq(gba_store_challenge_take(st, "n1", "d@x", 0, &cg), GBA_EIO);
	/* The untouched rows still work, and SQN did not move on failure. */
	ck_assert_int_eq(gba_store_subscriber_get(st, "b@x", &got), 0);
	gba_subscriber_clear(&got);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t2@bsf", 0, &bg), 0);
	gba_bootstrap_clear(&bg);
	ck_assert_int_eq(h->ops->generate_av(h, "b@x", NULL, NULL, &av), 0);
	ck_assert_uint_eq(ue_check(&av), 32);
	h->ops->close(h);
	gba_store_close(st);
	st = NULL;

	/* Wrong shapes: a truncated sealed blob, a text SQN. */
	raw_exec(e.db, "UPDATE subscribers SET opc_sealed = substr(opc_sealed, 1, 10)"
	               " WHERE impi = 'b@x';"
	               "UPDATE bootstraps SET rand = x'00' WHERE btid = 't2@bsf';");
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_subscriber_get(st, "b@x", &got), GBA_EIO);
	ck_assert_int_eq(gba_store_bootstrap_get(st, "t2@bsf", 0, &bg), GBA_EIO);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(wrong_or_missing_key_file_refused)
{
	struct env e;
	struct gba_store *st = NULL;
	char other[400];
	uint8_t key[33];
	struct stat sb;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "a@x", 0);
	gba_store_close(st);
	st = NULL;
	/* New files are private. */
	ck_assert_int_eq(stat(e.key, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, 32);
	ck_assert_int_eq(stat(e.db, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	/* Another valid-looking key: the key check fails. */
	snprintf(other, sizeof(other), "%s/other.key", e.dir);
	ck_assert_int_eq(gba_rnd(GBA_RND_KEY, key, sizeof(key)), 0);
	write_file(other, key, 32, 0600);
	ck_assert_int_eq(gba_store_open(&st, e.db, other), GBA_EAUTH);
	ck_assert_ptr_null(st);
	/* Wrong sizes. */
	write_file(other, key, 31, 0600);
	ck_assert_int_eq(gba_store_open(&st, e.db, other), GBA_EIO);
	write_file(other, key, 33, 0600);
	ck_assert_int_eq(gba_store_open(&st, e.db, other), GBA_EIO);
	/* Missing key for an existing database: refused, and not created. */
	unlink(other);
	ck_assert_int_eq(gba_store_open(&st, e.db, other), GBA_EIO);
	ck_assert_int_ne(access(other, F_OK), 0);
	/* A symlink to the right key is not followed. */
	ck_assert_int_eq(symlink(e.key, other), 0);
	ck_assert_int_eq(gba_store_open(&st, e.db, other), GBA_EIO);
	/* The right key still works. */
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(key_file_permissions_refused)
{
	struct env e;
	struct gba_store *st = NULL;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	gba_store_close(st);
	st = NULL;
	ck_assert_int_eq(chmod(e.key, 0644), 0);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), GBA_EIO);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(chmod(e.key, 0640), 0);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), GBA_EIO);
	ck_assert_int_eq(chmod(e.key, 0400), 0);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(unknown_schema_and_foreign_files_refused)
{
	struct env e;
	struct gba_store *st = NULL;
	char other[400];

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	gba_store_close(st);
	st = NULL;
	raw_exec(e.db, "PRAGMA user_version = 99");
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), GBA_EUNSUPP);
	ck_assert_ptr_null(st);
	/* Some other application's database (version 0, with tables). */
	snprintf(other, sizeof(other), "%s/other.db", e.dir);
	write_file(other, "", 0, 0600);
	raw_exec(other, "CREATE TABLE t(x)");
	ck_assert_int_eq(gba_store_open(&st, other, e.key), GBA_EUNSUPP);
	/* Not a database at all. */
	write_file(other, "this is not an SQLite database, just text.......", 48, 0600);
	ck_assert_int_eq(gba_store_open(&st, other, e.key), GBA_EIO);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(gba_store_open(&st, NULL, e.key), GBA_EINVAL);
	ck_assert_int_eq(gba_store_open(&st, "", e.key), GBA_EINVAL);
	env_done(&e);
}
END_TEST

/* ---- allocation failure ---- */

START_TEST(allocation_failures_are_clean)
{
	struct env e;
	struct gba_store *st = NULL, *st2 = NULL;
	struct gba_hss *h = NULL;
	struct gba_subscriber s;
	struct gba_bootstrap b;
	char *guss = NULL, db2[400], key2[400];
	uint32_t life = 0;
	long n;
	int ret, step;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "a@x", 0);
	make_bs(&b, "t1@bsf", "a@x", 5000, 1);
	ck_assert_int_eq(gba_store_bootstrap_put(st, &b), 0);
	ck_assert_int_eq(gba_hss_sqlite_open(&h, e.db, e.key), 0);
	snprintf(db2, sizeof(db2), "%s/fresh.db", e.dir);
	snprintf(key2, sizeof(key2), "%s/fresh.key", e.dir);
	for (step = 0; step < 5; step++) {
		for (n = 0;; n++) {
			memset(&s, 0xa5, sizeof(s));
			memset(&b, 0xa5, sizeof(b));
			guss = NULL;
			gba_mem_fail_after(n);
			switch (step) {
			case 0:
				ret = gba_store_subscriber_get(st, "a@x", &s);
				break;
			case 1:
				ret = gba_store_bootstrap_get(st, "t1@bsf", 0, &b);
				break;
			case 2:
				ret = h->ops->get_guss(h, "a@x", &life, &guss);
				break;
			case 3:   /* an existing database */
				ret = gba_store_open(&st2, e.db, e.key);
				break;
			default:   /* a new database and key, retried */
				ret = gba_store_open(&st2, db2, key2);
				break;
			}
			gba_mem_fail_reset();
			if (ret == 0)
				break;
			ck_assert_msg(ret == GBA_ENOMEM, "step %d n %ld ret %d", step, n, ret);
			switch (step) {
			case 0:
				ck_assert_ptr_null(s.guss_json);
				ck_assert_uint_eq(s.k.len, 0);
				ck_assert_uint_eq(s.opc.len, 0);
				break;
			case 1:
				ck_assert_ptr_null(b.guss_json);
				ck_assert_uint_eq(b.ks.len, 0);
				break;
			case 2:
				ck_assert_ptr_null(guss);
				break;
			default:
				ck_assert_ptr_null(st2);
				break;
			}
			ck_assert_msg(n < 1000, "step %d never succeeds", step);
		}
		ck_assert_int_gt(n, 0);   /* the call allocates: this tested something */
		switch (step) {
		case 0:
			ck_assert_str_eq(s.guss_json, "{\"bsfInfo\":{\"lifeTime\":3600}}");
			gba_subscriber_clear(&s);
			break;
		case 1:
			gba_bootstrap_clear(&b);
			break;
		case 2:
			gba_free(guss);
			break;
		default:
			gba_store_close(st2);
			st2 = NULL;
			break;
		}
	}
	h->ops->close(h);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- the CA's records (issue 5) ---- */

static const uint8_t test_der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };   /* not parsed */

/* A certificate with a 2-octet serial (id >> 8, id & 0xff; id < 0x8000). */
static void make_cert(struct gba_cert_record *r, unsigned id, const char *impi,
                      const char *app, int64_t issued_at, int64_t not_after, int status)
{
	memset(r, 0, sizeof(*r));
	ck_assert_uint_lt(id, 0x8000);
	r->serial[0] = (uint8_t)(id >> 8);
	r->serial[1] = (uint8_t)(id & 0xff);
	r->serial_len = r->serial[0] == 0 && r->serial[1] < 0x80 ? 1 : 2;
	if (r->serial_len == 1)
		r->serial[0] = r->serial[1];
	memcpy(r->ca, "Test Issuing CA", sizeof("Test Issuing CA"));
	memcpy(r->impi, impi, strlen(impi) + 1);
	memcpy(r->app_id, app, strlen(app) + 1);
	memset(r->policy_sha256, 0x11, 32);
	memset(r->spki_sha256, (int)(id & 0xff), 32);
	r->issued_at = issued_at;
	r->not_before = issued_at - 60;
	r->not_after = not_after;
	r->status = status;
	if (status != GBA_CERT_VALID) {
		r->reason = 1;
		r->revoked_at = issued_at + 1;
	}
	r->der = (uint8_t *)(uintptr_t)test_der;   /* borrowed: never cleared */
	r->der_len = sizeof(test_der);
}

static void make_pending(struct gba_pending *p, uint8_t tok, const char *impi, int64_t expires)
{
	memset(p, 0, sizeof(*p));
	memset(p->token, tok, sizeof(p->token));
	memcpy(p->impi, impi, strlen(impi) + 1);
	memcpy(p->app_id, "naf.example.org", sizeof("naf.example.org"));
	p->state = GBA_PENDING_WAITING;
	p->created = expires - 100;
	p->expires = expires;
	p->blob = (uint8_t *)(uintptr_t)"request";   /* borrowed */
	p->blob_len = 7;
}

/* One txn: a nonce (NULL: none) and n certificates. */
static void make_txn(struct gba_cmc_txn *t, const char *nonce, const struct gba_cert_record *c,
                     size_t n)
{
	memset(t, 0, sizeof(*t));
	if (nonce != NULL) {
		t->nonce = (const uint8_t *)nonce;
		t->nonce_len = strlen(nonce);
		t->nonce_expires = 1000;
	}
	t->certs = c;
	t->ncerts = n;
}

static int cert_exists(struct gba_store *st, const struct gba_cert_record *c)
{
	struct gba_cert_record r;
	int ret = gba_store_cert_get(st, c->serial, c->serial_len, &r);

	gba_cert_record_clear(&r);
	ck_assert_msg(ret == 0 || ret == GBA_ENOTFOUND, "cert_get %d", ret);
	return ret == 0;
}

static int count_cb(void *ctx, const struct gba_cert_record *r)
{
	(void)r;
	(*(unsigned *)ctx)++;
	return 0;
}

static unsigned cert_total(struct gba_store *st)
{
	unsigned n = 0;

	ck_assert_int_eq(gba_store_cert_list(st, NULL, count_cb, &n), 0);
	return n;
}

START_TEST(cert_round_trip_and_duplicate_serial)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[2], r;
	struct gba_cmc_txn t;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x1234, "a@x", "naf.example.org", 1000, 5000, GBA_CERT_VALID);
	c[0].invalidity_date = 77;
	make_txn(&t, "nonce-1", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_cert_get(st, c[0].serial, c[0].serial_len, &r), 0);
	ck_assert_uint_eq(r.serial_len, 2);
	ck_assert_mem_eq(r.serial, c[0].serial, 2);
	ck_assert_str_eq(r.ca, "Test Issuing CA");
	ck_assert_str_eq(r.impi, "a@x");
	ck_assert_str_eq(r.app_id, "naf.example.org");
	ck_assert_mem_eq(r.policy_sha256, c[0].policy_sha256, 32);
	ck_assert_mem_eq(r.spki_sha256, c[0].spki_sha256, 32);
	ck_assert_int_eq(r.issued_at, 1000);
	ck_assert_int_eq(r.not_before, 940);
	ck_assert_int_eq(r.not_after, 5000);
	ck_assert_int_eq(r.status, GBA_CERT_VALID);
	ck_assert_int_eq(r.invalidity_date, 77);
	ck_assert_uint_eq(r.der_len, sizeof(test_der));
	ck_assert_ptr_ne(r.der, test_der);
	ck_assert_mem_eq(r.der, test_der, sizeof(test_der));
	gba_cert_record_clear(&r);
	ck_assert_ptr_null(r.der);

	/* The same serial again, with a new certificate before it: GBA_EDUP
	 * and nothing of the txn stays (its nonce can be used again). */
	make_cert(&c[0], 0x0101, "a@x", "naf.example.org", 1001, 5000, GBA_CERT_VALID);
	make_cert(&c[1], 0x1234, "b@x", "naf.example.org", 1001, 5000, GBA_CERT_VALID);
	make_txn(&t, "nonce-2", c, 2);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EDUP);
	ck_assert(!cert_exists(st, &c[0]));
	ck_assert_int_eq(gba_store_cert_get(st, c[1].serial, c[1].serial_len, &r), 0);
	ck_assert_str_eq(r.impi, "a@x");   /* the original */
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(cert_total(st), 1);
	make_txn(&t, "nonce-2", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_uint_eq(cert_total(st), 2);

	/* Bad input: GBA_EINVAL, nothing written. */
	make_cert(&c[0], 0x0202, "a@x", "naf.example.org", 1, 2, GBA_CERT_VALID);
	make_txn(&t, "nonce-3", c, 1);
	c[0].serial_len = 0;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	c[0].serial_len = 21;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	c[0].serial_len = 2;
	c[0].serial[0] = 0x82;   /* negative */
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	c[0].serial[0] = 0x00;   /* not minimal */
	c[0].serial[1] = 0x02;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a x", "naf.example.org", 1, 2, GBA_CERT_VALID);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "", 1, 2, GBA_CERT_VALID);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, GBA_CERT_VALID);
	c[0].not_before = 3;   /* after not_after */
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, 3);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, GBA_CERT_VALID);
	c[0].der = NULL;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, GBA_CERT_VALID);
	c[0].der_len = GBA_STORE_MAX_CERT + 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, GBA_CERT_VALID);
	c[0].ca[0] = '\0';
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x0202, "a@x", "n", 1, 2, GBA_CERT_VALID);
	t.nonce_len = GBA_STORE_MAX_NONCE + 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_txn(&t, "nonce-3", c, 0);
	t.pend_issued = c[0].serial;   /* no certificate for it */
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	ck_assert_int_eq(gba_store_cmc_commit(st, NULL), GBA_EINVAL);
	ck_assert_int_eq(gba_store_cert_get(st, c[0].serial, 0, &r), GBA_EINVAL);
	ck_assert_uint_eq(cert_total(st), 2);
	/* ... and the nonce was never recorded. */
	make_txn(&t, "nonce-3", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* confirm_by is stored and read back; confirmCertAcceptance clears it in
 * the request's transaction; an unknown serial fails the whole txn. */
START_TEST(confirm_cert_acceptance)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[1], r;
	struct gba_cert_ref ref[2];
	struct gba_cmc_txn t;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x4242, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	c[0].confirm_by = 86400;
	make_txn(&t, "n1", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_cert_get(st, c[0].serial, c[0].serial_len, &r), 0);
	ck_assert_int_eq(r.confirm_by, 86400);
	gba_cert_record_clear(&r);

	/* one known, one unknown serial: GBA_ENOTFOUND, nothing changes and
	 * the nonce stays unused */
	memset(ref, 0, sizeof(ref));
	memcpy(ref[0].serial, c[0].serial, c[0].serial_len);
	ref[0].serial_len = c[0].serial_len;
	ref[1].serial[0] = 0x77;
	ref[1].serial_len = 1;
	make_txn(&t, "n2", NULL, 0);
	t.confirm = ref;
	t.nconfirm = 2;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_cert_get(st, c[0].serial, c[0].serial_len, &r), 0);
	ck_assert_int_eq(r.confirm_by, 86400);
	gba_cert_record_clear(&r);

	t.nconfirm = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_cert_get(st, c[0].serial, c[0].serial_len, &r), 0);
	ck_assert_int_eq(r.confirm_by, 0);
	gba_cert_record_clear(&r);
	/* confirming again is no error (a retried confirmation) */
	make_txn(&t, "n3", NULL, 0);
	t.confirm = ref;
	t.nconfirm = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);

	/* bad input */
	t.confirm = NULL;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	t.confirm = ref;
	ref[0].serial_len = 0;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_cert(&c[0], 0x4343, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	c[0].confirm_by = -1;
	make_txn(&t, "n4", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(replayed_nonce_changes_nothing)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[2];
	struct gba_pending p;
	struct gba_cmc_txn t;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 1, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_txn(&t, "N", c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	make_cert(&c[0], 2, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_cert(&c[1], 3, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_pending(&p, 0x44, "a@x", 100);
	make_txn(&t, "N", c, 2);
	t.pend_new = &p;
	t.npend_new = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EREPLAY);
	ck_assert(!cert_exists(st, &c[0]));
	ck_assert(!cert_exists(st, &c[1]));
	ck_assert_int_eq(gba_store_pending_get(st, p.token, &p), GBA_ENOTFOUND);
	ck_assert_uint_eq(cert_total(st), 1);
	/* Nonces are octets: "N\0" is another nonce. */
	make_pending(&p, 0x44, "a@x", 100);
	t.nonce = (const uint8_t *)"N\0";
	t.nonce_len = 2;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_uint_eq(cert_total(st), 3);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(batch_failures_are_per_txn)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[5];
	struct gba_cmc_txn t[5];
	const struct gba_cmc_txn *tp[5];
	int res[5], i;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 10, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_cert(&c[1], 11, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_cert(&c[2], 10, "b@x", "naf", 10, 20, GBA_CERT_VALID);   /* serial of c[0] */
	make_cert(&c[3], 13, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_cert(&c[4], 14, "a@x", "naf", 10, 20, GBA_CERT_VALID);
	make_txn(&t[0], "n0", &c[0], 1);
	make_txn(&t[1], "n0", &c[1], 1);   /* replays t[0] in the same batch */
	make_txn(&t[2], "n2", &c[2], 1);   /* duplicate serial */
	make_txn(&t[3], "n3", &c[3], 1);
	make_txn(&t[4], "n4", &c[4], 1);
	t[4].nonce_len = 0;                /* invalid */
	for (i = 0; i < 5; i++) {
		tp[i] = &t[i];
		res[i] = 99;
	}
	ck_assert_int_eq(gba_store_cmc_commit_batch(st, tp, 5, res), 0);
	ck_assert_int_eq(res[0], 0);
	ck_assert_int_eq(res[1], GBA_EREPLAY);
	ck_assert_int_eq(res[2], GBA_EDUP);
	ck_assert_int_eq(res[3], 0);
	ck_assert_int_eq(res[4], GBA_EINVAL);
	ck_assert(cert_exists(st, &c[0]));
	ck_assert(!cert_exists(st, &c[1]));
	ck_assert(cert_exists(st, &c[3]));
	ck_assert(!cert_exists(st, &c[4]));
	ck_assert_uint_eq(cert_total(st), 2);
	/* t[2]'s nonce was rolled back with it. */
	make_cert(&c[2], 12, "b@x", "naf", 10, 20, GBA_CERT_VALID);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t[2]), 0);
	ck_assert_int_eq(gba_store_cmc_commit_batch(st, tp, 0, res), 0);
	ck_assert_int_eq(gba_store_cmc_commit_batch(NULL, tp, 1, res), GBA_EINVAL);
	ck_assert_int_eq(res[0], GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(pending_states_and_issue_cas)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[2];
	struct gba_pending p[2], r;
	struct gba_cmc_txn t;
	uint8_t unknown[GBA_STORE_TOKEN_LEN];

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_pending(&p[0], 0xaa, "a@x", 500);
	make_pending(&p[1], 0xbb, "b@x", 600);
	make_txn(&t, "np", NULL, 0);
	t.pend_new = p;
	t.npend_new = 2;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	make_txn(&t, "np2", NULL, 0);
	t.pend_new = p;
	t.npend_new = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EDUP);   /* same token */
	ck_assert_int_eq(gba_store_pending_get(st, p[0].token, &r), 0);
	ck_assert_int_eq(r.state, GBA_PENDING_WAITING);
	ck_assert_str_eq(r.impi, "a@x");
	ck_assert_str_eq(r.app_id, "naf.example.org");
	ck_assert_int_eq(r.created, 400);
	ck_assert_int_eq(r.expires, 500);
	ck_assert_uint_eq(r.serial_len, 0);
	ck_assert_uint_eq(r.blob_len, 7);
	ck_assert_mem_eq(r.blob, "request", 7);
	gba_pending_clear(&r);

	/* Not approved yet: issuing fails and the certificate is not kept. */
	make_cert(&c[0], 0x300, "a@x", "naf.example.org", 10, 20, GBA_CERT_VALID);
	make_txn(&t, "ni1", c, 1);
	t.pend_issued = p[0].token;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_ENOTFOUND);
	ck_assert(!cert_exists(st, &c[0]));

	ck_assert_int_eq(gba_store_pending_set_state(st, p[0].token, GBA_PENDING_WAITING,
	                                             GBA_PENDING_APPROVED), 0);
	ck_assert_int_eq(gba_store_pending_set_state(st, p[0].token, GBA_PENDING_WAITING,
	                                             GBA_PENDING_APPROVED), GBA_ENOTFOUND);
	ck_assert_int_eq(gba_store_pending_set_state(st, p[0].token, GBA_PENDING_APPROVED,
	                                             GBA_PENDING_ISSUED), GBA_EINVAL);
	ck_assert_int_eq(gba_store_pending_set_state(st, p[0].token, -1, 0), GBA_EINVAL);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert(cert_exists(st, &c[0]));
	ck_assert_int_eq(gba_store_pending_get(st, p[0].token, &r), 0);
	ck_assert_int_eq(r.state, GBA_PENDING_ISSUED);
	ck_assert_uint_eq(r.serial_len, c[0].serial_len);
	ck_assert_mem_eq(r.serial, c[0].serial, c[0].serial_len);
	gba_pending_clear(&r);
	/* Only once: a second issue for the same token fails. */
	make_cert(&c[1], 0x301, "a@x", "naf.example.org", 10, 20, GBA_CERT_VALID);
	make_txn(&t, "ni2", &c[1], 1);
	t.pend_issued = p[0].token;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_ENOTFOUND);
	ck_assert(!cert_exists(st, &c[1]));
	ck_assert_int_eq(gba_store_pending_set_state(st, p[0].token, GBA_PENDING_ISSUED,
	                                             GBA_PENDING_WAITING), GBA_EINVAL);

	/* Rejected: cannot be issued. */
	ck_assert_int_eq(gba_store_pending_set_state(st, p[1].token, GBA_PENDING_WAITING,
	                                             GBA_PENDING_REJECTED), 0);
	make_txn(&t, "ni3", &c[1], 1);
	t.pend_issued = p[1].token;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_ENOTFOUND);
	memset(unknown, 0xcc, sizeof(unknown));
	ck_assert_int_eq(gba_store_pending_get(st, unknown, &r), GBA_ENOTFOUND);
	ck_assert_ptr_null(r.blob);
	ck_assert_int_eq(gba_store_pending_set_state(st, unknown, 0, 1), GBA_ENOTFOUND);

	/* Bad pending records. */
	make_pending(&p[0], 0xdd, "a b", 500);
	make_txn(&t, "nb", NULL, 0);
	t.pend_new = p;
	t.npend_new = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_pending(&p[0], 0xdd, "a@x", 500);
	p[0].blob_len = 0;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_pending(&p[0], 0xdd, "a@x", 500);
	p[0].serial_len = 1;   /* a serial but not ISSUED */
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	make_pending(&p[0], 0xdd, "a@x", 500);
	p[0].state = 4;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(cert_counts)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[7];
	struct gba_cmc_txn t;
	uint32_t n = 99;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 1, "a@x", "naf1", 100, 1000, GBA_CERT_VALID);
	make_cert(&c[1], 2, "a@x", "naf1", 200, 500, GBA_CERT_VALID);     /* expires */
	make_cert(&c[2], 3, "a@x", "naf1", 300, 1000, GBA_CERT_REVOKED);
	make_cert(&c[3], 4, "a@x", "naf1", 400, 1000, GBA_CERT_HOLD);
	make_cert(&c[4], 5, "a@x", "naf2", 500, 1000, GBA_CERT_VALID);    /* other app */
	make_cert(&c[5], 6, "b@x", "naf1", 600, 1000, GBA_CERT_VALID);    /* other IMPI */
	make_cert(&c[6], 7, "a@x", "naf1", 700, 2000, GBA_CERT_VALID);
	make_txn(&t, NULL, c, 7);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", "naf1", 450, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", "naf1", 500, &n), 0);
	ck_assert_uint_eq(n, 3);   /* notAfter is inclusive */
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", "naf1", 501, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", "naf1", 1001, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", "naf2", 0, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(gba_store_cert_count_active(st, "c@x", "naf1", 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(gba_store_cert_count_since(st, "a@x", "naf1", 0, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(gba_store_cert_count_since(st, "a@x", "naf1", 300, &n), 0);
	ck_assert_uint_eq(n, 3);   /* issued_at >= since, revoked included */
	ck_assert_int_eq(gba_store_cert_count_since(st, "a@x", "naf1", 701, &n), 0);
	ck_assert_uint_eq(n, 0);
	n = 99;
	ck_assert_int_eq(gba_store_cert_count_since(st, "a x", "naf1", 0, &n), GBA_EINVAL);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(gba_store_cert_count_active(st, "a@x", NULL, 0, &n), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

struct list_ctx {
	int64_t issued[16];
	unsigned n, stop_at;
};

static int list_cb(void *ctx, const struct gba_cert_record *r)
{
	struct list_ctx *l = ctx;

	ck_assert_uint_lt(l->n, 16);
	ck_assert_mem_eq(r->der, test_der, sizeof(test_der));
	l->issued[l->n++] = r->issued_at;
	return l->n == l->stop_at ? 42 : 0;
}

static int pend_cb(void *ctx, const struct gba_pending *p)
{
	(void)p;
	(*(unsigned *)ctx)++;
	return 0;
}

START_TEST(cert_list_purge_and_reopen)
{
	struct env e;
	struct gba_store *st = NULL, *st2 = NULL;
	struct gba_cert_record c[3];
	struct gba_pending p[3];
	struct gba_cmc_txn t;
	struct list_ctx l;
	unsigned np = 0;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_open(&st2, e.db, e.key), 0);
	make_cert(&c[0], 1, "a@x", "naf", 100, 1000, GBA_CERT_VALID);
	make_cert(&c[1], 2, "b@x", "naf", 300, 1000, GBA_CERT_VALID);
	make_cert(&c[2], 3, "a@x", "naf", 200, 1000, GBA_CERT_VALID);
	make_txn(&t, "old", c, 3);
	t.nonce_expires = 100;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	make_txn(&t, "new", NULL, 0);
	t.nonce_expires = 300;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	/* Visible through another handle at once. */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(gba_store_cert_list(st2, NULL, list_cb, &l), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(l.issued[0], 300);   /* newest first */
	ck_assert_int_eq(l.issued[1], 200);
	ck_assert_int_eq(l.issued[2], 100);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(gba_store_cert_list(st2, "a@x", list_cb, &l), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.issued[0], 200);
	memset(&l, 0, sizeof(l));
	l.stop_at = 1;
	ck_assert_int_eq(gba_store_cert_list(st2, NULL, list_cb, &l), 42);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(gba_store_cert_list(st2, "a x", list_cb, &l), GBA_EINVAL);

	/* Pending: waiting and expiring at 100 (purged), issued expiring at
	 * 100 (kept), waiting expiring at 300 (kept until then). */
	make_pending(&p[0], 1, "a@x", 100);
	make_pending(&p[1], 2, "a@x", 100);
	p[1].state = GBA_PENDING_ISSUED;
	memcpy(p[1].serial, c[0].serial, c[0].serial_len);
	p[1].serial_len = c[0].serial_len;
	make_pending(&p[2], 3, "a@x", 300);
	make_txn(&t, NULL, NULL, 0);
	t.pend_new = p;
	t.npend_new = 3;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_purge(st, 99), 0);
	ck_assert_int_eq(gba_store_purge(st, 200), 2);   /* nonce "old", p[0] */
	ck_assert_int_eq(gba_store_purge(st, 200), 0);
	ck_assert_int_eq(gba_store_pending_list(st2, pend_cb, &np), 0);
	ck_assert_uint_eq(np, 2);
	/* "old" may be used again, "new" not yet. */
	make_txn(&t, "new", NULL, 0);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EREPLAY);
	make_txn(&t, "old", NULL, 0);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(gba_store_purge(st, 5000), 3);   /* "new", "old", p[2]; not p[1] */
	gba_store_close(st2);
	gba_store_close(st);

	/* A new handle sees everything that was committed. */
	st = NULL;
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_uint_eq(cert_total(st), 3);
	np = 0;
	ck_assert_int_eq(gba_store_pending_list(st, pend_cb, &np), 0);
	ck_assert_uint_eq(np, 1);
	ck_assert(cert_exists(st, &c[1]));
	gba_store_close(st);
	env_done(&e);
}
END_TEST

static int64_t raw_user_version(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

START_TEST(schema_v1_database_is_upgraded)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_subscriber s;
	struct gba_cert_record c;
	struct gba_cmc_txn t;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	add_sub(st, "old@x", 32);
	gba_store_close(st);
	st = NULL;
	ck_assert_int_eq(raw_user_version(e.db), 5);
	/* Turn it into what the version 1 code made. */
	raw_exec(e.db, "DROP TABLE revocation_log; DROP TABLE crls;"
	               " DROP TABLE certificates; DROP TABLE cmc_nonces; DROP TABLE pending;"
	               " DROP TABLE ccm_outbox; DROP TABLE ccm_seq; DROP TABLE ccm_installed;"
	               " PRAGMA user_version = 1;");
	ck_assert_int_eq(raw_user_version(e.db), 1);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(raw_user_version(e.db), 5);
	ck_assert_int_eq(gba_store_subscriber_get(st, "old@x", &s), 0);
	ck_assert_uint_eq(gba_sqn_get(s.sqn), 32);
	gba_subscriber_clear(&s);
	make_cert(&c, 5, "old@x", "naf", 1, 2, GBA_CERT_VALID);
	make_txn(&t, "n", &c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	gba_store_close(st);
	st = NULL;
	/* Opening again does not upgrade twice. */
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert(cert_exists(st, &c));
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* A version 3 database (no certificates.confirm_by) keeps its rows and
 * reads them as confirmed. */
START_TEST(schema_v3_database_is_upgraded_to_v4)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c, r;
	struct gba_cmc_txn t;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c, 6, "old@x", "naf", 1, 2, GBA_CERT_VALID);
	make_txn(&t, "n", &c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	gba_store_close(st);
	st = NULL;
	raw_exec(e.db, "ALTER TABLE certificates DROP COLUMN confirm_by;"
	               " DROP TABLE ccm_outbox; DROP TABLE ccm_seq; DROP TABLE ccm_installed;"
	               " PRAGMA user_version = 3;");
	ck_assert_int_eq(raw_user_version(e.db), 3);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(raw_user_version(e.db), 5);
	ck_assert_int_eq(gba_store_cert_get(st, c.serial, c.serial_len, &r), 0);
	ck_assert_int_eq(r.confirm_by, 0);
	gba_cert_record_clear(&r);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

#define CM_THREADS 4
#define CM_SUBMITS 200
#define CM_REPLAYS 10

struct cm_worker {
	struct gba_store_committer *c;
	unsigned id;
	int bad;          /* submits with an unexpected result */
	pthread_t th;
};

static void cm_nonce(char *buf, size_t len, unsigned id, unsigned i)
{
	snprintf(buf, len, "nonce-%u-%u", id, i);
}

static void *cm_main(void *arg)
{
	struct cm_worker *w = arg;
	struct gba_cert_record c;
	struct gba_cmc_txn t;
	char nonce[32];
	unsigned i;
	int r;

	for (i = 0; i < CM_SUBMITS; i++) {
		make_cert(&c, w->id * 1000 + i + 1, "a@x", "naf", (int64_t)i, 10000, GBA_CERT_VALID);
		cm_nonce(nonce, sizeof(nonce), w->id, i);
		make_txn(&t, nonce, &c, 1);
		r = gba_store_committer_submit(w->c, &t);
		if (r != 0)
			w->bad++;
		if (i % (CM_SUBMITS / CM_REPLAYS) == 0) {
			/* The same nonce with a new serial: a replay. */
			make_cert(&c, w->id * 1000 + 500 + i / (CM_SUBMITS / CM_REPLAYS), "a@x",
			          "naf", 0, 10000, GBA_CERT_VALID);
			r = gba_store_committer_submit(w->c, &t);
			if (r != GBA_EREPLAY)
				w->bad++;
		}
	}
	return NULL;
}

START_TEST(committer_concurrent_submits)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_store_committer *c = NULL;
	struct cm_worker w[CM_THREADS];
	struct gba_cert_record r;
	unsigned i, j;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);   /* creates the key */
	gba_store_close(st);
	st = NULL;
	ck_assert_int_eq(gba_store_committer_start(&c, e.db, e.key), 0);
	for (i = 0; i < CM_THREADS; i++) {
		w[i].c = c;
		w[i].id = i + 1;
		w[i].bad = 0;
		ck_assert_int_eq(pthread_create(&w[i].th, NULL, cm_main, &w[i]), 0);
	}
	for (i = 0; i < CM_THREADS; i++)
		ck_assert_int_eq(pthread_join(w[i].th, NULL), 0);
	gba_store_committer_stop(c);
	for (i = 0; i < CM_THREADS; i++)
		ck_assert_msg(w[i].bad == 0, "worker %u: %d unexpected results", i, w[i].bad);
	/* Every acknowledged transaction is there, through a new handle;
	 * none of the replays is. */
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_uint_eq(cert_total(st), CM_THREADS * CM_SUBMITS);
	for (i = 0; i < CM_THREADS; i++)
		for (j = 0; j < CM_SUBMITS; j++) {
			make_cert(&r, (i + 1) * 1000 + j + 1, "a@x", "naf", 0, 1, GBA_CERT_VALID);
			ck_assert_msg(cert_exists(st, &r), "worker %u submit %u lost", i, j);
		}
	gba_store_close(st);
	/* Bad arguments. */
	ck_assert_int_eq(gba_store_committer_submit(NULL, NULL), GBA_EINVAL);
	ck_assert_int_eq(gba_store_committer_start(NULL, e.db, e.key), GBA_EINVAL);
	c = (struct gba_store_committer *)1;
	ck_assert_int_eq(gba_store_committer_start(&c, e.db, "/nonexistent/key"), GBA_EIO);
	ck_assert_ptr_null(c);
	gba_store_committer_stop(NULL);
	env_done(&e);
}
END_TEST

START_TEST(ca_records_allocation_failures)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_store_committer *cm = NULL;
	struct gba_cert_record c, r;
	struct gba_pending p, q;
	struct gba_cmc_txn t;
	long n;
	int ret, step;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c, 9, "a@x", "naf", 1, 2, GBA_CERT_VALID);
	make_pending(&p, 7, "a@x", 100);
	make_txn(&t, "n", &c, 1);
	t.pend_new = &p;
	t.npend_new = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	for (step = 0; step < 3; step++) {
		for (n = 0;; n++) {
			memset(&r, 0xa5, sizeof(r));
			memset(&q, 0xa5, sizeof(q));
			gba_mem_fail_after(n);
			switch (step) {
			case 0:
				ret = gba_store_cert_get(st, c.serial, c.serial_len, &r);
				break;
			case 1:
				ret = gba_store_pending_get(st, p.token, &q);
				break;
			default:
				ret = gba_store_committer_start(&cm, e.db, e.key);
				break;
			}
			gba_mem_fail_reset();
			if (ret == 0)
				break;
			ck_assert_msg(ret == GBA_ENOMEM, "step %d n %ld ret %d", step, n, ret);
			if (step == 0)
				ck_assert_ptr_null(r.der);
			else if (step == 1)
				ck_assert_ptr_null(q.blob);
			else
				ck_assert_ptr_null(cm);
			ck_assert_msg(n < 1000, "step %d never succeeds", step);
		}
		ck_assert_int_gt(n, 0);   /* the call allocates: this tested something */
		if (step == 0) {
			ck_assert_mem_eq(r.der, test_der, sizeof(test_der));
			gba_cert_record_clear(&r);
		} else if (step == 1) {
			ck_assert_mem_eq(q.blob, "request", 7);
			gba_pending_clear(&q);
		} else {
			make_cert(&c, 10, "a@x", "naf", 1, 2, GBA_CERT_VALID);
			make_txn(&t, "n2", &c, 1);
			ck_assert_int_eq(gba_store_committer_submit(cm, &t), 0);
			gba_store_committer_stop(cm);
			cm = NULL;
		}
	}
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- revocation (issue 6) ---- */

static int cert_status(struct gba_store *st, const struct gba_cert_record *c,
                       struct gba_cert_record *out)
{
	int ret = gba_store_cert_get(st, c->serial, c->serial_len, out);

	ck_assert_int_eq(ret, 0);
	return out->status;
}

static uint64_t epoch_of(struct gba_store *st)
{
	uint64_t v = 99999;

	ck_assert_int_eq(gba_store_status_epoch(st, &v), 0);
	return v;
}

static void make_rev(struct gba_revocation *r, const struct gba_cert_record *c, int op,
                     int reason, int64_t at)
{
	memset(r, 0, sizeof(*r));
	r->serial = c->serial;
	r->serial_len = c->serial_len;
	r->op = op;
	r->reason = reason;
	r->at = at;
}

static int refuse_cb(void *ctx, const struct gba_cert_record *cur,
                     const struct gba_ccm_out **ccm)
{
	(void)ccm;
	(*(unsigned *)ctx)++;
	ck_assert_int_ne(cur->status, GBA_CERT_REVOKED);
	return GBA_EIO;
}

static int fail_second_cb(void *ctx, const struct gba_cert_record *cur,
                          const struct gba_ccm_out **ccm)
{
	(void)ccm;
	(void)cur;
	return ++*(unsigned *)ctx == 2 ? GBA_EIO : 0;
}

static int seen_cb(void *ctx, const struct gba_cert_record *cur,
                   const struct gba_ccm_out **ccm)
{
	(void)ccm;
	(void)cur;
	(*(unsigned *)ctx)++;
	return 0;
}

struct change_seen {
	uint64_t seq[8];
	uint8_t serial[8];
	size_t n;
};

static int change_cb(void *ctx, uint64_t seq, const char *ca, const uint8_t *serial,
                     size_t len)
{
	struct change_seen *c = ctx;

	ck_assert_str_eq(ca, "Test Issuing CA");
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_lt(c->n, 8);
	c->seq[c->n] = seq;
	c->serial[c->n] = serial[0];
	c->n++;
	return 0;
}

START_TEST(status_changes_follow_rfc5280_rules)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[3], r;
	struct gba_cmc_txn t;
	struct gba_revocation rv;
	struct change_seen ch;
	unsigned calls = 0;
	uint64_t ep = 0;
	int bad[] = { 6, 7, 8, 10, 11, -1 };
	size_t i;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_uint_eq(epoch_of(st), 0);
	make_cert(&c[0], 0x11, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[1], 0x12, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[2], 0x13, "b@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", c, 3);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_uint_eq(epoch_of(st), 0);   /* issuing is not a status change */

	/* hold, hold again, unhold a valid one, unhold */
	make_rev(&rv, &c[0], GBA_STATUS_HOLD, 0, 1000);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, GBA_CERT_HOLD);
	ck_assert_int_eq(r.reason, 6);
	ck_assert_int_eq(r.revoked_at, 1000);
	ck_assert_ptr_nonnull(r.der);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 1);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, &r), GBA_ESTATE);
	ck_assert_ptr_null(r.der);
	make_rev(&rv, &c[1], GBA_STATUS_UNHOLD, 0, 1001);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ESTATE);
	make_rev(&rv, &c[0], GBA_STATUS_UNHOLD, 0, 1002);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_VALID);
	ck_assert_int_eq(r.reason, 0);
	ck_assert_int_eq(r.revoked_at, 0);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 2);

	/* hold, then revoke: keeps the hold's time, takes the new reason */
	make_rev(&rv, &c[0], GBA_STATUS_HOLD, 0, 2000);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	make_rev(&rv, &c[0], GBA_STATUS_REVOKE, 1, 3000);
	rv.invalidity_date = 1500;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_REVOKED);
	ck_assert_int_eq(r.reason, 1);
	ck_assert_int_eq(r.revoked_at, 2000);
	ck_assert_int_eq(r.invalidity_date, 1500);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 4);

	/* revoked is final */
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ESTATE);
	make_rev(&rv, &c[0], GBA_STATUS_UNHOLD, 0, 3001);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ESTATE);
	make_rev(&rv, &c[0], GBA_STATUS_HOLD, 0, 3001);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ESTATE);

	/* reasons RFC 5280 does not allow here, bad times: nothing changes */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_rev(&rv, &c[1], GBA_STATUS_REVOKE, bad[i], 4000);
		ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	}
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 4000);
	rv.invalidity_date = 4001;   /* after the revocation */
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 0);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	make_rev(&rv, &c[1], 3, 1, 4000);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 4000);
	rv.serial_len = 0;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	ck_assert_int_eq(gba_store_cert_set_status(st, NULL, NULL, NULL, NULL), GBA_EINVAL);

	/* unknown serial, another subscriber's certificate, a refusing hook */
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 4000);
	rv.serial = (const uint8_t *)"\x7f";
	rv.serial_len = 1;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ENOTFOUND);
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 4000);
	rv.impi = "b@x";
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, refuse_cb, &calls, NULL), GBA_EAUTH);
	ck_assert_uint_eq(calls, 0);   /* ownership is checked first */
	rv.impi = "a@x";
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, refuse_cb, &calls, NULL), GBA_EIO);
	ck_assert_uint_eq(calls, 1);
	ck_assert_int_eq(cert_status(st, &c[1], &r), GBA_CERT_VALID);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 4);

	/* and one that goes through, with the hook seeing it */
	calls = 0;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, seen_cb, &calls, NULL), 0);
	ck_assert_uint_eq(calls, 1);
	ck_assert_int_eq(cert_status(st, &c[1], &r), GBA_CERT_REVOKED);
	ck_assert_int_eq(r.revoked_at, 4000);
	ck_assert_int_eq(r.invalidity_date, 0);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 5);

	/* the change log, in order */
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(gba_store_status_changes(st, 0, change_cb, &ch), 0);
	ck_assert_uint_eq(ch.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(ch.seq[i], i + 1);
	ck_assert_uint_eq(ch.serial[4], 0x12);
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(gba_store_status_changes(st, 3, change_cb, &ch), 0);
	ck_assert_uint_eq(ch.n, 2);
	ck_assert_uint_eq(ch.seq[0], 4);
	ck_assert_int_eq(gba_store_ca_epoch(st, "Test Issuing CA", &ep), 0);
	ck_assert_uint_eq(ep, 5);
	ck_assert_int_eq(gba_store_ca_epoch(st, "Other CA", &ep), 0);
	ck_assert_uint_eq(ep, 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(epoch_moves_for_every_handle_at_once)
{
	struct env e;
	struct gba_store *a = NULL, *b = NULL;
	struct gba_cert_record c;
	struct gba_cmc_txn t;
	struct gba_revocation rv;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&a, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_open(&b, e.db, e.key), 0);
	make_cert(&c, 0x21, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", &c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(a, &t), 0);
	ck_assert_uint_eq(epoch_of(a), 0);   /* prepares and keeps the statement */
	make_rev(&rv, &c, GBA_STATUS_HOLD, 0, 500);
	ck_assert_int_eq(gba_store_cert_set_status(b, &rv, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(epoch_of(a), 1);   /* the kept statement holds no snapshot */
	make_rev(&rv, &c, GBA_STATUS_REVOKE, 4, 600);
	ck_assert_int_eq(gba_store_cert_set_status(b, &rv, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(epoch_of(a), 2);
	ck_assert_uint_eq(epoch_of(b), 2);
	gba_store_close(a);
	gba_store_close(b);
	env_done(&e);
}
END_TEST

START_TEST(revoke_impi_is_all_or_nothing)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[4], r;
	struct gba_cmc_txn t;
	struct gba_revocation rv;
	unsigned calls = 0;
	size_t n = 99;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x31, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[1], 0x32, "a@x", "naf2", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[2], 0x33, "a@x", "naf", 100, 100000, GBA_CERT_REVOKED);
	make_cert(&c[3], 0x34, "b@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", c, 4);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_uint_eq(epoch_of(st), 1);   /* inserted revoked: logged */
	make_rev(&rv, &c[1], GBA_STATUS_HOLD, 0, 200);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);

	/* a hook failing on the second certificate undoes the first */
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 5, 300, fail_second_cb, &calls, &n),
	                 GBA_EIO);
	ck_assert_uint_eq(calls, 2);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_VALID);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 2);
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 6, 300, NULL, NULL, &n), GBA_EINVAL);
	ck_assert_int_eq(gba_store_revoke_impi(st, "a x", 5, 300, NULL, NULL, &n), GBA_EINVAL);

	calls = 0;
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 5, 300, seen_cb, &calls, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(calls, 2);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_REVOKED);
	ck_assert_int_eq(r.reason, 5);
	ck_assert_int_eq(r.revoked_at, 300);
	gba_cert_record_clear(&r);
	ck_assert_int_eq(cert_status(st, &c[1], &r), GBA_CERT_REVOKED);
	ck_assert_int_eq(r.revoked_at, 200);   /* held since then */
	gba_cert_record_clear(&r);
	ck_assert_int_eq(cert_status(st, &c[2], &r), GBA_CERT_REVOKED);
	ck_assert_int_eq(r.reason, 1);   /* untouched */
	gba_cert_record_clear(&r);
	ck_assert_int_eq(cert_status(st, &c[3], &r), GBA_CERT_VALID);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 4);
	/* again: nothing left to revoke, which is not an error */
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 5, 400, NULL, NULL, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(gba_store_revoke_impi(st, "nobody@x", 5, 400, NULL, NULL, &n), 0);
	ck_assert_uint_eq(n, 0);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(cmc_txn_revocation_is_replay_safe_and_owned)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[2], r;
	struct gba_cmc_txn t;
	struct gba_revocation rv;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x41, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[1], 0x42, "b@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "issue", c, 2);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);

	/* b@x asking to revoke a@x's certificate: refused, nonce not kept */
	make_rev(&rv, &c[0], GBA_STATUS_REVOKE, 1, 500);
	rv.impi = "b@x";
	make_txn(&t, "rev-1", NULL, 0);
	t.revocations = &rv;
	t.nrevocations = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EAUTH);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_VALID);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 0);

	/* the owner: done; the same nonce again: a replay, nothing changes */
	rv.impi = "a@x";
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert_int_eq(cert_status(st, &c[0], &r), GBA_CERT_REVOKED);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 1);
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 1, 600);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EREPLAY);
	ck_assert_int_eq(cert_status(st, &c[1], &r), GBA_CERT_VALID);
	gba_cert_record_clear(&r);
	ck_assert_uint_eq(epoch_of(st), 1);
	/* a bad reason fails the transaction before anything is written */
	make_txn(&t, "rev-2", NULL, 0);
	t.revocations = &rv;
	t.nrevocations = 1;
	rv.reason = 8;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	t.revocations = NULL;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

struct rl_seen {
	uint8_t serial[8];
	int status[8];
	size_t n;
};

static int rl_cb(void *ctx, const struct gba_cert_record *r)
{
	struct rl_seen *s = ctx;

	ck_assert_uint_lt(s->n, 8);
	ck_assert_uint_eq(r->serial_len, 1);
	s->serial[s->n] = r->serial[0];
	s->status[s->n] = r->status;
	s->n++;
	return 0;
}

struct walk_seen {
	uint8_t serial[64][2];
	size_t len[64];
	int64_t not_after[64];
	size_t n;
};

static int walk_cb(void *ctx, const struct gba_cert_record *r)
{
	struct walk_seen *w = ctx;

	ck_assert_uint_lt(w->n, 64);
	memcpy(w->serial[w->n], r->serial, r->serial_len);
	w->len[w->n] = r->serial_len;
	w->not_after[w->n] = r->not_after;
	w->n++;
	return 0;
}

/* Paging through the current certificates gives the whole list once, in
 * the same (not_after, serial) order, whatever ties and serial lengths. */
START_TEST(cert_list_current_pages)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[60];
	struct gba_cmc_txn t;
	struct walk_seen all, paged;
	const uint8_t *after = NULL;
	int64_t after_na = 0;
	size_t i, n = 0, after_len = 0, pages = 0;
	unsigned id;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	for (i = 0; i < 60; i++) {
		id = i < 20 ? 1 + (unsigned)i : i < 40 ? 0x80 + (unsigned)i : 0x100 + (unsigned)i;
		make_cert(&c[i], id, "a@x", "naf", 100, i == 59 ? 500 : 2000 + (int64_t)(i % 3),
		          GBA_CERT_VALID);
	}
	make_txn(&t, "n", c, 60);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	memset(&all, 0, sizeof(all));
	ck_assert_int_eq(gba_store_cert_list_current(st, "Test Issuing CA", 1000, walk_cb, &all),
	                 0);
	ck_assert_uint_eq(all.n, 59);   /* one expired */
	memset(&paged, 0, sizeof(paged));
	do {
		ck_assert_int_eq(gba_store_cert_list_current_page(st, "Test Issuing CA", 1000,
		                                                  after_na, after, after_len, 7,
		                                                  walk_cb, &paged, &n),
		                 0);
		ck_assert_uint_le(n, 7);
		if (paged.n > 0) {
			after = paged.serial[paged.n - 1];
			after_len = paged.len[paged.n - 1];
			after_na = paged.not_after[paged.n - 1];
		}
		pages++;
	} while (n == 7);
	ck_assert_uint_eq(pages, 9);   /* 8 full pages and 3 */
	ck_assert_uint_eq(paged.n, all.n);
	for (i = 0; i < all.n; i++) {
		ck_assert_int_eq(paged.not_after[i], all.not_after[i]);
		ck_assert_uint_eq(paged.len[i], all.len[i]);
		ck_assert_mem_eq(paged.serial[i], all.serial[i], all.len[i]);
		if (i > 0)
			ck_assert_int_ge(all.not_after[i], all.not_after[i - 1]);
	}
	ck_assert_int_eq(gba_store_cert_list_current_page(st, "Test Issuing CA", 1000, 0, NULL, 0,
	                                                  0, walk_cb, &paged, &n),
	                 GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(revoked_list_and_stored_crls)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[5];
	struct gba_cmc_txn t;
	struct gba_revocation rv;
	struct gba_crl_record crl, got;
	struct rl_seen seen;
	uint64_t ep = 0;
	static const uint8_t der1[] = "crl-one", der2[] = "crl-two";
	size_t i;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x55, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[1], 0x51, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[2], 0x53, "a@x", "naf", 100, 900, GBA_CERT_VALID);   /* expires early */
	make_cert(&c[3], 0x52, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[4], 0x54, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	memcpy(c[4].ca, "Other CA", sizeof("Other CA"));
	make_txn(&t, "n", c, 5);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	for (i = 0; i < 5; i++) {
		if (i == 3)
			continue;
		make_rev(&rv, &c[i], i == 1 ? GBA_STATUS_HOLD : GBA_STATUS_REVOKE, 1, 500);
		ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	}
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(gba_store_revoked_list(st, "Test Issuing CA", 1000, rl_cb, &seen, &ep),
	                 0);
	ck_assert_uint_eq(ep, 3);   /* the other CA's change is 4 */
	ck_assert_uint_eq(seen.n, 2);   /* expired 0x53 and valid 0x52 left out */
	ck_assert_uint_eq(seen.serial[0], 0x51);
	ck_assert_int_eq(seen.status[0], GBA_CERT_HOLD);
	ck_assert_uint_eq(seen.serial[1], 0x55);
	ck_assert_int_eq(seen.status[1], GBA_CERT_REVOKED);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(gba_store_revoked_list(st, "Test Issuing CA", 0, rl_cb, &seen, &ep), 0);
	ck_assert_uint_eq(seen.n, 3);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(gba_store_cert_list_current(st, "Test Issuing CA", 1000, rl_cb, &seen),
	                 0);
	ck_assert_uint_eq(seen.n, 3);   /* 0x55, 0x51, 0x52: not the expired one */
	ck_assert_int_eq(gba_store_revoked_list(st, "", 0, rl_cb, &seen, &ep), GBA_EINVAL);

	/* CRLs: numbers go up by one, a lost race is GBA_EDUP */
	ck_assert_int_eq(gba_store_crl_get(st, "Test Issuing CA", 1, &got), GBA_ENOTFOUND);
	memset(&crl, 0, sizeof(crl));
	memcpy(crl.ca, "Test Issuing CA", sizeof("Test Issuing CA"));
	crl.number = 2;
	crl.epoch = 3;
	crl.this_update = 1000;
	crl.next_update = 2000;
	crl.der = (uint8_t *)(uintptr_t)der1;
	crl.der_len = sizeof(der1);
	ck_assert_int_eq(gba_store_crl_put(st, &crl), GBA_EDUP);   /* no number 1 yet */
	crl.number = 1;
	ck_assert_int_eq(gba_store_crl_put(st, &crl), 0);
	ck_assert_int_eq(gba_store_crl_put(st, &crl), GBA_EDUP);
	crl.number = 3;
	ck_assert_int_eq(gba_store_crl_put(st, &crl), GBA_EDUP);
	ck_assert_int_eq(gba_store_crl_get(st, "Test Issuing CA", 0, &got), 0);
	ck_assert_uint_eq(got.number, 1);
	ck_assert_uint_eq(got.epoch, 3);
	ck_assert_int_eq(got.this_update, 1000);
	ck_assert_int_eq(got.next_update, 2000);
	ck_assert_ptr_null(got.der);
	gba_crl_record_clear(&got);
	crl.number = 2;
	crl.epoch = 7;
	crl.der = (uint8_t *)(uintptr_t)der2;
	crl.der_len = sizeof(der2);
	ck_assert_int_eq(gba_store_crl_put(st, &crl), 0);
	ck_assert_int_eq(gba_store_crl_get(st, "Test Issuing CA", 1, &got), 0);
	ck_assert_uint_eq(got.number, 2);
	ck_assert_uint_eq(got.epoch, 7);
	ck_assert_uint_eq(got.der_len, sizeof(der2));
	ck_assert_mem_eq(got.der, der2, sizeof(der2));
	gba_crl_record_clear(&got);
	ck_assert_int_eq(gba_store_crl_get(st, "Other CA", 1, &got), GBA_ENOTFOUND);
	crl.number = 3;
	crl.next_update = 999;   /* before this_update */
	ck_assert_int_eq(gba_store_crl_put(st, &crl), GBA_EINVAL);
	crl.next_update = 2000;
	crl.der_len = 0;
	ck_assert_int_eq(gba_store_crl_put(st, &crl), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(revocation_allocation_failures)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c, r;
	struct gba_cmc_txn t;
	struct gba_revocation rv;
	struct gba_crl_record crl, got;
	long n;
	int ret, step;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c, 0x71, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", &c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	memset(&crl, 0, sizeof(crl));
	memcpy(crl.ca, "Test Issuing CA", sizeof("Test Issuing CA"));
	crl.number = 1;
	crl.der = (uint8_t *)(uintptr_t)test_der;
	crl.der_len = sizeof(test_der);
	ck_assert_int_eq(gba_store_crl_put(st, &crl), 0);
	for (step = 0; step < 2; step++) {
		for (n = 0;; n++) {
			memset(&r, 0xa5, sizeof(r));
			memset(&got, 0xa5, sizeof(got));
			make_rev(&rv, &c, GBA_STATUS_HOLD, 0, 500);
			gba_mem_fail_after(n);
			if (step == 0)
				ret = gba_store_cert_set_status(st, &rv, NULL, NULL, &r);
			else
				ret = gba_store_crl_get(st, "Test Issuing CA", 1, &got);
			gba_mem_fail_reset();
			if (ret == 0)
				break;
			ck_assert_msg(ret == GBA_ENOMEM, "step %d n %ld ret %d", step, n, ret);
			if (step == 0) {
				ck_assert_ptr_null(r.der);
				ck_assert_uint_eq(epoch_of(st), 0);   /* rolled back */
			} else {
				ck_assert_ptr_null(got.der);
			}
			ck_assert_msg(n < 1000, "step %d never succeeds", step);
		}
		ck_assert_int_gt(n, 0);
		if (step == 0) {
			ck_assert_int_eq(r.status, GBA_CERT_HOLD);
			gba_cert_record_clear(&r);
			ck_assert_uint_eq(epoch_of(st), 1);
		} else {
			ck_assert_mem_eq(got.der, test_der, sizeof(test_der));
			gba_crl_record_clear(&got);
		}
	}
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(schema_v2_database_is_upgraded_to_v4)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[2];
	struct gba_cmc_txn t;
	struct gba_revocation rv;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x61, "a@x", "naf", 100, 100000, GBA_CERT_REVOKED);
	make_cert(&c[1], 0x62, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", c, 2);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	gba_store_close(st);
	st = NULL;
	/* what the version 2 code left */
	raw_exec(e.db, "DROP TABLE revocation_log; DROP TABLE crls;"
	               " DROP INDEX certificates_revoked; DROP INDEX certificates_ca_after;"
	               " ALTER TABLE certificates DROP COLUMN confirm_by;"
	               " DROP TABLE ccm_outbox; DROP TABLE ccm_seq; DROP TABLE ccm_installed;"
	               " PRAGMA user_version = 2;");
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(raw_user_version(e.db), 5);
	ck_assert_uint_eq(epoch_of(st), 1);   /* the revoked row got its log entry */
	make_rev(&rv, &c[1], GBA_STATUS_REVOKE, 3, 700);
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(epoch_of(st), 2);
	gba_store_close(st);
	st = NULL;
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_uint_eq(epoch_of(st), 2);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* ---- the CCM outbox (issue 7) ---- */

static const uint8_t ccm_body[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };   /* not parsed */

static void make_ccm(struct gba_ccm_out *m, uint8_t id, const char *impi, int action,
                     int64_t expires)
{
	memset(m, 0, sizeof(*m));
	memset(m->msg_id, id, sizeof(m->msg_id));
	m->impi = impi;
	m->app_id = "naf.example.org";
	m->action = action;
	m->created = expires - 100;
	m->expires = expires;
	m->body = ccm_body;
	m->body_len = sizeof(ccm_body);
}

struct ccm_seen {
	uint64_t seq[16];
	uint8_t id[16];
	int state[16];
	size_t n;
	size_t stop_after;            /* 0: never */
};

static int ccm_cb(void *ctx, const struct gba_ccm_row *r)
{
	struct ccm_seen *v = ctx;

	ck_assert_uint_lt(v->n, 16);
	ck_assert_uint_eq(r->body_len, sizeof(ccm_body));
	ck_assert_mem_eq(r->body, ccm_body, sizeof(ccm_body));
	v->seq[v->n] = r->seq;
	v->id[v->n] = r->msg_id[0];
	v->state[v->n] = r->state;
	v->n++;
	return v->stop_after != 0 && v->n >= v->stop_after ? 7 : 0;
}

static void ccm_list(struct gba_store *st, const char *impi, uint64_t after, int64_t now,
                     size_t max, struct ccm_seen *v)
{
	memset(v, 0, sizeof(*v));
	ck_assert_int_eq(gba_store_ccm_list(st, impi, after, now, max, ccm_cb, v), 0);
}

/* A hook that queues one revoked CCM per certificate (ids 0x50, 0x51,
 * ...) and fails on call number fail_at (0: never). */
struct rev_ccm_ctx {
	struct gba_ccm_out m[4];
	unsigned calls, fail_at;
};

static int rev_ccm_cb(void *ctx, const struct gba_cert_record *cur,
                      const struct gba_ccm_out **ccm)
{
	struct rev_ccm_ctx *c = ctx;
	struct gba_ccm_out *m = &c->m[c->calls % 4];

	make_ccm(m, (uint8_t)(0x50 + c->calls), cur->impi, 2, 1000);
	*ccm = m;
	return ++c->calls == c->fail_at ? GBA_EIO : 0;
}

START_TEST(ccm_queued_with_status_change_or_not_at_all)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[3];
	struct gba_cmc_txn t;
	struct gba_revocation rv;
	struct gba_ccm_out m;
	struct rev_ccm_ctx h;
	struct ccm_seen v;
	size_t n = 0;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 0x41, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[1], 0x42, "a@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_cert(&c[2], 0x43, "b@x", "naf", 100, 100000, GBA_CERT_VALID);
	make_txn(&t, "n", c, 3);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);

	/* r->ccm: queued with the change; a refused change queues nothing */
	make_ccm(&m, 0x60, "b@x", 2, 1000);
	make_rev(&rv, &c[2], GBA_STATUS_REVOKE, 1, 200);
	rv.ccm = &m;
	rv.impi = "a@x";   /* not the owner: GBA_EAUTH */
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EAUTH);
	ccm_list(st, "b@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 0);
	rv.impi = NULL;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), 0);
	ccm_list(st, "b@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.id[0], 0x60);
	ck_assert_uint_eq(v.seq[0], 1);
	/* already revoked: GBA_ESTATE, and the same id again is not queued */
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_ESTATE);
	ccm_list(st, "b@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);

	/* the hook's messages: the second call fails, nothing survives */
	memset(&h, 0, sizeof(h));
	h.fail_at = 2;
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 5, 300, rev_ccm_cb, &h, &n), GBA_EIO);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 0);
	/* a bad message (action out of range) aborts the change */
	make_rev(&rv, &c[0], GBA_STATUS_HOLD, 0, 300);
	make_ccm(&m, 0x61, "a@x", 9, 1000);
	rv.ccm = &m;
	ck_assert_int_eq(gba_store_cert_set_status(st, &rv, NULL, NULL, NULL), GBA_EINVAL);
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(gba_store_revoke_impi(st, "a@x", 5, 300, rev_ccm_cb, &h, &n), 0);
	ck_assert_uint_eq(n, 2);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_uint_lt(v.seq[0], v.seq[1]);
	ck_assert_uint_eq(v.id[0], 0x50);
	ck_assert_uint_eq(v.id[1], 0x51);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(ccm_sequence_per_impi_and_listing)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_ccm_out m[4];
	struct ccm_seen v;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_ccm(&m[0], 1, "a@x", 0, 1000);
	make_ccm(&m[1], 2, "b@x", 3, 1000);
	make_ccm(&m[2], 3, "a@x", 1, 1000);
	make_ccm(&m[3], 4, "a@x", 2, 500);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 4), 0);
	/* a@x: 1, 2, 3 in queuing order; b@x has its own counter */
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 3);
	ck_assert_uint_eq(v.seq[0], 1);
	ck_assert_uint_eq(v.id[0], 1);
	ck_assert_uint_eq(v.seq[1], 2);
	ck_assert_uint_eq(v.id[1], 3);
	ck_assert_uint_eq(v.seq[2], 3);
	ck_assert_uint_eq(v.id[2], 4);
	ck_assert_int_eq(v.state[0], GBA_CCM_QUEUED);
	ccm_list(st, "b@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 1);
	/* after_seq, max and expiry (valid while now < expires) */
	ccm_list(st, "a@x", 1, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_uint_eq(v.seq[0], 2);
	ccm_list(st, "a@x", 0, 100, 2, &v);
	ck_assert_uint_eq(v.n, 2);
	ccm_list(st, "a@x", 0, 500, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	ccm_list(st, "nobody@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 0);
	/* the callback stops the walk */
	memset(&v, 0, sizeof(v));
	v.stop_after = 1;
	ck_assert_int_eq(gba_store_ccm_list(st, "a@x", 0, 100, 10, ccm_cb, &v), 7);
	ck_assert_uint_eq(v.n, 1);
	/* a duplicate message id fails the whole batch and uses no number */
	make_ccm(&m[0], 5, "a@x", 0, 1000);
	make_ccm(&m[1], 1, "a@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 2), GBA_EDUP);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 3);
	make_ccm(&m[0], 6, "a@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), 0);
	ccm_list(st, "a@x", 3, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 4);
	/* bad input */
	make_ccm(&m[0], 7, "a@x", 6, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), GBA_EINVAL);
	make_ccm(&m[0], 7, "a x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), GBA_EINVAL);
	make_ccm(&m[0], 7, "a@x", 0, 1000);
	m[0].body_len = GBA_STORE_MAX_CCM + 1;
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), GBA_EINVAL);
	make_ccm(&m[0], 7, "a@x", 0, 1000);
	m[0].ref_len = 3;
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), GBA_EINVAL);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(ccm_commits_with_its_certificate_or_not_at_all)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c;
	struct gba_cmc_txn t;
	struct gba_ccm_out m;
	struct ccm_seen v;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c, 0x100, "a@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	make_ccm(&m, 1, "a@x", 0, 1000);
	m.ref = c.serial;
	m.ref_len = c.serial_len;
	make_txn(&t, "nonce-1", &c, 1);
	t.ccms = &m;
	t.nccms = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	ck_assert(cert_exists(st, &c));
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_int_eq(gba_store_ccm_exists(st, "a@x", 0, c.serial, c.serial_len, 100), 1);
	ck_assert_int_eq(gba_store_ccm_exists(st, "a@x", 2, c.serial, c.serial_len, 100), 0);
	ck_assert_int_eq(gba_store_ccm_exists(st, "a@x", 0, c.serial, c.serial_len, 1000), 0);
	/* A replay: neither the certificate nor the CCM. */
	make_cert(&c, 0x101, "a@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	make_ccm(&m, 2, "a@x", 0, 1000);
	make_txn(&t, "nonce-1", &c, 1);
	t.ccms = &m;
	t.nccms = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EREPLAY);
	ck_assert(!cert_exists(st, &c));
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	/* A CCM that cannot be queued (duplicate id) takes its certificate
	 * down with it. */
	make_ccm(&m, 1, "a@x", 0, 1000);
	make_txn(&t, "nonce-2", &c, 1);
	t.ccms = &m;
	t.nccms = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EDUP);
	ck_assert(!cert_exists(st, &c));
	/* A malformed CCM is refused before anything is written. */
	make_ccm(&m, 3, "a@x", 9, 1000);
	make_txn(&t, "nonce-3", &c, 1);
	t.ccms = &m;
	t.nccms = 1;
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), GBA_EINVAL);
	ck_assert(!cert_exists(st, &c));
	/* The next message still gets number 2. */
	make_ccm(&m, 4, "a@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, &m, 1), 0);
	ccm_list(st, "a@x", 1, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 2);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(ccm_sent_ack_by_owner_only)
{
	static const uint8_t der1[] = { 1, 2, 3 }, der2[] = { 4, 5 };
	struct env e;
	struct gba_store *st = NULL;
	struct gba_ccm_out m[2];
	struct gba_ccm_sent sent[2];
	struct gba_ccm_row r;
	struct ccm_seen v;
	uint8_t ids[3][GBA_STORE_CCM_ID_LEN], serial[1] = { 0x42 };
	int acked[3];

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_ccm(&m[0], 1, "a@x", 0, 1000);
	m[0].ref = serial;
	m[0].ref_len = 1;
	make_ccm(&m[1], 2, "a@x", 1, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 2), 0);
	/* sent: the first signed DER stays */
	sent[0].msg_id = m[0].msg_id;
	sent[0].der = der1;
	sent[0].der_len = sizeof(der1);
	ck_assert_int_eq(gba_store_ccm_mark_sent(st, sent, 1), 0);
	sent[0].der = der2;
	sent[0].der_len = sizeof(der2);
	sent[1].msg_id = m[1].msg_id;
	sent[1].der = NULL;
	sent[1].der_len = 0;
	ck_assert_int_eq(gba_store_ccm_mark_sent(st, sent, 2), 0);
	ck_assert_int_eq(gba_store_ccm_get(st, m[0].msg_id, &r), 0);
	ck_assert_int_eq(r.state, GBA_CCM_SENT);
	ck_assert_uint_eq(r.der_len, sizeof(der1));
	ck_assert_mem_eq(r.der, der1, sizeof(der1));
	ck_assert_str_eq(r.impi, "a@x");
	ck_assert_str_eq(r.app_id, "naf.example.org");
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.ref_len, 1);
	gba_ccm_row_clear(&r);
	ck_assert_int_eq(gba_store_ccm_get(st, m[1].msg_id, &r), 0);
	ck_assert_int_eq(r.state, GBA_CCM_SENT);
	ck_assert_ptr_null(r.der);
	gba_ccm_row_clear(&r);
	memset(ids[2], 0x77, GBA_STORE_CCM_ID_LEN);
	ck_assert_int_eq(gba_store_ccm_get(st, ids[2], &r), GBA_ENOTFOUND);
	/* sent messages are still listed until acknowledged */
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_int_eq(v.state[0], GBA_CCM_SENT);
	ck_assert_int_eq(gba_store_ccm_delivered(st, serial, 1), 0);
	/* someone else's acknowledgement changes nothing */
	memcpy(ids[0], m[0].msg_id, GBA_STORE_CCM_ID_LEN);
	memcpy(ids[1], m[1].msg_id, GBA_STORE_CCM_ID_LEN);
	ck_assert_int_eq(gba_store_ccm_ack(st, "b@x", (const uint8_t (*)[16])ids, 3, acked), 0);
	ck_assert_int_eq(acked[0] + acked[1] + acked[2], 0);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	/* the owner's */
	ck_assert_int_eq(gba_store_ccm_ack(st, "a@x", (const uint8_t (*)[16])ids, 1, acked), 1);
	ck_assert_int_eq(acked[0], 1);
	ck_assert_int_eq(gba_store_ccm_delivered(st, serial, 1), 1);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 2);
	/* twice is once */
	ck_assert_int_eq(gba_store_ccm_ack(st, "a@x", (const uint8_t (*)[16])ids, 3, acked), 1);
	ck_assert_int_eq(acked[0], 0);
	ck_assert_int_eq(acked[1], 1);
	ck_assert_int_eq(acked[2], 0);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 0);
	ck_assert_int_eq(gba_store_ccm_get(st, m[1].msg_id, &r), 0);
	ck_assert_int_eq(r.state, GBA_CCM_ACKED);
	gba_ccm_row_clear(&r);
	/* an acknowledged message is not sent again */
	ck_assert_int_eq(gba_store_ccm_mark_sent(st, sent, 2), 0);
	ck_assert_int_eq(gba_store_ccm_get(st, m[1].msg_id, &r), 0);
	ck_assert_int_eq(r.state, GBA_CCM_ACKED);
	gba_ccm_row_clear(&r);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

static int changes_cb(void *ctx, const char *impi)
{
	char *buf = ctx;

	ck_assert_uint_lt(strlen(buf) + strlen(impi) + 2, 256);
	memcpy(buf + strlen(buf), impi, strlen(impi) + 1);
	memcpy(buf + strlen(buf), ",", 2);
	return 0;
}

START_TEST(ccm_changes_seen_across_handles)
{
	struct env e;
	struct gba_store *st = NULL, *other = NULL;
	struct gba_ccm_out m[3];
	int64_t mark = -5, mark2 = 0;
	char seen[256] = "";

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(gba_store_open(&other, e.db, e.key), 0);
	make_ccm(&m[0], 1, "a@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(other, m, 1), 0);
	/* a poller starts at the newest row */
	ck_assert_int_eq(gba_store_ccm_changes(st, -1, &mark, NULL, NULL), 0);
	ck_assert_int_eq(mark, 1);
	ck_assert_int_eq(gba_store_ccm_changes(st, mark, &mark2, changes_cb, seen), 0);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(mark2, mark);
	/* another handle (another daemon) queues */
	make_ccm(&m[0], 2, "b@x", 0, 1000);
	make_ccm(&m[1], 3, "c@x", 0, 1000);
	make_ccm(&m[2], 4, "b@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(other, m, 3), 0);
	ck_assert_int_eq(gba_store_ccm_changes(st, mark, &mark2, changes_cb, seen), 0);
	ck_assert_str_eq(seen, "c@x,b@x,");
	ck_assert_int_eq(mark2, 4);
	seen[0] = '\0';
	ck_assert_int_eq(gba_store_ccm_changes(st, mark2, &mark, changes_cb, seen), 0);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(mark, 4);
	gba_store_close(other);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

static int expire_cb(void *ctx, const struct gba_ccm_row *r)
{
	struct ccm_seen *v = ctx;

	ck_assert_uint_lt(v->n, 16);
	ck_assert_int_ne(r->state, GBA_CCM_ACKED);
	v->id[v->n++] = r->msg_id[0];
	return 0;
}

static int expire_refuse(void *ctx, const struct gba_ccm_row *r)
{
	(void)ctx;
	(void)r;
	return GBA_EIO;
}

START_TEST(ccm_expiry_reports_unacked_and_keeps_numbers)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_ccm_out m[3];
	struct ccm_seen v;
	uint8_t id[1][GBA_STORE_CCM_ID_LEN];
	int acked[1];

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_ccm(&m[0], 1, "a@x", 0, 200);
	make_ccm(&m[1], 2, "a@x", 0, 200);
	make_ccm(&m[2], 3, "a@x", 0, 900);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 3), 0);
	memcpy(id[0], m[1].msg_id, GBA_STORE_CCM_ID_LEN);
	ck_assert_int_eq(gba_store_ccm_ack(st, "a@x", (const uint8_t (*)[16])id, 1, acked), 1);
	/* nothing due yet */
	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(gba_store_ccm_expire(st, 199, expire_cb, &v), 0);
	ck_assert_uint_eq(v.n, 0);
	/* a failing audit deletes nothing */
	ck_assert_int_eq(gba_store_ccm_expire(st, 200, expire_refuse, NULL), GBA_EIO);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	/* due: the unacknowledged one is reported, both go */
	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(gba_store_ccm_expire(st, 200, expire_cb, &v), 2);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.id[0], 1);
	ccm_list(st, "a@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 3);
	/* numbers are not reused after a purge */
	make_ccm(&m[0], 9, "a@x", 0, 900);
	ck_assert_int_eq(gba_store_ccm_queue(st, m, 1), 0);
	ccm_list(st, "a@x", 3, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 4);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

/* A process that commits a certificate with its CCM and is killed with
 * SIGKILL at once (no close, no checkpoint): both are there after a
 * reopen, and the numbering continues. */
START_TEST(ccm_survives_kill_after_commit)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c;
	struct gba_ccm_out m;
	struct gba_cmc_txn t;
	struct ccm_seen v;
	pid_t pid;
	int status = 0;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	gba_store_close(st);
	st = NULL;
	make_cert(&c, 0x200, "k@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct gba_store *cs = NULL;

		make_ccm(&m, 1, "k@x", 0, 1000);
		make_txn(&t, "nonce-k", &c, 1);
		t.ccms = &m;
		t.nccms = 1;
		if (gba_store_open(&cs, e.db, e.key) != 0 || gba_store_cmc_commit(cs, &t) != 0)
			_exit(3);
		raise(SIGKILL);
		_exit(4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert(cert_exists(st, &c));
	ccm_list(st, "k@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_uint_eq(v.seq[0], 1);
	make_ccm(&m, 2, "k@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, &m, 1), 0);
	ccm_list(st, "k@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_uint_eq(v.seq[1], 2);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(ccm_allocation_failures)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_ccm_out m;
	struct gba_ccm_row r;
	unsigned n;
	int ret;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_ccm(&m, 1, "a@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, &m, 1), 0);
	for (n = 1;; n++) {
		gba_mem_fail_after(n);
		ret = gba_store_ccm_get(st, m.msg_id, &r);
		gba_mem_fail_after(0);
		if (ret == 0) {
			gba_ccm_row_clear(&r);
			break;
		}
		ck_assert_int_eq(ret, GBA_ENOMEM);
		ck_assert_ptr_null(r.body);
		ck_assert_uint_lt(n, 100);
	}
	gba_store_close(st);
	env_done(&e);
}
END_TEST

START_TEST(schema_v4_database_gains_the_outbox)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c;
	struct gba_cmc_txn t;
	struct gba_ccm_out m;
	struct ccm_seen v;

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c, 7, "old@x", "naf", 1, 2, GBA_CERT_VALID);
	make_txn(&t, "n", &c, 1);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	gba_store_close(st);
	st = NULL;
	raw_exec(e.db, "DROP TABLE ccm_outbox; DROP TABLE ccm_seq; DROP TABLE ccm_installed;"
	               " PRAGMA user_version = 4;");
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	ck_assert_int_eq(raw_user_version(e.db), 5);
	ck_assert(cert_exists(st, &c));
	make_ccm(&m, 1, "old@x", 0, 1000);
	ck_assert_int_eq(gba_store_ccm_queue(st, &m, 1), 0);
	ccm_list(st, "old@x", 0, 100, 10, &v);
	ck_assert_uint_eq(v.n, 1);
	gba_store_close(st);
	env_done(&e);
}
END_TEST

static int impis_cb(void *ctx, const char *impi)
{
	char *buf = ctx;

	ck_assert_uint_lt(strlen(buf) + strlen(impi) + 2, 256);
	memcpy(buf + strlen(buf), impi, strlen(impi) + 1);
	memcpy(buf + strlen(buf), ",", 2);
	return 0;
}

START_TEST(cert_impis_for_a_policy_change)
{
	struct env e;
	struct gba_store *st = NULL;
	struct gba_cert_record c[5];
	struct gba_cmc_txn t;
	char seen[256] = "";

	env_init(&e);
	ck_assert_int_eq(gba_store_open(&st, e.db, e.key), 0);
	make_cert(&c[0], 1, "c@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	make_cert(&c[1], 2, "a@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	make_cert(&c[2], 3, "a@x", "naf.example.org", 10, 5000, GBA_CERT_VALID);
	make_cert(&c[3], 4, "b@x", "naf.example.org", 10, 5000, GBA_CERT_REVOKED);
	make_cert(&c[4], 5, "d@x", "other.example.org", 10, 5000, GBA_CERT_VALID);
	make_txn(&t, "n", c, 5);
	ck_assert_int_eq(gba_store_cmc_commit(st, &t), 0);
	/* valid ones of this application, each IMPI once, in order */
	ck_assert_int_eq(gba_store_cert_impis(st, "naf.example.org", NULL, 100, 10, impis_cb, seen),
	                 0);
	ck_assert_str_eq(seen, "a@x,c@x,");
	seen[0] = '\0';
	ck_assert_int_eq(gba_store_cert_impis(st, "naf.example.org", NULL, 100, 1, impis_cb, seen),
	                 0);
	ck_assert_str_eq(seen, "a@x,");
	seen[0] = '\0';
	ck_assert_int_eq(gba_store_cert_impis(st, "naf.example.org", "a@x", 100, 10, impis_cb, seen),
	                 0);
	ck_assert_str_eq(seen, "c@x,");
	/* expired ones do not count */
	seen[0] = '\0';
	ck_assert_int_eq(gba_store_cert_impis(st, "naf.example.org", NULL, 5001, 10, impis_cb, seen),
	                 0);
	ck_assert_str_eq(seen, "");
	gba_store_close(st);
	env_done(&e);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("gba_store");
	TCase *tc = tcase_create("store");

	/* synchronous=FULL: every commit is an fsync. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, av_matches_milenage_and_sqn_advances);
	tcase_add_test(tc, av_two_handles_interleaved_get_distinct_sqns);
	tcase_add_test(tc, av_concurrent_processes_get_distinct_sqns);
	tcase_add_test(tc, resync_with_valid_auts_sets_sqn);
	tcase_add_test(tc, resync_with_wrong_mac_s_changes_nothing);
	tcase_add_test(tc, challenge_take_is_single_use_impi_bound_and_expires);
	tcase_add_test(tc, bootstrap_put_replaces_same_impi_and_survives_reopen);
	tcase_add_test(tc, purge_deletes_expired_and_counts);
	tcase_add_test(tc, subscriber_add_get_list_remove);
	tcase_add_test(tc, import_is_all_or_nothing);
	tcase_add_test(tc, tampered_rows_fail_cleanly);
	tcase_add_test(tc, wrong_or_missing_key_file_refused);
	tcase_add_test(tc, key_file_permissions_refused);
	tcase_add_test(tc, unknown_schema_and_foreign_files_refused);
	tcase_add_test(tc, allocation_failures_are_clean);
	tcase_add_test(tc, cert_round_trip_and_duplicate_serial);
	tcase_add_test(tc, confirm_cert_acceptance);
	tcase_add_test(tc, replayed_nonce_changes_nothing);
	tcase_add_test(tc, batch_failures_are_per_txn);
	tcase_add_test(tc, pending_states_and_issue_cas);
	tcase_add_test(tc, cert_counts);
	tcase_add_test(tc, cert_list_purge_and_reopen);
	tcase_add_test(tc, schema_v1_database_is_upgraded);
	tcase_add_test(tc, schema_v3_database_is_upgraded_to_v4);
	tcase_add_test(tc, committer_concurrent_submits);
	tcase_add_test(tc, ca_records_allocation_failures);
	tcase_add_test(tc, status_changes_follow_rfc5280_rules);
	tcase_add_test(tc, epoch_moves_for_every_handle_at_once);
	tcase_add_test(tc, revoke_impi_is_all_or_nothing);
	tcase_add_test(tc, cmc_txn_revocation_is_replay_safe_and_owned);
	tcase_add_test(tc, revoked_list_and_stored_crls);
	tcase_add_test(tc, cert_list_current_pages);
	tcase_add_test(tc, schema_v2_database_is_upgraded_to_v4);
	tcase_add_test(tc, ccm_sequence_per_impi_and_listing);
	tcase_add_test(tc, ccm_queued_with_status_change_or_not_at_all);
	tcase_add_test(tc, ccm_commits_with_its_certificate_or_not_at_all);
	tcase_add_test(tc, ccm_sent_ack_by_owner_only);
	tcase_add_test(tc, ccm_changes_seen_across_handles);
	tcase_add_test(tc, ccm_expiry_reports_unacked_and_keeps_numbers);
	tcase_add_test(tc, ccm_survives_kill_after_commit);
	tcase_add_test(tc, ccm_allocation_failures);
	tcase_add_test(tc, schema_v4_database_gains_the_outbox);
	tcase_add_test(tc, cert_impis_for_a_policy_change);
	tcase_add_test(tc, revocation_allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(store_suite());
}
