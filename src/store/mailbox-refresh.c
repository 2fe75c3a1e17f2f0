/* SPDX-License-Identifier: MIT */
/*
 * mailbox-refresh.c: deciding whether a mailbox's index can be trusted,
 * and repairing the files and rebuilding the index when it cannot.
 *
 * The index is used as is when its header is clean and names the files'
 * current identity (inode, size, mtime). When an .mbox only grew since a
 * clean (or "appending") index, only the tail is parsed. Anything else
 * rebuilds the index from the files, reusing the modseq and save date of
 * records that still match the files exactly when the old records are
 * readable. Repairs of the files happen here too, under the exclusive
 * lock: a torn .mbox tail is truncated, stray .mdir temp files removed,
 * duplicate or out-of-order UIDs renumbered. Part of the store (see
 * mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Repairs are retried this often before settling for memory. */
#define REFRESH_TRIES 3

static uint64_t
now_usecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Every MODSEQ handed out is at least the wall clock in microseconds, so
 * an index rebuilt after being lost (which cannot know the old
 * HIGHESTMODSEQ) still never goes backwards, as long as the clock does
 * not. meta.highestmodseq (saved now and then) covers a clock set back.
 */
uint64_t
mailbox_next_modseq(struct mailbox *box)
{
	uint64_t m = box->hdr.highestmodseq + 1, now = now_usecs();

	if (box->meta.highestmodseq >= m)
		m = box->meta.highestmodseq + 1;
	return now > m ? now : m;
}

int
mailbox_meta_load(struct mailbox *box)
{
	struct mailbox_meta meta;

	if (account_mailbox_meta_get(box->account, box->name, &meta) < 0)
		return -1;
	if (box->meta_loaded)
		mailbox_meta_free(&box->meta);
	box->meta = meta;
	box->meta_loaded = true;
	return 0;
}

static int
files_ident(struct mailbox *box, struct file_ident *ident_r)
{
	if (file_ident_get(box->path, ident_r) == 0)
		return 0;
	if (errno == ENOENT)
		return store_set_error(STORE_ERROR_NOT_FOUND,
				       "Mailbox %s does not exist", box->name);
	return store_set_syscall_error("stat", box->path);
}

static int
index_rw_fd(struct mailbox *box)
{
	if (box->index_fd != -1)
		return box->index_fd;
	box->index_fd = vfs_open(box->index_path, O_RDWR | O_CREAT, 0600);
	if (box->index_fd == -1)
		return store_set_syscall_error("open", box->index_path);
	return box->index_fd;
}

/* Takes ownership of recs. */
static void
box_set_recs(struct mailbox *box, struct mail_rec *recs, unsigned int count,
	     unsigned int cap)
{
	free(box->recs);
	box->recs = recs;
	box->rec_count = count;
	box->rec_cap = cap;
	box->recs_loaded = true;
}

/* ------------------------------------------------------------------ */
/* using a valid index                                                  */
/* ------------------------------------------------------------------ */

static bool
hdr_current(const struct mailbox *box, const struct index_hdr *hdr,
	    const struct file_ident *cur)
{
	return hdr->dirty == INDEX_CLEAN && hdr->format == box->format &&
		hdr->uidvalidity == box->meta.uidvalidity &&
		file_ident_equal(&hdr->ident, cur);
}

/* Records agree with their header: counters, and .mbox offsets inside
   the file and ascending. */
static bool
recs_consistent(const struct index_hdr *hdr, const struct mail_rec *recs)
{
	struct index_hdr tmp = *hdr;
	uint64_t end = 0;
	unsigned int i;

	index_hdr_count(&tmp, recs, hdr->record_count);
	if (tmp.unseen != hdr->unseen || tmp.deleted != hdr->deleted ||
	    tmp.bytes != hdr->bytes)
		return false;
	if (hdr->format != MAILBOX_FORMAT_MBOX)
		return true;
	for (i = 0; i < hdr->record_count; i++) {
		if (recs[i].offset < end || recs[i].hdr_len == 0)
			return false;
		end = recs[i].offset + recs[i].hdr_len + recs[i].size + 1;
	}
	return end <= hdr->ident.size;
}

