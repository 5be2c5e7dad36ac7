/*
 * gba_http_server.c - listeners, worker threads, connections (libev).
 *
 * Each worker thread runs its own ev loop with its own SO_REUSEPORT
 * socket per listener, so the kernel spreads connections and a
 * connection never leaves its worker.  A connection reads into a fixed
 * input buffer, hands the bytes to its protocol engine (gba_h1 or
 * gba_h2) and writes the engine's output from a bounded buffer; it stops
 * reading while more than GBA_HTTP_OUT_SOFT bytes wait to be written.
 *
 * Timeouts (one ev_timer per connection, re-armed after every I/O):
 * until the first request has been dispatched, handshake_timeout_ms from
 * accept; while a request is partly received, request_timeout_ms from
 * its first byte; otherwise idle_timeout_ms from the last byte moved.
 * A timed-out connection is closed without an answer.
 *
 * Over max_connections a worker answers "503" and closes on a
 * cleartext listener (HTTP/1.1 wording; an h2c client sees a
 * connection error), and just closes on a TLS listener.
 *
 * After an error answer (400, 413, 431, ...) or "connection: close" the
 * connection shuts down its sending side and discards input for up to
 * a second ("lingering close"), so that the client reads the answer
 * instead of a reset.
 */
#define _GNU_SOURCE 1   /* accept4 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <ev.h>

#include "gba_err.h"
#include "gba_h1.h"
#include "gba_h2.h"
#include "gba_http_int.h"
#include "gba_mem.h"
#include "gba_tls.h"

#define SRV_MAX_WORKERS   64u
#define SRV_BACKLOG       511
#define SRV_ACCEPT_BATCH  64
#define SRV_LINGER_S      1.0
#define SRV_EMFILE_PAUSE  0.1
#define SRV_IO_ROUNDS     64

enum conn_state {
	ST_HANDSHAKE,                     /* TLS handshake */
	ST_SNIFF,                         /* cleartext: preface or HTTP/1.1? */
	ST_H1,
	ST_H2,
	ST_LINGER                         /* answer sent; discard input, then close */
};

struct worker;

struct conn {
	struct conn *prev, *next;
	struct worker *w;
	int fd;
	ev_io io;
	ev_timer tmr;
	enum conn_state st;
	struct gba_tls_conn *tls;
	struct gba_h1_server *h1;
	struct gba_h2_server *h2;
	struct gba_http_conn_info ci;
	uint8_t *in;                      /* GBA_HTTP_INBUF octets while input waits; else NULL */
	size_t inlen;
	struct gba_hbuf out;
	int peer_eof;
	int busy;
	int linger;                       /* ST_LINGER: discard input after the shutdown */
	int shut;                         /* ST_LINGER: SHUT_WR done */
	ev_tstamp started, last_io, req_start, linger_start;
};

struct listener {
	struct gba_tls_ctx *tls;          /* NULL: cleartext */
	uint16_t port;
};

struct worker {
	struct gba_http_server *s;
	unsigned idx;
	struct ev_loop *loop;
	ev_async wake;
	ev_timer grace;
	ev_timer backoff;
	ev_timer tick;
	int *lfd;                         /* [nlisteners] */
	ev_io *lio;                       /* [nlisteners] */
	struct conn *conns;
	unsigned nconns;
	int stopping;
	pthread_t thread;
	int started;
};

struct gba_http_server {
	const struct gba_http_server_conf *conf;
	struct gba_http_limits limits;
	struct listener *lsn;
	size_t nlsn;
	struct worker *workers;
	unsigned nworkers;
	atomic_int stop;
};

static void conn_close(struct conn *c);
static void conn_io(struct conn *c);

static ev_tstamp ms(unsigned v)
{
	return (ev_tstamp)v / 1000.0;
}

/* ---- listeners ---- */

static int bind_one(const char *address, uint16_t port, int *out, uint16_t *bound)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
	socklen_t len;
	int fd = -1, one = 1, rc = GBA_EIO;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return GBA_EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return GBA_EIO;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto out;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto out;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SRV_BACKLOG) < 0)
		goto out;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto out;
	*bound = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	*out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- connections ---- */

