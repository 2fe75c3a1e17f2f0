/* SPDX-License-Identifier: MIT */
/*
 * lmtp-parser.c: the LMTP byte-stream parser (see lmtp-parser.h): command
 * lines with RFC 5321 §4.1.2 paths and ESMTP parameters, DATA bodies and
 * BDAT chunks. Part of src/lmtp; uses lib only.
 *
 * Input sits in one buffer `in` from `pos` on. The DATA reader is a small
 * state machine (start of line, after a leading dot, after ".\r", inside
 * a line with maybe a CR held back) so that it can stop at any byte and
 * resume, and never needs a whole line in memory.
 */
#include "lmtp-parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Drop consumed input once this much has piled up at the front. */
#define LMTP_PARSER_COMPACT_MIN 4096

enum parser_mode {
	MODE_COMMAND,
	MODE_DATA,
	MODE_CHUNK,
};

/* Where the DATA reader is relative to the line structure. */
enum data_state {
	DATA_BOL,               /* at the start of a line */
	DATA_DOT,               /* read "." at the start of a line */
	DATA_DOT_CR,            /* read ".\r" at the start of a line */
	DATA_INLINE,            /* inside a line */
};

struct lmtp_parser {
	buf_t in;
	size_t pos;
	enum parser_mode mode;

	/* command mode */
	buf_t line;
	bool skipping_long_line;

	/* DATA and BDAT */
	buf_t *out;
	uint64_t max_size;
	uint64_t chunk_left;
	enum data_state data_state;
	bool held_cr;
	bool too_large;
};

struct verb_def {
	const char *name;
	enum lmtp_verb verb;
};

static const struct verb_def verbs[] = {
	{ "LHLO", LMTP_VERB_LHLO },
	{ "MAIL", LMTP_VERB_MAIL },
	{ "RCPT", LMTP_VERB_RCPT },
	{ "DATA", LMTP_VERB_DATA },
	{ "BDAT", LMTP_VERB_BDAT },
	{ "RSET", LMTP_VERB_RSET },
	{ "NOOP", LMTP_VERB_NOOP },
	{ "QUIT", LMTP_VERB_QUIT },
	{ "VRFY", LMTP_VERB_VRFY },
	{ "HELP", LMTP_VERB_HELP },
};

/* SMTP verbs we know but do not offer over LMTP. */
static const char *const unimplemented_verbs[] = {
	"EXPN", "TURN", "ETRN", "ATRN", "STARTTLS", "AUTH", "SEND", "SOML",
	"SAML",
};

#define ERR_UNKNOWN "500 5.5.1 Unknown command"
#define ERR_NOT_IMPL "502 5.5.1 Command not implemented"
#define ERR_HELO "500 5.5.1 Use LHLO (RFC 2033)"
#define ERR_TOO_LONG "500 5.5.2 Line too long"
#define ERR_CHARS "500 5.5.2 Invalid characters in command"
#define ERR_LHLO "501 5.5.4 Syntax: LHLO hostname"
#define ERR_MAIL "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]"
#define ERR_RCPT "501 5.5.4 Syntax: RCPT TO:<address> [parameters]"
#define ERR_SENDER "501 5.1.7 Bad sender address syntax"
#define ERR_RECIPIENT "501 5.1.3 Bad recipient address syntax"
#define ERR_PARAMS "501 5.5.4 Invalid or too many parameters"
#define ERR_NO_ARGS "501 5.5.4 No parameters allowed"
#define ERR_VRFY "501 5.5.4 Syntax: VRFY address"
#define ERR_BDAT "501 5.5.4 Syntax: BDAT size [LAST]"

struct lmtp_parser *
lmtp_parser_create(void)
{
	struct lmtp_parser *parser = i_malloc(sizeof(*parser));

	buf_init(&parser->in);
	buf_init(&parser->line);
	return parser;
}

void
lmtp_parser_destroy(struct lmtp_parser **_parser)
{
	struct lmtp_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	buf_deinit(&parser->in);
	buf_deinit(&parser->line);
	free(parser);
}

void
lmtp_parser_feed(struct lmtp_parser *parser, const void *data, size_t len)
{
	if (parser->pos == parser->in.len) {
		buf_reset(&parser->in);
		parser->pos = 0;
	} else if (parser->pos >= LMTP_PARSER_COMPACT_MIN &&
		   parser->pos >= parser->in.len / 2) {
		buf_consume(&parser->in, parser->pos);
		parser->pos = 0;
	}
	buf_append(&parser->in, data, len);
}

