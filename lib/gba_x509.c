/* gba_x509.c - GnuTLS certificates, keys and PKCS#7 verification. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_str.h"
#include "gba_x509.h"

/* Content octets of the two signature algorithm OIDs. */
static const uint8_t oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t oid_rsa_sha256[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
};

struct gba_signer {
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;   /* certificate DER */
	int is_ec;
};

void gba_signer_free(struct gba_signer *s)
{
	if (s == NULL)
		return;
	if (s->key != NULL)
		gnutls_privkey_deinit(s->key);
	if (s->crt != NULL)
		gnutls_x509_crt_deinit(s->crt);
	gnutls_free(s->der.data);
	gba_free(s);
}

static int finish_signer(struct gba_signer *s)
{
	int alg;

	if (gnutls_x509_crt_export2(s->crt, GNUTLS_X509_FMT_DER, &s->der) != 0)
		return GBA_ECRYPTO;
	alg = gnutls_privkey_get_pk_algorithm(s->key, NULL);
	if (alg == GNUTLS_PK_ECDSA)
		s->is_ec = 1;
	else if (alg != GNUTLS_PK_RSA)
		return GBA_EUNSUPP;
	return 0;
}

int gba_signer_generate_ca(struct gba_signer **out, const char *cn, unsigned days)
{
	struct gba_signer *s;
	gnutls_pubkey_t pub = NULL;
	uint8_t serial[20], kid[64];
	size_t kid_len = sizeof(kid);
	time_t now = time(NULL);
	int ret = GBA_ECRYPTO;

	*out = NULL;
	if (cn == NULL || days == 0 || days > 36500)
		return GBA_EINVAL;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return GBA_ENOMEM;
	if (gnutls_privkey_init(&s->key) != 0 ||
	    gnutls_privkey_generate2(s->key, GNUTLS_PK_ECDSA,
	                             GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
	                             NULL, 0) != 0)
		goto out;
	if (gnutls_x509_crt_init(&s->crt) != 0 || gnutls_pubkey_init(&pub) != 0)
		goto out;
	if (gnutls_pubkey_import_privkey(pub, s->key, 0, 0) != 0 ||
	    gnutls_x509_crt_set_pubkey(s->crt, pub) != 0)
		goto out;
	ret = gba_rnd(GBA_RND_NONCE, serial, sizeof(serial));
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);  /* positive, full 20 bytes */
	if (gnutls_x509_crt_set_version(s->crt, 3) != 0 ||
	    gnutls_x509_crt_set_serial(s->crt, serial, sizeof(serial)) != 0 ||
	    gnutls_x509_crt_set_dn_by_oid(s->crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                  (unsigned)strlen(cn)) != 0 ||
	    gnutls_x509_crt_set_activation_time(s->crt, now - 3600) != 0 ||
	    gnutls_x509_crt_set_expiration_time(s->crt, now + (time_t)days * 86400) != 0 ||
	    gnutls_x509_crt_set_basic_constraints(s->crt, 1, -1) != 0 ||
	    gnutls_x509_crt_set_key_usage(s->crt, GNUTLS_KEY_KEY_CERT_SIGN |
	                                  GNUTLS_KEY_CRL_SIGN |
	                                  GNUTLS_KEY_DIGITAL_SIGNATURE) != 0)
		goto out;
	if (gnutls_x509_crt_get_key_id(s->crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len) != 0 ||
	    gnutls_x509_crt_set_subject_key_id(s->crt, kid, kid_len) != 0)
		goto out;
	if (gnutls_x509_crt_privkey_sign(s->crt, s->crt, s->key, GNUTLS_DIG_SHA256, 0) != 0)
		goto out;
	ret = finish_signer(s);
out:
	gnutls_pubkey_deinit(pub);
	if (ret < 0)
		gba_signer_free(s);
	else
		*out = s;
	return ret;
}

