/* SPDX-License-Identifier: MIT */
/*
 * test-connlimit.c: the connection counts behind `commune serve
 * --max-connections` and `--max-connections-per-ip` (connlimit.c):
 * which addresses count as one client, the limits, the parent limit,
 * and that closing gives back exactly what opening took.
 */
#include "connlimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "1.2.3.4" or "2001:db8::1", any port */
static struct addr
addr_make(const char *text, unsigned int port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct addr a;

	memset(&a, 0, sizeof(a));
	sin = (struct sockaddr_in *)&a.ss;
	sin6 = (struct sockaddr_in6 *)&a.ss;
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a.len = sizeof(*sin);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr),
				 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a.len = sizeof(*sin6);
	}
	return a;
}

#define SA(a) ((const struct sockaddr *)&(a).ss), (a).len

static bool
same_key(const char *x, const char *y)
{
	struct addr a = addr_make(x, 1000), b = addr_make(y, 2000);
	struct connlimit_key ka, kb;
	bool lo;

	connlimit_key_from_addr(SA(a), &ka, &lo);
	connlimit_key_from_addr(SA(b), &kb, &lo);
	return memcmp(&ka, &kb, sizeof(ka)) == 0;
}

static bool
is_loopback(const char *text)
{
	struct addr a = addr_make(text, 1);
	struct connlimit_key key;
	bool lo;

	connlimit_key_from_addr(SA(a), &key, &lo);
	return lo;
}

static void
test_key(void **state)
{
	/* IPv4: the whole address; the port never matters */
	assert_true(same_key("192.0.2.1", "192.0.2.1"));
	assert_false(same_key("192.0.2.1", "192.0.2.2"));
	/* IPv6: the /64 */
	assert_true(same_key("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"));
	assert_false(same_key("2001:db8:1:2::1", "2001:db8:1:3::1"));
	/* a dual-stack listener's v4-mapped address is the IPv4 client */
	assert_true(same_key("::ffff:192.0.2.1", "192.0.2.1"));
	assert_false(same_key("::ffff:192.0.2.1", "192.0.2.2"));
	/* an IPv4 address is never an IPv6 prefix */
	assert_false(same_key("0.0.0.0", "::"));

	assert_true(is_loopback("127.0.0.1"));
	assert_true(is_loopback("127.200.3.4"));
	assert_true(is_loopback("::1"));
	assert_true(is_loopback("::ffff:127.0.0.1"));
	assert_false(is_loopback("128.0.0.1"));
	assert_false(is_loopback("::2"));
	assert_false(is_loopback("192.0.2.1"));
}

static void
test_per_ip(void **state)
{
	struct connlimit_settings set = { .max_per_ip = 2 };
	struct connlimit *limit = connlimit_create(&set, NULL);
	struct addr a = addr_make("192.0.2.1", 1);
	struct addr b = addr_make("192.0.2.2", 1);
	struct addr a6 = addr_make("::ffff:192.0.2.1", 7);
	struct connlimit_entry *e1, *e2, *e3, *e4;

	assert_int_equal(connlimit_open(limit, SA(a), &e1), CONNLIMIT_OK);
	assert_int_equal(connlimit_open(limit, SA(a6), &e2), CONNLIMIT_OK);
	assert_int_equal(connlimit_open(limit, SA(a), &e3),
			 CONNLIMIT_IP_FULL);
	assert_null(e3);
	assert_int_equal(connlimit_ip_count(limit, SA(a)), 2);
	/* another address is not affected */
	assert_int_equal(connlimit_open(limit, SA(b), &e4), CONNLIMIT_OK);
	assert_int_equal(connlimit_count(limit), 3);
	/* one closed: one more may come */
	connlimit_close(&e1);
	assert_null(e1);
	assert_int_equal(connlimit_ip_count(limit, SA(a)), 1);
	assert_int_equal(connlimit_open(limit, SA(a), &e1), CONNLIMIT_OK);
	connlimit_close(&e1);
	connlimit_close(&e2);
	connlimit_close(&e4);
	connlimit_close(&e4);   /* NULL now: nothing */
	assert_int_equal(connlimit_count(limit), 0);
	assert_int_equal(connlimit_ip_count(limit, SA(a)), 0);
	connlimit_destroy(&limit);
	assert_null(limit);
	connlimit_destroy(&limit);
}

