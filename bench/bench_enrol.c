/*
 * bench_enrol.c - CMC enrolments/s against gba-bsfd's provisioning NAF,
 * as a ratio to the crypto-only limit of the same work, both measured in
 * one run on one machine.
 *
 * Not a test: bench/enrol.sh provisions a daemon and runs this
 * (bench/README.md has the figures).  The phases:
 *
 *  1. Bootstrap (not timed).  A request needs a live B-TID and its
 *     Ks_NAF, and the policy caps each IMPI's active certificates, so
 *     ceil(--requests / --per-impi) subscribers of --subscribers are
 *     bootstrapped over Ub, as gba-ue does it (bench_ue.h), and Ks_NAF
 *     is derived for NAF_Id = --naf-fqdn || 01 00 00 00 00.
 *  2. Build (not timed).  --requests Full PKI Requests, each exactly as
 *     `gba-ue enrol` builds it (ue_cmc_request): a fresh P-256 key, a
 *     PKCS#10 signed by it with popLinkWitnessV2, a fresh transactionId
 *     and senderNonce, identification = the B-TID, identityProofV2
 *     keyed with SHA-256(Ks_NAF || B-TID), all in a SignedData signed by
 *     the new key (sid = its key identifier).  Request i belongs to
 *     subscriber i / --per-impi.  Building them here keeps the client's
 *     key generation and signatures off the CPUs the server needs.
 *  3. Crypto-only limit.  The server's cryptography for one enrolment
 *     (naf/naf_cmc.c, mode "new key"), on real requests from phase 2,
 *     in a tight loop: SHA-256 of the PKIData (messageDigest), the
 *     SignedData signature verify, SHA-256(Ks_NAF || B-TID) and the two
 *     HMACs (identityProofV2, popLinkWitnessV2), the PKCS#10 POP
 *     verify, the certificate (gba_signer_issue with the daemon's
 *     issuing CA key and a template like the policy's), the SHA-256s of
 *     the store row and the audit record, and the PKIResponse SignedData
 *     (gba_cms_sign with the daemon's CMC signer).  Not in it: the TLS
 *     record protection (transport) and, once per B-TID and worker, the
 *     Ks_NAF cache fill (an AEAD open and the KDF).  --crypto-repeat runs
 *     of --crypto-secs each with 1 thread and with --crypto-threads
 *     threads; the fastest run of each is the limit.
 *     Before timing, every product is checked once: both HMACs equal the
 *     request's witnesses, a flipped signature bit fails to verify, and
 *     the signed response passes the same check as a real one.
 *  4. Enrolments (timed, --duration).  --concurrency threads, each with
 *     its own TLS connection to the NAF (ALPN h2, one request in flight),
 *     take the next prepared request and POST it to /cmc.  A reply
 *     counts when it is 200 with application/pkcs7-mime.  The window
 *     starts when every thread is connected and ends at --duration or
 *     when the prepared requests run out (exhausted=1: use more).
 *  5. Check (not timed).  Every reply is then checked as gba-ue does
 *     (ue_cmc_response): the SignedData signature of the CMC signer, its
 *     chain to --anchor with id-kp-cmcCA, transactionId and
 *     recipientNonce echoed, status success, and a certificate for the
 *     request's key that chains to --anchor.  --check-inline does this
 *     in the timed loop instead (the client's verifies then compete
 *     with the server for the CPUs).
 *
 * Output, key=value lines on stdout:
 *   setup ...
 *   primitive sign_us=..   (a bare gba_signer_sign, for comparison)
 *   crypto threads=T rep=I iters=N secs=S rate=R us_digest=..
 *          us_sd_verify=.. us_macs=.. us_pop_verify=.. us_issue=..
 *          us_record=.. us_resp_sign=.. us_total=..
 *          (us_*: per enrolment and thread; one line per run)
 *   enrol proto=h2 conc=C sent=.. ok=N fail=F http_fail=.. check_fail=..
 *         exhausted=0|1 secs=S rate=R p50_ms= p90_ms= p99_ms= max_ms=
 *         conn_min=.. conn_max=..   (requests sent by the least and the
 *                                    busiest connection: fairness)
 *   ratio enrol_per_s=R crypto_per_s=L crypto_threads=T ratio=R/L
 *         crypto1_per_s=L1 ratio1=R/L1     (L, L1: the fastest runs)
 * rate is checked enrolments per second of the window; latencies are
 * those of successful POSTs.  Exit status 0 when ok > 0 and fail = 0,
 * 1 otherwise, 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench_ue.h"
#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "ue_cmc.h"
#include "ue_der.h"

#define MAX_THREADS   1024u
#define MAX_REQUESTS  1000000u
#define MAX_CASES     64u                   /* requests the crypto loop cycles over */
#define ERR_REPORTS   3                     /* failures printed per thread */
#define VALIDITY_S    (365 * 86400)         /* policies/pki-portal.yaml */
#define EKU_CLIENT    "1.3.6.1.5.5.7.3.2"

static const char user_agent[] = "bench_enrol/" PACKAGE_VERSION;
static const char ct_cmc_req[] = "application/pkcs7-mime; smime-type=CMC-request";

struct cfg {
	const char *ub_url, *naf_url;
	const char *realm, *naf_fqdn;
	const char *ca;                     /* TLS trust (the daemon's ca.pem) */
	const char *anchor;                 /* root the responses chain to */
	const char *ca_dir;                 /* the daemon's CA: ca.*, cmc.* */
	const char *subs_file;
	const char *go_file;                /* created when the window opens */
	unsigned conc, per_impi, crypto_threads, crypto_repeat;
	size_t nreq;
	double duration, crypto_secs;
	int check_inline, verbose;
};

/* A bootstrapped subscriber. */
struct ue {
	const struct ue_usim *usim;
	struct bench_boot boot;
	uint8_t ks_naf[GBA_KS_NAF_LEN];
};

/* One prepared enrolment and, once sent, its outcome. */
struct req {
	const struct ue *ue;
	uint8_t *der;                       /* the Full PKI Request */
	size_t len;
	uint8_t *spki;                      /* the new key's SPKI */
	size_t spki_len;
	uint8_t txid[UE_CMC_TXID_LEN];
	uint8_t nonce[UE_CMC_NONCE_LEN];
	uint8_t *resp;                      /* the 200's body */
	size_t resp_len;
	int sent, checked, err;
};

