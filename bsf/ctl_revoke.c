/*
 * ctl_revoke.c - gba-ctl commands that change a certificate's status,
 * and the CRL:
 *
 *   gba-ctl [GLOBAL] revoke SERIAL --reason R [--invalidity-date T] [--policy-dir DIR]
 *   gba-ctl [GLOBAL] hold SERIAL --policy-dir DIR
 *   gba-ctl [GLOBAL] unhold SERIAL
 *   gba-ctl [GLOBAL] revoke-subscriber IMPI --reason R [--policy-dir DIR]
 *   gba-ctl [GLOBAL] crl CA-DIR [--ca-name N] [--ca-key K] [--lifetime S]
 *                            [--out FILE] [--force]
 *
 * GLOBAL: --db, --key-file and --audit-log (gba-ctl's own audit file:
 * the daemons lock theirs).  R is a CRLReason name as RFC 5280 spells
 * it (keyCompromise, ...); T is RFC 3339.  The rules are the store's
 * (gba_store.h: revoked is final, hold only from valid, unhold only
 * from hold).  Every change is audited before it is committed: the
 * record is written inside the store's transaction, so a change whose
 * record could not be written does not happen (fail closed), and a
 * commit that fails after its `ok` record gets an `error` record.
 * Refusals by the store (unknown serial, a status that does not allow
 * the change) are recorded as `denied`.
 *
 * The change is visible to every worker and daemon on the database as
 * soon as the command returns (the store's change counter): OCSP
 * answers change at once, the next CRL request rebuilds the CRL.
 * Exit status: 0 success, 1 error or refusal, 2 usage.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gba_asn1.h"
#include "gba_audit.h"
#include "gba_crl.h"
#include "gba_ccm_out.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_policy.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ctl_cert.h"

#define EXIT_ERR   1
#define EXIT_USAGE 2

#define DEFAULT_CA_NAME  "gbacert-subscriber-ca"
#define DEFAULT_LIFETIME 86400u
#define SERIAL_HEX_MAX   (2u * GBA_STORE_MAX_SERIAL)
#define PATH_MAX_LEN     4096u

static const char *prog = "gba-ctl";

static void revoke_usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ctl [--db PATH] [--key-file PATH] [--audit-log PATH] COMMAND ...\n"
	        "  revoke SERIAL --reason R [--invalidity-date T] [--policy-dir DIR]\n"
	        "                            revoke a certificate for good (SERIAL in hex);\n"
	        "                            R: unspecified, keyCompromise, cACompromise,\n"
	        "                            affiliationChanged, superseded,\n"
	        "                            cessationOfOperation, privilegeWithdrawn;\n"
	        "                            T: RFC 3339, not in the future; with DIR, a\n"
	        "                            `revoked` CCM is queued where the application's\n"
	        "                            policy has ccm.on_revoke [revoked]\n"
	        "  hold SERIAL --policy-dir DIR   suspend (certificateHold) where the\n"
	        "                            application's policy has revocation.hold: true\n"
	        "  unhold SERIAL             lift a hold\n"
	        "  revoke-subscriber IMPI --reason R [--policy-dir DIR]\n"
	        "                            revoke every certificate of IMPI (CCMs as revoke)\n"
	        "  crl CA-DIR [--ca-name N] [--ca-key K] [--lifetime S] [--out FILE] [--force]\n"
	        "                            the CA's current CRL (DER to FILE, else PEM on\n"
	        "                            standard output), made and stored when out of date\n"
	        "  --audit-log PATH          gba-ctl's audit log (default gbacert-ctl-audit.jsonl)\n");
}

int ctl_revoke_command(const char *word)
{
	return strcmp(word, "revoke") == 0 || strcmp(word, "hold") == 0 ||
	       strcmp(word, "unhold") == 0 || strcmp(word, "revoke-subscriber") == 0 ||
	       strcmp(word, "crl") == 0;
}

/* ---- auditing inside the store's transaction ---- */

