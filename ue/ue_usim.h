/*
 * ue_usim.h - the simulated USIM and its state file.
 *
 * The state file is text, one "key value" pair per line, written
 * atomically (temporary file, fsync, rename) with mode 0600 because it
 * holds K, OPc and, after a bootstrap, Ks.  Keys:
 *   impi, k, opc, sqn            the USIM (sqn = highest SQN accepted)
 *   btid, lifetime, rand, ks     the last bootstrap (optional)
 * Unknown keys, duplicate keys and lines over 1 KiB are errors.
 */
#ifndef UE_USIM_H
#define UE_USIM_H

#include <stdint.h>

#include "gba_limits.h"
#include "gba_secret.h"

/* SQN freshness: accept SQN only if SQN_MS < SQN <= SQN_MS + this. */
#define UE_SQN_WINDOW ((uint64_t)1 << 28)

struct ue_usim {
	char impi[GBA_MAX_IMPI_LEN + 1];
	struct gba_secret k;        /* 16 */
	struct gba_secret opc;      /* 16 */
	uint64_t sqn_ms;            /* 48-bit */
	/* the last bootstrap; btid[0] == 0 when none */
	char btid[GBA_MAX_BTID_LEN + 1];
	char lifetime[32];          /* xs:dateTime as received */
	uint8_t rand[16];
	struct gba_secret ks;       /* 32 */
};

int ue_usim_load(struct ue_usim *u, const char *path);
int ue_usim_save(const struct ue_usim *u, const char *path);
/* Wipe every secret. */
void ue_usim_clear(struct ue_usim *u);

/*
 * Run AUTHENTICATE on (RAND, AUTN).  Returns 0 with RES/CK/IK and the new
 * SQN accepted (u->sqn_ms updated); GBA_EAUTH when MAC-A is wrong
 * (network authentication failure); GBA_ESYNC when SQN is not fresh, in
 * which case auts holds the resynchronisation token.
 */
int ue_usim_authenticate(struct ue_usim *u, const uint8_t rand[16], const uint8_t autn[16],
                         uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t auts[14]);

#endif
