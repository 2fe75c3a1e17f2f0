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
 * Part of src/imap.
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

#include <event2/event.h>

#define WATCH_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_DELETE_SELF | IN_MOVE_SELF)

static void idle_check(struct imap_conn *conn);

static void
idle_watch(struct imap_conn *conn)
{
	struct imap_server *server = conn->server;
	const char *path;

	if (server->inotify_fd == -1 || conn->box == NULL ||
	    conn->idle_wd != -1)
		return;
	path = store_mailbox_watch_path(conn->box);
	conn->idle_wd = inotify_add_watch(server->inotify_fd, path,
					  WATCH_MASK);
	if (conn->idle_wd == -1 && errno != ENOENT)
		log_warn("imap: inotify_add_watch %s", path);
}

/* Drops conn's watch; removes it when no other session shares it. */
static void
idle_unwatch(struct imap_conn *conn)
{
	struct imap_conn *other;
	int wd = conn->idle_wd;

	if (wd == -1)
		return;
	conn->idle_wd = -1;
	for (other = conn->server->conns; other != NULL;
	     other = other->next) {
		if (other->idle_wd == wd)
			return;
	}
	(void)inotify_rm_watch(conn->server->inotify_fd, wd);
}

static void
idle_check_run(void *context)
{
	struct imap_conn *conn = context;

	if (conn->box != NULL && store_mailbox_changed(conn->box))
		(void)imap_sync_run(conn, IMAP_SYNC_FULL);
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
	if (!conn->closing && conn->input == IMAP_INPUT_IDLE) {
		idle_watch(conn);
		if (conn->idle_recheck) {
			conn->idle_recheck = false;
			idle_check(conn);
		} else if (conn->idle_wd == -1) {
			evtimer_add(conn->idle_timer, &tv);
		}
	}
	/* input that came meanwhile (DONE), or the end */
	if (!conn->idle_check_running)
		imap_conn_continue(conn);
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
	conn->idle_check_running = true;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, idle_check_run,
			   idle_check_done, conn);
}

static void
idle_timer_cb(evutil_socket_t fd, short what, void *context)
{
	idle_check(context);
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
				if (conn->idle_wd != ev->wd)
					continue;
				if ((ev->mask & IN_IGNORED) != 0)
					conn->idle_wd = -1;
				idle_check(conn);
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
