/*
 * ue_subscribe.c - gba-ue subscribe | ccm-check, and the CCMs pushed on
 * a bootstrap (doc/ccm.md).
 *
 * subscribe keeps GET /ccm open on the NAF (authenticated with GBA
 * Digest from the USIM state, or with --cert/--key: a certificate the
 * NAF issued), takes each CCM as a push or as a frame of the body,
 * verifies it (ue_ccm.h), checks its sequence number against
 * DIR/ccm.state, applies it to DIR and acknowledges it (POST /ccm/ack
 * on a second connection).  One line per message on stdout:
 *   ccm SEQ ACTION SERIAL              applied
 *   ccm SEQ ACTION SERIAL duplicate    applied before: acknowledged again
 *   rejected REASON                    not applied, not acknowledged
 * SERIAL is the certificate's serial (hex) or "-".
 *
 * ccm-check runs the same checks on CCM files (DER SignedData), offline.
 *
 * --drain asks for what is waiting and ends (GET /ccm?wait=0).
 *
 * Exit status: 0 done (--count messages, or the NAF ended the stream), 1
 * at least one CCM rejected, 2 usage, 4 error (transport,
 * authentication, files), 5 --timeout passed before --count.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "ue.h"
#include "ue_ccm.h"
#include "ue_der.h"
#include "ue_ua.h"

#define EX_OK       0
#define EX_REJECTED 1
#define EX_USAGE    2
#define EX_ERROR    4
#define EX_TIMEOUT  5

/* Positive values the stream callback stops with. */
#define STOP_COUNT  1
#define STOP_STATUS 2
#define STOP_ERROR  3

#define UE_KS_MARGIN   30
#define MAX_CCM        (64u * 1024u)

static const char user_agent[] = "gba-ue/" PACKAGE_VERSION " 3gpp-gba";

struct sopts {
	const char *app, *naf, *naf_fqdn, *trust, *out, *state, *bsf, *ca, *cert, *key;
	enum gba_http_client_mode mode;
	unsigned long count;              /* 0: until the NAF ends the stream */
	unsigned long timeout_s;          /* 0: none */
	int no_push, trace;
	int drain;                        /* GET /ccm?wait=0: end when nothing is left */
};

struct sub {
	const struct sopts *o;
	const uint8_t *anchor;
	size_t anchor_len;
	const char *impi;                 /* NULL with a client certificate */
	struct ue_ccm_state state;
	struct ue_ccm_frames frames;
	struct gba_http_client *ack;      /* the acknowledgement connection */
	struct ue_ua *ua;                 /* Digest on it; NULL with a certificate */
	unsigned long processed;
	int rejected;
	int status;
};

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : GBA_EINVAL;
	if (errno != ENOENT || mkdir(dir, 0700) != 0)
		return GBA_EIO;
	return 0;
}

/* ---- one message ---- */

/* Verify, order, apply.  0 when applied or a duplicate (*ack set), 1
 * when rejected, < 0 for local errors. */
static int handle(const char *dir, const uint8_t *anchor, size_t anchor_len, const char *impi,
                  const char *app, struct ue_ccm_state *st, const uint8_t *der, size_t len,
                  uint8_t id[16], int *ack)
{
	struct ue_ccm c;
	const char *why = NULL;
	int ret;

	*ack = 0;
	ret = ue_ccm_verify(der, len, anchor, anchor_len, time(NULL), impi, app, &c, &why);
	if (ret < 0) {
		printf("rejected %s\n", why != NULL ? why : gba_strerror(ret));
		fflush(stdout);
		return 1;
	}
	memcpy(id, c.ccm.message_id, 16);
	switch (ue_ccm_order(st, &c.ccm)) {
	case UE_CCM_NEW:
		ret = ue_ccm_apply(dir, &c, st);
		if (ret == 0)
			ret = ue_ccm_state_save(dir, st);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: applying CCM %llu: %s\n",
			        (unsigned long long)c.ccm.seq, gba_strerror(ret));
			break;
		}
		printf("ccm %llu %s %s\n", (unsigned long long)c.ccm.seq,
		       gba_ccm_action_name(c.ccm.action), c.serial);
		*ack = 1;
		break;
	case UE_CCM_DUPLICATE:
		printf("ccm %llu %s %s duplicate\n", (unsigned long long)c.ccm.seq,
		       gba_ccm_action_name(c.ccm.action), c.serial);
		*ack = 1;
		break;
	case UE_CCM_REPLAY:
		printf("rejected replay: sequence %llu, already at %llu\n",
		       (unsigned long long)c.ccm.seq, (unsigned long long)st->seq);
		ret = 1;
		break;
	}
	fflush(stdout);
	ue_ccm_clear(&c);
	return ret;
}

/* ---- acknowledgements ---- */

