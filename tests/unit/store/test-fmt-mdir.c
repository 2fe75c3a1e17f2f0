/* SPDX-License-Identifier: MIT */
/*
 * test-fmt-mdir.c: unit tests for src/store/fmt-mdir.c: file names,
 * scanning (stray temp files, bad names, duplicate UIDs, names not in
 * canonical form), appends with links, flag renames and expunges. Works
 * on a temp directory; no accounts. Fault injection re-executes this
 * program with COMMUNE_VFS_FAIL set.
 */
#include "mailbox-private.h"
#include "test-child.h"
#include "vfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-11-25 18:51:12 UTC */
#define T1 1795632672LL

static char test_dir[64];
static char box_dir[128];
static const char *self_path;

static int
setup(void **state)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test-fmt-mdir.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	snprintf(box_dir, sizeof(box_dir), "%s/INBOX.mdir", test_dir);
	*state = NULL;
	return mkdir(box_dir, 0700);
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned int
count_files(const char *dir)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

static void
touch(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", box_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool
exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", box_dir, name);
	return access(path, F_OK) == 0;
}

static char *
read_msg(const struct mail_rec *rec)
{
	char *path = mdir_msg_path(box_dir, rec);
	unsigned char *data;
	size_t len;

	assert_int_equal(vfs_read_file(path, &data, &len), 0);
	free(path);
	return (char *)data;
}

static const char *const texts[] = {
	"Subject: one\r\n\r\nbody one\r\n",
	"Subject: two\n\ntwo\n",
	"",
};

static void
make_msgs(struct fmt_msg *msgs, unsigned int count, uint32_t first_uid)
{
	unsigned int i;

	memset(msgs, 0, sizeof(*msgs) * count);
	for (i = 0; i < count; i++) {
		msgs[i].data = (const unsigned char *)texts[i % 3];
		msgs[i].len = strlen(texts[i % 3]);
		msgs[i].uid = first_uid + i;
		msgs[i].flags = i == 1 ? STORE_FLAG_SEEN | STORE_FLAG_KEYWORD(1)
			: 0;
		msgs[i].internal_date = T1 + i;
	}
}

/* ---- names ---- */

static void
test_names(void **state)
{
	char name[MDIR_NAME_MAX];
	struct mdir_name mn;

	assert_int_equal(mdir_name_format(name, 12, 0, T1), 18);
	assert_string_equal(name, "12--20261125185112");
	mdir_name_format(name, 4294967295u, STORE_FLAGS_SYSTEM |
			 STORE_FLAG_KEYWORD(0) | STORE_FLAG_KEYWORD(25), 0);
	assert_string_equal(name, "4294967295-SAFDTaz-19700101000000");

	assert_int_equal(mdir_name_parse("12--20261125185112", &mn), 1);
	assert_int_equal(mn.uid, 12);
	assert_int_equal(mn.flags, 0);
	assert_int_equal(mn.date, T1);
	assert_int_equal(mdir_name_parse("3-SFc-20261125185112", &mn), 1);
	assert_int_equal(mn.flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED |
			 STORE_FLAG_KEYWORD(2));
	assert_int_equal(mdir_name_parse("3-SQ-20261125185112", &mn), 1);
	assert_int_equal(mn.unknown_flags, 1);
	assert_int_equal(mn.flags, STORE_FLAG_SEEN);
}

static void
test_names_strict(void **state)
{
	static const char *const bad[] = {
		"", "0--20261125185112", "012--20261125185112",
		"4294967296--20261125185112", "12-20261125185112",
		"12--2026112518511", "12--202611251851120",
		"12--20261131185112", "12--20261125245112",
		"12-S_-20261125185112", "12-S-20261125185112.x",
		"tmp.1.2.3", "a--20261125185112", "-12--20261125185112",
		"12--09991125185112",
	};
	struct mdir_name mn;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		if (mdir_name_parse(bad[i], &mn) != 0)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* ---- append, scan, flags, expunge ---- */

static void
scan_all(bool repair, struct fmt_scan *scan, buf_t *report)
{
	fmt_scan_init(scan);
	assert_int_equal(mdir_scan(box_dir, repair, scan, report), 0);
}

static void
test_append_scan(void **state)
{
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];
	struct fmt_scan scan;
	unsigned int i;
	int dirfd;
	char *text;

	make_msgs(msgs, 3, 5);
	assert_int_equal(mdir_append(box_dir, msgs, 3, recs), 0);
	assert_int_equal(count_files(box_dir), 3);
	assert_true(exists("6-Sb-20261125185113"));
	scan_all(false, &scan, NULL);
	assert_int_equal(scan.count, 3);
	assert_int_equal(scan.problems, 0);
	dirfd = open(box_dir, O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 3; i++) {
		assert_int_equal(scan.recs[i].uid, 5 + i);
		assert_int_equal(scan.recs[i].flags, msgs[i].flags);
		assert_int_equal(scan.recs[i].internal_date, T1 + i);
		assert_int_equal(mdir_stat_rec(dirfd, box_dir, &scan.recs[i]), 0);
		assert_int_equal(scan.recs[i].size, strlen(texts[i]));
		text = read_msg(&scan.recs[i]);
		assert_string_equal(text, texts[i]);
		free(text);
	}
	close(dirfd);
	fmt_scan_deinit(&scan);
}

