/* SPDX-License-Identifier: MIT */
/*
 * cmd-metadata.c: GETMETADATA and SETMETADATA (RFC 5464, METADATA and
 * METADATA-SERVER) over the store's annotations (store-metadata.h).
 * Mailbox "" names the server; its entries are the account's own.
 * Besides stored entries a mailbox shows /private/specialuse (RFC 6154
 * §4) and /shared/vendor/commune/class (the CommuniGate mailbox class:
 * IPF.Appointment, IPF.Task, IPF.Contact, IPF.StickyNote; none for
 * mail), and both can be set. Arguments are parsed on the loop thread,
 * the store is used by one worker job. Part of src/imap.
 *
 * Other users' mailboxes ("~user/box", cmd-acl.c): reading needs "r",
 * writing /shared entries "w" and the class "a" (it changes what the
 * mailbox is for everyone). /private entries are per user, which the
 * store keeps only for the owner: others see none of the owner's and
 * cannot set their own (NO [METADATA NOPRIVATE], RFC 5464 §4.3).
 */
#include "imap-private.h"
#include "imap-quote.h"
#include "store.h"
#include "store-acl.h"
#include "store-metadata.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Entries one GETMETADATA may ask for; entry/value pairs one
   SETMETADATA may carry (more could never fit the per-mailbox limit
   anyway, removals aside). */
#define METADATA_GET_ENTRIES_MAX 1000
#define METADATA_SET_ENTRIES_MAX (2 * STORE_METADATA_ENTRIES_MAX)

enum metadata_depth {
	METADATA_DEPTH_0,
	METADATA_DEPTH_1,
	METADATA_DEPTH_INFINITY,
};

struct metadata_cmd {
	char *mailbox;          /* NULL: server */
	/* GETMETADATA */
	char **names;
	unsigned int name_count;
	enum metadata_depth depth;
	uint32_t maxsize;       /* UINT32_MAX: no limit */
	/* SETMETADATA */
	struct store_metadata_entry *entries;
	unsigned int entry_count;
};

static void
metadata_cmd_free(struct imap_conn *conn)
{
	struct metadata_cmd *ctx = conn->job_ctx;
	unsigned int i;

	if (ctx == NULL)
		return;
	free(ctx->mailbox);
	for (i = 0; i < ctx->name_count; i++)
		free(ctx->names[i]);
	free(ctx->names);
	for (i = 0; i < ctx->entry_count; i++) {
		free(ctx->entries[i].name);
		free(ctx->entries[i].value);
	}
	free(ctx->entries);
	free(ctx);
	conn->job_ctx = NULL;
}

static char *
lower_dup(const char *s)
{
	char *copy = i_strdup(s), *p;

	for (p = copy; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return copy;
}

/* The mailbox argument: 0 with *name_r (NULL for ""), or -1 after a
   reply. */
static int
mailbox_arg(struct imap_conn *conn, const struct imap_arg *arg,
	    char **name_r)
{
	const char *name;

	*name_r = NULL;
	if (!imap_arg_get_astring(arg, &name)) {
		imap_conn_bad(conn, "Missing mailbox name.");
		return -1;
	}
	if (name[0] == '\0')
		return 0;
	*name_r = imap_mailbox_name_in(conn, name);
	return *name_r == NULL ? -1 : 0;
}

/* ---- output ---- */

/* RFC 3501 ATOM-CHAR: what an entry name may be written as bare. */
static bool
is_atom(const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("(){%*\"\\]", *s) != NULL)
			return false;
	}
	return true;
}

static void
append_value(buf_t *out, const unsigned char *value, size_t len)
{
	if (memchr(value, '\0', len) != NULL) {
		/* RFC 5464 §5: values are nstring or literal8 */
		buf_printf(out, "~{%zu}\r\n", len);
		buf_append(out, value, len);
		return;
	}
	imap_append_nstring(out, (const char *)value, 0);
}

static void
append_entry(struct imap_conn *conn, const struct metadata_cmd *ctx,
	     bool *started, const char *name,
	     const struct store_metadata_entry *e)
{
	buf_t *out = &conn->job_out;

	if (!*started) {
		buf_append_str(out, "* METADATA ");
		if (ctx->mailbox == NULL)
			buf_append_str(out, "\"\"");
		else
			imap_mailbox_name_out(conn, out, ctx->mailbox);
		buf_append_str(out, " (");
		*started = true;
	} else {
		buf_append_c(out, ' ');
	}
	if (is_atom(name))
		buf_append_str(out, name);
	else
		imap_append_nstring(out, name, 0);
	buf_append_c(out, ' ');
	if (e == NULL)
		buf_append_str(out, "NIL");
	else
		append_value(out, e->value, e->len);
}

