/* ue_ccm.c - verify, order and apply CCMs on the UE (ue_ccm.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ue_ccm.h"
#include "ue_der.h"

#define STATE_FILE "ccm.state"
#define PATH_MAX_UE 4096u

/* ---- state ---- */

int ue_ccm_state_load(const char *dir, struct ue_ccm_state *s)
{
	char path[PATH_MAX_UE];
	uint8_t *buf = NULL;
	size_t len = 0, i = 0;
	int ret, have_seq = 0;

	memset(s, 0, sizeof(*s));
	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= (int)sizeof(path))
		return GBA_ETOOBIG;
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? 0 : GBA_EIO;
	ret = ue_file_read(path, &buf, &len);
	if (ret < 0)
		return ret;
	while (i < len && ret == 0) {
		const char *line = (const char *)buf + i;
		size_t l = 0;

		while (i + l < len && buf[i + l] != '\n')
			l++;
		i += l + 1;
		if (l > 4 && memcmp(line, "seq ", 4) == 0 && !have_seq && l - 4 <= 20) {
			uint64_t v = 0;
			size_t k;

			for (k = 4; k < l && ret == 0; k++) {
				if (line[k] < '0' || line[k] > '9' || v > (UINT64_MAX - 9) / 10)
					ret = GBA_ESYNTAX;
				else
					v = v * 10 + (uint64_t)(line[k] - '0');
			}
			s->seq = v;
			have_seq = 1;
		} else if (l == 3 + 32 && memcmp(line, "id ", 3) == 0 &&
		           s->nrecent < UE_CCM_RECENT) {
			ret = gba_hex_decode(line + 3, 32, s->recent[s->nrecent], 16);
			if (ret == 0)
				s->nrecent++;
		} else {
			ret = GBA_ESYNTAX;
		}
	}
	gba_free(buf);
	if (ret < 0)
		memset(s, 0, sizeof(*s));
	return ret < 0 ? ret : 0;
}

int ue_ccm_state_save(const char *dir, const struct ue_ccm_state *s)
{
	char path[PATH_MAX_UE], buf[32 + UE_CCM_RECENT * 40], hex[33];
	size_t used, i;
	int n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= (int)sizeof(path))
		return GBA_ETOOBIG;
	n = snprintf(buf, sizeof(buf), "seq %llu\n", (unsigned long long)s->seq);
	used = (size_t)n;
	for (i = 0; i < s->nrecent; i++) {
		gba_hex_encode(s->recent[i], 16, hex);
		n = snprintf(buf + used, sizeof(buf) - used, "id %s\n", hex);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			return GBA_ETOOBIG;
		used += (size_t)n;
	}
	return ue_file_write(path, buf, used, 0600);
}

/* ---- verification ---- */

void ue_ccm_clear(struct ue_ccm *c)
{
	if (c == NULL)
		return;
	gba_ccm_msg_free(c->msg);
	gba_cms_msg_free(c->cms);
	memset(c, 0, sizeof(*c));
}

