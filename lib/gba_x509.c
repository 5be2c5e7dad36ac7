/* gba_x509.c - GnuTLS certificates, keys and PKCS#7 verification. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_str.h"
#include "gba_x509.h"

#define KEY_FILE_MAX (64u * 1024u)      /* a PEM private key, RSA 4096 included */
#define MAX_DAYS     36500u

/* Content octets of the signature algorithm OIDs. */
static const uint8_t oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t oid_ecdsa_sha384[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const uint8_t oid_ecdsa_sha512[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };
static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };
static const uint8_t oid_rsa_sha256[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
};
static const uint8_t oid_rsa_sha384[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c
};
static const uint8_t oid_rsa_sha512[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d
};
static const uint8_t oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };

#define OID_KP_CMC_CA "1.3.6.1.5.5.7.3.27"
#define OID_KP_CMC_RA "1.3.6.1.5.5.7.3.28"
#define OID_KP_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"

struct gba_key {
	gnutls_privkey_t priv;
	enum gba_key_type type;
	int token;            /* in a PKCS#11 token: cannot be exported */
};

struct gba_signer {
	struct gba_key *key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;   /* certificate DER */
};

/* ---- key types ---- */

static const char *const key_type_names[GBA_KEY_TYPE_COUNT] = {
	[GBA_KEY_EC_P256] = "ec-p256",
	[GBA_KEY_EC_P384] = "ec-p384",
	[GBA_KEY_ED25519] = "ed25519",
	[GBA_KEY_RSA_2048] = "rsa-2048",
	[GBA_KEY_RSA_3072] = "rsa-3072",
	[GBA_KEY_RSA_4096] = "rsa-4096",
};

const char *gba_key_type_name(enum gba_key_type t)
{
	if ((unsigned)t >= GBA_KEY_TYPE_COUNT)
		return NULL;
	return key_type_names[t];
}

int gba_key_type_parse(const char *name, enum gba_key_type *t)
{
	unsigned i;

	if (name == NULL)
		return GBA_EINVAL;
	for (i = 0; i < GBA_KEY_TYPE_COUNT; i++) {
		if (strcmp(name, key_type_names[i]) == 0) {
			*t = (enum gba_key_type)i;
			return 0;
		}
	}
	return GBA_EINVAL;
}

/* The signature algorithm and the certificate-signing digest of a type. */
static gnutls_sign_algorithm_t type_sign_alg(enum gba_key_type t)
{
	switch (t) {
	case GBA_KEY_EC_P256:
		return GNUTLS_SIGN_ECDSA_SHA256;
	case GBA_KEY_EC_P384:
		return GNUTLS_SIGN_ECDSA_SHA384;
	case GBA_KEY_ED25519:
		return GNUTLS_SIGN_EDDSA_ED25519;
	default:
		return GNUTLS_SIGN_RSA_SHA256;
	}
}

static gnutls_digest_algorithm_t type_digest(enum gba_key_type t)
{
	switch (t) {
	case GBA_KEY_EC_P384:
		return GNUTLS_DIG_SHA384;
	case GBA_KEY_ED25519:
		return GNUTLS_DIG_SHA512;   /* what GnuTLS pairs with pure Ed25519 */
	default:
		return GNUTLS_DIG_SHA256;
	}
}

/* ---- a minimal DER walker over input GnuTLS has already parsed ---- */

/*
 * Read one TLV with a one-octet tag at *p (not past end).  On success
 * *tag, *val and *vlen describe it, *p moves past it, and 0 is returned;
 * GBA_ESYNTAX otherwise.
 */
static int der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag, const uint8_t **val,
                    size_t *vlen)
{
	const uint8_t *q = *p;
	size_t len = 0, n;

	if (end - q < 2)
		return GBA_ESYNTAX;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return GBA_ESYNTAX;
	if (*q < 0x80) {
		len = *q++;
	} else {
		n = (size_t)(*q++ & 0x7f);
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return GBA_ESYNTAX;
		while (n-- > 0)
			len = (len << 8) | *q++;
	}
	if ((size_t)(end - q) < len)
		return GBA_ESYNTAX;
	*val = q;
	*vlen = len;
	*p = q + len;
	return 0;
}

/* ---- public keys ---- */

static int import_spki(gnutls_pubkey_t *pub, const uint8_t *spki, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)spki, 0 };

	*pub = NULL;
	if (spki == NULL || len == 0)
		return GBA_EINVAL;
	if (len > 65536)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (gnutls_pubkey_init(pub) != 0)
		return GBA_ENOMEM;
	if (gnutls_pubkey_import(*pub, &d, GNUTLS_X509_FMT_DER) != 0) {
		gnutls_pubkey_deinit(*pub);
		*pub = NULL;
		return GBA_ESYNTAX;
	}
	return 0;
}

/* The enum gba_key_type of a public key; GBA_EUNSUPP for others. */
static int pubkey_type(gnutls_pubkey_t pub, enum gba_key_type *t)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	unsigned bits = 0;
	int alg, ret = GBA_EUNSUPP;

	alg = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	switch (alg) {
	case GNUTLS_PK_ECDSA:
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, &y, 0) != 0)
			return GBA_ESYNTAX;
		gnutls_free(x.data);
		gnutls_free(y.data);
		if (curve == GNUTLS_ECC_CURVE_SECP256R1) {
			*t = GBA_KEY_EC_P256;
			ret = 0;
		} else if (curve == GNUTLS_ECC_CURVE_SECP384R1) {
			*t = GBA_KEY_EC_P384;
			ret = 0;
		}
		break;
	case GNUTLS_PK_EDDSA_ED25519:
		*t = GBA_KEY_ED25519;
		ret = 0;
		break;
	case GNUTLS_PK_RSA:
		ret = 0;
		if (bits == 2048)
			*t = GBA_KEY_RSA_2048;
		else if (bits == 3072)
			*t = GBA_KEY_RSA_3072;
		else if (bits == 4096)
			*t = GBA_KEY_RSA_4096;
		else
			ret = GBA_EUNSUPP;
		break;
	default:
		break;
	}
	return ret;
}

/* GnuTLS's export d (freed here) into a gba_malloc copy. */
static int take_datum(gnutls_datum_t *d, uint8_t **der, size_t *len)
{
	*der = gba_malloc(d->size);
	if (*der == NULL) {
		gnutls_free(d->data);
		return GBA_ENOMEM;
	}
	memcpy(*der, d->data, d->size);
	*len = d->size;
	gnutls_free(d->data);
	return 0;
}

static int export_pubkey(gnutls_pubkey_t pub, uint8_t **der, size_t *len)
{
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &d) != 0)
		return GBA_ECRYPTO;
	return take_datum(&d, der, len);
}

int gba_x509_spki_type(const uint8_t *spki, size_t len, enum gba_key_type *t)
{
	gnutls_pubkey_t pub;
	int ret;

	ret = import_spki(&pub, spki, len);
	if (ret < 0)
		return ret == GBA_EINVAL ? GBA_ESYNTAX : ret;
	ret = pubkey_type(pub, t);
	gnutls_pubkey_deinit(pub);
	return ret;
}

int gba_x509_spki_key_id(const uint8_t *spki, size_t len, uint8_t id[GBA_X509_KEY_ID_LEN])
{
	return gba_x509_spki_key_hash(spki, len, GBA_HASH_SHA1, id);
}

