/* SPDX-License-Identifier: MIT */
/*
 * test-dict.c: unit tests for src/lib/dict.c, the CommuniGate dictionary
 * format: grammar, escapes, data blocks, typed atoms, nesting, errors with
 * exact line and column, limits, builders, and print/parse round trips of
 * fixed and random trees.
 */
#include "dict.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Structural equality: same types, bytes, order, keys. */
static bool
value_equal(const struct dict_value *a, const struct dict_value *b)
{
	unsigned int i;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case DICT_TYPE_STRING:
	case DICT_TYPE_DATA:
		return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
	case DICT_TYPE_NULL:
		return true;
	case DICT_TYPE_ARRAY:
	case DICT_TYPE_DICT:
		if (a->count != b->count)
			return false;
		for (i = 0; i < a->count; i++) {
			if (a->type == DICT_TYPE_DICT &&
			    strcmp(a->keys[i], b->keys[i]) != 0)
				return false;
			if (!value_equal(a->items[i], b->items[i]))
				return false;
		}
		return true;
	}
	return false;
}

static struct dict_value *
parse_ok(const char *text)
{
	struct dict_value *value;
	char *error;

	if (dict_parse((const unsigned char *)text, strlen(text), &value,
		       &error) < 0)
		fail_msg("parse of '%s' failed: %s", text, error);
	assert_null(error);
	assert_non_null(value);
	return value;
}

static void
assert_parse_error(const char *text, const char *expected)
{
	struct dict_value *value;
	char *error;

	if (dict_parse((const unsigned char *)text, strlen(text), &value,
		       &error) == 0)
		fail_msg("parse of '%s' succeeded", text);
	assert_null(value);
	assert_non_null(error);
	if (strcmp(error, expected) != 0)
		fail_msg("'%s': got '%s', want '%s'", text, error, expected);
	free(error);
}

/* The printed form of text's tree. */
static void
assert_reprint(const char *text, bool pretty, const char *expected)
{
	struct dict_value *value = parse_ok(text);
	buf_t out = BUF_INIT;

	dict_print(&out, value, pretty);
	assert_string_equal(buf_cstr(&out), expected);
	buf_deinit(&out);
	dict_value_free(&value);
}

/* print (compact and pretty) -> parse gives an equal tree */
static void
assert_round_trip(const struct dict_value *value)
{
	struct dict_value *back;
	buf_t out = BUF_INIT;
	char *error;
	int pretty;

	for (pretty = 0; pretty < 2; pretty++) {
		buf_reset(&out);
		dict_print(&out, value, pretty != 0);
		if (dict_parse(out.data, out.len, &back, &error) < 0)
			fail_msg("reparse of '%s': %s", buf_cstr(&out), error);
		if (!value_equal(value, back))
			fail_msg("round trip differs: '%s'", buf_cstr(&out));
		dict_value_free(&back);
	}
	buf_deinit(&out);
}

static void
assert_string_value(const struct dict_value *value, const void *data,
		    size_t len)
{
	assert_int_equal(value->type, DICT_TYPE_STRING);
	assert_int_equal(value->len, len);
	assert_memory_equal(value->data, data, len);
	assert_int_equal(value->data[len], '\0');
}

/* ------------------------------------------------------------------ */
/* Grammar                                                             */
/* ------------------------------------------------------------------ */

static void
test_atoms(void **state)
{
	const char *all = "AZaz09._@%+-!$&'*/:<>?^|~";
	struct dict_value *value = parse_ok(all);

	assert_string_value(value, all, strlen(all));
	dict_value_free(&value);
	value = parse_ok("  \r\n\t hello\n\n");
	assert_string_value(value, "hello", 5);
	dict_value_free(&value);
}

static void
test_quoted_escapes(void **state)
{
	struct dict_value *value;

	value = parse_ok("\"a \\\"b\\\" \\\\ \\r\\n\\t\\e end\"");
	assert_string_value(value, "a \"b\" \\ \r\n\t\n end", 16);
	dict_value_free(&value);

	value = parse_ok("\"\\000\\001\\127\\255\\065\"");
	assert_string_value(value, "\0\001\177\377A", 5);
	dict_value_free(&value);

	/* raw bytes, raw newline and UTF-8 are kept as they are */
	value = parse_ok("\"l1\nl2 \xc3\xa9\x01\"");
	assert_string_value(value, "l1\nl2 \xc3\xa9\x01", 9);
	dict_value_free(&value);

	value = parse_ok("\"\"");
	assert_string_value(value, "", 0);
	dict_value_free(&value);
}

