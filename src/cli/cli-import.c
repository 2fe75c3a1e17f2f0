/* SPDX-License-Identifier: MIT */
/*
 * cli-import.c: `commune import ACCOUNT MAILBOX PATH`: the batching
 * importer (cli-import.h) and the mbox source. PATH is an mbox file
 * (cli-mbox.h: mboxo/mboxrd, flags from Status/X-Status/X-Keywords,
 * dates from the From_ lines) or a Maildir folder
 * (cli-import-maildir.c). A missing mailbox is created. All or nothing:
 * on any failure, or when interrupted, the appended messages are
 * expunged again (and a mailbox the import created is deleted). In cli.
 */
#include "cli-import.h"
#include "cli-mbox.h"
#include "crlf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

/* ------------------------------------------------------------------ */
/* The importer                                                        */
/* ------------------------------------------------------------------ */

void
importer_init(struct importer *imp, struct mailbox *box, const char *what,
	      uint64_t total)
{
	unsigned int i;

	memset(imp, 0, sizeof(*imp));
	imp->box = box;
	for (i = 0; i < CLI_IMPORT_BATCH_MSGS; i++)
		cli_flags_init(&imp->items[i].flags);
	cli_flags_init(&imp->new_keywords);
	cli_flags_init(&imp->dropped);
	cli_progress_init(&imp->progress, what, total);
}

static void
batch_reset(struct importer *imp)
{
	unsigned int i;

	for (i = 0; i < imp->count; i++) {
		struct import_item *item = &imp->items[i];

		i_free(item->owned);
		cli_flags_deinit(&item->flags);
		cli_flags_init(&item->flags);
	}
	imp->count = 0;
	imp->bytes = 0;
}

void
importer_deinit(struct importer *imp)
{
	unsigned int i;

	batch_reset(imp);
	for (i = 0; i < CLI_IMPORT_BATCH_MSGS; i++)
		cli_flags_deinit(&imp->items[i].flags);
	cli_flags_deinit(&imp->new_keywords);
	cli_flags_deinit(&imp->dropped);
	uid_array_free(&imp->imported);
	cli_progress_finish(&imp->progress);
}

bool
importer_interrupted(void)
{
	return interrupted != 0;
}

static void
warn_dropped(struct importer *imp, const char *keyword, const char *why)
{
	buf_t text = BUF_INIT;

	if (cli_flags_has_keyword(&imp->dropped, keyword))
		return;
	cli_flags_add_keyword(&imp->dropped, keyword);
	cli_append_printable(&text, (const unsigned char *)keyword,
			     strlen(keyword));
	cli_progress_finish(&imp->progress);
	fprintf(stderr, "commune: warning: keyword %s dropped: %s\n",
		buf_cstr(&text), why);
	buf_deinit(&text);
}

/* Whether keyword may go into the box: valid, and known or with room. */
static bool
keyword_accept(struct importer *imp, const char *keyword)
{
	const char *error;
	unsigned int index;
	uint32_t flag;

	if (cli_flag_parse(keyword, &flag, &error) == -1 || flag != 0) {
		warn_dropped(imp, keyword, "not a valid IMAP keyword");
		return false;
	}
	if (cli_flags_has_keyword(&imp->new_keywords, keyword) ||
	    store_mailbox_keyword_lookup(imp->box, keyword, false,
					 &index) == 0)
		return true;
	if (store_mailbox_keyword_count(imp->box) +
	    imp->new_keywords.keyword_count >= STORE_KEYWORDS_MAX) {
		warn_dropped(imp, keyword, "the mailbox's keyword table "
			     "is full");
		return false;
	}
	cli_flags_add_keyword(&imp->new_keywords, keyword);
	return true;
}

int
importer_flush(struct importer *imp)
{
	struct store_append *msgs;
	uint32_t *uids;
	unsigned char **crlf;
	unsigned int i;
	int ret = 0;

	if (imp->count == 0)
		return 0;
	msgs = i_malloc(imp->count * sizeof(*msgs));
	uids = i_malloc(imp->count * sizeof(*uids));
	crlf = i_malloc(imp->count * sizeof(*crlf));
	for (i = 0; i < imp->count; i++) {
		msgs[i].data = imp->items[i].data;
		msgs[i].len = imp->items[i].len;
		/* mbox files and Maildirs hold LF line ends; messages are
		   stored with CRLF, as LMTP and IMAP store them */
		crlf[i] = crlf_canonical(msgs[i].data, msgs[i].len,
					 &msgs[i].len);
		if (crlf[i] != NULL)
			msgs[i].data = crlf[i];
		msgs[i].flags = imp->items[i].flags.flags;
		msgs[i].keywords =
			(const char *const *)imp->items[i].flags.keywords;
		msgs[i].internal_date = imp->items[i].date;
	}
	if (store_mailbox_append(imp->box, msgs, imp->count, uids) == -1) {
		cli_progress_finish(&imp->progress);
		ret = cli_store_error();
	} else {
		for (i = 0; i < imp->count; i++)
			uid_array_add(&imp->imported, uids[i]);
		imp->done += imp->count;
		cli_progress_update(&imp->progress, imp->done);
		/* Now in the box's table. */
		cli_flags_deinit(&imp->new_keywords);
		cli_flags_init(&imp->new_keywords);
	}
	for (i = 0; i < imp->count; i++)
		free(crlf[i]);
	free(crlf);
	free(msgs);
	free(uids);
	batch_reset(imp);
	if (ret == 0 && interrupted)
		ret = cli_error("interrupted");
	return ret;
}

