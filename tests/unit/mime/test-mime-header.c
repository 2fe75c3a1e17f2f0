/* SPDX-License-Identifier: MIT */
/*
 * test-mime-header.c: unit tests for src/mime/mime-header.c: field
 * parsing (LF and CRLF, folding, invalid lines, limits, the 1-byte
 * trickle), unfolding and RFC 2047 decoding.
 */
#include "mime-header.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Parses msg fed in pieces of `step` bytes; returns "name=value|..." of
   every field plus "#<body offset>". */
static char *
parse_all(const char *msg, size_t len, size_t step)
{
	struct mime_header_parser *parser = mime_header_parser_create();
	struct mime_header_field field;
	buf_t out = BUF_INIT;
	size_t pos = 0;
	int ret;

	for (;;) {
		while ((ret = mime_header_parser_next(parser, &field)) > 0) {
			buf_printf(&out, "%s=", field.name);
			buf_append(&out, field.value, field.value_len);
			buf_printf(&out, "@%llu+%llu%s|",
				   (unsigned long long)field.offset,
				   (unsigned long long)field.size,
				   field.truncated ? "T" : "");
		}
		if (mime_header_parser_done(parser))
			break;
		if (pos >= len) {
			mime_header_parser_feed_eof(parser);
			continue;
		}
		size_t n = len - pos < step ? len - pos : step;
		mime_header_parser_feed(parser,
					(const unsigned char *)msg + pos, n);
		pos += n;
	}
	buf_printf(&out, "#%llu", (unsigned long long)
		   mime_header_parser_body_offset(parser));
	mime_header_parser_destroy(&parser);
	assert_null(parser);
	return (char *)buf_steal(&out, &pos);
}

static void
check_parse(const char *msg, const char *expected)
{
	size_t len = strlen(msg), step;

	/* Splitting the input at any byte gives the same result. */
	for (step = 1; step <= len + 1; step++) {
		char *got = parse_all(msg, len, step);

		assert_string_equal(got, expected);
		free(got);
	}
}

static void
test_parse_simple(void **state)
{
	check_parse("Subject: hi\nFrom: a@b\n\nbody\n",
		    "Subject= hi@0+12|From= a@b@12+10|#23");
	check_parse("Subject: hi\r\nX: y\r\n\r\nbody",
		    "Subject= hi@0+13|X= y@13+6|#21");
}

static void
test_parse_folded(void **state)
{
	check_parse("Subject: a\n b\n\tc\nX: 1\n\n",
		    "Subject= a\n b\n\tc@0+17|X= 1@17+5|#23");
	check_parse("Subject: a\r\n b\r\n\r\nB",
		    "Subject= a\r\n b@0+16|#18");
}

static void
test_parse_invalid_lines(void **state)
{
	/* No colon, continuation of nothing, bad name, name with a blank
	   before the colon (kept, trimmed). */
	check_parse(" lead\nnocolon\nBad Name: x\nOk : y\n\n",
		    "Ok= y@26+7|#34");
	/* ":" alone is an invalid line. */
	check_parse(":x\nA:b\n\n", "A=b@3+4|#8");
}

static void
test_parse_eof(void **state)
{
	/* No empty line: the header runs to the end. */
	check_parse("A: 1\nB: 2", "A= 1@0+5|B= 2@5+4|#9");
	check_parse("A: 1\n", "A= 1@0+5|#5");
	check_parse("", "#0");
	check_parse("\n", "#1");
	check_parse("\r\nX: y\n", "#2");
}

static void
test_parse_limits(void **state)
{
	size_t len = MIME_HEADER_FIELD_MAX + 100;
	char *msg = malloc(len + 20);
	struct mime_header_parser *parser = mime_header_parser_create();
	struct mime_header_field field;

	memcpy(msg, "A:", 2);
	memset(msg + 2, 'x', len);
	memcpy(msg + 2 + len, "\nB: c\n\n", 8);
	mime_header_parser_feed(parser, (unsigned char *)msg, strlen(msg));
	assert_int_equal(mime_header_parser_next(parser, &field), 1);
	assert_string_equal(field.name, "A");
	assert_true(field.truncated);
	assert_int_equal(field.value_len, MIME_HEADER_FIELD_MAX);
	assert_int_equal(field.size, len + 3);
	assert_int_equal(mime_header_parser_next(parser, &field), 1);
	assert_string_equal(field.name, "B");
	assert_false(field.truncated);
	assert_int_equal(mime_header_parser_next(parser, &field), 0);
	assert_true(mime_header_parser_done(parser));
	mime_header_parser_destroy(&parser);

	/* An over-long name makes the line invalid. */
	memset(msg, 'n', MIME_HEADER_NAME_MAX + 1);
	strcpy(msg + MIME_HEADER_NAME_MAX + 1, ": v\nC: d\n\n");
	check_parse(msg, "C= d@261+5|#267");
	free(msg);
}

