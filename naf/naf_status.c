/*
 * naf_status.c - certificate status for relying parties (naf.h):
 *
 *   GET  /crl/<ca>.crl        the CA's full CRL, DER (application/pkix-crl)
 *   POST /ocsp                OCSP request (application/ocsp-request)
 *   GET  /ocsp/<base64>       the same request, base64 or base64url, may be
 *                             percent-encoded (RFC 6960 A.1, RFC 5019 5)
 *
 * Freshness.  The store's change counter (gba_store_status_epoch) moves
 * with every status change, in the transaction that makes it.  Every
 * request reads it first; when it moved past what this process has
 * seen, the change log says which (CA, serial) changed and their cached
 * responses are dropped before the request is answered.  An entry goes
 * into the cache only if the counter this process has seen did not move
 * between reading it and reading the certificate's status, so a response
 * computed from a status read before a change can never be stored after
 * the change was processed.  Hence: once `gba-ctl revoke` (or a CMC
 * revocation) has committed, every later request sees it.
 *
 * Pre-signing.  The background thread signs responses (SHA-1 CertIDs
 * with NULL parameters, the common form) for every certificate of every
 * CA that has not expired, and re-signs each once half of its lifetime
 * has passed; a request in another form is signed live once and cached
 * (those forms share a quarter of the cache).  Requests with a nonce, or
 * with several CertIDs, are signed live and never cached; at most
 * ocsp_live_max live signatures run at once (ocsp_answer).  Every pass
 * drops the entries that can no longer be served (sweep).
 *
 * Signing.  With a delegated responder (ocsp.pem) responses are signed by
 * it and carry its certificate, as long as it outlives them
 * (responder_for); otherwise by the issuing CA.  The
 * responderID is byKey.  Status: VALID is good, REVOKED is revoked with
 * its time and reason (unspecified is left out), HOLD is revoked with
 * certificateHold; a serial we did not issue under that CA is unknown
 * (cached for UNKNOWN_KEEP).  A request for a CA we do not run is
 * unauthorized; one that does not parse is malformedRequest.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gba_crl.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_time.h"
#include "naf_int.h"

#define MOD "naf-status"

#define OCSP_BUCKETS   4096u        /* power of two */
#define OCSP_MAX_REQ   8192u        /* request DER we accept */
#define OCSP_MAX_GET   12288u       /* the path after /ocsp/ */
#define CHANGES_FLUSH  4096u        /* more changes at once: drop everything */
#define CRL_NAME_MAX   (3u * GBA_STORE_MAX_CA)
#define ETAG_LEN       48u
#define PRESIGN_PAGE   256u         /* certificates read at a time */
#define CRL_RETRY_MIN  5            /* seconds before a failed CRL build is */
#define CRL_RETRY_MAX  300          /* tried again (doubling) */
#define UNKNOWN_KEEP   60           /* seconds an "unknown" answer is cached */

/* ---- per-CA facts, fixed after naf_status_new ---- */

/* Who signs OCSP responses: the delegated responder, or the CA itself. */
struct responder {
	const struct gba_signer *signer;          /* NULL: none */
	uint8_t kid[GBA_X509_KEY_ID_LEN];         /* responderID byKey */
	struct gba_blob cert;                     /* delegated: in certs */
	struct gba_oid sig_alg;
	int sig_null;
	int64_t not_before, not_after;            /* of its certificate */
};

struct status_ca {
	const struct naf_ca *ca;
	uint8_t name_sha1[20], name_sha256[32];   /* of the issuer's subject */
	uint8_t key_sha1[20], key_sha256[32];     /* of its subjectPublicKey */
	struct responder deleg;                   /* ocsp.pem; signer NULL without */
	struct responder own;                     /* the issuing CA */
	int deleg_warned;                         /* logged it is unusable
	                                           * (naf_status_new, passes) */
	/* the CRL */
	pthread_rwlock_t crl_lock;                /* crl, crl_etag */
	pthread_mutex_t crl_build;                /* one builder at a time, and: */
	int64_t crl_retry_at, crl_backoff;        /* after a failure */
	struct gba_crl_record crl;                /* number 0: none yet */
	char crl_etag[ETAG_LEN];
};

/* ---- the OCSP cache ---- */

struct ocsp_key {
	uint8_t ca, hash, params_null, serial_len;
	uint8_t serial[GBA_STORE_MAX_SERIAL];
};

struct ocsp_entry {
	struct ocsp_entry *next;
	struct ocsp_key k;
	int64_t this_update, next_update, refresh_at;
	int64_t not_after;                        /* the certificate's */
	int other;                                /* counts in other_max */
	char etag[ETAG_LEN];
	size_t len;
	uint8_t der[];
};

struct naf_status {
	const struct naf_status_conf *conf;
	struct status_ca cas[NAF_MAX_CAS];
	size_t ncas;
	pthread_rwlock_t lock;                    /* buckets, n, seen, stats */
	struct ocsp_entry *buckets[OCSP_BUCKETS];
	size_t n, n_other;                        /* entries; not in the
	                                           * pre-signed form */
	uint64_t seen;                            /* change counter processed */
	int primed;                               /* seen set by a first sync */
	uint64_t dropped;                         /* entries dropped by changes */
	uint64_t swept;                           /* ... by sweep */
	pthread_mutex_t sync;                     /* one change-log reader */
	struct naf_status_stats st;
	unsigned live;                            /* live signatures under way */
	pthread_mutex_t st_mu;                    /* st (counters), live */
	/* the background passes (the thread, or naf_status_pass) */
	uint64_t presigned_tag;                   /* the counter pre-signed at */
	int64_t next_presign;
	pthread_t th;
	int started, stop;
	pthread_mutex_t bg_mu;
	pthread_cond_t bg_cv;
	char *db, *key;
};

static int64_t status_now(const struct naf_status *s)
{
	return s->conf->clock != NULL ? s->conf->clock(s->conf->clock_ctx) : gba_time_now();
}

static void count(struct naf_status *s, uint64_t *field)
{
	pthread_mutex_lock(&s->st_mu);
	(*field)++;
	pthread_mutex_unlock(&s->st_mu);
}

/* A slot for one live signature (ocsp_live_max at once): 1, or 0 when
 * all are taken.  live_leave gives it back. */
static int live_enter(struct naf_status *s)
{
	int ok;

	pthread_mutex_lock(&s->st_mu);
	ok = s->live < s->conf->ocsp_live_max;
	if (ok)
		s->live++;
	pthread_mutex_unlock(&s->st_mu);
	return ok;
}

static void live_leave(struct naf_status *s)
{
	pthread_mutex_lock(&s->st_mu);
	s->live--;
	pthread_mutex_unlock(&s->st_mu);
}

void naf_status_conf_default(struct naf_status_conf *c)
{
	long ncpu;

	memset(c, 0, sizeof(*c));
	c->crl_lifetime_s = 86400;
	c->crl_max_age_s = 60;
	c->ocsp_max_age_s = 60;
	c->ocsp_lifetime_s = 3600;
	c->ocsp_cache_max = 100000;
	c->tick_ms = 2000;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);   /* -1 when unknown */
	c->ocsp_live_max = ncpu >= 4 ? (uint32_t)(ncpu < 512 ? ncpu / 2 : 256) : 1;
}

