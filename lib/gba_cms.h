/*
 * gba_cms.h - verify a CMS SignedData end to end: strict decoding and
 * attribute checks (gba_asn1), then the signature and the signer's
 * certificate (gba_x509).
 *
 * GnuTLS's own PKCS#7 verifier cannot be used for CCMs: libtasn1 (4.19,
 * Debian 12) refuses OID arcs wider than 64 bits, and every 2.25.<uuid>
 * arc is about 128 bits wide.
 */
#ifndef GBA_CMS_H
#define GBA_CMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gba_asn1.h"

/*
 * Verify der as a ContentInfo{SignedData} with one signer whose
 * certificate is carried in it and is the trusted CA (ca, DER) or issued
 * by it, valid at `now`.  On success *msg owns what *view points to
 * (free with gba_cms_msg_free).  Errors: the strict-decoding codes,
 * GBA_EUNSUPP, GBA_EMISSING, GBA_ENOTFOUND, or GBA_ESIG for a bad
 * signature, digest or chain; err names the reason.
 */
int gba_cms_verify(const uint8_t *der, size_t len, const uint8_t *ca, size_t ca_len,
                   time_t now, struct gba_cms_view *view, struct gba_cms_msg **msg,
                   struct gba_der_error *err);

#endif
