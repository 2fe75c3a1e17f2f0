/* SPDX-License-Identifier: MIT */
/*
 * pop3-mail.c: the POP3 session's store work, run on the daemon's worker
 * pool: logins (auth.h), opening INBOX and taking its snapshot, reading
 * and converting messages for RETR/TOP chunk by chunk, the UPDATE
 * state's flags and expunge, and the end-of-session clean-up. Also the
 * one table from store errors to RFC 3206 response codes. Part of
 * src/pop3; calls the store, never the network.
 *
 * Threads: the run functions execute on a worker thread and touch only
 * their job and the session fields the loop thread leaves alone while
 * the job is in flight (the account, the mailbox, the message array, the
 * send state, the auth request). The done functions run on the loop
 * thread.
 */
#include "pop3-private.h"
#include "auth.h"
#include "base64.h"
#include "log.h"
#include "worker.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The calling thread's store error as a POP3 reply, RFC 3206 §4: a
 * temporary condition (I/O, space) is [SYS/TEMP], anything the client
 * cannot fix by retrying is [SYS/PERM]. The details go to the log when
 * they are the environment's; the client gets no paths.
 */
char *
pop3_mail_error_reply(const char *what)
{
	const char *text;
	enum store_error code = store_error(&text);

	switch (code) {
	case STORE_ERROR_NONE:
	case STORE_ERROR_TEMP:
	case STORE_ERROR_NOSPACE:
	case STORE_ERROR_OVERQUOTA:
		log_warnx("pop3: %s: %s", what, text);
		return i_strdup_printf("-ERR [SYS/TEMP] %s failed, try again "
				       "later.", what);
	case STORE_ERROR_NOT_FOUND:
	case STORE_ERROR_EXISTS:
	case STORE_ERROR_INVALID:
	case STORE_ERROR_NOT_POSSIBLE:
	case STORE_ERROR_CORRUPT:
	case STORE_ERROR_AUTH:
		break;
	}
	log_warnx("pop3: %s: %s", what, text);
	return i_strdup_printf("-ERR [SYS/PERM] %s failed.", what);
}

/* ---- logins ---- */

struct login_job {
	struct pop3_conn *conn;
	char *password;
	enum auth_result result;
	struct account *account;
};

static void
login_run(void *context)
{
	struct login_job *job = context;

	store_clear_error();
	job->result = auth_password_verify(job->conn->server->store,
					   job->conn->user, job->password,
					   &job->account);
}

static void
login_done(void *context)
{
	struct login_job *job = context;
	struct pop3_conn *conn = job->conn;

	conn->jobs--;
	if (!conn->disconnected)
		pop3_command_login_done(conn, (int)job->result, job->account);
	else
		store_account_close(&job->account);
	explicit_bzero(job->password, strlen(job->password));
	free(job->password);
	free(job);
	pop3_conn_job_finished(conn);
}

void
pop3_mail_login(struct pop3_conn *conn, const char *password)
{
	struct login_job *job = i_malloc(sizeof(*job));

	job->conn = conn;
	job->password = i_strdup(password);
	conn->jobs++;
	worker_pool_submit(conn->server->pool, login_run, login_done, job);
}

struct sasl_job {
	struct pop3_conn *conn;
	char *response;         /* NULL: none */
	size_t len;
	bool base64;
	enum auth_result result;
	buf_t challenge;        /* base64 */
};

static void
sasl_run(void *context)
{
	struct sasl_job *job = context;
	struct auth_request *req = job->conn->auth;
	buf_t decoded = BUF_INIT;

	store_clear_error();
	if (job->base64) {
		job->result = auth_request_step_base64(req, job->response,
						       job->len,
						       &job->challenge);
		return;
	}
	job->result = auth_request_step(req,
		(const unsigned char *)job->response, job->len, &decoded);
	if (job->result == AUTH_RESULT_CONTINUE)
		base64_encode(&job->challenge, decoded.data, decoded.len);
	buf_deinit(&decoded);
}

static void
sasl_done(void *context)
{
	struct sasl_job *job = context;
	struct pop3_conn *conn = job->conn;

	conn->jobs--;
	if (!conn->disconnected)
		pop3_command_sasl_done(conn, (int)job->result,
				       &job->challenge);
	if (job->response != NULL) {
		explicit_bzero(job->response, job->len);
		free(job->response);
	}
	buf_deinit(&job->challenge);
	free(job);
	pop3_conn_job_finished(conn);
}

void
pop3_mail_sasl_step(struct pop3_conn *conn, const char *response, size_t len,
		    bool base64)
{
	struct sasl_job *job = i_malloc(sizeof(*job));

	i_assert(conn->auth != NULL);
	job->conn = conn;
	job->response = response == NULL ? NULL : i_strndup(response, len);
	job->len = len;
	job->base64 = base64;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, sasl_run, sasl_done, job);
}

