/* SPDX-License-Identifier: MIT */
/*
 * imap-private.h: what the files of src/imap share and the daemon never
 * sees.
 *
 *   imap-server.c    the front-end object: settings, sessions, accept,
 *                    graceful shutdown.
 *   imap-conn.c      one session on a bufferevent: input, output, one
 *                    command at a time, worker jobs, STARTTLS, IDLE
 *                    timer, closing.
 *   imap-commands.c  the dispatch table and the any-state and
 *                    not-authenticated commands (CAPABILITY, NOOP,
 *                    LOGOUT, ID, ENABLE, NAMESPACE, STARTTLS, LOGIN,
 *                    AUTHENTICATE).
 *   imap-sync.c      untagged EXISTS/EXPUNGE/FETCH after a command.
 *   imap-idle.c      IDLE: inotify watches, change checks.
 *   imap-compress.c  COMPRESS=DEFLATE's zlib streams (RFC 4978).
 *   cmd-notify.c     NOTIFY (RFC 5465).
 *   imap-utf7.c      modified UTF-7 mailbox names (RFC 3501 §5.1.3).
 *   cmd-list.c       LIST (with LIST-EXTENDED, LIST-STATUS), LSUB.
 *   cmd-mailbox.c    SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME,
 *                    STATUS.
 *   cmd-select.c     SELECT, EXAMINE, CLOSE, UNSELECT.
 *   cmd-fetch.c      FETCH, UID FETCH.
 *   cmd-store.c      STORE, EXPUNGE (and UID forms), flag lists.
 *   cmd-copy.c       COPY, MOVE (and UID forms), UID sets.
 *   cmd-append.c     APPEND, MULTIAPPEND.
 *   cmd-search.c     SEARCH, UID SEARCH.
 *   cmd-quota.c      GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208).
 *   cmd-replace.c    REPLACE, UID REPLACE (RFC 8508).
 *   cmd-acl.c        ACL (RFC 4314) and the shared namespace "~user/box".
 *   imap-seqset.c    sequence sets.
 *   imap-parser.c    the command parser (no I/O).
 *
 * Threads: a command that needs the store runs as one worker job
 * (imap_conn_job): its run function executes on a worker thread with
 * the session's account and mailbox to itself (the loop thread reads no
 * further input and touches neither while the job is out), writes its
 * untagged replies to conn->job_out and its tagged result to
 * conn->tagged; the loop thread then sends both.
 */
#ifndef IMAP_PRIVATE_H
#define IMAP_PRIVATE_H

#include "imap-server.h"
#include "imap-parser.h"
#include "buf.h"
#include "store-mailbox.h"

/* Client mistakes (BAD) in a row before "* BYE" and close. */
#define IMAP_ERRORS_MAX 20
/* Failed logins per session before it is closed. */
#define IMAP_AUTH_FAILURES_MAX 3
/* Bytes taken from the socket per parser feed, and the most the
   socket's input buffer holds while the session waits for the store. */
#define IMAP_READ_CHUNK (64 * 1024)
#define IMAP_INPUT_HIGH_WATERMARK (256 * 1024)
/* Output queued for a client that does not read: past IMAP_OUTPUT_MAX
   no further command runs until it drained below the low watermark. */
#define IMAP_OUTPUT_MAX (1024 * 1024)
#define IMAP_OUTPUT_LOW_WATERMARK (256 * 1024)
/* Response bytes a FETCH produces per worker job before it waits for
   the client to read them. */
#define IMAP_FETCH_PART_BYTES (256 * 1024)
/* How often an IDLE session polls for changes when it has no inotify
   watch (milliseconds). */
#define IMAP_IDLE_CHECK_MSECS 50
/* NOTIFY (RFC 5465): mailboxes one session may watch; bytes of
   notifications one check may queue before NOTIFICATIONOVERFLOW; how
   often the mailbox and subscription lists are compared. */
