/* check_zn.c - the Nbsp_GBA JSON codec (lib/gba_zn) and gba_time. */
#include "config.h"

#include <stdio.h>

#include "gba_err.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_zn.h"
#include "testutil.h"

static const char guss[] =
	"{\"bsfInfo\":{\"lifeTime\":3600},\"ussList\":["
	"{\"gsId\":1,\"gsType\":1,\"ueIds\":[\"sip:alice@example.org\"],\"flags\":[1,2],"
	"\"nafGroup\":\"pki\"},"
	"{\"gsId\":4,\"gsType\":4,\"ueIds\":[\"sip:alice@example.org\",\"tel:+15551234\"]}]}";

static int parse_req(const char *s, struct gba_zn_request *r)
{
	return gba_zn_request_parse((const uint8_t *)s, strlen(s), r);
}

START_TEST(parses_full_request)
{
	struct gba_zn_request r;
	static const uint8_t ua[5] = { 1, 0, 0, 0, 2 };

	ck_assert_int_eq(parse_req("{\"btId\":\"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example\","
	                           "\"nafId\":{\"nafFqdn\":\"naf.example.org\","
	                           "\"uaSecProtId\":\"010000000A\",\"x\":1},"
	                           "\"gsIds\":[1,4294967295],\"gbaUAware\":true,"
	                           "\"future\":{\"a\":[1]}}", &r), 0);
	ck_assert_str_eq(r.btid, "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example");
	ck_assert_str_eq(r.naf_fqdn, "naf.example.org");
	ck_assert_uint_eq(r.ua_id[4], 0x0a);
	ck_assert_mem_eq(r.ua_id, ua, 4);
	ck_assert_uint_eq(r.ngsids, 2);
	ck_assert_uint_eq(r.gsids[1], 4294967295u);
	ck_assert_int_eq(r.gba_u_aware, 1);
}
END_TEST

START_TEST(rejects_bad_requests)
{
	struct gba_zn_request r;
	char big[GBA_ZN_MAX_BODY + 64];
	char many[1024];
	size_t i, n;

#define NAF "\"nafId\":{\"nafFqdn\":\"naf.example.org\",\"uaSecProtId\":\"0100000000\"}"
	ck_assert_int_eq(parse_req("{" NAF "}", &r), GBA_EMISSING);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"}", &r), GBA_EMISSING);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\"}}", &r),
	                 GBA_EMISSING);
	ck_assert_int_eq(parse_req("{\"btId\":1," NAF "}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"\"," NAF "}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"a b\"," NAF "}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":[]}", &r), GBA_EINVAL);
	/* uaSecProtId: exactly 10 hex digits */
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\","
	                           "\"uaSecProtId\":\"01000000\"}}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\","
	                           "\"uaSecProtId\":\"010000000000\"}}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\","
	                           "\"uaSecProtId\":\"01000000zz\"}}", &r), GBA_EINVAL);
	/* FQDN syntax */
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a_b.c\","
	                           "\"uaSecProtId\":\"0100000000\"}}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b.\","
	                           "\"uaSecProtId\":\"0100000000\"}}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"-a.b\","
	                           "\"uaSecProtId\":\"0100000000\"}}", &r), GBA_EINVAL);
	/* duplicate keys, trailing garbage, NUL in a string, not an object */
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"btId\":\"c@x\"," NAF "}", &r),
	                 GBA_ESYNTAX);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\","
	                           "\"nafFqdn\":\"c.d\",\"uaSecProtId\":\"0100000000\"}}", &r),
	                 GBA_ESYNTAX);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF "} x", &r), GBA_ESYNTAX);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF "}{}", &r), GBA_ESYNTAX);
	ck_assert_int_eq(parse_req("{\"btId\":\"b\\u0000@x\"," NAF "}", &r), GBA_ESYNTAX);
	ck_assert_int_eq(parse_req("[]", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("", &r), GBA_ESYNTAX);
	/* gsIds */
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gsIds\":[]}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gsIds\":[-1]}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gsIds\":[4294967296]}", &r),
	                 GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gsIds\":[1.0]}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gsIds\":1}", &r), GBA_EINVAL);
	ck_assert_int_eq(parse_req("{\"btId\":\"b@x\"," NAF ",\"gbaUAware\":1}", &r), GBA_EINVAL);
	n = (size_t)snprintf(many, sizeof(many), "{\"btId\":\"b@x\"," NAF ",\"gsIds\":[");
	for (i = 0; i <= GBA_ZN_MAX_GSIDS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%zu", i ? "," : "", i);
	snprintf(many + n, sizeof(many) - n, "]}");
	ck_assert_int_eq(parse_req(many, &r), GBA_ETOOBIG);
	/* over-long values, oversize body */
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"btId\":\"", 9);
	memcpy(big + 9 + 256, "\"," NAF "}", sizeof("\"," NAF "}"));
	ck_assert_int_eq(parse_req(big, &r), GBA_ETOOBIG);
	memset(big, ' ', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	ck_assert_int_eq(parse_req(big, &r), GBA_ETOOBIG);
#undef NAF
}
END_TEST

