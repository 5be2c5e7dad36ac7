/*
 * gba_store.c - the parts of gba_store.h that do not touch SQLite: the
 * record clear functions and the identity rule.
 */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_store.h"

void gba_subscriber_clear(struct gba_subscriber *s)
{
	if (s == NULL)
		return;
	gba_free(s->guss_json);
	gba_wipe(s, sizeof(*s));
	s->guss_json = NULL;
}

void gba_bootstrap_clear(struct gba_bootstrap *b)
{
	if (b == NULL)
		return;
	gba_free(b->guss_json);
	gba_wipe(b, sizeof(*b));
	b->guss_json = NULL;
}

void gba_challenge_clear(struct gba_challenge *c)
{
	if (c == NULL)
		return;
	gba_wipe(c, sizeof(*c));
}

int gba_store_impi_check(const char *impi)
{
	size_t i, len;

	if (impi == NULL)
		return GBA_EINVAL;
	len = strnlen(impi, GBA_MAX_IMPI_LEN + 1);
	if (len == 0 || len > GBA_MAX_IMPI_LEN)
		return GBA_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)impi[i];

		if (c < 0x21 || c > 0x7e)
			return GBA_EINVAL;
	}
	return 0;
}