static void peer_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;

	if (ss->ss_family == AF_INET && inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)) != NULL)
		(void)snprintf(buf, len, "%s:%u", a, (unsigned)ntohs(s4->sin_port));
	else if (ss->ss_family == AF_INET6 &&
	         inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)) != NULL)
		(void)snprintf(buf, len, "[%s]:%u", a, (unsigned)ntohs(s6->sin6_port));
	else
		(void)snprintf(buf, len, "unknown");
}

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	ev_io_stop(w->loop, &c->io);
	ev_timer_stop(w->loop, &c->tmr);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	gba_h1_server_free(c->h1);
	gba_h2_server_free(c->h2);
	gba_http_streams_close_all(&c->ci);
	gba_tls_conn_free(c->tls);
	close(c->fd);
	gba_hbuf_clear(&c->out);
	gba_free(c->in);
	gba_free(c);
	if (w->stopping && w->nconns == 0)
		ev_break(w->loop, EVBREAK_ALL);
}

/* Stop answering: flush what is queued, shut down the sending side and,
 * when the peer may still be sending, discard its input for a while. */
static void conn_finish(struct conn *c, int linger)
{
	if (c->st == ST_LINGER)
		return;
	c->st = ST_LINGER;
	c->linger = linger;
	c->shut = 0;
}

static int conn_start_h1(struct conn *c)
{
	int rc;

	c->st = ST_H1;
	rc = gba_h1_server_new(&c->h1, &c->ci);
	c->ci.h1 = c->h1;
	return rc;
}

static int conn_start_h2(struct conn *c)
{
	int rc;

	c->st = ST_H2;
	rc = gba_h2_server_new(&c->h2, &c->ci);
	c->ci.h2 = c->h2;
	if (rc == 0 && c->w->stopping)
		gba_h2_server_shutdown(c->h2);
	return rc;
}

/* A held stream wrote from outside this connection's callbacks: run its
 * I/O on the next loop iteration. */
static void conn_kick(struct gba_http_conn_info *ci)
{
	struct conn *c = ci->owner;

	ev_feed_event(c->w->loop, &c->io, EV_WRITE);
}

/* Cleartext (or TLS without ALPN): the HTTP/2 preface means h2c prior
 * knowledge, anything else HTTP/1.1.  Returns 1 when decided. */
static int conn_sniff(struct conn *c)
{
	size_t n = c->inlen < GBA_H2_PREFACE_LEN ? c->inlen : GBA_H2_PREFACE_LEN;
	int rc;

	if (memcmp(c->in, GBA_H2_PREFACE, n) != 0)
		rc = conn_start_h1(c);
	else if (n == GBA_H2_PREFACE_LEN)
		rc = conn_start_h2(c);
	else
		return 0;
	return rc < 0 ? rc : 1;
}

/* Hand buffered input to the engine.  Returns bytes consumed or < 0. */
static long conn_feed(struct conn *c)
{
	size_t used = 0;
	int rc;

	if (c->st == ST_H1) {
		if (gba_h1_server_held(c->h1)) {
			used = c->inlen;   /* dropped */
			c->inlen = 0;
			return (long)used;
		}
		if (gba_hbuf_used(&c->out) >= GBA_HTTP_OUT_SOFT || gba_h1_server_done(c->h1))
			return 0;
		rc = gba_h1_server_recv(c->h1, c->in, c->inlen, &c->out, &used);
		if (rc < 0)
			return rc;
	} else if (c->st == ST_H2) {
		rc = gba_h2_server_recv(c->h2, c->in, c->inlen);
		if (rc < 0)
			return rc;
		used = c->inlen;
	} else {
		return 0;
	}
	if (used < c->inlen)
		memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
	return (long)used;
}

