/* SPDX-License-Identifier: MIT */
/*
 * imap-idle.c: how an IDLE session (RFC 2177) learns of changes made by
 * other sessions, LMTP and the CLI. The store rewrites a mailbox's watch
 * file (store_mailbox_watch_path: the index) on every append, flag
 * change and expunge; each idling session has an inotify watch on it,
 * all on one inotify descriptor of the server, read by the loop. An
 * event starts a check job on a worker (store_mailbox_changed(), then a
 * sync that writes EXISTS/EXPUNGE/FETCH), so a change reaches the client
 * within a few milliseconds. Without a watch (no inotify, the file not
 * there yet) the session polls every IMAP_IDLE_CHECK_MSECS instead.
 *
 * A watch is added on the loop thread when IDLE starts (one path
 * lookup), followed by one check, which covers a change between the
 * sync at the start of IDLE and the watch. Sessions on the same mailbox
 * share the watch descriptor (inotify gives the same one for the same
 * file); it is removed when the last of them stops idling. When the file
 * is replaced (IN_IGNORED after a rebuild) the next check watches anew.
 *
 * NOTIFY (RFC 5465, cmd-notify.c) uses the same machinery outside IDLE
 * too: watches on the index files of the mailboxes it covers (any number
 * of sessions may share one; a watch is removed when no session uses it
 * any more), a watch on the selected mailbox when "selected" events are
 * on, and a timer that checks the mailbox and subscription lists every
 * IMAP_NOTIFY_LIST_MSECS. The check job is the same one as IDLE's: it
 * runs between commands only (never beside a command's job) and blocks
 * input while it runs, so the session's account and mailbox stay the
 * job's alone. Part of src/imap.
 */
#include "imap-private.h"
#include "log.h"
#include "store.h"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/inotify.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define WATCH_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_DELETE_SELF | IN_MOVE_SELF)

static void idle_check(struct imap_conn *conn);

static bool
wd_in_use(struct imap_server *server, int wd)
{
	struct imap_conn *conn;

	for (conn = server->conns; conn != NULL; conn = conn->next) {
		if (conn->idle_wd == wd || imap_notify_uses_wd(conn, wd))
			return true;
	}
	return false;
}

int
imap_idle_watch_path(struct imap_server *server, const char *path)
{
	int wd;

	if (server->inotify_fd == -1)
		return -1;
	wd = inotify_add_watch(server->inotify_fd, path, WATCH_MASK);
	if (wd == -1 && errno != ENOENT)
		log_warn("imap: inotify_add_watch %s", path);
	return wd;
}

void
imap_idle_unwatch_wd(struct imap_server *server, int wd)
{
	if (wd != -1 && !wd_in_use(server, wd))
		(void)inotify_rm_watch(server->inotify_fd, wd);
}

static void
idle_watch(struct imap_conn *conn)
{
	struct imap_server *server = conn->server;
	const char *path;

	if (server->inotify_fd == -1 || conn->box == NULL ||
	    conn->idle_wd != -1)
		return;
	path = store_mailbox_watch_path(conn->box);
	conn->idle_wd = imap_idle_watch_path(server, path);
	free(conn->idle_path);
	conn->idle_path = i_strdup(path);
}

/* Drops conn's watch; removes it when no other session shares it. */
static void
idle_unwatch(struct imap_conn *conn)
{
	int wd = conn->idle_wd;

	i_free(conn->idle_path);
	if (wd == -1)
		return;
	conn->idle_wd = -1;
	imap_idle_unwatch_wd(conn->server, wd);
}

/* IDLE, or NOTIFY with events for the selected mailbox. */
static bool
watches_selected(struct imap_conn *conn, bool *delayed_r)
{
	*delayed_r = false;
	if (conn->box == NULL)
		return false;
	return conn->input == IMAP_INPUT_IDLE ||
		imap_notify_selected(conn, delayed_r);
}

