/* SPDX-License-Identifier: MIT */
/*
 * lmtp-conn.c: one LMTP session (RFC 2033) on a libevent bufferevent:
 * greeting, LHLO, the MAIL/RCPT/DATA|BDAT transaction, and one reply per
 * recipient after the message is durable. Part of src/lmtp; store work
 * goes through lmtp-deliver.c to the worker pool.
 *
 * Order of replies: the session parses one command at a time. A command
 * that needs the store (RCPT, the end of DATA or BDAT LAST) sets
 * `waiting`; nothing more is parsed until its job completes, so replies
 * to pipelined commands (RFC 2920) go out in command order. Meanwhile the
 * socket keeps filling the input buffer up to a high watermark, and
 * libevent stops reading beyond that.
 *
 * Lifetime: a session whose client disconnects while jobs run is marked
 * `disconnected` and freed by the last job's completion.
 */
#include "lmtp-private.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static void conn_run(struct lmtp_conn *conn);

/* ---- output and closing ---- */

void
lmtp_conn_reply(struct lmtp_conn *conn, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list args;

	if (conn->bev == NULL)
		return;
	out = bufferevent_get_output(conn->bev);
	va_start(args, fmt);
	evbuffer_add_vprintf(out, fmt, args);
	va_end(args);
	evbuffer_add(out, "\r\n", 2);
}

static size_t
conn_output_len(struct lmtp_conn *conn)
{
	return evbuffer_get_length(bufferevent_get_output(conn->bev));
}

/* Called when the output has drained below LMTP_OUTPUT_LOW_WATERMARK. */
static void
conn_write_cb(struct bufferevent *bev, void *context)
{
	struct lmtp_conn *conn = context;

	if (conn->closing) {
		if (conn->jobs == 0 && conn_output_len(conn) == 0)
			lmtp_conn_destroy(&conn);
	} else if (conn->output_full) {
		/* The client reads again: go on with its commands. */
		conn->output_full = false;
		conn_run(conn);
	}
}

/* Stops reading; frees the session once the output is flushed and no
   job is left. Frees it at once when both are already true, so callers
   in conn_run() write a reply first or return right after. */
static void
conn_close(struct lmtp_conn *conn)
{
	conn->closing = true;
	if (conn->bev == NULL)
		return;
	bufferevent_disable(conn->bev, EV_READ);
	if (conn->jobs == 0 && conn_output_len(conn) == 0)
		lmtp_conn_destroy(&conn);
}

/* The socket is gone: drop it now; free the session when jobs are done. */
static void
conn_disconnect(struct lmtp_conn *conn)
{
	if (conn->bev != NULL) {
		bufferevent_free(conn->bev);
		conn->bev = NULL;
	}
	conn->disconnected = true;
	if (conn->jobs == 0)
		lmtp_conn_destroy(&conn);
}

static void
conn_error(struct lmtp_conn *conn)
{
	if (++conn->errors >= LMTP_ERRORS_MAX) {
		lmtp_conn_reply(conn, "421 4.7.0 %s Too many errors, closing "
				"connection", conn->server->set.hostname);
		conn_close(conn);
	}
}

/* ---- the transaction ---- */

static void
transaction_reset(struct lmtp_conn *conn)
{
	unsigned int i;

	i_assert(conn->jobs == 0);
	for (i = 0; i < conn->rcpt_count; i++)
		lmtp_rcpt_clear(&conn->rcpts[i]);
	i_free(conn->rcpts);
	conn->rcpt_count = 0;
	i_free(conn->return_path);
	conn->mail_given = false;
	buf_deinit(&conn->msg);
	conn->bdat_started = false;
	conn->bdat_refused = false;
	conn->bdat_last = false;
	conn->too_large = false;
}