static int conn_want_read(const struct conn *c)
{
	if (c->peer_eof || c->inlen >= GBA_HTTP_INBUF)
		return 0;
	switch (c->st) {
	case ST_HANDSHAKE:
		return 0;
	case ST_SNIFF:
		return 1;
	case ST_H1:
		if (gba_h1_server_held(c->h1))
			return 1;   /* dropped, but EOF ends the stream */
		return !gba_h1_server_done(c->h1) && gba_hbuf_used(&c->out) < GBA_HTTP_OUT_SOFT;
	case ST_H2:
		return gba_h2_server_want_read(c->h2) && gba_hbuf_used(&c->out) < GBA_HTTP_OUT_SOFT;
	case ST_LINGER:
		return 0;
	}
	return 0;
}

static void conn_handshake_done(struct conn *c)
{
	const uint8_t *der;
	size_t len;

	der = gba_tls_peer_cert(c->tls, &len);
	c->ci.client_cert = der;
	c->ci.client_cert_len = der != NULL ? len : 0;
	switch (gba_tls_alpn(c->tls)) {
	case GBA_TLS_ALPN_H2:
		if (conn_start_h2(c) < 0)
			conn_finish(c, 0);
		break;
	case GBA_TLS_ALPN_H1:
		if (conn_start_h1(c) < 0)
			conn_finish(c, 0);
		break;
	default:
		c->st = ST_SNIFF;
		break;
	}
}

static void conn_timer_update(struct conn *c)
{
	struct worker *w = c->w;
	const struct gba_http_limits *l = &w->s->limits;
	ev_tstamp now = ev_now(w->loop), deadline;
	int busy = 0;

	if (c->st == ST_H1)
		busy = gba_h1_server_busy(c->h1) || c->inlen > 0;
	else if (c->st == ST_H2)
		busy = gba_h2_server_busy(c->h2);
	if (busy && !c->busy)
		c->req_start = now;
	c->busy = busy;
	if (c->st == ST_LINGER && c->shut)
		deadline = c->linger_start + SRV_LINGER_S;
	else if (c->st == ST_LINGER)
		deadline = c->last_io + ms(l->idle_timeout_ms);
	else if (c->ci.requests == 0)
		deadline = c->started + ms(l->handshake_timeout_ms);
	else if (busy)
		deadline = c->req_start + ms(l->request_timeout_ms);
	else
		deadline = c->last_io + ms(l->idle_timeout_ms);
	ev_timer_stop(w->loop, &c->tmr);
	/* A held response is idle by nature: no idle timeout. */
	if (c->ci.streams != NULL && !busy && c->st != ST_LINGER)
		return;
	ev_timer_set(&c->tmr, deadline > now ? deadline - now : 0.0, 0.0);
	ev_timer_start(w->loop, &c->tmr);
}

/* Discard input until EOF; returns 1 when c was closed. */
static int linger_io(struct conn *c)
{
	uint8_t buf[4096];
	ssize_t n;
	int i;

	for (i = 0; i < SRV_IO_ROUNDS; i++) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		conn_close(c);
		return 1;
	}
	return 0;
}

/* Move bytes until nothing more can be done now; then decide what to
 * wait for.  May free c. */
