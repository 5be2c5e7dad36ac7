/*
 * ctl_main.c - gba-ctl, the administration tool for the BSF's store.
 *
 *   gba-ctl [--db PATH] [--key-file PATH] subscriber add|show|list|remove|import
 *   gba-ctl policy check DIR                 (ctl_policy.c)
 *   gba-ctl [--db PATH] [--key-file PATH] cert|pending|approve|reject   (ctl_cert.c)
 *   gba-ctl [--db PATH] [--key-file PATH] [--audit-log PATH]
 *           revoke|hold|unhold|revoke-subscriber|crl                (ctl_revoke.c)
 *
 * Every argument is checked before the database is opened, so bad input
 * changes nothing.  K, OP and OPc are never printed; the hex strings given
 * on the command line are overwritten once parsed (they are still visible
 * in /proc while the process starts: prefer `import` from a 0600 file for
 * real keys).  Exit status: 0 success, 1 error, 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_store.h"
#include "ctl_cert.h"
#include "ctl_policy.h"

#define DEFAULT_DB       "./gbacert.db"
#define DEFAULT_KEY      "./gbacert.key"
#define DEFAULT_AUDIT    "./gbacert-ctl-audit.jsonl"
#define IMPORT_LINE_MAX  1024u        /* one subscriber line, newline included */
#define IMPORT_MAX_LINES 1000000ul    /* lines in one import file */
#define IMPORT_FIELDS    6u

#define EXIT_ERR   1
#define EXIT_USAGE 2

static const char *prog = "gba-ctl";

int ctl_audit_main(int argc, char **argv);   /* ctl_audit.c */
int ctl_ca_main(int argc, char **argv);      /* ctl_ca.c */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ctl [--db PATH] [--key-file PATH] subscriber COMMAND ...\n"
	        "       gba-ctl audit verify FILE...   check an audit log's hash chain\n"
	        "       gba-ctl ca init DIR [...]      create a CA directory (ca --help)\n"
	        "\n"
	        "  subscriber add IMPI --k HEX (--op HEX | --opc HEX) [--amf HEX] [--sqn HEX]\n"
	        "                 [--lifetime SECONDS] [--guss-file FILE]\n"
	        "  subscriber show IMPI      IMPI, AMF, SQN, lifetime and GUSS (never K/OP/OPc)\n"
	        "  subscriber list           every IMPI, one per line\n"
	        "  subscriber remove IMPI    also ends the IMPI's bootstrap contexts\n"
	        "  subscriber import FILE    one subscriber per line: IMPI K OPC AMF SQN [LIFETIME]\n"
	        "                            (hex fields, '#' starts a comment); all or nothing\n"
	        "  policy check DIR          validate DIR/*.yaml, print the effective policies\n"
	        "  cert list [--impi IMPI] | cert show SERIAL | pending list\n"
	        "  approve TOKEN | reject TOKEN   decide a waiting certificate request\n"
	        "  revoke SERIAL --reason R [--invalidity-date T] | hold SERIAL --policy-dir DIR\n"
	        "  unhold SERIAL | revoke-subscriber IMPI --reason R   (audited; revoke --help)\n"
	        "  crl CA-DIR [--ca-name N] [--out FILE]   the CA's current CRL\n"
	        "\n"
	        "  --db PATH         database (default " DEFAULT_DB ")\n"
	        "  --key-file PATH   32-byte at-rest key, mode 0600 (default " DEFAULT_KEY ");\n"
	        "                    created with a new database\n"
	        "  --audit-log PATH  gba-ctl's own audit log for revoke/hold/unhold\n"
	        "                    (default " DEFAULT_AUDIT ")\n"
	        "  K, OP, OPc: 32 hex digits; AMF: 4 (default 0000); SQN: 1-12 (default 0);\n"
	        "  LIFETIME: seconds, 0 = BSF default; GUSS file: JSON, at most %u bytes.\n",
	        GBA_MAX_GUSS_LEN);
}

static void wipe_arg(char *s)
{
	gba_wipe(s, strlen(s));
}

