/* SPDX-License-Identifier: MIT */
/*
 * mime-casemap.h: the i;unicode-casemap comparator of RFC 5051 for
 * SEARCH: text is mapped to titlecase one code point at a time
 * (UnicodeData's simple mapping), then decomposed to NFKD, so "STRASSE"
 * and "straße" differ but "É", "é" and "e\u0301" are one. libunistring
 * does the Unicode work. Sits in mime, above lib.
 */
#ifndef MIME_CASEMAP_H
#define MIME_CASEMAP_H

#include "lib.h"
#include "buf.h"

/*
 * Appends the i;unicode-casemap key of UTF-8 text to out (bytes that
 * are not UTF-8 become U+FFFD first). Never blocks.
 */
void mime_casemap_append(const unsigned char *text, size_t len, buf_t *out);

/*
 * True when needle (already a casemap key) occurs in the casemap key
 * of text: RFC 5051's substring match. An empty needle matches.
 */
bool mime_casemap_contains(const unsigned char *text, size_t len,
			   const buf_t *needle);

#endif
