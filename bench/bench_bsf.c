/*
 * bench_bsf.c - a load generator for gba-bsfd (Ub and Zn).
 *
 * Not a test: bench/run.sh drives it and compares what it measures with
 * nghttpd + h2load on the same machine in the same run (bench/README.md).
 *
 * Threads: --concurrency N, each with its own persistent connection and
 * its own blocking client (lib/gba_http.h), doing one request at a time.
 *
 * --mode ub: every thread runs full bootstraps as gba-ue does
 * (ue/ue_bootstrap.c): GET / with the IMPI and an empty response, the
 * 401 challenge, AUTHENTICATE (Milenage f1..f5 on the client, SQN check
 * against SQN_MS), the Digest AKAv1-MD5 answer with RES, the 200, whose
 * rspauth, content type and B-TID are checked.  A thread only uses the
 * subscribers i with i % N == its index, round-robin, and keeps their
 * SQN_MS in memory, so no two threads ever race on one subscriber's SQN.
 * A synchronisation failure (the database was used before) is answered
 * with AUTS and counted as "resync"; the bootstrap still counts once.
 *
 * --mode zn: every thread first bootstraps one subscriber over Ub (not
 * timed), then POSTs BootstrappingInfoRequests for that B-TID to Zn
 * with the NAF's client certificate, and checks each 200's
 * meKeyMaterial against the Ks_NAF it derived itself.
 *
 * --mode get: GET --path on --url and expect a 200, nothing else.  This
 * is not about gba-bsfd: pointed at the baseline server (nghttpd) it
 * shows what this blocking, thread-per-connection client can drive, next
 * to h2load's figure for the same server (bench/README.md).
 *
 * The timed window starts when every thread is connected (a barrier).
 * Output, one line on stdout:
 *   mode=ub proto=h2 conc=8 ok=N fail=F resync=R secs=S rate=R p50_ms=..
 *   p90_ms=.. p99_ms=.. max_ms=..
 * rate is successful operations per second (a bootstrap is both round
 * trips); latencies are of successful operations.  Exit 0 when ok > 0
 * and fail == 0, 1 otherwise, 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_ue.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_http_auth.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_zn.h"
#include "ue_ub.h"
#include "ue_usim.h"

#define MAX_THREADS   1024u
#define ERR_REPORTS   3                     /* failures printed per thread */
#define ZN_PATH       "/nbsp-gba/v1/bootstrapping-info-retrieval"

static const char user_agent[] = "bench_bsf/" PACKAGE_VERSION " 3gpp-gba-tmpi";

enum mode { MODE_UB, MODE_ZN, MODE_GET };

struct cfg {
	enum mode mode;
	const char *ub_url, *zn_url;
	const char *get_url, *get_path;     /* --mode get */
	const char *ub_ca;                  /* for an https Ub URL */
	const char *ca, *cert, *key;        /* Zn: server CA, NAF certificate and key */
	const char *realm;
	const char *naf;
	uint8_t ua_id[GBA_UA_ID_LEN];
	const char *subs_file;
	unsigned conc;
	double duration;
	enum gba_http_client_mode proto;
	int verbose;
};


struct thr {
	pthread_t tid;
	unsigned idx;
	const struct cfg *cfg;
	pthread_barrier_t *start;
	struct ue_usim **subs;
	size_t nsubs, next;
	struct gba_http_client *c;
	/* Zn */
	struct bench_boot boot;
	struct ue_usim *zsub;
	uint8_t ks_naf[GBA_KS_NAF_LEN];
	char *zn_body;
	size_t zn_body_len;
	/* results */
	int setup_err;
	uint64_t ok, fail;
	unsigned reported;
	struct bench_lat lat;
	struct bench_ub ub;                 /* Ub scratch space (4 KiB arena) */
};

static void fail_report(struct thr *t, const char *what, int err)
{
	t->fail++;
	if (t->reported < ERR_REPORTS || t->cfg->verbose) {
		t->reported++;
		fprintf(stderr, "bench_bsf: thread %u: %s: %s\n", t->idx, what,
		        err < 0 ? gba_strerror(err) : "unexpected reply");
	}
}

/* ---- Ub ---- */

/* One full bootstrap of u on t->c (bench_ue.h). */
static int ub_bootstrap(struct thr *t, struct ue_usim *u, struct bench_boot *out,
                        const char **what)
{
	t->ub.c = t->c;
	t->ub.realm = t->cfg->realm;
	t->ub.user_agent = user_agent;
	return bench_ub_bootstrap(&t->ub, u, out, what);
}

/* ---- Zn ---- */

