/* SPDX-License-Identifier: MIT */
/*
 * cli-progress.c: the stderr progress bar (cli-progress.h). In cli.
 */
#include "cli-progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
cli_progress_init(struct cli_progress *progress, const char *what,
		  uint64_t total)
{
	memset(progress, 0, sizeof(*progress));
	progress->what = what;
	progress->total = total;
	progress->enabled = isatty(STDERR_FILENO) == 1;
}

static void
draw(struct cli_progress *progress, uint64_t done)
{
	char bar[CLI_PROGRESS_WIDTH + 1];
	uint64_t total = progress->total > 0 ? progress->total : 1;
	unsigned int filled, pct;

	if (done > total)
		done = total;
	filled = (unsigned int)(done * CLI_PROGRESS_WIDTH / total);
	pct = (unsigned int)(done * 100 / total);
	memset(bar, '#', filled);
	memset(bar + filled, '.', CLI_PROGRESS_WIDTH - filled);
	bar[CLI_PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\r%s [%s] %3u%% %llu/%llu", progress->what, bar, pct,
		(unsigned long long)done,
		(unsigned long long)progress->total);
	fflush(stderr);
	progress->drawn = true;
}

void
cli_progress_update(struct cli_progress *progress, uint64_t done)
{
	uint64_t now;

	if (!progress->enabled)
		return;
	now = now_ms();
	if (progress->drawn && now - progress->last_ms <
	    CLI_PROGRESS_INTERVAL_MS && done < progress->total)
		return;
	progress->last_ms = now;
	draw(progress, done);
}

void
cli_progress_finish(struct cli_progress *progress)
{
	if (progress->enabled && progress->drawn)
		fputc('\n', stderr);
	progress->drawn = false;
}
