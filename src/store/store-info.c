/* SPDX-License-Identifier: MIT */
/*
 * store-info.c: account.info (NAME.info for single-mailbox accounts), the
 * account's volatile but durable state in the dictionary format:
 *
 *   {
 *     LastUIDValidity = 1700000123;
 *     Mailboxes = {
 *       INBOX = { UIDValidity = 1700000001; UIDNext = 42;
 *                 HighestModSeq = 97; Keywords = ($Forwarded, Work); };
 *       Calendar = { ...; Class = IPF.Appointment; };
 *     };
 *     Subscription = (INBOX, Calendar);
 *   }
 *
 * Every change is a read-modify-write under the exclusive account lock,
 * written with vfs_write_file_atomic, so readers (who take no lock) see
 * the old or the new file, never a mix. Keys we do not know (a file
 * written by CommuniGate Pro) are kept as they are.
 *
 * A file that does not parse is moved aside to "<file>.corrupt" on the
 * next change and the account starts over with fresh UIDVALIDITYs, which
 * tells clients to forget their caches: the honest outcome when UIDNEXT
 * values are lost (the mailbox files still hold every message and UID).
 */
#include "store-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INFO_MAILBOXES "Mailboxes"
#define INFO_LAST_UIDVALIDITY "LastUIDValidity"

int
account_info_read(struct account *account, struct dict_value **info_r)
{
	if (store_dict_file_read(account->info_path, info_r) == 0)
		return 0;
	if (store_error(NULL) != STORE_ERROR_CORRUPT)
		return -1;
	/* Logged already; readers carry on as if it were empty. */
	store_clear_error();
	*info_r = dict_new_dict();
	return 0;
}

/* Reads account.info for a change; a corrupt file is moved aside. */
static int
info_read_for_update(struct account *account, struct dict_value **info_r)
{
	char *aside;
	int ret = 0;

	if (store_dict_file_read(account->info_path, info_r) == 0)
		return 0;
	if (store_error(NULL) != STORE_ERROR_CORRUPT)
		return -1;
	store_clear_error();
	aside = i_strdup_printf("%s.corrupt", account->info_path);
	log_warnx("%s: does not parse, moved to %s; mailboxes get new "
		  "UIDVALIDITY values", account->info_path, aside);
	if (vfs_rename(account->info_path, aside) == -1)
		ret = store_set_syscall_error("rename", account->info_path);
	else
		*info_r = dict_new_dict();
	free(aside);
	return ret;
}

int
account_info_update(struct account *account, account_info_update_cb_t *cb,
		    void *context)
{
	struct dict_value *info;
	int ret;

	if (account_lock(account, true) == -1)
		return -1;
	ret = info_read_for_update(account, &info);
	if (ret == 0) {
		ret = cb(info, context);
		if (ret == 0)
			ret = store_dict_file_write(account->info_path, info);
		dict_value_free(&info);
	}
	account_unlock(account);
	return ret;
}

int
account_info_backup(struct account *account,
		    struct account_info_backup *backup_r)
{
	memset(backup_r, 0, sizeof(*backup_r));
	if (vfs_read_file(account->info_path, &backup_r->data,
			  &backup_r->len) == 0) {
		backup_r->existed = true;
		return 0;
	}
	if (errno != ENOENT)
		return store_set_syscall_error("read", account->info_path);
	return 0;
}

void
account_info_restore(struct account *account,
		     const struct account_info_backup *backup)
{
	const char *syscall, *path;

	i_assert(account->lock_exclusive);
	if (!backup->existed) {
		if (vfs_unlink(account->info_path) == -1 && errno != ENOENT)
			log_warn("unlink(%s) to take back a change",
				 account->info_path);
		return;
	}
	if (vfs_write_file_atomic(account->info_path, backup->data,
				  backup->len) == -1) {
		syscall = vfs_write_failed_syscall(&path);
		log_warn("%s(%s) to take back a change of %s", syscall, path,
			 account->info_path);
	}
}

