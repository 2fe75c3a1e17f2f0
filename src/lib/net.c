/* SPDX-License-Identifier: MIT */
/*
 * net.c: socket-address helpers (see net.h). Bottom of the DAG (lib).
 */
#include "net.h"

#include <netinet/in.h>

#include <event2/util.h>

char *
net_peer_name(const struct sockaddr *addr, socklen_t addrlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (addr->sa_family == AF_INET &&
	    addrlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)addr;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (addr->sa_family == AF_INET6 &&
		   addrlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host,
				 sizeof(host));
		port = ntohs(sin6->sin6_port);
		return i_strdup_printf("[%s]:%u", host, port);
	}
	return i_strdup_printf("%s:%u", host, port);
}
