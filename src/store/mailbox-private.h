/* SPDX-License-Identifier: MIT */
/*
 * mailbox-private.h: opened mailboxes, the index cache and the two
 * on-disk formats, as the store's files see them. Front-ends never include
 * this; they use store-mailbox.h.
 *
 * Files:
 *   fmt-mbox.c        the text format: separator lines, scan, append,
 *                     in-place flag writes, rewrite (expunge)
 *   fmt-mdir.c        the directory format: file names, scan, append,
 *                     flag renames, unlink
 *   mailbox-index.c   the index file: read, validate, write, rebuild;
 *                     the expunge history (NAME.exp) for QRESYNC
 *   mailbox-objectid.c  MAILBOXID and EMAILID (RFC 8474)
 *   mailbox.c         struct mailbox, open/close, the view, reading
 *   mailbox-sync.c    store_mailbox_sync (diffing the view)
 *   mailbox-save.c    append, deliver, copy, move
 *   mailbox-update.c  flags, keywords, expunge
 *   mailbox-check.c   check, reindex, mailbox_files_create
 *
 * The byte-exact formats are in docs/storage-format.md; the index format
 * (version MAILBOX_INDEX_VERSION) is repeated here because this header
 * owns it:
 *
 *   header, 128 bytes, every field little-endian:
 *      0 u32 magic "CMIX" (0x58494d43)     4 u32 version
 *      8 u32 header size (128)            12 u32 record size (64)
 *     16 u32 uidvalidity                  20 u32 uidnext
 *     24 u64 highestmodseq                32 u64 generation
 *     40 u32 dirty (0 clean, 1 appending: records valid for the file
 *            prefix described by the identity, 2 dirty)
 *     44 u32 format (0 mbox, 1 mdir)
 *     48 u64 st_ino of the .mbox file / .mdir directory
 *     56 u64 .mbox: st_size; .mdir: 0 (the record count is the file
 *            count of a clean index)
 *     64 i64 st_mtim.tv_sec               72 i64 st_mtim.tv_nsec
 *     80 u32 record count                 84 u32 keyword count
 *     88 u32 unseen count                 92 u32 \Deleted count
 *     96 u64 total message bytes
 *    104 u64 generation of the last change that was not an append
 *            (flags, expunge, rebuild): a reader whose records are of
 *            the same one reads only the records added since
 *    112 8 bytes reserved (zero)
 *    120 u64 checksum of bytes 0..119 (index_checksum)
 *   records, 64 bytes each, ascending UID:
 *      0 u32 uid        4 u32 flags       8 u64 size
 *     16 i64 internal date                24 i64 save date
 *     32 u64 modseq
 *     40 u64 mbox: offset of the separator line (mdir: 0)
 *     48 u16 mbox: separator length including "\n"
 *     50 u16 mbox: offset of the flags field in the separator
 *     52 u16 mbox: length of the flags field (letters + padding)
 *     54 u16 reserved (zero)
 *     56 u64 checksum of bytes 0..55
 */
#ifndef MAILBOX_PRIVATE_H
#define MAILBOX_PRIVATE_H

#include "store-private.h"

#include <sys/stat.h>

/* ---- shared by the formats ---- */

/* One message as the files and the index describe it. */
struct mail_rec {
	uint32_t uid;
	uint32_t flags;
	uint64_t size;
	int64_t internal_date;
	int64_t save_date;
	uint64_t modseq;
	uint64_t offset;        /* mbox: separator offset */
	uint16_t hdr_len;       /* mbox: separator length with "\n" */
	uint16_t flags_off;     /* mbox: flags field offset in separator */
	uint16_t flags_len;     /* mbox: flags field length */
};

/* A message to write (append, copy). */
struct fmt_msg {
	const unsigned char *data;
	size_t len;
	uint32_t uid;
	uint32_t flags;
	int64_t internal_date;
	const char *return_path;        /* "<...>" or NULL for "<>" */
	/* mdir: an existing message file to hard-link instead of writing
	   data (copies); NULL otherwise. */
	const char *link_path;
};

