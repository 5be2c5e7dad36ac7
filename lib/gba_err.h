/*
 * gba_err.h - error codes shared by every layer.
 *
 * Every function that can fail returns 0 (or a non-negative count) on
 * success and one of the negative GBA_E* codes below on failure.  Codes
 * below GBA_EFATAL end the whole connection or daemon; codes above it
 * only fail the current request.
 */
#ifndef GBA_ERR_H
#define GBA_ERR_H

/* X(name, value, text) */
#define GBA_ERRORS(X)                                                   \
	X(GBA_EINVAL,      -1,  "invalid argument")                     \
	X(GBA_ETOOBIG,     -2,  "input exceeds its size limit")         \
	X(GBA_ETRUNC,      -3,  "input is truncated")                   \
	X(GBA_ESYNTAX,     -4,  "malformed input")                      \
	X(GBA_ENOTDER,     -5,  "not distinguished encoding (DER)")     \
	X(GBA_EDEPTH,      -6,  "nesting too deep")                     \
	X(GBA_ECONSTRAINT, -7,  "value violates an ASN.1 constraint")   \
	X(GBA_EDUP,        -8,  "duplicate field")                      \
	X(GBA_EMISSING,    -9,  "required field missing")               \
	X(GBA_EUNSUPP,     -10, "unsupported algorithm or feature")     \
	X(GBA_EAUTH,       -11, "authentication failed")                \
	X(GBA_ESYNC,       -12, "sequence number out of range")         \
	X(GBA_ESIG,        -13, "signature verification failed")        \
	X(GBA_ENOTFOUND,   -14, "not found")                            \
	X(GBA_ECRYPTO,     -15, "cryptographic library failure")        \
	X(GBA_EIO,         -16, "input/output error")                   \
	X(GBA_EPERM,       -17, "file permissions are too open")        \
	X(GBA_EREPLAY,     -18, "replayed message")                     \
	X(GBA_EEXPIRED,    -19, "expired")                              \
	X(GBA_ESTATE,      -20, "not allowed in the current state")     \
	X(GBA_ENOMEM,      -901, "out of memory")                       \
	X(GBA_EINTERNAL,   -902, "internal error")

enum gba_err {
#define GBA_ERR_ENUM(name, value, text) name = value,
	GBA_ERRORS(GBA_ERR_ENUM)
#undef GBA_ERR_ENUM
	GBA_EFATAL = -900
};

/* Static, never NULL; "unknown error" for values not in the table. */
const char *gba_strerror(int err);

/* The symbolic name ("GBA_ETOOBIG"), for audit records; never NULL. */
const char *gba_errname(int err);

static inline int gba_is_fatal(int err)
{
	return err <= GBA_EFATAL;
}

#endif
