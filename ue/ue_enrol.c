/*
 * ue_enrol.c - gba-ue enrol | renew | rekey | poll | portal-enrol | ca-cert.
 *
 * revoke: a revokeRequest for DIR/cert.pem (or --cert), authenticated by
 * the GBA session (passphrase = gba_revoke_passphrase under Ks_NAF) or,
 * with --with-cert, signed by the certificate itself; --get-crl also asks
 * for the issuer's CRL (doc/revocation.md).
 *
 * enrol: a Full PKI Request authenticated by Ks_NAF (identityProofV2,
 * popLinkWitnessV2), signed by the new key, POSTed to NAF /cmc
 * (docs/DESIGN.md flow 2).  renew/rekey: signed by the current
 * certificate (flow 3).  poll: queryPending (flow 5).  portal-enrol and
 * ca-cert: the TS 33.221 portal under Ua Digest (flow 6).
 *
 * Files in --out DIR: key.pem (0600), cert.pem, chain.pem (issuing CA
 * certificates, then the trust anchor); with --count N also key-I.pem /
 * cert-I.pem for I = 2..N; pending.txt while a request is pending.
 *
 * Exit status: 0 issued, 1 refused (CMC failed, portal 403), 2 usage,
 * 3 pending, 4 transport, protocol, verification or local error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ue.h"
#include "ue_cmc.h"
#include "ue_der.h"
#include "ue_ua.h"

#define EX_OK      0
#define EX_REFUSED 1
#define EX_USAGE   2
#define EX_PENDING 3
#define EX_ERROR   4

#define UE_PATH_MAX 4096u
/* a bootstrap this close to its end is renewed first */
#define UE_KS_MARGIN 30

static const char user_agent[] = "gba-ue/" PACKAGE_VERSION " 3gpp-gba";
static const char ct_cmc_req[] = "application/pkcs7-mime; smime-type=CMC-request";

struct opts {
	const char *cmd;
	const char *app;
	const char *state;
	const char *bsf;
	const char *naf;
	const char *naf_fqdn;
	const char *ca;
	const char *trust;
	const char *out;
	const char *response;
	const char *issuer_of;
	const char *cert;                    /* revoke: the certificate */
	const char *reason;                  /* revoke: CRLReason name */
	const char *invalidity;              /* revoke: RFC 3339 */
	const char *save_request;            /* write the CMC request DER here */
	const char *save_response;           /* write the CMC response DER here */
	int with_cert, get_crl;
	enum gba_http_client_mode mode;
	enum gba_key_type key_type;
	int key_type_set;
	int crmf;
	int der;
	int no_confirm;             /* leave a confirmRequired certificate unconfirmed */
	int trace;
	unsigned count;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ue enrol APP --naf URL --trust PEM --out DIR [--naf-fqdn FQDN]\n"
	        "             [--key-type T] [--crmf] [--count N] [common]\n"
	        "       gba-ue renew --naf URL --trust PEM --out DIR [common]\n"
	        "       gba-ue rekey --naf URL --trust PEM --out DIR [--key-type T] [common]\n"
	        "       gba-ue poll --naf URL --trust PEM --out DIR [--naf-fqdn FQDN] [common]\n"
	        "       gba-ue portal-enrol APP --naf URL --out DIR [--trust PEM]\n"
	        "             [--response single|chain] [--key-type T] [--der] [common]\n"
	        "       gba-ue ca-cert --issuer-of CERTPEM --naf URL [--naf-fqdn FQDN]\n"
	        "             [--out DIR] [common]\n"
	        "       gba-ue revoke --naf URL --trust PEM --out DIR [--naf-fqdn FQDN]\n"
	        "             [--cert PEM] [--reason R] [--invalidity-date T] [--with-cert]\n"
	        "             [--get-crl] [common]\n"
	        "  common: [--state F] [--bsf URL] [--ca PEM] [--http1|--http2] [--trace]\n"
	        "  CMC (enrol, renew, rekey, poll, revoke): [--save-request F] [--save-response F]\n"
	        "          write the (last) request and answer, DER, as sent and received\n"
	        "        [--no-confirm]  do not answer confirmRequired with\n"
	        "          confirmCertAcceptance (prints 'unconfirmed SERIAL')\n"
	        "  key types: ec-p256 (default) ec-p384 ed25519 rsa-2048 rsa-3072 rsa-4096\n"
	        "  exit: 0 issued (revoked), 1 refused, 2 usage, 3 pending, 4 error\n");
}

static int parse_opts(int argc, char **argv, struct opts *o, int want_app)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "bsf", required_argument, NULL, 'b' },
		{ "naf", required_argument, NULL, 'n' },
		{ "naf-fqdn", required_argument, NULL, 'f' },
		{ "ca", required_argument, NULL, 'c' },
		{ "trust", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "crmf", no_argument, NULL, 'C' },
		{ "count", required_argument, NULL, 'N' },
		{ "response", required_argument, NULL, 'r' },
		{ "der", no_argument, NULL, 'D' },
		{ "issuer-of", required_argument, NULL, 'i' },
		{ "http1", no_argument, NULL, '1' },
		{ "http2", no_argument, NULL, '2' },
		{ "trace", no_argument, NULL, 't' },
		{ "cert", required_argument, NULL, 'e' },
		{ "reason", required_argument, NULL, 'R' },
		{ "invalidity-date", required_argument, NULL, 'I' },
		{ "with-cert", no_argument, NULL, 'W' },
		{ "get-crl", no_argument, NULL, 'G' },
		{ "save-request", required_argument, NULL, 'q' },
		{ "save-response", required_argument, NULL, 'p' },
		{ "no-confirm", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};
	char *end = NULL;
	unsigned long n;
	int ch;

	memset(o, 0, sizeof(*o));
	o->cmd = argv[0];
	o->state = "gba-ue.state";
	o->mode = GBA_HTTP_CLIENT_AUTO;
	o->key_type = GBA_KEY_EC_P256;
	o->count = 1;
	o->response = "single";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->state = optarg; break;
		case 'b': o->bsf = optarg; break;
		case 'n': o->naf = optarg; break;
		case 'f': o->naf_fqdn = optarg; break;
		case 'c': o->ca = optarg; break;
		case 'T': o->trust = optarg; break;
		case 'o': o->out = optarg; break;
		case 'k':
			if (gba_key_type_parse(optarg, &o->key_type) < 0) {
				fprintf(stderr, "gba-ue: unknown key type '%s'\n", optarg);
				return -1;
			}
			o->key_type_set = 1;
			break;
		case 'C': o->crmf = 1; break;
		case 'N':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || n < 1 ||
			    n > UE_CMC_MAX_KEYS) {
				fprintf(stderr, "gba-ue: --count must be 1..%u\n", UE_CMC_MAX_KEYS);
				return -1;
			}
			o->count = (unsigned)n;
			break;
		case 'r': o->response = optarg; break;
		case 'D': o->der = 1; break;
		case 'i': o->issuer_of = optarg; break;
		case '1': o->mode = GBA_HTTP_CLIENT_H1; break;
		case '2': o->mode = GBA_HTTP_CLIENT_H2; break;
		case 't': o->trace = 1; break;
		case 'e': o->cert = optarg; break;
		case 'R': o->reason = optarg; break;
		case 'I': o->invalidity = optarg; break;
		case 'W': o->with_cert = 1; break;
		case 'G': o->get_crl = 1; break;
		case 'q': o->save_request = optarg; break;
		case 'p': o->save_response = optarg; break;
		case 'X': o->no_confirm = 1; break;
		default: return -1;
		}
	}
	if (want_app) {
		if (optind + 1 != argc)
			return -1;
		o->app = argv[optind];
		if (o->naf_fqdn == NULL)
			o->naf_fqdn = o->app;
	} else if (optind != argc) {
		return -1;
	}
	return 0;
}

