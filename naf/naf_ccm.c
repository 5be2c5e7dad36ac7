/*
 * naf_ccm.c - Certificate Configuration Messages (doc/ccm.md).
 *
 * Queuing: a CCM is built as a CertConfigMessage with sequenceNumber 0
 * and queued in the store (gba_store.h, the outbox) in the transaction
 * of the event that causes it: with the certificate on issue, in one
 * transaction of its own on bootstrap.  The store numbers it.
 *
 * Delivery: the first time a message goes out it gets its number, is
 * signed (CMS SignedData, eContentType id-ct-gbaCCM) by the CA's CMC
 * signer, and the signed DER is kept with the state change to SENT, so
 * that a redelivery carries the same octets (for what a new
 * subscription, GET /ccm/<id> or a Ub answer sends; a running
 * subscription's fan-out records the state once a second, without the
 * signature, and a later redelivery signs again).  Messages go out
 *   - as pushes (PUSH_PROMISE of GET /ccm/<id>) on a GET /ccm
 *     subscription when the client allows push (HTTP/2),
 *   - else as frames on the subscription's body: a 4-octet big-endian
 *     length, then that many octets of SignedData DER (length 0: a
 *     keep-alive),
 *   - as pushes on the Ub 200 of a bootstrap (naf_ccm_on_bootstrap),
 *   - one by one with GET /ccm/<id>.
 * Each subscription walks the IMPI's unacknowledged messages in sequence
 * order from where it stands, so a new subscription gets everything not
 * yet acknowledged, and a message queued by any process reaches the
 * subscribers of every worker: each worker polls the outbox for new row
 * ids on its tick (gba_http_server_conf.on_tick), and a queuing worker
 * of this process wakes them at once (naf_ccm_hub_wake).
 *
 * Authentication (GET /ccm, GET /ccm/<id>, POST /ccm/ack): a TLS client
 * certificate that this NAF issued and that is valid in the store, or
 * GBA Digest (naf_ua.c).  The subscription's 200 carries no
 * Authentication-Info: its body never ends, and each CCM is signed.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "gba_asn1.h"
#include "gba_ccm_out.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-ccm"

#define CCM_MAP_BUCKETS   16384u
#define CCM_FRAME_HDR     4u
#define CCM_ID_HEX        (2u * GBA_STORE_CCM_ID_LEN)
#define CCM_PEM_MAX       (64u * 1024u)
#define CCM_MAX_CERTS     16u      /* trust anchors / server certificates per message */
#define CCM_ACK_BODY_MAX  (NAF_CCM_MAX_ACK * (CCM_ID_HEX + 2u))

/* ---- IMPI -> something maps (hub counts, worker subscriptions) ---- */

struct ccm_node {
	struct ccm_node *next;
	unsigned count;                   /* hub: subscriptions in the process */
	struct naf_ccm_sub *subs;         /* worker: its subscriptions */
	char impi[];
};

struct ccm_map {
	struct ccm_node **b;
};

static uint32_t impi_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h % CCM_MAP_BUCKETS;
}

static int map_init(struct ccm_map *m)
{
	m->b = gba_calloc(CCM_MAP_BUCKETS, sizeof(*m->b));
	return m->b != NULL ? 0 : GBA_ENOMEM;
}

static void map_clear(struct ccm_map *m)
{
	struct ccm_node *e, *next;
	size_t i;

	for (i = 0; m->b != NULL && i < CCM_MAP_BUCKETS; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			gba_free(e);
		}
	gba_free(m->b);
	m->b = NULL;
}

/* The node for impi; created when create is set (NULL: not found or no
 * memory). */
static struct ccm_node *map_get(struct ccm_map *m, const char *impi, int create)
{
	uint32_t h = impi_hash(impi);
	size_t len = strlen(impi);
	struct ccm_node *e;

	for (e = m->b[h]; e != NULL; e = e->next)
		if (strcmp(e->impi, impi) == 0)
			return e;
	if (!create)
		return NULL;
	e = gba_calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->impi, impi, len + 1);
	e->next = m->b[h];
	m->b[h] = e;
	return e;
}

static void map_drop(struct ccm_map *m, struct ccm_node *node)
{
	struct ccm_node **pp = &m->b[impi_hash(node->impi)];

	while (*pp != NULL && *pp != node)
		pp = &(*pp)->next;
	if (*pp == node)
		*pp = node->next;
	gba_free(node);
}

/* ---- the hub (one per daemon) ---- */

struct naf_ccm_hub {
	pthread_mutex_t mu;
	struct ccm_map counts;            /* under mu */
	unsigned max_per_impi;
	unsigned keepalive_s;
	unsigned expire_every_s;
	void (*wake)(void *arg);
	void *wake_arg;
	atomic_ulong delivered;           /* messages handed to streams */
	atomic_uint policy_gen;           /* bumped by naf_ccm_policy_changed */
};

int naf_ccm_hub_new(struct naf_ccm_hub **out, const struct naf_ccm_hub_conf *conf)
{
	struct naf_ccm_hub *h;

	*out = NULL;
	h = gba_calloc(1, sizeof(*h));
	if (h == NULL)
		return GBA_ENOMEM;
	if (map_init(&h->counts) < 0) {
		gba_free(h);
		return GBA_ENOMEM;
	}
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		map_clear(&h->counts);
		gba_free(h);
		return GBA_EINTERNAL;
	}
	h->max_per_impi = conf != NULL && conf->max_per_impi != 0 ? conf->max_per_impi
	                                                          : NAF_CCM_MAX_PER_IMPI;
	h->keepalive_s = conf != NULL && conf->keepalive_s != 0 ? conf->keepalive_s : 30;
	h->expire_every_s = conf != NULL && conf->expire_every_s != 0 ? conf->expire_every_s : 60;
	atomic_init(&h->delivered, 0);
	atomic_init(&h->policy_gen, 0);
	*out = h;
	return 0;
}

void naf_ccm_hub_free(struct naf_ccm_hub *h)
{
	if (h == NULL)
		return;
	map_clear(&h->counts);
	pthread_mutex_destroy(&h->mu);
	gba_free(h);
}

void naf_ccm_hub_set_wake(struct naf_ccm_hub *h, void (*wake)(void *arg), void *arg)
{
	h->wake = wake;
	h->wake_arg = arg;
}

void naf_ccm_hub_wake(struct naf_ccm_hub *h)
{
	if (h != NULL && h->wake != NULL)
		h->wake(h->wake_arg);
}

unsigned long naf_ccm_hub_delivered(struct naf_ccm_hub *h)
{
	return atomic_load(&h->delivered);
}

void naf_ccm_policy_changed(struct naf_ccm_hub *h)
{
	if (h == NULL)
		return;
	atomic_fetch_add(&h->policy_gen, 1u);
	naf_ccm_hub_wake(h);
}

/* Take a subscription slot for impi: 0 or GBA_ETOOBIG at the cap. */
static int hub_take(struct naf_ccm_hub *h, const char *impi)
{
	struct ccm_node *e;
	int ret = 0;

	pthread_mutex_lock(&h->mu);
	e = map_get(&h->counts, impi, 1);
	if (e == NULL)
		ret = GBA_ENOMEM;
	else if (e->count >= h->max_per_impi)
		ret = GBA_ETOOBIG;
	else
		e->count++;
	pthread_mutex_unlock(&h->mu);
	return ret;
}

static void hub_give(struct naf_ccm_hub *h, const char *impi)
{
	struct ccm_node *e;

	pthread_mutex_lock(&h->mu);
	e = map_get(&h->counts, impi, 0);
	if (e != NULL && e->count > 0 && --e->count == 0)
		map_drop(&h->counts, e);
	pthread_mutex_unlock(&h->mu);
}

/* ---- a worker's subscriptions ---- */

struct naf_ccm_sub {
	struct naf_ccm_sub *prev, *next;  /* its node's list */
	struct naf_ccm_sub *dirty_next;   /* the worker's to-deliver list */
	int dirty;
	struct ccm_node *node;            /* in the worker's map */
	struct naf *n;
	struct gba_http_stream *st;
	uint64_t last_seq;                /* the highest sequence number sent here */
	unsigned left;                    /* ?max=N: still to send */
	int limited;
	int wait0;                        /* ?wait=0: end once nothing is left */
	int push;
	int blocked;                      /* refused for room: on_drain resumes */
};

