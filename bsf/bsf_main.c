/*
 * bsf_main.c - gba-bsfd, the Bootstrapping Server Function daemon.
 *
 * Listeners:
 *   ub      Ub over cleartext HTTP (HTTP/1.1 or h2c), --ub-port
 *   ub-tls  Ub over TLS (ALPN h2 / http/1.1), --ub-tls-port, optional
 *   zn      Nbsp_GBA over TLS with a required NAF client certificate
 *
 * Each worker thread opens its own store and HSS handles the first time
 * it serves a request (SQLite handles are per thread).  SIGTERM and
 * SIGINT stop gracefully: in-flight requests finish.  A housekeeping
 * thread purges expired challenges and bootstrap contexts every minute,
 * and rotates the audit log on SIGUSR1.
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
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bsf.h"
#include "gba_audit.h"
#include "gba_conf.h"
#include "gba_policy.h"
#include "gba_crypto.h"
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
#define PATH_LEN 4096

struct options {
	const char *fqdn;
	const char *listen;
	int ub_port, ub_tls_port, zn_port;      /* -1: disabled */
	const char *tls_cert, *tls_key, *zn_client_ca;
	const char *db, *key_file;
	const char *port_file;
	int ready_fd;
	unsigned workers;
	uint32_t lifetime, challenge_lifetime;
	int release_impi;
	struct bsf_naf_allow allow[MAX_ALLOW];
	size_t nallow;
	const char *demo_dir;
	const char *audit_log;
	const char *policy_dir;
	const char *pid_file;
	/* the in-process provisioning NAF (off unless --naf-port) */
	int naf_port;
	const char *naf_fqdn, *ca_dir, *ca_key, *ca_name, *naf_secret;
	int audit_clear_ids;
	int audit_syslog;
	uint32_t ccm_poll_ms;                /* outbox poll period (other processes' CCMs) */
	uint32_t max_connections;            /* per worker; 0: the layer's default */
	uint32_t ccm_max_per_impi;           /* CCM subscriptions per IMPI */
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
	struct worker *next;
};

struct daemon {
	struct gba_policy_store *policies;   /* NULL without --policy-dir */
	struct options *opt;
	struct bsf_conf conf;
	pthread_mutex_t lock;
	struct worker *workers;
	struct gba_http_server *server;
	/* the NAF, shared by the workers */
	struct naf_ca ca;
	struct naf_conf naf_conf;
	struct gba_store_committer *committer;
	uint8_t naf_secret[32];
	struct naf_ccm_hub *ccm;             /* CCM delivery, shared by the workers */
	char naf_client_ca[PATH_LEN];        /* client certificates the NAF accepts */
};

static _Thread_local struct worker *this_worker;

static void on_bootstrap(void *arg, const struct bsf_bootstrap_event *ev)
{
	char id[GBA_LOG_ID_LEN];

	(void)arg;
	gba_log_notice(MOD, "bootstrap b-tid=%s lifetime=%llds",
	               gba_log_id(ev->btid, strlen(ev->btid), id),
	               (long long)(ev->expires - ev->created));
	/* CCMs the policy wants on bootstrap, pushed on this very answer */
	if (this_worker != NULL && this_worker->naf != NULL)
		(void)naf_ccm_on_bootstrap(this_worker->naf, ev->impi, ev->resp, ev->peer);
}

static struct worker *worker_get(struct daemon *d)
{
	struct worker *w;
	int ret;

	if (this_worker != NULL)
		return this_worker;
	w = gba_calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	ret = gba_store_open(&w->store, d->opt->db, d->opt->key_file);
	if (ret == 0)
		ret = gba_hss_sqlite_open(&w->hss, d->opt->db, d->opt->key_file);
	if (ret == 0)
		ret = bsf_new(&w->bsf, &d->conf, w->hss, w->store);
	if (ret == 0)
		ret = bsf_subscribe(w->bsf, on_bootstrap, d);
	if (ret == 0 && d->opt->naf_port >= 0) {
		w->keysrc.get = naf_keysrc_store_get;
		w->keysrc.ctx = w->store;
		ret = naf_new(&w->naf, &d->naf_conf, w->store, &w->keysrc);
	}
	if (ret < 0) {
		gba_log_err(MOD, "worker: cannot open the store: %s", gba_strerror(ret));
		naf_free(w->naf);
		bsf_free(w->bsf);
		if (w->hss != NULL)
			w->hss->ops->close(w->hss);
		gba_store_close(w->store);
		gba_free(w);
		return NULL;
	}
	pthread_mutex_lock(&d->lock);
	w->next = d->workers;
	d->workers = w;
	pthread_mutex_unlock(&d->lock);
	this_worker = w;
	return w;
}

