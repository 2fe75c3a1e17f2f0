/* SPDX-License-Identifier: MIT */
/*
 * test-imap-section.c: unit tests for src/mime/imap-section.c: section
 * syntax (RFC 3501 §9, RFC 3516 §6), response names, part numbering,
 * HEADER/TEXT/MIME/HEADER.FIELDS, <partial>, zero-copy ranges versus
 * CRLF conversion, NUL bytes, and BINARY / BINARY.SIZE.
 */
#include "imap-section.h"
#include "mime-parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
check_name(const char *item, const char *want)
{
	struct imap_section *section;
	const char *error;
	buf_t out = BUF_INIT;

	assert_int_equal(imap_section_parse(item, &section, &error), 0);
	imap_section_write_name(&out, section);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	imap_section_free(&section);
	assert_null(section);
}

static void
check_bad(const char *item)
{
	struct imap_section *section;
	const char *error = NULL;

	assert_int_equal(imap_section_parse(item, &section, &error), -1);
	assert_null(section);
	assert_non_null(error);
}

static void
test_parse(void **state)
{
	check_name("BODY[]", "BODY[]");
	check_name("body.peek[1.2.3]<10.20>", "BODY[1.2.3]<10>");
	check_name("BODY[header]", "BODY[HEADER]");
	check_name("BODY[2.text]", "BODY[2.TEXT]");
	check_name("BODY[1.MIME]", "BODY[1.MIME]");
	check_name("BODY[HEADER.FIELDS (from \"To\" x-a.b)]",
		   "BODY[HEADER.FIELDS (FROM TO X-A.B)]");
	check_name("BODY[1.HEADER.FIELDS.NOT (\"a b\")]",
		   "BODY[1.HEADER.FIELDS.NOT (\"a b\")]");
	check_name("BINARY[1]", "BINARY[1]");
	check_name("BINARY.PEEK[]<0.5>", "BINARY[]<0>");
	check_name("BINARY.SIZE[2.1]", "BINARY.SIZE[2.1]");
	check_name("BODY[]<0.0>", "BODY[]<0>");

	check_bad("BODY");
	check_bad("BODY[");
	check_bad("BODY[0]");
	check_bad("BODY[1.0]");
	check_bad("BODY[1.]");
	check_bad("BODY[MIME]");
	check_bad("BODY[1.FOO]");
	check_bad("BODY[HEADER.FIELDS]");
	check_bad("BODY[HEADER.FIELDS ()]");
	check_bad("BODY[HEADER.FIELDS (a\"]");
	check_bad("BODY[HEADER.FIELDS (a b]");
	check_bad("BODY[4294967296]");
	check_bad("BODY[]<1>");
	check_bad("BODY[]<1.2>x");
	check_bad("BODY[]x");
	check_bad("BINARY[HEADER]");
	check_bad("BINARY[1.MIME]");
	check_bad("BINARY.SIZE[1]<0.1>");
	check_bad("RFC822");
}

/* Fetches item from text; checks the octets and whether they came as
   a range of the message. */
static void
check_fetch_n(const char *text, size_t text_len, const char *item,
	      const char *want, size_t want_len, int want_range)
{
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)text, text_len);
	struct imap_section *section;
	struct imap_section_result res;
	const char *error;
	buf_t out = BUF_INIT;

	assert_int_equal(imap_section_parse(item, &section, &error), 0);
	assert_int_equal(imap_section_fetch(section, msg,
		(const unsigned char *)text, text_len, &res, &error), 0);
	imap_section_result_copy(&res, (const unsigned char *)text, &out);
	assert_int_equal(out.len, want_len);
	assert_int_equal(res.size, want_len);
	if (want_len > 0)
		assert_memory_equal(out.data, want, want_len);
	if (want_range >= 0)
		assert_int_equal(res.is_range, want_range);
	imap_section_result_free(&res);
	imap_section_free(&section);
	buf_deinit(&out);
	mime_message_free(&msg);
}

#define FETCH(text, item, want, range) \
	check_fetch_n(text, strlen(text), item, want, sizeof(want) - 1, range)
#define FETCH_N(text, item, want, range) \
	check_fetch_n(text, sizeof(text) - 1, item, want, sizeof(want) - 1, \
		      range)

static const char msg_crlf[] =
	"From: a@b.test\r\nSubject: s\r\n\tfolded\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
	"--b\r\nContent-Type: message/rfc822\r\n\r\n"
	"Subject: inner\r\nX: y\r\n\r\ninner body\r\n--b--\r\n";

