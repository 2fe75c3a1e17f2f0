/* SPDX-License-Identifier: MIT */
/*
 * log.c: see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_progname = "commune";
static enum log_level log_min_level = LOG_LEVEL_INFO;

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_min_level = level;
}

void
log_set_level(enum log_level level)
{
	log_min_level = level;
}

bool
log_debug_enabled(void)
{
	return log_min_level <= LOG_LEVEL_DEBUG;
}

static void ATTR_FORMAT(4, 0)
log_vline(enum log_level level, const char *tag, const char *suffix,
	  const char *fmt, va_list args)
{
	char msg[2048];

	if (level < log_min_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, args);
	if (suffix != NULL)
		fprintf(stderr, "%s: %s%s: %s\n", log_progname, tag, msg,
			suffix);
	else
		fprintf(stderr, "%s: %s%s\n", log_progname, tag, msg);
}

#define LOG_BODY(level, tag, suffix)                   \
	va_list args;                                  \
	va_start(args, fmt);                           \
	log_vline(level, tag, suffix, fmt, args);      \
	va_end(args)

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, "debug: ", NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, "", NULL);
}

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARN, "warning: ", err);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "warning: ", NULL);
}

void
log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, "fatal: ", NULL);
	exit(1);
}
