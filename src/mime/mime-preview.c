/* SPDX-License-Identifier: MIT */
/*
 * mime-preview.c: RFC 8970 message previews. See mime-preview.h. In
 * mime, above lib; uses the MIME tree of mime-parser and the decoders
 * of mime-decode.
 */
#include "mime-preview.h"
#include "mime-charset.h"
#include "mime-decode.h"
#include "mime-parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest entity name or number looked at ("&thetasym;" is 10). */
#define ENTITY_MAX 12

/* ---- choosing the part ---- */

static bool
part_is_attachment(const struct mime_part *part)
{
	return part->disposition != NULL &&
		strncasecmp(part->disposition, "attachment", 10) == 0;
}

/* The first text/plain or text/html leaf, depth first; *html_r tells
   which. A part without Content-Type is text/plain (RFC 2045 §5.2). */
static const struct mime_part *
find_text_part(const struct mime_part *part, bool *html_r)
{
	const struct mime_part *child, *found;

	if (part->children != NULL) {
		for (child = part->children; child != NULL;
		     child = child->next) {
			if ((found = find_text_part(child, html_r)) != NULL)
				return found;
		}
		return NULL;
	}
	if (part_is_attachment(part))
		return NULL;
	if (part->type == NULL) {
		*html_r = false;
		return part;
	}
	if (strcasecmp(part->type, "text") != 0 || part->subtype == NULL)
		return NULL;
	if (strcasecmp(part->subtype, "plain") == 0) {
		*html_r = false;
		return part;
	}
	if (strcasecmp(part->subtype, "html") == 0) {
		*html_r = true;
		return part;
	}
	return NULL;
}

/* ---- HTML ---- */

static const struct {
	const char *name;
	const char *utf8;
} entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "hellip", "\xe2\x80\xa6" },
	{ "mdash", "\xe2\x80\x94" }, { "ndash", "\xe2\x80\x93" },
	{ "euro", "\xe2\x82\xac" }, { "rsquo", "\xe2\x80\x99" },
	{ "lsquo", "\xe2\x80\x98" }, { "rdquo", "\xe2\x80\x9d" },
	{ "ldquo", "\xe2\x80\x9c" },
};

/* HTML 4's ISO 8859-1 entities, U+00A0 to U+00FF in order. */
static const char *const latin1_entities[] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
	"uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
	"deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34",
	"iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring",
	"AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave",
	"Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
	"Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute",
	"Ucirc", "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute",
	"acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave",
	"eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml",
	"eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml",
	"divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute",
	"thorn", "yuml",
};

