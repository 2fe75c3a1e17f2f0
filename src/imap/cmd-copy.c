/* SPDX-License-Identifier: MIT */
/*
 * cmd-copy.c: COPY, UID COPY, MOVE and UID MOVE (RFC 3501 §6.4.7,
 * RFC 6851) with the COPYUID response code of UIDPLUS (RFC 4315). MOVE
 * sends COPYUID untagged before the EXPUNGE responses (RFC 6851 §4.3).
 * Part of src/imap.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "store.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>

struct copy_ctx {
	struct imap_seqset set;
	char *dest;
	bool move;
};

static void
copy_ctx_free(struct imap_conn *conn)
{
	struct copy_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	if (ctx->move)
		imap_expunge_highestmodseq(conn);
	imap_seqset_free(&ctx->set);
	free(ctx->dest);
	free(ctx);
	conn->job_ctx = NULL;
}

void
imap_uidset_append(buf_t *out, const uint32_t *uids, unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < count; i = j) {
		for (j = i + 1; j < count && uids[j] == uids[j - 1] + 1; j++)
			;
		buf_printf(out, "%s%u", i == 0 ? "" : ",", uids[i]);
		if (j - i > 1)
			buf_printf(out, ":%u", uids[j - 1]);
	}
}

/* Packs the (uid, dest uid) pairs that were copied to the front of
   both arrays, keeping their order; returns their number. */
static unsigned int
copied_pairs(uint32_t *uids, uint32_t *dest_uids, unsigned int count)
{
	unsigned int i, n = 0;

	for (i = 0; i < count; i++) {
		if (dest_uids[i] == 0)
			continue;
		uids[n] = uids[i];
		dest_uids[n++] = dest_uids[i];
	}
	return n;
}

static void
copy_run(struct imap_conn *conn)
{
	struct copy_ctx *ctx = conn->job_ctx;
	struct uid_array uids = { 0 };
	struct mailbox *dest = NULL;
	struct imap_acl_box acl = { 0 };
	struct mailbox_status st;
	uint32_t *dest_uids = NULL;
	const char *verb = ctx->move ? "MOVE" : "COPY";
	buf_t code = BUF_INIT;
	unsigned int copied;
	int ret;

	if (imap_seqset_resolve(&ctx->set, conn->uid, conn->uids,
				conn->uid_count, &conn->searchres, &uids) < 0) {
		imap_job_tagged(conn, "BAD Invalid sequence set: beyond the "
				"last message.");
		return;
	}
	if (ctx->move && conn->readonly) {
		imap_job_tagged(conn, "NO [READ-ONLY] Mailbox is read-only.");
		goto out;
	}
	/* RFC 6851 §3.3 and RFC 4314 §4: MOVE needs "t" and "e" */
	if (ctx->move && (conn->box_rights & (STORE_ACL_DELETE_MSG |
					      STORE_ACL_EXPUNGE)) !=
	    (STORE_ACL_DELETE_MSG | STORE_ACL_EXPUNGE)) {
		imap_job_tagged(conn, "NO [NOPERM] MOVE: permission denied");
		goto out;
	}
	if (imap_acl_resolve(conn, ctx->dest, STORE_ACL_INSERT, verb,
			     &acl) < 0)
		goto out;
	if (store_mailbox_open(acl.account, acl.name, &dest) < 0) {
		dest = NULL;
		imap_job_tagged(conn, "NO [TRYCREATE] %s: no such mailbox.",
				verb);
		goto out;
	}
	if (uids.count == 0) {
		imap_job_tagged(conn, "OK %s completed (no messages).", verb);
		goto out;
	}
	dest_uids = i_malloc(uids.count * sizeof(*dest_uids));
	if (ctx->move)
		ret = store_mailbox_move(conn->box, uids.uids, uids.count,
					 dest, dest_uids);
	else
		ret = store_mailbox_copy(conn->box, uids.uids, uids.count,
					 dest, dest_uids);
	if (ret == 0 && acl.rights != STORE_ACL_ALL)
		ret = imap_acl_copy_flags(acl.rights, dest, dest_uids,
					  uids.count);
	if (ret < 0) {
		imap_job_store_error(conn, verb);
		goto out;
	}
	/* Messages another session expunged are not copied (dest UID 0,
	   never valid in COPYUID): RFC 5530 EXPUNGEISSUED, NO when none
	   was (RFC 2180 §4.4.1), a warning beside the rest otherwise. */
	copied = copied_pairs(uids.uids, dest_uids, uids.count);
	if (copied == 0) {
		imap_job_tagged(conn, "NO [EXPUNGEISSUED] Some of the "
				"requested messages no longer exist.");
		goto out;
	}
	if (copied < uids.count)
		buf_append_str(&conn->job_out, "* NO [EXPUNGEISSUED] Some of "
			       "the requested messages no longer exist.\r\n");
	store_mailbox_get_status(dest, &st);
	buf_printf(&code, "COPYUID %u ", st.uidvalidity);
	imap_uidset_append(&code, uids.uids, copied);
	buf_append_c(&code, ' ');
	imap_uidset_append(&code, dest_uids, copied);
	if (ctx->move) {
		buf_printf(&conn->job_out, "* OK [%s] Moved.\r\n",
			   buf_cstr(&code));
		imap_job_tagged(conn, "OK %sMOVE completed.",
				conn->uid ? "UID " : "");
	} else {
		imap_job_tagged(conn, "OK [%s] %sCOPY completed.",
				buf_cstr(&code), conn->uid ? "UID " : "");
	}
out:
	buf_deinit(&code);
	free(dest_uids);
	store_mailbox_close(&dest);
	if (acl.name != NULL)
		imap_acl_box_deinit(conn, &acl);
	uid_array_free(&uids);
}

void
cmd_copy_args(struct imap_conn *conn, const struct imap_arg *args,
	      unsigned int count, bool move)
{
	struct copy_ctx *ctx;
	const char *set, *name;
	char *dest;

	if (count != 2 || !imap_arg_get_atom(&args[0], &set) ||
	    !imap_arg_get_astring(&args[1], &name)) {
		imap_conn_bad(conn, "Needs a sequence set and a mailbox.");
		return;
	}
	ctx = i_malloc(sizeof(*ctx));
	ctx->move = move;
	if (imap_seqset_parse(set, &ctx->set) < 0) {
		free(ctx);
		imap_conn_bad(conn, "Invalid sequence set.");
		return;
	}
	if ((dest = imap_mailbox_name_in(conn, name)) == NULL) {
		imap_seqset_free(&ctx->set);
		free(ctx);
		return;
	}
	ctx->dest = dest;
	conn->job_ctx = ctx;
	imap_conn_job(conn, copy_run, copy_ctx_free, move ? IMAP_SYNC_FULL :
		      IMAP_SYNC_NO_EXPUNGES);
}

void
cmd_copy(struct imap_conn *conn)
{
	cmd_copy_args(conn, conn->cmd.args, conn->cmd.arg_count, false);
}

void
cmd_move(struct imap_conn *conn)
{
	cmd_copy_args(conn, conn->cmd.args, conn->cmd.arg_count, true);
}
