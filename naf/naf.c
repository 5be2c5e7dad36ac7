/*
 * naf.c - the NAF worker context: routing, the Ks_NAF cache, key
 * sources, issuing and recording certificates, pending-request blobs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_daemon.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_zn.h"
#include "naf_int.h"

#define MOD "naf"

void naf_key_clear(struct naf_key *k)
{
	if (k == NULL)
		return;
	if (k->uss_json != NULL)
		gba_free(k->uss_json);
	gba_wipe(k, sizeof(*k));
}

void naf_header(struct gba_http_response *resp, const char *name, const char *value, int *err)
{
	int ret;

	if (*err)
		return;
	ret = gba_http_response_header(resp, name, gba_str_c(value));
	if (ret < 0)
		*err = ret;
}

/* <public_url>/ocsp and <public_url>/crl/<ca>.crl, the AIA and CRL DP of
 * certificates whose policy names none. */
static int naf_default_urls(struct naf *n)
{
	char esc[3 * GBA_STORE_MAX_CA + 1];
	size_t i, ul = strlen(n->conf->public_url);
	int w;

	if (ul == 0 || ul > NAF_MAX_URL || n->conf->public_url[ul - 1] == '/')
		return GBA_EINVAL;
	w = snprintf(n->ocsp_url, sizeof(n->ocsp_url), "%s%s", n->conf->public_url,
	             NAF_OCSP_PATH);
	if (w < 0 || (size_t)w >= sizeof(n->ocsp_url))
		return GBA_EINVAL;
	for (i = 0; i < n->conf->ncas; i++) {
		if (naf_url_escape(n->conf->cas[i].name, esc, sizeof(esc)) < 0)
			return GBA_EINVAL;
		w = snprintf(n->crl_url[i], sizeof(n->crl_url[i]), "%s%s%s.crl", n->conf->public_url,
		             NAF_CRL_PREFIX, esc);
		if (w < 0 || (size_t)w >= sizeof(n->crl_url[i]))
			return GBA_EINVAL;
	}
	return 0;
}

int naf_new(struct naf **out, const struct naf_conf *conf, struct gba_store *store,
            const struct naf_keysrc *keysrc)
{
	struct naf *n;
	size_t flen;

	*out = NULL;
	if (conf == NULL || conf->fqdn == NULL || store == NULL || keysrc == NULL ||
	    keysrc->get == NULL || conf->ncas == 0 || conf->ncas > NAF_MAX_CAS ||
	    conf->policies == NULL || conf->digest_secret == NULL)
		return GBA_EINVAL;
	flen = strlen(conf->fqdn);
	if (flen == 0 || flen > GBA_MAX_FQDN_LEN)
		return GBA_EINVAL;
	n = gba_calloc(1, sizeof(*n));
	if (n == NULL)
		return GBA_ENOMEM;
	n->cache = gba_calloc(NAF_CACHE_SLOTS, sizeof(*n->cache));
	if (n->cache == NULL) {
		gba_free(n);
		return GBA_ENOMEM;
	}
	n->conf = conf;
	n->store = store;
	n->keysrc = keysrc;
	memcpy(n->naf_id, conf->fqdn, flen);
	memcpy(n->naf_id + flen, conf->ua_id, GBA_UA_ID_LEN);
	n->naf_id_len = flen + GBA_UA_ID_LEN;
	gba_hex_encode(conf->ua_id, GBA_UA_ID_LEN, n->ua_hex);
	if (conf->public_url != NULL && naf_default_urls(n) < 0) {
		naf_free(n);
		return GBA_EINVAL;
	}
	*out = n;
	return 0;
}

void naf_free(struct naf *n)
{
	size_t i;

	if (n == NULL)
		return;
	naf_ccm_worker_free(n);
	for (i = 0; i < NAF_CACHE_SLOTS; i++)
		naf_key_clear(&n->cache[i].key);
	gba_wipe(n->cache, NAF_CACHE_SLOTS * sizeof(*n->cache));
	gba_free(n->cache);
	gba_free(n);
}

/* ---- Ks_NAF cache ---- */

static int key_copy(struct naf_key *dst, const struct naf_key *src)
{
	*dst = *src;
	dst->uss_json = NULL;
	if (src->uss_json != NULL) {
		dst->uss_json = gba_strndup(src->uss_json, strlen(src->uss_json));
		if (dst->uss_json == NULL) {
			gba_wipe(dst, sizeof(*dst));
			return GBA_ENOMEM;
		}
	}
	return 0;
}

int naf_key_get(struct naf *n, const char *btid, struct naf_key *out)
{
	struct naf_cache_entry *e, *victim = NULL;
	int64_t now = gba_time_now();
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (btid == NULL || btid[0] == '\0' || strlen(btid) > GBA_MAX_BTID_LEN)
		return GBA_EINVAL;
	for (i = 0; i < NAF_CACHE_SLOTS; i++) {
		e = &n->cache[i];
		if (e->btid[0] != '\0' && strcmp(e->btid, btid) == 0) {
			if (e->key.expires <= now) {
				naf_key_clear(&e->key);
				e->btid[0] = '\0';
				break;
			}
			e->used = ++n->tick;
			return key_copy(out, &e->key);
		}
	}
	ret = n->keysrc->get(n->keysrc->ctx, btid, n->naf_id, n->naf_id_len, out);
	if (ret < 0)
		return ret;
	if (out->expires <= now) {
		naf_key_clear(out);
		return GBA_ENOTFOUND;
	}
	for (i = 0; i < NAF_CACHE_SLOTS; i++) {
		e = &n->cache[i];
		if (e->btid[0] == '\0' || e->key.expires <= now) {
			victim = e;
			break;
		}
		if (victim == NULL || e->used < victim->used)
			victim = e;
	}
	naf_key_clear(&victim->key);
	if (key_copy(&victim->key, out) == 0) {
		memcpy(victim->btid, btid, strlen(btid) + 1);
		victim->used = ++n->tick;
	} else {
		victim->btid[0] = '\0';
	}
	return 0;
}

