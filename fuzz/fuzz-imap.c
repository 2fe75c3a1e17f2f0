/* SPDX-License-Identifier: MIT */
/*
 * fuzz-imap.c: libFuzzer target for the IMAP command parser
 * (src/imap/imap-parser.c). The first input byte picks the feed size and
 * the literal limit; the rest is the client's stream, read as a session
 * reads it: commands, and after an AUTHENTICATE or IDLE command one raw
 * line. Checks: the transcript is the same whether the stream is fed
 * whole or in pieces; the parser's buffered input stays bounded when it
 * is read as it comes; every argument is well-formed.
 */
#include "imap-parser.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
dump_args(buf_t *out, const struct imap_arg *args, unsigned int count,
	  unsigned int depth)
{
	unsigned int i;

	i_assert(depth <= IMAP_LIST_DEPTH_MAX);
	for (i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];

		buf_printf(out, " %d:", (int)a->type);
		if (a->type == IMAP_ARG_LIST) {
			i_assert(a->str == NULL);
			i_assert(a->list_count == 0 || a->list != NULL);
			buf_append_c(out, '(');
			dump_args(out, a->list, a->list_count, depth + 1);
			buf_append_c(out, ')');
			continue;
		}
		i_assert(a->str != NULL && a->str[a->len] == '\0');
		if (a->type != IMAP_ARG_LITERAL8)
			i_assert(strlen(a->str) == a->len);
		if (a->type == IMAP_ARG_ATOM)
			i_assert(a->len > 0);
		buf_append(out, a->str, a->len);
	}
}

static void
run(const uint8_t *in, size_t len, size_t step, uint64_t lit_max,
    buf_t *out)
{
	struct imap_parser *parser = imap_parser_create(lit_max);
	struct imap_command cmd;
	const char *line;
	size_t fed = 0, line_len, n;
	bool raw = false;

	for (;;) {
		if (raw) {
			if (imap_parser_next_line(parser, &line,
						  &line_len) == 1) {
				buf_printf(out, "L%zu\n", line_len);
				raw = false;
				continue;
			}
		} else if (imap_parser_next(parser, &cmd) == 1) {
			buf_printf(out, "C%d %s ", (int)cmd.type, cmd.tag);
			if (cmd.type == IMAP_COMMAND_OK) {
				buf_append_str(out, cmd.name);
				dump_args(out, cmd.args, cmd.arg_count, 0);
				raw = strcasecmp(cmd.name, "IDLE") == 0 ||
					strcasecmp(cmd.name,
						   "AUTHENTICATE") == 0;
			} else if (cmd.type == IMAP_COMMAND_ERROR) {
				i_assert(cmd.error != NULL);
				buf_printf(out, "%s %d", cmd.error, cmd.fatal);
				if (cmd.fatal)
					break;
			}
			buf_append_c(out, '\n');
			continue;
		}
		i_assert(imap_parser_buffered(parser) <= step);
		if (fed == len)
			break;
		n = len - fed < step ? len - fed : step;
		imap_parser_feed(parser, in + fed, n);
		fed += n;
	}
	buf_printf(out, "end\n");
	imap_parser_destroy(&parser);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t whole = BUF_INIT, pieces = BUF_INIT;
	uint64_t lit_max;
	size_t step;

	if (size < 1)
		return 0;
	step = (data[0] & 0x3f) + 1;
	lit_max = (data[0] & 0x40) != 0 ? 16 : 0;
	data++;
	size--;

	run(data, size, size == 0 ? 1 : size, lit_max, &whole);
	run(data, size, step, lit_max, &pieces);
	i_assert(whole.len == pieces.len &&
		 memcmp(whole.data, pieces.data, whole.len) == 0);
	buf_deinit(&whole);
	buf_deinit(&pieces);
	return 0;
}