/*
 * Field parsers: NULL on success, otherwise what was expected (the caller
 * says where).
 */

/* Exactly 2 * len hex digits (len 16: K, OP, OPc; len 2: AMF). */
static const char *parse_hex(const char *s, uint8_t *out, size_t len)
{
	size_t n = strnlen(s, 2 * len + 1);

	if (n != 2 * len || gba_hex_decode(s, n, out, len) != 0)
		return len == 2 ? "expected exactly 4 hex digits" : "expected exactly 32 hex digits";
	return NULL;
}

/* 1..12 hex digits: a 48-bit SQN. */
static const char *parse_sqn(const char *s, uint8_t sqn[6])
{
	static const char msg[] = "expected 1 to 12 hex digits";
	size_t n = strnlen(s, 13), i;
	uint64_t v = 0;

	if (n == 0 || n > 12)
		return msg;
	for (i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return msg;
		v = (v << 4) | d;
	}
	for (i = 6; i > 0; i--) {
		sqn[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	return NULL;
}

/* Decimal seconds, 0..UINT32_MAX. */
static const char *parse_lifetime(const char *s, uint32_t *out)
{
	static const char msg[] = "expected decimal seconds, 0 to 4294967295";
	uint64_t v = 0;
	size_t i, n = strnlen(s, 11);

	if (n == 0 || n > 10)
		return msg;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return msg;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return msg;
	*out = (uint32_t)v;
	return NULL;
}

/* Report a field error from add; 0 when msg is NULL. */
static int opt_err(const char *opt, const char *msg)
{
	if (msg == NULL)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", prog, opt, msg);
	return -1;
}

static int check_impi(const char *impi)
{
	if (gba_store_impi_check(impi) != 0) {
		fprintf(stderr,
		        "%s: invalid IMPI: must be 1 to %u printable ASCII characters, no spaces\n",
		        prog, GBA_MAX_IMPI_LEN);
		return -1;
	}
	return 0;
}

/*
 * Read the GUSS file: a regular file of at most GBA_MAX_GUSS_LEN bytes,
 * no NUL, starting (after white space) with '{'.  Full JSON validation
 * is the Zn module's; this catches the wrong file.  *out is a new
 * gba_malloc'd string on success.
 */
static int read_guss(const char *path, char **out)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0, i;
	ssize_t n;
	int fd = -1, ret = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s: not a regular file\n", prog, path);
		goto out;
	}
	if (sb.st_size < 0 || (uint64_t)sb.st_size > GBA_MAX_GUSS_LEN) {
		fprintf(stderr, "%s: %s: GUSS larger than %u bytes\n", prog, path, GBA_MAX_GUSS_LEN);
		goto out;
	}
	buf = gba_malloc(GBA_MAX_GUSS_LEN + 2);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	while (got < GBA_MAX_GUSS_LEN + 1) {   /* one more: the file may have grown */
		n = read(fd, buf + got, GBA_MAX_GUSS_LEN + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > GBA_MAX_GUSS_LEN) {
		fprintf(stderr, "%s: %s: GUSS larger than %u bytes\n", prog, path, GBA_MAX_GUSS_LEN);
		goto out;
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got) != NULL) {
		fprintf(stderr, "%s: %s: GUSS contains a NUL byte\n", prog, path);
		goto out;
	}
	for (i = 0; i < got && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
	                        buf[i] == '\r'); i++)
		;
	if (i == got || buf[i] != '{') {
		fprintf(stderr, "%s: %s: GUSS must be a JSON object\n", prog, path);
		goto out;
	}
	*out = buf;
	buf = NULL;
	ret = 0;
out:
	gba_free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- opening the store, with a reason a person can act on ---- */