static void conn_io(struct conn *c)
{
	struct worker *w = c->w;
	ev_tstamp now = ev_now(w->loop);
	size_t n;
	long fed;
	int rc, round, progress, events;

	for (round = 0; round < SRV_IO_ROUNDS; round++) {
		progress = 0;
		if (c->st == ST_HANDSHAKE) {
			rc = gba_tls_handshake(c->tls);
			if (rc < 0) {
				conn_close(c);
				return;
			}
			if (rc == 0) {
				conn_handshake_done(c);
				progress = 1;
			}
		}
		if (c->st == ST_H2 && gba_h2_server_send(c->h2, &c->out) < 0) {
			conn_close(c);
			return;
		}
		while (c->st != ST_HANDSHAKE && gba_hbuf_used(&c->out) > 0) {
			rc = gba_tls_write(c->tls, gba_hbuf_data(&c->out), gba_hbuf_used(&c->out), &n);
			if (rc == GBA_TLS_AGAIN)
				break;
			if (rc != 0) {
				conn_close(c);
				return;
			}
			gba_hbuf_consume(&c->out, n);
			c->last_io = now;
			progress = 1;
		}
		if (c->st == ST_LINGER) {
			if (gba_hbuf_used(&c->out) > 0)
				break;
			if (!c->shut) {
				if (c->tls != NULL)
					gba_tls_bye(c->tls);
				(void)shutdown(c->fd, SHUT_WR);
				c->shut = 1;
				c->linger_start = now;
				if (!c->linger) {
					conn_close(c);
					return;
				}
			}
			if (linger_io(c))
				return;
			break;
		}
		if (conn_want_read(c) && c->in == NULL) {
			/* Idle connections keep no input buffer (many held
			 * responses wait for months). */
			c->in = gba_malloc(GBA_HTTP_INBUF);
			if (c->in == NULL) {
				conn_close(c);
				return;
			}
		}
		if (conn_want_read(c)) {
			rc = gba_tls_read(c->tls, c->in + c->inlen, GBA_HTTP_INBUF - c->inlen, &n);
			if (rc == 0) {
				c->inlen += n;
				c->last_io = now;
				progress = 1;
			} else if (rc == GBA_TLS_CLOSED) {
				c->peer_eof = 1;
				progress = 1;
			} else if (rc < 0) {
				conn_close(c);
				return;
			}
		}
		if (c->st == ST_SNIFF && c->inlen > 0) {
			rc = conn_sniff(c);
			if (rc < 0) {
				conn_close(c);
				return;
			}
		}
		if (c->inlen > 0) {
			fed = conn_feed(c);
			if (fed < 0) {
				/* h2: nghttp2 queued a GOAWAY; flush it, then go. */
				if (c->st == ST_H2)
					(void)gba_h2_server_send(c->h2, &c->out);
				conn_finish(c, 1);
				continue;
			}
			if (fed > 0)
				progress = 1;
		}
		/* Ends of the conversation. */
		if (c->st == ST_H1 && gba_h1_server_done(c->h1) && gba_hbuf_used(&c->out) == 0) {
			conn_finish(c, gba_h1_server_errored(c->h1) || c->inlen > 0);
			continue;
		}
		if (c->st == ST_H2 && !gba_h2_server_want_read(c->h2) &&
		    !gba_h2_server_want_write(c->h2) && gba_hbuf_used(&c->out) == 0) {
			conn_finish(c, c->inlen > 0);
			continue;
		}
		if (c->peer_eof && (c->st == ST_SNIFF || c->st == ST_HANDSHAKE ||
		                    (c->inlen == 0 && gba_hbuf_used(&c->out) == 0) ||
		                    (c->st == ST_H1 && (gba_h1_server_busy(c->h1) ||
		                                        gba_h1_server_held(c->h1))))) {
			conn_close(c);
			return;
		}
		if (w->stopping && c->st == ST_H1 && !gba_h1_server_busy(c->h1) && c->inlen == 0 &&
		    gba_hbuf_used(&c->out) == 0) {
			conn_close(c);
			return;
		}
		if (!progress && gba_tls_pending(c->tls) == 0)
			break;
	}
	if (c->inlen == 0 && c->in != NULL) {
		gba_free(c->in);
		c->in = NULL;
	}
	if (gba_hbuf_used(&c->out) == 0 && c->out.cap > 0)
		gba_hbuf_clear(&c->out);   /* nor an output buffer */
	/* Held streams that waited for room may write again (this may queue
	 * more output: come back for it). */
	if (c->ci.streams != NULL && gba_http_streams_drain(&c->ci) > 0)
		ev_feed_event(w->loop, &c->io, EV_WRITE);
	events = 0;
	if (c->st == ST_HANDSHAKE)
		events = gba_tls_want_write(c->tls) ? EV_WRITE : EV_READ;
	else if (conn_want_read(c) || (c->st == ST_LINGER && c->shut))
		events |= EV_READ;
	if (c->st != ST_HANDSHAKE && (gba_hbuf_used(&c->out) > 0 || gba_tls_want_write(c->tls)))
		events |= EV_WRITE;
	if (events == 0)
		events = EV_READ;    /* notice a reset */
	if (round >= SRV_IO_ROUNDS)
		ev_feed_event(w->loop, &c->io, EV_READ);   /* more to do: come back */
	if ((c->io.events & (EV_READ | EV_WRITE)) != events) {
		ev_io_stop(w->loop, &c->io);
		ev_io_set(&c->io, c->fd, events);
		ev_io_start(w->loop, &c->io);
	}
	conn_timer_update(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	conn_io(io->data);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct conn *c = t->data;

	(void)loop;
	(void)revents;
	conn_close(c);
}

static void reject(struct worker *w, int fd, size_t li)
{
	struct gba_hbuf b;

	if (w->s->lsn[li].tls == NULL) {
		gba_hbuf_init(&b, 256);
		if (gba_h1_simple_response(&b, 503, 1) == 0 &&
		    send(fd, gba_hbuf_data(&b), gba_hbuf_used(&b), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)errno;  /* best effort */
		gba_hbuf_clear(&b);
		(void)shutdown(fd, SHUT_WR);
	}
	close(fd);
}

static void accept_one(struct worker *w, size_t li, int fd, const struct sockaddr_storage *ss)
{
	const struct gba_http_listener_conf *lc = &w->s->conf->listeners[li];
	struct conn *c;
	int one = 1;

	if (w->nconns >= w->s->limits.max_connections || w->stopping) {
		reject(w, fd, li);
		return;
	}
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w = w;
	c->fd = fd;
	gba_hbuf_init(&c->out, GBA_HTTP_OUT_MAX);
	c->ci.out = &c->out;
	c->ci.kick = conn_kick;
	c->ci.owner = c;
	c->ci.worker = w->idx;
	c->ci.limits = &w->s->limits;
	c->ci.handler = lc->handler;
	c->ci.ctx = lc->ctx;
	c->ci.listener = (unsigned)li;
	c->ci.tls = w->s->lsn[li].tls != NULL;
	peer_string(ss, c->ci.peer, sizeof(c->ci.peer));
	if (gba_tls_conn_new(&c->tls, w->s->lsn[li].tls, fd, NULL, 0) < 0) {
		close(fd);
		gba_free(c);
		return;
	}
	c->st = c->ci.tls ? ST_HANDSHAKE : ST_SNIFF;
	c->started = c->last_io = ev_now(w->loop);
	ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->tmr, conn_timer_cb, 0.0, 0.0);
	c->tmr.data = c;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	ev_io_start(w->loop, &c->io);
	conn_timer_update(c);
}

static void backoff_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	size_t i;

	(void)revents;
	if (w->stopping)
		return;
	for (i = 0; i < w->s->nlsn; i++)
		ev_io_start(loop, &w->lio[i]);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	size_t li = (size_t)(io - w->lio), i;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, k;

	(void)revents;
	for (k = 0; k < SRV_ACCEPT_BATCH; k++) {
		len = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: pause accepting for a moment. */
				for (i = 0; i < w->s->nlsn; i++)
					ev_io_stop(loop, &w->lio[i]);
				ev_timer_stop(loop, &w->backoff);
				ev_timer_set(&w->backoff, SRV_EMFILE_PAUSE, 0.0);
				ev_timer_start(loop, &w->backoff);
			}
			return;
		}
		accept_one(w, li, fd, &ss);
	}
}

