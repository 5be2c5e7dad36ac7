/*
 * gba_zn.h - the Zn reference point in its SBA form: JSON bodies of
 * TS 29.309 Nbsp_GBA (BootstrappingInfoRequest / BootstrappingInfoResponse),
 * RFC 7807 ProblemDetails, and the GUSS kept per subscriber.
 *
 * This is the only module that touches JSON (and the only includer of
 * jansson).  Parsing is strict: the body is capped before parsing;
 * trailing data, duplicate keys, NUL characters in strings, wrong
 * types, missing required members and over-long values are errors.
 * Unknown members are ignored (OpenAPI extensibility, TS 29.501 5.2.7).
 *
 * Every JSON allocation goes through gba_mem and is wiped when freed,
 * because the response body carries key material.
 *
 * Functions return 0 or a negative GBA_E*: GBA_ETOOBIG (a cap),
 * GBA_ESYNTAX (not JSON, trailing data, duplicate key), GBA_EMISSING
 * (required member absent), GBA_EINVAL (a member of the wrong type or
 * value), GBA_ENOMEM.
 */
#ifndef GBA_ZN_H
#define GBA_ZN_H

#include <stddef.h>
#include <stdint.h>

#include "gba_keys.h"
#include "gba_limits.h"

/* BootstrappingInfoRetrieval under the Nbsp_GBA apiRoot (TS 29.309). */
#define GBA_ZN_PATH           "/nbsp-gba/v1/bootstrapping-info-retrieval"

#define GBA_ZN_MAX_BODY       (8u * 1024u)   /* request and ProblemDetails */
#define GBA_ZN_MAX_RESP_BODY  (32u * 1024u)  /* response (carries the USSs) */
#define GBA_ZN_MAX_GSIDS      32u
#define GBA_ZN_MAX_USS        32u
#define GBA_ZN_MAX_UEIDS      32u
#define GBA_ZN_MAX_FLAGS      32u
#define GBA_ZN_MAX_STR        255u           /* ueId, nafGroup, keyChoice, ... */

/* Nbsp_GBA causes used in ProblemDetails (TS 29.500 table 5.2.7.2-1
 * common causes; TS 29.309 defines no application-specific ones that
 * we could confirm). */
#define GBA_ZN_CAUSE_BAD_FORMAT   "INVALID_MSG_FORMAT"
#define GBA_ZN_CAUSE_IE_MISSING   "MANDATORY_IE_MISSING"
#define GBA_ZN_CAUSE_IE_INCORRECT "MANDATORY_IE_INCORRECT"
#define GBA_ZN_CAUSE_TOO_LARGE    "PAYLOAD_TOO_LARGE"
#define GBA_ZN_CAUSE_MEDIA_TYPE   "UNSUPPORTED_MEDIA_TYPE"
#define GBA_ZN_CAUSE_NOT_ALLOWED  "SERVICE_NOT_ALLOWED"
#define GBA_ZN_CAUSE_NOT_FOUND    "CONTEXT_NOT_FOUND"
#define GBA_ZN_CAUSE_INTERNAL     "SYSTEM_FAILURE"

/* ---- BootstrappingInfoRequest ---- */

struct gba_zn_request {
	char btid[GBA_MAX_BTID_LEN + 1];
	char naf_fqdn[GBA_MAX_FQDN_LEN + 1];   /* as received (not folded) */
	uint8_t ua_id[GBA_UA_ID_LEN];          /* uaSecProtId, 10 hex digits */
	uint32_t gsids[GBA_ZN_MAX_GSIDS];
	size_t ngsids;                         /* 0: gsIds absent */
	int gba_u_aware;                       /* gbaUAware, default 0 */
};

/* Parse a request body of len octets (at most GBA_ZN_MAX_BODY) into
 * *out.  btId is 1..GBA_MAX_BTID_LEN printable ASCII; nafFqdn a
 * syntactically valid DNS name; gsIds 1..GBA_ZN_MAX_GSIDS uint32. */
int gba_zn_request_parse(const uint8_t *body, size_t len, struct gba_zn_request *out);

