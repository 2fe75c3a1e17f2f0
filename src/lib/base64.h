/* SPDX-License-Identifier: MIT */
/*
 * base64.h: RFC 4648 §4 base64 over buf_t, a thin layer on OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock that fixes their two rough edges: the
 * int length limit and the padding bytes that EVP_DecodeBlock counts.
 * Used by the dictionary format's [data] blocks; bottom of the DAG (lib).
 */
#ifndef BASE64_H
#define BASE64_H

#include "lib.h"
#include "buf.h"

/* Appends the padded base64 encoding of data (no line breaks) to out.
   Never fails, never blocks. */
void base64_encode(buf_t *out, const void *data, size_t len);

/* Appends the bytes encoded by text[0..len) to out. Whitespace (space,
   tab, CR, LF, VT, FF) anywhere is skipped. The rest must be whole
   4-character groups of the standard alphabet, '=' padding only at the
   very end. Returns 0, or -1 on malformed input (out then holds its old
   contents). Never blocks. */
int base64_decode(buf_t *out, const char *text, size_t len);

#endif
