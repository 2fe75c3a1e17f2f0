/* SPDX-License-Identifier: MIT */
/*
 * store-domain.c: secondary domains (store.h). Each is a directory
 * Domains/<domain>/ holding its accounts in the same shape as Accounts/.
 * The main domain has no directory of its own: its accounts live in
 * Accounts/ and its name in Settings/Main.settings (store.c).
 */
#include "store-private.h"
#include "log.h"
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
store_names_add(char ***names, unsigned int *count, char *name)
{
	*names = i_realloc(*names, sizeof(char *) * (*count + 1));
	(*names)[(*count)++] = name;
}

void
store_names_sort(char **names, unsigned int count)
{
	if (count > 1)
		qsort(names, count, sizeof(char *), cmp_names);
}

bool
store_domain_exists(struct store *store, const char *domain)
{
	struct stat st;
	char *lower, *path;
	bool ret;

	if (store_check_domain_name(domain) == -1) {
		store_clear_error();
		return false;
	}
	if (store_domain_is_main(store, domain))
		return true;
	/* Directories are created lower-case; names compare in any case. */
	lower = store_str_lower(domain);
	path = store_domain_dir(store, lower);
	free(lower);
	ret = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	free(path);
	return ret;
}

int
store_domain_create(struct store *store, const char *domain)
{
	char *lower, *path = NULL;
	int fd = -1, ret = -1;

	if (store_check_domain_name(domain) == -1)
		return -1;
	lower = store_str_lower(domain);
	if (store_admin_lock(store, &fd) == -1)
		goto out;
	if (store_domain_exists(store, lower)) {
		store_set_error(STORE_ERROR_EXISTS, "domain %s exists%s",
				lower, store_domain_is_main(store, lower) ?
				" (it is the main domain)" : "");
		goto out;
	}
	path = store_domain_dir(store, lower);
	ret = store_mkdir(path);
out:
	store_admin_unlock(&fd);
	free(path);
	free(lower);
	return ret;
}

/* Whether dir holds an account (NAME.macnt or NAME.settings). */
static int
dir_has_accounts(const char *dir, bool *has_r)
{
	struct dirent *d;
	DIR *dirp;
	size_t len;

	*has_r = false;
	if ((dirp = opendir(dir)) == NULL)
		return store_set_syscall_error("opendir", dir);
	while ((d = readdir(dirp)) != NULL && !*has_r) {
		len = strlen(d->d_name);
		if (d->d_name[0] == '.')
			continue;
		if ((len > 6 && strcmp(d->d_name + len - 6, ".macnt") == 0) ||
		    (len > 9 && strcmp(d->d_name + len - 9, ".settings") == 0))
			*has_r = true;
	}
	closedir(dirp);
	return 0;
}

/* Moves the domain directory aside (atomic), then removes it. */
static int
domain_remove_dir(struct store *store, const char *path)
{
	char *domains = i_strdup_printf("%s/Domains", store->base_dir);
	char *tmp = store_temp_path(domains, "domain");
	int ret = -1;

	if (vfs_rename(path, tmp) == -1) {
		store_set_syscall_error("rename", path);
		goto out;
	}
	if (vfs_fsync_dir(domains) == -1) {
		store_set_syscall_error("fsync", domains);
		goto out;
	}
	ret = store_remove_tree(tmp);
out:
	free(domains);
	free(tmp);
	return ret;
}

int
store_domain_delete(struct store *store, const char *domain)
{
	char *lower, *path = NULL;
	int fd = -1, ret = -1;
	bool has;

	if (store_check_domain_name(domain) == -1)
		return -1;
	lower = store_str_lower(domain);
	if (store_domain_is_main(store, lower)) {
		store_set_error(STORE_ERROR_NOT_POSSIBLE,
				"%s is the main domain", lower);
		goto out;
	}
	if (store_admin_lock(store, &fd) == -1)
		goto out;
	if (!store_domain_exists(store, lower)) {
		store_set_error(STORE_ERROR_NOT_FOUND, "no such domain: %s",
				lower);
		goto out;
	}
	path = store_domain_dir(store, lower);
	if (dir_has_accounts(path, &has) == -1)
		goto out;
	if (has) {
		store_set_error(STORE_ERROR_NOT_POSSIBLE,
				"domain %s still has accounts", lower);
		goto out;
	}
	ret = domain_remove_dir(store, path);
out:
	store_admin_unlock(&fd);
	free(path);
	free(lower);
	return ret;
}

int
store_domain_list(struct store *store, char ***names_r,
		  unsigned int *count_r)
{
	char *dir = i_strdup_printf("%s/Domains", store->base_dir);
	char **names = NULL;
	unsigned int count = 0;
	struct dirent *d;
	DIR *dirp;

	store_cleanup_temp(dir);
	if ((dirp = opendir(dir)) == NULL) {
		store_set_syscall_error("opendir", dir);
		free(dir);
		return -1;
	}
	while ((d = readdir(dirp)) != NULL) {
		if (d->d_name[0] == '.' ||
		    store_check_domain_name(d->d_name) == -1 ||
		    !store_domain_exists(store, d->d_name) ||
		    store_domain_is_main(store, d->d_name))
			continue;
		store_names_add(&names, &count, store_str_lower(d->d_name));
	}
	closedir(dirp);
	free(dir);
	store_clear_error();
	store_names_sort(names, count);
	*names_r = names;
	*count_r = count;
	return 0;
}
