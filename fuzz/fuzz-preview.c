/* SPDX-License-Identifier: MIT */
/*
 * fuzz-preview.c: libFuzzer target for RFC 8970 previews
 * (src/mime/mime-preview.c) and the RFC 5051 casemap
 * (src/mime/mime-casemap.c). For any input:
 *  - the preview of the input parsed as a message is valid UTF-8 of at
 *    most MIME_PREVIEW_CHARS characters, without control characters,
 *    leading, trailing or double spaces;
 *  - the input read as HTML never crashes the tag and entity scanner;
 *  - the casemap key of the input is valid UTF-8 and the input contains
 *    its own key (RFC 5051's mapping is not idempotent: U+01C6 becomes
 *    "Dz" + caron, whose "z" a second pass would raise).
 */
#include "mime-casemap.h"
#include "mime-charset.h"
#include "mime-parser.h"
#include "mime-preview.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_preview(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	unsigned int chars = 0;

	while (i < len) {
		n = mime_utf8_char_len(s + i, len - i);
		i_assert(n > 0);
		i_assert(s[i] >= 0x20 && s[i] != 0x7f);
		if (s[i] == ' ')
			i_assert(i > 0 && i + 1 < len && s[i + 1] != ' ');
		i += n;
		chars++;
	}
	i_assert(chars <= MIME_PREVIEW_CHARS);
}

static void
check_casemap(const uint8_t *data, size_t size)
{
	buf_t key = BUF_INIT, clean = BUF_INIT;

	mime_casemap_append(data, size, &key);
	mime_utf8_sanitize(key.data == NULL ? (const unsigned char *)"" :
			   key.data, key.len, &clean);
	i_assert(clean.len == key.len);
	i_assert(mime_casemap_contains(data, size, &key));
	buf_deinit(&key);
	buf_deinit(&clean);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_message *mime = mime_message_parse(data, size);
	buf_t out = BUF_INIT;

	mime_preview_append(mime, data, &out);
	check_preview(out.data, out.len);
	buf_reset(&out);
	mime_message_free(&mime);
	mime_preview_html_to_text(data, size, &out);
	buf_deinit(&out);
	if (size <= 4096)
		check_casemap(data, size);
	return 0;
}