static void
test_escape_errors(void **state)
{
	assert_parse_error("\"ab\\q\"", "line 1, column 4: invalid escape");
	assert_parse_error("\"\\256\"",
			   "line 1, column 2: escape \\256 exceeds 255");
	assert_parse_error("\"\\12\"",
			   "line 1, column 2: escape \\ddd needs 3 decimal digits");
	assert_parse_error("\"\\1", "line 1, column 4: unterminated string");
	assert_parse_error("\"abc\\", "line 1, column 6: unterminated string");
	assert_parse_error("(x,\n  \"abc\ndef",
			   "line 2, column 3: unterminated string");
}

static void
test_data_blocks(void **state)
{
	static const struct {
		const char *text;
		const char *data;
		size_t len;
	} cases[] = {
		{ "[]", "", 0 },
		{ "[ ]", "", 0 },
		{ "[Zg==]", "f", 1 },
		{ "[Zm8=]", "fo", 2 },
		{ "[Zm9v]", "foo", 3 },
		{ "[Zm9vYmFy]", "foobar", 6 },
		{ "[ Zm9v\n YmE =\r\n\t]", "fooba", 5 },
		{ "[AAEC/w==]", "\0\001\002\377", 4 },
	};
	struct dict_value *value;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		value = parse_ok(cases[i].text);
		assert_int_equal(value->type, DICT_TYPE_DATA);
		assert_int_equal(value->len, cases[i].len);
		assert_memory_equal(value->data, cases[i].data, cases[i].len);
		dict_value_free(&value);
	}
}

static void
test_data_errors(void **state)
{
	assert_parse_error("[Zg=]", "line 1, column 1: invalid base64 data");
	assert_parse_error("[Z===]", "line 1, column 1: invalid base64 data");
	assert_parse_error("[Zg==Zg==]",
			   "line 1, column 1: invalid base64 data");
	assert_parse_error("(a, [Zm9v!])",
			   "line 1, column 5: invalid base64 data");
	assert_parse_error("{\n k = [Zm9v\n",
			   "line 2, column 6: unterminated data block");
	assert_parse_error("[Zm9v", "line 1, column 1: unterminated data block");
}

static void
test_null_and_typed_atoms(void **state)
{
	struct dict_value *value;

	value = parse_ok("#NULL#");
	assert_int_equal(value->type, DICT_TYPE_NULL);
	dict_value_free(&value);

	value = parse_ok("( #I[1], #T01-01-2020_00:00:00, #NULLX#, \"#NULL#\")");
	assert_int_equal(value->type, DICT_TYPE_ARRAY);
	assert_int_equal(value->count, 4);
	assert_string_value(value->items[0], "#I[1]", 5);
	assert_string_value(value->items[1], "#T01-01-2020_00:00:00", 21);
	assert_string_value(value->items[2], "#NULLX#", 7);
	assert_string_value(value->items[3], "#NULL#", 6);
	assert_round_trip(value);
	dict_value_free(&value);

	/* a lone '#' is a typed atom with no type */
	value = parse_ok("#");
	assert_string_value(value, "#", 1);
	dict_value_free(&value);
}

static void
test_arrays(void **state)
{
	struct dict_value *value;

	value = parse_ok("()");
	assert_int_equal(value->type, DICT_TYPE_ARRAY);
	assert_int_equal(value->count, 0);
	dict_value_free(&value);

	value = parse_ok("( a , \"b c\",(),(d,{}) )");
	assert_int_equal(value->count, 4);
	assert_string_value(value->items[0], "a", 1);
	assert_string_value(value->items[1], "b c", 3);
	assert_int_equal(value->items[2]->type, DICT_TYPE_ARRAY);
	assert_int_equal(value->items[3]->count, 2);
	assert_int_equal(value->items[3]->items[1]->type, DICT_TYPE_DICT);
	dict_value_free(&value);

	assert_parse_error("(a,)",
			   "line 1, column 4: unexpected ')', expected a value");
	assert_parse_error("(,a)",
			   "line 1, column 2: unexpected ',', expected a value");
	assert_parse_error("(a b)",
			   "line 1, column 4: unexpected 'b', expected ',' or ')'");
	assert_parse_error("(a",
			   "line 1, column 3: unexpected end of input, "
			   "expected ',' or ')'");
}

