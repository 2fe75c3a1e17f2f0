/* SPDX-License-Identifier: MIT */
/*
 * mime-header.h: RFC 5322 header fields of a message, pulled one at a
 * time out of a byte stream, plus unfolding (RFC 5322 §2.2.3) and
 * decoding of RFC 2047 encoded-words into UTF-8. In mime, above lib.
 *
 * The parser is pull-style: _feed bytes in pieces of any size, _next
 * pulls complete fields; splitting the input at any byte gives the same
 * fields. It stops at the empty line that ends the header block. Lines
 * end in LF or CRLF. It is lenient the way mail readers are: a line with
 * no colon, a field name with bytes outside RFC 5322 ftext, or a
 * continuation line with no field before it is skipped, never an error.
 *
 * Limits: a field longer than MIME_HEADER_FIELD_MAX bytes is returned
 * cut at that length (truncated set) and its rest skipped; a field name
 * longer than MIME_HEADER_NAME_MAX makes the line invalid. Memory use is
 * bounded by those limits plus whatever input the caller feeds at once.
 */
#ifndef MIME_HEADER_H
#define MIME_HEADER_H

#include "lib.h"
#include "buf.h"

#define MIME_HEADER_FIELD_MAX (64 * 1024)
#define MIME_HEADER_NAME_MAX 256
/* RFC 2047 §2 allows 75 bytes; real mail breaks that, so be lenient. */
#define MIME_ENCODED_WORD_MAX 1024

struct mime_header_parser;

struct mime_header_field {
	/* Field name as written (no trailing blanks), NUL-terminated. */
	const char *name;
	/* Raw value: the bytes after the colon up to the field's final line
	   end (excluded), folds kept. NUL-terminated for convenience. */
	const unsigned char *value;
	size_t value_len;
	/* Where the field starts in the fed stream, and its size in bytes
	   including the final line end: [offset, offset + size) removes
	   the field cleanly. */
	uint64_t offset;
	uint64_t size;
	/* value was cut at MIME_HEADER_FIELD_MAX (size stays exact). */
	bool truncated;
};

/* A parser at offset 0 of a stream. Free with _destroy. */
struct mime_header_parser *mime_header_parser_create(void);
void mime_header_parser_destroy(struct mime_header_parser **parser);

/* Queues input; the parser copies what it needs. */
void mime_header_parser_feed(struct mime_header_parser *parser,
			     const unsigned char *data, size_t len);
/* No more input: a field ending the stream is complete. */
void mime_header_parser_feed_eof(struct mime_header_parser *parser);

/*
 * Pulls the next field. Returns 1 with *field_r filled (its pointers are
 * valid until the next call on the parser), or 0 when it needs more input
 * or the header block ended (mime_header_parser_done() tells which).
 * Never fails, never blocks.
 */
int mime_header_parser_next(struct mime_header_parser *parser,
			    struct mime_header_field *field_r);
/* True once the empty line (or the end of input) ended the header. */
bool mime_header_parser_done(struct mime_header_parser *parser);
/* Stream offset of the body: just past the empty line, or the input
   size when the header ran to the end. Valid once done. */
uint64_t mime_header_parser_body_offset(struct mime_header_parser *parser);

/*
 * Finds the first field called name (ASCII case-insensitive) in data,
 * the start of a message. Appends its raw value to value_r when not NULL.
 * Returns 1 found, 0 not found.
 */
int mime_header_find(const unsigned char *data, size_t len,
		     const char *name, buf_t *value_r);

/* Appends value unfolded: every line end followed by a blank removed
   (RFC 5322 §2.2.3), other CR/LF turned into spaces, leading and
   trailing blanks dropped. */
void mime_header_unfold(const unsigned char *value, size_t len, buf_t *out);

/*
 * Appends the text of an unstructured field value (Subject, Comments) as
 * UTF-8: unfolded, RFC 2047 encoded-words decoded (B and Q, any charset
 * iconv knows, RFC 2231 language suffixes ignored), white space between
 * adjacent encoded-words dropped (§6.2), and adjacent words in one
 * charset joined before conversion so characters split across them
 * survive. A word in an unknown charset or malformed stays as written.
 * Raw 8-bit text is kept when valid UTF-8; every invalid byte becomes
 * U+FFFD, so the output is always valid UTF-8. Control characters are
 * left for the caller to treat.
 */
void mime_header_decode(const unsigned char *value, size_t len, buf_t *out);

#endif