static void
idle_check_run(void *context)
{
	struct imap_conn *conn = context;
	bool delayed;

	store_clear_error();
	/* RFC 5465 §5.1: "selected-delayed" keeps EXPUNGEs for a command
	   that may send them; IDLE may send them at once. */
	if (conn->idle_check_selected && watches_selected(conn, &delayed) &&
	    store_mailbox_changed(conn->box))
		imap_notify_sync_selected(conn,
					  conn->input == IMAP_INPUT_IDLE ||
					  !delayed ? IMAP_SYNC_FULL :
					  IMAP_SYNC_NO_EXPUNGES);
	imap_notify_check_run(conn);
	/* between commands and in IDLE a session keeps no mailbox file
	   open: 10,000 idle sessions need 10,000 descriptors, not 20,000 */
	if (conn->box != NULL)
		store_mailbox_release_file(conn->box);
}

static void
idle_check_done(void *context)
{
	struct imap_conn *conn = context;
	struct timeval tv = { 0, IMAP_IDLE_CHECK_MSECS * 1000 };

	conn->jobs--;
	conn->idle_check_running = false;
	if (conn->job_out.len > 0)
		imap_conn_write(conn, conn->job_out.data, conn->job_out.len);
	buf_reset(&conn->job_out);
	if (conn->state == IMAP_STATE_LOGOUT && !conn->closing)
		imap_conn_close(conn);
	if (imap_notify_overflowed(conn))
		imap_notify_deinit(conn);
	imap_notify_rewatch(conn);
	if (conn->notify_missed) {
		/* inotify spoke while the job had the notify state */
		conn->notify_missed = false;
		imap_notify_set_dirty(conn, true, true);
		imap_notify_mark_all(conn);
	}
	if (!conn->closing && conn->input == IMAP_INPUT_IDLE) {
		idle_watch(conn);
		if (conn->idle_recheck) {
			conn->idle_recheck = false;
			idle_check(conn);
		} else if (conn->idle_wd == -1) {
			evtimer_add(conn->idle_timer, &tv);
		}
	}
	/* input that came meanwhile (DONE, commands) before the next
	   NOTIFY check, which conn_run starts once it waits for input:
	   a busy mailbox must not starve the session */
	if (!conn->idle_check_running)
		imap_conn_continue(conn);
}

/* Starts the check job: between commands only (a command's job has the
   account and mailbox to itself). */
static void
check_submit(struct imap_conn *conn, bool selected)
{
	conn->idle_check_running = true;
	conn->idle_check_selected = selected;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, idle_check_run,
			   idle_check_done, conn);
}

static void
idle_check(struct imap_conn *conn)
{
	if (conn->input != IMAP_INPUT_IDLE || conn->box == NULL ||
	    conn->closing)
		return;
	if (conn->idle_check_running) {
		conn->idle_recheck = true;
		return;
	}
	check_submit(conn, true);
}

/* Outside IDLE, NOTIFY's watch on the selected mailbox follows SELECT,
   CLOSE and NOTIFY SET. */
static void
selected_watch_update(struct imap_conn *conn)
{
	const char *path;
	bool delayed;

	if (conn->input == IMAP_INPUT_IDLE)
		return;         /* IDLE keeps its own */
	if (!watches_selected(conn, &delayed)) {
		idle_unwatch(conn);
		return;
	}
	path = store_mailbox_watch_path(conn->box);
	if (conn->idle_path != NULL && strcmp(conn->idle_path, path) == 0)
		return;
	idle_unwatch(conn);
	idle_watch(conn);
	/* a change between the last sync and the new watch */
	imap_notify_set_dirty(conn, false, true);
}

void
imap_conn_notify_kick(struct imap_conn *conn)
{
	bool selected;

	if (conn->notify == NULL || conn->closing || conn->waiting ||
	    conn->idle_check_running || conn->input == IMAP_INPUT_SASL ||
	    conn->bev == NULL)
		return;
	if (conn->state == IMAP_STATE_NOT_AUTHENTICATED ||
	    !imap_notify_owned(conn)) {
		/* UNAUTHENTICATE (RFC 8437 §3): the session starts over */
		imap_notify_deinit(conn);
		imap_conn_notify_started(conn);
		return;
	}
	/* A client that does not read: nothing more until it does (the
	   dirty marks stay; the timer tries again). */
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) >
	    IMAP_OUTPUT_MAX)
		return;
	selected_watch_update(conn);
	if (!imap_notify_pending(conn))
		return;
	selected = imap_notify_take_selected(conn);
	check_submit(conn, selected);
}

