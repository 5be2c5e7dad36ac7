/*
 * ctl_audit.c - gba-ctl audit verify FILE...
 *
 * Checks the hash chain of audit files (lib/gba_audit.h, doc/audit.md)
 * given in chronological order (path.1 path.2 ... path): every line is a
 * complete, strictly formed record, seq grows by one, and each "prev" is
 * the SHA-256 of the line before it, also across files.  When the last
 * file has an anchor (FILE.anchor) the chain must reach it.  Prints
 * "OK n records ..." and exits 0, or names the first broken record
 * (file:line, seq, what is wrong) and exits 1; 2 for usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gba_audit.h"
#include "gba_err.h"
#include "gba_mem.h"

#define EXIT_ERR   1
#define EXIT_USAGE 2
#define ANCHOR_SUFFIX ".anchor"

int ctl_audit_main(int argc, char **argv);

struct chain {
	int have;                               /* a record was seen */
	uint64_t seq;                           /* of the last record */
	char hash[GBA_AUDIT_HASH_HEX + 1];      /* of the last record */
	const char *file;                       /* where it was */
	unsigned long line;
	unsigned long n;
	char buf[GBA_AUDIT_LINE_MAX + 1];
};

static int broken(const char *file, unsigned long line, const char *what)
{
	printf("BROKEN %s:%lu: %s\n", file, line, what);
	return EXIT_ERR;
}

/* One record line (without newline). */
static int check_line(struct chain *c, const char *file, unsigned long ln, size_t len)
{
	static const char zero[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	char prev[GBA_AUDIT_HASH_HEX + 1], what[512];
	uint64_t seq;

	if (gba_audit_line_parse(c->buf, len, &seq, prev) != 0)
		return broken(file, ln, "not a well-formed audit record");
	if (c->have) {
		if (seq != c->seq + 1) {
			snprintf(what, sizeof(what), "seq %" PRIu64 ", expected %" PRIu64
			         " (records are missing, reordered or altered)", seq, c->seq + 1);
			return broken(file, ln, what);
		}
		if (strcmp(prev, c->hash) != 0) {
			snprintf(what, sizeof(what), "seq %" PRIu64 ": prev is not the hash of the "
			         "record before it (%s:%lu, seq %" PRIu64 "): that record was "
			         "altered or replaced", seq, c->file, c->line, c->seq);
			return broken(file, ln, what);
		}
	} else if (strcmp(prev, zero) == 0 && seq != 1) {
		snprintf(what, sizeof(what), "seq %" PRIu64 " starts a new chain, expected 1", seq);
		return broken(file, ln, what);
	} else if (strcmp(prev, zero) != 0) {
		printf("note: %s:%lu: the chain continues from an earlier file (seq %" PRIu64
		       " after %s)\n", file, ln, seq - 1, prev);
	}
	if (gba_audit_line_hash(c->buf, len, c->hash) != 0)
		return broken(file, ln, "cannot hash the record");
	c->have = 1;
	c->seq = seq;
	c->file = file;
	c->line = ln;
	c->n++;
	return 0;
}

static int verify_file(struct chain *c, const char *file)
{
	size_t len = 0;
	unsigned long ln = 0;
	int fd, ret = 0, ch;
	FILE *f;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		fprintf(stderr, "gba-ctl: cannot read %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_ERR;
	}
	while ((ch = getc(f)) != EOF) {
		if (ch != '\n') {
			if (len >= GBA_AUDIT_LINE_MAX) {
				ret = broken(file, ln + 1, "line longer than any audit record");
				goto out;
			}
			c->buf[len++] = (char)ch;
			continue;
		}
		ln++;
		ret = check_line(c, file, ln, len);
		if (ret != 0)
			goto out;
		len = 0;
	}
	if (ferror(f)) {
		fprintf(stderr, "gba-ctl: read error on %s\n", file);
		ret = EXIT_ERR;
	} else if (len > 0) {
		ret = broken(file, ln + 1, "incomplete last line (no newline): a torn write");
	}
out:
	fclose(f);
	return ret;
}

/* The last file's anchor, if any, must be on the chain. */
static int check_anchor(struct chain *c, const char *file)
{
	char path[4096], hash[GBA_AUDIT_HASH_HEX + 1], what[512];
	uint64_t seq;
	int n, r;

	n = snprintf(path, sizeof(path), "%s%s", file, ANCHOR_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	r = gba_audit_anchor_read(path, &seq, hash);
	if (r == 0)
		return 0;
	if (r < 0)
		return broken(path, 1, "unreadable anchor");
	if (seq > c->seq || (!c->have && seq > 0)) {
		snprintf(what, sizeof(what), "the anchor names seq %" PRIu64 " but the chain ends "
		         "at seq %" PRIu64 ": records at the end were removed", seq, c->seq);
		return broken(file, c->line + 1, what);
	}
	if (seq == c->seq && c->have && strcmp(hash, c->hash) != 0) {
		snprintf(what, sizeof(what), "seq %" PRIu64 ": the last record does not match "
		         "the anchor's hash: it was altered", seq);
		return broken(c->file, c->line, what);
	}
	return 0;
}

int ctl_audit_main(int argc, char **argv)
{
	struct chain *c;
	int i, ret = 0;

	if (argc < 3 || strcmp(argv[1], "verify") != 0) {
		fprintf(stderr, "usage: gba-ctl audit verify FILE...\n"
		        "  files in chronological order (FILE.1 FILE.2 ... FILE)\n");
		return EXIT_USAGE;
	}
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return EXIT_ERR;
	for (i = 2; i < argc && ret == 0; i++)
		ret = verify_file(c, argv[i]);
	if (ret == 0)
		ret = check_anchor(c, argv[argc - 1]);
	if (ret == 0)
		printf("OK %lu records, head seq %" PRIu64 " sha256 %s\n", c->n, c->seq,
		       c->have ? c->hash : "-");
	gba_free(c);
	if (fflush(stdout) != 0 && ret == 0)
		ret = EXIT_ERR;
	return ret;
}