size_t
lmtp_parser_buffered(struct lmtp_parser *parser)
{
	return parser->in.len - parser->pos;
}

/* ---- command lines ---- */

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
is_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Local-part (RFC 5321 §4.1.2): a dot-string or a quoted string, which is
   unquoted. Writes to *w, which stays at least one byte behind *r, so
   r[-1] is always still the byte read last. Returns false on bad
   syntax. */
static bool
parse_local_part(char **rp, char **wp)
{
	char *r = *rp, *w = *wp;

	if (*r == '"') {
		for (r++; *r != '"'; r++) {
			if (*r == '\\')
				r++;
			if ((unsigned char)*r < 32 || (unsigned char)*r > 126)
				return false;
			*w++ = *r;
		}
		r++;
	} else {
		/* Dot-string: atoms separated by single dots. */
		char *start = r;

		for (; is_atext(*r) || *r == '.'; r++) {
			if (*r == '.' && (r == start || r[-1] == '.'))
				return false;
			*w++ = *r;
		}
		if (r == start || r[-1] == '.')
			return false;
	}
	*rp = r;
	*wp = w;
	return true;
}

/* Domain or address literal after '@'. */
static bool
parse_domain(char **rp, char **wp)
{
	char *r = *rp, *w = *wp;
	char *start = r;

	if (*r == '[') {
		for (; *r != ']'; r++) {
			if (*r == '\0' || *r == '\\' || (*r == '[' && r != start) ||
			    (unsigned char)*r < 33 || (unsigned char)*r > 126)
				return false;
			*w++ = *r;
		}
		*w++ = *r++;
	} else {
		/* Checked before the copy: w may overwrite start. */
		if (*start == '.' || *start == '-')
			return false;
		for (; is_domain_char(*r); r++)
			*w++ = *r;
		if (r == start || r[-1] == '.' || r[-1] == '-')
			return false;
	}
	*rp = r;
	*wp = w;
	return true;
}

/*
 * Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" when null_ok. Also
 * accepts a mailbox without "@domain" (a local account). On success
 * cmd->address is the NUL-terminated mailbox, written in place over the
 * path, and *rp points after '>'.
 */
static bool
parse_path(char **rp, bool null_ok, struct lmtp_command *cmd)
{
	char *r = *rp, *w;

	if (*r != '<')
		return false;
	w = r++;
	cmd->address = w;
	if (*r == '>') {
		*w = '\0';
		*rp = r + 1;
		return null_ok;
	}
	if (*r == '@') {
		/* A-d-l: a source route, ignored (RFC 5321 §4.1.2, C.). */
		while (*r == '@' || *r == ',' || is_domain_char(*r) ||
		       *r == '[' || *r == ']')
			r++;
		if (*r++ != ':')
			return false;
	}
	if (!parse_local_part(&r, &w))
		return false;
	if (*r == '@') {
		*w++ = *r++;
		if (!parse_domain(&r, &w))
			return false;
	}
	if (*r != '>')
		return false;
	*w = '\0';
	*rp = r + 1;
	return true;
}

/* " KEYWORD[=value]"... up to the end of the line. */
static bool
parse_params(char *r, struct lmtp_command *cmd)
{
	while (*r != '\0') {
		char *start;

		if (*r != ' ')
			return false;
		while (*r == ' ')
			*r++ = '\0';
		if (*r == '\0')
			break;
		if (cmd->param_count == LMTP_PARAMS_MAX)
			return false;
		start = r;
		while ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') ||
		       (*r >= '0' && *r <= '9') || (*r == '-' && r != start))
			r++;
		if (r == start)
			return false;
		if (*r == '=') {
			for (r++; *r > 32 && *r < 127 && *r != '='; r++)
				;
			if (r[-1] == '=')
				return false;
		}
		if (*r != '\0' && *r != ' ')
			return false;
		cmd->params[cmd->param_count++] = start;
	}
	return true;
}

/* "FROM:<path> params" or "TO:<path> params" after the verb. */
static void
parse_mail_rcpt(char *args, struct lmtp_command *cmd)
{
	bool mail = cmd->verb == LMTP_VERB_MAIL;
	const char *prefix = mail ? "FROM:" : "TO:";
	size_t plen = strlen(prefix);
	char *r = args;

	if (strncasecmp(r, prefix, plen) != 0) {
		cmd->error = mail ? ERR_MAIL : ERR_RCPT;
		return;
	}
	r += plen;
	/* Not RFC 5321, but common: a space after the colon. */
	while (*r == ' ')
		r++;
	if (*r != '<') {
		cmd->error = mail ? ERR_MAIL : ERR_RCPT;
		return;
	}
	if (!parse_path(&r, mail, cmd)) {
		cmd->error = mail ? ERR_SENDER : ERR_RECIPIENT;
		return;
	}
	if (!parse_params(r, cmd))
		cmd->error = ERR_PARAMS;
}

