/* SPDX-License-Identifier: MIT */
/*
 * mailbox-save.c: adding messages: append (several at once, all or
 * nothing), delivery without a view, copy and move. Every path is
 *   exclusive lock -> index marked "appending" -> files written and
 *   synced (mbox: one write per message + one fdatasync; mdir: temp
 *   file, fsync, rename, one directory fsync per batch) -> index records
 *   and header -> header cache records (one write, not synced) -> unlock,
 * so a crash leaves either the old state or complete new messages, which
 * the next refresh finds by parsing the tail (their cache records are
 * then missing or torn, and readers compute them). Part of the store
 * (see mailbox-private.h).
 */
#include "mailbox-private.h"
#include "store-quota-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A copy reads at most this much into memory before writing it. */
#define COPY_CHUNK_BYTES (32u * 1024 * 1024)
#define COPY_CHUNK_MSGS 1024u

struct append_ctx {
	struct mailbox *box;
	int mbox_fd;
	uint64_t start_size;    /* mbox: the file size before */
	uint64_t end;           /* mbox: where the next record goes */
	struct mail_rec *recs;
	unsigned int count, cap;
	uint32_t next_uid;
	uint64_t modseq;
	/* header cache records of what was written */
	struct cache_saved cache;
};

/* Converts the public arguments; keywords are created in box's table
   (under the exclusive lock, after mailbox_keywords_begin, so a save
   that fails takes them back). */
static int
save_prepare(struct mailbox *box, const struct store_append *msgs,
	     unsigned int count, struct fmt_msg *out)
{
	unsigned int i, j, kw;

	for (i = 0; i < count; i++) {
		const struct store_append *m = &msgs[i];
		struct fmt_msg *f = &out[i];

		if (m->len > STORE_MESSAGE_MAX)
			return store_set_error(STORE_ERROR_INVALID,
				"Message too large (%zu bytes, at most %u)",
				m->len, STORE_MESSAGE_MAX);
		if (m->data == NULL && m->len > 0)
			return store_set_error(STORE_ERROR_INVALID,
					       "Message has no data");
		memset(f, 0, sizeof(*f));
		f->data = m->data;
		f->len = m->len;
		f->flags = m->flags & STORE_FLAGS_SYSTEM;
		f->internal_date = m->internal_date != 0 ? m->internal_date :
			(int64_t)time(NULL);
		if (!fmt_date_valid(f->internal_date))
			return store_set_error(STORE_ERROR_INVALID,
					       "Internal date out of range");
		if (mbox_return_path_check(m->return_path) < 0)
			return -1;
		f->return_path = m->return_path;
		for (j = 0; m->keywords != NULL && m->keywords[j] != NULL; j++) {
			if (mailbox_keyword_get(box, m->keywords[j], true,
						&kw) < 0)
				return -1;
			f->flags |= STORE_FLAG_KEYWORD(kw);
		}
	}
	return 0;
}

/* The account's quota for count prepared messages (store-quota.h). */
static int
save_quota_check(struct mailbox *box, const struct fmt_msg *msgs,
		 unsigned int count)
{
	uint64_t bytes = 0;
	unsigned int i;

	for (i = 0; i < count; i++)
		bytes += msgs[i].len;
	return quota_check_add(box, bytes, count);
}

static int
append_begin(struct append_ctx *ctx, struct mailbox *box)
{
	struct stat st;

	memset(ctx, 0, sizeof(*ctx));
	ctx->box = box;
	ctx->mbox_fd = -1;
	i_assert(box->hdr_valid && box->account->lock_exclusive);
	ctx->next_uid = box->hdr.uidnext > box->meta.uidnext ?
		box->hdr.uidnext : box->meta.uidnext;
	ctx->modseq = mailbox_next_modseq(box);
	if (box->format == MAILBOX_FORMAT_MBOX) {
		ctx->mbox_fd = vfs_open(box->path, O_RDWR, 0);
		if (ctx->mbox_fd == -1)
			return store_set_syscall_error("open", box->path);
		if (fstat(ctx->mbox_fd, &st) == -1)
			return store_set_syscall_error("fstat", box->path);
		/* the refresh under this lock made them agree */
		if ((uint64_t)st.st_ino != box->hdr.ident.ino ||
		    (uint64_t)st.st_size != box->hdr.ident.size)
			return store_set_error(STORE_ERROR_TEMP,
				"%s changed outside the account lock",
				box->path);
		ctx->start_size = ctx->end = (uint64_t)st.st_size;
	}
	return mailbox_index_mark(box, INDEX_APPENDING);
}

