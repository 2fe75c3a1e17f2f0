/* SPDX-License-Identifier: MIT */
/*
 * daemon-private.h: what the files of src/daemon share.
 *
 *   daemon.c      `commune serve`: options, start-up, signals, the
 *                 graceful stop.
 *   listener.c    one evconnlistener per --listen.
 *   frontends.c   the table of protocol names and, for each, the adapter
 *                 from struct server to that front-end's own API (the
 *                 front-ends never see struct server).
 */
#ifndef DAEMON_PRIVATE_H
#define DAEMON_PRIVATE_H

#include "lib.h"
#include "log.h"

#include <sys/socket.h>

struct event;
struct event_base;
struct store;
struct worker_pool;
struct listener;
struct tls_context;

/* Upper bounds of the command line. */
#define DAEMON_LISTENERS_MAX 64
/* Graceful stop: how long in-flight deliveries may take (seconds). */
#define DAEMON_SHUTDOWN_TIMEOUT_DEFAULT_SECS 30

/*
 * A protocol front-end as the daemon drives it. create() is called once
 * per protocol that has at least one listener, after the store, the pool
 * and the loop exist; accept() gets each accepted socket (the front-end
 * owns fd from then on); shutdown() starts a graceful stop (finish what
 * is in flight, refuse new work); connection_count() tells when that is
 * done; destroy() frees everything (no job of the front-end may still be
 * pending in the pool). All run on the loop thread.
 */
struct server;
struct frontend_ops {
	void *(*create)(struct server *server);
	void (*accept)(void *frontend, int fd, const struct sockaddr *addr,
		       socklen_t addrlen);
	void (*shutdown)(void *frontend);
	unsigned int (*connection_count)(void *frontend);
	void (*destroy)(void *frontend);
};

struct protocol_def {
	/* The name in --listen NAME=ADDR:PORT. */
	const char *name;
	const struct frontend_ops *ops;
};

/* The known protocols, in the order --protocols prints them. */
extern const struct protocol_def daemon_protocols[];
extern const unsigned int daemon_protocol_count;
const struct protocol_def *daemon_protocol_find(const char *name);

/* A running front-end: one per protocol in use. */
struct frontend {
	const struct protocol_def *proto;
	void *ctx;
};

struct listen_spec {
	const struct protocol_def *proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct daemon_settings {
	const char *base_dir;
	struct listen_spec listens[DAEMON_LISTENERS_MAX];
	unsigned int listen_count;
	unsigned int workers;
	enum log_level log_level;
	uint64_t max_message_size;      /* 0: the store's limit */
	unsigned int idle_timeout_secs; /* 0: each protocol's default */
	unsigned int shutdown_timeout_secs;
	const char *pidfile;
	char hostname[256];
	/* TLS certificate chain and key (PEM); NULL: the defaults
	   BASE/Settings/server.crt and server.key, used when present. */
	const char *tls_cert;
	const char *tls_key;
	/* Plaintext logins before TLS (USER/PASS, AUTH PLAIN/LOGIN). */
	bool allow_plaintext_auth;
};

/* Everything a front-end adapter may use; owned by daemon.c. */
struct server {
	struct daemon_settings set;
	struct event_base *base;
	struct worker_pool *pool;
	struct store *store;
	/* NULL when no certificate is configured: no STLS, no pop3s. */
	struct tls_context *tls;

	struct frontend frontends[DAEMON_LISTENERS_MAX];
	unsigned int frontend_count;
	struct listener *listeners[DAEMON_LISTENERS_MAX];
	unsigned int listener_count;

	struct event *sig_term, *sig_int, *stop_timer;
	bool stopping;
	bool forced;
	int64_t stop_deadline_ms;
};

/* listener.c */
/* Binds and listens on spec's address (nothing accepted before the loop
   runs). NULL after printing the reason to stderr. */
struct listener *listener_create(struct server *server,
				 const struct listen_spec *spec,
				 struct frontend *frontend);
/* "lmtp on 127.0.0.1:2424" with the port actually bound. */
void listener_describe(struct listener *listener, char *out, size_t size);
void listener_destroy(struct listener **listener);

/* Formats an address as "1.2.3.4:port" or "[::1]:port". */
void daemon_format_addr(const struct sockaddr *addr, char *out, size_t size);

#endif
