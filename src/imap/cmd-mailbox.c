/* SPDX-License-Identifier: MIT */
/*
 * cmd-mailbox.c: the mailbox commands of the authenticated state but
 * LIST and LSUB (cmd-list.c): SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME and STATUS (with
 * STATUS=SIZE, RFC 8438). Names travel as modified UTF-7 (imap-utf7.c)
 * and are the store's UTF-8 names inside; the store refuses names that
 * would leave the account ("..", empty components). Part of src/imap.
 */
#include "imap-private.h"
#include "imap-quote.h"
#include "store.h"
#include "store-metadata.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the run functions need, converted on the loop thread. */
struct mailbox_cmd {
	char *name;
	char *name2;            /* RENAME's new name */
	unsigned int items;     /* STATUS items */
	/* CREATE ... (USE (...)) (RFC 6154 §3) */
	bool has_uses;
	unsigned int uses;
};


static void
mailbox_cmd_free(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	free(ctx->name);
	free(ctx->name2);
	free(ctx);
	conn->job_ctx = NULL;
}

static struct mailbox_cmd *
mailbox_cmd_new(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = i_malloc(sizeof(*ctx));

	conn->job_ctx = ctx;
	return ctx;
}

/* ---- names ---- */

void
imap_mailbox_normalise_inbox(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

char *
imap_mailbox_pattern_in(struct imap_conn *conn, const char *name)
{
	buf_t out = BUF_INIT;
	size_t len;

	if ((conn->enabled & IMAP_ENABLED_UTF8) != 0) {
		if (!imap_utf8_valid(name))
			return NULL;
		buf_append_str(&out, name);
	} else if (imap_utf7_to_utf8(name, &out) < 0) {
		buf_deinit(&out);
		return NULL;
	}
	buf_append_c(&out, '\0');
	return (char *)buf_steal(&out, &len);
}

char *
imap_mailbox_name_in(struct imap_conn *conn, const char *name)
{
	char *utf8 = imap_mailbox_pattern_in(conn, name);

	if (utf8 == NULL) {
		/* RFC 6855 §3: names are UTF-8 once UTF8=ACCEPT is on */
		imap_conn_tagged(conn, (conn->enabled &
					IMAP_ENABLED_UTF8) != 0 ?
				 "NO [CANNOT] Invalid mailbox name: "
				 "not valid UTF-8." :
				 "NO [CANNOT] Invalid mailbox name: "
				 "not valid modified UTF-7.");
		return NULL;
	}
	imap_mailbox_normalise_inbox(utf8);
	if (utf8[0] == '~') {
		/* another user's mailbox, resolved by cmd-acl.c */
		char *user, *box;

		if (store_shared_name_split(utf8, &user, &box) < 0) {
			imap_conn_tagged(conn, "NO [CANNOT] Invalid mailbox "
					 "name.");
			free(utf8);
			return NULL;
		}
		free(user);
		free(box);
		return utf8;
	}
	if (store_check_mailbox_name(utf8) < 0) {
		imap_conn_tagged(conn, "NO [CANNOT] Invalid mailbox name.");
		free(utf8);
		return NULL;
	}
	return utf8;
}

void
imap_mailbox_name_out(struct imap_conn *conn, buf_t *out, const char *name)
{
	buf_t enc = BUF_INIT;

	if ((conn->enabled & IMAP_ENABLED_UTF8) != 0 ||
	    imap_utf8_to_utf7(name, &enc) < 0) {
		buf_reset(&enc);
		buf_append_str(&enc, name);
	}
	imap_append_nstring(out, buf_cstr(&enc),
			    (conn->enabled & IMAP_ENABLED_UTF8) != 0 ?
			    IMAP_QUOTE_FLAG_UTF8 : 0);
	buf_deinit(&enc);
}

/* The one mailbox-name argument of a command: the UTF-8 name or NULL
   after a reply. */
static char *
mailbox_arg(struct imap_conn *conn, unsigned int i)
{
	const char *name;

	if (i >= conn->cmd.arg_count ||
	    !imap_arg_get_astring(&conn->cmd.args[i], &name)) {
		imap_conn_bad(conn, "Missing or invalid mailbox name.");
		return NULL;
	}
	return imap_mailbox_name_in(conn, name);
}

/* ---- SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME ---- */

static void oldname_list(struct imap_conn *conn, const char *name,
			 const char *old);

static void
subscribe_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	bool subscribe = strcasecmp(conn->cmd.name, "SUBSCRIBE") == 0;
	const char *text;
	int ret = subscribe ?
		store_subscription_add(conn->account, ctx->name) :
		store_subscription_remove(conn->account, ctx->name);

	/* RFC 9051 §6.3.8: UNSUBSCRIBE of a name not subscribed is OK */
	if (ret < 0 && !subscribe &&
	    store_error(&text) == STORE_ERROR_NOT_FOUND) {
		store_clear_error();
		ret = 0;
	}
	if (ret < 0)
		imap_job_store_error(conn, conn->cmd.name);
	else
		imap_job_tagged(conn, "OK %s completed.", conn->cmd.name);
}

