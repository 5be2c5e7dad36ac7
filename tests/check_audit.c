/* check_audit.c - the hash-chained audit sink (lib/gba_audit). */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_audit.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "testutil.h"

#define MAX_LINES 1024

static char dir[] = "/tmp/check_audit.XXXXXX";
static char path[128];

static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* A file's lines (newlines removed), read whole. */
struct lines {
	char *buf;
	char *l[MAX_LINES];
	size_t len[MAX_LINES];
	size_t n;
};

static void read_lines(const char *p, struct lines *ls)
{
	FILE *f = fopen(p, "rb");
	long sz;
	size_t i, start = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	ck_assert_int_ge(sz, 0);
	rewind(f);
	ls->buf = malloc((size_t)sz + 1);
	ck_assert_ptr_nonnull(ls->buf);
	ck_assert_uint_eq(fread(ls->buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	ls->buf[sz] = '\0';
	ls->n = 0;
	for (i = 0; i < (size_t)sz; i++) {
		if (ls->buf[i] != '\n')
			continue;
		ck_assert_uint_lt(ls->n, MAX_LINES);
		ls->buf[i] = '\0';
		ls->l[ls->n] = ls->buf + start;
		ls->len[ls->n] = i - start;
		ls->n++;
		start = i + 1;
	}
	ck_assert_uint_eq(start, (size_t)sz);   /* ends with a newline */
}

/* Check the chain over ls; *seq and hash carry it from a previous file
 * (seq 0 and zeros for a fresh chain).  Returns the number of lines. */
static size_t check_chain(const struct lines *ls, uint64_t *seq, char hash[65])
{
	char prev[65];
	uint64_t s;
	size_t i;

	for (i = 0; i < ls->n; i++) {
		ck_assert_int_eq(gba_audit_line_parse(ls->l[i], ls->len[i], &s, prev), 0);
		ck_assert_uint_eq(s, *seq + 1);
		ck_assert_str_eq(prev, hash);
		ck_assert_int_eq(gba_audit_line_hash(ls->l[i], ls->len[i], hash), 0);
		*seq = s;
	}
	return ls->n;
}

static void emit(struct gba_audit *a, enum gba_audit_type t, const char *peer)
{
	struct gba_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.outcome = GBA_AUDIT_OK;
	ev.peer = peer;
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
}

static void teardown(void)
{
	char p[256];
	int i;

	unlink(path);
	snprintf(p, sizeof(p), "%s.anchor", path);
	unlink(p);
	for (i = 1; i < 5; i++) {
		snprintf(p, sizeof(p), "%s.%d", path, i);
		unlink(p);
	}
	rmdir(dir);
	memcpy(dir + sizeof(dir) - 7, "XXXXXX", 6);
}

START_TEST(chains_three_events)
{
	struct gba_audit *a;
	struct gba_audit_event ev;
	struct lines ls;
	struct stat st;
	uint64_t seq = 0, hseq;
	char hash[65], head[65];

	memcpy(hash, zero, sizeof(hash));
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	emit(a, GBA_AUDIT_START, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_AUDIT_BOOTSTRAP;
	ev.outcome = GBA_AUDIT_DENIED;
	ev.reason = "wrong-res";
	ev.peer = "127.0.0.1:4711";
	ev.impi = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
	ev.btid = "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example";
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
	ev.type = GBA_AUDIT_ISSUE;
	ev.outcome = GBA_AUDIT_OK;
	ev.reason = NULL;
	ev.impi = NULL;
	ev.btid = NULL;
	ev.app = "naf.example.org";
	ev.policy = "policies/default.yaml";
	ev.policy_sha256 = "ab";
	ev.serial = "01ff";
	ev.subject = "CN=alice";
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
	gba_audit_head(a, &hseq, head);
	gba_audit_close(a);

	read_lines(path, &ls);
	ck_assert_uint_eq(check_chain(&ls, &seq, hash), 3);
	ck_assert_uint_eq(seq, 3);
	ck_assert_uint_eq(hseq, 3);
	ck_assert_str_eq(head, hash);
	ck_assert(strncmp(ls.l[0], "{\"seq\":1,\"time\":\"", 17) == 0);
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\",\"event\":\"start\",\"outcome\":\"ok\",\"prev\":\""));
	/* RFC 3339 UTC with milliseconds: 2026-01-31T12:00:00.123Z */
	ck_assert_int_eq(ls.l[0][17 + 19], '.');
	ck_assert_int_eq(ls.l[0][17 + 23], 'Z');
	ck_assert_ptr_nonnull(strstr(ls.l[1], "\"event\":\"bootstrap\",\"outcome\":\"denied\","
	                                      "\"reason\":\"wrong-res\",\"peer\":\"127.0.0.1:4711\","
	                                      "\"impi\":\"sha256:"));
	/* identities only as hashes */
	ck_assert_ptr_null(strstr(ls.l[1], "001010123456789"));
	ck_assert_ptr_null(strstr(ls.l[1], "I1U8vpY3"));
	ck_assert_ptr_nonnull(strstr(ls.l[2], "\"app\":\"naf.example.org\",\"policy\":"
	                                      "\"policies/default.yaml\",\"policy_sha256\":\"ab\","
	                                      "\"serial\":\"01ff\",\"subject\":\"CN=alice\",\"prev\""));
	free(ls.buf);
}
END_TEST

START_TEST(clear_ids_records_identities)
{
	struct gba_audit *a;
	struct gba_audit_event ev;
	struct lines ls;

	ck_assert_int_eq(gba_audit_open(&a, path, GBA_AUDIT_CLEAR_IDS), 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_AUDIT_BOOTSTRAP;
	ev.impi = "alice@example.org";
	ev.btid = "b@bsf";
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
	gba_audit_close(a);
	read_lines(path, &ls);
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\"impi\":\"alice@example.org\",\"btid\":\"b@bsf\""));
	free(ls.buf);
	ck_assert_int_eq(gba_audit_open(&a, path, 0x80), GBA_EINVAL);
}
END_TEST