static bool
same_state(const struct index_hdr *a, const struct index_hdr *b)
{
	return a->generation == b->generation &&
		a->highestmodseq == b->highestmodseq &&
		a->record_count == b->record_count;
}

/* Only records were added since old (the records we hold). */
static bool
appended_only(const struct index_hdr *old, const struct index_hdr *hdr)
{
	return hdr->modify_generation == old->modify_generation &&
		hdr->uidvalidity == old->uidvalidity &&
		hdr->format == old->format &&
		hdr->generation > old->generation &&
		hdr->record_count >= old->record_count;
}

/* Reads just the records appended since box->hdr: a session in a busy
   100,000-message mailbox does not re-read it for every delivery.
   1 done, 0 damaged (read everything), -1 error. */
static int
load_appended(struct mailbox *box, int fd, const struct index_hdr *hdr)
{
	struct index_hdr tmp = box->hdr;
	unsigned int i, first = box->rec_count;
	uint64_t end = 0;
	int ret;

	i_assert(first == box->hdr.record_count);
	if (hdr->record_count + 1 > box->rec_cap) {
		box->rec_cap = hdr->record_count + hdr->record_count / 4 + 16;
		box->recs = i_realloc(box->recs,
				      box->rec_cap * sizeof(*box->recs));
	}
	ret = index_read_recs_from(fd, hdr, first, first == 0 ? 0 :
				   box->recs[first - 1].uid, box->recs);
	if (ret <= 0)
		return ret;
	if (first > 0) {
		end = box->recs[first - 1].offset +
			box->recs[first - 1].hdr_len +
			box->recs[first - 1].size + 1;
	}
	for (i = first; i < hdr->record_count; i++) {
		index_hdr_add(&tmp, &box->recs[i], 1);
		if (hdr->format == MAILBOX_FORMAT_MBOX &&
		    box->recs[i].offset < end)
			return 0;
		end = box->recs[i].offset + box->recs[i].hdr_len +
			box->recs[i].size + 1;
	}
	if (tmp.record_count != hdr->record_count ||
	    tmp.unseen != hdr->unseen || tmp.deleted != hdr->deleted ||
	    tmp.bytes != hdr->bytes ||
	    (hdr->format == MAILBOX_FORMAT_MBOX && end > hdr->ident.size))
		return 0;
	box->rec_count = hdr->record_count;
	return 1;
}

/* 1 used, 0 the records are damaged, -1 error. */
static int
use_index(struct mailbox *box, int fd, const struct index_hdr *hdr,
	  bool want_recs)
{
	struct mail_rec *recs;
	int ret;

	if (box->recs_loaded &&
	    (!box->hdr_valid || !same_state(&box->hdr, hdr))) {
		/* keep loaded records current when that is cheap */
		ret = 0;
		if (box->hdr_valid && appended_only(&box->hdr, hdr))
			ret = load_appended(box, fd, hdr);
		if (ret < 0)
			return -1;
		if (ret == 0)
			box->recs_loaded = false;
	}
	if (want_recs && !box->recs_loaded) {
		ret = index_read_recs(fd, hdr, &recs);
		if (ret <= 0)
			return ret;
		if (!recs_consistent(hdr, recs)) {
			free(recs);
			return 0;
		}
		box_set_recs(box, recs, hdr->record_count,
			     hdr->record_count + 1);
	}
	box->hdr = *hdr;
	box->hdr_valid = true;
	if (hdr->keyword_count > box->meta.keyword_count)
		return mailbox_meta_load(box) < 0 ? -1 : 1;
	return 1;
}

/* ------------------------------------------------------------------ */
/* writing the index                                                    */
/* ------------------------------------------------------------------ */

