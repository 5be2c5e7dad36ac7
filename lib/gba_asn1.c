/*
 * gba_asn1.c - the wrapper around the asn1c code in gen/.
 *
 * The only file that includes gen/ headers (see lib/Makefile.am).  All
 * memory the generated code allocates goes through gba_mem (the
 * allocator patch in gen/patches), so this file allocates asn1c
 * structures with gba_calloc and frees them with ASN_STRUCT_FREE.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asn_application.h"
#include "ANY.h"
#include "BasicOCSPResponse.h"
#include "CCMValidity.h"
#include "CMSTime.h"
#include "CertConfigMessage.h"
#include "CertReqMessages.h"
#include "Certificate.h"
#include "CertificateList.h"
#include "CertificationRequest.h"
#include "ContentInfo.h"
#include "OCSPRequest.h"
#include "OCSPResponse.h"
#include "PKIData.h"
#include "PKIResponse.h"
#include "RevocationInfoChoices.h"
#include "RevocationInfoChoice.h"
#include "Extensions.h"
#include "Extension.h"
#include "SignedAttributes.h"
#include "SignedData.h"
#include "SignerInfo.h"

#include "gba_asn1.h"
#include "gba_asn1_int.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"

_Static_assert(sizeof(unsigned long) >= sizeof(uint64_t), "sequence numbers need 64-bit long");

/* ---- PDU table ---- */

static asn_TYPE_descriptor_t *const pdu_td[GBA_PDU_COUNT] = {
	[GBA_PDU_CERTIFICATE] = &asn_DEF_Certificate,
	[GBA_PDU_CRL] = &asn_DEF_CertificateList,
	[GBA_PDU_CSR] = &asn_DEF_CertificationRequest,
	[GBA_PDU_CONTENT_INFO] = &asn_DEF_ContentInfo,
	[GBA_PDU_SIGNED_DATA] = &asn_DEF_SignedData,
	[GBA_PDU_PKI_DATA] = &asn_DEF_PKIData,
	[GBA_PDU_PKI_RESPONSE] = &asn_DEF_PKIResponse,
	[GBA_PDU_CERT_REQ_MSGS] = &asn_DEF_CertReqMessages,
	[GBA_PDU_OCSP_REQUEST] = &asn_DEF_OCSPRequest,
	[GBA_PDU_OCSP_RESPONSE] = &asn_DEF_OCSPResponse,
	[GBA_PDU_BASIC_OCSP_RESPONSE] = &asn_DEF_BasicOCSPResponse,
	[GBA_PDU_CCM] = &asn_DEF_CertConfigMessage,
};

static const char *const pdu_names[GBA_PDU_COUNT] = {
#define GBA_PDU_NAME(id, name) [GBA_PDU_##id] = name,
	GBA_PDUS(GBA_PDU_NAME)
#undef GBA_PDU_NAME
};

const char *gba_pdu_name(enum gba_pdu pdu)
{
	if ((unsigned)pdu >= GBA_PDU_COUNT)
		return NULL;
	return pdu_names[pdu];
}

int gba_pdu_by_name(const char *name, enum gba_pdu *pdu)
{
	unsigned i;

	for (i = 0; i < GBA_PDU_COUNT; i++) {
		if (strcmp(pdu_names[i], name) == 0) {
			*pdu = (enum gba_pdu)i;
			return 0;
		}
	}
	return GBA_ENOTFOUND;
}

/* ---- OIDs (content octets) ---- */

