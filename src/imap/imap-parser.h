/* SPDX-License-Identifier: MIT */
/*
 * imap-parser.h: pull-style parser of the IMAP client stream (RFC 3501
 * §9 / RFC 9051 §9 command syntax): tag, command name and arguments
 * (atoms, quoted strings, literals {n}, LITERAL+ {n+} (RFC 7888), BINARY
 * literals ~{n} (RFC 3516), parenthesised lists), plus raw lines for
 * AUTHENTICATE responses and IDLE's DONE. Part of src/imap; uses lib
 * only and knows nothing of sockets or the store, so the fuzz target and
 * the unit tests drive it with plain bytes.
 *
 * Usage: imap_parser_feed() bytes as they arrive, then call
 * imap_parser_next() until it returns 0. A result is a whole command, a
 * continuation request (send "+ ..." and call again: the client waits
 * for it before it sends a synchronising literal), or an error for one
 * command, after which the parser has skipped to that command's end and
 * goes on with the next one. Splitting the input at any byte gives the
 * same results.
 *
 * Atoms: any CHAR except SP, CTL, '(', ')', '{', '"' and '%'-free
 * specials are not checked beyond that; a '[' inside an atom opens a
 * part read up to the matching ']', spaces and parentheses included, so
 * that BODY[HEADER.FIELDS (From To)]<0.100> is one atom (as Dovecot
 * does). Sequence sets (1:*,$) and flags (\Seen) are atoms.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include "lib.h"

/* Command text without literal data, CRLFs included (Dovecot's
   imap_max_line_length). Longer: "BAD Command line too long". */
#define IMAP_LINE_MAX (64 * 1024)
/* Largest literal by default: the APPENDLIMIT (RFC 7889) we advertise,
   equal to the store's message limit (STORE_MESSAGE_MAX). */
#define IMAP_LITERAL_MAX_DEFAULT (64u * 1024 * 1024)
/* Literals in one command (MULTIAPPEND batches, long SEARCH). */
#define IMAP_LITERALS_MAX 1000
/* Literal bytes buffered for one command, all literals together. */
#define IMAP_COMMAND_LITERAL_BYTES_MAX (128u * 1024 * 1024)
/* Parenthesis nesting (BODYSTRUCTURE-like client input never needs
   more than a few levels). */
#define IMAP_LIST_DEPTH_MAX 16
/* Arguments (list elements included) per command. */
#define IMAP_ARGS_MAX 100000
/* Tag length. */
#define IMAP_TAG_MAX 64

enum imap_arg_type {
	IMAP_ARG_ATOM,          /* also NIL, numbers, sequence sets */
	IMAP_ARG_STRING,        /* quoted, unescaped */
	IMAP_ARG_LITERAL,       /* {n} or {n+} */
	IMAP_ARG_LITERAL8,      /* ~{n}: may contain NUL */
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	/* Text of atoms, strings and literals, NUL-terminated (a LITERAL8
	   may contain NULs: use len). NULL for lists. */
	const char *str;
	size_t len;
	/* Lists: the elements. */
	const struct imap_arg *list;
	unsigned int list_count;
};

enum imap_command_type {
	/* A whole command: tag, name, args. */
	IMAP_COMMAND_OK,
	/* A synchronising literal is announced: send a continuation
	   request ("+ ..."), then call imap_parser_next() again. */
	IMAP_COMMAND_CONTINUE,
	/* The command was malformed or over a limit: reply
	   "<tag> <error>" (tag "*" when none was read); the rest of the
	   command has been skipped. With fatal, close afterwards. */
	IMAP_COMMAND_ERROR,
};

/*
 * One result. Every pointer points into the parser and stays valid
 * until the next call on it.
 */
struct imap_command {
	enum imap_command_type type;
	const char *tag;
	/* The command name as sent (compare case-insensitively). */
	const char *name;
	const struct imap_arg *args;
	unsigned int arg_count;
	/* ERROR: "BAD ..." or "NO [TOOBIG] ..." without CRLF (static). */
	const char *error;
	bool fatal;
};

struct imap_parser;

/* literal_max: the largest literal accepted (0: the default). */
struct imap_parser *imap_parser_create(uint64_t literal_max);
/* Wipes buffered input (it may hold a password) and frees. Accepts
   NULL. */
void imap_parser_destroy(struct imap_parser **parser);

/* Queues input bytes (copied). */
void imap_parser_feed(struct imap_parser *parser, const void *data,
		      size_t len);
/* Bytes fed but not consumed yet. */
size_t imap_parser_buffered(struct imap_parser *parser);
/* Drops every buffered byte and any partly read command, e.g. what a
   client pipelined after STARTTLS (RFC 3501 §6.2.1 / RFC 2595 §3). */
void imap_parser_discard(struct imap_parser *parser);

/*
 * Parses on. Returns 1 with *cmd_r filled (see enum
 * imap_command_type), or 0 when more input is needed.
 */
int imap_parser_next(struct imap_parser *parser, struct imap_command *cmd_r);

/*
 * Reads one raw line (an AUTHENTICATE response, IDLE's DONE) without
 * its line end; call only between commands. Returns 1 with *line_r
 * (NUL-terminated, valid until the next call), or with *line_r NULL
 * when the line was longer than IMAP_LINE_MAX or held a NUL (skipped);
 * 0 when more input is needed.
 */
int imap_parser_next_line(struct imap_parser *parser, const char **line_r,
			  size_t *len_r);

/* Helpers for command code. */
/* True for the atom NIL. */
bool imap_arg_is_nil(const struct imap_arg *arg);
/* Atom, string or literal (astring): true and *str_r. */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r);
/* String or literal only. */
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r);
/* Atom only. */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* List: true with its elements. */
bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r, unsigned int *count_r);
/* Atom of digits that fits in 32 bits (RFC 3501 number). */
bool imap_arg_get_number(const struct imap_arg *arg, uint32_t *num_r);

#endif
