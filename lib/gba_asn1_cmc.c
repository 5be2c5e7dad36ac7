/*
 * gba_asn1_cmc.c - CMC (RFC 5272/6402), PKCS#10 and CRMF on the asn1c
 * code in gen/ (the contract is gba_cmc.h).
 *
 * Parsers copy the input into the message object, decode it strictly
 * and hand out slices of that copy found by a TLV walk (the received
 * bytes, which strict decoding proved equal to the re-encoding), or of
 * decoded members the message keeps.  Allocation goes through gba_mem.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asn_application.h"
#include "ANY.h"
#include "CMCCertId.h"
#include "CMCStatusInfoV2.h"
#include "CertReqMsg.h"
#include "Certificate.h"
#include "CertificationRequest.h"
#include "ContentInfo.h"
#include "Controls.h"
#include "Extension.h"
#include "ExtendedFailInfo.h"
#include "Extensions.h"
#include "GeneralNames.h"
#include "GetCRL.h"
#include "GetCert.h"
#include "IdentifyProofV2.h"
#include "OtherMsg.h"
#include "PKIData.h"
#include "PKIResponse.h"
#include "PendInfo.h"
#include "PopLinkWitnessV2.h"
#include "RevokeRequest.h"
#include "SignedData.h"
#include "TaggedAttribute.h"
#include "TaggedContentInfo.h"
#include "TaggedRequest.h"
#include "UTF8String.h"

#include "gba_asn1.h"
#include "gba_asn1_int.h"
#include "gba_cmc.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"

/* ---- OIDs (content octets) ---- */

static const uint8_t oid_id_cmc[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07 };
static const uint8_t oid_sha256_v[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_sha1_v[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t oid_hmac_sha256_v[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09 };
static const uint8_t oid_hmac_sha1_v[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x08, 0x01, 0x02 };
static const uint8_t oid_ext_req[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e };
static const uint8_t oid_ext_ski[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_ext_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_pkcs1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01 };
static const uint8_t oid_data_v[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const uint8_t oid_signed_data_v[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02
};
static const uint8_t der_null[] = { 0x05, 0x00 };
static const uint8_t der_empty_seq[] = { 0x30, 0x00 };

#define OID(a) { (a), sizeof(a) }
const struct gba_oid gba_oid_sha256 = OID(oid_sha256_v);
const struct gba_oid gba_oid_sha1 = OID(oid_sha1_v);
const struct gba_oid gba_oid_hmac_sha256 = OID(oid_hmac_sha256_v);
const struct gba_oid gba_oid_hmac_sha1 = OID(oid_hmac_sha1_v);

/* ---- names ---- */

const char *gba_cmc_control_name(enum gba_cmc_control c)
{
	switch (c) {
	case GBA_CMC_STATUS_INFO: return "statusInfo";
	case GBA_CMC_IDENTIFICATION: return "identification";
	case GBA_CMC_IDENTITY_PROOF: return "identityProof";
	case GBA_CMC_DATA_RETURN: return "dataReturn";
	case GBA_CMC_TRANSACTION_ID: return "transactionId";
	case GBA_CMC_SENDER_NONCE: return "senderNonce";
	case GBA_CMC_RECIPIENT_NONCE: return "recipientNonce";
	case GBA_CMC_ADD_EXTENSIONS: return "addExtensions";
	case GBA_CMC_ENCRYPTED_POP: return "encryptedPOP";
	case GBA_CMC_DECRYPTED_POP: return "decryptedPOP";
	case GBA_CMC_LRA_POP_WITNESS: return "lraPOPWitness";
	case GBA_CMC_GET_CERT: return "getCert";
	case GBA_CMC_GET_CRL: return "getCRL";
	case GBA_CMC_REVOKE_REQUEST: return "revokeRequest";
	case GBA_CMC_REG_INFO: return "regInfo";
	case GBA_CMC_RESPONSE_INFO: return "responseInfo";
	case GBA_CMC_QUERY_PENDING: return "queryPending";
	case GBA_CMC_POP_LINK_RANDOM: return "popLinkRandom";
	case GBA_CMC_POP_LINK_WITNESS: return "popLinkWitness";
	case GBA_CMC_CONFIRM_CERT_ACCEPTANCE: return "confirmCertAcceptance";
	case GBA_CMC_STATUS_INFO_V2: return "statusInfoV2";
	case GBA_CMC_TRUSTED_ANCHORS: return "trustedAnchors";
	case GBA_CMC_AUTH_DATA: return "authData";
	case GBA_CMC_BATCH_REQUESTS: return "batchRequests";
	case GBA_CMC_BATCH_RESPONSES: return "batchResponses";
	case GBA_CMC_PUBLISH_CERT: return "publishCert";
	case GBA_CMC_MOD_CERT_TEMPLATE: return "modCertTemplate";
	case GBA_CMC_CONTROL_PROCESSED: return "controlProcessed";
	case GBA_CMC_POP_LINK_WITNESS_V2: return "popLinkWitnessV2";
	case GBA_CMC_IDENTITY_PROOF_V2: return "identityProofV2";
	case GBA_CMC_RA_IDENTITY_WITNESS: return "raIdentityWitness";
	case GBA_CMC_CHANGE_SUBJECT_NAME: return "changeSubjectName";
	case GBA_CMC_RESPONSE_BODY: return "responseBody";
	case GBA_CMC_UNKNOWN: break;
	}
	return "unknown";
}

const char *gba_cmc_status_name(enum gba_cmc_status s)
{
	switch (s) {
	case GBA_CMC_SUCCESS: return "success";
	case GBA_CMC_FAILED: return "failed";
	case GBA_CMC_PENDING: return "pending";
	case GBA_CMC_NO_SUPPORT: return "noSupport";
	case GBA_CMC_CONFIRM_REQUIRED: return "confirmRequired";
	case GBA_CMC_POP_REQUIRED: return "popRequired";
	case GBA_CMC_PARTIAL: return "partial";
	}
	return "unknown";
}

const char *gba_cmc_fail_name(enum gba_cmc_fail f)
{
	static const char *const names[] = {
		"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId",
		"unsupportedExt", "mustArchiveKeys", "badIdentity", "popRequired",
		"popFailed", "noKeyReuse", "internalCAError", "tryLater", "authDataFail"
	};

	if ((unsigned)f >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[f];
}

static int status_known(long v)
{
	return v == 0 || (v >= 2 && v <= 7);
}

/* id-cmc-N for an assigned N, else GBA_CMC_UNKNOWN. */
static enum gba_cmc_control control_of(const OBJECT_IDENTIFIER_t *o)
{
	unsigned n;

	if (o->size != (int)sizeof(oid_id_cmc) + 1 ||
	    memcmp(o->buf, oid_id_cmc, sizeof(oid_id_cmc)) != 0)
		return GBA_CMC_UNKNOWN;
	n = o->buf[sizeof(oid_id_cmc)];
	if (n == 0 || n > GBA_CMC_RESPONSE_BODY || (n >= 12 && n <= 14) || n == 20)
		return GBA_CMC_UNKNOWN;
	return (enum gba_cmc_control)n;
}

/* ---- the message object ---- */

struct owned {
	asn_TYPE_descriptor_t *td;
	void *p;
};

#define MSG_MAX_OWNED (4 * (GBA_CMC_MAX_CONTROLS + GBA_CMC_MAX_REQUESTS) + 8)

struct gba_cmc_msg {
	uint8_t *der;                        /* copy of the input */
	size_t len;
	struct owned owned[MSG_MAX_OWNED];   /* decoded values or buffers (td NULL) */
	size_t nowned;
	struct gba_cmc_attr *controls;
	struct gba_cmc_request *reqs;
	struct gba_cmc_status_view *statuses;
};

void gba_cmc_msg_free(struct gba_cmc_msg *msg)
{
	size_t i;

	if (msg == NULL)
		return;
	for (i = 0; i < msg->nowned; i++) {
		if (msg->owned[i].td != NULL)
			ASN_STRUCT_FREE(*msg->owned[i].td, msg->owned[i].p);
		else
			gba_free(msg->owned[i].p);
	}
	gba_free(msg->controls);
	gba_free(msg->reqs);
	gba_free(msg->statuses);
	gba_free(msg->der);
	gba_free(msg);
}

/* Hand p (of type td, or a gba_malloc buffer if td is NULL) to msg. */
static int msg_keep(struct gba_cmc_msg *msg, asn_TYPE_descriptor_t *td, void *p)
{
	if (msg->nowned >= MSG_MAX_OWNED) {
		if (td != NULL)
			ASN_STRUCT_FREE(*td, p);
		else
			gba_free(p);
		return GBA_ETOOBIG;
	}
	msg->owned[msg->nowned].td = td;
	msg->owned[msg->nowned].p = p;
	msg->nowned++;
	return 0;
}

/* Strictly decode a nested value and keep it in msg. */
static int msg_decode(struct gba_cmc_msg *msg, asn_TYPE_descriptor_t *td, const uint8_t *p,
                      size_t len, void **out, struct gba_der_error *err)
{
	size_t base = 0;
	int ret;

	if (msg->der != NULL && p >= msg->der && p < msg->der + msg->len)
		base = (size_t)(p - msg->der);
	ret = gba_asn1_decode_strict(td, p, len, base, out, err);
	if (ret < 0)
		return ret;
	return msg_keep(msg, td, *out);
}

/* Re-encode a decoded member into a buffer msg keeps. */
static int msg_encode(struct gba_cmc_msg *msg, asn_TYPE_descriptor_t *td, void *p,
                      struct gba_blob *out)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = gba_asn1_encode_alloc(td, p, &der, &len);
	if (ret < 0)
		return ret;
	ret = msg_keep(msg, NULL, der);
	if (ret < 0)
		return ret;
	out->p = der;
	out->len = len;
	return 0;
}

static struct gba_cmc_msg *msg_new(const uint8_t *der, size_t len)
{
	struct gba_cmc_msg *msg = gba_calloc(1, sizeof(*msg));

	if (msg == NULL)
		return NULL;
	msg->der = gba_malloc(len > 0 ? len : 1);
	if (msg->der == NULL) {
		gba_free(msg);
		return NULL;
	}
	if (len > 0)
		memcpy(msg->der, der, len);
	msg->len = len;
	return msg;
}

/* ---- TLV walking over gated input ---- */

/* The next element at *pos before end. */
static int tlv_next(const uint8_t **pos, const uint8_t *end, struct gba_tlv *t)
{
	int ret;

	if (*pos >= end)
		return GBA_ENOTFOUND;
	ret = gba_asn1_tlv(*pos, (size_t)(end - *pos), t);
	if (ret < 0)
		return ret;
	*pos += t->len;
	return 0;
}

static struct gba_blob blob_of(const struct gba_tlv *t)
{
	struct gba_blob b = { t->p, t->len };

	return b;
}

static struct gba_blob content_of(const struct gba_tlv *t)
{
	struct gba_blob b = { t->c, t->clen };

	return b;
}

/* The TLV of a value that a strict decode has accepted. */
static int tlv_whole(struct gba_blob v, struct gba_tlv *t)
{
	int ret = gba_asn1_tlv(v.p, v.len, t);

	if (ret == 0 && t->len != v.len)
		ret = GBA_ESYNTAX;
	return ret;
}

static int body_id_ok(unsigned long v)
{
	return v >= 1 && v <= GBA_CMC_BODY_ID_MAX;
}

/* ---- control values ---- */

static int get_prim(asn_TYPE_descriptor_t *td, struct gba_blob value, struct gba_blob *out,
                    struct gba_der_error *err)
{
	struct gba_tlv t;
	void *p = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (value.p == NULL || value.len == 0) {
		gba_asn1_set_err(err, 0, "empty control value");
		return GBA_EMISSING;
	}
	ret = gba_asn1_decode_strict(td, value.p, value.len, 0, &p, err);
	if (ret < 0)
		return ret;
	ASN_STRUCT_FREE(*td, p);
	ret = tlv_whole(value, &t);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "control value is not one element");
		return ret;
	}
	*out = content_of(&t);
	return 0;
}

int gba_cmc_get_octets(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                       struct gba_der_error *err)
{
	(void)msg;
	return get_prim(&asn_DEF_OCTET_STRING, value, out, err);
}

int gba_cmc_get_integer(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                        struct gba_der_error *err)
{
	int ret;

	(void)msg;
	ret = get_prim(&asn_DEF_INTEGER, value, out, err);
	if (ret == 0 && out->len > GBA_CMC_MAX_TXID) {
		gba_asn1_set_err(err, 0, "INTEGER wider than GBA_CMC_MAX_TXID octets");
		memset(out, 0, sizeof(*out));
		ret = GBA_ETOOBIG;
	}
	return ret;
}

int gba_cmc_get_utf8(struct gba_cmc_msg *msg, struct gba_blob value, struct gba_blob *out,
                     struct gba_der_error *err)
{
	(void)msg;
	/* asn1c's UTF8String constraint checks the encoding */
	return get_prim(&asn_DEF_UTF8String, value, out, err);
}

/* An AlgorithmIdentifier TLV: its OID contents and whether parameters
 * other than NULL are present. */
static int alg_of(const struct gba_tlv *alg, struct gba_oid *oid, int *params)
{
	struct gba_tlv o, p;
	int ret;

	ret = gba_asn1_tlv_child(alg, 0, &o);
	if (ret < 0 || o.tag != 0x06)
		return GBA_ESYNTAX;
	oid->p = o.c;
	oid->len = o.clen;
	ret = gba_asn1_tlv_child(alg, 1, &p);
	if (ret == GBA_ENOTFOUND) {
		*params = 0;
		return 0;
	}
	if (ret < 0)
		return ret;
	*params = !(p.len == sizeof(der_null) && memcmp(p.p, der_null, sizeof(der_null)) == 0);
	return 0;
}

int gba_cmc_get_witness_v2(struct gba_cmc_msg *msg, struct gba_blob value,
                           struct gba_cmc_witness_v2 *out, struct gba_der_error *err)
{
	struct gba_tlv seq, a, b, w;
	void *p = NULL;
	int ret;

	(void)msg;
	memset(out, 0, sizeof(*out));
	if (value.p == NULL || value.len == 0) {
		gba_asn1_set_err(err, 0, "empty control value");
		return GBA_EMISSING;
	}
	/* IdentifyProofV2 and PopLinkWitnessV2 have the same shape */
	ret = gba_asn1_decode_strict(&asn_DEF_IdentifyProofV2, value.p, value.len, 0, &p, err);
	if (ret < 0)
		return ret;
	ASN_STRUCT_FREE(asn_DEF_IdentifyProofV2, p);
	ret = tlv_whole(value, &seq);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 0, &a);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 1, &b);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 2, &w);
	if (ret == 0)
		ret = alg_of(&a, &out->hash_alg, &out->hash_params_present);
	if (ret == 0)
		ret = alg_of(&b, &out->mac_alg, &out->mac_params_present);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "witness value does not walk");
		memset(out, 0, sizeof(*out));
		return GBA_ESYNTAX;
	}
	out->witness = content_of(&w);
	return 0;
}

