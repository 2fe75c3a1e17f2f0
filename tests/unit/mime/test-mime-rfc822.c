/* SPDX-License-Identifier: MIT */
/*
 * test-mime-rfc822.c: unit tests for src/mime/mime-rfc822.c: comments,
 * atoms and dot-atoms with obsolete CFWS, quoted strings with folding
 * and quoted-pairs, phrases, domains, Content-Type values and RFC 2231
 * parameter merging (RFC 2231 §3, §4 examples).
 */
#include "mime-rfc822.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

typedef int reader_t(struct mime_rfc822 *ctx, buf_t *out);

/* Runs reader over in; checks its return value, token and what is
   left of the input. */
static void
check_reader(reader_t *reader, const char *in, int ret, const char *token,
	     const char *rest)
{
	struct mime_rfc822 ctx;
	buf_t out = BUF_INIT;

	mime_rfc822_init(&ctx, in, strlen(in), NULL);
	assert_int_equal(reader(&ctx, &out), ret);
	if (token != NULL)
		assert_string_equal(buf_cstr(&out), token);
	if (rest != NULL) {
		assert_int_equal(ctx.end - ctx.data, strlen(rest));
		assert_memory_equal(ctx.data, rest, strlen(rest));
	}
	buf_deinit(&out);
}

static void
test_cfws(void **state)
{
	struct mime_rfc822 ctx;
	buf_t comment = BUF_INIT;
	const char *in = " \t(a (nested) \\) c)\r\n x";

	mime_rfc822_init(&ctx, in, strlen(in), &comment);
	assert_int_equal(mime_rfc822_skip_cfws(&ctx), 1);
	assert_int_equal(*ctx.data, 'x');
	assert_string_equal(buf_cstr(&comment), "a (nested) ) c");

	in = "  (unterminated";
	mime_rfc822_init(&ctx, in, strlen(in), &comment);
	assert_int_equal(mime_rfc822_skip_cfws(&ctx), -1);
	in = "(a)";
	mime_rfc822_init(&ctx, in, strlen(in), NULL);
	assert_int_equal(mime_rfc822_skip_cfws(&ctx), 0);
	in = "(\\";
	mime_rfc822_init(&ctx, in, strlen(in), &comment);
	assert_int_equal(mime_rfc822_skip_cfws(&ctx), -1);
	buf_deinit(&comment);

	assert_true(mime_rfc822_is_atext('a'));
	assert_true(mime_rfc822_is_atext(0xc3));
	assert_false(mime_rfc822_is_atext('@'));
	assert_false(mime_rfc822_is_atext('\0'));
	assert_true(mime_rfc822_is_token_char('.'));
	assert_false(mime_rfc822_is_token_char('/'));
	assert_false(mime_rfc822_is_token_char('='));
}

static void
test_atoms(void **state)
{
	check_reader(mime_rfc822_atom, "abc def", 1, "abc", "def");
	check_reader(mime_rfc822_atom, "abc", 0, "abc", "");
	check_reader(mime_rfc822_atom, "@abc", -1, "", "@abc");
	check_reader(mime_rfc822_dot_atom, "a.b.c@x", 1, "a.b.c", "@x");
	/* RFC 5322 §4.4 obsolete: CFWS around the dots */
	check_reader(mime_rfc822_dot_atom, "a . b (c) .d", 0, "a.b.d", "");
	check_reader(mime_rfc822_dot_atom, "a.", 0, "a.", "");
	check_reader(mime_rfc822_mime_token, "text/plain", 1, "text",
		     "/plain");
	check_reader(mime_rfc822_mime_token, "x-y.z;", 1, "x-y.z", ";");
	check_reader(mime_rfc822_mime_token, "=x", 1, "", "=x");
}

static void
test_quoted(void **state)
{
	check_reader(mime_rfc822_quoted_string, "\"a \\\"b\\\\\" c", 1,
		     "a \"b\\", "c");
	/* folding inside: the line end goes, the blank stays */
	check_reader(mime_rfc822_quoted_string, "\"a\r\n b\"", 0, "a b", "");
	check_reader(mime_rfc822_quoted_string, "\"a\n\tb\"", 0, "a\tb", "");
	check_reader(mime_rfc822_quoted_string, "\"open", -1, NULL, NULL);
	check_reader(mime_rfc822_quoted_string, "\"x\\", -1, NULL, NULL);
}

static void
test_phrase(void **state)
{
	check_reader(mime_rfc822_phrase, "John  Q. Public <x>", 1,
		     "John Q. Public", "<x>");
	check_reader(mime_rfc822_phrase, "\"Joe Q.\" Public:", 1,
		     "Joe Q. Public", ":");
	check_reader(mime_rfc822_phrase, ".start", -1, "", NULL);
	check_reader(mime_rfc822_phrase, "", 0, "", "");
	check_reader(mime_rfc822_domain, "@ example . org >", 1,
		     "example.org", ">");
	check_reader(mime_rfc822_domain, "@[1.2.3.4]", 0, "[1.2.3.4]", "");
	check_reader(mime_rfc822_domain, "@[1.2", -1, NULL, NULL);
	check_reader(mime_rfc822_domain, "@ ", -1, NULL, NULL);
}

