/*
 * gba_audit.c - the hash-chained JSON Lines audit sink (gba_audit.h,
 * doc/audit.md).
 *
 * JSON is written by hand with a bounded writer: the keys are fixed,
 * values are escaped per RFC 8259 (control characters, quote and
 * backslash escaped; invalid UTF-8 replaced by U+FFFD) and capped at
 * GBA_AUDIT_VALUE_MAX bytes.  jansson stays in gba_zn.c alone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gba_audit.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"

#define MOD "audit"
#define ROTATE_MAX 100000u      /* path.1 .. path.99999 */
#define ANCHOR_MAX 128u
#define PATH_MAX_AUDIT_TMP 4096u   /* path plus ".anchor.tmp" or ".N" */

struct gba_audit {
	pthread_mutex_t lock;
	char *path;
	char *anchor;               /* path.anchor */
	int fd;
	unsigned flags;
	int broken;                 /* a torn write or failed fdatasync */
	uint64_t seq;               /* of the last record; 0 = none yet */
	char prev[GBA_AUDIT_HASH_HEX + 1];
	char line[GBA_AUDIT_LINE_MAX];
};

static const char zero_hash[GBA_AUDIT_HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

const char *gba_audit_type_name(enum gba_audit_type t)
{
	switch (t) {
	case GBA_AUDIT_BOOTSTRAP:        return "bootstrap";
	case GBA_AUDIT_ZN_KEY:           return "zn_key";
	case GBA_AUDIT_ENROLL_REQUEST:   return "enroll_request";
	case GBA_AUDIT_ISSUE:            return "issue";
	case GBA_AUDIT_DENY:             return "deny";
	case GBA_AUDIT_PENDING:          return "pending";
	case GBA_AUDIT_REVOKE:           return "revoke";
	case GBA_AUDIT_CCM_QUEUED:       return "ccm_queued";
	case GBA_AUDIT_CCM_DELIVERED:    return "ccm_delivered";
	case GBA_AUDIT_CCM_ACKED:        return "ccm_acked";
	case GBA_AUDIT_CCM_EXPIRED:      return "ccm_expired";
	case GBA_AUDIT_POLICY_LOADED:    return "policy_loaded";
	case GBA_AUDIT_POLICY_REJECTED:  return "policy_rejected";
	case GBA_AUDIT_START:            return "start";
	case GBA_AUDIT_STOP:             return "stop";
	case GBA_AUDIT_ROTATE:           return "rotate";
	case GBA_AUDIT_HOLD:             return "hold";
	case GBA_AUDIT_UNHOLD:           return "unhold";
	}
	return NULL;
}

const char *gba_audit_outcome_name(enum gba_audit_outcome o)
{
	switch (o) {
	case GBA_AUDIT_OK:     return "ok";
	case GBA_AUDIT_DENIED: return "denied";
	case GBA_AUDIT_ERROR:  return "error";
	}
	return NULL;
}

/* ---- bounded writer ---- */

struct jw {
	char *p;
	size_t len, cap;
	int err;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (n > w->cap - w->len) {
		w->err = GBA_ETOOBIG;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;          /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;          /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;          /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;          /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string of at most GBA_AUDIT_VALUE_MAX input bytes. */
static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, lim = n, cl;
	int cut = 0;

	if (n > GBA_AUDIT_VALUE_MAX) {
		lim = GBA_AUDIT_VALUE_MAX - 3;
		cut = 1;
	}
	jw_raw(w, "\"", 1);
	while (i < lim) {
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

		cl = utf8_len(u + i, n - i);
		if (cl == 0) {
			jw_lit(w, "\\ufffd");
			i++;
			continue;
		}
		if (cl > 1) {
			if (i + cl > lim)
				break;      /* never cut inside a character */
			jw_raw(w, s + i, cl);
			i += cl;
			continue;
		}
		switch (u[i]) {
		case '"':  jw_raw(w, "\\\"", 2); break;
		case '\\': jw_raw(w, "\\\\", 2); break;
		case '\n': jw_raw(w, "\\n", 2); break;
		case '\r': jw_raw(w, "\\r", 2); break;
		case '\t': jw_raw(w, "\\t", 2); break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f) {
				esc[4] = hex[u[i] >> 4];
				esc[5] = hex[u[i] & 0xf];
				jw_raw(w, esc, sizeof(esc));
			} else {
				jw_raw(w, s + i, 1);
			}
		}
		i++;
	}
	if (cut)
		jw_raw(w, "...", 3);
	jw_raw(w, "\"", 1);
}

static void jw_field(struct jw *w, const char *key, const char *val)
{
	if (val == NULL)
		return;
	jw_raw(w, ",\"", 2);
	jw_lit(w, key);
	jw_raw(w, "\":", 2);
	jw_str(w, val);
}

/* "sha256:" + 16 hex digits of SHA-256(id), or the id in clear. */
static void jw_id(struct jw *w, const char *key, const char *id, unsigned flags)
{
	uint8_t d[GBA_SHA256_LEN];
	char hex[2 * GBA_SHA256_LEN + 1], v[8 + GBA_AUDIT_ID_HEX];

	if (id == NULL)
		return;
	if (flags & GBA_AUDIT_CLEAR_IDS) {
		jw_field(w, key, id);
		return;
	}
	if (gba_hash_fast(GBA_HASH_SHA256, id, strlen(id), d) != 0) {
		if (!w->err)
			w->err = GBA_ECRYPTO;
		return;
	}
	gba_hex_encode(d, sizeof(d), hex);
	memcpy(v, "sha256:", 7);
	memcpy(v + 7, hex, GBA_AUDIT_ID_HEX);
	v[7 + GBA_AUDIT_ID_HEX] = '\0';
	jw_field(w, key, v);
}

/* RFC 3339 UTC with milliseconds: 2026-01-31T12:00:00.123Z */
static int now_ms(char out[GBA_TIME_RFC3339_LEN + 5])
{
	struct timespec ts;
	char s[GBA_TIME_RFC3339_LEN + 1];
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return GBA_EIO;
	if (gba_time_rfc3339((int64_t)ts.tv_sec, s) != 0)
		return GBA_EINVAL;
	s[GBA_TIME_RFC3339_LEN - 1] = '\0';     /* drop the Z */
	n = snprintf(out, GBA_TIME_RFC3339_LEN + 5, "%s.%03ldZ", s, ts.tv_nsec / 1000000L);
	return n == (int)GBA_TIME_RFC3339_LEN + 4 ? 0 : GBA_EINTERNAL;
}

/* The record line (without newline) for seq after prev, into a->line. */
static int build_line(struct gba_audit *a, const struct gba_audit_event *ev, uint64_t seq,
                      size_t *len)
{
	struct jw w = { a->line, 0, sizeof(a->line) - 1, 0 };
	char num[32], tm[GBA_TIME_RFC3339_LEN + 5];
	const char *type = gba_audit_type_name(ev->type);
	const char *oc = gba_audit_outcome_name(ev->outcome);
	int ret;

	if (type == NULL || oc == NULL)
		return GBA_EINVAL;
	ret = now_ms(tm);
	if (ret < 0)
		return ret;
	snprintf(num, sizeof(num), "%" PRIu64, seq);
	jw_lit(&w, "{\"seq\":");
	jw_lit(&w, num);
	jw_field(&w, "time", tm);
	jw_field(&w, "event", type);
	jw_field(&w, "outcome", oc);
	jw_field(&w, "reason", ev->reason);
	jw_field(&w, "peer", ev->peer);
	jw_field(&w, "app", ev->app);
	jw_id(&w, "impi", ev->impi, a->flags);
	jw_id(&w, "btid", ev->btid, a->flags);
	jw_field(&w, "policy", ev->policy);
	jw_field(&w, "policy_sha256", ev->policy_sha256);
	jw_field(&w, "serial", ev->serial);
	jw_field(&w, "subject", ev->subject);
	jw_field(&w, "ccm", ev->ccm);
	jw_field(&w, "prev", a->prev);
	jw_raw(&w, "}", 1);
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

/* ---- line primitives (shared with the verifier) ---- */

int gba_audit_line_hash(const char *line, size_t len, char hex[GBA_AUDIT_HASH_HEX + 1])
{
	uint8_t d[GBA_SHA256_LEN];
	int ret = gba_hash_fast(GBA_HASH_SHA256, line, len, d);

	if (ret < 0)
		return ret;
	gba_hex_encode(d, sizeof(d), hex);
	return 0;
}

/* A JSON string at s[*i] (strict: escapes as RFC 8259, no raw control
 * characters, valid UTF-8). */
static int scan_string(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k, cl;

	if (*i >= len || s[*i] != '"')
		return GBA_ESYNTAX;
	(*i)++;
	while (*i < len) {
		if (u[*i] == '"') {
			(*i)++;
			return 0;
		}
		if (u[*i] < 0x20)
			return GBA_ESYNTAX;
		if (u[*i] == '\\') {
			if (*i + 1 >= len)
				return GBA_ESYNTAX;
			if (strchr("\"\\/bfnrt", s[*i + 1]) != NULL && s[*i + 1] != '\0') {
				*i += 2;
				continue;
			}
			if (s[*i + 1] != 'u' || *i + 6 > len)
				return GBA_ESYNTAX;
			for (k = 2; k < 6; k++)
				if (strchr("0123456789abcdefABCDEF", s[*i + k]) == NULL ||
				    s[*i + k] == '\0')
					return GBA_ESYNTAX;
			*i += 6;
			continue;
		}
		cl = utf8_len(u + *i, len - *i);
		if (cl == 0)
			return GBA_ESYNTAX;
		*i += cl;
	}
	return GBA_ESYNTAX;
}

static int is_hex64(const char *p)
{
	size_t k;

	for (k = 0; k < GBA_AUDIT_HASH_HEX; k++)
		if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')))
			return 0;
	return 1;
}

int gba_audit_line_parse(const char *line, size_t len, uint64_t *seq,
                         char prev[GBA_AUDIT_HASH_HEX + 1])
{
	static const char head[] = "{\"seq\":";
	static const char tail[] = ",\"prev\":\"";
	const size_t tl = sizeof(tail) - 1, hl = sizeof(head) - 1;
	uint64_t v = 0;
	size_t i;

	if (len < hl + 1 + tl + GBA_AUDIT_HASH_HEX + 2 || memcmp(line, head, hl) != 0)
		return GBA_ESYNTAX;
	/* seq: an unsigned decimal without leading zeros */
	i = hl;
	if (line[i] < '1' || line[i] > '9')
		return GBA_ESYNTAX;
	while (i < len && line[i] >= '0' && line[i] <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return GBA_ESYNTAX;
		v = v * 10 + (uint64_t)(line[i] - '0');
		i++;
	}
	/* then flat "key":"string" members up to the final "prev" */
	while (i < len && line[i] == ',') {
		i++;
		if (scan_string(line, len, &i) != 0 || i >= len || line[i] != ':')
			return GBA_ESYNTAX;
		i++;
		if (scan_string(line, len, &i) != 0)
			return GBA_ESYNTAX;
	}
	if (i != len - 1 || line[i] != '}')
		return GBA_ESYNTAX;
	/* the last member is "prev" with 64 lower-case hex digits */
	i = len - 2 - GBA_AUDIT_HASH_HEX - tl;
	if (memcmp(line + i, tail, tl) != 0 || !is_hex64(line + i + tl) ||
	    line[len - 2] != '"')
		return GBA_ESYNTAX;
	memcpy(prev, line + i + tl, GBA_AUDIT_HASH_HEX);
	prev[GBA_AUDIT_HASH_HEX] = '\0';
	*seq = v;
	return 0;
}

/* ---- files ---- */

/* Read the last line of fd (size bytes) into a->line; *len = 0 when the
 * file is empty.  GBA_ESYNTAX for a tail without newline or a last line
 * longer than the cap. */
static int read_last_line(struct gba_audit *a, off_t size, size_t *len)
{
	size_t want, got = 0, start, end;
	off_t off;
	ssize_t r;

	*len = 0;
	if (size == 0)
		return 0;
	want = (size_t)size < sizeof(a->line) ? (size_t)size : sizeof(a->line);
	off = size - (off_t)want;
	while (got < want) {
		r = pread(a->fd, a->line + got, want - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return GBA_EIO;
		got += (size_t)r;
	}
	if (a->line[want - 1] != '\n')
		return GBA_ESYNTAX;     /* torn last write */
	end = want - 1;
	start = end;
	while (start > 0 && a->line[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0)
		return GBA_ESYNTAX;     /* longer than any line we write */
	memmove(a->line, a->line + start, end - start);
	*len = end - start;
	return 0;
}

int gba_audit_anchor_read(const char *path, uint64_t *seq, char hash[GBA_AUDIT_HASH_HEX + 1])
{
	char buf[ANCHOR_MAX], *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned long long v;

	if (fd < 0)
		return errno == ENOENT ? 0 : GBA_EIO;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return GBA_EIO;
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || *end != ' ' || (size_t)n != (size_t)(end - buf) + 2 +
	    GBA_AUDIT_HASH_HEX || !is_hex64(end + 1) || end[1 + GBA_AUDIT_HASH_HEX] != '\n')
		return GBA_ESYNTAX;
	*seq = (uint64_t)v;
	memcpy(hash, end + 1, GBA_AUDIT_HASH_HEX);
	hash[GBA_AUDIT_HASH_HEX] = '\0';
	return 1;
}

static int anchor_write(const struct gba_audit *a)
{
	char tmp[PATH_MAX_AUDIT_TMP], buf[ANCHOR_MAX];
	int fd, n, ret = GBA_EIO;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", a->anchor);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return GBA_ETOOBIG;
	n = snprintf(buf, sizeof(buf), "%" PRIu64 " %s\n", a->seq, a->prev);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return GBA_EINTERNAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return GBA_EIO;
	if (write(fd, buf, (size_t)n) == n && fsync(fd) == 0)
		ret = 0;
	if (close(fd) != 0)
		ret = GBA_EIO;
	if (ret == 0 && rename(tmp, a->anchor) != 0)
		ret = GBA_EIO;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

/* Open a->path and set seq/prev from its last line or the anchor. */
static int open_file(struct gba_audit *a)
{
	struct stat st;
	uint64_t aseq = 0, seq;
	char ahash[GBA_AUDIT_HASH_HEX + 1], prev[GBA_AUDIT_HASH_HEX + 1];
	size_t len = 0;
	int ret, has_anchor;

	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		gba_log_err(MOD, "cannot open %s: %s", a->path, strerror(errno));
		return GBA_EIO;
	}
	if (fstat(a->fd, &st) != 0)
		return GBA_EIO;
	/*
	 * One writer per file: a second process appending its own chain to
	 * the same file would break both.  Several daemons sharing a store
	 * each keep their own audit log.
	 */
	if (S_ISREG(st.st_mode) && flock(a->fd, LOCK_EX | LOCK_NB) != 0) {
		gba_log_err(MOD, "%s is in use by another process: %s", a->path,
		            strerror(errno));
		return GBA_EIO;
	}
	has_anchor = gba_audit_anchor_read(a->anchor, &aseq, ahash);
	if (has_anchor < 0) {
		gba_log_err(MOD, "%s: unreadable anchor", a->anchor);
		return has_anchor;
	}
	a->seq = 0;
	memcpy(a->prev, zero_hash, sizeof(a->prev));
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		int rfd = open(a->path, O_RDONLY | O_CLOEXEC);

		if (rfd < 0)
			return GBA_EIO;
		{
			int wfd = a->fd;

			a->fd = rfd;
			ret = read_last_line(a, st.st_size, &len);
			a->fd = wfd;
		}
		close(rfd);
		if (ret == 0)
			ret = gba_audit_line_parse(a->line, len, &seq, prev);
		if (ret == 0)
			ret = gba_audit_line_hash(a->line, len, a->prev);
		if (ret < 0) {
			gba_log_err(MOD, "%s: the last line is not a complete audit record; "
			            "inspect the file (nothing appended)", a->path);
			return ret == GBA_EIO || ret == GBA_ECRYPTO ? ret : GBA_ESYNTAX;
		}
		a->seq = seq;
		if (has_anchor && (aseq > seq || (aseq == seq &&
		                                  strcmp(ahash, a->prev) != 0))) {
			gba_log_err(MOD, "%s: the anchor (seq %" PRIu64 ") is ahead of the file "
			            "(seq %" PRIu64 "): records were removed", a->path, aseq, seq);
			return GBA_ESYNC;
		}
	} else if (has_anchor) {
		a->seq = aseq;
		memcpy(a->prev, ahash, sizeof(a->prev));
	}
	return 0;
}

int gba_audit_open(struct gba_audit **out, const char *path, unsigned flags)
{
	struct gba_audit *a = NULL;
	size_t n;
	int ret = GBA_ENOMEM;

	*out = NULL;
	if (path == NULL || path[0] == '\0' || (flags & ~(GBA_AUDIT_CLEAR_IDS | GBA_AUDIT_SYSLOG)) != 0)
		return GBA_EINVAL;
	n = strlen(path);
	if (n > PATH_MAX_AUDIT_TMP - 16)
		return GBA_ETOOBIG;
	a = gba_calloc(1, sizeof(*a));
	if (a == NULL)
		return GBA_ENOMEM;
	a->fd = -1;
	a->flags = flags;
	a->path = gba_strndup(path, n);
	a->anchor = gba_malloc(n + sizeof(".anchor"));
	if (a->path == NULL || a->anchor == NULL)
		goto out;
	memcpy(a->anchor, path, n);
	memcpy(a->anchor + n, ".anchor", sizeof(".anchor"));
	if (pthread_mutex_init(&a->lock, NULL) != 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	ret = open_file(a);
	if (ret < 0) {
		pthread_mutex_destroy(&a->lock);
		goto out;
	}
	*out = a;
	a = NULL;
out:
	if (a != NULL) {
		if (a->fd >= 0)
			close(a->fd);
		gba_free(a->path);
		gba_free(a->anchor);
		gba_free(a);
	}
	return ret;
}

/* Append under the lock. */
static int emit_locked(struct gba_audit *a, const struct gba_audit_event *ev)
{
	size_t len = 0;
	ssize_t w;
	int ret;

	if (a->broken)
		return GBA_EIO;
	if (a->seq == UINT64_MAX)
		return GBA_ETOOBIG;
	ret = build_line(a, ev, a->seq + 1, &len);
	if (ret < 0)
		return ret;
	a->line[len] = '\n';
	/* One write() of the whole line; O_APPEND places it at the end. */
	do {
		w = write(a->fd, a->line, len + 1);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)(len + 1)) {
		if (w > 0)
			a->broken = 1;      /* a torn line: nothing more may follow */
		gba_log_err(MOD, "write to %s failed: %s", a->path,
		            w < 0 ? strerror(errno) : "short write");
		return GBA_EIO;
	}
	if (fdatasync(a->fd) != 0 && errno != EINVAL) {
		/* After a failed sync the page cache state is unknown. */
		a->broken = 1;
		gba_log_err(MOD, "fdatasync on %s failed: %s", a->path, strerror(errno));
		return GBA_EIO;
	}
	ret = gba_audit_line_hash(a->line, len, a->prev);
	if (ret < 0) {
		a->broken = 1;
		return ret;
	}
	a->seq++;
	/* The optional copy is best effort: the file is the record. */
	if (a->flags & GBA_AUDIT_SYSLOG)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)len, a->line);
	return 0;
}

