/* SPDX-License-Identifier: MIT */
/*
 * crlf.h: a message's canonical line ends. Messages are stored with
 * CRLF (RFC 5322 §2.3), as IMAP and POP3 send them, so that a stored
 * message's size is the size every protocol reports and sends
 * (RFC 3501 RFC822.SIZE, RFC 1939 LIST). In lib.
 */
#ifndef CRLF_H
#define CRLF_H

#include "lib.h"

/* A copy of data[0..len) with every LF not preceded by CR made CRLF
   (caller frees), its length in *len_r; NULL when there is none (use
   data as it is). Lone CRs are left alone. */
unsigned char *crlf_canonical(const unsigned char *data, size_t len,
			      size_t *len_r);

#endif
