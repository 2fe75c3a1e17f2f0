/* SPDX-License-Identifier: MIT */
/*
 * cmd-store.c: STORE and UID STORE (RFC 3501 §6.4.6: FLAGS, +FLAGS,
 * -FLAGS, each with .SILENT; the UNCHANGEDSINCE modifier of RFC 7162
 * §3.1.3 with its [MODIFIED] response code), EXPUNGE and UID EXPUNGE
 * (RFC 4315), and the flag-list parser APPEND shares. Part of
 * src/imap.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "store.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
};

static bool
is_keyword(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > STORE_KEYWORD_NAME_MAX)
		return false;
	for (; *s != '\0'; s++) {
		/* atom chars without the flag-perm and list specials */
		if (strchr("\\%*]", *s) != NULL)
			return false;
	}
	return true;
}

int
imap_flags_parse(const struct imap_arg *arg, uint32_t *flags_r,
		 const char ***keywords_r, const char **error_r)
{
	const struct imap_arg *list = arg;
	unsigned int count = 1, i, j, nkw = 0;
	const char **kw;
	const char *name;

	if (arg->type == IMAP_ARG_LIST)
		(void)imap_arg_get_list(arg, &list, &count);
	kw = i_malloc((count + 1) * sizeof(*kw));
	*flags_r = 0;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name)) {
			*error_r = "Flags must be atoms.";
			goto fail;
		}
		for (j = 0; j < N_ELEMENTS(system_flags); j++) {
			if (strcasecmp(name, system_flags[j]) == 0)
				break;
		}
		if (j < N_ELEMENTS(system_flags)) {
			*flags_r |= 1u << j;
		} else if (strcasecmp(name, "\\Recent") == 0) {
			*error_r = "\\Recent cannot be set.";
			goto fail;
		} else if (is_keyword(name)) {
			kw[nkw++] = name;
		} else {
			*error_r = "Invalid flag.";
			goto fail;
		}
	}
	*keywords_r = kw;
	return 0;
fail:
	free(kw);
	return -1;
}

/* ---- STORE ---- */

struct store_ctx {
	struct imap_seqset set;
	enum store_flags_mode mode;
	bool silent;
	uint32_t flags;
	const char **keywords;
	uint64_t unchangedsince;
	bool has_unchangedsince;
	/* FLAGS (replace) with only some of the flag rights */
	bool partial_replace;
};

static void
store_ctx_free(struct imap_conn *conn)
{
	struct store_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	imap_seqset_free(&ctx->set);
	free(ctx->keywords);
	free(ctx);
	conn->job_ctx = NULL;
}

static void
append_modified(struct imap_conn *conn, buf_t *out,
		const struct uid_array *failed)
{
	unsigned int i;

	for (i = 0; i < failed->count; i++) {
		uint32_t n = conn->uid ? failed->uids[i] :
			store_mailbox_seq(conn->box, failed->uids[i]);

		buf_printf(out, "%s%u", i == 0 ? "" : ",", n);
	}
}

/* Drops from ctx the flags the user may not change (RFC 4314 §4:
   STORE SHOULD NOT fail when some flag may be changed); false when
   nothing is left to do. */
static bool
flags_allowed(struct imap_conn *conn, struct store_ctx *ctx)
{
	unsigned int rights = conn->box_rights;
	bool keywords = ctx->keywords != NULL && ctx->keywords[0] != NULL;

	if ((rights & (STORE_ACL_SEEN | STORE_ACL_WRITE |
		       STORE_ACL_DELETE_MSG)) == (STORE_ACL_SEEN |
		       STORE_ACL_WRITE | STORE_ACL_DELETE_MSG))
		return true;
	if (ctx->mode == STORE_FLAGS_REPLACE) {
		/* two store calls: no UNCHANGEDSINCE across them */
		ctx->partial_replace = !ctx->has_unchangedsince &&
			(rights & (STORE_ACL_SEEN | STORE_ACL_WRITE |
				   STORE_ACL_DELETE_MSG)) != 0;
		return ctx->partial_replace;
	}
	if ((rights & STORE_ACL_SEEN) == 0)
		ctx->flags &= ~STORE_FLAG_SEEN;
	if ((rights & STORE_ACL_DELETE_MSG) == 0)
		ctx->flags &= ~STORE_FLAG_DELETED;
	if ((rights & STORE_ACL_WRITE) == 0) {
		ctx->flags &= STORE_FLAG_SEEN | STORE_FLAG_DELETED;
		if (keywords)
			ctx->keywords[0] = NULL;
		keywords = false;
	}
	return ctx->flags != 0 || keywords;
}

