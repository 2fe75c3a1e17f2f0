/* SPDX-License-Identifier: MIT */
/*
 * test-imap-compress.c: COMPRESS=DEFLATE's streams: what one side
 * deflates the other inflates byte for byte, whole or one byte at a
 * time; each flush ends on the sync marker (RFC 4978 §4); a read never
 * gives more than asked, so a small compressed "bomb" comes out in
 * bounded pieces; corrupt data and data after the final block fail.
 * The streams are raw deflate: zlib's own raw inflater/deflater (what a
 * client uses) reads and writes them.
 */
#include "imap-compress.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include <event2/buffer.h>

/* Reads everything in reads of at most max bytes. */
static size_t
read_all(struct imap_compress *zs, struct evbuffer *in, unsigned char *out,
	 size_t out_size, size_t max)
{
	size_t total = 0, len;
	int ret, rounds = 0;

	while ((ret = imap_compress_read(zs, in, out + total,
					 out_size - total < max ?
					 out_size - total : max, &len)) > 0) {
		assert_true(len <= max);
		total += len;
		assert_true(++rounds < 10000000);
	}
	assert_int_equal(ret, 0);
	return total;
}

static void
test_round_trip(void **state)
{
	struct imap_compress *server = imap_compress_create();
	struct imap_compress *client = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	static unsigned char text[200000], back[200000];
	unsigned char *p;
	size_t i, len;

	for (i = 0; i < sizeof(text); i++)
		text[i] = "* 1 FETCH (FLAGS (\\Seen))\r\n"[i % 27];
	/* many small writes, one flush */
	for (i = 0; i < sizeof(text); i += 1000)
		imap_compress_write(server, text + i, 1000, wire);
	assert_true(imap_compress_pending(server));
	imap_compress_flush(server, wire);
	assert_false(imap_compress_pending(server));
	len = evbuffer_get_length(wire);
	assert_true(len < sizeof(text) / 20);
	p = evbuffer_pullup(wire, -1);
	assert_memory_equal(p + len - 4, "\x00\x00\xff\xff", 4);
	/* inflated in pieces of at most 100 bytes */
	assert_int_equal(read_all(client, wire, back, sizeof(back), 100),
			 sizeof(text));
	assert_memory_equal(back, text, sizeof(text));
	/* a flush with nothing new writes nothing */
	imap_compress_flush(server, wire);
	assert_int_equal(evbuffer_get_length(wire), 0);
	imap_compress_destroy(&server);
	imap_compress_destroy(&client);
	assert_null(server);
	imap_compress_destroy(&server);
	evbuffer_free(wire);
}

/* What zlib's raw deflate (a client) sends, fed one byte at a time. */
static void
test_trickle_from_zlib(void **state)
{
	static const char cmd[] = "a LOGIN alice pw\r\nb SELECT INBOX\r\n";
	struct imap_compress *zs = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	unsigned char packed[256], out[256];
	size_t total = 0, len, i, packed_len;
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)cmd;
	z.avail_in = sizeof(cmd) - 1;
	z.next_out = packed;
	z.avail_out = sizeof(packed);
	assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	packed_len = sizeof(packed) - z.avail_out;
	deflateEnd(&z);
	for (i = 0; i < packed_len; i++) {
		evbuffer_add(wire, packed + i, 1);
		while (imap_compress_read(zs, wire, out + total,
					  sizeof(out) - total, &len) > 0)
			total += len;
	}
	assert_int_equal(total, sizeof(cmd) - 1);
	assert_memory_equal(out, cmd, total);
	imap_compress_destroy(&zs);
	evbuffer_free(wire);
}

/* 16 MiB of one byte is about 16 KiB compressed: the reader gives it
   out only as fast as it is asked. */
static void
test_bomb_comes_out_in_pieces(void **state)
{
	struct imap_compress *server = imap_compress_create();
	struct imap_compress *client = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	static unsigned char zeros[1024 * 1024];
	unsigned char piece[4096];
	size_t len, total = 0;
	unsigned int i;

	for (i = 0; i < 16; i++)
		imap_compress_write(server, zeros, sizeof(zeros), wire);
	imap_compress_flush(server, wire);
	assert_true(evbuffer_get_length(wire) < 64 * 1024);
	while (imap_compress_read(client, wire, piece, sizeof(piece),
				  &len) > 0) {
		assert_true(len <= sizeof(piece));
		total += len;
	}
	assert_int_equal(total, 16 * sizeof(zeros));
	imap_compress_destroy(&server);
	imap_compress_destroy(&client);
	evbuffer_free(wire);
}

/* fuzz-compress: all the input consumed, but zlib still held output
   for a reader whose buffer had filled (74 bytes from these 14). */
static void
test_output_held_after_input(void **state)
{
	static const unsigned char packed[] = {
		0x0a, 0x77, 0xf7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x08, 0x03, 0x02, 0x00,
	};
	struct imap_compress *zs = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	unsigned char out[128];
	size_t total = 0, len;

	evbuffer_add(wire, packed, sizeof(packed));
	while (imap_compress_read(zs, wire, out + total, 1, &len) > 0) {
		total += len;
		/* what the session asks before it reads on */
		if (total < 74)
			assert_true(imap_compress_readable(zs, wire));
	}
	assert_int_equal(evbuffer_get_length(wire), 0);
	assert_int_equal(total, 74);
	assert_false(imap_compress_readable(zs, wire));
	assert_memory_equal(out, "WGO\xff\xff", 5);
	imap_compress_destroy(&zs);
	evbuffer_free(wire);
}

static void
test_corrupt_and_after_end(void **state)
{
	struct imap_compress *zs = imap_compress_create();
	struct evbuffer *wire = evbuffer_new();
	unsigned char out[64], packed[64];
	size_t len, packed_len;
	z_stream z;

	/* block type 3 is reserved (RFC 1951 §3.2.3) */
	evbuffer_add(wire, "\xff\xff\xff\xff", 4);
	assert_int_equal(imap_compress_read(zs, wire, out, sizeof(out), &len),
			 -1);
	imap_compress_destroy(&zs);

	/* a final block, then more */
	zs = imap_compress_create();
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)"x NOOP\r\n";
	z.avail_in = 8;
	z.next_out = packed;
	z.avail_out = sizeof(packed);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	packed_len = sizeof(packed) - z.avail_out;
	deflateEnd(&z);
	evbuffer_drain(wire, evbuffer_get_length(wire));
	evbuffer_add(wire, packed, packed_len);
	assert_int_equal(imap_compress_read(zs, wire, out, sizeof(out), &len),
			 1);
	assert_int_equal(len, 8);
	evbuffer_add(wire, "\x03\x00", 2);
	assert_int_equal(imap_compress_read(zs, wire, out, sizeof(out), &len),
			 -1);
	imap_compress_destroy(&zs);
	evbuffer_free(wire);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_trickle_from_zlib),
		cmocka_unit_test(test_bomb_comes_out_in_pieces),
		cmocka_unit_test(test_output_held_after_input),
		cmocka_unit_test(test_corrupt_and_after_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
