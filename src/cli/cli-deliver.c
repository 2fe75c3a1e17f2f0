/* SPDX-License-Identifier: MIT */
/*
 * cli-deliver.c: `commune deliver ACCOUNT < message`: a local delivery
 * agent for MTAs (Postfix pipe(8), procmail-style). Exit 0 only once the
 * message is durable; 75 (EX_TEMPFAIL) asks the MTA to retry. In cli,
 * above store.
 */
#include "cli-private.h"
#include "cli-flags.h"
#include "crlf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

/* Reads all of standard input, at most STORE_MESSAGE_MAX bytes. */
static int
read_stdin(buf_t *out)
{
	for (;;) {
		ssize_t n;

		buf_reserve(out, READ_CHUNK);
		n = read(STDIN_FILENO, out->data + out->len, READ_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cli_error("read standard input: %s", strerror(errno));
			return CLI_EXIT_TEMPFAIL;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > STORE_MESSAGE_MAX)
			return cli_error("message larger than %u bytes",
					 STORE_MESSAGE_MAX);
	}
	out->data[out->len] = '\0';
	return 0;
}

static int
cmd_deliver(struct cli_ctx *ctx)
{
	const char *mailbox = ctx->opts[CLI_OPT_MAILBOX];
	struct store_append msg;
	struct cli_flags flags;
	struct account *account;
	buf_t data = BUF_INIT;
	unsigned char *crlf = NULL;
	const char *error;
	uint32_t uid;
	int ret;

	cli_flags_init(&flags);
	if (ctx->opts[CLI_OPT_FLAGS] != NULL &&
	    cli_flags_parse_list(ctx->opts[CLI_OPT_FLAGS], &flags,
				 &error) == -1) {
		cli_flags_deinit(&flags);
		return cli_usage_error(ctx, "--flags: %s", error);
	}
	ret = read_stdin(&data);
	if (ret == 0)
		ret = cli_account_open(ctx, ctx->args[0], &account);
	if (ret != 0)
		goto out;
	memset(&msg, 0, sizeof(msg));
	msg.data = data.data;
	msg.len = data.len;
	/* stored with CRLF line ends, as LMTP and IMAP store it */
	if ((crlf = crlf_canonical(msg.data, msg.len, &msg.len)) != NULL)
		msg.data = crlf;
	msg.flags = flags.flags;
	msg.keywords = (const char *const *)flags.keywords;
	msg.return_path = ctx->opts[CLI_OPT_FROM];
	if (store_deliver(account, mailbox != NULL ? mailbox : "INBOX", &msg,
			  &uid) == -1)
		ret = cli_store_error();
	else
		printf("%u\n", uid);
	store_account_close(&account);
out:
	free(crlf);
	buf_deinit(&data);
	cli_flags_deinit(&flags);
	return ret;
}

static const struct cli_command commands[] = {
	{ NULL, "ACCOUNT [--mailbox M] [--flags F] [--from SENDER] < MESSAGE",
	  "Delivers the message on standard input (at most 64 MiB; bare\n"
	  "LF line ends are stored as CRLF, as RFC 5322 has them) to INBOX\n"
	  "or mailbox M and prints its UID; exits 0\n"
	  "only once it is on disk. --flags: flags separated by spaces or\n"
	  "commas, like \"\\Seen $Label1\". --from: the envelope sender.\n",
	  1, 1, CLI_OPT_BIT(CLI_OPT_MAILBOX) | CLI_OPT_BIT(CLI_OPT_FLAGS) |
	  CLI_OPT_BIT(CLI_OPT_FROM), cmd_deliver },
};

const struct cli_family cli_family_deliver = {
	"deliver", commands, N_ELEMENTS(commands)
};
