/* SPDX-License-Identifier: MIT */
/*
 * mime-parser.c: the MIME tree parser; see mime-parser.h.
 *
 * One pass over the bytes. A part goes through two states: HEADER
 * (its header block is split into fields and the Content-* and
 * envelope fields are read) and SCAN (its body is searched, line by
 * line, for the delimiter lines of the enclosing multiparts). A
 * multipart's boundary is pushed on a stack when its header ends; a
 * delimiter line found while scanning closes every part inside the
 * multipart that owns it (RFC 2046 §5.1.2: an outer boundary ends
 * inner parts), then starts its next body part or, for a close
 * delimiter, its epilogue. message/rfc822 bodies start a child part at
 * once. Sizes are counted as the bytes are crossed and summed into the
 * parent when a part ends, so every byte is counted once.
 *
 * Where RFCs leave room the choices follow Dovecot's, so IMAP clients
 * see the same structure from both servers:
 *  - the [CR]LF before a delimiter belongs to the delimiter (RFC 2046
 *    §5.1.1), also when a part's header block runs into a delimiter;
 *  - a header block with no empty line ends at a delimiter or at the
 *    end of input;
 *  - boundaries match by prefix; the longest active one wins, the
 *    innermost among equals;
 *  - Content-* fields count only in MIME parts (RFC 2045 §1), but a
 *    Content-Type field alone makes a part MIME.
 */
#include "mime-parser.h"
#include "mime-arena.h"
#include "mime-rfc822.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------
 * Header fields
 */

static bool
is_lwsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

bool
mime_field_is(const struct mime_field *field, const char *name)
{
	size_t len = strlen(name);

	return field->name_len == len &&
		strncasecmp((const char *)field->name, name, len) == 0;
}

/* Skips the blanks after the colon (RFC 5322 leaves them to the
   reader); a first line of blanks only keeps all but one. */
static size_t
value_skip_lwsp(const unsigned char *data, size_t start, size_t line_end)
{
	size_t pos = start;

	while (pos < line_end && is_lwsp(data[pos]))
		pos++;
	if (pos == line_end && line_end > start)
		pos = start + 1;
	return pos;
}

