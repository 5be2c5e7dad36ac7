/* ue_ua.c - the UE side of Ua HTTP Digest (see ue_ua.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "ue_ua.h"

#define UE_UA_MAX_HEADERS 8u

static int qop_offers_auth_int(struct gba_str q)
{
	size_t i = 0;

	while (i < q.len) {
		size_t j = i, e;

		while (j < q.len && q.p[j] != ',')
			j++;
		while (i < j && (q.p[i] == ' ' || q.p[i] == '\t'))
			i++;
		e = j;
		while (e > i && (q.p[e - 1] == ' ' || q.p[e - 1] == '\t'))
			e--;
		if (e - i == 8 && memcmp(q.p + i, "auth-int", 8) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

static int copy_field(const struct gba_auth *a, enum gba_auth_field f, char *out, size_t size)
{
	struct gba_str v = gba_auth_get(a, f);

	if (v.len >= size)
		return GBA_ETOOBIG;
	if (v.len > 0)
		memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return 0;
}

int ue_ua_parse_challenge(struct gba_auth *a, const char *hdr, size_t len,
                          struct ue_ua_challenge *ch)
{
	struct gba_str realm;
	int ret;

	memset(ch, 0, sizeof(*ch));
	ret = gba_auth_parse(a, GBA_AUTH_CHALLENGE, hdr, len, NULL);
	if (ret < 0)
		return ret;
	if (gba_auth_has(a, GBA_AUTH_ALGORITHM) &&
	    !gba_str_caseeq(gba_auth_get(a, GBA_AUTH_ALGORITHM), GBA_STR_LIT("MD5")))
		return GBA_EUNSUPP;
	if (!gba_auth_has(a, GBA_AUTH_QOP) || !qop_offers_auth_int(gba_auth_get(a, GBA_AUTH_QOP)))
		return GBA_EUNSUPP;
	if (!gba_auth_has(a, GBA_AUTH_NONCE) || !gba_auth_has(a, GBA_AUTH_REALM))
		return GBA_EMISSING;
	realm = gba_auth_get(a, GBA_AUTH_REALM);
	if (realm.len <= sizeof(UE_UA_REALM_PREFIX) - 1 ||
	    memcmp(realm.p, UE_UA_REALM_PREFIX, sizeof(UE_UA_REALM_PREFIX) - 1) != 0)
		return GBA_EUNSUPP;   /* not a GBA realm: no Ks_NAF to answer with */
	ret = copy_field(a, GBA_AUTH_REALM, ch->realm, sizeof(ch->realm));
	if (ret == 0)
		ret = copy_field(a, GBA_AUTH_NONCE, ch->nonce, sizeof(ch->nonce));
	if (ret == 0 && gba_auth_has(a, GBA_AUTH_OPAQUE))
		ret = copy_field(a, GBA_AUTH_OPAQUE, ch->opaque, sizeof(ch->opaque));
	return ret;
}

static void digest_input(struct gba_digest_input *in, const struct ue_ua_challenge *ch,
                         const char *btid, const char *password, const char *method,
                         const char *uri, const void *body, size_t body_len, const char *nc,
                         const char *cnonce)
{
	memset(in, 0, sizeof(*in));
	in->username = gba_str_c(btid);
	in->realm = gba_str_c(ch->realm);
	in->nonce = gba_str_c(ch->nonce);
	in->nc = gba_str_c(nc);
	in->cnonce = gba_str_c(cnonce);
	in->qop = GBA_QOP_AUTH_INT;
	in->method = gba_str_c(method);
	in->uri = gba_str_c(uri);
	in->password = (const uint8_t *)password;
	in->password_len = strlen(password);
	in->body = body;
	in->body_len = body_len;
}

