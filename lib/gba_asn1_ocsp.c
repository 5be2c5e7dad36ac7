/*
 * gba_asn1_ocsp.c - OCSP request parsing, OCSP response and CRL building
 * (gba_ocsp.h) on the generated codecs.
 *
 * A gba_asn1*.c file: it may include gen/ headers (lib/Makefile.am)
 * and uses the shared helpers of gba_asn1_int.h.
 *
 * CRL entries are not built as asn1c structures: a million of them cost
 * several small allocations each.  They are written by hand (the
 * entry is a fixed shape: INTEGER, Time, at most two fixed extensions)
 * into one buffer sized in a first pass; the generated codec encodes
 * the rest of the TBSCertList, and tests re-decode the result strictly,
 * which proves the hand-written bytes equal asn1c's own encoding.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include "asn_application.h"
#include "ANY.h"
#include "BasicOCSPResponse.h"
#include "Certificate.h"
#include "CertificateList.h"
#include "Extensions.h"
#include "Name.h"
#include "Nonce.h"
#include "OCSPRequest.h"
#include "OCSPResponse.h"
#include "OCSPSignature.h"
#include "ResponseBytes.h"
#include "TBSCertList.h"

#include "gba_asn1_int.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"
#include "gba_ocsp.h"

/* ---- OIDs (content octets) ---- */

static const uint8_t oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_ocsp_basic[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
static const uint8_t oid_ocsp_nonce[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02 };
static const uint8_t oid_crl_number[] = { 0x55, 0x1d, 0x14 };
static const uint8_t oid_aki[] = { 0x55, 0x1d, 0x23 };
static const uint8_t der_null[] = { 0x05, 0x00 };

/* Whole Extension TLV prefixes for the two CRL entry extensions. */
static const uint8_t ext_reason_prefix[] = {       /* + ENUMERATED value octet */
	0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01
};
static const uint8_t ext_invalidity_prefix[] = {   /* + 15 GeneralizedTime octets */
	0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11, 0x18, 0x0f
};
#define EXT_REASON_LEN     (sizeof(ext_reason_prefix) + 1u)
#define EXT_INVALIDITY_LEN (sizeof(ext_invalidity_prefix) + 15u)

/* ---- small helpers ---- */

static int utc_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if (t < 0 || (int64_t)tt != t || gmtime_r(&tt, tm) == NULL || tm->tm_year + 1900 > 9999)
		return GBA_EINVAL;
	return 0;
}

/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
static int put_time(Time_t *tv, int64_t t)
{
	struct tm tm;

	if (utc_tm(t, &tm) < 0)
		return GBA_EINVAL;
	if (tm.tm_year + 1900 < 2050) {
		tv->present = Time_PR_utcTime;
		return asn_time2UT(&tv->choice.utcTime, &tm, 1) != NULL ? 0 : GBA_ENOMEM;
	}
	tv->present = Time_PR_generalTime;
	return asn_time2GT(&tv->choice.generalTime, &tm, 1) != NULL ? 0 : GBA_ENOMEM;
}

/* INTEGER content octets: non-empty and minimal (X.690 8.3.2). */
static int int_content_ok(const uint8_t *p, size_t len, size_t max)
{
	if (p == NULL || len == 0 || len > max)
		return 0;
	if (len > 1 && ((p[0] == 0x00 && (p[1] & 0x80) == 0) ||
	                (p[0] == 0xff && (p[1] & 0x80) != 0)))
		return 0;
	return 1;
}

static int reason_ok(int r)
{
	return r >= 0 && r <= 10 && r != 7;
}

static size_t hash_len(enum gba_hash_alg h)
{
	return h == GBA_HASH_SHA1 ? 20u : h == GBA_HASH_SHA256 ? 32u : 0u;
}

/* AlgorithmIdentifier { oid, NULL or absent }. */
static int set_alg(AlgorithmIdentifier_t *a, const uint8_t *oid, size_t oid_len, int null_params)
{
	int ret;

	if (oid == NULL || oid_len == 0)
		return GBA_EINVAL;
	ret = gba_asn1_set_bytes(&a->algorithm.buf, &a->algorithm.size, oid, oid_len);
	if (ret < 0 || !null_params)
		return ret;
	a->parameters = gba_calloc(1, sizeof(*a->parameters));
	if (a->parameters == NULL)
		return GBA_ENOMEM;
	return gba_asn1_set_bytes(&a->parameters->buf, &a->parameters->size, der_null, sizeof(der_null));
}

