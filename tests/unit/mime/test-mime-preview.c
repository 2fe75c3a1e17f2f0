/* SPDX-License-Identifier: MIT */
/*
 * test-mime-preview.c: unit tests for src/mime/mime-preview.c: HTML to
 * text, the choice of part, white space, the 256-character limit.
 */
#include "mime-preview.h"
#include "mime-parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
check_html(const char *html, const char *want)
{
	buf_t out = BUF_INIT;

	mime_preview_html_to_text((const unsigned char *)html, strlen(html),
				  &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
}

static void
test_html(void **state)
{
	check_html("a<b>b</b>c", "abc");
	check_html("a<p>b</p>c", "a b c");
	check_html("x<!-- <p>hidden</p> -->y", "xy");
	check_html("<script type=x>if (a < b) {}</script>t", " t");
	check_html("<STYLE>p{}</STYLE>s", " s");
	check_html("&lt;&amp;&gt;&quot;&#65;&#x42;&eacute;&Eacute;",
		   "<&>\"AB\xc3\xa9\xc3\x89");
	check_html("&unknown; &; &#; &#xZZ; a&b", "&unknown; &; &#; &#xZZ; a&b");
	check_html("&#0;&#xD800;", "\xef\xbf\xbd\xef\xbf\xbd");
	check_html("<a href='x'", "");
	check_html("<!-- open", "");
	check_html("<script>never closed", " ");
	/* found by fuzz-preview: a '<' or "</" that ends the input */
	check_html("a<", "a");
	check_html("a</", "a ");
}

static void
check_preview(const char *msg, const char *want)
{
	struct mime_message *mime =
		mime_message_parse((const unsigned char *)msg, strlen(msg));
	buf_t out = BUF_INIT;

	mime_preview_append(mime, (const unsigned char *)msg, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
	mime_message_free(&mime);
}

static void
test_preview(void **state)
{
	buf_t msg = BUF_INIT, out = BUF_INIT;
	struct mime_message *mime;
	unsigned int i;

	check_preview("Subject: x\r\n\r\n  Hello\r\n\r\n\tworld  \r\n",
		      "Hello world");
	check_preview("Content-Type: text/html\r\n\r\n<p>Hi&nbsp;there</p>",
		      "Hi there");
	check_preview("Content-Type: multipart/mixed; boundary=B\r\n\r\n"
		      "--B\r\nContent-Type: image/gif\r\n\r\nGIF89a\r\n"
		      "--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		      "caf=E9\r\n--B--\r\n", "caf\xc3\xa9");
	check_preview("Content-Type: application/pdf\r\n\r\n%PDF", "");
	/* 300 two-byte characters: 256 of them, 512 bytes */
	buf_append_str(&msg, "Subject: l\r\n\r\n");
	for (i = 0; i < 300; i++)
		buf_append_str(&msg, "\xc3\xa9");
	mime = mime_message_parse(msg.data, msg.len);
	mime_preview_append(mime, msg.data, &out);
	assert_int_equal(out.len, 2 * MIME_PREVIEW_CHARS);
	buf_deinit(&out);
	buf_deinit(&msg);
	mime_message_free(&mime);

	/* found by fuzz-preview: a space at the limit is not kept */
	buf_append_str(&msg, "Subject: l\r\n\r\n");
	for (i = 0; i < MIME_PREVIEW_CHARS - 1; i++)
		buf_append_c(&msg, 'a');
	buf_append_str(&msg, "  b");
	mime = mime_message_parse(msg.data, msg.len);
	mime_preview_append(mime, msg.data, &out);
	assert_int_equal(out.len, MIME_PREVIEW_CHARS - 1);
	assert_int_equal(out.data[out.len - 1], 'a');
	buf_deinit(&out);
	buf_deinit(&msg);
	mime_message_free(&mime);
}

/* fuzz-preview: an HTML part whose text is empty (the header block ran
   to the end) passed a NULL buffer to mime_utf8_sanitize, which then did
   "NULL + 0" (UBSan: applying zero offset to null pointer). */
static void
test_empty_html(void **state)
{
	static const char msg[] =
		"Subject: s\r\nContent-Type: text/html; charset=utf-8e>"
		"<p>Caf&eacute; &amp; <b>K</b>&#246;ln</p><!-- c --></html>"
		"\r\n";
	struct mime_message *mime;
	buf_t out = BUF_INIT;

	mime = mime_message_parse((const unsigned char *)msg,
				  sizeof(msg) - 1);
	mime_preview_append(mime, (const unsigned char *)msg, &out);
	assert_int_equal(out.len, 0);
	buf_deinit(&out);
	mime_message_free(&mime);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_empty_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
