/* SPDX-License-Identifier: MIT */
/*
 * mime-binary.h: a BINARY APPEND's message made storable (RFC 3516
 * §4.4). A literal8 may hold NUL bytes and bare LFs, which an RFC 5322
 * message (and IMAP's BODY[], RFC 3501 §4.3) cannot: body parts whose
 * content is binary are stored base64-encoded (RFC 2045 §6.8) with their
 * Content-Transfer-Encoding changed, so BINARY[part] gives back exactly
 * the bytes that were appended, and every other bare LF becomes CRLF as
 * in any APPEND. Dovecot does the same. In mime, above lib.
 */
#ifndef MIME_BINARY_H
#define MIME_BINARY_H

#include "lib.h"
#include "buf.h"

/* Lines of the base64 bodies written (RFC 2045 §6.8: at most 76). */
#define MIME_BINARY_BASE64_LINE 76

/*
 * Converts data[0..size), a message sent as a literal8. A leaf body
 * part is base64-encoded when its transfer encoding is "binary" and it
 * holds a NUL byte or a bare LF, or when it has no encoding (or 7bit,
 * 8bit) and holds a NUL byte; a part that was not MIME (no MIME-Version
 * or Content-Type) gets MIME-Version too, so the encoding applies.
 * Returns 0 when data can be stored as it is (no NUL, no bare LF), 1
 * with the converted message appended to out (no NUL, CRLF line ends),
 * or -1 with *error_r (out unchanged) when a NUL byte is where no
 * encoding can carry it (a header, a quoted-printable or base64 body, a
 * multipart's preamble).
 * Never blocks; work and memory are linear in size.
 */
int mime_binary_convert(const unsigned char *data, size_t size, buf_t *out,
			const char **error_r);

#endif
