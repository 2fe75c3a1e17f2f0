/* SPDX-License-Identifier: MIT */
/*
 * test-store-mailbox-list.c: unit tests for src/store/store-mailbox-list.c:
 * mailbox paths, listing (INBOX first, hierarchy nodes, caches and junk
 * ignored), create/delete/rename with children and hierarchy
 * directories, INBOX rename, single-mailbox refusals, classes,
 * subscriptions, and bad names changing nothing.
 */
#include "test-store-common.h"
#include "test-child.h"

#include <sys/wait.h>

#define ACCT "Accounts/john.macnt/"

struct expect_info {
	const char *name;
	bool selectable;
	bool has_children;
};

static void
assert_list(struct account *account, const struct expect_info *expect,
	    unsigned int count)
{
	struct mailbox_info *infos;
	unsigned int i, n;

	assert_int_equal(store_mailbox_list(account, &infos, &n), 0);
	for (i = 0; i < n && i < count; i++) {
		if (strcmp(infos[i].name, expect[i].name) != 0)
			fail_msg("entry %u: %s, expected %s", i,
				 infos[i].name, expect[i].name);
		if (infos[i].selectable != expect[i].selectable ||
		    infos[i].has_children != expect[i].has_children)
			fail_msg("%s: selectable %d children %d",
				 infos[i].name, infos[i].selectable,
				 infos[i].has_children);
	}
	assert_int_equal(n, count);
	store_mailbox_infos_free(&infos, n);
	assert_null(infos);
}

static uint32_t
uidvalidity_of(struct account *account, const char *name)
{
	struct mailbox_meta meta;

	assert_int_equal(account_mailbox_meta_get(account, name, &meta), 0);
	mailbox_meta_free(&meta);
	return meta.uidvalidity;
}