int gba_audit_emit(struct gba_audit *a, const struct gba_audit_event *ev)
{
	int ret;

	if (a == NULL || ev == NULL)
		return GBA_EINVAL;
	pthread_mutex_lock(&a->lock);
	ret = emit_locked(a, ev);
	pthread_mutex_unlock(&a->lock);
	return ret;
}

int gba_audit_rotate(struct gba_audit *a)
{
	static const struct gba_audit_event rot = { GBA_AUDIT_ROTATE, GBA_AUDIT_OK,
	                                            NULL, NULL, NULL, NULL, NULL,
	                                            NULL, NULL, NULL, NULL, NULL };
	char dst[PATH_MAX_AUDIT_TMP];
	struct stat st;
	unsigned i;
	int ret = GBA_EIO, n;

	if (a == NULL)
		return GBA_EINVAL;
	pthread_mutex_lock(&a->lock);
	if (a->broken)
		goto out;
	/* Only regular files rotate (never rename a device such as /dev/full). */
	if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = GBA_EUNSUPP;
		goto out;
	}
	for (i = 1; i < ROTATE_MAX; i++) {
		n = snprintf(dst, sizeof(dst), "%s.%u", a->path, i);
		if (n < 0 || (size_t)n >= sizeof(dst)) {
			ret = GBA_ETOOBIG;
			goto out;
		}
		if (lstat(dst, &st) != 0 && errno == ENOENT)
			break;
	}
	if (i == ROTATE_MAX) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	/* The anchor first: a crash after the rename leaves an empty or
	 * missing file that continues from it. */
	ret = anchor_write(a);
	if (ret < 0)
		goto out;
	if (rename(a->path, dst) != 0) {
		ret = GBA_EIO;
		goto out;
	}
	close(a->fd);
	a->fd = -1;
	ret = open_file(a);
	if (ret < 0) {
		a->broken = 1;
		goto out;
	}
	ret = emit_locked(a, &rot);
out:
	pthread_mutex_unlock(&a->lock);
	return ret;
}

void gba_audit_head(struct gba_audit *a, uint64_t *seq, char hex[GBA_AUDIT_HASH_HEX + 1])
{
	pthread_mutex_lock(&a->lock);
	*seq = a->seq;
	memcpy(hex, a->prev, GBA_AUDIT_HASH_HEX + 1);
	pthread_mutex_unlock(&a->lock);
}

void gba_audit_close(struct gba_audit *a)
{
	struct stat st;

	if (a == NULL)
		return;
	/* Only a regular file that holds records gets an anchor. */
	if (!a->broken && a->seq > 0 && a->fd >= 0 && fstat(a->fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && anchor_write(a) < 0)
		gba_log_err(MOD, "cannot write %s", a->anchor);
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	gba_free(a->path);
	gba_free(a->anchor);
	gba_wipe(a->line, sizeof(a->line));
	gba_free(a);
}
