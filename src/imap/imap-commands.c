/* SPDX-License-Identifier: MIT */
/*
 * imap-commands.c: the command table (which command runs in which
 * state) and the commands of any state and of the not-authenticated
 * state: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161),
 * NAMESPACE (RFC 2342), STARTTLS, LOGIN, AUTHENTICATE (RFC 3501 §6.2.2
 * with SASL-IR, RFC 4959), and IDLE (RFC 2177). Part of src/imap.
 *
 * Logins: passwords are checked on a worker (auth.h); a failure is
 * answered only after AUTH_FAILURE_DELAY_MSECS, and the third failure
 * closes the session. Before TLS, LOGIN and the plaintext SASL
 * mechanisms are refused (LOGINDISABLED, RFC 3501 §6.2.3) unless the
 * server allows plaintext logins.
 */
#include "imap-private.h"
#include "auth.h"
#include "base64.h"
#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR_PLAINTEXT "NO [PRIVACYREQUIRED] Plaintext authentication " \
	"disallowed on non-secure (SSL/TLS) connections."
#define ERR_AUTH_FAILED "NO [AUTHENTICATIONFAILED] Authentication failed."

/* A user name as the client sent it, made safe for one log line:
   control bytes become '?', at most 64 bytes (a literal may hold CR/LF).
   Static storage: one use per log call. */
