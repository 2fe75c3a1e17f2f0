/* SPDX-License-Identifier: MIT */
/*
 * pop3-conn.c: one POP3 session on a libevent bufferevent (plain, TLS
 * from the start, or switched to TLS by STLS): reading and parsing
 * input, writing replies in command order, timers, and the session's
 * end. Part of src/pop3; the commands are in pop3-commands.c, the store
 * work in pop3-mail.c.
 *
 * Order of replies: one command at a time. A command that needs the
 * store (PASS, AUTH steps, the login's INBOX snapshot, RETR/TOP, QUIT)
 * or the failed-login delay sets `waiting`; nothing more is parsed until
 * it completes, so replies to pipelined commands (RFC 2449 §6.6) go out
 * in order while other sessions run. Meanwhile the socket's input buffer
 * fills up to a high watermark, and libevent stops reading beyond that.
 *
 * The end: a session whose account is open always runs the finalize job
 * (\Seen for what it retrieved, close the mailbox and the account)
 * before it is freed, whether it ended with QUIT, an error, a timeout
 * or a dropped connection; only then is its mailbox free for the next
 * POP3 session. A dropped connection never expunges anything.
 */
#include "pop3-private.h"
#include "auth.h"
#include "log.h"
#include "net.h"
#include "store.h"
#include "tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static void conn_run(struct pop3_conn *conn);
static void conn_try_free(struct pop3_conn *conn);
static void conn_setup_bev(struct pop3_conn *conn);
static void conn_switch_to_tls(struct pop3_conn *conn);

/* ---- output ---- */

void
pop3_conn_reply(struct pop3_conn *conn, const char *fmt, ...)
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

void
pop3_conn_write(struct pop3_conn *conn, const void *data, size_t len)
{
	if (conn->bev != NULL)
		evbuffer_add(bufferevent_get_output(conn->bev), data, len);
}

size_t
pop3_conn_output_len(struct pop3_conn *conn)
{
	if (conn->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(conn->bev));
}

bool
pop3_conn_plaintext_ok(struct pop3_conn *conn)
{
	return conn->tls || conn->server->set.allow_plaintext_auth;
}

/* Called when the output has drained to POP3_OUTPUT_LOW_WATERMARK. */
static void
conn_write_cb(struct bufferevent *bev, void *context)
{
	struct pop3_conn *conn = context;

	if (conn->closing) {
		conn_try_free(conn);
	} else if (conn->starttls_pending) {
		if (pop3_conn_output_len(conn) == 0)
			conn_switch_to_tls(conn);
	} else if (conn->send_wait_output) {
		/* The client took the last chunk: read the next one. */
		conn->send_wait_output = false;
		pop3_mail_send_chunk(conn);
	} else if (conn->output_full) {
		conn->output_full = false;
		conn_run(conn);
	}
}

/* ---- closing ---- */

/*
 * Frees the session once nothing holds it: no job running, the account
 * closed by the finalize job, the output flushed (or the socket gone).
 * Called only at the end of a libevent callback (the free event, the
 * write callback, a job's completion): conn may be gone afterwards.
 */
static void
conn_try_free(struct pop3_conn *conn)
{
	if (conn->jobs > 0)
		return;
	if (conn->account != NULL && !conn->finalized) {
		if (!conn->finalizing) {
			conn->finalizing = true;
			pop3_mail_finalize(conn);
		}
		return;
	}
	if (conn->bev != NULL && pop3_conn_output_len(conn) > 0 &&
	    !(conn->eof && tls_bufferevent_is_tls(conn->bev)))
		return;
	/* After a TLS peer's EOF libevent's OpenSSL bufferevent writes no
	   more: what is queued would hold the session until the idle
	   timeout (imap-conn.c does the same). */
	pop3_conn_destroy(&conn);
}

static void
free_event_cb(evutil_socket_t fd, short what, void *context)
{
	conn_try_free(context);
}

/* Closing never frees the session under its caller (which may be deep
   inside conn_run()): the free event does it from the loop. */
void
pop3_conn_close(struct pop3_conn *conn)
{
	conn->closing = true;
	if (conn->bev != NULL)
		bufferevent_disable(conn->bev, EV_READ);
	event_active(conn->free_event, 0, 0);
}

/* The socket is gone: drop it now; free the session when jobs are done. */
static void
conn_disconnect(struct pop3_conn *conn)
{
	if (conn->bev != NULL) {
		bufferevent_free(conn->bev);
		conn->bev = NULL;
	}
	conn->disconnected = true;
	conn->closing = true;
	conn->send_wait_output = false;
	event_active(conn->free_event, 0, 0);
}

void
pop3_conn_error(struct pop3_conn *conn)
{
	if (++conn->errors >= POP3_ERRORS_MAX) {
		pop3_conn_reply(conn, "-ERR Too many bad commands, closing "
				"connection.");
		pop3_conn_close(conn);
	}
}