static void explain_open_error(int err, const char *db, const char *key)
{
	struct stat sb;

	switch (err) {
	case GBA_EAUTH:
		fprintf(stderr, "%s: key file %s does not match database %s\n", prog, key, db);
		return;
	case GBA_EUNSUPP:
		fprintf(stderr,
		        "%s: %s: not a gbacert database, or made by a newer version (schema)\n",
		        prog, db);
		return;
	case GBA_EIO:
		if (lstat(key, &sb) != 0) {
			if (errno == ENOENT)
				fprintf(stderr,
				        "%s: key file %s is missing (it is only created with a new "
				        "database)\n",
				        prog, key);
			else
				fprintf(stderr, "%s: key file %s: %s\n", prog, key, strerror(errno));
			return;
		}
		if (!S_ISREG(sb.st_mode)) {
			fprintf(stderr, "%s: key file %s is not a regular file (symlinks are refused)\n",
			        prog, key);
			return;
		}
		if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			fprintf(stderr,
			        "%s: key file %s is accessible to group or others (mode %03o); "
			        "chmod 600 it\n",
			        prog, key, (unsigned)(sb.st_mode & 0777));
			return;
		}
		if (sb.st_size != GBA_STORE_KEY_LEN) {
			fprintf(stderr, "%s: key file %s is %lld bytes, expected %u\n", prog, key,
			        (long long)sb.st_size, GBA_STORE_KEY_LEN);
			return;
		}
		fprintf(stderr, "%s: %s: cannot open the database (not SQLite, locked or unreadable)\n",
		        prog, db);
		return;
	default:
		fprintf(stderr, "%s: %s: %s\n", prog, db, gba_strerror(err));
		return;
	}
}

static int open_store(struct gba_store **st, const char *db, const char *key, int must_exist)
{
	int ret;

	if (must_exist && access(db, F_OK) != 0) {
		fprintf(stderr, "%s: no database at %s\n", prog, db);
		return -1;
	}
	ret = gba_store_open(st, db, key);
	if (ret < 0) {
		explain_open_error(ret, db, key);
		return -1;
	}
	return 0;
}

int ctl_open_store(struct gba_store **st, const char *db, const char *key, int must_exist)
{
	return open_store(st, db, key, must_exist);
}

/* ---- subscriber add ---- */

static int cmd_add(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	struct gba_subscriber s;
	uint8_t k[16], op[16], opc[16];
	const char *impi = NULL, *guss_file = NULL;
	int i, have_k = 0, have_op = 0, have_opc = 0, ret = EXIT_ERR;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			if (impi != NULL) {
				fprintf(stderr, "%s: add: unexpected argument '%s'\n", prog, a);
				ret = EXIT_USAGE;
				goto out;
			}
			impi = a;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: add: %s needs a value\n", prog, a);
			ret = EXIT_USAGE;
			goto out;
		}
		i++;
		if (strcmp(a, "--k") == 0 && !have_k) {
			if (opt_err(a, parse_hex(argv[i], k, 16)) < 0)
				goto out;
			wipe_arg(argv[i]);
			have_k = 1;
		} else if (strcmp(a, "--op") == 0 && !have_op && !have_opc) {
			if (opt_err(a, parse_hex(argv[i], op, 16)) < 0)
				goto out;
			wipe_arg(argv[i]);
			have_op = 1;
		} else if (strcmp(a, "--opc") == 0 && !have_op && !have_opc) {
			if (opt_err(a, parse_hex(argv[i], opc, 16)) < 0)
				goto out;
			wipe_arg(argv[i]);
			have_opc = 1;
		} else if (strcmp(a, "--amf") == 0) {
			if (opt_err(a, parse_hex(argv[i], s.amf, 2)) < 0)
				goto out;
		} else if (strcmp(a, "--sqn") == 0) {
			if (opt_err(a, parse_sqn(argv[i], s.sqn)) < 0)
				goto out;
		} else if (strcmp(a, "--lifetime") == 0) {
			if (opt_err(a, parse_lifetime(argv[i], &s.lifetime_s)) < 0)
				goto out;
		} else if (strcmp(a, "--guss-file") == 0 && guss_file == NULL) {
			guss_file = argv[i];
		} else {
			fprintf(stderr, "%s: add: unknown or repeated option '%s'\n", prog, a);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (impi == NULL || !have_k || (!have_op && !have_opc)) {
		fprintf(stderr, "%s: add needs IMPI, --k and one of --op / --opc\n", prog);
		ret = EXIT_USAGE;
		goto out;
	}
	if (check_impi(impi) < 0)
		goto out;
	memcpy(s.impi, impi, strlen(impi) + 1);
	if (have_op && gba_milenage_opc(k, op, opc) != 0) {
		fprintf(stderr, "%s: cannot compute OPc from OP\n", prog);
		goto out;
	}
	if (gba_secret_set(&s.k, k, 16) != 0 || gba_secret_set(&s.opc, opc, 16) != 0)
		goto out;
	if (guss_file != NULL && read_guss(guss_file, &s.guss_json) < 0)
		goto out;
	if (open_store(&st, db, key, 0) < 0)
		goto out;
	i = gba_store_subscriber_add(st, &s);
	if (i == GBA_EDUP) {
		fprintf(stderr, "%s: subscriber %s already exists\n", prog, s.impi);
		goto out;
	}
	if (i < 0) {
		fprintf(stderr, "%s: add %s: %s\n", prog, s.impi, gba_strerror(i));
		goto out;
	}
	printf("added %s\n", s.impi);
	ret = 0;
out:
	gba_wipe(k, sizeof(k));
	gba_wipe(op, sizeof(op));
	gba_wipe(opc, sizeof(opc));
	gba_subscriber_clear(&s);
	gba_store_close(st);
	return ret;
}

