/* SPDX-License-Identifier: MIT */
/*
 * test-pop3-parser.c: the POP3 command parser: keywords, arguments,
 * numbers, USER/PASS rest-of-line, line limits, NUL bytes, SASL response
 * lines, discard, and the same result for a 1-byte trickle.
 */
#include "pop3-parser.h"
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Feeds text and returns the one command it holds. */
static struct pop3_command
parse1(struct pop3_parser *parser, const char *text)
{
	struct pop3_command cmd;

	pop3_parser_feed(parser, text, strlen(text));
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 1);
	return cmd;
}

static void
test_commands(void **state)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;

	cmd = parse1(parser, "stat\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_STAT);
	assert_int_equal(cmd.arg_count, 0);
	cmd = parse1(parser, "LIST 12\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_LIST);
	assert_int_equal(cmd.arg_count, 1);
	assert_int_equal(cmd.num[0], 12);
	cmd = parse1(parser, "TOP 3 0\n");
	assert_int_equal(cmd.verb, POP3_VERB_TOP);
	assert_int_equal(cmd.num[0], 3);
	assert_int_equal(cmd.num[1], 0);
	cmd = parse1(parser, "Uidl  4  \r\n");
	assert_int_equal(cmd.verb, POP3_VERB_UIDL);
	assert_int_equal(cmd.num[0], 4);
	cmd = parse1(parser, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_AUTH);
	assert_int_equal(cmd.arg_count, 2);
	assert_string_equal(cmd.args[0], "PLAIN");
	assert_string_equal(cmd.args[1], "AGFsaWNlAHNlY3JldA==");
	cmd = parse1(parser, "RETR 4294967295\r\n");
	assert_int_equal(cmd.num[0], 4294967295u);
	cmd = parse1(parser, "QUIT\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_QUIT);
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 0);
	assert_int_equal(pop3_parser_buffered(parser), 0);
	pop3_parser_destroy(&parser);
	assert_null(parser);
}

static void
test_user_pass(void **state)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;

	cmd = parse1(parser, "USER alice@example.org  \r\n");
	assert_int_equal(cmd.verb, POP3_VERB_USER);
	assert_string_equal(cmd.rest, "alice@example.org");
	/* A password keeps its spaces, leading and trailing. */
	cmd = parse1(parser, "PASS  my secret \r\n");
	assert_int_equal(cmd.verb, POP3_VERB_PASS);
	assert_string_equal(cmd.rest, " my secret ");
	cmd = parse1(parser, "PASS\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_INVALID);
	assert_string_equal(cmd.error, "-ERR Missing argument");
	cmd = parse1(parser, "USER   \r\n");
	assert_int_equal(cmd.verb, POP3_VERB_INVALID);
	pop3_parser_destroy(&parser);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *line;
		const char *error;
	} cases[] = {
		{ "\r\n", "-ERR Unknown command" },
		{ "HELO x\r\n", "-ERR Unknown command" },
		{ "STATS\r\n", "-ERR Unknown command" },
		{ " STAT\r\n", "-ERR Unknown command" },
		{ "STAT 1\r\n", "-ERR Too many arguments" },
		{ "RETR\r\n", "-ERR Missing argument" },
		{ "TOP 1\r\n", "-ERR Missing argument" },
		{ "TOP 1 2 3\r\n", "-ERR Too many arguments" },
		{ "RETR -1\r\n", "-ERR Invalid number" },
		{ "RETR +1\r\n", "-ERR Invalid number" },
		{ "RETR 1x\r\n", "-ERR Invalid number" },
		{ "RETR 4294967296\r\n", "-ERR Invalid number" },
		{ "RETR 00000000001\r\n", "-ERR Invalid number" },
		{ "LIST 1\t\r\n", "-ERR Invalid number" },
		{ "APOP a\r\n", "-ERR Missing argument" },
	};
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cmd = parse1(parser, cases[i].line);
		if (cmd.verb != POP3_VERB_INVALID ||
		    strcmp(cmd.error, cases[i].error) != 0)
			fail_msg("%s: got verb %d %s", cases[i].line,
				 (int)cmd.verb, cmd.error);
	}
	/* NUL inside a line */
	pop3_parser_feed(parser, "NOOP\0x\r\n", 8);
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 1);
	assert_string_equal(cmd.error, "-ERR NUL byte in command");
	/* The session goes on. */
	cmd = parse1(parser, "NOOP\r\n");
	assert_int_equal(cmd.verb, POP3_VERB_NOOP);
	pop3_parser_destroy(&parser);
}