static void
test_link_copy(void **state)
{
	struct fmt_msg msgs[2];
	struct mail_rec recs[2];
	char *src, *text;
	char other[160];

	make_msgs(msgs, 1, 1);
	assert_int_equal(mdir_append(box_dir, msgs, 1, recs), 0);
	src = mdir_msg_path(box_dir, &recs[0]);
	snprintf(other, sizeof(other), "%s/Other.mdir", test_dir);
	assert_int_equal(mkdir(other, 0700), 0);
	memset(msgs, 0, sizeof(msgs));
	msgs[0].uid = 9;
	msgs[0].flags = STORE_FLAG_FLAGGED;
	msgs[0].internal_date = T1;
	msgs[0].link_path = src;
	assert_int_equal(mdir_append(other, msgs, 1, recs + 1), 0);
	assert_int_equal(recs[1].size, strlen(texts[0]));
	{
		char *path = mdir_msg_path(other, &recs[1]);
		unsigned char *data;
		size_t len;

		assert_int_equal(vfs_read_file(path, &data, &len), 0);
		text = (char *)data;
		assert_string_equal(text, texts[0]);
		assert_string_equal(strrchr(path, '/'), "/9-F-20261125185112");
		free(text);
		free(path);
	}
	free(src);
}

static void
test_scan_repair(void **state)
{
	struct fmt_scan scan;
	buf_t report = BUF_INIT;

	touch("1-S-20261125185112", "a");
	touch("2-FS-20261125185112", "bb");     /* not canonical */
	touch("3-SZ-20261125185112", "ccc");    /* unknown letter */
	touch("tmp.1.2.3", "partial");
	touch("garbage", "x");
	touch("4--20261125185112", "d");
	touch("4-S-20261125185112", "dd");      /* duplicate uid */

	scan_all(false, &scan, &report);
	/* check mode: nothing touched, everything reported */
	assert_true(exists("tmp.1.2.3"));
	assert_true(exists("2-FS-20261125185112"));
	assert_int_equal(scan.tmp_files, 1);
	assert_int_equal(scan.bad_uids, 1);
	assert_int_equal(scan.problems, 2);     /* garbage, duplicate */
	assert_int_equal(scan.count, 3);        /* 2-FS and 3-SZ left out */
	assert_non_null(strstr(buf_cstr(&report), "stray temporary file"));
	assert_non_null(strstr(buf_cstr(&report), "garbage: not a message"));
	assert_non_null(strstr(buf_cstr(&report), "duplicate uid 4"));
	assert_non_null(strstr(buf_cstr(&report), "canonical"));
	fmt_scan_deinit(&scan);

	scan_all(true, &scan, NULL);
	assert_false(exists("tmp.1.2.3"));
	assert_true(exists("2-SF-20261125185112"));
	assert_true(exists("3-S-20261125185112"));
	assert_true(exists("garbage"));
	assert_int_equal(scan.count, 5);
	assert_int_equal(scan.recs[1].uid, 2);
	assert_int_equal(scan.recs[1].flags,
			 STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	assert_int_equal(scan.recs[3].uid, 4);
	assert_int_equal(scan.recs[4].uid, 4);
	fmt_scan_deinit(&scan);
	buf_deinit(&report);
}

static void
test_flags_expunge(void **state)
{
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];
	struct fmt_scan scan;
	uint32_t new_flags[2] = {
		STORE_FLAG_DELETED | STORE_FLAG_KEYWORD(0), 0
	};

	make_msgs(msgs, 3, 1);
	assert_int_equal(mdir_append(box_dir, msgs, 3, recs), 0);
	assert_int_equal(mdir_write_flags(box_dir, recs, new_flags, 2), 0);
	assert_true(exists("1-Da-20261125185112"));
	assert_true(exists("2--20261125185113"));
	assert_int_equal(count_files(box_dir), 3);
	recs[0].flags = new_flags[0];
	assert_int_equal(mdir_expunge(box_dir, recs, 1), 0);
	/* expunging a file that is already gone is fine */
	assert_int_equal(mdir_expunge(box_dir, recs, 1), 0);
	scan_all(false, &scan, NULL);
	assert_int_equal(scan.count, 2);
	assert_int_equal(scan.recs[0].uid, 2);
	assert_int_equal(scan.recs[0].flags, 0);
	fmt_scan_deinit(&scan);
}

