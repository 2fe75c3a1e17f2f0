/* SPDX-License-Identifier: MIT */
/*
 * imap-section.c: IMAP body sections and BINARY; see imap-section.h.
 *
 * RFC 3501 §9 (and RFC 3516 §6, RFC 9051 §9):
 *   section          = "[" [section-spec] "]"
 *   section-spec     = section-msgtext / (section-part ["." section-text])
 *   section-msgtext  = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list
 *                      / "TEXT"
 *   section-part     = nz-number *("." nz-number)
 *   section-text     = section-msgtext / "MIME"
 *   header-list      = "(" header-fld-name *(SP header-fld-name) ")"
 *   section-partial  = "<" number "." nz-number ">"
 *   section-binary   = "[" [section-part] "]"
 *
 * What a part number means (RFC 3501 §6.4.5) is resolved by
 * mime_message_find_part(). Results are what Dovecot sends, which is
 * also what the RFC describes where it speaks:
 *  - everything is sent with CRLF line ends (RFC 3501 §2.2), bare LFs
 *    of the stored message converted; <partial> counts in those octets;
 *  - a part that does not exist, and HEADER/TEXT of a part that is not
 *    message/rfc822, are empty strings;
 *  - HEADER.FIELDS keeps the matching fields as written (folds
 *    included) and the empty line, if the header block had one;
 *  - BINARY of a leaf part is its decoded body; BINARY of a multipart,
 *    a message/rfc822 part or the message is the section with every
 *    base64 or quoted-printable leaf inside decoded and its
 *    Content-Transfer-Encoding field replaced by "binary".
 */
#include "imap-section.h"
#include "mime-decode.h"
#include "mime-parser.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------
 * Parsing
 */

struct section_parser {
	const char *p;
	struct imap_section *section;
	const char *error;
};

static bool
skip_word(struct section_parser *ctx, const char *word)
{
	size_t len = strlen(word);

	if (strncasecmp(ctx->p, word, len) != 0)
		return false;
	ctx->p += len;
	return true;
}

/* number = 1*DIGIT; at most max. */
static bool
parse_number(struct section_parser *ctx, uint64_t max, uint64_t *n_r)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*ctx->p))
		return false;
	for (; isdigit((unsigned char)*ctx->p); ctx->p++) {
		unsigned int d = *ctx->p - '0';

		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*n_r = n;
	return true;
}

/* RFC 3501 ATOM-CHAR, without "]" (it closes the section). */
static bool
is_atom_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static int
parse_field_name(struct section_parser *ctx, buf_t *name)
{
	buf_reset(name);
	if (*ctx->p == '"') {
		for (ctx->p++; *ctx->p != '"'; ctx->p++) {
			if (*ctx->p == '\\' && ctx->p[1] != '\0')
				ctx->p++;
			if (*ctx->p == '\0' || *ctx->p == '\r' ||
			    *ctx->p == '\n')
				return -1;
			buf_append_c(name, *ctx->p);
		}
		ctx->p++;
		return 0;
	}
	while (is_atom_char((unsigned char)*ctx->p))
		buf_append_c(name, *ctx->p++);
	return name->len > 0 ? 0 : -1;
}

/* SP "(" header-fld-name *(SP header-fld-name) ")" */
static int
parse_header_list(struct section_parser *ctx)
{
	struct imap_section *section = ctx->section;
	buf_t name = BUF_INIT;
	int ret = 0;

	if (*ctx->p++ != ' ' || *ctx->p++ != '(') {
		ctx->error = "HEADER.FIELDS needs a list of field names";
		return -1;
	}
	for (;;) {
		if (parse_field_name(ctx, &name) < 0 ||
		    section->field_count >= IMAP_SECTION_MAX_FIELDS) {
			ctx->error = "Invalid header field name list";
			ret = -1;
			break;
		}
		section->fields = i_realloc(section->fields,
			sizeof(char *) * (section->field_count + 1));
		section->fields[section->field_count++] =
			i_strndup((const char *)name.data, name.len);
		if (*ctx->p == ')') {
			ctx->p++;
			break;
		}
		if (*ctx->p++ != ' ') {
			ctx->error = "Invalid header field name list";
			ret = -1;
			break;
		}
	}
	buf_deinit(&name);
	return ret;
}

