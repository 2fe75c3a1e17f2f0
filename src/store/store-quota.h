/* SPDX-License-Identifier: MIT */
/*
 * store-quota.h: account quotas. An account may have a storage limit
 * (bytes of all its messages) and a message-count limit, CommuniGate-
 * style settings read from, in this order:
 *   1. the account's settings (account.settings or NAME.settings),
 *   2. the domain's defaults: Domains/DOMAIN/Settings/AccountDefaults.
 *      settings (secondary domains only),
 *   3. the server-wide defaults: Settings/AccountDefaults.settings,
 * the first that has the key winning; none means unlimited. Values are
 * decimal numbers, storage with an optional K, M, G or T suffix (powers
 * of 1024), or "unlimited".
 *
 * Usage is the sum of the index headers of the account's mailboxes (each
 * index is a cache of its mailbox file and is refreshed when stale), so
 * it is exact and survives crashes with no counter of its own, and
 * costs one small read per mailbox, never a scan of the messages. It
 * is computed only for accounts that have a limit.
 *
 * Every path that adds messages (append, delivery, copy; move between
 * accounts) checks the limits under the account's exclusive lock and
 * fails with STORE_ERROR_OVERQUOTA, changing nothing.
 */
#ifndef STORE_QUOTA_H
#define STORE_QUOTA_H

#include "store-error.h"

struct account;

/* The settings keys. */
#define STORE_QUOTA_KEY_STORAGE "MaxAccountSize"
#define STORE_QUOTA_KEY_MESSAGES "MaxMessages"
/* A limit that is not there. */
#define STORE_QUOTA_UNLIMITED UINT64_MAX
/* Largest limit accepted (either resource): 2^60. */
#define STORE_QUOTA_LIMIT_MAX (1ULL << 60)
/* Longest setting value accepted (bytes). */
#define STORE_QUOTA_VALUE_MAX 32

enum store_quota_resource {
	STORE_QUOTA_STORAGE,
	STORE_QUOTA_MESSAGES,
};

struct store_quota {
	uint64_t storage_limit;         /* bytes or STORE_QUOTA_UNLIMITED */
	uint64_t message_limit;         /* messages or ..._UNLIMITED */
	uint64_t storage_used;          /* bytes */
	uint64_t messages_used;
};

/*
 * Limits and usage of account. Takes the account's shared lock (nested
 * inside a lock the caller holds). With no limit usage is still
 * computed. Returns 0 or -1. Blocks on the disk.
 */
int store_quota_get(struct account *account, struct store_quota *quota_r);
/*
 * Whether count messages of bytes would fit now: 0, or -1 with
 * STORE_ERROR_OVERQUOTA (or an I/O error). Advisory (LMTP asks at RCPT,
 * before the message comes): the save checks again under the lock.
 */
int store_quota_check(struct account *account, uint64_t bytes,
		      uint64_t count);
/* Only the limits (usage 0): reads the settings files. 0 or -1. */
int store_quota_get_limits(struct account *account,
			   struct store_quota *quota_r);
/*
 * Sets the account's own limits in one durable write of its settings.
 * Each of storage and messages is a limit ("unlimited", a number,
 * storage with K/M/G/T), "default" (removes the account's own limit so
 * the domain's or server's default applies) or NULL (left as it is).
 * 0, or -1 (STORE_ERROR_INVALID for a malformed value; nothing changed).
 */
int store_quota_set(struct account *account, const char *storage,
		    const char *messages);
/* Parses a limit value: 0 and *limit_r, or -1 (STORE_ERROR_INVALID).
   Suffixes only when bytes. */
int store_quota_parse(const char *value, bool bytes, uint64_t *limit_r);

/*
 * Bytes of the messages flagged \Deleted in mailbox name (what an
 * expunge would free: RFC 9208 STATUS DELETED-STORAGE). Reads the
 * mailbox's index records. 0 or -1.
 */
int store_quota_deleted_bytes(struct account *account, const char *name,
			      uint64_t *bytes_r);

#endif
