/* SPDX-License-Identifier: MIT */
/*
 * test-lmtp-parser.c: command lines, paths and parameters, the DATA
 * reader (dot-unstuffing, bare LF, size limit) and BDAT chunks. Every
 * stream is also fed one byte at a time and in odd-sized pieces; the
 * transcript must not change.
 */
#include "lmtp-parser.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/*
 * Drives a parser like a session would: DATA switches to the body after
 * the command, BDAT reads its chunk (dropped when size > 1000). Each
 * event becomes one transcript line.
 */
static void
run_parser(const char *input, size_t len, size_t step, uint64_t max_size,
	   buf_t *out)
{
	struct lmtp_parser *parser = lmtp_parser_create();
	struct lmtp_command cmd;
	enum { CMD, DATA, CHUNK } mode = CMD;
	buf_t body = BUF_INIT;
	size_t fed = 0;
	bool too_large;
	unsigned int i;
	int ret;

	for (;;) {
		if (mode == CMD)
			ret = lmtp_parser_next_command(parser, &cmd);
		else if (mode == DATA)
			ret = lmtp_parser_next_data(parser, &too_large);
		else
			ret = lmtp_parser_next_chunk(parser);
		if (ret == 0) {
			size_t n = len - fed < step ? len - fed : step;

			if (n == 0)
				break;
			lmtp_parser_feed(parser, input + fed, n);
			fed += n;
			continue;
		}
		if (mode == DATA) {
			buf_printf(out, "BODY%s[", too_large ? "-TOO-LARGE" : "");
			buf_append(out, body.data, body.len);
			buf_append_str(out, "]\n");
			buf_reset(&body);
			mode = CMD;
			continue;
		}
		if (mode == CHUNK) {
			buf_printf(out, "CHUNK[");
			buf_append(out, body.data, body.len);
			buf_append_str(out, "]\n");
			buf_reset(&body);
			mode = CMD;
			continue;
		}
		if (cmd.verb == LMTP_VERB_INVALID) {
			buf_printf(out, "ERR %s\n", cmd.error);
			continue;
		}
		buf_printf(out, "CMD %d", (int)cmd.verb);
		if (cmd.arg != NULL)
			buf_printf(out, " arg=%s", cmd.arg);
		if (cmd.address != NULL)
			buf_printf(out, " addr=%s", cmd.address);
		for (i = 0; i < cmd.param_count; i++)
			buf_printf(out, " p=%s", cmd.params[i]);
		if (cmd.verb == LMTP_VERB_BDAT)
			buf_printf(out, " size=%llu%s",
				   (unsigned long long)cmd.chunk_size,
				   cmd.chunk_last ? " LAST" : "");
		buf_append_c(out, '\n');
		if (cmd.verb == LMTP_VERB_DATA) {
			lmtp_parser_data_begin(parser, &body, max_size);
			mode = DATA;
		} else if (cmd.verb == LMTP_VERB_BDAT) {
			lmtp_parser_chunk_begin(parser,
				cmd.chunk_size > 1000 ? NULL : &body,
				cmd.chunk_size);
			mode = CHUNK;
		}
	}
	buf_printf(out, "END buffered=%zu\n", lmtp_parser_buffered(parser));
	buf_deinit(&body);
	lmtp_parser_destroy(&parser);
	assert_null(parser);
}

/* Runs input whole, then in pieces of 1, 2, 3, 7 and 64 bytes; all
   transcripts must equal `expected`. */
static void
check_len(const char *input, size_t len, uint64_t max_size,
	  const char *expected)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	buf_t whole = BUF_INIT, piece = BUF_INIT;
	unsigned int i;

	run_parser(input, len, len == 0 ? 1 : len, max_size, &whole);
	if (strcmp(buf_cstr(&whole), expected) != 0) {
		fprintf(stderr, "got:\n%s\nexpected:\n%s\n", buf_cstr(&whole),
			expected);
		fail();
	}
	for (i = 0; i < N_ELEMENTS(steps); i++) {
		buf_reset(&piece);
		run_parser(input, len, steps[i], max_size, &piece);
		assert_string_equal(buf_cstr(&piece), buf_cstr(&whole));
	}
	buf_deinit(&whole);
	buf_deinit(&piece);
}

static void
check(const char *input, const char *expected)
{
	check_len(input, strlen(input), 1000000, expected);
}

static void
test_commands(void **unused)
{
	check("LHLO client.example\r\nNOOP\r\nnoop hello\r\nRSET\r\n"
	      "HELP\r\nVRFY bob\r\nQUIT\r\n",
	      "CMD 1 arg=client.example\nCMD 7 arg=\nCMD 7 arg=hello\n"
	      "CMD 6 arg=\nCMD 10 arg=\nCMD 9 arg=bob\nCMD 8 arg=\n"
	      "END buffered=0\n");
	/* Bare LF, tabs, trailing spaces, a partial last line. */
	check("lhlo\tx \nRSET  \nQUI",
	      "CMD 1 arg=x\nCMD 6 arg=\nEND buffered=3\n");
}