int
mailbox_index_mark(struct mailbox *box, enum index_dirty dirty)
{
	struct index_hdr hdr = box->hdr;
	int fd;

	i_assert(box->hdr_valid);
	if ((fd = index_rw_fd(box)) == -1)
		return -1;
	hdr.dirty = dirty;
	if (index_write_hdr(fd, box->index_path, &hdr) < 0)
		return -1;
	box->hdr.dirty = dirty;
	return 0;
}

void
mailbox_index_commit(struct mailbox *box, const struct mail_rec *recs,
		     unsigned int first, unsigned int count,
		     enum index_commit kind)
{
	struct file_ident cur;
	off_t end;
	int fd;

	if (files_ident(box, &cur) < 0)
		goto fail;
	box->hdr.ident = cur;
	box->hdr.generation++;
	if (kind != INDEX_COMMIT_APPEND)
		box->hdr.modify_generation = box->hdr.generation;
	box->hdr.dirty = INDEX_CLEAN;
	box->hdr.keyword_count = box->meta.keyword_count;
	if ((fd = index_rw_fd(box)) == -1)
		goto fail;
	if (count > 0 &&
	    index_write_recs(fd, box->index_path, first, recs, count) < 0)
		goto fail;
	if (index_write_hdr(fd, box->index_path, &box->hdr) < 0)
		goto fail;
	end = MAILBOX_INDEX_HEADER_SIZE +
		(off_t)box->hdr.record_count * MAILBOX_INDEX_RECORD_SIZE;
	if (kind == INDEX_COMMIT_REWRITE && vfs_ftruncate(fd, end) == -1)
		log_warn("%s: ftruncate", box->index_path);
	return;
fail:
	/* The change is durable in the mailbox files; the index stays
	   marked dirty and the next refresh rebuilds it. */
	log_warnx("%s: index not updated, it will be rebuilt",
		  box->index_path);
	box->hdr_valid = false;
	box->recs_loaded = false;
	store_clear_error();
}

/* ------------------------------------------------------------------ */
/* .mbox tail                                                           */
/* ------------------------------------------------------------------ */

/* Whether the .mbox only grew after what old describes. */
static bool
tail_applies(const struct index_hdr *old, const struct file_ident *cur)
{
	if (old->ident.ino != cur->ino || old->dirty == INDEX_DIRTY ||
	    cur->size < old->ident.size)
		return false;
	return cur->size > old->ident.size || old->dirty == INDEX_APPENDING;
}

static int
tail_scan(struct mailbox *box, int mbox_fd, const struct index_hdr *old,
	  uint32_t last_uid, struct fmt_scan *scan)
{
	struct stat st;

	if (fstat(mbox_fd, &st) == -1)
		return store_set_syscall_error("fstat", box->path);
	if ((uint64_t)st.st_ino != old->ident.ino ||
	    (uint64_t)st.st_size < old->ident.size)
		return 0;
	if (mbox_scan(mbox_fd, box->path, old->ident.size,
		      (uint64_t)st.st_size, last_uid, scan, NULL) < 0)
		return -1;
	if (scan->problems > 0 || scan->bad_uids > 0)
		return 0;
	if (scan->torn) {
		log_warnx("%s: removing a torn record at offset %llu "
			  "(an append that never completed)", box->path,
			  (unsigned long long)scan->end);
		if (mbox_truncate(mbox_fd, box->path, scan->end) < 0)
			return -1;
	}
	return 1;
}

/*
 * Parses what was appended to the .mbox after the index was last clean
 * and adds it to the index. Returns 1 done, 0 not applicable (rebuild),
 * -1 error.
 */
