/* SPDX-License-Identifier: MIT */
/*
 * cmd-select.c: SELECT and EXAMINE (RFC 3501 §6.3.1-2, with the
 * HIGHESTMODSEQ response code of RFC 7162, MAILBOXID of RFC 8474 and the
 * QRESYNC parameter of RFC 7162 §3.2.5), CLOSE (expunges silently when
 * read-write, §6.4.2) and UNSELECT (RFC 3691). A SELECT first leaves
 * the mailbox selected before, so a failed SELECT leaves none.
 * Part of src/imap.
 */
#include "imap-private.h"
#include "imap-seqset.h"
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

/* seq-match pairs taken from a SELECT (QRESYNC ...); more are ignored */
#define SELECT_SEQ_MATCH_MAX 10000

/* SELECT name [(CONDSTORE) | (QRESYNC (uidvalidity modseq [known-uids
   [(seqs uids)]]))], RFC 7162 §3.2.5 */
struct select_ctx {
	char *name;
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	bool has_known_uids;
	struct imap_seqset known_uids;
	uint32_t *match_seqs, *match_uids;
	unsigned int match_count;
};

static void
select_ctx_free(struct select_ctx **_ctx)
{
	struct select_ctx *ctx = *_ctx;

	if (ctx == NULL)
		return;
	free(ctx->name);
	imap_seqset_free(&ctx->known_uids);
	free(ctx->match_seqs);
	free(ctx->match_uids);
	free(ctx);
	*_ctx = NULL;
}

/* The highest UID of the seq-match pairs whose sequence number still has
   that UID: no message below it was expunged since (RFC 7162 §3.2.5.2:
   the client numbered them 1..seq as we do now, and no UID below it can
   have been added). 0 when none matches. */
static uint32_t
seq_match_uid(struct imap_conn *conn, const struct select_ctx *ctx)
{
	uint32_t best = 0, seq;
	unsigned int i;

	for (i = 0; i < ctx->match_count; i++) {
		seq = ctx->match_seqs[i];
		if (seq >= 1 && seq <= conn->uid_count &&
		    conn->uids[seq - 1] == ctx->match_uids[i] &&
		    ctx->match_uids[i] > best)
			best = ctx->match_uids[i];
	}
	return best;
}

/* Worker, after the usual SELECT responses: the flag changes since the
   client's modseq as FETCH, then what vanished (RFC 7162 §3.2.5.1). */
static int
qresync_run(struct imap_conn *conn, const struct select_ctx *ctx)
{
	const struct store_msg *msgs = store_mailbox_msgs(conn->box);
	struct uid_array uids = { 0 };
	buf_t *out = &conn->job_out;
	unsigned int i;
	uint32_t seq;
	int ret;

	if (ctx->has_known_uids) {
		(void)imap_seqset_resolve(&ctx->known_uids, true, conn->uids,
					  conn->uid_count, NULL, &uids);
	} else {
		for (i = 0; i < conn->uid_count; i++)
			uid_array_add(&uids, conn->uids[i]);
	}
	for (i = 0; i < uids.count; i++) {
		seq = store_mailbox_seq(conn->box, uids.uids[i]);
		if (seq == 0 || msgs[seq - 1].modseq <= ctx->modseq)
			continue;
		buf_printf(out, "* %u FETCH (UID %u FLAGS ", seq,
			   uids.uids[i]);
		imap_sync_append_flags(conn, out, msgs[seq - 1].flags);
		buf_printf(out, " MODSEQ (%llu))\r\n",
			   (unsigned long long)msgs[seq - 1].modseq);
	}
	uid_array_free(&uids);
	ret = imap_sync_vanished_earlier(conn, ctx->modseq,
					 ctx->has_known_uids ?
					 &ctx->known_uids : NULL,
					 seq_match_uid(conn, ctx));
	return ret;
}

