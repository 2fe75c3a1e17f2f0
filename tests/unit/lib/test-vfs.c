/* SPDX-License-Identifier: MIT */
/*
 * test-vfs.c: unit tests for src/lib/vfs.c: the durable write path
 * (vfs_write_file_atomic), the helpers around it, and fault injection.
 * COMMUNE_VFS_FAIL / COMMUNE_VFS_CRASH are read once per process, and a
 * forked child would inherit the parent's already-initialised state, so
 * every injected case forks and re-executes this program ("--child PATH")
 * with the variable set; the child calls vfs_init(), writes, and reports
 * through its exit status, and the parent checks what is on disk.
 */
#include "vfs.h"
#include "../store/test-child.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OLD_TEXT "old contents\n"
#define NEW_TEXT "new contents, longer than the old ones\n"

struct vfs_test {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct vfs_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-vfs.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/account.settings", t->dir);
	*state = t;
	return 0;
}

static void
remove_tree(const char *path)
{
	struct dirent *d;
	char sub[512];
	DIR *dir = opendir(path);

	if (dir == NULL) {
		unlink(path);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		remove_tree(sub);
	}
	closedir(dir);
	rmdir(path);
}

static int
teardown(void **state)
{
	struct vfs_test *t = *state;

	remove_tree(t->dir);
	free(t);
	return 0;
}

/* Number of directory entries besides . and .. */
static unsigned int
count_entries(const char *path)
{
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir = opendir(path);

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	}
	closedir(dir);
	return n;
}

static void
assert_file(const char *path, const char *expected)
{
	unsigned char *data;
	size_t len;

	assert_int_equal(vfs_read_file(path, &data, &len), 0);
	assert_int_equal(len, strlen(expected));
	assert_string_equal((char *)data, expected);
	free(data);
}

static void
write_plain(const char *path, const char *text)
{
	assert_int_equal(vfs_write_file_atomic(path, text, strlen(text)), 0);
}

/* ------------------------------------------------------------------ */
/* Without faults                                                      */
/* ------------------------------------------------------------------ */

static void
test_atomic_create_replace(void **state)
{
	struct vfs_test *t = *state;

	write_plain(t->path, OLD_TEXT);
	assert_file(t->path, OLD_TEXT);
	write_plain(t->path, NEW_TEXT);
	assert_file(t->path, NEW_TEXT);
	/* no temp file left behind */
	assert_int_equal(count_entries(t->dir), 1);

	assert_int_equal(vfs_write_file_atomic(t->path, "", 0), 0);
	assert_file(t->path, "");
}

