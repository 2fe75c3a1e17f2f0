/* SPDX-License-Identifier: MIT */
/*
 * connlimit.c: concurrent-connection counts per limit and per client
 * address (see connlimit.h). A hash table of the addresses that have
 * connections right now, each entry counting its connections; an entry
 * goes when its last connection does, so the table never holds more
 * entries than there are connections. Part of src/daemon.
 */
#include "connlimit.h"

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#define CONNLIMIT_BUCKETS_MIN 64

struct connlimit_entry {
	struct connlimit_entry *next;
	struct connlimit *limit;
	struct connlimit_key key;
	unsigned int count;
};

struct connlimit {
	struct connlimit_settings set;
	struct connlimit *parent;
	unsigned int count;
	/* per address; bucket_count is a power of two */
	struct connlimit_entry **buckets;
	unsigned int bucket_count;
	unsigned int entry_count;
	/* Random per table, so that clients cannot choose addresses that
	   all land in one bucket. */
	uint64_t seed;
};

void
connlimit_key_from_addr(const struct sockaddr *addr, socklen_t addrlen,
			struct connlimit_key *key_r, bool *loopback_r)
{
	static const unsigned char v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *ip;

	memset(key_r, 0, sizeof(*key_r));
	*loopback_r = false;
	if (addr->sa_family == AF_INET &&
	    addrlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		ip = (const unsigned char *)
			&((const struct sockaddr_in *)addr)->sin_addr;
	} else if (addr->sa_family == AF_INET6 &&
		   addrlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		ip = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		if (memcmp(ip, v4mapped, sizeof(v4mapped)) != 0) {
			static const unsigned char lo6[16] = {
				0, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0, 1 };

			key_r->bytes[0] = 6;
			memcpy(key_r->bytes + 1, ip, 8);
			*loopback_r = memcmp(ip, lo6, sizeof(lo6)) == 0;
			return;
		}
		ip += sizeof(v4mapped);
	} else {
		return;
	}
	key_r->bytes[0] = 4;
	memcpy(key_r->bytes + 1, ip, 4);
	/* 127.0.0.0/8 (RFC 1122 §3.2.1.3) */
	*loopback_r = ip[0] == 127;
}

/* FNV-1a over the key, started from the table's seed. */
static unsigned int
key_bucket(const struct connlimit *limit, const struct connlimit_key *key)
{
	uint64_t h = limit->seed;
	unsigned int i;

	for (i = 0; i < CONNLIMIT_KEY_SIZE; i++) {
		h ^= key->bytes[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 32;
	return (unsigned int)h & (limit->bucket_count - 1);
}

static struct connlimit_entry **
entry_find(const struct connlimit *limit, const struct connlimit_key *key)
{
	struct connlimit_entry **p = &limit->buckets[key_bucket(limit, key)];

	while (*p != NULL && memcmp(&(*p)->key, key, sizeof(*key)) != 0)
		p = &(*p)->next;
	return p;
}

/* Doubles the table once it holds more entries than buckets. */
static void
table_grow(struct connlimit *limit)
{
	struct connlimit_entry **old = limit->buckets, *entry;
	unsigned int i, old_count = limit->bucket_count;

	limit->bucket_count *= 2;
	limit->buckets = i_malloc(limit->bucket_count *
				  sizeof(*limit->buckets));
	for (i = 0; i < old_count; i++) {
		while ((entry = old[i]) != NULL) {
			unsigned int b = key_bucket(limit, &entry->key);

			old[i] = entry->next;
			entry->next = limit->buckets[b];
			limit->buckets[b] = entry;
		}
	}
	free(old);
}

struct connlimit *
connlimit_create(const struct connlimit_settings *set,
		 struct connlimit *parent)
{
	struct connlimit *limit = i_malloc(sizeof(*limit));

	limit->set = *set;
	limit->parent = parent;
	limit->bucket_count = CONNLIMIT_BUCKETS_MIN;
	limit->buckets = i_malloc(limit->bucket_count *
				  sizeof(*limit->buckets));
	limit->seed = 0xcbf29ce484222325ULL ^
		((uint64_t)arc4random() << 32 | arc4random());
	return limit;
}

void
connlimit_destroy(struct connlimit **_limit)
{
	struct connlimit *limit = *_limit;

	if (limit == NULL)
		return;
	*_limit = NULL;
	if (limit->count != 0 || limit->entry_count != 0)
		i_panic("connlimit: %u connections (%u addresses) never "
			"closed", limit->count, limit->entry_count);
	free(limit->buckets);
	free(limit);
}

static bool
limit_full(const struct connlimit *limit)
{
	for (; limit != NULL; limit = limit->parent) {
		if (limit->set.max_connections != 0 &&
		    limit->count >= limit->set.max_connections)
			return true;
	}
	return false;
}

enum connlimit_result
connlimit_open(struct connlimit *limit, const struct sockaddr *addr,
	       socklen_t addrlen, struct connlimit_entry **entry_r)
{
	struct connlimit_entry **p, *entry;
	struct connlimit *l;
	struct connlimit_key key;
	bool loopback;

	*entry_r = NULL;
	if (limit_full(limit))
		return CONNLIMIT_FULL;
	connlimit_key_from_addr(addr, addrlen, &key, &loopback);
	p = entry_find(limit, &key);
	if (*p != NULL && limit->set.max_per_ip != 0 &&
	    (*p)->count >= limit->set.max_per_ip &&
	    (!loopback || limit->set.limit_loopback))
		return CONNLIMIT_IP_FULL;
	entry = *p;
	if (entry == NULL) {
		entry = i_malloc(sizeof(*entry));
		entry->limit = limit;
		entry->key = key;
		*p = entry;
		/* p points into the old table after this */
		if (++limit->entry_count > limit->bucket_count)
			table_grow(limit);
	}
	entry->count++;
	for (l = limit; l != NULL; l = l->parent)
		l->count++;
	*entry_r = entry;
	return CONNLIMIT_OK;
}

void
connlimit_close(struct connlimit_entry **_entry)
{
	struct connlimit_entry *entry = *_entry, **p;
	struct connlimit *limit, *l;

	if (entry == NULL)
		return;
	*_entry = NULL;
	limit = entry->limit;
	i_assert(entry->count > 0);
	for (l = limit; l != NULL; l = l->parent) {
		i_assert(l->count > 0);
		l->count--;
	}
	if (--entry->count > 0)
		return;
	p = entry_find(limit, &entry->key);
	i_assert(*p == entry);
	*p = entry->next;
	limit->entry_count--;
	free(entry);
}

unsigned int
connlimit_max(const struct connlimit *limit)
{
	return limit->set.max_connections;
}

unsigned int
connlimit_count(const struct connlimit *limit)
{
	return limit->count;
}

unsigned int
connlimit_ip_count(const struct connlimit *limit,
		   const struct sockaddr *addr, socklen_t addrlen)
{
	struct connlimit_key key;
	bool loopback;
	struct connlimit_entry *const *p;

	connlimit_key_from_addr(addr, addrlen, &key, &loopback);
	p = entry_find(limit, &key);
	return *p == NULL ? 0 : (*p)->count;
}
