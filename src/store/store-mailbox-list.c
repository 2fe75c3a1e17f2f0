/* SPDX-License-Identifier: MIT */
/*
 * store-mailbox-list.c: the mailboxes of an account by name
 * (store-mailbox.h "mailbox management"): where their files are, listing,
 * create, delete, rename, classes and subscriptions. The files of a new
 * mailbox are made by mailbox-check.c (mailbox_files_create); this file
 * decides names, hierarchy directories and the per-mailbox entries of
 * account.info (store-info.c), and deletes and renames mailboxes so
 * that one that fails changes nothing.
 *
 * In a multi-mailbox account "Work/Projects" is Work/Projects.mbox (or
 * the directory Work/Projects.mdir/) under NAME.macnt/; "Work/" is a plain
 * hierarchy directory, and Work.mbox may sit beside it. Every change runs
 * under the exclusive account lock.
 */
#include "store-private.h"
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"
#include "store-acl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_CLASS_MAX 64
#define INFO_SUBSCRIPTION "Subscription"
#define ACCOUNT_FILE_PREFIX "account."

static const char *const format_names[] = {
	[MAILBOX_FORMAT_MBOX] = "mbox",
	[MAILBOX_FORMAT_MDIR] = "mdir",
};

const char *
store_mailbox_format_name(enum mailbox_format format)
{
	i_assert(format < N_ELEMENTS(format_names));
	return format_names[format];
}

int
store_mailbox_format_parse(const char *name, enum mailbox_format *format_r)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(format_names); i++) {
		if (strcasecmp(name, format_names[i]) == 0) {
			*format_r = (enum mailbox_format)i;
			return 0;
		}
	}
	return store_set_error(STORE_ERROR_INVALID,
			       "unknown mailbox format (use mbox or mdir)");
}

/* ---- paths ---- */

static enum mailbox_format
single_format(struct account *account)
{
	return account->type == ACCOUNT_TYPE_MDIR ?
		MAILBOX_FORMAT_MDIR : MAILBOX_FORMAT_MBOX;
}

char *
account_mailbox_path(struct account *account, const char *name,
		     enum mailbox_format format)
{
	const char *ext = format == MAILBOX_FORMAT_MDIR ? "mdir" : "mbox";
	char *norm, *path;

	if (account->type != ACCOUNT_TYPE_MULTI)
		return i_strdup_printf("%s.%s", account->path, ext);
	norm = store_mailbox_name_normalize(name);
	path = i_strdup_printf("%s/%s.%s", account->path, norm, ext);
	free(norm);
	return path;
}

char *
account_mailbox_index_path(struct account *account, const char *name,
			   enum mailbox_format format)
{
	char *path = account_mailbox_path(account, name, format);
	char *ret = i_strdup_printf("%s.idx", path);

	free(path);
	return ret;
}

/* The expunge history beside a mailbox (QRESYNC). Caller frees. */
static char *
history_path(struct account *account, const char *name,
	     enum mailbox_format format)
{
	char *path = account_mailbox_path(account, name, format);
	char *ret = expunge_log_path(path);

	free(path);
	return ret;
}

/* The header cache beside a mailbox (mailbox-cache.c). Caller frees. */
static char *
cache_path(struct account *account, const char *name,
	   enum mailbox_format format)
{
	char *path = account_mailbox_path(account, name, format);
	char *ret = mailbox_cache_path(path);

	free(path);
	return ret;
}

/* The hierarchy directory of name in a multi account. Caller frees. */
static char *
hierarchy_path(struct account *account, const char *norm)
{
	return i_strdup_printf("%s/%s", account->path, norm);
}

