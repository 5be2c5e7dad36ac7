/*
 * naf_ua.c - GBA HTTP Digest on Ua (TS 24.109 clause 5 and Annex B):
 * realm "3GPP-bootstrapping@<NAF FQDN>", username = B-TID, password =
 * base64(Ks_NAF), qop auth-int, rspauth on answers.
 *
 * Nonces are stateless: base64(time || 16 random octets || the first 16
 * octets of HMAC-SHA256(secret, time || random)).  A nonce older than
 * digest_nonce_lifetime_s gets a fresh challenge with stale=true.  A
 * replayed Authorization is harmless for reads; the enrolment handler
 * records a hash of (nonce, cnonce, nc) with the certificate so that
 * the same credentials cannot enrol twice.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "gba_http_auth.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-ua"
#define NONCE_RAW    40u     /* time 8 || random 16 || mac 16 */
#define NONCE_B64    56u
#define REALM_PREFIX "3GPP-bootstrapping@"

void naf_ua_auth_clear(struct naf_ua_auth *a)
{
	naf_key_clear(&a->key);
	gba_wipe(a, sizeof(*a));
}

static int nonce_mac(const struct naf *n, const uint8_t *in, uint8_t mac[32])
{
	return gba_hmac_fast(GBA_HASH_SHA256, n->conf->digest_secret, 32, in, 24, mac);
}

static int nonce_make(const struct naf *n, char out[NONCE_B64 + 1])
{
	uint8_t raw[NONCE_RAW], mac[32];
	uint64_t t = (uint64_t)gba_time_now();
	int i, ret;

	for (i = 7; i >= 0; i--) {
		raw[i] = (uint8_t)t;
		t >>= 8;
	}
	ret = gba_rnd(GBA_RND_NONCE, raw + 8, 16);
	if (ret == 0)
		ret = nonce_mac(n, raw, mac);
	if (ret < 0)
		return ret;
	memcpy(raw + 24, mac, 16);
	ret = gba_base64_encode(raw, sizeof(raw), out, NONCE_B64 + 1);
	return ret < 0 ? ret : 0;
}

/* 0 fresh, GBA_EEXPIRED stale, GBA_EAUTH not ours. */
static int nonce_check(const struct naf *n, struct gba_str s)
{
	uint8_t raw[NONCE_RAW + 2], mac[32];
	uint64_t t = 0;
	int64_t now = gba_time_now(), life;
	size_t i;

	if (s.len != NONCE_B64 ||
	    gba_base64_decode(s.p, s.len, raw, sizeof(raw)) != (int)NONCE_RAW)
		return GBA_EAUTH;
	if (nonce_mac(n, raw, mac) < 0 || !gba_ct_equal(mac, raw + 24, 16))
		return GBA_EAUTH;
	for (i = 0; i < 8; i++)
		t = (t << 8) | raw[i];
	life = n->conf->digest_nonce_lifetime_s != 0 ? n->conf->digest_nonce_lifetime_s : 300;
	if ((int64_t)t > now + 60 || (int64_t)t + life < now)
		return GBA_EEXPIRED;
	return 0;
}

static int challenge(struct naf *n, struct gba_http_response *resp, int stale)
{
	struct gba_auth_builder bld;
	char hdr[512], realm[sizeof(REALM_PREFIX) + GBA_MAX_FQDN_LEN], nonce[NONCE_B64 + 1];
	int err = 0, ret;

	ret = nonce_make(n, nonce);
	if (ret < 0)
		return 500;
	snprintf(realm, sizeof(realm), "%s%s", REALM_PREFIX, n->conf->fqdn);
	gba_auth_builder_init(&bld, hdr, sizeof(hdr), "Digest");
	gba_auth_add_quoted(&bld, "realm", gba_str_c(realm));
	gba_auth_add_quoted(&bld, "nonce", gba_str_c(nonce));
	gba_auth_add_token(&bld, "algorithm", GBA_STR_LIT("MD5"));
	gba_auth_add_quoted(&bld, "qop", GBA_STR_LIT("auth-int"));
	if (stale)
		gba_auth_add_token(&bld, "stale", GBA_STR_LIT("true"));
	if (gba_auth_builder_finish(&bld) < 0)
		return 500;
	naf_header(resp, "WWW-Authenticate", hdr, &err);
	if (err)
		return 500;
	(void)gba_http_response_status(resp, 401);
	return 401;
}

static int copy_field(struct gba_str s, char *out, size_t cap)
{
	if (s.len >= cap)
		return GBA_ETOOBIG;
	if (s.len > 0)
		memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return 0;
}

int naf_ua_check(struct naf *n, const struct gba_http_request *req,
                 struct gba_http_response *resp, struct naf_ua_auth *a)
{
	struct gba_auth *p = NULL;
	struct gba_digest_input in;
	const struct gba_str *hdr;
	struct gba_str v;
	char realm[sizeof(REALM_PREFIX) + GBA_MAX_FQDN_LEN], tag[GBA_LOG_ID_LEN];
	char pw[64];
	int ret, status = 400;

