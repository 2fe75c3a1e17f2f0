/* SPDX-License-Identifier: MIT */
/*
 * pop3-parser.c: the POP3 client-stream parser (see pop3-parser.h):
 * lines, keywords, arguments and message numbers, with RFC 2449 §4's
 * line limit. Part of src/pop3; uses lib only.
 *
 * Input sits in one buffer `in` from `pos` on; `scanned` remembers how
 * far a line end was already looked for, so a line trickling in byte by
 * byte costs linear time. A line that outgrows POP3_LONG_LINE_MAX is
 * dropped as it arrives (`skipping`) and reported once its end is seen,
 * so the buffer never holds more than that limit plus one feed.
 */
#include "pop3-parser.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Drop consumed input once this much has piled up at the front. */
#define POP3_PARSER_COMPACT_MIN 4096
/* Digits of a number argument (UINT32_MAX has 10). */
#define POP3_NUMBER_DIGITS_MAX 10

#define ERR_UNKNOWN "-ERR Unknown command"
#define ERR_TOO_LONG "-ERR Line too long"
#define ERR_NUL "-ERR NUL byte in command"
#define ERR_MISSING "-ERR Missing argument"
#define ERR_TOO_MANY "-ERR Too many arguments"
#define ERR_NUMBER "-ERR Invalid number"

struct pop3_parser {
	buf_t in;
	size_t pos;
	size_t scanned;
	bool skipping;
	/* the current line, NUL-terminated and split in place */
	buf_t line;
};

struct verb_def {
	const char *name;
	enum pop3_verb verb;
	unsigned int min_args, max_args;
	bool numeric;           /* every argument is a number */
	bool long_line;         /* may exceed POP3_LINE_MAX */
	bool rest;              /* one argument: the rest of the line */
};

static const struct verb_def verbs[] = {
	{ "USER", POP3_VERB_USER, 1, 1, false, false, true },
	{ "PASS", POP3_VERB_PASS, 1, 1, false, true, true },
	{ "APOP", POP3_VERB_APOP, 2, 2, false, false, false },
	{ "AUTH", POP3_VERB_AUTH, 0, 2, false, true, false },
	{ "STLS", POP3_VERB_STLS, 0, 0, false, false, false },
	{ "CAPA", POP3_VERB_CAPA, 0, 0, false, false, false },
	{ "STAT", POP3_VERB_STAT, 0, 0, false, false, false },
	{ "LIST", POP3_VERB_LIST, 0, 1, true, false, false },
	{ "RETR", POP3_VERB_RETR, 1, 1, true, false, false },
	{ "DELE", POP3_VERB_DELE, 1, 1, true, false, false },
	{ "NOOP", POP3_VERB_NOOP, 0, 0, false, false, false },
	{ "RSET", POP3_VERB_RSET, 0, 0, false, false, false },
	{ "QUIT", POP3_VERB_QUIT, 0, 0, false, false, false },
	{ "TOP", POP3_VERB_TOP, 2, 2, true, false, false },
	{ "UIDL", POP3_VERB_UIDL, 0, 1, true, false, false },
};

struct pop3_parser *
pop3_parser_create(void)
{
	struct pop3_parser *parser = i_malloc(sizeof(*parser));

	buf_init(&parser->in);
	buf_init(&parser->line);
	return parser;
}

static void
buf_wipe(buf_t *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->cap);
	buf_deinit(buf);
}

void
pop3_parser_destroy(struct pop3_parser **_parser)
{
	struct pop3_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	buf_wipe(&parser->in);
	buf_wipe(&parser->line);
	free(parser);
}

void
pop3_parser_feed(struct pop3_parser *parser, const void *data, size_t len)
{
	if (parser->pos >= POP3_PARSER_COMPACT_MIN &&
	    parser->pos * 2 >= parser->in.len) {
		buf_consume(&parser->in, parser->pos);
		parser->pos = 0;
	}
	buf_append(&parser->in, data, len);
}

size_t
pop3_parser_buffered(struct pop3_parser *parser)
{
	return parser->in.len - parser->pos;
}

void
pop3_parser_discard(struct pop3_parser *parser)
{
	if (parser->in.data != NULL)
		explicit_bzero(parser->in.data, parser->in.len);
	buf_reset(&parser->in);
	parser->pos = 0;
	parser->scanned = 0;
	parser->skipping = false;
}

/*
 * The next line into parser->line (without its end, CR stripped).
 * Returns 1 with *too_long_r telling whether it was over
 * POP3_LONG_LINE_MAX (then the line is empty), 0 for more input.
 */
