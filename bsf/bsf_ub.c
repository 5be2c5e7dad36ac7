/*
 * bsf_ub.c - Ub: bootstrapping over HTTP Digest AKA (TS 24.109 clause 4
 * and Annex A, TS 33.220 4.5.2, RFC 3310).
 *
 * Status codes.  TS 24.109 clause 4.3 (user authentication failure: RES
 * does not verify) and clause 4.4 (network authentication failure: the
 * UE answers with a response computed over an empty password and no
 * auts) both end the run with 403 Forbidden; clause 4.5 / A.4
 * (synchronisation failure: auts with an empty-password response)
 * re-challenges with 401.  The clause texts were not available to us
 * verbatim (doc/notes gba.md §10 item 1); 403 is also what RFC 9110
 * 15.5.4 means by "credentials insufficient" and what the IMS S-CSCF
 * does on a wrong RES (TS 24.229 5.4.1.2.2).
 *
 * An unknown, expired or already used nonce is answered like a wrong
 * RES (403), never with a new challenge: the XRES is gone with the
 * nonce, so stale=true (RFC 7616 3.3: only for a valid digest over a
 * stale nonce) cannot be justified, and re-challenging would let anyone
 * make the HSS advance SQN without limit.  The UE starts over with an
 * initial request.  The same answer hides whether an IMPI exists: an
 * unknown IMPI gets a random, unstored nonce of the real shape, and its
 * answer then fails like any unknown nonce.
 *
 * Malformed or oversize Authorization headers, and answers whose realm,
 * uri, qop or algorithm do not match what we challenged with, get 400
 * (RFC 7616 3.4: the server "SHOULD" reject malformed requests with 400)
 * and leave the nonce unused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bsf_int.h"
#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "gba_http_auth.h"
#include "gba_keys.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_zn.h"

#define MOD "bsf-ub"
#define UB_NONCE_RAW   32u    /* RAND || AUTN */
#define UB_NONCE_B64   44u
#define UB_XML_MAX     (GBA_MAX_BTID_LEN + 256u)

