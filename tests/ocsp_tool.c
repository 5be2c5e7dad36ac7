/*
 * ocsp_tool.c - test helper: the revocation codecs (gba_ocsp.h) driven
 * from the shell, so that openssl and certtool can judge the output.
 *
 *   ocsp_tool parse REQ
 *       parse an OCSPRequest, print its CertIDs, nonce and flags
 *   ocsp_tool respond REQ CA.pem CA.key STATUS OUT [byname]
 *       answer REQ as the CA: STATUS is good, unknown or
 *       revoked:REASON (a CRLReason name); a request that does not parse
 *       is answered malformedRequest (exit status 3); a CertID of
 *       another issuer is answered unknown
 *   ocsp_tool error STATUS OUT
 *       an unsuccessful OCSPResponse with that numeric status
 *   ocsp_tool crl CA.pem CA.key OUT [SERIALHEX:REASON[:INVALIDITY]]...
 *       a CRL (number 7, AKI = the CA's SKI, nextUpdate in 7 days);
 *       REASON is a CRLReason name, INVALIDITY seconds since the epoch
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"
#include "gba_ocsp.h"
#include "gba_x509.h"

static uint8_t buf[4 * GBA_MAX_DER_LEN];

static long slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return (long)n;
}

static int spew(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return 2;
	}
	fclose(f);
	return 0;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf("%s", label);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* What the tool needs from the CA certificate. */
struct ca {
	struct gba_signer *signer;
	struct gba_cert_info ci;           /* subject Name DER, SPKI, SKI */
	uint8_t name_sha1[20], name_sha256[32];
	uint8_t key_sha1[20], key_sha256[32];
};

static int ca_open(struct ca *ca, const char *cert_path, const char *key_path)
{
	const uint8_t *der;
	size_t len;
	int ret;

	memset(ca, 0, sizeof(*ca));
	ret = gba_signer_load(&ca->signer, key_path, cert_path);
	if (ret < 0) {
		fprintf(stderr, "load %s: %s\n", key_path, gba_strerror(ret));
		return 2;
	}
	der = gba_signer_cert(ca->signer, &len);
	if (gba_x509_cert_info(der, len, &ca->ci) < 0 || ca->ci.ski_len == 0 ||
	    gba_x509_spki_key_hash(ca->ci.spki, ca->ci.spki_len, GBA_HASH_SHA1, ca->key_sha1) < 0 ||
	    gba_x509_spki_key_hash(ca->ci.spki, ca->ci.spki_len, GBA_HASH_SHA256,
	                           ca->key_sha256) < 0) {
		fprintf(stderr, "%s: not a CA certificate with a subjectKeyIdentifier\n", cert_path);
		gba_cert_info_clear(&ca->ci);
		gba_signer_free(ca->signer);
		return 2;
	}
	gba_hash_fast(GBA_HASH_SHA1, ca->ci.subject_der, ca->ci.subject_der_len, ca->name_sha1);
	gba_hash_fast(GBA_HASH_SHA256, ca->ci.subject_der, ca->ci.subject_der_len,
	              ca->name_sha256);
	return 0;
}

static void ca_close(struct ca *ca)
{
	gba_cert_info_clear(&ca->ci);
	gba_signer_free(ca->signer);
}

static int is_rsa(const uint8_t *oid, size_t len)
{
	static const uint8_t pkcs1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01 };

	return len > sizeof(pkcs1) && memcmp(oid, pkcs1, sizeof(pkcs1)) == 0;
}

static int cmd_parse(const char *path)
{
	struct gba_der_error err = { 0, NULL };
	struct gba_ocsp_req_view v;
	struct gba_ocsp_msg *msg = NULL;
	long n = slurp(path);
	size_t i;
	int ret;

	if (n < 0)
		return 2;
	ret = gba_ocsp_request_parse(buf, (size_t)n, &v, &msg, &err);
	if (ret < 0) {
		printf("%s: rejected at offset %zu: %s (%s)\n", path, err.offset,
		       err.reason ? err.reason : "?", gba_errname(ret));
		return 1;
	}
	printf("certids %zu signed %d requestor %d\n", v.nids, v.is_signed, v.has_requestor_name);
	for (i = 0; i < v.nids; i++) {
		printf("hash %s params %s\n", v.ids[i].hash == GBA_HASH_SHA1 ? "sha1" : "sha256",
		       v.ids[i].hash_params_null ? "null" : "absent");
		print_hex("serial ", v.ids[i].serial.p, v.ids[i].serial.len);
	}
	if (v.has_nonce)
		print_hex("nonce ", v.nonce.p, v.nonce.len);
	gba_ocsp_msg_free(msg);
	return 0;
}

