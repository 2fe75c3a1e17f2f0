/* SPDX-License-Identifier: MIT */
/*
 * lmtp-deliver.c: the LMTP session's store work, run on the daemon's
 * worker pool: looking up a RCPT's account and delivering the message to
 * each recipient's INBOX. Also the one table that maps store errors to
 * LMTP replies (RFC 5321 §4.2, RFC 3463 enhanced codes). Part of
 * src/lmtp; calls the store, never the network.
 *
 * Threads: the run functions execute on a worker thread and touch only
 * their job and the session's transaction (recipients, message buffer),
 * which the loop thread leaves alone until every job has completed. The
 * done functions run on the loop thread.
 */
#include "lmtp-private.h"
#include "log.h"
#include "worker.h"
#include "store.h"
#include "store-quota.h"

#include <stdlib.h>

struct lookup_job {
	struct lmtp_conn *conn;
	bool ok;
	char *reply;
};

struct deliver_job {
	struct lmtp_conn *conn;
	unsigned int index;
};

/*
 * The calling thread's store error as an LMTP reply for address. At RCPT
 * time an invalid name is just an unknown user; during delivery it is a
 * permanent rejection. Environment errors are logged here, where the
 * text is known; the client gets no paths.
 */
static char *
store_error_reply(const char *address, bool at_rcpt)
{
	const char *text;
	enum store_error code = store_error(&text);

	switch (code) {
	case STORE_ERROR_NOT_FOUND:
		return i_strdup_printf("550 5.1.1 <%s> User unknown", address);
	case STORE_ERROR_INVALID:
		if (at_rcpt) {
			return i_strdup_printf("550 5.1.1 <%s> User unknown",
					       address);
		}
		log_warnx("lmtp: <%s>: %s", address, text);
		return i_strdup_printf("550 5.6.0 <%s> Message refused",
				       address);
	case STORE_ERROR_NOSPACE:
		log_warnx("lmtp: <%s>: %s", address, text);
		return i_strdup_printf("452 4.3.1 <%s> Insufficient system "
				       "storage", address);
	case STORE_ERROR_OVERQUOTA:
		/* Temporary: the user may make room; the MTA retries. */
		return i_strdup_printf("452 4.2.2 <%s> Mailbox full", address);
	case STORE_ERROR_EXISTS:
	case STORE_ERROR_NOT_POSSIBLE:
	case STORE_ERROR_AUTH:
		log_warnx("lmtp: <%s>: %s", address, text);
		return i_strdup_printf("550 5.2.0 <%s> Mailbox unavailable",
				       address);
	case STORE_ERROR_NONE:
	case STORE_ERROR_TEMP:
	case STORE_ERROR_CORRUPT:
		break;
	}
	log_warnx("lmtp: <%s>: %s", address, text);
	return i_strdup_printf("451 4.3.0 <%s> Temporary failure, try again "
			       "later", address);
}

/* ---- RCPT lookup ---- */

static void
lookup_run(void *context)
{
	struct lookup_job *job = context;
	struct lmtp_rcpt *rcpt = &job->conn->pending_rcpt;

	store_clear_error();
	if (store_account_open(job->conn->server->store, rcpt->address,
			       &rcpt->account) == 0) {
		/* A full mailbox is refused at RCPT already (RFC 3463
		   4.2.2), before the MTA sends the message; the delivery
		   checks again with the real size. Other errors wait for
		   the delivery. */
		if (store_quota_check(rcpt->account, 1, 1) < 0 &&
		    store_error(NULL) == STORE_ERROR_OVERQUOTA) {
			store_account_close(&rcpt->account);
			job->reply = store_error_reply(rcpt->address, true);
			return;
		}
		store_clear_error();
		job->ok = true;
		return;
	}
	rcpt->account = NULL;
	job->reply = store_error_reply(rcpt->address, true);
}

static void
lookup_done(void *context)
{
	struct lookup_job *job = context;
	struct lmtp_conn *conn = job->conn;

	conn->jobs--;
	if (!conn->disconnected)
		lmtp_conn_rcpt_finished(conn, job->ok, job->reply);
	free(job->reply);
	free(job);
	lmtp_conn_job_finished(conn);
}

void
lmtp_deliver_lookup(struct lmtp_conn *conn)
{
	struct lookup_job *job = i_malloc(sizeof(*job));

	job->conn = conn;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, lookup_run, lookup_done, job);
}

/* ---- delivery ---- */

static void
deliver_run(void *context)
{
	struct deliver_job *job = context;
	struct lmtp_conn *conn = job->conn;
	struct lmtp_rcpt *rcpt = &conn->rcpts[job->index];
	struct store_append msg = {
		.data = conn->msg.data,
		.len = conn->msg.len,
		.return_path = conn->return_path,
	};

	store_clear_error();
	if (store_deliver(rcpt->account, "INBOX", &msg, &rcpt->uid) == 0) {
		rcpt->reply = i_strdup_printf("250 2.0.0 <%s> Saved as UID %u",
					      rcpt->address, rcpt->uid);
	} else {
		rcpt->uid = 0;
		rcpt->reply = store_error_reply(rcpt->address, false);
	}
}

static void submit_deliveries(struct lmtp_conn *conn);

static void
deliver_done(void *context)
{
	struct deliver_job *job = context;
	struct lmtp_conn *conn = job->conn;
	struct lmtp_rcpt *rcpt = &conn->rcpts[job->index];

	free(job);
	conn->jobs--;
	conn->deliver_done++;
	if (rcpt->uid != 0) {
		log_info("lmtp(%u): <%s> saved to INBOX as UID %u (%zu bytes)",
			 conn->id, rcpt->address, rcpt->uid, conn->msg.len);
	}
	if (!conn->disconnected) {
		submit_deliveries(conn);
		if (conn->deliver_done == conn->rcpt_count)
			lmtp_conn_delivery_finished(conn);
	}
	lmtp_conn_job_finished(conn);
}

static void
submit_deliveries(struct lmtp_conn *conn)
{
	while (conn->deliver_next < conn->rcpt_count &&
	       conn->deliver_next - conn->deliver_done <
		       LMTP_PARALLEL_DELIVERIES) {
		struct deliver_job *job = i_malloc(sizeof(*job));

		job->conn = conn;
		job->index = conn->deliver_next++;
		conn->jobs++;
		worker_pool_submit(conn->server->pool, deliver_run,
				   deliver_done, job);
	}
}

void
lmtp_deliver_start(struct lmtp_conn *conn)
{
	i_assert(conn->rcpt_count > 0);
	conn->deliver_next = 0;
	conn->deliver_done = 0;
	submit_deliveries(conn);
}

void
lmtp_rcpt_clear(struct lmtp_rcpt *rcpt)
{
	i_free(rcpt->address);
	i_free(rcpt->reply);
	store_account_close(&rcpt->account);
	rcpt->uid = 0;
}
