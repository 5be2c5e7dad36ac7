/*
 * gba_policy.h - per-application certificate policies (doc/policy.md).
 *
 * One YAML file per NAF application in a policy directory, loaded through
 * gba_conf's schema tables.  gba_policy_evaluate() is a pure function of
 * a loaded set and the authenticated facts of a request: it allocates
 * nothing, reads no clock and no file, and its decision holds copies (no
 * pointers into the set), so it stays valid after the set is released.
 *
 * The certificate template in a decision is built only from the policy
 * and the authenticated facts (IMPI, the first uid of the USS that
 * matched, the application id).  There is deliberately no field for what
 * a CSR claims.
 */
#ifndef GBA_POLICY_H
#define GBA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gba_conf.h"
#include "gba_limits.h"

#define GBA_POLICY_MAX_FILES   256u
#define GBA_POLICY_MAX_PATH    1024u
#define GBA_POLICY_MAX_VALUE   1024u   /* an expanded subject or SAN */
#define GBA_POLICY_MAX_SAN     8u
#define GBA_POLICY_MAX_EKU     8u
#define GBA_POLICY_MAX_OID     64u
#define GBA_POLICY_MAX_URL     512u
#define GBA_POLICY_MAX_NAME    128u    /* issuer CA name */
#define GBA_POLICY_SHA256_LEN  32u

enum gba_policy_method {
	GBA_POLICY_METHOD_CMC_FULL,
	GBA_POLICY_METHOD_CMC_SIMPLE,
	GBA_POLICY_METHOD_PORTAL
};

enum gba_policy_key_type {
	GBA_POLICY_KEY_EC_P256,
	GBA_POLICY_KEY_EC_P384,
	GBA_POLICY_KEY_RSA_2048,
	GBA_POLICY_KEY_RSA_3072,
	GBA_POLICY_KEY_RSA_4096,
	GBA_POLICY_KEY_ED25519
};

enum gba_policy_approval { GBA_POLICY_APPROVAL_AUTOMATIC, GBA_POLICY_APPROVAL_MANUAL };
enum gba_policy_status { GBA_POLICY_STATUS_OCSP, GBA_POLICY_STATUS_CRL };

/* notBefore = now - this, for clock skew (validity stays from now on:
 * notAfter = now + validity_days) */
#define GBA_POLICY_BACKDATE_S 300

/* Key usage bits (bit i = gba_policy_key_usage_names[i]). */
enum gba_policy_key_usage {
	GBA_POLICY_KU_DIGITAL_SIGNATURE,
	GBA_POLICY_KU_NON_REPUDIATION,
	GBA_POLICY_KU_KEY_ENCIPHERMENT,
	GBA_POLICY_KU_DATA_ENCIPHERMENT,
	GBA_POLICY_KU_KEY_AGREEMENT
};

/* CCM notifications (bit i = gba_policy_ccm_event_names[i]). */
enum gba_policy_ccm_event {
	GBA_POLICY_CCM_RENEWAL_REQUIRED,
	GBA_POLICY_CCM_NEW_CERTIFICATE,
	GBA_POLICY_CCM_REVOKED,
	GBA_POLICY_CCM_TRUST_ANCHORS,
	GBA_POLICY_CCM_SERVER_CERTS
};

extern const char *const gba_policy_method_names[];
extern const char *const gba_policy_key_type_names[];
extern const char *const gba_policy_key_usage_names[];
extern const char *const gba_policy_ccm_event_names[];

/* ---- the model (filled by gba_conf; see gba_policy.c for the schema) ---- */

struct gba_policy_app {
	char *id;                      /* NAF FQDN */
	struct gba_conf_mark id_mark;
	char *ua_protocol_id;          /* 10 hex digits */
	int64_t gsid;
};

struct gba_policy_subscribers {
	struct gba_conf_strlist impi_patterns;   /* fnmatch(3), flags 0 */
	bool require_uss;
	struct gba_conf_intlist required_flags;
};

struct gba_policy_enrollment {
	uint32_t methods;              /* bits of enum gba_policy_method */
	bool identity_proof;
	bool pop;
	int approval;                  /* enum gba_policy_approval */
	uint32_t key_types;            /* bits of enum gba_policy_key_type */
	int64_t max_active_certs;
	int64_t rate_limit_per_hour;   /* 0: no limit */
	int64_t confirm_within_hours;  /* 0: no confirmCertAcceptance asked */
};

struct gba_policy_certificate {
	char *issuer;
	int64_t validity_days;
	char *subject;                 /* template */
	struct gba_conf_strlist san;   /* "uri:" / "dns:" / "email:" templates */
	uint32_t key_usage;            /* bits of enum gba_policy_key_usage */
	struct gba_conf_strlist eku;   /* names or dotted OIDs */
	int csr_names;                 /* 0: refuse, 1: rewrite */
	char *ocsp_url;                /* NULL: none */
	char *crl_url;                 /* NULL: none */
};