static void
notify_timer_cb(evutil_socket_t fd, short what, void *context)
{
	struct imap_conn *conn = context;

	if (conn->idle_check_running)
		conn->notify_missed = true;
	else
		imap_notify_set_dirty(conn, true, conn->idle_wd == -1);
	imap_conn_notify_kick(conn);
}

void
imap_conn_notify_started(struct imap_conn *conn)
{
	struct timeval tv = { IMAP_NOTIFY_LIST_MSECS / 1000,
			      (IMAP_NOTIFY_LIST_MSECS % 1000) * 1000 };

	if (conn->notify == NULL) {
		if (conn->notify_timer != NULL)
			evtimer_del(conn->notify_timer);
		if (conn->input != IMAP_INPUT_IDLE)
			idle_unwatch(conn);
		return;
	}
	if (conn->notify_timer == NULL)
		conn->notify_timer = event_new(conn->server->base, -1,
					       EV_PERSIST, notify_timer_cb,
					       conn);
	evtimer_add(conn->notify_timer, &tv);
}

static void
idle_timer_cb(evutil_socket_t fd, short what, void *context)
{
	idle_check(context);
}

/* One inotify event for one session: IDLE's check, or NOTIFY's. */
static void
inotify_conn(struct imap_conn *conn, const struct inotify_event *ev)
{
	bool ignored = (ev->mask & IN_IGNORED) != 0;
	bool mine = conn->idle_wd == ev->wd;

	if (mine && ignored)
		conn->idle_wd = -1;
	if (mine && conn->input == IMAP_INPUT_IDLE) {
		idle_check(conn);
		return;
	}
	if (conn->notify == NULL)
		return;
	if (conn->idle_check_running) {
		/* the job has the notify state: look at all of it after */
		if (mine || imap_notify_uses_wd(conn, ev->wd))
			conn->notify_missed = true;
		return;
	}
	if (mine)
		imap_notify_set_dirty(conn, false, true);
	else if (!imap_notify_wd_event(conn, ev->wd, ignored))
		return;
	imap_conn_notify_kick(conn);
}

/* Reads the inotify events and checks the sessions they concern. */
static void
inotify_cb(evutil_socket_t fd, short what, void *context)
{
	struct imap_server *server = context;
	char events[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct imap_conn *conn, *next;
	ssize_t len;
	char *p;

	while ((len = read(fd, events, sizeof(events))) > 0) {
		for (p = events; p < events + len;
		     p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			for (conn = server->conns; conn != NULL;
			     conn = next) {
				next = conn->next;
				inotify_conn(conn, ev);
			}
		}
	}
	if (len == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("imap: read inotify");
}

void
imap_conn_idle_start(struct imap_conn *conn)
{
	if (conn->box == NULL)
		return;
	if (conn->idle_timer == NULL)
		conn->idle_timer = evtimer_new(conn->server->base,
					       idle_timer_cb, conn);
	idle_watch(conn);
	idle_check(conn);
}

void
imap_conn_idle_stop(struct imap_conn *conn)
{
	if (conn->idle_timer != NULL)
		evtimer_del(conn->idle_timer);
	conn->idle_recheck = false;
	idle_unwatch(conn);
}

void
imap_idle_conn_deinit(struct imap_conn *conn)
{
	imap_notify_deinit(conn);
	if (conn->notify_timer != NULL)
		event_free(conn->notify_timer);
	conn->notify_timer = NULL;
	idle_unwatch(conn);
	if (conn->idle_timer != NULL)
		event_free(conn->idle_timer);
	conn->idle_timer = NULL;
}

void
imap_idle_server_init(struct imap_server *server)
{
	server->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (server->inotify_fd == -1) {
		log_warn("imap: inotify_init1 (IDLE will poll)");
		return;
	}
	server->inotify_event = event_new(server->base, server->inotify_fd,
					  EV_READ | EV_PERSIST, inotify_cb,
					  server);
	event_add(server->inotify_event, NULL);
}

void
imap_idle_server_deinit(struct imap_server *server)
{
	if (server->inotify_event != NULL)
		event_free(server->inotify_event);
	if (server->inotify_fd != -1)
		close(server->inotify_fd);
}
