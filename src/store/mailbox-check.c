/* SPDX-License-Identifier: MIT */
/*
 * mailbox-check.c: verifying a mailbox (store_mailbox_check), rebuilding
 * its index on request (store_mailbox_reindex), and creating a
 * mailbox's files for store-mailbox-list.c (which deletes a mailbox by
 * renaming it aside, see delete_mailbox there). Check only reads:
 * what a crash normally leaves behind (a torn .mbox tail, .mdir temp
 * files, a stale index) is noted, since the next open repairs it; what
 * no crash can cause (unparsable records, duplicate or descending UIDs,
 * an index marked clean that disagrees with the files) is a problem.
 * Part of the store (see mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Disagreements listed per mailbox before "and N more". */
#define CHECK_LINES_MAX 20

struct check_ctx {
	struct mailbox *box;
	buf_t *report;
	struct fmt_scan scan;
	unsigned int problems;
	unsigned int lines;
};

static void ATTR_FORMAT(3, 4)
check_line(struct check_ctx *ctx, bool problem, const char *fmt, ...)
{
	va_list args;

	if (problem)
		ctx->problems++;
	if (ctx->lines++ >= CHECK_LINES_MAX) {
		if (ctx->lines == CHECK_LINES_MAX + 1)
			buf_printf(ctx->report, "%s: ... (more)\n",
				   ctx->box->path);
		return;
	}
	buf_printf(ctx->report, "%s: %s", ctx->box->path,
		   problem ? "" : "note: ");
	va_start(args, fmt);
	buf_vprintf(ctx->report, fmt, args);
	va_end(args);
	buf_append_c(ctx->report, '\n');
}

static int
check_scan_mbox(struct check_ctx *ctx)
{
	struct mailbox *box = ctx->box;
	struct stat st;
	int fd, ret;

	if ((fd = open(box->path, O_RDONLY | O_CLOEXEC)) == -1)
		return store_set_syscall_error("open", box->path);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return store_set_syscall_error("fstat", box->path);
	}
	ret = mbox_scan(fd, box->path, 0, (uint64_t)st.st_size, 0, &ctx->scan,
			ctx->report);
	close(fd);
	if (ret == 0 && ctx->scan.torn) {
		check_line(ctx, false, "incomplete record at offset %llu "
			   "(an interrupted append; removed on the next open)",
			   (unsigned long long)ctx->scan.end);
	}
	return ret;
}