static void
test_loopback(void **state)
{
	struct connlimit_settings set = { .max_per_ip = 1 };
	struct connlimit *limit = connlimit_create(&set, NULL);
	struct addr lo = addr_make("127.0.0.1", 1);
	struct connlimit_entry *e[3];
	unsigned int i;

	/* exempt, but counted */
	for (i = 0; i < 3; i++)
		assert_int_equal(connlimit_open(limit, SA(lo), &e[i]),
				 CONNLIMIT_OK);
	assert_int_equal(connlimit_ip_count(limit, SA(lo)), 3);
	for (i = 0; i < 3; i++)
		connlimit_close(&e[i]);
	connlimit_destroy(&limit);

	set.limit_loopback = true;
	limit = connlimit_create(&set, NULL);
	assert_int_equal(connlimit_open(limit, SA(lo), &e[0]), CONNLIMIT_OK);
	assert_int_equal(connlimit_open(limit, SA(lo), &e[1]),
			 CONNLIMIT_IP_FULL);
	connlimit_close(&e[0]);
	connlimit_destroy(&limit);
}

static void
test_total_and_parent(void **state)
{
	struct connlimit_settings pset = { .max_connections = 3 };
	struct connlimit_settings set = { .max_connections = 2 };
	struct connlimit *parent = connlimit_create(&pset, NULL);
	struct connlimit *x = connlimit_create(&set, parent);
	struct connlimit *y = connlimit_create(&set, parent);
	struct addr a = addr_make("192.0.2.1", 1);
	struct addr b = addr_make("192.0.2.2", 1);
	struct connlimit_entry *x1, *x2, *x3, *y1, *y2;

	assert_int_equal(connlimit_max(parent), 3);
	assert_int_equal(connlimit_open(x, SA(a), &x1), CONNLIMIT_OK);
	assert_int_equal(connlimit_open(x, SA(b), &x2), CONNLIMIT_OK);
	/* x's own limit */
	assert_int_equal(connlimit_open(x, SA(b), &x3), CONNLIMIT_FULL);
	assert_int_equal(connlimit_open(y, SA(a), &y1), CONNLIMIT_OK);
	/* the parent's: y is below its own */
	assert_int_equal(connlimit_open(y, SA(a), &y2), CONNLIMIT_FULL);
	assert_null(y2);
	assert_int_equal(connlimit_count(parent), 3);
	assert_int_equal(connlimit_count(y), 1);
	connlimit_close(&x1);
	assert_int_equal(connlimit_count(parent), 2);
	assert_int_equal(connlimit_open(y, SA(a), &y2), CONNLIMIT_OK);
	connlimit_close(&x2);
	connlimit_close(&y1);
	connlimit_close(&y2);
	assert_int_equal(connlimit_count(parent), 0);
	connlimit_destroy(&x);
	connlimit_destroy(&y);
	connlimit_destroy(&parent);
}

/* Many addresses (the table grows), closed in another order. */
static void
test_many(void **state)
{
	enum { N = 5000 };
	struct connlimit_settings set = { .max_per_ip = 2 };
	struct connlimit *limit = connlimit_create(&set, NULL);
	struct connlimit_entry **e = calloc(2 * N, sizeof(*e));
	char text[64];
	unsigned int i;

	for (i = 0; i < 2 * N; i++) {
		struct addr a;

		if (i % 2 == 0)
			snprintf(text, sizeof(text), "10.%u.%u.1",
				 (i / 2) >> 8, (i / 2) & 255);
		else
			snprintf(text, sizeof(text), "2001:db8:%x:%x::%x",
				 i >> 16, i & 0xffff, i);
		a = addr_make(text, i);
		assert_int_equal(connlimit_open(limit, SA(a), &e[i]),
				 CONNLIMIT_OK);
	}
	assert_int_equal(connlimit_count(limit), 2 * N);
	for (i = 0; i < 2 * N; i += 2)
		connlimit_close(&e[(i * 7919) % (2 * N)]);
	for (i = 0; i < 2 * N; i++)
		connlimit_close(&e[i]);
	assert_int_equal(connlimit_count(limit), 0);
	connlimit_destroy(&limit);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_per_ip),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_total_and_parent),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
