/* SPDX-License-Identifier: MIT */
/*
 * test-mime-parser.c: unit tests for src/mime/mime-parser.c: header
 * field splitting, part offsets and sizes, multipart preamble/epilogue,
 * missing and outer delimiters, message/rfc822 nesting, digest
 * defaults, non-MIME parts, the envelope fields, the depth and part
 * limits, pull-style parsing, and part lookup by IMAP number.
 */
#include "mime-parser.h"
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct mime_message *
parse(const char *text)
{
	return mime_message_parse((const unsigned char *)text, strlen(text));
}

static struct mime_part *
find(struct mime_message *msg, unsigned int count, ...)
{
	unsigned int nums[16], i;
	va_list args;

	va_start(args, count);
	for (i = 0; i < count; i++)
		nums[i] = va_arg(args, unsigned int);
	va_end(args);
	return mime_message_find_part(msg, nums, count);
}

/* The part's body as a string. */
static void
check_body(const char *msg_text, const struct mime_part *part,
	   const char *want)
{
	size_t start = part->offset + part->header.physical;

	assert_int_equal(part->body.physical, strlen(want));
	assert_memory_equal(msg_text + start, want, strlen(want));
}

static void
test_header_fields(void **state)
{
	static const char hdr[] =
		"Subject:  a\r\n b\r\nX-Empty:\r\nno colon\r\n"
		"Name \t: v\n\r\nbody";
	const unsigned char *data = (const unsigned char *)hdr;
	struct mime_field f;
	size_t pos = 0;

	assert_true(mime_header_next_field(data, strlen(hdr), &pos, &f));
	assert_true(mime_field_is(&f, "subject"));
	assert_int_equal(f.value_len, 5);
	assert_memory_equal(f.value, "a\r\n b", 5);
	assert_int_equal(f.newline_len, 2);
	assert_true(mime_header_next_field(data, strlen(hdr), &pos, &f));
	assert_true(mime_field_is(&f, "X-Empty"));
	assert_int_equal(f.value_len, 0);
	assert_true(mime_header_next_field(data, strlen(hdr), &pos, &f));
	assert_false(f.has_colon);
	assert_int_equal(f.name_len, 8);
	assert_true(mime_header_next_field(data, strlen(hdr), &pos, &f));
	assert_true(mime_field_is(&f, "Name"));
	assert_int_equal(f.newline_len, 1);
	assert_memory_equal(f.value, "v", 1);
	/* the empty line ends the block */
	assert_false(mime_header_next_field(data, strlen(hdr), &pos, &f));
	assert_int_equal(pos, strlen(hdr) - 6);

	/* a value of blanks only keeps all but the first */
	pos = 0;
	assert_true(mime_header_next_field((const unsigned char *)"A:   ",
					   5, &pos, &f));
	assert_int_equal(f.value_len, 2);
	assert_int_equal(f.newline_len, 0);
}

static void
test_simple(void **state)
{
	static const char text[] = "From: a@b.test\nSubject: x\n\nline1\nline2";
	struct mime_message *msg = parse(text);
	struct mime_part *root = msg->root;

	assert_int_equal(msg->part_count, 1);
	assert_int_equal(root->flags, MIME_PART_FLAG_TEXT);
	assert_true(root->header_has_eoh);
	assert_int_equal(root->header.physical, 27);
	assert_int_equal(root->header.virtual, 30);
	assert_int_equal(root->header.lines, 3);
	check_body(text, root, "line1\nline2");
	assert_int_equal(root->body.virtual, 12);
	assert_int_equal(root->body.lines, 1);
	assert_null(root->type);
	assert_string_equal(root->envelope->subject, "x");
	assert_ptr_equal(find(msg, 1, 1), root);
	assert_null(find(msg, 1, 2));
	assert_null(find(msg, 2, 1, 1));
	mime_message_free(&msg);
	assert_null(msg);
	mime_message_free(&msg);
}

