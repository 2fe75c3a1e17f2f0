/* SPDX-License-Identifier: MIT */
/*
 * mailbox-index.c: the index file of a mailbox, a cache of what the
 * mailbox files say (UIDs, flags, sizes, dates, mbox offsets) plus the
 * MODSEQs. Encoding, checksums and the file I/O; the decisions (when to
 * trust, repair or rebuild it) are in mailbox-refresh.c. The byte layout
 * is in mailbox-private.h. Nothing here fsyncs: the index is a cache and
 * losing it loses nothing. Also the expunge history (NAME.exp), which
 * is not a cache: QRESYNC (RFC 7162 §3.2.5) answers from it, so it is
 * written durably before the files change.
 */
#include "mailbox-private.h"
#include "vfs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
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

/* ------------------------------------------------------------------ */
/* expunge history                                                      */
/* ------------------------------------------------------------------ */

/* Whole history as read: records up to the first damaged one. */
struct exp_log {
	uint32_t uidvalidity;
	uint64_t horizon;
	uint32_t *uids;
	uint64_t *modseqs;
	unsigned int count;
};

static void
exp_log_free(struct exp_log *elog)
{
	i_free(elog->uids);
	i_free(elog->modseqs);
	elog->count = 0;
}

char *
expunge_log_path(const char *mailbox_path)
{
	return i_strdup_printf("%s.exp", mailbox_path);
}

static void
exp_hdr_encode(uint32_t uidvalidity, uint64_t horizon,
	       unsigned char out[EXPUNGE_LOG_HEADER_SIZE])
{
	memset(out, 0, EXPUNGE_LOG_HEADER_SIZE);
	put_le32(out + 0, EXPUNGE_LOG_MAGIC);
	put_le32(out + 4, EXPUNGE_LOG_VERSION);
	put_le32(out + 8, uidvalidity);
	put_le32(out + 12, EXPUNGE_LOG_RECORD_SIZE);
	put_le64(out + 16, horizon);
	put_le64(out + 24, index_checksum(out, 3));
}

static void
exp_rec_encode(uint32_t uid, uint64_t modseq,
	       unsigned char out[EXPUNGE_LOG_RECORD_SIZE])
{
	put_le32(out + 0, uid);
	put_le32(out + 4, 0);
	put_le64(out + 8, modseq);
	put_le32(out + 4, (uint32_t)index_checksum(out, 2));
}

/* 1 and the record, or 0 when it is damaged (a torn append). */
static int
exp_rec_decode(const unsigned char in[EXPUNGE_LOG_RECORD_SIZE],
	       uint32_t *uid_r, uint64_t *modseq_r)
{
	unsigned char tmp[EXPUNGE_LOG_RECORD_SIZE];

	memcpy(tmp, in, sizeof(tmp));
	put_le32(tmp + 4, 0);
	if (get_le32(in + 4) != (uint32_t)index_checksum(tmp, 2))
		return 0;
	*uid_r = get_le32(in);
	*modseq_r = get_le64(in + 8);
	return *uid_r != 0 ? 1 : 0;
}

static int
exp_decode(const unsigned char *data, size_t len, struct exp_log *elog)
{
	unsigned int i, max;

	if (len < EXPUNGE_LOG_HEADER_SIZE ||
	    get_le32(data + 0) != EXPUNGE_LOG_MAGIC ||
	    get_le32(data + 4) != EXPUNGE_LOG_VERSION ||
	    get_le32(data + 12) != EXPUNGE_LOG_RECORD_SIZE ||
	    get_le64(data + 24) != index_checksum(data, 3))
		return 0;
	elog->uidvalidity = get_le32(data + 8);
	elog->horizon = get_le64(data + 16);
	max = (unsigned int)((len - EXPUNGE_LOG_HEADER_SIZE) /
			     EXPUNGE_LOG_RECORD_SIZE);
	elog->uids = i_malloc((max + 1) * sizeof(*elog->uids));
	elog->modseqs = i_malloc((max + 1) * sizeof(*elog->modseqs));
	for (i = 0; i < max; i++) {
		if (exp_rec_decode(data + EXPUNGE_LOG_HEADER_SIZE +
				   (size_t)i * EXPUNGE_LOG_RECORD_SIZE,
				   &elog->uids[i], &elog->modseqs[i]) != 1)
			break;
	}
	elog->count = i;
	return 1;
}