struct audit_ctx {
	struct gba_audit *a;
	/* revoke with --policy-dir: the revoked CCMs (doc/ccm.md) */
	const struct gba_policy_set *policies;
	struct gba_ccm_out ccm;           /* the last one made; body owned */
	uint8_t *ccm_body;
	size_t nccm;                      /* made (queued if committed) */
	enum gba_audit_type type;
	const char *reason;               /* CRLReason name, or a refusal */
	const char *policy;               /* hold: the policy file */
	const uint8_t *policy_sha256;
	int written;                      /* ok records written */
	int failed;                       /* the hook could not write one */
};

static int audit_record(struct audit_ctx *c, enum gba_audit_outcome o, const char *reason,
                        const struct gba_cert_record *r, const char *impi)
{
	struct gba_audit_event ev;
	struct gba_cert_info ci;
	char serial[SERIAL_HEX_MAX + 1], ph[65];
	int ret;

	memset(&ev, 0, sizeof(ev));
	memset(&ci, 0, sizeof(ci));
	ev.type = c->type;
	ev.outcome = o;
	ev.reason = reason;
	ev.peer = "gba-ctl";
	if (r != NULL) {
		ev.app = r->app_id;
		ev.impi = r->impi;
		gba_hex_encode(r->serial, r->serial_len, serial);
		ev.serial = serial;
		if (r->der != NULL && gba_x509_cert_info(r->der, r->der_len, &ci) == 0)
			ev.subject = ci.subject;
	} else {
		ev.impi = impi;
	}
	if (c->policy != NULL) {
		ev.policy = c->policy;
		gba_hex_encode(c->policy_sha256, 32, ph);
		ev.policy_sha256 = ph;
	}
	ret = gba_audit_emit(c->a, &ev);
	gba_cert_info_clear(&ci);
	return ret;
}

/*
 * The `revoked` CCM for cur when its application's policy has
 * ccm.on_revoke [revoked] (else *out stays NULL).  It carries the
 * certificate and its validity; the NAF adds the revocation status (a
 * fresh OCSP response, or the CRL) when it signs the message at first
 * delivery (doc/ccm.md).  The previous message's body is freed.
 */
static int revoked_ccm(struct audit_ctx *c, const struct gba_cert_record *cur,
                       const struct gba_ccm_out **out)
{
	const struct gba_policy *p;
	int ret;

	gba_free(c->ccm_body);
	c->ccm_body = NULL;
	p = c->policies != NULL ? gba_policy_find(c->policies, cur->app_id) : NULL;
	if (p == NULL || (p->c.ccm.on_revoke & (1u << GBA_POLICY_CCM_REVOKED)) == 0)
		return 0;
	ret = gba_ccm_out_revoked(cur, gba_time_now(), p->c.ccm.expiry_hours * 3600, &c->ccm,
	                          &c->ccm_body);
	if (ret < 0)
		return ret;
	*out = &c->ccm;
	c->nccm++;
	return 0;
}

/* The store's hook: the `ok` record, before anything is written, and
 * the CCM to queue with the change. */
static int audit_before(void *ctx, const struct gba_cert_record *cur,
                        const struct gba_ccm_out **ccm)
{
	struct audit_ctx *c = ctx;
	int ret = revoked_ccm(c, cur, ccm);

	if (ret < 0) {
		fprintf(stderr, "%s: cannot make the revoked CCM (%s): nothing changed\n", prog,
		        gba_strerror(ret));
		c->failed = 1;
		return ret;
	}
	ret = audit_record(c, GBA_AUDIT_OK, c->reason, cur, NULL);

	if (ret < 0) {
		fprintf(stderr, "%s: cannot write the audit record (%s): nothing changed\n", prog,
		        gba_strerror(ret));
		c->failed = 1;
		return ret;
	}
	c->written++;
	return 0;
}

