/* SPDX-License-Identifier: MIT */
/*
 * mailbox-update.c: changing messages in place: flags and keywords, and
 * expunge. Both run under the exclusive lock on a fresh copy of the
 * index records, mark the index dirty, change the files durably (mbox:
 * flags pwritten into their separator field, or a rewrite; mdir:
 * renames or unlinks and one directory fsync), then write the records.
 * Every change gets a new MODSEQ. Part of the store (see
 * mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Changed records are written one by one up to this many, else as one
   range. */
#define UPDATE_SCATTER_MAX 64

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t ua = *(const uint32_t *)a, ub = *(const uint32_t *)b;

	return ua < ub ? -1 : ua > ub;
}

/* A sorted copy of uids without duplicates; *count_io updated. */
static uint32_t *
uids_sorted(const uint32_t *uids, unsigned int *count_io)
{
	unsigned int i, n = 0, count = *count_io;
	uint32_t *out = i_malloc((count + 1) * sizeof(*out));

	memcpy(out, uids, count * sizeof(*out));
	qsort(out, count, sizeof(*out), uid_cmp);
	for (i = 0; i < count; i++) {
		if (n == 0 || out[n - 1] != out[i])
			out[n++] = out[i];
	}
	*count_io = n;
	return out;
}

static int
open_mbox_rw(struct mailbox *box)
{
	int fd = vfs_open(box->path, O_RDWR, 0);

	if (fd == -1)
		store_set_syscall_error("open", box->path);
	return fd;
}

/* ------------------------------------------------------------------ */
/* flags                                                                */
/* ------------------------------------------------------------------ */

struct flag_change {
	unsigned int *pos;      /* into box->recs */
	uint32_t *flags;        /* the new flags */
	struct mail_rec *old;   /* the records as they were */
	unsigned int count;
};

/* Resolves keyword names into bits (created unless removing). */
static int
keyword_bits(struct mailbox *box, const char *const *keywords, bool create,
	     uint32_t *bits_io)
{
	unsigned int i, kw;

	for (i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (mailbox_keyword_get(box, keywords[i], create, &kw) == 0) {
			*bits_io |= STORE_FLAG_KEYWORD(kw);
		} else if (create) {
			return -1;
		} else {
			store_clear_error();
		}
	}
	return 0;
}

static uint32_t
apply_mode(uint32_t old, enum store_flags_mode mode, uint32_t flags)
{
	switch (mode) {
	case STORE_FLAGS_ADD:
		return old | flags;
	case STORE_FLAGS_REMOVE:
		return old & ~flags;
	case STORE_FLAGS_REPLACE:
		return flags;
	}
	i_panic("bad flags mode %d", (int)mode);
}

static void
collect_changes(struct mailbox *box, const uint32_t *uids, unsigned int count,
		enum store_flags_mode mode, uint32_t flags,
		uint64_t unchangedsince, struct uid_array *failed_r,
		struct flag_change *ch)
{
	unsigned int i;
	uint32_t new_flags;
	int pos;

	memset(ch, 0, sizeof(*ch));
	ch->pos = i_malloc((count + 1) * sizeof(*ch->pos));
	ch->flags = i_malloc((count + 1) * sizeof(*ch->flags));
	ch->old = i_malloc((count + 1) * sizeof(*ch->old));
	for (i = 0; i < count; i++) {
		pos = mail_recs_find(box->recs, box->rec_count, uids[i]);
		if (pos < 0)
			continue;
		/* RFC 7162 §3.1.3: leave messages changed since */
		if (unchangedsince != 0 &&
		    box->recs[pos].modseq > unchangedsince) {
			if (failed_r != NULL)
				uid_array_add(failed_r, uids[i]);
			continue;
		}
		new_flags = apply_mode(box->recs[pos].flags, mode, flags);
		if (new_flags == box->recs[pos].flags)
			continue;
		ch->pos[ch->count] = (unsigned int)pos;
		ch->flags[ch->count] = new_flags;
		ch->old[ch->count] = box->recs[pos];
		ch->count++;
	}
}

static void
flag_change_free(struct flag_change *ch)
{
	free(ch->pos);
	free(ch->flags);
	free(ch->old);
}

/* .mbox: in place when every new flag set fits its field, else one
   rewrite of the file with all records. */