/* RFC 8474 §4.1: the new mailbox's MAILBOXID with the OK */
static void
create_ok(struct imap_conn *conn, const struct imap_acl_box *box)
{
	char mailboxid[STORE_OBJECTID_MAX + 1];
	struct mailbox_status st;

	if (store_mailbox_status(box->account, box->name, &st) == 0) {
		store_mailbox_id(box->account, st.uidvalidity, mailboxid);
		imap_job_tagged(conn, "OK [MAILBOXID (%s)] CREATE completed.",
				mailboxid);
		return;
	}
	store_clear_error();
	imap_job_tagged(conn, "OK CREATE completed.");
}

static void
create_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	enum mailbox_format format;
	struct imap_acl_box box;

	if (imap_acl_resolve_new(conn, ctx->name, "CREATE", &box) < 0)
		return;
	if (store_account_type(box.account) != ACCOUNT_TYPE_MULTI) {
		imap_job_tagged(conn, "NO [CANNOT] This account holds only "
				"INBOX: mailboxes cannot be created.");
	} else if (strcmp(box.name, "INBOX") == 0 ||
		   store_mailbox_exists(box.account, box.name)) {
		imap_job_tagged(conn, "NO [ALREADYEXISTS] Mailbox exists.");
	} else {
		if (store_mailbox_get_format(box.account, "INBOX",
					     &format) < 0)
			format = MAILBOX_FORMAT_MBOX;
		if ((ctx->has_uses ?
		     store_mailbox_create_special(box.account, box.name,
						  format, NULL, ctx->uses) :
		     store_mailbox_create(box.account, box.name, format,
					  NULL)) < 0) {
			imap_job_store_error(conn, "CREATE");
		} else {
			imap_acl_inherit(conn, &box);
			if (ctx->name2 != NULL)
				oldname_list(conn, ctx->name, ctx->name2);
			create_ok(conn, &box);
		}
	}
	imap_acl_box_deinit(conn, &box);
}

/* After a failed delete: true when the store refused because the name
   is only a parent (RFC 9051 §6.3.5, RFC 5530 HASCHILDREN). The store
   error is kept for imap_job_store_error otherwise. */
static bool
delete_refused_for_children(struct account *account, const char *name)
{
	struct mailbox_info *infos;
	unsigned int i, count;
	const char *text;
	char *saved;
	size_t len = strlen(name);
	bool children = false;

	if (store_error(&text) != STORE_ERROR_NOT_POSSIBLE)
		return false;
	/* text lives only until the next store call */
	saved = i_strdup(text);
	if (store_mailbox_list(account, &infos, &count) == 0) {
		for (i = 0; i < count && !children; i++) {
			children = strncmp(infos[i].name, name, len) == 0 &&
				infos[i].name[len] == '/';
		}
		store_mailbox_infos_free(&infos, count);
	}
	if (!children)
		(void)store_set_error(STORE_ERROR_NOT_POSSIBLE, "%s", saved);
	free(saved);
	return children;
}

static void
delete_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;

	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_DELETE_MAILBOX,
			     "DELETE", &box) < 0)
		return;
	if (strcmp(box.name, "INBOX") == 0) {
		imap_job_tagged(conn, "NO [CANNOT] INBOX cannot be deleted.");
		imap_acl_box_deinit(conn, &box);
		return;
	}
	if (conn->box != NULL && strcmp(store_account_name(
		store_mailbox_account(conn->box)),
		store_account_name(box.account)) == 0 &&
	    strcmp(store_mailbox_name(conn->box), box.name) == 0) {
		/* Deleting the selected mailbox: unselect it first. */
		store_mailbox_close(&conn->box);
		store_account_close(&conn->box_account);
		conn->state = IMAP_STATE_AUTHENTICATED;
	}
	if (store_mailbox_delete(box.account, box.name) == 0)
		imap_job_tagged(conn, "OK DELETE completed.");
	else if (delete_refused_for_children(box.account, box.name))
		imap_job_tagged(conn, "NO [HASCHILDREN] DELETE: a name "
				"without messages that has children stays.");
	else
		imap_job_store_error(conn, "DELETE");
	imap_acl_box_deinit(conn, &box);
}