int ue_ua_authorization(const struct ue_ua_challenge *ch, const char *btid,
                        const char *password, const char *method, const char *uri,
                        const void *body, size_t body_len, const char *nc, const char *cnonce,
                        char *out, size_t size)
{
	struct gba_digest_input in;
	struct gba_auth_builder b;
	char resp[GBA_DIGEST_HEX_LEN + 1];
	int ret;

	digest_input(&in, ch, btid, password, method, uri, body, body_len, nc, cnonce);
	ret = gba_digest_response(&in, resp);
	if (ret < 0)
		return ret;
	gba_auth_builder_init(&b, out, size, "Digest");
	gba_auth_add_quoted(&b, "username", gba_str_c(btid));
	gba_auth_add_quoted(&b, "realm", gba_str_c(ch->realm));
	gba_auth_add_quoted(&b, "nonce", gba_str_c(ch->nonce));
	gba_auth_add_quoted(&b, "uri", gba_str_c(uri));
	gba_auth_add_token(&b, "qop", GBA_STR_LIT("auth-int"));
	gba_auth_add_token(&b, "nc", gba_str_c(nc));
	gba_auth_add_quoted(&b, "cnonce", gba_str_c(cnonce));
	gba_auth_add_quoted(&b, "response", gba_str_c(resp));
	gba_auth_add_token(&b, "algorithm", GBA_STR_LIT("MD5"));
	if (ch->opaque[0] != '\0')
		gba_auth_add_quoted(&b, "opaque", gba_str_c(ch->opaque));
	ret = gba_auth_builder_finish(&b);
	return ret < 0 ? ret : 0;
}

int ue_ua_check_info(struct gba_auth *a, const struct ue_ua_challenge *ch, const char *btid,
                     const char *password, const char *uri, const char *nc, const char *cnonce,
                     const char *hdr, size_t len, const void *body, size_t body_len)
{
	struct gba_digest_input in;
	int ret;

	ret = gba_auth_parse(a, GBA_AUTH_INFO, hdr, len, NULL);
	if (ret < 0)
		return ret;
	if (!gba_auth_has(a, GBA_AUTH_RSPAUTH))
		return GBA_EMISSING;
	if (gba_auth_has(a, GBA_AUTH_QOP) &&
	    !gba_str_eq(gba_auth_get(a, GBA_AUTH_QOP), GBA_STR_LIT("auth-int")))
		return GBA_EAUTH;   /* the body would not be protected */
	if ((gba_auth_has(a, GBA_AUTH_CNONCE) &&
	     !gba_str_eq(gba_auth_get(a, GBA_AUTH_CNONCE), gba_str_c(cnonce))) ||
	    (gba_auth_has(a, GBA_AUTH_NC) && !gba_str_eq(gba_auth_get(a, GBA_AUTH_NC), gba_str_c(nc))))
		return GBA_EAUTH;
	digest_input(&in, ch, btid, password, "", uri, body, body_len, nc, cnonce);
	return gba_digest_verify(&in, gba_auth_get(a, GBA_AUTH_RSPAUTH));
}

int ue_ua_init(struct ue_ua *ua, struct gba_http_client *http, const char *btid,
               const uint8_t ks_naf[32], const char *user_agent)
{
	int n;

	memset(ua, 0, sizeof(*ua));
	if (strlen(btid) > GBA_MAX_BTID_LEN)
		return GBA_ETOOBIG;
	memcpy(ua->btid, btid, strlen(btid) + 1);
	n = gba_base64_encode(ks_naf, 32, ua->password, sizeof(ua->password));
	if (n < 0)
		return n;
	ua->http = http;
	ua->user_agent = user_agent;
	return 0;
}

void ue_ua_clear(struct ue_ua *ua)
{
	gba_wipe(ua->password, sizeof(ua->password));
	gba_wipe(&ua->scratch, sizeof(ua->scratch));
	ua->have_challenge = 0;
}

