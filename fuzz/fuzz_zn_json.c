/*
 * fuzz_zn_json.c - the Nbsp_GBA request parser on arbitrary bytes.  A
 * request that parses must build back into a body that parses to the
 * same request; the response parser and the GUSS check get the same
 * bytes too.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gba_zn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gba_zn_request a, b;
	struct gba_zn_result r;
	uint32_t life;
	char *out = NULL;
	size_t len = 0;

	if (gba_zn_request_parse(data, size, &a) == 0) {
		if (gba_zn_request_build(&a, &out, &len) == 0) {
			if (gba_zn_request_parse((const uint8_t *)out, len, &b) != 0 ||
			    memcmp(&a, &b, sizeof(a)) != 0)
				__builtin_trap();
			gba_zn_free(out, len);
		}
	}
	if (gba_zn_response_parse(data, size, &r) == 0)
		gba_zn_result_clear(&r);
	(void)gba_zn_guss_check((const char *)data, size, &life);
	return 0;
}
