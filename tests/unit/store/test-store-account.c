/* SPDX-License-Identifier: MIT */
/*
 * test-store-account.c: unit tests for src/store/store-account.c:
 * creating the three kinds of account (files on disk, INBOX with its
 * account.info entry), names across domains, listing, deleting,
 * renaming, settings (secrets hidden) and the account lock: nesting,
 * between threads and between processes (fork).
 */
#include "test-store-common.h"
#include "test-child.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* Bounds for the concurrency tests. */
#define LOCK_ROUNDS 25
#define LOCK_PROCS 3

static void
assert_names(char **names, unsigned int count, const char *const *expect,
	     unsigned int expect_count)
{
	unsigned int i;

	assert_int_equal(count, expect_count);
	for (i = 0; i < count; i++)
		assert_string_equal(names[i], expect[i]);
}

static void
test_create_multi(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	struct mailbox_meta meta;
	char *text;

	assert_int_equal(store_account_create(t->store, "John",
					      ACCOUNT_TYPE_MULTI, "secret"), 0);
	assert_true(store_test_is_dir(t, "Accounts/john.macnt"));
	assert_true(store_test_exists(t, "Accounts/john.macnt/account.settings"));
	assert_true(store_test_exists(t, "Accounts/john.macnt/account.info"));
	assert_true(store_test_exists(t, "Accounts/john.macnt/account.lock"));
	assert_true(store_test_exists(t, "Accounts/john.macnt/INBOX.mbox"));
	text = store_test_read(t, "Accounts/john.macnt/account.settings");
	assert_null(strstr(text, "secret"));
	assert_non_null(strstr(text, "CryptPassword"));
	assert_non_null(strstr(text, "SCRAM-SHA-256"));
	assert_non_null(strstr(text, "Type = multi"));
	assert_non_null(strstr(text, "Created"));
	free(text);

	assert_int_equal(store_account_open(t->store, "JOHN@localhost",
					    &account), 0);
	assert_string_equal(store_account_name(account), "john");
	assert_string_equal(store_account_domain(account), "localhost");
	assert_int_equal(store_account_type(account), ACCOUNT_TYPE_MULTI);
	assert_ptr_equal(store_account_store(account), t->store);
	assert_int_equal(account_mailbox_meta_get(account, "INBOX", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_true(meta.uidvalidity > 0);
	mailbox_meta_free(&meta);
	text = store_test_read(t, "Accounts/john.macnt/account.info");
	assert_non_null(strstr(text, "UIDValidity"));
	free(text);
	store_account_close(&account);
	assert_null(account);
	/* no temp directory left behind */
	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	store_clear_error();
}

static void
test_create_multi_mdir_inbox(void **state)
{
	struct store_test *t = *state;

	assert_int_equal(store_account_create_ex(t->store, "mary",
		ACCOUNT_TYPE_MULTI, NULL, MAILBOX_FORMAT_MDIR), 0);
	assert_true(store_test_is_dir(t, "Accounts/mary.macnt/INBOX.mdir"));
	assert_false(store_test_exists(t, "Accounts/mary.macnt/INBOX.mbox"));
}

static void
test_create_single(void **state)
{
	struct store_test *t = *state;
	struct account *account;

	assert_int_equal(store_account_create(t->store, "sam",
					      ACCOUNT_TYPE_MBOX, "pw"), 0);
	assert_true(store_test_exists(t, "Accounts/sam.mbox"));
	assert_true(store_test_exists(t, "Accounts/sam.settings"));
	assert_true(store_test_exists(t, "Accounts/sam.info"));
	assert_true(store_test_exists(t, "Accounts/sam.lock"));
	assert_int_equal(store_account_open(t->store, "sam", &account), 0);
	assert_int_equal(store_account_type(account), ACCOUNT_TYPE_MBOX);
	store_account_close(&account);

	assert_int_equal(store_account_create(t->store, "dora",
					      ACCOUNT_TYPE_MDIR, NULL), 0);
	assert_true(store_test_is_dir(t, "Accounts/dora.mdir"));
	assert_int_equal(store_account_open(t->store, "dora", &account), 0);
	assert_int_equal(store_account_type(account), ACCOUNT_TYPE_MDIR);
	store_account_close(&account);

	/* every kind of existing account blocks every other kind */
	assert_int_equal(store_account_create(t->store, "sam",
					      ACCOUNT_TYPE_MULTI, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_account_create(t->store, "dora",
					      ACCOUNT_TYPE_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	/* a leftover mailbox file without settings is not silently reused */
	store_test_write(t, "Accounts/ghost.mbox", "From x\n");
	assert_int_equal(store_account_create(t->store, "ghost",
					      ACCOUNT_TYPE_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	store_clear_error();
}

static void
test_create_errors(void **state)
{
	struct store_test *t = *state;
	char **names, *before, *now;
	unsigned int count;

	/* the admin lock file is made on first use: make it now */
	store_test_write(t, "Settings/accounts.lock", "");
	before = store_test_snapshot(t);
	assert_int_equal(store_account_create(t->store, "../x",
					      ACCOUNT_TYPE_MULTI, NULL), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_create(t->store, "x@nodomain.org",
					      ACCOUNT_TYPE_MULTI, NULL), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_create(t->store, "x@../Accounts",
					      ACCOUNT_TYPE_MULTI, NULL), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_create(t->store, "x",
					      ACCOUNT_TYPE_MULTI, ""), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_delete(t->store, "/etc/passwd"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_rename(t->store, "x", "y"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_set_password(t->store, "..", "p"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	now = store_test_snapshot(t);
	assert_string_equal(now, before);
	free(now);
	free(before);
	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);
	store_clear_error();
}

static void
test_domains_and_list(void **state)
{
	static const char *const main_names[] = { "alice", "bob", "carol" };
	static const char *const dom_names[] = { "alice@example.org",
						 "zed@example.org" };
	struct store_test *t = *state;
	struct account *account;
	char **names;
	unsigned int count;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	assert_int_equal(store_account_create(t->store, "bob",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	assert_int_equal(store_account_create(t->store, "carol",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	assert_int_equal(store_account_create(t->store, "alice@LOCALHOST",
					      ACCOUNT_TYPE_MDIR, NULL), 0);
	assert_int_equal(store_account_create(t->store, "Alice@Example.org",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	assert_int_equal(store_account_create(t->store, "zed@example.org",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	assert_true(store_test_is_dir(t, "Domains/example.org/alice.macnt"));
	/* junk and caches are not accounts */
	store_test_write(t, "Accounts/carol.mbox.idx", "x");
	store_test_write(t, "Accounts/Upper.settings", "{}");
	store_test_write(t, "Accounts/x.macnt", "not a dir");
	store_test_write(t, "Accounts/.tmp-1-1-create", "x");

	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	assert_names(names, count, main_names, N_ELEMENTS(main_names));
	store_names_free(&names, count);
	assert_int_equal(store_account_list(t->store, "localhost", &names,
					    &count), 0);
	assert_names(names, count, main_names, N_ELEMENTS(main_names));
	store_names_free(&names, count);
	assert_int_equal(store_account_list(t->store, "Example.ORG", &names,
					    &count), 0);
	assert_names(names, count, dom_names, N_ELEMENTS(dom_names));
	store_names_free(&names, count);
	assert_int_equal(store_account_list(t->store, "none.org", &names,
					    &count), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_list(t->store, "../..", &names,
					    &count), -1);
	store_test_assert_error(STORE_ERROR_INVALID);

	assert_int_equal(store_account_open(t->store, "alice@example.org",
					    &account), 0);
	assert_string_equal(store_account_name(account), "alice@example.org");
	assert_string_equal(store_account_domain(account), "example.org");
	store_account_close(&account);
	assert_int_equal(store_account_open(t->store, "nobody", &account),
			 -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_open(t->store, "bob@none.org",
					    &account), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	/* a domain with accounts cannot go */
	assert_int_equal(store_domain_delete(t->store, "example.org"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	store_clear_error();
}

static void
test_delete(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	char **names, *path;
	unsigned int count;

	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	assert_int_equal(store_account_create(t->store, "s",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	assert_int_equal(store_account_create(t->store, "d",
					      ACCOUNT_TYPE_MDIR, NULL), 0);
	store_test_write(t, "Accounts/s.mbox.idx", "cache");
	assert_int_equal(store_account_open(t->store, "m", &account), 0);

	assert_int_equal(store_account_delete(t->store, "m"), 0);
	assert_int_equal(store_account_delete(t->store, "s@localhost"), 0);
	assert_int_equal(store_account_delete(t->store, "D"), 0);
	assert_int_equal(store_account_delete(t->store, "m"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_delete(t->store, "../m"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);

	/* nothing at all is left in Accounts/ */
	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);
	path = store_test_path(t, "Accounts");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(store_mkdir(path), 0);
	free(path);

	/* a handle of the deleted account cannot lock it any more */
	assert_int_equal(account_lock(account, true), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	store_account_close(&account);

	/* and the name is free again */
	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	store_clear_error();
}

static void
test_rename(void **state)
{
	struct store_test *t = *state;
	struct account *account;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MULTI, "pw1"), 0);
	assert_int_equal(store_account_create(t->store, "s",
					      ACCOUNT_TYPE_MBOX, "pw2"), 0);
	store_test_write(t, "Accounts/s.mbox.idx", "cache");

	assert_int_equal(store_account_rename(t->store, "m", "m2"), 0);
	assert_false(store_test_exists(t, "Accounts/m.macnt"));
	assert_true(store_test_exists(t, "Accounts/m2.macnt/INBOX.mbox"));
	assert_int_equal(store_account_rename(t->store, "m2",
					      "m3@example.org"), 0);
	assert_true(store_test_is_dir(t, "Domains/example.org/m3.macnt"));
	assert_int_equal(store_account_open(t->store, "m3@example.org",
					    &account), 0);
	assert_int_equal(store_account_verify_password(account, "pw1"), 1);
	store_account_close(&account);

	assert_int_equal(store_account_rename(t->store, "s", "t"), 0);
	assert_false(store_test_exists(t, "Accounts/s.mbox"));
	assert_false(store_test_exists(t, "Accounts/s.settings"));
	assert_false(store_test_exists(t, "Accounts/s.info"));
	assert_false(store_test_exists(t, "Accounts/s.mbox.idx"));
	assert_true(store_test_exists(t, "Accounts/t.mbox"));
	assert_true(store_test_exists(t, "Accounts/t.mbox.idx"));
	assert_true(store_test_exists(t, "Accounts/t.settings"));
	assert_true(store_test_exists(t, "Accounts/t.info"));
	assert_int_equal(store_account_open(t->store, "t", &account), 0);
	assert_int_equal(store_account_verify_password(account, "pw2"), 1);
	store_account_close(&account);

	/* errors: missing source, existing target, same name, bad names */
	assert_int_equal(store_account_rename(t->store, "s", "u"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_create(t->store, "u",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	assert_int_equal(store_account_rename(t->store, "t", "u"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_account_rename(t->store, "t", "T@localhost"),
			 -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_account_rename(t->store, "t", "../../x"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_rename(t->store, "t", "x@none.org"),
			 -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_true(store_test_exists(t, "Accounts/t.mbox"));
	store_clear_error();
}

struct rename_case {
	const char *from, *to;
};

static int
rename_op(struct store_test *t, void *context)
{
	struct rename_case *c = context;

	return store_account_rename(t->store, c->from, c->to);
}

static int
delete_op(struct store_test *t, void *context)
{
	return store_account_delete(t->store, context);
}

/* Renames and deletes that fail at any step (a rename, the directory
   fsyncs) leave the account where it was, whole. */
static void
test_rename_delete_faults(void **state)
{
	static const char *const kinds[] = { "any", "rename", "fsync" };
	struct store_test *t = *state;
	struct rename_case there = { "m", "m@example.org" };
	struct rename_case back = { "m@example.org", "m" };
	struct rename_case single = { "s", "s@example.org" };
	struct account *account;
	unsigned int i;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MULTI, "pw"), 0);
	assert_int_equal(store_account_create(t->store, "s",
					      ACCOUNT_TYPE_MDIR, "pw"), 0);
	for (i = 0; i < N_ELEMENTS(kinds); i++) {
		assert_true(store_test_fault_sweep(t, kinds[i], rename_op,
						   &there) >= 1);
		assert_true(store_test_fault_sweep(t, kinds[i], rename_op,
						   &back) >= 1);
	}
	assert_true(store_test_fault_sweep(t, "any", rename_op,
					   &single) >= 6);
	assert_int_equal(store_account_open(t->store, "s@example.org",
					    &account), 0);
	assert_int_equal(store_account_verify_password(account, "pw"), 1);
	store_account_close(&account);

	/* the renames aside and the directory fsync can fail; removing
	   the files afterwards is cleanup (below) */
	assert_true(store_test_fault_sweep(t, "fsync", delete_op, "m") == 1);
	assert_false(store_test_exists(t, "Accounts/m.macnt"));
	assert_true(store_test_fault_sweep(t, "rename", delete_op,
					   "s@example.org") >= 5);
	assert_false(store_test_exists(t, "Domains/example.org/s.settings"));
	store_clear_error();
}

/* Once the account is renamed aside (durably) it is deleted: a removal
   that fails then is no failure of the delete, and what it left is not
   an account and goes with a later listing (of another process). */
static void
test_delete_cleanup_fails(void **state)
{
	struct store_test *t = *state;
	char **names, *dir;
	unsigned int count;

	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	vfs_fault_set("unlink:2");
	assert_int_equal(store_account_delete(t->store, "m"), 0);
	vfs_fault_set(NULL);
	assert_false(store_test_exists(t, "Accounts/m.macnt"));
	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);
	/* ours: kept while this process runs */
	dir = store_test_path(t, "Accounts");
	store_cleanup_temp(dir);
	assert_true(rmdir(dir) == -1 && errno == ENOTEMPTY);
	free(dir);
	assert_int_equal(store_account_create(t->store, "m",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	store_clear_error();
}

static void
test_settings(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	char *text, *value;

	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MULTI, "hunter2"), 0);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	text = store_account_settings_text(account);
	assert_non_null(text);
	assert_non_null(strstr(text, "(hidden)"));
	assert_null(strstr(text, "$y$"));
	assert_null(strstr(text, "$6$"));
	assert_null(strstr(text, "StoredKey"));
	assert_non_null(strstr(text, "multi"));
	free(text);

	assert_null(store_account_setting(account, "CryptPassword"));
	assert_null(store_account_setting(account, "Missing"));
	value = store_account_setting(account, "Type");
	assert_string_equal(value, "multi");
	free(value);
	assert_int_equal(store_account_set_setting(account, "RealName",
						   "John \"J\" Doe"), 0);
	value = store_account_setting(account, "RealName");
	assert_string_equal(value, "John \"J\" Doe");
	free(value);
	assert_int_equal(store_account_set_setting(account, "RealName", NULL),
			 0);
	assert_null(store_account_setting(account, "RealName"));
	assert_int_equal(store_account_set_setting(account, "CryptPassword",
						   "x"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_set_setting(account, "Bad Key", "x"),
			 -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_account_set_setting(account, "", "x"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	/* the password survived the setting changes */
	assert_int_equal(store_account_verify_password(account, "hunter2"), 1);
	store_account_close(&account);
	store_clear_error();
}

static void
test_type_names(void **state)
{
	enum account_type type;

	assert_string_equal(store_account_type_name(ACCOUNT_TYPE_MULTI),
			    "multi");
	assert_string_equal(store_account_type_name(ACCOUNT_TYPE_MBOX),
			    "mbox");
	assert_string_equal(store_account_type_name(ACCOUNT_TYPE_MDIR),
			    "mdir");
	assert_int_equal(store_account_type_parse("MDIR", &type), 0);
	assert_int_equal(type, ACCOUNT_TYPE_MDIR);
	assert_int_equal(store_account_type_parse("maildir", &type), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	store_clear_error();
}

static void
test_lock_nesting(void **state)
{
	struct store_test *t = *state;
	struct account *account;

	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	assert_int_equal(account_lock(account, true), 0);
	assert_int_equal(account_lock(account, false), 0);
	assert_int_equal(account_lock(account, true), 0);
	assert_int_equal(account->lock_depth, 3);
	account_unlock(account);
	account_unlock(account);
	assert_true(account->lock_fd != -1);
	account_unlock(account);
	assert_int_equal(account->lock_fd, -1);
	assert_int_equal(account_lock(account, false), 0);
	assert_int_equal(account_lock(account, false), 0);
	account_unlock(account);
	account_unlock(account);
	store_account_close(&account);
}

/* Adds 1 to the number in account's file "counter" LOCK_ROUNDS times
   under the exclusive lock, with a pause between read and write that
   makes a missing lock lose updates. */
static void
counter_rounds(struct account *account)
{
	char *path = i_strdup_printf("%s/counter", account->path);
	struct timespec pause = { 0, 200 * 1000 };
	unsigned int i;
	long n;
	FILE *f;

	for (i = 0; i < LOCK_ROUNDS; i++) {
		if (account_lock(account, true) == -1)
			abort();
		n = 0;
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &n) != 1)
				n = -1000;
			fclose(f);
		}
		nanosleep(&pause, NULL);
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fprintf(f, "%ld\n", n + 1);
		fclose(f);
		account_unlock(account);
	}
	free(path);
}

static long
read_counter(struct store_test *t)
{
	char *text = store_test_read(t, "Accounts/john.macnt/counter");
	long n = text == NULL ? -1 : strtol(text, NULL, 10);

	free(text);
	return n;
}

static void
test_lock_processes(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	struct store *store;
	pid_t pids[LOCK_PROCS];
	unsigned int i;
	int status;

	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	for (i = 0; i < LOCK_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] != 0)
			continue;
		/* child: its own store and handle */
		if (store_open(t->base, &store) == -1 ||
		    store_account_open(store, "john", &account) == -1)
			_exit(2);
		counter_rounds(account);
		store_account_close(&account);
		store_close(&store);
		_exit(0);
	}
	for (i = 0; i < LOCK_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(read_counter(t), LOCK_ROUNDS * LOCK_PROCS);
}

struct lock_thread {
	struct store *store;
};

static void *
lock_thread_run(void *context)
{
	struct lock_thread *lt = context;
	struct account *account;

	if (store_account_open(lt->store, "john", &account) == -1)
		abort();
	counter_rounds(account);
	store_account_close(&account);
	return NULL;
}

static void
test_lock_threads(void **state)
{
	struct store_test *t = *state;
	struct lock_thread lt = { t->store };
	pthread_t threads[LOCK_PROCS];
	unsigned int i;

	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MULTI, NULL), 0);
	for (i = 0; i < LOCK_PROCS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL,
						lock_thread_run, &lt), 0);
	for (i = 0; i < LOCK_PROCS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	assert_int_equal(read_counter(t), LOCK_ROUNDS * LOCK_PROCS);
}

/* A shared lock waits for an exclusive holder in another process. */
static void
test_lock_shared_waits(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	struct store *store;
	int fds[2], status;
	char c;
	pid_t pid;

	assert_int_equal(store_account_create(t->store, "sam",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct timespec hold = { 0, 300 * 1000 * 1000 };

		close(fds[0]);
		if (store_open(t->base, &store) == -1 ||
		    store_account_open(store, "sam", &account) == -1 ||
		    account_lock(account, true) == -1)
			_exit(2);
		if (write(fds[1], "L", 1) != 1)
			_exit(3);
		nanosleep(&hold, NULL);
		store_test_write(t, "Accounts/marker", "done");
		account_unlock(account);
		store_account_close(&account);
		store_close(&store);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(store_account_open(t->store, "sam", &account), 0);
	assert_int_equal(account_lock(account, false), 0);
	/* granted only after the child wrote its marker */
	assert_true(store_test_exists(t, "Accounts/marker"));
	account_unlock(account);
	store_account_close(&account);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Creating the same account from several processes at once: exactly one
   wins, the others get EXISTS. */
static void
test_create_race(void **state)
{
	struct store_test *t = *state;
	struct store *store;
	pid_t pids[LOCK_PROCS];
	unsigned int i, won = 0, lost = 0;
	char **names;
	unsigned int count;
	int status;

	for (i = 0; i < LOCK_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] != 0)
			continue;
		if (store_open(t->base, &store) == -1)
			_exit(2);
		if (store_account_create(store, "race", i % 2 == 0 ?
					 ACCOUNT_TYPE_MULTI :
					 ACCOUNT_TYPE_MBOX, NULL) == 0)
			_exit(0);
		_exit(store_error(NULL) == STORE_ERROR_EXISTS ? 1 : 3);
	}
	for (i = 0; i < LOCK_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else if (WEXITSTATUS(status) == 1)
			lost++;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, LOCK_PROCS - 1);
	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	assert_int_equal(count, 1);
	store_names_free(&names, count);
}

/* ---- fault injection (COMMUNE_VFS_FAIL / COMMUNE_VFS_CRASH) ---- */

#define FAULT_MAX 200

/* The re-executed child: creates account "fault" and exits 0, or 1 when
   the store refused. vfs reads its variables once per process, hence a
   fresh process per case. */
static int
fault_child(const char *base, const char *type_name)
{
	enum account_type type;
	struct store *store;
	int ret;

	if (store_account_type_parse(type_name, &type) == -1 ||
	    store_open(base, &store) == -1)
		return 2;
	ret = store_account_create(store, "fault", type, "pw") == 0 ? 0 : 1;
	store_close(&store);
	return ret;
}

/* Runs the child with env=value; returns its exit status, or 128 + the
   signal that killed it. */
static int
run_fault_child(const char *base, const char *type, const char *env,
		const char *value)
{
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		setenv(env, value, 1);
		execl(test_self_exe(), "test-store-account", "--fault-child",
		      base, type, (char *)NULL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* After a failed or killed creation the account is whole or absent, no
   temp entry survives a listing, and the name can be used again. */
static bool
assert_whole_or_absent(struct store_test *t, bool multi)
{
	struct account *account;
	enum mailbox_format format;
	char **names;
	unsigned int count;
	DIR *dir;
	struct dirent *d;
	char *path;
	bool exists;

	assert_int_equal(store_account_list(t->store, NULL, &names, &count),
			 0);
	exists = count == 1;
	assert_true(count <= 1);
	store_names_free(&names, count);
	if (exists) {
		assert_int_equal(store_account_open(t->store, "fault",
						    &account), 0);
		assert_int_equal(account_mailbox_locate(account, "INBOX",
							&format, NULL), 0);
		assert_int_equal(store_account_verify_password(account, "pw"),
				 1);
		store_account_close(&account);
		assert_int_equal(store_account_delete(t->store, "fault"), 0);
	} else if (multi) {
		assert_false(store_test_exists(t, "Accounts/fault.macnt"));
	}
	path = store_test_path(t, "Accounts");
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, ".tmp-", 5) == 0)
			fail_msg("left behind: %s", d->d_name);
		if (multi && strcmp(d->d_name, ".") != 0 &&
		    strcmp(d->d_name, "..") != 0)
			fail_msg("left behind: %s", d->d_name);
	}
	closedir(dir);
	free(path);
	return exists;
}

/* Fails (or kills the child at) the 1st, 2nd, ... store write of an
   account creation until one succeeds; checks the outcome each time. */
static void
fault_cases(struct store_test *t, const char *type, const char *env,
	    const char *prefix, const char *suffix)
{
	bool multi = strcmp(type, "multi") == 0;
	char value[64];
	bool exists;
	long n;
	int ret;

	for (n = 1; n <= FAULT_MAX; n++) {
		snprintf(value, sizeof(value), "%s%ld%s", prefix, n, suffix);
		ret = run_fault_child(t->base, type, env, value);
		if (ret != 0 && ret != 1 && ret != 128 + SIGKILL)
			fail_msg("%s=%s: child status %d", env, value, ret);
		exists = assert_whole_or_absent(t, multi || ret == 1);
		/* a refused creation changed nothing */
		if (ret == 1)
			assert_false(exists);
		if (ret == 0) {
			assert_true(exists);
			return;
		}
	}
	fail_msg("%s: still failing after %d cases", env, FAULT_MAX);
}

static void
test_create_faults(void **state)
{
	struct store_test *t = *state;

	fault_cases(t, "multi", "COMMUNE_VFS_FAIL", "any:", "");
	fault_cases(t, "mbox", "COMMUNE_VFS_FAIL", "any:", "");
	fault_cases(t, "mdir", "COMMUNE_VFS_FAIL", "any:", ":ENOSPC");
	/* a crash at any write: the multi account is whole or absent */
	fault_cases(t, "multi", "COMMUNE_VFS_CRASH", "", "");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_create_multi),
		T(test_create_multi_mdir_inbox),
		T(test_create_single),
		T(test_create_errors),
		T(test_domains_and_list),
		T(test_delete),
		T(test_rename),
		T(test_settings),
		T(test_type_names),
		T(test_lock_nesting),
		T(test_lock_processes),
		T(test_lock_threads),
		T(test_lock_shared_waits),
		T(test_create_race),
		T(test_create_faults),
		T(test_rename_delete_faults),
		T(test_delete_cleanup_fails),
#undef T
	};

	if (argc == 4 && strcmp(argv[1], "--fault-child") == 0)
		return fault_child(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
