/*
 * fuzz_der.c - libFuzzer target for the strict DER gate.
 *
 * Runs gba_der_check() with the default limits and with small ones, and
 * traps when an invariant of the gba_der.h contract breaks:
 *   - on success, *err is untouched;
 *   - on failure, the code is one the header names, err->offset <= len
 *     and err->reason != NULL;
 *   - a tighter limit never accepts what a looser one rejects.
 * __builtin_trap() rather than assert(): it survives -DNDEBUG.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "gba_der.h"
#include "gba_err.h"
#include "gba_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SENTINEL_OFF ((size_t)0xdeadbeef)

static const char fuzz_sentinel[] = "untouched";

static int
run_one(const uint8_t *data, size_t size, size_t max_len, unsigned max_depth)
{
	struct gba_der_error err = { FUZZ_SENTINEL_OFF, fuzz_sentinel };
	int rc;

	rc = gba_der_check(data, size, max_len, max_depth, &err);
	if (rc == 0) {
		if (err.offset != FUZZ_SENTINEL_OFF ||
		    err.reason != fuzz_sentinel)
			__builtin_trap();
		goto out;
	}
	if (rc != GBA_EINVAL && rc != GBA_ETOOBIG && rc != GBA_ETRUNC &&
	    rc != GBA_ENOTDER && rc != GBA_EDEPTH)
		__builtin_trap();
	if (err.reason == NULL || err.reason == fuzz_sentinel)
		__builtin_trap();
	if (err.offset > size)
		__builtin_trap();
	if (rc == GBA_EINVAL && size != 0)
		__builtin_trap();
	/* err == NULL must give the same answer. */
	if (gba_der_check(data, size, max_len, max_depth, NULL) != rc)
		__builtin_trap();
out:
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gba_der_error err = { FUZZ_SENTINEL_OFF, fuzz_sentinel };
	int rc_def, rc_small, rc_flat;

	rc_def = run_one(data, size, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH);
	if (gba_der_check_default(data, size, &err) != rc_def)
		__builtin_trap();

	rc_small = run_one(data, size, 512, 3);
	rc_flat = run_one(data, size, GBA_MAX_DER_LEN, 0);

	/* Tighter limits only add rejections, and only EDEPTH/ETOOBIG. */
	if (rc_def != 0 && rc_small == 0)
		__builtin_trap();
	if (rc_def != 0 && rc_flat == 0)
		__builtin_trap();
	if (rc_def == 0 && rc_small != 0 && rc_small != GBA_EDEPTH &&
	    rc_small != GBA_ETOOBIG)
		__builtin_trap();
	if (rc_def == 0 && rc_flat != 0 && rc_flat != GBA_EDEPTH)
		__builtin_trap();
	return 0;
}