int
importer_add(struct importer *imp, const unsigned char *data, size_t len,
	     unsigned char *owned, const struct cli_flags *flags,
	     int64_t date)
{
	struct import_item *item;
	unsigned int i;
	int ret;

	if (interrupted) {
		free(owned);
		cli_progress_finish(&imp->progress);
		return cli_error("interrupted");
	}
	if (len > STORE_MESSAGE_MAX) {
		free(owned);
		cli_progress_finish(&imp->progress);
		return cli_error("message %llu is larger than %u bytes",
				 (unsigned long long)imp->done + imp->count + 1,
				 STORE_MESSAGE_MAX);
	}
	if (imp->count == CLI_IMPORT_BATCH_MSGS ||
	    (imp->count > 0 && imp->bytes + len > CLI_IMPORT_BATCH_BYTES)) {
		if ((ret = importer_flush(imp)) != 0) {
			free(owned);
			return ret;
		}
	}
	item = &imp->items[imp->count++];
	item->data = data;
	item->len = len;
	item->owned = owned;
	item->date = date;
	item->flags.flags = flags->flags & STORE_FLAGS_SYSTEM;
	for (i = 0; i < flags->keyword_count; i++) {
		if (keyword_accept(imp, flags->keywords[i]))
			cli_flags_add_keyword(&item->flags,
					      flags->keywords[i]);
	}
	imp->bytes += len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The mbox source                                                     */
/* ------------------------------------------------------------------ */

struct mbox_source {
	int fd;
	unsigned char *map;
	size_t len;
	struct cli_mbox_reader reader;
};

static void
mbox_close(struct mbox_source *src)
{
	if (src->map != NULL)
		munmap(src->map, src->len);
	if (src->fd != -1)
		close(src->fd);
	src->map = NULL;
	src->fd = -1;
}

/* Maps the file; 0, or the exit status. */
static int
mbox_open(struct mbox_source *src, int fd, const struct stat *st,
	  const char *path)
{
	memset(src, 0, sizeof(*src));
	src->fd = fd;
	src->len = (size_t)st->st_size;
	if (src->len > 0) {
		src->map = mmap(NULL, src->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (src->map == MAP_FAILED) {
			src->map = NULL;
			return cli_error("mmap %s: %s", path, strerror(errno));
		}
		(void)madvise(src->map, src->len, MADV_SEQUENTIAL);
	}
	if (cli_mbox_reader_init(&src->reader, src->map, src->len) == -1)
		return cli_error("%s is not an mbox file (it does not start "
				 "with a \"From \" line)", path);
	return 0;
}

static uint64_t
mbox_count(const struct mbox_source *src)
{
	struct cli_mbox_reader reader = src->reader;
	struct cli_mbox_msg msg;
	uint64_t count = 0;

	while (cli_mbox_reader_next(&reader, &msg) > 0)
		count++;
	return count;
}

static int
mbox_import(struct mbox_source *src, struct importer *imp)
{
	struct cli_mbox_msg msg;
	struct cli_flags flags;
	buf_t scratch = BUF_INIT;
	const unsigned char *data;
	unsigned char *owned;
	size_t len;
	int ret = 0;

	while (ret == 0 && cli_mbox_reader_next(&src->reader, &msg) > 0) {
		cli_flags_init(&flags);
		cli_mbox_msg_decode(&msg, &scratch, &flags, &data, &len);
		owned = NULL;
		if (data == scratch.data) {
			/* The scratch is reused: the batch needs a copy. */
			owned = buf_steal(&scratch, &len);
			data = owned;
		}
		ret = importer_add(imp, data, len, owned, &flags, msg.date);
		cli_flags_deinit(&flags);
	}
	buf_deinit(&scratch);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

struct import_job {
	struct cli_ctx *ctx;
	const char *path;
	struct mbox_source mbox;
	struct maildir_source *maildir;
	uint64_t total;
};

static void
on_signal(int signo)
{
	interrupted = 1;
}

static void
catch_signals(bool on)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_ELEMENTS(signals); i++)
		(void)sigaction(signals[i], &sa, NULL);
}

/* Opens PATH as an mbox file or a Maildir folder; 0 or exit status. */
static int
source_open(struct import_job *job)
{
	struct stat st;
	int fd;

	job->mbox.fd = -1;
	fd = open(job->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return cli_error("open %s: %s", job->path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		close(fd);
		return cli_error("stat %s: %s", job->path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (cli_maildir_open(job->path, &job->maildir) != 0)
			return CLI_EXIT_FAIL;
		job->total = cli_maildir_count(job->maildir);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return cli_error("%s is neither a file nor a directory",
				 job->path);
	}
	if (mbox_open(&job->mbox, fd, &st, job->path) != 0)
		return CLI_EXIT_FAIL;
	job->total = mbox_count(&job->mbox);
	return 0;
}

/* Takes back what a failed import appended. */
static void
undo(struct account *account, const char *name, struct mailbox *box,
     const struct uid_array *uids, bool created)
{
	const char *text;

	if (created) {
		if (store_mailbox_delete(account, name) == 0)
			return;
	} else if (uids->count == 0) {
		return;
	} else if (store_mailbox_sync(box, 0, NULL) == 0 &&
		   store_mailbox_update_flags(box, uids->uids, uids->count,
					      STORE_FLAGS_ADD,
					      STORE_FLAG_DELETED, NULL, 0,
					      NULL) == 0 &&
		   store_mailbox_expunge(box, uids->uids, uids->count,
					 NULL) == 0) {
		return;
	}
	(void)store_error(&text);
	fprintf(stderr, "commune: could not take back the %u messages "
		"imported before the failure (UIDs %u to %u): %s\n",
		uids->count, uids->count > 0 ? uids->uids[0] : 0,
		uids->count > 0 ? uids->uids[uids->count - 1] : 0, text);
}

static int
run_import(struct import_job *job, struct account *account)
{
	struct cli_ctx *ctx = job->ctx;
	const char *name = ctx->args[1];
	enum mailbox_format format = MAILBOX_FORMAT_MBOX;
	struct mailbox *box;
	struct importer imp;
	bool created = false;
	int ret;

	if (ctx->opts[CLI_OPT_FORMAT] != NULL)
		(void)store_mailbox_format_parse(ctx->opts[CLI_OPT_FORMAT],
						 &format);
	if (!store_mailbox_exists(account, name)) {
		if (store_mailbox_create(account, name, format, NULL) == -1)
			return cli_store_error();
		created = true;
	}
	if ((ret = cli_mailbox_open(account, name, &box)) != 0) {
		if (created)
			(void)store_mailbox_delete(account, name);
		return ret;
	}
	importer_init(&imp, box, "import", job->total);
	ret = job->maildir != NULL ? cli_maildir_import(job->maildir, &imp) :
		mbox_import(&job->mbox, &imp);
	if (ret == 0)
		ret = importer_flush(&imp);
	cli_progress_finish(&imp.progress);
	if (ret != 0)
		undo(account, name, box, &imp.imported, created);
	else
		printf("%u messages imported\n", imp.imported.count);
	importer_deinit(&imp);
	store_mailbox_close(&box);
	return ret;
}

static int
cmd_import(struct cli_ctx *ctx)
{
	struct import_job job;
	struct account *account;
	int ret;

	enum mailbox_format format;

	if (ctx->opts[CLI_OPT_FORMAT] != NULL &&
	    store_mailbox_format_parse(ctx->opts[CLI_OPT_FORMAT],
				       &format) == -1)
		return cli_usage_error(ctx, "--format must be mbox or mdir");
	memset(&job, 0, sizeof(job));
	job.ctx = ctx;
	job.path = ctx->args[2];
	/* From here on a signal stops the import at the next message and
	   takes back what it did. */
	catch_signals(true);
	/* The source first: a bad PATH must not create the mailbox. */
	if ((ret = source_open(&job)) == 0 &&
	    (ret = cli_account_open(ctx, ctx->args[0], &account)) == 0) {
		ret = run_import(&job, account);
		store_account_close(&account);
	}
	catch_signals(false);
	mbox_close(&job.mbox);
	cli_maildir_close(&job.maildir);
	return ret;
}

static const struct cli_command commands[] = {
	{ NULL, "ACCOUNT MAILBOX PATH [--format mbox|mdir]",
	  "Imports an mbox file or a Maildir folder into MAILBOX (created\n"
	  "with --format when missing), flags and dates kept. mbox: mboxrd\n"
	  "unescaping, the date from each From_ line, flags from Status,\n"
	  "X-Status and X-Keywords, which are removed (every other byte is\n"
	  "kept). Maildir: cur/ and new/, flags from the \":2,\" suffix,\n"
	  "the date from the file's mtime. All or nothing: on failure or\n"
	  "interruption nothing stays imported.\n",
	  3, 3, CLI_OPT_BIT(CLI_OPT_FORMAT), cmd_import },
};

const struct cli_family cli_family_import = {
	"import", commands, N_ELEMENTS(commands)
};