/* A session that is to stop closes between transactions. */
static bool
conn_stop_if_shutting_down(struct lmtp_conn *conn)
{
	if (!conn->server->shutting_down || conn->mail_given ||
	    conn->waiting || conn->input != LMTP_INPUT_COMMAND)
		return false;
	lmtp_conn_reply(conn, "421 4.3.2 %s Service shutting down",
			conn->server->set.hostname);
	conn_close(conn);
	return true;
}

void
lmtp_conn_shutdown(struct lmtp_conn *conn)
{
	if (!conn->closing && !conn->disconnected)
		conn_stop_if_shutting_down(conn);
}

void
lmtp_conn_job_finished(struct lmtp_conn *conn)
{
	if (conn->jobs > 0)
		return;
	if (conn->disconnected) {
		lmtp_conn_destroy(&conn);
		return;
	}
	if (conn->closing) {
		conn_close(conn);
		return;
	}
	if (!conn->waiting)
		conn_run(conn);
}

void
lmtp_conn_rcpt_finished(struct lmtp_conn *conn, bool ok, const char *reply)
{
	struct lmtp_rcpt *rcpt = &conn->pending_rcpt;

	conn->waiting = false;
	if (!ok) {
		lmtp_conn_reply(conn, "%s", reply);
		log_debug("lmtp(%u): RCPT <%s>: %s", conn->id, rcpt->address,
			  reply);
		lmtp_rcpt_clear(rcpt);
		return;
	}
	conn->rcpts = i_realloc(conn->rcpts,
				sizeof(*conn->rcpts) * (conn->rcpt_count + 1));
	conn->rcpts[conn->rcpt_count++] = *rcpt;
	memset(rcpt, 0, sizeof(*rcpt));
	lmtp_conn_reply(conn, "250 2.1.5 OK");
}

void
lmtp_conn_delivery_finished(struct lmtp_conn *conn)
{
	unsigned int i;

	for (i = 0; i < conn->rcpt_count; i++)
		lmtp_conn_reply(conn, "%s", conn->rcpts[i].reply);
	conn->waiting = false;
	transaction_reset(conn);
}

/* The message is complete: deliver it, or refuse it as too large. */
static void
message_finished(struct lmtp_conn *conn)
{
	unsigned int i;

	conn->input = LMTP_INPUT_COMMAND;
	if (conn->too_large) {
		/* RFC 2033 §4.2: still one reply per recipient. */
		for (i = 0; i < conn->rcpt_count; i++) {
			lmtp_conn_reply(conn, "552 5.3.4 <%s> Message too big",
					conn->rcpts[i].address);
		}
		transaction_reset(conn);
		return;
	}
	conn->waiting = true;
	lmtp_deliver_start(conn);
}

/* ---- commands ---- */

static void
cmd_lhlo(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	const struct lmtp_settings *set = &conn->server->set;

	transaction_reset(conn);
	conn->lhlo_done = true;
	lmtp_conn_reply(conn, "250-%s", set->hostname);
	lmtp_conn_reply(conn, "250-PIPELINING");
	lmtp_conn_reply(conn, "250-ENHANCEDSTATUSCODES");
	lmtp_conn_reply(conn, "250-8BITMIME");
	lmtp_conn_reply(conn, "250-CHUNKING");
	lmtp_conn_reply(conn, "250 SIZE %llu",
			(unsigned long long)set->max_message_size);
}

/* MAIL parameters: SIZE (RFC 1870) and BODY (RFC 6152). Returns NULL or
   the error reply. */
static const char *
check_mail_params(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->param_count; i++) {
		const char *p = cmd->params[i];
		char *end;
		unsigned long long size;

		if (strncasecmp(p, "SIZE=", 5) == 0) {
			errno = 0;
			size = strtoull(p + 5, &end, 10);
			if (*end != '\0' || p[5] < '0' || p[5] > '9' ||
			    errno != 0)
				return "501 5.5.4 Invalid SIZE parameter";
			if (size > conn->server->set.max_message_size)
				return "552 5.3.4 Message too big";
		} else if (strcasecmp(p, "BODY=7BIT") != 0 &&
			   strcasecmp(p, "BODY=8BITMIME") != 0) {
			return "555 5.5.4 Unsupported parameter";
		}
	}
	return NULL;
}