static int open_audit(struct gba_audit **a, const char *path)
{
	int ret = gba_audit_open(a, path, 0);

	if (ret < 0)
		fprintf(stderr, "%s: cannot open the audit log %s: %s (nothing changed)\n", prog,
		        path, gba_strerror(ret));
	return ret;
}

/* ---- argument helpers ---- */

static int parse_reason(const char *s, int *reason)
{
	if (gba_crl_reason_by_name(s, reason) != 0 || !gba_store_revoke_reason_ok(*reason)) {
		fprintf(stderr,
		        "%s: --reason: '%s' is not one of unspecified, keyCompromise, cACompromise,"
		        " affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn"
		        " (certificateHold: use hold)\n",
		        prog, s);
		return -1;
	}
	return 0;
}

static int parse_serial_arg(const char *s, uint8_t serial[GBA_STORE_MAX_SERIAL], size_t *len)
{
	if (ctl_parse_serial(s, serial, len) < 0) {
		fprintf(stderr, "%s: serial: expected 1 to %u hex digits\n", prog, SERIAL_HEX_MAX);
		return -1;
	}
	return 0;
}

static void why_refused(const char *what, const char *arg, int r)
{
	switch (r) {
	case GBA_ENOTFOUND:
		fprintf(stderr, "%s: %s: no certificate with serial %s\n", prog, what, arg);
		break;
	case GBA_ESTATE:
		fprintf(stderr, "%s: %s: certificate %s is %s: nothing changed\n", prog, what, arg,
		        strcmp(what, "unhold") == 0 ? "not on hold" :
		        strcmp(what, "hold") == 0 ? "not valid" : "already revoked");
		break;
	default:
		fprintf(stderr, "%s: %s %s: %s\n", prog, what, arg, gba_strerror(r));
		break;
	}
}

/* After a failed change: `denied` for the store's refusals (nothing was
 * recorded as ok), `error` when an ok record exists for a change that
 * did not commit. */
static void audit_failure(struct audit_ctx *c, int r, const char *serial_hex)
{
	struct gba_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = c->type;
	ev.peer = "gba-ctl";
	ev.serial = serial_hex;
	if (c->written > 0) {
		ev.outcome = GBA_AUDIT_ERROR;
		ev.reason = gba_errname(r);
	} else if (r == GBA_ENOTFOUND || r == GBA_ESTATE) {
		ev.outcome = GBA_AUDIT_DENIED;
		ev.reason = r == GBA_ENOTFOUND ? "unknown-serial" : "status-forbids";
	} else {
		return;   /* nothing was decided (or the hook's own write failed) */
	}
	if (gba_audit_emit(c->a, &ev) < 0)
		fprintf(stderr, "%s: cannot write the audit record for the failure\n", prog);
}

/* ---- revoke, hold, unhold ---- */

struct status_args {
	const char *what;                 /* "revoke", "hold", "unhold" */
	int op;
	const char *serial_arg;
	int reason;
	int64_t invalidity;
	const char *policy_dir;
};

static int load_policies(const char *dir, struct gba_policy_set **set)
{
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];

	if (gba_policy_set_load(dir, set, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --policy-dir: %s (nothing changed)\n", prog, err);
		return -1;
	}
	return 0;
}

/* The policy that governs the certificate's application, for hold. */
static int hold_allowed(struct gba_store *st, const struct status_args *a,
                        const uint8_t *serial, size_t serial_len, struct gba_policy_set **set,
                        const struct gba_policy **pol)
{
	struct gba_cert_record c;
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];
	int r;

	*set = NULL;
	*pol = NULL;
	memset(&c, 0, sizeof(c));
	r = gba_policy_set_load(a->policy_dir, set, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: hold: %s\n", prog, err);
		return -1;
	}
	r = gba_store_cert_get(st, serial, serial_len, &c);
	if (r < 0) {
		why_refused(a->what, a->serial_arg, r);
		return -1;
	}
	*pol = gba_policy_find(*set, c.app_id);
	if (*pol == NULL || !(*pol)->c.revocation.hold) {
		fprintf(stderr,
		        "%s: hold: the policy for %s does not allow certificateHold"
		        " (revocation.hold): nothing changed\n",
		        prog, c.app_id);
		gba_cert_record_clear(&c);
		return -1;
	}
	gba_cert_record_clear(&c);
	return 0;
}

