/* SPDX-License-Identifier: MIT */
/*
 * vfs.c: see vfs.h. The counters are process-wide and atomic so the
 * daemon's worker threads share one sequence of calls.
 */
#include "vfs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum vfs_op {
	VFS_OP_OPEN,
	VFS_OP_WRITE,
	VFS_OP_FSYNC,
	VFS_OP_RENAME,
	VFS_OP_UNLINK,
	VFS_OP_MKDIR,
	VFS_OP_TRUNCATE,
	VFS_OP_LINK,
	VFS_OP_ANY,
};

static const char *const vfs_op_names[] = {
	"open", "write", "fsync", "rename", "unlink",
	"mkdir", "truncate", "link", "any",
};

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int fail_op = -1;
static long fail_at, crash_at, crash_random;
static int fail_errno = EIO;
static atomic_long op_count[VFS_OP_ANY + 1];
static atomic_long mutate_count;
static char *report_path;

/* Which step of this thread's last failed vfs_write_file_atomic. */
static __thread const char *atomic_failed_syscall;
static __thread char atomic_failed_path[PATH_MAX];

static void
vfs_parse_fail(const char *spec)
{
	char op[16];
	char err[16] = "";
	unsigned int i;

	if (sscanf(spec, "%15[a-z]:%ld:%15s", op, &fail_at, err) < 2)
		return;
	for (i = 0; i < N_ELEMENTS(vfs_op_names); i++) {
		if (strcmp(op, vfs_op_names[i]) == 0)
			fail_op = (int)i;
	}
	if (strcmp(err, "ENOSPC") == 0)
		fail_errno = ENOSPC;
	else if (strcmp(err, "EDQUOT") == 0)
		fail_errno = EDQUOT;
	else if (err[0] >= '0' && err[0] <= '9')
		fail_errno = atoi(err);
}

/* atexit: how many calls of the failing op (or of any) were made. */
static void
vfs_report(void)
{
	enum vfs_op op = fail_op >= 0 ? (enum vfs_op)fail_op : VFS_OP_ANY;
	FILE *f = fopen(report_path, "w");

	if (f == NULL)
		return;
	fprintf(f, "%s %ld\n", vfs_op_names[op], atomic_load(&op_count[op]));
	fclose(f);
}

static void
vfs_init_once(void)
{
	const char *env;

	if ((env = getenv("COMMUNE_VFS_FAIL")) != NULL)
		vfs_parse_fail(env);
	if ((env = getenv("COMMUNE_VFS_REPORT")) != NULL && env[0] != '\0') {
		report_path = i_strdup(env);
		atexit(vfs_report);
	}
	if ((env = getenv("COMMUNE_VFS_CRASH")) != NULL)
		crash_at = atol(env);
	if ((env = getenv("COMMUNE_VFS_CRASH_RANDOM")) != NULL) {
		crash_random = atol(env);
		srandom((unsigned int)getpid() ^ (unsigned int)time(NULL));
	}
}

void
vfs_init(void)
{
	pthread_once(&vfs_once, vfs_init_once);
}

void
vfs_fault_set(const char *spec)
{
	unsigned int i;

	vfs_init();
	fail_op = -1;
	fail_at = 0;
	fail_errno = EIO;
	if (spec != NULL && spec[0] != '\0')
		vfs_parse_fail(spec);
	for (i = 0; i < N_ELEMENTS(op_count); i++)
		atomic_store(&op_count[i], 0);
	atomic_store(&mutate_count, 0);
}

/* Returns -1 with errno set when this call is the one to fail. */
static int
vfs_before(enum vfs_op op)
{
	long n, any;

	vfs_init();
	n = atomic_fetch_add(&op_count[op], 1) + 1;
	any = atomic_fetch_add(&op_count[VFS_OP_ANY], 1) + 1;
	if (fail_op >= 0 && ((fail_op == (int)op && n == fail_at) ||
			     (fail_op == VFS_OP_ANY && any == fail_at))) {
		errno = fail_errno;
		return -1;
	}
	return 0;
}

