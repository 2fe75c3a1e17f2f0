/* SPDX-License-Identifier: MIT */
/*
 * cli-message.c: `commune message list|show|flag|copy|move|expunge`.
 * `list` takes each Subject from the store's header cache (filled from
 * the messages the first time). In cli, above store; the Subject
 * decoding is mime's.
 */
#include "cli-private.h"
#include "cli-flags.h"
#include "mime-header.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Retries of `message flag` when another process changes the message
   between our read of its flags and our conditional store. */
#define CLI_FLAG_RETRIES 10
#define COPY_CHUNK (64 * 1024)

/* Opens account args[0] and its mailbox args[1]. */
static int
open_box(struct cli_ctx *ctx, struct account **account_r,
	 struct mailbox **box_r)
{
	int ret;

	if ((ret = cli_account_open(ctx, ctx->args[0], account_r)) != 0)
		return ret;
	if ((ret = cli_mailbox_open(*account_r, ctx->args[1], box_r)) != 0)
		store_account_close(account_r);
	return ret;
}

static void
close_box(struct account **account, struct mailbox **box)
{
	store_mailbox_close(box);
	store_account_close(account);
}

static const struct store_msg *
find_msg(struct mailbox *box, uint32_t uid)
{
	uint32_t seq = store_mailbox_seq(box, uid);

	if (seq == 0) {
		cli_error("no message with UID %u in this mailbox", uid);
		return NULL;
	}
	return &store_mailbox_msgs(box)[seq - 1];
}

static void
append_date(buf_t *out, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;
	char text[64];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		i_strlcpy(text, "?", sizeof(text));
	buf_append_str(out, text);
}

static void
append_subject(buf_t *out, const buf_t *head)
{
	buf_t raw = BUF_INIT, text = BUF_INIT;

	if (mime_header_find(head->data, head->len, "Subject", &raw) > 0) {
		mime_header_decode(raw.data, raw.len, &text);
		cli_append_printable(out, text.data, text.len);
	}
	buf_deinit(&raw);
	buf_deinit(&text);
}

static int
cmd_list(struct cli_ctx *ctx)
{
	struct account *account;
	struct mailbox *box;
	const struct store_msg *msgs;
	buf_t line = BUF_INIT, head = BUF_INIT;
	unsigned int i, count;
	int ret;

	if ((ret = open_box(ctx, &account, &box)) != 0)
		return ret;
	msgs = store_mailbox_msgs(box);
	count = store_mailbox_count(box);
	for (i = 0; i < count && ret == 0; i++) {
		buf_reset(&line);
		buf_printf(&line, "%u\t", msgs[i].uid);
		cli_flags_append(&line, box, msgs[i].flags);
		buf_printf(&line, "\t%llu\t",
			   (unsigned long long)msgs[i].size);
		append_date(&line, msgs[i].internal_date);
		buf_append_c(&line, '\t');
		buf_reset(&head);
		if (store_mailbox_msg_cached_header(box, &msgs[i], &head) < 0)
			ret = cli_store_error();
		else
			append_subject(&line, &head);
		buf_append_c(&line, '\n');
		fwrite(line.data, 1, line.len, stdout);
	}
	buf_deinit(&line);
	buf_deinit(&head);
	close_box(&account, &box);
	return ret;
}

/* Copies [offset, offset + size) of fd to standard output. */
static int
copy_range(int fd, off_t offset, uint64_t size)
{
	unsigned char chunk[COPY_CHUNK];
	int ret = 0;

	while (size > 0 && ret == 0) {
		size_t want = size < sizeof(chunk) ? size : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, offset);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cli_error("read: %s", strerror(errno));
		if (n == 0)
			return cli_error("message file shorter than its size");
		ret = cli_write_stdout(chunk, (size_t)n);
		offset += n;
		size -= (uint64_t)n;
	}
	return ret;
}

static int
cmd_show(struct cli_ctx *ctx)
{
	struct account *account;
	struct mailbox *box;
	buf_t data = BUF_INIT;
	uint64_t size;
	off_t offset;
	uint32_t uid;
	int ret, fd;

	if ((ret = cli_parse_uid(ctx, ctx->args[2], &uid)) != 0)
		return ret;
	if ((ret = open_box(ctx, &account, &box)) != 0)
		return ret;
	if (find_msg(box, uid) == NULL) {
		ret = CLI_EXIT_FAIL;
	} else if ((ret = store_mailbox_msg_fd(box, uid, &fd, &offset,
					       &size)) > 0) {
		ret = copy_range(fd, offset, size);
		close(fd);
	} else if (ret < 0 || store_mailbox_msg_read(box, uid, &data) < 0) {
		ret = cli_store_error();
	} else {
		ret = cli_write_stdout(data.data, data.len);
	}
	buf_deinit(&data);
	close_box(&account, &box);
	return ret;
}

