/*
 * nafd_main.c - gba-nafd, the provisioning NAF as its own daemon.
 *
 * The same NAF that gba-bsfd runs in-process with --naf-port (naf.h:
 * CMC, the TS 33.221 portal, the CA), next to a BSF it reaches over Zn:
 *
 *   naf   Ua (CMC and the PKI portal) on --naf-port; TLS when --tls-cert
 *         is given, as gba-bsfd's NAF
 *
 * Ks_NAF comes from the BSF over Nbsp_GBA (TS 29.309): each worker thread
 * has its own blocking client (naf_zn) that POSTs a
 * BootstrappingInfoRequest to --zn-url with the NAF's TLS client
 * certificate (--zn-cert/--zn-key), trusting the BSF through --zn-ca.
 * nafFqdn is --naf-fqdn, uaSecProtId 01 00 00 00 00 (PKI portal), and
 * gsIds carries --zn-gsid (GSID 1, the PKI portal, unless told
 * otherwise; 0 sends none and the BSF's allow list decides).  The USSs
 * the BSF returns feed the policy (require_uss, required_flags,
 * ${impu}).  The BSF must release the IMPI (gba-bsfd
 * --zn-release-impi): certificates are bound to it.
 *
 * Keys are cached per B-TID in each worker until keyExpiryTime.  An
 * unknown or expired B-TID (Zn 404) answers a fresh 401 challenge on
 * the portal and badIdentity on CMC, so the UE bootstraps again; a
 * refused NAF (Zn 403) answers 403 / badIdentity; an unreachable BSF
 * 503 / tryLater.  Zn blocks the worker that asks, for at most the
 * client's 10 s timeout, and the worker's other connections wait
 * meanwhile; this is known and accepted (one fetch per B-TID and
 * worker).
 *
 * Its own store (--db, --key-file) holds the certificates, CMC nonces
 * and pending requests; `gba-ctl --db` reads it.  Start-up checks,
 * signals (SIGTERM/SIGINT stop gracefully, SIGHUP reloads the policies,
 * SIGUSR1 rotates the audit log), the audit log and the ready report
 * are gba-bsfd's (lib/gba_daemon.h).  Key files must be mode 0600 or
 * stricter, or the daemon refuses to start.
 *
 * --demo DIR uses what `gba-bsfd --demo DIR` made there: the NAF client
 * certificate (naf.pem, naf-key.pem), the BSF's trust (ca.pem) and the
 * CA in DIR/ca.  Its own files never overlap gba-bsfd's: nafd.db,
 * nafd.key, nafd-audit.jsonl, nafd-secret, and a server certificate
 * nafd.pem / nafd-key.pem for the NAF FQDN and 127.0.0.1, issued once
 * by the demo TLS CA (ca-key.pem).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gba_audit.h"
#include "gba_daemon.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_store.h"
#include "gba_x509.h"
#include "naf.h"

#define MOD "nafd"
#define PATH_LEN GBA_DAEMON_PATH_LEN

struct options {
	const char *listen;
	int naf_port;
	const char *tls_cert, *tls_key;
	struct naf_zn_conf zn;
	struct naf_service_conf naf;            /* FQDN, CA, nonce secret */
	struct gba_daemon_conf dc;              /* store, audit, policies, ... */
	const char *demo_dir;
	/* paths built for --demo */
	char d_ca[PATH_LEN], d_cakey[PATH_LEN], d_naf[PATH_LEN], d_nafkey[PATH_LEN];
	char d_cadir[PATH_LEN], d_db[PATH_LEN], d_key[PATH_LEN], d_audit[PATH_LEN];
	char d_secret[PATH_LEN], d_cert[PATH_LEN], d_certkey[PATH_LEN];
};

struct worker {
	struct gba_store *store;
	struct naf_zn *zn;
	struct naf_keysrc keysrc;
	struct naf *naf;
};

struct daemon {
	struct gba_daemon dm;                /* audit, policies, signals, workers */
	struct options *opt;
	struct naf_service naf;
};

/* Listener bound: issued certificates point relying parties to this
 * listener's /ocsp and /crl/ (or --naf-url); the CRL/OCSP thread starts. */
static int on_bound(void *arg, struct gba_http_server *server)
{
	struct daemon *d = arg;
	int ret;

	naf_service_bound(&d->naf, server);
	ret = naf_service_publish(&d->naf, &d->opt->naf, d->opt->tls_cert != NULL,
	                          gba_http_server_port(server, 0), &d->dm);
	if (ret < 0)
		fprintf(stderr, "gba-nafd: CRL/OCSP: %s (--naf-url must be an http:// or https://"
		        " URL)\n", gba_strerror(ret));
	return ret;
}