static const char xml_fmt[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<BootstrappingInfo xmlns=\"uri:3gpp-gba\">"
	"<btid>%s</btid><lifetime>%s</lifetime></BootstrappingInfo>";

/* The Authorization parse arena is 4 KiB: keep it off the stack of a
 * worker that may run deep, but per call (handlers may be re-entered
 * on other workers). */
struct ub_req {
	struct gba_auth a;
	char impi[GBA_MAX_IMPI_LEN + 1];
	char nonce[sizeof(((struct gba_challenge *)0)->nonce)];
};

static int str_is(struct gba_str s, const char *lit)
{
	return gba_str_eq(s, gba_str_c(lit));
}

static int valid_impi(struct gba_str u)
{
	size_t i;

	if (u.len == 0 || u.len > GBA_MAX_IMPI_LEN)
		return 0;
	for (i = 0; i < u.len; i++)
		if ((unsigned char)u.p[i] < 0x21 || (unsigned char)u.p[i] > 0x7e ||
		    u.p[i] == '"' || u.p[i] == '\\')
			return 0;
	return 1;
}

/* Record a refused bootstrap.  The answer is a refusal either way, so a
 * failed record is only logged. */
static void audit_deny(const struct bsf *b, const char *peer, const char *reason,
                       const char *impi)
{
	int ret = bsf_audit(b, GBA_AUDIT_BOOTSTRAP, GBA_AUDIT_DENIED, reason, peer, NULL,
	                    impi, NULL);

	if (ret < 0)
		gba_log_err(MOD, "audit record failed: %s", gba_strerror(ret));
}

/* 401 with a challenge for nonce (NUL-terminated). */
static int challenge(struct bsf *b, struct gba_http_response *resp, const char *nonce)
{
	struct gba_auth_builder bld;
	char hdr[512];
	int err = 0, n;

	gba_auth_builder_init(&bld, hdr, sizeof(hdr), "Digest");
	gba_auth_add_quoted(&bld, "realm", gba_str_c(b->conf->fqdn));
	gba_auth_add_quoted(&bld, "nonce", gba_str_c(nonce));
	gba_auth_add_token(&bld, "algorithm", GBA_STR_LIT("AKAv1-MD5"));
	gba_auth_add_quoted(&bld, "qop", GBA_STR_LIT("auth-int"));
	n = gba_auth_builder_finish(&bld);
	if (n < 0)
		return n;
	bsf_header(resp, "WWW-Authenticate", hdr, &err);
	if (err)
		return err;
	return gba_http_response_status(resp, 401);
}

/* Get a vector for impi (resync when auts != NULL), store it as a
 * challenge and answer 401.  An unknown IMPI gets a look-alike nonce
 * that is not stored.  Returns the HTTP status to fall back to on
 * error, or 0 when resp is complete. */
static int issue_challenge(struct bsf *b, struct gba_http_response *resp, const char *peer,
                           const char *impi, const uint8_t *auts_rand, const uint8_t *auts)
{
	struct gba_challenge c;
	uint8_t raw[UB_NONCE_RAW];
	char tag[GBA_LOG_ID_LEN];
	int ret, status = 500;

	memset(&c, 0, sizeof(c));
	ret = b->hss->ops->generate_av(b->hss, impi, auts_rand, auts, &c.av);
	if (ret == GBA_ENOTFOUND && auts == NULL) {
		/* Unknown IMPI: same shape, nothing stored. */
		gba_log_info(MOD, "challenge for unknown impi %s",
		             gba_log_id(impi, strlen(impi), tag));
		if (gba_rnd(GBA_RND_NONCE, raw, sizeof(raw)) != 0)
			goto out;
		if (gba_base64_encode(raw, sizeof(raw), c.nonce, sizeof(c.nonce)) < 0)
			goto out;
		if (challenge(b, resp, c.nonce) == 0)
			status = 0;
		goto out;
	}
	if (ret == GBA_EAUTH || ret == GBA_ESYNC || ret == GBA_ENOTFOUND) {
		/* resync refused: wrong MAC-S (or the subscriber vanished) */
		gba_log_notice(MOD, "resync refused for impi %s: %s",
		               gba_log_id(impi, strlen(impi), tag), gba_strerror(ret));
		audit_deny(b, peer, "resync-refused", impi);
		status = 403;
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "hss generate_av: %s", gba_strerror(ret));
		goto out;
	}
	memcpy(raw, c.av.rand, 16);
	memcpy(raw + 16, c.av.autn, 16);
	if (gba_base64_encode(raw, sizeof(raw), c.nonce, sizeof(c.nonce)) != (int)UB_NONCE_B64)
		goto out;
	memcpy(c.impi, impi, strlen(impi) + 1);
	c.expires = bsf_now(b) + (int64_t)b->conf->challenge_lifetime_s;
	ret = gba_store_challenge_put(b->store, &c);
	if (ret < 0) {
		gba_log_err(MOD, "store challenge: %s", gba_strerror(ret));
		goto out;
	}
	if (challenge(b, resp, c.nonce) == 0)
		status = 0;
out:
	gba_wipe(&c, sizeof(c));
	return status;
}

/* The Digest input for this request with the given password. */
static void digest_input(const struct bsf *b, const struct gba_http_request *req,
                         const struct gba_auth *a, const uint8_t *pw, size_t pwlen,
                         struct gba_digest_input *in)
{
	memset(in, 0, sizeof(*in));
	in->username = gba_auth_get(a, GBA_AUTH_USERNAME);
	in->realm = gba_str_c(b->conf->fqdn);
	in->nonce = gba_auth_get(a, GBA_AUTH_NONCE);
	in->nc = gba_auth_get(a, GBA_AUTH_NC);
	in->cnonce = gba_auth_get(a, GBA_AUTH_CNONCE);
	in->qop = GBA_QOP_AUTH_INT;
	in->method = req->method;
	in->uri = gba_auth_get(a, GBA_AUTH_URI);
	in->password = pw;
	in->password_len = pwlen;
	in->body = req->body;
	in->body_len = req->body_len;
}