void
account_info_backup_free(struct account_info_backup *backup)
{
	free(backup->data);
	memset(backup, 0, sizeof(*backup));
}

/* ---- UIDVALIDITY ---- */

static uint64_t
info_get_u64(const struct dict_value *dict, const char *key)
{
	uint64_t n;

	return dict_get_uint(dict, key, &n) == 0 ? n : 0;
}

/* The highest UIDVALIDITY the account has used: LastUIDValidity, or a
   mailbox's when higher (a file from before LastUIDValidity). */
static uint64_t
info_last_uidvalidity(const struct dict_value *info)
{
	const struct dict_value *boxes = dict_get(info, INFO_MAILBOXES);
	uint64_t last = info_get_u64(info, INFO_LAST_UIDVALIDITY), n;
	unsigned int i;

	if (boxes == NULL || boxes->type != DICT_TYPE_DICT)
		return last;
	for (i = 0; i < boxes->count; i++) {
		if (boxes->items[i]->type != DICT_TYPE_DICT)
			continue;
		n = info_get_u64(boxes->items[i], "UIDValidity");
		if (n > last)
			last = n;
	}
	return last;
}

static uint32_t
uidvalidity_next(struct account *account, const struct dict_value *info)
{
	uint64_t last = info_last_uidvalidity(info);
	uint64_t next = (uint64_t)time(NULL);

	if (account->last_uidvalidity > last)
		last = account->last_uidvalidity;
	if (next <= last)
		next = last + 1;
	/* Year 2106 or a damaged file: stay valid, if not distinct. */
	if (next > UINT32_MAX)
		next = UINT32_MAX;
	account->last_uidvalidity = (uint32_t)next;
	return (uint32_t)next;
}

uint32_t
account_new_uidvalidity(struct account *account)
{
	struct dict_value *info;
	uint32_t ret;

	if (account_info_read(account, &info) == -1) {
		/* The clock alone still gives a usable value. */
		store_clear_error();
		info = dict_new_dict();
	}
	ret = uidvalidity_next(account, info);
	dict_value_free(&info);
	return ret;
}

/* ---- mailbox meta ---- */

void
mailbox_meta_free(struct mailbox_meta *meta)
{
	unsigned int i;

	for (i = 0; i < meta->keyword_count; i++)
		i_free(meta->keywords[i]);
	meta->keyword_count = 0;
	i_free(meta->class);
}

static struct dict_value *
meta_to_dict(const struct mailbox_meta *meta)
{
	struct dict_value *dict = dict_new_dict(), *keywords;
	unsigned int i;

	dict_set_uint(dict, "UIDValidity", meta->uidvalidity);
	dict_set_uint(dict, "UIDNext", meta->uidnext);
	dict_set_uint(dict, "HighestModSeq", meta->highestmodseq);
	if (meta->keyword_count > 0) {
		keywords = dict_new_array();
		for (i = 0; i < meta->keyword_count; i++)
			dict_array_add(keywords,
				       dict_new_string(meta->keywords[i]));
		dict_set(dict, "Keywords", keywords);
	}
	if (meta->class != NULL && meta->class[0] != '\0')
		dict_set_str(dict, "Class", meta->class);
	return dict;
}

static int
meta_keywords_from_dict(const struct dict_value *keywords,
			struct mailbox_meta *meta)
{
	unsigned int i;

	if (keywords == NULL)
		return 0;
	if (keywords->type != DICT_TYPE_ARRAY ||
	    keywords->count > STORE_KEYWORDS_MAX)
		return -1;
	for (i = 0; i < keywords->count; i++) {
		if (keywords->items[i]->type != DICT_TYPE_STRING)
			return -1;
		meta->keywords[meta->keyword_count++] =
			i_strdup((const char *)keywords->items[i]->data);
	}
	return 0;
}

