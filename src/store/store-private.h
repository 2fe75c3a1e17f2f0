/* SPDX-License-Identifier: MIT */
/*
 * store-private.h: what the store's files share and front-ends never see.
 *
 * Split of work inside the store:
 *   store.c, store-error.c, store-domain.c, store-name.c: base directory,
 *       errors, domains, name validation.
 *   store-account.c, store-password.c, store-info.c: accounts, settings,
 *       passwords (crypt + SCRAM), account.info (per-mailbox UIDVALIDITY,
 *       UIDNEXT, keywords, class; subscriptions), the account lock.
 *   store-mailbox-list.c: create/delete/rename/list/class/subscriptions.
 *   mailbox.c, mailbox-index.c, fmt-mbox.c, fmt-mdir.c: opened
 *       mailboxes, the index cache and the two on-disk formats.
 *
 * On-disk formats: docs/storage-format.md.
 */
#ifndef STORE_PRIVATE_H
#define STORE_PRIVATE_H

#include "store.h"
#include "dict.h"

#include <pthread.h>

struct store {
	char *base_dir;
	char *main_domain;
	pthread_mutex_t lock;   /* guards main_domain */
	/* Earlier main_domain strings, freed by store_close() so pointers
	   from store_main_domain() stay valid. */
	char **old_domains;
	unsigned int old_domain_count;
};

struct account {
	struct store *store;
	char *name;             /* canonical: user or user@domain */
	char *user;             /* local part */
	char *domain;           /* domain name */
	bool main_domain;
	enum account_type type;
	/* Multi: ".../NAME.macnt"; single: ".../NAME" (no suffix). */
	char *path;
	char *settings_path;    /* account.settings or NAME.settings */
	char *info_path;        /* account.info or NAME.info */
	char *lock_path;        /* account.lock or NAME.lock */
	/* flock()ed fd while locked, else -1; lock_depth for nesting. */
	int lock_fd;
	int lock_depth;
	bool lock_exclusive;
	/* Highest UIDVALIDITY this handle handed out. */
	uint32_t last_uidvalidity;
};

/*
 * The account lock: flock() on the lock file. Exclusive for every change
 * (messages, flags, mailbox list, account.info, settings), shared for
 * reads that need a consistent picture. Nests within one handle (an
 * exclusive request inside a shared hold is a bug). Blocks until granted.
 */
int account_lock(struct account *account, bool exclusive);
void account_unlock(struct account *account);

/*
 * Path of a mailbox's file or directory: "<account path>/<name>.mbox" or
 * ".mdir" for multi accounts; "<account path>.mbox|.mdir" for single
 * ones (name must be INBOX). Caller frees.
 */
char *account_mailbox_path(struct account *account, const char *name,
			   enum mailbox_format format);
/* Finds the existing mailbox file; -1 NOT_FOUND when none. */
int account_mailbox_locate(struct account *account, const char *name,
			   enum mailbox_format *format_r, char **path_r);
/* Where the index cache of a mailbox lives (caller frees). */
char *account_mailbox_index_path(struct account *account, const char *name,
				 enum mailbox_format format);

/*
 * Durable per-mailbox state kept in account.info under
 * Mailboxes = { NAME = { UIDValidity; UIDNext; HighestModSeq; Keywords;
 * Class; }; }. These are the truth, not a cache: UIDNEXT here plus the
 * UIDs in the mailbox files guarantee UIDs are never reused even when
 * every index file is lost. Caller holds the account lock for _set.
 */
struct mailbox_meta {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	char *keywords[STORE_KEYWORDS_MAX];
	unsigned int keyword_count;
	char *class;
};
/* Reads the meta of name; a mailbox with no entry gets a fresh one
   (uidvalidity from the clock, uidnext 1) which is NOT saved. */
int account_mailbox_meta_get(struct account *account, const char *name,
			     struct mailbox_meta *meta_r);
int account_mailbox_meta_set(struct account *account, const char *name,
			     const struct mailbox_meta *meta);
int account_mailbox_meta_remove(struct account *account, const char *name);
/* Moves the entry of old_name (and of its children) to new_name. */
int account_mailbox_meta_rename(struct account *account,
				const char *old_name, const char *new_name);
void mailbox_meta_free(struct mailbox_meta *meta);

/* A new UIDVALIDITY: seconds since the epoch, kept distinct from any
   value used in this account before. */
uint32_t account_new_uidvalidity(struct account *account);

/* Normalises a mailbox name: "inbox" in any case -> "INBOX", also as
   the first component ("inbox/x" -> "INBOX/x"). Caller frees. */
char *store_mailbox_name_normalize(const char *name);

/* Creates a mailbox's empty file or .mdir directory durably (for
   store-mailbox-list.c; deleting is a rename aside there). */
int mailbox_files_create(struct account *account, const char *name,
			 enum mailbox_format format);

/* ---- store core helpers (store.c, store-name.c, store-account.c) ---- */

/* Directory holding the accounts of domain: <base>/Accounts for the main
   domain (or NULL), else <base>/Domains/<domain>. Caller frees. */
char *store_domain_dir(struct store *store, const char *domain);
/* True when domain (any case) is the main domain's name. */
bool store_domain_is_main(struct store *store, const char *domain);
/*
 * The store-wide administration lock (Settings/accounts.lock, flock):
 * serialises creating, deleting and renaming accounts and domains. Taken
 * before any account lock, never after. Blocks.
 */
