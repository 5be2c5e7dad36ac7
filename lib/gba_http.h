/*
 * gba_http.h - the HTTP layer every daemon and client shares.
 *
 * Servers: libev, one event loop per worker thread, SO_REUSEPORT
 * listeners (so the kernel spreads connections over the workers).  On a
 * TLS listener the protocol is chosen by ALPN ("h2", "http/1.1"); on a
 * cleartext listener an HTTP/2 client preface means h2c (prior
 * knowledge) and anything else is HTTP/1.1.  nghttp2 handles HTTP/2 and
 * libhttp-parser HTTP/1.1; handlers see one request and one response
 * type and never know which carried them.
 *
 * Handlers run on the worker thread that owns the connection and must
 * not block for long (the SQLite store is fine; a network call is not).
 * Everything in struct gba_http_request is borrowed for the duration of
 * the handler call only.
 *
 * Limits (struct gba_http_limits) are enforced before any allocation
 * that depends on peer input: a hit answers 413 (body), 431 (headers) or
 * 503 (connections), or a GOAWAY / RST_STREAM on HTTP/2, and the daemon
 * stays up.  In detail (lib/gba_http_server.c, gba_h1.c, gba_h2.c):
 *  - bodies: Content-Length or chunked (decoded) on HTTP/1.1, DATA on
 *    HTTP/2; over max_body is 413 (HTTP/1.1 then closes; HTTP/2 answers
 *    on the stream and resets it with NO_ERROR);
 *  - header fields: names+values (and the URL on HTTP/1.1) over
 *    max_header_list, or more than GBA_HTTP_MAX_REQ_HEADERS fields, is 431
 *    the same way; malformed HTTP/1.1 is 400, bad HTTP/2 a GOAWAY;
 *  - connections over max_connections (per worker): "503" and close on
 *    a cleartext listener, plain close on a TLS one;
 *  - timeouts close the connection without an answer: handshake_timeout_ms
 *    from accept until the first request is complete, request_timeout_ms
 *    while a later request is partly received, idle_timeout_ms otherwise;
 *  - output: a connection stops reading while GBA_HTTP_OUT_SOFT bytes wait
 *    to be written (gba_http_int.h).
 * Every response carries content-length (except 204 and held responses,
 * below); a handler status below 200 is sent as 500.  Upgrade (h2c,
 * websocket) is not taken.
 *
 * Held responses (long-lived streams, gba_http_response_hold): the
 * handler keeps the response open and later writes body bytes or pushes
 * responses on it from its worker's event loop (gba_http_server_conf's
 * on_tick, woken by gba_http_server_wake).  A connection carrying a held
 * response is exempt from idle_timeout_ms; what it has not yet written
 * is capped at GBA_HTTP_HELD_MAX octets per connection (writes and
 * pushes past it get GBA_ETOOBIG until on_drain), so a slow reader costs
 * a bounded amount of memory and stalls nobody else.
 */
#ifndef GBA_HTTP_H
#define GBA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "gba_str.h"

enum gba_http_version {
	GBA_HTTP_1_1,
	GBA_HTTP_2
};

struct gba_http_header {
	struct gba_str name;    /* lower-case */
	struct gba_str value;
};

struct gba_http_request {
	enum gba_http_version version;
	int tls;                          /* 1 when the connection is TLS */
	struct gba_str method;
	struct gba_str path;              /* origin-form, with the query */
	struct gba_str authority;         /* :authority, or Host on HTTP/1.1 */
	const struct gba_http_header *headers;
	size_t nheaders;
	const uint8_t *body;
	size_t body_len;
	const char *peer;                 /* "address:port", NUL-terminated */
	/* DER of the TLS client certificate, present only when it verified
	 * against the listener's client CA; NULL otherwise. */
	const uint8_t *client_cert;
	size_t client_cert_len;
	unsigned listener;                /* index in the server's listener table */
	unsigned worker;                  /* index of the worker thread running the handler */
};

/* First header with that lower-case name, or NULL. */
const struct gba_str *gba_http_header_get(const struct gba_http_request *req,
                                          const char *lname);

/* The response a handler fills in.  Opaque; owned by the layer. */
struct gba_http_response;

