/* SPDX-License-Identifier: MIT */
/*
 * test-mime-arena.c: unit tests for src/mime/mime-arena.c: zero-filled
 * aligned allocations, string copies, large blocks, NULL-safe destroy.
 */
#include "mime-arena.h"

#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
test_alloc(void **state)
{
	struct mime_arena *arena = mime_arena_create();
	unsigned int i;

	for (i = 0; i < 1000; i++) {
		size_t size = (i * 37) % 301;
		unsigned char *p = mime_arena_alloc(arena, size);
		size_t j;

		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (j = 0; j < size; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xaa, size);
	}
	assert_true(mime_arena_size(arena) >= 1000);
	mime_arena_destroy(&arena);
	assert_null(arena);
	mime_arena_destroy(&arena);
}

static void
test_large(void **state)
{
	struct mime_arena *arena = mime_arena_create();
	unsigned char *big = mime_arena_alloc(arena, 3 * 1024 * 1024);
	unsigned char *small = mime_arena_alloc(arena, 16);

	big[3 * 1024 * 1024 - 1] = 1;
	small[15] = 2;
	assert_true(mime_arena_size(arena) >= 3 * 1024 * 1024);
	mime_arena_destroy(&arena);
}

static void
test_strings(void **state)
{
	struct mime_arena *arena = mime_arena_create();
	char *s = mime_arena_strndup(arena, "hello world", 5);

	assert_string_equal(s, "hello");
	assert_string_equal(mime_arena_strdup(arena, "x"), "x");
	assert_string_equal(mime_arena_strndup(arena, "", 0), "");
	/* bytes are copied as they are, NUL included */
	s = mime_arena_strndup(arena, "a\0b", 3);
	assert_memory_equal(s, "a\0b\0", 4);
	mime_arena_destroy(&arena);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
