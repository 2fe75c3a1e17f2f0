/* SPDX-License-Identifier: MIT */
/*
 * mailbox.c: opened mailboxes (struct mailbox): opening and closing, the
 * view (the message list a session sees between syncs), status, keyword
 * names and reading messages. The view is a copy of the index records
 * made under the account lock; reading an .mbox message uses the fd the
 * view was built with, so a concurrent expunge (which renames a new file
 * over the old) never changes what the view reads. Part of the store
 * (see mailbox-private.h); syncing is in mailbox-sync.c, writing in
 * mailbox-save.c and mailbox-update.c.
 */
#include "mailbox-private.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
mailbox_alloc(struct account *account, const char *name,
	      struct mailbox **box_r)
{
	struct mailbox *box;
	enum mailbox_format format;
	char *path;

	if (account_mailbox_locate(account, name, &format, &path) < 0)
		return -1;
	box = i_malloc(sizeof(*box));
	box->account = account;
	box->name = store_mailbox_name_normalize(name);
	box->format = format;
	box->path = path;
	box->index_path = account_mailbox_index_path(account, box->name,
						     format);
	box->index_fd = -1;
	box->view_fd = -1;
	if (mailbox_meta_load(box) < 0) {
		mailbox_free(&box);
		return -1;
	}
	*box_r = box;
	return 0;
}

void
mailbox_free(struct mailbox **_box)
{
	struct mailbox *box = *_box;

	if (box == NULL)
		return;
	*_box = NULL;
	mailbox_cache_free(box);
	if (box->view_fd != -1)
		close(box->view_fd);
	if (box->index_fd != -1)
		close(box->index_fd);
	if (box->meta_loaded)
		mailbox_meta_free(&box->meta);
	free(box->recs);
	free(box->msgs);
	free(box->locs);
	free(box->name);
	free(box->path);
	free(box->index_path);
	free(box);
}

/* ------------------------------------------------------------------ */
/* the view                                                             */
/* ------------------------------------------------------------------ */

void
mailbox_view_reserve(struct mailbox *box, unsigned int count)
{
	if (count <= box->cap)
		return;
	box->cap = count + count / 4 + 16;
	box->msgs = i_realloc(box->msgs, box->cap * sizeof(*box->msgs));
	box->locs = i_realloc(box->locs, box->cap * sizeof(*box->locs));
}

void
mailbox_view_fill(struct store_msg *msg, struct view_loc *loc,
		  const struct mail_rec *rec)
{
	msg->uid = rec->uid;
	msg->flags = rec->flags;
	msg->size = rec->size;
	msg->internal_date = rec->internal_date;
	msg->save_date = rec->save_date;
	msg->modseq = rec->modseq;
	loc->offset = rec->offset + rec->hdr_len;
}

/* (Re)opens the .mbox file the view reads; the lock is held, so its
   inode is the one box->hdr describes. */
int
mailbox_view_open_file(struct mailbox *box)
{
	struct stat st;
	int fd;

	if (box->format != MAILBOX_FORMAT_MBOX)
		return 0;
	fd = open(box->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return store_set_syscall_error("open", box->path);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return store_set_syscall_error("fstat", box->path);
	}
	if (box->view_fd != -1)
		close(box->view_fd);
	box->view_fd = fd;
	box->view_ino = (uint64_t)st.st_ino;
	return 0;
}

static void
view_load(struct mailbox *box)
{
	unsigned int i;

	mailbox_view_reserve(box, box->rec_count);
	for (i = 0; i < box->rec_count; i++)
		mailbox_view_fill(&box->msgs[i], &box->locs[i], &box->recs[i]);
	box->count = box->rec_count;
	box->view_uidvalidity = box->hdr.uidvalidity;
	box->view_uidnext = box->hdr.uidnext;
	box->view_highestmodseq = box->hdr.highestmodseq;
	box->view_generation = box->hdr.generation;
	box->view_modify_generation = box->hdr.modify_generation;
	box->view_expunged = 0;
}

int
store_mailbox_open(struct account *account, const char *name,
		   struct mailbox **box_r)
{
	struct mailbox *box;
	int ret;

