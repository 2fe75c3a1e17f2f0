/* SPDX-License-Identifier: MIT */
/*
 * daemon-private.h: what the files of src/daemon share.
 *
 *   daemon.c      `commune serve`: options, start-up, signals, the
 *                 graceful stop.
 *   listener.c    one evconnlistener per --listen; the connection
 *                 limits at accept and the refusal of what is over them.
 *   connlimit.c   the counts behind those limits (connlimit.h).
 *   frontends.c   the table of protocol names and, for each, the adapter
 *                 from struct server to that front-end's own API (the
 *                 front-ends never see struct server).
 */
#ifndef DAEMON_PRIVATE_H
#define DAEMON_PRIVATE_H

#include "lib.h"
#include "log.h"

#include <sys/socket.h>
#include <time.h>

struct event;
struct event_base;
struct store;
struct worker_pool;
struct listener;
struct tls_context;
struct connlimit;
struct refusal;

/* Upper bounds of the command line. */
#define DAEMON_LISTENERS_MAX 64
/* Graceful stop: how long in-flight deliveries may take (seconds). */
#define DAEMON_SHUTDOWN_TIMEOUT_DEFAULT_SECS 30

/*
 * Connection limits count per protocol family: imap and imaps are one
 * IMAP server, pop3 and pop3s one POP3 server. The defaults leave room
 * for 10,000 IDLE clients (bench/) and more; the per-address limit does
 * not apply to loopback clients unless --limit-loopback (the local MTA,
 * webmail, proxies and the benchmarks all connect from there).
 */
enum daemon_family {
	DAEMON_FAMILY_LMTP,
	DAEMON_FAMILY_POP3,
	DAEMON_FAMILY_IMAP,
	DAEMON_FAMILY_COUNT
};
#define DAEMON_MAX_CONNECTIONS_DEFAULT 20000
#define DAEMON_MAX_PER_IP_DEFAULT 50
/* Upper bound of both options (0 means no limit). */
#define DAEMON_MAX_CONNECTIONS_MAX 10000000

/*
 * A protocol front-end as the daemon drives it. create() is called once
 * per protocol that has at least one listener, after the store, the pool
 * and the loop exist; accept() gets each accepted socket (the front-end
 * owns fd from then on) with its connlimit entry, which the front-end
 * hands to connlimit_close() exactly once, when the session is gone
 * (see frontends.c); shutdown() starts a graceful stop (finish what
 * is in flight, refuse new work); connection_count() tells when that is
 * done; destroy() frees everything (no job of the front-end may still be
 * pending in the pool). All run on the loop thread.
 */
struct server;
struct connlimit_entry;
struct frontend_ops {
	void *(*create)(struct server *server);
	void (*accept)(void *frontend, int fd, const struct sockaddr *addr,
		       socklen_t addrlen, struct connlimit_entry *entry);
	void (*shutdown)(void *frontend);
	unsigned int (*connection_count)(void *frontend);
	void (*destroy)(void *frontend);
};

struct protocol_def {
	/* The name in --listen NAME=ADDR:PORT. */
	const char *name;
	const struct frontend_ops *ops;
	enum daemon_family family;
	/* TLS from the first byte (imaps, pop3s) */
	bool implicit_tls;
};

/* The known protocols, in the order --protocols prints them. */
extern const struct protocol_def daemon_protocols[];
extern const unsigned int daemon_protocol_count;
const struct protocol_def *daemon_protocol_find(const char *name);
/* "imap", "pop3", "lmtp" */
const char *daemon_family_name(enum daemon_family family);
/* The line (CRLF included) a client over a connection limit gets before
   the connection closes: IMAP "* BYE [UNAVAILABLE]" (RFC 5530), POP3
   "-ERR [SYS/TEMP]" (RFC 3206), LMTP "421 4.7.0" (RFC 5321 §3.8,
   RFC 3463). per_ip: the client's address is over its limit, else the
   server is. */
void daemon_refusal_line(enum daemon_family family, const char *hostname,
			 bool per_ip, char *out, size_t size);

/* A running front-end: one per protocol in use. */
struct frontend {
	const struct protocol_def *proto;
	void *ctx;
	/* the family's limit (server->limits[proto->family]) */
	struct connlimit *limit;
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
	unsigned int login_timeout_secs; /* IMAP before login; 0: default */
	unsigned int shutdown_timeout_secs;
	const char *pidfile;
	char hostname[256];
	/* TLS certificate chain and key (PEM); NULL: the defaults
	   BASE/Settings/server.crt and server.key, used when present. */
	const char *tls_cert;
	const char *tls_key;
	/* Plaintext logins before TLS (USER/PASS, AUTH PLAIN/LOGIN). */
	bool allow_plaintext_auth;
	/* --max-connections, --max-connections-per-ip per family (0: no
	   limit) and --limit-loopback. */
	unsigned int max_connections[DAEMON_FAMILY_COUNT];
	unsigned int max_per_ip[DAEMON_FAMILY_COUNT];
	bool limit_loopback;
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

	/* Connection limits: one per family, all under fd_limit, which
	   keeps the connections of every protocol together within the
	   open-files limit (daemon.c). */
	struct connlimit *fd_limit;
	struct connlimit *limits[DAEMON_FAMILY_COUNT];
	/* refusals still being written (listener.c) */
	struct refusal *refusals;
	unsigned int refusal_count;
	/* refusals are logged at most once a minute */
	time_t refused_logged;
	unsigned int refused_unlogged;

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
/* Frees the refusals still being written (at the very end). */
void listener_refusals_free(struct server *server);

/* Formats an address as "1.2.3.4:port" or "[::1]:port". */
void daemon_format_addr(const struct sockaddr *addr, char *out, size_t size);

#endif