static void
test_sections(void **state)
{
	FETCH(msg_crlf, "BODY[]<0.6>", "From: ", 1);
	FETCH(msg_crlf, "BODY[HEADER]",
	      "From: a@b.test\r\nSubject: s\r\n\tfolded\r\n"
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\n", 1);
	FETCH(msg_crlf, "BODY[HEADER.FIELDS (SUBJECT x-none)]",
	      "Subject: s\r\n\tfolded\r\n\r\n", 0);
	FETCH(msg_crlf, "BODY[HEADER.FIELDS.NOT (Subject Content-Type)]",
	      "From: a@b.test\r\n\r\n", 0);
	FETCH(msg_crlf, "BODY[1]", "one", 1);
	FETCH(msg_crlf, "BODY[1.MIME]", "Content-Type: text/plain\r\n\r\n", 1);
	FETCH(msg_crlf, "BODY[2]", "Subject: inner\r\nX: y\r\n\r\ninner body",
	      1);
	FETCH(msg_crlf, "BODY[2.HEADER]", "Subject: inner\r\nX: y\r\n\r\n", 1);
	FETCH(msg_crlf, "BODY[2.TEXT]", "inner body", 1);
	FETCH(msg_crlf, "BODY[2.HEADER.FIELDS (X)]", "X: y\r\n\r\n", 0);
	FETCH(msg_crlf, "BODY[2.1]", "inner body", 1);
	FETCH(msg_crlf, "BODY[2.1.MIME]", "Subject: inner\r\nX: y\r\n\r\n", 1);
	/* parts that do not exist, HEADER of a non-message part */
	FETCH(msg_crlf, "BODY[3]", "", -1);
	FETCH(msg_crlf, "BODY[1.1]", "one", 1);
	FETCH(msg_crlf, "BODY[1.1.1]", "", -1);
	FETCH(msg_crlf, "BODY[2.1.1]", "", -1);
	FETCH(msg_crlf, "BODY[1.HEADER]", "", -1);
	FETCH(msg_crlf, "BODY[1.TEXT]", "", -1);
	FETCH(msg_crlf, "BODY[1.HEADER.FIELDS (A)]", "", -1);
	/* partial past the end */
	FETCH(msg_crlf, "BODY[1]<2.100>", "e", 1);
	FETCH(msg_crlf, "BODY[1]<3.1>", "", 1);
	FETCH(msg_crlf, "BODY[1]<99.1>", "", 1);
	FETCH(msg_crlf, "BODY[1]<0.0>", "", 1);
}

static void
test_conversion(void **state)
{
	static const char lf[] = "Subject: s\n\nline\nx\0y\n";
	static const char noblank[] = "A: 1\nB: 2";

	/* bare LFs become CRLF, NUL becomes 0x80; partial counts in the
	   converted octets */
	FETCH_N(lf, "BODY[]", "Subject: s\r\n\r\nline\r\nx\x80y\r\n", 0);
	FETCH_N(lf, "BODY[]<10.6>", "\r\n\r\nli", 0);
	FETCH_N(lf, "BODY[TEXT]", "line\r\nx\x80y\r\n", 0);
	/* BINARY keeps the NUL */
	FETCH_N(lf, "BINARY[1]", "line\r\nx\0y\r\n", 0);
	/* a header without its empty line: fields get a line end, but
	   no empty line is made up */
	FETCH(noblank, "BODY[HEADER.FIELDS (B)]", "B: 2\r\n", 0);
	FETCH(noblank, "BODY[HEADER]", "A: 1\r\nB: 2", 0);
	FETCH(noblank, "BODY[TEXT]", "", 1);
}

static const char msg_encoded[] =
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n"
	"Content-Transfer-Encoding: BASE64\r\nX: y\r\n\r\naGk=\r\n"
	"--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n";

static void
test_binary(void **state)
{
	struct mime_message *msg;
	struct imap_section *section;
	struct imap_section_result res;
	const char *error;
	static const char unknown[] =
		"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Transfer-Encoding: x-uuencode\n\nbegin\n--b--\n";

	FETCH(msg_encoded, "BINARY[1]", "hi", 0);
	FETCH(msg_encoded, "BINARY[2]", "a=b", 0);
	FETCH(msg_encoded, "BINARY[3]", "plain", 0);
	FETCH(msg_encoded, "BINARY[1]<1.5>", "i", 0);
	/* containers: decoded leaves with a "binary" encoding field */
	FETCH(msg_encoded, "BINARY[]",
	      "MIME-Version: 1.0\r\n"
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	      "--b\r\nContent-Type: text/plain\r\nX: y\r\n"
	      "Content-Transfer-Encoding: binary\r\n\r\nhi\r\n"
	      "--b\r\nContent-Transfer-Encoding: binary\r\n\r\na=b\r\n"
	      "--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n", 0);
	FETCH(msg_encoded, "BINARY[4]", "", -1);

	/* BINARY.SIZE is the length of BINARY */
	msg = mime_message_parse((const unsigned char *)msg_encoded,
				 strlen(msg_encoded));
	assert_int_equal(imap_section_parse("BINARY.SIZE[1]", &section,
					    &error), 0);
	assert_true(imap_section_is_size(section));
	assert_int_equal(imap_section_fetch(section, msg,
		(const unsigned char *)msg_encoded, strlen(msg_encoded),
		&res, &error), 0);
	assert_int_equal(res.size, 2);
	imap_section_result_free(&res);
	imap_section_free(&section);
	mime_message_free(&msg);

	/* RFC 3516 §4.3: an unknown encoding is NO [UNKNOWN-CTE] */
	msg = mime_message_parse((const unsigned char *)unknown,
				 strlen(unknown));
	assert_int_equal(imap_section_parse("BINARY[]", &section, &error), 0);
	assert_int_equal(imap_section_fetch(section, msg,
		(const unsigned char *)unknown, strlen(unknown), &res,
		&error), -1);
	assert_string_equal(error, "UNKNOWN-CTE");
	imap_section_free(&section);
	assert_int_equal(imap_section_parse("BODY[1]", &section, &error), 0);
	assert_int_equal(imap_section_fetch(section, msg,
		(const unsigned char *)unknown, strlen(unknown), &res,
		&error), 0);
	imap_section_result_free(&res);
	imap_section_free(&section);
	mime_message_free(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_conversion),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
