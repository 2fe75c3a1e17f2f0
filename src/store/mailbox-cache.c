/* SPDX-License-Identifier: MIT */
/*
 * mailbox-cache.c: the header cache beside a mailbox (NAME.mbox.cache,
 * NAME.mdir.cache). For each message it keeps the raw header fields that
 * listings, ENVELOPE, SORT, THREAD and header searches read, so those do
 * not open and parse every message: a .mdir listing otherwise opens one
 * file per message. Layout in docs/storage-format.md, "Header cache".
 *
 * Only a cache. Messages never change, so a record, once checksummed,
 * stays true for its UID under its UIDVALIDITY. Writers append records
 * with O_APPEND without any lock (several sessions may fill it at once;
 * a duplicate is harmless); readers check every record and stop at the
 * first bad one. A torn or damaged file, or one that holds mostly
 * expunged messages, is rewritten whole (temp file + rename) by the next
 * writer. The file is never truncated in place, so a mapping of it stays
 * readable. Nothing here is fsynced: losing it costs time, not mail; for
 * the same reason its writes bypass lib/vfs, whose fault and crash
 * injection count the writes that must be durable.
 */
#include "mailbox-private.h"
#include "log.h"
#include "mime-header.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CACHE_MAGIC 0x48434d43u         /* "CMCH" */
#define CACHE_VERSION 1u
#define CACHE_HDR_SIZE 16u
#define CACHE_REC_HDR 12u
/* A message whose cached fields are longer is not cached (read each
   time): such headers are rare and would bloat every reader's work. */
#define CACHE_VALUE_MAX (64u * 1024u)
/* Header bytes read from a message to find the fields. */
#define CACHE_HEAD_MAX (256u * 1024u)
#define CACHE_READ_CHUNK (16u * 1024u)
/* A bigger file is ignored and rewritten. */
#define CACHE_FILE_MAX (1024u * 1024u * 1024u)
/* Pending records are written once there are this many or they are
   this big, so that a long session shares what it parsed soon. */
#define CACHE_FLUSH_RECORDS 1024u
#define CACHE_FLUSH_BYTES (8u * 1024u * 1024u)

/* The fields kept: ENVELOPE's (RFC 3501 §7.4.2) and References. */
static const char *const cache_fields[] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID", "References",
};

struct cache_ent {
	uint32_t uid;
	uint32_t len;
	size_t off;             /* of the value in the mapping */
};