static int do_status(const struct status_args *a, const char *db, const char *key,
                     const char *audit_log)
{
	struct gba_store *st = NULL;
	struct gba_audit *au = NULL;
	struct gba_policy_set *set = NULL;
	const struct gba_policy *pol = NULL;
	struct gba_revocation rv;
	struct gba_cert_record after;
	struct audit_ctx ac;
	uint8_t serial[GBA_STORE_MAX_SERIAL];
	char hex[SERIAL_HEX_MAX + 1], t[32];
	size_t serial_len = 0;
	int64_t now = gba_time_now();
	int r, ret = EXIT_ERR;

	memset(&after, 0, sizeof(after));
	memset(&ac, 0, sizeof(ac));
	if (parse_serial_arg(a->serial_arg, serial, &serial_len) < 0)
		return EXIT_ERR;
	if (a->invalidity > now) {
		fprintf(stderr, "%s: --invalidity-date is in the future\n", prog);
		return EXIT_ERR;
	}
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	if (a->op == GBA_STATUS_HOLD && hold_allowed(st, a, serial, serial_len, &set, &pol) < 0)
		goto out;
	/* hold and unhold queue no CCM: the module has no action for them */
	if (a->op == GBA_STATUS_REVOKE && a->policy_dir != NULL &&
	    load_policies(a->policy_dir, &set) < 0)
		goto out;
	ac.policies = a->op == GBA_STATUS_REVOKE ? set : NULL;
	if (open_audit(&au, audit_log) < 0)
		goto out;
	ac.a = au;
	ac.type = a->op == GBA_STATUS_REVOKE ? GBA_AUDIT_REVOKE :
	          a->op == GBA_STATUS_HOLD ? GBA_AUDIT_HOLD : GBA_AUDIT_UNHOLD;
	ac.reason = a->op == GBA_STATUS_REVOKE ? gba_crl_reason_name(a->reason) :
	            a->op == GBA_STATUS_HOLD ? "certificateHold" : "removeFromHold";
	if (pol != NULL) {
		ac.policy = pol->path;
		ac.policy_sha256 = pol->sha256;
	}
	memset(&rv, 0, sizeof(rv));
	rv.serial = serial;
	rv.serial_len = serial_len;
	rv.op = a->op;
	rv.reason = a->reason;
	rv.at = now;
	rv.invalidity_date = a->invalidity;
	r = gba_store_cert_set_status(st, &rv, audit_before, &ac, &after);
	gba_hex_encode(serial, serial_len, hex);
	if (r != 0) {
		audit_failure(&ac, r, hex);
		if (!ac.failed)
			why_refused(a->what, a->serial_arg, r);
		goto out;
	}
	if (gba_time_rfc3339(after.revoked_at != 0 ? after.revoked_at : now, t) < 0)
		t[0] = '\0';
	if (a->op == GBA_STATUS_REVOKE)
		printf("revoked %s reason %s at %s\n", hex, gba_crl_reason_name(after.reason), t);
	if (ac.nccm > 0)
		printf("queued a revoked CCM for %s\n", after.impi);
	else if (a->op == GBA_STATUS_HOLD)
		printf("held %s at %s\n", hex, t);
	else
		printf("unheld %s\n", hex);
	ret = 0;
out:
	gba_free(ac.ccm_body);
	gba_cert_record_clear(&after);
	gba_policy_set_free(set);
	gba_audit_close(au);
	gba_store_close(st);
	return ret;
}