static void
test_multipart(void **state)
{
	static const char text[] =
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"preamble\r\n--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"
		"one\r\n--b  \r\n"
		"\r\ntwo\r\n--b--\r\nepilogue\r\n";
	struct mime_message *msg = parse(text);
	struct mime_part *root = msg->root, *p1, *p2;

	assert_int_equal(msg->part_count, 3);
	assert_true((root->flags & MIME_PART_FLAG_MULTIPART) != 0);
	assert_string_equal(root->subtype, "mixed");
	assert_string_equal(mime_param_get(root->type_params,
		root->type_params_count, "BOUNDARY"), "b");
	assert_int_equal(root->children_count, 2);
	p1 = find(msg, 1, 1);
	p2 = find(msg, 1, 2);
	assert_ptr_equal(p1, root->children);
	assert_ptr_equal(p2, p1->next);
	/* a leaf in a multipart is its own part 1, once */
	assert_ptr_equal(find(msg, 2, 2, 1), p2);
	assert_null(find(msg, 3, 2, 1, 1));
	assert_null(find(msg, 2, 2, 2));
	assert_null(find(msg, 1, 0));
	assert_int_equal(p1->flags, MIME_PART_FLAG_TEXT |
			 MIME_PART_FLAG_IS_MIME);
	/* the CRLF before a delimiter belongs to the delimiter */
	check_body(text, p1, "one");
	check_body(text, p2, "two");
	assert_string_equal(mime_param_get(p1->type_params,
		p1->type_params_count, "charset"), "utf-8");
	assert_null(p2->type);
	/* the multipart's body runs to the end, epilogue included */
	assert_int_equal(root->offset + root->header.physical +
			 root->body.physical, strlen(text));
	assert_int_equal(root->body.lines, 10);
	mime_message_free(&msg);
}

static void
test_broken_multipart(void **state)
{
	struct mime_message *msg;
	struct mime_part *part;

	/* missing close delimiter; a header block cut by a delimiter */
	msg = parse("Content-Type: multipart/mixed; boundary=b\n\n"
		    "--b\nContent-Type: text/html\n--b\n\nlast");
	assert_int_equal(msg->root->children_count, 2);
	part = msg->root->children;
	assert_false(part->header_has_eoh);
	assert_int_equal(part->header.physical, 23);
	assert_int_equal(part->body.physical, 0);
	assert_true((part->flags & MIME_PART_FLAG_TEXT) != 0);
	assert_string_equal(part->subtype, "html");
	assert_int_equal(part->next->body.physical, 4);
	mime_message_free(&msg);

	/* an outer delimiter closes the inner multipart */
	msg = parse("Content-Type: multipart/mixed; boundary=o\n\n--o\n"
		    "Content-Type: multipart/mixed; boundary=i\n\n--i\n\nx\n"
		    "--o\n\ny\n--o--\n");
	assert_int_equal(msg->root->children_count, 2);
	assert_int_equal(msg->root->children->children_count, 1);
	mime_message_free(&msg);

	/* no boundary parameter: no body parts */
	msg = parse("Content-Type: multipart/mixed\n\n--x\n\ny\n");
	assert_true((msg->root->flags & MIME_PART_FLAG_MULTIPART) != 0);
	assert_null(msg->root->children);
	mime_message_free(&msg);

	/* boundaries are prefixes; the longest active one wins */
	msg = parse("Content-Type: multipart/mixed; boundary=a\n\n--a\n"
		    "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\n1\n"
		    "--abc\n\n2\n--a--\n");
	assert_int_equal(msg->root->children->children_count, 2);
	mime_message_free(&msg);
}