/* ---- key sources ---- */

int naf_keysrc_store_get(void *ctx, const char *btid, const uint8_t *naf_id,
                         size_t naf_id_len, struct naf_key *out)
{
	struct gba_store *st = ctx;
	struct gba_bootstrap b;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	if (naf_id_len <= GBA_UA_ID_LEN)
		return GBA_EINVAL;
	ret = gba_store_bootstrap_get(st, btid, gba_time_now(), &b);
	if (ret < 0)
		return ret;
	if (b.ks.len != GBA_KS_LEN) {
		ret = GBA_EIO;
		goto out;
	}
	ret = gba_ks_naf(b.ks.b, b.rand, b.impi, strlen(b.impi), (const char *)naf_id,
	                 naf_id_len - GBA_UA_ID_LEN, naf_id + naf_id_len - GBA_UA_ID_LEN,
	                 out->ks_naf);
	if (ret < 0)
		goto out;
	out->expires = b.expires;
	memcpy(out->impi, b.impi, sizeof(out->impi));
	if (b.guss_json != NULL && b.guss_json[0] != '\0') {
		out->uss_json = gba_strndup(b.guss_json, strlen(b.guss_json));
		if (out->uss_json == NULL)
			ret = GBA_ENOMEM;
	}
out:
	gba_bootstrap_clear(&b);
	if (ret < 0)
		naf_key_clear(out);
	return ret;
}

/*
 * The Zn source: Nbsp_GBA BootstrappingInfoRetrieval over one blocking
 * HTTP client per worker (a worker waits while the BSF answers: at
 * most the client's timeout).  The BSF's answer maps to the key
 * source's codes: 404 (unknown or expired B-TID) GBA_ENOTFOUND, 403
 * (this NAF, its certificate or a GSID refused) GBA_EAUTH; a BSF that
 * cannot be reached, answers anything else or sends a body that does
 * not parse is GBA_EIO, so the UE hears "try later", never "bootstrap
 * again".  A response without the IMPI is GBA_EMISSING: the NAF binds
 * certificates to it (gba-bsfd --zn-release-impi).
 */
struct naf_zn {
	struct naf_zn_conf conf;
	struct gba_http_client *c;        /* NULL until the first request */
};

int naf_zn_new(struct naf_zn **out, const struct naf_zn_conf *conf)
{
	struct naf_zn *z;

	*out = NULL;
	if (conf == NULL || conf->url == NULL || conf->cert_file == NULL ||
	    conf->key_file == NULL)
		return GBA_EINVAL;
	z = gba_calloc(1, sizeof(*z));
	if (z == NULL)
		return GBA_ENOMEM;
	z->conf = *conf;
	*out = z;
	return 0;
}

void naf_zn_free(struct naf_zn *z)
{
	if (z == NULL)
		return;
	gba_http_client_close(z->c);
	gba_free(z);
}

/* POST body to the BSF.  A kept-alive connection the BSF has closed in
 * the meantime fails on first use: then one more try on a new one. */
static int zn_post(struct naf_zn *z, const char *body, size_t blen,
                   struct gba_http_reply **reply)
{
	struct gba_http_client_conf cc;
	struct gba_http_header h[2];
	int ret = GBA_EIO, attempt, reused;

	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = GBA_STR_LIT("application/json");
	h[1].name = GBA_STR_LIT("accept");
	h[1].value = GBA_STR_LIT("application/json");
	for (attempt = 0; attempt < 2; attempt++) {
		reused = z->c != NULL;
		if (z->c == NULL) {
			memset(&cc, 0, sizeof(cc));
			cc.mode = GBA_HTTP_CLIENT_AUTO;
			cc.ca_file = z->conf.ca_file;
			cc.cert_file = z->conf.cert_file;
			cc.key_file = z->conf.key_file;
			cc.max_body = GBA_ZN_MAX_RESP_BODY;
			ret = gba_http_client_open(&z->c, &cc, z->conf.url);
			if (ret < 0)
				return ret;
		}
		ret = gba_http_client_request(z->c, "POST", GBA_ZN_PATH, h, 2, body, blen, reply);
		if (ret == 0)
			return 0;
		gba_http_client_close(z->c);
		z->c = NULL;
		if (!reused || ret == GBA_ENOMEM)
			break;
		gba_log_info(MOD, "Zn: the kept connection failed (%s); reconnecting",
		             gba_strerror(ret));
	}
	return ret;
}

