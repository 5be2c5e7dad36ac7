/*
 * gba_log.h - minimal logging to stderr with a module tag.
 *
 * Never pass secrets (Ks, Ks_NAF, CK, IK, RES/XRES, passwords, HA1) or
 * raw bodies.  Identities (IMPI, B-TID) go through gba_log_id(), which
 * gives the first 8 hex digits of their SHA-256.
 */
#ifndef GBA_LOG_H
#define GBA_LOG_H

#include <stddef.h>

enum gba_log_level {
	GBA_LOG_ERR,
	GBA_LOG_WARN,
	GBA_LOG_NOTICE,
	GBA_LOG_INFO,
	GBA_LOG_DEBUG
};

/* Messages above this level are dropped (default GBA_LOG_NOTICE; the
 * environment variable GBA_LOG_LEVEL=0..4 overrides it at first use). */
void gba_log_set_level(enum gba_log_level level);

void gba_log(enum gba_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define gba_log_err(mod, ...)    gba_log(GBA_LOG_ERR, (mod), __VA_ARGS__)
#define gba_log_warn(mod, ...)   gba_log(GBA_LOG_WARN, (mod), __VA_ARGS__)
#define gba_log_notice(mod, ...) gba_log(GBA_LOG_NOTICE, (mod), __VA_ARGS__)
#define gba_log_info(mod, ...)   gba_log(GBA_LOG_INFO, (mod), __VA_ARGS__)
#define gba_log_debug(mod, ...)  gba_log(GBA_LOG_DEBUG, (mod), __VA_ARGS__)

/* Short, stable tag for an identity: 8 hex digits of SHA-256(id) and a
 * NUL.  "-" when hashing fails. */
#define GBA_LOG_ID_LEN 9u
const char *gba_log_id(const char *id, size_t len, char out[GBA_LOG_ID_LEN]);

#endif
