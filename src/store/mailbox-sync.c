/* SPDX-License-Identifier: MIT */
/*
 * mailbox-sync.c: store_mailbox_sync, bringing a view up to date with the
 * index and reporting the difference the way IMAP needs it: UIDs that
 * left (EXPUNGE/VANISHED), how many were appended (EXISTS), which
 * changed flags or modseq (FETCH FLAGS). Both lists are in UID order, so
 * one merge pass does it. Part of the store (see mailbox-private.h).
 */
#include "mailbox-private.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
uid_array_add(struct uid_array *arr, uint32_t uid)
{
	if (arr->count == arr->cap) {
		arr->cap = arr->cap == 0 ? 16 : arr->cap * 2;
		arr->uids = i_realloc(arr->uids, arr->cap * sizeof(*arr->uids));
	}
	arr->uids[arr->count++] = uid;
}

void
uid_array_free(struct uid_array *arr)
{
	free(arr->uids);
	memset(arr, 0, sizeof(*arr));
}

void
store_mailbox_sync_result_free(struct mailbox_sync_result *result)
{
	uid_array_free(&result->expunged);
	uid_array_free(&result->changed);
	result->new_count = 0;
}

struct view_diff {
	struct store_msg *msgs;
	struct view_loc *locs;
	unsigned int count;
	unsigned int kept_expunged;
};

static void
diff_add_rec(struct view_diff *diff, const struct mail_rec *rec)
{
	unsigned int n = diff->count++;

	mailbox_view_fill(&diff->msgs[n], &diff->locs[n], rec);
}

/* Builds the new view from the old one and box->recs. */
static void
view_diff(struct mailbox *box, enum mailbox_sync_flags flags,
	  bool file_switched, struct mailbox_sync_result *res)
{
	struct store_msg *old_msgs = box->msgs;
	struct view_loc *old_locs = box->locs;
	unsigned int old_count = box->count;
	unsigned int i = 0, j = 0, cap;
	uint32_t max_uid = old_count == 0 ? 0 : old_msgs[old_count - 1].uid;
	struct view_diff diff;

	cap = (old_count > box->rec_count ? old_count : box->rec_count) + 16;
	memset(&diff, 0, sizeof(diff));
	diff.msgs = i_malloc(cap * sizeof(*diff.msgs));
	diff.locs = i_malloc(cap * sizeof(*diff.locs));
	while (i < old_count) {
		const struct store_msg *old = &old_msgs[i];

		/* a UID that appeared below the view's end cannot be shown
		   without renumbering sequences: skip it */
		while (j < box->rec_count && box->recs[j].uid < old->uid)
			j++;
		if (j < box->rec_count && box->recs[j].uid == old->uid) {
			if (box->recs[j].flags != old->flags ||
			    box->recs[j].modseq != old->modseq)
				uid_array_add(&res->changed, old->uid);
			diff_add_rec(&diff, &box->recs[j]);
			j++;
		} else if ((flags & MAILBOX_SYNC_FLAG_NO_EXPUNGES) != 0) {
			diff.msgs[diff.count] = *old;
			diff.locs[diff.count].offset = file_switched ?
				VIEW_LOC_GONE : old_locs[i].offset;
			diff.count++;
			diff.kept_expunged++;
		} else {
			uid_array_add(&res->expunged, old->uid);
		}
		i++;
	}
	for (; j < box->rec_count; j++) {
		if (box->recs[j].uid > max_uid) {
			diff_add_rec(&diff, &box->recs[j]);
			res->new_count++;
		}
	}
	free(old_msgs);
	free(old_locs);
	box->msgs = diff.msgs;
	box->locs = diff.locs;
	box->count = diff.count;
	box->cap = cap;
	box->view_expunged = diff.kept_expunged;
}

/* Only messages were added since the view was made: they are appended
   without going over the whole view. false when that does not hold. */
static bool
view_append_only(struct mailbox *box, bool file_switched,
		 struct mailbox_sync_result *res)
{
	unsigned int i, n = box->count;

	if (file_switched || box->view_expunged > 0 ||
	    box->view_modify_generation != box->hdr.modify_generation ||
	    n > box->rec_count ||
	    (n > 0 && box->recs[n - 1].uid != box->msgs[n - 1].uid))
		return false;
	mailbox_view_reserve(box, box->rec_count);
	for (i = n; i < box->rec_count; i++)
		mailbox_view_fill(&box->msgs[i], &box->locs[i], &box->recs[i]);
	box->count = box->rec_count;
	res->new_count = box->rec_count - n;
	return true;
}

int
store_mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags,
		   struct mailbox_sync_result *result_r)
{
	struct mailbox_sync_result dummy, *res;
	bool switched = false;

	res = result_r != NULL ? result_r : &dummy;
	memset(res, 0, sizeof(*res));
	if (mailbox_lock(box, false, true) < 0)
		return -1;
	if (box->hdr.uidvalidity != box->view_uidvalidity) {
		mailbox_unlock(box);
		return store_set_error(STORE_ERROR_NOT_POSSIBLE,
			"Mailbox %s was recreated (UIDVALIDITY changed)",
			box->name);
	}
	if (box->hdr.generation == box->view_generation &&
	    box->hdr.highestmodseq == box->view_highestmodseq &&
	    (box->view_expunged == 0 ||
	     (flags & MAILBOX_SYNC_FLAG_NO_EXPUNGES) != 0)) {
		mailbox_unlock(box);
		return 0;
	}
	if (box->format == MAILBOX_FORMAT_MBOX &&
	    box->hdr.ident.ino != box->view_ino) {
		if (mailbox_view_open_file(box) < 0) {
			mailbox_unlock(box);
			return -1;
		}
		switched = true;
	}
	if (!view_append_only(box, switched, res))
		view_diff(box, flags, switched, res);
	box->view_uidnext = box->hdr.uidnext;
	box->view_highestmodseq = box->hdr.highestmodseq;
	box->view_generation = box->hdr.generation;
	box->view_modify_generation = box->hdr.modify_generation;
	mailbox_unlock(box);
	if (result_r == NULL)
		store_mailbox_sync_result_free(&dummy);
	return 0;
}

const char *
store_mailbox_watch_path(struct mailbox *box)
{
	return box->index_path;
}

bool
store_mailbox_changed(struct mailbox *box)
{
	struct index_hdr hdr;
	int fd, ret;

	fd = open(box->index_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return true;
	ret = index_read_hdr(fd, &hdr);
	close(fd);
	store_clear_error();
	/* a header being rewritten reads as invalid: report a change */
	return ret != 1 || hdr.dirty != INDEX_CLEAN ||
		hdr.generation != box->view_generation ||
		hdr.highestmodseq != box->view_highestmodseq;
}
