/* SPDX-License-Identifier: MIT */
/*
 * fmt-mbox.c: the text mailbox format (.mbox), one file of records
 *
 *   From <return-path> (<flags>-<uid>) <Www Mmm dd hh:mm:ss yyyy> <size>\n
 *   <size bytes of the message, as appended>\n
 *
 * (docs/storage-format.md has the byte-exact rules). This file parses and
 * writes separator lines, scans a file into records, appends, rewrites
 * flags in place and rewrites the whole file for expunges. It knows
 * nothing of the index or of accounts; mailbox.c and friends call it with
 * the account lock held. Part of the store (see mailbox-private.h).
 */
#include "mailbox-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How much the scanner reads at a time. */
#define MBOX_READ_CHUNK (128 * 1024)
/* The rewrite flushes its output buffer at this size. */
#define MBOX_WRITE_CHUNK (1024 * 1024)
/* Largest size field accepted in a separator. */
#define MBOX_SIZE_MAX (1ULL << 40)

static const char wday_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* ------------------------------------------------------------------ */
/* separator lines                                                      */
/* ------------------------------------------------------------------ */

void
mbox_ctime(int64_t t, char out[25])
{
	struct tm tm;
	time_t tt = (time_t)t;
	char tmp[64];

	if (!fmt_date_valid(t) || gmtime_r(&tt, &tm) == NULL) {
		tt = 0;
		gmtime_r(&tt, &tm);
	}
	/* asctime's layout: the day is space-padded to 2 characters */
	snprintf(tmp, sizeof(tmp), "%s %s%3d %02d:%02d:%02d %04d",
		 wday_names[tm.tm_wday], month_names[tm.tm_mon], tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	memcpy(out, tmp, 24);
	out[24] = '\0';
}

static int
digits2(const unsigned char *p, int *n_r)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	*n_r = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

int
mbox_ctime_parse(const unsigned char *p, size_t len, int64_t *t_r)
{
	struct tm tm, check;
	int i, mon = -1, wday = -1, day, year = 0;
	time_t t;

	if (len != 24 || p[3] != ' ' || p[7] != ' ' || p[10] != ' ' ||
	    p[13] != ':' || p[16] != ':' || p[19] != ' ')
		return -1;
	for (i = 0; i < 7; i++) {
		if (memcmp(p, wday_names[i], 3) == 0)
			wday = i;
	}
	for (i = 0; i < 12; i++) {
		if (memcmp(p + 4, month_names[i], 3) == 0)
			mon = i;
	}
	if (wday < 0 || mon < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (p[8] == ' ') {
		if (p[9] < '1' || p[9] > '9')
			return -1;
		day = p[9] - '0';
	} else if (digits2(p + 8, &day) < 0 || day < 10) {
		return -1;
	}
	if (digits2(p + 11, &tm.tm_hour) < 0 || digits2(p + 14, &tm.tm_min) < 0 ||
	    digits2(p + 17, &tm.tm_sec) < 0)
		return -1;
	for (i = 20; i < 24; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		year = year * 10 + (p[i] - '0');
	}
	if (year < 1000 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_mday = day;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	t = timegm(&tm);
	/* timegm normalises Feb 30 to Mar 2: refuse such dates. */
	if (gmtime_r(&t, &check) == NULL || check.tm_mday != day ||
	    check.tm_mon != mon)
		return -1;
	*t_r = (int64_t)t;
	return 0;
}

/* Parses the decimal digits ending at line[*p_io] (exclusive), moving
   *p_io to the first digit. */
static int
parse_digits_back(const unsigned char *line, size_t *p_io, size_t max_digits,
		  uint64_t *n_r)
{
	size_t p = *p_io, q = p, i;
	uint64_t n = 0;

	while (q > 0 && line[q - 1] >= '0' && line[q - 1] <= '9')
		q--;
	if (q == p || p - q > max_digits)
		return -1;
	if (line[q] == '0' && p - q > 1)
		return -1;
	for (i = q; i < p; i++)
		n = n * 10 + (uint64_t)(line[i] - '0');
	*p_io = q;
	*n_r = n;
	return 0;
}

static bool
is_flag_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* Everything from the date back to "From "; p = end of the date. */
static int
sep_parse_before_date(const unsigned char *line, size_t p,
		      struct mbox_sep *sep)
{
	uint64_t uid;
	size_t q, i;

	if (p < 24 || mbox_ctime_parse(line + p - 24, 24, &sep->date) < 0)
		return 0;
	p -= 24;
	if (p < 2 || line[p - 1] != ' ' || line[p - 2] != ')')
		return 0;
	p -= 2;
	if (parse_digits_back(line, &p, 10, &uid) < 0 || uid == 0 ||
	    uid > UINT32_MAX)
		return 0;
	sep->uid = (uint32_t)uid;
	if (p < 1 || line[p - 1] != '-')
		return 0;
	p--;
	q = p;
	while (q > 0 && is_flag_char(line[q - 1]))
		q--;
	if (p - q > MBOX_FLAGS_FIELD_MAX || q < 2 || line[q - 1] != '(' ||
	    line[q - 2] != ' ')
		return 0;
	sep->flags_off = (uint16_t)q;
	sep->flags_len = (uint16_t)(p - q);
	sep->flags = flags_from_letters((const char *)line + q, p - q, true,
					&sep->unknown_flags);
	/* the return path: "From " <...> " (" */
	p = q - 2;
	if (p < 5 + 2 || line[5] != '<' || line[p - 1] != '>')
		return 0;
	for (i = 5; i < p; i++) {
		if (line[i] < 0x20 || line[i] == 0x7f)
			return 0;
	}
	sep->rp_off = 5;
	sep->rp_len = (uint16_t)(p - 5);
	return 1;
}

int
mbox_sep_parse(const unsigned char *line, size_t len, struct mbox_sep *sep_r)
{
	size_t p = len;
	uint64_t size;

	memset(sep_r, 0, sizeof(*sep_r));
	if (len < 5 || len >= MBOX_SEPARATOR_MAX ||
	    memcmp(line, "From ", 5) != 0)
		return 0;
	/* With the trailing size first; then the plain CommuniGate line. */
	if (parse_digits_back(line, &p, 20, &size) == 0 && p > 0 &&
	    line[p - 1] == ' ' && size <= MBOX_SIZE_MAX &&
	    sep_parse_before_date(line, p - 1, sep_r) == 1) {
		sep_r->size = size;
		sep_r->has_size = true;
		return 1;
	}
	memset(sep_r, 0, sizeof(*sep_r));
	return sep_parse_before_date(line, len, sep_r);
}

int
mbox_return_path_check(const char *return_path)
{
	size_t i, len;

	if (return_path == NULL)
		return 0;
	len = strlen(return_path);
	if (len > MBOX_RETURN_PATH_MAX - 2) {
		return store_set_error(STORE_ERROR_INVALID,
				       "Return path too long");
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)return_path[i];

		if (c < 0x20 || c == 0x7f) {
			return store_set_error(STORE_ERROR_INVALID,
				"Return path contains control characters");
		}
	}
	if (len > 0 && (return_path[0] == '<') != (return_path[len - 1] == '>'))
		return store_set_error(STORE_ERROR_INVALID,
				       "Return path has unbalanced brackets");
	if (len == 1)
		return store_set_error(STORE_ERROR_INVALID,
				       "Return path has unbalanced brackets");
	return 0;
}

void
mbox_sep_write(buf_t *out, const char *return_path, uint32_t flags,
	       uint32_t uid, int64_t date, uint64_t size,
	       unsigned int flags_width)
{
	char letters[FLAGS_LETTERS_MAX + 1], date_str[25];
	unsigned int n;

	buf_append_str(out, "From ");
	if (return_path == NULL || return_path[0] == '\0')
		buf_append_str(out, "<>");
	else if (return_path[0] == '<')
		buf_append_str(out, return_path);
	else
		buf_printf(out, "<%s>", return_path);
	buf_append_str(out, " (");
	n = flags_to_letters(flags, letters);
	buf_append(out, letters, n);
	for (; n < flags_width && n < MBOX_FLAGS_FIELD_MAX; n++)
		buf_append_c(out, '_');
	mbox_ctime(date, date_str);
	buf_printf(out, "-%u) %s %llu\n", uid, date_str,
		   (unsigned long long)size);
}

/* The flags field width to write for flags: at least the minimum, and a
   multiple of 8 so that a few more keywords still fit in place. */
static unsigned int
flags_width(uint32_t flags)
{
	char letters[FLAGS_LETTERS_MAX + 1];
	unsigned int n = flags_to_letters(flags, letters);

	if (n <= MBOX_FLAGS_FIELD_MIN)
		return MBOX_FLAGS_FIELD_MIN;
	return (n + 7) / 8 * 8;
}

bool
mbox_flags_fit(const struct mail_rec *rec, uint32_t flags)
{
	char letters[FLAGS_LETTERS_MAX + 1];

	return flags_to_letters(flags, letters) <= rec->flags_len;
}

/* ------------------------------------------------------------------ */
/* reading                                                              */
/* ------------------------------------------------------------------ */

struct mbox_reader {
	int fd;
	const char *path;
	uint64_t file_size;
	unsigned char *buf;
	size_t cap;
	uint64_t buf_off;
	size_t buf_len;
};

static void
reader_init(struct mbox_reader *r, int fd, const char *path,
	    uint64_t file_size)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->path = path;
	r->file_size = file_size;
	r->cap = MBOX_READ_CHUNK;
	r->buf = i_malloc(r->cap);
}

static void
reader_deinit(struct mbox_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/*
 * Makes the bytes [off, off + want) available (fewer at the end of the
 * file) and points *p_r at them. want <= r->cap. Pointers from earlier
 * calls become invalid.
 */
static int
reader_peek(struct mbox_reader *r, uint64_t off, size_t want,
	    const unsigned char **p_r, size_t *avail_r)
{
	uint64_t left = off < r->file_size ? r->file_size - off : 0;
	size_t done;

	i_assert(want <= r->cap);
	if (want > left)
		want = (size_t)left;
	if (off < r->buf_off || off + want > r->buf_off + r->buf_len) {
		size_t len = left < r->cap ? (size_t)left : r->cap;

		if (fmt_pread(r->fd, r->buf, len, off, &done) < 0)
			return fmt_syscall_error("pread", r->path);
		r->buf_off = off;
		r->buf_len = done;
	}
	*p_r = r->buf + (off - r->buf_off);
	*avail_r = (size_t)(r->buf_off + r->buf_len - off);
	if (*avail_r > want)
		*avail_r = want;
	return 0;
}

enum line_state {
	LINE_OK,                /* a complete line (without "\n") */
	LINE_EOF,               /* the file ends before a "\n" */
	LINE_LONG,              /* no "\n" within MBOX_SEPARATOR_MAX */
};

static int
reader_line(struct mbox_reader *r, uint64_t off, const unsigned char **p_r,
	    size_t *len_r, enum line_state *state_r)
{
	const unsigned char *p, *nl;
	size_t avail;

	if (reader_peek(r, off, MBOX_SEPARATOR_MAX, &p, &avail) < 0)
		return -1;
	nl = memchr(p, '\n', avail);
	*p_r = p;
	if (nl != NULL) {
		*len_r = (size_t)(nl - p);
		*state_r = LINE_OK;
	} else {
		*len_r = avail;
		*state_r = off + avail >= r->file_size ? LINE_EOF : LINE_LONG;
	}
	return 0;
}

/* Offset of the first separator line starting after pos (a line start
   follows a "\n" at or after pos), or the file size when none. */
static int
find_next_sep(struct mbox_reader *r, uint64_t pos, uint64_t *sep_off_r)
{
	const unsigned char *p, *hit, *line;
	struct mbox_sep sep;
	enum line_state state;
	size_t avail, len;
	uint64_t cand;

	while (pos < r->file_size) {
		if (reader_peek(r, pos, r->cap, &p, &avail) < 0)
			return -1;
		hit = memmem(p, avail, "\nFrom ", 6);
		if (hit == NULL) {
			if (pos + avail >= r->file_size)
				break;
			pos += avail - 5;
			continue;
		}
		cand = pos + (uint64_t)(hit - p) + 1;
		if (reader_line(r, cand, &line, &len, &state) < 0)
			return -1;
		if (state == LINE_OK && mbox_sep_parse(line, len, &sep) == 1) {
			*sep_off_r = cand;
			return 0;
		}
		pos = cand;
	}
	*sep_off_r = r->file_size;
	return 0;
}

static void ATTR_FORMAT(4, 5)
scan_problem(struct fmt_scan *scan, buf_t *report, const char *path,
	     const char *fmt, ...)
{
	va_list args;

	scan->problems++;
	if (report == NULL)
		return;
	buf_printf(report, "%s: ", path);
	va_start(args, fmt);
	buf_vprintf(report, fmt, args);
	va_end(args);
	buf_append_c(report, '\n');
}

/* Where the message after a size-less separator ends: before the next
   separator line, without the "\n" that ends the record. */
static int
sizeless_body(struct mbox_reader *r, uint64_t body, uint64_t *size_r,
	      uint64_t *next_r)
{
	const unsigned char *p;
	uint64_t next;
	size_t avail;

	if (find_next_sep(r, body - 1, &next) < 0)
		return -1;
	*size_r = next - body;
	if (next > body) {
		if (reader_peek(r, next - 1, 1, &p, &avail) < 0)
			return -1;
		if (avail == 1 && p[0] == '\n')
			*size_r -= 1;
	}
	*next_r = next;
	return 0;
}

/* Scans the record at off whose separator (len bytes) is sep. *next_r is
   where the next record starts; returns 1 ok, 0 torn, -1 error. */
static int
scan_record(struct mbox_reader *r, uint64_t off, const struct mbox_sep *sepp,
	    size_t len, struct fmt_scan *scan, buf_t *report,
	    struct mail_rec *rec, uint64_t *next_r)
{
	const struct mbox_sep sep = *sepp;
	const unsigned char *p;
	uint64_t body = off + len + 1;
	size_t avail;

	rec->uid = sep.uid;
	rec->flags = sep.flags;
	rec->internal_date = sep.date;
	rec->save_date = sep.date;
	rec->offset = off;
	rec->hdr_len = (uint16_t)(len + 1);
	rec->flags_off = sep.flags_off;
	rec->flags_len = sep.flags_len;
	if (sep.unknown_flags > 0) {
		scan->warnings++;
		if (report != NULL) {
			buf_printf(report, "%s: warning: offset %llu: "
				   "unknown flag letters ignored\n", r->path,
				   (unsigned long long)off);
		}
	}
	if (sep.has_size) {
		if (body + sep.size + 1 > r->file_size)
			return 0;
		if (reader_peek(r, body + sep.size, 1, &p, &avail) < 0)
			return -1;
		if (avail == 1 && p[0] == '\n') {
			rec->size = sep.size;
			*next_r = body + sep.size + 1;
			return 1;
		}
		/* A record whose end is wrong at the tail of the file is a
		   torn write (a crash may leave blocks unwritten). */
		if (sizeless_body(r, body, &rec->size, next_r) < 0)
			return -1;
		if (*next_r >= r->file_size)
			return 0;
		scan_problem(scan, report, r->path, "offset %llu: uid %u: "
			     "no record end after %llu bytes",
			     (unsigned long long)off, sep.uid,
			     (unsigned long long)sep.size);
		return 1;
	}
	if (sizeless_body(r, body, &rec->size, next_r) < 0)
		return -1;
	return 1;
}

/* The file ends inside what starts like a separator: a torn append. */
static bool
tail_is_torn(const unsigned char *line, size_t len)
{
	return memcmp(line, "From ", len < 5 ? len : 5) == 0;
}

int
mbox_scan(int fd, const char *path, uint64_t start, uint64_t file_size,
	  uint32_t min_uid, struct fmt_scan *scan, buf_t *report)
{
	struct mbox_reader r;
	const unsigned char *line;
	enum line_state state;
	struct mbox_sep sep;
	struct mail_rec rec;
	uint64_t off = start, next;
	uint32_t last_uid = min_uid;
	size_t len;
	int ret = 0;

	reader_init(&r, fd, path, file_size);
	scan->end = file_size;
	scan->torn = false;
	while (off < file_size) {
		if (reader_line(&r, off, &line, &len, &state) < 0) {
			ret = -1;
			break;
		}
		if (state == LINE_OK && mbox_sep_parse(line, len, &sep) == 1) {
			memset(&rec, 0, sizeof(rec));
			ret = scan_record(&r, off, &sep, len, scan, report,
					  &rec, &next);
			if (ret <= 0)
				break;
			ret = 0;
			if (rec.uid <= last_uid) {
				scan->bad_uids++;
				scan_problem(scan, report, path, "offset %llu: "
					     "uid %u not above %u",
					     (unsigned long long)off, rec.uid,
					     last_uid);
			} else {
				last_uid = rec.uid;
			}
			if (scan->count >= MAILBOX_INDEX_RECORDS_MAX) {
				ret = store_set_error(STORE_ERROR_CORRUPT,
					"%s: too many messages", path);
				break;
			}
			*fmt_scan_add(scan) = rec;
			off = next;
			continue;
		}
		if (state == LINE_EOF && tail_is_torn(line, len)) {
			ret = 0;
			break;
		}
		scan_problem(scan, report, path,
			     "offset %llu: not a separator line",
			     (unsigned long long)off);
		if (find_next_sep(&r, off, &next) < 0) {
			ret = -1;
			break;
		}
		off = next;
	}
	if (ret == 0 && off < file_size) {
		/* stopped at a torn record */
		scan->end = off;
		scan->torn = true;
	}
	if (ret > 0)
		ret = 0;
	reader_deinit(&r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* writing                                                              */
/* ------------------------------------------------------------------ */

/* Fills the separator fields of rec from the line just written. */
static void
rec_set_sep(struct mail_rec *rec, const unsigned char *line, size_t hdr_len)
{
	struct mbox_sep sep;

	if (mbox_sep_parse(line, hdr_len - 1, &sep) != 1)
		i_panic("mbox: wrote an unparsable separator");
	rec->hdr_len = (uint16_t)hdr_len;
	rec->flags_off = sep.flags_off;
	rec->flags_len = sep.flags_len;
}

/* Whether the file ends inside a line (bytes another tool left that are
   not a record): then a new separator must start on a line of its own. */
static int
ends_mid_line(int fd, const char *path, uint64_t at, bool *mid_r)
{
	unsigned char c;
	size_t done;

	*mid_r = false;
	if (at == 0)
		return 0;
	if (fmt_pread(fd, &c, 1, at - 1, &done) < 0)
		return fmt_syscall_error("pread", path);
	*mid_r = done == 1 && c != '\n';
	return 0;
}

int
mbox_append(int fd, const char *path, uint64_t at,
	    const struct fmt_msg *msgs, unsigned int count,
	    struct mail_rec *recs_r)
{
	buf_t buf = BUF_INIT;
	uint64_t pos = at;
	unsigned int i;
	size_t hdr_len, lead;
	bool mid_line;
	int ret = -1;

	if (ends_mid_line(fd, path, at, &mid_line) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		const struct fmt_msg *msg = &msgs[i];
		struct mail_rec *rec = &recs_r[i];

		buf_reset(&buf);
		lead = i == 0 && mid_line ? 1 : 0;
		if (lead > 0)
			buf_append_c(&buf, '\n');
		mbox_sep_write(&buf, msg->return_path, msg->flags, msg->uid,
			       msg->internal_date, msg->len,
			       flags_width(msg->flags));
		hdr_len = buf.len - lead;
		memset(rec, 0, sizeof(*rec));
		rec_set_sep(rec, buf.data + lead, hdr_len);
		buf_append(&buf, msg->data, msg->len);
		buf_append_c(&buf, '\n');
		/* one write per record: a crash tears at most the tail */
		if (vfs_pwrite_all(fd, buf.data, buf.len, (off_t)pos) == -1) {
			fmt_syscall_error("write", path);
			goto fail;
		}
		rec->uid = msg->uid;
		rec->flags = msg->flags;
		rec->size = msg->len;
		rec->internal_date = msg->internal_date;
		rec->offset = pos + lead;
		pos += buf.len;
	}
	if (vfs_fdatasync(fd) == -1) {
		fmt_syscall_error("fdatasync", path);
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	/* Nothing of a failed append may stay: it was not acknowledged. */
	if (vfs_ftruncate(fd, (off_t)at) == -1 || vfs_fdatasync(fd) == -1)
		log_warn("mbox: ftruncate(%s) after a failed append", path);
out:
	buf_deinit(&buf);
	return ret;
}

int
mbox_truncate(int fd, const char *path, uint64_t size)
{
	if (vfs_ftruncate(fd, (off_t)size) == -1)
		return fmt_syscall_error("ftruncate", path);
	if (vfs_fsync(fd) == -1)
		return fmt_syscall_error("fsync", path);
	return 0;
}

static int
write_flags_field(int fd, const struct mail_rec *rec, uint32_t flags)
{
	char letters[FLAGS_LETTERS_MAX + 1];
	char field[MBOX_FLAGS_FIELD_MAX];
	unsigned int n = flags_to_letters(flags, letters);

	i_assert(n <= rec->flags_len && rec->flags_len <= sizeof(field));
	memcpy(field, letters, n);
	memset(field + n, '_', rec->flags_len - n);
	return vfs_pwrite_all(fd, field, rec->flags_len,
			      (off_t)(rec->offset + rec->flags_off));
}

int
mbox_write_flags(int fd, const char *path, const struct mail_rec *recs,
		 const uint32_t *new_flags, unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < count; i++) {
		if (write_flags_field(fd, &recs[i], new_flags[i]) == -1)
			break;
	}
	/* fsync, not fdatasync: the size does not change, so only a durable
	   mtime tells an index that survived a power loss that it is
	   stale */
	if (i == count && vfs_fsync(fd) == 0)
		return 0;
	fmt_syscall_error(i == count ? "fsync" : "pwrite", path);
	/* Put the old flags back so the mailbox is as before. */
	for (j = 0; j < i && j < count; j++) {
		if (write_flags_field(fd, &recs[j], recs[j].flags) == -1)
			break;
	}
	if (j != (i < count ? i : count) || vfs_fsync(fd) == -1)
		log_warn("mbox: %s: could not restore flags", path);
	return -1;
}

int
mbox_read_sep(int fd, const char *path, const struct mail_rec *rec,
	      unsigned char line[MBOX_SEPARATOR_MAX], struct mbox_sep *sep_r)
{
	size_t done;

	if (rec->hdr_len == 0 || rec->hdr_len > MBOX_SEPARATOR_MAX)
		return store_set_error(STORE_ERROR_CORRUPT,
				       "%s: bad separator length", path);
	if (fmt_pread(fd, line, rec->hdr_len, rec->offset, &done) < 0)
		return fmt_syscall_error("pread", path);
	if (done != rec->hdr_len || line[rec->hdr_len - 1] != '\n' ||
	    mbox_sep_parse(line, rec->hdr_len - 1u, sep_r) != 1 ||
	    sep_r->uid != rec->uid) {
		return store_set_error(STORE_ERROR_CORRUPT,
			"%s: no separator for uid %u at offset %llu", path,
			rec->uid, (unsigned long long)rec->offset);
	}
	return 0;
}

/* Appends rec (read from src_fd) to out with its new uid and flags, and
   updates rec's position to pos. */
static int
rewrite_record(int src_fd, const char *path, struct mail_rec *rec,
	       uint64_t pos, buf_t *in, buf_t *out)
{
	struct mbox_sep sep;
	size_t len = rec->hdr_len + (size_t)rec->size, done, start;
	char *rp;

	buf_reset(in);
	buf_reserve(in, len);
	if (fmt_pread(src_fd, in->data, len, rec->offset, &done) < 0)
		return fmt_syscall_error("pread", path);
	if (done != len || rec->hdr_len == 0 ||
	    mbox_sep_parse(in->data, rec->hdr_len - 1u, &sep) != 1) {
		return store_set_error(STORE_ERROR_CORRUPT,
			"%s: record of uid %u changed during rewrite", path,
			rec->uid);
	}
	rp = i_strndup((const char *)in->data + sep.rp_off, sep.rp_len);
	start = out->len;
	mbox_sep_write(out, rp, rec->flags, rec->uid, rec->internal_date,
		       rec->size, flags_width(rec->flags));
	free(rp);
	rec_set_sep(rec, out->data + start, out->len - start);
	rec->offset = pos;
	buf_append(out, in->data + len - rec->size, (size_t)rec->size);
	buf_append_c(out, '\n');
	return 0;
}

/*
 * The directory fsync after the rename failed: the rewrite is visible
 * but not known to be durable, and the caller reports a failure. So the
 * old file, still open as src_fd, is copied back the same way (temp
 * file, fsync, rename). A failure is logged; the rewritten file, which
 * holds every message kept, then stays.
 */
static void
rewrite_undo(int src_fd, const char *path, const char *tmp)
{
	unsigned char *buf = i_malloc(MBOX_WRITE_CHUNK);
	uint64_t pos = 0;
	size_t done;
	int fd;

	if ((fd = vfs_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		goto fail;
	do {
		if (fmt_pread(src_fd, buf, MBOX_WRITE_CHUNK, pos, &done) < 0 ||
		    (done > 0 && vfs_write_all(fd, buf, done) == -1))
			goto fail_fd;
		pos += done;
	} while (done == MBOX_WRITE_CHUNK);
	if (vfs_fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1 || vfs_rename(tmp, path) == -1)
		goto fail;
	(void)vfs_fsync_parent(path);
	free(buf);
	return;
fail_fd:
	close(fd);
fail:
	log_warn("mbox: %s: could not put the old file back", path);
	(void)unlink(tmp);
	free(buf);
}

int
mbox_rewrite(int src_fd, const char *path, struct mail_rec *keep,
	     unsigned int count)
{
	buf_t in = BUF_INIT, out = BUF_INIT;
	char *tmp = i_strdup_printf("%s.tmp", path);
	uint64_t pos = 0;
	unsigned int i;
	int fd, ret = -1;

	/* A temp file left by a crash is garbage: only the lock holder
	   writes it. */
	if (vfs_unlink(tmp) == -1 && errno != ENOENT) {
		fmt_syscall_error("unlink", tmp);
		goto out;
	}
	fd = vfs_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1) {
		fmt_syscall_error("open", tmp);
		goto out;
	}
	for (i = 0; i < count; i++) {
		size_t before = out.len;

		if (rewrite_record(src_fd, path, &keep[i], pos, &in, &out) < 0)
			goto fail;
		pos += out.len - before;
		if (out.len >= MBOX_WRITE_CHUNK || i + 1 == count) {
			if (vfs_write_all(fd, out.data, out.len) == -1) {
				fmt_syscall_error("write", tmp);
				goto fail;
			}
			buf_reset(&out);
		}
	}
	if (vfs_fsync(fd) == -1) {
		fmt_syscall_error("fsync", tmp);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (vfs_rename(tmp, path) == -1) {
		fmt_syscall_error("rename", path);
		goto fail;
	}
	if (vfs_fsync_parent(path) == -1) {
		fmt_syscall_error("fsync", path);
		rewrite_undo(src_fd, path, tmp);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	if (fd != -1)
		close(fd);
	if (unlink(tmp) == -1 && errno != ENOENT)
		log_warn("mbox: unlink(%s)", tmp);
out:
	buf_deinit(&in);
	buf_deinit(&out);
	free(tmp);
	return ret;
}
