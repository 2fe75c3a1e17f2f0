/* SPDX-License-Identifier: MIT */
/*
 * pop3-parser.h: pull-style parser of the POP3 client stream (RFC 1939
 * commands, RFC 2449 line limits, RFC 5034 AUTH responses). Part of
 * src/pop3; uses lib only and knows nothing of sockets, sessions or the
 * store, so the fuzz target and the unit tests drive it with plain
 * bytes.
 *
 * Usage: pop3_parser_feed() bytes as they arrive; then call
 * pop3_parser_next_command() (or, while a SASL exchange waits for the
 * client, pop3_parser_next_response()) until it returns 0. The parser
 * never calls its caller. Splitting the input at any byte gives the same
 * result.
 */
#ifndef POP3_PARSER_H
#define POP3_PARSER_H

#include "lib.h"

/* RFC 2449 §4: a command line is at most 255 octets with its CRLF. */
#define POP3_LINE_MAX 255
/* AUTH commands, SASL responses and PASS (secrets may be long; RFC 5034
   §4 lifts the 255 limit for AUTH): at most this many octets. */
#define POP3_LONG_LINE_MAX 8192
/* Arguments after the keyword (TOP and APOP take two). */
#define POP3_ARGS_MAX 2

enum pop3_verb {
	/* Not a valid command: reply cmd->error, go on. */
	POP3_VERB_INVALID,
	POP3_VERB_USER,
	POP3_VERB_PASS,
	POP3_VERB_APOP,
	POP3_VERB_AUTH,
	POP3_VERB_STLS,
	POP3_VERB_CAPA,
	POP3_VERB_STAT,
	POP3_VERB_LIST,
	POP3_VERB_RETR,
	POP3_VERB_DELE,
	POP3_VERB_NOOP,
	POP3_VERB_RSET,
	POP3_VERB_QUIT,
	POP3_VERB_TOP,
	POP3_VERB_UIDL,
};

/*
 * One parsed command line. Strings point into the parser and stay valid
 * until the next call on it.
 */
struct pop3_command {
	enum pop3_verb verb;
	/* INVALID: the reply line without CRLF, e.g. "-ERR Unknown
	   command" (static). */
	const char *error;
	/* The arguments, split at spaces (USER and PASS: see rest). */
	const char *args[POP3_ARGS_MAX];
	unsigned int arg_count;
	/* LIST, RETR, DELE, TOP, UIDL: args as numbers (message numbers
	   are >= 0 here; range checks are the session's). */
	uint32_t num[POP3_ARGS_MAX];
	/* USER, PASS: everything after the keyword and one space, as sent
	   (a password may contain spaces). */
	const char *rest;
};

struct pop3_parser;

struct pop3_parser *pop3_parser_create(void);
/* Wipes buffered input (it may hold a password) and frees. */
void pop3_parser_destroy(struct pop3_parser **parser);

/* Queues input bytes (copied). */
void pop3_parser_feed(struct pop3_parser *parser, const void *data,
		      size_t len);
/* Bytes fed but not consumed yet. */
size_t pop3_parser_buffered(struct pop3_parser *parser);
/* Drops every buffered byte, e.g. what a client pipelined after STLS
   (RFC 2595 §3: it must not be taken as commands). */
void pop3_parser_discard(struct pop3_parser *parser);

/*
 * Parses the next command line. Returns 1 with *cmd_r filled (check
 * cmd_r->verb: INVALID carries the error reply), or 0 when more input is
 * needed. A line over POP3_LINE_MAX (POP3_LONG_LINE_MAX for AUTH and
 * PASS) is INVALID "-ERR Line too long"; a line over POP3_LONG_LINE_MAX
 * is skipped to its end without being buffered. Bare LF ends a line
 * like CRLF.
 */
int pop3_parser_next_command(struct pop3_parser *parser,
			     struct pop3_command *cmd_r);

/*
 * Reads one SASL response line (RFC 5034 §4) without its line end.
 * Returns 1 with *line_r (NUL-terminated, valid until the next call) or
 * with *line_r NULL when the line was longer than POP3_LONG_LINE_MAX
 * (skipped); 0 when more input is needed.
 */
int pop3_parser_next_response(struct pop3_parser *parser,
			      const char **line_r, size_t *len_r);

#endif
