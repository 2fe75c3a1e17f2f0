/* SPDX-License-Identifier: MIT */
/*
 * fuzz-binary.c: libFuzzer target for what a BINARY APPEND's message
 * becomes when stored (src/mime/mime-binary.c). For any input:
 *  - 0 only when it holds no NUL and no bare LF;
 *  - 1: the result holds no NUL and no bare LF and has as many parts
 *    as the input (when no limit was hit);
 *  - -1: an error text, the output buffer untouched;
 *  - converting the result again changes nothing.
 */
#include "mime-binary.h"
#include "mime-parser.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has_bare_lf(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return true;
	}
	return false;
}

/* The result parses into as many parts as the input (when no limit was
   hit). Which leaf is which is not checked here: for some hostile
   inputs (nested parts reusing a boundary, broken Content-Type lines)
   the converted message parses into another shape, so leaves do not
   pair up; the bytes of converted leaves are checked by
   tests/unit/mime/test-mime-binary.c and, against Dovecot, by
   test_binary_append_like_dovecot. */
static void
check_parts(const unsigned char *in, size_t in_size,
	    const unsigned char *out, size_t out_size)
{
	struct mime_message *a = mime_message_parse(in, in_size);
	struct mime_message *b = mime_message_parse(out, out_size);

	if (!a->overflow && !b->overflow)
		i_assert(a->part_count == b->part_count);
	mime_message_free(&a);
	mime_message_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t out = BUF_INIT, again = BUF_INIT;
	const char *error = NULL;
	int ret;

	buf_append_str(&out, "x");
	ret = mime_binary_convert(data, size, &out, &error);
	if (ret < 0) {
		i_assert(error != NULL && out.len == 1);
	} else if (ret == 0) {
		i_assert(out.len == 1);
		i_assert(memchr(data, '\0', size) == NULL &&
			 !has_bare_lf(data, size));
	} else {
		const unsigned char *p = out.data + 1;
		size_t n = out.len - 1;

		i_assert(memchr(p, '\0', n) == NULL && !has_bare_lf(p, n));
		check_parts(data, size, p, n);
		i_assert(mime_binary_convert(p, n, &again, &error) == 0);
	}
	buf_deinit(&out);
	buf_deinit(&again);
	return 0;
}
