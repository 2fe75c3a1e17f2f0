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

typedef int store_test_walk_fn_t(const char *path, const struct stat *st,
				 int flag, struct FTW *ftw);

/* nftw(fn) over the base, then the lines fn printed, sorted. Caller
   frees. */
static inline char *
store_test_walk_sorted(struct store_test *t, store_test_walk_fn_t *fn)
{
	buf_t buf = BUF_INIT, out = BUF_INIT;
	char **lines = NULL, *p, *nl;
	unsigned int i, count = 0;
	size_t len;

	store_test_snapshot_buf = &buf;
	assert_int_equal(nftw(t->base, fn, 16, FTW_PHYS), 0);
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

/* Every path under the base, files with mode, size and mtime, sorted:
   two equal snapshots mean nothing was modified. Caller frees. */
static inline char *
store_test_snapshot(struct store_test *t)
{
	return store_test_walk_sorted(t, store_test_snapshot_entry);
}

/* Counters of account.info that a change may raise before a step that
   fails (UIDNEXT before an expunge, what an index rebuild saves): they
   only grow, and UIDs must only never be reused, so store_test_contents
   leaves their values out. */
static const char *const store_test_info_counters[] = {
	"UIDNext = ", "HighestModSeq = ", "LastUIDValidity = ",
};

/* Blanks the values of store_test_info_counters in data (in place: the
   digits become '#'). */
static inline void
store_test_blank_counters(unsigned char *data, size_t len)
{
	char *p = (char *)data, *end = p + len;
	unsigned int i;
	size_t klen;

	for (; p < end; p++) {
		for (i = 0; i < N_ELEMENTS(store_test_info_counters); i++) {
			klen = strlen(store_test_info_counters[i]);
			if ((size_t)(end - p) < klen ||
			    memcmp(p, store_test_info_counters[i], klen) != 0)
				continue;
			for (p += klen; p < end && *p >= '0' && *p <= '9'; p++)
				*p = '#';
			break;
		}
	}
}

static inline int
store_test_contents_entry(const char *path, const struct stat *st, int flag,
			  struct FTW *ftw)
{
	uint64_t hash = 0xcbf29ce484222325ULL;  /* FNV-1a */
	unsigned char *data;
	size_t i, len, plen = strlen(path);

	if (S_ISDIR(st->st_mode)) {
		buf_printf(store_test_snapshot_buf, "%s/\n", path);
		return 0;
	}
	/* Index caches: any operation may rebuild them. */
	if (plen > 4 && strcmp(path + plen - 4, ".idx") == 0)
		return 0;
	len = 0;
	if (S_ISREG(st->st_mode) && vfs_read_file(path, &data, &len) == 0) {
		if (plen > 5 && strcmp(path + plen - 5, ".info") == 0)
			store_test_blank_counters(data, len);
		for (i = 0; i < len; i++) {
			hash ^= data[i];
			hash *= 0x100000001b3ULL;
		}
		free(data);
	}
	buf_printf(store_test_snapshot_buf, "%s %o %zu %016llx\n", path,
		   (unsigned int)st->st_mode, len, (unsigned long long)hash);
	return 0;
}

/* Every path under the base with each file's mode, size and a hash of
   its contents (account.info without its counters' values), sorted,
   except index caches: what an operation that failed must leave as it
   was (unlike store_test_snapshot(), a file put back with the same bytes
   is equal). Caller frees. */
static inline char *
store_test_contents(struct store_test *t)
{
	return store_test_walk_sorted(t, store_test_contents_entry);
}

typedef int store_test_op_t(struct store_test *t, void *context);

/*
 * Fault sweep: runs op with the 1st, 2nd, ... call of vfs operation kind
 * ("any", "fsync", "rename", "unlink", ...) failing (vfs_fault_set), until
 * op succeeds. Every run that fails must leave store_test_contents() as
 * it was, which is also why the next run starts from the same state.
 * settle (may be NULL) runs before every attempt, without faults: it
 * brings the caller's handles up to date (a failed attempt may leave an
 * index to repair), so that every attempt's calls are counted alike.
 * Returns how many runs failed.
 */
static inline unsigned int
store_test_fault_sweep_settled(struct store_test *t, const char *kind,
			       store_test_op_t *op, store_test_op_t *settle,
			       void *context)
{
	char spec[64], *before, *after;
	unsigned int n, failed = 0;
	int ret;

	before = store_test_contents(t);
	for (n = 1; n <= 200; n++) {
		if (settle != NULL)
			assert_int_equal(settle(t, context), 0);
		snprintf(spec, sizeof(spec), "%s:%u", kind, n);
		vfs_fault_set(spec);
		ret = op(t, context);
		vfs_fault_set(NULL);
		if (ret == 0)
			break;
		failed++;
		store_clear_error();
		after = store_test_contents(t);
		if (strcmp(before, after) != 0) {
			/* cmocka cuts long messages short */
			fprintf(stderr, "--- before\n%s--- after %s\n%s",
				before, spec, after);
			fail_msg("%s changed the base directory", spec);
		}
		free(after);
	}
	assert_int_equal(ret, 0);
	free(before);
	return failed;
}

static inline unsigned int
store_test_fault_sweep(struct store_test *t, const char *kind,
		       store_test_op_t *op, void *context)
{
	return store_test_fault_sweep_settled(t, kind, op, NULL, context);
}

/* The mailbox tests' fixture: a store with the multi-mailbox account
   "joe" holding the mailbox "Box" of format. */
struct store_box_test {
	struct store_test st;
	struct account *account;
	enum mailbox_format format;
};

static inline int
store_box_test_setup(void **state, enum mailbox_format format)
{
	struct store_box_test *t = calloc(1, sizeof(*t));
	void *st;

	if (store_test_setup(&st) < 0)
		return -1;
	t->st = *(struct store_test *)st;
	free(st);
	t->format = format;
	t->account = store_test_new_account(&t->st, "joe", ACCOUNT_TYPE_MULTI);
	assert_int_equal(store_mailbox_create(t->account, "Box", format, NULL),
			 0);
	*state = t;
	return 0;
}

static inline int
store_box_test_teardown(void **state)
{
	struct store_box_test *t = *state;
	struct store_test *st = malloc(sizeof(*st));
	void *p = st;

	store_account_close(&t->account);
	*st = t->st;
	free(t);
	return store_test_teardown(&p);
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
