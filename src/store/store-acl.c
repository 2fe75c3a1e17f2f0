/* SPDX-License-Identifier: MIT */
/*
 * store-acl.c: mailbox ACLs (RFC 4314 rights) and shared names
 * "~user/box". In src/store, beside store-info.c, whose account.info it
 * reads and updates: each mailbox's entry under Mailboxes may hold
 *
 *   ACL = { anyone = lr; bob = lrswi; "ann@example.org" = lrs; };
 *
 * so an ACL moves with its mailbox on RENAME and disappears with it on
 * DELETE (RFC 4314 §4) without code of its own. Readers take no lock
 * (the file is replaced atomically); changes run under the exclusive
 * account lock through account_info_update().
 */
#include "store-acl.h"
#include "store-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INFO_MAILBOXES "Mailboxes"
#define INFO_ACL "ACL"

/* RFC 4314 §2.1.1: the obsolete "create" and "delete" rights. */
#define ACL_VIRTUAL_C STORE_ACL_CREATE
#define ACL_VIRTUAL_D (STORE_ACL_DELETE_MAILBOX | STORE_ACL_DELETE_MSG | \
		       STORE_ACL_EXPUNGE)

int
store_acl_rights_parse(const char *text, unsigned int *rights_r)
{
	const char *p;

	*rights_r = 0;
	for (; *text != '\0'; text++) {
		if (*text == 'c')
			*rights_r |= ACL_VIRTUAL_C;
		else if (*text == 'd')
			*rights_r |= ACL_VIRTUAL_D;
		else if ((p = strchr(STORE_ACL_LETTERS, *text)) != NULL)
			*rights_r |= 1u << (p - STORE_ACL_LETTERS);
		else
			return store_set_error(STORE_ERROR_INVALID,
					       "unknown right");
	}
	return 0;
}

/* The letters of rights, without the virtual ones (as stored). */
static void
append_letters(buf_t *out, unsigned int rights)
{
	unsigned int i;

	for (i = 0; STORE_ACL_LETTERS[i] != '\0'; i++) {
		if ((rights & (1u << i)) != 0)
			buf_append_c(out, STORE_ACL_LETTERS[i]);
	}
}

void
store_acl_rights_append(buf_t *out, unsigned int rights)
{
	append_letters(out, rights);
	if ((rights & ACL_VIRTUAL_C) != 0)
		buf_append_c(out, 'c');
	if ((rights & ACL_VIRTUAL_D) != 0)
		buf_append_c(out, 'd');
}

/* ---- reading ---- */

/* The ACL dictionary of norm's entry in info, or NULL. */
static const struct dict_value *
info_acl(const struct dict_value *info, const char *norm)
{
	const struct dict_value *boxes, *entry, *acl;

	boxes = dict_get(info, INFO_MAILBOXES);
	if (boxes == NULL || boxes->type != DICT_TYPE_DICT)
		return NULL;
	entry = dict_get(boxes, norm);
	if (entry == NULL || entry->type != DICT_TYPE_DICT)
		return NULL;
	acl = dict_get(entry, INFO_ACL);
	return acl != NULL && acl->type == DICT_TYPE_DICT ? acl : NULL;
}

/* Rights of one stored value; an unreadable value grants nothing. */
static unsigned int
acl_value_rights(const struct dict_value *value)
{
	unsigned int rights;

	if (value == NULL || value->type != DICT_TYPE_STRING ||
	    store_acl_rights_parse((const char *)value->data, &rights) < 0) {
		store_clear_error();
		return 0;
	}
	return rights;
}

static int
name_prepare(const char *name, char **norm_r)
{
	if (store_check_mailbox_name(name) < 0)
		return -1;
	*norm_r = store_mailbox_name_normalize(name);
	return 0;
}

int
store_mailbox_acl_get(struct account *account, const char *name,
		      struct store_acl_entry **entries_r,
		      unsigned int *count_r)
{
	const struct dict_value *acl;
	struct dict_value *info;
	struct store_acl_entry *entries = NULL;
	unsigned int i, count = 0;
	char *norm;

	*entries_r = NULL;
	*count_r = 0;
	if (name_prepare(name, &norm) < 0)
		return -1;
	if (!store_mailbox_exists(account, norm)) {
		free(norm);
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "no such mailbox");
	}
	if (account_info_read(account, &info) < 0) {
		free(norm);
		return -1;
	}
	acl = info_acl(info, norm);
	if (acl != NULL && acl->count > 0)
		entries = i_malloc(acl->count * sizeof(*entries));
	for (i = 0; acl != NULL && i < acl->count; i++) {
		unsigned int rights = acl_value_rights(acl->items[i]);

		if (rights == 0)
			continue;
		entries[count].identifier = i_strdup(acl->keys[i]);
		entries[count++].rights = rights;
	}
	dict_value_free(&info);
	free(norm);
	*entries_r = entries;
	*count_r = count;
	return 0;
}

