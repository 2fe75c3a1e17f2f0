/* SPDX-License-Identifier: MIT */
/*
 * test-pop3-server.c: the tables the POP3 sessions share (pop3-server.c):
 * one session per account in the in-use table, and the cache of
 * messages known to need no dot-stuffing.
 */
#include "pop3-private.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static struct pop3_server *
server_new(void)
{
	struct pop3_settings set = { .hostname = "test" };

	return pop3_server_create(&set, NULL, NULL, NULL);
}

static void
test_in_use(void **state)
{
	struct pop3_server *server = server_new();
	char name[32];
	unsigned int i;

	assert_true(pop3_server_in_use_take(server, "alice"));
	assert_false(pop3_server_in_use_take(server, "alice"));
	assert_true(pop3_server_in_use_take(server, "bob"));
	pop3_server_in_use_release(server, "alice");
	assert_true(pop3_server_in_use_take(server, "alice"));
	/* Many names, more than buckets: chains. */
	for (i = 0; i < 3 * POP3_IN_USE_BUCKETS; i++) {
		snprintf(name, sizeof(name), "user%u@example.org", i);
		assert_true(pop3_server_in_use_take(server, name));
	}
	for (i = 0; i < 3 * POP3_IN_USE_BUCKETS; i += 2) {
		snprintf(name, sizeof(name), "user%u@example.org", i);
		pop3_server_in_use_release(server, name);
	}
	for (i = 0; i < 3 * POP3_IN_USE_BUCKETS; i++) {
		snprintf(name, sizeof(name), "user%u@example.org", i);
		assert_int_equal(pop3_server_in_use_take(server, name),
				 i % 2 == 0);
	}
	/* The rest is freed with the server. */
	pop3_server_destroy(&server);
	assert_null(server);
}

static void
test_clean_cache(void **state)
{
	struct pop3_server *server = server_new();
	unsigned int i, hits = 0;

	assert_false(pop3_server_clean_lookup(server, "alice", 7, 1, 100));
	pop3_server_clean_add(server, "alice", 7, 1, 100);
	assert_true(pop3_server_clean_lookup(server, "alice", 7, 1, 100));
	/* Every part of the key counts. */
	assert_false(pop3_server_clean_lookup(server, "bob", 7, 1, 100));
	assert_false(pop3_server_clean_lookup(server, "alice", 8, 1, 100));
	assert_false(pop3_server_clean_lookup(server, "alice", 7, 2, 100));
	assert_false(pop3_server_clean_lookup(server, "alice", 7, 1, 101));
	/* Bounded: filling it twice over forgets some, never mixes. */
	for (i = 0; i < 2 * POP3_CLEAN_CACHE_SIZE; i++)
		pop3_server_clean_add(server, "carol", 1, i + 1, i);
	for (i = 0; i < 2 * POP3_CLEAN_CACHE_SIZE; i++) {
		hits += pop3_server_clean_lookup(server, "carol", 1, i + 1, i);
		assert_false(pop3_server_clean_lookup(server, "carol", 1,
						      i + 1, i + 1));
	}
	assert_true(hits > 0 && hits <= POP3_CLEAN_CACHE_SIZE);
	pop3_server_destroy(&server);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_use),
		cmocka_unit_test(test_clean_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