/* What a scan of the mailbox files found. */
struct fmt_scan {
	struct mail_rec *recs;
	unsigned int count, cap;
	/* mbox: offset just after the last complete record */
	uint64_t end;
	/* mbox: a torn (incomplete) last record starts at end */
	bool torn;
	/* problems that check reports (each also in report, if given) */
	unsigned int problems;
	unsigned int warnings;
	/* records whose UID is not above the previous one (to renumber);
	   their uid is kept, the caller decides */
	unsigned int bad_uids;
	/* mdir: stray tmp.* files seen (and removed, if asked) */
	unsigned int tmp_files;
};

void fmt_scan_init(struct fmt_scan *scan);
void fmt_scan_deinit(struct fmt_scan *scan);
struct mail_rec *fmt_scan_add(struct fmt_scan *scan);

/* Flag letters: S A F D T, then keywords a..z. FLAGS_LETTERS_MAX is
   the longest string flags_to_letters writes (without the NUL). */
#define FLAGS_LETTERS_MAX (5 + STORE_KEYWORDS_MAX)
/* Writes the letters of flags (no padding); returns their count. */
unsigned int flags_to_letters(uint32_t flags, char out[FLAGS_LETTERS_MAX + 1]);
/* Parses letters (and '_' padding when allow_pad); returns the flags.
   *unknown_r counts letters that mean nothing (ignored). */
uint32_t flags_from_letters(const char *p, size_t len, bool allow_pad,
			    unsigned int *unknown_r);

/* Valid internal dates: years 1000..9999, as both formats need 4-digit
   years. */
#define FMT_DATE_MIN (-30610224000LL)   /* 1000-01-01 00:00:00 UTC */
#define FMT_DATE_MAX 253402300799LL     /* 9999-12-31 23:59:59 UTC */
bool fmt_date_valid(int64_t t);

/* pread until len bytes or the end of the file; *done_r = bytes read.
   -1 with errno on a read error (no store error set). */
int fmt_pread(int fd, void *data, size_t len, uint64_t offset,
	      size_t *done_r);
/* Maps an errno-failing syscall to the store error (and logs it). */
int fmt_syscall_error(const char *syscall, const char *path);

/* ---- .mbox ---- */

/* Longest separator line accepted, "\n" included. */
#define MBOX_SEPARATOR_MAX 1024
/* The flags field is padded with '_' to at least this many bytes. */
#define MBOX_FLAGS_FIELD_MIN 8
#define MBOX_FLAGS_FIELD_MAX 64
/* Longest return-path written (with the brackets). */
#define MBOX_RETURN_PATH_MAX 512

struct mbox_sep {
	uint32_t uid;
	uint32_t flags;
	int64_t date;
	uint64_t size;
	bool has_size;
	unsigned int unknown_flags;
	uint16_t rp_off, rp_len;        /* return path, brackets included */
	uint16_t flags_off, flags_len;
};

/* Parses one separator line (len bytes, without the "\n"). Returns 1
   and *sep_r, or 0 when the line is not a strict separator. */
int mbox_sep_parse(const unsigned char *line, size_t len,
		   struct mbox_sep *sep_r);
/* Appends a separator line ("\n" included) to out. return_path NULL or
   "" gives "<>"; a path without brackets gets them. flags_width pads the
   flags field to at least that many bytes. */
void mbox_sep_write(buf_t *out, const char *return_path, uint32_t flags,
		    uint32_t uid, int64_t date, uint64_t size,
		    unsigned int flags_width);
/* 0 when return_path can be written into a separator line, else -1
   with STORE_ERROR_INVALID. */
int mbox_return_path_check(const char *return_path);
/* ctime form in UTC, "Www Mmm dd hh:mm:ss yyyy" (24 chars + NUL). */
void mbox_ctime(int64_t t, char out[25]);
int mbox_ctime_parse(const unsigned char *p, size_t len, int64_t *t_r);

