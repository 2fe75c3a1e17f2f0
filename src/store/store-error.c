/* SPDX-License-Identifier: MIT */
/*
 * store-error.c: the store's error reporting (store-error.h). Each thread
 * keeps its last error code and text in thread-local storage, so a store
 * shared by worker threads never mixes up their errors. Syscall failures
 * are logged here, once, where they happen (STYLE §4).
 */
#include "store-error.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define STORE_ERROR_TEXT_MAX 1024

static __thread enum store_error error_code;
static __thread char error_text[STORE_ERROR_TEXT_MAX];

int
store_set_error(enum store_error code, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(error_text, sizeof(error_text), fmt, args);
	va_end(args);
	error_code = code;
	return -1;
}

int
store_set_syscall_error(const char *syscall, const char *path)
{
	int saved = errno;
	enum store_error code;

	code = saved == ENOSPC || saved == EDQUOT ?
		STORE_ERROR_NOSPACE : STORE_ERROR_TEMP;
	log_warn("%s(%s)", syscall, path);
	store_set_error(code, "%s(%s) failed: %s", syscall, path,
			strerror(saved));
	errno = saved;
	return -1;
}

enum store_error
store_error(const char **text_r)
{
	if (text_r != NULL) {
		*text_r = error_code == STORE_ERROR_NONE ? "no error" :
			error_text;
	}
	return error_code;
}

void
store_clear_error(void)
{
	error_code = STORE_ERROR_NONE;
	error_text[0] = '\0';
}
