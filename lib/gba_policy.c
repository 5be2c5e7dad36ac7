/*
 * gba_policy.c - policy schema, directory loading, evaluation and the
 * refcounted store (see gba_policy.h and doc/policy.md).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_policy.h"

const char *const gba_policy_method_names[] = { "cmc-full", "cmc-simple", "portal", NULL };
const char *const gba_policy_key_type_names[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519", NULL
};
/* End-entity usages only: a policy cannot issue a CA (keyCertSign, cRLSign). */
const char *const gba_policy_key_usage_names[] = {
	"digital-signature", "non-repudiation", "key-encipherment", "data-encipherment",
	"key-agreement", NULL
};
const char *const gba_policy_ccm_event_names[] = {
	"renewal-required", "new-certificate", "revoked", "trust-anchors", "server-certs", NULL
};
static const char *const approval_names[] = { "automatic", "manual", NULL };
static const char *const status_names[] = { "ocsp", "crl", NULL };
static const char *const csr_names_names[] = { "refuse", "rewrite", NULL };

static const struct {
	const char *name, *oid;
} eku_names[] = {
	{ "server-auth", "1.3.6.1.5.5.7.3.1" },
	{ "client-auth", "1.3.6.1.5.5.7.3.2" },
	{ "code-signing", "1.3.6.1.5.5.7.3.3" },
	{ "email-protection", "1.3.6.1.5.5.7.3.4" },
	{ "time-stamping", "1.3.6.1.5.5.7.3.8" },
	{ "ocsp-signing", "1.3.6.1.5.5.7.3.9" },
};
#define N_EKU (sizeof(eku_names) / sizeof(eku_names[0]))

/* ---- string checks for the schema ---- */

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

static int
check_fqdn(const char *s, char *msg, size_t msglen)
{
	size_t n = strlen(s), lab = 0, i;

	if (n > GBA_MAX_FQDN_LEN)
		goto bad;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				goto bad;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && lab > 0)))
			goto bad;
		if (++lab > 63)
			goto bad;
	}
	if (lab == 0 || s[n - 1] == '-')
		goto bad;
	return 0;
bad:
	snprintf(msg, msglen, "not a valid FQDN");
	return -1;
}

static int
check_hex10(const char *s, char *msg, size_t msglen)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			break;
	if (i == 10 && s[i] == '\0')
		return 0;
	snprintf(msg, msglen, "expected exactly 10 hex digits");
	return -1;
}

static int
check_printable(const char *s, char *msg, size_t msglen)
{
	if (printable(s))
		return 0;
	snprintf(msg, msglen, "only printable ASCII without spaces is allowed");
	return -1;
}

static int
check_name(const char *s, char *msg, size_t msglen)
{
	if (strlen(s) > GBA_POLICY_MAX_NAME) {
		snprintf(msg, msglen, "longer than %u characters", GBA_POLICY_MAX_NAME);
		return -1;
	}
	return check_printable(s, msg, msglen);
}

static int
check_url(const char *s, char *msg, size_t msglen)
{
	if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) || !printable(s)) {
		snprintf(msg, msglen, "expected an http:// or https:// URL without spaces");
		return -1;
	}
	return 0;
}

/* Placeholders: ${impi} ${impu} ${app}; any other '$' is an error. */
static int
check_placeholders(const char *s, char *msg, size_t msglen)
{
	const char *p = s;

	if (strlen(s) > GBA_POLICY_MAX_VALUE / 2) {
		snprintf(msg, msglen, "template longer than %u characters", GBA_POLICY_MAX_VALUE / 2);
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			snprintf(msg, msglen, "template must be printable ASCII");
			return -1;
		}
		if (*p != '$')
			continue;
		if (strncmp(p, "${impi}", 7) == 0) {
			p += 6;
		} else if (strncmp(p, "${impu}", 7) == 0) {
			p += 6;
		} else if (strncmp(p, "${app}", 6) == 0) {
			p += 5;
		} else {
			const char *e = strchr(p, '}');
			int len = e != NULL && e - p < 40 ? (int)(e - p + 1) : 2;

			snprintf(msg, msglen,
			         "unknown placeholder '%.*s' (only ${impi}, ${impu}, ${app})", len, p);
			return -1;
		}
	}
	return 0;
}

static int
check_san(const char *s, char *msg, size_t msglen)
{
	if (strncmp(s, "uri:", 4) != 0 && strncmp(s, "dns:", 4) != 0 &&
	    strncmp(s, "email:", 6) != 0) {
		snprintf(msg, msglen, "expected 'uri:', 'dns:' or 'email:' followed by a template");
		return -1;
	}
	if (strchr(s, ' ') != NULL) {
		snprintf(msg, msglen, "a SAN template must not contain spaces");
		return -1;
	}
	return check_placeholders(s, msg, msglen);
}

static const char *
eku_oid(const char *s)
{
	size_t i, dots = 0;
	bool digit = false;

	for (i = 0; i < N_EKU; i++)
		if (strcmp(s, eku_names[i].name) == 0)
			return eku_names[i].oid;
	if (strlen(s) > GBA_POLICY_MAX_OID)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.') {
			if (!digit)
				return NULL;
			dots++;
			digit = false;
		} else if (s[i] >= '0' && s[i] <= '9') {
			digit = true;
		} else {
			return NULL;
		}
	}
	return dots >= 2 && digit ? s : NULL;
}

static int
check_eku(const char *s, char *msg, size_t msglen)
{
	if (eku_oid(s) != NULL)
		return 0;
	snprintf(msg, msglen,
	         "expected server-auth, client-auth, code-signing, email-protection, "
	         "time-stamping, ocsp-signing or a dotted OID");
	return -1;
}

/* ---- the schema ---- */

#define ITEM(st, k, ty, f) .key = k, .type = ty, .offset = offsetof(st, f)

static const struct gba_conf_item app_tab[] = {
	{ ITEM(struct gba_policy_app, "id", GBA_CONF_STR, id), .max = GBA_MAX_FQDN_LEN,
	  .required = true, .check = check_fqdn, .has_mark = true,
	  .mark_offset = offsetof(struct gba_policy_app, id_mark), .doc = "NAF FQDN" },
	{ ITEM(struct gba_policy_app, "ua_protocol_id", GBA_CONF_STR, ua_protocol_id),
	  .def = "0100000000", .check = check_hex10, .doc = "Ua security protocol id" },
	{ ITEM(struct gba_policy_app, "gsid", GBA_CONF_INT, gsid), .min = 0, .max = 999999,
	  .def = "1", .doc = "GAA service id of the USS" },
	{ .key = NULL }
};

static const struct gba_conf_item sub_tab[] = {
	{ ITEM(struct gba_policy_subscribers, "impi_patterns", GBA_CONF_STRLIST, impi_patterns),
	  .max = GBA_MAX_IMPI_LEN, .def = "*", .check = check_printable },
	{ ITEM(struct gba_policy_subscribers, "require_uss", GBA_CONF_BOOL, require_uss),
	  .def = "true" },
	{ ITEM(struct gba_policy_subscribers, "required_flags", GBA_CONF_INTLIST, required_flags),
	  .min = 0, .max = UINT32_MAX },
	{ .key = NULL }
};

static const struct gba_conf_item enr_tab[] = {
	{ ITEM(struct gba_policy_enrollment, "methods", GBA_CONF_ENUMLIST, methods),
	  .names = gba_policy_method_names, .required = true },
	{ ITEM(struct gba_policy_enrollment, "identity_proof", GBA_CONF_BOOL, identity_proof),
	  .def = "false" },
	{ ITEM(struct gba_policy_enrollment, "pop", GBA_CONF_BOOL, pop), .def = "true",
	  .doc = "proof of possession of the key" },
	{ ITEM(struct gba_policy_enrollment, "approval", GBA_CONF_ENUM, approval),
	  .names = approval_names, .def = "automatic" },
	{ ITEM(struct gba_policy_enrollment, "key_types", GBA_CONF_ENUMLIST, key_types),
	  .names = gba_policy_key_type_names, .def = "ec-p256,ec-p384" },
	{ ITEM(struct gba_policy_enrollment, "max_active_certs", GBA_CONF_INT, max_active_certs),
	  .min = 1, .max = 100, .def = "1" },
	{ ITEM(struct gba_policy_enrollment, "rate_limit_per_hour", GBA_CONF_INT,
	       rate_limit_per_hour), .min = 0, .max = 10000, .def = "10", .doc = "0: no limit" },
	{ ITEM(struct gba_policy_enrollment, "confirm_within_hours", GBA_CONF_INT,
	       confirm_within_hours), .min = 0, .max = 720, .def = "0",
	  .doc = "CMC: ask for confirmCertAcceptance within this many hours; 0: not asked" },
	{ .key = NULL }
};

