/* http_testlib.c - a throw-away PKI (GnuTLS x509 API) and the echo
 * handler for the HTTP layer's tests. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "http_testlib.h"

static const char *const pki_files[] = {
	"ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key",
	"client.der", "other-ca.pem", "other-ca.key", "other.pem", "other.key",
};

static int write_file(const char *dir, const char *name, const void *d, size_t len)
{
	char path[512];
	FILE *f;
	int rc = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (fwrite(d, 1, len, f) == len)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int save_key(const char *dir, const char *name, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d) < 0)
		return -1;
	rc = write_file(dir, name, d.data, d.size);
	gnutls_free(d.data);
	return rc;
}

static int save_crt(const char *dir, const char *name, gnutls_x509_crt_t c,
                    gnutls_x509_crt_fmt_t fmt)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (gnutls_x509_crt_export2(c, fmt, &d) < 0)
		return -1;
	rc = write_file(dir, name, d.data, d.size);
	gnutls_free(d.data);
	return rc;
}

enum kind { K_CA, K_SERVER, K_CLIENT };

static int make_cert(gnutls_x509_crt_t *out, gnutls_x509_privkey_t *key, const char *cn,
                     enum kind kind, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t ikey,
                     unsigned char serial)
{
	static const unsigned char ip4[4] = { 127, 0, 0, 1 };
	static const unsigned char ip6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	unsigned char ser[8] = { 0x01, 0x23, 0x45, 0x67, 0, 0, 0, 0 }, id[64];
	size_t idlen;
	time_t now = time(NULL);
	gnutls_x509_crt_t c = NULL;
	int ok = 0;

	ser[7] = serial;
	if (gnutls_x509_privkey_init(key) < 0 ||
	    gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
	                                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&c) < 0)
		return -1;
	if (gnutls_x509_crt_set_version(c, 3) < 0 ||
	    gnutls_x509_crt_set_serial(c, ser, sizeof(ser)) < 0 ||
	    gnutls_x509_crt_set_activation_time(c, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(c, now + 86400) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                  (unsigned)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_key(c, *key) < 0)
		goto out;
	if (kind == K_CA) {
		if (gnutls_x509_crt_set_basic_constraints(c, 1, -1) < 0 ||
		    gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
		                                     GNUTLS_KEY_DIGITAL_SIGNATURE) < 0)
			goto out;
	} else {
		if (gnutls_x509_crt_set_basic_constraints(c, 0, -1) < 0 ||
		    gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
		    gnutls_x509_crt_set_key_purpose_oid(c, kind == K_SERVER ? GNUTLS_KP_TLS_WWW_SERVER :
		                                        GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0)
			goto out;
	}
	if (kind == K_SERVER &&
	    (gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, "localhost", 9,
	                                          GNUTLS_FSAN_APPEND) < 0 ||
	     gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, ip4, sizeof(ip4),
	                                          GNUTLS_FSAN_APPEND) < 0 ||
	     gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, ip6, sizeof(ip6),
	                                          GNUTLS_FSAN_APPEND) < 0))
		goto out;
	idlen = sizeof(id);
	if (gnutls_x509_crt_get_key_id(c, 0, id, &idlen) < 0 ||
	    gnutls_x509_crt_set_subject_key_id(c, id, idlen) < 0)
		goto out;
	if (issuer != NULL) {
		idlen = sizeof(id);
		if (gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, NULL) < 0 ||
		    gnutls_x509_crt_set_authority_key_id(c, id, idlen) < 0)
			goto out;
	}
	if (gnutls_x509_crt_sign2(c, issuer != NULL ? issuer : c, issuer != NULL ? ikey : *key,
	                          GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	ok = 1;
out:
	if (!ok) {
		gnutls_x509_crt_deinit(c);
		return -1;
	}
	*out = c;
	return 0;
}

int th_make_pki(const char *dir)
{
	gnutls_x509_crt_t ca = NULL, srv = NULL, cli = NULL, oca = NULL, oth = NULL;
	gnutls_x509_privkey_t cak = NULL, srvk = NULL, clik = NULL, ocak = NULL, othk = NULL;
	int rc = -1;

	if (make_cert(&ca, &cak, "gbacert test CA", K_CA, NULL, NULL, 1) < 0 ||
	    make_cert(&srv, &srvk, "localhost", K_SERVER, ca, cak, 2) < 0 ||
	    make_cert(&cli, &clik, "test client", K_CLIENT, ca, cak, 3) < 0 ||
	    make_cert(&oca, &ocak, "unrelated CA", K_CA, NULL, NULL, 4) < 0 ||
	    make_cert(&oth, &othk, "unrelated client", K_CLIENT, oca, ocak, 5) < 0)
		goto out;
	if (save_crt(dir, "ca.pem", ca, GNUTLS_X509_FMT_PEM) < 0 ||
	    save_key(dir, "ca.key", cak) < 0 ||
	    save_crt(dir, "server.pem", srv, GNUTLS_X509_FMT_PEM) < 0 ||
	    save_key(dir, "server.key", srvk) < 0 ||
	    save_crt(dir, "client.pem", cli, GNUTLS_X509_FMT_PEM) < 0 ||
	    save_crt(dir, "client.der", cli, GNUTLS_X509_FMT_DER) < 0 ||
	    save_key(dir, "client.key", clik) < 0 ||
	    save_crt(dir, "other-ca.pem", oca, GNUTLS_X509_FMT_PEM) < 0 ||
	    save_key(dir, "other-ca.key", ocak) < 0 ||
	    save_crt(dir, "other.pem", oth, GNUTLS_X509_FMT_PEM) < 0 ||
	    save_key(dir, "other.key", othk) < 0)
		goto out;
	rc = 0;
out:
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(srv);
	gnutls_x509_crt_deinit(cli);
	gnutls_x509_crt_deinit(oca);
	gnutls_x509_crt_deinit(oth);
	gnutls_x509_privkey_deinit(cak);
	gnutls_x509_privkey_deinit(srvk);
	gnutls_x509_privkey_deinit(clik);
	gnutls_x509_privkey_deinit(ocak);
	gnutls_x509_privkey_deinit(othk);
	return rc;
}

void th_remove_pki(const char *dir)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(pki_files) / sizeof(pki_files[0]); i++)
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, pki_files[i]) < sizeof(path))
			(void)unlink(path);
	(void)rmdir(dir);
}

static int starts(struct gba_str s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && memcmp(s.p, prefix, n) == 0;
}

static int is(struct gba_str s, const char *v)
{
	return s.len == strlen(v) && memcmp(s.p, v, s.len) == 0;
}

static void hdr(struct gba_http_response *resp, const char *name, const char *value)
{
	(void)gba_http_response_header(resp, name, gba_str_c(value));
}

void th_echo_handler(void *ctx, const struct gba_http_request *req,
                     struct gba_http_response *resp)
{
	struct th_echo_ctx *ec = ctx;
	const struct gba_str *foo;
	char buf[64];

	if (starts(req->path, "/echo")) {
		(void)gba_http_response_status(resp, 200);
		(void)gba_http_response_header(resp, "x-method", req->method);
		(void)gba_http_response_header(resp, "x-path", req->path);
		(void)gba_http_response_header(resp, "x-authority", req->authority);
		hdr(resp, "x-version", req->version == GBA_HTTP_2 ? "2" : "1.1");
		hdr(resp, "x-tls", req->tls ? "1" : "0");
		hdr(resp, "x-peer-ok", req->peer != NULL && strchr(req->peer, ':') != NULL ? "1" : "0");
		if (req->client_cert != NULL)
			(void)snprintf(buf, sizeof(buf), "der:%zu", req->client_cert_len);
		else
			(void)snprintf(buf, sizeof(buf), "none");
		hdr(resp, "x-client-cert", buf);
		foo = gba_http_header_get(req, "x-foo");
		if (foo != NULL)
			(void)gba_http_response_header(resp, "x-foo", *foo);
		hdr(resp, "Content-Type", "application/octet-stream");
		(void)gba_http_response_body(resp, req->body, req->body_len);
		return;
	}
	if (is(req->path, "/cert")) {
		if (req->client_cert == NULL) {
			(void)gba_http_response_status(resp, 404);
			return;
		}
		(void)gba_http_response_status(resp, 200);
		(void)gba_http_response_body(resp, req->client_cert, req->client_cert_len);
		return;
	}
	if (is(req->path, "/push")) {
		int a = gba_http_response_push(resp, "/pushed/a", "text/plain", "A", 1);
		int b = gba_http_response_push(resp, "/pushed/b", "text/plain", "B", 1);

		(void)gba_http_response_status(resp, 200);
		hdr(resp, "x-push", a == 0 && b == 0 ? "ok" : "unsupp");
		hdr(resp, "content-type", "text/plain");
		(void)gba_http_response_body(resp, "main", 4);
		return;
	}
	if (is(req->path, "/slow")) {
		if (ec != NULL && ec->slow) {
			(void)sem_post(&ec->entered);
			while (sem_wait(&ec->release) != 0)
				;
		}
		(void)gba_http_response_status(resp, 200);
		(void)gba_http_response_body(resp, "slow", 4);
		return;
	}
	(void)gba_http_response_status(resp, 404);
	(void)gba_http_response_body(resp, "not found\n", 10);
}
