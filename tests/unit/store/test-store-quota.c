/* SPDX-License-Identifier: MIT */
/*
 * test-store-quota.c: unit tests for src/store/store-quota.c: limit
 * values, where limits come from (account, domain defaults, server
 * defaults), usage summed over mbox and mdir mailboxes and right again
 * after an index is lost, every save path refused over a limit with
 * nothing changed (append, deliver, copy, move between accounts), a
 * move within the account allowed, the advisory check LMTP makes at
 * RCPT, and the bytes of \Deleted messages.
 */
#include "test-store-common.h"
#include "store-quota.h"

#define MSG "Subject: q\r\n\r\n0123456789\r\n"      /* 26 bytes */
#define MSG_LEN (sizeof(MSG) - 1)

static void
deliver_ok(struct account *account, const char *box)
{
	struct store_append msg = { .data = (const unsigned char *)MSG,
				    .len = MSG_LEN };

	assert_int_equal(store_deliver(account, box, &msg, NULL), 0);
}

static int
deliver(struct account *account, const char *box)
{
	struct store_append msg = { .data = (const unsigned char *)MSG,
				    .len = MSG_LEN };

	return store_deliver(account, box, &msg, NULL);
}

static void
assert_usage(struct account *account, uint64_t bytes, uint64_t msgs)
{
	struct store_quota q;

	assert_int_equal(store_quota_get(account, &q), 0);
	assert_int_equal(q.storage_used, bytes);
	assert_int_equal(q.messages_used, msgs);
}