void
store_acl_entries_free(struct store_acl_entry **_entries, unsigned int count)
{
	struct store_acl_entry *entries = *_entries;
	unsigned int i;

	if (entries == NULL)
		return;
	for (i = 0; i < count; i++)
		free(entries[i].identifier);
	free(entries);
	*_entries = NULL;
}

static unsigned int
acl_rights_of(const struct dict_value *acl, const char *user)
{
	if (acl == NULL)
		return 0;
	/* RFC 4314 §2: without negative rights, the union. */
	return acl_value_rights(dict_get(acl, STORE_ACL_ANYONE)) |
		acl_value_rights(dict_get(acl, user));
}

int
store_mailbox_rights(struct account *account, const char *name,
		     const char *user, unsigned int *rights_r)
{
	struct dict_value *info;
	char *norm;

	*rights_r = 0;
	if (strcmp(user, store_account_name(account)) == 0) {
		*rights_r = STORE_ACL_ALL;
		return 0;
	}
	if (name_prepare(name, &norm) < 0)
		return -1;
	if (account_info_read(account, &info) < 0) {
		free(norm);
		return -1;
	}
	*rights_r = acl_rights_of(info_acl(info, norm), user);
	dict_value_free(&info);
	free(norm);
	return 0;
}

int
store_acl_mailboxes(struct account *account, const char *user,
		    unsigned int need, char ***names_r, unsigned int *count_r)
{
	const struct dict_value *boxes, *entry;
	struct dict_value *info;
	unsigned int i, rights;

	*names_r = NULL;
	*count_r = 0;
	if (account_info_read(account, &info) < 0)
		return -1;
	boxes = dict_get(info, INFO_MAILBOXES);
	for (i = 0; boxes != NULL && boxes->type == DICT_TYPE_DICT &&
	     i < boxes->count; i++) {
		entry = boxes->items[i];
		if (entry->type != DICT_TYPE_DICT)
			continue;
		rights = acl_rights_of(dict_get(entry, INFO_ACL), user);
		if ((rights & need) != need || need == 0 ||
		    store_check_mailbox_name(boxes->keys[i]) < 0) {
			store_clear_error();
			continue;
		}
		/* An entry may outlive its files (storage-format.md). */
		if (store_mailbox_exists(account, boxes->keys[i]))
			store_names_add(names_r, count_r,
					i_strdup(boxes->keys[i]));
	}
	dict_value_free(&info);
	store_names_sort(*names_r, *count_r);
	return 0;
}

/* ---- changing ---- */

struct acl_update_ctx {
	const char *norm;
	const char *identifier;
	enum store_acl_mode mode;
	unsigned int rights;
	bool delete;
};

static int
acl_update_cb(struct dict_value *info, void *context)
{
	struct acl_update_ctx *ctx = context;
	struct dict_value *boxes, *entry, *acl;
	unsigned int rights;
	buf_t text = BUF_INIT;

	boxes = dict_get(info, INFO_MAILBOXES);
	entry = boxes == NULL || boxes->type != DICT_TYPE_DICT ? NULL :
		dict_get(boxes, ctx->norm);
	if (entry == NULL || entry->type != DICT_TYPE_DICT)
		return store_set_error(STORE_ERROR_CORRUPT,
				       "mailbox has no account.info entry");
	acl = dict_get(entry, INFO_ACL);
	if (acl == NULL || acl->type != DICT_TYPE_DICT) {
		dict_set(entry, INFO_ACL, dict_new_dict());
		acl = dict_get(entry, INFO_ACL);
	}
	rights = acl_value_rights(dict_get(acl, ctx->identifier));
	if (ctx->delete)
		rights = 0;
	else if (ctx->mode == STORE_ACL_MODE_ADD)
		rights |= ctx->rights;
	else if (ctx->mode == STORE_ACL_MODE_REMOVE)
		rights &= ~ctx->rights;
	else
		rights = ctx->rights;
	if (rights == 0) {
		dict_set(acl, ctx->identifier, NULL);
	} else {
		if (dict_get(acl, ctx->identifier) == NULL &&
		    acl->count >= STORE_ACL_ENTRIES_MAX)
			return store_set_error(STORE_ERROR_NOT_POSSIBLE,
					       "too many ACL entries");
		append_letters(&text, rights);
		dict_set_str(acl, ctx->identifier, buf_cstr(&text));
		buf_deinit(&text);
	}
	if (acl->count == 0)
		dict_set(entry, INFO_ACL, NULL);
	return 0;
}

