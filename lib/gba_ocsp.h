/*
 * gba_ocsp.h - revocation codecs: OCSP requests and responses (RFC 6960,
 * nonce per RFC 8954) and CRLs with entry reasons (RFC 5280 5.1-5.3).
 *
 * GnuTLS can neither build an OCSP response nor put a reasonCode on a
 * CRL entry (notes/cmc.md 9), so both are built here with the generated
 * codecs and signed through a gba_sign_fn (gba_asn1.h):
 * gba_signer_sign or gba_key_sign fit.  The signature callback gets the
 * DER of tbsResponseData / TBSCertList and returns the signature octets
 * that go into the BIT STRING (for ECDSA, the DER Ecdsa-Sig-Value).
 *
 * Everything crosses this header as bytes: OIDs as content octets,
 * serial numbers as INTEGER content octets (big-endian two's complement,
 * minimal), names as Name DER, times as seconds since the epoch (UTC).
 *
 * Error codes (besides GBA_ENOMEM / GBA_EINTERNAL):
 *   parse:  GBA_EINVAL (NULL arguments), GBA_ETOOBIG (input above
 *           GBA_MAX_DER_LEN, or more than GBA_OCSP_MAX_CERTIDS CertIDs),
 *           GBA_ENOTDER / GBA_ETRUNC / GBA_ESYNTAX / GBA_EDEPTH /
 *           GBA_ECONSTRAINT (strict decoding, gba_asn1.h), GBA_EUNSUPP
 *           (version not v1, a CertID hash other than SHA-1/SHA-256, hash
 *           parameters other than absent/NULL, an unknown critical
 *           extension), GBA_EDUP (two nonce extensions),
 *           GBA_ECONSTRAINT (nonce of 0 or more than 32 octets, RFC 8954
 *           says: reject with malformedRequest; a serialNumber over
 *           GBA_OCSP_MAX_SERIAL octets), GBA_ESYNTAX (hash lengths that
 *           do not match the algorithm, empty requestList).  Every parse
 *           failure maps to malformedRequest, except
 *           GBA_ENOMEM/GBA_EINTERNAL (internalError).  Whatever parses
 *           can be echoed by the builder.
 *   build:  GBA_EINVAL (a missing or out-of-range field: no responses,
 *           a status or reason out of range, a time before 1970 or after
 *           9999, a serial that is not minimal INTEGER content or is over
 *           GBA_OCSP_MAX_SERIAL octets, a nonce of 0 or more than 32
 *           octets), GBA_ENOTDER / GBA_ESYNTAX (a Name or certificate DER
 *           that does not decode strictly), or whatever the sign callback
 *           returned.
 */
#ifndef GBA_OCSP_H
#define GBA_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include "gba_alg.h"
#include "gba_asn1.h"
#include "gba_der.h"

/* ---- CRLReason (RFC 5280 5.3.1) ---- */

#define GBA_CRL_REASONS(X)                                            \
	X(UNSPECIFIED, 0, "unspecified")                              \
	X(KEY_COMPROMISE, 1, "keyCompromise")                         \
	X(CA_COMPROMISE, 2, "cACompromise")                           \
	X(AFFILIATION_CHANGED, 3, "affiliationChanged")               \
	X(SUPERSEDED, 4, "superseded")                                \
	X(CESSATION_OF_OPERATION, 5, "cessationOfOperation")          \
	X(CERTIFICATE_HOLD, 6, "certificateHold")                     \
	X(REMOVE_FROM_CRL, 8, "removeFromCRL")                        \
	X(PRIVILEGE_WITHDRAWN, 9, "privilegeWithdrawn")               \
	X(AA_COMPROMISE, 10, "aACompromise")

enum gba_crl_reason {
#define GBA_CRL_REASON_ENUM(id, v, name) GBA_CRL_REASON_##id = v,
	GBA_CRL_REASONS(GBA_CRL_REASON_ENUM)
#undef GBA_CRL_REASON_ENUM
	GBA_CRL_REASON_NONE = -1          /* "no reason given" in build structs */
};

/* "keyCompromise" etc. (the ASN.1 names, as gba-ctl revoke --reason takes
 * them); NULL for 7 and values outside 0..10. */