int gba_x509_spki_key_hash(const uint8_t *spki, size_t len, enum gba_hash_alg alg,
                           uint8_t *out)
{
	const uint8_t *p = spki, *end, *seq, *val;
	size_t seq_len, vlen;
	uint8_t tag;

	if (spki == NULL || len == 0)
		return GBA_EINVAL;
	end = spki + len;
	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING } */
	if (der_next(&p, end, &tag, &seq, &seq_len) != 0 || tag != 0x30 || p != end)
		return GBA_ESYNTAX;
	p = seq;
	end = seq + seq_len;
	if (der_next(&p, end, &tag, &val, &vlen) != 0 || tag != 0x30)
		return GBA_ESYNTAX;
	if (der_next(&p, end, &tag, &val, &vlen) != 0 || tag != 0x03 || p != end ||
	    vlen < 2 || val[0] != 0)
		return GBA_ESYNTAX;
	return gba_hash_fast(alg, val + 1, vlen - 1, out);
}

/* ---- private keys ---- */

void gba_key_free(struct gba_key *k)
{
	if (k == NULL)
		return;
	if (k->priv != NULL)
		gnutls_privkey_deinit(k->priv);
	gba_free(k);
}

/* Set k->type from the key's public half. */
static int key_finish(struct gba_key *k)
{
	gnutls_pubkey_t pub = NULL;
	int ret;

	if (gnutls_pubkey_init(&pub) != 0)
		return GBA_ENOMEM;
	ret = GBA_ECRYPTO;
	if (gnutls_pubkey_import_privkey(pub, k->priv, 0, 0) != 0)
		goto out;
	ret = pubkey_type(pub, &k->type);
out:
	gnutls_pubkey_deinit(pub);
	return ret;
}

int gba_key_generate(struct gba_key **out, enum gba_key_type t)
{
	struct gba_key *k;
	gnutls_pk_algorithm_t alg;
	unsigned bits;
	int ret = GBA_ECRYPTO;

	*out = NULL;
	switch (t) {
	case GBA_KEY_EC_P256:
		alg = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		break;
	case GBA_KEY_EC_P384:
		alg = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		break;
	case GBA_KEY_ED25519:
		alg = GNUTLS_PK_EDDSA_ED25519;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		break;
	case GBA_KEY_RSA_2048:
		alg = GNUTLS_PK_RSA;
		bits = 2048;
		break;
	case GBA_KEY_RSA_3072:
		alg = GNUTLS_PK_RSA;
		bits = 3072;
		break;
	case GBA_KEY_RSA_4096:
		alg = GNUTLS_PK_RSA;
		bits = 4096;
		break;
	default:
		return GBA_EINVAL;
	}
	k = gba_calloc(1, sizeof(*k));
	if (k == NULL)
		return GBA_ENOMEM;
	if (gnutls_privkey_init(&k->priv) != 0 ||
	    gnutls_privkey_generate2(k->priv, alg, bits, 0, NULL, 0) != 0)
		goto out;
	ret = key_finish(k);
	if (ret == 0 && k->type != t)
		ret = GBA_EINTERNAL;
out:
	if (ret < 0)
		gba_key_free(k);
	else
		*out = k;
	return ret;
}

/*
 * Read a PEM private key file.  With check_mode the file must be a
 * regular file without group or other permission bits (GBA_EPERM).
 */
static int key_load_pem(struct gba_key *k, const char *path, int check_mode)
{
	gnutls_datum_t d = { NULL, 0 };
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, ret = GBA_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	          (check_mode ? O_NOFOLLOW : 0));
	if (fd < 0)
		return errno == ELOOP ? GBA_EPERM : GBA_EIO;
	if (fstat(fd, &sb) != 0)
		goto out;
	ret = GBA_EPERM;
	if (!S_ISREG(sb.st_mode) || (check_mode && (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0))
		goto out;
	ret = GBA_ETOOBIG;
	if (sb.st_size < 0 || (uint64_t)sb.st_size > KEY_FILE_MAX)
		goto out;
	ret = GBA_ENOMEM;
	buf = gba_malloc(KEY_FILE_MAX + 1);
	if (buf == NULL)
		goto out;
	ret = GBA_EIO;
	while (got < KEY_FILE_MAX + 1) {
		n = read(fd, buf + got, KEY_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ret = GBA_ETOOBIG;
	if (got > KEY_FILE_MAX)
		goto out;
	d.data = buf;
	d.size = (unsigned)got;
	ret = GBA_ESYNTAX;
	if (gnutls_privkey_init(&k->priv) != 0 ||
	    gnutls_privkey_import_x509_raw(k->priv, &d, GNUTLS_X509_FMT_PEM, NULL, 0) != 0)
		goto out;
	ret = key_finish(k);
out:
	if (buf != NULL) {
		gba_wipe(buf, KEY_FILE_MAX + 1);
		gba_free(buf);
	}
	close(fd);
	return ret;
}

/*
 * PIN for a token login when the URI has no pin-value: GBA_PKCS11_PIN,
 * offered once (a wrong PIN is not retried, so the token's counter
 * moves by one at most).
 */
static int pin_from_env(void *userdata, int attempt, const char *token_url,
                        const char *token_label, unsigned int flags, char *pin, size_t pin_max)
{
	const char *env = getenv("GBA_PKCS11_PIN");
	size_t n;

	(void)userdata;
	(void)token_url;
	(void)token_label;
	if (env == NULL || attempt > 0 || (flags & GNUTLS_PIN_WRONG) != 0)
		return -1;
	n = strlen(env);
	if (n == 0 || n >= pin_max)
		return -1;
	memcpy(pin, env, n + 1);
	return 0;
}

/* With GBA_PKCS11_MODULE set, use that module instead of p11-kit's list. */
static int pkcs11_setup(void)
{
	static int done;
	const char *module = getenv("GBA_PKCS11_MODULE");

	if (done || module == NULL || *module == '\0')
		return 0;
	if (gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL) != 0 ||
	    gnutls_pkcs11_add_provider(module, NULL) != 0)
		return GBA_ECRYPTO;
	done = 1;
	return 0;
}

static int key_load_token(struct gba_key *k, const char *uri)
{
	int ret;

	ret = pkcs11_setup();
	if (ret < 0)
		return ret;
	if (gnutls_privkey_init(&k->priv) != 0)
		return GBA_ENOMEM;
	gnutls_privkey_set_pin_function(k->priv, pin_from_env, NULL);
	if (gnutls_privkey_import_url(k->priv, uri, 0) != 0)
		return GBA_ENOTFOUND;
	k->token = 1;
	return key_finish(k);
}

int gba_key_load(struct gba_key **out, const char *key)
{
	struct gba_key *k;
	int ret;

	*out = NULL;
	if (key == NULL || *key == '\0')
		return GBA_EINVAL;
	k = gba_calloc(1, sizeof(*k));
	if (k == NULL)
		return GBA_ENOMEM;
	if (strncmp(key, "pkcs11:", 7) == 0)
		ret = key_load_token(k, key);
	else
		ret = key_load_pem(k, key, 1);
	if (ret < 0)
		gba_key_free(k);
	else
		*out = k;
	return ret;
}

/*
 * Write len bytes to path with the given mode, never following a
 * symlink.  excl: the file must not exist (GBA_EDUP); otherwise an
 * existing regular file is replaced (GBA_EPERM for anything else).
 */
static int write_file_mode(const char *path, const void *data, size_t len, mode_t mode, int excl)
{
	const uint8_t *p = data;
	struct stat sb;
	int fd, ret = GBA_EIO;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	          (excl ? O_EXCL : 0), mode);
	if (fd < 0)
		return errno == EEXIST ? GBA_EDUP : errno == ELOOP ? GBA_EPERM : GBA_EIO;
	if (fstat(fd, &sb) != 0)
		goto out;
	ret = GBA_EPERM;
	if (!S_ISREG(sb.st_mode))
		goto out;
	ret = GBA_EIO;
	if (fchmod(fd, mode) != 0 || ftruncate(fd, 0) != 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto out;
	ret = 0;
out:
	if (close(fd) != 0 && ret == 0)
		ret = GBA_EIO;
	return ret;
}

static int key_write(const struct gba_key *k, const char *path, int excl)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret = GBA_ECRYPTO;

	if (k->token)
		return GBA_EUNSUPP;
	if (gnutls_privkey_export_x509(k->priv, &xk) != 0 ||
	    gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
	                                      &pem) != 0)
		goto out;
	ret = write_file_mode(path, pem.data, pem.size, 0600, excl);
