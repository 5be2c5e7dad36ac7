/* ctl_cert.h - the `gba-ctl cert`, `pending`, `approve` and `reject`
 * commands (ctl_cert.c) and what they share with ctl_main.c. */
#ifndef GBA_CTL_CERT_H
#define GBA_CTL_CERT_H

struct gba_store;

/* 1 when word is one of the commands ctl_cert_main runs. */
int ctl_cert_command(const char *word);

/* argv[0] is the command word; db and key are the --db and --key-file
 * values.  Returns the exit status (0, 1 error, 2 usage). */
int ctl_cert_main(int argc, char **argv, const char *db, const char *key);

/* ctl_main.c: open the store, printing why not (a person can act on
 * it); -1 on error.  must_exist: refuse (and create nothing) when there
 * is no database at db. */
int ctl_open_store(struct gba_store **st, const char *db, const char *key, int must_exist);

#endif
