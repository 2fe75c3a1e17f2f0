/* SPDX-License-Identifier: MIT */
/*
 * imap-quote.h: IMAP string output (RFC 3501 §4.3, RFC 9051 §4.3) for
 * the ENVELOPE and BODYSTRUCTURE writers: NIL, "quoted" or {literal}.
 * It lives in mime because those writers do; the IMAP front-end may
 * use it too. In mime, above lib.
 *
 * Quoted strings cannot hold CR, LF or (without UTF8=ACCEPT) 8-bit
 * bytes, so those force a literal; so do more than
 * IMAP_QUOTE_MAX_ESCAPES quoted-specials, where a literal is shorter.
 */
#ifndef IMAP_QUOTE_H
#define IMAP_QUOTE_H

#include "lib.h"
#include "buf.h"

/* Past this many '"' and '\' a literal is no longer than quoting. */
#define IMAP_QUOTE_MAX_ESCAPES 4

enum imap_quote_flags {
	/* RFC 6855 UTF8=ACCEPT enabled: valid UTF-8 may be quoted */
	IMAP_QUOTE_FLAG_UTF8 = 0x01,
};

/* NIL for NULL, else a quoted string or a literal holding s exactly. */
void imap_append_nstring(buf_t *out, const char *s,
			 enum imap_quote_flags flags);
/* Like imap_append_nstring(), with CR and LF dropped first (unfolding
   a header value; a line end not followed by a blank becomes one). */
void imap_append_nstring_nolf(buf_t *out, const char *s,
			      enum imap_quote_flags flags);
/*
 * For text people read (Subject, display names): runs of blanks, CR,
 * LF and HTAB become one space, leading and trailing ones go. Written
 * quoted when nothing had to change and it needs no escaping, else as
 * a literal (the form Dovecot sends, which clients are used to).
 */
void imap_append_string_for_humans(buf_t *out, const char *s,
				   enum imap_quote_flags flags);

#endif