/* Deliveries not yet recorded: written in one transaction at the next
 * tick (or when CCM_SENT_FLUSH of them wait). */
struct ccm_sent_rec {
	uint8_t id[GBA_STORE_CCM_ID_LEN];
	uint8_t *der;                     /* owned; NULL: already stored */
	size_t len;
};

#define CCM_SENT_FLUSH 1024u
#define CCM_TICK_SUBS  128u           /* subscriptions served per tick */
#define NAF_CCM_SWEEP_RATE 64u        /* IMPIs per second after a policy change */

struct naf_ccm_w {
	struct ccm_map subs;
	size_t nsubs;
	struct ccm_sent_rec *sent;
	size_t nsent;
	struct naf_ccm_sub *dirty;
	int64_t mark;                     /* outbox row id seen */
	int have_mark;
	int64_t next_keepalive, next_expire, next_flush;
	/* the policy-change sweep (expiry-duty worker only) */
	unsigned policy_gen;
	int sweeping;
	char sweep_after[GBA_MAX_IMPI_LEN + 1];   /* "" from the start */
	int64_t next_sweep;
};

static int worker_state(struct naf *n)
{
	if (n->ccm != NULL)
		return 0;
	n->ccm = gba_calloc(1, sizeof(*n->ccm));
	if (n->ccm == NULL)
		return GBA_ENOMEM;
	n->ccm->sent = gba_calloc(CCM_SENT_FLUSH, sizeof(*n->ccm->sent));
	if (n->ccm->sent == NULL || map_init(&n->ccm->subs) < 0) {
		gba_free(n->ccm->sent);
		gba_free(n->ccm);
		n->ccm = NULL;
		return GBA_ENOMEM;
	}
	n->ccm->policy_gen = atomic_load(&n->conf->ccm->policy_gen);
	/* The poll starts here, before any subscription of this worker
	 * reads the outbox: whatever it does not read has a larger id. */
	if (gba_store_ccm_changes(n->store, -1, &n->ccm->mark, NULL, NULL) == 0)
		n->ccm->have_mark = 1;
	return 0;
}

static void flush_sent(struct naf *n);

void naf_ccm_worker_free(struct naf *n)
{
	if (n == NULL || n->ccm == NULL)
		return;
	flush_sent(n);
	/* Streams are gone by now (the server closed them first). */
	map_clear(&n->ccm->subs);
	gba_free(n->ccm->sent);
	gba_free(n->ccm);
	n->ccm = NULL;
}

/* ---- policy ---- */

/* The ccm rules of this NAF's policy.  0 when there is none (then no
 * CCM is queued). */
struct ccm_rules {
	int have;
	uint32_t on_bootstrap, on_issue;
	int64_t expiry_s;
	int64_t window_s;
};

static void rules_get(struct naf *n, struct ccm_rules *r)
{
	const struct gba_policy_set *set;
	const struct gba_policy *p;

	memset(r, 0, sizeof(*r));
	set = gba_policy_store_acquire(n->conf->policies);
	p = set != NULL ? gba_policy_find(set, n->conf->fqdn) : NULL;
	if (p != NULL) {
		r->have = 1;
		r->on_bootstrap = p->c.ccm.on_bootstrap;
		r->on_issue = p->c.ccm.on_issue;
		r->expiry_s = p->c.ccm.expiry_hours * 3600;
		r->window_s = p->c.renewal.window_days * 86400;
	}
	gba_policy_store_release(n->conf->policies, set);
}

static int has_event(uint32_t bits, enum gba_policy_ccm_event e)
{
	return (bits & (1u << (unsigned)e)) != 0;
}

/* ---- building and queuing ---- */

void naf_ccm_batch_clear(struct naf_ccm_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		gba_free(b->body[i]);
	memset(b, 0, sizeof(*b));
}

/* Add one message for b->impi: ccm carries everything but the id,
 * number, time, subscriber and application. */
static int batch_add(struct naf *n, struct naf_ccm_batch *b, struct gba_ccm *ccm,
                     const uint8_t *ref, size_t ref_len, int64_t expiry_s)
{
	struct gba_ccm_out *o;
	size_t i = b->n;
	int64_t now = gba_time_now();
	int ret;

	if (i >= NAF_CCM_BATCH_MAX)
		return GBA_ETOOBIG;
	if (ref_len > GBA_STORE_MAX_REF || strlen(n->conf->fqdn) > 128)
		return GBA_EINVAL;
	o = &b->out[i];
	memset(o, 0, sizeof(*o));
	ret = gba_rnd(GBA_RND_NONCE, o->msg_id, sizeof(o->msg_id));
	if (ret < 0)
		return ret;
	memcpy(ccm->message_id, o->msg_id, sizeof(o->msg_id));
	ccm->seq = 0;   /* the store numbers it; set again at signing */
	ccm->issued_at = now;
	ccm->subscriber_kind = GBA_CCM_SUB_IMPI;
	ccm->subscriber = gba_str_c(b->impi);
	ccm->application_id = gba_str_c(n->conf->fqdn);
	ret = gba_ccm_encode(ccm, &b->body[i], &o->body_len);
	if (ret < 0)
		return ret;
	o->body = b->body[i];
	o->impi = b->impi;
	o->app_id = n->conf->fqdn;
	o->action = (int)ccm->action;
	if (ref_len > 0) {
		memcpy(b->ref[i], ref, ref_len);
		o->ref = b->ref[i];
		o->ref_len = ref_len;
	}
	o->created = now;
	o->expires = now + (expiry_s > 0 ? expiry_s : 86400);
	b->n++;
	return 0;
}

static int batch_impi(struct naf_ccm_batch *b, const char *impi)
{
	size_t len = strlen(impi);

	if (len == 0 || len > GBA_MAX_IMPI_LEN)
		return GBA_EINVAL;
	if (b->impi[0] != '\0' && strcmp(b->impi, impi) != 0)
		return GBA_EINVAL;   /* one IMPI per batch */
	memcpy(b->impi, impi, len + 1);
	return 0;
}

/* The certificate, its issuing CA as the chain, its validity and the
 * time to renew by. */
static int add_cert_message(struct naf *n, struct naf_ccm_batch *b, enum gba_ccm_action action,
                            const struct gba_cert_record *rec, int64_t window_s,
                            int64_t expiry_s)
{
	const struct naf_ca *ca = naf_ca_find(n, rec->ca);
	struct gba_ccm ccm;

	memset(&ccm, 0, sizeof(ccm));
	ccm.action = action;
	ccm.certificate.p = rec->der;
	ccm.certificate.len = rec->der_len;
	if (ca != NULL) {
		ccm.chain[0].p = gba_signer_cert(ca->issuer, &ccm.chain[0].len);
		ccm.nchain = 1;
	}
	ccm.has_validity = 1;
	ccm.not_before = rec->not_before;
	ccm.not_after = rec->not_after;
	if (window_s > 0 && rec->not_after - window_s > rec->not_before) {
		ccm.has_renew_by = 1;
		ccm.renew_by = rec->not_after;
	}
	/* the revocation status is added at signing (add_status) */
	return batch_add(n, b, &ccm, rec->serial, rec->serial_len, expiry_s);
}

int naf_ccm_issued(struct naf *n, const struct gba_cert_record *recs, size_t nrecs,
                   struct naf_ccm_batch *b)
{
	struct ccm_rules r;
	size_t i;
	int ret;

