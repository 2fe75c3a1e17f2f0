/* SPDX-License-Identifier: MIT */
/*
 * imap-compress.h: the two DEFLATE streams of an IMAP session after
 * COMPRESS DEFLATE (RFC 4978): raw deflate (RFC 1951, no zlib header,
 * windowBits -15) for what the server sends, raw inflate for what the
 * client sends. Works on libevent evbuffers and knows nothing of the
 * session, so unit tests drive it with plain bytes. Part of src/imap;
 * uses zlib.
 *
 * Memory per stream pair (zlib's formula): deflate (1 << (15 + 2)) +
 * (1 << (IMAP_COMPRESS_MEM_LEVEL + 9)) = 160 KiB, inflate 32 KiB + ~7
 * KiB. The window stays 32 KiB as RFC 4978 §4 expects (the client's
 * inflater needs no more); memLevel 6 instead of 8 halves the hash
 * table for a compression ratio within a percent or two on mail text.
 * Level 5: most of level 6's ratio for less CPU per byte.
 */
#ifndef IMAP_COMPRESS_H
#define IMAP_COMPRESS_H

#include "lib.h"

#define IMAP_COMPRESS_LEVEL 5
#define IMAP_COMPRESS_MEM_LEVEL 6

struct evbuffer;
struct imap_compress;

/* Both streams, ready. Never fails (allocation aborts). */
struct imap_compress *imap_compress_create(void);
/* Frees both streams; accepts NULL. */
void imap_compress_destroy(struct imap_compress **zs);

/* Compresses data onto out. zlib may keep some of it back until the
   next imap_compress_flush(). */
void imap_compress_write(struct imap_compress *zs, const void *data,
			 size_t len, struct evbuffer *out);
/* True when written data may still be held back by zlib. */
bool imap_compress_pending(const struct imap_compress *zs);
/* Z_SYNC_FLUSH: everything written so far is on out, ending on a byte
   boundary (the client can decode all of it). */
void imap_compress_flush(struct imap_compress *zs, struct evbuffer *out);

/*
 * Inflates compressed bytes from in (drained of what zlib consumed)
 * into dst, at most dst_size bytes. Returns 1 with *len_r set (0 when
 * zlib consumed input but produced nothing yet), 0 when there is nothing
 * to give until more input comes, -1 on corrupt data or data after the
 * end of the stream. Call again after a read that filled dst even when
 * in is empty: zlib may hold more.
 */
int imap_compress_read(struct imap_compress *zs, struct evbuffer *in,
		       unsigned char *dst, size_t dst_size, size_t *len_r);
/* True when imap_compress_read() may give something: input is waiting,
   or zlib holds output from the last read. */
bool imap_compress_readable(const struct imap_compress *zs,
			    struct evbuffer *in);

#endif
