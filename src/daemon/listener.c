/* SPDX-License-Identifier: MIT */
/*
 * listener.c: one libevent evconnlistener per `--listen PROTO=ADDR:PORT`,
 * handing accepted sockets to the protocol's front-end. Part of
 * src/daemon.
 *
 * Limits: every accepted socket is counted (connlimit.h) from here until
 * its session is gone, TLS handshakes and login-failure delays included.
 * A socket over a limit never reaches the front-end: it gets its
 * protocol's refusal line (daemon_refusal_line(), inside TLS on imaps
 * and pop3s) and is closed. Refusals are bounded too: at most
 * DAEMON_REFUSALS_MAX at a time, each for at most
 * DAEMON_REFUSAL_TIMEOUT_SECS; past that a plaintext socket gets the
 * line in one non-blocking send() and a TLS one is just closed.
 */
#include "daemon-private.h"
#include "connlimit.h"
#include "llist.h"
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

/* Pending connections the kernel queues before accept(). */
#define LISTENER_BACKLOG 1024
/* Refusals being written at once, and how long each may take (a TLS
   handshake, the line, the client's close). */
#define DAEMON_REFUSALS_MAX 128
#define DAEMON_REFUSAL_TIMEOUT_SECS 10
/* Refusals are logged at most this often (a flood must not flood the
   log). */
#define DAEMON_REFUSAL_LOG_SECS 60

struct refusal {
	struct refusal *prev, *next;
	struct server *server;
	struct bufferevent *bev;
	struct event *timer;
};

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

/* ---- refusals ---- */

static void
refusal_free(struct refusal *refusal)
{
	struct server *server = refusal->server;

	DLLIST_REMOVE(&server->refusals, refusal);
	server->refusal_count--;
	event_free(refusal->timer);
	bufferevent_free(refusal->bev);
	free(refusal);
}

static void
refusal_timeout_cb(evutil_socket_t fd, short what, void *context)
{
	refusal_free(context);
}

/* EOF, error (a reset, a failed handshake) or the client's close; the
   end of a TLS handshake is none of these. */
static void
refusal_event_cb(struct bufferevent *bev, short what, void *context)
{
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0)
		refusal_free(context);
}

static void
refusal_discard_cb(struct bufferevent *bev, void *context)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	evbuffer_drain(in, evbuffer_get_length(in));
}

/*
 * The line is on the wire: send FIN (and close_notify inside TLS) but
 * read on until the client closes, because closing with its input
 * unread would send a RST that can destroy the line before the client
 * reads it (RFC 1122 §4.2.2.13).
 */
static void
refusal_written_cb(struct bufferevent *bev, void *context)
{
	if (tls_bufferevent_is_tls(bev))
		tls_bufferevent_close_notify(bev);
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) == -1) {
		refusal_free(context);
		return;
	}
	bufferevent_setcb(bev, refusal_discard_cb, NULL, refusal_event_cb,
			  context);
}

/* Sends line on fd (inside TLS when implicit_tls) and closes it. */
static void
refuse(struct server *server, int fd, bool implicit_tls, const char *line)
{
	struct timeval timeout = { DAEMON_REFUSAL_TIMEOUT_SECS, 0 };
	struct refusal *refusal;
	struct bufferevent *bev;

	if (server->refusal_count >= DAEMON_REFUSALS_MAX) {
		/* A fresh socket's send buffer always takes one line. */
		if (!implicit_tls)
			(void)send(fd, line, strlen(line),
				   MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	if (implicit_tls) {
		bev = tls_bufferevent_accept(server->tls, server->base, fd);
	} else {
		bev = bufferevent_socket_new(server->base, fd,
					     BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL)
			close(fd);
	}
	if (bev == NULL)
		return;
	refusal = i_malloc(sizeof(*refusal));
	refusal->server = server;
	refusal->bev = bev;
	refusal->timer = evtimer_new(server->base, refusal_timeout_cb,
				     refusal);
	evtimer_add(refusal->timer, &timeout);
	DLLIST_PREPEND(&server->refusals, refusal);
	server->refusal_count++;
	bufferevent_setcb(bev, refusal_discard_cb, refusal_written_cb,
			  refusal_event_cb, refusal);
	bufferevent_write(bev, line, strlen(line));
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void
listener_refusals_free(struct server *server)
{
	while (server->refusals != NULL)
		refusal_free(server->refusals);
}

/* One line per DAEMON_REFUSAL_LOG_SECS, saying how many were not. */
static void
refusal_log(struct server *server, const struct frontend *fe,
	    const struct sockaddr *addr, bool per_ip)
{
	enum daemon_family family = fe->proto->family;
	unsigned int max = server->set.max_connections[family];
	const char *why = "--max-connections";
	time_t now = time(NULL);
	char peer[128];

	if (server->refused_logged != 0 &&
	    now - server->refused_logged < DAEMON_REFUSAL_LOG_SECS) {
		server->refused_unlogged++;
		return;
	}
	if (per_ip) {
		why = "--max-connections-per-ip";
		max = server->set.max_per_ip[family];
	} else if (max == 0 || connlimit_count(fe->limit) < max) {
		why = "the open-files limit";
		max = connlimit_count(server->fd_limit);
	}
	daemon_format_addr(addr, peer, sizeof(peer));
	log_warnx("%s: refused %s: %u connections (%s); %u more refused "
		  "since the last report", fe->proto->name, peer, max, why,
		  server->refused_unlogged);
	server->refused_logged = now;
	server->refused_unlogged = 0;
}

/* ---- accepting ---- */

static void
accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
	  struct sockaddr *addr, int addrlen, void *context)
{
	struct listener *listener = context;
	struct server *server = listener->server;
	struct frontend *fe = listener->frontend;
	struct connlimit_entry *entry;
	enum connlimit_result result;
	char line[256];
	int one = 1;

	result = connlimit_open(fe->limit, addr, (socklen_t)addrlen, &entry);
	if (result != CONNLIMIT_OK) {
		bool per_ip = result == CONNLIMIT_IP_FULL;

		refusal_log(server, fe, addr, per_ip);
		daemon_refusal_line(fe->proto->family, server->set.hostname,
				    per_ip, line, sizeof(line));
		refuse(server, fd, fe->proto->implicit_tls, line);
		return;
	}

	/* Replies are small and often follow one another before the client
	   answers (a pipelined RCPT's reply after MAIL's): with Nagle the
	   second waits for the client's delayed ACK, some 40 ms. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("setsockopt(TCP_NODELAY)");
	fe->proto->ops->accept(fe->ctx, fd, addr, (socklen_t)addrlen, entry);
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