int gba_cmc_get_cert_id(struct gba_cmc_msg *msg, enum gba_cmc_control c, struct gba_blob value,
                        struct gba_cmc_cert_id *out, struct gba_der_error *err)
{
	asn_TYPE_descriptor_t *td;
	struct gba_tlv seq, issuer, serial, name;
	void *p = NULL;
	int ret;

	(void)msg;
	memset(out, 0, sizeof(*out));
	if (c == GBA_CMC_GET_CERT)
		td = &asn_DEF_GetCert;
	else if (c == GBA_CMC_CONFIRM_CERT_ACCEPTANCE)
		td = &asn_DEF_CMCCertId;
	else
		return GBA_EINVAL;
	if (value.p == NULL || value.len == 0) {
		gba_asn1_set_err(err, 0, "empty control value");
		return GBA_EMISSING;
	}
	ret = gba_asn1_decode_strict(td, value.p, value.len, 0, &p, err);
	if (ret < 0)
		return ret;
	if (c == GBA_CMC_GET_CERT &&
	    ((GetCert_t *)p)->issuerName.present != GeneralName_PR_directoryName) {
		gba_asn1_set_err(err, 0, "getCert issuerName is not a directoryName");
		ret = GBA_EUNSUPP;
		goto out;
	}
	ret = tlv_whole(value, &seq);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 0, &issuer);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 1, &serial);
	/* directoryName [4] is an explicit tag around the Name */
	if (ret == 0 && c == GBA_CMC_GET_CERT) {
		ret = gba_asn1_tlv_child(&issuer, 0, &name);
		issuer = name;
	}
	if (ret < 0 || issuer.tag != 0x30 || serial.tag != 0x02) {
		gba_asn1_set_err(err, 0, "certificate id does not walk");
		ret = GBA_ESYNTAX;
		goto out;
	}
	out->issuer = blob_of(&issuer);
	out->serial = content_of(&serial);
	ret = 0;
out:
	ASN_STRUCT_FREE(*td, p);
	return ret;
}

int gba_cmc_get_revoke(struct gba_cmc_msg *msg, struct gba_blob value,
                       struct gba_cmc_revoke *out, struct gba_der_error *err)
{
	RevokeRequest_t *rr = NULL;
	struct gba_tlv seq, t;
	const uint8_t *pos, *end;
	long reason;
	size_t i;
	int ret;

	(void)msg;
	memset(out, 0, sizeof(*out));
	if (value.p == NULL || value.len == 0) {
		gba_asn1_set_err(err, 0, "empty control value");
		return GBA_EMISSING;
	}
	ret = gba_asn1_decode_strict(&asn_DEF_RevokeRequest, value.p, value.len, 0, (void **)&rr,
	                             err);
	if (ret < 0)
		return ret;
	if (asn_INTEGER2long(&rr->reason, &reason) != 0 || reason < 0 || reason > 10 ||
	    reason == 7) {
		gba_asn1_set_err(err, 0, "revokeRequest reason is not a CRLReason");
		ret = GBA_ECONSTRAINT;
		goto out;
	}
	out->reason = (int)reason;
	if (rr->invalidityDate != NULL) {
		ret = gba_asn1_get_gt(rr->invalidityDate, &out->invalidity_date);
		if (ret < 0) {
			gba_asn1_set_err(err, 0, "revokeRequest invalidityDate is not a time");
			goto out;
		}
		out->has_invalidity_date = 1;
	}
	ret = tlv_whole(value, &seq);
	pos = seq.c;
	end = seq.c + seq.clen;
	for (i = 0; ret == 0 && (ret = tlv_next(&pos, end, &t)) == 0; i++) {
		if (i == 0)
			out->issuer = blob_of(&t);
		else if (i == 1)
			out->serial = content_of(&t);
		else if (t.tag == 0x04)
			out->passphrase = content_of(&t);
		else if (t.tag == 0x0c)
			out->comment = content_of(&t);
	}
	if (ret != GBA_ENOTFOUND || i < 3) {
		gba_asn1_set_err(err, 0, "revokeRequest does not walk");
		ret = GBA_ESYNTAX;
		goto out;
	}
	ret = 0;
out:
	ASN_STRUCT_FREE(asn_DEF_RevokeRequest, rr);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

int gba_cmc_get_getcrl(struct gba_cmc_msg *msg, struct gba_blob value,
                       struct gba_cmc_get_crl *out, struct gba_der_error *err)
{
	GetCRL_t *g = NULL;
	struct gba_tlv seq, t;
	int ret;

	(void)msg;
	memset(out, 0, sizeof(*out));
	if (value.p == NULL || value.len == 0) {
		gba_asn1_set_err(err, 0, "empty control value");
		return GBA_EMISSING;
	}
	ret = gba_asn1_decode_strict(&asn_DEF_GetCRL, value.p, value.len, 0, (void **)&g, err);
	if (ret < 0)
		return ret;
	ret = tlv_whole(value, &seq);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&seq, 0, &t);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "getCRL does not walk");
		ret = GBA_ESYNTAX;
		goto out;
	}
	out->issuer = blob_of(&t);
	out->has_crl_name = g->cRLName != NULL;
	out->has_time = g->time != NULL;
	out->has_reasons = g->reasons != NULL;
out:
	ASN_STRUCT_FREE(asn_DEF_GetCRL, g);
	return ret;
}

/* ---- requests ---- */

/* Requested extensions: the SKI contents and whether a SAN is there. */
static int scan_extensions(const Extensions_t *exts, struct gba_cmc_request *r,
                           struct gba_der_error *err)
{
	struct gba_tlv t;
	int i, ret;