static int zn_once(struct thr *t, const char **what)
{
	struct gba_http_header h[1];
	struct gba_http_reply *r = NULL;
	struct gba_zn_result zr;
	const struct gba_str *ct;
	int ret;

	memset(&zr, 0, sizeof(zr));
	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = GBA_STR_LIT("application/json");
	*what = "Zn request";
	ret = gba_http_client_request(t->c, "POST", ZN_PATH, h, 1, t->zn_body, t->zn_body_len, &r);
	if (ret < 0)
		return ret;
	*what = "Zn 200";
	ct = gba_http_reply_header(r, "content-type");
	if (r->status != 200 || ct == NULL || ct->len < 16 ||
	    memcmp(ct->p, "application/json", 16) != 0) {
		ret = GBA_EAUTH;
		goto out;
	}
	*what = "Zn response";
	ret = gba_zn_response_parse(r->body, r->body_len, &zr);
	if (ret < 0)
		goto out;
	*what = "Zn meKeyMaterial";
	if (gba_ct_equal(zr.me_key, t->ks_naf, sizeof(t->ks_naf)) != 1)
		ret = GBA_EAUTH;
out:
	gba_zn_result_clear(&zr);
	gba_http_reply_free(r);
	return ret;
}

/* ---- plain GET (calibration against the baseline server) ---- */

static int get_once(struct thr *t, const char **what)
{
	struct gba_http_reply *r = NULL;
	int ret;

	*what = "GET";
	ret = gba_http_client_request(t->c, "GET", t->cfg->get_path, NULL, 0, NULL, 0, &r);
	if (ret == 0 && r->status != 200)
		ret = GBA_EAUTH;
	gba_http_reply_free(r);
	return ret;
}

/* ---- threads ---- */

static int client_open(struct thr *t, const char *url, int zn)
{
	struct gba_http_client_conf cc;

	memset(&cc, 0, sizeof(cc));
	cc.mode = t->cfg->proto;
	cc.disable_push = 1;
	if (zn) {
		cc.ca_file = t->cfg->ca;
		cc.cert_file = t->cfg->cert;
		cc.key_file = t->cfg->key;
	} else {
		cc.ca_file = t->cfg->ub_ca;
	}
	gba_http_client_close(t->c);
	t->c = NULL;
	return gba_http_client_open(&t->c, &cc, url);
}

static int zn_setup(struct thr *t)
{
	struct gba_zn_request zq;
	const char *what = "connect Ub";
	int ret, tries;

	/* One B-TID per thread, from its first subscriber. */
	t->zsub = t->subs[0];
	ret = client_open(t, t->cfg->ub_url, 0);
	for (tries = 0; ret == 0 && tries < 3; tries++) {
		ret = ub_bootstrap(t, t->zsub, &t->boot, &what);
		if (ret != GBA_ESYNC)
			break;
	}
	if (ret < 0) {
		fprintf(stderr, "bench_bsf: thread %u: Zn set-up bootstrap: %s: %s\n", t->idx, what,
		        gba_strerror(ret));
		return ret;
	}
	ret = gba_ks_naf(t->boot.ks, t->boot.rand, t->zsub->impi, strlen(t->zsub->impi),
	                 t->cfg->naf, strlen(t->cfg->naf), t->cfg->ua_id, t->ks_naf);
	if (ret < 0)
		return ret;
	memset(&zq, 0, sizeof(zq));
	memcpy(zq.btid, t->boot.btid, sizeof(zq.btid));
	if (strlen(t->cfg->naf) >= sizeof(zq.naf_fqdn))
		return GBA_ETOOBIG;
	memcpy(zq.naf_fqdn, t->cfg->naf, strlen(t->cfg->naf) + 1);
	memcpy(zq.ua_id, t->cfg->ua_id, sizeof(zq.ua_id));
	ret = gba_zn_request_build(&zq, &t->zn_body, &t->zn_body_len);
	if (ret < 0)
		return ret;
	what = "connect Zn";
	ret = client_open(t, t->cfg->zn_url, 1);
	if (ret == 0)
		ret = zn_once(t, &what);   /* a warm-up that also proves the set-up */
	if (ret < 0)
		fprintf(stderr, "bench_bsf: thread %u: Zn set-up: %s: %s\n", t->idx, what,
		        gba_strerror(ret));
	return ret;
}

