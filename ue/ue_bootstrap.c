/*
 * ue_bootstrap.c - gba-ue init | bootstrap | ks-naf.
 *
 * bootstrap runs Ub as TS 24.109 describes: an initial GET / with the
 * IMPI and an empty response, the 401 challenge, AUTHENTICATE on the
 * simulated USIM, then either the Digest answer with RES as the password,
 * a resynchronisation (auts, empty password) or the network-failure
 * answer (empty password, no auts).  On 200 it checks rspauth over the
 * body, reads the B-TID and lifetime, and stores Ks in the state file.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_http.h"
#include "gba_keys.h"
#include "gba_milenage.h"
#include "ue.h"
#include "ue_der.h"
#include "ue_ub.h"
#include "ue_usim.h"

#define UE_MAX_RESYNC 2

static const char user_agent[] = "gba-ue/" PACKAGE_VERSION " 3gpp-gba-tmpi";

int ue_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	if (p == NULL)
		return GBA_EINVAL;
	p += 3;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL)
			return GBA_EINVAL;
		p++;
	} else {
		end = p + strcspn(p, ":/");
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= size)
		return GBA_EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* --trace: print each request's Authorization and the status to stderr.
 * Authorization carries the Digest response, never RES or a key. */
static int trace;

static int get_root(struct gba_http_client *c, const char *authz, struct gba_http_reply **r)
{
	int ret = ue_ub_get(c, authz, user_agent, r);

	if (trace) {
		fprintf(stderr, "> GET / Authorization: %s\n", authz);
		if (ret == 0)
			fprintf(stderr, "< %d\n", (*r)->status);
	}
	return ret;
}

int ue_bootstrap_run(const struct ue_ub_opts *o, struct ue_usim *u)
{
	static struct gba_auth scratch;   /* the parser's 4 KiB arena */
	static struct ue_ub_challenge ch;
	struct gba_http_client_conf cc;
	struct gba_http_client *c = NULL;
	struct gba_http_reply *r = NULL;
	char authz[GBA_MAX_AUTH_HEADER_LEN], realm[GBA_MAX_FQDN_LEN + 1], auts_b64[32];
	uint8_t res[8], ck[16], ik[16], auts[14], ks[32];
	int ret, n, round, ok = 0;

	memset(&cc, 0, sizeof(cc));
	cc.mode = o->mode;
	cc.ca_file = o->ca;
	ret = gba_http_client_open(&c, &cc, o->url);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot connect to %s: %s\n", o->url, gba_strerror(ret));
		return ret;
	}
	if (o->realm != NULL)
		snprintf(realm, sizeof(realm), "%s", o->realm);
	else if (ue_url_host(o->url, realm, sizeof(realm)) < 0)
		realm[0] = '\0';
	ret = ue_ub_initial_authz(u->impi, realm, authz, sizeof(authz));
	if (ret == 0)
		ret = get_root(c, authz, &r);

	for (round = 0; ret == 0 && round <= UE_MAX_RESYNC; round++) {
		if (r->status != 401) {
			fprintf(stderr, "gba-ue: expected 401, got %d\n", r->status);
			ret = GBA_EAUTH;
			break;
		}
		ret = ue_ub_challenge(&scratch, r, &ch);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: 401 without an AKAv1-MD5 challenge with qop "
			                "auth-int and a RAND||AUTN nonce: %s\n", gba_strerror(ret));
			break;
		}
		ret = ue_usim_authenticate(u, ch.rand, ch.autn, res, ck, ik, auts);
		if (ret == GBA_EAUTH) {
			/* network authentication failed: empty password, no auts */
			ret = ue_ub_answer(u->impi, &ch, NULL, 0, NULL, authz, sizeof(authz));
			gba_http_reply_free(r);
			r = NULL;
			if (ret == 0)
				ret = get_root(c, authz, &r);
			fprintf(stderr, "gba-ue: network authentication failed (AUTN MAC); BSF said %d\n",
			        r != NULL ? r->status : 0);
			ret = GBA_EAUTH;
			break;
		}
		if (ret == GBA_ESYNC) {
			n = gba_base64_encode(auts, sizeof(auts), auts_b64, sizeof(auts_b64));
			if (n < 0) {
				ret = n;
				break;
			}
			fprintf(stderr, "gba-ue: SQN out of range, resynchronising\n");
			ret = ue_ub_answer(u->impi, &ch, NULL, 0, auts_b64, authz, sizeof(authz));
			gba_http_reply_free(r);
			r = NULL;
			if (ret == 0)
				ret = get_root(c, authz, &r);
			continue;
		}
		if (ret < 0)
			break;
		ret = ue_ub_answer(u->impi, &ch, res, sizeof(res), NULL, authz, sizeof(authz));
		gba_http_reply_free(r);
		r = NULL;
		if (ret == 0)
			ret = get_root(c, authz, &r);
		ok = 1;
		break;
	}
	if (ret < 0)
		goto out;
	if (!ok) {
		fprintf(stderr, "gba-ue: gave up after %d resynchronisations\n", UE_MAX_RESYNC);
		ret = GBA_ESYNC;
		goto out;
	}
	if (r->status != 200) {
		fprintf(stderr, "gba-ue: BSF refused the answer: %d\n", r->status);
		ret = GBA_EAUTH;
		goto out;
	}
	ret = ue_ub_check_rspauth(&scratch, u->impi, &ch, r, res);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: Authentication-Info rspauth does not verify\n");
		goto out;
	}
	ret = ue_ub_bootstrapping_info(r, u->btid, sizeof(u->btid), u->lifetime,
	                               sizeof(u->lifetime));
	if (ret < 0) {
		fprintf(stderr, "gba-ue: 200 is not a BootstrappingInfo with btid and lifetime\n");
		goto out;
	}
	memcpy(u->rand, ch.rand, 16);
	gba_ks_from_ck_ik(ck, ik, ks);
	ret = gba_secret_set(&u->ks, ks, sizeof(ks));
	if (ret == 0)
		ret = ue_usim_save(u, o->state);
	if (ret == 0)
		fprintf(o->quiet ? stderr : stdout, "B-TID: %s\nlifetime: %s\nprotocol: %s\n",
		        u->btid, u->lifetime, r->version == GBA_HTTP_2 ? "HTTP/2" : "HTTP/1.1");
	if (ret == 0 && o->on_pushed != NULL && r->npushed > 0)
		ret = o->on_pushed(o->pushed_arg, u, r);