	if (mailbox_alloc(account, name, &box) < 0)
		return -1;
	if (mailbox_lock(box, false, true) < 0) {
		mailbox_free(&box);
		return -1;
	}
	ret = mailbox_view_open_file(box);
	if (ret == 0)
		view_load(box);
	mailbox_unlock(box);
	if (ret < 0) {
		mailbox_free(&box);
		return -1;
	}
	box->view_opened = true;
	*box_r = box;
	return 0;
}

void
store_mailbox_close(struct mailbox **box)
{
	mailbox_free(box);
}

const char *
store_mailbox_name(struct mailbox *box)
{
	return box->name;
}

enum mailbox_format
store_mailbox_format(struct mailbox *box)
{
	return box->format;
}

struct account *
store_mailbox_account(struct mailbox *box)
{
	return box->account;
}

void
store_mailbox_get_status(struct mailbox *box, struct mailbox_status *status_r)
{
	unsigned int i;

	memset(status_r, 0, sizeof(*status_r));
	status_r->uidvalidity = box->view_uidvalidity;
	status_r->uidnext = box->view_uidnext;
	status_r->highestmodseq = box->view_highestmodseq;
	status_r->messages = box->count;
	for (i = 0; i < box->count; i++) {
		if ((box->msgs[i].flags & STORE_FLAG_SEEN) == 0)
			status_r->unseen++;
		if ((box->msgs[i].flags & STORE_FLAG_DELETED) != 0)
			status_r->deleted++;
		status_r->bytes += box->msgs[i].size;
	}
}

int
store_mailbox_status(struct account *account, const char *name,
		     struct mailbox_status *status_r)
{
	struct mailbox *box;

	if (mailbox_alloc(account, name, &box) < 0)
		return -1;
	if (mailbox_lock(box, false, false) < 0) {
		mailbox_free(&box);
		return -1;
	}
	memset(status_r, 0, sizeof(*status_r));
	status_r->uidvalidity = box->hdr.uidvalidity;
	status_r->uidnext = box->hdr.uidnext;
	status_r->highestmodseq = box->hdr.highestmodseq;
	status_r->messages = box->hdr.record_count;
	status_r->unseen = box->hdr.unseen;
	status_r->deleted = box->hdr.deleted;
	status_r->bytes = box->hdr.bytes;
	mailbox_unlock(box);
	mailbox_free(&box);
	return 0;
}

unsigned int
store_mailbox_count(struct mailbox *box)
{
	return box->count;
}

const struct store_msg *
store_mailbox_msgs(struct mailbox *box)
{
	return box->msgs;
}

