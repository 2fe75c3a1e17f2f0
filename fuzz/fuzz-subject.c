/* SPDX-License-Identifier: MIT */
/*
 * fuzz-subject.c: libFuzzer target for the base subject of RFC 5256
 * §2.1 (src/mime/mime-subject.c). For any input:
 *  - the base subject of a raw value is valid UTF-8;
 *  - extraction is a fixed point: the base subject of a base subject
 *    is itself, and nothing more is found to remove (no reply marker);
 *  - it is never longer than its (normalised) input.
 */
#include "mime-charset.h"
#include "mime-subject.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
valid_utf8(const buf_t *buf)
{
	size_t i = 0, n;

	while (i < buf->len) {
		n = mime_utf8_char_len(buf->data + i, buf->len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t base = BUF_INIT, again = BUF_INIT;

	(void)mime_subject_base(data, size, &base);
	i_assert(valid_utf8(&base));
	buf_reset(&base);
	if (memchr(data, '\0', size) == NULL) {
		(void)mime_subject_base_decoded((const char *)data, size,
						&base);
		i_assert(base.len <= size);
		i_assert(!mime_subject_base_decoded((const char *)base.data,
						    base.len, &again));
		i_assert(again.len == base.len &&
			 memcmp(again.data, base.data, base.len) == 0);
	}
	buf_deinit(&base);
	buf_deinit(&again);
	return 0;
}
