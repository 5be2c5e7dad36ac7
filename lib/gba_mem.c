/* gba_mem.c - allocator wrapper with fault injection for tests. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gba_mem.h"

/*
 * Fault injection state.  Only tests set it, and only from one thread,
 * so plain variables are enough; production code never reads a value
 * other than -1 for fail_budget.
 */
static long fail_budget = -1;
static long alloc_count;

static int should_fail(void)
{
	alloc_count++;
	if (fail_budget < 0)
		return 0;
	if (fail_budget == 0)
		return 1;
	fail_budget--;
	return 0;
}

void gba_mem_fail_after(long n)
{
	fail_budget = n;
	alloc_count = 0;
}

long gba_mem_fail_reset(void)
{
	long n = alloc_count;

	fail_budget = -1;
	alloc_count = 0;
	return n;
}

void *gba_malloc(size_t size)
{
	if (should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

void *gba_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if (should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *gba_realloc(void *ptr, size_t size)
{
	if (should_fail())
		return NULL;
	return realloc(ptr, size ? size : 1);
}

void *gba_reallocarray(void *ptr, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return gba_realloc(ptr, n * size);
}

void gba_free(void *ptr)
{
	free(ptr);
}

char *gba_strndup(const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = gba_malloc(len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