static size_t bucket_of(size_t ca, const uint8_t *serial, size_t len)
{
	uint32_t h = 2166136261u;   /* FNV-1a over (ca, serial): every CertID
	                             * form of one certificate shares a chain */
	size_t i;

	h = (h ^ (uint32_t)ca) * 16777619u;
	for (i = 0; i < len; i++)
		h = (h ^ serial[i]) * 16777619u;
	return h & (OCSP_BUCKETS - 1u);
}

static int key_eq(const struct ocsp_key *a, const struct ocsp_key *b)
{
	return a->ca == b->ca && a->hash == b->hash && a->params_null == b->params_null &&
	       a->serial_len == b->serial_len && memcmp(a->serial, b->serial, a->serial_len) == 0;
}

/* The form the background thread pre-signs (SHA-1, NULL parameters):
 * one per certificate we issued.  Every other form, and answers for
 * serials we did not issue, are the requester's choice: they share a
 * quarter of the cache (other_max; cache_put's other). */
static int key_presigned(const struct ocsp_key *k)
{
	return k->hash == GBA_HASH_SHA1 && k->params_null;
}

static size_t other_max(const struct naf_status *s)
{
	return s->conf->ocsp_cache_max / 4;
}

/* Unlink *pp and free it; the caller holds the write lock. */
static void entry_drop(struct naf_status *s, struct ocsp_entry **pp)
{
	struct ocsp_entry *e = *pp;

	*pp = e->next;
	if (e->other)
		s->n_other--;
	s->n--;
	gba_free(e);
}

/* Drop every form of (ca, serial); the caller holds the write lock. */
static void drop_serial(struct naf_status *s, size_t ca, const uint8_t *serial, size_t len)
{
	struct ocsp_entry **pp = &s->buckets[bucket_of(ca, serial, len)], *e;

	while ((e = *pp) != NULL) {
		if (e->k.ca == ca && e->k.serial_len == len && memcmp(e->k.serial, serial, len) == 0) {
			entry_drop(s, pp);
			s->dropped++;
			continue;
		}
		pp = &e->next;
	}
}

static void drop_all(struct naf_status *s)
{
	size_t i;

	for (i = 0; i < OCSP_BUCKETS; i++) {
		while (s->buckets[i] != NULL) {
			entry_drop(s, &s->buckets[i]);
			s->dropped++;
		}
	}
}

/*
 * Drop what can no longer be served: entries past refresh_at (answers
 * come only from fresher ones; the pre-signing pass that follows signs
 * the current certificates again) and entries of certificates that have
 * expired.  Run by every background pass, so that nothing stays pinned.
 */
