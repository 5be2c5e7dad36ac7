/*
 * ue_der.h - small helpers gba-ue needs around the lib/ codecs: owned
 * certificate lists, PEM and other files in and out.  Carried
 * certificates come from gba_cms_cert, extended key usages from
 * gba_x509_cert_has_eku.
 */
#ifndef UE_DER_H
#define UE_DER_H

#include <stddef.h>
#include <stdint.h>

#include "gba_asn1.h"

#define UE_MAX_CERTS     16u
#define UE_MAX_FILE      (256u * 1024u)

/* A list of owned DER certificates (gba_malloc'd). */
struct ue_certs {
	uint8_t *der[UE_MAX_CERTS];
	size_t len[UE_MAX_CERTS];
	size_t n;
};
/* Append a copy of der; GBA_ETOOBIG when full. */
int ue_certs_add(struct ue_certs *c, const uint8_t *der, size_t len);
void ue_certs_clear(struct ue_certs *c);


/* id-kp-cmcCA 1.3.6.1.5.5.7.3.27 and id-kp-cmcRA .28 (content octets). */
#define UE_OID_KP_CMC_CA "1.3.6.1.5.5.7.3.27"   /* id-kp-cmcCA, RFC 6402 */
#define UE_OID_KP_CMC_RA "1.3.6.1.5.5.7.3.28"   /* id-kp-cmcRA */

/* Read a whole file (at most UE_MAX_FILE); *buf owned (gba_free). */
int ue_file_read(const char *path, uint8_t **buf, size_t *len);
/* Write a file atomically (temporary file in the same directory,
 * fsync, rename) with the given mode. */
int ue_file_write(const char *path, const void *buf, size_t len, unsigned mode);

/* Every "-----BEGIN <label>-----" block of a PEM file, decoded, appended
 * to out.  GBA_ENOTFOUND when there is none. */
int ue_pem_read(const char *path, const char *label, struct ue_certs *out);
/* The PEM of several DERs concatenated into one file (mode 0644). */
int ue_pem_write(const char *path, const char *label, const uint8_t *const *der,
                 const size_t *len, size_t n);

#endif
