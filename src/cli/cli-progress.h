/* SPDX-License-Identifier: MIT */
/*
 * cli-progress.h: a progress bar on stderr for long imports and exports,
 * drawn only when stderr is a terminal and at most every
 * CLI_PROGRESS_INTERVAL_MS. In cli.
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include "lib.h"

#define CLI_PROGRESS_INTERVAL_MS 100
#define CLI_PROGRESS_WIDTH 30

struct cli_progress {
	const char *what;
	uint64_t total;
	uint64_t last_ms;
	bool enabled;
	bool drawn;
};

/* total: how many items the whole job has. */
void cli_progress_init(struct cli_progress *progress, const char *what,
		       uint64_t total);
void cli_progress_update(struct cli_progress *progress, uint64_t done);
/* Ends the bar's line (if one was drawn). */
void cli_progress_finish(struct cli_progress *progress);

#endif
