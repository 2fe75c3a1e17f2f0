/* SPDX-License-Identifier: MIT */
/*
 * imap-parser.c: the IMAP command parser (see imap-parser.h). Part of
 * src/imap; uses lib only.
 *
 * Two phases. Reading: input bytes go into one command buffer, a line
 * at a time; a line that ends in a literal marker ({n}, {n+}, ~{n})
 * makes the next n bytes literal data, stored right after the marker's
 * line and followed by a NUL, then the command goes on with the next
 * line. Only the text (not literal data) counts against IMAP_LINE_MAX.
 * Tokenising: once a line ends without a marker the command is whole and
 * is split into arguments; a literal is found by its marker's offset.
 *
 * Errors never lose sync with the client: after an error the rest of
 * the command is skipped without buffering. A skipped line is watched
 * only through its last bytes (for a {n+} marker at its end, whose n
 * bytes are then skipped too); a synchronising literal of a failed
 * command ends it, since the client waits for a "+" it will not get
 * (RFC 3501 §7.5).
 */
#include "imap-parser.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest literal marker we recognise at a line's end: "~{" + 20 digits
   + "+}" with room to spare. */
#define MARKER_TAIL_MAX 32
/* Literal sizes: RFC 3501 number (32 bits); RFC 9051's number64 for
   literal8 is larger, but nothing we accept comes near. */
#define LITERAL_SIZE_MAX 0xffffffffULL
#define ARENA_BLOCK_SIZE 4096

enum parser_state {
	STATE_LINE,
	STATE_CONTINUE,         /* a "+" is to be requested */
	STATE_LITERAL,
	STATE_SKIP_LINE,
	STATE_SKIP_LITERAL,
};

struct literal_rec {
	size_t marker;          /* offset of '{' or '~' in cmd */
	size_t data;            /* offset of the data in cmd */
	size_t len;
	bool binary;
};

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	unsigned char data[];
};

struct imap_parser {
	uint64_t literal_max;
	buf_t in;
	size_t in_pos;

	/* the command being read */
	buf_t cmd;
	size_t line_start;
	size_t text_len;
	uint64_t literal_bytes;
	struct literal_rec *lits;
	unsigned int lit_count, lit_cap;
	enum parser_state state;
	uint64_t literal_left;
	bool literal_binary;
	const char *error;
	bool fatal;
	bool first_line;
	char tag[IMAP_TAG_MAX + 1];
	char tail[MARKER_TAIL_MAX];
	size_t tail_len;
	/* the last result was final: reset before reading on */
	bool reset_pending;

	/* raw lines (imap_parser_next_line) */
	bool raw_skip;
	buf_t raw;

	/* tokenising */
	struct arena_block *arena;
	unsigned int arg_total;
	unsigned int next_lit;
};

/* ---- arena ---- */