static bool
keyword_listed(const char *const *keywords, const char *name)
{
	for (; keywords != NULL && *keywords != NULL; keywords++) {
		if (strcasecmp(*keywords, name) == 0)
			return true;
	}
	return false;
}

/* RFC 4314 §4: FLAGS (replace) with only some of "s", "w" and "t" sets
   and clears just the flags those rights cover, as an ADD and then a
   REMOVE (each durable; the others stay as they are). */
static int
replace_partial(struct imap_conn *conn, const struct store_ctx *ctx,
		const struct uid_array *uids)
{
	unsigned int rights = conn->box_rights, i, n = 0;
	uint32_t allowed = 0;
	char **others = NULL;
	int ret = 0;

	if ((rights & STORE_ACL_SEEN) != 0)
		allowed |= STORE_FLAG_SEEN;
	if ((rights & STORE_ACL_DELETE_MSG) != 0)
		allowed |= STORE_FLAG_DELETED;
	if ((rights & STORE_ACL_WRITE) != 0) {
		allowed |= STORE_FLAGS_SYSTEM &
			~(STORE_FLAG_SEEN | STORE_FLAG_DELETED);
		/* keywords not in the list go; copies, since the ADD
		   may grow the table */
		others = i_malloc((store_mailbox_keyword_count(conn->box) +
				   1) * sizeof(*others));
		for (i = 0; i < store_mailbox_keyword_count(conn->box); i++) {
			const char *kw =
				store_mailbox_keyword_name(conn->box, i);

			if (!keyword_listed(ctx->keywords, kw))
				others[n++] = i_strdup(kw);
		}
	}
	if ((ctx->flags & allowed) != 0 ||
	    ((rights & STORE_ACL_WRITE) != 0 && ctx->keywords != NULL &&
	     ctx->keywords[0] != NULL))
		ret = store_mailbox_update_flags(conn->box, uids->uids,
			uids->count, STORE_FLAGS_ADD, ctx->flags & allowed,
			(rights & STORE_ACL_WRITE) != 0 ? ctx->keywords : NULL,
			0, NULL);
	if (ret == 0 && ((allowed & ~ctx->flags) != 0 || n > 0))
		ret = store_mailbox_update_flags(conn->box, uids->uids,
			uids->count, STORE_FLAGS_REMOVE, allowed & ~ctx->flags,
			(const char *const *)others, 0, NULL);
	for (i = 0; i < n; i++)
		free(others[i]);
	free(others);
	return ret;
}

