/* SPDX-License-Identifier: MIT */
/*
 * lmtp-private.h: what the files of src/lmtp share and the daemon never
 * sees.
 *
 *   lmtp-server.c   the front-end object: settings, the session list,
 *                   accept, graceful shutdown.
 *   lmtp-conn.c     one RFC 2033 session on a bufferevent: the command
 *                   state machine and the replies.
 *   lmtp-deliver.c  the worker-pool jobs: recipient lookup, delivery, and
 *                   the one table from store errors to LMTP replies.
 *   lmtp-parser.c   the byte-stream parser (no I/O).
 */
#ifndef LMTP_PRIVATE_H
#define LMTP_PRIVATE_H

#include "lmtp-server.h"
#include "lmtp-parser.h"
#include "buf.h"

/* Recipients per transaction (RFC 5321 §4.5.3.1.8 asks for >= 100). */
#define LMTP_RECIPIENTS_MAX 1000
/* Bad commands per session before "421" and close. */
#define LMTP_ERRORS_MAX 20
/* Bytes taken from the socket per parser feed, and the most the socket's
   input buffer holds while the session waits for the store. */
#define LMTP_READ_CHUNK (64 * 1024)
#define LMTP_INPUT_HIGH_WATERMARK (256 * 1024)
/* Replies queued for a client that does not read them: past
   LMTP_OUTPUT_MAX the session parses nothing more until the output has
   drained below the low watermark. */
#define LMTP_OUTPUT_MAX (64 * 1024)
#define LMTP_OUTPUT_LOW_WATERMARK (16 * 1024)
/* Deliveries of one transaction that run in the pool at once. */
#define LMTP_PARALLEL_DELIVERIES 4

struct account;
struct bufferevent;

struct lmtp_server {
	struct lmtp_settings set;
	struct store *store;
	struct worker_pool *pool;
	struct event_base *base;
	struct lmtp_conn *conns;
	unsigned int conn_count;
	unsigned int next_id;
	bool shutting_down;
};

struct lmtp_rcpt {
	/* The address as the client gave it (for replies and logs). */
	char *address;
	/* Opened by the RCPT lookup job; used by the delivery job. */
	struct account *account;
	/* The delivery's reply line without CRLF. */
	char *reply;
	uint32_t uid;
};

enum lmtp_input_mode {
	LMTP_INPUT_COMMAND,
	LMTP_INPUT_DATA,
	LMTP_INPUT_CHUNK,
};

struct lmtp_conn {
	struct lmtp_conn *prev, *next;
	struct lmtp_server *server;
	struct bufferevent *bev;
	struct lmtp_parser *parser;
	unsigned int id;
	char *peer;
	/* for settings.conn_closed (the daemon's connection limits) */
	void *limit_token;

	enum lmtp_input_mode input;
	bool lhlo_done;
	unsigned int errors;

	/* The transaction: MAIL, RCPTs, the message. */
	bool mail_given;
	char *return_path;      /* NULL for MAIL FROM:<> */
	struct lmtp_rcpt *rcpts;
	unsigned int rcpt_count;
	buf_t msg;
	bool bdat_started;      /* BDAT seen: DATA is a bad sequence now */
	bool bdat_refused;      /* the current chunk is read and dropped */
	bool bdat_last;
	bool too_large;

	/* Worker jobs of this session not completed yet. While `waiting`,
	   no further input is parsed, which keeps pipelined replies in
	   order. */
	unsigned int jobs;
	bool waiting;
	unsigned int deliver_next, deliver_done;
	/* The RCPT lookup in flight. */
	struct lmtp_rcpt pending_rcpt;

	bool eof;               /* the client sent EOF: finish, then close */
	bool output_full;       /* waiting for the client to read replies */
	bool closing;           /* flush output, then free */
	bool disconnected;      /* socket gone; free once jobs == 0 */
};

/* lmtp-conn.c */
/* NULL when libevent refuses the socket (fd is closed then). */
struct lmtp_conn *lmtp_conn_create(struct lmtp_server *server, int fd,
				   const struct sockaddr *addr,
				   socklen_t addrlen);
/* Frees the session now (jobs must be 0). */
void lmtp_conn_destroy(struct lmtp_conn **conn);
/* Graceful stop: see lmtp_server_shutdown(). */
void lmtp_conn_shutdown(struct lmtp_conn *conn);
/* Writes one reply line (CRLF added). */
void lmtp_conn_reply(struct lmtp_conn *conn, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Continues after a worker job's completion (loop thread). */
void lmtp_conn_job_finished(struct lmtp_conn *conn);
/* Called when the RCPT lookup (pending_rcpt) is done: ok or not. */
void lmtp_conn_rcpt_finished(struct lmtp_conn *conn, bool ok,
			     const char *reply);
/* Called when every recipient has its delivery reply. */
void lmtp_conn_delivery_finished(struct lmtp_conn *conn);

/* lmtp-deliver.c */
/* Looks up conn->pending_rcpt's account on the pool. */
void lmtp_deliver_lookup(struct lmtp_conn *conn);
/* Delivers conn->msg to every recipient on the pool, at most
   LMTP_PARALLEL_DELIVERIES at a time. */
void lmtp_deliver_start(struct lmtp_conn *conn);
/* Frees a recipient's fields (closes its account). */
void lmtp_rcpt_clear(struct lmtp_rcpt *rcpt);

/* lmtp-server.c */
void lmtp_server_conn_unlink(struct lmtp_server *server,
			     struct lmtp_conn *conn);

#endif