static void
test_atomic_binary(void **state)
{
	struct vfs_test *t = *state;
	static const unsigned char bytes[] = { 0, 1, 0xff, 0, '\n' };
	unsigned char *data;
	size_t len;

	assert_int_equal(vfs_write_file_atomic(t->path, bytes,
					       sizeof(bytes)), 0);
	assert_int_equal(vfs_read_file(t->path, &data, &len), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(data, bytes, sizeof(bytes));
	assert_int_equal(data[len], '\0');
	free(data);
}

static void
test_atomic_missing_dir(void **state)
{
	struct vfs_test *t = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/no/such/file", t->dir);
	assert_int_equal(vfs_write_file_atomic(path, "x", 1), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(t->dir), 0);
}

static void
test_read_missing(void **state)
{
	struct vfs_test *t = *state;
	unsigned char *data = NULL;
	size_t len = 0;

	assert_int_equal(vfs_read_file(t->path, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(data);
}

static void
test_mkdir_parents(void **state)
{
	struct vfs_test *t = *state;
	char path[160], sub[160];

	snprintf(path, sizeof(path), "%s/a/b/c/file", t->dir);
	assert_int_equal(vfs_mkdir_parents(path, 0700), 0);
	/* again: existing directories are fine */
	assert_int_equal(vfs_mkdir_parents(path, 0700), 0);
	write_plain(path, "deep");
	assert_file(path, "deep");
	snprintf(sub, sizeof(sub), "%s/a/b/c", t->dir);
	assert_int_equal(count_entries(sub), 1);
}

static void
test_write_helpers(void **state)
{
	struct vfs_test *t = *state;
	int fd;

	fd = vfs_open(t->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write_all(fd, "hello world", 11), 0);
	assert_int_equal(vfs_pwrite_all(fd, "W", 1, 6), 0);
	assert_int_equal(vfs_fsync(fd), 0);
	assert_int_equal(vfs_fdatasync(fd), 0);
	assert_int_equal(vfs_ftruncate(fd, 7), 0);
	close(fd);
	assert_file(t->path, "hello W");
	assert_int_equal(vfs_fsync_parent(t->path), 0);
	assert_int_equal(vfs_fsync_dir(t->dir), 0);
	/* O_EXCL: the second create fails */
	assert_int_equal(vfs_open(t->path, O_WRONLY | O_CREAT | O_EXCL,
				  0600), -1);
	assert_int_equal(errno, EEXIST);
}

/* ------------------------------------------------------------------ */
/* Fault injection (one forked child per case)                         */
/* ------------------------------------------------------------------ */

/* The child side: vfs_write_file_atomic(path, NEW_TEXT); exits 0 on
   success, 10 + errno (capped) on failure. */
static int
child_main(const char *path)
{
	int ret;

	vfs_init();
	ret = vfs_write_file_atomic(path, NEW_TEXT, strlen(NEW_TEXT));
	return ret == 0 ? 0 : 10 + (errno > 100 ? 100 : errno);
}

/* Runs child_main(path) in a fresh process with env_name=env_value.
   Returns the wait status. */
static int
run_child(const char *path, const char *env_name, const char *env_value)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv(env_name, env_value, 1);
		execl(test_self_exe(), "test-vfs", "--child", path,
		      (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_fail_injection(void **state)
{
	static const struct {
		const char *spec;
		int exit_code;
		/* the new file is in place despite the error */
		bool replaced;
	} cases[] = {
		{ "open:1", 10 + EIO, false },
		{ "open:1:ENOSPC", 10 + ENOSPC, false },
		{ "write:1:ENOSPC", 10 + ENOSPC, false },
		{ "write:1:28", 10 + ENOSPC, false },
		{ "fsync:1", 10 + EIO, false },
		{ "rename:1", 10 + EIO, false },
		{ "any:1", 10 + EIO, false },
		{ "any:3", 10 + EIO, false },
		/* the directory fsync runs after the rename: the old
		   contents are put back and the failure reported */
		{ "fsync:2", 10 + EIO, false },
		{ "fsync:2:ENOSPC", 10 + ENOSPC, false },
		/* the 2nd open or write never happens: success */
		{ "open:2", 0, true },
		{ "write:2", 0, true },
		{ "unlink:1", 0, true },
		/* unparsable specs inject nothing */
		{ "bogus", 0, true },
		{ "nosuchop:1", 0, true },
	};
	struct vfs_test *t = *state;
	unsigned int i;
	int status;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		write_plain(t->path, OLD_TEXT);
		status = run_child(t->path, "COMMUNE_VFS_FAIL", cases[i].spec);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) != cases[i].exit_code) {
			fail_msg("%s: exit %d, want %d", cases[i].spec,
				 WEXITSTATUS(status), cases[i].exit_code);
		}
		assert_file(t->path, cases[i].replaced ? NEW_TEXT : OLD_TEXT);
		/* the temp file never survives a reported failure */
		assert_int_equal(count_entries(t->dir), 1);
	}
}

static void
test_crash_injection(void **state)
{
	struct vfs_test *t = *state;
	char num[16];
	unsigned int n;
	int status;

	/* mutating calls: write, fsync, rename, fsync(dir); crash after each */
	for (n = 1; n <= 4; n++) {
		write_plain(t->path, OLD_TEXT);
		snprintf(num, sizeof(num), "%u", n);
		status = run_child(t->path, "COMMUNE_VFS_CRASH", num);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		/* old or new, never a mix */
		assert_file(t->path, n < 3 ? OLD_TEXT : NEW_TEXT);
		/* only the target, plus a temp file if killed before rename */
		assert_int_equal(count_entries(t->dir), n < 3 ? 2 : 1);
		remove_tree(t->dir);
		assert_int_equal(mkdir(t->dir, 0700), 0);
	}
	/* past the last call: no crash */
	write_plain(t->path, OLD_TEXT);
	status = run_child(t->path, "COMMUNE_VFS_CRASH", "5");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_file(t->path, NEW_TEXT);
}

/* In-process injection (vfs_fault_set) and the step a failure names. */
static void
test_fault_set(void **state)
{
	static const struct {
		const char *spec, *syscall;
		bool dir;
	} cases[] = {
		{ "open:1", "open", false },
		{ "write:1", "write", false },
		{ "fsync:1", "fsync", false },
		{ "rename:1", "rename", false },
		{ "fsync:2", "fsync", true },
	};
	struct vfs_test *t = *state;
	const char *syscall, *path;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		write_plain(t->path, OLD_TEXT);
		vfs_fault_set(cases[i].spec);
		assert_int_equal(vfs_write_file_atomic(t->path, NEW_TEXT,
						       strlen(NEW_TEXT)), -1);
		assert_int_equal(errno, EIO);
		syscall = vfs_write_failed_syscall(&path);
		assert_int_equal(errno, EIO);
		assert_string_equal(syscall, cases[i].syscall);
		assert_string_equal(path, cases[i].dir ? t->dir : t->path);
		vfs_fault_set(NULL);
		assert_file(t->path, OLD_TEXT);
		assert_int_equal(count_entries(t->dir), 1);
	}
	/* a file that did not exist is removed again */
	assert_int_equal(unlink(t->path), 0);
	vfs_fault_set("fsync:2");
	assert_int_equal(vfs_write_file_atomic(t->path, "x", 1), -1);
	vfs_fault_set(NULL);
	assert_int_equal(count_entries(t->dir), 0);
	/* off again: the counts restarted, nothing fails */
	vfs_fault_set("fsync:100");
	write_plain(t->path, NEW_TEXT);
	vfs_fault_set(NULL);
	assert_file(t->path, NEW_TEXT);
}

/* A temp file of a killed process that had our pid (and thread id) is
   not in the way. */
static void
test_atomic_stale_temp(void **state)
{
	struct vfs_test *t = *state;
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%lx", t->path, (long)getpid(),
		 (unsigned long)pthread_self());
	write_plain(tmp, "stale");
	write_plain(t->path, NEW_TEXT);
	assert_file(t->path, NEW_TEXT);
	assert_int_equal(count_entries(t->dir), 1);
}