static const struct gba_conf_item cert_tab[] = {
	{ ITEM(struct gba_policy_certificate, "issuer", GBA_CONF_STR, issuer),
	  .max = GBA_POLICY_MAX_NAME, .required = true, .check = check_name },
	{ ITEM(struct gba_policy_certificate, "validity_days", GBA_CONF_INT, validity_days),
	  .min = 1, .max = 3650, .def = "365" },
	{ ITEM(struct gba_policy_certificate, "subject", GBA_CONF_STR, subject),
	  .max = GBA_POLICY_MAX_VALUE / 2, .required = true, .check = check_placeholders },
	{ ITEM(struct gba_policy_certificate, "san", GBA_CONF_STRLIST, san),
	  .max = GBA_POLICY_MAX_VALUE / 2, .check = check_san },
	{ ITEM(struct gba_policy_certificate, "key_usage", GBA_CONF_ENUMLIST, key_usage),
	  .names = gba_policy_key_usage_names, .def = "digital-signature" },
	{ ITEM(struct gba_policy_certificate, "eku", GBA_CONF_STRLIST, eku),
	  .max = GBA_POLICY_MAX_OID, .def = "client-auth", .check = check_eku },
	{ ITEM(struct gba_policy_certificate, "csr_names", GBA_CONF_ENUM, csr_names),
	  .names = csr_names_names, .def = "refuse",
	  .doc = "a request naming another subject or SAN: refuse it, or rewrite the names" },
	{ ITEM(struct gba_policy_certificate, "ocsp_url", GBA_CONF_STR, ocsp_url),
	  .max = GBA_POLICY_MAX_URL, .check = check_url },
	{ ITEM(struct gba_policy_certificate, "crl_url", GBA_CONF_STR, crl_url),
	  .max = GBA_POLICY_MAX_URL, .check = check_url },
	{ .key = NULL }
};

static const struct gba_conf_item ren_tab[] = {
	{ ITEM(struct gba_policy_renewal, "window_days", GBA_CONF_INT, window_days), .min = 0,
	  .max = 365, .def = "30", .doc = "renewal allowed this many days before expiry" },
	{ ITEM(struct gba_policy_renewal, "same_key", GBA_CONF_BOOL, same_key), .def = "false" },
	{ .key = NULL }
};

static const struct gba_conf_item rev_tab[] = {
	{ ITEM(struct gba_policy_revocation, "hold", GBA_CONF_BOOL, hold), .def = "false",
	  .doc = "gba-ctl hold may suspend certificates (certificateHold)" },
	{ ITEM(struct gba_policy_revocation, "self_revoke", GBA_CONF_BOOL, self_revoke),
	  .def = "true", .doc = "a subscriber may revoke its own certificates over CMC" },
	{ .key = NULL }
};

static const struct gba_conf_item ccm_tab[] = {
	{ ITEM(struct gba_policy_ccm, "on_bootstrap", GBA_CONF_ENUMLIST, on_bootstrap),
	  .names = gba_policy_ccm_event_names, .def = "renewal-required" },
	{ ITEM(struct gba_policy_ccm, "on_issue", GBA_CONF_ENUMLIST, on_issue),
	  .names = gba_policy_ccm_event_names, .def = "new-certificate" },
	{ ITEM(struct gba_policy_ccm, "on_revoke", GBA_CONF_ENUMLIST, on_revoke),
	  .names = gba_policy_ccm_event_names, .def = "revoked" },
	{ ITEM(struct gba_policy_ccm, "status", GBA_CONF_ENUM, status), .names = status_names,
	  .def = "ocsp" },
	{ ITEM(struct gba_policy_ccm, "expiry_hours", GBA_CONF_INT, expiry_hours), .min = 1,
	  .max = 8760, .def = "24" },
	{ ITEM(struct gba_policy_ccm, "server_certs", GBA_CONF_STRLIST, server_certs),
	  .max = GBA_POLICY_MAX_PATH, .check = check_printable },
	{ ITEM(struct gba_policy_ccm, "trust_anchors", GBA_CONF_STRLIST, trust_anchors),
	  .max = GBA_POLICY_MAX_PATH, .check = check_printable },
	{ .key = NULL }
};

