/* SPDX-License-Identifier: MIT */
/*
 * cmd-acl.c: the ACL extension (RFC 4314: SETACL, DELETEACL, GETACL,
 * LISTRIGHTS, MYRIGHTS) and the shared namespace: other users'
 * mailboxes named "~user/box" (RFC 2342 "other users' namespace",
 * prefix "~", separator "/"). Every command that takes a mailbox name
 * resolves it here (imap_acl_resolve), which tells the account that
 * holds the mailbox, its name there, and the session user's rights.
 * Part of src/imap, above store-acl.h.
 *
 * Existence does not leak: a mailbox the user has neither "l" nor "r"
 * on (nor the rights the command needs) gets the same NO [NONEXISTENT]
 * as one that is not there, and so does an unknown user.
 */
#include "imap-private.h"
#include "imap-quote.h"
#include "store.h"
#include "store-acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Accounts a shared LIST reads the ACLs of (a wildcard in the user
   part of "~user/..." means every account of the user's domain). */
#define ACL_LIST_ACCOUNTS_MAX 10000

/* Distinct "~user/" prefixes looked at per LIST. */
#define LIST_PATTERNS_USERS_MAX 100

#define ACL_VISIBLE (STORE_ACL_LOOKUP | STORE_ACL_READ)

/* ---- name resolution ---- */

void
imap_acl_box_deinit(struct imap_conn *conn, struct imap_acl_box *box)
{
	if (box->account != conn->account)
		store_account_close(&box->account);
	box->account = NULL;
	i_free(box->name);
}

static int
not_found(void)
{
	return store_set_error(STORE_ERROR_NOT_FOUND, "no such mailbox");
}

/* "~user/box": the owner's account (or ours, for "~me/box"). */
static int
lookup_shared(struct imap_conn *conn, const char *name,
	      struct imap_acl_box *box_r)
{
	char *user, *boxname;
	struct account *owner;

	if (store_shared_name_split(name, &user, &boxname) < 0)
		return -1;
	if (store_account_open(conn->server->store, user, &owner) < 0) {
		free(user);
		free(boxname);
		return store_error(NULL) == STORE_ERROR_NOT_FOUND ?
			not_found() : -1;
	}
	free(user);
	box_r->name = boxname;
	if (strcmp(store_account_name(owner), conn->user) == 0) {
		/* one handle per account in a thread (architecture.md,
		   Locking): our own mailbox under its shared name */
		store_account_close(&owner);
		box_r->account = conn->account;
		box_r->rights = STORE_ACL_ALL;
		return 0;
	}
	box_r->account = owner;
	if (store_mailbox_rights(owner, boxname, conn->user,
				 &box_r->rights) < 0) {
		imap_acl_box_deinit(conn, box_r);
		return -1;
	}
	return 0;
}

int
imap_acl_lookup(struct imap_conn *conn, const char *name,
		struct imap_acl_box *box_r)
{
	memset(box_r, 0, sizeof(*box_r));
	if (name[0] == '~')
		return lookup_shared(conn, name, box_r);
	/* RFC 4314 §2: the owner has every right on their mailboxes */
	box_r->account = conn->account;
	box_r->name = i_strdup(name);
	box_r->rights = STORE_ACL_ALL;
	return 0;
}

int
imap_acl_resolve(struct imap_conn *conn, const char *name,
		 unsigned int need, const char *verb,
		 struct imap_acl_box *box_r)
{
	if (imap_acl_lookup(conn, name, box_r) < 0) {
		imap_job_store_error(conn, verb);
		return -1;
	}
	if ((box_r->rights & need) == need)
		return 0;
	/* A mailbox that only takes insertions (rights "i") is visible to
	   APPEND; otherwise "l" or "r" shows it exists. */
	if ((box_r->rights & ACL_VISIBLE) == 0) {
		(void)not_found();
		imap_job_store_error(conn, verb);
	} else {
		imap_job_tagged(conn, "NO [NOPERM] %s: permission denied",
				verb);
	}
	imap_acl_box_deinit(conn, box_r);
	return -1;
}