START_TEST(request_round_trip)
{
	struct gba_zn_request a, b;
	char *out = NULL;
	size_t len;

	memset(&a, 0, sizeof(a));
	memcpy(a.btid, "X@bsf", 6);
	memcpy(a.naf_fqdn, "Naf.Example.org", 16);
	a.ua_id[0] = 1;
	a.gsids[0] = 1;
	a.gsids[1] = 4;
	a.ngsids = 2;
	a.gba_u_aware = 1;
	ck_assert_int_eq(gba_zn_request_build(&a, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert_int_eq(gba_zn_request_parse((const uint8_t *)out, len, &b), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	gba_zn_free(out, len);
}
END_TEST

START_TEST(response_filters_uss_and_round_trips)
{
	struct gba_zn_info info;
	struct gba_zn_result r;
	uint32_t only4[1] = { 4 }, none[1] = { 99 };
	char *out = NULL;
	size_t len, i;

	memset(&info, 0, sizeof(info));
	for (i = 0; i < sizeof(info.me_key); i++)
		info.me_key[i] = (uint8_t)(0xa0 + i);
	info.created = 1700000000;
	info.key_expiry = 1700003600;
	info.impi = "impi@example";
	ck_assert_int_eq(gba_zn_response_build(&info, guss, NULL, 0, &out, &len), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"meKeyMaterial\":\"a0a1a2a3"));
	ck_assert_ptr_nonnull(strstr(out, "\"keyExpiryTime\":\"2023-11-14T23:13:20Z\""));
	ck_assert_ptr_nonnull(strstr(out, "\"gbaType\":\"3G_GBA\""));
	ck_assert_ptr_nonnull(strstr(out, "{\"uss\":{\"gsId\":1,\"gsType\":1,\"ueIds\":"
	                                  "[{\"ueId\":\"sip:alice@example.org\"}],"
	                                  "\"nafGroup\":\"pki\",\"flags\":[{\"flag\":1},"
	                                  "{\"flag\":2}]}}"));
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)out, len, &r), 0);
	ck_assert_mem_eq(r.me_key, info.me_key, sizeof(info.me_key));
	ck_assert_int_eq(r.created, info.created);
	ck_assert_int_eq(r.key_expiry, info.key_expiry);
	ck_assert_str_eq(r.impi, "impi@example");
	ck_assert_uint_eq(r.nuss, 2);
	ck_assert_uint_eq(r.uss_gsids[0], 1);
	ck_assert_uint_eq(r.uss_gsids[1], 4);
	gba_zn_result_clear(&r);
	gba_zn_free(out, len);

	info.impi = NULL;
	ck_assert_int_eq(gba_zn_response_build(&info, guss, only4, 1, &out, &len), 0);
	ck_assert_ptr_null(strstr(out, "impi"));
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)out, len, &r), 0);
	ck_assert_uint_eq(r.nuss, 1);
	ck_assert_uint_eq(r.uss_gsids[0], 4);
	ck_assert_str_eq(r.impi, "");
	gba_zn_result_clear(&r);
	gba_zn_free(out, len);

	/* nothing matches: ussList is left out (minItems 1) */
	ck_assert_int_eq(gba_zn_response_build(&info, guss, none, 1, &out, &len), 0);
	ck_assert_ptr_null(strstr(out, "ussList"));
	gba_zn_free(out, len);
	ck_assert_int_eq(gba_zn_response_build(&info, "", NULL, 0, &out, &len), 0);
	ck_assert_ptr_null(strstr(out, "ussList"));
	gba_zn_free(out, len);
}
END_TEST

