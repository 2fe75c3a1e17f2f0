/* SPDX-License-Identifier: MIT */
/*
 * store-metadata.h: per-mailbox special-use attributes (RFC 6154) and
 * annotations (RFC 5464 METADATA) of an account, kept in account.info
 * with the mailbox's other durable state, so RENAME and DELETE carry
 * them along. Protocol-neutral: the IMAP front-end maps them to LIST
 * attributes and GETMETADATA/SETMETADATA, the CLI prints them.
 *
 * Special use: a mailbox whose entry has no SpecialUse key gets a
 * default from its name (top-level "Sent", "Drafts", "Trash", "Junk"
 * and a few common variants); once set, even to nothing, the stored
 * value counts.
 *
 * Annotations: entry names are "/private/..." or "/shared/...", ASCII,
 * case-insensitive (stored lower case). Two entries are views of other
 * state rather than stored values: "/private/specialuse" (RFC 6154 §4,
 * mailboxes only) and "/shared/vendor/commune/class", the CommuniGate
 * mailbox class (IPF.Appointment, ...). Every call may block (fsync).
 */
#ifndef STORE_METADATA_H
#define STORE_METADATA_H

#include "store-mailbox.h"

struct account;

/* RFC 6154 §2 special-use attributes, one bit each. */
#define STORE_USE_ALL 0x01u
#define STORE_USE_ARCHIVE 0x02u
#define STORE_USE_DRAFTS 0x04u
#define STORE_USE_FLAGGED 0x08u
#define STORE_USE_JUNK 0x10u
#define STORE_USE_SENT 0x20u
#define STORE_USE_TRASH 0x40u
#define STORE_USE_MASK 0x7fu
/* What a real mailbox can be: \All and \Flagged name virtual mailboxes,
   which the store does not make; only the administrator may set them. */
#define STORE_USE_ASSIGNABLE (STORE_USE_ARCHIVE | STORE_USE_DRAFTS | \
			      STORE_USE_JUNK | STORE_USE_SENT | \
			      STORE_USE_TRASH)

/* Limits on annotations (RFC 5464 §4.3 lets a server set them). */
#define STORE_METADATA_ENTRY_MAX 256            /* bytes of a name */
#define STORE_METADATA_VALUE_MAX (16u * 1024)   /* bytes of a value */
#define STORE_METADATA_ENTRIES_MAX 64           /* per mailbox / server */
/* All stored values of the account together: account.info is read by
   many store calls, so it must stay small. */
#define STORE_METADATA_ACCOUNT_MAX (256u * 1024)

#define STORE_METADATA_SPECIALUSE "/private/specialuse"
#define STORE_METADATA_CLASS "/shared/vendor/commune/class"

/* "\Sent" (any case, with the backslash) to its bit; 0 when unknown. */
unsigned int store_special_use_parse(const char *attr);
/* Space-separated attributes ("\Sent \Archive", "" for none) to bits:
   0, or -1 when one is unknown. */
int store_special_use_parse_list(const char *text, unsigned int *uses_r);
/* Appends the attributes of uses, space-separated, in RFC order. */
void store_special_use_append(buf_t *out, unsigned int uses);

/* The mailbox's attributes (stored, else the default of its name). */
int store_mailbox_get_special_use(struct account *account, const char *name,
				  unsigned int *uses_r);
/* Stores uses (0: explicitly none) durably. */
int store_mailbox_set_special_use(struct account *account, const char *name,
				  unsigned int uses);
/* uses_r[i] = the attributes of infos[i] (0 for hierarchy nodes), with
   one read of account.info: for LIST. */
int store_mailbox_special_uses(struct account *account,
			       const struct mailbox_info *infos,
			       unsigned int count, unsigned int *uses_r);
/* store_mailbox_create() plus the attributes, all or nothing (RFC 6154
   §3 CREATE ... (USE (...))). */
int store_mailbox_create_special(struct account *account, const char *name,
				 enum mailbox_format format,
				 const char *class, unsigned int uses);

struct store_metadata_entry {
	char *name;             /* lower case */
	unsigned char *value;   /* NULL: remove (in _set) */
	size_t len;
};

/* Entry name check (RFC 5464 §3.2): "/private" or "/shared", then
   "/"-separated non-empty components of printable ASCII without '*'
   and '%', at most STORE_METADATA_ENTRY_MAX bytes. With root, the bare
   "/private" and "/shared" pass too (GETMETADATA DEPTH). 0, or -1
   (INVALID). */
int store_metadata_check_entry(const char *entry, bool root);

/* Every entry of mailbox (NULL: the server's), the computed ones
   included, sorted by name; caller frees with
   store_metadata_entries_free(). NOT_FOUND when the mailbox does not
   exist. */
int store_metadata_get(struct account *account, const char *mailbox,
		       struct store_metadata_entry **entries_r,
		       unsigned int *count_r);
void store_metadata_entries_free(struct store_metadata_entry **entries,
				 unsigned int count);
/* Sets (value != NULL) or removes entries, all or nothing, durably.
   Errors: INVALID (bad name, special-use list or class), OVERQUOTA (a
   limit: value size, entries per mailbox, account total),
   NOT_POSSIBLE (a computed entry on the server), NOT_FOUND. */
int store_metadata_set(struct account *account, const char *mailbox,
		       const struct store_metadata_entry *entries,
		       unsigned int count);

#endif
