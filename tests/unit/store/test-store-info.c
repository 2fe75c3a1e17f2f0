/* SPDX-License-Identifier: MIT */
/*
 * test-store-info.c: unit tests for src/store/store-info.c: per-mailbox
 * meta in account.info (fresh, saved, read back, removed, renamed with
 * children), UIDVALIDITY always above any used before (also within one
 * second), keys written by others kept, a corrupt file moved aside, and
 * read-modify-write from several processes at once losing nothing.
 */
#include "test-store-common.h"

#include <sys/wait.h>
#include <time.h>

#define INFO_PROCS 3
#define INFO_ROUNDS 8

static void
test_meta_fresh_not_saved(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_meta meta;
	time_t now = time(NULL);
	char *text;

	assert_int_equal(account_mailbox_meta_get(account, "Nope", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_true(meta.uidvalidity >= (uint32_t)now);
	assert_int_equal(meta.keyword_count, 0);
	assert_null(meta.class);
	mailbox_meta_free(&meta);
	text = store_test_read(t, "Accounts/john.macnt/account.info");
	assert_null(strstr(text, "Nope"));
	free(text);
	store_account_close(&account);
}

static void
test_meta_roundtrip(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_meta meta, back;
	struct store *store;

	memset(&meta, 0, sizeof(meta));
	meta.uidvalidity = 1234567;
	meta.uidnext = 42;
	meta.highestmodseq = 1ULL << 40;
	meta.keywords[0] = i_strdup("$Forwarded");
	meta.keywords[1] = i_strdup("Work \"x\"");
	meta.keyword_count = 2;
	meta.class = i_strdup(STORE_CLASS_TASKS);
	assert_int_equal(account_mailbox_meta_set(account, "Tasks/Ünï",
						  &meta), 0);
	mailbox_meta_free(&meta);
	store_account_close(&account);

	/* another store, as another process would */
	assert_int_equal(store_open(t->base, &store), 0);
	assert_int_equal(store_account_open(store, "john", &account), 0);
	assert_int_equal(account_mailbox_meta_get(account, "Tasks/Ünï",
						  &back), 0);
	assert_int_equal(back.uidvalidity, 1234567);
	assert_int_equal(back.uidnext, 42);
	assert_true(back.highestmodseq == 1ULL << 40);
	assert_int_equal(back.keyword_count, 2);
	assert_string_equal(back.keywords[0], "$Forwarded");
	assert_string_equal(back.keywords[1], "Work \"x\"");
	assert_string_equal(back.class, STORE_CLASS_TASKS);
	mailbox_meta_free(&back);
	assert_int_equal(back.keyword_count, 0);
	assert_null(back.class);

	/* "inbox" is INBOX */
	assert_int_equal(account_mailbox_meta_get(account, "inbox", &back), 0);
	meta = back;
	assert_int_equal(account_mailbox_meta_get(account, "INBOX", &back), 0);
	assert_int_equal(meta.uidvalidity, back.uidvalidity);
	mailbox_meta_free(&meta);
	mailbox_meta_free(&back);

	assert_int_equal(account_mailbox_meta_remove(account, "Tasks/Ünï"), 0);
	assert_int_equal(account_mailbox_meta_get(account, "Tasks/Ünï",
						  &back), 0);
	assert_int_equal(back.uidnext, 1);
	assert_true(back.uidvalidity > 1234567);
	mailbox_meta_free(&back);
	store_account_close(&account);
	store_close(&store);
}

static void
test_uidvalidity_increases(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct account *other;
	struct mailbox_meta meta;
	uint32_t last = 0;
	unsigned int i;
	char *text;

	/* create/delete the same mailbox quickly: new value every time,
	   also seen by a second handle that has handed out nothing */
	for (i = 0; i < 5; i++) {
		assert_int_equal(account_mailbox_meta_get(account, "Box",
							  &meta), 0);
		assert_true(meta.uidvalidity > last);
		last = meta.uidvalidity;
		assert_int_equal(account_mailbox_meta_set(account, "Box",
							  &meta), 0);
		mailbox_meta_free(&meta);
		assert_int_equal(account_mailbox_meta_remove(account, "Box"),
				 0);
		assert_int_equal(store_account_open(t->store, "john", &other),
				 0);
		assert_true(account_new_uidvalidity(other) > last);
		store_account_close(&other);
	}
	text = store_test_read(t, "Accounts/john.macnt/account.info");
	assert_non_null(strstr(text, "LastUIDValidity"));
	free(text);

	/* a value far ahead of the clock (clock set back) still rises */
	memset(&meta, 0, sizeof(meta));
	meta.uidvalidity = (uint32_t)time(NULL) + 100000;
	meta.uidnext = 1;
	assert_int_equal(account_mailbox_meta_set(account, "Future", &meta),
			 0);
	assert_true(account_new_uidvalidity(account) > meta.uidvalidity);
	store_account_close(&account);
}

static void
test_meta_move(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	static const char *const names[] = { "A", "A/b", "A/b/c", "AB", "A-x" };
	struct mailbox_meta meta;
	unsigned int i;

	memset(&meta, 0, sizeof(meta));
	meta.uidnext = 1;
	for (i = 0; i < N_ELEMENTS(names); i++) {
		meta.uidvalidity = 100 + i;
		assert_int_equal(account_mailbox_meta_set(account, names[i],
							  &meta), 0);
	}
	assert_int_equal(account_mailbox_meta_rename(account, "A", "Z/A"), 0);
	assert_int_equal(account_mailbox_meta_get(account, "Z/A", &meta), 0);
	assert_int_equal(meta.uidvalidity, 100);
	assert_int_equal(account_mailbox_meta_get(account, "Z/A/b/c", &meta),
			 0);
	assert_int_equal(meta.uidvalidity, 102);
	/* siblings with the same prefix stay */
	assert_int_equal(account_mailbox_meta_get(account, "AB", &meta), 0);
	assert_int_equal(meta.uidvalidity, 103);
	assert_int_equal(account_mailbox_meta_get(account, "A-x", &meta), 0);
	assert_int_equal(meta.uidvalidity, 104);
	assert_int_equal(account_mailbox_meta_get(account, "A/b", &meta), 0);
	assert_true(meta.uidvalidity > 104);

	/* copy without children keeps the old entry */
	assert_int_equal(account_mailbox_meta_move(account, "Z/A", "Copy",
						   META_MOVE_KEEP_OLD), 0);
	assert_int_equal(account_mailbox_meta_get(account, "Copy", &meta), 0);
	assert_int_equal(meta.uidvalidity, 100);
	assert_int_equal(account_mailbox_meta_get(account, "Z/A", &meta), 0);
	assert_int_equal(meta.uidvalidity, 100);
	assert_int_equal(account_mailbox_meta_get(account, "Copy/b", &meta),
			 0);
	assert_true(meta.uidvalidity > 104);
	assert_int_equal(account_mailbox_meta_remove_ex(account, "Z", true),
			 0);
	assert_int_equal(account_mailbox_meta_get(account, "Z/A/b", &meta), 0);
	assert_true(meta.uidvalidity > 104);
	store_account_close(&account);
}

static void
test_foreign_keys_kept(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "sam", ACCOUNT_TYPE_MBOX);
	struct mailbox_meta meta;
	char *text;

	store_test_write(t, "Accounts/sam.info",
			 "{ SomethingElse = (1, 2); Mailboxes = { INBOX = "
			 "{ UIDValidity = 777; UIDNext = 9; Extra = x; }; }; }");
	assert_int_equal(account_mailbox_meta_get(account, "INBOX", &meta), 0);
	assert_int_equal(meta.uidvalidity, 777);
	assert_int_equal(meta.uidnext, 9);
	assert_int_equal(meta.highestmodseq, 1);
	meta.uidnext = 10;
	assert_int_equal(account_mailbox_meta_set(account, "INBOX", &meta), 0);
	mailbox_meta_free(&meta);
	text = store_test_read(t, "Accounts/sam.info");
	assert_non_null(strstr(text, "SomethingElse"));
	assert_non_null(strstr(text, "UIDNext = 10"));
	assert_non_null(strstr(text, "LastUIDValidity = 777"));
	free(text);
	/* the meta's highest UIDVALIDITY counts even without LastUIDValidity */
	store_test_write(t, "Accounts/sam.info",
			 "{ Mailboxes = { X = { UIDValidity = 4000000000; "
			 "UIDNext = 1; }; }; }");
	assert_true(account_new_uidvalidity(account) > 4000000000u);
	store_account_close(&account);
}

static void
test_corrupt_info(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_meta meta;

	store_test_write(t, "Accounts/john.macnt/account.info",
			 "{ Mailboxes = { INBOX = { UIDValidity = 5;");
	/* readers see no entries */
	assert_int_equal(account_mailbox_meta_get(account, "INBOX", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_true(meta.uidvalidity > 5);
	/* the next change moves the damaged file aside and starts over */
	assert_int_equal(account_mailbox_meta_set(account, "INBOX", &meta), 0);
	mailbox_meta_free(&meta);
	assert_true(store_test_exists(t,
		"Accounts/john.macnt/account.info.corrupt"));
	assert_int_equal(account_mailbox_meta_get(account, "INBOX", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	mailbox_meta_free(&meta);

	/* malformed entries: fresh values */
	store_test_write(t, "Accounts/john.macnt/account.info",
			 "{ Mailboxes = { A = { UIDValidity = 0; UIDNext = 5; };"
			 " B = { UIDValidity = 7; UIDNext = x; }; C = (1);"
			 " D = { UIDValidity = 8; UIDNext = 2; Keywords = x; };"
			 " }; }");
	assert_int_equal(account_mailbox_meta_get(account, "A", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_int_equal(account_mailbox_meta_get(account, "B", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_int_equal(account_mailbox_meta_get(account, "C", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_int_equal(account_mailbox_meta_get(account, "D", &meta), 0);
	assert_int_equal(meta.uidnext, 1);
	assert_int_equal(meta.keyword_count, 0);
	store_account_close(&account);
	store_clear_error();
}

static void
info_child(const char *base, unsigned int proc)
{
	struct mailbox_meta meta;
	struct account *account;
	struct store *store;
	unsigned int i;
	char name[32];

	if (store_open(base, &store) == -1 ||
	    store_account_open(store, "john", &account) == -1)
		_exit(2);
	for (i = 0; i < INFO_ROUNDS; i++) {
		snprintf(name, sizeof(name), "P%u-%u", proc, i);
		if (account_mailbox_meta_get(account, name, &meta) == -1)
			_exit(3);
		meta.uidnext = proc * 100 + i + 1;
		if (account_mailbox_meta_set(account, name, &meta) == -1)
			_exit(4);
		mailbox_meta_free(&meta);
	}
	store_account_close(&account);
	store_close(&store);
	_exit(0);
}

static void
test_concurrent_updates(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_meta meta;
	pid_t pids[INFO_PROCS];
	unsigned int i, j;
	char name[32];
	int status;

	for (i = 0; i < INFO_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0)
			info_child(t->base, i);
	}
	for (i = 0; i < INFO_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < INFO_PROCS; i++) {
		for (j = 0; j < INFO_ROUNDS; j++) {
			snprintf(name, sizeof(name), "P%u-%u", i, j);
			assert_int_equal(account_mailbox_meta_get(account, name,
								  &meta), 0);
			assert_int_equal(meta.uidnext, i * 100 + j + 1);
			mailbox_meta_free(&meta);
		}
	}
	store_account_close(&account);
}

/* A backup puts account.info back byte for byte, or removes it when
   there was none. */
static void
test_backup_restore(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct account_info_backup backup;
	struct mailbox_meta meta;
	char *before, *after;

	before = store_test_read(t, "Accounts/john.macnt/account.info");
	assert_int_equal(account_info_backup(account, &backup), 0);
	assert_true(backup.existed);
	assert_int_equal(account_mailbox_meta_get(account, "New", &meta), 0);
	assert_int_equal(account_mailbox_meta_set(account, "New", &meta), 0);
	mailbox_meta_free(&meta);
	assert_int_equal(account_lock(account, true), 0);
	account_info_restore(account, &backup);
	account_unlock(account);
	account_info_backup_free(&backup);
	after = store_test_read(t, "Accounts/john.macnt/account.info");
	assert_string_equal(before, after);
	free(after);
	free(before);

	store_test_unlink(t, "Accounts/john.macnt/account.info");
	assert_int_equal(account_info_backup(account, &backup), 0);
	assert_false(backup.existed);
	assert_int_equal(store_subscription_add(account, "INBOX"), 0);
	assert_int_equal(account_lock(account, true), 0);
	account_info_restore(account, &backup);
	account_unlock(account);
	account_info_backup_free(&backup);
	assert_false(store_test_exists(t, "Accounts/john.macnt/account.info"));
	store_account_close(&account);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_meta_fresh_not_saved),
		T(test_meta_roundtrip),
		T(test_uidvalidity_increases),
		T(test_meta_move),
		T(test_foreign_keys_kept),
		T(test_corrupt_info),
		T(test_concurrent_updates),
		T(test_backup_restore),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
