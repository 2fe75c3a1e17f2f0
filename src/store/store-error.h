/* SPDX-License-Identifier: MIT */
/*
 * store-error.h: how the store reports failures. Every store call that
 * fails returns -1 and records a code and a text in thread-local storage;
 * the caller reads them with store_error(). Each front-end maps the codes
 * to its protocol once (IMAP [OVERQUOTA], LMTP 4xx/5xx, CLI exit status).
 */
#ifndef STORE_ERROR_H
#define STORE_ERROR_H

#include "lib.h"

enum store_error {
	STORE_ERROR_NONE,
	/* I/O or other environment failure; retrying later may work. */
	STORE_ERROR_TEMP,
	/* Out of disk space or over the account quota. */
	STORE_ERROR_NOSPACE,
	STORE_ERROR_OVERQUOTA,
	/* The named account, domain, mailbox or message does not exist. */
	STORE_ERROR_NOT_FOUND,
	STORE_ERROR_EXISTS,
	/* Invalid name or parameter (the client's mistake). */
	STORE_ERROR_INVALID,
	/* Valid but not allowed: delete INBOX, create in single-mailbox. */
	STORE_ERROR_NOT_POSSIBLE,
	/* A file is damaged beyond what automatic repair handles. */
	STORE_ERROR_CORRUPT,
	/* Wrong password or unknown user (never say which). */
	STORE_ERROR_AUTH,
};

/* Sets the calling thread's error; returns -1 for `return store_set...`. */
int store_set_error(enum store_error code, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Like store_set_error with ": strerror(errno)" appended, and the code
   chosen from errno (ENOSPC/EDQUOT -> NOSPACE, else TEMP). Logs the
   failure with log_warn, since it is an environment error. */
int store_set_syscall_error(const char *syscall, const char *path);
/* The calling thread's last error; *text_r stays valid until the next
   store call on this thread. */
enum store_error store_error(const char **text_r);
void store_clear_error(void);

#endif
