/* SPDX-License-Identifier: MIT */
/*
 * cmd-list.c: LIST and LSUB (RFC 3501 §6.3.8-9) with the CHILDREN
 * attributes (RFC 3348), LIST-EXTENDED (RFC 5258: selection options
 * SUBSCRIBED, REMOTE, RECURSIVEMATCH; return options SUBSCRIBED,
 * CHILDREN; several patterns) and LIST-STATUS (RFC 5819: RETURN
 * (STATUS (...))) and SPECIAL-USE (RFC 6154 §5: the attributes in every
 * LIST reply, the SPECIAL-USE selection and return options). Patterns
 * are matched against the store's UTF-8 names: '*' matches anything,
 * '%' anything but the separator '/'. Part of src/imap.
 */
#include "imap-private.h"
#include "store.h"
#include "store-metadata.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Patterns in one LIST command. */
#define LIST_PATTERNS_MAX 100

struct list_ctx {
	char **patterns;
	unsigned int pattern_count;
	bool lsub;
	bool sel_subscribed;
	bool sel_recursive;
	bool ret_subscribed;
	bool sel_special_use;
	unsigned int status_items;      /* 0: no LIST-STATUS */
	/* filled by the worker */
	char **subs;
	unsigned int sub_count;
	unsigned int *uses;             /* per mailbox_info; NULL for LSUB */
};

static void
list_ctx_free(struct imap_conn *conn)
{
	struct list_ctx *ctx = conn->job_ctx;
	unsigned int i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->pattern_count; i++)
		free(ctx->patterns[i]);
	free(ctx->patterns);
	store_names_free(&ctx->subs, ctx->sub_count);
	free(ctx->uses);
	free(ctx);
	conn->job_ctx = NULL;
}

/* The characters of name before ci_end match case-insensitively. */
static bool
pattern_match_ci(const char *pat, const char *name, const char *ci_end)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (;; name++) {
				if (pattern_match_ci(pat + 1, name, ci_end))
					return true;
				if (*name == '\0' ||
				    (*pat == '%' && *name == '/'))
					return false;
			}
		}
		if (*name != *pat && (name >= ci_end ||
				      toupper((unsigned char)*pat) != *name))
			return false;
	}
	return *name == '\0';
}

/* INBOX is case-insensitive (RFC 3501 §5.1), in a pattern too: the
   leading "INBOX" of a name matches "inbox*" and "Inb%" as Dovecot
   has it (add_pattern only normalises a whole "inbox" component). */
