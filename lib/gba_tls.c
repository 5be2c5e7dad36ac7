/* gba_tls.c - TLS (GnuTLS) and plain TCP streams for the HTTP layer. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>

#include <gnutls/gnutls.h>

#include "gba_err.h"
#include "gba_mem.h"
#include "gba_tls.h"

/* TLS 1.2/1.3, forward secrecy, AEAD only; the server's order wins. */
#define GBA_TLS_PRIORITY                                                   \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                      \
	"-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:"        \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* id-kp-clientAuth (GNUTLS_KP_TLS_WWW_CLIENT lives in x509.h). */
#define GBA_KP_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"

struct gba_tls_ctx {
	int server;
	int client_ca;                    /* server: a client CA is configured */
	int require;                      /* server: refuse without a verified cert */
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

struct gba_tls_conn {
	struct gba_tls_ctx *ctx;          /* borrowed; NULL: plain TCP */
	int fd;                           /* borrowed */
	gnutls_session_t session;
	int handshake_done;
	int want_write;
	int write_again;                  /* a gnutls_record_send returned AGAIN */
	uint8_t *peer_cert;               /* owned DER of a verified client cert */
	size_t peer_cert_len;
};

static int verify_client(gnutls_session_t session);

static int ctx_common(struct gba_tls_ctx *ctx)
{
	const char *errpos = NULL;

	if (gnutls_certificate_allocate_credentials(&ctx->cred) < 0)
		return GBA_ENOMEM;
	if (gnutls_priority_init(&ctx->prio, GBA_TLS_PRIORITY, &errpos) < 0)
		return GBA_ECRYPTO;
	return 0;
}

int gba_tls_server_ctx_new(struct gba_tls_ctx **out, const char *cert_file, const char *key_file,
                           const char *client_ca, int require)
{
	struct gba_tls_ctx *ctx = NULL;
	int rc;

	*out = NULL;
	if (cert_file == NULL || key_file == NULL || (require && client_ca == NULL))
		return GBA_EINVAL;
	ctx = gba_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return GBA_ENOMEM;
	ctx->server = 1;
	rc = ctx_common(ctx);
	if (rc < 0)
		goto out;
	if (gnutls_certificate_set_x509_key_file(ctx->cred, cert_file, key_file,
	                                         GNUTLS_X509_FMT_PEM) < 0) {
		rc = GBA_ECRYPTO;
		goto out;
	}
	if (client_ca != NULL) {
		if (gnutls_certificate_set_x509_trust_file(ctx->cred, client_ca,
		                                           GNUTLS_X509_FMT_PEM) <= 0) {
			rc = GBA_ECRYPTO;
			goto out;
		}
		ctx->client_ca = 1;
		ctx->require = require != 0;
		gnutls_certificate_set_verify_function(ctx->cred, verify_client);
	}
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	gba_tls_ctx_free(ctx);
	return rc;
}

int gba_tls_client_ctx_new(struct gba_tls_ctx **out, const char *ca_file, const char *cert_file,
                           const char *key_file)
{
	struct gba_tls_ctx *ctx = NULL;
	int rc;

	*out = NULL;
	if ((cert_file == NULL) != (key_file == NULL))
		return GBA_EINVAL;
	ctx = gba_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return GBA_ENOMEM;
	rc = ctx_common(ctx);
	if (rc < 0)
		goto out;
	if (ca_file != NULL)
		rc = gnutls_certificate_set_x509_trust_file(ctx->cred, ca_file, GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(ctx->cred);
	if (rc <= 0) {
		rc = GBA_ECRYPTO;
		goto out;
	}
	if (cert_file != NULL &&
	    gnutls_certificate_set_x509_key_file(ctx->cred, cert_file, key_file,
	                                         GNUTLS_X509_FMT_PEM) < 0) {
		rc = GBA_ECRYPTO;
		goto out;
	}
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	gba_tls_ctx_free(ctx);
	return rc;
}

void gba_tls_ctx_free(struct gba_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->prio != NULL)
		gnutls_priority_deinit(ctx->prio);
	if (ctx->cred != NULL)
		gnutls_certificate_free_credentials(ctx->cred);
	gba_free(ctx);
}

/* Transport: MSG_NOSIGNAL, so a closed peer never raises SIGPIPE. */
static ssize_t tls_push(gnutls_transport_ptr_t p, const void *d, size_t n)
{
	struct gba_tls_conn *c = p;

	return send(c->fd, d, n, MSG_NOSIGNAL);
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *d, size_t n)
{
	struct gba_tls_conn *c = p;

	return recv(c->fd, d, n, 0);
}

/* Server: called during the handshake when the client sent a
 * certificate.  Keeps the DER when it verifies; fails the handshake when
 * a verified certificate is required and this one is not. */
static int verify_client(gnutls_session_t session)
{
	struct gba_tls_conn *c = gnutls_session_get_ptr(session);
	gnutls_typed_vdata_st vd;
	const gnutls_datum_t *list;
	unsigned int status = 0, n = 0;
	int rc;

	if (c == NULL || c->ctx == NULL)
		return GNUTLS_E_CERTIFICATE_ERROR;
	memset(&vd, 0, sizeof(vd));
	vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd.data = (unsigned char *)(uintptr_t)GBA_KP_CLIENT_AUTH;
	rc = gnutls_certificate_verify_peers(session, &vd, 1, &status);
	list = gnutls_certificate_get_peers(session, &n);
	if (rc < 0 || status != 0 || list == NULL || n == 0) {
		if (c->ctx->require)
			return GNUTLS_E_CERTIFICATE_ERROR;
		return 0;
	}
	gba_free(c->peer_cert);
	c->peer_cert_len = 0;
	c->peer_cert = gba_malloc(list[0].size > 0 ? list[0].size : 1);
	if (c->peer_cert == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(c->peer_cert, list[0].data, list[0].size);
	c->peer_cert_len = list[0].size;
	return 0;
}

static int is_ip_literal(const char *host)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int gba_tls_conn_new(struct gba_tls_conn **out, struct gba_tls_ctx *ctx, int fd, const char *host,
                     unsigned offer)
{
	static const char h2[] = "h2", h1[] = "http/1.1";
	struct gba_tls_conn *c;
	gnutls_datum_t protos[2];
	unsigned np = 0;
	int rc;

	*out = NULL;
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	c->ctx = ctx;
	c->fd = fd;
	if (ctx == NULL) {
		c->handshake_done = 1;
		*out = c;
		return 0;
	}
	if (ctx->server)
		rc = gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
	else
		rc = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (rc < 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	gnutls_session_set_ptr(c->session, c);
	if (gnutls_priority_set(c->session, ctx->prio) < 0 ||
	    gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, ctx->cred) < 0) {
		rc = GBA_ECRYPTO;
		goto out;
	}
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, tls_push);
	gnutls_transport_set_pull_function(c->session, tls_pull);
	if (ctx->server) {
		offer = GBA_TLS_OFFER_H2 | GBA_TLS_OFFER_H1;
		if (ctx->client_ca)
			gnutls_certificate_server_set_request(c->session, ctx->require ?
			                                      GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
	} else {
		if (host == NULL || host[0] == '\0') {
			rc = GBA_EINVAL;
			goto out;
		}
		if (!is_ip_literal(host) &&
		    gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, host, strlen(host)) < 0) {
			rc = GBA_ECRYPTO;
			goto out;
		}
		/* The handshake fails unless the chain verifies and matches host. */
		gnutls_session_set_verify_cert(c->session, host, 0);
	}
	if (offer & GBA_TLS_OFFER_H2) {
		protos[np].data = (unsigned char *)(uintptr_t)h2;
		protos[np++].size = sizeof(h2) - 1;
	}
	if (offer & GBA_TLS_OFFER_H1) {
		protos[np].data = (unsigned char *)(uintptr_t)h1;
		protos[np++].size = sizeof(h1) - 1;
	}
	if (np > 0 && gnutls_alpn_set_protocols(c->session, protos, np, ctx->server ?
	                                        GNUTLS_ALPN_SERVER_PRECEDENCE : 0) < 0) {
		rc = GBA_ECRYPTO;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	gba_tls_conn_free(c);
	return rc;
}

void gba_tls_conn_free(struct gba_tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->session != NULL)
		gnutls_deinit(c->session);
	gba_free(c->peer_cert);
	gba_free(c);
}

int gba_tls_is_tls(const struct gba_tls_conn *c)
{
	return c->session != NULL;
}

static int again(struct gba_tls_conn *c)
{
	c->want_write = gnutls_record_get_direction(c->session) == 1;
	return GBA_TLS_AGAIN;
}

int gba_tls_handshake(struct gba_tls_conn *c)
{
	int rc;

	if (c->handshake_done)
		return 0;
	do {
		rc = gnutls_handshake(c->session);
	} while (rc == GNUTLS_E_INTERRUPTED ||
	         (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc)));
	if (rc == GNUTLS_E_AGAIN)
		return again(c);
	if (rc < 0) {
		switch (rc) {
		case GNUTLS_E_CERTIFICATE_ERROR:
		case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		case GNUTLS_E_NO_CERTIFICATE_FOUND:
			return GBA_EAUTH;
		case GNUTLS_E_PUSH_ERROR:
		case GNUTLS_E_PULL_ERROR:
		case GNUTLS_E_PREMATURE_TERMINATION:
			return GBA_EIO;
		default:
			return GBA_ECRYPTO;
		}
	}
	c->handshake_done = 1;
	c->want_write = 0;
	return 0;
}

enum gba_tls_alpn gba_tls_alpn(const struct gba_tls_conn *c)
{
	gnutls_datum_t p;

	if (c->session == NULL || gnutls_alpn_get_selected_protocol(c->session, &p) < 0)
		return GBA_TLS_ALPN_NONE;
	if (p.size == 2 && memcmp(p.data, "h2", 2) == 0)
		return GBA_TLS_ALPN_H2;
	if (p.size == 8 && memcmp(p.data, "http/1.1", 8) == 0)
		return GBA_TLS_ALPN_H1;
	return GBA_TLS_ALPN_NONE;
}

const uint8_t *gba_tls_peer_cert(const struct gba_tls_conn *c, size_t *len)
{
	*len = c->peer_cert_len;
	return c->peer_cert;
}

static int sock_errno(void)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return GBA_TLS_AGAIN;
	if (errno == ECONNRESET || errno == EPIPE)
		return GBA_TLS_CLOSED;
	return GBA_EIO;
}

int gba_tls_read(struct gba_tls_conn *c, void *buf, size_t len, size_t *got)
{
	ssize_t n;

	*got = 0;
	if (len == 0)
		return GBA_EINVAL;
	if (c->session == NULL) {
		n = recv(c->fd, buf, len, 0);
		c->want_write = 0;
		if (n < 0)
			return sock_errno();
		if (n == 0)
			return GBA_TLS_CLOSED;
		*got = (size_t)n;
		return 0;
	}
	do {
		n = gnutls_record_recv(c->session, buf, len);
	} while (n == GNUTLS_E_INTERRUPTED);
	if (n == GNUTLS_E_AGAIN)
		return again(c);
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
		return GBA_TLS_CLOSED;
	if (n == GNUTLS_E_REHANDSHAKE)
		return GBA_EUNSUPP;
	if (n < 0)
		return gnutls_error_is_fatal((int)n) ? GBA_ECRYPTO : GBA_TLS_AGAIN;
	*got = (size_t)n;
	return 0;
}