static int send_ack(struct sub *s, const uint8_t id[16])
{
	struct gba_http_header h[2];
	struct gba_http_reply *r = NULL;
	char body[34], path[4096];
	int ret;

	gba_hex_encode(id, 16, body);
	body[32] = '\n';
	body[33] = '\0';
	if (snprintf(path, sizeof(path), "%s", "/ccm/ack") >= (int)sizeof(path))
		return GBA_ETOOBIG;
	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = GBA_STR_LIT("text/plain");
	h[1].name = GBA_STR_LIT("user-agent");
	h[1].value = gba_str_c(user_agent);
	if (s->ua != NULL)
		ret = ue_ua_request(s->ua, "POST", path, h, 1, body, 33, &r);
	else
		ret = gba_http_client_request(s->ack, "POST", path, h, 2, body, 33, &r);
	if (ret == 0 && r->status != 200)
		ret = GBA_EAUTH;
	if (ret < 0)
		fprintf(stderr, "gba-ue: acknowledgement: %s (status %d)\n", gba_strerror(ret),
		        r != NULL ? r->status : 0);
	gba_http_reply_free(r);
	return ret;
}

static int one_message(struct sub *s, const uint8_t *der, size_t len)
{
	uint8_t id[16];
	int ack, ret;

	ret = handle(s->o->out, s->anchor, s->anchor_len, s->impi, s->o->naf_fqdn, &s->state, der,
	             len, id, &ack);
	if (ret < 0)
		return STOP_ERROR;
	if (ret > 0) {
		s->rejected = 1;
		return 0;
	}
	if (ack && send_ack(s, id) < 0)
		return STOP_ERROR;
	s->processed++;
	if (s->o->count != 0 && s->processed >= s->o->count)
		return STOP_COUNT;
	return 0;
}

static int frame_cb(void *arg, const uint8_t *frame, size_t len)
{
	return one_message(arg, frame, len);
}

static int event_cb(void *arg, const struct gba_http_event *ev)
{
	struct sub *s = arg;
	int ret;

	switch (ev->type) {
	case GBA_HTTP_EV_HEADERS:
		s->status = ev->status;
		if (ev->status != 200) {
			fprintf(stderr, "gba-ue: the NAF answered %d to GET /ccm\n", ev->status);
			return STOP_STATUS;
		}
		printf("subscribed\n");
		fflush(stdout);
		return 0;
	case GBA_HTTP_EV_DATA:
		ret = ue_ccm_frames_feed(&s->frames, ev->data, ev->len, frame_cb, s);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: bad frame: %s\n", gba_strerror(ret));
			return STOP_ERROR;
		}
		return ret;
	case GBA_HTTP_EV_PUSH:
		if (ev->status != 200 || ev->path.len < 5 || memcmp(ev->path.p, "/ccm/", 5) != 0) {
			printf("rejected a push that is not a CCM\n");
			s->rejected = 1;
			return 0;
		}
		return one_message(s, ev->data, ev->len);
	case GBA_HTTP_EV_END:
		return 0;
	}
	return 0;
}

/* ---- the GBA side (Digest) ---- */

static int bootstrap_valid(const struct ue_usim *u)
{
	int64_t t;

	if (u->btid[0] == '\0' || u->ks.len != GBA_KS_LEN)
		return 0;
	if (gba_time_parse_rfc3339(u->lifetime, strlen(u->lifetime), &t) < 0)
		return 1;
	return t > gba_time_now() + UE_KS_MARGIN;
}

static int digest_keys(const struct sopts *o, struct ue_usim *u, uint8_t ks_naf[GBA_KS_NAF_LEN])
{
	struct ue_ub_opts ub;
	int ret;

	if (!bootstrap_valid(u)) {
		if (o->bsf == NULL) {
			fprintf(stderr, "gba-ue: no valid bootstrap; give --bsf URL\n");
			return GBA_EEXPIRED;
		}
		memset(&ub, 0, sizeof(ub));
		ub.state = o->state;
		ub.url = o->bsf;
		ub.ca = o->ca;
		ub.mode = o->mode;
		ub.quiet = 1;
		ret = ue_bootstrap_run(&ub, u);
		if (ret < 0)
			return ret;
	}
	return gba_ks_naf(u->ks.b, u->rand, u->impi, strlen(u->impi), o->naf_fqdn,
	                  strlen(o->naf_fqdn), gba_ua_id_pki_portal, ks_naf);
}