int
expunge_log_parse_buf(const unsigned char *data, size_t size,
		      uint32_t *uidvalidity_r, uint64_t *horizon_r)
{
	struct exp_log elog;
	unsigned int i, count;

	memset(&elog, 0, sizeof(elog));
	if (size > EXPUNGE_LOG_SIZE_MAX || exp_decode(data, size, &elog) != 1)
		return -1;
	count = elog.count;
	i_assert(count <= (size - EXPUNGE_LOG_HEADER_SIZE) /
		 EXPUNGE_LOG_RECORD_SIZE);
	for (i = 0; i < count; i++)
		i_assert(elog.uids[i] != 0);
	*uidvalidity_r = elog.uidvalidity;
	*horizon_r = elog.horizon;
	exp_log_free(&elog);
	return (int)count;
}

/* 1 read, 0 missing or not a history (too big, bad header), -1 error.
   undo (may be NULL) gets a copy of the file as it is. */
static int
exp_load(const char *path, struct exp_log *log_r,
	 struct expunge_log_undo *undo)
{
	struct stat st;
	unsigned char *data;
	size_t done;
	int fd, ret;

	memset(log_r, 0, sizeof(*log_r));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return store_set_syscall_error("open", path);
	}
	if (fstat(fd, &st) == -1) {
		ret = store_set_syscall_error("fstat", path);
		close(fd);
		return ret;
	}
	if (st.st_size > (off_t)EXPUNGE_LOG_SIZE_MAX) {
		close(fd);
		return 0;
	}
	data = i_malloc((size_t)st.st_size + 1);
	if (fmt_pread(fd, data, (size_t)st.st_size, 0, &done) < 0) {
		ret = store_set_syscall_error("pread", path);
	} else {
		ret = exp_decode(data, done, log_r);
		if (undo != NULL) {
			undo->existed = true;
			undo->size = done;
			undo->len = done;
			undo->data = data;
			data = NULL;
		}
	}
	free(data);
	close(fd);
	return ret;
}

/* Replaces the history durably with header + the records of elog from
   first on + count new ones at modseq. */
static int
exp_write(const char *path, const struct exp_log *elog, unsigned int first,
	  const uint32_t *uids, unsigned int count, uint64_t modseq)
{
	unsigned int i, n = elog->count - first;
	size_t len = EXPUNGE_LOG_HEADER_SIZE +
		(size_t)(n + count) * EXPUNGE_LOG_RECORD_SIZE;
	unsigned char *data = i_malloc(len), *p;
	int ret = 0;

	exp_hdr_encode(elog->uidvalidity, elog->horizon, data);
	p = data + EXPUNGE_LOG_HEADER_SIZE;
	for (i = 0; i < n; i++, p += EXPUNGE_LOG_RECORD_SIZE)
		exp_rec_encode(elog->uids[first + i], elog->modseqs[first + i], p);
	for (i = 0; i < count; i++, p += EXPUNGE_LOG_RECORD_SIZE)
		exp_rec_encode(uids[i], modseq, p);
	if (vfs_write_file_atomic(path, data, len) == -1) {
		const char *fpath, *call = vfs_write_failed_syscall(&fpath);

		ret = store_set_syscall_error(call, fpath);
	}
	free(data);
	return ret;
}

/* Appends count records at the end of the valid records, then
   fdatasync. */
static int
exp_append(const char *path, const struct exp_log *elog, const uint32_t *uids,
	   unsigned int count, uint64_t modseq, uint64_t old_size)
{
	size_t len = (size_t)count * EXPUNGE_LOG_RECORD_SIZE;
	unsigned char *data = i_malloc(len);
	off_t at = EXPUNGE_LOG_HEADER_SIZE +
		(off_t)elog->count * EXPUNGE_LOG_RECORD_SIZE;
	unsigned int i;
	int fd, ret = 0;

	for (i = 0; i < count; i++)
		exp_rec_encode(uids[i], modseq,
			       data + (size_t)i * EXPUNGE_LOG_RECORD_SIZE);
	if ((fd = vfs_open(path, O_WRONLY | O_CLOEXEC, 0)) == -1) {
		free(data);
		return store_set_syscall_error("open", path);
	}
	if (vfs_pwrite_all(fd, data, len, at) == -1)
		ret = store_set_syscall_error("pwrite", path);
	else if (vfs_fdatasync(fd) == -1)
		ret = store_set_syscall_error("fdatasync", path);
	if (ret < 0 && vfs_ftruncate(fd, (off_t)old_size) == -1)
		log_warn("ftruncate(%s)", path);
	close(fd);
	free(data);
	return ret;
}

