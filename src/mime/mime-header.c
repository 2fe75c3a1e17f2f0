/* SPDX-License-Identifier: MIT */
/*
 * mime-header.c: the pull-style RFC 5322 header field parser, unfolding
 * and RFC 2047 encoded-word decoding. See mime-header.h. In mime, above
 * lib; charset conversion comes from mime-charset.c.
 */
#include "mime-header.h"
#include "mime-charset.h"
#include "base64.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIME_HEADER_FIND_CHUNK 4096

/* ------------------------------------------------------------------ */
/* The field parser                                                    */
/* ------------------------------------------------------------------ */

enum parser_state {
	STATE_LINE_START,       /* at a line start, no field pending */
	STATE_LINE_START_CR,    /* saw CR at a line start */
	STATE_NAME,             /* inside a field name */
	STATE_VALUE,            /* inside a field's value */
	STATE_VALUE_EOL,        /* after a LF inside a field */
	STATE_BAD_LINE,         /* skipping to the end of an invalid line */
	STATE_DONE,
};

struct mime_header_parser {
	enum parser_state state;
	buf_t input;            /* fed, not yet parsed */
	uint64_t input_offset;  /* stream offset of input.data[0] */
	bool eof;
	/* The field being assembled. */
	buf_t name;
	buf_t value;
	uint64_t field_offset;
	bool truncated;
	bool emitted;           /* name/value were handed out: reset */
	uint64_t body_offset;
};

struct mime_header_parser *
mime_header_parser_create(void)
{
	struct mime_header_parser *parser = i_malloc(sizeof(*parser));

	parser->state = STATE_LINE_START;
	return parser;
}

void
mime_header_parser_destroy(struct mime_header_parser **_parser)
{
	struct mime_header_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	buf_deinit(&parser->input);
	buf_deinit(&parser->name);
	buf_deinit(&parser->value);
	free(parser);
}

void
mime_header_parser_feed(struct mime_header_parser *parser,
			const unsigned char *data, size_t len)
{
	if (parser->state == STATE_DONE)
		return;
	buf_append(&parser->input, data, len);
}

void
mime_header_parser_feed_eof(struct mime_header_parser *parser)
{
	parser->eof = true;
}

bool
mime_header_parser_done(struct mime_header_parser *parser)
{
	return parser->state == STATE_DONE;
}

uint64_t
mime_header_parser_body_offset(struct mime_header_parser *parser)
{
	return parser->body_offset;
}

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 §3.6.8 ftext: printable US-ASCII except colon. */
static bool
name_is_valid(const buf_t *name)
{
	size_t i;

	if (name->len == 0)
		return false;
	for (i = 0; i < name->len; i++) {
		if (name->data[i] < 33 || name->data[i] > 126)
			return false;
	}
	return true;
}

static void
field_start(struct mime_header_parser *parser, uint64_t offset)
{
	buf_reset(&parser->name);
	buf_reset(&parser->value);
	parser->truncated = false;
	parser->field_offset = offset;
}

static void
value_add(struct mime_header_parser *parser, unsigned char c)
{
	if (parser->value.len < MIME_HEADER_FIELD_MAX)
		buf_append_c(&parser->value, (char)c);
	else
		parser->truncated = true;
}

/* Hands out the assembled field, which ended at stream offset end. */
static void
field_emit(struct mime_header_parser *parser, uint64_t end,
	   struct mime_header_field *field_r)
{
	buf_t *value = &parser->value;

	/* Drop the final line end; a cut value may have lost it already. */
	if (value->len > 0 && value->data[value->len - 1] == '\n')
		value->len--;
	if (value->len > 0 && value->data[value->len - 1] == '\r')
		value->len--;
	buf_truncate(value, value->len);

