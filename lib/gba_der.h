/*
 * gba_der.h - the strict DER gate.
 *
 * Every byte string that comes from a peer passes gba_der_check() before
 * any decoder sees it.  The gate walks the TLV tree without building
 * anything and rejects what DER (X.690 section 10) forbids:
 *
 *   - input longer than max_len, or empty;
 *   - truncation: a length that runs past its parent or the input;
 *   - trailing bytes after the single top-level element;
 *   - indefinite lengths (0x80) and end-of-contents octets;
 *   - non-minimal lengths (long form below 128, leading zero octets)
 *     and lengths that do not fit in size_t;
 *   - non-minimal high tag numbers (0x1F form with a value below 31 or
 *     a leading 0x80 octet) and tag numbers above 2^28;
 *   - constructed nesting deeper than max_depth;
 *   - universal types whose primitive/constructed form DER fixes, in
 *     the wrong form (e.g. a constructed OCTET STRING or BIT STRING, a
 *     primitive SEQUENCE or SET);
 *   - BOOLEAN not one octet of 0x00 or 0xFF; INTEGER/ENUMERATED empty
 *     or with a redundant leading 0x00/0xFF; NULL with content;
 *   - BIT STRING: empty, unused-bits octet above 7, unused bits with no
 *     data octet, or a set bit in the padding;
 *   - reserved universal tag numbers (15, and above 36);
 *   - OBJECT IDENTIFIER / RELATIVE-OID empty, with a subidentifier that
 *     starts with 0x80, or whose last octet has bit 8 set;
 *   - UTCTime / GeneralizedTime whose last octet is not 'Z' (DER, X.690
 *     11.7/11.8).  The rest of the time syntax is left to the decoder
 *     (asn1c, GnuTLS), as is character-set checking of string types.
 *
 * Primitive-only universal types: every defined universal type except
 * EXTERNAL (8), EMBEDDED PDV (11), SEQUENCE (16), SET (17) and
 * CHARACTER STRING (29), which must be constructed.  Context-specific,
 * application and private tags may take either form; their content is
 * not looked into unless they are constructed.
 *
 * Depth counts constructed elements on a path from the root: max_depth
 * 0 accepts only a single primitive element, 1 a SEQUENCE of
 * primitives, and so on.
 *
 * The walk is iterative with a fixed stack of GBA_DER_DEPTH_CAP entries
 * and allocates nothing; it is safe to call from any thread.
 *
 * It does not check SET OF ordering or DEFAULT omission; those are
 * caught by the re-encode-and-compare step in gba_asn1.
 */
#ifndef GBA_DER_H
#define GBA_DER_H

#include <stddef.h>
#include <stdint.h>

/* Largest max_depth gba_der_check() accepts (it sizes an on-stack array). */
#define GBA_DER_DEPTH_CAP 256u

struct gba_der_error {
	size_t offset;       /* byte offset of the offending octet */
	const char *reason;  /* static text, never NULL after a failure */
};

/*
 * Check that buf[0..len) is exactly one DER element.
 * Returns 0, or GBA_ETOOBIG, GBA_ETRUNC, GBA_ENOTDER or GBA_EDEPTH with
 * *err (if not NULL) naming the offset and the rule broken.
 * GBA_EINVAL: len == 0, buf == NULL, or max_depth > GBA_DER_DEPTH_CAP
 * (offset 0).  On success *err is not touched.
 *
 * Offsets: for GBA_ETOOBIG, max_len; for a header cut short, the end of
 * the enclosing element (or len) where the next octet was expected; for
 * a length that overruns, its first length octet; otherwise the
 * offending octet itself.  err->offset is never above len.
 */
int gba_der_check(const uint8_t *buf, size_t len, size_t max_len,
                  unsigned max_depth, struct gba_der_error *err);

/* gba_der_check() with GBA_MAX_DER_LEN and GBA_MAX_DER_DEPTH. */
int gba_der_check_default(const uint8_t *buf, size_t len,
                          struct gba_der_error *err);

#endif
