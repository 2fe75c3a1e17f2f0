/* SPDX-License-Identifier: MIT */
/*
 * cmd-mailbox.c: the mailbox commands of the authenticated state: LIST
 * and LSUB (RFC 3501 §6.3.8-9, CHILDREN attributes of RFC 3348),
 * SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME and STATUS (with
 * STATUS=SIZE, RFC 8438). Names travel as modified UTF-7 (imap-utf7.c)
 * and are the store's UTF-8 names inside; the store refuses names that
 * would leave the account ("..", empty components). Part of src/imap.
 */
#include "imap-private.h"
#include "imap-quote.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the run functions need, converted on the loop thread. */
struct mailbox_cmd {
	char *name;
	char *name2;            /* RENAME's new name; LIST's pattern */
	unsigned int items;     /* STATUS items */
	bool lsub;
};

#define STATUS_MESSAGES 0x01u
#define STATUS_UIDNEXT 0x02u
#define STATUS_UIDVALIDITY 0x04u
#define STATUS_UNSEEN 0x08u
#define STATUS_HIGHESTMODSEQ 0x10u
#define STATUS_SIZE 0x20u
#define STATUS_RECENT 0x40u
#define STATUS_DELETED 0x80u

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

/* "inbox", "Inbox/x" -> "INBOX", "INBOX/x" (RFC 3501 §5.1). */
static void
normalise_inbox(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

/* The client's name as UTF-8, without validity checks of the store. */
static char *
name_decode(struct imap_conn *conn, const char *name)
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
	char *utf8 = name_decode(conn, name);

	if (utf8 == NULL) {
		imap_conn_tagged(conn, "NO [CANNOT] Invalid mailbox name: "
				 "not valid modified UTF-7.");
		return NULL;
	}
	normalise_inbox(utf8);
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

/* ---- LIST, LSUB ---- */

/* RFC 3501 §6.3.8: '*' matches anything, '%' anything but '/'. */
static bool
pattern_match(const char *pat, const char *name)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (;; name++) {
				if (pattern_match(pat + 1, name))
					return true;
				if (*name == '\0' ||
				    (*pat == '%' && *name == '/'))
					return false;
			}
		}
		if (*name != *pat)
			return false;
	}
	return *name == '\0';
}

static void
list_reply(struct imap_conn *conn, const char *verb, const char *attrs,
	   const char *name)
{
	buf_printf(&conn->job_out, "* %s (%s) \"/\" ", verb, attrs);
	imap_mailbox_name_out(conn, &conn->job_out, name);
	buf_append_str(&conn->job_out, "\r\n");
}

static void
list_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	struct mailbox_info *infos;
	unsigned int i, count;
	char **subs;
	const char *attrs;

	if (ctx->lsub) {
		if (store_subscription_list(conn->account, &subs,
					    &count) < 0) {
			imap_job_store_error(conn, "LSUB");
			return;
		}
		for (i = 0; i < count; i++) {
			if (pattern_match(ctx->name2, subs[i]))
				list_reply(conn, "LSUB", "", subs[i]);
		}
		store_names_free(&subs, count);
		imap_job_tagged(conn, "OK LSUB completed.");
		return;
	}
	if (store_mailbox_list(conn->account, &infos, &count) < 0) {
		imap_job_store_error(conn, "LIST");
		return;
	}
	for (i = 0; i < count; i++) {
		if (!pattern_match(ctx->name2, infos[i].name))
			continue;
		if (!infos[i].selectable)
			attrs = infos[i].has_children ?
				"\\Noselect \\HasChildren" :
				"\\Noselect \\HasNoChildren";
		else
			attrs = infos[i].has_children ? "\\HasChildren" :
				"\\HasNoChildren";
		list_reply(conn, "LIST", attrs, infos[i].name);
	}
	store_mailbox_infos_free(&infos, count);
	imap_job_tagged(conn, "OK LIST completed.");
}

static void
list_common(struct imap_conn *conn, bool lsub)
{
	const char *ref, *pat;
	struct mailbox_cmd *ctx;
	char *full;

	if (conn->cmd.arg_count != 2 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &ref) ||
	    !imap_arg_get_astring(&conn->cmd.args[1], &pat)) {
		imap_conn_bad(conn, lsub ? "LSUB needs a reference and a "
			      "pattern." : "LIST needs a reference and a "
			      "pattern (LIST-EXTENDED is not supported).");
		return;
	}
	if (!lsub && pat[0] == '\0') {
		/* RFC 3501 §6.3.8: the hierarchy delimiter. */
		imap_conn_reply(conn, "* LIST (\\Noselect) \"/\" \"\"");
		imap_conn_tagged(conn, "OK LIST completed.");
		return;
	}
	full = i_strdup_printf("%s%s%s", pat[0] == '/' ? "" : ref,
			       ref[0] != '\0' && pat[0] != '/' &&
			       ref[strlen(ref) - 1] != '/' ? "/" : "", pat);
	if (ref[0] == '\0') {
		free(full);
		full = i_strdup(pat);
	}
	ctx = mailbox_cmd_new(conn);
	ctx->lsub = lsub;
	ctx->name2 = name_decode(conn, full);
	free(full);
	if (ctx->name2 == NULL) {
		mailbox_cmd_free(conn);
		imap_conn_tagged(conn, "NO [CANNOT] Invalid pattern: not "
				 "valid modified UTF-7.");
		return;
	}
	normalise_inbox(ctx->name2);
	imap_conn_job(conn, list_run, mailbox_cmd_free, IMAP_SYNC_FULL);
}