int store_admin_lock(struct store *store, int *fd_r);
void store_admin_unlock(int *fd);
/* mkdir + fsync of the parent; an existing directory is fine. When the
   fsync fails the new directory is removed again. */
int store_mkdir(const char *path);

/*
 * A few renames done as one step that can be taken back: run them in
 * order; on failure, or when a later step (a directory fsync) fails,
 * undo renames back what was done, last first, so the names are as
 * before. An undo that fails is logged and leaves the state a crash at
 * that point would leave (see the callers for what the next open does).
 */
#define STORE_RENAMES_MAX 8
struct store_renames {
	unsigned int count;
	struct {
		char *from, *to;
		bool missing_ok;        /* from may not exist */
		bool done;
	} steps[STORE_RENAMES_MAX];
};
/* Adds a rename; takes over from and to (malloc'd). */
void store_renames_add(struct store_renames *renames, char *from, char *to,
		       bool missing_ok);
/* Renames in order; -1 with the error set after undoing what it did. */
int store_renames_run(struct store_renames *renames);
void store_renames_undo(struct store_renames *renames);
void store_renames_free(struct store_renames *renames);
/* rm -rf through vfs (symlinks are removed, never followed); a path that
   is already gone is fine. Does not fsync. */
int store_remove_tree(const char *path);
/* A hidden temp name in dir: "<dir>/.tmp-<pid>-<n>-<what>". Names
   starting with '.' are never accounts, domains or mailboxes. Caller
   frees. */
char *store_temp_path(const char *dir, const char *what);
/* Removes leftover temp entries of dead processes in dir: our hidden
   temp names, and the "FILE.tmp.PID.TID" files of vfs_write_file_atomic
   (a process killed while writing account.info, settings). */
void store_cleanup_temp(const char *dir);

/* Appends name (taken over) to a names array; sorts one (strcmp). */
void store_names_add(char ***names, unsigned int *count, char *name);
void store_names_sort(char **names, unsigned int count);

/* Lower-cased copy. Caller frees. */
char *store_str_lower(const char *s);
/* Whether one mailbox name component (not NUL-terminated, len bytes)
   passes store_check_mailbox_name()'s component rules; top: it is the
   first component. Sets no error. */
bool store_mailbox_component_valid(const char *comp, size_t len, bool top);
/* name is "INBOX" in any case. */
bool store_mailbox_name_is_inbox(const char *name);

/* Reads account.settings (or NAME.settings); a missing file is an empty
   dictionary. Free with dict_value_free(). */
int account_settings_read(struct account *account,
			  struct dict_value **settings_r);
/* Replaces the settings file durably (caller holds the exclusive lock). */
int account_settings_write(struct account *account,
			   const struct dict_value *settings);
/* Reads a dictionary file (a missing file is an empty dictionary;
   CORRUPT when it does not parse) / replaces one durably. */
int store_dict_file_read(const char *path, struct dict_value **dict_r);
int store_dict_file_write(const char *path, const struct dict_value *dict);
/* Puts a crypt(3) hash and a SCRAM-SHA-256 verifier of password into a
   settings dictionary (store-password.c). */
int account_settings_set_password(struct dict_value *settings,
				  const char *password);
/* Constant-time check of password against a crypt(3) hash: 1 match,
   0 mismatch, -1 (CORRUPT) unusable hash. */
int store_password_verify_hash(const char *hash, const char *password);
/* store_password_verify_hash of the password's SASLprep form, then (for
   hashes made before passwords were prepared) of the password as given
   when that differs. */
int store_password_verify(const char *hash, const char *password);
/* account.info (store-info.c). _read takes no lock (the file is
   replaced atomically) and reads a corrupt file as empty; _update runs
   cb on the parsed file under the exclusive account lock and writes the
   result durably when cb returns 0. */
int account_info_read(struct account *account, struct dict_value **info_r);
typedef int account_info_update_cb_t(struct dict_value *info, void *context);
int account_info_update(struct account *account, account_info_update_cb_t *cb,
			void *context);
enum meta_move_flags {
	/* Move the entries of name's descendants too. */
	META_MOVE_CHILDREN = 0x01,
	/* Copy: leave the old entries in place. */
	META_MOVE_KEEP_OLD = 0x02,
};
int account_mailbox_meta_move(struct account *account, const char *old_name,
			      const char *new_name,
			      enum meta_move_flags flags);
/* Removes name's entry and, with children, its descendants'. */
int account_mailbox_meta_remove_ex(struct account *account, const char *name,
				   bool children);

/* The bytes of account.info, kept to put back when a change of several
   steps fails after it changed the file (the caller holds the exclusive
   lock throughout, so nobody else changed it meanwhile). */
struct account_info_backup {
	unsigned char *data;
	size_t len;
	bool existed;
};
int account_info_backup(struct account *account,
			struct account_info_backup *backup_r);
/* Writes the backup back durably (removes a file that did not exist);
   a failure is logged and the error left as it was. */
void account_info_restore(struct account *account,
			  const struct account_info_backup *backup);
void account_info_backup_free(struct account_info_backup *backup);

/* Multi accounts: recreates a missing INBOX (an INBOX rename cut short
   by a crash) as an empty mbox with a new UIDVALIDITY. */
int account_inbox_repair(struct account *account);

#endif