static int cmd_respond(int argc, char **argv)
{
	struct gba_der_error err = { 0, NULL };
	struct gba_ocsp_req_view v;
	struct gba_ocsp_msg *msg = NULL;
	struct gba_ocsp_single singles[GBA_OCSP_MAX_CERTIDS];
	struct gba_ocsp_resp_build b;
	struct ca ca;
	uint8_t *der = NULL;
	size_t len = 0, i;
	int64_t now = (int64_t)time(NULL);
	int ret, reason = GBA_CRL_REASON_NONE;
	enum gba_ocsp_cert_status status;
	long n;

	if (strcmp(argv[5], "good") == 0) {
		status = GBA_OCSP_GOOD;
	} else if (strcmp(argv[5], "unknown") == 0) {
		status = GBA_OCSP_UNKNOWN;
	} else if (strncmp(argv[5], "revoked:", 8) == 0 &&
	           gba_crl_reason_by_name(argv[5] + 8, &reason) == 0) {
		status = GBA_OCSP_REVOKED;
	} else {
		fprintf(stderr, "bad status %s\n", argv[5]);
		return 2;
	}
	n = slurp(argv[2]);
	if (n < 0)
		return 2;
	ret = gba_ocsp_request_parse(buf, (size_t)n, &v, &msg, &err);
	if (ret < 0) {
		printf("malformedRequest: offset %zu: %s (%s)\n", err.offset,
		       err.reason ? err.reason : "?", gba_errname(ret));
		ret = gba_ocsp_error_build(gba_is_fatal(ret) ? GBA_OCSP_INTERNAL_ERROR :
		                           GBA_OCSP_MALFORMED_REQUEST, &der, &len);
		if (ret < 0)
			return 2;
		ret = spew(argv[6], der, len);
		gba_free(der);
		return ret == 0 ? 3 : ret;
	}
	if (ca_open(&ca, argv[3], argv[4]) != 0) {
		gba_ocsp_msg_free(msg);
		return 2;
	}
	memset(singles, 0, sizeof(singles));
	for (i = 0; i < v.nids; i++) {
		const struct gba_ocsp_certid *id = &v.ids[i];
		const uint8_t *nh = id->hash == GBA_HASH_SHA1 ? ca.name_sha1 : ca.name_sha256;
		const uint8_t *kh = id->hash == GBA_HASH_SHA1 ? ca.key_sha1 : ca.key_sha256;
		int ours = memcmp(id->name_hash.p, nh, id->name_hash.len) == 0 &&
		           memcmp(id->key_hash.p, kh, id->key_hash.len) == 0;

		singles[i].id = *id;
		singles[i].status = ours ? status : GBA_OCSP_UNKNOWN;
		singles[i].revoked_at = now - 3600;
		singles[i].reason = reason;
		singles[i].this_update = now - 60;
		singles[i].next_update = now + 86400;
	}
	memset(&b, 0, sizeof(b));
	if (argc > 7 && strcmp(argv[7], "byname") == 0) {
		b.responder_name.p = ca.ci.subject_der;
		b.responder_name.len = ca.ci.subject_der_len;
	} else {
		b.responder_key_hash.p = ca.key_sha1;
		b.responder_key_hash.len = sizeof(ca.key_sha1);
	}
	b.produced_at = now;
	b.responses = singles;
	b.nresponses = v.nids;
	if (v.has_nonce)
		b.nonce = v.nonce;
	b.sig_alg.p = gba_signer_sig_oid(ca.signer, &b.sig_alg.len);
	b.sig_alg_null_params = is_rsa(b.sig_alg.p, b.sig_alg.len);
	b.sign = gba_signer_sign;
	b.sign_ctx = ca.signer;
	ret = gba_ocsp_response_build(&b, &der, &len);
	gba_ocsp_msg_free(msg);
	ca_close(&ca);
	if (ret < 0) {
		fprintf(stderr, "response_build: %s\n", gba_errname(ret));
		return 1;
	}
	ret = spew(argv[6], der, len);
	gba_free(der);
	printf("response %zu bytes, %zu CertIDs, nonce %s\n", len, v.nids,
	       v.has_nonce ? "echoed" : "none");
	return ret;
}

