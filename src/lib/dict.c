/* SPDX-License-Identifier: MIT */
/*
 * dict.c: the CommuniGate Pro dictionary text format (grammar in dict.h):
 * a recursive-descent parser bounded by DICT_DEPTH_MAX and DICT_INPUT_MAX
 * that reports the line and column of the first error, a printer whose
 * output always parses back to an equal tree, and the builders and
 * accessors the store uses for account.settings / account.info.
 * Part of lib (bottom of the DAG); data blocks go through base64.c.
 *
 * Beyond dict.h's grammar the parser accepts CommuniGate's typed atoms:
 * "#NULL#" is the null value, and any other '#'-atom ("#I[1]",
 * "#T01-01-2020_00:00:00") is kept as a string with its text.
 */
#include "dict.h"
#include "base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Values and builders                                                 */
/* ------------------------------------------------------------------ */

static struct dict_value *
value_new(enum dict_type type)
{
	struct dict_value *value = i_malloc(sizeof(*value));

	value->type = type;
	return value;
}

struct dict_value *
dict_new_dict(void)
{
	return value_new(DICT_TYPE_DICT);
}

struct dict_value *
dict_new_array(void)
{
	return value_new(DICT_TYPE_ARRAY);
}

struct dict_value *
dict_new_null(void)
{
	return value_new(DICT_TYPE_NULL);
}

struct dict_value *
dict_new_bytes(enum dict_type type, const void *data, size_t len)
{
	struct dict_value *value;

	i_assert(type == DICT_TYPE_STRING || type == DICT_TYPE_DATA);
	value = value_new(type);
	value->data = i_malloc(len + 1);
	if (len > 0)
		memcpy(value->data, data, len);
	value->len = len;
	return value;
}

struct dict_value *
dict_new_string(const char *s)
{
	return dict_new_bytes(DICT_TYPE_STRING, s, strlen(s));
}

void
dict_value_free(struct dict_value **_value)
{
	struct dict_value *value = *_value;
	unsigned int i;

	if (value == NULL)
		return;
	*_value = NULL;
	for (i = 0; i < value->count; i++) {
		dict_value_free(&value->items[i]);
		if (value->keys != NULL)
			free(value->keys[i]);
	}
	free(value->items);
	free(value->keys);
	free(value->data);
	free(value);
}

/* Capacity for n entries: a power of two, at least 4. The struct keeps
   no capacity field; instead the allocation is always at least
   slots_for(count), which removal keeps true, so growing only when
   count + 1 crosses that bound stays amortised O(1). */
static size_t
slots_for(unsigned int n)
{
	size_t cap = 4;

	while (cap < n)
		cap *= 2;
	return cap;
}

static void
value_grow(struct dict_value *value)
{
	size_t cap;

	if (value->count == UINT32_MAX)
		i_panic("dict: too many entries");
	if (value->items != NULL && value->count + 1 <= slots_for(value->count))
		return;
	cap = slots_for(value->count + 1);
	value->items = i_realloc(value->items, cap * sizeof(*value->items));
	if (value->type == DICT_TYPE_DICT)
		value->keys = i_realloc(value->keys, cap * sizeof(*value->keys));
}

void
dict_array_add(struct dict_value *array, struct dict_value *item)
{
	i_assert(array->type == DICT_TYPE_ARRAY);
	i_assert(item != NULL);
	value_grow(array);
	array->items[array->count++] = item;
}

/* ------------------------------------------------------------------ */
/* Dictionary access                                                   */
/* ------------------------------------------------------------------ */

static int
dict_find(const struct dict_value *dict, const char *key)
{
	unsigned int i;

	i_assert(dict->type == DICT_TYPE_DICT);
	for (i = 0; i < dict->count; i++) {
		if (strcmp(dict->keys[i], key) == 0)
			return (int)i;
	}
	return -1;
}

struct dict_value *
dict_get(const struct dict_value *dict, const char *key)
{
	int idx = dict_find(dict, key);

	return idx < 0 ? NULL : dict->items[idx];
}

const char *
dict_get_str(const struct dict_value *dict, const char *key)
{
	const struct dict_value *value = dict_get(dict, key);

	if (value == NULL || value->type != DICT_TYPE_STRING)
		return NULL;
	return (const char *)value->data;
}

