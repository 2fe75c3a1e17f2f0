/* SPDX-License-Identifier: MIT */
/*
 * store-acl.h: mailbox access control lists (RFC 4314 rights letters)
 * and the names of other users' mailboxes ("~user/box"). Knows no
 * protocol: IMAP's SETACL/GETACL/... and the CLI's `mailbox acl` use it.
 *
 * An ACL is a list of (identifier, rights) pairs kept with the mailbox's
 * other durable data in account.info (docs/storage-format.md). The
 * identifier is "anyone" or an account name as store_account_name()
 * returns it. The account that owns the mailbox always has every right;
 * its rights are not stored and cannot be changed.
 */
#ifndef STORE_ACL_H
#define STORE_ACL_H

#include "store-error.h"
#include "buf.h"

struct account;
struct store;

/* RFC 4314 §2.1 rights, one bit each. */
#define STORE_ACL_LOOKUP 0x001u         /* l */
#define STORE_ACL_READ 0x002u           /* r */
#define STORE_ACL_SEEN 0x004u           /* s */
#define STORE_ACL_WRITE 0x008u          /* w */
#define STORE_ACL_INSERT 0x010u         /* i */
#define STORE_ACL_POST 0x020u           /* p */
#define STORE_ACL_CREATE 0x040u         /* k */
#define STORE_ACL_DELETE_MAILBOX 0x080u /* x */
#define STORE_ACL_DELETE_MSG 0x100u     /* t */
#define STORE_ACL_EXPUNGE 0x200u        /* e */
#define STORE_ACL_ADMIN 0x400u          /* a */
#define STORE_ACL_ALL 0x7ffu
/* The letters of the bits above, in bit order. */
#define STORE_ACL_LETTERS "lrswipkxtea"

#define STORE_ACL_ANYONE "anyone"
/* Entries per mailbox; an identifier is an account name or "anyone". */
#define STORE_ACL_ENTRIES_MAX 256

/*
 * Parses rights letters (no "+"/"-" prefix). The obsolete RFC 2086
 * letters map as RFC 4314 §2.1.1 allows for servers where DELETE needs
 * "x": "c" is "k", "d" is "xte". 0, or -1 (INVALID) on any other byte.
 */
int store_acl_rights_parse(const char *text, unsigned int *rights_r);
/* Appends the letters of rights, plus the virtual "c" when "k" is set
   and "d" when any of "xte" is (RFC 4314 §2.1.1). */
void store_acl_rights_append(buf_t *out, unsigned int rights);

struct store_acl_entry {
	char *identifier;
	unsigned int rights;
};

/* The stored entries of a mailbox (not the owner's implicit ones), in
   the order kept. NOT_FOUND when the mailbox does not exist. Reads
   account.info without a lock. Free with store_acl_entries_free(). */
int store_mailbox_acl_get(struct account *account, const char *name,
			  struct store_acl_entry **entries_r,
			  unsigned int *count_r);
void store_acl_entries_free(struct store_acl_entry **entries,
			    unsigned int count);

enum store_acl_mode {
	STORE_ACL_MODE_REPLACE,
	STORE_ACL_MODE_ADD,
	STORE_ACL_MODE_REMOVE,
};
/*
 * Changes identifier's rights on the mailbox, durably (exclusive account
 * lock). An entry left with no rights is removed. The identifier is
 * "anyone" (any case) or an existing account (NOT_FOUND otherwise),
 * stored as its canonical name; the owner's own name is NOT_POSSIBLE.
 * 0 or -1.
 */
int store_mailbox_acl_set(struct account *account, const char *name,
			  const char *identifier, enum store_acl_mode mode,
			  unsigned int rights);
/* Removes identifier's entry (none is fine). 0 or -1. */
int store_mailbox_acl_delete(struct account *account, const char *name,
			     const char *identifier);

/*
 * The rights user (a canonical account name) has on the mailbox: all of
 * them for the owner, else the union of user's and anyone's entries.
 * A mailbox without an entry gives 0, so a caller cannot tell a missing
 * mailbox from one it may not see. Reads account.info without a lock.
 */
int store_mailbox_rights(struct account *account, const char *name,
			 const char *user, unsigned int *rights_r);
/* Names (sorted) of the mailboxes of account on which user has every
   right of need; free with store_names_free(). */
int store_acl_mailboxes(struct account *account, const char *user,
			unsigned int need, char ***names_r,
			unsigned int *count_r);

/*
 * Splits a shared name "~user/box" (UTF-8): 0 with the account name and
 * the mailbox name (INBOX normalised) as new strings, or -1 (INVALID)
 * unless the user part is a valid account name and the rest a valid
 * mailbox name: "~", "~/x", "~bob", "~bob/", "~bob/../x" are refused.
 */
int store_shared_name_split(const char *name, char **user_r, char **box_r);

#endif
