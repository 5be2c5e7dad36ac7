/*
 * gba_h2.h - HTTP/2 for the HTTP layer (server and client sessions) on
 * nghttp2.  Internal; only gba_h2.c includes <nghttp2/nghttp2.h>.  No
 * I/O here: bytes in (recv), frames out into a struct gba_hbuf (send).
 *
 * Server: SETTINGS carry limits->max_concurrent_streams and
 * max_header_list.  A stream whose header fields pass max_header_list or
 * GBA_HTTP_MAX_REQ_HEADERS is answered 431, one whose body passes
 * max_body 413 (then RST_STREAM NO_ERROR if the client is still
 * sending).  Protocol errors end the session with GOAWAY (nghttp2).
 * Pushes that a handler queued are promised (PUSH_PROMISE) before the
 * response and sent after it, when the peer allows push.
 */
#ifndef GBA_H2_H
#define GBA_H2_H

#include "gba_http_int.h"

/* The 24-byte client connection preface. */
#define GBA_H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define GBA_H2_PREFACE_LEN 24u

struct gba_h2_server;

/* ci is borrowed and must outlive the session.  Queues our SETTINGS. */
int gba_h2_server_new(struct gba_h2_server **out, struct gba_http_conn_info *ci);
void gba_h2_server_free(struct gba_h2_server *h);
/* Consume all of d (dispatching complete requests).  A negative return
 * ends the connection (after flushing what gba_h2_server_send yields). */
int gba_h2_server_recv(struct gba_h2_server *h, const uint8_t *d, size_t len);
/* Move frames into out until it holds GBA_HTTP_OUT_SOFT bytes or nothing
 * is left to send. */
int gba_h2_server_send(struct gba_h2_server *h, struct gba_hbuf *out);
int gba_h2_server_want_read(const struct gba_h2_server *h);
int gba_h2_server_want_write(const struct gba_h2_server *h);
/* Some request is partly received. */
int gba_h2_server_busy(const struct gba_h2_server *h);
/* Graceful stop: GOAWAY with the last processed stream; open streams
 * finish (held responses end), and the session then wants neither read
 * nor write. */
void gba_h2_server_shutdown(struct gba_h2_server *h);

/* Held responses (gba_http.c): the stream has new body octets or is
 * ending; a push on it (body copied); how many pushes may be open at
 * once (GBA_HTTP_MAX_PUSHES or the peer's stream limit); a PING. */
int gba_h2_stream_resume(struct gba_h2_server *h, struct gba_http_stream *st);
int gba_h2_stream_push(struct gba_h2_server *h, struct gba_http_stream *st, const char *path,
                       const char *content_type, const void *body, size_t len);
unsigned gba_h2_push_limit(const struct gba_h2_server *h);
int gba_h2_stream_ping(struct gba_h2_server *h);

struct gba_h2_client;

/* enable_push: advertise SETTINGS_ENABLE_PUSH = 1.  Queues the preface
 * and SETTINGS. */
int gba_h2_client_new(struct gba_h2_client **out, int enable_push);
void gba_h2_client_free(struct gba_h2_client *c);
/* Submit one request; its reply and pushes go into rs (borrowed until
 * gba_h2_client_done). */
int gba_h2_client_request(struct gba_h2_client *c, const char *method, const char *scheme,
                          const char *authority, const char *path,
                          const struct gba_http_header *headers, size_t nheaders,
                          const void *body, size_t body_len, struct gba_http_reply_store *rs);
int gba_h2_client_recv(struct gba_h2_client *c, const uint8_t *d, size_t len);
int gba_h2_client_send(struct gba_h2_client *c, struct gba_hbuf *out);
/* 1 when the reply and every push promised with it are complete, 0 while
 * waiting, or a negative code (stream reset, session ended, over a cap). */
int gba_h2_client_done(struct gba_h2_client *c);
/* The session can carry another request (no GOAWAY, no error). */
int gba_h2_client_usable(const struct gba_h2_client *c);

#endif
