/* SPDX-License-Identifier: MIT */
/*
 * lib.h: the few macros and allocation wrappers every module uses.
 * Bottom of the DAG: includes nothing of ours. Allocation never fails:
 * the wrappers abort on out-of-memory, so callers write no OOM paths.
 */
#ifndef LIB_H
#define LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define ATTR_FORMAT(f, a) __attribute__((format(printf, f, a)))
#define ATTR_NORETURN __attribute__((noreturn))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

void i_panic(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_NORETURN;

#define i_assert(expr)                                                       \
	do {                                                                 \
		if (unlikely(!(expr)))                                       \
			i_panic("file %s: line %d (%s): assertion failed: (%s)", \
				__FILE__, __LINE__, __func__, #expr);        \
	} while (0)

/* Zero-filled; abort on failure. Free with free(). */
void *i_malloc(size_t size);
void *i_realloc(void *mem, size_t size);
char *i_strdup(const char *s);
char *i_strndup(const char *s, size_t n);
char *i_strdup_printf(const char *fmt, ...) ATTR_FORMAT(1, 2);
char *i_strdup_vprintf(const char *fmt, va_list args) ATTR_FORMAT(1, 0);
/* Frees *p and sets it to NULL; accepts NULL. */
#define i_free(p) do { free(p); (p) = NULL; } while (0)

/* Bounded copy that always NUL-terminates; returns false on truncation. */
bool i_strlcpy(char *dst, const char *src, size_t size);

#endif
