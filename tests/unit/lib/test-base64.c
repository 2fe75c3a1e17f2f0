/* SPDX-License-Identifier: MIT */
/*
 * test-base64.c: unit tests for src/lib/base64.c: the RFC 4648 §10 test
 * vectors, whitespace, strict rejection of malformed input, exact decoded
 * lengths, and inputs larger than one EVP chunk.
 */
#include "base64.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const struct {
	const char *plain, *encoded;
} vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_encode_vectors(void **state)
{
	buf_t out = BUF_INIT;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		buf_reset(&out);
		base64_encode(&out, vectors[i].plain, strlen(vectors[i].plain));
		assert_string_equal(buf_cstr(&out), vectors[i].encoded);
	}
	/* appends */
	buf_reset(&out);
	buf_append_str(&out, "x:");
	base64_encode(&out, "\xff\xfe", 2);
	assert_string_equal(buf_cstr(&out), "x://4=");
	buf_deinit(&out);
}

static void
test_decode_vectors(void **state)
{
	buf_t out = BUF_INIT;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		buf_reset(&out);
		assert_int_equal(base64_decode(&out, vectors[i].encoded,
					       strlen(vectors[i].encoded)), 0);
		assert_int_equal(out.len, strlen(vectors[i].plain));
		assert_string_equal(buf_cstr(&out), vectors[i].plain);
	}
	buf_deinit(&out);
}

static void
test_decode_whitespace(void **state)
{
	const char *text = " Zm9v\r\nYm\tFy \n";
	buf_t out = BUF_INIT;

	assert_int_equal(base64_decode(&out, text, strlen(text)), 0);
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "foobar", 6);
	buf_reset(&out);
	assert_int_equal(base64_decode(&out, "Zg= =", 5), 0);
	assert_int_equal(out.len, 1);
	buf_reset(&out);
	assert_int_equal(base64_decode(&out, " \n ", 3), 0);
	assert_int_equal(out.len, 0);
	buf_deinit(&out);
}

static void
test_decode_binary(void **state)
{
	static const unsigned char bytes[] = { 0, 1, 0xff, 0, 0x80 };
	buf_t out = BUF_INIT;

	assert_int_equal(base64_decode(&out, "AAH/AIA=", 8), 0);
	assert_int_equal(out.len, sizeof(bytes));
	assert_memory_equal(out.data, bytes, sizeof(bytes));
	assert_int_equal(out.data[out.len], '\0');
	buf_deinit(&out);
}

static void
test_decode_invalid(void **state)
{
	static const char *const bad[] = {
		"Z", "Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zg=a",
		"Zm9v!", "Zm9v-_==", "Zm\0v", "Zg===",
	};
	buf_t out = BUF_INIT;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		buf_reset(&out);
		buf_append_str(&out, "keep");
		if (base64_decode(&out, bad[i], i == 10 ? 4 : strlen(bad[i])) != -1)
			fail_msg("'%s' decoded", bad[i]);
		/* the old contents survive */
		assert_string_equal(buf_cstr(&out), "keep");
	}
	buf_deinit(&out);
}

static void
test_large_round_trip(void **state)
{
	size_t sizes[] = { 3 * 16384 - 1, 3 * 16384, 3 * 16384 + 1,
			   200001 };
	buf_t enc = BUF_INIT, dec = BUF_INIT;
	unsigned char *data;
	unsigned int i;
	size_t j;

	for (i = 0; i < N_ELEMENTS(sizes); i++) {
		data = malloc(sizes[i]);
		assert_non_null(data);
		for (j = 0; j < sizes[i]; j++)
			data[j] = (unsigned char)(j * 131 + (j >> 9));
		buf_reset(&enc);
		buf_reset(&dec);
		base64_encode(&enc, data, sizes[i]);
		assert_int_equal(enc.len, (sizes[i] + 2) / 3 * 4);
		assert_int_equal(base64_decode(&dec, (const char *)enc.data,
					       enc.len), 0);
		assert_int_equal(dec.len, sizes[i]);
		assert_memory_equal(dec.data, data, sizes[i]);
		free(data);
	}
	buf_deinit(&enc);
	buf_deinit(&dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_decode_whitespace),
		cmocka_unit_test(test_decode_binary),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_large_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