static bool
pattern_match(const char *pat, const char *name)
{
	const char *ci_end = name;

	if (strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/'))
		ci_end = name + 5;
	return pattern_match_ci(pat, name, ci_end);
}

static bool
any_match(const struct list_ctx *ctx, const char *name)
{
	unsigned int i;

	for (i = 0; i < ctx->pattern_count; i++) {
		if (pattern_match(ctx->patterns[i], name))
			return true;
	}
	return false;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_subscribed(const struct list_ctx *ctx, const char *name)
{
	return bsearch(&name, ctx->subs, ctx->sub_count, sizeof(char *),
		       name_cmp) != NULL;
}

/* A subscribed name below name (RECURSIVEMATCH's CHILDINFO). */
static bool
has_subscribed_child(const struct list_ctx *ctx, const char *name)
{
	size_t len = strlen(name);
	unsigned int i;

	for (i = 0; i < ctx->sub_count; i++) {
		if (strncmp(ctx->subs[i], name, len) == 0 &&
		    ctx->subs[i][len] == '/')
			return true;
	}
	return false;
}

static void
reply(struct imap_conn *conn, const struct list_ctx *ctx, const char *attrs,
      const char *name, bool childinfo, bool selectable)
{
	buf_t *out = &conn->job_out;

	buf_printf(out, "* %s (%s) \"/\" ", ctx->lsub ? "LSUB" : "LIST",
		   attrs);
	imap_mailbox_name_out(conn, out, name);
	if (childinfo)
		buf_append_str(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_append_str(out, "\r\n");
	/* RFC 5819 §2: STATUS of selectable mailboxes only; a failure
	   just leaves it out. */
	if (ctx->status_items != 0 && selectable)
		(void)imap_status_append(conn, out, name, ctx->status_items);
}

/* " \Sent \Trash" (RFC 6154 §2) for a mailbox's attributes. */
static void
append_uses(buf_t *attrs, unsigned int uses)
{
	if (uses == 0)
		return;
	buf_append_c(attrs, ' ');
	store_special_use_append(attrs, uses);
}

static bool
info_exists(const struct mailbox_info *infos, unsigned int count,
	    const char *name)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (strcmp(infos[i].name, name) == 0)
			return true;
	}
	return false;
}

/*
 * The parents of a subscribed name that nothing else lists. LSUB "%"
 * with "foo/bar" subscribed but not "foo" returns "foo" flagged
 * \Noselect (RFC 3501 §6.3.9; called for names that do not match).
 * LIST (SUBSCRIBED RECURSIVEMATCH) returns a matching parent that does
 * not exist as \NonExistent with CHILDINFO (RFC 5258 §3.5; existing
 * ones come from the mailbox list). *done keeps each parent once.
 */
static void
subscribed_parents(struct imap_conn *conn, const struct list_ctx *ctx,
		   const char *name, const struct mailbox_info *infos,
		   unsigned int count, char ***done, unsigned int *done_count)
{
	const char *p;
	unsigned int i;
	char *parent;

	for (p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		parent = i_strndup(name, (size_t)(p - name));
		for (i = 0; i < *done_count; i++) {
			if (strcmp((*done)[i], parent) == 0)
				break;
		}
		if (i < *done_count || !any_match(ctx, parent) ||
		    is_subscribed(ctx, parent) ||
		    (!ctx->lsub && info_exists(infos, count, parent))) {
			free(parent);
			continue;
		}
		reply(conn, ctx, ctx->lsub ? "\\Noselect" : "\\NonExistent",
		      parent, !ctx->lsub, false);
		*done = i_realloc(*done, (*done_count + 1) * sizeof(**done));
		(*done)[(*done_count)++] = parent;
	}
}

/* LSUB, and LIST (SUBSCRIBED): subscriptions, existing or not. */
static void
list_subscribed(struct imap_conn *conn, struct list_ctx *ctx,
		const struct mailbox_info *infos, unsigned int count)
{
	unsigned int i, j, parent_count = 0;
	char **parents = NULL;
	buf_t attrs = BUF_INIT;

	for (i = 0; i < ctx->sub_count; i++) {
		const char *name = ctx->subs[i];
		const struct mailbox_info *info = NULL;
		unsigned int use = 0;

		if (!any_match(ctx, name)) {
			if (ctx->lsub)
				subscribed_parents(conn, ctx, name, infos,
						   count, &parents,
						   &parent_count);
			continue;
		}
		for (j = 0; j < count && info == NULL; j++) {
			if (strcmp(infos[j].name, name) == 0) {
				info = &infos[j];
				use = ctx->uses != NULL ? ctx->uses[j] : 0;
			}
		}
		if (ctx->sel_special_use && use == 0)
			continue;
		buf_reset(&attrs);
		if (ctx->lsub) {
			/* as Dovecot: () also for names that do not
			   exist; \Noselect for hierarchy nodes; the
			   special use too */
			buf_append_str(&attrs, info != NULL &&
				       !info->selectable ? "\\Noselect" : "");
			if (use != 0 && attrs.len > 0)
				buf_append_c(&attrs, ' ');
			store_special_use_append(&attrs, use);
		} else {
			buf_append_str(&attrs, "\\Subscribed");
			if (info == NULL)
				buf_append_str(&attrs, " \\NonExistent");
			else if (!info->selectable)
				buf_append_str(&attrs, " \\Noselect");
			if (info != NULL)
				buf_append_str(&attrs, info->has_children ?
					       " \\HasChildren" :
					       " \\HasNoChildren");
			append_uses(&attrs, use);
		}
		reply(conn, ctx, buf_cstr(&attrs), name, false,
		      info != NULL && info->selectable);
	}
	/* RECURSIVEMATCH: matching parents of subscribed children. */
	for (i = 0; ctx->sel_recursive && i < count; i++) {
		if (ctx->sel_special_use || is_subscribed(ctx, infos[i].name) ||
		    !any_match(ctx, infos[i].name) ||
		    !has_subscribed_child(ctx, infos[i].name))
			continue;
		reply(conn, ctx, infos[i].selectable ? "\\HasChildren" :
		      "\\Noselect \\HasChildren", infos[i].name, true,
		      infos[i].selectable);
	}
	for (i = 0; ctx->sel_recursive && !ctx->sel_special_use &&
		    i < ctx->sub_count; i++)
		subscribed_parents(conn, ctx, ctx->subs[i], infos, count,
				   &parents, &parent_count);
	store_names_free(&parents, parent_count);
	buf_deinit(&attrs);
}

static void
list_run(struct imap_conn *conn)
{
	struct list_ctx *ctx = conn->job_ctx;
	struct mailbox_info *infos;
	unsigned int i, count;
	buf_t attrs = BUF_INIT;
	const char *verb = ctx->lsub ? "LSUB" : "LIST";

	if (store_mailbox_list(conn->account, &infos, &count) < 0 ||
	    imap_acl_list_shared(conn, ctx->patterns, ctx->pattern_count,
				 &infos, &count) < 0 ||
	    ((ctx->lsub || ctx->sel_subscribed || ctx->ret_subscribed) &&
	     store_subscription_list(conn->account, &ctx->subs,
				     &ctx->sub_count) < 0)) {
		imap_job_store_error(conn, verb);
		return;
	}
	{
		/* RFC 6154 §5.1: the attributes go into LIST replies, asked
		   for or not, and LSUB's (as Dovecot; clients look for
		   them). */
		ctx->uses = i_malloc(sizeof(unsigned int) * (count + 1));
		if (store_mailbox_special_uses(conn->account, infos, count,
					       ctx->uses) < 0) {
			store_mailbox_infos_free(&infos, count);
			imap_job_store_error(conn, verb);
			return;
		}
	}
	if (ctx->sub_count > 0)
		qsort(ctx->subs, ctx->sub_count, sizeof(char *), name_cmp);
	if (ctx->lsub || ctx->sel_subscribed) {
		list_subscribed(conn, ctx, infos, count);
	} else {
		for (i = 0; i < count; i++) {
			if (!any_match(ctx, infos[i].name) ||
			    (ctx->sel_special_use && ctx->uses[i] == 0))
				continue;
			buf_reset(&attrs);
			if (!infos[i].selectable)
				buf_append_str(&attrs, "\\Noselect ");
			buf_append_str(&attrs, infos[i].has_children ?
				       "\\HasChildren" : "\\HasNoChildren");
			if (ctx->ret_subscribed &&
			    is_subscribed(ctx, infos[i].name))
				buf_append_str(&attrs, " \\Subscribed");
			append_uses(&attrs, ctx->uses[i]);
			reply(conn, ctx, buf_cstr(&attrs), infos[i].name,
			      false, infos[i].selectable);
		}
	}
	buf_deinit(&attrs);
	store_mailbox_infos_free(&infos, count);
	imap_job_tagged(conn, "OK %s completed.", verb);
}

/* ---- parsing ---- */

/* RFC 5258 selection options: 0, or -1. */
static int
parse_selection(struct list_ctx *ctx, const struct imap_arg *arg)
{
	const struct imap_arg *list;
	unsigned int count, i;
	const char *opt;

	(void)imap_arg_get_list(arg, &list, &count);
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &opt))
			return -1;
		if (strcasecmp(opt, "SUBSCRIBED") == 0)
			ctx->sel_subscribed = true;
		else if (strcasecmp(opt, "RECURSIVEMATCH") == 0)
			ctx->sel_recursive = true;
		else if (strcasecmp(opt, "SPECIAL-USE") == 0)
			ctx->sel_special_use = true;
		else if (strcasecmp(opt, "REMOTE") != 0)
			return -1;      /* RFC 5258 §3: unknown is BAD */
	}
	/* §3: RECURSIVEMATCH needs another option that it modifies;
	   with SPECIAL-USE alone it changes nothing (as Dovecot) */
	return ctx->sel_recursive && !ctx->sel_subscribed &&
		!ctx->sel_special_use ? -1 : 0;
}

