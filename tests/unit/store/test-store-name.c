/* SPDX-License-Identifier: MIT */
/*
 * test-store-name.c: unit tests for src/store/store-name.c: every rule of
 * domain, account and mailbox names, good and bad, and INBOX
 * normalisation. The names that would escape the base directory or
 * collide with the store's own files are all refused with
 * STORE_ERROR_INVALID.
 */
#include "store-private.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void
assert_invalid(int ret)
{
	const char *text;

	assert_int_equal(ret, -1);
	assert_int_equal(store_error(&text), STORE_ERROR_INVALID);
	assert_true(strlen(text) > 0);
	store_clear_error();
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_domain_names(void **state)
{
	static const char *const good[] = {
		"localhost", "example.org", "EXAMPLE.Org", "a-b.c1.d",
		"x", "123.example", "xn--bcher-kva.example",
	};
	static const char *const bad[] = {
		"", ".", "..", "a..b", ".example.org", "example.org.",
		"-a.org", "a-.org", "a_b.org", "a b.org", "a/b", "../x",
		"ex\\ample", "ex\x01mple", "exämple.org", "a@b",
	};
	unsigned int i;
	char *label, *name;

	for (i = 0; i < N_ELEMENTS(good); i++)
		assert_int_equal(store_check_domain_name(good[i]), 0);
	for (i = 0; i < N_ELEMENTS(bad); i++)
		assert_invalid(store_check_domain_name(bad[i]));
	label = repeat('a', 63);
	assert_int_equal(store_check_domain_name(label), 0);
	free(label);
	label = repeat('a', 64);
	assert_invalid(store_check_domain_name(label));
	free(label);
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	label = repeat('a', 63);
	name = i_strdup_printf("%s.%s.%s.%s", label, label, label, label);
	assert_invalid(store_check_domain_name(name));
	free(name);
	free(label);
}

static void
test_account_names(void **state)
{
	static const char *const good[] = {
		"john", "John", "j.doe", "j_doe", "j-doe", "j+tag", "007",
		"john@example.org", "a.b.c", "mbox", "settings",
	};
	static const char *const bad[] = {
		"", ".john", "-john", "jo hn", "jo/hn", "../john", "..",
		"john@", "@example.org", "john@bad_domain", "jo\x01hn",
		"jöhn", "john@ex..org", "jo\\hn", "jo*hn", "jo:hn",
		"john.macnt", "john.mbox", "john.mdir", "john.mbox.x",
		"john.settings", "john.info", "john.lock", "john.idx",
		"john.tmp", "John.MACNT",
	};
	unsigned int i;
	char *name;

	for (i = 0; i < N_ELEMENTS(good); i++)
		assert_int_equal(store_check_account_name(good[i]), 0);
	for (i = 0; i < N_ELEMENTS(bad); i++)
		assert_invalid(store_check_account_name(bad[i]));
	name = repeat('a', STORE_ACCOUNT_NAME_MAX);
	assert_int_equal(store_check_account_name(name), 0);
	free(name);
	name = repeat('a', STORE_ACCOUNT_NAME_MAX + 1);
	assert_invalid(store_check_account_name(name));
	free(name);
}

static void
test_mailbox_names_good(void **state)
{
	static const char *const good[] = {
		"INBOX", "inbox", "Sent", "Work/Projects", "a/b/c/d",
		"Entwürfe", "日本語", "Calendar", "x y", "a.b", "mbox",
		"Work.mbox2", "Foo.mboxes", "INBOX/sub", "a~b", "b/~c",
		"account", "accounts", "Work/account.web", "100%", "a*b",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(good); i++) {
		if (store_check_mailbox_name(good[i]) != 0)
			fail_msg("refused %s", good[i]);
	}
}

static void
test_mailbox_names_bad(void **state)
{
	static const char *const bad[] = {
		"", "/", "/etc", "/etc/passwd", "../x", "..", ".",
		"a/../b", "a/./b", "a/..", "a//b", "a/", "x/", ".hidden",
		"a/.hidden", "a\\b", "..\\x", "a\tb", "a\nb", "a\rb",
		"\x7f", "a\x1b[0m", "\xc2\x85", "\xc2\x9fx",
		"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "abc\xe2\x82", "\x80",
		"Work.mbox", "Work.MBOX", "a/b.mdir", "x.mbox.y",
		"x.mdir.idx", "Foo.idx", "Foo.lock", "Foo.tmp",
		"account.web", "account.settings", "account.info",
		"account.lock", "Account.Web/x", "account.", "~user/box",
		"~", "a/b.mbox/c",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		if (store_check_mailbox_name(bad[i]) != -1)
			fail_msg("accepted bad name #%u", i);
		assert_invalid(-1);
	}
}

static void
test_mailbox_name_limits(void **state)
{
	char *comp, *name;
	buf_t buf = BUF_INIT;
	unsigned int i;

	comp = repeat('x', STORE_MAILBOX_COMPONENT_MAX);
	assert_int_equal(store_check_mailbox_name(comp), 0);
	free(comp);
	comp = repeat('x', STORE_MAILBOX_COMPONENT_MAX + 1);
	assert_invalid(store_check_mailbox_name(comp));
	free(comp);

	for (i = 0; i < STORE_MAILBOX_DEPTH_MAX; i++)
		buf_append_str(&buf, i == 0 ? "d" : "/d");
	assert_int_equal(store_check_mailbox_name(buf_cstr(&buf)), 0);
	buf_append_str(&buf, "/d");
	assert_invalid(store_check_mailbox_name(buf_cstr(&buf)));
	buf_deinit(&buf);

	/* total length: 3 components of 200 = 602 bytes > 512 */
	comp = repeat('y', STORE_MAILBOX_COMPONENT_MAX);
	name = i_strdup_printf("%s/%s/%s", comp, comp, comp);
	assert_invalid(store_check_mailbox_name(name));
	free(name);
	free(comp);
}

static void
test_mailbox_component_valid(void **state)
{
	assert_true(store_mailbox_component_valid("Work", 4, true));
	assert_false(store_mailbox_component_valid("Work.mbox", 9, false));
	/* length-bounded: "Work" out of "Work.mbox" */
	assert_true(store_mailbox_component_valid("Work.mbox", 4, false));
	assert_false(store_mailbox_component_valid("account.web", 11, true));
	assert_true(store_mailbox_component_valid("account.web", 11, false));
	assert_false(store_mailbox_component_valid("", 0, false));
	assert_int_equal(store_error(NULL), STORE_ERROR_NONE);
}

static void
test_normalize(void **state)
{
	static const char *const cases[][2] = {
		{ "inbox", "INBOX" }, { "InBoX", "INBOX" },
		{ "INBOX", "INBOX" }, { "inbox/Sub", "INBOX/Sub" },
		{ "inboxes", "inboxes" }, { "Work/inbox", "Work/inbox" },
		{ "Sent", "Sent" },
	};
	unsigned int i;
	char *norm;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		norm = store_mailbox_name_normalize(cases[i][0]);
		assert_string_equal(norm, cases[i][1]);
		free(norm);
	}
	assert_true(store_mailbox_name_is_inbox("Inbox"));
	assert_false(store_mailbox_name_is_inbox("Inbox/x"));
}

static void
test_str_lower(void **state)
{
	char *s = store_str_lower("John.Doe@Example.ORG");

	assert_string_equal(s, "john.doe@example.org");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_names),
		cmocka_unit_test(test_account_names),
		cmocka_unit_test(test_mailbox_names_good),
		cmocka_unit_test(test_mailbox_names_bad),
		cmocka_unit_test(test_mailbox_name_limits),
		cmocka_unit_test(test_mailbox_component_valid),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_str_lower),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
