/*
 * ue_ccm.h - the UE side of Certificate Configuration Messages
 * (doc/ccm.md): verify a CCM, keep the sequence state, apply the
 * message to a directory.  No network; gba-ue subscribe, ccm-check and
 * bootstrap use it, and so do the unit tests.
 *
 * Files in the UE's CCM directory:
 *   ccm.state          "seq N" (the highest sequence number applied) and
 *                      "id HEX" lines (the ids of the last
 *                      UE_CCM_RECENT messages applied), mode 0600
 *   SERIAL.pem         a certificate installed (install), with
 *   SERIAL.chain.pem   its chain as the CCM carried it
 *   SERIAL.renew       renewal-required: "renew-by <time>"
 *   SERIAL.revoked     revoked or remove: the certificate file goes
 *   anchors.pem        the last trust-anchor-update
 *   servers.pem        the last application-server certificates
 * SERIAL is the certificate's serial number in lower-case hex.
 *
 * Functions return 0 or a negative GBA_E* code.
 */
#ifndef UE_CCM_H
#define UE_CCM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gba_asn1.h"

#define UE_CCM_RECENT 64u

struct ue_ccm_state {
	uint64_t seq;                              /* 0: nothing applied yet */
	uint8_t recent[UE_CCM_RECENT][16];         /* newest last */
	size_t nrecent;
};

/* Load DIR/ccm.state (a missing file is the empty state). */
int ue_ccm_state_load(const char *dir, struct ue_ccm_state *s);
int ue_ccm_state_save(const char *dir, const struct ue_ccm_state *s);

/* A verified, decoded CCM.  Everything points into the messages, which
 * ue_ccm_clear frees. */
struct ue_ccm {
	struct gba_ccm ccm;
	struct gba_ccm_msg *msg;
	struct gba_cms_msg *cms;
	char serial[2 * 20 + 1];                   /* the certificate's, or "-" */
};
void ue_ccm_clear(struct ue_ccm *c);

/*
 * Verify der as a CCM: strict DER ContentInfo{SignedData} with
 * eContentType id-ct-gbaCCM; one signer, signed attributes right; the
 * signer's certificate carried, chaining to anchor through the carried CA
 * certificates at now, with extended key usage id-kp-cmcCA or
 * id-kp-cmcRA; the signature; then the CertConfigMessage decoded
 * strictly.  When impi (or app) is not NULL the subscriber (or
 * applicationId) must equal it.  A certificate the message installs must
 * chain to anchor too.  On failure *why names the reason (static) and
 * the code is GBA_ESIG for a bad signature or chain, GBA_EAUTH for a
 * message that is not for us, or a decoding code.
 */
int ue_ccm_verify(const uint8_t *der, size_t len, const uint8_t *anchor, size_t anchor_len,
                  time_t now, const char *impi, const char *app, struct ue_ccm *out,
                  const char **why);

/* Where a verified CCM stands against the state. */
enum ue_ccm_order {
	UE_CCM_NEW,          /* a higher sequence number: apply it */
	UE_CCM_DUPLICATE,    /* one we applied already (same id): acknowledge again */
	UE_CCM_REPLAY        /* an old number that we did not apply: reject */
};
enum ue_ccm_order ue_ccm_order(const struct ue_ccm_state *s, const struct gba_ccm *c);

/* Apply a NEW message to dir (files above) and advance the state (not
 * saved: the caller saves it once the files are written). */
int ue_ccm_apply(const char *dir, const struct ue_ccm *c, struct ue_ccm_state *s);

/* Decode the 4-octet length-prefixed frames of a subscription body.
 * Feed bytes as they come; fn gets each complete frame (length 0 frames
 * are keep-alives and are skipped).  Frames over max are GBA_ETOOBIG. */
struct ue_ccm_frames {
	uint8_t *buf;
	size_t len, cap, max;
};
void ue_ccm_frames_init(struct ue_ccm_frames *f, size_t max);
void ue_ccm_frames_clear(struct ue_ccm_frames *f);
int ue_ccm_frames_feed(struct ue_ccm_frames *f, const uint8_t *d, size_t n,
                       int (*fn)(void *arg, const uint8_t *frame, size_t len), void *arg);

#endif