/* RETURN (...): 0, or -1. */
static int
parse_return(struct list_ctx *ctx, const struct imap_arg *arg)
{
	const struct imap_arg *list;
	unsigned int count, i;
	const char *opt;

	if (!imap_arg_get_list(arg, &list, &count))
		return -1;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &opt))
			return -1;
		if (strcasecmp(opt, "SUBSCRIBED") == 0) {
			ctx->ret_subscribed = true;
		} else if (strcasecmp(opt, "CHILDREN") == 0 ||
			   strcasecmp(opt, "SPECIAL-USE") == 0) {
			/* always returned */
		} else if (strcasecmp(opt, "STATUS") == 0 && i + 1 < count) {
			if (imap_status_items_parse(&list[++i],
						    &ctx->status_items) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int
add_pattern(struct imap_conn *conn, struct list_ctx *ctx, const char *ref,
	    const char *pat)
{
	char *full, *utf8;
	size_t rlen = strlen(ref);

	if (ctx->pattern_count == LIST_PATTERNS_MAX)
		return -1;
	if (rlen == 0 || pat[0] == '/')
		full = i_strdup(pat);
	else
		full = i_strdup_printf("%s%s%s", ref,
				       ref[rlen - 1] == '/' ? "" : "/", pat);
	utf8 = imap_mailbox_pattern_in(conn, full);
	free(full);
	if (utf8 == NULL)
		return -1;
	imap_mailbox_normalise_inbox(utf8);
	ctx->patterns = i_realloc(ctx->patterns, (ctx->pattern_count + 1) *
				  sizeof(char *));
	ctx->patterns[ctx->pattern_count++] = utf8;
	return 0;
}

/* Parses the arguments into ctx: NULL, or the BAD text. */
static const char *
parse_list(struct imap_conn *conn, struct list_ctx *ctx)
{
	const struct imap_arg *args = conn->cmd.args, *pats;
	unsigned int count = conn->cmd.arg_count, i = 0, n, j;
	const char *ref, *pat, *word;

	if (!ctx->lsub && count > 0 && args[0].type == IMAP_ARG_LIST) {
		if (parse_selection(ctx, &args[i++]) < 0)
			return "Invalid LIST selection options.";
	}
	if (i + 2 > count || !imap_arg_get_astring(&args[i++], &ref))
		return "LIST needs a reference and a pattern.";
	if (!ctx->lsub && imap_arg_get_list(&args[i], &pats, &n)) {
		i++;
		for (j = 0; j < n; j++) {
			if (!imap_arg_get_astring(&pats[j], &pat) ||
			    add_pattern(conn, ctx, ref, pat) < 0)
				return "Invalid pattern.";
		}
	} else if (!imap_arg_get_astring(&args[i++], &pat) ||
		   add_pattern(conn, ctx, ref, pat) < 0) {
		return "Invalid pattern: not valid modified UTF-7.";
	}
	if (i < count) {
		if (ctx->lsub || !imap_arg_get_atom(&args[i], &word) ||
		    strcasecmp(word, "RETURN") != 0 || i + 2 != count ||
		    parse_return(ctx, &args[i + 1]) < 0)
			return "Invalid LIST return options.";
	}
	return NULL;
}

static void
list_common(struct imap_conn *conn, bool lsub)
{
	struct list_ctx *ctx = i_malloc(sizeof(*ctx));
	const char *error, *ref, *pat;

	ctx->lsub = lsub;
	conn->job_ctx = ctx;
	if (!lsub && conn->cmd.arg_count == 2 &&
	    imap_arg_get_astring(&conn->cmd.args[0], &ref) &&
	    imap_arg_get_astring(&conn->cmd.args[1], &pat) &&
	    pat[0] == '\0') {
		/* RFC 3501 §6.3.8: the hierarchy delimiter. */
		list_ctx_free(conn);
		imap_conn_reply(conn, "* LIST (\\Noselect) \"/\" \"\"");
		imap_conn_tagged(conn, "OK LIST completed.");
		return;
	}
	if ((error = parse_list(conn, ctx)) != NULL) {
		list_ctx_free(conn);
		imap_conn_bad(conn, error);
		return;
	}
	imap_conn_job(conn, list_run, list_ctx_free, IMAP_SYNC_FULL);
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