static void
test_find(void **state)
{
	const char *msg = "From: a\nsubject: one\nSubject: two\n\nSubject: b\n";
	buf_t value = BUF_INIT;

	assert_int_equal(mime_header_find((const unsigned char *)msg,
					  strlen(msg), "SUBJECT", &value), 1);
	assert_string_equal(buf_cstr(&value), " one");
	assert_int_equal(mime_header_find((const unsigned char *)msg,
					  strlen(msg), "To", NULL), 0);
	buf_deinit(&value);
}

static char *
decode(const char *value)
{
	buf_t out = BUF_INIT;
	size_t len;

	mime_header_decode((const unsigned char *)value, strlen(value), &out);
	return (char *)buf_steal(&out, &len);
}

static void
check_decode(const char *value, const char *expected)
{
	char *got = decode(value);

	assert_string_equal(got, expected);
	free(got);
}

static void
test_unfold(void **state)
{
	buf_t out = BUF_INIT;
	const char *v = "  a\r\n b\n\tc \r\n";

	mime_header_unfold((const unsigned char *)v, strlen(v), &out);
	assert_string_equal(buf_cstr(&out), "a b\tc");
	buf_deinit(&out);
}

static void
test_decode_rfc2047(void **state)
{
	/* RFC 2047 §8 examples. */
	check_decode("=?ISO-8859-1?Q?a?=", "a");
	check_decode("=?ISO-8859-1?Q?a?= b", "a b");
	check_decode("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab");
	check_decode("=?ISO-8859-1?Q?a?=\r\n   =?ISO-8859-1?Q?b?=", "ab");
	check_decode("=?ISO-8859-1?Q?a_b?=", "a b");
	check_decode("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b");
	check_decode("(=?ISO-8859-1?Q?a?=)", "(a)");
	/* Charsets, B encoding, case. */
	check_decode("=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9");
	check_decode("=?UTF-8?B?w6lsw6h2ZQ==?=", "\xc3\xa9l\xc3\xa8ve");
	check_decode("=?utf-8?b?w6lsw6h2ZQ?=", "\xc3\xa9l\xc3\xa8ve");
	check_decode("Re: =?windows-1252?Q?=80uro?= now",
		     "Re: \xe2\x82\xac" "uro now");
	/* A character split across two words of one charset. */
	check_decode("=?UTF-8?B?ww==?= =?UTF-8?B?qQ==?=", "\xc3\xa9");
	check_decode("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9");
	/* RFC 2231 language suffix. */
	check_decode("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore");
	/* Stateful charset. */
	check_decode("=?ISO-2022-JP?B?GyRCJEckORsoQg==?=",
		     "\xe3\x81\xa7\xe3\x81\x99");
}

static void
test_decode_bad(void **state)
{
	/* Unknown charset or bad syntax: left as written. */
	check_decode("=?x-nonesuch?Q?abc?=", "=?x-nonesuch?Q?abc?=");
	check_decode("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	check_decode("=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=");
	check_decode("=?UTF-8//IGNORE?Q?a?=", "=?UTF-8//IGNORE?Q?a?=");
	check_decode("=?UTF-8?B?@@@@?=", "=?UTF-8?B?@@@@?=");
	check_decode("a =? b ?= c", "a =? b ?= c");
	check_decode("=?", "=?");
	/* Bad Q escapes are kept. */
	check_decode("=?UTF-8?Q?a=ZZ=4?=", "a=ZZ=4");
	/* Raw 8-bit: UTF-8 kept, the rest replaced. */
	check_decode("caf\xc3\xa9", "caf\xc3\xa9");
	check_decode("caf\xe9!", "caf\xef\xbf\xbd!");
	/* Invalid bytes inside a word's charset. */
	check_decode("=?UTF-8?Q?a=FFb?=", "a\xef\xbf\xbd" "b");
	check_decode("=?US-ASCII?Q?a=FFb?=", "a\xef\xbf\xbd" "b");
	/* Blanks before a word that is not encoded stay. */
	check_decode("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_simple),
		cmocka_unit_test(test_parse_folded),
		cmocka_unit_test(test_parse_invalid_lines),
		cmocka_unit_test(test_parse_eof),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_decode_rfc2047),
		cmocka_unit_test(test_decode_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
