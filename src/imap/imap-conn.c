/* SPDX-License-Identifier: MIT */
/*
 * imap-conn.c: one IMAP session on a libevent bufferevent (plain, TLS
 * from the start, or switched to TLS by STARTTLS): reading and parsing
 * input, one command at a time, worker jobs with their sync and tagged
 * reply, the IDLE timer, the failed-login delay, and the session's end.
 * Part of src/imap; the commands are in imap-commands.c and cmd-*.c.
 *
 * Order of replies: a command that needs the store sets `waiting`;
 * nothing more is parsed until its job completed and its replies were
 * queued, so pipelined commands (RFC 3501 §5.5) are answered in order
 * while other sessions run. Meanwhile the socket's input buffer fills up
 * to a high watermark, and libevent stops reading beyond that.
 *
 * The end: the account and mailbox are closed by a last worker job
 * (closing may touch the disk) before the session is freed.
 */
#include "imap-private.h"
#include "imap-compress.h"
#include "auth.h"
#include "log.h"
#include "net.h"
#include "store.h"
#include "tls.h"
#include "worker.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static void conn_run(struct imap_conn *conn);
static void conn_try_free(struct imap_conn *conn);
static void conn_setup_bev(struct imap_conn *conn);
static void conn_set_timeouts(struct imap_conn *conn);
static void conn_switch_to_tls(struct imap_conn *conn);
static void job_submit(struct imap_conn *conn);
static void job_done(void *context);
static void conn_add_line(struct imap_conn *conn, const char *prefix,
			  const char *fmt, va_list args) ATTR_FORMAT(3, 0);

/* ---- output ---- */

/* After COMPRESS everything goes through the deflate stream; one sync
   flush per burst of replies (RFC 4978 §4), from zflush_event, which
   runs once the current callback has written all it will. */
static void
conn_add(struct imap_conn *conn, const void *data, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (conn->zs == NULL) {
		evbuffer_add(out, data, len);
		return;
	}
	imap_compress_write(conn->zs, data, len, out);
	event_active(conn->zflush_event, 0, 0);
}

static void
conn_add_line(struct imap_conn *conn, const char *prefix, const char *fmt,
	      va_list args)
{
	buf_t line = BUF_INIT;

	if (conn->bev == NULL)
		return;
	if (prefix != NULL)
		buf_printf(&line, "%s ", prefix);
	buf_vprintf(&line, fmt, args);
	buf_append(&line, "\r\n", 2);
	conn_add(conn, line.data, line.len);
	buf_deinit(&line);
}

static void
conn_zflush(struct imap_conn *conn)
{
	if (conn->bev != NULL && conn->zs != NULL)
		imap_compress_flush(conn->zs,
				    bufferevent_get_output(conn->bev));
}

static void
zflush_cb(evutil_socket_t fd, short what, void *context)
{
	conn_zflush(context);
}

void
imap_conn_reply(struct imap_conn *conn, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	conn_add_line(conn, NULL, fmt, args);
	va_end(args);
}

void
imap_conn_tagged(struct imap_conn *conn, const char *fmt, ...)
{
	va_list args, peek;
	const char *text = fmt;

	va_start(args, fmt);
	if (strcmp(fmt, "%s") == 0) {
		va_copy(peek, args);
		text = va_arg(peek, const char *);
		va_end(peek);
	}
	/* A command that did not end in BAD ends a run of mistakes, as in
	   Dovecot: a long session's rare BAD never adds up to a close. */
	if (strncmp(text, "OK", 2) == 0 || strncmp(text, "NO", 2) == 0)
		conn->errors = 0;
	conn_add_line(conn, conn->cmd.tag, fmt, args);
	va_end(args);
}

void
imap_conn_write(struct imap_conn *conn, const void *data, size_t len)
{
	if (conn->bev != NULL)
		conn_add(conn, data, len);
}

static size_t
conn_output_len(struct imap_conn *conn)
{
	if (conn->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(conn->bev));
}