/* "anyone" or the canonical name of an existing account other than
   the owner. Caller frees. */
static int
identifier_canonical(struct account *account, const char *identifier,
		     char **canonical_r)
{
	struct account *other;
	int ret = 0;

	if (strcasecmp(identifier, STORE_ACL_ANYONE) == 0) {
		*canonical_r = i_strdup(STORE_ACL_ANYONE);
		return 0;
	}
	if (store_check_account_name(identifier) < 0)
		return -1;
	if (store_account_open(store_account_store(account), identifier,
			       &other) < 0)
		return -1;
	if (strcmp(store_account_name(other), store_account_name(account)) == 0)
		ret = store_set_error(STORE_ERROR_NOT_POSSIBLE,
				      "the owner's rights cannot be changed");
	else
		*canonical_r = i_strdup(store_account_name(other));
	store_account_close(&other);
	return ret;
}

/* Under the exclusive lock: the mailbox's account.info entry exists
   (an ACL beside no UIDVALIDITY would read as a malformed entry). */
static int
ensure_meta_entry(struct account *account, const char *norm)
{
	struct mailbox_meta meta;
	struct dict_value *info;
	const struct dict_value *boxes, *entry = NULL;
	int ret = 0;

	if (account_info_read(account, &info) < 0)
		return -1;
	boxes = dict_get(info, INFO_MAILBOXES);
	if (boxes != NULL && boxes->type == DICT_TYPE_DICT)
		entry = dict_get(boxes, norm);
	if (entry == NULL || entry->type != DICT_TYPE_DICT ||
	    dict_get(entry, "UIDValidity") == NULL) {
		if (account_mailbox_meta_get(account, norm, &meta) < 0 ||
		    account_mailbox_meta_set(account, norm, &meta) < 0)
			ret = -1;
		mailbox_meta_free(&meta);
	}
	dict_value_free(&info);
	return ret;
}

static int
acl_update(struct account *account, const char *name,
	   struct acl_update_ctx *ctx, const char *identifier)
{
	char *norm = NULL, *canonical = NULL;
	int ret = -1;

	if (name_prepare(name, &norm) < 0 ||
	    identifier_canonical(account, identifier, &canonical) < 0)
		goto out;
	ctx->norm = norm;
	ctx->identifier = canonical;
	if (account_lock(account, true) < 0)
		goto out;
	if (!store_mailbox_exists(account, norm))
		ret = store_set_error(STORE_ERROR_NOT_FOUND, "no such mailbox");
	else if (ensure_meta_entry(account, norm) == 0)
		ret = account_info_update(account, acl_update_cb, ctx);
	account_unlock(account);
out:
	free(norm);
	free(canonical);
	return ret;
}

int
store_mailbox_acl_set(struct account *account, const char *name,
		      const char *identifier, enum store_acl_mode mode,
		      unsigned int rights)
{
	struct acl_update_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.mode = mode;
	ctx.rights = rights & STORE_ACL_ALL;
	return acl_update(account, name, &ctx, identifier);
}

int
store_mailbox_acl_delete(struct account *account, const char *name,
			 const char *identifier)
{
	struct acl_update_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.delete = true;
	return acl_update(account, name, &ctx, identifier);
}

/* ---- shared names ---- */

int
store_shared_name_split(const char *name, char **user_r, char **box_r)
{
	const char *slash;
	char *user;

	if (name[0] != '~' || (slash = strchr(name + 1, '/')) == NULL ||
	    slash == name + 1 ||
	    (size_t)(slash - name - 1) > STORE_ACCOUNT_NAME_MAX + 1 +
	    STORE_DOMAIN_NAME_MAX)
		return store_set_error(STORE_ERROR_INVALID,
				       "invalid shared mailbox name");
	user = i_strndup(name + 1, (size_t)(slash - name - 1));
	if (store_check_account_name(user) < 0 ||
	    store_check_mailbox_name(slash + 1) < 0) {
		free(user);
		return -1;
	}
	*user_r = user;
	*box_r = store_mailbox_name_normalize(slash + 1);
	return 0;
}
