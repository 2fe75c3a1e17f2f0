/* SPDX-License-Identifier: MIT */
/*
 * buf.c: see buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(buf_t *buf)
{
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void
buf_deinit(buf_t *buf)
{
	free(buf->data);
	buf_init(buf);
}

void
buf_reset(buf_t *buf)
{
	buf->len = 0;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

void
buf_reserve(buf_t *buf, size_t extra)
{
	size_t need = buf->len + extra + 1;
	size_t cap;

	if (need < buf->len)
		i_panic("buf_reserve: size overflow");
	if (need <= buf->cap)
		return;
	cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap *= 2;
	buf->data = i_realloc(buf->data, cap);
	buf->cap = cap;
}

void
buf_append(buf_t *buf, const void *data, size_t len)
{
	buf_reserve(buf, len);
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void
buf_append_str(buf_t *buf, const char *s)
{
	buf_append(buf, s, strlen(s));
}

void
buf_vprintf(buf_t *buf, const char *fmt, va_list args)
{
	va_list copy;
	int n;

	va_copy(copy, args);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	i_assert(n >= 0);
	buf_reserve(buf, (size_t)n);
	vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, args);
	buf->len += (size_t)n;
}

void
buf_printf(buf_t *buf, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	buf_vprintf(buf, fmt, args);
	va_end(args);
}

void
buf_consume(buf_t *buf, size_t n)
{
	i_assert(n <= buf->len);
	if (n == 0)
		return;
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
	buf->data[buf->len] = '\0';
}

void
buf_truncate(buf_t *buf, size_t len)
{
	if (len < buf->len) {
		buf->len = len;
		buf->data[len] = '\0';
	}
}

const char *
buf_cstr(buf_t *buf)
{
	if (buf->data == NULL)
		buf_reserve(buf, 0);
	buf->data[buf->len] = '\0';
	return (const char *)buf->data;
}

unsigned char *
buf_steal(buf_t *buf, size_t *len_r)
{
	unsigned char *data;

	buf_reserve(buf, 0);
	buf->data[buf->len] = '\0';
	data = buf->data;
	*len_r = buf->len;
	buf_init(buf);
	return data;
}
