/*
 * gba_http_auth.h - bounded parser and builder for the HTTP Digest
 * headers: WWW-Authenticate (challenge), Authorization (credentials)
 * and Authentication-Info (RFC 7616, RFC 7235, RFC 3310).
 *
 * Parsing copies nothing to the heap: struct gba_auth holds an arena as
 * large as the longest header accepted, and every value points into it,
 * unescaped.  Parameter names are case-insensitive.  Unknown parameters
 * are skipped (they count towards GBA_MAX_AUTH_PARAMS); a known one
 * given twice is an error, as is a value over GBA_MAX_AUTH_VALUE_LEN, a
 * control character, a bad quoted-pair or an unterminated quote.  Values
 * may be tokens or quoted strings; the parser records which.
 */
#ifndef GBA_HTTP_AUTH_H
#define GBA_HTTP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "gba_limits.h"
#include "gba_str.h"

enum gba_auth_kind {
	GBA_AUTH_CHALLENGE,     /* WWW-Authenticate: Digest ... */
	GBA_AUTH_CREDENTIALS,   /* Authorization: Digest ... */
	GBA_AUTH_INFO           /* Authentication-Info: ... (no scheme) */
};

#define GBA_AUTH_FIELDS(X)       \
	X(USERNAME, "username")  \
	X(REALM, "realm")        \
	X(NONCE, "nonce")        \
	X(URI, "uri")            \
	X(RESPONSE, "response")  \
	X(ALGORITHM, "algorithm") \
	X(CNONCE, "cnonce")      \
	X(OPAQUE, "opaque")      \
	X(QOP, "qop")            \
	X(NC, "nc")              \
	X(AUTS, "auts")          \
	X(RSPAUTH, "rspauth")    \
	X(STALE, "stale")        \
	X(DOMAIN, "domain")      \
	X(NEXTNONCE, "nextnonce")

enum gba_auth_field {
#define GBA_AUTH_FIELD_ENUM(id, name) GBA_AUTH_##id,
	GBA_AUTH_FIELDS(GBA_AUTH_FIELD_ENUM)
#undef GBA_AUTH_FIELD_ENUM
	GBA_AUTH_NFIELDS
};

struct gba_auth {
	struct gba_str f[GBA_AUTH_NFIELDS];  /* point into arena */
	uint32_t present;                    /* bit per field */
	uint32_t quoted;                     /* bit per field: was quoted */
	size_t nparams;
	size_t arena_used;
	char arena[GBA_MAX_AUTH_HEADER_LEN];
};

/*
 * Parse one header value (without the "Name:" part).  Returns 0, or
 * GBA_ETOOBIG (header, value or parameter count over its limit),
 * GBA_ESYNTAX (malformed; *err_off, if not NULL, is the offset),
 * GBA_EDUP (known parameter repeated) or GBA_EUNSUPP (scheme is not
 * Digest).  a is fully reset first; on error its content is undefined.
 */
int gba_auth_parse(struct gba_auth *a, enum gba_auth_kind kind,
                   const char *hdr, size_t len, size_t *err_off);

static inline int gba_auth_has(const struct gba_auth *a, enum gba_auth_field f)
{
	return (a->present >> f) & 1u;
}

static inline struct gba_str gba_auth_get(const struct gba_auth *a, enum gba_auth_field f)
{
	return a->f[f];
}

const char *gba_auth_field_name(enum gba_auth_field f);

/*
 * Check that parsed credentials are complete enough to verify: username,
 * realm, nonce, uri and a 32-hex-digit response; with qop, a qop of auth
 * or auth-int, a cnonce and an 8-hex-digit nc.  Returns 0, GBA_EMISSING
 * (naming the field in *missing if not NULL) or GBA_ESYNTAX.
 */
int gba_auth_check_credentials(const struct gba_auth *a, enum gba_auth_field *missing);

/*
 * Builder with a sticky error: add parameters in order, then finish.
 * The output is NUL-terminated in the caller's buffer.
 */
struct gba_auth_builder {
	char *buf;
	size_t size;
	size_t len;
	size_t nparams;
	int err;
};

/* scheme: "Digest" for challenges and credentials, NULL for -Info. */
void gba_auth_builder_init(struct gba_auth_builder *b, char *buf, size_t size,
                           const char *scheme);
/* name="value" with '"' and '\\' escaped; control characters are refused. */
void gba_auth_add_quoted(struct gba_auth_builder *b, const char *name, struct gba_str value);
/* name=value; value must be a non-empty token. */
void gba_auth_add_token(struct gba_auth_builder *b, const char *name, struct gba_str value);
/* Returns the header length, or the first error met. */
int gba_auth_builder_finish(struct gba_auth_builder *b);

#endif
