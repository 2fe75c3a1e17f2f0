/* SPDX-License-Identifier: MIT */
/*
 * mime-decode.c: base64 and quoted-printable decoding, body text to
 * UTF-8; see mime-decode.h.
 */
#include "mime-decode.h"
#include "mime-charset.h"
#include "mime-header.h"
#include "mime-parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum mime_encoding
mime_encoding_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum mime_encoding enc;
	} names[] = {
		{ "7bit", MIME_ENCODING_7BIT },
		{ "8bit", MIME_ENCODING_8BIT },
		{ "binary", MIME_ENCODING_BINARY },
		{ "base64", MIME_ENCODING_BASE64 },
		{ "quoted-printable", MIME_ENCODING_QUOTED_PRINTABLE },
	};
	unsigned int i;

	if (name == NULL)
		return MIME_ENCODING_7BIT;
	for (i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].enc;
	}
	return MIME_ENCODING_UNKNOWN;
}

/* RFC 4648 §4 alphabet; 0xff for other bytes. */
static unsigned char
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return 0xff;
}

/* Writes the n (2..4) sextets of a quantum; fewer than 2 hold no byte. */
static void
base64_flush(const unsigned char *q, unsigned int n, buf_t *out)
{
	unsigned char bytes[3];

	if (n < 2)
		return;
	bytes[0] = (q[0] << 2) | (q[1] >> 4);
	bytes[1] = (q[1] << 4) | (q[2] >> 2);
	bytes[2] = (q[2] << 6) | q[3];
	buf_append(out, bytes, n - 1);
}

/* Index of the last byte that is neither base64 alphabet, padding nor
   white space; -1 when there is none. */
static ssize_t
last_foreign_byte(const unsigned char *data, size_t len)
{
	size_t i;

	for (i = len; i > 0; i--) {
		unsigned char c = data[i - 1];

		if (base64_value(c) == 0xff && c != '=' && c != '\r' &&
		    c != '\n' && c != ' ' && c != '\t')
			return i - 1;
	}
	return -1;
}

void
mime_decode_base64(const unsigned char *data, size_t len, buf_t *out,
		   bool *damaged_r)
{
	unsigned char q[4] = { 0, 0, 0, 0 };
	unsigned int n = 0;
	bool damaged = false;
	ssize_t foreign = last_foreign_byte(data, len);
	size_t i;

	buf_reserve(out, len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		unsigned char v = base64_value(data[i]);

		if (v != 0xff) {
			q[n++] = v;
			if (n == 4) {
				base64_flush(q, 4, out);
				memset(q, 0, sizeof(q));
				n = 0;
			}
			continue;
		}
		if (data[i] == '=') {
			/* RFC 2045 §6.8: padding marks the end of the data.
			   Decoding goes on only when nothing but base64
			   follows (concatenated encodings); text after it
			   (a footer appended in transit) is not data. */
			if (n == 1)
				damaged = true;
			base64_flush(q, n, out);
			memset(q, 0, sizeof(q));
			n = 0;
			if ((ssize_t)i < foreign) {
				damaged = true;
				break;
			}
		} else if (data[i] != '\r' && data[i] != '\n' &&
			   data[i] != ' ' && data[i] != '\t') {
			/* §6.8: characters outside the alphabet are
			   ignored */
			damaged = true;
		}
	}
	if (n > 0) {
		/* unpadded end: decode what there is */
		damaged = true;
		base64_flush(q, n, out);
	}
	if (damaged_r != NULL)
		*damaged_r = damaged;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One line of quoted-printable text, without its line end. Returns
   true when it ends in a soft line break. */
static bool
qp_decode_line(const unsigned char *p, size_t len, buf_t *out,
	       bool *damaged)
{
	size_t i;
	int hi, lo;

	/* rule 3: trailing blanks are transport padding */
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++) {
		if (p[i] != '=') {
			buf_append_c(out, p[i]);
			continue;
		}
		if (i + 1 == len)
			return true;
		if (i + 2 < len && (hi = hex_value(p[i + 1])) >= 0 &&
		    (lo = hex_value(p[i + 2])) >= 0) {
			buf_append_c(out, (char)(hi << 4 | lo));
			i += 2;
			continue;
		}
		/* rule 1 note: keep a stray "=" as it is */
		*damaged = true;
		buf_append_c(out, '=');
	}
	return false;
}

void
mime_decode_qp(const unsigned char *data, size_t len, buf_t *out,
	       bool *damaged_r)
{
	const unsigned char *p = data, *end = data + len, *lf;
	bool damaged = false;

	buf_reserve(out, len);
	while (p < end) {
		size_t line_len;
		bool soft;

		lf = memchr(p, '\n', end - p);
		line_len = (lf == NULL ? end : lf) - p;
		if (lf != NULL && line_len > 0 && p[line_len - 1] == '\r')
			line_len--;
		soft = qp_decode_line(p, line_len, out, &damaged);
		if (lf == NULL)
			break;
		/* rule 4: a hard line break is CRLF */
		if (!soft)
			buf_append(out, "\r\n", 2);
		p = lf + 1;
	}
	if (damaged_r != NULL)
		*damaged_r = damaged;
}