/* The server's cryptography for one enrolment, grouped. */
enum op { OP_DIGEST, OP_SD_VERIFY, OP_MACS, OP_POP_VERIFY, OP_ISSUE, OP_RECORD,
          OP_RESP_SIGN, OP_COUNT };
static const char *const op_name[OP_COUNT] = {
	"digest", "sd_verify", "macs", "pop_verify", "issue", "record", "resp_sign"
};

#define AUDIT_LINE_LEN 450u                 /* an "issue" record, as written */

/* What one request gives the crypto loop: the bytes each check covers,
 * as naf_cmc.c gets them from the parsers, taken out once. */
struct ccase {
	const struct req *r;
	struct gba_cms_msg *cms;
	struct gba_cms_view view;
	struct gba_cms_signer_view sv;
	uint8_t *tbs;                       /* signed attributes */
	size_t tbs_len;
	struct gba_cmc_msg *cmsg;
	struct gba_cmc_pkidata pd;
	struct gba_cmc_witness_v2 proof;    /* identityProofV2 */
	struct gba_blob plr;                /* popLinkRandom */
	uint8_t *pkir;                      /* a PKIResponse to sign */
	size_t pkir_len;
	char subject[GBA_MAX_IMPI_LEN + 4];
	char san[GBA_MAX_IMPI_LEN + 9];
	const char *sanp[1];
	const char *ekup[1];
};

struct bench {
	const struct cfg *cfg;
	struct ue_usim *subs;
	size_t nsubs;
	struct ue *ues;
	size_t nues;
	struct req *reqs;
	struct gba_signer *issuer, *cmc;    /* the daemon's CA keys */
	struct ue_certs anchor;
	struct ccase *cases;
	size_t ncases;
	atomic_size_t next;                 /* next request to take */
	pthread_barrier_t start;
	double deadline;
};

struct thr {
	pthread_t tid;
	unsigned idx, n;
	struct bench *b;
	int err;
	/* enrolments */
	struct gba_http_client *c;
	uint64_t sent, ok, http_fail, check_fail;
	int exhausted;
	unsigned reported;
	struct bench_lat lat;
	/* crypto loop */
	uint64_t iters;
	double op_secs[OP_COUNT];
	double secs;
};

static void report(struct thr *t, const char *what, int err)
{
	if (t->reported < ERR_REPORTS || t->b->cfg->verbose) {
		t->reported++;
		fprintf(stderr, "bench_enrol: thread %u: %s: %s\n", t->idx, what,
		        err < 0 ? gba_strerror(err) : "unexpected reply");
	}
}

/*
 * The time responses are checked at.  notBefore is the issuer's
 * CLOCK_REALTIME second, and time(NULL) reads the coarse clock, which
 * can still be in the previous second for up to a tick: checking at
 * time(NULL) right after issuance would now and then find a
 * certificate "not yet valid".
 */
static time_t check_time(void)
{
	return (time_t)gba_time_now();
}

/* Run fn on n threads (thr[i].idx = i) and wait for them; the first
 * thread error, or 0. */
static int run_threads(struct bench *b, struct thr *th, unsigned n, void *(*fn)(void *))
{
	unsigned i, created = 0;
	int ret = 0;

	for (i = 0; i < n; i++) {
		th[i].idx = i;
		th[i].n = n;
		th[i].b = b;
		if (pthread_create(&th[i].tid, NULL, fn, &th[i]) != 0) {
			ret = GBA_ENOMEM;
			break;
		}
		created++;
	}
	for (i = 0; i < created; i++)
		pthread_join(th[i].tid, NULL);
	for (i = 0; i < created && ret == 0; i++)
		ret = th[i].err;
	return ret;
}

/* ---- 1. bootstrap ---- */

static void *boot_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;
	const struct cfg *cfg = b->cfg;
	struct gba_http_client_conf cc;
	struct bench_ub *ub = NULL;
	const char *what = "connect Ub";
	size_t i;
	int ret, tries;

	ub = gba_calloc(1, sizeof(*ub));
	if (ub == NULL) {
		t->err = GBA_ENOMEM;
		return NULL;
	}
	memset(&cc, 0, sizeof(cc));
	cc.mode = GBA_HTTP_CLIENT_H2;
	cc.ca_file = cfg->ca;
	ret = gba_http_client_open(&ub->c, &cc, cfg->ub_url);
	ub->realm = cfg->realm;
	ub->user_agent = user_agent;
	for (i = t->idx; ret == 0 && i < b->nues; i += t->n) {
		struct ue *u = &b->ues[i];

		u->usim = &b->subs[i];
		for (tries = 0; tries < 3; tries++) {
			ret = bench_ub_bootstrap(ub, &b->subs[i], &u->boot, &what);
			if (ret != GBA_ESYNC)
				break;
		}
		if (ret == 0) {
			what = "Ks_NAF";
			ret = gba_ks_naf(u->boot.ks, u->boot.rand, u->usim->impi,
			                 strlen(u->usim->impi), cfg->naf_fqdn, strlen(cfg->naf_fqdn),
			                 gba_ua_id_pki_portal, u->ks_naf);
		}
	}
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: bootstrap of %s: %s: %s\n",
		        i < b->nues ? b->subs[i].impi : "?", what, gba_strerror(ret));
		t->err = ret;
	}
	gba_http_client_close(ub->c);
	gba_wipe(ub, sizeof(*ub));
	gba_free(ub);
	return NULL;
}

/* ---- 2. build ---- */

static int build_one(struct req *r)
{
	struct gba_key *key = NULL;
	struct ue_cmc_req q;
	int ret;

	ret = gba_key_generate(&key, GBA_KEY_EC_P256);
	if (ret == 0)
		ret = gba_key_spki(key, &r->spki, &r->spki_len);
	if (ret == 0)
		ret = ue_cmc_new_txid(r->txid);
	if (ret == 0)
		ret = gba_rnd(GBA_RND_NONCE, r->nonce, sizeof(r->nonce));
	if (ret < 0)
		goto out;
	memset(&q, 0, sizeof(q));
	q.identification = r->ue->boot.btid;
	q.ks_naf = r->ue->ks_naf;
	q.keys = &key;
	q.nkeys = 1;
	q.txid.p = r->txid;
	q.txid.len = sizeof(r->txid);
	q.sender_nonce.p = r->nonce;
	q.sender_nonce.len = sizeof(r->nonce);
	q.sign_key = key;
	ret = ue_cmc_request(&q, &r->der, &r->len);
out:
	gba_key_free(key);
	return ret;
}

