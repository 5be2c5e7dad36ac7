/*
 * bench_crl.c - how long gba_crl_build takes for big CRLs, signed with a
 * demo ECDSA P-256 CA (gba_signer_generate_ca).  Not a test: `make`
 * builds it, nothing runs it.
 *
 *   bench_crl [N...] [-o FILE]
 *       N defaults to 10000 100000 1000000; -o writes the last CRL (DER)
 *   bench_crl --store DIR [N...]
 *       the whole path the NAF takes (gba_crl_current): N revoked
 *       certificates in an SQLite store in DIR (inserted first, timed
 *       apart), then list + build + sign + store the CRL
 *
 * Entries have 20-octet serials, alternate keyCompromise / superseded /
 * unspecified (no reasonCode), and every other one has an
 * invalidityDate, so the sizes are those of a realistic CRL.  Prints
 * the build time (sizing, encoding and signing), the size, and the peak
 * RSS of the process so far.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gba_crl.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_store.h"
#include "gba_x509.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int run(struct gba_signer *ca, size_t n, const char *out)
{
	struct gba_crl_entry *e = gba_calloc(n, sizeof(*e));
	uint8_t *serials = gba_malloc(n * 20), *der = NULL, aki[20];
	struct gba_crl_build b;
	int64_t t0 = (int64_t)time(NULL);
	size_t i, len = 0;
	double start, secs;
	int ret = GBA_ENOMEM;

	if (e == NULL || serials == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		uint8_t *s = serials + 20 * i;
		uint64_t v = i * 0x9e3779b97f4a7c15ull;
		size_t k;

		s[0] = 0x40 | (uint8_t)(i & 0x3f);   /* positive, 20 octets */
		for (k = 1; k < 20; k++)
			s[k] = (uint8_t)(v >> (8 * (k % 8))) ^ (uint8_t)k;
		e[i].serial = s;
		e[i].serial_len = 20;
		e[i].revoked_at = t0 - 86400 - (int64_t)(i % 100000);
		e[i].reason = i % 3 == 0 ? GBA_CRL_REASON_KEY_COMPROMISE :
		              i % 3 == 1 ? GBA_CRL_REASON_SUPERSEDED : GBA_CRL_REASON_UNSPECIFIED;
		e[i].invalidity_date = i % 2 == 0 ? t0 - 2 * 86400 : 0;
	}
	memset(aki, 0x5a, sizeof(aki));
	memset(&b, 0, sizeof(b));
	b.sig_alg.p = gba_signer_sig_oid(ca, &b.sig_alg.len);
	b.issuer.p = (const uint8_t *)"\x30\x17\x31\x15\x30\x13\x06\x03\x55\x04\x03\x0c\x0c"
	                              "bench CRL CA";
	b.issuer.len = 25;
	b.this_update = t0;
	b.next_update = t0 + 7 * 86400;
	b.entries = e;
	b.nentries = n;
	b.crl_number = 42;
	b.aki.p = aki;
	b.aki.len = sizeof(aki);
	b.sign = gba_signer_sign;
	b.sign_ctx = ca;
	start = now_s();
	ret = gba_crl_build(&b, &der, &len);
	secs = now_s() - start;
	if (ret < 0) {
		fprintf(stderr, "gba_crl_build(%zu): %s\n", n, gba_errname(ret));
		goto out;
	}
	printf("%8zu entries  %9.3f s  %10zu bytes  %6.1f ns/entry  peak RSS %ld MiB\n", n,
	       secs, len, secs * 1e9 / (double)n, peak_rss_kb() / 1024);
	if (out != NULL) {
		FILE *f = fopen(out, "wb");

		if (f == NULL || fwrite(der, 1, len, f) != len) {
			perror(out);
			ret = GBA_EIO;
		}
		if (f != NULL)
			fclose(f);
	}
out:
	gba_free(der);
	gba_free(serials);
	gba_free(e);
	return ret;
}

/* N revoked certificates of CA "bench CRL CA" into a store, then
 * gba_crl_current. */
