/* gba_http_auth.c - Digest header parser and builder. */
#include "config.h"

#include <string.h>

#include "gba_err.h"
#include "gba_http_auth.h"

static const char *const field_names[GBA_AUTH_NFIELDS] = {
#define GBA_AUTH_FIELD_NAME(id, name) name,
	GBA_AUTH_FIELDS(GBA_AUTH_FIELD_NAME)
#undef GBA_AUTH_FIELD_NAME
};

const char *gba_auth_field_name(enum gba_auth_field f)
{
	if ((unsigned)f >= GBA_AUTH_NFIELDS)
		return "?";
	return field_names[f];
}

/* RFC 7230 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 7616 allows token68-ish characters in unquoted values such as
 * base64 nonces sent by sloppy peers; '/', '=' are not tchars, so accept
 * them in unquoted values too. */
static int is_value_char(unsigned char c)
{
	return is_tchar(c) || c == '/' || c == '=';
}

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int lower_eq(const char *a, size_t alen, const char *lit)
{
	size_t i, n = strlen(lit);

	if (alen != n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lit[i])
			return 0;
	}
	return 1;
}

struct cursor {
	const char *s;
	size_t len;
	size_t pos;
};

static void skip_ows(struct cursor *c)
{
	while (c->pos < c->len && is_ows((unsigned char)c->s[c->pos]))
		c->pos++;
}

/* Parse a quoted string at c->pos (on the opening quote), unescaping
 * into dst.  Returns the value length or a negative error. */
static int parse_quoted(struct cursor *c, char *dst, size_t room, size_t *err_off)
{
	size_t n = 0;

	c->pos++;  /* opening quote */
	for (;;) {
		unsigned char ch;

		if (c->pos >= c->len) {
			*err_off = c->pos;
			return GBA_ESYNTAX;  /* unterminated */
		}
		ch = (unsigned char)c->s[c->pos];
		if (ch == '"') {
			c->pos++;
			break;
		}
		if (ch == '\\') {
			c->pos++;
			if (c->pos >= c->len) {
				*err_off = c->pos;
				return GBA_ESYNTAX;
			}
			ch = (unsigned char)c->s[c->pos];
			if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) {
				*err_off = c->pos;
				return GBA_ESYNTAX;
			}
		} else if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) {
			*err_off = c->pos;
			return GBA_ESYNTAX;
		}
		if (n >= room || n >= GBA_MAX_AUTH_VALUE_LEN) {
			*err_off = c->pos;
			return GBA_ETOOBIG;
		}
		dst[n++] = (char)ch;
		c->pos++;
	}
	return (int)n;
}

int gba_auth_parse(struct gba_auth *a, enum gba_auth_kind kind, const char *hdr,
                   size_t len, size_t *err_off)
{
	struct cursor c = { hdr, len, 0 };
	size_t dummy;
	int need_param = 1;

	if (err_off == NULL)
		err_off = &dummy;
	*err_off = 0;
	memset(a, 0, offsetof(struct gba_auth, arena));
	if (hdr == NULL && len > 0)
		return GBA_EINVAL;
	if (len > GBA_MAX_AUTH_HEADER_LEN)
		return GBA_ETOOBIG;

	skip_ows(&c);
	if (kind != GBA_AUTH_INFO) {
		size_t start = c.pos;

		while (c.pos < c.len && is_tchar((unsigned char)c.s[c.pos]))
			c.pos++;
		if (c.pos == start) {
			*err_off = start;
			return GBA_ESYNTAX;
		}
		if (!lower_eq(c.s + start, c.pos - start, "digest")) {
			*err_off = start;
			return GBA_EUNSUPP;
		}
		if (c.pos >= c.len || c.s[c.pos] != ' ') {
			*err_off = c.pos;
			return GBA_ESYNTAX;
		}
		skip_ows(&c);
	}

	while (c.pos < c.len) {
		size_t name_start, name_len, vstart;
		int field = -1, i, quoted = 0, vlen;
		char *dst = a->arena + a->arena_used;
		size_t room = sizeof(a->arena) - a->arena_used;

		/* empty list elements (",,") are allowed by RFC 7230 #rule */
		if (c.s[c.pos] == ',') {
			c.pos++;
			skip_ows(&c);
			need_param = 1;
			continue;
		}
		if (!need_param) {
			*err_off = c.pos;
			return GBA_ESYNTAX;  /* two params without a comma */
		}
		name_start = c.pos;
		while (c.pos < c.len && is_tchar((unsigned char)c.s[c.pos]))
			c.pos++;
		name_len = c.pos - name_start;
		if (name_len == 0) {
			*err_off = c.pos;
			return GBA_ESYNTAX;
		}
		skip_ows(&c);
		if (c.pos >= c.len || c.s[c.pos] != '=') {
			*err_off = c.pos;
			return GBA_ESYNTAX;
		}
		c.pos++;
		skip_ows(&c);
		if (++a->nparams > GBA_MAX_AUTH_PARAMS) {
			*err_off = name_start;
			return GBA_ETOOBIG;
		}
		for (i = 0; i < (int)GBA_AUTH_NFIELDS; i++) {
			if (lower_eq(c.s + name_start, name_len, field_names[i])) {
				field = i;
				break;
			}
		}
		if (field >= 0 && gba_auth_has(a, (enum gba_auth_field)field)) {
			*err_off = name_start;
			return GBA_EDUP;
		}

		vstart = c.pos;
		if (c.pos < c.len && c.s[c.pos] == '"') {
			quoted = 1;
			vlen = parse_quoted(&c, dst, room, err_off);
			if (vlen < 0)
				return vlen;
		} else {
			while (c.pos < c.len && is_value_char((unsigned char)c.s[c.pos]))
				c.pos++;
			if (c.pos == vstart) {
				*err_off = c.pos;
				return GBA_ESYNTAX;
			}
			if (c.pos - vstart > GBA_MAX_AUTH_VALUE_LEN || c.pos - vstart > room) {
				*err_off = vstart;
				return GBA_ETOOBIG;
			}
			vlen = (int)(c.pos - vstart);
			memcpy(dst, c.s + vstart, (size_t)vlen);
		}
		if (field >= 0) {
			a->f[field].p = dst;
			a->f[field].len = (size_t)vlen;
			a->present |= 1u << field;
			if (quoted)
				a->quoted |= 1u << field;
			a->arena_used += (size_t)vlen;
		}
		skip_ows(&c);
		need_param = 0;
	}
	if (a->nparams == 0) {
		*err_off = c.pos;
		return GBA_ESYNTAX;
	}
	return 0;
}

