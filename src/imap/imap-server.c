/* SPDX-License-Identifier: MIT */
/*
 * imap-server.c: the IMAP front-end object the daemon creates (see
 * imap-server.h): settings, the list of sessions, accept, graceful
 * shutdown. Part of src/imap.
 */
#include "imap-private.h"
#include "llist.h"
#include "log.h"

#include <stdlib.h>
#include <unistd.h>

struct imap_server *
imap_server_create(const struct imap_settings *set, struct store *store,
		   struct worker_pool *pool, struct event_base *base)
{
	struct imap_server *server = i_malloc(sizeof(*server));

	server->set = *set;
	server->set.hostname = i_strdup(set->hostname);
	if (server->set.idle_timeout_secs == 0)
		server->set.idle_timeout_secs = IMAP_IDLE_TIMEOUT_DEFAULT_SECS;
	if (server->set.login_timeout_secs == 0)
		server->set.login_timeout_secs =
			IMAP_LOGIN_TIMEOUT_DEFAULT_SECS;
	server->store = store;
	server->pool = pool;
	server->base = base;
	imap_idle_server_init(server);
	return server;
}

/* Tells settings.conn_closed that a socket accept() was given is gone:
   exactly once per socket, whatever way its session ends. */
static void
conn_closed(struct imap_server *server, void **token)
{
	if (server->set.conn_closed != NULL)
		server->set.conn_closed(*token);
	*token = NULL;
}

void
imap_server_accept(struct imap_server *server, int fd,
		   const struct sockaddr *addr, socklen_t addrlen,
		   bool implicit_tls, void *token)
{
	struct imap_conn *conn;

	if (implicit_tls && server->set.tls == NULL) {
		log_warnx("imap: TLS connection refused: no certificate");
		close(fd);
		conn_closed(server, &token);
		return;
	}
	conn = imap_conn_create(server, fd, addr, addrlen, implicit_tls);
	if (conn == NULL) {
		/* the socket is closed already */
		conn_closed(server, &token);
		return;
	}
	conn->limit_token = token;
	DLLIST_PREPEND(&server->conns, conn);
	server->conn_count++;
	if (server->shutting_down)
		imap_conn_shutdown(conn);
}

void
imap_server_conn_unlink(struct imap_server *server, struct imap_conn *conn)
{
	DLLIST_REMOVE(&server->conns, conn);
	i_assert(server->conn_count > 0);
	server->conn_count--;
	conn_closed(server, &conn->limit_token);
}

void
imap_server_shutdown(struct imap_server *server)
{
	struct imap_conn *conn, *next;

	server->shutting_down = true;
	for (conn = server->conns; conn != NULL; conn = next) {
		next = conn->next;
		imap_conn_shutdown(conn);
	}
}

unsigned int
imap_server_connection_count(struct imap_server *server)
{
	return server->conn_count;
}

void
imap_server_destroy(struct imap_server **_server)
{
	struct imap_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	while (server->conns != NULL) {
		struct imap_conn *conn = server->conns;

		i_assert(conn->jobs == 0);
		imap_conn_destroy(&conn);
	}
	imap_idle_server_deinit(server);
	free((char *)server->set.hostname);
	free(server);
}
