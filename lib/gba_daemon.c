/*
 * gba_daemon.c - start-up, signals, policies, audit records and the
 * ready report of gba-bsfd and gba-nafd (gba_daemon.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gba_audit.h"
#include "gba_conf.h"
#include "gba_crypto.h"
#include "gba_daemon.h"
#include "gba_err.h"
#include "gba_log.h"
#include "gba_mem.h"
#include "gba_policy.h"
#include "gba_store.h"

/* ---- option helpers ---- */

int gba_daemon_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] < '0' || s[0] > '9')
		return GBA_EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int gba_daemon_option(struct gba_daemon_conf *c, int ch, const char *arg)
{
	uint32_t v;

	switch (ch) {
	case GBA_DAEMON_OPT_DB: c->db = arg; break;
	case GBA_DAEMON_OPT_KEY_FILE: c->key_file = arg; break;
	case GBA_DAEMON_OPT_AUDIT_LOG: c->audit_log = arg; break;
	case GBA_DAEMON_OPT_AUDIT_CLEAR_IDS: c->audit_flags |= GBA_AUDIT_CLEAR_IDS; break;
	case GBA_DAEMON_OPT_AUDIT_SYSLOG: c->audit_flags |= GBA_AUDIT_SYSLOG; break;
	case GBA_DAEMON_OPT_POLICY_DIR: c->policy_dir = arg; break;
	case GBA_DAEMON_OPT_PID_FILE: c->pid_file = arg; break;
	case GBA_DAEMON_OPT_PORT_FILE: c->port_file = arg; break;
	case GBA_DAEMON_OPT_READY_FD:
		if (gba_daemon_parse_u32(arg, INT_MAX, &v) < 0)
			return GBA_EINVAL;
		c->ready_fd = (int)v;
		break;
	case GBA_DAEMON_OPT_WORKERS:
		if (gba_daemon_parse_u32(arg, 256, &v) < 0)
			return GBA_EINVAL;
		c->workers = v;
		break;
	case GBA_DAEMON_OPT_MAX_CONNECTIONS:
		if (gba_daemon_parse_u32(arg, 10000000, &v) < 0 || v == 0)
			return GBA_EINVAL;
		c->max_connections = v;
		break;
	default:
		return 0;
	}
	return 1;
}

void gba_daemon_usage(FILE *f, const char *db, const char *key_file, const char *audit_log)
{
	fprintf(f,
	        "  --db F --key-file F     SQLite database and at-rest key\n"
	        "                          (%s, %s)\n"
	        "  --audit-log F           audit log, JSON Lines; SIGUSR1 rotates it\n"
	        "                          (%s)\n"
	        "  --audit-clear-ids       audit records carry IMPI and B-TID in clear\n"
	        "  --audit-syslog          also copy each audit record to syslog (authpriv)\n"
	        "  --policy-dir DIR        per-application YAML policies; SIGHUP reloads them\n"
	        "  --workers N             worker threads (one per CPU)\n"
	        "  --max-connections N     open connections per worker (4096)\n"
	        "  --port-file F           write \"NAME PORT\" lines to F once bound\n"
	        "  --ready-fd N            write the same lines to descriptor N\n"
	        "  --pid-file F            write the daemon's pid to F (for gba-ctl policy reload)\n",
	        db, key_file, audit_log);
}

int gba_daemon_path(char out[GBA_DAEMON_PATH_LEN], const char *dir, const char *name)
{
	int n = snprintf(out, GBA_DAEMON_PATH_LEN, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= GBA_DAEMON_PATH_LEN ? GBA_ETOOBIG : 0;
}

int gba_daemon_check_key(const char *name, const char *path, int must_exist)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		fprintf(stderr, "%s: key file %s: %s\n", name, path, strerror(errno));
		return GBA_ENOTFOUND;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: key file %s is not a regular file (symbolic links are "
		        "refused)\n", name, path);
		return GBA_EPERM;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		fprintf(stderr, "%s: key file %s is accessible to group or others (mode %04o); "
		        "chmod 600 it\n", name, path, (unsigned)(sb.st_mode & 07777));
		return GBA_EPERM;
	}
	return 0;
}

/* ---- audit and policies ---- */

/* A start or stop record ("app": the daemon and its version). */
static int audit_simple(struct gba_daemon *d, enum gba_audit_type type)
{
	struct gba_audit_event ev;
	char app[128];

	snprintf(app, sizeof(app), "%s %s", d->conf->name, PACKAGE_VERSION);
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.outcome = GBA_AUDIT_OK;
	ev.app = app;
	return gba_audit_emit(d->audit, &ev);
}