/* Each worker's tick: CCM delivery and, on worker 0, CCM expiry. */
static void worker_tick(void *arg, unsigned worker)
{
	struct daemon *d = arg;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w != NULL && w->naf != NULL)
		naf_ccm_tick(w->naf, worker == 0);
}

/* A successful SIGHUP reload: CCM updates for the policies' changes. */
static void on_reload(void *arg)
{
	struct daemon *d = arg;

	naf_ccm_policy_changed(d->naf.ccm);
}

static void worker_free(void *arg)
{
	struct worker *w = arg;

	naf_free(w->naf);
	naf_zn_free(w->zn);
	gba_store_close(w->store);
	gba_free(w);
}

/* A worker thread's store, Zn client and NAF (gba_daemon_worker). */
static int worker_new(void *arg, void **out)
{
	struct daemon *d = arg;
	struct worker *w;
	int ret;

	w = gba_calloc(1, sizeof(*w));
	if (w == NULL)
		return GBA_ENOMEM;
	ret = gba_store_open(&w->store, d->opt->dc.db, d->opt->dc.key_file);
	if (ret == 0)
		ret = naf_zn_new(&w->zn, &d->opt->zn);
	if (ret == 0) {
		w->keysrc.get = naf_keysrc_zn_get;
		w->keysrc.ctx = w->zn;
		ret = naf_new(&w->naf, &d->naf.conf, w->store, &w->keysrc);
	}
	if (ret < 0) {
		gba_log_err(MOD, "worker: cannot set up: %s", gba_strerror(ret));
		worker_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

static void naf_handler(void *ctx, const struct gba_http_request *req,
                        struct gba_http_response *resp)
{
	struct daemon *d = ctx;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w == NULL) {
		(void)gba_http_response_status(resp, 503);
		return;
	}
	naf_handle(w->naf, req, resp);
}

/* ---- demo ---- */

static int demo_setup(struct options *o)
{
	const struct {
		char *path;
		const char *name;
		int bsfd;                    /* made by gba-bsfd --demo */
	} files[] = {
		{ o->d_ca, "ca.pem", 1 }, { o->d_cakey, "ca-key.pem", 1 },
		{ o->d_naf, "naf.pem", 1 }, { o->d_nafkey, "naf-key.pem", 1 },
		{ o->d_cadir, "ca", 1 }, { o->d_db, "nafd.db", 0 }, { o->d_key, "nafd.key", 0 },
		{ o->d_audit, "nafd-audit.jsonl", 0 }, { o->d_secret, "nafd-secret", 0 },
		{ o->d_cert, "nafd.pem", 0 }, { o->d_certkey, "nafd-key.pem", 0 },
	};
	struct gba_signer *ca = NULL;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ret = gba_daemon_path(files[i].path, o->demo_dir, files[i].name);
		if (ret < 0)
			return ret;
		if (files[i].bsfd && access(files[i].path, F_OK) != 0) {
			fprintf(stderr, "gba-nafd: %s is missing: run gba-bsfd --demo %s first\n",
			        files[i].path, o->demo_dir);
			return GBA_ENOTFOUND;
		}
	}
	if (o->tls_cert == NULL && access(o->d_cert, F_OK) != 0) {
		ret = gba_signer_open(&ca, o->d_cakey, o->d_ca);
		if (ret == 0)
			ret = gba_signer_issue_leaf(ca, GBA_LEAF_SERVER, o->naf.fqdn, "127.0.0.1", 365,
			                            o->d_cert, o->d_certkey);
		gba_signer_free(ca);
		if (ret < 0)
			return ret;
	}
	if (o->tls_cert == NULL) {
		o->tls_cert = o->d_cert;
		o->tls_key = o->d_certkey;
	}
	if (o->zn.ca_file == NULL)
		o->zn.ca_file = o->d_ca;
	if (o->zn.cert_file == NULL) {
		o->zn.cert_file = o->d_naf;
		o->zn.key_file = o->d_nafkey;
	}
	if (o->naf.ca_dir == NULL)
		o->naf.ca_dir = o->d_cadir;
	if (o->dc.db == NULL)
		o->dc.db = o->d_db;
	if (o->dc.key_file == NULL)
		o->dc.key_file = o->d_key;
	if (o->dc.audit_log == NULL)
		o->dc.audit_log = o->d_audit;
	if (o->naf.secret_file == NULL)
		o->naf.secret_file = o->d_secret;
	gba_log_notice(MOD, "demo state in %s (NAF %s)", o->demo_dir, o->naf.fqdn);
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-nafd --zn-url URL --policy-dir DIR [options]\n"
	        "  --demo DIR              use what gba-bsfd --demo DIR made (NAF client\n"
	        "                          certificate, ca.pem, the CA in DIR/ca); own files\n"
	        "                          DIR/nafd.db, nafd.key, nafd-audit.jsonl, nafd-secret,\n"
	        "                          nafd.pem (server certificate, issued if missing)\n"
	        "  --listen ADDR           listening address (127.0.0.1)\n"
	        "  --naf-port N            Ua: CMC and the PKI portal (8443; 0 = any)\n"
	        "  --tls-cert F --tls-key F   server certificate and key (PEM); Ua is\n"
	        "                          cleartext without them\n"
	        "  --zn-url URL            the BSF's Nbsp_GBA apiRoot, https://host:port (required)\n"
	        "  --zn-ca F               trust for the BSF's certificate (PEM; system store)\n"
	        "  --zn-cert F --zn-key F  the NAF's TLS client certificate and key (PEM)\n"
	        "  --zn-gsid N             GSID asked for in gsIds (1, PKI portal; 0 = none)\n");
	naf_service_usage(f, "DIR/nafd-secret with --demo, else gbacert-nafd.secret");
	gba_daemon_usage(f, "gbacert-nafd.db", "gbacert-nafd.key",
	                 "DIR/nafd-audit.jsonl with --demo, else gbacert-nafd-audit.jsonl");
	fprintf(f,
	        "--policy-dir is required.  Each worker has its own Zn connection.  Key files\n"
	        "(--key-file, --zn-key, --tls-key, the CA keys, --naf-secret) must be mode\n"
	        "0600 or stricter.\n");
}

