/*
 * gba_http_int.h - the response object's insides, for the HTTP layer's
 * own modules (server, HTTP/1.1, HTTP/2) only.  Handlers use gba_http.h.
 */
#ifndef GBA_HTTP_INT_H
#define GBA_HTTP_INT_H

#include "gba_http.h"

#define GBA_HTTP_MAX_RESP_HEADERS 32u
#define GBA_HTTP_MAX_PUSHES       16u

struct gba_http_push {
	char *path;                       /* owned */
	char *content_type;               /* owned */
	uint8_t *body;                    /* owned */
	size_t body_len;
};

struct gba_http_conn_info;
struct gba_h1_server;
struct gba_h2_server;

struct gba_http_response {
	int status;
	struct gba_http_header headers[GBA_HTTP_MAX_RESP_HEADERS];  /* strings owned */
	size_t nheaders;
	uint8_t *body;                    /* owned */
	size_t body_len;
	int push_allowed;
	struct gba_http_push pushes[GBA_HTTP_MAX_PUSHES];
	size_t npushes;
	/* Held responses: the connection while a handler runs (NULL for a
	 * free-standing response), and the stream the handler held, which
	 * the engine binds (or closes) once the handler returns. */
	struct gba_http_conn_info *ci;
	struct gba_http_stream *held;     /* its pushes are the stream's */
};


/* Reset to the initial state (status 500, nothing set), freeing contents. */
void gba_http_response_reset(struct gba_http_response *resp);

/* ---- internal to the HTTP layer (server, client, gba_h1, gba_h2, gba_tls) ---- */

/* Caps on a request beyond struct gba_http_limits, and on replies the
 * client accepts.  All checked before storing peer bytes. */
#define GBA_HTTP_MAX_REQ_HEADERS   64u      /* header fields per request */
#define GBA_HTTP_MAX_REPLY_HEADERS 64u      /* header fields per reply (client) */
#define GBA_HTTP_MAX_REPLY_HDRLEN  (16u * 1024u)  /* their names+values (client) */
/* Connection input buffer, and output buffering: a connection stops
 * reading (and HTTP/1.1 stops parsing pipelined requests) while more
 * than GBA_HTTP_OUT_SOFT bytes wait to be written; the hard cap bounds
 * one serialised response (headers and a maximal body) on top of that. */
#define GBA_HTTP_INBUF             (16u * 1024u)
#define GBA_HTTP_OUT_SOFT          (64u * 1024u)
#define GBA_HTTP_OUT_MAX           (GBA_HTTP_OUT_SOFT + GBA_HTTP_MAX_RESP_BODY + 512u * 1024u)

/* A bounded byte queue (output of a connection, request bodies, ...). */
struct gba_hbuf {
	uint8_t *p;                       /* owned */
	size_t off;                       /* first unconsumed byte */
	size_t len;                       /* end of the data */
	size_t cap;                       /* allocated */
	size_t max;                       /* hard cap on len - off */
};

void gba_hbuf_init(struct gba_hbuf *b, size_t max);
void gba_hbuf_clear(struct gba_hbuf *b);
static inline size_t gba_hbuf_used(const struct gba_hbuf *b)
{
	return b->len - b->off;
}
static inline const uint8_t *gba_hbuf_data(const struct gba_hbuf *b)
{
	return b->p + b->off;
}
/* 0, GBA_ETOOBIG (would pass max; nothing appended) or GBA_ENOMEM. */
int gba_hbuf_append(struct gba_hbuf *b, const void *d, size_t n);
void gba_hbuf_consume(struct gba_hbuf *b, size_t n);

/*
 * A held response (gba_http_response_hold).  Owned by its connection
 * (ci->streams); freed by gba_http_stream_closed, which runs on_close.
 */
struct gba_http_stream {
	struct gba_http_stream *prev, *next;
	struct gba_http_conn_info *ci;
	struct gba_http_stream_cbs cbs;
	void *arg;
	struct gba_http_response *resp;   /* until bound: pushes queue here */
	int bound;                        /* the engine has sent the headers */
	int h2;                           /* HTTP/2, else HTTP/1.1 */
	int32_t id;                       /* HTTP/2 stream id */
	int push_allowed;
	/* HTTP/2: body octets the data source has not taken yet; HTTP/1.1:
	 * octets written before the headers went out.  Counted in
	 * ci->held_bytes. */
	struct gba_hbuf data;
	unsigned pushes;                  /* pushes promised and not yet closed */
	unsigned push_window;             /* gba_http_stream_push_window; 0: none */
	int deferred;                     /* HTTP/2: the data source is waiting */
	int want_drain;                   /* a write or push was refused */
	int ending;                       /* gba_http_stream_end was called */
};