/* Default status is 500 until set.  Header names are sent as given on
 * HTTP/1.1 and lower-cased on HTTP/2.  The body is copied.  These return
 * 0, GBA_EINVAL (bad status, name or value with CR/LF/NUL) or
 * GBA_ETOOBIG (over the layer's response caps: a body over
 * GBA_HTTP_MAX_RESP_BODY). */
#define GBA_HTTP_MAX_RESP_BODY (1024u * 1024u)
int gba_http_response_status(struct gba_http_response *resp, int status);
int gba_http_response_header(struct gba_http_response *resp, const char *name,
                             struct gba_str value);
int gba_http_response_body(struct gba_http_response *resp, const void *body, size_t len);

/*
 * Server push: promise `path` on the request's stream and send the given
 * body as its response (status 200, content-type).  On HTTP/1.1, or when
 * the client disabled push (SETTINGS_ENABLE_PUSH = 0), it does nothing
 * and returns GBA_EUNSUPP; callers fall back to another delivery.
 */
int gba_http_response_push(struct gba_http_response *resp, const char *path,
                           const char *content_type, const void *body, size_t len);

/* A free-standing response, for handler unit tests and tools, and read
 * access to what a handler set.  The layer uses the same object. */
int gba_http_response_new(struct gba_http_response **out);
void gba_http_response_free(struct gba_http_response *resp);
int gba_http_response_get_status(const struct gba_http_response *resp);
/* First header with that name (case-insensitive), or NULL. */
const struct gba_str *gba_http_response_get_header(const struct gba_http_response *resp,
                                                   const char *name);
struct gba_str gba_http_response_get_body(const struct gba_http_response *resp);
/* Let gba_http_response_push() queue pushes on this response (the layer
 * enables it on HTTP/2 streams whose peer accepts push). */
void gba_http_response_allow_push(struct gba_http_response *resp, int allow);
/* 1 when gba_http_response_push can push on this response. */
int gba_http_response_can_push(const struct gba_http_response *resp);

typedef void (*gba_http_handler_fn)(void *ctx, const struct gba_http_request *req,
                                    struct gba_http_response *resp);

/* ---- held responses (long-lived streams) ---- */

/* Octets a connection may hold for its held responses: body bytes not
 * yet written and the bodies of pushes still being sent. */
#define GBA_HTTP_HELD_MAX (256u * 1024u)

struct gba_http_stream;

struct gba_http_stream_cbs {
	/*
	 * The stream is over: the peer closed or reset it, the connection
	 * ended, the server is stopping, or gba_http_stream_end finished.
	 * Called exactly once, on the stream's worker thread, possibly from
	 * inside the layer (never from inside the handler that held it);
	 * st is freed when it returns.  It must not call gba_http_stream_*.
	 */
	void (*on_close)(void *arg, struct gba_http_stream *st);
	/* Optional: there is room again after a write or push failed with
	 * GBA_ETOOBIG.  It may write, push or end. */
	void (*on_drain)(void *arg, struct gba_http_stream *st);
};

/*
 * Hold the response: its status and headers are sent when the handler
 * returns, without content-length, and the stream stays open.  On
 * HTTP/1.1 the body goes in the chunked transfer coding and the
 * connection carries nothing else (further input is read and dropped);
 * on HTTP/2 other streams go on.  A body set with
 * gba_http_response_body is ignored.  cbs is copied; arg is borrowed.
 * On 0 the layer owns *out and calls cbs->on_close exactly once; the
 * handle stays valid until then, and only on the handler's worker
 * thread.  The handler may already write and push (they go out after
 * the headers).  GBA_EUNSUPP for a response that is not attached to a
 * connection (gba_http_response_new), GBA_EINVAL when held twice.
 */
int gba_http_response_hold(struct gba_http_response *resp, const struct gba_http_stream_cbs *cbs,
                           void *arg, struct gba_http_stream **out);

/* Append body octets: DATA frames, or one chunk on HTTP/1.1.
 * GBA_ETOOBIG when the connection's GBA_HTTP_HELD_MAX would be passed
 * (nothing is taken; on_drain follows), GBA_EINVAL after end. */
int gba_http_stream_write(struct gba_http_stream *st, const void *d, size_t len);
/* 1 when gba_http_stream_push can be used at all: HTTP/2 and the peer
 * allows push. */