static int cmd_crl(int argc, char **argv)
{
	struct gba_crl_entry e[32];
	uint8_t serials[32][GBA_CRL_MAX_SERIAL];
	struct gba_crl_build b;
	struct ca ca;
	uint8_t *der = NULL;
	size_t len = 0, ne = 0;
	int64_t now = (int64_t)time(NULL);
	int i, ret;

	if (ca_open(&ca, argv[2], argv[3]) != 0)
		return 2;
	memset(e, 0, sizeof(e));
	for (i = 5; i < argc && ne < 32; i++, ne++) {
		char tmp[256], *reason, *inval;
		size_t hl;

		if (strlen(argv[i]) >= sizeof(tmp))
			goto bad;
		memcpy(tmp, argv[i], strlen(argv[i]) + 1);
		reason = strchr(tmp, ':');
		if (reason == NULL)
			goto bad;
		*reason++ = '\0';
		inval = strchr(reason, ':');
		if (inval != NULL)
			*inval++ = '\0';
		hl = strlen(tmp);
		if (hl % 2 != 0 || hl / 2 > GBA_CRL_MAX_SERIAL ||
		    gba_hex_decode(tmp, hl, serials[ne], hl / 2) < 0 ||
		    gba_crl_reason_by_name(reason, &e[ne].reason) != 0)
			goto bad;
		e[ne].serial = serials[ne];
		e[ne].serial_len = hl / 2;
		e[ne].revoked_at = now - 7200 - (int64_t)ne;
		if (inval != NULL)
			e[ne].invalidity_date = strtoll(inval, NULL, 10);
	}
	memset(&b, 0, sizeof(b));
	b.sig_alg.p = gba_signer_sig_oid(ca.signer, &b.sig_alg.len);
	b.sig_alg_null_params = is_rsa(b.sig_alg.p, b.sig_alg.len);
	b.issuer.p = ca.ci.subject_der;
	b.issuer.len = ca.ci.subject_der_len;
	b.this_update = now - 60;
	b.next_update = now + 7 * 86400;
	b.entries = e;
	b.nentries = ne;
	b.crl_number = 7;
	b.aki.p = ca.ci.ski;
	b.aki.len = ca.ci.ski_len;
	b.sign = gba_signer_sign;
	b.sign_ctx = ca.signer;
	ret = gba_crl_build(&b, &der, &len);
	ca_close(&ca);
	if (ret < 0) {
		fprintf(stderr, "crl_build: %s\n", gba_errname(ret));
		return 1;
	}
	ret = spew(argv[4], der, len);
	gba_free(der);
	printf("CRL %zu bytes, %zu entries\n", len, ne);
	return ret;
bad:
	fprintf(stderr, "bad entry %s (SERIALHEX:REASON[:INVALIDITY])\n", argv[i]);
	ca_close(&ca);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return cmd_parse(argv[2]);
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "respond") == 0)
		return cmd_respond(argc, argv);
	if (argc == 4 && strcmp(argv[1], "error") == 0) {
		uint8_t *der = NULL;
		size_t len = 0;
		int ret = gba_ocsp_error_build((enum gba_ocsp_resp_status)strtol(argv[2], NULL, 10),
		                               &der, &len);

		if (ret < 0) {
			fprintf(stderr, "error_build: %s\n", gba_errname(ret));
			return 1;
		}
		ret = spew(argv[3], der, len);
		gba_free(der);
		return ret;
	}
	if (argc >= 5 && strcmp(argv[1], "crl") == 0)
		return cmd_crl(argc, argv);
	fprintf(stderr, "usage: ocsp_tool parse REQ | respond REQ CA.pem CA.key STATUS OUT [byname]"
	                " | error STATUS OUT | crl CA.pem CA.key OUT [SERIAL:REASON[:T]]...\n");
	return 2;
}
