/* SPDX-License-Identifier: MIT */
/*
 * test-fmt-mbox.c: unit tests for src/store/fmt-mbox.c (and the flag
 * letters of fmt-common.c): separator lines, scanning (with and without
 * size fields, torn tails, damage), appends, in-place flag writes and the
 * rewrite used by expunge. Works on a temp directory; no accounts.
 * Fault injection re-executes this program with COMMUNE_VFS_FAIL set
 * (vfs reads the variable once per process).
 */
#include "mailbox-private.h"
#include "test-child.h"
#include "vfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wed Nov 25 18:51:12 2026 UTC */
#define T1 1795632672LL

static char test_dir[64];
static char test_path[128];
static const char *self_path;

static int
setup(void **state)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test-fmt-mbox.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	snprintf(test_path, sizeof(test_path), "%s/INBOX.mbox", test_dir);
	*state = NULL;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
open_box(void)
{
	int fd = open(test_path, O_RDWR | O_CREAT, 0600);

	assert_true(fd >= 0);
	return fd;
}

static uint64_t
file_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

static void
write_raw(int fd, const char *text)
{
	size_t len = strlen(text);

	assert_int_equal(pwrite(fd, text, len, (off_t)file_size(fd)),
			 (ssize_t)len);
}

static char *
read_range(int fd, uint64_t off, uint64_t len)
{
	char *buf = calloc(1, len + 1);

	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	return buf;
}

static void
append_msgs(int fd, struct fmt_msg *msgs, unsigned int count,
	    struct mail_rec *recs)
{
	assert_int_equal(mbox_append(fd, test_path, file_size(fd), msgs,
				     count, recs), 0);
}

static void
assert_body(int fd, const struct mail_rec *rec, const char *text)
{
	char *body = read_range(fd, rec->offset + rec->hdr_len, rec->size);

	assert_int_equal(rec->size, strlen(text));
	assert_string_equal(body, text);
	free(body);
}

static void
scan_all(int fd, struct fmt_scan *scan, buf_t *report)
{
	fmt_scan_init(scan);
	assert_int_equal(mbox_scan(fd, test_path, 0, file_size(fd), 0, scan,
				   report), 0);
}

/* ---- flag letters and dates ---- */

