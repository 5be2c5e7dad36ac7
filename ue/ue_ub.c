/* ue_ub.c - the UE side of Ub, shared by gba-ue and bench_bsf. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "ue_ub.h"

int ue_ub_initial_authz(const char *impi, const char *realm, char *out, size_t size)
{
	struct gba_auth_builder b;
	int ret;

	gba_auth_builder_init(&b, out, size, "Digest");
	gba_auth_add_quoted(&b, "username", gba_str_c(impi));
	gba_auth_add_quoted(&b, "realm", gba_str_c(realm));
	gba_auth_add_quoted(&b, "nonce", GBA_STR_LIT(""));
	gba_auth_add_quoted(&b, "uri", GBA_STR_LIT("/"));
	gba_auth_add_quoted(&b, "response", GBA_STR_LIT(""));
	ret = gba_auth_builder_finish(&b);
	return ret < 0 ? ret : 0;
}

static int qop_has_auth_int(struct gba_str q)
{
	size_t i = 0;

	while (i < q.len) {
		size_t j = i;

		while (j < q.len && q.p[j] != ',')
			j++;
		while (i < j && q.p[i] == ' ')
			i++;
		if (j - i == 8 && memcmp(q.p + i, "auth-int", 8) == 0)
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

int ue_ub_challenge(struct gba_auth *a, const struct gba_http_reply *r,
                    struct ue_ub_challenge *ch)
{
	const struct gba_str *h = gba_http_reply_header(r, "www-authenticate");
	uint8_t nb[48];
	int n, ret;

	memset(ch, 0, sizeof(*ch));
	if (h == NULL)
		return GBA_EMISSING;
	ret = gba_auth_parse(a, GBA_AUTH_CHALLENGE, h->p, h->len, NULL);
	if (ret < 0)
		return ret;
	if (!gba_auth_has(a, GBA_AUTH_ALGORITHM) ||
	    !gba_str_eq(gba_auth_get(a, GBA_AUTH_ALGORITHM), GBA_STR_LIT("AKAv1-MD5")) ||
	    !gba_auth_has(a, GBA_AUTH_QOP) || !qop_has_auth_int(gba_auth_get(a, GBA_AUTH_QOP)) ||
	    !gba_auth_has(a, GBA_AUTH_NONCE) || !gba_auth_has(a, GBA_AUTH_REALM))
		return GBA_EUNSUPP;
	ret = copy_field(a, GBA_AUTH_REALM, ch->realm, sizeof(ch->realm));
	if (ret == 0)
		ret = copy_field(a, GBA_AUTH_NONCE, ch->nonce, sizeof(ch->nonce));
	if (ret == 0 && gba_auth_has(a, GBA_AUTH_OPAQUE))
		ret = copy_field(a, GBA_AUTH_OPAQUE, ch->opaque, sizeof(ch->opaque));
	if (ret < 0)
		return ret;
	n = gba_base64_decode(ch->nonce, strlen(ch->nonce), nb, sizeof(nb));
	if (n < 32)
		return GBA_ESYNTAX;   /* not base64(RAND || AUTN [|| server data]) */
	memcpy(ch->rand, nb, 16);
	memcpy(ch->autn, nb + 16, 16);
	return 0;
}

int ue_ub_answer(const char *impi, const struct ue_ub_challenge *ch, const uint8_t *pw,
                 size_t pwlen, const char *auts_b64, char *out, size_t size)
{
	struct gba_digest_input in;
	struct gba_auth_builder b;
	uint8_t cn[8];
	char cnonce[17], resp[33];
	int ret;

	ret = gba_rnd(GBA_RND_NONCE, cn, sizeof(cn));
	if (ret < 0)
		return ret;
	gba_hex_encode(cn, sizeof(cn), cnonce);
	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(impi);
	in.realm = gba_str_c(ch->realm);
	in.nonce = gba_str_c(ch->nonce);
	in.nc = GBA_STR_LIT("00000001");
	in.cnonce = gba_str_c(cnonce);
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("GET");
	in.uri = GBA_STR_LIT("/");
	in.password = pw;
	in.password_len = pwlen;
	ret = gba_digest_response(&in, resp);
	if (ret < 0)
		return ret;
	gba_auth_builder_init(&b, out, size, "Digest");
	gba_auth_add_quoted(&b, "username", gba_str_c(impi));
	gba_auth_add_quoted(&b, "realm", gba_str_c(ch->realm));
	gba_auth_add_quoted(&b, "nonce", gba_str_c(ch->nonce));
	gba_auth_add_quoted(&b, "uri", GBA_STR_LIT("/"));
	gba_auth_add_token(&b, "qop", GBA_STR_LIT("auth-int"));
	gba_auth_add_token(&b, "nc", GBA_STR_LIT("00000001"));
	gba_auth_add_quoted(&b, "cnonce", gba_str_c(cnonce));
	gba_auth_add_quoted(&b, "response", gba_str_c(resp));
	gba_auth_add_token(&b, "algorithm", GBA_STR_LIT("AKAv1-MD5"));
	if (ch->opaque[0] != '\0')
		gba_auth_add_quoted(&b, "opaque", gba_str_c(ch->opaque));
	if (auts_b64 != NULL)
		gba_auth_add_quoted(&b, "auts", gba_str_c(auts_b64));
	ret = gba_auth_builder_finish(&b);
	return ret < 0 ? ret : 0;
}

