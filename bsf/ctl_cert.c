/*
 * ctl_cert.c - gba-ctl commands for the CA's records:
 *
 *   gba-ctl [--db PATH] [--key-file PATH] cert list [--impi IMPI]
 *   gba-ctl [--db PATH] [--key-file PATH] cert show SERIALHEX
 *   gba-ctl [--db PATH] [--key-file PATH] pending list
 *   gba-ctl [--db PATH] [--key-file PATH] approve TOKENHEX
 *   gba-ctl [--db PATH] [--key-file PATH] reject TOKENHEX
 *
 * approve and reject move a request that is WAITING to APPROVED or
 * REJECTED (the NAF issues approved requests); any other state is an
 * error.  Arguments are checked before the database is opened.  Exit
 * status: 0 success, 1 error, 2 usage.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ctl_cert.h"

#define EXIT_ERR   1
#define EXIT_USAGE 2
#define SERIAL_HEX_MAX (2u * GBA_STORE_MAX_SERIAL)

static const char *prog = "gba-ctl";

static void cert_usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ctl [--db PATH] [--key-file PATH] COMMAND ...\n"
	        "  cert list [--impi IMPI]   certificates, newest first: SERIAL STATUS NOT-AFTER\n"
	        "                            IMPI APPLICATION (STATUS valid, unconfirmed: still\n"
	        "                            awaiting confirmCertAcceptance, revoked, hold)\n"
	        "  cert show SERIAL          one certificate's record and its PEM (SERIAL in hex)\n"
	        "  pending list              requests: TOKEN STATE EXPIRES IMPI APPLICATION\n"
	        "  approve TOKEN             a waiting request may be issued (TOKEN: 32 hex digits)\n"
	        "  reject TOKEN              a waiting request is refused\n");
}

int ctl_cert_command(const char *word)
{
	return strcmp(word, "cert") == 0 || strcmp(word, "pending") == 0 ||
	       strcmp(word, "approve") == 0 || strcmp(word, "reject") == 0;
}

static const char *status_name(int s)
{
	switch (s) {
	case GBA_CERT_VALID:
		return "valid";
	case GBA_CERT_REVOKED:
		return "revoked";
	case GBA_CERT_HOLD:
		return "hold";
	default:
		return "?";
	}
}

static const char *state_name(int s)
{
	switch (s) {
	case GBA_PENDING_WAITING:
		return "waiting";
	case GBA_PENDING_APPROVED:
		return "approved";
	case GBA_PENDING_REJECTED:
		return "rejected";
	case GBA_PENDING_ISSUED:
		return "issued";
	default:
		return "?";
	}
}

/* RFC 3339, or the raw seconds when out of its range. */
static void fmt_time(int64_t t, char out[32])
{
	if (gba_time_rfc3339(t, out) < 0)
		snprintf(out, 32, "%lld", (long long)t);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ctl_cert.h */
int ctl_parse_serial(const char *s, uint8_t out[GBA_STORE_MAX_SERIAL], size_t *len)
{
	uint8_t v[GBA_STORE_MAX_SERIAL + 1];
	size_t n = strnlen(s, SERIAL_HEX_MAX + 1), i, nb, skip = 0;
	int d;

	if (n == 0 || n > SERIAL_HEX_MAX)
		return -1;
	memset(v, 0, sizeof(v));
	nb = (n + 1) / 2;   /* octets, the first maybe half */
	for (i = 0; i < n; i++) {
		size_t pos = (n - 1 - i);   /* nibble index from the right */

		d = hex_digit(s[i]);
		if (d < 0)
			return -1;
		v[sizeof(v) - 1 - pos / 2] |= (uint8_t)(pos % 2 ? d << 4 : d);
	}
	/* v ends with nb octets; strip leading zero octets, keep one more
	 * zero in front of a high bit. */
	skip = sizeof(v) - nb;
	while (skip < sizeof(v) - 1 && v[skip] == 0)
		skip++;
	if ((v[skip] & 0x80) != 0)
		skip--;   /* v[0] is always 0: room for it */
	if (sizeof(v) - skip > GBA_STORE_MAX_SERIAL)
		return -1;
	*len = sizeof(v) - skip;
	memcpy(out, v + skip, *len);
	return 0;
}

static int parse_token(const char *s, uint8_t token[GBA_STORE_TOKEN_LEN])
{
	size_t n = strnlen(s, 2 * GBA_STORE_TOKEN_LEN + 1);

	if (n != 2 * GBA_STORE_TOKEN_LEN || gba_hex_decode(s, n, token, GBA_STORE_TOKEN_LEN) != 0) {
		fprintf(stderr, "%s: token: expected exactly %u hex digits\n", prog,
		        2 * GBA_STORE_TOKEN_LEN);
		return -1;
	}
	return 0;
}

/* ---- cert list ---- */

static int print_cert_line(void *ctx, const struct gba_cert_record *r)
{
	char serial[SERIAL_HEX_MAX + 1], na[32];

	(void)ctx;
	gba_hex_encode(r->serial, r->serial_len, serial);
	fmt_time(r->not_after, na);
	return printf("%s %s %s %s %s\n", serial,
	              r->status == GBA_CERT_VALID && r->confirm_by != 0 ? "unconfirmed"
	                                                                : status_name(r->status),
	              na, r->impi, r->app_id) < 0 ? GBA_EIO : 0;
}

static int cmd_cert_list(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	const char *impi = NULL;
	int r, ret = EXIT_ERR;

	if (argc == 2 && strcmp(argv[0], "--impi") == 0) {
		impi = argv[1];
	} else if (argc != 0) {
		fprintf(stderr, "%s: cert list takes only --impi IMPI\n", prog);
		return EXIT_USAGE;
	}
	if (impi != NULL && gba_store_impi_check(impi) != 0) {
		fprintf(stderr,
		        "%s: invalid IMPI: must be 1 to %u printable ASCII characters, no spaces\n",
		        prog, GBA_MAX_IMPI_LEN);
		return EXIT_ERR;
	}
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_cert_list(st, impi, print_cert_line, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: cert list: %s\n", prog, gba_strerror(r));
		goto out;
	}
	ret = 0;
out:
	gba_store_close(st);
	return ret;
}

/* ---- cert show ---- */

static int cmd_cert_show(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	struct gba_cert_record c;
	uint8_t serial[GBA_STORE_MAX_SERIAL];
	size_t serial_len = 0;
	char hex[2 * 32 + 1], t[32], *pem = NULL;
	int r, ret = EXIT_ERR;

	memset(&c, 0, sizeof(c));
	if (argc != 1) {
		fprintf(stderr, "%s: cert show needs exactly one SERIAL (hex)\n", prog);
		return EXIT_USAGE;
	}
	if (ctl_parse_serial(argv[0], serial, &serial_len) < 0) {
		fprintf(stderr, "%s: serial: expected 1 to %u hex digits\n", prog, SERIAL_HEX_MAX);
		return EXIT_ERR;
	}
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_cert_get(st, serial, serial_len, &c);
	if (r == GBA_ENOTFOUND) {
		fprintf(stderr, "%s: no certificate with serial %s\n", prog, argv[0]);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cert show %s: %s\n", prog, argv[0], gba_strerror(r));
		goto out;
	}
	r = gba_x509_pem("CERTIFICATE", c.der, c.der_len, &pem);
	if (r < 0) {
		fprintf(stderr, "%s: cert show %s: %s\n", prog, argv[0], gba_strerror(r));
		goto out;
	}
	gba_hex_encode(c.serial, c.serial_len, hex);
	printf("Serial:       %s\n", hex);
	printf("CA:           %s\n", c.ca);
	printf("IMPI:         %s\n", c.impi);
	printf("Application:  %s\n", c.app_id);
	printf("Status:       %s\n", status_name(c.status));
	if (c.status != GBA_CERT_VALID) {
		fmt_time(c.revoked_at, t);
		printf("Reason:       %s\n", gba_crl_reason_name(c.reason) != NULL ?
		                              gba_crl_reason_name(c.reason) : "?");
		printf("Revoked at:   %s\n", t);
	}
	if (c.invalidity_date != 0) {
		fmt_time(c.invalidity_date, t);
		printf("Invalid from: %s\n", t);
	}
	if (c.confirm_by != 0) {
		fmt_time(c.confirm_by, t);
		printf("Confirm by:   %s (awaiting confirmCertAcceptance)\n", t);
	}
	fmt_time(c.issued_at, t);
	printf("Issued at:    %s\n", t);
	fmt_time(c.not_before, t);
	printf("Not before:   %s\n", t);
	fmt_time(c.not_after, t);
	printf("Not after:    %s\n", t);
	gba_hex_encode(c.policy_sha256, 32, hex);
	printf("Policy:       sha256:%s\n", hex);
	gba_hex_encode(c.spki_sha256, 32, hex);
	printf("SPKI:         sha256:%s\n", hex);
	fputs(pem, stdout);
	ret = 0;
out:
	gba_free(pem);
	gba_cert_record_clear(&c);
	gba_store_close(st);
	return ret;
}

/* ---- pending list, approve, reject ---- */

static int print_pending_line(void *ctx, const struct gba_pending *p)
{
	char token[2 * GBA_STORE_TOKEN_LEN + 1], serial[SERIAL_HEX_MAX + 1], ex[32];

	(void)ctx;
	gba_hex_encode(p->token, sizeof(p->token), token);
	fmt_time(p->expires, ex);
	serial[0] = '\0';
	if (p->serial_len != 0)
		gba_hex_encode(p->serial, p->serial_len, serial);
	return printf("%s %s %s %s %s%s%s\n", token, state_name(p->state), ex, p->impi, p->app_id,
	              p->serial_len != 0 ? " " : "", serial) < 0 ? GBA_EIO : 0;
}

static int cmd_pending_list(int argc, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	int r, ret = EXIT_ERR;

	if (argc != 0) {
		fprintf(stderr, "%s: pending list takes no arguments\n", prog);
		return EXIT_USAGE;
	}
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_pending_list(st, print_pending_line, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: pending list: %s\n", prog, gba_strerror(r));
		goto out;
	}
	ret = 0;
out:
	gba_store_close(st);
	return ret;
}

/* WAITING -> to; says why not when the request is not waiting. */
static int cmd_decide(const char *what, int to, int argc, char **argv, const char *db,
                      const char *key)
{
	struct gba_store *st = NULL;
	struct gba_pending p;
	uint8_t token[GBA_STORE_TOKEN_LEN];
	int r, ret = EXIT_ERR;

	memset(&p, 0, sizeof(p));
	if (argc != 1) {
		fprintf(stderr, "%s: %s needs exactly one TOKEN (32 hex digits)\n", prog, what);
		return EXIT_USAGE;
	}
	if (parse_token(argv[0], token) < 0)
		return EXIT_ERR;
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	r = gba_store_pending_set_state(st, token, GBA_PENDING_WAITING, to);
	if (r == GBA_ENOTFOUND) {
		r = gba_store_pending_get(st, token, &p);
		if (r == 0)
			fprintf(stderr, "%s: request %s is %s, not waiting: nothing changed\n", prog,
			        argv[0], state_name(p.state));
		else
			fprintf(stderr, "%s: no pending request %s\n", prog, argv[0]);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s %s: %s\n", prog, what, argv[0], gba_strerror(r));
		goto out;
	}
	printf("%s %s\n", to == GBA_PENDING_APPROVED ? "approved" : "rejected", argv[0]);
	ret = 0;
out:
	gba_pending_clear(&p);
	gba_store_close(st);
	return ret;
}

int ctl_cert_main(int argc, char **argv, const char *db, const char *key)
{
	const char *cmd = argv[0], *sub = argc > 1 ? argv[1] : "";
	int ret;

	if (*db == '\0' || *key == '\0') {
		fprintf(stderr, "%s: --db and --key-file must not be empty\n", prog);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "cert") == 0 && strcmp(sub, "list") == 0)
		ret = cmd_cert_list(argc - 2, argv + 2, db, key);
	else if (strcmp(cmd, "cert") == 0 && strcmp(sub, "show") == 0)
		ret = cmd_cert_show(argc - 2, argv + 2, db, key);
	else if (strcmp(cmd, "pending") == 0 && strcmp(sub, "list") == 0)
		ret = cmd_pending_list(argc - 2, db, key);
	else if (strcmp(cmd, "approve") == 0)
		ret = cmd_decide("approve", GBA_PENDING_APPROVED, argc - 1, argv + 1, db, key);
	else if (strcmp(cmd, "reject") == 0)
		ret = cmd_decide("reject", GBA_PENDING_REJECTED, argc - 1, argv + 1, db, key);
	else {
		if (*sub == '\0' && strcmp(cmd, "cert") == 0)
			fprintf(stderr, "%s: cert needs a command: list or show\n", prog);
		else if (*sub == '\0')
			fprintf(stderr, "%s: pending needs a command: list\n", prog);
		else
			fprintf(stderr, "%s: unknown %s command '%s'\n", prog, cmd, sub);
		cert_usage(stderr);
		return EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", prog);
		return EXIT_ERR;
	}
	return ret;
}
