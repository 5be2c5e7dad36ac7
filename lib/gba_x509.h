/*
 * gba_x509.h - certificates, signing keys and CMS verification on GnuTLS.
 *
 * The only module that includes GnuTLS's X.509, abstract-key and PKCS#7
 * headers.  A gba_signer is a private key with its certificate: the CA
 * (or the provisioning service) that signs CCMs and CMC responses.
 * Signing is message-shaped: callers hand in bytes and get a signature;
 * the key never leaves this module.
 */
#ifndef GBA_X509_H
#define GBA_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gba_alg.h"

struct gba_signer;

/*
 * Generate a self-signed ECDSA P-256 CA (basicConstraints CA:TRUE,
 * keyCertSign|cRLSign|digitalSignature, subject key id, 20-byte random
 * serial) valid from now - 1 hour for `days` days.  cn is the common name.
 * On success *out owns the key and certificate; free with
 * gba_signer_free.
 */
int gba_signer_generate_ca(struct gba_signer **out, const char *cn, unsigned days);

enum gba_leaf_kind { GBA_LEAF_SERVER, GBA_LEAF_CLIENT };

/*
 * Issue an ECDSA P-256 end-entity certificate from the signer `ca`:
 * subject CN = dns_name, subjectAltName dNSName = dns_name (plus
 * iPAddress when ip is a numeric IPv4 address), extKeyUsage serverAuth
 * or clientAuth, digitalSignature, a 20-byte random serial, `days`
 * validity.  Writes the certificate (PEM) and the key (PEM, mode 0600).
 * For demo set-ups and tests; production keys come from the operator.
 */
int gba_signer_issue_leaf(const struct gba_signer *ca, enum gba_leaf_kind kind,
                          const char *dns_name, const char *ip, unsigned days,
                          const char *cert_path, const char *key_path);

/* Load a PEM private key and PEM certificate from files (no mode
 * check: see gba_signer_open).  GBA_EINVAL when the certificate does
 * not carry the key's public half. */
int gba_signer_load(struct gba_signer **out, const char *key_path, const char *cert_path);

/* Write the certificate (PEM) and, if key_path is not NULL, the private
 * key (PEM, file mode 0600) to files. */
int gba_signer_save(const struct gba_signer *s, const char *cert_path, const char *key_path);

/* DER of the signer's certificate; borrowed, valid while s lives. */
const uint8_t *gba_signer_cert(const struct gba_signer *s, size_t *len);

/* Content octets of the CMS signatureAlgorithm OID for this key, as
 * gba_key_sig_oid (ecdsa-with-SHA256 or sha256WithRSAEncryption for
 * P-256 and RSA keys); borrowed. */
const uint8_t *gba_signer_sig_oid(const struct gba_signer *s, size_t *len);

/*
 * Sign data as gba_key_sign does (SHA-256 for P-256 and RSA keys, so
 * matching gba_signer_sig_oid).  On success *sig is a new buffer of *siglen
 * bytes that the caller frees with gba_free.  The void* form suits
 * gba_cms_sign's callback.
 */
int gba_signer_sign(void *signer, const uint8_t *data, size_t len,
                    uint8_t **sig, size_t *siglen);

void gba_signer_free(struct gba_signer *s);

/*
 * Verify sig over data with the public key of cert (DER).  sig_oid is
 * the content octets of the signature algorithm OID: ecdsa-with-SHA256,
 * sha256WithRSAEncryption, or rsaEncryption (as OpenSSL's CMS writes
 * it, with SHA-256 implied by the caller).  Returns 0, GBA_ESIG, or
 * GBA_EUNSUPP for another algorithm.
 */
int gba_x509_verify_signature(const uint8_t *cert, size_t cert_len, const uint8_t *sig_oid,
                              size_t sig_oid_len, const uint8_t *data, size_t len,
                              const uint8_t *sig, size_t sig_len);

