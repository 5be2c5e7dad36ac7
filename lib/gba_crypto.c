/* gba_crypto.c - checked wrappers around GnuTLS primitives. */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"

struct gba_aes128 {
	gnutls_cipher_hd_t hd;
};

struct gba_hash {
	gnutls_hash_hd_t hd;
	size_t len;
};

int gba_rnd(enum gba_rnd_level level, void *buf, size_t len)
{
	gnutls_rnd_level_t l = level == GBA_RND_KEY ? GNUTLS_RND_KEY : GNUTLS_RND_NONCE;

	if (len == 0)
		return 0;
	if (buf == NULL)
		return GBA_EINVAL;
	return gnutls_rnd(l, buf, len) == 0 ? 0 : GBA_ECRYPTO;
}

void gba_wipe(void *p, size_t len)
{
	if (p == NULL || len == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	gnutls_memset(p, 0, len);
#endif
}

int gba_ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 1;
	return gnutls_memcmp(a, b, len) == 0;
}

int gba_aes128_new(struct gba_aes128 **out, const uint8_t key[16])
{
	struct gba_aes128 *ctx;
	/* GnuTLS 3.7 has no ECB mode: CBC with an all-zero IV, reset before
	 * every block, computes exactly one ECB block. */
	static const uint8_t zero_iv[16];
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)key, 16 };
	gnutls_datum_t iv = { (unsigned char *)(uintptr_t)zero_iv, 16 };

	*out = NULL;
	ctx = gba_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return GBA_ENOMEM;
	if (gnutls_cipher_init(&ctx->hd, GNUTLS_CIPHER_AES_128_CBC, &k, &iv) != 0) {
		gba_free(ctx);
		return GBA_ECRYPTO;
	}
	*out = ctx;
	return 0;
}

int gba_aes128_encrypt(struct gba_aes128 *ctx, const uint8_t in[16], uint8_t out[16])
{
	static const uint8_t zero_iv[16];

	gnutls_cipher_set_iv(ctx->hd, (void *)(uintptr_t)zero_iv, sizeof(zero_iv));
	if (gnutls_cipher_encrypt2(ctx->hd, in, 16, out, 16) != 0)
		return GBA_ECRYPTO;
	return 0;
}

void gba_aes128_free(struct gba_aes128 *ctx)
{
	if (ctx == NULL)
		return;
	gnutls_cipher_deinit(ctx->hd);  /* GnuTLS wipes its key schedule */
	gba_free(ctx);
}

static gnutls_digest_algorithm_t dig_alg(enum gba_hash_alg alg)
{
	switch (alg) {
	case GBA_HASH_MD5:
		return GNUTLS_DIG_MD5;
	case GBA_HASH_SHA1:
		return GNUTLS_DIG_SHA1;
	case GBA_HASH_SHA256:
		return GNUTLS_DIG_SHA256;
	case GBA_HASH_SHA384:
		return GNUTLS_DIG_SHA384;
	case GBA_HASH_SHA512:
		return GNUTLS_DIG_SHA512;
	}
	return GNUTLS_DIG_UNKNOWN;
}

static gnutls_mac_algorithm_t mac_alg(enum gba_hash_alg alg)
{
	switch (alg) {
	case GBA_HASH_MD5:
		return GNUTLS_MAC_MD5;
	case GBA_HASH_SHA1:
		return GNUTLS_MAC_SHA1;
	case GBA_HASH_SHA256:
		return GNUTLS_MAC_SHA256;
	case GBA_HASH_SHA384:
		return GNUTLS_MAC_SHA384;
	case GBA_HASH_SHA512:
		return GNUTLS_MAC_SHA512;
	}
	return GNUTLS_MAC_UNKNOWN;
}

size_t gba_hash_len(enum gba_hash_alg alg)
{
	switch (alg) {
	case GBA_HASH_MD5:
		return GBA_MD5_LEN;
	case GBA_HASH_SHA1:
		return GBA_SHA1_LEN;
	case GBA_HASH_SHA256:
		return GBA_SHA256_LEN;
	case GBA_HASH_SHA384:
		return 48;
	case GBA_HASH_SHA512:
		return 64;
	}
	return 0;
}

int gba_hash_new(struct gba_hash **out, enum gba_hash_alg alg)
{
	struct gba_hash *h;

	*out = NULL;
	if (gba_hash_len(alg) == 0)
		return GBA_EUNSUPP;
	h = gba_calloc(1, sizeof(*h));
	if (h == NULL)
		return GBA_ENOMEM;
	if (gnutls_hash_init(&h->hd, dig_alg(alg)) != 0) {
		gba_free(h);
		return GBA_ECRYPTO;
	}
	h->len = gba_hash_len(alg);
	*out = h;
	return 0;
}

int gba_hash_update(struct gba_hash *h, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	return gnutls_hash(h->hd, data, len) == 0 ? 0 : GBA_ECRYPTO;
}

int gba_hash_final(struct gba_hash *h, uint8_t *out)
{
	gnutls_hash_deinit(h->hd, out);
	gba_free(h);
	return 0;
}

void gba_hash_free(struct gba_hash *h)
{
	uint8_t scratch[GBA_SHA256_LEN];

	if (h == NULL)
		return;
	gnutls_hash_deinit(h->hd, scratch);
	gba_wipe(scratch, sizeof(scratch));
	gba_free(h);
}

