/* SPDX-License-Identifier: MIT */
/*
 * auth.h: logins against the store, shared by every front-end that
 * authenticates users (POP3, IMAP, ...): a clear-text password check and
 * the SASL (RFC 4422) mechanisms PLAIN (RFC 4616), LOGIN
 * (draft-murchison-sasl-login) and SCRAM-SHA-256 (RFC 5802, RFC 7677;
 * server side, from the stored verifier: the clear password is never
 * needed). Protocol-neutral: the front-end carries the base64 lines of
 * its own SASL profile (POP3 AUTH, IMAP AUTHENTICATE) and adds the
 * failure delay with a timer.
 *
 * Lives in src/store because it needs the store's credentials and
 * nothing of any protocol; front-ends include it beside store.h.
 *
 * Threads and blocking: every step may open the account, read its
 * settings and hash a password, so it blocks (disk, CPU): call it from a
 * worker thread. A request belongs to one thread at a time.
 *
 * What never leaks: whether an account exists (an unknown user fails
 * exactly like a wrong password, SCRAM answers with a stable fake salt,
 * and a password is hashed either way), and secrets (wiped with
 * explicit_bzero; proofs and hashes compared in constant time).
 */
#ifndef AUTH_H
#define AUTH_H

#include "lib.h"
#include "buf.h"

struct account;
struct store;
struct auth_request;

/* Largest decoded client response accepted (bytes); the base64 line of
   a front-end is 4/3 of it. */
#define AUTH_RESPONSE_MAX 4096
/* Longest authentication identity (user name) accepted (bytes). */
#define AUTH_USER_MAX 320
/* How long a front-end waits before answering a failed login
   (milliseconds): slows password guessing without blocking anyone. */
#define AUTH_FAILURE_DELAY_MSECS 1000

enum auth_mech {
	AUTH_MECH_PLAIN,
	AUTH_MECH_LOGIN,
	AUTH_MECH_SCRAM_SHA_256,
};
#define AUTH_MECH_COUNT 3

enum auth_result {
	/* Send the challenge and feed the client's next response. */
	AUTH_RESULT_CONTINUE,
	/* Authenticated: take the account with auth_request_take_account. */
	AUTH_RESULT_OK,
	/* Wrong credentials or no such user (the client is not told which). */
	AUTH_RESULT_FAIL,
	/* The client broke the mechanism's syntax (or cancelled). */
	AUTH_RESULT_MALFORMED,
	/* The store failed (store_error() tells why); try again later. */
	AUTH_RESULT_TEMPFAIL,
};

/* Mechanism by SASL name, case-insensitive: 0 and *mech_r, or -1. */
int auth_mech_parse(const char *name, enum auth_mech *mech_r);
/* The SASL name: "PLAIN", "LOGIN", "SCRAM-SHA-256". */
const char *auth_mech_name(enum auth_mech mech);
/* True for mechanisms that send the password itself (PLAIN, LOGIN):
   front-ends refuse those before TLS unless configured otherwise. */
bool auth_mech_is_plaintext(enum auth_mech mech);
/* Appends the names of the mechanisms offered, separated by spaces,
   leaving out the plaintext ones unless allow_plaintext. */
void auth_mechs_append(buf_t *out, bool allow_plaintext);

/*
 * Checks user's clear-text password (POP3 USER/PASS, IMAP LOGIN, and
 * the PLAIN and LOGIN mechanisms). OK with *account_r opened (the
 * caller closes it), FAIL, or TEMPFAIL. Blocks.
 */
enum auth_result auth_password_verify(struct store *store, const char *user,
				      const char *password,
				      struct account **account_r);

/* Starts a SASL exchange. Never fails, never blocks. */
struct auth_request *auth_request_create(struct store *store,
					 enum auth_mech mech);
/* Wipes every secret and frees the request, closing an account that was
   not taken. Accepts NULL. */
void auth_request_destroy(struct auth_request **req);

/*
 * Feeds one client response: the decoded bytes, or NULL when the client
 * sent none (a command without initial response; "=" in POP3 and IMAP
 * SASL-IR means an empty response, len 0, not NULL). With CONTINUE the
 * decoded challenge is appended to challenge_r (may be empty). Any
 * result but CONTINUE ends the exchange. Blocks.
 *
 * Additional data on success (SCRAM's server-final message) comes as a
 * last CONTINUE challenge; the client's empty answer to it gives OK.
 * That is how RFC 5034 (POP3) and RFC 3501 (IMAP) carry it.
 */
enum auth_result auth_request_step(struct auth_request *req,
				   const unsigned char *response, size_t len,
				   buf_t *challenge_r);
/*
 * The same for a base64 line as the client sent it (without CRLF). A
 * line that is not valid base64, or decodes to more than
 * AUTH_RESPONSE_MAX bytes, is MALFORMED. The challenge is appended to
 * challenge_r base64-encoded. The caller handles the cancel line "*".
 */
enum auth_result auth_request_step_base64(struct auth_request *req,
					  const char *line, size_t len,
					  buf_t *challenge_r);

enum auth_mech auth_request_mech(struct auth_request *req);
/* The authentication identity the client gave so far (for logs and
   error texts), or NULL. */
const char *auth_request_user(struct auth_request *req);
/* Why the last step failed or was malformed (static text, for logs). */
const char *auth_request_reason(struct auth_request *req);
/* After OK: the opened account, now the caller's to close. */
struct account *auth_request_take_account(struct auth_request *req);

/* Tests only: the SCRAM server nonce to use instead of a random one. */
void auth_request_set_nonce(struct auth_request *req, const char *nonce);

#endif