static void
test_line_limits(void **state)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;
	char line[POP3_LINE_MAX + 16];
	buf_t big = BUF_INIT;

	/* 255 octets with CRLF: accepted; 256: refused. */
	memset(line, 0, sizeof(line));
	memcpy(line, "USER ", 5);
	memset(line + 5, 'a', POP3_LINE_MAX - 7);
	strcat(line, "\r\n");
	assert_int_equal(strlen(line), POP3_LINE_MAX);
	cmd = parse1(parser, line);
	assert_int_equal(cmd.verb, POP3_VERB_USER);
	memset(line + 5, 'a', POP3_LINE_MAX - 6);
	strcpy(line + POP3_LINE_MAX - 1, "\r\n");
	cmd = parse1(parser, line);
	assert_string_equal(cmd.error, "-ERR Line too long");
	/* AUTH and PASS lines may be longer. */
	buf_append_str(&big, "AUTH PLAIN ");
	while (big.len < 4000)
		buf_append_str(&big, "QUFB");
	buf_append_str(&big, "\r\n");
	cmd = parse1(parser, buf_cstr(&big));
	assert_int_equal(cmd.verb, POP3_VERB_AUTH);
	/* Beyond POP3_LONG_LINE_MAX: skipped without being kept. */
	buf_reset(&big);
	while (big.len < POP3_LONG_LINE_MAX * 4)
		buf_append_str(&big, "PASS xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	pop3_parser_feed(parser, big.data, big.len);
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 0);
	assert_true(pop3_parser_buffered(parser) <= POP3_LONG_LINE_MAX);
	cmd = parse1(parser, "still the same line\r\nNOOP\r\n");
	assert_string_equal(cmd.error, "-ERR Line too long");
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 1);
	assert_int_equal(cmd.verb, POP3_VERB_NOOP);
	buf_deinit(&big);
	pop3_parser_destroy(&parser);
}

static void
test_responses_and_discard(void **state)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;
	const char *line;
	size_t len;

	pop3_parser_feed(parser, "dXNlcg==\r\n*\r\n", 13);
	assert_int_equal(pop3_parser_next_response(parser, &line, &len), 1);
	assert_string_equal(line, "dXNlcg==");
	assert_int_equal(len, 8);
	assert_int_equal(pop3_parser_next_response(parser, &line, &len), 1);
	assert_string_equal(line, "*");
	assert_int_equal(pop3_parser_next_response(parser, &line, &len), 0);
	/* STLS: what follows it is dropped. */
	pop3_parser_feed(parser, "STLS\r\nUSER evil\r\n", 17);
	cmd = parse1(parser, "");
	assert_int_equal(cmd.verb, POP3_VERB_STLS);
	pop3_parser_discard(parser);
	assert_int_equal(pop3_parser_buffered(parser), 0);
	assert_int_equal(pop3_parser_next_command(parser, &cmd), 0);
	pop3_parser_destroy(&parser);
}

/* The transcript of a stream, fed step bytes at a time. */
static void
transcript(const char *in, size_t len, size_t step, buf_t *out)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;
	size_t fed = 0, n;
	unsigned int i;

	for (;;) {
		if (pop3_parser_next_command(parser, &cmd) == 1) {
			buf_printf(out, "%d|%s", (int)cmd.verb,
				   cmd.error == NULL ? "" : cmd.error);
			for (i = 0; i < cmd.arg_count; i++)
				buf_printf(out, "|%s", cmd.args[i]);
			buf_append_c(out, '\n');
			continue;
		}
		if (fed == len)
			break;
		n = len - fed < step ? len - fed : step;
		pop3_parser_feed(parser, in + fed, n);
		fed += n;
	}
	pop3_parser_destroy(&parser);
}

static void
test_trickle(void **state)
{
	buf_t in = BUF_INIT, whole = BUF_INIT, pieces = BUF_INIT;
	size_t step;

	buf_append_str(&in, "CAPA\r\nUSER a\r\nPASS b c\nSTAT\r\nLIST 1\r\n"
		       "TOP 1 10\r\nbogus\r\n\r\nRETR x\r\nQUIT\r\n");
	while (in.len < 12000)
		buf_append_c(&in, 'z');
	buf_append_str(&in, "\r\nNOOP\r\n");
	transcript((const char *)in.data, in.len, in.len, &whole);
	for (step = 1; step <= 7; step++) {
		buf_reset(&pieces);
		transcript((const char *)in.data, in.len, step, &pieces);
		assert_string_equal(buf_cstr(&pieces), buf_cstr(&whole));
	}
	assert_non_null(strstr(buf_cstr(&whole), "Line too long"));
	buf_deinit(&in);
	buf_deinit(&whole);
	buf_deinit(&pieces);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_user_pass),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_responses_and_discard),
		cmocka_unit_test(test_trickle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
