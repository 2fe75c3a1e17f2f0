/* SPDX-License-Identifier: MIT */
/* mime-binary.c: see mime-binary.h. */
#include "mime-binary.h"
#include "base64.h"
#include "mime-parser.h"

#include <string.h>
#include <strings.h>

struct convert {
	const unsigned char *data;
	size_t size;
	/* data[0..pos) has been written */
	size_t pos;
	buf_t *out;
	const char *error;
};

static bool
is_bare_lf(const unsigned char *data, size_t i)
{
	return data[i] == '\n' && (i == 0 || data[i - 1] != '\r');
}

static bool
has_bare_lf(const unsigned char *data, size_t start, size_t end)
{
	const unsigned char *lf;

	while (start < end &&
	       (lf = memchr(data + start, '\n', end - start)) != NULL) {
		if (is_bare_lf(data, lf - data))
			return true;
		start = lf - data + 1;
	}
	return false;
}

/* Writes data[pos..end) with bare LFs made CRLF; a NUL byte there
   cannot be stored. */
static void
copy_text(struct convert *c, size_t end)
{
	const unsigned char *lf;
	size_t start = c->pos;

	if (c->error != NULL)
		return;
	if (memchr(c->data + start, '\0', end - start) != NULL) {
		c->error = "NUL byte in a message header or in an encoded "
			"body part.";
		return;
	}
	while ((lf = memchr(c->data + start, '\n', end - start)) != NULL) {
		size_t i = lf - c->data;

		buf_append(c->out, c->data + start, i - start);
		if (is_bare_lf(c->data, i))
			buf_append(c->out, "\r", 1);
		buf_append(c->out, "\n", 1);
		start = i + 1;
	}
	buf_append(c->out, c->data + start, end - start);
	c->pos = end;
}

/* The first token of a Content-Transfer-Encoding value v[0..len) is
   name? */
static bool
encoding_is(const char *v, size_t len, const char *name)
{
	size_t n = strlen(name);

	while (len > 0 && (*v == ' ' || *v == '\t' || *v == '\r' ||
			   *v == '\n')) {
		v++;
		len--;
	}
	return len >= n && strncasecmp(v, name, n) == 0 &&
		(len == n || strchr(" \t\r\n(;", v[n]) != NULL);
}

/* The part's Content-Transfer-Encoding. A part that is not MIME has
   none for the parser, but a "binary" written there still tells how the
   sender meant its bytes (Dovecot reads it the same way). */
static const char *
part_encoding(const struct convert *c, const struct mime_part *part)
{
	struct mime_field f;
	size_t pos = 0;

	if ((part->flags & MIME_PART_FLAG_IS_MIME) != 0)
		return part->encoding;
	while (mime_header_next_field(c->data + part->offset,
				      part->header.physical, &pos, &f)) {
		if (mime_field_is(&f, "Content-Transfer-Encoding"))
			return encoding_is((const char *)f.value, f.value_len,
					   "binary") ? "binary" : NULL;
	}
	return NULL;
}

/* Does the leaf part's body need base64 to be stored? *text_r: it is
   text whose line ends are made CRLF before encoding (7bit, 8bit, none:
   RFC 2045 §2.7-2.8 lines), not bytes kept as they are (binary). */
static bool
needs_base64(const struct convert *c, const struct mime_part *part,
	     size_t start, size_t end, bool *text_r)
{
	const char *enc = part_encoding(c, part);
	bool nul = memchr(c->data + start, '\0', end - start) != NULL;

	*text_r = false;
	if (enc == NULL || encoding_is(enc, strlen(enc), "7bit") ||
	    encoding_is(enc, strlen(enc), "8bit")) {
		*text_r = true;
		return nul;
	}
	if (encoding_is(enc, strlen(enc), "binary"))
		return nul || has_bare_lf(c->data, start, end);
	return false;
}

/* The header block data[start..end) of a part about to be base64'd:
   its Content-Transfer-Encoding fields replaced by ours. */
static void
write_header(struct convert *c, const struct mime_part *part, size_t start,
	     size_t end)
{
	struct mime_field f;
	size_t pos = 0;

	if (memchr(c->data + start, '\0', end - start) != NULL) {
		c->error = "NUL byte in a message header.";
		return;
	}
	while (mime_header_next_field(c->data + start, end - start, &pos,
				      &f)) {
		if (mime_field_is(&f, "Content-Transfer-Encoding"))
			continue;
		c->pos = start + f.start;
		copy_text(c, start + f.end);
		if (f.newline_len == 0)
			buf_append(c->out, "\r\n", 2);
	}
	if ((part->flags & MIME_PART_FLAG_IS_MIME) == 0)
		buf_append_str(c->out, "MIME-Version: 1.0\r\n");
	buf_append_str(c->out, "Content-Transfer-Encoding: base64\r\n");
	/* the empty line */
	c->pos = start + pos;
	copy_text(c, end);
	if (!part->header_has_eoh)
		buf_append(c->out, "\r\n", 2);
}

static void
write_base64(struct convert *c, size_t start, size_t end, bool text)
{
	buf_t enc = BUF_INIT, lines = BUF_INIT;
	size_t i, n;

	if (text) {
		/* like copy_text, but NULs are data here; whether a LF
		   is bare is judged in the whole message, as copy_text
		   does */
		for (i = n = start; i < end; i++) {
			if (is_bare_lf(c->data, i)) {
				buf_append(&lines, c->data + n, i - n);
				buf_append(&lines, "\r", 1);
				n = i;
			}
		}
		buf_append(&lines, c->data + n, end - n);
		base64_encode(&enc, lines.data, lines.len);
		buf_deinit(&lines);
	} else {
		base64_encode(&enc, c->data + start, end - start);
	}
	/* RFC 2045 §6.8: lines of at most 76 characters; the line end
	   before a following delimiter belongs to the delimiter */
	for (i = 0; i < enc.len; i += n) {
		n = enc.len - i < MIME_BINARY_BASE64_LINE ?
			enc.len - i : MIME_BINARY_BASE64_LINE;
		if (i > 0)
			buf_append(c->out, "\r\n", 2);
		buf_append(c->out, enc.data + i, n);
	}
	buf_deinit(&enc);
	c->pos = end;
}

static void
convert_part(struct convert *c, const struct mime_part *part)
{
	const struct mime_part *child;
	size_t hstart = part->offset;
	size_t bstart = hstart + part->header.physical;
	size_t bend = bstart + part->body.physical;
	bool text;

	if (c->error != NULL)
		return;
	if (part->children != NULL) {
		for (child = part->children; child != NULL;
		     child = child->next)
			convert_part(c, child);
		return;
	}
	if (!needs_base64(c, part, bstart, bend, &text))
		return;
	/* everything before the header as text */
	copy_text(c, hstart);
	write_header(c, part, hstart, bstart);
	if (c->error == NULL)
		write_base64(c, bstart, bend, text);
}

int
mime_binary_convert(const unsigned char *data, size_t size, buf_t *out,
		    const char **error_r)
{
	struct mime_message *msg;
	struct convert c;
	size_t old_len = out->len;

	if (memchr(data, '\0', size) == NULL && !has_bare_lf(data, 0, size))
		return 0;
	memset(&c, 0, sizeof(c));
	c.data = data;
	c.size = size;
	c.out = out;
	msg = mime_message_parse(data, size);
	convert_part(&c, msg->root);
	copy_text(&c, size);
	mime_message_free(&msg);
	if (c.error != NULL) {
		buf_truncate(out, old_len);
		*error_r = c.error;
		return -1;
	}
	return 1;
}