out:
	if (pem.data != NULL) {
		gba_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return ret;
}

int gba_key_save(const struct gba_key *k, const char *path)
{
	return key_write(k, path, 0);
}

enum gba_key_type gba_key_get_type(const struct gba_key *k)
{
	return k->type;
}

int gba_key_is_rsa(const struct gba_key *k)
{
	return k->type == GBA_KEY_RSA_2048 || k->type == GBA_KEY_RSA_3072 ||
	       k->type == GBA_KEY_RSA_4096;
}

int gba_key_spki(const struct gba_key *k, uint8_t **der, size_t *len)
{
	gnutls_pubkey_t pub = NULL;
	int ret;

	*der = NULL;
	*len = 0;
	if (gnutls_pubkey_init(&pub) != 0)
		return GBA_ENOMEM;
	ret = GBA_ECRYPTO;
	if (gnutls_pubkey_import_privkey(pub, k->priv, 0, 0) != 0)
		goto out;
	ret = export_pubkey(pub, der, len);
out:
	gnutls_pubkey_deinit(pub);
	return ret;
}

const uint8_t *gba_key_sig_oid(const struct gba_key *k, size_t *len)
{
	switch (k->type) {
	case GBA_KEY_EC_P256:
		*len = sizeof(oid_ecdsa_sha256);
		return oid_ecdsa_sha256;
	case GBA_KEY_EC_P384:
		*len = sizeof(oid_ecdsa_sha384);
		return oid_ecdsa_sha384;
	case GBA_KEY_ED25519:
		*len = sizeof(oid_ed25519);
		return oid_ed25519;
	default:
		*len = sizeof(oid_rsa_sha256);
		return oid_rsa_sha256;
	}
}

enum gba_hash_alg gba_key_cms_hash(const struct gba_key *k)
{
	switch (k->type) {
	case GBA_KEY_EC_P384:
		return GBA_HASH_SHA384;
	case GBA_KEY_ED25519:
		return GBA_HASH_SHA512;   /* RFC 8419 */
	default:
		return GBA_HASH_SHA256;
	}
}

int gba_key_sign(void *key, const uint8_t *data, size_t len, uint8_t **sig, size_t *siglen)
{
	struct gba_key *k = key;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, 0 };
	gnutls_datum_t out = { NULL, 0 };

	*sig = NULL;
	*siglen = 0;
	if (len > UINT32_MAX)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (gnutls_privkey_sign_data2(k->priv, type_sign_alg(k->type), 0, &d, &out) != 0)
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

/* ---- building certificates ---- */

/* Everything build_cert needs; all borrowed. */
struct cert_req {
	gnutls_pubkey_t pub;                 /* subject public key */
	const uint8_t *spki;                 /* the same, DER (for the SKI) */
	size_t spki_len;
	const char *dn;                      /* RFC 4514 subject, or NULL and: */
	const char *cn;                      /* a subject of just this CN */
	const uint8_t *serial;
	size_t serial_len;
	time_t not_before, not_after;
	int ca;                              /* basicConstraints cA */
	int pathlen;                         /* -1: no pathLenConstraint */
	unsigned ku;                         /* GNUTLS_KEY_* bits; 0: no extension */
	const char *const *eku;
	size_t neku;
	const char *const *san;              /* "uri:", "dns:", "email:" */
	size_t nsan;
	const char *ocsp_url, *crl_url;
	int ocsp_nocheck;                    /* id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1) */
};

static int add_san(gnutls_x509_crt_t crt, const char *san)
{
	static const struct {
		const char *prefix;
		size_t len;
		gnutls_x509_subject_alt_name_t type;
	} kinds[] = {
		{ "uri:", 4, GNUTLS_SAN_URI },
		{ "dns:", 4, GNUTLS_SAN_DNSNAME },
		{ "email:", 6, GNUTLS_SAN_RFC822NAME },
	};
	size_t i, n;

	if (san == NULL)
		return GBA_EINVAL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strncmp(san, kinds[i].prefix, kinds[i].len) != 0)
			continue;
		n = strlen(san + kinds[i].len);
		if (n == 0 || n > 1024)
			return GBA_EINVAL;
		if (gnutls_x509_crt_set_subject_alt_name(crt, kinds[i].type, san + kinds[i].len,
		                                         (unsigned)n, GNUTLS_FSAN_APPEND) != 0)
			return GBA_EINVAL;
		return 0;
	}
	return GBA_EINVAL;
}

/* The SKI to name the issuer by: its subjectKeyIdentifier, else method 1
 * over its public key. */
static int issuer_key_id(gnutls_x509_crt_t issuer, uint8_t *id, size_t *id_len)
{
	gnutls_pubkey_t pub = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	unsigned critical = 0;
	int ret;

	if (gnutls_x509_crt_get_subject_key_id(issuer, id, id_len, &critical) == 0)
		return 0;
	if (gnutls_pubkey_init(&pub) != 0)
		return GBA_ENOMEM;
	ret = GBA_ECRYPTO;
	if (gnutls_pubkey_import_x509(pub, issuer, 0) != 0)
		goto out;
	ret = export_pubkey(pub, &spki, &spki_len);
	if (ret < 0)
		goto out;
	ret = gba_x509_spki_key_id(spki, spki_len, id);
	*id_len = GBA_X509_KEY_ID_LEN;
out:
	gba_free(spki);
	gnutls_pubkey_deinit(pub);
	return ret;
}

/*
 * Build and sign a v3 certificate.  issuer NULL: self-signed with ikey
 * (which must be the key of r->pub).  *out is a new certificate
 * (gnutls_x509_crt_deinit).
 */