bool
imap_conn_plaintext_ok(struct imap_conn *conn)
{
	return conn->tls || conn->server->set.allow_plaintext_auth;
}

static void
conn_write_cb(struct bufferevent *bev, void *context)
{
	struct imap_conn *conn = context;

	if (conn->closing) {
		conn_try_free(conn);
	} else if (conn->job_wait_output) {
		conn->job_wait_output = false;
		job_submit(conn);
	} else if (conn->starttls_pending) {
		if (conn_output_len(conn) == 0)
			conn_switch_to_tls(conn);
	} else if (conn->output_full) {
		conn->output_full = false;
		conn_run(conn);
	}
}

/* ---- closing ---- */

static void
finalize_run(void *context)
{
	struct imap_conn *conn = context;

	store_mailbox_close(&conn->box);
	store_account_close(&conn->box_account);
	store_account_close(&conn->account);
	store_account_close(&conn->job_account);
}

static void
finalize_done(void *context)
{
	struct imap_conn *conn = context;

	conn->jobs--;
	conn->finalized = true;
	conn_try_free(conn);
}

/*
 * Frees the session once nothing holds it: no job running, the account
 * closed, the output flushed (or the socket gone). Called only at the
 * end of a libevent callback: conn may be gone afterwards.
 */
static void
conn_try_free(struct imap_conn *conn)
{
	if (conn->jobs > 0)
		return;
	if ((conn->account != NULL || conn->box != NULL) &&
	    !conn->finalized) {
		if (!conn->finalizing) {
			conn->finalizing = true;
			conn->jobs++;
			worker_pool_submit(conn->server->pool, finalize_run,
					   finalize_done, conn);
		}
		return;
	}
	conn_zflush(conn);
	if (conn->bev != NULL && conn_output_len(conn) > 0 &&
	    !(conn->eof && tls_bufferevent_is_tls(conn->bev)))
		return;
	/* After a TLS peer's EOF (a close_notify, or none: dirty shutdowns
	   are allowed) libevent's OpenSSL bufferevent writes no more, so
	   what is queued (the greeting, when it left mid-handshake) would
	   hold the session until the idle timeout. */
	imap_conn_destroy(&conn);
}

static void
free_event_cb(evutil_socket_t fd, short what, void *context)
{
	conn_try_free(context);
}

void
imap_conn_close(struct imap_conn *conn)
{
	conn->closing = true;
	imap_conn_idle_stop(conn);
	if (conn->bev != NULL)
		bufferevent_disable(conn->bev, EV_READ);
	event_active(conn->free_event, 0, 0);
}

static void
conn_disconnect(struct imap_conn *conn)
{
	if (conn->bev != NULL) {
		bufferevent_free(conn->bev);
		conn->bev = NULL;
	}
	imap_conn_idle_stop(conn);
	conn->disconnected = true;
	conn->closing = true;
	event_active(conn->free_event, 0, 0);
}

void
imap_conn_bad(struct imap_conn *conn, const char *text)
{
	imap_conn_tagged(conn, "BAD %s", text);
	if (++conn->errors >= IMAP_ERRORS_MAX) {
		imap_conn_reply(conn, "* BYE Too many invalid commands.");
		imap_conn_close(conn);
	}
}

static bool
conn_stop_if_shutting_down(struct imap_conn *conn)
{
	if (!conn->server->shutting_down || conn->waiting)
		return false;
	imap_conn_reply(conn, "* BYE Server shutting down.");
	imap_conn_close(conn);
	return true;
}

void
imap_conn_shutdown(struct imap_conn *conn)
{
	if (!conn->closing && !conn->disconnected)
		conn_stop_if_shutting_down(conn);
}

/* ---- jobs ---- */

void
imap_job_tagged(struct imap_conn *conn, const char *fmt, ...)
{
	va_list args;

	free(conn->tagged);
	va_start(args, fmt);
	conn->tagged = i_strdup_vprintf(fmt, args);
	va_end(args);
}

