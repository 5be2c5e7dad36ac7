/*
 * ue_ua.h - the UE side of Ua over HTTP Digest (TS 24.109 5.2, TS 33.221
 * portal; docs/notes/gba.md 3): username = B-TID, password = the base64
 * TEXT of Ks_NAF, algorithm MD5, qop auth-int, uri = path with query.
 * Answers that carry Authentication-Info are checked (rspauth: the
 * response digest with an empty method, auth-int over the response
 * body); a 2xx without it is refused.
 *
 * Functions return 0 or a negative GBA_E* code.
 */
#ifndef UE_UA_H
#define UE_UA_H

#include <stddef.h>
#include <stdint.h>

#include "gba_http.h"
#include "gba_http_auth.h"
#include "gba_limits.h"

#define UE_UA_REALM_PREFIX "3GPP-bootstrapping@"
#define UE_UA_PASSWORD_SIZE 48u   /* base64 of 32 octets + NUL */

/* A Ua challenge, copied out of the parser's arena. */
struct ue_ua_challenge {
	char realm[GBA_MAX_AUTH_VALUE_LEN + 1];
	char nonce[GBA_MAX_AUTH_VALUE_LEN + 1];
	char opaque[GBA_MAX_AUTH_VALUE_LEN + 1];   /* "" when absent */
};

/* WWW-Authenticate value -> challenge: Digest, algorithm absent or MD5,
 * qop offering auth-int, realm "3GPP-bootstrapping@...", a nonce. */
int ue_ua_parse_challenge(struct gba_auth *scratch, const char *hdr, size_t len,
                          struct ue_ua_challenge *ch);

/* The Authorization value answering ch for (method, uri, body). */
int ue_ua_authorization(const struct ue_ua_challenge *ch, const char *btid,
                        const char *password, const char *method, const char *uri,
                        const void *body, size_t body_len, const char *nc, const char *cnonce,
                        char *out, size_t size);

/* Check an Authentication-Info value: rspauth over (uri, response body);
 * cnonce and nc, when present, must be ours.  GBA_EAUTH on mismatch. */
int ue_ua_check_info(struct gba_auth *scratch, const struct ue_ua_challenge *ch,
                     const char *btid, const char *password, const char *uri, const char *nc,
                     const char *cnonce, const char *hdr, size_t len, const void *body,
                     size_t body_len);

/* A Ua session on one HTTP connection. */
struct ue_ua {
	struct gba_http_client *http;            /* borrowed */
	char btid[GBA_MAX_BTID_LEN + 1];
	char password[UE_UA_PASSWORD_SIZE];      /* base64(Ks_NAF): a secret */
	const char *user_agent;                  /* borrowed */
	int have_challenge;
	struct ue_ua_challenge ch;
	unsigned nc;                             /* last nc used with ch */
	int trace;                               /* status lines to stderr */
	struct gba_auth scratch;
};

/* Set up *ua (Ks_NAF is copied as its base64 text). */
int ue_ua_init(struct ue_ua *ua, struct gba_http_client *http, const char *btid,
               const uint8_t ks_naf[32], const char *user_agent);
/* Wipe the password. */
void ue_ua_clear(struct ue_ua *ua);

/*
 * One request under Digest.  Without a cached challenge the request is
 * sent bare first; a 401 is answered (once per fresh challenge).  On 0
 * *reply is the caller's (gba_http_reply_free), with any status except
 * 401, and its Authentication-Info verified (required on 2xx).
 * GBA_EAUTH: the NAF refused our credentials (B-TID unknown or expired:
 * bootstrap again) or rspauth is wrong/missing; GBA_EUNSUPP: the 401 is
 * not a Ua challenge we can answer.
 */
int ue_ua_request(struct ue_ua *ua, const char *method, const char *path,
                  const struct gba_http_header *headers, size_t nheaders, const void *body,
                  size_t body_len, struct gba_http_reply **reply);

/*
 * The Authorization value for a request without a body that is sent
 * some other way (a long-lived GET with gba_http_client_stream).
 * Without a cached challenge, method + path are sent bare first and the
 * 401 is taken (GBA_EAUTH when the answer is anything else).  The
 * answer to such a request cannot carry a usable rspauth: its body never
 * ends.
 */
int ue_ua_prepare(struct ue_ua *ua, const char *method, const char *path, char *authz,
                  size_t size);

#endif