/* A session that is to stop closes between commands. */
static bool
conn_stop_if_shutting_down(struct pop3_conn *conn)
{
	if (!conn->server->shutting_down || conn->waiting || conn->sending ||
	    conn->listing.active)
		return false;
	pop3_conn_reply(conn, "-ERR [SYS/TEMP] Server shutting down.");
	pop3_conn_close(conn);
	return true;
}

void
pop3_conn_shutdown(struct pop3_conn *conn)
{
	if (!conn->closing && !conn->disconnected)
		conn_stop_if_shutting_down(conn);
}

void
pop3_conn_job_finished(struct pop3_conn *conn)
{
	if (conn->jobs > 0)
		return;
	if (conn->closing) {
		conn_try_free(conn);
		return;
	}
	if (!conn->waiting)
		conn_run(conn);
}

/* ---- the failed-login delay ---- */

static void
delay_cb(evutil_socket_t fd, short what, void *context)
{
	struct pop3_conn *conn = context;
	char *reply = conn->delayed_reply;

	conn->delayed_reply = NULL;
	conn->waiting = false;
	pop3_conn_reply(conn, "%s", reply);
	free(reply);
	if (conn->auth_failures >= POP3_AUTH_FAILURES_MAX) {
		log_info("pop3(%u): %s: too many failed logins", conn->id,
			 conn->peer);
		pop3_conn_close(conn);
		return;
	}
	conn_run(conn);
}

void
pop3_conn_login_failed(struct pop3_conn *conn, const char *reply)
{
	struct timeval delay = {
		AUTH_FAILURE_DELAY_MSECS / 1000,
		(AUTH_FAILURE_DELAY_MSECS % 1000) * 1000,
	};

	conn->auth_failures++;
	if (conn->delay == NULL)
		conn->delay = evtimer_new(conn->server->base, delay_cb, conn);
	free(conn->delayed_reply);
	conn->delayed_reply = i_strdup(reply);
	conn->waiting = true;
	evtimer_add(conn->delay, &delay);
}

/* ---- STLS ---- */

void
pop3_conn_starttls(struct pop3_conn *conn)
{
	/* RFC 2595 §3: what the client pipelined after STLS is dropped,
	   both here and in the socket buffer (tls.c). Reading stops, so
	   the client's handshake waits in the kernel until the "+OK" is
	   out and the socket has moved to TLS (conn_write_cb). */
	pop3_parser_discard(conn->parser);
	bufferevent_disable(conn->bev, EV_READ);
	conn->starttls_pending = true;
	conn->waiting = true;
}

static void
conn_switch_to_tls(struct pop3_conn *conn)
{
	conn->starttls_pending = false;
	conn->bev = tls_bufferevent_starttls(conn->server->set.tls, conn->bev);
	if (conn->bev == NULL) {
		conn_disconnect(conn);
		return;
	}
	conn->tls = true;
	conn->waiting = false;
	conn_setup_bev(conn);
	log_debug("pop3(%u): STLS", conn->id);
}

/* ---- input ---- */

/* Moves up to POP3_READ_CHUNK bytes from the socket buffer into the
   parser. Returns the number of bytes moved. */
static size_t
conn_pull_input(struct pop3_conn *conn)
{
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	struct evbuffer_iovec vec;
	size_t len;

	if (evbuffer_get_length(in) == 0)
		return 0;
	/* The first contiguous piece: no copy inside the evbuffer. */
	if (evbuffer_peek(in, POP3_READ_CHUNK, NULL, &vec, 1) < 1)
		return 0;
	len = vec.iov_len < POP3_READ_CHUNK ? vec.iov_len : POP3_READ_CHUNK;
	pop3_parser_feed(conn->parser, vec.iov_base, len);
	evbuffer_drain(in, len);
	return len;
}

/* One parser step: 1 when something was handled, 0 when it needs more
   input. */
static int
conn_step(struct pop3_conn *conn)
{
	struct pop3_command cmd;
	const char *line;
	size_t len;

	if (conn->input == POP3_INPUT_SASL) {
		if (pop3_parser_next_response(conn->parser, &line, &len) == 0)
			return 0;
		pop3_command_sasl_response(conn, line, len);
		return 1;
	}
	if (pop3_parser_next_command(conn->parser, &cmd) == 0)
		return 0;
	pop3_command_run(conn, &cmd);
	return 1;
}

/* Parses and runs input until more is needed, a job must finish first,
   or the session closes. Never blocks. */
