/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mbox.c: libFuzzer target for the mailbox format parsers
 * (src/store/fmt-mbox.c, fmt-mdir.c): the .mbox scanner over a whole
 * file (sizes, size-less separators, torn tails, damage), the separator
 * line parser and the .mdir file name parser. Checks: every record lies
 * inside the file after the one before, with its separator in front of
 * it; the scan ends at
 * the file size or at a torn tail; a parsed separator or name written
 * back parses to the same values.
 */
#include "mailbox-private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_sep_roundtrip(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl == NULL ? size : (size_t)(nl - data);
	struct mbox_sep sep, again;
	buf_t buf = BUF_INIT;
	char *rp;

	if (mbox_sep_parse(data, len, &sep) != 1)
		return;
	rp = i_strndup((const char *)data + sep.rp_off, sep.rp_len);
	mbox_sep_write(&buf, rp, sep.flags, sep.uid, sep.date, sep.size,
		       sep.flags_len);
	i_assert(mbox_sep_parse(buf.data, buf.len - 1, &again) == 1);
	i_assert(again.uid == sep.uid && again.flags == sep.flags &&
		 again.date == sep.date && again.size == sep.size);
	free(rp);
	buf_deinit(&buf);
}

static void
check_name(const uint8_t *data, size_t size)
{
	char name[MDIR_NAME_MAX * 2], canon[MDIR_NAME_MAX];
	struct mdir_name mn, again;

	if (size >= sizeof(name))
		size = sizeof(name) - 1;
	memcpy(name, data, size);
	name[size] = '\0';
	if (mdir_name_parse(name, &mn) != 1)
		return;
	(void)mdir_name_format(canon, mn.uid, mn.flags, mn.date);
	i_assert(mdir_name_parse(canon, &again) == 1);
	i_assert(again.uid == mn.uid && again.flags == mn.flags &&
		 again.date == mn.date);
}

static void
check_scan(int fd, const uint8_t *data, size_t size)
{
	struct fmt_scan scan;
	buf_t report = BUF_INIT;
	uint64_t end = 0;
	unsigned int i;

	fmt_scan_init(&scan);
	i_assert(mbox_scan(fd, "fuzz", 0, size, 0, &scan, &report) == 0);
	for (i = 0; i < scan.count; i++) {
		const struct mail_rec *rec = &scan.recs[i];
		struct mbox_sep sep;

		i_assert(rec->offset >= end);
		i_assert(rec->offset + rec->hdr_len + rec->size <= size);
		i_assert(memcmp(data + rec->offset, "From ", 5) == 0);
		i_assert(data[rec->offset + rec->hdr_len - 1] == '\n');
		i_assert(mbox_sep_parse(data + rec->offset, rec->hdr_len - 1u,
					&sep) == 1 && sep.uid == rec->uid);
		/* a record read by its size ends with "\n" */
		i_assert(!sep.has_size || sep.size != rec->size ||
			 rec->offset + rec->hdr_len + rec->size == size ||
			 data[rec->offset + rec->hdr_len + rec->size] == '\n' ||
			 (rec->offset + rec->hdr_len + rec->size + 5 <= size &&
			  memcmp(data + rec->offset + rec->hdr_len + rec->size,
				 "From ", 5) == 0));
		end = rec->offset + rec->hdr_len + rec->size;
	}
	i_assert(scan.end <= size && (scan.torn || scan.end == size));
	i_assert(scan.bad_uids <= scan.problems);
	fmt_scan_deinit(&scan);
	buf_deinit(&report);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd == -1 && (fd = memfd_create("fuzz-mbox", 0)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	check_sep_roundtrip(data, size);
	check_name(data, size);
	check_scan(fd, data, size);
	return 0;
}