int gba_signer_issue_leaf(const struct gba_signer *ca, enum gba_leaf_kind kind,
                          const char *dns_name, const char *ip, unsigned days,
                          const char *cert_path, const char *key_path)
{
	struct gba_signer leaf;
	gnutls_pubkey_t pub = NULL;
	uint8_t serial[20], kid[64], ipb[4];
	size_t kid_len = sizeof(kid);
	time_t now = time(NULL);
	int ret = GBA_ECRYPTO;

	if (dns_name == NULL || days == 0 || days > 36500)
		return GBA_EINVAL;
	memset(&leaf, 0, sizeof(leaf));
	if (gnutls_privkey_init(&leaf.key) != 0 ||
	    gnutls_privkey_generate2(leaf.key, GNUTLS_PK_ECDSA,
	                             GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
	                             NULL, 0) != 0)
		goto out;
	if (gnutls_x509_crt_init(&leaf.crt) != 0 || gnutls_pubkey_init(&pub) != 0 ||
	    gnutls_pubkey_import_privkey(pub, leaf.key, 0, 0) != 0 ||
	    gnutls_x509_crt_set_pubkey(leaf.crt, pub) != 0)
		goto out;
	ret = gba_rnd(GBA_RND_NONCE, serial, sizeof(serial));
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	if (gnutls_x509_crt_set_version(leaf.crt, 3) != 0 ||
	    gnutls_x509_crt_set_serial(leaf.crt, serial, sizeof(serial)) != 0 ||
	    gnutls_x509_crt_set_dn_by_oid(leaf.crt, GNUTLS_OID_X520_COMMON_NAME, 0, dns_name,
	                                  (unsigned)strlen(dns_name)) != 0 ||
	    gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_DNSNAME, dns_name,
	                                         (unsigned)strlen(dns_name),
	                                         GNUTLS_FSAN_APPEND) != 0 ||
	    gnutls_x509_crt_set_activation_time(leaf.crt, now - 3600) != 0 ||
	    gnutls_x509_crt_set_expiration_time(leaf.crt, now + (time_t)days * 86400) != 0 ||
	    gnutls_x509_crt_set_basic_constraints(leaf.crt, 0, -1) != 0 ||
	    gnutls_x509_crt_set_key_usage(leaf.crt, GNUTLS_KEY_DIGITAL_SIGNATURE) != 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(leaf.crt, kind == GBA_LEAF_SERVER ?
	                                        GNUTLS_KP_TLS_WWW_SERVER :
	                                        GNUTLS_KP_TLS_WWW_CLIENT, 0) != 0)
		goto out;
	if (ip != NULL) {
		if (inet_pton(AF_INET, ip, ipb) != 1) {
			ret = GBA_EINVAL;
			goto out;
		}
		if (gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_IPADDRESS, ipb,
		                                         sizeof(ipb), GNUTLS_FSAN_APPEND) != 0)
			goto out;
	}
	if (gnutls_x509_crt_get_key_id(leaf.crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len) != 0 ||
	    gnutls_x509_crt_set_subject_key_id(leaf.crt, kid, kid_len) != 0)
		goto out;
	kid_len = sizeof(kid);
	if (gnutls_x509_crt_get_subject_key_id(ca->crt, kid, &kid_len, NULL) == 0 &&
	    gnutls_x509_crt_set_authority_key_id(leaf.crt, kid, kid_len) != 0)
		goto out;
	if (gnutls_x509_crt_privkey_sign(leaf.crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0) != 0)
		goto out;
	ret = finish_signer(&leaf);
	if (ret == 0)
		ret = gba_signer_save(&leaf, cert_path, key_path);
out:
	gnutls_pubkey_deinit(pub);
	if (leaf.key != NULL)
		gnutls_privkey_deinit(leaf.key);
	if (leaf.crt != NULL)
		gnutls_x509_crt_deinit(leaf.crt);
	gnutls_free(leaf.der.data);
	return ret;
}

