/*
 * check_policy.c - the YAML loader (lib/gba_conf) and the per-application
 * policy engine (lib/gba_policy): loader errors with exact
 * file:line:column, decision tables, template expansion, atomic reload
 * and a reload racing an evaluating thread.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_conf.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_policy.h"
#include "testutil.h"

#define ERRLEN 1024

/* A policy that sets every key (app naf.test). */
static const char full_yaml[] =
	"application:\n"
	"  id: naf.test\n"
	"  ua_protocol_id: \"0100000000\"\n"
	"  gsid: 1\n"
	"subscribers:\n"
	"  impi_patterns: [\"*@ims.test\", \"special-*@other.test\"]\n"
	"  require_uss: true\n"
	"  required_flags: [7]\n"
	"enrollment:\n"
	"  methods: [portal, cmc-simple]\n"
	"  identity_proof: false\n"
	"  pop: true\n"
	"  approval: automatic\n"
	"  key_types: [ec-p256]\n"
	"  max_active_certs: 2\n"
	"  rate_limit_per_hour: 5\n"
	"certificate:\n"
	"  issuer: test-ca\n"
	"  validity_days: 10\n"
	"  subject: \"CN=${impi},OU=${app}\"\n"
	"  san: [\"uri:${impu}\", \"dns:${app}\"]\n"
	"  key_usage: [digital-signature, key-agreement]\n"
	"  eku: [client-auth, 1.2.3.4]\n"
	"  ocsp_url: http://ocsp.test/\n"
	"  crl_url: http://crl.test/ca.crl\n"
	"renewal:\n"
	"  window_days: 3\n"
	"  same_key: false\n"
	"revocation:\n"
	"  hold: true\n"
	"  self_revoke: false\n"
	"ccm:\n"
	"  on_bootstrap: [renewal-required]\n"
	"  on_issue: [new-certificate, trust-anchors]\n"
	"  on_revoke: [revoked]\n"
	"  status: crl\n"
	"  expiry_hours: 6\n"
	"  server_certs: [/etc/a.pem]\n"
	"  trust_anchors: [/etc/b.pem]\n";

/* Minimal policies (defaults elsewhere). */
static const char manual_yaml[] =
	"application: {id: manual.test}\n"
	"subscribers: {require_uss: false}\n"
	"enrollment: {methods: [cmc-full], approval: manual}\n"
	"certificate: {issuer: ca, subject: \"CN=${impi}\"}\n";

static const char nouss_yaml[] =
	"application: {id: open.test}\n"
	"subscribers: {require_uss: false}\n"
	"enrollment: {methods: [portal], rate_limit_per_hour: 0}\n"
	"certificate: {issuer: ca, subject: \"CN=${impi}\", san: [\"uri:${impu}\"]}\n";

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void
write_str(const char *dir, const char *name, const char *text)
{
	write_file(dir, name, text, strlen(text));
}

static void
rm_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

static char *
make_dir(char *tmpl)
{
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return d;
}

