/* SPDX-License-Identifier: MIT */
/*
 * lib.c: allocation wrappers and i_panic (see lib.h).
 */
#include "lib.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
i_panic(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fputs("commune: PANIC: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	va_end(args);
	abort();
}

void *
i_malloc(size_t size)
{
	void *mem = calloc(1, size == 0 ? 1 : size);

	if (mem == NULL)
		i_panic("out of memory allocating %zu bytes", size);
	return mem;
}

void *
i_realloc(void *mem, size_t size)
{
	void *ret = realloc(mem, size == 0 ? 1 : size);

	if (ret == NULL)
		i_panic("out of memory allocating %zu bytes", size);
	return ret;
}

char *
i_strdup(const char *s)
{
	return s == NULL ? NULL : i_strndup(s, strlen(s));
}

char *
i_strndup(const char *s, size_t n)
{
	char *ret = i_malloc(n + 1);

	memcpy(ret, s, n);
	return ret;
}

char *
i_strdup_vprintf(const char *fmt, va_list args)
{
	char *ret;

	if (vasprintf(&ret, fmt, args) == -1)
		i_panic("out of memory in vasprintf");
	return ret;
}

char *
i_strdup_printf(const char *fmt, ...)
{
	va_list args;
	char *ret;

	va_start(args, fmt);
	ret = i_strdup_vprintf(fmt, args);
	va_end(args);
	return ret;
}

bool
i_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	i_assert(size > 0);
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}