/* ---- graceful stop ---- */

static void grace_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)revents;
	while (w->conns != NULL)
		conn_close(w->conns);
	ev_break(loop, EVBREAK_ALL);
}

static void worker_stop(struct worker *w)
{
	struct conn *c, *next;
	size_t i;
	unsigned grace = w->s->limits.idle_timeout_ms;

	if (w->stopping)
		return;
	w->stopping = 1;
	ev_timer_stop(w->loop, &w->backoff);
	ev_timer_stop(w->loop, &w->tick);
	for (i = 0; i < w->s->nlsn; i++) {
		ev_io_stop(w->loop, &w->lio[i]);
		if (w->lfd[i] >= 0)
			close(w->lfd[i]);
		w->lfd[i] = -1;
	}
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		c->ci.stopping = 1;
		switch (c->st) {
		case ST_HANDSHAKE:
		case ST_SNIFF:
			conn_close(c);
			break;
		case ST_H2:
			gba_h2_server_shutdown(c->h2);
			conn_io(c);
			break;
		case ST_H1:
			if (c->ci.streams != NULL)
				gba_http_stream_end(c->ci.streams);
			conn_io(c);
			break;
		case ST_LINGER:
			break;
		}
	}
	if (w->nconns == 0) {
		ev_break(w->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&w->grace, grace_cb, ms(grace > 0 ? grace : 1000), 0.0);
	w->grace.data = w;
	ev_timer_start(w->loop, &w->grace);
}