static void
store_run(struct imap_conn *conn)
{
	struct store_ctx *ctx = conn->job_ctx;
	struct uid_array uids = { 0 }, failed = { 0 }, ours = { 0 };
	const struct store_msg *msgs;
	buf_t modified = BUF_INIT;
	unsigned int i;
	uint32_t seq;

	if (imap_seqset_resolve(&ctx->set, conn->uid, conn->uids,
				conn->uid_count, &conn->searchres, &uids) < 0) {
		imap_job_tagged(conn, "BAD Invalid sequence set: beyond the "
				"last message.");
		return;
	}
	if (conn->readonly) {
		imap_job_tagged(conn, "NO [READ-ONLY] Mailbox is read-only.");
		uid_array_free(&uids);
		return;
	}
	/* Without a right the flags it covers stay as they are. */
	if (!flags_allowed(conn, ctx)) {
		imap_job_tagged(conn, "NO [NOPERM] STORE: permission denied");
		uid_array_free(&uids);
		return;
	}
	/* RFC 3501 §6.4.6: .SILENT or not, a change made elsewhere is
	   reported. The STORE's own messages stay out of the sync after
	   it, so what others changed before goes out now (one in between
	   is the race the RFC's note accepts). */
	if (ctx->silent && store_mailbox_changed(conn->box))
		(void)imap_sync_run(conn, IMAP_SYNC_NO_EXPUNGES);
	if (ctx->has_unchangedsince && ctx->unchangedsince == 0) {
		/* RFC 7162 §3.1.3: every MODSEQ is above 0, so every
		   message fails (the store reads 0 as "no condition") */
		for (i = 0; i < uids.count; i++)
			uid_array_add(&failed, uids.uids[i]);
	} else if (uids.count > 0 &&
		   (ctx->partial_replace ?
		    replace_partial(conn, ctx, &uids) :
		    store_mailbox_update_flags(conn->box, uids.uids,
					       uids.count, ctx->mode,
					       ctx->flags, ctx->keywords,
					       ctx->unchangedsince,
					       &failed)) < 0) {
		imap_job_store_error(conn, "STORE");
		uid_array_free(&uids);
		return;
	}
	/* Our own changes are reported below (or not, with .SILENT). The
	   messages UNCHANGEDSINCE kept are not ours: a change another
	   session made to them is the sync's to report, or the client
	   would never hear of it. */
	for (i = 0; i < uids.count; i++) {
		if (failed.count == 0 ||
		    bsearch(&uids.uids[i], failed.uids, failed.count,
			    sizeof(uint32_t), imap_uid_cmp) == NULL)
			uid_array_add(&ours, uids.uids[i]);
	}
	conn->sync_skip = &ours;
	(void)imap_sync_run(conn, IMAP_SYNC_NO_EXPUNGES);
	conn->sync_skip = NULL;
	uid_array_free(&ours);
	msgs = store_mailbox_msgs(conn->box);
	for (i = 0; i < uids.count && !ctx->silent; i++) {
		seq = store_mailbox_seq(conn->box, uids.uids[i]);
		/* messages UNCHANGEDSINCE kept are in [MODIFIED] only */
		if (seq == 0 || (failed.count > 0 &&
				 bsearch(&uids.uids[i], failed.uids,
					 failed.count, sizeof(uint32_t),
					 imap_uid_cmp) != NULL))
			continue;
		buf_printf(&conn->job_out, "* %u FETCH (", seq);
		/* RFC 7162 §3.2.4: with QRESYNC, flag changes carry UID */
		if (conn->uid || (conn->enabled & IMAP_ENABLED_QRESYNC) != 0)
			buf_printf(&conn->job_out, "UID %u ", uids.uids[i]);
		buf_append_str(&conn->job_out, "FLAGS ");
		imap_sync_append_flags(conn, &conn->job_out,
				       msgs[seq - 1].flags);
		imap_sync_append_modseq(conn, &conn->job_out, &msgs[seq - 1]);
		buf_append_str(&conn->job_out, ")\r\n");
	}
	if (failed.count > 0) {
		append_modified(conn, &modified, &failed);
		imap_job_tagged(conn, "OK [MODIFIED %s] Conditional STORE "
				"failed for some messages.",
				buf_cstr(&modified));
	} else {
		imap_job_tagged(conn, "OK %sSTORE completed.",
				conn->uid ? "UID " : "");
	}
	buf_deinit(&modified);
	uid_array_free(&failed);
	uid_array_free(&uids);
}

/* "(UNCHANGEDSINCE n)": 0, or -1. */
static int
parse_modifiers(const struct imap_arg *arg, uint64_t *unchangedsince_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *name, *num;
	char *end;

	if (!imap_arg_get_list(arg, &list, &count) || count != 2 ||
	    !imap_arg_get_atom(&list[0], &name) ||
	    strcasecmp(name, "UNCHANGEDSINCE") != 0 ||
	    !imap_arg_get_atom(&list[1], &num) || num[0] < '0' ||
	    num[0] > '9')
		return -1;
	*unchangedsince_r = strtoull(num, &end, 10);
	return *end == '\0' ? 0 : -1;
}

