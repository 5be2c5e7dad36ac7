/*
 * gba_milenage.c - Milenage (TS 35.206 section 4) on AES-128 from GnuTLS.
 *
 *   TEMP = E_K(RAND xor OPc)
 *   OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc,
 *          IN1 = SQN || AMF || SQN || AMF
 *   OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc, i = 2..5
 *
 * with r1..r5 = 64, 0, 32, 64, 96 bits and ci = 0 except the last octet
 * of c2..c5 = 1, 2, 4, 8.  All rotations are whole octets.
 */
#include "config.h"

#include <string.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_milenage.h"

/* dst = rot(src, r) for r a multiple of 8 bits, towards the MSB. */
static void rot128(uint8_t dst[16], const uint8_t src[16], unsigned rbits)
{
	unsigned shift = rbits / 8, i;

	for (i = 0; i < 16; i++)
		dst[i] = src[(i + shift) % 16];
}

static void xor16(uint8_t *dst, const uint8_t *a, const uint8_t *b)
{
	unsigned i;

	for (i = 0; i < 16; i++)
		dst[i] = (uint8_t)(a[i] ^ b[i]);
}

int gba_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
	struct gba_aes128 *aes = NULL;
	uint8_t tmp[16];
	int ret;

	ret = gba_aes128_new(&aes, k);
	if (ret < 0)
		return ret;
	ret = gba_aes128_encrypt(aes, op, tmp);
	if (ret < 0)
		goto out;
	xor16(opc, tmp, op);
out:
	gba_wipe(tmp, sizeof(tmp));
	gba_aes128_free(aes);
	return ret;
}

/* TEMP = E_K(RAND xor OPc) */
static int milenage_temp(struct gba_aes128 *aes, const uint8_t opc[16],
                         const uint8_t rand[16], uint8_t temp[16])
{
	uint8_t in[16];
	int ret;

	xor16(in, rand, opc);
	ret = gba_aes128_encrypt(aes, in, temp);
	gba_wipe(in, sizeof(in));
	return ret;
}

int gba_milenage_f1(const uint8_t k[16], const uint8_t opc[16],
                    const uint8_t rand[16], const uint8_t sqn[6],
                    const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
	struct gba_aes128 *aes = NULL;
	uint8_t temp[16], in1[16], t[16], r[16], out1[16];
	int ret;

	ret = gba_aes128_new(&aes, k);
	if (ret < 0)
		return ret;
	ret = milenage_temp(aes, opc, rand, temp);
	if (ret < 0)
		goto out;
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, sqn, 6);
	memcpy(in1 + 14, amf, 2);
	xor16(t, in1, opc);
	rot128(r, t, 64);           /* r1 = 64, c1 = 0 */
	xor16(t, r, temp);
	ret = gba_aes128_encrypt(aes, t, out1);
	if (ret < 0)
		goto out;
	xor16(out1, out1, opc);
	if (mac_a != NULL)
		memcpy(mac_a, out1, 8);
	if (mac_s != NULL)
		memcpy(mac_s, out1 + 8, 8);
out:
	gba_wipe(temp, sizeof(temp));
	gba_wipe(t, sizeof(t));
	gba_wipe(r, sizeof(r));
	gba_wipe(out1, sizeof(out1));
	gba_aes128_free(aes);
	return ret;
}

/* OUTi for i = 2..5: E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc */
static int milenage_out(struct gba_aes128 *aes, const uint8_t opc[16],
                        const uint8_t temp[16], unsigned rbits, uint8_t c,
                        uint8_t out[16])
{
	uint8_t t[16], r[16];
	int ret;

	xor16(t, temp, opc);
	rot128(r, t, rbits);
	r[15] ^= c;
	ret = gba_aes128_encrypt(aes, r, out);
	if (ret == 0)
		xor16(out, out, opc);
	gba_wipe(t, sizeof(t));
	gba_wipe(r, sizeof(r));
	return ret;
}

int gba_milenage_f2345(const uint8_t k[16], const uint8_t opc[16],
                       const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
                       uint8_t ik[16], uint8_t ak[6], uint8_t ak_s[6])
{
	struct gba_aes128 *aes = NULL;
	uint8_t temp[16], out[16];
	int ret;

	ret = gba_aes128_new(&aes, k);
	if (ret < 0)
		return ret;
	ret = milenage_temp(aes, opc, rand, temp);
	if (ret < 0)
		goto out;
	if (res != NULL || ak != NULL) {
		ret = milenage_out(aes, opc, temp, 0, 1, out);          /* OUT2 */
		if (ret < 0)
			goto out;
		if (ak != NULL)
			memcpy(ak, out, 6);
		if (res != NULL)
			memcpy(res, out + 8, 8);
	}
	if (ck != NULL) {
		ret = milenage_out(aes, opc, temp, 32, 2, ck);          /* OUT3 */
		if (ret < 0)
			goto out;
	}
	if (ik != NULL) {
		ret = milenage_out(aes, opc, temp, 64, 4, ik);          /* OUT4 */
		if (ret < 0)
			goto out;
	}
	if (ak_s != NULL) {
		ret = milenage_out(aes, opc, temp, 96, 8, out);         /* OUT5 */
		if (ret < 0)
			goto out;
		memcpy(ak_s, out, 6);
	}
out:
	gba_wipe(temp, sizeof(temp));
	gba_wipe(out, sizeof(out));
	gba_aes128_free(aes);
	return ret;
}

