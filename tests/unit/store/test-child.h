/* SPDX-License-Identifier: MIT */
/*
 * test-child.h: fault-injection helper for the store's unit tests.
 * lib/vfs reads COMMUNE_VFS_FAIL / COMMUNE_VFS_CRASH once per process, so
 * an injected case re-executes the test program (self) as
 * "self MODE ARG" with the variable set, and reports the child's exit
 * status. Header-only, static inline.
 */
#ifndef TEST_CHILD_H
#define TEST_CHILD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The test program's own path, to re-execute it. Resolved here rather
   than exec'ing /proc/self/exe, which under valgrind is valgrind itself
   (valgrind answers this readlink with the program's path). */
static inline const char *
test_self_exe(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n == -1)
		return "/proc/self/exe";
	path[n] = '\0';
	return path;
}

static inline int
test_run_child(const char *self, const char *env, const char *mode,
	       const char *arg, const char *arg2)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		putenv((char *)env);
		execl(self, self, mode, arg, arg2, (char *)NULL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif
