/* SPDX-License-Identifier: MIT */
/*
 * test-imap-parser.c: the IMAP command parser: tags, names, atoms with
 * brackets, quoted strings, lists, literals of every kind with their
 * continuation requests, the limits (line, literal size, literal count,
 * nesting) and resynchronisation after them, NUL bytes, raw lines, and
 * the same transcript for a 1-byte trickle as for the whole input.
 */
#include "imap-parser.h"
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
dump_args(buf_t *out, const struct imap_arg *args, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];

		if (i > 0)
			buf_append_c(out, ' ');
		switch (a->type) {
		case IMAP_ARG_ATOM:
			buf_append(out, a->str, a->len);
			break;
		case IMAP_ARG_STRING:
			buf_printf(out, "\"%s\"", a->str);
			break;
		case IMAP_ARG_LITERAL:
		case IMAP_ARG_LITERAL8:
			buf_printf(out, "%s{%zu:", a->type == IMAP_ARG_LITERAL8 ?
				   "~" : "", a->len);
			buf_append(out, a->str, a->len);
			buf_append_c(out, '}');
			break;
		case IMAP_ARG_LIST:
			buf_append_c(out, '(');
			dump_args(out, a->list, a->list_count);
			buf_append_c(out, ')');
			break;
		}
	}
}

/* Runs input through a parser fed step bytes at a time; returns the
   transcript (caller frees). */
static char *
transcript(const char *input, size_t len, size_t step, uint64_t lit_max)
{
	struct imap_parser *parser = imap_parser_create(lit_max);
	struct imap_command cmd;
	buf_t out = BUF_INIT;
	size_t fed = 0, n;

	for (;;) {
		while (imap_parser_next(parser, &cmd) == 1) {
			switch (cmd.type) {
			case IMAP_COMMAND_OK:
				buf_printf(&out, "[%s %s", cmd.tag, cmd.name);
				if (cmd.arg_count > 0)
					buf_append_c(&out, ' ');
				dump_args(&out, cmd.args, cmd.arg_count);
				buf_append_str(&out, "]\n");
				break;
			case IMAP_COMMAND_CONTINUE:
				buf_printf(&out, "+%s\n", cmd.tag);
				break;
			case IMAP_COMMAND_ERROR:
				buf_printf(&out, "%s %s%s\n", cmd.tag,
					   cmd.error, cmd.fatal ? " FATAL" : "");
				break;
			}
		}
		if (fed == len)
			break;
		n = len - fed < step ? len - fed : step;
		imap_parser_feed(parser, input + fed, n);
		fed += n;
	}
	imap_parser_destroy(&parser);
	assert_null(parser);
	buf_append_c(&out, '\0');
	return (char *)buf_steal(&out, &n);
}

/* Checks the transcript, whole and trickled one byte at a time. */
static void
check_len(const char *input, size_t len, const char *expected,
	  uint64_t lit_max)
{
	char *whole = transcript(input, len, len == 0 ? 1 : len, lit_max);
	char *trickle = transcript(input, len, 1, lit_max);
	char *three = transcript(input, len, 3, lit_max);

	assert_string_equal(whole, expected);
	assert_string_equal(trickle, expected);
	assert_string_equal(three, expected);
	free(whole);
	free(trickle);
	free(three);
}

static void
check(const char *input, const char *expected)
{
	check_len(input, strlen(input), expected, 0);
}

static void
test_simple(void **state)
{
	check("a1 NOOP\r\n", "[a1 NOOP]\n");
	check("a1 noop\n", "[a1 noop]\n");
	check("x LOGIN alice \"se \\\"cr\\\\et\"\r\n",
	      "[x LOGIN alice \"se \"cr\\et\"]\n");
	check("t UID FETCH 1:*,$ (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]"
	      "<0.100>)\r\n",
	      "[t UID FETCH 1:*,$ (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]"
	      "<0.100>)]\n");
	check("t STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n",
	      "[t STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)]\n");
	check("t LIST \"\" %\r\nu LIST \"\" *\r\n",
	      "[t LIST \"\" %]\n[u LIST \"\" *]\n");
	check("t SELECT \"\"\r\n", "[t SELECT \"\"]\n");
	check("t X (() (a (b)))\r\n", "[t X (() (a (b)))]\n");
	/* UTF-8 in quoted strings (UTF8=ACCEPT) */
	check("t CREATE \"\xc3\xa9t\xc3\xa9\"\r\n",
	      "[t CREATE \"\xc3\xa9t\xc3\xa9\"]\n");
}

