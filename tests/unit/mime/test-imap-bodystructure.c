/* SPDX-License-Identifier: MIT */
/*
 * test-imap-bodystructure.c: unit tests for src/mime/imap-bodystructure.c:
 * BODY and BODYSTRUCTURE of text, basic, multipart and message/rfc822
 * parts (RFC 3501 §7.4.2), defaults, extension data, empty multiparts.
 */
#include "imap-bodystructure.h"
#include "mime-parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
check(const char *msg_text, bool extended, const char *want)
{
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)msg_text, strlen(msg_text));
	buf_t out = BUF_INIT;

	imap_bodystructure_write(&out, msg->root, extended, 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_message_free(&msg);
}

static void
test_text(void **state)
{
	check("Subject: x\n\nline\n", false,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 6 1)");
	check("Subject: x\r\n\r\nline\r\n", true,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 6 1 NIL NIL NIL NIL)");
	check("Content-Type: TEXT/HTML; Charset=UTF-8; format=flowed\n"
	      "Content-ID: <id>\nContent-Description: d\n"
	      "Content-Transfer-Encoding: Quoted-Printable\n"
	      "Content-MD5: sum\nContent-Disposition: inline\n"
	      "Content-Language: en\nContent-Location: loc\n\nx", true,
	      "(\"TEXT\" \"HTML\" (\"Charset\" \"UTF-8\" \"format\" "
	      "\"flowed\") \"<id>\" \"d\" \"Quoted-Printable\" 1 0 \"sum\" "
	      "(\"inline\" NIL) (\"en\") \"loc\")");
}

static void
test_basic(void **state)
{
	check("Content-Type: image/png; name=a.png\n"
	      "Content-Transfer-Encoding: base64\n"
	      "Content-Disposition: attachment; filename*=utf-8''%41\n\nAA==\n",
	      true, "(\"image\" \"png\" (\"name\" \"a.png\") NIL NIL "
	      "\"base64\" 6 NIL (\"attachment\" (\"filename*\" "
	      "\"utf-8''%41\")) NIL NIL)");
	/* a broken Content-Type: what could be read, no parameters */
	check("Content-Type: ; x=y\n\nz", false,
	      "(\"\" \"\" NIL NIL NIL \"7bit\" 1)");
}

static void
test_multipart(void **state)
{
	check("Content-Type: multipart/alternative; boundary=b\n\n"
	      "--b\n\nplain\n--b\nContent-Type: text/html\n\n<p>\n--b--\n",
	      false,
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 5 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL "
	      "NIL \"7bit\" 3 0) \"alternative\")");
	check("Content-Type: multipart/mixed; boundary=b\n"
	      "Content-Language: de\n\n--b\n\nx\n--b--\n", true,
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") "
	      "NIL (\"de\") NIL)");
	/* no body parts: one empty text/plain, as the grammar needs */
	check("Content-Type: multipart/mixed; boundary=b\n\n--b--\n", true,
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") "
	      "NIL NIL NIL)");
	check("Content-Type: multipart/mixed\n\nx", false,
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 0 0) \"mixed\")");
}

static void
test_message(void **state)
{
	check("Content-Type: message/RFC822\n\nSubject: s\n\nbody\n", false,
	      "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 20 "
	      "(NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 6 1) 3)");
	check("Content-Type: message/rfc822\n\n", true,
	      "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 "
	      "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 0 0 NIL NIL NIL NIL) 0 NIL NIL NIL NIL)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