int
imap_acl_resolve_new(struct imap_conn *conn, const char *name,
		     const char *verb, struct imap_acl_box *box_r)
{
	struct imap_acl_box parent;
	char *pname, *slash;

	if (imap_acl_lookup(conn, name, box_r) < 0) {
		imap_job_store_error(conn, verb);
		return -1;
	}
	if (box_r->rights == STORE_ACL_ALL && box_r->account == conn->account)
		return 0;
	/* RFC 4314 §4: "k" on the parent; a top-level mailbox in another
	   user's account has none. */
	slash = strrchr(name, '/');
	i_assert(slash != NULL);
	pname = i_strndup(name, (size_t)(slash - name));
	if (strchr(pname, '/') == NULL ||
	    imap_acl_lookup(conn, pname, &parent) < 0) {
		store_clear_error();
		memset(&parent, 0, sizeof(parent));
		parent.account = conn->account;
	}
	free(pname);
	if ((parent.rights & STORE_ACL_CREATE) == 0) {
		imap_acl_box_deinit(conn, &parent);
		imap_acl_box_deinit(conn, box_r);
		imap_job_tagged(conn, "NO [NOPERM] %s: permission denied",
				verb);
		return -1;
	}
	imap_acl_box_deinit(conn, &parent);
	return 0;
}

/* ---- shared LIST ---- */

static bool
shared_pattern(const char *pat, char **user_r)
{
	const char *slash;

	*user_r = NULL;
	if (pat[0] != '~')
		return false;
	slash = strchr(pat + 1, '/');
	if (slash != NULL && strcspn(pat + 1, "*%") >
	    (size_t)(slash - pat - 1))
		*user_r = i_strndup(pat + 1, (size_t)(slash - pat - 1));
	return true;
}

static void
add_info(struct mailbox_info **infos, unsigned int *count, char *name)
{
	struct mailbox_info *info;

	*infos = i_realloc(*infos, (*count + 1) * sizeof(**infos));
	info = &(*infos)[(*count)++];
	memset(info, 0, sizeof(*info));
	info->name = name;
	info->selectable = true;
}

/* The mailboxes of account user the session may look up. */
static void
list_account(struct imap_conn *conn, const char *user,
	     struct mailbox_info **infos, unsigned int *count)
{
	struct account *owner;
	char **names;
	unsigned int i, n, first = *count;
	size_t len;

	if (store_account_open(conn->server->store, user, &owner) < 0) {
		store_clear_error();
		return;
	}
	if (strcmp(store_account_name(owner), conn->user) == 0 ||
	    store_acl_mailboxes(owner, conn->user, STORE_ACL_LOOKUP, &names,
				&n) < 0) {
		store_clear_error();
		store_account_close(&owner);
		return;
	}
	if (n > 0) {
		/* "~user" itself, for "~%" (RFC 3501 §6.3.8 \Noselect) */
		add_info(infos, count, i_strdup_printf(
			"~%s", store_account_name(owner)));
		(*infos)[*count - 1].selectable = false;
		(*infos)[*count - 1].has_children = true;
		first = *count;
	}
	for (i = 0; i < n; i++) {
		add_info(infos, count, i_strdup_printf(
			"~%s/%s", store_account_name(owner), names[i]));
	}
	/* \HasChildren only from what the user may see (RFC 4314 §4) */
	for (i = first; i + 1 < *count; i++) {
		len = strlen((*infos)[i].name);
		(*infos)[i].has_children =
			strncmp((*infos)[i + 1].name, (*infos)[i].name,
				len) == 0 && (*infos)[i + 1].name[len] == '/';
	}
	store_names_free(&names, n);
	store_account_close(&owner);
}