	memset(field_r, 0, sizeof(*field_r));
	field_r->name = buf_cstr(&parser->name);
	field_r->value = (const unsigned char *)buf_cstr(value);
	field_r->value_len = value->len;
	field_r->offset = parser->field_offset;
	field_r->size = end - parser->field_offset;
	field_r->truncated = parser->truncated;
	parser->emitted = true;
}

/* At ':' ending a name: trims trailing blanks; false when invalid. */
static bool
name_finish(struct mime_header_parser *parser)
{
	buf_t *name = &parser->name;

	while (name->len > 0 && is_blank(name->data[name->len - 1]))
		name->len--;
	buf_truncate(name, name->len);
	return name_is_valid(name);
}

/*
 * Feeds one byte at stream offset `offset` to the state machine. Returns
 * true when a field was completed by this byte; the byte then was NOT
 * consumed and must be fed again.
 */
static bool
parse_byte(struct mime_header_parser *parser, unsigned char c,
	   uint64_t offset, struct mime_header_field *field_r)
{
	switch (parser->state) {
	case STATE_LINE_START:
		if (c == '\n') {
			parser->state = STATE_DONE;
			parser->body_offset = offset + 1;
		} else if (c == '\r') {
			parser->state = STATE_LINE_START_CR;
		} else if (is_blank(c) || c == ':') {
			/* Continuation of nothing, or an empty name. */
			parser->state = STATE_BAD_LINE;
		} else {
			field_start(parser, offset);
			buf_append_c(&parser->name, (char)c);
			parser->state = STATE_NAME;
		}
		break;
	case STATE_LINE_START_CR:
		if (c == '\n') {
			parser->state = STATE_DONE;
			parser->body_offset = offset + 1;
		} else {
			parser->state = STATE_BAD_LINE;
		}
		break;
	case STATE_NAME:
		if (c == '\n') {
			parser->state = STATE_LINE_START;
		} else if (c == ':') {
			parser->state = name_finish(parser) ?
				STATE_VALUE : STATE_BAD_LINE;
		} else if (parser->name.len >= MIME_HEADER_NAME_MAX) {
			parser->state = STATE_BAD_LINE;
		} else {
			buf_append_c(&parser->name, (char)c);
		}
		break;
	case STATE_VALUE:
		value_add(parser, c);
		if (c == '\n')
			parser->state = STATE_VALUE_EOL;
		break;
	case STATE_VALUE_EOL:
		if (is_blank(c)) {
			value_add(parser, c);
			parser->state = STATE_VALUE;
			break;
		}
		field_emit(parser, offset, field_r);
		parser->state = STATE_LINE_START;
		return true;
	case STATE_BAD_LINE:
		if (c == '\n')
			parser->state = STATE_LINE_START;
		break;
	case STATE_DONE:
		i_panic("mime header parser: byte after the header's end");
	}
	return false;
}

/* The input ran out for good: completes whatever is pending. */
static int
parse_eof(struct mime_header_parser *parser, uint64_t end,
	  struct mime_header_field *field_r)
{
	enum parser_state state = parser->state;

	parser->state = STATE_DONE;
	parser->body_offset = end;
	if (state == STATE_VALUE || state == STATE_VALUE_EOL) {
		field_emit(parser, end, field_r);
		return 1;
	}
	return 0;
}

int
mime_header_parser_next(struct mime_header_parser *parser,
			struct mime_header_field *field_r)
{
	size_t pos = 0;
	int ret = 0;

	if (parser->emitted) {
		buf_reset(&parser->name);
		buf_reset(&parser->value);
		parser->emitted = false;
	}
	while (parser->state != STATE_DONE && pos < parser->input.len) {
		if (parse_byte(parser, parser->input.data[pos],
			       parser->input_offset + pos, field_r)) {
			ret = 1;
			break;
		}
		pos++;
	}
	if (parser->state == STATE_DONE) {
		/* The rest is body: not ours to keep. */
		pos = parser->input.len;
	}
	parser->input_offset += pos;
	if (pos > 0)
		buf_consume(&parser->input, pos);
	if (ret == 0 && parser->eof && parser->state != STATE_DONE)
		ret = parse_eof(parser, parser->input_offset, field_r);
	return ret;
}

