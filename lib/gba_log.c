/* gba_log.c - stderr logging; one line per message, written at once. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_log.h"

/* -1: not yet initialised from the environment.  Races on first use
 * only ever store the same value. */
static volatile int log_level = -1;

static const char *const level_names[] = { "err", "warn", "notice", "info", "debug" };

void gba_log_set_level(enum gba_log_level level)
{
	log_level = (int)level;
}

static int current_level(void)
{
	const char *e;
	int l = log_level;

	if (l >= 0)
		return l;
	l = GBA_LOG_NOTICE;
	e = getenv("GBA_LOG_LEVEL");
	if (e != NULL && e[0] >= '0' && e[0] <= '4' && e[1] == '\0')
		l = e[0] - '0';
	log_level = l;
	return l;
}

void gba_log(enum gba_log_level level, const char *module, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, m;

	if ((int)level > current_level() || (unsigned)level > GBA_LOG_DEBUG)
		return;
	n = snprintf(line, sizeof(line), "gbacert[%s] %s: ", module != NULL ? module : "-",
	             level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n = (int)strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n] = '\n';
	(void)fwrite(line, 1, (size_t)n + 1, stderr);
}

const char *gba_log_id(const char *id, size_t len, char out[GBA_LOG_ID_LEN])
{
	uint8_t h[GBA_SHA256_LEN];

	if (id == NULL || gba_hash_fast(GBA_HASH_SHA256, id, len, h) != 0) {
		out[0] = '-';
		out[1] = '\0';
		return out;
	}
	gba_hex_encode(h, 4, out);
	return out;
}