static void
dict_remove_at(struct dict_value *dict, unsigned int idx)
{
	dict_value_free(&dict->items[idx]);
	free(dict->keys[idx]);
	memmove(dict->items + idx, dict->items + idx + 1,
		(dict->count - idx - 1) * sizeof(*dict->items));
	memmove(dict->keys + idx, dict->keys + idx + 1,
		(dict->count - idx - 1) * sizeof(*dict->keys));
	dict->count--;
}

/* Adds key (not yet present) at the end. */
static void
dict_append(struct dict_value *dict, const char *key,
	    struct dict_value *item)
{
	value_grow(dict);
	dict->keys[dict->count] = i_strdup(key);
	dict->items[dict->count++] = item;
}

void
dict_set(struct dict_value *dict, const char *key, struct dict_value *item)
{
	int idx = dict_find(dict, key);

	if (idx >= 0 && item == NULL) {
		dict_remove_at(dict, (unsigned int)idx);
	} else if (idx >= 0) {
		/* replace in place: the key keeps its position */
		if (dict->items[idx] != item)
			dict_value_free(&dict->items[idx]);
		dict->items[idx] = item;
	} else if (item != NULL) {
		dict_append(dict, key, item);
	}
}

void
dict_set_str(struct dict_value *dict, const char *key, const char *s)
{
	dict_set(dict, key, dict_new_string(s));
}

void
dict_set_uint(struct dict_value *dict, const char *key, uint64_t n)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)n);
	dict_set_str(dict, key, num);
}

int
dict_get_uint(const struct dict_value *dict, const char *key,
	      uint64_t *n_r)
{
	const struct dict_value *value = dict_get(dict, key);
	uint64_t n = 0;
	size_t i;

	if (value == NULL || value->type != DICT_TYPE_STRING ||
	    value->len == 0)
		return -1;
	for (i = 0; i < value->len; i++) {
		unsigned int digit = value->data[i] - '0';

		if (value->data[i] < '0' || value->data[i] > '9')
			return -1;
		if (n > (UINT64_MAX - digit) / 10)
			return -1;
		n = n * 10 + digit;
	}
	*n_r = n;
	return 0;
}