START_TEST(reopen_continues_the_chain)
{
	struct gba_audit *a;
	struct lines ls;
	uint64_t seq = 0;
	char hash[65];
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
		emit(a, GBA_AUDIT_START, NULL);
		emit(a, GBA_AUDIT_STOP, NULL);
		gba_audit_close(a);
	}
	/* without the anchor too (a crash loses nothing: the file is the truth) */
	{
		char anchor[256];

		snprintf(anchor, sizeof(anchor), "%s.anchor", path);
		ck_assert_int_eq(unlink(anchor), 0);
	}
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_START, NULL);
	gba_audit_close(a);

	memcpy(hash, zero, sizeof(hash));
	read_lines(path, &ls);
	ck_assert_uint_eq(check_chain(&ls, &seq, hash), 7);
	free(ls.buf);
}
END_TEST

/* A second writer would append its own chain; it is refused while the
 * first holds the file, and welcome once it has closed it. */
START_TEST(one_writer_per_file)
{
	struct gba_audit *a, *b = NULL;

	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_START, NULL);
	ck_assert_int_eq(gba_audit_open(&b, path, 0), GBA_EIO);
	ck_assert_ptr_null(b);
	emit(a, GBA_AUDIT_STOP, NULL);
	gba_audit_close(a);
	ck_assert_int_eq(gba_audit_open(&b, path, 0), 0);
	gba_audit_close(b);
}
END_TEST

START_TEST(refuses_a_torn_or_truncated_file)
{
	struct gba_audit *a;
	int fd;

	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_START, NULL);
	emit(a, GBA_AUDIT_STOP, NULL);
	gba_audit_close(a);
	/* an emptied file continues from the anchor (the rotation case);
	 * gba-ctl audit verify then reports where the chain resumes */
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);   /* empty: from the anchor */
	emit(a, GBA_AUDIT_START, NULL);
	gba_audit_close(a);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"seq\":4,", 9), 9);   /* torn tail */
	close(fd);
	ck_assert_int_eq(gba_audit_open(&a, path, 0), GBA_ESYNTAX);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(anchor_ahead_of_the_file_is_refused)
{
	struct gba_audit *a;
	char anchor[256];
	FILE *f;

	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_START, NULL);
	gba_audit_close(a);
	snprintf(anchor, sizeof(anchor), "%s.anchor", path);
	f = fopen(anchor, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "9 %s\n", zero);
	fclose(f);
	ck_assert_int_eq(gba_audit_open(&a, path, 0), GBA_ESYNC);
}
END_TEST

