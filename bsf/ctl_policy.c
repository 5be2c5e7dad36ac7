/*
 * ctl_policy.c - gba-ctl policy check DIR | policy reload PIDFILE
 *
 * reload validates nothing itself: it sends SIGHUP to the gba-bsfd whose
 * pid is in PIDFILE (--pid-file), which reloads its --policy-dir
 * atomically and audits the result (the old set stays on any error).
 *
 * Loads every *.yaml policy in DIR exactly as the daemon would on start
 * or SIGHUP.  Valid: prints each effective policy (every key, defaults
 * filled in) and exits 0.  Invalid: prints the first error as
 * "file:line:column: message" on stderr and exits 1.  Usage errors: 2.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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
	           "  validate every DIR/*.yaml and print the effective policies\n"
	           "       gba-ctl policy reload PIDFILE\n"
	           "  ask the gba-bsfd of PIDFILE to reload its policies (SIGHUP)\n");
}

static int
policy_reload(const char *pid_file)
{
	char buf[32], *end;
	long pid;
	FILE *f;
	size_t n;

	f = fopen(pid_file, "r");
	if (f == NULL) {
		fprintf(stderr, "gba-ctl: cannot read %s: %s\n", pid_file, strerror(errno));
		return EXIT_ERR;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || pid <= 1) {
		fprintf(stderr, "gba-ctl: %s does not hold a pid\n", pid_file);
		return EXIT_ERR;
	}
	if (kill((pid_t)pid, SIGHUP) != 0) {
		fprintf(stderr, "gba-ctl: cannot signal pid %ld: %s\n", pid, strerror(errno));
		return EXIT_ERR;
	}
	printf("asked gba-bsfd (pid %ld) to reload its policies; its log and audit log "
	       "say whether the new set was accepted\n", pid);
	return 0;
}

int
ctl_policy_main(int argc, char **argv)
{
	struct gba_policy_set *set = NULL;
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];
	size_t i;
	int ret = EXIT_ERR;

	if (argc == 2 && strcmp(argv[0], "reload") == 0)
		return policy_reload(argv[1]);
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
