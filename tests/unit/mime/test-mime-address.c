/* SPDX-License-Identifier: MIT */
/*
 * test-mime-address.c: unit tests for src/mime/mime-address.c: the
 * RFC 5322 §3.4 and §A.1 examples, groups, routes, comments as names,
 * the §4.4 obsolete forms, and broken input with and without the
 * MISSING_* placeholders.
 */
#include "mime-address.h"
#include "buf.h"
#include "mime-arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* Renders a list as "name|route|mailbox|domain;..." with "-" for NULL
   and "!" after invalid addresses. */
static void
render(buf_t *out, const struct mime_address *addr)
{
	for (; addr != NULL; addr = addr->next) {
		buf_printf(out, "%s|%s|%s|%s%s;",
			   addr->name == NULL ? "-" : addr->name,
			   addr->route == NULL ? "-" : addr->route,
			   addr->mailbox == NULL ? "-" : addr->mailbox,
			   addr->domain == NULL ? "-" : addr->domain,
			   addr->invalid_syntax ? "!" : "");
	}
}

static void
check_flags(const char *in, enum mime_address_flags flags, const char *want)
{
	struct mime_arena *arena = mime_arena_create();
	buf_t out = BUF_INIT;

	render(&out, mime_address_parse(arena, in, strlen(in), flags));
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_arena_destroy(&arena);
}

static void
check(const char *in, const char *want)
{
	check_flags(in, MIME_ADDRESS_FILL_MISSING, want);
}

static void
test_rfc5322_examples(void **state)
{
	/* RFC 5322 §A.1.1 */
	check("John Doe <jdoe@machine.example>",
	      "John Doe|-|jdoe|machine.example;");
	check("Mary Smith <mary@example.net>",
	      "Mary Smith|-|mary|example.net;");
	/* §A.1.2 */
	check("\"Joe Q. Public\" <john.q.public@example.com>",
	      "Joe Q. Public|-|john.q.public|example.com;");
	check("Mary Smith <mary@x.test>, jdoe@example.org, "
	      "Who? <one@y.test>",
	      "Mary Smith|-|mary|x.test;-|-|jdoe|example.org;"
	      "Who?|-|one|y.test;");
	check("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
	      "<sysservices@example.net>",
	      "-|-|boss|nil.test;Giant; \"Big\" Box|-|sysservices|"
	      "example.net;");
	/* §A.1.3: groups */
	check("A Group:Ed Jones <c@a.test>,joe@where.test,John "
	      "<jdoe@one.test>;",
	      "-|-|A Group|-;Ed Jones|-|c|a.test;-|-|joe|where.test;"
	      "John|-|jdoe|one.test;-|-|-|-;");
	check("Undisclosed recipients:;",
	      "-|-|Undisclosed recipients|-;-|-|-|-;");
	/* §A.5: white space and comments */
	check("Pete(A nice \\) chap) <pete(his account)@silly.test(his "
	      "host)>", "Pete|-|pete|silly.test;");
	check("A Group(Some people)\r\n     :Chris Jones "
	      "<c@(Chris's host.)public.example>,\r\n joe@example.org;",
	      "-|-|A Group|-;Chris Jones|-|c|public.example;"
	      "-|-|joe|example.org;-|-|-|-;");
	check("(Empty list)(start)Hidden recipients  :(nobody(that I "
	      "know))  ;", "-|-|Hidden recipients|-;-|-|-|-;");
}

static void
test_obsolete(void **state)
{
	/* §4.4 obs-route */
	check("<@a.test,@b.test:user@host.test>",
	      "-|@a.test,@b.test|user|host.test;");
	check("<@a.test (c) , ,@b.test:x@y.test>",
	      "-|@a.test,@b.test|x|y.test;");
	/* obs-phrase with dots, obs-local-part with CFWS */
	check("John Q. Public <jqp@x.test>", "John Q. Public|-|jqp|x.test;");
	check("john . doe @ example . org", "-|-|john.doe|example.org;");
	/* obs-addr-list: empty elements */
	check(",, a@b.test,,",
	      "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;"
	      "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;-|-|a|b.test;"
	      "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	/* the display name from a trailing comment, the last one */
	check("jim@example.com (Jim) (Second)",
	      "Second|-|jim|example.com;");
	check("\"a b\"@example.com, user@[192.168.0.1]",
	      "-|-|a b|example.com;-|-|user|[192.168.0.1];");
}

static void
test_broken(void **state)
{
	check("", "");
	check("   (only a comment)  ", "");
	check("user", "-|-|user|MISSING_DOMAIN!;");
	check("foo bar baz", "foo bar baz|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	check("<a@b.test", "-|-|a|SYNTAX_ERROR!;");
	check("<>", "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	check("@", "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	check("a@, @b.test, (x)",
	      "-|-|a|MISSING_DOMAIN!;-|-|MISSING_MAILBOX|b.test!;");
	check("\"unterminated <x@y.test>",
	      "-|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	check("<@a.test user@b.test>", "-|INVALID_ROUTE|user|b.test;");
	check("broken group: a@b.test",
	      "-|-|broken group|-;-|-|a|b.test;-|-|-|-!;");
	check("Name Only <>", "Name Only|-|MISSING_MAILBOX|MISSING_DOMAIN!;");
	/* without FILL_MISSING the holes stay empty */
	check_flags("user, <>", 0, "-|-|user|!;-|-||!;");
	/* NUL is no atext: the address stops there */
	{
		struct mime_arena *arena = mime_arena_create();
		buf_t out = BUF_INIT;

		render(&out, mime_address_parse(arena, "a\0b@c", 5,
						MIME_ADDRESS_FILL_MISSING));
		assert_string_equal(buf_cstr(&out),
				    "-|-|a|MISSING_DOMAIN!;");
		buf_deinit(&out);
		mime_arena_destroy(&arena);
	}
}

static void
test_helpers(void **state)
{
	struct mime_arena *arena = mime_arena_create();
	struct mime_address *list;

	list = mime_address_parse(arena, "g: a@b;", 7, 0);
	assert_true(mime_address_is_group_start(list));
	assert_false(mime_address_is_group_end(list));
	assert_true(mime_address_is_group_end(mime_address_last(list)));
	assert_null(mime_address_last(NULL));
	mime_arena_destroy(&arena);
}

static void
test_many(void **state)
{
	struct mime_arena *arena = mime_arena_create();
	struct mime_address *addr;
	unsigned int n = 0;
	buf_t in = BUF_INIT;

	while (in.len < 2 * 1024 * 1024)
		buf_append_str(&in, "a@b,");
	for (addr = mime_address_parse(arena, in.data, in.len, 0);
	     addr != NULL; addr = addr->next)
		n++;
	assert_int_equal(n, MIME_ADDRESS_MAX_COUNT);
	buf_deinit(&in);
	mime_arena_destroy(&arena);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5322_examples),
		cmocka_unit_test(test_obsolete),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
