/* bsf_event.c - the context object and bootstrap-event subscribers. */
#include "config.h"

#include <string.h>

#include "bsf_int.h"
#include "gba_audit.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"
#include "gba_time.h"

int bsf_new(struct bsf **out, const struct bsf_conf *conf, struct gba_hss *hss,
            struct gba_store *store)
{
	struct bsf *b;
	size_t i;

	*out = NULL;
	if (conf == NULL || hss == NULL || hss->ops == NULL || store == NULL ||
	    conf->fqdn == NULL || conf->fqdn[0] == '\0' ||
	    strlen(conf->fqdn) > GBA_MAX_FQDN_LEN || conf->key_lifetime_s == 0 ||
	    conf->challenge_lifetime_s == 0 || conf->zn_nallow > BSF_MAX_ZN_ALLOW ||
	    (conf->zn_nallow > 0 && conf->zn_allow == NULL))
		return GBA_EINVAL;
	for (i = 0; i < conf->zn_nallow; i++)
		if (conf->zn_allow[i].fqdn == NULL ||
		    (conf->zn_allow[i].ngsids > 0 && conf->zn_allow[i].gsids == NULL))
			return GBA_EINVAL;
	b = gba_calloc(1, sizeof(*b));
	if (b == NULL)
		return GBA_ENOMEM;
	b->conf = conf;
	b->hss = hss;
	b->store = store;
	*out = b;
	return 0;
}

void bsf_free(struct bsf *b)
{
	gba_free(b);
}

void bsf_set_clock(struct bsf *b, int64_t (*now)(void *arg), void *arg)
{
	b->now = now;
	b->now_arg = arg;
}

int64_t bsf_now(const struct bsf *b)
{
	return b->now != NULL ? b->now(b->now_arg) : gba_time_now();
}

int bsf_subscribe(struct bsf *b, bsf_event_fn fn, void *arg)
{
	if (fn == NULL)
		return GBA_EINVAL;
	if (b->nsubs >= BSF_MAX_SUBSCRIBERS)
		return GBA_ETOOBIG;
	b->subs[b->nsubs].fn = fn;
	b->subs[b->nsubs].arg = arg;
	b->nsubs++;
	return 0;
}

void bsf_event_fire(const struct bsf *b, const struct bsf_bootstrap_event *ev)
{
	size_t i;

	for (i = 0; i < b->nsubs; i++)
		b->subs[i].fn(b->subs[i].arg, ev);
}

void bsf_header(struct gba_http_response *resp, const char *name, const char *value, int *err)
{
	if (*err)
		return;
	if (gba_http_response_header(resp, name, gba_str_c(value)) != 0)
		*err = GBA_EINTERNAL;
}

int bsf_audit(const struct bsf *b, enum gba_audit_type type,
              enum gba_audit_outcome outcome, const char *reason,
              const char *peer, const char *app, const char *impi, const char *btid)
{
	struct gba_audit_event ev;

	if (b->conf->audit == NULL)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.outcome = outcome;
	ev.reason = reason;
	ev.peer = peer;
	ev.app = app;
	ev.impi = impi;
	ev.btid = btid;
	return gba_audit_emit(b->conf->audit, &ev);
}