const struct gba_conf_item gba_policy_schema[] = {
	{ ITEM(struct gba_policy_conf, "application", GBA_CONF_MAP, application), .sub = app_tab,
	  .required = true },
	{ ITEM(struct gba_policy_conf, "subscribers", GBA_CONF_MAP, subscribers), .sub = sub_tab },
	{ ITEM(struct gba_policy_conf, "enrollment", GBA_CONF_MAP, enrollment), .sub = enr_tab,
	  .required = true },
	{ ITEM(struct gba_policy_conf, "certificate", GBA_CONF_MAP, certificate),
	  .sub = cert_tab, .required = true },
	{ ITEM(struct gba_policy_conf, "renewal", GBA_CONF_MAP, renewal), .sub = ren_tab },
	{ ITEM(struct gba_policy_conf, "revocation", GBA_CONF_MAP, revocation), .sub = rev_tab },
	{ ITEM(struct gba_policy_conf, "ccm", GBA_CONF_MAP, ccm), .sub = ccm_tab },
	{ .key = NULL }
};

/* ---- loading ---- */

void
gba_policy_free(struct gba_policy *p)
{
	if (p == NULL)
		return;
	gba_conf_clear(gba_policy_schema, &p->c);
	gba_free(p->path);
	gba_free(p);
}

int
gba_policy_parse(const char *name, const void *buf, size_t len, struct gba_policy **out,
                 char *err, size_t errlen)
{
	struct gba_policy *p = NULL;
	int rc;

	*out = NULL;
	p = gba_calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = GBA_ENOMEM;
		goto out;
	}
	p->path = gba_strndup(name, strlen(name));
	if (p->path == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = GBA_ENOMEM;
		goto out;
	}
	rc = gba_conf_load_mem(name, buf, len, gba_policy_schema, &p->c, err, errlen);
	if (rc != 0)
		goto out;
	if (p->c.certificate.san.n > GBA_POLICY_MAX_SAN || p->c.certificate.eku.n > GBA_POLICY_MAX_EKU) {
		snprintf(err, errlen, "%s: at most %u SANs and %u EKUs", name, GBA_POLICY_MAX_SAN,
		         GBA_POLICY_MAX_EKU);
		rc = GBA_EINVAL;
		goto out;
	}
	rc = gba_hash_fast(GBA_HASH_SHA256, buf, len, p->sha256);
	if (rc != 0) {
		snprintf(err, errlen, "%s: hash failed", name);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	gba_policy_free(p);
	return rc;
}

void
gba_policy_set_free(struct gba_policy_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		gba_conf_clear(gba_policy_schema, &set->v[i].c);
		gba_free(set->v[i].path);
	}
	gba_free(set->v);
	gba_free(set);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_yaml_name(const char *s)
{
	size_t n = strlen(s);

	return s[0] != '.' && n > 5 && strcmp(s + n - 5, ".yaml") == 0;
}

int
gba_policy_set_load(const char *dir, struct gba_policy_set **out, char *err, size_t errlen)
{
	struct gba_policy_set *set = NULL;
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, i, j;
	char path[GBA_POLICY_MAX_PATH + 1];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct gba_policy *p = NULL;
	int rc = 0, n;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = GBA_EIO;
		goto out;
	}
	names = gba_calloc(GBA_POLICY_MAX_FILES, sizeof(*names));
	set = gba_calloc(1, sizeof(*set));
	if (names == NULL || set == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		rc = GBA_ENOMEM;
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (!is_yaml_name(de->d_name))
			continue;
		if (nnames == GBA_POLICY_MAX_FILES) {
			snprintf(err, errlen, "%s: more than %u policy files", dir, GBA_POLICY_MAX_FILES);
			rc = GBA_ETOOBIG;
			goto out;
		}
		names[nnames] = gba_strndup(de->d_name, strlen(de->d_name));
		if (names[nnames] == NULL) {
			snprintf(err, errlen, "%s: out of memory", dir);
			rc = GBA_ENOMEM;
			goto out;
		}
		nnames++;
	}
	if (errno != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = GBA_EIO;
		goto out;
	}
	if (nnames == 0) {
		snprintf(err, errlen, "%s: no policy files (*.yaml)", dir);
		rc = GBA_ENOTFOUND;
		goto out;
	}
	qsort(names, nnames, sizeof(*names), cmp_str);
	set->v = gba_calloc(nnames, sizeof(*set->v));
	if (set->v == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		rc = GBA_ENOMEM;
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			rc = GBA_ETOOBIG;
			goto out;
		}
		rc = gba_conf_read_file(path, GBA_CONF_MAX_FILE, &buf, &len, err, errlen);
		if (rc != 0)
			goto out;
		rc = gba_policy_parse(path, buf, len, &p, err, errlen);
		gba_free(buf);
		buf = NULL;
		if (rc != 0)
			goto out;
		for (j = 0; j < set->n; j++) {
			if (strcasecmp(set->v[j].c.application.id, p->c.application.id) == 0) {
				snprintf(err, errlen, "%s:%u:%u: application '%s' is also defined in %s",
				         path, p->c.application.id_mark.line,
				         p->c.application.id_mark.col, p->c.application.id,
				         set->v[j].path);
				rc = GBA_EINVAL;
				goto out;
			}
		}
		set->v[set->n++] = *p;        /* move the contents, free the shell */
		gba_free(p);
		p = NULL;
	}
	*out = set;
	set = NULL;