int
imap_acl_list_shared(struct imap_conn *conn, char *const *patterns,
		     unsigned int pattern_count, struct mailbox_info **infos,
		     unsigned int *count)
{
	char **users = NULL, *user;
	unsigned int i, j, n = 0;
	bool all = false, any = false;

	for (i = 0; i < pattern_count; i++) {
		if (!shared_pattern(patterns[i], &user))
			continue;
		any = true;
		if (user == NULL) {
			all = true;     /* a wildcard in the user part */
			continue;
		}
		for (j = 0; j < n && strcmp(users[j], user) != 0; j++)
			;
		if (j < n || n == LIST_PATTERNS_USERS_MAX) {
			free(user);
			continue;
		}
		users = i_realloc(users, (n + 1) * sizeof(*users));
		users[n++] = user;
	}
	if (all) {
		store_names_free(&users, n);
		n = 0;
		/* a LIST shows what it can (RFC 4314 §4: never NO) */
		if (store_account_list(conn->server->store,
				       store_account_domain(conn->account),
				       &users, &n) < 0) {
			store_clear_error();
			return 0;
		}
	}
	for (i = 0; any && i < n && i < ACL_LIST_ACCOUNTS_MAX; i++)
		list_account(conn, users[i], infos, count);
	store_names_free(&users, n);
	return 0;
}

/* ---- the commands ---- */

struct acl_cmd {
	char *name;             /* as the client named it, UTF-8 */
	char *identifier;
	char *rights;           /* SETACL's modification */
};

static void
acl_cmd_free(struct imap_conn *conn)
{
	struct acl_cmd *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	free(ctx->name);
	free(ctx->identifier);
	free(ctx->rights);
	free(ctx);
	conn->job_ctx = NULL;
}

static void
append_astring(struct imap_conn *conn, buf_t *out, const char *s)
{
	buf_append_c(out, ' ');
	imap_append_nstring(out, s, (conn->enabled & IMAP_ENABLED_UTF8) != 0 ?
			    IMAP_QUOTE_FLAG_UTF8 : 0);
}

static void
append_rights(buf_t *out, unsigned int rights)
{
	buf_t r = BUF_INIT;

	store_acl_rights_append(&r, rights);
	if (r.len == 0)
		buf_append_str(out, " \"\"");
	else
		buf_printf(out, " %s", buf_cstr(&r));
	buf_deinit(&r);
}

static void
setacl_run(struct imap_conn *conn)
{
	struct acl_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;
	enum store_acl_mode mode = STORE_ACL_MODE_REPLACE;
	const char *text = ctx->rights, *verb = conn->cmd.name;
	unsigned int rights = 0;
	int ret;

	if (text != NULL && (*text == '+' || *text == '-')) {
		mode = *text == '+' ? STORE_ACL_MODE_ADD :
			STORE_ACL_MODE_REMOVE;
		text++;
	}
	if (text != NULL && store_acl_rights_parse(text, &rights) < 0) {
		/* RFC 4314 §3.1: an unknown right is BAD */
		imap_job_tagged(conn, "BAD SETACL: unknown right.");
		return;
	}
	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_ADMIN, verb,
			     &box) < 0)
		return;
	ret = text == NULL ?
		store_mailbox_acl_delete(box.account, box.name,
					 ctx->identifier) :
		store_mailbox_acl_set(box.account, box.name, ctx->identifier,
				      mode, rights);
	if (ret < 0 && store_error(NULL) == STORE_ERROR_NOT_FOUND &&
	    store_mailbox_exists(box.account, box.name))
		imap_job_tagged(conn, "NO [CANNOT] %s: no such user", verb);
	else if (ret < 0)
		imap_job_store_error(conn, verb);
	else
		imap_job_tagged(conn, "OK %s completed.", verb);
	imap_acl_box_deinit(conn, &box);
}

