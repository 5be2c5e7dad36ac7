/*
 * naf_portal.c - the TS 33.221 PKI portal (TS 24.109 clause 6, Annex E):
 *   POST /enrol?response=single|chain   PKCS#10 (PEM or DER) under GBA
 *        Digest auth-int; 200 with the certificate (application/pkix-cert)
 *        or the chain (certs-only PKCS#7); 403 for a policy refusal.
 *   GET /getcertificate?in=<base64 issuer Name DER>   a CA certificate.
 * Every answer after authentication carries Authentication-Info.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-portal"

/* Value of query parameter name in path, or an empty string. */
static struct gba_str query_param(struct gba_str path, const char *name)
{
	struct gba_str r = { NULL, 0 };
	size_t i = 0, nl = strlen(name), s;

	while (i < path.len && path.p[i] != '?')
		i++;
	while (i < path.len) {
		i++;
		s = i;
		while (i < path.len && path.p[i] != '&')
			i++;
		if (i - s > nl && memcmp(path.p + s, name, nl) == 0 && path.p[s + nl] == '=') {
			r.p = path.p + s + nl + 1;
			r.len = i - s - nl - 1;
			return r;
		}
	}
	return r;
}

/* PEM or DER body -> DER in a new buffer. */
static int csr_der(const uint8_t *body, size_t len, uint8_t **der, size_t *dlen)
{
	size_t pos = 0;

	*der = NULL;
	*dlen = 0;
	if (len > 0 && body[0] == 0x30) {
		*der = gba_malloc(len);
		if (*der == NULL)
			return GBA_ENOMEM;
		memcpy(*der, body, len);
		*dlen = len;
		return 0;
	}
	return gba_x509_pem_decode("CERTIFICATE REQUEST", (const char *)body, len, &pos, der,
	                           dlen);
}

static int content_type_is(const struct gba_http_request *req, const char *a, const char *b)
{
	struct gba_str type, params;

	if (!naf_media_type(req, &type, &params))
		return 0;
	return gba_str_caseeq(type, gba_str_c(a)) || gba_str_caseeq(type, gba_str_c(b));
}

/* Send status and body with Authentication-Info. */
static void answer(struct naf *n, const struct naf_ua_auth *a, struct gba_http_response *resp,
                   int status, const char *type, const uint8_t *body, size_t len)
{
	int err = 0;

	if (type != NULL)
		naf_header(resp, "Content-Type", type, &err);
	if (!err && len > 0)
		err = gba_http_response_body(resp, body, len);
	if (!err)
		err = naf_ua_info(n, a, body, len, resp);
	(void)gba_http_response_status(resp, err ? 500 : status);
}

static void refuse(struct naf *n, const struct naf_ua_auth *a, struct gba_http_response *resp,
                   int status, const char *text)
{
	char exp[GBA_TIME_HTTP_LEN + 1];
	int err = 0;

	if (status == 403 && gba_time_http(gba_time_now(), exp) == 0)
		naf_header(resp, "Expires", exp, &err);
	answer(n, a, resp, status, "text/plain", (const uint8_t *)text, strlen(text));
}

/* A refusal: the portal answers HTTP status + text; a Simple PKI
 * Request gets a Full PKI Response carrying the failure (RFC 5272 4.2). */
static void deny(struct naf *n, const struct naf_ua_auth *a, struct gba_http_response *resp,
                 int simple, int status, int fail, const char *text)
{
	struct gba_str body;
	int err;

	if (!simple || status >= 500) {
		refuse(n, a, resp, status, text);
		return;
	}
	err = naf_cmc_fail_response(n, resp, fail, text);
	if (err == 0) {
		body = gba_http_response_get_body(resp);
		err = naf_ua_info(n, a, (const uint8_t *)body.p, body.len, resp);
	}
	if (err)
		(void)gba_http_response_status(resp, 500);
}

