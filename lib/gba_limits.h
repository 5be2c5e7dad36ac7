/*
 * gba_limits.h - compile-time caps on every input from a peer.
 *
 * Each cap is checked before anything is allocated for the input.  The
 * values are small on purpose: a GBA or CMC message that needs more is
 * not one this service should process.
 */
#ifndef GBA_LIMITS_H
#define GBA_LIMITS_H

/* DER input (CMC request, CSR, OCSP request, CCM) as a whole. */
#define GBA_MAX_DER_LEN          (64u * 1024u)
/* Constructed nesting the DER gate accepts (certificates need ~10). */
#define GBA_MAX_DER_DEPTH        32u
/* Stack budget handed to the asn1c decoder (asn_codec_ctx_t). */
#define GBA_MAX_ASN1_STACK       (64u * 1024u)

/* HTTP Digest headers (Authorization, WWW-Authenticate, ...). */
#define GBA_MAX_AUTH_HEADER_LEN  4096u
#define GBA_MAX_AUTH_PARAMS      24u
#define GBA_MAX_AUTH_VALUE_LEN   1024u

/* Identities. */
#define GBA_MAX_IMPI_LEN         255u
#define GBA_MAX_BTID_LEN         255u
#define GBA_MAX_FQDN_LEN         253u

/* GBA KDF parameter (TS 33.220 B.2: each Pi fits a 2-octet length). */
#define GBA_MAX_KDF_PARAM_LEN    65535u

#endif
