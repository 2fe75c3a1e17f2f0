/* SPDX-License-Identifier: MIT */
/*
 * lmtp-server.h: the LMTP front-end as the daemon sees it (RFC 2033
 * delivery to INBOX of local accounts). The daemon owns the event loop,
 * the worker pool, the store and the listening sockets; it hands each
 * accepted socket to lmtp_server_accept(). Part of src/lmtp, which uses
 * lib, mime and store only: this header is its whole outside API.
 *
 * The process must ignore SIGPIPE (a client that vanishes makes writes
 * fail with EPIPE).
 *
 * Threads: every function here runs on the loop thread. Store work
 * (recipient lookup, delivery with fsync) goes to the worker pool; a
 * recipient gets "250" only after store_deliver() returned 0, i.e. once
 * the message is on disk.
 */
#ifndef LMTP_SERVER_H
#define LMTP_SERVER_H

#include "lib.h"

#include <sys/socket.h>

struct event_base;
struct store;
struct worker_pool;
struct lmtp_server;

struct lmtp_settings {
	/* Name in the greeting and the LHLO reply. */
	const char *hostname;
	/* Largest message accepted (bytes, <= STORE_MESSAGE_MAX); also
	   advertised as SIZE. */
	uint64_t max_message_size;
	/* A session that sends nothing for this long gets 421 (seconds). */
	unsigned int idle_timeout_secs;
	/* Called once for every socket lmtp_server_accept() was given,
	   with the token given there, when its session is gone (socket
	   closed, store work done) or at once when it is refused: the
	   daemon's connection limits count with it. NULL: not called. */
	void (*conn_closed)(void *token);
};

#define LMTP_IDLE_TIMEOUT_DEFAULT_SECS 300

/* Creates the front-end. The settings are copied; store, pool and base
   must outlive it. Never blocks. */
struct lmtp_server *lmtp_server_create(const struct lmtp_settings *set,
				       struct store *store,
				       struct worker_pool *pool,
				       struct event_base *base);

/* Starts a session on an accepted socket; the server owns fd from now on
   (it is made non-blocking and closed with the session). */
void lmtp_server_accept(struct lmtp_server *server, int fd,
			const struct sockaddr *addr, socklen_t addrlen,
			void *token);

/*
 * Begins a graceful stop: idle sessions get "421" and close at once; a
 * session in the middle of a transaction finishes it (deliveries and
 * their replies included), then gets "421". Sessions accepted afterwards
 * are refused the same way.
 */
void lmtp_server_shutdown(struct lmtp_server *server);

/* Sessions still open, counting those whose socket is gone but whose
   deliveries still run. */
unsigned int lmtp_server_connection_count(struct lmtp_server *server);

/*
 * Closes every session at once and frees the server. Only valid when no
 * job of it is pending in the worker pool (after the pool is drained or
 * when connection_count() is 0). Accepts NULL.
 */
void lmtp_server_destroy(struct lmtp_server **server);

#endif
