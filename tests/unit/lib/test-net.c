/* SPDX-License-Identifier: MIT */
/*
 * test-net.c: net_peer_name for IPv4, IPv6 and what it does not know.
 */
#include "net.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <cmocka.h>

static void
check(const struct sockaddr *addr, socklen_t len, const char *expect)
{
	char *name = net_peer_name(addr, len);

	assert_string_equal(name, expect);
	free(name);
}

static void
test_peer_name(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(110) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(995) };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	check((struct sockaddr *)&sin, sizeof(sin), "192.0.2.7:110");
	/* Too short for its family. */
	check((struct sockaddr *)&sin, 4, "?:0");
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	check((struct sockaddr *)&sin6, sizeof(sin6), "[2001:db8::1]:995");
	check((struct sockaddr *)&sun, sizeof(sun), "?:0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