/* ---- INBOX ---- */

struct open_job {
	struct pop3_conn *conn;
	char *error;
};

static void
open_run(void *context)
{
	struct open_job *job = context;
	struct pop3_conn *conn = job->conn;
	const struct store_msg *msgs;
	struct mailbox_status status;
	unsigned int i;

	store_clear_error();
	if (store_mailbox_open(conn->account, "INBOX", &conn->box) < 0) {
		conn->box = NULL;
		job->error = pop3_mail_error_reply("Opening INBOX");
		return;
	}
	/* The snapshot: never synced again in this session. */
	store_mailbox_get_status(conn->box, &status);
	conn->uidvalidity = status.uidvalidity;
	conn->msg_count = store_mailbox_count(conn->box);
	conn->msgs = i_malloc((conn->msg_count + 1) * sizeof(*conn->msgs));
	msgs = store_mailbox_msgs(conn->box);
	for (i = 0; i < conn->msg_count; i++) {
		conn->msgs[i].uid = msgs[i].uid;
		conn->msgs[i].size = msgs[i].size;
		conn->total_bytes += msgs[i].size;
	}
}

static void
open_done(void *context)
{
	struct open_job *job = context;
	struct pop3_conn *conn = job->conn;

	conn->jobs--;
	if (!conn->disconnected)
		pop3_command_open_done(conn, job->error);
	free(job->error);
	free(job);
	pop3_conn_job_finished(conn);
}

void
pop3_mail_open(struct pop3_conn *conn)
{
	struct open_job *job = i_malloc(sizeof(*job));

	job->conn = conn;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, open_run, open_done, job);
}

/* ---- RETR and TOP ---- */

/* Opens the message of conn->send; 0, or -1 with send->error set. */
static int
send_open(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;
	const struct pop3_msg *msg = &conn->msgs[send->index];
	enum store_error code;
	const char *text;
	off_t offset;
	int ret;

	ret = store_mailbox_msg_fd(conn->box, msg->uid, &send->fd, &offset,
				   &send->size);
	if (ret > 0) {
		send->offset = (uint64_t)offset;
		return 0;
	}
	send->fd = -1;
	if (ret == 0) {
		/* No descriptor for this format: the whole message. */
		send->use_file = false;
		if (store_mailbox_msg_read(conn->box, msg->uid,
					   &send->in) == 0) {
			send->size = send->in.len;
			return 0;
		}
	}
	code = store_error(&text);
	if (code == STORE_ERROR_NOT_FOUND) {
		send->error = i_strdup_printf("-ERR Message %u was removed by "
					      "another session.",
					      send->index + 1);
		return -1;
	}
	send->error = pop3_mail_error_reply("Reading the message");
	return -1;
}

/* Reads the next chunk of the message into send->in. */
static int
send_read(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;
	uint64_t left = send->size - send->done;
	size_t want = left < POP3_SEND_CHUNK ? (size_t)left : POP3_SEND_CHUNK;
	ssize_t n;

	buf_reset(&send->in);
	buf_reserve(&send->in, want);
	while (send->in.len < want) {
		n = pread(send->fd, send->in.data + send->in.len,
			  want - send->in.len,
			  (off_t)(send->offset + send->done + send->in.len));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				log_warnx("pop3(%u): message %u is cut short",
					  conn->id, send->index + 1);
			else
				log_warn("pop3(%u): pread", conn->id);
			return -1;
		}
		send->in.len += (size_t)n;
	}
	return 0;
}

static void
send_run(void *context)
{
	struct pop3_conn *conn = context;
	struct pop3_send *send = &conn->send;
	bool whole = false;

	store_clear_error();
	if (!send->started && send->fd == -1) {
		if (send_open(conn) < 0)
			return;
		if (send->use_file)
			return;
		whole = send->fd == -1;
	}
	if (!whole && send_read(conn) < 0) {
		if (!send->started)
			send->error = i_strdup("-ERR [SYS/TEMP] Reading the "
					       "message failed.");
		else
			send->fatal = true;
		send->finished = true;
		return;
	}
	(void)pop3_stuff_feed(&send->stuff, send->in.data, send->in.len,
			      &send->out);
	send->done += send->in.len;
	if (send->stuff.done || send->done >= send->size) {
		pop3_stuff_finish(&send->stuff, &send->out);
		send->finished = true;
	}
}

static void
send_done(void *context)
{
	struct pop3_conn *conn = context;
	struct pop3_send *send = &conn->send;

	conn->jobs--;
	if ((send->finished || send->error != NULL) && send->fd != -1) {
		close(send->fd);
		send->fd = -1;
	}
	if (send->finished || send->error != NULL)
		buf_deinit(&send->in);
	if (!conn->closing) {
		pop3_command_send_done(conn);
	} else {
		conn->sending = false;
		i_free(send->error);
		buf_reset(&send->out);
	}
	pop3_conn_job_finished(conn);
}

