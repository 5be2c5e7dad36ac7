/*
 * gba_asn1.h - the ASN.1 codec layer: the only door to the asn1c code
 * generated in gen/.  No asn1c type crosses this header.
 *
 * Decoding is strict, in this order, and every step is mandatory:
 *   1. the DER gate (gba_der.h) on the raw bytes;
 *   2. ber_decode with a bounded stack (GBA_MAX_ASN1_STACK);
 *   3. everything consumed (consumed == len);
 *   4. asn_check_constraints;
 *   5. DER re-encoding compared byte for byte with the input, which
 *      catches what the gate cannot see (SET OF order, DEFAULT values).
 * A rejection fills struct gba_der_error with the offset (where known)
 * and a static reason.
 *
 * OIDs cross this header as their DER content octets (no tag, no
 * length), so arcs wider than 64 bits, like the project's 2.25 UUID
 * arc, need no special case.
 */
#ifndef GBA_ASN1_H
#define GBA_ASN1_H

#include <stddef.h>
#include <stdint.h>

#include "gba_alg.h"
#include "gba_der.h"
#include "gba_str.h"

/* The top-level PDUs a peer can send us, plus those tests round-trip. */
#define GBA_PDUS(X)                                           \
	X(CERTIFICATE, "Certificate")                         \
	X(CRL, "CertificateList")                             \
	X(CSR, "CertificationRequest")                        \
	X(CONTENT_INFO, "ContentInfo")                        \
	X(SIGNED_DATA, "SignedData")                          \
	X(PKI_DATA, "PKIData")                                \
	X(PKI_RESPONSE, "PKIResponse")                        \
	X(CERT_REQ_MSGS, "CertReqMessages")                   \
	X(OCSP_REQUEST, "OCSPRequest")                        \
	X(OCSP_RESPONSE, "OCSPResponse")                      \
	X(BASIC_OCSP_RESPONSE, "BasicOCSPResponse")           \
	X(CCM, "CertConfigMessage")

enum gba_pdu {
#define GBA_PDU_ENUM(id, name) GBA_PDU_##id,
	GBA_PDUS(GBA_PDU_ENUM)
#undef GBA_PDU_ENUM
	GBA_PDU_COUNT
};

/* "CertConfigMessage" etc.; NULL for an unknown value. */
const char *gba_pdu_name(enum gba_pdu pdu);
/* Look a PDU up by its ASN.1 type name; GBA_ENOTFOUND if none. */
int gba_pdu_by_name(const char *name, enum gba_pdu *pdu);

/* Run the five strict-decoding steps on buf and free the result.
 * Returns 0 or a negative GBA_E* code with *err filled in. */
int gba_asn1_check(enum gba_pdu pdu, const uint8_t *buf, size_t len,
                   struct gba_der_error *err);

/* Print the decoded value in asn1c's text form to stdout (demo and
 * debugging only; never used on secrets). */
int gba_asn1_print(enum gba_pdu pdu, const uint8_t *buf, size_t len);

/* ---- OIDs (content octets) ---- */
struct gba_oid {
	const uint8_t *p;
	size_t len;
};
extern const struct gba_oid gba_oid_ct_ccm;          /* id-ct-gbaCCM */
extern const struct gba_oid gba_oid_cct_pkidata;     /* 1.3.6.1.5.5.7.12.2 */
extern const struct gba_oid gba_oid_cct_pkiresponse; /* 1.3.6.1.5.5.7.12.3 */
extern const struct gba_oid gba_oid_data;            /* 1.2.840.113549.1.7.1 */

/* A borrowed DER blob; len 0 means absent. */
struct gba_blob {
	const uint8_t *p;
	size_t len;
};

/* ---- CMS SignedData ---- */

/*
 * Signs tbs (the DER of the signed attributes) and returns a new buffer
 * in *sig (freed by the caller with gba_free).  gba_signer_sign fits.
 */
typedef int (*gba_sign_fn)(void *ctx, const uint8_t *tbs, size_t len,
                           uint8_t **sig, size_t *siglen);

struct gba_cms_sign_req {
	struct gba_oid econtent_type;
	struct gba_blob econtent;
	struct gba_blob signer_cert;     /* sid = its issuer and serial */
	/* When signer_cert is absent (len 0): sid = subjectKeyIdentifier
	 * with these octets, SignerInfo version 3, and no signer
	 * certificate carried (CMC requests signed by the key being
	 * certified, RFC 5272 3.2.1.3.1 / 6.3). */
	struct gba_blob signer_ski;
	const struct gba_blob *certs;    /* further certificates to carry */
	size_t ncerts;
	const struct gba_blob *crls;     /* CertificateList DERs for `crls` */
	size_t ncrls;
	struct gba_oid sig_alg;          /* signatureAlgorithm OID */
	enum gba_hash_alg hash;          /* digestAlgorithm (0 = SHA-256) */
	int64_t signing_time;            /* seconds since the epoch, UTC */
	gba_sign_fn sign;
	void *sign_ctx;
};

/*
 * Build ContentInfo{SignedData} with req->hash as digest, signed
 * attributes contentType, signingTime and messageDigest, and the signer
 * certificate followed by req->certs (the SET OF sorted as DER wants).
 * On success *der is a new buffer (gba_free).
 */
int gba_cms_sign(const struct gba_cms_sign_req *req, uint8_t **der, size_t *len);