static void
test_dicts(void **state)
{
	struct dict_value *value;

	value = parse_ok("{}");
	assert_int_equal(value->type, DICT_TYPE_DICT);
	assert_int_equal(value->count, 0);
	dict_value_free(&value);

	value = parse_ok("{ z = 1; a = (x); \"q k\" = {in=\"\";}; m=#NULL#; }");
	assert_int_equal(value->count, 4);
	/* insertion order, not sorted */
	assert_string_equal(value->keys[0], "z");
	assert_string_equal(value->keys[1], "a");
	assert_string_equal(value->keys[2], "q k");
	assert_string_equal(value->keys[3], "m");
	assert_string_equal(dict_get_str(value, "z"), "1");
	assert_null(dict_get_str(value, "a"));
	assert_int_equal(dict_get(value, "m")->type, DICT_TYPE_NULL);
	assert_string_equal(dict_get_str(dict_get(value, "q k"), "in"), "");
	assert_null(dict_get(value, "Z"));
	dict_value_free(&value);
}

static void
test_dict_errors(void **state)
{
	assert_parse_error("{a=b;a=c;}", "line 1, column 6: duplicate key");
	assert_parse_error("{\"a\\000b\"=c;}",
			   "line 1, column 2: NUL byte in key");
	assert_parse_error("{a=b}",
			   "line 1, column 5: unexpected '}', expected ';'");
	assert_parse_error("{a b;}",
			   "line 1, column 4: unexpected 'b', expected '='");
	assert_parse_error("{a=;}",
			   "line 1, column 4: unexpected ';', expected a value");
	assert_parse_error("{(a)=b;}",
			   "line 1, column 2: unexpected '(', expected key or '}'");
	assert_parse_error("{#NULL#=b;}",
			   "line 1, column 2: unexpected '#', expected key or '}'");
	/* positions of keys that span lines point at their start */
	assert_parse_error("{\"a\nb\"=1;\n \"a\nb\"=2;}",
			   "line 3, column 2: duplicate key");
	assert_parse_error("{x=1;\n  \"a\n\\000\"=2;}",
			   "line 2, column 3: NUL byte in key");
	assert_parse_error("{a=b;",
			   "line 1, column 6: unexpected end of input, "
			   "expected key or '}'");
}

