/* SPDX-License-Identifier: MIT */
/*
 * store-mailbox.h: mailboxes of an account and the messages in them.
 *
 * Names are UTF-8, hierarchy separator '/', "INBOX" case-insensitive
 * (always returned as "INBOX"). A mailbox may hold messages and children.
 * Each mailbox is either text format (.mbox) or directory format (.mdir),
 * chosen at creation; both sit behind this one interface.
 *
 * An opened struct mailbox is a view: a snapshot of the message list
 * (sequence number = index + 1, UID order). store_mailbox_sync() brings
 * the view up to date with changes made by other handles and processes
 * and reports what changed, which is what IMAP needs for EXISTS, EXPUNGE
 * and FETCH FLAGS. Between syncs the view's sequence numbers are stable.
 */
#ifndef STORE_MAILBOX_H
#define STORE_MAILBOX_H

#include "store-error.h"
#include "buf.h"

#include <time.h>

struct account;
struct mailbox;

enum mailbox_format {
	MAILBOX_FORMAT_MBOX,
	MAILBOX_FORMAT_MDIR,
};

/* System flags (bits 0..4); keyword i (0 <= i < STORE_KEYWORDS_MAX) is
   bit STORE_FLAG_KEYWORD(i). \Recent is not stored. */
#define STORE_FLAG_SEEN 0x01u
#define STORE_FLAG_ANSWERED 0x02u
#define STORE_FLAG_FLAGGED 0x04u
#define STORE_FLAG_DELETED 0x08u
#define STORE_FLAG_DRAFT 0x10u
#define STORE_FLAGS_SYSTEM 0x1fu
#define STORE_KEYWORDS_MAX 26
#define STORE_FLAG_KEYWORD(i) (1u << (5 + (i)))
#define STORE_KEYWORD_NAME_MAX 64

/* Largest message the store accepts (bytes). */
#define STORE_MESSAGE_MAX (64u * 1024 * 1024)

/* Mailbox classes (CommuniGate). NULL/"" = mail. */
#define STORE_CLASS_CALENDAR "IPF.Appointment"
#define STORE_CLASS_TASKS "IPF.Task"
#define STORE_CLASS_CONTACTS "IPF.Contact"
#define STORE_CLASS_NOTES "IPF.StickyNote"

/* ---- mailbox management (by name) ---- */

struct mailbox_info {
	char *name;
	enum mailbox_format format;
	char *class;            /* NULL for mail */
	bool has_children;
	bool selectable;        /* false: only a hierarchy node (no file) */
};

/* Every mailbox and hierarchy node, sorted by name (INBOX first). */
int store_mailbox_list(struct account *account,
		       struct mailbox_info **infos_r, unsigned int *count_r);
void store_mailbox_infos_free(struct mailbox_info **infos,
			      unsigned int count);
bool store_mailbox_exists(struct account *account, const char *name);
int store_mailbox_get_format(struct account *account, const char *name,
			     enum mailbox_format *format_r);
const char *store_mailbox_format_name(enum mailbox_format format);
int store_mailbox_format_parse(const char *name,
			       enum mailbox_format *format_r);

/* Creates a mailbox (parents become hierarchy nodes as needed). class
   may be NULL. Single-mailbox accounts refuse (NOT_POSSIBLE). */
int store_mailbox_create(struct account *account, const char *name,
			 enum mailbox_format format, const char *class);
/* Deletes a mailbox's messages and file; children stay. INBOX refused. */
int store_mailbox_delete(struct account *account, const char *name);
/* Renames a mailbox and its children. Renaming INBOX moves its messages
   and leaves a new empty INBOX of the same format. */
int store_mailbox_rename(struct account *account, const char *old_name,
			 const char *new_name);
/* Class: *class_r is NULL for mail; caller frees. */
int store_mailbox_get_class(struct account *account, const char *name,
			    char **class_r);
int store_mailbox_set_class(struct account *account, const char *name,
			    const char *class);

/* Subscriptions: names need not exist. Sorted; free with
   store_names_free(). */
int store_subscription_list(struct account *account, char ***names_r,
			    unsigned int *count_r);
int store_subscription_add(struct account *account, const char *name);
int store_subscription_remove(struct account *account, const char *name);

/* ---- opened mailboxes ---- */