/*
 * Parse a ContentInfo{SignedData} strictly (outer and inner SignedData)
 * and describe it.  On success *msg owns what the view points to; free
 * it with gba_cms_msg_free.  The eContent bytes are those received:
 * strict decoding proved the re-encoding identical.  GBA_EUNSUPP if the
 * ContentInfo is not a SignedData.  This checks structure only; the
 * signature is verified by gba_x509_cms_verify.
 */
struct gba_cms_view {
	struct gba_oid econtent_type;
	struct gba_blob econtent;        /* len 0 if detached */
	size_t ncerts;                   /* certificates carried */
	size_t nsigners;                 /* signerInfos */
};
struct gba_cms_msg;
int gba_cms_parse(const uint8_t *buf, size_t len, struct gba_cms_view *view,
                  struct gba_cms_msg **msg, struct gba_der_error *err);
void gba_cms_msg_free(struct gba_cms_msg *msg);

/* Certificate i (0 <= i < view.ncerts) carried in a parsed SignedData,
 * as DER borrowed from msg, in the order received.  GBA_EINVAL when i is
 * out of range. */
int gba_cms_cert(const struct gba_cms_msg *msg, size_t i, struct gba_blob *out);

/*
 * What a verifier needs from the single signer of a parsed SignedData.
 * gba_cms_signer checks, without any key: exactly one SignerInfo,
 * SHA-256, SHA-384 or SHA-512 as its digest, signed attributes present with exactly one
 * contentType equal to eContentType and one messageDigest equal to
 * the digest of eContent; and it finds the signer's certificate among those
 * carried (by issuer and serial number, or by subject key identifier).
 * On success *tbs is a new buffer (gba_free) holding the DER of the
 * signed attributes as a SET OF, which is what the signature covers;
 * the other fields point into msg.  The signature itself is checked by
 * gba_x509_verify_signature.
 */
struct gba_cms_signer_view {
	struct gba_oid sig_alg;
	struct gba_blob signature;
	struct gba_blob cert;            /* the signer's certificate (DER);
	                                  * len 0 when sid is a key
	                                  * identifier no carried certificate
	                                  * has (a key being certified) */
	struct gba_blob ski;             /* sid's subjectKeyIdentifier; len 0
	                                  * when sid is issuerAndSerialNumber */
	struct gba_blob sid_issuer;      /* sid's issuer Name DER and serial */
	struct gba_blob sid_serial;      /* (INTEGER content octets); len 0
	                                  * when sid is a key identifier */
	enum gba_hash_alg hash;          /* digestAlgorithm */
};
int gba_cms_signer(struct gba_cms_msg *msg, struct gba_cms_signer_view *sv,
                   uint8_t **tbs, size_t *tbs_len, struct gba_der_error *err);

/* ---- CCM (asn1/GbaCCM.asn1) ---- */

enum gba_ccm_action {
	GBA_CCM_INSTALL = 0,
	GBA_CCM_RENEWAL_REQUIRED = 1,
	GBA_CCM_REVOKED = 2,
	GBA_CCM_TRUST_ANCHOR_UPDATE = 3,
	GBA_CCM_STATUS_UPDATE = 4,
	GBA_CCM_REMOVE = 5
};
enum gba_ccm_subscriber { GBA_CCM_SUB_IMPI, GBA_CCM_SUB_BTID };
enum gba_ccm_revocation { GBA_CCM_REV_NONE, GBA_CCM_REV_OCSP, GBA_CCM_REV_CRL };

#define GBA_CCM_MAX_CHAIN        16u
#define GBA_CCM_MAX_SERVER_CERTS 32u
#define GBA_CCM_MAX_ANCHORS      16u

/* The C view of a CCM.  Every pointer is borrowed: from the caller when
 * encoding, from the decoded message when decoding. */
struct gba_ccm {
	uint8_t message_id[16];
	uint64_t seq;
	int64_t issued_at;                       /* UTC seconds */
	enum gba_ccm_subscriber subscriber_kind;
	struct gba_str subscriber;               /* IMPI or B-TID, 1..255 */
	struct gba_str application_id;           /* 1..128 */
	enum gba_ccm_action action;
	struct gba_blob certificate;             /* optional */
	struct gba_blob chain[GBA_CCM_MAX_CHAIN];
	size_t nchain;
	struct gba_blob server_certs[GBA_CCM_MAX_SERVER_CERTS];
	size_t nserver_certs;
	struct gba_blob trust_anchors[GBA_CCM_MAX_ANCHORS];
	size_t ntrust_anchors;
	enum gba_ccm_revocation revocation_kind;
	struct gba_blob revocation;              /* OCSPResponse or CRL DER */
	int has_validity;
	int64_t not_before, not_after;
	int has_renew_by;
	int64_t renew_by;
};

/* Encode to DER; *der is a new buffer (gba_free). */
int gba_ccm_encode(const struct gba_ccm *ccm, uint8_t **der, size_t *len);

/*
 * Decode strictly.  On success *msg owns everything that *ccm points
 * to; free it with gba_ccm_msg_free once done with ccm.
 */
struct gba_ccm_msg;
int gba_ccm_decode(const uint8_t *der, size_t len, struct gba_ccm *ccm,
                   struct gba_ccm_msg **msg, struct gba_der_error *err);
void gba_ccm_msg_free(struct gba_ccm_msg *msg);

const char *gba_ccm_action_name(enum gba_ccm_action a);

#endif