/* section-msgtext, or "MIME" when after a part number */
static int
parse_section_text(struct section_parser *ctx, bool have_part)
{
	struct imap_section *section = ctx->section;

	if (skip_word(ctx, "HEADER.FIELDS.NOT")) {
		section->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		return parse_header_list(ctx);
	}
	if (skip_word(ctx, "HEADER.FIELDS")) {
		section->kind = IMAP_SECTION_HEADER_FIELDS;
		return parse_header_list(ctx);
	}
	if (skip_word(ctx, "HEADER")) {
		section->kind = IMAP_SECTION_HEADER;
		return 0;
	}
	if (skip_word(ctx, "TEXT")) {
		section->kind = IMAP_SECTION_TEXT;
		return 0;
	}
	if (have_part && skip_word(ctx, "MIME")) {
		section->kind = IMAP_SECTION_MIME;
		return 0;
	}
	ctx->error = "Invalid section";
	return -1;
}

/* section-part ["." section-text], or section-msgtext, or nothing */
static int
parse_section_spec(struct section_parser *ctx)
{
	struct imap_section *section = ctx->section;
	bool binary = section->fetch != IMAP_SECTION_FETCH_BODY;
	uint64_t n;

	if (*ctx->p == ']')
		return 0;
	if (!isdigit((unsigned char)*ctx->p)) {
		if (binary) {
			ctx->error = "BINARY takes a part number only";
			return -1;
		}
		return parse_section_text(ctx, false);
	}
	for (;;) {
		/* nz-number: part numbers start at 1 */
		if (!parse_number(ctx, UINT32_MAX, &n) || n == 0 ||
		    section->path_count >= IMAP_SECTION_MAX_PATH) {
			ctx->error = "Invalid part number";
			return -1;
		}
		if ((section->path_count & 15) == 0) {
			section->path = i_realloc(section->path,
				sizeof(*section->path) *
				(section->path_count + 16));
		}
		section->path[section->path_count++] = n;
		if (*ctx->p != '.')
			return 0;
		ctx->p++;
		if (!isdigit((unsigned char)*ctx->p))
			break;
	}
	if (binary) {
		ctx->error = "BINARY takes a part number only";
		return -1;
	}
	return parse_section_text(ctx, true);
}

/* "<" number "." nz-number ">" (a size of 0 is let through, giving
   nothing, as Dovecot does) */
static int
parse_partial(struct section_parser *ctx)
{
	struct imap_section *section = ctx->section;

	if (*ctx->p == '\0')
		return 0;
	if (*ctx->p++ != '<' ||
	    !parse_number(ctx, UINT64_MAX / 2, &section->partial_offset) ||
	    *ctx->p++ != '.' ||
	    !parse_number(ctx, UINT64_MAX / 2, &section->partial_size) ||
	    *ctx->p++ != '>' || *ctx->p != '\0') {
		ctx->error = "Invalid partial";
		return -1;
	}
	section->partial = true;
	return 0;
}

int
imap_section_parse(const char *item, struct imap_section **section_r,
		   const char **error_r)
{
	struct section_parser ctx;
	struct imap_section *section;

	*section_r = NULL;
	if (strlen(item) > IMAP_SECTION_MAX_TEXT) {
		*error_r = "Section too long";
		return -1;
	}
	section = i_malloc(sizeof(*section));
	memset(&ctx, 0, sizeof(ctx));
	ctx.p = item;
	ctx.section = section;
	if (skip_word(&ctx, "BODY.PEEK[")) {
		section->peek = true;
	} else if (skip_word(&ctx, "BODY[")) {
	} else if (skip_word(&ctx, "BINARY.PEEK[")) {
		section->fetch = IMAP_SECTION_FETCH_BINARY;
		section->peek = true;
	} else if (skip_word(&ctx, "BINARY.SIZE[")) {
		section->fetch = IMAP_SECTION_FETCH_BINARY_SIZE;
	} else if (skip_word(&ctx, "BINARY[")) {
		section->fetch = IMAP_SECTION_FETCH_BINARY;
	} else {
		ctx.error = "Not a body section";
		goto fail;
	}
	if (parse_section_spec(&ctx) < 0)
		goto fail;
	if (*ctx.p++ != ']') {
		ctx.error = "Invalid section";
		goto fail;
	}
	if (parse_partial(&ctx) < 0)
		goto fail;
	if (section->partial &&
	    section->fetch == IMAP_SECTION_FETCH_BINARY_SIZE) {
		ctx.error = "BINARY.SIZE takes no partial";
		goto fail;
	}
	*section_r = section;
	return 0;
fail:
	*error_r = ctx.error;
	imap_section_free(&section);
	return -1;
}

