/*
 * bsf_main.c - gba-bsfd, the Bootstrapping Server Function daemon.
 *
 * Listeners:
 *   ub      Ub over cleartext HTTP (HTTP/1.1 or h2c), --ub-port
 *   ub-tls  Ub over TLS (ALPN h2 / http/1.1), --ub-tls-port, optional
 *   zn      Nbsp_GBA over TLS with a required NAF client certificate
 *
 * Each worker thread opens its own store and HSS handles the first time
 * it serves a request (SQLite handles are per thread).  Start-up checks,
 * signals, policies, the audit log and the ready report are shared with
 * gba-nafd (lib/gba_daemon.h): SIGTERM and SIGINT stop gracefully
 * (in-flight requests finish), SIGHUP reloads the policies, SIGUSR1
 * rotates the audit log, and expired challenges and bootstrap contexts
 * are purged every minute.
 *
 * The audit log (--audit-log, lib/gba_audit.h, doc/audit.md) is opened
 * before any listener: if it cannot be opened or the start record cannot
 * be written, the daemon does not start (fail closed).
 *
 * --demo DIR fills DIR with embedded defaults when they are missing: an
 * at-rest key, a SQLite database holding the TS 35.208 set-1 test
 * subscriber, a demo CA, a server certificate for the BSF and a client
 * certificate for the demo NAF (naf.gbacert.test), which Zn then allows.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bsf.h"
#include "gba_audit.h"
#include "gba_crypto.h"
#include "gba_daemon.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_milenage.h"
#include "gba_store.h"
#include "gba_x509.h"
#include "naf.h"

#define MOD "bsfd"
#define MAX_ALLOW 64
#define PATH_LEN GBA_DAEMON_PATH_LEN

struct options {
	const char *fqdn;
	const char *listen;
	int ub_port, ub_tls_port, zn_port;      /* -1: disabled */
	const char *tls_cert, *tls_key, *zn_client_ca;
	struct gba_daemon_conf dc;              /* store, audit, policies, ... */
	uint32_t lifetime, challenge_lifetime;
	int release_impi;
	struct bsf_naf_allow allow[MAX_ALLOW];
	size_t nallow;
	const char *demo_dir;
	/* the in-process provisioning NAF (off unless --naf-port) */
	int naf_port;
	int status_port;                        /* cleartext /crl/ and /ocsp; -1: off */
	struct naf_service_conf naf;
	/* paths built for --demo */
	char d_db[PATH_LEN], d_key[PATH_LEN], d_ca[PATH_LEN], d_cert[PATH_LEN], d_certkey[PATH_LEN];
	char d_naf[PATH_LEN], d_nafkey[PATH_LEN], d_audit[PATH_LEN];
	char d_cadir[PATH_LEN], d_secret[PATH_LEN];
};

struct worker {
	struct gba_hss *hss;
	struct gba_store *store;
	struct bsf *bsf;
	struct naf_keysrc keysrc;
	struct naf *naf;                     /* NULL without --naf-port */
};

struct daemon {
	struct gba_daemon dm;                /* audit, policies, signals, workers */
	struct options *opt;
	struct bsf_conf conf;
	struct naf_service naf;              /* the NAF, shared by the workers */
	unsigned naf_listener, status_listener;   /* indexes in the listener table */
};

static void on_bootstrap(void *arg, const struct bsf_bootstrap_event *ev)
{
	struct daemon *d = arg;
	struct worker *w = gba_daemon_worker(&d->dm);   /* this worker's: the event's thread */
	char id[GBA_LOG_ID_LEN];

	gba_log_notice(MOD, "bootstrap b-tid=%s lifetime=%llds",
	               gba_log_id(ev->btid, strlen(ev->btid), id),
	               (long long)(ev->expires - ev->created));
	/* CCMs the policy wants on bootstrap, pushed on this very answer */
	if (w != NULL && w->naf != NULL)
		(void)naf_ccm_on_bootstrap(w->naf, ev->impi, ev->resp, ev->peer);
}