static int usage_error(void)
{
	usage(stderr);
	return EX_USAGE;
}

/* dir/name into out. */
static int path_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= size) ? GBA_ETOOBIG : 0;
}

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : GBA_EINVAL;
	if (errno != ENOENT || mkdir(dir, 0700) != 0)
		return GBA_EIO;
	return 0;
}

/* Files for request i (0-based): key.pem/cert.pem, then key-2.pem ... */
static int out_file(char *out, size_t size, const char *dir, const char *what, size_t i)
{
	char name[64];

	if (i == 0)
		snprintf(name, sizeof(name), "%s.pem", what);
	else
		snprintf(name, sizeof(name), "%s-%zu.pem", what, i + 1);
	return path_join(out, size, dir, name);
}

/* Save a key atomically: a temporary file (0600), then rename. */
static int save_key(const struct gba_key *k, const char *path)
{
	char tmp[UE_PATH_MAX];
	int n, ret;

	n = snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return GBA_ETOOBIG;
	(void)unlink(tmp);
	ret = gba_key_save(k, tmp);
	if (ret == 0 && rename(tmp, path) != 0)
		ret = GBA_EIO;
	if (ret < 0)
		(void)unlink(tmp);
	return ret;
}

/* ---- the GBA side: a valid bootstrap and Ks_NAF ---- */

struct session {
	struct ue_usim u;
	int have_u;
	uint8_t ks_naf[GBA_KS_NAF_LEN];
	char fqdn[GBA_MAX_FQDN_LEN + 1];
	struct gba_http_client *http;
	char base[UE_PATH_MAX];              /* URL path prefix, no trailing '/' */
	uint8_t *anchor;                     /* trust anchor DER; NULL if none */
	size_t anchor_len;
};

static void session_clear(struct session *s)
{
	if (s->have_u)
		ue_usim_clear(&s->u);
	gba_wipe(s->ks_naf, sizeof(s->ks_naf));
	gba_http_client_close(s->http);
	gba_free(s->anchor);
	memset(s, 0, sizeof(*s));
}

static int bootstrap_valid(const struct ue_usim *u)
{
	int64_t t;

	if (u->btid[0] == '\0' || u->ks.len != GBA_KS_LEN)
		return 0;
	if (gba_time_parse_rfc3339(u->lifetime, strlen(u->lifetime), &t) < 0)
		return 1;   /* a lifetime we cannot read: let the NAF decide */
	return t > gba_time_now() + UE_KS_MARGIN;
}

/* Load the state, bootstrap if needed (or forced), derive Ks_NAF for
 * the session's FQDN. */
static int session_keys(const struct opts *o, struct session *s, int force)
{
	struct ue_ub_opts ub;
	int ret;

	if (s->have_u) {
		ue_usim_clear(&s->u);
		s->have_u = 0;
	}
	ret = ue_usim_load(&s->u, o->state);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot load USIM state %s: %s\n", o->state,
		        gba_strerror(ret));
		return ret;
	}
	s->have_u = 1;
	if (force || !bootstrap_valid(&s->u)) {
		if (o->bsf == NULL) {
			fprintf(stderr, "gba-ue: %s; give --bsf URL to bootstrap\n",
			        force ? "the NAF refused the B-TID" : "no valid bootstrap");
			return GBA_EEXPIRED;
		}
		memset(&ub, 0, sizeof(ub));
		ub.state = o->state;
		ub.url = o->bsf;
		ub.ca = o->ca;
		ub.mode = o->mode;
		ub.quiet = 1;
		ret = ue_bootstrap_run(&ub, &s->u);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: bootstrap failed: %s\n", gba_strerror(ret));
			return ret;
		}
	}
	ret = gba_ks_naf(s->u.ks.b, s->u.rand, s->u.impi, strlen(s->u.impi), s->fqdn,
	                 strlen(s->fqdn), gba_ua_id_pki_portal, s->ks_naf);
	return ret;
}

/* The NAF FQDN (default: the URL host) and the URL's path prefix. */
static int session_target(const struct opts *o, struct session *s)
{
	const char *p;
	size_t n;
	int ret;

	if (o->naf_fqdn != NULL) {
		if (strlen(o->naf_fqdn) == 0 || strlen(o->naf_fqdn) > GBA_MAX_FQDN_LEN)
			return GBA_EINVAL;
		memcpy(s->fqdn, o->naf_fqdn, strlen(o->naf_fqdn) + 1);
	} else {
		ret = ue_url_host(o->naf, s->fqdn, sizeof(s->fqdn));
		if (ret < 0)
			return ret;
	}
	p = strstr(o->naf, "://");
	p = p != NULL ? strchr(p + 3, '/') : NULL;
	n = p != NULL ? strcspn(p, "?#") : 0;
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof(s->base))
		return GBA_ETOOBIG;
	if (n > 0)
		memcpy(s->base, p, n);
	s->base[n] = '\0';
	return 0;
}

/* Connect to the NAF. */
static int session_connect(const struct opts *o, struct session *s)
{
	struct gba_http_client_conf cc;
	int ret;

	memset(&cc, 0, sizeof(cc));
	cc.mode = o->mode;
	cc.ca_file = o->ca;
	ret = gba_http_client_open(&s->http, &cc, o->naf);
	if (ret < 0)
		fprintf(stderr, "gba-ue: cannot connect to %s: %s\n", o->naf, gba_strerror(ret));
	return ret;
}

static int load_anchor(const char *path, struct session *s)
{
	struct ue_certs c;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = ue_pem_read(path, "CERTIFICATE", &c);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot read trust anchor %s: %s\n", path, gba_strerror(ret));
		return ret;
	}
	s->anchor = c.der[0];
	s->anchor_len = c.len[0];
	c.der[0] = NULL;
	ue_certs_clear(&c);
	return 0;
}

/* ---- CMC transport ---- */

/* POST the request to <base>/cmc; the 200's body goes to *reply. */
static int post_cmc(const struct opts *o, struct session *s, const uint8_t *req, size_t len,
                    struct gba_http_reply **reply)
{
	struct gba_http_header h[2];
	const struct gba_str *ct;
	char path[UE_PATH_MAX];
	int ret, n;

