/* SPDX-License-Identifier: MIT */
/*
 * log.h: logging to stderr with a level. log_warn appends strerror(errno);
 * log_warnx does not (OpenSMTPD's convention). Thread-safe (one fprintf
 * per line).
 */
#ifndef LOG_H
#define LOG_H

#include "lib.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
bool log_debug_enabled(void);
void log_debug(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_info(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_warn(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_warnx(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_fatalx(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_NORETURN;

#endif