/*
 * Scans fd from offset start to file_size and adds complete records to
 * scan. Records must have UIDs above min_uid (the previous record's).
 * Problems are appended to report (may be NULL) as lines prefixed by
 * label. Reads only separators when they carry sizes. Returns 0 or -1
 * (read error, store error set).
 */
int mbox_scan(int fd, const char *path, uint64_t start, uint64_t file_size,
	      uint32_t min_uid, struct fmt_scan *scan, buf_t *report);
/*
 * Writes count messages at offset at (the file's end) with one write per
 * message and one fdatasync; recs_r gets their records (modseq, save date
 * left 0). On failure truncates back to at and returns -1.
 */
int mbox_append(int fd, const char *path, uint64_t at,
		const struct fmt_msg *msgs, unsigned int count,
		struct mail_rec *recs_r);
/* Truncates a torn tail (durably). */
int mbox_truncate(int fd, const char *path, uint64_t size);
/* True when flags fit into rec's flags field in place. */
bool mbox_flags_fit(const struct mail_rec *rec, uint32_t flags);
/* In-place flag writes (each must fit) followed by one fsync. */
int mbox_write_flags(int fd, const char *path, const struct mail_rec *recs,
		     const uint32_t *new_flags, unsigned int count);
/*
 * Writes a new file holding the records keep[0..count-1] of src_fd (with
 * the flags and UIDs in keep, which may differ from the file's) to a temp
 * file, fsyncs it and renames it over path, then fsyncs the directory.
 * keep[] offsets/hdr_len/flags_* are updated to the new file. The old
 * inode stays intact for readers holding it.
 */
int mbox_rewrite(int src_fd, const char *path, struct mail_rec *keep,
		 unsigned int count);
/* Reads the separator of rec into sep_r (and its bytes into line). */
int mbox_read_sep(int fd, const char *path, const struct mail_rec *rec,
		  unsigned char line[MBOX_SEPARATOR_MAX], struct mbox_sep *sep_r);

/* ---- .mdir ---- */

#define MDIR_NAME_MAX 64
#define MDIR_TMP_PREFIX "tmp."

struct mdir_name {
	uint32_t uid;
	uint32_t flags;
	int64_t date;
	unsigned int unknown_flags;
};

/* Parses "<uid>-<flags>-<yyyymmddhhmmss>". 1 and *name_r, or 0. */
int mdir_name_parse(const char *name, struct mdir_name *name_r);
/* Writes the canonical name; returns its length. */
size_t mdir_name_format(char out[MDIR_NAME_MAX], uint32_t uid,
			uint32_t flags, int64_t date);
/*
 * Lists dir: records with uid, flags, internal date (size 0; see
 * mdir_stat_rec), sorted by UID. When repair (caller holds the exclusive
 * lock) stray tmp.* files are removed and names not in canonical form
 * renamed; otherwise both are reported. Unparsable names are reported
 * and skipped; duplicate UIDs stay in the result (adjacent) and are
 * counted in bad_uids. Returns 0 or -1.
 */
int mdir_scan(const char *dir, bool repair, struct fmt_scan *scan,
	      buf_t *report);
/* Fills rec->size and rec->save_date (the file's mtime) by stat. */
int mdir_stat_rec(int dirfd, const char *dir, struct mail_rec *rec);
/* Each message: tmp file, write, fsync, rename; then one fsync of the
   directory. All or nothing. */
int mdir_append(const char *dir, const struct fmt_msg *msgs,
		unsigned int count, struct mail_rec *recs_r);
/* Renames files to their new flags; one directory fsync. On failure
   renames back what was done (best effort) and returns -1. */
int mdir_write_flags(const char *dir, const struct mail_rec *recs,
		     const uint32_t *new_flags, unsigned int count);
/* Unlinks the files of recs; one directory fsync. */
int mdir_expunge(const char *dir, const struct mail_rec *recs,
		 unsigned int count);
/* Renames the files of recs to new UIDs (repairs); one directory
   fsync. */
int mdir_change_uids(const char *dir, const struct mail_rec *recs,
		     const uint32_t *new_uids, unsigned int count);
