/* SPDX-License-Identifier: MIT */
/*
 * pop3-commands.c: the POP3 states and commands: AUTHORIZATION (USER,
 * PASS, AUTH, STLS, APOP refused), TRANSACTION (STAT, LIST, RETR, DELE,
 * NOOP, RSET, TOP, UIDL), CAPA in both, QUIT entering UPDATE. Part of
 * src/pop3; replies go through pop3-conn.c, store work through
 * pop3-mail.c.
 *
 * Choices (docs/architecture.md, "POP3"):
 * - APOP (RFC 1939 §7) needs a clear-text-equivalent shared secret per
 *   account, which the store deliberately does not keep (only a crypt
 *   hash and a SCRAM verifier). The greeting has no timestamp and APOP
 *   is answered "-ERR"; SCRAM-SHA-256 is the challenge-response login
 *   instead.
 * - The snapshot: the message list is fixed at login; messages
 *   delivered later show in the next session, messages another client
 *   expunges meanwhile keep their numbers (reading them may fail).
 * - UIDL is "<UIDVALIDITY>.<UID>": stable across sessions and restarts,
 *   never reused (the store never reuses a UID under one UIDVALIDITY,
 *   and a renamed INBOX gets a new UIDVALIDITY).
 * - RETR marks the message \Seen (as Dovecot does by default), applied
 *   in one store call at the end of the session; TOP does not. RSET
 *   forgets both DELE and RETR marks.
 * - DELE marks; QUIT sets \Deleted on exactly the marked UIDs and
 *   expunges exactly those (UID EXPUNGE semantics: messages another
 *   client flagged \Deleted stay). A session that ends without QUIT
 *   removes nothing.
 */
#include "pop3-private.h"
#include "auth.h"
#include "log.h"
#include "store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define CAPA_IMPLEMENTATION "Commune"
#define ERR_PLAINTEXT "-ERR [AUTH] Plaintext authentication disallowed " \
	"on non-secure (SSL/TLS) connections."
#define ERR_AUTH_FAILED "-ERR [AUTH] Authentication failed."

/* A client mistake: the reply, and one more towards POP3_ERRORS_MAX. */
static void ATTR_FORMAT(2, 3)
bad(struct pop3_conn *conn, const char *fmt, ...)
{
	va_list args;
	char *line;

	va_start(args, fmt);
	line = i_strdup_vprintf(fmt, args);
	va_end(args);
	pop3_conn_reply(conn, "%s", line);
	free(line);
	pop3_conn_error(conn);
}

/* A client-given name made safe for one log line (control bytes become
   '?'); out has POP3_LOG_NAME_MAX bytes. */
