/* SPDX-License-Identifier: MIT */
/*
 * test-imap-quote.c: unit tests for src/mime/imap-quote.c: NIL, quoted
 * strings and literals (RFC 3501 §4.3), unfolding, the white space
 * clean-up for Subject and names, and UTF8=ACCEPT quoting.
 */
#include "imap-quote.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

typedef void writer_t(buf_t *out, const char *s,
		      enum imap_quote_flags flags);

static void
check(writer_t *writer, const char *in, enum imap_quote_flags flags,
      const char *want)
{
	buf_t out = BUF_INIT;

	writer(&out, in, flags);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
}

static void
test_nstring(void **state)
{
	check(imap_append_nstring, NULL, 0, "NIL");
	check(imap_append_nstring, "", 0, "\"\"");
	check(imap_append_nstring, "NIL", 0, "\"NIL\"");
	check(imap_append_nstring, "a \"b\" \\c", 0, "\"a \\\"b\\\" \\\\c\"");
	/* past IMAP_QUOTE_MAX_ESCAPES a literal is no longer */
	check(imap_append_nstring, "\"\"\"\"\"", 0, "{5}\r\n\"\"\"\"\"");
	check(imap_append_nstring, "a\r\nb", 0, "{4}\r\na\r\nb");
	check(imap_append_nstring, "caf\xc3\xa9", 0, "{5}\r\ncaf\xc3\xa9");
	check(imap_append_nstring, "caf\xc3\xa9", IMAP_QUOTE_FLAG_UTF8,
	      "\"caf\xc3\xa9\"");
	/* not UTF-8: a literal even with UTF8=ACCEPT */
	check(imap_append_nstring, "caf\xe9", IMAP_QUOTE_FLAG_UTF8,
	      "{4}\r\ncaf\xe9");
}

static void
test_nolf(void **state)
{
	check(imap_append_nstring_nolf, NULL, 0, "NIL");
	check(imap_append_nstring_nolf, "a\r\n b", 0, "\"a b\"");
	check(imap_append_nstring_nolf, "\r\n x", 0, "\" x\"");
	/* a line end not followed by a blank becomes one */
	check(imap_append_nstring_nolf, "a\rb", 0, "\"a b\"");
	check(imap_append_nstring_nolf, "a\r\n", 0, "\"a\"");
}

static void
test_humans(void **state)
{
	check(imap_append_string_for_humans, "", 0, "\"\"");
	check(imap_append_string_for_humans, "plain text", 0,
	      "\"plain text\"");
	/* anything changed or escaped is sent as a literal */
	check(imap_append_string_for_humans, " a  b\t\r\n c ", 0,
	      "{5}\r\na b c");
	check(imap_append_string_for_humans, "a\tb", 0, "{3}\r\na b");
	check(imap_append_string_for_humans, "say \"hi\"", 0,
	      "{8}\r\nsay \"hi\"");
	check(imap_append_string_for_humans, "   ", 0, "\"\"");
	check(imap_append_string_for_humans, "\xc3\xa9", 0, "{2}\r\n\xc3\xa9");
	check(imap_append_string_for_humans, " \xc3\xa9 ",
	      IMAP_QUOTE_FLAG_UTF8, "\"\xc3\xa9\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nstring),
		cmocka_unit_test(test_nolf),
		cmocka_unit_test(test_humans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