/* ---- subscribe ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gba-ue subscribe APP --naf URL --trust PEM --out DIR [--naf-fqdn FQDN]\n"
	        "             [--cert PEM --key PEM] [--count N] [--timeout S] [--no-push]\n"
	        "             [--drain]\n"
	        "             [--state F] [--bsf URL] [--ca PEM] [--http1|--http2] [--trace]\n"
	        "       gba-ue ccm-check --trust PEM --out DIR [--impi IMPI] [--app APP] FILE...\n"
	        "  prints 'ccm SEQ ACTION SERIAL [duplicate]' or 'rejected REASON' per CCM\n"
	        "  exit: 0 done, 1 a CCM rejected, 2 usage, 4 error, 5 timeout\n");
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int load_anchor(const char *path, struct ue_certs *c)
{
	int ret = ue_pem_read(path, "CERTIFICATE", c);

	if (ret < 0)
		fprintf(stderr, "gba-ue: cannot read trust anchor %s: %s\n", path, gba_strerror(ret));
	return ret;
}

int ue_cmd_subscribe(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "naf", required_argument, NULL, 'n' },
		{ "naf-fqdn", required_argument, NULL, 'f' },
		{ "trust", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "state", required_argument, NULL, 's' },
		{ "bsf", required_argument, NULL, 'b' },
		{ "ca", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "count", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "no-push", no_argument, NULL, 'P' },
		{ "drain", no_argument, NULL, 'D' },
		{ "http1", no_argument, NULL, '1' },
		{ "http2", no_argument, NULL, '2' },
		{ "trace", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct sopts o;
	struct sub s;
	struct ue_certs anchors;
	struct ue_usim u;
	struct ue_ua ua_ack, ua_sub;
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_header h[2];
	uint8_t ks_naf[GBA_KS_NAF_LEN];
	char authz[GBA_MAX_AUTH_HEADER_LEN];
	const char *path;
	long long t0 = (long long)time(NULL);
	int ch, ret, rc = EX_ERROR, have_u = 0, have_ua = 0;
	size_t nh = 0;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	memset(&anchors, 0, sizeof(anchors));
	memset(ks_naf, 0, sizeof(ks_naf));
	o.state = "gba-ue.state";
	o.mode = GBA_HTTP_CLIENT_AUTO;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': o.naf = optarg; break;
		case 'f': o.naf_fqdn = optarg; break;
		case 'T': o.trust = optarg; break;
		case 'o': o.out = optarg; break;
		case 's': o.state = optarg; break;
		case 'b': o.bsf = optarg; break;
		case 'c': o.ca = optarg; break;
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case 'N':
			if (number(optarg, 1000000, &o.count) < 0) {
				usage(stderr);
				return EX_USAGE;
			}
			break;
		case 'W':
			if (number(optarg, 86400 * 365, &o.timeout_s) < 0) {
				usage(stderr);
				return EX_USAGE;
			}
			break;
		case 'P': o.no_push = 1; break;
		case 'D': o.drain = 1; break;
		case '1': o.mode = GBA_HTTP_CLIENT_H1; break;
		case '2': o.mode = GBA_HTTP_CLIENT_H2; break;
		case 't': o.trace = 1; break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc || o.naf == NULL || o.trust == NULL || o.out == NULL ||
	    (o.cert == NULL) != (o.key == NULL)) {
		usage(stderr);
		return EX_USAGE;
	}
	o.app = argv[optind];
	if (o.naf_fqdn == NULL)
		o.naf_fqdn = o.app;
	path = o.drain ? "/ccm?wait=0" : "/ccm";
	if (load_anchor(o.trust, &anchors) < 0)
		return EX_USAGE;
	s.o = &o;
	s.anchor = anchors.der[0];
	s.anchor_len = anchors.len[0];
	ue_ccm_frames_init(&s.frames, MAX_CCM);
	if (ensure_dir(o.out) < 0) {
		fprintf(stderr, "gba-ue: cannot use directory %s\n", o.out);
		goto out;
	}
	ret = ue_ccm_state_load(o.out, &s.state);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: %s/ccm.state: %s\n", o.out, gba_strerror(ret));
		goto out;
	}
	memset(&cc, 0, sizeof(cc));
	cc.mode = o.mode;
	cc.ca_file = o.ca;
	cc.cert_file = o.cert;
	cc.key_file = o.key;
	cc.max_body = MAX_CCM;
	cc.disable_push = o.no_push;
	if (o.cert == NULL) {
		ret = ue_usim_load(&u, o.state);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: cannot load USIM state %s: %s\n", o.state,
			        gba_strerror(ret));
			goto out;
		}
		have_u = 1;
		ret = digest_keys(&o, &u, ks_naf);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: Ks_NAF: %s\n", gba_strerror(ret));
			goto out;
		}
		s.impi = u.impi;
	}
	ret = gba_http_client_open(&c, &cc, o.naf);
	if (ret == 0)
		ret = gba_http_client_open(&s.ack, &cc, o.naf);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot connect to %s: %s\n", o.naf, gba_strerror(ret));
		goto out;
	}
	h[nh].name = GBA_STR_LIT("user-agent");
	h[nh++].value = gba_str_c(user_agent);
	if (o.cert == NULL) {
		ret = ue_ua_init(&ua_sub, c, u.btid, ks_naf, user_agent);
		if (ret == 0)
			ret = ue_ua_init(&ua_ack, s.ack, u.btid, ks_naf, user_agent);
		if (ret < 0)
			goto out;
		have_ua = 1;
		ua_sub.trace = ua_ack.trace = o.trace;
		s.ua = &ua_ack;
		ret = ue_ua_prepare(&ua_sub, "GET", path, authz, sizeof(authz));
		if (ret < 0) {
			fprintf(stderr, "gba-ue: GET /ccm: no Digest challenge: %s\n", gba_strerror(ret));
			goto out;
		}
		h[nh].name = GBA_STR_LIT("authorization");
		h[nh++].value = gba_str_c(authz);
	}
	ret = gba_http_client_stream(c, "GET", path, h, nh,
	                             o.timeout_s != 0 ? (unsigned)(o.timeout_s * 1000u) : 0,
	                             event_cb, &s);
	if (ret == STOP_COUNT || (ret == 0 && s.status == 200)) {
		rc = s.rejected ? EX_REJECTED : EX_OK;
	} else if (ret == GBA_EIO && o.timeout_s != 0 &&
	           (long long)time(NULL) - t0 >= (long long)o.timeout_s) {
		fprintf(stderr, "gba-ue: --timeout %lu s passed after %lu message(s)\n", o.timeout_s,
		        s.processed);
		rc = EX_TIMEOUT;
	} else if (ret < 0) {
		fprintf(stderr, "gba-ue: subscription: %s\n", gba_strerror(ret));
	}
out:
	if (have_ua) {
		ue_ua_clear(&ua_sub);
		ue_ua_clear(&ua_ack);
	}
	gba_wipe(authz, sizeof(authz));
	gba_wipe(ks_naf, sizeof(ks_naf));
	if (have_u)
		ue_usim_clear(&u);
	gba_http_client_close(c);
	gba_http_client_close(s.ack);
	ue_ccm_frames_clear(&s.frames);
	ue_certs_clear(&anchors);
	return rc;
}

/* ---- ccm-check ---- */