	rules_get(n, &r);
	if (!r.have || !has_event(r.on_issue, GBA_POLICY_CCM_NEW_CERTIFICATE))
		return 0;
	for (i = 0; i < nrecs; i++) {
		ret = batch_impi(b, recs[i].impi);
		if (ret == 0)
			ret = add_cert_message(n, b, GBA_CCM_INSTALL, &recs[i], r.window_s, r.expiry_s);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int naf_ccm_revoked(struct naf *n, const struct gba_cert_record *rec, struct naf_ccm_one *o)
{
	const struct gba_policy_set *set;
	const struct gba_policy *p;
	int64_t expiry_s = 0;
	int want = 0, ret;

	naf_ccm_one_clear(o);
	if (n->conf->ccm == NULL)
		return 0;
	set = gba_policy_store_acquire(n->conf->policies);
	p = set != NULL ? gba_policy_find(set, rec->app_id) : NULL;
	if (p != NULL) {
		want = has_event(p->c.ccm.on_revoke, GBA_POLICY_CCM_REVOKED);
		expiry_s = p->c.ccm.expiry_hours * 3600;
	}
	gba_policy_store_release(n->conf->policies, set);
	if (!want)
		return 0;
	ret = gba_ccm_out_revoked(rec, gba_time_now(), expiry_s, &o->out, &o->body);
	if (ret < 0)
		return ret;
	/* o outlives rec: its own copies of what o->out borrows */
	memcpy(o->impi, rec->impi, sizeof(o->impi));
	memcpy(o->app_id, rec->app_id, sizeof(o->app_id));
	memcpy(o->ref, rec->serial, rec->serial_len);
	o->out.impi = o->impi;
	o->out.app_id = o->app_id;
	o->out.ref = o->ref;
	return 1;
}

void naf_ccm_one_clear(struct naf_ccm_one *o)
{
	gba_free(o->body);
	memset(o, 0, sizeof(*o));
}

void naf_ccm_one_queued(struct naf *n, const struct gba_ccm_out *o, const char *peer)
{
	char ccm[32 + CCM_ID_HEX];

	memcpy(ccm, "id:", 3);
	gba_hex_encode(o->msg_id, sizeof(o->msg_id), ccm + 3);
	(void)naf_audit_ccm(n, GBA_AUDIT_CCM_QUEUED, GBA_AUDIT_OK, "revoked", peer, o->impi,
	                    o->ref, o->ref_len, ccm);
	naf_ccm_hub_wake(n->conf->ccm);
}

void naf_ccm_queued(struct naf *n, const struct naf_ccm_batch *b, const char *peer)
{
	char ccm[32 + CCM_ID_HEX];
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct gba_ccm_out *o = &b->out[i];

		memcpy(ccm, "id:", 3);
		gba_hex_encode(o->msg_id, sizeof(o->msg_id), ccm + 3);
		(void)naf_audit_ccm(n, GBA_AUDIT_CCM_QUEUED, GBA_AUDIT_OK,
		                    gba_ccm_action_name((enum gba_ccm_action)o->action), peer, o->impi,
		                    o->action <= GBA_CCM_REVOKED ? o->ref : NULL, o->ref_len, ccm);
	}
	if (b->n > 0)
		naf_ccm_hub_wake(n->conf->ccm);
}

/* ---- signing at first delivery ---- */

/*
 * The revocation status a message about a certificate carries, added
 * when it is signed (so it is as fresh as the delivery, and a message
 * queued by gba-ctl, which holds no signing key, gets one too): an
 * OCSP response from this NAF's status service, or the CA's CRL when
 * the policy of the message's application says ccm.status: crl and the
 * CRL leaves the signed message under GBA_STORE_MAX_CCM.  Left out
 * (logged) when neither can be had: the message still goes out.
 * *owned is the buffer ccm->revocation borrows.
 */
static void add_status(struct naf *n, const struct gba_ccm_row *r, struct gba_ccm *ccm,
                       uint8_t **owned)
{
	const struct gba_policy_set *set;
	const struct gba_policy *p;
	const struct naf_ca *ca;
	struct gba_cert_record rec;
	size_t len = 0, room;
	int kind, ret;

	*owned = NULL;
	if (ccm->certificate.len == 0 || ccm->revocation_kind != GBA_CCM_REV_NONE ||
	    r->ref_len == 0 || r->action > GBA_CCM_REVOKED)
		return;
	set = gba_policy_store_acquire(n->conf->policies);
	p = set != NULL ? gba_policy_find(set, r->app_id) : NULL;
	kind = p != NULL ? p->c.ccm.status : GBA_POLICY_STATUS_OCSP;
	gba_policy_store_release(n->conf->policies, set);
	memset(&rec, 0, sizeof(rec));
	ret = gba_store_cert_get(n->store, r->ref, r->ref_len, &rec);
	if (ret == 0 && kind == GBA_POLICY_STATUS_CRL) {
		ca = naf_ca_find(n, rec.ca);
		/* the rest of the message and the SignedData around it: the
		 * certificates, the signer's and the CA's, and a margin */
		room = GBA_STORE_MAX_CCM - r->body_len;
		room = room > 16384 ? room - 16384 : 0;
		ret = ca != NULL ? naf_crl_copy(n, ca, room, owned, &len) : GBA_ENOTFOUND;
		if (ret == 0)
			ccm->revocation_kind = GBA_CCM_REV_CRL;
	} else if (ret == 0) {
		ret = naf_ocsp_for(n, &rec, owned, &len);
		if (ret == 0)
			ccm->revocation_kind = GBA_CCM_REV_OCSP;
	}
	gba_cert_record_clear(&rec);
	if (ret < 0) {
		gba_log_notice(MOD, "CCM %" PRId64 ": no revocation status (%s)", r->id,
		               gba_strerror(ret));
		return;
	}
	ccm->revocation.p = *owned;
	ccm->revocation.len = len;
}

/* The signed DER of a stored message: kept, or made now (*fresh). */
static int seal(struct naf *n, const struct gba_ccm_row *r, uint8_t **der, size_t *len,
                int *fresh)
{
	const struct naf_ca *ca = &n->conf->cas[0];
	struct gba_ccm ccm;
	struct gba_ccm_msg *msg = NULL;
	struct gba_der_error err = { 0, NULL };
	struct gba_cms_sign_req sr;
	struct gba_blob issuer;
	uint8_t *body = NULL, *status = NULL;
	size_t blen = 0;
	int ret;

	*der = NULL;
	*len = 0;
	*fresh = 0;
	if (r->der != NULL) {
		*der = gba_malloc(r->der_len);
		if (*der == NULL)
			return GBA_ENOMEM;
		memcpy(*der, r->der, r->der_len);
		*len = r->der_len;
		return 0;
	}
	ret = gba_ccm_decode(r->body, r->body_len, &ccm, &msg, &err);
	if (ret < 0) {
		gba_log_err(MOD, "stored CCM %" PRId64 " does not decode: %s", r->id,
		            err.reason != NULL ? err.reason : gba_strerror(ret));
		return GBA_EIO;
	}
	ccm.seq = r->seq;
	add_status(n, r, &ccm, &status);
	ret = gba_ccm_encode(&ccm, &body, &blen);
	gba_free(status);
	gba_ccm_msg_free(msg);
	if (ret < 0)
		return ret;
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = gba_oid_ct_ccm;
	sr.econtent.p = body;
	sr.econtent.len = blen;
	sr.signer_cert.p = gba_signer_cert(ca->cmc, &sr.signer_cert.len);
	issuer.p = gba_signer_cert(ca->issuer, &issuer.len);
	sr.certs = &issuer;
	sr.ncerts = 1;
	sr.sig_alg.p = gba_signer_sig_oid(ca->cmc, &sr.sig_alg.len);
	sr.hash = gba_key_cms_hash(gba_signer_key(ca->cmc));
	sr.signing_time = gba_time_now();
	sr.sign = gba_signer_sign;
	sr.sign_ctx = ca->cmc;
	ret = gba_cms_sign(&sr, der, len);
	gba_free(body);
	if (ret == 0 && *len > GBA_STORE_MAX_CCM) {
		gba_free(*der);
		*der = NULL;
		ret = GBA_ETOOBIG;
	}
	if (ret == 0)
		*fresh = 1;
	return ret;
}

int naf_ccm_seal_row(struct naf *n, const struct gba_ccm_row *r, uint8_t **der, size_t *len)
{
	int fresh;

	return seal(n, r, der, len, &fresh);
}

/* Messages fetched for one delivery round, owning their DER. */
struct round {
	struct naf *n;
	size_t k;
	struct {
		uint8_t id[GBA_STORE_CCM_ID_LEN];
		uint64_t seq;
		uint8_t *der;
		size_t len;
		int fresh;
	} m[NAF_CCM_BATCH_MAX];
	int err;
};

static int round_cb(void *ctx, const struct gba_ccm_row *r)
{
	struct round *rd = ctx;
	int ret;

	if (rd->k >= NAF_CCM_BATCH_MAX)
		return 1;
	ret = seal(rd->n, r, &rd->m[rd->k].der, &rd->m[rd->k].len, &rd->m[rd->k].fresh);
	if (ret < 0) {
		rd->err = ret;
		return 1;
	}
	memcpy(rd->m[rd->k].id, r->msg_id, GBA_STORE_CCM_ID_LEN);
	rd->m[rd->k].seq = r->seq;
	rd->k++;
	return 0;
}

static void round_clear(struct round *rd)
{
	size_t i;

	for (i = 0; i < rd->k; i++)
		gba_free(rd->m[i].der);
	rd->k = 0;
}

/* Record the deliveries kept since the last flush, in one transaction. */
static void flush_sent(struct naf *n)
{
	struct naf_ccm_w *w = n->ccm;
	struct gba_ccm_sent *v;
	size_t i;
	int ret;

	if (w == NULL || w->nsent == 0)
		return;
	v = gba_calloc(w->nsent, sizeof(*v));
	if (v != NULL) {
		for (i = 0; i < w->nsent; i++) {
			v[i].msg_id = w->sent[i].id;
			v[i].der = w->sent[i].der;
			v[i].der_len = w->sent[i].len;
		}
		ret = gba_store_ccm_mark_sent(n->store, v, w->nsent);
		if (ret < 0)   /* they went out anyway; the UE acknowledges them */
			gba_log_warn(MOD, "recording deliveries: %s", gba_strerror(ret));
		gba_free(v);
	}
	for (i = 0; i < w->nsent; i++)
		gba_free(w->sent[i].der);
	w->nsent = 0;
}

/* Keep the first `sent` messages of rd for the next flush; fresh
 * signatures move over when keep_der (a fan-out records the state only:
 * writing every signature would put megabytes of fsync'd writes in the
 * way of delivery). */
static void round_keep(struct naf *n, struct round *rd, size_t sent, int keep_der)
{
	struct naf_ccm_w *w = n->ccm;
	size_t i;

	for (i = 0; i < sent; i++) {
		if (w->nsent == CCM_SENT_FLUSH)
			flush_sent(n);
		memcpy(w->sent[w->nsent].id, rd->m[i].id, GBA_STORE_CCM_ID_LEN);
		w->sent[w->nsent].der = keep_der && rd->m[i].fresh ? rd->m[i].der : NULL;
		w->sent[w->nsent].len = keep_der && rd->m[i].fresh ? rd->m[i].len : 0;
		if (keep_der && rd->m[i].fresh)
			rd->m[i].der = NULL;
		w->nsent++;
	}
	atomic_fetch_add(&n->conf->ccm->delivered, (unsigned long)sent);
}

/* Record that the first `sent` messages of rd went out, now. */
static void round_mark(struct naf *n, struct round *rd, size_t sent)
{
	struct gba_ccm_sent v[NAF_CCM_BATCH_MAX];
	size_t i;
	int ret;

	if (sent == 0)
		return;
	for (i = 0; i < sent; i++) {
		v[i].msg_id = rd->m[i].id;
		v[i].der = rd->m[i].fresh ? rd->m[i].der : NULL;
		v[i].der_len = rd->m[i].fresh ? rd->m[i].len : 0;
	}
	ret = gba_store_ccm_mark_sent(n->store, v, sent);
	if (ret < 0)   /* they went out anyway; the UE acknowledges them */
		gba_log_warn(MOD, "recording deliveries: %s", gba_strerror(ret));
	atomic_fetch_add(&n->conf->ccm->delivered, (unsigned long)sent);
}

static void ccm_path(char *path, const uint8_t id[GBA_STORE_CCM_ID_LEN])
{
	memcpy(path, NAF_CCM_PATH "/", sizeof(NAF_CCM_PATH));
	gba_hex_encode(id, GBA_STORE_CCM_ID_LEN, path + sizeof(NAF_CCM_PATH));
}

/* Send what the subscription has not had yet, in sequence order, until
 * the stream has no room.  keep_der: record the signatures too. */
static void deliver(struct naf_ccm_sub *sub, int keep_der)
{
	struct naf *n = sub->n;
	struct round *rd = NULL;
	char path[sizeof(NAF_CCM_PATH) + CCM_ID_HEX + 1];
	uint8_t *frame = NULL;
	size_t i, want;
	int ret = 0, more = 1;

	if (sub->blocked)
		return;
	rd = gba_calloc(1, sizeof(*rd));
	if (rd == NULL)
		return;
	rd->n = n;
	while (more && ret == 0) {
		want = NAF_CCM_BATCH_MAX;
		if (sub->limited && sub->left < want)
			want = sub->left;
		if (want == 0)
			break;
		ret = gba_store_ccm_list(n->store, sub->node->impi, sub->last_seq, gba_time_now(),
		                         want, round_cb, rd);
		if (ret < 0 || rd->err < 0) {
			gba_log_err(MOD, "outbox: %s",
			            gba_strerror(ret < 0 ? ret : rd->err));
			round_clear(rd);
			break;
		}
		ret = 0;
		more = rd->k == want;
		for (i = 0; i < rd->k; i++) {
			if (sub->push) {
				ccm_path(path, rd->m[i].id);
				ret = gba_http_stream_push(sub->st, path, NAF_CCM_MEDIA, rd->m[i].der,
				                           rd->m[i].len);
			} else {
				frame = gba_malloc(CCM_FRAME_HDR + rd->m[i].len);
				if (frame == NULL) {
					ret = GBA_ENOMEM;
					break;
				}
				frame[0] = (uint8_t)(rd->m[i].len >> 24);
				frame[1] = (uint8_t)(rd->m[i].len >> 16);
				frame[2] = (uint8_t)(rd->m[i].len >> 8);
				frame[3] = (uint8_t)rd->m[i].len;
				memcpy(frame + CCM_FRAME_HDR, rd->m[i].der, rd->m[i].len);
				ret = gba_http_stream_write(sub->st, frame, CCM_FRAME_HDR + rd->m[i].len);
				gba_free(frame);
				frame = NULL;
			}
			if (ret == GBA_ETOOBIG) {
				sub->blocked = 1;
				more = 0;
				ret = 0;
				break;
			}
			if (ret < 0)
				break;
			sub->last_seq = rd->m[i].seq;
			if (sub->limited)
				sub->left--;
		}
		round_keep(n, rd, i, keep_der);
		round_clear(rd);
	}
	gba_free(rd);
	if (ret < 0) {
		gba_log_warn(MOD, "subscription: %s; ending it", gba_strerror(ret));
		gba_http_stream_end(sub->st);
		return;
	}
	if ((sub->limited && sub->left == 0) || (sub->wait0 && !sub->blocked))
		gba_http_stream_end(sub->st);
}

/* ---- the policy-change sweep ---- */

struct sweep_list {
	char (*impi)[GBA_MAX_IMPI_LEN + 1];
	size_t n;
};

static int sweep_cb(void *ctx, const char *impi)
{
	struct sweep_list *l = ctx;

	memcpy(l->impi[l->n++], impi, strlen(impi) + 1);
	return 0;
}

static int add_list_message(struct naf *n, struct naf_ccm_batch *b, enum gba_ccm_action action,
                            const struct gba_conf_strlist *files, const struct ccm_rules *r);

/*
 * After a policy reload (naf_ccm_policy_changed), queue the policy's
 * trust-anchor and server-certificate updates for every IMPI holding a
 * valid certificate of this application, NAF_CCM_SWEEP_RATE IMPIs per
 * second at most.  Sets already queued for an IMPI (same hash, not
 * expired) are not queued again, so an unchanged list queues nothing.
 * Which updates: those the policy's ccm.on_bootstrap names.
 */
static void policy_sweep(struct naf *n, int64_t now)
{
	struct naf_ccm_w *w = n->ccm;
	unsigned gen = atomic_load(&n->conf->ccm->policy_gen);
	const struct gba_policy_set *set;
	const struct gba_policy *p;
	struct ccm_rules r;
	struct sweep_list l = { NULL, 0 };
	struct naf_ccm_batch *b = NULL;
	size_t i;
	int ret = 0;

	if (gen != w->policy_gen) {
		w->policy_gen = gen;
		w->sweeping = 1;
		w->sweep_after[0] = '\0';
		w->next_sweep = 0;
		gba_log_notice(MOD, "policy reloaded: looking for CCM updates to queue");
	}
	if (!w->sweeping || now < w->next_sweep)
		return;
	w->next_sweep = now + 1;
	rules_get(n, &r);
	if (!r.have || (!has_event(r.on_bootstrap, GBA_POLICY_CCM_TRUST_ANCHORS) &&
	                !has_event(r.on_bootstrap, GBA_POLICY_CCM_SERVER_CERTS))) {
		w->sweeping = 0;
		return;
	}
	l.impi = gba_calloc(NAF_CCM_SWEEP_RATE, sizeof(*l.impi));
	b = gba_calloc(1, sizeof(*b));
	if (l.impi == NULL || b == NULL)
		goto out;
	ret = gba_store_cert_impis(n->store, n->conf->fqdn,
	                           w->sweep_after[0] != '\0' ? w->sweep_after : NULL, now,
	                           NAF_CCM_SWEEP_RATE, sweep_cb, &l);
	if (ret < 0)
		goto out;   /* tried again in a second */
	for (i = 0; i < l.n; i++) {
		naf_ccm_batch_clear(b);
		ret = batch_impi(b, l.impi[i]);
		set = gba_policy_store_acquire(n->conf->policies);
		p = set != NULL ? gba_policy_find(set, n->conf->fqdn) : NULL;
		if (ret == 0 && p != NULL && has_event(r.on_bootstrap, GBA_POLICY_CCM_TRUST_ANCHORS))
			ret = add_list_message(n, b, GBA_CCM_TRUST_ANCHOR_UPDATE,
			                       &p->c.ccm.trust_anchors, &r);
		if (ret == 0 && p != NULL && has_event(r.on_bootstrap, GBA_POLICY_CCM_SERVER_CERTS))
			ret = add_list_message(n, b, GBA_CCM_STATUS_UPDATE, &p->c.ccm.server_certs, &r);
		gba_policy_store_release(n->conf->policies, set);
		if (ret == 0 && b->n > 0)
			ret = gba_store_ccm_queue(n->store, b->out, b->n);
		if (ret < 0)
			goto out;
		if (b->n > 0)
			naf_ccm_queued(n, b, NULL);
		memcpy(w->sweep_after, l.impi[i], strlen(l.impi[i]) + 1);
	}
	if (l.n < NAF_CCM_SWEEP_RATE) {
		w->sweeping = 0;
		gba_log_notice(MOD, "policy change: CCM updates queued");
	}
out:
	if (ret < 0)
		gba_log_err(MOD, "policy change sweep: %s (tried again)", gba_strerror(ret));
	naf_ccm_batch_clear(b);
	gba_free(b);
	gba_free(l.impi);
}

/* ---- the worker's tick ---- */

static int changed_cb(void *ctx, const char *impi)
{
	struct naf_ccm_w *w = ctx;
	struct ccm_node *node = map_get(&w->subs, impi, 0);
	struct naf_ccm_sub *s;

	for (s = node != NULL ? node->subs : NULL; s != NULL; s = s->next) {
		if (s->dirty)
			continue;
		s->dirty = 1;
		s->dirty_next = w->dirty;
		w->dirty = s;
	}
	return 0;
}

static int expired_cb(void *ctx, const struct gba_ccm_row *r)
{
	struct naf *n = ctx;
	char ccm[32 + CCM_ID_HEX];
	int n1;

	n1 = snprintf(ccm, sizeof(ccm), "%" PRIu64 ":", r->seq);
	if (n1 < 0 || (size_t)n1 + CCM_ID_HEX >= sizeof(ccm))
		return GBA_EINTERNAL;
	gba_hex_encode(r->msg_id, sizeof(r->msg_id), ccm + n1);
	return naf_audit_ccm(n, GBA_AUDIT_CCM_EXPIRED, GBA_AUDIT_OK,
	                     gba_ccm_action_name((enum gba_ccm_action)r->action), NULL, r->impi,
	                     r->action <= GBA_CCM_REVOKED ? r->ref : NULL, r->ref_len, ccm);
}

static void all_dirty(struct naf_ccm_w *w)
{
	struct ccm_node *e;
	size_t i;

	for (i = 0; i < CCM_MAP_BUCKETS; i++)
		for (e = w->subs.b[i]; e != NULL; e = e->next)
			(void)changed_cb(w, e->impi);
}

static void keepalive(struct naf_ccm_w *w)
{
	static const uint8_t zero[CCM_FRAME_HDR] = { 0, 0, 0, 0 };
	struct ccm_node *e;
	struct naf_ccm_sub *s;
	size_t i;

	for (i = 0; i < CCM_MAP_BUCKETS; i++)
		for (e = w->subs.b[i]; e != NULL; e = e->next)
			for (s = e->subs; s != NULL; s = s->next) {
				if (s->blocked)
					continue;
				if (s->push)
					(void)gba_http_stream_ping(s->st);
				else
					(void)gba_http_stream_write(s->st, zero, sizeof(zero));
			}
}

void naf_ccm_tick(struct naf *n, int expiry_duty)
{
	struct naf_ccm_hub *hub = n->conf->ccm;
	struct naf_ccm_w *w;
	struct naf_ccm_sub *s;
	int64_t now = gba_time_now(), mark;
	unsigned k;
	int ret;

	if (hub == NULL || worker_state(n) < 0)
		return;
	w = n->ccm;
	/* What went out is recorded here, at most once a second, after the
	 * loop wrote it to the sockets (the store's fsync is not in the
	 * way of delivery; a crash before this redelivers, and the UE
	 * acknowledges duplicates). */
	if (now >= w->next_flush) {
		flush_sent(n);
		w->next_flush = now + 1;
	}
	if (expiry_duty)
		policy_sweep(n, now);
	if (expiry_duty && now >= w->next_expire) {
		w->next_expire = now + hub->expire_every_s;
		ret = gba_store_ccm_expire(n->store, now, expired_cb, n);
		if (ret > 0)
			gba_log_info(MOD, "%d CCM(s) reached their expiry", ret);
		else if (ret < 0)
			gba_log_err(MOD, "CCM expiry: %s (retried)", gba_strerror(ret));
	}
	if (!w->have_mark) {
		/* the store failed when the worker started: start now, and
		 * look at every subscription once */
		if (gba_store_ccm_changes(n->store, -1, &w->mark, NULL, NULL) < 0)
			return;
		w->have_mark = 1;
		all_dirty(w);
	} else if (w->nsubs == 0) {
		/* nothing to wake: just keep up with the outbox */
		(void)gba_store_ccm_changes(n->store, -1, &w->mark, NULL, NULL);
		return;
	} else {
		mark = w->mark;
		ret = gba_store_ccm_changes(n->store, w->mark, &mark, changed_cb, w);
		if (ret == 0)
			w->mark = mark;
	}
	/* A bounded share per tick, so that the loop writes what was
	 * delivered (and serves requests) in between: a large fan-out
	 * goes out in slices instead of all at the end. */
	for (k = 0; w->dirty != NULL && k < CCM_TICK_SUBS; k++) {
		s = w->dirty;
		w->dirty = s->dirty_next;
		s->dirty = 0;
		s->dirty_next = NULL;
		deliver(s, 0);
	}
	if (w->dirty != NULL)
		naf_ccm_hub_wake(hub);   /* come back after the I/O */
	if (now >= w->next_keepalive) {
		if (w->next_keepalive != 0)
			keepalive(w);
		w->next_keepalive = now + hub->keepalive_s;
	}
}

/* ---- stream callbacks ---- */

static void sub_close(void *arg, struct gba_http_stream *st)
{
	struct naf_ccm_sub *sub = arg, **pp;
	struct naf *n = sub->n;
	struct naf_ccm_w *w = n->ccm;
	struct ccm_node *node = sub->node;

	(void)st;
	for (pp = &w->dirty; *pp != NULL; pp = &(*pp)->dirty_next)
		if (*pp == sub) {
			*pp = sub->dirty_next;
			break;
		}
	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		node->subs = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	hub_give(n->conf->ccm, node->impi);
	if (node->subs == NULL)
		map_drop(&w->subs, node);
	w->nsubs--;
	gba_free(sub);
}

static void sub_drain(void *arg, struct gba_http_stream *st)
{
	struct naf_ccm_sub *sub = arg;

	(void)st;
	sub->blocked = 0;
	deliver(sub, 0);
}

static const struct gba_http_stream_cbs sub_cbs = { sub_close, sub_drain };

/* ---- requests ---- */

/* Who is asking: a client certificate this NAF issued (valid, not
 * revoked, for this application), or GBA Digest.  0 with impi set;
 * otherwise resp is answered and the status returned.  *ua is filled
 * for Digest (a->btid[0] != '\0'). */
static int authenticate(struct naf *n, const struct gba_http_request *req,
                        struct gba_http_response *resp, char impi[GBA_MAX_IMPI_LEN + 1],
                        struct naf_ua_auth *ua)
{
	struct gba_cert_info ci;
	struct gba_cert_record rec;
	int64_t now = gba_time_now();
	int ret, status;