struct store_msg {
	uint32_t uid;
	uint32_t flags;         /* STORE_FLAG_* and keyword bits */
	uint64_t size;          /* exact RFC 822 size in bytes */
	int64_t internal_date;  /* seconds since the epoch, UTC */
	int64_t save_date;      /* when it entered this mailbox */
	uint64_t modseq;        /* RFC 7162 MODSEQ of the last change */
};

struct mailbox_status {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t unseen;
	uint32_t deleted;
	uint64_t bytes;
};

int store_mailbox_open(struct account *account, const char *name,
		       struct mailbox **box_r);
void store_mailbox_close(struct mailbox **box);
const char *store_mailbox_name(struct mailbox *box);
enum mailbox_format store_mailbox_format(struct mailbox *box);
struct account *store_mailbox_account(struct mailbox *box);

/* Status of the view (after the last sync). */
void store_mailbox_get_status(struct mailbox *box,
			      struct mailbox_status *status_r);
/* Status by name without keeping the mailbox open (reads only the
   index; cheap). */
int store_mailbox_status(struct account *account, const char *name,
			 struct mailbox_status *status_r);

/* The view's messages in UID order; valid until the next sync. */
unsigned int store_mailbox_count(struct mailbox *box);
const struct store_msg *store_mailbox_msgs(struct mailbox *box);
/* 1-based sequence number of uid, or 0 when not in the view. */
uint32_t store_mailbox_seq(struct mailbox *box, uint32_t uid);

/* Keyword names of the mailbox, index = keyword number. */
unsigned int store_mailbox_keyword_count(struct mailbox *box);
const char *store_mailbox_keyword_name(struct mailbox *box, unsigned int i);
/* Finds a keyword; with create, adds it (durably). Returns 0 and the
   index, or -1 (NOT_FOUND, or NOT_POSSIBLE when the table is full). */
int store_mailbox_keyword_lookup(struct mailbox *box, const char *name,
				 bool create, unsigned int *index_r);

struct uid_array {
	uint32_t *uids;
	unsigned int count;
	unsigned int cap;
};
void uid_array_add(struct uid_array *arr, uint32_t uid);
void uid_array_free(struct uid_array *arr);

struct mailbox_sync_result {
	/* UIDs that left the view, ascending. */
	struct uid_array expunged;
	/* Messages appended to the end of the view. */
	unsigned int new_count;
	/* UIDs still in the view whose flags or modseq changed. */
	struct uid_array changed;
};
enum mailbox_sync_flags {
	/* Keep expunged messages in the view (IMAP must not send EXPUNGE
	   now); they are reported by a later sync without this flag. */
	MAILBOX_SYNC_FLAG_NO_EXPUNGES = 0x01,
};
/* Brings the view up to date. result_r may be NULL. Free the result with
   store_mailbox_sync_result_free(). */
int store_mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags,
		       struct mailbox_sync_result *result_r);
void store_mailbox_sync_result_free(struct mailbox_sync_result *result);
/* A file that is written whenever the mailbox changes (the index: every
   append, flag change and expunge ends by rewriting its header), for
   inotify (IN_MODIFY; IN_DELETE_SELF/IN_MOVE_SELF when it is rebuilt,
   then watch again) so IDLE learns of changes without polling. The
   file may not exist yet. Valid while box is open. */
const char *store_mailbox_watch_path(struct mailbox *box);
/* Cheap check without the lock: true when the mailbox may have changed
   since the last sync (reads the index header only). A false positive
   only costs a sync. */
bool store_mailbox_changed(struct mailbox *box);

/* Reads a whole message (exact bytes as appended) into out. */
int store_mailbox_msg_read(struct mailbox *box, uint32_t uid, buf_t *out);
/* Zero-copy access: 1 with a dup'd fd (caller closes) and the byte range
   holding exactly the message; 0 when the format cannot give one (use
   store_mailbox_msg_read); -1 on error. */
int store_mailbox_msg_fd(struct mailbox *box, uint32_t uid, int *fd_r,
			 off_t *offset_r, uint64_t *size_r);
/*
 * Appends msg's header fields that ENVELOPE, SORT and THREAD use (Date,
 * Subject, From, Sender, Reply-To, To, Cc, Bcc, In-Reply-To, Message-ID,
 * References), raw as "Name:value\r\n" each, in message order, from the
 * mailbox's header cache, or read from the message (and cached).
 * msg is from store_mailbox_msgs(). 0 ok, -1 error.
 */
int store_mailbox_msg_cached_header(struct mailbox *box,
				    const struct store_msg *msg, buf_t *out);