int gba_signer_load(struct gba_signer **out, const char *key_path, const char *cert_path)
{
	struct gba_signer *s;
	gnutls_datum_t kd = { NULL, 0 }, cd = { NULL, 0 };
	int ret = GBA_EIO;

	*out = NULL;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return GBA_ENOMEM;
	if (gnutls_load_file(key_path, &kd) != 0 || gnutls_load_file(cert_path, &cd) != 0)
		goto out;
	ret = GBA_ESYNTAX;
	if (gnutls_privkey_init(&s->key) != 0 || gnutls_x509_crt_init(&s->crt) != 0)
		goto out;
	if (gnutls_privkey_import_x509_raw(s->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) != 0 ||
	    gnutls_x509_crt_import(s->crt, &cd, GNUTLS_X509_FMT_PEM) != 0)
		goto out;
	ret = finish_signer(s);
out:
	if (kd.data != NULL) {
		gba_wipe(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	gnutls_free(cd.data);
	if (ret < 0)
		gba_signer_free(s);
	else
		*out = s;
	return ret;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const uint8_t *p = data;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return GBA_EIO;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = GBA_EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		ret = GBA_EIO;
	if (close(fd) != 0)
		ret = GBA_EIO;
	return ret;
}

int gba_signer_save(const struct gba_signer *s, const char *cert_path, const char *key_path)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_privkey_t xk = NULL;
	int ret;

	if (gnutls_x509_crt_export2(s->crt, GNUTLS_X509_FMT_PEM, &pem) != 0)
		return GBA_ECRYPTO;
	ret = write_file(cert_path, pem.data, pem.size, 0644);
	gnutls_free(pem.data);
	pem.data = NULL;
	if (ret < 0 || key_path == NULL)
		return ret;
	if (gnutls_privkey_export_x509(s->key, &xk) != 0 ||
	    gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
	                                      GNUTLS_PKCS_PLAIN, &pem) != 0) {
		ret = GBA_ECRYPTO;
		goto out;
	}
	ret = write_file(key_path, pem.data, pem.size, 0600);
out:
	if (pem.data != NULL) {
		gba_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return ret;
}

const uint8_t *gba_signer_cert(const struct gba_signer *s, size_t *len)
{
	*len = s->der.size;
	return s->der.data;
}

const uint8_t *gba_signer_sig_oid(const struct gba_signer *s, size_t *len)
{
	if (s->is_ec) {
		*len = sizeof(oid_ecdsa_sha256);
		return oid_ecdsa_sha256;
	}
	*len = sizeof(oid_rsa_sha256);
	return oid_rsa_sha256;
}

int gba_signer_sign(void *signer, const uint8_t *data, size_t len, uint8_t **sig,
                    size_t *siglen)
{
	struct gba_signer *s = signer;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, 0 };
	gnutls_datum_t out = { NULL, 0 };

	*sig = NULL;
	*siglen = 0;
	if (len > UINT32_MAX)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (gnutls_privkey_sign_data(s->key, GNUTLS_DIG_SHA256, 0, &d, &out) != 0)
		return GBA_ECRYPTO;
	*sig = gba_malloc(out.size);
	if (*sig == NULL) {
		gnutls_free(out.data);
		return GBA_ENOMEM;
	}
	memcpy(*sig, out.data, out.size);
	*siglen = out.size;
	gnutls_free(out.data);
	return 0;
}

static const uint8_t oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };

static gnutls_sign_algorithm_t sign_alg(const uint8_t *oid, size_t len)
{
	if (len == sizeof(oid_ecdsa_sha256) && memcmp(oid, oid_ecdsa_sha256, len) == 0)
		return GNUTLS_SIGN_ECDSA_SHA256;
	if (len == sizeof(oid_rsa_sha256) && memcmp(oid, oid_rsa_sha256, len) == 0)
		return GNUTLS_SIGN_RSA_SHA256;
	if (len == sizeof(oid_rsa) && memcmp(oid, oid_rsa, len) == 0)
		return GNUTLS_SIGN_RSA_SHA256;
	return GNUTLS_SIGN_UNKNOWN;
}

static int import_crt(gnutls_x509_crt_t *crt, const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, 0 };

	*crt = NULL;
	if (len > UINT32_MAX)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_init(crt) != 0)
		return GBA_ENOMEM;
	if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) != 0) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		return GBA_ESYNTAX;
	}
	return 0;
}