uint32_t
store_mailbox_seq(struct mailbox *box, uint32_t uid)
{
	unsigned int lo = 0, hi = box->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (box->msgs[mid].uid == uid)
			return mid + 1;
		if (box->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* keywords                                                             */
/* ------------------------------------------------------------------ */

unsigned int
store_mailbox_keyword_count(struct mailbox *box)
{
	return box->meta.keyword_count;
}

const char *
store_mailbox_keyword_name(struct mailbox *box, unsigned int i)
{
	return i < box->meta.keyword_count ? box->meta.keywords[i] : NULL;
}

static int
keyword_find(const struct mailbox_meta *meta, const char *name)
{
	unsigned int i;

	for (i = 0; i < meta->keyword_count; i++) {
		if (strcasecmp(meta->keywords[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* RFC 3501 flag-keyword = atom; not a system flag. */
static int
keyword_check(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > STORE_KEYWORD_NAME_MAX)
		return store_set_error(STORE_ERROR_INVALID,
				       "Invalid keyword length");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return store_set_error(STORE_ERROR_INVALID,
					       "Invalid keyword: %s", name);
	}
	return 0;
}

int
mailbox_keyword_get(struct mailbox *box, const char *name, bool create,
		    unsigned int *index_r)
{
	int i, ret;

	if ((i = keyword_find(&box->meta, name)) >= 0) {
		*index_r = (unsigned int)i;
		return 0;
	}
	if (!create)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "No such keyword: %s", name);
	if (keyword_check(name) < 0)
		return -1;
	if (account_lock(box->account, true) < 0)
		return -1;
	/* Another handle may have added keywords: read them again. */
	ret = mailbox_meta_load(box);
	if (ret == 0 && (i = keyword_find(&box->meta, name)) < 0) {
		if (box->meta.keyword_count >= STORE_KEYWORDS_MAX) {
			ret = store_set_error(STORE_ERROR_NOT_POSSIBLE,
				"Too many keywords in mailbox %s", box->name);
		} else {
			i = (int)box->meta.keyword_count;
			box->meta.keywords[i] = i_strdup(name);
			box->meta.keyword_count++;
			ret = account_mailbox_meta_set(box->account, box->name,
						       &box->meta);
			if (ret < 0)
				(void)mailbox_meta_load(box);
			else if (box->keywords_tracking &&
				 box->keywords_undo > (unsigned int)i)
				box->keywords_undo = (unsigned int)i;
		}
	}
	account_unlock(box->account);
	if (ret < 0)
		return -1;
	*index_r = (unsigned int)i;
	return 0;
}

void
mailbox_keywords_begin(struct mailbox *box)
{
	i_assert(box->account->lock_exclusive);
	box->keywords_tracking = true;
	box->keywords_undo = UINT_MAX;
}

void
mailbox_keywords_end(struct mailbox *box, bool failed)
{
	enum store_error code;
	const char *text;
	char *saved;

	box->keywords_tracking = false;
	if (!failed || box->keywords_undo >= box->meta.keyword_count)
		return;
	code = store_error(&text);
	saved = i_strdup(text);
	while (box->meta.keyword_count > box->keywords_undo) {
		box->meta.keyword_count--;
		i_free(box->meta.keywords[box->meta.keyword_count]);
	}
	if (account_mailbox_meta_set(box->account, box->name,
				     &box->meta) < 0) {
		log_warnx("%s: keywords of a failed change stay", box->path);
		(void)mailbox_meta_load(box);
	}
	store_set_error(code, "%s", saved);
	free(saved);
}

int
store_mailbox_keyword_lookup(struct mailbox *box, const char *name,
			     bool create, unsigned int *index_r)
{
	return mailbox_keyword_get(box, name, create, index_r);
}

/* ------------------------------------------------------------------ */
/* reading                                                              */
/* ------------------------------------------------------------------ */

static int
read_exact(int fd, const char *path, uint64_t offset, uint64_t size,
	   buf_t *out)
{
	size_t done;

	buf_reserve(out, (size_t)size);
	if (fmt_pread(fd, out->data + out->len, (size_t)size, offset,
		      &done) < 0)
		return store_set_syscall_error("pread", path);
	if (done != size)
		return store_set_error(STORE_ERROR_CORRUPT,
				       "%s: message at offset %llu is cut short",
				       path, (unsigned long long)offset);
	out->len += (size_t)size;
	out->data[out->len] = '\0';
	return 0;
}

/* Opens the .mdir file of the view's message i: its name may have
   changed (flags) since the view was made, so on ENOENT the index is
   read again for the current name. */
static int
mdir_view_open(struct mailbox *box, unsigned int i)
{
	struct mail_rec rec;
	int fd, pos;

	memset(&rec, 0, sizeof(rec));
	rec.uid = box->msgs[i].uid;
	rec.flags = box->msgs[i].flags;
	rec.internal_date = box->msgs[i].internal_date;
	if (box->recs_loaded &&
	    (pos = mail_recs_find(box->recs, box->rec_count, rec.uid)) >= 0)
		rec = box->recs[pos];
	fd = mdir_msg_open(box->path, &rec);
	if (fd != -1 || errno != ENOENT)
		return fd;
	if (mailbox_lock(box, false, true) < 0)
		return -1;
	pos = mail_recs_find(box->recs, box->rec_count, rec.uid);
	fd = pos < 0 ? -1 : mdir_msg_open(box->path, &box->recs[pos]);
	mailbox_unlock(box);
	if (fd == -1 && (pos < 0 || errno == ENOENT))
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "Message %u was expunged", rec.uid);
	return fd;
}

static int
view_index(struct mailbox *box, uint32_t uid, unsigned int *i_r)
{
	uint32_t seq = store_mailbox_seq(box, uid);

	if (seq == 0)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "No message with UID %u", uid);
	*i_r = seq - 1;
	if (box->format == MAILBOX_FORMAT_MBOX &&
	    box->locs[*i_r].offset == VIEW_LOC_GONE)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "Message %u was expunged", uid);
	return 0;
}

void
store_mailbox_release_file(struct mailbox *box)
{
	if (box->view_fd != -1) {
		close(box->view_fd);
		box->view_fd = -1;
	}
}

/* The .mbox file the view's offsets are in, reopened after
   store_mailbox_release_file(); when it was replaced meanwhile (an
   expunge rewrote it) those offsets mean nothing there: the messages
   count as expunged until the next sync switches the view. */
static int
view_fd_get(struct mailbox *box)
{
	struct stat st;
	int fd;

	if (box->view_fd != -1)
		return box->view_fd;
	fd = open(box->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		return store_set_syscall_error("open", box->path);
	if (fd != -1 && fstat(fd, &st) == -1) {
		close(fd);
		return store_set_syscall_error("fstat", box->path);
	}
	if (fd == -1 || (uint64_t)st.st_ino != box->view_ino) {
		if (fd != -1)
			close(fd);
		return store_set_error(STORE_ERROR_NOT_FOUND,
			"Mailbox %s changed; its messages are read again "
			"after the next sync", box->name);
	}
	box->view_fd = fd;
	return fd;
}

int
store_mailbox_msg_read(struct mailbox *box, uint32_t uid, buf_t *out)
{
	unsigned int i;
	int fd, ret;

	if (view_index(box, uid, &i) < 0)
		return -1;
	if (box->format == MAILBOX_FORMAT_MBOX)
		return view_fd_get(box) == -1 ? -1 :
			read_exact(box->view_fd, box->path,
				   box->locs[i].offset, box->msgs[i].size, out);
	if ((fd = mdir_view_open(box, i)) == -1)
		return -1;
	ret = read_exact(fd, box->path, 0, box->msgs[i].size, out);
	close(fd);
	return ret;
}

int
store_mailbox_msg_fd(struct mailbox *box, uint32_t uid, int *fd_r,
		     off_t *offset_r, uint64_t *size_r)
{
	unsigned int i;
	int fd;

	if (view_index(box, uid, &i) < 0)
		return -1;
	if (box->format == MAILBOX_FORMAT_MBOX) {
		if (view_fd_get(box) == -1)
			return -1;
		fd = fcntl(box->view_fd, F_DUPFD_CLOEXEC, 0);
		if (fd == -1)
			return store_set_syscall_error("dup", box->path);
		*offset_r = (off_t)box->locs[i].offset;
	} else {
		if ((fd = mdir_view_open(box, i)) == -1)
			return -1;
		*offset_r = 0;
	}
	*fd_r = fd;
	*size_r = box->msgs[i].size;
	return 1;
}

int
mailbox_read_rec(struct mailbox *box, int mbox_fd, const struct mail_rec *rec,
		 buf_t *out, char **return_path_r)
{
	unsigned char line[MBOX_SEPARATOR_MAX];
	struct mbox_sep sep;
	int fd, ret;

	*return_path_r = NULL;
	if (box->format == MAILBOX_FORMAT_MBOX) {
		if (mbox_read_sep(mbox_fd, box->path, rec, line, &sep) < 0)
			return -1;
		*return_path_r = i_strndup((const char *)line + sep.rp_off,
					   sep.rp_len);
		return read_exact(mbox_fd, box->path, rec->offset + rec->hdr_len,
				  rec->size, out);
	}
	fd = mdir_msg_open(box->path, rec);
	if (fd == -1) {
		if (errno == ENOENT)
			return store_set_error(STORE_ERROR_CORRUPT,
				"%s: message file of uid %u is missing",
				box->path, rec->uid);
		return -1;
	}
	ret = read_exact(fd, box->path, 0, rec->size, out);
	close(fd);
	return ret;
}
