/* SPDX-License-Identifier: MIT */
/*
 * pop3-server.h: the POP3 front-end as the daemon sees it (RFC 1939 with
 * RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH and RFC 3206 response
 * codes, over INBOX of local accounts). The daemon owns the event loop,
 * the worker pool, the store, the TLS context and the listening
 * sockets; it hands each accepted socket to pop3_server_accept(). Part
 * of src/pop3, which uses lib, mime and store only: this header is its
 * whole outside API.
 *
 * One server object serves both the plain (STLS) and the implicit-TLS
 * listeners, so that "one POP3 session per mailbox" holds across both.
 *
 * The process must ignore SIGPIPE. Threads: every function here runs on
 * the loop thread; store work (logins, opening INBOX, reading messages,
 * the UPDATE state's expunge) goes to the worker pool.
 */
#ifndef POP3_SERVER_H
#define POP3_SERVER_H

#include "lib.h"

#include <sys/socket.h>

struct event_base;
struct store;
struct tls_context;
struct worker_pool;
struct pop3_server;

struct pop3_settings {
	/* Name for logs (the greeting names the software only). */
	const char *hostname;
	/* A session that sends nothing for this long is closed (seconds;
	   RFC 1939 §3 wants at least 10 minutes). 0: the default. */
	unsigned int idle_timeout_secs;
	/* Certificate and key for STLS and implicit TLS; NULL: STLS is
	   not offered and implicit-TLS sockets are refused. */
	struct tls_context *tls;
	/* Allow USER/PASS and AUTH PLAIN/LOGIN before TLS (loopback demos,
	   tests). Otherwise they get "-ERR [AUTH]" until STLS. */
	bool allow_plaintext_auth;
	/* Called once for every socket pop3_server_accept() was given,
	   with the token given there, when its session is gone (socket
	   closed, store work done) or at once when it is refused: the
	   daemon's connection limits count with it. NULL: not called. */
	void (*conn_closed)(void *token);
};

#define POP3_IDLE_TIMEOUT_DEFAULT_SECS 600

/* Creates the front-end. The settings are copied (tls is borrowed);
   store, pool, base and tls must outlive it. Never blocks. */
struct pop3_server *pop3_server_create(const struct pop3_settings *set,
				       struct store *store,
				       struct worker_pool *pool,
				       struct event_base *base);

/* Starts a session on an accepted socket, with TLS from the first byte
   when implicit_tls (pop3s, RFC 8314). The server owns fd from now on. */
void pop3_server_accept(struct pop3_server *server, int fd,
			const struct sockaddr *addr, socklen_t addrlen,
			bool implicit_tls, void *token);

/*
 * Begins a graceful stop: idle sessions get "-ERR [SYS/TEMP]" and close
 * at once (nothing is expunged: only QUIT enters the UPDATE state); a
 * session waiting for the store finishes that step first. Sessions
 * accepted afterwards are refused the same way.
 */
void pop3_server_shutdown(struct pop3_server *server);

/* Sessions still open, counting those whose socket is gone but whose
   store work still runs. */
unsigned int pop3_server_connection_count(struct pop3_server *server);

/* Closes every session at once and frees the server. Only valid when no
   job of it is pending in the worker pool. Accepts NULL. */
void pop3_server_destroy(struct pop3_server **server);

#endif