static bool
path_is(const char *path, mode_t type)
{
	struct stat st;

	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Validates name and returns its normalised form. */
static int
name_prepare(const char *name, char **norm_r)
{
	if (store_check_mailbox_name(name) == -1)
		return -1;
	*norm_r = store_mailbox_name_normalize(name);
	return 0;
}

/* Like account_mailbox_locate for a validated, normalised name. */
static int
locate_norm(struct account *account, const char *norm,
	    enum mailbox_format *format_r, char **path_r)
{
	static const enum mailbox_format formats[] = {
		MAILBOX_FORMAT_MBOX, MAILBOX_FORMAT_MDIR,
	};
	static const mode_t types[] = { S_IFREG, S_IFDIR };
	unsigned int i;
	char *path;

	if (account->type != ACCOUNT_TYPE_MULTI &&
	    strcmp(norm, "INBOX") != 0)
		return store_set_error(STORE_ERROR_NOT_FOUND,
			"no such mailbox (single-mailbox accounts have "
			"INBOX only)");
	for (i = 0; i < N_ELEMENTS(formats); i++) {
		if (account->type != ACCOUNT_TYPE_MULTI &&
		    formats[i] != single_format(account))
			continue;
		path = account_mailbox_path(account, norm, formats[i]);
		if (path_is(path, types[i])) {
			*format_r = formats[i];
			if (path_r != NULL)
				*path_r = path;
			else
				free(path);
			return 0;
		}
		free(path);
	}
	return store_set_error(STORE_ERROR_NOT_FOUND, "no such mailbox: %s",
			       norm);
}

int
account_mailbox_locate(struct account *account, const char *name,
		       enum mailbox_format *format_r, char **path_r)
{
	char *norm;
	int ret;

	if (name_prepare(name, &norm) == -1)
		return -1;
	ret = locate_norm(account, norm, format_r, path_r);
	free(norm);
	return ret;
}

bool
store_mailbox_exists(struct account *account, const char *name)
{
	enum mailbox_format format;

	if (account_mailbox_locate(account, name, &format, NULL) == 0)
		return true;
	store_clear_error();
	return false;
}

int
store_mailbox_get_format(struct account *account, const char *name,
			 enum mailbox_format *format_r)
{
	return account_mailbox_locate(account, name, format_r, NULL);
}

/* Removes what a failed creation of norm left (the caller holds the
   exclusive lock and knew the name to be free), keeping the error. */
static void
mailbox_create_undo(struct account *account, const char *norm,
		    enum mailbox_format format)
{
	char *path = account_mailbox_path(account, norm, format);
	char *idx = account_mailbox_index_path(account, norm, format);
	enum store_error code;
	const char *text;
	char *saved;

	code = store_error(&text);
	saved = i_strdup(text);
	if (store_remove_tree(path) == 0 &&
	    (vfs_unlink(idx) == 0 || errno == ENOENT))
		(void)vfs_fsync_parent(path);
	store_set_error(code, "%s", saved);
	free(saved);
	free(path);
	free(idx);
}

/* Creates the mailbox files and a fresh meta (new UIDVALIDITY); on
   failure nothing of it is left. */
static int
mailbox_create_locked(struct account *account, const char *norm,
		      enum mailbox_format format, const char *class)
{
	struct mailbox_meta meta;

	memset(&meta, 0, sizeof(meta));
	meta.uidvalidity = account_new_uidvalidity(account);
	meta.uidnext = 1;
	meta.highestmodseq = 1;
	meta.class = (char *)class;
	if (mailbox_files_create(account, norm, format) == -1 ||
	    account_mailbox_meta_set(account, norm, &meta) == -1) {
		mailbox_create_undo(account, norm, format);
		return -1;
	}
	return 0;
}

int
account_inbox_repair(struct account *account)
{
	enum mailbox_format format;
	int ret = 0;

	if (account->type != ACCOUNT_TYPE_MULTI)
		return 0;
	if (locate_norm(account, "INBOX", &format, NULL) == 0)
		return 0;
	store_clear_error();
	if (account_lock(account, true) == -1)
		return -1;
	if (locate_norm(account, "INBOX", &format, NULL) == -1) {
		store_clear_error();
		log_warnx("%s: INBOX missing, creating an empty one",
			  account->path);
		ret = mailbox_create_locked(account, "INBOX",
					    MAILBOX_FORMAT_MBOX, NULL);
	}
	account_unlock(account);
	return ret;
}

/* ---- list ---- */

struct list_ctx {
	struct account *account;
	struct mailbox_info *infos;
	unsigned int count;
};

/* Mailbox names sort by component: '/' below every other byte. */
static int
mailbox_name_cmp(const char *a, const char *b)
{
	bool ia = strcmp(a, "INBOX") == 0, ib = strcmp(b, "INBOX") == 0;
	unsigned char ca, cb;

	if (ia || ib)
		return ia && ib ? 0 : ia ? -1 : 1;
	for (;; a++, b++) {
		ca = *a == '/' ? 1 : (unsigned char)*a;
		cb = *b == '/' ? 1 : (unsigned char)*b;
		if (ca != cb || ca == '\0')
			return (int)ca - (int)cb;
	}
}

static int
info_cmp(const void *a, const void *b)
{
	const struct mailbox_info *ia = a, *ib = b;

	return mailbox_name_cmp(ia->name, ib->name);
}

static void
list_add(struct list_ctx *ctx, char *name, bool selectable,
	 enum mailbox_format format, bool has_children)
{
	struct mailbox_info *info;

	ctx->infos = i_realloc(ctx->infos,
			       sizeof(*ctx->infos) * (ctx->count + 1));
	info = &ctx->infos[ctx->count++];
	memset(info, 0, sizeof(*info));
	info->name = name;
	info->selectable = selectable;
	info->format = format;
	info->has_children = has_children;
}

/* Whether a directory entry could be a mailbox file or node of ours: a
   valid component, canonical INBOX spelling at the top. */
static bool
entry_name_ok(const char *stem, size_t len, bool top)
{
	if (!store_mailbox_component_valid(stem, len, top))
		return false;
	if (top && len == 5 && strncasecmp(stem, "INBOX", 5) == 0)
		return strncmp(stem, "INBOX", 5) == 0;
	return true;
}

static bool
has_suffix(const char *name, size_t len, const char *suffix)
{
	size_t slen = strlen(suffix);

	return len > slen && strcmp(name + len - slen, suffix) == 0;
}

static int list_dir(struct list_ctx *ctx, const char *rel,
		    unsigned int depth, bool *has_children_r);

/* One directory entry of list_dir. */
static void
list_entry(struct list_ctx *ctx, int dirfd, const char *rel,
	   unsigned int depth, const char *entry, bool *has_children_r)
{
	size_t len = strlen(entry);
	bool top = rel[0] == '\0', children = false;
	struct stat st;
	char *name;

	if (entry[0] == '.' || (top && strncasecmp(entry, ACCOUNT_FILE_PREFIX,
				strlen(ACCOUNT_FILE_PREFIX)) == 0))
		return;
	/* Symbolic links are never followed out of the account. */
	if (fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (S_ISREG(st.st_mode) && has_suffix(entry, len, ".mbox") &&
	    entry_name_ok(entry, len - 5, top)) {
		name = i_strdup_printf("%s%.*s", rel, (int)(len - 5), entry);
		list_add(ctx, name, true, MAILBOX_FORMAT_MBOX, false);
		*has_children_r = true;
	} else if (S_ISDIR(st.st_mode) && has_suffix(entry, len, ".mdir") &&
		   entry_name_ok(entry, len - 5, top)) {
		name = i_strdup_printf("%s%.*s", rel, (int)(len - 5), entry);
		list_add(ctx, name, true, MAILBOX_FORMAT_MDIR, false);
		*has_children_r = true;
	} else if (S_ISDIR(st.st_mode) && entry_name_ok(entry, len, top) &&
		   depth < STORE_MAILBOX_DEPTH_MAX) {
		name = i_strdup_printf("%s%s/", rel, entry);
		(void)list_dir(ctx, name, depth + 1, &children);
		name[strlen(name) - 1] = '\0';
		list_add(ctx, name, false, MAILBOX_FORMAT_MBOX, children);
		*has_children_r = true;
	}
}

/* Lists the directory rel ("" or "Work/") of the account. */
static int
list_dir(struct list_ctx *ctx, const char *rel, unsigned int depth,
	 bool *has_children_r)
{
	char *path = i_strdup_printf("%s/%s", ctx->account->path, rel);
	struct dirent *d;
	DIR *dirp;

	*has_children_r = false;
	if ((dirp = opendir(path)) == NULL) {
		store_set_syscall_error("opendir", path);
		free(path);
		return -1;
	}
	while ((d = readdir(dirp)) != NULL)
		list_entry(ctx, dirfd(dirp), rel, depth, d->d_name,
			   has_children_r);
	closedir(dirp);
	free(path);
	return 0;
}

/* Sorts and folds "Work" the mailbox and "Work" the node into one. */
static void
list_merge(struct list_ctx *ctx)
{
	struct mailbox_info *prev, *cur;
	unsigned int i, out = 0;

	if (ctx->count > 1)
		qsort(ctx->infos, ctx->count, sizeof(*ctx->infos), info_cmp);
	for (i = 0; i < ctx->count; i++) {
		cur = &ctx->infos[i];
		prev = out > 0 ? &ctx->infos[out - 1] : NULL;
		if (prev == NULL || strcmp(prev->name, cur->name) != 0) {
			ctx->infos[out++] = *cur;
			continue;
		}
		/* Same name twice: a node and a mailbox (or, damaged, both
		   formats: the first sorted wins). */
		if (!prev->selectable) {
			prev->selectable = cur->selectable;
			prev->format = cur->format;
		}
		prev->has_children = prev->has_children || cur->has_children;
		free(cur->name);
	}
	ctx->count = out;
}

static void
list_add_classes(struct list_ctx *ctx)
{
	const struct dict_value *boxes, *entry;
	struct dict_value *info;
	const char *class;
	unsigned int i;

	if (account_info_read(ctx->account, &info) == -1) {
		store_clear_error();
		return;
	}
	boxes = dict_get(info, "Mailboxes");
	for (i = 0; boxes != NULL && boxes->type == DICT_TYPE_DICT &&
	     i < ctx->count; i++) {
		entry = dict_get(boxes, ctx->infos[i].name);
		if (entry == NULL || entry->type != DICT_TYPE_DICT)
			continue;
		class = dict_get_str(entry, "Class");
		if (class != NULL && class[0] != '\0')
			ctx->infos[i].class = i_strdup(class);
	}
	dict_value_free(&info);
}

int
store_mailbox_list(struct account *account, struct mailbox_info **infos_r,
		   unsigned int *count_r)
{
	struct list_ctx ctx;
	enum mailbox_format format;
	bool children;

	memset(&ctx, 0, sizeof(ctx));
	ctx.account = account;
	if (account->type == ACCOUNT_TYPE_MULTI) {
		/* what deletes of processes that are gone left behind */
		store_cleanup_temp(account->path);
	}
	if (account->type != ACCOUNT_TYPE_MULTI) {
		if (locate_norm(account, "INBOX", &format, NULL) == 0)
			list_add(&ctx, i_strdup("INBOX"), true, format, false);
		store_clear_error();
	} else if (list_dir(&ctx, "", 0, &children) == -1) {
		store_mailbox_infos_free(&ctx.infos, ctx.count);
		return -1;
	}
	list_merge(&ctx);
	list_add_classes(&ctx);
	*infos_r = ctx.infos;
	*count_r = ctx.count;
	return 0;
}

void
store_mailbox_infos_free(struct mailbox_info **_infos, unsigned int count)
{
	struct mailbox_info *infos = *_infos;
	unsigned int i;

	if (infos == NULL)
		return;
	for (i = 0; i < count; i++) {
		free(infos[i].name);
		free(infos[i].class);
	}
	free(infos);
	*_infos = NULL;
}

/* ---- create ---- */

static int
check_class(const char *class)
{
	const unsigned char *p;

	if (class == NULL)
		return 0;
	if (strlen(class) > STORE_CLASS_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"mailbox class longer than %d bytes", STORE_CLASS_MAX);
	for (p = (const unsigned char *)class; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return store_set_error(STORE_ERROR_INVALID,
				"mailbox class must be printable ASCII "
				"without spaces (like IPF.Appointment)");
	}
	return 0;
}

/* Creates the hierarchy directories above norm, durably. *created_r
   (may be NULL) gets the relative path of the topmost one made here, or
   NULL when all existed; caller frees. */
static int
make_parents(struct account *account, const char *norm, char **created_r)
{
	const char *slash;
	char *path;
	int ret = 0;

	if (created_r != NULL)
		*created_r = NULL;
	for (slash = strchr(norm, '/'); slash != NULL && ret == 0;
	     slash = strchr(slash + 1, '/')) {
		path = i_strdup_printf("%s/%.*s", account->path,
				       (int)(slash - norm), norm);
		if (created_r != NULL && *created_r == NULL &&
		    !path_is(path, S_IFDIR))
			*created_r = i_strndup(norm, (size_t)(slash - norm));
		ret = store_mkdir(path);
		free(path);
	}
	return ret;
}

/* Takes back the hierarchy directories make_parents() made for norm:
   those from created (a prefix of norm) down, when empty. */
static void
remove_created_parents(struct account *account, const char *norm,
		       const char *created)
{
	char *rel = i_strdup(norm), *slash;
	size_t min = strlen(created);
	char *path;

	while ((slash = strrchr(rel, '/')) != NULL) {
		*slash = '\0';
		if (strlen(rel) < min)
			break;
		path = hierarchy_path(account, rel);
		(void)vfs_rmdir(path);
		free(path);
	}
	free(rel);
}

static int
refuse_single(struct account *account)
{
	if (account->type == ACCOUNT_TYPE_MULTI)
		return 0;
	return store_set_error(STORE_ERROR_NOT_POSSIBLE,
			       "single-mailbox accounts have INBOX only");
}

int
store_mailbox_create(struct account *account, const char *name,
		     enum mailbox_format format, const char *class)
{
	enum mailbox_format old_format;
	char *norm, *created = NULL;
	int ret = -1;

	if (name_prepare(name, &norm) == -1)
		return -1;
	if (class != NULL && class[0] == '\0')
		class = NULL;
	if (check_class(class) == -1 || account_lock(account, true) == -1) {
		free(norm);
		return -1;
	}
	if (locate_norm(account, norm, &old_format, NULL) == 0) {
		store_set_error(STORE_ERROR_EXISTS, "mailbox %s exists", norm);
		goto out;
	}
	store_clear_error();
	if (refuse_single(account) == 0 &&
	    make_parents(account, norm, &created) == 0)
		ret = mailbox_create_locked(account, norm, format, class);
	if (ret == -1 && created != NULL)
		remove_created_parents(account, norm, created);
	free(created);
out:
	account_unlock(account);
	free(norm);
	return ret;
}

/* ---- delete ---- */

/* Removes the now-empty hierarchy directories of norm and its parents
   (rmdir fails on any that still hold something). */
static void
remove_empty_dirs(struct account *account, const char *norm)
{
	char *rel = i_strdup(norm), *slash, *path;

	for (;;) {
		path = hierarchy_path(account, rel);
		if (vfs_rmdir(path) == -1 && errno != ENOENT) {
			free(path);
			break;
		}
		free(path);
		if ((slash = strrchr(rel, '/')) == NULL)
			break;
		*slash = '\0';
	}
	free(rel);
}

/* Whether the hierarchy directory of norm lists anything. */
static bool
node_has_children(struct account *account, const char *norm)
{
	struct list_ctx ctx;
	char *rel = i_strdup_printf("%s/", norm);
	bool children = false;

	memset(&ctx, 0, sizeof(ctx));
	ctx.account = account;
	if (list_dir(&ctx, rel, 1, &children) == -1)
		store_clear_error();
	store_mailbox_infos_free(&ctx.infos, ctx.count);
	free(rel);
	return children;
}

/* DELETE of a name that is only a hierarchy node: allowed when nothing
   is below it (RFC 3501 §6.3.4). */
static int
delete_node(struct account *account, const char *norm)
{
	char *path = hierarchy_path(account, norm);
	int ret;

	if (!path_is(path, S_IFDIR))
		ret = store_set_error(STORE_ERROR_NOT_FOUND,
				      "no such mailbox: %s", norm);
	else if (node_has_children(account, norm))
		ret = store_set_error(STORE_ERROR_NOT_POSSIBLE,
			"%s holds no messages and has children", norm);
	else if ((ret = store_remove_tree(path)) == 0 &&
		 vfs_fsync_parent(path) == -1) {
		/* Not known to be gone: the node comes back. */
		ret = store_set_syscall_error("fsync", path);
		if (vfs_mkdir(path, 0700) == -1)
			log_warn("mkdir(%s) to take back a delete", path);
	}
	free(path);
	return ret;
}

/*
 * The mailbox's file (or .mdir directory) is renamed to a hidden temp
 * name in the account directory, that is made durable, then the
 * account.info entry goes. If a step fails the file is renamed back, so
 * a failed delete changes nothing. Only then are the file and the index
 * cache removed; that is cleanup: a failure is logged, and what is left
 * under the temp name goes with a later listing (store_cleanup_temp). A
 * crash between the steps leaves the temp (removed the same way) and at
 * most an account.info entry too many, which a new mailbox of the name
 * overwrites.
 */
static int
delete_mailbox(struct account *account, const char *norm,
	       enum mailbox_format format)
{
	struct store_renames renames;
	char *path = account_mailbox_path(account, norm, format);
	char *tmp = store_temp_path(account->path, "delete");
	char *idx;
	int ret = -1;

	memset(&renames, 0, sizeof(renames));
	store_renames_add(&renames, i_strdup(path), i_strdup(tmp), false);
	if (store_renames_run(&renames) == -1)
		goto out;
	if (vfs_fsync_parent(path) == -1)
		store_set_syscall_error("fsync", path);
	else if (account_mailbox_meta_remove(account, norm) == 0)
		ret = 0;
	if (ret == -1) {
		store_renames_undo(&renames);
		(void)vfs_fsync_parent(path);
		goto out;
	}
	if (store_remove_tree(tmp) == -1) {
		log_warnx("%s: mailbox %s deleted, %s is left for later",
			  account->path, norm, tmp);
		store_clear_error();
	}
	idx = account_mailbox_index_path(account, norm, format);
	if (vfs_unlink(idx) == -1 && errno != ENOENT) {
		/* A stale cache is detected and rebuilt; go on. */
		store_set_syscall_error("unlink", idx);
		store_clear_error();
	}
	free(idx);
	/* a history left behind is harmless (another UIDVALIDITY) */
	idx = history_path(account, norm, format);
	if (vfs_unlink(idx) == -1 && errno != ENOENT) {
		store_set_syscall_error("unlink", idx);
		store_clear_error();
	}
	free(idx);
	idx = cache_path(account, norm, format);
	if (vfs_unlink(idx) == -1 && errno != ENOENT) {
		store_set_syscall_error("unlink", idx);
		store_clear_error();
	}
	free(idx);
out:
	store_renames_free(&renames);
	free(path);
	free(tmp);
	return ret;
}

int
store_mailbox_delete(struct account *account, const char *name)
{
	enum mailbox_format format;
	char *norm;
	int ret;

	if (name_prepare(name, &norm) == -1)
		return -1;
	if (strcmp(norm, "INBOX") == 0) {
		free(norm);
		return store_set_error(STORE_ERROR_NOT_POSSIBLE,
				       "INBOX cannot be deleted");
	}
	if (account_lock(account, true) == -1) {
		free(norm);
		return -1;
	}
	if (locate_norm(account, norm, &format, NULL) == 0)
		ret = delete_mailbox(account, norm, format);
	else if (account->type != ACCOUNT_TYPE_MULTI)
		ret = -1;
	else {
		store_clear_error();
		ret = delete_node(account, norm);
	}
	if (ret == 0)
		remove_empty_dirs(account, norm);
	account_unlock(account);
	free(norm);
	return ret;
}

/* ---- rename ---- */

struct rename_ctx {
	struct account *account;
	const char *old_name, *new_name;
	bool inbox;             /* old is INBOX: children stay */
	bool old_selectable;
	enum mailbox_format format;
};

static int
fsync_parent_dirs(const char *path1, const char *path2)
{
	if (vfs_fsync_parent(path1) == -1)
		return store_set_syscall_error("fsync", path1);
	if (vfs_fsync_parent(path2) == -1)
		return store_set_syscall_error("fsync", path2);
	return 0;
}

/* Takes back what rename_files() did (a failure is logged). */
static void
rename_files_undo(struct rename_ctx *ctx, struct store_renames *renames)
{
	char *from = hierarchy_path(ctx->account, ctx->old_name);
	char *to = hierarchy_path(ctx->account, ctx->new_name);

	store_renames_undo(renames);
	(void)vfs_fsync_parent(from);
	(void)vfs_fsync_parent(to);
	free(from);
	free(to);
}

/* Moves the mailbox file, its index and (unless INBOX) its hierarchy
   directory with the children in it, durably; on failure the renames
   are taken back. renames (empty) gets them, for a later undo. */
static int
rename_files(struct rename_ctx *ctx, struct store_renames *renames)
{
	struct account *account = ctx->account;
	char *from, *to;
	int ret = 0;

	if (ctx->old_selectable) {
		store_renames_add(renames,
			account_mailbox_path(account, ctx->old_name,
					     ctx->format),
			account_mailbox_path(account, ctx->new_name,
					     ctx->format), false);
		store_renames_add(renames,
			account_mailbox_index_path(account, ctx->old_name,
						   ctx->format),
			account_mailbox_index_path(account, ctx->new_name,
						   ctx->format), true);
		store_renames_add(renames,
			history_path(account, ctx->old_name, ctx->format),
			history_path(account, ctx->new_name, ctx->format),
			true);
		store_renames_add(renames,
			cache_path(account, ctx->old_name, ctx->format),
			cache_path(account, ctx->new_name, ctx->format), true);
	}
	from = hierarchy_path(account, ctx->old_name);
	to = hierarchy_path(account, ctx->new_name);
	if (!ctx->inbox)
		store_renames_add(renames, i_strdup(from), i_strdup(to), true);
	if (store_renames_run(renames) == -1)
		ret = -1;
	else if (fsync_parent_dirs(from, to) == -1) {
		ret = -1;
		rename_files_undo(ctx, renames);
	}
	free(from);
	free(to);
	return ret;
}

static int
rename_check(struct rename_ctx *ctx)
{
	struct account *account = ctx->account;
	size_t len = strlen(ctx->old_name);
	enum mailbox_format format;
	char *path;
	bool old_node, new_node;

	if (strcmp(ctx->new_name, "INBOX") == 0 ||
	    strcmp(ctx->old_name, ctx->new_name) == 0)
		return store_set_error(STORE_ERROR_EXISTS, "mailbox %s exists",
				       ctx->new_name);
	if (!ctx->inbox && strncmp(ctx->new_name, ctx->old_name, len) == 0 &&
	    ctx->new_name[len] == '/')
		return store_set_error(STORE_ERROR_NOT_POSSIBLE,
			"a mailbox cannot be moved into its own child");
	path = hierarchy_path(account, ctx->old_name);
	old_node = !ctx->inbox && path_is(path, S_IFDIR);
	free(path);
	path = hierarchy_path(account, ctx->new_name);
	new_node = path_is(path, S_IFDIR);
	free(path);
	ctx->old_selectable = locate_norm(account, ctx->old_name,
					  &ctx->format, NULL) == 0;
	store_clear_error();
	if (!ctx->old_selectable && !old_node)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "no such mailbox: %s", ctx->old_name);
	if (new_node || locate_norm(account, ctx->new_name, &format,
				    NULL) == 0)
		return store_set_error(STORE_ERROR_EXISTS, "mailbox %s exists",
				       ctx->new_name);
	store_clear_error();
	return 0;
}

/*
 * Crash-safe order: copy the account.info entries to the new names, move
 * the files, then drop the old entries (or, for INBOX, give the new empty
 * INBOX a fresh entry). A crash in between leaves an entry too many,
 * never a mailbox without its UIDVALIDITY and UIDNEXT; an INBOX rename
 * cut short before the new INBOX exists is finished by the next open
 * (account_inbox_repair).
 *
 * A step that fails takes back the ones before it: the files are renamed
 * back, account.info is put back as it was and new hierarchy directories
 * are removed, so a failed rename changes nothing.
 */
static int
rename_locked(struct rename_ctx *ctx)
{
	struct account *account = ctx->account;
	enum meta_move_flags flags = META_MOVE_KEEP_OLD;
	struct account_info_backup backup;
	struct store_renames renames;
	char *slash, *created = NULL;
	int ret = -1;

	memset(&backup, 0, sizeof(backup));
	memset(&renames, 0, sizeof(renames));
	if (!ctx->inbox)
		flags |= META_MOVE_CHILDREN;
	if (rename_check(ctx) == -1 ||
	    account_info_backup(account, &backup) == -1)
		goto out;
	if (make_parents(account, ctx->new_name, &created) == -1 ||
	    account_mailbox_meta_move(account, ctx->old_name, ctx->new_name,
				      flags) == -1)
		goto undo_parents;
	if (rename_files(ctx, &renames) == -1)
		goto undo_meta;
	if (ctx->inbox)
		ret = mailbox_create_locked(account, "INBOX", ctx->format,
					    NULL);
	else
		ret = account_mailbox_meta_remove_ex(account, ctx->old_name,
						     true);
	if (ret == -1) {
		rename_files_undo(ctx, &renames);
		goto undo_meta;
	}
	if ((slash = strrchr(ctx->old_name, '/')) != NULL) {
		*slash = '\0';
		remove_empty_dirs(account, ctx->old_name);
		*slash = '/';
	}
	goto out;
undo_meta:
	account_info_restore(account, &backup);
undo_parents:
	if (created != NULL)
		remove_created_parents(account, ctx->new_name, created);
out:
	store_renames_free(&renames);
	account_info_backup_free(&backup);
	free(created);
	return ret;
}

int
store_mailbox_rename(struct account *account, const char *old_name,
		     const char *new_name)
{
	struct rename_ctx ctx;
	char *old_norm = NULL, *new_norm = NULL;
	int ret = -1;

	if (name_prepare(old_name, &old_norm) == -1 ||
	    name_prepare(new_name, &new_norm) == -1 ||
	    refuse_single(account) == -1)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.account = account;
	ctx.old_name = old_norm;
	ctx.new_name = new_norm;
	ctx.inbox = strcmp(old_norm, "INBOX") == 0;
	if (account_lock(account, true) == -1)
		goto out;
	ret = rename_locked(&ctx);
	account_unlock(account);
out:
	free(old_norm);
	free(new_norm);
	return ret;
}

/* ---- classes ---- */

int
store_mailbox_get_class(struct account *account, const char *name,
			char **class_r)
{
	struct mailbox_meta meta;
	enum mailbox_format format;
	char *norm;
	int ret;

	*class_r = NULL;
	if (name_prepare(name, &norm) == -1)
		return -1;
	ret = locate_norm(account, norm, &format, NULL);
	if (ret == 0)
		ret = account_mailbox_meta_get(account, norm, &meta);
	if (ret == 0) {
		*class_r = meta.class;
		meta.class = NULL;
		mailbox_meta_free(&meta);
	}
	free(norm);
	return ret;
}

int
store_mailbox_set_class(struct account *account, const char *name,
			const char *class)
{
	struct mailbox_meta meta;
	enum mailbox_format format;
	char *norm;
	int ret;

	if (class != NULL && class[0] == '\0')
		class = NULL;
	if (check_class(class) == -1 || name_prepare(name, &norm) == -1)
		return -1;
	if (account_lock(account, true) == -1) {
		free(norm);
		return -1;
	}
	ret = locate_norm(account, norm, &format, NULL);
	if (ret == 0)
		ret = account_mailbox_meta_get(account, norm, &meta);
	if (ret == 0) {
		free(meta.class);
		meta.class = i_strdup(class);
		ret = account_mailbox_meta_set(account, norm, &meta);
		mailbox_meta_free(&meta);
	}
	account_unlock(account);
	free(norm);
	return ret;
}

/* ---- subscriptions ---- */

/* The Subscription array's strings, in file order. */
static void
subscriptions_get(const struct dict_value *info, char ***names_r,
		  unsigned int *count_r)
{
	const struct dict_value *subs = dict_get(info, INFO_SUBSCRIPTION);
	unsigned int i;

	*names_r = NULL;
	*count_r = 0;
	if (subs == NULL || subs->type != DICT_TYPE_ARRAY)
		return;
	for (i = 0; i < subs->count; i++) {
		if (subs->items[i]->type == DICT_TYPE_STRING)
			store_names_add(names_r, count_r, i_strdup(
				(const char *)subs->items[i]->data));
	}
}

/* Sorts, drops duplicates and writes the array back. */
static void
subscriptions_put(struct dict_value *info, char **names, unsigned int count)
{
	struct dict_value *subs = dict_new_array();
	unsigned int i;

	store_names_sort(names, count);
	for (i = 0; i < count; i++) {
		if (i == 0 || strcmp(names[i - 1], names[i]) != 0)
			dict_array_add(subs, dict_new_string(names[i]));
	}
	dict_set(info, INFO_SUBSCRIPTION, subs);
}

int
store_subscription_list(struct account *account, char ***names_r,
			unsigned int *count_r)
{
	struct dict_value *info;
	unsigned int i;

	if (account_info_read(account, &info) == -1)
		return -1;
	subscriptions_get(info, names_r, count_r);
	dict_value_free(&info);
	store_names_sort(*names_r, *count_r);
	for (i = 1; i < *count_r; i++) {
		if (strcmp((*names_r)[i - 1], (*names_r)[i]) != 0)
			continue;
		free((*names_r)[i - 1]);
		memmove(*names_r + i - 1, *names_r + i,
			sizeof(char *) * (*count_r - i));
		(*count_r)--;
		i--;
	}
	return 0;
}

struct subscription_ctx {
	const char *name;
	bool add;
};

static int
subscription_update_cb(struct dict_value *info, void *context)
{
	struct subscription_ctx *ctx = context;
	unsigned int i, count, found = 0;
	char **names;

	subscriptions_get(info, &names, &count);
	for (i = 0; i < count; i++) {
		if (strcmp(names[i], ctx->name) != 0)
			continue;
		found++;
		if (!ctx->add)
			names[i][0] = '\0';
	}
	if (!ctx->add && found == 0) {
		store_names_free(&names, count);
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "not subscribed: %s", ctx->name);
	}
	if (ctx->add && found == 0)
		store_names_add(&names, &count, i_strdup(ctx->name));
	/* Removed entries are "" now: drop them while writing. */
	for (i = 0; i < count;) {
		if (names[i][0] != '\0') {
			i++;
			continue;
		}
		free(names[i]);
		names[i] = names[--count];
	}
	subscriptions_put(info, names, count);
	store_names_free(&names, count);
	return 0;
}

/* Like name_prepare; other users' mailboxes ("~user/box", RFC 4314 §4:
   SUBSCRIBE needs no right) may be subscribed too. */
static int
subscription_name_prepare(const char *name, char **norm_r)
{
	char *user, *box;

	if (name[0] != '~')
		return name_prepare(name, norm_r);
	if (store_shared_name_split(name, &user, &box) == -1)
		return -1;
	*norm_r = i_strdup_printf("~%s/%s", user, box);
	free(user);
	free(box);
	return 0;
}

static int
subscription_update(struct account *account, const char *name, bool add)
{
	struct subscription_ctx ctx;
	char *norm;
	int ret;

	if (subscription_name_prepare(name, &norm) == -1)
		return -1;
	ctx.name = norm;
	ctx.add = add;
	ret = account_info_update(account, subscription_update_cb, &ctx);
	free(norm);
	return ret;
}

int
store_subscription_add(struct account *account, const char *name)
{
	return subscription_update(account, name, true);
}

int
store_subscription_remove(struct account *account, const char *name)
{
	return subscription_update(account, name, false);
}
