/*
 * gba_store.c - the parts of gba_store.h that do not touch SQLite: the
 * record clear functions, the identity rule and the group committer
 * (which only uses the public store functions).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_store.h"

void gba_subscriber_clear(struct gba_subscriber *s)
{
	if (s == NULL)
		return;
	gba_free(s->guss_json);
	gba_wipe(s, sizeof(*s));
	s->guss_json = NULL;
}

void gba_bootstrap_clear(struct gba_bootstrap *b)
{
	if (b == NULL)
		return;
	gba_free(b->guss_json);
	gba_wipe(b, sizeof(*b));
	b->guss_json = NULL;
}

void gba_challenge_clear(struct gba_challenge *c)
{
	if (c == NULL)
		return;
	gba_wipe(c, sizeof(*c));
}

int gba_store_impi_check(const char *impi)
{
	size_t i, len;

	if (impi == NULL)
		return GBA_EINVAL;
	len = strnlen(impi, GBA_MAX_IMPI_LEN + 1);
	if (len == 0 || len > GBA_MAX_IMPI_LEN)
		return GBA_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)impi[i];

		if (c < 0x21 || c > 0x7e)
			return GBA_EINVAL;
	}
	return 0;
}

void gba_crl_record_clear(struct gba_crl_record *r)
{
	if (r == NULL)
		return;
	gba_free(r->der);
	memset(r, 0, sizeof(*r));
}

void gba_cert_record_clear(struct gba_cert_record *r)
{
	if (r == NULL)
		return;
	gba_free(r->der);
	memset(r, 0, sizeof(*r));
}

void gba_pending_clear(struct gba_pending *p)
{
	if (p == NULL)
		return;
	gba_free(p->blob);
	memset(p, 0, sizeof(*p));
}

/* ---- group commit ---- */

/* The most transactions in one batch; more wait for the next one. */
#define COMMIT_BATCH_MAX 256u

/* One submitted transaction; lives on the submitter's stack until its
 * result is set. */
struct commit_item {
	const struct gba_cmc_txn *t;
	int result;
	int done;
	struct commit_item *next;
};

struct gba_store_committer {
	struct gba_store *st;             /* used by the thread only */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;              /* queue not empty, or stopping */
	pthread_cond_t done;              /* a batch finished */
	struct commit_item *head, **tail; /* under mu */
	int stopping;                     /* under mu */
	/* The thread's batch (not shared). */
	const struct gba_cmc_txn *txns[COMMIT_BATCH_MAX];
	struct commit_item *items[COMMIT_BATCH_MAX];
	int results[COMMIT_BATCH_MAX];
};

static void *committer_main(void *arg)
{
	struct gba_store_committer *c = arg;
	size_t n, i;
	int ret;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->head == NULL && !c->stopping)
			pthread_cond_wait(&c->work, &c->mu);
		if (c->head == NULL)
			break;   /* stopping, and the queue is drained */
		for (n = 0; c->head != NULL && n < COMMIT_BATCH_MAX; n++) {
			c->items[n] = c->head;
			c->txns[n] = c->head->t;
			c->head = c->head->next;
		}
		if (c->head == NULL)
			c->tail = &c->head;
		pthread_mutex_unlock(&c->mu);
		ret = gba_store_cmc_commit_batch(c->st, c->txns, n, c->results);
		pthread_mutex_lock(&c->mu);
		for (i = 0; i < n; i++) {
			c->items[i]->result = ret < 0 ? ret : c->results[i];
			c->items[i]->done = 1;
		}
		pthread_cond_broadcast(&c->done);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int gba_store_committer_start(struct gba_store_committer **out, const char *path,
                              const char *key_path)
{
	struct gba_store_committer *c = NULL;
	int ret, inited = 0;

	if (out == NULL)
		return GBA_EINVAL;
	*out = NULL;
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	c->tail = &c->head;
	ret = gba_store_open(&c->st, path, key_path);
	if (ret < 0)
		goto out;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	inited = 1;
	if (pthread_cond_init(&c->work, NULL) != 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	inited = 2;
	if (pthread_cond_init(&c->done, NULL) != 0) {
		ret = GBA_EINTERNAL;
		goto out;
	}
	inited = 3;
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
		ret = GBA_ENOMEM;   /* EAGAIN: no resources for a thread */
		goto out;
	}
	*out = c;
	c = NULL;
out:
	if (c != NULL) {
		if (inited >= 3)
			pthread_cond_destroy(&c->done);
		if (inited >= 2)
			pthread_cond_destroy(&c->work);
		if (inited >= 1)
			pthread_mutex_destroy(&c->mu);
		gba_store_close(c->st);
		gba_free(c);
	}
	return ret;
}

int gba_store_committer_submit(struct gba_store_committer *c, const struct gba_cmc_txn *t)
{
	struct commit_item it;

	if (c == NULL || t == NULL)
		return GBA_EINVAL;
	memset(&it, 0, sizeof(it));
	it.t = t;
	pthread_mutex_lock(&c->mu);
	if (c->stopping) {
		pthread_mutex_unlock(&c->mu);
		return GBA_EINVAL;
	}
	*c->tail = &it;
	c->tail = &it.next;
	pthread_cond_signal(&c->work);
	while (!it.done)
		pthread_cond_wait(&c->done, &c->mu);
	pthread_mutex_unlock(&c->mu);
	return it.result;
}

void gba_store_committer_stop(struct gba_store_committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->done);
	pthread_cond_destroy(&c->work);
	pthread_mutex_destroy(&c->mu);
	gba_store_close(c->st);
	gba_free(c);
}