static void
cmd_mail(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	const char *error;

	if (!conn->lhlo_done) {
		lmtp_conn_reply(conn, "503 5.5.1 Send LHLO first");
		conn_error(conn);
		return;
	}
	if (conn->mail_given) {
		lmtp_conn_reply(conn, "503 5.5.1 Nested MAIL command");
		conn_error(conn);
		return;
	}
	error = check_mail_params(conn, cmd);
	if (error != NULL) {
		lmtp_conn_reply(conn, "%s", error);
		return;
	}
	conn->mail_given = true;
	conn->return_path = cmd->address[0] == '\0' ? NULL :
		i_strdup(cmd->address);
	lmtp_conn_reply(conn, "250 2.1.0 OK");
}

static void
cmd_rcpt(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	if (!conn->mail_given) {
		lmtp_conn_reply(conn, "503 5.5.1 Need MAIL command first");
		conn_error(conn);
		return;
	}
	if (conn->bdat_started) {
		lmtp_conn_reply(conn, "503 5.5.1 RCPT after BDAT");
		conn_error(conn);
		return;
	}
	if (cmd->param_count > 0) {
		lmtp_conn_reply(conn, "555 5.5.4 Unsupported parameter");
		return;
	}
	if (conn->rcpt_count >= LMTP_RECIPIENTS_MAX) {
		lmtp_conn_reply(conn, "452 4.5.3 Too many recipients");
		return;
	}
	conn->pending_rcpt.address = i_strdup(cmd->address);
	conn->waiting = true;
	lmtp_deliver_lookup(conn);
}

/* Returns true when a message may start (DATA or a first BDAT). */
static bool
check_message_start(struct lmtp_conn *conn)
{
	if (!conn->mail_given) {
		lmtp_conn_reply(conn, "503 5.5.1 Need MAIL command first");
	} else if (conn->rcpt_count == 0) {
		/* RFC 2033 §4.2 */
		lmtp_conn_reply(conn, "503 5.5.1 No valid recipients");
	} else {
		return true;
	}
	conn_error(conn);
	return false;
}

static void
cmd_data(struct lmtp_conn *conn)
{
	if (conn->bdat_started) {
		lmtp_conn_reply(conn, "503 5.5.1 DATA after BDAT");
		conn_error(conn);
		return;
	}
	if (!check_message_start(conn))
		return;
	lmtp_conn_reply(conn, "354 Start mail input; end with <CRLF>.<CRLF>");
	conn->input = LMTP_INPUT_DATA;
	lmtp_parser_data_begin(conn->parser, &conn->msg,
			       conn->server->set.max_message_size);
}

/* BDAT (RFC 3030): the chunk is always read, even when refused, because
   the client sends it without waiting for a reply. */
static void
cmd_bdat(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	uint64_t max = conn->server->set.max_message_size;
	buf_t *out = &conn->msg;

	conn->bdat_refused = !conn->bdat_started && !check_message_start(conn);
	conn->bdat_last = cmd->chunk_last;
	if (conn->bdat_refused) {
		out = NULL;
	} else {
		conn->bdat_started = true;
		if (conn->too_large || cmd->chunk_size > max ||
		    conn->msg.len + cmd->chunk_size > max) {
			conn->too_large = true;
			buf_deinit(&conn->msg);
			out = NULL;
		}
	}
	conn->input = LMTP_INPUT_CHUNK;
	lmtp_parser_chunk_begin(conn->parser, out, cmd->chunk_size);
}

static void
chunk_finished(struct lmtp_conn *conn)
{
	conn->input = LMTP_INPUT_COMMAND;
	if (conn->bdat_refused) {
		/* check_message_start() has replied already. */
		return;
	}
	if (conn->bdat_last) {
		message_finished(conn);
	} else if (conn->too_large) {
		lmtp_conn_reply(conn, "552 5.3.4 Message too big");
	} else {
		lmtp_conn_reply(conn, "250 2.0.0 %zu octets received",
				conn->msg.len);
	}
}