int ue_ub_get(struct gba_http_client *c, const char *authz, const char *user_agent,
              struct gba_http_reply **r)
{
	struct gba_http_header h[2];

	h[0].name = GBA_STR_LIT("authorization");
	h[0].value = gba_str_c(authz);
	h[1].name = GBA_STR_LIT("user-agent");
	h[1].value = gba_str_c(user_agent);
	return gba_http_client_request(c, "GET", "/", h, 2, NULL, 0, r);
}

int ue_ub_check_rspauth(struct gba_auth *info, const char *impi,
                        const struct ue_ub_challenge *ch, const struct gba_http_reply *r,
                        const uint8_t res[8])
{
	const struct gba_str *h = gba_http_reply_header(r, "authentication-info");
	struct gba_digest_input in;
	int ret;

	if (h == NULL)
		return GBA_EMISSING;
	ret = gba_auth_parse(info, GBA_AUTH_INFO, h->p, h->len, NULL);
	if (ret < 0)
		return ret;
	if (!gba_auth_has(info, GBA_AUTH_RSPAUTH) || !gba_auth_has(info, GBA_AUTH_CNONCE) ||
	    !gba_auth_has(info, GBA_AUTH_NC))
		return GBA_EMISSING;
	memset(&in, 0, sizeof(in));
	in.username = gba_str_c(impi);
	in.realm = gba_str_c(ch->realm);
	in.nonce = gba_str_c(ch->nonce);
	in.nc = gba_auth_get(info, GBA_AUTH_NC);
	in.cnonce = gba_auth_get(info, GBA_AUTH_CNONCE);
	in.qop = GBA_QOP_AUTH_INT;
	in.method = GBA_STR_LIT("");
	in.uri = GBA_STR_LIT("/");
	in.password = res;
	in.password_len = 8;
	in.body = r->body;
	in.body_len = r->body_len;
	return gba_digest_verify(&in, gba_auth_get(info, GBA_AUTH_RSPAUTH));
}

/* Text between <tag> and </tag>: no markup, entities or controls. */
static int xml_text(struct gba_str body, const char *tag, char *out, size_t size)
{
	char open_tag[32], close_tag[32];
	size_t ol, cl, i, j, n;

	ol = (size_t)snprintf(open_tag, sizeof(open_tag), "<%s>", tag);
	cl = (size_t)snprintf(close_tag, sizeof(close_tag), "</%s>", tag);
	for (i = 0; i + ol <= body.len; i++)
		if (memcmp(body.p + i, open_tag, ol) == 0)
			break;
	if (i + ol > body.len)
		return GBA_EMISSING;
	i += ol;
	for (j = i; j + cl <= body.len; j++)
		if (memcmp(body.p + j, close_tag, cl) == 0)
			break;
	if (j + cl > body.len)
		return GBA_ESYNTAX;
	n = j - i;
	if (n == 0 || n >= size)
		return GBA_ETOOBIG;
	for (j = 0; j < n; j++)
		if (body.p[i + j] == '<' || body.p[i + j] == '&' ||
		    (unsigned char)body.p[i + j] < 0x20)
			return GBA_ESYNTAX;
	memcpy(out, body.p + i, n);
	out[n] = '\0';
	return 0;
}

int ue_ub_bootstrapping_info(const struct gba_http_reply *r, char *btid, size_t btid_size,
                             char *lifetime, size_t lifetime_size)
{
	static const char ct[] = "application/vnd.3gpp.bsf+xml";
	const struct gba_str *h = gba_http_reply_header(r, "content-type");
	struct gba_str body = { (const char *)r->body, r->body_len };
	int ret = 0;

	if (h == NULL || h->len < sizeof(ct) - 1 || memcmp(h->p, ct, sizeof(ct) - 1) != 0)
		return GBA_EUNSUPP;
	if (btid != NULL)
		ret = xml_text(body, "btid", btid, btid_size);
	if (ret == 0 && lifetime != NULL)
		ret = xml_text(body, "lifetime", lifetime, lifetime_size);
	return ret;
}
