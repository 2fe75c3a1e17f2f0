/* SPDX-License-Identifier: MIT */
/*
 * cli-export.c: `commune export ACCOUNT MAILBOX PATH`: writes the
 * mailbox as an mboxrd file (cli-mbox.h) that mutt, Thunderbird, Python
 * and `commune import` read, flags in Status/X-Status/X-Keywords. The
 * file appears whole or not at all: it is written to a temp file beside
 * PATH, fsync'ed, then linked (or with --force renamed) into place. PATH
 * "-" writes to standard output. In cli, above store.
 */
#include "cli-private.h"
#include "cli-flags.h"
#include "cli-mbox.h"
#include "cli-progress.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Output is written whenever this much is buffered. */
#define EXPORT_WRITE_CHUNK (1024 * 1024)
#define EXPORT_TEMP_SUFFIX ".commune-tmp"

struct exporter {
	struct mailbox *box;
	int fd;
	const char *path;       /* for messages */
	buf_t out;
	struct cli_progress progress;
};

static int
out_write(struct exporter *exp)
{
	if (exp->out.len == 0)
		return 0;
	if (exp->fd == STDOUT_FILENO) {
		if (cli_write_stdout(exp->out.data, exp->out.len) != 0)
			return CLI_EXIT_FAIL;
	} else if (vfs_write_all(exp->fd, exp->out.data,
				 exp->out.len) == -1) {
		cli_progress_finish(&exp->progress);
		return cli_error("write %s: %s", exp->path, strerror(errno));
	}
	buf_reset(&exp->out);
	return 0;
}

/* Writes every message of the view. */
static int
export_messages(struct exporter *exp)
{
	const struct store_msg *msgs = store_mailbox_msgs(exp->box);
	unsigned int i, count = store_mailbox_count(exp->box);
	struct cli_flags flags;
	buf_t data = BUF_INIT;
	int ret = 0;

	cli_progress_init(&exp->progress, "export", count);
	for (i = 0; i < count && ret == 0; i++) {
		buf_reset(&data);
		if (store_mailbox_msg_read(exp->box, msgs[i].uid,
					   &data) == -1) {
			cli_progress_finish(&exp->progress);
			ret = cli_store_error();
			break;
		}
		cli_flags_init(&flags);
		cli_flags_from_bits(&flags, exp->box, msgs[i].flags);
		cli_mbox_msg_encode(&exp->out, data.data, data.len,
				    msgs[i].internal_date, &flags);
		cli_flags_deinit(&flags);
		if (exp->out.len >= EXPORT_WRITE_CHUNK)
			ret = out_write(exp);
		cli_progress_update(&exp->progress, i + 1);
	}
	if (ret == 0)
		ret = out_write(exp);
	cli_progress_finish(&exp->progress);
	buf_deinit(&data);
	return ret;
}

/* Puts the finished temp file at path: link() refuses to replace an
   existing file atomically; --force renames over it. */
static int
install(const char *temp, const char *path, bool force)
{
	if (force) {
		if (vfs_rename(temp, path) == -1)
			return cli_error("rename %s: %s", path,
					 strerror(errno));
	} else {
		if (vfs_link(temp, path) == -1) {
			if (errno == EEXIST)
				return cli_error("%s exists (--force replaces "
						 "it)", path);
			return cli_error("link %s: %s", path,
					 strerror(errno));
		}
		(void)vfs_unlink(temp);
	}
	if (vfs_fsync_parent(path) == -1)
		return cli_error("fsync of %s's directory: %s", path,
				 strerror(errno));
	return 0;
}

static int
export_to_file(struct exporter *exp, const char *path, bool force)
{
	char *temp = i_strdup_printf("%s" EXPORT_TEMP_SUFFIX ".%ld", path,
				     (long)getpid());
	int ret;

	exp->path = path;
	exp->fd = vfs_open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			   0666);
	if (exp->fd == -1) {
		ret = cli_error("create %s: %s", temp, strerror(errno));
		free(temp);
		return ret;
	}
	ret = export_messages(exp);
	if (ret == 0 && vfs_fsync(exp->fd) == -1)
		ret = cli_error("fsync %s: %s", temp, strerror(errno));
	if (close(exp->fd) == -1 && ret == 0)
		ret = cli_error("close %s: %s", temp, strerror(errno));
	if (ret == 0)
		ret = install(temp, path, force);
	if (ret != 0)
		(void)unlink(temp);
	free(temp);
	return ret;
}

static int
cmd_export(struct cli_ctx *ctx)
{
	const char *path = ctx->args[2];
	struct exporter exp;
	struct account *account;
	int ret;

	memset(&exp, 0, sizeof(exp));
	if ((ret = cli_account_open(ctx, ctx->args[0], &account)) != 0)
		return ret;
	if ((ret = cli_mailbox_open(account, ctx->args[1], &exp.box)) == 0) {
		if (strcmp(path, "-") == 0) {
			exp.fd = STDOUT_FILENO;
			exp.path = "standard output";
			ret = export_messages(&exp);
		} else {
			ret = export_to_file(&exp, path,
					     ctx->opts[CLI_OPT_FORCE] != NULL);
		}
		store_mailbox_close(&exp.box);
	}
	buf_deinit(&exp.out);
	store_account_close(&account);
	return ret;
}

static const struct cli_command commands[] = {
	{ NULL, "ACCOUNT MAILBOX PATH [--force]",
	  "Writes the mailbox to PATH as an mboxrd file: From_ lines with\n"
	  "the internal date (UTC), flags in Status/X-Status/X-Keywords,\n"
	  ">From quoting. The file appears complete or not at all; an\n"
	  "existing PATH is refused unless --force. PATH - writes to\n"
	  "standard output.\n",
	  3, 3, CLI_OPT_BIT(CLI_OPT_FORCE), cmd_export },
};

const struct cli_family cli_family_export = {
	"export", commands, N_ELEMENTS(commands)
};