struct mailbox_cache {
	char *path;
	const unsigned char *map;
	size_t map_size;
	uint64_t ino;
	struct cache_ent *ents;         /* of the mapping, by UID */
	unsigned int count, ent_cap;
	/* the file needs rewriting: damaged, foreign or stale */
	bool rewrite;
	/* the mapping ends inside a record: torn, or a write in progress */
	bool tail_short;
	/* view UIDNEXT when mapped: the records that saves wrote for
	   messages below it are in the mapping (they were written under
	   the lock before the sync that brought the message into the
	   view), so a miss there needs no look at the file */
	uint32_t map_uidnext;
	/* the file's size with what we appended since mapping it */
	uint64_t seen_size;
	/* UIDs we appended since mapping it (not in ents) */
	uint32_t flushed_min, flushed_max;
	/* records not yet written (CACHE_REC_HDR + value each), and where
	   their values are in it */
	buf_t pending;
	struct cache_ent *pending_ents;
	unsigned int pending_count, pending_cap;
	bool pending_sorted;
};

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The checksum of a record: its UID, length and value. */
static uint32_t
rec_crc(uint32_t uid, const unsigned char *value, uint32_t len)
{
	unsigned char head[8];
	uLong crc;

	put_u32(head, uid);
	put_u32(head + 4, len);
	crc = crc32(0L, head, sizeof(head));
	/* zlib gives its initial value for a NULL buffer, whatever crc
	   was: an empty value must not depend on its pointer */
	return len == 0 ? (uint32_t)crc : (uint32_t)crc32(crc, value, len);
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct cache_ent *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void
cache_unmap(struct mailbox_cache *cache)
{
	if (cache->map != NULL)
		munmap((void *)cache->map, cache->map_size);
	cache->map = NULL;
	cache->map_size = 0;
	free(cache->ents);
	cache->ents = NULL;
	cache->count = cache->ent_cap = 0;
}

/* Reads the records of a mapped file from offset start (0: the
   header first) into ents; a bad one ends the list and asks for a
   rewrite. */
static void
cache_parse(struct mailbox_cache *cache, uint32_t uidvalidity, size_t start)
{
	const unsigned char *p = cache->map;
	size_t pos = start;
	bool sorted = true;

	if (start == 0) {
		if (cache->map_size < CACHE_HDR_SIZE ||
		    get_u32(p) != CACHE_MAGIC ||
		    get_u32(p + 4) != CACHE_VERSION ||
		    get_u32(p + 8) != uidvalidity) {
			cache->rewrite = true;
			return;
		}
		pos = CACHE_HDR_SIZE;
	}
	while (pos < cache->map_size) {
		uint32_t uid, len;

		if (cache->map_size - pos < CACHE_REC_HDR) {
			cache->tail_short = true;
			break;
		}
		uid = get_u32(p + pos);
		len = get_u32(p + pos + 4);
		if (uid != 0 && len <= CACHE_VALUE_MAX &&
		    cache->map_size - pos - CACHE_REC_HDR < len) {
			cache->tail_short = true;
			break;
		}
		if (uid == 0 || len > CACHE_VALUE_MAX ||
		    rec_crc(uid, p + pos + CACHE_REC_HDR, len) !=
		    get_u32(p + pos + 8)) {
			cache->rewrite = true;
			break;
		}
		if (cache->count == cache->ent_cap) {
			cache->ent_cap = cache->ent_cap == 0 ? 256 :
				cache->ent_cap * 2;
			cache->ents = i_realloc(cache->ents, cache->ent_cap *
						sizeof(*cache->ents));
		}
		if (cache->count > 0 && cache->ents[cache->count - 1].uid > uid)
			sorted = false;
		cache->ents[cache->count].uid = uid;
		cache->ents[cache->count].len = len;
		cache->ents[cache->count].off = pos + CACHE_REC_HDR;
		cache->count++;
		pos += CACHE_REC_HDR + len;
	}
	/* appended mostly in UID order; sorting makes lookups bsearch */
	if (!sorted)
		qsort(cache->ents, cache->count, sizeof(*cache->ents),
		      ent_cmp);
}

unsigned int
mailbox_cache_parse_buf(const unsigned char *data, size_t size,
			uint32_t uidvalidity, bool *rewrite_r,
			uint32_t *first_uid_r, uint32_t *last_uid_r)
{
	struct mailbox_cache cache;
	unsigned int i;

	memset(&cache, 0, sizeof(cache));
	cache.map = data;
	cache.map_size = size;
	cache_parse(&cache, uidvalidity, 0);
	for (i = 0; i < cache.count; i++) {
		const struct cache_ent *e = &cache.ents[i];

		i_assert(e->off >= CACHE_HDR_SIZE + CACHE_REC_HDR &&
			 e->off + e->len <= size && e->len <= CACHE_VALUE_MAX);
		i_assert(i == 0 || cache.ents[i - 1].uid <= e->uid);
		i_assert(rec_crc(e->uid, data + e->off, e->len) ==
			 get_u32(data + e->off - 4));
	}
	*rewrite_r = cache.rewrite || cache.tail_short;
	*first_uid_r = cache.count == 0 ? 0 : cache.ents[0].uid;
	*last_uid_r = cache.count == 0 ? 0 : cache.ents[cache.count - 1].uid;
	free(cache.ents);
	return i;
}

/* (Re)maps the file. A missing file is an empty cache. */
static void
cache_load(struct mailbox *box, struct mailbox_cache *cache)
{
	uint32_t uidvalidity = box->view_uidvalidity;
	struct stat st;
	void *map;
	int fd;

	cache_unmap(cache);
	cache->ino = 0;
	cache->seen_size = 0;
	cache->flushed_min = cache->flushed_max = 0;
	cache->rewrite = false;
	cache->tail_short = false;
	/* before the open: a save after it may or may not be seen */
	cache->map_uidnext = box->view_uidnext;
	fd = open(cache->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("%s: open", cache->path);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > CACHE_FILE_MAX) {
		cache->rewrite = true;
		close(fd);
		return;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		log_warn("%s: mmap", cache->path);
		return;
	}
	cache->map = map;
	cache->map_size = (size_t)st.st_size;
	cache->seen_size = (uint64_t)st.st_size;
	cache->ino = (uint64_t)st.st_ino;
	cache_parse(cache, uidvalidity, 0);
}

/* The file only grew since it was mapped (same inode, the mapping ended
   after a whole record): maps it again and checks only the records
   added, so a session of a big mailbox pays for the new messages, not
   for the whole file, whenever mail arrives. false when it takes a full
   load. */
static bool
cache_load_more(struct mailbox *box, struct mailbox_cache *cache)
{
	size_t old_size = cache->map_size;
	struct stat st;
	void *map;
	int fd;

	if (cache->map == NULL || cache->rewrite || cache->tail_short)
		return false;
	fd = open(cache->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	if (fstat(fd, &st) == -1 || (uint64_t)st.st_ino != cache->ino ||
	    (uint64_t)st.st_size < old_size ||
	    (uint64_t)st.st_size > CACHE_FILE_MAX) {
		close(fd);
		return false;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	munmap((void *)cache->map, cache->map_size);
	cache->map = map;
	cache->map_size = (size_t)st.st_size;
	cache->seen_size = (uint64_t)st.st_size;
	/* our own appends are in the file, so now in ents */
	cache->flushed_min = cache->flushed_max = 0;
	cache->map_uidnext = box->view_uidnext;
	cache_parse(cache, box->view_uidvalidity, old_size);
	return true;
}

static const struct cache_ent *
ents_find(const struct cache_ent *ents, unsigned int count, bool sorted,
	  uint32_t uid)
{
	struct cache_ent key = { .uid = uid };
	unsigned int i;

	if (sorted) {
		return count == 0 ? NULL :
			bsearch(&key, ents, count, sizeof(key), ent_cmp);
	}
	for (i = 0; i < count; i++) {
		if (ents[i].uid == uid)
			return &ents[i];
	}
	return NULL;
}

/* The value of uid, from the mapping or the pending records. */
static bool
cache_lookup(const struct mailbox_cache *cache, uint32_t uid, buf_t *out)
{
	const struct cache_ent *e;

	e = ents_find(cache->ents, cache->count, true, uid);
	if (e != NULL) {
		buf_append(out, cache->map + e->off, e->len);
		return true;
	}
	e = ents_find(cache->pending_ents, cache->pending_count,
		      cache->pending_sorted, uid);
	if (e != NULL) {
		buf_append(out, (const unsigned char *)cache->pending.data +
			   e->off, e->len);
		return true;
	}
	return false;
}

bool
store_header_field_cached(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cache_fields); i++) {
		if (strcasecmp(name, cache_fields[i]) == 0)
			return true;
	}
	return false;
}

/* Appends the cached fields of the header the parser has seen, as
   "Name:value\r\n" each. */
static void
fields_emit(struct mime_header_parser *parser, buf_t *out)
{
	struct mime_header_field field;

	while (mime_header_parser_next(parser, &field) == 1) {
		if (!store_header_field_cached(field.name))
			continue;
		buf_printf(out, "%s:", field.name);
		buf_append(out, field.value, field.value_len);
		buf_append(out, "\r\n", 2);
	}
}

/* The bytes of data up to and with the empty line ending its header
   (RFC 5322 §2.1), or len when there is none. The parser moves what it
   has not consumed yet after each field, so feeding it a message's body
   too costs more than the header itself. */
static uint64_t
header_size(const unsigned char *data, uint64_t len)
{
	const unsigned char *p = data, *end = data + len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		if (p < end && *p == '\n')
			return (uint64_t)(p + 1 - data);
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return (uint64_t)(p + 2 - data);
	}
	return len;
}