static int
next_line(struct pop3_parser *parser, bool *too_long_r)
{
	size_t avail = parser->in.len - parser->pos, len;
	/* buf_t data is NULL until the first append: no arithmetic on it. */
	const unsigned char *start =
		avail == 0 ? NULL : parser->in.data + parser->pos;
	const unsigned char *nl;

	nl = avail == 0 ? NULL :
		memchr(start + parser->scanned, '\n', avail - parser->scanned);
	if (nl == NULL) {
		parser->scanned = avail;
		if (parser->skipping || avail > POP3_LONG_LINE_MAX) {
			/* Too long already: forget it as it comes. */
			parser->skipping = true;
			parser->pos = parser->in.len;
			parser->scanned = 0;
		}
		return 0;
	}
	len = (size_t)(nl - start);
	parser->pos += len + 1;
	parser->scanned = 0;
	buf_reset(&parser->line);
	*too_long_r = parser->skipping || len + 1 > POP3_LONG_LINE_MAX;
	parser->skipping = false;
	if (*too_long_r)
		return 1;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	buf_append(&parser->line, start, len);
	return 1;
}

static const struct verb_def *
verb_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(verbs); i++) {
		if (strcasecmp(verbs[i].name, name) == 0)
			return &verbs[i];
	}
	return NULL;
}

/* Decimal digits only; -1 when not a number that fits 32 bits. */
static int
parse_number(const char *text, uint32_t *num_r)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] < '0' || text[i] > '9' ||
		    i >= POP3_NUMBER_DIGITS_MAX)
			return -1;
		n = n * 10 + (uint64_t)(text[i] - '0');
	}
	if (i == 0 || n > UINT32_MAX)
		return -1;
	*num_r = (uint32_t)n;
	return 0;
}

static int
invalid(struct pop3_command *cmd, const char *error)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = POP3_VERB_INVALID;
	cmd->error = error;
	return 1;
}

/* Splits the arguments after the keyword (p) at runs of spaces. */
static int
parse_args(const struct verb_def *def, char *p, struct pop3_command *cmd)
{
	unsigned int i;

	while (*p != '\0') {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (cmd->arg_count == def->max_args)
			return invalid(cmd, ERR_TOO_MANY);
		cmd->args[cmd->arg_count++] = p;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	if (cmd->arg_count < def->min_args)
		return invalid(cmd, ERR_MISSING);
	for (i = 0; def->numeric && i < cmd->arg_count; i++) {
		if (parse_number(cmd->args[i], &cmd->num[i]) < 0)
			return invalid(cmd, ERR_NUMBER);
	}
	return 1;
}

/* USER and PASS: the rest of the line after the keyword's one space
   (p points just past it). */
static int
parse_rest(const struct verb_def *def, char *p, struct pop3_command *cmd)
{
	size_t len;

	if (def->verb == POP3_VERB_USER) {
		/* Trailing spaces are never part of a user name. */
		len = strlen(p);
		while (len > 0 && p[len - 1] == ' ')
			p[--len] = '\0';
	}
	if (*p == '\0')
		return invalid(cmd, ERR_MISSING);
	cmd->rest = p;
	cmd->args[0] = p;
	cmd->arg_count = 1;
	return 1;
}

int
pop3_parser_next_command(struct pop3_parser *parser,
			 struct pop3_command *cmd_r)
{
	const struct verb_def *def;
	char *line, *p;
	bool too_long;
	size_t len;

	if (next_line(parser, &too_long) == 0)
		return 0;
	if (too_long)
		return invalid(cmd_r, ERR_TOO_LONG);
	len = parser->line.len;
	line = (char *)buf_cstr(&parser->line);
	if (memchr(line, '\0', len) != NULL)
		return invalid(cmd_r, ERR_NUL);
	p = line + strcspn(line, " ");
	if (*p != '\0')
		*p++ = '\0';
	if ((def = verb_find(line)) == NULL)
		return invalid(cmd_r, ERR_UNKNOWN);
	/* RFC 2449 §4: 255 octets with CRLF. */
	if (len + 2 > POP3_LINE_MAX && !def->long_line)
		return invalid(cmd_r, ERR_TOO_LONG);
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->verb = def->verb;
	if (def->rest)
		return parse_rest(def, p, cmd_r);
	return parse_args(def, p, cmd_r);
}

int
pop3_parser_next_response(struct pop3_parser *parser, const char **line_r,
			  size_t *len_r)
{
	bool too_long;

	if (next_line(parser, &too_long) == 0)
		return 0;
	*line_r = too_long ? NULL : buf_cstr(&parser->line);
	*len_r = too_long ? 0 : parser->line.len;
	return 1;
}
