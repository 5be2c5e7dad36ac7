/* check_http_auth.c - the Digest header parser and builder. */
#include "config.h"

#include <stdio.h>

#include "gba_err.h"
#include "gba_http_auth.h"
#include "testutil.h"

static struct gba_auth a;  /* large: keep it off the test's stack */

static int parse(enum gba_auth_kind kind, const char *s, size_t *off)
{
	return gba_auth_parse(&a, kind, s, strlen(s), off);
}

#define ASSERT_FIELD(f, want)                                          \
	do {                                                           \
		struct gba_str v_ = gba_auth_get(&a, (f));             \
		ck_assert(gba_auth_has(&a, (f)));                      \
		ck_assert_uint_eq(v_.len, strlen(want));               \
		ck_assert_mem_eq(v_.p, (want), v_.len);                \
	} while (0)

/* The Ub challenge as TS 24.109 A.4 shows it. */
START_TEST(parses_ub_challenge)
{
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE,
	        "Digest realm=\"bsf.mnc001.mcc001.pub.3gppnetwork.org\", "
	        "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", "
	        "algorithm=AKAv1-MD5, qop=\"auth-int\", opaque=\"5ccc069c\"", NULL), 0);
	ASSERT_FIELD(GBA_AUTH_REALM, "bsf.mnc001.mcc001.pub.3gppnetwork.org");
	ASSERT_FIELD(GBA_AUTH_NONCE, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
	ASSERT_FIELD(GBA_AUTH_ALGORITHM, "AKAv1-MD5");
	ASSERT_FIELD(GBA_AUTH_QOP, "auth-int");
	ASSERT_FIELD(GBA_AUTH_OPAQUE, "5ccc069c");
	ck_assert(!gba_auth_has(&a, GBA_AUTH_USERNAME));
	ck_assert(a.quoted & (1u << GBA_AUTH_QOP));
	ck_assert(!(a.quoted & (1u << GBA_AUTH_ALGORITHM)));
}
END_TEST

START_TEST(parses_credentials_with_auts)
{
	enum gba_auth_field missing;

	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "DIGEST username=\"001010123456789@ims.mnc001.mcc001.3gppnetwork.org\","
	        "realm=\"bsf.example\",nonce=\"abc\", uri=\"/\",qop=auth-int,nc=00000001,"
	        "cnonce=\"0a4f113b\",response=\"9a8bad61a1e6d2b158374c79d9e198ed\","
	        "auts=\"RR6L7KQagBJeyoiEtWo=\", Algorithm=AKAv1-MD5", NULL), 0);
	ASSERT_FIELD(GBA_AUTH_AUTS, "RR6L7KQagBJeyoiEtWo=");
	ASSERT_FIELD(GBA_AUTH_ALGORITHM, "AKAv1-MD5");  /* names are case-insensitive */
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), 0);
}
END_TEST

START_TEST(unescapes_quoted_pairs)
{
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE,
	        "Digest realm=\"a\\\"b\\\\c\", nonce=\"\"", NULL), 0);
	ASSERT_FIELD(GBA_AUTH_REALM, "a\"b\\c");
	ASSERT_FIELD(GBA_AUTH_NONCE, "");
}
END_TEST

START_TEST(parses_authentication_info)
{
	ck_assert_int_eq(parse(GBA_AUTH_INFO,
	        "qop=auth-int, rspauth=\"6629fae49393a05397450978507c4ef1\", "
	        "cnonce=\"0a4f113b\", nc=00000001", NULL), 0);
	ASSERT_FIELD(GBA_AUTH_RSPAUTH, "6629fae49393a05397450978507c4ef1");
	ASSERT_FIELD(GBA_AUTH_NC, "00000001");
}
END_TEST

START_TEST(skips_unknown_and_empty_elements)
{
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE,
	        "Digest ,realm=\"r\",, charset=UTF-8 , userhash=false,nonce=\"n\"", NULL), 0);
	ASSERT_FIELD(GBA_AUTH_REALM, "r");
	ASSERT_FIELD(GBA_AUTH_NONCE, "n");
}
END_TEST

