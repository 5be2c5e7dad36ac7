/* ue_usim.c - USIM simulation and its state file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_milenage.h"
#include "ue_usim.h"

#define LINE_MAX_LEN 1024u

void ue_usim_clear(struct ue_usim *u)
{
	gba_secret_clear(&u->k);
	gba_secret_clear(&u->opc);
	gba_secret_clear(&u->ks);
	gba_wipe(u, sizeof(*u));
}

static int parse_hex_secret(struct gba_secret *s, const char *v, size_t want)
{
	uint8_t b[GBA_SECRET_MAX];
	int ret;

	if (strlen(v) != 2 * want || want > sizeof(b))
		return GBA_ESYNTAX;
	ret = gba_hex_decode(v, 2 * want, b, want);
	if (ret == 0)
		ret = gba_secret_set(s, b, want);
	gba_wipe(b, sizeof(b));
	return ret;
}

static int copy_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= size)
		return GBA_ETOOBIG;
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_field(struct ue_usim *u, const char *key, const char *v, unsigned *seen)
{
	static const char *const keys[] = {
		"impi", "k", "opc", "sqn", "btid", "lifetime", "rand", "ks"
	};
	uint8_t sqn[6];
	unsigned i;
	int ret;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return GBA_ESYNTAX;
	if (*seen & (1u << i))
		return GBA_EDUP;
	*seen |= 1u << i;
	switch (i) {
	case 0:
		return copy_str(u->impi, sizeof(u->impi), v);
	case 1:
		return parse_hex_secret(&u->k, v, 16);
	case 2:
		return parse_hex_secret(&u->opc, v, 16);
	case 3:
		if (strlen(v) != 12)
			return GBA_ESYNTAX;
		ret = gba_hex_decode(v, 12, sqn, 6);
		if (ret == 0)
			u->sqn_ms = gba_sqn_get(sqn);
		return ret;
	case 4:
		return copy_str(u->btid, sizeof(u->btid), v);
	case 5:
		return copy_str(u->lifetime, sizeof(u->lifetime), v);
	case 6:
		return strlen(v) == 32 ? gba_hex_decode(v, 32, u->rand, 16) : GBA_ESYNTAX;
	default:
		return parse_hex_secret(&u->ks, v, 32);
	}
}

int ue_usim_load(struct ue_usim *u, const char *path)
{
	char line[LINE_MAX_LEN + 2];
	unsigned seen = 0;
	FILE *f;
	int ret = 0;

	memset(u, 0, sizeof(*u));
	f = fopen(path, "r");
	if (f == NULL)
		return GBA_EIO;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		char *sp;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			ret = GBA_ETOOBIG;
			break;
		}
		if (n == 0 || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		if (sp == NULL) {
			ret = GBA_ESYNTAX;
			break;
		}
		*sp = '\0';
		ret = set_field(u, line, sp + 1, &seen);
		gba_wipe(line, sizeof(line));
		if (ret < 0)
			break;
	}
	gba_wipe(line, sizeof(line));
	fclose(f);
	if (ret == 0 && ((seen & 0x0f) != 0x0f))
		ret = GBA_EMISSING;   /* impi, k, opc and sqn are required */
	if (ret < 0)
		ue_usim_clear(u);
	return ret;
}

int ue_usim_save(const struct ue_usim *u, const char *path)
{
	char tmp[4096], hex[2 * GBA_SECRET_MAX + 1];
	uint8_t sqn[6];
	FILE *f = NULL;
	int fd, n, ret = GBA_EIO;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return GBA_ETOOBIG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return GBA_EIO;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		goto out;
	}
	fprintf(f, "impi %s\n", u->impi);
	gba_hex_encode(u->k.b, u->k.len, hex);
	fprintf(f, "k %s\n", hex);
	gba_hex_encode(u->opc.b, u->opc.len, hex);
	fprintf(f, "opc %s\n", hex);
	gba_sqn_put(u->sqn_ms, sqn);
	gba_hex_encode(sqn, 6, hex);
	fprintf(f, "sqn %s\n", hex);
	if (u->btid[0] != '\0') {
		fprintf(f, "btid %s\nlifetime %s\n", u->btid, u->lifetime);
		gba_hex_encode(u->rand, 16, hex);
		fprintf(f, "rand %s\n", hex);
		gba_hex_encode(u->ks.b, u->ks.len, hex);
		fprintf(f, "ks %s\n", hex);
	}
	gba_wipe(hex, sizeof(hex));
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		goto out;
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int ue_usim_authenticate(struct ue_usim *u, const uint8_t rand[16], const uint8_t autn[16],
                         uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t auts[14])
{
	uint8_t sqn[6], sqn_ms[6];
	uint64_t s;
	int ret;

	if (u->k.len != 16 || u->opc.len != 16)
		return GBA_EINVAL;
	ret = gba_milenage_check_autn(u->k.b, u->opc.b, rand, autn, sqn, res, ck, ik);
	if (ret < 0)
		return ret;                           /* GBA_EAUTH: MAC-A wrong */
	s = gba_sqn_get(sqn);
	if (s <= u->sqn_ms || s - u->sqn_ms > UE_SQN_WINDOW) {
		gba_wipe(res, 8);
		gba_wipe(ck, 16);
		gba_wipe(ik, 16);
		gba_sqn_put(u->sqn_ms, sqn_ms);
		ret = gba_milenage_auts(u->k.b, u->opc.b, rand, sqn_ms, auts);
		return ret < 0 ? ret : GBA_ESYNC;
	}
	u->sqn_ms = s;
	return 0;
}