	*reply = NULL;
	n = snprintf(path, sizeof(path), "%s/cmc", s->base);
	if (n < 0 || (size_t)n >= sizeof(path))
		return GBA_ETOOBIG;
	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = gba_str_c(ct_cmc_req);
	h[1].name = GBA_STR_LIT("user-agent");
	h[1].value = gba_str_c(user_agent);
	if (o->save_request != NULL) {
		ret = ue_file_write(o->save_request, req, len, 0644);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: %s: %s\n", o->save_request, gba_strerror(ret));
			return ret;
		}
	}
	ret = gba_http_client_request(s->http, "POST", path, h, 2, req, len, reply);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: POST %s: %s\n", path, gba_strerror(ret));
		return ret;
	}
	if (o->save_response != NULL) {
		ret = ue_file_write(o->save_response, (*reply)->body, (*reply)->body_len, 0644);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: %s: %s\n", o->save_response, gba_strerror(ret));
			goto out;
		}
	}
	if (o->trace)
		fprintf(stderr, "> POST %s (%zu octets)\n< %d (%zu octets)\n", path, len,
		        (*reply)->status, (*reply)->body_len);
	if ((*reply)->status != 200) {
		fprintf(stderr, "gba-ue: the NAF answered %d to the CMC request\n", (*reply)->status);
		ret = GBA_EAUTH;
		goto out;
	}
	ct = gba_http_reply_header(*reply, "content-type");
	if (ct == NULL || ct->len < 22 || strncasecmp(ct->p, "application/pkcs7-mime", 22) != 0) {
		fprintf(stderr, "gba-ue: the CMC answer is not application/pkcs7-mime\n");
		ret = GBA_EUNSUPP;
		goto out;
	}
	return 0;
out:
	gba_http_reply_free(*reply);
	*reply = NULL;
	return ret;
}

/* ---- pending state: DIR/pending.txt ----
 *   txid HEX
 *   token HEX
 *   key FILE        (one per requested key, in order)
 *   naf FQDN        the NAF FQDN the keys were derived for (poll's default)
 */
struct pending {
	uint8_t txid[GBA_CMC_MAX_TXID];
	size_t txid_len;
	uint8_t token[UE_CMC_MAX_TOKEN];
	size_t token_len;
	char keys[UE_CMC_MAX_KEYS][256];
	size_t nkeys;
	char naf[GBA_MAX_FQDN_LEN + 1];   /* "" when not recorded */
};

static int pending_save(const char *dir, const struct pending *p)
{
	char path[UE_PATH_MAX], buf[4096], hex[2 * UE_CMC_MAX_TOKEN + 1];
	size_t used = 0, i;
	int n;

	gba_hex_encode(p->txid, p->txid_len, hex);
	n = snprintf(buf, sizeof(buf), "txid %s\n", hex);
	used = (size_t)n;
	gba_hex_encode(p->token, p->token_len, hex);
	n = snprintf(buf + used, sizeof(buf) - used, "token %s\n", hex);
	used += (size_t)n;
	for (i = 0; i < p->nkeys; i++) {
		n = snprintf(buf + used, sizeof(buf) - used, "key %s\n", p->keys[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			return GBA_ETOOBIG;
		used += (size_t)n;
	}
	if (p->naf[0] != '\0') {
		n = snprintf(buf + used, sizeof(buf) - used, "naf %s\n", p->naf);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			return GBA_ETOOBIG;
		used += (size_t)n;
	}
	n = path_join(path, sizeof(path), dir, "pending.txt");
	if (n < 0)
		return n;
	return ue_file_write(path, buf, used, 0600);
}

static int pending_load(const char *dir, struct pending *p)
{
	char path[UE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0, i = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = path_join(path, sizeof(path), dir, "pending.txt");
	if (ret == 0)
		ret = ue_file_read(path, &buf, &len);
	if (ret < 0)
		return ret;
	while (i < len && ret == 0) {
		const char *line = (const char *)buf + i, *sp;
		size_t l = 0, vl;

		while (i + l < len && buf[i + l] != '\n')
			l++;
		i += l + 1;
		sp = memchr(line, ' ', l);
		if (sp == NULL) {
			ret = GBA_ESYNTAX;
			break;
		}
		vl = l - (size_t)(sp + 1 - line);
		if (sp - line == 4 && memcmp(line, "txid", 4) == 0 && vl > 0 && vl % 2 == 0 &&
		    vl / 2 <= sizeof(p->txid)) {
			ret = gba_hex_decode(sp + 1, vl, p->txid, vl / 2);
			p->txid_len = vl / 2;
		} else if (sp - line == 5 && memcmp(line, "token", 5) == 0 && vl > 0 &&
		           vl % 2 == 0 && vl / 2 <= sizeof(p->token)) {
			ret = gba_hex_decode(sp + 1, vl, p->token, vl / 2);
			p->token_len = vl / 2;
		} else if (sp - line == 3 && memcmp(line, "key", 3) == 0 && vl > 0 &&
		           vl < sizeof(p->keys[0]) && p->nkeys < UE_CMC_MAX_KEYS &&
		           memchr(sp + 1, '/', vl) == NULL) {
			memcpy(p->keys[p->nkeys], sp + 1, vl);
			p->keys[p->nkeys][vl] = '\0';
			p->nkeys++;
		} else if (sp - line == 3 && memcmp(line, "naf", 3) == 0 && vl > 0 &&
		           vl < sizeof(p->naf) && memchr(sp + 1, ' ', vl) == NULL) {
			memcpy(p->naf, sp + 1, vl);
			p->naf[vl] = '\0';
		} else {
			ret = GBA_ESYNTAX;
		}
	}
	gba_free(buf);
	if (ret == 0 && (p->txid_len == 0 || p->token_len == 0 || p->nkeys == 0))
		ret = GBA_EMISSING;
	return ret < 0 ? ret : 0;
}

/* ---- results ---- */

static void print_serial(const uint8_t *der, size_t len, const char *file)
{
	struct gba_cert_info ci;
	char hex[2 * GBA_X509_MAX_SERIAL + 1];

	if (gba_x509_cert_info(der, len, &ci) < 0) {
		printf("issued ? %s\n", file);
		return;
	}
	gba_hex_encode(ci.serial, ci.serial_len, hex);
	printf("issued %s %s\n", hex, file);
	gba_cert_info_clear(&ci);
}

/*
 * Write what a success brings: for each key i, key (when keys[i] is
 * not NULL: a new key) and cert; then chain.pem = chain + anchor.
 */
static int write_issued(const struct opts *o, const struct session *s,
                        struct gba_key *const *keys, size_t n, const struct ue_certs *issued,
                        const struct ue_certs *chain)
{
	const uint8_t *der[UE_MAX_CERTS + 1];
	size_t len[UE_MAX_CERTS + 1], i, nc = 0;
	char path[UE_PATH_MAX];
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		if (keys != NULL && keys[i] != NULL) {
			ret = out_file(path, sizeof(path), o->out, "key", i);
			if (ret == 0)
				ret = save_key(keys[i], path);
		}
		if (ret == 0)
			ret = out_file(path, sizeof(path), o->out, "cert", i);
		if (ret == 0)
			ret = ue_pem_write(path, "CERTIFICATE", (const uint8_t *const *)&issued->der[i],
			                   &issued->len[i], 1);
	}
	if (ret < 0)
		return ret;
	for (i = 0; i < chain->n && nc < UE_MAX_CERTS; i++) {
		der[nc] = chain->der[i];
		len[nc++] = chain->len[i];
	}
	if (s->anchor != NULL) {
		der[nc] = s->anchor;
		len[nc++] = s->anchor_len;
	}
	ret = path_join(path, sizeof(path), o->out, "chain.pem");
	if (ret == 0 && nc > 0)
		ret = ue_pem_write(path, "CERTIFICATE", der, len, nc);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		out_file(path, sizeof(path), o->out, "cert", i);
		print_serial(issued->der[i], issued->len[i], path);
	}
	return 0;
}

static int report_failed(const struct ue_cmc_result *res)
{
	printf("failed %s %s\n", res->has_fail_info ? gba_cmc_fail_name(res->fail_info) : "-",
	       res->status_string[0] != '\0' ? res->status_string : "-");
	return EX_REFUSED;
}

/* ---- enrol / poll / renew / rekey: one request/response exchange ---- */

struct exchange {
	struct ue_cmc_req req;
	uint8_t txid[UE_CMC_TXID_LEN];
	uint8_t nonce[UE_CMC_NONCE_LEN];
	struct gba_blob spkis[UE_CMC_MAX_KEYS];
	uint8_t *spki_buf[UE_CMC_MAX_KEYS];
	size_t nspkis;
};

static void exchange_clear(struct exchange *x)
{
	size_t i;

	for (i = 0; i < UE_CMC_MAX_KEYS; i++)
		gba_free(x->spki_buf[i]);
	memset(x, 0, sizeof(*x));
}

static int exchange_spkis(struct exchange *x, struct gba_key *const *keys, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = gba_key_spki(keys[i], &x->spki_buf[i], &x->spkis[i].len);
		if (ret < 0)
			return ret;
		x->spkis[i].p = x->spki_buf[i];
	}
	x->nspkis = n;
	return 0;
}