static void enrol(struct naf *n, const struct gba_http_request *req,
                  struct gba_http_response *resp, int simple)
{
	struct naf_ua_auth *a = NULL;
	struct naf_ccm_batch *ccm = NULL;
	struct gba_cmc_request cr;
	struct gba_cmc_msg *msg = NULL;
	struct gba_der_error derr;
	struct gba_policy_decision dec;
	struct naf_enrol_req er;
	struct naf_issue is;
	struct gba_cert_record rec;
	struct gba_cert_info ci;
	struct gba_cmc_txn txn;
	struct gba_blob certs[3];
	struct gba_str rparam;
	uint8_t *der = NULL, *cert = NULL, *p7 = NULL, replay[32];
	size_t dlen = 0, clen = 0, p7len = 0, ncerts = 0;
	const char *why = NULL;
	const struct naf_ca *ca;
	int fail, chain = 0, ret, err = 0;

	memset(&rec, 0, sizeof(rec));
	memset(&ci, 0, sizeof(ci));
	if (!gba_str_eq(req->method, GBA_STR_LIT("POST"))) {
		naf_header(resp, "Allow", "POST", &err);
		(void)gba_http_response_status(resp, 405);
		return;
	}
	a = gba_calloc(1, sizeof(*a));
	if (a == NULL) {
		(void)gba_http_response_status(resp, 500);
		return;
	}
	if (naf_ua_check(n, req, resp, a) != 0)
		goto out;
	rparam = query_param(req->path, "response");
	if (simple) {
		chain = 1;
	} else if (rparam.len == 0 || gba_str_eq(rparam, GBA_STR_LIT("single"))) {
		chain = 0;
	} else if (gba_str_eq(rparam, GBA_STR_LIT("chain"))) {
		chain = 1;
	} else {
		deny(n, a, resp, simple, 400, GBA_CMC_BAD_REQUEST, "response must be single or chain\n");
		goto out;
	}
	if (!simple && !content_type_is(req, "application/x-pkcs10", "application/pkcs10")) {
		refuse(n, a, resp, 415, "expected application/x-pkcs10 or application/pkcs10\n");
		goto out;
	}
	if (csr_der(req->body, req->body_len, &der, &dlen) != 0 ||
	    gba_cmc_csr_parse(der, dlen, &cr, &msg, &derr) != 0) {
		deny(n, a, resp, simple, 400, GBA_CMC_BAD_REQUEST,
		     "the body is not a PKCS#10 request in DER\n");
		goto out;
	}
	if (gba_x509_verify_spki(cr.spki.p, cr.spki.len, cr.pop_sig_alg.p, cr.pop_sig_alg.len,
	                         cr.pop_signed.p, cr.pop_signed.len, cr.pop_signature.p,
	                         cr.pop_signature.len) != 0) {
		(void)naf_audit(n, GBA_AUDIT_DENY, GBA_AUDIT_DENIED, "pop-failed", req->peer,
		                a->key.impi, a->btid, NULL, NULL, NULL, 0, NULL);
		deny(n, a, resp, simple, 400, GBA_CMC_POP_FAILED,
		     "the request's signature does not verify\n");
		goto out;
	}
	memset(&er, 0, sizeof(er));
	er.impi = a->key.impi;
	er.btid = a->btid;
	er.uss_json = a->key.uss_json;
	er.method = simple ? GBA_POLICY_METHOD_CMC_SIMPLE : GBA_POLICY_METHOD_PORTAL;
	er.spki = cr.spki.p;
	er.spki_len = cr.spki.len;
	ret = naf_decide(n, &er, &dec, &why, &fail);
	if (ret < 0) {
		gba_log_err(MOD, "policy: %s", gba_strerror(ret));
		refuse(n, a, resp, 500, "internal error\n");
		goto out;
	}
	if (dec.allowed && dec.pending) {
		dec.allowed = false;
		fail = GBA_CMC_BAD_REQUEST;
		why = "manual approval is only available over CMC";
	}
	if (dec.allowed && cr.has_san && !dec.rewrite_names) {
		dec.allowed = false;
		fail = GBA_CMC_BAD_REQUEST;
		why = "the request names a subjectAltName";
	}
	ca = dec.allowed ? naf_ca_find(n, dec.tmpl.issuer) : NULL;
	if (dec.allowed && ca == NULL) {
		dec.allowed = false;
		fail = GBA_CMC_INTERNAL_CA_ERROR;
		why = "the policy's issuer is not configured";
	}
	if (!dec.allowed) {
		(void)naf_audit(n, GBA_AUDIT_DENY, GBA_AUDIT_DENIED, why, req->peer, a->key.impi,
		                a->btid, dec.policy_file, dec.policy_sha256, NULL, 0, NULL);
		deny(n, a, resp, simple, 403, fail, why);
		goto out;
	}
	is.ca = ca;
	is.impi = a->key.impi;
	is.app_id = n->conf->fqdn;
	is.policy_sha256 = dec.policy_sha256;
	is.spki = cr.spki.p;
	is.spki_len = cr.spki.len;
	is.tmpl = &dec.tmpl;
	ret = naf_issue_cert(n, &is, &cert, &clen, &rec);
	if (ret == 0)
		ret = gba_x509_cert_info(cert, clen, &ci);
	if (ret < 0) {
		gba_log_err(MOD, "issue: %s", gba_strerror(ret));
		refuse(n, a, resp, 500, "internal error\n");
		goto out;
	}
	/* a CSR naming another subject is refused unless the policy rewrites */
	if (!dec.rewrite_names && cr.subject.len > 2 &&
	    (cr.subject.len != ci.subject_der_len ||
	     memcmp(cr.subject.p, ci.subject_der, ci.subject_der_len) != 0)) {
		(void)naf_audit(n, GBA_AUDIT_DENY, GBA_AUDIT_DENIED, "subject", req->peer,
		                a->key.impi, a->btid, dec.policy_file, dec.policy_sha256, NULL, 0,
		                NULL);
		deny(n, a, resp, simple, 403, GBA_CMC_BAD_REQUEST, "the request names another subject\n");
		goto out;
	}
	/* the same credentials cannot enrol twice */
	{
		char buf[sizeof(a->nonce) + sizeof(a->cnonce) + sizeof(a->nc) + 8];
		int l = snprintf(buf, sizeof(buf), "ua:%s:%s:%s", a->nonce, a->cnonce, a->nc);

		if (l < 0 || gba_hash_fast(GBA_HASH_SHA256, buf, (size_t)l, replay) < 0) {
			refuse(n, a, resp, 500, "internal error\n");
			goto out;
		}
	}
	memset(&txn, 0, sizeof(txn));
	txn.nonce = replay;
	txn.nonce_len = sizeof(replay);
	txn.nonce_expires = gba_time_now() + 86400;
	txn.certs = &rec;
	txn.ncerts = 1;
	/* its install CCM commits with it (or neither does) */
	ccm = gba_calloc(1, sizeof(*ccm));
	ret = ccm != NULL ? naf_ccm_issued(n, &rec, 1, ccm) : GBA_ENOMEM;
	if (ret < 0) {
		gba_log_err(MOD, "install CCM: %s", gba_strerror(ret));
		refuse(n, a, resp, 500, "internal error\n");
		goto out;
	}
	txn.ccms = ccm->out;
	txn.nccms = ccm->n;
	ret = naf_commit(n, &txn);
	if (ret == GBA_EREPLAY) {
		deny(n, a, resp, simple, 403, GBA_CMC_BAD_REQUEST, "replayed request\n");
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "store: %s", gba_strerror(ret));
		refuse(n, a, resp, 503, "the certificate could not be recorded\n");
		goto out;
	}
	naf_ccm_queued(n, ccm, req->peer);
	if (naf_audit(n, GBA_AUDIT_ISSUE, GBA_AUDIT_OK, simple ? "cmc-simple" : "portal", req->peer, a->key.impi, a->btid,
	              dec.policy_file, dec.policy_sha256, rec.serial, rec.serial_len,
	              ci.subject) < 0) {
		refuse(n, a, resp, 503, "audit unavailable\n");
		goto out;
	}
	if (!chain) {
		answer(n, a, resp, 200, "application/pkix-cert", cert, clen);
		goto out;
	}
	certs[ncerts].p = cert;
	certs[ncerts++].len = clen;
	certs[ncerts].p = gba_signer_cert(ca->issuer, &certs[ncerts].len);
	ncerts++;
	if (ca->root != NULL) {
		certs[ncerts].p = ca->root;
		certs[ncerts++].len = ca->root_len;
	}
	ret = gba_cms_certs_only(certs, ncerts, &p7, &p7len);
	if (ret < 0) {
		refuse(n, a, resp, 500, "internal error\n");
		goto out;
	}
	answer(n, a, resp, 200, "application/pkcs7-mime; smime-type=certs-only", p7, p7len);