static int
write_mbox_flags(struct mailbox *box, const struct flag_change *ch,
		 bool *rewritten_r)
{
	struct mail_rec *all;
	unsigned int i;
	int fd, ret;
	bool fit = true;

	*rewritten_r = false;
	for (i = 0; i < ch->count && fit; i++)
		fit = mbox_flags_fit(&ch->old[i], ch->flags[i]);
	if ((fd = open_mbox_rw(box)) == -1)
		return -1;
	if (fit) {
		ret = mbox_write_flags(fd, box->path, ch->old, ch->flags,
				       ch->count);
		close(fd);
		return ret;
	}
	all = i_malloc((box->rec_count + 1) * sizeof(*all));
	memcpy(all, box->recs, box->rec_count * sizeof(*all));
	for (i = 0; i < ch->count; i++)
		all[ch->pos[i]].flags = ch->flags[i];
	ret = mbox_rewrite(fd, box->path, all, box->rec_count);
	close(fd);
	if (ret == 0) {
		/* new offsets; flags and modseqs are set by the caller */
		for (i = 0; i < box->rec_count; i++) {
			box->recs[i].offset = all[i].offset;
			box->recs[i].hdr_len = all[i].hdr_len;
			box->recs[i].flags_off = all[i].flags_off;
			box->recs[i].flags_len = all[i].flags_len;
		}
		*rewritten_r = true;
	}
	free(all);
	return ret;
}

static void
commit_flags(struct mailbox *box, const struct flag_change *ch,
	     uint64_t modseq, bool rewritten)
{
	unsigned int i, lo = UINT32_MAX, hi = 0;
	int fd;

	for (i = 0; i < ch->count; i++) {
		struct mail_rec *rec = &box->recs[ch->pos[i]];

		index_hdr_add(&box->hdr, rec, -1);
		rec->flags = ch->flags[i];
		rec->modseq = modseq;
		index_hdr_add(&box->hdr, rec, 1);
		if (ch->pos[i] < lo)
			lo = ch->pos[i];
		if (ch->pos[i] > hi)
			hi = ch->pos[i];
	}
	box->hdr.highestmodseq = modseq;
	if (rewritten) {
		mailbox_index_commit(box, box->recs, 0, box->rec_count,
				     INDEX_COMMIT_REWRITE);
	} else if (ch->count <= UPDATE_SCATTER_MAX) {
		/* the few changed records, then the header */
		fd = box->index_fd;
		for (i = 0; fd != -1 && i < ch->count; i++) {
			if (index_write_recs(fd, box->index_path, ch->pos[i],
					     &box->recs[ch->pos[i]], 1) < 0)
				fd = -1;
		}
		if (fd != -1) {
			mailbox_index_commit(box, NULL, 0, 0,
					     INDEX_COMMIT_MODIFY);
		} else {
			/* the index stays marked dirty: rebuilt next time */
			store_clear_error();
			box->hdr_valid = false;
			box->recs_loaded = false;
		}
	} else {
		mailbox_index_commit(box, box->recs + lo, lo, hi - lo + 1,
				     INDEX_COMMIT_MODIFY);
	}
}

int
store_mailbox_update_flags(struct mailbox *box, const uint32_t *uids,
			   unsigned int count, enum store_flags_mode mode,
			   uint32_t flags, const char *const *keywords,
			   uint64_t unchangedsince,
			   struct uid_array *failed_r)
{
	struct flag_change ch;
	uint64_t modseq;
	uint32_t *sorted;
	bool rewritten = false;
	int ret;

	flags &= STORE_FLAGS_SYSTEM;
	if (count == 0)
		return keyword_bits(box, keywords, mode != STORE_FLAGS_REMOVE,
				    &flags);
	if (mailbox_lock(box, true, true) < 0)
		return -1;
	/* under the lock: a change that fails takes its keywords back */
	mailbox_keywords_begin(box);
	if (keyword_bits(box, keywords, mode != STORE_FLAGS_REMOVE,
			 &flags) < 0) {
		mailbox_keywords_end(box, true);
		mailbox_unlock(box);
		return -1;
	}
	sorted = uids_sorted(uids, &count);
	collect_changes(box, sorted, count, mode, flags, unchangedsince,
			failed_r, &ch);
	ret = 0;
	if (ch.count > 0) {
		modseq = mailbox_next_modseq(box);
		ret = mailbox_index_mark(box, INDEX_DIRTY);
		if (ret == 0 && box->format == MAILBOX_FORMAT_MBOX)
			ret = write_mbox_flags(box, &ch, &rewritten);
		else if (ret == 0)
			ret = mdir_write_flags(box->path, ch.old, ch.flags,
					       ch.count);
		if (ret == 0)
			commit_flags(box, &ch, modseq, rewritten);
		else
			box->hdr_valid = false;
	}
	mailbox_keywords_end(box, ret < 0);
	mailbox_unlock(box);
	flag_change_free(&ch);
	free(sorted);
	return ret;
}