static void
test_flag_letters(void **state)
{
	char out[FLAGS_LETTERS_MAX + 1];
	unsigned int unknown;
	uint32_t all = STORE_FLAGS_SYSTEM | STORE_FLAG_KEYWORD(0) |
		STORE_FLAG_KEYWORD(25);

	assert_int_equal(flags_to_letters(0, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(flags_to_letters(all, out), 7);
	assert_string_equal(out, "SAFDTaz");
	assert_int_equal(flags_to_letters(STORE_FLAG_DRAFT |
					  STORE_FLAG_SEEN, out), 2);
	assert_string_equal(out, "ST");
	assert_int_equal(flags_from_letters("zaTDFAS__", 9, true, &unknown),
			 all);
	assert_int_equal(unknown, 0);
	assert_int_equal(flags_from_letters("SXR_", 4, false, &unknown),
			 STORE_FLAG_SEEN);
	assert_int_equal(unknown, 3);
}

static void
test_ctime(void **state)
{
	char out[25];
	int64_t t;

	mbox_ctime(T1, out);
	assert_string_equal(out, "Wed Nov 25 18:51:12 2026");
	mbox_ctime(T1 - 20 * 86400, out);
	assert_string_equal(out, "Thu Nov  5 18:51:12 2026");
	assert_int_equal(mbox_ctime_parse((const unsigned char *)out, 24, &t),
			 0);
	assert_int_equal(t, T1 - 20 * 86400);
	mbox_ctime(0, out);
	assert_string_equal(out, "Thu Jan  1 00:00:00 1970");
	assert_int_equal(mbox_ctime_parse(
		(const unsigned char *)"Wed Feb 30 18:51:12 2026", 24, &t), -1);
	assert_int_equal(mbox_ctime_parse(
		(const unsigned char *)"Wed Nov 05 18:51:12 2026", 24, &t), -1);
	assert_int_equal(mbox_ctime_parse(
		(const unsigned char *)"Xyz Nov 25 18:51:12 2026", 24, &t), -1);
	assert_int_equal(mbox_ctime_parse(
		(const unsigned char *)"Wed Nov 25 24:51:12 2026", 24, &t), -1);
	assert_int_equal(mbox_ctime_parse(
		(const unsigned char *)"Wed Nov 25 18:51:12 999", 23, &t), -1);
}

/* ---- separator lines ---- */

static const char *
sep_line(buf_t *buf, const char *rp, uint32_t flags, uint32_t uid,
	 uint64_t size)
{
	buf_reset(buf);
	mbox_sep_write(buf, rp, flags, uid, T1, size, MBOX_FLAGS_FIELD_MIN);
	return buf_cstr(buf);
}

static int
parse_str(const char *line, struct mbox_sep *sep)
{
	size_t len = strlen(line);

	if (len > 0 && line[len - 1] == '\n')
		len--;
	return mbox_sep_parse((const unsigned char *)line, len, sep);
}

static void
test_sep_write(void **state)
{
	buf_t buf = BUF_INIT;

	assert_string_equal(sep_line(&buf, NULL, 0, 1, 0),
		"From <> (________-1) Wed Nov 25 18:51:12 2026 0\n");
	assert_string_equal(sep_line(&buf, "a@b.example", STORE_FLAG_SEEN |
				     STORE_FLAG_KEYWORD(2), 4294967295u, 1234),
		"From <a@b.example> (Sc______-4294967295) "
		"Wed Nov 25 18:51:12 2026 1234\n");
	assert_string_equal(sep_line(&buf, "<x@y>", STORE_FLAGS_SYSTEM |
				     STORE_FLAG_KEYWORD(0) |
				     STORE_FLAG_KEYWORD(1) |
				     STORE_FLAG_KEYWORD(3), 7, 5),
		"From <x@y> (SAFDTabd-7) Wed Nov 25 18:51:12 2026 5\n");
	assert_string_equal(sep_line(&buf, "", 0, 12, 1),
		"From <> (________-12) Wed Nov 25 18:51:12 2026 1\n");
	buf_deinit(&buf);
}

static void
test_sep_parse(void **state)
{
	struct mbox_sep sep;
	buf_t buf = BUF_INIT;
	const char *line;

	line = sep_line(&buf, "<\"a b) (c\"@d>", STORE_FLAG_FLAGGED |
			STORE_FLAG_KEYWORD(25), 42, 99);
	assert_int_equal(parse_str(line, &sep), 1);
	assert_int_equal(sep.uid, 42);
	assert_int_equal(sep.flags, STORE_FLAG_FLAGGED | STORE_FLAG_KEYWORD(25));
	assert_int_equal(sep.date, T1);
	assert_true(sep.has_size);
	assert_int_equal(sep.size, 99);
	assert_int_equal(sep.rp_len, strlen("<\"a b) (c\"@d>"));
	assert_memory_equal(line + sep.rp_off, "<\"a b) (c\"@d>", sep.rp_len);
	assert_int_equal(sep.flags_len, 8);
	assert_memory_equal(line + sep.flags_off, "Fz______", 8);

	/* CommuniGate's line without the size */
	assert_int_equal(parse_str("From <a@b> (SD-3) Wed Nov 25 18:51:12 2026",
				   &sep), 1);
	assert_false(sep.has_size);
	assert_int_equal(sep.uid, 3);
	assert_int_equal(sep.flags, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	/* unknown letters are counted and ignored */
	assert_int_equal(parse_str("From <> (SRX-3) Wed Nov 25 18:51:12 2026 1",
				   &sep), 1);
	assert_int_equal(sep.flags, STORE_FLAG_SEEN);
	assert_int_equal(sep.unknown_flags, 2);
	buf_deinit(&buf);
}

static void
test_sep_parse_strict(void **state)
{
	static const char *const bad[] = {
		"",
		"From ",
		"from <> (S-1) Wed Nov 25 18:51:12 2026 1",
		"From  (S-1) Wed Nov 25 18:51:12 2026 1",
		"From a@b (S-1) Wed Nov 25 18:51:12 2026 1",
		"From <> (S-0) Wed Nov 25 18:51:12 2026 1",
		"From <> (S-01) Wed Nov 25 18:51:12 2026 1",
		"From <> (S-4294967296) Wed Nov 25 18:51:12 2026 1",
		"From <> (S1) Wed Nov 25 18:51:12 2026 1",
		"From <> (S-1)  Wed Nov 25 18:51:12 2026 1",
		"From <> (S-1) Wed Nov 25 18:51:12 2026 01",
		"From <> (S-1) Wed Nov 25 18:51:12 2026 1 ",
		"From <> (S-1) Wed Nov 25 18:51:12 2026  1",
		"From <> (S-1) Wed Nov 25 18:51 2026 1",
		"From <> (S-1) Wed Nov 31 18:51:12 2026 1",
		"From <> (S1-1) Wed Nov 25 18:51:12 2026 1",
		"From <a\tb> (S-1) Wed Nov 25 18:51:12 2026 1",
		"From <> S-1 Wed Nov 25 18:51:12 2026 1",
		"From someone Wed Nov 25 18:51:12 2026",
	};
	struct mbox_sep sep;
	char longline[MBOX_SEPARATOR_MAX + 64];
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		if (parse_str(bad[i], &sep) != 0)
			fail_msg("accepted: %s", bad[i]);
	}
	/* over-long line, and an over-long flags field */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "From <", 6);
	snprintf(longline + MBOX_SEPARATOR_MAX - 10, 64,
		 "> (S-1) Wed Nov 25 18:51:12 2026 1");
	assert_int_equal(parse_str(longline, &sep), 0);
	snprintf(longline, sizeof(longline), "From <> (%s-1) "
		 "Wed Nov 25 18:51:12 2026 1",
		 "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS");
	assert_int_equal(parse_str(longline, &sep), 0);
}

static void
test_return_path_check(void **state)
{
	assert_int_equal(mbox_return_path_check(NULL), 0);
	assert_int_equal(mbox_return_path_check(""), 0);
	assert_int_equal(mbox_return_path_check("<>"), 0);
	assert_int_equal(mbox_return_path_check("a@b"), 0);
	assert_int_equal(mbox_return_path_check("<a@b>"), 0);
	assert_int_equal(mbox_return_path_check("<a@b"), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_INVALID);
	assert_int_equal(mbox_return_path_check("a@b\r\nX: y"), -1);
	assert_int_equal(mbox_return_path_check("<"), -1);
}

/* ---- scanning and appending ---- */

static void
make_msgs(struct fmt_msg *msgs, const char *const *texts, unsigned int count,
	  uint32_t first_uid)
{
	unsigned int i;

	memset(msgs, 0, sizeof(*msgs) * count);
	for (i = 0; i < count; i++) {
		msgs[i].data = (const unsigned char *)texts[i];
		msgs[i].len = strlen(texts[i]);
		msgs[i].uid = first_uid + i;
		msgs[i].flags = i == 1 ? STORE_FLAG_SEEN : 0;
		msgs[i].internal_date = T1 + i;
		msgs[i].return_path = i == 0 ? "sender@example.org" : NULL;
	}
}

static const char *const texts[] = {
	"Subject: one\r\n\r\nbody one\r\n",
	/* a line that looks like a separator, unescaped */
	"Subject: two\n\nFrom <> (S-9) Wed Nov 25 18:51:12 2026 3\nxx\n",
	"no final newline",
	"",
};

static void
test_append_scan(void **state)
{
	struct fmt_msg msgs[4];
	struct mail_rec recs[4];
	struct fmt_scan scan;
	unsigned int i;
	int fd = open_box();

	make_msgs(msgs, texts, 4, 10);
	append_msgs(fd, msgs, 2, recs);
	append_msgs(fd, msgs + 2, 2, recs + 2);
	scan_all(fd, &scan, NULL);
	assert_int_equal(scan.count, 4);
	assert_false(scan.torn);
	assert_int_equal(scan.problems, 0);
	assert_int_equal(scan.end, file_size(fd));
	for (i = 0; i < 4; i++) {
		assert_int_equal(scan.recs[i].uid, 10 + i);
		assert_int_equal(scan.recs[i].flags, msgs[i].flags);
		assert_int_equal(scan.recs[i].internal_date, T1 + i);
		assert_int_equal(scan.recs[i].offset, recs[i].offset);
		assert_int_equal(scan.recs[i].hdr_len, recs[i].hdr_len);
		assert_int_equal(scan.recs[i].flags_off, recs[i].flags_off);
		assert_int_equal(scan.recs[i].flags_len, recs[i].flags_len);
		assert_body(fd, &scan.recs[i], texts[i]);
	}
	/* scanning the tail only gives the same records */
	fmt_scan_deinit(&scan);
	assert_int_equal(mbox_scan(fd, test_path, recs[2].offset, file_size(fd),
				   11, &scan, NULL), 0);
	assert_int_equal(scan.count, 2);
	assert_int_equal(scan.recs[0].uid, 12);
	fmt_scan_deinit(&scan);
	close(fd);
}

static void
test_torn_tail(void **state)
{
	struct fmt_msg msgs[2];
	struct mail_rec recs[2];
	struct fmt_scan scan;
	buf_t buf = BUF_INIT;
	uint64_t good;
	int fd = open_box();

	make_msgs(msgs, texts, 2, 1);
	append_msgs(fd, msgs, 2, recs);
	good = file_size(fd);

	/* separator, then only part of the body */
	write_raw(fd, sep_line(&buf, NULL, 0, 3, 100));
	write_raw(fd, "Subject: torn\n\nonly a part");
	scan_all(fd, &scan, NULL);
	assert_int_equal(scan.count, 2);
	assert_true(scan.torn);
	assert_int_equal(scan.end, good);
	assert_int_equal(scan.problems, 0);
	assert_int_equal(mbox_truncate(fd, test_path, scan.end), 0);
	assert_int_equal(file_size(fd), good);
	fmt_scan_deinit(&scan);

	/* the body complete but not the final "\n" */
	write_raw(fd, sep_line(&buf, NULL, 0, 3, 4));
	write_raw(fd, "abcd");
	scan_all(fd, &scan, NULL);
	assert_true(scan.torn);
	assert_int_equal(scan.end, good);
	assert_int_equal(scan.count, 2);
	fmt_scan_deinit(&scan);
	assert_int_equal(mbox_truncate(fd, test_path, good), 0);

	/* half a separator line */
	write_raw(fd, "From <a@b> (S___");
	scan_all(fd, &scan, NULL);
	assert_true(scan.torn);
	assert_int_equal(scan.end, good);
	fmt_scan_deinit(&scan);
	assert_int_equal(mbox_truncate(fd, test_path, good), 0);

	/* a complete last record is not torn */
	write_raw(fd, sep_line(&buf, NULL, 0, 3, 4));
	write_raw(fd, "abcd\n");
	scan_all(fd, &scan, NULL);
	assert_false(scan.torn);
	assert_int_equal(scan.count, 3);
	fmt_scan_deinit(&scan);
	buf_deinit(&buf);
	close(fd);
}

static void
test_sizeless_foreign(void **state)
{
	struct fmt_scan scan;
	int fd = open_box();

	write_raw(fd, "From <a@b> (S-1) Wed Nov 25 18:51:12 2026\n"
		  "Subject: a\n\nbody a\n"
		  "From nobody Thu Jan  1 00:00:00 1970\n"
		  "\n"
		  "From <> (-2) Wed Nov 25 18:51:12 2026\n"
		  "Subject: b\n\nbody b\n\n"
		  "From <> (FD-7) Wed Nov 25 18:51:12 2026\n"
		  "last");
	scan_all(fd, &scan, NULL);
	assert_int_equal(scan.count, 3);
	assert_int_equal(scan.problems, 0);
	assert_false(scan.torn);
	assert_body(fd, &scan.recs[0], "Subject: a\n\nbody a\n"
		    "From nobody Thu Jan  1 00:00:00 1970\n");
	assert_body(fd, &scan.recs[1], "Subject: b\n\nbody b\n");
	assert_body(fd, &scan.recs[2], "last");
	assert_int_equal(scan.recs[0].flags, STORE_FLAG_SEEN);
	assert_int_equal(scan.recs[2].uid, 7);
	assert_int_equal(scan.recs[2].flags,
			 STORE_FLAG_FLAGGED | STORE_FLAG_DELETED);
	fmt_scan_deinit(&scan);
	close(fd);
}

static void
test_damage(void **state)
{
	struct fmt_scan scan;
	buf_t buf = BUF_INIT, report = BUF_INIT;
	int fd = open_box();

	/* garbage before the first separator */
	write_raw(fd, "garbage line\n");
	write_raw(fd, sep_line(&buf, NULL, 0, 5, 3));
	write_raw(fd, "abc\n");
	/* a wrong size in the middle: falls back to the next separator */
	write_raw(fd, sep_line(&buf, NULL, 0, 6, 2));
	write_raw(fd, "abcdef\n");
	/* UIDs not ascending */
	write_raw(fd, sep_line(&buf, NULL, 0, 6, 1));
	write_raw(fd, "x\n");
	write_raw(fd, sep_line(&buf, NULL, 0, 9, 1));
	write_raw(fd, "y\n");
	scan_all(fd, &scan, &report);
	assert_int_equal(scan.count, 4);
	assert_int_equal(scan.problems, 3);
	assert_int_equal(scan.bad_uids, 1);
	assert_false(scan.torn);
	assert_body(fd, &scan.recs[0], "abc");
	assert_body(fd, &scan.recs[1], "abcdef");
	assert_int_equal(scan.recs[2].uid, 6);
	assert_body(fd, &scan.recs[3], "y");
	assert_non_null(strstr(buf_cstr(&report), "not a separator line"));
	assert_non_null(strstr(buf_cstr(&report), "no record end"));
	assert_non_null(strstr(buf_cstr(&report), "uid 6 not above 6"));
	fmt_scan_deinit(&scan);
	buf_deinit(&buf);
	buf_deinit(&report);
	close(fd);
}

/* Another tool left bytes without a final "\n": the next record still
   starts on a line of its own. */
static void
test_append_after_junk(void **state)
{
	struct fmt_msg msgs[1];
	struct mail_rec recs[1];
	struct fmt_scan scan;
	buf_t report = BUF_INIT;
	int fd = open_box();

	write_raw(fd, "junk without newline");
	make_msgs(msgs, texts, 1, 5);
	append_msgs(fd, msgs, 1, recs);
	assert_int_equal(recs[0].offset, 21);
	scan_all(fd, &scan, &report);
	assert_int_equal(scan.count, 1);
	assert_int_equal(scan.problems, 1);
	assert_int_equal(scan.recs[0].offset, 21);
	assert_body(fd, &scan.recs[0], texts[0]);
	fmt_scan_deinit(&scan);
	buf_deinit(&report);
	close(fd);
}

/* ---- flags and rewrite ---- */

static void
test_flags_in_place(void **state)
{
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];
	struct fmt_scan scan;
	uint32_t new_flags[2];
	uint64_t size;
	uint32_t many = STORE_FLAGS_SYSTEM | STORE_FLAG_KEYWORD(0) |
		STORE_FLAG_KEYWORD(1) | STORE_FLAG_KEYWORD(2) |
		STORE_FLAG_KEYWORD(3);
	int fd = open_box();

	make_msgs(msgs, texts, 3, 1);
	append_msgs(fd, msgs, 3, recs);
	size = file_size(fd);
	assert_true(mbox_flags_fit(&recs[0], STORE_FLAGS_SYSTEM |
				   STORE_FLAG_KEYWORD(0) |
				   STORE_FLAG_KEYWORD(1) |
				   STORE_FLAG_KEYWORD(2)));
	assert_false(mbox_flags_fit(&recs[0], many));
	new_flags[0] = STORE_FLAG_DELETED | STORE_FLAG_KEYWORD(4);
	new_flags[1] = 0;
	assert_int_equal(mbox_write_flags(fd, test_path, recs, new_flags, 2),
			 0);
	assert_int_equal(file_size(fd), size);
	scan_all(fd, &scan, NULL);
	assert_int_equal(scan.count, 3);
	assert_int_equal(scan.recs[0].flags, new_flags[0]);
	assert_int_equal(scan.recs[1].flags, 0);
	assert_int_equal(scan.recs[2].flags, 0);
	assert_body(fd, &scan.recs[1], texts[1]);
	fmt_scan_deinit(&scan);
	close(fd);
}