static void
rm_dir(const char *dir, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		rm_file(dir, names[i]);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* ---- loader errors ---- */

static const struct {
	const char *yaml;
	int rc;
	const char *err;
} bad[] = {
	{ "application:\n  id: naf.test\n  validty: 3\n", GBA_EINVAL,
	  "t.yaml:3:3: unknown key 'application.validty'" },
	{ "application:\n  id: naf.test\n  gsid: one\n", GBA_EINVAL,
	  "t.yaml:3:9: 'gsid' must be an integer, not 'one'" },
	{ "application:\n  id: naf.test\n  gsid: \"1\"\n", GBA_EINVAL,
	  "t.yaml:3:9: 'gsid' must be an integer, not '1'" },
	{ "application:\n  id: naf.test\n  gsid: 1000000\n", GBA_EINVAL,
	  "t.yaml:3:9: 'gsid' value 1000000 is out of range 0..999999" },
	{ "application:\n  id: naf.test\n  id: naf2.test\n", GBA_EINVAL,
	  "t.yaml:3:3: duplicate key 'application.id'" },
	{ "application: &a\n  id: naf.test\n", GBA_EINVAL,
	  "t.yaml:1:14: anchor '&a' is not allowed" },
	{ "application:\n  id: naf.test\nsubscribers:\n  require_uss: *x\n", GBA_EINVAL,
	  "t.yaml:4:16: alias '*x' is not allowed" },
	{ "application:\n  id: !!str naf.test\n", GBA_EINVAL,
	  "t.yaml:2:7: tag 'tag:yaml.org,2002:str' is not allowed" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal]}\n"
	  "certificate: {issuer: ca, subject: \"CN=${cn}\"}\n", GBA_EINVAL,
	  "t.yaml:3:36: 'subject': unknown placeholder '${cn}' (only ${impi}, ${impu}, ${app})" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal]}\n"
	  "certificate: {issuer: ca, subject: \"CN=x\", san: [\"uri:$impu\"]}\n", GBA_EINVAL,
	  "t.yaml:3:50: 'san': unknown placeholder '$i' (only ${impi}, ${impu}, ${app})" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal]}\n"
	  "certificate: {issuer: ca, subject: \"CN=x\", san: [\"ip:1.2.3.4\"]}\n", GBA_EINVAL,
	  "t.yaml:3:50: 'san': expected 'uri:', 'dns:' or 'email:' followed by a template" },
	{ "application: {id: a.test}\nenrollment: {methods: [portal]}\n"
	  "certificate: {issuer: ca, subject: x}\n---\napplication: {id: b.test}\n", GBA_EINVAL,
	  "t.yaml:4:1: only one document is allowed" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal, sms]}\n", GBA_EINVAL,
	  "t.yaml:2:32: 'methods' value 'sms' is not one of: cmc-full, cmc-simple, portal" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal, portal]}\n", GBA_EINVAL,
	  "t.yaml:2:32: 'methods' lists 'portal' twice" },
	{ "application: {id: naf.test}\nenrollment: {methods: portal}\n", GBA_EINVAL,
	  "t.yaml:2:23: 'methods' must be a list" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal], pop: yes}\n", GBA_EINVAL,
	  "t.yaml:2:38: 'pop' must be true or false, not 'yes'" },
	{ "application: {id: naf.test}\nenrollment: {methods: [portal]}\n", GBA_EINVAL,
	  "t.yaml:1:1: missing required key 'certificate'" },
	{ "application: {gsid: 1}\n", GBA_EINVAL,
	  "t.yaml:1:14: missing required key 'application.id'" },
	{ "application: {id: naf.test, ua_protocol_id: 01000}\n", GBA_EINVAL,
	  "t.yaml:1:45: 'ua_protocol_id': expected exactly 10 hex digits" },
	{ "application: {id: naf..test}\n", GBA_EINVAL,
	  "t.yaml:1:19: 'id': not a valid FQDN" },
	{ "application: {id: naf.test}\nsubscribers: {required_flags: [1, -1]}\n", GBA_EINVAL,
	  "t.yaml:2:35: 'required_flags' value -1 is out of range 0..4294967295" },
	{ "application:\n  id: naf.test\n  gsid:\n", GBA_EINVAL,
	  "t.yaml:3:8: 'gsid' must be an integer" },
	{ "- a\n- b\n", GBA_EINVAL, "t.yaml:1:1: the document must be a mapping" },
	{ "", GBA_EINVAL, "t.yaml:1:1: empty file: expected a mapping" },
	{ "application:\n  id: [naf.test\n", GBA_EINVAL, "t.yaml:2:7: 'id' must be a string" },
	{ "application: {id: a.test}\nenrollment:\n  methods: [portal\n", GBA_EINVAL,
	  "t.yaml:4:1: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "application:\n  id: a.test\n gsid: 1\n", GBA_EINVAL,
	  "t.yaml:3:2: did not find expected key while parsing a block mapping" },
	{ "application:\n  id: \"naf\xff.test\"\n", GBA_EINVAL,
	  "t.yaml:2:11: invalid leading UTF-8 octet" },
	{ "application:\n  {id: x}: 1\n", GBA_EINVAL, "t.yaml:2:3: mapping keys must be scalars" },
};