static void *build_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;
	size_t i;

	for (i = t->idx; i < b->cfg->nreq && t->err == 0; i += t->n)
		t->err = build_one(&b->reqs[i]);
	if (t->err < 0)
		fprintf(stderr, "bench_enrol: building request %zu: %s\n", i, gba_strerror(t->err));
	return NULL;
}

/* ---- 3. the crypto-only limit ---- */

static int oid_eq(struct gba_oid a, const struct gba_oid *b)
{
	return a.len == b->len && memcmp(a.p, b->p, a.len) == 0;
}

static void ccase_clear(struct ccase *k)
{
	gba_free(k->tbs);
	gba_free(k->pkir);
	gba_cmc_msg_free(k->cmsg);
	gba_cms_msg_free(k->cms);
	memset(k, 0, sizeof(*k));
}

/*
 * Take the request apart as naf_cmc.c does (gba_cms_parse,
 * gba_cms_signer, gba_cmc_pkidata_parse, the controls) and prepare
 * the PKIResponse and the certificate template the server would use.
 */
static int ccase_init(struct ccase *k, const struct req *r)
{
	struct gba_cmc_status_info st;
	struct gba_cmc_response resp;
	struct gba_der_error err;
	uint8_t our_nonce[16];
	uint32_t body = 1;
	size_t i;
	int ret, n;

	memset(k, 0, sizeof(*k));
	k->r = r;
	ret = gba_cms_parse(r->der, r->len, &k->view, &k->cms, &err);
	if (ret == 0 && !oid_eq(k->view.econtent_type, &gba_oid_cct_pkidata))
		ret = GBA_EUNSUPP;
	if (ret == 0)
		ret = gba_cms_signer(k->cms, &k->sv, &k->tbs, &k->tbs_len, &err);
	if (ret == 0)
		ret = gba_cmc_pkidata_parse(k->view.econtent.p, k->view.econtent.len, &k->pd,
		                            &k->cmsg, &err);
	if (ret < 0)
		return ret;
	if (k->pd.nreqs != 1 || !k->pd.reqs[0].has_pop_sig || !k->pd.reqs[0].has_pop_link_v2)
		return GBA_EINVAL;
	for (i = 0; i < k->pd.ncontrols && ret == 0; i++) {
		const struct gba_cmc_attr *a = &k->pd.controls[i];

		if (a->control == GBA_CMC_IDENTITY_PROOF_V2)
			ret = gba_cmc_get_witness_v2(k->cmsg, a->values[0], &k->proof, &err);
		else if (a->control == GBA_CMC_POP_LINK_RANDOM)
			ret = gba_cmc_get_octets(k->cmsg, a->values[0], &k->plr, &err);
	}
	if (ret == 0 && (k->proof.witness.len != 32 || k->plr.len == 0))
		ret = GBA_EMISSING;
	if (ret < 0)
		return ret;
	/* the answer: one success for bodyPartID 1, our nonces echoed */
	ret = gba_rnd(GBA_RND_NONCE, our_nonce, sizeof(our_nonce));
	if (ret < 0)
		return ret;
	memset(&st, 0, sizeof(st));
	st.status = GBA_CMC_SUCCESS;
	st.body_list = &body;
	st.nbody = 1;
	memset(&resp, 0, sizeof(resp));
	resp.statuses = &st;
	resp.nstatuses = 1;
	resp.transaction_id.p = r->txid;
	resp.transaction_id.len = sizeof(r->txid);
	resp.sender_nonce.p = our_nonce;
	resp.sender_nonce.len = sizeof(our_nonce);
	resp.recipient_nonce.p = r->nonce;
	resp.recipient_nonce.len = sizeof(r->nonce);
	ret = gba_cmc_response_encode(&resp, &k->pkir, &k->pkir_len);
	if (ret < 0)
		return ret;
	/* the template policies/pki-portal.yaml gives */
	n = snprintf(k->subject, sizeof(k->subject), "CN=%s", r->ue->usim->impi);
	if (n < 0 || (size_t)n >= sizeof(k->subject))
		return GBA_ETOOBIG;
	n = snprintf(k->san, sizeof(k->san), "uri:sip:%s", r->ue->usim->impi);
	if (n < 0 || (size_t)n >= sizeof(k->san))
		return GBA_ETOOBIG;
	k->sanp[0] = k->san;
	k->ekup[0] = EKU_CLIENT;
	return 0;
}

/* The per-enrolment work; products go to *cert and *signed (gba_free).
 * times[op] gets each operation's seconds when not NULL. */