/* True when box is the selected mailbox or one of its parents. */
static bool
is_selected_or_parent(struct imap_conn *conn, const struct imap_acl_box *box)
{
	const char *sel, *name = box->name;
	size_t len = strlen(name);

	if (conn->box == NULL ||
	    strcmp(store_account_name(store_mailbox_account(conn->box)),
		   store_account_name(box->account)) != 0)
		return false;
	sel = store_mailbox_name(conn->box);
	return strncmp(sel, name, len) == 0 &&
		(sel[len] == '\0' || sel[len] == '/');
}

/* IMAP4rev2 only: "* LIST () "/" name ("OLDNAME" (old))" after a
   RENAME, or a CREATE whose name was normalised (RFC 9051 §6.3.4,
   §6.3.6, §7.3.1). */
static void
oldname_list(struct imap_conn *conn, const char *name, const char *old)
{
	buf_t *out = &conn->job_out;

	if ((conn->enabled & IMAP_ENABLED_IMAP4REV2) == 0)
		return;
	buf_append_str(out, "* LIST () \"/\" ");
	imap_mailbox_name_out(conn, out, name);
	buf_append_str(out, " (\"OLDNAME\" (");
	imap_mailbox_name_out(conn, out, old);
	buf_append_str(out, "))\r\n");
}

static void
rename_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	struct imap_acl_box from, to;

	/* RFC 4314 §4: "x" on the mailbox, "k" on the new parent */
	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_DELETE_MAILBOX,
			     "RENAME", &from) < 0)
		return;
	if (imap_acl_resolve_new(conn, ctx->name2, "RENAME", &to) < 0) {
		imap_acl_box_deinit(conn, &from);
		return;
	}
	if (strcmp(store_account_name(from.account),
		   store_account_name(to.account)) != 0) {
		imap_job_tagged(conn, "NO [CANNOT] RENAME: not possible "
				"between accounts");
		goto out;
	}
	if (is_selected_or_parent(conn, &from)) {
		/* The view would point at a name that is gone: the
		   session leaves the selected state, as after DELETE. */
		store_mailbox_close(&conn->box);
		store_account_close(&conn->box_account);
		conn->state = IMAP_STATE_AUTHENTICATED;
	}
	if (store_mailbox_rename(from.account, from.name, to.name) < 0) {
		imap_job_store_error(conn, "RENAME");
		goto out;
	}
	oldname_list(conn, ctx->name2, ctx->name);
	imap_job_tagged(conn, "OK RENAME completed.");
out:
	imap_acl_box_deinit(conn, &to);
	imap_acl_box_deinit(conn, &from);
}

/* The mailbox name of the first argument into a new ctx (after
   nargs - 1 further arguments), or NULL after a reply. */
static struct mailbox_cmd *
one_name_ctx(struct imap_conn *conn, bool strip_slash, unsigned int nargs)
{
	struct mailbox_cmd *ctx;
	const char *raw;
	char *copy = NULL, *name;
	size_t len;

	if (conn->cmd.arg_count != nargs ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &raw)) {
		imap_conn_bad(conn, "Needs one mailbox name.");
		return NULL;
	}
	len = strlen(raw);
	if (strip_slash && len > 1 && raw[len - 1] == '/') {
		/* RFC 3501 §6.3.3: "CREATE foo/" creates foo. */
		copy = i_strndup(raw, len - 1);
		raw = copy;
	}
	name = imap_mailbox_name_in(conn, raw);
	if (name == NULL) {
		free(copy);
		return NULL;
	}
	ctx = mailbox_cmd_new(conn);
	ctx->name = name;
	if (copy != NULL) {
		/* the name as sent, for OLDNAME */
		ctx->name2 = imap_mailbox_pattern_in(conn,
			conn->cmd.args[0].str);
		free(copy);
	}
	return ctx;
}

