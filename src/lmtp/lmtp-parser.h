/* SPDX-License-Identifier: MIT */
/*
 * lmtp-parser.h: pull-style parser of the LMTP byte stream (RFC 2033 over
 * RFC 5321 syntax): command lines, the DATA body (dot-unstuffing, end at
 * <CRLF>.<CRLF>) and BDAT chunks (RFC 3030). Part of src/lmtp; uses lib
 * only and knows nothing of sockets or the store, so the fuzz target and
 * the unit tests drive it with plain bytes.
 *
 * Usage: lmtp_parser_feed() bytes as they arrive; then, depending on the
 * session state, call lmtp_parser_next_command(), lmtp_parser_next_data()
 * or lmtp_parser_next_chunk() until it returns 0 (feed more). The parser
 * never calls its caller. Splitting the input at any byte gives the same
 * result.
 */
#ifndef LMTP_PARSER_H
#define LMTP_PARSER_H

#include "lib.h"
#include "buf.h"

/* RFC 5321 §4.5.3.1.4 allows 512 bytes per command line; be generous. */
#define LMTP_LINE_MAX 2048
/* ESMTP parameters after one MAIL or RCPT path. */
#define LMTP_PARAMS_MAX 16

enum lmtp_verb {
	/* A line that is not a valid command: send cmd->error, go on. */
	LMTP_VERB_INVALID,
	LMTP_VERB_LHLO,
	LMTP_VERB_MAIL,
	LMTP_VERB_RCPT,
	LMTP_VERB_DATA,
	LMTP_VERB_BDAT,
	LMTP_VERB_RSET,
	LMTP_VERB_NOOP,
	LMTP_VERB_QUIT,
	LMTP_VERB_VRFY,
	LMTP_VERB_HELP,
};

/*
 * One parsed command line. Strings point into the parser and stay valid
 * until the next call on it.
 */
struct lmtp_command {
	enum lmtp_verb verb;
	/* INVALID: the complete reply line without CRLF, e.g.
	   "500 5.5.1 Unknown command" (static). */
	const char *error;
	/* LHLO: the client's name; VRFY, HELP, NOOP: the argument ("" when
	   none). */
	const char *arg;
	/* MAIL, RCPT: the mailbox of the path without angle brackets or
	   source route, quoted local parts unquoted: "user", "user@domain",
	   or "" for MAIL FROM:<>. */
	const char *address;
	/* MAIL, RCPT: ESMTP parameters, "KEYWORD" or "KEYWORD=value". */
	const char *params[LMTP_PARAMS_MAX];
	unsigned int param_count;
	/* BDAT: chunk size in bytes and whether LAST was given. */
	uint64_t chunk_size;
	bool chunk_last;
};

struct lmtp_parser;

struct lmtp_parser *lmtp_parser_create(void);
void lmtp_parser_destroy(struct lmtp_parser **parser);

/* Queues input bytes (copied). */
void lmtp_parser_feed(struct lmtp_parser *parser, const void *data,
		      size_t len);
/* Bytes fed but not consumed yet. */
size_t lmtp_parser_buffered(struct lmtp_parser *parser);

/*
 * Parses the next command line. Returns 1 with *cmd_r filled (check
 * cmd_r->verb: INVALID carries the error reply), or 0 when more input is
 * needed. A line longer than LMTP_LINE_MAX is skipped up to its end and
 * reported as INVALID ("500 5.5.2 Line too long"); it never grows the
 * buffer beyond that limit. Bare LF ends a line like CRLF.
 */
int lmtp_parser_next_command(struct lmtp_parser *parser,
			     struct lmtp_command *cmd_r);

/*
 * Switches to reading a DATA body into out (appended to). Message bytes
 * are stored with CRLF line ends (bare LF becomes CRLF) and the leading
 * dot of dot-stuffed lines removed (RFC 5321 §4.5.2). When the body
 * exceeds max_size bytes, out is emptied (its memory freed) and the rest
 * is read and dropped until the end, so the session stays in sync.
 */
void lmtp_parser_data_begin(struct lmtp_parser *parser, buf_t *out,
			    uint64_t max_size);
/* Returns 1 once the terminating "." line has been read (*too_large_r
   tells whether the body was over max_size), 0 when more input is
   needed. The parser is then back in command mode. */
int lmtp_parser_next_data(struct lmtp_parser *parser, bool *too_large_r);

/*
 * Switches to reading a BDAT chunk of exactly size bytes, appended raw to
 * out, or dropped when out is NULL (a refused chunk must still be read).
 */
void lmtp_parser_chunk_begin(struct lmtp_parser *parser, buf_t *out,
			     uint64_t size);
/* Returns 1 once the whole chunk has been read, 0 when more input is
   needed. The parser is then back in command mode. */
int lmtp_parser_next_chunk(struct lmtp_parser *parser);

#endif