struct dict_value *
dict_copy(const struct dict_value *value)
{
	struct dict_value *copy;
	unsigned int i;

	switch (value->type) {
	case DICT_TYPE_STRING:
	case DICT_TYPE_DATA:
		return dict_new_bytes(value->type, value->data, value->len);
	case DICT_TYPE_NULL:
		return dict_new_null();
	case DICT_TYPE_ARRAY:
		copy = dict_new_array();
		for (i = 0; i < value->count; i++)
			dict_array_add(copy, dict_copy(value->items[i]));
		return copy;
	case DICT_TYPE_DICT:
		copy = dict_new_dict();
		for (i = 0; i < value->count; i++) {
			dict_append(copy, value->keys[i],
				    dict_copy(value->items[i]));
		}
		return copy;
	}
	i_panic("dict_copy: bad type %d", (int)value->type);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

struct dict_parser {
	const unsigned char *text;
	size_t len, pos;
	/* 1-based line of pos, and the offset where that line starts */
	unsigned int line;
	size_t line_start;
	char *error;
};

static int parse_value(struct dict_parser *ps, unsigned int depth,
		       struct dict_value **value_r);

static bool
is_atom_char(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("._@%+-!$&'*/:<>?^|~", c) != NULL;
}

/* The one-letter escapes (besides \e, read only) as byte, letter pairs. */
static const char escape_pairs[] = "\"\"\\\\\rr\nn\tt";

/* The letter that escapes byte c, or NUL. */
static char
escape_letter(unsigned char c)
{
	unsigned int i;

	for (i = 0; i + 1 < sizeof(escape_pairs); i += 2) {
		if ((unsigned char)escape_pairs[i] == c)
			return escape_pairs[i + 1];
	}
	return '\0';
}

/* The byte that letter stands for after a backslash, or NUL. */
static unsigned char
escape_byte(unsigned char letter)
{
	unsigned int i;

	for (i = 0; i + 1 < sizeof(escape_pairs); i += 2) {
		if ((unsigned char)escape_pairs[i + 1] == letter)
			return (unsigned char)escape_pairs[i];
	}
	return '\0';
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A remembered position, for errors reported after the parser moved on
   (possibly past newlines). */
struct dict_mark {
	size_t pos, line_start;
	unsigned int line;
};

static struct dict_mark
mark(const struct dict_parser *ps)
{
	struct dict_mark m = {
		.pos = ps->pos, .line_start = ps->line_start, .line = ps->line
	};

	return m;
}

static int ATTR_FORMAT(3, 0)
parse_verror(struct dict_parser *ps, const struct dict_mark *m,
	     const char *fmt, va_list args)
{
	char *msg;

	if (ps->error != NULL)
		return -1;
	msg = i_strdup_vprintf(fmt, args);
	ps->error = i_strdup_printf("line %u, column %zu: %s", m->line,
				    m->pos - m->line_start + 1, msg);
	free(msg);
	return -1;
}

/* Records the first error, at mark m. Returns -1. */
static int ATTR_FORMAT(3, 4)
parse_error_mark(struct dict_parser *ps, const struct dict_mark *m,
		 const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	(void)parse_verror(ps, m, fmt, args);
	va_end(args);
	return -1;
}

/* Records the first error, at byte offset pos, which must lie on the
   current line (or at its end). Returns -1. */
static int ATTR_FORMAT(3, 4)
parse_error_at(struct dict_parser *ps, size_t pos, const char *fmt, ...)
{
	struct dict_mark m = mark(ps);
	va_list args;

	i_assert(pos >= ps->line_start);
	m.pos = pos;
	va_start(args, fmt);
	(void)parse_verror(ps, &m, fmt, args);
	va_end(args);
	return -1;
}

#define parse_error(ps, ...) parse_error_at(ps, (ps)->pos, __VA_ARGS__)

static void
advance(struct dict_parser *ps)
{
	if (ps->text[ps->pos++] == '\n') {
		ps->line++;
		ps->line_start = ps->pos;
	}
}

static void
skip_space(struct dict_parser *ps)
{
	while (ps->pos < ps->len && is_space(ps->text[ps->pos]))
		advance(ps);
}

/* The next token's first byte after whitespace, or -1 at end of input. */
static int
peek(struct dict_parser *ps)
{
	skip_space(ps);
	return ps->pos < ps->len ? ps->text[ps->pos] : -1;
}

/* Describes what was found where something else was expected. */
static int
unexpected(struct dict_parser *ps, const char *expected)
{
	int c = peek(ps);

	if (c < 0)
		return parse_error(ps, "unexpected end of input, expected %s",
				   expected);
	if (c > ' ' && c < 0x7f)
		return parse_error(ps, "unexpected '%c', expected %s", c,
				   expected);
	return parse_error(ps, "unexpected byte 0x%02x, expected %s", c,
			   expected);
}

static int
expect(struct dict_parser *ps, char c, const char *what)
{
	if (peek(ps) != (unsigned char)c)
		return unexpected(ps, what);
	advance(ps);
	return 0;
}

/* \ddd: three decimal digits, 0..255. pos is at the first digit. */
static int
parse_decimal_escape(struct dict_parser *ps, buf_t *out)
{
	size_t start = ps->pos - 1;
	unsigned int n = 0, i;

	for (i = 0; i < 3; i++) {
		unsigned char c;

		if (ps->pos >= ps->len)
			return parse_error(ps, "unterminated string");
		c = ps->text[ps->pos];
		if (c < '0' || c > '9')
			return parse_error_at(ps, start,
				"escape \\ddd needs 3 decimal digits");
		n = n * 10 + (c - '0');
		ps->pos++;
	}
	if (n > 255)
		return parse_error_at(ps, start, "escape \\%03u exceeds 255", n);
	buf_append_c(out, (char)n);
	return 0;
}

/* After a backslash inside a quoted string. */
static int
parse_escape(struct dict_parser *ps, buf_t *out)
{
	unsigned char c;

	if (ps->pos >= ps->len)
		return parse_error(ps, "unterminated string");
	c = ps->text[ps->pos];
	if (c >= '0' && c <= '9')
		return parse_decimal_escape(ps, out);
	if (c == 'e') {
		/* CommuniGate's "end of line": LF on Unix */
		c = '\n';
	} else if ((c = escape_byte(c)) == '\0') {
		return parse_error_at(ps, ps->pos - 1, "invalid escape");
	}
	advance(ps);
	buf_append_c(out, (char)c);
	return 0;
}

/* A quoted string; pos is at the opening quote. */
static int
parse_quoted(struct dict_parser *ps, buf_t *out)
{
	struct dict_mark open = mark(ps);

	advance(ps);
	while (ps->pos < ps->len) {
		unsigned char c = ps->text[ps->pos];
		size_t run = ps->pos;

		if (c == '"') {
			advance(ps);
			return 0;
		}
		if (c == '\\') {
			advance(ps);
			if (parse_escape(ps, out) < 0)
				return -1;
			continue;
		}
		/* copy a run of plain bytes at once */
		while (ps->pos < ps->len && ps->text[ps->pos] != '"' &&
		       ps->text[ps->pos] != '\\')
			advance(ps);
		buf_append(out, ps->text + run, ps->pos - run);
	}
	/* report where the string began: that is what the user must fix */
	return parse_error_mark(ps, &open, "unterminated string");
}

static void
parse_atom(struct dict_parser *ps, buf_t *out)
{
	size_t start = ps->pos;

	while (ps->pos < ps->len && is_atom_char(ps->text[ps->pos]))
		ps->pos++;
	buf_append(out, ps->text + start, ps->pos - start);
}

/* A string (atom or quoted) into out. */
static int
parse_string(struct dict_parser *ps, buf_t *out, const char *what)
{
	int c = peek(ps);

	if (c == '"')
		return parse_quoted(ps, out);
	if (c >= 0 && is_atom_char((unsigned char)c)) {
		parse_atom(ps, out);
		return 0;
	}
	return unexpected(ps, what);
}

/* '#'-atoms: #NULL#, or a typed atom kept as string text. Brackets are
   allowed inside (#I[1]) since no value can follow without a separator. */
static int
parse_hash(struct dict_parser *ps, struct dict_value **value_r)
{
	size_t start = ps->pos;

	ps->pos++;
	while (ps->pos < ps->len) {
		unsigned char c = ps->text[ps->pos];

		if (!is_atom_char(c) && c != '#' && c != '[' && c != ']')
			break;
		ps->pos++;
	}
	if (ps->pos - start == 6 && memcmp(ps->text + start, "#NULL#", 6) == 0)
		*value_r = dict_new_null();
	else {
		*value_r = dict_new_bytes(DICT_TYPE_STRING, ps->text + start,
					  ps->pos - start);
	}
	return 0;
}

/* '[' base64 ']'; pos is at '['. */
static int
parse_data(struct dict_parser *ps, struct dict_value **value_r)
{
	struct dict_mark open = mark(ps);
	buf_t data = BUF_INIT;
	size_t start;

	advance(ps);
	start = ps->pos;
	while (ps->pos < ps->len && ps->text[ps->pos] != ']')
		advance(ps);
	if (ps->pos >= ps->len)
		return parse_error_mark(ps, &open, "unterminated data block");
	if (base64_decode(&data, (const char *)ps->text + start,
			  ps->pos - start) < 0) {
		buf_deinit(&data);
		return parse_error_mark(ps, &open, "invalid base64 data");
	}
	advance(ps);
	*value_r = dict_new_bytes(DICT_TYPE_DATA, data.data, data.len);
	buf_deinit(&data);
	return 0;
}

/* '(' [ value { ',' value } ] ')'; pos is at '('. */
static int
parse_array(struct dict_parser *ps, unsigned int depth,
	    struct dict_value *array)
{
	struct dict_value *item;

	advance(ps);
	if (peek(ps) == ')') {
		advance(ps);
		return 0;
	}
	for (;;) {
		if (parse_value(ps, depth, &item) < 0)
			return -1;
		dict_array_add(array, item);
		if (peek(ps) == ')')
			break;
		if (expect(ps, ',', "',' or ')'") < 0)
			return -1;
	}
	advance(ps);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Key index: duplicate detection in linear time                       */
/* ------------------------------------------------------------------ */

/* An open-addressing hash set over the keys of the dictionary being
   parsed, so a 16 MB file of distinct keys does not cost n^2 strcmp()s.
   Slots hold entry index + 1; 0 is empty. */
struct key_index {
	unsigned int *slots;
	size_t mask;
};

static size_t
key_hash(const char *key)
{
	size_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* The slot holding key in dict's index, or the empty slot for it. */
static unsigned int *
key_index_slot(const struct key_index *index,
	       const struct dict_value *dict, const char *key)
{
	size_t i = key_hash(key) & index->mask;

	while (index->slots[i] != 0 &&
	       strcmp(dict->keys[index->slots[i] - 1], key) != 0)
		i = (i + 1) & index->mask;
	return &index->slots[i];
}

/* Makes room for one more key (load factor at most 1/2). */
static void
key_index_reserve(struct key_index *index, const struct dict_value *dict)
{
	size_t size = index->mask + 1;
	unsigned int i;

	if (index->slots != NULL && (size_t)dict->count + 1 <= size / 2)
		return;
	size = index->slots == NULL ? 16 : size * 2;
	free(index->slots);
	index->slots = i_malloc(size * sizeof(*index->slots));
	index->mask = size - 1;
	for (i = 0; i < dict->count; i++)
		*key_index_slot(index, dict, dict->keys[i]) = i + 1;
}

/* ------------------------------------------------------------------ */
/* Parser: dictionaries                                                */
/* ------------------------------------------------------------------ */

/* One "key = value ;" entry. */
static int
parse_entry(struct dict_parser *ps, unsigned int depth,
	    struct dict_value *dict, struct key_index *index)
{
	struct dict_value *item;
	struct dict_mark key_mark;
	unsigned int *slot;
	buf_t key = BUF_INIT;
	int ret = -1;

	skip_space(ps);
	key_mark = mark(ps);
	if (parse_string(ps, &key, "key or '}'") < 0)
		goto out;
	if (strlen(buf_cstr(&key)) != key.len) {
		(void)parse_error_mark(ps, &key_mark, "NUL byte in key");
		goto out;
	}
	key_index_reserve(index, dict);
	slot = key_index_slot(index, dict, buf_cstr(&key));
	if (*slot != 0) {
		(void)parse_error_mark(ps, &key_mark, "duplicate key");
		goto out;
	}
	if (expect(ps, '=', "'='") < 0 ||
	    parse_value(ps, depth, &item) < 0)
		goto out;
	dict_append(dict, buf_cstr(&key), item);
	*slot = dict->count;
	ret = expect(ps, ';', "';'");
out:
	buf_deinit(&key);
	return ret;
}

/* '{' { key '=' value ';' } '}'; pos is at '{'. */
static int
parse_dict(struct dict_parser *ps, unsigned int depth,
	   struct dict_value *dict)
{
	struct key_index index = { NULL, 0 };
	int ret = 0;

	advance(ps);
	while (peek(ps) != '}') {
		if (parse_entry(ps, depth, dict, &index) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0)
		advance(ps);
	free(index.slots);
	return ret;
}

static int
parse_container(struct dict_parser *ps, unsigned int depth, int c,
		struct dict_value **value_r)
{
	struct dict_value *value;
	int ret;

	if (depth >= DICT_DEPTH_MAX) {
		return parse_error(ps, "nesting deeper than %u",
				   DICT_DEPTH_MAX);
	}
	if (c == '(') {
		value = dict_new_array();
		ret = parse_array(ps, depth + 1, value);
	} else {
		value = dict_new_dict();
		ret = parse_dict(ps, depth + 1, value);
	}
	if (ret < 0) {
		dict_value_free(&value);
		return -1;
	}
	*value_r = value;
	return 0;
}

/* depth counts the containers around this value (0 at top level). */
static int
parse_value(struct dict_parser *ps, unsigned int depth,
	    struct dict_value **value_r)
{
	buf_t str = BUF_INIT;
	int c = peek(ps);

	switch (c) {
	case '(':
	case '{':
		return parse_container(ps, depth, c, value_r);
	case '[':
		return parse_data(ps, value_r);
	case '#':
		return parse_hash(ps, value_r);
	}
	if (parse_string(ps, &str, "a value") < 0) {
		buf_deinit(&str);
		return -1;
	}
	*value_r = dict_new_bytes(DICT_TYPE_STRING, str.data, str.len);
	buf_deinit(&str);
	return 0;
}

int
dict_parse(const unsigned char *text, size_t len,
	   struct dict_value **value_r, char **error_r)
{
	struct dict_parser ps = { .text = text, .len = len, .line = 1 };
	struct dict_value *value = NULL;

	*value_r = NULL;
	*error_r = NULL;
	if (len > DICT_INPUT_MAX) {
		(void)parse_error_at(&ps, 0, "input larger than %u bytes",
				     DICT_INPUT_MAX);
	} else if (parse_value(&ps, 0, &value) == 0 && peek(&ps) >= 0) {
		(void)parse_error(&ps, "unexpected data after the value");
		dict_value_free(&value);
	}
	if (ps.error != NULL) {
		dict_value_free(&value);
		*error_r = ps.error;
		return -1;
	}
	*value_r = value;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Printer                                                             */
/* ------------------------------------------------------------------ */

static void
print_string(buf_t *out, const unsigned char *data, size_t len)
{
	size_t i, run;
	bool atom = len > 0;
	char esc;

	for (i = 0; i < len && atom; i++)
		atom = is_atom_char(data[i]);
	if (atom) {
		buf_append(out, data, len);
		return;
	}
	buf_append_c(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = data[i];

		for (run = i; run < len && data[run] >= 0x20 &&
			      data[run] != 0x7f && data[run] != '"' &&
			      data[run] != '\\'; run++)
			;
		if (run > i) {
			buf_append(out, data + i, run - i);
			i = run - 1;
			continue;
		}
		if ((esc = escape_letter(c)) != '\0') {
			buf_append_c(out, '\\');
			buf_append_c(out, esc);
		} else {
			buf_printf(out, "\\%03u", c);
		}
	}
	buf_append_c(out, '"');
}

static void
print_indent(buf_t *out, unsigned int level)
{
	while (level-- > 0)
		buf_append_c(out, '\t');
}

static void print_value(buf_t *out, const struct dict_value *value,
			bool pretty, unsigned int level);

static void
print_dict(buf_t *out, const struct dict_value *dict, bool pretty,
	   unsigned int level)
{
	unsigned int i;

	buf_append_c(out, '{');
	if (pretty && dict->count > 0)
		buf_append_c(out, '\n');
	for (i = 0; i < dict->count; i++) {
		const char *key = dict->keys[i];

		if (pretty)
			print_indent(out, level + 1);
		print_string(out, (const unsigned char *)key, strlen(key));
		buf_append_str(out, pretty ? " = " : "=");
		print_value(out, dict->items[i], pretty, level + 1);
		buf_append_str(out, pretty ? ";\n" : ";");
	}
	if (pretty && dict->count > 0)
		print_indent(out, level);
	buf_append_c(out, '}');
}

static void
print_value(buf_t *out, const struct dict_value *value, bool pretty,
	    unsigned int level)
{
	unsigned int i;

	switch (value->type) {
	case DICT_TYPE_STRING:
		print_string(out, value->data, value->len);
		break;
	case DICT_TYPE_DATA:
		buf_append_c(out, '[');
		base64_encode(out, value->data, value->len);
		buf_append_c(out, ']');
		break;
	case DICT_TYPE_NULL:
		buf_append_str(out, "#NULL#");
		break;
	case DICT_TYPE_ARRAY:
		buf_append_c(out, '(');
		for (i = 0; i < value->count; i++) {
			if (i > 0)
				buf_append_str(out, pretty ? ", " : ",");
			print_value(out, value->items[i], pretty, level);
		}
		buf_append_c(out, ')');
		break;
	case DICT_TYPE_DICT:
		print_dict(out, value, pretty, level);
		break;
	}
}

void
dict_print(buf_t *out, const struct dict_value *value, bool pretty)
{
	print_value(out, value, pretty, 0);
	buf_cstr(out);
}