/* Writes msgs (durably) with the next UIDs and collects their header
   cache records: vals[i] when known[i] (a copy's source had it), else
   computed from the message. */
static int
append_chunk(struct append_ctx *ctx, struct fmt_msg *msgs, unsigned int n,
	     const buf_t *vals, const bool *known)
{
	struct mailbox *box = ctx->box;
	struct mail_rec *recs;
	unsigned int i;

	if (n == 0)
		return 0;
	if (ctx->next_uid > UINT32_MAX - n)
		return store_set_error(STORE_ERROR_NOT_POSSIBLE,
			"Mailbox %s has used up its UIDs", box->name);
	if (ctx->count + n > ctx->cap) {
		ctx->cap = (ctx->count + n) * 2;
		ctx->recs = i_realloc(ctx->recs,
				      ctx->cap * sizeof(*ctx->recs));
	}
	for (i = 0; i < n; i++)
		msgs[i].uid = ctx->next_uid + i;
	recs = ctx->recs + ctx->count;
	if (box->format == MAILBOX_FORMAT_MBOX) {
		if (mbox_append(ctx->mbox_fd, box->path, ctx->end, msgs, n,
				recs) < 0)
			return -1;
		ctx->end = recs[n - 1].offset + recs[n - 1].hdr_len +
			recs[n - 1].size + 1;
	} else if (mdir_append(box->path, msgs, n, recs) < 0) {
		return -1;
	}
	ctx->next_uid += n;
	ctx->count += n;
	for (i = 0; i < n; i++) {
		if (known != NULL && known[i]) {
			mailbox_cache_saved_add_value(&ctx->cache, msgs[i].uid,
						      vals[i].data, vals[i].len);
		} else {
			mailbox_cache_saved_add(&ctx->cache, msgs[i].uid,
						msgs[i].data, msgs[i].len,
						msgs[i].link_path);
		}
	}
	return 0;
}

/* Removes earlier chunks of a failed batch (each was made durable). */
static void
append_rollback(struct append_ctx *ctx)
{
	struct mailbox *box = ctx->box;

	box->hdr_valid = false;
	if (ctx->count == 0)
		return;
	if (box->format == MAILBOX_FORMAT_MBOX) {
		if (vfs_ftruncate(ctx->mbox_fd, (off_t)ctx->start_size) == -1 ||
		    vfs_fdatasync(ctx->mbox_fd) == -1)
			log_warn("%s: ftruncate after a failed append",
				 box->path);
	} else if (mdir_expunge(box->path, ctx->recs, ctx->count) < 0) {
		log_warnx("%s: could not remove a failed append", box->path);
	}
}

static void
append_commit(struct append_ctx *ctx, uint32_t *uids_r)
{
	struct mailbox *box = ctx->box;
	unsigned int i, first = box->hdr.record_count;
	int64_t now = (int64_t)time(NULL);

	for (i = 0; i < ctx->count; i++) {
		ctx->recs[i].modseq = ctx->modseq;
		ctx->recs[i].save_date = now;
		index_hdr_add(&box->hdr, &ctx->recs[i], 1);
		if (uids_r != NULL)
			uids_r[i] = ctx->recs[i].uid;
	}
	box->hdr.uidnext = ctx->next_uid;
	if (ctx->count > 0)
		box->hdr.highestmodseq = ctx->modseq;
	if (box->recs_loaded && ctx->count > 0) {
		if (box->rec_count + ctx->count > box->rec_cap) {
			box->rec_cap = (box->rec_count + ctx->count) * 2;
			box->recs = i_realloc(box->recs, box->rec_cap *
					      sizeof(*box->recs));
		}
		memcpy(box->recs + box->rec_count, ctx->recs,
		       ctx->count * sizeof(*ctx->recs));
		box->rec_count += ctx->count;
	}
	mailbox_index_commit(box, ctx->recs, first, ctx->count,
			     INDEX_COMMIT_APPEND);
}