out:
	gba_policy_free(p);
	gba_free(buf);
	gba_policy_set_free(set);
	if (names != NULL)
		for (i = 0; i < nnames; i++)
			gba_free(names[i]);
	gba_free(names);
	if (d != NULL)
		(void)closedir(d);
	return rc;
}

const struct gba_policy *
gba_policy_find(const struct gba_policy_set *set, const char *app_id)
{
	size_t i;

	if (set == NULL || app_id == NULL)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcasecmp(set->v[i].c.application.id, app_id) == 0)
			return &set->v[i];
	return NULL;
}

int
gba_policy_print(FILE *f, const struct gba_policy *p)
{
	size_t i;

	fprintf(f, "# %s\n# sha256 ", p->path);
	for (i = 0; i < GBA_POLICY_SHA256_LEN; i++)
		fprintf(f, "%02x", p->sha256[i]);
	fputc('\n', f);
	return gba_conf_print(f, gba_policy_schema, &p->c, 0);
}

/* ---- evaluation ---- */

static const char *const reason_texts[] = {
#define GBA_POLICY_R_TEXT(name, text) text,
	GBA_POLICY_REASONS(GBA_POLICY_R_TEXT)
#undef GBA_POLICY_R_TEXT
};

const char *
gba_policy_reason_text(enum gba_policy_reason r)
{
	if ((unsigned)r >= (unsigned)GBA_POLICY_R_COUNT)
		return "unknown reason";
	return reason_texts[r];
}

/* Is v safe to put in a DN (dn) or a SAN (!dn)?  See gba_policy.h. */
static bool
value_safe(const char *v, bool dn)
{
	const char *bad = dn ? ",+\"\\<>;=#" : "\"<>\\^`{|},";
	size_t n = 0;

	for (; *v != '\0'; v++, n++) {
		if (*v < 0x21 || *v > 0x7e || strchr(bad, *v) != NULL)
			return false;
	}
	return n > 0 && n <= GBA_POLICY_MAX_VALUE;
}

static enum gba_policy_reason
expand(const char *tmpl, const char *impi, const char *impu, const char *app, bool dn,
       char *out, size_t outlen)
{
	size_t o = 0, n;
	const char *v;

	for (; *tmpl != '\0'; tmpl++) {
		v = NULL;
		if (strncmp(tmpl, "${impi}", 7) == 0) {
			v = impi;
			tmpl += 6;
		} else if (strncmp(tmpl, "${impu}", 7) == 0) {
			if (impu == NULL)
				return GBA_POLICY_R_NO_IMPU;
			v = impu;
			tmpl += 6;
		} else if (strncmp(tmpl, "${app}", 6) == 0) {
			v = app;
			tmpl += 5;
		}
		if (v != NULL) {
			if (!value_safe(v, dn))
				return GBA_POLICY_R_UNSAFE_VALUE;
			n = strlen(v);
			if (o + n >= outlen)
				return GBA_POLICY_R_UNSAFE_VALUE;
			memcpy(out + o, v, n);
			o += n;
		} else {
			if (o + 1 >= outlen)
				return GBA_POLICY_R_UNSAFE_VALUE;
			out[o++] = *tmpl;
		}
	}
	out[o] = '\0';
	return GBA_POLICY_R_OK;
}

static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= dstlen)
		n = dstlen - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool
has_flag(const struct gba_policy_uss *u, int64_t flag)
{
	size_t i;

	for (i = 0; i < u->nflags; i++)
		if ((int64_t)u->flags[i] == flag)
			return true;
	return false;
}

static enum gba_policy_reason
decide(const struct gba_policy *p, const struct gba_policy_ctx *ctx,
       struct gba_policy_template *t)
{
	const struct gba_policy_conf *c = &p->c;
	const struct gba_policy_uss *uss = NULL;
	const char *impu = NULL;
	enum gba_policy_reason r;
	size_t i;
	bool match = false;

	if (strcasecmp(ctx->ua_id, c->application.ua_protocol_id) != 0)
		return GBA_POLICY_R_UA_PROTOCOL;
	for (i = 0; i < c->subscribers.impi_patterns.n && !match; i++)
		match = fnmatch(c->subscribers.impi_patterns.v[i], ctx->impi, 0) == 0;
	if (!match)
		return GBA_POLICY_R_IMPI;
	for (i = 0; i < ctx->nuss && uss == NULL; i++)
		if ((int64_t)ctx->uss[i].gsid == c->application.gsid)
			uss = &ctx->uss[i];
	if (uss == NULL && c->subscribers.require_uss && !ctx->renewal)
		return GBA_POLICY_R_NO_USS;
	for (i = 0; i < c->subscribers.required_flags.n && !ctx->renewal; i++)
		if (uss == NULL || !has_flag(uss, c->subscribers.required_flags.v[i]))
			return GBA_POLICY_R_FLAG;
	if ((unsigned)ctx->method >= 32u || (c->enrollment.methods & (1u << ctx->method)) == 0)
		return GBA_POLICY_R_METHOD;
	if ((unsigned)ctx->key_type >= 32u ||
	    (c->enrollment.key_types & (1u << ctx->key_type)) == 0)
		return GBA_POLICY_R_KEY_TYPE;
	if ((int64_t)ctx->active_certs >= c->enrollment.max_active_certs)
		return GBA_POLICY_R_MAX_CERTS;
	if (c->enrollment.rate_limit_per_hour > 0 &&
	    (int64_t)ctx->requests_last_hour >= c->enrollment.rate_limit_per_hour)
		return GBA_POLICY_R_RATE_LIMIT;

	if (uss != NULL && uss->nuids > 0)
		impu = uss->uids[0];
	if (ctx->renewal)
		goto names_done;
	r = expand(c->certificate.subject, ctx->impi, impu, c->application.id, true, t->subject,
	           sizeof(t->subject));
	if (r != GBA_POLICY_R_OK)
		return r;
	for (i = 0; i < c->certificate.san.n && i < GBA_POLICY_MAX_SAN; i++) {
		r = expand(c->certificate.san.v[i], ctx->impi, impu, c->application.id, false,
		           t->san[i], sizeof(t->san[i]));
		if (r != GBA_POLICY_R_OK)
			return r;
	}
	t->nsan = i;
names_done:
	copy_str(t->issuer, sizeof(t->issuer), c->certificate.issuer);
	/* backdated: a relying party or UE whose clock is a little behind
	 * must not see a certificate that is not valid yet */
	t->not_before = ctx->now - GBA_POLICY_BACKDATE_S;
	t->not_after = ctx->now + c->certificate.validity_days * 86400;
	t->key_usage = c->certificate.key_usage;
	for (i = 0; i < c->certificate.eku.n && i < GBA_POLICY_MAX_EKU; i++)
		copy_str(t->eku[i], sizeof(t->eku[i]), eku_oid(c->certificate.eku.v[i]));
	t->neku = i;
	copy_str(t->ocsp_url, sizeof(t->ocsp_url), c->certificate.ocsp_url);
	copy_str(t->crl_url, sizeof(t->crl_url), c->certificate.crl_url);
	return c->enrollment.approval == GBA_POLICY_APPROVAL_MANUAL ? GBA_POLICY_R_PENDING
	                                                             : GBA_POLICY_R_OK;
}

int
gba_policy_evaluate(const struct gba_policy_set *set, const struct gba_policy_ctx *ctx,
                    struct gba_policy_decision *out)
{
	const struct gba_policy *p;
	enum gba_policy_reason r;