static void ub_handler(void *ctx, const struct gba_http_request *req,
                       struct gba_http_response *resp)
{
	struct worker *w = worker_get(ctx);

	if (w == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	bsf_ub_handle(w->bsf, req, resp);
}

static void zn_handler(void *ctx, const struct gba_http_request *req,
                       struct gba_http_response *resp)
{
	struct worker *w = worker_get(ctx);

	if (w == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	bsf_zn_handle(w->bsf, req, resp);
}

/* Each worker's tick: CCM delivery and, on worker 0, CCM expiry. */
static void worker_tick(void *ctx, unsigned worker)
{
	struct daemon *d = ctx;
	struct worker *w;

	if (d->opt->naf_port < 0)
		return;
	w = worker_get(d);
	if (w != NULL && w->naf != NULL)
		naf_ccm_tick(w->naf, worker == 0);
}

static void server_wake(void *arg)
{
	gba_http_server_wake(arg);
}

static void naf_handler(void *ctx, const struct gba_http_request *req,
                        struct gba_http_response *resp)
{
	struct worker *w = worker_get(ctx);

	if (w == NULL || w->naf == NULL) {
		gba_http_response_status(resp, 503);
		return;
	}
	naf_handle(w->naf, req, resp);
}

/* ---- demo provisioning ---- */

static const char demo_impi[] = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
static const char demo_naf[] = "naf.gbacert.test";
static const char demo_guss[] =
	"{\"bsfInfo\":{\"lifeTime\":86400},\"ussList\":[{\"gsId\":1,\"gsType\":1,"
	"\"ueIds\":[\"sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org\"],"
	"\"flags\":[]}]}";

static int path_in(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_LEN, "%s/%s", dir, name);