/* Fills meta from an entry; -1 when the entry is malformed. */
static int
meta_from_dict(const struct dict_value *dict, struct mailbox_meta *meta)
{
	uint64_t uidvalidity, uidnext, modseq;
	const char *class;

	if (dict->type != DICT_TYPE_DICT ||
	    dict_get_uint(dict, "UIDValidity", &uidvalidity) == -1 ||
	    dict_get_uint(dict, "UIDNext", &uidnext) == -1 ||
	    uidvalidity == 0 || uidvalidity > UINT32_MAX ||
	    uidnext == 0 || uidnext > UINT32_MAX)
		return -1;
	if (dict_get_uint(dict, "HighestModSeq", &modseq) == -1)
		modseq = 1;
	meta->uidvalidity = (uint32_t)uidvalidity;
	meta->uidnext = (uint32_t)uidnext;
	meta->highestmodseq = modseq;
	if (meta_keywords_from_dict(dict_get(dict, "Keywords"), meta) == -1) {
		mailbox_meta_free(meta);
		return -1;
	}
	class = dict_get_str(dict, "Class");
	if (class != NULL && class[0] != '\0')
		meta->class = i_strdup(class);
	return 0;
}

int
account_mailbox_meta_get(struct account *account, const char *name,
			 struct mailbox_meta *meta_r)
{
	const struct dict_value *boxes, *entry = NULL;
	struct dict_value *info;
	char *norm = store_mailbox_name_normalize(name);

	memset(meta_r, 0, sizeof(*meta_r));
	if (account_info_read(account, &info) == -1) {
		free(norm);
		return -1;
	}
	boxes = dict_get(info, INFO_MAILBOXES);
	if (boxes != NULL && boxes->type == DICT_TYPE_DICT)
		entry = dict_get(boxes, norm);
	if (entry != NULL && meta_from_dict(entry, meta_r) == -1) {
		log_warnx("%s: malformed entry for mailbox %s, using a new "
			  "UIDVALIDITY", account->info_path, norm);
		entry = NULL;
	}
	if (entry == NULL) {
		meta_r->uidvalidity = uidvalidity_next(account, info);
		meta_r->uidnext = 1;
		meta_r->highestmodseq = 1;
	}
	dict_value_free(&info);
	free(norm);
	return 0;
}

/* Mailboxes = { ... } of info, created when missing or malformed. */
static struct dict_value *
info_mailboxes(struct dict_value *info)
{
	struct dict_value *boxes = dict_get(info, INFO_MAILBOXES);

	if (boxes == NULL || boxes->type != DICT_TYPE_DICT) {
		dict_set(info, INFO_MAILBOXES, dict_new_dict());
		boxes = dict_get(info, INFO_MAILBOXES);
	}
	return boxes;
}

struct meta_set_ctx {
	const char *name;
	const struct mailbox_meta *meta;
};

/* Keys of a mailbox entry that meta_to_dict() writes; any other key
   (SpecialUse and Metadata of store-metadata.c, keys CommuniGate Pro
   wrote) is kept when the meta is saved. */
static bool
meta_key_known(const char *key)
{
	return strcmp(key, "UIDValidity") == 0 ||
		strcmp(key, "UIDNext") == 0 ||
		strcmp(key, "HighestModSeq") == 0 ||
		strcmp(key, "Keywords") == 0 || strcmp(key, "Class") == 0;
}

static int
meta_set_cb(struct dict_value *info, void *context)
{
	struct meta_set_ctx *ctx = context;
	struct dict_value *boxes = info_mailboxes(info);
	const struct dict_value *old = dict_get(boxes, ctx->name);
	struct dict_value *entry = meta_to_dict(ctx->meta);
	unsigned int i;

	for (i = 0; old != NULL && old->type == DICT_TYPE_DICT &&
	     i < old->count; i++) {
		if (!meta_key_known(old->keys[i]))
			dict_set(entry, old->keys[i], dict_copy(old->items[i]));
	}
	dict_set(boxes, ctx->name, entry);
	/* Deleting and recreating the mailbox must give a new value. */
	if (info_get_u64(info, INFO_LAST_UIDVALIDITY) < ctx->meta->uidvalidity)
		dict_set_uint(info, INFO_LAST_UIDVALIDITY,
			      ctx->meta->uidvalidity);
	return 0;
}

