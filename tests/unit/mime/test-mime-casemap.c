/* SPDX-License-Identifier: MIT */
/*
 * test-mime-casemap.c: unit tests for src/mime/mime-casemap.c: the
 * RFC 5051 i;unicode-casemap keys (titlecase, then NFKD) and substring
 * matching on them.
 */
#include "mime-casemap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
key(const char *in, buf_t *out)
{
	buf_reset(out);
	mime_casemap_append((const unsigned char *)in, strlen(in), out);
}

static void
assert_same_key(const char *a, const char *b)
{
	buf_t ka = BUF_INIT, kb = BUF_INIT;

	key(a, &ka);
	key(b, &kb);
	assert_int_equal(ka.len, kb.len);
	assert_memory_equal(ka.data, kb.data, ka.len);
	buf_deinit(&ka);
	buf_deinit(&kb);
}

static void
test_keys(void **state)
{
	buf_t k = BUF_INIT;

	key("abc", &k);
	assert_int_equal(k.len, 3);
	assert_memory_equal(k.data, "ABC", 3);
	/* U+01C6 dž titlecases to U+01C5 Dž, NFKD makes it D + z + caron */
	key("\xc7\x86", &k);
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.data, "Dz\xcc\x8c", 4);
	buf_deinit(&k);
	assert_same_key("caf\xc3\xa9", "CAFE\xcc\x81");
	assert_same_key("\xce\xa3\xce\x9f\xce\xa6\xce\x8a\xce\x91",
			"\xcf\x83\xce\xbf\xcf\x86\xce\xaf\xce\xb1");
	/* fullwidth forms (NFKD) */
	assert_same_key("\xef\xbd\x81\xef\xbd\x82", "AB");
	/* ASCII runs and non-ASCII runs are mapped apart: the same */
	assert_same_key("x\xc3\xa9y\xcc\x81z", "X\xc3\x89Y\xcc\x81Z");
	key("\xef\xac\x81", &k);        /* U+FB01 has no titlecase */
	assert_int_equal(k.len, 2);
	assert_memory_equal(k.data, "fi", 2);
	buf_deinit(&k);
	/* invalid UTF-8 becomes U+FFFD, no crash */
	assert_same_key("\xff", "\xef\xbf\xbd");
	assert_same_key("", "");
}

static void
test_contains(void **state)
{
	buf_t needle = BUF_INIT;
	const char *text = "Un cafe\xcc\x81 NOIR";

	key("CAF\xc3\x89", &needle);
	assert_true(mime_casemap_contains((const unsigned char *)text,
					  strlen(text), &needle));
	key("noirs", &needle);
	assert_false(mime_casemap_contains((const unsigned char *)text,
					   strlen(text), &needle));
	buf_reset(&needle);
	assert_true(mime_casemap_contains((const unsigned char *)"", 0,
					  &needle));
	buf_deinit(&needle);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