static void wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;
	const struct gba_http_server_conf *conf = w->s->conf;

	(void)loop;
	(void)revents;
	if (atomic_load(&w->s->stop)) {
		worker_stop(w);
		return;
	}
	if (conf->on_tick != NULL && !w->stopping)
		conf->on_tick(conf->tick_ctx, w->idx);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	const struct gba_http_server_conf *conf = w->s->conf;

	(void)loop;
	(void)revents;
	if (conf->on_tick != NULL && !w->stopping)
		conf->on_tick(conf->tick_ctx, w->idx);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t all;

	/* Signals are the application's business, on its own threads. */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (atomic_load(&w->s->stop))
		worker_stop(w);
	if (!w->stopping || w->nconns > 0)
		(void)ev_run(w->loop, 0);
	/* Whatever is left after the grace period. */
	while (w->conns != NULL)
		conn_close(w->conns);
	return NULL;
}

/* ---- public API ---- */

static void worker_clear(struct gba_http_server *s, struct worker *w)
{
	size_t i;

	if (w->lfd != NULL)
		for (i = 0; i < s->nlsn; i++)
			if (w->lfd[i] >= 0)
				close(w->lfd[i]);
	while (w->loop != NULL && w->conns != NULL)
		conn_close(w->conns);
	if (w->loop != NULL)
		ev_loop_destroy(w->loop);
	gba_free(w->lfd);
	gba_free(w->lio);
}

void gba_http_server_free(struct gba_http_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s->workers != NULL && i < s->nworkers; i++)
		worker_clear(s, &s->workers[i]);
	for (i = 0; s->lsn != NULL && i < s->nlsn; i++)
		gba_tls_ctx_free(s->lsn[i].tls);
	gba_free(s->workers);
	gba_free(s->lsn);
	gba_free(s);
}

static int check_conf(const struct gba_http_server_conf *conf)
{
	const struct gba_http_limits *l = &conf->limits;
	size_t i;

	if (conf->listeners == NULL || conf->nlisteners == 0 || conf->nlisteners > 64)
		return GBA_EINVAL;
	if (l->max_connections == 0 || l->max_header_list == 0 || l->max_concurrent_streams == 0 ||
	    l->handshake_timeout_ms == 0 || l->idle_timeout_ms == 0 || l->request_timeout_ms == 0)
		return GBA_EINVAL;
	for (i = 0; i < conf->nlisteners; i++) {
		const struct gba_http_listener_conf *lc = &conf->listeners[i];

		if (lc->address == NULL || lc->handler == NULL ||
		    (lc->cert_file == NULL) != (lc->key_file == NULL) ||
		    (lc->cert_file == NULL && lc->client_ca_file != NULL) ||
		    (lc->require_client_cert && lc->client_ca_file == NULL))
			return GBA_EINVAL;
	}
	return 0;
}

