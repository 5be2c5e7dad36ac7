/*
 * ctl_ca.c - gba-ctl ca init DIR [options]
 *
 * Creates a CA directory with gba_ca_init (lib/gba_x509.h): a root CA,
 * an issuing CA, a CMC signer and a delegated OCSP responder, each with
 * its key, plus chain.pem.
 * Nothing is overwritten: an existing file makes the command fail and
 * leaves the directory as it was.  Exit status: 0 success, 1 error,
 * 2 usage.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_err.h"
#include "gba_x509.h"

#define EXIT_ERR   1
#define EXIT_USAGE 2

#define DEFAULT_NAME        "gbacert"
#define DEFAULT_ROOT_DAYS   7300u
#define DEFAULT_CA_DAYS     3650u
#define DEFAULT_SIGNER_DAYS 730u
#define DEFAULT_RESPONDER_DAYS 90u

int ctl_ca_main(int argc, char **argv);

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ctl ca init DIR [--name N] [--key-type TYPE] [--days-root N]\n"
	        "                           [--days-ca N] [--days-signer N] [--days-responder N]\n"
	        "                           [--ra] [--issuing-key PEM-or-pkcs11-URI]\n"
	        "\n"
	        "  Creates DIR (mode 0700) with root.pem/root.key, ca.pem/ca.key,\n"
	        "  cmc.pem/cmc.key, ocsp.pem/ocsp.key and chain.pem; keys are mode 0600.\n"
	        "  Existing files are never overwritten.\n"
	        "  --name N          CN prefix (default \"" DEFAULT_NAME "\")\n"
	        "  --key-type TYPE   ec-p256 (default), ec-p384, ed25519, rsa-2048,\n"
	        "                    rsa-3072, rsa-4096\n"
	        "  --days-root N     root validity in days (default %u)\n"
	        "  --days-ca N       issuing CA validity (default %u)\n"
	        "  --days-signer N   CMC signer validity (default %u)\n"
	        "  --days-responder N  OCSP responder validity (default %u; it carries\n"
	        "                    id-pkix-ocsp-nocheck, so keep it short)\n"
	        "  --ra              CMC signer gets id-kp-cmcRA instead of id-kp-cmcCA\n"
	        "  --issuing-key K   existing issuing CA key: a PEM file (mode 0600) or a\n"
	        "                    PKCS#11 URI (PIN: pin-value or $GBA_PKCS11_PIN); no\n"
	        "                    ca.key is written\n",
	        DEFAULT_ROOT_DAYS, DEFAULT_CA_DAYS, DEFAULT_SIGNER_DAYS, DEFAULT_RESPONDER_DAYS);
}

/* Decimal days, 1..36500. */
static int parse_days(const char *s, unsigned *out)
{
	size_t i, n = strnlen(s, 6);
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 36500)
		return -1;
	*out = v;
	return 0;
}

static int cmd_init(int argc, char **argv)
{
	struct gba_ca_init_conf c;
	int i, ret;

	memset(&c, 0, sizeof(c));
	c.name = DEFAULT_NAME;
	c.key_type = GBA_KEY_EC_P256;
	c.root_days = DEFAULT_ROOT_DAYS;
	c.ca_days = DEFAULT_CA_DAYS;
	c.signer_days = DEFAULT_SIGNER_DAYS;
	c.responder_days = DEFAULT_RESPONDER_DAYS;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		unsigned *days = NULL;

		if (a[0] != '-') {
			if (c.dir != NULL) {
				fprintf(stderr, "gba-ctl: ca init: unexpected argument '%s'\n", a);
				return EXIT_USAGE;
			}
			c.dir = a;
			continue;
		}
		if (strcmp(a, "--ra") == 0) {
			c.signer_is_ra = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "gba-ctl: ca init: %s needs a value\n", a);
			return EXIT_USAGE;
		}
		i++;
		if (strcmp(a, "--name") == 0) {
			c.name = argv[i];
			if (*c.name == '\0' || strlen(c.name) > 200) {
				fprintf(stderr, "gba-ctl: ca init: --name: 1 to 200 characters\n");
				return EXIT_USAGE;
			}
		} else if (strcmp(a, "--key-type") == 0) {
			if (gba_key_type_parse(argv[i], &c.key_type) != 0) {
				fprintf(stderr, "gba-ctl: ca init: unknown key type '%s'\n", argv[i]);
				usage(stderr);
				return EXIT_USAGE;
			}
		} else if (strcmp(a, "--days-root") == 0) {
			days = &c.root_days;
		} else if (strcmp(a, "--days-ca") == 0) {
			days = &c.ca_days;
		} else if (strcmp(a, "--days-signer") == 0) {
			days = &c.signer_days;
		} else if (strcmp(a, "--days-responder") == 0) {
			days = &c.responder_days;
		} else if (strcmp(a, "--issuing-key") == 0 && c.issuing_key == NULL) {
			c.issuing_key = argv[i];
		} else {
			fprintf(stderr, "gba-ctl: ca init: unknown or repeated option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (days != NULL && parse_days(argv[i], days) != 0) {
			fprintf(stderr, "gba-ctl: ca init: %s: expected 1 to 36500 days\n", a);
			return EXIT_USAGE;
		}
	}
	if (c.dir == NULL) {
		fprintf(stderr, "gba-ctl: ca init needs DIR\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = gba_ca_init(&c);
	if (ret == GBA_EDUP) {
		fprintf(stderr, "gba-ctl: ca init: %s already holds CA files; nothing changed\n",
		        c.dir);
		return EXIT_ERR;
	}
	if (ret == GBA_EPERM) {
		fprintf(stderr, "gba-ctl: ca init: %s: %s (directory must be 0700, key file 0600)\n",
		        c.dir, gba_strerror(ret));
		return EXIT_ERR;
	}
	if (ret < 0) {
		fprintf(stderr, "gba-ctl: ca init %s: %s\n", c.dir, gba_strerror(ret));
		return EXIT_ERR;
	}
	printf("created CA in %s (%s keys)\n", c.dir, gba_key_type_name(c.key_type));
	printf("  root.pem root.key   %s Root CA\n", c.name);
	if (c.issuing_key != NULL)
		printf("  ca.pem              %s Issuing CA (existing key, not copied)\n", c.name);
	else
		printf("  ca.pem   ca.key     %s Issuing CA\n", c.name);
	printf("  cmc.pem  cmc.key    %s CMC Signer (%s)\n", c.name,
	       c.signer_is_ra ? "id-kp-cmcRA" : "id-kp-cmcCA");
	printf("  ocsp.pem ocsp.key   %s OCSP Responder (id-kp-OCSPSigning, ocsp-nocheck)\n",
	       c.name);
	printf("  chain.pem           ca.pem + root.pem\n");
	return 0;
}

int ctl_ca_main(int argc, char **argv)
{
	int ret;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "init") != 0) {
		if (argc >= 2)
			fprintf(stderr, "gba-ctl: unknown ca command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = cmd_init(argc - 2, argv + 2);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gba-ctl: write error on standard output\n");
		return EXIT_ERR;
	}
	return ret;
}
