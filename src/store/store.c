/* SPDX-License-Identifier: MIT */
/*
 * store.c: the base directory (store.h). Opens and creates the
 * CommuniGate layout (Accounts/, Domains/, Settings/), keeps the main
 * domain name from Settings/Main.settings, and holds the helpers the rest
 * of the store core shares: the administration lock, durable mkdir,
 * recursive removal and hidden temp names. Layout: docs/storage-format.md.
 */
#include "store-private.h"
#include "log.h"
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#define STORE_DEFAULT_DOMAIN "localhost"
#define STORE_TEMP_PREFIX ".tmp-"
/* nftw's open-descriptor budget. */
#define REMOVE_TREE_FDS 16
#define REMOVE_TREE_TRIES 3

static const char *const base_subdirs[] = { "Accounts", "Domains",
					    "Settings" };
static atomic_uint temp_counter;

int
store_mkdir(const char *path)
{
	struct stat st;

	/* Existing directories cost no mutating call (fault injection
	   counts those). */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (vfs_mkdir(path, 0700) == 0) {
		if (vfs_fsync_parent(path) == 0)
			return 0;
		/* Not known to be durable: a failed mkdir leaves nothing. */
		store_set_syscall_error("fsync", path);
		if (vfs_rmdir(path) == -1)
			log_warn("rmdir(%s) after a failed fsync", path);
		return -1;
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return store_set_syscall_error("mkdir", path);
}

void
store_renames_add(struct store_renames *renames, char *from, char *to,
		  bool missing_ok)
{
	i_assert(renames->count < STORE_RENAMES_MAX);
	renames->steps[renames->count].from = from;
	renames->steps[renames->count].to = to;
	renames->steps[renames->count].missing_ok = missing_ok;
	renames->steps[renames->count].done = false;
	renames->count++;
}

int
store_renames_run(struct store_renames *renames)
{
	unsigned int i;

	for (i = 0; i < renames->count; i++) {
		if (vfs_rename(renames->steps[i].from,
			       renames->steps[i].to) == 0) {
			renames->steps[i].done = true;
			continue;
		}
		if (errno == ENOENT && renames->steps[i].missing_ok)
			continue;
		store_set_syscall_error("rename", renames->steps[i].from);
		store_renames_undo(renames);
		return -1;
	}
	return 0;
}

void
store_renames_undo(struct store_renames *renames)
{
	unsigned int i;
	int saved = errno;

	for (i = renames->count; i-- > 0;) {
		if (!renames->steps[i].done)
			continue;
		if (vfs_rename(renames->steps[i].to,
			       renames->steps[i].from) == -1)
			log_warn("rename(%s, %s) to take a rename back",
				 renames->steps[i].to, renames->steps[i].from);
		else
			renames->steps[i].done = false;
	}
	errno = saved;
}

void
store_renames_free(struct store_renames *renames)
{
	unsigned int i;

	for (i = 0; i < renames->count; i++) {
		free(renames->steps[i].from);
		free(renames->steps[i].to);
	}
	renames->count = 0;
}

static char *
main_settings_path(struct store *store)
{
	return i_strdup_printf("%s/Settings/Main.settings", store->base_dir);
}

/* Reads a dictionary file; a missing file is an empty dictionary. */
int
store_dict_file_read(const char *path, struct dict_value **dict_r)
{
	unsigned char *data;
	char *error;
	size_t len;
	int ret = 0;

	if (vfs_read_file(path, &data, &len) == -1) {
		if (errno != ENOENT)
			return store_set_syscall_error("read", path);
		*dict_r = dict_new_dict();
		return 0;
	}
	if (dict_parse(data, len, dict_r, &error) == -1) {
		log_warnx("%s: %s", path, error);
		ret = store_set_error(STORE_ERROR_CORRUPT, "%s: %s", path,
				      error);
		free(error);
	} else if ((*dict_r)->type != DICT_TYPE_DICT) {
		dict_value_free(dict_r);
		log_warnx("%s: not a dictionary", path);
		ret = store_set_error(STORE_ERROR_CORRUPT,
				      "%s: not a dictionary", path);
	}
	free(data);
	return ret;
}

int
store_dict_file_write(const char *path, const struct dict_value *dict)
{
	const char *syscall, *failed_path;
	buf_t text = BUF_INIT;
	int ret = 0;

	dict_print(&text, dict, true);
	buf_append_c(&text, '\n');
	if (vfs_write_file_atomic(path, text.data, text.len) == -1) {
		/* The step that failed: write, fsync, rename, or the fsync
		   of the directory. The old file is back either way. */
		syscall = vfs_write_failed_syscall(&failed_path);
		ret = store_set_syscall_error(syscall, failed_path);
	}
	/* Settings may hold password hashes. */
	explicit_bzero(text.data, text.len);
	buf_deinit(&text);
	return ret;
}

static int
store_load_main_domain(struct store *store)
{
	struct dict_value *settings;
	const char *domain;
	char *path;
	int ret;

	path = main_settings_path(store);
	ret = store_dict_file_read(path, &settings);
	free(path);
	if (ret == -1)
		return -1;
	domain = dict_get_str(settings, "DomainName");
	if (domain == NULL)
		domain = STORE_DEFAULT_DOMAIN;
	else if (store_check_domain_name(domain) == -1) {
		log_warnx("%s/Settings/Main.settings: bad DomainName",
			  store->base_dir);
		dict_value_free(&settings);
		return store_set_error(STORE_ERROR_CORRUPT,
			"Settings/Main.settings: DomainName is not a valid "
			"domain name");
	}
	store->main_domain = store_str_lower(domain);
	dict_value_free(&settings);
	return 0;
}

int
store_open(const char *base_dir, struct store **store_r)
{
	struct store *store;
	size_t len = strlen(base_dir);
	unsigned int i;
	char *path;
	int ret;

	while (len > 1 && base_dir[len - 1] == '/')
		len--;
	if (len == 0)
		return store_set_error(STORE_ERROR_INVALID,
				       "empty base directory");
	store = i_malloc(sizeof(*store));
	store->base_dir = i_strndup(base_dir, len);
	pthread_mutex_init(&store->lock, NULL);
	ret = store_mkdir(store->base_dir);
	for (i = 0; ret == 0 && i < N_ELEMENTS(base_subdirs); i++) {
		path = i_strdup_printf("%s/%s", store->base_dir,
				       base_subdirs[i]);
		ret = store_mkdir(path);
		free(path);
	}
	if (ret == 0)
		ret = store_load_main_domain(store);
	if (ret == -1) {
		store_close(&store);
		return -1;
	}
	*store_r = store;
	return 0;
}

void
store_close(struct store **_store)
{
	struct store *store = *_store;
	unsigned int i;

	if (store == NULL)
		return;
	*_store = NULL;
	for (i = 0; i < store->old_domain_count; i++)
		free(store->old_domains[i]);
	free(store->old_domains);
	pthread_mutex_destroy(&store->lock);
	free(store->main_domain);
	free(store->base_dir);
	free(store);
}

const char *
store_base_dir(struct store *store)
{
	return store->base_dir;
}

const char *
store_main_domain(struct store *store)
{
	const char *domain;

	pthread_mutex_lock(&store->lock);
	domain = store->main_domain;
	pthread_mutex_unlock(&store->lock);
	return domain;
}

bool
store_domain_is_main(struct store *store, const char *domain)
{
	bool ret;

	pthread_mutex_lock(&store->lock);
	ret = strcasecmp(domain, store->main_domain) == 0;
	pthread_mutex_unlock(&store->lock);
	return ret;
}

char *
store_domain_dir(struct store *store, const char *domain)
{
	if (domain == NULL || store_domain_is_main(store, domain))
		return i_strdup_printf("%s/Accounts", store->base_dir);
	return i_strdup_printf("%s/Domains/%s", store->base_dir, domain);
}

static void
store_replace_main_domain(struct store *store, char *domain)
{
	pthread_mutex_lock(&store->lock);
	store->old_domains = i_realloc(store->old_domains,
		sizeof(char *) * (store->old_domain_count + 1));
	store->old_domains[store->old_domain_count++] = store->main_domain;
	store->main_domain = domain;
	pthread_mutex_unlock(&store->lock);
}

int
store_set_main_domain(struct store *store, const char *domain)
{
	struct dict_value *settings = NULL;
	char *lower, *path = NULL;
	int fd = -1, ret = -1;

	if (store_check_domain_name(domain) == -1)
		return -1;
	lower = store_str_lower(domain);
	if (store_admin_lock(store, &fd) == -1)
		goto out;
	if (!store_domain_is_main(store, lower) &&
	    store_domain_exists(store, lower)) {
		store_set_error(STORE_ERROR_EXISTS,
				"%s is a secondary domain", lower);
		goto out;
	}
	path = main_settings_path(store);
	if (store_dict_file_read(path, &settings) == -1)
		goto out;
	dict_set_str(settings, "DomainName", lower);
	if (store_dict_file_write(path, settings) == -1)
		goto out;
	store_replace_main_domain(store, lower);
	lower = NULL;
	ret = 0;
out:
	store_admin_unlock(&fd);
	dict_value_free(&settings);
	free(path);
	free(lower);
	return ret;
}

int
store_admin_lock(struct store *store, int *fd_r)
{
	char *path = i_strdup_printf("%s/Settings/accounts.lock",
				     store->base_dir);
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		fd = vfs_open(path, O_RDWR | O_CREAT, 0600);
	if (fd == -1) {
		store_set_syscall_error("open", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		store_set_syscall_error("flock", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	*fd_r = fd;
	return 0;
}

void
store_admin_unlock(int *fd)
{
	if (*fd == -1)
		return;
	/* close() drops the flock. */
	close(*fd);
	*fd = -1;
}

/* nftw gives its callback no context: the failure goes here. */
static __thread int remove_errno;
static __thread char remove_failed_path[4096];

static int
remove_entry(const char *path, const struct stat *st, int flag,
	     struct FTW *ftw)
{
	int ret;

	if (flag == FTW_DP)
		ret = vfs_rmdir(path);
	else
		ret = vfs_unlink(path);
	if (ret == -1 && errno != ENOENT) {
		remove_errno = errno;
		i_strlcpy(remove_failed_path, path,
			  sizeof(remove_failed_path));
		return 1;
	}
	return 0;
}

int
store_remove_tree(const char *path)
{
	struct stat st;
	unsigned int try;
	int ret;

	for (try = 0; try < REMOVE_TREE_TRIES; try++) {
		remove_errno = 0;
		ret = nftw(path, remove_entry, REMOVE_TREE_FDS,
			   FTW_DEPTH | FTW_PHYS);
		if (ret == 0)
			return 0;
		if (ret == -1 && lstat(path, &st) == -1 && errno == ENOENT)
			return 0;
		if (ret == 1) {
			errno = remove_errno;
			return store_set_syscall_error("unlink",
						       remove_failed_path);
		}
		/* Something vanished under a concurrent remover: retry. */
	}
	return store_set_syscall_error("nftw", path);
}

char *
store_temp_path(const char *dir, const char *what)
{
	return i_strdup_printf("%s/" STORE_TEMP_PREFIX "%ld-%u-%s", dir,
			       (long)getpid(),
			       atomic_fetch_add(&temp_counter, 1), what);
}

static bool
pid_is_gone(long pid)
{
	if (pid <= 0 || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* The pid in a vfs_write_file_atomic temp name "FILE.tmp.PID.TID" (TID
   in hex, to the end), or 0 when name is not one. */
static long
atomic_temp_pid(const char *name)
{
	const char *p = strstr(name, ".tmp."), *next;
	char *end;
	long pid = 0;

	for (; p != NULL; p = next) {
		next = strstr(p + 1, ".tmp.");
		pid = strtol(p + 5, &end, 10);
		if (end != p + 5 && *end == '.' && end[1] != '\0' &&
		    strspn(end + 1, "0123456789abcdef") == strlen(end + 1))
			return pid;
	}
	return 0;
}

/* Whether dir/name is a temp entry of a process that is gone: ours
   (".tmp-PID-..."), or a file vfs_write_file_atomic left when killed. */
static bool
temp_entry_is_stale(const char *dir, const char *name)
{
	struct stat st;
	char *path;
	bool file;

	if (strncmp(name, STORE_TEMP_PREFIX, strlen(STORE_TEMP_PREFIX)) == 0)
		return pid_is_gone(strtol(name + strlen(STORE_TEMP_PREFIX),
					  NULL, 10));
	if (!pid_is_gone(atomic_temp_pid(name)))
		return false;
	/* A directory may be a mailbox hierarchy node named like that. */
	path = i_strdup_printf("%s/%s", dir, name);
	file = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return file;
}

void
store_cleanup_temp(const char *dir)
{
	struct dirent *d;
	char *path;
	DIR *dirp;

	if ((dirp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dirp)) != NULL) {
		if (!temp_entry_is_stale(dir, d->d_name))
			continue;
		path = i_strdup_printf("%s/%s", dir, d->d_name);
		log_info("removing leftover %s", path);
		if (store_remove_tree(path) == -1)
			store_clear_error();
		free(path);
	}
	closedir(dirp);
}

void
store_names_free(char ***_names, unsigned int count)
{
	char **names = *_names;
	unsigned int i;

	if (names == NULL)
		return;
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	*_names = NULL;
}