int
mime_decode(enum mime_encoding enc, const unsigned char *data, size_t len,
	    buf_t *out, bool *damaged_r)
{
	if (damaged_r != NULL)
		*damaged_r = false;
	switch (enc) {
	case MIME_ENCODING_7BIT:
	case MIME_ENCODING_8BIT:
	case MIME_ENCODING_BINARY:
		buf_append(out, data, len);
		return 0;
	case MIME_ENCODING_BASE64:
		mime_decode_base64(data, len, out, damaged_r);
		return 0;
	case MIME_ENCODING_QUOTED_PRINTABLE:
		mime_decode_qp(data, len, out, damaged_r);
		return 0;
	case MIME_ENCODING_UNKNOWN:
		break;
	}
	return -1;
}

void
mime_decode_crlf(const unsigned char *data, size_t len, buf_t *out)
{
	const unsigned char *p = data, *end = data + len, *lf;

	buf_reserve(out, len);
	while ((lf = memchr(p, '\n', end - p)) != NULL) {
		buf_append(out, p, lf - p);
		if (lf == data || lf[-1] != '\r')
			buf_append_c(out, '\r');
		buf_append_c(out, '\n');
		p = lf + 1;
	}
	buf_append(out, p, end - p);
}

int
mime_decode_part_text(const struct mime_part *part,
		      const unsigned char *msg_data, buf_t *out)
{
	enum mime_encoding enc = mime_encoding_from_name(part->encoding);
	const unsigned char *body = msg_data + part->offset +
		part->header.physical;
	const char *charset;
	buf_t decoded = BUF_INIT;

	if (enc == MIME_ENCODING_UNKNOWN)
		return -1;
	(void)mime_decode(enc, body, part->body.physical, &decoded, NULL);
	charset = mime_param_get(part->type_params, part->type_params_count,
				 "charset");
	if (charset == NULL ||
	    mime_charset_to_utf8(charset, decoded.data == NULL ?
				 (const unsigned char *)"" : decoded.data,
				 decoded.len, out) < 0) {
		/* RFC 2045 §5.2 default us-ascii; an unknown charset is
		   most often UTF-8 or a superset of ASCII */
		mime_utf8_sanitize(decoded.data == NULL ?
				   (const unsigned char *)"" : decoded.data,
				   decoded.len, out);
	}
	buf_deinit(&decoded);
	return 0;
}

/* RFC 2231 §4: charset'language'%XX-encoded text, to UTF-8. */
static void
param_decode_extended(const char *value, buf_t *out)
{
	const char *quote1 = strchr(value, '\''), *quote2, *p;
	char charset[MIME_CHARSET_NAME_MAX + 1];
	buf_t raw = BUF_INIT;
	int hi, lo;

	quote2 = quote1 == NULL ? NULL : strchr(quote1 + 1, '\'');
	if (quote2 == NULL) {
		/* no charset'language' prefix: take the text as it is */
		mime_utf8_sanitize((const unsigned char *)value,
				   strlen(value), out);
		return;
	}
	for (p = quote2 + 1; *p != '\0'; p++) {
		if (*p == '%' && (hi = hex_value(p[1])) >= 0 &&
		    (lo = hex_value(p[2])) >= 0) {
			buf_append_c(&raw, (char)(hi << 4 | lo));
			p += 2;
		} else {
			buf_append_c(&raw, *p);
		}
	}
	if ((size_t)(quote1 - value) < sizeof(charset))
		i_strlcpy(charset, value, quote1 - value + 1);
	else
		charset[0] = '\0';
	/* an empty or unknown charset: most likely UTF-8 or ASCII */
	if (charset[0] == '\0' ||
	    mime_charset_to_utf8(charset, raw.len == 0 ?
				 (const unsigned char *)"" : raw.data,
				 raw.len, out) < 0) {
		mime_utf8_sanitize(raw.len == 0 ? (const unsigned char *)"" :
				   raw.data, raw.len, out);
	}
	buf_deinit(&raw);
}

int
mime_param_decode(const struct mime_param *params, unsigned int count,
		  const char *name, buf_t *out)
{
	const char *value;
	char *extended;

	extended = i_strdup_printf("%s*", name);
	value = mime_param_get(params, count, extended);
	free(extended);
	if (value != NULL) {
		param_decode_extended(value, out);
		return 1;
	}
	if ((value = mime_param_get(params, count, name)) == NULL)
		return 0;
	mime_header_decode((const unsigned char *)value, strlen(value), out);
	return 1;
}