static void
test_rewrite(void **state)
{
	struct fmt_msg msgs[4];
	struct mail_rec recs[4], keep[2];
	struct fmt_scan scan;
	uint32_t many = STORE_FLAGS_SYSTEM | 0x0fffffe0u;
	char *old;
	int fd = open_box(), fd2;

	make_msgs(msgs, texts, 4, 1);
	append_msgs(fd, msgs, 4, recs);
	/* keep 2 and 4; 4 gets more flags than its field holds */
	keep[0] = recs[1];
	keep[1] = recs[3];
	keep[1].flags = many;
	assert_int_equal(mbox_rewrite(fd, test_path, keep, 2), 0);
	/* the old inode is intact for readers still holding it */
	old = read_range(fd, recs[0].offset + recs[0].hdr_len, recs[0].size);
	assert_string_equal(old, texts[0]);
	free(old);

	fd2 = open(test_path, O_RDWR);
	assert_true(fd2 >= 0);
	scan_all(fd2, &scan, NULL);
	assert_int_equal(scan.count, 2);
	assert_int_equal(scan.problems, 0);
	assert_int_equal(scan.recs[0].uid, 2);
	assert_int_equal(scan.recs[0].offset, 0);
	assert_int_equal(scan.recs[1].uid, 4);
	assert_int_equal(scan.recs[1].flags, many);
	assert_int_equal(scan.recs[1].flags_len, 32);
	assert_int_equal(scan.recs[1].offset, keep[1].offset);
	assert_int_equal(scan.recs[1].hdr_len, keep[1].hdr_len);
	assert_int_equal(scan.recs[1].flags_off, keep[1].flags_off);
	assert_body(fd2, &scan.recs[0], texts[1]);
	assert_body(fd2, &scan.recs[1], texts[3]);
	fmt_scan_deinit(&scan);
	/* the return path survived */
	old = read_range(fd2, 0, 5);
	assert_string_equal(old, "From ");
	free(old);
	assert_int_equal(access(test_path + 0, F_OK), 0);
	close(fd2);

	/* empty result */
	fd2 = open(test_path, O_RDWR);
	assert_int_equal(mbox_rewrite(fd2, test_path, keep, 0), 0);
	close(fd2);
	fd2 = open(test_path, O_RDONLY);
	assert_int_equal(file_size(fd2), 0);
	close(fd2);
	close(fd);
}

