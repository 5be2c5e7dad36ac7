/*
 * ctl_policy.c - gba-ctl policy check DIR
 *
 * Loads every *.yaml policy in DIR exactly as the daemon would on start
 * or SIGHUP.  Valid: prints each effective policy (every key, defaults
 * filled in) and exits 0.  Invalid: prints the first error as
 * "file:line:column: message" on stderr and exits 1.  Usage errors: 2.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_conf.h"
#include "gba_err.h"
#include "gba_policy.h"
#include "ctl_policy.h"

#define EXIT_ERR   1
#define EXIT_USAGE 2

static void
policy_usage(FILE *f)
{
	fprintf(f, "usage: gba-ctl policy check DIR\n"
	           "  validate every DIR/*.yaml and print the effective policies\n");
}

int
ctl_policy_main(int argc, char **argv)
{
	struct gba_policy_set *set = NULL;
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];
	size_t i;
	int ret = EXIT_ERR;

	if (argc != 2 || strcmp(argv[0], "check") != 0) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	if (gba_policy_set_load(argv[1], &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	for (i = 0; i < set->n; i++) {
		if (i > 0)
			fputs("---\n", stdout);
		if (gba_policy_print(stdout, &set->v[i]) != 0)
			goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gba-ctl: write error on standard output\n");
		goto out;
	}
	ret = 0;
out:
	gba_policy_set_free(set);
	return ret;
}