bool
mime_header_next_field(const unsigned char *data, size_t size,
		       size_t *_pos, struct mime_field *field_r)
{
	size_t pos = *_pos, line_end, first_end, colon, end;
	const unsigned char *lf, *c;

	if (pos >= size || data[pos] == '\n' ||
	    (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n'))
		return false;

	memset(field_r, 0, sizeof(*field_r));
	field_r->start = pos;
	lf = memchr(data + pos, '\n', size - pos);
	/* the first line's text, without its [CR]LF */
	first_end = lf == NULL ? size : (size_t)(lf - data);
	end = lf == NULL ? size : first_end + 1;
	if (lf != NULL && first_end > pos && data[first_end - 1] == '\r')
		first_end--;
	/* continuation lines start with a blank (RFC 5322 §2.2.3) */
	while (end < size && is_lwsp(data[end])) {
		lf = memchr(data + end, '\n', size - end);
		end = lf == NULL ? size : (size_t)(lf - data) + 1;
	}
	field_r->end = end;
	if (data[end - 1] == '\n')
		field_r->newline_len =
			end - 1 > pos && data[end - 2] == '\r' ? 2 : 1;

	c = memchr(data + pos, ':', first_end - pos);
	field_r->name = data + pos;
	if (c == NULL) {
		field_r->name_len = first_end - pos;
	} else {
		size_t name_end = colon = c - data, vstart;

		while (name_end > pos && is_lwsp(data[name_end - 1]))
			name_end--;
		field_r->name_len = name_end - pos;
		field_r->has_colon = true;
		vstart = value_skip_lwsp(data, colon + 1, first_end);
		line_end = end - field_r->newline_len;
		if (vstart > line_end)
			vstart = line_end;
		field_r->value = data + vstart;
		field_r->value_len = line_end - vstart;
	}
	*_pos = end;
	return true;
}

/* ---------------------------------------------------------------------
 * Parser state
 */

struct boundary {
	struct boundary *next;
	struct mime_part *part;
	const unsigned char *str;
	size_t len;
};

enum parser_state {
	STATE_HEADER,
	STATE_SCAN,
	STATE_DONE,
};

struct mime_parser {
	const unsigned char *data;
	size_t size, pos;
	struct mime_message *msg;
	struct mime_arena *arena;
	/* the part whose header or body is being read */
	struct mime_part *part;
	/* last child of the open part at each depth, for appending */
	struct mime_part *tails[MIME_PARSER_MAX_DEPTH];
	struct boundary *boundaries;
	enum parser_state state;

	/* per header block */
	bool seen_content_type;
	/* last address of each envelope list, for appending */
	struct mime_address *addr_tails[6];
	const unsigned char *pending_boundary;
	size_t pending_boundary_len;
	buf_t tmp;
};

static char *
arena_strdup_nonul(struct mime_arena *arena, const void *data, size_t len)
{
	buf_t tmp = BUF_INIT;
	char *s;

	if (len == 0 || memchr(data, '\0', len) == NULL)
		return mime_arena_strndup(arena, data, len);
	mime_rfc822_append_nonul(&tmp, data, len);
	s = mime_arena_strndup(arena, tmp.data, tmp.len);
	buf_deinit(&tmp);
	return s;
}

/* Counts data[start..end) into size: bytes, LFs, and LFs without a CR
   before them, which become CRLF in the virtual size. */
static void
size_add_range(struct mime_size *size, const unsigned char *data,
	       size_t start, size_t end)
{
	const unsigned char *p = data + start, *stop = data + end, *lf;
	uint64_t bare = 0, lines = 0;

	while ((lf = memchr(p, '\n', stop - p)) != NULL) {
		lines++;
		if (lf == data || lf[-1] != '\r')
			bare++;
		p = lf + 1;
	}
	size->physical += end - start;
	size->virtual += end - start + bare;
	size->lines += lines;
}

static void
size_add(struct mime_size *dest, const struct mime_size *src)
{
	dest->physical += src->physical;
	dest->virtual += src->virtual;
	dest->lines += src->lines;
}

static void
body_add(struct mime_parser *parser, size_t start, size_t end)
{
	if (start >= end)
		return;
	size_add_range(&parser->part->body, parser->data, start, end);
	if (memchr(parser->data + start, '\0', end - start) != NULL)
		parser->part->flags |= MIME_PART_FLAG_HAS_NULS;
}

/* A new child of parser->part starting at parser->pos. */
static void
part_append(struct mime_parser *parser)
{
	struct mime_part *parent = parser->part, *part;

	i_assert(parent->depth + 1 < MIME_PARSER_MAX_DEPTH);
	part = mime_arena_alloc(parser->arena, sizeof(*part));
	part->parent = parent;
	part->depth = parent->depth + 1;
	part->offset = parser->pos;
	if (parser->tails[parent->depth] == NULL)
		parent->children = part;
	else
		parser->tails[parent->depth]->next = part;
	parser->tails[parent->depth] = part;
	parser->tails[part->depth] = NULL;
	parent->children_count++;

	if ((parent->flags & MIME_PART_FLAG_MULTIPART) != 0) {
		/* RFC 2046 §5.1: body parts of a multipart are MIME */
		part->flags |= MIME_PART_FLAG_IS_MIME;
	}
	if ((parent->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0) {
		part->envelope = mime_arena_alloc(parser->arena,
						  sizeof(*part->envelope));
	}
	if (++parser->msg->part_count >= MIME_PARSER_MAX_PARTS) {
		/* the last part allowed takes the rest of the message */
		part->flags |= MIME_PART_FLAG_OVERFLOW;
		parser->msg->overflow = true;
		parser->boundaries = NULL;
	}
	parser->part = part;
	parser->state = STATE_HEADER;
}

/* The current part is complete: its sizes go into its parent's body. */
static void
part_finish(struct mime_parser *parser)
{
	struct mime_part *part = parser->part;

	i_assert(part->parent != NULL);
	size_add(&part->parent->body, &part->header);
	size_add(&part->parent->body, &part->body);
	if ((part->flags & MIME_PART_FLAG_HAS_NULS) != 0)
		part->parent->flags |= MIME_PART_FLAG_HAS_NULS;
	parser->part = part->parent;
}

/* ---------------------------------------------------------------------
 * Boundaries
 */

/*
 * Is the line at data[pos] a delimiter line of an active boundary?
 * RFC 2046 §5.1.1: "--" boundary, then (close delimiter) "--", then
 * optional blanks. The comparison is of the boundary with the start of
 * the line, so trailing garbage is tolerated; of several matching
 * boundaries the longest wins, the innermost among equals.
 */
static struct boundary *
boundary_find(const struct mime_parser *parser, size_t pos, bool *close_r)
{
	const unsigned char *line = parser->data + pos + 2, *lf;
	struct boundary *b, *best = NULL;
	size_t avail, match_len;

	if (parser->boundaries == NULL || pos + 2 > parser->size ||
	    parser->data[pos] != '-' || parser->data[pos + 1] != '-')
		return NULL;
	avail = parser->size - pos - 2;
	lf = memchr(line, '\n', avail);
	if (lf != NULL) {
		match_len = lf - line;
		if (match_len > 0 && line[match_len - 1] == '\r')
			match_len--;
		if (match_len > 2 && line[match_len - 1] == '-' &&
		    line[match_len - 2] == '-')
			match_len -= 2;
	} else {
		match_len = avail;
	}
	for (b = parser->boundaries; b != NULL; b = b->next) {
		if (b->len > match_len || memcmp(b->str, line, b->len) != 0)
			continue;
		if (best == NULL || b->len > best->len) {
			best = b;
			if (b->len == match_len)
				break;
		}
	}
	if (best != NULL) {
		*close_r = avail >= best->len + 2 &&
			line[best->len] == '-' && line[best->len + 1] == '-';
	}
	return best;
}

/*
 * A delimiter line of b starts at line_start; its line end begins at
 * nl_start (== line_start for a delimiter on the body's first line).
 * Ends the parts inside b's multipart and moves on to its next body
 * part or its epilogue.
 */
static void
boundary_hit(struct mime_parser *parser, struct boundary *b, bool close,
	     size_t nl_start, size_t line_start)
{
	const unsigned char *lf;
	size_t line_end;

	body_add(parser, parser->pos, nl_start);
	while (parser->part != b->part)
		part_finish(parser);

	/* the whole delimiter line belongs to the multipart */
	lf = memchr(parser->data + line_start, '\n',
		    parser->size - line_start);
	line_end = lf == NULL ? parser->size :
		(size_t)(lf - parser->data) + 1;
	body_add(parser, nl_start, line_end);
	parser->pos = line_end;

	if (close) {
		/* the epilogue follows; scan it for outer delimiters */
		parser->boundaries = b->next;
		parser->state = STATE_SCAN;
	} else {
		/* inner multiparts left open are closed by this line */
		parser->boundaries = b;
		part_append(parser);
	}
}

/* Reads the current part's body up to a delimiter line of an active
   boundary, or to the end of input. */
static void
scan_body(struct mime_parser *parser)
{
	const unsigned char *data = parser->data, *lf;
	struct boundary *b;
	size_t pos = parser->pos, line;
	bool close;

	if (parser->boundaries == NULL) {
		body_add(parser, pos, parser->size);
		parser->pos = parser->size;
		parser->state = STATE_DONE;
		return;
	}
	/* a delimiter on the body's first line has no line end before it */
	if ((pos == 0 || data[pos - 1] == '\n') &&
	    (b = boundary_find(parser, pos, &close)) != NULL) {
		boundary_hit(parser, b, close, pos, pos);
		return;
	}
	while ((lf = memchr(data + pos, '\n', parser->size - pos)) != NULL) {
		line = lf - data + 1;
		if (line < parser->size && data[line] == '-' &&
		    (b = boundary_find(parser, line, &close)) != NULL) {
			size_t nl_start = line - 1;

			if (nl_start > parser->pos &&
			    data[nl_start - 1] == '\r')
				nl_start--;
			boundary_hit(parser, b, close, nl_start, line);
			return;
		}
		pos = line;
	}
	body_add(parser, parser->pos, parser->size);
	parser->pos = parser->size;
	parser->state = STATE_DONE;
}

/* ---------------------------------------------------------------------
 * Content-* fields (RFC 2045 §5, §6; RFC 2183; RFC 3282; RFC 2557)
 */

static void
params_copy(struct mime_parser *parser, struct mime_rfc822 *rfc,
	    const struct mime_param **params_r, unsigned int *count_r)
{
	struct mime_rfc822_param *params;
	struct mime_param *out;
	unsigned int i, count;

	count = mime_rfc822_params(rfc, &params);
	if (count == 0) {
		*params_r = NULL;
		*count_r = 0;
		mime_rfc822_params_free(&params, count);
		return;
	}
	out = mime_arena_alloc(parser->arena, sizeof(*out) * count);
	for (i = 0; i < count; i++) {
		out[i].name = mime_arena_strdup(parser->arena, params[i].name);
		out[i].value = mime_arena_strdup(parser->arena,
						 params[i].value);
	}
	mime_rfc822_params_free(&params, count);
	*params_r = out;
	*count_r = count;
}

/*
 * Content-Type: type "/" subtype *(";" parameter). Decides the part's
 * kind (text, multipart, message/rfc822) and its boundary. A broken
 * value still gives what could be read of the type, so the kind and
 * the type shown agree; its parameters are then ignored.
 */
static void
parse_content_type(struct mime_parser *parser, const struct mime_field *f)
{
	struct mime_part *part = parser->part;
	struct mime_rfc822 rfc;
	const char *ct, *slash;
	int ret;

	buf_reset(&parser->tmp);
	mime_rfc822_init(&rfc, f->value, f->value_len, NULL);
	ret = mime_rfc822_content_type(&rfc, &parser->tmp);
	ct = buf_cstr(&parser->tmp);
	slash = strchr(ct, '/');
	if (slash == NULL) {
		part->type = mime_arena_strdup(parser->arena, ct);
		part->subtype = "";
	} else {
		part->type = mime_arena_strndup(parser->arena, ct, slash - ct);
		part->subtype = mime_arena_strdup(parser->arena, slash + 1);
	}

	if (strcasecmp(ct, "message/rfc822") == 0) {
		part->flags |= MIME_PART_FLAG_MESSAGE_RFC822;
	} else if (strncasecmp(ct, "text", 4) == 0 &&
		   (ct[4] == '\0' || ct[4] == '/')) {
		part->flags |= MIME_PART_FLAG_TEXT;
	} else if (strncasecmp(ct, "multipart/", 10) == 0) {
		part->flags |= MIME_PART_FLAG_MULTIPART;
		if (strcasecmp(ct + 10, "digest") == 0)
			part->flags |= MIME_PART_FLAG_DIGEST;
	}
	if (ret < 0)
		return;

	params_copy(parser, &rfc, &part->type_params,
		    &part->type_params_count);
	if ((part->flags & MIME_PART_FLAG_MULTIPART) != 0) {
		const char *b = mime_param_get(part->type_params,
					       part->type_params_count,
					       "boundary");

		if (b != NULL) {
			size_t len = strlen(b);

			parser->pending_boundary = (const unsigned char *)b;
			parser->pending_boundary_len =
				len > MIME_PARSER_MAX_BOUNDARY ?
				MIME_PARSER_MAX_BOUNDARY : len;
		}
	}
}

/* Content-Transfer-Encoding: a single token (RFC 2045 §6.1); anything
   else leaves the default, 7bit. */
static void
parse_content_transfer_encoding(struct mime_parser *parser,
				const struct mime_field *f)
{
	struct mime_rfc822 rfc;

	buf_reset(&parser->tmp);
	mime_rfc822_init(&rfc, f->value, f->value_len, NULL);
	(void)mime_rfc822_skip_cfws(&rfc);
	if (mime_rfc822_mime_token(&rfc, &parser->tmp) == 0 &&
	    parser->tmp.len > 0) {
		parser->part->encoding = mime_arena_strndup(
			parser->arena, parser->tmp.data, parser->tmp.len);
	}
}

/* Content-Disposition: token *(";" parameter) (RFC 2183 §2). */
static void
parse_content_disposition(struct mime_parser *parser,
			  const struct mime_field *f)
{
	struct mime_part *part = parser->part;
	struct mime_rfc822 rfc;

	buf_reset(&parser->tmp);
	mime_rfc822_init(&rfc, f->value, f->value_len, NULL);
	(void)mime_rfc822_skip_cfws(&rfc);
	(void)mime_rfc822_mime_token(&rfc, &parser->tmp);
	part->disposition = mime_arena_strndup(parser->arena,
		parser->tmp.len == 0 ? "" : (const char *)parser->tmp.data,
		parser->tmp.len);
	params_copy(parser, &rfc, &part->disposition_params,
		    &part->disposition_params_count);
}

/* Content-Language: 1#Language-tag (RFC 3282 §2), read as atoms. */
static void
parse_content_language(struct mime_parser *parser,
		       const struct mime_field *f)
{
	const char *langs[64];
	const char **list;
	unsigned int count = 0;
	struct mime_rfc822 rfc;

	mime_rfc822_init(&rfc, f->value, f->value_len, NULL);
	(void)mime_rfc822_skip_cfws(&rfc);
	while (count < N_ELEMENTS(langs)) {
		buf_reset(&parser->tmp);
		if (mime_rfc822_atom(&rfc, &parser->tmp) < 0)
			break;
		langs[count++] = mime_arena_strndup(parser->arena,
			parser->tmp.data, parser->tmp.len);
		if (mime_rfc822_at_end(&rfc) || *rfc.data != ',')
			break;
		rfc.data++;
		(void)mime_rfc822_skip_cfws(&rfc);
	}
	if (count == 0)
		return;
	list = mime_arena_alloc(parser->arena, sizeof(*list) * (count + 1));
	memcpy(list, langs, sizeof(*list) * count);
	parser->part->language = list;
}

static const char *
field_value_dup(struct mime_parser *parser, const struct mime_field *f)
{
	return arena_strdup_nonul(parser->arena, f->value, f->value_len);
}

static void
parse_content_field(struct mime_parser *parser, const struct mime_field *f)
{
	struct mime_part *part = parser->part;

	if (mime_field_is(f, "Content-Type")) {
		/* RFC 2045 §4: Content-Type without MIME-Version is common
		   enough in the wild to be taken as MIME */
		part->flags |= MIME_PART_FLAG_IS_MIME;
		if (!parser->seen_content_type) {
			parser->seen_content_type = true;
			parse_content_type(parser, f);
		}
	} else if (mime_field_is(f, "Content-Transfer-Encoding")) {
		if (part->encoding == NULL)
			parse_content_transfer_encoding(parser, f);
	} else if (mime_field_is(f, "Content-ID")) {
		if (part->id == NULL)
			part->id = field_value_dup(parser, f);
	} else if (mime_field_is(f, "Content-Description")) {
		if (part->description == NULL)
			part->description = field_value_dup(parser, f);
	} else if (mime_field_is(f, "Content-Disposition")) {
		/* a later field may still supply the parameters */
		if (part->disposition_params_count == 0)
			parse_content_disposition(parser, f);
	} else if (mime_field_is(f, "Content-Language")) {
		if (part->language == NULL)
			parse_content_language(parser, f);
	} else if (mime_field_is(f, "Content-Location")) {
		if (part->location == NULL)
			part->location = field_value_dup(parser, f);
	} else if (mime_field_is(f, "Content-MD5")) {
		if (part->md5 == NULL)
			part->md5 = field_value_dup(parser, f);
	}
}

/* Forgets the Content-* fields of a part that turned out not MIME. */
static void
content_fields_clear(struct mime_part *part)
{
	part->type = part->subtype = NULL;
	part->type_params = NULL;
	part->type_params_count = 0;
	part->id = part->description = part->encoding = NULL;
	part->md5 = part->location = NULL;
	part->disposition = NULL;
	part->disposition_params = NULL;
	part->disposition_params_count = 0;
	part->language = NULL;
}

/* ---------------------------------------------------------------------
 * Envelope fields (RFC 3501 §7.4.2 ENVELOPE)
 */

/* Parses an address field onto the end of list (a repeated field
   adds to it); tail tracks the list's last address. */
static void
envelope_add_addresses(struct mime_parser *parser,
		       struct mime_address **list, struct mime_address **tail,
		       const struct mime_field *f)
{
	struct mime_address *addr;

	addr = mime_address_parse(parser->arena, f->value, f->value_len,
				  MIME_ADDRESS_FILL_MISSING);
	if (addr == NULL)
		return;
	if (*list == NULL)
		*list = addr;
	else
		(*tail)->next = addr;
	*tail = mime_address_last(addr);
}

static void
parse_envelope_field(struct mime_parser *parser, const struct mime_field *f)
{
	struct mime_envelope *env = parser->part->envelope;
	struct mime_address **addr = NULL, **tails = parser->addr_tails;
	unsigned int tail = 0;
	const char **str = NULL;

	switch (f->name_len) {
	case 2:
		if (mime_field_is(f, "To")) {
			addr = &env->to;
			tail = 0;
		} else if (mime_field_is(f, "Cc")) {
			addr = &env->cc;
			tail = 1;
		}
		break;
	case 3:
		if (mime_field_is(f, "Bcc")) {
			addr = &env->bcc;
			tail = 2;
		}
		break;
	case 4:
		if (mime_field_is(f, "Date")) {
			str = &env->date;
		} else if (mime_field_is(f, "From")) {
			addr = &env->from;
			tail = 3;
		}
		break;
	case 6:
		if (mime_field_is(f, "Sender")) {
			addr = &env->sender;
			tail = 4;
		}
		break;
	case 7:
		if (mime_field_is(f, "Subject"))
			str = &env->subject;
		break;
	case 8:
		if (mime_field_is(f, "Reply-To")) {
			addr = &env->reply_to;
			tail = 5;
		}
		break;
	case 10:
		if (mime_field_is(f, "Message-ID"))
			str = &env->message_id;
		break;
	case 11:
		if (mime_field_is(f, "In-Reply-To"))
			str = &env->in_reply_to;
		break;
	}
	if (str != NULL)
		*str = field_value_dup(parser, f);
	else if (addr != NULL)
		envelope_add_addresses(parser, addr, &tails[tail], f);
}

/* ---------------------------------------------------------------------
 * Header blocks
 */

/* Does the header block of a body part run into a delimiter of an
   enclosing multipart at pos? (The part's own boundary is not pushed
   yet, so every active boundary is an ancestor's.) */
static bool
header_hits_boundary(const struct mime_parser *parser, size_t pos)
{
	bool close;

	return parser->data[pos] == '-' &&
		boundary_find(parser, pos, &close) != NULL;
}

static void
header_field(struct mime_parser *parser, const struct mime_field *f,
	     size_t header_start)
{
	struct mime_part *part = parser->part;

	if (f->start - header_start >= MIME_PARSER_MAX_HEADER_SIZE)
		return;
	if (f->name_len >= 8 &&
	    strncasecmp((const char *)f->name, "Content-", 8) == 0)
		parse_content_field(parser, f);
	else if (mime_field_is(f, "MIME-Version"))
		part->flags |= MIME_PART_FLAG_IS_MIME;
	if (part->envelope != NULL && f->has_colon)
		parse_envelope_field(parser, f);
}

/*
 * Splits the current part's header block into fields. The block ends
 * after its empty line, at the end of input, or before a delimiter
 * line of an enclosing multipart; in the last case the line end before
 * the delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it moves
 * to the parent's body.
 */
static void
parse_header_block(struct mime_parser *parser)
{
	struct mime_part *part = parser->part;
	const unsigned char *data = parser->data;
	size_t start = parser->pos, pos = start, end;
	unsigned int last_newline = 0;
	struct mime_field f;

	parser->seen_content_type = false;
	parser->pending_boundary = NULL;
	memset(parser->addr_tails, 0, sizeof(parser->addr_tails));
	for (;;) {
		if (pos < parser->size && parser->boundaries != NULL &&
		    header_hits_boundary(parser, pos)) {
			end = pos - last_newline;
			break;
		}
		if (!mime_header_next_field(data, parser->size, &pos, &f)) {
			if (pos < parser->size) {
				/* the empty line */
				pos += data[pos] == '\n' ? 1 : 2;
				part->header_has_eoh = true;
			}
			end = pos;
			break;
		}
		last_newline = f.newline_len;
		header_field(parser, &f, start);
	}
	size_add_range(&part->header, data, start, end);
	if (memchr(data + start, '\0', end - start) != NULL)
		part->flags |= MIME_PART_FLAG_HAS_NULS;
	if (end != pos) {
		i_assert(part->parent != NULL);
		size_add_range(&part->parent->body, data, end, pos);
	}
	parser->pos = pos;
}

/* Settles the part's kind once its header is read and picks how its
   body is read. */
static void
header_finish(struct mime_parser *parser)
{
	struct mime_part *part = parser->part;
	const enum mime_part_flags kinds = MIME_PART_FLAG_MULTIPART |
		MIME_PART_FLAG_DIGEST | MIME_PART_FLAG_MESSAGE_RFC822 |
		MIME_PART_FLAG_TEXT;

	if ((part->flags & MIME_PART_FLAG_IS_MIME) == 0) {
		/* RFC 2045 §1: Content-* fields need a MIME part */
		part->flags &= ~kinds;
		content_fields_clear(part);
		parser->pending_boundary = NULL;
	}
	if (!parser->seen_content_type ||
	    (part->flags & MIME_PART_FLAG_IS_MIME) == 0) {
		/* RFC 2046 §5.1.5: digest parts default to message/rfc822,
		   RFC 2045 §5.2: others to text/plain */
		if (part->parent != NULL &&
		    (part->parent->flags & MIME_PART_FLAG_DIGEST) != 0)
			part->flags |= MIME_PART_FLAG_MESSAGE_RFC822;
		else
			part->flags |= MIME_PART_FLAG_TEXT;
	}

	if ((part->flags & (MIME_PART_FLAG_MULTIPART |
			    MIME_PART_FLAG_MESSAGE_RFC822)) != 0 &&
	    ((part->flags & MIME_PART_FLAG_OVERFLOW) != 0 ||
	     part->depth + 1 >= MIME_PARSER_MAX_DEPTH)) {
		/* too deep or too many parts: an opaque blob (RFC 2046
		   §4.5.3 application/octet-stream) whose inside is not
		   parsed */
		part->flags &= ~kinds;
		part->flags |= MIME_PART_FLAG_OVERFLOW;
		part->type = "application";
		part->subtype = "octet-stream";
		parser->msg->overflow = true;
		parser->pending_boundary = NULL;
	}

	if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0) {
		part_append(parser);
		return;
	}
	if ((part->flags & MIME_PART_FLAG_MULTIPART) != 0 &&
	    parser->pending_boundary != NULL) {
		struct boundary *b = mime_arena_alloc(parser->arena,
						      sizeof(*b));

		b->part = part;
		b->str = parser->pending_boundary;
		b->len = parser->pending_boundary_len;
		b->next = parser->boundaries;
		parser->boundaries = b;
	}
	parser->state = STATE_SCAN;
}

/* ---------------------------------------------------------------------
 * API
 */

struct mime_parser *
mime_parser_init(const unsigned char *data, size_t size)
{
	struct mime_parser *parser;
	struct mime_arena *arena = mime_arena_create();

	parser = i_malloc(sizeof(*parser));
	/* memchr() and friends want a pointer even for no bytes */
	parser->data = data != NULL ? data : (const unsigned char *)"";
	parser->size = size;
	parser->arena = arena;
	parser->msg = mime_arena_alloc(arena, sizeof(*parser->msg));
	parser->msg->arena = arena;
	parser->msg->root = mime_arena_alloc(arena, sizeof(struct mime_part));
	parser->msg->root->envelope =
		mime_arena_alloc(arena, sizeof(struct mime_envelope));
	parser->msg->part_count = 1;
	parser->part = parser->msg->root;
	parser->state = STATE_HEADER;
	buf_init(&parser->tmp);
	return parser;
}

int
mime_parser_next(struct mime_parser *parser, struct mime_part **part_r)
{
	struct mime_part *part;

	for (;;) {
		switch (parser->state) {
		case STATE_HEADER:
			part = parser->part;
			parse_header_block(parser);
			header_finish(parser);
			*part_r = part;
			return 1;
		case STATE_SCAN:
			scan_body(parser);
			break;
		case STATE_DONE:
			while (parser->part->parent != NULL)
				part_finish(parser);
			*part_r = NULL;
			return 0;
		}
	}
}

struct mime_message *
mime_parser_deinit(struct mime_parser **_parser)
{
	struct mime_parser *parser = *_parser;
	struct mime_message *msg;
	struct mime_part *part;

	*_parser = NULL;
	while (mime_parser_next(parser, &part) > 0)
		;
	msg = parser->msg;
	buf_deinit(&parser->tmp);
	free(parser);
	return msg;
}

struct mime_message *
mime_message_parse(const unsigned char *data, size_t size)
{
	struct mime_parser *parser = mime_parser_init(data, size);

	return mime_parser_deinit(&parser);
}

void
mime_message_free(struct mime_message **_msg)
{
	struct mime_message *msg = *_msg;
	struct mime_arena *arena;

	if (msg == NULL)
		return;
	*_msg = NULL;
	arena = msg->arena;
	mime_arena_destroy(&arena);
}

const char *
mime_param_get(const struct mime_param *params, unsigned int count,
	       const char *name)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

struct mime_part *
mime_message_find_part(struct mime_message *msg, const unsigned int *nums,
		       unsigned int count)
{
	/* ctx: whose parts the next number counts; self_used: ctx is not
	   multipart and its own "part 1" was already taken */
	struct mime_part *ctx = msg->root, *part = NULL;
	bool self_used = false;
	unsigned int i, n;

	for (i = 0; i < count; i++) {
		if (ctx == NULL || nums[i] == 0)
			return NULL;
		if ((ctx->flags & MIME_PART_FLAG_MULTIPART) != 0) {
			part = ctx->children;
			for (n = nums[i]; n > 1 && part != NULL; n--)
				part = part->next;
			self_used = false;
		} else {
			/* the body of what is not multipart is its part 1,
			   once: 1.1 of a leaf is nothing */
			part = nums[i] == 1 && !self_used ? ctx : NULL;
			self_used = true;
		}
		if (part == NULL)
			return NULL;
		/* a message/rfc822 part's numbers go on inside the
		   encapsulated message */
		if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0 &&
		    i + 1 < count) {
			ctx = part->children;
			self_used = false;
		} else {
			ctx = part;
		}
	}
	return part;
}