void
imap_section_free(struct imap_section **_section)
{
	struct imap_section *section = *_section;
	unsigned int i;

	if (section == NULL)
		return;
	*_section = NULL;
	for (i = 0; i < section->field_count; i++)
		free(section->fields[i]);
	free(section->fields);
	free(section->path);
	free(section);
}

void
imap_section_write_name(buf_t *out, const struct imap_section *section)
{
	static const char *const kinds[] = {
		[IMAP_SECTION_ALL] = "",
		[IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT",
		[IMAP_SECTION_MIME] = "MIME",
	};
	unsigned int i;
	const char *p;

	buf_append_str(out, section->fetch == IMAP_SECTION_FETCH_BODY ?
		       "BODY[" : section->fetch == IMAP_SECTION_FETCH_BINARY ?
		       "BINARY[" : "BINARY.SIZE[");
	for (i = 0; i < section->path_count; i++)
		buf_printf(out, i == 0 ? "%u" : ".%u", section->path[i]);
	if (section->kind != IMAP_SECTION_ALL) {
		if (section->path_count > 0)
			buf_append_c(out, '.');
		buf_append_str(out, kinds[section->kind]);
	}
	if (section->field_count > 0) {
		buf_append_str(out, " (");
		for (i = 0; i < section->field_count; i++) {
			if (i > 0)
				buf_append_c(out, ' ');
			for (p = section->fields[i]; *p != '\0'; p++) {
				if (!is_atom_char((unsigned char)*p))
					break;
			}
			if (*p != '\0' || section->fields[i][0] == '\0') {
				/* not an atom: quote it */
				buf_append_c(out, '"');
				for (p = section->fields[i]; *p != '\0'; p++) {
					if (*p == '"' || *p == '\\')
						buf_append_c(out, '\\');
					buf_append_c(out, *p);
				}
				buf_append_c(out, '"');
				continue;
			}
			for (p = section->fields[i]; *p != '\0'; p++)
				buf_append_c(out, toupper((unsigned char)*p));
		}
		buf_append_c(out, ')');
	}
	buf_append_c(out, ']');
	if (section->partial)
		buf_printf(out, "<%" PRIu64 ">", section->partial_offset);
}

/* ---------------------------------------------------------------------
 * Output: octets appended to a window [start, end) of the section
 */

struct emitter {
	const unsigned char *data;
	buf_t *out;
	/* octets of the section produced so far (in or out of window) */
	uint64_t pos;
	uint64_t start, end;
	/* BODY[] literals cannot hold NUL (RFC 3501 §4.3): send 0x80 */
	bool nul_to_80;
};

static bool
emit_done(const struct emitter *e)
{
	return e->pos >= e->end;
}

static void
emit(struct emitter *e, const void *p, size_t len)
{
	uint64_t from = e->pos, to = e->pos + len;

	if (from < e->start)
		from = e->start;
	if (to > e->end)
		to = e->end;
	if (from < to) {
		size_t old_len = e->out->len;
		unsigned char *nul;

		buf_append(e->out, (const unsigned char *)p + (from - e->pos),
			   to - from);
		while (e->nul_to_80 &&
		       (nul = memchr(e->out->data + old_len, '\0',
				     e->out->len - old_len)) != NULL)
			*nul = 0x80;
	}
	e->pos += len;
}

/* data[start..end) of the message with bare LFs made CRLF */
static void
emit_crlf(struct emitter *e, uint64_t start, uint64_t end)
{
	const unsigned char *p = e->data + start, *stop = e->data + end, *lf;

	while (p < stop && !emit_done(e)) {
		lf = memchr(p, '\n', stop - p);
		if (lf == NULL) {
			emit(e, p, stop - p);
			break;
		}
		emit(e, p, lf - p);
		if (lf == e->data || lf[-1] != '\r')
			emit(e, "\r\n", 2);
		else
			emit(e, "\n", 1);
		p = lf + 1;
	}
}

/* one header field, its last line end made CRLF even at the end of
   input */
static void
emit_field(struct emitter *e, const struct mime_field *f)
{
	emit_crlf(e, f->start, f->end);
	if (f->newline_len == 0)
		emit(e, "\r\n", 2);
}

static bool
field_listed(const struct imap_section *section, const struct mime_field *f)
{
	unsigned int i;

	for (i = 0; i < section->field_count; i++) {
		if (mime_field_is(f, section->fields[i]))
			return true;
	}
	return false;
}

/* HEADER.FIELDS / HEADER.FIELDS.NOT of the header block of part */
static void
emit_header_fields(struct emitter *e, const struct imap_section *section,
		   const struct mime_part *part)
{
	bool want_listed = section->kind == IMAP_SECTION_HEADER_FIELDS;
	size_t pos = part->offset, end = part->offset + part->header.physical;
	struct mime_field f;

	while (!emit_done(e) &&
	       mime_header_next_field(e->data, end, &pos, &f)) {
		if (field_listed(section, &f) == want_listed)
			emit_field(e, &f);
	}
	if (part->header_has_eoh)
		emit(e, "\r\n", 2);
}

/* ---------------------------------------------------------------------
 * BINARY
 */

static uint64_t
body_start(const struct mime_part *part)
{
	return part->offset + part->header.physical;
}

static uint64_t
body_end(const struct mime_part *part)
{
	return body_start(part) + part->body.physical;
}

static bool
part_is_leaf(const struct mime_part *part)
{
	return (part->flags & (MIME_PART_FLAG_MULTIPART |
			       MIME_PART_FLAG_MESSAGE_RFC822)) == 0;
}

/* The decoded body of a leaf part; -1 for an unknown encoding. */
static int
emit_leaf_body(struct emitter *e, const struct mime_part *part)
{
	enum mime_encoding enc = mime_encoding_from_name(part->encoding);
	buf_t decoded = BUF_INIT;

	if (enc == MIME_ENCODING_UNKNOWN)
		return -1;
	if (mime_encoding_is_identity(enc)) {
		emit_crlf(e, body_start(part), body_end(part));
		return 0;
	}
	(void)mime_decode(enc, e->data + body_start(part),
			  part->body.physical, &decoded, NULL);
	emit(e, decoded.data, decoded.len);
	buf_deinit(&decoded);
	return 0;
}

/* A decoded leaf part with its header: the Content-Transfer-Encoding
   field says "binary" now (RFC 3516 §4.2). */
static int
emit_converted_leaf(struct emitter *e, const struct mime_part *part)
{
	size_t pos = part->offset, end = part->offset + part->header.physical;
	struct mime_field f;

	while (mime_header_next_field(e->data, end, &pos, &f)) {
		if (!mime_field_is(&f, "Content-Transfer-Encoding"))
			emit_field(e, &f);
	}
	emit(e, "Content-Transfer-Encoding: binary\r\n", 35);
	if (part->header_has_eoh)
		emit(e, "\r\n", 2);
	return emit_leaf_body(e, part);
}

/*
 * data[*cursor..) up to the parts under part that need decoding, each
 * of them converted; *cursor moves past them. -1 on an unknown
 * encoding.
 */
static int
emit_converted_tree(struct emitter *e, const struct mime_part *part,
		    uint64_t *cursor)
{
	const struct mime_part *child;

	if (part_is_leaf(part)) {
		enum mime_encoding enc =
			mime_encoding_from_name(part->encoding);

		if (enc == MIME_ENCODING_UNKNOWN)
			return -1;
		if (mime_encoding_is_identity(enc))
			return 0;
		emit_crlf(e, *cursor, part->offset);
		if (emit_converted_leaf(e, part) < 0)
			return -1;
		*cursor = body_end(part);
		return 0;
	}
	for (child = part->children; child != NULL; child = child->next) {
		if (emit_converted_tree(e, child, cursor) < 0)
			return -1;
	}
	return 0;
}

static int
emit_binary(struct emitter *e, const struct mime_part *part, bool whole)
{
	const struct mime_part *child;
	uint64_t cursor, end;

	if (!whole && part_is_leaf(part))
		return emit_leaf_body(e, part);
	if (whole) {
		cursor = part->offset;
		end = body_end(part);
		if (emit_converted_tree(e, part, &cursor) < 0)
			return -1;
	} else {
		cursor = body_start(part);
		end = body_end(part);
		for (child = part->children; child != NULL;
		     child = child->next) {
			if (emit_converted_tree(e, child, &cursor) < 0)
				return -1;
		}
	}
	emit_crlf(e, cursor, end);
	return 0;
}

/* ---------------------------------------------------------------------
 * Resolving
 */

/* The message whose HEADER/TEXT a section means: the message itself,
   or the one a message/rfc822 part encapsulates. NULL: none. */
static const struct mime_part *
section_message(const struct imap_section *section,
		const struct mime_part *part)
{
	if (section->path_count == 0)
		return part;
	if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) == 0)
		return NULL;
	return part->children;
}