/* Appends the cached fields of a message's first size bytes (at most
   CACHE_HEAD_MAX), taken from data, or read from fd at offset when data
   is NULL, until its header ends: one value, byte for byte, whether a
   save computes it from the bytes it writes or a reader from the file.
   A message shorter than its size gives what was read. */
static void
fields_parse(const unsigned char *data, int fd, off_t offset, uint64_t size,
	     buf_t *out)
{
	struct mime_header_parser *parser = mime_header_parser_create();
	unsigned char chunk[CACHE_READ_CHUNK];
	const unsigned char *p = chunk;
	uint64_t done = 0;
	ssize_t n;

	if (size > CACHE_HEAD_MAX)
		size = CACHE_HEAD_MAX;
	if (data != NULL)
		size = header_size(data, size);
	for (;;) {
		fields_emit(parser, out);
		if (mime_header_parser_done(parser))
			break;
		if (done == size) {
			mime_header_parser_feed_eof(parser);
			continue;
		}
		n = (ssize_t)(size - done < sizeof(chunk) ? size - done :
			      sizeof(chunk));
		if (data != NULL)
			p = data + done;
		else
			n = pread(fd, chunk, (size_t)n, offset + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			size = done;
			continue;
		}
		mime_header_parser_feed(parser, p, (size_t)n);
		done += (uint64_t)n;
	}
	mime_header_parser_destroy(&parser);
}

