/* SPDX-License-Identifier: MIT */
/*
 * store-account.c: accounts (store-account.h) and the account lock
 * (store-private.h). An account of the main domain lives in Accounts/,
 * one of a secondary domain in Domains/<domain>/:
 *
 *   NAME.macnt/                   multi-mailbox account: account.settings,
 *                                 account.info, account.lock, mailboxes
 *   NAME.settings, NAME.info,     single-mailbox account whose INBOX is
 *   NAME.lock, NAME.mbox|.mdir    NAME.mbox or NAME.mdir/
 *
 * Creating, deleting and renaming accounts runs under the store's
 * administration lock. A multi account is built in a hidden temp
 * directory and renamed into place, so it appears whole or not at all;
 * deleting renames it away first. Layout: docs/storage-format.md; locks:
 * docs/architecture.md.
 */
#include "store-private.h"
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* A lock file replaced under us is re-opened at most this often. */
#define ACCOUNT_LOCK_TRIES 10
#define STORE_SETTING_KEY_MAX 128
#define UPPER_CASE "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static const char *const account_type_names[] = {
	[ACCOUNT_TYPE_MULTI] = "multi",
	[ACCOUNT_TYPE_MBOX] = "mbox",
	[ACCOUNT_TYPE_MDIR] = "mdir",
};

/* A parsed "user[@domain]". */
struct account_name {
	char *user;
	char *domain;
	char *canonical;
	char *dir;              /* the domain's accounts directory */
	bool main_domain;
};

const char *
store_account_type_name(enum account_type type)
{
	i_assert(type < N_ELEMENTS(account_type_names));
	return account_type_names[type];
}

int
store_account_type_parse(const char *name, enum account_type *type_r)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(account_type_names); i++) {
		if (strcasecmp(name, account_type_names[i]) == 0) {
			*type_r = (enum account_type)i;
			return 0;
		}
	}
	return store_set_error(STORE_ERROR_INVALID,
		"unknown account type (use multi, mbox or mdir)");
}

static void
account_name_free(struct account_name *an)
{
	free(an->user);
	free(an->domain);
	free(an->canonical);
	free(an->dir);
	memset(an, 0, sizeof(*an));
}

/* Validates and splits name; an unknown domain is NOT_FOUND. */
static int
account_name_parse(struct store *store, const char *name,
		   struct account_name *an)
{
	char *lower, *at;

	memset(an, 0, sizeof(*an));
	if (store_check_account_name(name) == -1)
		return -1;
	lower = store_str_lower(name);
	at = strchr(lower, '@');
	if (at != NULL)
		*at++ = '\0';
	an->user = i_strdup(lower);
	if (at == NULL || store_domain_is_main(store, at)) {
		an->main_domain = true;
		an->domain = i_strdup(store_main_domain(store));
		an->canonical = i_strdup(an->user);
	} else if (!store_domain_exists(store, at)) {
		store_set_error(STORE_ERROR_NOT_FOUND, "unknown domain: %s",
				at);
		free(lower);
		account_name_free(an);
		return -1;
	} else {
		an->domain = i_strdup(at);
		an->canonical = i_strdup_printf("%s@%s", an->user, at);
	}
	an->dir = store_domain_dir(store, an->main_domain ? NULL : an->domain);
	free(lower);
	return 0;
}

static bool
path_is(const char *path, mode_t type)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Which kind of account user is in dir; -1 NOT_FOUND when none. */
static int
account_detect_type(const struct account_name *an, enum account_type *type_r)
{
	char *base = i_strdup_printf("%s/%s", an->dir, an->user);
	char *path;
	int ret = 0;

	path = i_strdup_printf("%s.macnt", base);
	if (path_is(path, S_IFDIR))
		*type_r = ACCOUNT_TYPE_MULTI;
	else {
		free(path);
		path = i_strdup_printf("%s.settings", base);
		if (!path_is(path, S_IFREG))
			ret = store_set_error(STORE_ERROR_NOT_FOUND,
					      "no such account: %s",
					      an->canonical);
		else {
			free(path);
			path = i_strdup_printf("%s.mdir", base);
			*type_r = path_is(path, S_IFDIR) ?
				ACCOUNT_TYPE_MDIR : ACCOUNT_TYPE_MBOX;
		}
	}
	free(path);
	free(base);
	return ret;
}