static void
append_end(struct append_ctx *ctx)
{
	if (ctx->mbox_fd != -1)
		close(ctx->mbox_fd);
	free(ctx->recs);
	ctx->recs = NULL;
	mailbox_cache_saved_deinit(&ctx->cache);
}

int
mailbox_append_locked(struct mailbox *box, const struct fmt_msg *msgs,
		      unsigned int count, uint32_t *uids_r)
{
	struct append_ctx ctx;
	struct fmt_msg *copy;
	int ret;

	copy = i_malloc((count + 1) * sizeof(*copy));
	memcpy(copy, msgs, count * sizeof(*copy));
	ret = append_begin(&ctx, box);
	if (ret == 0)
		ret = append_chunk(&ctx, copy, count, NULL, NULL);
	if (ret == 0) {
		append_commit(&ctx, uids_r);
		mailbox_cache_saved_write(box, &ctx.cache);
	} else {
		append_rollback(&ctx);
	}
	append_end(&ctx);
	free(copy);
	return ret;
}

int
store_mailbox_append(struct mailbox *box, const struct store_append *msgs,
		     unsigned int count, uint32_t *uids_r)
{
	struct fmt_msg *fmsgs;
	int ret;

	if (count == 0)
		return 0;
	fmsgs = i_malloc(count * sizeof(*fmsgs));
	ret = mailbox_lock(box, true, false);
	if (ret == 0) {
		mailbox_keywords_begin(box);
		ret = save_prepare(box, msgs, count, fmsgs);
		if (ret == 0)
			ret = save_quota_check(box, fmsgs, count);
		if (ret == 0)
			ret = mailbox_append_locked(box, fmsgs, count, uids_r);
		mailbox_keywords_end(box, ret < 0);
		mailbox_unlock(box);
	}
	free(fmsgs);
	return ret;
}

int
store_append_to(struct account *account, const char *mailbox_name,
		const struct store_append *msgs, unsigned int count,
		uint32_t *uids_r, uint32_t *uidvalidity_r)
{
	struct mailbox *box;
	int ret;

	if (mailbox_alloc(account, mailbox_name, &box) < 0)
		return -1;
	/* no view: only the index header is read, however big the
	   mailbox (a view would read every record, per APPEND) */
	ret = store_mailbox_append(box, msgs, count, uids_r);
	if (ret == 0 && uidvalidity_r != NULL)
		*uidvalidity_r = box->hdr_valid ? box->hdr.uidvalidity :
			box->meta.uidvalidity;
	mailbox_free(&box);
	return ret;
}

int
store_deliver(struct account *account, const char *mailbox_name,
	      const struct store_append *msg, uint32_t *uid_r)
{
	struct mailbox *box;
	struct fmt_msg fmsg;
	uint32_t uid;
	int ret;

	if (mailbox_alloc(account, mailbox_name, &box) < 0)
		return -1;
	/* only the index header is read: cheap on huge mailboxes */
	ret = mailbox_lock(box, true, false);
	if (ret == 0) {
		mailbox_keywords_begin(box);
		ret = save_prepare(box, msg, 1, &fmsg);
		if (ret == 0)
			ret = save_quota_check(box, &fmsg, 1);
		if (ret == 0)
			ret = mailbox_append_locked(box, &fmsg, 1, &uid);
		mailbox_keywords_end(box, ret < 0);
		mailbox_unlock(box);
	}
	mailbox_free(&box);
	if (ret == 0 && uid_r != NULL)
		*uid_r = uid;
	return ret;
}

