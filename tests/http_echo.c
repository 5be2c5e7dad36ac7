/*
 * http_echo.c - the test handler behind a real listener, for
 * http_interop.sh:
 *   http_echo --port-file F [--tls CERT KEY [--client-ca CA]]
 *   http_echo --make-pki DIR
 * Writes "PORT\n" to F (atomically, by rename) once bound, serves until
 * SIGTERM or SIGINT, then stops gracefully.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gba_err.h"
#include "gba_http.h"
#include "http_testlib.h"

static void *run(void *a)
{
	(void)gba_http_server_run(a);
	return NULL;
}

static int write_port(const char *file, unsigned port)
{
	char tmp[512];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	if (fprintf(f, "%u\n", port) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, file);
}

int main(int argc, char **argv)
{
	struct gba_http_listener_conf lc;
	struct gba_http_server_conf conf;
	struct gba_http_server *s = NULL;
	struct th_echo_ctx ec;
	const char *port_file = NULL;
	sigset_t set;
	pthread_t th;
	int i, sig, rc;

	memset(&lc, 0, sizeof(lc));
	memset(&ec, 0, sizeof(ec));
	lc.name = "echo";
	lc.address = "127.0.0.1";
	lc.handler = th_echo_handler;
	lc.ctx = &ec;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--make-pki") == 0 && i + 1 < argc)
			return th_make_pki(argv[i + 1]) == 0 ? 0 : 1;
		if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
			port_file = argv[++i];
		} else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
			lc.cert_file = argv[++i];
			lc.key_file = argv[++i];
		} else if (strcmp(argv[i], "--client-ca") == 0 && i + 1 < argc) {
			lc.client_ca_file = argv[++i];
		} else {
			fprintf(stderr, "usage: http_echo --port-file F [--tls CERT KEY "
			                "[--client-ca CA]] | --make-pki DIR\n");
			return 2;
		}
	}
	if (port_file == NULL) {
		fprintf(stderr, "http_echo: --port-file is required\n");
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	conf.listeners = &lc;
	conf.nlisteners = 1;
	conf.workers = 2;
	gba_http_limits_default(&conf.limits);
	conf.limits.idle_timeout_ms = 5000;
	/* Signals go to sigwait below, not to the workers. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	rc = gba_http_server_new(&s, &conf);
	if (rc < 0) {
		fprintf(stderr, "http_echo: %s\n", gba_strerror(rc));
		return 1;
	}
	if (pthread_create(&th, NULL, run, s) != 0) {
		gba_http_server_free(s);
		return 1;
	}
	if (write_port(port_file, gba_http_server_port(s, 0)) != 0)
		fprintf(stderr, "http_echo: cannot write %s\n", port_file);
	else
		while (sigwait(&set, &sig) != 0)
			;
	gba_http_server_stop(s);
	(void)pthread_join(th, NULL);
	gba_http_server_free(s);
	return 0;
}