/* A rewrite whose directory fsync fails puts the old file back, byte
   for byte; a failure before the rename leaves it alone. Either way no
   temp file stays. */
static void
test_rewrite_failure(void **state)
{
	static const char *const specs[] = {
		"fsync:2", "fsync:2:ENOSPC", "fsync:1", "rename:1", "write:1",
	};
	struct fmt_msg msgs[4];
	struct mail_rec recs[4];
	unsigned char *before, *after;
	size_t before_len, after_len;
	unsigned int i;
	char tmp[160];
	int fd = open_box();

	make_msgs(msgs, texts, 4, 1);
	append_msgs(fd, msgs, 4, recs);
	assert_int_equal(vfs_read_file(test_path, &before, &before_len), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", test_path);
	for (i = 0; i < N_ELEMENTS(specs); i++) {
		vfs_fault_set(specs[i]);
		assert_int_equal(mbox_rewrite(fd, test_path, recs + 1, 2), -1);
		vfs_fault_set(NULL);
		store_clear_error();
		assert_int_equal(vfs_read_file(test_path, &after, &after_len),
				 0);
		assert_int_equal(after_len, before_len);
		assert_memory_equal(after, before, before_len);
		free(after);
		assert_int_equal(access(tmp, F_OK), -1);
		/* the file the caller had open may be another one now */
		close(fd);
		fd = open_box();
	}
	free(before);
	close(fd);
}

static void
test_read_sep(void **state)
{
	unsigned char line[MBOX_SEPARATOR_MAX];
	struct fmt_msg msgs[1];
	struct mail_rec recs[1], bad;
	struct mbox_sep sep;
	int fd = open_box();

	make_msgs(msgs, texts, 1, 77);
	append_msgs(fd, msgs, 1, recs);
	assert_int_equal(mbox_read_sep(fd, test_path, &recs[0], line, &sep), 0);
	assert_int_equal(sep.uid, 77);
	assert_memory_equal(line + sep.rp_off, "<sender@example.org>",
			    sep.rp_len);
	bad = recs[0];
	bad.uid = 78;
	assert_int_equal(mbox_read_sep(fd, test_path, &bad, line, &sep), -1);
	assert_int_equal(store_error(NULL), STORE_ERROR_CORRUPT);
	close(fd);
}

/* ---- fault injection (child processes) ---- */

static int
child_append(const char *path)
{
	struct fmt_msg msgs[2];
	struct mail_rec recs[2];
	struct stat st;
	int fd = open(path, O_RDWR);

	vfs_init();
	if (fd == -1 || fstat(fd, &st) == -1)
		return 2;
	make_msgs(msgs, texts, 2, 100);
	return mbox_append(fd, path, (uint64_t)st.st_size, msgs, 2, recs) == 0 ?
		0 : 1;
}

/* Toggles \Flagged on every record in place. */
static int
child_flags(const char *path)
{
	struct fmt_scan scan;
	uint32_t flags[8];
	struct stat st;
	unsigned int i;
	int fd = open(path, O_RDWR), ret;

	vfs_init();
	fmt_scan_init(&scan);
	if (fd == -1 || fstat(fd, &st) == -1 ||
	    mbox_scan(fd, path, 0, (uint64_t)st.st_size, 0, &scan, NULL) < 0 ||
	    scan.count > 8)
		return 2;
	for (i = 0; i < scan.count; i++)
		flags[i] = scan.recs[i].flags ^ STORE_FLAG_FLAGGED;
	ret = mbox_write_flags(fd, path, scan.recs, flags, scan.count);
	fmt_scan_deinit(&scan);
	return ret == 0 ? 0 : 1;
}

static int
run_child_mode(const char *env, const char *mode, const char *path)
{
	return test_run_child(self_path, env, mode, path, NULL);
}

static void
test_flags_failure_restores(void **state)
{
	static const char *const envs[] = {
		"COMMUNE_VFS_FAIL=write:2",
		"COMMUNE_VFS_FAIL=write:3:ENOSPC",
		"COMMUNE_VFS_FAIL=fsync:1",
	};
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];
	struct fmt_scan scan;
	unsigned int i, j;
	int fd = open_box();

	make_msgs(msgs, texts, 3, 1);
	append_msgs(fd, msgs, 3, recs);
	for (i = 0; i < N_ELEMENTS(envs); i++) {
		assert_int_equal(run_child_mode(envs[i], "--child-flags",
						test_path), 1);
		scan_all(fd, &scan, NULL);
		assert_int_equal(scan.count, 3);
		for (j = 0; j < 3; j++)
			assert_int_equal(scan.recs[j].flags, msgs[j].flags);
		fmt_scan_deinit(&scan);
	}
	assert_int_equal(run_child_mode("COMMUNE_VFS_FAIL=unlink:1",
					"--child-flags", test_path), 0);
	scan_all(fd, &scan, NULL);
	for (j = 0; j < 3; j++)
		assert_int_equal(scan.recs[j].flags,
				 msgs[j].flags ^ STORE_FLAG_FLAGGED);
	fmt_scan_deinit(&scan);
	close(fd);
}