/* Whether stored entry e is below name within depth (RFC 5464 §4.2.2). */
static bool
in_scope(const char *name, const char *e, enum metadata_depth depth)
{
	size_t len = strlen(name);

	if (strncmp(e, name, len) != 0 || e[len] != '/')
		return false;
	return depth == METADATA_DEPTH_INFINITY ||
		strchr(e + len + 1, '/') == NULL;
}

/* Sends entry j unless sent already or over MAXSIZE. */
static void
send_one(struct imap_conn *conn, const struct metadata_cmd *ctx,
	 const struct store_metadata_entry *e, bool *sent, bool *started,
	 size_t *longest)
{
	if (*sent)
		return;
	*sent = true;
	if (e->len > ctx->maxsize) {
		/* RFC 5464 §4.2.1: left out, the largest one reported */
		if (e->len > *longest)
			*longest = e->len;
		return;
	}
	append_entry(conn, ctx, started, e->name, e);
}

static bool
is_private(const char *name)
{
	return strncmp(name, "/private", 8) == 0 &&
		(name[8] == '/' || name[8] == '\0');
}

/* Worker: the account and name holding ctx->mailbox, with the rights
   of need; 0, or -1 after the reply. box_r is zeroed for the server. */
static int
metadata_resolve(struct imap_conn *conn, unsigned int need,
		 const char *verb, struct imap_acl_box *box_r)
{
	struct metadata_cmd *ctx = conn->job_ctx;

	memset(box_r, 0, sizeof(*box_r));
	if (ctx->mailbox == NULL) {
		box_r->account = conn->account;
		return 0;
	}
	return imap_acl_resolve(conn, ctx->mailbox, need, verb, box_r);
}

static void
getmetadata_run(struct imap_conn *conn)
{
	struct metadata_cmd *ctx = conn->job_ctx;
	struct store_metadata_entry *entries;
	struct imap_acl_box box;
	unsigned int count, i, j;
	bool *sent, started = false, found, others;
	size_t longest = 0;

	if (metadata_resolve(conn, STORE_ACL_READ, "GETMETADATA", &box) < 0)
		return;
	if (store_metadata_get(box.account, box.name, &entries,
			       &count) < 0) {
		imap_job_store_error(conn, "GETMETADATA");
		imap_acl_box_deinit(conn, &box);
		return;
	}
	sent = i_malloc(sizeof(bool) * (count + 1));
	others = box.account != conn->account;
	for (j = 0; j < count; j++) {
		/* the owner's private entries are not another user's */
		if (others && is_private(entries[j].name))
			sent[j] = true;
	}
	for (i = 0; i < ctx->name_count; i++) {
		/* the entry itself first; at DEPTH 0 NIL when it has no
		   value (as Dovecot, which sends no NIL with a depth) */
		found = false;
		for (j = 0; j < count && !found; j++) {
			if (strcmp(entries[j].name, ctx->names[i]) == 0 &&
			    !(others && is_private(entries[j].name))) {
				found = true;
				send_one(conn, ctx, &entries[j], &sent[j],
					 &started, &longest);
			}
		}
		if (!found && ctx->depth == METADATA_DEPTH_0)
			append_entry(conn, ctx, &started, ctx->names[i], NULL);
		for (j = 0; ctx->depth != METADATA_DEPTH_0 && j < count; j++) {
			if (in_scope(ctx->names[i], entries[j].name,
				     ctx->depth))
				send_one(conn, ctx, &entries[j], &sent[j],
					 &started, &longest);
		}
	}
	if (started)
		buf_append_str(&conn->job_out, ")\r\n");
	free(sent);
	store_metadata_entries_free(&entries, count);
	imap_acl_box_deinit(conn, &box);
	if (longest > 0)
		imap_job_tagged(conn, "OK [METADATA LONGENTRIES %zu] "
				"GETMETADATA completed.", longest);
	else
		imap_job_tagged(conn, "OK GETMETADATA completed.");
}

/* ---- GETMETADATA parsing ---- */