static int build_cert(gnutls_x509_crt_t *out, const struct cert_req *r,
                      gnutls_x509_crt_t issuer, const struct gba_key *ikey)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t url;
	uint8_t ski[GBA_X509_KEY_ID_LEN], aki[64];
	size_t aki_len = sizeof(aki), i;
	const char *err = NULL;
	int ret = GBA_ENOMEM;

	*out = NULL;
	if (gnutls_x509_crt_init(&crt) != 0)
		goto out;
	ret = gba_x509_spki_key_id(r->spki, r->spki_len, ski);
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
	if (gnutls_x509_crt_set_version(crt, 3) != 0 || gnutls_x509_crt_set_pubkey(crt, r->pub) != 0)
		goto out;
	ret = GBA_EINVAL;
	if (gnutls_x509_crt_set_serial(crt, r->serial, r->serial_len) != 0)
		goto out;
	if (r->dn != NULL) {
		if (gnutls_x509_crt_set_dn(crt, r->dn, &err) != 0)
			goto out;
	} else if (r->cn == NULL ||
	           gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, r->cn,
	                                         (unsigned)strlen(r->cn)) != 0) {
		goto out;
	}
	if (gnutls_x509_crt_set_activation_time(crt, r->not_before) != 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, r->not_after) != 0)
		goto out;
	/* GnuTLS marks basicConstraints and keyUsage critical. */
	if (gnutls_x509_crt_set_basic_constraints(crt, (unsigned)r->ca, r->pathlen) != 0)
		goto out;
	if (r->ku != 0 && gnutls_x509_crt_set_key_usage(crt, r->ku) != 0)
		goto out;
	for (i = 0; i < r->neku; i++) {
		if (r->eku[i] == NULL || gnutls_x509_crt_set_key_purpose_oid(crt, r->eku[i], 0) != 0)
			goto out;
	}
	for (i = 0; i < r->nsan; i++) {
		ret = add_san(crt, r->san[i]);
		if (ret < 0)
			goto out;
	}
	ret = GBA_EINVAL;
	if (r->ocsp_url != NULL) {
		url.data = (unsigned char *)(uintptr_t)r->ocsp_url;
		url.size = (unsigned)strnlen(r->ocsp_url, 4097);
		if (url.size == 0 || url.size > 4096 ||
		    gnutls_x509_crt_set_authority_info_access(crt, GNUTLS_IA_OCSP_URI, &url) != 0)
			goto out;
	}
	if (r->crl_url != NULL) {
		if (*r->crl_url == '\0' || strnlen(r->crl_url, 4097) > 4096 ||
		    gnutls_x509_crt_set_crl_dist_points(crt, GNUTLS_SAN_URI, r->crl_url, 0) != 0)
			goto out;
	}
	ret = GBA_ECRYPTO;
	/* id-pkix-ocsp-nocheck ::= NULL, non-critical */
	if (r->ocsp_nocheck &&
	    gnutls_x509_crt_set_extension_by_oid(crt, "1.3.6.1.5.5.7.48.1.5", "\x05\x00", 2, 0) != 0)
		goto out;
	if (gnutls_x509_crt_set_subject_key_id(crt, ski, sizeof(ski)) != 0)
		goto out;
	if (issuer != NULL) {
		ret = issuer_key_id(issuer, aki, &aki_len);
		if (ret < 0)
			goto out;
		ret = GBA_ECRYPTO;
	} else {
		memcpy(aki, ski, sizeof(ski));
		aki_len = sizeof(ski);
	}
	if (gnutls_x509_crt_set_authority_key_id(crt, aki, aki_len) != 0)
		goto out;
	if (gnutls_x509_crt_privkey_sign(crt, issuer != NULL ? issuer : crt, ikey->priv,
	                                 type_digest(ikey->type), 0) != 0)
		goto out;
	ret = 0;
	*out = crt;
	crt = NULL;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

int gba_x509_random_serial(uint8_t *buf, size_t n)
{
	int ret;

	if (buf == NULL || n < 8 || n > GBA_X509_MAX_SERIAL)
		return GBA_EINVAL;
	ret = gba_rnd(GBA_RND_NONCE, buf, n);
	if (ret < 0)
		return ret;
	buf[0] &= 0x7f;
	while (buf[0] == 0) {    /* 1 in 128: draw the first octet again */
		ret = gba_rnd(GBA_RND_NONCE, buf, 1);
		if (ret < 0)
			return ret;
		buf[0] &= 0x7f;
	}
	return 0;
}

static int key_usage_bits(uint32_t ku, unsigned *out)
{
	static const struct {
		uint32_t ours;
		unsigned gnutls;
	} map[] = {
		{ GBA_X509_KU_DIGITAL_SIGNATURE, GNUTLS_KEY_DIGITAL_SIGNATURE },
		{ GBA_X509_KU_NON_REPUDIATION, GNUTLS_KEY_NON_REPUDIATION },
		{ GBA_X509_KU_KEY_ENCIPHERMENT, GNUTLS_KEY_KEY_ENCIPHERMENT },
		{ GBA_X509_KU_DATA_ENCIPHERMENT, GNUTLS_KEY_DATA_ENCIPHERMENT },
		{ GBA_X509_KU_KEY_AGREEMENT, GNUTLS_KEY_KEY_AGREEMENT },
	};
	size_t i;

	*out = 0;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((ku & map[i].ours) != 0) {
			*out |= map[i].gnutls;
			ku &= ~map[i].ours;
		}
	}
	return ku == 0 ? 0 : GBA_EINVAL;
}

static int export_crt(gnutls_x509_crt_t crt, uint8_t **der, size_t *len)
{
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d) != 0)
		return GBA_ECRYPTO;
	return take_datum(&d, der, len);
}

int gba_signer_issue(const struct gba_signer *ca, const struct gba_x509_template *t,
                     uint8_t **der, size_t *len)
{
	struct cert_req r;
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_crt_t crt = NULL;
	enum gba_key_type kt;
	int ret;

	*der = NULL;
	*len = 0;
	if (ca == NULL || t == NULL || t->subject == NULL || *t->subject == '\0' ||
	    t->serial == NULL || t->serial_len < 8 || t->serial_len > GBA_X509_MAX_SERIAL ||
	    t->serial[0] == 0 || t->serial[0] >= 0x80 || t->not_before < 0 ||
	    t->not_after <= t->not_before || (t->nsan > 0 && t->san == NULL) ||
	    (t->neku > 0 && t->eku == NULL) || t->nsan > 64 || t->neku > 64)
		return GBA_EINVAL;
	if (sizeof(time_t) < sizeof(int64_t) && t->not_after > (int64_t)INT32_MAX)
		return GBA_EINVAL;
	memset(&r, 0, sizeof(r));
	ret = key_usage_bits(t->key_usage, &r.ku);
	if (ret < 0)
		return ret;
	ret = gba_x509_spki_type(t->spki, t->spki_len, &kt);
	if (ret < 0)
		return ret;
	ret = import_spki(&pub, t->spki, t->spki_len);
	if (ret < 0)
		return ret;
	r.pub = pub;
	r.spki = t->spki;
	r.spki_len = t->spki_len;
	r.dn = t->subject;
	r.serial = t->serial;
	r.serial_len = t->serial_len;
	r.not_before = (time_t)t->not_before;
	r.not_after = (time_t)t->not_after;
	r.ca = 0;
	r.pathlen = -1;
	r.eku = t->eku;
	r.neku = t->neku;
	r.san = t->san;
	r.nsan = t->nsan;
	r.ocsp_url = t->ocsp_url;
	r.crl_url = t->crl_url;
	ret = build_cert(&crt, &r, ca->crt, ca->key);
	if (ret < 0)
		goto out;
	ret = export_crt(crt, der, len);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return ret;
}

/* ---- signers: a key and its certificate ---- */

void gba_signer_free(struct gba_signer *s)
{
	if (s == NULL)
		return;
	gba_key_free(s->key);
	if (s->crt != NULL)
		gnutls_x509_crt_deinit(s->crt);
	gnutls_free(s->der.data);
	gba_free(s);
}

/* Export the certificate DER and check that it carries the key's public
 * half (GBA_EINVAL otherwise). */
static int finish_signer(struct gba_signer *s)
{
	gnutls_pubkey_t pub = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int ret;

	if (gnutls_x509_crt_export2(s->crt, GNUTLS_X509_FMT_DER, &s->der) != 0)
		return GBA_ECRYPTO;
	if (gnutls_pubkey_init(&pub) != 0)
		return GBA_ENOMEM;
	ret = GBA_ESYNTAX;
	if (gnutls_pubkey_import_x509(pub, s->crt, 0) != 0)
		goto out;
	ret = export_pubkey(pub, &a, &alen);
	if (ret < 0)
		goto out;
	ret = gba_key_spki(s->key, &b, &blen);
	if (ret < 0)
		goto out;
	ret = alen == blen && memcmp(a, b, alen) == 0 ? 0 : GBA_EINVAL;
out:
	gba_free(a);
	gba_free(b);
	gnutls_pubkey_deinit(pub);
	return ret;
}

/* A fresh 20-octet serial for the demo certificates: positive, full length. */
static int demo_serial(uint8_t serial[20])
{
	int ret = gba_rnd(GBA_RND_NONCE, serial, 20);

	if (ret < 0)
		return ret;
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	return 0;
}

