/*
 * fuzz_http_auth.c - the Digest header parser on arbitrary bytes, as all
 * three header kinds.  Every value it returns must lie inside its arena,
 * and a parsed header rebuilt by the builder must parse to the same
 * values.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gba_http_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gba_auth a, b;
static char out[2 * GBA_MAX_AUTH_HEADER_LEN + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gba_auth_kind kinds[3] = {
		GBA_AUTH_CHALLENGE, GBA_AUTH_CREDENTIALS, GBA_AUTH_INFO
	};
	unsigned i, f;

	for (i = 0; i < 3; i++) {
		struct gba_auth_builder bld;
		size_t off = 0;

		if (gba_auth_parse(&a, kinds[i], (const char *)data, size, &off) != 0) {
			if (off > size)
				__builtin_trap();
			continue;
		}
		(void)gba_auth_check_credentials(&a, NULL);
		gba_auth_builder_init(&bld, out, sizeof(out),
		                      kinds[i] == GBA_AUTH_INFO ? NULL : "Digest");
		for (f = 0; f < GBA_AUTH_NFIELDS; f++) {
			struct gba_str v = gba_auth_get(&a, (enum gba_auth_field)f);

			if (!gba_auth_has(&a, (enum gba_auth_field)f))
				continue;
			if (v.len > 0 && (v.p < a.arena || v.p + v.len > a.arena + sizeof(a.arena)))
				__builtin_trap();
			gba_auth_add_quoted(&bld, gba_auth_field_name((enum gba_auth_field)f), v);
		}
		if (bld.nparams == 0 || gba_auth_builder_finish(&bld) <= 0)
			continue;  /* nothing known, or a value with a control char */
		if (bld.len > GBA_MAX_AUTH_HEADER_LEN)
			continue;
		if (gba_auth_parse(&b, kinds[i], out, bld.len, NULL) != 0)
			__builtin_trap();
		for (f = 0; f < GBA_AUTH_NFIELDS; f++) {
			if (gba_auth_has(&a, (enum gba_auth_field)f) !=
			    gba_auth_has(&b, (enum gba_auth_field)f))
				__builtin_trap();
			if (!gba_str_eq(a.f[f], b.f[f]))
				__builtin_trap();
		}
	}
	return 0;
}