/* What the protocol engines know about the connection carrying them.
 * Owned by the server's connection; the engines borrow it. */
struct gba_http_conn_info {
	const struct gba_http_limits *limits;
	gba_http_handler_fn handler;
	void *ctx;
	unsigned listener;
	int tls;
	char peer[64];                    /* "addr:port" */
	const uint8_t *client_cert;       /* verified client certificate, or NULL */
	size_t client_cert_len;
	int stopping;                     /* graceful stop: h1 answers close the connection */
	unsigned long requests;           /* dispatched so far */
	unsigned worker;                  /* the worker thread's index */
	/* Held responses (gba_http_stream.c).  The server fills in out,
	 * kick and the engine; kick schedules the connection's I/O after a
	 * stream wrote outside the connection's own callbacks. */
	struct gba_http_stream *streams;
	size_t held_bytes;                /* octets held for them (HTTP/2) */
	struct gba_hbuf *out;
	void (*kick)(struct gba_http_conn_info *ci);
	void *owner;
	struct gba_h1_server *h1;
	struct gba_h2_server *h2;
};

/* ---- held responses, for the engines and the server ---- */

/* Room left for a held stream's writes and pushes on its connection. */
size_t gba_http_stream_room(const struct gba_http_stream *st);
/* The stream is over: unlink it, run on_close, free it.  Pushes queued
 * in an unbound stream's response are left to the response. */
void gba_http_stream_closed(struct gba_http_stream *st);
/* Close every stream left on the connection (it is going away). */
void gba_http_streams_close_all(struct gba_http_conn_info *ci);
/* Run on_drain for streams that were refused and have room again;
 * returns how many ran. */
int gba_http_streams_drain(struct gba_http_conn_info *ci);

/* Fill in the connection fields of req, reset resp (allowing pushes
 * when allow_push), run the handler and normalise what it set (a 1xx
 * status becomes 500). */
void gba_http_dispatch(struct gba_http_conn_info *ci, struct gba_http_request *req,
                       struct gba_http_response *resp, int allow_push);

/* Standard reason phrase ("OK", ...); "" for unknown codes. */
const char *gba_http_reason(int status);

/* True for headers the layer writes itself or that HTTP/2 forbids:
 * content-length, connection, transfer-encoding, keep-alive, upgrade,
 * proxy-connection (case-insensitive). */
int gba_http_hop_header(const char *name);

/* ---- the client's reply collector (lib/gba_http_client.c) ----
 * gba_h1 and gba_h2 fill one in while a reply arrives; every call checks
 * the caps (GBA_HTTP_MAX_REPLY_*, the client's max_body,
 * GBA_HTTP_MAX_PUSHES) and returns 0, GBA_ETOOBIG, GBA_EINVAL or
 * GBA_ENOMEM.  push is -1 for the main reply, else a push index. */
struct gba_http_reply_store;
int gba_reply_status(struct gba_http_reply_store *rs, int push, int status);
int gba_reply_header(struct gba_http_reply_store *rs, int push, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen);
int gba_reply_body(struct gba_http_reply_store *rs, int push, const uint8_t *d, size_t n);
/* A new pushed response for `path`; *index is its push index. */
int gba_reply_push_new(struct gba_http_reply_store *rs, const uint8_t *path, size_t len,
                       int *index);
/* Streaming (gba_http_client_stream): the answer's headers are complete;
 * push `index` is complete (its slot is then free for another push).
 * Both are no-ops for an ordinary request. */
int gba_reply_headers_done(struct gba_http_reply_store *rs);
int gba_reply_push_done(struct gba_http_reply_store *rs, int index);
/* Streaming: forget push `index` (reset before it completed). */
void gba_reply_push_drop(struct gba_http_reply_store *rs, int index);
/* 1 when the store streams (events instead of a collected reply). */
int gba_reply_streaming(const struct gba_http_reply_store *rs);
/* Forget what arrived so far for the main reply (an HTTP/1.1 1xx). */
void gba_reply_restart(struct gba_http_reply_store *rs);

#endif
