/* SPDX-License-Identifier: MIT */
/*
 * test-mime-decode.c: unit tests for src/mime/mime-decode.c: encoding
 * names, base64 and quoted-printable decoding (valid and damaged input,
 * RFC 2045 §6.7 and §6.8), CRLF conversion, and part text in UTF-8.
 */
#include "mime-decode.h"
#include "mime-parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

typedef void decoder_t(const unsigned char *data, size_t len, buf_t *out,
		       bool *damaged_r);

#define check(dec, in, want, damaged) \
	check_n(dec, in, want, sizeof(want) - 1, damaged)

static void
check_n(decoder_t *dec, const char *in, const char *want, size_t want_len,
	bool want_damaged)
{
	buf_t out = BUF_INIT;
	bool damaged = !want_damaged;

	dec((const unsigned char *)in, strlen(in), &out, &damaged);
	assert_int_equal(out.len, want_len);
	if (want_len > 0)
		assert_memory_equal(out.data, want, want_len);
	assert_int_equal(damaged, want_damaged);
	buf_deinit(&out);
}

static void
test_names(void **state)
{
	assert_int_equal(mime_encoding_from_name(NULL), MIME_ENCODING_7BIT);
	assert_int_equal(mime_encoding_from_name("BASE64"),
			 MIME_ENCODING_BASE64);
	assert_int_equal(mime_encoding_from_name("Quoted-Printable"),
			 MIME_ENCODING_QUOTED_PRINTABLE);
	assert_int_equal(mime_encoding_from_name("8bit"), MIME_ENCODING_8BIT);
	assert_int_equal(mime_encoding_from_name("binary"),
			 MIME_ENCODING_BINARY);
	assert_int_equal(mime_encoding_from_name("x-uuencode"),
			 MIME_ENCODING_UNKNOWN);
	assert_true(mime_encoding_is_identity(MIME_ENCODING_8BIT));
	assert_false(mime_encoding_is_identity(MIME_ENCODING_BASE64));
}

static void
test_base64(void **state)
{
	check(mime_decode_base64, "", "", false);
	check(mime_decode_base64, "aGVsbG8=", "hello", false);
	check(mime_decode_base64, "aGVs\r\nbG8g\r\nd29y bGQ=\r\n",
	      "hello world", false);
	check(mime_decode_base64, "AAEC/+8=", "\x00\x01\x02\xff\xef", false);
	/* §6.8: foreign characters are ignored */
	check(mime_decode_base64, "aG!Vs*bG8=", "hello", true);
	/* unpadded end */
	check(mime_decode_base64, "YWJjZA", "abcd", true);
	check(mime_decode_base64, "YWJjZ", "abc", true);
	/* concatenated encodings go on after the padding... */
	check(mime_decode_base64, "YQ==\r\nYg==\r\n", "ab", false);
	check(mime_decode_base64, "YWJj=ZGVm", "abcdef", false);
	/* ...text after it (a footer) does not */
	check(mime_decode_base64, "YQ==\r\n-- \r\nfooter text", "a", true);
}

static void
test_qp(void **state)
{
	check(mime_decode_qp, "", "", false);
	check(mime_decode_qp, "a=3Db", "a=b", false);
	check(mime_decode_qp, "line=20\r\nsoft=\r\nbreak", "line \r\nsoftbreak",
	      false);
	/* LF line ends decode to CRLF (the canonical form) */
	check(mime_decode_qp, "a\nb\n", "a\r\nb\r\n", false);
	/* rule 3: trailing blanks go, also before a soft break */
	check(mime_decode_qp, "a  \t\r\nb= \t\r\nc", "a\r\nbc", false);
	/* lower-case hex */
	check(mime_decode_qp, "=e2=82=ac", "\xe2\x82\xac", false);
	/* a stray "=" is kept */
	check(mime_decode_qp, "=ZZ and =4", "=ZZ and =4", true);
	check(mime_decode_qp, "x=", "x", false);
	check(mime_decode_qp, "=00", "\0", false);
}

