/* SPDX-License-Identifier: MIT */
/*
 * daemon.h: `commune serve`: listeners, the event loop, worker threads,
 * signals.
 */
#ifndef DAEMON_H
#define DAEMON_H

/* Runs `commune serve ...` (argv[0] is "serve"); returns exit status. */
int daemon_main(int argc, char **argv);

#endif