/* Build, sign, send, check.  The request's txid and nonce must be set. */
static int exchange_run(const struct opts *o, struct session *s, struct exchange *x,
                        struct ue_cmc_result *res)
{
	struct gba_http_reply *r = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	const char *why = NULL;
	int ret;

	ret = gba_rnd(GBA_RND_NONCE, x->nonce, sizeof(x->nonce));
	if (ret < 0)
		return ret;
	x->req.sender_nonce.p = x->nonce;
	x->req.sender_nonce.len = sizeof(x->nonce);
	ret = ue_cmc_request(&x->req, &der, &len);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot build the CMC request: %s\n", gba_strerror(ret));
		goto out;
	}
	ret = post_cmc(o, s, der, len, &r);
	if (ret < 0)
		goto out;
	ret = ue_cmc_response(r->body, r->body_len, s->anchor, s->anchor_len, x->req.txid,
	                      x->req.sender_nonce, x->spkis, x->nspkis, time(NULL), res, &why);
	if (ret < 0)
		fprintf(stderr, "gba-ue: CMC response refused: %s (%s)\n", why, gba_strerror(ret));
out:
	gba_free(der);
	gba_http_reply_free(r);
	return ret;
}

/*
 * The CA answered confirmRequired (RFC 5272 6.14): once the certificates
 * are on disk, tell it they are accepted with one confirmCertAcceptance
 * per certificate, in a PKIData signed by the first new certificate and
 * its key.  Prints "confirmed SERIAL" per certificate, or "unconfirmed
 * SERIAL" with --no-confirm.
 */
static int confirm_issued(const struct opts *o, struct session *s, struct gba_key *key,
                          const struct ue_cmc_result *issued)
{
	struct gba_cmc_cert_id ids[UE_CMC_MAX_KEYS];
	struct gba_cert_info ci[UE_CMC_MAX_KEYS];
	struct gba_blob certs[UE_MAX_CERTS];
	struct ue_cmc_result res;
	struct exchange y;
	char hex[2 * GBA_X509_MAX_SERIAL + 1];
	size_t i, n = issued->issued.n;
	int ret = 0;

	if (n > UE_CMC_MAX_KEYS || key == NULL)
		return GBA_EINVAL;
	memset(ci, 0, sizeof(ci));
	memset(&res, 0, sizeof(res));
	memset(&y, 0, sizeof(y));
	for (i = 0; i < n && ret == 0; i++) {
		ret = gba_x509_cert_info(issued->issued.der[i], issued->issued.len[i], &ci[i]);
		ids[i].issuer.p = ci[i].issuer_der;
		ids[i].issuer.len = ci[i].issuer_der_len;
		ids[i].serial.p = ci[i].serial;
		ids[i].serial.len = ci[i].serial_len;
	}
	if (ret < 0)
		goto out;
	if (o->no_confirm) {
		for (i = 0; i < n; i++) {
			gba_hex_encode(ci[i].serial, ci[i].serial_len, hex);
			printf("unconfirmed %s\n", hex);
		}
		goto out;
	}
	for (i = 0; i < issued->chain.n && i < UE_MAX_CERTS; i++) {
		certs[i].p = issued->chain.der[i];
		certs[i].len = issued->chain.len[i];
	}
	ret = ue_cmc_new_txid(y.txid);
	if (ret < 0)
		goto out;
	y.req.txid.p = y.txid;
	y.req.txid.len = sizeof(y.txid);
	y.req.sign_key = key;
	y.req.signer_cert.p = issued->issued.der[0];
	y.req.signer_cert.len = issued->issued.len[0];
	y.req.certs = certs;
	y.req.ncerts = i;
	y.req.confirm = ids;
	y.req.nconfirm = n;
	ret = exchange_run(o, s, &y, &res);
	if (ret < 0)
		goto out;
	if (res.status != GBA_CMC_SUCCESS) {
		fprintf(stderr, "gba-ue: confirmCertAcceptance not accepted: %s\n",
		        res.status_string[0] != '\0' ? res.status_string
		                                      : gba_cmc_status_name(res.status));
		ret = GBA_EAUTH;
		goto out;
	}
	for (i = 0; i < n; i++) {
		gba_hex_encode(ci[i].serial, ci[i].serial_len, hex);
		printf("confirmed %s\n", hex);
	}
out:
	for (i = 0; i < n; i++)
		gba_cert_info_clear(&ci[i]);
	ue_cmc_result_clear(&res);
	exchange_clear(&y);
	return ret;
}

static int save_pending(const struct opts *o, const struct session *s,
                        const struct exchange *x, const struct ue_cmc_result *res,
                        struct gba_key *const *keys, const char *const *names, size_t n)
{
	struct pending p;
	char path[UE_PATH_MAX], hex[2 * UE_CMC_MAX_TOKEN + 1];
	size_t i;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	memcpy(p.txid, x->req.txid.p, x->req.txid.len);
	p.txid_len = x->req.txid.len;
	memcpy(p.token, res->pend_token, res->pend_token_len);
	p.token_len = res->pend_token_len;
	for (i = 0; i < n && ret == 0; i++) {
		snprintf(p.keys[i], sizeof(p.keys[i]), "%s", names[i]);
		if (keys[i] != NULL) {
			ret = path_join(path, sizeof(path), o->out, names[i]);
			if (ret == 0)
				ret = save_key(keys[i], path);
		}
	}
	p.nkeys = n;
	snprintf(p.naf, sizeof(p.naf), "%s", s->fqdn);
	if (ret == 0)
		ret = pending_save(o->out, &p);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot save the pending state: %s\n", gba_strerror(ret));
		return EX_ERROR;
	}
	gba_hex_encode(res->pend_token, res->pend_token_len, hex);
	printf("pending %s\n", hex);
	return EX_PENDING;
}

