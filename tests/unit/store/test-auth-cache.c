/* SPDX-License-Identifier: MIT */
/*
 * test-auth-cache.c: the cache of successful password checks
 * (auth-cache.c): hits only for the same user, stored hash and
 * password; nothing once the lifetime is 0.
 */
#include "auth-private.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void
test_hit_and_miss(void **state)
{
	auth_cache_set_ttl(AUTH_CACHE_TTL_SECS);
	assert_false(auth_cache_lookup("alice", "$y$hash1", "secret"));
	auth_cache_add("alice", "$y$hash1", "secret");
	assert_true(auth_cache_lookup("alice", "$y$hash1", "secret"));
	/* Another password, user or stored hash (a changed password). */
	assert_false(auth_cache_lookup("alice", "$y$hash1", "secret2"));
	assert_false(auth_cache_lookup("alice", "$y$hash1", "secre"));
	assert_false(auth_cache_lookup("bob", "$y$hash1", "secret"));
	assert_false(auth_cache_lookup("alice", "$y$hash2", "secret"));
	/* The separators keep fields apart. */
	auth_cache_add("ab", "c", "d");
	assert_false(auth_cache_lookup("a", "bc", "d"));
	assert_true(auth_cache_lookup("ab", "c", "d"));
}

static void
test_ttl_zero(void **state)
{
	auth_cache_set_ttl(AUTH_CACHE_TTL_SECS);
	auth_cache_add("carol", "$y$h", "pw");
	assert_true(auth_cache_lookup("carol", "$y$h", "pw"));
	/* Setting the lifetime forgets everything; 0 caches nothing. */
	auth_cache_set_ttl(0);
	assert_false(auth_cache_lookup("carol", "$y$h", "pw"));
	auth_cache_add("carol", "$y$h", "pw");
	assert_false(auth_cache_lookup("carol", "$y$h", "pw"));
	auth_cache_set_ttl(AUTH_CACHE_TTL_SECS);
	assert_false(auth_cache_lookup("carol", "$y$h", "pw"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_ttl_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