const char *gba_crl_reason_name(int reason);
/* Exact (case-sensitive) name -> value; GBA_ENOTFOUND if none. */
int gba_crl_reason_by_name(const char *name, int *reason);

/* ---- OCSP request parsing ---- */

#define GBA_OCSP_MAX_CERTIDS 16u      /* CertIDs per request we answer */
#define GBA_OCSP_MAX_SERIAL  64u      /* CertID serialNumber octets parsed
                                       * and echoed (RFC 5280 allows 20) */
#define GBA_OCSP_MAX_NONCE   32u      /* RFC 8954: nonce is 1..32 octets */
#define GBA_OCSP_KEY_HASH_LEN 20u     /* responderID byKey (SHA-1) */

/* One CertID.  Blobs are borrowed from the gba_ocsp_msg. */
struct gba_ocsp_certid {
	enum gba_hash_alg hash;          /* GBA_HASH_SHA1 or GBA_HASH_SHA256 */
	int hash_params_null;            /* 1: parameters NULL, 0: absent;
	                                  * echoed as received in the reply */
	struct gba_blob name_hash;       /* issuerNameHash, hash-sized */
	struct gba_blob key_hash;        /* issuerKeyHash, hash-sized */
	struct gba_blob serial;          /* serialNumber INTEGER content */
};

struct gba_ocsp_req_view {
	struct gba_ocsp_certid ids[GBA_OCSP_MAX_CERTIDS];
	size_t nids;                     /* 1..GBA_OCSP_MAX_CERTIDS */
	int has_nonce;
	struct gba_blob nonce;           /* the Nonce OCTET STRING content */
	int is_signed;                   /* optionalSignature present (it is
	                                  * NOT verified) */
	int has_requestor_name;          /* requestorName present (ignored) */
};

/*
 * Parse an OCSPRequest strictly (the five gba_asn1.h steps).  Accepts
 * the POST body, and the GET form once the caller has undone the URL
 * and base64 encoding (RFC 6960 A.1): both are the same DER.
 * Non-critical extensions other than the nonce are ignored, in the
 * request and in each singleRequestExtensions.
 * On success *msg owns what the view points to; free it with
 * gba_ocsp_msg_free once done with the view (also after gba_ocsp_
 * response_build, which copies).  On failure *msg is NULL, the view is
 * zeroed and *err (if not NULL) names the offset and reason.
 */
struct gba_ocsp_msg;
int gba_ocsp_request_parse(const uint8_t *der, size_t len, struct gba_ocsp_req_view *view,
                           struct gba_ocsp_msg **msg, struct gba_der_error *err);
void gba_ocsp_msg_free(struct gba_ocsp_msg *msg);

/* ---- OCSP response building ---- */

enum gba_ocsp_cert_status {
	GBA_OCSP_GOOD = 0,
	GBA_OCSP_REVOKED = 1,
	GBA_OCSP_UNKNOWN = 2
};

/* OCSPResponseStatus; 4 is not used. */
enum gba_ocsp_resp_status {
	GBA_OCSP_SUCCESSFUL = 0,
	GBA_OCSP_MALFORMED_REQUEST = 1,
	GBA_OCSP_INTERNAL_ERROR = 2,
	GBA_OCSP_TRY_LATER = 3,
	GBA_OCSP_SIG_REQUIRED = 5,
	GBA_OCSP_UNAUTHORIZED = 6
};

/* One SingleResponse.  Everything borrowed. */
struct gba_ocsp_single {
	struct gba_ocsp_certid id;       /* echoed as the certID (copy the
	                                  * parsed one, or fill it in) */
	enum gba_ocsp_cert_status status;
	int64_t revoked_at;              /* REVOKED: revocationTime */
	int reason;                      /* REVOKED: CRLReason, or
	                                  * GBA_CRL_REASON_NONE to omit */
	int64_t this_update;
	int64_t next_update;             /* 0: omitted */
};

