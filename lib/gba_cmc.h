/*
 * gba_cmc.h - CMC messages (RFC 5272, RFC 6402) and the request formats
 * they carry (PKCS#10, CRMF RFC 4211), on the generated codecs.
 * Implemented in gba_asn1_cmc.c; no asn1c type crosses this header.
 *
 * Parsing is strict (gba_asn1.h: DER gate, bounded decode, constraints,
 * re-encoding compared byte for byte) and structural only: this module
 * holds no key and checks no signature or MAC.  It hands the caller the
 * exact bytes each check needs (the received reqSequence TLV for
 * identityProofV2, the signed part of each request for its POP).
 *
 * Views borrow from a struct gba_cmc_msg that owns the decoded message:
 * everything a view points to is valid until gba_cmc_msg_free.
 *
 * Builders return new DER buffers (gba_free) and take a signing callback
 * (gba_sign_fn) where a signature is needed; they never see a key.
 */
#ifndef GBA_CMC_H
#define GBA_CMC_H

#include <stddef.h>
#include <stdint.h>

#include "gba_asn1.h"

#define GBA_CMC_MAX_CONTROLS   64u    /* controlSequence entries */
#define GBA_CMC_MAX_REQUESTS   16u    /* reqSequence entries */
#define GBA_CMC_MAX_VALUES     4u     /* attrValues per control */
#define GBA_CMC_MAX_BODY_LIST  32u    /* bodyList entries in a status */
#define GBA_CMC_MAX_NONCE      64u    /* senderNonce / recipientNonce octets */
#define GBA_CMC_MAX_TXID       32u    /* transactionId content octets */
#define GBA_CMC_BODY_ID_MAX    4294967295u

/* id-cmc-* control numbers: the last arc of 1.3.6.1.5.5.7.7.N. */
enum gba_cmc_control {
	GBA_CMC_UNKNOWN = 0,                 /* not under id-cmc, or unassigned */
	GBA_CMC_STATUS_INFO = 1,
	GBA_CMC_IDENTIFICATION = 2,
	GBA_CMC_IDENTITY_PROOF = 3,
	GBA_CMC_DATA_RETURN = 4,
	GBA_CMC_TRANSACTION_ID = 5,
	GBA_CMC_SENDER_NONCE = 6,
	GBA_CMC_RECIPIENT_NONCE = 7,
	GBA_CMC_ADD_EXTENSIONS = 8,
	GBA_CMC_ENCRYPTED_POP = 9,
	GBA_CMC_DECRYPTED_POP = 10,
	GBA_CMC_LRA_POP_WITNESS = 11,
	GBA_CMC_GET_CERT = 15,
	GBA_CMC_GET_CRL = 16,
	GBA_CMC_REVOKE_REQUEST = 17,
	GBA_CMC_REG_INFO = 18,
	GBA_CMC_RESPONSE_INFO = 19,
	GBA_CMC_QUERY_PENDING = 21,
	GBA_CMC_POP_LINK_RANDOM = 22,
	GBA_CMC_POP_LINK_WITNESS = 23,
	GBA_CMC_CONFIRM_CERT_ACCEPTANCE = 24,
	GBA_CMC_STATUS_INFO_V2 = 25,
	GBA_CMC_TRUSTED_ANCHORS = 26,
	GBA_CMC_AUTH_DATA = 27,
	GBA_CMC_BATCH_REQUESTS = 28,
	GBA_CMC_BATCH_RESPONSES = 29,
	GBA_CMC_PUBLISH_CERT = 30,
	GBA_CMC_MOD_CERT_TEMPLATE = 31,
	GBA_CMC_CONTROL_PROCESSED = 32,
	GBA_CMC_POP_LINK_WITNESS_V2 = 33,
	GBA_CMC_IDENTITY_PROOF_V2 = 34,
	GBA_CMC_RA_IDENTITY_WITNESS = 35,
	GBA_CMC_CHANGE_SUBJECT_NAME = 36,
	GBA_CMC_RESPONSE_BODY = 37
};

/* "transactionId", ...; "unknown" for anything else.  Static. */
const char *gba_cmc_control_name(enum gba_cmc_control c);