	if (out == NULL)
		return GBA_EINVAL;
	memset(out, 0, sizeof(*out));
	out->reason = GBA_POLICY_R_NO_POLICY;
	out->reason_text = gba_policy_reason_text(out->reason);
	if (set == NULL || ctx == NULL || ctx->app_id == NULL || ctx->ua_id == NULL ||
	    ctx->impi == NULL || ctx->btid == NULL || (ctx->uss == NULL && ctx->nuss > 0) ||
	    ctx->now < 0 || ctx->now > INT64_MAX / 2)
		return GBA_EINVAL;
	p = gba_policy_find(set, ctx->app_id);
	if (p == NULL)
		return 0;
	copy_str(out->policy_file, sizeof(out->policy_file), p->path);
	memcpy(out->policy_sha256, p->sha256, sizeof(out->policy_sha256));
	out->identity_proof = p->c.enrollment.identity_proof;
	out->pop = p->c.enrollment.pop;
	out->renewal_same_key = p->c.renewal.same_key;
	out->renewal_window_s = p->c.renewal.window_days * 86400;
	out->rewrite_names = p->c.certificate.csr_names == 1;
	out->confirm_within_s = p->c.enrollment.confirm_within_hours * 3600;
	r = decide(p, ctx, &out->tmpl);
	if (r != GBA_POLICY_R_OK && r != GBA_POLICY_R_PENDING)
		memset(&out->tmpl, 0, sizeof(out->tmpl));
	out->reason = r;
	out->reason_text = gba_policy_reason_text(r);
	out->allowed = r == GBA_POLICY_R_OK || r == GBA_POLICY_R_PENDING;
	out->pending = r == GBA_POLICY_R_PENDING;
	return 0;
}

/* ---- the store ---- */

struct gba_policy_store {
	pthread_mutex_t mu;
	struct gba_policy_set *cur;
};

int
gba_policy_store_new(struct gba_policy_store **out)
{
	struct gba_policy_store *st;

	*out = NULL;
	st = gba_calloc(1, sizeof(*st));
	if (st == NULL)
		return GBA_ENOMEM;
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		gba_free(st);
		return GBA_ENOMEM;
	}
	*out = st;
	return 0;
}

/* Drop one reference; the caller holds st->mu.  Returns the set to free. */
static struct gba_policy_set *
unref_locked(struct gba_policy_set *set)
{
	if (set == NULL)
		return NULL;
	set->refs--;
	return set->refs == 0 ? set : NULL;
}

void
gba_policy_store_free(struct gba_policy_store *st)
{
	struct gba_policy_set *dead;

	if (st == NULL)
		return;
	(void)pthread_mutex_lock(&st->mu);
	dead = unref_locked(st->cur);
	st->cur = NULL;
	(void)pthread_mutex_unlock(&st->mu);
	gba_policy_set_free(dead);
	(void)pthread_mutex_destroy(&st->mu);
	gba_free(st);
}

int
gba_policy_store_reload(struct gba_policy_store *st, const char *dir, char *err,
                        size_t errlen)
{
	struct gba_policy_set *set = NULL, *dead;
	int rc;

	if (st == NULL || dir == NULL)
		return GBA_EINVAL;
	rc = gba_policy_set_load(dir, &set, err, errlen);
	if (rc != 0)
		return rc;                  /* the current set stays */
	set->refs = 1;                      /* the store's reference */
	(void)pthread_mutex_lock(&st->mu);
	dead = unref_locked(st->cur);
	st->cur = set;
	(void)pthread_mutex_unlock(&st->mu);
	gba_policy_set_free(dead);
	return 0;
}

const struct gba_policy_set *
gba_policy_store_acquire(struct gba_policy_store *st)
{
	struct gba_policy_set *set;

	if (st == NULL)
		return NULL;
	(void)pthread_mutex_lock(&st->mu);
	set = st->cur;
	if (set != NULL)
		set->refs++;
	(void)pthread_mutex_unlock(&st->mu);
	return set;
}

void
gba_policy_store_release(struct gba_policy_store *st, const struct gba_policy_set *cset)
{
	struct gba_policy_set *dead;

	if (st == NULL || cset == NULL)
		return;
	(void)pthread_mutex_lock(&st->mu);
	/* The store handed this set out as const; the count is the store's. */
	dead = unref_locked((struct gba_policy_set *)(uintptr_t)cset);
	(void)pthread_mutex_unlock(&st->mu);
	gba_policy_set_free(dead);
}
