/* SPDX-License-Identifier: MIT */
/*
 * mime-parser.h: the MIME tree of a message held in memory (RFC 5322
 * header blocks, RFC 2045 content fields, RFC 2046 multipart and
 * message/rfc822 nesting) as protocol-neutral structures: where every
 * part's header and body lie, their sizes and line counts, the parsed
 * Content-* fields and, for the message and every message/rfc822 body,
 * the envelope fields. IMAP's BODYSTRUCTURE, ENVELOPE and BODY[section]
 * (imap-*.c) and XIMSS render from it. In mime, above lib.
 *
 * The parser is pull-style: _init over the bytes, _next returns the
 * parts one by one in document order (pre-order) as soon as their
 * header is parsed, _deinit hands back the finished tree. The bytes are
 * not copied: the tree refers to them by offset, so keep them alive
 * while the tree is used for sections. mime_message_parse() does all
 * three at once.
 *
 * Lenient like deployed readers (and compatible with Dovecot where RFCs
 * leave room): Content-Type alone makes a part MIME (RFC 2045 §4 asks
 * for MIME-Version), boundaries match by prefix (RFC 2046 §5.1.1), an
 * outer boundary closes inner parts, a missing close delimiter ends at
 * the end of the enclosing part, a header block without its empty line
 * ends at a boundary or at the end of input. Any input gives a tree;
 * the limits below bound work and memory.
 *
 * Sizes come in two measures: physical (bytes as stored) and virtual
 * (every bare LF counted as CRLF), the one IMAP reports (RFC 3501
 * §2.2: CRLF line ends); lines count LFs.
 */
#ifndef MIME_PARSER_H
#define MIME_PARSER_H

#include "lib.h"
#include "mime-address.h"

/* Parts nest at most this deep (the message is depth 0). A multipart or
   message/rfc822 part at depth MIME_PARSER_MAX_DEPTH - 1 is kept as an
   opaque application/octet-stream leaf flagged OVERFLOW. */
#define MIME_PARSER_MAX_DEPTH 100
/* At most this many parts per message: the part that reaches the limit
   is flagged OVERFLOW and runs to the end of the message. */
#define MIME_PARSER_MAX_PARTS 10000
/* Content-* and envelope fields are read only from the first this many
   bytes of a header block; the rest still counts for sizes. */
#define MIME_PARSER_MAX_HEADER_SIZE (1024 * 1024)
/* Longest boundary used (RFC 2046 §5.1.1 allows 70; longer ones are cut
   here, so prefix matching still finds them). */
#define MIME_PARSER_MAX_BOUNDARY 200

enum mime_part_flags {
	/* multipart/ *; children are the body parts */
	MIME_PART_FLAG_MULTIPART = 0x01,
	/* multipart/digest: children default to message/rfc822 */
	MIME_PART_FLAG_DIGEST = 0x02,
	/* message/rfc822; the one child is the encapsulated message */
	MIME_PART_FLAG_MESSAGE_RFC822 = 0x04,
	/* text/ *, or no Content-Type (RFC 2045 §5.2 default) */
	MIME_PART_FLAG_TEXT = 0x08,
	/* MIME-Version or Content-Type seen, or a part of a multipart:
	   the Content-* fields apply */
	MIME_PART_FLAG_IS_MIME = 0x10,
	/* NUL bytes in the header or body */
	MIME_PART_FLAG_HAS_NULS = 0x20,
	/* a limit stopped parsing here; the body is not split further */
	MIME_PART_FLAG_OVERFLOW = 0x40,
};

struct mime_size {
	uint64_t physical;
	uint64_t virtual;
	uint64_t lines;
};

/* A Content-Type or Content-Disposition parameter, as IMAP shows it:
   RFC 2231 sections joined, extended values still encoded. */
struct mime_param {
	const char *name;
	const char *value;
};

struct mime_envelope {
	/* raw field values (folds kept, NUL bytes as U+FFFD); NULL when
	   the field is absent. The last of repeated fields counts. */
	const char *date, *subject, *message_id, *in_reply_to;
	/* address lists; repeated fields are concatenated */
	struct mime_address *from, *sender, *reply_to, *to, *cc, *bcc;
};