	return n < 0 || n >= PATH_LEN ? GBA_ETOOBIG : 0;
}

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
	ret = path_in(o->d_db, o->demo_dir, "bsf.db");
	if (ret == 0)
		ret = path_in(o->d_key, o->demo_dir, "bsf.key");
	if (ret == 0)
		ret = path_in(o->d_ca, o->demo_dir, "ca.pem");
	if (ret == 0)
		ret = path_in(o->d_cert, o->demo_dir, "bsf.pem");
	if (ret == 0)
		ret = path_in(o->d_certkey, o->demo_dir, "bsf-key.pem");
	if (ret == 0)
		ret = path_in(o->d_naf, o->demo_dir, "naf.pem");
	if (ret == 0)
		ret = path_in(o->d_nafkey, o->demo_dir, "naf-key.pem");
	if (ret == 0)
		ret = path_in(o->d_audit, o->demo_dir, "audit.jsonl");
	if (ret == 0)
		ret = path_in(o->d_cadir, o->demo_dir, "ca");
	if (ret == 0)
		ret = path_in(o->d_secret, o->demo_dir, "naf-secret");
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
	if (o->ca_dir == NULL)
		o->ca_dir = o->d_cadir;
	if (o->naf_secret == NULL)
		o->naf_secret = o->d_secret;
	if (o->naf_port < 0 && o->policy_dir != NULL)
		o->naf_port = 0;   /* the NAF needs policies */
	if (!exists(o->d_ca) || !exists(o->d_cert) || !exists(o->d_naf)) {
		char cakey[PATH_LEN];

		ret = path_in(cakey, o->demo_dir, "ca-key.pem");
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
	if (o->db == NULL)
		o->db = o->d_db;
	if (o->key_file == NULL)
		o->key_file = o->d_key;
	if (o->audit_log == NULL)
		o->audit_log = o->d_audit;
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

/* ---- policies ---- */

/*
 * (Re)load --policy-dir.  The store swaps the new set in only when every
 * file is valid; requests in flight keep the set they acquired.  Both
 * outcomes are audited; a rejection leaves the old set in force.
 */
static int policy_load(struct daemon *d)
{
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];
	const struct gba_policy_set *set;
	struct gba_audit_event ev;
	char hex[2 * GBA_POLICY_SHA256_LEN + 1];
	size_t i;
	int ret, aret = 0;

	ret = gba_policy_store_reload(d->policies, d->opt->policy_dir, err, sizeof(err));
	if (ret < 0) {
		gba_log_err(MOD, "policies not loaded (any previous set stays in force): %s", err);
		memset(&ev, 0, sizeof(ev));
		ev.type = GBA_AUDIT_POLICY_REJECTED;
		ev.outcome = GBA_AUDIT_DENIED;
		ev.reason = err;
		ev.policy = d->opt->policy_dir;
		(void)gba_audit_emit(d->conf.audit, &ev);
		return ret;
	}
	set = gba_policy_store_acquire(d->policies);
	for (i = 0; set != NULL && i < set->n; i++) {
		gba_hex_encode(set->v[i].sha256, GBA_POLICY_SHA256_LEN, hex);
		memset(&ev, 0, sizeof(ev));
		ev.type = GBA_AUDIT_POLICY_LOADED;
		ev.outcome = GBA_AUDIT_OK;
		ev.app = set->v[i].c.application.id;
		ev.policy = set->v[i].path;
		ev.policy_sha256 = hex;
		if (aret == 0)
			aret = gba_audit_emit(d->conf.audit, &ev);
	}
	gba_log_notice(MOD, "loaded %zu policies from %s", set != NULL ? set->n : 0,
	               d->opt->policy_dir);
	gba_policy_store_release(d->policies, set);
	return aret;
}

/* ---- audit ---- */

/* A start or stop record ("app": the daemon). */
static int audit_simple(struct daemon *d, enum gba_audit_type type)
{
	struct gba_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.outcome = GBA_AUDIT_OK;
	ev.app = "gba-bsfd " PACKAGE_VERSION;
	return gba_audit_emit(d->conf.audit, &ev);
}

/* ---- ready report ---- */

static int report_ports(const struct options *o, struct gba_http_server *s,
                        const struct gba_http_listener_conf *l, size_t n)
{
	char buf[256];
	size_t len = 0, i;
	int w;

	for (i = 0; i < n; i++) {
		w = snprintf(buf + len, sizeof(buf) - len, "%s %u\n", l[i].name,
		             (unsigned)gba_http_server_port(s, i));
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return GBA_ETOOBIG;
		len += (size_t)w;
	}
	if (o->port_file != NULL) {
		char tmp[PATH_LEN];
		FILE *f;

		if (snprintf(tmp, sizeof(tmp), "%s.tmp", o->port_file) >= (int)sizeof(tmp))
			return GBA_ETOOBIG;
		f = fopen(tmp, "w");
		if (f == NULL || fwrite(buf, 1, len, f) != len) {
			if (f != NULL)
				fclose(f);
			return GBA_EIO;
		}
		if (fclose(f) != 0 || rename(tmp, o->port_file) != 0)
			return GBA_EIO;
	}
	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, buf, len) != (ssize_t)len)
			return GBA_EIO;
		close(o->ready_fd);
	}
	for (i = 0; i < n; i++)
		gba_log_notice(MOD, "listening: %s on %s port %u%s", l[i].name, l[i].address,
		               (unsigned)gba_http_server_port(s, i),
		               l[i].cert_file != NULL ? " (TLS)" : "");
	return 0;
}

/* ---- signals and housekeeping ---- */

struct housekeeper {
	struct daemon *d;
	sigset_t set;
};

