/* SPDX-License-Identifier: MIT */
/*
 * cli-mailbox.c: `commune mailbox create|list|rename|delete|class|use|
 * subscribe|unsubscribe|subscriptions|acl`. In cli, above store.
 */
#include "cli-private.h"
#include "store-metadata.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What `mailbox list` prints for "no value" (mail class, the counts of a
   hierarchy node). */
#define NONE_TEXT "-"

/* "-", "mail", "none" and "" all mean the mail class (NULL). */
static const char *
class_arg(const char *arg)
{
	if (arg == NULL || arg[0] == '\0' || strcmp(arg, NONE_TEXT) == 0 ||
	    strcasecmp(arg, "mail") == 0 || strcasecmp(arg, "none") == 0)
		return NULL;
	return arg;
}

/* Opens the account named by the first argument and runs fn on it. */
static int
with_account(struct cli_ctx *ctx, int (*fn)(struct cli_ctx *ctx,
					    struct account *account))
{
	struct account *account;
	int ret;

	if ((ret = cli_account_open(ctx, ctx->args[0], &account)) != 0)
		return ret;
	ret = fn(ctx, account);
	store_account_close(&account);
	return ret;
}

static int
create(struct cli_ctx *ctx, struct account *account)
{
	enum mailbox_format format = MAILBOX_FORMAT_MBOX;
	const char *format_name = ctx->opts[CLI_OPT_FORMAT];

	if (format_name != NULL)
		(void)store_mailbox_format_parse(format_name, &format);
	if (store_mailbox_create(account, ctx->args[1], format,
				 class_arg(ctx->opts[CLI_OPT_CLASS])) == -1)
		return cli_store_error();
	return CLI_EXIT_OK;
}

static int
cmd_create(struct cli_ctx *ctx)
{
	enum mailbox_format format;

	if (ctx->opts[CLI_OPT_FORMAT] != NULL &&
	    store_mailbox_format_parse(ctx->opts[CLI_OPT_FORMAT],
				       &format) == -1)
		return cli_usage_error(ctx, "--format must be mbox or mdir");
	return with_account(ctx, create);
}

static int
list(struct cli_ctx *ctx, struct account *account)
{
	struct mailbox_info *infos;
	struct mailbox_status status;
	unsigned int count, i;
	int ret = CLI_EXIT_OK;

	if (store_mailbox_list(account, &infos, &count) == -1)
		return cli_store_error();
	for (i = 0; i < count; i++) {
		const struct mailbox_info *info = &infos[i];
		const char *class = info->class != NULL && info->class[0] !=
			'\0' ? info->class : NONE_TEXT;

		if (!info->selectable) {
			printf("%s\t-\t-\t-\t-\t-\n", info->name);
			continue;
		}
		if (store_mailbox_status(account, info->name, &status) == -1) {
			/* Go on with the others; fail at the end. */
			ret = cli_store_error();
			printf("%s\t%s\t%s\t?\t?\t?\n", info->name,
			       store_mailbox_format_name(info->format), class);
			continue;
		}
		printf("%s\t%s\t%s\t%u\t%u\t%llu\n", info->name,
		       store_mailbox_format_name(info->format), class,
		       status.messages, status.unseen,
		       (unsigned long long)status.bytes);
	}
	store_mailbox_infos_free(&infos, count);
	return ret;
}

static int
cmd_list(struct cli_ctx *ctx)
{
	return with_account(ctx, list);
}

static int
rename_box(struct cli_ctx *ctx, struct account *account)
{
	return cli_result(store_mailbox_rename(account, ctx->args[1],
					       ctx->args[2]));
}

static int
cmd_rename(struct cli_ctx *ctx)
{
	return with_account(ctx, rename_box);
}

static int
delete(struct cli_ctx *ctx, struct account *account)
{
	return cli_result(store_mailbox_delete(account, ctx->args[1]));
}

static int
cmd_delete(struct cli_ctx *ctx)
{
	return with_account(ctx, delete);
}

static int
class(struct cli_ctx *ctx, struct account *account)
{
	char *value;

