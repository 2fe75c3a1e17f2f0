/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dict.c: libFuzzer target for the dictionary parser (src/lib/dict.c).
 * Any input must parse or fail with a "line L, column C: ..." error; a
 * parsed tree must print (compact and pretty) to text that parses back to
 * the same tree, and dict_copy must give the same tree too. Equality is
 * checked on the compact printed form, which is canonical.
 */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text, which must succeed, and returns its compact print. */
static void
reparse(const buf_t *text, buf_t *compact_r)
{
	struct dict_value *value;
	char *error;

	if (dict_parse(text->data, text->len, &value, &error) < 0)
		i_panic("printed text does not parse: %s", error);
	dict_print(compact_r, value, false);
	dict_value_free(&value);
}

static void
check_round_trip(const struct dict_value *value)
{
	buf_t compact = BUF_INIT, pretty = BUF_INIT, again = BUF_INIT;
	struct dict_value *copy;

	dict_print(&compact, value, false);
	dict_print(&pretty, value, true);

	reparse(&compact, &again);
	i_assert(again.len == compact.len &&
		 memcmp(again.data, compact.data, compact.len) == 0);
	buf_reset(&again);
	reparse(&pretty, &again);
	i_assert(again.len == compact.len &&
		 memcmp(again.data, compact.data, compact.len) == 0);

	copy = dict_copy(value);
	buf_reset(&again);
	dict_print(&again, copy, false);
	i_assert(again.len == compact.len &&
		 memcmp(again.data, compact.data, compact.len) == 0);
	dict_value_free(&copy);

	buf_deinit(&compact);
	buf_deinit(&pretty);
	buf_deinit(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dict_value *value;
	char *error;

	if (dict_parse(data, size, &value, &error) < 0) {
		i_assert(value == NULL);
		i_assert(error != NULL && strncmp(error, "line ", 5) == 0);
		free(error);
		return 0;
	}
	i_assert(error == NULL);
	check_round_trip(value);
	dict_value_free(&value);
	return 0;
}