	for (i = 0; i < exts->list.count; i++) {
		const Extension_t *e = exts->list.array[i];

		if (gba_asn1_oid_is(&e->extnID, oid_ext_san, sizeof(oid_ext_san))) {
			if (r->has_san)
				goto dup;
			r->has_san = 1;
		} else if (gba_asn1_oid_is(&e->extnID, oid_ext_ski, sizeof(oid_ext_ski))) {
			struct gba_blob v = { e->extnValue.buf, (size_t)e->extnValue.size };

			if (r->ski.p != NULL)
				goto dup;
			ret = get_prim(&asn_DEF_OCTET_STRING, v, &r->ski, err);
			if (ret < 0)
				return ret;
			ret = tlv_whole(v, &t);
			if (ret < 0 || t.clen == 0) {
				gba_asn1_set_err(err, 0, "requested subjectKeyIdentifier is empty");
				return GBA_ECONSTRAINT;
			}
		}
	}
	return 0;
dup:
	gba_asn1_set_err(err, 0, "an extension is requested twice");
	return GBA_EDUP;
}

/* A popLinkWitnessV2 / popLinkWitness inside a request. */
static int pop_link(struct gba_cmc_msg *msg, enum gba_cmc_control c, struct gba_blob v,
                    struct gba_cmc_request *r, struct gba_der_error *err)
{
	if (c != GBA_CMC_POP_LINK_WITNESS_V2 && c != GBA_CMC_POP_LINK_WITNESS)
		return 0;
	if (r->has_pop_link_v2 || r->has_pop_link_v1) {
		gba_asn1_set_err(err, 0, "more than one POP link witness in a request");
		return GBA_EDUP;
	}
	if (c == GBA_CMC_POP_LINK_WITNESS_V2) {
		r->has_pop_link_v2 = 1;
		return gba_cmc_get_witness_v2(msg, v, &r->pop_link_v2, err);
	}
	r->has_pop_link_v1 = 1;
	return gba_cmc_get_octets(msg, v, &r->pop_link_v1, err);
}

static int get_signature(const BIT_STRING_t *bs, struct gba_blob *out, struct gba_der_error *err)
{
	if (bs->bits_unused != 0 || bs->size <= 0) {
		gba_asn1_set_err(err, 0, "signature is not a whole number of octets");
		return GBA_ESYNTAX;
	}
	out->p = bs->buf;
	out->len = (size_t)bs->size;
	return 0;
}

/* A PKCS#10 request: cr decoded (kept by msg), crt its received TLV. */
static int fill_csr(struct gba_cmc_msg *msg, const CertificationRequest_t *cr,
                    const struct gba_tlv *crt, struct gba_cmc_request *r,
                    struct gba_der_error *err)
{
	const CertificationRequestInfo_t *cri = &cr->certificationRequestInfo;
	struct gba_tlv info, subj, spki;
	long version;
	int i, ret;

