/* testutil.h - small helpers shared by the Check programs. */
#ifndef GBA_TESTUTIL_H
#define GBA_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decode a hex literal; the test fails on malformed hex. */
static inline void th_unhex(const char *hex, uint8_t *out, size_t outlen)
{
	size_t i;

	ck_assert_uint_eq(strlen(hex), 2 * outlen);
	for (i = 0; i < outlen; i++) {
		unsigned v;
		char two[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		char *end;

		v = (unsigned)strtoul(two, &end, 16);
		ck_assert_ptr_eq(end, two + 2);
		out[i] = (uint8_t)v;
	}
}

/* Run one suite; exit status for automake. */
static inline int th_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
