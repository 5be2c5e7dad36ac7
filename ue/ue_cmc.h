/*
 * ue_cmc.h - the UE side of CMC over Ua (docs/DESIGN.md flows 2, 3, 5):
 * building Full PKI Requests and checking Full PKI Responses.  No I/O;
 * gba-ue's commands (ue_enrol.c) and the unit tests use it.
 *
 * Shared-secret material (RFC 5272 6.2.1 / 6.3.1.1, docs/notes/cmc.md
 * 2.2-2.3), with identification = the B-TID:
 *   key              = SHA-256(Ks_NAF || identification octets)
 *   identityProofV2  = HMAC-SHA256(key, reqSequence DER as sent)
 *   popLinkWitnessV2 = HMAC-SHA256(key, R), R = popLinkRandom contents
 * Functions return 0 or a negative GBA_E* code.
 */
#ifndef UE_CMC_H
#define UE_CMC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gba_asn1.h"
#include "gba_cmc.h"
#include "gba_x509.h"
#include "ue_der.h"

#define UE_CMC_MAX_KEYS        8u
#define UE_CMC_TXID_LEN        8u    /* random transactionId octets */
#define UE_CMC_NONCE_LEN       16u
#define UE_CMC_POP_RANDOM_LEN  32u
#define UE_CMC_MAX_TOKEN       64u
#define UE_CMC_MAX_STATUS_TEXT 256u

/* key = SHA-256(Ks_NAF || ident).  key is a secret: the caller wipes it. */
int ue_cmc_shared_key(const uint8_t ks_naf[32], const char *ident, size_t ident_len,
                      uint8_t key[32]);

/* HMAC-SHA256(key, data): identityProofV2 and popLinkWitnessV2 witnesses. */
int ue_cmc_witness(const uint8_t key[32], const uint8_t *data, size_t len, uint8_t out[32]);

/* A random transactionId: UE_CMC_TXID_LEN octets, first in 0x01..0x7f
 * (positive, minimal INTEGER content). */
int ue_cmc_new_txid(uint8_t txid[UE_CMC_TXID_LEN]);

/* What a request holds.  Everything is borrowed. */
struct ue_cmc_req {
	/* First enrolment and poll: identification (the B-TID) and
	 * identityProofV2 keyed with ks_naf; with keys also popLinkRandom
	 * and a popLinkWitnessV2 in every request.  NULL: none (renew,
	 * rekey: the request is signed by the existing certificate). */
	const char *identification;
	const uint8_t *ks_naf;               /* 32 octets when identification */
	struct gba_key *const *keys;         /* keys to certify, bodyPartIDs 1..n */
	size_t nkeys;                        /* 0: no reqSequence entries (poll) */
	int crmf;                            /* crm instead of tcr */
	struct gba_blob txid;                /* transactionId content octets */
	struct gba_blob sender_nonce;
	struct gba_blob query_pending;       /* len 0: absent */
	/* confirmCertAcceptance, one control per certificate (at most
	 * UE_CMC_MAX_KEYS) */
	const struct gba_cmc_cert_id *confirm;
	size_t nconfirm;
	/* revokeRequest (issue 6): issuer, serial, reason, invalidityDate.
	 * With identification its passphrase is filled in here as
	 * gba_revoke_passphrase (doc/revocation.md); without, none is sent
	 * (the request is signed by the certificate itself).  NULL: none. */
	const struct gba_cmc_revoke *revoke;
	struct gba_blob get_crl_issuer;      /* getCRL for this Name DER; len 0: none */
	/* The SignedData signer: sign_key, and either signer_cert (sid =
	 * issuerAndSerialNumber, carried with certs) or, when signer_cert
	 * is absent, sid = the key identifier of sign_key's SPKI. */
	struct gba_key *sign_key;
	struct gba_blob signer_cert;
	const struct gba_blob *certs;
	size_t ncerts;
};

/* The PKIData DER of r (unsigned).  *der is a new buffer (gba_free). */
int ue_cmc_pkidata(const struct ue_cmc_req *r, uint8_t **der, size_t *len);

/* The signed Full PKI Request: ContentInfo{SignedData{id-cct-PKIData}}. */
int ue_cmc_request(const struct ue_cmc_req *r, uint8_t **der, size_t *len);

/* The outcome of a checked Full PKI Response.  Owned; clear with
 * ue_cmc_result_clear. */
struct ue_cmc_result {
	enum gba_cmc_status status;          /* success, failed or pending */
	/* success, but the CA asked (confirmRequired) for a
	 * confirmCertAcceptance of the issued certificates */
	int confirm_required;
	int has_fail_info;
	enum gba_cmc_fail fail_info;
	char status_string[UE_CMC_MAX_STATUS_TEXT];   /* printable; "" if none */
	uint8_t pend_token[UE_CMC_MAX_TOKEN];
	size_t pend_token_len;
	int64_t pend_time;
	/* success: the issued certificate for each requested SPKI, in order */
	struct ue_certs issued;
	/* the CA certificates from the response on the path from
	 * issued.der[0] up (issuer first), without the trust anchor */
	struct ue_certs chain;
};
void ue_cmc_result_clear(struct ue_cmc_result *res);

/*
 * Check a Full PKI Response and fill *res:
 *  - a ContentInfo{SignedData} with eContentType id-cct-PKIResponse;
 *  - its single signer's certificate carried, the signature right, the
 *    certificate chaining (through the carried certificates) to anchor
 *    at now, and carrying extKeyUsage id-kp-cmcCA or id-kp-cmcRA;
 *  - transactionId equal to txid, recipientNonce equal to nonce;
 *  - at least one statusInfoV2.  Any failed status wins (res->status
 *    failed); otherwise any pending; otherwise success (confirmRequired
 *    counts as success and sets res->confirm_required), when for every
 *    SPKI in spkis a carried certificate has that key and chains to
 *    anchor.
 * On error *why (if not NULL) names the check that failed.
 */
int ue_cmc_response(const uint8_t *der, size_t len, const uint8_t *anchor, size_t anchor_len,
                    struct gba_blob txid, struct gba_blob nonce, const struct gba_blob *spkis,
                    size_t nspkis, time_t now, struct ue_cmc_result *res, const char **why);

/*
 * The certificates of a certs-only PKCS#7 (portal "chain" answers):
 * the one whose SPKI is spki goes to *leaf, the others, ordered from
 * its issuer up, to *chain (unordered leftovers last).  GBA_ENOTFOUND
 * when none has that key.
 */
int ue_cmc_certs_only(const uint8_t *der, size_t len, struct gba_blob spki,
                      struct ue_certs *leaf, struct ue_certs *chain);

#endif
