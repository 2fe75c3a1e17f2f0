/* SPDX-License-Identifier: MIT */
/*
 * fuzz-compress.c: libFuzzer target for COMPRESS=DEFLATE's streams
 * (src/imap/imap-compress.c). The first input byte picks the read size
 * and the feed size; the rest is what a client sends after COMPRESS.
 * Checks: no read gives more than asked; the inflated bytes are the
 * same whether the input comes whole or in pieces, up to the first
 * error; and the rest, deflated by the server's stream (sync-flushed at
 * arbitrary points), inflates back to itself.
 */
#include "imap-compress.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inflated output kept per run: enough to compare, bounded. */
#define OUT_MAX (1024 * 1024)

/* Inflates in, fed step bytes at a time, reads of read_size: the
   output (at most OUT_MAX bytes) and whether an error ended it. */
static bool
inflate_run(const uint8_t *in, size_t len, size_t step, size_t read_size,
	    buf_t *out)
{
	struct imap_compress *zs = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	unsigned char chunk[4096];
	size_t fed = 0, got;
	bool failed = false;
	int ret;

	while (!failed && out->len < OUT_MAX) {
		if (fed < len) {
			size_t n = len - fed < step ? len - fed : step;

			evbuffer_add(wire, in + fed, n);
			fed += n;
		}
		while ((ret = imap_compress_read(zs, wire, chunk, read_size,
						 &got)) > 0) {
			i_assert(got <= read_size);
			buf_append(out, chunk, got);
			if (out->len >= OUT_MAX)
				break;
		}
		if (ret < 0)
			failed = true;
		else if (fed == len)
			break;
	}
	evbuffer_free(wire);
	imap_compress_destroy(&zs);
	return failed;
}

/* What the server sends inflates back to itself. */
static void
round_trip(const uint8_t *in, size_t len, size_t step)
{
	struct imap_compress *server = imap_compress_create();
	struct imap_compress *client = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	buf_t back = BUF_INIT;
	unsigned char chunk[4096];
	size_t pos, got;

	for (pos = 0; pos < len; pos += step) {
		imap_compress_write(server, in + pos,
				    len - pos < step ? len - pos : step, wire);
		if ((in[pos] & 1) != 0)
			imap_compress_flush(server, wire);
	}
	imap_compress_flush(server, wire);
	while (imap_compress_read(client, wire, chunk, sizeof(chunk),
				  &got) > 0)
		buf_append(&back, chunk, got);
	i_assert(evbuffer_get_length(wire) == 0);
	i_assert(back.len == len);
	i_assert(len == 0 || memcmp(back.data, in, len) == 0);
	buf_deinit(&back);
	evbuffer_free(wire);
	imap_compress_destroy(&server);
	imap_compress_destroy(&client);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf_t whole = BUF_INIT, pieces = BUF_INIT;
	size_t read_size, step, n;
	bool failed_whole, failed_pieces;

	if (size < 1)
		return 0;
	read_size = 1 + (data[0] & 0x0f) * 256;
	step = 1 + (data[0] >> 4);
	data++;
	size--;

	failed_whole = inflate_run(data, size, size + 1, 4096, &whole);
	failed_pieces = inflate_run(data, size, step, read_size, &pieces);
	/* the same bytes, up to where either stopped */
	n = whole.len < pieces.len ? whole.len : pieces.len;
	i_assert(n == 0 || memcmp(whole.data, pieces.data, n) == 0);
	if (!failed_whole && !failed_pieces && whole.len < OUT_MAX &&
	    pieces.len < OUT_MAX)
		i_assert(whole.len == pieces.len);
	buf_deinit(&whole);
	buf_deinit(&pieces);

	round_trip(data, size, step);
	return 0;
}
