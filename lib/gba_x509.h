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

/* Load a PEM private key and PEM certificate from files. */
int gba_signer_load(struct gba_signer **out, const char *key_path, const char *cert_path);

/* Write the certificate (PEM) and, if key_path is not NULL, the private
 * key (PEM, file mode 0600) to files. */
int gba_signer_save(const struct gba_signer *s, const char *cert_path, const char *key_path);

/* DER of the signer's certificate; borrowed, valid while s lives. */
const uint8_t *gba_signer_cert(const struct gba_signer *s, size_t *len);

/* Content octets of the CMS signatureAlgorithm OID for this key
 * (ecdsa-with-SHA256 or sha256WithRSAEncryption); borrowed. */
const uint8_t *gba_signer_sig_oid(const struct gba_signer *s, size_t *len);

/*
 * Sign data with SHA-256.  On success *sig is a new buffer of *siglen
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

/* PEM-encode DER under the given label ("CERTIFICATE", "CMS", ...).
 * *pem is NUL-terminated; free with gba_free. */
int gba_x509_pem(const char *label, const uint8_t *der, size_t len, char **pem);

#endif
