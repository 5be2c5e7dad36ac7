/*
 * gba_daemon.h - the plumbing gba-bsfd and gba-nafd share around their
 * handlers: start-up checks, the audit sink with its start and stop
 * records, the policy set and its reloads, the pid file, the ready
 * report and the signal thread.
 *
 * gba_daemon_start, in this order: blocks SIGTERM, SIGINT, SIGHUP and
 * SIGUSR1 in the calling thread (so in every thread created after it:
 * call it before any thread starts) and ignores SIGPIPE; checks the
 * store's key file and opens the store once (a bad key or database
 * stops start-up); opens the audit log and writes the start record (no
 * audit log, no service); loads the policies when a directory is given
 * (a bad set stops start-up); writes the pid file.  Every refusal is
 * one line on stderr, "NAME: why", and undoes what was done.
 *
 * gba_daemon_run binds the listeners, reports "NAME PORT" lines (port
 * file, written atomically, and/or a descriptor) and serves until
 * SIGTERM or SIGINT, then stops gracefully.  Meanwhile one thread takes
 * the signals: SIGHUP reloads the policies (both outcomes audited; a
 * bad set leaves the old one in force), SIGUSR1 rotates the audit log,
 * and every minute it purges the store's expired rows.
 *
 * gba_daemon_finish writes the stop record, closes the audit log, frees
 * the policies and removes the pid file.
 */
#ifndef GBA_DAEMON_H
#define GBA_DAEMON_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "gba_http.h"

struct gba_audit;
struct gba_policy_store;

#define GBA_DAEMON_PATH_LEN 4096u

struct gba_daemon_conf {
	const char *name;                 /* "gba-bsfd": messages, syslog ident, audit app */
	const char *log_tag;              /* module tag of its log lines: "bsfd" */
	const char *db, *key_file;        /* the store (checked at start, purged) */
	const char *audit_log;
	unsigned audit_flags;             /* GBA_AUDIT_CLEAR_IDS | GBA_AUDIT_SYSLOG */
	const char *policy_dir;           /* NULL: no policies */
	const char *pid_file;             /* NULL: none */
	const char *port_file;            /* NULL: none */
	int ready_fd;                     /* -1: none; closed after the report */
	unsigned workers;                 /* 0: one per CPU */
	/* Each worker thread's own state (SQLite handles are per thread):
	 * worker_new makes it on the thread's first request
	 * (gba_daemon_worker) and logs why when it cannot; worker_free
	 * frees every one once the server has stopped. */
	int (*worker_new)(void *arg, void **out);
	void (*worker_free)(void *w);
	void *worker_arg;
	/* Optional: called by gba_daemon_run once the listeners are bound
	 * (gba_http_server_port tells the ports), before any request is
	 * served and before the ports are reported; a negative return
	 * stops the daemon. */
	int (*on_bound)(void *arg, struct gba_http_server *server);
	/* Optional: after each successful SIGHUP policy reload (the signal
	 * thread). */
	void (*on_reload)(void *arg);
	/* Optional: each worker's periodic tick (gba_http_server_conf). */
	void (*on_tick)(void *arg, unsigned worker);
	unsigned tick_ms;
	unsigned max_connections;         /* per worker; 0: the layer's default */
};

struct gba_daemon_slot;

/* Filled by gba_daemon_start; audit and policies are the daemon's to
 * lend to its handlers until gba_daemon_finish. */
struct gba_daemon {
	const struct gba_daemon_conf *conf;   /* borrowed; outlives d */
	struct gba_audit *audit;
	struct gba_policy_store *policies;    /* NULL without policy_dir */
	struct gba_http_server *server;       /* while gba_daemon_run runs */
	sigset_t signals;
	pthread_mutex_t lock;
	struct gba_daemon_slot *workers;
};

/* 0, or a negative code after printing why on stderr (nothing is left
 * open then). */
int gba_daemon_start(struct gba_daemon *d, const struct gba_daemon_conf *conf);

