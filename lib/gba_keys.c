/* gba_keys.c - TS 33.220 KDF, Ks_NAF, B-TID and TMPI. */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_limits.h"
#include "gba_mem.h"

const uint8_t gba_ua_id_pki_portal[GBA_UA_ID_LEN] = { 0x01, 0x00, 0x00, 0x00, 0x00 };
const uint8_t gba_ua_id_http_digest[GBA_UA_ID_LEN] = { 0x01, 0x00, 0x00, 0x00, 0x02 };
const uint8_t gba_ua_id_tmpi[GBA_UA_ID_LEN] = { 0x01, 0x00, 0x00, 0x01, 0x00 };

static const char tmpi_domain[] = "@tmpi.bsf.3gppnetwork.org";

int gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
            const struct gba_kdf_param *params, size_t nparams, uint8_t out[32])
{
	uint8_t *s = NULL;
	size_t total = 1, i, pos;
	int ret;

	for (i = 0; i < nparams; i++) {
		if (params[i].len > GBA_MAX_KDF_PARAM_LEN)
			return GBA_ETOOBIG;
		total += params[i].len + 2;   /* cannot overflow: bounded above */
		if (total > 16u * GBA_MAX_KDF_PARAM_LEN)
			return GBA_ETOOBIG;
	}
	s = gba_malloc(total);
	if (s == NULL)
		return GBA_ENOMEM;
	s[0] = fc;
	pos = 1;
	for (i = 0; i < nparams; i++) {
		if (params[i].len > 0)
			memcpy(s + pos, params[i].data, params[i].len);
		pos += params[i].len;
		s[pos++] = (uint8_t)(params[i].len >> 8);
		s[pos++] = (uint8_t)(params[i].len & 0xff);
	}
	ret = gba_hmac_fast(GBA_HASH_SHA256, key, keylen, s, total, out);
	gba_wipe(s, total);   /* S holds RAND and the IMPI */
	gba_free(s);
	return ret;
}

void gba_ks_from_ck_ik(const uint8_t ck[16], const uint8_t ik[16], uint8_t ks[GBA_KS_LEN])
{
	memcpy(ks, ck, 16);
	memcpy(ks + 16, ik, 16);
}

/* KDF(Ks, p0, RAND, IMPI, FQDN || id) with FC 0x01. */
static int naf_kdf(const char *p0, const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
                   const char *impi, size_t impi_len, const char *fqdn, size_t fqdn_len,
                   const uint8_t id[GBA_UA_ID_LEN], uint8_t out[32])
{
	uint8_t naf_id[GBA_MAX_FQDN_LEN + GBA_UA_ID_LEN];
	struct gba_kdf_param p[4];

	if (fqdn_len == 0 || fqdn_len > GBA_MAX_FQDN_LEN)
		return GBA_EINVAL;
	if (impi_len == 0 || impi_len > GBA_MAX_IMPI_LEN)
		return GBA_EINVAL;
	memcpy(naf_id, fqdn, fqdn_len);
	memcpy(naf_id + fqdn_len, id, GBA_UA_ID_LEN);
	p[0].data = p0;
	p[0].len = strlen(p0);
	p[1].data = rand;
	p[1].len = 16;
	p[2].data = impi;
	p[2].len = impi_len;
	p[3].data = naf_id;
	p[3].len = fqdn_len + GBA_UA_ID_LEN;
	return gba_kdf(ks, GBA_KS_LEN, GBA_KDF_FC_GBA, p, 4, out);
}

int gba_ks_naf(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
               const char *impi, size_t impi_len, const char *naf_fqdn,
               size_t fqdn_len, const uint8_t ua_id[GBA_UA_ID_LEN],
               uint8_t out[GBA_KS_NAF_LEN])
{
	return naf_kdf("gba-me", ks, rand, impi, impi_len, naf_fqdn, fqdn_len, ua_id, out);
}

int gba_ks_int_naf(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
                   const char *impi, size_t impi_len, const char *naf_fqdn,
                   size_t fqdn_len, const uint8_t ua_id[GBA_UA_ID_LEN],
                   uint8_t out[GBA_KS_NAF_LEN])
{
	return naf_kdf("gba-u", ks, rand, impi, impi_len, naf_fqdn, fqdn_len, ua_id, out);
}

int gba_btid(const uint8_t rand[16], const char *bsf_fqdn, size_t fqdn_len,
             char *out, size_t outsz)
{
	int n;

	if (fqdn_len == 0 || fqdn_len > GBA_MAX_FQDN_LEN)
		return GBA_EINVAL;
	n = gba_base64_encode(rand, 16, out, outsz);
	if (n < 0)
		return n;
	if ((size_t)n + 1 + fqdn_len >= outsz)
		return GBA_ETOOBIG;
	out[n] = '@';
	memcpy(out + n + 1, bsf_fqdn, fqdn_len);
	out[(size_t)n + 1 + fqdn_len] = '\0';
	return n + 1 + (int)fqdn_len;
}

int gba_tmpi(const uint8_t ks[GBA_KS_LEN], const uint8_t rand[16],
             const char *impi, size_t impi_len, const char *bsf_fqdn,
             size_t fqdn_len, char *out, size_t outsz)
{
	uint8_t k[32];
	int n, ret;

	ret = naf_kdf("gba-me", ks, rand, impi, impi_len, bsf_fqdn, fqdn_len,
	              gba_ua_id_tmpi, k);
	if (ret < 0)
		goto out;
	n = gba_base64_encode(k, 24, out, outsz);
	if (n < 0) {
		ret = n;
		goto out;
	}
	if ((size_t)n + sizeof(tmpi_domain) > outsz) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	memcpy(out + n, tmpi_domain, sizeof(tmpi_domain));
	ret = n + (int)sizeof(tmpi_domain) - 1;
out:
	gba_wipe(k, sizeof(k));
	return ret;
}

int gba_revoke_passphrase(const uint8_t key[32], const uint8_t *issuer, size_t issuer_len,
                          const uint8_t *serial, size_t serial_len, int reason,
                          int64_t invalidity_date, const uint8_t *nonce, size_t nonce_len,
                          uint8_t out[GBA_REVOKE_MAC_LEN])
{
	static const char label[] = "gbacert revokeRequest v1";
	uint8_t data[sizeof(label) - 1 + 32 + 1 + 20 + 1 + 8 + 1 + 64];
	size_t n = 0;
	uint64_t t;
	int i, ret;

	if (key == NULL || issuer == NULL || issuer_len == 0 || serial == NULL ||
	    serial_len == 0 || serial_len > 20 || reason < 0 || reason > 10 ||
	    invalidity_date < 0 || nonce == NULL || nonce_len == 0 || nonce_len > 64)
		return GBA_EINVAL;
	memcpy(data, label, sizeof(label) - 1);
	n = sizeof(label) - 1;
	ret = gba_hash_fast(GBA_HASH_SHA256, issuer, issuer_len, data + n);
	if (ret < 0)
		return ret;
	n += 32;
	data[n++] = (uint8_t)serial_len;
	memcpy(data + n, serial, serial_len);
	n += serial_len;
	data[n++] = (uint8_t)reason;
	t = (uint64_t)invalidity_date;
	for (i = 7; i >= 0; i--)
		data[n++] = (uint8_t)(t >> (8 * i));
	data[n++] = (uint8_t)nonce_len;
	memcpy(data + n, nonce, nonce_len);
	n += nonce_len;
	return gba_hmac_fast(GBA_HASH_SHA256, key, 32, data, n, out);
}