int gba_http_server_new(struct gba_http_server **out, const struct gba_http_server_conf *conf)
{
	struct gba_http_server *s = NULL;
	struct worker *w;
	long ncpu;
	size_t i, k;
	uint16_t port;
	int rc;

	*out = NULL;
	rc = check_conf(conf);
	if (rc < 0)
		return rc;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return GBA_ENOMEM;
	s->conf = conf;
	s->limits = conf->limits;
	atomic_init(&s->stop, 0);
	s->nworkers = conf->workers;
	if (s->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		s->nworkers = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	if (s->nworkers > SRV_MAX_WORKERS)
		s->nworkers = SRV_MAX_WORKERS;
	s->nlsn = conf->nlisteners;
	s->lsn = gba_calloc(s->nlsn, sizeof(*s->lsn));
	s->workers = gba_calloc(s->nworkers, sizeof(*s->workers));
	if (s->lsn == NULL || s->workers == NULL) {
		rc = GBA_ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nlsn; i++) {
		const struct gba_http_listener_conf *lc = &conf->listeners[i];

		if (lc->cert_file != NULL) {
			rc = gba_tls_server_ctx_new(&s->lsn[i].tls, lc->cert_file, lc->key_file,
			                            lc->client_ca_file, lc->require_client_cert);
			if (rc < 0)
				goto out;
		}
		s->lsn[i].port = lc->port;
	}
	for (k = 0; k < s->nworkers; k++) {
		w = &s->workers[k];
		w->s = s;
		w->idx = (unsigned)k;
		w->lfd = gba_calloc(s->nlsn, sizeof(*w->lfd));
		w->lio = gba_calloc(s->nlsn, sizeof(*w->lio));
		if (w->lfd == NULL || w->lio == NULL) {
			rc = GBA_ENOMEM;
			goto out;
		}
		for (i = 0; i < s->nlsn; i++)
			w->lfd[i] = -1;
		w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
		if (w->loop == NULL) {
			rc = GBA_ENOMEM;
			goto out;
		}
		/* Port 0: the first worker's socket picks it, the others join. */
		for (i = 0; i < s->nlsn; i++) {
			rc = bind_one(conf->listeners[i].address, s->lsn[i].port, &w->lfd[i], &port);
			if (rc < 0)
				goto out;
			s->lsn[i].port = port;
			ev_io_init(&w->lio[i], accept_cb, w->lfd[i], EV_READ);
			w->lio[i].data = w;
			ev_io_start(w->loop, &w->lio[i]);
		}
		ev_async_init(&w->wake, wake_cb);
		w->wake.data = w;
		ev_async_start(w->loop, &w->wake);
		ev_timer_init(&w->backoff, backoff_cb, 0.0, 0.0);
		w->backoff.data = w;
		ev_timer_init(&w->tick, tick_cb, ms(conf->tick_ms), ms(conf->tick_ms));
		w->tick.data = w;
		if (conf->on_tick != NULL && conf->tick_ms > 0)
			ev_timer_start(w->loop, &w->tick);
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	gba_http_server_free(s);
	return rc;
}

uint16_t gba_http_server_port(const struct gba_http_server *s, size_t i)
{
	return i < s->nlsn ? s->lsn[i].port : 0;
}

int gba_http_server_run(struct gba_http_server *s)
{
	unsigned k;
	int rc = 0;

	for (k = 0; k < s->nworkers; k++) {
		if (pthread_create(&s->workers[k].thread, NULL, worker_main, &s->workers[k]) != 0) {
			rc = GBA_EIO;
			gba_http_server_stop(s);
			break;
		}
		s->workers[k].started = 1;
	}
	for (k = 0; k < s->nworkers; k++)
		if (s->workers[k].started) {
			(void)pthread_join(s->workers[k].thread, NULL);
			s->workers[k].started = 0;
		}
	return rc;
}

void gba_http_server_wake(struct gba_http_server *s)
{
	unsigned k;

	for (k = 0; k < s->nworkers; k++)
		ev_async_send(s->workers[k].loop, &s->workers[k].wake);
}

unsigned gba_http_server_workers(const struct gba_http_server *s)
{
	return s->nworkers;
}

void gba_http_server_stop(struct gba_http_server *s)
{
	unsigned k;

	atomic_store(&s->stop, 1);
	for (k = 0; k < s->nworkers; k++)
		ev_async_send(s->workers[k].loop, &s->workers[k].wake);
}