int naf_keysrc_zn_get(void *ctx, const char *btid, const uint8_t *naf_id, size_t naf_id_len,
                      struct naf_key *out)
{
	struct naf_zn *z = ctx;
	struct gba_zn_request rq;
	struct gba_zn_result res;
	struct gba_http_reply *reply = NULL;
	char *body = NULL, tag[GBA_LOG_ID_LEN];
	size_t blen = 0, flen, tlen = strlen(btid);
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&rq, 0, sizeof(rq));
	memset(&res, 0, sizeof(res));
	if (naf_id_len <= GBA_UA_ID_LEN || tlen == 0 || tlen > GBA_MAX_BTID_LEN)
		return GBA_EINVAL;
	flen = naf_id_len - GBA_UA_ID_LEN;
	if (flen > GBA_MAX_FQDN_LEN)
		return GBA_EINVAL;
	memcpy(rq.btid, btid, tlen);
	memcpy(rq.naf_fqdn, naf_id, flen);
	memcpy(rq.ua_id, naf_id + flen, GBA_UA_ID_LEN);
	if (z->conf.gsid != 0) {
		rq.gsids[0] = z->conf.gsid;
		rq.ngsids = 1;
	}
	gba_log_id(btid, tlen, tag);
	ret = gba_zn_request_build(&rq, &body, &blen);
	if (ret < 0)
		goto out;
	ret = zn_post(z, body, blen, &reply);
	if (ret < 0) {
		gba_log_err(MOD, "Zn: no answer from %s: %s", z->conf.url, gba_strerror(ret));
		ret = ret == GBA_ENOMEM ? ret : GBA_EIO;
		goto out;
	}
	if (reply->status == 404) {
		gba_log_info(MOD, "Zn: b-tid %s unknown or expired at the BSF", tag);
		ret = GBA_ENOTFOUND;
		goto out;
	}
	if (reply->status == 403) {
		gba_log_err(MOD, "Zn: the BSF refused this NAF (403): is %s on its allow list, "
		            "and named by the client certificate?", rq.naf_fqdn);
		ret = GBA_EAUTH;
		goto out;
	}
	if (reply->status != 200) {
		gba_log_err(MOD, "Zn: the BSF answered %d", reply->status);
		ret = GBA_EIO;
		goto out;
	}
	ret = gba_zn_response_parse(reply->body, reply->body_len, &res);
	if (ret < 0) {
		gba_log_err(MOD, "Zn: malformed BootstrappingInfoResponse: %s", gba_strerror(ret));
		ret = ret == GBA_ENOMEM ? ret : GBA_EIO;
		goto out;
	}
	if (res.impi[0] == '\0' || res.key_expiry < 0) {
		gba_log_err(MOD, "Zn: the response lacks %s (gba-bsfd --zn-release-impi)",
		            res.impi[0] == '\0' ? "the IMPI" : "keyExpiryTime");
		ret = GBA_EMISSING;
		goto out;
	}
	memcpy(out->ks_naf, res.me_key, sizeof(out->ks_naf));
	out->expires = res.key_expiry;
	memcpy(out->impi, res.impi, sizeof(out->impi));
	out->uss_json = res.uss_json;
	res.uss_json = NULL;
	gba_log_debug(MOD, "Zn: Ks_NAF for b-tid %s, %zu USS", tag, res.nuss);
out:
	if (body != NULL)
		gba_zn_free(body, blen);
	if (reply != NULL) {
		gba_wipe((void *)reply->body, reply->body_len);
		gba_http_reply_free(reply);
	}
	gba_zn_result_clear(&res);
	if (ret < 0)
		naf_key_clear(out);
	return ret;
}

/* ---- USS for the policy engine ---- */

#define NAF_MAX_USS 8u

struct naf_uss_buf {
	struct gba_zn_uss uss[NAF_MAX_USS];
	const char *uids[NAF_MAX_USS][GBA_ZN_USS_UIDS];
};

int naf_policy_uss(const char *uss_json, struct gba_policy_uss *uss, size_t max, size_t *n,
                   struct naf_uss_buf **buf)
{
	struct naf_uss_buf *b;
	size_t i, j, cnt = 0;
	int ret;

	*n = 0;
	*buf = NULL;
	b = gba_calloc(1, sizeof(*b));
	if (b == NULL)
		return GBA_ENOMEM;
	ret = gba_zn_uss_list(uss_json, uss_json != NULL ? strlen(uss_json) : 0, b->uss,
	                      max < NAF_MAX_USS ? max : NAF_MAX_USS, &cnt);
	if (ret < 0) {
		gba_free(b);
		return ret;
	}
	for (i = 0; i < cnt; i++) {
		for (j = 0; j < b->uss[i].nuids; j++)
			b->uids[i][j] = b->uss[i].uids[j];
		uss[i].gsid = b->uss[i].gsid;
		uss[i].flags = b->uss[i].flags;
		uss[i].nflags = b->uss[i].nflags;
		uss[i].uids = b->uids[i];
		uss[i].nuids = b->uss[i].nuids;
	}
	*n = cnt;
	*buf = b;
	return 0;
}

void naf_uss_buf_free(struct naf_uss_buf *buf)
{
	gba_free(buf);
}

int naf_policy_key_type(enum gba_key_type t, enum gba_policy_key_type *out)
{
	switch (t) {
	case GBA_KEY_EC_P256:
		*out = GBA_POLICY_KEY_EC_P256;
		return 0;
	case GBA_KEY_EC_P384:
		*out = GBA_POLICY_KEY_EC_P384;
		return 0;
	case GBA_KEY_ED25519:
		*out = GBA_POLICY_KEY_ED25519;
		return 0;
	case GBA_KEY_RSA_2048:
		*out = GBA_POLICY_KEY_RSA_2048;
		return 0;
	case GBA_KEY_RSA_3072:
		*out = GBA_POLICY_KEY_RSA_3072;
		return 0;
	case GBA_KEY_RSA_4096:
		*out = GBA_POLICY_KEY_RSA_4096;
		return 0;
	case GBA_KEY_TYPE_COUNT:
		break;
	}
	return GBA_EUNSUPP;
}

/* ---- audit ---- */

int naf_audit(const struct naf *n, enum gba_audit_type type, enum gba_audit_outcome o,
              const char *reason, const char *peer, const char *impi, const char *btid,
              const char *policy, const uint8_t *policy_sha256, const uint8_t *serial,
              size_t serial_len, const char *subject)
{
	struct gba_audit_event ev;
	char ph[65], sh[2 * GBA_STORE_MAX_SERIAL + 1];
	int ret;

	if (n->conf->audit == NULL)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.outcome = o;
	ev.reason = reason;
	ev.peer = peer;
	ev.app = n->conf->fqdn;
	ev.impi = impi != NULL && impi[0] != '\0' ? impi : NULL;
	ev.btid = btid != NULL && btid[0] != '\0' ? btid : NULL;
	ev.policy = policy != NULL && policy[0] != '\0' ? policy : NULL;
	if (policy_sha256 != NULL && ev.policy != NULL) {
		gba_hex_encode(policy_sha256, 32, ph);
		ev.policy_sha256 = ph;
	}
	if (serial != NULL && serial_len > 0 && serial_len <= GBA_STORE_MAX_SERIAL) {
		gba_hex_encode(serial, serial_len, sh);
		ev.serial = sh;
	}
	ev.subject = subject;
	ret = gba_audit_emit(n->conf->audit, &ev);
	if (ret < 0)
		gba_log_err(MOD, "audit record failed: %s", gba_strerror(ret));
	return ret;
}

