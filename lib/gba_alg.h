/*
 * gba_alg.h - algorithm names shared by the codec and crypto layers.
 */
#ifndef GBA_ALG_H
#define GBA_ALG_H

/* Hashes.  SHA-256 is 0 so that a zeroed request means SHA-256.  CMS
 * signers use SHA-256 (P-256, RSA), SHA-384 (P-384) or SHA-512 (Ed25519,
 * RFC 8419); MD5 and SHA-1 serve HTTP Digest and legacy witnesses. */
enum gba_hash_alg {
	GBA_HASH_SHA256 = 0,
	GBA_HASH_SHA384,
	GBA_HASH_SHA512,
	GBA_HASH_SHA1,
	GBA_HASH_MD5
};

#endif
