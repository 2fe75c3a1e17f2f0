/* SPDX-License-Identifier: MIT */
/*
 * test-store.c: unit tests for src/store/store.c and store-error.c:
 * opening a base directory (layout created, main domain read from
 * Settings/Main.settings), changing the main domain, and the shared
 * helpers (durable mkdir, tree removal, temp names
 * and the clean-up of a dead process's leftovers).
 */
#include "test-store-common.h"

#include <sys/wait.h>

static void
test_open_creates_layout(void **state)
{
	struct store_test *t = *state;

	assert_true(store_test_is_dir(t, "Accounts"));
	assert_true(store_test_is_dir(t, "Domains"));
	assert_true(store_test_is_dir(t, "Settings"));
	assert_string_equal(store_main_domain(t->store), "localhost");
	assert_string_equal(store_base_dir(t->store), t->base);
}

static void
test_open_missing_base(void **state)
{
	struct store_test *t = *state;
	struct store *store;
	char *base = store_test_path(t, "sub/new-base/");

	/* The parent "sub" does not exist: an error, nothing made. */
	assert_int_equal(store_open(base, &store), -1);
	store_test_assert_error(STORE_ERROR_TEMP);
	store_clear_error();
	free(base);

	base = store_test_path(t, "new-base//");
	assert_int_equal(store_open(base, &store), 0);
	assert_true(store_test_is_dir(t, "new-base/Accounts"));
	/* trailing slashes are dropped */
	base[strlen(base) - 2] = '\0';
	assert_string_equal(store_base_dir(store), base);
	store_close(&store);
	assert_null(store);
	free(base);
}

static void
test_main_domain_from_settings(void **state)
{
	struct store_test *t = *state;
	struct store *store;

	store_test_write(t, "Settings/Main.settings",
			 "{ DomainName = Example.COM; Other = x; }\n");
	assert_int_equal(store_open(t->base, &store), 0);
	assert_string_equal(store_main_domain(store), "example.com");
	assert_true(store_domain_is_main(store, "EXAMPLE.com"));
	assert_true(store_domain_exists(store, "example.com"));
	store_close(&store);

	store_test_write(t, "Settings/Main.settings",
			 "{ DomainName = \"../etc\"; }\n");
	assert_int_equal(store_open(t->base, &store), -1);
	store_test_assert_error(STORE_ERROR_CORRUPT);
	store_test_write(t, "Settings/Main.settings", "{ DomainName = ");
	assert_int_equal(store_open(t->base, &store), -1);
	store_test_assert_error(STORE_ERROR_CORRUPT);
	store_clear_error();
}