	if (ctx->arg_count == 3)
		return cli_result(store_mailbox_set_class(account, ctx->args[1],
						class_arg(ctx->args[2])));
	if (store_mailbox_get_class(account, ctx->args[1], &value) == -1)
		return cli_store_error();
	printf("%s\n", value != NULL && value[0] != '\0' ? value : NONE_TEXT);
	free(value);
	return CLI_EXIT_OK;
}

static int
cmd_class(struct cli_ctx *ctx)
{
	return with_account(ctx, class);
}

/* The special-use arguments: "Sent" or "\Sent" (any case) each, or
   one "none" / "-" for none. 0 and the bits, or -1. */
static int
use_args(struct cli_ctx *ctx, unsigned int *uses_r)
{
	const char *arg;
	char *attr;
	unsigned int i, bit;

	*uses_r = 0;
	if (ctx->arg_count == 3 && (strcmp(ctx->args[2], NONE_TEXT) == 0 ||
				    strcasecmp(ctx->args[2], "none") == 0))
		return 0;
	for (i = 2; i < ctx->arg_count; i++) {
		arg = ctx->args[i];
		attr = i_strdup_printf("\\%s", arg[0] == '\\' ? arg + 1 : arg);
		bit = store_special_use_parse(attr);
		free(attr);
		if (bit == 0)
			return -1;
		*uses_r |= bit;
	}
	return 0;
}

static int
use(struct cli_ctx *ctx, struct account *account)
{
	buf_t out = BUF_INIT;
	unsigned int uses;

	if (ctx->arg_count > 2) {
		(void)use_args(ctx, &uses);
		return cli_result(store_mailbox_set_special_use(account,
			ctx->args[1], uses));
	}
	if (store_mailbox_get_special_use(account, ctx->args[1], &uses) == -1)
		return cli_store_error();
	store_special_use_append(&out, uses);
	printf("%s\n", uses != 0 ? buf_cstr(&out) : NONE_TEXT);
	buf_deinit(&out);
	return CLI_EXIT_OK;
}

static int
cmd_use(struct cli_ctx *ctx)
{
	unsigned int uses;

	if (ctx->arg_count > 2 && use_args(ctx, &uses) == -1)
		return cli_usage_error(ctx, "unknown special use (All, "
				       "Archive, Drafts, Flagged, Junk, Sent, "
				       "Trash, or none)");
	return with_account(ctx, use);
}

static int
subscribe(struct cli_ctx *ctx, struct account *account)
{
	return cli_result(store_subscription_add(account, ctx->args[1]));
}

static int
cmd_subscribe(struct cli_ctx *ctx)
{
	return with_account(ctx, subscribe);
}

static int
unsubscribe(struct cli_ctx *ctx, struct account *account)
{
	return cli_result(store_subscription_remove(account, ctx->args[1]));
}

static int
cmd_unsubscribe(struct cli_ctx *ctx)
{
	return with_account(ctx, unsubscribe);
}

static int
subscriptions(struct cli_ctx *ctx, struct account *account)
{
	char **names = NULL;
	unsigned int count = 0;
	int ret;

	ret = store_subscription_list(account, &names, &count);
	return cli_print_names(ret, names, count);
}

static int
cmd_subscriptions(struct cli_ctx *ctx)
{
	return with_account(ctx, subscriptions);
}

/* ACCOUNT NAME: prints the ACL; ACCOUNT NAME ID RIGHTS: changes it
   (RIGHTS as in IMAP SETACL: "lr" replaces, "+w"/"-w" add/remove,
   "" or "none" removes the entry). */
static int
acl(struct cli_ctx *ctx, struct account *account)
{
	struct store_acl_entry *entries;
	enum store_acl_mode mode = STORE_ACL_MODE_REPLACE;
	const char *text;
	unsigned int i, count, rights;
	buf_t out = BUF_INIT;

	if (ctx->arg_count == 4) {
		text = ctx->args[3];
		if (*text == '+' || *text == '-') {
			mode = *text == '+' ? STORE_ACL_MODE_ADD :
				STORE_ACL_MODE_REMOVE;
			text++;
		}
		if (strcmp(text, "none") == 0)
			text = "";
		if (store_acl_rights_parse(text, &rights) < 0)
			return cli_usage_error(ctx, "unknown right in %s "
					       "(use lrswipkxtea)", text);
		return cli_result(store_mailbox_acl_set(account,
			ctx->args[1], ctx->args[2], mode, rights));
	}
	if (store_mailbox_acl_get(account, ctx->args[1], &entries,
				  &count) < 0)
		return cli_store_error();
	for (i = 0; i < count; i++) {
		buf_reset(&out);
		store_acl_rights_append(&out, entries[i].rights);
		printf("%s\t%s\n", entries[i].identifier, buf_cstr(&out));
	}
	buf_deinit(&out);
	store_acl_entries_free(&entries, count);
	return CLI_EXIT_OK;
}