int
account_mailbox_meta_set(struct account *account, const char *name,
			 const struct mailbox_meta *meta)
{
	struct meta_set_ctx ctx;
	char *norm = store_mailbox_name_normalize(name);
	int ret;

	i_assert(meta->uidvalidity != 0);
	i_assert(meta->keyword_count <= STORE_KEYWORDS_MAX);
	ctx.name = norm;
	ctx.meta = meta;
	ret = account_info_update(account, meta_set_cb, &ctx);
	free(norm);
	return ret;
}

/* Whether key is name or (with children) one of its descendants. */
static bool
name_matches(const char *key, const char *name, bool children)
{
	size_t len = strlen(name);

	if (strcmp(key, name) == 0)
		return true;
	return children && strncmp(key, name, len) == 0 && key[len] == '/';
}

struct meta_move_ctx {
	const char *old_name, *new_name;
	enum meta_move_flags flags;
};

static int
meta_move_cb(struct dict_value *info, void *context)
{
	struct meta_move_ctx *ctx = context;
	struct dict_value *boxes = info_mailboxes(info);
	bool children = (ctx->flags & META_MOVE_CHILDREN) != 0;
	unsigned int i, count = boxes->count;
	char **keys = i_malloc(sizeof(char *) * (count + 1));
	char *new_key;

	/* Collect first: dict_set below changes boxes->keys. */
	for (i = 0; i < count; i++)
		keys[i] = i_strdup(boxes->keys[i]);
	for (i = 0; i < count; i++) {
		if (!name_matches(keys[i], ctx->old_name, children))
			continue;
		new_key = i_strdup_printf("%s%s", ctx->new_name,
					  keys[i] + strlen(ctx->old_name));
		dict_set(boxes, new_key, dict_copy(dict_get(boxes, keys[i])));
		if ((ctx->flags & META_MOVE_KEEP_OLD) == 0)
			dict_set(boxes, keys[i], NULL);
		free(new_key);
	}
	for (i = 0; i < count; i++)
		free(keys[i]);
	free(keys);
	return 0;
}

int
account_mailbox_meta_move(struct account *account, const char *old_name,
			  const char *new_name, enum meta_move_flags flags)
{
	struct meta_move_ctx ctx;
	char *old_norm = store_mailbox_name_normalize(old_name);
	char *new_norm = store_mailbox_name_normalize(new_name);
	int ret;

	ctx.old_name = old_norm;
	ctx.new_name = new_norm;
	ctx.flags = flags;
	ret = account_info_update(account, meta_move_cb, &ctx);
	free(old_norm);
	free(new_norm);
	return ret;
}

int
account_mailbox_meta_rename(struct account *account, const char *old_name,
			    const char *new_name)
{
	return account_mailbox_meta_move(account, old_name, new_name,
					 META_MOVE_CHILDREN);
}

struct meta_remove_ctx {
	const char *name;
	bool children;
};

static int
meta_remove_cb(struct dict_value *info, void *context)
{
	struct meta_remove_ctx *ctx = context;
	struct dict_value *boxes = info_mailboxes(info);
	unsigned int i;

	for (i = boxes->count; i-- > 0;) {
		if (name_matches(boxes->keys[i], ctx->name, ctx->children))
			dict_set(boxes, boxes->keys[i], NULL);
	}
	return 0;
}

int
account_mailbox_meta_remove_ex(struct account *account, const char *name,
			       bool children)
{
	struct meta_remove_ctx ctx;
	char *norm = store_mailbox_name_normalize(name);
	int ret;

	ctx.name = norm;
	ctx.children = children;
	ret = account_info_update(account, meta_remove_cb, &ctx);
	free(norm);
	return ret;
}

int
account_mailbox_meta_remove(struct account *account, const char *name)
{
	return account_mailbox_meta_remove_ex(account, name, false);
}
