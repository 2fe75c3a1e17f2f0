/* SPDX-License-Identifier: MIT */
/*
 * cli-check.c: `commune check` (verify every mailbox's files) and
 * `commune reindex` (rebuild every mailbox's index from its files). In
 * cli, above store.
 */
#include "cli-private.h"

#include <stdlib.h>
#include <string.h>

/* Runs fn on every selectable mailbox of account args[0], or only on
   args[1]; the worst exit status wins. */
static int
each_mailbox(struct cli_ctx *ctx,
	     int (*fn)(struct account *account, const char *name))
{
	struct account *account;
	struct mailbox_info *infos;
	unsigned int count, i;
	int ret, status = CLI_EXIT_OK;

	if ((ret = cli_account_open(ctx, ctx->args[0], &account)) != 0)
		return ret;
	if (ctx->arg_count > 1) {
		status = fn(account, ctx->args[1]);
		store_account_close(&account);
		return status;
	}
	if (store_mailbox_list(account, &infos, &count) == -1) {
		ret = cli_store_error();
		store_account_close(&account);
		return ret;
	}
	for (i = 0; i < count; i++) {
		if (!infos[i].selectable)
			continue;
		ret = fn(account, infos[i].name);
		if (ret > status)
			status = ret;
	}
	store_mailbox_infos_free(&infos, count);
	store_account_close(&account);
	return status;
}

/* Prints each report line as "NAME: line". */
static void
print_report(const char *name, const buf_t *report)
{
	const char *p = (const char *)report->data, *end = p + report->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		buf_t line = BUF_INIT;

		cli_append_printable(&line, (const unsigned char *)p, len);
		printf("%s: %s\n", name, buf_cstr(&line));
		buf_deinit(&line);
		p += len + 1;
	}
}

static int
check_one(struct account *account, const char *name)
{
	buf_t report = BUF_INIT;
	int ret;

	ret = store_mailbox_check(account, name, &report);
	if (ret < 0) {
		ret = cli_store_error();
	} else if (ret > 0) {
		if (report.len == 0)
			buf_append_str(&report, "problems found");
		print_report(name, &report);
		ret = CLI_EXIT_FAIL;
	} else {
		printf("%s: ok\n", name);
	}
	buf_deinit(&report);
	return ret;
}

static int
cmd_check(struct cli_ctx *ctx)
{
	return each_mailbox(ctx, check_one);
}

static int
reindex_one(struct account *account, const char *name)
{
	if (store_mailbox_reindex(account, name) == -1)
		return cli_store_error();
	return CLI_EXIT_OK;
}

static int
cmd_reindex(struct cli_ctx *ctx)
{
	return each_mailbox(ctx, reindex_one);
}

static const struct cli_command check_commands[] = {
	{ NULL, "ACCOUNT [MAILBOX]",
	  "Verifies every mailbox of the account (or one): every message\n"
	  "parses, UIDs ascend and are unique, the index agrees with the\n"
	  "files. Prints \"NAME: ok\" or one line per problem; exits 1 when\n"
	  "any problem was found. Changes nothing.\n",
	  1, 2, 0, cmd_check },
};

static const struct cli_command reindex_commands[] = {
	{ NULL, "ACCOUNT [MAILBOX]",
	  "Throws away the index of every mailbox of the account (or of\n"
	  "one) and rebuilds it from the mailbox files.\n",
	  1, 2, 0, cmd_reindex },
};

const struct cli_family cli_family_check = {
	"check", check_commands, N_ELEMENTS(check_commands)
};

const struct cli_family cli_family_reindex = {
	"reindex", reindex_commands, N_ELEMENTS(reindex_commands)
};