int naf_audit_ccm(const struct naf *n, enum gba_audit_type type, enum gba_audit_outcome o,
                  const char *reason, const char *peer, const char *impi,
                  const uint8_t *serial, size_t serial_len, const char *ccm)
{
	struct gba_audit_event ev;
	char sh[2 * GBA_STORE_MAX_SERIAL + 1];
	int ret;

	if (n->conf->audit == NULL)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.outcome = o;
	ev.reason = reason;
	ev.peer = peer;
	ev.app = n->conf->fqdn;
	ev.impi = impi != NULL && impi[0] != '\0' ? impi : NULL;
	if (serial != NULL && serial_len > 0 && serial_len <= GBA_STORE_MAX_SERIAL) {
		gba_hex_encode(serial, serial_len, sh);
		ev.serial = sh;
	}
	ev.ccm = ccm;
	ret = gba_audit_emit(n->conf->audit, &ev);
	if (ret < 0)
		gba_log_err(MOD, "audit record failed: %s", gba_strerror(ret));
	return ret;
}

/* ---- issuing ---- */

const struct naf_ca *naf_ca_find(const struct naf *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->conf->ncas; i++)
		if (strcmp(n->conf->cas[i].name, name) == 0)
			return &n->conf->cas[i];
	return NULL;
}

void naf_x509_template(const struct gba_policy_template *tmpl, const char **san,
                       const char **eku, struct gba_x509_template *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < tmpl->nsan; i++)
		san[i] = tmpl->san[i];
	for (i = 0; i < tmpl->neku; i++)
		eku[i] = tmpl->eku[i];
	t->not_before = tmpl->not_before;
	t->not_after = tmpl->not_after;
	t->subject = tmpl->subject;
	t->san = san;
	t->nsan = tmpl->nsan;
	/* policy key-usage bits are in the same order as GBA_X509_KU_* */
	t->key_usage = tmpl->key_usage;
	t->eku = eku;
	t->neku = tmpl->neku;
	t->ocsp_url = tmpl->ocsp_url[0] != '\0' ? tmpl->ocsp_url : NULL;
	t->crl_url = tmpl->crl_url[0] != '\0' ? tmpl->crl_url : NULL;
}

int naf_issue_cert(struct naf *n, const struct naf_issue *is, uint8_t **der, size_t *len,
                   struct gba_cert_record *rec)
{
	struct gba_x509_template t;
	const char *san[GBA_POLICY_MAX_SAN], *eku[GBA_POLICY_MAX_EKU];
	size_t l;
	int ret;

	*der = NULL;
	*len = 0;
	memset(rec, 0, sizeof(*rec));
	naf_x509_template(is->tmpl, san, eku, &t);
	/* the NAF's own responder and CRL where the policy names none */
	if (t.ocsp_url == NULL && n->ocsp_url[0] != '\0')
		t.ocsp_url = n->ocsp_url;
	if (t.crl_url == NULL && is->ca >= n->conf->cas && is->ca < n->conf->cas + n->conf->ncas &&
	    n->crl_url[is->ca - n->conf->cas][0] != '\0')
		t.crl_url = n->crl_url[is->ca - n->conf->cas];
	t.spki = is->spki;
	t.spki_len = is->spki_len;
	rec->serial_len = 20;
	ret = gba_x509_random_serial(rec->serial, rec->serial_len);
	if (ret < 0)
		return ret;
	t.serial = rec->serial;
	t.serial_len = rec->serial_len;
	ret = gba_signer_issue(is->ca->issuer, &t, der, len);
	if (ret < 0)
		return ret;
	l = strlen(is->ca->name);
	memcpy(rec->ca, is->ca->name, l < GBA_STORE_MAX_CA ? l : GBA_STORE_MAX_CA);
	l = strlen(is->impi);
	memcpy(rec->impi, is->impi, l < GBA_MAX_IMPI_LEN ? l : GBA_MAX_IMPI_LEN);
	l = strlen(is->app_id);
	memcpy(rec->app_id, is->app_id, l < GBA_STORE_MAX_APP ? l : GBA_STORE_MAX_APP);
	memcpy(rec->policy_sha256, is->policy_sha256, 32);
	ret = gba_hash_fast(GBA_HASH_SHA256, is->spki, is->spki_len, rec->spki_sha256);
	if (ret < 0) {
		gba_free(*der);
		*der = NULL;
		return ret;
	}
	rec->issued_at = gba_time_now();
	rec->not_before = t.not_before;
	rec->not_after = t.not_after;
	rec->status = GBA_CERT_VALID;
	rec->der = *der;
	rec->der_len = *len;
	return 0;
}

int naf_commit(struct naf *n, const struct gba_cmc_txn *t)
{
	if (n->conf->committer != NULL)
		return gba_store_committer_submit(n->conf->committer, t);
	return gba_store_cmc_commit(n->store, t);
}

/* ---- pending blobs: a version octet, then length-prefixed fields ---- */

#define PEND_VERSION 1u

struct packer {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put_bytes(struct packer *k, const void *v, size_t len)
{
	if (k->err)
		return;
	if (len > 0xffffu || k->len + 2 + len > k->cap) {
		k->err = GBA_ETOOBIG;
		return;
	}
	k->p[k->len++] = (uint8_t)(len >> 8);
	k->p[k->len++] = (uint8_t)len;
	if (len > 0)
		memcpy(k->p + k->len, v, len);
	k->len += len;
}

static void put_str(struct packer *k, const char *s)
{
	put_bytes(k, s, strlen(s));
}

static void put_u64(struct packer *k, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	put_bytes(k, b, 8);
}

int naf_pending_pack(const struct naf_issue *is, uint8_t **blob, size_t *len)
{
	struct packer k = { NULL, 0, GBA_STORE_MAX_PENDING, 0 };
	const struct gba_policy_template *t = is->tmpl;
	size_t i;

	*blob = NULL;
	*len = 0;
	k.p = gba_malloc(k.cap);
	if (k.p == NULL)
		return GBA_ENOMEM;
	k.p[k.len++] = PEND_VERSION;
	put_str(&k, is->ca->name);
	put_bytes(&k, is->policy_sha256, 32);
	put_bytes(&k, is->spki, is->spki_len);
	put_u64(&k, (uint64_t)(t->not_after - t->not_before));
	put_str(&k, t->issuer);
	put_str(&k, t->subject);
	put_u64(&k, t->nsan);
	for (i = 0; i < t->nsan; i++)
		put_str(&k, t->san[i]);
	put_u64(&k, t->key_usage);
	put_u64(&k, t->neku);
	for (i = 0; i < t->neku; i++)
		put_str(&k, t->eku[i]);
	put_str(&k, t->ocsp_url);
	put_str(&k, t->crl_url);
	if (k.err) {
		gba_free(k.p);
		return k.err;
	}
	*blob = k.p;
	*len = k.len;
	return 0;
}

struct unpacker {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static const uint8_t *get_bytes(struct unpacker *u, size_t *len)
{
	const uint8_t *v;

