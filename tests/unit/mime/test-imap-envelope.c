/* SPDX-License-Identifier: MIT */
/*
 * test-imap-envelope.c: unit tests for src/mime/imap-envelope.c: the
 * RFC 3501 §7.4.2 field order, NIL versus "", Sender and Reply-To
 * defaulting to From, groups, folding, and literals for 8-bit text.
 */
#include "imap-envelope.h"
#include "mime-parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
check(const char *msg_text, const char *want)
{
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)msg_text, strlen(msg_text));
	buf_t out = BUF_INIT;

	imap_envelope_write(&out, msg->root->envelope, 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_message_free(&msg);
}

static void
test_fields(void **state)
{
	check("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	check("Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	      "Subject: hello\r\nFrom: A <a@x.test>\r\n"
	      "Sender: s@x.test\r\nReply-To: r@x.test\r\nTo: t@x.test\r\n"
	      "Cc: c@x.test\r\nBcc: b@x.test\r\nIn-Reply-To: <i@x>\r\n"
	      "Message-ID: <m@x>\r\n\r\n",
	      "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"hello\" "
	      "((\"A\" NIL \"a\" \"x.test\")) ((NIL NIL \"s\" \"x.test\")) "
	      "((NIL NIL \"r\" \"x.test\")) ((NIL NIL \"t\" \"x.test\")) "
	      "((NIL NIL \"c\" \"x.test\")) ((NIL NIL \"b\" \"x.test\")) "
	      "\"<i@x>\" \"<m@x>\")");
	/* RFC 3501: Sender and Reply-To default to From; empty is "" */
	check("From: a@x.test\nSubject:\nDate:\n\n",
	      "(\"\" \"\" ((NIL NIL \"a\" \"x.test\")) "
	      "((NIL NIL \"a\" \"x.test\")) ((NIL NIL \"a\" \"x.test\")) "
	      "NIL NIL NIL NIL NIL)");
	check("To:\n\n", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void
test_text(void **state)
{
	/* folds go; the subject's white space collapses into a literal */
	check("Subject: a\r\n\tfolded   subject\r\n"
	      "Message-ID:\r\n <id>\r\n\r\n",
	      "(NIL {16}\r\na folded subject NIL NIL NIL NIL NIL NIL NIL "
	      "\" <id>\")");
	check("Subject: Gr\xc3\xbc\xc3\x9f" "e\n\n",
	      "(NIL {7}\r\nGr\xc3\xbc\xc3\x9f" "e NIL NIL NIL NIL NIL NIL "
	      "NIL NIL)");
	check("Subject: =?utf-8?q?x?=\n\n",
	      "(NIL \"=?utf-8?q?x?=\" NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void
test_addresses(void **state)
{
	check("To: g: a@b.test, \"C D\" <c@d.test>;, empty:;\n\n",
	      "(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)"
	      "(NIL NIL \"a\" \"b.test\")(\"C D\" NIL \"c\" \"d.test\")"
	      "(NIL NIL NIL NIL)(NIL NIL \"empty\" NIL)(NIL NIL NIL NIL)) "
	      "NIL NIL NIL NIL)");
	check("From: <@r.test:u@h.test>, user, \"q\\\\\\\"\" <x@y>\n\n",
	      "(NIL NIL ((NIL \"@r.test\" \"u\" \"h.test\")"
	      "(NIL NIL \"user\" \"MISSING_DOMAIN\")({3}\r\nq\\\" NIL \"x\" "
	      "\"y\")) ((NIL \"@r.test\" \"u\" \"h.test\")"
	      "(NIL NIL \"user\" \"MISSING_DOMAIN\")({3}\r\nq\\\" NIL \"x\" "
	      "\"y\")) ((NIL \"@r.test\" \"u\" \"h.test\")"
	      "(NIL NIL \"user\" \"MISSING_DOMAIN\")({3}\r\nq\\\" NIL \"x\" "
	      "\"y\")) NIL NIL NIL NIL NIL)");
}

static void
test_utf8(void **state)
{
	static const char text[] = "Subject: caf\xc3\xa9\n\n";
	struct mime_message *msg = mime_message_parse(
		(const unsigned char *)text, strlen(text));
	buf_t out = BUF_INIT;

	imap_envelope_write(&out, msg->root->envelope, IMAP_QUOTE_FLAG_UTF8);
	assert_string_equal(buf_cstr(&out),
			    "(NIL \"caf\xc3\xa9\" NIL NIL NIL NIL NIL NIL "
			    "NIL NIL)");
	buf_reset(&out);
	imap_envelope_write(&out, NULL, 0);
	assert_string_equal(buf_cstr(&out),
			    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	buf_deinit(&out);
	mime_message_free(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