/*
 * Written before the mailbox files change (write-ahead): a crash between
 * the two leaves UIDs here that are still in the mailbox, which readers
 * drop, never an expunge the history does not know. A history that is
 * missing, damaged or of an earlier mailbox of the name starts over with
 * the horizon at the mailbox's HIGHESTMODSEQ (0 when no UID is missing).
 */
/*
 * The horizon of a history that starts over, from the mailbox state hdr
 * (NULL: box's, records loaded) before the expunge: its HIGHESTMODSEQ,
 * or 0 when every UID below UIDNEXT is still there, as UIDs are never
 * reused and so nothing was ever expunged.
 */
static uint64_t
fresh_horizon(const struct mailbox *box, const struct index_hdr *hdr)
{
	if (hdr != NULL)
		return hdr->record_count == hdr->uidnext - 1 ? 0 :
			hdr->highestmodseq;
	return box->recs_loaded && box->rec_count == box->hdr.uidnext - 1 ?
		0 : box->hdr.highestmodseq;
}

/* horizon: of a history that starts over (see below) */
static int
log_append(struct mailbox *box, const uint32_t *uids, unsigned int count,
	   uint64_t modseq, uint64_t horizon, struct expunge_log_undo *undo)
{
	char *path = expunge_log_path(box->path);
	struct exp_log elog;
	unsigned int i, first;
	bool fresh;
	int ret;

	i_assert(box->account->lock_exclusive && box->hdr_valid);
	memset(undo, 0, sizeof(*undo));
	ret = exp_load(path, &elog, undo);
	if (ret < 0)
		goto out;
	fresh = ret == 0 || elog.uidvalidity != box->hdr.uidvalidity;
	if (fresh) {
		exp_log_free(&elog);
		elog.uidvalidity = box->hdr.uidvalidity;
		elog.horizon = horizon;
	}
	if (count > EXPUNGE_LOG_RECORDS_MAX / 2) {
		/* too many to list: the horizon covers them (a client
		   behind it gets every UID not in the mailbox) */
		elog.horizon = modseq;
		ret = exp_write(path, &elog, elog.count, NULL, 0, modseq);
	} else if (fresh) {
		ret = exp_write(path, &elog, 0, uids, count, modseq);
	} else if (elog.count + count > EXPUNGE_LOG_RECORDS_MAX) {
		/* keep the newer half; what goes moves the horizon */
		first = elog.count - EXPUNGE_LOG_RECORDS_MAX / 2;
		for (i = 0; i < first; i++) {
			if (elog.modseqs[i] > elog.horizon)
				elog.horizon = elog.modseqs[i];
		}
		ret = exp_write(path, &elog, first, uids, count, modseq);
	} else {
		ret = exp_append(path, &elog, uids, count, modseq,
				 undo->size);
		undo->appended = true;
	}
out:
	undo->armed = ret == 0;
	exp_log_free(&elog);
	free(path);
	return ret;
}

int
expunge_log_append(struct mailbox *box, const uint32_t *uids,
		   unsigned int count, uint64_t modseq)
{
	struct expunge_log_undo undo;
	int ret;

	ret = log_append(box, uids, count, modseq, fresh_horizon(box, NULL),
			 &undo);
	free(undo.data);
	return ret;
}

/* Puts the history back as undo describes it (the expunge after it
   failed). A failure is logged: the records left name UIDs that are
   still in the mailbox, which readers drop. */
static void
log_undo(struct mailbox *box, const struct expunge_log_undo *undo)
{
	char *path = expunge_log_path(box->path);
	int fd, ret = 0;

	if (undo->appended) {
		if ((fd = vfs_open(path, O_WRONLY | O_CLOEXEC, 0)) == -1 ||
		    vfs_ftruncate(fd, (off_t)undo->size) == -1)
			ret = -1;
		if (fd != -1)
			close(fd);
	} else if (undo->existed) {
		ret = vfs_write_file_atomic(path, undo->data, undo->len);
	} else if (vfs_unlink(path) == -1 && errno != ENOENT) {
		ret = -1;
	}
	if (ret < 0)
		log_warn("%s: could not take back the expunge history", path);
	free(path);
}