static void worker_free(void *arg)
{
	struct worker *w = arg;

	naf_free(w->naf);
	bsf_free(w->bsf);
	if (w->hss != NULL)
		w->hss->ops->close(w->hss);
	gba_store_close(w->store);
	gba_free(w);
}

/* A worker thread's store, HSS, BSF and NAF (gba_daemon_worker). */
static int worker_new(void *arg, void **out)
{
	struct daemon *d = arg;
	const struct gba_daemon_conf *dc = &d->opt->dc;
	struct worker *w;
	int ret;

	w = gba_calloc(1, sizeof(*w));
	if (w == NULL)
		return GBA_ENOMEM;
	ret = gba_store_open(&w->store, dc->db, dc->key_file);
	if (ret == 0)
		ret = gba_hss_sqlite_open(&w->hss, dc->db, dc->key_file);
	if (ret == 0)
		ret = bsf_new(&w->bsf, &d->conf, w->hss, w->store);
	if (ret == 0)
		ret = bsf_subscribe(w->bsf, on_bootstrap, d);
	if (ret == 0 && d->opt->naf_port >= 0) {
		w->keysrc.get = naf_keysrc_store_get;
		w->keysrc.ctx = w->store;
		ret = naf_new(&w->naf, &d->naf.conf, w->store, &w->keysrc);
	}
	if (ret < 0) {
		gba_log_err(MOD, "worker: cannot open the store: %s", gba_strerror(ret));
		worker_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

static void ub_handler(void *ctx, const struct gba_http_request *req,
                       struct gba_http_response *resp)
{
	struct daemon *d = ctx;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	bsf_ub_handle(w->bsf, req, resp);
}

static void zn_handler(void *ctx, const struct gba_http_request *req,
                       struct gba_http_response *resp)
{
	struct daemon *d = ctx;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	bsf_zn_handle(w->bsf, req, resp);
}

static void naf_handler(void *ctx, const struct gba_http_request *req,
                        struct gba_http_response *resp)
{
	struct daemon *d = ctx;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w == NULL || w->naf == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	naf_handle(w->naf, req, resp);
}

/* Each worker's tick: CCM delivery and, on worker 0, CCM expiry. */
static void worker_tick(void *arg, unsigned worker)
{
	struct daemon *d = arg;
	struct worker *w;

	if (d->opt->naf_port < 0)
		return;
	w = gba_daemon_worker(&d->dm);
	if (w != NULL && w->naf != NULL)
		naf_ccm_tick(w->naf, worker == 0);
}

/* A successful SIGHUP reload: CCM updates for the policies' changes. */
static void on_reload(void *arg)
{
	struct daemon *d = arg;

	if (d->opt->naf_port >= 0)
		naf_ccm_policy_changed(d->naf.ccm);
}

/* --status-port: only the certificate-status routes. */
static void status_handler(void *ctx, const struct gba_http_request *req,
                           struct gba_http_response *resp)
{
	struct daemon *d = ctx;
	struct worker *w = gba_daemon_worker(&d->dm);

	if (w == NULL || w->naf == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	naf_status_route(w->naf, req, resp);
}

/* Listeners bound: the URL issued certificates point relying parties
 * to is the cleartext status listener's if there is one, else the
 * NAF's; then the CRL/OCSP thread starts. */
static int on_bound(void *arg, struct gba_http_server *server)
{
	struct daemon *d = arg;
	const struct options *o = d->opt;
	int ret;

	if (o->naf_port < 0)
		return 0;
	naf_service_bound(&d->naf, server);
	if (o->status_port >= 0)
		ret = naf_service_publish(&d->naf, &o->naf, 0,
		                          gba_http_server_port(server, d->status_listener), &d->dm);
	else
		ret = naf_service_publish(&d->naf, &o->naf, o->tls_cert != NULL,
		                          gba_http_server_port(server, d->naf_listener), &d->dm);
	if (ret < 0)
		fprintf(stderr, "gba-bsfd: CRL/OCSP: %s (--naf-url must be an http:// or https://"
		        " URL)\n", gba_strerror(ret));
	return ret;
}

/* ---- demo provisioning ---- */

static const char demo_impi[] = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
static const char demo_naf[] = "naf.gbacert.test";
static const char demo_guss[] =
	"{\"bsfInfo\":{\"lifeTime\":86400},\"ussList\":[{\"gsId\":1,\"gsType\":1,"
	"\"ueIds\":[\"sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org\"],"
	"\"flags\":[]}]}";

static int exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static int demo_subscriber(const char *db, const char *key)
{
	static const uint8_t k[16] = {
		0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
		0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc
	};
	static const uint8_t opc[16] = {
		0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
		0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf
	};
	struct gba_store *st = NULL;
	struct gba_subscriber s;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = gba_store_open(&st, db, key);
	if (ret < 0)
		return ret;
	memcpy(s.impi, demo_impi, sizeof(demo_impi));
	gba_secret_set(&s.k, k, sizeof(k));
	gba_secret_set(&s.opc, opc, sizeof(opc));
	s.amf[0] = 0x80;
	s.guss_json = gba_strndup(demo_guss, strlen(demo_guss));
	if (s.guss_json == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	ret = gba_store_subscriber_add(st, &s);
	if (ret == GBA_EDUP)
		ret = 0;
out:
	gba_subscriber_clear(&s);
	gba_store_close(st);
	return ret;
}

static int demo_setup(struct options *o)
{
	struct gba_signer *ca = NULL;
	int ret;

	if (mkdir(o->demo_dir, 0700) != 0 && errno != EEXIST)
		return GBA_EIO;
	ret = gba_daemon_path(o->d_db, o->demo_dir, "bsf.db");
	if (ret == 0)
		ret = gba_daemon_path(o->d_key, o->demo_dir, "bsf.key");
	if (ret == 0)
		ret = gba_daemon_path(o->d_ca, o->demo_dir, "ca.pem");
	if (ret == 0)
		ret = gba_daemon_path(o->d_cert, o->demo_dir, "bsf.pem");
	if (ret == 0)
		ret = gba_daemon_path(o->d_certkey, o->demo_dir, "bsf-key.pem");
	if (ret == 0)
		ret = gba_daemon_path(o->d_naf, o->demo_dir, "naf.pem");
	if (ret == 0)
		ret = gba_daemon_path(o->d_nafkey, o->demo_dir, "naf-key.pem");
	if (ret == 0)
		ret = gba_daemon_path(o->d_audit, o->demo_dir, "audit.jsonl");
	if (ret == 0)
		ret = gba_daemon_path(o->d_cadir, o->demo_dir, "ca");
	if (ret == 0)
		ret = gba_daemon_path(o->d_secret, o->demo_dir, "naf-secret");
	if (ret < 0)
		return ret;
	if (!exists(o->d_cadir)) {
		struct gba_ca_init_conf cc;

		memset(&cc, 0, sizeof(cc));
		cc.dir = o->d_cadir;
		cc.name = "gbacert demo";
		cc.key_type = GBA_KEY_EC_P256;
		cc.root_days = 3650;
		cc.ca_days = 1825;
		cc.signer_days = 365;
		ret = gba_ca_init(&cc);
		if (ret < 0)
			return ret;
	}
	if (o->naf.ca_dir == NULL)
		o->naf.ca_dir = o->d_cadir;
	if (o->naf.secret_file == NULL)
		o->naf.secret_file = o->d_secret;
	if (o->naf_port < 0 && o->dc.policy_dir != NULL)
		o->naf_port = 0;   /* the NAF needs policies */
	if (!exists(o->d_ca) || !exists(o->d_cert) || !exists(o->d_naf)) {
		char cakey[PATH_LEN];

		ret = gba_daemon_path(cakey, o->demo_dir, "ca-key.pem");
		if (ret == 0)
			ret = gba_signer_generate_ca(&ca, "gbacert demo CA", 365);
		if (ret == 0)
			ret = gba_signer_save(ca, o->d_ca, cakey);
		if (ret == 0)
			ret = gba_signer_issue_leaf(ca, GBA_LEAF_SERVER, o->fqdn, "127.0.0.1", 365,
			                            o->d_cert, o->d_certkey);
		if (ret == 0)
			ret = gba_signer_issue_leaf(ca, GBA_LEAF_CLIENT, demo_naf, NULL, 365,
			                            o->d_naf, o->d_nafkey);
		gba_signer_free(ca);
		if (ret < 0)
			return ret;
	}
	ret = demo_subscriber(o->d_db, o->d_key);
	if (ret < 0)
		return ret;
	if (o->dc.db == NULL)
		o->dc.db = o->d_db;
	if (o->dc.key_file == NULL)
		o->dc.key_file = o->d_key;
	if (o->dc.audit_log == NULL)
		o->dc.audit_log = o->d_audit;
	if (o->tls_cert == NULL) {
		o->tls_cert = o->d_cert;
		o->tls_key = o->d_certkey;
	}
	if (o->zn_client_ca == NULL)
		o->zn_client_ca = o->d_ca;
	if (o->nallow == 0) {
		o->allow[0].fqdn = demo_naf;
		o->nallow = 1;
	}
	if (o->zn_port < 0)
		o->zn_port = 0;
	gba_log_notice(MOD, "demo state in %s (TS 35.208 set-1 subscriber, NAF %s)",
	               o->demo_dir, demo_naf);
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-bsfd [options]\n"
	        "  --demo DIR              embedded defaults kept in DIR (created if missing)\n"
	        "  --fqdn NAME             BSF FQDN: Ub realm and B-TID domain (bsf.gbacert.test)\n"
	        "  --listen ADDR           address for every listener (127.0.0.1)\n"
	        "  --ub-port N             Ub over cleartext HTTP/1.1 and h2c (8080; 0 = any)\n"
	        "  --ub-tls-port N         Ub over TLS (off)\n"
	        "  --zn-port N             Zn (Nbsp_GBA) over TLS with NAF client certificates\n"
	        "  --tls-cert F --tls-key F   server certificate and key (PEM)\n"
	        "  --zn-client-ca F        CA that issues NAF client certificates (PEM)\n"
	        "  --zn-allow FQDN[:GSID,..]  a NAF allowed on Zn (repeatable)\n"
	        "  --zn-release-impi       Zn responses carry the IMPI (gba-nafd needs it)\n"
	        "  --lifetime S            Ks lifetime when the GUSS sets none (86400)\n"
	        "  --challenge-lifetime S  Ub nonce lifetime (60)\n");
	gba_daemon_usage(f, "gbacert.db", "gbacert.key",
	                 "DIR/audit.jsonl with --demo, else gbacert-audit.jsonl");
	fprintf(f,
	        "  --naf-port N            the provisioning NAF (CMC, PKI portal, CRLs, OCSP); TLS\n"
	        "                          when --tls-cert is set (off; needs --policy-dir, --ca-dir)\n"
	        "  --status-port N         CRLs and OCSP (/crl/, /ocsp) alone, over cleartext\n"
	        "                          HTTP/1.1 and h2c as RFC 5019 has it (off; needs the NAF)\n");
	naf_service_usage(f, "DIR/naf-secret with --demo, else gbacert-naf.secret");
}

static int parse_allow(struct options *o, char *arg)
{
	static uint32_t gsids[MAX_ALLOW][16];
	char *colon = strchr(arg, ':'), *p, *save = NULL;
	struct bsf_naf_allow *a;

	if (o->nallow >= MAX_ALLOW)
		return GBA_ETOOBIG;
	a = &o->allow[o->nallow];
	a->fqdn = arg;
	if (colon != NULL) {
		*colon = '\0';
		a->gsids = gsids[o->nallow];
		for (p = strtok_r(colon + 1, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
			if (a->ngsids >= 16 ||
			    gba_daemon_parse_u32(p, UINT32_MAX, &gsids[o->nallow][a->ngsids]) < 0)
				return GBA_EINVAL;
			a->ngsids++;
		}
		if (a->ngsids == 0)
			return GBA_EINVAL;
	}
	if (a->fqdn[0] == '\0')
		return GBA_EINVAL;
	o->nallow++;
	return 0;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "demo", required_argument, NULL, 'D' },
		{ "fqdn", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "ub-port", required_argument, NULL, 'u' },
		{ "ub-tls-port", required_argument, NULL, 'U' },
		{ "zn-port", required_argument, NULL, 'z' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "zn-client-ca", required_argument, NULL, 'a' },
		{ "zn-allow", required_argument, NULL, 'A' },
		{ "zn-release-impi", no_argument, NULL, 'I' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "challenge-lifetime", required_argument, NULL, 'C' },
		{ "naf-port", required_argument, NULL, 'n' },
		{ "status-port", required_argument, NULL, 'S' },
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
		case 'f': o->fqdn = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'u': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->ub_port = (int)v; break;
		case 'U': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->ub_tls_port = (int)v; break;
		case 'z': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->zn_port = (int)v; break;
		case 'c': o->tls_cert = optarg; break;
		case 'k': o->tls_key = optarg; break;
		case 'a': o->zn_client_ca = optarg; break;
		case 'A': bad = parse_allow(o, optarg); break;
		case 'I': o->release_impi = 1; break;
		case 'L': bad = gba_daemon_parse_u32(optarg, 365u * 86400u, &o->lifetime); break;
		case 'C': bad = gba_daemon_parse_u32(optarg, 3600, &o->challenge_lifetime); break;
		case 'n': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->naf_port = (int)v; break;
		case 'S': bad = gba_daemon_parse_u32(optarg, 65535, &v); o->status_port = (int)v; break;
		case 'h': usage(stdout); exit(0);
		default: return GBA_EINVAL;
		}
		if (bad < 0) {
			fprintf(stderr, "gba-bsfd: bad option value '%s'\n", optarg);
			return GBA_EINVAL;
		}
	}
	if (optind != argc)
		return GBA_EINVAL;
	if (o->lifetime == 0 || o->challenge_lifetime == 0) {
		fprintf(stderr, "gba-bsfd: lifetimes must be positive\n");
		return GBA_EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct daemon d;
	struct gba_http_listener_conf l[5];
	size_t n = 0;
	int ret;

	memset(&o, 0, sizeof(o));
	o.fqdn = "bsf.gbacert.test";
	o.listen = "127.0.0.1";
	o.ub_port = 8080;
	o.ub_tls_port = -1;
	o.zn_port = -1;
	o.naf_port = -1;
	o.status_port = -1;
	o.naf.fqdn = "naf.gbacert.test";
	o.naf.ca_name = "gbacert-subscriber-ca";
	o.dc.ready_fd = -1;
	o.lifetime = 86400;
	o.challenge_lifetime = 60;
	if (parse_options(&o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.demo_dir != NULL) {
		ret = demo_setup(&o);
		if (ret < 0) {
			fprintf(stderr, "gba-bsfd: demo set-up in %s failed: %s\n", o.demo_dir,
			        gba_strerror(ret));
			return 1;
		}
	}
	if (o.dc.db == NULL)
		o.dc.db = "gbacert.db";
	if (o.dc.key_file == NULL)
		o.dc.key_file = "gbacert.key";
	if (o.dc.audit_log == NULL)
		o.dc.audit_log = "gbacert-audit.jsonl";
	if ((o.ub_tls_port >= 0 || o.zn_port >= 0) && (o.tls_cert == NULL || o.tls_key == NULL)) {
		fprintf(stderr, "gba-bsfd: TLS listeners need --tls-cert and --tls-key\n");
		return 2;
	}
	if (o.zn_port >= 0 && o.zn_client_ca == NULL) {
		fprintf(stderr, "gba-bsfd: Zn needs --zn-client-ca (NAFs authenticate by certificate)\n");
		return 2;
	}
	if (o.naf_port >= 0 && (o.dc.policy_dir == NULL || o.naf.ca_dir == NULL)) {
		fprintf(stderr, "gba-bsfd: the NAF needs --policy-dir and --ca-dir\n");
		return 2;
	}
	if (o.status_port >= 0 && o.naf_port < 0) {
		fprintf(stderr, "gba-bsfd: --status-port needs the NAF (--naf-port)\n");
		return 2;
	}

	memset(l, 0, sizeof(l));
	if (o.ub_port >= 0) {
		l[n].name = "ub";
		l[n].address = o.listen;
		l[n].port = (uint16_t)o.ub_port;
		l[n].handler = ub_handler;
		l[n].ctx = &d;
		n++;
	}
	if (o.ub_tls_port >= 0) {
		l[n].name = "ub-tls";
		l[n].address = o.listen;
		l[n].port = (uint16_t)o.ub_tls_port;
		l[n].cert_file = o.tls_cert;
		l[n].key_file = o.tls_key;
		l[n].handler = ub_handler;
		l[n].ctx = &d;
		n++;
	}
	if (o.zn_port >= 0) {
		l[n].name = "zn";
		l[n].address = o.listen;
		l[n].port = (uint16_t)o.zn_port;
		l[n].cert_file = o.tls_cert;
		l[n].key_file = o.tls_key;
		l[n].client_ca_file = o.zn_client_ca;
		l[n].require_client_cert = 1;
		l[n].handler = zn_handler;
		l[n].ctx = &d;
		n++;
	}
	if (o.naf_port >= 0) {
		l[n].name = "naf";
		l[n].address = o.listen;
		l[n].port = (uint16_t)o.naf_port;
		l[n].cert_file = o.tls_cert;
		l[n].key_file = o.tls_key;
		/* optional: certificates issued here authenticate CCM requests
		 * (naf_service_start makes the path; it is read at bind time) */
		if (o.tls_cert != NULL)
			l[n].client_ca_file = d.naf.client_ca;
		l[n].handler = naf_handler;
		l[n].ctx = &d;
		d.naf_listener = (unsigned)n;
		n++;
	}
	if (o.status_port >= 0) {
		l[n].name = "status";
		l[n].address = o.listen;
		l[n].port = (uint16_t)o.status_port;
		l[n].handler = status_handler;
		l[n].ctx = &d;
		d.status_listener = (unsigned)n;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "gba-bsfd: no listener enabled\n");
		return 2;
	}

	d.opt = &o;
	d.conf.fqdn = o.fqdn;
	d.conf.key_lifetime_s = o.lifetime;
	d.conf.challenge_lifetime_s = o.challenge_lifetime;
	d.conf.zn_allow = o.allow;
	d.conf.zn_nallow = o.nallow;
	d.conf.zn_release_impi = o.release_impi;
	o.dc.name = "gba-bsfd";
	o.dc.log_tag = MOD;
	o.dc.worker_new = worker_new;
	o.dc.worker_free = worker_free;
	o.dc.worker_arg = &d;
	o.dc.on_bound = on_bound;
	o.dc.on_reload = on_reload;
	if (o.naf_port >= 0) {
		o.dc.on_tick = worker_tick;   /* CCM delivery: other processes' messages */
		o.dc.tick_ms = o.naf.ccm_poll_ms != 0 ? o.naf.ccm_poll_ms : 1000;
	}
	/* Signals blocked, store checked, audit log open, policies loaded. */
	if (gba_daemon_start(&d.dm, &o.dc) < 0)
		return 1;
	d.conf.audit = d.dm.audit;
	if (o.naf_port >= 0) {
		if (o.naf.secret_file == NULL)
			o.naf.secret_file = "gbacert-naf.secret";
		ret = naf_service_start(&d.naf, &o.naf, &d.dm);
		if (ret < 0) {
			fprintf(stderr, "gba-bsfd: cannot set up the NAF (CA in %s): %s\n",
			        o.naf.ca_dir, gba_strerror(ret));
			gba_daemon_finish(&d.dm);
			return 1;
		}
	}

	ret = gba_daemon_run(&d.dm, l, n);
	if (o.naf_port >= 0)
		naf_service_stop(&d.naf);
	gba_daemon_finish(&d.dm);
	gba_log_notice(MOD, "stopped");
	return ret < 0 ? 1 : 0;
}