static int blob_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int str_is(struct gba_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

int ue_ccm_verify(const uint8_t *der, size_t len, const uint8_t *anchor, size_t anchor_len,
                  time_t now, const char *impi, const char *app, struct ue_ccm *out,
                  const char **why)
{
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	struct gba_der_error err = { 0, NULL };
	struct gba_cert_info sci, ci;
	struct gba_blob carried[UE_MAX_CERTS];
	const uint8_t *ca[UE_MAX_CERTS + GBA_CCM_MAX_CHAIN];
	size_t ca_len[UE_MAX_CERTS + GBA_CCM_MAX_CHAIN], nca = 0, i;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	const char *w = NULL;
	int ret, have_sci = 0;

	memset(out, 0, sizeof(*out));
	memcpy(out->serial, "-", 2);
	ret = gba_cms_parse(der, len, &view, &out->cms, &err);
	if (ret < 0) {
		w = "not a strict DER CMS SignedData";
		goto out;
	}
	if (!blob_eq(view.econtent_type.p, view.econtent_type.len, gba_oid_ct_ccm.p,
	             gba_oid_ct_ccm.len) || view.econtent.len == 0) {
		ret = GBA_EUNSUPP;
		w = "eContentType is not id-ct-gbaCCM";
		goto out;
	}
	ret = gba_cms_signer(out->cms, &sv, &tbs, &tbs_len, &err);
	if (ret < 0) {
		w = "signer info (one signer, signed attributes, digest)";
		goto out;
	}
	if (sv.cert.len == 0) {
		ret = GBA_ESIG;
		w = "the signer's certificate is not carried";
		goto out;
	}
	ret = gba_x509_cert_info(sv.cert.p, sv.cert.len, &sci);
	if (ret < 0) {
		w = "the signer's certificate";
		goto out;
	}
	have_sci = 1;
	ret = gba_x509_verify_spki(sci.spki, sci.spki_len, sv.sig_alg.p, sv.sig_alg.len, tbs,
	                           tbs_len, sv.signature.p, sv.signature.len);
	if (ret < 0) {
		ret = GBA_ESIG;
		w = "the signature does not verify";
		goto out;
	}
	if (view.ncerts > UE_MAX_CERTS) {
		ret = GBA_ETOOBIG;
		w = "too many certificates";
		goto out;
	}
	for (i = 0; i < view.ncerts; i++) {
		ret = gba_cms_cert(out->cms, i, &carried[i]);
		if (ret < 0)
			goto out;
		if (gba_x509_cert_info(carried[i].p, carried[i].len, &ci) == 0) {
			if (ci.is_ca) {
				ca[nca] = carried[i].p;
				ca_len[nca++] = carried[i].len;
			}
			gba_cert_info_clear(&ci);
		}
	}
	ret = gba_x509_verify_path(sv.cert.p, sv.cert.len, ca, ca_len, nca, anchor, anchor_len, now);
	if (ret < 0) {
		ret = GBA_ESIG;
		w = "the signer's certificate does not chain to the trust anchor";
		goto out;
	}
	if (gba_x509_cert_has_eku(sv.cert.p, sv.cert.len, UE_OID_KP_CMC_CA) != 1 &&
	    gba_x509_cert_has_eku(sv.cert.p, sv.cert.len, UE_OID_KP_CMC_RA) != 1) {
		ret = GBA_ESIG;
		w = "the signer's certificate has no id-kp-cmcCA / id-kp-cmcRA";
		goto out;
	}
	ret = gba_ccm_decode(view.econtent.p, view.econtent.len, &out->ccm, &out->msg, &err);
	if (ret < 0) {
		w = "the CertConfigMessage does not decode strictly";
		goto out;
	}
	if (impi != NULL && (out->ccm.subscriber_kind != GBA_CCM_SUB_IMPI ||
	                     !str_is(out->ccm.subscriber, impi))) {
		ret = GBA_EAUTH;
		w = "the message is for another subscriber";
		goto out;
	}
	if (app != NULL && !str_is(out->ccm.application_id, app)) {
		ret = GBA_EAUTH;
		w = "the message is for another application";
		goto out;
	}
	if (out->ccm.certificate.len > 0) {
		ret = gba_x509_cert_info(out->ccm.certificate.p, out->ccm.certificate.len, &ci);
		if (ret < 0) {
			w = "the certificate it carries";
			goto out;
		}
		gba_hex_encode(ci.serial, ci.serial_len, out->serial);
		gba_cert_info_clear(&ci);
		if (out->ccm.action == GBA_CCM_INSTALL) {
			for (i = 0; i < out->ccm.nchain && nca < sizeof(ca) / sizeof(ca[0]); i++) {
				ca[nca] = out->ccm.chain[i].p;
				ca_len[nca++] = out->ccm.chain[i].len;
			}
			ret = gba_x509_verify_path(out->ccm.certificate.p, out->ccm.certificate.len, ca,
			                           ca_len, nca, anchor, anchor_len, now);
			if (ret < 0) {
				ret = GBA_ESIG;
				w = "the installed certificate does not chain to the trust anchor";
				goto out;
			}
		}
	} else if (out->ccm.action == GBA_CCM_INSTALL || out->ccm.action == GBA_CCM_REVOKED ||
	           out->ccm.action == GBA_CCM_RENEWAL_REQUIRED || out->ccm.action == GBA_CCM_REMOVE) {
		ret = GBA_EMISSING;
		w = "no certificate for a certificate action";
		goto out;
	}
	ret = 0;
out:
	if (have_sci)
		gba_cert_info_clear(&sci);
	gba_free(tbs);
	if (ret < 0) {
		ue_ccm_clear(out);
		if (why != NULL)
			*why = w != NULL ? w : (err.reason != NULL ? err.reason : gba_strerror(ret));
	}
	return ret;
}

enum ue_ccm_order ue_ccm_order(const struct ue_ccm_state *s, const struct gba_ccm *c)
{
	size_t i;

	if (c->seq > s->seq)
		return UE_CCM_NEW;
	for (i = 0; i < s->nrecent; i++)
		if (memcmp(s->recent[i], c->message_id, 16) == 0)
			return UE_CCM_DUPLICATE;
	return UE_CCM_REPLAY;
}

/* ---- applying ---- */

static int dir_file(char *out, size_t size, const char *dir, const char *name, const char *ext)
{
	int n = snprintf(out, size, "%s/%s%s", dir, name, ext);

	return n < 0 || (size_t)n >= size ? GBA_ETOOBIG : 0;
}

static int write_certs(const char *path, const struct gba_blob *b, size_t n)
{
	const uint8_t *der[GBA_CCM_MAX_SERVER_CERTS];
	size_t len[GBA_CCM_MAX_SERVER_CERTS], i;

	if (n > GBA_CCM_MAX_SERVER_CERTS)
		return GBA_ETOOBIG;
	for (i = 0; i < n; i++) {
		der[i] = b[i].p;
		len[i] = b[i].len;
	}
	return ue_pem_write(path, "CERTIFICATE", der, len, n);
}

int ue_ccm_apply(const char *dir, const struct ue_ccm *c, struct ue_ccm_state *s)
{
	const struct gba_ccm *m = &c->ccm;
	char path[PATH_MAX_UE], text[64], when[GBA_TIME_RFC3339_LEN + 1];
	int ret = 0, n;

	switch (m->action) {
	case GBA_CCM_INSTALL:
		ret = dir_file(path, sizeof(path), dir, c->serial, ".pem");
		if (ret == 0)
			ret = write_certs(path, &m->certificate, 1);
		if (ret == 0 && m->nchain > 0) {
			ret = dir_file(path, sizeof(path), dir, c->serial, ".chain.pem");
			if (ret == 0)
				ret = write_certs(path, m->chain, m->nchain);
		}
		break;
	case GBA_CCM_RENEWAL_REQUIRED:
		ret = dir_file(path, sizeof(path), dir, c->serial, ".renew");
		if (ret == 0 && gba_time_rfc3339(m->has_renew_by ? m->renew_by :
		                                 m->has_validity ? m->not_after : m->issued_at,
		                                 when) < 0)
			ret = GBA_EINVAL;
		if (ret == 0) {
			n = snprintf(text, sizeof(text), "renew-by %s\n", when);
			ret = ue_file_write(path, text, (size_t)n, 0644);
		}
		break;
	case GBA_CCM_REVOKED:
	case GBA_CCM_REMOVE:
		ret = dir_file(path, sizeof(path), dir, c->serial, ".revoked");
		if (ret == 0) {
			n = snprintf(text, sizeof(text), "%s\n", gba_ccm_action_name(m->action));
			ret = ue_file_write(path, text, (size_t)n, 0644);
		}
		if (ret == 0)
			ret = dir_file(path, sizeof(path), dir, c->serial, ".pem");
		if (ret == 0 && unlink(path) != 0 && errno != ENOENT)
			ret = GBA_EIO;
		break;
	case GBA_CCM_TRUST_ANCHOR_UPDATE:
	case GBA_CCM_STATUS_UPDATE:
		break;
	}
	if (ret == 0 && m->ntrust_anchors > 0) {
		ret = dir_file(path, sizeof(path), dir, "anchors", ".pem");
		if (ret == 0)
			ret = write_certs(path, m->trust_anchors, m->ntrust_anchors);
	}
	if (ret == 0 && m->nserver_certs > 0) {
		ret = dir_file(path, sizeof(path), dir, "servers", ".pem");
		if (ret == 0)
			ret = write_certs(path, m->server_certs, m->nserver_certs);
	}
	if (ret < 0)
		return ret;
	s->seq = m->seq;
	if (s->nrecent == UE_CCM_RECENT) {
		memmove(s->recent[0], s->recent[1], (UE_CCM_RECENT - 1) * sizeof(s->recent[0]));
		s->nrecent--;
	}
	memcpy(s->recent[s->nrecent++], m->message_id, 16);
	return 0;
}

/* ---- frames ---- */

void ue_ccm_frames_init(struct ue_ccm_frames *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void ue_ccm_frames_clear(struct ue_ccm_frames *f)
{
	gba_free(f->buf);
	memset(f, 0, sizeof(*f));
}

int ue_ccm_frames_feed(struct ue_ccm_frames *f, const uint8_t *d, size_t n,
                       int (*fn)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
	size_t need, flen, off = 0;
	uint8_t *nb;
	int ret;

	if (n > 0) {
		need = f->len + n;
		if (need > f->max + 4)
			return GBA_ETOOBIG;
		if (need > f->cap) {
			nb = gba_realloc(f->buf, need);
			if (nb == NULL)
				return GBA_ENOMEM;
			f->buf = nb;
			f->cap = need;
		}
		memcpy(f->buf + f->len, d, n);
		f->len += n;
	}
	while (f->len - off >= 4) {
		flen = ((size_t)f->buf[off] << 24) | ((size_t)f->buf[off + 1] << 16) |
		       ((size_t)f->buf[off + 2] << 8) | f->buf[off + 3];
		if (flen > f->max)
			return GBA_ETOOBIG;
		if (f->len - off - 4 < flen)
			break;
		if (flen > 0) {
			ret = fn(arg, f->buf + off + 4, flen);
			if (ret != 0) {
				off += 4 + flen;
				memmove(f->buf, f->buf + off, f->len - off);
				f->len -= off;
				return ret;
			}
		}
		off += 4 + flen;
	}
	if (off > 0) {
		memmove(f->buf, f->buf + off, f->len - off);
		f->len -= off;
	}
	return 0;
}