/* Decode a Name DER strictly into dst (which must be zeroed). */
static int set_name(Name_t *dst, const struct gba_blob *name)
{
	if (name->p == NULL || name->len == 0)
		return GBA_EINVAL;
	return gba_asn1_decode_into(&asn_DEF_Name, name->p, name->len, dst, sizeof(*dst));
}

/* Append an Extension { oid, extnValue } (non-critical) to *exts. */
static int add_ext(Extensions_t **exts, const uint8_t *oid, size_t oid_len,
                   const uint8_t *value, size_t value_len)
{
	Extension_t *e;
	int ret;

	if (*exts == NULL) {
		*exts = gba_calloc(1, sizeof(**exts));
		if (*exts == NULL)
			return GBA_ENOMEM;
	}
	e = gba_calloc(1, sizeof(*e));
	if (e == NULL)
		return GBA_ENOMEM;
	if (ASN_SEQUENCE_ADD(&(*exts)->list, e) != 0) {
		gba_free(e);
		return GBA_ENOMEM;
	}
	ret = gba_asn1_set_bytes(&e->extnID.buf, &e->extnID.size, oid, oid_len);
	if (ret == 0)
		ret = gba_asn1_set_bytes(&e->extnValue.buf, &e->extnValue.size, value, value_len);
	return ret;
}

/* ---- CRLReason names ---- */

const char *gba_crl_reason_name(int reason)
{
	switch (reason) {
#define GBA_CRL_REASON_CASE(id, v, name) case v: return name;
	GBA_CRL_REASONS(GBA_CRL_REASON_CASE)
#undef GBA_CRL_REASON_CASE
	default:
		return NULL;
	}
}

int gba_crl_reason_by_name(const char *name, int *reason)
{
	static const struct {
		const char *name;
		int value;
	} table[] = {
#define GBA_CRL_REASON_ROW(id, v, n) { n, v },
		GBA_CRL_REASONS(GBA_CRL_REASON_ROW)
#undef GBA_CRL_REASON_ROW
	};
	size_t i;

	if (name == NULL)
		return GBA_EINVAL;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].name, name) == 0) {
			*reason = table[i].value;
			return 0;
		}
	}
	return GBA_ENOTFOUND;
}

/* ---- OCSP request ---- */

struct gba_ocsp_msg {
	OCSPRequest_t *req;
	Nonce_t *nonce;
};

void gba_ocsp_msg_free(struct gba_ocsp_msg *msg)
{
	if (msg == NULL)
		return;
	if (msg->nonce != NULL)
		ASN_STRUCT_FREE(asn_DEF_Nonce, msg->nonce);
	if (msg->req != NULL)
		ASN_STRUCT_FREE(asn_DEF_OCSPRequest, msg->req);
	gba_free(msg);
}

/* Walk request or single-request extensions: pick the nonce when
 * nonce_ok, refuse unknown critical ones. */
static int scan_exts(struct gba_ocsp_msg *msg, const Extensions_t *exts, int nonce_ok,
                     struct gba_ocsp_req_view *view, struct gba_der_error *err)
{
	int i, ret;

	if (exts == NULL)
		return 0;
	for (i = 0; i < exts->list.count; i++) {
		const Extension_t *e = exts->list.array[i];
		void *p = NULL;

		/* asn1c 0.9.28 re-encodes an explicit DEFAULT FALSE, so the
		 * re-encode compare cannot see it: refuse it here (X.690 11.5) */
		if (e->critical != NULL && !*e->critical) {
			gba_asn1_set_err(err, 0, "not DER: critical FALSE written out (DEFAULT)");
			return GBA_ENOTDER;
		}
		if (nonce_ok && gba_asn1_oid_is(&e->extnID, oid_ocsp_nonce, sizeof(oid_ocsp_nonce))) {
			if (view->has_nonce) {
				gba_asn1_set_err(err, 0, "two nonce extensions");
				return GBA_EDUP;
			}
			ret = gba_asn1_decode_strict(&asn_DEF_Nonce, e->extnValue.buf,
			                             (size_t)e->extnValue.size, 0, &p, NULL);
			if (ret < 0) {
				gba_asn1_set_err(err, 0, "nonce is not a DER OCTET STRING");
				return ret;
			}
			msg->nonce = p;
			if (msg->nonce->size < 1 || (size_t)msg->nonce->size > GBA_OCSP_MAX_NONCE) {
				gba_asn1_set_err(err, 0, "nonce length outside 1..32 (RFC 8954)");
				return GBA_ECONSTRAINT;
			}
			view->has_nonce = 1;
			view->nonce.p = msg->nonce->buf;
			view->nonce.len = (size_t)msg->nonce->size;
			continue;
		}
		if (e->critical != NULL && *e->critical) {
			gba_asn1_set_err(err, 0, "unknown critical extension");
			return GBA_EUNSUPP;
		}
	}
	return 0;
}