int
mime_header_find(const unsigned char *data, size_t len, const char *name,
		 buf_t *value_r)
{
	struct mime_header_parser *parser = mime_header_parser_create();
	struct mime_header_field field;
	size_t fed = 0, n;
	int ret = 0;

	/* Fed in pieces: the parser copies its input, and the body of a
	   big message is none of its business. */
	while (ret == 0 && !mime_header_parser_done(parser)) {
		if (mime_header_parser_next(parser, &field) > 0) {
			if (strcasecmp(field.name, name) != 0)
				continue;
			if (value_r != NULL)
				buf_append(value_r, field.value,
					   field.value_len);
			ret = 1;
		} else if (fed == len) {
			mime_header_parser_feed_eof(parser);
		} else {
			n = len - fed < MIME_HEADER_FIND_CHUNK ?
				len - fed : MIME_HEADER_FIND_CHUNK;
			mime_header_parser_feed(parser, data + fed, n);
			fed += n;
		}
	}
	mime_header_parser_destroy(&parser);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Unfolding                                                           */
/* ------------------------------------------------------------------ */

void
mime_header_unfold(const unsigned char *value, size_t len, buf_t *out)
{
	size_t start = out->len, i;

	while (len > 0 && (is_blank(value[0]) || value[0] == '\r' ||
			   value[0] == '\n')) {
		value++;
		len--;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = value[i];

		if (c == '\r' && i + 1 < len && value[i + 1] == '\n')
			continue;
		if (c == '\n' && i + 1 < len && is_blank(value[i + 1]))
			continue;
		if (c == '\r' || c == '\n')
			c = ' ';
		buf_append_c(out, (char)c);
	}
	while (out->len > start && is_blank(out->data[out->len - 1]))
		out->len--;
	buf_truncate(out, out->len);
}

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded-words                                              */
/* ------------------------------------------------------------------ */

struct encoded_word {
	char charset[MIME_CHARSET_NAME_MAX + 1];
	char encoding;          /* 'B' or 'Q' */
	const unsigned char *text;
	size_t text_len;
	size_t len;             /* of the whole "=?...?=" */
};

/*
 * Parses "=?charset[*lang]?B|Q?text?=" at the start of data. Returns
 * true with *word_r filled, false when it is not a well-formed word.
 */
static bool
encoded_word_parse(const unsigned char *data, size_t len,
		   struct encoded_word *word_r)
{
	size_t i, cs_len, lang_at = 0, text_start;

	if (len > MIME_ENCODED_WORD_MAX)
		len = MIME_ENCODED_WORD_MAX;
	if (len < 8 || data[0] != '=' || data[1] != '?')
		return false;
	for (i = 2; i < len && data[i] != '?'; i++) {
		if (data[i] == '*' && lang_at == 0)
			lang_at = i;
	}
	cs_len = (lang_at != 0 ? lang_at : i) - 2;
	if (i + 3 >= len || cs_len == 0 || cs_len > MIME_CHARSET_NAME_MAX)
		return false;
	memcpy(word_r->charset, data + 2, cs_len);
	word_r->charset[cs_len] = '\0';
	if (!mime_charset_name_is_valid(word_r->charset))
		return false;
	word_r->encoding = (char)(data[i + 1] & ~0x20);
	if ((word_r->encoding != 'B' && word_r->encoding != 'Q') ||
	    data[i + 2] != '?')
		return false;
	text_start = i + 3;
	for (i = text_start; i < len && data[i] != '?'; i++) {
		if (data[i] <= ' ' || data[i] >= 0x7f)
			return false;
	}
	if (i + 1 >= len || data[i + 1] != '=')
		return false;
	word_r->text = data + text_start;
	word_r->text_len = i - text_start;
	word_r->len = i + 2;
	return true;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2047 §4.2: "_" is a space, "=XX" a byte; lenient on bad escapes. */
static void
q_decode(const unsigned char *text, size_t len, buf_t *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (text[i] == '_') {
			buf_append_c(out, ' ');
		} else if (text[i] == '=' && i + 2 < len &&
			   (hi = hex_value(text[i + 1])) >= 0 &&
			   (lo = hex_value(text[i + 2])) >= 0) {
			buf_append_c(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_append_c(out, (char)text[i]);
		}
	}
}

/* Base64 text of a word; missing padding is forgiven. */
static int
b_decode(const unsigned char *text, size_t len, buf_t *out)
{
	buf_t padded = BUF_INIT;
	int ret;

	buf_append(&padded, text, len);
	while (padded.len % 4 != 0)
		buf_append_c(&padded, '=');
	ret = base64_decode(out, (const char *)padded.data, padded.len);
	buf_deinit(&padded);
	return ret;
}

/* Adjacent encoded-words of one charset, decoded but not converted. */
struct word_run {
	char charset[MIME_CHARSET_NAME_MAX + 1];
	buf_t bytes;
	const unsigned char *raw;       /* as written, for unknown charsets */
	size_t raw_len;
};

static void
run_flush(struct word_run *run, buf_t *out)
{
	if (run->raw == NULL)
		return;
	if (mime_charset_to_utf8(run->charset, run->bytes.data,
				 run->bytes.len, out) < 0)
		mime_utf8_sanitize(run->raw, run->raw_len, out);
	buf_reset(&run->bytes);
	run->raw = NULL;
	run->raw_len = 0;
}

/* Adds a decoded word at raw position p; false when it does not decode. */
static bool
run_add(struct word_run *run, const struct encoded_word *word,
	const unsigned char *p, buf_t *out)
{
	buf_t bytes = BUF_INIT;
	bool ok = true;

	if (word->encoding == 'Q')
		q_decode(word->text, word->text_len, &bytes);
	else
		ok = b_decode(word->text, word->text_len, &bytes) == 0;
	if (ok) {
		if (run->raw != NULL &&
		    strcasecmp(run->charset, word->charset) != 0)
			run_flush(run, out);
		if (run->raw == NULL) {
			memcpy(run->charset, word->charset,
			       sizeof(run->charset));
			run->raw = p;
		}
		buf_append(&run->bytes, bytes.data, bytes.len);
		run->raw_len = (size_t)(p + word->len - run->raw);
	}
	buf_deinit(&bytes);
	return ok;
}

/* Decodes an already unfolded value. */
static void
decode_unfolded(const unsigned char *v, size_t len, buf_t *out)
{
	struct word_run run;
	struct encoded_word word, next;
	size_t i = 0, j, start;

	memset(&run, 0, sizeof(run));
	while (i < len) {
		if (encoded_word_parse(v + i, len - i, &word) &&
		    run_add(&run, &word, v + i, out)) {
			i += word.len;
			/* §6.2: blanks between two encoded-words vanish. */
			for (j = i; j < len && is_blank(v[j]); j++)
				;
			if (j > i && encoded_word_parse(v + j, len - j, &next))
				i = j;
			continue;
		}
		run_flush(&run, out);
		start = i++;
		while (i < len && !(v[i] == '=' && i + 1 < len &&
				    v[i + 1] == '?'))
			i++;
		mime_utf8_sanitize(v + start, i - start, out);
	}
	run_flush(&run, out);
	buf_deinit(&run.bytes);
}

void
mime_header_decode(const unsigned char *value, size_t len, buf_t *out)
{
	buf_t unfolded = BUF_INIT;

	mime_header_unfold(value, len, &unfolded);
	decode_unfolded(unfolded.data, unfolded.len, out);
	buf_deinit(&unfolded);
}
