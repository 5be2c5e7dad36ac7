/* ue_der.c - DER walking, PEM and file helpers for gba-ue. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "ue_der.h"

const uint8_t ue_oid_kp_cmc_ca[8] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x1b };
const uint8_t ue_oid_kp_cmc_ra[8] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x1c };
static const uint8_t oid_eku[3] = { 0x55, 0x1d, 0x25 };   /* 2.5.29.37 */
static const uint8_t oid_signed_data[9] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02
};

/* One TLV with a single-octet tag. */
struct tlv {
	uint8_t tag;
	const uint8_t *v;        /* contents */
	size_t len;
	const uint8_t *raw;      /* whole TLV */
	size_t raw_len;
};

static int tlv_next(const uint8_t **pp, const uint8_t *end, struct tlv *t)
{
	const uint8_t *p = *pp;
	size_t len = 0, n, i;

	if (p >= end || end - p < 2)
		return GBA_ESYNTAX;
	t->raw = p;
	t->tag = *p++;
	if ((t->tag & 0x1f) == 0x1f)
		return GBA_ESYNTAX;      /* high tag numbers: not in what we read */
	if (*p < 0x80) {
		len = *p++;
	} else {
		n = *p++ & 0x7fu;
		if (n == 0 || n > 4 || (size_t)(end - p) < n)
			return GBA_ESYNTAX;
		for (i = 0; i < n; i++)
			len = (len << 8) | *p++;
	}
	if ((size_t)(end - p) < len)
		return GBA_ESYNTAX;
	t->v = p;
	t->len = len;
	t->raw_len = (size_t)(p + len - t->raw);
	*pp = p + len;
	return 0;
}

/* Enter: the single element of buf must have that tag. */
static int tlv_expect(const uint8_t **pp, const uint8_t *end, uint8_t tag, struct tlv *t)
{
	int ret = tlv_next(pp, end, t);

	if (ret == 0 && t->tag != tag)
		ret = GBA_ESYNTAX;
	return ret;
}

int ue_cms_certificates(const uint8_t *buf, size_t len, struct gba_blob *out, size_t max)
{
	const uint8_t *p = buf, *end = buf + len, *q, *qe;
	struct tlv ci, oid, ctx0, sd, t;
	size_t n = 0;
	int ret;

	ret = tlv_expect(&p, end, 0x30, &ci);
	if (ret < 0)
		return ret;
	p = ci.v;
	end = ci.v + ci.len;
	ret = tlv_expect(&p, end, 0x06, &oid);
	if (ret < 0)
		return ret;
	if (oid.len != sizeof(oid_signed_data) ||
	    memcmp(oid.v, oid_signed_data, sizeof(oid_signed_data)) != 0)
		return GBA_ESYNTAX;
	ret = tlv_expect(&p, end, 0xa0, &ctx0);
	if (ret < 0)
		return ret;
	p = ctx0.v;
	end = ctx0.v + ctx0.len;
	ret = tlv_expect(&p, end, 0x30, &sd);
	if (ret < 0)
		return ret;
	p = sd.v;
	end = sd.v + sd.len;
	/* version, digestAlgorithms, encapContentInfo */
	if (tlv_expect(&p, end, 0x02, &t) < 0 || tlv_expect(&p, end, 0x31, &t) < 0 ||
	    tlv_expect(&p, end, 0x30, &t) < 0)
		return GBA_ESYNTAX;
	if (p >= end || *p != 0xa0)
		return 0;                /* no certificates */
	ret = tlv_next(&p, end, &t);
	if (ret < 0)
		return ret;
	q = t.v;
	qe = t.v + t.len;
	while (q < qe) {
		struct tlv c;

		ret = tlv_next(&q, qe, &c);
		if (ret < 0)
			return ret;
		if (c.tag != 0x30)
			continue;            /* attribute certificates and others */
		if (n == max)
			return GBA_ETOOBIG;
		out[n].p = c.raw;
		out[n].len = c.raw_len;
		n++;
	}
	return (int)n;
}

int ue_cert_has_eku(const uint8_t *cert, size_t len, const uint8_t *want, size_t want_len)
{
	const uint8_t *p = cert, *end = cert + len;
	struct tlv c, tbs, t;
	int ret;

	ret = tlv_expect(&p, end, 0x30, &c);
	if (ret < 0)
		return ret;
	p = c.v;
	end = c.v + c.len;
	ret = tlv_expect(&p, end, 0x30, &tbs);
	if (ret < 0)
		return ret;
	p = tbs.v;
	end = tbs.v + tbs.len;
	while (p < end) {
		const uint8_t *q, *qe;
		struct tlv exts;

		ret = tlv_next(&p, end, &t);
		if (ret < 0)
			return ret;
		if (t.tag != 0xa3)
			continue;
		q = t.v;
		qe = t.v + t.len;
		ret = tlv_expect(&q, qe, 0x30, &exts);
		if (ret < 0)
			return ret;
		q = exts.v;
		qe = exts.v + exts.len;
		while (q < qe) {
			const uint8_t *r, *re;
			struct tlv ext, oid, v, seq, k;

			ret = tlv_expect(&q, qe, 0x30, &ext);
			if (ret < 0)
				return ret;
			r = ext.v;
			re = ext.v + ext.len;
			ret = tlv_expect(&r, re, 0x06, &oid);
			if (ret < 0)
				return ret;
			if (oid.len != sizeof(oid_eku) || memcmp(oid.v, oid_eku, sizeof(oid_eku)) != 0)
				continue;
			ret = tlv_next(&r, re, &v);
			if (ret == 0 && v.tag == 0x01)      /* critical */
				ret = tlv_next(&r, re, &v);
			if (ret < 0 || v.tag != 0x04)
				return GBA_ESYNTAX;
			r = v.v;
			re = v.v + v.len;
			ret = tlv_expect(&r, re, 0x30, &seq);
			if (ret < 0)
				return ret;
			r = seq.v;
			re = seq.v + seq.len;
			while (r < re) {
				ret = tlv_expect(&r, re, 0x06, &k);
				if (ret < 0)
					return ret;
				if (k.len == want_len && memcmp(k.v, want, want_len) == 0)
					return 1;
			}
			return 0;
		}
		return 0;
	}
	return 0;
}