void
pop3_mail_send_chunk(struct pop3_conn *conn)
{
	conn->jobs++;
	worker_pool_submit(conn->server->pool, send_run, send_done, conn);
}

/* ---- UPDATE and the end of a session ---- */

/* UIDs whose state has all bits of want and none of refuse. */
static void
collect_uids(struct pop3_conn *conn, uint32_t want, uint32_t refuse,
	     struct uid_array *uids)
{
	unsigned int i;

	for (i = 0; i < conn->msg_count; i++) {
		if ((conn->msgs[i].state & want) == want &&
		    (conn->msgs[i].state & refuse) == 0)
			uid_array_add(uids, conn->msgs[i].uid);
	}
}

/* RETR's \Seen, in one store call. Returns 0 or -1. */
static int
apply_seen(struct pop3_conn *conn)
{
	struct uid_array uids = { NULL, 0, 0 };
	int ret = 0;

	collect_uids(conn, POP3_MSG_RETRIEVED, POP3_MSG_DELETED, &uids);
	if (uids.count > 0)
		ret = store_mailbox_update_flags(conn->box, uids.uids,
						 uids.count, STORE_FLAGS_ADD,
						 STORE_FLAG_SEEN, NULL, 0,
						 NULL);
	uid_array_free(&uids);
	return ret;
}

struct update_job {
	struct pop3_conn *conn;
	char *error;
	unsigned int expunged;
};

/* RFC 1939 §6: remove the messages marked as deleted. Exactly those
   UIDs: \Deleted on them, then an expunge limited to them. */
static void
update_run(void *context)
{
	struct update_job *job = context;
	struct pop3_conn *conn = job->conn;
	struct uid_array uids = { NULL, 0, 0 }, gone = { NULL, 0, 0 };

	store_clear_error();
	collect_uids(conn, POP3_MSG_DELETED, 0, &uids);
	if (uids.count > 0 &&
	    (store_mailbox_update_flags(conn->box, uids.uids, uids.count,
					STORE_FLAGS_ADD, STORE_FLAG_DELETED,
					NULL, 0, NULL) < 0 ||
	     store_mailbox_expunge(conn->box, uids.uids, uids.count,
				   &gone) < 0)) {
		char *reply = pop3_mail_error_reply("Removing messages");

		/* RFC 1939 §6 wording, with the RFC 3206 code kept. */
		job->error = i_strdup_printf("%.*s Some deleted messages "
			"were not removed.", (int)strcspn(reply, "]") + 1,
			reply);
		free(reply);
	}
	job->expunged = gone.count;
	uid_array_free(&uids);
	uid_array_free(&gone);
	if (apply_seen(conn) < 0) {
		const char *text;

		(void)store_error(&text);
		log_warnx("pop3(%u): setting \\Seen failed: %s", conn->id,
			  text);
	}
	conn->updated = true;
}

static void
update_done(void *context)
{
	struct update_job *job = context;
	struct pop3_conn *conn = job->conn;

	conn->jobs--;
	if (job->expunged > 0)
		log_info("pop3(%u): %s: %u messages removed", conn->id,
			 store_account_name(conn->account), job->expunged);
	if (!conn->disconnected)
		pop3_command_update_done(conn, job->error);
	free(job->error);
	free(job);
	pop3_conn_job_finished(conn);
}

void
pop3_mail_update(struct pop3_conn *conn)
{
	struct update_job *job = i_malloc(sizeof(*job));

	job->conn = conn;
	conn->jobs++;
	worker_pool_submit(conn->server->pool, update_run, update_done, job);
}

static void
finalize_run(void *context)
{
	struct pop3_conn *conn = context;
	const char *text;

	store_clear_error();
	if (conn->box != NULL && !conn->updated && apply_seen(conn) < 0) {
		(void)store_error(&text);
		log_warnx("pop3(%u): setting \\Seen failed: %s", conn->id,
			  text);
	}
	store_mailbox_close(&conn->box);
	store_account_close(&conn->account);
}

static void
finalize_done(void *context)
{
	struct pop3_conn *conn = context;

	conn->jobs--;
	conn->finalized = true;
	if (conn->in_use_name != NULL) {
		pop3_server_in_use_release(conn->server, conn->in_use_name);
		i_free(conn->in_use_name);
	}
	pop3_conn_job_finished(conn);
}

void
pop3_mail_finalize(struct pop3_conn *conn)
{
	conn->jobs++;
	worker_pool_submit(conn->server->pool, finalize_run, finalize_done,
			   conn);
}