enum gba_cmc_status {
	GBA_CMC_SUCCESS = 0,
	GBA_CMC_FAILED = 2,
	GBA_CMC_PENDING = 3,
	GBA_CMC_NO_SUPPORT = 4,
	GBA_CMC_CONFIRM_REQUIRED = 5,
	GBA_CMC_POP_REQUIRED = 6,
	GBA_CMC_PARTIAL = 7
};

enum gba_cmc_fail {
	GBA_CMC_BAD_ALG = 0,
	GBA_CMC_BAD_MESSAGE_CHECK = 1,
	GBA_CMC_BAD_REQUEST = 2,
	GBA_CMC_BAD_TIME = 3,
	GBA_CMC_BAD_CERT_ID = 4,
	GBA_CMC_UNSUPPORTED_EXT = 5,
	GBA_CMC_MUST_ARCHIVE_KEYS = 6,
	GBA_CMC_BAD_IDENTITY = 7,
	GBA_CMC_POP_REQUIRED_FAIL = 8,
	GBA_CMC_POP_FAILED = 9,
	GBA_CMC_NO_KEY_REUSE = 10,
	GBA_CMC_INTERNAL_CA_ERROR = 11,
	GBA_CMC_TRY_LATER = 12,
	GBA_CMC_AUTH_DATA_FAIL = 13
};
const char *gba_cmc_status_name(enum gba_cmc_status s);  /* "success", ... */
const char *gba_cmc_fail_name(enum gba_cmc_fail f);      /* "badIdentity", ... */

/* ---- OIDs used by CMC (content octets) ---- */
extern const struct gba_oid gba_oid_sha256;          /* 2.16.840.1.101.3.4.2.1 */
extern const struct gba_oid gba_oid_sha1;            /* 1.3.14.3.2.26 */
extern const struct gba_oid gba_oid_hmac_sha256;     /* 1.2.840.113549.2.9 */
extern const struct gba_oid gba_oid_hmac_sha1;       /* 1.3.6.1.5.5.8.1.2 */

/* ================================================================
 * Parsing a Full PKI Request (the eContent of a SignedData whose
 * eContentType is id-cct-PKIData)
 * ================================================================ */

/* One TaggedAttribute of controlSequence. */
struct gba_cmc_attr {
	uint32_t body_part_id;
	struct gba_oid type;
	enum gba_cmc_control control;        /* GBA_CMC_UNKNOWN if not id-cmc */
	struct gba_blob values[GBA_CMC_MAX_VALUES];   /* DER of each value */
	size_t nvalues;                      /* >= 1 (the codec refuses 0) */
};

enum gba_cmc_req_kind { GBA_CMC_REQ_TCR, GBA_CMC_REQ_CRM, GBA_CMC_REQ_ORM };

/* PopLinkWitnessV2 / IdentifyProofV2: the same shape. */
struct gba_cmc_witness_v2 {
	struct gba_oid hash_alg;             /* keyGenAlgorithm / proofAlgID */
	struct gba_oid mac_alg;              /* macAlgorithm / macAlgId */
	int hash_params_present;             /* parameters present and not NULL */
	int mac_params_present;
	struct gba_blob witness;             /* OCTET STRING contents */
};