static const char *url_of(const struct cfg *cfg)
{
	return cfg->mode == MODE_UB ? cfg->ub_url : cfg->mode == MODE_ZN ? cfg->zn_url :
	       cfg->get_url;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	const struct cfg *cfg = t->cfg;
	const char *what = NULL;
	double deadline, t1, t2;
	struct bench_boot bt;
	int ret;

	if (cfg->mode == MODE_ZN)
		t->setup_err = zn_setup(t);
	else
		t->setup_err = client_open(t, url_of(cfg), 0);
	if (t->setup_err < 0 && cfg->mode != MODE_ZN)
		fprintf(stderr, "bench_bsf: thread %u: connect %s: %s\n", t->idx, url_of(cfg),
		        gba_strerror(t->setup_err));
	pthread_barrier_wait(t->start);
	if (t->setup_err < 0)
		return NULL;
	t1 = bench_now();
	deadline = t1 + cfg->duration;
	while (t1 < deadline) {
		if (cfg->mode == MODE_UB) {
			struct ue_usim *u = t->subs[t->next];

			t->next = (t->next + 1) % t->nsubs;
			ret = ub_bootstrap(t, u, &bt, &what);
		} else if (cfg->mode == MODE_ZN) {
			ret = zn_once(t, &what);
		} else {
			ret = get_once(t, &what);
		}
		t2 = bench_now();
		if (ret == 0) {
			t->ok++;
			if (bench_lat_add(&t->lat, t2 - t1) < 0)
				break;
		} else {
			fail_report(t, what, ret);
			/* transport trouble: start over on a new connection */
			if (ret == GBA_EIO || ret == GBA_ECRYPTO || ret == GBA_ESYNTAX ||
			    ret == GBA_ETOOBIG) {
				ret = client_open(t, url_of(cfg), cfg->mode == MODE_ZN);
				if (ret < 0) {
					fail_report(t, "reconnect", ret);
					break;
				}
			}
			t2 = bench_now();
		}
		t1 = t2;
	}
	gba_wipe(&bt, sizeof(bt));
	return NULL;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_bsf --mode ub|zn --subscribers FILE [options]\n"
	        "       bench_bsf --mode get --url URL [--path P] [options]\n"
	        "  --ub URL             Ub base URL (http://127.0.0.1:8080); both modes need it\n"
	        "  --ub-ca PEM          CA for an https Ub URL\n"
	        "  --zn URL             Zn base URL (https://127.0.0.1:PORT)\n"
	        "  --ca PEM --cert PEM --key PEM   Zn: BSF's CA, NAF client certificate and key\n"
	        "  --naf FQDN           NAF FQDN asked for on Zn (naf.gbacert.test)\n"
	        "  --realm FQDN         Ub realm (bsf.gbacert.test)\n"
	        "  --subscribers FILE   gba-ctl import file: IMPI K OPC AMF SQN [LIFETIME]\n"
	        "  --concurrency N      threads, one connection each (8)\n"
	        "  --duration S         seconds of load (10)\n"
	        "  --http1 | --http2    protocol (HTTP/1.1 default; h2c on http://)\n"
	        "  --url URL --path P   --mode get: GET P (/) on URL, expect 200\n"
	        "  --verbose            print every failure\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "ub", required_argument, NULL, 'u' },
		{ "ub-ca", required_argument, NULL, 'U' },
		{ "zn", required_argument, NULL, 'z' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "naf", required_argument, NULL, 'n' },
		{ "realm", required_argument, NULL, 'r' },
		{ "subscribers", required_argument, NULL, 's' },
		{ "concurrency", required_argument, NULL, 'C' },
		{ "duration", required_argument, NULL, 'd' },
		{ "http1", no_argument, NULL, '1' },
		{ "http2", no_argument, NULL, '2' },
		{ "url", required_argument, NULL, 'g' },
		{ "path", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct cfg cfg;
	struct ue_usim *subs = NULL;
	struct thr *th = NULL;
	pthread_barrier_t start;
	struct bench_lat all;
	size_t nsubs = 0, i;
	uint64_t ok = 0, fail = 0, resync = 0;
	double secs, t0, t_end;
	char *end;
	int ch, ret;
	unsigned created = 0, setup_fail = 0;

	memset(&all, 0, sizeof(all));
	cfg.mode = MODE_UB;
	cfg.ub_url = "http://127.0.0.1:8080";
	cfg.realm = "bsf.gbacert.test";
	cfg.naf = "naf.gbacert.test";
	cfg.ua_id[0] = 0x01;                   /* 01 00 00 00 00: HTTP Digest (Ua) */
	cfg.conc = 8;
	cfg.duration = 10;
	cfg.proto = GBA_HTTP_CLIENT_H1;
	cfg.get_path = "/";
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "ub") == 0)
				cfg.mode = MODE_UB;
			else if (strcmp(optarg, "zn") == 0)
				cfg.mode = MODE_ZN;
			else if (strcmp(optarg, "get") == 0)
				cfg.mode = MODE_GET;
			else
				goto bad;
			break;
		case 'u': cfg.ub_url = optarg; break;
		case 'U': cfg.ub_ca = optarg; break;
		case 'z': cfg.zn_url = optarg; break;
		case 'a': cfg.ca = optarg; break;
		case 'c': cfg.cert = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'n': cfg.naf = optarg; break;
		case 'r': cfg.realm = optarg; break;
		case 's': cfg.subs_file = optarg; break;
		case 'C': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 || v > MAX_THREADS)
				goto bad;
			cfg.conc = (unsigned)v;
			break;
		}
		case 'd':
			errno = 0;
			cfg.duration = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || !(cfg.duration > 0) || cfg.duration > 86400)
				goto bad;
			break;
		case '1': cfg.proto = GBA_HTTP_CLIENT_H1; break;
		case '2': cfg.proto = GBA_HTTP_CLIENT_H2; break;
		case 'g': cfg.get_url = optarg; break;
		case 'p': cfg.get_path = optarg; break;
		case 'v': cfg.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc)
		goto bad;
	if (cfg.mode == MODE_GET) {
		if (cfg.get_url == NULL || cfg.get_path[0] != '/')
			goto bad;
		if (cfg.subs_file == NULL) {
			/* no subscribers: one dummy per thread keeps the set-up uniform */
			subs = gba_calloc(cfg.conc, sizeof(*subs));
			if (subs == NULL)
				return 1;
			nsubs = cfg.conc;
		}
	} else if (cfg.subs_file == NULL) {
		goto bad;
	}
	if (cfg.mode == MODE_ZN && (cfg.zn_url == NULL || cfg.ca == NULL || cfg.cert == NULL ||
	                            cfg.key == NULL)) {
		fprintf(stderr, "bench_bsf: --mode zn needs --zn, --ca, --cert and --key\n");
		return 2;
	}
	if (cfg.subs_file != NULL && bench_subs_load("bench_bsf", cfg.subs_file, &subs, &nsubs) < 0)
		return 2;
	if (nsubs < cfg.conc) {
		fprintf(stderr, "bench_bsf: %zu subscribers for %u threads: need at least one each\n",
		        nsubs, cfg.conc);
		return 2;
	}

	th = gba_calloc(cfg.conc, sizeof(*th));
	if (th == NULL || pthread_barrier_init(&start, NULL, cfg.conc + 1) != 0)
		return 1;
	for (i = 0; i < cfg.conc; i++) {
		size_t j, k = 0;

		th[i].idx = (unsigned)i;
		th[i].cfg = &cfg;
		th[i].start = &start;
		th[i].nsubs = (nsubs - i + cfg.conc - 1) / cfg.conc;
		th[i].subs = gba_calloc(th[i].nsubs, sizeof(*th[i].subs));
		if (th[i].subs == NULL)
			return 1;
		for (j = i; j < nsubs; j += cfg.conc)
			th[i].subs[k++] = &subs[j];
	}
	for (i = 0; i < cfg.conc; i++) {
		if (pthread_create(&th[i].tid, NULL, thread_main, &th[i]) != 0) {
			fprintf(stderr, "bench_bsf: cannot create thread %zu\n", i);
			return 1;
		}
		created++;
	}
	/* Every thread is connected (and, for Zn, bootstrapped) past here. */
	pthread_barrier_wait(&start);
	t0 = bench_now();
	for (i = 0; i < created; i++)
		pthread_join(th[i].tid, NULL);
	t_end = bench_now();
	secs = t_end - t0;

	for (i = 0; i < cfg.conc; i++) {
		ok += th[i].ok;
		fail += th[i].fail;
		resync += th[i].ub.resync;
		if (th[i].setup_err < 0)
			setup_fail++;
		if (bench_lat_append(&all, &th[i].lat) < 0)
			return 1;
	}
	bench_lat_sort(&all);
	printf("mode=%s proto=%s conc=%u ok=%llu fail=%llu resync=%llu setup_fail=%u secs=%.2f "
	       "rate=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       cfg.mode == MODE_UB ? "ub" : cfg.mode == MODE_ZN ? "zn" : "get", cfg.proto == GBA_HTTP_CLIENT_H2 ? "h2" : "h1",
	       cfg.conc, (unsigned long long)ok, (unsigned long long)fail,
	       (unsigned long long)resync, setup_fail, secs, secs > 0 ? (double)ok / secs : 0.0,
	       bench_lat_pct_ms(&all, 0.50), bench_lat_pct_ms(&all, 0.90),
	       bench_lat_pct_ms(&all, 0.99), bench_lat_pct_ms(&all, 1.0));
	fflush(stdout);

	for (i = 0; i < cfg.conc; i++) {
		gba_http_client_close(th[i].c);
		bench_lat_free(&th[i].lat);
		gba_free(th[i].subs);
		gba_zn_free(th[i].zn_body, th[i].zn_body_len);
		gba_wipe(&th[i].boot, sizeof(th[i].boot));
		gba_wipe(th[i].ks_naf, sizeof(th[i].ks_naf));
	}
	gba_wipe(subs, nsubs * sizeof(*subs));
	gba_free(subs);
	bench_lat_free(&all);
	gba_free(th);
	pthread_barrier_destroy(&start);
	ret = ok > 0 && fail == 0 && setup_fail == 0 ? 0 : 1;
	return ret;
bad:
	usage(stderr);
	return 2;
}