out:
	gba_cmc_msg_free(msg);
	gba_free(der);
	gba_free(cert);
	gba_free(p7);
	gba_cert_info_clear(&ci);
	naf_ccm_batch_clear(ccm);
	gba_free(ccm);
	if (a != NULL) {
		naf_ua_auth_clear(a);
		gba_free(a);
	}
}

void naf_portal_enrol(struct naf *n, const struct gba_http_request *req,
                      struct gba_http_response *resp)
{
	enrol(n, req, resp, 0);
}

void naf_cmc_simple(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp)
{
	enrol(n, req, resp, 1);
}

void naf_portal_cacert(struct naf *n, const struct gba_http_request *req,
                       struct gba_http_response *resp)
{
	struct naf_ua_auth *a = NULL;
	struct gba_cert_info ci;
	struct gba_str in;
	uint8_t name[2048];
	const uint8_t *c;
	size_t i, clen;
	int nlen, err = 0;

	if (!gba_str_eq(req->method, GBA_STR_LIT("GET"))) {
		naf_header(resp, "Allow", "GET", &err);
		(void)gba_http_response_status(resp, 405);
		return;
	}
	a = gba_calloc(1, sizeof(*a));
	if (a == NULL) {
		(void)gba_http_response_status(resp, 500);
		return;
	}
	if (naf_ua_check(n, req, resp, a) != 0)
		goto out;
	in = query_param(req->path, "in");
	/* base64 may arrive with '+' '/' '=' percent-encoded; accept both */
	{
		char b64[2800];
		size_t o = 0;

		for (i = 0; i < in.len && o + 1 < sizeof(b64); i++) {
			if (in.p[i] == '%' && i + 2 < in.len) {
				uint8_t h;

				if (gba_hex_decode(in.p + i + 1, 2, &h, 1) != 1)
					break;
				b64[o++] = (char)h;
				i += 2;
			} else {
				b64[o++] = in.p[i];
			}
		}
		nlen = gba_base64_decode(b64, o, name, sizeof(name));
	}
	if (nlen <= 0) {
		refuse(n, a, resp, 400, "in must be the base64 of an issuer name\n");
		goto out;
	}
	for (i = 0; i < n->conf->ncas * 2; i++) {
		const struct naf_ca *ca = &n->conf->cas[i / 2];

		if (i % 2 == 0) {
			c = gba_signer_cert(ca->issuer, &clen);
		} else {
			c = ca->root;
			clen = ca->root_len;
		}
		if (c == NULL || gba_x509_cert_info(c, clen, &ci) != 0)
			continue;
		if (ci.subject_der_len == (size_t)nlen &&
		    memcmp(ci.subject_der, name, (size_t)nlen) == 0) {
			gba_cert_info_clear(&ci);
			answer(n, a, resp, 200, "application/pkix-cert", c, clen);
			goto out;
		}
		gba_cert_info_clear(&ci);
	}
	refuse(n, a, resp, 404, "no such CA\n");
out:
	if (a != NULL) {
		naf_ua_auth_clear(a);
		gba_free(a);
	}
}