static int
repair_tail(struct mailbox *box, int old_fd, const struct index_hdr *old)
{
	struct fmt_scan scan;
	struct mail_rec last;
	uint32_t last_uid = 0;
	unsigned int i;
	int mbox_fd, ret;

	if (old->record_count > 0) {
		if (index_read_rec(old_fd, old->record_count - 1, &last) != 1 ||
		    last.offset + last.hdr_len + last.size + 1 > old->ident.size)
			return 0;
		last_uid = last.uid;
	}
	mbox_fd = vfs_open(box->path, O_RDWR, 0);
	if (mbox_fd == -1)
		return store_set_syscall_error("open", box->path);
	fmt_scan_init(&scan);
	ret = tail_scan(box, mbox_fd, old, last_uid, &scan);
	close(mbox_fd);
	if (ret <= 0) {
		fmt_scan_deinit(&scan);
		return ret;
	}
	box->hdr = *old;
	box->hdr_valid = true;
	box->recs_loaded = false;
	if (scan.count > 0) {
		uint64_t modseq = mailbox_next_modseq(box);
		int64_t now = (int64_t)time(NULL);

		for (i = 0; i < scan.count; i++) {
			scan.recs[i].modseq = modseq;
			scan.recs[i].save_date = now;
			index_hdr_add(&box->hdr, &scan.recs[i], 1);
		}
		box->hdr.highestmodseq = modseq;
		if (box->hdr.uidnext <= scan.recs[scan.count - 1].uid)
			box->hdr.uidnext = scan.recs[scan.count - 1].uid + 1;
	}
	if (box->hdr.uidnext < box->meta.uidnext)
		box->hdr.uidnext = box->meta.uidnext;
	mailbox_index_commit(box, scan.recs, old->record_count, scan.count,
			     INDEX_COMMIT_APPEND);
	fmt_scan_deinit(&scan);
	return box->hdr_valid ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* full rebuild                                                         */
/* ------------------------------------------------------------------ */

struct rebuild {
	struct mailbox *box;
	bool persist;
	struct fmt_scan scan;
	int mbox_fd;
	struct mail_rec *old_recs;
	unsigned int old_count;
	uint32_t uidnext;
	uint64_t modseq;
};

static int
rebuild_scan(struct rebuild *rb)
{
	struct mailbox *box = rb->box;
	struct stat st;

	if (box->format == MAILBOX_FORMAT_MDIR)
		return mdir_scan(box->path, rb->persist, &rb->scan, NULL);
	rb->mbox_fd = rb->persist ? vfs_open(box->path, O_RDWR, 0) :
		open(box->path, O_RDONLY | O_CLOEXEC);
	if (rb->mbox_fd == -1) {
		if (errno == ENOENT)
			return store_set_error(STORE_ERROR_NOT_FOUND,
				"Mailbox %s does not exist", box->name);
		return store_set_syscall_error("open", box->path);
	}
	if (fstat(rb->mbox_fd, &st) == -1)
		return store_set_syscall_error("fstat", box->path);
	if (mbox_scan(rb->mbox_fd, box->path, 0, (uint64_t)st.st_size, 0,
		      &rb->scan, NULL) < 0)
		return -1;
	if (rb->scan.problems > 0) {
		log_warnx("%s: %u problems while parsing (see commune check)",
			  box->path, rb->scan.problems);
	}
	if (rb->scan.torn && rb->persist) {
		log_warnx("%s: removing a torn record at offset %llu "
			  "(an append that never completed)", box->path,
			  (unsigned long long)rb->scan.end);
		return mbox_truncate(rb->mbox_fd, box->path, rb->scan.end);
	}
	return 0;
}

/* Splits scan.recs into records whose UID is above every earlier one
   (kept in place) and the others, which get new UIDs at the end. */
static unsigned int
renumber_split(struct rebuild *rb, struct mail_rec *out)
{
	struct fmt_scan *scan = &rb->scan;
	unsigned int i, good = 0, bad = 0, nbad = scan->bad_uids;
	uint32_t max = 0;

	for (i = 0; i < scan->count; i++) {
		if (scan->recs[i].uid > max) {
			max = scan->recs[i].uid;
			out[good++] = scan->recs[i];
		} else {
			out[scan->count - nbad + bad++] = scan->recs[i];
		}
	}
	i_assert(good + bad == scan->count && bad == nbad);
	return good;
}

static int
rebuild_renumber(struct rebuild *rb)
{
	struct mailbox *box = rb->box;
	struct fmt_scan *scan = &rb->scan;
	struct mail_rec *recs;
	uint32_t *new_uids;
	unsigned int i, good;
	int ret = 0;

	if (scan->bad_uids == 0)
		return 0;
	recs = i_malloc((scan->count + 1) * sizeof(*recs));
	good = renumber_split(rb, recs);
	if (!rb->persist) {
		/* read-only: leave them out until a writer renumbers them */
		free(scan->recs);
		scan->recs = recs;
		scan->count = good;
		return 0;
	}
	if (rb->uidnext > UINT32_MAX - (scan->count - good)) {
		free(recs);
		return store_set_error(STORE_ERROR_CORRUPT,
				       "%s: UIDs exhausted", box->path);
	}
	log_warnx("%s: %u messages with duplicate or out-of-order UIDs get "
		  "new UIDs from %u", box->path, scan->count - good,
		  rb->uidnext);
	new_uids = i_malloc(scan->count * sizeof(*new_uids));
	for (i = good; i < scan->count; i++)
		new_uids[i] = rb->uidnext++;
	if (box->format == MAILBOX_FORMAT_MDIR) {
		ret = mdir_change_uids(box->path, recs + good, new_uids + good,
				       scan->count - good);
	}
	for (i = good; i < scan->count; i++)
		recs[i].uid = new_uids[i];
	if (ret == 0 && box->format == MAILBOX_FORMAT_MBOX)
		ret = mbox_rewrite(rb->mbox_fd, box->path, recs, scan->count);
	free(new_uids);
	free(scan->recs);
	scan->recs = recs;
	return ret;
}

/* Takes modseq, save date (and for .mdir the size) from the old record
   of the same message when it still matches the files, else fills them
   in fresh. */
static int
rebuild_merge(struct rebuild *rb)
{
	struct mailbox *box = rb->box;
	bool mdir = box->format == MAILBOX_FORMAT_MDIR;
	unsigned int i;
	int j, dirfd = -1, ret = 0;

	if (mdir && (dirfd = open(box->path, O_RDONLY | O_DIRECTORY |
				  O_CLOEXEC)) == -1)
		return store_set_syscall_error("open", box->path);
	for (i = 0; i < rb->scan.count && ret == 0; i++) {
		struct mail_rec *rec = &rb->scan.recs[i];
		const struct mail_rec *old;

		j = rb->old_recs == NULL ? -1 :
			mail_recs_find(rb->old_recs, rb->old_count, rec->uid);
		old = j < 0 ? NULL : &rb->old_recs[j];
		if (old != NULL && old->flags == rec->flags &&
		    old->internal_date == rec->internal_date &&
		    (mdir || old->size == rec->size)) {
			rec->modseq = old->modseq;
			rec->save_date = old->save_date;
			if (mdir)
				rec->size = old->size;
			continue;
		}
		rec->modseq = rb->modseq;
		if (mdir)
			ret = mdir_stat_rec(dirfd, box->path, rec);
	}
	if (dirfd != -1)
		close(dirfd);
	return ret;
}

static void
rebuild_save_meta(struct rebuild *rb)
{
	struct mailbox *box = rb->box;

	/* account.info learns the UIDVALIDITY (it may never have been
	   saved), UIDNEXT and HIGHESTMODSEQ. */
	box->meta.uidnext = box->hdr.uidnext;
	box->meta.highestmodseq = box->hdr.highestmodseq;
	if (account_mailbox_meta_set(box->account, box->name, &box->meta) < 0) {
		log_warnx("%s: could not save UIDNEXT to account.info",
			  box->path);
		store_clear_error();
	}
}

static int
rebuild_finish(struct rebuild *rb, const struct index_hdr *old)
{
	struct mailbox *box = rb->box;
	struct file_ident cur;
	int fd;

	if (files_ident(box, &cur) < 0)
		return -1;
	memset(&box->hdr, 0, sizeof(box->hdr));
	box->hdr.uidvalidity = box->meta.uidvalidity;
	box->hdr.uidnext = rb->uidnext;
	box->hdr.highestmodseq = rb->modseq;
	box->hdr.generation = old != NULL && old->generation >= rb->modseq ?
		old->generation + 1 : rb->modseq;
	box->hdr.modify_generation = box->hdr.generation;
	box->hdr.format = box->format;
	box->hdr.ident = cur;
	box->hdr.keyword_count = box->meta.keyword_count;
	index_hdr_count(&box->hdr, rb->scan.recs, rb->scan.count);
	box->hdr_valid = true;
	box_set_recs(box, rb->scan.recs, rb->scan.count, rb->scan.cap);
	rb->scan.recs = NULL;
	rb->scan.count = rb->scan.cap = 0;
	if (!rb->persist)
		return 0;
	rebuild_save_meta(rb);
	if ((fd = index_rw_fd(box)) == -1 ||
	    index_write_all(fd, box->index_path, &box->hdr, box->recs) < 0) {
		log_warnx("%s: could not write the rebuilt index",
			  box->index_path);
		store_clear_error();
	}
	return 0;
}

static uint32_t
rebuild_uidnext(struct rebuild *rb, const struct index_hdr *old)
{
	uint32_t uidnext = rb->box->meta.uidnext;
	unsigned int i;

	if (old != NULL && old->uidnext > uidnext)
		uidnext = old->uidnext;
	for (i = 0; i < rb->scan.count; i++) {
		if (rb->scan.recs[i].uid >= uidnext)
			uidnext = rb->scan.recs[i].uid + 1;
	}
	return uidnext == 0 ? 1 : uidnext;
}

/*
 * Rebuilds box->hdr and box->recs from the files. old (may be NULL) is a
 * readable header of the same mailbox whose records may be reused. With
 * persist (exclusive lock) the files are repaired and the index and
 * account.info written; without, nothing is written.
 */
static int
rebuild_full(struct mailbox *box, int old_fd, const struct index_hdr *old,
	     bool persist)
{
	struct rebuild rb;
	int ret;

	memset(&rb, 0, sizeof(rb));
	rb.box = box;
	rb.persist = persist;
	rb.mbox_fd = -1;
	fmt_scan_init(&rb.scan);
	if (old != NULL && (old->uidvalidity != box->meta.uidvalidity ||
			    old->format != box->format))
		old = NULL;
	if (old != NULL && old_fd != -1 &&
	    index_read_recs(old_fd, old, &rb.old_recs) == 1)
		rb.old_count = old->record_count;
	box->hdr_valid = false;
	box->recs_loaded = false;
	/* modseq from the old header, which may be higher than the meta */
	if (old != NULL && old->highestmodseq > box->hdr.highestmodseq)
		box->hdr.highestmodseq = old->highestmodseq;
	rb.modseq = mailbox_next_modseq(box);
	ret = rebuild_scan(&rb);
	if (ret == 0) {
		rb.uidnext = rebuild_uidnext(&rb, old);
		ret = rebuild_renumber(&rb);
	}
	if (ret == 0)
		ret = rebuild_merge(&rb);
	if (ret == 0)
		ret = rebuild_finish(&rb, old);
	if (ret == 0 && persist)
		expunge_log_rebuilt(box, old, rb.old_recs, rb.old_count);
	if (rb.mbox_fd != -1)
		close(rb.mbox_fd);
	free(rb.old_recs);
	fmt_scan_deinit(&rb.scan);
	return ret;
}

/* ------------------------------------------------------------------ */
/* refresh                                                              */
/* ------------------------------------------------------------------ */

/* Returns 0 done, 1 repair needed (READ), 2 repaired on disk (look
   again), -1 error. */
static int
refresh_once(struct mailbox *box, bool want_recs, enum refresh_mode mode)
{
	struct index_hdr hdr;
	struct file_ident cur;
	bool hdr_ok = false;
	int fd, ret;

	if (files_ident(box, &cur) < 0)
		return -1;
	fd = open(box->index_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		return store_set_syscall_error("open", box->index_path);
	ret = fd == -1 ? 0 : index_read_hdr(fd, &hdr);
	if (ret < 0)
		goto out;
	hdr_ok = ret == 1;
	/* Without a usable index the meta may be stale too: the name may
	   now be a new mailbox (RENAME INBOX leaves a fresh one), whose
	   UIDVALIDITY a rebuild must not overwrite with the old one's. */
	if ((!hdr_ok || hdr.uidvalidity != box->meta.uidvalidity) &&
	    mailbox_meta_load(box) < 0) {
		ret = -1;
		goto out;
	}
	if (hdr_ok && hdr_current(box, &hdr, &cur)) {
		ret = use_index(box, fd, &hdr, want_recs);
		if (ret != 0) {
			ret = ret < 0 ? -1 : 0;
			goto out;
		}
		log_warnx("%s: corrupt index records, rebuilding",
			  box->index_path);
		hdr_ok = false;
	} else if (fd != -1 && !hdr_ok) {
		log_warnx("%s: corrupt index header, rebuilding",
			  box->index_path);
	}
	if (mode == REFRESH_READ) {
		ret = 1;
		goto out;
	}
	if (mode == REFRESH_WRITE && hdr_ok &&
	    box->format == MAILBOX_FORMAT_MBOX && hdr.format == box->format &&
	    hdr.uidvalidity == box->meta.uidvalidity &&
	    tail_applies(&hdr, &cur)) {
		ret = repair_tail(box, fd, &hdr);
		if (ret != 0) {
			ret = ret < 0 ? -1 : 2;
			goto out;
		}
	}
	ret = rebuild_full(box, fd, hdr_ok ? &hdr : NULL,
			   mode == REFRESH_WRITE);
out:
	if (fd != -1)
		close(fd);
	return ret;
}

int
mailbox_index_refresh(struct mailbox *box, bool want_recs,
		      enum refresh_mode mode)
{
	unsigned int try;
	int ret;

	for (try = 0; try < REFRESH_TRIES; try++) {
		ret = refresh_once(box, want_recs, mode);
		if (ret != 2)
			return ret;
	}
	return rebuild_full(box, -1, NULL, false);
}

int
mailbox_index_rebuild(struct mailbox *box)
{
	i_assert(box->account->lock_exclusive);
	if (box->index_fd != -1) {
		close(box->index_fd);
		box->index_fd = -1;
	}
	if (vfs_unlink(box->index_path) == -1 && errno != ENOENT)
		return store_set_syscall_error("unlink", box->index_path);
	box->hdr_valid = false;
	box->recs_loaded = false;
	return rebuild_full(box, -1, NULL, true);
}

/* ------------------------------------------------------------------ */
/* locking                                                              */
/* ------------------------------------------------------------------ */

int
mailbox_lock(struct mailbox *box, bool exclusive, bool want_recs)
{
	struct account *account = box->account;
	bool nested = account->lock_depth > 0;
	int ret;

	if (account_lock(account, exclusive) < 0)
		return -1;
	ret = mailbox_index_refresh(box, want_recs, account->lock_exclusive ?
				    REFRESH_WRITE : REFRESH_READ);
	if (ret == 1 && !nested) {
		/* A repair must write: upgrade (nobody else can be holding
		   our shared hold). */
		account_unlock(account);
		if (account_lock(account, true) < 0)
			return -1;
		ret = mailbox_index_refresh(box, want_recs, REFRESH_WRITE);
	} else if (ret == 1) {
		ret = mailbox_index_refresh(box, want_recs, REFRESH_MEMORY);
	}
	if (ret < 0) {
		mailbox_unlock(box);
		return -1;
	}
	return 0;
}

void
mailbox_unlock(struct mailbox *box)
{
	if (box->index_fd != -1) {
		close(box->index_fd);
		box->index_fd = -1;
	}
	account_unlock(box->account);
}