static void
test_literals(void **state)
{
	check("a LOGIN {5}\r\nalice {6}\r\nsecret\r\n",
	      "+a\n+a\n[a LOGIN {5:alice} {6:secret}]\n");
	check("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n",
	      "[a LOGIN {5:alice} {6:secret}]\n");
	check("a APPEND INBOX (\\Seen) {0}\r\n\r\n",
	      "+a\n[a APPEND INBOX (\\Seen) {0:}]\n");
	check("a APPEND INBOX ~{3+}\r\na-b\r\n",
	      "[a APPEND INBOX ~{3:a-b}]\n");
	/* a literal holding CRLF and what looks like a marker */
	check("a APPEND INBOX {9+}\r\nx {2}\r\n\r\n\r\nb NOOP\r\n",
	      "[a APPEND INBOX {9:x {2}\r\n\r\n}]\n[b NOOP]\n");
	/* MULTIAPPEND: literals inside lists go on */
	check("a APPEND B {1+}\r\nx (\\Seen) {1+}\r\ny\r\n",
	      "[a APPEND B {1:x} (\\Seen) {1:y}]\n");
}

static void
test_errors(void **state)
{
	check("\r\n", "* BAD Empty command line\n");
	check("a\r\nb NOOP\r\n",
	      "a BAD Missing or invalid command name\n[b NOOP]\n");
	check("+x NOOP\r\n", "* BAD Invalid tag\n");
	check("a X (b\r\nc NOOP\r\n", "a BAD Missing ')'\n[c NOOP]\n");
	check("a X b)\r\n", "a BAD Unexpected ')'\n");
	check("a X \"b\r\n", "a BAD Missing '\"'\n");
	check("a X \"\\x\"\r\n", "a BAD Invalid escape in string\n");
	check("a X b\"c\"\r\n", "a BAD Missing space between arguments\n");
	check("a X {b\r\n", "a BAD Invalid characters in atom\n");
	check("a X BODY[1\r\n", "a BAD Missing ']'\n");
	check("a X \xff\r\n", "a BAD Invalid characters in atom\n");
	check_len("a X \0\r\nb NOOP\r\n", 15,
		  "a BAD NUL byte in command\n[b NOOP]\n", 0);
	/* NUL in a normal literal, allowed in a binary one */
	check_len("a X {3+}\r\na\0b\r\nb NOOP\r\n", 23,
		  "a BAD NUL byte in literal\n[b NOOP]\n", 0);
	/* the error after a failed literal: rest skipped, sync ends it */
	check_len("a X \0 {3+}\r\nabc {2}\r\nb NOOP\r\n", 29,
		  "a BAD NUL byte in command\n[b NOOP]\n", 0);
}

static void
test_nesting(void **state)
{
	buf_t in = BUF_INIT, exp = BUF_INIT;
	unsigned int i;

	buf_append_str(&in, "a X ");
	for (i = 0; i < IMAP_LIST_DEPTH_MAX; i++)
		buf_append_c(&in, '(');
	for (i = 0; i < IMAP_LIST_DEPTH_MAX; i++)
		buf_append_c(&in, ')');
	buf_append_str(&in, "\r\n");
	buf_append_str(&exp, "[");
	buf_append(&exp, in.data, in.len - 2);
	buf_append_str(&exp, "]\n");
	check(buf_cstr(&in), buf_cstr(&exp));
	buf_reset(&in);
	buf_append_str(&in, "a X ");
	for (i = 0; i <= IMAP_LIST_DEPTH_MAX; i++)
		buf_append_c(&in, '(');
	for (i = 0; i <= IMAP_LIST_DEPTH_MAX; i++)
		buf_append_c(&in, ')');
	buf_append_str(&in, "\r\nb NOOP\r\n");
	check(buf_cstr(&in), "a BAD Too deeply nested lists\n[b NOOP]\n");
	buf_deinit(&in);
	buf_deinit(&exp);
}

static void
test_limits(void **state)
{
	buf_t in = BUF_INIT;
	unsigned int i;

	/* over-long line: skipped without buffering, a {n+} at its end
	   is skipped too */
	buf_append_str(&in, "a1 X ");
	for (i = 0; i < IMAP_LINE_MAX; i++)
		buf_append_c(&in, 'x');
	buf_append_str(&in, " {4+}\r\nabcd\r\nb NOOP\r\n");
	check(buf_cstr(&in), "a1 BAD Command line too long\n[b NOOP]\n");
	buf_deinit(&in);

	/* literal over the limit: a synchronising one gets no "+" */
	check_len("a APPEND INBOX {11}\r\nb NOOP\r\n", 29,
		  "a NO [TOOBIG] Literal too large\n[b NOOP]\n", 10);
	check_len("a APPEND INBOX {11+}\r\nhello world\r\nb NOOP\r\n", 43,
		  "a NO [TOOBIG] Literal too large\n[b NOOP]\n", 10);
	check_len("a APPEND INBOX {10+}\r\nhello worl\r\n", 35,
		  "[a APPEND INBOX {10:hello worl}]\n", 10);
	check("a X {99999999999}\r\nb NOOP\r\n",
	      "a BAD Literal size out of range\n[b NOOP]\n");
	check("a X {99999999999+}\r\n",
	      "a BAD Literal size out of range FATAL\n");
	/* too many literals */
	buf_init(&in);
	buf_append_str(&in, "a X");
	for (i = 0; i <= IMAP_LITERALS_MAX; i++)
		buf_append_str(&in, " {1+}\r\nz");
	buf_append_str(&in, "\r\nb NOOP\r\n");
	check(buf_cstr(&in), "a BAD Too many literals\n[b NOOP]\n");
	buf_deinit(&in);
}