/* Success: store the context, fire the event, answer 200. */
static int bootstrap_ok(struct bsf *b, const struct gba_http_request *req,
                        struct gba_http_response *resp, const struct gba_auth *a,
                        const struct gba_challenge *c)
{
	struct gba_bootstrap bs;
	struct bsf_bootstrap_event ev;
	struct gba_digest_input in;
	struct gba_auth_builder bld;
	uint8_t ks[GBA_KS_LEN];
	char xml[UB_XML_MAX], life[GBA_TIME_RFC3339_LEN + 1], exp[GBA_TIME_HTTP_LEN + 1];
	char rspauth[GBA_DIGEST_HEX_LEN + 1], info[512], tag[GBA_LOG_ID_LEN];
	uint32_t lifetime = 0;
	char *guss = NULL;
	int ret, n, err = 0, status = 500;

	memset(&bs, 0, sizeof(bs));
	ret = b->hss->ops->get_guss(b->hss, c->impi, &lifetime, &guss);
	if (ret == GBA_ENOTFOUND) {
		audit_deny(b, req->peer, "subscriber-unknown", c->impi);
		status = 403;   /* subscriber removed meanwhile */
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "hss get_guss: %s", gba_strerror(ret));
		goto out;
	}
	if (lifetime == 0 && guss != NULL && guss[0] != '\0' &&
	    gba_zn_guss_check(guss, strlen(guss), &lifetime) != 0) {
		/* Not fatal for Ub; Zn will refuse to serve this context. */
		gba_log_warn(MOD, "malformed GUSS for impi %s",
		             gba_log_id(c->impi, strlen(c->impi), tag));
		lifetime = 0;
	}
	if (lifetime == 0)
		lifetime = b->conf->key_lifetime_s;

	ret = gba_btid(c->av.rand, b->conf->fqdn, strlen(b->conf->fqdn), bs.btid,
	               sizeof(bs.btid));
	if (ret < 0)
		goto out;
	memcpy(bs.impi, c->impi, sizeof(bs.impi));
	memcpy(bs.rand, c->av.rand, sizeof(bs.rand));
	gba_ks_from_ck_ik(c->av.ck, c->av.ik, ks);
	ret = gba_secret_set(&bs.ks, ks, sizeof(ks));
	gba_wipe(ks, sizeof(ks));
	if (ret < 0)
		goto out;
	bs.created = bsf_now(b);
	bs.expires = bs.created + (int64_t)lifetime;
	bs.guss_json = guss != NULL ? guss : NULL;
	guss = NULL;
	if (bs.guss_json == NULL) {
		bs.guss_json = gba_strndup("", 0);
		if (bs.guss_json == NULL)
			goto out;
	}

	/* Build everything that can fail before the context is stored, so
	 * a failure leaves the store as it was. */
	if (gba_time_rfc3339(bs.expires, life) != 0 || gba_time_http(bs.expires, exp) != 0)
		goto out;
	n = snprintf(xml, sizeof(xml), xml_fmt, bs.btid, life);
	if (n < 0 || (size_t)n >= sizeof(xml))
		goto out;
	digest_input(b, req, a, c->av.xres, sizeof(c->av.xres), &in);
	in.method = GBA_STR_LIT("");
	in.body = (const uint8_t *)xml;
	in.body_len = (size_t)n;
	if (gba_digest_response(&in, rspauth) != 0)
		goto out;
	gba_auth_builder_init(&bld, info, sizeof(info), NULL);
	gba_auth_add_token(&bld, "qop", GBA_STR_LIT("auth-int"));
	gba_auth_add_quoted(&bld, "rspauth", gba_str_c(rspauth));
	gba_auth_add_quoted(&bld, "cnonce", gba_auth_get(a, GBA_AUTH_CNONCE));
	gba_auth_add_token(&bld, "nc", gba_auth_get(a, GBA_AUTH_NC));
	if (gba_auth_builder_finish(&bld) < 0)
		goto out;

	/* The audit record comes first (doc/audit.md): the context becomes
	 * usable only once its record is durable.  If the record cannot be
	 * written, nothing is stored and the UE gets 503. */
	ret = bsf_audit(b, GBA_AUDIT_BOOTSTRAP, GBA_AUDIT_OK, NULL, req->peer, NULL, bs.impi,
	                bs.btid);
	if (ret < 0) {
		gba_log_err(MOD, "audit record failed, bootstrap refused: %s", gba_strerror(ret));
		status = 503;
		goto out;
	}
	ret = gba_store_bootstrap_put(b->store, &bs);
	if (ret < 0) {
		gba_log_err(MOD, "store bootstrap: %s", gba_strerror(ret));
		/* the "ok" record above is followed by its failure */
		(void)bsf_audit(b, GBA_AUDIT_BOOTSTRAP, GBA_AUDIT_ERROR, gba_errname(ret),
		                req->peer, NULL, bs.impi, bs.btid);
		goto out;
	}
	{
		char btag[GBA_LOG_ID_LEN];   /* each tag needs its own buffer */

		gba_log_info(MOD, "bootstrap impi %s btid %s lifetime %u",
		             gba_log_id(bs.impi, strlen(bs.impi), tag),
		             gba_log_id(bs.btid, strlen(bs.btid), btag), (unsigned)lifetime);
	}

	ev.btid = bs.btid;
	ev.impi = bs.impi;
	ev.created = bs.created;
	ev.expires = bs.expires;
	ev.guss_json = bs.guss_json;
	ev.resp = resp;
	ev.peer = req->peer;
	bsf_event_fire(b, &ev);

	bsf_header(resp, "Content-Type", "application/vnd.3gpp.bsf+xml", &err);
	bsf_header(resp, "Authentication-Info", info, &err);
	bsf_header(resp, "Expires", exp, &err);
	bsf_header(resp, "Cache-Control", "no-store", &err);
	if (err || gba_http_response_body(resp, xml, (size_t)n) != 0 ||
	    gba_http_response_status(resp, 200) != 0)
		goto out;
	status = 0;
