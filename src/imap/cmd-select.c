/* SPDX-License-Identifier: MIT */
/*
 * cmd-select.c: SELECT and EXAMINE (RFC 3501 §6.3.1-2, with the
 * HIGHESTMODSEQ response code of RFC 7162), CLOSE (expunges silently
 * when read-write, §6.4.2) and UNSELECT (RFC 3691). A SELECT first
 * leaves the mailbox selected before, so a failed SELECT leaves none.
 * Part of src/imap.
 */
#include "imap-private.h"
#include "store.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
unselect(struct imap_conn *conn)
{
	store_mailbox_close(&conn->box);
	store_account_close(&conn->box_account);
	conn->box_rights = 0;
	i_free(conn->uids);
	conn->uid_count = 0;
	/* RFC 5182 §2.1: "$" is empty in a newly selected mailbox */
	uid_array_free(&conn->searchres);
	conn->keywords_sent = 0;
	conn->readonly = false;
	conn->state = IMAP_STATE_AUTHENTICATED;
}

static void
select_run(struct imap_conn *conn)
{
	char *name = conn->job_ctx;
	struct imap_acl_box box;
	struct mailbox_status st;
	const struct store_msg *msgs;
	buf_t *out = &conn->job_out;
	unsigned int i, count;
	bool readonly = strcasecmp(conn->cmd.name, "EXAMINE") == 0;
	bool rev2 = (conn->enabled & IMAP_ENABLED_IMAP4REV2) != 0;

	if (conn->box != NULL && rev2) {
		/* RFC 9051 §6.3.2: the old mailbox is closed first */
		buf_append_str(out, "* OK [CLOSED] Previous mailbox "
			       "closed.\r\n");
	}
	unselect(conn);
	if (imap_acl_resolve(conn, name, STORE_ACL_READ, conn->cmd.name,
			     &box) < 0)
		return;
	if (store_mailbox_open(box.account, box.name, &conn->box) < 0) {
		conn->box = NULL;
		imap_job_store_error(conn, conn->cmd.name);
		imap_acl_box_deinit(conn, &box);
		return;
	}
	i_free(box.name);
	if (box.account != conn->account)
		conn->box_account = box.account;
	conn->box_rights = box.rights;
	/* RFC 4314 §5.2: READ-ONLY without "i", "e" and the flag rights */
	if ((box.rights & (STORE_ACL_INSERT | STORE_ACL_EXPUNGE |
			   STORE_ACL_SEEN | STORE_ACL_WRITE |
			   STORE_ACL_DELETE_MSG)) == 0)
		readonly = true;
	conn->readonly = readonly;
	conn->state = IMAP_STATE_SELECTED;
	store_mailbox_get_status(conn->box, &st);
	conn->uidvalidity = st.uidvalidity;
	imap_sync_take_view(conn);
	imap_sync_append_flag_lists(conn, out);
	count = store_mailbox_count(conn->box);
	buf_printf(out, "* %u EXISTS\r\n", count);
	if (rev2) {
		/* RFC 9051 §6.3.2: a LIST response instead of RECENT
		   (\Recent is gone, Appendix E) */
		buf_append_str(out, "* LIST () \"/\" ");
		imap_mailbox_name_out(conn, out, name);
		buf_append_str(out, "\r\n");
	} else {
		buf_append_str(out, "* 0 RECENT\r\n");
	}
	msgs = store_mailbox_msgs(conn->box);
	for (i = 0; i < count; i++) {
		if ((msgs[i].flags & STORE_FLAG_SEEN) == 0) {
			buf_printf(out, "* OK [UNSEEN %u] First unseen.\r\n",
				   i + 1);
			break;
		}
	}
	buf_printf(out, "* OK [UIDVALIDITY %u] UIDs valid.\r\n"
		   "* OK [UIDNEXT %u] Predicted next UID.\r\n"
		   "* OK [HIGHESTMODSEQ %llu] Highest.\r\n",
		   st.uidvalidity, st.uidnext,
		   (unsigned long long)st.highestmodseq);
	imap_job_tagged(conn, "OK [%s] %s completed.",
			readonly ? "READ-ONLY" : "READ-WRITE",
			readonly ? "EXAMINE" : "SELECT");
}

static void
select_done(struct imap_conn *conn)
{
	free(conn->job_ctx);
	conn->job_ctx = NULL;
}

static void
select_common(struct imap_conn *conn)
{
	const char *raw;
	char *name;

	const struct imap_arg *params;
	unsigned int count;
	const char *param;

	if (conn->cmd.arg_count < 1 || conn->cmd.arg_count > 2 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &raw)) {
		imap_conn_bad(conn, "Needs one mailbox name.");
		return;
	}
	if (conn->cmd.arg_count == 2) {
		/* RFC 7162 §3.1.8: (CONDSTORE); QRESYNC is not offered */
		if (!imap_arg_get_list(&conn->cmd.args[1], &params, &count) ||
		    count != 1 || !imap_arg_get_atom(&params[0], &param) ||
		    strcasecmp(param, "CONDSTORE") != 0) {
			imap_conn_bad(conn, "Unknown SELECT parameter.");
			return;
		}
		conn->enabled |= IMAP_ENABLED_CONDSTORE;
	}
	if ((name = imap_mailbox_name_in(conn, raw)) == NULL) {
		/* RFC 3501 §6.3.1: a failed SELECT unselects. */
		if (conn->box != NULL)
			conn->state = IMAP_STATE_SELECTED;
		return;
	}
	conn->job_ctx = name;
	imap_conn_job(conn, select_run, select_done, IMAP_SYNC_NONE);
}

void
cmd_select(struct imap_conn *conn)
{
	select_common(conn);
}

void
cmd_examine(struct imap_conn *conn)
{
	select_common(conn);
}

static void
close_run(struct imap_conn *conn)
{
	/* RFC 4314 §4: without "e" CLOSE just closes */
	if (!conn->readonly &&
	    (conn->box_rights & STORE_ACL_EXPUNGE) != 0 &&
	    store_mailbox_expunge(conn->box, NULL, 0, NULL) < 0) {
		imap_job_store_error(conn, "CLOSE");
		return;
	}
	unselect(conn);
	imap_job_tagged(conn, "OK CLOSE completed.");
}

static void
unselect_run(struct imap_conn *conn)
{
	unselect(conn);
	imap_job_tagged(conn, "OK UNSELECT completed.");
}

void
cmd_close(struct imap_conn *conn)
{
	imap_conn_job(conn, close_run, NULL, IMAP_SYNC_NONE);
}

void
cmd_unselect(struct imap_conn *conn)
{
	imap_conn_job(conn, unselect_run, NULL, IMAP_SYNC_NONE);
}
