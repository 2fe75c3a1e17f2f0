/* SPDX-License-Identifier: MIT */
/*
 * cli-account.c: `commune account create|list|delete|rename|password|
 * show|quota`. Passwords may come from standard input ("-") so they stay out
 * of `ps`; `show` never prints secrets (the store hides them). In cli,
 * above store.
 */
#include "cli-private.h"
#include "store-quota.h"

#include <stdlib.h>
#include <string.h>

static int
cmd_create(struct cli_ctx *ctx)
{
	enum account_type type = ACCOUNT_TYPE_MULTI;
	const char *type_name = ctx->opts[CLI_OPT_TYPE];
	char *password = NULL;
	int ret;

	if (type_name != NULL &&
	    store_account_type_parse(type_name, &type) == -1)
		return cli_usage_error(ctx, "--type must be multi, mbox or "
				       "mdir");
	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	if (ctx->opts[CLI_OPT_PASSWORD] != NULL) {
		password = cli_read_secret(ctx->opts[CLI_OPT_PASSWORD]);
		if (password == NULL)
			return CLI_EXIT_FAIL;
	}
	if (store_account_create(ctx->store, ctx->args[0], type,
				 password) == -1)
		ret = cli_store_error();
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return ret;
}

static int
cmd_list(struct cli_ctx *ctx)
{
	const char *domain = ctx->arg_count > 0 ? ctx->args[0] : NULL;
	char **names = NULL;
	unsigned int count = 0;
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	ret = store_account_list(ctx->store, domain, &names, &count);
	return cli_print_names(ret, names, count);
}

static int
cmd_delete(struct cli_ctx *ctx)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	return cli_result(store_account_delete(ctx->store, ctx->args[0]));
}

static int
cmd_rename(struct cli_ctx *ctx)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	return cli_result(store_account_rename(ctx->store, ctx->args[0],
					       ctx->args[1]));
}

static int
cmd_password(struct cli_ctx *ctx)
{
	char *password;
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	if ((password = cli_read_secret(ctx->args[1])) == NULL)
		return CLI_EXIT_FAIL;
	if (store_account_set_password(ctx->store, ctx->args[0],
				       password) == -1)
		ret = cli_store_error();
	explicit_bzero(password, strlen(password));
	free(password);
	return ret;
}

static int
cmd_show(struct cli_ctx *ctx)
{
	struct account *account;
	struct mailbox_info *infos;
	unsigned int count, i, boxes = 0;
	char *text;
	int ret;

	if ((ret = cli_account_open(ctx, ctx->args[0], &account)) != 0)
		return ret;
	if (store_mailbox_list(account, &infos, &count) == -1) {
		ret = cli_store_error();
		store_account_close(&account);
		return ret;
	}
	for (i = 0; i < count; i++) {
		if (infos[i].selectable)
			boxes++;
	}
	store_mailbox_infos_free(&infos, count);
	text = store_account_settings_text(account);
	printf("Name: %s\nDomain: %s\nType: %s\nMailboxes: %u\n"
	       "Settings:\n%s", store_account_name(account),
	       store_account_domain(account),
	       store_account_type_name(store_account_type(account)), boxes,
	       text);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		putchar('\n');
	free(text);
	store_account_close(&account);
	return CLI_EXIT_OK;
}

static void
print_quota_line(const char *what, uint64_t used, uint64_t limit)
{
	if (limit == STORE_QUOTA_UNLIMITED)
		printf("%s\t%llu\tunlimited\n", what,
		       (unsigned long long)used);
	else
		printf("%s\t%llu\t%llu\n", what, (unsigned long long)used,
		       (unsigned long long)limit);
}

/* Checks --storage/--messages VALUE ("default": the account's own
   limit goes, so the domain's or server's default applies) before
   anything changes; 0 or the usage exit status. */