out:
	if (guss != NULL)
		gba_free(guss);
	gba_bootstrap_clear(&bs);
	return status;
}

/* The answer to a challenge (nonce not empty). */
static int handle_answer(struct bsf *b, const struct gba_http_request *req,
                         struct gba_http_response *resp, struct ub_req *u)
{
	const struct gba_auth *a = &u->a;
	struct gba_challenge c;
	struct gba_digest_input in;
	struct gba_str v;
	uint8_t auts[GBA_AKA_AUTS_LEN], rand[16];
	char tag[GBA_LOG_ID_LEN];
	int has_auts, ret, status = 400;

	memset(&c, 0, sizeof(c));
	if (gba_auth_check_credentials(a, NULL) != 0)
		goto out;
	/* Everything we challenged with must come back unchanged. */
	if (!gba_str_caseeq(a->f[GBA_AUTH_REALM], gba_str_c(b->conf->fqdn)))
		goto out;
	if (!gba_str_eq(a->f[GBA_AUTH_URI], req->path))
		goto out;
	if (!gba_auth_has(a, GBA_AUTH_QOP) || !str_is(a->f[GBA_AUTH_QOP], "auth-int"))
		goto out;
	v = gba_auth_get(a, GBA_AUTH_ALGORITHM);
	if (!gba_auth_has(a, GBA_AUTH_ALGORITHM) ||
	    !gba_str_caseeq(v, GBA_STR_LIT("AKAv1-MD5")))
		goto out;
	has_auts = gba_auth_has(a, GBA_AUTH_AUTS);
	if (has_auts) {
		v = gba_auth_get(a, GBA_AUTH_AUTS);
		if (gba_base64_decode(v.p, v.len, auts, sizeof(auts)) != (int)GBA_AKA_AUTS_LEN)
			goto out;
	}