static void
getacl_run(struct imap_conn *conn)
{
	struct acl_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;
	struct store_acl_entry *entries;
	unsigned int i, count;
	buf_t *out = &conn->job_out;

	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_ADMIN, "GETACL",
			     &box) < 0)
		return;
	if (store_mailbox_acl_get(box.account, box.name, &entries,
				  &count) < 0) {
		imap_job_store_error(conn, "GETACL");
		imap_acl_box_deinit(conn, &box);
		return;
	}
	buf_append_str(out, "* ACL ");
	imap_mailbox_name_out(conn, out, ctx->name);
	/* the owner's implicit rights first */
	append_astring(conn, out, store_account_name(box.account));
	append_rights(out, STORE_ACL_ALL);
	for (i = 0; i < count; i++) {
		append_astring(conn, out, entries[i].identifier);
		append_rights(out, entries[i].rights);
	}
	buf_append_str(out, "\r\n");
	store_acl_entries_free(&entries, count);
	imap_acl_box_deinit(conn, &box);
	imap_job_tagged(conn, "OK GETACL completed.");
}

static void
listrights_run(struct imap_conn *conn)
{
	struct acl_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;
	buf_t *out = &conn->job_out;

	if (imap_acl_resolve(conn, ctx->name, STORE_ACL_ADMIN, "LISTRIGHTS",
			     &box) < 0)
		return;
	if (!store_mailbox_exists(box.account, box.name)) {
		(void)not_found();
		imap_job_store_error(conn, "LISTRIGHTS");
		imap_acl_box_deinit(conn, &box);
		return;
	}
	buf_append_str(out, "* LISTRIGHTS ");
	imap_mailbox_name_out(conn, out, ctx->name);
	/* RFC 4314 §3.7: the identifier as the client wrote it */
	append_astring(conn, out, ctx->identifier);
	if (strcasecmp(ctx->identifier, store_account_name(box.account)) == 0)
		buf_append_str(out, " " STORE_ACL_LETTERS);
	else
		/* §2.1.1: no tied rights, "c" = "k", "d" = "xte" */
		buf_append_str(out, " \"\" l r s w i p k x t e a c d");
	buf_append_str(out, "\r\n");
	imap_acl_box_deinit(conn, &box);
	imap_job_tagged(conn, "OK LISTRIGHTS completed.");
}

static void
myrights_run(struct imap_conn *conn)
{
	struct acl_cmd *ctx = conn->job_ctx;
	struct imap_acl_box box;
	buf_t *out = &conn->job_out;

	/* RFC 4314 §4: any of "lrikxa" */
	if (imap_acl_lookup(conn, ctx->name, &box) < 0) {
		imap_job_store_error(conn, "MYRIGHTS");
		return;
	}
	if ((box.rights & (ACL_VISIBLE | STORE_ACL_INSERT | STORE_ACL_CREATE |
			   STORE_ACL_DELETE_MAILBOX | STORE_ACL_ADMIN)) == 0 ||
	    !store_mailbox_exists(box.account, box.name)) {
		(void)not_found();
		imap_job_store_error(conn, "MYRIGHTS");
		imap_acl_box_deinit(conn, &box);
		return;
	}
	buf_append_str(out, "* MYRIGHTS ");
	imap_mailbox_name_out(conn, out, ctx->name);
	append_rights(out, box.rights);
	buf_append_str(out, "\r\n");
	imap_acl_box_deinit(conn, &box);
	imap_job_tagged(conn, "OK MYRIGHTS completed.");
}

/* Parses "mailbox [identifier [rights]]" (nargs of them) and runs. */
static void
acl_command(struct imap_conn *conn, unsigned int nargs,
	    imap_job_run_cb_t *run)
{
	const struct imap_arg *args = conn->cmd.args;
	struct acl_cmd *ctx;
	const char *name, *ident = NULL, *rights = NULL;
	char *utf8;

	if (conn->cmd.arg_count != nargs ||
	    !imap_arg_get_astring(&args[0], &name) ||
	    (nargs > 1 && !imap_arg_get_astring(&args[1], &ident)) ||
	    (nargs > 2 && !imap_arg_get_astring(&args[2], &rights))) {
		imap_conn_bad(conn, "Invalid arguments.");
		return;
	}
	/* RFC 4314 §3: an empty identifier is BAD; negative rights
	   ("-user") are not supported */
	if (ident != NULL && (ident[0] == '\0' || ident[0] == '-' ||
			      strlen(ident) > STORE_ACCOUNT_NAME_MAX + 1 +
			      STORE_DOMAIN_NAME_MAX)) {
		imap_conn_bad(conn, "Invalid or unsupported identifier.");
		return;
	}
	if ((utf8 = imap_mailbox_name_in(conn, name)) == NULL)
		return;
	ctx = i_malloc(sizeof(*ctx));
	ctx->name = utf8;
	ctx->identifier = ident == NULL ? NULL : i_strdup(ident);
	ctx->rights = rights == NULL ? NULL : i_strdup(rights);
	conn->job_ctx = ctx;
	imap_conn_job(conn, run, acl_cmd_free, IMAP_SYNC_FULL);
}