/* (MAXSIZE n DEPTH d): NULL, or the BAD text. */
static const char *
parse_get_options(struct metadata_cmd *ctx, const struct imap_arg *arg)
{
	const struct imap_arg *opts;
	unsigned int count, i;
	const char *name, *value;

	(void)imap_arg_get_list(arg, &opts, &count);
	for (i = 0; i + 1 < count; i += 2) {
		if (!imap_arg_get_atom(&opts[i], &name) ||
		    !imap_arg_get_atom(&opts[i + 1], &value))
			return "Invalid GETMETADATA option.";
		if (strcasecmp(name, "MAXSIZE") == 0) {
			if (!imap_arg_get_number(&opts[i + 1], &ctx->maxsize))
				return "Invalid MAXSIZE.";
		} else if (strcasecmp(name, "DEPTH") == 0) {
			if (strcmp(value, "0") == 0)
				ctx->depth = METADATA_DEPTH_0;
			else if (strcmp(value, "1") == 0)
				ctx->depth = METADATA_DEPTH_1;
			else if (strcasecmp(value, "infinity") == 0)
				ctx->depth = METADATA_DEPTH_INFINITY;
			else
				return "Invalid DEPTH.";
		} else {
			return "Unknown GETMETADATA option.";
		}
	}
	return i == count ? NULL : "Invalid GETMETADATA options.";
}

/* One entry name to ask for: NULL, or the BAD text. */
static const char *
add_name(struct metadata_cmd *ctx, const struct imap_arg *arg)
{
	const char *name;

	if (!imap_arg_get_astring(arg, &name) ||
	    store_metadata_check_entry(name, true) < 0)
		return "Invalid entry name.";
	if (ctx->name_count == METADATA_GET_ENTRIES_MAX)
		return "Too many entries.";
	ctx->names = i_realloc(ctx->names, sizeof(char *) *
			       (ctx->name_count + 1));
	ctx->names[ctx->name_count++] = lower_dup(name);
	return NULL;
}

static const char *
parse_get(struct imap_conn *conn, struct metadata_cmd *ctx, bool *replied)
{
	const struct imap_arg *args = conn->cmd.args, *list;
	unsigned int count = conn->cmd.arg_count, i = 0, n, j;
	const char *error;

	ctx->maxsize = UINT32_MAX;
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		if ((error = parse_get_options(ctx, &args[i++])) != NULL)
			return error;
	}
	if (i + 2 != count)
		return "GETMETADATA needs a mailbox and entries.";
	if (mailbox_arg(conn, &args[i++], &ctx->mailbox) < 0) {
		*replied = true;
		return NULL;
	}
	if (!imap_arg_get_list(&args[i], &list, &n))
		return add_name(ctx, &args[i]);
	if (n == 0)
		return "No entries.";
	for (j = 0; j < n; j++) {
		if ((error = add_name(ctx, &list[j])) != NULL)
			return error;
	}
	return NULL;
}

void
cmd_getmetadata(struct imap_conn *conn)
{
	struct metadata_cmd *ctx = i_malloc(sizeof(*ctx));
	const char *error;
	bool replied = false;

	conn->job_ctx = ctx;
	error = parse_get(conn, ctx, &replied);
	if (error != NULL || replied) {
		metadata_cmd_free(conn);
		if (error != NULL)
			imap_conn_bad(conn, error);
		return;
	}
	imap_conn_job(conn, getmetadata_run, metadata_cmd_free,
		      IMAP_SYNC_FULL);
}

/* ---- SETMETADATA ---- */

/* The rights SETMETADATA needs on another user's mailbox, and whether
   it writes /private entries. */
static unsigned int
set_rights(const struct metadata_cmd *ctx, bool *private_r)
{
	unsigned int i, need = 0;

	*private_r = false;
	for (i = 0; i < ctx->entry_count; i++) {
		if (is_private(ctx->entries[i].name))
			*private_r = true;
		else if (strcmp(ctx->entries[i].name,
				STORE_METADATA_CLASS) == 0)
			need |= STORE_ACL_ADMIN;
		else
			need |= STORE_ACL_WRITE;
	}
	return need;
}

static void
setmetadata_run(struct imap_conn *conn)
{
	struct metadata_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;
	const char *text;
	bool private;
	int ret;

	if (metadata_resolve(conn, set_rights(ctx, &private) |
			     STORE_ACL_LOOKUP, "SETMETADATA", &box) < 0)
		return;
	if (private && box.account != conn->account) {
		imap_acl_box_deinit(conn, &box);
		imap_job_tagged(conn, "NO [METADATA NOPRIVATE] Private "
				"entries of other users' mailboxes are not "
				"kept.");
		return;
	}
	ret = store_metadata_set(box.account, box.name, ctx->entries,
				 ctx->entry_count);
	imap_acl_box_deinit(conn, &box);
	if (ret == 0) {
		imap_job_tagged(conn, "OK SETMETADATA completed.");
		return;
	}
	switch (store_error(&text)) {
	case STORE_ERROR_OVERQUOTA:
		/* the value sizes were checked before: a count limit */
		imap_job_tagged(conn, "NO [METADATA TOOMANY] %s.", text);
		return;
	case STORE_ERROR_INVALID:
		imap_job_tagged(conn, "NO [CANNOT] %s.", text);
		return;
	default:
		imap_job_store_error(conn, "SETMETADATA");
		return;
	}
}