/* One mailbox name argument, then run. */
static void
one_name(struct imap_conn *conn, imap_job_run_cb_t *run, bool strip_slash)
{
	if (one_name_ctx(conn, strip_slash, 1) != NULL)
		imap_conn_job(conn, run, mailbox_cmd_free, IMAP_SYNC_FULL);
}

/* CREATE's parameters (RFC 4466 §2.2), of which USE (RFC 6154 §3) is
   the one known: 0, -1 (BAD: malformed or unknown parameter) or 1 (NO
   [USEATTR]: an attribute the store cannot give a real mailbox). */
static int
create_params(const struct imap_arg *arg, unsigned int *uses_r)
{
	const struct imap_arg *params, *attrs;
	unsigned int count, n, i, bit;
	const char *word;

	*uses_r = 0;
	if (!imap_arg_get_list(arg, &params, &count) || count != 2 ||
	    !imap_arg_get_atom(&params[0], &word) ||
	    strcasecmp(word, "USE") != 0 ||
	    !imap_arg_get_list(&params[1], &attrs, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (!imap_arg_get_atom(&attrs[i], &word))
			return -1;
		bit = store_special_use_parse(word);
		if ((bit & STORE_USE_ASSIGNABLE) == 0)
			return 1;
		*uses_r |= bit;
	}
	return 0;
}

void
cmd_subscribe(struct imap_conn *conn)
{
	one_name(conn, subscribe_run, false);
}

void
cmd_unsubscribe(struct imap_conn *conn)
{
	one_name(conn, subscribe_run, false);
}

void
cmd_create(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx;
	unsigned int uses = 0;
	int ret = 0;

	if (conn->cmd.arg_count == 2)
		ret = create_params(&conn->cmd.args[1], &uses);
	if (ret < 0) {
		imap_conn_bad(conn, "Invalid CREATE parameters.");
		return;
	}
	if (ret > 0) {
		imap_conn_tagged(conn, "NO [USEATTR] Mailboxes can be "
				 "\\Archive, \\Drafts, \\Junk, \\Sent or "
				 "\\Trash.");
		return;
	}
	ctx = one_name_ctx(conn, true, conn->cmd.arg_count == 2 ? 2 : 1);
	if (ctx == NULL)
		return;
	ctx->has_uses = conn->cmd.arg_count == 2;
	ctx->uses = uses;
	imap_conn_job(conn, create_run, mailbox_cmd_free, IMAP_SYNC_FULL);
}

void
cmd_delete(struct imap_conn *conn)
{
	one_name(conn, delete_run, false);
}

void
cmd_rename(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx;
	char *from, *to;

	if (conn->cmd.arg_count != 2) {
		imap_conn_bad(conn, "RENAME needs two mailbox names.");
		return;
	}
	if ((from = mailbox_arg(conn, 0)) == NULL)
		return;
	if ((to = mailbox_arg(conn, 1)) == NULL) {
		free(from);
		return;
	}
	ctx = mailbox_cmd_new(conn);
	ctx->name = from;
	ctx->name2 = to;
	imap_conn_job(conn, rename_run, mailbox_cmd_free, IMAP_SYNC_FULL);
}

/* ---- STATUS ---- */

int
imap_status_append(struct imap_conn *conn, buf_t *out, const char *name,
		   unsigned int items)
{
	struct mailbox_status st;
	char mailboxid[STORE_OBJECTID_MAX + 1];
	struct imap_acl_box box;
	const char *sep = "";
	uint64_t deleted_kib = 0;
	int ret;

	/* RFC 4314 §4: STATUS needs "r" */
	if (imap_acl_lookup(conn, name, &box) < 0)
		return -1;
	ret = (box.rights & STORE_ACL_READ) == 0 ?
		store_set_error(STORE_ERROR_NOT_FOUND, "no such mailbox") :
		store_mailbox_status(box.account, box.name, &st);
	if (ret == 0)
		store_mailbox_id(box.account, st.uidvalidity, mailboxid);
	if (ret == 0 && (items & STATUS_DELETED_STORAGE) != 0)
		ret = imap_quota_deleted_storage(box.account, box.name,
						 &deleted_kib);
	imap_acl_box_deinit(conn, &box);
	if (ret < 0)
		return -1;
	buf_append_str(out, "* STATUS ");
	imap_mailbox_name_out(conn, out, name);
	buf_append_str(out, " (");
#define ITEM(bit, fmt, value)                                          \
	do {                                                            \
		if ((items & (bit)) != 0) {                             \
			buf_printf(out, "%s" fmt, sep, value);          \
			sep = " ";                                      \
		}                                                       \
	} while (0)
	ITEM(STATUS_MESSAGES, "MESSAGES %u", st.messages);
	ITEM(STATUS_RECENT, "RECENT %u", 0u);
	ITEM(STATUS_UIDNEXT, "UIDNEXT %u", st.uidnext);
	ITEM(STATUS_UIDVALIDITY, "UIDVALIDITY %u", st.uidvalidity);
	ITEM(STATUS_UNSEEN, "UNSEEN %u", st.unseen);
	ITEM(STATUS_DELETED, "DELETED %u", st.deleted);
	ITEM(STATUS_SIZE, "SIZE %llu", (unsigned long long)st.bytes);
	/* RFC 9208: what an expunge would free, in KiB */
	ITEM(STATUS_DELETED_STORAGE, "DELETED-STORAGE %llu",
	     (unsigned long long)deleted_kib);
	ITEM(STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	     (unsigned long long)st.highestmodseq);
	ITEM(STATUS_MAILBOXID, "MAILBOXID (%s)", mailboxid);
	/* RFC 7889 §4: the one limit CAPABILITY announces holds for every
	   mailbox */
	ITEM(STATUS_APPENDLIMIT, "APPENDLIMIT %u",
	     (unsigned int)IMAP_LITERAL_MAX_DEFAULT);
#undef ITEM
	buf_append_str(out, ")\r\n");
	return 0;
}

static void
status_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;

	/* NOPERM when the mailbox is visible but not readable */
	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_READ, "STATUS",
			     &box) < 0)
		return;
	imap_acl_box_deinit(conn, &box);
	if (imap_status_append(conn, &conn->job_out, ctx->name,
			       ctx->items) < 0)
		imap_job_store_error(conn, "STATUS");
	else
		imap_job_tagged(conn, "OK STATUS completed.");
}