/* Whether the header cache keeps the field (name case-insensitive). */
bool store_header_field_cached(const char *name);

struct store_append {
	const unsigned char *data;
	size_t len;
	uint32_t flags;                 /* system flags only */
	const char *const *keywords;    /* NULL-terminated, or NULL */
	int64_t internal_date;          /* 0: now */
	const char *return_path;        /* envelope sender, may be NULL */
};
/* Appends count messages atomically (all or none) and durably. uids_r
   (count entries) gets the new UIDs. Does not sync the view. */
int store_mailbox_append(struct mailbox *box, const struct store_append *msgs,
			 unsigned int count, uint32_t *uids_r);
/* Closes what the view keeps open (the .mbox file) until a message is
   read again: an idle session then holds no descriptor but its socket.
   A message of a file replaced meanwhile reads as expunged until the
   next sync. */
void store_mailbox_release_file(struct mailbox *box);
/* store_mailbox_append() without opening a view (cheap even on huge
   mailboxes); *uidvalidity_r (may be NULL) is the mailbox's. A missing
   mailbox fails with STORE_ERROR_NOT_FOUND. */
int store_append_to(struct account *account, const char *mailbox_name,
		    const struct store_append *msgs, unsigned int count,
		    uint32_t *uids_r, uint32_t *uidvalidity_r);
/* Delivery without opening a view: cheap even on huge mailboxes. */
int store_deliver(struct account *account, const char *mailbox_name,
		  const struct store_append *msg, uint32_t *uid_r);

enum store_flags_mode {
	STORE_FLAGS_ADD,
	STORE_FLAGS_REMOVE,
	STORE_FLAGS_REPLACE,
};
/* Changes flags of uids (durably) and raises their MODSEQ. keywords is
   NULL-terminated (created as needed) or NULL. With unchangedsince != 0
   (RFC 7162 §3.1.3) messages whose modseq is greater are left alone and
   listed in failed_r (may be NULL). */
int store_mailbox_update_flags(struct mailbox *box, const uint32_t *uids,
			       unsigned int count, enum store_flags_mode mode,
			       uint32_t flags, const char *const *keywords,
			       uint64_t unchangedsince,
			       struct uid_array *failed_r);
/* Copies uids into dest (durably), flags and internal dates kept.
   dest_uids_r gets count UIDs. */
int store_mailbox_copy(struct mailbox *box, const uint32_t *uids,
		       unsigned int count, struct mailbox *dest,
		       uint32_t *dest_uids_r);
/* Copy, then expunge from box. */
int store_mailbox_move(struct mailbox *box, const uint32_t *uids,
		       unsigned int count, struct mailbox *dest,
		       uint32_t *dest_uids_r);
/* Removes messages flagged \Deleted (only those in uids when uids is not
   NULL: UID EXPUNGE). expunged_r (may be NULL) gets their UIDs. */
int store_mailbox_expunge(struct mailbox *box, const uint32_t *uids,
			  unsigned int count, struct uid_array *expunged_r);

/* UIDs expunged from box with a MODSEQ above since, ascending, for
   QRESYNC (RFC 7162 §3.2.5.1, §3.2.6); may hold UIDs still in the
   mailbox (an expunge that failed), which the caller drops. Returns 1,
   or 0 when the history does not reach back to since (the caller must
   take every UID not in the mailbox as possibly expunged), -1 on error.
   Takes the shared lock; reads only the history file. */
int store_mailbox_expunged_since(struct mailbox *box, uint64_t since,
				 struct uid_array *uids_r);

/* RFC 8474 object identifiers ("F" or "M" and 24 hex digits), derived
   from the account name and UIDVALIDITY (and UID): the same for as long
   as the mailbox (message) exists, never given to another. */
#define STORE_OBJECTID_MAX 25
void store_mailbox_id(struct account *account, uint32_t uidvalidity,
		      char out[STORE_OBJECTID_MAX + 1]);
void store_email_id(struct account *account, uint32_t uidvalidity,
		    uint32_t uid, char out[STORE_OBJECTID_MAX + 1]);

/* Verifies a mailbox's files (every message parses, UIDs ascending and
   unique, index agrees). Problems are appended to report as lines.
   Returns 0 clean, 1 problems found, -1 error. */
int store_mailbox_check(struct account *account, const char *name,
			buf_t *report);
/* Throws the index away and rebuilds it from the mailbox files. */
int store_mailbox_reindex(struct account *account, const char *name);

#endif
