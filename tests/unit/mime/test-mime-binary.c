/* SPDX-License-Identifier: MIT */
/*
 * test-mime-binary.c: unit tests for src/mime/mime-binary.c: what a
 * BINARY APPEND's message becomes when stored (RFC 3516 §4.4).
 */
#include "mime-binary.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define S(s) (const unsigned char *)(s), sizeof(s) - 1

/* Converts and compares; want NULL: stored as it is. */
static void
check(const unsigned char *in, size_t len, const char *want)
{
	buf_t out = BUF_INIT;
	const char *error = NULL;
	int ret = mime_binary_convert(in, len, &out, &error);

	assert_null(error);
	if (want == NULL) {
		assert_int_equal(ret, 0);
		assert_int_equal(out.len, 0);
	} else {
		assert_int_equal(ret, 1);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.data, want, out.len);
	}
	buf_deinit(&out);
}

static void
test_unchanged(void **state)
{
	(void)state;
	check(S("Subject: x\r\n\r\nbody\r\n"), NULL);
	/* binary content with CRLF lines and no NUL is a valid message */
	check(S("Subject: x\r\nMIME-Version: 1.0\r\n"
		"Content-Transfer-Encoding: binary\r\n\r\n\xff\r\x01\r\n"),
	      NULL);
	check(S(""), NULL);
}

static void
test_bare_lf(void **state)
{
	(void)state;
	check(S("Subject: x\n\nline\nlone\rcr\r\n"),
	      "Subject: x\r\n\r\nline\r\nlone\rcr\r\n");
	check(S("\n"), "\r\n");
}

static void
test_binary_part(void **state)
{
	static const char hdr[] = "MIME-Version: 1.0\r\n"
		"Content-Transfer-Encoding: binary\r\n\r\n";
	unsigned char in[sizeof(hdr) + 59];

	(void)state;
	/* the line end before the delimiter is the delimiter's */
	check(S("Content-Type: multipart/mixed; boundary=B\n\n--B\n"
		"Content-Transfer-Encoding: Binary (raw)\n"
		"Content-Type: image/png\n\n\x00\x01\n--B--\n"),
	      "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
	      "Content-Type: image/png\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nAAE=\r\n--B--\r\n");
	/* 59 bytes: 80 base64 characters, two lines */
	memcpy(in, hdr, sizeof(hdr) - 1);
	memset(in + sizeof(hdr) - 1, '\n', 59);
	check(in, sizeof(hdr) - 1 + 59,
	      "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	      "CgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK"
	      "CgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK\r\nCgo=");
}

static void
test_nul_in_text(void **state)
{
	(void)state;
	/* 8bit text: its lines are made CRLF before encoding */
	check(S("Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n"
		"\na\x00\nb"),
	      "Content-Type: text/plain\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nYQANCmI=");
	/* not MIME: MIME-Version makes the encoding count; a "binary"
	   there is still read as binary */
	check(S("Subject: x\n\n\x00\n"),
	      "Subject: x\r\nMIME-Version: 1.0\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nAA0K");
	check(S("Subject: x\nContent-Transfer-Encoding: binary\n\n\x00\n"),
	      "Subject: x\r\nMIME-Version: 1.0\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nAAo=");
}

static void
test_nested(void **state)
{
	(void)state;
	check(S("Content-Type: message/rfc822\r\n\r\n"
		"Content-Type: multipart/mixed; boundary=Q\r\n\r\n"
		"--Q\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00"
		"\r\n--Q\r\n\r\ntext\n\r\n--Q--\r\n"),
	      "Content-Type: message/rfc822\r\n\r\n"
	      "Content-Type: multipart/mixed; boundary=Q\r\n\r\n"
	      "--Q\r\nContent-Transfer-Encoding: base64\r\n\r\nAA=="
	      "\r\n--Q\r\n\r\ntext\r\n\r\n--Q--\r\n");
}

static void
check_error(const unsigned char *in, size_t len)
{
	buf_t out = BUF_INIT;
	const char *error = NULL;

	buf_append_str(&out, "kept");
	assert_int_equal(mime_binary_convert(in, len, &out, &error), -1);
	assert_non_null(error);
	assert_int_equal(out.len, 4);
	buf_deinit(&out);
}

static void
test_errors(void **state)
{
	(void)state;
	check_error(S("Subject: a\x00\r\n\r\nx\r\n"));
	check_error(S("Subject: a\x00\r\nContent-Transfer-Encoding: binary"
		      "\r\n\r\n\x00\r\n"));
	check_error(S("MIME-Version: 1.0\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		      "\x00\r\n"));
	check_error(S("MIME-Version: 1.0\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\nAA\x00\r\n"));
	check_error(S("Content-Type: multipart/mixed; boundary=B\r\n\r\n"
		      "\x00\r\n--B\r\n\r\nx\r\n--B--\r\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_binary_part),
		cmocka_unit_test(test_nul_in_text),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
