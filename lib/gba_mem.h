/*
 * gba_mem.h - the one allocator.
 *
 * Every allocation in lib/, the daemons and the generated asn1c runtime
 * (through gen/patches/) goes through these functions.  That lets tests
 * make the Nth allocation fail and check that every caller copes.
 *
 * Semantics are those of malloc/calloc/realloc/free, with two additions:
 * gba_calloc and gba_reallocarray check n * size for overflow, and every
 * function returns NULL (never aborts) when memory is short.
 */
#ifndef GBA_MEM_H
#define GBA_MEM_H

#include <stddef.h>

void *gba_malloc(size_t size);
void *gba_calloc(size_t n, size_t size);
void *gba_realloc(void *ptr, size_t size);
void *gba_reallocarray(void *ptr, size_t n, size_t size);
void gba_free(void *ptr);

/* Copy of len bytes plus a terminating NUL; caller frees. */
char *gba_strndup(const char *s, size_t len);

/*
 * Fault injection for tests: after n further successful allocations,
 * every allocation fails until gba_mem_fail_reset().  n < 0 disables.
 * Returns how many allocations were made since the last call.
 */
void gba_mem_fail_after(long n);
long gba_mem_fail_reset(void);

#endif