int gba_daemon_policy_load(struct gba_daemon *d)
{
	char err[GBA_CONF_ERR_LEN + GBA_POLICY_MAX_PATH];
	const struct gba_policy_set *set;
	struct gba_audit_event ev;
	char hex[2 * GBA_POLICY_SHA256_LEN + 1];
	const char *tag = d->conf->log_tag;
	size_t i;
	int ret, aret = 0;

	ret = gba_policy_store_reload(d->policies, d->conf->policy_dir, err, sizeof(err));
	if (ret < 0) {
		gba_log_err(tag, "policies not loaded (any previous set stays in force): %s", err);
		memset(&ev, 0, sizeof(ev));
		ev.type = GBA_AUDIT_POLICY_REJECTED;
		ev.outcome = GBA_AUDIT_DENIED;
		ev.reason = err;
		ev.policy = d->conf->policy_dir;
		(void)gba_audit_emit(d->audit, &ev);
		return ret;
	}
	set = gba_policy_store_acquire(d->policies);
	for (i = 0; set != NULL && i < set->n; i++) {
		gba_hex_encode(set->v[i].sha256, GBA_POLICY_SHA256_LEN, hex);
		memset(&ev, 0, sizeof(ev));
		ev.type = GBA_AUDIT_POLICY_LOADED;
		ev.outcome = GBA_AUDIT_OK;
		ev.app = set->v[i].c.application.id;
		ev.policy = set->v[i].path;
		ev.policy_sha256 = hex;
		if (aret == 0)
			aret = gba_audit_emit(d->audit, &ev);
	}
	gba_log_notice(tag, "loaded %zu policies from %s", set != NULL ? set->n : 0,
	               d->conf->policy_dir);
	gba_policy_store_release(d->policies, set);
	return aret;
}

/* ---- start and finish ---- */

int gba_daemon_start(struct gba_daemon *d, const struct gba_daemon_conf *c)
{
	struct gba_store *st = NULL;
	FILE *pf;
	int ret, started = 0;

	memset(d, 0, sizeof(*d));
	d->conf = c;
	sigemptyset(&d->signals);
	sigaddset(&d->signals, SIGTERM);
	sigaddset(&d->signals, SIGINT);
	sigaddset(&d->signals, SIGHUP);
	sigaddset(&d->signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &d->signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* A bad key or database stops start-up. */
	ret = gba_daemon_check_key(c->name, c->key_file, 0);
	if (ret < 0)
		goto out;
	ret = gba_store_open(&st, c->db, c->key_file);
	gba_store_close(st);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot open store %s: %s\n", c->name, c->db, gba_strerror(ret));
		goto out;
	}

	/* No audit log, no service (fail closed). */
	if (c->audit_flags & GBA_AUDIT_SYSLOG)   /* GBA_AUDIT_SYSLOG_STDERR=1 echoes it (tests) */
		openlog(c->name, LOG_PID | (getenv("GBA_AUDIT_SYSLOG_STDERR") ? LOG_PERROR : 0),
		        LOG_AUTHPRIV);
	ret = gba_audit_open(&d->audit, c->audit_log, c->audit_flags);
	if (ret == 0)
		ret = audit_simple(d, GBA_AUDIT_START);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot write the audit log %s: %s\n", c->name, c->audit_log,
		        gba_strerror(ret));
		goto out;
	}
	started = 1;

	/* A bad policy set stops start-up; later reloads keep the old one. */
	if (c->policy_dir != NULL) {
		ret = gba_policy_store_new(&d->policies);
		if (ret == 0)
			ret = gba_daemon_policy_load(d);
		if (ret < 0) {
			fprintf(stderr, "%s: cannot load the policies in %s (see the log)\n", c->name,
			        c->policy_dir);
			goto out;
		}
	}

	if (c->pid_file != NULL) {
		pf = fopen(c->pid_file, "w");
		if (pf == NULL || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
			fprintf(stderr, "%s: cannot write the pid file %s\n", c->name, c->pid_file);
			ret = GBA_EIO;
			goto out;
		}
	}
	pthread_mutex_init(&d->lock, NULL);
out:
	if (ret < 0) {
		if (started)
			(void)audit_simple(d, GBA_AUDIT_STOP);
		gba_audit_close(d->audit);
		gba_policy_store_free(d->policies);
		memset(d, 0, sizeof(*d));
	}
	return ret;
}

void gba_daemon_finish(struct gba_daemon *d)
{
	if (d->conf == NULL)
		return;
	if (d->audit != NULL && audit_simple(d, GBA_AUDIT_STOP) < 0)
		gba_log_err(d->conf->log_tag, "cannot write the stop record to the audit log");
	gba_audit_close(d->audit);
	gba_policy_store_free(d->policies);
	if (d->conf->pid_file != NULL)
		unlink(d->conf->pid_file);
	pthread_mutex_destroy(&d->lock);
	memset(d, 0, sizeof(*d));
}

/* ---- worker state ---- */

struct gba_daemon_slot {
	void *w;
	struct gba_daemon_slot *next;
};

static _Thread_local void *this_worker;

void *gba_daemon_worker(struct gba_daemon *d)
{
	struct gba_daemon_slot *s;
	void *w = NULL;

	if (this_worker != NULL)
		return this_worker;
	s = gba_calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	if (d->conf->worker_new(d->conf->worker_arg, &w) < 0) {
		gba_free(s);
		return NULL;
	}
	s->w = w;
	pthread_mutex_lock(&d->lock);
	s->next = d->workers;
	d->workers = s;
	pthread_mutex_unlock(&d->lock);
	this_worker = w;
	return w;
}