START_TEST(loader_reports_file_line_column)
{
	struct gba_policy *p = NULL;
	char err[ERRLEN];
	int rc;

	rc = gba_policy_parse("t.yaml", bad[_i].yaml, strlen(bad[_i].yaml), &p, err, sizeof(err));
	ck_assert_int_eq(rc, bad[_i].rc);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(err, bad[_i].err);
}
END_TEST

START_TEST(loader_rejects_oversize_before_parsing)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *const names[] = { "big.yaml", NULL };
	char *dir = make_dir(tmpl), err[ERRLEN], exp[ERRLEN];
	size_t n = GBA_CONF_MAX_FILE + 1;
	char *big = gba_malloc(n);
	struct gba_policy_set *set = NULL;
	struct gba_policy *p = NULL;

	ck_assert_ptr_nonnull(big);
	/* Not even YAML: the size is checked first. */
	memset(big, '[', n);
	ck_assert_int_eq(gba_policy_parse("m.yaml", big, n, &p, err, sizeof(err)), GBA_ETOOBIG);
	ck_assert_str_eq(err, "m.yaml:1:1: file is larger than 65536 bytes");
	write_file(dir, "big.yaml", big, n);
	ck_assert_int_eq(gba_policy_set_load(dir, &set, err, sizeof(err)), GBA_ETOOBIG);
	ck_assert_ptr_null(set);
	snprintf(exp, sizeof(exp), "%s/big.yaml:1:1: file is larger than 65536 bytes", dir);
	ck_assert_str_eq(err, exp);
	gba_free(big);
	rm_dir(dir, names);
}
END_TEST

START_TEST(full_policy_loads_every_key)
{
	struct gba_policy *p = NULL;
	char err[ERRLEN] = "";
	const struct gba_policy_conf *c;

	ck_assert_int_eq(gba_policy_parse("f.yaml", full_yaml, strlen(full_yaml), &p, err,
	                                  sizeof(err)), 0);
	c = &p->c;
	ck_assert_str_eq(c->application.id, "naf.test");
	ck_assert_uint_eq(c->application.id_mark.line, 2);
	ck_assert_uint_eq(c->application.id_mark.col, 7);
	ck_assert_int_eq(c->application.gsid, 1);
	ck_assert_uint_eq(c->subscribers.impi_patterns.n, 2);
	ck_assert_uint_eq(c->subscribers.required_flags.n, 1);
	ck_assert_int_eq(c->subscribers.required_flags.v[0], 7);
	ck_assert_uint_eq(c->enrollment.methods, (1u << GBA_POLICY_METHOD_PORTAL) |
	                                             (1u << GBA_POLICY_METHOD_CMC_SIMPLE));
	ck_assert_uint_eq(c->enrollment.key_types, 1u << GBA_POLICY_KEY_EC_P256);
	ck_assert_int_eq(c->certificate.validity_days, 10);
	ck_assert_uint_eq(c->ccm.on_issue, (1u << GBA_POLICY_CCM_NEW_CERTIFICATE) |
	                                       (1u << GBA_POLICY_CCM_TRUST_ANCHORS));
	ck_assert_int_eq(c->ccm.status, GBA_POLICY_STATUS_CRL);
	ck_assert_str_eq(c->ccm.trust_anchors.v[0], "/etc/b.pem");
	ck_assert(c->revocation.hold);
	ck_assert(!c->revocation.self_revoke);
	gba_policy_free(p);
}
END_TEST