static void
test_set_main_domain(void **state)
{
	struct store_test *t = *state;
	struct store *store;
	const char *old = store_main_domain(t->store);
	char *text;

	store_test_write(t, "Settings/Main.settings", "{ Keep = me; }\n");
	assert_int_equal(store_set_main_domain(t->store, "Mail.Example.org"),
			 0);
	assert_string_equal(store_main_domain(t->store), "mail.example.org");
	/* the earlier pointer stays valid until store_close */
	assert_string_equal(old, "localhost");
	text = store_test_read(t, "Settings/Main.settings");
	assert_non_null(strstr(text, "mail.example.org"));
	assert_non_null(strstr(text, "Keep"));
	free(text);

	assert_int_equal(store_open(t->base, &store), 0);
	assert_string_equal(store_main_domain(store), "mail.example.org");
	store_close(&store);

	assert_int_equal(store_set_main_domain(t->store, "bad..name"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_domain_create(t->store, "other.org"), 0);
	assert_int_equal(store_set_main_domain(t->store, "other.org"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_string_equal(store_main_domain(t->store), "mail.example.org");
	store_clear_error();
}

static void
test_domain_dir(void **state)
{
	struct store_test *t = *state;
	char *dir, *expect;

	dir = store_domain_dir(t->store, NULL);
	expect = store_test_path(t, "Accounts");
	assert_string_equal(dir, expect);
	free(dir);
	dir = store_domain_dir(t->store, "LOCALHOST");
	assert_string_equal(dir, expect);
	free(dir);
	free(expect);
	dir = store_domain_dir(t->store, "example.org");
	expect = store_test_path(t, "Domains/example.org");
	assert_string_equal(dir, expect);
	free(dir);
	free(expect);
}

static void
test_remove_tree(void **state)
{
	struct store_test *t = *state;
	char *path = store_test_path(t, "tree"), *sub, *link;

	assert_int_equal(store_mkdir(path), 0);
	assert_int_equal(store_mkdir(path), 0);
	sub = store_test_path(t, "tree/a");
	assert_int_equal(store_mkdir(sub), 0);
	free(sub);
	store_test_write(t, "tree/a/f", "x");
	store_test_write(t, "tree/g", "y");
	store_test_write(t, "outside", "z");
	sub = store_test_path(t, "outside");
	link = store_test_path(t, "tree/link");
	assert_int_equal(symlink(sub, link), 0);
	free(link);
	free(sub);
	assert_int_equal(store_remove_tree(path), 0);
	assert_false(store_test_exists(t, "tree"));
	/* the symlink was removed, not followed */
	assert_true(store_test_exists(t, "outside"));
	assert_int_equal(store_remove_tree(path), 0);
	/* mkdir over a file fails */
	sub = store_test_path(t, "outside");
	assert_int_equal(store_mkdir(sub), -1);
	store_clear_error();
	free(sub);
	free(path);
}

static void
test_temp_cleanup(void **state)
{
	struct store_test *t = *state;
	char *dir = store_test_path(t, "Accounts"), *tmp, *name;
	pid_t pid;
	int status;

	tmp = store_temp_path(dir, "x");
	assert_non_null(strstr(tmp, "/.tmp-"));
	assert_int_equal(store_mkdir(tmp), 0);
	/* our own temp: kept */
	store_cleanup_temp(dir);
	assert_int_equal(access(tmp, F_OK), 0);
	free(tmp);

	/* a dead process's temp: removed */
	pid = fork();
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	name = i_strdup_printf("Accounts/.tmp-%ld-0-delete", (long)pid);
	tmp = store_test_path(t, name);
	assert_int_equal(store_mkdir(tmp), 0);
	free(tmp);
	tmp = i_strdup_printf("%s/inner", name);
	store_test_write(t, tmp, "x");
	free(tmp);
	store_cleanup_temp(dir);
	assert_false(store_test_exists(t, name));
	free(name);

	/* a file vfs_write_file_atomic left when killed: removed; names
	   that only look alike, a directory (a hierarchy node could be
	   named so) and our own temp file: kept */
	name = i_strdup_printf("Accounts/a.info.tmp.%ld.7f3a", (long)pid);
	store_test_write(t, name, "old");
	tmp = i_strdup_printf("Accounts/x.tmp.%ld.7f3a.mbox", (long)pid);
	store_test_write(t, tmp, "mailbox");
	free(tmp);
	tmp = i_strdup_printf("Accounts/y.tmp.%ld.7f3a", (long)pid);
	store_test_mkdir(t, tmp);
	free(tmp);
	tmp = i_strdup_printf("Accounts/b.info.tmp.%ld.7f3a",
			      (long)getpid());
	store_test_write(t, tmp, "mine");
	free(tmp);
	store_cleanup_temp(dir);
	assert_false(store_test_exists(t, name));
	free(name);
	name = i_strdup_printf("Accounts/x.tmp.%ld.7f3a.mbox", (long)pid);
	assert_true(store_test_exists(t, name));
	free(name);
	name = i_strdup_printf("Accounts/y.tmp.%ld.7f3a", (long)pid);
	assert_true(store_test_is_dir(t, name));
	free(name);
	name = i_strdup_printf("Accounts/b.info.tmp.%ld.7f3a",
			       (long)getpid());
	assert_true(store_test_exists(t, name));
	free(name);
	free(dir);
}

static int
dict_write_op(struct store_test *t, void *context)
{
	char *path = store_test_path(t, "Settings/Main.settings");
	struct dict_value *dict = dict_new_dict();
	int ret;

	dict_set_str(dict, "DomainName", context);
	ret = store_dict_file_write(path, dict);
	dict_value_free(&dict);
	free(path);
	return ret;
}

/* A dictionary file write that fails at any step leaves the old file,
   and the error names the step that failed. */
static void
test_dict_write_faults(void **state)
{
	struct store_test *t = *state;
	char *dir = store_test_path(t, "Settings"), *expect;
	const char *text;

	assert_int_equal(dict_write_op(t, "old.example"), 0);
	assert_true(store_test_fault_sweep(t, "any", dict_write_op,
					   "new.example") >= 4);
	assert_true(store_test_fault_sweep(t, "fsync", dict_write_op,
					   "newer.example") == 2);
	/* the directory fsync: named as such, not as a write */
	vfs_fault_set("fsync:2");
	assert_int_equal(dict_write_op(t, "x.example"), -1);
	vfs_fault_set(NULL);
	store_test_assert_error(STORE_ERROR_TEMP);
	(void)store_error(&text);
	expect = i_strdup_printf("fsync(%s) failed: ", dir);
	assert_true(strncmp(text, expect, strlen(expect)) == 0);
	free(expect);
	vfs_fault_set("rename:1:ENOSPC");
	assert_int_equal(dict_write_op(t, "x.example"), -1);
	vfs_fault_set(NULL);
	store_test_assert_error(STORE_ERROR_NOSPACE);
	(void)store_error(&text);
	assert_true(strncmp(text, "rename(", 7) == 0);
	store_clear_error();
	free(dir);
}

static int
mkdir_op(struct store_test *t, void *context)
{
	char *path = store_test_path(t, context);
	int ret = store_mkdir(path);

	free(path);
	return ret;
}

/* A directory whose fsync failed is removed again. */
static void
test_mkdir_faults(void **state)
{
	struct store_test *t = *state;

	assert_int_equal(store_test_fault_sweep(t, "any", mkdir_op, "d1"), 2);
	assert_true(store_test_is_dir(t, "d1"));
	assert_int_equal(store_test_fault_sweep(t, "fsync", mkdir_op, "d2"),
			 1);
	assert_true(store_test_is_dir(t, "d2"));
}

/* store_renames: all or nothing. */
static void
test_renames(void **state)
{
	struct store_test *t = *state;
	struct store_renames renames;
	char *before, *after;

	store_test_write(t, "a", "1");
	store_test_write(t, "b", "2");
	store_test_write(t, "c", "3");
	before = store_test_contents(t);
	memset(&renames, 0, sizeof(renames));
	store_renames_add(&renames, store_test_path(t, "a"),
			  store_test_path(t, "A"), false);
	store_renames_add(&renames, store_test_path(t, "missing"),
			  store_test_path(t, "M"), true);
	store_renames_add(&renames, store_test_path(t, "b"),
			  store_test_path(t, "B"), false);
	store_renames_add(&renames, store_test_path(t, "c"),
			  store_test_path(t, "C"), false);
	/* the third rename fails: the first two are taken back */
	vfs_fault_set("rename:3");
	assert_int_equal(store_renames_run(&renames), -1);
	vfs_fault_set(NULL);
	store_test_assert_error(STORE_ERROR_TEMP);
	store_clear_error();
	after = store_test_contents(t);
	assert_string_equal(before, after);
	free(after);
	/* all done, then undone (a later step failed) */
	assert_int_equal(store_renames_run(&renames), 0);
	assert_true(store_test_exists(t, "C"));
	assert_false(store_test_exists(t, "a"));
	store_renames_undo(&renames);
	after = store_test_contents(t);
	assert_string_equal(before, after);
	free(after);
	/* a missing step that must exist fails */
	store_renames_free(&renames);
	store_renames_add(&renames, store_test_path(t, "a"),
			  store_test_path(t, "A"), false);
	store_renames_add(&renames, store_test_path(t, "missing"),
			  store_test_path(t, "M"), false);
	assert_int_equal(store_renames_run(&renames), -1);
	store_clear_error();
	store_renames_free(&renames);
	after = store_test_contents(t);
	assert_string_equal(before, after);
	free(after);
	free(before);
}

static void
test_names_helpers(void **state)
{
	char **names = NULL;
	unsigned int count = 0;

	store_names_add(&names, &count, i_strdup("b"));
	store_names_add(&names, &count, i_strdup("a"));
	store_names_add(&names, &count, i_strdup("c"));
	store_names_sort(names, count);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[2], "c");
	store_names_free(&names, count);
	assert_null(names);
	store_names_free(&names, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_open_creates_layout),
		T(test_open_missing_base),
		T(test_main_domain_from_settings),
		T(test_set_main_domain),
		T(test_domain_dir),
		T(test_remove_tree),
		T(test_temp_cleanup),
		T(test_names_helpers),
		T(test_dict_write_faults),
		T(test_mkdir_faults),
		T(test_renames),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