int gba_x509_verify_signature(const uint8_t *cert, size_t cert_len, const uint8_t *sig_oid,
                              size_t sig_oid_len, const uint8_t *data, size_t len,
                              const uint8_t *sig, size_t sig_len)
{
	gnutls_sign_algorithm_t alg = sign_alg(sig_oid, sig_oid_len);
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, 0 };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)sig, 0 };
	int ret;

	if (alg == GNUTLS_SIGN_UNKNOWN)
		return GBA_EUNSUPP;
	if (len > UINT32_MAX || sig_len > UINT32_MAX)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	s.size = (unsigned)sig_len;
	ret = import_crt(&crt, cert, cert_len);
	if (ret < 0)
		return ret;
	ret = GBA_ENOMEM;
	if (gnutls_pubkey_init(&pub) != 0)
		goto out;
	ret = GBA_ESYNTAX;
	if (gnutls_pubkey_import_x509(pub, crt, 0) != 0)
		goto out;
	ret = gnutls_pubkey_verify_data2(pub, alg, 0, &d, &s) >= 0 ? 0 : GBA_ESIG;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int gba_x509_verify_chain(const uint8_t *cert, size_t cert_len, const uint8_t *ca,
                          size_t ca_len, time_t now)
{
	gnutls_x509_crt_t crt = NULL, cacrt = NULL;
	unsigned status = 0;
	int ret;

	ret = import_crt(&crt, cert, cert_len);
	if (ret < 0)
		return ret;
	ret = import_crt(&cacrt, ca, ca_len);
	if (ret < 0)
		goto out;
	ret = GBA_ESIG;
	if (gnutls_x509_crt_equals(crt, cacrt)) {
		if (gnutls_x509_crt_get_activation_time(crt) <= now &&
		    now <= gnutls_x509_crt_get_expiration_time(crt))
			ret = 0;
		goto out;
	}
	if (gnutls_x509_crt_list_verify(&crt, 1, &cacrt, 1, NULL, 0,
	                                GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) != 0 ||
	    status != 0)
		goto out;
	if (gnutls_x509_crt_get_activation_time(crt) > now ||
	    now > gnutls_x509_crt_get_expiration_time(crt))
		goto out;
	ret = 0;
out:
	gnutls_x509_crt_deinit(cacrt);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int gba_x509_pem(const char *label, const uint8_t *der, size_t len, char **pem)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, 0 };
	gnutls_datum_t out = { NULL, 0 };

	*pem = NULL;
	if (len > UINT32_MAX / 2)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (gnutls_pem_base64_encode2(label, &d, &out) != 0)
		return GBA_ENOMEM;
	*pem = gba_malloc(out.size + 1);
	if (*pem != NULL) {
		memcpy(*pem, out.data, out.size);
		(*pem)[out.size] = '\0';
	}
	gnutls_free(out.data);
	return *pem != NULL ? 0 : GBA_ENOMEM;
}

int gba_x509_cert_has_dns_name(const uint8_t *der, size_t len, const char *name)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	char buf[256];
	size_t size, nlen;
	unsigned seq;
	int type, ret = 0;

	if (der == NULL || len == 0 || len > 65536 || name == NULL)
		return GBA_EINVAL;
	nlen = strlen(name);
	if (nlen == 0 || nlen >= sizeof(buf))
		return 0;
	if (gnutls_x509_crt_init(&crt) != 0)
		return GBA_ENOMEM;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) != 0) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	for (seq = 0; seq < 64; seq++) {
		size = sizeof(buf);
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;  /* longer than any name we compare with */
		if (type < 0) {
			ret = GBA_ESYNTAX;
			goto out;
		}
		if (type != GNUTLS_SAN_DNSNAME)
			continue;
		/* size excludes the NUL; a name with an embedded NUL is
		 * longer than strlen and cannot match. */
		if (size == nlen && strlen(buf) == nlen && gba_str_caseeq((struct gba_str){ buf, nlen }, (struct gba_str){ name, nlen })) {
			ret = 1;
			goto out;
		}
	}
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}
