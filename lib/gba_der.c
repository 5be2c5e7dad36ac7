/*
 * gba_der.c - the strict DER gate (see gba_der.h for the rules).
 *
 * The walk is iterative: a cursor moves over the input one header at a
 * time, and a fixed array holds the end offset of every open constructed
 * element.  Every peer-supplied length is compared with what remains of
 * the enclosing element before it is added to anything, so no sum can
 * overflow and no read goes past buf[len - 1].  Nothing is allocated.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "gba_der.h"
#include "gba_err.h"
#include "gba_limits.h"

_Static_assert(GBA_MAX_DER_DEPTH <= GBA_DER_DEPTH_CAP,
	       "GBA_MAX_DER_DEPTH exceeds the gate's stack");

#define DER_CLASS_UNIVERSAL	0u
#define DER_CONSTRUCTED		0x20u
#define DER_HIGH_TAG		0x1fu
#define DER_TAG_NUM_MAX		(UINT32_C(1) << 28)

/* Universal tag numbers with a content rule or a fixed form. */
enum der_utag {
	DER_EOC = 0,
	DER_BOOLEAN = 1,
	DER_INTEGER = 2,
	DER_BIT_STRING = 3,
	DER_OCTET_STRING = 4,
	DER_NULL = 5,
	DER_OID = 6,
	DER_EXTERNAL = 8,
	DER_ENUMERATED = 10,
	DER_EMBEDDED_PDV = 11,
	DER_RELATIVE_OID = 13,
	DER_RESERVED_15 = 15,
	DER_SEQUENCE = 16,
	DER_SET = 17,
	DER_UTC_TIME = 23,
	DER_GENERALIZED_TIME = 24,
	DER_CHARACTER_STRING = 29,
	DER_UTAG_LAST = 36	/* RELATIVE-OID-IRI */
};

enum der_form {
	DER_FORM_ANY,
	DER_FORM_PRIMITIVE,
	DER_FORM_CONSTRUCTED
};

struct der_walk {
	const uint8_t *buf;
	size_t len;
	struct gba_der_error *err;
};

/* One parsed header: tag at 'start', content at [content, end). */
struct der_tlv {
	size_t start;
	size_t len_off;		/* first length octet */
	size_t content;
	size_t end;
	unsigned cls;
	int constructed;
	uint32_t num;
};

static int
der_fail(const struct der_walk *w, int rc, size_t offset, const char *reason)
{
	if (w->err != NULL) {
		w->err->offset = offset;
		w->err->reason = reason;
	}
	return rc;
}

static enum der_form
der_universal_form(uint32_t num)
{
	switch (num) {
	case DER_EXTERNAL:
	case DER_EMBEDDED_PDV:
	case DER_SEQUENCE:
	case DER_SET:
	case DER_CHARACTER_STRING:
		return DER_FORM_CONSTRUCTED;
	default:
		/*
		 * Every other defined universal type is primitive in DER
		 * (X.690 10.2: strings; 8.x: the rest have no constructed
		 * form at all).
		 */
		return DER_FORM_PRIMITIVE;
	}
}

/*
 * Parse the identifier octets at t->start, which is below lim.
 * Sets t->len_off to the first octet after them.
 */
static int
der_read_tag(const struct der_walk *w, size_t lim, struct der_tlv *t)
{
	size_t p = t->start;
	uint8_t b = w->buf[p];
	uint64_t num = 0;
	size_t first;

	t->cls = (unsigned)(b >> 6);
	t->constructed = (b & DER_CONSTRUCTED) != 0;
	p++;

	if ((b & DER_HIGH_TAG) != DER_HIGH_TAG) {
		t->num = (uint32_t)(b & DER_HIGH_TAG);
		goto out;
	}

	first = p;
	for (;;) {
		if (p >= lim)
			return der_fail(w, GBA_ETRUNC, lim, "tag truncated");
		b = w->buf[p];
		if (p == first && b == 0x80)
			return der_fail(w, GBA_ENOTDER, p,
					"high tag number with leading 0x80 octet");
		num = (num << 7) | (uint64_t)(b & 0x7f);
		if (num > DER_TAG_NUM_MAX)
			return der_fail(w, GBA_ENOTDER, p,
					"tag number above 2^28");
		p++;
		if ((b & 0x80) == 0)
			break;
	}
	if (num < DER_HIGH_TAG)
		return der_fail(w, GBA_ENOTDER, first,
				"high tag form for tag number below 31");
	t->num = (uint32_t)num;
out:
	t->len_off = p;
	return 0;
}