START_TEST(defaults_are_filled_in)
{
	struct gba_policy *p = NULL;
	char err[ERRLEN] = "";
	const struct gba_policy_conf *c;

	ck_assert_int_eq(gba_policy_parse("m.yaml", manual_yaml, strlen(manual_yaml), &p, err,
	                                  sizeof(err)), 0);
	c = &p->c;
	ck_assert_str_eq(c->application.ua_protocol_id, "0100000000");
	ck_assert_int_eq(c->application.gsid, 1);
	ck_assert_uint_eq(c->subscribers.impi_patterns.n, 1);
	ck_assert_str_eq(c->subscribers.impi_patterns.v[0], "*");
	ck_assert_uint_eq(c->enrollment.key_types, (1u << GBA_POLICY_KEY_EC_P256) |
	                                               (1u << GBA_POLICY_KEY_EC_P384));
	ck_assert(c->enrollment.pop);
	ck_assert_int_eq(c->enrollment.max_active_certs, 1);
	ck_assert_int_eq(c->certificate.validity_days, 365);
	ck_assert_uint_eq(c->certificate.key_usage, 1u << GBA_POLICY_KU_DIGITAL_SIGNATURE);
	ck_assert_str_eq(c->certificate.eku.v[0], "client-auth");
	ck_assert_ptr_null(c->certificate.ocsp_url);
	ck_assert_int_eq(c->renewal.window_days, 30);
	ck_assert(!c->revocation.hold);
	ck_assert(c->revocation.self_revoke);
	ck_assert_int_eq(c->ccm.expiry_hours, 24);
	gba_policy_free(p);
}
END_TEST

/* ---- decisions ---- */

static const uint32_t flags_7[] = { 3, 7 };
static const uint32_t flags_3[] = { 3 };
static const char *const uids_alice[] = { "sip:alice@ims.test", "tel:+15551234" };
static const char *const uids_bad[] = { "sip:a\"b@ims.test" };
static const struct gba_policy_uss uss_ok[] = {
	{ .gsid = 4, .flags = flags_7, .nflags = 2, .uids = uids_bad, .nuids = 1 },
	{ .gsid = 1, .flags = flags_7, .nflags = 2, .uids = uids_alice, .nuids = 2 },
};
static const struct gba_policy_uss uss_noflag[] = {
	{ .gsid = 1, .flags = flags_3, .nflags = 1, .uids = uids_alice, .nuids = 2 },
};
static const struct gba_policy_uss uss_other[] = {
	{ .gsid = 4, .flags = flags_7, .nflags = 2, .uids = uids_alice, .nuids = 2 },
};
static const struct gba_policy_uss uss_bad_impu[] = {
	{ .gsid = 1, .flags = flags_7, .nflags = 2, .uids = uids_bad, .nuids = 1 },
};
static const struct gba_policy_uss uss_no_uids[] = {
	{ .gsid = 1, .flags = flags_7, .nflags = 2, .uids = NULL, .nuids = 0 },
};

#define NOW 1700000000
#define CTX(app, impi, uss, nuss, m, k, act, req) \
	{ app, "0100000000", impi, "btid@bsf.test", uss, nuss, m, k, act, req, NOW, false }
#define PORTAL GBA_POLICY_METHOD_PORTAL
#define P256 GBA_POLICY_KEY_EC_P256

