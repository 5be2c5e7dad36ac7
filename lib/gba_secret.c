/* gba_secret.c - wiped-on-free key holder. */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_secret.h"

int gba_secret_set(struct gba_secret *s, const void *p, size_t len)
{
	gba_secret_clear(s);
	if (len > GBA_SECRET_MAX)
		return GBA_ETOOBIG;
	if (len > 0)
		memcpy(s->b, p, len);
	s->len = len;
	return 0;
}

void gba_secret_clear(struct gba_secret *s)
{
	gba_wipe(s->b, sizeof(s->b));
	s->len = 0;
}

int gba_secret_equal(const struct gba_secret *a, const struct gba_secret *b)
{
	if (a->len != b->len)
		return 0;
	return gba_ct_equal(a->b, b->b, a->len);
}

struct gba_secret *gba_secret_new(void)
{
	return gba_calloc(1, sizeof(struct gba_secret));
}

void gba_secret_free(struct gba_secret *s)
{
	if (s == NULL)
		return;
	gba_secret_clear(s);
	gba_free(s);
}
