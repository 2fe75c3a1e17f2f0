/* SPDX-License-Identifier: MIT */
/* placeholder: the CLI dispatcher is not written yet. */
#include "cli.h"

#include <stdio.h>

int
cli_main(int argc, char **argv)
{
	fprintf(stderr, "commune: not implemented\n");
	return 2;
}