START_TEST(rejects_bad_guss_and_responses)
{
	struct gba_zn_info info;
	struct gba_zn_result r;
	uint32_t life;
	char *out = NULL;
	size_t len;

	memset(&info, 0, sizeof(info));
	info.created = 1;
	info.key_expiry = 2;
	ck_assert_int_eq(gba_zn_guss_check(guss, strlen(guss), &life), 0);
	ck_assert_uint_eq(life, 3600);
	ck_assert_int_eq(gba_zn_guss_check("", 0, &life), 0);
	ck_assert_uint_eq(life, 0);
#define BAD(s) ck_assert_int_eq(gba_zn_guss_check((s), strlen(s), &life), GBA_EINVAL)
	BAD("{\"bsfInfo\":{\"lifeTime\":\"1\"}}");
	BAD("{\"bsfInfo\":[]}");
	BAD("{\"ussList\":{}}");
	BAD("{\"ussList\":[{\"gsId\":1,\"gsType\":1}]}");
	BAD("{\"ussList\":[{\"gsId\":1,\"gsType\":1,\"ueIds\":[]}]}");
	BAD("{\"ussList\":[{\"gsId\":1,\"gsType\":1,\"ueIds\":[1]}]}");
	BAD("{\"ussList\":[{\"gsId\":1,\"gsType\":1,\"ueIds\":[\"a\"],\"flags\":[\"x\"]}]}");
	BAD("{\"ussList\":[{\"gsId\":-1,\"gsType\":1,\"ueIds\":[\"a\"]}]}");
	BAD("{\"a\":1,\"a\":2}");
#undef BAD
	ck_assert_int_eq(gba_zn_response_build(&info, "{\"ussList\":7}", NULL, 0, &out, &len),
	                 GBA_EINVAL);
	ck_assert_ptr_null(out);

#define RBAD(s) ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)(s), strlen(s), &r), \
	                         GBA_EINVAL)
	RBAD("{\"meKeyMaterial\":\"00\"}");
	RBAD("{\"meKeyMaterial\":\"0000000000000000000000000000000000000000000000000000000000"
	     "00000g\"}");
	RBAD("{\"meKeyMaterial\":\"0000000000000000000000000000000000000000000000000000000000"
	     "000000\",\"gbaType\":\"2G_GBA\"}");
	RBAD("{\"meKeyMaterial\":\"0000000000000000000000000000000000000000000000000000000000"
	     "000000\",\"keyExpiryTime\":\"yesterday\"}");
#undef RBAD
	ck_assert_int_eq(gba_zn_response_parse((const uint8_t *)"{}", 2, &r), GBA_EMISSING);
}
END_TEST

START_TEST(builds_problem_details)
{
	char *out = NULL;
	size_t len;

	ck_assert_int_eq(gba_zn_problem_build(404, "Not Found", "gone \"x\"",
	                                      GBA_ZN_CAUSE_NOT_FOUND, &out, &len), 0);
	ck_assert_str_eq(out, "{\"status\":404,\"title\":\"Not Found\",\"detail\":\"gone \\\"x\\\"\","
	                      "\"cause\":\"CONTEXT_NOT_FOUND\"}");
	gba_zn_free(out, len);
	ck_assert_int_eq(gba_zn_problem_build(99, "x", NULL, NULL, &out, &len), GBA_EINVAL);
}
END_TEST

