/* SPDX-License-Identifier: MIT */
/*
 * store-account.h: accounts of the main and secondary domains.
 *
 * An account is named "user" (main domain) or "user@domain"; "user@<main
 * domain>" is the same account as "user". Names are case-insensitive and
 * stored lower-case.
 */
#ifndef STORE_ACCOUNT_H
#define STORE_ACCOUNT_H

#include "store-error.h"
#include "store-mailbox.h"

struct store;
struct account;

enum account_type {
	ACCOUNT_TYPE_MULTI,     /* NAME.macnt/ */
	ACCOUNT_TYPE_MBOX,      /* NAME.mbox + NAME.settings */
	ACCOUNT_TYPE_MDIR,      /* NAME.mdir/ + NAME.settings */
};

/* SCRAM-SHA-256 verifier (RFC 5802, RFC 7677). */
#define STORE_SCRAM_SALT_LEN 16
#define STORE_SCRAM_KEY_LEN 32
#define STORE_SCRAM_ITERATIONS 4096
struct account_scram {
	unsigned char salt[STORE_SCRAM_SALT_LEN];
	unsigned int iterations;
	unsigned char stored_key[STORE_SCRAM_KEY_LEN];
	unsigned char server_key[STORE_SCRAM_KEY_LEN];
};

/*
 * Creates an account with INBOX (multi accounts: in `inbox_format`, mbox
 * by default). password may be NULL (no login possible until set).
 * Durable when it returns 0.
 */
int store_account_create(struct store *store, const char *name,
			 enum account_type type, const char *password);
/* Like store_account_create, with the format of a multi account's INBOX
   (ignored for single-mailbox accounts, whose type decides it). */
int store_account_create_ex(struct store *store, const char *name,
			    enum account_type type, const char *password,
			    enum mailbox_format inbox_format);
int store_account_delete(struct store *store, const char *name);
/* Renames within or across domains; refuses when NEW exists. */
int store_account_rename(struct store *store, const char *old_name,
			 const char *new_name);
int store_account_set_password(struct store *store, const char *name,
			       const char *password);

/* Sorted account names of DOMAIN (NULL or main domain name: main
   domain), as "user" for the main domain and "user@domain" otherwise. */
int store_account_list(struct store *store, const char *domain,
		       char ***names_r, unsigned int *count_r);

/* Opens an account. STORE_ERROR_NOT_FOUND when it does not exist. */
int store_account_open(struct store *store, const char *name,
		       struct account **account_r);
void store_account_close(struct account **account);

struct store *store_account_store(struct account *account);
/* Canonical name: "user" or "user@domain". */
const char *store_account_name(struct account *account);
const char *store_account_domain(struct account *account);
enum account_type store_account_type(struct account *account);
const char *store_account_type_name(enum account_type type);
int store_account_type_parse(const char *name, enum account_type *type_r);

/* Constant-time check of a clear-text password against the crypt(3)
   hash. Returns 1 match, 0 mismatch, -1 error. */
int store_account_verify_password(struct account *account,
				  const char *password);
/* Password rules: 1..1024 bytes. 0, or -1 with STORE_ERROR_INVALID. */
int store_check_password(const char *password);
/* SASLprep (RFC 4013) of a UTF-8 password into *prepped_r (free with
   store_password_free, which wipes it). 0, or -1 with
   STORE_ERROR_INVALID (prohibited characters such as controls, bidi
   rules, invalid UTF-8, empty). */
int store_password_prep(const char *password, char **prepped_r);
void store_password_free(char **prepped);
/* Computes a SCRAM-SHA-256 verifier (RFC 5802 §3): SaltedPassword =
   PBKDF2-HMAC-SHA-256(password, salt, iterations), StoredKey =
   SHA-256(HMAC(SaltedPassword, "Client Key")), ServerKey =
   HMAC(SaltedPassword, "Server Key"). salt_len must be
   STORE_SCRAM_SALT_LEN. CPU-bound (iterations HMACs). 0 or -1. */
int store_scram_compute(const char *password, const unsigned char *salt,
			size_t salt_len, unsigned int iterations,
			struct account_scram *scram_r);
/* 0 and the verifier, or -1 (STORE_ERROR_NOT_FOUND: none stored). */
int store_account_get_scram(struct account *account,
			    struct account_scram *scram_r);

/*
 * Account settings as printed dictionary text, with secrets (password
 * hash, SCRAM keys) replaced by "(hidden)". Caller frees.
 */
char *store_account_settings_text(struct account *account);
/* One setting's string value, or NULL. Caller frees. */
char *store_account_setting(struct account *account, const char *key);
/* Sets a string setting (NULL removes it), durably. */
int store_account_set_setting(struct account *account, const char *key,
			      const char *value);

#endif
