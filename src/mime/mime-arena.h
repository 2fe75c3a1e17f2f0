/* SPDX-License-Identifier: MIT */
/*
 * mime-arena.h: a bump allocator for the mime module. A parsed message
 * tree (parts, strings, addresses) lives in one arena and is freed in one
 * call, so the parser never tracks single allocations. lib has no pool
 * type yet; when it gets one this file becomes a thin alias. In mime,
 * right above lib.
 */
#ifndef MIME_ARENA_H
#define MIME_ARENA_H

#include "lib.h"

struct mime_arena;

/* An empty arena. Free with mime_arena_destroy(). */
struct mime_arena *mime_arena_create(void);
/* Frees every block; sets *arena to NULL; accepts NULL. */
void mime_arena_destroy(struct mime_arena **arena);

/* size bytes, zero-filled, aligned for any type; owned by the arena.
   Never fails (aborts on out-of-memory). */
void *mime_arena_alloc(struct mime_arena *arena, size_t size);
/* NUL-terminated copy of data[0..len) in the arena. */
char *mime_arena_strndup(struct mime_arena *arena, const void *data,
			 size_t len);
char *mime_arena_strdup(struct mime_arena *arena, const char *s);
/* Bytes the arena holds (for limits and statistics). */
size_t mime_arena_size(const struct mime_arena *arena);

#endif