static void
test_content_type(void **state)
{
	check_reader(mime_rfc822_content_type, " text/plain", 0,
		     "text/plain", "");
	check_reader(mime_rfc822_content_type, "Text / HTML ; x", 1,
		     "Text/HTML", "; x");
	check_reader(mime_rfc822_content_type, "text (c) /(d) plain", 0,
		     "text/plain", "");
	/* broken: what a lenient reader keeps */
	check_reader(mime_rfc822_content_type, "text", -1, "text", NULL);
	check_reader(mime_rfc822_content_type, "text/", -1, "", NULL);
	check_reader(mime_rfc822_content_type, "/plain", -1, "", NULL);
	check_reader(mime_rfc822_content_type, "; a=b", -1, "", NULL);
	check_reader(mime_rfc822_content_type, "", -1, "", NULL);
}

/* Parses the parameters of "type/sub" + in and compares them with the
   NULL-terminated name/value pairs. */
static void
check_params(const char *in, const char *const *want)
{
	struct mime_rfc822 ctx;
	struct mime_rfc822_param *params;
	buf_t type = BUF_INIT;
	unsigned int i, count;

	mime_rfc822_init(&ctx, in, strlen(in), NULL);
	(void)mime_rfc822_content_type(&ctx, &type);
	count = mime_rfc822_params(&ctx, &params);
	for (i = 0; want[i * 2] != NULL; i++) {
		assert_true(i < count);
		assert_string_equal(params[i].name, want[i * 2]);
		assert_string_equal(params[i].value, want[i * 2 + 1]);
	}
	assert_int_equal(count, i);
	mime_rfc822_params_free(&params, count);
	assert_null(params);
	buf_deinit(&type);
}

static void
test_params(void **state)
{
	check_params("a/b; charset=us-ascii; Name=\"x y\"",
		     (const char *const[]){ "charset", "us-ascii", "Name",
					    "x y", NULL });
	check_params("a/b;charset=", (const char *const[]){ "charset", "",
							   NULL });
	/* RFC 2231 §3: continuations */
	check_params("message/external-body; access-type=URL;\r\n"
		     " URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub\"",
		     (const char *const[]){ "access-type", "URL", "URL",
					    "ftp://cs.utk.edu/pub", NULL });
	/* §4: charset and language, kept encoded */
	check_params("a/b; title*=us-ascii'en-us'This%20is",
		     (const char *const[]){ "title*",
					    "us-ascii'en-us'This%20is",
					    NULL });
	/* §4.1: mixed sections; the plain one gets its % escaped */
	check_params("a/b; t*0*=us-ascii'en'A%20; t*1=\"100%\"",
		     (const char *const[]){ "t*", "us-ascii'en'A%20100%25",
					    NULL });
	/* out of order and case-insensitive names merge */
	check_params("a/b; n*1=B; N*0=A",
		     (const char *const[]){ "N", "AB", NULL });
	/* a gap: kept as written */
	check_params("a/b; a*0=x; a*2=z",
		     (const char *const[]){ "a*0", "x", "a*2", "z", NULL });
	/* malformed parameters are skipped, the next ones survive */
	check_params("a/b;; a=b ;c=d; =; e; f=\"g\"",
		     (const char *const[]){ "a", "b", "c", "d", "", "",
					    "f", "g", NULL });
	check_params("a/b; x=\"unterminated; y=z",
		     (const char *const[]){ NULL });
	check_params("a/b; x \"q;q\" junk; z=2",
		     (const char *const[]){ "z", "2", NULL });
	check_params("a/b; x (c;c) junk; z=2",
		     (const char *const[]){ "z", "2", NULL });
	check_params("a/b; y(c;c)=1",
		     (const char *const[]){ "y", "1", NULL });
	check_params("a/b; bad=(unterminated; y=2",
		     (const char *const[]){ NULL });
	/* an encoded-word where RFC 2047 §5 forbids it stays whole */
	check_params("a/b; name==?utf-8?b?w6Q=?=; x=y",
		     (const char *const[]){ "name", "=?utf-8?b?w6Q=?=",
					    "x", "y", NULL });
}

static void
test_params_nul(void **state)
{
	static const char in[] = "a/b; n=\"x\0y\"";
	struct mime_rfc822 ctx;
	struct mime_rfc822_param *params;
	buf_t type = BUF_INIT, out = BUF_INIT;
	unsigned int count;

	mime_rfc822_init(&ctx, in, sizeof(in) - 1, NULL);
	(void)mime_rfc822_content_type(&ctx, &type);
	count = mime_rfc822_params(&ctx, &params);
	assert_int_equal(count, 1);
	assert_string_equal(params[0].value, "x\xef\xbf\xbdy");
	mime_rfc822_params_free(&params, count);
	buf_deinit(&type);

	mime_rfc822_append_nonul(&out, "\0a\0", 3);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, "\xef\xbf\xbd" "a\xef\xbf\xbd", 7);
	buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfws),
		cmocka_unit_test(test_atoms),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_phrase),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_params_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