int gba_signer_generate_ca(struct gba_signer **out, const char *cn, unsigned days)
{
	struct gba_signer *s;
	gnutls_pubkey_t pub = NULL;
	uint8_t serial[20], kid[64];
	size_t kid_len = sizeof(kid);
	time_t now = time(NULL);
	int ret;

	*out = NULL;
	if (cn == NULL || days == 0 || days > MAX_DAYS)
		return GBA_EINVAL;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return GBA_ENOMEM;
	ret = gba_key_generate(&s->key, GBA_KEY_EC_P256);
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
	if (gnutls_x509_crt_init(&s->crt) != 0 || gnutls_pubkey_init(&pub) != 0)
		goto out;
	if (gnutls_pubkey_import_privkey(pub, s->key->priv, 0, 0) != 0 ||
	    gnutls_x509_crt_set_pubkey(s->crt, pub) != 0)
		goto out;
	ret = demo_serial(serial);
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
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
	if (gnutls_x509_crt_privkey_sign(s->crt, s->crt, s->key->priv, GNUTLS_DIG_SHA256, 0) != 0)
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
	int ret;

	if (dns_name == NULL || days == 0 || days > MAX_DAYS)
		return GBA_EINVAL;
	memset(&leaf, 0, sizeof(leaf));
	ret = gba_key_generate(&leaf.key, GBA_KEY_EC_P256);
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
	if (gnutls_x509_crt_init(&leaf.crt) != 0 || gnutls_pubkey_init(&pub) != 0 ||
	    gnutls_pubkey_import_privkey(pub, leaf.key->priv, 0, 0) != 0 ||
	    gnutls_x509_crt_set_pubkey(leaf.crt, pub) != 0)
		goto out;
	ret = demo_serial(serial);
	if (ret < 0)
		goto out;
	ret = GBA_ECRYPTO;
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
	if (gnutls_x509_crt_privkey_sign(leaf.crt, ca->crt, ca->key->priv,
	                                 type_digest(ca->key->type), 0) != 0)
		goto out;
	ret = finish_signer(&leaf);
	if (ret == 0)
		ret = gba_signer_save(&leaf, cert_path, key_path);
out:
	gnutls_pubkey_deinit(pub);
	gba_key_free(leaf.key);
	if (leaf.crt != NULL)
		gnutls_x509_crt_deinit(leaf.crt);
	gnutls_free(leaf.der.data);
	return ret;
}

/* The signer for key (an open key, taken over) and a PEM certificate file. */
static int signer_with_cert(struct gba_signer **out, struct gba_key *key, const char *cert_path)
{
	struct gba_signer *s;
	gnutls_datum_t cd = { NULL, 0 };
	int ret = GBA_ENOMEM;

	*out = NULL;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL) {
		gba_key_free(key);
		return GBA_ENOMEM;
	}
	s->key = key;
	if (gnutls_x509_crt_init(&s->crt) != 0)
		goto out;
	ret = GBA_EIO;
	if (gnutls_load_file(cert_path, &cd) != 0)
		goto out;
	ret = GBA_ESYNTAX;
	if (gnutls_x509_crt_import(s->crt, &cd, GNUTLS_X509_FMT_PEM) != 0)
		goto out;
	ret = finish_signer(s);
out:
	gnutls_free(cd.data);
	if (ret < 0)
		gba_signer_free(s);
	else
		*out = s;
	return ret;
}

int gba_signer_load(struct gba_signer **out, const char *key_path, const char *cert_path)
{
	struct gba_key *k;
	int ret;

	*out = NULL;
	k = gba_calloc(1, sizeof(*k));
	if (k == NULL)
		return GBA_ENOMEM;
	ret = key_load_pem(k, key_path, 0);
	if (ret < 0) {
		gba_key_free(k);
		return ret == GBA_EPERM ? GBA_EIO : ret;
	}
	return signer_with_cert(out, k, cert_path);
}

int gba_signer_open(struct gba_signer **out, const char *key, const char *cert_path)
{
	struct gba_key *k;
	int ret;

	*out = NULL;
	ret = gba_key_load(&k, key);
	if (ret < 0)
		return ret;
	return signer_with_cert(out, k, cert_path);
}

const struct gba_key *gba_signer_key(const struct gba_signer *s)
{
	return s->key;
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
	int ret;

	if (gnutls_x509_crt_export2(s->crt, GNUTLS_X509_FMT_PEM, &pem) != 0)
		return GBA_ECRYPTO;
	ret = write_file(cert_path, pem.data, pem.size, 0644);
	gnutls_free(pem.data);
	if (ret < 0 || key_path == NULL)
		return ret;
	return key_write(s->key, key_path, 0);
}

const uint8_t *gba_signer_cert(const struct gba_signer *s, size_t *len)
{
	*len = s->der.size;
	return s->der.data;
}

const uint8_t *gba_signer_sig_oid(const struct gba_signer *s, size_t *len)
{
	return gba_key_sig_oid(s->key, len);
}

int gba_signer_sign(void *signer, const uint8_t *data, size_t len, uint8_t **sig,
                    size_t *siglen)
{
	struct gba_signer *s = signer;

	return gba_key_sign(s->key, data, len, sig, siglen);
}

/* ---- verification ---- */

static gnutls_sign_algorithm_t sign_alg(const uint8_t *oid, size_t len)
{
	static const struct {
		const uint8_t *oid;
		size_t len;
		gnutls_sign_algorithm_t alg;
	} map[] = {
		{ oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256), GNUTLS_SIGN_ECDSA_SHA256 },
		{ oid_ecdsa_sha384, sizeof(oid_ecdsa_sha384), GNUTLS_SIGN_ECDSA_SHA384 },
		{ oid_ecdsa_sha512, sizeof(oid_ecdsa_sha512), GNUTLS_SIGN_ECDSA_SHA512 },
		{ oid_ed25519, sizeof(oid_ed25519), GNUTLS_SIGN_EDDSA_ED25519 },
		{ oid_rsa_sha256, sizeof(oid_rsa_sha256), GNUTLS_SIGN_RSA_SHA256 },
		{ oid_rsa_sha384, sizeof(oid_rsa_sha384), GNUTLS_SIGN_RSA_SHA384 },
		{ oid_rsa_sha512, sizeof(oid_rsa_sha512), GNUTLS_SIGN_RSA_SHA512 },
		{ oid_rsa, sizeof(oid_rsa), GNUTLS_SIGN_RSA_SHA256 },
	};
	size_t i;

	if (oid == NULL)
		return GNUTLS_SIGN_UNKNOWN;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (len == map[i].len && memcmp(oid, map[i].oid, len) == 0)
			return map[i].alg;
	}
	return GNUTLS_SIGN_UNKNOWN;
}

static int import_crt(gnutls_x509_crt_t *crt, const uint8_t *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, 0 };

	*crt = NULL;
	if (der == NULL || len == 0)
		return GBA_ESYNTAX;
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

/* Verify with a public key; the algorithm must suit the key (GBA_ESIG). */
static int pubkey_verify(gnutls_pubkey_t pub, gnutls_sign_algorithm_t alg, const uint8_t *data,
                         size_t len, const uint8_t *sig, size_t sig_len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, 0 };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)sig, 0 };

	if (len > UINT32_MAX || sig_len > UINT32_MAX)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	s.size = (unsigned)sig_len;
	if (gnutls_pubkey_get_pk_algorithm(pub, NULL) != (int)gnutls_sign_get_pk_algorithm(alg))
		return GBA_ESIG;
	return gnutls_pubkey_verify_data2(pub, alg, 0, &d, &s) >= 0 ? 0 : GBA_ESIG;
}