void
imap_job_store_error(struct imap_conn *conn, const char *what)
{
	const char *text;
	enum store_error code = store_error(&text);

	switch (code) {
	case STORE_ERROR_NOT_FOUND:
		imap_job_tagged(conn, "NO [NONEXISTENT] %s: no such mailbox "
				"or message", what);
		return;
	case STORE_ERROR_EXISTS:
		imap_job_tagged(conn, "NO [ALREADYEXISTS] %s: already exists",
				what);
		return;
	case STORE_ERROR_INVALID:
		imap_job_tagged(conn, "NO [CANNOT] %s: invalid name or "
				"argument", what);
		return;
	case STORE_ERROR_NOT_POSSIBLE:
		imap_job_tagged(conn, "NO [CANNOT] %s: not possible (%s)",
				what, text);
		return;
	case STORE_ERROR_OVERQUOTA:
		/* RFC 9208: the usage that made the command fail */
		imap_quota_append_untagged(conn, &conn->job_out);
		imap_job_tagged(conn, "NO [OVERQUOTA] %s: over quota", what);
		return;
	case STORE_ERROR_NOSPACE:
	case STORE_ERROR_TEMP:
	case STORE_ERROR_NONE:
	case STORE_ERROR_CORRUPT:
	case STORE_ERROR_AUTH:
		break;
	}
	log_warnx("imap: %s: %s", what, text);
	imap_job_tagged(conn, "NO [%s] %s failed, try again later",
			code == STORE_ERROR_NOSPACE ? "OVERQUOTA" :
			"SERVERBUG", what);
}

static void
job_run(void *context)
{
	struct imap_conn *conn = context;

	store_clear_error();
	conn->job_continue = false;
	if (conn->announce_modseq) {
		struct mailbox_status st;

		conn->announce_modseq = false;
		if (conn->box != NULL) {
			store_mailbox_get_status(conn->box, &st);
			buf_printf(&conn->job_out, "* OK [HIGHESTMODSEQ %llu] "
				   "Highest\r\n",
				   (unsigned long long)st.highestmodseq);
		}
	}
	conn->job_run(conn);
	/* The sync comes after the command's last part. */
	if (!conn->job_continue && conn->box != NULL &&
	    conn->job_sync != IMAP_SYNC_NONE)
		imap_notify_sync_selected(conn, conn->job_sync);
}