static int parse_options(struct options *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "demo", required_argument, NULL, 'D' },
		{ "listen", required_argument, NULL, 'l' },
		{ "naf-port", required_argument, NULL, 'n' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "zn-url", required_argument, NULL, 'z' },
		{ "zn-ca", required_argument, NULL, 'a' },
		{ "zn-cert", required_argument, NULL, 'C' },
		{ "zn-key", required_argument, NULL, 'Z' },
		{ "zn-gsid", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		GBA_DAEMON_LONG_OPTIONS,
		NAF_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	uint32_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		/* the shared options: 1 taken, 0 not theirs, < 0 a bad value */
		int bad = gba_daemon_option(&o->dc, ch, optarg);

		if (bad == 0)
			bad = naf_service_option(&o->naf, ch, optarg);
		if (bad != 0)
			ch = 0;
		switch (ch) {
		case 0: break;
		case 'D': o->demo_dir = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'n': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->naf_port = (int)v; break;
		case 'c': o->tls_cert = optarg; break;
		case 'k': o->tls_key = optarg; break;
		case 'z': o->zn.url = optarg; break;
		case 'a': o->zn.ca_file = optarg; break;
		case 'C': o->zn.cert_file = optarg; break;
		case 'Z': o->zn.key_file = optarg; break;
		case 'g': bad = gba_daemon_parse_u32(optarg, UINT32_MAX, &o->zn.gsid); break;
		case 'h': usage(stdout); exit(0);
		default: return GBA_EINVAL;
		}
		if (bad < 0) {
			fprintf(stderr, "gba-nafd: bad option value '%s'\n", optarg);
			return GBA_EINVAL;
		}
	}
	return optind == argc ? 0 : GBA_EINVAL;
}

/* What start-up needs besides the shared checks; a message and 2
 * (usage) or 1 when not. */