int gba_x509_verify_signature(const uint8_t *cert, size_t cert_len, const uint8_t *sig_oid,
                              size_t sig_oid_len, const uint8_t *data, size_t len,
                              const uint8_t *sig, size_t sig_len)
{
	gnutls_sign_algorithm_t alg = sign_alg(sig_oid, sig_oid_len);
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int ret;

	if (alg == GNUTLS_SIGN_UNKNOWN)
		return GBA_EUNSUPP;
	ret = import_crt(&crt, cert, cert_len);
	if (ret < 0)
		return ret;
	ret = GBA_ENOMEM;
	if (gnutls_pubkey_init(&pub) != 0)
		goto out;
	ret = GBA_ESYNTAX;
	if (gnutls_pubkey_import_x509(pub, crt, 0) != 0)
		goto out;
	ret = pubkey_verify(pub, alg, data, len, sig, sig_len);
out:
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int gba_x509_verify_spki(const uint8_t *spki, size_t spki_len, const uint8_t *sig_oid,
                         size_t sig_oid_len, const uint8_t *data, size_t len,
                         const uint8_t *sig, size_t sig_len)
{
	gnutls_sign_algorithm_t alg = sign_alg(sig_oid, sig_oid_len);
	gnutls_pubkey_t pub = NULL;
	int ret;

	if (alg == GNUTLS_SIGN_UNKNOWN)
		return GBA_EUNSUPP;
	ret = import_spki(&pub, spki, spki_len);
	if (ret < 0)
		return ret == GBA_EINVAL ? GBA_ESYNTAX : ret;
	ret = pubkey_verify(pub, alg, data, len, sig, sig_len);
	gnutls_pubkey_deinit(pub);
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

/* ---- certificate facts ---- */

void gba_cert_info_clear(struct gba_cert_info *ci)
{
	if (ci == NULL)
		return;
	gba_free(ci->issuer_der);
	gba_free(ci->subject_der);
	gba_free(ci->spki);
	memset(ci, 0, sizeof(*ci));
}

static int dup_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len)
{
	*dst = gba_malloc(len);
	if (*dst == NULL)
		return GBA_ENOMEM;
	memcpy(*dst, src, len);
	*dst_len = len;
	return 0;
}

/*
 * The raw issuer, subject and subjectPublicKeyInfo of a certificate that
 * GnuTLS has accepted: Certificate ::= SEQUENCE { tbsCertificate
 * SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
 * validity, subject, subjectPublicKeyInfo, ... }, ... }.
 */
static int cert_raw_fields(const uint8_t *der, size_t len, struct gba_cert_info *ci)
{
	const uint8_t *p = der, *end = der + len, *val, *start;
	size_t vlen, i;
	uint8_t tag;
	int ret;

	if (der_next(&p, end, &tag, &val, &vlen) != 0 || tag != 0x30)
		return GBA_ESYNTAX;
	p = val;
	end = val + vlen;
	if (der_next(&p, end, &tag, &val, &vlen) != 0 || tag != 0x30)
		return GBA_ESYNTAX;
	p = val;
	end = val + vlen;
	start = p;
	if (der_next(&p, end, &tag, &val, &vlen) != 0)
		return GBA_ESYNTAX;
	if (tag == 0xa0) {
		start = p;
		if (der_next(&p, end, &tag, &val, &vlen) != 0)
			return GBA_ESYNTAX;
	}
	/* start..p: serialNumber; then signature, issuer, validity, subject, spki */
	for (i = 0; i < 5; i++) {
		start = p;
		if (der_next(&p, end, &tag, &val, &vlen) != 0 || tag != 0x30)
			return GBA_ESYNTAX;
		if (i == 1)
			ret = dup_bytes(&ci->issuer_der, &ci->issuer_der_len, start, (size_t)(p - start));
		else if (i == 3)
			ret = dup_bytes(&ci->subject_der, &ci->subject_der_len, start,
			                (size_t)(p - start));
		else if (i == 4)
			ret = dup_bytes(&ci->spki, &ci->spki_len, start, (size_t)(p - start));
		else
			ret = 0;
		if (ret < 0)
			return ret;
	}
	return 0;
}

int gba_x509_cert_info(const uint8_t *der, size_t len, struct gba_cert_info *out)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	size_t size;
	unsigned critical = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = import_crt(&crt, der, len);
	if (ret < 0)
		return ret;
	ret = cert_raw_fields(der, len, out);
	if (ret < 0)
		goto out;
	size = sizeof(out->serial);
	ret = gnutls_x509_crt_get_serial(crt, out->serial, &size);
	if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	if (ret != 0 || size == 0) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	out->serial_len = size;
	ret = GBA_ESYNTAX;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) != 0)
		goto out;
	size = dn.size < GBA_X509_MAX_DN ? dn.size : GBA_X509_MAX_DN;   /* for logs: cut */
	memcpy(out->subject, dn.data, size);
	out->subject[size] = '\0';
	out->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	out->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	if (out->not_before == -1 || out->not_after == -1)
		goto out;
	out->is_ca = gnutls_x509_crt_get_basic_constraints(crt, &critical, NULL, NULL) > 0;
	size = sizeof(out->ski);
	if (gnutls_x509_crt_get_subject_key_id(crt, out->ski, &size, &critical) == 0)
		out->ski_len = size;
	ret = 0;
out:
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	if (ret < 0)
		gba_cert_info_clear(out);
	return ret;
}

/* ---- paths ---- */

#define MAX_PATH_INTER 8u

static int valid_at(gnutls_x509_crt_t crt, time_t now)
{
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);

	return nb != (time_t)-1 && na != (time_t)-1 && nb <= now && now <= na;
}

/* A certificate that may issue others: cA and keyCertSign. */
static int may_issue(gnutls_x509_crt_t crt)
{
	unsigned critical = 0, usage = 0;

	if (gnutls_x509_crt_get_basic_constraints(crt, &critical, NULL, NULL) <= 0)
		return 0;
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) < 0)
		return 0;
	return (usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0;
}

int gba_x509_verify_path(const uint8_t *cert, size_t cert_len, const uint8_t *const *inter,
                         const size_t *inter_len, size_t ninter, const uint8_t *anchor,
                         size_t anchor_len, time_t now)
{
	gnutls_x509_crt_t pool[MAX_PATH_INTER], chain[MAX_PATH_INTER + 1];
	gnutls_x509_crt_t ta = NULL, leaf = NULL;
	int used[MAX_PATH_INTER];
	size_t n = 1, i, npool = 0;
	unsigned status = 0;
	int ret = GBA_ESIG;

	if (ninter > MAX_PATH_INTER || (ninter > 0 && (inter == NULL || inter_len == NULL)))
		return GBA_ESIG;
	if (import_crt(&leaf, cert, cert_len) != 0 || import_crt(&ta, anchor, anchor_len) != 0)
		goto out;
	for (npool = 0; npool < ninter; npool++) {
		used[npool] = 0;
		if (import_crt(&pool[npool], inter[npool], inter_len[npool]) != 0)
			goto out;
	}
	/* Order the path: from the leaf, each next one issued the one before,
	 * until the anchor issued the last. */
	chain[0] = leaf;
	while (!gnutls_x509_crt_check_issuer(chain[n - 1], ta)) {
		for (i = 0; i < npool; i++) {
			if (!used[i] && gnutls_x509_crt_check_issuer(chain[n - 1], pool[i]))
				break;
		}
		if (i == npool)
			goto out;
		used[i] = 1;
		chain[n++] = pool[i];
	}
	if (gnutls_x509_crt_list_verify(chain, (unsigned)n, &ta, 1, NULL, 0,
	                                GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	                                GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
	                                &status) != 0 || status != 0)
		goto out;
	if (!valid_at(ta, now) || !may_issue(ta))
		goto out;
	for (i = 0; i < n; i++) {
		if (!valid_at(chain[i], now) || (i > 0 && !may_issue(chain[i])))
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < npool; i++)
		gnutls_x509_crt_deinit(pool[i]);
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	if (ta != NULL)
		gnutls_x509_crt_deinit(ta);
	return ret;
}

/* ---- gba-ctl ca init ---- */