START_TEST(formats_and_parses_times)
{
	char s[GBA_TIME_RFC3339_LEN + 1], h[GBA_TIME_HTTP_LEN + 1];
	int64_t t;

	ck_assert_int_eq(gba_time_rfc3339(0, s), 0);
	ck_assert_str_eq(s, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(gba_time_rfc3339(951782400, s), 0);   /* leap day 2000 */
	ck_assert_str_eq(s, "2000-02-29T00:00:00Z");
	ck_assert_int_eq(gba_time_http(784111777, h), 0);
	ck_assert_str_eq(h, "Sun, 06 Nov 1994 08:49:37 GMT");   /* RFC 9110 5.6.7 */
	ck_assert_int_eq(gba_time_parse_rfc3339("2000-02-29T00:00:00Z", 20, &t), 0);
	ck_assert_int_eq(t, 951782400);
	ck_assert_int_eq(gba_time_parse_rfc3339("2000-02-29T01:00:00.25+01:00", 28, &t), 0);
	ck_assert_int_eq(t, 951782400);
	ck_assert_int_eq(gba_time_parse_rfc3339("2001-02-29T00:00:00Z", 20, &t), GBA_ESYNTAX);
	ck_assert_int_eq(gba_time_parse_rfc3339("2000-02-29 00:00:00Z", 20, &t), GBA_ESYNTAX);
	ck_assert_int_eq(gba_time_parse_rfc3339("2000-02-29T00:00:00", 19, &t), GBA_ESYNTAX);
	ck_assert_int_eq(gba_time_rfc3339(-1, s), GBA_EINVAL);
}
END_TEST

/* Every allocation failure is reported, never crashes or leaks. */
START_TEST(survives_allocation_failures)
{
	static const char req[] = "{\"btId\":\"b@x\",\"nafId\":{\"nafFqdn\":\"a.b\","
	                          "\"uaSecProtId\":\"0100000000\"},\"gsIds\":[1,4]}";
	struct gba_zn_request r;
	struct gba_zn_info info;
	struct gba_zn_result res;
	char *out = NULL;
	size_t len;
	long n;
	int ret;

	memset(&info, 0, sizeof(info));
	info.created = 1;
	info.key_expiry = 2;
	info.impi = "i@x";
	for (n = 0;; n++) {
		gba_mem_fail_after(n);
		ret = gba_zn_request_parse((const uint8_t *)req, sizeof(req) - 1, &r);
		gba_mem_fail_reset();
		if (ret == 0)
			break;
		ck_assert(ret == GBA_ENOMEM || ret == GBA_ESYNTAX);
	}
	for (n = 0;; n++) {
		gba_mem_fail_after(n);
		ret = gba_zn_response_build(&info, guss, NULL, 0, &out, &len);
		gba_mem_fail_reset();
		if (ret == 0)
			break;
		ck_assert_msg(ret == GBA_ENOMEM || ret == GBA_EINVAL, "ret %d", ret);
		ck_assert_ptr_null(out);
	}
	for (n = 0;; n++) {
		gba_mem_fail_after(n);
		ret = gba_zn_response_parse((const uint8_t *)out, len, &res);
		gba_mem_fail_reset();
		if (ret == 0)
			break;
		ck_assert_int_ne(ret, 0);
	}
	gba_zn_result_clear(&res);
	gba_zn_free(out, len);
}
END_TEST

START_TEST(extracts_uss_facts)
{
	static const char doc[] =
		"{\"ussList\":[{\"gsId\":1,\"gsType\":1,\"ueIds\":[\"sip:a@x\",\"tel:+1\"],"
		"\"flags\":[7,9]},{\"gsId\":4,\"gsType\":4,\"ueIds\":[\"sip:b@x\"]}]}";
	static const char wire[] =
		"[{\"uss\":{\"gsId\":1,\"gsType\":1,\"ueIds\":[{\"ueId\":\"sip:a@x\"}],"
		"\"flags\":[{\"flag\":7}]}}]";
	struct gba_zn_uss u[4];
	size_t n = 99;

	ck_assert_int_eq(gba_zn_uss_list(doc, strlen(doc), u, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(u[0].gsid, 1);
	ck_assert_uint_eq(u[0].nuids, 2);
	ck_assert_str_eq(u[0].uids[1], "tel:+1");
	ck_assert_uint_eq(u[0].nflags, 2);
	ck_assert_uint_eq(u[0].flags[1], 9);
	ck_assert_uint_eq(u[1].gsid, 4);
	ck_assert_int_eq(gba_zn_uss_list(wire, strlen(wire), u, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(u[0].uids[0], "sip:a@x");
	ck_assert_uint_eq(u[0].flags[0], 7);
	ck_assert_int_eq(gba_zn_uss_list(doc, strlen(doc), u, 1, &n), GBA_ETOOBIG);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(gba_zn_uss_list("{\"ussList\":[{\"gsId\":-1}]}", 26, u, 4, &n),
	                 GBA_EINVAL);
	ck_assert_int_eq(gba_zn_uss_list("", 0, u, 4, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *zn_suite(void)
{
	Suite *s = suite_create("gba_zn");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, parses_full_request);
	tcase_add_test(tc, rejects_bad_requests);
	tcase_add_test(tc, request_round_trip);
	tcase_add_test(tc, response_filters_uss_and_round_trips);
	tcase_add_test(tc, rejects_bad_guss_and_responses);
	tcase_add_test(tc, builds_problem_details);
	tcase_add_test(tc, formats_and_parses_times);
	tcase_add_test(tc, survives_allocation_failures);
	tcase_add_test(tc, extracts_uss_facts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(zn_suite());
}