static int common_checks(const struct opts *o)
{
	if (o->naf == NULL || o->out == NULL || o->trust == NULL) {
		fprintf(stderr, "gba-ue: %s needs --naf, --trust and --out\n", o->cmd);
		return -1;
	}
	return 0;
}

int ue_cmd_enrol(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct exchange x;
	struct ue_cmc_result res;
	struct gba_key *keys[UE_CMC_MAX_KEYS] = { NULL };
	char names[UE_CMC_MAX_KEYS][64];
	const char *namep[UE_CMC_MAX_KEYS];
	size_t i;
	int ret, rc = EX_ERROR, attempt;

	memset(&s, 0, sizeof(s));
	memset(&x, 0, sizeof(x));
	memset(&res, 0, sizeof(res));
	if (parse_opts(argc, argv, &o, 1) < 0 || common_checks(&o) < 0)
		return usage_error();
	ret = ensure_dir(o.out);
	if (ret == 0)
		ret = load_anchor(o.trust, &s);
	if (ret == 0)
		ret = session_target(&o, &s);
	if (ret == 0)
		ret = session_keys(&o, &s, 0);
	if (ret == 0)
		ret = session_connect(&o, &s);
	for (i = 0; ret == 0 && i < o.count; i++)
		ret = gba_key_generate(&keys[i], o.key_type);
	if (ret == 0)
		ret = exchange_spkis(&x, keys, o.count);
	if (ret == 0)
		ret = ue_cmc_new_txid(x.txid);
	if (ret < 0)
		goto out;
	for (attempt = 0; attempt < 2; attempt++) {
		x.req.identification = s.u.btid;
		x.req.ks_naf = s.ks_naf;
		x.req.keys = keys;
		x.req.nkeys = o.count;
		x.req.crmf = o.crmf;
		x.req.txid.p = x.txid;
		x.req.txid.len = sizeof(x.txid);
		x.req.sign_key = keys[0];
		ret = exchange_run(&o, &s, &x, &res);
		if (ret < 0)
			goto out;
		/* an unknown or expired B-TID shows as badIdentity: bootstrap
		 * again and retry once */
		if (attempt == 0 && res.status == GBA_CMC_FAILED && res.has_fail_info &&
		    res.fail_info == GBA_CMC_BAD_IDENTITY && o.bsf != NULL) {
			ue_cmc_result_clear(&res);
			ret = session_keys(&o, &s, 1);
			if (ret < 0)
				goto out;
			continue;
		}
		break;
	}
	if (res.status == GBA_CMC_FAILED) {
		rc = report_failed(&res);
		goto out;
	}
	if (res.status == GBA_CMC_PENDING) {
		for (i = 0; i < o.count; i++) {
			if (i == 0)
				snprintf(names[i], sizeof(names[i]), "key.pem");
			else
				snprintf(names[i], sizeof(names[i]), "key-%zu.pem", i + 1);
			namep[i] = names[i];
		}
		rc = save_pending(&o, &s, &x, &res, keys, namep, o.count);
		goto out;
	}
	ret = write_issued(&o, &s, keys, o.count, &res.issued, &res.chain);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot write to %s: %s\n", o.out, gba_strerror(ret));
		goto out;
	}
	if (res.confirm_required) {
		ret = confirm_issued(&o, &s, keys[0], &res);
		if (ret < 0)
			goto out;
	}
	rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: %s: %s\n", o.cmd, gba_strerror(ret));
	for (i = 0; i < UE_CMC_MAX_KEYS; i++)
		gba_key_free(keys[i]);
	ue_cmc_result_clear(&res);
	exchange_clear(&x);
	session_clear(&s);
	return rc;
}

int ue_cmd_poll(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct exchange x;
	struct ue_cmc_result res;
	struct pending p;
	struct gba_key *keys[UE_CMC_MAX_KEYS] = { NULL };
	const char *namep[UE_CMC_MAX_KEYS];
	char path[UE_PATH_MAX], want[UE_PATH_MAX];
	size_t i;
	int ret, rc = EX_ERROR;

	memset(&s, 0, sizeof(s));
	memset(&x, 0, sizeof(x));
	memset(&res, 0, sizeof(res));
	if (parse_opts(argc, argv, &o, 0) < 0 || common_checks(&o) < 0)
		return usage_error();
	ret = pending_load(o.out, &p);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: no usable %s/pending.txt\n", o.out);
		goto out;
	}
	if (o.naf_fqdn == NULL && p.naf[0] != '\0')
		o.naf_fqdn = p.naf;   /* the FQDN the request was made for */
	for (i = 0; ret == 0 && i < p.nkeys; i++) {
		ret = path_join(path, sizeof(path), o.out, p.keys[i]);
		if (ret == 0)
			ret = gba_key_load(&keys[i], path);
		namep[i] = p.keys[i];
	}
	if (ret == 0)
		ret = load_anchor(o.trust, &s);
	if (ret == 0)
		ret = session_target(&o, &s);
	if (ret == 0)
		ret = session_keys(&o, &s, 0);
	if (ret == 0)
		ret = session_connect(&o, &s);
	if (ret == 0)
		ret = exchange_spkis(&x, keys, p.nkeys);
	if (ret < 0)
		goto out;
	x.req.identification = s.u.btid;
	x.req.ks_naf = s.ks_naf;
	x.req.nkeys = 0;
	x.req.txid.p = p.txid;
	x.req.txid.len = p.txid_len;
	x.req.query_pending.p = p.token;
	x.req.query_pending.len = p.token_len;
	x.req.sign_key = keys[0];
	ret = exchange_run(&o, &s, &x, &res);
	if (ret < 0)
		goto out;
	if (res.status == GBA_CMC_FAILED) {
		rc = report_failed(&res);
		goto out;
	}
	if (res.status == GBA_CMC_PENDING) {
		struct gba_key *none[UE_CMC_MAX_KEYS] = { NULL };

		rc = save_pending(&o, &s, &x, &res, none, namep, p.nkeys);
		goto out;
	}
	/* the keys already sit in DIR; a key saved under another name
	 * (a rekey that went pending) takes its place as key.pem */
	for (i = 0; i < p.nkeys; i++) {
		ret = out_file(want, sizeof(want), o.out, "key", i);
		if (ret == 0)
			ret = path_join(path, sizeof(path), o.out, p.keys[i]);
		if (ret == 0 && strcmp(path, want) != 0 && rename(path, want) != 0)
			ret = GBA_EIO;
		if (ret < 0)
			goto out;
	}
	ret = write_issued(&o, &s, NULL, p.nkeys, &res.issued, &res.chain);
	if (ret == 0 && res.confirm_required)
		ret = confirm_issued(&o, &s, keys[0], &res);
	if (ret < 0)
		goto out;
	if (path_join(path, sizeof(path), o.out, "pending.txt") == 0)
		(void)unlink(path);
	rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: poll: %s\n", gba_strerror(ret));
	for (i = 0; i < UE_CMC_MAX_KEYS; i++)
		gba_key_free(keys[i]);
	ue_cmc_result_clear(&res);
	exchange_clear(&x);
	session_clear(&s);
	return rc;
}