	memset(ua, 0, sizeof(*ua));
	if (req->client_cert != NULL) {
		memset(&rec, 0, sizeof(rec));
		ret = gba_x509_cert_info(req->client_cert, req->client_cert_len, &ci);
		if (ret < 0) {
			(void)gba_http_response_status(resp, 403);
			return 403;
		}
		ret = gba_store_cert_get(n->store, ci.serial, ci.serial_len, &rec);
		gba_cert_info_clear(&ci);
		if (ret == 0 && rec.status == GBA_CERT_VALID && now <= rec.not_after &&
		    strcasecmp(rec.app_id, n->conf->fqdn) == 0 && rec.der_len == req->client_cert_len &&
		    memcmp(rec.der, req->client_cert, rec.der_len) == 0) {
			memcpy(impi, rec.impi, sizeof(rec.impi));
			gba_cert_record_clear(&rec);
			return 0;
		}
		gba_cert_record_clear(&rec);
		if (ret < 0 && ret != GBA_ENOTFOUND) {
			(void)gba_http_response_status(resp, 503);
			return 503;
		}
		/* not one of ours (any more): Digest may still work */
	}
	status = naf_ua_check(n, req, resp, ua);
	if (status != 0)
		return status;
	memcpy(impi, ua->key.impi, GBA_MAX_IMPI_LEN + 1);
	return 0;
}

/* Value of name=... in the query of path; *found tells whether it is there. */
static struct gba_str query_value(struct gba_str path, const char *name, int *found)
{
	struct gba_str r = { NULL, 0 };
	size_t i = 0, nl = strlen(name), s;

