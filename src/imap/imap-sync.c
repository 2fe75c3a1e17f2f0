/* SPDX-License-Identifier: MIT */
/*
 * imap-sync.c: what a selected session tells its client after a command
 * (RFC 3501 §7.4.1, §5.5): EXPUNGE for messages gone (numbered as the
 * client knows them, each one shifting the later ones down; one VANISHED
 * with their UIDs after ENABLE QRESYNC, RFC 7162 §3.2.10), EXISTS for
 * a new count, FETCH (FLAGS) for flag changes by anyone, FLAGS again when
 * the mailbox gained keywords. FETCH, STORE and SEARCH sync with
 * MAILBOX_SYNC_FLAG_NO_EXPUNGES, so sequence numbers do not move under a
 * client that pipelines them. Part of src/imap; runs on worker threads.
 */
#include "imap-private.h"
#include "store-acl.h"
#include "imap-seqset.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static const char *const system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
};

void
imap_sync_append_flags(struct imap_conn *conn, buf_t *out, uint32_t flags)
{
	unsigned int i, count = store_mailbox_keyword_count(conn->box);
	bool first = true;

	buf_append_c(out, '(');
	for (i = 0; i < N_ELEMENTS(system_flags); i++) {
		if ((flags & (1u << i)) == 0)
			continue;
		if (!first)
			buf_append_c(out, ' ');
		buf_append_str(out, system_flags[i]);
		first = false;
	}
	for (i = 0; i < count && i < STORE_KEYWORDS_MAX; i++) {
		if ((flags & STORE_FLAG_KEYWORD(i)) == 0)
			continue;
		if (!first)
			buf_append_c(out, ' ');
		buf_append_str(out, store_mailbox_keyword_name(conn->box, i));
		first = false;
	}
	buf_append_c(out, ')');
}

/* The flags the user's rights let them change (RFC 4314 §5.1.1: "s"
   \Seen, "t" \Deleted, "w" the rest and keywords), in out. */
static const char *
permanent_flags(struct imap_conn *conn, buf_t *out, const buf_t *kw,
		unsigned int count)
{
	unsigned int rights = conn->box_rights;

	if ((rights & STORE_ACL_WRITE) != 0)
		buf_append_str(out, " \\Answered \\Flagged");
	if ((rights & STORE_ACL_DELETE_MSG) != 0)
		buf_append_str(out, " \\Deleted");
	if ((rights & STORE_ACL_SEEN) != 0)
		buf_append_str(out, " \\Seen");
	if ((rights & STORE_ACL_WRITE) != 0) {
		buf_append_str(out, " \\Draft");
		buf_append(out, kw->data, kw->len);
		if (count < STORE_KEYWORDS_MAX)
			buf_append_str(out, " \\*");
	}
	return out->len == 0 ? "" : buf_cstr(out) + 1;
}

void
imap_sync_append_flag_lists(struct imap_conn *conn, buf_t *out)
{
	unsigned int i, count = store_mailbox_keyword_count(conn->box);
	buf_t kw = BUF_INIT, perm = BUF_INIT;

	for (i = 0; i < count; i++)
		buf_printf(&kw, " %s", store_mailbox_keyword_name(conn->box,
								   i));
	buf_printf(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
		   "\\Draft%s)\r\n", buf_cstr(&kw));
	if (conn->readonly)
		buf_append_str(out, "* OK [PERMANENTFLAGS ()] Read-only "
			       "mailbox.\r\n");
	else
		buf_printf(out, "* OK [PERMANENTFLAGS (%s)] Flags permitted."
			   "\r\n", permanent_flags(conn, &perm, &kw, count));
	conn->keywords_sent = count;
	buf_deinit(&perm);
	buf_deinit(&kw);
}