/* One TaggedRequest of reqSequence, as far as the CA needs it. */
struct gba_cmc_request {
	enum gba_cmc_req_kind kind;
	uint32_t body_part_id;               /* tcr bodyPartID; crm certReqId */
	/* Requested public key (DER SubjectPublicKeyInfo).  len 0 for orm,
	 * or a crm template without publicKey. */
	struct gba_blob spki;
	/* Requested subject Name DER (may be an empty SEQUENCE); len 0 when
	 * a crm template has none. */
	struct gba_blob subject;
	/* Requested extensions: the Extensions DER (PKCS#10 extensionRequest
	 * attribute value, or CertTemplate.extensions); len 0 when none. */
	struct gba_blob extensions;
	/* Contents of a requested subjectKeyIdentifier extension; len 0 if none. */
	struct gba_blob ski;
	int has_san;                         /* a subjectAltName was requested */
	/* POP by signature: tcr always; crm when popo is signature [1]. */
	int has_pop_sig;
	struct gba_blob pop_signed;          /* DER the signature covers:
	                                      * CertificationRequestInfo, or
	                                      * CertRequest (RFC 4211 4.1) */
	struct gba_oid pop_sig_alg;
	struct gba_blob pop_signature;       /* BIT STRING contents, without
	                                      * the unused-bits octet */
	int crm_pop_other;                   /* crm popo present but not signature */
	int crm_pop_sig_has_input;           /* crm POPOSigningKey.poposkInput present */
	/* popLinkWitnessV2 / popLinkWitness found inside the signed request:
	 * a PKCS#10 attribute (type id-cmc-popLinkWitnessV2) or a CRMF
	 * CertRequest control.  More than one is GBA_EDUP at parse time. */
	int has_pop_link_v2;
	struct gba_cmc_witness_v2 pop_link_v2;
	int has_pop_link_v1;
	struct gba_blob pop_link_v1;         /* OCTET STRING contents */
	int pkcs10_version;                  /* tcr: must be 0 (the parser refuses other) */
	struct gba_blob der;                 /* the whole TaggedRequest TLV */
};

struct gba_cmc_pkidata {
	const struct gba_cmc_attr *controls;
	size_t ncontrols;
	const struct gba_cmc_request *reqs;
	size_t nreqs;
	size_t ncms;                         /* cmsSequence entries */
	size_t nother;                       /* otherMsgSequence entries */
	/* The reqSequence TLV exactly as received (tag and length
	 * included): identityProofV2's MAC input (RFC 5272 6.2.1). */
	struct gba_blob req_sequence;
};

struct gba_cmc_msg;

/*
 * Parse PKIData DER (at most GBA_MAX_DER_LEN).  Besides strict decoding
 * it checks that every bodyPartID (controls, requests, cmsSequence,
 * otherMsgSequence) is in 1..GBA_CMC_BODY_ID_MAX and unique
 * (GBA_ECONSTRAINT / GBA_EDUP, err names the id), the caps above
 * (GBA_ETOOBIG), PKCS#10 version 0, and each request's inner structure
 * (a tcr's CertificationRequest and a crm's CertReqMsg are decoded
 * strictly, including the SPKI and extensions).  A control's value is
 * NOT decoded here: use the gba_cmc_get_* functions, which are strict.
 * On success *msg owns what *out points to.
 */
int gba_cmc_pkidata_parse(const uint8_t *der, size_t len, struct gba_cmc_pkidata *out,
                          struct gba_cmc_msg **msg, struct gba_der_error *err);

/* Parse one standalone PKCS#10 CertificationRequest (a Simple PKI
 * Request, or a portal CSR after PEM decoding) into a request view
 * (kind GBA_CMC_REQ_TCR, body_part_id 1). */
int gba_cmc_csr_parse(const uint8_t *der, size_t len, struct gba_cmc_request *out,
                      struct gba_cmc_msg **msg, struct gba_der_error *err);

void gba_cmc_msg_free(struct gba_cmc_msg *msg);

/* ---- control values: strict decoders ----
 * Each decodes one attrValues element (DER) and fails with the strict
 * decoding codes.  Outputs borrow from msg (kept alive by the caller)
 * or from the value itself. */

/* OCTET STRING values: senderNonce, recipientNonce, dataReturn, regInfo,
 * responseInfo, queryPending, popLinkRandom, identityProof, popLinkWitness. */
int gba_cmc_get_octets(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                       struct gba_der_error *err);
/* INTEGER (transactionId): content octets, 1..GBA_CMC_MAX_TXID. */
int gba_cmc_get_integer(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                        struct gba_der_error *err);
/* UTF8String (identification): its octets, not NUL-terminated. */
int gba_cmc_get_utf8(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                     struct gba_der_error *err);
/* identityProofV2 and popLinkWitnessV2 values. */
int gba_cmc_get_witness_v2(struct gba_cmc_msg *msg, struct gba_blob value,
                           struct gba_cmc_witness_v2 *out, struct gba_der_error *err);

/* getCert (GetCert) and confirmCertAcceptance (CMCCertId =
 * IssuerAndSerialNumber): the issuer Name DER (for getCert only a
 * directoryName GeneralName is accepted: GBA_EUNSUPP otherwise) and the
 * serial's INTEGER content octets. */