static int parse_certid(const CertID_t *c, struct gba_ocsp_certid *id, struct gba_der_error *err)
{
	const ANY_t *params = c->hashAlgorithm.parameters;
	size_t hl;

	if (gba_asn1_oid_is(&c->hashAlgorithm.algorithm, oid_sha1, sizeof(oid_sha1))) {
		id->hash = GBA_HASH_SHA1;
	} else if (gba_asn1_oid_is(&c->hashAlgorithm.algorithm, oid_sha256, sizeof(oid_sha256))) {
		id->hash = GBA_HASH_SHA256;
	} else {
		gba_asn1_set_err(err, 0, "CertID hash is neither SHA-1 nor SHA-256");
		return GBA_EUNSUPP;
	}
	if (params == NULL) {
		id->hash_params_null = 0;
	} else if (params->size == (int)sizeof(der_null) &&
	           memcmp(params->buf, der_null, sizeof(der_null)) == 0) {
		id->hash_params_null = 1;
	} else {
		gba_asn1_set_err(err, 0, "CertID hash parameters are not NULL");
		return GBA_EUNSUPP;
	}
	hl = hash_len(id->hash);
	if ((size_t)c->issuerNameHash.size != hl || (size_t)c->issuerKeyHash.size != hl) {
		gba_asn1_set_err(err, 0, "CertID hash length does not match its algorithm");
		return GBA_ESYNTAX;
	}
	id->name_hash.p = c->issuerNameHash.buf;
	id->name_hash.len = hl;
	id->key_hash.p = c->issuerKeyHash.buf;
	id->key_hash.len = hl;
	if (c->serialNumber.size < 1 || (size_t)c->serialNumber.size > GBA_OCSP_MAX_SERIAL) {
		/* what the response builder could not echo back */
		gba_asn1_set_err(err, 0, "CertID serialNumber longer than GBA_OCSP_MAX_SERIAL");
		return GBA_ECONSTRAINT;
	}
	id->serial.p = c->serialNumber.buf;
	id->serial.len = (size_t)c->serialNumber.size;
	return 0;
}

int gba_ocsp_request_parse(const uint8_t *der, size_t len, struct gba_ocsp_req_view *view,
                           struct gba_ocsp_msg **msgp, struct gba_der_error *err)
{
	struct gba_ocsp_msg *msg = NULL;
	const TBSRequest_t *tbs;
	void *p = NULL;
	int i, ret;

