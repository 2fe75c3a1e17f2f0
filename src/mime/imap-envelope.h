/* SPDX-License-Identifier: MIT */
/*
 * imap-envelope.h: the IMAP ENVELOPE of a message or message/rfc822
 * part (RFC 3501 §7.4.2, RFC 9051 §7.5.2) written from the parser's
 * protocol-neutral struct mime_envelope. In mime, above lib.
 */
#ifndef IMAP_ENVELOPE_H
#define IMAP_ENVELOPE_H

#include "lib.h"
#include "buf.h"
#include "imap-quote.h"

struct mime_envelope;
struct mime_address;

/*
 * Appends the parenthesized envelope: (date subject from sender
 * reply-to to cc bcc in-reply-to message-id). NIL for absent fields,
 * "" for empty ones; Sender and Reply-To default to From (RFC 3501
 * §7.4.2); strings stay as in the header (no RFC 2047 decoding), with
 * folds removed; Subject and display names have white space runs
 * collapsed. env NULL writes an envelope of NILs. Never fails.
 */
void imap_envelope_write(buf_t *out, const struct mime_envelope *env,
			 enum imap_quote_flags flags);

/* Appends an address list: NIL, or ((name adl mailbox host) ...), with
   groups as (NIL NIL name NIL) ... (NIL NIL NIL NIL). */
void imap_envelope_write_addresses(buf_t *out,
				   const struct mime_address *addr,
				   enum imap_quote_flags flags);

#endif
