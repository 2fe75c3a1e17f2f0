/* SPDX-License-Identifier: MIT */
/*
 * mailbox-index.c: the index file of a mailbox, a cache of what the
 * mailbox files say (UIDs, flags, sizes, dates, mbox offsets) plus the
 * MODSEQs. Encoding, checksums and the file I/O; the decisions (when to
 * trust, repair or rebuild it) are in mailbox-refresh.c. The byte layout
 * is in mailbox-private.h. Nothing here fsyncs: the index is a cache and
 * losing it loses nothing.
 */
#include "mailbox-private.h"
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Records encoded per write when writing many. */
#define INDEX_WRITE_BATCH 4096

static inline void
put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)get_le16(p) | ((uint32_t)get_le16(p + 2) << 16);
}

static inline uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
}

/*
 * Each step (xor a word, multiply by an odd constant, xor-shift) is a
 * bijection of the state, so changing any single 64-bit word always
 * changes the result; other damage goes unnoticed with probability 2^-64.
 */
uint64_t
index_checksum(const unsigned char *p, size_t words)
{
	uint64_t h = 0x436f6d6d756e6531ULL;     /* "Commune1" */
	size_t i;

	for (i = 0; i < words; i++) {
		h ^= get_le64(p + 8 * i);
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

void
index_hdr_encode(const struct index_hdr *hdr,
		 unsigned char out[MAILBOX_INDEX_HEADER_SIZE])
{
	memset(out, 0, MAILBOX_INDEX_HEADER_SIZE);
	put_le32(out + 0, MAILBOX_INDEX_MAGIC);
	put_le32(out + 4, MAILBOX_INDEX_VERSION);
	put_le32(out + 8, MAILBOX_INDEX_HEADER_SIZE);
	put_le32(out + 12, MAILBOX_INDEX_RECORD_SIZE);
	put_le32(out + 16, hdr->uidvalidity);
	put_le32(out + 20, hdr->uidnext);
	put_le64(out + 24, hdr->highestmodseq);
	put_le64(out + 32, hdr->generation);
	put_le32(out + 40, (uint32_t)hdr->dirty);
	put_le32(out + 44, (uint32_t)hdr->format);
	put_le64(out + 48, hdr->ident.ino);
	put_le64(out + 56, hdr->ident.size);
	put_le64(out + 64, (uint64_t)hdr->ident.mtime_sec);
	put_le64(out + 72, (uint64_t)hdr->ident.mtime_nsec);
	put_le32(out + 80, hdr->record_count);
	put_le32(out + 84, hdr->keyword_count);
	put_le32(out + 88, hdr->unseen);
	put_le32(out + 92, hdr->deleted);
	put_le64(out + 96, hdr->bytes);
	put_le64(out + 104, hdr->modify_generation);
	put_le64(out + 120, index_checksum(out, 15));
}

int
index_hdr_decode(const unsigned char in[MAILBOX_INDEX_HEADER_SIZE],
		 struct index_hdr *hdr_r)
{
	uint32_t dirty, format;

	memset(hdr_r, 0, sizeof(*hdr_r));
	if (get_le32(in + 0) != MAILBOX_INDEX_MAGIC ||
	    get_le32(in + 4) != MAILBOX_INDEX_VERSION ||
	    get_le32(in + 8) != MAILBOX_INDEX_HEADER_SIZE ||
	    get_le32(in + 12) != MAILBOX_INDEX_RECORD_SIZE ||
	    get_le64(in + 120) != index_checksum(in, 15))
		return 0;
	dirty = get_le32(in + 40);
	format = get_le32(in + 44);
	if (dirty > INDEX_DIRTY || format > MAILBOX_FORMAT_MDIR)
		return 0;
	hdr_r->uidvalidity = get_le32(in + 16);
	hdr_r->uidnext = get_le32(in + 20);
	hdr_r->highestmodseq = get_le64(in + 24);
	hdr_r->generation = get_le64(in + 32);
	hdr_r->dirty = (enum index_dirty)dirty;
	hdr_r->format = (enum mailbox_format)format;
	hdr_r->ident.ino = get_le64(in + 48);
	hdr_r->ident.size = get_le64(in + 56);
	hdr_r->ident.mtime_sec = (int64_t)get_le64(in + 64);
	hdr_r->ident.mtime_nsec = (int64_t)get_le64(in + 72);
	hdr_r->record_count = get_le32(in + 80);
	hdr_r->keyword_count = get_le32(in + 84);
	hdr_r->unseen = get_le32(in + 88);
	hdr_r->deleted = get_le32(in + 92);
	hdr_r->bytes = get_le64(in + 96);
	hdr_r->modify_generation = get_le64(in + 104);
	if (hdr_r->record_count > MAILBOX_INDEX_RECORDS_MAX ||
	    hdr_r->unseen > hdr_r->record_count ||
	    hdr_r->deleted > hdr_r->record_count ||
	    hdr_r->keyword_count > STORE_KEYWORDS_MAX)
		return 0;
	return 1;
}

void
index_rec_encode(const struct mail_rec *rec,
		 unsigned char out[MAILBOX_INDEX_RECORD_SIZE])
{
	put_le32(out + 0, rec->uid);
	put_le32(out + 4, rec->flags);
	put_le64(out + 8, rec->size);
	put_le64(out + 16, (uint64_t)rec->internal_date);
	put_le64(out + 24, (uint64_t)rec->save_date);
	put_le64(out + 32, rec->modseq);
	put_le64(out + 40, rec->offset);
	put_le16(out + 48, rec->hdr_len);
	put_le16(out + 50, rec->flags_off);
	put_le16(out + 52, rec->flags_len);
	put_le16(out + 54, 0);
	put_le64(out + 56, index_checksum(out, 7));
}

int
index_rec_decode(const unsigned char in[MAILBOX_INDEX_RECORD_SIZE],
		 struct mail_rec *rec_r)
{
	if (get_le64(in + 56) != index_checksum(in, 7))
		return 0;
	rec_r->uid = get_le32(in + 0);
	rec_r->flags = get_le32(in + 4);
	rec_r->size = get_le64(in + 8);
	rec_r->internal_date = (int64_t)get_le64(in + 16);
	rec_r->save_date = (int64_t)get_le64(in + 24);
	rec_r->modseq = get_le64(in + 32);
	rec_r->offset = get_le64(in + 40);
	rec_r->hdr_len = get_le16(in + 48);
	rec_r->flags_off = get_le16(in + 50);
	rec_r->flags_len = get_le16(in + 52);
	if (rec_r->uid == 0 || rec_r->size > (1ULL << 40) ||
	    rec_r->hdr_len > MBOX_SEPARATOR_MAX ||
	    rec_r->flags_len > MBOX_FLAGS_FIELD_MAX ||
	    rec_r->flags_off + rec_r->flags_len > rec_r->hdr_len)
		return 0;
	return 1;
}

void
index_hdr_count(struct index_hdr *hdr, const struct mail_rec *recs,
		unsigned int count)
{
	unsigned int i;

	hdr->record_count = count;
	hdr->unseen = hdr->deleted = 0;
	hdr->bytes = 0;
	for (i = 0; i < count; i++) {
		if ((recs[i].flags & STORE_FLAG_SEEN) == 0)
			hdr->unseen++;
		if ((recs[i].flags & STORE_FLAG_DELETED) != 0)
			hdr->deleted++;
		hdr->bytes += recs[i].size;
	}
}

void
index_hdr_add(struct index_hdr *hdr, const struct mail_rec *rec, int sign)
{
	uint32_t d = sign > 0 ? 1u : (uint32_t)-1;

	hdr->record_count += d;
	if ((rec->flags & STORE_FLAG_SEEN) == 0)
		hdr->unseen += d;
	if ((rec->flags & STORE_FLAG_DELETED) != 0)
		hdr->deleted += d;
	if (sign > 0)
		hdr->bytes += rec->size;
	else
		hdr->bytes -= rec->size;
}

/* 1 all read, 0 the file is shorter, -1 error. */
static int
pread_exact(int fd, void *data, size_t len, off_t offset)
{
	size_t done;

	if (fmt_pread(fd, data, len, (uint64_t)offset, &done) < 0)
		return -1;
	return done == len ? 1 : 0;
}

int
index_read_hdr(int fd, struct index_hdr *hdr_r)
{
	unsigned char buf[MAILBOX_INDEX_HEADER_SIZE];
	int ret;

	ret = pread_exact(fd, buf, sizeof(buf), 0);
	if (ret <= 0) {
		memset(hdr_r, 0, sizeof(*hdr_r));
		return ret < 0 ? store_set_syscall_error("pread", "index") : 0;
	}
	return index_hdr_decode(buf, hdr_r);
}

int
index_read_recs_from(int fd, const struct index_hdr *hdr, unsigned int first,
		     uint32_t prev_uid, struct mail_rec *recs)
{
	unsigned int i, count = hdr->record_count - first;
	size_t len = (size_t)count * MAILBOX_INDEX_RECORD_SIZE;
	unsigned char *buf;
	int ret;

	i_assert(first <= hdr->record_count);
	if (count == 0)
		return 1;
	buf = i_malloc(len);
	ret = pread_exact(fd, buf, len, MAILBOX_INDEX_HEADER_SIZE +
			  (off_t)first * MAILBOX_INDEX_RECORD_SIZE);
	for (i = 0; ret == 1 && i < count; i++) {
		struct mail_rec *rec = &recs[first + i];

		if (index_rec_decode(buf + (size_t)i * MAILBOX_INDEX_RECORD_SIZE,
				     rec) != 1 || rec->uid <= prev_uid ||
		    rec->uid >= hdr->uidnext ||
		    rec->modseq > hdr->highestmodseq)
			ret = 0;
		prev_uid = rec->uid;
	}
	free(buf);
	return ret < 0 ? store_set_syscall_error("pread", "index") : ret;
}

int
index_read_recs(int fd, const struct index_hdr *hdr, struct mail_rec **recs_r)
{
	struct mail_rec *recs;
	int ret;

	recs = i_malloc((hdr->record_count + 1) * sizeof(*recs));
	ret = index_read_recs_from(fd, hdr, 0, 0, recs);
	if (ret <= 0) {
		free(recs);
		recs = NULL;
	}
	*recs_r = recs;
	return ret;
}

int
index_read_rec(int fd, unsigned int pos, struct mail_rec *rec_r)
{
	unsigned char buf[MAILBOX_INDEX_RECORD_SIZE];
	off_t off = MAILBOX_INDEX_HEADER_SIZE +
		(off_t)pos * MAILBOX_INDEX_RECORD_SIZE;
	int ret;

	ret = pread_exact(fd, buf, sizeof(buf), off);
	if (ret < 0)
		return store_set_syscall_error("pread", "index");
	if (ret == 0)
		return 0;
	return index_rec_decode(buf, rec_r);
}

int
index_find_rec(int fd, const struct index_hdr *hdr, uint32_t uid,
	       struct mail_rec *rec_r, unsigned int *pos_r)
{
	unsigned int lo = 0, hi = hdr->record_count, mid;
	int ret;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((ret = index_read_rec(fd, mid, rec_r)) <= 0)
			return ret;
		if (rec_r->uid == uid) {
			if (pos_r != NULL)
				*pos_r = mid;
			return 1;
		}
		if (rec_r->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
index_write_hdr(int fd, const char *path, const struct index_hdr *hdr)
{
	unsigned char buf[MAILBOX_INDEX_HEADER_SIZE];

	index_hdr_encode(hdr, buf);
	if (vfs_pwrite_all(fd, buf, sizeof(buf), 0) == -1)
		return store_set_syscall_error("pwrite", path);
	return 0;
}

int
index_write_recs(int fd, const char *path, unsigned int first,
		 const struct mail_rec *recs, unsigned int count)
{
	unsigned char *buf;
	unsigned int i, n;
	off_t off;
	int ret = 0;

	buf = i_malloc((size_t)(count < INDEX_WRITE_BATCH ?
				count : INDEX_WRITE_BATCH) *
		       MAILBOX_INDEX_RECORD_SIZE);
	while (count > 0 && ret == 0) {
		n = count < INDEX_WRITE_BATCH ? count : INDEX_WRITE_BATCH;
		for (i = 0; i < n; i++)
			index_rec_encode(&recs[i],
					 buf + (size_t)i * MAILBOX_INDEX_RECORD_SIZE);
		off = MAILBOX_INDEX_HEADER_SIZE +
			(off_t)first * MAILBOX_INDEX_RECORD_SIZE;
		if (vfs_pwrite_all(fd, buf, (size_t)n * MAILBOX_INDEX_RECORD_SIZE,
				   off) == -1)
			ret = store_set_syscall_error("pwrite", path);
		recs += n;
		first += n;
		count -= n;
	}
	free(buf);
	return ret;
}

int
index_write_all(int fd, const char *path, const struct index_hdr *hdr,
		const struct mail_rec *recs)
{
	off_t end = MAILBOX_INDEX_HEADER_SIZE +
		(off_t)hdr->record_count * MAILBOX_INDEX_RECORD_SIZE;

	if (index_write_recs(fd, path, 0, recs, hdr->record_count) < 0 ||
	    index_write_hdr(fd, path, hdr) < 0)
		return -1;
	if (vfs_ftruncate(fd, end) == -1)
		return store_set_syscall_error("ftruncate", path);
	return 0;
}

int
file_ident_get(const char *path, struct file_ident *ident_r)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	ident_r->ino = (uint64_t)st.st_ino;
	ident_r->size = S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size;
	ident_r->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	ident_r->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
	return 0;
}

bool
file_ident_equal(const struct file_ident *a, const struct file_ident *b)
{
	return a->ino == b->ino && a->size == b->size &&
		a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}