static void
test_dispatch(void **state)
{
	buf_t out = BUF_INIT;
	bool damaged;

	assert_int_equal(mime_decode(MIME_ENCODING_8BIT,
		(const unsigned char *)"a\nb", 3, &out, &damaged), 0);
	assert_string_equal(buf_cstr(&out), "a\nb");
	assert_false(damaged);
	buf_reset(&out);
	assert_int_equal(mime_decode(MIME_ENCODING_UNKNOWN,
		(const unsigned char *)"x", 1, &out, NULL), -1);
	assert_int_equal(out.len, 0);
	mime_decode_crlf((const unsigned char *)"a\nb\r\nc\n", 7, &out);
	assert_string_equal(buf_cstr(&out), "a\r\nb\r\nc\r\n");
	buf_reset(&out);
	mime_decode_crlf((const unsigned char *)"\n", 1, &out);
	assert_string_equal(buf_cstr(&out), "\r\n");
	buf_deinit(&out);
}

static void
check_text(const char *msg_text, const char *want)
{
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)msg_text, strlen(msg_text));
	buf_t out = BUF_INIT;

	assert_int_equal(mime_decode_part_text(msg->root,
		(const unsigned char *)msg_text, &out), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_message_free(&msg);
}

static void
test_part_text(void **state)
{
	check_text("Content-Type: text/plain; charset=iso-8859-1\n"
		   "Content-Transfer-Encoding: quoted-printable\n\n"
		   "Gr=FC=DFe", "Gr\xc3\xbc\xc3\x9f" "e");
	check_text("Content-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: base64\n\n4oKs", "\xe2\x82\xac");
	/* no charset: us-ascii; 8-bit bytes that are no UTF-8 repaired */
	check_text("\nab\xff", "ab\xef\xbf\xbd");
	/* an unknown charset is read as UTF-8 */
	check_text("Content-Type: text/plain; charset=x-unknown\n\n"
		   "\xc3\xa9", "\xc3\xa9");
	{
		static const char text[] = "Content-Type: text/plain\n"
			"Content-Transfer-Encoding: x-uuencode\n\nbegin";
		struct mime_message *msg = mime_message_parse(
			(const unsigned char *)text, strlen(text));
		buf_t out = BUF_INIT;

		assert_int_equal(mime_decode_part_text(msg->root,
			(const unsigned char *)text, &out), -1);
		assert_int_equal(out.len, 0);
		mime_message_free(&msg);
	}
}

static void
check_param(const char *msg_text, const char *name, int ret,
	    const char *want)
{
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)msg_text, strlen(msg_text));
	buf_t out = BUF_INIT;

	assert_int_equal(mime_param_decode(msg->root->type_params,
		msg->root->type_params_count, name, &out), ret);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_message_free(&msg);
}

static void
test_param_decode(void **state)
{
	/* RFC 2231 §4 and §4.1 */
	check_param("Content-Type: a/b; title*=us-ascii'en-us'This%20is%20"
		    "%2A%2A%2Afun%2A%2A%2A\n\n", "title", 1,
		    "This is ***fun***");
	check_param("Content-Type: a/b; name*0*=iso-8859-1''%E9t%E9;\n"
		    " name*1=\" 100%\"\n\n", "NAME", 1,
		    "\xc3\xa9t\xc3\xa9 100%");
	check_param("Content-Type: a/b; name*=''%E2%82%AC\n\n", "name", 1,
		    "\xe2\x82\xac");
	check_param("Content-Type: a/b; name*=no-quotes\n\n", "name", 1,
		    "no-quotes");
	check_param("Content-Type: a/b; name*=x-unknown''%41%ff\n\n", "name",
		    1, "A\xef\xbf\xbd");
	/* RFC 2047 words where §5 forbids them */
	check_param("Content-Type: a/b; name=\"=?utf-8?q?=C3=A9t=C3=A9?=\""
		    "\n\n", "name", 1, "\xc3\xa9t\xc3\xa9");
	check_param("Content-Type: a/b; name=plain.txt\n\n", "name", 1,
		    "plain.txt");
	check_param("Content-Type: a/b; x=y\n\n", "name", 0, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_part_text),
		cmocka_unit_test(test_param_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