/* Runs one parsed command. */
static void
conn_command(struct lmtp_conn *conn, const struct lmtp_command *cmd)
{
	switch (cmd->verb) {
	case LMTP_VERB_INVALID:
		lmtp_conn_reply(conn, "%s", cmd->error);
		conn_error(conn);
		break;
	case LMTP_VERB_LHLO:
		cmd_lhlo(conn, cmd);
		break;
	case LMTP_VERB_MAIL:
		cmd_mail(conn, cmd);
		break;
	case LMTP_VERB_RCPT:
		cmd_rcpt(conn, cmd);
		break;
	case LMTP_VERB_DATA:
		cmd_data(conn);
		break;
	case LMTP_VERB_BDAT:
		cmd_bdat(conn, cmd);
		break;
	case LMTP_VERB_RSET:
		transaction_reset(conn);
		lmtp_conn_reply(conn, "250 2.0.0 OK");
		break;
	case LMTP_VERB_NOOP:
		lmtp_conn_reply(conn, "250 2.0.0 OK");
		break;
	case LMTP_VERB_QUIT:
		lmtp_conn_reply(conn, "221 2.0.0 %s Bye",
				conn->server->set.hostname);
		conn_close(conn);
		break;
	case LMTP_VERB_VRFY:
		lmtp_conn_reply(conn, "252 2.5.0 Cannot VRFY user, but will "
				"accept message and attempt delivery");
		break;
	case LMTP_VERB_HELP:
		lmtp_conn_reply(conn, "214 2.0.0 Commands: LHLO MAIL RCPT DATA "
				"BDAT RSET NOOP QUIT VRFY HELP");
		break;
	}
}

/* ---- input ---- */

/* Moves up to LMTP_READ_CHUNK bytes from the socket buffer into the
   parser. Returns the number of bytes moved. */
static size_t
conn_pull_input(struct lmtp_conn *conn)
{
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	size_t len = evbuffer_get_length(in);
	struct evbuffer_iovec vec;

	if (len == 0)
		return 0;
	/* The first contiguous piece: no copy inside the evbuffer. */
	if (evbuffer_peek(in, LMTP_READ_CHUNK, NULL, &vec, 1) < 1)
		return 0;
	len = vec.iov_len < LMTP_READ_CHUNK ? vec.iov_len : LMTP_READ_CHUNK;
	lmtp_parser_feed(conn->parser, vec.iov_base, len);
	evbuffer_drain(in, len);
	return len;
}

/* One step of the parser in the current input mode: 1 when something
   completed (and was handled), 0 when it needs more input. */
static int
conn_step(struct lmtp_conn *conn)
{
	struct lmtp_command cmd;
	bool too_large;

	switch (conn->input) {
	case LMTP_INPUT_COMMAND:
		if (lmtp_parser_next_command(conn->parser, &cmd) == 0)
			return 0;
		conn_command(conn, &cmd);
		return 1;
	case LMTP_INPUT_DATA:
		if (lmtp_parser_next_data(conn->parser, &too_large) == 0)
			return 0;
		conn->too_large = too_large;
		message_finished(conn);
		return 1;
	case LMTP_INPUT_CHUNK:
		if (lmtp_parser_next_chunk(conn->parser) == 0)
			return 0;
		chunk_finished(conn);
		return 1;
	}
	i_panic("lmtp: bad input mode %d", (int)conn->input);
}

/* Parses and runs input until more is needed, a job must finish first,
   or the session closes. Never blocks. */