	if (asn_INTEGER2long(&cri->version, &version) != 0 || version != 0) {
		gba_asn1_set_err(err, (size_t)(crt->p - msg->der), "PKCS#10 version is not v1 (0)");
		return GBA_EUNSUPP;
	}
	r->pkcs10_version = 0;
	ret = gba_asn1_tlv_child(crt, 0, &info);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&info, 1, &subj);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&info, 2, &spki);
	if (ret < 0) {
		gba_asn1_set_err(err, (size_t)(crt->p - msg->der), "PKCS#10 does not walk");
		return GBA_ESYNTAX;
	}
	r->pop_signed = blob_of(&info);
	r->subject = blob_of(&subj);
	r->spki = blob_of(&spki);
	r->has_pop_sig = 1;
	r->pop_sig_alg.p = cr->signatureAlgorithm.algorithm.buf;
	r->pop_sig_alg.len = (size_t)cr->signatureAlgorithm.algorithm.size;
	ret = get_signature(&cr->signature, &r->pop_signature, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < cri->attributes.list.count; i++) {
		const Attribute_t *a = cri->attributes.list.array[i];
		enum gba_cmc_control c = control_of(&a->type);
		struct gba_blob v;

		if (gba_asn1_oid_is(&a->type, oid_ext_req, sizeof(oid_ext_req))) {
			Extensions_t *exts = NULL;

			if (r->extensions.p != NULL || a->values.list.count != 1) {
				gba_asn1_set_err(err, 0, "extensionRequest repeated");
				return GBA_EDUP;
			}
			v.p = a->values.list.array[0]->buf;
			v.len = (size_t)a->values.list.array[0]->size;
			ret = msg_decode(msg, &asn_DEF_Extensions, v.p, v.len, (void **)&exts, err);
			if (ret < 0)
				return ret;
			r->extensions = v;
			ret = scan_extensions(exts, r, err);
		} else if (c == GBA_CMC_POP_LINK_WITNESS_V2 || c == GBA_CMC_POP_LINK_WITNESS) {
			if (a->values.list.count != 1) {
				gba_asn1_set_err(err, 0, "POP link witness attribute with several values");
				return GBA_EDUP;
			}
			v.p = a->values.list.array[0]->buf;
			v.len = (size_t)a->values.list.array[0]->size;
			ret = pop_link(msg, c, v, r, err);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* A CRMF request: m decoded (kept by msg), crt the received [1] TLV. */
static int fill_crm(struct gba_cmc_msg *msg, CertReqMsg_t *m, const struct gba_tlv *crt,
                    struct gba_cmc_request *r, struct gba_der_error *err)
{
	CertTemplate_t *tpl = &m->certReq.certTemplate;
	struct gba_tlv certreq, tplt, t, name;
	const uint8_t *pos, *end;
	unsigned long id;
	int i, ret;

	if (asn_INTEGER2ulong(&m->certReq.certReqId, &id) != 0 || !body_id_ok(id)) {
		gba_asn1_set_err(err, (size_t)(crt->p - msg->der),
		                 "certReqId (bodyPartID) is 0 or above 4294967295");
		return GBA_ECONSTRAINT;
	}
	r->body_part_id = (uint32_t)id;
	ret = gba_asn1_tlv_child(crt, 0, &certreq);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&certreq, 1, &tplt);
	if (ret < 0) {
		gba_asn1_set_err(err, (size_t)(crt->p - msg->der), "CertReqMsg does not walk");
		return GBA_ESYNTAX;
	}
	/* subject [5] Name: an explicit tag (Name is a CHOICE) */
	pos = tplt.c;
	end = tplt.c + tplt.clen;
	while ((ret = tlv_next(&pos, end, &t)) == 0) {
		if (t.tag != 0xa5)
			continue;
		ret = gba_asn1_tlv_child(&t, 0, &name);
		if (ret < 0)
			return GBA_ESYNTAX;
		r->subject = blob_of(&name);
	}
	if (ret != GBA_ENOTFOUND)
		return GBA_ESYNTAX;
	/* publicKey [6] and extensions [9] are implicit: re-encode them
	 * with their own tag (strict decoding proved the contents equal) */
	if (tpl->publicKey != NULL) {
		ret = msg_encode(msg, &asn_DEF_SubjectPublicKeyInfo, tpl->publicKey, &r->spki);
		if (ret < 0)
			return ret;
	}
	if (tpl->extensions != NULL) {
		ret = msg_encode(msg, &asn_DEF_Extensions, tpl->extensions, &r->extensions);
		if (ret == 0)
			ret = scan_extensions(tpl->extensions, r, err);
		if (ret < 0)
			return ret;
	}
	for (i = 0; m->certReq.controls != NULL && i < m->certReq.controls->list.count; i++) {
		const AttributeTypeAndValue_t *a = m->certReq.controls->list.array[i];
		struct gba_blob v = { a->value.buf, (size_t)a->value.size };

		ret = pop_link(msg, control_of(&a->type), v, r, err);
		if (ret < 0)
			return ret;
	}
	if (m->popo == NULL)
		return 0;
	if (m->popo->present != ProofOfPossession_PR_signature) {
		r->crm_pop_other = 1;
		return 0;
	}
	r->has_pop_sig = 1;
	r->pop_signed = blob_of(&certreq);
	r->crm_pop_sig_has_input = m->popo->choice.signature.poposkInput != NULL;
	r->pop_sig_alg.p = m->popo->choice.signature.algorithmIdentifier.algorithm.buf;
	r->pop_sig_alg.len = (size_t)m->popo->choice.signature.algorithmIdentifier.algorithm.size;
	if (!r->crm_pop_sig_has_input && (tpl->subject == NULL || tpl->publicKey == NULL)) {
		gba_asn1_set_err(err, (size_t)(crt->p - msg->der),
		                 "POP signature over certReq needs subject and publicKey");
		return GBA_EMISSING;
	}
	return get_signature(&m->popo->choice.signature.signature, &r->pop_signature, err);
}

/* ---- PKIData ---- */

struct body_ref {
	uint32_t id;
	size_t off;
};

static int cmp_body(const void *a, const void *b)
{
	const struct body_ref *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int add_body(struct body_ref *ids, size_t *n, size_t cap, unsigned long id, size_t off,
                    struct gba_der_error *err)
{
	if (!body_id_ok(id)) {
		gba_asn1_set_err(err, off, "bodyPartID is 0 or above 4294967295");
		return GBA_ECONSTRAINT;
	}
	if (*n >= cap)
		return GBA_EINTERNAL;
	ids[*n].id = (uint32_t)id;
	ids[*n].off = off;
	(*n)++;
	return 0;
}

static int check_unique(struct body_ref *ids, size_t n, struct gba_der_error *err)
{
	size_t i;

	qsort(ids, n, sizeof(*ids), cmp_body);
	for (i = 1; i < n; i++) {
		if (ids[i].id == ids[i - 1].id) {
			gba_asn1_set_err(err, ids[i].off, "bodyPartID used twice");
			return GBA_EDUP;
		}
	}
	return 0;
}

/* Count the elements of a SEQUENCE OF TLV. */
static int count_children(const struct gba_tlv *t, size_t *n)
{
	const uint8_t *pos = t->c, *end = t->c + t->clen;
	struct gba_tlv c;
	int ret;

	*n = 0;
	while ((ret = tlv_next(&pos, end, &c)) == 0)
		(*n)++;
	return ret == GBA_ENOTFOUND ? 0 : ret;
}

static int fill_control(struct gba_cmc_msg *msg, const TaggedAttribute_t *ta,
                        struct gba_cmc_attr *a, size_t off, struct gba_der_error *err)
{
	int j;

	a->body_part_id = (uint32_t)ta->bodyPartID;
	a->type.p = ta->attrType.buf;
	a->type.len = (size_t)ta->attrType.size;
	a->control = control_of(&ta->attrType);
	if (ta->attrValues.list.count <= 0) {
		gba_asn1_set_err(err, off, "control without a value");
		return GBA_EMISSING;
	}
	if ((size_t)ta->attrValues.list.count > GBA_CMC_MAX_VALUES) {
		gba_asn1_set_err(err, off, "control with more than GBA_CMC_MAX_VALUES values");
		return GBA_ETOOBIG;
	}
	for (j = 0; j < ta->attrValues.list.count; j++) {
		a->values[j].p = ta->attrValues.list.array[j]->buf;
		a->values[j].len = (size_t)ta->attrValues.list.array[j]->size;
	}
	a->nvalues = (size_t)ta->attrValues.list.count;
	(void)msg;
	return 0;
}

static int pkidata_parse_inner(const uint8_t *der, size_t len, struct gba_cmc_pkidata *out,
                          struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_cmc_msg *msg = NULL;
	PKIData_t *pd = NULL;
	struct gba_tlv top, ctl, rs, cms, oth, t;
	const uint8_t *pos;
	struct body_ref *ids = NULL;
	size_t nctl, nreq, ncms, noth, nids = 0, cap, i;
	int ret;

	*msgp = NULL;
	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0)
		return GBA_EINVAL;
	ret = gba_der_check_default(der, len, err);
	if (ret < 0)
		return ret;
	msg = msg_new(der, len);
	if (msg == NULL)
		return GBA_ENOMEM;
	/* caps first, on the gated bytes, before the decoder allocates */
	ret = gba_asn1_tlv(msg->der, len, &top);
	if (ret == 0 && top.tag != 0x30)
		ret = GBA_ESYNTAX;
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 0, &ctl);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 1, &rs);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 2, &cms);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 3, &oth);
	if (ret == 0)
		ret = count_children(&ctl, &nctl);
	if (ret == 0)
		ret = count_children(&rs, &nreq);
	if (ret == 0)
		ret = count_children(&cms, &ncms);
	if (ret == 0)
		ret = count_children(&oth, &noth);
	if (ret < 0 || ctl.tag != 0x30 || rs.tag != 0x30) {
		gba_asn1_set_err(err, 0, "not a PKIData of four sequences");
		ret = GBA_ESYNTAX;
		goto out;
	}
	if (nctl > GBA_CMC_MAX_CONTROLS || nreq > GBA_CMC_MAX_REQUESTS) {
		gba_asn1_set_err(err, nctl > GBA_CMC_MAX_CONTROLS ? (size_t)(ctl.p - msg->der) :
		                 (size_t)(rs.p - msg->der), "too many controls or requests");
		ret = GBA_ETOOBIG;
		goto out;
	}
	ret = msg_decode(msg, &asn_DEF_PKIData, msg->der, len, (void **)&pd, err);
	if (ret < 0)
		goto out;
	if ((size_t)pd->controlSequence.list.count != nctl ||
	    (size_t)pd->reqSequence.list.count != nreq ||
	    (size_t)pd->cmsSequence.list.count != ncms ||
	    (size_t)pd->otherMsgSequence.list.count != noth) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	cap = nctl + nreq + ncms + noth + 1;
	ids = gba_calloc(cap, sizeof(*ids));
	msg->controls = gba_calloc(nctl + 1, sizeof(*msg->controls));
	msg->reqs = gba_calloc(nreq + 1, sizeof(*msg->reqs));
	if (ids == NULL || msg->controls == NULL || msg->reqs == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	out->req_sequence = blob_of(&rs);

	pos = ctl.c;
	for (i = 0; i < nctl; i++) {
		const TaggedAttribute_t *ta = pd->controlSequence.list.array[i];
		size_t off;

		ret = tlv_next(&pos, ctl.c + ctl.clen, &t);
		if (ret < 0)
			goto out;
		off = (size_t)(t.p - msg->der);
		ret = add_body(ids, &nids, cap, ta->bodyPartID, off, err);
		if (ret == 0)
			ret = fill_control(msg, ta, &msg->controls[i], off, err);
		if (ret < 0)
			goto out;
	}
	pos = rs.c;
	for (i = 0; i < nreq; i++) {
		TaggedRequest_t *tr = pd->reqSequence.list.array[i];
		struct gba_cmc_request *r = &msg->reqs[i];
		struct gba_tlv inner;
		size_t off;

		ret = tlv_next(&pos, rs.c + rs.clen, &t);
		if (ret < 0)
			goto out;
		off = (size_t)(t.p - msg->der);
		r->der = blob_of(&t);
		switch (tr->present) {
		case TaggedRequest_PR_tcr:
			r->kind = GBA_CMC_REQ_TCR;
			ret = add_body(ids, &nids, cap, tr->choice.tcr.bodyPartID, off, err);
			if (ret == 0)
				ret = gba_asn1_tlv_child(&t, 1, &inner);
			if (ret == 0) {
				r->body_part_id = (uint32_t)tr->choice.tcr.bodyPartID;
				ret = fill_csr(msg, &tr->choice.tcr.certificationRequest, &inner, r,
				               err);
			}
			break;
		case TaggedRequest_PR_crm:
			r->kind = GBA_CMC_REQ_CRM;
			ret = fill_crm(msg, &tr->choice.crm, &t, r, err);
			if (ret == 0)
				ret = add_body(ids, &nids, cap, r->body_part_id, off, err);
			break;
		case TaggedRequest_PR_orm:
			r->kind = GBA_CMC_REQ_ORM;
			ret = add_body(ids, &nids, cap, tr->choice.orm.bodyPartID, off, err);
			r->body_part_id = (uint32_t)tr->choice.orm.bodyPartID;
			break;
		default:
			ret = GBA_ESYNTAX;
		}
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < ncms; i++) {
		ret = add_body(ids, &nids, cap, pd->cmsSequence.list.array[i]->bodyPartID,
		               (size_t)(cms.p - msg->der), err);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < noth; i++) {
		ret = add_body(ids, &nids, cap, pd->otherMsgSequence.list.array[i]->bodyPartID,
		               (size_t)(oth.p - msg->der), err);
		if (ret < 0)
			goto out;
	}
	ret = check_unique(ids, nids, err);
	if (ret < 0)
		goto out;
	out->controls = msg->controls;
	out->ncontrols = nctl;
	out->reqs = msg->reqs;
	out->nreqs = nreq;
	out->ncms = ncms;
	out->nother = noth;
	*msgp = msg;
	msg = NULL;
out:
	gba_free(ids);
	gba_cmc_msg_free(msg);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* The parsers' common exit: every refusal names a reason, whatever path
 * it took; *err (may be NULL) gets it. */
static int refused(int ret, struct gba_der_error *e, struct gba_der_error *err)
{
	if (ret < 0 && e->reason == NULL)
		e->reason = "message refused";
	if (ret < 0 && err != NULL)
		*err = *e;
	return ret;
}

/* Every refusal names a reason, whatever path it took. */
int gba_cmc_pkidata_parse(const uint8_t *der, size_t len, struct gba_cmc_pkidata *out,
                          struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_der_error e = { 0, NULL };
	int ret = pkidata_parse_inner(der, len, out, msgp, &e);

	return refused(ret, &e, err);
}

static int csr_parse_inner(const uint8_t *der, size_t len, struct gba_cmc_request *out,
                      struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_cmc_msg *msg;
	CertificationRequest_t *cr = NULL;
	struct gba_tlv t;
	int ret;

	*msgp = NULL;
	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0)
		return GBA_EINVAL;
	msg = msg_new(der, len);
	if (msg == NULL)
		return GBA_ENOMEM;
	ret = msg_decode(msg, &asn_DEF_CertificationRequest, msg->der, len, (void **)&cr, err);
	if (ret < 0)
		goto out;
	ret = gba_asn1_tlv(msg->der, len, &t);
	if (ret < 0)
		goto out;
	out->kind = GBA_CMC_REQ_TCR;
	out->body_part_id = 1;
	out->der = blob_of(&t);
	ret = fill_csr(msg, cr, &t, out, err);
	if (ret < 0)
		goto out;
	*msgp = msg;
	msg = NULL;
out:
	gba_cmc_msg_free(msg);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* Every refusal names a reason, whatever path it took. */
int gba_cmc_csr_parse(const uint8_t *der, size_t len, struct gba_cmc_request *out,
                      struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_der_error e = { 0, NULL };
	int ret = csr_parse_inner(der, len, out, msgp, &e);

	return refused(ret, &e, err);
}

/* ---- PKIResponse: parsing ---- */

static int fill_status(struct gba_cmc_msg *msg, struct gba_blob v, struct gba_cmc_status_view *s,
                       struct gba_der_error *err)
{
	CMCStatusInfoV2_t *st = NULL;
	struct gba_tlv seq, last, first;
	const uint8_t *pos;
	size_t n = 0;
	long l;
	int i, ret;

	ret = msg_decode(msg, &asn_DEF_CMCStatusInfoV2, v.p, v.len, (void **)&st, err);
	if (ret < 0)
		return ret;
	if (asn_INTEGER2long(&st->cMCStatus, &l) != 0 || !status_known(l)) {
		gba_asn1_set_err(err, 0, "unknown CMCStatus");
		return GBA_ECONSTRAINT;
	}
	s->status = (enum gba_cmc_status)l;
	if ((size_t)st->bodyList.list.count > GBA_CMC_MAX_BODY_LIST) {
		gba_asn1_set_err(err, 0, "bodyList longer than GBA_CMC_MAX_BODY_LIST");
		return GBA_ETOOBIG;
	}
	for (i = 0; i < st->bodyList.list.count; i++) {
		const BodyPartReference_t *b = st->bodyList.list.array[i];

		if (b->present != BodyPartReference_PR_bodyPartID) {
			gba_asn1_set_err(err, 0, "bodyPartPath in a status is not supported");
			return GBA_EUNSUPP;
		}
		if (b->choice.bodyPartID > GBA_CMC_BODY_ID_MAX) {
			gba_asn1_set_err(err, 0, "bodyPartID above 4294967295");
			return GBA_ECONSTRAINT;
		}
		s->body_list[i] = (uint32_t)b->choice.bodyPartID;
	}
	s->nbody = (size_t)st->bodyList.list.count;
	if (st->statusString != NULL) {
		s->status_string.p = st->statusString->buf;
		s->status_string.len = (size_t)st->statusString->size;
	}
	if (st->otherInfo == NULL)
		return 0;
	if (st->otherInfo->present == OtherStatusInfoWire_PR_failInfo) {
		if (asn_INTEGER2long(&st->otherInfo->choice.failInfo, &l) != 0 || l < 0 ||
		    l > GBA_CMC_AUTH_DATA_FAIL) {
			gba_asn1_set_err(err, 0, "unknown CMCFailInfo");
			return GBA_ECONSTRAINT;
		}
		s->has_fail_info = 1;
		s->fail_info = (enum gba_cmc_fail)l;
		return 0;
	}
	/* pendInfo (first element an OCTET STRING) or extendedFailInfo
	 * (first element an OID): the SEQUENCE is the last element */
	ret = tlv_whole(v, &seq);
	pos = seq.c;
	while (ret == 0 && tlv_next(&pos, seq.c + seq.clen, &last) == 0)
		n++;
	if (ret == 0 && (n < 3 || last.tag != 0x30))
		ret = GBA_ESYNTAX;
	if (ret == 0)
		ret = gba_asn1_tlv_child(&last, 0, &first);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "otherInfo does not walk");
		return GBA_ESYNTAX;
	}
	if (first.tag == 0x04) {
		PendInfo_t *pi = NULL;

		ret = msg_decode(msg, &asn_DEF_PendInfo, last.p, last.len, (void **)&pi, err);
		if (ret < 0)
			return ret;
		ret = gba_asn1_get_gt(&pi->pendTime, &s->pend_time);
		if (ret < 0) {
			gba_asn1_set_err(err, 0, "pendTime is not a time");
			return ret;
		}
		s->has_pend_info = 1;
		s->pend_token.p = pi->pendToken.buf;
		s->pend_token.len = (size_t)pi->pendToken.size;
		return 0;
	}
	if (first.tag == 0x06) {
		void *ef = NULL;

		/* extendedFailInfo: checked, reported as neither */
		return msg_decode(msg, &asn_DEF_ExtendedFailInfo, last.p, last.len, &ef, err);
	}
	gba_asn1_set_err(err, 0, "otherInfo is neither pendInfo nor extendedFailInfo");
	return GBA_ESYNTAX;
}

