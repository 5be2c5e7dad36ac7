/* bsf_int.h - struct bsf and helpers shared by the bsf/ sources only. */
#ifndef BSF_INT_H
#define BSF_INT_H

#include "bsf.h"
#include "gba_audit.h"

struct bsf_sub {
	bsf_event_fn fn;
	void *arg;
};

struct bsf {
	const struct bsf_conf *conf;
	struct gba_hss *hss;
	struct gba_store *store;
	int64_t (*now)(void *arg);
	void *now_arg;
	struct bsf_sub subs[BSF_MAX_SUBSCRIBERS];
	size_t nsubs;
};

int64_t bsf_now(const struct bsf *b);

/* Deliver ev to every subscriber, in subscription order. */
void bsf_event_fire(const struct bsf *b, const struct bsf_bootstrap_event *ev);

/* Set a header; on failure (only our own: allocation, caps) *err is
 * set so that the handler answers 500 instead. */
void bsf_header(struct gba_http_response *resp, const char *name, const char *value, int *err);

/*
 * Write an audit record for a Ub/Zn decision (conf->audit; 0 when there
 * is none).  Strings are borrowed and optional.  0 or a GBA_E* code:
 * the caller must then fail closed.
 */
int bsf_audit(const struct bsf *b, enum gba_audit_type type,
              enum gba_audit_outcome outcome, const char *reason,
              const char *peer, const char *app, const char *impi, const char *btid);

#endif