	/* Not ours by shape: it cannot be in the store either. */
	status = 403;
	v = gba_auth_get(a, GBA_AUTH_NONCE);
	if (v.len != UB_NONCE_B64)
		goto out;
	memcpy(u->nonce, v.p, v.len);
	u->nonce[v.len] = '\0';
	ret = gba_store_challenge_take(b->store, u->nonce, u->impi, bsf_now(b), &c);
	if (ret == GBA_ENOTFOUND) {
		gba_log_info(MOD, "unknown, used or expired nonce for impi %s",
		             gba_log_id(u->impi, strlen(u->impi), tag));
		audit_deny(b, req->peer, "nonce-unknown", u->impi);
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "store challenge take: %s", gba_strerror(ret));
		status = 500;
		goto out;
	}
	/* From here the nonce is consumed, whatever happens. */

	if (has_auts) {
		/* Synchronisation failure (24.109 4.5, RFC 3310 3.4): the
		 * response is computed over an empty password. */
		digest_input(b, req, a, NULL, 0, &in);
		if (gba_digest_verify(&in, gba_auth_get(a, GBA_AUTH_RESPONSE)) != 0) {
			gba_log_notice(MOD, "resync with a bad response for impi %s",
			               gba_log_id(u->impi, strlen(u->impi), tag));
			audit_deny(b, req->peer, "resync-bad-response", u->impi);
			goto out;
		}
		memcpy(rand, c.av.rand, sizeof(rand));
		status = issue_challenge(b, resp, req->peer, u->impi, rand, auts);
		goto out;
	}

	digest_input(b, req, a, c.av.xres, sizeof(c.av.xres), &in);
	if (gba_digest_verify(&in, gba_auth_get(a, GBA_AUTH_RESPONSE)) == 0) {
		status = bootstrap_ok(b, req, resp, a, &c);
		goto out;
	}
	digest_input(b, req, a, NULL, 0, &in);
	if (gba_digest_verify(&in, gba_auth_get(a, GBA_AUTH_RESPONSE)) == 0) {
		gba_log_notice(MOD, "UE could not authenticate the network, impi %s",
		               gba_log_id(u->impi, strlen(u->impi), tag));   /* 24.109 4.4 */
		audit_deny(b, req->peer, "network-auth-failure", u->impi);
	} else {
		gba_log_notice(MOD, "wrong RES for impi %s",
		               gba_log_id(u->impi, strlen(u->impi), tag));   /* 24.109 4.3 */
		audit_deny(b, req->peer, "wrong-res", u->impi);
	}
out:
	gba_wipe(&c, sizeof(c));
	gba_wipe(auts, sizeof(auts));
	return status;
}

void bsf_ub_handle(void *ctx, const struct gba_http_request *req,
                   struct gba_http_response *resp)
{
	struct bsf *b = ctx;
	struct ub_req *u = NULL;
	const struct gba_str *hdr;
	struct gba_str user, nonce;
	int status = 500, err = 0;

	if (!str_is(req->path, "/")) {
		status = 404;
		goto out;
	}
	if (!str_is(req->method, "GET")) {
		bsf_header(resp, "Allow", "GET", &err);
		status = err ? 500 : 405;
		goto out;
	}
	hdr = gba_http_header_get(req, "authorization");
	if (hdr == NULL || hdr->len > GBA_MAX_AUTH_HEADER_LEN) {
		/* 24.109 4.2: the very first request already names the IMPI */
		status = 400;
		goto out;
	}
	u = gba_calloc(1, sizeof(*u));
	if (u == NULL)
		goto out;
	if (gba_auth_parse(&u->a, GBA_AUTH_CREDENTIALS, hdr->p, hdr->len, NULL) != 0) {
		status = 400;
		goto out;
	}
	user = gba_auth_get(&u->a, GBA_AUTH_USERNAME);
	if (!gba_auth_has(&u->a, GBA_AUTH_USERNAME) || !valid_impi(user)) {
		status = 400;
		goto out;
	}
	memcpy(u->impi, user.p, user.len);
	u->impi[user.len] = '\0';

	nonce = gba_auth_get(&u->a, GBA_AUTH_NONCE);
	if (!gba_auth_has(&u->a, GBA_AUTH_NONCE) || nonce.len == 0) {
		/* Initial request (24.109 A.3 table A.3-1): nonce="" and
		 * response="".  Anything else without a nonce is malformed. */
		if (gba_auth_has(&u->a, GBA_AUTH_RESPONSE) &&
		    gba_auth_get(&u->a, GBA_AUTH_RESPONSE).len != 0) {
			status = 400;
			goto out;
		}
		status = issue_challenge(b, resp, req->peer, u->impi, NULL, NULL);
		goto out;
	}
	status = handle_answer(b, req, resp, u);
out:
	if (status != 0)
		(void)gba_http_response_status(resp, status);
	if (u != NULL) {
		gba_wipe(u, sizeof(*u));
		gba_free(u);
	}
}