int ue_cmd_renew(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct exchange x;
	struct ue_cmc_result res;
	struct ue_certs cert, chain;
	struct gba_blob certs[UE_MAX_CERTS];
	struct gba_key *old = NULL, *fresh = NULL, *reqkey[1], *newkeys[1];
	const char *pname[1] = { "key.pending.pem" };
	char path[UE_PATH_MAX];
	size_t i;
	int ret, rc = EX_ERROR, rekey;

	memset(&s, 0, sizeof(s));
	memset(&x, 0, sizeof(x));
	memset(&res, 0, sizeof(res));
	memset(&cert, 0, sizeof(cert));
	memset(&chain, 0, sizeof(chain));
	rekey = strcmp(argv[0], "rekey") == 0;
	if (parse_opts(argc, argv, &o, 0) < 0 || common_checks(&o) < 0)
		return usage_error();
	if (!rekey && o.key_type_set) {
		fprintf(stderr, "gba-ue: renew keeps the key; use rekey for --key-type\n");
		return usage_error();
	}
	ret = path_join(path, sizeof(path), o.out, "key.pem");
	if (ret == 0)
		ret = gba_key_load(&old, path);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot load %s: %s\n", path, gba_strerror(ret));
		goto out;
	}
	ret = path_join(path, sizeof(path), o.out, "cert.pem");
	if (ret == 0)
		ret = ue_pem_read(path, "CERTIFICATE", &cert);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot read %s: %s\n", path, gba_strerror(ret));
		goto out;
	}
	if (path_join(path, sizeof(path), o.out, "chain.pem") == 0)
		(void)ue_pem_read(path, "CERTIFICATE", &chain);   /* optional */
	for (i = 0; i < chain.n; i++) {
		certs[i].p = chain.der[i];
		certs[i].len = chain.len[i];
	}
	if (rekey) {
		ret = gba_key_generate(&fresh, o.key_type_set ? o.key_type : gba_key_get_type(old));
		if (ret < 0)
			goto out;
	}
	reqkey[0] = rekey ? fresh : old;
	newkeys[0] = fresh;
	ret = load_anchor(o.trust, &s);
	if (ret == 0)
		ret = session_target(&o, &s);
	if (ret == 0)
		ret = session_connect(&o, &s);
	if (ret == 0)
		ret = exchange_spkis(&x, reqkey, 1);
	if (ret == 0)
		ret = ue_cmc_new_txid(x.txid);
	if (ret < 0)
		goto out;
	x.req.keys = reqkey;
	x.req.nkeys = 1;
	x.req.crmf = o.crmf;
	x.req.txid.p = x.txid;
	x.req.txid.len = sizeof(x.txid);
	x.req.sign_key = old;
	x.req.signer_cert.p = cert.der[0];
	x.req.signer_cert.len = cert.len[0];
	x.req.certs = certs;
	x.req.ncerts = chain.n;
	ret = exchange_run(&o, &s, &x, &res);
	if (ret < 0)
		goto out;
	if (res.status == GBA_CMC_FAILED) {
		rc = report_failed(&res);
		goto out;
	}
	if (res.status == GBA_CMC_PENDING) {
		if (!rekey)
			pname[0] = "key.pem";
		rc = save_pending(&o, &s, &x, &res, newkeys, pname, 1);
		goto out;
	}
	ret = write_issued(&o, &s, newkeys, 1, &res.issued, &res.chain);
	if (ret == 0 && res.confirm_required)
		ret = confirm_issued(&o, &s, reqkey[0], &res);
	if (ret < 0)
		goto out;
	rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: %s: %s\n", o.cmd, gba_strerror(ret));
	gba_key_free(old);
	gba_key_free(fresh);
	ue_certs_clear(&cert);
	ue_certs_clear(&chain);
	ue_cmc_result_clear(&res);
	exchange_clear(&x);
	session_clear(&s);
	return rc;
}

/* ---- the TS 33.221 portal ---- */

/* base64 of der, percent-encoded for a query value. */
static int query_b64(const uint8_t *der, size_t len, char *out, size_t size)
{
	char *b64 = NULL;
	size_t bsz = (len + 2) / 3 * 4 + 1, i, o = 0;
	int n, ret = 0;

	b64 = gba_malloc(bsz);
	if (b64 == NULL)
		return GBA_ENOMEM;
	n = gba_base64_encode(der, len, b64, bsz);
	if (n < 0) {
		ret = n;
		goto out;
	}
	for (i = 0; i < (size_t)n; i++) {
		char c = b64[i];

		if (c == '+' || c == '/' || c == '=') {
			if (o + 3 >= size) {
				ret = GBA_ETOOBIG;
				goto out;
			}
			snprintf(out + o, 4, "%%%02X", (unsigned char)c);
			o += 3;
		} else {
			if (o + 1 >= size) {
				ret = GBA_ETOOBIG;
				goto out;
			}
			out[o++] = c;
		}
	}
	out[o] = '\0';
out:
	gba_free(b64);
	return ret;
}

/*
 * A Ua request; a refusal of the credentials (401 after answering)
 * bootstraps again (with --bsf) and retries once.
 */
static int ua_request(const struct opts *o, struct session *s, const char *method,
                      const char *path, const struct gba_http_header *h, size_t nh,
                      const void *body, size_t len, struct gba_http_reply **r)
{
	struct ue_ua *ua = NULL;
	int ret, attempt;

	ua = gba_calloc(1, sizeof(*ua));
	if (ua == NULL)
		return GBA_ENOMEM;
	for (attempt = 0; attempt < 2; attempt++) {
		ret = ue_ua_init(ua, s->http, s->u.btid, s->ks_naf, user_agent);
		if (ret < 0)
			break;
		ua->trace = o->trace;
		ret = ue_ua_request(ua, method, path, h, nh, body, len, r);
		ue_ua_clear(ua);
		if (ret != GBA_EAUTH || attempt > 0 || o->bsf == NULL)
			break;
		fprintf(stderr, "gba-ue: the NAF refused the B-TID; bootstrapping again\n");
		ret = session_keys(o, s, 1);
		if (ret < 0)
			break;
	}
	if (ret < 0)
		fprintf(stderr, "gba-ue: %s %s: %s\n", method, path, gba_strerror(ret));
	gba_free(ua);
	return ret;
}

/* GET /getcertificate?in=<issuer> -> the CA certificate DER, or
 * GBA_ENOTFOUND on 404. */
