/*
 * gba_ccm_out.h - CCM bodies the CA queues in the outbox, shared by the
 * NAF (CMC revokeRequest) and gba-ctl (revoke, revoke-subscriber), so
 * that every `revoked` message has the same fields whoever queues it.
 */
#ifndef GBA_CCM_OUT_H
#define GBA_CCM_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "gba_store.h"

/*
 * The `revoked` CCM for rec: a fresh message id, rec's certificate and
 * validity, sequence 0 (the store numbers it; the NAF sets it, and adds
 * the revocation status, when it signs the message for delivery), made
 * at now and expiring expiry_s later (0: 24 hours).  On success *body is
 * the encoded CertConfigMessage (the caller frees it with gba_free) and
 * out is filled, borrowing *body and rec's impi, app_id and serial.
 */
int gba_ccm_out_revoked(const struct gba_cert_record *rec, int64_t now, int64_t expiry_s,
                        struct gba_ccm_out *out, uint8_t **body);

#endif
