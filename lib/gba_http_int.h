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

struct gba_http_response {
	int status;
	struct gba_http_header headers[GBA_HTTP_MAX_RESP_HEADERS];  /* strings owned */
	size_t nheaders;
	uint8_t *body;                    /* owned */
	size_t body_len;
	int push_allowed;
	struct gba_http_push pushes[GBA_HTTP_MAX_PUSHES];
	size_t npushes;
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
};

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
/* Forget what arrived so far for the main reply (an HTTP/1.1 1xx). */
void gba_reply_restart(struct gba_http_reply_store *rs);

#endif
