/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the administrator's `commune` subcommands (everything but
 * `serve`). Each family lives in cli-<family>.c.
 */
#ifndef CLI_H
#define CLI_H

/* Runs `commune <argv[1]> ...`; returns the process exit status. */
int cli_main(int argc, char **argv);

#endif
