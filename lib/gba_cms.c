/* gba_cms.c - SignedData verification from the codec and X.509 layers. */
#include "config.h"

#include "gba_cms.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"

int gba_cms_verify(const uint8_t *der, size_t len, const uint8_t *ca, size_t ca_len,
                   time_t now, struct gba_cms_view *view, struct gba_cms_msg **msgp,
                   struct gba_der_error *err)
{
	struct gba_cms_msg *msg = NULL;
	struct gba_cms_signer_view sv;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	int ret;

	*msgp = NULL;
	ret = gba_cms_parse(der, len, view, &msg, err);
	if (ret < 0)
		goto out;
	ret = gba_cms_signer(msg, &sv, &tbs, &tbs_len, err);
	if (ret < 0)
		goto out;
	ret = gba_x509_verify_signature(sv.cert.p, sv.cert.len, sv.sig_alg.p, sv.sig_alg.len,
	                                tbs, tbs_len, sv.signature.p, sv.signature.len);
	if (ret < 0) {
		if (err != NULL) {
			err->offset = 0;
			err->reason = ret == GBA_EUNSUPP ? "unsupported signature algorithm" :
			              "signature does not verify";
		}
		goto out;
	}
	ret = gba_x509_verify_chain(sv.cert.p, sv.cert.len, ca, ca_len, now);
	if (ret < 0) {
		if (err != NULL) {
			err->offset = 0;
			err->reason = "signer certificate is not issued by the trusted CA or not valid now";
		}
		goto out;
	}
	*msgp = msg;
	msg = NULL;
out:
	gba_free(tbs);
	gba_cms_msg_free(msg);
	return ret;
}