static const char *
log_name(const char *name)
{
	static char out[65];
	size_t i;

	if (name == NULL)
		return "?";
	for (i = 0; i < sizeof(out) - 1 && name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

/* ---- CAPABILITY ---- */

void
imap_capability_append(struct imap_conn *conn, buf_t *out)
{
	/* RFC 9051 §7.2.2: both revisions; IMAP4rev2 takes effect
	   after ENABLE IMAP4rev2. LITERAL- is part of IMAP4rev2; LITERAL+
	   (RFC 7888 §4) lifts its 4096-byte limit for everyone. */
	buf_printf(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ LITERAL- "
		   "ID ENABLE IDLE "
		   "NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE MULTIAPPEND "
		   "BINARY STATUS=SIZE LIST-EXTENDED LIST-STATUS ESEARCH SEARCHRES "
		   "CONDSTORE QRESYNC OBJECTID SAVEDATE COMPRESS=DEFLATE NOTIFY "
		   "QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE "
		   "UTF8=ACCEPT UNAUTHENTICATE PREVIEW REPLACE "
		   "APPENDLIMIT=%u",
		   IMAP_LITERAL_MAX_DEFAULT);
	/* RFC 6154, RFC 5464 */
	buf_append_str(out, " SPECIAL-USE CREATE-SPECIAL-USE METADATA "
		       "METADATA-SERVER");
	/* RFC 5256, RFC 5267 §3, RFC 5957 */
	buf_append_str(out, " SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT "
		       "THREAD=REFERENCES");
	/* RFC 4314 §5.1.1: the rights beyond RFC 2086's (cmd-acl.c) */
	buf_append_str(out, " ACL RIGHTS=texk");
	if (conn->state != IMAP_STATE_NOT_AUTHENTICATED)
		return;
	if (!conn->tls && conn->server->set.tls != NULL && conn->zs == NULL)
		buf_append_str(out, " STARTTLS");
	if (!imap_conn_plaintext_ok(conn))
		buf_append_str(out, " LOGINDISABLED");
	/* AUTH=SCRAM-SHA-256 always; PLAIN/LOGIN where allowed. */
	{
		buf_t mechs = BUF_INIT;
		const char *p, *sp;

		auth_mechs_append(&mechs, imap_conn_plaintext_ok(conn));
		for (p = buf_cstr(&mechs); *p != '\0'; p = sp) {
			sp = strchr(p, ' ');
			if (sp == NULL)
				sp = p + strlen(p);
			buf_printf(out, " AUTH=%.*s", (int)(sp - p), p);
			while (*sp == ' ')
				sp++;
		}
		buf_deinit(&mechs);
	}
}

static void
cmd_capability(struct imap_conn *conn)
{
	buf_t caps = BUF_INIT;

	imap_capability_append(conn, &caps);
	imap_conn_reply(conn, "* CAPABILITY %s", buf_cstr(&caps));
	buf_deinit(&caps);
	imap_conn_tagged(conn, "OK Capability completed.");
}

/* ---- NOOP, CHECK, LOGOUT ---- */

static void
noop_run(struct imap_conn *conn)
{
	imap_job_tagged(conn, "OK %s completed.", conn->cmd.name);
}

static void
cmd_noop(struct imap_conn *conn)
{
	if (conn->box == NULL) {
		imap_conn_tagged(conn, "OK NOOP completed.");
		return;
	}
	/* RFC 3501 §6.1.2: NOOP is how a client polls for changes. */
	imap_conn_job(conn, noop_run, NULL, IMAP_SYNC_FULL);
}

static void
cmd_logout(struct imap_conn *conn)
{
	imap_conn_reply(conn, "* BYE Logging out.");
	imap_conn_tagged(conn, "OK Logout completed.");
	conn->state = IMAP_STATE_LOGOUT;
	imap_conn_close(conn);
}

/* ---- ID, ENABLE, NAMESPACE ---- */

static void
cmd_id(struct imap_conn *conn)
{
	/* RFC 2971 §3.3: the client's list (or NIL) is only logged. */
	if (conn->cmd.arg_count != 1 ||
	    (conn->cmd.args[0].type != IMAP_ARG_LIST &&
	     !imap_arg_is_nil(&conn->cmd.args[0]))) {
		imap_conn_bad(conn, "ID needs one list or NIL.");
		return;
	}
	imap_conn_reply(conn, "* ID (\"name\" \"Commune\")");
	imap_conn_tagged(conn, "OK ID completed.");
}

static void
cmd_enable(struct imap_conn *conn)
{
	buf_t enabled = BUF_INIT;
	const char *name;
	unsigned int i;

	if (conn->cmd.arg_count == 0) {
		imap_conn_bad(conn, "ENABLE needs capability names.");
		return;
	}
	for (i = 0; i < conn->cmd.arg_count; i++) {
		if (!imap_arg_get_atom(&conn->cmd.args[i], &name)) {
			imap_conn_bad(conn, "Invalid capability name.");
			buf_deinit(&enabled);
			return;
		}
		/* RFC 5161 §3.1: unknown names are ignored; each name
		   is listed once, the first time it is enabled. */
		if (strcasecmp(name, "CONDSTORE") == 0 &&
		    (conn->enabled & IMAP_ENABLED_CONDSTORE) == 0) {
			/* RFC 7162 §3.1: MODSEQ in every FETCH */
			conn->enabled |= IMAP_ENABLED_CONDSTORE;
			buf_append_str(&enabled, " CONDSTORE");
		}
		if (strcasecmp(name, "QRESYNC") == 0 &&
		    (conn->enabled & IMAP_ENABLED_QRESYNC) == 0) {
			/* RFC 7162 §3.2.3: implies CONDSTORE; VANISHED
			   replaces EXPUNGE from now on */
			conn->enabled |= IMAP_ENABLED_QRESYNC |
				IMAP_ENABLED_CONDSTORE;
			buf_append_str(&enabled, " QRESYNC");
		}
		if (strcasecmp(name, "IMAP4rev2") == 0 &&
		    (conn->enabled & IMAP_ENABLED_IMAP4REV2) == 0) {
			/* RFC 9051 Appendix E: no RECENT, ESEARCH for
			   SEARCH, LIST in SELECT, OLDNAME on RENAME; and
			   UTF-8 mailbox names and strings (§5.1, §4.3:
			   IMAP4rev2 holds UTF8=ACCEPT) */
			conn->enabled |= IMAP_ENABLED_IMAP4REV2 |
				IMAP_ENABLED_UTF8;
			buf_append_str(&enabled, " IMAP4rev2");
		}
		if (strcasecmp(name, "UTF8=ACCEPT") == 0 &&
		    (conn->enabled & IMAP_ENABLED_UTF8) == 0) {
			/* RFC 6855 §3: mailbox names and strings in
			   UTF-8 from now on */
			conn->enabled |= IMAP_ENABLED_UTF8;
			buf_append_str(&enabled, " UTF8=ACCEPT");
		}
	}
	imap_conn_reply(conn, "* ENABLED%s", buf_cstr(&enabled));
	buf_deinit(&enabled);
	imap_conn_tagged(conn, "OK ENABLE completed.");
}

static void
cmd_namespace(struct imap_conn *conn)
{
	/* The personal namespace, no prefix; other users' mailboxes
	   under "~" (cmd-acl.c); separator "/" (RFC 2342 §5). */
	imap_conn_reply(conn, "* NAMESPACE ((\"\" \"/\")) "
			"((\"~\" \"/\")) NIL");
	imap_conn_tagged(conn, "OK NAMESPACE completed.");
}

/* ---- STARTTLS ---- */

static void
cmd_starttls(struct imap_conn *conn)
{
	if (conn->tls) {
		imap_conn_bad(conn, "TLS is already active.");
		return;
	}
	if (conn->zs != NULL) {
		/* after UNAUTHENTICATE: TLS would go under the deflate
		   stream, which RFC 4978 §3 does not allow */
		imap_conn_bad(conn, "STARTTLS is not possible after "
			      "COMPRESS.");
		return;
	}
	if (conn->server->set.tls == NULL) {
		imap_conn_tagged(conn, "NO STARTTLS is not available.");
		return;
	}
	imap_conn_tagged(conn, "OK Begin TLS negotiation now.");
	imap_conn_starttls(conn);
}

/* ---- COMPRESS (RFC 4978) ---- */

static void
cmd_compress(struct imap_conn *conn)
{
	const char *mech;

	if (conn->cmd.arg_count != 1 ||
	    !imap_arg_get_atom(&conn->cmd.args[0], &mech)) {
		imap_conn_bad(conn, "COMPRESS needs a mechanism.");
		return;
	}
	if (strcasecmp(mech, "DEFLATE") != 0) {
		imap_conn_tagged(conn, "NO Unknown compression mechanism.");
		return;
	}
	/* §3: one COMPRESS per session (TLS never compresses here). */
	if (conn->zs != NULL) {
		imap_conn_tagged(conn, "NO [COMPRESSIONACTIVE] DEFLATE is "
				 "already active.");
		return;
	}
	/* §3: the client waits for the result before it sends more; what
	   came after the command cannot be told compressed or not. */
	if (imap_parser_buffered(conn->parser) > 0) {
		imap_conn_bad(conn, "Wait for the result of COMPRESS.");
		return;
	}
	imap_conn_tagged(conn, "OK DEFLATE active.");
	imap_conn_compress_start(conn);
}

/* ---- LOGIN ---- */

static void
logged_in(struct imap_conn *conn, struct account *account)
{
	buf_t caps = BUF_INIT;

	conn->account = account;
	conn->state = IMAP_STATE_AUTHENTICATED;
	free(conn->user);
	conn->user = i_strdup(store_account_name(account));
	log_info("imap(%u): %s: logged in as %s", conn->id, conn->peer,
		 conn->user);
	imap_capability_append(conn, &caps);
	imap_conn_tagged(conn, "OK [CAPABILITY %s] Logged in.",
			 buf_cstr(&caps));
	buf_deinit(&caps);
}

static void
login_run(struct imap_conn *conn)
{
	const char *user = conn->cmd.args[0].str;
	const char *password = conn->cmd.args[1].str;

	conn->job_result = auth_password_verify(conn->server->store, user,
						password, &conn->job_account);
}

static void
login_done(struct imap_conn *conn)
{
	struct account *account = conn->job_account;

	conn->job_account = NULL;
	switch ((enum auth_result)conn->job_result) {
	case AUTH_RESULT_OK:
		logged_in(conn, account);
		return;
	case AUTH_RESULT_TEMPFAIL:
		imap_conn_tagged(conn, "NO [UNAVAILABLE] Temporary login "
				 "failure, try again later.");
		return;
	default:
		log_info("imap(%u): %s: login failed for %s", conn->id,
			 conn->peer, log_name(conn->cmd.args[0].str));
		imap_conn_login_failed(conn, ERR_AUTH_FAILED);
		return;
	}
}

static void
cmd_login(struct imap_conn *conn)
{
	const char *user, *password;

	if (conn->cmd.arg_count != 2 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &user) ||
	    !imap_arg_get_astring(&conn->cmd.args[1], &password)) {
		imap_conn_bad(conn, "LOGIN needs a user name and a password.");
		return;
	}
	if (!imap_conn_plaintext_ok(conn)) {
		imap_conn_tagged(conn, "%s", ERR_PLAINTEXT);
		return;
	}
	imap_conn_job(conn, login_run, login_done, IMAP_SYNC_NONE);
}

/* ---- UNAUTHENTICATE ---- */

/* RFC 8437 §3: the mailbox and the account are let go and the session
   is as new, but for TLS; ENABLEd extensions end with the login. */
static void
unauthenticate_run(struct imap_conn *conn)
{
	store_mailbox_close(&conn->box);
	store_account_close(&conn->box_account);
	conn->box_rights = 0;
	i_free(conn->uids);
	conn->uid_count = 0;
	uid_array_free(&conn->searchres);
	conn->keywords_sent = 0;
	conn->readonly = false;
	store_account_close(&conn->account);
	conn->enabled = 0;
	conn->state = IMAP_STATE_NOT_AUTHENTICATED;
	imap_job_tagged(conn, "OK UNAUTHENTICATE completed.");
}

static void
unauthenticate_done(struct imap_conn *conn)
{
	/* NOTIFY watches belong to the user who set them */
	imap_notify_deinit(conn);
	log_info("imap(%u): %s: %s logged out (UNAUTHENTICATE)", conn->id,
		 conn->peer, conn->user);
	i_free(conn->user);
}

static void
cmd_unauthenticate(struct imap_conn *conn)
{
	if (conn->cmd.arg_count != 0) {
		imap_conn_bad(conn, "UNAUTHENTICATE takes no arguments.");
		return;
	}
	imap_conn_job(conn, unauthenticate_run, unauthenticate_done,
		      IMAP_SYNC_NONE);
}

/* ---- AUTHENTICATE ---- */

/* RFC 3501 §6.2.2: every challenge goes out base64-encoded, the first
   one too (LOGIN's "Username:" prompt), as POP3 does (RFC 5034 §4). */
static void
sasl_run(struct imap_conn *conn)
{
	buf_t challenge = BUF_INIT;
	bool encoded = conn->sasl_response != NULL && conn->sasl_base64;

	if (conn->sasl_response == NULL)
		conn->job_result = auth_request_step(conn->auth, NULL, 0,
						     &challenge);
	else if (!conn->sasl_base64)
		conn->job_result = auth_request_step(conn->auth,
			(const unsigned char *)"", 0, &challenge);
	else
		conn->job_result = auth_request_step_base64(conn->auth,
			conn->sasl_response, conn->sasl_response_len,
			&challenge);
	if (conn->job_result == AUTH_RESULT_CONTINUE) {
		buf_append_str(&conn->job_out, "+ ");
		if (encoded)
			buf_append(&conn->job_out, challenge.data,
				   challenge.len);
		else
			base64_encode(&conn->job_out, challenge.data,
				      challenge.len);
		buf_append_str(&conn->job_out, "\r\n");
	}
	buf_deinit(&challenge);
}

static void
sasl_done(struct imap_conn *conn)
{
	struct account *account;
	const char *user = auth_request_user(conn->auth);

	if (conn->sasl_response != NULL) {
		explicit_bzero(conn->sasl_response, conn->sasl_response_len);
		i_free(conn->sasl_response);
	}
	switch ((enum auth_result)conn->job_result) {
	case AUTH_RESULT_CONTINUE:
		conn->input = IMAP_INPUT_SASL;
		return;
	case AUTH_RESULT_OK:
		account = auth_request_take_account(conn->auth);
		auth_request_destroy(&conn->auth);
		logged_in(conn, account);
		return;
	case AUTH_RESULT_TEMPFAIL:
		imap_conn_tagged(conn, "NO [UNAVAILABLE] Temporary login "
				 "failure, try again later.");
		break;
	case AUTH_RESULT_MALFORMED:
	case AUTH_RESULT_FAIL:
		log_info("imap(%u): %s: AUTHENTICATE %s failed for %s: %s",
			 conn->id, conn->peer,
			 auth_mech_name(auth_request_mech(conn->auth)),
			 log_name(user),
			 auth_request_reason(conn->auth));
		imap_conn_login_failed(conn, conn->job_result ==
				       AUTH_RESULT_FAIL ? ERR_AUTH_FAILED :
				       "BAD Invalid SASL response.");
		break;
	}
	auth_request_destroy(&conn->auth);
}

static void
sasl_step(struct imap_conn *conn, const char *response, size_t len,
	  bool base64)
{
	conn->sasl_response = response == NULL ? NULL :
		i_strndup(response, len);
	conn->sasl_response_len = len;
	conn->sasl_base64 = base64;
	imap_conn_job(conn, sasl_run, sasl_done, IMAP_SYNC_NONE);
}

static void
cmd_authenticate(struct imap_conn *conn)
{
	enum auth_mech mech;
	const char *name, *ir;

	if (conn->cmd.arg_count < 1 || conn->cmd.arg_count > 2 ||
	    !imap_arg_get_atom(&conn->cmd.args[0], &name)) {
		imap_conn_bad(conn, "AUTHENTICATE needs a mechanism name.");
		return;
	}
	if (auth_mech_parse(name, &mech) < 0) {
		imap_conn_tagged(conn, "NO Unsupported authentication "
				 "mechanism.");
		return;
	}
	if (auth_mech_is_plaintext(mech) && !imap_conn_plaintext_ok(conn)) {
		imap_conn_tagged(conn, "%s", ERR_PLAINTEXT);
		return;
	}
	conn->auth = auth_request_create(conn->server->store, mech);
	if (conn->cmd.arg_count < 2) {
		sasl_step(conn, NULL, 0, false);
		return;
	}
	/* RFC 4959: "=" is an empty initial response. */
	if (!imap_arg_get_atom(&conn->cmd.args[1], &ir)) {
		auth_request_destroy(&conn->auth);
		imap_conn_bad(conn, "Invalid initial response.");
		return;
	}
	if (strcmp(ir, "=") == 0)
		sasl_step(conn, "", 0, false);
	else
		sasl_step(conn, ir, strlen(ir), true);
}

void
imap_command_sasl_response(struct imap_conn *conn, const char *line,
			   size_t len)
{
	conn->input = IMAP_INPUT_COMMAND;
	if (line == NULL || (len == 1 && line[0] == '*')) {
		auth_request_destroy(&conn->auth);
		if (line == NULL)
			imap_conn_bad(conn, "Response too long.");
		else
			imap_conn_bad(conn, "Authentication cancelled.");
		return;
	}
	sasl_step(conn, line, len, true);
}

/* ---- IDLE ---- */

static void
idle_begin_run(struct imap_conn *conn)
{
	buf_append_str(&conn->job_out, "+ idling\r\n");
}

/* On the loop thread: the session idles from now on (the inotify and
   timer callbacks read conn->input). */
static void
idle_begin_done(struct imap_conn *conn)
{
	conn->input = IMAP_INPUT_IDLE;
}

static void
cmd_idle(struct imap_conn *conn)
{
	if (conn->box == NULL) {
		conn->input = IMAP_INPUT_IDLE;
		imap_conn_reply(conn, "+ idling");
		return;
	}
	/* Changes since the last command first, then watch. */
	imap_conn_job(conn, idle_begin_run, idle_begin_done, IMAP_SYNC_FULL);
}

void
imap_command_idle_line(struct imap_conn *conn, const char *line)
{
	conn->input = IMAP_INPUT_COMMAND;
	imap_conn_idle_stop(conn);
	if (line == NULL || strcasecmp(line, "DONE") != 0) {
		imap_conn_bad(conn, "Expected DONE.");
		return;
	}
	imap_conn_tagged(conn, "OK IDLE terminated.");
}

/* ---- UID ---- */

static void
cmd_uid(struct imap_conn *conn)
{
	const struct imap_arg *args;
	unsigned int count;
	const char *verb;

	if (conn->cmd.arg_count == 0 ||
	    !imap_arg_get_atom(&conn->cmd.args[0], &verb)) {
		imap_conn_bad(conn, "UID needs a command.");
		return;
	}
	args = conn->cmd.args + 1;
	count = conn->cmd.arg_count - 1;
	conn->uid = true;
	if (strcasecmp(verb, "FETCH") == 0)
		cmd_fetch_args(conn, args, count);
	else if (strcasecmp(verb, "STORE") == 0)
		cmd_store_args(conn, args, count);
	else if (strcasecmp(verb, "COPY") == 0)
		cmd_copy_args(conn, args, count, false);
	else if (strcasecmp(verb, "MOVE") == 0)
		cmd_copy_args(conn, args, count, true);
	else if (strcasecmp(verb, "EXPUNGE") == 0)
		cmd_expunge_args(conn, args, count);
	else if (strcasecmp(verb, "SEARCH") == 0)
		cmd_search_args(conn, args, count);
	else if (strcasecmp(verb, "REPLACE") == 0)
		cmd_replace_args(conn, args, count);
	else if (strcasecmp(verb, "SORT") == 0)
		cmd_sort_args(conn, args, count);
	else if (strcasecmp(verb, "THREAD") == 0)
		cmd_thread_args(conn, args, count);
	else
		imap_conn_bad(conn, "Unknown UID command.");
}

/* ---- the table ---- */

/* Which states a command is valid in. */
#define S_ANY 0x07u
#define S_NOAUTH 0x01u
#define S_AUTH 0x06u            /* authenticated or selected */
#define S_AUTH_ONLY 0x02u
#define S_SELECTED 0x04u

struct command_def {
	const char *name;
	unsigned int states;
	void (*run)(struct imap_conn *conn);
};

static const struct command_def commands[] = {
	{ "CAPABILITY", S_ANY, cmd_capability },
	{ "NOOP", S_ANY, cmd_noop },
	{ "LOGOUT", S_ANY, cmd_logout },
	{ "ID", S_ANY, cmd_id },
	{ "STARTTLS", S_NOAUTH, cmd_starttls },
	{ "LOGIN", S_NOAUTH, cmd_login },
	{ "AUTHENTICATE", S_NOAUTH, cmd_authenticate },
	/* RFC 5161 §3.1: before SELECT only */
	{ "ENABLE", S_AUTH_ONLY, cmd_enable },
	{ "NAMESPACE", S_AUTH, cmd_namespace },
	{ "UNAUTHENTICATE", S_AUTH, cmd_unauthenticate },
	{ "IDLE", S_AUTH, cmd_idle },
	{ "COMPRESS", S_AUTH, cmd_compress },
	{ "NOTIFY", S_AUTH, cmd_notify },
	{ "LIST", S_AUTH, cmd_list },
	{ "LSUB", S_AUTH, cmd_lsub },
	{ "SUBSCRIBE", S_AUTH, cmd_subscribe },
	{ "UNSUBSCRIBE", S_AUTH, cmd_unsubscribe },
	{ "CREATE", S_AUTH, cmd_create },
	{ "DELETE", S_AUTH, cmd_delete },
	{ "RENAME", S_AUTH, cmd_rename },
	{ "STATUS", S_AUTH, cmd_status },
	{ "GETMETADATA", S_AUTH, cmd_getmetadata },
	{ "SETMETADATA", S_AUTH, cmd_setmetadata },
	{ "SELECT", S_AUTH, cmd_select },
	{ "EXAMINE", S_AUTH, cmd_examine },
	{ "APPEND", S_AUTH, cmd_append },
	{ "GETQUOTA", S_AUTH, cmd_getquota },
	{ "GETQUOTAROOT", S_AUTH, cmd_getquotaroot },
	{ "SETQUOTA", S_AUTH, cmd_setquota },
	/* RFC 4314 */
	{ "SETACL", S_AUTH, cmd_setacl },
	{ "DELETEACL", S_AUTH, cmd_deleteacl },
	{ "GETACL", S_AUTH, cmd_getacl },
	{ "LISTRIGHTS", S_AUTH, cmd_listrights },
	{ "MYRIGHTS", S_AUTH, cmd_myrights },
	{ "CHECK", S_SELECTED, cmd_noop },
	{ "FETCH", S_SELECTED, cmd_fetch },
	{ "STORE", S_SELECTED, cmd_store },
	{ "EXPUNGE", S_SELECTED, cmd_expunge },
	{ "COPY", S_SELECTED, cmd_copy },
	{ "MOVE", S_SELECTED, cmd_move },
	{ "REPLACE", S_SELECTED, cmd_replace },
	{ "SEARCH", S_SELECTED, cmd_search },
	{ "SORT", S_SELECTED, cmd_sort },
	{ "THREAD", S_SELECTED, cmd_thread },
	{ "UID", S_SELECTED, cmd_uid },
	{ "CLOSE", S_SELECTED, cmd_close },
	{ "UNSELECT", S_SELECTED, cmd_unselect },
};

void
imap_command_run(struct imap_conn *conn)
{
	unsigned int i, state_bit = 1u << conn->state;

	conn->uid = false;
	for (i = 0; i < N_ELEMENTS(commands); i++) {
		if (strcasecmp(commands[i].name, conn->cmd.name) == 0)
			break;
	}
	if (i == N_ELEMENTS(commands)) {
		imap_conn_bad(conn, "Unknown command.");
		return;
	}
	if ((commands[i].states & state_bit) == 0) {
		/* the reason is what the command needs, not the state:
		   LOGIN after LOGIN is not "No mailbox selected." */
		imap_conn_bad(conn, conn->state == IMAP_STATE_NOT_AUTHENTICATED
			      ? "Not logged in." :
			      commands[i].states == S_NOAUTH ?
			      "Already logged in." :
			      commands[i].states == S_AUTH_ONLY ?
			      "Not valid with a mailbox selected." :
			      "No mailbox selected.");
		return;
	}
	commands[i].run(conn);
}