/* add_entry's answer for a value over the limit, which the reply
   names (RFC 5464 §4.3). */
#define REPLY_MAXSIZE "MAXSIZE"

/* One entry/value pair: NULL, or the reply ("BAD ...", "NO ..." or
   REPLY_MAXSIZE). */
static const char *
add_entry(struct metadata_cmd *ctx, const struct imap_arg *name_arg,
	  const struct imap_arg *value_arg)
{
	struct store_metadata_entry *e;
	const char *name;
	unsigned int uses;

	if (!imap_arg_get_astring(name_arg, &name) ||
	    store_metadata_check_entry(name, false) < 0)
		return "BAD Invalid entry name.";
	if (!imap_arg_is_nil(value_arg) &&
	    value_arg->type != IMAP_ARG_STRING &&
	    value_arg->type != IMAP_ARG_LITERAL &&
	    value_arg->type != IMAP_ARG_LITERAL8)
		return "BAD Values are strings, literals or NIL.";
	ctx->entries = i_realloc(ctx->entries, sizeof(*e) *
				 (ctx->entry_count + 1));
	e = &ctx->entries[ctx->entry_count++];
	memset(e, 0, sizeof(*e));
	e->name = lower_dup(name);
	if (imap_arg_is_nil(value_arg))
		return NULL;
	if (value_arg->len > STORE_METADATA_VALUE_MAX)
		return REPLY_MAXSIZE;
	e->value = i_malloc(value_arg->len + 1);
	memcpy(e->value, value_arg->str, value_arg->len);
	e->len = value_arg->len;
	/* RFC 6154 §4 names the attribute problem with USEATTR */
	if (strcmp(e->name, STORE_METADATA_SPECIALUSE) == 0 &&
	    (memchr(e->value, '\0', e->len) != NULL ||
	     store_special_use_parse_list((const char *)e->value,
					  &uses) < 0 ||
	     (uses & ~STORE_USE_ASSIGNABLE) != 0))
		return "NO [USEATTR] Mailboxes can be \\Archive, \\Drafts, "
			"\\Junk, \\Sent or \\Trash.";
	return NULL;
}

static const char *
parse_set(struct imap_conn *conn, struct metadata_cmd *ctx, bool *replied)
{
	const struct imap_arg *args = conn->cmd.args, *list;
	unsigned int n, j;
	const char *error;

	if (conn->cmd.arg_count != 2 || !imap_arg_get_list(&args[1], &list,
							    &n) ||
	    n == 0 || n % 2 != 0)
		return "BAD SETMETADATA needs a mailbox and entry/value pairs.";
	if (n / 2 > METADATA_SET_ENTRIES_MAX)
		return "NO [METADATA TOOMANY] Too many entries.";
	if (mailbox_arg(conn, &args[0], &ctx->mailbox) < 0) {
		*replied = true;
		return NULL;
	}
	for (j = 0; j < n; j += 2) {
		if ((error = add_entry(ctx, &list[j], &list[j + 1])) != NULL)
			return error;
	}
	return NULL;
}

void
cmd_setmetadata(struct imap_conn *conn)
{
	struct metadata_cmd *ctx = i_malloc(sizeof(*ctx));
	const char *reply;
	bool replied = false;

	conn->job_ctx = ctx;
	reply = parse_set(conn, ctx, &replied);
	if (reply != NULL || replied) {
		metadata_cmd_free(conn);
		if (reply != NULL && strcmp(reply, REPLY_MAXSIZE) == 0)
			imap_conn_tagged(conn, "NO [METADATA MAXSIZE %u] "
					 "Value too long.",
					 STORE_METADATA_VALUE_MAX);
		else if (reply != NULL && strncmp(reply, "BAD ", 4) == 0)
			imap_conn_bad(conn, reply + 4);
		else if (reply != NULL)
			imap_conn_tagged(conn, "%s", reply);
		return;
	}
	imap_conn_job(conn, setmetadata_run, metadata_cmd_free,
		      IMAP_SYNC_FULL);
}
