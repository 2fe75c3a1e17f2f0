/* SPDX-License-Identifier: MIT */
/*
 * test-cli-mbox.c: unit tests for src/cli/cli-mbox.c: From_ dates,
 * splitting (LF and CRLF, empty messages, From in bodies), mboxrd
 * unescaping, flag headers, and encode/decode round trips.
 */
#include "cli-mbox.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define U(s) ((const unsigned char *)(s))

static int64_t
from_date(const char *line)
{
	int64_t date = -1;

	if (cli_mbox_from_date(U(line), strlen(line), &date) < 0)
		return -1;
	return date;
}

static void
test_from_date(void **state)
{
	/* 2024-01-03 12:00:00 UTC */
	const int64_t t = 1704283200;

	assert_int_equal(from_date("From MAILER-DAEMON Wed Jan  3 12:00:00 2024"),
			 t);
	assert_int_equal(from_date("From - Wed Jan 03 12:00:00 2024"), t);
	assert_int_equal(from_date("From a@b Wed Jan  3 12:00 2024"), t);
	assert_int_equal(from_date("From a@b Wed Jan  3 13:00:00 +0100 2024"),
			 t);
	assert_int_equal(from_date("From a@b Wed Jan  3 07:00:00 2024 -0500"),
			 t);
	assert_int_equal(from_date("From a@b Wed Jan  3 12:00:00 UTC 2024"),
			 t);
	assert_int_equal(from_date("From \"a b\"@c  Wed Jan  3 12:00:00 2024\r"),
			 t);
	assert_int_equal(from_date("Wed Jan  3 12:00:00 2024"), t);
	assert_int_equal(from_date("From a@b"), -1);
	assert_int_equal(from_date("From a@b Wed Foo  3 12:00:00 2024"), -1);
	assert_int_equal(from_date("From a@b Wed Jan 33 12:00:00 2024"), -1);
	assert_int_equal(from_date("From a@b Wed Jan  3 25:00:00 2024"), -1);
	assert_int_equal(from_date("From a@b Wed Jan  3 12:00:00"), -1);
}

/* Splits text; returns "date:msg|..." with messages as written. */
static char *
split(const char *text, size_t len)
{
	struct cli_mbox_reader reader;
	struct cli_mbox_msg msg;
	buf_t out = BUF_INIT;
	size_t out_len;

	if (cli_mbox_reader_init(&reader, U(text), len) < 0)
		return strdup("!");
	while (cli_mbox_reader_next(&reader, &msg) > 0) {
		buf_printf(&out, "%lld:", (long long)msg.date);
		buf_append(&out, msg.data, msg.len);
		buf_append_c(&out, '|');
	}
	return (char *)buf_steal(&out, &out_len);
}

static void
check_split(const char *text, const char *expected)
{
	char *got = split(text, strlen(text));

	assert_string_equal(got, expected);
	free(got);
}

static void
test_split(void **state)
{
	check_split("", "");
	check_split("\n\n", "");
	check_split("Subject: x\n", "!");
	check_split("From a Thu Jan  1 00:00:01 1970\nA: 1\n\nbody\n\n"
		    "From b Thu Jan  1 00:00:02 1970\nB: 2\n\nbody2\n\n",
		    "1:A: 1\n\nbody\n|2:B: 2\n\nbody2\n|");
	/* A From line not after an empty line is body. */
	check_split("From a\nA: 1\n\nx\nFrom me\n\nFrom b\nB: 2\n",
		    "0:A: 1\n\nx\nFrom me\n|0:B: 2\n|");
	/* CRLF. */
	check_split("From a\r\nA: 1\r\n\r\nx\r\n\r\nFrom b\r\nB\r\n\r\n",
		    "0:A: 1\r\n\r\nx\r\n|0:B\r\n|");
	/* Empty messages, no final newline. */
	check_split("From a\n\nFrom b\n\nFrom c\nx",
		    "0:|0:|0:x|");
	check_split("From a\n", "0:|");
	check_split("From a", "0:|");
	/* Leading empty lines are skipped. */
	check_split("\r\n\nFrom a\nA\n", "0:A\n|");
}

static char *
decode(const char *raw, struct cli_flags *flags)
{
	struct cli_mbox_msg msg;
	buf_t scratch = BUF_INIT;
	const unsigned char *data;
	size_t len;
	char *ret;

	memset(&msg, 0, sizeof(msg));
	msg.data = U(raw);
	msg.len = strlen(raw);
	cli_mbox_msg_decode(&msg, &scratch, flags, &data, &len);
	if (data != scratch.data)
		assert_ptr_equal(data, msg.data);
	ret = strndup((const char *)data, len);
	buf_deinit(&scratch);
	return ret;
}

