/* SPDX-License-Identifier: MIT */
/*
 * mime-arena.c: bump allocator over a chain of malloc'd blocks; see
 * mime-arena.h. Blocks grow geometrically up to MIME_ARENA_BLOCK_MAX so
 * a small message costs one allocation and a huge one few.
 */
#include "mime-arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define MIME_ARENA_BLOCK_MIN 1024
#define MIME_ARENA_BLOCK_MAX (256 * 1024)
#define MIME_ARENA_ALIGN (alignof(max_align_t))

struct arena_block {
	struct arena_block *prev;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct mime_arena {
	struct arena_block *head;
	size_t total;
};

struct mime_arena *
mime_arena_create(void)
{
	return i_malloc(sizeof(struct mime_arena));
}

void
mime_arena_destroy(struct mime_arena **_arena)
{
	struct mime_arena *arena = *_arena;
	struct arena_block *block, *prev;

	if (arena == NULL)
		return;
	*_arena = NULL;
	for (block = arena->head; block != NULL; block = prev) {
		prev = block->prev;
		free(block);
	}
	free(arena);
}

static struct arena_block *
arena_grow(struct mime_arena *arena, size_t need)
{
	struct arena_block *block;
	size_t size = arena->head == NULL ? MIME_ARENA_BLOCK_MIN :
		arena->head->size * 2;

	if (size > MIME_ARENA_BLOCK_MAX)
		size = MIME_ARENA_BLOCK_MAX;
	if (size < need)
		size = need;
	block = i_malloc(sizeof(*block) + size);
	block->size = size;
	block->used = 0;
	block->prev = arena->head;
	arena->head = block;
	arena->total += size;
	return block;
}

void *
mime_arena_alloc(struct mime_arena *arena, size_t size)
{
	struct arena_block *block = arena->head;
	size_t aligned;
	void *mem;

	if (size > SIZE_MAX - MIME_ARENA_ALIGN)
		i_panic("mime_arena_alloc: size overflow");
	aligned = (size + MIME_ARENA_ALIGN - 1) & ~(MIME_ARENA_ALIGN - 1);
	if (aligned == 0)
		aligned = MIME_ARENA_ALIGN;
	if (block == NULL || block->size - block->used < aligned)
		block = arena_grow(arena, aligned);
	mem = block->data + block->used;
	block->used += aligned;
	/* i_malloc zero-fills blocks, but an arena block is never reused,
	   so the memory is still zero. */
	return mem;
}

char *
mime_arena_strndup(struct mime_arena *arena, const void *data, size_t len)
{
	char *s;

	if (len == SIZE_MAX)
		i_panic("mime_arena_strndup: size overflow");
	s = mime_arena_alloc(arena, len + 1);
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

char *
mime_arena_strdup(struct mime_arena *arena, const char *s)
{
	return mime_arena_strndup(arena, s, strlen(s));
}

size_t
mime_arena_size(const struct mime_arena *arena)
{
	return arena->total;
}
