/* SPDX-License-Identifier: MIT */
/*
 * frontends.c: the table of protocols `commune serve --listen` knows, and
 * for each an adapter from struct server to the front-end's own API. A
 * new protocol adds one adapter and one table row here; front-ends never
 * include daemon headers. Part of src/daemon.
 */
#include "daemon-private.h"
#include "lmtp-server.h"

#include <strings.h>

/* ---- LMTP ---- */

static void *
lmtp_fe_create(struct server *server)
{
	struct lmtp_settings set = {
		.hostname = server->set.hostname,
		.max_message_size = server->set.max_message_size,
		.idle_timeout_secs = server->set.idle_timeout_secs,
	};

	return lmtp_server_create(&set, server->store, server->pool,
				  server->base);
}

static void
lmtp_fe_accept(void *ctx, int fd, const struct sockaddr *addr,
	       socklen_t addrlen)
{
	lmtp_server_accept(ctx, fd, addr, addrlen);
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

/* ---- the table ---- */

const struct protocol_def daemon_protocols[] = {
	{ "lmtp", &lmtp_ops },
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