struct gba_ocsp_resp_build {
	/* responderID: byKey when key_hash has GBA_OCSP_KEY_HASH_LEN octets
	 * (SHA-1 of the responder's subjectPublicKey BIT STRING contents,
	 * gba_x509_spki_key_id); otherwise byName with this Name DER. */
	struct gba_blob responder_key_hash;
	struct gba_blob responder_name;
	int64_t produced_at;
	const struct gba_ocsp_single *responses;
	size_t nresponses;               /* 1..GBA_OCSP_MAX_CERTIDS */
	struct gba_blob nonce;           /* echoed in responseExtensions;
	                                  * len 0: no extension */
	struct gba_oid sig_alg;          /* signatureAlgorithm OID */
	int sig_alg_null_params;         /* 1: parameters NULL (RSA), 0:
	                                  * absent (ECDSA, Ed25519) */
	const struct gba_blob *certs;    /* certs [0]: e.g. a delegated
	                                  * responder certificate; may be 0 */
	size_t ncerts;                   /* 0..4 */
	gba_sign_fn sign;                /* signs DER(tbsResponseData) */
	void *sign_ctx;
};

/*
 * Build OCSPResponse{successful, id-pkix-ocsp-basic BasicOCSPResponse}:
 * ResponseData v1 (version omitted), the responderID, producedAt, one
 * SingleResponse per b->responses (good [0] NULL, revoked [1]
 * RevokedInfo with the optional reason, unknown [2] NULL; thisUpdate;
 * nextUpdate [0] when not 0), the nonce extension when given; then the
 * signature over DER(tbsResponseData) and the certs.  On success *der
 * is a new buffer (gba_free).
 */
int gba_ocsp_response_build(const struct gba_ocsp_resp_build *b, uint8_t **der, size_t *len);

/*
 * Build an unsuccessful OCSPResponse (no responseBytes) for status 1, 2,
 * 3, 5 or 6 (GBA_EINVAL otherwise).  On success *der is a new buffer
 * (gba_free).  Allocates a few bytes only.
 */
int gba_ocsp_error_build(enum gba_ocsp_resp_status status, uint8_t **der, size_t *len);

/* ---- CRLs ---- */

#define GBA_CRL_MAX_SERIAL 20u        /* RFC 5280 4.1.2.2 */
#define GBA_CRL_MAX_KEY_ID 64u

/* One revoked certificate.  Borrowed. */
struct gba_crl_entry {
	const uint8_t *serial;           /* INTEGER content, 1..20 octets */
	size_t serial_len;
	int64_t revoked_at;              /* revocationDate */
	int reason;                      /* reasonCode; 0 (unspecified) and
	                                  * GBA_CRL_REASON_NONE omit it
	                                  * (RFC 5280 5.3.1); removeFromCRL
	                                  * is refused (no delta CRLs) */
	int64_t invalidity_date;         /* 0: no invalidityDate */
};

struct gba_crl_build {
	struct gba_oid sig_alg;          /* as in gba_ocsp_resp_build */
	int sig_alg_null_params;
	struct gba_blob issuer;          /* the CA certificate's subject Name DER */
	int64_t this_update;
	int64_t next_update;             /* 0: omitted (RFC 5280 wants it) */
	const struct gba_crl_entry *entries;
	size_t nentries;                 /* 0: revokedCertificates omitted */
	uint64_t crl_number;             /* cRLNumber, always present */
	struct gba_blob aki;             /* authorityKeyIdentifier keyIdentifier
	                                  * (the CA's SKI), 1..64 octets; len 0
	                                  * omits the extension */
	gba_sign_fn sign;                /* signs DER(TBSCertList) */
	void *sign_ctx;
};

/*
 * Build a v2 CertificateList: TBSCertList with the signature algorithm,
 * issuer, thisUpdate/nextUpdate, revokedCertificates (each with the
 * reasonCode and invalidityDate entry extensions as given) and
 * crlExtensions cRLNumber and authorityKeyIdentifier; then the
 * signature over DER(TBSCertList).  Times are UTCTime before 2050 and
 * GeneralizedTime from 2050 on (RFC 5280 4.1.2.5); invalidityDate is
 * always GeneralizedTime.  Entries are written in the order given;
 * duplicates are not detected.
 *
 * Scales to millions of entries: the entries are sized in a first pass
 * and written by hand into one buffer (no per-entry allocation); the
 * generated codec builds the rest.  Peak memory is about the output
 * size plus the signature.  GBA_MAX_DER_LEN does not apply (that is a
 * cap on peer input).  On success *der is a new buffer (gba_free).
 */
int gba_crl_build(const struct gba_crl_build *b, uint8_t **der, size_t *len);

#endif
