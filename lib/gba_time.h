/*
 * gba_time.h - UTC seconds and their text forms.
 *
 * Times are int64_t seconds since 1970-01-01T00:00:00Z.  The formats
 * are the ones the GBA interfaces use: RFC 3339 / xs:dateTime in UTC
 * ("2026-01-31T12:00:00Z", the Ub <lifetime> and the Zn DateTime) and
 * the HTTP IMF-fixdate ("Sat, 31 Jan 2026 12:00:00 GMT").
 */
#ifndef GBA_TIME_H
#define GBA_TIME_H

#include <stddef.h>
#include <stdint.h>

#define GBA_TIME_RFC3339_LEN 20u   /* without the NUL */
#define GBA_TIME_HTTP_LEN    29u

/* The wall clock (CLOCK_REALTIME), in seconds. */
int64_t gba_time_now(void);

/* Format t (year 1970..9999) as "YYYY-MM-DDThh:mm:ssZ" into out (21
 * bytes).  GBA_EINVAL when t is out of range. */
int gba_time_rfc3339(int64_t t, char out[GBA_TIME_RFC3339_LEN + 1]);

/* Format t as an IMF-fixdate into out (30 bytes). */
int gba_time_http(int64_t t, char out[GBA_TIME_HTTP_LEN + 1]);

/*
 * Parse an RFC 3339 date-time of exactly len characters: "Z" or a
 * numeric offset, optional fractional seconds (dropped).  Returns 0
 * and *t, or GBA_ESYNTAX.
 */
int gba_time_parse_rfc3339(const char *s, size_t len, int64_t *t);

#endif