static int crypto_once(const struct bench *b, const struct ccase *k, double *times,
                       uint8_t **cert, size_t *cert_len, uint8_t **signed_der,
                       size_t *signed_len)
{
	const struct gba_cmc_request *rq = &k->pd.reqs[0];
	const struct req *r = k->r;
	struct gba_x509_template t;
	struct gba_cms_sign_req sr;
	struct gba_blob certs[2];
	uint8_t key[32], mac[32], dig[32], serial[20], *buf = NULL;
	size_t blen;
	double t0 = 0, t1;
	int ret = 0, op;

	*cert = NULL;
	*signed_der = NULL;
	for (op = 0; op < OP_COUNT && ret == 0; op++) {
		if (times != NULL)
			t0 = bench_now();
		switch ((enum op)op) {
		case OP_DIGEST:
			ret = gba_hash_fast(GBA_HASH_SHA256, k->view.econtent.p, k->view.econtent.len,
			                    dig);
			break;
		case OP_SD_VERIFY:
			ret = gba_x509_verify_spki(r->spki, r->spki_len, k->sv.sig_alg.p,
			                           k->sv.sig_alg.len, k->tbs, k->tbs_len,
			                           k->sv.signature.p, k->sv.signature.len);
			break;
		case OP_MACS:
			blen = GBA_KS_NAF_LEN + strlen(r->ue->boot.btid);
			buf = gba_malloc(blen);
			if (buf == NULL) {
				ret = GBA_ENOMEM;
				break;
			}
			memcpy(buf, r->ue->ks_naf, GBA_KS_NAF_LEN);
			memcpy(buf + GBA_KS_NAF_LEN, r->ue->boot.btid, blen - GBA_KS_NAF_LEN);
			ret = gba_hash_fast(GBA_HASH_SHA256, buf, blen, key);
			gba_wipe(buf, blen);
			gba_free(buf);
			buf = NULL;
			if (ret == 0)
				ret = gba_hmac_fast(GBA_HASH_SHA256, key, sizeof(key),
				                    k->pd.req_sequence.p, k->pd.req_sequence.len, mac);
			if (ret == 0 && !gba_ct_equal(mac, k->proof.witness.p, sizeof(mac)))
				ret = GBA_EAUTH;
			if (ret == 0)
				ret = gba_hmac_fast(GBA_HASH_SHA256, key, sizeof(key), k->plr.p, k->plr.len,
				                    mac);
			if (ret == 0 && !gba_ct_equal(mac, rq->pop_link_v2.witness.p, sizeof(mac)))
				ret = GBA_EAUTH;
			break;
		case OP_POP_VERIFY:
			ret = gba_x509_verify_spki(rq->spki.p, rq->spki.len, rq->pop_sig_alg.p,
			                           rq->pop_sig_alg.len, rq->pop_signed.p,
			                           rq->pop_signed.len, rq->pop_signature.p,
			                           rq->pop_signature.len);
			break;
		case OP_ISSUE:
			memset(&t, 0, sizeof(t));
			t.spki = rq->spki.p;
			t.spki_len = rq->spki.len;
			t.not_before = gba_time_now();
			t.not_after = t.not_before + VALIDITY_S;
			t.subject = k->subject;
			t.san = k->sanp;
			t.nsan = 1;
			t.key_usage = GBA_X509_KU_DIGITAL_SIGNATURE;
			t.eku = k->ekup;
			t.neku = 1;
			t.ocsp_url = "http://ocsp.gbacert.test/";
			t.crl_url = "http://crl.gbacert.test/subscriber.crl";
			ret = gba_x509_random_serial(serial, sizeof(serial));
			t.serial = serial;
			t.serial_len = sizeof(serial);
			if (ret == 0)
				ret = gba_signer_issue(b->issuer, &t, cert, cert_len);
			break;
		case OP_RECORD:
			/* the store row's SPKI hash; the audit record's hashed
			 * IMPI and B-TID and its chain hash (gba_audit.c) */
			ret = gba_hash_fast(GBA_HASH_SHA256, rq->spki.p, rq->spki.len, dig);
			if (ret == 0)
				ret = gba_hash_fast(GBA_HASH_SHA256, r->ue->usim->impi,
				                    strlen(r->ue->usim->impi), dig);
			if (ret == 0)
				ret = gba_hash_fast(GBA_HASH_SHA256, r->ue->boot.btid,
				                    strlen(r->ue->boot.btid), dig);
			if (ret == 0)
				ret = gba_hash_fast(GBA_HASH_SHA256, r->der,
				                    r->len < AUDIT_LINE_LEN ? r->len : AUDIT_LINE_LEN, dig);
			break;
		case OP_RESP_SIGN:
			ret = gba_rnd(GBA_RND_NONCE, dig, 16);   /* the response's senderNonce */
			if (ret < 0)
				break;
			memset(&sr, 0, sizeof(sr));
			certs[0].p = *cert;
			certs[0].len = *cert_len;
			certs[1].p = gba_signer_cert(b->issuer, &certs[1].len);
			sr.econtent_type = gba_oid_cct_pkiresponse;
			sr.econtent.p = k->pkir;
			sr.econtent.len = k->pkir_len;
			sr.signer_cert.p = gba_signer_cert(b->cmc, &sr.signer_cert.len);
			sr.certs = certs;
			sr.ncerts = 2;
			sr.sig_alg.p = gba_signer_sig_oid(b->cmc, &sr.sig_alg.len);
			sr.hash = gba_key_cms_hash(gba_signer_key(b->cmc));
			sr.signing_time = gba_time_now();
			sr.sign = gba_signer_sign;
			sr.sign_ctx = b->cmc;
			ret = gba_cms_sign(&sr, signed_der, signed_len);
			break;
		case OP_COUNT:
			break;
		}
		if (times != NULL) {
			t1 = bench_now();
			times[op] += t1 - t0;
		}
	}
	gba_wipe(key, sizeof(key));
	gba_wipe(mac, sizeof(mac));
	if (ret < 0) {
		gba_free(*cert);
		gba_free(*signed_der);
		*cert = NULL;
		*signed_der = NULL;
	}
	return ret;
}

/*
 * Once per case, untimed: the loop's products must be the real thing.
 * The signed response must pass gba-ue's check for the request's key,
 * and a signature with one bit flipped must not verify.
 */
static int crypto_selfcheck(const struct bench *b, const struct ccase *k)
{
	struct ue_cmc_result res;
	struct gba_blob txid, nonce, spki;
	uint8_t *cert = NULL, *sd = NULL, *bad = NULL;
	size_t clen = 0, slen = 0;
	const char *why = NULL;
	int ret;

	memset(&res, 0, sizeof(res));
	ret = crypto_once(b, k, NULL, &cert, &clen, &sd, &slen);
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: crypto loop: %s\n", gba_strerror(ret));
		return ret;
	}
	txid.p = k->r->txid;
	txid.len = sizeof(k->r->txid);
	nonce.p = k->r->nonce;
	nonce.len = sizeof(k->r->nonce);
	spki.p = k->r->spki;
	spki.len = k->r->spki_len;
	ret = ue_cmc_response(sd, slen, b->anchor.der[0], b->anchor.len[0], txid, nonce, &spki, 1,
	                      check_time(), &res, &why);
	if (ret == 0 && res.status != GBA_CMC_SUCCESS)
		ret = GBA_EINTERNAL;
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: the crypto loop's response fails the UE's check: %s\n",
		        why != NULL ? why : gba_strerror(ret));
		goto out;
	}
	bad = gba_malloc(k->sv.signature.len);
	if (bad == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	memcpy(bad, k->sv.signature.p, k->sv.signature.len);
	bad[k->sv.signature.len / 2] ^= 0x01;
	if (gba_x509_verify_spki(k->r->spki, k->r->spki_len, k->sv.sig_alg.p, k->sv.sig_alg.len,
	                         k->tbs, k->tbs_len, bad, k->sv.signature.len) != GBA_ESIG) {
		fprintf(stderr, "bench_enrol: a corrupted signature verified\n");
		ret = GBA_EINTERNAL;
	}
out:
	ue_cmc_result_clear(&res);
	gba_free(bad);
	gba_free(cert);
	gba_free(sd);
	return ret;
}