static void
test_paths(void **state)
{
	struct store_test *t = *state;
	struct account *multi =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct account *single =
		store_test_new_account(t, "sam", ACCOUNT_TYPE_MDIR);
	enum mailbox_format format;
	char *path, *expect;

	path = account_mailbox_path(multi, "Work/Projects",
				    MAILBOX_FORMAT_MBOX);
	expect = store_test_path(t, ACCT "Work/Projects.mbox");
	assert_string_equal(path, expect);
	free(path);
	free(expect);
	path = account_mailbox_index_path(multi, "inbox", MAILBOX_FORMAT_MDIR);
	expect = store_test_path(t, ACCT "INBOX.mdir.idx");
	assert_string_equal(path, expect);
	free(path);
	free(expect);
	path = account_mailbox_path(single, "INBOX", MAILBOX_FORMAT_MDIR);
	expect = store_test_path(t, "Accounts/sam.mdir");
	assert_string_equal(path, expect);
	free(path);
	free(expect);

	assert_int_equal(account_mailbox_locate(multi, "Inbox", &format,
						&path), 0);
	assert_int_equal(format, MAILBOX_FORMAT_MBOX);
	expect = store_test_path(t, ACCT "INBOX.mbox");
	assert_string_equal(path, expect);
	free(path);
	free(expect);
	assert_int_equal(account_mailbox_locate(single, "INBOX", &format,
						NULL), 0);
	assert_int_equal(format, MAILBOX_FORMAT_MDIR);
	assert_int_equal(account_mailbox_locate(single, "Sent", &format,
						NULL), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(account_mailbox_locate(multi, "../sam", &format,
						NULL), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(account_mailbox_locate(multi, "Nope", &format,
						NULL), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	store_account_close(&multi);
	store_account_close(&single);
	store_clear_error();
}

static void
test_formats(void **state)
{
	enum mailbox_format format;

	assert_string_equal(store_mailbox_format_name(MAILBOX_FORMAT_MBOX),
			    "mbox");
	assert_string_equal(store_mailbox_format_name(MAILBOX_FORMAT_MDIR),
			    "mdir");
	assert_int_equal(store_mailbox_format_parse("MDIR", &format), 0);
	assert_int_equal(format, MAILBOX_FORMAT_MDIR);
	assert_int_equal(store_mailbox_format_parse("maildir", &format), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	store_clear_error();
}

static void
test_create_and_list(void **state)
{
	static const struct expect_info expect[] = {
		{ "INBOX", true, true }, { "Archive", true, false },
		{ "INBOX/Sub", true, false }, { "Work", true, true },
		{ "Work/Deep", false, true }, { "Work/Deep/Er", true, false },
		{ "Work/Projects", true, false }, { "Work-x", true, false },
		{ "Zed", false, false },
	};
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_info *infos;
	enum mailbox_format format;
	unsigned int count;

	assert_int_equal(store_mailbox_create(account, "Work/Projects",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_true(store_test_is_dir(t, ACCT "Work"));
	assert_false(store_test_exists(t, ACCT "Work.mbox"));
	assert_false(store_mailbox_exists(account, "Work"));
	/* a node becomes selectable; messages and children at once */
	assert_int_equal(store_mailbox_create(account, "Work",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_true(store_test_is_dir(t, ACCT "Work.mdir"));
	assert_int_equal(store_mailbox_create(account, "Work/Deep/Er",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Archive",
					      MAILBOX_FORMAT_MDIR,
					      ""), 0);
	assert_int_equal(store_mailbox_create(account, "Work-x",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "inbox/Sub",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_true(store_test_exists(t, ACCT "INBOX/Sub.mbox"));
	assert_int_equal(store_mailbox_get_format(account, "Work", &format),
			 0);
	assert_int_equal(format, MAILBOX_FORMAT_MDIR);
	assert_true(store_mailbox_exists(account, "work/projects") == false);
	assert_true(store_mailbox_exists(account, "Work/Projects"));

	/* things that are not mailboxes */
	store_test_write(t, ACCT "Work/Projects.mbox.idx", "cache");
	store_test_write(t, ACCT "Archive.mdir.idx", "cache");
	store_test_write(t, ACCT "account.info.tmp.1.2", "x");
	store_test_write(t, ACCT ".tmp-1-2-x", "x");
	store_test_write(t, ACCT "stray.lock", "x");
	store_test_write(t, ACCT "Bad.mbox.mbox", "x");
	store_test_write(t, ACCT "Inbox.mbox", "x");
	store_test_write(t, ACCT "Work/Deep/file.txt", "x");
	store_test_mkdir(t, ACCT "account.web");
	store_test_mkdir(t, ACCT "Zed");
	store_test_mkdir(t, ACCT "x.mbox");
	assert_list(account, expect, N_ELEMENTS(expect));

	/* errors */
	assert_int_equal(store_mailbox_create(account, "Work",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_create(account, "INBOX",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_create(account, "A/../../x",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_mailbox_create(account, "account.web/x",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_mailbox_create(account, "Cal",
					      MAILBOX_FORMAT_MBOX,
					      "IPF Bad"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_false(store_test_exists(t, ACCT "Cal.mbox"));
	assert_int_equal(store_mailbox_list(account, &infos, &count), 0);
	assert_int_equal(count, N_ELEMENTS(expect));
	store_mailbox_infos_free(&infos, count);
	store_account_close(&account);
	store_clear_error();
}

static void
test_classes(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_info *infos;
	unsigned int count;
	char *class;

	assert_int_equal(store_mailbox_create(account, "Calendar",
					      MAILBOX_FORMAT_MDIR,
					      STORE_CLASS_CALENDAR), 0);
	assert_int_equal(store_mailbox_get_class(account, "Calendar", &class),
			 0);
	assert_string_equal(class, STORE_CLASS_CALENDAR);
	free(class);
	assert_int_equal(store_mailbox_get_class(account, "INBOX", &class), 0);
	assert_null(class);
	assert_int_equal(store_mailbox_set_class(account, "INBOX",
						 STORE_CLASS_NOTES), 0);
	assert_int_equal(store_mailbox_set_class(account, "Calendar", NULL),
			 0);
	assert_int_equal(store_mailbox_get_class(account, "Calendar", &class),
			 0);
	assert_null(class);
	assert_int_equal(store_mailbox_list(account, &infos, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(infos[0].name, "INBOX");
	assert_string_equal(infos[0].class, STORE_CLASS_NOTES);
	assert_null(infos[1].class);
	store_mailbox_infos_free(&infos, count);

	assert_int_equal(store_mailbox_set_class(account, "Nope",
						 STORE_CLASS_TASKS), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_get_class(account, "Nope", &class), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_set_class(account, "INBOX", "a\nb"),
			 -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	store_account_close(&account);
	store_clear_error();
}

static void
test_delete(void **state)
{
	static const struct expect_info after[] = {
		{ "INBOX", true, false }, { "A", false, true },
		{ "A/B", true, false }, { "Keep", true, false },
	};
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	char *before, *now;
	uint32_t old;

	assert_int_equal(store_mailbox_create(account, "A",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "A/B",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "X/Y/Z",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Keep",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	store_test_write(t, ACCT "A.mbox.idx", "cache");
	old = uidvalidity_of(account, "A");

	/* deleting a parent keeps its children: it becomes a node */
	assert_int_equal(store_mailbox_delete(account, "A"), 0);
	assert_false(store_test_exists(t, ACCT "A.mbox"));
	assert_false(store_test_exists(t, ACCT "A.mbox.idx"));
	assert_true(store_test_is_dir(t, ACCT "A/B.mdir"));
	/* a node with children cannot go */
	assert_int_equal(store_mailbox_delete(account, "X/Y"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	/* the leaf takes its now-empty hierarchy directories along */
	assert_int_equal(store_mailbox_delete(account, "X/Y/Z"), 0);
	assert_false(store_test_exists(t, ACCT "X"));
	assert_list(account, after, N_ELEMENTS(after));

	/* recreate: a new UIDVALIDITY, also within the same second */
	assert_int_equal(store_mailbox_create(account, "A",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_true(uidvalidity_of(account, "A") > old);

	before = store_test_snapshot(t);
	assert_int_equal(store_mailbox_delete(account, "INBOX"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_delete(account, "inbox"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_delete(account, "Nope"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_delete(account, "../john.macnt"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_mailbox_delete(account, "/etc"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	now = store_test_snapshot(t);
	assert_string_equal(now, before);
	free(now);
	free(before);

	/* an empty node can be deleted */
	store_test_mkdir(t, ACCT "Empty");
	assert_int_equal(store_mailbox_delete(account, "Empty"), 0);
	assert_false(store_test_exists(t, ACCT "Empty"));
	store_account_close(&account);
	store_clear_error();
}

static void
test_rename(void **state)
{
	static const struct expect_info after[] = {
		{ "INBOX", true, false }, { "New", false, true },
		{ "New/Name", true, true }, { "New/Name/Child", true, true },
		{ "New/Name/Child/Leaf", true, false }, { "Other", true, false },
	};
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	uint32_t v_box, v_child;
	char *class, *before, *now;

	assert_int_equal(store_mailbox_create(account, "Old/Box",
					      MAILBOX_FORMAT_MBOX,
					      STORE_CLASS_TASKS), 0);
	assert_int_equal(store_mailbox_create(account, "Old/Box/Child",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Old/Box/Child/Leaf",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Other",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	store_test_write(t, ACCT "Old/Box.mbox.idx", "cache");
	store_test_write(t, ACCT "Other.mbox.idx", "cache");
	v_box = uidvalidity_of(account, "Old/Box");
	v_child = uidvalidity_of(account, "Old/Box/Child");

	assert_int_equal(store_mailbox_rename(account, "Old/Box",
					      "New/Name"), 0);
	assert_false(store_test_exists(t, ACCT "Old"));
	assert_true(store_test_exists(t, ACCT "New/Name.mbox"));
	assert_true(store_test_exists(t, ACCT "New/Name.mbox.idx"));
	assert_true(store_test_is_dir(t, ACCT "New/Name/Child.mdir"));
	assert_list(account, after, N_ELEMENTS(after));
	/* meta moved along: UIDVALIDITY and class kept */
	assert_int_equal(uidvalidity_of(account, "New/Name"), v_box);
	assert_int_equal(uidvalidity_of(account, "New/Name/Child"), v_child);
	assert_true(uidvalidity_of(account, "Old/Box") > v_box);
	assert_int_equal(store_mailbox_get_class(account, "New/Name", &class),
			 0);
	assert_string_equal(class, STORE_CLASS_TASKS);
	free(class);

	/* errors change nothing */
	before = store_test_snapshot(t);
	assert_int_equal(store_mailbox_rename(account, "Other", "New/Name"),
			 -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_rename(account, "Other", "New"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_rename(account, "Other", "inbox"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_rename(account, "Other", "Other"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_rename(account, "New/Name",
					      "New/Name/Child/X"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_rename(account, "Nope", "Y"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_rename(account, "Other", "../../x"),
			 -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_mailbox_rename(account, "Other", "a//b"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_list(account, after, N_ELEMENTS(after));
	now = store_test_snapshot(t);
	assert_string_equal(now, before);
	free(now);
	free(before);

	/* a pure node can be renamed, children go along */
	assert_int_equal(store_mailbox_rename(account, "New", "Renamed"), 0);
	assert_true(store_mailbox_exists(account, "Renamed/Name/Child/Leaf"));
	assert_int_equal(uidvalidity_of(account, "Renamed/Name/Child"),
			 v_child);
	store_account_close(&account);
	store_clear_error();
}

static void
test_rename_inbox(void **state)
{
	static const struct expect_info after[] = {
		{ "INBOX", true, true }, { "INBOX/Kid", true, false },
		{ "Old Mail", true, false },
	};
	struct store_test *t = *state;
	struct account *account;
	enum mailbox_format format;
	uint32_t v_inbox;

	assert_int_equal(store_account_create_ex(t->store, "john",
		ACCOUNT_TYPE_MULTI, NULL, MAILBOX_FORMAT_MDIR), 0);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	assert_int_equal(store_mailbox_create(account, "INBOX/Kid",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	store_test_write(t, ACCT "INBOX.mdir/msg", "data");
	v_inbox = uidvalidity_of(account, "INBOX");

	assert_int_equal(store_mailbox_rename(account, "inbox", "Old Mail"),
			 0);
	/* the messages went, children stayed, a new empty INBOX is there */
	assert_true(store_test_exists(t, ACCT "Old Mail.mdir/msg"));
	assert_true(store_test_is_dir(t, ACCT "INBOX.mdir"));
	assert_false(store_test_exists(t, ACCT "INBOX.mdir/msg"));
	assert_true(store_test_exists(t, ACCT "INBOX/Kid.mbox"));
	assert_int_equal(store_mailbox_get_format(account, "INBOX", &format),
			 0);
	assert_int_equal(format, MAILBOX_FORMAT_MDIR);
	assert_list(account, after, N_ELEMENTS(after));
	assert_int_equal(uidvalidity_of(account, "Old Mail"), v_inbox);
	assert_true(uidvalidity_of(account, "INBOX") > v_inbox);

	/* INBOX may move below itself: its children are not moved */
	assert_int_equal(store_mailbox_rename(account, "INBOX",
					      "INBOX/Archive"), 0);
	assert_true(store_mailbox_exists(account, "INBOX/Archive"));
	assert_true(store_mailbox_exists(account, "INBOX"));
	store_account_close(&account);
}

static void
deliver(struct account *account, const char *box, const char *text)
{
	struct store_append msg;
	uint32_t uid;

	memset(&msg, 0, sizeof(msg));
	msg.data = (const unsigned char *)text;
	msg.len = strlen(text);
	msg.flags = STORE_FLAG_SEEN;
	assert_int_equal(store_deliver(account, box, &msg, &uid), 0);
}

static void
assert_status(struct account *account, const char *box, uint32_t messages,
	      uint32_t uidvalidity, uint32_t uidnext)
{
	struct mailbox_status status;

	assert_int_equal(store_mailbox_status(account, box, &status), 0);
	assert_int_equal(status.messages, messages);
	assert_int_equal(status.uidnext, uidnext);
	if (uidvalidity != 0)
		assert_int_equal(status.uidvalidity, uidvalidity);
}

/* Renames and deletes with real messages in both formats. */
static void
test_messages_follow(void **state)
{
	static const enum mailbox_format formats[] = {
		MAILBOX_FORMAT_MBOX, MAILBOX_FORMAT_MDIR,
	};
	struct store_test *t = *state;
	struct mailbox_status before;
	struct account *account;
	unsigned int i;
	char name[32];

	for (i = 0; i < N_ELEMENTS(formats); i++) {
		snprintf(name, sizeof(name), "user%u", i);
		assert_int_equal(store_account_create_ex(t->store, name,
			ACCOUNT_TYPE_MULTI, NULL, formats[i]), 0);
		assert_int_equal(store_account_open(t->store, name, &account),
				 0);
		deliver(account, "INBOX", "Subject: 1\r\n\r\none\r\n");
		deliver(account, "INBOX", "Subject: 2\r\n\r\ntwo\r\n");
		assert_int_equal(store_mailbox_status(account, "INBOX",
						      &before), 0);
		assert_int_equal(before.messages, 2);

		/* INBOX rename: messages and UIDs move, INBOX starts over */
		assert_int_equal(store_mailbox_rename(account, "INBOX",
						      "Old/Inbox"), 0);
		assert_status(account, "Old/Inbox", 2, before.uidvalidity, 3);
		assert_status(account, "INBOX", 0, 0, 1);
		deliver(account, "INBOX", "Subject: 3\r\n\r\nthree\r\n");
		assert_status(account, "INBOX", 1, 0, 2);

		/* a parent with messages and a child, renamed together */
		assert_int_equal(store_mailbox_create(account, "Old",
						      formats[i], NULL), 0);
		deliver(account, "Old", "Subject: 4\r\n\r\nfour\r\n");
		assert_int_equal(store_mailbox_rename(account, "Old", "New"),
				 0);
		assert_status(account, "New", 1, 0, 2);
		assert_status(account, "New/Inbox", 2, before.uidvalidity, 3);
		assert_false(store_mailbox_exists(account, "Old"));

		/* delete with messages; the child stays */
		assert_int_equal(store_mailbox_delete(account, "New"), 0);
		assert_false(store_mailbox_exists(account, "New"));
		assert_status(account, "New/Inbox", 2, before.uidvalidity, 3);
		assert_int_equal(store_mailbox_delete(account, "New/Inbox"), 0);
		snprintf(name, sizeof(name), "Accounts/user%u.macnt/New", i);
		assert_false(store_test_exists(t, name));
		store_account_close(&account);

		/* single-mailbox accounts: INBOX in the account's own file */
		snprintf(name, sizeof(name), "single%u", i);
		assert_int_equal(store_account_create(t->store, name,
			formats[i] == MAILBOX_FORMAT_MBOX ?
			ACCOUNT_TYPE_MBOX : ACCOUNT_TYPE_MDIR, NULL), 0);
		assert_int_equal(store_account_open(t->store, name, &account),
				 0);
		deliver(account, "INBOX", "Subject: s\r\n\r\nsingle\r\n");
		assert_status(account, "INBOX", 1, 0, 2);
		store_account_close(&account);
		assert_int_equal(store_account_rename(t->store, name,
						      "renamed"), 0);
		assert_int_equal(store_account_open(t->store, "renamed",
						    &account), 0);
		assert_status(account, "INBOX", 1, 0, 2);
		store_account_close(&account);
		assert_int_equal(store_account_delete(t->store, "renamed"), 0);
	}
}

static void
test_inbox_repair(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	uint32_t old = uidvalidity_of(account, "INBOX");
	char *path;

	store_account_close(&account);
	/* as if an INBOX rename was cut short by a crash */
	path = store_test_path(t, ACCT "INBOX.mbox");
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	assert_true(store_test_exists(t, ACCT "INBOX.mbox"));
	assert_true(uidvalidity_of(account, "INBOX") > old);
	store_account_close(&account);
}

static void
test_single_account(void **state)
{
	static const struct expect_info expect[] = {
		{ "INBOX", true, false },
	};
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "sam", ACCOUNT_TYPE_MBOX);
	const char *text;

	assert_list(account, expect, N_ELEMENTS(expect));
	assert_int_equal(store_mailbox_create(account, "Sent",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	assert_int_equal(store_error(&text), STORE_ERROR_NOT_POSSIBLE);
	assert_string_equal(text, "single-mailbox accounts have INBOX only");
	assert_int_equal(store_mailbox_create(account, "INBOX",
					      MAILBOX_FORMAT_MBOX, NULL), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_rename(account, "INBOX", "Old"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_delete(account, "INBOX"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_delete(account, "Sent"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_false(store_test_exists(t, "Accounts/sam/Sent.mbox"));
	assert_false(store_test_exists(t, "Accounts/Sent.mbox"));
	assert_int_equal(store_mailbox_set_class(account, "INBOX",
						 STORE_CLASS_CONTACTS), 0);
	assert_true(store_mailbox_exists(account, "inbox"));
	assert_false(store_mailbox_exists(account, "Sent"));
	/* subscriptions work for single accounts too */
	assert_int_equal(store_subscription_add(account, "INBOX"), 0);
	store_account_close(&account);
	store_clear_error();
}

static void
test_subscriptions(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	char **names;
	unsigned int count;

	assert_int_equal(store_subscription_list(account, &names, &count), 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);
	assert_int_equal(store_subscription_add(account, "Zoo"), 0);
	assert_int_equal(store_subscription_add(account, "inbox"), 0);
	assert_int_equal(store_subscription_add(account, "Does/Not/Exist"),
			 0);
	assert_int_equal(store_subscription_add(account, "Zoo"), 0);
	assert_int_equal(store_subscription_add(account, "../x"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_subscription_list(account, &names, &count), 0);
	assert_int_equal(count, 3);
	assert_string_equal(names[0], "Does/Not/Exist");
	assert_string_equal(names[1], "INBOX");
	assert_string_equal(names[2], "Zoo");
	store_names_free(&names, count);

	assert_int_equal(store_subscription_remove(account, "Zoo"), 0);
	assert_int_equal(store_subscription_remove(account, "Zoo"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_subscription_list(account, &names, &count), 0);
	assert_int_equal(count, 2);
	store_names_free(&names, count);

	/* duplicates written by someone else are folded */
	store_test_write(t, ACCT "account.info",
			 "{ Subscription = (b, a, b, (x)); }");
	assert_int_equal(store_subscription_list(account, &names, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	store_names_free(&names, count);
	assert_int_equal(store_subscription_add(account, "c"), 0);
	{
		char *text = store_test_read(t, ACCT "account.info");

		assert_non_null(strstr(text, "(a, b, c)"));
		free(text);
	}
	store_account_close(&account);
	store_clear_error();
}

/* Several processes create mailboxes in one account at once: every
   mailbox and every account.info entry survives. */
static void
test_concurrent_create(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct account *child_account;
	struct mailbox_info *infos;
	struct mailbox_meta meta;
	struct store *store;
	unsigned int i, j, count;
	pid_t pids[3];
	char name[32];
	int status;

	for (i = 0; i < N_ELEMENTS(pids); i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] != 0)
			continue;
		/* the child's own handle: overwriting the parent's copy of
		   account would make it a leak of the child (valgrind) */
		if (store_open(t->base, &store) == -1 ||
		    store_account_open(store, "john", &child_account) == -1)
			_exit(2);
		for (j = 0; j < 6; j++) {
			snprintf(name, sizeof(name), "Shared/P%u-%u", i, j);
			if (store_mailbox_create(child_account, name,
						 MAILBOX_FORMAT_MBOX,
						 STORE_CLASS_NOTES) == -1)
				_exit(3);
		}
		_exit(0);
	}
	for (i = 0; i < N_ELEMENTS(pids); i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_mailbox_list(account, &infos, &count), 0);
	/* INBOX, the Shared node and 18 mailboxes */
	assert_int_equal(count, 2 + 18);
	for (i = 2; i < count; i++) {
		assert_int_equal(account_mailbox_meta_get(account,
			infos[i].name, &meta), 0);
		assert_string_equal(meta.class, STORE_CLASS_NOTES);
		mailbox_meta_free(&meta);
	}
	store_mailbox_infos_free(&infos, count);
	store_account_close(&account);
}

/* ---- fault injection ---- */

#define FAULT_MAX 100

/* The re-executed child: creates "A/B/C" in john's account; exit 0, or 1
   when the store refused. */
static int
fault_child(const char *base)
{
	struct account *account;
	struct store *store;
	int ret;

	if (store_open(base, &store) == -1)
		return 2;
	if (store_account_open(store, "john", &account) == -1) {
		store_close(&store);
		return 2;
	}
	ret = store_mailbox_create(account, "A/B/C", MAILBOX_FORMAT_MDIR,
				   STORE_CLASS_TASKS) == 0 ? 0 : 1;
	store_account_close(&account);
	store_close(&store);
	return ret;
}

static int
run_fault_child(const char *base, long n)
{
	char value[32];
	int status;
	pid_t pid;

	snprintf(value, sizeof(value), "any:%ld", n);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		setenv("COMMUNE_VFS_FAIL", value, 1);
		execl(test_self_exe(), "test-store-mailbox-list",
		      "--fault-child", base, (char *)NULL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The snapshot without account.info: a write of it whose directory
   fsync failed is on disk although reported as failed, and an entry of a
   mailbox that does not exist is harmless (creation overwrites it). */
static char *
snapshot_without_info(struct store_test *t)
{
	char *snap = store_test_snapshot(t), *line, *end;

	line = strstr(snap, "/account.info ");
	if (line != NULL) {
		while (line > snap && line[-1] != '\n')
			line--;
		end = strchr(line, '\n');
		memmove(line, end + 1, strlen(end + 1) + 1);
	}
	return snap;
}

/* Every write of a mailbox creation fails in turn: a refused creation
   leaves the account's files as they were. */
static void
test_create_faults(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	char *before, *now, *class;
	long n;
	int ret = -1;

	/* a pre-existing empty node stays */
	store_test_mkdir(t, ACCT "A");
	before = snapshot_without_info(t);
	for (n = 1; n <= FAULT_MAX; n++) {
		ret = run_fault_child(t->base, n);
		assert_true(ret == 0 || ret == 1);
		if (ret == 0)
			break;
		now = snapshot_without_info(t);
		assert_string_equal(now, before);
		free(now);
		assert_false(store_mailbox_exists(account, "A/B/C"));
	}
	assert_int_equal(ret, 0);
	assert_true(n > 3);
	assert_true(store_mailbox_exists(account, "A/B/C"));
	assert_int_equal(store_mailbox_get_class(account, "A/B/C", &class), 0);
	assert_string_equal(class, STORE_CLASS_TASKS);
	free(class);
	free(before);
	store_account_close(&account);
}

/* ---- failed operations change nothing (in-process sweeps) ---- */

struct list_op {
	struct account *account;
	const char *name, *name2;
};

static int
delete_op(struct store_test *t, void *context)
{
	struct list_op *op = context;

	return store_mailbox_delete(op->account, op->name);
}

static int
rename_op(struct store_test *t, void *context)
{
	struct list_op *op = context;

	return store_mailbox_rename(op->account, op->name, op->name2);
}

static int
class_op(struct store_test *t, void *context)
{
	struct list_op *op = context;

	return store_mailbox_set_class(op->account, op->name, op->name2);
}

static int
subscribe_op(struct store_test *t, void *context)
{
	struct list_op *op = context;

	return store_subscription_add(op->account, op->name);
}

static int
create_op(struct store_test *t, void *context)
{
	struct list_op *op = context;

	return store_mailbox_create(op->account, op->name,
				    MAILBOX_FORMAT_MDIR, NULL);
}

static const char *const fault_kinds[] = {
	"any", "fsync", "rename", "unlink", "write",
};

/* Each kind of call failing in turn: a rename of a mailbox with
   children, and of INBOX, that fails changes nothing. */
static void
test_rename_faults(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct list_op there = { account, "Work", "Job" };
	struct list_op back = { account, "Job", "Work" };
	struct list_op deep = { account, "Work/Deep", "Other/Place/Deep" };
	struct list_op inbox = { account, "INBOX", "Old" };
	struct mailbox_status status;
	unsigned int i;

	assert_int_equal(store_mailbox_create(account, "Work",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Work/Deep",
					      MAILBOX_FORMAT_MBOX,
					      STORE_CLASS_TASKS), 0);
	assert_int_equal(store_subscription_add(account, "Work"), 0);
	for (i = 0; i < N_ELEMENTS(fault_kinds); i++) {
		(void)store_test_fault_sweep(t, fault_kinds[i], rename_op,
					     &there);
		assert_true(store_mailbox_exists(account, "Job/Deep"));
		(void)store_test_fault_sweep(t, fault_kinds[i], rename_op,
					     &back);
		assert_true(store_mailbox_exists(account, "Work/Deep"));
	}
	assert_true(store_test_fault_sweep(t, "any", rename_op, &deep) > 4);
	assert_false(store_test_exists(t, ACCT "Work/Deep.mbox"));

	/* INBOX: its messages move, a new empty INBOX appears */
	/* account.info, renames, fsyncs, then every step of the new
	   INBOX's creation */
	assert_true(store_test_fault_sweep(t, "any", rename_op, &inbox) > 15);
	assert_true(store_mailbox_exists(account, "Old"));
	assert_int_equal(store_mailbox_status(account, "INBOX", &status), 0);
	assert_int_equal(status.messages, 0);
	store_account_close(&account);
}

/* A delete that fails changes nothing, a delete whose cleanup fails
   has happened, and what it left goes with a later listing. */
static void
test_delete_faults(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct list_op mbox = { account, "A/B", NULL };
	struct list_op mdir = { account, "C", NULL };
	struct list_op node = { account, "A", NULL };
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(fault_kinds); i++) {
		assert_int_equal(store_mailbox_create(account, "A/B",
			MAILBOX_FORMAT_MBOX, STORE_CLASS_NOTES), 0);
		assert_int_equal(store_mailbox_create(account, "C",
			MAILBOX_FORMAT_MDIR, NULL), 0);
		(void)store_test_fault_sweep(t, fault_kinds[i], delete_op,
					     &mbox);
		assert_false(store_mailbox_exists(account, "A/B"));
		(void)store_test_fault_sweep(t, fault_kinds[i], delete_op,
					     &mdir);
		assert_false(store_mailbox_exists(account, "C"));
	}
	/* a node alone (its fsync can fail too) */
	store_test_mkdir(t, ACCT "A");
	assert_int_equal(store_test_fault_sweep(t, "fsync", delete_op,
						&node), 1);
	assert_false(store_test_exists(t, ACCT "A"));

	/* the file renamed aside is not removed: still deleted */
	assert_int_equal(store_mailbox_create(account, "C",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	vfs_fault_set("unlink:1");
	assert_int_equal(store_mailbox_delete(account, "C"), 0);
	vfs_fault_set(NULL);
	assert_false(store_mailbox_exists(account, "C"));
	assert_list(account, (const struct expect_info[]){
		{ "INBOX", true, false } }, 1);
	store_account_close(&account);
}

/* Classes, subscriptions and creations that fail leave account.info
   and the files as they were. */
static void
test_info_faults(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct list_op class = { account, "INBOX", STORE_CLASS_CALENDAR };
	struct list_op sub = { account, "INBOX", NULL };
	struct list_op create = { account, "X/Y/Z", NULL };
	char *value;

	assert_true(store_test_fault_sweep(t, "any", class_op, &class) >= 5);
	assert_int_equal(store_mailbox_get_class(account, "INBOX", &value),
			 0);
	assert_string_equal(value, STORE_CLASS_CALENDAR);
	free(value);
	assert_true(store_test_fault_sweep(t, "fsync", subscribe_op,
					   &sub) == 2);
	assert_true(store_test_fault_sweep(t, "any", create_op,
					   &create) > 6);
	assert_true(store_mailbox_exists(account, "X/Y/Z"));
	store_account_close(&account);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_paths),
		cmocka_unit_test(test_formats),
		T(test_create_and_list),
		T(test_classes),
		T(test_delete),
		T(test_rename),
		T(test_rename_inbox),
		T(test_messages_follow),
		T(test_inbox_repair),
		T(test_single_account),
		T(test_subscriptions),
		T(test_concurrent_create),
		T(test_create_faults),
		T(test_rename_faults),
		T(test_delete_faults),
		T(test_info_faults),
#undef T
	};

	if (argc == 3 && strcmp(argv[1], "--fault-child") == 0)
		return fault_child(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