static int response_parse_inner(const uint8_t *der, size_t len, struct gba_cmc_response_view *out,
                           struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_cmc_msg *msg = NULL;
	PKIResponse_t *pr = NULL;
	struct gba_tlv top, ctl;
	struct body_ref *ids = NULL;
	size_t nctl = 0, nids = 0, cap, i, ns = 0;
	int ret;

	*msgp = NULL;
	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0)
		return GBA_EINVAL;
	ret = gba_der_check_default(der, len, err);
	if (ret < 0)
		return ret;
	msg = msg_new(der, len);
	if (msg == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_tlv(msg->der, len, &top);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 0, &ctl);
	if (ret == 0)
		ret = count_children(&ctl, &nctl);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "not a PKIResponse");
		ret = GBA_ESYNTAX;
		goto out;
	}
	if (nctl > GBA_CMC_MAX_CONTROLS) {
		gba_asn1_set_err(err, (size_t)(ctl.p - msg->der), "too many controls");
		ret = GBA_ETOOBIG;
		goto out;
	}
	ret = msg_decode(msg, &asn_DEF_PKIResponse, msg->der, len, (void **)&pr, err);
	if (ret < 0)
		goto out;
	cap = nctl + (size_t)pr->cmsSequence.list.count + (size_t)pr->otherMsgSequence.list.count + 1;
	ids = gba_calloc(cap, sizeof(*ids));
	msg->statuses = gba_calloc(nctl + 1, sizeof(*msg->statuses));
	if (ids == NULL || msg->statuses == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	for (i = 0; i < (size_t)pr->controlSequence.list.count; i++) {
		const TaggedAttribute_t *ta = pr->controlSequence.list.array[i];
		enum gba_cmc_control c = control_of(&ta->attrType);
		struct gba_blob v, *dst = NULL;

		ret = add_body(ids, &nids, cap, ta->bodyPartID, 0, err);
		if (ret < 0)
			goto out;
		if (ta->attrValues.list.count != 1) {
			if (c == GBA_CMC_UNKNOWN) {
				out->nunknown++;
				continue;
			}
			gba_asn1_set_err(err, 0, "control without exactly one value");
			ret = ta->attrValues.list.count == 0 ? GBA_EMISSING : GBA_EDUP;
			goto out;
		}
		v.p = ta->attrValues.list.array[0]->buf;
		v.len = (size_t)ta->attrValues.list.array[0]->size;
		switch (c) {
		case GBA_CMC_STATUS_INFO_V2:
			ret = fill_status(msg, v, &msg->statuses[ns], err);
			ns++;
			break;
		case GBA_CMC_TRANSACTION_ID:
			dst = &out->transaction_id;
			break;
		case GBA_CMC_SENDER_NONCE:
			dst = &out->sender_nonce;
			break;
		case GBA_CMC_RECIPIENT_NONCE:
			dst = &out->recipient_nonce;
			break;
		case GBA_CMC_DATA_RETURN:
			dst = &out->data_return;
			break;
		case GBA_CMC_RESPONSE_INFO:
			dst = &out->response_info;
			break;
		default:
			out->nunknown++;
		}
		if (ret == 0 && dst != NULL) {
			if (dst->p != NULL) {
				gba_asn1_set_err(err, 0, "control repeated");
				ret = GBA_EDUP;
			} else if (c == GBA_CMC_TRANSACTION_ID) {
				ret = gba_cmc_get_integer(msg, v, dst, err);
			} else {
				ret = gba_cmc_get_octets(msg, v, dst, err);
				if (ret == 0 && (c == GBA_CMC_SENDER_NONCE ||
				                 c == GBA_CMC_RECIPIENT_NONCE) &&
				    dst->len > GBA_CMC_MAX_NONCE) {
					gba_asn1_set_err(err, 0, "nonce longer than GBA_CMC_MAX_NONCE");
					ret = GBA_ETOOBIG;
				}
			}
		}
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < (size_t)pr->cmsSequence.list.count; i++) {
		ret = add_body(ids, &nids, cap, pr->cmsSequence.list.array[i]->bodyPartID, 0, err);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < (size_t)pr->otherMsgSequence.list.count; i++) {
		ret = add_body(ids, &nids, cap, pr->otherMsgSequence.list.array[i]->bodyPartID, 0,
		               err);
		if (ret < 0)
			goto out;
	}
	ret = check_unique(ids, nids, err);
	if (ret < 0)
		goto out;
	out->statuses = msg->statuses;
	out->nstatuses = ns;
	*msgp = msg;
	msg = NULL;
out:
	gba_free(ids);
	gba_cmc_msg_free(msg);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* Every refusal names a reason, whatever path it took. */
int gba_cmc_response_parse(const uint8_t *der, size_t len, struct gba_cmc_response_view *out,
                           struct gba_cmc_msg **msgp, struct gba_der_error *err)
{
	struct gba_der_error e = { 0, NULL };
	int ret = response_parse_inner(der, len, out, msgp, &e);

	return refused(ret, &e, err);
}

/* ---- encoders ---- */

/* A primitive value whose C type is an OCTET_STRING_t look-alike. */
static int encode_prim(asn_TYPE_descriptor_t *td, const void *p, size_t len, uint8_t **der,
                       size_t *dlen)
{
	OCTET_STRING_t v;
	char cmsg[128];
	size_t cmsg_len = sizeof(cmsg);
	int ret;

	*der = NULL;
	*dlen = 0;
	if (p == NULL && len > 0)
		return GBA_EINVAL;
	memset(&v, 0, sizeof(v));
	ret = gba_asn1_set_bytes(&v.buf, &v.size, p, len);
	if (ret == 0 && asn_check_constraints(td, &v, cmsg, &cmsg_len) != 0)
		ret = GBA_ECONSTRAINT;
	if (ret == 0)
		ret = gba_asn1_encode_alloc(td, &v, der, dlen);
	/* what we emit passes our own gate (e.g. a minimal INTEGER) */
	if (ret == 0 && gba_der_check_default(*der, *dlen, NULL) != 0) {
		gba_free(*der);
		*der = NULL;
		*dlen = 0;
		ret = GBA_EINVAL;
	}
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_OCTET_STRING, &v);
	return ret;
}

int gba_cmc_encode_octets(const uint8_t *p, size_t len, uint8_t **der, size_t *dlen)
{
	return encode_prim(&asn_DEF_OCTET_STRING, p, len, der, dlen);
}

int gba_cmc_encode_integer(const uint8_t *p, size_t len, uint8_t **der, size_t *dlen)
{
	int ret;

	if (len == 0 || len > GBA_CMC_MAX_TXID) {
		*der = NULL;
		*dlen = 0;
		return len == 0 ? GBA_EINVAL : GBA_ETOOBIG;
	}
	ret = encode_prim(&asn_DEF_INTEGER, p, len, der, dlen);
	/* asn1c drops redundant leading octets: refuse rather than echo
	 * a different value */
	if (ret == 0 && (*dlen < len || memcmp(*der + *dlen - len, p, len) != 0)) {
		gba_free(*der);
		*der = NULL;
		*dlen = 0;
		ret = GBA_EINVAL;
	}
	return ret;
}

int gba_cmc_encode_utf8(const char *p, size_t len, uint8_t **der, size_t *dlen)
{
	return encode_prim(&asn_DEF_UTF8String, p, len, der, dlen);
}

static int set_alg(AlgorithmIdentifier_t *a, const uint8_t *oid, size_t len, int null_params)
{
	int ret = gba_asn1_set_bytes(&a->algorithm.buf, &a->algorithm.size, oid, len);

	if (ret < 0 || !null_params)
		return ret;
	a->parameters = gba_calloc(1, sizeof(*a->parameters));
	if (a->parameters == NULL)
		return GBA_ENOMEM;
	return GBA_SET_OCTETS(a->parameters, der_null, sizeof(der_null));
}

/* Signature AlgorithmIdentifier: NULL parameters for PKCS#1 v1.5
 * (sha*WithRSAEncryption), absent for ECDSA and Ed25519. */
static int set_sig_alg(AlgorithmIdentifier_t *a, struct gba_oid oid)
{
	int rsa = oid.len == sizeof(oid_pkcs1) + 1 &&
	          memcmp(oid.p, oid_pkcs1, sizeof(oid_pkcs1)) == 0 &&
	          oid.p[sizeof(oid_pkcs1)] != 0x0a;      /* RSASSA-PSS has its own */

	if (oid.p == NULL || oid.len == 0)
		return GBA_EINVAL;
	return set_alg(a, oid.p, oid.len, rsa);
}