static void *crypto_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;
	uint8_t *cert, *sd;
	size_t clen, slen, i = t->idx;
	double t0, now;

	pthread_barrier_wait(&b->start);
	t0 = bench_now();
	do {
		t->err = crypto_once(b, &b->cases[i % b->ncases], t->op_secs, &cert, &clen, &sd,
		                     &slen);
		gba_free(cert);
		gba_free(sd);
		if (t->err < 0)
			break;
		t->iters++;
		i++;
		now = bench_now();
	} while (now < b->deadline);
	t->secs = bench_now() - t0;
	return NULL;
}

/* Run the loop on n threads; print one "crypto" line; *rate is
 * enrolments' worth of crypto per second over all threads. */
static int crypto_run(struct bench *b, unsigned n, unsigned rep, double *rate)
{
	struct thr *th;
	double op[OP_COUNT] = { 0 }, secs = 0, total = 0;
	uint64_t iters = 0;
	unsigned i;
	int ret, o;

	*rate = 0;
	th = gba_calloc(n, sizeof(*th));
	if (th == NULL)
		return GBA_ENOMEM;
	if (pthread_barrier_init(&b->start, NULL, n) != 0) {
		gba_free(th);
		return GBA_ENOMEM;
	}
	b->deadline = bench_now() + b->cfg->crypto_secs;
	ret = run_threads(b, th, n, crypto_main);
	pthread_barrier_destroy(&b->start);
	for (i = 0; i < n; i++) {
		iters += th[i].iters;
		if (th[i].secs > secs)
			secs = th[i].secs;
		for (o = 0; o < OP_COUNT; o++)
			op[o] += th[i].op_secs[o];
	}
	gba_free(th);
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: crypto loop: %s\n", gba_strerror(ret));
		return ret;
	}
	if (iters == 0 || secs <= 0)
		return GBA_EINTERNAL;
	*rate = (double)iters / secs;
	printf("crypto threads=%u rep=%u iters=%llu secs=%.2f rate=%.1f", n, rep,
	       (unsigned long long)iters, secs, *rate);
	for (o = 0; o < OP_COUNT; o++) {
		printf(" us_%s=%.1f", op_name[o], 1e6 * op[o] / (double)iters);
		total += op[o];
	}
	printf(" us_total=%.1f\n", 1e6 * total / (double)iters);
	fflush(stdout);
	return 0;
}

/* The best of --crypto-repeat runs on n threads: other load on the
 * machine can only slow a run down, so the fastest is the limit (and a
 * higher limit only lowers the ratio). */
static int crypto_best(struct bench *b, unsigned n, double *best)
{
	double r;
	unsigned i;
	int ret = 0;

	*best = 0;
	for (i = 0; i < b->cfg->crypto_repeat && ret == 0; i++) {
		ret = crypto_run(b, n, i + 1, &r);
		if (ret == 0 && r > *best)
			*best = r;
	}
	return ret;
}

/*
 * The bare signature inside OP_ISSUE and OP_RESP_SIGN: gba_signer_sign
 * (P-256, SHA-256) with the CMC signer over the signed attributes of a
 * request, single-threaded.  OP_ISSUE and OP_RESP_SIGN minus this are
 * their encoding work.  *us is microseconds per signature.
 */
static int crypto_sign_only(const struct bench *b, double *us)
{
	const struct ccase *k = &b->cases[0];
	uint8_t *sig = NULL;
	size_t slen = 0;
	uint64_t n = 0;
	double t0, end, now;
	int ret;

	t0 = bench_now();
	end = t0 + (b->cfg->crypto_secs < 1 ? b->cfg->crypto_secs : 1);
	do {
		ret = gba_signer_sign(b->cmc, k->tbs, k->tbs_len, &sig, &slen);
		gba_free(sig);
		if (ret < 0)
			return ret;
		n++;
		now = bench_now();
	} while (now < end);
	*us = 1e6 * (now - t0) / (double)n;
	return 0;
}

static int crypto_setup(struct bench *b)
{
	char key[4096], cert[4096];
	size_t i;
	int ret;

	if (snprintf(key, sizeof(key), "%s/ca.key", b->cfg->ca_dir) >= (int)sizeof(key) ||
	    snprintf(cert, sizeof(cert), "%s/ca.pem", b->cfg->ca_dir) >= (int)sizeof(cert))
		return GBA_ETOOBIG;
	ret = gba_signer_open(&b->issuer, key, cert);
	if (ret == 0) {
		snprintf(key, sizeof(key), "%s/cmc.key", b->cfg->ca_dir);
		snprintf(cert, sizeof(cert), "%s/cmc.pem", b->cfg->ca_dir);
		ret = gba_signer_open(&b->cmc, key, cert);
	}
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: the CA keys in %s: %s\n", b->cfg->ca_dir,
		        gba_strerror(ret));
		return ret;
	}
	b->ncases = b->cfg->nreq < MAX_CASES ? b->cfg->nreq : MAX_CASES;
	b->cases = gba_calloc(b->ncases, sizeof(*b->cases));
	if (b->cases == NULL)
		return GBA_ENOMEM;
	for (i = 0; i < b->ncases && ret == 0; i++) {
		ret = ccase_init(&b->cases[i], &b->reqs[i]);
		if (ret < 0)
			fprintf(stderr, "bench_enrol: request %zu does not parse: %s\n", i,
			        gba_strerror(ret));
		else
			ret = crypto_selfcheck(b, &b->cases[i]);
	}
	return ret;
}

/* ---- 4. enrolments ---- */

static int naf_open(struct thr *t)
{
	struct gba_http_client_conf cc;

	memset(&cc, 0, sizeof(cc));
	cc.mode = GBA_HTTP_CLIENT_H2;
	cc.ca_file = t->b->cfg->ca;
	cc.disable_push = 1;
	gba_http_client_close(t->c);
	t->c = NULL;
	return gba_http_client_open(&t->c, &cc, t->b->cfg->naf_url);
}

