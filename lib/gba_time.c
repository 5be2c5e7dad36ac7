/* gba_time.c - civil-time conversions without gmtime/timegm. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "gba_err.h"
#include "gba_time.h"

#define SECS_PER_DAY 86400

int64_t gba_time_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * ((int64_t)m + (m > 2 ? -3 : 9)) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 253402300799 = 9999-12-31T23:59:59Z */
#define MAX_TIME INT64_C(253402300799)

struct civil {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday;
};

static int split(int64_t t, struct civil *c)
{
	int64_t days, rem;

	if (t < 0 || t > MAX_TIME)
		return GBA_EINVAL;
	days = t / SECS_PER_DAY;
	rem = t % SECS_PER_DAY;
	civil_from_days(days, &c->year, &c->mon, &c->mday);
	c->hour = (unsigned)(rem / 3600);
	c->min = (unsigned)(rem / 60 % 60);
	c->sec = (unsigned)(rem % 60);
	c->wday = (unsigned)((days + 4) % 7);  /* 1970-01-01 was a Thursday */
	return 0;
}

int gba_time_rfc3339(int64_t t, char out[GBA_TIME_RFC3339_LEN + 1])
{
	struct civil c;
	int n;

	if (split(t, &c) != 0)
		return GBA_EINVAL;
	n = snprintf(out, GBA_TIME_RFC3339_LEN + 1, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	             (unsigned)c.year, c.mon, c.mday, c.hour, c.min, c.sec);
	return n == (int)GBA_TIME_RFC3339_LEN ? 0 : GBA_EINTERNAL;
}

int gba_time_http(int64_t t, char out[GBA_TIME_HTTP_LEN + 1])
{
	static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mn[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct civil c;
	int n;

	if (split(t, &c) != 0)
		return GBA_EINVAL;
	n = snprintf(out, GBA_TIME_HTTP_LEN + 1, "%s, %02u %s %04u %02u:%02u:%02u GMT",
	             wd[c.wday], c.mday, mn[c.mon - 1], (unsigned)c.year, c.hour, c.min, c.sec);
	return n == (int)GBA_TIME_HTTP_LEN ? 0 : GBA_EINTERNAL;
}

static int digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return GBA_ESYNTAX;
		*v = *v * 10u + (unsigned)(s[i] - '0');
	}
	return 0;
}

int gba_time_parse_rfc3339(const char *s, size_t len, int64_t *t)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
	size_t pos = 19;
	int64_t v, off = 0;

	if (len < 20 || len > 64)
		return GBA_ESYNTAX;
	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':')
		return GBA_ESYNTAX;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return GBA_ESYNTAX;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    se > 60)
		return GBA_ESYNTAX;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return GBA_ESYNTAX;
	if (s[pos] == '.') {
		pos++;
		if (pos >= len || s[pos] < '0' || s[pos] > '9')
			return GBA_ESYNTAX;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9')
			pos++;
	}
	if (pos >= len)
		return GBA_ESYNTAX;
	if (s[pos] == 'Z' || s[pos] == 'z') {
		pos++;
	} else if (s[pos] == '+' || s[pos] == '-') {
		if (len - pos != 6 || s[pos + 3] != ':' || digits(s + pos + 1, 2, &oh) ||
		    digits(s + pos + 4, 2, &om) || oh > 23 || om > 59)
			return GBA_ESYNTAX;
		off = (int64_t)oh * 3600 + (int64_t)om * 60;
		if (s[pos] == '-')
			off = -off;
		pos += 6;
	} else {
		return GBA_ESYNTAX;
	}
	if (pos != len)
		return GBA_ESYNTAX;
	if (se == 60)
		se = 59;  /* a leap second is the last second of its minute */
	v = days_from_civil((int64_t)y, mo, d) * SECS_PER_DAY + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + (int64_t)se - off;
	if (v < 0)
		return GBA_ESYNTAX;
	*t = v;
	return 0;
}
