/* SPDX-License-Identifier: MIT */
/*
 * vfs.h: the one thin layer every file write of the store goes through, so
 * tests can make the N-th call fail or kill the process there.
 *
 * Fault injection is driven by the environment, read once:
 *   COMMUNE_VFS_FAIL=OP:N[:ERRNO]  the N-th call (1-based, counted over
 *       the whole process) of OP fails with ERRNO (default EIO). OP is
 *       open, write, fsync, rename, unlink, mkdir, truncate, link or any
 *       (every mutating call counts). ERRNO is EIO, ENOSPC or a number.
 *   COMMUNE_VFS_CRASH=N  the process kills itself with SIGKILL right
 *       after the N-th mutating call (write, fsync, rename, ...).
 *   COMMUNE_VFS_CRASH_RANDOM=P  each mutating call kills the process with
 *       probability 1/P (crash tests of the whole daemon).
 *   COMMUNE_VFS_REPORT=PATH  at exit, writes "OP N" to PATH: how many
 *       calls of COMMUNE_VFS_FAIL's OP the process made. A test that sees
 *       a command succeed although N >= the failing call knows the
 *       failure was injected and tolerated, and goes on to the next call.
 * vfs_write_all may be cut short by a crash, as a real crash would.
 * All functions return 0 / fd on success, -1 with errno set on failure,
 * and log nothing: the caller knows the context and logs once. (The one
 * exception is a failed undo inside vfs_write_file_atomic, which only vfs
 * sees.)
 */
#ifndef VFS_H
#define VFS_H

#include "lib.h"

#include <sys/stat.h>

void vfs_init(void);
/* Tests: replaces COMMUNE_VFS_FAIL's spec in this process (same syntax;
   NULL or "" turns injection off) and restarts the call counts. */
void vfs_fault_set(const char *spec);

int vfs_open(const char *path, int flags, mode_t mode);
int vfs_openat(int dirfd, const char *path, int flags, mode_t mode);
/* Writes all of data at the current offset (handles short writes). */
int vfs_write_all(int fd, const void *data, size_t len);
/* Writes all of data at offset. */
int vfs_pwrite_all(int fd, const void *data, size_t len, off_t offset);
int vfs_fsync(int fd);
int vfs_fdatasync(int fd);
int vfs_ftruncate(int fd, off_t len);
int vfs_rename(const char *from, const char *to);
int vfs_renameat(int fromdir, const char *from, int todir, const char *to);
int vfs_link(const char *from, const char *to);
int vfs_unlink(const char *path);
int vfs_unlinkat(int dirfd, const char *path, int flags);
int vfs_mkdir(const char *path, mode_t mode);
int vfs_rmdir(const char *path);
/* fsync of the directory holding path (or of path if it is a directory). */
int vfs_fsync_dir(const char *dir);
int vfs_fsync_parent(const char *path);

/*
 * Durably replaces path with data: temp file (O_EXCL) in the same
 * directory, write, fsync, rename, fsync of the directory. On failure path
 * holds what it held before (or is absent again) and the temp file is
 * gone: when the directory fsync fails after the rename, the old contents
 * (read at the start) are put back the same way, or a new file is
 * unlinked. Only if that repair fails too can the new contents stay.
 * Writers of one path must be serialised by the caller (a lock), as the
 * repair restores the contents seen at the start.
 */
int vfs_write_file_atomic(const char *path, const void *data, size_t len);
/*
 * After vfs_write_file_atomic failed: the syscall that failed ("open",
 * "write", "fsync", "close", "rename") and, in *path_r, the file it failed
 * on: path, or path's directory for the directory fsync. Valid until the
 * calling thread's next vfs_write_file_atomic; errno is kept.
 */
const char *vfs_write_failed_syscall(const char **path_r);

/* mkdir -p for path's directories (not durable by itself). */
int vfs_mkdir_parents(const char *path, mode_t mode);

/* Reads a whole file into *data_r (malloc'd, NUL-terminated). */
int vfs_read_file(const char *path, unsigned char **data_r, size_t *len_r);

#endif
