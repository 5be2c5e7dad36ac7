/*
 * gba_crl.c - a CA's full CRL from the store (gba_crl.h): list, build
 * with the codec (gba_ocsp.h), sign with the CA's key, store.
 */
#include "config.h"

#include <string.h>

#include "gba_crl.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_x509.h"

#define MAX_ATTEMPTS 4   /* lost races in a row before giving up */

/* One revoked certificate, copied out of the store's row. */
struct revoked {
	uint8_t serial[GBA_STORE_MAX_SERIAL];
	size_t serial_len;
	int reason;
	int64_t revoked_at, invalidity_date;
};

struct collect {
	struct revoked *v;
	size_t n, cap;
};

static int collect_cb(void *ctx, const struct gba_cert_record *r)
{
	struct collect *c = ctx;
	struct revoked *e;

	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 1024 : c->cap * 2;
		void *v;

		if (cap > SIZE_MAX / sizeof(*c->v))
			return GBA_ETOOBIG;
		v = gba_realloc(c->v, cap * sizeof(*c->v));
		if (v == NULL)
			return GBA_ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n++];
	memcpy(e->serial, r->serial, r->serial_len);
	e->serial_len = r->serial_len;
	if (r->status == GBA_CERT_HOLD)
		e->reason = GBA_CRL_REASON_CERTIFICATE_HOLD;
	else if (r->reason == GBA_CRL_REASON_UNSPECIFIED)
		e->reason = GBA_CRL_REASON_NONE;   /* RFC 5280 5.3.1: leave it out */
	else
		e->reason = r->reason;
	e->revoked_at = r->revoked_at;
	e->invalidity_date = r->status == GBA_CERT_REVOKED ? r->invalidity_date : 0;
	return 0;
}

int gba_crl_is_current(const struct gba_crl_record *r, uint64_t epoch, int64_t now)
{
	int64_t half;

	if (r == NULL || r->epoch < epoch || r->next_update < r->this_update)
		return 0;
	half = (r->next_update - r->this_update) / 2;
	return now < r->this_update + half;
}

/* List, build and sign the next CRL (number) into *out. */
static int build(struct gba_store *st, const struct gba_crl_maker *m, int64_t now,
                 uint64_t number, struct gba_crl_record *out)
{
	struct collect c;
	struct gba_crl_entry *e = NULL;
	struct gba_crl_build b;
	struct gba_cert_info ci;
	uint8_t kid[GBA_X509_KEY_ID_LEN];
	const uint8_t *cert;
	size_t cert_len, i;
	uint64_t epoch = 0;
	int ret;

	memset(&c, 0, sizeof(c));
	memset(&ci, 0, sizeof(ci));
	memset(&b, 0, sizeof(b));
	cert = gba_signer_cert(m->issuer, &cert_len);
	ret = gba_x509_cert_info(cert, cert_len, &ci);
	if (ret < 0)
		goto out;
	ret = gba_store_revoked_list(st, m->ca, now - (int64_t)m->lifetime_s, collect_cb, &c,
	                             &epoch);
	if (ret < 0)
		goto out;
	if (c.n > 0) {
		e = gba_calloc(c.n, sizeof(*e));
		if (e == NULL) {
			ret = GBA_ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < c.n; i++) {
		e[i].serial = c.v[i].serial;
		e[i].serial_len = c.v[i].serial_len;
		e[i].revoked_at = c.v[i].revoked_at;
		e[i].reason = c.v[i].reason;
		e[i].invalidity_date = c.v[i].invalidity_date;
	}
	b.sig_alg.p = gba_signer_sig_oid(m->issuer, &b.sig_alg.len);
	b.sig_alg_null_params = gba_key_is_rsa(gba_signer_key(m->issuer));
	b.issuer.p = ci.subject_der;
	b.issuer.len = ci.subject_der_len;
	b.this_update = now;
	b.next_update = now + (int64_t)m->lifetime_s;
	b.entries = e;
	b.nentries = c.n;
	b.crl_number = number;
	if (ci.ski_len > 0) {
		b.aki.p = ci.ski;
		b.aki.len = ci.ski_len;
	} else {
		ret = gba_x509_spki_key_id(ci.spki, ci.spki_len, kid);
		if (ret < 0)
			goto out;
		b.aki.p = kid;
		b.aki.len = sizeof(kid);
	}
	b.sign = gba_signer_sign;
	b.sign_ctx = (void *)(uintptr_t)m->issuer;   /* signing does not change it */
	ret = gba_crl_build(&b, &out->der, &out->der_len);
	if (ret < 0)
		goto out;
	memcpy(out->ca, m->ca, strlen(m->ca) + 1);
	out->number = number;
	out->epoch = epoch;
	out->this_update = b.this_update;
	out->next_update = b.next_update;
out:
	gba_free(e);
	gba_free(c.v);
	gba_cert_info_clear(&ci);
	return ret;
}

int gba_crl_current(struct gba_store *st, const struct gba_crl_maker *m, int64_t now,
                    int force, struct gba_crl_record *out)
{
	struct gba_crl_record meta;
	uint64_t epoch = 0;
	int attempt, ret;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (st == NULL || m == NULL || m->ca == NULL || m->issuer == NULL ||
	    strlen(m->ca) > GBA_STORE_MAX_CA || m->lifetime_s < GBA_CRL_MIN_LIFETIME ||
	    m->lifetime_s > GBA_CRL_MAX_LIFETIME || now <= (int64_t)m->lifetime_s)
		return GBA_EINVAL;
	ret = gba_store_ca_epoch(st, m->ca, &epoch);
	if (ret < 0)
		return ret;
	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		ret = gba_store_crl_get(st, m->ca, 0, &meta);
		if (ret == GBA_ENOTFOUND)
			meta.number = 0;
		else if (ret < 0)
			return ret;
		if (meta.number > 0 && !force && gba_crl_is_current(&meta, epoch, now)) {
			/* someone may store a newer one in between: that is fine too */
			return gba_store_crl_get(st, m->ca, 1, out);
		}
		ret = build(st, m, now, meta.number + 1, out);
		if (ret < 0)
			return ret;
		ret = gba_store_crl_put(st, out);
		if (ret == 0)
			return 0;
		gba_crl_record_clear(out);
		if (ret != GBA_EDUP)
			return ret;
		force = 0;   /* another writer made one since: use theirs if current */
	}
	return GBA_EDUP;
}
