/* SPDX-License-Identifier: MIT */
/*
 * fmt-mdir.c: the directory mailbox format (.mdir): one file per message
 * named "<uid>-<flags>-<yyyymmddhhmmss>" holding exactly the message's
 * bytes (docs/storage-format.md). New messages are written to
 * "tmp.<pid>.<tid>.<counter>" in the directory, fsynced and renamed to
 * their final name; flag changes are renames; expunges are unlinks; each
 * batch ends with one fsync of the directory. Knows nothing of the index
 * or of accounts; the callers hold the account lock. Part of the store
 * (see mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_uint mdir_tmp_counter;

/* ------------------------------------------------------------------ */
/* names                                                                */
/* ------------------------------------------------------------------ */

static int
parse_fixed_digits(const char *p, unsigned int n, int *value_r)
{
	unsigned int i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*value_r = v;
	return 0;
}

/* "yyyymmddhhmmss" in UTC. */
static int
parse_name_date(const char *p, int64_t *t_r)
{
	struct tm tm, check;
	int year, mon, day;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (parse_fixed_digits(p, 4, &year) < 0 ||
	    parse_fixed_digits(p + 4, 2, &mon) < 0 ||
	    parse_fixed_digits(p + 6, 2, &day) < 0 ||
	    parse_fixed_digits(p + 8, 2, &tm.tm_hour) < 0 ||
	    parse_fixed_digits(p + 10, 2, &tm.tm_min) < 0 ||
	    parse_fixed_digits(p + 12, 2, &tm.tm_sec) < 0)
		return -1;
	if (year < 1000 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	t = timegm(&tm);
	if (gmtime_r(&t, &check) == NULL || check.tm_mday != day ||
	    check.tm_mon != mon - 1)
		return -1;
	*t_r = (int64_t)t;
	return 0;
}

int
mdir_name_parse(const char *name, struct mdir_name *name_r)
{
	const char *p = name, *flags;
	uint64_t uid = 0;
	size_t n;

	memset(name_r, 0, sizeof(*name_r));
	if (*p < '1' || *p > '9')
		return 0;
	for (n = 0; *p >= '0' && *p <= '9'; p++, n++) {
		if (n == 10)
			return 0;
		uid = uid * 10 + (uint64_t)(*p - '0');
	}
	if (uid > UINT32_MAX || *p != '-')
		return 0;
	flags = ++p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	n = (size_t)(p - flags);
	if (n > 2 * FLAGS_LETTERS_MAX || *p != '-')
		return 0;
	p++;
	if (strlen(p) != 14 || parse_name_date(p, &name_r->date) < 0)
		return 0;
	name_r->uid = (uint32_t)uid;
	name_r->flags = flags_from_letters(flags, n, false,
					   &name_r->unknown_flags);
	return 1;
}

size_t
mdir_name_format(char out[MDIR_NAME_MAX], uint32_t uid, uint32_t flags,
		 int64_t date)
{
	char letters[FLAGS_LETTERS_MAX + 1];
	char tmp[MDIR_NAME_MAX + 32];
	struct tm tm;
	time_t t = (time_t)date;
	int len;

	if (!fmt_date_valid(date) || gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	(void)flags_to_letters(flags, letters);
	len = snprintf(tmp, sizeof(tmp), "%u-%s-%04d%02d%02d%02d%02d%02d",
		       uid, letters, tm.tm_year + 1900, tm.tm_mon + 1,
		       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	i_assert(len > 0 && len < MDIR_NAME_MAX);
	memcpy(out, tmp, (size_t)len + 1);
	return (size_t)len;
}

static void
rec_name(char out[MDIR_NAME_MAX], const struct mail_rec *rec, uint32_t flags)
{
	(void)mdir_name_format(out, rec->uid, flags, rec->internal_date);
}

char *
mdir_msg_path(const char *dir, const struct mail_rec *rec)
{
	char name[MDIR_NAME_MAX];

	rec_name(name, rec, rec->flags);
	return i_strdup_printf("%s/%s", dir, name);
}

int
mdir_msg_open(const char *dir, const struct mail_rec *rec)
{
	char *path = mdir_msg_path(dir, rec);
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		fmt_syscall_error("open", path);
	free(path);
	return fd;
}

/* ------------------------------------------------------------------ */
/* scanning                                                             */
/* ------------------------------------------------------------------ */

static void ATTR_FORMAT(5, 6)
scan_note(struct fmt_scan *scan, buf_t *report, bool problem,
	  const char *dir, const char *fmt, ...)
{
	va_list args;

	if (problem)
		scan->problems++;
	else
		scan->warnings++;
	if (report == NULL)
		return;
	buf_printf(report, "%s: %s", dir, problem ? "" : "warning: ");
	va_start(args, fmt);
	buf_vprintf(report, fmt, args);
	va_end(args);
	buf_append_c(report, '\n');
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct mail_rec *ra = a, *rb = b;

	if (ra->uid != rb->uid)
		return ra->uid < rb->uid ? -1 : 1;
	if (ra->flags != rb->flags)
		return ra->flags < rb->flags ? -1 : 1;
	if (ra->internal_date != rb->internal_date)
		return ra->internal_date < rb->internal_date ? -1 : 1;
	return 0;
}

/* A name that parses but is not how we write it (letters out of order,
   unknown letters): renamed to the canonical form when repairing, else
   reported. Returns 1 keep, 0 drop. */
static int
scan_noncanonical(int dirfd, const char *dir, const char *name,
		  const struct mdir_name *mn, bool repair,
		  struct fmt_scan *scan, buf_t *report)
{
	char canon[MDIR_NAME_MAX];

	(void)mdir_name_format(canon, mn->uid, mn->flags, mn->date);
	if (strcmp(canon, name) == 0)
		return 1;
	if (!repair) {
		scan_note(scan, report, false, dir,
			  "%s: not written in canonical form", name);
		return 0;
	}
	if (faccessat(dirfd, canon, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    vfs_renameat(dirfd, name, dirfd, canon) == -1) {
		log_warnx("mdir: %s: cannot rename %s to %s", dir, name, canon);
		scan_note(scan, report, true, dir, "%s: cannot rename", name);
		return 0;
	}
	log_warnx("mdir: %s: renamed %s to %s", dir, name, canon);
	return 1;
}

static int
scan_entry(int dirfd, const char *dir, const char *name, bool repair,
	   struct fmt_scan *scan, buf_t *report)
{
	struct mdir_name mn;
	struct mail_rec *rec;

	if (name[0] == '.')
		return 0;
	if (strncmp(name, MDIR_TMP_PREFIX, strlen(MDIR_TMP_PREFIX)) == 0) {
		scan->tmp_files++;
		if (!repair) {
			scan_note(scan, report, false, dir,
				  "%s: stray temporary file", name);
		} else if (vfs_unlinkat(dirfd, name, 0) == -1) {
			log_warn("mdir: unlink(%s/%s)", dir, name);
		}
		return 0;
	}
	if (mdir_name_parse(name, &mn) != 1) {
		scan_note(scan, report, true, dir, "%s: not a message file name",
			  name);
		return 0;
	}
	if (mn.unknown_flags > 0) {
		scan_note(scan, report, false, dir,
			  "%s: unknown flag letters ignored", name);
	}
	if (scan_noncanonical(dirfd, dir, name, &mn, repair, scan, report) == 0)
		return 0;
	if (scan->count >= MAILBOX_INDEX_RECORDS_MAX)
		return store_set_error(STORE_ERROR_CORRUPT,
				       "%s: too many messages", dir);
	rec = fmt_scan_add(scan);
	rec->uid = mn.uid;
	rec->flags = mn.flags;
	rec->internal_date = mn.date;
	rec->save_date = mn.date;
	return 0;
}

int
mdir_scan(const char *dir, bool repair, struct fmt_scan *scan, buf_t *report)
{
	struct dirent *de;
	unsigned int i;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return store_set_error(STORE_ERROR_NOT_FOUND,
					       "%s: no such mailbox", dir);
		return fmt_syscall_error("opendir", dir);
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				ret = fmt_syscall_error("readdir", dir);
			break;
		}
		ret = scan_entry(dirfd(d), dir, de->d_name, repair, scan,
				 report);
		if (ret < 0)
			break;
	}
	closedir(d);
	if (ret < 0)
		return -1;
	if (scan->count > 1)
		qsort(scan->recs, scan->count, sizeof(*scan->recs), rec_cmp);
	for (i = 1; i < scan->count; i++) {
		if (scan->recs[i].uid == scan->recs[i - 1].uid) {
			scan->bad_uids++;
			scan_note(scan, report, true, dir, "duplicate uid %u",
				  scan->recs[i].uid);
		}
	}
	return 0;
}

int
mdir_stat_rec(int dirfd, const char *dir, struct mail_rec *rec)
{
	char name[MDIR_NAME_MAX];
	struct stat st;

	rec_name(name, rec, rec->flags);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		char *path = i_strdup_printf("%s/%s", dir, name);

		fmt_syscall_error("stat", path);
		free(path);
		return -1;
	}
	rec->size = (uint64_t)st.st_size;
	rec->save_date = (int64_t)st.st_mtim.tv_sec;
	return 0;
}

/* ------------------------------------------------------------------ */
/* writing                                                              */
/* ------------------------------------------------------------------ */

static int
dir_open(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		if (errno == ENOENT)
			return store_set_error(STORE_ERROR_NOT_FOUND,
					       "%s: no such mailbox", dir);
		return fmt_syscall_error("open", dir);
	}
	return fd;
}