void
expunge_log_end(struct mailbox *box, bool failed)
{
	struct expunge_log_undo *undo = &box->exp_undo;

	if (undo->armed && failed)
		log_undo(box, undo);
	free(undo->data);
	memset(undo, 0, sizeof(*undo));
}

static int
uid32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* The UIDs of old[] that recs[] (both ascending) no longer has. */
static void
vanished_uids(const struct mail_rec *old, unsigned int old_count,
	      const struct mail_rec *recs, unsigned int count,
	      struct uid_array *out)
{
	unsigned int i, j = 0;

	for (i = 0; i < old_count; i++) {
		while (j < count && recs[j].uid < old[i].uid)
			j++;
		if (j == count || recs[j].uid != old[i].uid)
			uid_array_add(out, old[i].uid);
	}
}

/*
 * After a rebuild (exclusive lock, box->hdr and box->recs the new
 * state): messages of the old records that are gone were removed behind
 * the store's back (or by an expunge already logged) and are logged
 * now; without old records nothing is known and the horizon of a valid
 * history moves up to the rebuild's MODSEQ. Failing that, the history is
 * removed, which readers take as "nothing known". Logged, never fatal.
 */
void
expunge_log_rebuilt(struct mailbox *box, const struct index_hdr *old_hdr,
		    const struct mail_rec *old, unsigned int old_count)
{
	char *path = expunge_log_path(box->path);
	struct uid_array gone = { 0 };
	struct expunge_log_undo undo = { 0 };
	struct exp_log elog;
	uint64_t modseq = box->hdr.highestmodseq;
	int ret;

	if (old != NULL) {
		vanished_uids(old, old_count, box->recs, box->rec_count,
			      &gone);
		ret = gone.count == 0 ? 0 :
			log_append(box, gone.uids, gone.count, modseq,
				   fresh_horizon(box, old_hdr), &undo);
		free(undo.data);
	} else {
		/* a missing, damaged or foreign history already means
		   "nothing known": only a valid one needs the new horizon */
		ret = exp_load(path, &elog, NULL);
		if (ret == 1 && elog.uidvalidity == box->hdr.uidvalidity &&
		    elog.horizon < modseq) {
			elog.horizon = modseq;
			ret = exp_write(path, &elog, 0, NULL, 0, modseq);
		}
		exp_log_free(&elog);
	}
	if (ret < 0) {
		log_warnx("%s: could not update the expunge history, "
			  "removing it", path);
		store_clear_error();
		if (vfs_unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink(%s)", path);
	}
	uid_array_free(&gone);
	free(path);
}

int
store_mailbox_expunged_since(struct mailbox *box, uint64_t since,
			     struct uid_array *uids_r)
{
	char *path = expunge_log_path(box->path);
	struct exp_log elog;
	unsigned int i, n = 0;
	int ret;

	if (account_lock(box->account, false) < 0) {
		free(path);
		return -1;
	}
	ret = exp_load(path, &elog, NULL);
	account_unlock(box->account);
	free(path);
	if (ret <= 0)
		return ret;
	if (elog.uidvalidity != box->view_uidvalidity || since < elog.horizon) {
		exp_log_free(&elog);
		return 0;
	}
	for (i = 0; i < elog.count; i++) {
		if (elog.modseqs[i] > since)
			elog.uids[n++] = elog.uids[i];
	}
	qsort(elog.uids, n, sizeof(*elog.uids), uid32_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || elog.uids[i] != elog.uids[i - 1])
			uid_array_add(uids_r, elog.uids[i]);
	}
	exp_log_free(&elog);
	return 1;
}

int
expunge_log_append_recs(struct mailbox *box, const struct mail_rec *recs,
			unsigned int count, uint64_t modseq)
{
	uint32_t *uids;
	unsigned int i;
	int ret;

	if (box->exp_unlogged) {
		memset(&box->exp_undo, 0, sizeof(box->exp_undo));
		return 0;
	}
	uids = i_malloc((count + 1) * sizeof(*uids));
	for (i = 0; i < count; i++)
		uids[i] = recs[i].uid;
	ret = log_append(box, uids, count, modseq, fresh_horizon(box, NULL),
			 &box->exp_undo);
	free(uids);
	return ret;
}
