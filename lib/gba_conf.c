/*
 * gba_conf.c - the schema-driven YAML loader (see gba_conf.h).
 *
 * libyaml's event parser is used rather than its document API: events
 * carry anchors, aliases and tags, so they can be refused before anything
 * is built, duplicate keys are seen as they arrive, and every error keeps
 * the line and column of the node it is about.  The only recursion is
 * over schema tables, so nesting is bounded by the schema, not the input.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "gba_conf.h"
#include "gba_err.h"
#include "gba_mem.h"

#define KEY_SHOW_MAX 64          /* characters of an offending key shown */
#define PATH_MAX_LEN 128         /* dotted key path in messages */

struct ld {
	yaml_parser_t p;
	const char *name;
	const unsigned char *buf;
	size_t len;
	char *err;
	size_t errlen;
	int rc;
};

static void ld_err(struct ld *l, unsigned line, unsigned col, int rc,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
ld_err(struct ld *l, unsigned line, unsigned col, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->rc != 0)
		return;
	l->rc = rc;
	if (l->err == NULL || l->errlen == 0)
		return;
	n = snprintf(l->err, l->errlen, "%s:%u:%u: ", l->name, line, col);
	if (n < 0 || (size_t)n >= l->errlen)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static unsigned
mark_line(yaml_mark_t m)
{
	return m.line >= 0xfffffffeu ? 0xffffffffu : (unsigned)m.line + 1u;
}

static unsigned
mark_col(yaml_mark_t m)
{
	return m.column >= 0xfffffffeu ? 0xffffffffu : (unsigned)m.column + 1u;
}

#define EV_ERR(l, ev, ...) \
	ld_err((l), mark_line((ev)->start_mark), mark_col((ev)->start_mark), GBA_EINVAL, __VA_ARGS__)

/* A printable, bounded copy of (s, n) for messages. */
static void
show(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < dstlen && i < KEY_SHOW_MAX; i++)
		dst[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n && o + 4 < dstlen) {
		dst[o++] = '.';
		dst[o++] = '.';
		dst[o++] = '.';
	}
	dst[o] = '\0';
}

/* Next event, with anchors, aliases and tags refused.  0 or error. */
static int
next(struct ld *l, yaml_event_t *ev)
{
	const unsigned char *anchor = NULL, *tag = NULL;
	char s[KEY_SHOW_MAX + 8];

	if (!yaml_parser_parse(&l->p, ev)) {
		unsigned line, col;
		const char *prob = l->p.problem != NULL ? l->p.problem : "parse error";

		memset(ev, 0, sizeof(*ev));
		if (l->p.error == YAML_READER_ERROR) {
			size_t i, off = l->p.problem_offset;

			line = 1;
			col = 1;
			for (i = 0; i < off && i < l->len; i++) {
				if (l->buf[i] == '\n') {
					line++;
					col = 1;
				} else if ((l->buf[i] & 0xc0) != 0x80) {
					col++;
				}
			}
		} else {
			line = mark_line(l->p.problem_mark);
			col = mark_col(l->p.problem_mark);
		}
		if (l->p.error == YAML_MEMORY_ERROR)
			ld_err(l, line, col, GBA_ENOMEM, "out of memory");
		else if (l->p.context != NULL)
			ld_err(l, line, col, GBA_EINVAL, "%s %s", prob, l->p.context);
		else
			ld_err(l, line, col, GBA_EINVAL, "%s", prob);
		return l->rc;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		show(s, sizeof(s), (const char *)ev->data.alias.anchor,
		     strlen((const char *)ev->data.alias.anchor));
		EV_ERR(l, ev, "alias '*%s' is not allowed", s);
		goto bad;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL) {
		show(s, sizeof(s), (const char *)anchor, strlen((const char *)anchor));
		EV_ERR(l, ev, "anchor '&%s' is not allowed", s);
		goto bad;
	}
	if (tag != NULL) {
		show(s, sizeof(s), (const char *)tag, strlen((const char *)tag));
		EV_ERR(l, ev, "tag '%s' is not allowed", s);
		goto bad;
	}
	return 0;
bad:
	yaml_event_delete(ev);
	return l->rc;
}

static bool
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 ||
	       strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Decimal integer, optional sign, no other characters.  0 or -1. */
static int
parse_i64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, lim;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10u)
			return -1;
		v = v * 10u + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

