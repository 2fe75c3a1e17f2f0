/* SPDX-License-Identifier: MIT */
/*
 * imap-compress.c: COMPRESS=DEFLATE's streams (RFC 4978) over zlib and
 * libevent evbuffers; imap-conn.c puts them between the session and its
 * bufferevent. Part of src/imap.
 */
#include "imap-compress.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <event2/buffer.h>

/* Output space reserved per deflate() call. */
#define ZOUT_CHUNK (16 * 1024)

struct imap_compress {
	z_stream out;
	z_stream in;
	bool pending;
	bool in_ended;
	/* the last inflate() filled its output: zlib may hold more even
	   without further input (a long match, a stored block) */
	bool in_more;
};

struct imap_compress *
imap_compress_create(void)
{
	struct imap_compress *zs = i_malloc(sizeof(*zs));

	/* RFC 4978 §4: raw deflate, no zlib header or checksum. */
	if (deflateInit2(&zs->out, IMAP_COMPRESS_LEVEL, Z_DEFLATED, -15,
			 IMAP_COMPRESS_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		i_panic("deflateInit2 failed");
	if (inflateInit2(&zs->in, -15) != Z_OK)
		i_panic("inflateInit2 failed");
	return zs;
}

void
imap_compress_destroy(struct imap_compress **_zs)
{
	struct imap_compress *zs = *_zs;

	if (zs == NULL)
		return;
	*_zs = NULL;
	(void)deflateEnd(&zs->out);
	(void)inflateEnd(&zs->in);
	free(zs);
}

/* Runs deflate() over data until zlib took all of it (and, with a
   flush, until it has nothing more to say). */
static void
deflate_to(struct imap_compress *zs, const void *data, size_t len,
	   int flush, struct evbuffer *out)
{
	struct evbuffer_iovec vec;
	int ret;

	zs->out.next_in = (Bytef *)data;
	zs->out.avail_in = len;
	do {
		if (evbuffer_reserve_space(out, ZOUT_CHUNK, &vec, 1) < 1)
			i_panic("evbuffer_reserve_space failed");
		zs->out.next_out = vec.iov_base;
		zs->out.avail_out = vec.iov_len > UINT32_MAX ? UINT32_MAX :
			vec.iov_len;
		ret = deflate(&zs->out, flush);
		/* Z_BUF_ERROR: no progress possible, i.e. nothing to do */
		i_assert(ret == Z_OK || ret == Z_BUF_ERROR);
		vec.iov_len = (char *)zs->out.next_out - (char *)vec.iov_base;
		if (evbuffer_commit_space(out, &vec, 1) == -1)
			i_panic("evbuffer_commit_space failed");
	} while (zs->out.avail_in > 0 || zs->out.avail_out == 0);
	zs->out.next_in = NULL;
}

void
imap_compress_write(struct imap_compress *zs, const void *data, size_t len,
		    struct evbuffer *out)
{
	const unsigned char *p = data;
	size_t n;

	while (len > 0) {
		n = len > UINT32_MAX ? UINT32_MAX : len;
		deflate_to(zs, p, n, Z_NO_FLUSH, out);
		p += n;
		len -= n;
	}
	zs->pending = true;
}

bool
imap_compress_pending(const struct imap_compress *zs)
{
	return zs->pending;
}

void
imap_compress_flush(struct imap_compress *zs, struct evbuffer *out)
{
	if (!zs->pending)
		return;
	deflate_to(zs, "", 0, Z_SYNC_FLUSH, out);
	zs->pending = false;
}

bool
imap_compress_readable(const struct imap_compress *zs, struct evbuffer *in)
{
	return evbuffer_get_length(in) > 0 || zs->in_more;
}

int
imap_compress_read(struct imap_compress *zs, struct evbuffer *in,
		   unsigned char *dst, size_t dst_size, size_t *len_r)
{
	struct evbuffer_iovec vec;
	size_t used;
	int ret;

	*len_r = 0;
	if (evbuffer_get_length(in) == 0 && !zs->in_more)
		return 0;
	if (zs->in_ended)
		return evbuffer_get_length(in) == 0 ? 0 : -1;
	vec.iov_base = NULL;
	vec.iov_len = 0;
	if (evbuffer_get_length(in) > 0 &&
	    evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
		return 0;
	zs->in.next_in = vec.iov_base;
	zs->in.avail_in = vec.iov_len > UINT32_MAX ? UINT32_MAX : vec.iov_len;
	zs->in.next_out = dst;
	zs->in.avail_out = dst_size > UINT32_MAX ? UINT32_MAX : dst_size;
	ret = inflate(&zs->in, Z_SYNC_FLUSH);
	used = vec.iov_len == 0 ? 0 :
		(size_t)((const unsigned char *)zs->in.next_in -
			 (const unsigned char *)vec.iov_base);
	*len_r = zs->in.next_out - dst;
	zs->in_more = ret == Z_OK && zs->in.avail_out == 0;
	zs->in.next_in = NULL;
	zs->in.next_out = NULL;
	if (used > 0)
		evbuffer_drain(in, used);
	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR:
		/* no progress at all: wait for more input */
		return used == 0 && *len_r == 0 ? 0 : 1;
	case Z_STREAM_END:
		/* The client ended its stream (a final block): nothing may
		   follow, RFC 4978 has no way to restart it. */
		zs->in_ended = true;
		return 1;
	default:
		log_debug("imap: inflate: %s",
			  zs->in.msg != NULL ? zs->in.msg : "error");
		return -1;
	}
}