/* The public half of k, as a GnuTLS key and as DER (gba_free). */
static int key_public(const struct gba_key *k, gnutls_pubkey_t *pub, uint8_t **spki,
                      size_t *spki_len)
{
	int ret;

	*pub = NULL;
	ret = gba_key_spki(k, spki, spki_len);
	if (ret < 0)
		return ret;
	ret = import_spki(pub, *spki, *spki_len);
	if (ret < 0) {
		gba_free(*spki);
		*spki = NULL;
	}
	return ret;
}

/* One certificate of the CA directory. */
struct ca_cert {
	const char *role;       /* "Root CA", "Issuing CA", "CMC Signer", "OCSP Responder" */
	int ca, pathlen;
	unsigned ku;
	const char *eku;
	unsigned days;
	struct gba_key *key;
	gnutls_x509_crt_t crt;
	int nocheck;
};

static int ca_cert_make(struct ca_cert *c, const char *name, const struct ca_cert *issuer,
                        time_t now)
{
	struct cert_req r;
	gnutls_pubkey_t pub = NULL;
	uint8_t *spki = NULL, serial[GBA_X509_MAX_SERIAL];
	char cn[256];
	int ret, n;

	n = snprintf(cn, sizeof(cn), "%s %s", name, c->role);
	if (n < 0 || (size_t)n >= sizeof(cn))
		return GBA_EINVAL;
	memset(&r, 0, sizeof(r));
	ret = key_public(c->key, &pub, &spki, &r.spki_len);
	if (ret < 0)
		return ret;
	ret = gba_x509_random_serial(serial, sizeof(serial));
	if (ret < 0)
		goto out;
	r.pub = pub;
	r.spki = spki;
	r.cn = cn;
	r.serial = serial;
	r.serial_len = sizeof(serial);
	r.not_before = now - 3600;
	r.not_after = now + (time_t)c->days * 86400;
	r.ca = c->ca;
	r.pathlen = c->pathlen;
	r.ku = c->ku;
	r.eku = &c->eku;
	r.neku = c->eku != NULL ? 1 : 0;
	r.ocsp_nocheck = c->nocheck;
	if (issuer != NULL)
		ret = build_cert(&c->crt, &r, issuer->crt, issuer->key);
	else
		ret = build_cert(&c->crt, &r, NULL, c->key);
out:
	gba_free(spki);
	gnutls_pubkey_deinit(pub);
	return ret;
}

/* Certificates as PEM, concatenated, into one new file (mode 0644). */
static int write_certs(const char *path, gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
	gnutls_datum_t pa = { NULL, 0 }, pb = { NULL, 0 };
	uint8_t *buf = NULL;
	int ret = GBA_ECRYPTO;

	if (gnutls_x509_crt_export2(a, GNUTLS_X509_FMT_PEM, &pa) != 0 ||
	    (b != NULL && gnutls_x509_crt_export2(b, GNUTLS_X509_FMT_PEM, &pb) != 0))
		goto out;
	ret = GBA_ENOMEM;
	buf = gba_malloc((size_t)pa.size + pb.size);
	if (buf == NULL)
		goto out;
	memcpy(buf, pa.data, pa.size);
	if (pb.size > 0)
		memcpy(buf + pa.size, pb.data, pb.size);
	ret = write_file_mode(path, buf, (size_t)pa.size + pb.size, 0644, 1);
out:
	gba_free(buf);
	gnutls_free(pa.data);
	gnutls_free(pb.data);
	return ret;
}

/* Check that the path cmc (or the responder) -> ca -> root verifies as
 * built. */
static int ca_check(const struct ca_cert *root, const struct ca_cert *ca,
                    const struct ca_cert *cmc, time_t now)
{
	uint8_t *r = NULL, *c = NULL, *s = NULL;
	size_t rl = 0, cl = 0, sl = 0;
	const uint8_t *inter[1];
	int ret;

	ret = export_crt(root->crt, &r, &rl);
	if (ret == 0)
		ret = export_crt(ca->crt, &c, &cl);
	if (ret == 0)
		ret = export_crt(cmc->crt, &s, &sl);
	if (ret == 0) {
		inter[0] = c;
		ret = gba_x509_verify_path(s, sl, inter, &cl, 1, r, rl, now);
		if (ret < 0)
			ret = GBA_EINTERNAL;
	}
	gba_free(r);
	gba_free(c);
	gba_free(s);
	return ret;
}

enum {
	F_ROOT_PEM, F_ROOT_KEY, F_CA_PEM, F_CA_KEY, F_CMC_PEM, F_CMC_KEY, F_OCSP_PEM, F_OCSP_KEY,
	F_CHAIN, F_COUNT
};

static const char *const ca_files[F_COUNT] = {
	"root.pem", "root.key", "ca.pem", "ca.key", "cmc.pem", "cmc.key", "ocsp.pem", "ocsp.key",
	"chain.pem"
};

/* The CA directory: created 0700, or an existing directory (not a
 * symlink) that group and others cannot use. */