static int
run_child(const char *env, const char *path)
{
	return run_child_mode(env, "--child-append", path);
}

static void
test_append_failure_rolls_back(void **state)
{
	static const char *const envs[] = {
		"COMMUNE_VFS_FAIL=write:1:ENOSPC",
		"COMMUNE_VFS_FAIL=write:2",
		"COMMUNE_VFS_FAIL=fsync:1",
	};
	struct fmt_msg msgs[1];
	struct mail_rec recs[1];
	struct fmt_scan scan;
	unsigned int i;
	uint64_t size;
	int fd = open_box();

	make_msgs(msgs, texts, 1, 1);
	append_msgs(fd, msgs, 1, recs);
	size = file_size(fd);
	for (i = 0; i < N_ELEMENTS(envs); i++) {
		assert_int_equal(run_child(envs[i], test_path), 1);
		assert_int_equal(file_size(fd), size);
	}
	assert_int_equal(run_child("COMMUNE_VFS_FAIL=unlink:1", test_path), 0);
	scan_all(fd, &scan, NULL);
	assert_int_equal(scan.count, 3);
	fmt_scan_deinit(&scan);
	close(fd);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_letters),
		cmocka_unit_test(test_ctime),
		cmocka_unit_test(test_sep_write),
		cmocka_unit_test(test_sep_parse),
		cmocka_unit_test(test_sep_parse_strict),
		cmocka_unit_test(test_return_path_check),
		cmocka_unit_test_setup_teardown(test_append_scan, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizeless_foreign, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_after_junk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags_in_place, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_sep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_failure_rolls_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_failure_restores,
						setup, teardown),
	};

	self_path = argv[0];
	if (argc == 3 && strcmp(argv[1], "--child-append") == 0)
		return child_append(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--child-flags") == 0)
		return child_flags(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
