/* SPDX-License-Identifier: MIT */
/*
 * fuzz-binary.c: libFuzzer target for what a BINARY APPEND's message
 * becomes when stored (src/mime/mime-binary.c). For any input:
 *  - 0 only when it holds no NUL and no bare LF;
 *  - 1: the result holds no NUL and no bare LF, has as many parts as
 *    the input (when no limit was hit), and each leaf it base64-encoded
 *    decodes to the input leaf's bytes (binary) or to them with CRLF
 *    line ends (text);
 *  - -1: an error text, the output buffer untouched;
 *  - converting the result again changes nothing.
 */
#include "base64.h"
#include "mime-binary.h"
#include "mime-parser.h"

#include <string.h>
#include <strings.h>

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

static const struct mime_part *
next_leaf(const struct mime_part *part)
{
	/* pre-order successor, then down to the first leaf */
	for (;;) {
		if (part->children != NULL) {
			part = part->children;
		} else {
			while (part != NULL && part->next == NULL)
				part = part->parent;
			if (part == NULL)
				return NULL;
			part = part->next;
		}
		if (part->children == NULL)
			return part;
	}
}

static const struct mime_part *
first_leaf(const struct mime_part *root)
{
	return root->children == NULL ? root : next_leaf(root);
}

static void
check_leaves(const unsigned char *in, size_t in_size,
	     const unsigned char *out, size_t out_size)
{
	struct mime_message *a = mime_message_parse(in, in_size);
	struct mime_message *b = mime_message_parse(out, out_size);
	const struct mime_part *pa, *pb;
	buf_t dec = BUF_INIT, want = BUF_INIT;
	size_t i;

	if (a->overflow || b->overflow) {
		mime_message_free(&a);
		mime_message_free(&b);
		return;
	}
	i_assert(a->part_count == b->part_count);
	for (pa = first_leaf(a->root), pb = first_leaf(b->root);
	     pa != NULL && pb != NULL;
	     pa = next_leaf(pa), pb = next_leaf(pb)) {
		size_t sa = pa->offset + pa->header.physical;
		size_t sb = pb->offset + pb->header.physical;

		if (pb->encoding == NULL ||
		    strcasecmp(pb->encoding, "base64") != 0 ||
		    (pa->encoding != NULL &&
		     strcasecmp(pa->encoding, "base64") == 0))
			continue;
		buf_reset(&dec);
		i_assert(base64_decode(&dec, (const char *)out + sb,
				       pb->body.physical) == 0);
		if (dec.len == pa->body.physical &&
		    memcmp(dec.data, in + sa, dec.len) == 0)
			continue;       /* binary: the bytes */
		/* text: the bytes with CRLF line ends */
		buf_reset(&want);
		for (i = sa; i < sa + pa->body.physical; i++) {
			if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
				buf_append(&want, "\r", 1);
			buf_append(&want, in + i, 1);
		}
		i_assert(dec.len == want.len &&
			 memcmp(dec.data, want.data, dec.len) == 0);
	}
	i_assert(pa == NULL && pb == NULL);
	buf_deinit(&dec);
	buf_deinit(&want);
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
		check_leaves(data, size, p, n);
		i_assert(mime_binary_convert(p, n, &again, &error) == 0);
	}
	buf_deinit(&out);
	buf_deinit(&again);
	return 0;
}