int gba_http_stream_can_push(const struct gba_http_stream *st);
/*
 * Promise `GET path` on the stream and send body as its 200 response
 * with content_type.  GBA_EUNSUPP without push (see can_push; callers
 * fall back to writing), GBA_ETOOBIG when the held octets would pass the
 * cap or GBA_HTTP_MAX_PUSHES pushes (or the peer's stream limit) are
 * still open (on_drain follows), GBA_EINVAL for a bad path or type.
 */
int gba_http_stream_push(struct gba_http_stream *st, const char *path, const char *content_type,
                         const void *body, size_t len);
/* At most n of this stream's pushes open at once (0: the layer's limit,
 * GBA_HTTP_MAX_PUSHES or the peer's).  With 1 the pushes complete in the
 * order they were promised: a client that handles each push when it
 * completes sees them in that order. */
void gba_http_stream_push_window(struct gba_http_stream *st, unsigned n);
/* HTTP/2: send a PING (a keep-alive that carries no body octets).
 * GBA_EUNSUPP on HTTP/1.1. */
int gba_http_stream_ping(struct gba_http_stream *st);
/* Finish the body once what was written has gone; on_close follows. */
void gba_http_stream_end(struct gba_http_stream *st);

/* ---- server ---- */

struct gba_http_limits {
	unsigned max_connections;         /* per worker */
	size_t max_header_list;           /* bytes of all header names+values */
	unsigned max_concurrent_streams;  /* HTTP/2 SETTINGS */
	size_t max_body;                  /* request body bytes */
	unsigned handshake_timeout_ms;    /* TLS handshake / first request */
	unsigned idle_timeout_ms;         /* no open request on the connection */
	unsigned request_timeout_ms;      /* headers+body of one request */
};

/* Conservative defaults for a daemon facing UEs. */
void gba_http_limits_default(struct gba_http_limits *l);

struct gba_http_listener_conf {
	const char *name;                 /* for logs and the ready report: "ub", "zn" */
	const char *address;              /* numeric IPv4/IPv6, e.g. "127.0.0.1" */
	uint16_t port;                    /* 0: the kernel picks one */
	/* TLS when cert_file is set (PEM files).  client_ca_file asks for a
	 * client certificate and verifies it; require_client_cert refuses
	 * the handshake without one. */
	const char *cert_file;
	const char *key_file;
	const char *client_ca_file;
	int require_client_cert;
	gba_http_handler_fn handler;
	void *ctx;
};

struct gba_http_server_conf {
	const struct gba_http_listener_conf *listeners;
	size_t nlisteners;
	unsigned workers;                 /* threads; 0 = one per CPU */
	struct gba_http_limits limits;
	/* Optional: on_tick(tick_ctx, worker) runs on each worker thread
	 * every tick_ms (0: only when woken), and soon after
	 * gba_http_server_wake.  Held responses are written from here. */
	void (*on_tick)(void *tick_ctx, unsigned worker);
	void *tick_ctx;
	unsigned tick_ms;
};

struct gba_http_server;

/* Bind every listener (so ports are known before run).  The conf and
 * the strings it points to must outlive the server. */
int gba_http_server_new(struct gba_http_server **out, const struct gba_http_server_conf *conf);
/* The bound port of listener i. */
uint16_t gba_http_server_port(const struct gba_http_server *s, size_t i);
/* Run the workers; returns after gba_http_server_stop once every
 * in-flight request has completed (or a grace period of
 * idle_timeout_ms has passed).  Blocks the calling thread. */
int gba_http_server_run(struct gba_http_server *s);
/* Ask for a graceful stop: stop accepting, GOAWAY, finish in-flight
 * requests and end held responses (their on_close runs).  Safe to call
 * from any thread; not from a signal handler. */
void gba_http_server_stop(struct gba_http_server *s);
/* Run every worker's on_tick soon (an ev_async).  Safe to call from any
 * thread, including the workers; not from a signal handler. */
void gba_http_server_wake(struct gba_http_server *s);
/* The number of worker threads (valid after gba_http_server_new). */
unsigned gba_http_server_workers(const struct gba_http_server *s);
void gba_http_server_free(struct gba_http_server *s);

/* ---- client (blocking; one connection, requests in sequence) ---- */

enum gba_http_client_mode {
	GBA_HTTP_CLIENT_H1,       /* HTTP/1.1 (over TLS: ALPN http/1.1) */
	GBA_HTTP_CLIENT_H2,       /* HTTP/2 over TLS (ALPN h2) or h2c with prior knowledge */
	GBA_HTTP_CLIENT_AUTO      /* TLS: whatever ALPN selects; cleartext: HTTP/1.1 */
};