/* ---- show, list, remove ---- */

static int cmd_show(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	struct gba_subscriber s;
	char amf[5], sqn[13];
	int r, ret = EXIT_ERR;

	memset(&s, 0, sizeof(s));
	if (argc != 1) {
		fprintf(stderr, "%s: show needs exactly one IMPI\n", prog);
		return EXIT_USAGE;
	}
	if (check_impi(argv[0]) < 0)
		return EXIT_ERR;
	if (open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_subscriber_get(st, argv[0], &s);
	if (r == GBA_ENOTFOUND) {
		fprintf(stderr, "%s: no subscriber %s\n", prog, argv[0]);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: show %s: %s%s\n", prog, argv[0], gba_strerror(r),
		        r == GBA_EIO ? " (stored record corrupt or tampered with?)" : "");
		goto out;
	}
	gba_hex_encode(s.amf, 2, amf);
	gba_hex_encode(s.sqn, 6, sqn);
	printf("IMPI:     %s\n", s.impi);
	printf("K:        (set)\n");
	printf("OPc:      (set)\n");
	printf("AMF:      %s\n", amf);
	printf("SQN:      %s\n", sqn);
	if (s.lifetime_s == 0)
		printf("Lifetime: 0 (BSF default)\n");
	else
		printf("Lifetime: %lu s\n", (unsigned long)s.lifetime_s);
	printf("GUSS:     %s\n", s.guss_json[0] != '\0' ? s.guss_json : "(none)");
	ret = 0;
out:
	gba_subscriber_clear(&s);
	gba_store_close(st);
	return ret;
}

static int print_impi(void *ctx, const char *impi)
{
	(void)ctx;
	return puts(impi) < 0 ? GBA_EIO : 0;
}