/* The check gba-ue makes (phase 5, or inline); failures are reported. */
static int check_reply(struct thr *t, struct req *r)
{
	const struct bench *b = t->b;
	struct ue_cmc_result res;
	struct gba_blob txid, nonce, spki;
	const char *why = NULL;
	int ret;

	txid.p = r->txid;
	txid.len = sizeof(r->txid);
	nonce.p = r->nonce;
	nonce.len = sizeof(r->nonce);
	spki.p = r->spki;
	spki.len = r->spki_len;
	r->checked = 1;
	ret = ue_cmc_response(r->resp, r->resp_len, b->anchor.der[0], b->anchor.len[0], txid,
	                      nonce, &spki, 1, check_time(), &res, &why);
	if (ret < 0) {
		report(t, why != NULL ? why : "response", ret);
		return ret;
	}
	if (res.status != GBA_CMC_SUCCESS || res.issued.n != 1) {
		if (t->reported < ERR_REPORTS || b->cfg->verbose) {
			t->reported++;
			fprintf(stderr, "bench_enrol: thread %u: status %s%s%s%s%s\n", t->idx,
			        gba_cmc_status_name(res.status), res.has_fail_info ? " " : "",
			        res.has_fail_info ? gba_cmc_fail_name(res.fail_info) : "",
			        res.status_string[0] != '\0' ? ": " : "", res.status_string);
		}
		ret = GBA_EAUTH;
	}
	ue_cmc_result_clear(&res);
	return ret;
}

/* POST request r; 0 with r->resp set, or the error. */
static int enrol_once(struct thr *t, struct req *r, const char **what)
{
	struct gba_http_header h[2];
	struct gba_http_reply *rep = NULL;
	const struct gba_str *ct;
	int ret;

	h[0].name = GBA_STR_LIT("content-type");
	h[0].value = gba_str_c(ct_cmc_req);
	h[1].name = GBA_STR_LIT("user-agent");
	h[1].value = gba_str_c(user_agent);
	*what = "POST /cmc";
	ret = gba_http_client_request(t->c, "POST", "/cmc", h, 2, r->der, r->len, &rep);
	if (ret < 0)
		return ret;
	*what = "reply";
	ct = gba_http_reply_header(rep, "content-type");
	if (rep->status != 200 || ct == NULL || ct->len < 22 ||
	    strncasecmp(ct->p, "application/pkcs7-mime", 22) != 0 || rep->body_len == 0) {
		ret = GBA_EAUTH;
		goto out;
	}
	r->resp = gba_malloc(rep->body_len);
	if (r->resp == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	memcpy(r->resp, rep->body, rep->body_len);
	r->resp_len = rep->body_len;
out:
	gba_http_reply_free(rep);
	return ret;
}

static void *enrol_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;
	const char *what = NULL;
	struct req *r;
	double t1, t2;
	size_t i;
	int ret;

	t->err = naf_open(t);
	if (t->err < 0)
		fprintf(stderr, "bench_enrol: thread %u: connect %s: %s\n", t->idx, b->cfg->naf_url,
		        gba_strerror(t->err));
	pthread_barrier_wait(&b->start);
	if (t->err < 0)
		return NULL;
	t1 = bench_now();
	while (t1 < b->deadline) {
		i = atomic_fetch_add(&b->next, 1);
		if (i >= b->cfg->nreq) {
			t->exhausted = 1;
			break;
		}
		r = &b->reqs[i];
		r->sent = 1;
		t->sent++;
		ret = enrol_once(t, r, &what);
		t2 = bench_now();
		if (ret == 0 && b->cfg->check_inline)
			ret = check_reply(t, r);
		if (ret == 0) {
			t->ok++;
			if (bench_lat_add(&t->lat, t2 - t1) < 0)
				break;
		} else {
			r->err = ret;
			if (r->checked) {
				t->check_fail++;
			} else {
				t->http_fail++;
				report(t, what, ret);
			}
			/* transport trouble: start over on a new connection */
			if (ret == GBA_EIO || ret == GBA_ECRYPTO || ret == GBA_ESYNTAX ||
			    ret == GBA_ETOOBIG) {
				ret = naf_open(t);
				if (ret < 0) {
					report(t, "reconnect", ret);
					break;
				}
			}
		}
		t1 = bench_now();
	}
	gba_http_client_close(t->c);
	t->c = NULL;
	return NULL;
}

/* ---- 5. check ---- */

static void *check_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;
	size_t i;
	int ret;

	for (i = t->idx; i < b->cfg->nreq; i += t->n) {
		struct req *r = &b->reqs[i];

		if (!r->sent || r->err != 0 || r->checked)
			continue;
		ret = check_reply(t, r);
		if (ret < 0) {
			r->err = ret;
			t->check_fail++;
		}
	}
	return NULL;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_enrol --ub URL --naf URL --ca PEM --anchor PEM --ca-dir DIR\n"
	        "                   --subscribers FILE [options]\n"
	        "  --ub URL             Ub base URL (h2c or https)\n"
	        "  --naf URL            the provisioning NAF (https://127.0.0.1:PORT)\n"
	        "  --ca PEM             TLS trust for the NAF (the daemon's ca.pem)\n"
	        "  --anchor PEM         root CA that CMC responses must chain to\n"
	        "  --ca-dir DIR         the daemon's CA directory (ca.key, cmc.key, ...):\n"
	        "                       the crypto-only loop signs with those keys\n"
	        "  --subscribers FILE   gba-ctl import format: IMPI K OPC AMF SQN [LIFETIME]\n"
	        "  --realm FQDN         Ub realm (bsf.gbacert.test)\n"
	        "  --naf-fqdn FQDN      NAF_Id FQDN for Ks_NAF (naf.gbacert.test)\n"
	        "  --requests N         requests to prepare (20000)\n"
	        "  --per-impi N         requests per subscriber, at most the policy's\n"
	        "                       max_active_certs (100)\n"
	        "  --concurrency N      connections, one thread each (8)\n"
	        "  --duration S         seconds of enrolments (10)\n"
	        "  --crypto-secs S      seconds per crypto-only run (2)\n"
	        "  --crypto-repeat N    runs per thread count; the fastest counts (3)\n"
	        "  --crypto-threads N   threads of the second crypto-only run (CPUs online)\n"
	        "  --check-inline       check each response in the timed loop\n"
	        "  --go-file F          create F when the timed window opens\n"
	        "  --verbose            print every failure\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno != 0 || *end != '\0' || end == s || s[0] == '-' || *out == 0 || *out > max
	       ? -1 : 0;
}