int gba_tls_write(struct gba_tls_conn *c, const void *buf, size_t len, size_t *put)
{
	ssize_t n;

	*put = 0;
	if (len == 0 && !c->write_again)
		return 0;
	if (c->session == NULL) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			c->want_write = 1;
			return sock_errno();
		}
		c->want_write = 0;
		*put = (size_t)n;
		return 0;
	}
	do {
		/* After AGAIN GnuTLS finishes the record it already built. */
		if (c->write_again)
			n = gnutls_record_send(c->session, NULL, 0);
		else
			n = gnutls_record_send(c->session, buf, len);
	} while (n == GNUTLS_E_INTERRUPTED);
	if (n == GNUTLS_E_AGAIN) {
		c->write_again = 1;
		return again(c);
	}
	c->write_again = 0;
	if (n < 0)
		return n == GNUTLS_E_PUSH_ERROR ? GBA_TLS_CLOSED : GBA_ECRYPTO;
	*put = (size_t)n;
	return 0;
}

int gba_tls_want_write(const struct gba_tls_conn *c)
{
	return c->want_write;
}

size_t gba_tls_pending(const struct gba_tls_conn *c)
{
	return c->session != NULL ? gnutls_record_check_pending(c->session) : 0;
}

void gba_tls_bye(struct gba_tls_conn *c)
{
	if (c->session != NULL && c->handshake_done)
		(void)gnutls_bye(c->session, GNUTLS_SHUT_WR);
}