	*found = 0;
	while (i < path.len && path.p[i] != '?')
		i++;
	while (i < path.len) {
		s = ++i;
		while (i < path.len && path.p[i] != '&')
			i++;
		if (i - s > nl && memcmp(path.p + s, name, nl) == 0 && path.p[s + nl] == '=') {
			r.p = path.p + s + nl + 1;
			r.len = i - s - nl - 1;
			*found = 1;
			return r;
		}
	}
	return r;
}

/* A decimal 1..max; 0 when malformed. */
static unsigned small_number(struct gba_str v, unsigned max)
{
	unsigned long x = 0;
	size_t i;

	if (v.len == 0 || v.len > 6)
		return 0;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 0;
		x = x * 10 + (unsigned long)(v.p[i] - '0');
	}
	return x <= max ? (unsigned)x : 0;
}

/* GET /ccm[?max=N][&wait=0] */
static void subscribe(struct naf *n, const struct gba_http_request *req,
                      struct gba_http_response *resp)
{
	struct naf_ccm_hub *hub = n->conf->ccm;
	struct naf_ua_auth ua;
	struct naf_ccm_sub *sub = NULL;
	struct gba_http_stream *st = NULL;
	struct ccm_node *node;
	struct gba_str v;
	char impi[GBA_MAX_IMPI_LEN + 1], tag[GBA_LOG_ID_LEN];
	int found, err = 0, ret, slot = 0;
	unsigned max = 0, wait0 = 0;