#define IMAP_NOTIFY_MAILBOXES_MAX 100
#define IMAP_NOTIFY_OUTPUT_MAX (64 * 1024)
#define IMAP_NOTIFY_LIST_MSECS 1000
/* NOTIFY events (RFC 5465 §5) */
#define IMAP_NOTIFY_MESSAGE_NEW 0x01u
#define IMAP_NOTIFY_MESSAGE_EXPUNGE 0x02u
#define IMAP_NOTIFY_FLAG_CHANGE 0x04u
#define IMAP_NOTIFY_MAILBOX_NAME 0x08u
#define IMAP_NOTIFY_SUBSCRIPTION_CHANGE 0x10u

struct account;
struct bufferevent;
struct event;
struct mailbox;
struct auth_request;
struct imap_conn;
struct imap_notify;
struct imap_compress;

struct imap_server {
	struct imap_settings set;
	struct store *store;
	struct worker_pool *pool;
	struct event_base *base;
	struct imap_conn *conns;
	unsigned int conn_count;
	unsigned int next_id;
	bool shutting_down;
	/* IDLE: one inotify descriptor for every session's watch; -1
	   when inotify is unavailable (sessions poll instead). */
	int inotify_fd;
	struct event *inotify_event;
};

enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* What the parser is asked for next. */
enum imap_input {
	IMAP_INPUT_COMMAND,
	IMAP_INPUT_SASL,        /* a response line of AUTHENTICATE */
	IMAP_INPUT_IDLE,        /* waiting for DONE */
};

/* ENABLEd extensions (RFC 5161). */
#define IMAP_ENABLED_CONDSTORE 0x01u
#define IMAP_ENABLED_QRESYNC 0x02u
#define IMAP_ENABLED_IMAP4REV2 0x04u
#define IMAP_ENABLED_UTF8 0x08u

/* How a command wants the mailbox synced after it (RFC 3501 §7.4.1:
   no EXPUNGE during FETCH, STORE and SEARCH). */
enum imap_sync {
	IMAP_SYNC_NONE,
	IMAP_SYNC_FULL,
	IMAP_SYNC_NO_EXPUNGES,
};

typedef void imap_job_run_cb_t(struct imap_conn *conn);
typedef void imap_job_done_cb_t(struct imap_conn *conn);

struct imap_conn {
	struct imap_conn *prev, *next;
	struct imap_server *server;
	struct bufferevent *bev;
	struct imap_parser *parser;
	unsigned int id;
	char *peer;
	/* for settings.conn_closed (the daemon's connection limits) */
	void *limit_token;

	enum imap_state state;
	enum imap_input input;
	bool tls;
	bool starttls_pending;
	unsigned int enabled;
	unsigned int errors;
	unsigned int auth_failures;

	/* The command being run (points into the parser, which is not
	   called again until the command completes). */
	struct imap_command cmd;
	bool uid;               /* UID FETCH/STORE/... */

	/* AUTHENTICATE in progress. */
	struct auth_request *auth;
	char *sasl_response;
	size_t sasl_response_len;
	bool sasl_base64;

	/* AUTHENTICATED and later. */
	struct account *account;
	char *user;
	/* SELECTED. */
	struct mailbox *box;
	uint32_t uidvalidity;
	bool readonly;
	/* ACL (cmd-acl.c): the user's rights on the selected mailbox, and
	   its owner's account when that is not ours ("~user/box"). */
	unsigned int box_rights;
	struct account *box_account;
	/* keywords already announced in FLAGS */
	unsigned int keywords_sent;
	/* The UIDs as the client knows them (sequence number = index + 1),
	   updated by each sync. */
	uint32_t *uids;
	unsigned int uid_count;
	/* SEARCHRES (RFC 5182): the UIDs SEARCH RETURN (SAVE) kept, "$" */
	struct uid_array searchres;
	/* Worker: UIDs whose flag changes the next sync does not report
	   (STORE reports them itself, or not at all with .SILENT). */
	const struct uid_array *sync_skip;

