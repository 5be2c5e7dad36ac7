/* http_testlib.h - shared by check_http and http_echo: a test PKI and
 * the echo/push handler. */
#ifndef GBA_HTTP_TESTLIB_H
#define GBA_HTTP_TESTLIB_H

#include <semaphore.h>

#include "gba_http.h"

/*
 * Write a throw-away PKI into dir:
 *   ca.pem                     the CA that signs server and client
 *   server.pem server.key      CN=localhost, SAN localhost, 127.0.0.1, ::1
 *   client.pem client.key client.der   clientAuth, issued by ca
 *   other-ca.pem other.pem other.key   a client from an unrelated CA
 * Returns 0 or -1.
 */
int th_make_pki(const char *dir);
/* Remove what th_make_pki wrote, and dir. */
void th_remove_pki(const char *dir);

/*
 * The test handler:
 *   /echo...  200, body = request body; x-method, x-path, x-version
 *             ("1.1"/"2"), x-tls, x-authority, x-peer-ok, x-client-cert
 *             ("none" or "der:<len>"), x-foo (copy of the request's)
 *   /cert     200 with the client certificate DER, or 404
 *   /push     200 "main"; pushes /pushed/a ("A") and /pushed/b ("B");
 *             x-push: "ok" or "unsupp"
 *   /slow     with slow set: posts entered, waits for release; 200 "slow"
 *   other     404
 */
struct th_echo_ctx {
	int slow;
	sem_t entered;
	sem_t release;
};

void th_echo_handler(void *ctx, const struct gba_http_request *req,
                     struct gba_http_response *resp);

#endif