	v = query_value(req->path, "max", &found);
	if (found) {
		max = small_number(v, 100000);
		if (max == 0) {
			(void)gba_http_response_status(resp, 400);
			return;
		}
	}
	v = query_value(req->path, "wait", &found);
	if (found) {
		if (!gba_str_eq(v, GBA_STR_LIT("0"))) {
			(void)gba_http_response_status(resp, 400);
			return;
		}
		wait0 = 1;
	}
	if (authenticate(n, req, resp, impi, &ua) != 0)
		goto out;
	ret = worker_state(n);
	if (ret == 0)
		ret = hub_take(hub, impi);
	if (ret == GBA_ETOOBIG) {
		gba_log_notice(MOD, "subscription refused: impi %s has %u already",
		               gba_log_id(impi, strlen(impi), tag), hub->max_per_impi);
		naf_header(resp, "Retry-After", "60", &err);
		(void)gba_http_response_status(resp, 429);
		goto out;
	}
	if (ret < 0) {
		(void)gba_http_response_status(resp, 503);
		goto out;
	}
	slot = 1;
	sub = gba_calloc(1, sizeof(*sub));
	node = sub != NULL ? map_get(&n->ccm->subs, impi, 1) : NULL;
	if (node == NULL) {
		(void)gba_http_response_status(resp, 503);
		goto out;
	}
	sub->n = n;
	sub->node = node;
	sub->left = max;
	sub->limited = max > 0;
	sub->wait0 = (int)wait0;
	naf_header(resp, "Content-Type", NAF_CCM_STREAM_MEDIA, &err);
	naf_header(resp, "Cache-Control", "no-store", &err);
	if (!err)
		err = gba_http_response_status(resp, 200);
	if (!err)
		err = gba_http_response_hold(resp, &sub_cbs, sub, &st);
	if (err) {
		if (node->subs == NULL)
			map_drop(&n->ccm->subs, node);
		(void)gba_http_response_status(resp, 500);
		goto out;
	}
	/* The layer owns the stream now; sub lives until sub_close. */
	sub->st = st;
	sub->push = gba_http_stream_can_push(st);
	/* one push at a time: each completes before the next is promised,
	 * so a UE that takes pushes as they complete sees sequence order */
	gba_http_stream_push_window(st, 1);
	sub->next = node->subs;
	if (node->subs != NULL)
		node->subs->prev = sub;
	node->subs = sub;
	n->ccm->nsubs++;
	slot = 0;
	gba_log_info(MOD, "subscription for impi %s (%s)", gba_log_id(impi, strlen(impi), tag),
	             sub->push ? "push" : "frames");
	/* The header is decided before the first message goes.  What a
	 * new subscription gets is recorded at once (one transaction per
	 * subscription), so that a redelivery right after it, on any
	 * worker, sends the same octets; a fan-out's records wait for the
	 * next second's flush instead. */
	deliver(sub, 1);
	flush_sent(n);
	sub = NULL;
out:
	if (slot)
		hub_give(hub, impi);
	gba_free(sub);
	naf_ua_auth_clear(&ua);
}

static void answer(struct naf *n, const struct naf_ua_auth *ua, struct gba_http_response *resp,
                   int status, const char *type, const uint8_t *body, size_t len)
{
	int err = 0;

	if (type != NULL)
		naf_header(resp, "Content-Type", type, &err);
	naf_header(resp, "Cache-Control", "no-store", &err);
	if (!err && len > 0)
		err = gba_http_response_body(resp, body, len);
	if (!err && ua->btid[0] != '\0')
		err = naf_ua_info(n, ua, body, len, resp);
	(void)gba_http_response_status(resp, err ? 500 : status);
}

/* GET /ccm/<32 hex digits> */
static void fetch_one(struct naf *n, const struct gba_http_request *req,
                      struct gba_http_response *resp, struct gba_str hex)
{
	struct naf_ua_auth ua;
	struct gba_ccm_row r;
	struct gba_ccm_sent sent;
	uint8_t id[GBA_STORE_CCM_ID_LEN], *der = NULL;
	size_t len = 0;
	char impi[GBA_MAX_IMPI_LEN + 1];
	int ret, fresh = 0;