static int
check_scan_mdir(struct check_ctx *ctx)
{
	struct mailbox *box = ctx->box;
	unsigned int i;
	int dirfd, ret = 0;

	if (mdir_scan(box->path, false, &ctx->scan, ctx->report) < 0)
		return -1;
	if ((dirfd = open(box->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return store_set_syscall_error("open", box->path);
	for (i = 0; i < ctx->scan.count && ret == 0; i++)
		ret = mdir_stat_rec(dirfd, box->path, &ctx->scan.recs[i]);
	close(dirfd);
	return ret;
}

static void
compare_rec(struct check_ctx *ctx, const struct mail_rec *idx,
	    const struct mail_rec *file)
{
	if (idx->uid != file->uid) {
		check_line(ctx, true, "index has uid %u where the files "
			   "have %u", idx->uid, file->uid);
	} else if (idx->flags != file->flags || idx->size != file->size ||
		   idx->internal_date != file->internal_date) {
		check_line(ctx, true, "index disagrees on uid %u (flags, "
			   "size or date)", idx->uid);
	} else if (ctx->box->format == MAILBOX_FORMAT_MBOX &&
		   (idx->offset != file->offset ||
		    idx->hdr_len != file->hdr_len ||
		    idx->flags_off != file->flags_off ||
		    idx->flags_len != file->flags_len)) {
		check_line(ctx, true, "index has a wrong offset for uid %u",
			   idx->uid);
	}
}

/* A clean, current index must agree with the files exactly. */
static void
check_index_recs(struct check_ctx *ctx, int fd, const struct index_hdr *hdr)
{
	struct mail_rec *recs;
	unsigned int i, n = ctx->scan.count;

	if (index_read_recs(fd, hdr, &recs) != 1) {
		check_line(ctx, true, "index records are damaged although "
			   "the index is marked clean");
		return;
	}
	if (hdr->record_count != n) {
		check_line(ctx, true, "index lists %u messages, the files "
			   "hold %u", hdr->record_count, n);
	}
	for (i = 0; i < hdr->record_count && i < n; i++)
		compare_rec(ctx, &recs[i], &ctx->scan.recs[i]);
	if (n > 0 && hdr->uidnext <= ctx->scan.recs[n - 1].uid) {
		check_line(ctx, true, "index UIDNEXT %u is not above uid %u",
			   hdr->uidnext, ctx->scan.recs[n - 1].uid);
	}
	free(recs);
}

static int
check_index(struct check_ctx *ctx)
{
	struct mailbox *box = ctx->box;
	struct index_hdr hdr;
	struct file_ident cur;
	int fd, ret;

	fd = open(box->index_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			return store_set_syscall_error("open", box->index_path);
		check_line(ctx, false, "no index (built on the next open)");
		return 0;
	}
	ret = index_read_hdr(fd, &hdr);
	if (ret == 0) {
		check_line(ctx, false, "index header damaged (rebuilt on "
			   "the next open)");
	} else if (ret == 1 && file_ident_get(box->path, &cur) == 0 &&
		   hdr.dirty == INDEX_CLEAN && hdr.format == box->format &&
		   hdr.uidvalidity == box->meta.uidvalidity &&
		   file_ident_equal(&hdr.ident, &cur)) {
		check_index_recs(ctx, fd, &hdr);
	} else if (ret == 1) {
		check_line(ctx, false, "index is out of date (updated on the "
			   "next open)");
	}
	close(fd);
	return ret < 0 ? -1 : 0;
}

int
store_mailbox_check(struct account *account, const char *name, buf_t *report)
{
	struct check_ctx ctx;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.report = report;
	if (mailbox_alloc(account, name, &ctx.box) < 0)
		return -1;
	fmt_scan_init(&ctx.scan);
	if (account_lock(account, false) < 0) {
		mailbox_free(&ctx.box);
		return -1;
	}
	ret = ctx.box->format == MAILBOX_FORMAT_MBOX ?
		check_scan_mbox(&ctx) : check_scan_mdir(&ctx);
	if (ret == 0)
		ret = check_index(&ctx);
	account_unlock(account);
	ctx.problems += ctx.scan.problems;
	fmt_scan_deinit(&ctx.scan);
	mailbox_free(&ctx.box);
	if (ret < 0)
		return -1;
	return ctx.problems > 0 ? 1 : 0;
}

int
store_mailbox_reindex(struct account *account, const char *name)
{
	struct mailbox *box;
	int ret;

	if (mailbox_alloc(account, name, &box) < 0)
		return -1;
	if (account_lock(account, true) < 0) {
		mailbox_free(&box);
		return -1;
	}
	ret = mailbox_index_rebuild(box);
	if (box->index_fd != -1) {
		close(box->index_fd);
		box->index_fd = -1;
	}
	account_unlock(account);
	mailbox_free(&box);
	return ret;
}

/* ------------------------------------------------------------------ */
/* creating the files                                                   */
/* ------------------------------------------------------------------ */

static int
remove_index(const char *path)
{
	if (vfs_unlink(path) == -1 && errno != ENOENT)
		return store_set_syscall_error("unlink", path);
	return 0;
}

int
mailbox_files_create(struct account *account, const char *name,
		     enum mailbox_format format)
{
	char *path = account_mailbox_path(account, name, format);
	char *index_path = account_mailbox_index_path(account, name, format);
	int fd, ret = -1;

	if (vfs_mkdir_parents(path, 0700) == -1) {
		store_set_syscall_error("mkdir", path);
		goto out;
	}
	/* an index left by an earlier mailbox of this name is stale */
	if (remove_index(index_path) < 0)
		goto out;
	if (format == MAILBOX_FORMAT_MBOX) {
		fd = vfs_open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd != -1 && vfs_fsync(fd) == -1) {
			store_set_syscall_error("fsync", path);
			close(fd);
			goto out;
		}
		if (fd != -1)
			close(fd);
	} else {
		fd = vfs_mkdir(path, 0700);
	}
	if (fd == -1) {
		if (errno == EEXIST)
			store_set_error(STORE_ERROR_EXISTS,
					"Mailbox %s already exists", name);
		else
			store_set_syscall_error("create", path);
		goto out;
	}
	if (vfs_fsync_parent(path) == -1) {
		store_set_syscall_error("fsync", path);
		goto out;
	}
	ret = 0;
out:
	free(path);
	free(index_path);
	return ret;
}
