/* SPDX-License-Identifier: MIT */
/*
 * imap-seqset.h: IMAP sequence sets (RFC 3501 §9 sequence-set: "1",
 * "2:4", "5:*", "1,3:*") and their resolution against the UIDs a session
 * knows. Part of src/imap; no I/O.
 */
#ifndef IMAP_SEQSET_H
#define IMAP_SEQSET_H

#include "lib.h"

struct uid_array;

/* Ranges per set (a long set from a client that keeps UIDs). */
#define IMAP_SEQSET_RANGES_MAX 100000
/* '*' in a parsed range: 0, never a number of a set (RFC 3501 §9
   nz-number), so 4294967295 stays a UID and does not mean '*'. */
#define IMAP_SEQSET_STAR 0

struct imap_seq_range {
	uint32_t first, last;   /* first <= last after parsing ('*' first) */
};

struct imap_seqset {
	struct imap_seq_range *ranges;
	unsigned int count;
	/* "$": the saved search result (RFC 5182); no ranges */
	bool dollar;
};

/* Parses str: 0 and *set_r (free with imap_seqset_free), or -1 when
   it is not a valid sequence set (0 is never valid). "$" alone is the
   saved search result (SEARCHRES). */
int imap_seqset_parse(const char *str, struct imap_seqset *set_r);
void imap_seqset_free(struct imap_seqset *set);

/*
 * The UIDs of uids[0..count) (ascending: the session's view) that set
 * names, ascending and once each, appended to out. With uid the set
 * holds UIDs ('*' is the highest UID; UIDs not in the view are left
 * out); otherwise sequence numbers ('*' is count; nothing at all in an
 * empty view). Returns 0, or -1 when a sequence number is beyond count
 * (the client's mistake: BAD). For "$" the UIDs of saved (ascending; may
 * be NULL) still in the view.
 */
int imap_seqset_resolve(const struct imap_seqset *set, bool uid,
			const uint32_t *uids, unsigned int count,
			const struct uid_array *saved, struct uid_array *out);

/* qsort/bsearch comparison of two uint32_t UIDs. */
int imap_uid_cmp(const void *a, const void *b);

#endif
