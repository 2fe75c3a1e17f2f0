/* SPDX-License-Identifier: MIT */
/*
 * pop3-server.c: the POP3 front-end object the daemon creates (see
 * pop3-server.h): settings, the list of sessions, accept, graceful
 * shutdown, and two tables the sessions share. Part of src/pop3.
 *
 * In use: RFC 1939 §4 lets a server lock the maildrop for a session; we
 * do, per account, in this process only (a table of account names taken
 * by a session from login to its end). One daemon serves a base
 * directory; the CLI and IMAP never need this lock, because a POP3
 * session works on a snapshot and removes at QUIT only the UIDs it
 * marked, through the store's own locking. A second POP3 session gets
 * "-ERR [IN-USE]" (RFC 2449 §8.1.2) instead of a second, conflicting
 * numbering of the same messages.
 *
 * Clean cache: a message whose stored bytes need no dot-stuffing and no
 * line-end repair can be sent to a plaintext client with sendfile. That
 * is only known after reading it once; since a message under one
 * UIDVALIDITY never changes, the answer is kept here (direct-mapped by
 * a hash of account, UIDVALIDITY and UID; a collision just forgets).
 * The size is part of the key too, as a guard against a UIDVALIDITY
 * handed out again after an account was deleted and created anew.
 */
#include "pop3-private.h"
#include "llist.h"
#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pop3_server *
pop3_server_create(const struct pop3_settings *set, struct store *store,
		   struct worker_pool *pool, struct event_base *base)
{
	struct pop3_server *server = i_malloc(sizeof(*server));

	server->set = *set;
	server->set.hostname = i_strdup(set->hostname);
	if (server->set.idle_timeout_secs == 0)
		server->set.idle_timeout_secs = POP3_IDLE_TIMEOUT_DEFAULT_SECS;
	server->store = store;
	server->pool = pool;
	server->base = base;
	server->clean = i_malloc(POP3_CLEAN_CACHE_SIZE *
				 sizeof(*server->clean));
	return server;
}

/* Tells settings.conn_closed that a socket accept() was given is gone:
   exactly once per socket, whatever way its session ends. */
static void
conn_closed(struct pop3_server *server, void **token)
{
	if (server->set.conn_closed != NULL)
		server->set.conn_closed(*token);
	*token = NULL;
}

void
pop3_server_accept(struct pop3_server *server, int fd,
		   const struct sockaddr *addr, socklen_t addrlen,
		   bool implicit_tls, void *token)
{
	struct pop3_conn *conn;

	if (implicit_tls && server->set.tls == NULL) {
		log_warnx("pop3: TLS connection refused: no certificate");
		close(fd);
		conn_closed(server, &token);
		return;
	}
	conn = pop3_conn_create(server, fd, addr, addrlen, implicit_tls);
	if (conn == NULL) {
		/* the socket is closed already */
		conn_closed(server, &token);
		return;
	}
	conn->limit_token = token;
	DLLIST_PREPEND(&server->conns, conn);
	server->conn_count++;
	if (server->shutting_down)
		pop3_conn_shutdown(conn);
}

void
pop3_server_conn_unlink(struct pop3_server *server, struct pop3_conn *conn)
{
	DLLIST_REMOVE(&server->conns, conn);
	i_assert(server->conn_count > 0);
	server->conn_count--;
	conn_closed(server, &conn->limit_token);
}

void
pop3_server_shutdown(struct pop3_server *server)
{
	struct pop3_conn *conn, *next;

	server->shutting_down = true;
	/* pop3_conn_shutdown() may free conn. */
	for (conn = server->conns; conn != NULL; conn = next) {
		next = conn->next;
		pop3_conn_shutdown(conn);
	}
}

unsigned int
pop3_server_connection_count(struct pop3_server *server)
{
	return server->conn_count;
}

void
pop3_server_destroy(struct pop3_server **_server)
{
	struct pop3_server *server = *_server;
	struct pop3_in_use *entry;
	unsigned int i;

	if (server == NULL)
		return;
	*_server = NULL;
	while (server->conns != NULL) {
		struct pop3_conn *conn = server->conns;

		i_assert(conn->jobs == 0);
		pop3_conn_destroy(&conn);
	}
	for (i = 0; i < POP3_IN_USE_BUCKETS; i++) {
		while ((entry = server->in_use[i]) != NULL) {
			server->in_use[i] = entry->next;
			free(entry->name);
			free(entry);
		}
	}
	for (i = 0; i < POP3_CLEAN_CACHE_SIZE; i++)
		free(server->clean[i].account);
	free(server->clean);
	free((char *)server->set.hostname);
	free(server);
}

/* ---- hashing ---- */

/* FNV-1a, 64 bits. */
static uint64_t
hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define HASH_INIT 0xcbf29ce484222325ULL

/* ---- in use ---- */

static struct pop3_in_use **
in_use_find(struct pop3_server *server, const char *name)
{
	uint64_t h = hash_bytes(HASH_INIT, name, strlen(name));
	struct pop3_in_use **p = &server->in_use[h % POP3_IN_USE_BUCKETS];

	while (*p != NULL && strcmp((*p)->name, name) != 0)
		p = &(*p)->next;
	return p;
}

bool
pop3_server_in_use_take(struct pop3_server *server, const char *name)
{
	struct pop3_in_use **p = in_use_find(server, name);

	if (*p != NULL)
		return false;
	*p = i_malloc(sizeof(**p));
	(*p)->name = i_strdup(name);
	return true;
}

void
pop3_server_in_use_release(struct pop3_server *server, const char *name)
{
	struct pop3_in_use **p = in_use_find(server, name), *entry = *p;

	i_assert(entry != NULL);
	*p = entry->next;
	free(entry->name);
	free(entry);
}

/* ---- the clean-message cache ---- */

static struct pop3_clean_entry *
clean_slot(struct pop3_server *server, const char *account,
	   uint32_t uidvalidity, uint32_t uid)
{
	uint64_t h = hash_bytes(HASH_INIT, account, strlen(account));

	h = hash_bytes(h, &uidvalidity, sizeof(uidvalidity));
	h = hash_bytes(h, &uid, sizeof(uid));
	return &server->clean[h % POP3_CLEAN_CACHE_SIZE];
}

bool
pop3_server_clean_lookup(struct pop3_server *server, const char *account,
			 uint32_t uidvalidity, uint32_t uid, uint64_t size)
{
	struct pop3_clean_entry *e = clean_slot(server, account, uidvalidity,
						uid);

	return e->account != NULL && e->uid == uid &&
		e->uidvalidity == uidvalidity && e->size == size &&
		strcmp(e->account, account) == 0;
}

void
pop3_server_clean_add(struct pop3_server *server, const char *account,
		      uint32_t uidvalidity, uint32_t uid, uint64_t size)
{
	struct pop3_clean_entry *e = clean_slot(server, account, uidvalidity,
						uid);

	if (e->account == NULL || strcmp(e->account, account) != 0) {
		free(e->account);
		e->account = i_strdup(account);
	}
	e->uidvalidity = uidvalidity;
	e->uid = uid;
	e->size = size;
}
