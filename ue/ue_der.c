/* ue_der.c - certificate lists, PEM and file helpers for gba-ue. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "ue_der.h"

int ue_certs_add(struct ue_certs *c, const uint8_t *der, size_t len)
{
	uint8_t *copy;

	if (c->n == UE_MAX_CERTS)
		return GBA_ETOOBIG;
	copy = gba_malloc(len);
	if (copy == NULL)
		return GBA_ENOMEM;
	memcpy(copy, der, len);
	c->der[c->n] = copy;
	c->len[c->n] = len;
	c->n++;
	return 0;
}

void ue_certs_clear(struct ue_certs *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		gba_free(c->der[i]);
	memset(c, 0, sizeof(*c));
}

int ue_file_read(const char *path, uint8_t **buf, size_t *len)
{
	uint8_t *b = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GBA_ENOTFOUND : GBA_EIO;
	b = gba_malloc(UE_MAX_FILE + 1);
	if (b == NULL) {
		ret = GBA_ENOMEM;
		goto out;
	}
	for (;;) {
		r = read(fd, b + n, UE_MAX_FILE + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = GBA_EIO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > UE_MAX_FILE) {
			ret = GBA_ETOOBIG;
			goto out;
		}
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	if (b != NULL) {
		gba_wipe(b, n);
		gba_free(b);
	}
	close(fd);
	return ret;
}

int ue_file_write(const char *path, const void *buf, size_t len, unsigned mode)
{
	char tmp[4096];
	const uint8_t *p = buf;
	size_t off = 0;
	ssize_t w;
	int fd, n, ret = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return GBA_EINVAL;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return GBA_EIO;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = GBA_EIO;
			break;
		}
		off += (size_t)w;
	}
	if (ret == 0 && fsync(fd) != 0)
		ret = GBA_EIO;
	if (close(fd) != 0 && ret == 0)
		ret = GBA_EIO;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = GBA_EIO;
	if (ret < 0)
		(void)unlink(tmp);
	return ret;
}

int ue_pem_read(const char *path, const char *label, struct ue_certs *out)
{
	uint8_t *buf = NULL, *der = NULL;
	size_t len = 0, pos = 0, dlen, found = 0;
	int ret;

	ret = ue_file_read(path, &buf, &len);
	if (ret < 0)
		return ret;
	for (;;) {
		ret = gba_x509_pem_decode(label, (const char *)buf, len, &pos, &der, &dlen);
		if (ret == GBA_ENOTFOUND)
			break;
		if (ret == 0)
			ret = ue_certs_add(out, der, dlen);
		gba_free(der);
		der = NULL;
		if (ret < 0)
			goto out;
		found++;
	}
	ret = found > 0 ? 0 : GBA_ENOTFOUND;
out:
	gba_wipe(buf, len);
	gba_free(buf);
	return ret;
}

int ue_pem_write(const char *path, const char *label, const uint8_t *const *der,
                 const size_t *len, size_t n)
{
	char *all = NULL, *pem = NULL, *grown;
	size_t used = 0, l, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = gba_x509_pem(label, der[i], len[i], &pem);
		if (ret < 0)
			goto out;
		l = strlen(pem);
		grown = gba_realloc(all, used + l + 1);
		if (grown == NULL) {
			ret = GBA_ENOMEM;
			goto out;
		}
		all = grown;
		memcpy(all + used, pem, l + 1);
		used += l;
		gba_free(pem);
		pem = NULL;
	}
	ret = ue_file_write(path, all != NULL ? all : "", used, 0644);
out:
	gba_free(pem);
	gba_free(all);
	return ret;
}
