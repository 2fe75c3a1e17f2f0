/* SPDX-License-Identifier: MIT */
/*
 * test-store-acl.c: unit tests for src/store/store-acl.c: rights
 * letters (the obsolete c and d of RFC 4314 §2.1.1, unknown letters),
 * set/add/remove/delete, identifiers (anyone, canonical account names,
 * unknown accounts, the owner), rights as the union of anyone's and the
 * user's, ACLs kept by meta saves and moved by RENAME, gone with DELETE,
 * the mailboxes a user may look up, shared-name splitting, and an
 * account.info written before ACLs (no ACL key) read as "no rights".
 */
#include "test-store-common.h"
#include "store-acl.h"

static void
test_rights_letters(void **state)
{
	unsigned int rights;
	buf_t out = BUF_INIT;

	(void)state;
	assert_int_equal(store_acl_rights_parse("lrswipkxtea", &rights), 0);
	assert_int_equal(rights, STORE_ACL_ALL);
	assert_int_equal(store_acl_rights_parse("", &rights), 0);
	assert_int_equal(rights, 0);
	assert_int_equal(store_acl_rights_parse("c", &rights), 0);
	assert_int_equal(rights, STORE_ACL_CREATE);
	assert_int_equal(store_acl_rights_parse("d", &rights), 0);
	assert_int_equal(rights, STORE_ACL_DELETE_MAILBOX |
			 STORE_ACL_DELETE_MSG | STORE_ACL_EXPUNGE);
	assert_int_equal(store_acl_rights_parse("lrQ", &rights), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	assert_int_equal(store_acl_rights_parse("+l", &rights), -1);
	assert_int_equal(store_acl_rights_parse("0", &rights), -1);
	store_acl_rights_append(&out, STORE_ACL_LOOKUP | STORE_ACL_EXPUNGE);
	assert_string_equal(buf_cstr(&out), "led");
	buf_reset(&out);
	store_acl_rights_append(&out, STORE_ACL_ALL);
	assert_string_equal(buf_cstr(&out), "lrswipkxteacd");
	buf_deinit(&out);
}

static void
test_shared_names(void **state)
{
	char *user, *box;
	static const char *const bad[] = {
		"~", "~/x", "~bob", "~bob/", "~bob//x", "~bob/../x",
		"~../x", "~bob/.x", "~bob/~ann/x", "bob/x", "~bo b/x",
		"~bob/x.mbox",
	};
	unsigned int i;

	(void)state;
	assert_int_equal(store_shared_name_split("~bob/inbox/Sub", &user,
						 &box), 0);
	assert_string_equal(user, "bob");
	assert_string_equal(box, "INBOX/Sub");
	free(user);
	free(box);
	assert_int_equal(store_shared_name_split("~ann@example.org/Work",
						 &user, &box), 0);
	assert_string_equal(user, "ann@example.org");
	free(user);
	free(box);
	for (i = 0; i < N_ELEMENTS(bad); i++) {
		assert_int_equal(store_shared_name_split(bad[i], &user, &box),
				 -1);
		assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	}
}

static unsigned int
rights_of(struct account *account, const char *box, const char *user)
{
	unsigned int rights;

	assert_int_equal(store_mailbox_rights(account, box, user, &rights), 0);
	return rights;
}

static void
test_set_get(void **state)
{
	struct store_test *t = *state;
	struct account *alice = store_test_new_account(t, "alice",
						       ACCOUNT_TYPE_MULTI);
	struct account *bob = store_test_new_account(t, "bob",
						     ACCOUNT_TYPE_MULTI);
	struct store_acl_entry *e;
	unsigned int n;

	assert_int_equal(store_mailbox_create(alice, "Work",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	/* nothing stored: only the owner has rights */
	assert_int_equal(store_mailbox_acl_get(alice, "Work", &e, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rights_of(alice, "Work", "alice"), STORE_ACL_ALL);
	assert_int_equal(rights_of(alice, "Work", "bob"), 0);
	/* set, add, remove; canonical names */
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "BOB@localhost",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP |
			 STORE_ACL_READ), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "bob",
			 STORE_ACL_MODE_ADD, STORE_ACL_INSERT), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "bob",
			 STORE_ACL_MODE_REMOVE, STORE_ACL_READ), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "Anyone",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_READ), 0);
	assert_int_equal(store_mailbox_acl_get(alice, "Work", &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].identifier, "bob");
	assert_int_equal(e[0].rights, STORE_ACL_LOOKUP | STORE_ACL_INSERT);
	assert_string_equal(e[1].identifier, "anyone");
	store_acl_entries_free(&e, n);
	/* the union with anyone's */
	assert_int_equal(rights_of(alice, "Work", "bob"), STORE_ACL_LOOKUP |
			 STORE_ACL_INSERT | STORE_ACL_READ);
	assert_int_equal(rights_of(alice, "Work", "carol"), STORE_ACL_READ);
	/* refusals change nothing */
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "nobody",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "alice",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_acl_set(alice, "Nope", "bob",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_acl_set(alice, "../x", "bob",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	/* delete; removing every right removes the entry */
	assert_int_equal(store_mailbox_acl_delete(alice, "Work", "anyone"), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "Work", "bob",
			 STORE_ACL_MODE_REMOVE, STORE_ACL_ALL), 0);
	assert_int_equal(store_mailbox_acl_get(alice, "Work", &e, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_mailbox_acl_delete(alice, "Work", "bob"), 0);
	store_account_close(&bob);
	store_account_close(&alice);
}

static void
test_kept_moved_removed(void **state)
{
	struct store_test *t = *state;
	struct account *alice = store_test_new_account(t, "alice",
						       ACCOUNT_TYPE_MULTI);
	struct account *bob = store_test_new_account(t, "bob",
						     ACCOUNT_TYPE_MULTI);
	struct mailbox_meta meta;
	char **names;
	unsigned int n;

	assert_int_equal(store_mailbox_create(alice, "A/B",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_create(alice, "C",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "A/B", "bob",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_LOOKUP), 0);
	assert_int_equal(store_mailbox_acl_set(alice, "C", "bob",
			 STORE_ACL_MODE_REPLACE, STORE_ACL_READ), 0);
	/* a meta save (new keyword, append) keeps the ACL */
	assert_int_equal(account_mailbox_meta_get(alice, "A/B", &meta), 0);
	assert_int_equal(account_mailbox_meta_set(alice, "A/B", &meta), 0);
	mailbox_meta_free(&meta);
	assert_int_equal(rights_of(alice, "A/B", "bob"), STORE_ACL_LOOKUP);
	/* which mailboxes bob may look up */
	assert_int_equal(store_acl_mailboxes(alice, "bob", STORE_ACL_LOOKUP,
					     &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "A/B");
	store_names_free(&names, n);
	/* RENAME moves it (RFC 4314 §4), with the children */
	assert_int_equal(store_mailbox_rename(alice, "A", "Z"), 0);
	assert_int_equal(rights_of(alice, "Z/B", "bob"), STORE_ACL_LOOKUP);
	assert_int_equal(rights_of(alice, "A/B", "bob"), 0);
	/* DELETE takes it along: a new C starts without */
	assert_int_equal(store_mailbox_delete(alice, "C"), 0);
	assert_int_equal(store_mailbox_create(alice, "C",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(rights_of(alice, "C", "bob"), 0);
	store_account_close(&bob);
	store_account_close(&alice);
}

static void
test_old_and_hand_written_info(void **state)
{
	struct store_test *t = *state;
	struct account *alice = store_test_new_account(t, "alice",
						       ACCOUNT_TYPE_MULTI);
	struct store_acl_entry *e;
	unsigned int n;

	/* an account.info of before ACLs, and a damaged ACL value */
	store_test_write(t, "Accounts/alice.macnt/account.info",
			 "{ LastUIDValidity = 5; Mailboxes = { INBOX = { "
			 "UIDValidity = 5; UIDNext = 1; ACL = { bob = lQ; "
			 "ann = (l); anyone = lr; }; }; }; }\n");
	assert_int_equal(store_mailbox_acl_get(alice, "INBOX", &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].identifier, "anyone");
	store_acl_entries_free(&e, n);
	assert_int_equal(rights_of(alice, "INBOX", "bob"),
			 STORE_ACL_LOOKUP | STORE_ACL_READ);
	store_test_write(t, "Accounts/alice.macnt/account.info",
			 "{ Mailboxes = { INBOX = { UIDValidity = 5; "
			 "UIDNext = 1; }; }; }\n");
	assert_int_equal(rights_of(alice, "INBOX", "bob"), 0);
	store_account_close(&alice);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		cmocka_unit_test(test_rights_letters),
		cmocka_unit_test(test_shared_names),
		T(test_set_get),
		T(test_kept_moved_removed),
		T(test_old_and_hand_written_info),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
