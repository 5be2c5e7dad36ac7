/*
 * gba_crl.h - a CA's full CRL, made from the store (RFC 5280 5).
 *
 * One CRL per issuing CA, shared through the store (gba_store_crl_get /
 * _put) by every worker, every daemon on the database and `gba-ctl crl`:
 * whoever notices first that the stored CRL is out of date builds the
 * next one, and the others read it.  A CRL is out of date when the CA's
 * change counter (gba_store_ca_epoch) moved past the one it reflects,
 * or when half its lifetime has passed (so that a fresh one exists well
 * before nextUpdate).
 *
 * Contents: v2, the issuing CA's subject as issuer, thisUpdate = now,
 * nextUpdate = now + lifetime, every REVOKED or HOLD certificate of the
 * CA that has not been expired for longer than one lifetime (so each
 * appears on at least one CRL issued after it expired, RFC 5280 3.3),
 * each with reasonCode (left out for unspecified, RFC 5280 5.3.1) and
 * invalidityDate when known; crlExtensions cRLNumber and
 * authorityKeyIdentifier (the CA's subjectKeyIdentifier).  Signed by the
 * issuing CA's key with its usual signature algorithm.
 */
#ifndef GBA_CRL_H
#define GBA_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "gba_store.h"

struct gba_signer;

#define GBA_CRL_MIN_LIFETIME 60u
#define GBA_CRL_MAX_LIFETIME (366u * 86400u)

struct gba_crl_maker {
	const char *ca;                   /* the CA's name in the store */
	const struct gba_signer *issuer;  /* its key and certificate (borrowed) */
	uint32_t lifetime_s;              /* nextUpdate - thisUpdate */
};

/* 1 when the stored record r (numbers only are needed) is still the
 * CA's current CRL at now, given the CA's change counter epoch. */
int gba_crl_is_current(const struct gba_crl_record *r, uint64_t epoch, int64_t now);

/*
 * The CA's current CRL into *out (caller owns out->der:
 * gba_crl_record_clear): the stored one when it is current, else a new
 * one, built, signed and stored with the next cRLNumber.  When another
 * writer stores one first, theirs is read instead.  force: build a new
 * one even when the stored one is current.  Returns 0 or a negative
 * code (GBA_EINVAL for a bad maker, store and codec errors).
 */
int gba_crl_current(struct gba_store *st, const struct gba_crl_maker *m, int64_t now,
                    int force, struct gba_crl_record *out);

#endif