/* The byte range a plain (copyable) section covers, with its sizes. */
static bool
section_range(const struct imap_section *section,
	      const struct mime_part *part, uint64_t *start_r,
	      uint64_t *end_r, uint64_t *vsize_r)
{
	const struct mime_part *msg;

	switch (section->kind) {
	case IMAP_SECTION_ALL:
		if (section->path_count == 0) {
			*start_r = part->offset;
			*vsize_r = part->header.virtual + part->body.virtual;
		} else {
			*start_r = body_start(part);
			*vsize_r = part->body.virtual;
		}
		*end_r = body_end(part);
		return true;
	case IMAP_SECTION_MIME:
		*start_r = part->offset;
		*end_r = body_start(part);
		*vsize_r = part->header.virtual;
		return true;
	case IMAP_SECTION_HEADER:
	case IMAP_SECTION_TEXT:
		if ((msg = section_message(section, part)) == NULL) {
			*start_r = *end_r = *vsize_r = 0;
			return true;
		}
		if (section->kind == IMAP_SECTION_HEADER) {
			*start_r = msg->offset;
			*end_r = body_start(msg);
			*vsize_r = msg->header.virtual;
		} else {
			*start_r = body_start(msg);
			*end_r = body_end(msg);
			*vsize_r = msg->body.virtual;
		}
		return true;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		break;
	}
	return false;
}