	memset(&r, 0, sizeof(r));
	if (hex.len != CCM_ID_HEX || gba_hex_decode(hex.p, hex.len, id, sizeof(id)) < 0) {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	if (authenticate(n, req, resp, impi, &ua) != 0)
		goto out;
	ret = gba_store_ccm_get(n->store, id, &r);
	if (ret == GBA_ENOTFOUND || (ret == 0 && (strcmp(r.impi, impi) != 0 ||
	                                          r.expires <= gba_time_now()))) {
		answer(n, &ua, resp, 404, NULL, NULL, 0);
		goto out;
	}
	if (ret == 0)
		ret = seal(n, &r, &der, &len, &fresh);
	if (ret < 0) {
		gba_log_err(MOD, "GET one CCM: %s", gba_strerror(ret));
		answer(n, &ua, resp, 503, NULL, NULL, 0);
		goto out;
	}
	sent.msg_id = r.msg_id;
	sent.der = fresh ? der : NULL;
	sent.der_len = fresh ? len : 0;
	if (r.state == GBA_CCM_QUEUED)
		(void)gba_store_ccm_mark_sent(n->store, &sent, 1);
	answer(n, &ua, resp, 200, NAF_CCM_MEDIA, der, len);
out:
	gba_free(der);
	gba_ccm_row_clear(&r);
	naf_ua_auth_clear(&ua);
}

/* POST /ccm/ack: message ids, 32 hex digits each, separated by white
 * space (text/plain).  200 "acked N". */
static void acknowledge(struct naf *n, const struct gba_http_request *req,
                        struct gba_http_response *resp)
{
	struct naf_ua_auth ua;
	uint8_t (*ids)[GBA_STORE_CCM_ID_LEN] = NULL;
	int acked[NAF_CCM_MAX_ACK];
	char impi[GBA_MAX_IMPI_LEN + 1], text[32], ccm[8 + CCM_ID_HEX];
	size_t i = 0, k = 0, s;
	int ret, tn;

	memset(&ua, 0, sizeof(ua));
	if (req->body_len > CCM_ACK_BODY_MAX) {
		(void)gba_http_response_status(resp, 413);
		return;
	}
	ids = gba_calloc(NAF_CCM_MAX_ACK, sizeof(*ids));
	if (ids == NULL) {
		(void)gba_http_response_status(resp, 500);
		return;
	}
	/* Parse before authenticating: Digest covers the body (auth-int). */
	while (i < req->body_len) {
		while (i < req->body_len && (req->body[i] == ' ' || req->body[i] == '\n' ||
		                             req->body[i] == '\r' || req->body[i] == '\t'))
			i++;
		if (i == req->body_len)
			break;
		s = i;
		while (i < req->body_len && req->body[i] != ' ' && req->body[i] != '\n' &&
		       req->body[i] != '\r' && req->body[i] != '\t')
			i++;
		if (k >= NAF_CCM_MAX_ACK || i - s != CCM_ID_HEX ||
		    gba_hex_decode((const char *)req->body + s, CCM_ID_HEX, ids[k],
		                   GBA_STORE_CCM_ID_LEN) < 0) {
			(void)gba_http_response_status(resp, 400);
			goto out;
		}
		k++;
	}
	if (k == 0) {
		(void)gba_http_response_status(resp, 400);
		goto out;
	}
	if (authenticate(n, req, resp, impi, &ua) != 0)
		goto out;
	ret = gba_store_ccm_ack(n->store, impi, (const uint8_t (*)[GBA_STORE_CCM_ID_LEN])ids, k,
	                        acked);
	if (ret < 0) {
		gba_log_err(MOD, "acknowledgement: %s", gba_strerror(ret));
		answer(n, &ua, resp, 503, NULL, NULL, 0);
		goto out;
	}
	for (i = 0; i < k; i++) {
		if (!acked[i])
			continue;
		memcpy(ccm, "id:", 3);
		gba_hex_encode(ids[i], GBA_STORE_CCM_ID_LEN, ccm + 3);
		(void)naf_audit_ccm(n, GBA_AUDIT_CCM_ACKED, GBA_AUDIT_OK, NULL, req->peer, impi,
		                    NULL, 0, ccm);
	}
	tn = snprintf(text, sizeof(text), "acked %d\n", ret);
	answer(n, &ua, resp, 200, "text/plain", (const uint8_t *)text,
	       tn > 0 ? (size_t)tn : 0);
out:
	gba_free(ids);
	naf_ua_auth_clear(&ua);
}

int naf_ccm_handle(struct naf *n, const struct gba_http_request *req,
                   struct gba_http_response *resp)
{
	static const char prefix[] = NAF_CCM_PATH "/";
	const size_t pl = sizeof(prefix) - 1;
	struct gba_str p = req->path, rest;
	int err = 0;

