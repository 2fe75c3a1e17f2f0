/* SPDX-License-Identifier: MIT */
/*
 * pop3-private.h: what the files of src/pop3 share and the daemon never
 * sees.
 *
 *   pop3-server.c    the front-end object: settings, the session list,
 *                    accept, graceful shutdown, the per-account "in use"
 *                    table and the cache of messages that need no
 *                    dot-stuffing.
 *   pop3-conn.c      one session on a bufferevent: input, output,
 *                    pipelining order, STLS, timers, closing.
 *   pop3-commands.c  the RFC 1939 states and commands, CAPA, AUTH.
 *   pop3-mail.c      the worker-pool jobs (logins, opening INBOX,
 *                    streaming RETR/TOP, the UPDATE state) and the one
 *                    table from store errors to RFC 3206 codes.
 *   pop3-parser.c    the command-line parser (no I/O).
 *   pop3-stuff.c     message bytes to a response body (no I/O).
 */
#ifndef POP3_PRIVATE_H
#define POP3_PRIVATE_H

#include "pop3-server.h"
#include "pop3-parser.h"
#include "pop3-stuff.h"
#include "buf.h"

/* Client mistakes per session before "-ERR" and close. */
#define POP3_ERRORS_MAX 10
/* Failed logins per session before it is closed. */
#define POP3_AUTH_FAILURES_MAX 3
/* Bytes taken from the socket per parser feed, and the most the socket's
   input buffer holds while the session waits for the store. */
#define POP3_READ_CHUNK (16 * 1024)
#define POP3_INPUT_HIGH_WATERMARK (64 * 1024)
/* Output queued for a client that does not read it: past POP3_OUTPUT_MAX
   the session produces nothing more until the output has drained below
   the low watermark. */
#define POP3_OUTPUT_MAX (256 * 1024)
#define POP3_OUTPUT_LOW_WATERMARK (64 * 1024)
/* Most bytes libevent writes to the socket per write event. */
#define POP3_MAX_SINGLE_WRITE (256 * 1024)
/* Message bytes read and converted per worker job of a RETR/TOP. */
#define POP3_SEND_CHUNK (256 * 1024)
/* Smallest message sent with sendfile (bytes). */
#define POP3_SENDFILE_MIN (16 * 1024)
/* Longest client-given name written to a log line. */
#define POP3_LOG_NAME_MAX 128
/* LIST/UIDL lines written per turn before checking the output again. */
#define POP3_LISTING_BATCH 512
/* Messages known to need no stuffing, server-wide (direct-mapped). */
#define POP3_CLEAN_CACHE_SIZE 16384
/* Buckets of the in-use table (chained). */
#define POP3_IN_USE_BUCKETS 256

struct account;
struct bufferevent;
struct event;
struct mailbox;
struct auth_request;

struct pop3_in_use {
	struct pop3_in_use *next;
	char *name;
};

struct pop3_clean_entry {
	char *account;
	uint32_t uidvalidity;
	uint32_t uid;
	uint64_t size;
};

struct pop3_server {
	struct pop3_settings set;
	struct store *store;
	struct worker_pool *pool;
	struct event_base *base;
	struct pop3_conn *conns;
	unsigned int conn_count;
	unsigned int next_id;
	bool shutting_down;
	struct pop3_in_use *in_use[POP3_IN_USE_BUCKETS];
	struct pop3_clean_entry *clean;
};

enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
	POP3_STATE_UPDATE,
};

/* What the parser is asked for next. */
enum pop3_input {
	POP3_INPUT_COMMAND,
	POP3_INPUT_SASL,        /* a response line of an AUTH exchange */
};

/* Per-message state bits of a session. */
#define POP3_MSG_DELETED 0x01u  /* DELE: expunged at QUIT */
#define POP3_MSG_RETRIEVED 0x02u        /* RETR: \Seen at the end */
#define POP3_MSG_CLEAN 0x04u    /* needs no stuffing: sendfile ok */

struct pop3_msg {
	uint32_t uid;
	uint32_t state;
	uint64_t size;
};

/* A RETR or TOP response being streamed, one worker job per chunk. */
struct pop3_send {
	unsigned int index;
	bool top;
	struct pop3_stuff stuff;
	/* the message in the store: fd from store_mailbox_msg_fd, or -1
	   before the first job and after the last */
	int fd;
	uint64_t offset, size, done;
	/* the bytes the job read, and the converted chunk it produced
	   (handed to the output) */
	buf_t in;
	buf_t out;
	bool started;           /* "+OK" sent */
	bool finished;
	/* job result: NULL, or the -ERR line when the start failed; after
	   the "+OK" was sent a failure can only close the session */
	char *error;
	bool fatal;
	/* plaintext, message known clean: sendfile the stored bytes */
	bool use_file;
};

/* LIST or UIDL without argument, written in batches. */
struct pop3_listing {
	enum pop3_verb verb;
	unsigned int next;
	bool active;
};

struct pop3_conn {
	struct pop3_conn *prev, *next;
	struct pop3_server *server;
	struct bufferevent *bev;
	struct pop3_parser *parser;
	unsigned int id;
	char *peer;
	/* for settings.conn_closed (the daemon's connection limits) */
	void *limit_token;

	enum pop3_state state;
	enum pop3_input input;
	bool tls;
	bool starttls_pending;  /* "+OK" to STLS queued, switch when sent */
	unsigned int errors;
	unsigned int auth_failures;

	/* AUTHORIZATION: USER's name; an AUTH exchange. */
	char *user;
	struct auth_request *auth;

