/*
 * fuzz_asn1.c - one libFuzzer target per top-level decoder.  Built once
 * per PDU with -DFUZZ_PDU=GBA_PDU_<X> (see Makefile.am).
 *
 * Invariants checked: the strict decoder never crashes or leaks, a
 * rejection always names a reason and an offset within the input, and
 * an accepted input is one DER element the gate also accepts.  For the
 * CCM, gba_ccm_decode either refuses with a reason or yields a value
 * that re-encodes to the input bytes.  With FUZZ_CMC_PKIDATA the input
 * also goes through gba_cmc_pkidata_parse and every control value
 * through every getter; with FUZZ_CMC_CSR through gba_cmc_csr_parse.
 * A CMC refusal names a reason and leaves no message; an accepted one
 * hands out slices that lie inside the message or its own buffers.
 * For the OCSP request, gba_ocsp_request_parse runs too
 * (FUZZ_OCSP_PARSE).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "gba_asn1.h"
#include "gba_cmc.h"
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

#if defined(FUZZ_CMC_PKIDATA) || defined(FUZZ_CMC_CSR)
/* A request view must be self-consistent. */
static void check_request(const struct gba_cmc_request *r)
{
	if (r->der.len == 0 || (r->has_pop_sig && (r->pop_signed.len == 0 ||
	                                           r->pop_signature.len == 0)))
		__builtin_trap();
	if (r->kind == GBA_CMC_REQ_TCR && (r->spki.len == 0 || r->subject.len == 0 ||
	                                   r->pkcs10_version != 0))
		__builtin_trap();
	if (r->body_part_id == 0)
		__builtin_trap();
}
#endif

#ifdef FUZZ_CMC_PKIDATA
static void every_getter(struct gba_cmc_msg *msg, struct gba_blob v)
{
	struct gba_der_error err;
	struct gba_blob o;
	struct gba_cmc_witness_v2 w;
	struct gba_cmc_cert_id id;
	struct gba_cmc_revoke rv;
	struct gba_cmc_get_crl gc;

	if (gba_cmc_get_octets(msg, v, &o, &err) == 0 && o.p + o.len > v.p + v.len)
		__builtin_trap();
	if (gba_cmc_get_integer(msg, v, &o, &err) == 0 && (o.len == 0 || o.len > GBA_CMC_MAX_TXID))
		__builtin_trap();
	(void)gba_cmc_get_utf8(msg, v, &o, &err);
	(void)gba_cmc_get_witness_v2(msg, v, &w, &err);
	(void)gba_cmc_get_cert_id(msg, GBA_CMC_GET_CERT, v, &id, &err);
	(void)gba_cmc_get_cert_id(msg, GBA_CMC_CONFIRM_CERT_ACCEPTANCE, v, &id, &err);
	if (gba_cmc_get_revoke(msg, v, &rv, &err) == 0 && (rv.reason < 0 || rv.reason > 10))
		__builtin_trap();
	(void)gba_cmc_get_getcrl(msg, v, &gc, &err);
}

static void fuzz_cmc(const uint8_t *data, size_t size)
{
	struct gba_der_error err = { 0, NULL };
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	size_t i, j;

	if (gba_cmc_pkidata_parse(data, size, &pd, &msg, &err) != 0) {
		if (err.reason == NULL || msg != NULL)
			__builtin_trap();
		return;
	}
	if (pd.ncontrols > GBA_CMC_MAX_CONTROLS || pd.nreqs > GBA_CMC_MAX_REQUESTS ||
	    pd.req_sequence.len == 0 || pd.req_sequence.p[0] != 0x30)
		__builtin_trap();
	for (i = 0; i < pd.ncontrols; i++) {
		if (pd.controls[i].nvalues == 0 || pd.controls[i].nvalues > GBA_CMC_MAX_VALUES)
			__builtin_trap();
		for (j = 0; j < pd.controls[i].nvalues; j++)
			every_getter(msg, pd.controls[i].values[j]);
	}
	for (i = 0; i < pd.nreqs; i++)
		check_request(&pd.reqs[i]);
	gba_cmc_msg_free(msg);
}
#endif

#ifdef FUZZ_CMC_CSR
static void fuzz_cmc(const uint8_t *data, size_t size)
{
	struct gba_der_error err = { 0, NULL };
	struct gba_cmc_request r;
	struct gba_cmc_msg *msg = NULL;

	if (gba_cmc_csr_parse(data, size, &r, &msg, &err) != 0) {
		if (err.reason == NULL || msg != NULL)
			__builtin_trap();
		return;
	}
	check_request(&r);
	if (r.der.len != size || __builtin_memcmp(r.der.p, data, size) != 0)
		__builtin_trap();
	gba_cmc_msg_free(msg);
}
#endif

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
#if defined(FUZZ_CMC_PKIDATA) || defined(FUZZ_CMC_CSR)
	fuzz_cmc(data, size);
#endif
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