struct gba_cmc_cert_id {
	struct gba_blob issuer;              /* Name DER */
	struct gba_blob serial;
};
int gba_cmc_get_cert_id(struct gba_cmc_msg *msg, enum gba_cmc_control c, struct gba_blob value,
                        struct gba_cmc_cert_id *out, struct gba_der_error *err);

/* revokeRequest (RevokeRequest). */
struct gba_cmc_revoke {
	struct gba_blob issuer;              /* Name DER */
	struct gba_blob serial;              /* INTEGER content octets */
	int reason;                          /* CRLReason value 0..10 */
	int has_invalidity_date;
	int64_t invalidity_date;             /* UTC seconds */
	struct gba_blob passphrase;          /* len 0: absent */
	struct gba_blob comment;             /* UTF-8 octets; len 0: absent */
};
int gba_cmc_get_revoke(struct gba_cmc_msg *msg, struct gba_blob value,
                       struct gba_cmc_revoke *out, struct gba_der_error *err);

/* getCRL (GetCRL): issuerName Name DER; the optional fields are only
 * reported as present. */
struct gba_cmc_get_crl {
	struct gba_blob issuer;
	int has_crl_name, has_time, has_reasons;
};
int gba_cmc_get_getcrl(struct gba_cmc_msg *msg, struct gba_blob value,
                       struct gba_cmc_get_crl *out, struct gba_der_error *err);

/* ================================================================
 * Building a Full PKI Response (eContent of id-cct-PKIResponse)
 * ================================================================ */

/* One statusInfoV2 control. */
struct gba_cmc_status_info {
	enum gba_cmc_status status;
	const uint32_t *body_list;           /* BodyPartReference bodyPartIDs, */
	size_t nbody;                        /* 1..GBA_CMC_MAX_BODY_LIST; 0 is
	                                      * encoded as the single id 0
	                                      * ("the whole PKIData") */
	const char *status_string;           /* UTF-8; NULL: absent */
	int has_fail_info;                   /* otherInfo failInfo */
	enum gba_cmc_fail fail_info;
	int has_pend_info;                   /* otherInfo pendInfo */
	struct gba_blob pend_token;
	int64_t pend_time;                   /* UTC seconds */
};

/* Everything but statuses is optional (len 0: absent).  The builder
 * gives each control a fresh bodyPartID from 1 upwards. */
struct gba_cmc_response {
	const struct gba_cmc_status_info *statuses;
	size_t nstatuses;
	struct gba_blob transaction_id;      /* INTEGER content octets, echoed */
	struct gba_blob sender_nonce;        /* the CA's own nonce */
	struct gba_blob recipient_nonce;     /* the client's senderNonce */
	struct gba_blob data_return;         /* echoed as received */
	struct gba_blob response_info;
};

/* PKIResponse DER (not signed: wrap it with gba_cms_sign, eContentType
 * gba_oid_cct_pkiresponse).  *der is a new buffer (gba_free). */
int gba_cmc_response_encode(const struct gba_cmc_response *r, uint8_t **der, size_t *len);

/* ---- parsing a PKIResponse (the UE side) ---- */

struct gba_cmc_status_view {
	enum gba_cmc_status status;
	uint32_t body_list[GBA_CMC_MAX_BODY_LIST];
	size_t nbody;
	struct gba_blob status_string;
	int has_fail_info;
	enum gba_cmc_fail fail_info;
	int has_pend_info;
	struct gba_blob pend_token;
	int64_t pend_time;
};

struct gba_cmc_response_view {
	const struct gba_cmc_status_view *statuses;   /* statusInfoV2 controls */
	size_t nstatuses;
	struct gba_blob transaction_id;
	struct gba_blob sender_nonce;
	struct gba_blob recipient_nonce;
	struct gba_blob data_return;
	struct gba_blob response_info;
	size_t nunknown;                     /* other controls */
};
int gba_cmc_response_parse(const uint8_t *der, size_t len, struct gba_cmc_response_view *out,
                           struct gba_cmc_msg **msg, struct gba_der_error *err);

