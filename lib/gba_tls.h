/*
 * gba_tls.h - byte streams for the HTTP layer: TLS (GnuTLS) or plain
 * TCP behind one interface.  Internal to the HTTP layer; only gba_tls.c
 * includes <gnutls/gnutls.h>.
 *
 * Sockets are non-blocking.  Every I/O call returns 0 (progress made),
 * GBA_TLS_AGAIN (wait for the socket: readable, or writable when
 * gba_tls_want_write() says so), GBA_TLS_CLOSED (the peer closed the
 * stream) or a negative GBA_E* code (the connection is unusable).
 *
 * TLS is 1.2 or 1.3 with ECDHE and AEAD ciphers only.  ALPN offers or
 * selects "h2" and "http/1.1".
 */
#ifndef GBA_TLS_H
#define GBA_TLS_H

#include <stddef.h>
#include <stdint.h>

#define GBA_TLS_AGAIN  1
#define GBA_TLS_CLOSED 2

enum gba_tls_alpn {
	GBA_TLS_ALPN_NONE,
	GBA_TLS_ALPN_H2,
	GBA_TLS_ALPN_H1
};

/* Which protocols a client offers (bit mask of 1 << enum gba_tls_alpn). */
#define GBA_TLS_OFFER_H2 (1u << GBA_TLS_ALPN_H2)
#define GBA_TLS_OFFER_H1 (1u << GBA_TLS_ALPN_H1)

/* Credentials and settings, shared read-only by many connections (and
 * threads) once made. */
struct gba_tls_ctx;

/* A server context: certificate chain and key (PEM files).  With
 * client_ca, a client certificate is requested and verified against it;
 * with require, a handshake without a verified one fails.  On success
 * the caller owns *out (gba_tls_ctx_free). */
int gba_tls_server_ctx_new(struct gba_tls_ctx **out, const char *cert_file, const char *key_file,
                           const char *client_ca, int require);
/* A client context: ca_file (NULL: the system trust store) and an
 * optional client certificate and key. */
int gba_tls_client_ctx_new(struct gba_tls_ctx **out, const char *ca_file, const char *cert_file,
                           const char *key_file);
void gba_tls_ctx_free(struct gba_tls_ctx *ctx);

struct gba_tls_conn;

/* A stream over fd (not owned; the caller closes it after
 * gba_tls_conn_free).  ctx NULL makes a plain TCP stream.  For a client
 * context, host is the name or address the certificate must match (and
 * the SNI when it is a name), offer the ALPN protocols to offer. */
int gba_tls_conn_new(struct gba_tls_conn **out, struct gba_tls_ctx *ctx, int fd, const char *host,
                     unsigned offer);
void gba_tls_conn_free(struct gba_tls_conn *c);

int gba_tls_is_tls(const struct gba_tls_conn *c);
/* Drive the handshake: 0 when done (also for plain streams),
 * GBA_TLS_AGAIN, or GBA_EAUTH (certificate refused) / GBA_ECRYPTO /
 * GBA_EIO. */
int gba_tls_handshake(struct gba_tls_conn *c);
/* The protocol ALPN selected (after the handshake). */
enum gba_tls_alpn gba_tls_alpn(const struct gba_tls_conn *c);
/* Server side: the DER of the client certificate if one was sent and
 * verified against the client CA (borrowed, valid while c lives). */
const uint8_t *gba_tls_peer_cert(const struct gba_tls_conn *c, size_t *len);

/* Read up to len bytes; *got is set on 0. */
int gba_tls_read(struct gba_tls_conn *c, void *buf, size_t len, size_t *got);
/* Write from buf; *put bytes were taken on 0.  After GBA_TLS_AGAIN call
 * again with the same leading bytes (more may follow them). */
int gba_tls_write(struct gba_tls_conn *c, const void *buf, size_t len, size_t *put);
/* Nonzero when the last GBA_TLS_AGAIN waits for the socket to be
 * writable (rather than readable). */
int gba_tls_want_write(const struct gba_tls_conn *c);
/* Decrypted bytes already buffered (no socket event will announce them). */
size_t gba_tls_pending(const struct gba_tls_conn *c);
/* Best-effort close_notify; never blocks. */
void gba_tls_bye(struct gba_tls_conn *c);

#endif
