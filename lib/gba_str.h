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

/* ASCII case-insensitive equality (header names, FQDNs, tokens). */
static inline int gba_str_caseeq(struct gba_str a, struct gba_str b)
{
	size_t i;

	if (a.len != b.len)
		return 0;
	for (i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

#endif