static void
test_error_positions(void **state)
{
	assert_parse_error("", "line 1, column 1: unexpected end of input, "
			   "expected a value");
	assert_parse_error("  \n\n  ", "line 3, column 3: unexpected end of "
			   "input, expected a value");
	assert_parse_error("{\n\ta = b;\n\tc = d\n}\n",
			   "line 4, column 1: unexpected '}', expected ';'");
	assert_parse_error("{\r\n  k = \"multi\nline\" x;\r\n}",
			   "line 3, column 7: unexpected 'x', expected ';'");
	assert_parse_error("a b",
			   "line 1, column 3: unexpected data after the value");
	assert_parse_error("{} {}",
			   "line 1, column 4: unexpected data after the value");
	assert_parse_error(")", "line 1, column 1: unexpected ')', "
			   "expected a value");
	assert_parse_error("\x01", "line 1, column 1: unexpected byte 0x01, "
			   "expected a value");
	assert_parse_error("(\xff)", "line 1, column 2: unexpected byte "
			   "0xff, expected a value");
	assert_parse_error("=", "line 1, column 1: unexpected '=', "
			   "expected a value");
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

/* depth containers of kind open/close around an atom */
static char *
nested(unsigned int depth, bool dict)
{
	buf_t out = BUF_INIT;
	unsigned int i;
	size_t len;

	for (i = 0; i < depth; i++)
		buf_append_str(&out, dict ? "{k=" : "(");
	buf_append_c(&out, 'x');
	for (i = 0; i < depth; i++)
		buf_append_str(&out, dict ? ";}" : ")");
	return (char *)buf_steal(&out, &len);
}

static void
test_depth_limit(void **state)
{
	struct dict_value *value;
	char *text, *expected;
	int dict;

	for (dict = 0; dict < 2; dict++) {
		text = nested(DICT_DEPTH_MAX, dict != 0);
		value = parse_ok(text);
		assert_round_trip(value);
		dict_value_free(&value);
		free(text);

		text = nested(DICT_DEPTH_MAX + 1, dict != 0);
		expected = i_strdup_printf("line 1, column %u: nesting deeper "
					   "than %u",
					   DICT_DEPTH_MAX * (dict ? 3 : 1) + 1,
					   DICT_DEPTH_MAX);
		assert_parse_error(text, expected);
		free(expected);
		free(text);
	}
	/* far deeper than any stack would allow recursion to go */
	text = nested(1000000, false);
	assert_parse_error(text, "line 1, column 65: nesting deeper than 64");
	free(text);
}

static void
test_size_limit(void **state)
{
	size_t len = DICT_INPUT_MAX + 1;
	unsigned char *text = malloc(len);
	struct dict_value *value;
	char *error;

	assert_non_null(text);
	memset(text, 'a', len);
	assert_int_equal(dict_parse(text, len, &value, &error), -1);
	assert_null(value);
	assert_string_equal(error, "line 1, column 1: input larger than "
			    "16777216 bytes");
	free(error);

	/* exactly at the limit is fine */
	assert_int_equal(dict_parse(text, len - 1, &value, &error), 0);
	assert_int_equal(value->len, DICT_INPUT_MAX);
	dict_value_free(&value);
	free(text);
}

static void
test_long_array(void **state)
{
	buf_t text = BUF_INIT;
	struct dict_value *value;
	unsigned int i;

	buf_append_c(&text, '(');
	for (i = 0; i < 100000; i++)
		buf_printf(&text, "%s%u", i > 0 ? "," : "", i);
	buf_append_c(&text, ')');
	value = parse_ok(buf_cstr(&text));
	assert_int_equal(value->count, 100000);
	assert_string_equal((const char *)value->items[99999]->data, "99999");
	assert_round_trip(value);
	dict_value_free(&value);
	buf_deinit(&text);
}

/* Many distinct keys parse in linear time; a duplicate far in is found. */
static void
test_long_dict(void **state)
{
	buf_t text = BUF_INIT;
	struct dict_value *value;
	unsigned int i;
	char *error;

	buf_append_c(&text, '{');
	for (i = 0; i < 200000; i++)
		buf_printf(&text, "k%u=%u;", i, i);
	buf_append_c(&text, '}');
	value = parse_ok(buf_cstr(&text));
	assert_int_equal(value->count, 200000);
	assert_string_equal(value->keys[123456], "k123456");
	assert_round_trip(value);
	dict_value_free(&value);

	buf_truncate(&text, text.len - 1);
	buf_append_str(&text, "k199999=x;}");
	assert_int_equal(dict_parse(text.data, text.len, &value, &error), -1);
	assert_non_null(strstr(error, ": duplicate key"));
	free(error);
	buf_deinit(&text);
}

/* ------------------------------------------------------------------ */
/* Printer                                                             */
/* ------------------------------------------------------------------ */

static void
test_print_compact(void **state)
{
	assert_reprint(" { a = b ; c = ( 1 , 2 , () ) ; d = { } ; "
		       "e = [ Zm9v ] ; f = #NULL# ; } ", false,
		       "{a=b;c=(1,2,());d={};e=[Zm9v];f=#NULL#;}");
	assert_reprint("(  )", false, "()");
	assert_reprint("[]", false, "[]");
}

static void
test_print_pretty(void **state)
{
	assert_reprint("{a=b;c=(1,{x=y;},{});d={e=f;g={};};}", true,
		       "{\n"
		       "\ta = b;\n"
		       "\tc = (1, {\n"
		       "\t\tx = y;\n"
		       "\t}, {});\n"
		       "\td = {\n"
		       "\t\te = f;\n"
		       "\t\tg = {};\n"
		       "\t};\n"
		       "}");
	assert_reprint("{}", true, "{}");
	assert_reprint("(a,b)", true, "(a, b)");
}

static void
test_print_quoting(void **state)
{
	assert_reprint("\"\"", false, "\"\"");
	assert_reprint("\"abc\"", false, "abc");
	assert_reprint("\"a b\"", false, "\"a b\"");
	assert_reprint("\"a=b;c\"", false, "\"a=b;c\"");
	assert_reprint("\"#NULL#\"", false, "\"#NULL#\"");
	assert_reprint("#I[1]", false, "\"#I[1]\"");
	assert_reprint("\"q\\\"b\\\\\"", false, "\"q\\\"b\\\\\"");
	assert_reprint("\"\\r\\n\\t\\e\"", false, "\"\\r\\n\\t\\n\"");
	assert_reprint("\"\\000\\001\\031\\127x\"", false,
		       "\"\\000\\001\\031\\127x\"");
	/* bytes >= 0x80 go out raw */
	assert_reprint("\"\xc3\xa9t\xc3\xa9\"", false, "\"\xc3\xa9t\xc3\xa9\"");
	assert_reprint("{\"key with space\"=v;}", false,
		       "{\"key with space\"=v;}");
}

static void
test_print_appends(void **state)
{
	struct dict_value *value = dict_new_string("x");
	buf_t out = BUF_INIT;

	buf_append_str(&out, "pre:");
	dict_print(&out, value, false);
	assert_string_equal(buf_cstr(&out), "pre:x");
	buf_deinit(&out);
	dict_value_free(&value);
}

/* ------------------------------------------------------------------ */
/* Builders and accessors                                              */
/* ------------------------------------------------------------------ */

static void
test_builders(void **state)
{
	struct dict_value *dict = dict_new_dict();
	struct dict_value *array = dict_new_array();
	struct dict_value *copy;
	buf_t out = BUF_INIT;

	dict_set_str(dict, "Password", "s3cret pass");
	dict_set_uint(dict, "UIDNEXT", 42);
	dict_array_add(array, dict_new_string("a"));
	dict_array_add(array, dict_new_null());
	dict_array_add(array, dict_new_bytes(DICT_TYPE_DATA, "\0\1", 2));
	dict_set(dict, "List", array);
	dict_print(&out, dict, false);
	assert_string_equal(buf_cstr(&out), "{Password=\"s3cret pass\";"
			    "UIDNEXT=42;List=(a,#NULL#,[AAE=]);}");

	/* replace keeps the position; NULL removes */
	dict_set_str(dict, "Password", "new");
	dict_set(dict, "UIDNEXT", NULL);
	dict_set(dict, "missing", NULL);
	buf_reset(&out);
	dict_print(&out, dict, false);
	assert_string_equal(buf_cstr(&out),
			    "{Password=new;List=(a,#NULL#,[AAE=]);}");

	/* setting the same item again is a no-op, not a use after free */
	dict_set(dict, "List", dict_get(dict, "List"));

	copy = dict_copy(dict);
	assert_true(value_equal(dict, copy));
	dict_set_str(copy, "Password", "other");
	assert_string_equal(dict_get_str(dict, "Password"), "new");
	assert_round_trip(copy);
	dict_value_free(&copy);
	dict_value_free(&dict);
	assert_null(dict);
	dict_value_free(&dict);
	buf_deinit(&out);
}

static void
test_many_keys(void **state)
{
	struct dict_value *dict = dict_new_dict();
	char key[32];
	unsigned int i;
	uint64_t n;

	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		dict_set_uint(dict, key, i);
	}
	for (i = 0; i < 1000; i += 2) {
		snprintf(key, sizeof(key), "k%u", i);
		dict_set(dict, key, NULL);
	}
	assert_int_equal(dict->count, 500);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%u", 2 * i + 1);
		assert_string_equal(dict->keys[i], key);
		assert_int_equal(dict_get_uint(dict, key, &n), 0);
		assert_int_equal(n, 2 * i + 1);
	}
	dict_set_str(dict, "new", "v");
	assert_string_equal(dict->keys[500], "new");
	assert_round_trip(dict);
	dict_value_free(&dict);
}

