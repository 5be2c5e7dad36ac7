/* gba_digest.c - HTTP Digest response and rspauth computation. */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"

const char *gba_digest_qop_name(enum gba_digest_qop qop)
{
	switch (qop) {
	case GBA_QOP_AUTH:
		return "auth";
	case GBA_QOP_AUTH_INT:
		return "auth-int";
	case GBA_QOP_NONE:
		break;
	}
	return "";
}

int gba_digest_qop_parse(struct gba_str s, enum gba_digest_qop *qop)
{
	if (gba_str_eq(s, GBA_STR_LIT("auth"))) {
		*qop = GBA_QOP_AUTH;
		return 0;
	}
	if (gba_str_eq(s, GBA_STR_LIT("auth-int"))) {
		*qop = GBA_QOP_AUTH_INT;
		return 0;
	}
	return GBA_EUNSUPP;
}

/* MD5 over parts joined by ':', as lower-case hex. */
static int md5_join_hex(const struct gba_str *parts, size_t n, char out[33])
{
	struct gba_hash *h = NULL;
	uint8_t md[GBA_MD5_LEN];
	size_t i;
	int ret;

	ret = gba_hash_new(&h, GBA_HASH_MD5);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (i > 0) {
			ret = gba_hash_update(h, ":", 1);
			if (ret < 0)
				goto out;
		}
		ret = gba_hash_update(h, parts[i].p, parts[i].len);
		if (ret < 0)
			goto out;
	}
	ret = gba_hash_final(h, md);
	h = NULL;
	if (ret < 0)
		goto out;
	gba_hex_encode(md, sizeof(md), out);
out:
	gba_hash_free(h);
	gba_wipe(md, sizeof(md));
	return ret;
}

int gba_digest_response(const struct gba_digest_input *in, char out[33])
{
	char ha1[33], ha2[33], hbody[33];
	struct gba_str p[6];
	size_t n;
	int ret;

	if (in->qop != GBA_QOP_NONE && (in->nc.len == 0 || in->cnonce.len == 0))
		return GBA_EMISSING;

	p[0] = in->username;
	p[1] = in->realm;
	p[2].p = (const char *)in->password;
	p[2].len = in->password_len;
	ret = md5_join_hex(p, 3, ha1);
	if (ret < 0)
		goto out;

	p[0] = in->method;
	p[1] = in->uri;
	n = 2;
	if (in->qop == GBA_QOP_AUTH_INT) {
		p[2].p = (const char *)in->body;
		p[2].len = in->body_len;
		ret = md5_join_hex(&p[2], 1, hbody);
		if (ret < 0)
			goto out;
		p[2].p = hbody;
		p[2].len = 32;
		n = 3;
	}
	ret = md5_join_hex(p, n, ha2);
	if (ret < 0)
		goto out;

	p[0].p = ha1;
	p[0].len = 32;
	p[1] = in->nonce;
	if (in->qop == GBA_QOP_NONE) {
		p[2].p = ha2;
		p[2].len = 32;
		n = 3;
	} else {
		p[2] = in->nc;
		p[3] = in->cnonce;
		p[4] = gba_str_c(gba_digest_qop_name(in->qop));
		p[5].p = ha2;
		p[5].len = 32;
		n = 6;
	}
	ret = md5_join_hex(p, n, out);
out:
	gba_wipe(ha1, sizeof(ha1));
	return ret;
}

int gba_digest_verify(const struct gba_digest_input *in, struct gba_str response)
{
	char expect[33];
	int ret;

	ret = gba_digest_response(in, expect);
	if (ret < 0)
		goto out;
	if (response.len != GBA_DIGEST_HEX_LEN ||
	    !gba_ct_equal(expect, response.p, GBA_DIGEST_HEX_LEN))
		ret = GBA_EAUTH;
out:
	gba_wipe(expect, sizeof(expect));
	return ret;
}
