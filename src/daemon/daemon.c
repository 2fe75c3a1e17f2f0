/* SPDX-License-Identifier: MIT */
/* placeholder: the daemon is not written yet. */
#include "daemon.h"

#include <stdio.h>

int
daemon_main(int argc, char **argv)
{
	fprintf(stderr, "commune serve: not implemented\n");
	return 2;
}