/*
 * Serve l[0..n) until SIGTERM or SIGINT.  The listener table and what
 * it points to must outlive the call.  When it returns, every handler
 * has returned, and the server and each worker's state are freed.
 * 0 after a graceful stop; a negative code (printed) when the
 * listeners could not be set up.
 */
int gba_daemon_run(struct gba_daemon *d, const struct gba_http_listener_conf *l, size_t n);

/* The calling worker thread's state, made on its first call (one
 * gba_daemon per process); NULL when it cannot be made (answer 503). */
void *gba_daemon_worker(struct gba_daemon *d);

/* The stop record and the rest of the teardown; safe after a failed or
 * partial start (a zeroed d is accepted). */
void gba_daemon_finish(struct gba_daemon *d);

/* (Re)load conf->policy_dir into d->policies and audit the outcome;
 * what SIGHUP runs. */
int gba_daemon_policy_load(struct gba_daemon *d);

/* ---- the options every daemon takes ---- */

/* getopt_long values of the shared options (above any character). */
enum {
	GBA_DAEMON_OPT_DB = 0x100,
	GBA_DAEMON_OPT_KEY_FILE,
	GBA_DAEMON_OPT_AUDIT_LOG,
	GBA_DAEMON_OPT_AUDIT_CLEAR_IDS,
	GBA_DAEMON_OPT_AUDIT_SYSLOG,
	GBA_DAEMON_OPT_POLICY_DIR,
	GBA_DAEMON_OPT_PID_FILE,
	GBA_DAEMON_OPT_PORT_FILE,
	GBA_DAEMON_OPT_READY_FD,
	GBA_DAEMON_OPT_WORKERS,
	GBA_DAEMON_OPT_MAX_CONNECTIONS
};

/* Their struct option entries (<getopt.h>), for a daemon's table. */
#define GBA_DAEMON_LONG_OPTIONS                                                   \
	{ "db", required_argument, NULL, GBA_DAEMON_OPT_DB },                     \
	{ "key-file", required_argument, NULL, GBA_DAEMON_OPT_KEY_FILE },         \
	{ "audit-log", required_argument, NULL, GBA_DAEMON_OPT_AUDIT_LOG },       \
	{ "audit-clear-ids", no_argument, NULL, GBA_DAEMON_OPT_AUDIT_CLEAR_IDS }, \
	{ "audit-syslog", no_argument, NULL, GBA_DAEMON_OPT_AUDIT_SYSLOG },       \
	{ "policy-dir", required_argument, NULL, GBA_DAEMON_OPT_POLICY_DIR },     \
	{ "pid-file", required_argument, NULL, GBA_DAEMON_OPT_PID_FILE },         \
	{ "port-file", required_argument, NULL, GBA_DAEMON_OPT_PORT_FILE },       \
	{ "ready-fd", required_argument, NULL, GBA_DAEMON_OPT_READY_FD },         \
	{ "workers", required_argument, NULL, GBA_DAEMON_OPT_WORKERS },             \
	{ "max-connections", required_argument, NULL, GBA_DAEMON_OPT_MAX_CONNECTIONS }

/* Apply option ch with its argument to c: 1 when it is one of the
 * shared options, 0 when not, GBA_EINVAL for a bad value. */
int gba_daemon_option(struct gba_daemon_conf *c, int ch, const char *arg);

/* Their --help lines, with the daemon's defaults. */
void gba_daemon_usage(FILE *f, const char *db, const char *key_file, const char *audit_log);

/* ---- option helpers ---- */

/* A decimal number 0..max, nothing else (no sign, no blanks). */
int gba_daemon_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* out = dir "/" name; GBA_ETOOBIG when it does not fit. */
int gba_daemon_path(char out[GBA_DAEMON_PATH_LEN], const char *dir, const char *name);

/*
 * A secret key file must be a regular file (not a symbolic link) that
 * only its owner may access.  0 when it is, or when it does not exist
 * and may be created (must_exist 0); otherwise prints "NAME: key file
 * PATH ..." with the reason on stderr and returns GBA_EPERM (mode,
 * type) or GBA_ENOTFOUND.
 */
int gba_daemon_check_key(const char *name, const char *path, int must_exist);

#endif
