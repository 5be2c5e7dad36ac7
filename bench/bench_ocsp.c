/*
 * bench_ocsp.c - the signing side of the OCSP responder, without HTTP:
 * raw signatures per second with the responder's kind of key, and
 * complete BasicOCSPResponses (gba_ocsp_response_build: encode + sign +
 * encode) per second, on 1..T threads.  bench/ocsp.sh compares the live
 * responder's answers/s with these.  Not a test: `make` builds it.
 *
 *   bench_ocsp [--key-type T] [--threads N] [--secs S]
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_x509.h"

struct job {
	struct gba_key *key;
	int build;                 /* 0: raw sign, 1: whole response */
	double secs;
	unsigned long n;
	int err;
	pthread_t th;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint8_t tbs[180], name_hash[20], key_hash[20], serial[20], kid[20];
	struct gba_ocsp_single one;
	struct gba_ocsp_resp_build b;
	double end = now_s() + j->secs;
	int64_t t = (int64_t)time(NULL);

	memset(tbs, 0x42, sizeof(tbs));   /* about the size of a tbsResponseData */
	memset(name_hash, 1, sizeof(name_hash));
	memset(key_hash, 2, sizeof(key_hash));
	memset(kid, 3, sizeof(kid));
	memset(serial, 0x33, sizeof(serial));
	memset(&one, 0, sizeof(one));
	one.id.hash = GBA_HASH_SHA1;
	one.id.hash_params_null = 1;
	one.id.name_hash.p = name_hash;
	one.id.name_hash.len = 20;
	one.id.key_hash.p = key_hash;
	one.id.key_hash.len = 20;
	one.id.serial.p = serial;
	one.id.serial.len = 20;
	one.status = GBA_OCSP_GOOD;
	one.reason = GBA_CRL_REASON_NONE;
	one.this_update = t;
	one.next_update = t + 3600;
	memset(&b, 0, sizeof(b));
	b.responder_key_hash.p = kid;
	b.responder_key_hash.len = sizeof(kid);
	b.produced_at = t;
	b.responses = &one;
	b.nresponses = 1;
	b.sig_alg.p = gba_key_sig_oid(j->key, &b.sig_alg.len);
	b.sig_alg_null_params = gba_key_is_rsa(j->key);
	b.sign = gba_key_sign;
	b.sign_ctx = j->key;
	while (now_s() < end) {
		uint8_t *out = NULL;
		size_t len = 0;
		int k;

		for (k = 0; k < 16; k++) {
			if (j->build)
				j->err = gba_ocsp_response_build(&b, &out, &len);
			else
				j->err = gba_key_sign(j->key, tbs, sizeof(tbs), &out, &len);
			gba_free(out);
			out = NULL;
			if (j->err < 0)
				return NULL;
			j->n++;
		}
	}
	return NULL;
}

static int run(struct gba_key *key, int build, unsigned threads, double secs)
{
	struct job j[16];
	unsigned long total = 0;
	double start, el;
	unsigned i;

	memset(j, 0, sizeof(j));
	start = now_s();
	for (i = 0; i < threads; i++) {
		j[i].key = key;
		j[i].build = build;
		j[i].secs = secs;
		if (pthread_create(&j[i].th, NULL, worker, &j[i]) != 0)
			return 1;
	}
	for (i = 0; i < threads; i++) {
		pthread_join(j[i].th, NULL);
		if (j[i].err < 0) {
			fprintf(stderr, "bench_ocsp: %s\n", gba_errname(j[i].err));
			return 1;
		}
		total += j[i].n;
	}
	el = now_s() - start;
	printf("%-24s threads=%u  %10.0f /s\n", build ? "ocsp_response_build" : "raw sign", threads,
	       (double)total / el);
	return 0;
}

int main(int argc, char **argv)
{
	enum gba_key_type kt = GBA_KEY_EC_P256;
	struct gba_key *key = NULL;
	unsigned threads = 2, t;
	double secs = 3;
	int a, ret = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--key-type") == 0 && a + 1 < argc) {
			if (gba_key_type_parse(argv[++a], &kt) < 0)
				goto usage;
		} else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
			threads = (unsigned)strtoul(argv[++a], NULL, 10);
			if (threads < 1 || threads > 16)
				goto usage;
		} else if (strcmp(argv[a], "--secs") == 0 && a + 1 < argc) {
			secs = strtod(argv[++a], NULL);
			if (secs <= 0 || secs > 600)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (gba_key_generate(&key, kt) < 0) {
		fprintf(stderr, "bench_ocsp: cannot make a key\n");
		return 1;
	}
	printf("key %s, %.0f s per line\n", gba_key_type_name(kt), secs);
	for (t = 1; t <= threads && ret == 0; t++) {
		ret = run(key, 0, t, secs);
		if (ret == 0)
			ret = run(key, 1, t, secs);
	}
	gba_key_free(key);
	return ret;
usage:
	fprintf(stderr, "usage: bench_ocsp [--key-type T] [--threads N] [--secs S]\n");
	return 2;
}