static void
test_parse(void **state)
{
	uint64_t n;

	(void)state;
	assert_int_equal(store_quota_parse("0", true, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_quota_parse("1234", false, &n), 0);
	assert_int_equal(n, 1234);
	assert_int_equal(store_quota_parse("10K", true, &n), 0);
	assert_int_equal(n, 10240);
	assert_int_equal(store_quota_parse("3m", true, &n), 0);
	assert_int_equal(n, 3u << 20);
	assert_int_equal(store_quota_parse("2G", true, &n), 0);
	assert_int_equal(n, 2ULL << 30);
	assert_int_equal(store_quota_parse("Unlimited", false, &n), 0);
	assert_true(n == STORE_QUOTA_UNLIMITED);
	assert_int_equal(store_quota_parse("10K", false, &n), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	assert_int_equal(store_quota_parse("", true, &n), -1);
	assert_int_equal(store_quota_parse("-1", true, &n), -1);
	assert_int_equal(store_quota_parse("1KB", true, &n), -1);
	assert_int_equal(store_quota_parse("1 K", true, &n), -1);
	assert_int_equal(store_quota_parse("99999999999999999999", true,
					   &n), -1);
	assert_int_equal(store_quota_parse("2000000000T", true, &n), -1);
	assert_int_equal(store_quota_parse("1048576T", true, &n), 0);
	assert_int_equal(store_quota_parse("1048577T", true, &n), -1);
}

static void
test_limits_precedence(void **state)
{
	struct store_test *t = *state;
	struct account *main_acc, *dom_acc;
	struct store_quota q;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	main_acc = store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	dom_acc = store_test_new_account(t, "mary@example.org",
					 ACCOUNT_TYPE_MBOX);
	assert_int_equal(store_quota_get_limits(main_acc, &q), 0);
	assert_true(q.storage_limit == STORE_QUOTA_UNLIMITED);
	assert_true(q.message_limit == STORE_QUOTA_UNLIMITED);

	store_test_write(t, "Settings/AccountDefaults.settings",
			 "{ MaxAccountSize = 1M; MaxMessages = 100; }");
	assert_int_equal(store_quota_get_limits(main_acc, &q), 0);
	assert_int_equal(q.storage_limit, 1u << 20);
	assert_int_equal(q.message_limit, 100);

	/* the domain's defaults come before the server's */
	store_test_mkdir(t, "Domains/example.org/Settings");
	store_test_write(t, "Domains/example.org/Settings/"
			 "AccountDefaults.settings", "{ MaxMessages = 5; }");
	assert_int_equal(store_quota_get_limits(dom_acc, &q), 0);
	assert_int_equal(q.storage_limit, 1u << 20);
	assert_int_equal(q.message_limit, 5);
	/* and the account's own before both; unlimited is a value */
	assert_int_equal(store_quota_set(dom_acc, "unlimited", "7"), 0);
	assert_int_equal(store_quota_get_limits(dom_acc, &q), 0);
	assert_true(q.storage_limit == STORE_QUOTA_UNLIMITED);
	assert_int_equal(q.message_limit, 7);
	/* the domain directory still lists mary only */
	{
		char **names;
		unsigned int count;

		assert_int_equal(store_account_list(t->store, "example.org",
						    &names, &count), 0);
		assert_int_equal(count, 1);
		store_names_free(&names, count);
	}
	/* default: back to the domain's */
	assert_int_equal(store_quota_set(dom_acc, "default", NULL), 0);
	assert_int_equal(store_quota_get_limits(dom_acc, &q), 0);
	assert_int_equal(q.storage_limit, 1u << 20);
	assert_int_equal(q.message_limit, 7);
	/* a bad value changes nothing */
	assert_int_equal(store_quota_set(dom_acc, "5", "x"), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	assert_int_equal(store_quota_get_limits(dom_acc, &q), 0);
	assert_int_equal(q.storage_limit, 1u << 20);
	/* a typo in a settings file is ignored, the next level applies */
	store_test_write(t, "Settings/AccountDefaults.settings",
			 "{ MaxAccountSize = lots; }");
	assert_int_equal(store_quota_get_limits(main_acc, &q), 0);
	assert_true(q.storage_limit == STORE_QUOTA_UNLIMITED);
	store_account_close(&main_acc);
	store_account_close(&dom_acc);
}

static void
test_usage_and_message_limit(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_status st;

	assert_int_equal(store_mailbox_create(account, "Dir",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "A/B",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	deliver_ok(account, "INBOX");
	deliver_ok(account, "Dir");
	deliver_ok(account, "A/B");
	assert_usage(account, 3 * MSG_LEN, 3);

	assert_int_equal(store_quota_set(account, NULL, "4"), 0);
	assert_int_equal(store_quota_check(account, 1000, 1), 0);
	assert_int_equal(store_quota_check(account, 0, 2), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	deliver_ok(account, "Dir");
	assert_int_equal(store_quota_check(account, 1, 1), -1);
	assert_int_equal(deliver(account, "INBOX"), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	assert_int_equal(store_mailbox_status(account, "INBOX", &st), 0);
	assert_int_equal(st.messages, 1);
	assert_usage(account, 4 * MSG_LEN, 4);

	/* a lost index is rebuilt, the usage stays exact */
	store_test_unlink(t, "Accounts/john.macnt/Dir.mdir.idx");
	assert_usage(account, 4 * MSG_LEN, 4);
	assert_int_equal(deliver(account, "A/B"), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	store_account_close(&account);
}

static void
test_storage_limit_append(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MDIR);
	struct store_append msgs[2] = {
		{ .data = (const unsigned char *)MSG, .len = MSG_LEN },
		{ .data = (const unsigned char *)MSG, .len = MSG_LEN },
	};
	struct mailbox *box;
	uint32_t uids[2];
	char limit[32];

	snprintf(limit, sizeof(limit), "%zu", 3 * MSG_LEN);
	assert_int_equal(store_quota_set(account, limit, NULL), 0);
	assert_int_equal(store_mailbox_open(account, "INBOX", &box), 0);
	assert_int_equal(store_mailbox_append(box, msgs, 2, uids), 0);
	/* exactly at the limit is allowed, one byte over is not: the
	   batch goes in whole or not at all */
	assert_int_equal(store_mailbox_append(box, msgs, 2, uids), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	assert_int_equal(store_mailbox_append(box, msgs, 1, uids), 0);
	assert_usage(account, 3 * MSG_LEN, 3);
	msgs[0].len = 1;
	assert_int_equal(store_mailbox_append(box, msgs, 1, uids), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	/* an empty message still counts as one message, not as bytes */
	msgs[0].len = 0;
	assert_int_equal(store_mailbox_append(box, msgs, 1, uids), 0);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(box), 4);
	store_mailbox_close(&box);
	store_account_close(&account);
}

static void
test_copy_and_move(void **state)
{
	struct store_test *t = *state;
	struct account *john =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct account *mary =
		store_test_new_account(t, "mary", ACCOUNT_TYPE_MULTI);
	struct mailbox *inbox, *other, *mary_inbox;
	uint32_t uids[2] = { 1, 2 }, dest[2];

	assert_int_equal(store_mailbox_create(john, "Other",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	deliver_ok(john, "INBOX");
	deliver_ok(john, "INBOX");
	assert_int_equal(store_quota_set(john, NULL, "3"), 0);
	assert_int_equal(store_mailbox_open(john, "INBOX", &inbox), 0);
	assert_int_equal(store_mailbox_open(john, "Other", &other), 0);
	/* two copies would make 4 */
	assert_int_equal(store_mailbox_copy(inbox, uids, 2, other, dest), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	assert_usage(john, 2 * MSG_LEN, 2);
	assert_int_equal(store_mailbox_copy(inbox, uids, 1, other, dest), 0);
	/* a move inside the account adds nothing: allowed at the limit */
	assert_int_equal(store_mailbox_move(inbox, uids + 1, 1, other,
					    dest), 0);
	assert_usage(john, 3 * MSG_LEN, 3);

	/* into another account: that account's limit counts */
	deliver_ok(mary, "INBOX");
	assert_int_equal(store_mailbox_open(mary, "INBOX", &mary_inbox), 0);
	assert_int_equal(store_mailbox_move(mary_inbox, uids, 1, other,
					    dest), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	assert_usage(mary, MSG_LEN, 1);
	assert_int_equal(store_quota_set(john, NULL, "unlimited"), 0);
	assert_int_equal(store_mailbox_move(mary_inbox, uids, 1, other,
					    dest), 0);
	assert_usage(mary, 0, 0);
	assert_usage(john, 4 * MSG_LEN, 4);
	store_mailbox_close(&mary_inbox);
	store_mailbox_close(&inbox);
	store_mailbox_close(&other);
	store_account_close(&john);
	store_account_close(&mary);
}

static void
test_deleted_bytes(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MBOX);
	struct mailbox *box;
	uint32_t uids[2] = { 1, 3 };
	uint64_t bytes;

	deliver_ok(account, "INBOX");
	deliver_ok(account, "INBOX");
	deliver_ok(account, "INBOX");
	assert_int_equal(store_quota_deleted_bytes(account, "INBOX", &bytes),
			 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(store_mailbox_open(account, "INBOX", &box), 0);
	assert_int_equal(store_mailbox_update_flags(box, uids, 2,
			 STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, NULL),
			 0);
	assert_int_equal(store_quota_deleted_bytes(account, "INBOX", &bytes),
			 0);
	assert_int_equal(bytes, 2 * MSG_LEN);
	assert_int_equal(store_quota_deleted_bytes(account, "Nope", &bytes),
			 -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_FOUND);
	store_mailbox_close(&box);
	store_account_close(&account);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_parse),
		T(test_limits_precedence),
		T(test_usage_and_message_limit),
		T(test_storage_limit_append),
		T(test_copy_and_move),
		T(test_deleted_bytes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
