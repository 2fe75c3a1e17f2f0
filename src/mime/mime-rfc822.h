/* SPDX-License-Identifier: MIT */
/*
 * mime-rfc822.h: the lexical tokens of RFC 5322 §3.2 and RFC 2045 §5.1
 * over a byte range: CFWS (comments included), atoms, dot-atoms, quoted
 * strings, phrases, domains, MIME tokens, Content-Type and its
 * parameters, and the RFC 2231 merging of parameter continuations.
 * mime-address, mime-date and mime-parser build on it. In mime, above
 * lib.
 *
 * Every reader returns 1 (token read, more input follows), 0 (token
 * read, input ended) or -1 (syntax error; the position is then wherever
 * the error was seen). Tokens are appended to a buf_t; quoted-pairs are
 * unescaped and folding CRLFs inside quoted strings removed. Readers
 * never look past the end they were given and never allocate except in
 * the output buffers: any input is safe.
 *
 * The accepted syntax is deliberately that of deployed mail, which is
 * looser than the RFC: CFWS is allowed around the dots of a dot-atom
 * (RFC 5322 §4.4 obs-local-part/obs-domain), a phrase may contain dots
 * (§4.1 obs-phrase), 8-bit bytes count as atext (RFC 6532 §3.2).
 */
#ifndef MIME_RFC822_H
#define MIME_RFC822_H

#include "lib.h"
#include "buf.h"

struct mime_rfc822 {
	const unsigned char *data, *end;
	/* When not NULL, receives the text of the last comment skipped
	   (quoted-pairs unescaped, nested parentheses kept). */
	buf_t *last_comment;
};

/* RFC 5322 atext, plus every 8-bit byte. */
bool mime_rfc822_is_atext(unsigned char c);
/* RFC 2045 token character (atext minus "/", "=", "?"), plus ".". */
bool mime_rfc822_is_token_char(unsigned char c);

void mime_rfc822_init(struct mime_rfc822 *ctx, const void *data, size_t len,
		      buf_t *last_comment);
static inline bool
mime_rfc822_at_end(const struct mime_rfc822 *ctx)
{
	return ctx->data >= ctx->end;
}

/* Skips a comment starting at "(" (nesting and quoted-pairs honoured). */
int mime_rfc822_skip_comment(struct mime_rfc822 *ctx);
/* Skips SP, HTAB, CR, LF and comments. */
int mime_rfc822_skip_cfws(struct mime_rfc822 *ctx);
/* atom = 1*atext, then CFWS. -1 if no atext at the position. */
int mime_rfc822_atom(struct mime_rfc822 *ctx, buf_t *out);
/* dot-atom with obsolete CFWS around the dots. */
int mime_rfc822_dot_atom(struct mime_rfc822 *ctx, buf_t *out);
/* MIME token (may be empty), then CFWS. */
int mime_rfc822_mime_token(struct mime_rfc822 *ctx, buf_t *out);
/* quoted-string starting at DQUOTE, then CFWS. */
int mime_rfc822_quoted_string(struct mime_rfc822 *ctx, buf_t *out);
/* phrase = 1*word / obs-phrase; words joined by one space. Returns 0
   at once at the end of input, -1 when the phrase starts with ".". */
int mime_rfc822_phrase(struct mime_rfc822 *ctx, buf_t *out);
/* domain after "@" (the position is at the "@"): dot-atom or
   domain-literal (kept with its brackets). */
int mime_rfc822_domain(struct mime_rfc822 *ctx, buf_t *out);

/*
 * "type/subtype" of a Content-Type value, appended to out. When the
 * value is broken, returns -1 and leaves in out what a lenient reader
 * makes of it: the main type alone when no "/" follows it ("text"), or
 * nothing when the subtype or the main type is missing.
 */
int mime_rfc822_content_type(struct mime_rfc822 *ctx, buf_t *out);

/* A MIME parameter: name and value (unquoted) as written. */
struct mime_rfc822_param {
	char *name;
	char *value;
};

/*
 * Reads the ";"-separated parameter list that follows a Content-Type or
 * Content-Disposition value (RFC 2045 §5.1) and merges RFC 2231 §3/§4
 * continuations: "name*0", "name*1", ... join into "name"; when any
 * section is extended ("name*0*"), the result is "name*" whose value
 * keeps the charset'language' prefix and %XX encoding, the plain
 * sections %-escaped, exactly as RFC 2231 wrote them (IMAP shows
 * parameters undecoded; mime_param_decode() in mime-decode.h decodes).
 * Parameters whose sections have gaps are kept one by one under their
 * written names.
 * Merged parameters follow the plain ones. A broken parameter is
 * skipped and reading resumes after it. Strings are malloc'd NUL-
 * terminated (NUL bytes become U+FFFD); free the array with
 * mime_rfc822_params_free(). Returns the number of parameters.
 */
unsigned int mime_rfc822_params(struct mime_rfc822 *ctx,
				struct mime_rfc822_param **params_r);
void mime_rfc822_params_free(struct mime_rfc822_param **params,
			     unsigned int count);

/* Appends data to out with every NUL byte replaced by U+FFFD. */
void mime_rfc822_append_nonul(buf_t *out, const void *data, size_t len);

#endif
