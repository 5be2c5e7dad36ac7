/*
 * bsf_zn.c - Zn in its SBA form: Nbsp_GBA BootstrappingInfoRetrieval
 * (TS 29.309 6.1.4.2), POST {apiRoot}/nbsp-gba/v1/bootstrapping-info-retrieval.
 *
 * The NAF is authenticated by its TLS client certificate; the NAF-Id it
 * asks for must be one of the certificate's DNS names (TS 33.220 4.5.3:
 * the BSF verifies that the NAF is authorised for the NAF-Id it uses)
 * and be on the allow list, with the GSIDs it asks for.  Unknown or
 * expired B-TIDs are 404 (the SBA counterpart of Zn's
 * DIAMETER_ERROR_TRANSACTION_IDENTIFIER_INVALID, TS 29.109 6.2.2.3),
 * an unauthorised NAF is 403 (DIAMETER_ERROR_NOT_AUTHORIZED, 6.2.2.2).
 */
#include "config.h"

#include <string.h>

#include "bsf_int.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "gba_zn.h"

#define MOD "bsf-zn"

static void problem(struct gba_http_response *resp, int status, const char *title,
                    const char *detail, const char *cause)
{
	char *body = NULL;
	size_t len = 0;
	int err = 0;

	if (gba_zn_problem_build(status, title, detail, cause, &body, &len) != 0) {
		(void)gba_http_response_status(resp, 500);
		return;
	}
	bsf_header(resp, "Content-Type", "application/problem+json", &err);
	if (err || gba_http_response_body(resp, body, len) != 0)
		status = 500;
	(void)gba_http_response_status(resp, status);
	gba_zn_free(body, len);
}

/* Record a refused Zn request (app = the nafFqdn asked for, if known).
 * The answer is a refusal either way, so a failed record is logged. */
static void audit_deny(const struct bsf *b, const struct gba_http_request *req,
                       const char *reason, const char *app, const char *btid)
{
	int ret = bsf_audit(b, GBA_AUDIT_ZN_KEY, GBA_AUDIT_DENIED, reason, req->peer, app,
	                    NULL, btid);

	if (ret < 0)
		gba_log_err(MOD, "audit record failed: %s", gba_strerror(ret));
}

/* "application/json", optionally with parameters. */
static int is_json(const struct gba_str *ct)
{
	static const char lit[] = "application/json";
	size_t n = sizeof(lit) - 1;

	if (ct == NULL || ct->len < n || !gba_str_caseeq((struct gba_str){ ct->p, n }, (struct gba_str){ lit, n }))
		return 0;
	return ct->len == n || ct->p[n] == ';' || ct->p[n] == ' ' || ct->p[n] == '\t';
}

static const struct bsf_naf_allow *find_naf(const struct bsf *b, const char *fqdn)
{
	size_t i, n = strlen(fqdn);

	for (i = 0; i < b->conf->zn_nallow; i++) {
		const struct bsf_naf_allow *e = &b->conf->zn_allow[i];

		if (gba_str_caseeq(gba_str_c(e->fqdn), (struct gba_str){ fqdn, n }))
			return e;
	}
	return NULL;
}

static int gsid_allowed(const struct bsf_naf_allow *e, uint32_t id)
{
	size_t i;

	if (e->gsids == NULL)
		return 1;
	for (i = 0; i < e->ngsids; i++)
		if (e->gsids[i] == id)
			return 1;
	return 0;
}

void bsf_zn_handle(void *ctx, const struct gba_http_request *req,
                   struct gba_http_response *resp)
{
	struct bsf *b = ctx;
	struct gba_zn_request zr;
	struct gba_bootstrap bs;
	struct gba_zn_info info;
	const struct bsf_naf_allow *naf;
	const uint32_t *filter = NULL;
	size_t nfilter = 0, i, len = 0;
	char *body = NULL, tag[GBA_LOG_ID_LEN];
	int ret, err = 0;

	memset(&zr, 0, sizeof(zr));
	memset(&bs, 0, sizeof(bs));
	memset(&info, 0, sizeof(info));