/* ================================================================
 * Building requests (gba-ue and the tests)
 * ================================================================ */

/* Control value encoders: *der is a new buffer (gba_free). */
int gba_cmc_encode_octets(const uint8_t *p, size_t len, uint8_t **der, size_t *dlen);
int gba_cmc_encode_integer(const uint8_t *p, size_t len, uint8_t **der, size_t *dlen);
int gba_cmc_encode_utf8(const char *p, size_t len, uint8_t **der, size_t *dlen);
/* IdentifyProofV2 / PopLinkWitnessV2 with SHA-256 and hmacWithSHA256
 * (parameters absent for both). */
int gba_cmc_encode_witness_v2(const uint8_t *witness, size_t len, uint8_t **der, size_t *dlen);
int gba_cmc_encode_cert_id(enum gba_cmc_control c, const struct gba_cmc_cert_id *id,
                           uint8_t **der, size_t *dlen);
int gba_cmc_encode_revoke(const struct gba_cmc_revoke *r, uint8_t **der, size_t *dlen);
/* GetCRL with only issuerName (a Name DER): the current full CRL. */
int gba_cmc_encode_getcrl(struct gba_blob issuer, uint8_t **der, size_t *dlen);

/* A PKCS#10 or CRMF request to build. */
struct gba_cmc_req_build {
	uint32_t body_part_id;               /* tcr bodyPartID / crm certReqId */
	struct gba_blob spki;                /* DER SubjectPublicKeyInfo */
	struct gba_blob subject;             /* Name DER; len 0: empty Name */
	struct gba_blob ski;                 /* subjectKeyIdentifier to request; len 0: none */
	struct gba_blob san;                 /* GeneralNames DER to request as
	                                      * subjectAltName; len 0: none */
	struct gba_blob pop_link_v2;         /* DER PopLinkWitnessV2 value; len 0: none */
	struct gba_oid sig_alg;              /* the key's signature algorithm */
	gba_sign_fn sign;                    /* signs with the requested key */
	void *sign_ctx;
	int no_pop;                          /* crm only: leave popo out (RFC 4211
	                                      * 4: POP shown another way); the
	                                      * tests' CRMF-without-POP case */
};

/* TaggedRequest DER: tcr [0] {bodyPartID, CertificationRequest} with the
 * SKI (and SAN) in an extensionRequest attribute and popLinkWitnessV2 as an
 * attribute, signed by req->sign. */
int gba_cmc_tcr_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len);
/* TaggedRequest DER: crm [1] CertReqMsg {certReq {certReqId, template
 * {subject, publicKey, extensions}, controls {popLinkWitnessV2}}, popo
 * signature over the DER of certReq (none with no_pop)}. */
int gba_cmc_crm_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len);
/* A standalone PKCS#10 CertificationRequest DER (Simple PKI Request,
 * portal): the same as the tcr's inner request. */
int gba_cmc_csr_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len);

/* reqSequence DER (SEQUENCE OF the given TaggedRequest DERs, in order):
 * the bytes identityProofV2 is computed over. */
int gba_cmc_reqseq_encode(const struct gba_blob *reqs, size_t nreqs, uint8_t **der,
                          size_t *len);

/* One control to put in a PKIData. */
struct gba_cmc_control_build {
	uint32_t body_part_id;
	enum gba_cmc_control control;        /* id-cmc-N */
	struct gba_blob value;               /* DER of the single attrValue */
};

/* PKIData DER from controls and a reqSequence DER (embedded verbatim,
 * so a witness computed over it stays valid); cmsSequence and
 * otherMsgSequence empty. */
int gba_cmc_pkidata_encode(const struct gba_cmc_control_build *controls, size_t ncontrols,
                           struct gba_blob req_sequence, uint8_t **der, size_t *len);

/* ================================================================
 * certs-only (Simple PKI Response, portal "chain")
 * ================================================================ */

/* ContentInfo{SignedData} with eContentType id-data, no eContent, no
 * signerInfos, certificates = certs (DER-sorted as SET OF wants).
 * *der is a new buffer (gba_free). */
int gba_cms_certs_only(const struct gba_blob *certs, size_t ncerts, uint8_t **der,
                       size_t *len);

#endif
