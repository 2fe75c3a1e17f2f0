/* SPDX-License-Identifier: MIT */
/*
 * cli-mbox.h: the foreign mbox format that `commune import` reads and
 * `commune export` writes (not Commune's own .mbox mailbox files, which
 * are the store's business). In cli, above store and mime.
 *
 * Reading (mboxo and mboxrd, as mutt, Thunderbird, Dovecot and Python's
 * mailbox module write them):
 *   - a message starts after a "From " line at the start of the file or
 *     right after an empty line; the empty line before it belongs to the
 *     format, not to the previous message (also one at the end of file);
 *   - the internal date comes from the From_ line's asctime date
 *     ("Wed Jan  3 12:00:00 2024", optionally with a numeric zone before
 *     or after the year); without one it is left to the store (now);
 *   - mboxrd unescaping: a line ">From ", ">>From ", ... loses one '>';
 *   - flags come from the header fields Status (R: \Seen), X-Status
 *     (A: \Answered, F: \Flagged, D: \Deleted, T: \Draft) and
 *     X-Keywords (keywords separated by spaces or commas), and those
 *     three fields are removed; every other byte is kept.
 * Writing (mboxrd): "From MAILER-DAEMON <asctime, UTC>", the message with
 * its Status/X-Status/X-Keywords replaced by ones telling its flags
 * (Status: RO when seen, else O), every ^>*From line quoted with one more
 * '>', a line end added when the message lacks a final one, then an empty
 * line; CRLF line ends (as the store keeps them) are written as LF, and
 * `import` makes them CRLF again, so reading what was written gives back
 * the same stored bytes and flags.
 */
#ifndef CLI_MBOX_H
#define CLI_MBOX_H

#include "cli-flags.h"

/* From_ lines longer than this are still separators, but their date is
   not looked for. */
#define CLI_MBOX_FROM_LINE_MAX 1024

struct cli_mbox_reader {
	const unsigned char *data;
	size_t len;
	size_t pos;
};

struct cli_mbox_msg {
	/* Raw bytes between the From_ line and the next separator, still
	   escaped and with the flag header fields. */
	const unsigned char *data;
	size_t len;
	/* Offset of the From_ line in the file. */
	size_t offset;
	int64_t date;           /* from the From_ line; 0: unknown */
};

/* Returns 0, or -1 when data does not start like an mbox (empty lines,
   then "From "). Empty data is an empty mbox. */
int cli_mbox_reader_init(struct cli_mbox_reader *reader,
			 const unsigned char *data, size_t len);
/* 1 and the next message, or 0 at the end. */
int cli_mbox_reader_next(struct cli_mbox_reader *reader,
			 struct cli_mbox_msg *msg_r);

/* Parses the date of a From_ line ("From " included or not); 0, or -1. */
int cli_mbox_from_date(const unsigned char *line, size_t len,
		       int64_t *date_r);

/*
 * Turns a raw message into what the store keeps: unescaped, the flag
 * fields parsed into flags (keywords as written; the caller validates
 * them) and removed. Sets *data_r and *len_r to the result: raw itself when
 * nothing changes, else the contents of scratch.
 */
void cli_mbox_msg_decode(const struct cli_mbox_msg *msg, buf_t *scratch,
			 struct cli_flags *flags,
			 const unsigned char **data_r, size_t *len_r);

/* Appends one message in mboxrd form (From_ line to the empty line). */
void cli_mbox_msg_encode(buf_t *out, const unsigned char *data, size_t len,
			 int64_t date, const struct cli_flags *flags);

#endif
