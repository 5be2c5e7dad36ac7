/* ctl_policy.h - the `gba-ctl policy` subcommand. */
#ifndef GBA_CTL_POLICY_H
#define GBA_CTL_POLICY_H

/* argv[0] is the word after "policy"; returns the exit status. */
int ctl_policy_main(int argc, char **argv);

#endif