/* Appends the cached fields of a message of the view to out. */
static int
cache_fields_from_msg(struct mailbox *box, const struct store_msg *msg,
		      buf_t *out)
{
	buf_t whole = BUF_INIT;
	uint64_t size;
	off_t offset;
	int fd, ret;

	ret = store_mailbox_msg_fd(box, msg->uid, &fd, &offset, &size);
	if (ret == 1) {
		fields_parse(NULL, fd, offset, size, out);
		close(fd);
		return 0;
	}
	if (ret == 0) {
		/* no zero-copy range: read it all */
		ret = store_mailbox_msg_read(box, msg->uid, &whole);
		if (ret == 0)
			fields_parse(whole.data, -1, 0, whole.len, out);
	}
	buf_deinit(&whole);
	return ret;
}

/* Appends one record (header and value) to out. */
static void
rec_encode(buf_t *out, uint32_t uid, const unsigned char *value, size_t len)
{
	unsigned char head[CACHE_REC_HDR];

	i_assert(len <= CACHE_VALUE_MAX);
	put_u32(head, uid);
	put_u32(head + 4, (uint32_t)len);
	put_u32(head + 8, rec_crc(uid, value, (uint32_t)len));
	buf_append(out, head, sizeof(head));
	if (len > 0)
		buf_append(out, value, len);
}

static void
cache_add_pending(struct mailbox_cache *cache, uint32_t uid,
		  const unsigned char *value, size_t len)
{
	if (cache->pending_count == cache->pending_cap) {
		cache->pending_cap = cache->pending_cap == 0 ? 256 :
			cache->pending_cap * 2;
		cache->pending_ents = i_realloc(cache->pending_ents,
			cache->pending_cap * sizeof(*cache->pending_ents));
	}
	if (cache->pending_count == 0)
		cache->pending_sorted = true;
	else if (cache->pending_ents[cache->pending_count - 1].uid >= uid)
		cache->pending_sorted = false;
	cache->pending_ents[cache->pending_count].uid = uid;
	cache->pending_ents[cache->pending_count].len = (uint32_t)len;
	cache->pending_ents[cache->pending_count].off = cache->pending.len +
		CACHE_REC_HDR;
	cache->pending_count++;
	rec_encode(&cache->pending, uid, value, len);
}

/* write(2) of all of data; -1 with errno on failure. */
static int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
hdr_encode(buf_t *out, uint32_t uidvalidity)
{
	unsigned char head[CACHE_HDR_SIZE];

	memset(head, 0, sizeof(head));
	put_u32(head, CACHE_MAGIC);
	put_u32(head + 4, CACHE_VERSION);
	put_u32(head + 8, uidvalidity);
	buf_append(out, head, sizeof(head));
}

/* Replaces the file at path with data: temp file, rename, no fsync (a
   cache). The temp name is unique per process and call, as threads of
   one process may replace the same cache at once. Logs failures. */
static void
cache_replace(const char *path, const buf_t *data)
{
	static atomic_uint seq;
	char *tmp;
	int fd;

	tmp = i_strdup_printf("%s.%ld.%u.tmp", path, (long)getpid(),
			      atomic_fetch_add(&seq, 1));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, data->data, data->len) == -1 ||
	    close(fd) == -1 || (fd = -1, rename(tmp, path) == -1)) {
		log_warn("%s: could not write the header cache", tmp);
		if (fd != -1)
			close(fd);
		(void)unlink(tmp);
	}
	free(tmp);
}