/* Path of a message file (caller frees). */
char *mdir_msg_path(const char *dir, const struct mail_rec *rec);
/* Opens a message file read-only; on ENOENT returns -1 with errno set
   and no store error (the caller looks again). */
int mdir_msg_open(const char *dir, const struct mail_rec *rec);

/* ---- the index ---- */

#define MAILBOX_INDEX_MAGIC 0x58494d43u
#define MAILBOX_INDEX_VERSION 1
#define MAILBOX_INDEX_HEADER_SIZE 128
#define MAILBOX_INDEX_RECORD_SIZE 64
/* Largest index accepted (records): the UID space bounds it anyway. */
#define MAILBOX_INDEX_RECORDS_MAX (1u << 26)

enum index_dirty {
	INDEX_CLEAN = 0,
	INDEX_APPENDING = 1,
	INDEX_DIRTY = 2,
};

/* What identifies the mailbox files' state the index describes. */
struct file_ident {
	uint64_t ino;
	uint64_t size;          /* mbox: bytes; mdir: 0 */
	int64_t mtime_sec;
	int64_t mtime_nsec;
};

struct index_hdr {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint64_t generation;
	enum index_dirty dirty;
	enum mailbox_format format;
	struct file_ident ident;
	uint32_t record_count;
	uint32_t keyword_count;
	uint32_t unseen;
	uint32_t deleted;
	uint64_t bytes;
	uint64_t modify_generation;
};

uint64_t index_checksum(const unsigned char *p, size_t words);
void index_hdr_encode(const struct index_hdr *hdr,
		      unsigned char out[MAILBOX_INDEX_HEADER_SIZE]);
/* 1 valid, 0 invalid (bad magic/version/sizes/checksum). */
int index_hdr_decode(const unsigned char in[MAILBOX_INDEX_HEADER_SIZE],
		     struct index_hdr *hdr_r);
void index_rec_encode(const struct mail_rec *rec,
		      unsigned char out[MAILBOX_INDEX_RECORD_SIZE]);
int index_rec_decode(const unsigned char in[MAILBOX_INDEX_RECORD_SIZE],
		     struct mail_rec *rec_r);
/* Recomputes the counters of hdr from recs. */
void index_hdr_count(struct index_hdr *hdr, const struct mail_rec *recs,
		     unsigned int count);

/* Index file I/O on an open fd. Reads return 1 ok, 0 invalid (missing,
   short, corrupt: the caller rebuilds), -1 I/O error. */
int index_read_hdr(int fd, struct index_hdr *hdr_r);
int index_read_recs(int fd, const struct index_hdr *hdr,
		    struct mail_rec **recs_r);
/* Reads records first..record_count-1 into recs[first..], which follow
   a record with UID prev_uid. 1 ok, 0 invalid, -1 error. */
int index_read_recs_from(int fd, const struct index_hdr *hdr,
			 unsigned int first, uint32_t prev_uid,
			 struct mail_rec *recs);
/* Reads record number pos: 1 ok, 0 invalid, -1 error. */
int index_read_rec(int fd, unsigned int pos, struct mail_rec *rec_r);
/* Reads the one record with uid by binary search (pread); 1 found,
   0 not found or invalid, -1 error. */
int index_find_rec(int fd, const struct index_hdr *hdr, uint32_t uid,
		   struct mail_rec *rec_r, unsigned int *pos_r);
int index_write_hdr(int fd, const char *path, const struct index_hdr *hdr);
int index_write_recs(int fd, const char *path, unsigned int first,
		     const struct mail_rec *recs, unsigned int count);
/* Writes header and all records, truncating what follows. */
int index_write_all(int fd, const char *path, const struct index_hdr *hdr,
		    const struct mail_rec *recs);
/* The identity of a mailbox path now (mdir: size = 0; the caller sets
   the file count). -1 with errno on failure. */
int file_ident_get(const char *path, struct file_ident *ident_r);
bool file_ident_equal(const struct file_ident *a, const struct file_ident *b);