/* Parse the length octets at t->len_off; the content must end by lim. */
static int
der_read_length(const struct der_walk *w, size_t lim, struct der_tlv *t)
{
	size_t q = t->len_off;
	size_t n, i, clen;
	uint8_t b;

	if (q >= lim)
		return der_fail(w, GBA_ETRUNC, lim,
				"truncated before length octets");
	b = w->buf[q];
	if (b < 0x80) {
		clen = b;
		t->content = q + 1;
		goto check;
	}
	if (b == 0x80)
		return der_fail(w, GBA_ENOTDER, q, "indefinite length");
	if (b == 0xff)
		return der_fail(w, GBA_ENOTDER, q, "reserved length octet 0xFF");

	n = (size_t)(b & 0x7f);
	if (n > sizeof(size_t))
		return der_fail(w, GBA_ENOTDER, q,
				"length does not fit in size_t");
	/* q < lim, so lim - q - 1 cannot wrap. */
	if (n > lim - q - 1)
		return der_fail(w, GBA_ETRUNC, lim, "length octets truncated");
	if (w->buf[q + 1] == 0)
		return der_fail(w, GBA_ENOTDER, q + 1,
				"non-minimal length (leading zero octet)");
	clen = 0;
	for (i = 1; i <= n; i++)
		clen = (clen << 8) | (size_t)w->buf[q + i];
	if (clen < 0x80)
		return der_fail(w, GBA_ENOTDER, q,
				"non-minimal length (long form below 128)");
	t->content = q + 1 + n;

check:
	/* t->content <= lim holds here, so the subtraction is safe. */
	if (clen > lim - t->content)
		return der_fail(w, GBA_ETRUNC, q, lim == w->len ?
				"length exceeds remaining input" :
				"length exceeds enclosing element");
	t->end = t->content + clen;
	return 0;
}

static int
der_check_oid(const struct der_walk *w, const struct der_tlv *t)
{
	size_t p;
	int sub_start = 1;

	if (t->content == t->end)
		return der_fail(w, GBA_ENOTDER, t->len_off,
				"OBJECT IDENTIFIER with empty content");
	for (p = t->content; p < t->end; p++) {
		if (sub_start && w->buf[p] == 0x80)
			return der_fail(w, GBA_ENOTDER, p,
					"OBJECT IDENTIFIER subidentifier not minimal");
		sub_start = (w->buf[p] & 0x80) == 0;
	}
	if (!sub_start)
		return der_fail(w, GBA_ENOTDER, t->end - 1,
				"OBJECT IDENTIFIER last subidentifier truncated");
	return 0;
}

/* Content rules for primitive universal types. */
static int
der_check_content(const struct der_walk *w, const struct der_tlv *t)
{
	const uint8_t *c = w->buf + t->content;
	size_t clen = t->end - t->content;
	unsigned unused;

	switch (t->num) {
	case DER_BOOLEAN:
		if (clen != 1)
			return der_fail(w, GBA_ENOTDER, t->len_off,
					"BOOLEAN length not 1");
		if (c[0] != 0x00 && c[0] != 0xff)
			return der_fail(w, GBA_ENOTDER, t->content,
					"BOOLEAN value not 0x00 or 0xFF");
		break;
	case DER_INTEGER:
	case DER_ENUMERATED:
		if (clen == 0)
			return der_fail(w, GBA_ENOTDER, t->len_off,
					"INTEGER with empty content");
		if (clen >= 2 &&
		    ((c[0] == 0x00 && (c[1] & 0x80) == 0) ||
		     (c[0] == 0xff && (c[1] & 0x80) != 0)))
			return der_fail(w, GBA_ENOTDER, t->content,
					"INTEGER with redundant leading octet");
		break;
	case DER_NULL:
		if (clen != 0)
			return der_fail(w, GBA_ENOTDER, t->content,
					"NULL with content");
		break;
	case DER_BIT_STRING:
		if (clen == 0)
			return der_fail(w, GBA_ENOTDER, t->len_off,
					"BIT STRING with empty content");
		unused = c[0];
		if (unused > 7)
			return der_fail(w, GBA_ENOTDER, t->content,
					"BIT STRING unused bits > 7");
		if (unused != 0 && clen == 1)
			return der_fail(w, GBA_ENOTDER, t->content,
					"BIT STRING unused bits without data");
		if ((c[clen - 1] & ((1u << unused) - 1u)) != 0)
			return der_fail(w, GBA_ENOTDER, t->end - 1,
					"BIT STRING padding bits not zero");
		break;
	case DER_OID:
		return der_check_oid(w, t);
	case DER_RELATIVE_OID:
		/* Same subidentifier rules; empty is as wrong. */
		return der_check_oid(w, t);
	case DER_UTC_TIME:
	case DER_GENERALIZED_TIME:
		if (clen == 0 || c[clen - 1] != 'Z')
			return der_fail(w, GBA_ENOTDER,
					clen == 0 ? t->len_off : t->end - 1,
					"time not ending in 'Z'");
		break;
	default:
		break;
	}
	return 0;
}