/* Parses the +FLAG / -FLAG arguments into what to add and remove. */
static int
parse_changes(struct cli_ctx *ctx, struct cli_flags *add,
	      struct cli_flags *remove)
{
	const char *error;
	unsigned int i;
	uint32_t flag;

	for (i = 3; i < ctx->arg_count; i++) {
		const char *arg = ctx->args[i];
		bool plus = arg[0] == '+';
		struct cli_flags *set = plus ? add : remove;

		if (arg[0] != '+' && arg[0] != '-')
			return cli_usage_error(ctx, "flag changes look like "
					       "+\\Seen or -$Keyword");
		if (cli_flag_parse(arg + 1, &flag, &error) == -1)
			return cli_usage_error(ctx, "%s", error);
		if (flag != 0)
			set->flags |= flag;
		else
			cli_flags_add_keyword(set, arg + 1);
	}
	for (i = 0; i < add->keyword_count; i++) {
		if (cli_flags_has_keyword(remove, add->keywords[i]))
			return cli_usage_error(ctx, "a flag is both added "
					       "and removed");
	}
	if ((add->flags & remove->flags) != 0)
		return cli_usage_error(ctx, "a flag is both added and removed");
	return 0;
}

/* Drops the keywords to remove that the mailbox does not know: clearing
   them is a no-op, and naming them would add them to its table. */
static void
drop_unknown_keywords(struct mailbox *box, struct cli_flags *remove)
{
	unsigned int i, index;

	for (i = 0; i < remove->keyword_count; i++) {
		if (store_mailbox_keyword_lookup(box, remove->keywords[i],
						 false, &index) == 0)
			continue;
		cli_flags_remove_keyword(remove, i--);
	}
}

/* One conditional REPLACE: the message's flags with the changes. Returns
   1 when the message changed under us (retry), 0 done, -1 error. */
static int
replace_flags(struct mailbox *box, const struct store_msg *msg,
	      const struct cli_flags *add, const struct cli_flags *remove)
{
	struct cli_flags want;
	struct uid_array failed;
	unsigned int i;
	int ret;

	memset(&failed, 0, sizeof(failed));
	cli_flags_init(&want);
	cli_flags_from_bits(&want, box, msg->flags);
	want.flags = (want.flags & ~remove->flags) | add->flags;
	for (i = 0; i < want.keyword_count; i++) {
		if (!cli_flags_has_keyword(remove, want.keywords[i]))
			continue;
		cli_flags_remove_keyword(&want, i--);
	}
	for (i = 0; i < add->keyword_count; i++)
		cli_flags_add_keyword(&want, add->keywords[i]);
	ret = store_mailbox_update_flags(box, &msg->uid, 1,
					 STORE_FLAGS_REPLACE, want.flags,
					 (const char *const *)want.keywords,
					 msg->modseq, &failed);
	if (ret == 0 && failed.count > 0)
		ret = 1;
	uid_array_free(&failed);
	cli_flags_deinit(&want);
	return ret;
}

/* Applies the changes; a mix of adds and removes is one atomic REPLACE
   conditional on the message's MODSEQ, so concurrent changes are kept. */
static int
apply_changes(struct mailbox *box, uint32_t uid, const struct cli_flags *add,
	      struct cli_flags *remove)
{
	const struct store_msg *msg;
	bool adds, removes;
	unsigned int try;
	int ret;

	drop_unknown_keywords(box, remove);
	adds = add->flags != 0 || add->keyword_count > 0;
	removes = remove->flags != 0 || remove->keyword_count > 0;
	if (!adds && !removes)
		return CLI_EXIT_OK;
	if (!adds || !removes) {
		const struct cli_flags *set = adds ? add : remove;

		if (store_mailbox_update_flags(box, &uid, 1,
				adds ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE,
				set->flags, (const char *const *)set->keywords,
				0, NULL) == -1)
			return cli_store_error();
		return CLI_EXIT_OK;
	}
	for (try = 0; try < CLI_FLAG_RETRIES; try++) {
		if ((msg = find_msg(box, uid)) == NULL)
			return CLI_EXIT_FAIL;
		ret = replace_flags(box, msg, add, remove);
		if (ret == 0)
			return CLI_EXIT_OK;
		if (ret < 0 || store_mailbox_sync(box, 0, NULL) == -1)
			return cli_store_error();
	}
	return cli_error("the message keeps changing; try again");
}