/* Build a request body (the NAF side).  On success *out is a
 * NUL-terminated string of *outlen octets; free it with gba_zn_free. */
int gba_zn_request_build(const struct gba_zn_request *req, char **out, size_t *outlen);

/* ---- BootstrappingInfoResponse ---- */

struct gba_zn_info {
	uint8_t me_key[GBA_KS_NAF_LEN];   /* Ks_NAF: secret */
	int64_t key_expiry;               /* keyExpiryTime */
	int64_t created;                  /* bootstrappingInfoCreationTime */
	const char *impi;                 /* NULL: not released to this NAF */
};

/*
 * Build a response body: meKeyMaterial (64 hex), keyExpiryTime and
 * bootstrappingInfoCreationTime (RFC 3339 UTC), gbaType "3G_GBA",
 * impi when set, and ussList from guss_json (the subscriber's GUSS, may
 * be NULL or "") keeping only the USSs whose gsId is in gsids (all of
 * them when gsids is NULL).  Each USS is written in the 29.309 shape
 * {"uss":{"gsId","gsType","ueIds":[{"ueId"}],"nafGroup","flags":[{"flag"}],
 * "keyChoice"}}; ussList is omitted when empty (minItems 1).
 * On success *out (NUL-terminated, *outlen octets) holds key material:
 * release it with gba_zn_free, which wipes it.  A malformed GUSS is
 * GBA_EINVAL.
 */
int gba_zn_response_build(const struct gba_zn_info *info, const char *guss_json,
                          const uint32_t *gsids, size_t ngsids, char **out, size_t *outlen);

/* A parsed response (the NAF side). */
struct gba_zn_result {
	uint8_t me_key[GBA_KS_NAF_LEN];   /* secret */
	int64_t key_expiry;               /* -1 when absent */
	int64_t created;                  /* -1 when absent */
	char impi[GBA_MAX_IMPI_LEN + 1];  /* "" when absent */
	size_t nuss;
	uint32_t uss_gsids[GBA_ZN_MAX_USS];
	char *uss_json;                   /* ussList re-encoded, or NULL; owned */
};

/* Parse a response body (at most GBA_ZN_MAX_RESP_BODY).  gbaType, when
 * present, must be "3G_GBA".  Release with gba_zn_result_clear. */
int gba_zn_response_parse(const uint8_t *body, size_t len, struct gba_zn_result *out);
void gba_zn_result_clear(struct gba_zn_result *r);

/* ---- ProblemDetails (application/problem+json) ---- */

/* {"status":N,"title":...,"detail":...,"cause":...}; detail and cause
 * may be NULL.  Free with gba_zn_free. */
int gba_zn_problem_build(int status, const char *title, const char *detail,
                         const char *cause, char **out, size_t *outlen);

/* ---- GUSS ---- */

/* Check a GUSS document ({"bsfInfo":{"lifeTime":N},"ussList":[...]},
 * at most GBA_MAX_GUSS_LEN) and return its lifeTime in seconds (0 when
 * absent). */
int gba_zn_guss_check(const char *guss_json, size_t len, uint32_t *lifetime_s);

/* ---- USS facts for the policy engine (the NAF side) ---- */

#define GBA_ZN_USS_UIDS 4u                /* IMPUs kept per USS */

struct gba_zn_uss {
	uint32_t gsid;
	uint32_t flags[GBA_ZN_MAX_FLAGS];
	size_t nflags;
	char uids[GBA_ZN_USS_UIDS][GBA_ZN_MAX_STR + 1];   /* first ones, in order */
	size_t nuids;
};

/*
 * Extract the USSs of a stored GUSS ({"ussList":[{"gsId",...}]}) or of
 * a Zn ussList (gba_zn_result.uss_json: [{"uss":{...}}]) into out[0..max),
 * *n of them.  NULL or "" gives none.  GBA_EINVAL for a malformed
 * document, GBA_ETOOBIG for more than max USSs.
 */
int gba_zn_uss_list(const char *json, size_t len, struct gba_zn_uss *out, size_t max,
                    size_t *n);

/* Wipe and free a buffer returned by this module; NULL is accepted. */
void gba_zn_free(char *p, size_t len);

#endif