	if (!gba_str_eq(req->path, GBA_STR_LIT(BSF_ZN_PATH))) {
		problem(resp, 404, "Not Found", "unknown resource", NULL);
		goto out;
	}
	if (!gba_str_eq(req->method, GBA_STR_LIT("POST"))) {
		bsf_header(resp, "Allow", "POST", &err);
		problem(resp, err ? 500 : 405, "Method Not Allowed", NULL, NULL);
		goto out;
	}
	if (req->client_cert == NULL || req->client_cert_len == 0) {
		audit_deny(b, req, "no-client-cert", NULL, NULL);
		problem(resp, 403, "Forbidden", "a NAF client certificate is required",
		        GBA_ZN_CAUSE_NOT_ALLOWED);
		goto out;
	}
	if (req->body_len > GBA_ZN_MAX_BODY) {
		problem(resp, 413, "Payload Too Large", NULL, GBA_ZN_CAUSE_TOO_LARGE);
		goto out;
	}
	if (!is_json(gba_http_header_get(req, "content-type"))) {
		problem(resp, 415, "Unsupported Media Type", "application/json expected",
		        GBA_ZN_CAUSE_MEDIA_TYPE);
		goto out;
	}
	ret = gba_zn_request_parse(req->body, req->body_len, &zr);
	if (ret == GBA_ENOMEM) {
		problem(resp, 500, "Internal Server Error", NULL, GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}
	if (ret < 0) {
		problem(resp, 400, "Bad Request", gba_strerror(ret),
		        ret == GBA_EMISSING ? GBA_ZN_CAUSE_IE_MISSING :
		        ret == GBA_ESYNTAX ? GBA_ZN_CAUSE_BAD_FORMAT : GBA_ZN_CAUSE_IE_INCORRECT);
		goto out;
	}

	/* The NAF may only ask for the NAF-Id its certificate names. */
	ret = gba_x509_cert_has_dns_name(req->client_cert, req->client_cert_len, zr.naf_fqdn);
	if (ret != 1) {
		gba_log_notice(MOD, "peer %s: certificate does not name the requested NAF",
		               req->peer != NULL ? req->peer : "-");
		audit_deny(b, req, "naf-cert-mismatch", zr.naf_fqdn, zr.btid);
		problem(resp, 403, "Forbidden", "nafFqdn is not the client certificate's name",
		        GBA_ZN_CAUSE_NOT_ALLOWED);
		goto out;
	}
	naf = find_naf(b, zr.naf_fqdn);
	if (naf == NULL) {
		gba_log_notice(MOD, "peer %s: NAF not on the Zn allow list",
		               req->peer != NULL ? req->peer : "-");
		audit_deny(b, req, "naf-not-allowed", zr.naf_fqdn, zr.btid);
		problem(resp, 403, "Forbidden", "NAF not authorised", GBA_ZN_CAUSE_NOT_ALLOWED);
		goto out;
	}
	for (i = 0; i < zr.ngsids; i++) {
		if (!gsid_allowed(naf, zr.gsids[i])) {
			audit_deny(b, req, "gsid-not-allowed", zr.naf_fqdn, zr.btid);
			problem(resp, 403, "Forbidden", "GSID not authorised for this NAF",
			        GBA_ZN_CAUSE_NOT_ALLOWED);
			goto out;
		}
	}
	if (zr.ngsids > 0) {
		filter = zr.gsids;
		nfilter = zr.ngsids;
	} else if (naf->gsids != NULL) {
		filter = naf->gsids;
		nfilter = naf->ngsids;
	}

	ret = gba_store_bootstrap_get(b->store, zr.btid, bsf_now(b), &bs);
	if (ret == GBA_ENOTFOUND) {
		gba_log_info(MOD, "unknown or expired btid %s",
		             gba_log_id(zr.btid, strlen(zr.btid), tag));
		audit_deny(b, req, "btid-unknown", zr.naf_fqdn, zr.btid);
		problem(resp, 404, "Not Found", "unknown or expired B-TID",
		        GBA_ZN_CAUSE_NOT_FOUND);
		goto out;
	}
	if (ret < 0) {
		gba_log_err(MOD, "store bootstrap get: %s", gba_strerror(ret));
		problem(resp, 500, "Internal Server Error", NULL, GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}
	if (bs.ks.len != GBA_KS_LEN) {
		problem(resp, 500, "Internal Server Error", NULL, GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}

	/* NAF_Id = nafFqdn as received || Ua security protocol id. */
	ret = gba_ks_naf(bs.ks.b, bs.rand, bs.impi, strlen(bs.impi), zr.naf_fqdn,
	                 strlen(zr.naf_fqdn), zr.ua_id, info.me_key);
	if (ret < 0) {
		problem(resp, 500, "Internal Server Error", NULL, GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}
	info.key_expiry = bs.expires;
	info.created = bs.created;
	info.impi = b->conf->zn_release_impi ? bs.impi : NULL;
	ret = gba_zn_response_build(&info, bs.guss_json, filter, nfilter, &body, &len);
	if (ret < 0) {
		gba_log_err(MOD, "build response: %s", gba_strerror(ret));
		problem(resp, 500, "Internal Server Error", NULL, GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}
	/* Fail closed: no key leaves without its durable audit record. */
	ret = bsf_audit(b, GBA_AUDIT_ZN_KEY, GBA_AUDIT_OK, NULL, req->peer, zr.naf_fqdn, NULL,
	                zr.btid);
	if (ret < 0) {
		gba_log_err(MOD, "audit record failed, Ks_NAF withheld: %s", gba_strerror(ret));
		problem(resp, 503, "Service Unavailable", "audit log unavailable",
		        GBA_ZN_CAUSE_INTERNAL);
		goto out;
	}
	bsf_header(resp, "Content-Type", "application/json", &err);
	bsf_header(resp, "Cache-Control", "no-store", &err);
	if (err || gba_http_response_body(resp, body, len) != 0) {
		(void)gba_http_response_status(resp, 500);
		goto out;
	}
	(void)gba_http_response_status(resp, 200);
	gba_log_info(MOD, "Ks_NAF for btid %s to %s", gba_log_id(zr.btid, strlen(zr.btid), tag),
	             naf->fqdn);
out:
	gba_zn_free(body, len);
	gba_bootstrap_clear(&bs);
	gba_wipe(&info, sizeof(info));
}