static int
quota_check_opt(struct cli_ctx *ctx, enum store_quota_resource res,
		const char *value)
{
	uint64_t limit;

	if (value == NULL || strcmp(value, "default") == 0 ||
	    store_quota_parse(value, res == STORE_QUOTA_STORAGE, &limit) == 0)
		return 0;
	return cli_usage_error(ctx, "%s must be a number%s, \"unlimited\" "
		"or \"default\"",
		res == STORE_QUOTA_STORAGE ? "--storage" : "--messages",
		res == STORE_QUOTA_STORAGE ?
		" (bytes, with an optional K, M, G or T)" : "");
}

static int
cmd_quota(struct cli_ctx *ctx)
{
	const char *storage = ctx->opts[CLI_OPT_STORAGE];
	const char *messages = ctx->opts[CLI_OPT_MESSAGES];
	struct account *account;
	struct store_quota quota;
	int ret;

	if ((ret = quota_check_opt(ctx, STORE_QUOTA_STORAGE, storage)) != 0 ||
	    (ret = quota_check_opt(ctx, STORE_QUOTA_MESSAGES, messages)) != 0)
		return ret;
	if ((ret = cli_account_open(ctx, ctx->args[0], &account)) != 0)
		return ret;
	if ((storage != NULL || messages != NULL) &&
	    store_quota_set(account, storage, messages) == -1)
		ret = cli_store_error();
	if (ret == 0 && store_quota_get(account, &quota) == -1)
		ret = cli_store_error();
	if (ret == 0) {
		print_quota_line("storage", quota.storage_used,
				 quota.storage_limit);
		print_quota_line("messages", quota.messages_used,
				 quota.message_limit);
	}
	store_account_close(&account);
	return ret;
}

static const struct cli_command commands[] = {
	{ "create", "NAME [--password P] [--type multi|mbox|mdir]",
	  "Creates an account with an empty INBOX. NAME is user (main\n"
	  "domain) or user@domain. --type: multi (many mailboxes, default),\n"
	  "mbox or mdir (INBOX only, in that format). --password - reads\n"
	  "the password from a line of standard input. Without a password\n"
	  "no login is possible until `account password` sets one.\n",
	  1, 1, CLI_OPT_BIT(CLI_OPT_PASSWORD) | CLI_OPT_BIT(CLI_OPT_TYPE),
	  cmd_create },
	{ "list", "[DOMAIN]",
	  "Prints the accounts of DOMAIN (default: the main domain), one a\n"
	  "line, sorted: `user` for the main domain, else `user@domain`.\n",
	  0, 1, 0, cmd_list },
	{ "delete", "NAME",
	  "Deletes an account and everything in it.\n",
	  1, 1, 0, cmd_delete },
	{ "rename", "OLD NEW",
	  "Renames an account, also into another domain; refused when NEW\n"
	  "exists.\n",
	  2, 2, 0, cmd_rename },
	{ "password", "NAME PASSWORD",
	  "Sets the password (stored as a crypt(3) hash and a SCRAM-SHA-256\n"
	  "verifier, never in clear). PASSWORD - reads it from a line of\n"
	  "standard input.\n",
	  2, 2, 0, cmd_password },
	{ "show", "NAME",
	  "Prints the account's name, domain, type, number of mailboxes and\n"
	  "settings, with secrets shown as (hidden).\n",
	  1, 1, 0, cmd_show },
	{ "quota", "NAME [--storage N|unlimited|default] "
	  "[--messages N|unlimited|default]",
	  "Prints the account's usage and limits, one resource a line:\n"
	  "`storage` (bytes) or `messages`, used, limit (or `unlimited`).\n"
	  "--storage (bytes; K, M, G, T multiply by 1024^n) and --messages\n"
	  "set the account's own limits first (settings MaxAccountSize and\n"
	  "MaxMessages); `default` removes them, so the domain's or the\n"
	  "server's AccountDefaults apply.\n",
	  1, 1, CLI_OPT_BIT(CLI_OPT_STORAGE) | CLI_OPT_BIT(CLI_OPT_MESSAGES),
	  cmd_quota },
};

const struct cli_family cli_family_account = {
	"account", commands, N_ELEMENTS(commands)
};