	/* The job of the running command. */
	imap_job_run_cb_t *job_run;
	imap_job_done_cb_t *job_done;
	enum imap_sync job_sync;
	/* Set by a run function that produced one part of a long reply
	   and wants to run again once the client has read it. */
	bool job_continue;
	bool job_wait_output;
	void *job_ctx;
	buf_t job_out;
	char *tagged;           /* "OK ...", "NO ...", "BAD ..." */
	/* login result carried from run to done */
	int job_result;
	struct account *job_account;

	/* IDLE: the inotify watch on the mailbox's watch path (-1: none,
	   poll with idle_timer), a check job running, another wanted. */
	int idle_wd;
	struct event *idle_timer;
	bool idle_check_running;
	bool idle_recheck;
	/* the file idle_wd watches; the check looks at the selected box */
	char *idle_path;
	bool idle_check_selected;
	/* NOTIFY (cmd-notify.c): the loop thread touches it only while no
	   check job runs; an inotify event meanwhile sets notify_missed. */
	struct imap_notify *notify;
	struct event *notify_timer;
	bool notify_missed;

	/* COMPRESS=DEFLATE (RFC 4978): the streams, and the event that
	   sync-flushes the output after each burst of replies. */
	struct imap_compress *zs;
	struct event *zflush_event;

	struct event *free_event;
	struct event *delay;
	char *delayed_reply;

	unsigned int jobs;
	bool waiting;
	bool eof;
	bool output_full;
	bool closing;
	bool disconnected;
	bool finalizing;
	bool finalized;
	/* the next job starts with * OK [HIGHESTMODSEQ] (imap_condstore_
	   enable) */
	bool announce_modseq;
	/* the bufferevent's timeouts are those of this login state */
	bool timeouts_set, timeouts_authed;
};

/* imap-server.c */
void imap_server_conn_unlink(struct imap_server *server,
			     struct imap_conn *conn);

/* imap-conn.c */
struct imap_conn *imap_conn_create(struct imap_server *server, int fd,
				   const struct sockaddr *addr,
				   socklen_t addrlen, bool implicit_tls);