/* ------------------------------------------------------------------ */
/* copy and move                                                        */
/* ------------------------------------------------------------------ */

struct copy_chunk {
	struct fmt_msg msgs[COPY_CHUNK_MSGS];
	buf_t bufs[COPY_CHUNK_MSGS];
	char *strs[COPY_CHUNK_MSGS];
	unsigned int pos[COPY_CHUNK_MSGS];     /* index into uids[] */
	/* the source's header cache values, where it had them loaded */
	buf_t vals[COPY_CHUNK_MSGS];
	bool known[COPY_CHUNK_MSGS];
	unsigned int n;
	size_t bytes;
};

static void
chunk_reset(struct copy_chunk *chunk)
{
	unsigned int i;

	for (i = 0; i < chunk->n; i++) {
		buf_deinit(&chunk->bufs[i]);
		buf_deinit(&chunk->vals[i]);
		i_free(chunk->strs[i]);
	}
	chunk->n = 0;
	chunk->bytes = 0;
}

/* Maps src's keyword bits to dest's table (creating names there). */
static int
copy_flags(struct mailbox *src, struct mailbox *dest, uint32_t flags,
	   uint32_t *flags_r)
{
	uint32_t out = flags & STORE_FLAGS_SYSTEM;
	unsigned int i, kw;

	for (i = 0; i < STORE_KEYWORDS_MAX; i++) {
		if ((flags & STORE_FLAG_KEYWORD(i)) == 0 ||
		    i >= src->meta.keyword_count)
			continue;
		if (src == dest) {
			out |= STORE_FLAG_KEYWORD(i);
		} else if (mailbox_keyword_get(dest, src->meta.keywords[i],
					       true, &kw) == 0) {
			out |= STORE_FLAG_KEYWORD(kw);
		} else if (store_error(NULL) != STORE_ERROR_NOT_POSSIBLE) {
			/* account.info could not be written: the copy
			   fails rather than lose the keyword */
			return -1;
		} else {
			/* dest's keyword table is full: the keyword is lost
			   in the copy, the message is not */
			log_debug("%s: keyword %s not copied", dest->path,
				  src->meta.keywords[i]);
			store_clear_error();
		}
	}
	*flags_r = out;
	return 0;
}

/* Adds src's record rec to the chunk: a hard link between .mdir
   mailboxes, else the bytes. */
static int
chunk_add(struct copy_chunk *chunk, struct mailbox *src, int src_fd,
	  const struct mail_rec *rec, struct mailbox *dest, unsigned int pos)
{
	struct fmt_msg *f = &chunk->msgs[chunk->n];
	buf_t *buf = &chunk->bufs[chunk->n];
	uint32_t flags;

	if (copy_flags(src, dest, rec->flags, &flags) < 0)
		return -1;
	memset(f, 0, sizeof(*f));
	buf_init(buf);
	chunk->strs[chunk->n] = NULL;
	chunk->pos[chunk->n] = pos;
	f->flags = flags;
	f->internal_date = rec->internal_date;
	if (src->format == MAILBOX_FORMAT_MDIR &&
	    dest->format == MAILBOX_FORMAT_MDIR) {
		chunk->strs[chunk->n] = mdir_msg_path(src->path, rec);
		f->link_path = chunk->strs[chunk->n];
		f->len = (size_t)rec->size;
	} else {
		if (mailbox_read_rec(src, src_fd, rec, buf,
				     &chunk->strs[chunk->n]) < 0) {
			buf_deinit(buf);
			i_free(chunk->strs[chunk->n]);
			return -1;
		}
		f->data = buf->data;
		f->len = buf->len;
		f->return_path = chunk->strs[chunk->n];
		chunk->bytes += buf->len;
	}
	buf_init(&chunk->vals[chunk->n]);
	chunk->known[chunk->n] = mailbox_cache_peek(src, rec->uid,
						    &chunk->vals[chunk->n]);
	chunk->n++;
	return 0;
}