	if (view == NULL || msgp == NULL)
		return GBA_EINVAL;
	*msgp = NULL;
	memset(view, 0, sizeof(*view));
	if (der == NULL || len == 0) {
		gba_asn1_set_err(err, 0, "empty request");
		return GBA_EINVAL;
	}
	msg = gba_calloc(1, sizeof(*msg));
	if (msg == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_decode_strict(&asn_DEF_OCSPRequest, der, len, 0, &p, err);
	if (ret < 0)
		goto out;
	msg->req = p;
	tbs = &msg->req->tbsRequest;
	if (tbs->version != NULL) {   /* DER omits v1, so any value here is not v1 */
		gba_asn1_set_err(err, 0, "OCSP request version is not v1");
		ret = GBA_EUNSUPP;
		goto out;
	}
	if (tbs->requestList.list.count < 1) {
		gba_asn1_set_err(err, 0, "empty requestList");
		ret = GBA_ESYNTAX;
		goto out;
	}
	if ((size_t)tbs->requestList.list.count > GBA_OCSP_MAX_CERTIDS) {
		gba_asn1_set_err(err, 0, "more CertIDs than GBA_OCSP_MAX_CERTIDS");
		ret = GBA_ETOOBIG;
		goto out;
	}
	for (i = 0; i < tbs->requestList.list.count; i++) {
		const Request_t *r = tbs->requestList.list.array[i];

		ret = parse_certid(&r->reqCert, &view->ids[i], err);
		if (ret == 0)
			ret = scan_exts(msg, r->singleRequestExtensions, 0, view, err);
		if (ret < 0)
			goto out;
	}
	view->nids = (size_t)tbs->requestList.list.count;
	ret = scan_exts(msg, tbs->requestExtensions, 1, view, err);
	if (ret < 0)
		goto out;
	view->is_signed = msg->req->optionalSignature != NULL;
	view->has_requestor_name = tbs->requestorName != NULL;
	*msgp = msg;
	msg = NULL;
	ret = 0;
out:
	if (ret < 0)
		memset(view, 0, sizeof(*view));
	gba_ocsp_msg_free(msg);
	return ret;
}

/* ---- OCSP response ---- */

static int set_certid(CertID_t *c, const struct gba_ocsp_certid *id)
{
	const uint8_t *oid;
	size_t oid_len, hl = hash_len(id->hash);
	int ret;

	if (hl == 0 || id->name_hash.len != hl || id->key_hash.len != hl ||
	    id->name_hash.p == NULL || id->key_hash.p == NULL ||
	    !int_content_ok(id->serial.p, id->serial.len, GBA_OCSP_MAX_SERIAL))
		return GBA_EINVAL;
	oid = id->hash == GBA_HASH_SHA1 ? oid_sha1 : oid_sha256;
	oid_len = id->hash == GBA_HASH_SHA1 ? sizeof(oid_sha1) : sizeof(oid_sha256);
	ret = set_alg(&c->hashAlgorithm, oid, oid_len, id->hash_params_null);
	if (ret == 0)
		ret = gba_asn1_set_bytes(&c->issuerNameHash.buf, &c->issuerNameHash.size, id->name_hash.p, hl);
	if (ret == 0)
		ret = gba_asn1_set_bytes(&c->issuerKeyHash.buf, &c->issuerKeyHash.size, id->key_hash.p, hl);
	if (ret == 0)
		ret = gba_asn1_set_bytes(&c->serialNumber.buf, &c->serialNumber.size, id->serial.p,
		                id->serial.len);
	return ret;
}

static int add_single(ResponseData_t *rd, const struct gba_ocsp_single *s)
{
	SingleResponse_t *sr;
	int ret;

	sr = gba_calloc(1, sizeof(*sr));
	if (sr == NULL)
		return GBA_ENOMEM;
	if (ASN_SEQUENCE_ADD(&rd->responses.list, sr) != 0) {
		gba_free(sr);
		return GBA_ENOMEM;
	}
	ret = set_certid(&sr->certID, &s->id);
	if (ret < 0)
		return ret;
	switch (s->status) {
	case GBA_OCSP_GOOD:
		sr->certStatus.present = CertStatus_PR_good;
		break;
	case GBA_OCSP_UNKNOWN:
		sr->certStatus.present = CertStatus_PR_unknown;
		break;
	case GBA_OCSP_REVOKED:
		sr->certStatus.present = CertStatus_PR_revoked;
		ret = gba_asn1_put_gt(&sr->certStatus.choice.revoked.revocationTime, s->revoked_at);
		if (ret < 0)
			return ret;
		if (s->reason == GBA_CRL_REASON_NONE)
			break;
		if (!reason_ok(s->reason))
			return GBA_EINVAL;
		sr->certStatus.choice.revoked.revocationReason =
			gba_calloc(1, sizeof(CRLReason_t));
		if (sr->certStatus.choice.revoked.revocationReason == NULL)
			return GBA_ENOMEM;
		if (asn_long2INTEGER(sr->certStatus.choice.revoked.revocationReason,
		                     (long)s->reason) != 0)
			return GBA_ENOMEM;
		break;
	default:
		return GBA_EINVAL;
	}
	ret = gba_asn1_put_gt(&sr->thisUpdate, s->this_update);
	if (ret < 0 || s->next_update == 0)
		return ret;
	if (s->next_update < s->this_update)
		return GBA_EINVAL;
	sr->nextUpdate = gba_calloc(1, sizeof(*sr->nextUpdate));
	if (sr->nextUpdate == NULL)
		return GBA_ENOMEM;
	return gba_asn1_put_gt(sr->nextUpdate, s->next_update);
}

static int fill_response_data(ResponseData_t *rd, const struct gba_ocsp_resp_build *b)
{
	uint8_t nonce[2 + GBA_OCSP_MAX_NONCE];
	size_t i;
	int ret;

	if (b->responder_key_hash.len == GBA_OCSP_KEY_HASH_LEN && b->responder_key_hash.p) {
		rd->responderID.present = ResponderID_PR_byKey;
		ret = gba_asn1_set_bytes(&rd->responderID.choice.byKey.buf,
		                &rd->responderID.choice.byKey.size, b->responder_key_hash.p,
		                b->responder_key_hash.len);
	} else if (b->responder_key_hash.len == 0) {
		ret = set_name(&rd->responderID.choice.byName, &b->responder_name);
		if (ret == 0)
			rd->responderID.present = ResponderID_PR_byName;
	} else {
		ret = GBA_EINVAL;
	}
	if (ret < 0)
		return ret;
	ret = gba_asn1_put_gt(&rd->producedAt, b->produced_at);
	if (ret < 0)
		return ret;
	for (i = 0; i < b->nresponses; i++) {
		ret = add_single(rd, &b->responses[i]);
		if (ret < 0)
			return ret;
	}
	if (b->nonce.len == 0)
		return 0;
	if (b->nonce.p == NULL || b->nonce.len > GBA_OCSP_MAX_NONCE)
		return GBA_EINVAL;
	nonce[0] = 0x04;   /* extnValue = DER of Nonce ::= OCTET STRING */
	nonce[1] = (uint8_t)b->nonce.len;
	memcpy(nonce + 2, b->nonce.p, b->nonce.len);
	return add_ext(&rd->responseExtensions, oid_ocsp_nonce, sizeof(oid_ocsp_nonce), nonce,
	               2 + b->nonce.len);
}

static int add_certs(BasicOCSPResponse_t *br, const struct gba_ocsp_resp_build *b)
{
	size_t i;
	int ret;

	if (b->ncerts == 0)
		return 0;
	if (b->ncerts > 4 || b->certs == NULL)
		return GBA_EINVAL;
	br->certs = gba_calloc(1, sizeof(*br->certs));
	if (br->certs == NULL)
		return GBA_ENOMEM;
	for (i = 0; i < b->ncerts; i++) {
		void *c = NULL;

		ret = gba_asn1_decode_strict(&asn_DEF_Certificate, b->certs[i].p, b->certs[i].len, 0, &c, NULL);
		if (ret < 0)
			return ret;
		if (ASN_SEQUENCE_ADD(&br->certs->list, c) != 0) {
			ASN_STRUCT_FREE(asn_DEF_Certificate, c);
			return GBA_ENOMEM;
		}
	}
	return 0;
}

int gba_ocsp_response_build(const struct gba_ocsp_resp_build *b, uint8_t **der, size_t *len)
{
	BasicOCSPResponse_t *br = NULL;
	OCSPResponse_t *resp = NULL;
	uint8_t *tbs = NULL, *sig = NULL, *basic = NULL;
	size_t tbs_len = 0, sig_len = 0, basic_len = 0;
	int ret;

	if (der == NULL || len == NULL)
		return GBA_EINVAL;
	*der = NULL;
	*len = 0;
	if (b == NULL || b->sign == NULL || b->responses == NULL || b->nresponses == 0 ||
	    b->nresponses > GBA_OCSP_MAX_CERTIDS)
		return GBA_EINVAL;
	ret = GBA_ENOMEM;
	br = gba_calloc(1, sizeof(*br));
	resp = gba_calloc(1, sizeof(*resp));
	if (br == NULL || resp == NULL)
		goto out;
	ret = fill_response_data(&br->tbsResponseData, b);
	if (ret < 0)
		goto out;
	ret = gba_asn1_encode_alloc(&asn_DEF_ResponseData, &br->tbsResponseData, &tbs, &tbs_len);
	if (ret < 0)
		goto out;
	ret = set_alg(&br->signatureAlgorithm, b->sig_alg.p, b->sig_alg.len,
	              b->sig_alg_null_params);
	if (ret < 0)
		goto out;
	ret = add_certs(br, b);
	if (ret < 0)
		goto out;
	ret = b->sign(b->sign_ctx, tbs, tbs_len, &sig, &sig_len);
	if (ret < 0)
		goto out;
	if (sig == NULL || sig_len == 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	ret = gba_asn1_set_bytes(&br->signature.buf, &br->signature.size, sig, sig_len);
	if (ret < 0)
		goto out;
	br->signature.bits_unused = 0;
	ret = gba_asn1_encode_alloc(&asn_DEF_BasicOCSPResponse, br, &basic, &basic_len);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	if (asn_long2INTEGER(&resp->responseStatus, (long)GBA_OCSP_SUCCESSFUL) != 0)
		goto out;
	resp->responseBytes = gba_calloc(1, sizeof(*resp->responseBytes));
	if (resp->responseBytes == NULL)
		goto out;
	ret = GBA_SET_OID(&resp->responseBytes->responseType, oid_ocsp_basic);
	if (ret < 0)
		goto out;
	if (basic_len > INT_MAX) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	/* hand the encoded BasicOCSPResponse over instead of copying it */
	resp->responseBytes->response.buf = basic;
	resp->responseBytes->response.size = (int)basic_len;
	basic = NULL;
	ret = gba_asn1_encode_alloc(&asn_DEF_OCSPResponse, resp, der, len);
out:
	gba_free(tbs);
	gba_free(sig);
	gba_free(basic);
	if (br != NULL)
		ASN_STRUCT_FREE(asn_DEF_BasicOCSPResponse, br);
	if (resp != NULL)
		ASN_STRUCT_FREE(asn_DEF_OCSPResponse, resp);
	return ret;
}

int gba_ocsp_error_build(enum gba_ocsp_resp_status status, uint8_t **der, size_t *len)
{
	uint8_t *p;

	if (der == NULL || len == NULL)
		return GBA_EINVAL;
	*der = NULL;
	*len = 0;
	switch (status) {
	case GBA_OCSP_MALFORMED_REQUEST:
	case GBA_OCSP_INTERNAL_ERROR:
	case GBA_OCSP_TRY_LATER:
	case GBA_OCSP_SIG_REQUIRED:
	case GBA_OCSP_UNAUTHORIZED:
		break;
	default:
		return GBA_EINVAL;
	}
	/* SEQUENCE { ENUMERATED status }: fixed five octets */
	p = gba_malloc(5);
	if (p == NULL)
		return GBA_ENOMEM;
	p[0] = 0x30;
	p[1] = 0x03;
	p[2] = 0x0a;
	p[3] = 0x01;
	p[4] = (uint8_t)status;
	*der = p;
	*len = 5;
	return 0;
}

/* ---- CRL ---- */

/* DER length octets needed for a content of n octets. */
static size_t len_size(size_t n)
{
	size_t k = 1;

	if (n < 0x80)
		return 1;
	while (n > 0) {
		k++;
		n >>= 8;
	}
	return k;
}

/* Write tag + length at p; returns the octets written. */
static size_t put_hdr(uint8_t *p, uint8_t tag, size_t n)
{
	size_t k = len_size(n), i;

	p[0] = tag;
	if (k == 1) {
		p[1] = (uint8_t)n;
		return 2;
	}
	p[1] = (uint8_t)(0x80u | (k - 1));
	for (i = k - 1; i >= 1; i--) {
		p[1 + i] = (uint8_t)(n & 0xffu);
		n >>= 8;
	}
	return 1 + k;
}

static size_t tlv_size(size_t n)
{
	return 1 + len_size(n) + n;
}

static void put_2d(uint8_t *p, int v)
{
	p[0] = (uint8_t)('0' + v / 10);
	p[1] = (uint8_t)('0' + v % 10);
}

/* Time TLV for t: UTCTime before 2050, GeneralizedTime after (force_gt
 * for invalidityDate).  Returns the TLV length (15 or 17), or 0. */
static size_t put_time_tlv(uint8_t *p, int64_t t, int force_gt)
{
	struct tm tm;
	int year, gt;
	uint8_t *q;

	if (utc_tm(t, &tm) < 0)
		return 0;
	year = tm.tm_year + 1900;
	gt = force_gt || year >= 2050;
	p[0] = gt ? 0x18 : 0x17;
	p[1] = gt ? 15 : 13;
	q = p + 2;
	if (gt) {
		put_2d(q, year / 100);
		q += 2;
	}
	put_2d(q, year % 100);
	put_2d(q + 2, tm.tm_mon + 1);
	put_2d(q + 4, tm.tm_mday);
	put_2d(q + 6, tm.tm_hour);
	put_2d(q + 8, tm.tm_min);
	put_2d(q + 10, tm.tm_sec);
	q[12] = 'Z';
	return gt ? 17u : 15u;
}

static int year_of(int64_t t, int *year)
{
	struct tm tm;

	if (utc_tm(t, &tm) < 0)
		return GBA_EINVAL;
	*year = tm.tm_year + 1900;
	return 0;
}

/* The content length of crlEntryExtensions' SEQUENCE (0: none). */
static size_t entry_ext_len(const struct gba_crl_entry *e)
{
	size_t n = 0;

	if (e->reason > 0)
		n += EXT_REASON_LEN;
	if (e->invalidity_date != 0)
		n += EXT_INVALIDITY_LEN;
	return n;
}

/* Validate one entry and return the content length of its SEQUENCE. */
static int entry_size(const struct gba_crl_entry *e, size_t *content)
{
	size_t n, x;
	int year;

	if (!int_content_ok(e->serial, e->serial_len, GBA_CRL_MAX_SERIAL))
		return GBA_EINVAL;
	if (e->reason != GBA_CRL_REASON_NONE &&
	    (!reason_ok(e->reason) || e->reason == GBA_CRL_REASON_REMOVE_FROM_CRL))
		return GBA_EINVAL;
	if (e->invalidity_date != 0 && year_of(e->invalidity_date, &year) < 0)
		return GBA_EINVAL;
	if (year_of(e->revoked_at, &year) < 0)
		return GBA_EINVAL;
	n = tlv_size(e->serial_len) + (year >= 2050 ? 17u : 15u);
	x = entry_ext_len(e);
	if (x > 0)
		n += tlv_size(x);
	*content = n;
	return 0;
}

static size_t write_entry(uint8_t *p, const struct gba_crl_entry *e, size_t content)
{
	size_t off, x = entry_ext_len(e);

	off = put_hdr(p, 0x30, content);
	off += put_hdr(p + off, 0x02, e->serial_len);
	memcpy(p + off, e->serial, e->serial_len);
	off += e->serial_len;
	off += put_time_tlv(p + off, e->revoked_at, 0);
	if (x == 0)
		return off;
	off += put_hdr(p + off, 0x30, x);
	if (e->reason > 0) {
		memcpy(p + off, ext_reason_prefix, sizeof(ext_reason_prefix));
		off += sizeof(ext_reason_prefix);
		p[off++] = (uint8_t)e->reason;
	}
	if (e->invalidity_date != 0) {
		memcpy(p + off, ext_invalidity_prefix, sizeof(ext_invalidity_prefix));
		off += sizeof(ext_invalidity_prefix) - 2;   /* the time TLV rewrites 18 0f */
		off += put_time_tlv(p + off, e->invalidity_date, 1);
	}
	return off;
}

/* TBSCertList without revokedCertificates and crlExtensions, and the
 * crlExtensions, both encoded by the generated codec. */
static int crl_head(const struct gba_crl_build *b, uint8_t **head, size_t *head_len,
                    uint8_t **exts, size_t *exts_len)
{
	TBSCertList_t *tbs;
	Extensions_t *ext = NULL;
	uint8_t num[2 + 9], aki[4 + GBA_CRL_MAX_KEY_ID];
	size_t n, k, i;
	uint64_t v;
	int ret = GBA_ENOMEM;

	tbs = gba_calloc(1, sizeof(*tbs));
	if (tbs == NULL)
		return GBA_ENOMEM;
	tbs->version = gba_calloc(1, sizeof(*tbs->version));
	if (tbs->version == NULL || asn_long2INTEGER(tbs->version, 1) != 0)   /* v2 */
		goto out;
	ret = set_alg(&tbs->signature, b->sig_alg.p, b->sig_alg.len, b->sig_alg_null_params);
	if (ret == 0)
		ret = set_name(&tbs->issuer, &b->issuer);
	if (ret == 0)
		ret = put_time(&tbs->thisUpdate, b->this_update);
	if (ret < 0)
		goto out;
	if (b->next_update != 0) {
		ret = GBA_EINVAL;
		if (b->next_update < b->this_update)
			goto out;
		ret = GBA_ENOMEM;
		tbs->nextUpdate = gba_calloc(1, sizeof(*tbs->nextUpdate));
		if (tbs->nextUpdate == NULL)
			goto out;
		ret = put_time(tbs->nextUpdate, b->next_update);
		if (ret < 0)
			goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_TBSCertList, tbs, head, head_len);
	if (ret < 0)
		goto out;

	/* cRLNumber: INTEGER, non-negative, minimal */
	v = b->crl_number;
	for (k = 1; k < 8 && (v >> (8 * k)) != 0; k++)
		;
	n = k + ((v >> (8 * k - 1)) & 1u);   /* a leading 0x00 when the top bit is set */
	num[0] = 0x02;
	num[1] = (uint8_t)n;
	for (i = 0; i < n; i++)
		num[2 + n - 1 - i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
	ret = add_ext(&ext, oid_crl_number, sizeof(oid_crl_number), num, 2 + n);
	if (ret < 0)
		goto out;
	if (b->aki.len > 0) {
		ret = GBA_EINVAL;
		if (b->aki.p == NULL || b->aki.len > GBA_CRL_MAX_KEY_ID)
			goto out;
		/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT } */
		aki[0] = 0x30;
		aki[1] = (uint8_t)(2 + b->aki.len);
		aki[2] = 0x80;
		aki[3] = (uint8_t)b->aki.len;
		memcpy(aki + 4, b->aki.p, b->aki.len);
		ret = add_ext(&ext, oid_aki, sizeof(oid_aki), aki, 4 + b->aki.len);
		if (ret < 0)
			goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_Extensions, ext, exts, exts_len);
out:
	if (ret < 0) {
		gba_free(*head);
		*head = NULL;
	}
	if (ext != NULL)
		ASN_STRUCT_FREE(asn_DEF_Extensions, ext);
	ASN_STRUCT_FREE(asn_DEF_TBSCertList, tbs);
	return ret;
}

int gba_crl_build(const struct gba_crl_build *b, uint8_t **der, size_t *len)
{
	AlgorithmIdentifier_t *alg = NULL;
	uint8_t *head = NULL, *exts = NULL, *algder = NULL, *sig = NULL, *buf = NULL, *nb;
	size_t head_len = 0, exts_len = 0, alg_len = 0, sig_len = 0;
	size_t head_hdr, head_body, rev_len = 0, tbs_body, tbs_len, total_body, off, i, n;
	int ret;

	if (der == NULL || len == NULL)
		return GBA_EINVAL;
	*der = NULL;
	*len = 0;
	if (b == NULL || b->sign == NULL || (b->nentries > 0 && b->entries == NULL))
		return GBA_EINVAL;

	/* pass 1: validate and size the entries */
	for (i = 0; i < b->nentries; i++) {
		ret = entry_size(&b->entries[i], &n);
		if (ret < 0)
			return ret;
		n = tlv_size(n);
		if (rev_len > SIZE_MAX / 2 - n)
			return GBA_ETOOBIG;
		rev_len += n;
	}
	ret = crl_head(b, &head, &head_len, &exts, &exts_len);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	alg = gba_calloc(1, sizeof(*alg));
	if (alg == NULL)
		goto out;
	ret = set_alg(alg, b->sig_alg.p, b->sig_alg.len, b->sig_alg_null_params);
	if (ret == 0)
		ret = gba_asn1_encode_alloc(&asn_DEF_AlgorithmIdentifier, alg, &algder, &alg_len);
	if (ret < 0)
		goto out;

	/* the head is 30 L <fields>: keep the fields, rewrite the header */
	head_hdr = head[1] < 0x80 ? 2u : 2u + (head[1] & 0x7fu);
	head_body = head_len - head_hdr;
	tbs_body = head_body + (b->nentries > 0 ? tlv_size(rev_len) : 0) + tlv_size(exts_len);
	tbs_len = tlv_size(tbs_body);

	/* pass 2: the TBSCertList in one buffer */
	ret = GBA_ENOMEM;
	buf = gba_malloc(tbs_len);
	if (buf == NULL)
		goto out;
	off = put_hdr(buf, 0x30, tbs_body);
	memcpy(buf + off, head + head_hdr, head_body);
	off += head_body;
	if (b->nentries > 0) {
		off += put_hdr(buf + off, 0x30, rev_len);
		for (i = 0; i < b->nentries; i++) {
			(void)entry_size(&b->entries[i], &n);
			off += write_entry(buf + off, &b->entries[i], n);
		}
	}
	off += put_hdr(buf + off, 0xa0, exts_len);
	memcpy(buf + off, exts, exts_len);
	off += exts_len;
	if (off != tbs_len) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	gba_free(head);
	head = NULL;

	ret = b->sign(b->sign_ctx, buf, tbs_len, &sig, &sig_len);
	if (ret < 0)
		goto out;
	if (sig == NULL || sig_len == 0 || sig_len > 4096) {
		ret = GBA_EINTERNAL;
		goto out;
	}

	/* CertificateList ::= SEQUENCE { tbs, alg, BIT STRING sig } */
	total_body = tbs_len + alg_len + tlv_size(sig_len + 1);
	n = tlv_size(total_body);
	ret = GBA_ENOMEM;
	nb = gba_realloc(buf, n);
	if (nb == NULL)
		goto out;
	buf = nb;
	off = n - total_body;   /* outer header length */
	memmove(buf + off, buf, tbs_len);
	(void)put_hdr(buf, 0x30, total_body);
	off += tbs_len;
	memcpy(buf + off, algder, alg_len);
	off += alg_len;
	off += put_hdr(buf + off, 0x03, sig_len + 1);
	buf[off++] = 0x00;   /* no unused bits */
	memcpy(buf + off, sig, sig_len);
	off += sig_len;
	if (off != n) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	*der = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	gba_free(buf);
	gba_free(head);
	gba_free(exts);
	gba_free(algder);
	gba_free(sig);
	if (alg != NULL)
		ASN_STRUCT_FREE(asn_DEF_AlgorithmIdentifier, alg);
	return ret;
}