/* Writes a new file: header, the mapped records of messages still in
   the mailbox (once each) or newer than the view (a save wrote them
   since), the pending ones. */
static void
cache_rewrite(struct mailbox *box, struct mailbox_cache *cache)
{
	const struct store_msg *msgs = store_mailbox_msgs(box);
	unsigned int i = 0, count = store_mailbox_count(box), j;
	uint32_t last = 0;
	buf_t out = BUF_INIT;

	hdr_encode(&out, box->view_uidvalidity);
	/* msgs and ents both ascend by UID */
	for (j = 0; j < cache->count; j++) {
		const struct cache_ent *e = &cache->ents[j];

		if (e->uid == last)
			continue;
		while (i < count && msgs[i].uid < e->uid)
			i++;
		if ((i < count && msgs[i].uid == e->uid) ||
		    e->uid >= box->view_uidnext) {
			buf_append(&out, cache->map + e->off - CACHE_REC_HDR,
				   CACHE_REC_HDR + e->len);
			last = e->uid;
		}
	}
	if (cache->pending.len > 0)
		buf_append(&out, cache->pending.data, cache->pending.len);
	cache_replace(cache->path, &out);
	buf_deinit(&out);
}

char *
mailbox_cache_path(const char *mailbox_path)
{
	return i_strdup_printf("%s.cache", mailbox_path);
}

/* Whether the file is still what was mapped (no one wrote since). */
static bool
cache_unchanged(const struct mailbox_cache *cache)
{
	struct stat st;

	return stat(cache->path, &st) == 0 &&
		(uint64_t)st.st_ino == cache->ino &&
		(uint64_t)st.st_size == cache->seen_size;
}

/* Writes the pending records: appended to the file, or a rewrite when
   it is damaged or stale. reload: map the result. */
static void
cache_flush(struct mailbox *box, bool reload)
{
	struct mailbox_cache *cache = box->cache;
	unsigned int i;
	bool appended = false, stale;
	int fd;

	if (cache == NULL)
		return;
	/* expunged messages' records once they outnumber the live ones;
	   rewritten even with nothing pending, as saves fill the cache
	   and readers may never miss */
	stale = cache->map != NULL &&
		cache->count > 2 * store_mailbox_count(box) + 1024;
	if (cache->pending_count == 0 && !stale)
		return;
	/* a record cut short at the end: torn by a crash, unless someone
	   wrote since (a write in progress when we mapped it) */
	if (cache->tail_short && cache_unchanged(cache))
		cache->rewrite = true;
	if (cache->rewrite || stale || cache->map == NULL) {
		cache_rewrite(box, cache);
	} else if ((fd = open(cache->path, O_WRONLY | O_APPEND |
			      O_CLOEXEC)) != -1) {
		/* one write: concurrent appenders do not interleave */
		appended = write_all(fd, cache->pending.data,
				     cache->pending.len) == 0;
		if (!appended)
			log_warn("%s: write", cache->path);
		close(fd);
	}
	if (appended) {
		/* not mapped yet: a later miss on one of them remaps */
		cache->seen_size += cache->pending.len;
		for (i = 0; i < cache->pending_count; i++) {
			uint32_t uid = cache->pending_ents[i].uid;

			if (cache->flushed_min == 0 || uid < cache->flushed_min)
				cache->flushed_min = uid;
			if (uid > cache->flushed_max)
				cache->flushed_max = uid;
		}
	}
	buf_reset(&cache->pending);
	cache->pending_count = 0;
	if (!appended && reload)
		cache_load(box, cache);
}

void
mailbox_cache_flush(struct mailbox *box)
{
	cache_flush(box, true);
}

void
mailbox_cache_free(struct mailbox *box)
{
	struct mailbox_cache *cache = box->cache;

	if (cache == NULL)
		return;
	cache_flush(box, false);
	cache_unmap(cache);
	buf_deinit(&cache->pending);
	free(cache->pending_ents);
	free(cache->path);
	free(cache);
	box->cache = NULL;
}

