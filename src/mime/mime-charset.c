/* SPDX-License-Identifier: MIT */
/*
 * mime-charset.c: charset conversion to UTF-8 over iconv(3), and UTF-8
 * validation with U+FFFD repair. See mime-charset.h. In mime, above lib.
 */
#include "mime-charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#define REPLACEMENT_LEN (sizeof(MIME_UTF8_REPLACEMENT) - 1)

bool
mime_charset_name_is_valid(const char *name)
{
	static const char extra[] = "!#$%&'+^_`{}~.:-";
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (i >= MIME_CHARSET_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return i > 0;
}

size_t
mime_utf8_char_len(const unsigned char *data, size_t len)
{
	unsigned char c = data[0];
	size_t need, i;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((data[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (data[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode (RFC 3629 §3). */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

void
mime_utf8_sanitize(const unsigned char *data, size_t len, buf_t *out)
{
	size_t i = 0, start = 0, n;

	/* data may be NULL when empty (an empty buf_t): no "data + 0" */
	if (len == 0)
		return;
	while (i < len) {
		if (data[i] < 0x80) {
			i++;
			continue;
		}
		n = mime_utf8_char_len(data + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		buf_append(out, data + start, i - start);
		buf_append(out, MIME_UTF8_REPLACEMENT, REPLACEMENT_LEN);
		start = ++i;
	}
	buf_append(out, data + start, i - start);
}

static bool
charset_is_utf8(const char *charset)
{
	return strcasecmp(charset, "utf-8") == 0 ||
		strcasecmp(charset, "utf8") == 0 ||
		strcasecmp(charset, "us-ascii") == 0 ||
		strcasecmp(charset, "ascii") == 0;
}

/* Runs iconv over all of data, replacing what it cannot convert. */
static void
convert(iconv_t cd, const unsigned char *data, size_t len, buf_t *out)
{
	char *in = (char *)data;
	size_t in_left = len;
	bool flush = false;

	for (;;) {
		size_t room = in_left * 4 + 16;
		char *dst, *dst_start;
		size_t dst_left, ret;

		buf_reserve(out, room);
		dst = dst_start = (char *)out->data + out->len;
		dst_left = room;
		ret = flush ? iconv(cd, NULL, NULL, &dst, &dst_left) :
			iconv(cd, &in, &in_left, &dst, &dst_left);
		out->len += dst - dst_start;
		out->data[out->len] = '\0';
		if (ret != (size_t)-1) {
			if (flush)
				return;
			flush = true;
			continue;
		}
		if (errno == E2BIG)
			continue;
		if (flush)
			return;
		/* EILSEQ: one replacement, skip a byte, go on. EINVAL: the
		   input ends inside a sequence; one replacement for it. */
		buf_append(out, MIME_UTF8_REPLACEMENT, REPLACEMENT_LEN);
		if (in_left == 0 || errno == EINVAL) {
			in_left = 0;
			flush = true;
		} else {
			in++;
			in_left--;
		}
	}
}

int
mime_charset_to_utf8(const char *charset, const unsigned char *data,
		     size_t len, buf_t *out)
{
	iconv_t cd;

	if (!mime_charset_name_is_valid(charset))
		return -1;
	if (charset_is_utf8(charset)) {
		mime_utf8_sanitize(data, len, out);
		return 0;
	}
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -1;
	convert(cd, data, len, out);
	iconv_close(cd);
	return 0;
}
