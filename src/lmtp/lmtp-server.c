/* SPDX-License-Identifier: MIT */
/*
 * lmtp-server.c: the LMTP front-end object the daemon creates (see
 * lmtp-server.h): settings, the list of sessions, accept and graceful
 * shutdown. Part of src/lmtp.
 */
#include "lmtp-private.h"
#include "llist.h"
#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <unistd.h>

struct lmtp_server *
lmtp_server_create(const struct lmtp_settings *set, struct store *store,
		   struct worker_pool *pool, struct event_base *base)
{
	struct lmtp_server *server = i_malloc(sizeof(*server));

	server->set = *set;
	server->set.hostname = i_strdup(set->hostname);
	if (server->set.max_message_size == 0 ||
	    server->set.max_message_size > STORE_MESSAGE_MAX)
		server->set.max_message_size = STORE_MESSAGE_MAX;
	if (server->set.idle_timeout_secs == 0)
		server->set.idle_timeout_secs = LMTP_IDLE_TIMEOUT_DEFAULT_SECS;
	server->store = store;
	server->pool = pool;
	server->base = base;
	return server;
}

/* Tells settings.conn_closed that a socket accept() was given is gone:
   exactly once per socket, whatever way its session ends. */
static void
conn_closed(struct lmtp_server *server, void **token)
{
	if (server->set.conn_closed != NULL)
		server->set.conn_closed(*token);
	*token = NULL;
}

void
lmtp_server_accept(struct lmtp_server *server, int fd,
		   const struct sockaddr *addr, socklen_t addrlen,
		   void *token)
{
	struct lmtp_conn *conn;

	conn = lmtp_conn_create(server, fd, addr, addrlen);
	if (conn == NULL) {
		/* the socket is closed already */
		conn_closed(server, &token);
		return;
	}
	conn->limit_token = token;
	DLLIST_PREPEND(&server->conns, conn);
	server->conn_count++;
	if (server->shutting_down)
		lmtp_conn_shutdown(conn);
}

void
lmtp_server_conn_unlink(struct lmtp_server *server, struct lmtp_conn *conn)
{
	DLLIST_REMOVE(&server->conns, conn);
	i_assert(server->conn_count > 0);
	server->conn_count--;
	conn_closed(server, &conn->limit_token);
}

void
lmtp_server_shutdown(struct lmtp_server *server)
{
	struct lmtp_conn *conn, *next;

	server->shutting_down = true;
	/* lmtp_conn_shutdown() may free conn. */
	for (conn = server->conns; conn != NULL; conn = next) {
		next = conn->next;
		lmtp_conn_shutdown(conn);
	}
}

unsigned int
lmtp_server_connection_count(struct lmtp_server *server)
{
	return server->conn_count;
}

void
lmtp_server_destroy(struct lmtp_server **_server)
{
	struct lmtp_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	while (server->conns != NULL) {
		struct lmtp_conn *conn = server->conns;

		i_assert(conn->jobs == 0);
		lmtp_conn_destroy(&conn);
	}
	free((char *)server->set.hostname);
	free(server);
}