static const struct {
	struct gba_policy_ctx ctx;
	enum gba_policy_reason reason;
	const char *subject, *san0, *san1;
} decisions[] = {
	{ CTX("naf.test", "alice@ims.test", uss_ok, 2, PORTAL, P256, 0, 0), GBA_POLICY_R_OK,
	  "CN=alice@ims.test,OU=naf.test", "uri:sip:alice@ims.test", "dns:naf.test" },
	{ CTX("NAF.Test", "special-1@other.test", uss_ok, 2, GBA_POLICY_METHOD_CMC_SIMPLE, P256,
	      1, 4), GBA_POLICY_R_OK, "CN=special-1@other.test,OU=naf.test",
	  "uri:sip:alice@ims.test", "dns:naf.test" },
	{ CTX("unknown.test", "alice@ims.test", uss_ok, 2, PORTAL, P256, 0, 0),
	  GBA_POLICY_R_NO_POLICY, NULL, NULL, NULL },
	{ { "naf.test", "0200000000", "alice@ims.test", "b", uss_ok, 2, PORTAL, P256, 0, 0, NOW, false },
	  GBA_POLICY_R_UA_PROTOCOL, NULL, NULL, NULL },
	{ CTX("naf.test", "mallory@evil.test", uss_ok, 2, PORTAL, P256, 0, 0), GBA_POLICY_R_IMPI,
	  NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", NULL, 0, PORTAL, P256, 0, 0), GBA_POLICY_R_NO_USS,
	  NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_other, 1, PORTAL, P256, 0, 0),
	  GBA_POLICY_R_NO_USS, NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_noflag, 1, PORTAL, P256, 0, 0), GBA_POLICY_R_FLAG,
	  NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_ok, 2, GBA_POLICY_METHOD_CMC_FULL, P256, 0, 0),
	  GBA_POLICY_R_METHOD, NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_ok, 2, PORTAL, GBA_POLICY_KEY_RSA_2048, 0, 0),
	  GBA_POLICY_R_KEY_TYPE, NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_ok, 2, PORTAL, P256, 2, 0), GBA_POLICY_R_MAX_CERTS,
	  NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_ok, 2, PORTAL, P256, 0, 5),
	  GBA_POLICY_R_RATE_LIMIT, NULL, NULL, NULL },
	/* An IMPI with a DN special (allowed by the pattern) is refused, not escaped. */
	{ CTX("naf.test", "a,O=evil@ims.test", uss_ok, 2, PORTAL, P256, 0, 0),
	  GBA_POLICY_R_UNSAFE_VALUE, NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_bad_impu, 1, PORTAL, P256, 0, 0),
	  GBA_POLICY_R_UNSAFE_VALUE, NULL, NULL, NULL },
	{ CTX("naf.test", "alice@ims.test", uss_no_uids, 1, PORTAL, P256, 0, 0),
	  GBA_POLICY_R_NO_IMPU, NULL, NULL, NULL },
	/* Manual approval: allowed, pending; no USS needed by that policy. */
	{ CTX("manual.test", "bob@x.test", NULL, 0, GBA_POLICY_METHOD_CMC_FULL,
	      GBA_POLICY_KEY_EC_P384, 0, 9), GBA_POLICY_R_PENDING, "CN=bob@x.test", NULL, NULL },
	{ CTX("manual.test", "bob+x@x.test", NULL, 0, GBA_POLICY_METHOD_CMC_FULL,
	      GBA_POLICY_KEY_EC_P384, 0, 0), GBA_POLICY_R_UNSAFE_VALUE, NULL, NULL, NULL },
	/* No USS allowed, but the SAN template needs an IMPU. */
	{ CTX("open.test", "carol@x.test", NULL, 0, PORTAL, P256, 0, 10000), GBA_POLICY_R_NO_IMPU,
	  NULL, NULL, NULL },
	{ CTX("open.test", "carol@x.test", uss_ok, 2, PORTAL, P256, 0, 10000), GBA_POLICY_R_OK,
	  "CN=carol@x.test", "uri:sip:alice@ims.test", NULL },
};