static void
vfs_after(void)
{
	long n = atomic_fetch_add(&mutate_count, 1) + 1;

	if ((crash_at > 0 && n == crash_at) ||
	    (crash_random > 0 && random() % crash_random == 0))
		kill(getpid(), SIGKILL);
}

int
vfs_open(const char *path, int flags, mode_t mode)
{
	return vfs_openat(AT_FDCWD, path, flags, mode);
}

int
vfs_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	/* Read-only opens are not faults worth injecting. */
	if ((flags & (O_WRONLY | O_RDWR | O_CREAT)) != 0 &&
	    vfs_before(VFS_OP_OPEN) == -1)
		return -1;
	fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
	return fd;
}

int
vfs_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t ret;

	if (vfs_before(VFS_OP_WRITE) == -1)
		return -1;
	while (len > 0) {
		ret = write(fd, p, len);
		if (ret == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += ret;
		len -= (size_t)ret;
	}
	vfs_after();
	return 0;
}

int
vfs_pwrite_all(int fd, const void *data, size_t len, off_t offset)
{
	const unsigned char *p = data;
	ssize_t ret;

	if (vfs_before(VFS_OP_WRITE) == -1)
		return -1;
	while (len > 0) {
		ret = pwrite(fd, p, len, offset);
		if (ret == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += ret;
		len -= (size_t)ret;
		offset += ret;
	}
	vfs_after();
	return 0;
}

int
vfs_fsync(int fd)
{
	if (vfs_before(VFS_OP_FSYNC) == -1)
		return -1;
	if (fsync(fd) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_fdatasync(int fd)
{
	if (vfs_before(VFS_OP_FSYNC) == -1)
		return -1;
	if (fdatasync(fd) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_ftruncate(int fd, off_t len)
{
	if (vfs_before(VFS_OP_TRUNCATE) == -1)
		return -1;
	if (ftruncate(fd, len) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_rename(const char *from, const char *to)
{
	return vfs_renameat(AT_FDCWD, from, AT_FDCWD, to);
}

int
vfs_renameat(int fromdir, const char *from, int todir, const char *to)
{
	if (vfs_before(VFS_OP_RENAME) == -1)
		return -1;
	if (renameat(fromdir, from, todir, to) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_link(const char *from, const char *to)
{
	if (vfs_before(VFS_OP_LINK) == -1)
		return -1;
	if (link(from, to) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_unlink(const char *path)
{
	return vfs_unlinkat(AT_FDCWD, path, 0);
}

int
vfs_unlinkat(int dirfd, const char *path, int flags)
{
	if (vfs_before(VFS_OP_UNLINK) == -1)
		return -1;
	if (unlinkat(dirfd, path, flags) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_mkdir(const char *path, mode_t mode)
{
	if (vfs_before(VFS_OP_MKDIR) == -1)
		return -1;
	if (mkdir(path, mode) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_rmdir(const char *path)
{
	if (vfs_before(VFS_OP_UNLINK) == -1)
		return -1;
	if (rmdir(path) == -1)
		return -1;
	vfs_after();
	return 0;
}

int
vfs_fsync_dir(const char *dir)
{
	int fd, ret, saved;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	ret = vfs_fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int
vfs_fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int ret;

	if (slash == NULL)
		return vfs_fsync_dir(".");
	if (slash == path)
		return vfs_fsync_dir("/");
	dir = i_strndup(path, (size_t)(slash - path));
	ret = vfs_fsync_dir(dir);
	free(dir);
	return ret;
}

/* Records the failed step for vfs_write_failed_syscall(); keeps errno. */
static int
atomic_fail(const char *syscall, const char *path)
{
	int saved = errno;

	atomic_failed_syscall = syscall;
	if (!i_strlcpy(atomic_failed_path, path, sizeof(atomic_failed_path)))
		atomic_failed_path[0] = '\0';
	errno = saved;
	return -1;
}

const char *
vfs_write_failed_syscall(const char **path_r)
{
	*path_r = atomic_failed_path;
	return atomic_failed_syscall != NULL ? atomic_failed_syscall : "write";
}

/* Creates tmp (O_EXCL) with data and fsyncs it. On failure tmp is gone;
   the failed step is recorded against report_as. */
static int
atomic_write_temp(const char *tmp, const char *report_as, const void *data,
		  size_t len)
{
	const char *syscall;
	int fd, saved;

	fd = vfs_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1 && errno == EEXIST) {
		/* The name holds our pid and thread id: a leftover of a
		   killed process that had the same pid. */
		if (unlink(tmp) == -1 && errno != ENOENT)
			return atomic_fail("unlink", tmp);
		fd = vfs_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	}
	if (fd == -1)
		return atomic_fail("open", report_as);
	if (vfs_write_all(fd, data, len) == -1)
		syscall = "write";
	else if (vfs_fsync(fd) == -1)
		syscall = "fsync";
	else if (close(fd) == -1) {
		fd = -1;
		syscall = "close";
	} else
		return 0;
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return atomic_fail(syscall, report_as);
}

/*
 * The directory fsync after the rename failed: the new file is visible
 * but not known to be durable, and the caller will report a failure. So
 * the old contents go back the same way (temp file, fsync, rename) or a
 * file that did not exist is unlinked, then the directory fsync is tried
 * once more. A failure here is logged (no caller could say more) and
 * leaves the new contents, which is what a crash could leave too.
 */
static void
atomic_undo(const char *path, const char *tmp, const unsigned char *old,
	    size_t old_len, bool existed)
{
	int saved = errno;

	if (!existed) {
		if (vfs_unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink(%s) to undo its creation", path);
	} else if (atomic_write_temp(tmp, path, old, old_len) == -1 ||
		   vfs_rename(tmp, path) == -1) {
		log_warn("%s: could not put the old contents back", path);
		unlink(tmp);
	}
	(void)vfs_fsync_parent(path);
	errno = saved;
}

int
vfs_write_file_atomic(const char *path, const void *data, size_t len)
{
	unsigned char *old = NULL;
	size_t old_len = 0;
	const char *slash;
	char *tmp, *dir;
	bool existed;
	int ret = -1;

	atomic_failed_syscall = NULL;
	tmp = i_strdup_printf("%s.tmp.%ld.%lx", path, (long)getpid(),
			      (unsigned long)pthread_self());
	/* What to put back should the directory fsync fail. */
	existed = vfs_read_file(path, &old, &old_len) == 0;
	if (!existed && errno != ENOENT) {
		atomic_fail("read", path);
		goto out;
	}
	if (atomic_write_temp(tmp, path, data, len) == -1)
		goto out;
	if (vfs_rename(tmp, path) == -1) {
		atomic_fail("rename", path);
		unlink(tmp);
		goto out;
	}
	if (vfs_fsync_parent(path) == -1) {
		slash = strrchr(path, '/');
		dir = slash == NULL ? i_strdup(".") : slash == path ?
			i_strdup("/") : i_strndup(path, (size_t)(slash - path));
		atomic_fail("fsync", dir);
		free(dir);
		atomic_undo(path, tmp, old, old_len, existed);
		goto out;
	}
	ret = 0;
out:
	if (old != NULL) {
		/* Settings files hold password hashes. */
		explicit_bzero(old, old_len);
		free(old);
	}
	free(tmp);
	return ret;
}

int
vfs_mkdir_parents(const char *path, mode_t mode)
{
	char *copy = i_strdup(path);
	char *p;
	int ret = 0;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (vfs_mkdir(copy, mode) == -1 && errno != EEXIST) {
			ret = -1;
			break;
		}
		*p = '/';
	}
	free(copy);
	return ret;
}

int
vfs_read_file(const char *path, unsigned char **data_r, size_t *len_r)
{
	struct stat st;
	unsigned char *data;
	size_t done = 0;
	ssize_t ret;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	data = i_malloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ret = read(fd, data + done, (size_t)st.st_size - done);
		if (ret == -1 && errno == EINTR)
			continue;
		if (ret == -1) {
			free(data);
			goto fail;
		}
		if (ret == 0)
			break;
		done += (size_t)ret;
	}
	close(fd);
	data[done] = '\0';
	*data_r = data;
	*len_r = done;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
