/* SPDX-License-Identifier: MIT */
/*
 * cmd-replace.c: REPLACE and UID REPLACE (RFC 8508): APPEND a new
 * message to a mailbox, then expunge one message of the selected
 * mailbox. The new message is durably stored (store_mailbox_append
 * syncs it) before the old one is flagged \Deleted and expunged, so a
 * crash between the two leaves both, never neither. The reply carries
 * APPENDUID (RFC 4315) in an untagged OK (RFC 8508 §3.3); the
 * command's sync then reports the EXPUNGE (and EXISTS when the
 * destination is the selected mailbox). Part of src/imap.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

struct replace_ctx {
	uint32_t uid;           /* the message to replace */
	char *dest;
	struct store_append msg;
	const char **keywords;
	buf_t copy;             /* the stored form, when it had to change */
};

static void
replace_ctx_free(struct imap_conn *conn)
{
	struct replace_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	free(ctx->keywords);
	buf_deinit(&ctx->copy);
	free(ctx->dest);
	free(ctx);
	conn->job_ctx = NULL;
}

/* Flags the old message \Deleted and expunges it alone. */
static int
expunge_one(struct imap_conn *conn, uint32_t uid)
{
	struct uid_array expunged = { 0 };
	int ret;

	ret = store_mailbox_update_flags(conn->box, &uid, 1, STORE_FLAGS_ADD,
					 STORE_FLAG_DELETED, NULL, 0, NULL);
	if (ret == 0)
		ret = store_mailbox_expunge(conn->box, &uid, 1, &expunged);
	uid_array_free(&expunged);
	return ret;
}

static void
replace_run(struct imap_conn *conn)
{
	struct replace_ctx *ctx = conn->job_ctx;
	struct mailbox *dest;
	struct mailbox_status st;
	uint32_t new_uid;
	const char *error;

	if (conn->readonly) {
		imap_job_tagged(conn, "NO [READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (store_mailbox_seq(conn->box, ctx->uid) == 0) {
		/* expunged by another session since the client saw it */
		imap_job_tagged(conn, "NO [EXPUNGEISSUED] The message to "
				"replace is gone.");
		return;
	}
	if (imap_message_prepare(&ctx->msg, &ctx->copy, &error) < 0) {
		imap_job_tagged(conn, "NO [CANNOT] REPLACE: %s", error);
		return;
	}
	if (store_mailbox_open(conn->account, ctx->dest, &dest) < 0) {
		imap_job_tagged(conn, "NO [TRYCREATE] REPLACE: no such "
				"mailbox.");
		return;
	}
	if (store_mailbox_append(dest, &ctx->msg, 1, &new_uid) < 0) {
		/* §3.4: nothing changed; the old message stays */
		imap_job_store_error(conn, "REPLACE");
		store_mailbox_close(&dest);
		return;
	}
	store_mailbox_get_status(dest, &st);
	store_mailbox_close(&dest);
	buf_printf(&conn->job_out, "* OK [APPENDUID %u %u] Replacement "
		   "message ready.\r\n", st.uidvalidity, new_uid);
	if (expunge_one(conn, ctx->uid) < 0) {
		imap_job_store_error(conn, "REPLACE (expunge)");
		return;
	}
	imap_job_tagged(conn, "OK %sREPLACE completed.",
			conn->uid ? "UID " : "");
}

/* args: number mailbox [flags] [date-time] literal. NULL, or the BAD
   text. */
static const char *
parse_replace(struct imap_conn *conn, struct replace_ctx *ctx,
	      const struct imap_arg *args, unsigned int count,
	      const char **name_r)
{
	const char *error, *date;
	uint32_t num, flags = 0;
	unsigned int i = 2;

	if (count < 3 || !imap_arg_get_number(&args[0], &num) || num == 0 ||
	    !imap_arg_get_astring(&args[1], name_r))
		return "REPLACE needs a message, a mailbox and a message.";
	if (args[i].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(&args[i], &flags, &ctx->keywords,
				     &error) < 0)
			return error;
		i++;
	}
	if (i < count && args[i].type == IMAP_ARG_STRING) {
		(void)imap_arg_get_string(&args[i], &date);
		if ((ctx->msg.internal_date = imap_date_time_parse(date)) < 0)
			return "Invalid date-time.";
		i++;
	}
	if (i + 1 != count || (args[i].type != IMAP_ARG_LITERAL &&
			       args[i].type != IMAP_ARG_LITERAL8))
		return "REPLACE needs the message as a literal.";
	ctx->msg.data = (const unsigned char *)args[i].str;
	ctx->msg.len = args[i].len;
	ctx->msg.flags = flags;
	ctx->msg.keywords = ctx->keywords;
	if (conn->uid) {
		ctx->uid = num;
		return NULL;
	}
	/* RFC 8508 §3.3: a sequence number beyond the last is BAD */
	if (num > conn->uid_count)
		return "Invalid message sequence number.";
	ctx->uid = conn->uids[num - 1];
	return NULL;
}

void
cmd_replace_args(struct imap_conn *conn, const struct imap_arg *args,
		 unsigned int count)
{
	struct replace_ctx *ctx = i_malloc(sizeof(*ctx));
	const char *error, *name = NULL;

	conn->job_ctx = ctx;
	if ((error = parse_replace(conn, ctx, args, count, &name)) != NULL) {
		replace_ctx_free(conn);
		imap_conn_bad(conn, error);
		return;
	}
	if (conn->uid) {
		/* UID REPLACE of a UID the client does not know: NO */
		if (bsearch(&ctx->uid, conn->uids, conn->uid_count,
			    sizeof(uint32_t), imap_uid_cmp) == NULL) {
			replace_ctx_free(conn);
			imap_conn_tagged(conn, "NO [NONEXISTENT] No message "
					 "with that UID.");
			return;
		}
	}
	if (ctx->msg.len == 0) {
		replace_ctx_free(conn);
		imap_conn_tagged(conn, "NO Empty message refused.");
		return;
	}
	if ((ctx->dest = imap_mailbox_name_in(conn, name)) == NULL) {
		replace_ctx_free(conn);
		return;
	}
	imap_conn_job(conn, replace_run, replace_ctx_free, IMAP_SYNC_FULL);
}

void
cmd_replace(struct imap_conn *conn)
{
	cmd_replace_args(conn, conn->cmd.args, conn->cmd.arg_count);
}
