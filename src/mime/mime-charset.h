/* SPDX-License-Identifier: MIT */
/*
 * mime-charset.h: conversion of text in a MIME charset to UTF-8 (iconv
 * underneath) and repair of bytes that claim to be UTF-8. Everything the
 * mime module hands upward as text is valid UTF-8: undecodable bytes
 * become U+FFFD. Sits in mime, right above lib.
 */
#ifndef MIME_CHARSET_H
#define MIME_CHARSET_H

#include "lib.h"
#include "buf.h"

/* Longest charset name accepted (RFC 2978 names are at most 40). */
#define MIME_CHARSET_NAME_MAX 64

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define MIME_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * True when name is a syntactically sane charset name: 1 to
 * MIME_CHARSET_NAME_MAX bytes of [A-Za-z0-9!#$%&'+^_`{}~.:-]. This keeps
 * iconv modifiers ("//IGNORE") and paths out of iconv_open().
 */
bool mime_charset_name_is_valid(const char *name);

/*
 * Appends data converted from charset to UTF-8 to out. Sequences the
 * charset cannot decode become U+FFFD; the output is always valid UTF-8.
 * Returns 0, or -1 when the charset is unknown or its name invalid (out
 * is then unchanged). Never blocks.
 */
int mime_charset_to_utf8(const char *charset, const unsigned char *data,
			 size_t len, buf_t *out);

/*
 * Appends data to out, replacing every byte that does not start a valid
 * UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF) with U+FFFD.
 */
void mime_utf8_sanitize(const unsigned char *data, size_t len, buf_t *out);

/* Length of the valid UTF-8 sequence at data[0..len), or 0 if invalid. */
size_t mime_utf8_char_len(const unsigned char *data, size_t len);

#endif