static int
enum_index(const char *const *names, const char *s, size_t n)
{
	int i;

	for (i = 0; names[i] != NULL && i < 32; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

static void
enum_list(char *dst, size_t dstlen, const char *const *names)
{
	size_t o = 0;
	int i, n;

	dst[0] = '\0';
	for (i = 0; names[i] != NULL && o < dstlen; i++) {
		n = snprintf(dst + o, dstlen - o, "%s%s", i > 0 ? ", " : "", names[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/*
 * One scalar value s (length n) of item's element type.  Writes an int64
 * for INT/INTLIST, an index for ENUM/ENUMLIST, an owned copy for
 * STR/STRLIST.  Returns 0, or -1 with msg set (mark added by the caller),
 * or GBA_ENOMEM.
 */
static int
scalar_value(const struct gba_conf_item *it, const char *s, size_t n, bool plain,
             int64_t *iv, char **sv, char *msg, size_t msglen)
{
	char tmp[256];
	int64_t v;
	int idx;
	size_t maxlen;

	switch (it->type) {
	case GBA_CONF_STR:
	case GBA_CONF_STRLIST:
		maxlen = it->max > 0 ? (size_t)it->max : GBA_CONF_MAX_STR;
		if (n == 0) {
			snprintf(msg, msglen, "'%s' must not be empty", it->key);
			return -1;
		}
		if (n > maxlen) {
			snprintf(msg, msglen, "'%s' is longer than %zu characters", it->key, maxlen);
			return -1;
		}
		if (memchr(s, '\0', n) != NULL) {
			snprintf(msg, msglen, "'%s' contains a NUL character", it->key);
			return -1;
		}
		if (it->check != NULL && it->check(s, tmp, sizeof(tmp)) != 0) {
			snprintf(msg, msglen, "'%s': %s", it->key, tmp);
			return -1;
		}
		*sv = gba_strndup(s, n);
		return *sv == NULL ? GBA_ENOMEM : 0;
	case GBA_CONF_INT:
	case GBA_CONF_INTLIST:
		if (!plain || parse_i64(s, n, &v) != 0) {
			show(tmp, sizeof(tmp), s, n);
			snprintf(msg, msglen, "'%s' must be an integer, not '%s'", it->key, tmp);
			return -1;
		}
		if (v < it->min || v > it->max) {
			snprintf(msg, msglen, "'%s' value %lld is out of range %lld..%lld", it->key,
			         (long long)v, (long long)it->min, (long long)it->max);
			return -1;
		}
		*iv = v;
		return 0;
	case GBA_CONF_BOOL:
		if (plain && n == 4 && memcmp(s, "true", 4) == 0) {
			*iv = 1;
			return 0;
		}
		if (plain && n == 5 && memcmp(s, "false", 5) == 0) {
			*iv = 0;
			return 0;
		}
		show(tmp, sizeof(tmp), s, n);
		snprintf(msg, msglen, "'%s' must be true or false, not '%s'", it->key, tmp);
		return -1;
	case GBA_CONF_ENUM:
	case GBA_CONF_ENUMLIST:
		idx = enum_index(it->names, s, n);
		if (idx < 0) {
			char names[200];

			show(tmp, sizeof(tmp), s, n);
			enum_list(names, sizeof(names), it->names);
			snprintf(msg, msglen, "'%s' value '%s' is not one of: %s", it->key, tmp,
			         names);
			return -1;
		}
		*iv = idx;
		return 0;
	case GBA_CONF_MAP:
	default:
		break;
	}
	snprintf(msg, msglen, "'%s' must be a mapping", it->key);
	return -1;
}

static const char *
type_text(enum gba_conf_type t)
{
	switch (t) {
	case GBA_CONF_STR: return "a string";
	case GBA_CONF_INT: return "an integer";
	case GBA_CONF_BOOL: return "true or false";
	case GBA_CONF_ENUM: return "a name";
	case GBA_CONF_MAP: return "a mapping";
	case GBA_CONF_ENUMLIST:
	case GBA_CONF_STRLIST:
	case GBA_CONF_INTLIST:
	default: return "a list";
	}
}

static bool
is_list(enum gba_conf_type t)
{
	return t == GBA_CONF_ENUMLIST || t == GBA_CONF_STRLIST || t == GBA_CONF_INTLIST;
}

/* Append one element to a list field.  0 or GBA_ENOMEM. */
static int
list_add(const struct gba_conf_item *it, unsigned char *base, int64_t iv, char *sv)
{
	if (it->type == GBA_CONF_STRLIST) {
		struct gba_conf_strlist *sl = (struct gba_conf_strlist *)(void *)(base + it->offset);
		char **nv = gba_reallocarray(sl->v, sl->n + 1, sizeof(*nv));

		if (nv == NULL) {
			gba_free(sv);
			return GBA_ENOMEM;
		}
		sl->v = nv;
		sl->v[sl->n++] = sv;
	} else if (it->type == GBA_CONF_INTLIST) {
		struct gba_conf_intlist *il = (struct gba_conf_intlist *)(void *)(base + it->offset);
		int64_t *nv = gba_reallocarray(il->v, il->n + 1, sizeof(*nv));

		if (nv == NULL)
			return GBA_ENOMEM;
		il->v = nv;
		il->v[il->n++] = iv;
	} else {
		uint32_t *bits = (uint32_t *)(void *)(base + it->offset);

		*bits |= 1u << (unsigned)iv;
	}
	return 0;
}

static void
store_scalar(const struct gba_conf_item *it, unsigned char *base, int64_t iv, char *sv)
{
	switch (it->type) {
	case GBA_CONF_STR:
		*(char **)(void *)(base + it->offset) = sv;
		break;
	case GBA_CONF_INT:
		*(int64_t *)(void *)(base + it->offset) = iv;
		break;
	case GBA_CONF_BOOL:
		*(bool *)(void *)(base + it->offset) = iv != 0;
		break;
	case GBA_CONF_ENUM:
		*(int *)(void *)(base + it->offset) = (int)iv;
		break;
	default:
		break;
	}
}

static int parse_map(struct ld *l, const struct gba_conf_item *tab, unsigned char *base,
                     const yaml_event_t *start, const char *path);
static int apply_defaults(struct ld *l, const struct gba_conf_item *tab,
                          unsigned char *base, uint64_t seen, unsigned line,
                          unsigned col, const char *path);

/* The value of item it, whose first event is *ev (consumed here). */
static int
parse_value(struct ld *l, const struct gba_conf_item *it, unsigned char *base,
            yaml_event_t *ev, const char *path)
{
	char msg[400], sub[PATH_MAX_LEN];
	int64_t iv = 0;
	char *sv = NULL;
	size_t count = 0;
	int rc;

	if (it->has_mark) {
		struct gba_conf_mark *m = (struct gba_conf_mark *)(void *)(base + it->mark_offset);

		m->line = mark_line(ev->start_mark);
		m->col = mark_col(ev->start_mark);
	}
	if (it->type == GBA_CONF_MAP) {
		if (ev->type != YAML_MAPPING_START_EVENT) {
			EV_ERR(l, ev, "'%s' must be a mapping", it->key);
			goto out;
		}
		snprintf(sub, sizeof(sub), "%s%s.", path, it->key);
		(void)parse_map(l, it->sub, base + it->offset, ev, sub);
		goto out;
	}
	if (is_list(it->type)) {
		if (ev->type != YAML_SEQUENCE_START_EVENT) {
			EV_ERR(l, ev, "'%s' must be a list", it->key);
			goto out;
		}
		for (;;) {
			yaml_event_t el;

			if (next(l, &el) != 0)
				goto out;
			if (el.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&el);
				break;
			}
			if (el.type != YAML_SCALAR_EVENT || is_null(&el)) {
				EV_ERR(l, &el, "elements of '%s' must be %s", it->key,
				       it->type == GBA_CONF_INTLIST ? "integers" :
				       it->type == GBA_CONF_ENUMLIST ? "names" : "strings");
				yaml_event_delete(&el);
				goto out;
			}
			if (++count > GBA_CONF_MAX_LIST) {
				EV_ERR(l, &el, "'%s' has more than %u elements", it->key,
				       GBA_CONF_MAX_LIST);
				yaml_event_delete(&el);
				goto out;
			}
			sv = NULL;
			rc = scalar_value(it, (const char *)el.data.scalar.value,
			                  el.data.scalar.length,
			                  el.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, &iv, &sv,
			                  msg, sizeof(msg));
			if (rc == 0 && it->type == GBA_CONF_ENUMLIST &&
			    (*(uint32_t *)(void *)(base + it->offset) & (1u << (unsigned)iv)) != 0) {
				snprintf(msg, sizeof(msg), "'%s' lists '%s' twice", it->key,
				         it->names[iv]);
				rc = -1;
			}
			if (rc == -1)
				EV_ERR(l, &el, "%s", msg);
			else if (rc != 0)
				ld_err(l, mark_line(el.start_mark), mark_col(el.start_mark), rc,
				       "out of memory");
			yaml_event_delete(&el);
			if (rc != 0)
				goto out;
			if (list_add(it, base, iv, sv) != 0) {
				ld_err(l, mark_line(ev->start_mark), mark_col(ev->start_mark),
				       GBA_ENOMEM, "out of memory");
				goto out;
			}
		}
		goto out;
	}
	if (ev->type != YAML_SCALAR_EVENT || is_null(ev)) {
		EV_ERR(l, ev, "'%s' must be %s", it->key, type_text(it->type));
		goto out;
	}
	rc = scalar_value(it, (const char *)ev->data.scalar.value, ev->data.scalar.length,
	                  ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, &iv, &sv, msg,
	                  sizeof(msg));
	if (rc == -1) {
		EV_ERR(l, ev, "%s", msg);
		goto out;
	}
	if (rc != 0) {
		ld_err(l, mark_line(ev->start_mark), mark_col(ev->start_mark), rc, "out of memory");
		goto out;
	}
	store_scalar(it, base, iv, sv);
out:
	yaml_event_delete(ev);
	return l->rc;
}

static size_t
tab_len(const struct gba_conf_item *tab)
{
	size_t n = 0;

	while (tab[n].key != NULL)
		n++;
	return n;
}

/* A mapping whose MAPPING_START is *start (not consumed here). */
static int
parse_map(struct ld *l, const struct gba_conf_item *tab, unsigned char *base,
          const yaml_event_t *start, const char *path)
{
	uint64_t seen = 0;
	size_t n = tab_len(tab), i;
	unsigned line = mark_line(start->start_mark), col = mark_col(start->start_mark);
	char k[KEY_SHOW_MAX + 8];

	if (n > GBA_CONF_MAX_ITEMS) {
		ld_err(l, line, col, GBA_EINTERNAL, "schema table too large");
		return l->rc;
	}
	for (;;) {
		yaml_event_t ev, val;
		const char *key;
		size_t klen;

		if (next(l, &ev) != 0)
			return l->rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			EV_ERR(l, &ev, "mapping keys must be scalars");
			yaml_event_delete(&ev);
			return l->rc;
		}
		key = (const char *)ev.data.scalar.value;
		klen = ev.data.scalar.length;
		for (i = 0; i < n; i++)
			if (strlen(tab[i].key) == klen && memcmp(tab[i].key, key, klen) == 0)
				break;
		show(k, sizeof(k), key, klen);
		if (i == n) {
			EV_ERR(l, &ev, "unknown key '%s%s'", path, k);
			yaml_event_delete(&ev);
			return l->rc;
		}
		if ((seen & ((uint64_t)1 << i)) != 0) {
			EV_ERR(l, &ev, "duplicate key '%s%s'", path, k);
			yaml_event_delete(&ev);
			return l->rc;
		}
		seen |= (uint64_t)1 << i;
		yaml_event_delete(&ev);
		if (next(l, &val) != 0)
			return l->rc;
		if (parse_value(l, &tab[i], base, &val, path) != 0)
			return l->rc;
	}
	return apply_defaults(l, tab, base, seen, line, col, path);
}

/* Split a comma-separated default and add each element. */
static int
default_value(struct ld *l, const struct gba_conf_item *it, unsigned char *base,
              unsigned line, unsigned col)
{
	const char *s = it->def, *e;
	char msg[400];
	int64_t iv = 0;
	char *sv = NULL;
	int rc;

	if (s == NULL)
		return 0;
	if (!is_list(it->type)) {
		rc = scalar_value(it, s, strlen(s), true, &iv, &sv, msg, sizeof(msg));
		if (rc != 0) {
			ld_err(l, line, col, rc == -1 ? GBA_EINTERNAL : rc, "default: %s", msg);
			return l->rc;
		}
		store_scalar(it, base, iv, sv);
		return 0;
	}
	while (*s != '\0') {
		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		sv = NULL;
		rc = scalar_value(it, s, (size_t)(e - s), true, &iv, &sv, msg, sizeof(msg));
		if (rc == 0)
			rc = list_add(it, base, iv, sv);
		if (rc != 0) {
			ld_err(l, line, col, rc == -1 ? GBA_EINTERNAL : rc, "default: %s", msg);
			return l->rc;
		}
		s = *e == ',' ? e + 1 : e;
	}
	return 0;
}

static int
apply_defaults(struct ld *l, const struct gba_conf_item *tab, unsigned char *base,
               uint64_t seen, unsigned line, unsigned col, const char *path)
{
	size_t i, n = tab_len(tab);
	char sub[PATH_MAX_LEN];

	for (i = 0; i < n; i++) {
		if ((seen & ((uint64_t)1 << i)) != 0)
			continue;
		if (tab[i].required) {
			ld_err(l, line, col, GBA_EINVAL, "missing required key '%s%s'", path,
			       tab[i].key);
			return l->rc;
		}
		if (tab[i].type == GBA_CONF_MAP) {
			snprintf(sub, sizeof(sub), "%s%s.", path, tab[i].key);
			if (apply_defaults(l, tab[i].sub, base + tab[i].offset, 0, line, col, sub) != 0)
				return l->rc;
		} else if (default_value(l, &tab[i], base, line, col) != 0) {
			return l->rc;
		}
	}
	return 0;
}

int
gba_conf_load_mem(const char *name, const void *buf, size_t len,
                  const struct gba_conf_item *schema, void *obj, char *err, size_t errlen)
{
	struct ld l;
	yaml_event_t ev;
	bool have_parser = false;

	memset(&l, 0, sizeof(l));
	l.name = name != NULL ? name : "<memory>";
	l.buf = buf;
	l.len = len;
	l.err = err;
	l.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (schema == NULL || obj == NULL || (buf == NULL && len > 0)) {
		ld_err(&l, 0, 0, GBA_EINVAL, "invalid arguments");
		goto out;
	}
	if (len > GBA_CONF_MAX_FILE) {
		ld_err(&l, 1, 1, GBA_ETOOBIG, "file is larger than %u bytes", GBA_CONF_MAX_FILE);
		goto out;
	}
	if (!yaml_parser_initialize(&l.p)) {
		ld_err(&l, 1, 1, GBA_ENOMEM, "out of memory");
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_string(&l.p, len > 0 ? buf : (const void *)"", len);
	yaml_parser_set_encoding(&l.p, YAML_UTF8_ENCODING);
	if (next(&l, &ev) != 0)
		goto out;
	yaml_event_delete(&ev);                        /* STREAM_START */
	if (next(&l, &ev) != 0)
		goto out;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		EV_ERR(&l, &ev, "empty file: expected a mapping");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	if (next(&l, &ev) != 0)
		goto out;
	if (ev.type != YAML_MAPPING_START_EVENT) {
		EV_ERR(&l, &ev, "the document must be a mapping");
		yaml_event_delete(&ev);
		goto out;
	}
	(void)parse_map(&l, schema, obj, &ev, "");
	yaml_event_delete(&ev);
	if (l.rc != 0)
		goto out;
	if (next(&l, &ev) != 0)                        /* DOCUMENT_END */
		goto out;
	yaml_event_delete(&ev);
	if (next(&l, &ev) != 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		EV_ERR(&l, &ev, "only one document is allowed");
	yaml_event_delete(&ev);
out:
	if (have_parser)
		yaml_parser_delete(&l.p);
	if (l.rc != 0 && schema != NULL && obj != NULL)
		gba_conf_clear(schema, obj);
	return l.rc;
}

int
gba_conf_read_file(const char *path, size_t cap, uint8_t **out, size_t *outlen,
                   char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rc = 0;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = GBA_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = GBA_EIO;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
		snprintf(err, errlen, "%s:1:1: file is larger than %zu bytes", path, cap);
		rc = GBA_ETOOBIG;
		goto out;
	}
	buf = gba_malloc(cap + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = GBA_ENOMEM;
		goto out;
	}
	/* Read up to cap + 1 octets: the file may grow after fstat. */
	for (;;) {
		r = read(fd, buf + len, cap + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = GBA_EIO;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > cap) {
			snprintf(err, errlen, "%s:1:1: file is larger than %zu bytes", path, cap);
			rc = GBA_ETOOBIG;
			goto out;
		}
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	gba_free(buf);
	if (fd >= 0)
		(void)close(fd);
	return rc;
}

int
gba_conf_load_file(const char *path, const struct gba_conf_item *schema, void *obj,
                   char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = gba_conf_read_file(path, GBA_CONF_MAX_FILE, &buf, &len, err, errlen);
	if (rc != 0)
		goto out;
	rc = gba_conf_load_mem(path, buf, len, schema, obj, err, errlen);
out:
	gba_free(buf);
	return rc;
}

void
gba_conf_clear(const struct gba_conf_item *schema, void *obj)
{
	unsigned char *base = obj;
	const struct gba_conf_item *it;
	size_t i;

	if (schema == NULL || obj == NULL)
		return;
	for (it = schema; it->key != NULL; it++) {
		void *p = base + it->offset;

		switch (it->type) {
		case GBA_CONF_STR:
			gba_free(*(char **)p);
			*(char **)p = NULL;
			break;
		case GBA_CONF_STRLIST: {
			struct gba_conf_strlist *sl = p;

			for (i = 0; i < sl->n; i++)
				gba_free(sl->v[i]);
			gba_free(sl->v);
			sl->v = NULL;
			sl->n = 0;
			break;
		}
		case GBA_CONF_INTLIST: {
			struct gba_conf_intlist *il = p;

			gba_free(il->v);
			il->v = NULL;
			il->n = 0;
			break;
		}
		case GBA_CONF_MAP:
			gba_conf_clear(it->sub, p);
			break;
		case GBA_CONF_INT:
			*(int64_t *)p = 0;
			break;
		case GBA_CONF_BOOL:
			*(bool *)p = false;
			break;
		case GBA_CONF_ENUM:
			*(int *)p = 0;
			break;
		case GBA_CONF_ENUMLIST:
			*(uint32_t *)p = 0;
			break;
		default:
			break;
		}
	}
}

static void
print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int
gba_conf_print(FILE *f, const struct gba_conf_item *schema, const void *obj,
               unsigned indent)
{
	const unsigned char *base = obj;
	const struct gba_conf_item *it;
	size_t i;
	int j;

	for (it = schema; it->key != NULL; it++) {
		const void *p = base + it->offset;

		if (it->type == GBA_CONF_STR && *(char *const *)p == NULL) {
			fprintf(f, "%*s# %s: (not set)\n", (int)indent, "", it->key);
			continue;
		}
		fprintf(f, "%*s%s:", (int)indent, "", it->key);
		switch (it->type) {
		case GBA_CONF_STR:
			fputc(' ', f);
			print_str(f, *(char *const *)p);
			break;
		case GBA_CONF_INT:
			fprintf(f, " %lld", (long long)*(const int64_t *)p);
			break;
		case GBA_CONF_BOOL:
			fprintf(f, " %s", *(const bool *)p ? "true" : "false");
			break;
		case GBA_CONF_ENUM:
			fprintf(f, " %s", it->names[*(const int *)p]);
			break;
		case GBA_CONF_ENUMLIST: {
			uint32_t bits = *(const uint32_t *)p;
			bool first = true;

			fputs(" [", f);
			for (j = 0; it->names[j] != NULL && j < 32; j++) {
				if ((bits & (1u << (unsigned)j)) == 0)
					continue;
				fprintf(f, "%s%s", first ? "" : ", ", it->names[j]);
				first = false;
			}
			fputc(']', f);
			break;
		}
		case GBA_CONF_STRLIST: {
			const struct gba_conf_strlist *sl = p;

			fputs(" [", f);
			for (i = 0; i < sl->n; i++) {
				if (i > 0)
					fputs(", ", f);
				print_str(f, sl->v[i]);
			}
			fputc(']', f);
			break;
		}
		case GBA_CONF_INTLIST: {
			const struct gba_conf_intlist *il = p;

			fputs(" [", f);
			for (i = 0; i < il->n; i++)
				fprintf(f, "%s%lld", i > 0 ? ", " : "", (long long)il->v[i]);
			fputc(']', f);
			break;
		}
		case GBA_CONF_MAP:
			fputc('\n', f);
			if (gba_conf_print(f, it->sub, p, indent + 2) != 0)
				return GBA_EIO;
			continue;
		default:
			break;
		}
		if (it->doc != NULL)
			fprintf(f, "    # %s", it->doc);
		fputc('\n', f);
	}
	return ferror(f) ? GBA_EIO : 0;
}
