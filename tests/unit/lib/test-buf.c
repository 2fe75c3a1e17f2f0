/* SPDX-License-Identifier: MIT */
/*
 * test-buf.c: unit tests for src/lib/buf.c: growth, binary safety, the
 * trailing NUL, printf, consume/truncate and steal.
 */
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
test_empty(void **state)
{
	buf_t buf = BUF_INIT;

	assert_int_equal(buf.len, 0);
	assert_string_equal(buf_cstr(&buf), "");
	assert_non_null(buf.data);
	buf_reset(&buf);
	assert_int_equal(buf.len, 0);
	buf_deinit(&buf);
	assert_null(buf.data);
	assert_int_equal(buf.cap, 0);
	/* deinit of an empty buffer is fine, twice */
	buf_deinit(&buf);
	buf_reset(&buf);
}

static void
test_append(void **state)
{
	buf_t buf;

	buf_init(&buf);
	buf_append(&buf, "ab", 2);
	buf_append_str(&buf, "cd");
	buf_append_c(&buf, 'e');
	buf_append(&buf, NULL, 0);
	assert_int_equal(buf.len, 5);
	assert_string_equal(buf_cstr(&buf), "abcde");
	assert_int_equal(buf.data[buf.len], '\0');
	buf_deinit(&buf);
}

static void
test_binary(void **state)
{
	static const unsigned char bytes[] = { 0, 'a', 0, 0xff, 0 };
	buf_t buf = BUF_INIT;

	buf_append(&buf, bytes, sizeof(bytes));
	buf_append_c(&buf, '\0');
	assert_int_equal(buf.len, 6);
	assert_memory_equal(buf.data, bytes, sizeof(bytes));
	assert_int_equal(buf.data[6], '\0');
	buf_deinit(&buf);
}

static void
test_growth(void **state)
{
	buf_t buf = BUF_INIT;
	unsigned int i;

	for (i = 0; i < 100000; i++)
		buf_append_c(&buf, (char)('a' + i % 26));
	assert_int_equal(buf.len, 100000);
	assert_true(buf.cap > buf.len);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf.data[i], 'a' + i % 26);
	assert_int_equal(buf.data[buf.len], '\0');

	buf_reset(&buf);
	buf_reserve(&buf, 1000000);
	assert_true(buf.cap >= 1000001);
	assert_int_equal(buf.len, 0);
	buf_deinit(&buf);
}

static void
test_printf(void **state)
{
	buf_t buf = BUF_INIT;
	char big[5000];

	buf_printf(&buf, "%s=%d;", "uid", 42);
	buf_printf(&buf, "%05u", 7u);
	assert_string_equal(buf_cstr(&buf), "uid=42;00007");
	buf_printf(&buf, "%s", "");
	assert_int_equal(buf.len, 12);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_reset(&buf);
	buf_printf(&buf, "<%s>", big);
	assert_int_equal(buf.len, sizeof(big) + 1);
	assert_int_equal(buf.data[0], '<');
	assert_int_equal(buf.data[buf.len - 1], '>');
	assert_int_equal(buf.data[buf.len], '\0');
	buf_deinit(&buf);
}

static void
test_consume_truncate(void **state)
{
	buf_t buf = BUF_INIT;

	buf_append_str(&buf, "hello world");
	buf_consume(&buf, 6);
	assert_string_equal(buf_cstr(&buf), "world");
	buf_truncate(&buf, 3);
	assert_string_equal(buf_cstr(&buf), "wor");
	/* truncating to a larger length is a no-op */
	buf_truncate(&buf, 100);
	assert_string_equal(buf_cstr(&buf), "wor");
	buf_consume(&buf, 0);
	assert_string_equal(buf_cstr(&buf), "wor");
	buf_consume(&buf, 3);
	assert_int_equal(buf.len, 0);
	assert_string_equal(buf_cstr(&buf), "");
	buf_deinit(&buf);
}

static void
test_steal(void **state)
{
	buf_t buf = BUF_INIT;
	unsigned char *data;
	size_t len;

	buf_append_str(&buf, "mine");
	data = buf_steal(&buf, &len);
	assert_int_equal(len, 4);
	assert_string_equal((char *)data, "mine");
	assert_null(buf.data);
	assert_int_equal(buf.len, 0);
	free(data);

	/* stealing an empty buffer gives storage, not NULL */
	data = buf_steal(&buf, &len);
	assert_non_null(data);
	assert_int_equal(len, 0);
	free(data);
	buf_append_str(&buf, "reuse");
	assert_string_equal(buf_cstr(&buf), "reuse");
	buf_deinit(&buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume_truncate),
		cmocka_unit_test(test_steal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