static int get_ca_cert(const struct opts *o, struct session *s, const uint8_t *issuer,
                       size_t issuer_len, struct ue_certs *out)
{
	struct gba_http_reply *r = NULL;
	char *path = NULL;
	size_t psize = UE_PATH_MAX + issuer_len * 2;
	int ret, n;

	path = gba_malloc(psize);
	if (path == NULL)
		return GBA_ENOMEM;
	n = snprintf(path, psize, "%s/getcertificate?in=", s->base);
	if (n < 0 || (size_t)n >= psize) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	ret = query_b64(issuer, issuer_len, path + n, psize - (size_t)n);
	if (ret == 0)
		ret = ua_request(o, s, "GET", path, NULL, 0, NULL, 0, &r);
	if (ret < 0)
		goto out;
	if (r->status == 404) {
		ret = GBA_ENOTFOUND;
		goto out;
	}
	if (r->status != 200 || r->body_len == 0) {
		fprintf(stderr, "gba-ue: getcertificate answered %d\n", r->status);
		ret = GBA_EAUTH;
		goto out;
	}
	ret = ue_certs_add(out, r->body, r->body_len);
out:
	gba_http_reply_free(r);
	gba_free(path);
	return ret;
}

int ue_cmd_portal_enrol(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct gba_cmc_req_build b;
	struct gba_http_header h[1];
	struct gba_http_reply *r = NULL;
	struct gba_cert_info ci;
	struct ue_certs leaf, chain;
	struct gba_key *key = NULL;
	uint8_t *spki = NULL, *csr = NULL, ski[GBA_X509_KEY_ID_LEN];
	size_t spki_len = 0, csr_len = 0, olen = 0, i;
	char *pem = NULL, path[UE_PATH_MAX];
	const struct gba_str *ct;
	const uint8_t *inter[UE_MAX_CERTS];
	size_t inter_len[UE_MAX_CERTS];
	struct gba_blob sp;
	int ret, rc = EX_ERROR, have_ci = 0, is_chain;

	memset(&s, 0, sizeof(s));
	memset(&leaf, 0, sizeof(leaf));
	memset(&chain, 0, sizeof(chain));
	if (parse_opts(argc, argv, &o, 1) < 0 || o.naf == NULL || o.out == NULL)
		return usage_error();
	if (strcmp(o.response, "single") != 0 && strcmp(o.response, "chain") != 0)
		return usage_error();
	is_chain = strcmp(o.response, "chain") == 0;
	ret = ensure_dir(o.out);
	if (ret == 0 && o.trust != NULL)
		ret = load_anchor(o.trust, &s);
	if (ret == 0)
		ret = session_target(&o, &s);
	if (ret == 0)
		ret = session_keys(&o, &s, 0);
	if (ret == 0)
		ret = session_connect(&o, &s);
	if (ret == 0)
		ret = gba_key_generate(&key, o.key_type);
	if (ret == 0)
		ret = gba_key_spki(key, &spki, &spki_len);
	if (ret == 0)
		ret = gba_x509_spki_key_id(spki, spki_len, ski);
	if (ret < 0)
		goto out;
	memset(&b, 0, sizeof(b));
	b.body_part_id = 1;
	b.spki.p = spki;
	b.spki.len = spki_len;
	b.ski.p = ski;
	b.ski.len = sizeof(ski);
	b.sig_alg.p = gba_key_sig_oid(key, &olen);
	b.sig_alg.len = olen;
	b.sign = gba_key_sign;
	b.sign_ctx = key;
	ret = gba_cmc_csr_build(&b, &csr, &csr_len);
	if (ret == 0 && !o.der)
		ret = gba_x509_pem("CERTIFICATE REQUEST", csr, csr_len, &pem);
	if (ret < 0)
		goto out;
	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = o.der ? GBA_STR_LIT("application/pkcs10") : GBA_STR_LIT("application/x-pkcs10");
	ret = snprintf(path, sizeof(path), "%s/enrol?response=%s", s.base, o.response) < 0
	      ? GBA_EINVAL : 0;
	if (ret == 0)
		ret = ua_request(&o, &s, "POST", path, h, 1, o.der ? (const void *)csr : pem,
		                 o.der ? csr_len : strlen(pem), &r);
	if (ret < 0)
		goto out;
	if (r->status == 403) {
		printf("refused 403\n");
		rc = EX_REFUSED;
		goto out;
	}
	if (r->status != 200) {
		fprintf(stderr, "gba-ue: the portal answered %d\n", r->status);
		ret = GBA_EAUTH;
		goto out;
	}
	ct = gba_http_reply_header(r, "content-type");
	sp.p = spki;
	sp.len = spki_len;
	if (is_chain) {
		if (ct == NULL || ct->len < 22 ||
		    strncasecmp(ct->p, "application/pkcs7-mime", 22) != 0) {
			ret = GBA_EUNSUPP;
			fprintf(stderr, "gba-ue: a chain answer must be application/pkcs7-mime\n");
			goto out;
		}
		ret = ue_cmc_certs_only(r->body, r->body_len, sp, &leaf, &chain);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: the certs-only answer has no certificate for our key\n");
			goto out;
		}
	} else {
		if (ct == NULL || ct->len < 21 || strncasecmp(ct->p, "application/pkix-cert", 21) != 0) {
			ret = GBA_EUNSUPP;
			fprintf(stderr, "gba-ue: a single answer must be application/pkix-cert\n");
			goto out;
		}
		ret = ue_certs_add(&leaf, r->body, r->body_len);
		if (ret < 0)
			goto out;
	}
	ret = gba_x509_cert_info(leaf.der[0], leaf.len[0], &ci);
	if (ret < 0)
		goto out;
	have_ci = 1;
	if (ci.spki_len != spki_len || memcmp(ci.spki, spki, spki_len) != 0) {
		fprintf(stderr, "gba-ue: the certificate is not for our key\n");
		ret = GBA_EAUTH;
		goto out;
	}
	if (s.anchor != NULL) {
		/* single: fetch the issuing CA as 24.109 E.5 describes, unless
		 * the anchor issued the certificate itself */
		if (!is_chain && gba_x509_verify_path(leaf.der[0], leaf.len[0], NULL, NULL, 0,
		                                      s.anchor, s.anchor_len, time(NULL)) < 0) {
			ret = get_ca_cert(&o, &s, ci.issuer_der, ci.issuer_der_len, &chain);
			if (ret < 0) {
				fprintf(stderr, "gba-ue: cannot get the issuing CA certificate: %s\n",
				        gba_strerror(ret));
				goto out;
			}
		}
		for (i = 0; i < chain.n; i++) {
			inter[i] = chain.der[i];
			inter_len[i] = chain.len[i];
		}
		ret = gba_x509_verify_path(leaf.der[0], leaf.len[0], inter, inter_len, chain.n,
		                           s.anchor, s.anchor_len, time(NULL));
		if (ret < 0) {
			fprintf(stderr, "gba-ue: the certificate does not chain to the trust anchor\n");
			goto out;
		}
		/* keep the anchor out of chain (write_issued appends it) */
		for (i = 0; i < chain.n; i++) {
			if (chain.len[i] == s.anchor_len &&
			    memcmp(chain.der[i], s.anchor, s.anchor_len) == 0) {
				gba_free(chain.der[i]);
				chain.der[i] = chain.der[chain.n - 1];
				chain.len[i] = chain.len[chain.n - 1];
				chain.n--;
				break;
			}
		}
	}
	ret = write_issued(&o, &s, &key, 1, &leaf, &chain);
	if (ret < 0)
		goto out;
	rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: portal-enrol: %s\n", gba_strerror(ret));
	if (have_ci)
		gba_cert_info_clear(&ci);
	gba_http_reply_free(r);
	gba_key_free(key);
	gba_free(spki);
	gba_free(csr);
	gba_free(pem);
	ue_certs_clear(&leaf);
	ue_certs_clear(&chain);
	session_clear(&s);
	return rc;
}