/* Writes data to a new temp file in dirfd and renames it to final. */
static int
write_msg_file(int dirfd, const char *dir, const unsigned char *data,
	       size_t len, const char *final)
{
	char tmp[96];
	int fd;

	snprintf(tmp, sizeof(tmp), MDIR_TMP_PREFIX "%ld.%ld.%u",
		 (long)getpid(), (long)gettid(),
		 atomic_fetch_add(&mdir_tmp_counter, 1));
	fd = vfs_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1)
		return fmt_syscall_error("open", dir);
	if (vfs_write_all(fd, data, len) == -1) {
		fmt_syscall_error("write", dir);
		goto fail;
	}
	if (vfs_fsync(fd) == -1) {
		fmt_syscall_error("fsync", dir);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (vfs_renameat(dirfd, tmp, dirfd, final) == -1) {
		fmt_syscall_error("rename", dir);
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (vfs_unlinkat(dirfd, tmp, 0) == -1 && errno != ENOENT)
		log_warn("mdir: unlink(%s/%s)", dir, tmp);
	return -1;
}

/* A copy: hard link when the file system allows, else a written copy. */
static int
link_msg_file(int dirfd, const char *dir, const char *src, const char *final,
	      uint64_t *size_r)
{
	char *dest = i_strdup_printf("%s/%s", dir, final);
	unsigned char *data = NULL;
	struct stat st;
	size_t len;
	int ret = -1;

	if (vfs_link(src, dest) == 0) {
		if (stat(dest, &st) == -1) {
			fmt_syscall_error("stat", dest);
			goto out;
		}
		*size_r = (uint64_t)st.st_size;
		ret = 0;
		goto out;
	}
	if (errno != EXDEV && errno != EPERM && errno != EMLINK &&
	    errno != ENOTSUP) {
		fmt_syscall_error("link", dest);
		goto out;
	}
	if (vfs_read_file(src, &data, &len) == -1) {
		fmt_syscall_error("read", src);
		goto out;
	}
	*size_r = len;
	ret = write_msg_file(dirfd, dir, data, len, final);
out:
	free(data);
	free(dest);
	return ret;
}

int
mdir_append(const char *dir, const struct fmt_msg *msgs, unsigned int count,
	    struct mail_rec *recs_r)
{
	char name[MDIR_NAME_MAX];
	unsigned int i, done = 0;
	int dirfd, ret = -1;

	if ((dirfd = dir_open(dir)) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		const struct fmt_msg *msg = &msgs[i];
		struct mail_rec *rec = &recs_r[i];

		memset(rec, 0, sizeof(*rec));
		rec->uid = msg->uid;
		rec->flags = msg->flags;
		rec->internal_date = msg->internal_date;
		rec->size = msg->len;
		rec_name(name, rec, rec->flags);
		if (msg->link_path != NULL) {
			if (link_msg_file(dirfd, dir, msg->link_path, name,
					  &rec->size) < 0)
				goto fail;
		} else if (write_msg_file(dirfd, dir, msg->data, msg->len,
					  name) < 0) {
			goto fail;
		}
		done++;
	}
	/* one directory fsync makes the whole batch durable */
	if (vfs_fsync(dirfd) == -1) {
		fmt_syscall_error("fsync", dir);
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	/* all or nothing: remove what this batch added */
	for (i = 0; i < done; i++) {
		rec_name(name, &recs_r[i], recs_r[i].flags);
		if (vfs_unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
			log_warn("mdir: unlink(%s/%s)", dir, name);
	}
	if (done > 0 && vfs_fsync(dirfd) == -1)
		log_warn("mdir: fsync(%s)", dir);
out:
	close(dirfd);
	return ret;
}

static int
rename_flags(int dirfd, const struct mail_rec *rec, uint32_t from,
	     uint32_t to)
{
	char old_name[MDIR_NAME_MAX], new_name[MDIR_NAME_MAX];

	rec_name(old_name, rec, from);
	rec_name(new_name, rec, to);
	if (strcmp(old_name, new_name) == 0)
		return 0;
	return vfs_renameat(dirfd, old_name, dirfd, new_name);
}

int
mdir_write_flags(const char *dir, const struct mail_rec *recs,
		 const uint32_t *new_flags, unsigned int count)
{
	unsigned int i, j;
	int dirfd;

	if ((dirfd = dir_open(dir)) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		if (rename_flags(dirfd, &recs[i], recs[i].flags,
				 new_flags[i]) == -1)
			break;
	}
	if (i == count && vfs_fsync(dirfd) == 0) {
		close(dirfd);
		return 0;
	}
	fmt_syscall_error(i == count ? "fsync" : "rename", dir);
	for (j = 0; j < i && j < count; j++) {
		if (rename_flags(dirfd, &recs[j], new_flags[j],
				 recs[j].flags) == -1)
			log_warn("mdir: %s: could not restore uid %u", dir,
				 recs[j].uid);
	}
	(void)vfs_fsync(dirfd);
	close(dirfd);
	return -1;
}

/* Where mdir_expunge() puts a file before it is unlinked. */
static void
expunge_tmp_name(char tmp[MDIR_NAME_MAX], uint32_t uid)
{
	snprintf(tmp, MDIR_NAME_MAX, MDIR_TMP_PREFIX "expunged.%u", uid);
}

/* Renames the expunged files back (a failure is logged). */
static void
expunge_undo(int dirfd, const char *dir, const struct mail_rec *recs,
	     const bool *aside, unsigned int count)
{
	char name[MDIR_NAME_MAX], tmp[MDIR_NAME_MAX];
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (!aside[i])
			continue;
		rec_name(name, &recs[i], recs[i].flags);
		expunge_tmp_name(tmp, recs[i].uid);
		if (vfs_renameat(dirfd, tmp, dirfd, name) == -1)
			log_warn("mdir: %s: could not restore uid %u", dir,
				 recs[i].uid);
	}
	(void)vfs_fsync(dirfd);
}

/*
 * The files are renamed to temp names first and the directory fsynced:
 * if a rename or the fsync fails they are renamed back, so a failed
 * expunge changes nothing. Then the temp files are unlinked; one that a
 * crash or a failed unlink leaves is a stray tmp.* file, removed by the
 * next rebuild of the index.
 */
int
mdir_expunge(const char *dir, const struct mail_rec *recs,
	     unsigned int count)
{
	char name[MDIR_NAME_MAX], tmp[MDIR_NAME_MAX];
	bool *aside = i_malloc((count + 1) * sizeof(*aside));
	unsigned int i;
	int dirfd, ret = 0;

	if ((dirfd = dir_open(dir)) == -1) {
		free(aside);
		return -1;
	}
	for (i = 0; i < count && ret == 0; i++) {
		rec_name(name, &recs[i], recs[i].flags);
		expunge_tmp_name(tmp, recs[i].uid);
		if (vfs_renameat(dirfd, name, dirfd, tmp) == 0)
			aside[i] = true;
		else if (errno != ENOENT)
			ret = fmt_syscall_error("rename", dir);
	}
	if (ret == 0 && vfs_fsync(dirfd) == -1)
		ret = fmt_syscall_error("fsync", dir);
	if (ret < 0)
		expunge_undo(dirfd, dir, recs, aside, count);
	for (i = 0; i < count && ret == 0; i++) {
		expunge_tmp_name(tmp, recs[i].uid);
		if (aside[i] && vfs_unlinkat(dirfd, tmp, 0) == -1)
			log_warn("mdir: unlink(%s/%s)", dir, tmp);
	}
	close(dirfd);
	free(aside);
	return ret;
}

int
mdir_change_uids(const char *dir, const struct mail_rec *recs,
		 const uint32_t *new_uids, unsigned int count)
{
	char old_name[MDIR_NAME_MAX], new_name[MDIR_NAME_MAX];
	unsigned int i;
	int dirfd, ret = 0;

	if ((dirfd = dir_open(dir)) == -1)
		return -1;
	for (i = 0; i < count && ret == 0; i++) {
		rec_name(old_name, &recs[i], recs[i].flags);
		(void)mdir_name_format(new_name, new_uids[i], recs[i].flags,
				       recs[i].internal_date);
		if (vfs_renameat(dirfd, old_name, dirfd, new_name) == -1)
			ret = fmt_syscall_error("rename", dir);
	}
	if (ret == 0 && vfs_fsync(dirfd) == -1)
		ret = fmt_syscall_error("fsync", dir);
	close(dirfd);
	return ret;
}