static void
test_empty_input(void **unused)
{
	/* fuzz-lmtp under UBSan: nothing fed yet, no pointer arithmetic on
	   the empty buffer. */
	check("", "END buffered=0\n");
}

static void
test_command_errors(void **unused)
{
	check("FOO\r\nHELO x\r\nEHLO x\r\nSTARTTLS\r\nLHLO\r\n"
	      "RSET x\r\nDATA x\r\nVRFY\r\n\r\nNO\001OP\r\nNOOP \xc3\xa9\r\n",
	      "ERR 500 5.5.1 Unknown command\n"
	      "ERR 500 5.5.1 Use LHLO (RFC 2033)\n"
	      "ERR 500 5.5.1 Use LHLO (RFC 2033)\n"
	      "ERR 502 5.5.1 Command not implemented\n"
	      "ERR 501 5.5.4 Syntax: LHLO hostname\n"
	      "ERR 501 5.5.4 No parameters allowed\n"
	      "ERR 501 5.5.4 No parameters allowed\n"
	      "ERR 501 5.5.4 Syntax: VRFY address\n"
	      "ERR 500 5.5.1 Unknown command\n"
	      "ERR 500 5.5.2 Invalid characters in command\n"
	      "ERR 500 5.5.2 Invalid characters in command\n"
	      "END buffered=0\n");
	check_len("NO\0OP\r\nNOOP\r\n", 13, 1000,
		  "ERR 500 5.5.2 Invalid characters in command\n"
		  "CMD 7 arg=\nEND buffered=0\n");
}

static void
test_long_line(void **unused)
{
	buf_t in = BUF_INIT;
	size_t i;

	/* Exactly LMTP_LINE_MAX is fine; one more is not; a huge line
	   is skipped without buffering it. */
	buf_append_str(&in, "NOOP ");
	for (i = 5; i < LMTP_LINE_MAX; i++)
		buf_append_c(&in, 'x');
	buf_append_str(&in, "\r\nNOOP x");
	for (i = 6; i < LMTP_LINE_MAX + 1; i++)
		buf_append_c(&in, 'x');
	buf_append_str(&in, "\r\nNOOP ");
	for (i = 0; i < 100000; i++)
		buf_append_c(&in, 'y');
	buf_append_str(&in, "\r\nQUIT\r\n");

	{
		buf_t whole = BUF_INIT;
		struct lmtp_parser *parser = lmtp_parser_create();
		struct lmtp_command cmd;
		size_t fed;

		/* The parser never keeps much more than a line. */
		for (fed = 0; fed < in.len; fed += 100) {
			lmtp_parser_feed(parser, in.data + fed,
					 in.len - fed < 100 ? in.len - fed : 100);
			while (lmtp_parser_next_command(parser, &cmd) == 1)
				buf_printf(&whole, "%d %s\n", (int)cmd.verb,
					   cmd.error == NULL ? "" : cmd.error);
			assert_true(lmtp_parser_buffered(parser) <=
				    LMTP_LINE_MAX + 102);
		}
		assert_string_equal(buf_cstr(&whole),
				    "7 \n0 500 5.5.2 Line too long\n"
				    "0 500 5.5.2 Line too long\n8 \n");
		lmtp_parser_destroy(&parser);
		buf_deinit(&whole);
	}
	buf_deinit(&in);
}

static void
test_paths(void **unused)
{
	check("MAIL FROM:<a@b.example>\r\n"
	      "MAIL FROM:<>\r\n"
	      "mail from: <a.b@c> SIZE=100 BODY=8BITMIME\r\n"
	      "RCPT TO:<bob>\r\n"
	      "RCPT TO:<@r1.example,@r2.example:bob@x.example>\r\n"
	      "RCPT TO:<\"b\\\"o b\"@x>\r\n"
	      "RCPT TO:<u@[127.0.0.1]>\r\n"
	      "RCPT TO:<Bob@Example.ORG> NOTIFY=NEVER\r\n",
	      "CMD 2 addr=a@b.example\n"
	      "CMD 2 addr=\n"
	      "CMD 2 addr=a.b@c p=SIZE=100 p=BODY=8BITMIME\n"
	      "CMD 3 addr=bob\n"
	      "CMD 3 addr=bob@x.example\n"
	      "CMD 3 addr=b\"o b@x\n"
	      "CMD 3 addr=u@[127.0.0.1]\n"
	      "CMD 3 addr=Bob@Example.ORG p=NOTIFY=NEVER\n"
	      "END buffered=0\n");
}