static int cmd_status(const char *what, int op, int argc, char **argv, const char *db,
                      const char *key, const char *audit_log)
{
	struct status_args a;
	int i, have_reason = 0;

	memset(&a, 0, sizeof(a));
	a.what = what;
	a.op = op;
	for (i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (a.serial_arg != NULL) {
				fprintf(stderr, "%s: %s: unexpected argument '%s'\n", prog, what, argv[i]);
				return EXIT_USAGE;
			}
			a.serial_arg = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s: %s needs a value\n", prog, what, argv[i]);
			return EXIT_USAGE;
		}
		if (op == GBA_STATUS_REVOKE && strcmp(argv[i], "--reason") == 0 && !have_reason) {
			if (parse_reason(argv[i + 1], &a.reason) < 0)
				return EXIT_USAGE;
			have_reason = 1;
		} else if (op == GBA_STATUS_REVOKE && strcmp(argv[i], "--invalidity-date") == 0 &&
		           a.invalidity == 0) {
			if (gba_time_parse_rfc3339(argv[i + 1], strlen(argv[i + 1]), &a.invalidity) != 0 ||
			    a.invalidity <= 0) {
				fprintf(stderr, "%s: --invalidity-date: expected RFC 3339, e.g."
				        " 2026-01-31T12:00:00Z\n", prog);
				return EXIT_USAGE;
			}
		} else if (op != GBA_STATUS_UNHOLD && strcmp(argv[i], "--policy-dir") == 0 &&
		           a.policy_dir == NULL) {
			a.policy_dir = argv[i + 1];
		} else {
			fprintf(stderr, "%s: %s: unknown or repeated option '%s'\n", prog, what, argv[i]);
			return EXIT_USAGE;
		}
		i++;
	}
	if (a.serial_arg == NULL) {
		fprintf(stderr, "%s: %s needs a SERIAL (hex)\n", prog, what);
		return EXIT_USAGE;
	}
	if (op == GBA_STATUS_REVOKE && !have_reason) {
		fprintf(stderr, "%s: revoke needs --reason (keyCompromise, superseded, ...)\n", prog);
		return EXIT_USAGE;
	}
	if (op == GBA_STATUS_HOLD && a.policy_dir == NULL) {
		fprintf(stderr, "%s: hold needs --policy-dir DIR (the policy must allow it)\n", prog);
		return EXIT_USAGE;
	}
	return do_status(&a, db, key, audit_log);
}

/* ---- revoke-subscriber ---- */