/* 2.25.181848808703629144312443541942285638697.1.1 (asn1/GbaCCM.asn1) */
static const uint8_t oid_ct_ccm[] = {
	0x69, 0x82, 0x91, 0xce, 0xe7, 0x9f, 0xb1, 0xe9, 0x92, 0xb9, 0xb5,
	0x88, 0x94, 0xf3, 0xe6, 0xcd, 0x8e, 0xb0, 0xb8, 0x29, 0x01, 0x01
};
static const uint8_t oid_cct_pkidata[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x0c, 0x02 };
static const uint8_t oid_cct_pkiresponse[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x0c, 0x03 };
static const uint8_t oid_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const uint8_t oid_signed_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const uint8_t oid_attr_content_type[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03
};
static const uint8_t oid_attr_message_digest[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04
};
static const uint8_t oid_attr_signing_time[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05
};
static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_sha384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
static const uint8_t oid_sha512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };
static const uint8_t oid_ext_ski[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_rsa_sha256[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
};
static const uint8_t der_null[] = { 0x05, 0x00 };

#define OID(a) { (a), sizeof(a) }
const struct gba_oid gba_oid_ct_ccm = OID(oid_ct_ccm);
const struct gba_oid gba_oid_cct_pkidata = OID(oid_cct_pkidata);
const struct gba_oid gba_oid_cct_pkiresponse = OID(oid_cct_pkiresponse);
const struct gba_oid gba_oid_data = OID(oid_data);

/* ---- helpers shared with gba_asn1_cmc.c (gba_asn1_int.h) ---- */

int gba_asn1_oid_is(const OBJECT_IDENTIFIER_t *o, const uint8_t *p, size_t len)
{
	return o->size >= 0 && (size_t)o->size == len && memcmp(o->buf, p, len) == 0;
}

void gba_asn1_set_err(struct gba_der_error *err, size_t off, const char *reason)
{
	if (err != NULL) {
		err->offset = off;
		err->reason = reason;
	}
}

int gba_asn1_set_bytes(uint8_t **bufp, int *sizep, const void *p, size_t len)
{
	uint8_t *b;

	if (len > INT_MAX - 1)
		return GBA_ETOOBIG;
	b = gba_malloc(len + 1);
	if (b == NULL)
		return GBA_ENOMEM;
	if (len > 0)
		memcpy(b, p, len);
	b[len] = 0;
	gba_free(*bufp);
	*bufp = b;
	*sizep = (int)len;
	return 0;
}

int gba_asn1_encode_alloc(asn_TYPE_descriptor_t *td, void *sptr, uint8_t **out, size_t *outlen)
{
	asn_enc_rval_t er;
	uint8_t *buf;
	size_t n;

	*out = NULL;
	*outlen = 0;
	er = der_encode(td, sptr, NULL, NULL);
	if (er.encoded < 0)
		return GBA_EINVAL;
	n = (size_t)er.encoded;
	buf = gba_malloc(n);
	if (buf == NULL)
		return GBA_ENOMEM;
	er = der_encode_to_buffer(td, sptr, buf, n);
	if (er.encoded < 0 || (size_t)er.encoded != n) {
		gba_free(buf);
		return GBA_EINTERNAL;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

int gba_asn1_decode_strict(asn_TYPE_descriptor_t *td, const uint8_t *buf, size_t len,
                           size_t base, void **out, struct gba_der_error *err)
{
	asn_codec_ctx_t ctx;
	asn_dec_rval_t rv;
	void *p = NULL;
	uint8_t *re = NULL;
	size_t relen = 0, i;
	char cmsg[160];
	size_t cmsg_len = sizeof(cmsg);
	int ret;

	*out = NULL;
	ret = gba_der_check_default(buf, len, err);
	if (ret < 0) {
		if (err != NULL)
			err->offset += base;
		return ret;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.max_stack_size = GBA_MAX_ASN1_STACK;
	rv = ber_decode(&ctx, td, &p, buf, len);
	if (rv.code != RC_OK) {
		gba_asn1_set_err(err, base + rv.consumed, rv.code == RC_WMORE ?
		                 "value ends early for this ASN.1 type" :
		                 "does not match the ASN.1 type");
		ret = rv.code == RC_WMORE ? GBA_ETRUNC : GBA_ESYNTAX;
		goto out;
	}
	if (rv.consumed != len) {
		gba_asn1_set_err(err, base + rv.consumed, "trailing bytes after the value");
		ret = GBA_ESYNTAX;
		goto out;
	}
	if (asn_check_constraints(td, p, cmsg, &cmsg_len) != 0) {
		gba_asn1_set_err(err, base, "value violates an ASN.1 constraint");
		ret = GBA_ECONSTRAINT;
		goto out;
	}
	ret = gba_asn1_encode_alloc(td, p, &re, &relen);
	if (ret < 0) {
		gba_asn1_set_err(err, base, "value cannot be re-encoded");
		goto out;
	}
	if (relen != len || memcmp(re, buf, len) != 0) {
		for (i = 0; i < len && i < relen && re[i] == buf[i]; i++)
			;
		gba_asn1_set_err(err, base + i,
		                 "not DER: re-encoding differs (SET OF order, DEFAULT value or unknown extension)");
		ret = GBA_ENOTDER;
		goto out;
	}
	*out = p;
	p = NULL;
	ret = 0;
out:
	gba_free(re);
	if (p != NULL)
		ASN_STRUCT_FREE(*td, p);
	return ret;
}

int gba_asn1_decode_into(asn_TYPE_descriptor_t *td, const uint8_t *buf, size_t len,
                         void *dst, size_t dst_size)
{
	struct gba_der_error err;
	void *p = NULL;
	int ret;

	ret = gba_asn1_decode_strict(td, buf, len, 0, &p, &err);
	if (ret < 0)
		return ret;
	memcpy(dst, p, dst_size);   /* the members now belong to dst */
	gba_free(p);
	return 0;
}

int gba_asn1_put_gt(GeneralizedTime_t *gt, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return GBA_EINVAL;
	return asn_time2GT(gt, &tm, 1) != NULL ? 0 : GBA_ENOMEM;
}

int gba_asn1_get_gt(const GeneralizedTime_t *gt, int64_t *t)
{
	time_t r;

	errno = 0;
	r = asn_GT2time(gt, NULL, 1);
	if (r == (time_t)-1)
		return GBA_ESYNTAX;
	*t = (int64_t)r;
	return 0;
}

int gba_asn1_tlv(const uint8_t *p, size_t n, struct gba_tlv *t)
{
	size_t hl = 2, clen = 0, k, nlen;

	memset(t, 0, sizeof(*t));
	if (n < 2)
		return GBA_ETRUNC;
	if ((p[0] & 0x1f) == 0x1f)
		return GBA_ESYNTAX;     /* high tag numbers: not used here */
	if (p[1] < 0x80) {
		clen = p[1];
	} else {
		nlen = p[1] & 0x7fu;
		if (nlen == 0 || nlen > sizeof(size_t) || nlen > 4)
			return GBA_ESYNTAX;
		if (n < 2 + nlen)
			return GBA_ETRUNC;
		for (k = 0; k < nlen; k++)
			clen = (clen << 8) | p[2 + k];
		hl += nlen;
	}
	if (clen > n - hl)
		return GBA_ETRUNC;
	t->p = p;
	t->len = hl + clen;
	t->c = p + hl;
	t->clen = clen;
	t->tag = p[0];
	return 0;
}

int gba_asn1_tlv_child(const struct gba_tlv *parent, size_t idx, struct gba_tlv *child)
{
	const uint8_t *p = parent->c, *end = parent->c + parent->clen;
	size_t i;
	int ret;

	if ((parent->tag & 0x20) == 0)
		return GBA_ESYNTAX;
	for (i = 0;; i++) {
		if (p >= end)
			return GBA_ENOTFOUND;
		ret = gba_asn1_tlv(p, (size_t)(end - p), child);
		if (ret < 0)
			return ret;
		if (i == idx)
			return 0;
		p += child->len;
	}
}

int gba_asn1_check(enum gba_pdu pdu, const uint8_t *buf, size_t len, struct gba_der_error *err)
{
	void *p = NULL;
	int ret;

	if ((unsigned)pdu >= GBA_PDU_COUNT) {
		gba_asn1_set_err(err, 0, "unknown PDU");
		return GBA_EINVAL;
	}
	ret = gba_asn1_decode_strict(pdu_td[pdu], buf, len, 0, &p, err);
	if (ret == 0)
		ASN_STRUCT_FREE(*pdu_td[pdu], p);
	return ret;
}

int gba_asn1_print(enum gba_pdu pdu, const uint8_t *buf, size_t len)
{
	struct gba_der_error err;
	void *p = NULL;
	int ret;

	if ((unsigned)pdu >= GBA_PDU_COUNT)
		return GBA_EINVAL;
	ret = gba_asn1_decode_strict(pdu_td[pdu], buf, len, 0, &p, &err);
	if (ret < 0)
		return ret;
	if (asn_fprint(stdout, pdu_td[pdu], p) != 0)
		ret = GBA_EIO;
	ASN_STRUCT_FREE(*pdu_td[pdu], p);
	return ret;
}

/* ---- times ---- */

/* RFC 5652 11.3: UTCTime for 1950..2049, GeneralizedTime otherwise. */
static int put_cms_time(CMSTime_t *ct, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		return GBA_EINVAL;
	if (tm.tm_year + 1900 < 2050) {
		ct->present = CMSTime_PR_utcTime;
		return asn_time2UT(&ct->choice.utcTime, &tm, 1) != NULL ? 0 : GBA_ENOMEM;
	}
	ct->present = CMSTime_PR_generalTime;
	return gba_asn1_put_gt(&ct->choice.generalTime, t);
}

/* ---- CMS SignedData ---- */

struct gba_cms_msg {
	ContentInfo_t *ci;
	SignedData_t *sd;
	uint8_t *sid_issuer;    /* gba_cms_signer's sid issuer Name DER */
};

void gba_cms_msg_free(struct gba_cms_msg *msg)
{
	if (msg == NULL)
		return;
	if (msg->sd != NULL)
		ASN_STRUCT_FREE(asn_DEF_SignedData, msg->sd);
	if (msg->ci != NULL)
		ASN_STRUCT_FREE(asn_DEF_ContentInfo, msg->ci);
	gba_free(msg->sid_issuer);
	gba_free(msg);
}

int gba_cms_cert(const struct gba_cms_msg *msg, size_t i, struct gba_blob *out)
{
	const ANY_t *c;

	out->p = NULL;
	out->len = 0;
	if (msg == NULL || msg->sd == NULL || msg->sd->certificates == NULL ||
	    i >= (size_t)msg->sd->certificates->list.count)
		return GBA_EINVAL;
	c = msg->sd->certificates->list.array[i];
	out->p = c->buf;
	out->len = (size_t)c->size;
	return 0;
}

int gba_cms_parse(const uint8_t *buf, size_t len, struct gba_cms_view *view,
                  struct gba_cms_msg **msgp, struct gba_der_error *err)
{
	struct gba_cms_msg *msg;
	OCTET_STRING_t *ec;
	int ret;

	*msgp = NULL;
	memset(view, 0, sizeof(*view));
	msg = gba_calloc(1, sizeof(*msg));
	if (msg == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_decode_strict(&asn_DEF_ContentInfo, buf, len, 0, (void **)&msg->ci, err);
	if (ret < 0)
		goto out;
	if (!gba_asn1_oid_is(&msg->ci->contentType, oid_signed_data, sizeof(oid_signed_data))) {
		gba_asn1_set_err(err, 0, "ContentInfo does not hold a SignedData");
		ret = GBA_EUNSUPP;
		goto out;
	}
	/* content is the last element, so the SignedData ends the input */
	ret = gba_asn1_decode_strict(&asn_DEF_SignedData, msg->ci->content.buf,
	                    (size_t)msg->ci->content.size, len - (size_t)msg->ci->content.size,
	                    (void **)&msg->sd, err);
	if (ret < 0)
		goto out;
	view->econtent_type.p = msg->sd->encapContentInfo.eContentType.buf;
	view->econtent_type.len = (size_t)msg->sd->encapContentInfo.eContentType.size;
	ec = msg->sd->encapContentInfo.eContent;
	if (ec != NULL) {
		view->econtent.p = ec->buf;
		view->econtent.len = (size_t)ec->size;
	}
	view->ncerts = msg->sd->certificates ? (size_t)msg->sd->certificates->list.count : 0;
	view->nsigners = (size_t)msg->sd->signerInfos.list.count;
	*msgp = msg;
	msg = NULL;
out:
	gba_cms_msg_free(msg);
	return ret;
}

static int add_attr(SignedAttributes_t *attrs, const uint8_t *oid, size_t oid_len,
                    asn_TYPE_descriptor_t *td, void *value)
{
	CMSAttribute_t *a;
	ANY_t *v;
	int ret = GBA_ENOMEM;

	a = gba_calloc(1, sizeof(*a));
	v = gba_calloc(1, sizeof(*v));
	if (a == NULL || v == NULL)
		goto fail;
	ret = gba_asn1_set_bytes(&a->attrType.buf, &a->attrType.size, oid, oid_len);
	if (ret < 0)
		goto fail;
	ret = GBA_ENOMEM;
	if (ANY_fromType(v, td, value) != 0)
		goto fail;
	if (ASN_SET_ADD(&a->attrValues.list, v) != 0)
		goto fail;
	v = NULL;
	if (ASN_SET_ADD(&attrs->list, a) != 0)
		goto fail;
	return 0;
fail:
	if (v != NULL)
		ASN_STRUCT_FREE(asn_DEF_ANY, v);
	if (a != NULL)
		ASN_STRUCT_FREE(asn_DEF_CMSAttribute, a);
	return ret;
}

/* digestAlgorithm OIDs of the hashes a CMS signer may use. */
static const struct {
	enum gba_hash_alg hash;
	const uint8_t *oid;
	size_t len;
} digest_algs[] = {
	{ GBA_HASH_SHA256, oid_sha256, sizeof(oid_sha256) },
	{ GBA_HASH_SHA384, oid_sha384, sizeof(oid_sha384) },
	{ GBA_HASH_SHA512, oid_sha512, sizeof(oid_sha512) },
};

static int set_digest_alg(AlgorithmIdentifier_t *alg, enum gba_hash_alg hash)
{
	size_t i;

	for (i = 0; i < sizeof(digest_algs) / sizeof(digest_algs[0]); i++)
		if (digest_algs[i].hash == hash)
			return gba_asn1_set_bytes(&alg->algorithm.buf, &alg->algorithm.size,
			                          digest_algs[i].oid, digest_algs[i].len);
	return GBA_EINVAL;
}

static int get_digest_alg(const AlgorithmIdentifier_t *alg, enum gba_hash_alg *hash)
{
	size_t i;

	/* RFC 5754: parameters absent (NULL is tolerated by RFC 5754 3) */
	if (alg->parameters != NULL &&
	    (alg->parameters->size != 2 || memcmp(alg->parameters->buf, der_null, 2) != 0))
		return GBA_EUNSUPP;
	for (i = 0; i < sizeof(digest_algs) / sizeof(digest_algs[0]); i++) {
		if (gba_asn1_oid_is(&alg->algorithm, digest_algs[i].oid, digest_algs[i].len)) {
			*hash = digest_algs[i].hash;
			return 0;
		}
	}
	return GBA_EUNSUPP;
}

/* sid = issuerAndSerialNumber of the signer certificate. */
static int set_sid(SignerInfo_t *si, const struct gba_blob *cert)
{
	Certificate_t *c = NULL;
	struct gba_der_error err;
	uint8_t *der = NULL;
	size_t der_len;
	void *dst;
	asn_dec_rval_t rv;
	int ret;

	ret = gba_asn1_decode_strict(&asn_DEF_Certificate, cert->p, cert->len, 0, (void **)&c, &err);
	if (ret < 0)
		return ret;
	si->sid.present = SignerIdentifier_PR_issuerAndSerialNumber;
	ret = gba_asn1_encode_alloc(&asn_DEF_Name, &c->tbsCertificate.issuer, &der, &der_len);
	if (ret < 0)
		goto out;
	dst = &si->sid.choice.issuerAndSerialNumber.issuer;
	rv = ber_decode(NULL, &asn_DEF_Name, &dst, der, der_len);
	if (rv.code != RC_OK) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	ret = gba_asn1_set_bytes(&si->sid.choice.issuerAndSerialNumber.serialNumber.buf,
	                &si->sid.choice.issuerAndSerialNumber.serialNumber.size,
	                c->tbsCertificate.serialNumber.buf,
	                (size_t)c->tbsCertificate.serialNumber.size);
out:
	gba_free(der);
	ASN_STRUCT_FREE(asn_DEF_Certificate, c);
	return ret;
}

static int add_cert(CertificateSet_t *set, const struct gba_blob *cert)
{
	ANY_t *a = gba_calloc(1, sizeof(*a));
	int ret;

	if (a == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_check(GBA_PDU_CERTIFICATE, cert->p, cert->len, NULL);
	if (ret == 0)
		ret = gba_asn1_set_bytes(&a->buf, &a->size, cert->p, cert->len);
	if (ret == 0 && ASN_SET_ADD(&set->list, a) != 0)
		ret = GBA_ENOMEM;
	if (ret < 0)
		ASN_STRUCT_FREE(asn_DEF_ANY, a);
	return ret;
}

static int add_crl(RevocationInfoChoices_t *set, const struct gba_blob *crl)
{
	RevocationInfoChoice_t *r = gba_calloc(1, sizeof(*r));
	int ret;

	if (r == NULL)
		return GBA_ENOMEM;
	r->present = RevocationInfoChoice_PR_crl;
	ret = gba_asn1_decode_into(&asn_DEF_CertificateList, crl->p, crl->len, &r->choice.crl,
	                           sizeof(r->choice.crl));
	if (ret < 0)
		r->present = RevocationInfoChoice_PR_NOTHING;
	if (ret == 0 && ASN_SET_ADD(&set->list, r) != 0)
		ret = GBA_ENOMEM;
	if (ret < 0)
		ASN_STRUCT_FREE(asn_DEF_RevocationInfoChoice, r);
	return ret;
}

static int oid_is_data(const struct gba_cms_sign_req *req)
{
	return req->econtent_type.len == sizeof(oid_data) &&
	       memcmp(req->econtent_type.p, oid_data, sizeof(oid_data)) == 0;
}

int gba_cms_sign(const struct gba_cms_sign_req *req, uint8_t **der, size_t *len)
{
	ContentInfo_t *ci = NULL;
	SignedData_t *sd = NULL;
	SignerInfo_t *si = NULL;
	AlgorithmIdentifier_t *dalg = NULL;
	OBJECT_IDENTIFIER_t ctype;
	OCTET_STRING_t md;
	CMSTime_t st;
	uint8_t digest[64];
	uint8_t *tbs = NULL, *sig = NULL, *out = NULL;
	size_t tbs_len = 0, sig_len = 0, out_len = 0, i;
	struct gba_cms_view view;
	struct gba_cms_msg *check = NULL;
	struct gba_der_error err;
	int ret = GBA_ENOMEM;

	*der = NULL;
	*len = 0;
	memset(&ctype, 0, sizeof(ctype));
	memset(&md, 0, sizeof(md));
	memset(&st, 0, sizeof(st));
	if (req->econtent.len > GBA_MAX_DER_LEN || req->sign == NULL ||
	    (req->signer_cert.len == 0 && req->signer_ski.len == 0) ||
	    req->econtent_type.len == 0 || req->sig_alg.len == 0 ||
	    gba_hash_len(req->hash) > sizeof(digest) ||
	    (req->ncerts > 0 && req->certs == NULL) || (req->ncrls > 0 && req->crls == NULL))
		return GBA_EINVAL;

	ci = gba_calloc(1, sizeof(*ci));
	sd = gba_calloc(1, sizeof(*sd));
	si = gba_calloc(1, sizeof(*si));
	dalg = gba_calloc(1, sizeof(*dalg));
	if (ci == NULL || sd == NULL || si == NULL || dalg == NULL)
		goto out;

	/* RFC 5652 5.1: version 3 for any eContentType but id-data, or
	 * when a SignerInfo is version 3 (sid = subjectKeyIdentifier) */
	if (asn_long2INTEGER(&sd->version,
	                     oid_is_data(req) && req->signer_cert.len > 0 ? 1 : 3) != 0)
		goto out;
	ret = set_digest_alg(dalg, req->hash);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	if (ASN_SET_ADD(&sd->digestAlgorithms.list, dalg) != 0)
		goto out;
	dalg = NULL;
	ret = gba_asn1_set_bytes(&sd->encapContentInfo.eContentType.buf,
	                &sd->encapContentInfo.eContentType.size,
	                req->econtent_type.p, req->econtent_type.len);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	sd->encapContentInfo.eContent = gba_calloc(1, sizeof(OCTET_STRING_t));
	if (sd->encapContentInfo.eContent == NULL)
		goto out;
	ret = GBA_SET_OCTETS(sd->encapContentInfo.eContent, req->econtent.p, req->econtent.len);
	if (ret < 0)
		goto out;

	/* certificates: der_encode sorts the SET OF as DER wants */
	if (req->signer_cert.len > 0 || req->ncerts > 0) {
		ret = GBA_ENOMEM;
		sd->certificates = gba_calloc(1, sizeof(*sd->certificates));
		if (sd->certificates == NULL)
			goto out;
		ret = 0;
		if (req->signer_cert.len > 0)
			ret = add_cert(sd->certificates, &req->signer_cert);
		for (i = 0; ret == 0 && i < req->ncerts; i++)
			ret = add_cert(sd->certificates, &req->certs[i]);
		if (ret < 0)
			goto out;
	}
	if (req->ncrls > 0) {
		ret = GBA_ENOMEM;
		sd->crls = gba_calloc(1, sizeof(*sd->crls));
		if (sd->crls == NULL)
			goto out;
		for (i = 0; i < req->ncrls; i++) {
			ret = add_crl(sd->crls, &req->crls[i]);
			if (ret < 0)
				goto out;
		}
	}

	/* SignerInfo: version 1 with issuerAndSerialNumber, 3 with a key id */
	ret = GBA_ENOMEM;
	if (asn_long2INTEGER(&si->version, req->signer_cert.len > 0 ? 1 : 3) != 0)
		goto out;
	if (req->signer_cert.len > 0) {
		ret = set_sid(si, &req->signer_cert);
	} else {
		si->sid.present = SignerIdentifier_PR_subjectKeyIdentifier;
		ret = GBA_SET_OCTETS(&si->sid.choice.subjectKeyIdentifier, req->signer_ski.p,
		                     req->signer_ski.len);
	}
	if (ret < 0)
		goto out;
	ret = set_digest_alg(&si->digestAlgorithm, req->hash);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	si->signedAttrs = gba_calloc(1, sizeof(*si->signedAttrs));
	if (si->signedAttrs == NULL)
		goto out;
	ret = gba_asn1_set_bytes(&ctype.buf, &ctype.size, req->econtent_type.p, req->econtent_type.len);
	if (ret == 0)
		ret = add_attr(si->signedAttrs, oid_attr_content_type, sizeof(oid_attr_content_type),
		               &asn_DEF_OBJECT_IDENTIFIER, &ctype);
	if (ret == 0)
		ret = put_cms_time(&st, req->signing_time);
	if (ret == 0)
		ret = add_attr(si->signedAttrs, oid_attr_signing_time, sizeof(oid_attr_signing_time),
		               &asn_DEF_CMSTime, &st);
	if (ret == 0)
		ret = gba_hash_fast(req->hash, req->econtent.p, req->econtent.len, digest);
	if (ret == 0)
		ret = GBA_SET_OCTETS(&md, digest, gba_hash_len(req->hash));
	if (ret == 0)
		ret = add_attr(si->signedAttrs, oid_attr_message_digest,
		               sizeof(oid_attr_message_digest), &asn_DEF_OCTET_STRING, &md);
	if (ret < 0)
		goto out;
	ret = gba_asn1_set_bytes(&si->signatureAlgorithm.algorithm.buf, &si->signatureAlgorithm.algorithm.size,
	                req->sig_alg.p, req->sig_alg.len);
	if (ret < 0)
		goto out;
	/* sha256WithRSAEncryption carries NULL parameters; ECDSA none */
	if (req->sig_alg.len == sizeof(oid_rsa_sha256) &&
	    memcmp(req->sig_alg.p, oid_rsa_sha256, sizeof(oid_rsa_sha256)) == 0) {
		ret = GBA_ENOMEM;
		si->signatureAlgorithm.parameters = gba_calloc(1, sizeof(ANY_t));
		if (si->signatureAlgorithm.parameters == NULL)
			goto out;
		ret = gba_asn1_set_bytes(&si->signatureAlgorithm.parameters->buf,
		                &si->signatureAlgorithm.parameters->size, der_null, sizeof(der_null));
		if (ret < 0)
			goto out;
	}

	/* The signature covers the DER of the attributes as a SET OF. */
	ret = gba_asn1_encode_alloc(&asn_DEF_SignedAttributes, si->signedAttrs, &tbs, &tbs_len);
	if (ret < 0)
		goto out;
	ret = req->sign(req->sign_ctx, tbs, tbs_len, &sig, &sig_len);
	if (ret < 0)
		goto out;
	ret = GBA_SET_OCTETS(&si->signature, sig, sig_len);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	if (ASN_SET_ADD(&sd->signerInfos.list, si) != 0)
		goto out;
	si = NULL;

	ret = GBA_SET_OID(&ci->contentType, oid_signed_data);
	if (ret < 0)
		goto out;
	ret = GBA_ENOMEM;
	if (ANY_fromType(&ci->content, &asn_DEF_SignedData, sd) != 0)
		goto out;
	ret = gba_asn1_encode_alloc(&asn_DEF_ContentInfo, ci, &out, &out_len);
	if (ret < 0)
		goto out;
	/* What we sign we also decode strictly, as a peer would. */
	ret = gba_cms_parse(out, out_len, &view, &check, &err);
	if (ret < 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	*der = out;
	*len = out_len;
	out = NULL;
out:
	gba_cms_msg_free(check);
	gba_free(out);
	gba_free(sig);
	gba_free(tbs);
	gba_wipe(digest, sizeof(digest));
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_OBJECT_IDENTIFIER, &ctype);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_OCTET_STRING, &md);
	ASN_STRUCT_FREE_CONTENTS_ONLY(asn_DEF_CMSTime, &st);
	if (dalg != NULL)
		ASN_STRUCT_FREE(asn_DEF_AlgorithmIdentifier, dalg);
	if (si != NULL)
		ASN_STRUCT_FREE(asn_DEF_SignerInfo, si);
	if (sd != NULL)
		ASN_STRUCT_FREE(asn_DEF_SignedData, sd);
	if (ci != NULL)
		ASN_STRUCT_FREE(asn_DEF_ContentInfo, ci);
	return ret;
}

/* The single value of a signed attribute, or NULL if absent. */
static int find_attr(const SignedAttributes_t *attrs, const uint8_t *oid, size_t oid_len,
                     const ANY_t **value)
{
	int i, found = 0;

	*value = NULL;
	for (i = 0; i < attrs->list.count; i++) {
		const CMSAttribute_t *a = attrs->list.array[i];

		if (!gba_asn1_oid_is(&a->attrType, oid, oid_len))
			continue;
		if (found++ > 0 || a->attrValues.list.count != 1)
			return GBA_EDUP;
		*value = a->attrValues.list.array[0];
	}
	return 0;
}

/* Does certificate DER c match the SignerIdentifier? */
static int cert_matches_sid(const ANY_t *c, const SignerIdentifier_t *sid, int *match)
{
	struct gba_der_error err;
	Certificate_t *cert = NULL;
	OCTET_STRING_t *ski = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int i, ret;

	*match = 0;
	ret = gba_asn1_decode_strict(&asn_DEF_Certificate, c->buf, (size_t)c->size, 0,
	                             (void **)&cert, &err);
	if (ret < 0)
		return ret;
	if (sid->present == SignerIdentifier_PR_issuerAndSerialNumber) {
		const IssuerAndSerialNumber_t *ias = &sid->choice.issuerAndSerialNumber;

		if (ias->serialNumber.size != cert->tbsCertificate.serialNumber.size ||
		    memcmp(ias->serialNumber.buf, cert->tbsCertificate.serialNumber.buf,
		           (size_t)ias->serialNumber.size) != 0)
			goto out;
		ret = gba_asn1_encode_alloc(&asn_DEF_Name, (void *)(uintptr_t)&ias->issuer, &a, &alen);
		if (ret == 0)
			ret = gba_asn1_encode_alloc(&asn_DEF_Name, &cert->tbsCertificate.issuer, &b,
			                            &blen);
		if (ret == 0)
			*match = alen == blen && memcmp(a, b, alen) == 0;
		goto out;
	}
	/* sid = subjectKeyIdentifier: the certificate's SKI extension */
	for (i = 0; cert->tbsCertificate.extensions != NULL &&
	            i < cert->tbsCertificate.extensions->list.count; i++) {
		const Extension_t *e = cert->tbsCertificate.extensions->list.array[i];
		const OCTET_STRING_t *want = &sid->choice.subjectKeyIdentifier;

		if (!gba_asn1_oid_is(&e->extnID, oid_ext_ski, sizeof(oid_ext_ski)))
			continue;
		ret = gba_asn1_decode_strict(&asn_DEF_OCTET_STRING, e->extnValue.buf,
		                             (size_t)e->extnValue.size, 0, (void **)&ski, &err);
		if (ret < 0)
			goto out;
		*match = ski->size == want->size &&
		         memcmp(ski->buf, want->buf, (size_t)ski->size) == 0;
		break;
	}
out:
	if (ski != NULL)
		ASN_STRUCT_FREE(asn_DEF_OCTET_STRING, ski);
	gba_free(a);
	gba_free(b);
	ASN_STRUCT_FREE(asn_DEF_Certificate, cert);
	return ret;
}

int gba_cms_signer(struct gba_cms_msg *msg, struct gba_cms_signer_view *sv,
                   uint8_t **tbs, size_t *tbs_len, struct gba_der_error *err)
{
	const SignedData_t *sd = msg->sd;
	const SignerInfo_t *si;
	const ANY_t *v;
	OBJECT_IDENTIFIER_t *ct = NULL;
	OCTET_STRING_t *md = NULL;
	const OCTET_STRING_t *ec = sd->encapContentInfo.eContent;
	uint8_t digest[64];
	enum gba_hash_alg hash = GBA_HASH_SHA256;
	size_t dlen;
	int i, match, ret;

	memset(sv, 0, sizeof(*sv));
	*tbs = NULL;
	*tbs_len = 0;
	ret = GBA_EUNSUPP;
	if (sd->signerInfos.list.count != 1) {
		gba_asn1_set_err(err, 0, "SignedData must have exactly one signer");
		goto out;
	}
	si = sd->signerInfos.list.array[0];
	if (get_digest_alg(&si->digestAlgorithm, &hash) < 0) {
		gba_asn1_set_err(err, 0, "signer digest algorithm is not SHA-256, SHA-384 or SHA-512");
		goto out;
	}
	dlen = gba_hash_len(hash);
	if (si->signedAttrs == NULL || ec == NULL) {
		gba_asn1_set_err(err, 0, "signed attributes or eContent missing");
		ret = GBA_EMISSING;
		goto out;
	}
	ret = find_attr(si->signedAttrs, oid_attr_content_type, sizeof(oid_attr_content_type), &v);
	if (ret == 0 && v == NULL)
		ret = GBA_EMISSING;
	if (ret == 0 && ANY_to_type((ANY_t *)(uintptr_t)v, &asn_DEF_OBJECT_IDENTIFIER,
	                            (void **)&ct) != 0)
		ret = GBA_ESYNTAX;
	if (ret == 0 && (ct->size != sd->encapContentInfo.eContentType.size ||
	                 memcmp(ct->buf, sd->encapContentInfo.eContentType.buf,
	                        (size_t)ct->size) != 0))
		ret = GBA_ESIG;
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "contentType attribute missing, repeated or not the eContentType");
		goto out;
	}
	ret = find_attr(si->signedAttrs, oid_attr_message_digest, sizeof(oid_attr_message_digest),
	                &v);
	if (ret == 0 && v == NULL)
		ret = GBA_EMISSING;
	if (ret == 0 && ANY_to_type((ANY_t *)(uintptr_t)v, &asn_DEF_OCTET_STRING, (void **)&md) != 0)
		ret = GBA_ESYNTAX;
	if (ret == 0)
		ret = gba_hash_fast(hash, ec->buf, (size_t)ec->size, digest);
	if (ret == 0 && (md->size < 0 || (size_t)md->size != dlen ||
	                 !gba_ct_equal(md->buf, digest, dlen)))
		ret = GBA_ESIG;
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "messageDigest attribute missing, repeated or wrong");
		goto out;
	}
	for (i = 0; sd->certificates != NULL && i < sd->certificates->list.count; i++) {
		const ANY_t *c = sd->certificates->list.array[i];

		ret = cert_matches_sid(c, &si->sid, &match);
		if (ret < 0) {
			gba_asn1_set_err(err, 0, "a carried certificate does not decode");
			goto out;
		}
		if (match) {
			sv->cert.p = c->buf;
			sv->cert.len = (size_t)c->size;
			break;
		}
	}
	if (si->sid.present == SignerIdentifier_PR_subjectKeyIdentifier) {
		/* no certificate is fine: the signer is a key being certified */
		sv->ski.p = si->sid.choice.subjectKeyIdentifier.buf;
		sv->ski.len = (size_t)si->sid.choice.subjectKeyIdentifier.size;
		if (sv->ski.len == 0) {
			gba_asn1_set_err(err, 0, "empty subjectKeyIdentifier in sid");
			ret = GBA_ESYNTAX;
			goto out;
		}
	} else {
		if (sv->cert.len == 0) {
			gba_asn1_set_err(err, 0, "the signer's certificate is not in the SignedData");
			ret = GBA_ENOTFOUND;
			goto out;
		}
		gba_free(msg->sid_issuer);
		msg->sid_issuer = NULL;
		ret = gba_asn1_encode_alloc(&asn_DEF_Name,
		                            (void *)(uintptr_t)&si->sid.choice.issuerAndSerialNumber.issuer,
		                            &msg->sid_issuer, &sv->sid_issuer.len);
		if (ret < 0)
			goto out;
		sv->sid_issuer.p = msg->sid_issuer;
		sv->sid_serial.p = si->sid.choice.issuerAndSerialNumber.serialNumber.buf;
		sv->sid_serial.len = (size_t)si->sid.choice.issuerAndSerialNumber.serialNumber.size;
	}
	sv->hash = hash;
	sv->sig_alg.p = si->signatureAlgorithm.algorithm.buf;
	sv->sig_alg.len = (size_t)si->signatureAlgorithm.algorithm.size;
	sv->signature.p = si->signature.buf;
	sv->signature.len = (size_t)si->signature.size;
	ret = gba_asn1_encode_alloc(&asn_DEF_SignedAttributes, si->signedAttrs, tbs, tbs_len);
out:
	if (ct != NULL)
		ASN_STRUCT_FREE(asn_DEF_OBJECT_IDENTIFIER, ct);
	if (md != NULL)
		ASN_STRUCT_FREE(asn_DEF_OCTET_STRING, md);
	if (ret < 0)
		memset(sv, 0, sizeof(*sv));
	return ret;
}

/* ---- CCM ---- */

const char *gba_ccm_action_name(enum gba_ccm_action a)
{
	switch (a) {
	case GBA_CCM_INSTALL:
		return "install";
	case GBA_CCM_RENEWAL_REQUIRED:
		return "renewal-required";
	case GBA_CCM_REVOKED:
		return "revoked";
	case GBA_CCM_TRUST_ANCHOR_UPDATE:
		return "trust-anchor-update";
	case GBA_CCM_STATUS_UPDATE:
		return "status-update";
	case GBA_CCM_REMOVE:
		return "remove";
	}
	return "unknown";
}

/* Decode a certificate blob and append it to a SEQUENCE OF Certificate. */
static int add_ccm_cert(void *list, const struct gba_blob *b)
{
	struct gba_der_error err;
	Certificate_t *c = NULL;
	int ret;

	ret = gba_asn1_decode_strict(&asn_DEF_Certificate, b->p, b->len, 0, (void **)&c, &err);
	if (ret < 0)
		return ret;
	if (ASN_SEQUENCE_ADD(list, c) != 0) {
		ASN_STRUCT_FREE(asn_DEF_Certificate, c);
		return GBA_ENOMEM;
	}
	return 0;
}

/* Allocate the optional SEQUENCE OF and fill it from n blobs. */
#define CCM_CERT_LIST(member, blobs, n)                                    \
	do {                                                               \
		size_t k_;                                                 \
		if ((n) == 0)                                              \
			break;                                             \
		ret = GBA_ENOMEM;                                          \
		m->member = gba_calloc(1, sizeof(*m->member));             \
		if (m->member == NULL)                                     \
			goto out;                                          \
		for (k_ = 0; k_ < (n); k_++) {                             \
			ret = add_ccm_cert(&m->member->list, &(blobs)[k_]); \
			if (ret < 0)                                       \
				goto out;                                  \
		}                                                          \
	} while (0)

int gba_ccm_encode(const struct gba_ccm *ccm, uint8_t **der, size_t *len)
{
	CertConfigMessage_t *m;
	char cmsg[160];
	size_t cmsg_len = sizeof(cmsg);
	int ret = GBA_ENOMEM;

	*der = NULL;
	*len = 0;
	if (ccm->nchain > GBA_CCM_MAX_CHAIN || ccm->nserver_certs > GBA_CCM_MAX_SERVER_CERTS ||
	    ccm->ntrust_anchors > GBA_CCM_MAX_ANCHORS || (unsigned)ccm->action > GBA_CCM_REMOVE)
		return GBA_EINVAL;
	m = gba_calloc(1, sizeof(*m));
	if (m == NULL)
		return GBA_ENOMEM;
	if (asn_long2INTEGER(&m->version, 1) != 0 ||
	    asn_ulong2INTEGER(&m->sequenceNumber, (unsigned long)ccm->seq) != 0 ||
	    asn_long2INTEGER(&m->action, (long)ccm->action) != 0)
		goto out;
	ret = GBA_SET_OCTETS(&m->messageId, ccm->message_id, sizeof(ccm->message_id));
	if (ret == 0)
		ret = gba_asn1_put_gt(&m->issuedAt, ccm->issued_at);
	if (ret < 0)
		goto out;
	switch (ccm->subscriber_kind) {
	case GBA_CCM_SUB_IMPI:
		m->subscriber.present = CCMSubscriber_PR_impi;
		ret = GBA_SET_OCTETS(&m->subscriber.choice.impi, ccm->subscriber.p, ccm->subscriber.len);
		break;
	case GBA_CCM_SUB_BTID:
		m->subscriber.present = CCMSubscriber_PR_btid;
		ret = GBA_SET_OCTETS(&m->subscriber.choice.btid, ccm->subscriber.p, ccm->subscriber.len);
		break;
	default:
		ret = GBA_EINVAL;
	}
	if (ret < 0)
		goto out;
	ret = GBA_SET_OCTETS(&m->applicationId, ccm->application_id.p, ccm->application_id.len);
	if (ret < 0)
		goto out;
	if (ccm->certificate.len > 0) {
		struct gba_der_error err;

		ret = gba_asn1_decode_strict(&asn_DEF_Certificate, ccm->certificate.p, ccm->certificate.len,
		                    0, (void **)&m->certificate, &err);
		if (ret < 0)
			goto out;
	}
	CCM_CERT_LIST(chain, ccm->chain, ccm->nchain);
	CCM_CERT_LIST(serverCerts, ccm->server_certs, ccm->nserver_certs);
	CCM_CERT_LIST(trustAnchors, ccm->trust_anchors, ccm->ntrust_anchors);
	if (ccm->revocation_kind != GBA_CCM_REV_NONE) {
		ret = GBA_ENOMEM;
		m->revocation = gba_calloc(1, sizeof(*m->revocation));
		if (m->revocation == NULL)
			goto out;
		if (ccm->revocation_kind == GBA_CCM_REV_OCSP) {
			m->revocation->present = CCMRevocationStatus_PR_ocsp;
			ret = gba_asn1_decode_into(&asn_DEF_OCSPResponse, ccm->revocation.p, ccm->revocation.len,
			                  &m->revocation->choice.ocsp,
			                  sizeof(m->revocation->choice.ocsp));
		} else if (ccm->revocation_kind == GBA_CCM_REV_CRL) {
			m->revocation->present = CCMRevocationStatus_PR_crl;
			ret = gba_asn1_decode_into(&asn_DEF_CertificateList, ccm->revocation.p,
			                  ccm->revocation.len, &m->revocation->choice.crl,
			                  sizeof(m->revocation->choice.crl));
		} else {
			ret = GBA_EINVAL;
		}
		if (ret < 0) {
			m->revocation->present = CCMRevocationStatus_PR_NOTHING;
			goto out;
		}
	}
	if (ccm->has_validity) {
		ret = GBA_ENOMEM;
		m->validity = gba_calloc(1, sizeof(*m->validity));
		if (m->validity == NULL)
			goto out;
		ret = gba_asn1_put_gt(&m->validity->notBefore, ccm->not_before);
		if (ret == 0)
			ret = gba_asn1_put_gt(&m->validity->notAfter, ccm->not_after);
		if (ret < 0)
			goto out;
	}
	if (ccm->has_renew_by) {
		ret = GBA_ENOMEM;
		m->renewBy = gba_calloc(1, sizeof(*m->renewBy));
		if (m->renewBy == NULL)
			goto out;
		ret = gba_asn1_put_gt(m->renewBy, ccm->renew_by);
		if (ret < 0)
			goto out;
	}
	if (asn_check_constraints(&asn_DEF_CertConfigMessage, m, cmsg, &cmsg_len) != 0) {
		ret = GBA_ECONSTRAINT;
		goto out;
	}
	ret = gba_asn1_encode_alloc(&asn_DEF_CertConfigMessage, m, der, len);
out:
	ASN_STRUCT_FREE(asn_DEF_CertConfigMessage, m);
	return ret;
}

#define CCM_MAX_BUFS (1 + GBA_CCM_MAX_CHAIN + GBA_CCM_MAX_SERVER_CERTS + GBA_CCM_MAX_ANCHORS + 1)

struct gba_ccm_msg {
	CertConfigMessage_t *m;
	uint8_t *bufs[CCM_MAX_BUFS];
	size_t nbufs;
};

void gba_ccm_msg_free(struct gba_ccm_msg *msg)
{
	size_t i;

	if (msg == NULL)
		return;
	for (i = 0; i < msg->nbufs; i++)
		gba_free(msg->bufs[i]);
	if (msg->m != NULL)
		ASN_STRUCT_FREE(asn_DEF_CertConfigMessage, msg->m);
	gba_free(msg);
}

/* Re-encode a decoded member to DER, owned by msg. */
static int msg_encode(struct gba_ccm_msg *msg, asn_TYPE_descriptor_t *td, void *p,
                      struct gba_blob *out)
{
	uint8_t *der;
	size_t len;
	int ret;

	if (msg->nbufs >= CCM_MAX_BUFS)
		return GBA_EINTERNAL;
	ret = gba_asn1_encode_alloc(td, p, &der, &len);
	if (ret < 0)
		return ret;
	msg->bufs[msg->nbufs++] = der;
	out->p = der;
	out->len = len;
	return 0;
}

static int ccm_list(struct gba_ccm_msg *msg, int count, Certificate_t **array,
                    struct gba_blob *out, size_t max, size_t *n)
{
	int i, ret;

	if (count < 0 || (size_t)count > max)
		return GBA_ECONSTRAINT;
	for (i = 0; i < count; i++) {
		ret = msg_encode(msg, &asn_DEF_Certificate, array[i], &out[i]);
		if (ret < 0)
			return ret;
	}
	*n = (size_t)count;
	return 0;
}

int gba_ccm_decode(const uint8_t *der, size_t len, struct gba_ccm *ccm,
                   struct gba_ccm_msg **msgp, struct gba_der_error *err)
{
	struct gba_ccm_msg *msg;
	CertConfigMessage_t *m;
	unsigned long ul;
	long l;
	int ret;

	*msgp = NULL;
	memset(ccm, 0, sizeof(*ccm));
	msg = gba_calloc(1, sizeof(*msg));
	if (msg == NULL)
		return GBA_ENOMEM;
	ret = gba_asn1_decode_strict(&asn_DEF_CertConfigMessage, der, len, 0, (void **)&msg->m, err);
	if (ret < 0)
		goto out;
	m = msg->m;
	ret = GBA_EUNSUPP;
	if (asn_INTEGER2long(&m->version, &l) != 0 || l != 1) {
		gba_asn1_set_err(err, 0, "unsupported CCM version");
		goto out;
	}
	ret = GBA_ECONSTRAINT;
	if (m->messageId.size != (int)sizeof(ccm->message_id)) {
		gba_asn1_set_err(err, 0, "messageId is not 16 octets");
		goto out;
	}
	memcpy(ccm->message_id, m->messageId.buf, sizeof(ccm->message_id));
	if (asn_INTEGER2ulong(&m->sequenceNumber, &ul) != 0) {
		gba_asn1_set_err(err, 0, "sequenceNumber exceeds 64 bits");
		goto out;
	}
	ccm->seq = ul;
	if (asn_INTEGER2long(&m->action, &l) != 0 || l < 0 || l > GBA_CCM_REMOVE) {
		gba_asn1_set_err(err, 0, "unknown CCM action");
		goto out;
	}
	ccm->action = (enum gba_ccm_action)l;
	ret = gba_asn1_get_gt(&m->issuedAt, &ccm->issued_at);
	if (ret < 0) {
		gba_asn1_set_err(err, 0, "issuedAt is not a valid time");
		goto out;
	}
	if (m->subscriber.present == CCMSubscriber_PR_impi) {
		ccm->subscriber_kind = GBA_CCM_SUB_IMPI;
		ccm->subscriber.p = (const char *)m->subscriber.choice.impi.buf;
		ccm->subscriber.len = (size_t)m->subscriber.choice.impi.size;
	} else {
		ccm->subscriber_kind = GBA_CCM_SUB_BTID;
		ccm->subscriber.p = (const char *)m->subscriber.choice.btid.buf;
		ccm->subscriber.len = (size_t)m->subscriber.choice.btid.size;
	}
	ccm->application_id.p = (const char *)m->applicationId.buf;
	ccm->application_id.len = (size_t)m->applicationId.size;
	if (m->certificate != NULL) {
		ret = msg_encode(msg, &asn_DEF_Certificate, m->certificate, &ccm->certificate);
		if (ret < 0)
			goto out;
	}
	if (m->chain != NULL) {
		ret = ccm_list(msg, m->chain->list.count, m->chain->list.array, ccm->chain,
		               GBA_CCM_MAX_CHAIN, &ccm->nchain);
		if (ret < 0)
			goto out;
	}
	if (m->serverCerts != NULL) {
		ret = ccm_list(msg, m->serverCerts->list.count, m->serverCerts->list.array,
		               ccm->server_certs, GBA_CCM_MAX_SERVER_CERTS, &ccm->nserver_certs);
		if (ret < 0)
			goto out;
	}
	if (m->trustAnchors != NULL) {
		ret = ccm_list(msg, m->trustAnchors->list.count, m->trustAnchors->list.array,
		               ccm->trust_anchors, GBA_CCM_MAX_ANCHORS, &ccm->ntrust_anchors);
		if (ret < 0)
			goto out;
	}
	if (m->revocation != NULL) {
		if (m->revocation->present == CCMRevocationStatus_PR_ocsp) {
			ccm->revocation_kind = GBA_CCM_REV_OCSP;
			ret = msg_encode(msg, &asn_DEF_OCSPResponse, &m->revocation->choice.ocsp,
			                 &ccm->revocation);
		} else {
			ccm->revocation_kind = GBA_CCM_REV_CRL;
			ret = msg_encode(msg, &asn_DEF_CertificateList, &m->revocation->choice.crl,
			                 &ccm->revocation);
		}
		if (ret < 0)
			goto out;
	}
	if (m->validity != NULL) {
		ccm->has_validity = 1;
		ret = gba_asn1_get_gt(&m->validity->notBefore, &ccm->not_before);
		if (ret == 0)
			ret = gba_asn1_get_gt(&m->validity->notAfter, &ccm->not_after);
		if (ret < 0) {
			gba_asn1_set_err(err, 0, "validity is not a valid time");
			goto out;
		}
	}
	if (m->renewBy != NULL) {
		ccm->has_renew_by = 1;
		ret = gba_asn1_get_gt(m->renewBy, &ccm->renew_by);
		if (ret < 0) {
			gba_asn1_set_err(err, 0, "renewBy is not a valid time");
			goto out;
		}
	}
	*msgp = msg;
	msg = NULL;
	ret = 0;
out:
	gba_ccm_msg_free(msg);
	if (ret < 0)
		memset(ccm, 0, sizeof(*ccm));
	return ret;
}
