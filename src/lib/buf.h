/* SPDX-License-Identifier: MIT */
/*
 * buf.h: growable, binary-safe byte buffer. data is always followed by a
 * NUL byte (not counted in len) so text users can read it as a C string.
 */
#ifndef BUF_H
#define BUF_H

#include "lib.h"

typedef struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
} buf_t;

#define BUF_INIT { NULL, 0, 0 }

void buf_init(buf_t *buf);
/* Frees the storage; the struct can be reused after buf_init(). */
void buf_deinit(buf_t *buf);
void buf_reset(buf_t *buf);
void buf_reserve(buf_t *buf, size_t extra);
void buf_append(buf_t *buf, const void *data, size_t len);
void buf_append_str(buf_t *buf, const char *s);
void buf_printf(buf_t *buf, const char *fmt, ...) ATTR_FORMAT(2, 3);
void buf_vprintf(buf_t *buf, const char *fmt, va_list args)
	ATTR_FORMAT(2, 0);
/* Removes the first n bytes. */
void buf_consume(buf_t *buf, size_t n);
void buf_truncate(buf_t *buf, size_t len);
/* NUL-terminated view (never NULL). */
const char *buf_cstr(buf_t *buf);
/* Hands the storage to the caller (free() it); buf is empty after. */
unsigned char *buf_steal(buf_t *buf, size_t *len_r);

/* One byte; inline because byte-at-a-time parsers call it per byte. */
static inline void
buf_append_c(buf_t *buf, char c)
{
	if (likely(buf->len + 1 < buf->cap)) {
		buf->data[buf->len++] = (unsigned char)c;
		buf->data[buf->len] = '\0';
	} else {
		buf_append(buf, &c, 1);
	}
}

#endif