static void *housekeeping(void *arg)
{
	struct housekeeper *hk = arg;
	struct gba_store *st = NULL;
	struct timespec ts = { 60, 0 };

	if (gba_store_open(&st, hk->d->opt->db, hk->d->opt->key_file) < 0)
		st = NULL;
	for (;;) {
		int sig = sigtimedwait(&hk->set, NULL, &ts);

		if (sig == SIGHUP) {
			if (hk->d->policies == NULL)
				gba_log_notice(MOD, "SIGHUP: no --policy-dir to reload");
			else if (policy_load(hk->d) == 0)
				naf_ccm_policy_changed(hk->d->ccm);   /* NULL-safe: CCM updates */
			continue;
		}
		if (sig == SIGUSR1) {
			int r = gba_audit_rotate(hk->d->conf.audit);

			if (r < 0)
				gba_log_err(MOD, "audit log rotation failed: %s (decisions now "
				            "fail closed)", gba_strerror(r));
			else
				gba_log_notice(MOD, "audit log rotated");
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT) {
			gba_log_notice(MOD, "signal %d: stopping gracefully", sig);
			gba_http_server_stop(hk->d->server);
			break;
		}
		if (sig < 0 && errno == EAGAIN && st != NULL) {
			int n = gba_store_purge(st, (int64_t)time(NULL));

			if (n > 0)
				gba_log_info(MOD, "purged %d expired entries", n);
		}
	}
	gba_store_close(st);
	return NULL;
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
	        "  --zn-release-impi       Zn responses carry the IMPI\n"
	        "  --db F --key-file F     SQLite database and at-rest key (gbacert.db, gbacert.key)\n"
	        "  --lifetime S            Ks lifetime when the GUSS sets none (86400)\n"
	        "  --challenge-lifetime S  Ub nonce lifetime (60)\n"
	        "  --workers N             worker threads (one per CPU)\n"
	        "  --port-file F           write \"NAME PORT\" lines to F once bound\n"
	        "  --ready-fd N            write the same lines to descriptor N\n"
	        "  --audit-log F           audit log, JSON Lines (DIR/audit.jsonl with --demo,\n"
	        "                          else gbacert-audit.jsonl); SIGUSR1 rotates it\n"
	        "  --audit-clear-ids       audit records carry IMPI and B-TID in clear\n"
	        "  --audit-syslog          also copy each audit record to syslog (authpriv)\n"
	        "  --policy-dir DIR        per-application YAML policies; SIGHUP reloads them\n"
	        "  --pid-file F            write the daemon's pid to F (for gba-ctl policy reload)\n"
	        "  --naf-port N            the provisioning NAF (CMC, PKI portal); TLS when\n"
	        "                          --tls-cert is set (off; needs --policy-dir, --ca-dir)\n"
	        "  --naf-fqdn NAME         NAF FQDN: NAF_Id and Ua realm (naf.gbacert.test)\n"
	        "  --ca-dir DIR            CA made by gba-ctl ca init (DIR/ca with --demo)\n"
	        "  --ca-key KEY            issuing CA key instead of DIR/ca.key: PEM or pkcs11: URI\n"
	        "  --ca-name NAME          the CA's name in policies (gbacert-subscriber-ca)\n"
	        "  --naf-secret F          Ua Digest nonce key, 32 octets, created if missing\n"
	        "  --ccm-poll-ms N         how often each worker looks for CCMs queued by other\n"
	        "                          processes (1000)\n"
	        "  --ccm-max-per-impi N    CCM subscriptions per IMPI (4)\n"
	        "  --max-connections N     connections per worker (4096)\n");
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
		return GBA_EINVAL;
	*out = (uint32_t)v;
	return 0;
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
			if (a->ngsids >= 16 || parse_u32(p, UINT32_MAX, &gsids[o->nallow][a->ngsids]) < 0)
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
		{ "db", required_argument, NULL, 'd' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "challenge-lifetime", required_argument, NULL, 'C' },
		{ "workers", required_argument, NULL, 'w' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "audit-log", required_argument, NULL, 'G' },
		{ "audit-clear-ids", no_argument, NULL, 'g' },
		{ "audit-syslog", no_argument, NULL, 'y' },
		{ "policy-dir", required_argument, NULL, 'P' },
		{ "pid-file", required_argument, NULL, 'Q' },
		{ "naf-port", required_argument, NULL, 'n' },
		{ "naf-fqdn", required_argument, NULL, 'N' },
		{ "ca-dir", required_argument, NULL, 'e' },
		{ "ca-key", required_argument, NULL, 'E' },
		{ "ca-name", required_argument, NULL, 'm' },
		{ "naf-secret", required_argument, NULL, 's' },
		{ "ccm-poll-ms", required_argument, NULL, 'o' },
		{ "ccm-max-per-impi", required_argument, NULL, 'x' },
		{ "max-connections", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint32_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int bad = 0;

		switch (ch) {
		case 'D': o->demo_dir = optarg; break;
		case 'f': o->fqdn = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'u': bad = parse_u32(optarg, 65535, &v); o->ub_port = (int)v; break;
		case 'U': bad = parse_u32(optarg, 65535, &v); o->ub_tls_port = (int)v; break;
		case 'z': bad = parse_u32(optarg, 65535, &v); o->zn_port = (int)v; break;
		case 'c': o->tls_cert = optarg; break;
		case 'k': o->tls_key = optarg; break;
		case 'a': o->zn_client_ca = optarg; break;
		case 'A': bad = parse_allow(o, optarg); break;
		case 'I': o->release_impi = 1; break;
		case 'd': o->db = optarg; break;
		case 'K': o->key_file = optarg; break;
		case 'L': bad = parse_u32(optarg, 365u * 86400u, &o->lifetime); break;
		case 'C': bad = parse_u32(optarg, 3600, &o->challenge_lifetime); break;
		case 'w': bad = parse_u32(optarg, 256, &v); o->workers = v; break;
		case 'p': o->port_file = optarg; break;
		case 'r': bad = parse_u32(optarg, INT_MAX, &v); o->ready_fd = (int)v; break;
		case 'G': o->audit_log = optarg; break;
		case 'g': o->audit_clear_ids = 1; break;
		case 'y': o->audit_syslog = 1; break;
		case 'P': o->policy_dir = optarg; break;
		case 'Q': o->pid_file = optarg; break;
		case 'n': bad = parse_u32(optarg, 65535, &v); o->naf_port = (int)v; break;
		case 'N': o->naf_fqdn = optarg; break;
		case 'e': o->ca_dir = optarg; break;
		case 'E': o->ca_key = optarg; break;
		case 'm': o->ca_name = optarg; break;
		case 's': o->naf_secret = optarg; break;
		case 'o': bad = parse_u32(optarg, 60000, &o->ccm_poll_ms); break;
		case 'x': bad = parse_u32(optarg, 1000000, &o->ccm_max_per_impi); break;
		case 'X': bad = parse_u32(optarg, 10000000, &o->max_connections); break;
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
	if (o->ccm_poll_ms == 0 || o->ccm_max_per_impi == 0) {
		fprintf(stderr, "gba-bsfd: --ccm-poll-ms and --ccm-max-per-impi must be positive\n");
		return GBA_EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct daemon d;
	struct gba_http_listener_conf l[4];
	struct gba_http_server_conf sc;
	struct housekeeper hk;
	pthread_t hk_thread;
	size_t n = 0;
	int ret;

	memset(&o, 0, sizeof(o));
	o.fqdn = "bsf.gbacert.test";
	o.listen = "127.0.0.1";
	o.ub_port = 8080;
	o.ub_tls_port = -1;
	o.zn_port = -1;
	o.naf_port = -1;
	o.naf_fqdn = "naf.gbacert.test";
	o.ca_name = "gbacert-subscriber-ca";
	o.ready_fd = -1;
	o.lifetime = 86400;
	o.challenge_lifetime = 60;
	o.ccm_poll_ms = 1000;
	o.ccm_max_per_impi = NAF_CCM_MAX_PER_IMPI;
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
	if (o.db == NULL)
		o.db = "gbacert.db";
	if (o.key_file == NULL)
		o.key_file = "gbacert.key";
	if (o.audit_log == NULL)
		o.audit_log = "gbacert-audit.jsonl";
	if ((o.ub_tls_port >= 0 || o.zn_port >= 0) && (o.tls_cert == NULL || o.tls_key == NULL)) {
		fprintf(stderr, "gba-bsfd: TLS listeners need --tls-cert and --tls-key\n");
		return 2;
	}
	if (o.zn_port >= 0 && o.zn_client_ca == NULL) {
		fprintf(stderr, "gba-bsfd: Zn needs --zn-client-ca (NAFs authenticate by certificate)\n");
		return 2;
	}

	d.opt = &o;
	d.conf.fqdn = o.fqdn;
	d.conf.key_lifetime_s = o.lifetime;
	d.conf.challenge_lifetime_s = o.challenge_lifetime;
	d.conf.zn_allow = o.allow;
	d.conf.zn_nallow = o.nallow;
	d.conf.zn_release_impi = o.release_impi;
	pthread_mutex_init(&d.lock, NULL);

	/* Open the store once up front: a bad key or database stops start-up. */
	{
		struct gba_store *st = NULL;

		ret = gba_store_open(&st, o.db, o.key_file);
		gba_store_close(st);
		if (ret < 0) {
			fprintf(stderr, "gba-bsfd: cannot open store %s: %s\n", o.db, gba_strerror(ret));
			return 1;
		}
	}

	/* No audit log, no service (fail closed). */
	if (o.audit_syslog)   /* GBA_AUDIT_SYSLOG_STDERR=1 echoes it (tests) */
		openlog("gba-bsfd", LOG_PID | (getenv("GBA_AUDIT_SYSLOG_STDERR") ? LOG_PERROR : 0),
		        LOG_AUTHPRIV);
	ret = gba_audit_open(&d.conf.audit, o.audit_log,
	                     (o.audit_clear_ids ? GBA_AUDIT_CLEAR_IDS : 0) |
	                     (o.audit_syslog ? GBA_AUDIT_SYSLOG : 0));
	if (ret == 0)
		ret = audit_simple(&d, GBA_AUDIT_START);
	if (ret < 0) {
		fprintf(stderr, "gba-bsfd: cannot write the audit log %s: %s\n", o.audit_log,
		        gba_strerror(ret));
		gba_audit_close(d.conf.audit);
		return 1;
	}
	/* A bad policy set stops start-up; later reloads keep the old one. */
	if (o.policy_dir != NULL) {
		ret = gba_policy_store_new(&d.policies);
		if (ret == 0)
			ret = policy_load(&d);
		if (ret < 0) {
			fprintf(stderr, "gba-bsfd: cannot load the policies in %s (see the log)\n",
			        o.policy_dir);
			(void)audit_simple(&d, GBA_AUDIT_STOP);
			gba_audit_close(d.conf.audit);
			gba_policy_store_free(d.policies);
			return 1;
		}
	}
	/* Every thread (workers, the committer) inherits this mask; only the housekeeping thread takes signals. */
	sigemptyset(&hk.set);
	sigaddset(&hk.set, SIGTERM);
	sigaddset(&hk.set, SIGINT);
	sigaddset(&hk.set, SIGHUP);
	sigaddset(&hk.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &hk.set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o.naf_port >= 0) {
		if (o.policy_dir == NULL || o.ca_dir == NULL) {
			fprintf(stderr, "gba-bsfd: the NAF needs --policy-dir and --ca-dir\n");
			return 2;
		}
		ret = naf_ca_load(&d.ca, o.ca_dir, o.ca_name, o.ca_key);
		if (ret == 0)
			ret = naf_secret_load(o.naf_secret != NULL ? o.naf_secret : "gbacert-naf.secret",
			                      d.naf_secret);
		if (ret == 0)
			ret = gba_store_committer_start(&d.committer, o.db, o.key_file);
		if (ret == 0) {
			struct naf_ccm_hub_conf hc;

			memset(&hc, 0, sizeof(hc));
			hc.max_per_impi = o.ccm_max_per_impi;
			ret = naf_ccm_hub_new(&d.ccm, &hc);
		}
		if (ret == 0 && snprintf(d.naf_client_ca, sizeof(d.naf_client_ca), "%s/ca.pem",
		                         o.ca_dir) >= (int)sizeof(d.naf_client_ca))
			ret = GBA_ETOOBIG;
		if (ret < 0) {
			fprintf(stderr, "gba-bsfd: cannot set up the NAF (CA in %s): %s\n", o.ca_dir,
			        gba_strerror(ret));
			return 1;
		}
		d.naf_conf.fqdn = o.naf_fqdn;
		memcpy(d.naf_conf.ua_id, gba_ua_id_pki_portal, GBA_UA_ID_LEN);
		d.naf_conf.cas = &d.ca;
		d.naf_conf.ncas = 1;
		d.naf_conf.policies = d.policies;
		d.naf_conf.audit = d.conf.audit;
		d.naf_conf.committer = d.committer;
		d.naf_conf.digest_secret = d.naf_secret;
		d.naf_conf.ccm = d.ccm;
	}
	if (o.pid_file != NULL) {
		FILE *pf = fopen(o.pid_file, "w");

		if (pf == NULL || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
			fprintf(stderr, "gba-bsfd: cannot write the pid file %s\n", o.pid_file);
			(void)audit_simple(&d, GBA_AUDIT_STOP);
			gba_audit_close(d.conf.audit);
			gba_policy_store_free(d.policies);
			return 1;
		}
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
		/* optional: certificates issued here authenticate CCM requests */
		if (o.tls_cert != NULL)
			l[n].client_ca_file = d.naf_client_ca;
		l[n].handler = naf_handler;
		l[n].ctx = &d;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "gba-bsfd: no listener enabled\n");
		return 2;
	}


	memset(&sc, 0, sizeof(sc));
	sc.listeners = l;
	sc.nlisteners = n;
	sc.workers = o.workers;
	gba_http_limits_default(&sc.limits);
	if (o.max_connections != 0)
		sc.limits.max_connections = o.max_connections;
	if (o.naf_port >= 0) {
		sc.on_tick = worker_tick;   /* CCM delivery: other processes' messages */
		sc.tick_ctx = &d;
		sc.tick_ms = o.ccm_poll_ms;
	}
	ret = gba_http_server_new(&d.server, &sc);
	if (ret < 0) {
		fprintf(stderr, "gba-bsfd: cannot start listeners: %s\n", gba_strerror(ret));
		(void)audit_simple(&d, GBA_AUDIT_STOP);
		gba_audit_close(d.conf.audit);
		return 1;
	}
	if (d.ccm != NULL)
		naf_ccm_hub_set_wake(d.ccm, server_wake, d.server);
	ret = report_ports(&o, d.server, l, n);
	if (ret < 0) {
		fprintf(stderr, "gba-bsfd: cannot report ports: %s\n", gba_strerror(ret));
		gba_http_server_free(d.server);
		(void)audit_simple(&d, GBA_AUDIT_STOP);
		gba_audit_close(d.conf.audit);
		return 1;
	}
	hk.d = &d;
	if (pthread_create(&hk_thread, NULL, housekeeping, &hk) != 0) {
		gba_http_server_free(d.server);
		(void)audit_simple(&d, GBA_AUDIT_STOP);
		gba_audit_close(d.conf.audit);
		return 1;
	}
	ret = gba_http_server_run(d.server);
	pthread_kill(hk_thread, SIGTERM);   /* in case run ended on its own */
	pthread_join(hk_thread, NULL);
	gba_http_server_free(d.server);
	while (d.workers != NULL) {
		struct worker *w = d.workers;

		d.workers = w->next;
		naf_free(w->naf);
		bsf_free(w->bsf);
		w->hss->ops->close(w->hss);
		gba_store_close(w->store);
		gba_free(w);
	}
	if (audit_simple(&d, GBA_AUDIT_STOP) < 0)
		gba_log_err(MOD, "cannot write the stop record to the audit log");
	gba_store_committer_stop(d.committer);
	naf_ccm_hub_free(d.ccm);
	naf_ca_unload(&d.ca);
	gba_wipe(d.naf_secret, sizeof(d.naf_secret));
	gba_audit_close(d.conf.audit);
	gba_policy_store_free(d.policies);
	if (o.pid_file != NULL)
		unlink(o.pid_file);
	gba_log_notice(MOD, "stopped");
	return ret < 0 ? 1 : 0;
}