void
cmd_setacl(struct imap_conn *conn)
{
	acl_command(conn, 3, setacl_run);
}

void
cmd_deleteacl(struct imap_conn *conn)
{
	acl_command(conn, 2, setacl_run);
}

void
cmd_getacl(struct imap_conn *conn)
{
	acl_command(conn, 1, getacl_run);
}

void
cmd_listrights(struct imap_conn *conn)
{
	acl_command(conn, 2, listrights_run);
}

void
cmd_myrights(struct imap_conn *conn)
{
	acl_command(conn, 1, myrights_run);
}

void
imap_acl_inherit(struct imap_conn *conn, const struct imap_acl_box *box)
{
	struct store_acl_entry *entries;
	unsigned int i, count;
	const char *slash = strrchr(box->name, '/');
	char *parent;

	if (box->account == conn->account || slash == NULL)
		return;
	parent = i_strndup(box->name, (size_t)(slash - box->name));
	/* best effort: the mailbox exists either way */
	if (store_mailbox_acl_get(box->account, parent, &entries,
				  &count) == 0) {
		for (i = 0; i < count; i++)
			(void)store_mailbox_acl_set(box->account, box->name,
				entries[i].identifier, STORE_ACL_MODE_REPLACE,
				entries[i].rights);
		store_acl_entries_free(&entries, count);
	}
	store_clear_error();
	free(parent);
}

void
imap_acl_filter_flags(unsigned int rights, uint32_t *flags,
		      const char **keywords)
{
	if ((rights & STORE_ACL_SEEN) == 0)
		*flags &= ~STORE_FLAG_SEEN;
	if ((rights & STORE_ACL_DELETE_MSG) == 0)
		*flags &= ~STORE_FLAG_DELETED;
	if ((rights & STORE_ACL_WRITE) == 0) {
		*flags &= STORE_FLAG_SEEN | STORE_FLAG_DELETED;
		if (keywords != NULL)
			keywords[0] = NULL;
	}
}

int
imap_acl_copy_flags(unsigned int rights, struct mailbox *dest,
		    const uint32_t *uids, unsigned int count)
{
	uint32_t flags = STORE_FLAGS_SYSTEM;
	const char **keywords = NULL;
	unsigned int i, n = 0;
	int ret;

	imap_acl_filter_flags(rights, &flags, NULL);
	flags = STORE_FLAGS_SYSTEM & ~flags;    /* the ones to take off */
	if ((rights & STORE_ACL_WRITE) == 0) {
		/* the copies' keywords are in dest's table by now */
		if (store_mailbox_sync(dest, MAILBOX_SYNC_FLAG_NO_EXPUNGES,
				       NULL) < 0)
			return -1;
		n = store_mailbox_keyword_count(dest);
		keywords = i_malloc((n + 1) * sizeof(*keywords));
		for (i = 0; i < n; i++)
			keywords[i] = store_mailbox_keyword_name(dest, i);
	}
	if (flags == 0 && n == 0) {
		free(keywords);
		return 0;
	}
	ret = store_mailbox_update_flags(dest, uids, count,
					 STORE_FLAGS_REMOVE, flags, keywords,
					 0, NULL);
	free(keywords);
	return ret;
}