int gba_cmc_encode_witness_v2(const uint8_t *witness, size_t len, uint8_t **der, size_t *dlen)
{
	IdentifyProofV2_t w;
	int ret;

	*der = NULL;
	*dlen = 0;
	if (witness == NULL || len == 0)
		return GBA_EINVAL;
	memset(&w, 0, sizeof(w));
	ret = set_alg(&w.proofAlgID, oid_sha256_v, sizeof(oid_sha256_v), 0);
	if (ret == 0)
		ret = set_alg(&w.macAlgId, oid_hmac_sha256_v, sizeof(oid_hmac_sha256_v), 0);
	if (ret == 0)
		ret = GBA_SET_OCTETS(&w.witness, witness, len);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_IdentifyProofV2, &w, der, dlen);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_IdentifyProofV2, &w);
	return ret;
}

static int check_serial(struct gba_blob serial)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	if (serial.len == 0 || serial.len > 64)
		return GBA_EINVAL;
	ret = encode_prim(&asn_DEF_INTEGER, serial.p, serial.len, &der, &len);
	if (ret == 0 && (len < serial.len || memcmp(der + len - serial.len, serial.p, serial.len) != 0))
		ret = GBA_EINVAL;
	gba_free(der);
	return ret;
}

int gba_cmc_encode_cert_id(enum gba_cmc_control c, const struct gba_cmc_cert_id *id,
                           uint8_t **der, size_t *dlen)
{
	GetCert_t gc;
	IssuerAndSerialNumber_t ias;
	int ret;

	*der = NULL;
	*dlen = 0;
	memset(&gc, 0, sizeof(gc));
	memset(&ias, 0, sizeof(ias));
	ret = check_serial(id->serial);
	if (ret < 0)
		return ret;
	if (c == GBA_CMC_GET_CERT) {
		gc.issuerName.present = GeneralName_PR_directoryName;
		ret = gba_asn1_decode_into(&asn_DEF_Name, id->issuer.p, id->issuer.len,
		                           &gc.issuerName.choice.directoryName,
		                           sizeof(gc.issuerName.choice.directoryName));
		if (ret < 0)
			gc.issuerName.present = GeneralName_PR_NOTHING;
		if (ret == 0)
			ret = GBA_SET_OCTETS(&gc.serialNumber, id->serial.p, id->serial.len);
		if (ret == 0)
			ret = gba_asn1_encode_alloc(&asn_DEF_GetCert, &gc, der, dlen);
		ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_GetCert, &gc);
		return ret;
	}
	if (c != GBA_CMC_CONFIRM_CERT_ACCEPTANCE)
		return GBA_EINVAL;
	ret = gba_asn1_decode_into(&asn_DEF_Name, id->issuer.p, id->issuer.len, &ias.issuer,
	                           sizeof(ias.issuer));
	if (ret == 0)
		ret = GBA_SET_OCTETS(&ias.serialNumber, id->serial.p, id->serial.len);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_CMCCertId, &ias, der, dlen);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_IssuerAndSerialNumber, &ias);
	return ret;
}

int gba_cmc_encode_revoke(const struct gba_cmc_revoke *r, uint8_t **der, size_t *dlen)
{
	RevokeRequest_t rr;
	char cmsg[128];
	size_t cmsg_len = sizeof(cmsg);
	int ret = GBA_ENOMEM;

	*der = NULL;
	*dlen = 0;
	if (r->reason < 0 || r->reason > 10 || r->reason == 7)
		return GBA_EINVAL;
	ret = check_serial(r->serial);
	if (ret < 0)
		return ret;
	memset(&rr, 0, sizeof(rr));
	ret = gba_asn1_decode_into(&asn_DEF_Name, r->issuer.p, r->issuer.len, &rr.issuerName,
	                           sizeof(rr.issuerName));
	if (ret == 0)
		ret = GBA_SET_OCTETS(&rr.serialNumber, r->serial.p, r->serial.len);
	if (ret == 0 && asn_long2INTEGER(&rr.reason, r->reason) != 0)
		ret = GBA_ENOMEM;
	if (ret == 0 && r->has_invalidity_date) {
		rr.invalidityDate = gba_calloc(1, sizeof(*rr.invalidityDate));
		ret = rr.invalidityDate == NULL ? GBA_ENOMEM :
		      gba_asn1_put_gt(rr.invalidityDate, r->invalidity_date);
	}
	if (ret == 0 && r->passphrase.len > 0) {
		rr.passphrase = gba_calloc(1, sizeof(*rr.passphrase));
		ret = rr.passphrase == NULL ? GBA_ENOMEM :
		      GBA_SET_OCTETS(rr.passphrase, r->passphrase.p, r->passphrase.len);
	}
	if (ret == 0 && r->comment.len > 0) {
		rr.comment = gba_calloc(1, sizeof(*rr.comment));
		ret = rr.comment == NULL ? GBA_ENOMEM :
		      GBA_SET_OCTETS(rr.comment, r->comment.p, r->comment.len);
	}
	if (ret == 0 && asn_check_constraints(&asn_DEF_RevokeRequest, &rr, cmsg, &cmsg_len) != 0)
		ret = GBA_ECONSTRAINT;
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_RevokeRequest, &rr, der, dlen);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_RevokeRequest, &rr);
	return ret;
}

int gba_cmc_encode_getcrl(struct gba_blob issuer, uint8_t **der, size_t *dlen)
{
	GetCRL_t g;
	int ret;

	*der = NULL;
	*dlen = 0;
	memset(&g, 0, sizeof(g));
	ret = gba_asn1_decode_into(&asn_DEF_Name, issuer.p, issuer.len, &g.issuerName,
	                           sizeof(g.issuerName));
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_GetCRL, &g, der, dlen);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_GetCRL, &g);
	return ret;
}

/* ---- building requests ---- */

/* Append an Extension {oid, extnValue = v} to exts. */
static int add_extension(Extensions_t *exts, const uint8_t *oid, size_t oidlen, const uint8_t *v,
                         size_t vlen)
{
	Extension_t *e;
	int ret;

	e = gba_calloc(1, sizeof(*e));
	if (e == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_set_bytes(&e->extnID.buf, &e->extnID.size, oid, oidlen);
	if (ret == 0)
		ret = GBA_SET_OCTETS(&e->extnValue, v, vlen);
	if (ret == 0 && ASN_SEQUENCE_ADD(&exts->list, e) != 0)
		ret = GBA_ENOMEM;
	if (ret < 0)
		ASN_STRUCT_FREE(asn_DEF_Extension, e);
	return ret;
}

/* The requested extensions: subjectKeyIdentifier, subjectAltName. */
static int req_extensions(const struct gba_cmc_req_build *req, Extensions_t *exts)
{
	uint8_t *v = NULL;
	size_t vlen = 0;
	int ret = 0;

	if (req->ski.len > 0) {
		ret = gba_cmc_encode_octets(req->ski.p, req->ski.len, &v, &vlen);
		if (ret == 0)
			ret = add_extension(exts, oid_ext_ski, sizeof(oid_ext_ski), v, vlen);
		gba_free(v);
	}
	if (ret == 0 && req->san.len > 0)
		ret = add_extension(exts, oid_ext_san, sizeof(oid_ext_san), req->san.p, req->san.len);
	return ret;
}

/* Append an Attribute {type, {value DER}} to a SET OF Attribute. */
static int add_attribute(void *list, const uint8_t *oid, size_t oidlen, const uint8_t *v,
                         size_t vlen)
{
	Attribute_t *a = gba_calloc(1, sizeof(*a));
	AttributeValue_t *av = gba_calloc(1, sizeof(*av));
	int ret = GBA_ENOMEM;

	if (a == NULL || av == NULL)
		goto fail;
	ret = gba_asn1_set_bytes(&a->type.buf, &a->type.size, oid, oidlen);
	if (ret == 0)
		ret = GBA_SET_OCTETS(av, v, vlen);
	if (ret < 0)
		goto fail;
	ret = GBA_ENOMEM;
	if (ASN_SET_ADD(&a->values.list, av) != 0)
		goto fail;
	av = NULL;
	if (ASN_SET_ADD(list, a) != 0)
		goto fail;
	return 0;
fail:
	if (av != NULL)
		ASN_STRUCT_FREE(asn_DEF_AttributeValue, av);
	if (a != NULL)
		ASN_STRUCT_FREE(asn_DEF_Attribute, a);
	return ret;
}

static const uint8_t oid_pop_link_v2[] = {
	0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x21
};

static int check_build(const struct gba_cmc_req_build *req)
{
	struct gba_cmc_witness_v2 w;
	struct gba_der_error err;

	if (req == NULL || req->sign == NULL || req->spki.len == 0 || req->sig_alg.len == 0 ||
	    !body_id_ok(req->body_part_id))
		return GBA_EINVAL;
	if (req->pop_link_v2.len > 0 && gba_cmc_get_witness_v2(NULL, req->pop_link_v2, &w, &err) < 0)
		return GBA_EINVAL;
	if (req->san.len > 0) {
		void *gn = NULL;

		if (gba_asn1_decode_strict(&asn_DEF_GeneralNames, req->san.p, req->san.len, 0, &gn,
		                           &err) < 0)
			return GBA_EINVAL;
		ASN_STRUCT_FREE(asn_DEF_GeneralNames, gn);
	}
	return 0;
}

/* Sign tbs with req->sign into a BIT STRING. */
static int sign_into(const struct gba_cmc_req_build *req, const uint8_t *tbs, size_t tbs_len,
                     BIT_STRING_t *bs)
{
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int ret;

	ret = req->sign(req->sign_ctx, tbs, tbs_len, &sig, &siglen);
	if (ret < 0)
		return ret;
	if (sig == NULL || siglen == 0)
		ret = GBA_EINTERNAL;
	if (ret == 0)
		ret = GBA_SET_OCTETS(bs, sig, siglen);
	bs->bits_unused = 0;
	gba_free(sig);
	return ret;
}

/* Fill a Name from DER, or leave it an empty RDNSequence. */
static int set_name(Name_t *n, struct gba_blob der)
{
	if (der.len == 0) {
		n->present = Name_PR_rdnSequence;
		return 0;
	}
	return gba_asn1_decode_into(&asn_DEF_Name, der.p, der.len, n, sizeof(*n));
}

static int build_csr(const struct gba_cmc_req_build *req, CertificationRequest_t *cr)
{
	CertificationRequestInfo_t *cri = &cr->certificationRequestInfo;
	Extensions_t exts;
	uint8_t *tbs = NULL, *ed = NULL;
	size_t tbs_len = 0, edlen = 0;
	int ret;

	memset(&exts, 0, sizeof(exts));
	ret = asn_long2INTEGER(&cri->version, 0) == 0 ? 0 : GBA_ENOMEM;
	if (ret == 0)
		ret = set_name(&cri->subject, req->subject);
	if (ret == 0)
		ret = gba_asn1_decode_into(&asn_DEF_SubjectPublicKeyInfo, req->spki.p, req->spki.len,
		                           &cri->subjectPKInfo, sizeof(cri->subjectPKInfo));
	if (ret == 0 && (req->ski.len > 0 || req->san.len > 0)) {
		ret = req_extensions(req, &exts);
		if (ret == 0)
			ret = gba_asn1_encode_alloc(&asn_DEF_Extensions, &exts, &ed, &edlen);
		if (ret == 0)
			ret = add_attribute(&cri->attributes.list, oid_ext_req, sizeof(oid_ext_req), ed,
			                    edlen);
	}
	if (ret == 0 && req->pop_link_v2.len > 0)
		ret = add_attribute(&cri->attributes.list, oid_pop_link_v2, sizeof(oid_pop_link_v2),
		                    req->pop_link_v2.p, req->pop_link_v2.len);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_CertificationRequestInfo, cri, &tbs, &tbs_len);
	if (ret == 0)
		ret = set_sig_alg(&cr->signatureAlgorithm, req->sig_alg);
	if (ret == 0)
		ret = sign_into(req, tbs, tbs_len, &cr->signature);
	gba_free(tbs);
	gba_free(ed);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_Extensions, &exts);
	return ret;
}

