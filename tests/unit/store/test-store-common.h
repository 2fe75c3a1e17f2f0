/* SPDX-License-Identifier: MIT */
/*
 * test-store-common.h: what the store core's unit tests share: a fresh
 * base directory per test (mkdtemp) opened as a store, removed again in
 * teardown, and small file helpers. Header-only, static inline.
 */
#ifndef TEST_STORE_COMMON_H
#define TEST_STORE_COMMON_H

#include "store-private.h"
#include "vfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct store_test {
	char base[64];
	struct store *store;
};

static inline int
store_test_setup(void **state)
{
	struct store_test *t = calloc(1, sizeof(*t));

	strcpy(t->base, "/tmp/commune-store-test.XXXXXX");
	if (mkdtemp(t->base) == NULL)
		return -1;
	if (store_open(t->base, &t->store) == -1)
		return -1;
	*state = t;
	return 0;
}

static inline int
store_test_teardown(void **state)
{
	struct store_test *t = *state;

	store_close(&t->store);
	if (store_remove_tree(t->base) == -1)
		return -1;
	free(t);
	return 0;
}

/* Creates account name (no password) and opens it. */
static inline struct account *
store_test_new_account(struct store_test *t, const char *name,
		       enum account_type type)
{
	struct account *account;

	assert_int_equal(store_account_create(t->store, name, type, NULL), 0);
	assert_int_equal(store_account_open(t->store, name, &account), 0);
	return account;
}

/* Path under the base directory. Caller frees. */
static inline char *
store_test_path(struct store_test *t, const char *rel)
{
	return i_strdup_printf("%s/%s", t->base, rel);
}

static inline bool
store_test_exists(struct store_test *t, const char *rel)
{
	char *path = store_test_path(t, rel);
	struct stat st;
	bool ret = lstat(path, &st) == 0;

	free(path);
	return ret;
}

static inline bool
store_test_is_dir(struct store_test *t, const char *rel)
{
	char *path = store_test_path(t, rel);
	struct stat st;
	bool ret = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);

	free(path);
	return ret;
}

/* Writes a file under the base directory (test set-up, not durable). */
static inline void
store_test_write(struct store_test *t, const char *rel, const char *text)
{
	char *path = store_test_path(t, rel);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static inline void
store_test_unlink(struct store_test *t, const char *rel)
{
	char *path = store_test_path(t, rel);

	assert_int_equal(unlink(path), 0);
	free(path);
}

/* Reads a file under the base directory. Caller frees. */
static inline char *
store_test_read(struct store_test *t, const char *rel)
{
	char *path = store_test_path(t, rel);
	unsigned char *data;
	size_t len;

	if (vfs_read_file(path, &data, &len) == -1)
		data = NULL;
	free(path);
	return (char *)data;
}

static inline void
store_test_mkdir(struct store_test *t, const char *rel)
{
	char *path = store_test_path(t, rel);

	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
}

/* nftw has no context argument. */
static __thread buf_t *store_test_snapshot_buf;

static inline int
store_test_snapshot_entry(const char *path, const struct stat *st, int flag,
			  struct FTW *ftw)
{
	/* A directory's size and time change with entries come and gone. */
	if (S_ISDIR(st->st_mode))
		buf_printf(store_test_snapshot_buf, "%s/\n", path);
	else
		buf_printf(store_test_snapshot_buf, "%s %o %lld %lld\n", path,
			   (unsigned int)st->st_mode, (long long)st->st_size,
			   (long long)st->st_mtim.tv_nsec);
	return 0;
}

static inline int
store_test_snapshot_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path under the base, files with mode, size and mtime, sorted:
   two equal snapshots mean nothing was modified. Caller frees. */
static inline char *
store_test_snapshot(struct store_test *t)
{
	buf_t buf = BUF_INIT, out = BUF_INIT;
	char **lines = NULL, *p, *nl;
	unsigned int i, count = 0;
	size_t len;

	store_test_snapshot_buf = &buf;
	assert_int_equal(nftw(t->base, store_test_snapshot_entry, 16,
			      FTW_PHYS), 0);
	for (p = (char *)buf_cstr(&buf); (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1) {
		*nl = '\0';
		lines = realloc(lines, sizeof(char *) * (count + 1));
		lines[count++] = p;
	}
	qsort(lines, count, sizeof(char *), store_test_snapshot_cmp);
	for (i = 0; i < count; i++) {
		buf_append_str(&out, lines[i]);
		buf_append_c(&out, '\n');
	}
	free(lines);
	buf_deinit(&buf);
	buf_append_c(&out, '\0');
	return (char *)buf_steal(&out, &len);
}

static inline void
store_test_assert_error(enum store_error expected)
{
	const char *text;
	enum store_error code = store_error(&text);

	if (code != expected)
		fail_msg("store error %d (%s), expected %d", code, text,
			 expected);
}

#endif