/* "BDAT size [LAST]" */
static void
parse_bdat(char *args, struct lmtp_command *cmd)
{
	char *r = args;
	uint64_t size = 0;

	if (*r < '0' || *r > '9') {
		cmd->error = ERR_BDAT;
		return;
	}
	for (; *r >= '0' && *r <= '9'; r++) {
		if (size > (UINT64_MAX - 9) / 10) {
			cmd->error = ERR_BDAT;
			return;
		}
		size = size * 10 + (uint64_t)(*r - '0');
	}
	cmd->chunk_size = size;
	if (*r == '\0')
		return;
	if (strcasecmp(r, " LAST") == 0)
		cmd->chunk_last = true;
	else
		cmd->error = ERR_BDAT;
}

static enum lmtp_verb
lookup_verb(const char *name, const char **error_r)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(verbs); i++) {
		if (strcasecmp(name, verbs[i].name) == 0)
			return verbs[i].verb;
	}
	*error_r = ERR_UNKNOWN;
	if (strcasecmp(name, "HELO") == 0 || strcasecmp(name, "EHLO") == 0)
		*error_r = ERR_HELO;
	for (i = 0; i < N_ELEMENTS(unimplemented_verbs); i++) {
		if (strcasecmp(name, unimplemented_verbs[i]) == 0)
			*error_r = ERR_NOT_IMPL;
	}
	return LMTP_VERB_INVALID;
}

/* Checks the argument of commands other than MAIL, RCPT and BDAT. */
static void
check_simple_args(const char *args, struct lmtp_command *cmd)
{
	switch (cmd->verb) {
	case LMTP_VERB_LHLO:
		if (*args == '\0')
			cmd->error = ERR_LHLO;
		break;
	case LMTP_VERB_VRFY:
		if (*args == '\0')
			cmd->error = ERR_VRFY;
		break;
	case LMTP_VERB_DATA:
	case LMTP_VERB_RSET:
	case LMTP_VERB_QUIT:
		if (*args != '\0')
			cmd->error = ERR_NO_ARGS;
		break;
	default:
		break;
	}
	cmd->arg = args;
}

/* Parses one complete line (CRLF removed) in parser->line. */
static void
parse_line(struct lmtp_parser *parser, struct lmtp_command *cmd)
{
	char *line = (char *)parser->line.data;
	size_t i, len = parser->line.len;
	char *args;

	for (i = 0; i < len; i++) {
		unsigned char c = line[i];

		if (c == '\0' || c >= 127 || (c < 32 && c != '\t')) {
			cmd->error = ERR_CHARS;
			return;
		}
		if (c == '\t')
			line[i] = ' ';
	}
	/* Trailing spaces are not part of any argument. */
	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	args = strchr(line, ' ');
	if (args == NULL) {
		args = line + len;
	} else {
		*args++ = '\0';
		while (*args == ' ')
			args++;
	}
	cmd->verb = lookup_verb(line, &cmd->error);
	switch (cmd->verb) {
	case LMTP_VERB_INVALID:
		break;
	case LMTP_VERB_MAIL:
	case LMTP_VERB_RCPT:
		parse_mail_rcpt(args, cmd);
		break;
	case LMTP_VERB_BDAT:
		parse_bdat(args, cmd);
		break;
	default:
		check_simple_args(args, cmd);
		break;
	}
}

int
lmtp_parser_next_command(struct lmtp_parser *parser,
			 struct lmtp_command *cmd_r)
{
	const unsigned char *start, *lf;
	size_t avail, len;
	bool too_long;

	i_assert(parser->mode == MODE_COMMAND);
	/* buf_t data is NULL until the first append: no arithmetic on it. */
	avail = parser->in.len - parser->pos;
	start = avail == 0 ? NULL : parser->in.data + parser->pos;
	lf = avail == 0 ? NULL : memchr(start, '\n', avail);
	if (lf == NULL) {
		if (avail > LMTP_LINE_MAX + 1) {
			/* Drop what we have; keep looking for the end. */
			parser->skipping_long_line = true;
			parser->pos = parser->in.len;
		}
		return 0;
	}
	len = (size_t)(lf - start);
	parser->pos += len + 1;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	too_long = parser->skipping_long_line || len > LMTP_LINE_MAX;
	parser->skipping_long_line = false;

	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->verb = LMTP_VERB_INVALID;
	if (too_long) {
		cmd_r->error = ERR_TOO_LONG;
		return 1;
	}
	buf_reset(&parser->line);
	buf_append(&parser->line, start, len);
	parse_line(parser, cmd_r);
	if (cmd_r->error != NULL)
		cmd_r->verb = LMTP_VERB_INVALID;
	return 1;
}