START_TEST(rotation_keeps_the_chain_across_files)
{
	struct gba_audit *a;
	struct lines ls;
	uint64_t seq = 0;
	char hash[65], p[256];
	int i;

	memcpy(hash, zero, sizeof(hash));
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_START, NULL);
	emit(a, GBA_AUDIT_BOOTSTRAP, NULL);
	ck_assert_int_eq(gba_audit_rotate(a), 0);
	emit(a, GBA_AUDIT_BOOTSTRAP, NULL);
	ck_assert_int_eq(gba_audit_rotate(a), 0);
	gba_audit_close(a);
	/* a restart after rotation continues the newest file */
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	emit(a, GBA_AUDIT_STOP, NULL);
	gba_audit_close(a);

	for (i = 1; i <= 2; i++) {
		snprintf(p, sizeof(p), "%s.%d", path, i);
		read_lines(p, &ls);
		ck_assert_uint_eq(check_chain(&ls, &seq, hash), i == 1 ? 2 : 2);
		if (i == 2)
			ck_assert_ptr_nonnull(strstr(ls.l[0], "\"event\":\"rotate\""));
		free(ls.buf);
	}
	read_lines(path, &ls);
	ck_assert_uint_eq(check_chain(&ls, &seq, hash), 2);
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\"event\":\"rotate\""));
	ck_assert_uint_eq(seq, 6);
	free(ls.buf);
}
END_TEST

struct worker_arg {
	struct gba_audit *a;
	int id;
	int fails;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct gba_audit_event ev;
	char peer[32];
	int i;

	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_AUDIT_ZN_KEY;
	ev.peer = peer;
	for (i = 0; i < 200; i++) {
		snprintf(peer, sizeof(peer), "10.0.0.%d:%d", w->id, i);
		if (gba_audit_emit(w->a, &ev) != 0)
			w->fails++;
	}
	return NULL;
}

START_TEST(threads_share_one_chain)
{
	struct gba_audit *a;
	struct worker_arg w[2];
	pthread_t t[2];
	struct lines ls;
	uint64_t seq = 0;
	char hash[65];
	int i;

	memcpy(hash, zero, sizeof(hash));
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	for (i = 0; i < 2; i++) {
		w[i].a = a;
		w[i].id = i + 1;
		w[i].fails = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(w[i].fails, 0);
	}
	gba_audit_close(a);
	read_lines(path, &ls);
	ck_assert_uint_eq(check_chain(&ls, &seq, hash), 400);
	free(ls.buf);
}
END_TEST

START_TEST(escapes_hostile_values)
{
	struct gba_audit *a;
	struct gba_audit_event ev;
	struct lines ls;
	uint64_t seq = 0;
	char hash[65], big[2 * GBA_AUDIT_VALUE_MAX];

	memcpy(hash, zero, sizeof(hash));
	ck_assert_int_eq(gba_audit_open(&a, path, 0), 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_AUDIT_ZN_KEY;
	ev.outcome = GBA_AUDIT_DENIED;
	ev.peer = "a\"b\\c\nd\re\tf\x01g\x7fh";
	ev.app = "x\",\"prev\":\"0000\"}\n{\"seq\":99";
	ev.subject = "caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xe2\x82";
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
	/* over the cap: cut, never inside a character, marked "..." */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[GBA_AUDIT_VALUE_MAX - 4] = '\xc3';
	big[GBA_AUDIT_VALUE_MAX - 3] = '\xa9';
	ev.peer = NULL;
	ev.subject = NULL;
	ev.app = big;
	ck_assert_int_eq(gba_audit_emit(a, &ev), 0);
	gba_audit_close(a);

	read_lines(path, &ls);
	ck_assert_uint_eq(ls.n, 2);
	ck_assert_uint_eq(check_chain(&ls, &seq, hash), 2);
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\"peer\":\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\""));
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\"app\":\"x\\\",\\\"prev\\\":\\\"0000\\\"}\\n"
	                                      "{\\\"seq\\\":99\""));
	ck_assert_ptr_nonnull(strstr(ls.l[0], "\"subject\":\"caf\xc3\xa9 \\ufffd\\ufffd\\ufffd "
	                                      "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\""));
	ck_assert_ptr_nonnull(strstr(ls.l[1], "AAA...\",\"prev\""));
	ck_assert_ptr_null(strstr(ls.l[1], "\xc3"));   /* the é did not fit whole */
	free(ls.buf);
}
END_TEST