static void
test_rfc822(void **state)
{
	static const char text[] =
		"Content-Type: message/rfc822\n\n"
		"Subject: inner\nFrom: x@y.test\nTo: a, b@c\nTo: d@e\n\nbody\n";
	struct mime_message *msg = parse(text);
	struct mime_part *root = msg->root, *inner;
	struct mime_address *addr;
	unsigned int n = 0;

	assert_true((root->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0);
	inner = root->children;
	assert_non_null(inner);
	assert_null(inner->next);
	assert_int_equal(inner->depth, 1);
	assert_non_null(inner->envelope);
	assert_string_equal(inner->envelope->subject, "inner");
	/* repeated address fields add up */
	for (addr = inner->envelope->to; addr != NULL; addr = addr->next)
		n++;
	assert_int_equal(n, 3);
	assert_string_equal(inner->envelope->to->domain, "MISSING_DOMAIN");
	check_body(text, inner, "body\n");
	assert_int_equal(root->body.physical,
			 inner->header.physical + inner->body.physical);
	/* numbers continue inside the encapsulated message */
	assert_ptr_equal(find(msg, 1, 1), root);
	assert_ptr_equal(find(msg, 2, 1, 1), inner);
	assert_null(find(msg, 2, 1, 2));
	assert_null(find(msg, 3, 1, 1, 1));
	mime_message_free(&msg);
}

static void
test_digest_and_not_mime(void **state)
{
	struct mime_message *msg;

	msg = parse("MIME-Version: 1.0\nContent-Type: multipart/digest; "
		    "boundary=d\n\n--d\n\nSubject: s\n\nx\n--d--\n");
	assert_true((msg->root->children->flags &
		     MIME_PART_FLAG_MESSAGE_RFC822) != 0);
	assert_string_equal(msg->root->children->children->envelope->subject,
			    "s");
	mime_message_free(&msg);

	/* RFC 2045 §1: no MIME-Version or Content-Type, no MIME */
	msg = parse("Content-Transfer-Encoding: base64\n"
		    "Content-ID: <x>\n\naGk=\n");
	assert_int_equal(msg->root->flags, MIME_PART_FLAG_TEXT);
	assert_null(msg->root->encoding);
	assert_null(msg->root->id);
	mime_message_free(&msg);

	/* Content-Type alone is taken as MIME */
	msg = parse("Content-Type: text/html\n"
		    "Content-Transfer-Encoding: Base64 (c)\n"
		    "Content-Language: en, de-DE\n"
		    "Content-Disposition: inline; filename=\"a b\"\n\nx\n");
	assert_string_equal(msg->root->encoding, "Base64");
	assert_string_equal(msg->root->language[0], "en");
	assert_string_equal(msg->root->language[1], "de-DE");
	assert_null(msg->root->language[2]);
	assert_string_equal(msg->root->disposition, "inline");
	assert_string_equal(msg->root->disposition_params[0].value, "a b");
	mime_message_free(&msg);

	/* a broken Content-Type keeps what it can */
	msg = parse("Content-Type: text\n\nx");
	assert_string_equal(msg->root->type, "text");
	assert_string_equal(msg->root->subtype, "");
	assert_true((msg->root->flags & MIME_PART_FLAG_TEXT) != 0);
	mime_message_free(&msg);
	msg = parse("Content-Type: ;x=y\n\nx");
	assert_string_equal(msg->root->type, "");
	assert_int_equal(msg->root->flags & MIME_PART_FLAG_TEXT, 0);
	assert_int_equal(msg->root->type_params_count, 0);
	mime_message_free(&msg);
}

static void
test_envelope(void **state)
{
	struct mime_message *msg;
	struct mime_envelope *env;

	msg = parse("Date: d1\nSubject: first\nsubject: second\n"
		    "Message-ID:\n <id@x>\nIn-Reply-To: <r@x>\n"
		    "From: a@b.test\nSender: s@b.test\nReply-To:\n"
		    "Cc: c@d.test\nBcc: e@f.test\n\n");
	env = msg->root->envelope;
	assert_string_equal(env->date, "d1");
	/* the last of repeated fields counts */
	assert_string_equal(env->subject, "second");
	assert_string_equal(env->message_id, "\n <id@x>");
	assert_string_equal(env->in_reply_to, "<r@x>");
	assert_string_equal(env->from->mailbox, "a");
	assert_string_equal(env->sender->mailbox, "s");
	assert_null(env->reply_to);
	assert_string_equal(env->cc->domain, "d.test");
	assert_string_equal(env->bcc->domain, "f.test");
	assert_null(env->to);
	mime_message_free(&msg);

	/* NUL bytes become U+FFFD in strings */
	msg = mime_message_parse((const unsigned char *)"Subject: a\0b\n\n",
				 14);
	assert_string_equal(msg->root->envelope->subject, "a\xef\xbf\xbd" "b");
	assert_true((msg->root->flags & MIME_PART_FLAG_HAS_NULS) != 0);
	mime_message_free(&msg);
}

static void
test_limits(void **state)
{
	buf_t text = BUF_INIT;
	struct mime_message *msg;
	struct mime_part *part;
	unsigned int i;

	/* depth: the container at the last level is an opaque leaf */
	for (i = 0; i < MIME_PARSER_MAX_DEPTH + 10; i++)
		buf_append_str(&text, "Content-Type: message/rfc822\n\n");
	buf_append_str(&text, "\nbottom\n");
	msg = mime_message_parse(text.data, text.len);
	for (part = msg->root; part->children != NULL; part = part->children)
		;
	assert_int_equal(part->depth, MIME_PARSER_MAX_DEPTH - 1);
	assert_true((part->flags & MIME_PART_FLAG_OVERFLOW) != 0);
	assert_string_equal(part->type, "application");
	assert_string_equal(part->subtype, "octet-stream");
	assert_true(msg->overflow);
	mime_message_free(&msg);

	/* part count: the last part allowed takes the rest */
	buf_reset(&text);
	buf_append_str(&text, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < MIME_PARSER_MAX_PARTS + 5; i++)
		buf_append_str(&text, "--b\n\nx\n");
	buf_append_str(&text, "--b--\n");
	msg = mime_message_parse(text.data, text.len);
	assert_int_equal(msg->part_count, MIME_PARSER_MAX_PARTS);
	assert_int_equal(msg->root->children_count, MIME_PARSER_MAX_PARTS - 1);
	part = find(msg, 1, MIME_PARSER_MAX_PARTS - 1);
	assert_true((part->flags & MIME_PART_FLAG_OVERFLOW) != 0);
	assert_int_equal(part->offset + part->header.physical +
			 part->body.physical, text.len);
	mime_message_free(&msg);
	buf_deinit(&text);
}

static void
test_pull(void **state)
{
	static const char text[] =
		"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: message/rfc822\n\nSubject: s\n\nx\n--b\n\ny\n"
		"--b--\n";
	struct mime_parser *parser;
	struct mime_part *part, *seen[8];
	struct mime_message *msg;
	unsigned int n = 0;

	parser = mime_parser_init((const unsigned char *)text, strlen(text));
	while (mime_parser_next(parser, &part) > 0) {
		assert_true(n < N_ELEMENTS(seen));
		seen[n++] = part;
	}
	assert_int_equal(mime_parser_next(parser, &part), 0);
	msg = mime_parser_deinit(&parser);
	assert_null(parser);
	/* document order: root, 1, 1's message, 2 */
	assert_int_equal(n, 4);
	assert_ptr_equal(seen[0], msg->root);
	assert_ptr_equal(seen[1], msg->root->children);
	assert_ptr_equal(seen[2], msg->root->children->children);
	assert_ptr_equal(seen[3], msg->root->children->next);
	mime_message_free(&msg);

	/* stopping early still gives the whole tree */
	parser = mime_parser_init((const unsigned char *)text, strlen(text));
	assert_int_equal(mime_parser_next(parser, &part), 1);
	msg = mime_parser_deinit(&parser);
	assert_int_equal(msg->part_count, 4);
	mime_message_free(&msg);
}

static void
test_empty(void **state)
{
	struct mime_message *msg = mime_message_parse(NULL, 0);

	assert_int_equal(msg->root->header.physical, 0);
	assert_int_equal(msg->root->body.physical, 0);
	assert_false(msg->root->header_has_eoh);
	mime_message_free(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_broken_multipart),
		cmocka_unit_test(test_rfc822),
		cmocka_unit_test(test_digest_and_not_mime),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pull),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
