/* SPDX-License-Identifier: MIT */
/*
 * imap-seqset.c: sequence sets (see imap-seqset.h). Resolution marks the
 * view's indexes in a bitmap so overlapping ranges give each message
 * once and the result comes out in order. Part of src/imap.
 */
#include "imap-seqset.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static int
parse_number(const char **pp, uint32_t *num_r)
{
	const char *p = *pp;
	uint64_t n = 0;

	if (*p == '*') {
		*num_r = IMAP_SEQSET_STAR;
		*pp = p + 1;
		return 0;
	}
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > 0xffffffffULL)
			return -1;
	}
	*num_r = (uint32_t)n;
	*pp = p;
	return 0;
}

int
imap_seqset_parse(const char *str, struct imap_seqset *set_r)
{
	const char *p = str;
	struct imap_seq_range r;
	unsigned int cap = 0;

	memset(set_r, 0, sizeof(*set_r));
	if (strcmp(str, "$") == 0) {
		set_r->dollar = true;
		return 0;
	}
	for (;;) {
		if (parse_number(&p, &r.first) < 0)
			goto fail;
		r.last = r.first;
		if (*p == ':') {
			p++;
			if (parse_number(&p, &r.last) < 0)
				goto fail;
		}
		if (r.first > r.last) {
			uint32_t t = r.first;

			r.first = r.last;
			r.last = t;
		}
		if (set_r->count == IMAP_SEQSET_RANGES_MAX)
			goto fail;
		if (set_r->count == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			set_r->ranges = i_realloc(set_r->ranges,
						  cap * sizeof(r));
		}
		set_r->ranges[set_r->count++] = r;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto fail;
	}
fail:
	imap_seqset_free(set_r);
	return -1;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	i_free(set->ranges);
	set->count = 0;
	set->dollar = false;
}

int
imap_uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of the first UID >= uid. */
static unsigned int
lower_bound(const uint32_t *uids, unsigned int count, uint32_t uid)
{
	unsigned int lo = 0, hi = count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
imap_seqset_resolve(const struct imap_seqset *set, bool uid,
		    const uint32_t *uids, unsigned int count,
		    const struct uid_array *saved, struct uid_array *out)
{
	unsigned char *mark;
	unsigned int i, j, from, to;
	uint32_t first, last, star;

	if (set->dollar) {
		for (i = 0; saved != NULL && i < saved->count; i++) {
			if (bsearch(&saved->uids[i], uids, count,
				    sizeof(uint32_t), imap_uid_cmp) != NULL)
				uid_array_add(out, saved->uids[i]);
		}
		return 0;
	}

	/* "1:*" in an empty mailbox names nothing. RFC 9051 §9 says a
	   server should answer BAD, and Dovecot does for FETCH, STORE,
	   COPY and MOVE (SEARCH finds nothing in both); the lenient
	   answer is kept: no client is helped by the error. */
	if (!uid && count == 0)
		return 0;
	mark = i_malloc(count / 8 + 1);
	star = uid ? (count > 0 ? uids[count - 1] : 0) : count;
	for (i = 0; i < set->count; i++) {
		first = set->ranges[i].first;
		last = set->ranges[i].last;
		if (first == IMAP_SEQSET_STAR)
			first = star;
		if (last == IMAP_SEQSET_STAR)
			last = star;
		if (first > last) {
			uint32_t t = first;

			first = last;
			last = t;
		}
		if (uid) {
			from = lower_bound(uids, count, first);
			to = lower_bound(uids, count, last == UINT32_MAX ?
					 last : last + 1);
		} else {
			if (first == 0 || last > count) {
				free(mark);
				return -1;
			}
			from = first - 1;
			to = last;
		}
		for (j = from; j < to; j++)
			mark[j / 8] |= (unsigned char)(1u << (j % 8));
	}
	for (j = 0; j < count; j++) {
		if ((mark[j / 8] & (1u << (j % 8))) != 0)
			uid_array_add(out, uids[j]);
	}
	free(mark);
	return 0;
}
