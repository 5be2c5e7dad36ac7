/*
 * ue_main.c - gba-ue, the UE/USIM simulator and reference client.
 *
 * Until the daemons exist it has one job, `gba-ue demo`: show the GBA
 * key hierarchy on the TS 35.208 test subscriber and a CCM built, signed,
 * verified and decoded by the project's codecs.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ue.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ue demo [--out DIR]\n"
	        "\n"
	        "  demo        print the GBA reference vectors and a signed, decoded demo CCM\n"
	        "  --out DIR   also write DIR/ca.pem and DIR/ccm.der (for openssl cms -verify)\n");
}

int main(int argc, char **argv)
{
	const char *outdir = NULL;
	int i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "demo") != 0) {
		fprintf(stderr, "gba-ue: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			outdir = argv[++i];
		} else {
			fprintf(stderr, "gba-ue: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (ue_demo_vectors() != 0)
		return 1;
	if (ue_demo_ccm(outdir) != 0)
		return 1;
	return 0;
}