struct gba_policy_renewal {
	int64_t window_days;
	bool same_key;
};

struct gba_policy_revocation {
	bool hold;                     /* gba-ctl hold may suspend certificates */
	bool self_revoke;              /* subscribers may revoke their own (CMC) */
};

struct gba_policy_ccm {
	uint32_t on_bootstrap, on_issue, on_revoke;   /* bits of gba_policy_ccm_event */
	int status;                                   /* enum gba_policy_status */
	int64_t expiry_hours;
	struct gba_conf_strlist server_certs;
	struct gba_conf_strlist trust_anchors;
};

struct gba_policy_conf {
	struct gba_policy_app application;
	struct gba_policy_subscribers subscribers;
	struct gba_policy_enrollment enrollment;
	struct gba_policy_certificate certificate;
	struct gba_policy_renewal renewal;
	struct gba_policy_revocation revocation;
	struct gba_policy_ccm ccm;
};

/* The schema table (for gba_conf_print and the documentation test). */
extern const struct gba_conf_item gba_policy_schema[];

struct gba_policy {
	char *path;                              /* the file it came from */
	uint8_t sha256[GBA_POLICY_SHA256_LEN];   /* of the file's bytes */
	struct gba_policy_conf c;
};

/* An immutable set of policies.  Owned by its creator or a store. */
struct gba_policy_set {
	struct gba_policy *v;
	size_t n;
	unsigned refs;                           /* managed by the store */
};

/*
 * Parse one policy from memory (name is used in messages and recorded as
 * its path).  On 0, *out is a new policy for gba_policy_free().  On error
 * *out is NULL and err holds "name:line:column: message".
 */
int gba_policy_parse(const char *name, const void *buf, size_t len,
                     struct gba_policy **out, char *err, size_t errlen);
void gba_policy_free(struct gba_policy *p);

/*
 * Load every *.yaml file of dir (other names and dot files are ignored;
 * no file at all is an error).  Every file must be valid and no two may
 * name the same application.  On 0, *out is a new set (refs 0) for
 * gba_policy_set_free(); on error *out is NULL and err holds the first
 * error, e.g. "dir/b.yaml:2:7: application 'x' is also defined in
 * dir/a.yaml".
 */
int gba_policy_set_load(const char *dir, struct gba_policy_set **out, char *err,
                        size_t errlen);
void gba_policy_set_free(struct gba_policy_set *set);

/* The policy for application id (case-insensitive), or NULL. */
const struct gba_policy *gba_policy_find(const struct gba_policy_set *set,
                                         const char *app_id);

/* Print p as YAML with every default filled in.  0 or GBA_EIO. */
int gba_policy_print(FILE *f, const struct gba_policy *p);

/* ---- evaluation ---- */

/* One USS of the subscriber's GUSS, as the BSF authenticated it. */
struct gba_policy_uss {
	uint32_t gsid;
	const uint32_t *flags;
	size_t nflags;
	const char *const *uids;      /* IMPUs, in GUSS order */
	size_t nuids;
};

/* Authenticated facts about one request; all borrowed. */
struct gba_policy_ctx {
	const char *app_id;           /* NAF FQDN the request came to */
	const char *ua_id;            /* Ua security protocol id, 10 hex digits */
	const char *impi;
	const char *btid;
	const struct gba_policy_uss *uss;
	size_t nuss;
	enum gba_policy_method method;
	enum gba_policy_key_type key_type;
	uint32_t active_certs;        /* the IMPI's unexpired, unrevoked certificates */
	uint32_t requests_last_hour;  /* the IMPI's requests to this application */
	int64_t now;                  /* UTC seconds */
	/* A renewal or rekey signed with an issued certificate: there is no
	 * GBA session, so the USS and flag checks are skipped and the
	 * template's subject and SANs are left empty (the caller carries
	 * them over from the certificate being renewed). */
	bool renewal;
};