static void
test_path_errors(void **unused)
{
	check("MAIL FROM:a@b\r\nMAIL TO:<a@b>\r\nMAIL\r\n"
	      "RCPT TO:<>\r\nRCPT TO:<a@>\r\nRCPT TO:<.a@b>\r\n"
	      "RCPT TO:<a..b@c>\r\nRCPT TO:<a@b\r\nRCPT TO:<a b@c>\r\n"
	      "RCPT TO:<\"a@b>\r\nRCPT TO:<a@-b>\r\nRCPT TO:<a@[1[2]>\r\n"
	      "RCPT TO:<a@b>x\r\nRCPT TO:<a@b> =x\r\nRCPT TO:<a@b> X=\r\n"
	      "RCPT TO:<a@b> A B C D E F G H I J K L M N O P Q\r\n",
	      "ERR 501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\n"
	      "ERR 501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\n"
	      "ERR 501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.1.3 Bad recipient address syntax\n"
	      "ERR 501 5.5.4 Invalid or too many parameters\n"
	      "ERR 501 5.5.4 Invalid or too many parameters\n"
	      "ERR 501 5.5.4 Invalid or too many parameters\n"
	      "ERR 501 5.5.4 Invalid or too many parameters\n"
	      "END buffered=0\n");
}

static void
test_data(void **unused)
{
	/* Dot-unstuffing, bare LF, lines that are only dots, a lone CR. */
	check("DATA\r\nA\r\n..b\r\n.\r\n",
	      "CMD 4 arg=\nBODY[A\r\n.b\r\n]\nEND buffered=0\n");
	check("DATA\nx\n..\n...\n\n.c\nbare\rcr\n.\nNOOP\n",
	      "CMD 4 arg=\nBODY[x\r\n.\r\n..\r\n\r\nc\r\nbare\rcr\r\n]\n"
	      "CMD 7 arg=\nEND buffered=0\n");
	/* Empty body; ".\r" not followed by LF; CR CR LF. */
	check("DATA\r\n.\r\nDATA\r\n.\rx\r\na\r\r\n.\r\r\n.\r\n",
	      "CMD 4 arg=\nBODY[]\n"
	      "CMD 4 arg=\nBODY[\rx\r\na\r\r\n\r\r\n]\nEND buffered=0\n");
	/* "." inside a line or without a line start does not end it. */
	check("DATA\r\na.\r\n .\r\n.\r\n",
	      "CMD 4 arg=\nBODY[a.\r\n .\r\n]\nEND buffered=0\n");
	/* Unfinished body: nothing emitted yet. */
	check("DATA\r\nabc\r\n", "CMD 4 arg=\nEND buffered=0\n");
}

static void
test_data_too_large(void **unused)
{
	/* The limit counts stored bytes (after unstuffing, with CRLF). */
	check_len("DATA\r\n12345678\r\n.\r\nNOOP\r\n", 25, 10,
		  "CMD 4 arg=\nBODY[12345678\r\n]\nCMD 7 arg=\nEND buffered=0\n");
	check_len("DATA\r\n123456789\r\n..\r\n.\r\nNOOP\r\n", 30, 10,
		  "CMD 4 arg=\nBODY-TOO-LARGE[]\nCMD 7 arg=\n"
		  "END buffered=0\n");
	check_len("DATA\r\n.\r\n", 9, 0,
		  "CMD 4 arg=\nBODY[]\nEND buffered=0\n");
}

static void
test_bdat(void **unused)
{
	check("BDAT 5\r\nab\r\ncBDAT 0 LAST\r\nbdat 3 last\r\n.\r\nNOOP\r\n"
	      "BDAT 2000\r\n",
	      "CMD 5 size=5\nCHUNK[ab\r\nc]\nCMD 5 size=0 LAST\nCHUNK[]\n"
	      "CMD 5 size=3 LAST\nCHUNK[.\r\n]\nCMD 7 arg=\n"
	      "CMD 5 size=2000\nEND buffered=0\n");
	check("BDAT\r\nBDAT x\r\nBDAT 1 FIRST\r\n"
	      "BDAT 99999999999999999999999\r\n",
	      "ERR 501 5.5.4 Syntax: BDAT size [LAST]\n"
	      "ERR 501 5.5.4 Syntax: BDAT size [LAST]\n"
	      "ERR 501 5.5.4 Syntax: BDAT size [LAST]\n"
	      "ERR 501 5.5.4 Syntax: BDAT size [LAST]\n"
	      "END buffered=0\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_data_too_large),
		cmocka_unit_test(test_bdat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
