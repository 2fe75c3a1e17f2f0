/* SPDX-License-Identifier: MIT */
/*
 * test-pop3-stuff.c: message bytes to POP3 response bodies: dot-stuffing,
 * bare LF, missing final line end, TOP's header and line count, the
 * "clean" verdict, and the same output for any chunking.
 */
#include "pop3-stuff.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Converts msg in chunks of step bytes; returns the output (caller
   frees) and whether it was clean. */
static char *
convert(const char *msg, size_t len, size_t step, bool top, uint32_t lines,
	bool *clean_r)
{
	struct pop3_stuff st;
	buf_t out = BUF_INIT;
	size_t pos = 0, n, used;
	unsigned char *data;

	if (top)
		pop3_stuff_init_top(&st, lines);
	else
		pop3_stuff_init(&st);
	while (pos < len && !st.done) {
		n = len - pos < step ? len - pos : step;
		used = pop3_stuff_feed(&st, (const unsigned char *)msg + pos, n,
				       &out);
		assert_true(used == n || st.done);
		pos += used;
	}
	pop3_stuff_finish(&st, &out);
	*clean_r = pop3_stuff_clean(&st);
	buf_append_c(&out, '\0');
	data = buf_steal(&out, &n);
	return (char *)data;
}

static void
check(const char *msg, bool top, uint32_t lines, const char *expect,
      bool expect_clean)
{
	size_t len = strlen(msg), step;
	bool clean;
	char *out;

	for (step = 1; step <= len + 1; step++) {
		out = convert(msg, len, step, top, lines, &clean);
		if (strcmp(out, expect) != 0)
			fail_msg("step %zu: got [%s] want [%s]", step, out,
				 expect);
		assert_int_equal(clean, expect_clean);
		free(out);
	}
}

static void
test_retr(void **state)
{
	check("", false, 0, ".\r\n", true);
	check("a\r\nb\r\n", false, 0, "a\r\nb\r\n.\r\n", true);
	check(".\r\n", false, 0, "..\r\n.\r\n", false);
	check("a\r\n.b\r\n..\r\nc.\r\n", false, 0,
	      "a\r\n..b\r\n...\r\nc.\r\n.\r\n", false);
	/* Bare LF becomes CRLF; a bare CR stays. */
	check("a\nb\r\nc\rd\r\n", false, 0, "a\r\nb\r\nc\rd\r\n.\r\n", false);
	/* No final line end. */
	check("a\r\nb", false, 0, "a\r\nb\r\n.\r\n", false);
	check("a\r\nb\r", false, 0, "a\r\nb\r\n.\r\n", false);
	check("\n.", false, 0, "\r\n..\r\n.\r\n", false);
}

static void
test_top(void **state)
{
	const char *msg = "From: a\r\nSubject: s\r\n\r\nl1\r\n.l2\r\nl3\r\n";

	check(msg, true, 0, "From: a\r\nSubject: s\r\n\r\n.\r\n", false);
	check(msg, true, 1, "From: a\r\nSubject: s\r\n\r\nl1\r\n.\r\n", false);
	check(msg, true, 2,
	      "From: a\r\nSubject: s\r\n\r\nl1\r\n..l2\r\n.\r\n", false);
	/* More lines than there are: the whole message. */
	check("H: v\r\n\r\nb\r\n", true, 5, "H: v\r\n\r\nb\r\n.\r\n", true);
	/* No body at all. */
	check("H: v\r\n", true, 0, "H: v\r\n.\r\n", true);
	/* LF-only header end. */
	check("H: v\n\nb\nc\n", true, 1, "H: v\r\n\r\nb\r\n.\r\n", false);
}

static void
test_binary(void **state)
{
	static const char msg[] = "x\0y\r\n\xff.\r\n";
	bool clean;
	char *out = convert(msg, sizeof(msg) - 1, 3, false, 0, &clean);

	assert_memory_equal(out, msg, sizeof(msg) - 1);
	assert_string_equal(out + sizeof(msg) - 1, ".\r\n");
	assert_true(clean);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retr),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