	/* TRANSACTION: the account, INBOX's snapshot (the store view is
	   never synced: numbers and sizes stay fixed, RFC 1939 §5), and
	   this session's marks. */
	struct account *account;
	struct mailbox *box;
	char *in_use_name;      /* key in the server's in-use table */
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	unsigned int msg_count;
	uint64_t total_bytes;
	unsigned int deleted_count;
	uint64_t deleted_bytes;

	struct pop3_send send;
	bool sending;
	bool send_wait_output;
	struct pop3_listing listing;

	/* Frees the session from the loop once it is closing. */
	struct event *free_event;
	/* The failed-login delay. */
	struct event *delay;
	char *delayed_reply;

	/* Worker jobs not completed. While `waiting`, no further input is
	   parsed, so pipelined replies stay in order (RFC 2449 §6.6). */
	unsigned int jobs;
	bool waiting;

	bool eof;               /* the client sent EOF: finish, then close */
	bool output_full;       /* waiting for the client to read */
	bool closing;           /* flush output, then free */
	bool disconnected;      /* socket gone; free once jobs == 0 */
	bool updated;           /* QUIT's UPDATE has set \Seen already */
	bool finalizing;        /* the end-of-session job runs */
	bool finalized;         /* account and mailbox are closed */
};

/* pop3-conn.c */
/* NULL when libevent or OpenSSL refuse the socket (fd is closed then). */
struct pop3_conn *pop3_conn_create(struct pop3_server *server, int fd,
				   const struct sockaddr *addr,
				   socklen_t addrlen, bool implicit_tls);
/* Frees the session now (jobs must be 0, the session finalized). */
void pop3_conn_destroy(struct pop3_conn **conn);
/* Graceful stop: see pop3_server_shutdown(). */
void pop3_conn_shutdown(struct pop3_conn *conn);
/* Writes one reply line (CRLF added). */
void pop3_conn_reply(struct pop3_conn *conn, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Writes raw bytes. */
void pop3_conn_write(struct pop3_conn *conn, const void *data, size_t len);
/* Bytes queued for the client. */
size_t pop3_conn_output_len(struct pop3_conn *conn);
/* Counts a client mistake; closes the session at POP3_ERRORS_MAX. */
void pop3_conn_error(struct pop3_conn *conn);
/* Flushes the output, then closes (QUIT, fatal errors). */
void pop3_conn_close(struct pop3_conn *conn);
/* Sends reply after AUTH_FAILURE_DELAY_MSECS, then goes on (or closes
   after POP3_AUTH_FAILURES_MAX failures). */
void pop3_conn_login_failed(struct pop3_conn *conn, const char *reply);
/* STLS: "+OK" is queued; switches the socket to TLS. */
void pop3_conn_starttls(struct pop3_conn *conn);
/* Continues after a worker job's completion (loop thread). */
void pop3_conn_job_finished(struct pop3_conn *conn);
/* True when plaintext logins are allowed now. */
bool pop3_conn_plaintext_ok(struct pop3_conn *conn);

/* pop3-commands.c */
/* Runs one parsed command. */
void pop3_command_run(struct pop3_conn *conn, const struct pop3_command *cmd);
/* Runs one SASL response line (POP3_INPUT_SASL); line NULL: too long. */
void pop3_command_sasl_response(struct pop3_conn *conn, const char *line,
				size_t len);
/* Writes the next batch of a LIST/UIDL listing; false when done. */
bool pop3_command_listing_continue(struct pop3_conn *conn);
/* Completions of the jobs in pop3-mail.c. */
void pop3_command_login_done(struct pop3_conn *conn, int result,
			     struct account *account);
void pop3_command_sasl_done(struct pop3_conn *conn, int result,
			    const buf_t *challenge);
void pop3_command_open_done(struct pop3_conn *conn, const char *error);
void pop3_command_send_done(struct pop3_conn *conn);
void pop3_command_update_done(struct pop3_conn *conn, const char *error);

/* pop3-mail.c */
/* USER/PASS: checks the password (conn->user) on the pool. */
void pop3_mail_login(struct pop3_conn *conn, const char *password);
/* AUTH: one step of conn->auth; response NULL when there is none,
   base64 tells whether it still needs decoding. */
void pop3_mail_sasl_step(struct pop3_conn *conn, const char *response,
			 size_t len, bool base64);
/* Opens INBOX of conn->account and takes its snapshot. */
void pop3_mail_open(struct pop3_conn *conn);
/* Produces the next chunk of conn->send (the first one opens the
   message). */
void pop3_mail_send_chunk(struct pop3_conn *conn);
/* QUIT in TRANSACTION: the UPDATE state's store work. */
void pop3_mail_update(struct pop3_conn *conn);
/* End of session: \Seen for retrieved messages (unless QUIT did it),
   closes the mailbox and the account, then frees the session. */
void pop3_mail_finalize(struct pop3_conn *conn);
/* The calling (worker) thread's store error as a "-ERR [SYS/...]"
   line; logs environment errors. Caller frees. */
char *pop3_mail_error_reply(const char *what);

/* pop3-server.c */
void pop3_server_conn_unlink(struct pop3_server *server,
			     struct pop3_conn *conn);
/* Marks account name in use: false when another session has it. */
bool pop3_server_in_use_take(struct pop3_server *server, const char *name);
void pop3_server_in_use_release(struct pop3_server *server,
				const char *name);
/* The clean-message cache (messages are immutable under a UIDVALIDITY,
   so an entry never goes stale). */
bool pop3_server_clean_lookup(struct pop3_server *server,
			      const char *account, uint32_t uidvalidity,
			      uint32_t uid, uint64_t size);
void pop3_server_clean_add(struct pop3_server *server, const char *account,
			   uint32_t uidvalidity, uint32_t uid, uint64_t size);

#endif