static int check_options(const struct options *o)
{
	char ca_key[PATH_LEN], cmc_key[PATH_LEN];
	const char *key = o->naf.ca_key;

	if (o->zn.url == NULL) {
		fprintf(stderr, "gba-nafd: --zn-url is required: the BSF's Nbsp_GBA apiRoot, "
		        "https://host:port (Ks_NAF comes over Zn)\n");
		return 2;
	}
	if (strncmp(o->zn.url, "https://", 8) != 0) {
		fprintf(stderr, "gba-nafd: --zn-url must be https:// (the BSF authenticates the "
		        "NAF by its TLS client certificate)\n");
		return 2;
	}
	if (o->zn.cert_file == NULL || o->zn.key_file == NULL) {
		fprintf(stderr, "gba-nafd: Zn needs --zn-cert and --zn-key (the NAF's client "
		        "certificate)\n");
		return 2;
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fprintf(stderr, "gba-nafd: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (o->dc.policy_dir == NULL || o->naf.ca_dir == NULL) {
		fprintf(stderr, "gba-nafd: the NAF needs --policy-dir and --ca-dir\n");
		return 2;
	}
	if (gba_daemon_path(ca_key, o->naf.ca_dir, "ca.key") < 0 ||
	    gba_daemon_path(cmc_key, o->naf.ca_dir, "cmc.key") < 0) {
		fprintf(stderr, "gba-nafd: --ca-dir is too long\n");
		return 2;
	}
	if (key == NULL)
		key = ca_key;
	else if (strncmp(key, "pkcs11:", 7) == 0)
		key = NULL;          /* a token, not a file */
	if (gba_daemon_check_key("gba-nafd", o->zn.key_file, 1) < 0 ||
	    (o->tls_key != NULL && gba_daemon_check_key("gba-nafd", o->tls_key, 1) < 0) ||
	    (key != NULL && gba_daemon_check_key("gba-nafd", key, 1) < 0) ||
	    gba_daemon_check_key("gba-nafd", cmc_key, 1) < 0 ||
	    gba_daemon_check_key("gba-nafd", o->naf.secret_file, 0) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct daemon d;
	struct gba_http_listener_conf l;
	int ret;

	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1";
	o.naf_port = 8443;
	o.naf.fqdn = "naf.gbacert.test";
	o.naf.ca_name = "gbacert-subscriber-ca";
	o.zn.gsid = 1;
	o.dc.ready_fd = -1;
	if (parse_options(&o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.zn.url == NULL)   /* before --demo writes anything */
		return check_options(&o);
	if (o.demo_dir != NULL) {
		ret = demo_setup(&o);
		if (ret < 0) {
			fprintf(stderr, "gba-nafd: demo set-up in %s failed: %s\n", o.demo_dir,
			        gba_strerror(ret));
			return 1;
		}
	}
	if (o.dc.db == NULL)
		o.dc.db = "gbacert-nafd.db";
	if (o.dc.key_file == NULL)
		o.dc.key_file = "gbacert-nafd.key";
	if (o.dc.audit_log == NULL)
		o.dc.audit_log = "gbacert-nafd-audit.jsonl";
	if (o.naf.secret_file == NULL)
		o.naf.secret_file = "gbacert-nafd.secret";
	ret = check_options(&o);
	if (ret != 0)
		return ret;

	d.opt = &o;
	o.dc.name = "gba-nafd";
	o.dc.log_tag = MOD;
	o.dc.worker_new = worker_new;
	o.dc.worker_free = worker_free;
	o.dc.worker_arg = &d;
	o.dc.on_bound = on_bound;
	o.dc.on_reload = on_reload;
	o.dc.on_tick = worker_tick;
	o.dc.tick_ms = o.naf.ccm_poll_ms != 0 ? o.naf.ccm_poll_ms : 1000;
	/* Signals blocked, store checked, audit log open, policies loaded. */
	if (gba_daemon_start(&d.dm, &o.dc) < 0)
		return 1;
	ret = naf_service_start(&d.naf, &o.naf, &d.dm);
	if (ret < 0) {
		fprintf(stderr, "gba-nafd: cannot set up the NAF (CA in %s): %s\n", o.naf.ca_dir,
		        gba_strerror(ret));
		gba_daemon_finish(&d.dm);
		return 1;
	}
	gba_log_notice(MOD, "NAF %s: Ks_NAF over Zn from %s, GSID %u (0: none asked for)",
	               o.naf.fqdn, o.zn.url, o.zn.gsid);

	memset(&l, 0, sizeof(l));
	l.name = "naf";
	l.address = o.listen;
	l.port = (uint16_t)o.naf_port;
	l.cert_file = o.tls_cert;
	l.key_file = o.tls_key;
	if (o.tls_cert != NULL)   /* optional: certificates we issued, for CCM */
		l.client_ca_file = d.naf.client_ca;
	l.handler = naf_handler;
	l.ctx = &d;
	ret = gba_daemon_run(&d.dm, &l, 1);
	naf_service_stop(&d.naf);
	gba_daemon_finish(&d.dm);
	gba_log_notice(MOD, "stopped");
	return ret < 0 ? 1 : 0;
}