/* Sets account's paths for type with its files at base (".../NAME" for
   single accounts, the .macnt directory for multi ones). */
static void
account_set_paths(struct account *account, const char *base,
		  enum account_type type)
{
	free(account->path);
	free(account->settings_path);
	free(account->info_path);
	free(account->lock_path);
	account->type = type;
	account->path = i_strdup(base);
	if (type == ACCOUNT_TYPE_MULTI) {
		account->settings_path = i_strdup_printf("%s/account.settings",
							 base);
		account->info_path = i_strdup_printf("%s/account.info", base);
		account->lock_path = i_strdup_printf("%s/account.lock", base);
	} else {
		account->settings_path = i_strdup_printf("%s.settings", base);
		account->info_path = i_strdup_printf("%s.info", base);
		account->lock_path = i_strdup_printf("%s.lock", base);
	}
}

static struct account *
account_alloc(struct store *store, const struct account_name *an,
	      enum account_type type, const char *base)
{
	struct account *account = i_malloc(sizeof(*account));

	account->store = store;
	account->name = i_strdup(an->canonical);
	account->user = i_strdup(an->user);
	account->domain = i_strdup(an->domain);
	account->main_domain = an->main_domain;
	account->lock_fd = -1;
	account_set_paths(account, base, type);
	return account;
}

/* ".../NAME.macnt" or ".../NAME" for an account of type. Caller frees. */
static char *
account_base_path(const struct account_name *an, enum account_type type)
{
	return type == ACCOUNT_TYPE_MULTI ?
		i_strdup_printf("%s/%s.macnt", an->dir, an->user) :
		i_strdup_printf("%s/%s", an->dir, an->user);
}

static int
account_open_name(struct store *store, const struct account_name *an,
		  struct account **account_r)
{
	enum account_type type;
	char *base;

	if (account_detect_type(an, &type) == -1)
		return -1;
	base = account_base_path(an, type);
	*account_r = account_alloc(store, an, type, base);
	free(base);
	return 0;
}

int
store_account_open(struct store *store, const char *name,
		   struct account **account_r)
{
	struct account_name an;
	int ret;

	if (account_name_parse(store, name, &an) == -1)
		return -1;
	ret = account_open_name(store, &an, account_r);
	account_name_free(&an);
	if (ret == 0 && account_inbox_repair(*account_r) == -1) {
		store_account_close(account_r);
		return -1;
	}
	return ret;
}

void
store_account_close(struct account **_account)
{
	struct account *account = *_account;

	if (account == NULL)
		return;
	*_account = NULL;
	i_assert(account->lock_depth == 0);
	free(account->name);
	free(account->user);
	free(account->domain);
	free(account->path);
	free(account->settings_path);
	free(account->info_path);
	free(account->lock_path);
	free(account);
}

struct store *
store_account_store(struct account *account)
{
	return account->store;
}

const char *
store_account_name(struct account *account)
{
	return account->name;
}

const char *
store_account_domain(struct account *account)
{
	return account->domain;
}

enum account_type
store_account_type(struct account *account)
{
	return account->type;
}

/* ---- the account lock ---- */

/* Opens the lock file, creating it only while the account exists. */
static int
account_lock_open(struct account *account)
{
	int fd;
	bool exists;

	fd = open(account->lock_path, O_RDONLY | O_CLOEXEC);
	if (fd != -1 || errno != ENOENT) {
		if (fd == -1)
			store_set_syscall_error("open", account->lock_path);
		return fd;
	}
	if (account->type == ACCOUNT_TYPE_MULTI)
		exists = path_is(account->path, S_IFDIR);
	else
		exists = path_is(account->settings_path, S_IFREG);
	if (!exists) {
		store_set_error(STORE_ERROR_NOT_FOUND,
				"account %s was deleted or renamed",
				account->name);
		return -1;
	}
	fd = vfs_open(account->lock_path, O_RDWR | O_CREAT, 0600);
	if (fd == -1 && errno == ENOENT)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "account %s was deleted",
				       account->name);
	if (fd == -1)
		store_set_syscall_error("open", account->lock_path);
	return fd;
}

