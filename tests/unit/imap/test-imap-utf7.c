/* SPDX-License-Identifier: MIT */
/*
 * test-imap-utf7.c: modified UTF-7 mailbox names (RFC 3501 §5.1.3):
 * RFC examples, round trips through UTF-8 including astral characters,
 * and the strict refusals (8-bit, encoded ASCII, adjacent shifts,
 * unterminated shifts, leftover bits, lone surrogates, bad UTF-8).
 */
#include "imap-private.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
check_pair(const char *utf7, const char *utf8)
{
	buf_t out = BUF_INIT;

	assert_int_equal(imap_utf7_to_utf8(utf7, &out), 0);
	assert_string_equal(buf_cstr(&out), utf8);
	buf_reset(&out);
	assert_int_equal(imap_utf8_to_utf7(utf8, &out), 0);
	assert_string_equal(buf_cstr(&out), utf7);
	buf_deinit(&out);
}

static void
test_round_trips(void **state)
{
	check_pair("INBOX", "INBOX");
	check_pair("", "");
	check_pair("&-", "&");
	check_pair("a&-b/&-&-", "a&b/&&");
	check_pair("Caf&AOk-", "Caf\xc3\xa9");
	/* RFC 3501 §5.1.3's example */
	check_pair("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		   "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* U+1F600 as a surrogate pair */
	check_pair("&2D3eAA-", "\xf0\x9f\x98\x80");
	/* a control character is encoded too */
	check_pair("a&AAk-b", "a\tb");
}

static void
test_invalid_utf7(void **state)
{
	static const char *const bad[] = {
		"Caf&AOk",      /* unterminated */
		"&AGE-",        /* encodes printable 'a' */
		"&AOk-&AOk-",   /* two shifts in a row */
		"Caf\xc3\xa9",  /* raw 8-bit */
		"&AOkA-",       /* leftover bits not zero / partial unit */
		"&2D0-",        /* lone high surrogate */
		"&3gA-",        /* lone low surrogate */
		"&A*k-",        /* not base64 */
		"a\tb",         /* raw control */
		"&/wA-",        /* '/' instead of ',' */
	};
	buf_t out = BUF_INIT;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		buf_reset(&out);
		if (imap_utf7_to_utf8(bad[i], &out) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	buf_deinit(&out);
}

static void
test_invalid_utf8(void **state)
{
	buf_t out = BUF_INIT;

	assert_int_equal(imap_utf8_to_utf7("\xc3", &out), -1);
	assert_int_equal(imap_utf8_to_utf7("\xc0\xaf", &out), -1);
	assert_int_equal(imap_utf8_to_utf7("\xed\xa0\x80", &out), -1);
	assert_true(imap_utf8_valid("Caf\xc3\xa9"));
	assert_false(imap_utf8_valid("\xff"));
	buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_invalid_utf7),
		cmocka_unit_test(test_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