int ue_cmd_ca_cert(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct ue_certs cert, ca;
	struct gba_cert_info ci;
	char path[UE_PATH_MAX], *pem = NULL;
	int ret, rc = EX_ERROR, have_ci = 0;

	memset(&s, 0, sizeof(s));
	memset(&cert, 0, sizeof(cert));
	memset(&ca, 0, sizeof(ca));
	if (parse_opts(argc, argv, &o, 0) < 0 || o.naf == NULL || o.issuer_of == NULL)
		return usage_error();
	ret = ue_pem_read(o.issuer_of, "CERTIFICATE", &cert);
	if (ret == 0)
		ret = gba_x509_cert_info(cert.der[0], cert.len[0], &ci);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot read %s: %s\n", o.issuer_of, gba_strerror(ret));
		goto out;
	}
	have_ci = 1;
	ret = session_target(&o, &s);
	if (ret == 0)
		ret = session_keys(&o, &s, 0);
	if (ret == 0)
		ret = session_connect(&o, &s);
	if (ret == 0)
		ret = get_ca_cert(&o, &s, ci.issuer_der, ci.issuer_der_len, &ca);
	if (ret == GBA_ENOTFOUND) {
		printf("not-found 404\n");
		rc = EX_REFUSED;
		goto out;
	}
	if (ret < 0)
		goto out;
	if (o.out != NULL) {
		ret = ensure_dir(o.out);
		if (ret == 0)
			ret = path_join(path, sizeof(path), o.out, "ca.pem");
		if (ret == 0)
			ret = ue_pem_write(path, "CERTIFICATE", (const uint8_t *const *)ca.der, ca.len,
			                   1);
		if (ret == 0)
			printf("ca %s\n", path);
	} else {
		ret = gba_x509_pem("CERTIFICATE", ca.der[0], ca.len[0], &pem);
		if (ret == 0)
			fputs(pem, stdout);
	}
	if (ret == 0)
		rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: ca-cert: %s\n", gba_strerror(ret));
	if (have_ci)
		gba_cert_info_clear(&ci);
	gba_free(pem);
	ue_certs_clear(&cert);
	ue_certs_clear(&ca);
	session_clear(&s);
	return rc;
}

/* ---- revoke ---- */

int ue_cmd_revoke(int argc, char **argv)
{
	struct opts o;
	struct session s;
	struct exchange x;
	struct ue_cmc_result res;
	struct ue_certs cert, chain;
	struct gba_cert_info ci;
	struct gba_cmc_revoke rv;
	struct gba_blob certs[UE_MAX_CERTS];
	struct gba_key *signer = NULL;
	char path[UE_PATH_MAX], hex[2 * GBA_X509_MAX_SERIAL + 1];
	size_t i;
	int ret, rc = EX_ERROR, reason = 0;

	memset(&s, 0, sizeof(s));
	memset(&x, 0, sizeof(x));
	memset(&res, 0, sizeof(res));
	memset(&cert, 0, sizeof(cert));
	memset(&chain, 0, sizeof(chain));
	memset(&ci, 0, sizeof(ci));
	memset(&rv, 0, sizeof(rv));
	if (parse_opts(argc, argv, &o, 0) < 0 || common_checks(&o) < 0)
		return usage_error();
	if (o.reason != NULL && gba_crl_reason_by_name(o.reason, &reason) != 0) {
		fprintf(stderr, "gba-ue: unknown reason '%s' (keyCompromise, superseded, ...)\n",
		        o.reason);
		return usage_error();
	}
	rv.reason = reason;
	if (o.invalidity != NULL) {
		if (gba_time_parse_rfc3339(o.invalidity, strlen(o.invalidity),
		                           &rv.invalidity_date) < 0) {
			fprintf(stderr, "gba-ue: --invalidity-date: RFC 3339 expected\n");
			return usage_error();
		}
		rv.has_invalidity_date = 1;
	}
	if (o.cert != NULL)
		snprintf(path, sizeof(path), "%s", o.cert);
	else if (path_join(path, sizeof(path), o.out, "cert.pem") < 0)
		return usage_error();
	ret = ue_pem_read(path, "CERTIFICATE", &cert);
	if (ret == 0)
		ret = gba_x509_cert_info(cert.der[0], cert.len[0], &ci);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot read the certificate %s: %s\n", path,
		        gba_strerror(ret));
		goto out;
	}
	rv.issuer.p = ci.issuer_der;
	rv.issuer.len = ci.issuer_der_len;
	rv.serial.p = ci.serial;
	rv.serial.len = ci.serial_len;
	ret = load_anchor(o.trust, &s);
	if (ret == 0)
		ret = session_target(&o, &s);
	if (ret < 0)
		goto out;
	if (o.with_cert) {
		/* signed by the certificate being revoked */
		ret = path_join(path, sizeof(path), o.out, "key.pem");
		if (ret == 0)
			ret = gba_key_load(&signer, path);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: cannot load %s: %s\n", path, gba_strerror(ret));
			goto out;
		}
		if (path_join(path, sizeof(path), o.out, "chain.pem") == 0)
			(void)ue_pem_read(path, "CERTIFICATE", &chain);   /* optional */
		for (i = 0; i < chain.n; i++) {
			certs[i].p = chain.der[i];
			certs[i].len = chain.len[i];
		}
		x.req.signer_cert.p = cert.der[0];
		x.req.signer_cert.len = cert.len[0];
		x.req.certs = certs;
		x.req.ncerts = chain.n;
	} else {
		/* the GBA session authenticates; the SignedData is signed by a
		 * key of no standing (sid = its key identifier) */
		ret = session_keys(&o, &s, 0);
		if (ret == 0)
			ret = gba_key_generate(&signer, GBA_KEY_EC_P256);
		if (ret < 0)
			goto out;
		x.req.identification = s.u.btid;
		x.req.ks_naf = s.ks_naf;
	}
	ret = session_connect(&o, &s);
	if (ret == 0)
		ret = ue_cmc_new_txid(x.txid);
	if (ret < 0)
		goto out;
	x.req.txid.p = x.txid;
	x.req.txid.len = sizeof(x.txid);
	x.req.sign_key = signer;
	x.req.revoke = &rv;
	if (o.get_crl)
		x.req.get_crl_issuer = rv.issuer;
	ret = exchange_run(&o, &s, &x, &res);
	if (ret < 0)
		goto out;
	if (res.status != GBA_CMC_SUCCESS) {
		rc = report_failed(&res);
		goto out;
	}
	gba_hex_encode(ci.serial, ci.serial_len, hex);
	printf("revoked %s\n", hex);
	rc = EX_OK;
out:
	if (rc == EX_ERROR && ret < 0)
		fprintf(stderr, "gba-ue: revoke: %s\n", gba_strerror(ret));
	gba_key_free(signer);
	gba_cert_info_clear(&ci);
	ue_certs_clear(&cert);
	ue_certs_clear(&chain);
	ue_cmc_result_clear(&res);
	exchange_clear(&x);
	session_clear(&s);
	return rc;
}
