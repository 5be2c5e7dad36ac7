/* ue.h - the gba-ue reference client: subcommands. */
#ifndef UE_H
#define UE_H

#include "gba_http.h"
#include "ue_usim.h"

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
/* ue_enrol.c: enrol, renew, rekey, poll, revoke, portal-enrol, ca-cert.
 * Exit status 0 issued/done, 1 refused, 2 usage, 3 pending, 4 error. */
int ue_cmd_enrol(int argc, char **argv);
int ue_cmd_renew(int argc, char **argv);    /* also "rekey" (argv[0]) */
int ue_cmd_revoke(int argc, char **argv);
int ue_cmd_poll(int argc, char **argv);
int ue_cmd_portal_enrol(int argc, char **argv);
int ue_cmd_ca_cert(int argc, char **argv);
/* ue_subscribe.c: subscribe, ccm-check.  Exit status 0 done, 1 a CCM
 * was rejected, 2 usage, 4 error, 5 --timeout before --count. */
int ue_cmd_subscribe(int argc, char **argv);
int ue_cmd_ccm_check(int argc, char **argv);
/* For bootstrap --ccm-dir: verify and apply the CCMs pushed on the Ub
 * answer (no acknowledgement: the next subscription does that). */
struct ue_ccm_push_ctx {
	const char *dir;
	const uint8_t *anchor;
	size_t anchor_len;
	int rejected;
};
int ue_ccm_on_pushed(void *arg, const struct ue_usim *u, const struct gba_http_reply *r);

/* Ub bootstrapping (ue_bootstrap.c), reused by the enrolment commands. */
struct ue_ub_opts {
	const char *state;           /* the state file Ks is saved to */
	const char *url;             /* BSF URL */
	const char *realm;           /* NULL: the URL's host */
	const char *ca;              /* TLS trust; NULL: system store */
	enum gba_http_client_mode mode;
	int quiet;                   /* report the B-TID on stderr, not stdout */
	/* Optional: the 200 came with pushes (CCMs); called before it is
	 * freed.  Its return is bootstrap's (0: fine). */
	int (*on_pushed)(void *arg, const struct ue_usim *u, const struct gba_http_reply *r);
	void *pushed_arg;
};
/* The host of an http(s) URL (no brackets for IPv6). */
int ue_url_host(const char *url, char *out, size_t size);
/* Run Ub; on success u holds (and the state file has) B-TID, RAND, Ks. */
int ue_bootstrap_run(const struct ue_ub_opts *o, struct ue_usim *u);

#endif