static int
cmd_flag(struct cli_ctx *ctx)
{
	struct account *account;
	struct mailbox *box;
	struct cli_flags add, remove;
	uint32_t uid;
	int ret;

	if ((ret = cli_parse_uid(ctx, ctx->args[2], &uid)) != 0)
		return ret;
	cli_flags_init(&add);
	cli_flags_init(&remove);
	ret = parse_changes(ctx, &add, &remove);
	if (ret == 0 && (ret = open_box(ctx, &account, &box)) == 0) {
		if (find_msg(box, uid) == NULL)
			ret = CLI_EXIT_FAIL;
		else
			ret = apply_changes(box, uid, &add, &remove);
		close_box(&account, &box);
	}
	cli_flags_deinit(&add);
	cli_flags_deinit(&remove);
	return ret;
}

static int
copy_or_move(struct cli_ctx *ctx, bool move)
{
	struct account *account;
	struct mailbox *box, *dest;
	uint32_t uid, dest_uid;
	int ret;

	if ((ret = cli_parse_uid(ctx, ctx->args[2], &uid)) != 0)
		return ret;
	if ((ret = open_box(ctx, &account, &box)) != 0)
		return ret;
	if (find_msg(box, uid) == NULL) {
		close_box(&account, &box);
		return CLI_EXIT_FAIL;
	}
	if ((ret = cli_mailbox_open(account, ctx->args[3], &dest)) == 0) {
		if ((move ? store_mailbox_move(box, &uid, 1, dest, &dest_uid) :
		     store_mailbox_copy(box, &uid, 1, dest, &dest_uid)) == -1)
			ret = cli_store_error();
		else
			printf("%u\n", dest_uid);
		store_mailbox_close(&dest);
	}
	close_box(&account, &box);
	return ret;
}

static int
cmd_copy(struct cli_ctx *ctx)
{
	return copy_or_move(ctx, false);
}

static int
cmd_move(struct cli_ctx *ctx)
{
	return copy_or_move(ctx, true);
}

static int
cmd_expunge(struct cli_ctx *ctx)
{
	struct account *account;
	struct mailbox *box;
	struct uid_array expunged;
	unsigned int i;
	int ret;

	if ((ret = open_box(ctx, &account, &box)) != 0)
		return ret;
	memset(&expunged, 0, sizeof(expunged));
	if (store_mailbox_expunge(box, NULL, 0, &expunged) == -1)
		ret = cli_store_error();
	for (i = 0; i < expunged.count; i++)
		printf("%u\n", expunged.uids[i]);
	uid_array_free(&expunged);
	close_box(&account, &box);
	return ret;
}

static const struct cli_command commands[] = {
	{ "list", "ACCOUNT MAILBOX",
	  "Prints one line per message, tab-separated: UID, flags as an\n"
	  "IMAP list like (\\Seen $Forwarded), size in bytes, internal date\n"
	  "(ISO 8601, UTC), and the Subject decoded to UTF-8 (RFC 2047)\n"
	  "with control characters shown as '?'.\n",
	  2, 2, 0, cmd_list },
	{ "show", "ACCOUNT MAILBOX UID",
	  "Writes the message's exact bytes (RFC 5322) to standard output.\n",
	  3, 3, 0, cmd_show },
	{ "flag", "ACCOUNT MAILBOX UID +FLAG|-FLAG...",
	  "Sets (+) and clears (-) flags: \\Seen \\Answered \\Flagged\n"
	  "\\Deleted \\Draft (any case) and keywords such as +$Forwarded.\n"
	  "All changes happen at once or not at all.\n",
	  4, ~0u, 0, cmd_flag },
	{ "copy", "ACCOUNT MAILBOX UID TARGET",
	  "Copies a message to mailbox TARGET of the same account, flags\n"
	  "and internal date kept; prints its UID there.\n",
	  4, 4, 0, cmd_copy },
	{ "move", "ACCOUNT MAILBOX UID TARGET",
	  "Moves a message to mailbox TARGET; prints its UID there.\n",
	  4, 4, 0, cmd_move },
	{ "expunge", "ACCOUNT MAILBOX",
	  "Removes the messages flagged \\Deleted; prints their UIDs.\n",
	  2, 2, 0, cmd_expunge },
};

const struct cli_family cli_family_message = {
	"message", commands, N_ELEMENTS(commands)
};