START_TEST(write_failure_is_an_error)
{
	struct gba_audit *a;
	struct gba_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = GBA_AUDIT_BOOTSTRAP;
	/* /dev/full: open succeeds, every write fails with ENOSPC */
	ck_assert_int_eq(gba_audit_open(&a, "/dev/full", 0), 0);
	ck_assert_int_eq(gba_audit_emit(a, &ev), GBA_EIO);
	ck_assert_int_eq(gba_audit_emit(a, &ev), GBA_EIO);
	ck_assert_int_eq(gba_audit_rotate(a), GBA_EUNSUPP);   /* never renames a device */
	gba_audit_close(a);
	/* an unusable path fails at open */
	ck_assert_int_eq(gba_audit_open(&a, "/nonexistent-dir/audit.jsonl", 0), GBA_EIO);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(gba_audit_open(&a, "", 0), GBA_EINVAL);
}
END_TEST

START_TEST(line_parser_is_strict)
{
	static const char *bad[] = {
		"",
		"{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"",
		"{\"seq\":01,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":1,\"prev\":\"000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":1,\"prev\":\"000000000000000000000000000000000000000000000000000000000000000A\"}",
		"{\"seq\":1,\"a\":\"\x01\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":1,\"a\":\"\\x\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":1,\"a\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"a\":\"b\"}",
		"{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"} ",
		"{\"seq\":99999999999999999999,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	static const char good[] =
		"{\"seq\":12,\"a\":\"\\u00e9\\\"\",\"prev\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}";
	char prev[65];
	uint64_t seq;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gba_audit_line_parse(bad[i], strlen(bad[i]), &seq, prev) == GBA_ESYNTAX,
		              "accepted bad line %zu", i);
	ck_assert_int_eq(gba_audit_line_parse(good, strlen(good), &seq, prev), 0);
	ck_assert_uint_eq(seq, 12);
	ck_assert_str_eq(prev, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}
END_TEST

START_TEST(survives_allocation_failures)
{
	struct gba_audit *a = NULL;
	long n;
	int ret = -1;

	for (n = 0; n < 100 && ret != 0; n++) {
		gba_mem_fail_after(n);
		ret = gba_audit_open(&a, path, 0);
		gba_mem_fail_reset();
		if (ret != 0) {
			ck_assert_int_eq(ret, GBA_ENOMEM);
			ck_assert_ptr_null(a);
		}
	}
	ck_assert_int_eq(ret, 0);
	emit(a, GBA_AUDIT_START, NULL);
	gba_audit_close(a);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("gba_audit");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, chains_three_events);
	tcase_add_test(tc, clear_ids_records_identities);
	tcase_add_test(tc, reopen_continues_the_chain);
	tcase_add_test(tc, one_writer_per_file);
	tcase_add_test(tc, refuses_a_torn_or_truncated_file);
	tcase_add_test(tc, anchor_ahead_of_the_file_is_refused);
	tcase_add_test(tc, rotation_keeps_the_chain_across_files);
	tcase_add_test(tc, threads_share_one_chain);
	tcase_add_test(tc, escapes_hostile_values);
	tcase_add_test(tc, write_failure_is_an_error);
	tcase_add_test(tc, line_parser_is_strict);
	tcase_add_test(tc, survives_allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(audit_suite());
}
