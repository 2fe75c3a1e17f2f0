/* SPDX-License-Identifier: MIT */
/*
 * fuzz-lmtp.c: libFuzzer target for the LMTP stream parser
 * (src/lmtp/lmtp-parser.c): command lines, DATA bodies and BDAT chunks,
 * driven the way a session drives them. The first input byte picks the
 * feed size and the DATA size limit; the rest is the client's stream.
 * Checks: the transcript is the same whether the stream is fed whole or
 * in pieces; a DATA body never exceeds the limit and ends every line
 * with CRLF; the parser's buffer stays bounded in command mode.
 */
#include "lmtp-parser.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* BDAT chunks above this are read and dropped, like a refused chunk. */
#define FUZZ_CHUNK_KEEP_MAX 4096

static void
check_body(const buf_t *body, uint64_t max_size)
{
	size_t i;

	i_assert(body->len <= max_size);
	for (i = 0; i < body->len; i++) {
		if (body->data[i] == '\n')
			i_assert(i > 0 && body->data[i - 1] == '\r');
	}
	i_assert(body->len == 0 || (body->len >= 2 &&
		 body->data[body->len - 1] == '\n'));
}

static void
append_command(buf_t *out, const struct lmtp_command *cmd)
{
	unsigned int i;

	if (cmd->verb == LMTP_VERB_INVALID) {
		i_assert(cmd->error != NULL);
		buf_printf(out, "E%s\n", cmd->error);
		return;
	}
	buf_printf(out, "C%d %s|%s", (int)cmd->verb,
		   cmd->arg == NULL ? "-" : cmd->arg,
		   cmd->address == NULL ? "-" : cmd->address);
	for (i = 0; i < cmd->param_count; i++)
		buf_printf(out, "|%s", cmd->params[i]);
	buf_printf(out, "|%llu%s\n", (unsigned long long)cmd->chunk_size,
		   cmd->chunk_last ? "L" : "");
}

/* Runs the stream through a parser, step bytes per feed. */
static void
run(const uint8_t *in, size_t len, size_t step, uint64_t max_size,
    buf_t *out)
{
	struct lmtp_parser *parser = lmtp_parser_create();
	struct lmtp_command cmd;
	enum { CMD, DATA, CHUNK } mode = CMD;
	buf_t body = BUF_INIT;
	size_t fed = 0;
	bool too_large;
	int ret;

	for (;;) {
		if (mode == CMD) {
			ret = lmtp_parser_next_command(parser, &cmd);
			i_assert(ret == 1 || lmtp_parser_buffered(parser) <=
				 LMTP_LINE_MAX + 1 + step);
		} else if (mode == DATA) {
			ret = lmtp_parser_next_data(parser, &too_large);
		} else {
			ret = lmtp_parser_next_chunk(parser);
		}
		if (ret == 0) {
			size_t n = len - fed < step ? len - fed : step;

			if (n == 0)
				break;
			lmtp_parser_feed(parser, in + fed, n);
			fed += n;
			continue;
		}
		if (mode != CMD) {
			if (mode == DATA)
				check_body(&body, max_size);
			buf_printf(out, "%c%d[", mode == DATA ? 'D' : 'B',
				   mode == DATA && too_large);
			buf_append(out, body.data, body.len);
			buf_append_str(out, "]\n");
			buf_reset(&body);
			mode = CMD;
			continue;
		}
		append_command(out, &cmd);
		if (cmd.verb == LMTP_VERB_DATA) {
			lmtp_parser_data_begin(parser, &body, max_size);
			mode = DATA;
		} else if (cmd.verb == LMTP_VERB_BDAT) {
			lmtp_parser_chunk_begin(parser,
				cmd.chunk_size > FUZZ_CHUNK_KEEP_MAX ?
				NULL : &body, cmd.chunk_size);
			mode = CHUNK;
		}
	}
	buf_printf(out, "end %zu\n", lmtp_parser_buffered(parser));
	buf_deinit(&body);
	lmtp_parser_destroy(&parser);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t whole = BUF_INIT, pieces = BUF_INIT;
	size_t step;
	uint64_t max_size;

	if (size < 1)
		return 0;
	step = (data[0] & 0x0f) + 1;
	max_size = (uint64_t)(data[0] >> 4) * 64;
	data++;
	size--;

	run(data, size, size == 0 ? 1 : size, max_size, &whole);
	run(data, size, step, max_size, &pieces);
	i_assert(whole.len == pieces.len &&
		 memcmp(whole.data, pieces.data, whole.len) == 0);
	buf_deinit(&whole);
	buf_deinit(&pieces);
	return 0;
}