static int cmd_revoke_subscriber(int argc, char **argv, const char *db, const char *key,
                                 const char *audit_log)
{
	struct gba_store *st = NULL;
	struct gba_audit *au = NULL;
	struct audit_ctx ac;
	struct gba_policy_set *set = NULL;
	const char *impi = NULL, *policy_dir = NULL;
	size_t count = 0;
	int i, reason = -1, r, ret = EXIT_ERR;

	memset(&ac, 0, sizeof(ac));
	for (i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (impi != NULL) {
				fprintf(stderr, "%s: revoke-subscriber: unexpected argument '%s'\n", prog,
				        argv[i]);
				return EXIT_USAGE;
			}
			impi = argv[i];
			continue;
		}
		if (i + 1 < argc && strcmp(argv[i], "--reason") == 0 && reason < 0) {
			if (parse_reason(argv[i + 1], &reason) < 0)
				return EXIT_USAGE;
			i++;
			continue;
		}
		if (i + 1 < argc && strcmp(argv[i], "--policy-dir") == 0 && policy_dir == NULL) {
			policy_dir = argv[++i];
			continue;
		}
		fprintf(stderr, "%s: revoke-subscriber: unknown or repeated option '%s'\n", prog,
		        argv[i]);
		return EXIT_USAGE;
	}
	if (impi == NULL || reason < 0) {
		fprintf(stderr, "%s: revoke-subscriber needs IMPI and --reason R\n", prog);
		return EXIT_USAGE;
	}
	if (gba_store_impi_check(impi) != 0) {
		fprintf(stderr, "%s: invalid IMPI: must be 1 to %u printable ASCII characters,"
		        " no spaces\n", prog, GBA_MAX_IMPI_LEN);
		return EXIT_ERR;
	}
	if (policy_dir != NULL && load_policies(policy_dir, &set) < 0)
		goto out;
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	if (open_audit(&au, audit_log) < 0)
		goto out;
	ac.a = au;
	ac.type = GBA_AUDIT_REVOKE;
	ac.reason = gba_crl_reason_name(reason);
	ac.policies = set;
	r = gba_store_revoke_impi(st, impi, reason, gba_time_now(), audit_before, &ac, &count);
	if (r != 0) {
		if (!ac.failed)
			fprintf(stderr, "%s: revoke-subscriber: %s: nothing changed\n", prog,
			        gba_strerror(r));
		if (ac.written > 0) {
			struct gba_audit_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.type = GBA_AUDIT_REVOKE;
			ev.outcome = GBA_AUDIT_ERROR;
			ev.reason = gba_errname(r);
			ev.peer = "gba-ctl";
			ev.impi = impi;
			if (gba_audit_emit(au, &ev) < 0)
				fprintf(stderr, "%s: cannot write the audit record for the failure\n",
				        prog);
		}
		goto out;
	}
	printf("revoked %zu certificate%s of %s, reason %s\n", count, count == 1 ? "" : "s", impi,
	       gba_crl_reason_name(reason));
	if (ac.nccm > 0)
		printf("queued %zu revoked CCM%s for %s\n", ac.nccm, ac.nccm == 1 ? "" : "s", impi);
	ret = 0;
out:
	gba_free(ac.ccm_body);
	gba_policy_set_free(set);
	gba_audit_close(au);
	gba_store_close(st);
	return ret;
}

/* ---- crl ---- */