int ue_ua_request(struct ue_ua *ua, const char *method, const char *path,
                  const struct gba_http_header *headers, size_t nheaders, const void *body,
                  size_t body_len, struct gba_http_reply **reply)
{
	struct gba_http_header h[UE_UA_MAX_HEADERS];
	struct gba_http_reply *r = NULL;
	char authz[GBA_MAX_AUTH_HEADER_LEN], nc[9] = "", cnonce[33] = "";
	uint8_t cn[16];
	const struct gba_str *hv;
	size_t nh, round;
	int ret = 0, sent_creds, fresh = 0;

	*reply = NULL;
	if (nheaders + 2 > UE_UA_MAX_HEADERS)
		return GBA_EINVAL;
	for (round = 0; round < 3; round++) {
		if (nheaders > 0)
			memcpy(h, headers, nheaders * sizeof(*h));
		nh = nheaders;
		if (ua->user_agent != NULL) {
			h[nh].name = GBA_STR_LIT("user-agent");
			h[nh].value = gba_str_c(ua->user_agent);
			nh++;
		}
		sent_creds = ua->have_challenge;
		if (sent_creds) {
			ua->nc++;
			snprintf(nc, sizeof(nc), "%08x", ua->nc);
			ret = gba_rnd(GBA_RND_NONCE, cn, sizeof(cn));
			if (ret < 0)
				goto out;
			gba_hex_encode(cn, sizeof(cn), cnonce);
			ret = ue_ua_authorization(&ua->ch, ua->btid, ua->password, method, path, body,
			                          body_len, nc, cnonce, authz, sizeof(authz));
			if (ret < 0)
				goto out;
			h[nh].name = GBA_STR_LIT("authorization");
			h[nh].value = gba_str_c(authz);
			nh++;
		}
		gba_http_reply_free(r);
		r = NULL;
		ret = gba_http_client_request(ua->http, method, path, h, nh, body, body_len, &r);
		if (ret < 0)
			goto out;
		if (ua->trace)
			fprintf(stderr, "> %s %s%s\n< %d\n", method, path,
			        sent_creds ? " (Digest)" : "", r->status);
		if (r->status != 401) {
			hv = gba_http_reply_header(r, "authentication-info");
			if (!sent_creds) {
				/* answered without asking for credentials */
				if (hv != NULL || (r->status >= 200 && r->status < 300)) {
					ret = GBA_EAUTH;
					goto out;
				}
				break;
			}
			if (hv == NULL) {
				if (r->status >= 200 && r->status < 300) {
					ret = GBA_EAUTH;   /* unprotected answer */
					goto out;
				}
				break;
			}
			ret = ue_ua_check_info(&ua->scratch, &ua->ch, ua->btid, ua->password, path, nc,
			                       cnonce, hv->p, hv->len, r->body, r->body_len);
			if (ret < 0) {
				ret = GBA_EAUTH;
				goto out;
			}
			break;
		}
		/* 401 */
		if (sent_creds && fresh) {
			ret = GBA_EAUTH;     /* refused on a fresh challenge */
			goto out;
		}
		hv = gba_http_reply_header(r, "www-authenticate");
		if (hv == NULL) {
			ret = GBA_EMISSING;
			goto out;
		}
		ret = ue_ua_parse_challenge(&ua->scratch, hv->p, hv->len, &ua->ch);
		if (ret < 0) {
			ua->have_challenge = 0;
			goto out;
		}
		ua->have_challenge = 1;
		ua->nc = 0;
		fresh = 1;
	}
	if (round == 3) {
		ret = GBA_EAUTH;
		goto out;
	}
	*reply = r;
	r = NULL;
out:
	gba_wipe(authz, sizeof(authz));
	gba_http_reply_free(r);
	return ret;
}

int ue_ua_prepare(struct ue_ua *ua, const char *method, const char *path, char *authz,
                  size_t size)
{
	struct gba_http_header h[1];
	struct gba_http_reply *r = NULL;
	const struct gba_str *hv;
	char nc[9], cnonce[33];
	uint8_t cn[16];
	size_t nh = 0;
	int ret;

	if (!ua->have_challenge) {
		if (ua->user_agent != NULL) {
			h[0].name = GBA_STR_LIT("user-agent");
			h[0].value = gba_str_c(ua->user_agent);
			nh = 1;
		}
		ret = gba_http_client_request(ua->http, method, path, h, nh, NULL, 0, &r);
		if (ret < 0)
			return ret;
		if (ua->trace)
			fprintf(stderr, "> %s %s\n< %d\n", method, path, r->status);
		hv = r->status == 401 ? gba_http_reply_header(r, "www-authenticate") : NULL;
		ret = hv != NULL ? ue_ua_parse_challenge(&ua->scratch, hv->p, hv->len, &ua->ch)
		                 : GBA_EAUTH;
		gba_http_reply_free(r);
		if (ret < 0)
			return ret;
		ua->have_challenge = 1;
		ua->nc = 0;
	}
	ua->nc++;
	snprintf(nc, sizeof(nc), "%08x", ua->nc);
	ret = gba_rnd(GBA_RND_NONCE, cn, sizeof(cn));
	if (ret < 0)
		return ret;
	gba_hex_encode(cn, sizeof(cn), cnonce);
	return ue_ua_authorization(&ua->ch, ua->btid, ua->password, method, path, NULL, 0, nc,
	                           cnonce, authz, size);
}
