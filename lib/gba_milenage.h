/*
 * gba_milenage.h - the 3GPP authentication functions (TS 35.206) and the
 * AKA values built from them (TS 33.102 6.3).
 *
 * Sizes are fixed by the specification: K, OP, OPc, RAND, CK, IK and
 * AUTN are 16 octets; SQN and AK are 6; AMF is 2; RES, MAC-A and MAC-S
 * are 8; AUTS is 14.  K, OPc, CK, IK and RES are secrets: callers own
 * them and must wipe them (gba_wipe) when done.  Every function wipes its
 * own intermediate values before returning.
 *
 * All functions return 0 or a negative GBA_E* code.
 */
#ifndef GBA_MILENAGE_H
#define GBA_MILENAGE_H

#include <stdint.h>

#define GBA_AKA_K_LEN    16u
#define GBA_AKA_RAND_LEN 16u
#define GBA_AKA_SQN_LEN  6u
#define GBA_AKA_AMF_LEN  2u
#define GBA_AKA_RES_LEN  8u
#define GBA_AKA_MAC_LEN  8u
#define GBA_AKA_AUTN_LEN 16u
#define GBA_AKA_AUTS_LEN 14u

/* SQN (6 octets, big-endian) as an integer and back. */
static inline uint64_t gba_sqn_get(const uint8_t sqn[6])
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 6; i++)
		v = (v << 8) | sqn[i];
	return v;
}

static inline void gba_sqn_put(uint64_t v, uint8_t sqn[6])
{
	unsigned i;

	for (i = 6; i > 0; i--) {
		sqn[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* OPc = OP xor E_K(OP). */
int gba_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16]);

/* f1 (MAC-A) and f1* (MAC-S); either output may be NULL. */
int gba_milenage_f1(const uint8_t k[16], const uint8_t opc[16],
                    const uint8_t rand[16], const uint8_t sqn[6],
                    const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8]);

/* f2 (RES), f3 (CK), f4 (IK), f5 (AK) and f5* (AK for resync); any
 * output may be NULL. */
int gba_milenage_f2345(const uint8_t k[16], const uint8_t opc[16],
                       const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
                       uint8_t ik[16], uint8_t ak[6], uint8_t ak_s[6]);

/* One authentication vector, as the network (HSS) generates it. */
struct gba_aka_vector {
	uint8_t rand[16];
	uint8_t xres[8];
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t autn[16];
};

/* Network side: AUTN = (SQN xor AK) || AMF || MAC-A, plus XRES, CK, IK,
 * for the given RAND (copied into av->rand). */
int gba_milenage_vector(const uint8_t k[16], const uint8_t opc[16],
                        const uint8_t rand[16], const uint8_t sqn[6],
                        const uint8_t amf[2], struct gba_aka_vector *av);

/*
 * UE side: check AUTN's MAC-A and recover SQN.  On success writes SQN,
 * RES, CK and IK (any may be NULL).  GBA_EAUTH if MAC-A is wrong; in that
 * case nothing is written.  SQN freshness is the caller's decision.
 */
int gba_milenage_check_autn(const uint8_t k[16], const uint8_t opc[16],
                            const uint8_t rand[16], const uint8_t autn[16],
                            uint8_t sqn[6], uint8_t res[8], uint8_t ck[16],
                            uint8_t ik[16]);

/* UE side: AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S computed with AMF* = 0. */
int gba_milenage_auts(const uint8_t k[16], const uint8_t opc[16],
                      const uint8_t rand[16], const uint8_t sqn_ms[6],
                      uint8_t auts[14]);

/* Network side: recover SQN_MS from AUTS and check MAC-S.  GBA_EAUTH if
 * MAC-S is wrong (sqn_ms is then left untouched). */
int gba_milenage_auts_check(const uint8_t k[16], const uint8_t opc[16],
                            const uint8_t rand[16], const uint8_t auts[14],
                            uint8_t sqn_ms[6]);

#endif