static const struct {
	const char *name;
	unsigned int bit;
} status_items[] = {
	{ "MESSAGES", STATUS_MESSAGES },
	{ "RECENT", STATUS_RECENT },
	{ "UIDNEXT", STATUS_UIDNEXT },
	{ "UIDVALIDITY", STATUS_UIDVALIDITY },
	{ "UNSEEN", STATUS_UNSEEN },
	{ "DELETED", STATUS_DELETED },
	{ "SIZE", STATUS_SIZE },
	{ "DELETED-STORAGE", STATUS_DELETED_STORAGE },
	{ "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ },
	{ "MAILBOXID", STATUS_MAILBOXID },
	{ "APPENDLIMIT", STATUS_APPENDLIMIT },
};

int
imap_status_items_parse(const struct imap_arg *arg, unsigned int *items_r)
{
	const struct imap_arg *list;
	unsigned int count, i, j;
	const char *item;

	*items_r = 0;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return -1;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &item))
			return -1;
		for (j = 0; j < N_ELEMENTS(status_items); j++) {
			if (strcasecmp(item, status_items[j].name) == 0)
				break;
		}
		if (j == N_ELEMENTS(status_items))
			return -1;
		*items_r |= status_items[j].bit;
	}
	return 0;
}

void
cmd_status(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx;
	unsigned int items;
	char *name;

	if (conn->cmd.arg_count != 2 ||
	    imap_status_items_parse(&conn->cmd.args[1], &items) < 0) {
		imap_conn_bad(conn, "STATUS needs a mailbox and a list of "
			      "known items.");
		return;
	}
	if ((items & STATUS_RECENT) != 0 &&
	    (conn->enabled & IMAP_ENABLED_IMAP4REV2) != 0) {
		/* RFC 9051 Appendix E: RECENT is not a status item */
		imap_conn_bad(conn, "STATUS RECENT is not in IMAP4rev2.");
		return;
	}
	if ((name = mailbox_arg(conn, 0)) == NULL)
		return;
	if ((items & STATUS_HIGHESTMODSEQ) != 0)
		imap_condstore_enable(conn);
	ctx = mailbox_cmd_new(conn);
	ctx->name = name;
	ctx->items = items;
	imap_conn_job(conn, status_run, mailbox_cmd_free, IMAP_SYNC_FULL);
}
