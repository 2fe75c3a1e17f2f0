/* SPDX-License-Identifier: MIT */
/*
 * pop3-stuff.h: turning stored message bytes into the body of a POP3
 * multi-line response (RFC 1939 §3): CRLF line ends (a bare LF becomes
 * CRLF), a '.' doubled at the start of a line, and for TOP only the
 * header and the first n body lines. Incremental: a message can be fed
 * in chunks of any size and the output is the same. Part of src/pop3;
 * pure (no I/O), used by the session's worker jobs and the fuzz target.
 *
 * It also tells whether the message needed no change at all ("clean"):
 * then the stored bytes themselves followed by ".\r\n" are the response,
 * and a plaintext session may send them with sendfile.
 */
#ifndef POP3_STUFF_H
#define POP3_STUFF_H

#include "lib.h"
#include "buf.h"

struct pop3_stuff {
	/* TOP: count body lines; lines_left more to send */
	bool top;
	uint32_t lines_left;
	bool in_body;
	/* TOP's limit reached: the rest of the message is not needed */
	bool done;
	/* bytes of the current line so far, and whether the last one was
	   a CR */
	uint64_t line_len;
	bool cr;
	/* nothing changed so far (no stuffing, no LF fixed, not cut) */
	bool clean;
};

/* RETR: the whole message. */
void pop3_stuff_init(struct pop3_stuff *st);
/* TOP msg n: the header, the blank line and n body lines. */
void pop3_stuff_init_top(struct pop3_stuff *st, uint32_t lines);

/* Converts the next len bytes of the message, appending to out. Returns
   the number of bytes consumed: len, or less when TOP's limit was
   reached (st->done; feed nothing more). */
size_t pop3_stuff_feed(struct pop3_stuff *st, const unsigned char *data,
		       size_t len, buf_t *out);

/* After the last byte: ends an unterminated last line with CRLF and
   appends the ".\r\n" terminator. */
void pop3_stuff_finish(struct pop3_stuff *st, buf_t *out);

/* True when the whole message was fed (not cut by TOP) and needed no
   change: stored bytes + ".\r\n" is the exact response. Valid after
   pop3_stuff_finish(). */
bool pop3_stuff_clean(const struct pop3_stuff *st);

#endif