/* Whether fd still is the file at the lock path (not unlinked or
   replaced while we waited). */
static int
account_lock_fd_current(struct account *account, int fd, bool *current_r)
{
	struct stat st1, st2;

	if (fstat(fd, &st1) == -1)
		return store_set_syscall_error("fstat", account->lock_path);
	if (stat(account->lock_path, &st2) == -1) {
		if (errno != ENOENT)
			return store_set_syscall_error("stat",
						       account->lock_path);
		*current_r = false;
		return 0;
	}
	*current_r = st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino;
	return 0;
}

int
account_lock(struct account *account, bool exclusive)
{
	unsigned int try;
	bool current;
	int fd;

	if (account->lock_depth > 0) {
		/* Upgrading a shared hold would deadlock two holders. */
		i_assert(!exclusive || account->lock_exclusive);
		account->lock_depth++;
		return 0;
	}
	for (try = 0; try < ACCOUNT_LOCK_TRIES; try++) {
		if ((fd = account_lock_open(account)) == -1)
			return -1;
		while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) == -1) {
			if (errno != EINTR) {
				store_set_syscall_error("flock",
							account->lock_path);
				close(fd);
				return -1;
			}
		}
		if (account_lock_fd_current(account, fd, &current) == -1) {
			close(fd);
			return -1;
		}
		if (current) {
			account->lock_fd = fd;
			account->lock_depth = 1;
			account->lock_exclusive = exclusive;
			return 0;
		}
		close(fd);
	}
	return store_set_error(STORE_ERROR_TEMP,
			       "account %s: lock file keeps changing",
			       account->name);
}

void
account_unlock(struct account *account)
{
	i_assert(account->lock_depth > 0);
	if (--account->lock_depth > 0)
		return;
	/* close() drops the flock. */
	close(account->lock_fd);
	account->lock_fd = -1;
	account->lock_exclusive = false;
}

/* ---- settings ---- */

int
account_settings_read(struct account *account, struct dict_value **settings_r)
{
	return store_dict_file_read(account->settings_path, settings_r);
}

int
account_settings_write(struct account *account,
		       const struct dict_value *settings)
{
	return store_dict_file_write(account->settings_path, settings);
}

/* Keys whose values are secrets: never printed, never returned. */
static const char *const secret_keys[] = {
	"CryptPassword", "SCRAM-SHA-256", "Password",
};

static bool
setting_is_secret(const char *key)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(secret_keys); i++) {
		if (strcasecmp(key, secret_keys[i]) == 0)
			return true;
	}
	return false;
}

char *
store_account_settings_text(struct account *account)
{
	struct dict_value *settings;
	buf_t text = BUF_INIT;
	unsigned int i;
	size_t len;

	if (account_settings_read(account, &settings) == -1)
		return NULL;
	for (i = 0; i < settings->count; i++) {
		if (setting_is_secret(settings->keys[i]))
			dict_set(settings, settings->keys[i],
				 dict_new_string("(hidden)"));
	}
	dict_print(&text, settings, true);
	dict_value_free(&settings);
	return (char *)buf_steal(&text, &len);
}

char *
store_account_setting(struct account *account, const char *key)
{
	struct dict_value *settings;
	const char *value;
	char *ret;

	if (setting_is_secret(key))
		return NULL;
	if (account_settings_read(account, &settings) == -1)
		return NULL;
	value = dict_get_str(settings, key);
	ret = i_strdup(value);
	dict_value_free(&settings);
	return ret;
}

