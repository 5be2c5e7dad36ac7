/*
 * gba_keys.h - GBA key and identifier derivations (TS 33.220).
 *
 *   Ks         = CK || IK                                 (4.5.2)
 *   B-TID      = base64(RAND) "@" BSF FQDN                (4.5.2)
 *   KDF        = HMAC-SHA-256(Key, FC || P0 || L0 || ...) (B.2)
 *   Ks_NAF     = KDF(Ks, "gba-me", RAND, IMPI, NAF_Id)    (B.3, FC 0x01)
 *   Ks_int_NAF = KDF(Ks, "gba-u",  RAND, IMPI, NAF_Id)
 *   TMPI       = base64(first 24 octets of KDF(Ks, "gba-me", RAND, IMPI,
 *                BSF FQDN || 01 00 00 01 00)) "@tmpi.bsf.3gppnetwork.org"
 *
 * NAF_Id is the NAF's FQDN as the UE addressed it, followed by the
 * 5-octet Ua security protocol identifier (Annex H).  Ks and the derived
 * keys are secrets; callers own the buffers and wipe them.
 */
#ifndef GBA_KEYS_H
#define GBA_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define GBA_KS_LEN      32u
#define GBA_KS_NAF_LEN  32u
#define GBA_UA_ID_LEN   5u
#define GBA_KDF_FC_GBA  0x01u

/* Ua security protocol identifiers (TS 33.220 Annex H). */
extern const uint8_t gba_ua_id_pki_portal[GBA_UA_ID_LEN];   /* 01 00 00 00 00 */
extern const uint8_t gba_ua_id_http_digest[GBA_UA_ID_LEN];  /* 01 00 00 00 02 */
extern const uint8_t gba_ua_id_tmpi[GBA_UA_ID_LEN];         /* 01 00 00 01 00 */

struct gba_kdf_param {
	const void *data;
	size_t len;            /* at most 65535 (2-octet length) */
};

/* The generic KDF of TS 33.220 B.2: out = HMAC-SHA-256(key, S). */
int gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
            const struct gba_kdf_param *params, size_t nparams,
            uint8_t out[32]);

/* Ks = CK || IK. */
void gba_ks_from_ck_ik(const uint8_t ck[16], const uint8_t ik[16],
                       uint8_t ks[GBA_KS_LEN]);

/* Ks_NAF (GBA_ME, "gba-me") for NAF_Id = naf_fqdn || ua_id. */
int gba_ks_naf(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
               const char *impi, size_t impi_len, const char *naf_fqdn,
               size_t fqdn_len, const uint8_t ua_id[GBA_UA_ID_LEN],
               uint8_t out[GBA_KS_NAF_LEN]);

/* Ks_int_NAF (GBA_U, "gba-u"), same inputs. */
int gba_ks_int_naf(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
                   const char *impi, size_t impi_len, const char *naf_fqdn,
                   size_t fqdn_len, const uint8_t ua_id[GBA_UA_ID_LEN],
                   uint8_t out[GBA_KS_NAF_LEN]);

/*
 * B-TID and TMPI as NUL-terminated strings in out.  Return the string
 * length, or GBA_ETOOBIG when outsz is too small, GBA_EINVAL for an
 * empty or over-long FQDN.
 */
int gba_btid(const uint8_t rand[16], const char *bsf_fqdn, size_t fqdn_len,
             char *out, size_t outsz);
int gba_tmpi(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
             const char *impi, size_t impi_len, const char *bsf_fqdn,
             size_t fqdn_len, char *out, size_t outsz);

/*
 * The passphrase of a CMC revokeRequest authenticated by a GBA session
 * (doc/revocation.md): not the shared secret itself but a MAC that binds
 * it to this one request,
 *   key  = SHA-256(Ks_NAF || identification)     (identityProofV2's key)
 *   data = "gbacert revokeRequest v1" || SHA-256(issuerName DER)
 *          || u8 len || serial || u8 reason || u64 invalidityDate (0: none)
 *          || u8 len || senderNonce
 *   out  = HMAC-SHA-256(key, data)
 * serial: INTEGER content octets (1..20); nonce: 1..64 octets.  The
 * senderNonce is recorded with the revocation, so a replay is refused
 * and a new nonce needs a new MAC.
 */
#define GBA_REVOKE_MAC_LEN 32u
int gba_revoke_passphrase(const uint8_t key[32], const uint8_t *issuer, size_t issuer_len,
                          const uint8_t *serial, size_t serial_len, int reason,
                          int64_t invalidity_date, const uint8_t *nonce, size_t nonce_len,
                          uint8_t out[GBA_REVOKE_MAC_LEN]);

#endif