static void
test_raw_lines(void **state)
{
	struct imap_parser *parser = imap_parser_create(0);
	struct imap_command cmd;
	const char *line;
	size_t len;
	buf_t big = BUF_INIT;

	imap_parser_feed(parser, "a AUTHENTICATE PLAIN\r\nAGEAYg==\r\nDO", 34);
	assert_int_equal(imap_parser_next(parser, &cmd), 1);
	assert_string_equal(cmd.name, "AUTHENTICATE");
	assert_int_equal(imap_parser_next_line(parser, &line, &len), 1);
	assert_string_equal(line, "AGEAYg==");
	assert_int_equal(len, 8);
	assert_int_equal(imap_parser_next_line(parser, &line, &len), 0);
	imap_parser_feed(parser, "NE\r\n", 4);
	assert_int_equal(imap_parser_next_line(parser, &line, &len), 1);
	assert_string_equal(line, "DONE");
	for (size_t i = 0; i < IMAP_LINE_MAX + 10; i++)
		buf_append_c(&big, 'A');
	buf_append_str(&big, "\r\nb NOOP\r\n");
	imap_parser_feed(parser, big.data, big.len);
	assert_int_equal(imap_parser_next_line(parser, &line, &len), 1);
	assert_null(line);
	assert_int_equal(imap_parser_next(parser, &cmd), 1);
	assert_string_equal(cmd.name, "NOOP");
	/* discard drops everything buffered */
	imap_parser_feed(parser, "c NOOP\r\nd NO", 12);
	imap_parser_discard(parser);
	assert_int_equal(imap_parser_buffered(parser), 0);
	assert_int_equal(imap_parser_next(parser, &cmd), 0);
	buf_deinit(&big);
	imap_parser_destroy(&parser);
}

static void
test_literal8_nul(void **state)
{
	struct imap_parser *parser = imap_parser_create(0);
	struct imap_command cmd;

	imap_parser_feed(parser, "a APPEND INBOX ~{3+}\r\na\0b\r\n", 28);
	assert_int_equal(imap_parser_next(parser, &cmd), 1);
	assert_int_equal(cmd.type, IMAP_COMMAND_OK);
	assert_int_equal(cmd.arg_count, 2);
	assert_int_equal(cmd.args[1].type, IMAP_ARG_LITERAL8);
	assert_int_equal(cmd.args[1].len, 3);
	assert_memory_equal(cmd.args[1].str, "a\0b", 3);
	imap_parser_destroy(&parser);
}

static void
test_arg_helpers(void **state)
{
	struct imap_parser *parser = imap_parser_create(0);
	struct imap_command cmd;
	const struct imap_arg *list;
	unsigned int count;
	const char *s;
	uint32_t n;

	imap_parser_feed(parser, "a X nil 4294967295 4294967296 \"q\" (1)\r\n",
			 39);
	assert_int_equal(imap_parser_next(parser, &cmd), 1);
	assert_int_equal(cmd.arg_count, 5);
	assert_true(imap_arg_is_nil(&cmd.args[0]));
	assert_true(imap_arg_get_number(&cmd.args[1], &n));
	assert_int_equal(n, 4294967295u);
	assert_false(imap_arg_get_number(&cmd.args[2], &n));
	assert_true(imap_arg_get_string(&cmd.args[3], &s));
	assert_false(imap_arg_get_atom(&cmd.args[3], &s));
	assert_true(imap_arg_get_astring(&cmd.args[0], &s));
	assert_true(imap_arg_get_list(&cmd.args[4], &list, &count));
	assert_int_equal(count, 1);
	assert_false(imap_arg_get_astring(&cmd.args[4], &s));
	imap_parser_destroy(&parser);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_raw_lines),
		cmocka_unit_test(test_literal8_nul),
		cmocka_unit_test(test_arg_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
