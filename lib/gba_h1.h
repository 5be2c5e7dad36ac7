/*
 * gba_h1.h - HTTP/1.1 for the HTTP layer (server requests and client
 * replies) on libhttp-parser.  Internal; only gba_h1.c includes
 * <http_parser.h>.  No I/O here: bytes in, bytes out (struct gba_hbuf).
 */
#ifndef GBA_H1_H
#define GBA_H1_H

#include "gba_http_int.h"

/* ---- server ----
 * Requests: Content-Length and chunked bodies (decoded) up to
 * limits->max_body (else 413), URL plus header names and values up to
 * limits->max_header_list and GBA_HTTP_MAX_REQ_HEADERS fields (else 431),
 * "Expect: 100-continue" answered.  Malformed input gets 400.  Every
 * error answer closes the connection. */
struct gba_h1_server;

/* ci is borrowed and must outlive the engine. */
int gba_h1_server_new(struct gba_h1_server **out, struct gba_http_conn_info *ci);
void gba_h1_server_free(struct gba_h1_server *h);
/* Parse bytes; a complete request is dispatched and its response
 * appended to out, then parsing stops (*used tells how far it got) so
 * that the caller can drain out before the next pipelined request.
 * Returns 0, or a negative code when the connection must be dropped
 * without an answer. */
int gba_h1_server_recv(struct gba_h1_server *h, const uint8_t *d, size_t len,
                       struct gba_hbuf *out, size_t *used);
/* A request is partly received. */
int gba_h1_server_busy(const struct gba_h1_server *h);
/* The last answer closes the connection: read no more, close once out
 * has drained. */
int gba_h1_server_done(const struct gba_h1_server *h);
/* The last answer was an error (the client may still be sending). */
int gba_h1_server_errored(const struct gba_h1_server *h);

/* A held response (gba_http.c): the connection's only business from its
 * head on; input is read and dropped.  write appends one chunk to out
 * (all or nothing), end the last chunk, after which the connection is
 * done. */
int gba_h1_server_held(const struct gba_h1_server *h);
int gba_h1_stream_write(struct gba_h1_server *h, struct gba_hbuf *out, const void *d, size_t len);
int gba_h1_stream_end(struct gba_h1_server *h, struct gba_hbuf *out);

/* Append a complete answer with an empty body (used before any engine
 * exists, e.g. for the connection limit's 503). */
int gba_h1_simple_response(struct gba_hbuf *out, int status, int close);

/* ---- client ---- */
struct gba_h1_client;

int gba_h1_client_new(struct gba_h1_client **out);
void gba_h1_client_free(struct gba_h1_client *h);
/* Serialise a request into out and get ready for its reply, which goes
 * into rs (borrowed until gba_h1_client_done). */
int gba_h1_client_request(struct gba_h1_client *h, struct gba_hbuf *out, const char *method,
                          const char *authority, const char *path,
                          const struct gba_http_header *headers, size_t nheaders,
                          const void *body, size_t body_len, struct gba_http_reply_store *rs);
/* Feed reply bytes; len 0 means the server closed the connection.
 * Returns 0 or a negative code (malformed reply, over a cap). */
int gba_h1_client_recv(struct gba_h1_client *h, const uint8_t *d, size_t len);
/* The reply is complete. */
int gba_h1_client_done(const struct gba_h1_client *h);
/* The connection may carry another request. */
int gba_h1_client_keepalive(const struct gba_h1_client *h);

#endif