static int cmd_list(int argc, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	int r, ret = EXIT_ERR;

	if (argc != 0) {
		fprintf(stderr, "%s: list takes no arguments\n", prog);
		return EXIT_USAGE;
	}
	if (open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_subscriber_list(st, print_impi, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: list: %s\n", prog, gba_strerror(r));
		goto out;
	}
	ret = 0;
out:
	gba_store_close(st);
	return ret;
}

static int cmd_remove(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	int r, ret = EXIT_ERR;

	if (argc != 1) {
		fprintf(stderr, "%s: remove needs exactly one IMPI\n", prog);
		return EXIT_USAGE;
	}
	if (check_impi(argv[0]) < 0)
		return EXIT_ERR;
	if (open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_subscriber_remove(st, argv[0]);
	if (r == GBA_ENOTFOUND) {
		fprintf(stderr, "%s: no subscriber %s\n", prog, argv[0]);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: remove %s: %s\n", prog, argv[0], gba_strerror(r));
		goto out;
	}
	printf("removed %s\n", argv[0]);
	ret = 0;
out:
	gba_store_close(st);
	return ret;
}

/* ---- import ---- */

struct import_ctx {
	FILE *f;
	const char *name;
	unsigned long line;
	char buf[IMPORT_LINE_MAX + 1];
	int reported;   /* the error for this line is already printed */
};

static void import_err(struct import_ctx *c, const char *field, const char *msg)
{
	fprintf(stderr, "%s: %s:%lu: %s%s%s\n", prog, c->name, c->line,
	        field != NULL ? field : "", field != NULL ? ": " : "", msg);
	c->reported = 1;
}

/* Split buf in place at blanks, up to max fields; '#' ends the line.
 * Returns the field count, or max + 1 if there are more. */
static size_t split(char *buf, char **field, size_t max)
{
	size_t n = 0;
	char *p = buf;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return max + 1;
		field[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Read one line into c->buf without its newline (or CR LF).  1 for a
 * line, 0 at the end, a negative code (reported) for a read error, a
 * line over IMPORT_LINE_MAX or one with a NUL byte. */
static int read_line(struct import_ctx *c, size_t *lenp)
{
	size_t len = 0;
	int ch, any = 0;

	gba_wipe(c->buf, sizeof(c->buf));
	for (;;) {
		ch = getc(c->f);
		if (ch == EOF)
			break;
		any = 1;
		if (ch == '\n')
			break;
		if (len == IMPORT_LINE_MAX) {
			c->line++;
			import_err(c, NULL, "line too long");
			return GBA_ETOOBIG;
		}
		if (ch == '\0') {
			c->line++;
			import_err(c, NULL, "NUL byte in line");
			return GBA_ESYNTAX;
		}
		c->buf[len++] = (char)ch;
	}
	if (ferror(c->f)) {
		c->line++;
		import_err(c, NULL, "read error");
		return GBA_EIO;
	}
	if (!any)
		return 0;
	c->line++;
	if (c->line > IMPORT_MAX_LINES) {
		import_err(c, NULL, "too many lines");
		return GBA_ETOOBIG;
	}
	if (len > 0 && c->buf[len - 1] == '\r')
		len--;
	c->buf[len] = '\0';
	*lenp = len;
	return 1;
}

/* The store's record source: the next non-empty line, parsed. */
static int import_next(void *ctx, struct gba_subscriber *s)
{
	struct import_ctx *c = ctx;
	static const char *const name[IMPORT_FIELDS] = { "IMPI", "K", "OPc", "AMF", "SQN",
		                                         "lifetime" };
	char *field[IMPORT_FIELDS];
	const char *msg = NULL;
	uint8_t k[16], opc[16];
	size_t len, n, i;
	int ret = GBA_ESYNTAX;

	for (;;) {
		ret = read_line(c, &len);
		if (ret <= 0)
			return ret;
		n = split(c->buf, field, IMPORT_FIELDS);
		if (n != 0)
			break;
	}
	ret = GBA_ESYNTAX;
	if (n < 5 || n > IMPORT_FIELDS) {
		import_err(c, NULL, "expected: IMPI K OPC AMF SQN [LIFETIME]");
		goto out;
	}
	if (gba_store_impi_check(field[0]) != 0) {
		import_err(c, NULL, "invalid IMPI (1-255 printable ASCII characters)");
		goto out;
	}
	memcpy(s->impi, field[0], strlen(field[0]) + 1);
	for (i = 1; i < n && msg == NULL; i++) {
		switch (i) {
		case 1:
			msg = parse_hex(field[1], k, 16);
			break;
		case 2:
			msg = parse_hex(field[2], opc, 16);
			break;
		case 3:
			msg = parse_hex(field[3], s->amf, 2);
			break;
		case 4:
			msg = parse_sqn(field[4], s->sqn);
			break;
		default:
			msg = parse_lifetime(field[5], &s->lifetime_s);
			break;
		}
	}
	if (msg != NULL) {
		import_err(c, name[i - 1], msg);
		goto out;
	}
	if (gba_secret_set(&s->k, k, 16) != 0 || gba_secret_set(&s->opc, opc, 16) != 0)
		goto out;
	ret = 1;
out:
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	gba_wipe(c->buf, sizeof(c->buf));
	return ret;
}

static int cmd_import(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	struct import_ctx *c = NULL;
	size_t count = 0;
	int r, ret = EXIT_ERR;

	if (argc != 1) {
		fprintf(stderr, "%s: import needs exactly one FILE\n", prog);
		return EXIT_USAGE;
	}
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_ERR;
	}
	c->name = argv[0];
	c->f = fopen(argv[0], "r");
	if (c->f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		goto out;
	}
	if (open_store(&st, db, key, 0) < 0)
		goto out;
	r = gba_store_subscriber_import(st, import_next, c, &count);
	if (r < 0) {
		if (!c->reported) {
			if (r == GBA_EDUP)
				import_err(c, NULL, "subscriber already exists (in the database or earlier "
				              "in the file)");
			else
				import_err(c, NULL, gba_strerror(r));
		}
		fprintf(stderr, "%s: nothing imported\n", prog);
		goto out;
	}
	printf("imported %zu subscriber%s\n", count, count == 1 ? "" : "s");
	ret = 0;
out:
	gba_store_close(st);
	if (c != NULL && c->f != NULL)
		fclose(c->f);
	if (c != NULL)
		gba_wipe(c->buf, sizeof(c->buf));
	gba_free(c);
	return ret;
}

int main(int argc, char **argv)
{
	const char *db = DEFAULT_DB, *key = DEFAULT_KEY, *audit = DEFAULT_AUDIT, *cmd;
	int i = 1, ret;

	if (argc > 1 && strcmp(argv[1], "audit") == 0)
		return ctl_audit_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "ca") == 0)
		return ctl_ca_main(argc - 1, argv + 1);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 < argc && strcmp(argv[i], "--db") == 0) {
			db = argv[i + 1];
		} else if (i + 1 < argc && strcmp(argv[i], "--key-file") == 0) {
			key = argv[i + 1];
		} else if (i + 1 < argc && strcmp(argv[i], "--audit-log") == 0) {
			audit = argv[i + 1];
		} else {
			fprintf(stderr, "%s: unknown option or missing value: '%s'\n", prog, argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "policy") == 0)
		return ctl_policy_main(argc - i - 1, argv + i + 1);
	if (i < argc && ctl_cert_command(argv[i]))
		return ctl_cert_main(argc - i, argv + i, db, key);
	if (i < argc && ctl_revoke_command(argv[i]))
		return ctl_revoke_main(argc - i, argv + i, db, key, audit);
	if (i + 1 >= argc || strcmp(argv[i], "subscriber") != 0) {
		if (i < argc && strcmp(argv[i], "subscriber") != 0)
			fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (*db == '\0' || *key == '\0') {
		fprintf(stderr, "%s: --db and --key-file must not be empty\n", prog);
		return EXIT_USAGE;
	}
	cmd = argv[i + 1];
	argc -= i + 2;
	argv += i + 2;
	if (strcmp(cmd, "add") == 0)
		ret = cmd_add(argc, argv, db, key);
	else if (strcmp(cmd, "show") == 0)
		ret = cmd_show(argc, argv, db, key);
	else if (strcmp(cmd, "list") == 0)
		ret = cmd_list(argc, db, key);
	else if (strcmp(cmd, "remove") == 0)
		ret = cmd_remove(argc, argv, db, key);
	else if (strcmp(cmd, "import") == 0)
		ret = cmd_import(argc, argv, db, key);
	else {
		fprintf(stderr, "%s: unknown subscriber command '%s'\n", prog, cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", prog);
		return EXIT_ERR;
	}
	return ret;
}
