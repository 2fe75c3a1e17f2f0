/* SPDX-License-Identifier: MIT */
/*
 * test-mime-subject.c: unit tests for src/mime/mime-subject.c: the base
 * subject of RFC 5256 §2.1 (leaders, blobs, trailers, "[fwd: ...]",
 * RFC 2047 words) and the reply/forward indication.
 */
#include "mime-subject.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
check(const char *in, const char *want, bool want_reply)
{
	buf_t out = BUF_INIT;
	bool reply;

	reply = mime_subject_base((const unsigned char *)in, strlen(in), &out);
	if (strcmp(buf_cstr(&out), want) != 0 || reply != want_reply)
		fail_msg("\"%s\": got \"%s\" reply=%d, want \"%s\" reply=%d",
			 in, buf_cstr(&out), reply, want, want_reply);
	buf_deinit(&out);
}

static void
test_plain(void **state)
{
	(void)state;
	check("", "", false);
	check("Hello", "Hello", false);
	check("  Hello   world  ", "Hello world", false);
	check("Hello\r\n\tworld", "Hello world", false);
	check("Ref: ok", "Ref: ok", false);
	check("Refwd: ok", "Refwd: ok", false);
	check("Re", "Re", false);
	check(":", ":", false);
}

static void
test_leaders(void **state)
{
	(void)state;
	check("Re: hi", "hi", true);
	check("RE:hi", "hi", true);
	check("re : hi", "hi", true);
	check("Re: Re: re: hi", "hi", true);
	check("Fw: hi", "hi", true);
	check("FWD: hi", "hi", true);
	check("Fwd:Re: hi", "hi", true);
	check("Re[2]: hi", "hi", true);
	check("Re [2] : hi", "hi", true);
	check("[list] Re: hi", "hi", true);
	check("[a][b] Re: hi", "hi", true);
	check("Re: [list] hi", "hi", true);
	check("Re: [list] Re: hi", "hi", true);
	check("Fwdd: hi", "Fwdd: hi", false);
}

static void
test_blobs(void **state)
{
	(void)state;
	check("[list] hi", "hi", false);
	check("[list]hi", "hi", false);
	check("[a] [b] hi", "hi", false);
	/* a blob stays when nothing would be left */
	check("[list]", "[list]", false);
	check("[a] [b]", "[b]", false);
	check("[list]   ", "[list]", false);
	check("[unterminated hi", "[unterminated hi", false);
	check("[a[b] hi", "[a[b] hi", false);
}

static void
test_trailers(void **state)
{
	(void)state;
	check("hi (fwd)", "hi", true);
	check("hi (FWD)(fwd) ", "hi", true);
	check("hi(fwd)", "hi", true);
	check("(fwd)", "", true);
	check("hi (fw)", "hi (fw)", false);
}

static void
test_fwd_wrapper(void **state)
{
	(void)state;
	check("[Fwd: hi]", "hi", true);
	check("[fwd: Re: hi]", "hi", true);
	check("Re: [Fwd: [Fwd: hi (fwd)]]", "hi", true);
	check("[fwd: hi] x", "x", false);
	check("[fwd:]", "", true);
}

static void
test_encoded(void **state)
{
	(void)state;
	/* RFC 2047 words decode before extraction (step 1) */
	check("=?UTF-8?Q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", true);
	check("=?ISO-8859-1?B?UmU6IGhp?=", "hi", true);
	check("Re: =?utf-8?q?hello?= =?utf-8?q?_world?=", "hello world",
	      true);
	check("=?UTF-8?Q?=5Btag=5D?= x", "x", false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_leaders),
		cmocka_unit_test(test_blobs),
		cmocka_unit_test(test_trailers),
		cmocka_unit_test(test_fwd_wrapper),
		cmocka_unit_test(test_encoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