/*
 * Check that cert (DER) is the trusted CA itself or is issued by it, and
 * is valid at `now`.  Returns 0 or GBA_ESIG.
 */
int gba_x509_verify_chain(const uint8_t *cert, size_t cert_len, const uint8_t *ca,
                          size_t ca_len, time_t now);

/*
 * 1 when the certificate (DER) carries `name` as a subjectAltName
 * dNSName, compared case-insensitively and exactly (no wildcards, no
 * fallback to the subject CN); 0 when it does not; GBA_ESYNTAX when the
 * DER is not a certificate.  Used to bind a Zn client (NAF) to the
 * nafFqdn it asks about.
 */
int gba_x509_cert_has_dns_name(const uint8_t *der, size_t len, const char *name);

/*
 * Decode the next PEM block labelled `label` ("CERTIFICATE", "CERTIFICATE
 * REQUEST", ...) of text[0..len), starting at *pos; on success *der is a
 * new buffer (gba_free) and *pos is just past the block, so that a loop
 * reads a whole chain.  GBA_ENOTFOUND when no further block has that
 * label, GBA_ESYNTAX for a block that does not decode.
 */
int gba_x509_pem_decode(const char *label, const char *text, size_t len, size_t *pos,
                        uint8_t **der, size_t *dlen);

/* 1 when the certificate (DER) has an extKeyUsage with the dotted OID,
 * 0 when not (or no extKeyUsage), GBA_ESYNTAX when it is not a
 * certificate.  The UE checks that a CMC response's signer carries
 * id-kp-cmcCA or id-kp-cmcRA. */
int gba_x509_cert_has_eku(const uint8_t *der, size_t len, const char *oid);

/* PEM-encode DER under the given label ("CERTIFICATE", "CMS", ...).
 * *pem is NUL-terminated; free with gba_free. */
int gba_x509_pem(const char *label, const uint8_t *der, size_t len, char **pem);

/* ================================================================
 * Issue 5: key types, private keys, CAs, issuance, certificate facts.
 * ================================================================ */

/* Key types a CA or a UE key may have.  Names (gba_key_type_name) are
 * the policy names: "ec-p256", "ec-p384", "ed25519", "rsa-2048",
 * "rsa-3072", "rsa-4096". */
enum gba_key_type {
	GBA_KEY_EC_P256,
	GBA_KEY_EC_P384,
	GBA_KEY_ED25519,
	GBA_KEY_RSA_2048,
	GBA_KEY_RSA_3072,
	GBA_KEY_RSA_4096,
	GBA_KEY_TYPE_COUNT
};
const char *gba_key_type_name(enum gba_key_type t);       /* NULL if out of range */
int gba_key_type_parse(const char *name, enum gba_key_type *t);   /* 0 or GBA_EINVAL */

/* The digest a CMS signer of this key type uses for its signed
 * attributes is enum gba_hash_alg (gba_alg.h). */

/*
 * A private key: in memory (generated or read from a PEM file) or in a
 * PKCS#11 token.  Signing is message-shaped; the key never leaves this
 * module.
 */
struct gba_key;

/* Generate a key of type t.  *out is owned by the caller (gba_key_free). */
int gba_key_generate(struct gba_key **out, enum gba_key_type t);

/*
 * Load a key from `key`: a PEM file path, or a PKCS#11 URI ("pkcs11:",
 * RFC 7512) opened through GnuTLS and p11-kit (the PIN from the URI's
 * pin-value, else from the environment variable GBA_PKCS11_PIN).  A PEM
 * file must be a regular file with no group or other permission bits:
 * GBA_EPERM otherwise, and the caller refuses to start.  GBA_EUNSUPP for
 * a key of a type outside enum gba_key_type.  PKCS#11 modules are the
 * ones p11-kit lists (e.g. /usr/share/p11-kit/modules/softhsm2.module);
 * when GBA_PKCS11_MODULE names a module file, that module alone is used
 * (the choice is made once per process).  A wrong or missing PIN is
 * offered once, never retried; a token, object or login that fails
 * gives GBA_ENOTFOUND.
 */
