/* SPDX-License-Identifier: MIT */
/*
 * cli-domain.c: `commune domain create|delete|list|main`: secondary
 * domains and the main domain's name. In cli, above store.
 */
#include "cli-private.h"

static int
cmd_create(struct cli_ctx *ctx)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	return cli_result(store_domain_create(ctx->store, ctx->args[0]));
}

static int
cmd_delete(struct cli_ctx *ctx)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	return cli_result(store_domain_delete(ctx->store, ctx->args[0]));
}

static int
cmd_list(struct cli_ctx *ctx)
{
	char **names = NULL;
	unsigned int count = 0;
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	ret = store_domain_list(ctx->store, &names, &count);
	return cli_print_names(ret, names, count);
}

static int
cmd_main(struct cli_ctx *ctx)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	if (ctx->arg_count == 0) {
		printf("%s\n", store_main_domain(ctx->store));
		return CLI_EXIT_OK;
	}
	return cli_result(store_set_main_domain(ctx->store, ctx->args[0]));
}

static const struct cli_command commands[] = {
	{ "create", "DOMAIN",
	  "Creates a secondary domain (Domains/DOMAIN/).\n",
	  1, 1, 0, cmd_create },
	{ "delete", "DOMAIN",
	  "Deletes a secondary domain; refused while it has accounts.\n",
	  1, 1, 0, cmd_delete },
	{ "list", "",
	  "Prints the secondary domains, one a line, sorted. The main\n"
	  "domain is not among them: see `commune domain main`.\n",
	  0, 0, 0, cmd_list },
	{ "main", "[DOMAIN]",
	  "Prints the main domain's name, or sets it. Accounts/ holds the\n"
	  "main domain's accounts: `user` and `user@MAIN` are one account.\n",
	  0, 1, 0, cmd_main },
};

const struct cli_family cli_family_domain = {
	"domain", commands, N_ELEMENTS(commands)
};