int ue_cmd_ccm_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "trust", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "impi", required_argument, NULL, 'i' },
		{ "app", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *trust = NULL, *out = NULL, *impi = NULL, *app = NULL;
	struct ue_certs anchors;
	struct ue_ccm_state st;
	uint8_t *der = NULL, id[16];
	size_t len = 0;
	int ch, i, ret, ack, rc = EX_OK;

	memset(&anchors, 0, sizeof(anchors));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'T': trust = optarg; break;
		case 'o': out = optarg; break;
		case 'i': impi = optarg; break;
		case 'a': app = optarg; break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (trust == NULL || out == NULL || optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (load_anchor(trust, &anchors) < 0)
		return EX_USAGE;
	if (ensure_dir(out) < 0 || ue_ccm_state_load(out, &st) < 0) {
		fprintf(stderr, "gba-ue: cannot use %s or its ccm.state\n", out);
		ue_certs_clear(&anchors);
		return EX_ERROR;
	}
	for (i = optind; i < argc; i++) {
		ret = ue_file_read(argv[i], &der, &len);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: %s: %s\n", argv[i], gba_strerror(ret));
			rc = EX_ERROR;
			break;
		}
		ret = handle(out, anchors.der[0], anchors.len[0], impi, app, &st, der, len, id, &ack);
		gba_free(der);
		der = NULL;
		if (ret < 0) {
			rc = EX_ERROR;
			break;
		}
		if (ret > 0)
			rc = EX_REJECTED;
	}
	ue_certs_clear(&anchors);
	return rc;
}

/* ---- pushed on the bootstrap answer ---- */

int ue_ccm_on_pushed(void *arg, const struct ue_usim *u, const struct gba_http_reply *r)
{
	struct ue_ccm_push_ctx *pc = arg;
	struct ue_ccm_state st;
	uint8_t id[16];
	size_t i;
	int ret, ack;

	ret = ensure_dir(pc->dir);
	if (ret == 0)
		ret = ue_ccm_state_load(pc->dir, &st);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot use %s or its ccm.state\n", pc->dir);
		return ret;
	}
	for (i = 0; i < r->npushed; i++) {
		const struct gba_http_pushed *p = &r->pushed[i];

		if (p->status != 200 || p->path.len < 5 || memcmp(p->path.p, "/ccm/", 5) != 0)
			continue;
		ret = handle(pc->dir, pc->anchor, pc->anchor_len, u->impi, NULL, &st, p->body,
		             p->body_len, id, &ack);
		if (ret < 0)
			return ret;
		if (ret > 0)
			pc->rejected = 1;
	}
	return 0;
}