struct mime_part {
	struct mime_part *parent, *next, *children;
	/* number of direct children */
	unsigned int children_count;
	/* depth in the tree; the message is 0 */
	unsigned int depth;
	enum mime_part_flags flags;

	/* the header block is [offset, offset + header.physical), the body
	   follows it directly */
	uint64_t offset;
	struct mime_size header, body;
	/* the header block ended with its empty line */
	bool header_has_eoh;

	/* Content-* fields (RFC 2045, 2183, 3282, 2557, 1864), the first
	   of each; all NULL/0 when the part is not MIME. type and subtype
	   are as written (NULL: no Content-Type; "" parts of a broken
	   one). Values are raw: folds kept. */
	const char *type, *subtype;
	const struct mime_param *type_params;
	unsigned int type_params_count;
	const char *id, *description, *encoding, *md5, *location;
	const char *disposition;
	const struct mime_param *disposition_params;
	unsigned int disposition_params_count;
	/* NULL-terminated; NULL when absent */
	const char *const *language;

	/* the message's and every message/rfc822 body's envelope; NULL
	   elsewhere */
	struct mime_envelope *envelope;
};

struct mime_message {
	struct mime_part *root;
	unsigned int part_count;
	/* a limit was reached somewhere (OVERFLOW parts exist) */
	bool overflow;
	/* internal: owner of every allocation of the tree */
	struct mime_arena *arena;
};

struct mime_parser;

/* A parser over data[0..size) (not copied; keep it alive while the
   tree is used). Never fails. */
struct mime_parser *mime_parser_init(const unsigned char *data,
				     size_t size);
/*
 * Parses up to the next part's header. Returns 1 with *part_r (valid
 * until the tree is freed; its header fields are final, its sizes only
 * after _deinit), or 0 when every part has been seen. Never fails,
 * never blocks; each call does work proportional to the bytes it
 * crosses.
 */
int mime_parser_next(struct mime_parser *parser, struct mime_part **part_r);
/* Finishes parsing (whatever _next did not reach), frees the parser
   and returns the tree (free with mime_message_free). */
struct mime_message *mime_parser_deinit(struct mime_parser **parser);

/* Parses a whole message. */
struct mime_message *mime_message_parse(const unsigned char *data,
					size_t size);
/* Frees the tree; sets *msg to NULL; accepts NULL. */
void mime_message_free(struct mime_message **msg);

/* One field of a header block, split the way the parser splits it:
   a line with a colon and the continuation lines (starting with SP or
   HTAB) after it. A line without a colon is a field whose name is the
   whole line and which has no value. */
struct mime_field {
	/* name: before the colon, blanks before the colon dropped */
	const unsigned char *name;
	size_t name_len;
	/* value: after the colon and the blanks after it (or after one
	   blank when the first line holds nothing else), up to the
	   field's last line end (excluded); folds kept */
	const unsigned char *value;
	size_t value_len;
	bool has_colon;
	/* the field's bytes [start, end) include its last line end;
	   newline_len is that line end's size (0 at the end of input) */
	size_t start, end;
	unsigned int newline_len;
};

/*
 * Reads the field at *pos of the header block data[0..size). Returns
 * true with *field_r and *pos moved past it; false at the empty line
 * that ends the block (*pos is then left at it) or at size.
 */
bool mime_header_next_field(const unsigned char *data, size_t size,
			    size_t *pos, struct mime_field *field_r);
/* True when the field is named name (ASCII case-insensitive). */
bool mime_field_is(const struct mime_field *field, const char *name);

/* Looks a parameter up by name (ASCII case-insensitive); NULL when
   absent. */
const char *mime_param_get(const struct mime_param *params,
			   unsigned int count, const char *name);

/*
 * The part at IMAP part path nums[0..count) (RFC 3501 §6.4.5): numbers
 * start at 1 and count a multipart's body parts; numbers after a
 * message/rfc822 part count in the message it encapsulates; something
 * that is not multipart is its own part 1 (a message's body, and, as
 * Dovecot allows, "2.1" for a leaf "2"), but only once. NULL when there
 * is no such part.
 */
struct mime_part *mime_message_find_part(struct mime_message *msg,
					 const unsigned int *nums,
					 unsigned int count);

#endif