static const char *
log_name(const char *name, char *out)
{
	size_t i;

	if (name == NULL)
		return "?";
	for (i = 0; name[i] != '\0' && i + 1 < POP3_LOG_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

/* ---- CAPA (RFC 2449 §5, §6) ---- */

static void
cmd_capa(struct pop3_conn *conn)
{
	buf_t mechs = BUF_INIT;
	bool plaintext = pop3_conn_plaintext_ok(conn);

	pop3_conn_reply(conn, "+OK Capability list follows");
	pop3_conn_reply(conn, "CAPA");
	pop3_conn_reply(conn, "TOP");
	pop3_conn_reply(conn, "UIDL");
	pop3_conn_reply(conn, "RESP-CODES");
	pop3_conn_reply(conn, "AUTH-RESP-CODE");
	pop3_conn_reply(conn, "PIPELINING");
	/* Nothing is ever removed by server policy. */
	pop3_conn_reply(conn, "EXPIRE NEVER");
	/* §5: what AUTHORIZATION offers is announced in both states
	   (USER and AUTH only as far as this connection allows them). */
	if (plaintext)
		pop3_conn_reply(conn, "USER");
	auth_mechs_append(&mechs, plaintext);
	pop3_conn_reply(conn, "SASL %s", buf_cstr(&mechs));
	buf_deinit(&mechs);
	/* RFC 2595 §4: STLS only before login and before TLS. */
	if (conn->state == POP3_STATE_AUTHORIZATION && !conn->tls &&
	    conn->server->set.tls != NULL)
		pop3_conn_reply(conn, "STLS");
	pop3_conn_reply(conn, "IMPLEMENTATION %s", CAPA_IMPLEMENTATION);
	pop3_conn_reply(conn, ".");
}

/* ---- AUTHORIZATION ---- */

static void
cmd_user(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	if (!pop3_conn_plaintext_ok(conn)) {
		bad(conn, ERR_PLAINTEXT);
		return;
	}
	if (strlen(cmd->rest) > AUTH_USER_MAX) {
		bad(conn, "-ERR User name too long.");
		return;
	}
	if (strpbrk(cmd->rest, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
		    "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
		    "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f") != NULL) {
		bad(conn, "-ERR Invalid user name.");
		return;
	}
	/* RFC 1939 §7: whether the user exists is told only after PASS. */
	free(conn->user);
	conn->user = i_strdup(cmd->rest);
	pop3_conn_reply(conn, "+OK");
}

static void
cmd_pass(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	if (!pop3_conn_plaintext_ok(conn)) {
		bad(conn, ERR_PLAINTEXT);
		return;
	}
	if (conn->user == NULL) {
		bad(conn, "-ERR No username given.");
		return;
	}
	conn->waiting = true;
	pop3_mail_login(conn, cmd->rest);
}

static void
auth_list_mechs(struct pop3_conn *conn)
{
	buf_t mechs = BUF_INIT;
	char *p, *next;

	/* Not in RFC 5034, but what old clients send to probe. */
	auth_mechs_append(&mechs, pop3_conn_plaintext_ok(conn));
	pop3_conn_reply(conn, "+OK");
	for (p = (char *)buf_cstr(&mechs); p != NULL; p = next) {
		next = strchr(p, ' ');
		if (next != NULL)
			*next++ = '\0';
		pop3_conn_reply(conn, "%s", p);
	}
	pop3_conn_reply(conn, ".");
	buf_deinit(&mechs);
}

/* RFC 5034 §4: AUTH mechanism [initial-response]. */
static void
cmd_auth(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	enum auth_mech mech;
	const char *ir;

	if (cmd->arg_count == 0) {
		auth_list_mechs(conn);
		return;
	}
	if (auth_mech_parse(cmd->args[0], &mech) < 0) {
		bad(conn, "-ERR Unsupported authentication mechanism.");
		return;
	}
	if (auth_mech_is_plaintext(mech) && !pop3_conn_plaintext_ok(conn)) {
		bad(conn, ERR_PLAINTEXT);
		return;
	}
	conn->auth = auth_request_create(conn->server->store, mech);
	conn->waiting = true;
	if (cmd->arg_count < 2) {
		pop3_mail_sasl_step(conn, NULL, 0, false);
		return;
	}
	ir = cmd->args[1];
	/* "=": an empty initial response. */
	if (strcmp(ir, "=") == 0)
		pop3_mail_sasl_step(conn, "", 0, false);
	else
		pop3_mail_sasl_step(conn, ir, strlen(ir), true);
}

void
pop3_command_sasl_response(struct pop3_conn *conn, const char *line,
			   size_t len)
{
	conn->input = POP3_INPUT_COMMAND;
	if (line == NULL || (len == 1 && line[0] == '*')) {
		auth_request_destroy(&conn->auth);
		if (line == NULL)
			bad(conn, "-ERR Response too long.");
		else
			pop3_conn_reply(conn, "-ERR Authentication "
					"cancelled.");
		return;
	}
	conn->waiting = true;
	pop3_mail_sasl_step(conn, line, len, true);
}

/* Logged in as account: take the mailbox, then open INBOX. */
static void
login_succeeded(struct pop3_conn *conn, struct account *account)
{
	const char *name = store_account_name(account);

	free(conn->user);
	conn->user = NULL;
	if (!pop3_server_in_use_take(conn->server, name)) {
		log_info("pop3(%u): %s: mailbox in use by another POP3 "
			 "session", conn->id, name);
		store_account_close(&account);
		conn->waiting = false;
		pop3_conn_reply(conn, "-ERR [IN-USE] Mailbox is locked by "
				"another POP3 session.");
		return;
	}
	conn->in_use_name = i_strdup(name);
	conn->account = account;
	pop3_mail_open(conn);
}

void
pop3_command_login_done(struct pop3_conn *conn, int result,
			struct account *account)
{
	char name[POP3_LOG_NAME_MAX];

	switch ((enum auth_result)result) {
	case AUTH_RESULT_OK:
		login_succeeded(conn, account);
		return;
	case AUTH_RESULT_TEMPFAIL:
		conn->waiting = false;
		pop3_conn_reply(conn, "-ERR [SYS/TEMP] Temporary login "
				"failure, try again later.");
		break;
	default:
		log_info("pop3(%u): %s: login failed for %s", conn->id,
			 conn->peer, log_name(conn->user, name));
		pop3_conn_login_failed(conn, ERR_AUTH_FAILED);
		break;
	}
	i_free(conn->user);
}

void
pop3_command_sasl_done(struct pop3_conn *conn, int result,
		       const buf_t *challenge)
{
	struct account *account;
	const char *user = auth_request_user(conn->auth);
	char name[POP3_LOG_NAME_MAX];

	switch ((enum auth_result)result) {
	case AUTH_RESULT_CONTINUE:
		conn->waiting = false;
		conn->input = POP3_INPUT_SASL;
		pop3_conn_reply(conn, "+ %s", challenge->len == 0 ? "" :
				(const char *)challenge->data);
		return;
	case AUTH_RESULT_OK:
		account = auth_request_take_account(conn->auth);
		auth_request_destroy(&conn->auth);
		login_succeeded(conn, account);
		return;
	case AUTH_RESULT_TEMPFAIL:
		conn->waiting = false;
		pop3_conn_reply(conn, "-ERR [SYS/TEMP] Temporary login "
				"failure, try again later.");
		break;
	case AUTH_RESULT_MALFORMED:
	case AUTH_RESULT_FAIL:
		log_info("pop3(%u): %s: AUTH %s failed for %s: %s", conn->id,
			 conn->peer,
			 auth_mech_name(auth_request_mech(conn->auth)),
			 log_name(user, name),
			 auth_request_reason(conn->auth));
		pop3_conn_login_failed(conn, result == AUTH_RESULT_FAIL ?
				       ERR_AUTH_FAILED :
				       "-ERR [AUTH] Invalid SASL response.");
		break;
	}
	auth_request_destroy(&conn->auth);
}

void
pop3_command_open_done(struct pop3_conn *conn, const char *error)
{
	conn->waiting = false;
	if (error != NULL) {
		pop3_conn_reply(conn, "%s", error);
		pop3_server_in_use_release(conn->server, conn->in_use_name);
		i_free(conn->in_use_name);
		store_account_close(&conn->account);
		return;
	}
	conn->state = POP3_STATE_TRANSACTION;
	log_info("pop3(%u): %s logged in from %s%s (%u messages)", conn->id,
		 conn->in_use_name, conn->peer, conn->tls ? " over TLS" : "",
		 conn->msg_count);
	pop3_conn_reply(conn, "+OK Logged in.");
}

static void
cmd_stls(struct pop3_conn *conn)
{
	if (conn->tls) {
		bad(conn, "-ERR TLS is already active.");
		return;
	}
	if (conn->server->set.tls == NULL) {
		bad(conn, "-ERR STLS is not available (no certificate).");
		return;
	}
	/* RFC 2595 §4: a USER given before is forgotten. */
	i_free(conn->user);
	pop3_conn_reply(conn, "+OK Begin TLS negotiation now.");
	pop3_conn_starttls(conn);
}

static void
cmd_quit(struct pop3_conn *conn)
{
	if (conn->state == POP3_STATE_TRANSACTION) {
		/* RFC 1939 §6: the UPDATE state. */
		conn->state = POP3_STATE_UPDATE;
		conn->waiting = true;
		pop3_mail_update(conn);
		return;
	}
	pop3_conn_reply(conn, "+OK Logging out.");
	pop3_conn_close(conn);
}

void
pop3_command_update_done(struct pop3_conn *conn, const char *error)
{
	conn->waiting = false;
	/* The session is done with the mailbox: free it for the client's
	   next session before it can even see the reply (closing the
	   handles in the end-of-session job takes a moment more). */
	pop3_server_in_use_release(conn->server, conn->in_use_name);
	i_free(conn->in_use_name);
	if (error != NULL)
		pop3_conn_reply(conn, "%s", error);
	else if (conn->deleted_count > 0)
		pop3_conn_reply(conn, "+OK Logging out, messages deleted.");
	else
		pop3_conn_reply(conn, "+OK Logging out.");
	pop3_conn_close(conn);
}

/* ---- TRANSACTION ---- */

/* The message numbered n (1-based), or NULL after the -ERR reply. */
static struct pop3_msg *
msg_get(struct pop3_conn *conn, uint32_t n)
{
	struct pop3_msg *msg;

	if (n == 0 || n > conn->msg_count) {
		bad(conn, "-ERR There's no message %u.", n);
		return NULL;
	}
	msg = &conn->msgs[n - 1];
	if ((msg->state & POP3_MSG_DELETED) != 0) {
		pop3_conn_reply(conn, "-ERR Message %u is deleted.", n);
		return NULL;
	}
	return msg;
}

static void
cmd_stat(struct pop3_conn *conn)
{
	pop3_conn_reply(conn, "+OK %u %llu",
			conn->msg_count - conn->deleted_count,
			(unsigned long long)(conn->total_bytes -
					     conn->deleted_bytes));
}

static void
listing_line(struct pop3_conn *conn, enum pop3_verb verb, unsigned int i,
	     bool single)
{
	const struct pop3_msg *msg = &conn->msgs[i];

	if (verb == POP3_VERB_LIST) {
		pop3_conn_reply(conn, "%s%u %llu", single ? "+OK " : "", i + 1,
				(unsigned long long)msg->size);
	} else {
		pop3_conn_reply(conn, "%s%u %u.%u", single ? "+OK " : "",
				i + 1, conn->uidvalidity, msg->uid);
	}
}

bool
pop3_command_listing_continue(struct pop3_conn *conn)
{
	struct pop3_listing *l = &conn->listing;
	unsigned int end = l->next + POP3_LISTING_BATCH;

	if (end > conn->msg_count)
		end = conn->msg_count;
	for (; l->next < end; l->next++) {
		if ((conn->msgs[l->next].state & POP3_MSG_DELETED) == 0)
			listing_line(conn, l->verb, l->next, false);
	}
	if (l->next < conn->msg_count)
		return true;
	pop3_conn_reply(conn, ".");
	return false;
}

/* LIST and UIDL (RFC 1939 §5, §7). */
static void
cmd_listing(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	if (cmd->arg_count == 1) {
		if (msg_get(conn, cmd->num[0]) != NULL)
			listing_line(conn, cmd->verb, cmd->num[0] - 1, true);
		return;
	}
	if (cmd->verb == POP3_VERB_LIST) {
		pop3_conn_reply(conn, "+OK %u messages (%llu octets)",
				conn->msg_count - conn->deleted_count,
				(unsigned long long)(conn->total_bytes -
						     conn->deleted_bytes));
	} else {
		pop3_conn_reply(conn, "+OK");
	}
	conn->listing.verb = cmd->verb;
	conn->listing.next = 0;
	conn->listing.active = true;
}

static void
cmd_dele(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	struct pop3_msg *msg = msg_get(conn, cmd->num[0]);

	if (msg == NULL)
		return;
	msg->state |= POP3_MSG_DELETED;
	conn->deleted_count++;
	conn->deleted_bytes += msg->size;
	pop3_conn_reply(conn, "+OK Marked to be deleted.");
}

static void
cmd_rset(struct pop3_conn *conn)
{
	unsigned int i;

	for (i = 0; i < conn->msg_count; i++)
		conn->msgs[i].state &= ~(POP3_MSG_DELETED |
					  POP3_MSG_RETRIEVED);
	conn->deleted_count = 0;
	conn->deleted_bytes = 0;
	pop3_conn_reply(conn, "+OK %u messages (%llu octets).",
			conn->msg_count, (unsigned long long)conn->total_bytes);
}

/* RETR n, TOP n lines: streams the message in worker-job chunks. */
static void
send_start(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	struct pop3_msg *msg = msg_get(conn, cmd->num[0]);
	struct pop3_send *send = &conn->send;

	if (msg == NULL)
		return;
	i_assert(send->fd == -1 && !conn->sending);
	buf_reset(&send->out);
	send->index = cmd->num[0] - 1;
	send->top = cmd->verb == POP3_VERB_TOP;
	if (send->top)
		pop3_stuff_init_top(&send->stuff, cmd->num[1]);
	else
		pop3_stuff_init(&send->stuff);
	send->offset = send->size = send->done = 0;
	send->started = send->finished = send->fatal = false;
	/* Known clean and nothing to encrypt: sendfile the stored bytes
	   (below POP3_SENDFILE_MIN a copy costs less than the descriptor). */
	send->use_file = !send->top && !conn->tls &&
		msg->size >= POP3_SENDFILE_MIN &&
		((msg->state & POP3_MSG_CLEAN) != 0 ||
		 pop3_server_clean_lookup(conn->server,
					  store_account_name(conn->account),
					  conn->uidvalidity, msg->uid,
					  msg->size));
	conn->sending = true;
	conn->waiting = true;
	pop3_mail_send_chunk(conn);
}

static void
free_cb(const void *data, size_t len, void *context)
{
	free(context);
}

/* Hands the job's converted chunk to the output without copying it. */
static void
send_output_chunk(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;
	unsigned char *data;
	size_t len;

	if (send->out.len == 0 || conn->bev == NULL)
		return;
	data = buf_steal(&send->out, &len);
	if (evbuffer_add_reference(bufferevent_get_output(conn->bev), data,
				   len, free_cb, data) < 0) {
		free(data);
		send->fatal = true;
	}
}

/* The plaintext fast path: the stored bytes as they are. */
static void
send_output_file(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (evbuffer_add_file(out, send->fd, (ev_off_t)send->offset,
			      (ev_off_t)send->size) < 0) {
		log_warnx("pop3(%u): evbuffer_add_file failed", conn->id);
		send->fatal = true;
		return;
	}
	/* The evbuffer owns the descriptor now. */
	send->fd = -1;
	evbuffer_add(out, ".\r\n", 3);
}

static void
send_finished(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;
	struct pop3_msg *msg = &conn->msgs[send->index];

	conn->sending = false;
	conn->waiting = false;
	if (!send->top)
		msg->state |= POP3_MSG_RETRIEVED;
	if (!send->use_file && pop3_stuff_clean(&send->stuff) &&
	    (msg->state & POP3_MSG_CLEAN) == 0) {
		msg->state |= POP3_MSG_CLEAN;
		pop3_server_clean_add(conn->server,
				      store_account_name(conn->account),
				      conn->uidvalidity, msg->uid, msg->size);
	}
}

void
pop3_command_send_done(struct pop3_conn *conn)
{
	struct pop3_send *send = &conn->send;

	if (send->error != NULL) {
		/* Nothing sent yet: an ordinary -ERR. */
		conn->sending = false;
		conn->waiting = false;
		pop3_conn_reply(conn, "%s", send->error);
		i_free(send->error);
		return;
	}
	if (!send->started) {
		send->started = true;
		if (send->top)
			pop3_conn_reply(conn, "+OK");
		else
			pop3_conn_reply(conn, "+OK %llu octets",
				(unsigned long long)conn->msgs[send->index].size);
	}
	if (send->use_file)
		send_output_file(conn);
	else
		send_output_chunk(conn);
	if (send->fatal) {
		/* The "+OK" is out: the only way to tell is to hang up. */
		conn->sending = false;
		pop3_conn_close(conn);
		return;
	}
	if (send->use_file || send->finished) {
		send_finished(conn);
	} else if (pop3_conn_output_len(conn) < POP3_OUTPUT_MAX) {
		pop3_mail_send_chunk(conn);
	} else {
		/* conn_write_cb asks for the next chunk. */
		conn->send_wait_output = true;
	}
}

/* ---- dispatch ---- */

static void
run_authorization(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	switch (cmd->verb) {
	case POP3_VERB_USER:
		cmd_user(conn, cmd);
		break;
	case POP3_VERB_PASS:
		cmd_pass(conn, cmd);
		break;
	case POP3_VERB_AUTH:
		cmd_auth(conn, cmd);
		break;
	case POP3_VERB_APOP:
		bad(conn, "-ERR APOP is not supported: no shared secret is "
		    "stored. Use AUTH SCRAM-SHA-256, or USER/PASS over TLS.");
		break;
	case POP3_VERB_STLS:
		cmd_stls(conn);
		break;
	default:
		bad(conn, "-ERR Not logged in: use USER/PASS or AUTH first.");
		break;
	}
}

static void
run_transaction(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	switch (cmd->verb) {
	case POP3_VERB_STAT:
		cmd_stat(conn);
		break;
	case POP3_VERB_LIST:
	case POP3_VERB_UIDL:
		cmd_listing(conn, cmd);
		break;
	case POP3_VERB_RETR:
	case POP3_VERB_TOP:
		send_start(conn, cmd);
		break;
	case POP3_VERB_DELE:
		cmd_dele(conn, cmd);
		break;
	case POP3_VERB_NOOP:
		pop3_conn_reply(conn, "+OK");
		break;
	case POP3_VERB_RSET:
		cmd_rset(conn);
		break;
	default:
		bad(conn, "-ERR Already logged in.");
		break;
	}
}

void
pop3_command_run(struct pop3_conn *conn, const struct pop3_command *cmd)
{
	switch (cmd->verb) {
	case POP3_VERB_INVALID:
		bad(conn, "%s", cmd->error);
		return;
	case POP3_VERB_CAPA:
		cmd_capa(conn);
		return;
	case POP3_VERB_QUIT:
		cmd_quit(conn);
		return;
	default:
		break;
	}
	if (conn->state == POP3_STATE_AUTHORIZATION)
		run_authorization(conn, cmd);
	else
		run_transaction(conn, cmd);
}