	memset(a, 0, sizeof(*a));
	hdr = gba_http_header_get(req, "authorization");
	if (hdr == NULL)
		return challenge(n, resp, 0);
	if (hdr->len > GBA_MAX_AUTH_HEADER_LEN)
		goto out;
	p = gba_calloc(1, sizeof(*p));
	if (p == NULL) {
		status = 500;
		goto out;
	}
	if (gba_auth_parse(p, GBA_AUTH_CREDENTIALS, hdr->p, hdr->len, NULL) != 0 ||
	    gba_auth_check_credentials(p, NULL) != 0)
		goto out;
	snprintf(realm, sizeof(realm), "%s%s", REALM_PREFIX, n->conf->fqdn);
	if (!gba_str_caseeq(gba_auth_get(p, GBA_AUTH_REALM), gba_str_c(realm)) ||
	    !gba_str_eq(gba_auth_get(p, GBA_AUTH_URI), req->path))
		goto out;
	if (!gba_auth_has(p, GBA_AUTH_QOP) ||
	    !gba_str_eq(gba_auth_get(p, GBA_AUTH_QOP), GBA_STR_LIT("auth-int")))
		goto out;
	if (gba_auth_has(p, GBA_AUTH_ALGORITHM) &&
	    !gba_str_caseeq(gba_auth_get(p, GBA_AUTH_ALGORITHM), GBA_STR_LIT("MD5")))
		goto out;
	if (copy_field(gba_auth_get(p, GBA_AUTH_USERNAME), a->btid, sizeof(a->btid)) < 0 ||
	    a->btid[0] == '\0' ||
	    copy_field(gba_auth_get(p, GBA_AUTH_CNONCE), a->cnonce, sizeof(a->cnonce)) < 0 ||
	    copy_field(gba_auth_get(p, GBA_AUTH_NC), a->nc, sizeof(a->nc)) < 0 ||
	    copy_field(gba_auth_get(p, GBA_AUTH_NONCE), a->nonce, sizeof(a->nonce)) < 0 ||
	    copy_field(req->path, a->uri, sizeof(a->uri)) < 0)
		goto out;

	ret = nonce_check(n, gba_auth_get(p, GBA_AUTH_NONCE));
	if (ret < 0) {
		status = challenge(n, resp, ret == GBA_EEXPIRED);
		goto out;
	}
	ret = naf_key_get(n, a->btid, &a->key);
	if (ret == GBA_ENOTFOUND) {
		/* 24.109 5.2: bootstrapping required - a fresh challenge */
		gba_log_info(MOD, "unknown or expired b-tid %s",
		             gba_log_id(a->btid, strlen(a->btid), tag));
		status = challenge(n, resp, 0);
		goto out;
	}
	if (ret == GBA_EAUTH) {
		status = 403;
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "Ks_NAF: %s", gba_strerror(ret));
		status = 503;
		goto out;
	}
	ret = gba_base64_encode(a->key.ks_naf, sizeof(a->key.ks_naf), pw, sizeof(pw));
	if (ret < 0) {
		status = 500;
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.username = gba_auth_get(p, GBA_AUTH_USERNAME);
	in.realm = gba_auth_get(p, GBA_AUTH_REALM);
	in.nonce = gba_auth_get(p, GBA_AUTH_NONCE);
	in.nc = gba_auth_get(p, GBA_AUTH_NC);
	in.cnonce = gba_auth_get(p, GBA_AUTH_CNONCE);
	in.qop = GBA_QOP_AUTH_INT;
	in.method = req->method;
	in.uri = gba_auth_get(p, GBA_AUTH_URI);
	in.password = (const uint8_t *)pw;
	in.password_len = (size_t)ret;
	in.body = req->body;
	in.body_len = req->body_len;
	v = gba_auth_get(p, GBA_AUTH_RESPONSE);
	if (gba_digest_verify(&in, v) != 0) {
		gba_log_notice(MOD, "wrong Ua digest for b-tid %s",
		               gba_log_id(a->btid, strlen(a->btid), tag));
		status = challenge(n, resp, 0);
		goto out;
	}
	status = 0;
out:
	gba_wipe(pw, sizeof(pw));
	if (p != NULL) {
		gba_wipe(p, sizeof(*p));
		gba_free(p);
	}
	if (status != 0) {
		naf_ua_auth_clear(a);
		if (status != 401)
			(void)gba_http_response_status(resp, status);
	}
	return status;
}

int naf_ua_info(struct naf *n, const struct naf_ua_auth *a, const uint8_t *body, size_t len,
                struct gba_http_response *resp)
{
	struct gba_digest_input in;
	struct gba_auth_builder bld;
	char realm[sizeof(REALM_PREFIX) + GBA_MAX_FQDN_LEN], pw[64], info[512];
	char rspauth[GBA_DIGEST_HEX_LEN + 1];
	int ret, err = 0;

	snprintf(realm, sizeof(realm), "%s%s", REALM_PREFIX, n->conf->fqdn);
	ret = gba_base64_encode(a->key.ks_naf, sizeof(a->key.ks_naf), pw, sizeof(pw));
	if (ret < 0)
		return ret;
	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(a->btid);
	in.realm = gba_str_c(realm);
	in.nonce = gba_str_c(a->nonce);
	in.nc = gba_str_c(a->nc);
	in.cnonce = gba_str_c(a->cnonce);
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("");
	in.uri = gba_str_c(a->uri);
	in.password = (const uint8_t *)pw;
	in.password_len = (size_t)ret;
	in.body = body;
	in.body_len = len;
	ret = gba_digest_response(&in, rspauth);
	gba_wipe(pw, sizeof(pw));
	if (ret < 0)
		return ret;
	gba_auth_builder_init(&bld, info, sizeof(info), NULL);
	gba_auth_add_token(&bld, "qop", GBA_STR_LIT("auth-int"));
	gba_auth_add_quoted(&bld, "rspauth", gba_str_c(rspauth));
	gba_auth_add_quoted(&bld, "cnonce", gba_str_c(a->cnonce));
	gba_auth_add_token(&bld, "nc", gba_str_c(a->nc));
	ret = gba_auth_builder_finish(&bld);
	if (ret < 0)
		return ret;
	naf_header(resp, "Authentication-Info", info, &err);
	return err;
}