static void
conn_run(struct lmtp_conn *conn)
{
	while (!conn->waiting && !conn->closing && conn->bev != NULL) {
		if (conn_stop_if_shutting_down(conn))
			return;
		if (conn_output_len(conn) > LMTP_OUTPUT_MAX) {
			/* A client that pipelines without reading its
			   replies waits until it does (conn_write_cb). */
			conn->output_full = true;
			return;
		}
		if (conn_step(conn) == 0 && conn_pull_input(conn) == 0) {
			/* After the client's EOF: every reply is out. */
			if (conn->eof)
				conn_close(conn);
			return;
		}
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *context)
{
	conn_run(context);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *context)
{
	struct lmtp_conn *conn = context;

	if ((what & BEV_EVENT_TIMEOUT) != 0 && !conn->closing &&
	    (what & BEV_EVENT_READING) != 0) {
		if (conn->waiting) {
			/* The store is slow, not the client. */
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_debug("lmtp(%u): idle timeout", conn->id);
		lmtp_conn_reply(conn, "421 4.4.2 %s Idle timeout, closing "
				"connection", conn->server->set.hostname);
		conn_close(conn);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == BEV_EVENT_EOF &&
	    !conn->closing) {
		/* The client may have only shut down its sending side: run
		   what it sent, reply, then close. */
		conn->eof = true;
		bufferevent_disable(bev, EV_READ);
		conn_run(conn);
		return;
	}
	if ((what & BEV_EVENT_ERROR) != 0)
		log_debug("lmtp(%u): connection error: %s", conn->id,
			  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	/* An error, or a write timeout: the client is gone. */
	conn_disconnect(conn);
}

/* ---- create / destroy ---- */

static char *
peer_name(const struct sockaddr *addr, socklen_t addrlen)
{
	char host[64] = "?";
	unsigned int port = 0;

	if (addr->sa_family == AF_INET &&
	    addrlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)addr;

		evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (addr->sa_family == AF_INET6 &&
		   addrlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;

		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host,
				 sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	return i_strdup_printf("%s:%u", host, port);
}

struct lmtp_conn *
lmtp_conn_create(struct lmtp_server *server, int fd,
		 const struct sockaddr *addr, socklen_t addrlen)
{
	struct lmtp_conn *conn;
	struct timeval idle = { server->set.idle_timeout_secs, 0 };

	evutil_make_socket_nonblocking(fd);
	conn = i_malloc(sizeof(*conn));
	conn->server = server;
	conn->id = ++server->next_id;
	conn->peer = peer_name(addr, addrlen);
	conn->parser = lmtp_parser_create();
	buf_init(&conn->msg);
	conn->bev = bufferevent_socket_new(server->base, fd,
					   BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		log_warnx("lmtp: cannot create a bufferevent for %s",
			  conn->peer);
		evutil_closesocket(fd);
		lmtp_parser_destroy(&conn->parser);
		free(conn->peer);
		free(conn);
		return NULL;
	}
	bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb,
			  conn_event_cb, conn);
	bufferevent_setwatermark(conn->bev, EV_READ, 0,
				 LMTP_INPUT_HIGH_WATERMARK);
	bufferevent_setwatermark(conn->bev, EV_WRITE,
				 LMTP_OUTPUT_LOW_WATERMARK, 0);
	bufferevent_set_timeouts(conn->bev, &idle, &idle);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	log_debug("lmtp(%u): connection from %s", conn->id, conn->peer);
	lmtp_conn_reply(conn, "220 %s Commune LMTP ready",
			server->set.hostname);
	return conn;
}

void
lmtp_conn_destroy(struct lmtp_conn **_conn)
{
	struct lmtp_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	i_assert(conn->jobs == 0);
	log_debug("lmtp(%u): connection closed", conn->id);
	lmtp_server_conn_unlink(conn->server, conn);
	if (conn->bev != NULL)
		bufferevent_free(conn->bev);
	transaction_reset(conn);
	lmtp_rcpt_clear(&conn->pending_rcpt);
	lmtp_parser_destroy(&conn->parser);
	free(conn->peer);
	free(conn);
}
