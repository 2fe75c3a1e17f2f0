/* SPDX-License-Identifier: MIT */
/*
 * base64.c: base64 encode/decode over buf_t (see base64.h). OpenSSL does
 * the bit work; this file validates the input strictly (whitespace aside),
 * feeds EVP in int-sized chunks and drops the padding bytes that
 * EVP_DecodeBlock includes in its result. Part of lib.
 */
#include "base64.h"

#include <openssl/evp.h>

/* Chunk sizes that keep EVP's int arguments small; both multiples of the
   3-byte / 4-char group. */
#define BASE64_ENC_CHUNK (3 * 16384)
#define BASE64_DEC_CHUNK (4 * 16384)

void
base64_encode(buf_t *out, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t n = len < BASE64_ENC_CHUNK ? len : BASE64_ENC_CHUNK;
		size_t olen = (n + 2) / 3 * 4;
		int ret;

		/* EVP_EncodeBlock writes a NUL after the text: reserve it. */
		buf_reserve(out, olen + 1);
		ret = EVP_EncodeBlock(out->data + out->len, p, (int)n);
		i_assert(ret == (int)olen);
		out->len += olen;
		out->data[out->len] = '\0';
		p += n;
		len -= n;
	}
}

static bool
is_b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

static bool
is_b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Copies the non-whitespace characters of text into clean and checks the
   alphabet and the padding. Returns the number of '=' (0..2) or -1. */
static int
base64_clean(buf_t *clean, const char *text, size_t len)
{
	size_t i;
	int pad = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (is_b64_space(c))
			continue;
		if (c == '=') {
			if (++pad > 2)
				return -1;
		} else if (!is_b64_char(c) || pad > 0) {
			/* bad character, or data after padding */
			return -1;
		}
		buf_append_c(clean, (char)c);
	}
	if (clean->len % 4 != 0)
		return -1;
	return pad;
}

int
base64_decode(buf_t *out, const char *text, size_t len)
{
	buf_t clean = BUF_INIT;
	size_t old_len = out->len;
	size_t pos;
	int pad, ret = -1;

	if ((pad = base64_clean(&clean, text, len)) < 0)
		goto out;
	for (pos = 0; pos < clean.len;) {
		size_t n = clean.len - pos;
		int dlen;

		if (n > BASE64_DEC_CHUNK)
			n = BASE64_DEC_CHUNK;
		buf_reserve(out, n / 4 * 3);
		dlen = EVP_DecodeBlock(out->data + out->len,
				       clean.data + pos, (int)n);
		if (dlen < 0 || (size_t)dlen != n / 4 * 3)
			goto out;
		out->len += (size_t)dlen;
		pos += n;
	}
	/* The padding sits in the last group only; EVP counts it as data. */
	out->len -= (size_t)pad;
	buf_reserve(out, 0);
	out->data[out->len] = '\0';
	ret = 0;
out:
	if (ret < 0)
		buf_truncate(out, old_len);
	buf_deinit(&clean);
	return ret;
}