struct bad_case {
	enum gba_auth_kind kind;
	const char *hdr;
	int err;
	size_t off;
};

static const struct bad_case bad[] = {
	{ GBA_AUTH_CHALLENGE, "Basic realm=\"x\"", GBA_EUNSUPP, 0 },
	{ GBA_AUTH_CHALLENGE, "Digest", GBA_ESYNTAX, 6 },
	{ GBA_AUTH_CHALLENGE, "Digest ", GBA_ESYNTAX, 7 },
	{ GBA_AUTH_CHALLENGE, "Digestrealm=\"x\"", GBA_EUNSUPP, 0 },
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"x", GBA_ESYNTAX, 15 },          /* unterminated */
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"x\\", GBA_ESYNTAX, 16 },        /* dangling backslash */
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"a\001b\"", GBA_ESYNTAX, 15 },   /* control char */
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"a\\\nb\"", GBA_ESYNTAX, 16 },   /* escaped LF */
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"a\", realm=\"b\"", GBA_EDUP, 18 },
	{ GBA_AUTH_CHALLENGE, "Digest REALM=\"a\", realm=\"b\"", GBA_EDUP, 18 },
	{ GBA_AUTH_CHALLENGE, "Digest realm=", GBA_ESYNTAX, 13 },
	{ GBA_AUTH_CHALLENGE, "Digest realm", GBA_ESYNTAX, 12 },
	{ GBA_AUTH_CHALLENGE, "Digest =x", GBA_ESYNTAX, 7 },
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"a\" nonce=\"b\"", GBA_ESYNTAX, 17 },  /* no comma */
	{ GBA_AUTH_CHALLENGE, "Digest realm=a b", GBA_ESYNTAX, 15 },
	{ GBA_AUTH_CHALLENGE, "Digest realm=\"a\";", GBA_ESYNTAX, 16 },
};

START_TEST(rejects_malformed)
{
	const struct bad_case *t = &bad[_i];
	size_t off = 999;

	ck_assert_msg(parse(t->kind, t->hdr, &off) == t->err, "case %d: %s", _i, t->hdr);
	if (t->err == GBA_ESYNTAX || t->err == GBA_EDUP || t->err == GBA_EUNSUPP)
		ck_assert_msg(off == t->off, "case %d: offset %zu, want %zu", _i, off, t->off);
}
END_TEST

START_TEST(enforces_size_limits)
{
	static char big[GBA_MAX_AUTH_HEADER_LEN + 64];
	size_t n, i;

	/* one value over the per-value cap */
	n = (size_t)snprintf(big, sizeof(big), "Digest nonce=\"");
	for (i = 0; i < GBA_MAX_AUTH_VALUE_LEN + 1; i++)
		big[n++] = 'a';
	big[n++] = '"';
	big[n] = '\0';
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE, big, NULL), GBA_ETOOBIG);
	/* exactly the cap is fine */
	n = (size_t)snprintf(big, sizeof(big), "Digest nonce=");
	for (i = 0; i < GBA_MAX_AUTH_VALUE_LEN; i++)
		big[n++] = 'a';
	big[n] = '\0';
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE, big, NULL), 0);
	/* the header as a whole */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(gba_auth_parse(&a, GBA_AUTH_CHALLENGE, big, GBA_MAX_AUTH_HEADER_LEN + 1,
	                                NULL), GBA_ETOOBIG);
	/* too many parameters, even unknown ones */
	n = (size_t)snprintf(big, sizeof(big), "Digest ");
	for (i = 0; i <= GBA_MAX_AUTH_PARAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x%zu=1,", i);
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE, big, NULL), GBA_ETOOBIG);
}
END_TEST