static int
check_setting_key(const char *key)
{
	const unsigned char *p;

	if (key[0] == '\0' || strlen(key) > STORE_SETTING_KEY_MAX)
		return store_set_error(STORE_ERROR_INVALID,
				       "setting name empty or too long");
	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return store_set_error(STORE_ERROR_INVALID,
				"setting names are printable ASCII");
	}
	if (setting_is_secret(key) || strcasecmp(key, "Type") == 0)
		return store_set_error(STORE_ERROR_INVALID,
			"setting %s cannot be set directly", key);
	return 0;
}

int
store_account_set_setting(struct account *account, const char *key,
			  const char *value)
{
	struct dict_value *settings;
	int ret;

	if (check_setting_key(key) == -1)
		return -1;
	if (account_lock(account, true) == -1)
		return -1;
	ret = account_settings_read(account, &settings);
	if (ret == 0) {
		dict_set(settings, key, value == NULL ? NULL :
			 dict_new_string(value));
		ret = account_settings_write(account, settings);
		dict_value_free(&settings);
	}
	account_unlock(account);
	return ret;
}

/* ---- create ---- */

/* Whether any account file of user exists in its domain directory. */
static bool
account_name_taken(const struct account_name *an, const char **what_r)
{
	static const char *const suffixes[] = {
		".macnt", ".settings", ".mbox", ".mdir",
	};
	unsigned int i;
	char *path;
	bool taken = false;

	for (i = 0; i < N_ELEMENTS(suffixes) && !taken; i++) {
		path = i_strdup_printf("%s/%s%s", an->dir, an->user,
				       suffixes[i]);
		taken = access(path, F_OK) == 0;
		*what_r = suffixes[i];
		free(path);
	}
	return taken;
}

static struct dict_value *
account_new_settings(enum account_type type)
{
	struct dict_value *settings = dict_new_dict();
	char created[32];
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dict_set_str(settings, "Type", store_account_type_name(type));
	dict_set_str(settings, "Created", created);
	return settings;
}

/* Creates INBOX and its meta in account (whose files are not visible
   under the account's name yet, or are guarded by the admin lock). */
static int
account_create_inbox(struct account *account, enum mailbox_format format)
{
	struct mailbox_meta meta;
	int ret;

	if (mailbox_files_create(account, "INBOX", format) == -1)
		return -1;
	memset(&meta, 0, sizeof(meta));
	meta.uidvalidity = account_new_uidvalidity(account);
	meta.uidnext = 1;
	meta.highestmodseq = 1;
	ret = account_mailbox_meta_set(account, "INBOX", &meta);
	return ret;
}

static int
create_lock_file(const char *path)
{
	int fd = vfs_open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd == -1)
		return store_set_syscall_error("open", path);
	close(fd);
	return 0;
}

/* Builds NAME.macnt in a hidden temp directory and renames it into place:
   the account appears whole or not at all. */
static int
account_create_multi(struct store *store, const struct account_name *an,
		     const struct dict_value *settings,
		     enum mailbox_format inbox_format)
{
	char *tmp = store_temp_path(an->dir, "create");
	char *final = account_base_path(an, ACCOUNT_TYPE_MULTI);
	struct account *account = NULL;
	int ret = -1;

	if (store_mkdir(tmp) == -1)
		goto out;
	account = account_alloc(store, an, ACCOUNT_TYPE_MULTI, tmp);
	if (account_settings_write(account, settings) == -1 ||
	    create_lock_file(account->lock_path) == -1 ||
	    account_create_inbox(account, inbox_format) == -1)
		goto out;
	if (vfs_fsync_dir(tmp) == -1) {
		store_set_syscall_error("fsync", tmp);
		goto out;
	}
	if (vfs_rename(tmp, final) == -1) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			store_set_error(STORE_ERROR_EXISTS,
					"account %s exists", an->canonical);
		else
			store_set_syscall_error("rename", final);
		goto out;
	}
	if (vfs_fsync_dir(an->dir) == -1) {
		store_set_syscall_error("fsync", an->dir);
		/* Not known to be durable: take it back, report failure. */
		if (vfs_rename(final, tmp) == -1)
			log_warn("rename(%s, %s)", final, tmp);
		goto out;
	}
	ret = 0;
out:
	if (ret == -1 && store_remove_tree(tmp) == -1)
		store_clear_error();
	store_account_close(&account);
	free(tmp);
	free(final);
	return ret;
}

