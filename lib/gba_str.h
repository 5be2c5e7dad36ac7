/* gba_str.h - a borrowed, length-counted string (not NUL-terminated). */
#ifndef GBA_STR_H
#define GBA_STR_H

#include <stddef.h>
#include <string.h>

struct gba_str {
	const char *p;   /* borrowed; may be NULL when len == 0 */
	size_t len;
};

#define GBA_STR_LIT(s) ((struct gba_str){ (s), sizeof(s) - 1 })

static inline struct gba_str gba_str_c(const char *s)
{
	struct gba_str r = { s, s != NULL ? strlen(s) : 0 };

	return r;
}

static inline int gba_str_eq(struct gba_str a, struct gba_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

#endif