/* Identifier rules that do not depend on the content. */
static int
der_check_tag(const struct der_walk *w, const struct der_tlv *t)
{
	enum der_form form;

	if (t->cls != DER_CLASS_UNIVERSAL)
		return 0;
	if (t->num == DER_EOC)
		return der_fail(w, GBA_ENOTDER, t->start,
				"end-of-contents octets or universal tag 0");
	if (t->num == DER_RESERVED_15 || t->num > DER_UTAG_LAST)
		return der_fail(w, GBA_ENOTDER, t->start,
				"reserved universal tag number");
	form = der_universal_form(t->num);
	if (form == DER_FORM_PRIMITIVE && t->constructed)
		return der_fail(w, GBA_ENOTDER, t->start,
				"constructed form of a primitive-only type");
	if (form == DER_FORM_CONSTRUCTED && !t->constructed)
		return der_fail(w, GBA_ENOTDER, t->start,
				"primitive SEQUENCE, SET or other constructed-only type");
	return 0;
}

int
gba_der_check(const uint8_t *buf, size_t len, size_t max_len,
	      unsigned max_depth, struct gba_der_error *err)
{
	struct der_walk w;
	struct der_tlv t;
	size_t ends[GBA_DER_DEPTH_CAP];
	size_t depth = 0;	/* open constructed elements */
	size_t pos = 0;
	size_t lim;
	int rc;

	w.buf = buf;
	w.len = len;
	w.err = err;

	if (len == 0) {
		rc = der_fail(&w, GBA_EINVAL, 0, "empty input");
		goto out;
	}
	if (buf == NULL) {
		rc = der_fail(&w, GBA_EINVAL, 0, "NULL buffer");
		goto out;
	}
	if (max_depth > GBA_DER_DEPTH_CAP) {
		rc = der_fail(&w, GBA_EINVAL, 0,
			      "max_depth above GBA_DER_DEPTH_CAP");
		goto out;
	}
	if (len > max_len) {
		rc = der_fail(&w, GBA_ETOOBIG, max_len,
			      "input longer than max_len");
		goto out;
	}

	for (;;) {
		lim = depth == 0 ? len : ends[depth - 1];

		t.start = pos;
		rc = der_read_tag(&w, lim, &t);
		if (rc < 0)
			goto out;
		rc = der_check_tag(&w, &t);
		if (rc < 0)
			goto out;
		rc = der_read_length(&w, lim, &t);
		if (rc < 0)
			goto out;

		if (t.constructed) {
			if (depth >= max_depth) {
				rc = der_fail(&w, GBA_EDEPTH, t.start,
					      "nesting deeper than limit");
				goto out;
			}
			ends[depth++] = t.end;
			pos = t.content;
		} else {
			if (t.cls == DER_CLASS_UNIVERSAL) {
				rc = der_check_content(&w, &t);
				if (rc < 0)
					goto out;
			}
			pos = t.end;
		}

		/* Close every element that ends here. */
		while (depth > 0 && pos == ends[depth - 1])
			depth--;
		if (depth == 0) {
			if (pos != len) {
				rc = der_fail(&w, GBA_ENOTDER, pos,
					      "trailing bytes after element");
				goto out;
			}
			break;
		}
	}
	rc = 0;
out:
	return rc;
}

int
gba_der_check_default(const uint8_t *buf, size_t len,
		      struct gba_der_error *err)
{
	return gba_der_check(buf, len, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH, err);
}
