/*
 * gba_secret.h - a small key held by value, wiped when cleared or freed.
 *
 * Used for Ks, Ks_NAF, CK/IK, RES and the subscriber keys.  Logging
 * functions take no gba_secret argument, so a secret cannot be printed
 * by accident; compare secrets with gba_secret_equal (constant time over
 * the public length).
 */
#ifndef GBA_SECRET_H
#define GBA_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define GBA_SECRET_MAX 64u

struct gba_secret {
	size_t len;
	uint8_t b[GBA_SECRET_MAX];
};

/* Copy len bytes in; GBA_ETOOBIG (s cleared) if len > GBA_SECRET_MAX. */
int gba_secret_set(struct gba_secret *s, const void *p, size_t len);
/* Wipe the value and set len to 0. */
void gba_secret_clear(struct gba_secret *s);
/* 1 when both have the same length and bytes, 0 otherwise. */
int gba_secret_equal(const struct gba_secret *a, const struct gba_secret *b);

/* Heap variants: gba_secret_new returns a zeroed secret or NULL;
 * gba_secret_free wipes and frees (NULL accepted). */
struct gba_secret *gba_secret_new(void);
void gba_secret_free(struct gba_secret *s);

#endif