/* Binary search by uid in recs[0..count-1]; index or -1. */
int mail_recs_find(const struct mail_rec *recs, unsigned int count,
		   uint32_t uid);

/* What expunge_log_end() needs to take an append back. */
struct expunge_log_undo {
	bool armed;
	bool existed;           /* the file was there before */
	bool appended;          /* records were appended: truncate */
	uint64_t size;          /* ... back to this size */
	unsigned char *data;    /* else: the old contents */
	size_t len;
};

/* ---- the expunge history (mailbox-index.c) ----
 *
 * NAME.mbox.exp / NAME.mdir.exp beside the mailbox: which UIDs were
 * expunged at which MODSEQ, for QRESYNC (RFC 7162 §3.2.5.1, §3.2.6).
 * Not a cache: written (and fdatasync'd) before the mailbox files change.
 *   header, 32 bytes, little-endian:
 *      0 u32 magic "CMEX" (0x58454d43)     4 u32 version
 *      8 u32 uidvalidity                  12 u32 record size (16)
 *     16 u64 horizon: expunges with a MODSEQ up to it may be missing
 *     24 u64 checksum of bytes 0..23 (index_checksum)
 *   records, 16 bytes each, in the order written:
 *      0 u32 uid      4 u32 low half of index_checksum of the record
 *                           with this field zero
 *      8 u64 modseq of the expunge
 * Reading stops at the first damaged record (a torn append).
 */
#define EXPUNGE_LOG_MAGIC 0x58454d43u
#define EXPUNGE_LOG_VERSION 1
#define EXPUNGE_LOG_HEADER_SIZE 32
#define EXPUNGE_LOG_RECORD_SIZE 16
/* More records than this: the older half goes, raising the horizon. */
#define EXPUNGE_LOG_RECORDS_MAX 65536
/* A bigger file is not read (treated as no history). */
#define EXPUNGE_LOG_SIZE_MAX (EXPUNGE_LOG_HEADER_SIZE + \
	(EXPUNGE_LOG_RECORDS_MAX * 2 + 2) * EXPUNGE_LOG_RECORD_SIZE)

/* For fuzz-expunged: decodes data as a history file (as readers do),
   asserting what they rely on; the count of records accepted, or -1 when
   it is not a history. */
int expunge_log_parse_buf(const unsigned char *data, size_t size,
			  uint32_t *uidvalidity_r, uint64_t *horizon_r);
/* The history's path for a mailbox path (caller frees). */
char *expunge_log_path(const char *mailbox_path);
/* Exclusive lock, box->hdr fresh: records uids as expunged at modseq,
   durably, before the files change. 0 or -1 (the expunge must not go
   ahead). */
int expunge_log_append(struct mailbox *box, const uint32_t *uids,
		       unsigned int count, uint64_t modseq);
/* The same for the UIDs of recs (mailbox_expunge_locked), remembering
   how to take it back: expunge_log_end(box, failed) afterwards puts the
   history back as it was when the expunge failed (so a failed expunge
   changes nothing), and forgets. */
int expunge_log_append_recs(struct mailbox *box, const struct mail_rec *recs,
			    unsigned int count, uint64_t modseq);
void expunge_log_end(struct mailbox *box, bool failed);
/* After a persistent rebuild: logs messages of old (NULL: unknown) that
   are gone, or moves the horizon up. old_hdr (may be NULL) is the header
   the old records are of. Never fails (logs). */
void expunge_log_rebuilt(struct mailbox *box, const struct index_hdr *old_hdr,
			 const struct mail_rec *old, unsigned int old_count);

/* ---- struct mailbox ---- */

/* Where a view message's bytes are (mbox: in box->view_fd). */
struct view_loc {
	uint64_t offset;        /* of the message body */
};

struct mailbox {
	struct account *account;
	char *name;
	enum mailbox_format format;
	char *path;             /* .mbox file or .mdir directory */
	char *index_path;
	struct mailbox_meta meta;
	bool meta_loaded;

