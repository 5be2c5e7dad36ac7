/*
 * ue_main.c - gba-ue, the UE/USIM simulator and reference client.
 *
 * Subcommands:
 *   init       create the simulated USIM's state file
 *   bootstrap  run Ub against a BSF and keep Ks in the state file
 *   ks-naf     print Ks_NAF for a NAF FQDN and Ua protocol id
 *   enrol, renew, rekey, poll, revoke, portal-enrol, ca-cert
 *              certificates from the provisioning NAF (ue_enrol.c)
 *   subscribe, ccm-check
 *              CCMs from the NAF's subscription, or from files (ue_subscribe.c)
 *   demo       the GBA key hierarchy on the TS 35.208 test subscriber and
 *              a CCM built, signed, verified and decoded by our codecs
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ue.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ue COMMAND [options]\n"
	        "\n"
	        "  init --impi IMPI --k HEX (--op HEX|--opc HEX) [--sqn HEX12] [--state F]\n"
	        "              create the simulated USIM (state file, mode 0600)\n"
	        "  bootstrap --bsf URL [--state F] [--realm FQDN] [--ca PEM] [--http1|--http2]\n"
	        "            [--trace] [--ccm-dir DIR --trust PEM]\n"
	        "              run GBA bootstrapping (Ub) and keep B-TID and Ks; CCMs pushed\n"
	        "              on the answer are verified and applied to DIR\n"
	        "  ks-naf [--state F] NAF_FQDN UA_ID_HEX10\n"
	        "              print Ks_NAF for that NAF (tests)\n"
	        "  enrol APP --naf URL --trust PEM --out DIR [--naf-fqdn FQDN] [--key-type T]\n"
	        "        [--crmf] [--count N]\n"
	        "              CMC enrolment authenticated by Ks_NAF (identityProofV2)\n"
	        "  renew | rekey --naf URL --trust PEM --out DIR [--key-type T (rekey)]\n"
	        "              CMC request signed by DIR/cert.pem + key.pem\n"
	        "  poll --naf URL --trust PEM --out DIR\n"
	        "              queryPending for DIR/pending.txt\n"
	        "  revoke --naf URL --trust PEM --out DIR [--cert PEM] [--reason R]\n"
	        "        [--invalidity-date T] [--with-cert] [--get-crl]\n"
	        "        [--save-request F] [--save-response F]\n"
	        "              CMC revokeRequest for DIR/cert.pem: GBA passphrase, or signed\n"
	        "              by the certificate (--with-cert)\n"
	        "  portal-enrol APP --naf URL --out DIR [--trust PEM] [--response single|chain]\n"
	        "        [--key-type T] [--der]\n"
	        "              TS 33.221 PKCS#10 enrolment under Ua Digest\n"
	        "  ca-cert --issuer-of CERTPEM --naf URL [--out DIR]\n"
	        "              GET /getcertificate for the certificate's issuer\n"
	        "    (these also take [--state F] [--bsf URL] [--ca PEM] [--http1|--http2]\n"
	        "     [--trace]; exit 0 issued, 1 refused, 2 usage, 3 pending, 4 error)\n"
	        "  subscribe APP --naf URL --trust PEM --out DIR [--cert PEM --key PEM]\n"
	        "        [--count N] [--timeout S] [--no-push]\n"
	        "              keep GET /ccm open: verify, apply and acknowledge each CCM\n"
	        "  ccm-check --trust PEM --out DIR [--impi IMPI] [--app APP] FILE...\n"
	        "              the same checks on saved CCMs (DER), offline\n"
	        "    (exit 0 done, 1 a CCM rejected, 2 usage, 4 error, 5 timeout)\n"
	        "  demo [--out DIR]\n"
	        "              print the GBA reference vectors and a signed, decoded demo CCM;\n"
	        "              --out also writes DIR/ca.pem and DIR/ccm.der\n");
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
	if (strcmp(argv[1], "init") == 0)
		return ue_cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "bootstrap") == 0)
		return ue_cmd_bootstrap(argc - 1, argv + 1);
	if (strcmp(argv[1], "ks-naf") == 0)
		return ue_cmd_ks_naf(argc - 1, argv + 1);
	if (strcmp(argv[1], "enrol") == 0)
		return ue_cmd_enrol(argc - 1, argv + 1);
	if (strcmp(argv[1], "renew") == 0 || strcmp(argv[1], "rekey") == 0)
		return ue_cmd_renew(argc - 1, argv + 1);
	if (strcmp(argv[1], "poll") == 0)
		return ue_cmd_poll(argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return ue_cmd_revoke(argc - 1, argv + 1);
	if (strcmp(argv[1], "portal-enrol") == 0)
		return ue_cmd_portal_enrol(argc - 1, argv + 1);
	if (strcmp(argv[1], "ca-cert") == 0)
		return ue_cmd_ca_cert(argc - 1, argv + 1);
	if (strcmp(argv[1], "subscribe") == 0)
		return ue_cmd_subscribe(argc - 1, argv + 1);
	if (strcmp(argv[1], "ccm-check") == 0)
		return ue_cmd_ccm_check(argc - 1, argv + 1);
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
