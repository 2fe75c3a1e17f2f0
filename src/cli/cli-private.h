/* SPDX-License-Identifier: MIT */
/*
 * cli-private.h: what the `commune` command families share: the parsed
 * command line, the command tables, exit statuses and the helpers of
 * cli.c (errors, opening accounts and mailboxes, output).
 *
 * Every command is a row in its family's table (cli-<family>.c); cli.c
 * parses the command line against the tables, opens the store and calls
 * the row's run(). run() returns the process exit status. Commands call
 * the store only: a failed command changes nothing because each store
 * call is atomic and a command that needs several undoes what it did.
 */
#ifndef CLI_PRIVATE_H
#define CLI_PRIVATE_H

#include "cli.h"
#include "store.h"

#include <stdio.h>

/* Exit statuses (documented in `commune --help` and README). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1         /* the store refused, or check found damage */
#define CLI_EXIT_USAGE 2        /* the command line is wrong */
#define CLI_EXIT_TEMPFAIL 75    /* EX_TEMPFAIL: I/O, no space, over quota */

enum cli_opt {
	CLI_OPT_PASSWORD,
	CLI_OPT_TYPE,
	CLI_OPT_FORMAT,
	CLI_OPT_CLASS,
	CLI_OPT_MAILBOX,
	CLI_OPT_FLAGS,
	CLI_OPT_FROM,
	CLI_OPT_FORCE,
	CLI_OPT_STORAGE,
	CLI_OPT_MESSAGES,
	CLI_OPT_COUNT
};
#define CLI_OPT_BIT(opt) (1u << (opt))

struct cli_command;

struct cli_ctx {
	const char *base_dir;
	struct store *store;    /* NULL until cli_store_open() */
	const struct cli_command *cmd;
	const char *family;
	/* Positional arguments after the family and verb. */
	char **args;
	unsigned int arg_count;
	/* Option values (NULL: not given; "" for a flag option given). */
	const char *opts[CLI_OPT_COUNT];
};

struct cli_command {
	const char *verb;       /* NULL: the family name is the command */
	const char *synopsis;   /* arguments and options, for usage */
	const char *help;       /* what it does; lines end in "\n" */
	unsigned int min_args, max_args;
	unsigned int options;   /* CLI_OPT_BIT()s it accepts */
	int (*run)(struct cli_ctx *ctx);
};

struct cli_family {
	const char *name;
	const struct cli_command *commands;
	unsigned int count;
};

extern const struct cli_family cli_family_domain;
extern const struct cli_family cli_family_account;
extern const struct cli_family cli_family_mailbox;
extern const struct cli_family cli_family_message;
extern const struct cli_family cli_family_deliver;
extern const struct cli_family cli_family_import;
extern const struct cli_family cli_family_export;
extern const struct cli_family cli_family_check;
extern const struct cli_family cli_family_reindex;

/* Prints "commune: <text>" to stderr; returns CLI_EXIT_FAIL. */
int cli_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* Prints the usage error and the command's synopsis to stderr; returns
   CLI_EXIT_USAGE. */
int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Prints the store's last error as "commune: <text>" and returns the
   exit status its code maps to (CLI_EXIT_TEMPFAIL or CLI_EXIT_FAIL). */
int cli_store_error(void);
/* Exit status for a store error code. */
int cli_exit_status(enum store_error code);
/* The exit status of a store call's return value (0 or -1). */
int cli_result(int ret);
/* For a store call that returned a name list: prints the names one a
   line and frees them, or prints the error. Returns the exit status. */
int cli_print_names(int ret, char **names, unsigned int count);

/* Opens the store at ctx->base_dir unless open. Commands call it (or
   cli_account_open) only after checking their arguments, so a usage
   error never touches the base directory. 0, or the exit status. */
int cli_store_open(struct cli_ctx *ctx);
/* Open an account or mailbox; 0, or the exit status after printing the
   error. */
int cli_account_open(struct cli_ctx *ctx, const char *name,
		     struct account **account_r);
int cli_mailbox_open(struct account *account, const char *name,
		     struct mailbox **box_r);

/* Parses a UID (1..2^32-1); 0 or the usage exit status. */
int cli_parse_uid(struct cli_ctx *ctx, const char *text, uint32_t *uid_r);

/* Copies control characters out of UTF-8 text for one output line:
   C0, DEL and C1 controls become '?'. */
void cli_append_printable(buf_t *out, const unsigned char *text,
			  size_t len);

/* Writes all of data to fd 1; 0 or CLI_EXIT_FAIL after an error. */
int cli_write_stdout(const void *data, size_t len);

/* Reads a secret: the value itself, or one line of stdin for "-".
   Caller wipes and frees. NULL after printing an error. */
char *cli_read_secret(const char *value);

#endif