int
store_mailbox_msg_cached_header(struct mailbox *box,
				const struct store_msg *msg, buf_t *out)
{
	struct mailbox_cache *cache = box->cache;
	size_t start = out->len;

	if (cache == NULL) {
		cache = box->cache = i_malloc(sizeof(*cache));
		cache->path = mailbox_cache_path(box->path);
		cache_load(box, cache);
	}
	if (cache_lookup(cache, msg->uid, out))
		return 0;
	if ((msg->uid >= cache->flushed_min &&
	     msg->uid <= cache->flushed_max) ||
	    (msg->uid >= cache->map_uidnext && !cache_unchanged(cache))) {
		/* we wrote it earlier, or the save of a message newer than
		   the mapping did (or another session) */
		cache_flush(box, false);
		if (!cache_load_more(box, cache))
			cache_load(box, cache);
		if (cache_lookup(cache, msg->uid, out))
			return 0;
	}
	/* the file was looked at since the view's messages were saved: a
	   miss below this means no record (never saved with one, lost to
	   a crash or a concurrent rewrite), so no stat per miss */
	cache->map_uidnext = box->view_uidnext;
	if (cache_fields_from_msg(box, msg, out) < 0)
		return -1;
	if (out->len - start <= CACHE_VALUE_MAX) {
		cache_add_pending(cache, msg->uid, out->len == start ? NULL :
				  (const unsigned char *)out->data + start,
				  out->len - start);
		if (cache->pending.len >= CACHE_FLUSH_BYTES ||
		    cache->pending_count >= CACHE_FLUSH_RECORDS)
			mailbox_cache_flush(box);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* records of messages being saved                                      */
/* ------------------------------------------------------------------ */

void
mailbox_cache_saved_add_value(struct cache_saved *saved, uint32_t uid,
			      const unsigned char *value, size_t len)
{
	/* longer ones are not cached: read each time */
	if (len > CACHE_VALUE_MAX)
		return;
	rec_encode(&saved->recs, uid, value, len);
	saved->count++;
}

void
mailbox_cache_saved_add(struct cache_saved *saved, uint32_t uid,
			const unsigned char *data, size_t len,
			const char *path)
{
	buf_t value = BUF_INIT;
	int fd;

	if (data != NULL || len == 0) {
		fields_parse(data, -1, 0, len, &value);
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		fields_parse(NULL, fd, 0, len, &value);
		close(fd);
	} else {
		/* no record: a reader computes it */
		log_warn("%s: open", path);
		return;
	}
	mailbox_cache_saved_add_value(saved, uid, value.data, value.len);
	buf_deinit(&value);
}

bool
mailbox_cache_peek(struct mailbox *box, uint32_t uid, buf_t *value)
{
	return box->cache != NULL && cache_lookup(box->cache, uid, value);
}

/* Whether fd's file starts with the header of a cache of uidvalidity. */
static bool
hdr_valid(int fd, uint32_t uidvalidity)
{
	unsigned char head[CACHE_HDR_SIZE];

	return pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
		get_u32(head) == CACHE_MAGIC &&
		get_u32(head + 4) == CACHE_VERSION &&
		get_u32(head + 8) == uidvalidity;
}

void
mailbox_cache_saved_write(struct mailbox *box, struct cache_saved *saved)
{
	buf_t whole = BUF_INIT;
	char *path;
	int fd;

	i_assert(box->account->lock_exclusive);
	if (saved->count == 0 || !box->hdr_valid)
		goto out;
	path = mailbox_cache_path(box->path);
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd != -1 && !hdr_valid(fd, box->hdr.uidvalidity)) {
		/* damaged, or left by an older mailbox of this name */
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
	if (fd != -1) {
		/* one write: readers and other appenders see the records
		   whole or (a crash) a short tail they detect */
		if (write_all(fd, saved->recs.data, saved->recs.len) == -1)
			log_warn("%s: write", path);
		close(fd);
	} else if (errno == ENOENT) {
		hdr_encode(&whole, box->hdr.uidvalidity);
		buf_append(&whole, saved->recs.data, saved->recs.len);
		cache_replace(path, &whole);
		buf_deinit(&whole);
	} else {
		log_warn("%s: open", path);
	}
	free(path);
out:
	buf_reset(&saved->recs);
	saved->count = 0;
}

void
mailbox_cache_saved_deinit(struct cache_saved *saved)
{
	buf_deinit(&saved->recs);
	saved->count = 0;
}