int gba_cmc_csr_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len)
{
	CertificationRequest_t cr;
	int ret;

	*der = NULL;
	*len = 0;
	ret = check_build(req);
	if (ret < 0)
		return ret;
	memset(&cr, 0, sizeof(cr));
	ret = build_csr(req, &cr);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_CertificationRequest, &cr, der, len);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_CertificationRequest, &cr);
	return ret;
}

int gba_cmc_tcr_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len)
{
	TaggedRequest_t tr;
	int ret;

	*der = NULL;
	*len = 0;
	ret = check_build(req);
	if (ret < 0)
		return ret;
	memset(&tr, 0, sizeof(tr));
	tr.present = TaggedRequest_PR_tcr;
	tr.choice.tcr.bodyPartID = req->body_part_id;
	ret = build_csr(req, &tr.choice.tcr.certificationRequest);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_TaggedRequest, &tr, der, len);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TaggedRequest, &tr);
	return ret;
}

int gba_cmc_crm_build(const struct gba_cmc_req_build *req, uint8_t **der, size_t *len)
{
	TaggedRequest_t tr;
	CertReqMsg_t *m = &tr.choice.crm;
	CertTemplate_t *tpl = &m->certReq.certTemplate;
	AttributeTypeAndValue_t *atv = NULL;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	int ret = GBA_ENOMEM;

	*der = NULL;
	*len = 0;
	ret = check_build(req);
	if (ret < 0)
		return ret;
	memset(&tr, 0, sizeof(tr));
	tr.present = TaggedRequest_PR_crm;
	ret = GBA_ENOMEM;
	if (asn_ulong2INTEGER(&m->certReq.certReqId, req->body_part_id) != 0)
		goto out;
	tpl->subject = gba_calloc(1, sizeof(*tpl->subject));
	tpl->publicKey = gba_calloc(1, sizeof(*tpl->publicKey));
	if (tpl->subject == NULL || tpl->publicKey == NULL)
		goto out;
	ret = set_name(tpl->subject, req->subject);
	if (ret == 0)
		ret = gba_asn1_decode_into(&asn_DEF_SubjectPublicKeyInfo, req->spki.p, req->spki.len,
		                           tpl->publicKey, sizeof(*tpl->publicKey));
	if (ret < 0)
		goto out;
	if (req->ski.len > 0 || req->san.len > 0) {
		ret = GBA_ENOMEM;
		tpl->extensions = gba_calloc(1, sizeof(*tpl->extensions));
		if (tpl->extensions == NULL)
			goto out;
		ret = req_extensions(req, tpl->extensions);
		if (ret < 0)
			goto out;
	}
	if (req->pop_link_v2.len > 0) {
		ret = GBA_ENOMEM;
		m->certReq.controls = gba_calloc(1, sizeof(*m->certReq.controls));
		atv = gba_calloc(1, sizeof(*atv));
		if (m->certReq.controls == NULL || atv == NULL)
			goto out;
		ret = GBA_SET_OID(&atv->type, oid_pop_link_v2);
		if (ret == 0)
			ret = GBA_SET_OCTETS(&atv->value, req->pop_link_v2.p, req->pop_link_v2.len);
		if (ret == 0 && ASN_SEQUENCE_ADD(&m->certReq.controls->list, atv) != 0)
			ret = GBA_ENOMEM;
		if (ret < 0)
			goto out;
		atv = NULL;
	}
	if (req->no_pop) {
		ret = gba_asn1_encode_alloc(&asn_DEF_TaggedRequest, &tr, der, len);
		goto out;
	}
	/* RFC 4211 4.1: with subject and publicKey in the template, the
	 * signature is over the DER of certReq and poposkInput is omitted */
	ret = gba_asn1_encode_alloc(&asn_DEF_CertRequest, &m->certReq, &tbs, &tbs_len);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	m->popo = gba_calloc(1, sizeof(*m->popo));
	if (m->popo == NULL)
		goto out;
	m->popo->present = ProofOfPossession_PR_signature;
	ret = set_sig_alg(&m->popo->choice.signature.algorithmIdentifier, req->sig_alg);
	if (ret == 0)
		ret = sign_into(req, tbs, tbs_len, &m->popo->choice.signature.signature);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_TaggedRequest, &tr, der, len);
out:
	if (atv != NULL)
		ASN_STRUCT_FREE(asn_DEF_AttributeTypeAndValue, atv);
	gba_free(tbs);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_TaggedRequest, &tr);
	return ret;
}

/* DER header (tag, definite length) into h; returns its length. */
static size_t der_header(uint8_t tag, size_t len, uint8_t h[6])
{
	size_t n = 0, k;

	h[0] = tag;
	if (len < 0x80) {
		h[1] = (uint8_t)len;
		return 2;
	}
	for (k = len; k > 0; k >>= 8)
		n++;
	h[1] = (uint8_t)(0x80u | n);
	for (k = 0; k < n; k++)
		h[2 + k] = (uint8_t)(len >> (8 * (n - 1 - k)));
	return 2 + n;
}

int gba_cmc_reqseq_encode(const struct gba_blob *reqs, size_t nreqs, uint8_t **der,
                          size_t *len)
{
	struct gba_der_error err;
	uint8_t h[6], *out;
	size_t total = 0, hl, i, off;
	void *p;
	int ret;

	*der = NULL;
	*len = 0;
	if (nreqs > GBA_CMC_MAX_REQUESTS)
		return GBA_ETOOBIG;
	if (nreqs > 0 && reqs == NULL)
		return GBA_EINVAL;
	for (i = 0; i < nreqs; i++) {
		ret = gba_asn1_decode_strict(&asn_DEF_TaggedRequest, reqs[i].p, reqs[i].len, 0, &p,
		                             &err);
		if (ret < 0)
			return GBA_EINVAL;
		ASN_STRUCT_FREE(asn_DEF_TaggedRequest, p);
		total += reqs[i].len;
	}
	if (total > GBA_MAX_DER_LEN)
		return GBA_ETOOBIG;
	hl = der_header(0x30, total, h);
	out = gba_malloc(hl + total);
	if (out == NULL)
		return GBA_ENOMEM;
	memcpy(out, h, hl);
	off = hl;
	for (i = 0; i < nreqs; i++) {
		memcpy(out + off, reqs[i].p, reqs[i].len);
		off += reqs[i].len;
	}
	*der = out;
	*len = off;
	return 0;
}

/* Append a TaggedAttribute {id, id-cmc-n, {value}} to a control list. */
static int add_control(void *list, uint32_t id, unsigned n, const uint8_t *v, size_t vlen)
{
	TaggedAttribute_t *ta = gba_calloc(1, sizeof(*ta));
	AttributeValue_t *av = gba_calloc(1, sizeof(*av));
	uint8_t oid[sizeof(oid_id_cmc) + 1];
	int ret = GBA_ENOMEM;

	if (ta == NULL || av == NULL)
		goto fail;
	if (n == 0 || n > 127 || v == NULL || vlen == 0 ||
	    gba_der_check_default(v, vlen, NULL) != 0) {
		ret = GBA_EINVAL;
		goto fail;
	}
	memcpy(oid, oid_id_cmc, sizeof(oid_id_cmc));
	oid[sizeof(oid_id_cmc)] = (uint8_t)n;
	ta->bodyPartID = id;
	ret = GBA_SET_OID(&ta->attrType, oid);
	if (ret == 0)
		ret = GBA_SET_OCTETS(av, v, vlen);
	if (ret < 0)
		goto fail;
	ret = GBA_ENOMEM;
	if (ASN_SET_ADD(&ta->attrValues.list, av) != 0)
		goto fail;
	av = NULL;
	if (ASN_SEQUENCE_ADD(list, ta) != 0)
		goto fail;
	return 0;
fail:
	if (av != NULL)
		ASN_STRUCT_FREE(asn_DEF_AttributeValue, av);
	if (ta != NULL)
		ASN_STRUCT_FREE(asn_DEF_TaggedAttribute, ta);
	return ret;
}

int gba_cmc_pkidata_encode(const struct gba_cmc_control_build *controls, size_t ncontrols,
                           struct gba_blob req_sequence, uint8_t **der, size_t *len)
{
	PKIData_t pd;
	struct gba_tlv top, ctl, rs;
	uint8_t *tmp = NULL, *out = NULL, h[6];
	size_t tmplen = 0, body, hl, i, off;
	int ret;

