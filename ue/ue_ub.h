/*
 * ue_ub.h - the UE side of Ub (TS 24.109, RFC 3310), message by message.
 *
 * Shared by gba-ue bootstrap and bench/bench_bsf so that both speak the
 * same protocol code.  The USIM itself is ue_usim.h.  Functions return 0
 * or a negative GBA_E* code.
 */
#ifndef UE_UB_H
#define UE_UB_H

#include <stddef.h>
#include <stdint.h>

#include "gba_http.h"
#include "gba_http_auth.h"
#include "gba_limits.h"
#include "gba_str.h"

/* A challenge from a 401, copied out of the parser's arena. */
struct ue_ub_challenge {
	char realm[GBA_MAX_FQDN_LEN + 1];
	char nonce[128];
	char opaque[GBA_MAX_AUTH_VALUE_LEN + 1];   /* "" when absent */
	uint8_t rand[16];
	uint8_t autn[16];
};

/* The first request's Authorization: username, realm, empty nonce,
 * uri "/" and empty response. */
int ue_ub_initial_authz(const char *impi, const char *realm, char *out, size_t size);

/*
 * Read the 401's WWW-Authenticate into ch: it must be Digest with
 * algorithm AKAv1-MD5, qop offering auth-int, a realm and a nonce that
 * decodes to RAND || AUTN (at least 32 octets).  scratch is the
 * parser's arena (large; the caller owns it).
 */
int ue_ub_challenge(struct gba_auth *scratch, const struct gba_http_reply *r,
                    struct ue_ub_challenge *ch);

/*
 * The answer's Authorization for challenge ch: password pw (RES, or
 * empty for a resync or a network-authentication failure), qop auth-int
 * over the empty GET body, a fresh cnonce, and auts_b64 when not NULL.
 */
int ue_ub_answer(const char *impi, const struct ue_ub_challenge *ch, const uint8_t *pw,
                 size_t pwlen, const char *auts_b64, char *out, size_t size);

/* GET / with that Authorization and User-Agent. */
int ue_ub_get(struct gba_http_client *c, const char *authz, const char *user_agent,
              struct gba_http_reply **r);

/* Check Authentication-Info's rspauth over the 200's body. */
int ue_ub_check_rspauth(struct gba_auth *scratch, const char *impi,
                        const struct ue_ub_challenge *ch, const struct gba_http_reply *r,
                        const uint8_t res[8]);

/* The 200 must be application/vnd.3gpp.bsf+xml; copy <btid> and
 * <lifetime> (either out may be NULL) from its BootstrappingInfo. */
int ue_ub_bootstrapping_info(const struct gba_http_reply *r, char *btid, size_t btid_size,
                             char *lifetime, size_t lifetime_size);

#endif