static int ca_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return GBA_EIO;
	if (lstat(dir, &sb) != 0)
		return GBA_EIO;
	if (!S_ISDIR(sb.st_mode) || (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return GBA_EPERM;
	return 0;
}

int gba_ca_init(const struct gba_ca_init_conf *conf)
{
	struct ca_cert root = { "Root CA", 1, 1, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
		                NULL, 0, NULL, NULL, 0 };
	struct ca_cert ca = { "Issuing CA", 1, 0, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
		              NULL, 0, NULL, NULL, 0 };
	struct ca_cert cmc = { "CMC Signer", 0, -1, GNUTLS_KEY_DIGITAL_SIGNATURE, NULL, 0, NULL,
		               NULL, 0 };
	struct ca_cert ocsp = { "OCSP Responder", 0, -1, GNUTLS_KEY_DIGITAL_SIGNATURE,
		                OID_KP_OCSP_SIGNING, 0, NULL, NULL, 1 };
	char path[F_COUNT][PATH_MAX];
	int written[F_COUNT] = { 0 };
	struct stat sb;
	time_t now = time(NULL);
	size_t i;
	int ret, n;

	if (conf == NULL || conf->dir == NULL || *conf->dir == '\0' || conf->name == NULL ||
	    *conf->name == '\0' || strlen(conf->name) > 200 ||
	    (unsigned)conf->key_type >= GBA_KEY_TYPE_COUNT || conf->root_days == 0 ||
	    conf->root_days > MAX_DAYS || conf->ca_days == 0 || conf->ca_days > MAX_DAYS ||
	    conf->signer_days == 0 || conf->signer_days > MAX_DAYS ||
	    conf->responder_days > MAX_DAYS)
		return GBA_EINVAL;
	for (i = 0; i < F_COUNT; i++) {
		n = snprintf(path[i], sizeof(path[i]), "%s/%s", conf->dir, ca_files[i]);
		if (n < 0 || (size_t)n >= sizeof(path[i]))
			return GBA_EINVAL;
	}
	root.days = conf->root_days;
	ca.days = conf->ca_days;
	cmc.days = conf->signer_days;
	cmc.eku = conf->signer_is_ra ? OID_KP_CMC_RA : OID_KP_CMC_CA;
	ocsp.days = conf->responder_days != 0 ? conf->responder_days : 90;

	/* Everything is made and checked in memory before a file is written. */
	ret = gba_key_generate(&root.key, conf->key_type);
	if (ret < 0)
		goto out;
	if (conf->issuing_key != NULL)
		ret = gba_key_load(&ca.key, conf->issuing_key);
	else
		ret = gba_key_generate(&ca.key, conf->key_type);
	if (ret < 0)
		goto out;
	ret = gba_key_generate(&cmc.key, conf->key_type);
	if (ret < 0)
		goto out;
	ret = gba_key_generate(&ocsp.key, conf->key_type);
	if (ret < 0)
		goto out;
	ret = ca_cert_make(&root, conf->name, NULL, now);
	if (ret < 0)
		goto out;
	ret = ca_cert_make(&ca, conf->name, &root, now);
	if (ret < 0)
		goto out;
	ret = ca_cert_make(&cmc, conf->name, &ca, now);
	if (ret < 0)
		goto out;
	ret = ca_cert_make(&ocsp, conf->name, &ca, now);
	if (ret < 0)
		goto out;
	ret = ca_check(&root, &ca, &cmc, now);
	if (ret == 0)
		ret = ca_check(&root, &ca, &ocsp, now);
	if (ret < 0)
		goto out;

	ret = ca_dir(conf->dir);
	if (ret < 0)
		goto out;
	for (i = 0; i < F_COUNT; i++) {
		if (i == F_CA_KEY && conf->issuing_key != NULL)
			continue;
		if (lstat(path[i], &sb) == 0 || errno != ENOENT) {
			ret = GBA_EDUP;
			goto out;
		}
	}
	for (i = 0; i < F_COUNT; i++) {
		switch (i) {
		case F_ROOT_PEM:
			ret = write_certs(path[i], root.crt, NULL);
			break;
		case F_ROOT_KEY:
			ret = key_write(root.key, path[i], 1);
			break;
		case F_CA_PEM:
			ret = write_certs(path[i], ca.crt, NULL);
			break;
		case F_CA_KEY:
			if (conf->issuing_key != NULL)
				continue;
			ret = key_write(ca.key, path[i], 1);
			break;
		case F_CMC_PEM:
			ret = write_certs(path[i], cmc.crt, NULL);
			break;
		case F_CMC_KEY:
			ret = key_write(cmc.key, path[i], 1);
			break;
		case F_OCSP_PEM:
			ret = write_certs(path[i], ocsp.crt, NULL);
			break;
		case F_OCSP_KEY:
			ret = key_write(ocsp.key, path[i], 1);
			break;
		default:
			ret = write_certs(path[i], ca.crt, root.crt);
			break;
		}
		if (ret < 0)
			goto out;
		written[i] = 1;
	}
	ret = 0;
out:
	for (i = 0; ret < 0 && i < F_COUNT; i++) {
		if (written[i])
			unlink(path[i]);
	}
	gba_key_free(root.key);
	gba_key_free(ca.key);
	gba_key_free(cmc.key);
	gba_key_free(ocsp.key);
	if (ocsp.crt != NULL)
		gnutls_x509_crt_deinit(ocsp.crt);
	if (root.crt != NULL)
		gnutls_x509_crt_deinit(root.crt);
	if (ca.crt != NULL)
		gnutls_x509_crt_deinit(ca.crt);
	if (cmc.crt != NULL)
		gnutls_x509_crt_deinit(cmc.crt);
	return ret;
}

/* ---- encoding, names ---- */

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

int gba_x509_dn_der(const char *dn, uint8_t **der, size_t *len)
{
	gnutls_x509_dn_t d = NULL;
	gnutls_datum_t out = { NULL, 0 };
	int ret = GBA_ENOMEM;

	*der = NULL;
	*len = 0;
	if (dn == NULL || *dn == '\0')
		return GBA_EINVAL;
	if (gnutls_x509_dn_init(&d) != 0)
		return GBA_ENOMEM;
	/* gnutls_x509_crt_set_dn (signer_issue) parses with this same code */
	if (gnutls_x509_dn_set_str(d, dn, NULL) != 0) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	if (gnutls_x509_dn_export2(d, GNUTLS_X509_FMT_DER, &out) != 0 || out.size == 0) {
		ret = GBA_ECRYPTO;
		goto out;
	}
	ret = dup_bytes(der, len, out.data, out.size);
out:
	gnutls_free(out.data);
	gnutls_x509_dn_deinit(d);
	return ret;
}

int gba_x509_cert_sans(const uint8_t *der, size_t len, char (*out)[GBA_X509_SAN_MAX + 1],
                       size_t max, size_t *n)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	char buf[GBA_X509_SAN_MAX + 1];
	const char *pfx;
	size_t size;
	unsigned seq;
	int type, ret = 0;

	*n = 0;
	if (der == NULL || len == 0 || len > 65536)
		return GBA_EINVAL;
	if (gnutls_x509_crt_init(&crt) != 0)
		return GBA_ENOMEM;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) != 0) {
		ret = GBA_ESYNTAX;
		goto out;
	}
	for (seq = 0; seq < 64; seq++) {
		size = sizeof(buf) - 8;
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			ret = GBA_ETOOBIG;
			goto out;
		}
		if (type < 0) {
			ret = GBA_ESYNTAX;
			goto out;
		}
		if (type == GNUTLS_SAN_URI)
			pfx = "uri:";
		else if (type == GNUTLS_SAN_DNSNAME)
			pfx = "dns:";
		else if (type == GNUTLS_SAN_RFC822NAME)
			pfx = "email:";
		else
			continue;
		if (strlen(buf) != size || *n >= max || strlen(pfx) + size > GBA_X509_SAN_MAX) {
			ret = strlen(buf) != size ? GBA_ESYNTAX : GBA_ETOOBIG;
			goto out;
		}
		memcpy(out[*n], pfx, strlen(pfx));
		memcpy(out[*n] + strlen(pfx), buf, size + 1);
		(*n)++;
	}
out:
	gnutls_x509_crt_deinit(crt);
	if (ret < 0)
		*n = 0;
	return ret;
}

int gba_x509_cert_has_eku(const uint8_t *der, size_t len, const char *oid)
{
	gnutls_x509_crt_t crt = NULL;
	char buf[128];
	size_t size;
	unsigned i;
	int ret, r;

	ret = import_crt(&crt, der, len);
	if (ret < 0)
		return ret;
	ret = 0;
	for (i = 0; i < 64; i++) {
		size = sizeof(buf);
		r = gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &size, NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;   /* longer than any OID we look for */
		if (r < 0) {
			ret = GBA_ESYNTAX;
			break;
		}
		if (strcmp(buf, oid) == 0) {
			ret = 1;
			break;
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ret;
}

/* memmem for text that may hold NULs */
static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t i;

	for (i = 0; nl <= hl && i <= hl - nl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

int gba_x509_pem_decode(const char *label, const char *text, size_t len, size_t *pos,
                        uint8_t **der, size_t *dlen)
{
	char begin[80], end[80];
	const char *b, *e;
	gnutls_datum_t in, out = { NULL, 0 };
	int nb, ne, ret;

	*der = NULL;
	*dlen = 0;
	nb = snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	ne = snprintf(end, sizeof(end), "-----END %s-----", label);
	if (nb < 0 || ne < 0 || (size_t)nb >= sizeof(begin) || (size_t)ne >= sizeof(end) ||
	    *pos > len || len > UINT32_MAX)
		return GBA_EINVAL;
	b = find(text + *pos, len - *pos, begin, (size_t)nb);
	if (b == NULL)
		return GBA_ENOTFOUND;
	e = find(b, len - (size_t)(b - text), end, (size_t)ne);
	if (e == NULL)
		return GBA_ESYNTAX;
	e += ne;
	in.data = (unsigned char *)(uintptr_t)b;
	in.size = (unsigned)(e - b);
	if (gnutls_pem_base64_decode2(label, &in, &out) != 0 || out.size == 0) {
		gnutls_free(out.data);
		return GBA_ESYNTAX;
	}
	ret = 0;
	*der = gba_malloc(out.size);
	if (*der == NULL) {
		ret = GBA_ENOMEM;
	} else {
		memcpy(*der, out.data, out.size);
		*dlen = out.size;
		*pos = (size_t)(e - text);
	}
	gnutls_free(out.data);
	return ret;
}
