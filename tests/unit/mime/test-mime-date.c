/* SPDX-License-Identifier: MIT */
/*
 * test-mime-date.c: unit tests for src/mime/mime-date.c: RFC 5322 §3.3
 * dates, the §4.3 obsolete forms (years, zones, CFWS), invalid dates,
 * and formatting round trips.
 */
#include "mime-date.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
check(const char *in, long long want_time, int want_tz)
{
	time_t t;
	int tz;

	assert_int_equal(mime_date_parse(in, strlen(in), &t, &tz), 0);
	assert_int_equal((long long)t, want_time);
	assert_int_equal(tz, want_tz);
}

static void
check_bad(const char *in)
{
	time_t t;
	int tz;

	assert_int_equal(mime_date_parse(in, strlen(in), &t, &tz), -1);
}

static void
test_valid(void **state)
{
	/* RFC 5322 §A.1.1 */
	check("Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360);
	check("Tue, 1 Jul 2003 10:52:37 +0200", 1057049557, 120);
	check("1 Jan 1970 00:00:00 +0000", 0, 0);
	check("Thu, 1 Jan 1970 00:00:00 GMT", 0, 0);
	/* optional seconds, negative times */
	check("13 Feb 1969 23:32 -0330", -27723480, -210);
	/* §A.5: folding and comments anywhere */
	check("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n"
	      "      23:32\r\n               -0330 (Newfoundland Time)",
	      -27723480, -210);
	check("(c) Mon, (c) 7 Feb 1994 21:52:25 -0800 (PST)", 760686745, -480);
	/* full month names, no day name, no comma */
	check("Sat 1 January 2000 00:00:00 +0000", 946684800, 0);
	/* leap second */
	check("31 Dec 1998 23:59:60 +0000", 915148799, 0);
}

static void
test_obsolete(void **state)
{
	/* §4.3 two- and three-digit years */
	check("1 Jan 99 00:00:00 +0000", 915148800, 0);
	check("1 Jan 00 00:00:00 +0000", 946684800, 0);
	check("1 Jan 49 00:00:00 +0000", 2493072000LL, 0);
	check("1 Jan 50 00:00:00 +0000", -631152000, 0);
	check("1 Jan 100 00:00:00 +0000", 946684800, 0);
	/* obs-zone */
	check("1 Jan 2000 00:00:00 UT", 946684800, 0);
	check("1 Jan 2000 00:00:00 EST", 946684800 + 5 * 3600, -300);
	check("1 Jan 2000 00:00:00 edt", 946684800 + 4 * 3600, -240);
	check("1 Jan 2000 00:00:00 PDT", 946684800 + 7 * 3600, -420);
	/* military and unknown zones, and none, are -0000 */
	check("1 Jan 2000 00:00:00 A", 946684800, 0);
	check("1 Jan 2000 00:00:00 CEST", 946684800, 0);
	check("1 Jan 2000 00:00:00", 946684800, 0);
	check("1 Jan 2000 00:00:00 +01", 946684800, 0);
}

static void
test_invalid(void **state)
{
	check_bad("");
	check_bad("yesterday");
	check_bad("32 Jan 2000 00:00:00 +0000");
	check_bad("31 Feb 2000 00:00:00 +0000");
	check_bad("1 Foo 2000 00:00:00 +0000");
	check_bad("1 Jan 2000 24:00:00 +0000");
	check_bad("1 Jan 2000 00:60 +0000");
	check_bad("1 Jan 2000 00:00:61 +0000");
	check_bad("1 Jan 20000 00:00:00 +0000");
	check_bad("1 Jan 2000");
	check_bad("Mon, 1 Jan 2000 00 +0000");
	check_bad("(unterminated 1 Jan 2000 00:00:00 +0000");
}

static void
test_format(void **state)
{
	buf_t out = BUF_INIT;
	time_t t;
	int tz;

	mime_date_format(&out, 1057049557, 120);
	assert_string_equal(buf_cstr(&out), "Tue, 1 Jul 2003 10:52:37 +0200");
	assert_int_equal(mime_date_parse(out.data, out.len, &t, &tz), 0);
	assert_int_equal((long long)t, 1057049557);
	assert_int_equal(tz, 120);
	buf_reset(&out);
	mime_date_format(&out, -27723480, -210);
	assert_string_equal(buf_cstr(&out), "Thu, 13 Feb 1969 23:32:00 -0330");
	buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_obsolete),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