	*len = 0;
	if (u->err || u->len - u->off < 2) {
		u->err = GBA_ESYNTAX;
		return NULL;
	}
	*len = ((size_t)u->p[u->off] << 8) | u->p[u->off + 1];
	u->off += 2;
	if (u->len - u->off < *len) {
		u->err = GBA_ESYNTAX;
		*len = 0;
		return NULL;
	}
	v = u->p + u->off;
	u->off += *len;
	return v;
}

static void get_str(struct unpacker *u, char *out, size_t cap)
{
	size_t len;
	const uint8_t *v = get_bytes(u, &len);

	out[0] = '\0';
	if (u->err)
		return;
	if (len >= cap || memchr(v, 0, len) != NULL) {
		u->err = GBA_ESYNTAX;
		return;
	}
	memcpy(out, v, len);
	out[len] = '\0';
}

static uint64_t get_u64(struct unpacker *u)
{
	size_t len, i;
	const uint8_t *v = get_bytes(u, &len);
	uint64_t r = 0;

	if (u->err)
		return 0;
	if (len != 8) {
		u->err = GBA_ESYNTAX;
		return 0;
	}
	for (i = 0; i < 8; i++)
		r = (r << 8) | v[i];
	return r;
}

int naf_pending_unpack(const uint8_t *blob, size_t len, struct naf_unpacked *o)
{
	struct unpacker u = { blob, len, 1, 0 };
	struct gba_policy_template *t = &o->tmpl;
	const uint8_t *v;
	uint64_t cnt, i;
	size_t l;

	memset(o, 0, sizeof(*o));
	if (blob == NULL || len < 1 || blob[0] != PEND_VERSION)
		return GBA_ESYNTAX;
	get_str(&u, o->ca, sizeof(o->ca));
	v = get_bytes(&u, &l);
	if (!u.err && l == 32)
		memcpy(o->policy_sha256, v, 32);
	else
		u.err = GBA_ESYNTAX;
	o->spki = get_bytes(&u, &o->spki_len);
	o->validity_s = (int64_t)get_u64(&u);
	get_str(&u, t->issuer, sizeof(t->issuer));
	get_str(&u, t->subject, sizeof(t->subject));
	cnt = get_u64(&u);
	if (cnt > GBA_POLICY_MAX_SAN)
		u.err = GBA_ESYNTAX;
	for (i = 0; i < cnt && !u.err; i++)
		get_str(&u, t->san[i], sizeof(t->san[i]));
	t->nsan = (size_t)cnt;
	t->key_usage = (uint32_t)get_u64(&u);
	cnt = get_u64(&u);
	if (cnt > GBA_POLICY_MAX_EKU)
		u.err = GBA_ESYNTAX;
	for (i = 0; i < cnt && !u.err; i++)
		get_str(&u, t->eku[i], sizeof(t->eku[i]));
	t->neku = (size_t)cnt;
	get_str(&u, t->ocsp_url, sizeof(t->ocsp_url));
	get_str(&u, t->crl_url, sizeof(t->crl_url));
	if (!u.err && (u.off != len || o->validity_s <= 0 || o->validity_s > 3650 * 86400LL ||
	               o->spki_len == 0))
		u.err = GBA_ESYNTAX;
	if (u.err)
		memset(o, 0, sizeof(*o));
	return u.err;
}

/* ---- requests ---- */

int naf_media_type(const struct gba_http_request *req, struct gba_str *type,
                   struct gba_str *params)
{
	const struct gba_str *ct = gba_http_header_get(req, "content-type");
	size_t i;

	type->p = params->p = NULL;
	type->len = params->len = 0;
	if (ct == NULL)
		return 0;
	for (i = 0; i < ct->len && ct->p[i] != ';'; i++)
		;
	type->p = ct->p;
	type->len = i;
	while (type->len > 0 && (type->p[type->len - 1] == ' ' || type->p[type->len - 1] == '\t'))
		type->len--;
	params->p = ct->p + i;
	params->len = ct->len - i;
	return 1;
}

/* ---- routing ---- */

static int path_is(struct gba_str path, const char *p)
{
	size_t n = strlen(p);

	if (path.len < n || memcmp(path.p, p, n) != 0)
		return 0;
	return path.len == n || path.p[n] == '?';
}

/* /crl/... or /ocsp, /ocsp/...: the status routes. */
static int status_route(struct naf *n, const struct gba_http_request *req,
                        struct gba_http_response *resp)
{
	const size_t cl = sizeof(NAF_CRL_PREFIX) - 1, ol = sizeof(NAF_OCSP_PATH) - 1;

