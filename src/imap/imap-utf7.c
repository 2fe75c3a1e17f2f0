/* SPDX-License-Identifier: MIT */
/*
 * imap-utf7.c: modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable
 * US-ASCII stands for itself except '&', which is written "&-"; any
 * other character goes as UTF-16 in modified base64 (',' for '/', no
 * padding) between '&' and '-'. Decoding is strict, as Dovecot's is: no
 * 8-bit bytes, no printable ASCII inside a shift, no empty shift other
 * than "&-", no unpaired surrogates, no non-zero leftover bits, so every
 * name has exactly one spelling. Part of src/imap; no I/O.
 */
#include "imap-private.h"

#include <string.h>

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	const char *p = c == '\0' ? NULL : strchr(b64chars, c);

	return p == NULL ? -1 : (int)(p - b64chars);
}

static void
append_utf8(buf_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		buf_append_c(out, (char)cp);
	} else if (cp < 0x800) {
		buf_append_c(out, (char)(0xc0 | (cp >> 6)));
		buf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_append_c(out, (char)(0xe0 | (cp >> 12)));
		buf_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_append_c(out, (char)(0xf0 | (cp >> 18)));
		buf_append_c(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decodes one shift "...-" starting after '&'; *pp ends after '-'. */
static int
decode_shift(const char **pp, buf_t *out)
{
	const unsigned char *p = (const unsigned char *)*pp;
	uint32_t bits = 0, high = 0, unit;
	unsigned int nbits = 0, units = 0;
	int v;

	for (; *p != '-'; p++) {
		if ((v = b64_value(*p)) < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		unit = (bits >> nbits) & 0xffff;
		units++;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return -1;
			append_utf8(out, 0x10000 + ((high - 0xd800) << 10) +
				    (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return -1;
		} else if (unit >= 0x20 && unit < 0x7f) {
			/* printable ASCII must not be encoded */
			return -1;
		} else {
			append_utf8(out, unit);
		}
	}
	if (units == 0 || high != 0 || nbits >= 6 ||
	    (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	*pp = (const char *)p + 1;
	return 0;
}

int
imap_utf7_to_utf8(const char *in, buf_t *out)
{
	const char *p = in;

	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f)
			return -1;
		if (c != '&') {
			buf_append_c(out, (char)c);
			p++;
			continue;
		}
		p++;
		if (*p == '-') {
			buf_append_c(out, '&');
			p++;
			continue;
		}
		if (decode_shift(&p, out) < 0)
			return -1;
		/* two shifts in a row would be one */
		if (*p == '&' && p[1] != '-')
			return -1;
	}
	return 0;
}

/* Next code point of UTF-8 text, or -1 when invalid. */
static int32_t
utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	unsigned int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 3;
		cp = p[0] & 0x07;
	} else {
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + n + 1;
	return (int32_t)cp;
}

bool
imap_utf8_valid(const char *in)
{
	const unsigned char *p = (const unsigned char *)in;

	while (*p != '\0') {
		if (utf8_next(&p) < 0)
			return false;
	}
	return true;
}

static void
flush_units(buf_t *out, const uint16_t *units, unsigned int count)
{
	uint32_t bits = 0;
	unsigned int nbits = 0, i;

	buf_append_c(out, '&');
	for (i = 0; i < count; i++) {
		bits = (bits << 16) | units[i];
		nbits += 16;
		while (nbits >= 6) {
			nbits -= 6;
			buf_append_c(out, b64chars[(bits >> nbits) & 0x3f]);
		}
	}
	if (nbits > 0)
		buf_append_c(out, b64chars[(bits << (6 - nbits)) & 0x3f]);
	buf_append_c(out, '-');
}

int
imap_utf8_to_utf7(const char *in, buf_t *out)
{
	const unsigned char *p = (const unsigned char *)in;
	uint16_t units[2 * 256];
	unsigned int count = 0;
	int32_t cp;

	while (*p != '\0') {
		if ((cp = utf8_next(&p)) < 0)
			return -1;
		if (cp >= 0x20 && cp < 0x7f) {
			if (count > 0) {
				flush_units(out, units, count);
				count = 0;
			}
			if (cp == '&')
				buf_append_str(out, "&-");
			else
				buf_append_c(out, (char)cp);
			continue;
		}
		if (count + 2 > N_ELEMENTS(units)) {
			flush_units(out, units, count);
			count = 0;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[count++] = (uint16_t)(0xd800 + (cp >> 10));
			units[count++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
		} else {
			units[count++] = (uint16_t)cp;
		}
	}
	if (count > 0)
		flush_units(out, units, count);
	return 0;
}