#define BATCH 10000u
static int run_store(struct gba_signer *ca, const char *dir, size_t n, size_t base)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	char db[900], key[1024];
	struct gba_store *st = NULL;
	struct gba_cert_record *recs = NULL;
	struct gba_cmc_txn t;
	struct gba_crl_maker m;
	struct gba_crl_record crl;
	int64_t t0 = (int64_t)time(NULL);
	size_t done = 0, i, k;
	double start, ins, secs;
	int ret;

	memset(&crl, 0, sizeof(crl));
	snprintf(db, sizeof(db), "%s/bench-%zu.db", dir, n);
	snprintf(key, sizeof(key), "%s/bench-%zu.key", dir, n);
	ret = gba_store_open(&st, db, key);
	if (ret < 0)
		goto out;
	recs = gba_calloc(BATCH, sizeof(*recs));
	ret = GBA_ENOMEM;
	if (recs == NULL)
		goto out;
	start = now_s();
	while (done < n) {
		k = n - done < BATCH ? n - done : BATCH;
		for (i = 0; i < k; i++) {
			struct gba_cert_record *r = &recs[i];
			uint64_t v = (base + done + i) * 0x9e3779b97f4a7c15ull;
			size_t b;

			memset(r, 0, sizeof(*r));
			r->serial[0] = 0x40 | (uint8_t)((done + i) & 0x3f);
			for (b = 1; b < 20; b++)
				r->serial[b] = (uint8_t)(v >> (8 * (b % 8))) ^ (uint8_t)(done + i + b);
			r->serial_len = 20;
			memcpy(r->ca, "bench CRL CA", sizeof("bench CRL CA"));
			memcpy(r->impi, "bench@ims.example", sizeof("bench@ims.example"));
			memcpy(r->app_id, "naf.example", sizeof("naf.example"));
			r->issued_at = t0 - 86400;
			r->not_before = t0 - 86400;
			r->not_after = t0 + 365 * 86400;
			r->status = GBA_CERT_REVOKED;
			r->reason = (int)((done + i) % 3 == 2 ? 0 : (done + i) % 3 == 0 ? 1 : 4);
			r->revoked_at = t0 - 3600;
			r->der = (uint8_t *)(uintptr_t)der;
			r->der_len = sizeof(der);
		}
		memset(&t, 0, sizeof(t));
		t.certs = recs;
		t.ncerts = k;
		ret = gba_store_cmc_commit(st, &t);
		if (ret < 0)
			goto out;
		done += k;
	}
	ins = now_s() - start;
	m.ca = "bench CRL CA";
	m.issuer = ca;
	m.lifetime_s = 86400;
	start = now_s();
	ret = gba_crl_current(st, &m, t0, 1, &crl);
	secs = now_s() - start;
	if (ret < 0)
		goto out;
	printf("%8zu entries  %9.3f s  %10zu bytes  (insert %.1f s)  peak RSS %ld MiB\n", n, secs,
	       crl.der_len, ins, peak_rss_kb() / 1024);
out:
	if (ret < 0)
		fprintf(stderr, "store run %zu: %s\n", n, gba_errname(ret));
	gba_crl_record_clear(&crl);
	gba_free(recs);
	gba_store_close(st);
	unlink(db);
	unlink(key);
	if (snprintf(key, sizeof(key), "%s-wal", db) < (int)sizeof(key))
		unlink(key);
	if (snprintf(key, sizeof(key), "%s-shm", db) < (int)sizeof(key))
		unlink(key);
	return ret;
}

int main(int argc, char **argv)
{
	static const size_t def[] = { 10000, 100000, 1000000 };
	size_t sizes[16], nsizes = 0, i;
	const char *out = NULL, *store = NULL;
	struct gba_signer *ca = NULL;
	int a, ret = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
			out = argv[++a];
		} else if (strcmp(argv[a], "--store") == 0 && a + 1 < argc) {
			store = argv[++a];
		} else {
			char *end;
			unsigned long long v = strtoull(argv[a], &end, 10);

			if (*end != '\0' || v == 0 || v > 100000000ull || nsizes == 16) {
				fprintf(stderr, "usage: bench_crl [N...] [-o FILE] | --store DIR [N...]\n");
				return 2;
			}
			sizes[nsizes++] = (size_t)v;
		}
	}
	if (nsizes == 0) {
		memcpy(sizes, def, sizeof(def));
		nsizes = sizeof(def) / sizeof(def[0]);
	}
	if (gba_signer_generate_ca(&ca, "bench CRL CA", 1) < 0) {
		fprintf(stderr, "cannot make a CA\n");
		return 1;
	}
	if (store != NULL) {
		printf("gba_crl_current over SQLite (list, build, sign, store), ECDSA P-256\n");
		for (i = 0; i < nsizes && ret == 0; i++)
			ret = run_store(ca, store, sizes[i], i * 100000000u) < 0 ? 1 : 0;
		gba_signer_free(ca);
		return ret;
	}
	printf("gba_crl_build, ECDSA P-256 signature\n");
	for (i = 0; i < nsizes && ret == 0; i++)
		ret = run(ca, sizes[i], i + 1 == nsizes ? out : NULL) < 0 ? 1 : 0;
	gba_signer_free(ca);
	return ret;
}