static int parse_secs(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno != 0 || *end != '\0' || !(*out > 0) || *out > 86400 ? -1 : 0;
}

static int parse_args(struct cfg *cfg, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ub", required_argument, NULL, 'u' },
		{ "naf", required_argument, NULL, 'n' },
		{ "ca", required_argument, NULL, 'a' },
		{ "anchor", required_argument, NULL, 'A' },
		{ "ca-dir", required_argument, NULL, 'D' },
		{ "subscribers", required_argument, NULL, 's' },
		{ "realm", required_argument, NULL, 'r' },
		{ "naf-fqdn", required_argument, NULL, 'f' },
		{ "requests", required_argument, NULL, 'R' },
		{ "per-impi", required_argument, NULL, 'P' },
		{ "concurrency", required_argument, NULL, 'C' },
		{ "duration", required_argument, NULL, 'd' },
		{ "crypto-secs", required_argument, NULL, 'S' },
		{ "crypto-threads", required_argument, NULL, 'T' },
		{ "crypto-repeat", required_argument, NULL, 'E' },
		{ "check-inline", no_argument, NULL, 'i' },
		{ "go-file", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long v;
	long ncpu;
	int ch, bad;

	cfg->realm = "bsf.gbacert.test";
	cfg->naf_fqdn = "naf.gbacert.test";
	cfg->nreq = 20000;
	cfg->per_impi = 100;
	cfg->conc = 8;
	cfg->duration = 10;
	cfg->crypto_secs = 2;
	cfg->crypto_repeat = 3;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->crypto_threads = ncpu > 0 && ncpu <= (long)MAX_THREADS ? (unsigned)ncpu : 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		bad = 0;
		switch (ch) {
		case 'u': cfg->ub_url = optarg; break;
		case 'n': cfg->naf_url = optarg; break;
		case 'a': cfg->ca = optarg; break;
		case 'A': cfg->anchor = optarg; break;
		case 'D': cfg->ca_dir = optarg; break;
		case 's': cfg->subs_file = optarg; break;
		case 'r': cfg->realm = optarg; break;
		case 'f': cfg->naf_fqdn = optarg; break;
		case 'R':
			bad = parse_uint(optarg, MAX_REQUESTS, &v);
			cfg->nreq = v;
			break;
		case 'P':
			bad = parse_uint(optarg, MAX_REQUESTS, &v);
			cfg->per_impi = (unsigned)v;
			break;
		case 'C':
			bad = parse_uint(optarg, MAX_THREADS, &v);
			cfg->conc = (unsigned)v;
			break;
		case 'T':
			bad = parse_uint(optarg, MAX_THREADS, &v);
			cfg->crypto_threads = (unsigned)v;
			break;
		case 'E':
			bad = parse_uint(optarg, 100, &v);
			cfg->crypto_repeat = (unsigned)v;
			break;
		case 'd': bad = parse_secs(optarg, &cfg->duration); break;
		case 'S': bad = parse_secs(optarg, &cfg->crypto_secs); break;
		case 'i': cfg->check_inline = 1; break;
		case 'g': cfg->go_file = optarg; break;
		case 'v': cfg->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
		if (bad < 0) {
			fprintf(stderr, "bench_enrol: bad value '%s'\n", optarg);
			return -1;
		}
	}
	if (optind != argc || cfg->ub_url == NULL || cfg->naf_url == NULL || cfg->ca == NULL ||
	    cfg->anchor == NULL || cfg->ca_dir == NULL || cfg->subs_file == NULL)
		return -1;
	return 0;
}

static void bench_clear(struct bench *b)
{
	size_t i;

	for (i = 0; b->cases != NULL && i < b->ncases; i++)
		ccase_clear(&b->cases[i]);
	gba_free(b->cases);
	for (i = 0; b->reqs != NULL && i < b->cfg->nreq; i++) {
		gba_free(b->reqs[i].der);
		gba_free(b->reqs[i].spki);
		gba_free(b->reqs[i].resp);
	}
	gba_free(b->reqs);
	if (b->ues != NULL)
		gba_wipe(b->ues, b->nues * sizeof(*b->ues));
	gba_free(b->ues);
	if (b->subs != NULL)
		gba_wipe(b->subs, b->nsubs * sizeof(*b->subs));
	gba_free(b->subs);
	gba_signer_free(b->issuer);
	gba_signer_free(b->cmc);
	ue_certs_clear(&b->anchor);
}

/* Phases 1 and 2, with a "setup" line. */
static int prepare(struct bench *b)
{
	const struct cfg *cfg = b->cfg;
	struct thr *th = NULL;
	unsigned n;
	size_t i;
	double t0, t1, t2;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	ret = ue_pem_read(cfg->anchor, "CERTIFICATE", &b->anchor);
	if (ret < 0) {
		fprintf(stderr, "bench_enrol: %s: %s\n", cfg->anchor, gba_strerror(ret));
		return ret;
	}
	ret = bench_subs_load("bench_enrol", cfg->subs_file, &b->subs, &b->nsubs);
	if (ret < 0)
		return ret;
	b->nues = (cfg->nreq + cfg->per_impi - 1) / cfg->per_impi;
	if (b->nues > b->nsubs) {
		fprintf(stderr, "bench_enrol: %zu requests at %u per IMPI need %zu subscribers; "
		        "%s has %zu\n", cfg->nreq, cfg->per_impi, b->nues, cfg->subs_file, b->nsubs);
		return GBA_EINVAL;
	}
	b->ues = gba_calloc(b->nues, sizeof(*b->ues));
	b->reqs = gba_calloc(cfg->nreq, sizeof(*b->reqs));
	th = gba_calloc(MAX_THREADS, sizeof(*th));
	if (b->ues == NULL || b->reqs == NULL || th == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	t0 = bench_now();
	n = b->nues < cfg->conc ? (unsigned)b->nues : cfg->conc;
	ret = run_threads(b, th, n, boot_main);
	if (ret < 0)
		goto out;
	t1 = bench_now();
	for (i = 0; i < cfg->nreq; i++)
		b->reqs[i].ue = &b->ues[i / cfg->per_impi];
	memset(th, 0, MAX_THREADS * sizeof(*th));
	n = ncpu > 0 && ncpu <= (long)MAX_THREADS ? (unsigned)ncpu : 1;
	ret = run_threads(b, th, n, build_main);
	if (ret < 0)
		goto out;
	t2 = bench_now();
	printf("setup subscribers=%zu bootstrap_secs=%.2f requests=%zu build_secs=%.2f "
	       "build_threads=%u\n", b->nues, t1 - t0, cfg->nreq, t2 - t1, n);
	fflush(stdout);
out:
	gba_free(th);
	return ret;
}

/* Phase 4 and 5: the "enrol" line; *rate is checked enrolments/s. */
static int enrol_run(struct bench *b, double *rate)
{
	const struct cfg *cfg = b->cfg;
	struct thr *th;
	struct bench_lat all;
	uint64_t sent = 0, ok = 0, http_fail = 0, check_fail = 0, cmin = UINT64_MAX, cmax = 0;
	unsigned i, setup_fail = 0, exhausted = 0, nchk;
	double t0, secs;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f;
	int ret = 0;

	*rate = 0;
	memset(&all, 0, sizeof(all));
	th = gba_calloc(cfg->conc, sizeof(*th));
	if (th == NULL || pthread_barrier_init(&b->start, NULL, cfg->conc + 1) != 0) {
		gba_free(th);
		return GBA_ENOMEM;
	}
	atomic_store(&b->next, 0);
	b->deadline = 1e300;
	for (i = 0; i < cfg->conc; i++) {
		th[i].idx = i;
		th[i].n = cfg->conc;
		th[i].b = b;
		if (pthread_create(&th[i].tid, NULL, enrol_main, &th[i]) != 0) {
			fprintf(stderr, "bench_enrol: cannot create thread %u\n", i);
			exit(1);
		}
	}
	/* Every thread is connected past here. */
	b->deadline = bench_now() + cfg->duration;
	pthread_barrier_wait(&b->start);
	t0 = bench_now();
	if (cfg->go_file != NULL) {
		f = fopen(cfg->go_file, "w");
		if (f != NULL)
			fclose(f);
	}
	for (i = 0; i < cfg->conc; i++)
		pthread_join(th[i].tid, NULL);
	secs = bench_now() - t0;
	for (i = 0; i < cfg->conc; i++) {
		if (th[i].err < 0)
			setup_fail++;
		exhausted |= (unsigned)th[i].exhausted;
		sent += th[i].sent;
		if (th[i].sent < cmin)
			cmin = th[i].sent;
		if (th[i].sent > cmax)
			cmax = th[i].sent;
		http_fail += th[i].http_fail;
		check_fail += th[i].check_fail;
		if (bench_lat_append(&all, &th[i].lat) < 0)
			ret = GBA_ENOMEM;
		bench_lat_free(&th[i].lat);
	}
	pthread_barrier_destroy(&b->start);
	gba_free(th);
	th = NULL;
	/* phase 5 */
	nchk = ncpu > 0 && ncpu <= (long)MAX_THREADS ? (unsigned)ncpu : 1;
	th = gba_calloc(nchk, sizeof(*th));
	if (th == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	(void)run_threads(b, th, nchk, check_main);
	for (i = 0; i < nchk; i++)
		check_fail += th[i].check_fail;
	ok = sent - http_fail - check_fail;
	bench_lat_sort(&all);
	*rate = secs > 0 ? (double)ok / secs : 0;
	printf("enrol proto=h2 tls=1 conc=%u sent=%llu ok=%llu fail=%llu http_fail=%llu "
	       "check_fail=%llu setup_fail=%u exhausted=%u check=%s secs=%.2f rate=%.1f "
	       "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f conn_min=%llu conn_max=%llu\n",
	       cfg->conc, (unsigned long long)sent, (unsigned long long)ok,
	       (unsigned long long)(http_fail + check_fail), (unsigned long long)http_fail,
	       (unsigned long long)check_fail, setup_fail, exhausted,
	       cfg->check_inline ? "inline" : "after", secs, *rate, bench_lat_pct_ms(&all, 0.50),
	       bench_lat_pct_ms(&all, 0.90), bench_lat_pct_ms(&all, 0.99),
	       bench_lat_pct_ms(&all, 1.0), (unsigned long long)cmin, (unsigned long long)cmax);
	fflush(stdout);
	if (ok == 0 || http_fail + check_fail > 0 || setup_fail > 0)
		ret = GBA_EINTERNAL;
out:
	gba_free(th);
	bench_lat_free(&all);
	return ret;
}

int main(int argc, char **argv)
{
	static struct cfg cfg;
	static struct bench b;
	double c1 = 0, cn = 0, er = 0, limit, sign_us = 0;
	int ret;

	if (parse_args(&cfg, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	b.cfg = &cfg;
	ret = prepare(&b);
	if (ret == 0)
		ret = crypto_setup(&b);
	if (ret == 0)
		ret = crypto_sign_only(&b, &sign_us);
	if (ret == 0) {
		printf("primitive sign_us=%.1f (gba_signer_sign, P-256, %zu octets)\n", sign_us,
		       b.cases[0].tbs_len);
		ret = crypto_best(&b, 1, &c1);
	}
	if (ret == 0 && cfg.crypto_threads > 1)
		ret = crypto_best(&b, cfg.crypto_threads, &cn);
	if (ret < 0) {
		bench_clear(&b);
		return 1;
	}
	ret = enrol_run(&b, &er);
	limit = cfg.crypto_threads > 1 ? cn : c1;
	printf("ratio enrol_per_s=%.1f crypto_per_s=%.1f crypto_threads=%u ratio=%.3f "
	       "crypto1_per_s=%.1f ratio1=%.3f\n", er, limit, cfg.crypto_threads,
	       limit > 0 ? er / limit : 0.0, c1, c1 > 0 ? er / c1 : 0.0);
	bench_clear(&b);
	return ret == 0 ? 0 : 1;
}