static void *
arena_alloc(struct imap_parser *parser, size_t size)
{
	struct arena_block *b = parser->arena;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (b == NULL || b->size - b->used < size) {
		size_t bsize = size > ARENA_BLOCK_SIZE ? size :
			ARENA_BLOCK_SIZE;

		b = i_malloc(sizeof(*b) + bsize);
		b->size = bsize;
		b->next = parser->arena;
		parser->arena = b;
	}
	p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

static char *
arena_strndup(struct imap_parser *parser, const void *data, size_t len)
{
	char *s = arena_alloc(parser, len + 1);

	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

static void
arena_free(struct imap_parser *parser)
{
	struct arena_block *b, *next;

	for (b = parser->arena; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	parser->arena = NULL;
}

/* ---- create / feed ---- */

struct imap_parser *
imap_parser_create(uint64_t literal_max)
{
	struct imap_parser *parser = i_malloc(sizeof(*parser));

	parser->literal_max = literal_max != 0 ? literal_max :
		IMAP_LITERAL_MAX_DEFAULT;
	parser->first_line = true;
	return parser;
}

static void
wipe_buf(buf_t *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->cap);
	buf_deinit(buf);
}

void
imap_parser_destroy(struct imap_parser **_parser)
{
	struct imap_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	wipe_buf(&parser->in);
	wipe_buf(&parser->cmd);
	wipe_buf(&parser->raw);
	arena_free(parser);
	free(parser->lits);
	free(parser);
}

void
imap_parser_feed(struct imap_parser *parser, const void *data, size_t len)
{
	if (parser->in_pos > 0 && parser->in_pos >= parser->in.len / 2) {
		buf_consume(&parser->in, parser->in_pos);
		parser->in_pos = 0;
	}
	buf_append(&parser->in, data, len);
}

size_t
imap_parser_buffered(struct imap_parser *parser)
{
	return parser->in.len - parser->in_pos;
}

/* Forgets the command being read (not the input). */
static void
command_reset(struct imap_parser *parser)
{
	buf_reset(&parser->cmd);
	parser->line_start = 0;
	parser->text_len = 0;
	parser->literal_bytes = 0;
	parser->lit_count = 0;
	parser->state = STATE_LINE;
	parser->literal_left = 0;
	parser->error = NULL;
	parser->fatal = false;
	parser->first_line = true;
	parser->tag[0] = '\0';
	parser->tail_len = 0;
	parser->reset_pending = false;
	parser->arg_total = 0;
	parser->next_lit = 0;
	arena_free(parser);
}

void
imap_parser_discard(struct imap_parser *parser)
{
	explicit_bzero(parser->in.data, parser->in.len);
	buf_reset(&parser->in);
	parser->in_pos = 0;
	parser->raw_skip = false;
	command_reset(parser);
}

/* ---- reading ---- */

static bool
is_tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* Takes the tag from the start of the command's first line (complete:
   the whole line is there, so a line that is only a tag counts). */
static void
capture_tag(struct imap_parser *parser, bool complete)
{
	const unsigned char *p = parser->cmd.data;
	size_t len = parser->cmd.len, i;

	for (i = 0; i < len && i <= IMAP_TAG_MAX && is_tag_char(p[i]); i++)
		;
	if (i == 0 || i > IMAP_TAG_MAX ||
	    (i == len ? !complete : p[i] != ' '))
		strcpy(parser->tag, "*");
	else {
		memcpy(parser->tag, p, i);
		parser->tag[i] = '\0';
	}
}

static void
set_error(struct imap_parser *parser, const char *error)
{
	if (parser->error == NULL)
		parser->error = error;
}

/*
 * Looks for a literal marker at the end of line[0..len): "{n}", "{n+}"
 * or "~{n}". Returns 1 with the values, 0 when there is none, -1 when
 * the number is out of range.
 */
static int
find_marker(const unsigned char *line, size_t len, size_t *start_r,
	    uint64_t *size_r, bool *sync_r, bool *binary_r)
{
	size_t end, i;
	uint64_t n = 0;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	end = len - 1;
	*sync_r = true;
	if (line[end - 1] == '+') {
		*sync_r = false;
		end--;
	}
	for (i = end; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9'; i--)
		;
	if (i == end || i == 0 || line[i - 1] != '{')
		return 0;
	if (end - i > 20)
		return -1;
	for (size_t j = i; j < end; j++) {
		n = n * 10 + (line[j] - '0');
		if (n > LITERAL_SIZE_MAX)
			return -1;
	}
	*start_r = i - 1;
	*binary_r = *start_r > 0 && line[*start_r - 1] == '~';
	if (*binary_r)
		(*start_r)--;
	*size_r = n;
	return 1;
}

static void
tail_add(struct imap_parser *parser, const unsigned char *data, size_t len)
{
	if (len >= MARKER_TAIL_MAX) {
		memcpy(parser->tail, data + len - MARKER_TAIL_MAX,
		       MARKER_TAIL_MAX);
		parser->tail_len = MARKER_TAIL_MAX;
		return;
	}
	if (parser->tail_len + len > MARKER_TAIL_MAX) {
		size_t drop = parser->tail_len + len - MARKER_TAIL_MAX;

		memmove(parser->tail, parser->tail + drop,
			parser->tail_len - drop);
		parser->tail_len -= drop;
	}
	memcpy(parser->tail + parser->tail_len, data, len);
	parser->tail_len += len;
}

/* Switches to skipping the current line (its text so far seeds the
   marker window). */
static void
start_skip(struct imap_parser *parser, const char *error)
{
	if (parser->first_line && parser->tag[0] == '\0')
		capture_tag(parser, false);
	set_error(parser, error);
	parser->tail_len = 0;
	tail_add(parser, parser->cmd.data + parser->line_start,
		 parser->cmd.len - parser->line_start);
	parser->state = STATE_SKIP_LINE;
}

static int finish_command(struct imap_parser *parser,
			  struct imap_command *cmd_r);

static int
error_result(struct imap_parser *parser, struct imap_command *cmd_r)
{
	if (parser->tag[0] == '\0')
		capture_tag(parser, false);
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->type = IMAP_COMMAND_ERROR;
	cmd_r->tag = parser->tag;
	cmd_r->error = parser->error;
	cmd_r->fatal = parser->fatal;
	parser->reset_pending = true;
	return 1;
}

/* A marker that cannot be accepted: a synchronising one ends the
   command; a non-synchronising one's bytes are skipped. */
static int
refuse_literal(struct imap_parser *parser, bool sync, uint64_t size,
	       struct imap_command *cmd_r)
{
	if (sync)
		return error_result(parser, cmd_r);
	parser->literal_left = size;
	parser->state = STATE_SKIP_LITERAL;
	return 0;
}

/*
 * The line cmd[line_start..] (ending in LF) is complete. Returns 1 with
 * a result, or 0 to read on.
 */
static int
line_end(struct imap_parser *parser, struct imap_command *cmd_r)
{
	unsigned char *line = parser->cmd.data + parser->line_start;
	size_t len = parser->cmd.len - parser->line_start, start;
	uint64_t size;
	bool sync, binary;
	int ret;

	len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	buf_truncate(&parser->cmd, parser->line_start + len);
	if (memchr(line, '\0', len) != NULL)
		set_error(parser, "BAD NUL byte in command");
	if (parser->first_line) {
		capture_tag(parser, true);
		parser->first_line = false;
	}
	ret = find_marker(line, len, &start, &size, &sync, &binary);
	if (ret == 0)
		return finish_command(parser, cmd_r);
	if (ret < 0) {
		set_error(parser, "BAD Literal size out of range");
		parser->fatal = !sync;
		return error_result(parser, cmd_r);
	}
	if (parser->error != NULL)
		return refuse_literal(parser, sync, size, cmd_r);
	if (size > parser->literal_max ||
	    parser->literal_bytes + size > IMAP_COMMAND_LITERAL_BYTES_MAX) {
		set_error(parser, "NO [TOOBIG] Literal too large");
		return refuse_literal(parser, sync, size, cmd_r);
	}
	if (parser->lit_count >= IMAP_LITERALS_MAX) {
		set_error(parser, "BAD Too many literals");
		return refuse_literal(parser, sync, size, cmd_r);
	}
	if (parser->lit_count == parser->lit_cap) {
		parser->lit_cap = parser->lit_cap == 0 ? 4 :
			parser->lit_cap * 2;
		parser->lits = i_realloc(parser->lits, parser->lit_cap *
					 sizeof(*parser->lits));
	}
	parser->lits[parser->lit_count++] = (struct literal_rec){
		.marker = parser->line_start + start,
		.data = parser->cmd.len,
		.len = size,
		.binary = binary,
	};
	parser->literal_bytes += size;
	parser->literal_left = size;
	parser->literal_binary = binary;
	/* No reservation for the announced size: memory grows only with
	   bytes actually received. */
	parser->state = sync ? STATE_CONTINUE : STATE_LITERAL;
	return 0;
}

/* STATE_LINE: moves input up to a LF into cmd. */
static int
read_line(struct imap_parser *parser, struct imap_command *cmd_r)
{
	const unsigned char *p = parser->in.data + parser->in_pos;
	size_t avail = parser->in.len - parser->in_pos, len;
	const unsigned char *lf = memchr(p, '\n', avail);

	len = lf != NULL ? (size_t)(lf - p) + 1 : avail;
	if (parser->text_len + len > IMAP_LINE_MAX) {
		if (parser->first_line && parser->cmd.len < IMAP_TAG_MAX + 2) {
			/* keep enough of the line to find the tag */
			size_t n = IMAP_TAG_MAX + 2 - parser->cmd.len;

			buf_append(&parser->cmd, p, n);
			parser->in_pos += n;
		}
		start_skip(parser, "BAD Command line too long");
		return 0;
	}
	buf_append(&parser->cmd, p, len);
	parser->in_pos += len;
	parser->text_len += len;
	if (lf == NULL)
		return 0;
	return line_end(parser, cmd_r);
}

static void
read_literal(struct imap_parser *parser)
{
	size_t avail = parser->in.len - parser->in_pos;
	size_t n = avail < parser->literal_left ? avail : parser->literal_left;
	const struct literal_rec *lit;

	buf_append(&parser->cmd, parser->in.data + parser->in_pos, n);
	parser->in_pos += n;
	parser->literal_left -= n;
	if (parser->literal_left > 0)
		return;
	lit = &parser->lits[parser->lit_count - 1];
	if (!lit->binary &&
	    memchr(parser->cmd.data + lit->data, '\0', lit->len) != NULL)
		set_error(parser, "BAD NUL byte in literal");
	buf_append_c(&parser->cmd, '\0');
	parser->line_start = parser->cmd.len;
	parser->state = STATE_LINE;
}

static int
skip_line(struct imap_parser *parser, struct imap_command *cmd_r)
{
	const unsigned char *p = parser->in.data + parser->in_pos;
	size_t avail = parser->in.len - parser->in_pos, len, start, tl;
	const unsigned char *lf = memchr(p, '\n', avail);
	uint64_t size;
	bool sync, binary;
	int ret;

	len = lf != NULL ? (size_t)(lf - p) : avail;
	tail_add(parser, p, len);
	parser->in_pos += len;
	if (lf == NULL)
		return 0;
	parser->in_pos++;
	tl = parser->tail_len;
	if (tl > 0 && parser->tail[tl - 1] == '\r')
		tl--;
	parser->tail_len = 0;
	ret = find_marker((const unsigned char *)parser->tail, tl, &start,
			  &size, &sync, &binary);
	if (ret < 0) {
		parser->fatal = !sync;
		return error_result(parser, cmd_r);
	}
	if (ret == 0 || sync)
		return error_result(parser, cmd_r);
	parser->literal_left = size;
	parser->state = STATE_SKIP_LITERAL;
	return 0;
}

static void
skip_literal(struct imap_parser *parser)
{
	size_t avail = parser->in.len - parser->in_pos;
	size_t n = avail < parser->literal_left ? avail : parser->literal_left;

	parser->in_pos += n;
	parser->literal_left -= n;
	if (parser->literal_left == 0)
		parser->state = STATE_SKIP_LINE;
}

int
imap_parser_next(struct imap_parser *parser, struct imap_command *cmd_r)
{
	if (parser->reset_pending)
		command_reset(parser);
	for (;;) {
		if (parser->state == STATE_CONTINUE) {
			memset(cmd_r, 0, sizeof(*cmd_r));
			cmd_r->type = IMAP_COMMAND_CONTINUE;
			cmd_r->tag = parser->tag;
			parser->state = STATE_LITERAL;
			return 1;
		}
		if (parser->in_pos == parser->in.len &&
		    !(parser->state == STATE_LITERAL &&
		      parser->literal_left == 0))
			return 0;
		switch (parser->state) {
		case STATE_LINE:
			if (read_line(parser, cmd_r) == 1)
				return 1;
			break;
		case STATE_LITERAL:
			read_literal(parser);
			break;
		case STATE_SKIP_LINE:
			if (skip_line(parser, cmd_r) == 1)
				return 1;
			break;
		case STATE_SKIP_LITERAL:
			skip_literal(parser);
			break;
		case STATE_CONTINUE:
			i_panic("unreachable");
		}
	}
}

int
imap_parser_next_line(struct imap_parser *parser, const char **line_r,
		      size_t *len_r)
{
	const unsigned char *p = parser->in.data + parser->in_pos;
	size_t avail = parser->in.len - parser->in_pos, len;
	const unsigned char *lf = memchr(p, '\n', avail);

	/* The last command's tag and arguments stay valid: the session
	   still answers it (AUTHENTICATE, IDLE). */
	i_assert(parser->reset_pending ||
		 (parser->state == STATE_LINE && parser->cmd.len == 0));
	len = lf != NULL ? (size_t)(lf - p) + 1 : avail;
	if (!parser->raw_skip && parser->raw.len + len > IMAP_LINE_MAX) {
		parser->raw_skip = true;
		explicit_bzero(parser->raw.data, parser->raw.len);
		buf_reset(&parser->raw);
	}
	if (!parser->raw_skip)
		buf_append(&parser->raw, p, len);
	parser->in_pos += len;
	if (lf == NULL)
		return 0;
	if (parser->raw_skip ||
	    memchr(parser->raw.data, '\0', parser->raw.len) != NULL) {
		parser->raw_skip = false;
		buf_reset(&parser->raw);
		*line_r = NULL;
		*len_r = 0;
		return 1;
	}
	len = parser->raw.len - 1;
	if (len > 0 && parser->raw.data[len - 1] == '\r')
		len--;
	buf_truncate(&parser->raw, len);
	*line_r = buf_cstr(&parser->raw);
	*len_r = len;
	/* The next call starts a new line. */
	parser->raw.len = 0;
	return 1;
}

/* ---- tokenising ---- */

struct tokenizer {
	struct imap_parser *parser;
	const unsigned char *data;
	size_t pos, end;
	const char *error;
};

struct arg_vec {
	struct imap_arg *args;
	unsigned int count, cap;
};

static struct imap_arg *
vec_add(struct arg_vec *vec)
{
	if (vec->count == vec->cap) {
		vec->cap = vec->cap == 0 ? 8 : vec->cap * 2;
		vec->args = i_realloc(vec->args, vec->cap *
				      sizeof(*vec->args));
	}
	memset(&vec->args[vec->count], 0, sizeof(*vec->args));
	return &vec->args[vec->count++];
}

/* The next literal's marker offset, or SIZE_MAX. */
static size_t
next_marker(struct tokenizer *tok)
{
	struct imap_parser *parser = tok->parser;

	if (parser->next_lit >= parser->lit_count)
		return SIZE_MAX;
	return parser->lits[parser->next_lit].marker;
}

static bool
is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
		c != '"';
}

static int
parse_quoted(struct tokenizer *tok, struct imap_arg *arg)
{
	buf_t tmp = BUF_INIT;
	size_t marker = next_marker(tok);
	unsigned char c;

	tok->pos++;
	for (;;) {
		if (tok->pos >= tok->end || tok->pos >= marker) {
			buf_deinit(&tmp);
			tok->error = "BAD Missing '\"'";
			return -1;
		}
		c = tok->data[tok->pos++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (tok->pos >= tok->end ||
			    (tok->data[tok->pos] != '"' &&
			     tok->data[tok->pos] != '\\')) {
				buf_deinit(&tmp);
				tok->error = "BAD Invalid escape in string";
				return -1;
			}
			c = tok->data[tok->pos++];
		} else if (c == '\r' || c == '\n') {
			buf_deinit(&tmp);
			tok->error = "BAD Line break in string";
			return -1;
		}
		buf_append_c(&tmp, (char)c);
	}
	arg->type = IMAP_ARG_STRING;
	arg->len = tmp.len;
	arg->str = arena_strndup(tok->parser, tmp.data == NULL ? "" :
				 (const char *)tmp.data, tmp.len);
	buf_deinit(&tmp);
	return 0;
}

/* An atom; a '[' in it opens a part up to the matching ']'. */
static int
parse_atom(struct tokenizer *tok, struct imap_arg *arg)
{
	size_t start = tok->pos, marker = next_marker(tok);
	unsigned char c;

	while (tok->pos < tok->end && tok->pos < marker) {
		c = tok->data[tok->pos];
		if (c == '[') {
			const unsigned char *close =
				memchr(tok->data + tok->pos, ']',
				       (marker < tok->end ? marker : tok->end) -
				       tok->pos);

			if (close == NULL) {
				tok->error = "BAD Missing ']'";
				return -1;
			}
			tok->pos = (size_t)(close - tok->data) + 1;
			continue;
		}
		if (!is_atom_char(c) && c < 0x80)
			break;
		tok->pos++;
	}
	if (tok->pos == start) {
		tok->error = "BAD Invalid characters in atom";
		return -1;
	}
	for (size_t i = start; i < tok->pos; i++) {
		c = tok->data[i];
		if (c < 0x20 || c >= 0x7f) {
			tok->error = "BAD Invalid characters in atom";
			return -1;
		}
	}
	arg->type = IMAP_ARG_ATOM;
	arg->len = tok->pos - start;
	arg->str = arena_strndup(tok->parser, tok->data + start, arg->len);
	return 0;
}

static int parse_list(struct tokenizer *tok, unsigned int depth,
		      struct arg_vec *vec);

static int
parse_one(struct tokenizer *tok, unsigned int depth, struct imap_arg *arg)
{
	struct imap_parser *parser = tok->parser;
	unsigned char c = tok->data[tok->pos];

	if (++parser->arg_total > IMAP_ARGS_MAX) {
		tok->error = "BAD Too many arguments";
		return -1;
	}
	if (tok->pos == next_marker(tok)) {
		const struct literal_rec *lit =
			&parser->lits[parser->next_lit++];

		arg->type = lit->binary ? IMAP_ARG_LITERAL8 :
			IMAP_ARG_LITERAL;
		arg->str = (const char *)tok->data + lit->data;
		arg->len = lit->len;
		tok->pos = lit->data + lit->len + 1;
		return 0;
	}
	if (c == '"')
		return parse_quoted(tok, arg);
	if (c == '(') {
		struct arg_vec sub = { 0 };
		int ret;

		if (depth + 1 > IMAP_LIST_DEPTH_MAX) {
			tok->error = "BAD Too deeply nested lists";
			return -1;
		}
		tok->pos++;
		ret = parse_list(tok, depth + 1, &sub);
		if (ret == 0) {
			arg->type = IMAP_ARG_LIST;
			arg->list_count = sub.count;
			if (sub.count > 0) {
				struct imap_arg *copy = arena_alloc(parser,
					sub.count * sizeof(*copy));

				memcpy(copy, sub.args,
				       sub.count * sizeof(*copy));
				arg->list = copy;
			}
		}
		free(sub.args);
		return ret;
	}
	return parse_atom(tok, arg);
}

/*
 * Arguments up to the end (depth 0) or the ')' closing this list, one
 * space between them (extra spaces are tolerated).
 */
static int
parse_list(struct tokenizer *tok, unsigned int depth, struct arg_vec *vec)
{
	bool need_sep = false;
	unsigned char c;

	for (;;) {
		if (tok->pos >= tok->end) {
			if (depth > 0) {
				tok->error = "BAD Missing ')'";
				return -1;
			}
			return 0;
		}
		c = tok->data[tok->pos];
		if (c == ' ' && tok->pos != next_marker(tok)) {
			tok->pos++;
			need_sep = false;
			continue;
		}
		if (c == ')' && tok->pos != next_marker(tok)) {
			if (depth == 0) {
				tok->error = "BAD Unexpected ')'";
				return -1;
			}
			tok->pos++;
			return 0;
		}
		if (need_sep) {
			tok->error = "BAD Missing space between arguments";
			return -1;
		}
		if (parse_one(tok, depth, vec_add(vec)) < 0)
			return -1;
		need_sep = true;
	}
}

static bool
is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* The whole command is in cmd: split it. */
static int
finish_command(struct imap_parser *parser, struct imap_command *cmd_r)
{
	struct tokenizer tok = {
		.parser = parser,
		.data = parser->cmd.data,
		.end = parser->cmd.len,
	};
	struct arg_vec vec = { 0 };
	size_t start;
	char *name;

	if (parser->error != NULL)
		return error_result(parser, cmd_r);
	if (strcmp(parser->tag, "*") == 0) {
		set_error(parser, tok.end == 0 ? "BAD Empty command line" :
			  "BAD Invalid tag");
		return error_result(parser, cmd_r);
	}
	tok.pos = strlen(parser->tag) + 1;
	start = tok.pos;
	while (tok.pos < tok.end && tok.pos != next_marker(&tok) &&
	       is_name_char(tok.data[tok.pos]))
		tok.pos++;
	if (tok.pos == start || (tok.pos < tok.end &&
				 tok.data[tok.pos] != ' ')) {
		set_error(parser, "BAD Missing or invalid command name");
		return error_result(parser, cmd_r);
	}
	name = arena_strndup(parser, tok.data + start, tok.pos - start);
	if (parse_list(&tok, 0, &vec) < 0) {
		free(vec.args);
		set_error(parser, tok.error);
		return error_result(parser, cmd_r);
	}
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->type = IMAP_COMMAND_OK;
	cmd_r->tag = parser->tag;
	cmd_r->name = name;
	cmd_r->arg_count = vec.count;
	if (vec.count > 0) {
		struct imap_arg *args = arena_alloc(parser, vec.count *
						    sizeof(*args));

		memcpy(args, vec.args, vec.count * sizeof(*args));
		cmd_r->args = args;
	}
	free(vec.args);
	parser->reset_pending = true;
	return 1;
}

/* ---- argument helpers ---- */

bool
imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, "NIL") == 0;
}

bool
imap_arg_get_astring(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type == IMAP_ARG_LIST || arg->type == IMAP_ARG_LITERAL8)
		return false;
	*str_r = arg->str;
	return true;
}

bool
imap_arg_get_string(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL)
		return false;
	*str_r = arg->str;
	return true;
}

bool
imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM)
		return false;
	*str_r = arg->str;
	return true;
}

bool
imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r,
		  unsigned int *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	*count_r = arg->list_count;
	return true;
}

bool
imap_arg_get_number(const struct imap_arg *arg, uint32_t *num_r)
{
	uint64_t n = 0;
	size_t i;

	if (arg->type != IMAP_ARG_ATOM || arg->len == 0 || arg->len > 10)
		return false;
	for (i = 0; i < arg->len; i++) {
		if (arg->str[i] < '0' || arg->str[i] > '9')
			return false;
		n = n * 10 + (unsigned)(arg->str[i] - '0');
	}
	if (n > 0xffffffffULL)
		return false;
	*num_r = (uint32_t)n;
	return true;
}