	*der = NULL;
	*len = 0;
	if (ncontrols > GBA_CMC_MAX_CONTROLS)
		return GBA_ETOOBIG;
	if (ncontrols > 0 && controls == NULL)
		return GBA_EINVAL;
	if (req_sequence.len == 0) {
		req_sequence.p = der_empty_seq;
		req_sequence.len = sizeof(der_empty_seq);
	}
	if (gba_asn1_tlv(req_sequence.p, req_sequence.len, &rs) < 0 || rs.tag != 0x30 ||
	    rs.len != req_sequence.len)
		return GBA_EINVAL;
	memset(&pd, 0, sizeof(pd));
	for (i = 0; i < ncontrols; i++) {
		if (!body_id_ok(controls[i].body_part_id) || controls[i].control == GBA_CMC_UNKNOWN) {
			ret = GBA_EINVAL;
			goto out;
		}
		ret = add_control(&pd.controlSequence.list, controls[i].body_part_id,
		                  (unsigned)controls[i].control, controls[i].value.p,
		                  controls[i].value.len);
		if (ret < 0)
			goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_PKIData, &pd, &tmp, &tmplen);
	if (ret == 0)
		ret = gba_asn1_tlv(tmp, tmplen, &top);
	if (ret == 0)
		ret = gba_asn1_tlv_child(&top, 0, &ctl);
	if (ret < 0)
		goto out;
	/* controlSequence as encoded, reqSequence verbatim, two empty ones */
	body = ctl.len + req_sequence.len + 2 * sizeof(der_empty_seq);
	hl = der_header(0x30, body, h);
	ret = GBA_ENOMEM;
	out = gba_malloc(hl + body);
	if (out == NULL)
		goto out;
	memcpy(out, h, hl);
	off = hl;
	memcpy(out + off, ctl.p, ctl.len);
	off += ctl.len;
	memcpy(out + off, req_sequence.p, req_sequence.len);
	off += req_sequence.len;
	memcpy(out + off, der_empty_seq, sizeof(der_empty_seq));
	off += sizeof(der_empty_seq);
	memcpy(out + off, der_empty_seq, sizeof(der_empty_seq));
	off += sizeof(der_empty_seq);
	if (gba_asn1_check(GBA_PDU_PKI_DATA, out, off, NULL) != 0) {
		ret = GBA_EINVAL;
		goto out;
	}
	*der = out;
	*len = off;
	out = NULL;
	ret = 0;
out:
	gba_free(out);
	gba_free(tmp);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_PKIData, &pd);
	return ret;
}

/* ---- PKIResponse: building ---- */

static int encode_status(const struct gba_cmc_status_info *s, uint8_t **der, size_t *len)
{
	CMCStatusInfoV2_t st;
	BodyPartReference_t *b;
	OCTET_STRING_t tok;
	GeneralizedTime_t gt;
	size_t i, n;
	int ret = GBA_ENOMEM;

	memset(&st, 0, sizeof(st));
	memset(&tok, 0, sizeof(tok));
	memset(&gt, 0, sizeof(gt));
	if (s->nbody > GBA_CMC_MAX_BODY_LIST)
		return GBA_ETOOBIG;
	if (!status_known((long)s->status) ||
	    (s->nbody > 0 && s->body_list == NULL) || (s->has_fail_info && s->has_pend_info) ||
	    (s->has_fail_info && ((unsigned)s->fail_info > GBA_CMC_AUTH_DATA_FAIL)))
		return GBA_EINVAL;
	if (asn_long2INTEGER(&st.cMCStatus, (long)s->status) != 0)
		goto out;
	n = s->nbody > 0 ? s->nbody : 1;
	for (i = 0; i < n; i++) {
		uint32_t id = s->nbody > 0 ? s->body_list[i] : 0;

		b = gba_calloc(1, sizeof(*b));
		if (b == NULL)
			goto out;
		b->present = BodyPartReference_PR_bodyPartID;
		b->choice.bodyPartID = id;
		if (ASN_SEQUENCE_ADD(&st.bodyList.list, b) != 0) {
			gba_free(b);
			goto out;
		}
	}
	if (s->status_string != NULL) {
		st.statusString = gba_calloc(1, sizeof(*st.statusString));
		if (st.statusString == NULL)
			goto out;
		ret = GBA_SET_OCTETS(st.statusString, s->status_string, strlen(s->status_string));
		if (ret < 0)
			goto out;
		ret = GBA_ENOMEM;
	}
	if (s->has_fail_info || s->has_pend_info) {
		st.otherInfo = gba_calloc(1, sizeof(*st.otherInfo));
		if (st.otherInfo == NULL)
			goto out;
	}
	if (s->has_fail_info) {
		st.otherInfo->present = OtherStatusInfoWire_PR_failInfo;
		if (asn_long2INTEGER(&st.otherInfo->choice.failInfo, (long)s->fail_info) != 0)
			goto out;
	} else if (s->has_pend_info) {
		/* pendInfo; extendedFailInfo is never emitted (RFC 5274) */
		st.otherInfo->present = OtherStatusInfoWire_PR_pendOrExtended;
		ret = GBA_SET_OCTETS(&tok, s->pend_token.p, s->pend_token.len);
		if (ret == 0)
			ret = gba_asn1_put_gt(&gt, s->pend_time);
		if (ret < 0)
			goto out;
		ret = GBA_ENOMEM;
		if (ANY_fromType(&st.otherInfo->choice.pendOrExtended.first, &asn_DEF_OCTET_STRING,
		                 &tok) != 0 ||
		    ANY_fromType(&st.otherInfo->choice.pendOrExtended.second,
		                 &asn_DEF_GeneralizedTime, &gt) != 0)
			goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_CMCStatusInfoV2, &st, der, len);
out:
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_OCTET_STRING, &tok);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_GeneralizedTime, &gt);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_CMCStatusInfoV2, &st);
	return ret;
}

int gba_cmc_response_encode(const struct gba_cmc_response *r, uint8_t **der, size_t *len)
{
	PKIResponse_t pr;
	struct gba_cmc_response_view view;
	struct gba_cmc_msg *check = NULL;
	struct gba_der_error err;
	struct {
		const struct gba_blob *b;
		enum gba_cmc_control c;
	} opt[5];
	uint8_t *v = NULL, *out = NULL;
	size_t vlen = 0, outlen = 0, i;
	uint32_t id = 1;
	int ret = 0;

	*der = NULL;
	*len = 0;
	if (r->nstatuses > GBA_CMC_MAX_CONTROLS - 5 || r->sender_nonce.len > GBA_CMC_MAX_NONCE ||
	    r->recipient_nonce.len > GBA_CMC_MAX_NONCE || r->transaction_id.len > GBA_CMC_MAX_TXID)
		return GBA_ETOOBIG;
	if (r->nstatuses == 0 || r->statuses == NULL)
		return GBA_EINVAL;
	memset(&pr, 0, sizeof(pr));
	for (i = 0; i < r->nstatuses; i++) {
		ret = encode_status(&r->statuses[i], &v, &vlen);
		if (ret == 0)
			ret = add_control(&pr.controlSequence.list, id++, GBA_CMC_STATUS_INFO_V2, v,
			                  vlen);
		gba_free(v);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	opt[0].b = &r->transaction_id;
	opt[0].c = GBA_CMC_TRANSACTION_ID;
	opt[1].b = &r->sender_nonce;
	opt[1].c = GBA_CMC_SENDER_NONCE;
	opt[2].b = &r->recipient_nonce;
	opt[2].c = GBA_CMC_RECIPIENT_NONCE;
	opt[3].b = &r->data_return;
	opt[3].c = GBA_CMC_DATA_RETURN;
	opt[4].b = &r->response_info;
	opt[4].c = GBA_CMC_RESPONSE_INFO;
	for (i = 0; i < 5; i++) {
		if (opt[i].b->len == 0)
			continue;
		if (opt[i].c == GBA_CMC_TRANSACTION_ID)
			ret = gba_cmc_encode_integer(opt[i].b->p, opt[i].b->len, &v, &vlen);
		else
			ret = gba_cmc_encode_octets(opt[i].b->p, opt[i].b->len, &v, &vlen);
		if (ret == 0)
			ret = add_control(&pr.controlSequence.list, id++, (unsigned)opt[i].c, v, vlen);
		gba_free(v);
		v = NULL;
		if (ret < 0)
			goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_PKIResponse, &pr, &out, &outlen);
	if (ret < 0)
		goto out;
	/* what we send we also parse, as the client will */
	ret = gba_cmc_response_parse(out, outlen, &view, &check, &err);
	if (ret < 0) {
		ret = GBA_EINVAL;
		goto out;
	}
	*der = out;
	*len = outlen;
	out = NULL;
out:
	gba_cmc_msg_free(check);
	gba_free(out);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_PKIResponse, &pr);
	return ret;
}

/* ---- certs-only ---- */

int gba_cms_certs_only(const struct gba_blob *certs, size_t ncerts, uint8_t **der,
                       size_t *len)
{
	ContentInfo_t ci;
	SignedData_t sd;
	ANY_t *a;
	size_t i;
	int ret = GBA_ENOMEM;

	*der = NULL;
	*len = 0;
	if (ncerts > 0 && certs == NULL)
		return GBA_EINVAL;
	memset(&ci, 0, sizeof(ci));
	memset(&sd, 0, sizeof(sd));
	if (asn_long2INTEGER(&sd.version, 1) != 0)
		goto out;
	ret = GBA_SET_OID(&sd.encapContentInfo.eContentType, oid_data_v);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	sd.certificates = gba_calloc(1, sizeof(*sd.certificates));
	if (sd.certificates == NULL)
		goto out;
	for (i = 0; i < ncerts; i++) {
		ret = gba_asn1_check(GBA_PDU_CERTIFICATE, certs[i].p, certs[i].len, NULL);
		if (ret < 0)
			goto out;
		ret = GBA_ENOMEM;
		a = gba_calloc(1, sizeof(*a));
		if (a == NULL)
			goto out;
		ret = GBA_SET_OCTETS(a, certs[i].p, certs[i].len);
		if (ret == 0 && ASN_SET_ADD(&sd.certificates->list, a) != 0)
			ret = GBA_ENOMEM;
		if (ret < 0) {
			ASN_STRUCT_FREE(asn_DEF_ANY, a);
			goto out;
		}
	}
	ret = GBA_SET_OID(&ci.contentType, oid_signed_data_v);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	/* der_encode sorts the SET OF certificates as DER wants */
	if (ANY_fromType(&ci.content, &asn_DEF_SignedData, &sd) != 0)
		goto out;
	ret = gba_asn1_encode_alloc(&asn_DEF_ContentInfo, &ci, der, len);
	if (ret == 0 && gba_asn1_check(GBA_PDU_CONTENT_INFO, *der, *len, NULL) != 0) {
		gba_free(*der);
		*der = NULL;
		*len = 0;
		ret = GBA_EINTERNAL;
	}
out:
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_SignedData, &sd);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_ContentInfo, &ci);
	return ret;
}
