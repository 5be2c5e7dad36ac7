/*
 * bsf.h - the GBA Bootstrapping Server Function: Ub (TS 24.109 clause 4,
 * HTTP Digest AKA, RFC 3310) and Zn in its SBA form (TS 29.309
 * Nbsp_GBA), as handlers on the gba_http request/response types, and
 * the in-process bootstrap events.
 *
 * One struct bsf per worker thread: it holds that worker's HSS and store
 * handles (SQLite handles are per thread).  Handlers run on the worker
 * and never block on the network.
 */
#ifndef BSF_H
#define BSF_H

#include <stddef.h>
#include <stdint.h>

#include "gba_http.h"
#include "gba_store.h"
#include "gba_zn.h"

#define BSF_MAX_SUBSCRIBERS 8u
#define BSF_MAX_ZN_ALLOW    256u
#define BSF_ZN_PATH         GBA_ZN_PATH

/* One NAF allowed on Zn. */
struct bsf_naf_allow {
	const char *fqdn;             /* compared case-insensitively */
	const uint32_t *gsids;        /* GSIDs it may ask for; NULL: any */
	size_t ngsids;
};

struct gba_audit;

struct bsf_conf {
	const char *fqdn;             /* BSF FQDN: Ub realm and B-TID domain */
	uint32_t key_lifetime_s;      /* Ks lifetime when the GUSS sets none */
	uint32_t challenge_lifetime_s;/* how long a Ub nonce stays usable */
	const struct bsf_naf_allow *zn_allow;
	size_t zn_nallow;
	int zn_release_impi;          /* Zn responses carry the IMPI */
	/*
	 * Audit sink (lib/gba_audit.h), borrowed, shared by every worker;
	 * NULL: no records (tests only: gba-bsfd always sets one).  Each
	 * Ub and Zn decision is recorded before it takes effect: when the
	 * record cannot be written, a bootstrap answers 503 without storing
	 * the context and Zn answers 503 without the key (fail closed).
	 */
	struct gba_audit *audit;
};

struct bsf;

/*
 * Make a worker context.  conf, hss and store are borrowed: they (and
 * every string conf points to) must outlive the context; bsf_free closes
 * neither hss nor store.  GBA_EINVAL for an unusable conf (no FQDN, a
 * zero lifetime, too many allow entries).  On success the caller owns
 * *out and frees it with bsf_free.
 */
int bsf_new(struct bsf **out, const struct bsf_conf *conf, struct gba_hss *hss,
            struct gba_store *store);
void bsf_free(struct bsf *b);

/* Replace the clock (UTC seconds); tests use it to expire things.
 * now == NULL restores the wall clock. */
void bsf_set_clock(struct bsf *b, int64_t (*now)(void *arg), void *arg);

/*
 * A successful bootstrap.  Every pointer is borrowed and valid only for
 * the duration of the callback; copy what you keep.  No secret is in
 * it: a subscriber that needs keys asks Zn (or the store) for them.
 */
struct bsf_bootstrap_event {
	const char *btid;
	const char *impi;
	int64_t created;              /* UTC seconds */
	int64_t expires;
	const char *guss_json;        /* the subscriber's GUSS, "" when none */
	/* The Ub 200 being built: a subscriber may queue server pushes on
	 * it (gba_http_response_push); NULL outside a Ub handler. */
	struct gba_http_response *resp;
	const char *peer;             /* the UE's "address:port" */
};

typedef void (*bsf_event_fn)(void *arg, const struct bsf_bootstrap_event *ev);

/*
 * Subscribe to bootstrap events.  fn is called synchronously on the
 * worker thread, after the bootstrap context is durably stored and
 * before the 200 response is sent, exactly once per successful
 * bootstrap and never for a failed one.  It must not block for long and
 * must not call back into this bsf's handlers.  Returns 0 or
 * GBA_ETOOBIG (more than BSF_MAX_SUBSCRIBERS).
 */
int bsf_subscribe(struct bsf *b, bsf_event_fn fn, void *arg);

/*
 * Ub: GET / (gba_http_handler_fn; ctx is the struct bsf).
 *   initial request (nonce="", response="")       401 + WWW-Authenticate
 *   correct RES                                   200 BootstrappingInfo
 *   AUTS, empty-password response, MAC-S right    401, fresh challenge
 *   wrong RES / MAC-S, UE-side auth failure,
 *   unknown, expired or used nonce                403
 *   malformed, oversize, wrong realm/uri/qop/alg  400
 *   other method 405, other path 404; 500 only for our own failures.
 *   503 when the audit record of a successful bootstrap cannot be
 *   written (nothing stored; the UE starts over later).
 */
void bsf_ub_handle(void *ctx, const struct gba_http_request *req,
                   struct gba_http_response *resp);

/*
 * Zn: POST BSF_ZN_PATH (gba_http_handler_fn; ctx is the struct bsf).
 *   200 BootstrappingInfoResponse (application/json)
 *   400 bad JSON or fields, 413 body over GBA_ZN_MAX_BODY,
 *   415 not JSON, 403 no client certificate / certificate not for
 *   nafFqdn / NAF or GSID not allowed, 404 unknown or expired B-TID,
 *   405 other method, 404 other path; errors are ProblemDetails.
 *   503 when the audit record cannot be written (no key released).
 */
void bsf_zn_handle(void *ctx, const struct gba_http_request *req,
                   struct gba_http_response *resp);

#endif
