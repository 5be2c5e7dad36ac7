/*
 * gba_alg.h - algorithm names shared by the codec and crypto layers.
 */
#ifndef GBA_ALG_H
#define GBA_ALG_H

/* Digests used with CMS signed attributes and certificate signatures:
 * SHA-256 (P-256, RSA), SHA-384 (P-384), SHA-512 (Ed25519, RFC 8419). */
enum gba_hash { GBA_HASH_SHA256, GBA_HASH_SHA384, GBA_HASH_SHA512 };

#endif
