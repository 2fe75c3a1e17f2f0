/* SPDX-License-Identifier: MIT */
/*
 * auth-cache.c: remembers recent successful password checks, so a
 * client that logs in again and again (POP3 polling, IMAP reconnects)
 * costs one slow crypt(3) hash (yescrypt: tens of milliseconds of CPU)
 * per AUTH_CACHE_TTL_SECS instead of one per login. Part of src/store
 * (see auth-private.h); OpenSSL for the HMAC.
 *
 * An entry is HMAC-SHA-256(per-process random key, user NUL stored-hash
 * NUL password): no password is kept, not even a fast hash of one
 * without the key. The stored crypt hash is part of the input, so a
 * password change (a new hash) makes every old entry useless at once.
 * Only successes are cached: a wrong password always pays the full
 * check, so guessing does not get cheaper. Direct-mapped; a collision
 * just forgets the older entry. Thread-safe (one mutex): worker threads
 * check passwords in parallel.
 */
#include "auth-private.h"
#include "log.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

struct cache_entry {
	unsigned char mac[32];
	int64_t expires;        /* monotonic seconds; 0: empty */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry cache[AUTH_CACHE_SIZE];
static unsigned char cache_key[32];
static bool cache_key_set;
static unsigned int cache_ttl = AUTH_CACHE_TTL_SECS;

static int64_t
now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* The entry's MAC; false when there is no key (RAND failed). Lock held. */
static bool
entry_mac(const char *user, const char *hash, const char *password,
	  unsigned char mac[32])
{
	unsigned int len = 32;
	buf_t input = BUF_INIT;
	bool ok;

	if (!cache_key_set) {
		if (RAND_bytes(cache_key, sizeof(cache_key)) != 1)
			return false;
		cache_key_set = true;
	}
	buf_append(&input, user, strlen(user) + 1);
	buf_append(&input, hash, strlen(hash) + 1);
	buf_append_str(&input, password);
	ok = HMAC(EVP_sha256(), cache_key, sizeof(cache_key), input.data,
		  input.len, mac, &len) != NULL;
	explicit_bzero(input.data, input.len);
	buf_deinit(&input);
	return ok;
}

static struct cache_entry *
slot(const unsigned char mac[32])
{
	uint32_t h;

	memcpy(&h, mac, sizeof(h));
	return &cache[h % AUTH_CACHE_SIZE];
}

bool
auth_cache_lookup(const char *user, const char *hash, const char *password)
{
	unsigned char mac[32];
	struct cache_entry *e;
	bool hit = false;

	pthread_mutex_lock(&cache_lock);
	if (cache_ttl > 0 && entry_mac(user, hash, password, mac)) {
		e = slot(mac);
		hit = e->expires > now_secs() &&
			CRYPTO_memcmp(e->mac, mac, sizeof(mac)) == 0;
	}
	pthread_mutex_unlock(&cache_lock);
	explicit_bzero(mac, sizeof(mac));
	return hit;
}

void
auth_cache_add(const char *user, const char *hash, const char *password)
{
	unsigned char mac[32];
	struct cache_entry *e;

	pthread_mutex_lock(&cache_lock);
	if (cache_ttl > 0 && entry_mac(user, hash, password, mac)) {
		e = slot(mac);
		memcpy(e->mac, mac, sizeof(mac));
		e->expires = now_secs() + cache_ttl;
	}
	pthread_mutex_unlock(&cache_lock);
	explicit_bzero(mac, sizeof(mac));
}

void
auth_cache_set_ttl(unsigned int secs)
{
	pthread_mutex_lock(&cache_lock);
	cache_ttl = secs;
	explicit_bzero(cache, sizeof(cache));
	pthread_mutex_unlock(&cache_lock);
}