void imap_conn_destroy(struct imap_conn **conn);
void imap_conn_shutdown(struct imap_conn *conn);
/* Writes one line (CRLF added). */
void imap_conn_reply(struct imap_conn *conn, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Tagged reply to the current command, then reads on. */
void imap_conn_tagged(struct imap_conn *conn, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
void imap_conn_write(struct imap_conn *conn, const void *data, size_t len);
/* Counts a BAD; closes the session at IMAP_ERRORS_MAX. */
void imap_conn_bad(struct imap_conn *conn, const char *text);
void imap_conn_close(struct imap_conn *conn);
/* The tagged NO after AUTH_FAILURE_DELAY_MSECS. */
void imap_conn_login_failed(struct imap_conn *conn, const char *reply);
void imap_conn_starttls(struct imap_conn *conn);
/* After the tagged OK of COMPRESS: all further input and output is
   deflated (RFC 4978). */
void imap_conn_compress_start(struct imap_conn *conn);
bool imap_conn_plaintext_ok(struct imap_conn *conn);
/* Runs run() on a worker, then sync (when a mailbox is selected), then
   on the loop thread done() (may be NULL), job_out and the tagged
   reply conn->tagged. */
/* A CONDSTORE enabling command other than SELECT/EXAMINE/ENABLE (RFC
   7162 §3.1): when it is the first and a mailbox is selected, its job's
   output starts with the untagged OK [HIGHESTMODSEQ] the RFC asks for. */
void imap_condstore_enable(struct imap_conn *conn);
void imap_conn_job(struct imap_conn *conn, imap_job_run_cb_t *run,
		   imap_job_done_cb_t *done, enum imap_sync sync);
/* Worker thread: conn->tagged = the formatted reply. */
void imap_job_tagged(struct imap_conn *conn, const char *fmt, ...)
	ATTR_FORMAT(2, 3);
/* Worker thread: the store error as a tagged NO with a response code. */
void imap_job_store_error(struct imap_conn *conn, const char *what);
/* After a job outside the command flow (IDLE checks): reads on, or
   frees a closing session. */
void imap_conn_continue(struct imap_conn *conn);

/* imap-idle.c */
void imap_idle_server_init(struct imap_server *server);
void imap_idle_server_deinit(struct imap_server *server);
void imap_idle_conn_deinit(struct imap_conn *conn);
/* IDLE: start and stop watching the selected mailbox. */
void imap_conn_idle_start(struct imap_conn *conn);
void imap_conn_idle_stop(struct imap_conn *conn);
/* An inotify watch on path (-1: none, poll); dropping one removes it
   when no session uses it any more. */
int imap_idle_watch_path(struct imap_server *server, const char *path);
void imap_idle_unwatch_wd(struct imap_server *server, int wd);
/* NOTIFY: after NOTIFY SET/NONE (timers, the selected watch), and
   between commands: runs a check job when one is wanted. */
void imap_conn_notify_started(struct imap_conn *conn);
void imap_conn_notify_kick(struct imap_conn *conn);

/* cmd-notify.c */
void cmd_notify(struct imap_conn *conn);
/* Worker (check job): STATUS and LIST for what changed. */
void imap_notify_check_run(struct imap_conn *conn);
/* Loop thread, no check job running: */
bool imap_notify_selected(struct imap_conn *conn, bool *delayed_r);
bool imap_notify_pending(struct imap_conn *conn);
bool imap_notify_take_selected(struct imap_conn *conn);
void imap_notify_set_dirty(struct imap_conn *conn, bool lists,
			   bool selected);
void imap_notify_mark_all(struct imap_conn *conn);
bool imap_notify_wd_event(struct imap_conn *conn, int wd, bool ignored);
bool imap_notify_uses_wd(struct imap_conn *conn, int wd);
void imap_notify_rewatch(struct imap_conn *conn);
bool imap_notify_overflowed(struct imap_conn *conn);
/* False after UNAUTHENTICATE and a new login. */
bool imap_notify_owned(struct imap_conn *conn);
void imap_notify_deinit(struct imap_conn *conn);

/* imap-commands.c */
void imap_command_run(struct imap_conn *conn);
void imap_command_sasl_response(struct imap_conn *conn, const char *line,
				size_t len);
void imap_command_idle_line(struct imap_conn *conn, const char *line);
/* The capability list for the current state, without "* CAPABILITY". */
void imap_capability_append(struct imap_conn *conn, buf_t *out);

/* imap-sync.c */
/* Worker: syncs conn->box and writes EXPUNGE, EXISTS, FETCH FLAGS. */
int imap_sync_run(struct imap_conn *conn, enum imap_sync sync);
/* Worker: the view's UIDs become what the client knows. */
void imap_sync_take_view(struct imap_conn *conn);
/* Worker: the flags of msg as an IMAP list "(\Seen $Junk)". */
void imap_sync_append_flags(struct imap_conn *conn, buf_t *out,
			    uint32_t flags);
/* Worker: " MODSEQ (n)" once CONDSTORE is enabled (RFC 7162 §3.2). */
struct store_msg;
void imap_sync_append_modseq(struct imap_conn *conn, buf_t *out,
			     const struct store_msg *msg);
/* Worker: FLAGS and PERMANENTFLAGS lines (also when keywords grew). */
void imap_sync_append_flag_lists(struct imap_conn *conn, buf_t *out);

/* Worker: "* VANISHED (EARLIER) ..." (RFC 7162 §3.2.5.1, §3.2.6): the
   UIDs of within (NULL: all) expunged since modseq that the client's
   view does not hold; when the store's history does not reach back that
   far, every such UID not in the view and above match_uid. -1 on a store
   error. */
struct imap_seqset;
int imap_sync_vanished_earlier(struct imap_conn *conn, uint64_t since,
			       const struct imap_seqset *within,
			       uint32_t match_uid);

/* imap-utf7.c */
/* Modified UTF-7 (RFC 3501 §5.1.3) to UTF-8: 0, or -1 when invalid. */
int imap_utf7_to_utf8(const char *in, buf_t *out);
/* True when in is valid UTF-8 (no surrogates, no overlongs). */
bool imap_utf8_valid(const char *in);
/* UTF-8 to modified UTF-7: 0, or -1 when in is not valid UTF-8. */
int imap_utf8_to_utf7(const char *in, buf_t *out);

/* cmd-list.c */
void cmd_list(struct imap_conn *conn);
void cmd_lsub(struct imap_conn *conn);

/* cmd-mailbox.c */
void cmd_subscribe(struct imap_conn *conn);
void cmd_unsubscribe(struct imap_conn *conn);
void cmd_create(struct imap_conn *conn);
void cmd_delete(struct imap_conn *conn);
void cmd_rename(struct imap_conn *conn);
void cmd_status(struct imap_conn *conn);
/* Client mailbox name (mUTF-7 or UTF-8 after ENABLE UTF8=ACCEPT) to the
   store's UTF-8 name: a string the caller frees, or NULL after a BAD/NO
   reply. */
char *imap_mailbox_name_in(struct imap_conn *conn, const char *name);
/* A LIST pattern (or name) as UTF-8 without the store's checks, or
   NULL when it is not valid modified UTF-7 (or UTF-8). Caller frees. */
char *imap_mailbox_pattern_in(struct imap_conn *conn, const char *name);
/* "inbox", "Inbox/x" -> "INBOX", "INBOX/x" in place (RFC 3501 §5.1). */
void imap_mailbox_normalise_inbox(char *name);
/* STATUS items (a list of names): 0 and the STATUS_* bits, or -1. */
#define STATUS_MESSAGES 0x01u
#define STATUS_UIDNEXT 0x02u
#define STATUS_UIDVALIDITY 0x04u
#define STATUS_UNSEEN 0x08u
#define STATUS_HIGHESTMODSEQ 0x10u
#define STATUS_SIZE 0x20u
#define STATUS_RECENT 0x40u
#define STATUS_DELETED 0x80u
#define STATUS_DELETED_STORAGE 0x100u
#define STATUS_MAILBOXID 0x200u       /* RFC 8474 §4.2 */
#define STATUS_APPENDLIMIT 0x400u     /* RFC 7889 §4 */
int imap_status_items_parse(const struct imap_arg *arg,
			    unsigned int *items_r);
/* Worker: appends "* STATUS name (...)" for items; -1 on a store
   error (store_error() tells). */
int imap_status_append(struct imap_conn *conn, buf_t *out, const char *name,
		       unsigned int items);
/* Store name to what the client reads, quoted, appended to out. */
void imap_mailbox_name_out(struct imap_conn *conn, buf_t *out,
			   const char *name);

/* cmd-fetch.c: FETCH items kept for NOTIFY's MessageNew (RFC 5465
   §5.1): parsed on the loop thread (NULL with *error_r, a BAD text),
   written for one message of the selected mailbox by a worker ("* n
   FETCH (...)" into job_out; -1 on a store error), freed (NULL ok). */
struct imap_fetch_items;
struct imap_fetch_items *imap_fetch_items_parse(struct imap_conn *conn,
						const struct imap_arg *arg,
						const char **error_r);
int imap_fetch_items_write(struct imap_conn *conn,
			   struct imap_fetch_items *items, uint32_t uid);
void imap_fetch_items_free(struct imap_fetch_items **items);
/* cmd-notify.c: the sync of a NOTIFY/IDLE check, with MessageNew's
   FETCH for the new messages. Worker. */
void imap_notify_sync_selected(struct imap_conn *conn, enum imap_sync sync);

/* cmd-fetch.c, cmd-store.c, cmd-copy.c, cmd-append.c: the *_args forms
   take the arguments after the command name (UID FETCH ...). */
void cmd_fetch(struct imap_conn *conn);
void cmd_fetch_args(struct imap_conn *conn, const struct imap_arg *args,
		    unsigned int count);
void cmd_store(struct imap_conn *conn);
void cmd_store_args(struct imap_conn *conn, const struct imap_arg *args,
		    unsigned int count);
void cmd_expunge(struct imap_conn *conn);
void cmd_expunge_args(struct imap_conn *conn, const struct imap_arg *args,
		      unsigned int count);
/* Done callback part: with QRESYNC, puts [HIGHESTMODSEQ n] into the
   tagged OK of a command that expunged (EXPUNGE, MOVE). */
void imap_expunge_highestmodseq(struct imap_conn *conn);
void cmd_copy(struct imap_conn *conn);
void cmd_move(struct imap_conn *conn);
void cmd_copy_args(struct imap_conn *conn, const struct imap_arg *args,
		   unsigned int count, bool move);
void cmd_append(struct imap_conn *conn);
/* RFC 3501 date-time "dd-Mon-yyyy hh:mm:ss +zzzz" to seconds since the
   epoch, or -1 when invalid (cmd-append.c). */
int64_t imap_date_time_parse(const char *s);
/* The form of an APPEND or REPLACE message that is stored: bare LFs
   made CRLF, binary body parts base64-encoded (mime-binary.h; RFC 3516
   §4.4). msg->data/len point into copy when it had to change. 0, or -1
   with *error_r (a NUL byte no encoding can carry). Reads the whole
   message, so it runs in the command's job, not in the event loop. */
int imap_message_prepare(struct store_append *msg, buf_t *copy,
			 const char **error_r);
void cmd_replace(struct imap_conn *conn);
void cmd_replace_args(struct imap_conn *conn, const struct imap_arg *args,
		      unsigned int count);
void cmd_search(struct imap_conn *conn);
void cmd_search_args(struct imap_conn *conn, const struct imap_arg *args,
		     unsigned int count);
/* SEARCH's criteria for SORT and THREAD (RFC 5256 §3), in cmd-search.c. */
struct imap_search;
/* ESEARCH/ESORT result options (RFC 4731 §3.1, RFC 5267, RFC 5182). */
#define RET_MIN 0x01u
#define RET_MAX 0x02u
#define RET_COUNT 0x04u
#define RET_ALL 0x08u
#define RET_SAVE 0x10u          /* SEARCHRES (RFC 5182 §2.4) */
/* RETURN (MIN MAX COUNT ALL SAVE) into *ret_r (RET_* bits); an empty
   list means ALL. 0, or -1 on bad syntax (cmd-search.c; SORT uses it). */
int imap_return_parse(const struct imap_arg *arg, unsigned int *ret_r);
/* True when SEARCH, SORT and THREAD accept keys in charset. */
bool imap_search_charset_ok(const char *charset);
/* Loop thread: parses the search keys args[0..count) (after the
   charset, which imap_search_charset_ok() accepted). NULL with *error_r
   (a BAD text, static) when they are invalid. Free with
   imap_search_free(). */
struct imap_search *imap_search_parse(struct imap_conn *conn,
				      const struct imap_arg *args,
				      unsigned int count, const char *charset,
				      const char **error_r);
/* Worker: true when msg, sequence number seq of the client's view,
   matches; reads and parses the message only for keys that need it. */
bool imap_search_match(struct imap_conn *conn, struct imap_search *search,
		       uint32_t seq, const struct store_msg *msg);
/* True when the program has a MODSEQ key (RFC 7162 §3.1.5). */
bool imap_search_has_modseq(const struct imap_search *search);
void imap_search_free(struct imap_search **search);
/* cmd-sort.c, cmd-thread.c: SORT and THREAD (RFC 5256, 5267, 5957). */
void cmd_sort(struct imap_conn *conn);
void cmd_sort_args(struct imap_conn *conn, const struct imap_arg *args,
		   unsigned int count);
void cmd_thread(struct imap_conn *conn);
void cmd_thread_args(struct imap_conn *conn, const struct imap_arg *args,
		     unsigned int count);
/* "1:3,7" for ascending uids (a UID set as UIDPLUS writes it). */
void imap_uidset_append(buf_t *out, const uint32_t *uids,
			unsigned int count);
/* Flag list or single flag to system bits and keywords (a
   NULL-terminated array in *keywords_r, pointing into args; caller
   frees the array). 0, or -1 with *error_r. */
int imap_flags_parse(const struct imap_arg *arg, uint32_t *flags_r,
		     const char ***keywords_r, const char **error_r);

/* cmd-quota.c: QUOTA (RFC 9208) */
void cmd_getquota(struct imap_conn *conn);
void cmd_getquotaroot(struct imap_conn *conn);
void cmd_setquota(struct imap_conn *conn);
/* Worker: the untagged QUOTA response of the account (nothing when it
   has no limit), sent with NO [OVERQUOTA]. */
void imap_quota_append_untagged(struct imap_conn *conn, buf_t *out);
/* Worker: STATUS DELETED-STORAGE of mailbox name of account (KiB);
   0 or -1. */
int imap_quota_deleted_storage(struct account *account, const char *name,
			       uint64_t *kib_r);

/* cmd-metadata.c: GETMETADATA, SETMETADATA (RFC 5464). */
void cmd_getmetadata(struct imap_conn *conn);
void cmd_setmetadata(struct imap_conn *conn);
/* cmd-acl.c */
/* A client's mailbox name (UTF-8: own, or "~user/box") resolved to the
   account holding it, its name there, and the session user's rights
   (STORE_ACL_* of store-acl.h). */
struct imap_acl_box {
	struct account *account;        /* conn->account, or the owner's */
	char *name;
	unsigned int rights;
};
/* Worker: 0, or -1 with the store error set (NOT_FOUND for an unknown
   user, like an unknown mailbox). Rights are not checked. */
int imap_acl_lookup(struct imap_conn *conn, const char *name,
		    struct imap_acl_box *box_r);
/* Worker: imap_acl_lookup() and every right of need: 0, or -1 after the
   tagged NO for verb: [NONEXISTENT] when the user has neither "l" nor
   "r" (existence does not leak, RFC 4314 §4), else [NOPERM]. */
int imap_acl_resolve(struct imap_conn *conn, const char *name,
		     unsigned int need, const char *verb,
		     struct imap_acl_box *box_r);
/* Worker: for a mailbox about to be created (CREATE, RENAME's new
   name): "k" on its parent when it is another user's. 0, or -1 after
   the tagged NO. */
int imap_acl_resolve_new(struct imap_conn *conn, const char *name,
			 const char *verb, struct imap_acl_box *box_r);
void imap_acl_box_deinit(struct imap_conn *conn, struct imap_acl_box *box);
/* Worker: appends to infos (names "~user/box") the shared mailboxes
   with "l" that patterns starting with "~" may match. 0 or -1. */
struct mailbox_info;
int imap_acl_list_shared(struct imap_conn *conn, char *const *patterns,
			 unsigned int pattern_count,
			 struct mailbox_info **infos, unsigned int *count);
/* Worker: a mailbox created in another user's account inherits its
   parent's ACL (RFC 4314 §4 CREATE). */
void imap_acl_inherit(struct imap_conn *conn, const struct imap_acl_box *box);
/* RFC 4314 §4 APPEND/COPY: drops the flags rights do not allow to set
   ("s" \Seen, "t" \Deleted, "w" the rest and keywords; keywords is a
   NULL-terminated array or NULL, emptied in place). */
void imap_acl_filter_flags(unsigned int rights, uint32_t *flags,
			   const char **keywords);
/* Worker, after a COPY: takes off the copies (uids in dest) the flags
   the rights do not let the user set (RFC 4314 §4, as for APPEND).
   0 or -1 (store error). */
int imap_acl_copy_flags(unsigned int rights, struct mailbox *dest,
			const uint32_t *uids, unsigned int count);
void cmd_setacl(struct imap_conn *conn);
void cmd_deleteacl(struct imap_conn *conn);
void cmd_getacl(struct imap_conn *conn);
void cmd_listrights(struct imap_conn *conn);
void cmd_myrights(struct imap_conn *conn);

/* cmd-select.c */
void cmd_select(struct imap_conn *conn);
void cmd_examine(struct imap_conn *conn);
void cmd_close(struct imap_conn *conn);
void cmd_unselect(struct imap_conn *conn);

#endif
