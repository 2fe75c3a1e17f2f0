/* SPDX-License-Identifier: MIT */
/*
 * listener.c: one libevent evconnlistener per `--listen PROTO=ADDR:PORT`,
 * handing accepted sockets to the protocol's front-end. Part of
 * src/daemon.
 */
#include "daemon-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/listener.h>
#include <event2/util.h>

/* Pending connections the kernel queues before accept(). */
#define LISTENER_BACKLOG 1024

struct listener {
	struct server *server;
	struct frontend *frontend;
	struct evconnlistener *evl;
	struct sockaddr_storage bound;
};

void
daemon_format_addr(const struct sockaddr *addr, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host,
				 sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const void *)addr;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(sin->sin_port));
	}
}

static void
accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
	  struct sockaddr *addr, int addrlen, void *context)
{
	struct listener *listener = context;
	struct frontend *fe = listener->frontend;
	int one = 1;

	/* Replies are small and often follow one another before the client
	   answers (a pipelined RCPT's reply after MAIL's): with Nagle the
	   second waits for the client's delayed ACK, some 40 ms. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("setsockopt(TCP_NODELAY)");
	fe->proto->ops->accept(fe->ctx, fd, addr, (socklen_t)addrlen);
}

static void
accept_error_cb(struct evconnlistener *evl, void *context)
{
	/* EMFILE and friends: libevent retries on the next loop turn. */
	log_warn("accept");
}

struct listener *
listener_create(struct server *server, const struct listen_spec *spec,
		struct frontend *frontend)
{
	struct listener *listener = i_malloc(sizeof(*listener));
	socklen_t len = sizeof(listener->bound);
	char addr[128];

	listener->server = server;
	listener->frontend = frontend;
	listener->evl = evconnlistener_new_bind(server->base, accept_cb,
		listener, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
		LEV_OPT_REUSEABLE, LISTENER_BACKLOG,
		(const struct sockaddr *)&spec->addr, (int)spec->addrlen);
	if (listener->evl == NULL) {
		daemon_format_addr((const struct sockaddr *)&spec->addr, addr,
				   sizeof(addr));
		fprintf(stderr, "commune serve: cannot listen on %s (%s): %s\n",
			addr, spec->proto->name, strerror(errno));
		free(listener);
		return NULL;
	}
	evconnlistener_set_error_cb(listener->evl, accept_error_cb);
	if (getsockname(evconnlistener_get_fd(listener->evl),
			(struct sockaddr *)&listener->bound, &len) == -1)
		memcpy(&listener->bound, &spec->addr, spec->addrlen);
	return listener;
}

void
listener_describe(struct listener *listener, char *out, size_t size)
{
	char addr[128];

	daemon_format_addr((const struct sockaddr *)&listener->bound, addr,
			   sizeof(addr));
	snprintf(out, size, "%s on %s", listener->frontend->proto->name, addr);
}

void
listener_destroy(struct listener **_listener)
{
	struct listener *listener = *_listener;

	if (listener == NULL)
		return;
	*_listener = NULL;
	evconnlistener_free(listener->evl);
	free(listener);
}
