/*
 * gba_audit.h - the tamper-evident audit trail (STYLE.md b7, doc/audit.md).
 *
 * A sink separate from logging: one JSON object per line (JSON Lines),
 * appended to its own file with a single write() and made durable with
 * fdatasync() before gba_audit_emit() returns.  The caller acts on a
 * decision only after emit returned 0; on an error it fails closed.
 *
 * Every line ends with "prev", the lower-case hex SHA-256 of the previous
 * line (its bytes without the newline); the first line of a fresh chain
 * has 64 zeros.  "seq" grows by one per line.  Editing, deleting or
 * reordering a line therefore breaks the chain at the next line, which
 * `gba-ctl audit verify` reports.  The chain continues across restarts
 * (from the file's last line) and rotations (via FILE.anchor).
 *
 * The event struct has no field for key material, passwords, RES or
 * Digest parameters: they cannot be recorded.  IMPI and B-TID are
 * recorded as "sha256:" + the first 16 hex digits of their SHA-256
 * unless the sink was opened with GBA_AUDIT_CLEAR_IDS.
 *
 * Thread-safe: one struct gba_audit may be shared by every worker.
 * Functions return 0 or a negative GBA_E* code.
 */
#ifndef GBA_AUDIT_H
#define GBA_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "gba_crypto.h"

/* Caps.  Longer values are cut at a UTF-8 character boundary and end in
 * "..."; a line (newline included) never exceeds GBA_AUDIT_LINE_MAX. */
#define GBA_AUDIT_VALUE_MAX 256u
#define GBA_AUDIT_LINE_MAX  16384u
#define GBA_AUDIT_HASH_HEX  (2u * GBA_SHA256_LEN)
#define GBA_AUDIT_ID_HEX    16u     /* hex digits kept of a hashed id */

/* gba_audit_open flags */
#define GBA_AUDIT_CLEAR_IDS 0x1u    /* record IMPI and B-TID in clear */
/* Also send each record, once it is durable, to syslog (LOG_AUTHPRIV,
 * LOG_NOTICE).  Best effort: the file stays the record of truth.  The
 * caller calls openlog() first. */
#define GBA_AUDIT_SYSLOG    0x2u

enum gba_audit_type {
	GBA_AUDIT_BOOTSTRAP,
	GBA_AUDIT_ZN_KEY,
	GBA_AUDIT_ENROLL_REQUEST,
	GBA_AUDIT_ISSUE,
	GBA_AUDIT_DENY,
	GBA_AUDIT_PENDING,
	GBA_AUDIT_REVOKE,
	GBA_AUDIT_CCM_QUEUED,
	GBA_AUDIT_CCM_DELIVERED,
	GBA_AUDIT_CCM_ACKED,
	GBA_AUDIT_CCM_EXPIRED,
	GBA_AUDIT_POLICY_LOADED,
	GBA_AUDIT_POLICY_REJECTED,
	GBA_AUDIT_START,
	GBA_AUDIT_STOP,
	GBA_AUDIT_ROTATE,           /* written by gba_audit_rotate itself */
	GBA_AUDIT_HOLD,             /* certificateHold set (issue 6) */
	GBA_AUDIT_UNHOLD            /* certificateHold lifted */
};

enum gba_audit_outcome {
	GBA_AUDIT_OK,
	GBA_AUDIT_DENIED,
	GBA_AUDIT_ERROR
};

/*
 * One event.  Every string is borrowed for the call, NUL-terminated and
 * optional (NULL: the field is left out).  Values may be hostile: they
 * are escaped (RFC 8259) and capped.
 */
struct gba_audit_event {
	enum gba_audit_type type;
	enum gba_audit_outcome outcome;
	const char *reason;         /* gba_errname(err) or a short code */
	const char *peer;           /* "address:port" */
	const char *app;            /* NAF FQDN / application id */
	const char *impi;           /* hashed unless GBA_AUDIT_CLEAR_IDS */
	const char *btid;           /* hashed unless GBA_AUDIT_CLEAR_IDS */
	const char *policy;         /* policy file */
	const char *policy_sha256;
	const char *serial;         /* certificate serial (hex) */
	const char *subject;        /* certificate subject DN */
	const char *ccm;            /* a CCM: "id:<hex>" or "<seq>:<hex>" */
};

struct gba_audit;

/*
 * Open (creating, mode 0600) the audit file at path and continue the
 * chain: from the file's last line when it has one, else from
 * path.anchor when that exists (a rotation), else from a fresh chain.
 * GBA_ESYNTAX when the last line is not a complete record of ours (a
 * torn or foreign tail: inspect it, nothing is appended), GBA_ESYNC when
 * path.anchor is ahead of the file (records were removed), GBA_EIO for
 * system errors.  path is copied.  On success the caller owns *out and
 * closes it with gba_audit_close.
 */
int gba_audit_open(struct gba_audit **out, const char *path, unsigned flags);

/*
 * Append one record and fdatasync it.  0 only when the line is durable.
 * After a short write or a failed fdatasync the sink is broken and every
 * later call fails with GBA_EIO (a restart must inspect the tail).
 */
int gba_audit_emit(struct gba_audit *a, const struct gba_audit_event *ev);

/*
 * Rotate: rename the file to path.N (the smallest N >= 1 not in use),
 * write path.anchor (last seq and hash, atomically), open a new file and
 * write a "rotate" record that continues the chain.  Verify the old
 * files and the new one in order: path.1 path.2 ... path.  GBA_EUNSUPP
 * when path is not a regular file; after a failed reopen of path the
 * sink is broken (fail closed).
 */
int gba_audit_rotate(struct gba_audit *a);

/* The last record's seq and hash (hex, GBA_AUDIT_HASH_HEX + 1 bytes):
 * the chain head, to be kept elsewhere by an operator. */
void gba_audit_head(struct gba_audit *a, uint64_t *seq, char hex[GBA_AUDIT_HASH_HEX + 1]);

/* Write path.anchor with the chain head, close and free.  NULL is
 * accepted. */
void gba_audit_close(struct gba_audit *a);

/* Static names: "bootstrap", "zn_key", ... and "ok", "denied", "error". */
const char *gba_audit_type_name(enum gba_audit_type t);
const char *gba_audit_outcome_name(enum gba_audit_outcome o);

/*
 * The chain primitive shared with the verifier: parse the "seq" and
 * "prev" of one record line (without its newline) written by this
 * module.  The line must start with {"seq":N, and end with
 * ,"prev":"<64 hex>"}.  Returns 0 or GBA_ESYNTAX.
 */
int gba_audit_line_parse(const char *line, size_t len, uint64_t *seq,
                         char prev[GBA_AUDIT_HASH_HEX + 1]);

/* Hex SHA-256 of a line (without its newline). */
int gba_audit_line_hash(const char *line, size_t len, char hex[GBA_AUDIT_HASH_HEX + 1]);

/* Read an anchor file ("<seq> <hash>\n").  1 when read, 0 when it does
 * not exist, GBA_ESYNTAX or GBA_EIO. */
int gba_audit_anchor_read(const char *path, uint64_t *seq, char hash[GBA_AUDIT_HASH_HEX + 1]);

#endif