static void
test_uint(void **state)
{
	struct dict_value *dict =
		parse_ok("{a=0;b=18446744073709551615;c=18446744073709551616;"
			 "d=\"\";e=12x;f=-1;g=(1);h=007;i=[MQ==];}");
	uint64_t n = 99;

	assert_int_equal(dict_get_uint(dict, "a", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dict_get_uint(dict, "b", &n), 0);
	assert_true(n == UINT64_MAX);
	assert_int_equal(dict_get_uint(dict, "h", &n), 0);
	assert_int_equal(n, 7);
	n = 5;
	assert_int_equal(dict_get_uint(dict, "c", &n), -1);
	assert_int_equal(dict_get_uint(dict, "d", &n), -1);
	assert_int_equal(dict_get_uint(dict, "e", &n), -1);
	assert_int_equal(dict_get_uint(dict, "f", &n), -1);
	assert_int_equal(dict_get_uint(dict, "g", &n), -1);
	assert_int_equal(dict_get_uint(dict, "i", &n), -1);
	assert_int_equal(dict_get_uint(dict, "zz", &n), -1);
	assert_int_equal(n, 5);

	dict_set_uint(dict, "b", UINT64_MAX);
	assert_string_equal(dict_get_str(dict, "b"), "18446744073709551615");
	dict_value_free(&dict);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_round_trip_settings(void **state)
{
	static const char *const texts[] = {
		"{\n"
		"  Password = \"#I[1]sdf\";\n"
		"  RealName = \"John \\\"Q\\\" Public\";\n"
		"  AccessModes = (Mail, POP, IMAP, WebMail, XIMSS);\n"
		"  Created = #T01-01-2020_00:00:00;\n"
		"  Rules = ((1, \"#Redirect\", (), ([Zm9v], #NULL#)));\n"
		"  Settings = { Quota = 100M; \"\" = \"\"; };\n"
		"}\n",
		"\"\\000\\255\\r\\n\\t\\\\\\\"\"",
		"[AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=]",
	};
	struct dict_value *value;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(texts); i++) {
		value = parse_ok(texts[i]);
		assert_round_trip(value);
		dict_value_free(&value);
	}
}

/* xorshift64: deterministic, so a failure reproduces */
static uint64_t rng_state;

static uint32_t
rng(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static void
random_bytes(buf_t *out)
{
	static const char alphabet[] = "aZ09._-#\"\\ =;(){}[]\r\n\t\x01\x7f\xc3";
	unsigned int i, len = rng(12);

	buf_reset(out);
	for (i = 0; i < len; i++) {
		if (rng(4) == 0)
			buf_append_c(out, (char)rng(256));
		else
			buf_append_c(out, alphabet[rng(sizeof(alphabet) - 1)]);
	}
}

static struct dict_value *
random_tree(unsigned int depth)
{
	struct dict_value *value;
	unsigned int i, count, kind = rng(depth >= 6 ? 3 : 5);
	buf_t bytes = BUF_INIT;

	random_bytes(&bytes);
	switch (kind) {
	case 0:
		value = dict_new_bytes(DICT_TYPE_STRING, bytes.data, bytes.len);
		break;
	case 1:
		value = dict_new_bytes(DICT_TYPE_DATA, bytes.data, bytes.len);
		break;
	case 2:
		value = dict_new_null();
		break;
	case 3:
		value = dict_new_array();
		count = rng(5);
		for (i = 0; i < count; i++)
			dict_array_add(value, random_tree(depth + 1));
		break;
	default:
		value = dict_new_dict();
		count = rng(5);
		for (i = 0; i < count; i++) {
			random_bytes(&bytes);
			/* keys are C strings */
			buf_truncate(&bytes, strlen(buf_cstr(&bytes)));
			dict_set(value, buf_cstr(&bytes),
				 random_tree(depth + 1));
		}
		break;
	}
	buf_deinit(&bytes);
	return value;
}

static void
test_round_trip_random(void **state)
{
	struct dict_value *value, *copy;
	unsigned int i;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 2000; i++) {
		value = random_tree(0);
		assert_round_trip(value);
		copy = dict_copy(value);
		assert_true(value_equal(value, copy));
		dict_value_free(&copy);
		dict_value_free(&value);
	}
}

/* Every prefix and every one-byte corruption of a valid text either
   parses or fails cleanly (ASan watches). */
static void
test_truncations_and_flips(void **state)
{
	const char *text = "{a=(b,\"c\\001\",[Zm9v],#NULL#,#I[2]);\"d e\"={};}";
	size_t len = strlen(text), i, j;
	unsigned char copy[64];
	struct dict_value *value;
	char *error;

	for (i = 0; i <= len; i++) {
		if (dict_parse((const unsigned char *)text, i, &value,
			       &error) == 0)
			assert_round_trip(value);
		dict_value_free(&value);
		free(error);
	}
	for (i = 0; i < len; i++) {
		for (j = 0; j < 256; j += 7) {
			memcpy(copy, text, len);
			copy[i] = (unsigned char)j;
			if (dict_parse(copy, len, &value, &error) == 0)
				assert_round_trip(value);
			dict_value_free(&value);
			free(error);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atoms),
		cmocka_unit_test(test_quoted_escapes),
		cmocka_unit_test(test_escape_errors),
		cmocka_unit_test(test_data_blocks),
		cmocka_unit_test(test_data_errors),
		cmocka_unit_test(test_null_and_typed_atoms),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_dicts),
		cmocka_unit_test(test_dict_errors),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_long_array),
		cmocka_unit_test(test_long_dict),
		cmocka_unit_test(test_print_compact),
		cmocka_unit_test(test_print_pretty),
		cmocka_unit_test(test_print_quoting),
		cmocka_unit_test(test_print_appends),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_round_trip_settings),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_truncations_and_flips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
