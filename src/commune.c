/* SPDX-License-Identifier: MIT */
/*
 * commune.c: the one executable. `commune serve` runs the server
 * (src/daemon); every other subcommand is an administrator's command
 * (src/cli).
 */
#include "cli.h"
#include "daemon.h"

#include <string.h>

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return daemon_main(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
