/* SPDX-License-Identifier: MIT */
/*
 * frontends.c: the table of protocols `commune serve --listen` knows, and
 * for each an adapter from struct server to the front-end's own API. A
 * new protocol adds one adapter and one table row here; front-ends never
 * include daemon headers. Part of src/daemon.
 */
#include "daemon-private.h"
#include "connlimit.h"
#include "imap-server.h"
#include "lmtp-server.h"
#include "pop3-server.h"

#include <stdio.h>
#include <stdlib.h>

#include <strings.h>

/* Every front-end calls this once per accepted socket, when its session
   is gone: the end of the connection for the limits. */
static void
fe_conn_closed(void *token)
{
	struct connlimit_entry *entry = token;

	connlimit_close(&entry);
}

/* ---- LMTP ---- */

static void *
lmtp_fe_create(struct server *server)
{
	struct lmtp_settings set = {
		.hostname = server->set.hostname,
		.max_message_size = server->set.max_message_size,
		.idle_timeout_secs = server->set.idle_timeout_secs,
		.conn_closed = fe_conn_closed,
	};

	return lmtp_server_create(&set, server->store, server->pool,
				  server->base);
}

static void
lmtp_fe_accept(void *ctx, int fd, const struct sockaddr *addr,
	       socklen_t addrlen, struct connlimit_entry *entry)
{
	lmtp_server_accept(ctx, fd, addr, addrlen, entry);
}

static void
lmtp_fe_shutdown(void *ctx)
{
	lmtp_server_shutdown(ctx);
}

static unsigned int
lmtp_fe_count(void *ctx)
{
	return lmtp_server_connection_count(ctx);
}

static void
lmtp_fe_destroy(void *ctx)
{
	struct lmtp_server *server = ctx;

	lmtp_server_destroy(&server);
}

static const struct frontend_ops lmtp_ops = {
	.create = lmtp_fe_create,
	.accept = lmtp_fe_accept,
	.shutdown = lmtp_fe_shutdown,
	.connection_count = lmtp_fe_count,
	.destroy = lmtp_fe_destroy,
};

/* ---- POP3 ---- */

/*
 * pop3 (STLS) and pop3s (implicit TLS) are two rows but one POP3 server,
 * so that one mailbox allows one POP3 session whichever port it came
 * in on. Each row's context says which kind of socket it accepts.
 */
struct pop3_fe {
	bool implicit_tls;
};

static struct pop3_server *pop3_shared;
static unsigned int pop3_shared_refs;

static void *
pop3_fe_create_common(struct server *server, bool implicit_tls)
{
	struct pop3_settings set = {
		.hostname = server->set.hostname,
		.idle_timeout_secs = server->set.idle_timeout_secs,
		.tls = server->tls,
		.allow_plaintext_auth = server->set.allow_plaintext_auth,
		.conn_closed = fe_conn_closed,
	};
	struct pop3_fe *fe;

	if (implicit_tls && server->tls == NULL) {
		fprintf(stderr, "commune serve: pop3s needs a TLS certificate "
			"(--tls-cert/--tls-key, or %s/Settings/server.crt "
			"and server.key)\n", server->set.base_dir);
		return NULL;
	}
	if (pop3_shared == NULL)
		pop3_shared = pop3_server_create(&set, server->store,
						 server->pool, server->base);
	pop3_shared_refs++;
	fe = i_malloc(sizeof(*fe));
	fe->implicit_tls = implicit_tls;
	return fe;
}

static void *
pop3_fe_create(struct server *server)
{
	return pop3_fe_create_common(server, false);
}

static void *
pop3s_fe_create(struct server *server)
{
	return pop3_fe_create_common(server, true);
}

static void
pop3_fe_accept(void *ctx, int fd, const struct sockaddr *addr,
	       socklen_t addrlen, struct connlimit_entry *entry)
{
	struct pop3_fe *fe = ctx;

	pop3_server_accept(pop3_shared, fd, addr, addrlen, fe->implicit_tls,
			  entry);
}

static void
pop3_fe_shutdown(void *ctx)
{
	pop3_server_shutdown(pop3_shared);
}

static unsigned int
pop3_fe_count(void *ctx)
{
	return pop3_server_connection_count(pop3_shared);
}

static void
pop3_fe_destroy(void *ctx)
{
	free(ctx);
	if (--pop3_shared_refs == 0)
		pop3_server_destroy(&pop3_shared);
}

static const struct frontend_ops pop3_ops = {
	.create = pop3_fe_create,
	.accept = pop3_fe_accept,
	.shutdown = pop3_fe_shutdown,
	.connection_count = pop3_fe_count,
	.destroy = pop3_fe_destroy,
};

static const struct frontend_ops pop3s_ops = {
	.create = pop3s_fe_create,
	.accept = pop3_fe_accept,
	.shutdown = pop3_fe_shutdown,
	.connection_count = pop3_fe_count,
	.destroy = pop3_fe_destroy,
};

/* ---- IMAP ---- */