void
cmd_store_args(struct imap_conn *conn, const struct imap_arg *args,
	       unsigned int count)
{
	struct store_ctx *ctx = i_malloc(sizeof(*ctx));
	const char *set, *item, *error = "STORE needs a sequence set, an "
		"item and flags.";
	unsigned int i = 0;

	conn->job_ctx = ctx;
	if (count < 3 || !imap_arg_get_atom(&args[i++], &set))
		goto bad;
	if (imap_seqset_parse(set, &ctx->set) < 0) {
		error = "Invalid sequence set.";
		goto bad;
	}
	if (args[i].type == IMAP_ARG_LIST) {
		if (parse_modifiers(&args[i++], &ctx->unchangedsince) < 0) {
			error = "Invalid STORE modifier.";
			goto bad;
		}
		imap_condstore_enable(conn);
		ctx->has_unchangedsince = true;
	}
	if (count != i + 2 || !imap_arg_get_atom(&args[i++], &item))
		goto bad;
	ctx->mode = STORE_FLAGS_REPLACE;
	if (*item == '+' || *item == '-') {
		ctx->mode = *item == '+' ? STORE_FLAGS_ADD :
			STORE_FLAGS_REMOVE;
		item++;
	}
	if (strcasecmp(item, "FLAGS.SILENT") == 0)
		ctx->silent = true;
	else if (strcasecmp(item, "FLAGS") != 0) {
		error = "Unknown STORE item.";
		goto bad;
	}
	if (imap_flags_parse(&args[i], &ctx->flags, &ctx->keywords,
			     &error) < 0)
		goto bad;
	imap_conn_job(conn, store_run, store_ctx_free, IMAP_SYNC_NONE);
	return;
bad:
	store_ctx_free(conn);
	imap_conn_bad(conn, error);
}

void
cmd_store(struct imap_conn *conn)
{
	cmd_store_args(conn, conn->cmd.args, conn->cmd.arg_count);
}

/* ---- EXPUNGE ---- */

static void
expunge_run(struct imap_conn *conn)
{
	struct imap_seqset *set = conn->job_ctx;
	struct uid_array uids = { 0 };

	if (conn->readonly) {
		imap_job_tagged(conn, "NO [READ-ONLY] Mailbox is read-only.");
		return;
	}
	if ((conn->box_rights & STORE_ACL_EXPUNGE) == 0) {
		imap_job_tagged(conn, "NO [NOPERM] EXPUNGE: permission denied");
		return;
	}
	if (set != NULL && imap_seqset_resolve(set, true, conn->uids,
					       conn->uid_count,
					       &conn->searchres, &uids) < 0)
		i_panic("UID sets always resolve");
	if ((set == NULL || uids.count > 0) &&
	    store_mailbox_expunge(conn->box, set == NULL ? NULL : uids.uids,
				  uids.count, NULL) < 0)
		imap_job_store_error(conn, "EXPUNGE");
	else
		imap_job_tagged(conn, "OK %sEXPUNGE completed.",
				set != NULL ? "UID " : "");
	uid_array_free(&uids);
}

/* After the sync that told the client every change (VANISHED and
   all), the OK of EXPUNGE (and MOVE) carries the HIGHESTMODSEQ to
   resync from once QRESYNC is enabled (RFC 7162 §3.2.10's example;
   Dovecot does too). */
void
imap_expunge_highestmodseq(struct imap_conn *conn)
{
	struct mailbox_status st;
	char *tagged;

	if ((conn->enabled & IMAP_ENABLED_QRESYNC) == 0 || conn->box == NULL ||
	    conn->tagged == NULL || strncmp(conn->tagged, "OK ", 3) != 0)
		return;
	store_mailbox_get_status(conn->box, &st);
	tagged = i_strdup_printf("OK [HIGHESTMODSEQ %llu] %s",
				 (unsigned long long)st.highestmodseq,
				 conn->tagged + 3);
	free(conn->tagged);
	conn->tagged = tagged;
}

static void
expunge_free(struct imap_conn *conn)
{
	struct imap_seqset *set = conn->job_ctx;

	if (set != NULL) {
		imap_seqset_free(set);
		free(set);
	}
	conn->job_ctx = NULL;
	imap_expunge_highestmodseq(conn);
}

void
cmd_expunge_args(struct imap_conn *conn, const struct imap_arg *args,
		 unsigned int count)
{
	struct imap_seqset *set = NULL;
	const char *str;

	if (conn->uid) {
		set = i_malloc(sizeof(*set));
		if (count != 1 || !imap_arg_get_atom(&args[0], &str) ||
		    imap_seqset_parse(str, set) < 0) {
			free(set);
			imap_conn_bad(conn, "UID EXPUNGE needs a UID set.");
			return;
		}
	} else if (count != 0) {
		imap_conn_bad(conn, "EXPUNGE takes no arguments.");
		return;
	}
	conn->job_ctx = set;
	imap_conn_job(conn, expunge_run, expunge_free, IMAP_SYNC_FULL);
}

void
cmd_expunge(struct imap_conn *conn)
{
	cmd_expunge_args(conn, conn->cmd.args, conn->cmd.arg_count);
}
