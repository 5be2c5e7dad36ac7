/*
 * fuzz_asn1.c - one libFuzzer target per top-level decoder.  Built once
 * per PDU with -DFUZZ_PDU=GBA_PDU_<X> (see Makefile.am).
 *
 * Invariants checked: the strict decoder never crashes or leaks, a
 * rejection always names a reason and an offset within the input, and
 * an accepted input is one DER element the gate also accepts.  For the
 * CCM, gba_ccm_decode either refuses with a reason or yields a value
 * that re-encodes to the input bytes.  For the OCSP request,
 * gba_ocsp_request_parse runs too (FUZZ_OCSP_PARSE).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "gba_asn1.h"
#include "gba_der.h"
#include "gba_err.h"
#include "gba_mem.h"
#ifdef FUZZ_OCSP_PARSE
#include "gba_ocsp.h"
#endif

#ifndef FUZZ_PDU
#error "build with -DFUZZ_PDU=GBA_PDU_<name>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gba_der_error err = { 0, NULL };
	int ret;

	ret = gba_asn1_check(FUZZ_PDU, data, size, &err);
	if (ret < 0) {
		if (err.reason == NULL || (size > 0 && err.offset > size))
			__builtin_trap();
	} else if (gba_der_check_default(data, size, NULL) != 0) {
		__builtin_trap();
	}
#ifdef FUZZ_CCM_ROUNDTRIP
	if (ret == 0) {
		struct gba_ccm ccm;
		struct gba_ccm_msg *msg = NULL;
		uint8_t *der = NULL;
		size_t len = 0;

		/*
		 * Structurally valid CCMs may still be refused for what they
		 * say (version, action, times): with a reason, never silently.
		 * What decodes must re-encode to the same bytes.
		 */
		err.reason = NULL;
		ret = gba_ccm_decode(data, size, &ccm, &msg, &err);
		if (ret != 0) {
			if (err.reason == NULL || msg != NULL)
				__builtin_trap();
			return 0;
		}
		if (gba_ccm_encode(&ccm, &der, &len) == 0 &&
		    (len != size || __builtin_memcmp(der, data, size) != 0))
			__builtin_trap();
		gba_free(der);
		gba_ccm_msg_free(msg);
	}
#endif
#ifdef FUZZ_OCSP_PARSE
	{
		/*
		 * gba_ocsp_request_parse accepts a subset of what the strict
		 * decoder accepts, refuses with a reason, and bounds what it
		 * returns.
		 */
		struct gba_ocsp_req_view v;
		struct gba_ocsp_msg *m = NULL;
		int pr;

		err.reason = NULL;
		pr = gba_ocsp_request_parse(data, size, &v, &m, &err);
		if (pr == 0 && (ret != 0 || m == NULL || v.nids < 1 ||
		                v.nids > GBA_OCSP_MAX_CERTIDS ||
		                (v.has_nonce && (v.nonce.len < 1 || v.nonce.len > GBA_OCSP_MAX_NONCE))))
			__builtin_trap();
		if (pr < 0 && (m != NULL || (err.reason == NULL && pr != GBA_ENOMEM)))
			__builtin_trap();
		gba_ocsp_msg_free(m);
	}
#endif
	return 0;
}