	if (req->path.len > cl && memcmp(req->path.p, NAF_CRL_PREFIX, cl) == 0) {
		naf_crl_handle(n, req, resp);
		return 1;
	}
	if (req->path.len >= ol && memcmp(req->path.p, NAF_OCSP_PATH, ol) == 0 &&
	    (req->path.len == ol || req->path.p[ol] == '/')) {
		naf_ocsp_handle(n, req, resp);
		return 1;
	}
	return 0;
}

void naf_status_route(void *ctx, const struct gba_http_request *req,
                      struct gba_http_response *resp)
{
	if (!status_route(ctx, req, resp))
		(void)gba_http_response_status(resp, 404);
}

void naf_handle(void *ctx, const struct gba_http_request *req, struct gba_http_response *resp)
{
	struct naf *n = ctx;

	if (path_is(req->path, NAF_CMC_PATH)) {
		naf_cmc_handle(n, req, resp);
		return;
	}
	if (path_is(req->path, NAF_ENROL_PATH)) {
		naf_portal_enrol(n, req, resp);
		return;
	}
	if (path_is(req->path, NAF_CACERT_PATH)) {
		naf_portal_cacert(n, req, resp);
		return;
	}
	if (naf_ccm_handle(n, req, resp))
		return;
	if (status_route(n, req, resp))
		return;
	(void)gba_http_response_status(resp, 404);
}

/* ---- deciding ---- */

static int fail_for(enum gba_policy_reason r)
{
	switch (r) {
	case GBA_POLICY_R_KEY_TYPE:
		return GBA_CMC_BAD_ALG;
	case GBA_POLICY_R_RATE_LIMIT:
		return GBA_CMC_TRY_LATER;
	case GBA_POLICY_R_NO_USS:
	case GBA_POLICY_R_FLAG:
	case GBA_POLICY_R_IMPI:
		return GBA_CMC_BAD_IDENTITY;
	default:
		return GBA_CMC_BAD_REQUEST;
	}
}

int naf_decide(struct naf *n, const struct naf_enrol_req *r, struct gba_policy_decision *dec,
               const char **why, int *fail)
{
	const struct gba_policy_set *set = NULL;
	struct gba_policy_ctx ctx;
	struct gba_policy_uss uss[8];
	struct naf_uss_buf *ub = NULL;
	enum gba_key_type kt;
	enum gba_policy_key_type pkt = GBA_POLICY_KEY_EC_P256;
	char sans[GBA_POLICY_MAX_SAN][GBA_X509_SAN_MAX + 1];
	size_t nuss = 0, nsans = 0, i;
	uint32_t active = 0, recent = 0;
	int64_t now = gba_time_now();
	int ret;

	memset(dec, 0, sizeof(*dec));
	*why = NULL;
	*fail = GBA_CMC_BAD_REQUEST;
	ret = gba_x509_spki_type(r->spki, r->spki_len, &kt);
	if (ret == GBA_EUNSUPP || (ret == 0 && naf_policy_key_type(kt, &pkt) != 0)) {
		dec->reason = GBA_POLICY_R_KEY_TYPE;
		dec->reason_text = gba_policy_reason_text(dec->reason);
		*why = "key-type";
		*fail = GBA_CMC_BAD_ALG;
		return 0;
	}
	if (ret < 0) {
		*why = "bad-public-key";
		*fail = GBA_CMC_BAD_REQUEST;
		dec->reason = GBA_POLICY_R_KEY_TYPE;
		dec->reason_text = "the public key cannot be parsed";
		return 0;
	}
	ret = gba_store_cert_count_active(n->store, r->impi, n->conf->fqdn, now, &active);
	if (ret == 0)
		ret = gba_store_cert_count_since(n->store, r->impi, n->conf->fqdn, now - 3600,
		                                 &recent);
	if (ret < 0)
		return ret;
	if (r->renewal && active > 0)
		active--;   /* the certificate being renewed is replaced */
	if (!r->renewal) {
		ret = naf_policy_uss(r->uss_json, uss, 8, &nuss, &ub);
		if (ret < 0 && ret != GBA_ENOMEM) {
			nuss = 0;   /* a malformed GUSS counts as no USS */
			ret = 0;
		}
		if (ret < 0)
			return ret;
	} else if (r->old != NULL) {
		ret = gba_x509_cert_sans(r->old_der, r->old_der_len, sans, GBA_POLICY_MAX_SAN,
		                         &nsans);
		if (ret < 0)
			return ret;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.app_id = n->conf->fqdn;
	ctx.ua_id = n->ua_hex;
	ctx.impi = r->impi;
	ctx.btid = r->btid != NULL ? r->btid : "";
	ctx.uss = nuss > 0 ? uss : NULL;
	ctx.nuss = nuss;
	ctx.method = r->method;
	ctx.key_type = pkt;
	ctx.active_certs = active;
	ctx.requests_last_hour = recent;
	ctx.now = now;
	ctx.renewal = r->renewal;
	set = gba_policy_store_acquire(n->conf->policies);
	ret = gba_policy_evaluate(set, &ctx, dec);
	gba_policy_store_release(n->conf->policies, set);
	naf_uss_buf_free(ub);
	if (ret < 0)
		return ret;
	if (!dec->allowed) {
		*why = dec->reason_text;
		*fail = fail_for(dec->reason);
		return 0;
	}
	if (r->renewal && r->old != NULL) {
		struct gba_policy_template *t = &dec->tmpl;
		size_t l = strlen(r->old->subject);

		if (r->old->not_after - dec->renewal_window_s > now) {
			dec->allowed = false;
			dec->pending = false;
			*why = "outside the renewal window";
			*fail = GBA_CMC_BAD_TIME;
			return 0;
		}
		if (l > GBA_POLICY_MAX_VALUE)
			return GBA_ETOOBIG;
		memcpy(t->subject, r->old->subject, l + 1);
		for (i = 0; i < nsans; i++) {
			if (strlen(sans[i]) > GBA_POLICY_MAX_VALUE)
				return GBA_ETOOBIG;
			memcpy(t->san[i], sans[i], strlen(sans[i]) + 1);
		}
		t->nsan = nsans;
	}
	return 0;
}

/* ---- set-up ---- */

static int read_file(const char *path, char **out, size_t max)
{
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return GBA_EIO;
	buf = gba_malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return GBA_ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		gba_free(buf);
		return GBA_ETOOBIG;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* The first CERTIFICATE of a PEM file, as DER. */
static int pem_cert(const char *path, uint8_t **der, size_t *len)
{
	char *txt = NULL;
	size_t pos = 0;
	int ret;

	ret = read_file(path, &txt, 64 * 1024);
	if (ret == 0)
		ret = gba_x509_pem_decode("CERTIFICATE", txt, strlen(txt), &pos, der, len);
	gba_free(txt);
	return ret;
}

int naf_ca_load(struct naf_ca *ca, const char *dir, const char *name, const char *key_override)
{
	char key[4096], cert[4096], root[4096];
	uint8_t *rder = NULL;
	int ret;

	memset(ca, 0, sizeof(*ca));
	if (snprintf(key, sizeof(key), "%s/ca.key", dir) >= (int)sizeof(key) ||
	    snprintf(cert, sizeof(cert), "%s/ca.pem", dir) >= (int)sizeof(cert) ||
	    snprintf(root, sizeof(root), "%s/root.pem", dir) >= (int)sizeof(root))
		return GBA_ETOOBIG;
	ret = gba_signer_open(&ca->issuer, key_override != NULL ? key_override : key, cert);
	if (ret < 0)
		goto out;
	snprintf(key, sizeof(key), "%s/cmc.key", dir);
	snprintf(cert, sizeof(cert), "%s/cmc.pem", dir);
	ret = gba_signer_open(&ca->cmc, key, cert);
	if (ret < 0)
		goto out;
	ret = pem_cert(root, &rder, &ca->root_len);
	if (ret < 0)
		goto out;
	ca->root = rder;
	/* RAs that may revoke, when the directory lists them */
	snprintf(cert, sizeof(cert), "%s/ra.pem", dir);
	if (access(cert, F_OK) == 0) {
		char *txt = NULL;
		size_t pos = 0;

		ret = read_file(cert, &txt, 64 * 1024);
		while (ret == 0) {
			uint8_t *der = NULL;
			size_t len = 0;

			ret = gba_x509_pem_decode("CERTIFICATE", txt, strlen(txt), &pos, &der, &len);
			if (ret == GBA_ENOTFOUND) {
				ret = ca->nra > 0 ? 0 : GBA_ESYNTAX;
				break;
			}
			if (ret == 0 && ca->nra >= NAF_MAX_RA) {
				gba_free(der);
				ret = GBA_ETOOBIG;
			}
			if (ret == 0) {
				ca->ra[ca->nra] = der;
				ca->ra_len[ca->nra++] = len;
			}
		}
		gba_free(txt);
		if (ret < 0)
			goto out;
	}
	/* the delegated OCSP responder, when the directory has one */
	snprintf(key, sizeof(key), "%s/ocsp.key", dir);
	snprintf(cert, sizeof(cert), "%s/ocsp.pem", dir);
	if (access(cert, F_OK) == 0 || access(key, F_OK) == 0) {
		ret = gba_signer_open(&ca->ocsp, key, cert);
		if (ret < 0)
			goto out;
	}
	ca->name = name;
out:
	if (ret < 0)
		naf_ca_unload(ca);
	return ret;
}

int naf_ca_ra_is(const struct naf_ca *ca, const uint8_t *der, size_t len)
{
	size_t i;

	for (i = 0; i < ca->nra; i++)
		if (ca->ra_len[i] == len && memcmp(ca->ra[i], der, len) == 0)
			return 1;
	return 0;
}

void naf_ca_unload(struct naf_ca *ca)
{
	size_t i;

	gba_signer_free(ca->issuer);
	gba_signer_free(ca->cmc);
	gba_signer_free(ca->ocsp);
	for (i = 0; i < ca->nra; i++)
		gba_free((void *)ca->ra[i]);
	gba_free((void *)ca->root);
	memset(ca, 0, sizeof(*ca));
}

int naf_secret_load(const char *path, uint8_t secret[32])
{
	FILE *f;
	size_t n;
	int fd, ret;

	f = fopen(path, "rb");
	if (f != NULL) {
		n = fread(secret, 1, 32, f);
		ret = n == 32 && fgetc(f) == EOF ? 0 : GBA_EIO;
		fclose(f);
		return ret;
	}
	ret = gba_rnd(GBA_RND_KEY, secret, 32);
	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0)
		return GBA_EIO;
	ret = write(fd, secret, 32) == 32 ? 0 : GBA_EIO;
	if (close(fd) != 0)
		ret = GBA_EIO;
	return ret;
}

/* 1..max (seconds, or a count) into *out: 1, or GBA_EINVAL. */
static int seconds(const char *arg, uint32_t max, uint32_t *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < 1 || v > max)
		return GBA_EINVAL;
	*out = (uint32_t)v;
	return 1;
}

int naf_service_option(struct naf_service_conf *c, int ch, const char *arg)
{
	switch (ch) {
	case NAF_OPT_FQDN: c->fqdn = arg; break;
	case NAF_OPT_CA_DIR: c->ca_dir = arg; break;
	case NAF_OPT_CA_KEY: c->ca_key = arg; break;
	case NAF_OPT_CA_NAME: c->ca_name = arg; break;
	case NAF_OPT_SECRET: c->secret_file = arg; break;
	case NAF_OPT_CRL_LIFETIME: return seconds(arg, 366u * 86400u, &c->crl_lifetime_s);
	case NAF_OPT_CRL_MAX_AGE: return seconds(arg, 366u * 86400u, &c->crl_max_age_s);
	case NAF_OPT_OCSP_LIFETIME: return seconds(arg, 7u * 86400u, &c->ocsp_lifetime_s);
	case NAF_OPT_URL: c->url = arg; break;
	case NAF_OPT_OCSP_CACHE_MAX: return seconds(arg, 10000000u, &c->ocsp_cache_max);
	case NAF_OPT_OCSP_LIVE_MAX: return seconds(arg, 1024u, &c->ocsp_live_max);
	case NAF_OPT_OCSP_MAX_AGE: return seconds(arg, 7u * 86400u, &c->ocsp_max_age_s);
	case NAF_OPT_CCM_MAX_PER_IMPI: return seconds(arg, 1000000u, &c->ccm_max_per_impi);
	case NAF_OPT_CCM_POLL_MS: return seconds(arg, 60000u, &c->ccm_poll_ms);
	default: return 0;
	}
	return 1;
}

void naf_service_usage(FILE *f, const char *secret)
{
	fprintf(f,
	        "  --naf-fqdn NAME         NAF FQDN: NAF_Id, Ua realm, Zn nafFqdn (naf.gbacert.test)\n"
	        "  --ca-dir DIR            CA made by gba-ctl ca init (DIR/ca with --demo)\n"
	        "  --ca-key KEY            issuing CA key instead of DIR/ca.key: PEM or pkcs11: URI\n"
	        "  --ca-name NAME          the CA's name in policies (gbacert-subscriber-ca)\n"
	        "  --naf-secret F          Ua Digest nonce key, 32 octets, created if missing\n"
	        "                          (%s)\n"
	        "  --crl-lifetime S        CRL nextUpdate - thisUpdate (86400); rebuilt on every\n"
	        "                          status change and after half of it\n"
	        "  --crl-max-age S         Cache-Control max-age (and Expires) cap for CRLs (60)\n"
	        "  --ocsp-lifetime S       OCSP nextUpdate - thisUpdate (3600); pre-signed responses\n"
	        "                          are refreshed after half of it\n"
	        "  --ocsp-max-age S        Cache-Control max-age (and Expires) cap for OCSP (60)\n"
	        "  --ocsp-cache-max N      OCSP answers kept signed (100000); a quarter of them at\n"
	        "                          most in CertID forms other than the pre-signed one\n"
	        "  --ocsp-live-max N       OCSP answers signed live at once (half the CPUs, at\n"
	        "                          least 1); beyond: the cached answer or tryLater\n"
	        "  --naf-url URL           how relying parties reach /ocsp and /crl/, for the AIA\n"
	        "                          (URL/ocsp) and CRL DP (URL/crl/CA.crl) of certificates\n"
	        "                          whose policy names none (the listener serving them)\n"
	        "  --ccm-max-per-impi N    CCM subscriptions per IMPI (4)\n"
	        "  --ccm-poll-ms N         how often each worker looks for CCMs queued by other\n"
	        "                          processes (1000)\n",
	        secret);
}

int naf_service_start(struct naf_service *s, const struct naf_service_conf *c,
                      const struct gba_daemon *d)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = naf_ca_load(&s->ca, c->ca_dir, c->ca_name, c->ca_key);
	if (ret == 0)
		ret = naf_secret_load(c->secret_file, s->secret);
	if (ret == 0)
		ret = gba_store_committer_start(&s->committer, d->conf->db, d->conf->key_file);
	if (ret == 0) {
		naf_status_conf_default(&s->status_conf);
		if (c->crl_lifetime_s != 0)
			s->status_conf.crl_lifetime_s = c->crl_lifetime_s;
		if (c->crl_max_age_s != 0)
			s->status_conf.crl_max_age_s = c->crl_max_age_s;
		if (c->ocsp_lifetime_s != 0)
			s->status_conf.ocsp_lifetime_s = c->ocsp_lifetime_s;
		if (c->ocsp_cache_max != 0)
			s->status_conf.ocsp_cache_max = c->ocsp_cache_max;
		if (c->ocsp_live_max != 0)
			s->status_conf.ocsp_live_max = c->ocsp_live_max;
		if (c->ocsp_max_age_s != 0)
			s->status_conf.ocsp_max_age_s = c->ocsp_max_age_s;
		ret = naf_status_new(&s->status, &s->ca, 1, &s->status_conf);
	}
	if (ret == 0) {
		struct naf_ccm_hub_conf hc;

		memset(&hc, 0, sizeof(hc));
		hc.max_per_impi = c->ccm_max_per_impi;
		ret = naf_ccm_hub_new(&s->ccm, &hc);
	}
	if (ret == 0 && snprintf(s->client_ca, sizeof(s->client_ca), "%s/ca.pem", c->ca_dir) >=
	                    (int)sizeof(s->client_ca))
		ret = GBA_ETOOBIG;
	if (ret < 0) {
		naf_service_stop(s);
		return ret;
	}
	s->conf.fqdn = c->fqdn;
	memcpy(s->conf.ua_id, gba_ua_id_pki_portal, GBA_UA_ID_LEN);
	s->conf.cas = &s->ca;
	s->conf.ncas = 1;
	s->conf.policies = d->policies;
	s->conf.audit = d->audit;
	s->conf.committer = s->committer;
	s->conf.digest_secret = s->secret;
	s->conf.status = s->status;
	s->conf.ccm = s->ccm;
	return 0;
}

static void server_wake(void *arg)
{
	gba_http_server_wake(arg);
}

void naf_service_bound(struct naf_service *s, struct gba_http_server *server)
{
	naf_ccm_hub_set_wake(s->ccm, server_wake, server);
}

int naf_service_publish(struct naf_service *s, const struct naf_service_conf *c, int https,
                        unsigned port, const struct gba_daemon *d)
{
	char built[NAF_MAX_URL + 1];
	const char *url = c->url;
	size_t n;
	int w;

	if (url == NULL) {
		w = snprintf(built, sizeof(built), "%s://%s:%u", https ? "https" : "http", c->fqdn,
		             port);
		if (w < 0 || (size_t)w >= sizeof(built))
			return GBA_EINVAL;
		url = built;
	}
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(s->url) ||
	    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    memchr(url, ' ', n) != NULL)
		return GBA_EINVAL;
	memcpy(s->url, url, n);
	s->url[n] = '\0';
	s->conf.public_url = s->url;
	return naf_status_start(s->status, d->conf->db, d->conf->key_file);
}

void naf_service_stop(struct naf_service *s)
{
	naf_ccm_hub_free(s->ccm);
	naf_status_free(s->status);
	gba_store_committer_stop(s->committer);
	naf_ca_unload(&s->ca);
	gba_wipe(s, sizeof(*s));
}
