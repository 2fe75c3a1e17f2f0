/* SPDX-License-Identifier: MIT */
/*
 * imap-bodystructure.h: IMAP BODY and BODYSTRUCTURE (RFC 3501 §7.4.2,
 * RFC 9051 §7.5.2) written from the parser's struct mime_part tree. In
 * mime, above lib.
 */
#ifndef IMAP_BODYSTRUCTURE_H
#define IMAP_BODYSTRUCTURE_H

#include "lib.h"
#include "buf.h"
#include "imap-quote.h"

struct mime_part;

/*
 * Appends the parenthesized body structure of part (usually the
 * message's root): BODY when extended is false, BODYSTRUCTURE (with the
 * extension data: MD5, disposition, language, location, and for
 * multiparts the parameters) when true.
 *
 * Conventions (RFC 3501 §7.4.2 where it speaks, Dovecot's where it does
 * not): types, subtypes, parameters and encodings as written in the
 * message (case kept); a part without Content-Type is "text" "plain"
 * (RFC 2045 §5.2) and text parts without a charset parameter get
 * ("charset" "us-ascii"); a missing Content-Transfer-Encoding is "7bit"
 * (RFC 2045 §6.1); sizes are in octets with CRLF line ends; a
 * multipart without body parts shows one empty text/plain part (the
 * grammar needs one). Never fails.
 */
void imap_bodystructure_write(buf_t *out, const struct mime_part *part,
			      bool extended, enum imap_quote_flags flags);

#endif