static void
conn_run(struct pop3_conn *conn)
{
	while (!conn->waiting && !conn->closing && conn->bev != NULL) {
		if (conn_stop_if_shutting_down(conn))
			return;
		if (pop3_conn_output_len(conn) > POP3_OUTPUT_MAX) {
			/* A client that pipelines without reading its
			   replies waits until it does (conn_write_cb). */
			conn->output_full = true;
			return;
		}
		if (conn->listing.active) {
			conn->listing.active =
				pop3_command_listing_continue(conn);
			continue;
		}
		if (conn_step(conn) == 0 && conn_pull_input(conn) == 0) {
			/* After the client's EOF: every reply is out. */
			if (conn->eof)
				pop3_conn_close(conn);
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
conn_log_error(struct pop3_conn *conn, short what)
{
	char tls_error[256];

	if (!log_debug_enabled())
		return;
	tls_bufferevent_error(conn->bev, tls_error, sizeof(tls_error));
	log_debug("pop3(%u): connection %s: %s%s%s", conn->id,
		  (what & BEV_EVENT_TIMEOUT) != 0 ? "timeout" : "error",
		  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
		  tls_error[0] != '\0' ? "; TLS: " : "", tls_error);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *context)
{
	struct pop3_conn *conn = context;

	if ((what & BEV_EVENT_CONNECTED) != 0)
		return;
	if ((what & BEV_EVENT_TIMEOUT) != 0 && !conn->closing &&
	    (what & BEV_EVENT_READING) != 0) {
		if (conn->waiting) {
			/* The store or a long RETR is slow, not the
			   client. */
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_debug("pop3(%u): idle timeout", conn->id);
		pop3_conn_reply(conn, "-ERR Disconnected for inactivity.");
		pop3_conn_close(conn);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == BEV_EVENT_EOF &&
	    !conn->closing) {
		/* The client may have shut down only its sending side: run
		   what it sent, reply, then close. */
		conn->eof = true;
		bufferevent_disable(bev, EV_READ);
		conn_run(conn);
		return;
	}
	if ((what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0)
		conn_log_error(conn, what);
	/* An error, a write timeout, or EOF while closing: gone. */
	conn_disconnect(conn);
}

/* ---- create / destroy ---- */

/* Callbacks, watermarks and timeouts of conn->bev (again after STLS). */
static void
conn_setup_bev(struct pop3_conn *conn)
{
	struct timeval idle = { conn->server->set.idle_timeout_secs, 0 };

	bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb,
			  conn_event_cb, conn);
	bufferevent_setwatermark(conn->bev, EV_READ, 0,
				 POP3_INPUT_HIGH_WATERMARK);
	bufferevent_setwatermark(conn->bev, EV_WRITE,
				 POP3_OUTPUT_LOW_WATERMARK, 0);
	bufferevent_set_timeouts(conn->bev, &idle, &idle);
	/* libevent writes at most 16 KiB per callback by default: a
	   message would cost a loop turn per 16 KiB. */
	bufferevent_set_max_single_write(conn->bev, POP3_MAX_SINGLE_WRITE);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

struct pop3_conn *
pop3_conn_create(struct pop3_server *server, int fd,
		 const struct sockaddr *addr, socklen_t addrlen,
		 bool implicit_tls)
{
	struct pop3_conn *conn;

	evutil_make_socket_nonblocking(fd);
	conn = i_malloc(sizeof(*conn));
	conn->server = server;
	conn->id = ++server->next_id;
	conn->peer = net_peer_name(addr, addrlen);
	conn->send.fd = -1;
	if (implicit_tls) {
		conn->bev = tls_bufferevent_accept(server->set.tls,
						   server->base, fd);
		conn->tls = true;
	} else {
		conn->bev = bufferevent_socket_new(server->base, fd,
						   BEV_OPT_CLOSE_ON_FREE);
		if (conn->bev == NULL)
			evutil_closesocket(fd);
	}
	if (conn->bev == NULL) {
		log_warnx("pop3: cannot create a bufferevent for %s",
			  conn->peer);
		free(conn->peer);
		free(conn);
		return NULL;
	}
	conn->parser = pop3_parser_create();
	conn->free_event = event_new(server->base, -1, 0, free_event_cb, conn);
	conn_setup_bev(conn);
	log_debug("pop3(%u): connection from %s%s", conn->id, conn->peer,
		  implicit_tls ? " (TLS)" : "");
	/* No APOP timestamp: APOP is not offered (see pop3-commands.c). */
	pop3_conn_reply(conn, "+OK Commune POP3 ready.");
	return conn;
}

void
pop3_conn_destroy(struct pop3_conn **_conn)
{
	struct pop3_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	i_assert(conn->jobs == 0);
	log_debug("pop3(%u): connection closed", conn->id);
	pop3_server_conn_unlink(conn->server, conn);
	if (conn->bev != NULL) {
		if (conn->tls)
			tls_bufferevent_close_notify(conn->bev);
		bufferevent_free(conn->bev);
	}
	if (conn->delay != NULL)
		event_free(conn->delay);
	event_free(conn->free_event);
	if (conn->in_use_name != NULL) {
		/* Only when the server is destroyed with sessions open. */
		pop3_server_in_use_release(conn->server, conn->in_use_name);
		free(conn->in_use_name);
	}
	if (conn->send.fd != -1)
		close(conn->send.fd);
	buf_deinit(&conn->send.in);
	buf_deinit(&conn->send.out);
	free(conn->send.error);
	auth_request_destroy(&conn->auth);
	store_mailbox_close(&conn->box);
	store_account_close(&conn->account);
	pop3_parser_destroy(&conn->parser);
	free(conn->delayed_reply);
	free(conn->user);
	free(conn->msgs);
	free(conn->peer);
	free(conn);
}