/* Removes whatever a failed single-account creation left behind. */
static void
account_single_cleanup(struct account *account, enum mailbox_format format)
{
	char *path;

	path = account_mailbox_path(account, "INBOX", format);
	(void)store_remove_tree(path);
	free(path);
	path = account_mailbox_index_path(account, "INBOX", format);
	(void)vfs_unlink(path);
	free(path);
	path = account_mailbox_path(account, "INBOX", format);
	{
		char *side = expunge_log_path(path);

		(void)vfs_unlink(side);
		free(side);
		side = mailbox_cache_path(path);
		(void)vfs_unlink(side);
		free(side);
	}
	free(path);
	(void)vfs_unlink(account->info_path);
	(void)vfs_unlink(account->lock_path);
	(void)vfs_unlink(account->settings_path);
	(void)vfs_fsync_parent(account->settings_path);
}

/* NAME.mbox|.mdir, NAME.info, NAME.lock, then NAME.settings last: until
   it exists the other files are not an account. */
static int
account_create_single(struct store *store, const struct account_name *an,
		      enum account_type type,
		      const struct dict_value *settings)
{
	enum mailbox_format format = type == ACCOUNT_TYPE_MDIR ?
		MAILBOX_FORMAT_MDIR : MAILBOX_FORMAT_MBOX;
	char *base = account_base_path(an, type);
	struct account *account;
	int ret = -1;

	account = account_alloc(store, an, type, base);
	/* Leftovers of an earlier failed creation (no NAME.settings). */
	(void)vfs_unlink(account->info_path);
	(void)vfs_unlink(account->lock_path);
	if (create_lock_file(account->lock_path) == -1)
		goto out;
	if (account_create_inbox(account, format) == -1 ||
	    account_settings_write(account, settings) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		account_single_cleanup(account, format);
	store_account_close(&account);
	free(base);
	return ret;
}

int
store_account_create_ex(struct store *store, const char *name,
			enum account_type type, const char *password,
			enum mailbox_format inbox_format)
{
	struct dict_value *settings = NULL;
	struct account_name an;
	const char *what;
	int fd = -1, ret = -1;

	if (account_name_parse(store, name, &an) == -1)
		return -1;
	settings = account_new_settings(type);
	if (password != NULL &&
	    account_settings_set_password(settings, password) == -1)
		goto out;
	if (store_admin_lock(store, &fd) == -1)
		goto out;
	if (account_name_taken(&an, &what)) {
		store_set_error(STORE_ERROR_EXISTS, "account %s exists "
				"(found %s%s)", an.canonical, an.user, what);
		goto out;
	}
	if (type == ACCOUNT_TYPE_MULTI)
		ret = account_create_multi(store, &an, settings, inbox_format);
	else
		ret = account_create_single(store, &an, type, settings);
out:
	store_admin_unlock(&fd);
	dict_value_free(&settings);
	account_name_free(&an);
	return ret;
}

int
store_account_create(struct store *store, const char *name,
		     enum account_type type, const char *password)
{
	return store_account_create_ex(store, name, type, password,
				       MAILBOX_FORMAT_MBOX);
}

/* ---- delete and rename ---- */

/* The files of a single-mailbox account at base, settings last so the
   account stays whole until its last step: the mailbox, its index,
   expunge history and header cache, account.info, lock, settings. */
#define SINGLE_ACCOUNT_FILES 7
static unsigned int
single_account_files(struct account *account,
		     char *files[SINGLE_ACCOUNT_FILES])
{
	enum mailbox_format format = account->type == ACCOUNT_TYPE_MDIR ?
		MAILBOX_FORMAT_MDIR : MAILBOX_FORMAT_MBOX;

	files[0] = account_mailbox_path(account, "INBOX", format);
	files[1] = account_mailbox_index_path(account, "INBOX", format);
	files[2] = expunge_log_path(files[0]);
	files[3] = mailbox_cache_path(files[0]);
	files[4] = i_strdup(account->info_path);
	files[5] = i_strdup(account->lock_path);
	files[6] = i_strdup(account->settings_path);
	return SINGLE_ACCOUNT_FILES;
}

/*
 * Renames every file of account aside to hidden temp names (settings
 * first: the account is gone from that moment) and fsyncs the directory;
 * if that fails the renames are taken back, so a failed delete changes
 * nothing. Only then are the files removed. The delete has happened by
 * then: a removal that fails is logged, not reported, and what is left
 * under the temp name goes when a listing of the domain runs
 * store_cleanup_temp() after this process has exited.
 */
static int
account_delete_files(struct account *account, const char *dir)
{
	struct store_renames renames;
	char *files[SINGLE_ACCOUNT_FILES];
	unsigned int i, count;
	int ret = -1;

	memset(&renames, 0, sizeof(renames));
	if (account->type == ACCOUNT_TYPE_MULTI) {
		files[0] = i_strdup(account->path);
		count = 1;
	} else {
		count = single_account_files(account, files);
	}
	for (i = count; i-- > 0;)
		store_renames_add(&renames, files[i],
				  store_temp_path(dir, "delete"), true);
	if (store_renames_run(&renames) == -1)
		goto out;
	if (vfs_fsync_dir(dir) == -1) {
		store_set_syscall_error("fsync", dir);
		store_renames_undo(&renames);
		(void)vfs_fsync_dir(dir);
		goto out;
	}
	ret = 0;
	for (i = 0; i < renames.count; i++) {
		if (renames.steps[i].done &&
		    store_remove_tree(renames.steps[i].to) == -1) {
			log_warnx("%s: deleted, but %s is left for later",
				  account->name, renames.steps[i].to);
			store_clear_error();
		}
	}
out:
	store_renames_free(&renames);
	return ret;
}

int
store_account_delete(struct store *store, const char *name)
{
	struct account *account = NULL;
	struct account_name an;
	int fd = -1, ret = -1;

	if (account_name_parse(store, name, &an) == -1)
		return -1;
	if (store_admin_lock(store, &fd) == -1 ||
	    account_open_name(store, &an, &account) == -1)
		goto out;
	/* Wait for every change in progress to finish. */
	if (account_lock(account, true) == -1)
		goto out;
	ret = account_delete_files(account, an.dir);
	account_unlock(account);
out:
	store_account_close(&account);
	store_admin_unlock(&fd);
	account_name_free(&an);
	return ret;
}

static int
fsync_dirs(const char *dir1, const char *dir2)
{
	if (vfs_fsync_dir(dir1) == -1)
		return store_set_syscall_error("fsync", dir1);
	if (strcmp(dir1, dir2) != 0 && vfs_fsync_dir(dir2) == -1)
		return store_set_syscall_error("fsync", dir2);
	return 0;
}

/* Renames the account's files to the paths of target (same type) and
   fsyncs both directories; on failure the renames are taken back. */
static int
account_rename_files(struct account *account, struct account *target,
		     const char *old_dir, const char *new_dir)
{
	struct store_renames renames;
	char *from[SINGLE_ACCOUNT_FILES], *to[SINGLE_ACCOUNT_FILES];
	unsigned int i, count;
	int ret;

	memset(&renames, 0, sizeof(renames));
	if (account->type == ACCOUNT_TYPE_MULTI) {
		from[0] = i_strdup(account->path);
		to[0] = i_strdup(target->path);
		count = 1;
	} else {
		count = single_account_files(account, from);
		(void)single_account_files(target, to);
	}
	/* The mailbox first, the settings last: both must exist. */
	for (i = 0; i < count; i++)
		store_renames_add(&renames, from[i], to[i],
				  i != 0 && i != count - 1);
	ret = store_renames_run(&renames);
	if (ret == 0 && fsync_dirs(old_dir, new_dir) == -1) {
		ret = -1;
		store_renames_undo(&renames);
		(void)vfs_fsync_dir(old_dir);
		(void)vfs_fsync_dir(new_dir);
	}
	store_renames_free(&renames);
	return ret;
}

static int
account_rename_locked(struct store *store, const struct account_name *old,
		      const struct account_name *new)
{
	struct account *account = NULL, *target = NULL;
	const char *what;
	char *base;
	int ret = -1;

	if (account_open_name(store, old, &account) == -1)
		return -1;
	if (strcmp(old->canonical, new->canonical) == 0 ||
	    account_name_taken(new, &what)) {
		store_set_error(STORE_ERROR_EXISTS, "account %s exists",
				new->canonical);
		goto out;
	}
	base = account_base_path(new, account->type);
	target = account_alloc(store, new, account->type, base);
	free(base);
	if (account_lock(account, true) == -1)
		goto out;
	ret = account_rename_files(account, target, old->dir, new->dir);
	account_unlock(account);
out:
	store_account_close(&target);
	store_account_close(&account);
	return ret;
}

int
store_account_rename(struct store *store, const char *old_name,
		     const char *new_name)
{
	struct account_name old, new;
	int fd = -1, ret = -1;

	if (account_name_parse(store, old_name, &old) == -1)
		return -1;
	if (account_name_parse(store, new_name, &new) == -1) {
		account_name_free(&old);
		return -1;
	}
	if (store_admin_lock(store, &fd) == 0)
		ret = account_rename_locked(store, &old, &new);
	store_admin_unlock(&fd);
	account_name_free(&old);
	account_name_free(&new);
	return ret;
}

/* ---- list ---- */

/* The account name of a directory entry, or NULL. */
static char *
entry_account_user(const char *dir, const char *entry)
{
	size_t len = strlen(entry);
	char *user = NULL, *path;
	mode_t type = 0;

	if (len > 6 && strcmp(entry + len - 6, ".macnt") == 0) {
		user = i_strndup(entry, len - 6);
		type = S_IFDIR;
	} else if (len > 9 && strcmp(entry + len - 9, ".settings") == 0) {
		user = i_strndup(entry, len - 9);
		type = S_IFREG;
	}
	if (user == NULL)
		return NULL;
	path = i_strdup_printf("%s/%s", dir, entry);
	/* Accounts are created lower-case; other entries are not ours. */
	if (strchr(user, '@') != NULL || strpbrk(user, UPPER_CASE) != NULL ||
	    store_check_account_name(user) == -1 || !path_is(path, type))
		i_free(user);
	free(path);
	return user;
}

int
store_account_list(struct store *store, const char *domain,
		   char ***names_r, unsigned int *count_r)
{
	char **names = NULL, *dir, *user, *lower = NULL;
	unsigned int i, count = 0;
	struct dirent *d;
	DIR *dirp;
	bool is_main = domain == NULL || store_domain_is_main(store, domain);

	if (!is_main) {
		if (store_check_domain_name(domain) == -1)
			return -1;
		if (!store_domain_exists(store, domain))
			return store_set_error(STORE_ERROR_NOT_FOUND,
					       "unknown domain: %s", domain);
		lower = store_str_lower(domain);
	}
	dir = store_domain_dir(store, lower);
	store_cleanup_temp(dir);
	if ((dirp = opendir(dir)) == NULL) {
		store_set_syscall_error("opendir", dir);
		free(dir);
		free(lower);
		return -1;
	}
	while ((d = readdir(dirp)) != NULL) {
		if (d->d_name[0] == '.' ||
		    (user = entry_account_user(dir, d->d_name)) == NULL)
			continue;
		store_names_add(&names, &count, is_main ? user :
			i_strdup_printf("%s@%s", user, lower));
		if (!is_main)
			free(user);
	}
	closedir(dirp);
	store_clear_error();
	store_names_sort(names, count);
	/* NAME.macnt and NAME.settings both present: list NAME once. */
	for (i = 1; i < count; i++) {
		if (strcmp(names[i - 1], names[i]) == 0) {
			free(names[i - 1]);
			memmove(names + i - 1, names + i,
				sizeof(char *) * (count - i));
			count--;
			i--;
		}
	}
	*names_r = names;
	*count_r = count;
	free(dir);
	free(lower);
	return 0;
}
