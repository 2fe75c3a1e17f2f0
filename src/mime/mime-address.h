/* SPDX-License-Identifier: MIT */
/*
 * mime-address.h: RFC 5322 §3.4 address lists (mailboxes, groups,
 * quoted strings, comments, routes and the §4.4 obsolete forms) parsed
 * into the four parts IMAP's ENVELOPE wants (RFC 3501 §7.4.2: name,
 * source route, mailbox, host). In mime, above lib.
 *
 * Strings keep the header's bytes (no RFC 2047 decoding: ENVELOPE shows
 * encoded-words as written); quoted-pairs are unescaped, comments and
 * folding removed. A group is a start entry (mailbox = group name,
 * domain NULL) followed by its members and an end entry (everything
 * NULL). Broken input never fails: with MIME_ADDRESS_FILL_MISSING an
 * address without mailbox or domain gets "MISSING_MAILBOX" /
 * "MISSING_DOMAIN", an unterminated <...> the domain "SYNTAX_ERROR" and
 * a broken route "INVALID_ROUTE", the placeholders clients know from
 * UW imapd and Dovecot.
 */
#ifndef MIME_ADDRESS_H
#define MIME_ADDRESS_H

#include "lib.h"

struct mime_arena;

/* Address lists longer than this are cut (the rest is ignored). */
#define MIME_ADDRESS_MAX_COUNT 100000

enum mime_address_flags {
	MIME_ADDRESS_FILL_MISSING = 0x01,
};

struct mime_address {
	struct mime_address *next;
	/* display name (phrase, or the comment after an addr-spec) */
	const char *name;
	/* obsolete source route "@a,@b" without the final ":" */
	const char *route;
	const char *mailbox;
	const char *domain;
	/* the address did not follow RFC 5322 */
	bool invalid_syntax;
};

static inline bool
mime_address_is_group_start(const struct mime_address *addr)
{
	return addr->domain == NULL && addr->mailbox != NULL;
}

static inline bool
mime_address_is_group_end(const struct mime_address *addr)
{
	return addr->domain == NULL && addr->mailbox == NULL;
}

/*
 * Parses an address-list (From, To, Cc, ... value, folds allowed) and
 * returns the first address or NULL when there is none. Everything is
 * allocated from arena. Never fails, never blocks.
 */
struct mime_address *
mime_address_parse(struct mime_arena *arena, const void *data, size_t len,
		   enum mime_address_flags flags);

/* The last address of list (NULL for NULL): for appending lists. */
struct mime_address *mime_address_last(struct mime_address *list);

#endif
