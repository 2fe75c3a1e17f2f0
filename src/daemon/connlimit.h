/* SPDX-License-Identifier: MIT */
/*
 * connlimit.h: counting concurrent connections against a total and a
 * per-client-address limit (`commune serve --max-connections`,
 * `--max-connections-per-ip`). Pure bookkeeping: no sockets, no I/O, no
 * locking (the loop thread owns it). Part of src/daemon.
 *
 * A client address is its IPv4 address, or the /64 prefix of an IPv6
 * address: one IPv6 customer is routinely given a whole /64, so a limit
 * per full address would be no limit at all. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d, from a dual-stack listener) count as the IPv4 address.
 */
#ifndef CONNLIMIT_H
#define CONNLIMIT_H

#include "lib.h"

#include <sys/socket.h>

struct connlimit;
struct connlimit_entry;

struct connlimit_settings {
	/* Concurrent connections at most; 0: no limit. */
	unsigned int max_connections;
	/* Concurrent connections from one client address; 0: no limit. */
	unsigned int max_per_ip;
	/* Apply max_per_ip to loopback clients too (127.0.0.0/8, ::1);
	   otherwise they are counted but never refused for it. */
	bool limit_loopback;
};

enum connlimit_result {
	CONNLIMIT_OK,
	/* max_connections of the limit or of one of its parents */
	CONNLIMIT_FULL,
	/* max_per_ip for this client's address */
	CONNLIMIT_IP_FULL,
};

/* family byte, then 4 (IPv4) or 8 (IPv6 /64) address bytes */
#define CONNLIMIT_KEY_SIZE 9

struct connlimit_key {
	unsigned char bytes[CONNLIMIT_KEY_SIZE];
};

/* The client address addr counts as (see above), and whether it is
   loopback. Addresses of other families all share one key. Pure. */
void connlimit_key_from_addr(const struct sockaddr *addr, socklen_t addrlen,
			     struct connlimit_key *key_r, bool *loopback_r);

/* A limit; with parent, every connection also counts against the
   parent's max_connections (the parent's max_per_ip is not used). The
   parent must outlive it. Never fails. */
struct connlimit *connlimit_create(const struct connlimit_settings *set,
				   struct connlimit *parent);
/* Frees it; every entry must have been closed (a leak is a bug and
   panics). Accepts NULL. */
void connlimit_destroy(struct connlimit **limit);

/* Counts one more connection from addr, unless that would pass a
   limit: CONNLIMIT_OK and *entry_r (to give to connlimit_close() exactly
   once when the connection is gone), else the limit reached and nothing
   is counted. */
enum connlimit_result connlimit_open(struct connlimit *limit,
				     const struct sockaddr *addr,
				     socklen_t addrlen,
				     struct connlimit_entry **entry_r);
/* Uncounts what connlimit_open() counted. Sets *entry to NULL; accepts
   NULL. */
void connlimit_close(struct connlimit_entry **entry);

/* The settings' max_connections (0: no limit). */
unsigned int connlimit_max(const struct connlimit *limit);
/* Connections counted now: all of them, and those from addr's key. */
unsigned int connlimit_count(const struct connlimit *limit);
unsigned int connlimit_ip_count(const struct connlimit *limit,
				const struct sockaddr *addr,
				socklen_t addrlen);

#endif