/* ---- DATA ---- */

void
lmtp_parser_data_begin(struct lmtp_parser *parser, buf_t *out,
		       uint64_t max_size)
{
	i_assert(parser->mode == MODE_COMMAND);
	parser->mode = MODE_DATA;
	parser->out = out;
	parser->max_size = max_size;
	parser->data_state = DATA_BOL;
	parser->held_cr = false;
	parser->too_large = false;
}

/* Appends message bytes, or notes that the body is over the limit. */
static void
emit(struct lmtp_parser *parser, const void *data, size_t len)
{
	if (parser->too_large || len == 0)
		return;
	if (parser->out->len + len > parser->max_size ||
	    parser->out->len + len < len) {
		parser->too_large = true;
		buf_deinit(parser->out);
		return;
	}
	buf_append(parser->out, data, len);
}

/*
 * Inside a line: copies bytes up to and including the next LF (written
 * as CRLF), or all available bytes when there is no LF yet, holding back
 * a trailing CR because the next byte decides whether it ends the line.
 */
static void
data_inline(struct lmtp_parser *parser)
{
	const unsigned char *p = parser->in.data + parser->pos;
	size_t avail = parser->in.len - parser->pos;
	const unsigned char *lf = memchr(p, '\n', avail);
	size_t len = lf != NULL ? (size_t)(lf - p) : avail;
	bool trailing_cr = len > 0 && p[len - 1] == '\r';

	if (parser->held_cr && (len > 0 || lf == NULL))
		emit(parser, "\r", 1);
	parser->held_cr = false;
	emit(parser, p, trailing_cr ? len - 1 : len);
	if (lf != NULL) {
		emit(parser, "\r\n", 2);
		parser->pos += len + 1;
		parser->data_state = DATA_BOL;
	} else {
		parser->held_cr = trailing_cr;
		parser->pos += len;
	}
}

int
lmtp_parser_next_data(struct lmtp_parser *parser, bool *too_large_r)
{
	i_assert(parser->mode == MODE_DATA);
	while (parser->pos < parser->in.len) {
		unsigned char c = parser->in.data[parser->pos];

		switch (parser->data_state) {
		case DATA_BOL:
			if (c == '.') {
				parser->pos++;
				parser->data_state = DATA_DOT;
			} else {
				parser->data_state = DATA_INLINE;
			}
			break;
		case DATA_DOT:
			if (c == '\n')
				goto end;
			if (c == '\r') {
				parser->pos++;
				parser->data_state = DATA_DOT_CR;
			} else {
				/* A stuffed dot: dropped. */
				parser->data_state = DATA_INLINE;
			}
			break;
		case DATA_DOT_CR:
			if (c == '\n')
				goto end;
			/* ".\r" then more: the line is "\r..." unstuffed. */
			parser->held_cr = true;
			parser->data_state = DATA_INLINE;
			break;
		case DATA_INLINE:
			data_inline(parser);
			break;
		}
	}
	return 0;
end:
	parser->pos++;
	parser->mode = MODE_COMMAND;
	parser->out = NULL;
	*too_large_r = parser->too_large;
	return 1;
}

/* ---- BDAT ---- */

void
lmtp_parser_chunk_begin(struct lmtp_parser *parser, buf_t *out,
			uint64_t size)
{
	i_assert(parser->mode == MODE_COMMAND);
	parser->mode = MODE_CHUNK;
	parser->out = out;
	parser->chunk_left = size;
}

int
lmtp_parser_next_chunk(struct lmtp_parser *parser)
{
	size_t avail = parser->in.len - parser->pos;
	size_t n;

	i_assert(parser->mode == MODE_CHUNK);
	n = parser->chunk_left < avail ? (size_t)parser->chunk_left : avail;
	if (parser->out != NULL)
		buf_append(parser->out, parser->in.data + parser->pos, n);
	parser->pos += n;
	parser->chunk_left -= n;
	if (parser->chunk_left > 0)
		return 0;
	parser->mode = MODE_COMMAND;
	parser->out = NULL;
	return 1;
}
