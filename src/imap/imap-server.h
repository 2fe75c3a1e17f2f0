/* SPDX-License-Identifier: MIT */
/*
 * imap-server.h: the IMAP front-end as the daemon sees it (RFC 3501
 * IMAP4rev1 with the extensions listed in imap-commands.c's CAPABILITY,
 * RFC 9595 STARTTLS rules, RFC 8314 implicit TLS). The daemon owns the
 * event loop, the worker pool, the store, the TLS context and the
 * listening sockets; it hands each accepted socket to
 * imap_server_accept(). Part of src/imap, which uses lib, mime and store
 * only: this header is its whole outside API.
 *
 * One server object serves both the plain (STARTTLS) and the
 * implicit-TLS listeners.
 *
 * The process must ignore SIGPIPE. Threads: every function here runs on
 * the loop thread; store work goes to the worker pool.
 */
#ifndef IMAP_SERVER_H
#define IMAP_SERVER_H

#include "lib.h"

#include <sys/socket.h>

struct event_base;
struct store;
struct tls_context;
struct worker_pool;
struct imap_server;

struct imap_settings {
	/* Name for logs (the greeting names the software only). */
	const char *hostname;
	/* A session that sends nothing for this long is closed (seconds;
	   RFC 3501 §5.4 wants at least 30 minutes). 0: the default. */
	unsigned int idle_timeout_secs;
	/* Before login the limit is the smaller of this and the idle
	   timeout: §5.4's 30 minutes are for authenticated sessions, and a
	   connection that never logs in only holds a place. 0: the
	   default. */
	unsigned int login_timeout_secs;
	/* Certificate and key for STARTTLS and implicit TLS; NULL:
	   STARTTLS is not offered and implicit-TLS sockets are refused. */
	struct tls_context *tls;
	/* Allow LOGIN and AUTHENTICATE PLAIN/LOGIN before TLS (loopback
	   demos, tests). Otherwise LOGINDISABLED until STARTTLS. */
	bool allow_plaintext_auth;
	/* Called once for every socket imap_server_accept() was given,
	   with the token given there, when its session is gone (socket
	   closed, store work done) or at once when it is refused: the
	   daemon's connection limits count with it. NULL: not called. */
	void (*conn_closed)(void *token);
};

#define IMAP_IDLE_TIMEOUT_DEFAULT_SECS (30 * 60)
/* As Dovecot's login processes. */
#define IMAP_LOGIN_TIMEOUT_DEFAULT_SECS (3 * 60)

/* Creates the front-end. The settings are copied (tls is borrowed);
   store, pool, base and tls must outlive it. Never blocks. */
struct imap_server *imap_server_create(const struct imap_settings *set,
				       struct store *store,
				       struct worker_pool *pool,
				       struct event_base *base);

/* Starts a session on an accepted socket, with TLS from the first byte
   when implicit_tls (imaps). The server owns fd from now on. */
void imap_server_accept(struct imap_server *server, int fd,
			const struct sockaddr *addr, socklen_t addrlen,
			bool implicit_tls, void *token);

/*
 * Begins a graceful stop: idle sessions get "* BYE" and close at once; a
 * session waiting for the store finishes that command first. Sessions
 * accepted afterwards are refused the same way.
 */
void imap_server_shutdown(struct imap_server *server);

/* Sessions still open, counting those whose socket is gone but whose
   store work still runs. */
unsigned int imap_server_connection_count(struct imap_server *server);

/* Closes every session at once and frees the server. Only valid when no
   job of it is pending in the worker pool. Accepts NULL. */
void imap_server_destroy(struct imap_server **server);

#endif
