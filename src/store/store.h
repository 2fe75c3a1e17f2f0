/* SPDX-License-Identifier: MIT */
/*
 * store.h: the account store over a CommuniGate-layout base directory.
 * Knows no protocol. The store's module header: it includes only the
 * store's own public headers.
 *
 * Threads: a struct store may be shared by threads; struct account and
 * struct mailbox handles belong to one thread at a time. Several
 * processes (the server and CLI commands) may work on one account at once:
 * every change takes the account's lock file (see docs/architecture.md).
 *
 * Every call may block on the disk (fsync); the daemon calls the store
 * from worker threads, never from its event loop.
 */
#ifndef STORE_H
#define STORE_H

#include "store-error.h"
#include "store-account.h"
#include "store-mailbox.h"

struct store;

/* Limits on names (bytes). */
#define STORE_DOMAIN_NAME_MAX 253
#define STORE_ACCOUNT_NAME_MAX 64
#define STORE_MAILBOX_NAME_MAX 512
#define STORE_MAILBOX_COMPONENT_MAX 200
#define STORE_MAILBOX_DEPTH_MAX 16

/*
 * Opens the base directory, creating Accounts/, Domains/ and Settings/
 * when missing. The main domain comes from Settings/Main.settings
 * (key DomainName), default "localhost". Returns 0 or -1.
 */
int store_open(const char *base_dir, struct store **store_r);
void store_close(struct store **store);

const char *store_base_dir(struct store *store);
const char *store_main_domain(struct store *store);
/* Sets and persists the main domain name. */
int store_set_main_domain(struct store *store, const char *domain);

/* Secondary domains. */
int store_domain_create(struct store *store, const char *domain);
/* Refuses to delete a domain that still has accounts. */
int store_domain_delete(struct store *store, const char *domain);
/* Sorted secondary domain names; free with store_names_free(). */
int store_domain_list(struct store *store, char ***names_r,
		      unsigned int *count_r);
bool store_domain_exists(struct store *store, const char *domain);
void store_names_free(char ***names, unsigned int count);

/* Name checks: 0 when valid, else -1 with STORE_ERROR_INVALID set. */
int store_check_domain_name(const char *domain);
int store_check_account_name(const char *name);
int store_check_mailbox_name(const char *name);

#endif