static void
append_code_point(buf_t *out, unsigned long cp)
{
	unsigned char enc[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		buf_append_str(out, MIME_UTF8_REPLACEMENT);
		return;
	}
	if (cp < 0x80) {
		enc[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		enc[0] = 0xc0 | (cp >> 6);
		enc[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		enc[0] = 0xe0 | (cp >> 12);
		enc[1] = 0x80 | ((cp >> 6) & 0x3f);
		enc[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		enc[0] = 0xf0 | (cp >> 18);
		enc[1] = 0x80 | ((cp >> 12) & 0x3f);
		enc[2] = 0x80 | ((cp >> 6) & 0x3f);
		enc[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	buf_append(out, enc, n);
}

/* An entity at p[0] == '&': appends what it stands for and returns the
   bytes it took, or 0 when it is none we know (the '&' is then text). */
static size_t
decode_entity(const unsigned char *p, size_t len, buf_t *out)
{
	char name[ENTITY_MAX + 1];
	size_t i;
	unsigned int j;
	char *end;
	unsigned long cp;

	for (i = 1; i < len && i <= ENTITY_MAX && p[i] != ';'; i++)
		name[i - 1] = (char)p[i];
	if (i >= len || p[i] != ';' || i == 1)
		return 0;
	name[i - 1] = '\0';
	if (name[0] == '#') {
		bool hex = name[1] == 'x' || name[1] == 'X';

		if (name[hex ? 2 : 1] == '\0')
			return 0;
		cp = strtoul(name + (hex ? 2 : 1), &end, hex ? 16 : 10);
		if (*end != '\0')
			return 0;
		append_code_point(out, cp);
		return i + 1;
	}
	for (j = 0; j < N_ELEMENTS(entities); j++) {
		if (strcmp(name, entities[j].name) == 0) {
			buf_append_str(out, entities[j].utf8);
			return i + 1;
		}
	}
	for (j = 0; j < N_ELEMENTS(latin1_entities); j++) {
		if (strcmp(name, latin1_entities[j]) == 0) {
			append_code_point(out, 0xa0 + j);
			return i + 1;
		}
	}
	return 0;
}

/* True when the tag at p (after '<', '/' skipped) is name, a whole
   word. */
static bool
tag_is(const unsigned char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp((const char *)p, name, n) == 0 &&
		(p[n] == '>' || p[n] == ' ' || p[n] == '\t' ||
		 p[n] == '\r' || p[n] == '\n' || p[n] == '/');
}

/* Where what starts after the tag at html[i] == '<' (past "-->" of a
   comment, past "</script>" for <script> and <style>); *space_r when
   the tag separates words (any but a few inline ones). */
static size_t
skip_tag(const unsigned char *html, size_t len, size_t i, bool *space_r)
{
	static const char *const inline_tags[] = {
		"b", "i", "u", "em", "strong", "span", "a", "font", "small",
		"big", "sub", "sup", "code", "tt", "s", "strike",
	};
	const unsigned char *p = html + i + 1, *end;
	size_t rest = len - i - 1;
	unsigned int j;
	const char *close = NULL;

	*space_r = false;
	if (rest == 0)
		return len;     /* a '<' that ends the text */
	if (rest >= 3 && memcmp(p, "!--", 3) == 0) {
		end = memmem(p + 3, rest - 3, "-->", 3);
		return end == NULL ? len : (size_t)(end - html) + 3;
	}
	if (tag_is(p, rest, "script"))
		close = "</script";
	else if (tag_is(p, rest, "style"))
		close = "</style";
	*space_r = true;
	if (close != NULL) {
		size_t k, n = strlen(close);

		for (k = i + 1; k + n <= len; k++) {
			if (strncasecmp((const char *)html + k, close, n) == 0)
				break;
		}
		if (k + n > len)
			return len;     /* never closed: all of it is code */
		i = k;
	}
	if (*p == '/') {
		p++;
		rest--;
	}
	for (j = 0; j < N_ELEMENTS(inline_tags); j++) {
		if (tag_is(p, rest, inline_tags[j]))
			*space_r = false;
	}
	end = memchr(html + i, '>', len - i);
	return end == NULL ? len : (size_t)(end - html) + 1;
}

void
mime_preview_html_to_text(const unsigned char *html, size_t len,
			  buf_t *out)
{
	size_t i = 0, n;
	bool space;

	while (i < len) {
		if (html[i] == '<') {
			i = skip_tag(html, len, i, &space);
			if (space)
				buf_append_c(out, ' ');
		} else if (html[i] == '&' &&
			   (n = decode_entity(html + i, len - i, out)) > 0) {
			i += n;
		} else {
			buf_append_c(out, (char)html[i++]);
		}
	}
}

/* ---- the preview ---- */

/* Appends at most MIME_PREVIEW_CHARS characters of UTF-8 text with
   white space and control characters made single spaces, trimmed. */
static void
append_collapsed(const unsigned char *text, size_t len, buf_t *out)
{
	size_t i = 0, n, start = out->len;
	unsigned int chars = 0;
	bool pending_space = false;

	while (i < len && chars < MIME_PREVIEW_CHARS) {
		unsigned char c = text[i];

		if (c < 0x20 || c == ' ' || c == 0x7f) {
			pending_space = out->len > start;
			i++;
			continue;
		}
		n = c < 0x80 ? 1 : mime_utf8_char_len(text + i, len - i);
		if (n == 0) {
			i++;    /* sanitised already; cannot happen */
			continue;
		}
		/* U+00A0 NO-BREAK SPACE (from &nbsp; or the text) */
		if (n == 2 && c == 0xc2 && text[i + 1] == 0xa0) {
			pending_space = out->len > start;
			i += 2;
			continue;
		}
		if (pending_space) {
			/* no trailing space at the limit */
			if (chars + 1 >= MIME_PREVIEW_CHARS)
				break;
			buf_append_c(out, ' ');
			chars++;
			pending_space = false;
		}
		buf_append(out, text + i, n);
		chars++;
		i += n;
	}
}

void
mime_preview_append(const struct mime_message *mime,
		    const unsigned char *data, buf_t *out)
{
	const struct mime_part *part;
	buf_t text = BUF_INIT, plain = BUF_INIT;
	bool html = false;

	part = find_text_part(mime->root, &html);
	if (part == NULL || mime_decode_part_text(part, data, &text) < 0) {
		buf_deinit(&text);
		return;
	}
	if (text.len > MIME_PREVIEW_INPUT_MAX)
		buf_truncate(&text, MIME_PREVIEW_INPUT_MAX);
	if (html) {
		mime_preview_html_to_text(text.data, text.len, &plain);
		buf_reset(&text);
		/* entities may have made invalid code points */
		mime_utf8_sanitize(plain.data, plain.len, &text);
	}
	append_collapsed(text.data, text.len, out);
	buf_deinit(&text);
	buf_deinit(&plain);
}