static void sweep(struct naf_status *s, int64_t now)
{
	struct ocsp_entry **pp;
	size_t i;

	pthread_rwlock_wrlock(&s->lock);
	for (i = 0; i < OCSP_BUCKETS; i++) {
		pp = &s->buckets[i];
		while (*pp != NULL) {
			if ((*pp)->refresh_at <= now || (*pp)->not_after < now) {
				entry_drop(s, pp);
				s->swept++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	pthread_rwlock_unlock(&s->lock);
}

/* The ETag of a response or CRL: a quoted hex prefix of its SHA-256. */
static void make_etag(const uint8_t *p, size_t len, char out[ETAG_LEN])
{
	uint8_t h[32];
	char hex[65];

	if (gba_hash_fast(GBA_HASH_SHA256, p, len, h) < 0) {
		memcpy(out, "\"0\"", 4);
		return;
	}
	gba_hex_encode(h, 20, hex);
	out[0] = '"';
	memcpy(out + 1, hex, 40);
	out[41] = '"';
	out[42] = '\0';
}

/*
 * Store a signed response under k if the change counter is still tag
 * (nothing changed since the status was read) and there is room (other:
 * one of the requester's choice, key_presigned).  It is served until
 * refresh_at, and kept no longer than the certificate (not_after).
 */
static void cache_put(struct naf_status *s, const struct ocsp_key *k, uint64_t tag,
                      const uint8_t *der, size_t len, int64_t this_update, int64_t next_update,
                      int64_t refresh_at, int64_t not_after, int other)
{
	struct ocsp_entry *e, **pp;
	size_t b = bucket_of(k->ca, k->serial, k->serial_len);

	e = gba_malloc(sizeof(*e) + len);
	if (e == NULL)
		return;
	e->k = *k;
	e->this_update = this_update;
	e->next_update = next_update;
	e->refresh_at = refresh_at;
	if (e->refresh_at > this_update + (next_update - this_update) / 2)
		e->refresh_at = this_update + (next_update - this_update) / 2;
	e->not_after = not_after;
	e->other = other;
	make_etag(der, len, e->etag);
	e->len = len;
	memcpy(e->der, der, len);
	pthread_rwlock_wrlock(&s->lock);
	if (s->seen != tag) {
		pthread_rwlock_unlock(&s->lock);
		gba_free(e);
		return;
	}
	for (pp = &s->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
		if (key_eq(&(*pp)->k, k)) {
			struct ocsp_entry *old = *pp;

			if (other && !old->other && s->n_other >= other_max(s))
				break;   /* no room to change kind: keep the old */
			s->n_other += (size_t)other;
			s->n_other -= (size_t)old->other;
			e->next = old->next;
			*pp = e;
			gba_free(old);
			pthread_rwlock_unlock(&s->lock);
			return;
		}
	}
	if (*pp != NULL || s->n >= s->conf->ocsp_cache_max ||
	    (other && s->n_other >= other_max(s))) {
		pthread_rwlock_unlock(&s->lock);
		gba_free(e);
		return;
	}
	e->next = s->buckets[b];
	s->buckets[b] = e;
	s->n++;
	if (other)
		s->n_other++;
	pthread_rwlock_unlock(&s->lock);
}

/* ---- following the change counter ---- */

/* The (CA, serial) pairs that changed; few (revocations are rare). */
struct ocsp_change_list {
	struct ocsp_change_list *next;
	uint8_t ca, serial_len;
	uint8_t serial[GBA_STORE_MAX_SERIAL];
};

struct changes {
	struct naf_status *s;
	size_t total, read;
	uint64_t last;
	int flush;                        /* too many: drop the whole cache */
	struct ocsp_change_list *more;
};

static int ca_index(const struct naf_status *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ncas; i++)
		if (strcmp(s->cas[i].ca->name, name) == 0)
			return (int)i;
	return -1;
}

static int change_cb(void *ctx, uint64_t seq, const char *ca, const uint8_t *serial,
                     size_t len)
{
	struct changes *c = ctx;
	struct ocsp_change_list *l;
	int i = ca_index(c->s, ca);

	c->last = seq;
	c->read++;
	if (i < 0)
		return 0;   /* a CA this process does not serve */
	if (++c->total > CHANGES_FLUSH) {
		c->flush = 1;   /* the whole cache goes: no need to read on */
		return 1;
	}
	l = gba_malloc(sizeof(*l));
	if (l == NULL) {
		c->flush = 1;   /* cannot remember it: drop everything instead */
		return 1;
	}
	l->ca = (uint8_t)i;
	l->serial_len = (uint8_t)len;
	memcpy(l->serial, serial, len);
	l->next = c->more;
	c->more = l;
	return 0;
}

/*
 * Bring the cache up to the store's change counter.  *tag: the counter
 * processed, read after the cache was brought up to date; a status read
 * after this call reflects every change up to *tag.  The first call
 * only takes the counter: nothing was cached before it, so no change
 * before it has anything to drop.
 */
static int status_sync(struct naf_status *s, struct gba_store *st, uint64_t *tag)
{
	struct changes c;
	struct ocsp_change_list *l;
	uint64_t e = 0, seen;
	int ret, primed;

	ret = gba_store_status_epoch(st, &e);
	if (ret < 0)
		return ret;
	pthread_rwlock_rdlock(&s->lock);
	seen = s->seen;
	primed = s->primed;
	pthread_rwlock_unlock(&s->lock);
	if (!primed || e > seen) {
		pthread_mutex_lock(&s->sync);
		pthread_rwlock_rdlock(&s->lock);
		seen = s->seen;
		primed = s->primed;
		pthread_rwlock_unlock(&s->lock);
		if (!primed) {
			pthread_rwlock_wrlock(&s->lock);
			s->seen = e;
			s->primed = 1;
			pthread_rwlock_unlock(&s->lock);
		} else if (e > seen) {
			memset(&c, 0, sizeof(c));
			c.s = s;
			ret = gba_store_status_changes(st, seen, change_cb, &c);
			if (ret > 0 && c.flush)
				ret = 0;   /* stopped early on purpose */
			pthread_mutex_lock(&s->st_mu);
			s->st.changes_read += c.read;
			pthread_mutex_unlock(&s->st_mu);
			pthread_rwlock_wrlock(&s->lock);
			if (ret == 0) {
				if (c.flush)
					drop_all(s);
				for (l = c.more; l != NULL && !c.flush; l = l->next)
					drop_serial(s, l->ca, l->serial, l->serial_len);
				s->seen = c.last > e ? c.last : e;
			}
			pthread_rwlock_unlock(&s->lock);
			while (c.more != NULL) {
				l = c.more;
				c.more = l->next;
				gba_free(l);
			}
		}
		pthread_mutex_unlock(&s->sync);
		if (ret < 0)
			return ret;
	}
	pthread_rwlock_rdlock(&s->lock);
	*tag = s->seen;
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

/* ---- set-up ---- */

static int responder_facts(struct responder *r, const struct gba_signer *g, int delegated)
{
	struct gba_cert_info ri;
	const uint8_t *der;
	size_t len;
	int ret;

	memset(&ri, 0, sizeof(ri));
	r->signer = g;
	der = gba_signer_cert(g, &len);
	ret = gba_x509_cert_info(der, len, &ri);
	if (ret == 0)
		ret = gba_x509_spki_key_id(ri.spki, ri.spki_len, r->kid);
	if (ret < 0)
		goto out;
	if (delegated) {
		r->cert.p = der;
		r->cert.len = len;
	}
	r->not_before = ri.not_before;
	r->not_after = ri.not_after;
	r->sig_alg.p = gba_signer_sig_oid(g, &r->sig_alg.len);
	r->sig_null = gba_key_is_rsa(gba_signer_key(g));
out:
	gba_cert_info_clear(&ri);
	return ret;
}

/* The delegated responder while it outlives what it would sign (now +
 * the OCSP lifetime), else the issuing CA. */
static const struct responder *responder_for(const struct naf_status *s,
                                             const struct status_ca *c, int64_t now)
{
	const struct responder *d = &c->deleg;

	if (d->signer != NULL && now >= d->not_before &&
	    now <= d->not_after - (int64_t)s->conf->ocsp_lifetime_s)
		return d;
	return &c->own;
}

/* Say once (error) when a CA's delegated responder is, or is about to
 * be, unusable: ocsp.pem needs renewing; the CA signs meanwhile. */
static void responder_check(struct naf_status *s, int64_t now)
{
	struct status_ca *c;
	char t[GBA_TIME_RFC3339_LEN + 1];
	size_t i;

	for (i = 0; i < s->ncas; i++) {
		c = &s->cas[i];
		if (c->deleg.signer == NULL || c->deleg_warned || responder_for(s, c, now) != &c->own)
			continue;
		if (gba_time_rfc3339(c->deleg.not_after, t) < 0)
			memcpy(t, "?", 2);
		gba_log_err(MOD, "the OCSP responder certificate of %s (ocsp.pem) is not valid "
		            "for the next %u s (notAfter %s): the issuing CA signs instead",
		            c->ca->name, s->conf->ocsp_lifetime_s, t);
		c->deleg_warned = 1;
	}
}

static int ca_facts(struct status_ca *c, const struct naf_ca *ca)
{
	struct gba_cert_info ci;
	const uint8_t *der;
	size_t len;
	int ret;

	memset(&ci, 0, sizeof(ci));
	c->ca = ca;
	der = gba_signer_cert(ca->issuer, &len);
	ret = gba_x509_cert_info(der, len, &ci);
	if (ret == 0)
		ret = gba_hash_fast(GBA_HASH_SHA1, ci.subject_der, ci.subject_der_len, c->name_sha1);
	if (ret == 0)
		ret = gba_hash_fast(GBA_HASH_SHA256, ci.subject_der, ci.subject_der_len,
		                    c->name_sha256);
	if (ret == 0)
		ret = gba_x509_spki_key_hash(ci.spki, ci.spki_len, GBA_HASH_SHA1, c->key_sha1);
	if (ret == 0)
		ret = gba_x509_spki_key_hash(ci.spki, ci.spki_len, GBA_HASH_SHA256, c->key_sha256);
	if (ret == 0)
		ret = responder_facts(&c->own, ca->issuer, 0);
	if (ret == 0 && ca->ocsp != NULL)
		ret = responder_facts(&c->deleg, ca->ocsp, 1);
	gba_cert_info_clear(&ci);
	return ret;
}

int naf_status_new(struct naf_status **out, const struct naf_ca *cas, size_t ncas,
                   const struct naf_status_conf *conf)
{
	struct naf_status *s;
	size_t i;
	int ret;

	*out = NULL;
	if (cas == NULL || ncas == 0 || ncas > NAF_MAX_CAS || conf == NULL ||
	    conf->crl_lifetime_s < GBA_CRL_MIN_LIFETIME ||
	    conf->crl_lifetime_s > GBA_CRL_MAX_LIFETIME || conf->ocsp_lifetime_s < 60 ||
	    conf->ocsp_lifetime_s > 7u * 86400u || conf->tick_ms < 10 || conf->tick_ms > 600000 ||
	    conf->ocsp_live_max < 1)
		return GBA_EINVAL;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return GBA_ENOMEM;
	s->conf = conf;
	s->presigned_tag = UINT64_MAX;
	pthread_rwlock_init(&s->lock, NULL);
	pthread_mutex_init(&s->sync, NULL);
	pthread_mutex_init(&s->st_mu, NULL);
	pthread_mutex_init(&s->bg_mu, NULL);
	pthread_cond_init(&s->bg_cv, NULL);
	for (i = 0; i < ncas; i++) {
		pthread_rwlock_init(&s->cas[i].crl_lock, NULL);
		pthread_mutex_init(&s->cas[i].crl_build, NULL);
		s->ncas++;
		ret = ca_facts(&s->cas[i], &cas[i]);
		if (ret < 0) {
			naf_status_free(s);
			return ret;
		}
	}
	responder_check(s, status_now(s));
	*out = s;
	return 0;
}

void naf_status_stats(struct naf_status *s, struct naf_status_stats *out)
{
	pthread_mutex_lock(&s->st_mu);
	*out = s->st;
	out->ocsp_live_now = s->live;
	pthread_mutex_unlock(&s->st_mu);
	pthread_rwlock_rdlock(&s->lock);
	out->ocsp_cached = s->n;
	out->ocsp_dropped = s->dropped;
	out->ocsp_swept = s->swept;
	pthread_rwlock_unlock(&s->lock);
}

/* ---- CRLs ---- */

/*
 * Make sure cas[i] holds the current CRL (built or read from the store).
 * When that fails, the CRL held stays in use until its nextUpdate unless
 * strict (it is a valid CRL, if an older one), and nobody tries again
 * for crl_backoff seconds (CRL_RETRY_MIN, doubling up to CRL_RETRY_MAX):
 * a broken store does not cost a CRL build per request.
 */
static int crl_ensure(struct naf_status *s, struct gba_store *st, size_t i, int64_t now,
                      int strict)
{
	struct status_ca *c = &s->cas[i];
	struct gba_crl_maker m;
	struct gba_crl_record rec, old;
	uint64_t epoch = 0;
	int ok, ret, due;

	ret = gba_store_ca_epoch(st, c->ca->name, &epoch);
	pthread_rwlock_rdlock(&c->crl_lock);
	ok = ret == 0 && c->crl.number > 0 && gba_crl_is_current(&c->crl, epoch, now);
	pthread_rwlock_unlock(&c->crl_lock);
	if (ok)
		return 0;
	pthread_mutex_lock(&c->crl_build);
	pthread_rwlock_rdlock(&c->crl_lock);
	ok = ret == 0 && c->crl.number > 0 && gba_crl_is_current(&c->crl, epoch, now);
	pthread_rwlock_unlock(&c->crl_lock);
	due = now >= c->crl_retry_at;
	if (!ok && ret == 0 && !due) {
		ret = GBA_ESTATE;   /* backing off after a failure */
	} else if (!ok && ret == 0) {
		m.ca = c->ca->name;
		m.issuer = c->ca->issuer;
		m.lifetime_s = s->conf->crl_lifetime_s;
		ret = gba_crl_current(st, &m, now, 0, &rec);
		if (ret == 0) {
			pthread_rwlock_wrlock(&c->crl_lock);
			old = c->crl;
			c->crl = rec;
			make_etag(rec.der, rec.der_len, c->crl_etag);
			pthread_rwlock_unlock(&c->crl_lock);
			gba_crl_record_clear(&old);
			c->crl_backoff = 0;
			c->crl_retry_at = 0;
			count(s, &s->st.crl_builds);
		}
	}
	if (ret < 0 && due) {
		c->crl_backoff = c->crl_backoff == 0 ? CRL_RETRY_MIN
		                 : c->crl_backoff < CRL_RETRY_MAX / 2 ? 2 * c->crl_backoff
		                                                      : CRL_RETRY_MAX;
		c->crl_retry_at = now + c->crl_backoff;
		count(s, &s->st.crl_failures);
		gba_log_err(MOD, "CRL of %s: %s (next attempt in %lld s)", c->ca->name,
		            gba_strerror(ret), (long long)c->crl_backoff);
	}
	if (ret < 0 && !strict) {
		pthread_rwlock_rdlock(&c->crl_lock);
		if (c->crl.number > 0 && now < c->crl.next_update)
			ret = 0;   /* the last one made is still valid */
		pthread_rwlock_unlock(&c->crl_lock);
	}
	pthread_mutex_unlock(&c->crl_build);
	return ret;
}

int naf_crl_copy(struct naf *n, const struct naf_ca *ca, size_t max, uint8_t **der,
                 size_t *len)
{
	struct naf_status *s = n->conf->status;
	struct gba_crl_maker m;
	struct gba_crl_record rec;
	int i, ret;

	*der = NULL;
	*len = 0;
	if (s == NULL) {   /* no status service: straight from the store */
		m.ca = ca->name;
		m.issuer = ca->issuer;
		m.lifetime_s = 86400;
		ret = gba_crl_current(n->store, &m, gba_time_now(), 0, &rec);
		if (ret == 0 && rec.der_len > max) {
			gba_crl_record_clear(&rec);
			ret = GBA_ETOOBIG;
		}
		if (ret == 0) {
			*der = rec.der;
			*len = rec.der_len;
		}
		return ret;
	}
	i = ca_index(s, ca->name);
	if (i < 0)
		return GBA_ENOTFOUND;
	ret = crl_ensure(s, n->store, (size_t)i, status_now(s), 1);
	if (ret < 0)
		return ret;
	pthread_rwlock_rdlock(&s->cas[i].crl_lock);
	if (s->cas[i].crl.der_len > max) {
		ret = GBA_ETOOBIG;
	} else {
		*der = gba_malloc(s->cas[i].crl.der_len);
		ret = *der != NULL ? 0 : GBA_ENOMEM;
	}
	if (ret == 0) {
		memcpy(*der, s->cas[i].crl.der, s->cas[i].crl.der_len);
		*len = s->cas[i].crl.der_len;
	}
	pthread_rwlock_unlock(&s->cas[i].crl_lock);
	return ret;
}

/* ---- HTTP helpers ---- */

static void set_date(struct gba_http_response *resp, const char *name, int64_t t, int *err)
{
	char d[GBA_TIME_HTTP_LEN + 1];

	if (gba_time_http(t, d) == 0)
		naf_header(resp, name, d, err);
}

/*
 * Cache headers for a response valid until next_update (RFC 5019 6.2),
 * which HTTP caches may keep for at most cap seconds: max-age and
 * Expires say the same, so that an HTTP/1.0 cache (Expires only) does
 * not keep it longer than the others.
 */
static void cache_headers(struct gba_http_response *resp, int64_t now, int64_t this_update,
                          int64_t next_update, int64_t cap, const char *etag, int *err)
{
	char cc[96];
	int64_t age = next_update - now;

	if (age < 0)
		age = 0;
	if (age > cap)
		age = cap;
	set_date(resp, "Last-Modified", this_update, err);
	set_date(resp, "Expires", now + age, err);
	snprintf(cc, sizeof(cc), "max-age=%lld, public, no-transform, must-revalidate",
	         (long long)age);
	naf_header(resp, "Cache-Control", cc, err);
	naf_header(resp, "ETag", etag, err);
}

/* Does an If-None-Match header name etag (or "*")? */
static int none_match(const struct gba_http_request *req, const char *etag)
{
	const struct gba_str *h = gba_http_header_get(req, "if-none-match");
	size_t i = 0, j, el = strlen(etag);

	if (h == NULL)
		return 0;
	while (i < h->len) {
		while (i < h->len && (h->p[i] == ' ' || h->p[i] == '\t' || h->p[i] == ','))
			i++;
		if (i + 2 <= h->len && h->p[i] == 'W' && h->p[i + 1] == '/')
			i += 2;
		for (j = i; j < h->len && h->p[j] != ','; j++)
			;
		while (j > i && (h->p[j - 1] == ' ' || h->p[j - 1] == '\t'))
			j--;
		if ((j - i == 1 && h->p[i] == '*') || (j - i == el && memcmp(h->p + i, etag, el) == 0))
			return 1;
		while (i < h->len && h->p[i] != ',')
			i++;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode p[0..len) into out (cap bytes); -1 on a bad escape, a
 * NUL or overflow. */
static int pct_decode(const char *p, size_t len, char *out, size_t cap, size_t *olen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)p[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o >= cap)
			return -1;
		out[o++] = (char)c;
	}
	*olen = o;
	return 0;
}

int naf_url_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (o + (plain ? 1 : 3) >= cap)
			return GBA_ETOOBIG;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= cap)
		return GBA_ETOOBIG;
	out[o] = '\0';
	return 0;
}

static int method_is(const struct gba_http_request *req, const char *m)
{
	size_t n = strlen(m);

	return req->method.len == n && memcmp(req->method.p, m, n) == 0;
}

/* ---- GET /crl/<ca>.crl ---- */

void naf_crl_handle(struct naf *n, const struct gba_http_request *req,
                    struct gba_http_response *resp)
{
	struct naf_status *s = n->conf->status;
	struct status_ca *c;
	const size_t plen = sizeof(NAF_CRL_PREFIX) - 1;
	char name[CRL_NAME_MAX + 1];
	size_t nlen = 0, i, rest;
	int64_t now = status_now(s);
	int ret, err = 0, idx;

	if (s == NULL) {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
		(void)gba_http_response_status(resp, 405);
		naf_header(resp, "Allow", "GET, HEAD", &err);
		return;
	}
	/* /crl/<name>.crl, no query */
	rest = req->path.len - plen;
	if (rest <= 4 || memcmp(req->path.p + req->path.len - 4, ".crl", 4) != 0 ||
	    memchr(req->path.p + plen, '?', rest) != NULL ||
	    memchr(req->path.p + plen, '/', rest) != NULL ||
	    pct_decode(req->path.p + plen, rest - 4, name, CRL_NAME_MAX, &nlen) < 0) {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	name[nlen] = '\0';
	idx = -1;
	for (i = 0; i < s->ncas; i++)
		if (strlen(s->cas[i].ca->name) == nlen && memcmp(s->cas[i].ca->name, name, nlen) == 0)
			idx = (int)i;
	if (idx < 0) {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	c = &s->cas[idx];
	ret = crl_ensure(s, n->store, (size_t)idx, now, 0);
	if (ret < 0) {
		(void)gba_http_response_status(resp, 503);
		naf_header(resp, "Retry-After", "5", &err);
		return;
	}
	pthread_rwlock_rdlock(&c->crl_lock);
	set_date(resp, "Date", now, &err);
	naf_header(resp, "Content-Type", "application/pkix-crl", &err);
	cache_headers(resp, now, c->crl.this_update, c->crl.next_update,
	              (int64_t)s->conf->crl_max_age_s, c->crl_etag, &err);
	if (none_match(req, c->crl_etag)) {
		ret = gba_http_response_status(resp, 304);
	} else {
		ret = gba_http_response_body(resp, c->crl.der, c->crl.der_len);
		if (ret == 0)
			ret = gba_http_response_status(resp, 200);
	}
	pthread_rwlock_unlock(&c->crl_lock);
	if (ret == GBA_ETOOBIG)
		gba_log_err(MOD, "CRL of %s is over the HTTP response cap: not served "
		            "(gba-ctl crl writes it)", c->ca->name);
	if (ret < 0 || err)
		(void)gba_http_response_status(resp, ret == GBA_ETOOBIG ? 503 : 500);
}

/* ---- OCSP ---- */

/* The CA a CertID names (by both hashes), or -1. */
static int certid_ca(const struct naf_status *s, const struct gba_ocsp_certid *id)
{
	size_t i;

	for (i = 0; i < s->ncas; i++) {
		const struct status_ca *c = &s->cas[i];
		const uint8_t *nh = id->hash == GBA_HASH_SHA1 ? c->name_sha1 : c->name_sha256;
		const uint8_t *kh = id->hash == GBA_HASH_SHA1 ? c->key_sha1 : c->key_sha256;

		if (memcmp(id->name_hash.p, nh, id->name_hash.len) == 0 &&
		    memcmp(id->key_hash.p, kh, id->key_hash.len) == 0)
			return (int)i;
	}
	return -1;
}

/* The single response for one CertID of CA ci (-1: foreign: unknown),
 * from the store.  *known: good or revoked (cacheable), and then
 * *not_after is the certificate's. */
static int single_for(struct naf_status *s, struct gba_store *st, int ci,
                      const struct gba_ocsp_certid *id, int64_t now, struct gba_ocsp_single *o,
                      int *known, int64_t *not_after)
{
	struct gba_cert_record r;
	int ret;

	memset(o, 0, sizeof(*o));
	o->id = *id;
	o->status = GBA_OCSP_UNKNOWN;
	o->reason = GBA_CRL_REASON_NONE;
	o->this_update = now;
	o->next_update = now + (int64_t)s->conf->ocsp_lifetime_s;
	*known = 0;
	if (ci < 0 || id->serial.len == 0 || id->serial.len > GBA_STORE_MAX_SERIAL)
		return 0;
	ret = gba_store_cert_get(st, id->serial.p, id->serial.len, &r);
	if (ret == GBA_ENOTFOUND || ret == GBA_EINVAL)
		return 0;   /* not ours, or not a serial we could have issued */
	if (ret < 0)
		return ret;
	if (strcmp(r.ca, s->cas[ci].ca->name) == 0) {
		*known = 1;
		*not_after = r.not_after;
		if (r.status == GBA_CERT_VALID) {
			o->status = GBA_OCSP_GOOD;
		} else {
			o->status = GBA_OCSP_REVOKED;
			o->revoked_at = r.revoked_at;
			if (r.status == GBA_CERT_HOLD)
				o->reason = GBA_CRL_REASON_CERTIFICATE_HOLD;
			else if (r.reason != GBA_CRL_REASON_UNSPECIFIED)
				o->reason = r.reason;
		}
	}
	gba_cert_record_clear(&r);
	return 0;
}

/* Sign singles[0..n) for CA c at now; their nextUpdate is cut to the
 * signer certificate's notAfter. */
static int ocsp_sign(const struct naf_status *s, const struct status_ca *c,
                     struct gba_ocsp_single *singles, size_t n, struct gba_blob nonce,
                     int64_t now, uint8_t **der, size_t *len)
{
	const struct responder *r = responder_for(s, c, now);
	struct gba_ocsp_resp_build b;
	size_t i;

	for (i = 0; i < n; i++)
		if (singles[i].next_update > r->not_after)
			singles[i].next_update = r->not_after;
	memset(&b, 0, sizeof(b));
	b.responder_key_hash.p = r->kid;
	b.responder_key_hash.len = sizeof(r->kid);
	b.produced_at = now;
	b.responses = singles;
	b.nresponses = n;
	b.nonce = nonce;
	b.sig_alg = r->sig_alg;
	b.sig_alg_null_params = r->sig_null;
	if (r->cert.len > 0) {
		b.certs = &r->cert;
		b.ncerts = 1;
	}
	b.sign = gba_signer_sign;
	b.sign_ctx = (void *)(uintptr_t)r->signer;   /* signing does not change it */
	return gba_ocsp_response_build(&b, der, len);
}

static void ocsp_error(struct gba_http_response *resp, enum gba_ocsp_resp_status st)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int err = 0;

	if (gba_ocsp_error_build(st, &der, &len) < 0) {
		(void)gba_http_response_status(resp, 500);
		return;
	}
	naf_header(resp, "Content-Type", "application/ocsp-response", &err);
	naf_header(resp, "Cache-Control", "no-store", &err);
	if (err == 0 && gba_http_response_body(resp, der, len) == 0)
		(void)gba_http_response_status(resp, 200);
	else
		(void)gba_http_response_status(resp, 500);
	gba_free(der);
}

static void ocsp_send(const struct naf_status *s, struct gba_http_response *resp,
                      const uint8_t *der, size_t len, int cacheable, int64_t now,
                      int64_t this_update, int64_t next_update, const char *etag)
{
	int err = 0;

	set_date(resp, "Date", now, &err);
	naf_header(resp, "Content-Type", "application/ocsp-response", &err);
	if (cacheable)
		cache_headers(resp, now, this_update, next_update,
		              (int64_t)s->conf->ocsp_max_age_s, etag, &err);
	else
		naf_header(resp, "Cache-Control", "no-store", &err);
	if (err == 0 && gba_http_response_body(resp, der, len) == 0)
		(void)gba_http_response_status(resp, 200);
	else
		(void)gba_http_response_status(resp, 500);
}

/* A hit: copy the cached response out under the read lock. */
static int cache_answer(struct naf_status *s, const struct ocsp_key *k, int64_t now,
                        struct gba_http_response *resp)
{
	struct ocsp_entry *e;
	int hit = 0;

	pthread_rwlock_rdlock(&s->lock);
	for (e = s->buckets[bucket_of(k->ca, k->serial, k->serial_len)]; e != NULL; e = e->next) {
		if (key_eq(&e->k, k)) {
			if (now < e->refresh_at && now >= e->this_update - 300) {
				ocsp_send(s, resp, e->der, e->len, 1, now, e->this_update,
				          e->next_update, e->etag);
				hit = 1;
			}
			break;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	if (hit)
		count(s, &s->st.ocsp_hits);
	return hit;
}

static void make_key(struct ocsp_key *k, int ci, const struct gba_ocsp_certid *id)
{
	memset(k, 0, sizeof(*k));
	k->ca = (uint8_t)ci;
	k->hash = (uint8_t)id->hash;
	k->params_null = (uint8_t)(id->hash_params_null != 0);
	k->serial_len = (uint8_t)id->serial.len;
	memcpy(k->serial, id->serial.p, id->serial.len);
}

/*
 * Answer one parsed request: from the cache when it can, else from the
 * store with a live signature.  Live signatures cost a private-key
 * operation each and anyone may ask: at most ocsp_live_max run at once;
 * beyond that a single CertID with a nonce gets the cached answer
 * without the nonce (what an RFC 5019 responder sends anyway), anything
 * else tryLater.  Answers for one CertID without a nonce are cached:
 * good and revoked ones (cache_put), and "unknown" for UNKNOWN_KEEP
 * seconds, so that repeating a request costs one signature a minute.
 */
static void ocsp_answer(struct naf *n, const struct gba_ocsp_req_view *v,
                        struct gba_http_response *resp)
{
	struct naf_status *s = n->conf->status;
	struct gba_ocsp_single singles[GBA_OCSP_MAX_CERTIDS];
	struct ocsp_key k;
	struct gba_blob nonce = { NULL, 0 };
	uint8_t *der = NULL;
	size_t len = 0, i;
	int64_t now = status_now(s), keep;
	uint64_t tag = 0;
	int64_t not_after = 0;
	int ci[GBA_OCSP_MAX_CERTIDS], ours = 0, known = 0, first = -1, one, ret;
	char etag[ETAG_LEN];

	memset(&k, 0, sizeof(k));
	for (i = 0; i < v->nids; i++) {
		ci[i] = certid_ca(s, &v->ids[i]);
		if (ci[i] >= 0) {
			ours++;
			if (first < 0)
				first = ci[i];
		}
	}
	if (ours == 0) {
		ocsp_error(resp, GBA_OCSP_UNAUTHORIZED);
		return;
	}
	/* up to date with every committed status change before answering */
	ret = status_sync(s, n->store, &tag);
	if (ret < 0) {
		gba_log_err(MOD, "change counter: %s", gba_strerror(ret));
		ocsp_error(resp, GBA_OCSP_TRY_LATER);
		return;
	}
	one = v->nids == 1 && v->ids[0].serial.len <= GBA_STORE_MAX_SERIAL;   /* keyed */
	if (one)
		make_key(&k, ci[0], &v->ids[0]);
	if (one && !v->has_nonce && cache_answer(s, &k, now, resp))
		return;
	if (!live_enter(s)) {
		count(s, &s->st.ocsp_busy);
		if (!(one && v->has_nonce && cache_answer(s, &k, now, resp)))
			ocsp_error(resp, GBA_OCSP_TRY_LATER);
		return;
	}
	now = status_now(s);   /* this signature's time */
	for (i = 0; i < v->nids; i++) {
		int kn = 0;

		ret = single_for(s, n->store, ci[i], &v->ids[i], now, &singles[i], &kn, &not_after);
		if (ret < 0) {
			live_leave(s);
			gba_log_err(MOD, "status lookup: %s", gba_strerror(ret));
			ocsp_error(resp, GBA_OCSP_TRY_LATER);
			return;
		}
		known += kn;
	}
	if (v->has_nonce)
		nonce = v->nonce;
	/* several CertIDs may name several of our CAs: the first one signs
	 * (a client checks the responder against each issuer; RFC 5019 asks
	 * for one CertID per request anyway) */
	ret = ocsp_sign(s, &s->cas[first], singles, v->nids, nonce, now, &der, &len);
	live_leave(s);
	if (ret < 0) {
		gba_log_err(MOD, "signing an OCSP response: %s", gba_strerror(ret));
		ocsp_error(resp, GBA_OCSP_INTERNAL_ERROR);
		return;
	}
	count(s, &s->st.ocsp_signed_live);
	if (one && !v->has_nonce) {
		keep = (int64_t)s->conf->ocsp_lifetime_s / 2;
		if (known == 0) {
			keep = keep < UNKNOWN_KEEP ? keep : UNKNOWN_KEEP;
			not_after = now + keep;
		}
		cache_put(s, &k, tag, der, len, singles[0].this_update, singles[0].next_update,
		          singles[0].this_update + keep, not_after,
		          known == 0 || !key_presigned(&k));
		make_etag(der, len, etag);
		ocsp_send(s, resp, der, len, 1, now, singles[0].this_update,
		          singles[0].next_update, etag);
	} else {
		ocsp_send(s, resp, der, len, 0, now, 0, 0, NULL);
	}
	gba_free(der);
}

/* base64 or base64url, padding optional, into out. */
static int b64_any(const char *in, size_t len, uint8_t *out, size_t cap, size_t *olen)
{
	char *t;
	size_t i, n = len;
	int ret;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return GBA_ESYNTAX;
	t = gba_malloc(n + 4);
	if (t == NULL)
		return GBA_ENOMEM;
	for (i = 0; i < n; i++)
		t[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (i % 4 != 0)
		t[i++] = '=';
	ret = gba_base64_decode(t, i, out, cap);
	gba_free(t);
	if (ret < 0)
		return ret;
	*olen = (size_t)ret;
	return 0;
}

void naf_ocsp_handle(struct naf *n, const struct gba_http_request *req,
                     struct gba_http_response *resp)
{
	struct naf_status *s = n->conf->status;
	struct gba_der_error derr = { 0, NULL };
	struct gba_ocsp_req_view v;
	struct gba_ocsp_msg *msg = NULL;
	struct gba_str type, params;
	const size_t plen = sizeof(NAF_OCSP_PATH) - 1;
	const uint8_t *body;
	uint8_t *buf = NULL;
	char *path = NULL;
	size_t blen = 0, pl = 0;
	int err = 0, ret;

	if (s == NULL) {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	if (method_is(req, "POST") && req->path.len == plen) {
		static const char ct[] = "application/ocsp-request";

		if (naf_media_type(req, &type, &params) &&
		    !(type.len == sizeof(ct) - 1 && strncasecmp(type.p, ct, sizeof(ct) - 1) == 0)) {
			(void)gba_http_response_status(resp, 415);
			return;
		}
		if (req->body_len > OCSP_MAX_REQ) {
			(void)gba_http_response_status(resp, 413);
			return;
		}
		body = req->body;
		blen = req->body_len;
	} else if ((method_is(req, "GET") || method_is(req, "HEAD")) && req->path.len == plen + 1 &&
	           req->path.p[plen] == '/') {
		ocsp_error(resp, GBA_OCSP_MALFORMED_REQUEST);   /* GET /ocsp/: an empty request */
		return;
	} else if ((method_is(req, "GET") || method_is(req, "HEAD")) && req->path.len > plen + 1 &&
	           req->path.p[plen] == '/') {
		pl = req->path.len - plen - 1;
		if (pl > OCSP_MAX_GET) {
			(void)gba_http_response_status(resp, 414);
			return;
		}
		path = gba_malloc(pl + 1);
		buf = gba_malloc(OCSP_MAX_REQ);
		if (path == NULL || buf == NULL) {
			ocsp_error(resp, GBA_OCSP_INTERNAL_ERROR);
			goto out;
		}
		if (pct_decode(req->path.p + plen + 1, pl, path, pl, &pl) < 0 ||
		    b64_any(path, pl, buf, OCSP_MAX_REQ, &blen) < 0) {
			ocsp_error(resp, GBA_OCSP_MALFORMED_REQUEST);
			goto out;
		}
		body = buf;
	} else if (req->path.len == plen || req->path.p[plen] == '/') {
		(void)gba_http_response_status(resp, 405);
		naf_header(resp, "Allow", "GET, HEAD, POST", &err);
		return;
	} else {
		(void)gba_http_response_status(resp, 404);
		return;
	}
	ret = gba_ocsp_request_parse(body, blen, &v, &msg, &derr);
	if (ret < 0) {
		gba_log_info(MOD, "malformed OCSP request from %s: %s at %zu", req->peer,
		             derr.reason != NULL ? derr.reason : gba_strerror(ret), derr.offset);
		ocsp_error(resp, gba_is_fatal(ret) ? GBA_OCSP_INTERNAL_ERROR :
		                 GBA_OCSP_MALFORMED_REQUEST);
		goto out;
	}
	ocsp_answer(n, &v, resp);
out:
	gba_ocsp_msg_free(msg);
	gba_free(path);
	gba_free(buf);
}

/* ---- the background thread ---- */

static int stopping(struct naf_status *s)
{
	int stop;

	pthread_mutex_lock(&s->bg_mu);
	stop = s->stop;
	pthread_mutex_unlock(&s->bg_mu);
	return stop;
}

void naf_status_stop(struct naf_status *s)
{
	pthread_mutex_lock(&s->bg_mu);
	s->stop = 1;
	pthread_cond_signal(&s->bg_cv);
	pthread_mutex_unlock(&s->bg_mu);
}

struct presign_ctx {
	struct naf_status *s;
	size_t ci;
	uint64_t tag;
	/* where the next page starts: the last certificate seen */
	int64_t after_not_after;
	uint8_t after[GBA_STORE_MAX_SERIAL];
	size_t after_len;
};

/* Sign (and cache) certificate r's answer unless a fresh one is cached;
 * 1 once the service is stopping. */
/* The single response for a stored certificate of CA c, with a SHA-1
 * CertID (RFC 5019), borrowing r's serial. */
static void single_of(const struct naf_status *s, const struct status_ca *c,
                      const struct gba_cert_record *r, int64_t now, struct gba_ocsp_single *one)
{
	memset(one, 0, sizeof(*one));
	one->id.hash = GBA_HASH_SHA1;
	one->id.hash_params_null = 1;
	one->id.name_hash.p = c->name_sha1;
	one->id.name_hash.len = sizeof(c->name_sha1);
	one->id.key_hash.p = c->key_sha1;
	one->id.key_hash.len = sizeof(c->key_sha1);
	one->id.serial.p = r->serial;
	one->id.serial.len = r->serial_len;
	one->this_update = now;
	one->next_update = now + (int64_t)s->conf->ocsp_lifetime_s;
	one->reason = GBA_CRL_REASON_NONE;
	if (r->status == GBA_CERT_VALID) {
		one->status = GBA_OCSP_GOOD;
	} else {
		one->status = GBA_OCSP_REVOKED;
		one->revoked_at = r->revoked_at;
		if (r->status == GBA_CERT_HOLD)
			one->reason = GBA_CRL_REASON_CERTIFICATE_HOLD;
		else if (r->reason != GBA_CRL_REASON_UNSPECIFIED)
			one->reason = r->reason;
	}
}

int naf_ocsp_for(struct naf *n, const struct gba_cert_record *r, uint8_t **der, size_t *len)
{
	struct naf_status *s = n->conf->status;
	struct gba_ocsp_single one;
	int64_t now;
	int ci;

	*der = NULL;
	*len = 0;
	if (s == NULL)
		return GBA_ENOTFOUND;
	ci = ca_index(s, r->ca);
	if (ci < 0)
		return GBA_ENOTFOUND;
	now = status_now(s);
	single_of(s, &s->cas[ci], r, now, &one);
	return ocsp_sign(s, &s->cas[ci], &one, 1, (struct gba_blob){ NULL, 0 }, now, der, len);
}

static int presign_cb(void *ctx, const struct gba_cert_record *r)
{
	struct presign_ctx *p = ctx;
	struct naf_status *s = p->s;
	struct status_ca *c = &s->cas[p->ci];
	struct gba_ocsp_single one;
	struct ocsp_key k;
	struct ocsp_entry *e;
	uint8_t *der = NULL;
	size_t len = 0;
	int fresh = 0, exists = 0, full, ret;
	int64_t margin = (int64_t)s->conf->tick_ms / 1000 * 2 + 2, now;

	if (stopping(s))
		return 1;
	p->after_not_after = r->not_after;
	memcpy(p->after, r->serial, r->serial_len);
	p->after_len = r->serial_len;
	now = status_now(s);   /* this signature's time */

	memset(&k, 0, sizeof(k));
	k.ca = (uint8_t)p->ci;
	k.hash = GBA_HASH_SHA1;
	k.params_null = 1;
	k.serial_len = (uint8_t)r->serial_len;
	memcpy(k.serial, r->serial, r->serial_len);
	pthread_rwlock_rdlock(&s->lock);
	full = s->n >= s->conf->ocsp_cache_max;
	for (e = s->buckets[bucket_of(k.ca, k.serial, k.serial_len)]; e != NULL; e = e->next)
		if (key_eq(&e->k, &k)) {
			exists = 1;
			fresh = e->refresh_at > now + margin;
		}
	pthread_rwlock_unlock(&s->lock);
	if (fresh || (full && !exists))
		return 0;
	single_of(s, c, r, now, &one);
	ret = ocsp_sign(s, c, &one, 1, (struct gba_blob){ NULL, 0 }, now, &der, &len);
	if (ret < 0)
		return ret;
	cache_put(s, &k, p->tag, der, len, one.this_update, one.next_update,
	          one.this_update + (int64_t)s->conf->ocsp_lifetime_s / 2, r->not_after, 0);
	gba_free(der);
	count(s, &s->st.ocsp_presigned);
	return 0;
}

/*
 * Pre-sign CA i's current certificates a page at a time: each page is
 * read after bringing the cache up to the change counter (so a change
 * during a long walk costs its page, not the rest of the pass), and no
 * read snapshot stays open across pages.  0, 1 when stopped, or a
 * negative code.
 */
static int presign_ca(struct naf_status *s, struct gba_store *st, size_t i, int64_t now)
{
	struct presign_ctx p;
	size_t n = 0;
	int ret;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.ci = i;
	do {
		ret = status_sync(s, st, &p.tag);
		if (ret == 0)
			ret = gba_store_cert_list_current_page(st, s->cas[i].ca->name, now,
			                                       p.after_not_after, p.after, p.after_len,
			                                       PRESIGN_PAGE, presign_cb, &p, &n);
	} while (ret == 0 && n == PRESIGN_PAGE);
	return ret;
}

/* One background pass: follow the counter, CRLs, pre-signing. */
void naf_status_pass(struct naf_status *s, struct gba_store *st)
{
	int64_t now = status_now(s);
	uint64_t tag = 0;
	size_t i;
	int ret;

	if (stopping(s))
		return;
	ret = status_sync(s, st, &tag);
	if (ret < 0) {
		gba_log_err(MOD, "change counter: %s", gba_strerror(ret));
		return;
	}
	sweep(s, now);
	responder_check(s, now);
	for (i = 0; i < s->ncas; i++)
		(void)crl_ensure(s, st, i, now, 0);
	if (tag == s->presigned_tag && now < s->next_presign)
		return;
	for (i = 0; i < s->ncas; i++) {
		ret = presign_ca(s, st, i, now);
		if (ret > 0)
			return;   /* stopping */
		if (ret < 0) {
			gba_log_err(MOD, "pre-signing for %s: %s", s->cas[i].ca->name,
			            gba_strerror(ret));
			return;
		}
	}
	s->presigned_tag = tag;   /* a change since then: the next pass again */
	s->next_presign = now + (int64_t)s->conf->ocsp_lifetime_s / 4;
}

static void *bg_main(void *arg)
{
	struct naf_status *s = arg;
	struct gba_store *st = NULL;
	struct timespec ts;
	int ret;

	ret = gba_store_open(&st, s->db, s->key);
	if (ret < 0)
		gba_log_err(MOD, "background: cannot open the store: %s", gba_strerror(ret));
	pthread_mutex_lock(&s->bg_mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->bg_mu);
		if (st != NULL)
			naf_status_pass(s, st);
		pthread_mutex_lock(&s->bg_mu);
		if (s->stop)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(s->conf->tick_ms / 1000);
		ts.tv_nsec += (long)(s->conf->tick_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&s->bg_cv, &s->bg_mu, &ts);
	}
	pthread_mutex_unlock(&s->bg_mu);
	gba_store_close(st);
	return NULL;
}

int naf_status_start(struct naf_status *s, const char *db, const char *key)
{
	if (s == NULL || db == NULL || key == NULL || s->started)
		return GBA_EINVAL;
	s->db = gba_strndup(db, strlen(db));
	s->key = gba_strndup(key, strlen(key));
	if (s->db == NULL || s->key == NULL)
		return GBA_ENOMEM;
	if (pthread_create(&s->th, NULL, bg_main, s) != 0)
		return GBA_EIO;
	s->started = 1;
	return 0;
}

void naf_status_free(struct naf_status *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->started) {
		naf_status_stop(s);
		pthread_join(s->th, NULL);
	}
	drop_all(s);
	for (i = 0; i < s->ncas; i++) {
		gba_crl_record_clear(&s->cas[i].crl);
		pthread_rwlock_destroy(&s->cas[i].crl_lock);
		pthread_mutex_destroy(&s->cas[i].crl_build);
	}
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->sync);
	pthread_mutex_destroy(&s->st_mu);
	pthread_mutex_destroy(&s->bg_mu);
	pthread_cond_destroy(&s->bg_cv);
	gba_free(s->db);
	gba_free(s->key);
	gba_free(s);
}
