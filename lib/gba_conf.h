/*
 * gba_conf.h - the one YAML loader, driven by schema tables.
 *
 * A schema is an array of struct gba_conf_item ended by an item whose key
 * is NULL.  Each item names a key, its type, its range, its default, and
 * where the value goes in a C struct (offset).  The loader is strict
 * (STYLE.md b8): unknown keys, wrong types, out-of-range values, duplicate
 * keys, anchors, aliases, tags, several documents and files larger than
 * GBA_CONF_MAX_FILE are all errors.  The first error is written to the
 * caller's buffer as "name:line:column: message" (1-based, from libyaml's
 * marks) and the load stops there.
 *
 * Storage per type (at obj + offset):
 *   GBA_CONF_STR      char *                  (owned; NULL if absent and
 *                                              there is no default)
 *   GBA_CONF_INT      int64_t                 min..max
 *   GBA_CONF_BOOL     bool                    plain true/false only
 *   GBA_CONF_ENUM     int                     index into names[]
 *   GBA_CONF_ENUMLIST uint32_t                bit i set for names[i]
 *   GBA_CONF_STRLIST  struct gba_conf_strlist (owned)
 *   GBA_CONF_INTLIST  struct gba_conf_intlist (owned), elements min..max
 *   GBA_CONF_MAP      an embedded struct described by sub[]
 * Strings are never empty; max is their maximum length (0:
 * GBA_CONF_MAX_STR); min is unused.  INT and INTLIST use min..max.
 * Lists hold at most GBA_CONF_MAX_LIST elements; a repeated ENUMLIST name
 * is an error.  Defaults are text ("365", "true", "ec-p256,ec-p384");
 * list defaults are comma-separated, NULL means empty or absent.
 *
 * <yaml.h> is included by gba_conf.c only.
 */
#ifndef GBA_CONF_H
#define GBA_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GBA_CONF_MAX_FILE  (64u * 1024u)   /* octets, checked before parsing */
#define GBA_CONF_MAX_STR   1024u
#define GBA_CONF_MAX_LIST  64u
#define GBA_CONF_MAX_ITEMS 64u             /* items in one table */
#define GBA_CONF_ERR_LEN   512u            /* a comfortable errbuf size */

enum gba_conf_type {
	GBA_CONF_STR,
	GBA_CONF_INT,
	GBA_CONF_BOOL,
	GBA_CONF_ENUM,
	GBA_CONF_ENUMLIST,
	GBA_CONF_STRLIST,
	GBA_CONF_INTLIST,
	GBA_CONF_MAP
};

struct gba_conf_strlist {
	char **v;
	size_t n;
};

struct gba_conf_intlist {
	int64_t *v;
	size_t n;
};

/* Where a value was found (1-based); line 0 when it came from a default. */
struct gba_conf_mark {
	unsigned line, col;
};

/*
 * Extra check for a string (or each string of a list): 0 when s is
 * acceptable, otherwise non-zero with a short reason in msg.
 */
typedef int (*gba_conf_check_cb)(const char *s, char *msg, size_t msglen);

struct gba_conf_item {
	const char *key;
	enum gba_conf_type type;
	size_t offset;
	int64_t min, max;
	const char *def;
	bool required;
	const char *const *names;          /* ENUM, ENUMLIST: NULL-terminated */
	const struct gba_conf_item *sub;   /* MAP */
	gba_conf_check_cb check;           /* STR, STRLIST: optional */
	bool has_mark;                     /* store the value's mark ... */
	size_t mark_offset;                /* ... at obj + mark_offset */
	const char *doc;                   /* one line, for printing */
};

/*
 * Parse len octets of YAML named name (for messages) into obj, which must
 * be zero-initialised.  Returns 0; GBA_ETOOBIG (over GBA_CONF_MAX_FILE),
 * GBA_EINVAL (any schema or YAML error), GBA_ENOMEM.  On error err holds
 * the message and obj has been cleared; on success the caller owns what
 * obj points to and releases it with gba_conf_clear().
 */
int gba_conf_load_mem(const char *name, const void *buf, size_t len,
                      const struct gba_conf_item *schema, void *obj,
                      char *err, size_t errlen);

/*
 * Read a whole file of at most cap octets (the size is checked before
 * anything is parsed).  On 0 the caller gba_free()s *out.  GBA_ETOOBIG,
 * GBA_EIO, GBA_ENOMEM otherwise, with a message in err.
 */
int gba_conf_read_file(const char *path, size_t cap, uint8_t **out,
                       size_t *outlen, char *err, size_t errlen);

/* gba_conf_read_file(path, GBA_CONF_MAX_FILE) + gba_conf_load_mem(). */
int gba_conf_load_file(const char *path, const struct gba_conf_item *schema,
                       void *obj, char *err, size_t errlen);

/* Free everything the loader stored in obj and zero it.  NULL-safe. */
void gba_conf_clear(const struct gba_conf_item *schema, void *obj);

/*
 * Write obj as YAML (every key, defaults filled in), indented by indent
 * spaces.  Strings are double-quoted with \" \\ and \xNN escapes.
 * Returns 0 or GBA_EIO.
 */
int gba_conf_print(FILE *file, const struct gba_conf_item *schema,
                   const void *obj, unsigned indent);

#endif
