/* SPDX-License-Identifier: MIT */
/*
 * imap-quote.c: IMAP quoted strings and literals; see imap-quote.h.
 */
#include "imap-quote.h"
#include "mime-charset.h"

#include <string.h>

/* Can s[0..len) go inside a quoted string (after escaping)? */
static bool
can_quote(const unsigned char *s, size_t len, enum imap_quote_flags flags)
{
	unsigned int escapes = 0;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (s[i] == '"' || s[i] == '\\') {
			if (++escapes > IMAP_QUOTE_MAX_ESCAPES)
				return false;
		} else if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			return false;
		} else if (s[i] >= 0x80) {
			if ((flags & IMAP_QUOTE_FLAG_UTF8) == 0 ||
			    (n = mime_utf8_char_len(s + i, len - i)) == 0)
				return false;
		}
	}
	return true;
}

static void
append_data(buf_t *out, const unsigned char *s, size_t len,
	    enum imap_quote_flags flags)
{
	size_t i;

	if (!can_quote(s, len, flags)) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_append_c(out, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_c(out, '\\');
		buf_append_c(out, s[i]);
	}
	buf_append_c(out, '"');
}

void
imap_append_nstring(buf_t *out, const char *s, enum imap_quote_flags flags)
{
	if (s == NULL)
		buf_append_str(out, "NIL");
	else
		append_data(out, (const unsigned char *)s, strlen(s), flags);
}

void
imap_append_nstring_nolf(buf_t *out, const char *s,
			 enum imap_quote_flags flags)
{
	buf_t tmp = BUF_INIT;
	size_t i;

	if (s == NULL || strpbrk(s, "\r\n") == NULL) {
		imap_append_nstring(out, s, flags);
		return;
	}
	for (i = 0; s[i] != '\0'; i++) {
		char next = s[i + 1];

		if (s[i] != '\r' && s[i] != '\n')
			buf_append_c(&tmp, s[i]);
		else if (next != ' ' && next != '\t' && next != '\r' &&
			 next != '\n' && next != '\0')
			buf_append_c(&tmp, ' ');
	}
	append_data(out, tmp.len == 0 ? (const unsigned char *)"" : tmp.data,
		    tmp.len, flags);
	buf_deinit(&tmp);
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
imap_append_string_for_humans(buf_t *out, const char *str,
			      enum imap_quote_flags flags)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i;
	bool last_space = true, specials = false;
	buf_t tmp = BUF_INIT;


	/* runs of white space become one space, none at either end;
	   HTAB, CR and LF count as changes like escapes and 8-bit do */
	for (i = 0; i < len; i++) {
		if (is_space(s[i])) {
			if (!last_space)
				buf_append_c(&tmp, ' ');
			if (s[i] != ' ')
				specials = true;
			last_space = true;
			continue;
		}
		if (s[i] == '"' || s[i] == '\\' || s[i] >= 0x80)
			specials = true;
		buf_append_c(&tmp, s[i]);
		last_space = false;
	}
	if (last_space && tmp.len > 0)
		buf_truncate(&tmp, tmp.len - 1);

	if (tmp.len == len && !specials) {
		/* unchanged and nothing to escape */
		buf_append_c(out, '"');
		buf_append(out, s, len);
		buf_append_c(out, '"');
	} else if (tmp.len == 0) {
		buf_append_str(out, "\"\"");
	} else if ((flags & IMAP_QUOTE_FLAG_UTF8) != 0) {
		append_data(out, tmp.data, tmp.len, flags);
	} else {
		buf_printf(out, "{%zu}\r\n", tmp.len);
		buf_append(out, tmp.data, tmp.len);
	}
	buf_deinit(&tmp);
}