static int is_hex(struct gba_str s, size_t want)
{
	size_t i;

	if (s.len != want)
		return 0;
	for (i = 0; i < s.len; i++) {
		char ch = s.p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return 1;
}

int gba_auth_check_credentials(const struct gba_auth *a, enum gba_auth_field *missing)
{
	static const enum gba_auth_field required[] = {
		GBA_AUTH_USERNAME, GBA_AUTH_REALM, GBA_AUTH_NONCE, GBA_AUTH_URI,
		GBA_AUTH_RESPONSE
	};
	enum gba_auth_field dummy;
	size_t i;

	if (missing == NULL)
		missing = &dummy;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!gba_auth_has(a, required[i]) || a->f[required[i]].len == 0) {
			*missing = required[i];
			return GBA_EMISSING;
		}
	}
	if (!is_hex(a->f[GBA_AUTH_RESPONSE], 32)) {
		*missing = GBA_AUTH_RESPONSE;
		return GBA_ESYNTAX;
	}
	if (gba_auth_has(a, GBA_AUTH_QOP)) {
		struct gba_str q = a->f[GBA_AUTH_QOP];

		if (!gba_str_eq(q, GBA_STR_LIT("auth")) && !gba_str_eq(q, GBA_STR_LIT("auth-int"))) {
			*missing = GBA_AUTH_QOP;
			return GBA_ESYNTAX;
		}
		if (!gba_auth_has(a, GBA_AUTH_CNONCE) || a->f[GBA_AUTH_CNONCE].len == 0) {
			*missing = GBA_AUTH_CNONCE;
			return GBA_EMISSING;
		}
		if (!gba_auth_has(a, GBA_AUTH_NC)) {
			*missing = GBA_AUTH_NC;
			return GBA_EMISSING;
		}
		if (!is_hex(a->f[GBA_AUTH_NC], 8)) {
			*missing = GBA_AUTH_NC;
			return GBA_ESYNTAX;
		}
	}
	return 0;
}

/* ---- builder ---- */

static void put(struct gba_auth_builder *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (n >= b->size - b->len) {
		b->err = GBA_ETOOBIG;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void gba_auth_builder_init(struct gba_auth_builder *b, char *buf, size_t size,
                           const char *scheme)
{
	b->buf = buf;
	b->size = size;
	b->len = 0;
	b->nparams = 0;
	b->err = 0;
	if (buf == NULL || size == 0) {
		b->err = GBA_EINVAL;
		return;
	}
	buf[0] = '\0';
	if (scheme != NULL) {
		put(b, scheme, strlen(scheme));
		put(b, " ", 1);
	}
}

static void put_name(struct gba_auth_builder *b, const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0)
		b->err = b->err ? b->err : GBA_EINVAL;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)name[i]))
			b->err = b->err ? b->err : GBA_EINVAL;
	if (b->nparams++ > 0)
		put(b, ", ", 2);
	put(b, name, n);
	put(b, "=", 1);
}

void gba_auth_add_quoted(struct gba_auth_builder *b, const char *name, struct gba_str v)
{
	size_t i;

	put_name(b, name);
	put(b, "\"", 1);
	for (i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];

		if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) {
			b->err = b->err ? b->err : GBA_EINVAL;
			return;
		}
		if (ch == '"' || ch == '\\')
			put(b, "\\", 1);
		put(b, v.p + i, 1);
	}
	put(b, "\"", 1);
}

void gba_auth_add_token(struct gba_auth_builder *b, const char *name, struct gba_str v)
{
	size_t i;

	put_name(b, name);
	if (v.len == 0)
		b->err = b->err ? b->err : GBA_EINVAL;
	for (i = 0; i < v.len; i++)
		if (!is_tchar((unsigned char)v.p[i]))
			b->err = b->err ? b->err : GBA_EINVAL;
	put(b, v.p, v.len);
}

int gba_auth_builder_finish(struct gba_auth_builder *b)
{
	if (b->err)
		return b->err;
	if (b->len > GBA_MAX_AUTH_HEADER_LEN)
		return GBA_ETOOBIG;
	return (int)b->len;
}