int gba_hash_fast(enum gba_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	if (gba_hash_len(alg) == 0)
		return GBA_EUNSUPP;
	return gnutls_hash_fast(dig_alg(alg), data, len, out) == 0 ? 0 : GBA_ECRYPTO;
}

int gba_hmac_fast(enum gba_hash_alg alg, const void *key, size_t keylen,
                  const void *data, size_t len, uint8_t *out)
{
	if (gba_hash_len(alg) == 0)
		return GBA_EUNSUPP;
	return gnutls_hmac_fast(mac_alg(alg), key, keylen, data, len, out) == 0 ?
	       0 : GBA_ECRYPTO;
}

int gba_aead_seal(const uint8_t key[32], const void *ad, size_t adlen, const void *in,
                  size_t len, uint8_t *out, size_t outsz)
{
	gnutls_aead_cipher_hd_t h = NULL;
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)key, GBA_AEAD_KEY_LEN };
	size_t clen;
	int ret;

	if (len > INT32_MAX - GBA_AEAD_NONCE_LEN - GBA_AEAD_TAG_LEN)
		return GBA_ETOOBIG;
	if (outsz < len + GBA_AEAD_NONCE_LEN + GBA_AEAD_TAG_LEN)
		return GBA_ETOOBIG;
	ret = gba_rnd(GBA_RND_NONCE, out, GBA_AEAD_NONCE_LEN);
	if (ret < 0)
		return ret;
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) != 0)
		return GBA_ECRYPTO;
	clen = outsz - GBA_AEAD_NONCE_LEN;
	ret = gnutls_aead_cipher_encrypt(h, out, GBA_AEAD_NONCE_LEN, ad, adlen, GBA_AEAD_TAG_LEN,
	                                 in, len, out + GBA_AEAD_NONCE_LEN, &clen);
	gnutls_aead_cipher_deinit(h);
	if (ret != 0)
		return GBA_ECRYPTO;
	return (int)(clen + GBA_AEAD_NONCE_LEN);
}

int gba_aead_open(const uint8_t key[32], const void *ad, size_t adlen, const uint8_t *in,
                  size_t len, uint8_t *out, size_t outsz)
{
	gnutls_aead_cipher_hd_t h = NULL;
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)key, GBA_AEAD_KEY_LEN };
	size_t plen = outsz;
	int ret;

	if (len < GBA_AEAD_NONCE_LEN + GBA_AEAD_TAG_LEN || len > INT32_MAX)
		return GBA_EAUTH;
	if (outsz < len - GBA_AEAD_NONCE_LEN - GBA_AEAD_TAG_LEN)
		return GBA_ETOOBIG;
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) != 0)
		return GBA_ECRYPTO;
	ret = gnutls_aead_cipher_decrypt(h, in, GBA_AEAD_NONCE_LEN, ad, adlen, GBA_AEAD_TAG_LEN,
	                                 in + GBA_AEAD_NONCE_LEN, len - GBA_AEAD_NONCE_LEN,
	                                 out, &plen);
	gnutls_aead_cipher_deinit(h);
	if (ret != 0) {
		gba_wipe(out, outsz);
		return GBA_EAUTH;
	}
	return (int)plen;
}

int gba_base64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)in, 0 };
	gnutls_datum_t r = { NULL, 0 };
	int ret;

	if (len > UINT32_MAX / 2)
		return GBA_ETOOBIG;
	d.size = (unsigned)len;
	if (len == 0) {
		if (outsz < 1)
			return GBA_ETOOBIG;
		out[0] = '\0';
		return 0;
	}
	if (gnutls_base64_encode2(&d, &r) != 0)
		return GBA_ENOMEM;
	if (r.size >= outsz || r.size > INT32_MAX) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	memcpy(out, r.data, r.size);
	out[r.size] = '\0';
	ret = (int)r.size;
out:
	gnutls_free(r.data);
	return ret;
}

int gba_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)in, 0 };
	gnutls_datum_t r = { NULL, 0 };
	size_t i;
	int ret;

	if (len == 0)
		return 0;
	if (len > UINT32_MAX / 2)
		return GBA_ETOOBIG;
	/* GnuTLS skips whitespace and tolerates missing padding; the
	 * protocols here carry canonical base64 only, so insist on it. */
	if (len % 4 != 0)
		return GBA_ESYNTAX;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      (c == '=' && i >= len - 2)))
			return GBA_ESYNTAX;
	}
	if (in[len - 2] == '=' && in[len - 1] != '=')
		return GBA_ESYNTAX;
	d.size = (unsigned)len;
	if (gnutls_base64_decode2(&d, &r) != 0)
		return GBA_ESYNTAX;
	if (r.size > outsz || r.size > INT32_MAX) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	memcpy(out, r.data, r.size);
	ret = (int)r.size;
out:
	gba_wipe(r.data, r.size);
	gnutls_free(r.data);
	return ret;
}

void gba_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gba_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t i;

	if (outlen > SIZE_MAX / 2 || inlen != 2 * outlen)
		return GBA_ESYNTAX;
	for (i = 0; i < outlen; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return GBA_ESYNTAX;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}
