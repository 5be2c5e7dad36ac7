/*
 * gba_crypto.h - the cryptographic primitives gbacert uses, on GnuTLS.
 *
 * This is the only module that includes GnuTLS's crypto headers; the
 * GBA algorithms (Milenage, the TS 33.220 KDF, HTTP Digest) are built on
 * these calls and never see a gnutls_* type.  Nothing here is home-made
 * cryptography: each function is a thin, checked call into GnuTLS.
 *
 * All functions return 0 or a negative GBA_E* code.
 */
#ifndef GBA_CRYPTO_H
#define GBA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "gba_alg.h"

#define GBA_MD5_LEN    16u
#define GBA_SHA1_LEN   20u
#define GBA_SHA256_LEN 32u

/* ---- randomness ---- */
enum gba_rnd_level {
	GBA_RND_NONCE,  /* unpredictable, not secret (nonces, serials) */
	GBA_RND_KEY     /* secret key material */
};
int gba_rnd(enum gba_rnd_level level, void *buf, size_t len);

/* ---- secrets ---- */
/* Wipe len bytes in a way the compiler cannot optimise away. */
void gba_wipe(void *p, size_t len);
/* Constant-time comparison of two buffers of the same, public, length.
 * Returns 1 when equal, 0 otherwise. */
int gba_ct_equal(const void *a, const void *b, size_t len);

/* ---- AES-128 single-block encryption (the Milenage kernel) ---- */
struct gba_aes128;  /* opaque; holds a copy of the key until freed */
/* On success *out is a new context; free it with gba_aes128_free. */
int gba_aes128_new(struct gba_aes128 **out, const uint8_t key[16]);
int gba_aes128_encrypt(struct gba_aes128 *ctx, const uint8_t in[16],
                       uint8_t out[16]);
/* Wipes and frees; NULL is accepted. */
void gba_aes128_free(struct gba_aes128 *ctx);

/* ---- hashes and MACs ---- */
/* enum gba_hash_alg: gba_alg.h */

struct gba_hash;    /* opaque incremental hash */
int gba_hash_new(struct gba_hash **out, enum gba_hash_alg alg);
int gba_hash_update(struct gba_hash *h, const void *data, size_t len);
/* Writes the digest to out (GBA_*_LEN bytes) and frees h. */
int gba_hash_final(struct gba_hash *h, uint8_t *out);
/* Frees an unfinished hash; NULL is accepted. */
void gba_hash_free(struct gba_hash *h);

int gba_hash_fast(enum gba_hash_alg alg, const void *data, size_t len,
                  uint8_t *out);
size_t gba_hash_len(enum gba_hash_alg alg);
int gba_hmac_fast(enum gba_hash_alg alg, const void *key, size_t keylen,
                  const void *data, size_t len, uint8_t *out);

/* ---- AES-256-GCM (secrets at rest) ---- */
#define GBA_AEAD_KEY_LEN   32u
#define GBA_AEAD_NONCE_LEN 12u
#define GBA_AEAD_TAG_LEN   16u
/*
 * Seal: out = nonce (12, random) || ciphertext (len) || tag (16), so
 * outsz must be at least len + 28.  Open reverses it and fails with
 * GBA_EAUTH when the key, the associated data or any byte is wrong; out
 * then holds nothing.  Both return the output length.
 */
int gba_aead_seal(const uint8_t key[32], const void *ad, size_t adlen, const void *in,
                  size_t len, uint8_t *out, size_t outsz);
int gba_aead_open(const uint8_t key[32], const void *ad, size_t adlen, const uint8_t *in,
                  size_t len, uint8_t *out, size_t outsz);

/* ---- base64 (RFC 4648, with padding) ---- */
/*
 * Encode len bytes into out as a NUL-terminated string.  Returns the
 * string length, or GBA_ETOOBIG if outsz cannot hold it and the NUL.
 */
int gba_base64_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
/*
 * Decode exactly len characters (no whitespace, padding required).
 * Returns the decoded length, GBA_ESYNTAX for invalid input, or
 * GBA_ETOOBIG if the result would not fit in outsz.
 */
int gba_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsz);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void gba_hex_encode(const uint8_t *in, size_t len, char *out);
/* Parse exactly 2*outlen hex digits; GBA_ESYNTAX otherwise. */
int gba_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

#endif
