/* SPDX-License-Identifier: MIT */
/*
 * test-store-error.c: unit tests for src/store/store-error.c: error codes
 * and texts, the code chosen from errno for syscall failures, and that
 * each thread has its own error.
 */
#include "store-error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

static void
test_errors(void **state)
{
	const char *text;

	store_clear_error();
	assert_int_equal(store_error(&text), STORE_ERROR_NONE);
	assert_string_equal(text, "no error");
	assert_int_equal(store_set_error(STORE_ERROR_EXISTS, "x %d", 5), -1);
	assert_int_equal(store_error(&text), STORE_ERROR_EXISTS);
	assert_string_equal(text, "x 5");
	errno = ENOSPC;
	assert_int_equal(store_set_syscall_error("write", "/some/file"), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(store_error(&text), STORE_ERROR_NOSPACE);
	assert_non_null(strstr(text, "write(/some/file)"));
	errno = EDQUOT;
	store_set_syscall_error("write", "f");
	assert_int_equal(store_error(NULL), STORE_ERROR_NOSPACE);
	errno = EIO;
	store_set_syscall_error("fsync", "f");
	assert_int_equal(store_error(NULL), STORE_ERROR_TEMP);
	store_clear_error();
}

static void *
error_thread(void *context)
{
	const char *text;

	/* A fresh thread starts with no error of its own. */
	*(int *)context = store_error(&text) == STORE_ERROR_NONE ? 1 : 0;
	store_set_error(STORE_ERROR_AUTH, "thread");
	return NULL;
}

static void
test_errors_thread_local(void **state)
{
	pthread_t thread;
	int ok = 0;

	store_set_error(STORE_ERROR_CORRUPT, "main");
	assert_int_equal(pthread_create(&thread, NULL, error_thread, &ok), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(ok, 1);
	assert_int_equal(store_error(NULL), STORE_ERROR_CORRUPT);
	store_clear_error();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_thread_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