int gba_key_load(struct gba_key **out, const char *key);

/* Write an in-memory key as PEM (PKCS#8) to path, created mode 0600
 * (an existing file is replaced only if it is a regular file).
 * GBA_EUNSUPP for a token key. */
int gba_key_save(const struct gba_key *k, const char *path);

enum gba_key_type gba_key_get_type(const struct gba_key *k);
/* 1 for an RSA key: its signature AlgorithmIdentifier (gba_key_sig_oid)
 * carries NULL parameters (RFC 4055), the others none (RFC 5758, RFC
 * 8410).  0 otherwise. */
int gba_key_is_rsa(const struct gba_key *k);

/* DER SubjectPublicKeyInfo of the key; *der is a new buffer (gba_free). */
int gba_key_spki(const struct gba_key *k, uint8_t **der, size_t *len);

/* Content octets of the signatureAlgorithm OID this key signs with
 * (ecdsa-with-SHA256 / -SHA384, id-Ed25519, sha256WithRSAEncryption;
 * borrowed, static) and the CMS digest for it. */
const uint8_t *gba_key_sig_oid(const struct gba_key *k, size_t *len);
enum gba_hash_alg gba_key_cms_hash(const struct gba_key *k);

/* Sign data with the key's algorithm (hashing as its signature OID
 * says; Ed25519 signs the data itself).  *sig is a new buffer
 * (gba_free).  Fits gba_sign_fn (gba_asn1.h) with the key as ctx. */
int gba_key_sign(void *key, const uint8_t *data, size_t len, uint8_t **sig, size_t *siglen);

void gba_key_free(struct gba_key *k);

/* The signer's key (borrowed, lives as long as s). */
const struct gba_key *gba_signer_key(const struct gba_signer *s);

/*
 * Load a signer from a key (PEM path or PKCS#11 URI, as gba_key_load,
 * mode rules included) and a PEM certificate file; the certificate's
 * public key must be the key's (GBA_EINVAL otherwise).
 */
int gba_signer_open(struct gba_signer **out, const char *key, const char *cert_path);

/* ---- public keys ---- */

/* The type of a DER SubjectPublicKeyInfo; GBA_EUNSUPP for other keys
 * (e.g. P-521, RSA under 2048 or not one of the listed sizes),
 * GBA_ESYNTAX when it is not an SPKI. */
int gba_x509_spki_type(const uint8_t *spki, size_t len, enum gba_key_type *t);

/* RFC 5280 4.2.1.2 method 1 key identifier: SHA-1 of the
 * subjectPublicKey BIT STRING contents (without the unused-bits octet). */
#define GBA_X509_KEY_ID_LEN 20u
int gba_x509_spki_key_id(const uint8_t *spki, size_t len, uint8_t id[GBA_X509_KEY_ID_LEN]);

/* The same hash with another algorithm: an OCSP CertID's issuerKeyHash
 * (RFC 6960 4.1.1) with SHA-1 or SHA-256.  out holds gba_hash_len(alg)
 * octets. */
int gba_x509_spki_key_hash(const uint8_t *spki, size_t len, enum gba_hash_alg alg,
                           uint8_t *out);

/*
 * Verify sig over data with the public key in spki (DER
 * SubjectPublicKeyInfo).  sig_oid: content octets of the signature
 * algorithm: ecdsa-with-SHA256/384/512, id-Ed25519,
 * sha256/384/512WithRSAEncryption, or rsaEncryption with SHA-256 implied
 * (OpenSSL's CMS writes that).  The algorithm must suit the key type
 * (GBA_ESIG otherwise).  Returns 0, GBA_ESIG, GBA_EUNSUPP or GBA_ESYNTAX.
 */