	if (p.len < sizeof(NAF_CCM_PATH) - 1 ||
	    memcmp(p.p, NAF_CCM_PATH, sizeof(NAF_CCM_PATH) - 1) != 0)
		return 0;
	if (p.len > sizeof(NAF_CCM_PATH) - 1 && p.p[sizeof(NAF_CCM_PATH) - 1] != '?' &&
	    p.p[sizeof(NAF_CCM_PATH) - 1] != '/')
		return 0;
	if (n->conf->ccm == NULL) {
		(void)gba_http_response_status(resp, 404);
		return 1;
	}
	if (p.len >= pl && memcmp(p.p, prefix, pl) == 0) {
		rest.p = p.p + pl;
		rest.len = p.len - pl;
		if (gba_str_eq(rest, GBA_STR_LIT("ack"))) {
			if (!gba_str_eq(req->method, GBA_STR_LIT("POST"))) {
				naf_header(resp, "Allow", "POST", &err);
				(void)gba_http_response_status(resp, 405);
				return 1;
			}
			acknowledge(n, req, resp);
			return 1;
		}
		if (!gba_str_eq(req->method, GBA_STR_LIT("GET"))) {
			naf_header(resp, "Allow", "GET", &err);
			(void)gba_http_response_status(resp, 405);
			return 1;
		}
		fetch_one(n, req, resp, rest);
		return 1;
	}
	if (!gba_str_eq(req->method, GBA_STR_LIT("GET"))) {
		naf_header(resp, "Allow", "GET", &err);
		(void)gba_http_response_status(resp, 405);
		return 1;
	}
	subscribe(n, req, resp);
	return 1;
}

/* ---- bootstrap ---- */

/* Every CERTIFICATE in the PEM files of list into der[] (owned). */
static int load_pems(const struct gba_conf_strlist *list, uint8_t **der, size_t *len, size_t max,
                     size_t *n)
{
	uint8_t *buf = NULL;
	size_t i, blen, pos;
	FILE *f;
	int ret = 0;

	*n = 0;
	for (i = 0; i < list->n && ret == 0; i++) {
		f = fopen(list->v[i], "rb");
		if (f == NULL) {
			gba_log_err(MOD, "ccm: cannot read %s", list->v[i]);
			return GBA_EIO;
		}
		buf = gba_malloc(CCM_PEM_MAX + 1);
		if (buf == NULL) {
			fclose(f);
			return GBA_ENOMEM;
		}
		blen = fread(buf, 1, CCM_PEM_MAX + 1, f);
		fclose(f);
		if (blen > CCM_PEM_MAX) {
			gba_free(buf);
			return GBA_ETOOBIG;
		}
		pos = 0;
		while (ret == 0 && *n < max) {
			ret = gba_x509_pem_decode("CERTIFICATE", (const char *)buf, blen, &pos, &der[*n],
			                          &len[*n]);
			if (ret == 0)
				(*n)++;
		}
		if (ret == GBA_ENOTFOUND)
			ret = 0;
		gba_free(buf);
		buf = NULL;
	}
	return ret;
}

/* Hash of a list of DERs, for de-duplication. */
static int certs_ref(uint8_t *const *der, const size_t *len, size_t n, uint8_t ref[32])
{
	struct gba_hash *h = NULL;
	size_t i;
	int ret;

	ret = gba_hash_new(&h, GBA_HASH_SHA256);
	for (i = 0; ret == 0 && i < n; i++)
		ret = gba_hash_update(h, der[i], len[i]);
	if (ret == 0) {
		ret = gba_hash_final(h, ref);   /* frees h */
		h = NULL;
	}
	gba_hash_free(h);
	return ret;
}

/* A trust-anchor or server-certificate update, when impi has not had
 * this set yet (any state, unexpired). */
static int add_list_message(struct naf *n, struct naf_ccm_batch *b, enum gba_ccm_action action,
                            const struct gba_conf_strlist *files, const struct ccm_rules *r)
{
	uint8_t *der[CCM_MAX_CERTS];
	size_t len[CCM_MAX_CERTS], k = 0, i;
	uint8_t ref[32];
	struct gba_ccm ccm;
	const struct naf_ca *ca = &n->conf->cas[0];
	int ret;

	memset(der, 0, sizeof(der));
	if (action == GBA_CCM_TRUST_ANCHOR_UPDATE && (files == NULL || files->n == 0)) {
		if (ca->root == NULL)
			return 0;
		/* the CA's own root when the policy names none */
		der[0] = gba_malloc(ca->root_len);
		if (der[0] == NULL)
			return GBA_ENOMEM;
		memcpy(der[0], ca->root, ca->root_len);
		len[0] = ca->root_len;
		k = 1;
		ret = 0;
	} else if (files == NULL || files->n == 0) {
		return 0;
	} else {
		ret = load_pems(files, der, len, CCM_MAX_CERTS, &k);
	}
	if (ret == 0 && k > 0)
		ret = certs_ref(der, len, k, ref);
	if (ret == 0 && k > 0)
		ret = gba_store_ccm_exists(n->store, b->impi, (int)action, ref, sizeof(ref),
		                           gba_time_now());
	if (ret == 0 && k > 0) {
		memset(&ccm, 0, sizeof(ccm));
		ccm.action = action;
		for (i = 0; i < k; i++) {
			if (action == GBA_CCM_TRUST_ANCHOR_UPDATE) {
				ccm.trust_anchors[i].p = der[i];
				ccm.trust_anchors[i].len = len[i];
			} else {
				ccm.server_certs[i].p = der[i];
				ccm.server_certs[i].len = len[i];
			}
		}
		if (action == GBA_CCM_TRUST_ANCHOR_UPDATE)
			ccm.ntrust_anchors = k;
		else
			ccm.nserver_certs = k;
		ret = batch_add(n, b, &ccm, ref, sizeof(ref), r->expiry_s);
	}
	for (i = 0; i < k; i++)
		gba_free(der[i]);
	return ret > 0 ? 0 : ret;
}

struct boot_walk {
	struct naf *n;
	struct naf_ccm_batch *b;
	const struct ccm_rules *r;
	int64_t now;
	int ret;
};

static int boot_cert_cb(void *ctx, const struct gba_cert_record *rec)
{
	struct boot_walk *bw = ctx;
	struct naf *n = bw->n;
	int ret = 0, have;

	if (rec->status != GBA_CERT_VALID || rec->not_after < bw->now ||
	    strcasecmp(rec->app_id, n->conf->fqdn) != 0)
		return 0;
	if (has_event(bw->r->on_bootstrap, GBA_POLICY_CCM_NEW_CERTIFICATE)) {
		have = gba_store_ccm_delivered(n->store, rec->serial, rec->serial_len);
		if (have == 0)
			have = gba_store_ccm_exists(n->store, rec->impi, GBA_CCM_INSTALL, rec->serial,
			                            rec->serial_len, bw->now);
		if (have == 0)
			ret = add_cert_message(n, bw->b, GBA_CCM_INSTALL, rec, bw->r->window_s,
			                       bw->r->expiry_s);
		else if (have < 0)
			ret = have;
	}
	if (ret == 0 && has_event(bw->r->on_bootstrap, GBA_POLICY_CCM_RENEWAL_REQUIRED) &&
	    bw->r->window_s > 0 && rec->not_after - bw->r->window_s <= bw->now) {
		have = gba_store_ccm_exists(n->store, rec->impi, GBA_CCM_RENEWAL_REQUIRED,
		                            rec->serial, rec->serial_len, bw->now);
		if (have == 0)
			ret = add_cert_message(n, bw->b, GBA_CCM_RENEWAL_REQUIRED, rec, bw->r->window_s,
			                       bw->r->expiry_s);
		else if (have < 0)
			ret = have;
	}
	if (ret == GBA_ETOOBIG)
		return 1;   /* a full batch: the rest waits for the next bootstrap */
	if (ret < 0) {
		bw->ret = ret;
		return 1;
	}
	return 0;
}

int naf_ccm_on_bootstrap(struct naf *n, const char *impi, struct gba_http_response *resp,
                         const char *peer)
{
	struct naf_ccm_batch *b = NULL;
	struct ccm_rules r;
	struct boot_walk bw;
	struct round *rd = NULL;
	const struct gba_policy_set *set = NULL;
	const struct gba_policy *p;
	char path[sizeof(NAF_CCM_PATH) + CCM_ID_HEX + 1];
	size_t i, sent = 0;
	int ret;

	if (n->conf->ccm == NULL)
		return 0;
	rules_get(n, &r);
	b = gba_calloc(1, sizeof(*b));
	rd = gba_calloc(1, sizeof(*rd));
	if (b == NULL || rd == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	ret = batch_impi(b, impi);
	if (ret < 0)
		goto out;
	if (r.have) {
		set = gba_policy_store_acquire(n->conf->policies);
		p = set != NULL ? gba_policy_find(set, n->conf->fqdn) : NULL;
		if (p != NULL && has_event(r.on_bootstrap, GBA_POLICY_CCM_TRUST_ANCHORS))
			ret = add_list_message(n, b, GBA_CCM_TRUST_ANCHOR_UPDATE,
			                       &p->c.ccm.trust_anchors, &r);
		if (ret == 0 && p != NULL && has_event(r.on_bootstrap, GBA_POLICY_CCM_SERVER_CERTS))
			ret = add_list_message(n, b, GBA_CCM_STATUS_UPDATE, &p->c.ccm.server_certs, &r);
		gba_policy_store_release(n->conf->policies, set);
		if (ret < 0)
			goto out;
		memset(&bw, 0, sizeof(bw));
		bw.n = n;
		bw.b = b;
		bw.r = &r;
		bw.now = gba_time_now();
		if (has_event(r.on_bootstrap, GBA_POLICY_CCM_NEW_CERTIFICATE) ||
		    has_event(r.on_bootstrap, GBA_POLICY_CCM_RENEWAL_REQUIRED)) {
			ret = gba_store_cert_list(n->store, impi, boot_cert_cb, &bw);
			if (ret == 0)
				ret = bw.ret;
			if (ret > 0)
				ret = 0;
			if (ret < 0)
				goto out;
		}
		if (b->n > 0) {
			ret = gba_store_ccm_queue(n->store, b->out, b->n);
			if (ret < 0)
				goto out;
			naf_ccm_queued(n, b, peer);
		}
	}
	/* Push what is waiting (this and earlier) on the Ub answer itself. */
	if (resp == NULL || !gba_http_response_can_push(resp))
		goto out;
	rd->n = n;
	ret = gba_store_ccm_list(n->store, impi, 0, gba_time_now(), NAF_CCM_BATCH_MAX, round_cb,
	                         rd);
	if (ret == 0 && rd->err < 0)
		ret = rd->err;
	for (i = 0; ret == 0 && i < rd->k; i++) {
		ccm_path(path, rd->m[i].id);
		if (gba_http_response_push(resp, path, NAF_CCM_MEDIA, rd->m[i].der, rd->m[i].len) != 0)
			break;
		sent++;
	}
	round_mark(n, rd, sent);
out:
	if (rd != NULL)
		round_clear(rd);
	gba_free(rd);
	naf_ccm_batch_clear(b);
	gba_free(b);
	if (ret < 0)
		gba_log_err(MOD, "bootstrap CCMs: %s", gba_strerror(ret));
	return ret;
}
