/*
 * gba_asn1_int.h - helpers shared by the asn1c wrapper files
 * (gba_asn1.c, gba_asn1_cmc.c).  Internal: include it only from
 * lib/gba_asn1*.c, after the generated headers those files need.
 */
#ifndef GBA_ASN1_INT_H
#define GBA_ASN1_INT_H

#include <stddef.h>
#include <stdint.h>

#include "GeneralizedTime.h"
#include "OBJECT_IDENTIFIER.h"

#include "gba_asn1.h"
#include "gba_der.h"

/* Fill *err (if not NULL) with an offset and a static reason. */
void gba_asn1_set_err(struct gba_der_error *err, size_t off, const char *reason);

/* Does OID o have these content octets? */
int gba_asn1_oid_is(const OBJECT_IDENTIFIER_t *o, const uint8_t *p, size_t len);

/* Copy bytes into a primitive (OID, INTEGER) or OCTET STRING-like
 * field, freeing what it held. */
int gba_asn1_set_bytes(uint8_t **bufp, int *sizep, const void *p, size_t len);

#define GBA_SET_OID(o, a) gba_asn1_set_bytes(&(o)->buf, &(o)->size, (a), sizeof(a))
#define GBA_SET_OCTETS(o, p, n) gba_asn1_set_bytes(&(o)->buf, &(o)->size, (p), (n))

/* DER-encode into a new buffer (gba_free). */
int gba_asn1_encode_alloc(asn_TYPE_descriptor_t *td, void *sptr, uint8_t **out,
                          size_t *outlen);

/*
 * The five strict-decoding steps (gba_asn1.h).  *out, on success, is a
 * new structure of type td (ASN_STRUCT_FREE it).  base is added to
 * reported offsets (for values nested in a larger input).
 */
int gba_asn1_decode_strict(asn_TYPE_descriptor_t *td, const uint8_t *buf, size_t len,
                           size_t base, void **out, struct gba_der_error *err);

/* Strictly decode buf and move the value into caller-owned storage of
 * type td (dst_size bytes, zeroed beforehand). */
int gba_asn1_decode_into(asn_TYPE_descriptor_t *td, const uint8_t *buf, size_t len,
                         void *dst, size_t dst_size);

/* GeneralizedTime <-> UTC seconds. */
int gba_asn1_put_gt(GeneralizedTime_t *gt, int64_t t);
int gba_asn1_get_gt(const GeneralizedTime_t *gt, int64_t *t);

/*
 * One TLV of input already through the DER gate: single-octet tags
 * only, definite lengths.  tlv.p/len: the whole element; c/clen: its
 * contents.  Returns 0, or GBA_ESYNTAX / GBA_ETRUNC.
 */
struct gba_tlv {
	const uint8_t *p;
	size_t len;
	const uint8_t *c;
	size_t clen;
	uint8_t tag;
};
int gba_asn1_tlv(const uint8_t *p, size_t n, struct gba_tlv *t);

/* The idx-th (0-based) child of constructed element parent. */
int gba_asn1_tlv_child(const struct gba_tlv *parent, size_t idx, struct gba_tlv *child);

#endif