#define GBA_POLICY_REASONS(X)                                                      \
	X(GBA_POLICY_R_OK,            "allowed")                                   \
	X(GBA_POLICY_R_PENDING,       "allowed, pending manual approval")          \
	X(GBA_POLICY_R_NO_POLICY,     "no policy for this application")            \
	X(GBA_POLICY_R_UA_PROTOCOL,   "Ua security protocol not allowed")          \
	X(GBA_POLICY_R_IMPI,          "IMPI does not match the policy's patterns") \
	X(GBA_POLICY_R_NO_USS,        "no USS for the application's GSID")         \
	X(GBA_POLICY_R_FLAG,          "a required USS flag is missing")            \
	X(GBA_POLICY_R_METHOD,        "enrollment method not allowed")             \
	X(GBA_POLICY_R_KEY_TYPE,      "key type not allowed")                      \
	X(GBA_POLICY_R_MAX_CERTS,     "too many active certificates")              \
	X(GBA_POLICY_R_RATE_LIMIT,    "too many requests in the last hour")        \
	X(GBA_POLICY_R_NO_IMPU,       "the template needs an IMPU and none is known") \
	X(GBA_POLICY_R_UNSAFE_VALUE,  "an identity contains characters a DN or SAN cannot carry")

enum gba_policy_reason {
#define GBA_POLICY_R_ENUM(name, text) name,
	GBA_POLICY_REASONS(GBA_POLICY_R_ENUM)
#undef GBA_POLICY_R_ENUM
	GBA_POLICY_R_COUNT
};

/* Static text for a reason; never NULL. */
const char *gba_policy_reason_text(enum gba_policy_reason r);

struct gba_policy_template {
	char issuer[GBA_POLICY_MAX_NAME + 1];
	char subject[GBA_POLICY_MAX_VALUE + 1];
	char san[GBA_POLICY_MAX_SAN][GBA_POLICY_MAX_VALUE + 1];   /* "uri:..." */
	size_t nsan;
	int64_t not_before, not_after;                              /* UTC seconds */
	uint32_t key_usage;                                         /* KU bits */
	char eku[GBA_POLICY_MAX_EKU][GBA_POLICY_MAX_OID + 1];       /* dotted OIDs */
	size_t neku;
	char ocsp_url[GBA_POLICY_MAX_URL + 1];                      /* "" when none */
	char crl_url[GBA_POLICY_MAX_URL + 1];
};

struct gba_policy_decision {
	bool allowed;
	bool pending;                 /* allowed, but approval is manual */
	enum gba_policy_reason reason;
	const char *reason_text;      /* static */
	char policy_file[GBA_POLICY_MAX_PATH + 1];   /* "" when no policy matched */
	uint8_t policy_sha256[GBA_POLICY_SHA256_LEN];
	struct gba_policy_template tmpl;             /* only when allowed */
	/* Enrolment rules of the matching policy (whatever the outcome). */
	bool identity_proof;          /* CMC: identityProofV2 required */
	bool pop;                     /* proof of possession required */
	bool renewal_same_key;        /* renewal may keep the key */
	int64_t renewal_window_s;     /* renewal allowed this long before expiry */
	bool rewrite_names;           /* certificate.csr_names: rewrite */
	/* CMC: answer confirmRequired and wait this long for the
	 * subscriber's confirmCertAcceptance; 0: not asked */
	int64_t confirm_within_s;
};

/*
 * Decide ctx against set.  Returns 0 with *out filled (allowed or denied;
 * a denial is a decision, not an error) or GBA_EINVAL when an argument or
 * a mandatory ctx field is missing.
 *
 * Values substituted into the subject must be 1..GBA_POLICY_MAX_VALUE
 * octets of printable ASCII 0x21-0x7e without  , + " \ < > ; = #  (the
 * RFC 4514 specials); values substituted into a SAN must be printable
 * ASCII 0x21-0x7e without  " < > \ ^ ` { | } ,  (characters that are not
 * allowed in a URI, or that separate SANs).  A value that breaks the rule
 * denies the request with GBA_POLICY_R_UNSAFE_VALUE; nothing is escaped.
 */
int gba_policy_evaluate(const struct gba_policy_set *set, const struct gba_policy_ctx *ctx,
                        struct gba_policy_decision *out);

/* ---- the store: atomic reload, refcounted sets ---- */

struct gba_policy_store;

/* 0 and a new empty store in *out, or GBA_ENOMEM. */
int gba_policy_store_new(struct gba_policy_store **out);

/* Releases the store's reference; sets still acquired stay valid until
 * released.  Every acquired set must be released before this. */
void gba_policy_store_free(struct gba_policy_store *st);

/*
 * Load dir into a fresh set; only if every file is valid, swap it in and
 * drop the store's reference to the old set (freed once its last holder
 * releases it).  On error the current set is kept and err says why.
 * Safe to call from any thread (e.g. the SIGHUP handler's thread).
 */
int gba_policy_store_reload(struct gba_policy_store *st, const char *dir, char *err,
                            size_t errlen);

/* The current set with a reference taken (NULL if nothing loaded yet);
 * pass it back to gba_policy_store_release(). */
const struct gba_policy_set *gba_policy_store_acquire(struct gba_policy_store *st);
void gba_policy_store_release(struct gba_policy_store *st, const struct gba_policy_set *set);

#endif