/* ------------------------------------------------------------------ */
/* expunge                                                              */
/* ------------------------------------------------------------------ */

/*
 * UIDs are never reused, even when every index is lost: the files show
 * the highest UID still present, account.info's UIDNEXT covers the ones
 * expunged. So before the message with the highest UID goes, UIDNEXT is
 * saved there.
 */
static int
save_uidnext(struct mailbox *box, uint64_t modseq)
{
	if (mailbox_meta_load(box) < 0)
		return -1;
	if (box->meta.uidnext >= box->hdr.uidnext &&
	    box->meta.highestmodseq >= modseq)
		return 0;
	if (box->meta.uidnext < box->hdr.uidnext)
		box->meta.uidnext = box->hdr.uidnext;
	if (box->meta.highestmodseq < modseq)
		box->meta.highestmodseq = modseq;
	return account_mailbox_meta_set(box->account, box->name, &box->meta);
}

int
mailbox_expunge_locked(struct mailbox *box, const uint32_t *uids,
		       unsigned int count, bool only_deleted,
		       struct uid_array *expunged_r)
{
	struct mail_rec *keep, *gone;
	unsigned int i, nkeep = 0, ngone = 0, nuids = count;
	uint32_t *sorted = uids == NULL ? NULL : uids_sorted(uids, &nuids);
	uint64_t modseq;
	int fd, ret = 0;

	i_assert(box->recs_loaded && box->account->lock_exclusive);
	keep = i_malloc((box->rec_count + 1) * sizeof(*keep));
	gone = i_malloc((box->rec_count + 1) * sizeof(*gone));
	for (i = 0; i < box->rec_count; i++) {
		const struct mail_rec *rec = &box->recs[i];
		bool sel = sorted == NULL ||
			bsearch(&rec->uid, sorted, nuids, sizeof(*sorted),
				uid_cmp) != NULL;

		if (sel && (!only_deleted ||
			    (rec->flags & STORE_FLAG_DELETED) != 0))
			gone[ngone++] = *rec;
		else
			keep[nkeep++] = *rec;
	}
	if (ngone == 0)
		goto out;
	modseq = mailbox_next_modseq(box);
	if (gone[ngone - 1].uid == box->recs[box->rec_count - 1].uid)
		ret = save_uidnext(box, modseq);
	if (ret == 0)
		ret = expunge_log_append_recs(box, gone, ngone, modseq);
	if (ret == 0)
		ret = mailbox_index_mark(box, INDEX_DIRTY);
	if (ret == 0 && box->format == MAILBOX_FORMAT_MBOX) {
		if ((fd = open_mbox_rw(box)) == -1) {
			ret = -1;
		} else {
			ret = mbox_rewrite(fd, box->path, keep, nkeep);
			close(fd);
		}
	} else if (ret == 0) {
		ret = mdir_expunge(box->path, gone, ngone);
	}
	if (ret < 0) {
		box->hdr_valid = false;
		goto out;
	}
	free(box->recs);
	box->recs = keep;
	box->rec_count = nkeep;
	box->rec_cap = nkeep + 1;
	keep = NULL;
	index_hdr_count(&box->hdr, box->recs, box->rec_count);
	box->hdr.highestmodseq = modseq;
	mailbox_index_commit(box, box->recs, 0, box->rec_count,
			     INDEX_COMMIT_REWRITE);
	for (i = 0; expunged_r != NULL && i < ngone; i++)
		uid_array_add(expunged_r, gone[i].uid);
out:
	expunge_log_end(box, ret < 0);
	free(keep);
	free(gone);
	free(sorted);
	return ret;
}

int
store_mailbox_expunge(struct mailbox *box, const uint32_t *uids,
		      unsigned int count, struct uid_array *expunged_r)
{
	int ret;

	if (uids != NULL && count == 0)
		return 0;
	if (mailbox_lock(box, true, true) < 0)
		return -1;
	ret = mailbox_expunge_locked(box, uids, count, true, expunged_r);
	mailbox_unlock(box);
	return ret;
}