	/* The index as last read or written by this handle: valid when
	   hdr_valid; recs only when recs_loaded. */
	struct index_hdr hdr;
	bool hdr_valid;
	struct mail_rec *recs;
	unsigned int rec_count, rec_cap;
	bool recs_loaded;
	/* the index opened for writing while the lock is held, else -1 */
	int index_fd;

	/* The view (public message list) and where its bodies are. */
	struct store_msg *msgs;
	struct view_loc *locs;
	unsigned int count, cap;
	uint32_t view_uidvalidity, view_uidnext;
	uint64_t view_highestmodseq;
	uint64_t view_generation;
	uint64_t view_modify_generation;
	/* messages kept in the view by MAILBOX_SYNC_FLAG_NO_EXPUNGES */
	unsigned int view_expunged;
	/* the header cache (mailbox-cache.c), once used */
	struct mailbox_cache *cache;
	int view_fd;            /* mbox: the file the view's offsets are in */
	uint64_t view_ino;
	bool view_opened;       /* false: a deliver-only handle */

	/* Between expunge_log_append_recs and expunge_log_end. */
	struct expunge_log_undo exp_undo;
	/* Set around expunges of messages nobody could have seen (the
	   copies a failed move takes back under the same lock hold): they
	   need no expunge history. */
	bool exp_unlogged;

	/* Between mailbox_keywords_begin and _end: the keyword count
	   before the first keyword the change added (UINT_MAX: none). */
	bool keywords_tracking;
	unsigned int keywords_undo;
};

/* View helpers (mailbox.c). VIEW_LOC_GONE marks an .mbox message kept
   in the view whose file was replaced: it cannot be read any more. */
#define VIEW_LOC_GONE UINT64_MAX
void mailbox_view_reserve(struct mailbox *box, unsigned int count);
void mailbox_view_fill(struct store_msg *msg, struct view_loc *loc,
		       const struct mail_rec *rec);
int mailbox_view_open_file(struct mailbox *box);

/* Creates a handle (no lock, no I/O beyond locating the mailbox). */
int mailbox_alloc(struct account *account, const char *name,
		  struct mailbox **box_r);
void mailbox_free(struct mailbox **box);

/* mailbox-cache.c: writes the header cache's pending records; frees it
   (after a flush). */
void mailbox_cache_flush(struct mailbox *box);

/*
 * Header cache records of messages a save writes, so that no reader has
 * to open them later: collected while the save runs, written by
 * mailbox_cache_saved_write once the messages are committed (never
 * before: a failed save may hand its UIDs out again).
 */
struct cache_saved {
	buf_t recs;             /* encoded records, in UID order */
	unsigned int count;
};
/* uid's record, from the message's bytes data/len, or (data NULL, a
   hard-linked copy) from the first len bytes of the file at path. No
   record when its fields are too long or the file cannot be read. */
void mailbox_cache_saved_add(struct cache_saved *saved, uint32_t uid,
			     const unsigned char *data, size_t len,
			     const char *path);
/* uid's record with a value taken from another mailbox's cache. */
void mailbox_cache_saved_add_value(struct cache_saved *saved, uint32_t uid,
				   const unsigned char *value, size_t len);
/* Appends uid's value to value from box's header cache when that is
   loaded and has it (no I/O); false otherwise. */
bool mailbox_cache_peek(struct mailbox *box, uint32_t uid, buf_t *value);
/* Exclusive lock held, messages committed: appends the records to box's
   cache file in one write (creating the file, or replacing one of
   another UIDVALIDITY or with a bad header), without fsync. Failures
   are logged only. Empties saved. */
void mailbox_cache_saved_write(struct mailbox *box, struct cache_saved *saved);
void mailbox_cache_saved_deinit(struct cache_saved *saved);
/* Where the header cache of the mailbox at mailbox_path lives. */
char *mailbox_cache_path(const char *mailbox_path);
void mailbox_cache_free(struct mailbox *box);
/* For fuzz-cache: parses data as a header cache file, asserting what a
   reader relies on; returns how many records it accepts. */
