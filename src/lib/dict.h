/* SPDX-License-Identifier: MIT */
/*
 * dict.h: the CommuniGate Pro dictionary text format, parser and printer.
 * Settings files (account.settings, account.info, Settings/ *.settings)
 * use it.
 *
 *   value      = string | array | dictionary | datablock | "#NULL#"
 *   string     = atom | quoted       atom: [A-Za-z0-9._@%+\-!$&'*:/<>?^|~]+
 *   quoted     = '"' { char | '\' escape } '"'
 *                escapes: \" \\ \r \n \t \e and \ddd (3 decimal digits)
 *   array      = '(' [ value { ',' value } ] ')'
 *   dictionary = '{' { key '=' value ';' } '}'       key: a string
 *   datablock  = '[' base64 ']'
 * Whitespace (spaces, tabs, newlines) separates tokens. Strings are
 * bytes; the printer quotes and escapes whatever is not an atom.
 *
 * Limits: DICT_DEPTH_MAX nesting, DICT_INPUT_MAX input bytes. Malformed
 * input gives -1 and an error with line and column; never a crash.
 */
#ifndef DICT_H
#define DICT_H

#include "lib.h"
#include "buf.h"

#define DICT_DEPTH_MAX 64
#define DICT_INPUT_MAX (16u * 1024 * 1024)

enum dict_type {
	DICT_TYPE_STRING,
	DICT_TYPE_DATA,
	DICT_TYPE_ARRAY,
	DICT_TYPE_DICT,
	DICT_TYPE_NULL,
};

struct dict_value {
	enum dict_type type;
	/* STRING and DATA: bytes (NUL-terminated for convenience). */
	unsigned char *data;
	size_t len;
	/* ARRAY: items; DICT: keys[i] = items[i] (insertion order). */
	struct dict_value **items;
	char **keys;
	unsigned int count;
};

/* Parses one value (surrounding whitespace allowed). Returns 0 and a new
   tree (free with dict_value_free), or -1 with *error_r (caller frees)
   like "line 3, column 7: expected ';'". */
int dict_parse(const unsigned char *text, size_t len,
	       struct dict_value **value_r, char **error_r);
/* Prints value; pretty puts each dictionary entry on its own line. */
void dict_print(buf_t *out, const struct dict_value *value, bool pretty);
void dict_value_free(struct dict_value **value);

/* Builders. */
struct dict_value *dict_new_dict(void);
struct dict_value *dict_new_array(void);
struct dict_value *dict_new_string(const char *s);
struct dict_value *dict_new_bytes(enum dict_type type, const void *data,
				  size_t len);
struct dict_value *dict_new_null(void);
struct dict_value *dict_copy(const struct dict_value *value);
/* Appends to an array (takes ownership). */
void dict_array_add(struct dict_value *array, struct dict_value *item);

/* Dictionary access; keys compare case-sensitively. */
struct dict_value *dict_get(const struct dict_value *dict, const char *key);
/* The string value of key, or NULL when missing or not a string. */
const char *dict_get_str(const struct dict_value *dict, const char *key);
/* Replaces or adds key (takes ownership of item; NULL removes key). */
void dict_set(struct dict_value *dict, const char *key,
	      struct dict_value *item);
void dict_set_str(struct dict_value *dict, const char *key, const char *s);
void dict_set_uint(struct dict_value *dict, const char *key, uint64_t n);
/* Parses a decimal string value; 0 and *n_r, or -1. */
int dict_get_uint(const struct dict_value *dict, const char *key,
		  uint64_t *n_r);

#endif