static void
partial_window(const struct imap_section *section, uint64_t *start_r,
	       uint64_t *end_r)
{
	*start_r = 0;
	*end_r = UINT64_MAX;
	if (section->partial) {
		*start_r = section->partial_offset;
		*end_r = section->partial_offset + section->partial_size;
	}
}

int
imap_section_fetch(const struct imap_section *section,
		   struct mime_message *msg, const unsigned char *data,
		   size_t size, struct imap_section_result *result_r,
		   const char **error_r)
{
	const struct mime_part *part = msg->root, *hmsg;
	struct emitter e;
	uint64_t start, end, vsize;

	memset(result_r, 0, sizeof(*result_r));
	i_assert(msg->root->offset + msg->root->header.physical +
		 msg->root->body.physical <= size);
	if (section->path_count > 0) {
		part = mime_message_find_part(msg, section->path,
					      section->path_count);
		if (part == NULL)
			return 0;
	}

	memset(&e, 0, sizeof(e));
	e.data = data;
	e.out = &result_r->buf;
	partial_window(section, &e.start, &e.end);

	e.nul_to_80 = section->fetch == IMAP_SECTION_FETCH_BODY;
	if (section->fetch == IMAP_SECTION_FETCH_BODY &&
	    section_range(section, part, &start, &end, &vsize) &&
	    vsize == end - start &&
	    ((msg->root->flags & MIME_PART_FLAG_HAS_NULS) == 0 ||
	     memchr(data + start, '\0', end - start) == NULL)) {
		/* nothing to convert: a slice of the stored message */
		uint64_t from = e.start < vsize ? e.start : vsize;
		uint64_t to = e.end < vsize ? e.end : vsize;

		result_r->is_range = true;
		result_r->offset = start + from;
		result_r->size = to - from;
		return 0;
	}

	if (section->fetch != IMAP_SECTION_FETCH_BODY) {
		if (section->fetch == IMAP_SECTION_FETCH_BINARY_SIZE)
			e.end = UINT64_MAX;
		if (emit_binary(&e, part, section->path_count == 0) < 0) {
			buf_deinit(&result_r->buf);
			*error_r = "UNKNOWN-CTE";
			return -1;
		}
		if (section->fetch == IMAP_SECTION_FETCH_BINARY_SIZE) {
			result_r->size = e.pos;
			buf_deinit(&result_r->buf);
			return 0;
		}
	} else if (section_range(section, part, &start, &end, &vsize)) {
		emit_crlf(&e, start, end);
	} else if ((hmsg = section_message(section, part)) != NULL) {
		emit_header_fields(&e, section, hmsg);
	}
	result_r->size = result_r->buf.len;
	return 0;
}

void
imap_section_result_copy(const struct imap_section_result *result,
			 const unsigned char *data, buf_t *out)
{
	if (result->is_range)
		buf_append(out, data + result->offset, result->size);
	else
		buf_append(out, result->buf.data, result->buf.len);
}

void
imap_section_result_free(struct imap_section_result *result)
{
	buf_deinit(&result->buf);
	memset(result, 0, sizeof(*result));
}
