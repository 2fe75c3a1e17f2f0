/* SPDX-License-Identifier: MIT */
/*
 * pop3-stuff.c: stored message bytes to a POP3 multi-line response body
 * (see pop3-stuff.h). Part of src/pop3; pure.
 *
 * The loop copies whole runs between line ends with one memchr and one
 * append each, so clean messages cost about a memcpy.
 */
#include "pop3-stuff.h"

#include <string.h>

void
pop3_stuff_init(struct pop3_stuff *st)
{
	memset(st, 0, sizeof(*st));
	st->clean = true;
}

void
pop3_stuff_init_top(struct pop3_stuff *st, uint32_t lines)
{
	pop3_stuff_init(st);
	st->top = true;
	st->lines_left = lines;
}

/* A line has ended (its line end is out): TOP counts header and body. */
static void
line_ended(struct pop3_stuff *st, bool empty)
{
	if (!st->top)
		return;
	if (!st->in_body) {
		/* RFC 5322: the first empty line ends the header. */
		if (empty) {
			st->in_body = true;
			st->done = st->lines_left == 0;
		}
		return;
	}
	if (--st->lines_left == 0)
		st->done = true;
}

size_t
pop3_stuff_feed(struct pop3_stuff *st, const unsigned char *data, size_t len,
		buf_t *out)
{
	const unsigned char *nl;
	size_t i = 0, seg;
	bool empty;

	buf_reserve(out, len + len / 32 + 8);
	while (i < len && !st->done) {
		if (st->line_len == 0 && data[i] == '.') {
			/* RFC 1939 §3: byte-stuff the termination octet */
			buf_append_c(out, '.');
			st->clean = false;
		}
		nl = memchr(data + i, '\n', len - i);
		seg = (nl == NULL ? len : (size_t)(nl - data)) - i;
		if (seg > 0) {
			buf_append(out, data + i, seg);
			st->cr = data[i + seg - 1] == '\r';
			st->line_len += seg;
			i += seg;
		}
		if (nl == NULL)
			break;
		if (st->cr) {
			buf_append_c(out, '\n');
		} else {
			buf_append(out, "\r\n", 2);
			st->clean = false;
		}
		i++;
		empty = st->line_len == 0 || (st->line_len == 1 && st->cr);
		st->line_len = 0;
		st->cr = false;
		line_ended(st, empty);
	}
	return i;
}

void
pop3_stuff_finish(struct pop3_stuff *st, buf_t *out)
{
	if (st->line_len > 0) {
		/* The message does not end with a line end. */
		buf_append_str(out, st->cr ? "\n" : "\r\n");
		st->clean = false;
		st->line_len = 0;
		st->cr = false;
	}
	buf_append(out, ".\r\n", 3);
}

bool
pop3_stuff_clean(const struct pop3_stuff *st)
{
	return st->clean && !st->done;
}