struct gba_http_client_conf {
	enum gba_http_client_mode mode;
	const char *ca_file;              /* trust for https; NULL = system store */
	const char *cert_file;            /* optional client certificate (PEM) */
	const char *key_file;
	unsigned timeout_ms;              /* per request; 0 = 10 s */
	size_t max_body;                  /* response body cap; 0 = 1 MiB */
	int disable_push;                 /* HTTP/2: send SETTINGS_ENABLE_PUSH = 0 */
};

struct gba_http_client;

/* Connect to an http:// or https:// URL's origin.  The path part of the
 * URL is ignored here. */
int gba_http_client_open(struct gba_http_client **out, const struct gba_http_client_conf *conf,
                         const char *url);

struct gba_http_pushed {
	struct gba_str path;
	int status;
	const uint8_t *body;
	size_t body_len;
};

struct gba_http_reply {
	int status;
	enum gba_http_version version;
	const struct gba_http_header *headers;   /* names lower-case */
	size_t nheaders;
	const uint8_t *body;
	size_t body_len;
	const struct gba_http_pushed *pushed;    /* HTTP/2 pushes received with it */
	size_t npushed;
};

/* Send one request and wait for its reply.  On success *reply belongs to
 * the caller, who frees it with gba_http_reply_free; it does not depend
 * on c (it stays valid across later requests and gba_http_client_close).
 * Host, content-length and hop-by-hop fields in headers are ignored (the
 * layer writes its own).  After a reply that closes the connection (or
 * an HTTP/2 GOAWAY) the next request reconnects to the same origin.
 * Errors: GBA_EINVAL, GBA_ENOTFOUND (name), GBA_EIO (connect, timeout,
 * connection lost), GBA_EAUTH/GBA_ECRYPTO (TLS), GBA_EUNSUPP (H2 mode but
 * ALPN refused h2), GBA_ETOOBIG (reply over a cap), GBA_ESYNTAX. */
int gba_http_client_request(struct gba_http_client *c, const char *method, const char *path,
                            const struct gba_http_header *headers, size_t nheaders,
                            const void *body, size_t body_len, struct gba_http_reply **reply);
const struct gba_str *gba_http_reply_header(const struct gba_http_reply *r, const char *lname);
void gba_http_reply_free(struct gba_http_reply *r);
void gba_http_client_close(struct gba_http_client *c);

/* ---- client: a long-lived answer, event by event ---- */

enum gba_http_event_type {
	GBA_HTTP_EV_HEADERS,     /* status and headers of the answer */
	GBA_HTTP_EV_DATA,        /* body octets as they arrive */
	GBA_HTTP_EV_PUSH,        /* a complete pushed response (HTTP/2) */
	GBA_HTTP_EV_END          /* the answer is complete */
};

/* Everything is borrowed for the duration of the callback. */
struct gba_http_event {
	enum gba_http_event_type type;
	int status;                              /* HEADERS, PUSH */
	const struct gba_http_header *headers;   /* HEADERS; names lower-case */
	size_t nheaders;
	const uint8_t *data;                     /* DATA, PUSH (its body) */
	size_t len;
	struct gba_str path;                     /* PUSH: the promised path */
};

/* Return 0 to go on, or a positive value to stop (returned by
 * gba_http_client_stream). */
typedef int (*gba_http_event_fn)(void *arg, const struct gba_http_event *ev);

/*
 * Send one request and hand its answer to fn as it arrives: HEADERS
 * once, DATA for each piece of body, PUSH for each pushed response once
 * it is complete (bodies capped at the client's max_body; any number of
 * pushes over the stream's life, at most GBA_HTTP_MAX_PUSHES open at
 * once), then END.  timeout_ms bounds the whole exchange (0: none).
 * Returns 0 after END, fn's positive value when it stopped (the
 * connection is then closed: the next request reconnects), GBA_EIO for
 * a timeout or a lost connection, or the other codes of
 * gba_http_client_request.
 */
int gba_http_client_stream(struct gba_http_client *c, const char *method, const char *path,
                           const struct gba_http_header *headers, size_t nheaders,
                           unsigned timeout_ms, gba_http_event_fn fn, void *arg);

#endif
