/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mdir.c: libFuzzer target for the .mdir format (src/store/
 * fmt-mdir.c): the file name parser, and the directory scanner over a
 * directory whose entries the input names. Input: one file name per
 * line. Checks: a name that parses writes back to a name that parses to
 * the same values; the scan (read-only, as a session's refresh does)
 * returns only names that parse, in UID order, with every duplicate UID
 * counted, and never more records than entries. fuzz-mbox also covers
 * the name parser with mbox-shaped input; this target gives it whole
 * inputs and the scanner a directory.
 */
#include "mailbox-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Entries made per input: enough for duplicates and ordering. */
#define FUZZ_MDIR_ENTRIES 32

static void
check_name(const char *name)
{
	char canon[MDIR_NAME_MAX];
	struct mdir_name mn, again;

	if (mdir_name_parse(name, &mn) != 1)
		return;
	i_assert(mn.uid != 0);
	(void)mdir_name_format(canon, mn.uid, mn.flags, mn.date);
	i_assert(mdir_name_parse(canon, &again) == 1);
	i_assert(again.uid == mn.uid && again.flags == mn.flags &&
		 again.date == mn.date);
}

static void
empty_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) == -1)
			abort();
	}
	closedir(d);
}

static void
check_scan(const char *dir, unsigned int entries, unsigned int parsed)
{
	struct fmt_scan scan;
	buf_t report = BUF_INIT;
	unsigned int i, dups = 0;

	fmt_scan_init(&scan);
	i_assert(mdir_scan(dir, false, &scan, &report) == 0);
	i_assert(scan.count <= entries && scan.count <= parsed);
	for (i = 0; i < scan.count; i++) {
		i_assert(scan.recs[i].uid != 0);
		if (i > 0) {
			i_assert(scan.recs[i].uid >= scan.recs[i - 1].uid);
			if (scan.recs[i].uid == scan.recs[i - 1].uid)
				dups++;
		}
	}
	i_assert(scan.bad_uids == dups);
	fmt_scan_deinit(&scan);
	buf_deinit(&report);
}

/* Creates name (an empty-ish file) in dirfd; false if it exists. */
static bool
make_entry(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd == -1) {
		if (errno != EEXIST && errno != ENAMETOOLONG)
			abort();
		return false;
	}
	if (write(fd, "x\n", 2) != 2)
		abort();
	close(fd);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/fuzz-mdir.XXXXXX";
	static int dirfd = -1;
	char name[MDIR_NAME_MAX * 2];
	unsigned int entries = 0, parsed = 0;
	struct mdir_name mn;
	size_t pos = 0, len;

	if (dirfd == -1) {
		if (mkdtemp(dir) == NULL ||
		    (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
			abort();
	}
	empty_dir(dir);
	while (pos < size && entries < FUZZ_MDIR_ENTRIES) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);

		len = nl == NULL ? size - pos : (size_t)(nl - (data + pos));
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, data + pos, len);
		name[len] = '\0';
		pos = nl == NULL ? size : (size_t)(nl - data) + 1;
		check_name(name);
		/* only names a directory can hold */
		if (len == 0 || strlen(name) != len ||
		    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0 || !make_entry(dirfd, name))
			continue;
		entries++;
		if (mdir_name_parse(name, &mn) == 1)
			parsed++;
	}
	check_scan(dir, entries, parsed);
	return 0;
}