/* COMMUNE_VFS_REPORT: the child writes how many calls of OP it made. */
static void
test_report(void **state)
{
	struct vfs_test *t = *state;
	char report[160], env[200];
	unsigned char *data;
	size_t len;
	int status;

	snprintf(report, sizeof(report), "%s.report", t->dir);
	snprintf(env, sizeof(env), "COMMUNE_VFS_REPORT=%s", report);
	putenv(env);
	status = run_child(t->path, "COMMUNE_VFS_FAIL", "fsync:9");
	unsetenv("COMMUNE_VFS_REPORT");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(vfs_read_file(report, &data, &len), 0);
	/* the temp file's fsync and the directory's */
	assert_string_equal((char *)data, "fsync 2\n");
	free(data);
	assert_int_equal(unlink(report), 0);
}

static void
test_crash_random(void **state)
{
	struct vfs_test *t = *state;
	int status;

	/* probability 1/1: the first mutating call kills */
	write_plain(t->path, OLD_TEXT);
	status = run_child(t->path, "COMMUNE_VFS_CRASH_RANDOM", "1");
	assert_true(WIFSIGNALED(status));
	assert_file(t->path, OLD_TEXT);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_create_replace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_binary,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_missing_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_parents,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_helpers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_injection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_injection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_random,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_set,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_stale_temp,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report,
						setup, teardown),
	};

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