unsigned int mailbox_cache_parse_buf(const unsigned char *data, size_t size,
				     uint32_t uidvalidity, bool *rewrite_r,
				     uint32_t *first_uid_r,
				     uint32_t *last_uid_r);

/*
 * Locking. mailbox_lock takes the account lock and brings box->hdr (and
 * box->recs when want_recs) up to date with the files, repairing and
 * rebuilding as needed; a shared request is upgraded internally when a
 * repair must write. mailbox_unlock releases it.
 */
int mailbox_lock(struct mailbox *box, bool exclusive, bool want_recs);
void mailbox_unlock(struct mailbox *box);

enum refresh_mode {
	/* shared lock: read what is valid, else return 1 */
	REFRESH_READ,
	/* exclusive lock: repair the files and rebuild the index on disk */
	REFRESH_WRITE,
	/* shared lock that cannot be upgraded: rebuild in memory only */
	REFRESH_MEMORY,
};
/*
 * Index refresh with the lock held: brings box->hdr (and box->recs when
 * want_recs) up to date with the files. Returns 0 ok, 1 when a repair is
 * needed (REFRESH_READ only), -1 error.
 */
int mailbox_index_refresh(struct mailbox *box, bool want_recs,
			  enum refresh_mode mode);
/* Deletes the index and rebuilds it from the files (exclusive lock),
   giving every message a new modseq. */
int mailbox_index_rebuild(struct mailbox *box);
/* Next MODSEQ for a change: max(highestmodseq + 1, now in us). */
uint64_t mailbox_next_modseq(struct mailbox *box);
/* Marks the index dirty (or appending) before the files change. */
int mailbox_index_mark(struct mailbox *box, enum index_dirty dirty);
enum index_commit {
	/* records were only added at the end */
	INDEX_COMMIT_APPEND,
	/* records changed in place */
	INDEX_COMMIT_MODIFY,
	/* all records rewritten (expunge): the file is cut after them */
	INDEX_COMMIT_REWRITE,
};
/*
 * After the files changed: box->hdr gets the files' new identity,
 * generation + 1 and clean; recs[0..count-1] are written as records
 * first.., then the header. The caller has updated box->hdr's counts
 * (and box->recs when loaded). A failure only leaves the index dirty for
 * the next refresh (logged; the change itself is durable).
 */
void mailbox_index_commit(struct mailbox *box, const struct mail_rec *recs,
			  unsigned int first, unsigned int count,
			  enum index_commit kind);
/* Adds (sign 1) or removes (-1) rec to the counters of hdr. */
void index_hdr_add(struct index_hdr *hdr, const struct mail_rec *rec,
		   int sign);
/* Loads the meta (keywords, uidvalidity) from account.info. */
int mailbox_meta_load(struct mailbox *box);

/* Internal operations with the exclusive lock held and box->hdr fresh. */
int mailbox_append_locked(struct mailbox *box, const struct fmt_msg *msgs,
			  unsigned int count, uint32_t *uids_r);
int mailbox_expunge_locked(struct mailbox *box, const uint32_t *uids,
			   unsigned int count, bool only_deleted,
			   struct uid_array *expunged_r);
/* Keyword index of name in box's table, creating it (lock held
   exclusively). -1 NOT_POSSIBLE when the table is full. */
int mailbox_keyword_get(struct mailbox *box, const char *name,
			bool create, unsigned int *index_r);
/* Around a change that may create keywords (save, flags, copy), under
   the exclusive lock held from before _begin until after _end: when the
   change failed, _end takes the keywords it created out of the table
   again (no message can use them), keeping the error. */
void mailbox_keywords_begin(struct mailbox *box);
void mailbox_keywords_end(struct mailbox *box, bool failed);

/* Reads a current message (by the index) into out, with its separator
   parsed when mbox (return path). */
int mailbox_read_rec(struct mailbox *box, int mbox_fd,
		     const struct mail_rec *rec, buf_t *out,
		     char **return_path_r);

#endif
