/* ctl_cert.h - the `gba-ctl cert`, `pending`, `approve` and `reject`
 * commands (ctl_cert.c) and what they share with ctl_main.c. */
#ifndef GBA_CTL_CERT_H
#define GBA_CTL_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "gba_store.h"

/* 1 when word is one of the commands ctl_cert_main runs. */
int ctl_cert_command(const char *word);

/* argv[0] is the command word; db and key are the --db and --key-file
 * values.  Returns the exit status (0, 1 error, 2 usage). */
int ctl_cert_main(int argc, char **argv, const char *db, const char *key);

/* ctl_main.c: open the store, printing why not (a person can act on
 * it); -1 on error.  must_exist: refuse (and create nothing) when there
 * is no database at db. */
int ctl_open_store(struct gba_store **st, const char *db, const char *key, int must_exist);

/*
 * A serial number in hex (1..40 digits, any case, leading zeros
 * allowed) as the store keeps it: the minimal content octets of a
 * non-negative INTEGER.  -1 if it is not hex or too big.
 */
int ctl_parse_serial(const char *s, uint8_t out[GBA_STORE_MAX_SERIAL], size_t *len);

/* ctl_revoke.c: revoke, hold, unhold, revoke-subscriber and crl. */
int ctl_revoke_command(const char *word);
int ctl_revoke_main(int argc, char **argv, const char *db, const char *key,
                    const char *audit_log);

#endif