/* ---- fault injection ---- */

static int
child_append(const char *dir)
{
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];

	vfs_init();
	make_msgs(msgs, 3, 100);
	return mdir_append(dir, msgs, 3, recs) == 0 ? 0 : 1;
}

static int
child_flags(const char *dir)
{
	struct fmt_scan scan;
	uint32_t flags[8];
	unsigned int i;
	int ret;

	vfs_init();
	fmt_scan_init(&scan);
	if (mdir_scan(dir, false, &scan, NULL) < 0 || scan.count > 8)
		return 2;
	for (i = 0; i < scan.count; i++)
		flags[i] = scan.recs[i].flags ^ STORE_FLAG_FLAGGED;
	ret = mdir_write_flags(dir, scan.recs, flags, scan.count);
	fmt_scan_deinit(&scan);
	return ret == 0 ? 0 : 1;
}

static int
run_child(const char *env, const char *mode)
{
	return test_run_child(self_path, env, mode, box_dir, NULL);
}

static void
test_append_failure(void **state)
{
	static const char *const envs[] = {
		"COMMUNE_VFS_FAIL=open:2",
		"COMMUNE_VFS_FAIL=write:3:ENOSPC",
		"COMMUNE_VFS_FAIL=fsync:2",
		"COMMUNE_VFS_FAIL=fsync:4",     /* the directory fsync */
		"COMMUNE_VFS_FAIL=rename:3",
	};
	unsigned int i;

	touch("1--20261125185112", "a");
	for (i = 0; i < N_ELEMENTS(envs); i++) {
		assert_int_equal(run_child(envs[i], "--child-append"), 1);
		/* nothing of the batch remains, no temp file either */
		assert_int_equal(count_files(box_dir), 1);
	}
	assert_int_equal(run_child("COMMUNE_VFS_FAIL=link:1", "--child-append"),
			 0);
	assert_int_equal(count_files(box_dir), 4);
}

static void
test_flags_failure(void **state)
{
	struct fmt_scan scan;

	touch("1--20261125185112", "a");
	touch("2-S-20261125185112", "b");
	touch("3-S-20261125185112", "c");
	assert_int_equal(run_child("COMMUNE_VFS_FAIL=rename:3", "--child-flags"),
			 1);
	scan_all(false, &scan, NULL);
	assert_int_equal(scan.count, 3);
	assert_int_equal(scan.recs[0].flags, 0);
	assert_int_equal(scan.recs[1].flags, STORE_FLAG_SEEN);
	assert_int_equal(scan.recs[2].flags, STORE_FLAG_SEEN);
	fmt_scan_deinit(&scan);
	assert_int_equal(run_child("COMMUNE_VFS_FAIL=unlink:1", "--child-flags"),
			 0);
	assert_true(exists("2-SF-20261125185112"));
}

/* An expunge whose rename or directory fsync fails puts every file
   back; once the fsync is done, an unlink that fails leaves only a
   tmp.* file, which a repairing scan removes. */
static void
test_expunge_failure(void **state)
{
	static const char *const specs[] = {
		"rename:1", "rename:2", "fsync:1", "fsync:1:ENOSPC",
	};
	struct fmt_msg msgs[3];
	struct mail_rec recs[3];
	struct fmt_scan scan;
	unsigned int i;

	make_msgs(msgs, 3, 1);
	assert_int_equal(mdir_append(box_dir, msgs, 3, recs), 0);
	for (i = 0; i < N_ELEMENTS(specs); i++) {
		vfs_fault_set(specs[i]);
		assert_int_equal(mdir_expunge(box_dir, recs, 2), -1);
		vfs_fault_set(NULL);
		store_clear_error();
		assert_true(exists("1--20261125185112"));
		assert_true(exists("2-Sb-20261125185113"));
		assert_int_equal(count_files(box_dir), 3);
	}
	vfs_fault_set("unlink:2");
	assert_int_equal(mdir_expunge(box_dir, recs, 2), 0);
	vfs_fault_set(NULL);
	assert_false(exists("1--20261125185112"));
	assert_true(exists("tmp.expunged.2"));
	scan_all(true, &scan, NULL);
	assert_int_equal(scan.count, 1);
	assert_int_equal(scan.recs[0].uid, 3);
	fmt_scan_deinit(&scan);
	assert_int_equal(count_files(box_dir), 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_strict),
		cmocka_unit_test_setup_teardown(test_append_scan, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_repair, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags_expunge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_append_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expunge_failure, setup,
						teardown),
	};

	self_path = argv[0];
	if (argc == 3 && strcmp(argv[1], "--child-append") == 0)
		return child_append(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--child-flags") == 0)
		return child_flags(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
