/* bench_ue.c - subscribers, Ub bootstraps and latencies for the benches. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_ue.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"

#define LINE_MAX_LEN 1024u
#define MAX_RESYNC   2

/* ---- subscribers file (gba-ctl import format) ---- */

/* Fill u from the fields IMPI K OPC AMF SQN [LIFETIME]. */
static int sub_parse(char *const *fld, size_t nf, struct ue_usim *u)
{
	uint8_t k[16], opc[16];
	unsigned long long s;
	char *end;
	int ret = 0;

	if (nf < 5 || nf > 6 || strlen(fld[0]) > GBA_MAX_IMPI_LEN || strlen(fld[1]) != 32 ||
	    strlen(fld[2]) != 32 || strlen(fld[4]) > 12)
		return GBA_ESYNTAX;
	memset(u, 0, sizeof(*u));
	memcpy(u->impi, fld[0], strlen(fld[0]) + 1);
	if (gba_hex_decode(fld[1], 32, k, 16) < 0 || gba_hex_decode(fld[2], 32, opc, 16) < 0) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	(void)gba_secret_set(&u->k, k, 16);
	(void)gba_secret_set(&u->opc, opc, 16);
	errno = 0;
	s = strtoull(fld[4], &end, 16);
	if (errno != 0 || *end != '\0' || end == fld[4]) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	u->sqn_ms = (uint64_t)s;
out:
	gba_wipe(k, sizeof(k));
	gba_wipe(opc, sizeof(opc));
	return ret;
}

int bench_subs_load(const char *prog, const char *path, struct ue_usim **out, size_t *nout)
{
	char line[LINE_MAX_LEN + 2];
	struct ue_usim *v = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	FILE *f = fopen(path, "r");
	int ret = 0;

	*out = NULL;
	*nout = 0;
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return GBA_EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[7], *p = line, *save = NULL;
		size_t nf = 0, l;

		lineno++;
		l = strlen(line);
		if (l > 0 && line[l - 1] == '\n') {
			line[--l] = '\0';
		} else if (!feof(f)) {
			ret = GBA_ETOOBIG;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		for (p = strtok_r(p, " \t", &save); p != NULL && nf < 7;
		     p = strtok_r(NULL, " \t", &save))
			fld[nf++] = p;
		if (n == cap) {
			struct ue_usim *nv;

			cap = cap ? 2 * cap : 1024;
			if (cap > BENCH_MAX_SUBS) {
				ret = GBA_ETOOBIG;
				break;
			}
			nv = gba_reallocarray(v, cap, sizeof(*v));
			if (nv == NULL) {
				ret = GBA_ENOMEM;
				break;
			}
			v = nv;
		}
		ret = sub_parse(fld, nf, &v[n]);
		if (ret < 0)
			break;
		n++;
	}
	fclose(f);
	gba_wipe(line, sizeof(line));
	if (ret == 0 && n == 0)
		ret = GBA_EMISSING;
	if (ret < 0) {
		fprintf(stderr, "%s: %s: line %zu: %s (want IMPI K OPC AMF SQN [LIFETIME])\n", prog,
		        path, lineno, gba_strerror(ret));
		if (v != NULL)
			gba_wipe(v, cap * sizeof(*v));
		gba_free(v);
		return ret;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* ---- the UE side of Ub (as ue/ue_bootstrap.c) ---- */

int bench_ub_bootstrap(struct bench_ub *ub, struct ue_usim *u, struct bench_boot *out,
                       const char **what)
{
	struct ue_ub_challenge *ch = &ub->ch;
	struct gba_http_reply *r = NULL;
	char authz[GBA_MAX_AUTH_HEADER_LEN], auts_b64[32];
	uint8_t res[8], ck[16], ik[16], auts[14];
	int ret, n, round;

	*what = "initial request";
	ret = ue_ub_initial_authz(u->impi, ub->realm, authz, sizeof(authz));
	if (ret == 0)
		ret = ue_ub_get(ub->c, authz, ub->user_agent, &r);
	if (ret < 0)
		return ret;
	for (round = 0;; round++) {
		*what = "challenge";
		if (r->status != 401 || round > MAX_RESYNC) {
			ret = GBA_EAUTH;
			goto out;
		}
		ret = ue_ub_challenge(&ub->auth, r, ch);
		if (ret < 0)
			goto out;
		*what = "AUTHENTICATE";
		ret = ue_usim_authenticate(u, ch->rand, ch->autn, res, ck, ik, auts);
		if (ret != GBA_ESYNC)
			break;
		ub->resync++;
		n = gba_base64_encode(auts, sizeof(auts), auts_b64, sizeof(auts_b64));
		if (n < 0) {
			ret = n;
			goto out;
		}
		ret = ue_ub_answer(u->impi, ch, NULL, 0, auts_b64, authz, sizeof(authz));
		gba_http_reply_free(r);
		r = NULL;
		*what = "resync request";
		if (ret == 0)
			ret = ue_ub_get(ub->c, authz, ub->user_agent, &r);
		if (ret < 0)
			goto out;
	}
	if (ret < 0)
		goto out;
	*what = "answer";
	ret = ue_ub_answer(u->impi, ch, res, sizeof(res), NULL, authz, sizeof(authz));
	gba_http_reply_free(r);
	r = NULL;
	if (ret == 0)
		ret = ue_ub_get(ub->c, authz, ub->user_agent, &r);
	if (ret < 0)
		goto out;
	*what = "200";
	if (r->status != 200) {
		ret = GBA_EAUTH;
		goto out;
	}
	*what = "rspauth";
	ret = ue_ub_check_rspauth(&ub->auth, u->impi, ch, r, res);
	if (ret < 0)
		goto out;
	*what = "BootstrappingInfo";
	ret = ue_ub_bootstrapping_info(r, out->btid, sizeof(out->btid), NULL, 0);
	if (ret < 0)
		goto out;
	memcpy(out->rand, ch->rand, 16);
	gba_ks_from_ck_ik(ck, ik, out->ks);
out:
	gba_wipe(res, sizeof(res));
	gba_wipe(ck, sizeof(ck));
	gba_wipe(ik, sizeof(ik));
	gba_http_reply_free(r);
	return ret;
}

/* ---- time and latencies ---- */

double bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int lat_reserve(struct bench_lat *l, size_t more)
{
	size_t cap = l->cap ? l->cap : 4096;
	uint32_t *v;

	if (more > SIZE_MAX / 2 - l->n)
		return GBA_ENOMEM;
	while (cap < l->n + more)
		cap *= 2;
	if (cap == l->cap)
		return 0;
	v = gba_reallocarray(l->v, cap, sizeof(*v));
	if (v == NULL)
		return GBA_ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

int bench_lat_add(struct bench_lat *l, double secs)
{
	double us = secs * 1e6;
	int ret = lat_reserve(l, 1);

	if (ret < 0)
		return ret;
	l->v[l->n++] = us < 0 ? 0 : us > 4e9 ? UINT32_MAX : (uint32_t)us;
	return 0;
}

int bench_lat_append(struct bench_lat *dst, const struct bench_lat *src)
{
	int ret;

	if (src->n == 0)
		return 0;
	ret = lat_reserve(dst, src->n);
	if (ret < 0)
		return ret;
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void bench_lat_sort(struct bench_lat *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
}

double bench_lat_pct_ms(const struct bench_lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return (double)l->v[i] / 1000.0;
}

void bench_lat_free(struct bench_lat *l)
{
	gba_free(l->v);
	memset(l, 0, sizeof(*l));
}