int gba_x509_verify_spki(const uint8_t *spki, size_t spki_len, const uint8_t *sig_oid,
                         size_t sig_oid_len, const uint8_t *data, size_t len,
                         const uint8_t *sig, size_t sig_len);

/* ---- certificate facts ---- */

#define GBA_X509_MAX_SERIAL 20u
#define GBA_X509_MAX_DN     1024u

/* What the CA needs to know about a certificate (DER).  Buffers are
 * owned by the struct: release with gba_cert_info_clear. */
struct gba_cert_info {
	uint8_t serial[GBA_X509_MAX_SERIAL];      /* INTEGER content octets */
	size_t serial_len;
	uint8_t *issuer_der;                      /* raw issuer Name DER */
	size_t issuer_der_len;
	uint8_t *subject_der;                     /* raw subject Name DER */
	size_t subject_der_len;
	char subject[GBA_X509_MAX_DN + 1];        /* RFC 4514 text, for logs */
	uint8_t *spki;                            /* SubjectPublicKeyInfo DER */
	size_t spki_len;
	int64_t not_before, not_after;            /* UTC seconds */
	int is_ca;
	uint8_t ski[GBA_X509_KEY_ID_LEN * 2];     /* subjectKeyIdentifier, if any */
	size_t ski_len;
};
/* 0, GBA_ESYNTAX, or GBA_ETOOBIG for a serial over 20 octets.  subject
 * is cut at GBA_X509_MAX_DN bytes; ski_len is 0 when the extension is
 * absent or longer than ski. */
int gba_x509_cert_info(const uint8_t *der, size_t len, struct gba_cert_info *out);
void gba_cert_info_clear(struct gba_cert_info *ci);

/*
 * Verify a chain: cert (DER) must chain through the intermediates (DER,
 * any order, may be empty) to the trust anchor (DER), every signature
 * right, every certificate valid at now, every issuer a CA
 * (basicConstraints) with keyCertSign.  Returns 0 or GBA_ESIG.
 * Supersedes gba_x509_verify_chain for anything with an intermediate.
 */
int gba_x509_verify_path(const uint8_t *cert, size_t cert_len, const uint8_t *const *inter,
                         const size_t *inter_len, size_t ninter, const uint8_t *anchor,
                         size_t anchor_len, time_t now);

/* ---- the CA ---- */

/* Key usage bits of issued certificates. */
#define GBA_X509_KU_DIGITAL_SIGNATURE  (1u << 0)
#define GBA_X509_KU_NON_REPUDIATION    (1u << 1)
#define GBA_X509_KU_KEY_ENCIPHERMENT   (1u << 2)
#define GBA_X509_KU_DATA_ENCIPHERMENT  (1u << 3)
#define GBA_X509_KU_KEY_AGREEMENT      (1u << 4)

/* What goes into an end-entity certificate.  Everything is borrowed.
 * Nothing comes from the request except the public key. */
struct gba_x509_template {
	const uint8_t *spki;                 /* subject public key (DER SPKI) */
	size_t spki_len;
	const uint8_t *serial;               /* 8..20 octets, first < 0x80, not 0 */
	size_t serial_len;
	int64_t not_before, not_after;       /* UTC seconds */
	const char *subject;                 /* RFC 4514 string: "CN=x,O=y" */
	const char *const *san;              /* "uri:...", "dns:...", "email:..." */
	size_t nsan;
	uint32_t key_usage;                  /* GBA_X509_KU_* (0: none; the
	                                      * extension is then left out) */
	const char *const *eku;              /* dotted OIDs */
	size_t neku;
	const char *ocsp_url;                /* AIA id-ad-ocsp; NULL: none */
	const char *crl_url;                 /* CRL distribution point; NULL: none */
};

