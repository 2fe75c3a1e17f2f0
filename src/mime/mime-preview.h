/* SPDX-License-Identifier: MIT */
/*
 * mime-preview.h: the text preview of a message for IMAP FETCH PREVIEW
 * (RFC 8970): up to MIME_PREVIEW_CHARS characters of plain text from
 * the first text/plain or text/html part that is not an attachment, its
 * transfer encoding undone, its charset converted to UTF-8, HTML tags,
 * comments, scripts and styles dropped and entities decoded, and runs
 * of white space made one space. Sits in mime, above lib.
 */
#ifndef MIME_PREVIEW_H
#define MIME_PREVIEW_H

#include "lib.h"
#include "buf.h"

struct mime_message;

/* RFC 8970 §3.1: no more than 256 characters (code points). */
#define MIME_PREVIEW_CHARS 256
/* Decoded bytes of the chosen part looked at: a preview never needs
   more, and it bounds the work on a huge part. */
#define MIME_PREVIEW_INPUT_MAX (64 * 1024)

/*
 * Appends the preview (valid UTF-8, no control characters, possibly
 * empty) of the message parsed from data to out. Never blocks.
 */
void mime_preview_append(const struct mime_message *mime,
			 const unsigned char *data, buf_t *out);

/* Appends the text of UTF-8 HTML (tags dropped, entities decoded), for
   mime_preview_append and its tests. */
void mime_preview_html_to_text(const unsigned char *html, size_t len,
			       buf_t *out);

#endif