static void
test_decode(void **state)
{
	struct cli_flags flags;
	char *got;

	cli_flags_init(&flags);
	got = decode("A: 1\nStatus: RO\nX-Status: AFDT\n"
		     "X-Keywords: $Label1, work\n  later\nB: 2\n\n"
		     ">From x\n>>From y\n> From z\nStatus: body\n", &flags);
	assert_string_equal(got, "A: 1\nB: 2\n\nFrom x\n>From y\n"
			    "> From z\nStatus: body\n");
	assert_int_equal(flags.flags, STORE_FLAG_SEEN | STORE_FLAG_ANSWERED |
			 STORE_FLAG_FLAGGED | STORE_FLAG_DELETED |
			 STORE_FLAG_DRAFT);
	assert_int_equal(flags.keyword_count, 3);
	assert_string_equal(flags.keywords[0], "$Label1");
	assert_string_equal(flags.keywords[1], "work");
	assert_string_equal(flags.keywords[2], "later");
	free(got);
	cli_flags_deinit(&flags);

	/* Nothing to change: the raw bytes themselves. */
	cli_flags_init(&flags);
	got = decode("A: 1\n\nbody\n", &flags);
	assert_string_equal(got, "A: 1\n\nbody\n");
	assert_int_equal(flags.flags, 0);
	free(got);
	/* "Status: O" alone is not \Seen. */
	got = decode("Status: O\r\nA: 1\r\n\r\nx", &flags);
	assert_string_equal(got, "A: 1\r\n\r\nx");
	assert_int_equal(flags.flags, 0);
	free(got);
	cli_flags_deinit(&flags);
}

static char *
encode(const char *data, uint32_t f, const char *keyword)
{
	struct cli_flags flags;
	buf_t out = BUF_INIT;
	size_t len;

	cli_flags_init(&flags);
	flags.flags = f;
	if (keyword != NULL)
		cli_flags_add_keyword(&flags, keyword);
	cli_mbox_msg_encode(&out, U(data), strlen(data), 1704283200, &flags);
	cli_flags_deinit(&flags);
	return (char *)buf_steal(&out, &len);
}

static void
test_encode(void **state)
{
	char *got;

	got = encode("A: 1\nStatus: U\n\nFrom x\n>From y\n", STORE_FLAG_SEEN |
		     STORE_FLAG_FLAGGED, "$Label1");
	assert_string_equal(got, "From MAILER-DAEMON Wed Jan  3 12:00:00 2024\n"
			    "A: 1\nStatus: RO\nX-Status: F\n"
			    "X-Keywords: $Label1\n\n>From x\n>>From y\n\n");
	free(got);
	/* CRLF header, no body, no final newline: LF in the file. */
	got = encode("A: 1\r\nB: 2", 0, NULL);
	assert_string_equal(got, "From MAILER-DAEMON Wed Jan  3 12:00:00 2024\n"
			    "A: 1\nB: 2\nStatus: O\n\n");
	free(got);
	got = encode("", 0, NULL);
	assert_string_equal(got, "From MAILER-DAEMON Wed Jan  3 12:00:00 2024\n"
			    "Status: O\n\n");
	free(got);
}

/* s with every CRLF made LF (caller frees): what an export holds. */
static char *
lf_form(const char *s)
{
	char *out = strdup(s), *p = out;

	for (; *s != '\0'; s++) {
		if (s[0] == '\r' && s[1] == '\n')
			continue;
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* Encode then split and decode: the same bytes (with LF line ends; the
   importer stores them as CRLF again), flags and date. */
static void
check_round_trip(const char *const *msgs, unsigned int count)
{
	struct cli_mbox_reader reader;
	struct cli_mbox_msg msg;
	struct cli_flags flags;
	buf_t file = BUF_INIT;
	unsigned int i;

	for (i = 0; i < count; i++) {
		cli_flags_init(&flags);
		flags.flags = i & STORE_FLAGS_SYSTEM;
		cli_mbox_msg_encode(&file, U(msgs[i]), strlen(msgs[i]),
				    1000000 + i, &flags);
		cli_flags_deinit(&flags);
	}
	assert_int_equal(cli_mbox_reader_init(&reader, file.data, file.len), 0);
	for (i = 0; i < count; i++) {
		char *raw, *got, *want = lf_form(msgs[i]);

		assert_int_equal(cli_mbox_reader_next(&reader, &msg), 1);
		assert_int_equal(msg.date, 1000000 + i);
		cli_flags_init(&flags);
		raw = strndup((const char *)msg.data, msg.len);
		got = decode(raw, &flags);
		free(raw);
		assert_string_equal(got, want);
		assert_int_equal(flags.flags, i & STORE_FLAGS_SYSTEM);
		cli_flags_deinit(&flags);
		free(got);
		free(want);
	}
	assert_int_equal(cli_mbox_reader_next(&reader, &msg), 0);
	buf_deinit(&file);
}

static void
test_round_trip(void **state)
{
	static const char *const msgs[] = {
		"Subject: a\n\nbody\n",
		"Subject: b\n\nFrom here\n>From there\n\n\nFrom x\n",
		"Subject: c\r\n\r\nline\r\n\r\n",
		"\nbody only\n",
		"Subject: e\n\n",
	};
	static const char *const more[] = {
		"Subject: f\n\n>>>From z\n",
	};

	check_round_trip(msgs, N_ELEMENTS(msgs));
	check_round_trip(more, N_ELEMENTS(more));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_date),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
