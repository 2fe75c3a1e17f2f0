/* SPDX-License-Identifier: MIT */
/*
 * auth-private.h: what auth.c (requests, PLAIN, LOGIN, passwords) and
 * auth-scram.c (the SCRAM-SHA-256 messages) share; the unit tests use
 * it to run RFC 7677's test vector. Front-ends use auth.h.
 */
#ifndef AUTH_PRIVATE_H
#define AUTH_PRIVATE_H

#include "auth.h"
#include "store-account.h"

/* The cache of successful password checks (auth-cache.c). */
#define AUTH_CACHE_SIZE 4096
#define AUTH_CACHE_TTL_SECS 300

/* Longest nonce part a client may send (bytes). */
#define AUTH_SCRAM_NONCE_MAX 256
/* Random bytes in the server's nonce part (base64-encoded on the wire). */
#define AUTH_SCRAM_SERVER_NONCE_BYTES 24

/* One SCRAM-SHA-256 exchange (RFC 5802 §3, §5). */
struct auth_scram {
	char *gs2_header;               /* "n,," or "y,,", as sent */
	char *authzid;                  /* NULL when none */
	char *client_first_bare;
	char *server_first;
	char *nonce;                    /* client nonce + server nonce */
	struct account_scram keys;
	unsigned char server_signature[STORE_SCRAM_KEY_LEN];
};

/*
 * Parses the client-first-message. Returns 0 with *user_r (the decoded
 * username; caller frees), or -1 with *reason_r (malformed, channel
 * binding asked for, mandatory extension). Pure: no I/O.
 */
int auth_scram_client_first(struct auth_scram *scram,
			    const unsigned char *data, size_t len,
			    char **user_r, const char **reason_r);
/* Appends the server-first-message for keys and the server's nonce
   part (printable, no ',') to out. Pure. */
void auth_scram_server_first(struct auth_scram *scram,
			     const struct account_scram *keys,
			     const char *server_nonce, buf_t *out);
/*
 * Checks the client-final-message. Returns 1 when the proof is right
 * (the server-final-message "v=..." appended to out), 0 when it is not,
 * -1 when the message is malformed (*reason_r). Constant-time in the
 * proof. Pure.
 */
int auth_scram_client_final(struct auth_scram *scram,
			    const unsigned char *data, size_t len,
			    buf_t *out, const char **reason_r);
/* Wipes and frees the exchange's state. */
void auth_scram_deinit(struct auth_scram *scram);

/*
 * The keys to use for a user with no (usable) verifier: a salt derived
 * from the user name and a per-process secret, so that it is the same
 * on every attempt like a real one, and keys no proof matches.
 */
void auth_scram_fake_keys(const char *user, struct account_scram *keys_r);

/*
 * Successful clear-text password checks, remembered for
 * AUTH_CACHE_TTL_SECS. user is the canonical account name, hash the
 * stored crypt(3) hash the password matched. Thread-safe, never blocks
 * on I/O.
 */
bool auth_cache_lookup(const char *user, const char *hash,
		       const char *password);
void auth_cache_add(const char *user, const char *hash, const char *password);
/* Sets the lifetime of new entries (0: no caching) and forgets every
   entry. For tests and a future setting. */
void auth_cache_set_ttl(unsigned int secs);

#endif