void
cmd_list(struct imap_conn *conn)
{
	list_common(conn, false);
}

void
cmd_lsub(struct imap_conn *conn)
{
	list_common(conn, true);
}

/* ---- SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME ---- */

static void
subscribe_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	int ret = strcasecmp(conn->cmd.name, "SUBSCRIBE") == 0 ?
		store_subscription_add(conn->account, ctx->name) :
		store_subscription_remove(conn->account, ctx->name);

	if (ret < 0)
		imap_job_store_error(conn, conn->cmd.name);
	else
		imap_job_tagged(conn, "OK %s completed.", conn->cmd.name);
}

static void
create_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	enum mailbox_format format;

	if (store_account_type(conn->account) != ACCOUNT_TYPE_MULTI) {
		imap_job_tagged(conn, "NO [CANNOT] This account holds only "
				"INBOX: mailboxes cannot be created.");
		return;
	}
	if (strcmp(ctx->name, "INBOX") == 0 ||
	    store_mailbox_exists(conn->account, ctx->name)) {
		imap_job_tagged(conn, "NO [ALREADYEXISTS] Mailbox exists.");
		return;
	}
	if (store_mailbox_get_format(conn->account, "INBOX", &format) < 0)
		format = MAILBOX_FORMAT_MBOX;
	if (store_mailbox_create(conn->account, ctx->name, format,
				 NULL) < 0)
		imap_job_store_error(conn, "CREATE");
	else
		imap_job_tagged(conn, "OK CREATE completed.");
}

static void
delete_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;

	if (strcmp(ctx->name, "INBOX") == 0) {
		imap_job_tagged(conn, "NO [CANNOT] INBOX cannot be deleted.");
		return;
	}
	if (conn->box != NULL &&
	    strcmp(store_mailbox_name(conn->box), ctx->name) == 0) {
		/* Deleting the selected mailbox: unselect it first. */
		store_mailbox_close(&conn->box);
		conn->state = IMAP_STATE_AUTHENTICATED;
	}
	if (store_mailbox_delete(conn->account, ctx->name) < 0)
		imap_job_store_error(conn, "DELETE");
	else
		imap_job_tagged(conn, "OK DELETE completed.");
}

static void
rename_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;

	if (store_mailbox_rename(conn->account, ctx->name, ctx->name2) < 0)
		imap_job_store_error(conn, "RENAME");
	else
		imap_job_tagged(conn, "OK RENAME completed.");
}

/* One mailbox name argument, then run. */
static void
one_name(struct imap_conn *conn, imap_job_run_cb_t *run, bool strip_slash)
{
	struct mailbox_cmd *ctx;
	const char *raw;
	char *copy = NULL, *name;
	size_t len;

	if (conn->cmd.arg_count != 1 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &raw)) {
		imap_conn_bad(conn, "Needs one mailbox name.");
		return;
	}
	len = strlen(raw);
	if (strip_slash && len > 1 && raw[len - 1] == '/') {
		/* RFC 3501 §6.3.3: "CREATE foo/" creates foo. */
		copy = i_strndup(raw, len - 1);
		raw = copy;
	}
	name = imap_mailbox_name_in(conn, raw);
	free(copy);
	if (name == NULL)
		return;
	ctx = mailbox_cmd_new(conn);
	ctx->name = name;
	imap_conn_job(conn, run, mailbox_cmd_free, IMAP_SYNC_FULL);
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
	one_name(conn, create_run, true);
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

static void
status_run(struct imap_conn *conn)
{
	struct mailbox_cmd *ctx = conn->job_ctx;
	struct mailbox_status st;
	buf_t *out = &conn->job_out;
	const char *sep = "";

	if (store_mailbox_status(conn->account, ctx->name, &st) < 0) {
		imap_job_store_error(conn, "STATUS");
		return;
	}
	buf_append_str(out, "* STATUS ");
	imap_mailbox_name_out(conn, out, ctx->name);
	buf_append_str(out, " (");
#define ITEM(bit, fmt, value)                                          \
	do {                                                            \
		if ((ctx->items & (bit)) != 0) {                        \
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
	ITEM(STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	     (unsigned long long)st.highestmodseq);
#undef ITEM
	buf_append_str(out, ")\r\n");
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
	{ "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ },
};

void
cmd_status(struct imap_conn *conn)
{
	const struct imap_arg *list;
	unsigned int count, i, j, items = 0;
	struct mailbox_cmd *ctx;
	const char *item;
	char *name;

	if (conn->cmd.arg_count != 2 ||
	    !imap_arg_get_list(&conn->cmd.args[1], &list, &count) ||
	    count == 0) {
		imap_conn_bad(conn, "STATUS needs a mailbox and a list of "
			      "items.");
		return;
	}
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &item))
			break;
		for (j = 0; j < N_ELEMENTS(status_items); j++) {
			if (strcasecmp(item, status_items[j].name) == 0)
				break;
		}
		if (j == N_ELEMENTS(status_items))
			break;
		items |= status_items[j].bit;
	}
	if (i < count) {
		imap_conn_bad(conn, "Unknown STATUS item.");
		return;
	}
	if ((name = mailbox_arg(conn, 0)) == NULL)
		return;
	ctx = mailbox_cmd_new(conn);
	ctx->name = name;
	ctx->items = items;
	imap_conn_job(conn, status_run, mailbox_cmd_free, IMAP_SYNC_FULL);
}
