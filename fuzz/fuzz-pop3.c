/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pop3.c: libFuzzer target for the POP3 command parser
 * (src/pop3/pop3-parser.c) and the response-body conversion
 * (src/pop3/pop3-stuff.c). The first input byte picks the feed size;
 * the rest is the client's stream, read as a session reads it: command
 * lines, and after an AUTH command one SASL response line. Checks: the
 * transcript is the same whether the stream is fed whole or in pieces;
 * the parser's buffer stays bounded; every command is well-formed
 * (known verb, argument counts, numbers that parse back). The same
 * bytes, taken as a message, convert to the same body in any chunking,
 * with CRLF line ends and no line starting with a lone '.'.
 */
#include "pop3-parser.h"
#include "pop3-stuff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_command(const struct pop3_command *cmd)
{
	unsigned int i;
	char num[16];

	if (cmd->verb == POP3_VERB_INVALID) {
		i_assert(cmd->error != NULL &&
			 strncmp(cmd->error, "-ERR ", 5) == 0);
		return;
	}
	i_assert(cmd->arg_count <= POP3_ARGS_MAX);
	for (i = 0; i < cmd->arg_count; i++) {
		i_assert(cmd->args[i] != NULL && cmd->args[i][0] != '\0');
		if (cmd->verb == POP3_VERB_RETR || cmd->verb == POP3_VERB_TOP ||
		    cmd->verb == POP3_VERB_DELE) {
			snprintf(num, sizeof(num), "%u", cmd->num[i]);
			/* leading zeros aside, the digits parse back */
			i_assert(strlen(cmd->args[i]) >= strlen(num));
		}
	}
}

static void
append_command(buf_t *out, const struct pop3_command *cmd)
{
	unsigned int i;

	buf_printf(out, "C%d %s", (int)cmd->verb,
		   cmd->error == NULL ? "" : cmd->error);
	for (i = 0; i < cmd->arg_count; i++)
		buf_printf(out, "|%s|%u", cmd->args[i], cmd->num[i]);
	buf_append_c(out, '\n');
}

/* Runs the stream through a parser, step bytes per feed. */
static void
run(const uint8_t *in, size_t len, size_t step, buf_t *out)
{
	struct pop3_parser *parser = pop3_parser_create();
	struct pop3_command cmd;
	bool sasl = false;
	const char *line;
	size_t fed = 0, line_len;
	int ret;

	for (;;) {
		if (sasl) {
			ret = pop3_parser_next_response(parser, &line,
							&line_len);
			if (ret == 1) {
				i_assert(line == NULL ||
					 strlen(line) <= line_len);
				buf_printf(out, "R%zu\n", line_len);
				sasl = false;
				continue;
			}
		} else {
			ret = pop3_parser_next_command(parser, &cmd);
			if (ret == 1) {
				check_command(&cmd);
				append_command(out, &cmd);
				sasl = cmd.verb == POP3_VERB_AUTH;
				continue;
			}
		}
		i_assert(pop3_parser_buffered(parser) <=
			 POP3_LONG_LINE_MAX + 1 + step);
		if (fed == len)
			break;
		ret = (int)(len - fed < step ? len - fed : step);
		pop3_parser_feed(parser, in + fed, (size_t)ret);
		fed += (size_t)ret;
	}
	buf_printf(out, "end %zu\n", pop3_parser_buffered(parser));
	pop3_parser_destroy(&parser);
}

/* Converts the bytes as a message (RETR) in chunks of step. */
static void
stuff(const uint8_t *in, size_t len, size_t step, buf_t *out)
{
	struct pop3_stuff st;
	size_t pos = 0, n;

	pop3_stuff_init(&st);
	while (pos < len) {
		n = len - pos < step ? len - pos : step;
		i_assert(pop3_stuff_feed(&st, in + pos, n, out) == n);
		pos += n;
	}
	pop3_stuff_finish(&st, out);
}

static void
check_body(const buf_t *body)
{
	size_t i;

	i_assert(body->len >= 3 &&
		 memcmp(body->data + body->len - 3, ".\r\n", 3) == 0);
	for (i = 0; i + 3 < body->len; i++) {
		if (body->data[i] == '\n')
			i_assert(i > 0 && body->data[i - 1] == '\r');
		if (i == 0 || body->data[i - 1] == '\n') {
			/* a line starting with '.' has it doubled */
			if (body->data[i] == '.')
				i_assert(body->data[i + 1] == '.');
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t whole = BUF_INIT, pieces = BUF_INIT;
	size_t step;

	if (size < 1)
		return 0;
	step = (data[0] & 0x3f) + 1;
	data++;
	size--;

	run(data, size, size == 0 ? 1 : size, &whole);
	run(data, size, step, &pieces);
	i_assert(whole.len == pieces.len &&
		 memcmp(whole.data, pieces.data, whole.len) == 0);
	buf_reset(&whole);
	buf_reset(&pieces);
	stuff(data, size, size == 0 ? 1 : size, &whole);
	stuff(data, size, step, &pieces);
	i_assert(whole.len == pieces.len &&
		 memcmp(whole.data, pieces.data, whole.len) == 0);
	check_body(&whole);
	buf_deinit(&whole);
	buf_deinit(&pieces);
	return 0;
}
