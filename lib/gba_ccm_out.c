/*
 * gba_ccm_out.c - CCM bodies the CA queues (gba_ccm_out.h).
 */
#include "config.h"

#include <string.h>

#include "gba_asn1.h"
#include "gba_ccm_out.h"
#include "gba_crypto.h"
#include "gba_err.h"

int gba_ccm_out_revoked(const struct gba_cert_record *rec, int64_t now, int64_t expiry_s,
                        struct gba_ccm_out *out, uint8_t **body)
{
	struct gba_ccm m;
	int ret;

	*body = NULL;
	memset(out, 0, sizeof(*out));
	ret = gba_rnd(GBA_RND_NONCE, out->msg_id, sizeof(out->msg_id));
	if (ret < 0)
		return ret;
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, out->msg_id, sizeof(m.message_id));
	m.issued_at = now;
	m.subscriber_kind = GBA_CCM_SUB_IMPI;
	m.subscriber = gba_str_c(rec->impi);
	m.application_id = gba_str_c(rec->app_id);
	m.action = GBA_CCM_REVOKED;
	m.certificate.p = rec->der;
	m.certificate.len = rec->der_len;
	m.has_validity = 1;
	m.not_before = rec->not_before;
	m.not_after = rec->not_after;
	ret = gba_ccm_encode(&m, body, &out->body_len);
	if (ret < 0)
		return ret;
	out->body = *body;
	out->impi = rec->impi;
	out->app_id = rec->app_id;
	out->action = GBA_CCM_REVOKED;
	out->ref = rec->serial;
	out->ref_len = rec->serial_len;
	out->created = now;
	out->expires = now + (expiry_s > 0 ? expiry_s : 86400);
	return 0;
}