int gba_milenage_vector(const uint8_t k[16], const uint8_t opc[16],
                        const uint8_t rand[16], const uint8_t sqn[6],
                        const uint8_t amf[2], struct gba_aka_vector *av)
{
	uint8_t ak[6];
	unsigned i;
	int ret;

	memcpy(av->rand, rand, 16);
	ret = gba_milenage_f2345(k, opc, rand, av->xres, av->ck, av->ik, ak, NULL);
	if (ret < 0)
		goto out;
	ret = gba_milenage_f1(k, opc, rand, sqn, amf, av->autn + 8, NULL);
	if (ret < 0)
		goto out;
	for (i = 0; i < 6; i++)
		av->autn[i] = (uint8_t)(sqn[i] ^ ak[i]);
	memcpy(av->autn + 6, amf, 2);
out:
	gba_wipe(ak, sizeof(ak));
	if (ret < 0)
		gba_wipe(av, sizeof(*av));
	return ret;
}

int gba_milenage_check_autn(const uint8_t k[16], const uint8_t opc[16],
                            const uint8_t rand[16], const uint8_t autn[16],
                            uint8_t sqn[6], uint8_t res[8], uint8_t ck[16],
                            uint8_t ik[16])
{
	uint8_t ak[6], s[6], xmac[8], r[8], c[16], i_[16];
	unsigned i;
	int ret;

	ret = gba_milenage_f2345(k, opc, rand, r, c, i_, ak, NULL);
	if (ret < 0)
		goto out;
	for (i = 0; i < 6; i++)
		s[i] = (uint8_t)(autn[i] ^ ak[i]);
	ret = gba_milenage_f1(k, opc, rand, s, autn + 6, xmac, NULL);
	if (ret < 0)
		goto out;
	if (!gba_ct_equal(xmac, autn + 8, 8)) {
		ret = GBA_EAUTH;
		goto out;
	}
	if (sqn != NULL)
		memcpy(sqn, s, 6);
	if (res != NULL)
		memcpy(res, r, 8);
	if (ck != NULL)
		memcpy(ck, c, 16);
	if (ik != NULL)
		memcpy(ik, i_, 16);
out:
	gba_wipe(ak, sizeof(ak));
	gba_wipe(s, sizeof(s));
	gba_wipe(xmac, sizeof(xmac));
	gba_wipe(r, sizeof(r));
	gba_wipe(c, sizeof(c));
	gba_wipe(i_, sizeof(i_));
	return ret;
}

int gba_milenage_auts(const uint8_t k[16], const uint8_t opc[16],
                      const uint8_t rand[16], const uint8_t sqn_ms[6],
                      uint8_t auts[14])
{
	static const uint8_t amf_star[2] = { 0, 0 };
	uint8_t ak_s[6];
	unsigned i;
	int ret;

	ret = gba_milenage_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_s);
	if (ret < 0)
		goto out;
	ret = gba_milenage_f1(k, opc, rand, sqn_ms, amf_star, NULL, auts + 6);
	if (ret < 0)
		goto out;
	for (i = 0; i < 6; i++)
		auts[i] = (uint8_t)(sqn_ms[i] ^ ak_s[i]);
out:
	gba_wipe(ak_s, sizeof(ak_s));
	return ret;
}

int gba_milenage_auts_check(const uint8_t k[16], const uint8_t opc[16],
                            const uint8_t rand[16], const uint8_t auts[14],
                            uint8_t sqn_ms[6])
{
	static const uint8_t amf_star[2] = { 0, 0 };
	uint8_t ak_s[6], s[6], xmac_s[8];
	unsigned i;
	int ret;

	ret = gba_milenage_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_s);
	if (ret < 0)
		goto out;
	for (i = 0; i < 6; i++)
		s[i] = (uint8_t)(auts[i] ^ ak_s[i]);
	ret = gba_milenage_f1(k, opc, rand, s, amf_star, NULL, xmac_s);
	if (ret < 0)
		goto out;
	if (!gba_ct_equal(xmac_s, auts + 6, 8)) {
		ret = GBA_EAUTH;
		goto out;
	}
	memcpy(sqn_ms, s, 6);
out:
	gba_wipe(ak_s, sizeof(ak_s));
	gba_wipe(s, sizeof(s));
	gba_wipe(xmac_s, sizeof(xmac_s));
	return ret;
}
