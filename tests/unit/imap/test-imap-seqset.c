/* SPDX-License-Identifier: MIT */
/*
 * test-imap-seqset.c: sequence sets: parsing (ranges, '*', reversed
 * ranges, junk), resolution against a view by sequence number and by
 * UID (gaps, '*' as the highest UID, overlaps given once, out of range),
 * and the UID set writer of UIDPLUS.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const uint32_t view[] = { 3, 5, 6, 7, 10 };

/* Resolves str and returns the UIDs as "3,5" (static buffer). */
static const char *
resolve(const char *str, bool uid)
{
	static char text[256];
	struct imap_seqset set;
	struct uid_array out = { 0 };
	size_t pos = 0;
	unsigned int i;

	if (imap_seqset_parse(str, &set) < 0)
		return "PARSE";
	if (imap_seqset_resolve(&set, uid, view, N_ELEMENTS(view), NULL,
				&out) < 0) {
		imap_seqset_free(&set);
		return "RANGE";
	}
	text[0] = '\0';
	for (i = 0; i < out.count; i++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
					"%s%u", i == 0 ? "" : ",",
					out.uids[i]);
	uid_array_free(&out);
	imap_seqset_free(&set);
	return text;
}

static void
test_parse(void **state)
{
	static const char *const bad[] = {
		"", "0", "1:0", "a", "1,", ",1", "1::2", "1:*:2", "4294967296",
		"01", "1 2", "-1", "$,1", "1,$", "$:2",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++)
		assert_string_equal(resolve(bad[i], true), "PARSE");
}

static void
test_sequence_numbers(void **state)
{
	assert_string_equal(resolve("1", false), "3");
	assert_string_equal(resolve("2:4", false), "5,6,7");
	assert_string_equal(resolve("4:2", false), "5,6,7");
	assert_string_equal(resolve("*", false), "10");
	assert_string_equal(resolve("3:*", false), "6,7,10");
	assert_string_equal(resolve("*:4", false), "7,10");
	assert_string_equal(resolve("1,1:2,2", false), "3,5");
	assert_string_equal(resolve("6", false), "RANGE");
	assert_string_equal(resolve("1:6", false), "RANGE");
	assert_string_equal(resolve("4294967295", false), "RANGE");
}

static void
test_uids(void **state)
{
	assert_string_equal(resolve("1:4", true), "3");
	assert_string_equal(resolve("4", true), "");
	assert_string_equal(resolve("6:*", true), "6,7,10");
	assert_string_equal(resolve("*", true), "10");
	/* n:* includes the highest UID even when n is beyond it */
	assert_string_equal(resolve("100:*", true), "10");
	assert_string_equal(resolve("1:4294967295", true), "3,5,6,7,10");
	/* the largest UID is a UID, not '*' */
	assert_string_equal(resolve("4294967295", true), "");
	assert_string_equal(resolve("4294967295:*", true), "10");
	assert_string_equal(resolve("*:4294967295", true), "10");
	assert_string_equal(resolve("7,3,5:6", true), "3,5,6,7");
}

static void
test_saved_result(void **state)
{
	static uint32_t saved_uids[] = { 1, 5, 7, 11 };
	struct uid_array saved = { saved_uids, 4, 4 };
	struct imap_seqset set;
	struct uid_array out = { 0 };

	assert_int_equal(imap_seqset_parse("$", &set), 0);
	assert_true(set.dollar);
	/* only the saved UIDs still in the view */
	assert_int_equal(imap_seqset_resolve(&set, false, view,
					     N_ELEMENTS(view), &saved,
					     &out), 0);
	assert_int_equal(out.count, 2);
	assert_int_equal(out.uids[0], 5);
	assert_int_equal(out.uids[1], 7);
	uid_array_free(&out);
	assert_int_equal(imap_seqset_resolve(&set, true, view,
					     N_ELEMENTS(view), NULL,
					     &out), 0);
	assert_int_equal(out.count, 0);
	imap_seqset_free(&set);
}

static void
test_empty_view(void **state)
{
	struct imap_seqset set;
	struct uid_array out = { 0 };

	assert_int_equal(imap_seqset_parse("1:*", &set), 0);
	assert_int_equal(imap_seqset_resolve(&set, false, NULL, 0, NULL,
					     &out), 0);
	assert_int_equal(out.count, 0);
	assert_int_equal(imap_seqset_resolve(&set, true, NULL, 0, NULL,
					     &out), 0);
	assert_int_equal(out.count, 0);
	imap_seqset_free(&set);
}

static void
test_uidset_append(void **state)
{
	static const uint32_t uids[] = { 1, 2, 3, 5, 7, 8 };
	buf_t out = BUF_INIT;

	imap_uidset_append(&out, uids, N_ELEMENTS(uids));
	assert_string_equal(buf_cstr(&out), "1:3,5,7:8");
	buf_reset(&out);
	imap_uidset_append(&out, uids + 3, 1);
	assert_string_equal(buf_cstr(&out), "5");
	buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_sequence_numbers),
		cmocka_unit_test(test_uids),
		cmocka_unit_test(test_saved_result),
		cmocka_unit_test(test_empty_view),
		cmocka_unit_test(test_uidset_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
