/*
 * gba_digest.h - HTTP Digest (RFC 7616 with MD5, RFC 3310 AKAv1-MD5).
 *
 *   HA1      = MD5(username ":" realm ":" password)
 *   HA2      = MD5(method ":" uri)                     qop absent or auth
 *            = MD5(method ":" uri ":" MD5(body))       qop auth-int
 *   response = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *            = MD5(HA1 ":" nonce ":" HA2)              qop absent
 *
 * On Ub (AKAv1-MD5) the password is RES as raw octets; on Ua (MD5) it is
 * the base64 text of Ks_NAF.  After an AUTS resync the password is empty.
 * rspauth (Authentication-Info) is the same computation with an empty
 * method and the response body in place of the request body.
 *
 * The password and HA1 are secrets: the functions wipe their copies.
 */
#ifndef GBA_DIGEST_H
#define GBA_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "gba_str.h"

#define GBA_DIGEST_HEX_LEN 32u

enum gba_digest_qop {
	GBA_QOP_NONE,
	GBA_QOP_AUTH,
	GBA_QOP_AUTH_INT
};

struct gba_digest_input {
	struct gba_str username;
	struct gba_str realm;
	struct gba_str nonce;
	struct gba_str nc;        /* 8 hex digits; unused without qop */
	struct gba_str cnonce;    /* unused without qop */
	enum gba_digest_qop qop;
	struct gba_str method;    /* empty for rspauth */
	struct gba_str uri;
	const uint8_t *password;  /* borrowed secret */
	size_t password_len;
	const uint8_t *body;      /* entity body, only hashed for auth-int */
	size_t body_len;
};

/* Lower-case hex response into out (33 bytes with the NUL). */
int gba_digest_response(const struct gba_digest_input *in, char out[33]);

/*
 * Recompute and compare with the peer's response in constant time.
 * Returns 0 on match, GBA_EAUTH on mismatch (including a wrong length or
 * upper-case hex, which a conforming peer never sends).
 */
int gba_digest_verify(const struct gba_digest_input *in, struct gba_str response);

/* "auth", "auth-int" or "" for GBA_QOP_NONE. */
const char *gba_digest_qop_name(enum gba_digest_qop qop);
/* Map a qop token; GBA_EUNSUPP for anything else. */
int gba_digest_qop_parse(struct gba_str s, enum gba_digest_qop *qop);

#endif