/* imap (STARTTLS) and imaps (implicit TLS): one IMAP server, as for
   POP3. */
struct imap_fe {
	bool implicit_tls;
};

static struct imap_server *imap_shared;
static unsigned int imap_shared_refs;

static void *
imap_fe_create_common(struct server *server, bool implicit_tls)
{
	struct imap_settings set = {
		.hostname = server->set.hostname,
		.idle_timeout_secs = server->set.idle_timeout_secs,
		.login_timeout_secs = server->set.login_timeout_secs,
		.tls = server->tls,
		.allow_plaintext_auth = server->set.allow_plaintext_auth,
		.conn_closed = fe_conn_closed,
	};
	struct imap_fe *fe;

	if (implicit_tls && server->tls == NULL) {
		fprintf(stderr, "commune serve: imaps needs a TLS certificate "
			"(--tls-cert/--tls-key, or %s/Settings/server.crt "
			"and server.key)\n", server->set.base_dir);
		return NULL;
	}
	if (imap_shared == NULL)
		imap_shared = imap_server_create(&set, server->store,
						 server->pool, server->base);
	imap_shared_refs++;
	fe = i_malloc(sizeof(*fe));
	fe->implicit_tls = implicit_tls;
	return fe;
}

static void *
imap_fe_create(struct server *server)
{
	return imap_fe_create_common(server, false);
}

static void *
imaps_fe_create(struct server *server)
{
	return imap_fe_create_common(server, true);
}

static void
imap_fe_accept(void *ctx, int fd, const struct sockaddr *addr,
	       socklen_t addrlen, struct connlimit_entry *entry)
{
	struct imap_fe *fe = ctx;

	imap_server_accept(imap_shared, fd, addr, addrlen, fe->implicit_tls,
			  entry);
}

static void
imap_fe_shutdown(void *ctx)
{
	imap_server_shutdown(imap_shared);
}

static unsigned int
imap_fe_count(void *ctx)
{
	return imap_server_connection_count(imap_shared);
}

static void
imap_fe_destroy(void *ctx)
{
	free(ctx);
	if (--imap_shared_refs == 0)
		imap_server_destroy(&imap_shared);
}

static const struct frontend_ops imap_ops = {
	.create = imap_fe_create,
	.accept = imap_fe_accept,
	.shutdown = imap_fe_shutdown,
	.connection_count = imap_fe_count,
	.destroy = imap_fe_destroy,
};

static const struct frontend_ops imaps_ops = {
	.create = imaps_fe_create,
	.accept = imap_fe_accept,
	.shutdown = imap_fe_shutdown,
	.connection_count = imap_fe_count,
	.destroy = imap_fe_destroy,
};

/* ---- the table ---- */

const struct protocol_def daemon_protocols[] = {
	{ "lmtp", &lmtp_ops, DAEMON_FAMILY_LMTP, false },
	{ "pop3", &pop3_ops, DAEMON_FAMILY_POP3, false },
	{ "pop3s", &pop3s_ops, DAEMON_FAMILY_POP3, true },
	{ "imap", &imap_ops, DAEMON_FAMILY_IMAP, false },
	{ "imaps", &imaps_ops, DAEMON_FAMILY_IMAP, true },
};
const unsigned int daemon_protocol_count = N_ELEMENTS(daemon_protocols);

const struct protocol_def *
daemon_protocol_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < daemon_protocol_count; i++) {
		if (strcasecmp(daemon_protocols[i].name, name) == 0)
			return &daemon_protocols[i];
	}
	return NULL;
}

const char *
daemon_family_name(enum daemon_family family)
{
	static const char *const names[DAEMON_FAMILY_COUNT] = {
		[DAEMON_FAMILY_LMTP] = "lmtp",
		[DAEMON_FAMILY_POP3] = "pop3",
		[DAEMON_FAMILY_IMAP] = "imap",
	};

	i_assert(family < DAEMON_FAMILY_COUNT);
	return names[family];
}

void
daemon_refusal_line(enum daemon_family family, const char *hostname,
		    bool per_ip, char *out, size_t size)
{
	const char *why = per_ip ? "Too many connections from your address" :
		"Too many connections to this server";

	switch (family) {
	case DAEMON_FAMILY_IMAP:
		/* RFC 3501 §7.1.5 BYE as the greeting; RFC 5530 §3 */
		snprintf(out, size, "* BYE [UNAVAILABLE] %s, try again "
			 "later\r\n", why);
		break;
	case DAEMON_FAMILY_POP3:
		/* RFC 3206 §4: the failure is temporary */
		snprintf(out, size, "-ERR [SYS/TEMP] %s, try again later\r\n",
			 why);
		break;
	case DAEMON_FAMILY_LMTP:
	default:
		/* RFC 5321 §3.8: 421 instead of the greeting, then close;
		   4.7.0 as Postfix answers for its per-client limit */
		snprintf(out, size, "421 4.7.0 %s %s, try again later\r\n",
			 hostname, why);
		break;
	}
}