static void workers_free(struct gba_daemon *d)
{
	struct gba_daemon_slot *s;

	while (d->workers != NULL) {
		s = d->workers;
		d->workers = s->next;
		d->conf->worker_free(s->w);
		gba_free(s);
	}
}

/* ---- ready report ---- */

static int report_ports(const struct gba_daemon *d, const struct gba_http_listener_conf *l,
                        size_t n)
{
	const struct gba_daemon_conf *c = d->conf;
	char buf[256];
	size_t len = 0, i;
	int w;

	for (i = 0; i < n; i++) {
		w = snprintf(buf + len, sizeof(buf) - len, "%s %u\n", l[i].name,
		             (unsigned)gba_http_server_port(d->server, i));
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return GBA_ETOOBIG;
		len += (size_t)w;
	}
	if (c->port_file != NULL) {
		char tmp[GBA_DAEMON_PATH_LEN];
		FILE *f;

		if (snprintf(tmp, sizeof(tmp), "%s.tmp", c->port_file) >= (int)sizeof(tmp))
			return GBA_ETOOBIG;
		f = fopen(tmp, "w");
		if (f == NULL || fwrite(buf, 1, len, f) != len) {
			if (f != NULL)
				fclose(f);
			return GBA_EIO;
		}
		if (fclose(f) != 0 || rename(tmp, c->port_file) != 0)
			return GBA_EIO;
	}
	if (c->ready_fd >= 0) {
		if (write(c->ready_fd, buf, len) != (ssize_t)len)
			return GBA_EIO;
		close(c->ready_fd);
	}
	for (i = 0; i < n; i++)
		gba_log_notice(c->log_tag, "listening: %s on %s port %u%s", l[i].name, l[i].address,
		               (unsigned)gba_http_server_port(d->server, i),
		               l[i].cert_file != NULL ? " (TLS)" : "");
	return 0;
}

/* ---- the signal thread ---- */

static void *signal_thread(void *arg)
{
	struct gba_daemon *d = arg;
	const char *tag = d->conf->log_tag;
	struct gba_store *st = NULL;
	struct timespec ts = { 60, 0 };

	if (gba_store_open(&st, d->conf->db, d->conf->key_file) < 0)
		st = NULL;
	for (;;) {
		int sig = sigtimedwait(&d->signals, NULL, &ts);

		if (sig == SIGHUP) {
			if (d->policies != NULL) {
				if (gba_daemon_policy_load(d) == 0 && d->conf->on_reload != NULL)
					d->conf->on_reload(d->conf->worker_arg);
			} else
				gba_log_notice(tag, "SIGHUP: no --policy-dir to reload");
			continue;
		}
		if (sig == SIGUSR1) {
			int r = gba_audit_rotate(d->audit);

			if (r < 0)
				gba_log_err(tag, "audit log rotation failed: %s (decisions now "
				            "fail closed)", gba_strerror(r));
			else
				gba_log_notice(tag, "audit log rotated");
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT) {
			gba_log_notice(tag, "signal %d: stopping gracefully", sig);
			gba_http_server_stop(d->server);
			break;
		}
		if (sig < 0 && errno == EAGAIN && st != NULL) {
			int n = gba_store_purge(st, (int64_t)time(NULL));

			if (n > 0)
				gba_log_info(tag, "purged %d expired entries", n);
		}
	}
	gba_store_close(st);
	return NULL;
}

int gba_daemon_run(struct gba_daemon *d, const struct gba_http_listener_conf *l, size_t n)
{
	struct gba_http_server_conf sc;
	pthread_t thread;
	int ret;

	memset(&sc, 0, sizeof(sc));
	sc.listeners = l;
	sc.nlisteners = n;
	sc.workers = d->conf->workers;
	gba_http_limits_default(&sc.limits);
	if (d->conf->max_connections != 0)
		sc.limits.max_connections = d->conf->max_connections;
	sc.on_tick = d->conf->on_tick;
	sc.tick_ctx = d->conf->worker_arg;
	sc.tick_ms = d->conf->tick_ms;
	ret = gba_http_server_new(&d->server, &sc);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot start listeners: %s\n", d->conf->name, gba_strerror(ret));
		return ret;
	}
	if (d->conf->on_bound != NULL) {
		ret = d->conf->on_bound(d->conf->worker_arg, d->server);
		if (ret < 0)
			goto out;
	}
	ret = report_ports(d, l, n);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot report ports: %s\n", d->conf->name, gba_strerror(ret));
		goto out;
	}
	if (pthread_create(&thread, NULL, signal_thread, d) != 0) {
		fprintf(stderr, "%s: cannot start the signal thread\n", d->conf->name);
		ret = GBA_EINTERNAL;
		goto out;
	}
	ret = gba_http_server_run(d->server);
	pthread_kill(thread, SIGTERM);   /* in case run ended on its own */
	pthread_join(thread, NULL);
out:
	gba_http_server_free(d->server);
	d->server = NULL;
	workers_free(d);
	return ret;
}