void
imap_sync_append_modseq(struct imap_conn *conn, buf_t *out,
			const struct store_msg *msg)
{
	if ((conn->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		buf_printf(out, " MODSEQ (%llu)",
			   (unsigned long long)msg->modseq);
}

void
imap_sync_take_view(struct imap_conn *conn)
{
	const struct store_msg *msgs = store_mailbox_msgs(conn->box);
	unsigned int i, count = store_mailbox_count(conn->box);

	free(conn->uids);
	conn->uids = i_malloc((count + 1) * sizeof(*conn->uids));
	for (i = 0; i < count; i++)
		conn->uids[i] = msgs[i].uid;
	conn->uid_count = count;
}

/* The selected mailbox was deleted (or replaced) by someone else: the
   client's numbering cannot be kept, so the session ends, as in
   Dovecot. */
static void
mailbox_gone(struct imap_conn *conn)
{
	buf_append_str(&conn->job_out, "* BYE Selected mailbox was deleted, "
		       "have to disconnect.\r\n");
	conn->state = IMAP_STATE_LOGOUT;
}

int
imap_sync_run(struct imap_conn *conn, enum imap_sync sync)
{
	struct mailbox_sync_result res;
	const struct store_msg *msgs;
	buf_t *out = &conn->job_out;
	unsigned int i, removed = 0, count;
	uint32_t seq;

	struct mailbox_status st;
	struct uid_array vanished = { 0 };
	bool qresync = (conn->enabled & IMAP_ENABLED_QRESYNC) != 0;
	const char *text;

	memset(&res, 0, sizeof(res));
	if (store_mailbox_sync(conn->box, sync == IMAP_SYNC_NO_EXPUNGES ?
			       MAILBOX_SYNC_FLAG_NO_EXPUNGES : 0, &res) < 0) {
		/* NOT_POSSIBLE: the name holds a new mailbox (a new
		   UIDVALIDITY, as after RENAME INBOX elsewhere) */
		if (store_error(&text) == STORE_ERROR_NOT_FOUND ||
		    store_error(&text) == STORE_ERROR_NOT_POSSIBLE)
			mailbox_gone(conn);
		return -1;
	}
	store_mailbox_get_status(conn->box, &st);
	if (st.uidvalidity != conn->uidvalidity) {
		/* deleted and created again under the same name */
		store_mailbox_sync_result_free(&res);
		mailbox_gone(conn);
		return -1;
	}
	for (i = 0; i < res.expunged.count; i++) {
		uint32_t *p = bsearch(&res.expunged.uids[i], conn->uids,
				      conn->uid_count, sizeof(uint32_t),
				      imap_uid_cmp);

		if (p == NULL)
			continue;
		if (qresync)
			uid_array_add(&vanished, *p);
		else
			buf_printf(out, "* %u EXPUNGE\r\n",
				   (unsigned int)(p - conn->uids) + 1 - removed);
		removed++;
	}
	if (vanished.count > 0) {
		/* RFC 7162 §3.2.10: VANISHED replaces EXPUNGE once
		   QRESYNC is enabled */
		buf_append_str(out, "* VANISHED ");
		imap_uidset_append(out, vanished.uids, vanished.count);
		buf_append_str(out, "\r\n");
		uid_array_free(&vanished);
	}
	if (store_mailbox_keyword_count(conn->box) > conn->keywords_sent)
		imap_sync_append_flag_lists(conn, out);
	count = store_mailbox_count(conn->box);
	if (count != conn->uid_count - removed || res.new_count > 0)
		buf_printf(out, "* %u EXISTS\r\n", count);
	msgs = store_mailbox_msgs(conn->box);
	for (i = 0; i < res.changed.count; i++) {
		seq = store_mailbox_seq(conn->box, res.changed.uids[i]);
		if (seq == 0 || (conn->sync_skip != NULL &&
				 bsearch(&res.changed.uids[i],
					 conn->sync_skip->uids,
					 conn->sync_skip->count,
					 sizeof(uint32_t), imap_uid_cmp) != NULL))
			continue;
		buf_printf(out, "* %u FETCH (", seq);
		/* RFC 7162 §3.2.4: with QRESYNC, flag changes carry UID */
		if (conn->uid || qresync)
			buf_printf(out, "UID %u ", msgs[seq - 1].uid);
		buf_append_str(out, "FLAGS ");
		imap_sync_append_flags(conn, out, msgs[seq - 1].flags);
		imap_sync_append_modseq(conn, out, &msgs[seq - 1]);
		buf_append_str(out, ")\r\n");
	}
	/* The client's numbering changes only with expunges and new
	   messages; otherwise keep the copy (a big mailbox's UID list is
	   not copied after every command). */
	if (removed > 0 || res.expunged.count > 0 || res.new_count > 0 ||
	    count != conn->uid_count)
		imap_sync_take_view(conn);
	store_mailbox_sync_result_free(&res);
	return 0;
}

/* ---- VANISHED (EARLIER), RFC 7162 §3.2.5.1 and §3.2.6 ---- */

struct uid_range {
	uint32_t first, last;
};

static int
uid_range_cmp(const void *a, const void *b)
{
	const struct uid_range *x = a, *y = b;

	return x->first < y->first ? -1 : (x->first > y->first ? 1 : 0);
}

/* The ranges of within (NULL: everything) clipped to [lo, hi], sorted
   and merged; returns their count. */
static unsigned int
clip_ranges(const struct imap_seqset *within, uint32_t lo, uint32_t hi,
	    struct uid_range **ranges_r)
{
	unsigned int i, n = 0, count = within == NULL ? 1 : within->count;
	struct uid_range *r = i_malloc((count + 1) * sizeof(*r));
	uint32_t first, last;

	for (i = 0; i < count; i++) {
		first = within == NULL ? lo : within->ranges[i].first;
		last = within == NULL ? hi : within->ranges[i].last;
		/* '*' is the highest UID in use: at most hi */
		if (first == IMAP_SEQSET_STAR)
			first = hi;
		if (last == IMAP_SEQSET_STAR)
			last = hi;
		if (first > last) {
			uint32_t t = first;

			first = last;
			last = t;
		}
		if (first < lo)
			first = lo;
		if (last > hi)
			last = hi;
		if (first <= last && lo <= hi) {
			r[n].first = first;
			r[n++].last = last;
		}
	}
	qsort(r, n, sizeof(*r), uid_range_cmp);
	for (i = 1, count = n, n = n > 0 ? 1 : 0; i < count; i++) {
		if (r[i].first <= r[n - 1].last ||
		    r[i].first - 1 == r[n - 1].last) {
			if (r[i].last > r[n - 1].last)
				r[n - 1].last = r[i].last;
		} else {
			r[n++] = r[i];
		}
	}
	*ranges_r = r;
	return n;
}

static void
append_range(buf_t *out, bool *first, uint32_t a, uint32_t b)
{
	if (!*first)
		buf_append_c(out, ',');
	*first = false;
	if (a == b)
		buf_printf(out, "%u", a);
	else
		buf_printf(out, "%u:%u", a, b);
}

static bool
in_ranges(const struct uid_range *r, unsigned int count, uint32_t uid)
{
	unsigned int lo = 0, hi = count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (uid < r[mid].first)
			hi = mid;
		else if (uid > r[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Every UID of the ranges that the client's view does not hold. */
static void
append_gaps(struct imap_conn *conn, buf_t *out, bool *first,
	    const struct uid_range *r, unsigned int count)
{
	const uint32_t *uids = conn->uids;
	unsigned int i, j = 0, n = conn->uid_count;
	uint64_t next;

	for (i = 0; i < count; i++) {
		next = r[i].first;
		while (j < n && uids[j] < r[i].first)
			j++;
		for (; j < n && uids[j] <= r[i].last; j++) {
			if (uids[j] > next)
				append_range(out, first, (uint32_t)next,
					     uids[j] - 1);
			next = (uint64_t)uids[j] + 1;
		}
		if (next <= r[i].last)
			append_range(out, first, (uint32_t)next, r[i].last);
	}
}

int
imap_sync_vanished_earlier(struct imap_conn *conn, uint64_t since,
			   const struct imap_seqset *within,
			   uint32_t match_uid)
{
	struct mailbox_status st;
	struct uid_array gone = { 0 };
	struct uid_range *r;
	buf_t set = BUF_INIT;
	unsigned int i, n, count;
	bool first = true;
	int ret;

	store_mailbox_get_status(conn->box, &st);
	ret = store_mailbox_expunged_since(conn->box, since, &gone);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		/* history too short: every UID the client may know and we
		   do not have, above the last one seq-match showed to be
		   unchanged (RFC 7162 §3.2.5.2) */
		count = clip_ranges(within, match_uid + 1, st.uidnext - 1, &r);
		append_gaps(conn, &set, &first, r, count);
	} else {
		count = clip_ranges(within, 1, st.uidnext - 1, &r);
		/* gone may hold UIDs of an expunge that failed: those in
		   the view are not reported */
		for (i = 0, n = 0; i < gone.count; i++) {
			if (in_ranges(r, count, gone.uids[i]) &&
			    bsearch(&gone.uids[i], conn->uids,
				    conn->uid_count, sizeof(uint32_t),
				    imap_uid_cmp) == NULL)
				gone.uids[n++] = gone.uids[i];
		}
		if (n > 0)
			imap_uidset_append(&set, gone.uids, n);
	}
	if (set.len > 0)
		buf_printf(&conn->job_out, "* VANISHED (EARLIER) %s\r\n",
			   buf_cstr(&set));
	free(r);
	buf_deinit(&set);
	uid_array_free(&gone);
	return 0;
}
