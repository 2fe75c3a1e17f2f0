/* SPDX-License-Identifier: MIT */
/*
 * mime-decode.h: Content-Transfer-Encoding decoding (RFC 2045 §6.7
 * quoted-printable, §6.8 base64) for IMAP BINARY[] (RFC 3516), body
 * text in UTF-8 (transfer encoding undone, charset converted through
 * mime-charset) for SEARCH BODY/TEXT, and parameter values (RFC 2231,
 * RFC 2047) in UTF-8 for file names. In mime, above lib.
 *
 * The decoders are lenient the way RFC 2045 recommends for robust
 * implementations: bytes outside the base64 alphabet are ignored,
 * base64 padding ends one run of quanta and decoding goes on after it
 * (concatenated attachments), an "=" not followed by two hex digits in
 * quoted-printable is kept as it is, hex digits may be lower case, and
 * trailing blanks (transport padding) are dropped. They never fail;
 * *damaged_r says whether the input broke the rules.
 */
#ifndef MIME_DECODE_H
#define MIME_DECODE_H

#include "lib.h"
#include "buf.h"

struct mime_part;
struct mime_param;

enum mime_encoding {
	/* identity encodings (RFC 2045 §6.2); also a missing field */
	MIME_ENCODING_7BIT,
	MIME_ENCODING_8BIT,
	MIME_ENCODING_BINARY,
	MIME_ENCODING_BASE64,
	MIME_ENCODING_QUOTED_PRINTABLE,
	/* x-uuencode and anything else: cannot be decoded here */
	MIME_ENCODING_UNKNOWN,
};

/* The encoding named by a Content-Transfer-Encoding value (case-
   insensitive); NULL is 7bit (RFC 2045 §6.1). */
enum mime_encoding mime_encoding_from_name(const char *name);

static inline bool
mime_encoding_is_identity(enum mime_encoding enc)
{
	return enc <= MIME_ENCODING_BINARY;
}

/* Appends the bytes base64 text encodes. */
void mime_decode_base64(const unsigned char *data, size_t len, buf_t *out,
			bool *damaged_r);
/* Appends the bytes quoted-printable text encodes; hard line breaks
   become CRLF (RFC 2045 §6.7 rule 4: the canonical form). */
void mime_decode_qp(const unsigned char *data, size_t len, buf_t *out,
		    bool *damaged_r);

/*
 * Appends data decoded from enc. Identity encodings are copied. Returns
 * 0, or -1 for MIME_ENCODING_UNKNOWN (out unchanged). Never blocks.
 */
int mime_decode(enum mime_encoding enc, const unsigned char *data,
		size_t len, buf_t *out, bool *damaged_r);

/* Appends data with every LF that has no CR before it made CRLF. */
void mime_decode_crlf(const unsigned char *data, size_t len, buf_t *out);

/*
 * Appends the text of a leaf part's body as UTF-8 for searching: its
 * transfer encoding undone, its charset parameter (default us-ascii;
 * unknown charsets are read as UTF-8) converted, bytes that do not
 * convert replaced by U+FFFD. msg_data is the whole message the part
 * was parsed from. Returns 0, or -1 when the part's transfer encoding
 * is unknown (nothing appended). Never blocks.
 */
int mime_decode_part_text(const struct mime_part *part,
			  const unsigned char *msg_data, buf_t *out);

/*
 * Appends the value of parameter name (a filename, a title) as UTF-8:
 * the RFC 2231 form "name*" (charset'language'%XX, sections already
 * joined by the parser) when present, else the plain "name" with any
 * RFC 2047 encoded-words decoded (RFC 2047 §5 forbids them there, but
 * mailers use them). Unknown charsets and invalid bytes become U+FFFD.
 * Returns 1 when the parameter exists, 0 when not. Never blocks.
 */
int mime_param_decode(const struct mime_param *params, unsigned int count,
		      const char *name, buf_t *out);

#endif