static struct gba_policy_set *
load_three(char *tmpl, const char **dirp)
{
	struct gba_policy_set *set = NULL;
	char err[ERRLEN] = "";
	const char *dir = make_dir(tmpl);

	write_str(dir, "full.yaml", full_yaml);
	write_str(dir, "manual.yaml", manual_yaml);
	write_str(dir, "open.yaml", nouss_yaml);
	write_str(dir, "README", "not a policy: ignored\n");
	ck_assert_msg(gba_policy_set_load(dir, &set, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(set->n, 3);
	*dirp = dir;
	return set;
}

static const char *const three_names[] = { "full.yaml", "manual.yaml", "open.yaml", "README",
	                                   "dup.yaml", "zz-bad.yaml", NULL };

START_TEST(decision_table)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *dir = NULL;
	struct gba_policy_set *set = load_three(tmpl, &dir);
	struct gba_policy_decision d;
	const struct gba_policy *p;
	char file[600];

	ck_assert_int_eq(gba_policy_evaluate(set, &decisions[_i].ctx, &d), 0);
	ck_assert_msg(d.reason == decisions[_i].reason, "row %d: reason %d (%s), expected %d", _i,
	              d.reason, d.reason_text, decisions[_i].reason);
	ck_assert_str_eq(d.reason_text, gba_policy_reason_text(decisions[_i].reason));
	ck_assert(d.allowed == (decisions[_i].subject != NULL));
	ck_assert(d.pending == (decisions[_i].reason == GBA_POLICY_R_PENDING));
	if (d.reason != GBA_POLICY_R_NO_POLICY) {
		p = gba_policy_find(set, decisions[_i].ctx.app_id);
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(d.policy_file, p->path);
		ck_assert_mem_eq(d.policy_sha256, p->sha256, 32);
		snprintf(file, sizeof(file), "%s/", dir);
		ck_assert(strncmp(d.policy_file, file, strlen(file)) == 0);
	} else {
		ck_assert_str_eq(d.policy_file, "");
	}
	if (decisions[_i].subject != NULL) {
		ck_assert_str_eq(d.tmpl.subject, decisions[_i].subject);
		ck_assert_int_eq(d.tmpl.not_before, NOW - GBA_POLICY_BACKDATE_S);
		if (decisions[_i].san0 != NULL)
			ck_assert_str_eq(d.tmpl.san[0], decisions[_i].san0);
		if (decisions[_i].san1 != NULL) {
			ck_assert_uint_eq(d.tmpl.nsan, 2);
			ck_assert_str_eq(d.tmpl.san[1], decisions[_i].san1);
		}
	} else {
		ck_assert_str_eq(d.tmpl.subject, "");
		ck_assert_uint_eq(d.tmpl.nsan, 0);
	}
	gba_policy_set_free(set);
	rm_dir(dir, three_names);
}
END_TEST

START_TEST(template_carries_the_policy)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *dir = NULL;
	struct gba_policy_set *set = load_three(tmpl, &dir);
	struct gba_policy_decision d;

	ck_assert_int_eq(gba_policy_evaluate(set, &decisions[0].ctx, &d), 0);
	ck_assert(d.allowed && !d.pending);
	ck_assert_str_eq(d.tmpl.issuer, "test-ca");
	ck_assert_int_eq(d.tmpl.not_after, NOW + 10 * 86400);
	ck_assert_uint_eq(d.tmpl.key_usage, (1u << GBA_POLICY_KU_DIGITAL_SIGNATURE) |
	                                        (1u << GBA_POLICY_KU_KEY_AGREEMENT));
	ck_assert_uint_eq(d.tmpl.neku, 2);
	ck_assert_str_eq(d.tmpl.eku[0], "1.3.6.1.5.5.7.3.2");
	ck_assert_str_eq(d.tmpl.eku[1], "1.2.3.4");
	ck_assert_str_eq(d.tmpl.ocsp_url, "http://ocsp.test/");
	ck_assert_str_eq(d.tmpl.crl_url, "http://crl.test/ca.crl");
	/* Bad arguments are errors, not decisions. */
	ck_assert_int_eq(gba_policy_evaluate(set, NULL, &d), GBA_EINVAL);
	ck_assert_int_eq(gba_policy_evaluate(NULL, &decisions[0].ctx, &d), GBA_EINVAL);
	ck_assert(!d.allowed);
	gba_policy_set_free(set);
	rm_dir(dir, three_names);
}
END_TEST

START_TEST(duplicate_application_names_both_files)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *dir = NULL;
	struct gba_policy_set *set = load_three(tmpl, &dir), *set2 = NULL;
	char err[ERRLEN], exp[ERRLEN];

	write_str(dir, "dup.yaml", "# same app as full.yaml\napplication:\n  id: NAF.test\n"
	                           "enrollment: {methods: [portal]}\n"
	                           "certificate: {issuer: ca, subject: \"CN=${impi}\"}\n");
	ck_assert_int_eq(gba_policy_set_load(dir, &set2, err, sizeof(err)), GBA_EINVAL);
	ck_assert_ptr_null(set2);
	snprintf(exp, sizeof(exp),
	         "%s/full.yaml:2:7: application 'naf.test' is also defined in %s/dup.yaml", dir,
	         dir);
	ck_assert_str_eq(err, exp);
	gba_policy_set_free(set);
	rm_dir(dir, three_names);
}
END_TEST