int ue_certs_add(struct ue_certs *c, const uint8_t *der, size_t len)
{
	uint8_t *copy;

	if (c->n == UE_MAX_CERTS)
		return GBA_ETOOBIG;
	copy = gba_malloc(len);
	if (copy == NULL)
		return GBA_ENOMEM;
	memcpy(copy, der, len);
	c->der[c->n] = copy;
	c->len[c->n] = len;
	c->n++;
	return 0;
}

void ue_certs_clear(struct ue_certs *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		gba_free(c->der[i]);
	memset(c, 0, sizeof(*c));
}

int ue_file_read(const char *path, uint8_t **buf, size_t *len)
{
	uint8_t *b = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GBA_ENOTFOUND : GBA_EIO;
	b = gba_malloc(UE_MAX_FILE + 1);
	if (b == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	for (;;) {
		r = read(fd, b + n, UE_MAX_FILE + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = GBA_EIO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > UE_MAX_FILE) {
			ret = GBA_ETOOBIG;
			goto out;
		}
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	if (b != NULL) {
		gba_wipe(b, n);
		gba_free(b);
	}
	close(fd);
	return ret;
}

int ue_file_write(const char *path, const void *buf, size_t len, unsigned mode)
{
	char tmp[4096];
	const uint8_t *p = buf;
	size_t off = 0;
	ssize_t w;
	int fd, n, ret = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return GBA_EINVAL;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return GBA_EIO;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = GBA_EIO;
			break;
		}
		off += (size_t)w;
	}
	if (ret == 0 && fsync(fd) != 0)
		ret = GBA_EIO;
	if (close(fd) != 0 && ret == 0)
		ret = GBA_EIO;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = GBA_EIO;
	if (ret < 0)
		(void)unlink(tmp);
	return ret;
}

int ue_pem_read(const char *path, const char *label, struct ue_certs *out)
{
	char begin[64], end[64];
	uint8_t *buf = NULL, *der = NULL;
	char *b64 = NULL;
	size_t len, pos = 0, bl, found = 0;
	int ret, n;

	n = snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	if (n < 0 || (size_t)n >= sizeof(begin))
		return GBA_EINVAL;
	n = snprintf(end, sizeof(end), "-----END %s-----", label);
	if (n < 0 || (size_t)n >= sizeof(end))
		return GBA_EINVAL;
	ret = ue_file_read(path, &buf, &len);
	if (ret < 0)
		return ret;
	b64 = gba_malloc(len + 1);
	der = gba_malloc(len + 1);
	if (b64 == NULL || der == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	for (;;) {
		const char *s = (const char *)buf + pos;
		size_t rest = len - pos, i, bs = strlen(begin), es = strlen(end);
		size_t at = rest;

		for (i = 0; i + bs <= rest; i++) {
			if (memcmp(s + i, begin, bs) == 0) {
				at = i;
				break;
			}
		}
		if (at == rest)
			break;
		pos += at + bs;
		bl = 0;
		for (;;) {
			if (pos + es <= len && memcmp(buf + pos, end, es) == 0)
				break;
			if (pos >= len) {
				ret = GBA_ESYNTAX;
				goto out;
			}
			if (buf[pos] != '\n' && buf[pos] != '\r' && buf[pos] != ' ' &&
			    buf[pos] != '\t')
				b64[bl++] = (char)buf[pos];
			pos++;
		}
		pos += es;
		n = gba_base64_decode(b64, bl, der, len + 1);
		if (n <= 0) {
			ret = GBA_ESYNTAX;
			goto out;
		}
		ret = ue_certs_add(out, der, (size_t)n);
		if (ret < 0)
			goto out;
		found++;
	}
	ret = found > 0 ? 0 : GBA_ENOTFOUND;
out:
	if (buf != NULL) {
		gba_wipe(buf, len);
		gba_free(buf);
	}
	if (b64 != NULL) {
		gba_wipe(b64, len + 1);
		gba_free(b64);
	}
	if (der != NULL) {
		gba_wipe(der, len + 1);
		gba_free(der);
	}
	return ret;
}

int ue_pem_write(const char *path, const char *label, const uint8_t *const *der,
                 const size_t *len, size_t n)
{
	char *all = NULL, *pem = NULL, *grown;
	size_t used = 0, l, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = gba_x509_pem(label, der[i], len[i], &pem);
		if (ret < 0)
			goto out;
		l = strlen(pem);
		grown = gba_realloc(all, used + l + 1);
		if (grown == NULL) {
			ret = GBA_ENOMEM;
			goto out;
		}
		all = grown;
		memcpy(all + used, pem, l + 1);
		used += l;
		gba_free(pem);
		pem = NULL;
	}
	ret = ue_file_write(path, all != NULL ? all : "", used, 0644);
out:
	gba_free(pem);
	gba_free(all);
	return ret;
}