static int
chunk_flush(struct copy_chunk *chunk, struct append_ctx *ctx,
	    uint32_t *dest_uids_r)
{
	unsigned int i, first = ctx->count;
	int ret;

	ret = append_chunk(ctx, chunk->msgs, chunk->n, chunk->vals,
			   chunk->known);
	for (i = 0; ret == 0 && i < chunk->n; i++)
		dest_uids_r[chunk->pos[i]] = ctx->recs[first + i].uid;
	chunk_reset(chunk);
	return ret;
}

/* Both locked exclusively; src->recs loaded. Missing UIDs get 0. The
   copies' header cache records go to *cache_r, for the caller to write
   once nothing can fail any more. */
static int
copy_locked(struct mailbox *src, const uint32_t *uids, unsigned int count,
	    struct mailbox *dest, uint32_t *dest_uids_r,
	    struct cache_saved *cache_r)
{
	struct copy_chunk *chunk = i_malloc(sizeof(*chunk));
	struct append_ctx ctx;
	unsigned int i;
	int pos, src_fd = -1, ret = 0;

	memset(dest_uids_r, 0, count * sizeof(*dest_uids_r));
	if (src->format == MAILBOX_FORMAT_MBOX &&
	    (src_fd = open(src->path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(chunk);
		return store_set_syscall_error("open", src->path);
	}
	ret = append_begin(&ctx, dest);
	for (i = 0; i < count && ret == 0; i++) {
		pos = mail_recs_find(src->recs, src->rec_count, uids[i]);
		if (pos < 0)
			continue;
		ret = chunk_add(chunk, src, src_fd, &src->recs[pos], dest, i);
		if (ret == 0 && (chunk->n == COPY_CHUNK_MSGS ||
				 chunk->bytes >= COPY_CHUNK_BYTES))
			ret = chunk_flush(chunk, &ctx, dest_uids_r);
	}
	if (ret == 0)
		ret = chunk_flush(chunk, &ctx, dest_uids_r);
	chunk_reset(chunk);
	if (ret == 0) {
		append_commit(&ctx, NULL);
		*cache_r = ctx.cache;
		memset(&ctx.cache, 0, sizeof(ctx.cache));
	} else {
		append_rollback(&ctx);
		memset(dest_uids_r, 0, count * sizeof(*dest_uids_r));
	}
	append_end(&ctx);
	if (src_fd != -1)
		close(src_fd);
	free(chunk);
	return ret;
}

/*
 * Locks src and dest exclusively. Two handles of one account share one
 * lock file, and flock() on a second fd of it would wait for ourselves:
 * dest then borrows src's handle for the duration (*saved_r).
 */
static int
copy_lock(struct mailbox *src, struct mailbox *dest, struct account **saved_r)
{
	struct mailbox *first = src, *second = dest;

	*saved_r = NULL;
	if (src->account != dest->account &&
	    strcmp(src->account->path, dest->account->path) == 0) {
		*saved_r = dest->account;
		dest->account = src->account;
	}
	if (src->account != dest->account &&
	    strcmp(src->account->path, dest->account->path) > 0) {
		first = dest;
		second = src;
	}
	if (mailbox_lock(first, true, first == src) < 0)
		goto fail;
	if (mailbox_lock(second, true, second == src) < 0) {
		mailbox_unlock(first);
		goto fail;
	}
	return 0;
fail:
	if (*saved_r != NULL)
		dest->account = *saved_r;
	return -1;
}

static void
copy_unlock(struct mailbox *src, struct mailbox *dest, struct account *saved)
{
	mailbox_unlock(dest);
	mailbox_unlock(src);
	if (saved != NULL)
		dest->account = saved;
}

/* Expunges from box the uids[i] whose message was copied (dest_uids[i]
   not 0): the originals of a move, or (uids = dest_uids) the copies. */
static int
move_expunge(struct mailbox *box, const uint32_t *uids, unsigned int count,
	     const uint32_t *dest_uids)
{
	uint32_t *moved = i_malloc((count + 1) * sizeof(*moved));
	unsigned int i, n = 0;
	int ret = 0;

	for (i = 0; i < count; i++) {
		if (dest_uids[i] != 0)
			moved[n++] = uids[i];
	}
	if (!box->recs_loaded || !box->hdr_valid)
		ret = mailbox_index_refresh(box, true, REFRESH_WRITE);
	if (ret == 0)
		ret = mailbox_expunge_locked(box, moved, n, false, NULL);
	free(moved);
	return ret;
}

/* The originals of a move could not be expunged: the copies go again
   (their UIDs stay used), so the failed move changes nothing. Should
   that fail too the messages are in both mailboxes, never in neither.
   The error of the failed expunge stays. */
static void
move_undo(struct mailbox *dest, const uint32_t *dest_uids,
	  unsigned int count)
{
	enum store_error code;
	const char *text;
	char *saved;

	code = store_error(&text);
	saved = i_strdup(text);
	/* the lock was held since the copy: nobody saw the copies */
	dest->exp_unlogged = true;
	if (move_expunge(dest, dest_uids, count, dest_uids) < 0)
		log_warnx("%s: a failed move leaves its copies here",
			  dest->path);
	dest->exp_unlogged = false;
	store_set_error(code, "%s", saved);
	free(saved);
}

/* The quota of dest's account for the messages of uids (src->recs
   loaded). A move within one account adds nothing, so it is not
   checked (RFC 9208 counts the account, not the mailbox). */
static int
copy_quota_check(struct mailbox *src, const uint32_t *uids,
		 unsigned int count, struct mailbox *dest, bool move)
{
	uint64_t bytes = 0, n = 0;
	unsigned int i;
	int pos;

	if (move && src->account == dest->account)
		return 0;
	for (i = 0; i < count; i++) {
		pos = mail_recs_find(src->recs, src->rec_count, uids[i]);
		if (pos >= 0) {
			bytes += src->recs[pos].size;
			n++;
		}
	}
	return quota_check_add(dest, bytes, n);
}

static int
copy_or_move(struct mailbox *box, const uint32_t *uids, unsigned int count,
	     struct mailbox *dest, uint32_t *dest_uids_r, bool move)
{
	struct cache_saved cache;
	struct account *saved;
	int ret;

	if (count == 0)
		return 0;
	if (copy_lock(box, dest, &saved) < 0)
		return -1;
	memset(&cache, 0, sizeof(cache));
	mailbox_keywords_begin(dest);
	ret = copy_quota_check(box, uids, count, dest, move);
	if (ret == 0)
		ret = copy_locked(box, uids, count, dest, dest_uids_r, &cache);
	/* dest may be another handle of box's own mailbox: box's view then
	   lacks the copies, and an expunge through it would rewrite them
	   away with the originals. Reload it (the lock is held). */
	if (ret == 0 && move && strcmp(box->index_path, dest->index_path) == 0)
		box->hdr_valid = false;
	if (ret == 0 && move &&
	    move_expunge(box, uids, count, dest_uids_r) < 0) {
		move_undo(dest, dest_uids_r, count);
		memset(dest_uids_r, 0, count * sizeof(*dest_uids_r));
		ret = -1;
	}
	mailbox_keywords_end(dest, ret < 0);
	/* a failed move took its copies back: no records for them */
	if (ret == 0)
		mailbox_cache_saved_write(dest, &cache);
	mailbox_cache_saved_deinit(&cache);
	copy_unlock(box, dest, saved);
	return ret;
}

int
store_mailbox_copy(struct mailbox *box, const uint32_t *uids,
		   unsigned int count, struct mailbox *dest,
		   uint32_t *dest_uids_r)
{
	return copy_or_move(box, uids, count, dest, dest_uids_r, false);
}

int
store_mailbox_move(struct mailbox *box, const uint32_t *uids,
		   unsigned int count, struct mailbox *dest,
		   uint32_t *dest_uids_r)
{
	return copy_or_move(box, uids, count, dest, dest_uids_r, true);
}