out:
	gba_wipe(res, sizeof(res));
	gba_wipe(ck, sizeof(ck));
	gba_wipe(ik, sizeof(ik));
	gba_wipe(ks, sizeof(ks));
	gba_wipe(authz, sizeof(authz));
	gba_http_reply_free(r);
	gba_http_client_close(c);
	return ret;
}

int ue_cmd_bootstrap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "bsf", required_argument, NULL, 'b' },
		{ "realm", required_argument, NULL, 'r' },
		{ "ca", required_argument, NULL, 'c' },
		{ "http1", no_argument, NULL, '1' },
		{ "http2", no_argument, NULL, '2' },
		{ "trace", no_argument, NULL, 't' },
		{ "ccm-dir", required_argument, NULL, 'D' },
		{ "trust", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct ue_ub_opts o = { "gba-ue.state", NULL, NULL, NULL, GBA_HTTP_CLIENT_AUTO, 0, NULL,
	                        NULL };
	struct ue_ccm_push_ctx pc;
	struct ue_certs anchors;
	const char *trust = NULL;
	struct ue_usim u;
	int ch, ret;

	memset(&pc, 0, sizeof(pc));
	memset(&anchors, 0, sizeof(anchors));

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o.state = optarg; break;
		case 'b': o.url = optarg; break;
		case 'r': o.realm = optarg; break;
		case 'c': o.ca = optarg; break;
		case '1': o.mode = GBA_HTTP_CLIENT_H1; break;
		case '2': o.mode = GBA_HTTP_CLIENT_H2; break;
		case 't': trace = 1; break;
		case 'D': pc.dir = optarg; break;
		case 'T': trust = optarg; break;
		default: return 2;
		}
	}
	if (o.url == NULL || optind != argc || (pc.dir != NULL) != (trust != NULL)) {
		fprintf(stderr, "usage: gba-ue bootstrap --bsf URL [--state F] [--realm FQDN] "
		                "[--ca PEM] [--http1|--http2] [--trace]\n"
		                "                     [--ccm-dir DIR --trust PEM]\n");
		return 2;
	}
	if (pc.dir != NULL) {
		/* CCMs pushed on the answer are verified and applied to DIR */
		ret = ue_pem_read(trust, "CERTIFICATE", &anchors);
		if (ret < 0) {
			fprintf(stderr, "gba-ue: cannot read trust anchor %s: %s\n", trust,
			        gba_strerror(ret));
			return 2;
		}
		pc.anchor = anchors.der[0];
		pc.anchor_len = anchors.len[0];
		o.on_pushed = ue_ccm_on_pushed;
		o.pushed_arg = &pc;
	}
	ret = ue_usim_load(&u, o.state);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: cannot load USIM state %s: %s\n", o.state, gba_strerror(ret));
		return 1;
	}
	ret = ue_bootstrap_run(&o, &u);
	ue_usim_clear(&u);
	ue_certs_clear(&anchors);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: bootstrap failed: %s\n", gba_strerror(ret));
		return 1;
	}
	return 0;
}

