/*
 * bench_ue.h - what the load generators (bench_bsf, bench_enrol) share:
 * the subscribers file, a complete Ub bootstrap as gba-ue runs it, and
 * latency statistics.  Bench code only: nothing here is installed or
 * used by the daemons.  Functions return 0 or a negative GBA_E* code.
 */
#ifndef BENCH_UE_H
#define BENCH_UE_H

#include <stddef.h>
#include <stdint.h>

#include "gba_http.h"
#include "gba_http_auth.h"
#include "gba_keys.h"
#include "gba_limits.h"
#include "ue_ub.h"
#include "ue_usim.h"

#define BENCH_MAX_SUBS 1000000u

/*
 * Read a gba-ctl import file (IMPI K OPC AMF SQN [LIFETIME] per line,
 * '#' comments) into USIMs with SQN_MS = SQN.  On success *out is a new
 * array of *n entries (n >= 1); wipe and gba_free it.  Errors are
 * printed to stderr with the line number.
 */
int bench_subs_load(const char *prog, const char *path, struct ue_usim **out, size_t *n);

/* What a successful bootstrap leaves.  ks is a secret: wipe it. */
struct bench_boot {
	char btid[GBA_MAX_BTID_LEN + 1];
	uint8_t rand[16];
	uint8_t ks[GBA_KS_LEN];
};

/* One Ub client: its connection, the realm and its scratch space.
 * Not shared between threads. */
struct bench_ub {
	struct gba_http_client *c;           /* connected by the caller */
	const char *realm;
	const char *user_agent;
	uint64_t resync;                     /* AUTS answers sent */
	struct gba_auth auth;                /* parser arena (4 KiB) */
	struct ue_ub_challenge ch;
};

/*
 * One full bootstrap of u over ub->c: GET / with the IMPI, the 401,
 * AUTHENTICATE on the simulated USIM (a stale SQN is answered with AUTS
 * and counted in ub->resync), the Digest AKAv1-MD5 answer, the 200 with
 * its rspauth, content type and B-TID checked.  On error *what names
 * the step; a transport error (GBA_EIO, GBA_ECRYPTO, ...) leaves the
 * connection for the caller to reopen.
 */
int bench_ub_bootstrap(struct bench_ub *ub, struct ue_usim *u, struct bench_boot *out,
                       const char **what);

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Latencies in microseconds, growing as needed. */
struct bench_lat {
	uint32_t *v;
	size_t n, cap;
};
int bench_lat_add(struct bench_lat *l, double secs);
/* Append src's values to dst. */
int bench_lat_append(struct bench_lat *dst, const struct bench_lat *src);
void bench_lat_sort(struct bench_lat *l);
/* Percentile p (0..1) of a sorted set, in milliseconds; 0 when empty. */
double bench_lat_pct_ms(const struct bench_lat *l, double p);
void bench_lat_free(struct bench_lat *l);

#endif
