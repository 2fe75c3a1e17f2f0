/* SPDX-License-Identifier: MIT */
/*
 * test-store-metadata.c: unit tests for src/store/store-metadata.c:
 * special-use attributes (parse, print, defaults by name, stored values
 * override them, kept across appends' meta saves and RENAME, gone with
 * DELETE), CREATE with attributes, annotations (entry-name rules, set,
 * get sorted, remove, binary values, the computed class and specialuse
 * entries, limits, all-or-nothing), older account.info files
 * without the new keys, and injected file-operation failures that must
 * change nothing.
 */
#include "test-store-common.h"
#include "store-metadata.h"

static void
test_parse_print(void **state)
{
	unsigned int bits;
	buf_t out = BUF_INIT;

	(void)state;
	assert_int_equal(store_special_use_parse("\\Sent"), STORE_USE_SENT);
	assert_int_equal(store_special_use_parse("\\jUNK"), STORE_USE_JUNK);
	assert_int_equal(store_special_use_parse("Sent"), 0);
	assert_int_equal(store_special_use_parse("\\Important"), 0);
	assert_int_equal(store_special_use_parse_list(" \\Trash  \\All",
						      &bits), 0);
	assert_int_equal(bits, STORE_USE_TRASH | STORE_USE_ALL);
	assert_int_equal(store_special_use_parse_list("", &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(store_special_use_parse_list("\\Sent \\Bogus",
						      &bits), -1);
	store_special_use_append(&out, STORE_USE_MASK);
	assert_string_equal(buf_cstr(&out), "\\All \\Archive \\Drafts "
			    "\\Flagged \\Junk \\Sent \\Trash");
	buf_deinit(&out);
}

static void
test_defaults_and_override(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct mailbox_info *infos;
	unsigned int bits, count, i, uses[8];

	assert_int_equal(store_mailbox_create(account, "Sent",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_create(account, "Work/Trash",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Sent",
						       &bits), 0);
	assert_int_equal(bits, STORE_USE_SENT);
	/* only top-level names have defaults */
	assert_int_equal(store_mailbox_get_special_use(account, "Work/Trash",
						       &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Nope",
						       &bits), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_FOUND);

	/* explicit "none" beats the default */
	assert_int_equal(store_mailbox_set_special_use(account, "Sent", 0), 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Sent",
						       &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(store_mailbox_set_special_use(account, "Work/Trash",
		STORE_USE_TRASH | STORE_USE_ARCHIVE), 0);

	assert_int_equal(store_mailbox_list(account, &infos, &count), 0);
	assert_true(count <= N_ELEMENTS(uses));
	assert_int_equal(store_mailbox_special_uses(account, infos, count,
						    uses), 0);
	for (i = 0; i < count; i++) {
		if (strcmp(infos[i].name, "Work/Trash") == 0)
			assert_int_equal(uses[i], STORE_USE_TRASH |
					 STORE_USE_ARCHIVE);
		else
			assert_int_equal(uses[i], 0);
	}
	store_mailbox_infos_free(&infos, count);
	store_account_close(&account);
}

static void
test_kept_by_meta_saves_rename_delete(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct store_metadata_entry e = { (char *)"/private/comment",
					  (unsigned char *)"hi", 2 };
	struct store_metadata_entry *got;
	struct mailbox *box;
	struct store_append msg = { (const unsigned char *)"Subject: x\r\n\r\n",
				    14, 0, NULL, 0, NULL };
	const char *kw[] = { "$Label1", NULL };
	unsigned int bits, count;
	uint32_t uid;

	assert_int_equal(store_mailbox_create(account, "Box",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_mailbox_set_special_use(account, "Box",
		STORE_USE_DRAFTS), 0);
	assert_int_equal(store_metadata_set(account, "Box", &e, 1), 0);
	/* a new keyword saves the meta: the other keys must survive */
	msg.keywords = kw;
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	assert_int_equal(store_mailbox_append(box, &msg, 1, &uid), 0);
	store_mailbox_close(&box);
	assert_int_equal(store_mailbox_set_class(account, "Box",
						 STORE_CLASS_NOTES), 0);
	assert_int_equal(store_mailbox_rename(account, "Box", "Renamed"), 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Renamed",
						       &bits), 0);
	assert_int_equal(bits, STORE_USE_DRAFTS);
	assert_int_equal(store_metadata_get(account, "Renamed", &got,
					    &count), 0);
	assert_int_equal(count, 3);
	assert_string_equal(got[0].name, "/private/comment");
	assert_memory_equal(got[0].value, "hi", 2);
	assert_string_equal(got[1].name, STORE_METADATA_SPECIALUSE);
	assert_memory_equal(got[1].value, "\\Drafts", 7);
	assert_string_equal(got[2].name, STORE_METADATA_CLASS);
	assert_memory_equal(got[2].value, STORE_CLASS_NOTES,
			    strlen(STORE_CLASS_NOTES));
	store_metadata_entries_free(&got, count);

	/* delete and create again: nothing left over */
	assert_int_equal(store_mailbox_delete(account, "Renamed"), 0);
	assert_int_equal(store_mailbox_create(account, "Renamed",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(store_metadata_get(account, "Renamed", &got,
					    &count), 0);
	assert_int_equal(count, 0);
	store_account_close(&account);
}

static void
test_create_special(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	unsigned int bits;

	assert_int_equal(store_mailbox_create_special(account, "Outbox/Sent",
		MAILBOX_FORMAT_MDIR, NULL, STORE_USE_SENT), 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Outbox/Sent",
						       &bits), 0);
	assert_int_equal(bits, STORE_USE_SENT);
	assert_int_equal(store_mailbox_create_special(account, "Outbox/Sent",
		MAILBOX_FORMAT_MDIR, NULL, STORE_USE_SENT), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_EXISTS);
	assert_int_equal(store_mailbox_create_special(account, "Bad",
		MAILBOX_FORMAT_MBOX, NULL, 0x1000), -1);
	assert_false(store_mailbox_exists(account, "Bad"));
	store_account_close(&account);
}

static void
test_entry_names(void **state)
{
	(void)state;
	assert_int_equal(store_metadata_check_entry("/private/comment",
						    false), 0);
	assert_int_equal(store_metadata_check_entry("/Shared/Vendor/x.y",
						    false), 0);
	assert_int_equal(store_metadata_check_entry("/shared", true), 0);
	assert_int_equal(store_metadata_check_entry("/shared", false), -1);
	assert_int_equal(store_metadata_check_entry("/sharedx", true), -1);
	assert_int_equal(store_metadata_check_entry("/public/x", false), -1);
	assert_int_equal(store_metadata_check_entry("/private/a//b",
						    false), -1);
	assert_int_equal(store_metadata_check_entry("/private/a/", false),
			 -1);
	assert_int_equal(store_metadata_check_entry("/private/a*", false),
			 -1);
	assert_int_equal(store_metadata_check_entry("/private/a b", false),
			 -1);
	assert_int_equal(store_metadata_check_entry("/private/\xc3\xa9",
						    false), -1);
}

static void
test_set_get_limits(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct store_metadata_entry e[2], *got;
	unsigned char bin[4] = { 'a', 0, 0xff, '\n' };
	unsigned char *big = i_malloc(STORE_METADATA_VALUE_MAX + 1);
	unsigned int count, i;
	char name[64];

	/* server entries, one binary */
	e[0] = (struct store_metadata_entry){ (char *)"/shared/comment",
		(unsigned char *)"Hello", 5 };
	e[1] = (struct store_metadata_entry){ (char *)"/private/vendor/x",
		bin, sizeof(bin) };
	assert_int_equal(store_metadata_set(account, NULL, e, 2), 0);
	store_account_close(&account);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	assert_int_equal(store_metadata_get(account, NULL, &got, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(got[0].name, "/private/vendor/x");
	assert_int_equal(got[0].len, sizeof(bin));
	assert_memory_equal(got[0].value, bin, sizeof(bin));
	store_metadata_entries_free(&got, count);

	/* remove one */
	e[0].value = NULL;
	assert_int_equal(store_metadata_set(account, NULL, e, 1), 0);
	assert_int_equal(store_metadata_get(account, NULL, &got, &count), 0);
	assert_int_equal(count, 1);
	store_metadata_entries_free(&got, count);

	/* computed entries belong to mailboxes */
	e[0] = (struct store_metadata_entry){ (char *)STORE_METADATA_CLASS,
		(unsigned char *)"IPF.Task", 8 };
	assert_int_equal(store_metadata_set(account, NULL, e, 1), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_NOT_POSSIBLE);
	/* upper case names are the caller's to fold */
	e[0].name = (char *)"/private/Comment";
	assert_int_equal(store_metadata_set(account, "INBOX", e, 1), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);

	/* too large */
	e[0] = (struct store_metadata_entry){ (char *)"/private/big", big,
		STORE_METADATA_VALUE_MAX + 1 };
	assert_int_equal(store_metadata_set(account, "INBOX", e, 1), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);

	/* too many: the failing set changes nothing */
	for (i = 0; i < STORE_METADATA_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "/private/n%u", i);
		e[0] = (struct store_metadata_entry){ name,
			(unsigned char *)"v", 1 };
		assert_int_equal(store_metadata_set(account, "INBOX", e, 1),
				 0);
	}
	e[0] = (struct store_metadata_entry){ (char *)"/private/n0",
		NULL, 0 };
	e[1] = (struct store_metadata_entry){ (char *)"/private/more",
		(unsigned char *)"v", 1 };
	/* one removed, one added: fine */
	assert_int_equal(store_metadata_set(account, "INBOX", e, 2), 0);
	e[1].name = (char *)"/private/evenmore";
	e[0].name = (char *)"/private/n1";
	e[0].value = (unsigned char *)"changed";
	e[0].len = 7;
	assert_int_equal(store_metadata_set(account, "INBOX", e, 2), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_OVERQUOTA);
	assert_int_equal(store_metadata_get(account, "INBOX", &got, &count),
			 0);
	for (i = 0; i < count; i++) {
		if (strcmp(got[i].name, "/private/n1") == 0)
			assert_memory_equal(got[i].value, "v", 1);
		assert_string_not_equal(got[i].name, "/private/evenmore");
	}
	store_metadata_entries_free(&got, count);

	/* class and special use through the computed entries */
	e[0] = (struct store_metadata_entry){ (char *)STORE_METADATA_CLASS,
		(unsigned char *)"IPF.Contact", 11 };
	e[1] = (struct store_metadata_entry){
		(char *)STORE_METADATA_SPECIALUSE,
		(unsigned char *)"\\Archive", 8 };
	assert_int_equal(store_metadata_set(account, "INBOX", e, 2), 0);
	{
		char *class;
		unsigned int bits;

		assert_int_equal(store_mailbox_get_class(account, "INBOX",
							 &class), 0);
		assert_string_equal(class, "IPF.Contact");
		free(class);
		assert_int_equal(store_mailbox_get_special_use(account,
			"INBOX", &bits), 0);
		assert_int_equal(bits, STORE_USE_ARCHIVE);
	}
	e[1].value = (unsigned char *)"\\Nope";
	e[1].len = 5;
	assert_int_equal(store_metadata_set(account, "INBOX", &e[1], 1), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	e[0].value = (unsigned char *)"IPF Bad";
	e[0].len = 7;
	assert_int_equal(store_metadata_set(account, "INBOX", e, 1), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	free(big);
	store_account_close(&account);
}

/* A file written before these keys existed reads as defaults, and an
   entry without UIDValidity gets one before annotations are added. */
static void
test_old_info(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct store_metadata_entry e = { (char *)"/shared/comment",
					  (unsigned char *)"x", 1 };
	struct mailbox_meta meta;
	unsigned int bits;

	assert_int_equal(store_mailbox_create(account, "Trash",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	assert_int_equal(account_mailbox_meta_remove(account, "Trash"), 0);
	assert_int_equal(store_mailbox_get_special_use(account, "Trash",
						       &bits), 0);
	assert_int_equal(bits, STORE_USE_TRASH);
	assert_int_equal(store_metadata_set(account, "Trash", &e, 1), 0);
	assert_int_equal(account_mailbox_meta_get(account, "Trash", &meta),
			 0);
	assert_int_equal(meta.uidnext, 1);
	mailbox_meta_free(&meta);
	store_account_close(&account);
}

struct fault_ctx {
	struct account *account;
	const char *name;
};

static int
create_special_op(struct store_test *t, void *context)
{
	struct fault_ctx *ctx = context;

	(void)t;
	return store_mailbox_create_special(ctx->account, ctx->name,
		MAILBOX_FORMAT_MDIR, NULL, STORE_USE_SENT | STORE_USE_ARCHIVE);
}

static int
metadata_set_op(struct store_test *t, void *context)
{
	struct fault_ctx *ctx = context;
	struct store_metadata_entry e[3] = {
		{ (char *)"/shared/comment", (unsigned char *)"c", 1 },
		{ (char *)STORE_METADATA_CLASS, (unsigned char *)"IPF.Task", 8 },
		{ (char *)STORE_METADATA_SPECIALUSE, NULL, 0 },
	};

	(void)t;
	return store_metadata_set(ctx->account, ctx->name, e, 3);
}

/* A create with attributes, and an annotation change, that fail at any
   file operation leave the base directory as it was. */
static void
test_faults_change_nothing(void **state)
{
	static const char *const kinds[] = { "any", "rename", "fsync",
					     "write" };
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);
	struct fault_ctx ctx = { account, "Out/Sent" };
	unsigned int i, bits;
	char *class;

	assert_true(store_test_fault_sweep(t, "any", create_special_op,
					   &ctx) >= 3);
	assert_int_equal(store_mailbox_get_special_use(account, "Out/Sent",
						       &bits), 0);
	assert_int_equal(bits, STORE_USE_SENT | STORE_USE_ARCHIVE);
	assert_int_equal(store_mailbox_create(account, "Sent",
					      MAILBOX_FORMAT_MBOX, NULL), 0);
	for (i = 0; i < N_ELEMENTS(kinds); i++) {
		ctx.name = i % 2 == 0 ? "Sent" : "INBOX";
		(void)store_test_fault_sweep(t, kinds[i], metadata_set_op,
					     &ctx);
	}
	assert_int_equal(store_mailbox_get_class(account, "Sent", &class), 0);
	assert_string_equal(class, "IPF.Task");
	free(class);
	assert_int_equal(store_mailbox_get_special_use(account, "Sent",
						       &bits), 0);
	assert_int_equal(bits, 0);
	store_account_close(&account);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		cmocka_unit_test(test_parse_print),
		cmocka_unit_test(test_entry_names),
		T(test_defaults_and_override),
		T(test_kept_by_meta_saves_rename_delete),
		T(test_create_special),
		T(test_set_get_limits),
		T(test_old_info),
		T(test_faults_change_nothing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