int ue_cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "impi", required_argument, NULL, 'i' },
		{ "k", required_argument, NULL, 'k' },
		{ "op", required_argument, NULL, 'o' },
		{ "opc", required_argument, NULL, 'c' },
		{ "sqn", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state = "gba-ue.state", *impi = NULL, *k = NULL, *op = NULL, *opc = NULL;
	const char *sqn = "000000000000";
	uint8_t kb[16], ob[16], cb[16], sb[6];
	struct ue_usim u;
	int ch, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'i': impi = optarg; break;
		case 'k': k = optarg; break;
		case 'o': op = optarg; break;
		case 'c': opc = optarg; break;
		case 'q': sqn = optarg; break;
		default: return 2;
		}
	}
	if (impi == NULL || k == NULL || (op == NULL) == (opc == NULL) || optind != argc) {
		fprintf(stderr, "usage: gba-ue init --impi IMPI --k HEX (--op HEX | --opc HEX) "
		                "[--sqn HEX12] [--state F]\n");
		return 2;
	}
	memset(&u, 0, sizeof(u));
	ret = GBA_ESYNTAX;
	if (strlen(impi) == 0 || strlen(impi) > GBA_MAX_IMPI_LEN || strchr(impi, ' ') != NULL ||
	    strchr(impi, '"') != NULL)
		goto out;
	memcpy(u.impi, impi, strlen(impi) + 1);
	if (gba_hex_decode(k, strlen(k), kb, 16) < 0 ||
	    gba_hex_decode(sqn, strlen(sqn), sb, 6) < 0)
		goto out;
	if (op != NULL) {
		if (gba_hex_decode(op, strlen(op), ob, 16) < 0)
			goto out;
		ret = gba_milenage_opc(kb, ob, cb);
		if (ret < 0)
			goto out;
	} else if (gba_hex_decode(opc, strlen(opc), cb, 16) < 0) {
		goto out;
	}
	ret = gba_secret_set(&u.k, kb, 16);
	if (ret == 0)
		ret = gba_secret_set(&u.opc, cb, 16);
	u.sqn_ms = gba_sqn_get(sb);
	if (ret == 0)
		ret = ue_usim_save(&u, state);
out:
	gba_wipe(kb, sizeof(kb));
	gba_wipe(ob, sizeof(ob));
	gba_wipe(cb, sizeof(cb));
	ue_usim_clear(&u);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: init: %s\n", gba_strerror(ret));
		return 1;
	}
	return 0;
}

int ue_cmd_ks_naf(int argc, char **argv)
{
	const char *state = "gba-ue.state";
	uint8_t uaid[GBA_UA_ID_LEN], ks_naf[32];
	char hex[65];
	struct ue_usim u;
	int i = 1, ret;

	if (argc >= 3 && strcmp(argv[1], "--state") == 0) {
		state = argv[2];
		i = 3;
	}
	if (argc - i != 2 || strlen(argv[i + 1]) != 10 ||
	    gba_hex_decode(argv[i + 1], 10, uaid, sizeof(uaid)) < 0) {
		fprintf(stderr, "usage: gba-ue ks-naf [--state F] NAF_FQDN UA_ID_HEX10\n");
		return 2;
	}
	ret = ue_usim_load(&u, state);
	if (ret == 0 && (u.btid[0] == '\0' || u.ks.len != 32))
		ret = GBA_ENOTFOUND;
	if (ret == 0)
		ret = gba_ks_naf(u.ks.b, u.rand, u.impi, strlen(u.impi), argv[i], strlen(argv[i]),
		                 uaid, ks_naf);
	if (ret == 0) {
		gba_hex_encode(ks_naf, sizeof(ks_naf), hex);
		printf("%s\n", hex);
	}
	gba_wipe(ks_naf, sizeof(ks_naf));
	gba_wipe(hex, sizeof(hex));
	ue_usim_clear(&u);
	if (ret < 0) {
		fprintf(stderr, "gba-ue: ks-naf: %s (bootstrap first)\n", gba_strerror(ret));
		return 1;
	}
	return 0;
}