/*
 * Issue a v3 certificate signed by ca: basicConstraints CA:FALSE
 * (critical), keyUsage (critical) as asked, extKeyUsage, subjectAltName,
 * subjectKeyIdentifier (gba_x509_spki_key_id), authorityKeyIdentifier
 * (the CA's SKI), AIA and CRL DP when given.  The signature algorithm
 * follows the CA key (gba_key_sig_oid).  *der is a new buffer (gba_free).
 * GBA_EINVAL for a template that cannot be encoded (bad subject string,
 * unknown SAN prefix, bad serial, unknown key usage bit, not_after not
 * after not_before); GBA_EUNSUPP / GBA_ESYNTAX for a subject public key
 * as gba_x509_spki_type says.
 */
int gba_signer_issue(const struct gba_signer *ca, const struct gba_x509_template *t,
                     uint8_t **der, size_t *len);

/* Fill buf with n random serial octets: the first octet's top bit clear
 * and the first octet non-zero, so the INTEGER is positive and minimal.
 * n in 8..20 (GBA_EINVAL otherwise). */
int gba_x509_random_serial(uint8_t *buf, size_t n);

/*
 * `gba-ctl ca init`: create a CA directory.  Files (certificates PEM,
 * keys PEM mode 0600, the directory 0700):
 *   root.pem  root.key      self-signed root CA
 *   ca.pem    ca.key        issuing CA, signed by the root
 *   cmc.pem   cmc.key       CMC signer: EE cert from the issuing CA with
 *                           extKeyUsage id-kp-cmcCA (or id-kp-cmcRA)
 *   ocsp.pem  ocsp.key      delegated OCSP responder (RFC 6960 4.2.2.2):
 *                           EE cert from the issuing CA with extKeyUsage
 *                           id-kp-OCSPSigning and id-pkix-ocsp-nocheck, so
 *                           it is short-lived (responder_days)
 *   chain.pem               ca.pem then root.pem
 * When issuing_key is set (a PKCS#11 URI or a PEM path) the issuing CA
 * uses that existing key instead of a generated one, and ca.key is not
 * written.  Existing files are never overwritten (GBA_EDUP).  Keys and
 * certificates are made and the path verified before anything is
 * written; if any target file exists nothing is written, and a failed
 * write removes the files already written.  dir may exist if it is a
 * directory (not a symlink) without group or other permission bits
 * (GBA_EPERM otherwise); its parent must exist.
 */
struct gba_ca_init_conf {
	const char *dir;
	const char *name;                    /* CN prefix: "<name> Root CA",
	                                      * "<name> Issuing CA", "<name> CMC Signer",
	                                      * "<name> OCSP Responder" */
	enum gba_key_type key_type;
	unsigned root_days, ca_days, signer_days;
	int signer_is_ra;                    /* id-kp-cmcRA instead of cmcCA */
	unsigned responder_days;             /* OCSP responder validity; 0: 90 */
	const char *issuing_key;             /* NULL: generate */
};
int gba_ca_init(const struct gba_ca_init_conf *conf);

/*
 * The DER Name for the RFC 4514 string dn, encoded as gba_signer_issue
 * encodes a template's subject (the same GnuTLS parser and encoder), so
 * that a requested subject can be compared with the one a policy gives
 * before anything is signed.  *der is a new buffer (gba_free).
 * GBA_ESYNTAX when dn does not parse.
 */
int gba_x509_dn_der(const char *dn, uint8_t **der, size_t *len);

/*
 * The subjectAltNames of a certificate (DER) as "uri:...", "dns:..." or
 * "email:..." strings (other kinds are skipped), at most max, each
 * NUL-terminated in a row of GBA_X509_SAN_MAX + 1 octets.  A renewal
 * carries them over.  GBA_ESYNTAX for a bad certificate, GBA_ETOOBIG
 * when a name does not fit or there are more than max.
 */
#define GBA_X509_SAN_MAX 1024u
int gba_x509_cert_sans(const uint8_t *der, size_t len, char (*out)[GBA_X509_SAN_MAX + 1],
                       size_t max, size_t *n);

#endif