static int
cmd_acl(struct cli_ctx *ctx)
{
	if (ctx->arg_count == 3)
		return cli_usage_error(ctx, "IDENTIFIER needs RIGHTS");
	return with_account(ctx, acl);
}

static const struct cli_command commands[] = {
	{ "create", "ACCOUNT NAME [--format mbox|mdir] [--class CLASS]",
	  "Creates a mailbox; missing parents become hierarchy nodes.\n"
	  "--format: mbox (one file, default) or mdir (one file per\n"
	  "message). --class: IPF.Appointment, IPF.Task, IPF.Contact,\n"
	  "IPF.StickyNote, or mail (default). Refused in single-mailbox\n"
	  "accounts.\n",
	  2, 2, CLI_OPT_BIT(CLI_OPT_FORMAT) | CLI_OPT_BIT(CLI_OPT_CLASS),
	  cmd_create },
	{ "list", "ACCOUNT",
	  "Prints every mailbox, one a line, tab-separated: name, format,\n"
	  "class, messages, unseen, bytes. \"-\" stands for the mail class\n"
	  "and for the columns of a hierarchy node holding no messages.\n",
	  1, 1, 0, cmd_list },
	{ "rename", "ACCOUNT OLD NEW",
	  "Renames a mailbox and its children. Renaming INBOX moves its\n"
	  "messages and leaves a new, empty INBOX.\n",
	  3, 3, 0, cmd_rename },
	{ "delete", "ACCOUNT NAME",
	  "Deletes a mailbox and its messages (its children stay). INBOX\n"
	  "cannot be deleted.\n",
	  2, 2, 0, cmd_delete },
	{ "class", "ACCOUNT NAME [CLASS]",
	  "Prints a mailbox's class (\"-\" for mail), or sets it; CLASS\n"
	  "mail, none or - sets the mail class.\n",
	  2, 3, 0, cmd_class },
	{ "use", "ACCOUNT NAME [USE...|none]",
	  "Prints a mailbox's special use (RFC 6154: \\Sent, \\Trash, ...;\n"
	  "\"-\" for none), or sets it: All, Archive, Drafts, Flagged,\n"
	  "Junk, Sent, Trash (with or without the backslash), or none.\n"
	  "Top-level Sent, Drafts, Trash and Junk have theirs until set.\n",
	  2, 9, 0, cmd_use },
	{ "subscribe", "ACCOUNT NAME",
	  "Adds NAME to the subscription list (it need not exist).\n",
	  2, 2, 0, cmd_subscribe },
	{ "unsubscribe", "ACCOUNT NAME",
	  "Removes NAME from the subscription list.\n",
	  2, 2, 0, cmd_unsubscribe },
	{ "subscriptions", "ACCOUNT",
	  "Prints the subscription list, one name a line, sorted.\n",
	  1, 1, 0, cmd_subscriptions },
	{ "acl", "ACCOUNT NAME [IDENTIFIER RIGHTS]",
	  "Prints the mailbox's access control list, one entry a line:\n"
	  "identifier, tab, rights (RFC 4314 letters lrswipkxtea, plus\n"
	  "c and d). With IDENTIFIER (an account name or anyone) and\n"
	  "RIGHTS, changes it: \"lr\" replaces, \"+w\" adds, \"-w\"\n"
	  "removes, \"none\" deletes the entry. The owner always has\n"
	  "every right.\n",
	  2, 4, 0, cmd_acl },
};

const struct cli_family cli_family_mailbox = {
	"mailbox", commands, N_ELEMENTS(commands)
};