START_TEST(examples_load)
{
	const char *top = getenv("top_srcdir");
	char dir[512], err[ERRLEN] = "";
	struct gba_policy_set *set = NULL;
	const struct gba_policy *p;
	const struct gba_policy_uss uss = { .gsid = 1, .uids = uids_alice, .nuids = 1 };
	struct gba_policy_ctx ctx = CTX("naf.gbacert.test", "alice@ims.gbacert.test", &uss, 1,
	                                PORTAL, P256, 0, 0);
	struct gba_policy_decision d;

	snprintf(dir, sizeof(dir), "%s/policies", top != NULL ? top : "..");
	ck_assert_msg(gba_policy_set_load(dir, &set, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(set->n, 3);
	p = gba_policy_find(set, "naf.gbacert.test");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(gba_policy_find(set, "as.gbacert.test"));
	p = gba_policy_find(set, "vip.gbacert.test");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->c.enrollment.approval, GBA_POLICY_APPROVAL_MANUAL);
	ck_assert_int_eq(gba_policy_evaluate(set, &ctx, &d), 0);
	ck_assert_msg(d.allowed, "%s", d.reason_text);
	ck_assert_str_eq(d.tmpl.subject, "CN=alice@ims.gbacert.test");
	ck_assert_str_eq(d.tmpl.san[0], "uri:sip:alice@ims.test");
	gba_policy_set_free(set);
}
END_TEST

/* The printed form of a policy is itself a valid policy, equal to it. */
START_TEST(print_round_trips)
{
	struct gba_policy *p = NULL, *q = NULL;
	char err[ERRLEN] = "", *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(gba_policy_parse("f.yaml", full_yaml, strlen(full_yaml), &p, err,
	                                  sizeof(err)), 0);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gba_policy_print(f, p), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(gba_policy_parse("g.yaml", buf, len, &q, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(q->c.certificate.subject, p->c.certificate.subject);
	ck_assert_uint_eq(q->c.enrollment.methods, p->c.enrollment.methods);
	ck_assert_uint_eq(q->c.ccm.on_issue, p->c.ccm.on_issue);
	ck_assert_int_eq(q->c.renewal.window_days, p->c.renewal.window_days);
	ck_assert_int_eq(q->c.revocation.hold, p->c.revocation.hold);
	ck_assert_int_eq(q->c.revocation.self_revoke, p->c.revocation.self_revoke);
	free(buf);
	gba_policy_free(p);
	gba_policy_free(q);
}
END_TEST

START_TEST(survives_allocation_failures)
{
	struct gba_policy *p = NULL;
	char err[ERRLEN];
	long n;
	int rc;

	for (n = 0; n < 400; n++) {
		gba_mem_fail_after(n);
		rc = gba_policy_parse("f.yaml", full_yaml, strlen(full_yaml), &p, err, sizeof(err));
		gba_mem_fail_reset();
		if (rc == 0) {
			gba_policy_free(p);
			break;
		}
		ck_assert_msg(rc == GBA_ENOMEM, "n=%ld rc=%d %s", n, rc, err);
		ck_assert_ptr_null(p);
	}
	ck_assert_int_lt(n, 400);
}
END_TEST

/* ---- the store ---- */

static const char bad_yaml[] = "application:\n  id: naf.test\n  validty: 3\n";

START_TEST(reload_keeps_old_set_on_error)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *dir = NULL;
	struct gba_policy_set *tmp = load_three(tmpl, &dir);
	struct gba_policy_store *st = NULL;
	const struct gba_policy_set *a, *b, *c;
	struct gba_policy_decision d;
	char err[ERRLEN], exp[ERRLEN];

	gba_policy_set_free(tmp);
	ck_assert_int_eq(gba_policy_store_new(&st), 0);
	ck_assert_ptr_null(gba_policy_store_acquire(st));
	ck_assert_int_eq(gba_policy_store_reload(st, dir, err, sizeof(err)), 0);
	a = gba_policy_store_acquire(st);
	ck_assert_ptr_nonnull(a);

	/* A bad file: the reload fails, the store keeps a. */
	write_str(dir, "zz-bad.yaml", bad_yaml);
	ck_assert_int_eq(gba_policy_store_reload(st, dir, err, sizeof(err)), GBA_EINVAL);
	snprintf(exp, sizeof(exp), "%s/zz-bad.yaml:3:3: unknown key 'application.validty'", dir);
	ck_assert_str_eq(err, exp);
	b = gba_policy_store_acquire(st);
	ck_assert_ptr_eq(a, b);
	gba_policy_store_release(st, b);

	/* Fixed: a new set; a stays valid for its holder. */
	rm_file(dir, "zz-bad.yaml");
	rm_file(dir, "open.yaml");
	ck_assert_int_eq(gba_policy_store_reload(st, dir, err, sizeof(err)), 0);
	c = gba_policy_store_acquire(st);
	ck_assert_ptr_ne(a, c);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_uint_eq(a->n, 3);
	ck_assert_int_eq(gba_policy_evaluate(a, &decisions[18].ctx, &d), 0);
	ck_assert(d.allowed);
	ck_assert_int_eq(gba_policy_evaluate(c, &decisions[18].ctx, &d), 0);
	ck_assert_int_eq(d.reason, GBA_POLICY_R_NO_POLICY);
	gba_policy_store_release(st, a);
	gba_policy_store_release(st, c);
	gba_policy_store_free(st);
	rm_dir(dir, three_names);
}
END_TEST

struct race {
	struct gba_policy_store *st;
	volatile int stop;
	unsigned long evals;
	int failures;
};

static void *
evaluator(void *arg)
{
	struct race *r = arg;
	struct gba_policy_decision d;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		const struct gba_policy_set *set = gba_policy_store_acquire(r->st);

		if (set == NULL || gba_policy_evaluate(set, &decisions[0].ctx, &d) != 0 ||
		    !d.allowed || strcmp(d.tmpl.subject, decisions[0].subject) != 0)
			r->failures++;
		gba_policy_store_release(r->st, set);
		r->evals++;
	}
	return NULL;
}

START_TEST(reload_races_evaluation)
{
	char tmpl[] = "/tmp/check_policy.XXXXXX";
	const char *dir = NULL;
	struct gba_policy_set *tmp = load_three(tmpl, &dir);
	struct race r;
	pthread_t t;
	char err[ERRLEN];
	int i, rc;

	gba_policy_set_free(tmp);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(gba_policy_store_new(&r.st), 0);
	ck_assert_int_eq(gba_policy_store_reload(r.st, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, evaluator, &r), 0);
	for (i = 0; i < 100; i++) {
		if (i % 2 == 1)
			write_str(dir, "zz-bad.yaml", bad_yaml);
		else
			rm_file(dir, "zz-bad.yaml");
		rc = gba_policy_store_reload(r.st, dir, err, sizeof(err));
		ck_assert_int_eq(rc, i % 2 == 1 ? GBA_EINVAL : 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(r.failures, 0);
	ck_assert_uint_gt(r.evals, 0);
	gba_policy_store_free(r.st);
	rm_dir(dir, three_names);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("gba_policy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, loader_reports_file_line_column, 0,
	                    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, loader_rejects_oversize_before_parsing);
	tcase_add_test(tc, full_policy_loads_every_key);
	tcase_add_test(tc, defaults_are_filled_in);
	tcase_add_loop_test(tc, decision_table, 0, (int)(sizeof(decisions) / sizeof(decisions[0])));
	tcase_add_test(tc, template_carries_the_policy);
	tcase_add_test(tc, duplicate_application_names_both_files);
	tcase_add_test(tc, examples_load);
	tcase_add_test(tc, print_round_trips);
	tcase_add_test(tc, survives_allocation_failures);
	tcase_add_test(tc, reload_keeps_old_set_on_error);
	tcase_add_test(tc, reload_races_evaluation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return th_run(policy_suite());
}