void
imap_condstore_enable(struct imap_conn *conn)
{
	if ((conn->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		return;
	conn->enabled |= IMAP_ENABLED_CONDSTORE;
	conn->announce_modseq = conn->box != NULL;
}

static void
job_submit(struct imap_conn *conn)
{
	conn->jobs++;
	worker_pool_submit(conn->server->pool, job_run, job_done, conn);
}

static void
job_done(void *context)
{
	struct imap_conn *conn = context;

	conn->jobs--;
	if (conn->job_out.len > 0)
		imap_conn_write(conn, conn->job_out.data, conn->job_out.len);
	buf_reset(&conn->job_out);
	if (conn->job_continue && !conn->closing) {
		/* A long command in parts (FETCH): the next part once the
		   client has read most of this one. */
		if (conn_output_len(conn) > IMAP_OUTPUT_MAX)
			conn->job_wait_output = true;
		else
			job_submit(conn);
		return;
	}
	conn->job_continue = false;
	conn->waiting = false;
	if (conn->bev != NULL && !conn->eof && !conn->closing &&
	    !conn->starttls_pending)
		bufferevent_enable(conn->bev, EV_READ);
	if (conn->job_done != NULL)
		conn->job_done(conn);
	/* LOGIN, AUTHENTICATE and UNAUTHENTICATE change the state in
	   their done callbacks */
	conn_set_timeouts(conn);
	/* After "* BYE" (the selected mailbox went away) no tagged
	   reply: the session ends. */
	if (conn->tagged != NULL && conn->state != IMAP_STATE_LOGOUT)
		imap_conn_tagged(conn, "%s", conn->tagged);
	i_free(conn->tagged);
	if (conn->state == IMAP_STATE_LOGOUT) {
		imap_conn_close(conn);
		return;
	}
	if (conn->closing) {
		conn_try_free(conn);
		return;
	}
	if (conn->input == IMAP_INPUT_IDLE)
		imap_conn_idle_start(conn);
	/* NOTIFY (RFC 5465): what happened meanwhile, before more input */
	imap_conn_notify_kick(conn);
	conn_run(conn);
}

void
imap_conn_job(struct imap_conn *conn, imap_job_run_cb_t *run,
	      imap_job_done_cb_t *done, enum imap_sync sync)
{
	i_assert(!conn->waiting);
	conn->job_run = run;
	conn->job_done = done;
	conn->job_sync = sync;
	conn->waiting = true;
	/* No reading while the job runs: input stays in the socket, and
	   libevent does not call conn_read_cb again and again for input
	   conn_run would not take (a pipelined APPEND stream made the loop
	   spin some 200 times per command). job_done reads again. */
	if (conn->bev != NULL)
		bufferevent_disable(conn->bev, EV_READ);
	job_submit(conn);
}

void
imap_conn_continue(struct imap_conn *conn)
{
	if (conn->closing)
		conn_try_free(conn);
	else
		conn_run(conn);
}

/* ---- the failed-login delay ---- */

static void
delay_cb(evutil_socket_t fd, short what, void *context)
{
	struct imap_conn *conn = context;
	char *reply = conn->delayed_reply;

	conn->delayed_reply = NULL;
	conn->waiting = false;
	imap_conn_tagged(conn, "%s", reply);
	free(reply);
	if (conn->auth_failures >= IMAP_AUTH_FAILURES_MAX) {
		log_info("imap(%u): %s: too many failed logins", conn->id,
			 conn->peer);
		imap_conn_reply(conn, "* BYE Too many failed logins.");
		imap_conn_close(conn);
		return;
	}
	conn_run(conn);
}

void
imap_conn_login_failed(struct imap_conn *conn, const char *reply)
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

/* ---- STARTTLS ---- */

void
imap_conn_starttls(struct imap_conn *conn)
{
	/* RFC 3501 §6.2.1, RFC 2595 §3: what the client pipelined after
	   STARTTLS is dropped, here and in the socket buffer (tls.c). */
	imap_parser_discard(conn->parser);
	bufferevent_disable(conn->bev, EV_READ);
	conn->starttls_pending = true;
	conn->waiting = true;
}

static void
conn_switch_to_tls(struct imap_conn *conn)
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
	log_debug("imap(%u): STARTTLS", conn->id);
}

/* ---- COMPRESS ---- */

void
imap_conn_compress_start(struct imap_conn *conn)
{
	/* The tagged OK is already queued as it is; compression starts
	   with the next byte either way (RFC 4978 §3). */
	conn->zs = imap_compress_create();
	conn->zflush_event = event_new(conn->server->base, -1, 0, zflush_cb,
				       conn);
	log_debug("imap(%u): COMPRESS DEFLATE", conn->id);
}

/* ---- input ---- */

/* COMPRESS: inflates up to IMAP_READ_CHUNK bytes for the parser, so a
   small compressed input cannot make a large buffer at once. */
static size_t
conn_pull_compressed(struct imap_conn *conn, struct evbuffer *in)
{
	unsigned char *chunk;
	size_t before = evbuffer_get_length(in), len;
	int ret;

	if (!imap_compress_readable(conn->zs, in))
		return 0;
	chunk = i_malloc(IMAP_READ_CHUNK);
	ret = imap_compress_read(conn->zs, in, chunk, IMAP_READ_CHUNK, &len);
	if (ret == -1) {
		log_debug("imap(%u): invalid compressed input", conn->id);
		imap_conn_reply(conn, "* BYE Invalid compressed data.");
		imap_conn_close(conn);
		free(chunk);
		return 0;
	}
	if (len > 0)
		imap_parser_feed(conn->parser, chunk, len);
	free(chunk);
	/* progress, even when zlib kept all of it */
	return len + (before - evbuffer_get_length(in));
}

static size_t
conn_pull_input(struct imap_conn *conn)
{
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	struct evbuffer_iovec vec;
	size_t len;

	/* COMPRESS: zlib may hold output when the socket has no more */
	if (conn->zs != NULL)
		return conn_pull_compressed(conn, in);
	if (evbuffer_get_length(in) == 0)
		return 0;
	if (evbuffer_peek(in, IMAP_READ_CHUNK, NULL, &vec, 1) < 1)
		return 0;
	len = vec.iov_len < IMAP_READ_CHUNK ? vec.iov_len : IMAP_READ_CHUNK;
	imap_parser_feed(conn->parser, vec.iov_base, len);
	evbuffer_drain(in, len);
	return len;
}

/* One parser step: 1 when something was handled, 0 when it needs more
   input. */
static int
conn_step(struct imap_conn *conn)
{
	const char *line;
	size_t len;

	if (conn->input != IMAP_INPUT_COMMAND) {
		if (imap_parser_next_line(conn->parser, &line, &len) == 0)
			return 0;
		if (conn->input == IMAP_INPUT_SASL)
			imap_command_sasl_response(conn, line, len);
		else
			imap_command_idle_line(conn, line);
		return 1;
	}
	if (imap_parser_next(conn->parser, &conn->cmd) == 0)
		return 0;
	switch (conn->cmd.type) {
	case IMAP_COMMAND_CONTINUE:
		imap_conn_reply(conn, "+ OK");
		break;
	case IMAP_COMMAND_ERROR:
		log_debug("imap(%u): %s %s", conn->id, conn->cmd.tag,
			  conn->cmd.error);
		imap_conn_tagged(conn, "%s", conn->cmd.error);
		if (conn->cmd.fatal) {
			imap_conn_reply(conn, "* BYE Cannot resynchronise.");
			imap_conn_close(conn);
		} else if (strncmp(conn->cmd.error, "BAD", 3) == 0 &&
			   ++conn->errors >= IMAP_ERRORS_MAX) {
			imap_conn_reply(conn, "* BYE Too many invalid "
					"commands.");
			imap_conn_close(conn);
		}
		break;
	case IMAP_COMMAND_OK:
		imap_command_run(conn);
		break;
	}
	return 1;
}

static void
conn_run(struct imap_conn *conn)
{
	while (!conn->waiting && !conn->closing && conn->bev != NULL &&
	       !conn->idle_check_running) {
		if (conn->input == IMAP_INPUT_COMMAND &&
		    conn_stop_if_shutting_down(conn))
			return;
		if (conn_output_len(conn) > IMAP_OUTPUT_MAX) {
			conn->output_full = true;
			return;
		}
		if (conn_step(conn) == 0 && conn_pull_input(conn) == 0) {
			if (conn->eof)
				imap_conn_close(conn);
			else
				imap_conn_notify_kick(conn);
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
	struct imap_conn *conn = context;
	char tls_error[256];

	if ((what & BEV_EVENT_CONNECTED) != 0)
		return;
	if ((what & BEV_EVENT_TIMEOUT) != 0 && !conn->closing &&
	    (what & BEV_EVENT_READING) != 0) {
		if (conn->waiting) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_debug("imap(%u): idle timeout", conn->id);
		imap_conn_reply(conn, "* BYE Disconnected for inactivity.");
		imap_conn_close(conn);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == BEV_EVENT_EOF &&
	    !conn->closing) {
		conn->eof = true;
		bufferevent_disable(bev, EV_READ);
		conn_run(conn);
		return;
	}
	if ((what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0 &&
	    log_debug_enabled()) {
		tls_bufferevent_error(conn->bev, tls_error, sizeof(tls_error));
		log_debug("imap(%u): connection error%s%s", conn->id,
			  tls_error[0] != '\0' ? ": TLS: " : "", tls_error);
	}
	conn_disconnect(conn);
}

/* ---- create / destroy ---- */

/* The idle timeout, shorter before login (imap_settings). Called when
   the bufferevent is made and when the login state may have changed
   (after each job: LOGIN, AUTHENTICATE, UNAUTHENTICATE). */
static void
conn_set_timeouts(struct imap_conn *conn)
{
	const struct imap_settings *set = &conn->server->set;
	bool authed = conn->state != IMAP_STATE_NOT_AUTHENTICATED;
	struct timeval tv = { set->idle_timeout_secs, 0 };

	if (conn->bev == NULL ||
	    (conn->timeouts_set && conn->timeouts_authed == authed))
		return;
	if (!authed && set->login_timeout_secs < set->idle_timeout_secs)
		tv.tv_sec = set->login_timeout_secs;
	bufferevent_set_timeouts(conn->bev, &tv, &tv);
	conn->timeouts_set = true;
	conn->timeouts_authed = authed;
}

static void
conn_setup_bev(struct imap_conn *conn)
{
	bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb,
			  conn_event_cb, conn);
	bufferevent_setwatermark(conn->bev, EV_READ, 0,
				 IMAP_INPUT_HIGH_WATERMARK);
	bufferevent_setwatermark(conn->bev, EV_WRITE,
				 IMAP_OUTPUT_LOW_WATERMARK, 0);
	conn->timeouts_set = false;
	conn_set_timeouts(conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

struct imap_conn *
imap_conn_create(struct imap_server *server, int fd,
		 const struct sockaddr *addr, socklen_t addrlen,
		 bool implicit_tls)
{
	struct imap_conn *conn;
	buf_t caps = BUF_INIT;

	evutil_make_socket_nonblocking(fd);
	conn = i_malloc(sizeof(*conn));
	conn->server = server;
	conn->id = ++server->next_id;
	conn->peer = net_peer_name(addr, addrlen);
	conn->idle_wd = -1;
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
		log_warnx("imap: cannot create a bufferevent for %s",
			  conn->peer);
		free(conn->peer);
		free(conn);
		return NULL;
	}
	conn->parser = imap_parser_create(0);
	conn->free_event = event_new(server->base, -1, 0, free_event_cb, conn);
	conn_setup_bev(conn);
	log_debug("imap(%u): connection from %s%s", conn->id, conn->peer,
		  implicit_tls ? " (TLS)" : "");
	imap_capability_append(conn, &caps);
	imap_conn_reply(conn, "* OK [CAPABILITY %s] Commune IMAP ready.",
			buf_cstr(&caps));
	buf_deinit(&caps);
	return conn;
}

void
imap_conn_destroy(struct imap_conn **_conn)
{
	struct imap_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	i_assert(conn->jobs == 0);
	log_debug("imap(%u): connection closed", conn->id);
	imap_server_conn_unlink(conn->server, conn);
	if (conn->bev != NULL) {
		if (conn->tls)
			tls_bufferevent_close_notify(conn->bev);
		bufferevent_free(conn->bev);
	}
	if (conn->delay != NULL)
		event_free(conn->delay);
	imap_idle_conn_deinit(conn);
	event_free(conn->free_event);
	if (conn->zflush_event != NULL)
		event_free(conn->zflush_event);
	imap_compress_destroy(&conn->zs);
	if (conn->job_wait_output && conn->job_done != NULL) {
		/* a command in parts whose client went away */
		conn->job_done(conn);
	}
	auth_request_destroy(&conn->auth);
	store_mailbox_close(&conn->box);
	store_account_close(&conn->box_account);
	store_account_close(&conn->account);
	store_account_close(&conn->job_account);
	imap_parser_destroy(&conn->parser);
	buf_deinit(&conn->job_out);
	if (conn->sasl_response != NULL) {
		explicit_bzero(conn->sasl_response, conn->sasl_response_len);
		free(conn->sasl_response);
	}
	free(conn->tagged);
	free(conn->uids);
	uid_array_free(&conn->searchres);
	free(conn->delayed_reply);
	free(conn->user);
	free(conn->peer);
	free(conn);
}
