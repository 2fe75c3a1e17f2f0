/* SPDX-License-Identifier: MIT */
/*
 * test-mime-charset.c: unit tests for src/mime/mime-charset.c: UTF-8
 * validation and repair, charset names, iconv conversion with
 * replacement of undecodable input.
 */
#include "mime-charset.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define R MIME_UTF8_REPLACEMENT

/* expected is a string literal: its size counts embedded NULs. */
#define check_sanitize(in, len, expected) \
	check_sanitize_n(in, len, expected, sizeof(expected) - 1)

static void
check_sanitize_n(const char *in, size_t len, const char *expected,
		 size_t expected_len)
{
	buf_t out = BUF_INIT;

	mime_utf8_sanitize((const unsigned char *)in, len, &out);
	assert_int_equal(out.len, expected_len);
	assert_memory_equal(out.data, expected, out.len);
	buf_deinit(&out);
}

static void
test_sanitize(void **state)
{
	check_sanitize("abc", 3, "abc");
	check_sanitize("a\0b", 3, "a\0b");
	check_sanitize("\xc3\xa9", 2, "\xc3\xa9");
	check_sanitize("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
	/* Truncated, overlong, surrogate, beyond U+10FFFF, stray byte. */
	check_sanitize("\xc3", 1, R);
	check_sanitize("\xe2\x82", 2, R R);
	check_sanitize("\xc0\xaf", 2, R R);
	check_sanitize("\xe0\x80\xaf", 3, R R R);
	check_sanitize("\xed\xa0\x80", 3, R R R);
	check_sanitize("\xf4\x90\x80\x80", 4, R R R R);
	check_sanitize("a\x80z", 3, "a" R "z");
}

static void
test_names(void **state)
{
	char long_name[MIME_CHARSET_NAME_MAX + 2];

	assert_true(mime_charset_name_is_valid("UTF-8"));
	assert_true(mime_charset_name_is_valid("iso-8859-15"));
	assert_true(mime_charset_name_is_valid("ks_c_5601-1987"));
	assert_false(mime_charset_name_is_valid(""));
	assert_false(mime_charset_name_is_valid("utf-8//IGNORE"));
	assert_false(mime_charset_name_is_valid("a b"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(mime_charset_name_is_valid(long_name));
	long_name[MIME_CHARSET_NAME_MAX] = '\0';
	assert_true(mime_charset_name_is_valid(long_name));
}

static void
check_convert(const char *charset, const char *in, size_t len,
	      int ret, const char *expected)
{
	buf_t out = BUF_INIT;

	buf_append_str(&out, "<");
	assert_int_equal(mime_charset_to_utf8(charset,
					      (const unsigned char *)in,
					      len, &out), ret);
	assert_string_equal(buf_cstr(&out), expected);
	buf_deinit(&out);
}

static void
test_convert(void **state)
{
	check_convert("ISO-8859-1", "caf\xe9", 4, 0, "<caf\xc3\xa9");
	check_convert("windows-1252", "\x80", 1, 0, "<\xe2\x82\xac");
	check_convert("utf-8", "\xc3\xa9\xff", 3, 0, "<\xc3\xa9" R);
	check_convert("x-no-such-charset", "abc", 3, -1, "<");
	check_convert("UTF-8//IGNORE", "abc", 3, -1, "<");
	/* Shift_JIS: an invalid byte, then a cut sequence at the end. */
	check_convert("Shift_JIS", "a\x82\xa0\xff" "b\x82", 6, 0,
		      "<a" "\xe3\x81\x82" R "b" R);
	check_convert("ISO-2022-JP", "\x1b$B$G$9\x1b(B", 10, 0,
		      "<\xe3\x81\xa7\xe3\x81\x99");
	/* Large input grows the output. */
	{
		size_t n = 100000, i;
		char *in = malloc(n);
		buf_t out = BUF_INIT;

		memset(in, '\xe9', n);
		assert_int_equal(mime_charset_to_utf8("latin1",
			(unsigned char *)in, n, &out), 0);
		assert_int_equal(out.len, 2 * n);
		for (i = 0; i < out.len; i += 2)
			assert_memory_equal(out.data + i, "\xc3\xa9", 2);
		buf_deinit(&out);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_convert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