static void
select_run(struct imap_conn *conn)
{
	struct select_ctx *ctx = conn->job_ctx;
	char *name = ctx->name;
	char mailboxid[STORE_OBJECTID_MAX + 1];
	struct imap_acl_box box;
	struct mailbox_status st;
	const struct store_msg *msgs;
	buf_t *out = &conn->job_out;
	unsigned int i, count;
	bool readonly = strcasecmp(conn->cmd.name, "EXAMINE") == 0;
	bool rev2 = (conn->enabled & IMAP_ENABLED_IMAP4REV2) != 0;

	if (conn->box != NULL &&
	    (rev2 || (conn->enabled & IMAP_ENABLED_QRESYNC) != 0)) {
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
	/* RFC 9051 Appendix E: no [UNSEEN] code in IMAP4rev2 */
	for (i = 0; i < count && !rev2; i++) {
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
	/* RFC 8474 §4.2 */
	store_mailbox_id(store_mailbox_account(conn->box), st.uidvalidity,
			 mailboxid);
	buf_printf(out, "* OK [MAILBOXID (%s)] Ok.\r\n", mailboxid);
	/* RFC 7162 §3.2.5: with another UIDVALIDITY, a plain SELECT */
	if (ctx->qresync && ctx->uidvalidity == st.uidvalidity &&
	    qresync_run(conn, ctx) < 0) {
		imap_job_store_error(conn, conn->cmd.name);
		unselect(conn);
		return;
	}
	imap_job_tagged(conn, "OK [%s] %s completed.",
			readonly ? "READ-ONLY" : "READ-WRITE",
			readonly ? "EXAMINE" : "SELECT");
}

static void
select_done(struct imap_conn *conn)
{
	struct select_ctx *ctx = conn->job_ctx;

	select_ctx_free(&ctx);
	conn->job_ctx = NULL;
}

/* A number of 1..max: 0, or -1. */
static int
parse_number(const struct imap_arg *arg, uint64_t max, uint64_t *num_r)
{
	const char *p;
	uint64_t n = 0;

	if (!imap_arg_get_atom(arg, &p) || *p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || n > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*num_r = n;
	return n == 0 ? -1 : 0;
}

/* The numbers of a set without '*', at most SELECT_SEQ_MATCH_MAX of
   them: their count, or -1 when there are more (or a '*'). */
static int
expand_set(const struct imap_seqset *set, uint32_t **nums_r)
{
	uint32_t *nums = i_malloc((SELECT_SEQ_MATCH_MAX + 1) * sizeof(*nums));
	unsigned int i, n = 0;
	uint64_t v;

	for (i = 0; i < set->count; i++) {
		if (set->ranges[i].last == IMAP_SEQSET_STAR ||
		    set->ranges[i].first == IMAP_SEQSET_STAR)
			goto fail;
		for (v = set->ranges[i].first; v <= set->ranges[i].last; v++) {
			if (n == SELECT_SEQ_MATCH_MAX)
				goto fail;
			nums[n++] = (uint32_t)v;
		}
	}
	*nums_r = nums;
	return (int)n;
fail:
	free(nums);
	return -1;
}

/* "(known-sequence-set known-uid-set)": 0, or -1 with *error_r. Too
   many pairs are dropped (they only narrow the answer). */
static int
parse_seq_match(const struct imap_arg *arg, struct select_ctx *ctx,
		const char **error_r)
{
	const struct imap_arg *list;
	struct imap_seqset seqs, uids;
	const char *a, *b;
	unsigned int count;
	int n1, n2, ret = 0;

	*error_r = "Invalid QRESYNC seq-match data.";
	if (!imap_arg_get_list(arg, &list, &count) || count != 2 ||
	    !imap_arg_get_atom(&list[0], &a) ||
	    !imap_arg_get_atom(&list[1], &b))
		return -1;
	if (imap_seqset_parse(a, &seqs) < 0)
		return -1;
	if (imap_seqset_parse(b, &uids) < 0) {
		imap_seqset_free(&seqs);
		return -1;
	}
	n1 = seqs.dollar ? -1 : expand_set(&seqs, &ctx->match_seqs);
	n2 = uids.dollar || n1 < 0 ? -1 : expand_set(&uids, &ctx->match_uids);
	if (n1 >= 0 && n2 >= 0 && n1 != n2)
		ret = -1;
	else if (n1 >= 0 && n2 >= 0)
		ctx->match_count = (unsigned int)n1;
	imap_seqset_free(&seqs);
	imap_seqset_free(&uids);
	return ret;
}

/* "(uidvalidity modseq [known-uids [seq-match]])": 0, or -1 with
   *error_r. */
static int
parse_qresync(const struct imap_arg *arg, struct select_ctx *ctx,
	      const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *set;
	uint64_t n;

	*error_r = "Invalid QRESYNC parameters.";
	if (!imap_arg_get_list(arg, &list, &count) || count < 2 || count > 4)
		return -1;
	if (parse_number(&list[0], UINT32_MAX, &n) < 0)
		return -1;
	ctx->uidvalidity = (uint32_t)n;
	/* mod-sequence-value: 1..2^63-1 */
	if (parse_number(&list[1], INT64_MAX, &ctx->modseq) < 0)
		return -1;
	if (count >= 3) {
		if (!imap_arg_get_atom(&list[2], &set) ||
		    imap_seqset_parse(set, &ctx->known_uids) < 0 ||
		    ctx->known_uids.dollar)
			return -1;
		ctx->has_known_uids = true;
	}
	if (count == 4 && parse_seq_match(&list[3], ctx, error_r) < 0)
		return -1;
	ctx->qresync = true;
	return 0;
}

/* The SELECT parameters: 0, or -1 with *error_r (BAD). */
static int
parse_params(struct imap_conn *conn, const struct imap_arg *arg,
	     struct select_ctx *ctx, const char **error_r)
{
	const struct imap_arg *params;
	unsigned int i, count;
	const char *param;

	*error_r = "Unknown SELECT parameter.";
	if (!imap_arg_get_list(arg, &params, &count))
		return -1;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&params[i], &param))
			return -1;
		if (strcasecmp(param, "CONDSTORE") == 0) {
			/* RFC 7162 §3.1.8 */
			conn->enabled |= IMAP_ENABLED_CONDSTORE;
		} else if (strcasecmp(param, "QRESYNC") == 0 &&
			   i + 1 < count && !ctx->qresync) {
			/* §3.2.5: only after ENABLE QRESYNC */
			if ((conn->enabled & IMAP_ENABLED_QRESYNC) == 0) {
				*error_r = "QRESYNC is not enabled.";
				return -1;
			}
			if (parse_qresync(&params[++i], ctx, error_r) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static void
select_common(struct imap_conn *conn)
{
	struct select_ctx *ctx;
	const char *raw, *error;

	if (conn->cmd.arg_count < 1 || conn->cmd.arg_count > 2 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &raw)) {
		imap_conn_bad(conn, "Needs one mailbox name.");
		return;
	}
	ctx = i_malloc(sizeof(*ctx));
	if (conn->cmd.arg_count == 2 &&
	    parse_params(conn, &conn->cmd.args[1], ctx, &error) < 0) {
		select_ctx_free(&ctx);
		imap_conn_bad(conn, error);
		return;
	}
	if ((ctx->name = imap_mailbox_name_in(conn, raw)) == NULL) {
		select_ctx_free(&ctx);
		/* RFC 3501 §6.3.1: a failed SELECT unselects. */
		if (conn->box != NULL)
			conn->state = IMAP_STATE_SELECTED;
		return;
	}
	conn->job_ctx = ctx;
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

/* Syncs the view without telling the client: true when nothing but
   the expunges in ours (NULL: none) happened, so the view's
   HIGHESTMODSEQ is one the client may resync from. */
static bool
close_sync_clean(struct imap_conn *conn, const struct uid_array *ours)
{
	struct mailbox_sync_result res;
	bool clean;

	memset(&res, 0, sizeof(res));
	if (store_mailbox_sync(conn->box, 0, &res) < 0)
		return false;
	clean = res.new_count == 0 && res.changed.count == 0 &&
		res.expunged.count == (ours == NULL ? 0 : ours->count) &&
		(res.expunged.count == 0 ||
		 memcmp(res.expunged.uids, ours->uids,
			ours->count * sizeof(uint32_t)) == 0);
	store_mailbox_sync_result_free(&res);
	return clean;
}

/* After ENABLE QRESYNC the tagged OK of CLOSE carries the HIGHESTMODSEQ
   after its expunges (as Dovecot's does), the client's next SELECT
   (QRESYNC) point; but only when the client knew every change before
   them, else resyncing from it would miss those. */
static void
close_run(struct imap_conn *conn)
{
	struct uid_array gone = { 0 };
	struct mailbox_status st;
	bool qresync = (conn->enabled & IMAP_ENABLED_QRESYNC) != 0;
	bool known = qresync && close_sync_clean(conn, NULL);

	store_clear_error();
	/* RFC 4314 §4: without "e" CLOSE just closes */
	if (!conn->readonly &&
	    (conn->box_rights & STORE_ACL_EXPUNGE) != 0 &&
	    store_mailbox_expunge(conn->box, NULL, 0, &gone) < 0) {
		uid_array_free(&gone);
		imap_job_store_error(conn, "CLOSE");
		return;
	}
	if (known && gone.count > 0)
		known = close_sync_clean(conn, &gone);
	store_mailbox_get_status(conn->box, &st);
	uid_array_free(&gone);
	unselect(conn);
	if (known)
		imap_job_tagged(conn, "OK [HIGHESTMODSEQ %llu] CLOSE "
				"completed.",
				(unsigned long long)st.highestmodseq);
	else
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