static int cmd_crl(int argc, char **argv, const char *db, const char *key)
{
	struct gba_store *st = NULL;
	struct gba_signer *ca = NULL;
	struct gba_crl_maker m;
	struct gba_crl_record crl;
	const char *dir = NULL, *name = DEFAULT_CA_NAME, *ca_key = NULL, *out_path = NULL;
	char keyp[PATH_MAX_LEN], certp[PATH_MAX_LEN], tu[32], nu[32], *pem = NULL;
	uint32_t lifetime = DEFAULT_LIFETIME;
	int i, force = 0, r, ret = EXIT_ERR;
	FILE *f;

	memset(&crl, 0, sizeof(crl));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			if (dir != NULL) {
				fprintf(stderr, "%s: crl: unexpected argument '%s'\n", prog, a);
				return EXIT_USAGE;
			}
			dir = a;
			continue;
		}
		if (strcmp(a, "--force") == 0) {
			force = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: crl: %s needs a value\n", prog, a);
			return EXIT_USAGE;
		}
		i++;
		if (strcmp(a, "--ca-name") == 0) {
			name = argv[i];
		} else if (strcmp(a, "--ca-key") == 0) {
			ca_key = argv[i];
		} else if (strcmp(a, "--out") == 0) {
			out_path = argv[i];
		} else if (strcmp(a, "--lifetime") == 0) {
			char *end;
			unsigned long v = strtoul(argv[i], &end, 10);

			if (*argv[i] < '0' || *argv[i] > '9' || *end != '\0' ||
			    v < GBA_CRL_MIN_LIFETIME || v > GBA_CRL_MAX_LIFETIME) {
				fprintf(stderr, "%s: crl: --lifetime: %u to %u seconds\n", prog,
				        GBA_CRL_MIN_LIFETIME, GBA_CRL_MAX_LIFETIME);
				return EXIT_USAGE;
			}
			lifetime = (uint32_t)v;
		} else {
			fprintf(stderr, "%s: crl: unknown option '%s'\n", prog, a);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "%s: crl needs CA-DIR (made by gba-ctl ca init)\n", prog);
		return EXIT_USAGE;
	}
	if (snprintf(keyp, sizeof(keyp), "%s/ca.key", dir) >= (int)sizeof(keyp) ||
	    snprintf(certp, sizeof(certp), "%s/ca.pem", dir) >= (int)sizeof(certp)) {
		fprintf(stderr, "%s: crl: CA-DIR path too long\n", prog);
		return EXIT_USAGE;
	}
	r = gba_signer_open(&ca, ca_key != NULL ? ca_key : keyp, certp);
	if (r < 0) {
		fprintf(stderr, "%s: crl: cannot load the issuing CA from %s: %s\n", prog, dir,
		        gba_strerror(r));
		goto out;
	}
	if (ctl_open_store(&st, db, key, 1) < 0)
		goto out;
	m.ca = name;
	m.issuer = ca;
	m.lifetime_s = lifetime;
	r = gba_crl_current(st, &m, gba_time_now(), force, &crl);
	if (r < 0) {
		fprintf(stderr, "%s: crl: %s\n", prog, gba_strerror(r));
		goto out;
	}
	if (gba_time_rfc3339(crl.this_update, tu) < 0 || gba_time_rfc3339(crl.next_update, nu) < 0)
		tu[0] = nu[0] = '\0';
	if (out_path != NULL) {
		f = fopen(out_path, "wb");
		if (f == NULL || fwrite(crl.der, 1, crl.der_len, f) != crl.der_len) {
			if (f != NULL)
				fclose(f);
			fprintf(stderr, "%s: crl: cannot write %s\n", prog, out_path);
			goto out;
		}
		if (fclose(f) != 0) {
			fprintf(stderr, "%s: crl: cannot write %s\n", prog, out_path);
			goto out;
		}
		printf("CRL %llu of %s, thisUpdate %s, nextUpdate %s, %zu bytes\n",
		       (unsigned long long)crl.number, name, tu, nu, crl.der_len);
	} else {
		r = gba_x509_pem("X509 CRL", crl.der, crl.der_len, &pem);
		if (r < 0) {
			fprintf(stderr, "%s: crl: %s\n", prog, gba_strerror(r));
			goto out;
		}
		fputs(pem, stdout);
	}
	ret = 0;
out:
	gba_free(pem);
	gba_crl_record_clear(&crl);
	gba_store_close(st);
	gba_signer_free(ca);
	return ret;
}

int ctl_revoke_main(int argc, char **argv, const char *db, const char *key,
                    const char *audit_log)
{
	const char *cmd = argv[0];
	int ret;

	if (*db == '\0' || *key == '\0' || *audit_log == '\0') {
		fprintf(stderr, "%s: --db, --key-file and --audit-log must not be empty\n", prog);
		return EXIT_USAGE;
	}
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		revoke_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "revoke") == 0)
		ret = cmd_status("revoke", GBA_STATUS_REVOKE, argc - 1, argv + 1, db, key, audit_log);
	else if (strcmp(cmd, "hold") == 0)
		ret = cmd_status("hold", GBA_STATUS_HOLD, argc - 1, argv + 1, db, key, audit_log);
	else if (strcmp(cmd, "unhold") == 0)
		ret = cmd_status("unhold", GBA_STATUS_UNHOLD, argc - 1, argv + 1, db, key, audit_log);
	else if (strcmp(cmd, "revoke-subscriber") == 0)
		ret = cmd_revoke_subscriber(argc - 1, argv + 1, db, key, audit_log);
	else
		ret = cmd_crl(argc - 1, argv + 1, db, key);
	if (ret == EXIT_USAGE)
		revoke_usage(stderr);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", prog);
		return EXIT_ERR;
	}
	return ret;
}
