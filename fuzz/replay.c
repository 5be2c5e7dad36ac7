/*
 * replay.c - main() for fuzz targets built without libFuzzer.
 *
 * Replays every regular file in $FUZZ_CORPUS/<target> through
 * LLVMFuzzerTestOneInput(), where <target> is the basename of argv[0]
 * with any libtool "lt-" prefix removed.  A missing or empty corpus is a
 * failure, so `make check` cannot pass having run nothing.  Files are
 * read up to GBA_FUZZ_MAX_INPUT octets; longer ones are truncated, as
 * libFuzzer's -max_len would.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gba_mem.h"

#define GBA_FUZZ_MAX_INPUT (1024u * 1024u)
#define REPLAY_PATH_MAX    4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read up to cap octets of path into buf; *len gets the count. */
static int
read_capped(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = NULL;
	size_t n;
	int rc = -1;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	n = fread(buf, 1, cap, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		goto out;
	}
	*len = n;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

static const char *
target_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base != NULL ? base + 1 : argv0;
	if (strncmp(base, "lt-", 3) == 0)
		base += 3;
	return base;
}

int
main(int argc, char **argv)
{
	const char *corpus = getenv("FUZZ_CORPUS");
	const char *target;
	char dir[REPLAY_PATH_MAX];
	char path[REPLAY_PATH_MAX];
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	uint8_t *buf = NULL;
	size_t len;
	unsigned long ran = 0;
	int n;
	int status = EXIT_FAILURE;

	if (argc < 1 || argv[0] == NULL) {
		fprintf(stderr, "replay: no argv[0]\n");
		goto out;
	}
	target = target_name(argv[0]);
	if (corpus == NULL || corpus[0] == '\0') {
		fprintf(stderr, "replay: %s: FUZZ_CORPUS is not set\n", target);
		goto out;
	}
	n = snprintf(dir, sizeof(dir), "%s/%s", corpus, target);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		fprintf(stderr, "replay: corpus path too long\n");
		goto out;
	}
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	buf = gba_malloc(GBA_FUZZ_MAX_INPUT);
	if (buf == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		goto out;
	}

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				fprintf(stderr, "replay: %s: %s\n", dir,
					strerror(errno));
				goto out;
			}
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "replay: path too long: %s\n",
				de->d_name);
			goto out;
		}
		if (stat(path, &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", path,
				strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (read_capped(path, buf, GBA_FUZZ_MAX_INPUT, &len) != 0)
			goto out;
		LLVMFuzzerTestOneInput(buf, len);
		ran++;
	}

	printf("%s: replayed %lu inputs from %s\n", target, ran, dir);
	if (ran == 0) {
		fprintf(stderr, "replay: %s: corpus is empty\n", dir);
		goto out;
	}
	status = EXIT_SUCCESS;
out:
	gba_free(buf);
	if (d != NULL)
		closedir(d);
	return status;
}