START_TEST(credentials_need_every_field)
{
	enum gba_auth_field missing;

	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "Digest username=\"u\", realm=\"r\", nonce=\"\", uri=\"/\", response=\"\"", NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), GBA_EMISSING);
	ck_assert_int_eq(missing, GBA_AUTH_NONCE);
	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\", "
	        "response=\"6629fae49393a05397450978507c4ef\"", NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), GBA_ESYNTAX);
	ck_assert_int_eq(missing, GBA_AUTH_RESPONSE);
	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\", qop=auth, "
	        "response=\"6629fae49393a05397450978507c4ef1\", nc=00000001", NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), GBA_EMISSING);
	ck_assert_int_eq(missing, GBA_AUTH_CNONCE);
	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\", qop=auth, cnonce=\"c\", "
	        "response=\"6629fae49393a05397450978507c4ef1\", nc=0000001", NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), GBA_ESYNTAX);
	ck_assert_int_eq(missing, GBA_AUTH_NC);
	ck_assert_int_eq(parse(GBA_AUTH_CREDENTIALS,
	        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\", qop=auth-conf, cnonce=\"c\", "
	        "response=\"6629fae49393a05397450978507c4ef1\", nc=00000001", NULL), 0);
	ck_assert_int_eq(gba_auth_check_credentials(&a, &missing), GBA_ESYNTAX);
	ck_assert_int_eq(missing, GBA_AUTH_QOP);
}
END_TEST

START_TEST(builder_roundtrips_through_parser)
{
	char buf[256];
	struct gba_auth_builder b;
	int n;

	gba_auth_builder_init(&b, buf, sizeof(buf), "Digest");
	gba_auth_add_quoted(&b, "realm", GBA_STR_LIT("3GPP-bootstrapping@naf.example.org"));
	gba_auth_add_quoted(&b, "nonce", GBA_STR_LIT("q\"uote\\d"));
	gba_auth_add_token(&b, "algorithm", GBA_STR_LIT("MD5"));
	gba_auth_add_quoted(&b, "qop", GBA_STR_LIT("auth-int"));
	n = gba_auth_builder_finish(&b);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, "Digest realm=\"3GPP-bootstrapping@naf.example.org\", "
	                      "nonce=\"q\\\"uote\\\\d\", algorithm=MD5, qop=\"auth-int\"");
	ck_assert_int_eq(parse(GBA_AUTH_CHALLENGE, buf, NULL), 0);
	ASSERT_FIELD(GBA_AUTH_NONCE, "q\"uote\\d");
	/* control characters and non-tokens are refused, and the error sticks */
	gba_auth_builder_init(&b, buf, sizeof(buf), NULL);
	gba_auth_add_quoted(&b, "realm", GBA_STR_LIT("a\r\nSet-Cookie: x"));
	gba_auth_add_token(&b, "nc", GBA_STR_LIT("00000001"));
	ck_assert_int_eq(gba_auth_builder_finish(&b), GBA_EINVAL);
	gba_auth_builder_init(&b, buf, sizeof(buf), NULL);
	gba_auth_add_token(&b, "algorithm", GBA_STR_LIT("MD5 x"));
	ck_assert_int_eq(gba_auth_builder_finish(&b), GBA_EINVAL);
	/* overflow is an error, never a truncated header */
	gba_auth_builder_init(&b, buf, 16, "Digest");
	gba_auth_add_quoted(&b, "realm", GBA_STR_LIT("0123456789"));
	ck_assert_int_eq(gba_auth_builder_finish(&b), GBA_ETOOBIG);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("http_auth");
	TCase *tc = tcase_create("parser");

	tcase_add_test(tc, parses_ub_challenge);
	tcase_add_test(tc, parses_credentials_with_auts);
	tcase_add_test(tc, unescapes_quoted_pairs);
	tcase_add_test(tc, parses_authentication_info);
	tcase_add_test(tc, skips_unknown_and_empty_elements);
	tcase_add_loop_test(tc, rejects_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, enforces_size_limits);
	tcase_add_test(tc, credentials_need_every_field);
	tcase_add_test(tc, builder_roundtrips_through_parser);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(auth_suite());
}
