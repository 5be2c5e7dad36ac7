/* ue.h - the gba-ue reference client: subcommands. */
#ifndef UE_H
#define UE_H

/* Print the GBA reference vectors (TS 35.208 set 1 subscriber). */
int ue_demo_vectors(void);

/*
 * Build a demo CA and a signed "install" CCM, verify and decode it, and
 * print it.  When outdir is not NULL, write ca.pem and ccm.der there so
 * that `openssl cms -verify` can check them.
 */
int ue_demo_ccm(const char *outdir);

/* Subcommands; argv[0] is the subcommand name.  Exit status. */
int ue_cmd_init(int argc, char **argv);
int ue_cmd_bootstrap(int argc, char **argv);
int ue_cmd_ks_naf(int argc, char **argv);

#endif
