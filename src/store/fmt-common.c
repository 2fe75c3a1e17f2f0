/* SPDX-License-Identifier: MIT */
/*
 * fmt-common.c: what the .mbox and .mdir formats share: the flag letters
 * (S A F D T, keywords a..z), the scan result array, date bounds and the
 * mapping of failed syscalls to store errors. Part of the store, below
 * mailbox.c (see mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* System flags in the order they are written. */
static const struct {
	char letter;
	uint32_t flag;
} system_letters[] = {
	{ 'S', STORE_FLAG_SEEN },
	{ 'A', STORE_FLAG_ANSWERED },
	{ 'F', STORE_FLAG_FLAGGED },
	{ 'D', STORE_FLAG_DELETED },
	{ 'T', STORE_FLAG_DRAFT },
};

unsigned int
flags_to_letters(uint32_t flags, char out[FLAGS_LETTERS_MAX + 1])
{
	unsigned int i, n = 0;

	for (i = 0; i < N_ELEMENTS(system_letters); i++) {
		if ((flags & system_letters[i].flag) != 0)
			out[n++] = system_letters[i].letter;
	}
	for (i = 0; i < STORE_KEYWORDS_MAX; i++) {
		if ((flags & STORE_FLAG_KEYWORD(i)) != 0)
			out[n++] = (char)('a' + i);
	}
	out[n] = '\0';
	return n;
}

uint32_t
flags_from_letters(const char *p, size_t len, bool allow_pad,
		   unsigned int *unknown_r)
{
	uint32_t flags = 0;
	unsigned int i, unknown = 0;
	size_t pos;
	bool found;

	for (pos = 0; pos < len; pos++) {
		char c = p[pos];

		if (c >= 'a' && c <= 'z') {
			flags |= STORE_FLAG_KEYWORD((unsigned int)(c - 'a'));
			continue;
		}
		if (c == '_' && allow_pad)
			continue;
		found = false;
		for (i = 0; i < N_ELEMENTS(system_letters); i++) {
			if (system_letters[i].letter == c) {
				flags |= system_letters[i].flag;
				found = true;
			}
		}
		if (!found)
			unknown++;
	}
	*unknown_r = unknown;
	return flags;
}

bool
fmt_date_valid(int64_t t)
{
	return t >= FMT_DATE_MIN && t <= FMT_DATE_MAX;
}

int
fmt_syscall_error(const char *syscall, const char *path)
{
	return store_set_syscall_error(syscall, path);
}

void
fmt_scan_init(struct fmt_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
}

void
fmt_scan_deinit(struct fmt_scan *scan)
{
	free(scan->recs);
	memset(scan, 0, sizeof(*scan));
}

struct mail_rec *
fmt_scan_add(struct fmt_scan *scan)
{
	struct mail_rec *rec;

	if (scan->count == scan->cap) {
		scan->cap = scan->cap == 0 ? 64 : scan->cap * 2;
		scan->recs = i_realloc(scan->recs,
				       scan->cap * sizeof(*scan->recs));
	}
	rec = &scan->recs[scan->count++];
	memset(rec, 0, sizeof(*rec));
	return rec;
}

int
mail_recs_find(const struct mail_rec *recs, unsigned int count, uint32_t uid)
{
	unsigned int lo = 0, hi = count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (recs[mid].uid == uid)
			return (int)mid;
		if (recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
fmt_pread(int fd, void *data, size_t len, uint64_t offset, size_t *done_r)
{
	unsigned char *p = data;
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		ret = pread(fd, p + done, len - done, (off_t)(offset + done));
		if (ret == -1 && errno == EINTR)
			continue;
		if (ret == -1)
			return -1;
		if (ret == 0)
			break;
		done += (size_t)ret;
	}
	*done_r = done;
	return 0;
}
