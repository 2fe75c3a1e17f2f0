/* SPDX-License-Identifier: MIT */
/*
 * auth.c: logins against the store (see auth.h): the clear-text password
 * check and the SASL request object running PLAIN (RFC 4616), LOGIN and
 * SCRAM-SHA-256 (messages in auth-scram.c). Part of src/store; uses the
 * store's public account API, libcrypt and OpenSSL.
 *
 * Unknown users cost what known ones cost: a password is still hashed
 * (against a dummy hash made once per process) and SCRAM still answers
 * with a salt (derived from the name, see auth_scram_fake_keys), so
 * neither the reply nor its timing tells whether an account exists.
 *
 * A password that matched is remembered for a few minutes
 * (auth-cache.c), so repeated logins of a polling client skip the slow
 * hash; wrong passwords always pay it.
 */
#include "auth-private.h"
#include "base64.h"
#include "log.h"
#include "store-private.h"

#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* SASL LOGIN's prompts (draft-murchison-sasl-login-00 §2). */
#define AUTH_LOGIN_USER_PROMPT "Username:"
#define AUTH_LOGIN_PASS_PROMPT "Password:"

static const char *const mech_names[AUTH_MECH_COUNT] = {
	[AUTH_MECH_PLAIN] = "PLAIN",
	[AUTH_MECH_LOGIN] = "LOGIN",
	[AUTH_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
};

/* Where an exchange is. */
enum auth_state {
	AUTH_STATE_START,
	/* no initial response: empty challenge sent (PLAIN, SCRAM) */
	AUTH_STATE_WAIT_INITIAL,
	/* LOGIN: the user name prompt, the password prompt sent */
	AUTH_STATE_LOGIN_USER,
	AUTH_STATE_LOGIN_PASS,
	/* SCRAM: server-first sent; server-final sent */
	AUTH_STATE_SCRAM_FINAL,
	AUTH_STATE_SCRAM_DONE,
	AUTH_STATE_FINISHED,
};

struct auth_request {
	struct store *store;
	enum auth_mech mech;
	enum auth_state state;
	char *user;
	struct account *account;
	const char *reason;
	char *fixed_nonce;
	struct auth_scram scram;
	bool scram_known_user;
};

/* ---- mechanisms ---- */

int
auth_mech_parse(const char *name, enum auth_mech *mech_r)
{
	unsigned int i;

	for (i = 0; i < AUTH_MECH_COUNT; i++) {
		if (strcasecmp(name, mech_names[i]) == 0) {
			*mech_r = (enum auth_mech)i;
			return 0;
		}
	}
	return -1;
}

const char *
auth_mech_name(enum auth_mech mech)
{
	i_assert((unsigned int)mech < AUTH_MECH_COUNT);
	return mech_names[mech];
}

bool
auth_mech_is_plaintext(enum auth_mech mech)
{
	return mech == AUTH_MECH_PLAIN || mech == AUTH_MECH_LOGIN;
}

void
auth_mechs_append(buf_t *out, bool allow_plaintext)
{
	unsigned int i;
	bool first = true;

	for (i = 0; i < AUTH_MECH_COUNT; i++) {
		if (!allow_plaintext &&
		    auth_mech_is_plaintext((enum auth_mech)i))
			continue;
		if (!first)
			buf_append_c(out, ' ');
		buf_append_str(out, mech_names[i]);
		first = false;
	}
}

/* ---- passwords ---- */

static char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
dummy_setting_init(void)
{
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, dummy_setting,
			     sizeof(dummy_setting)) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, dummy_setting,
			     sizeof(dummy_setting)) == NULL)
		dummy_setting[0] = '\0';
}

/* Spends the time of one password check, for unknown users. */
static void
dummy_password_check(const char *password)
{
	struct crypt_data *data;

	pthread_once(&dummy_once, dummy_setting_init);
	if (dummy_setting[0] == '\0')
		return;
	data = i_malloc(sizeof(*data));
	(void)crypt_rn(password, dummy_setting, data, sizeof(*data));
	explicit_bzero(data, sizeof(*data));
	free(data);
}

/* Opens user's account: OK, FAIL (no such account or invalid name; the
   store error is cleared) or TEMPFAIL. */
static enum auth_result
account_lookup(struct store *store, const char *user,
	       struct account **account_r)
{
	const char *text;

	*account_r = NULL;
	if (strlen(user) > AUTH_USER_MAX || user[0] == '\0')
		return AUTH_RESULT_FAIL;
	if (store_account_open(store, user, account_r) == 0)
		return AUTH_RESULT_OK;
	*account_r = NULL;
	switch (store_error(&text)) {
	case STORE_ERROR_NOT_FOUND:
	case STORE_ERROR_INVALID:
		store_clear_error();
		return AUTH_RESULT_FAIL;
	default:
		log_warnx("auth: cannot open account %s: %s", user, text);
		return AUTH_RESULT_TEMPFAIL;
	}
}

/*
 * The password check proper: 1 match, 0 mismatch (also: no password
 * set), -1 error. Like store_account_verify_password(), with the cache
 * of recent successes in front of crypt(3).
 */
static int
verify_password(struct account *account, const char *password)
{
	struct dict_value *settings;
	const char *hash, *name = store_account_name(account);
	int ret;

	if (account_settings_read(account, &settings) == -1)
		return -1;
	hash = dict_get_str(settings, "CryptPassword");
	if (hash == NULL || hash[0] == '\0') {
		ret = 0;
	} else if (auth_cache_lookup(name, hash, password)) {
		ret = 1;
	} else {
		ret = store_password_verify(hash, password);
		if (ret == 1)
			auth_cache_add(name, hash, password);
	}
	dict_value_free(&settings);
	return ret;
}

enum auth_result
auth_password_verify(struct store *store, const char *user,
		     const char *password, struct account **account_r)
{
	enum auth_result result;
	struct account *account;
	const char *text;
	int ret;

	*account_r = NULL;
	result = account_lookup(store, user, &account);
	if (result == AUTH_RESULT_TEMPFAIL)
		return result;
	if (result == AUTH_RESULT_FAIL) {
		dummy_password_check(password);
		return AUTH_RESULT_FAIL;
	}
	ret = verify_password(account, password);
	if (ret == 1) {
		*account_r = account;
		return AUTH_RESULT_OK;
	}
	if (ret < 0) {
		(void)store_error(&text);
		log_warnx("auth: cannot check the password of %s: %s", user,
			  text);
		result = AUTH_RESULT_TEMPFAIL;
	} else {
		result = AUTH_RESULT_FAIL;
	}
	store_account_close(&account);
	return result;
}

/* ---- requests ---- */

struct auth_request *
auth_request_create(struct store *store, enum auth_mech mech)
{
	struct auth_request *req = i_malloc(sizeof(*req));

	i_assert((unsigned int)mech < AUTH_MECH_COUNT);
	req->store = store;
	req->mech = mech;
	req->state = AUTH_STATE_START;
	return req;
}

void
auth_request_destroy(struct auth_request **_req)
{
	struct auth_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	store_account_close(&req->account);
	auth_scram_deinit(&req->scram);
	free(req->user);
	free(req->fixed_nonce);
	explicit_bzero(req, sizeof(*req));
	free(req);
}

enum auth_mech
auth_request_mech(struct auth_request *req)
{
	return req->mech;
}

const char *
auth_request_user(struct auth_request *req)
{
	return req->user;
}

const char *
auth_request_reason(struct auth_request *req)
{
	return req->reason == NULL ? "" : req->reason;
}

struct account *
auth_request_take_account(struct auth_request *req)
{
	struct account *account = req->account;

	i_assert(req->state == AUTH_STATE_FINISHED && account != NULL);
	req->account = NULL;
	return account;
}

void
auth_request_set_nonce(struct auth_request *req, const char *nonce)
{
	free(req->fixed_nonce);
	req->fixed_nonce = i_strdup(nonce);
}

static enum auth_result
malformed(struct auth_request *req, const char *reason)
{
	req->state = AUTH_STATE_FINISHED;
	req->reason = reason;
	return AUTH_RESULT_MALFORMED;
}

/* Ends the exchange with a password check of req->user. */
static enum auth_result
finish_password(struct auth_request *req, const char *password)
{
	enum auth_result result;

	req->state = AUTH_STATE_FINISHED;
	result = auth_password_verify(req->store, req->user, password,
				      &req->account);
	if (result == AUTH_RESULT_FAIL)
		req->reason = "wrong password or unknown user";
	else if (result == AUTH_RESULT_TEMPFAIL)
		req->reason = "store failure";
	return result;
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
static enum auth_result
step_plain(struct auth_request *req, const unsigned char *data, size_t len)
{
	const unsigned char *nul1, *nul2;
	char *authzid, *password;
	enum auth_result result;

	nul1 = memchr(data, '\0', len);
	nul2 = nul1 == NULL ? NULL :
		memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - data));
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - data)) != NULL)
		return malformed(req, "PLAIN response is not "
				 "authzid NUL authcid NUL passwd");
	if (nul2 == nul1 + 1 || nul2 + 1 == data + len)
		return malformed(req, "PLAIN with empty user or password");
	authzid = i_strndup((const char *)data, (size_t)(nul1 - data));
	req->user = i_strndup((const char *)nul1 + 1,
			      (size_t)(nul2 - nul1 - 1));
	password = i_strndup((const char *)nul2 + 1,
			     (size_t)(data + len - nul2 - 1));
	if (authzid[0] != '\0' && strcasecmp(authzid, req->user) != 0) {
		/* Acting as another user is not supported: a plain
		   failure, after the same work as any other. */
		dummy_password_check(password);
		req->state = AUTH_STATE_FINISHED;
		req->reason = "authorization identity differs";
		result = AUTH_RESULT_FAIL;
	} else {
		result = finish_password(req, password);
	}
	explicit_bzero(password, strlen(password));
	free(password);
	free(authzid);
	return result;
}

static enum auth_result
step_login(struct auth_request *req, const unsigned char *data, size_t len,
	   buf_t *challenge_r)
{
	enum auth_result result;
	char *password;

	if (data == NULL) {
		/* No initial response: ask for the user name. */
		req->state = AUTH_STATE_LOGIN_USER;
		buf_append_str(challenge_r, AUTH_LOGIN_USER_PROMPT);
		return AUTH_RESULT_CONTINUE;
	}
	if (memchr(data, '\0', len) != NULL || len == 0)
		return malformed(req, "LOGIN response empty or with NUL");
	if (req->state != AUTH_STATE_LOGIN_PASS) {
		if (len > AUTH_USER_MAX)
			return malformed(req, "LOGIN user name too long");
		req->user = i_strndup((const char *)data, len);
		req->state = AUTH_STATE_LOGIN_PASS;
		buf_append_str(challenge_r, AUTH_LOGIN_PASS_PROMPT);
		return AUTH_RESULT_CONTINUE;
	}
	password = i_strndup((const char *)data, len);
	result = finish_password(req, password);
	explicit_bzero(password, len);
	free(password);
	return result;
}

/* SCRAM step 1: look the verifier up, answer with server-first. */
static enum auth_result
scram_first(struct auth_request *req, const unsigned char *data, size_t len,
	    buf_t *challenge_r)
{
	unsigned char random[AUTH_SCRAM_SERVER_NONCE_BYTES];
	struct account_scram keys;
	enum auth_result result;
	buf_t nonce = BUF_INIT;
	const char *reason;

	if (auth_scram_client_first(&req->scram, data, len, &req->user,
				    &reason) < 0)
		return malformed(req, reason);
	result = account_lookup(req->store, req->user, &req->account);
	if (result == AUTH_RESULT_TEMPFAIL) {
		req->state = AUTH_STATE_FINISHED;
		req->reason = "store failure";
		return result;
	}
	if (result == AUTH_RESULT_OK &&
	    store_account_get_scram(req->account, &keys) == 0) {
		req->scram_known_user = true;
	} else {
		/* Unknown user, or no verifier stored (e.g. imported
		   with a clear-text password only): fail at the proof. */
		store_clear_error();
		store_account_close(&req->account);
		auth_scram_fake_keys(req->user, &keys);
	}
	if (req->fixed_nonce != NULL) {
		buf_append_str(&nonce, req->fixed_nonce);
	} else {
		if (RAND_bytes(random, sizeof(random)) != 1)
			i_panic("RAND_bytes failed");
		base64_encode(&nonce, random, sizeof(random));
	}
	auth_scram_server_first(&req->scram, &keys, buf_cstr(&nonce),
				challenge_r);
	explicit_bzero(&keys, sizeof(keys));
	buf_deinit(&nonce);
	req->state = AUTH_STATE_SCRAM_FINAL;
	return AUTH_RESULT_CONTINUE;
}

static enum auth_result
step_scram(struct auth_request *req, const unsigned char *data, size_t len,
	   buf_t *challenge_r)
{
	const char *reason;
	int ret;

	switch (req->state) {
	case AUTH_STATE_START:
		if (data == NULL) {
			/* RFC 5802 §5: the client starts; ask for it. */
			req->state = AUTH_STATE_WAIT_INITIAL;
			return AUTH_RESULT_CONTINUE;
		}
		/* fall through */
	case AUTH_STATE_WAIT_INITIAL:
		return scram_first(req, data, len, challenge_r);
	case AUTH_STATE_SCRAM_FINAL:
		ret = auth_scram_client_final(&req->scram, data, len,
					      challenge_r, &reason);
		if (ret < 0)
			return malformed(req, reason);
		if (ret == 0 || !req->scram_known_user) {
			req->state = AUTH_STATE_FINISHED;
			req->reason = "wrong password or unknown user";
			store_account_close(&req->account);
			return AUTH_RESULT_FAIL;
		}
		req->state = AUTH_STATE_SCRAM_DONE;
		return AUTH_RESULT_CONTINUE;
	case AUTH_STATE_SCRAM_DONE:
		/* The client's (empty) answer to the server-final. */
		if (len != 0)
			return malformed(req, "data after server-final");
		req->state = AUTH_STATE_FINISHED;
		return AUTH_RESULT_OK;
	default:
		break;
	}
	i_panic("auth: SCRAM step in state %d", (int)req->state);
}

enum auth_result
auth_request_step(struct auth_request *req, const unsigned char *response,
		  size_t len, buf_t *challenge_r)
{
	static const unsigned char empty[1];

	i_assert(req->state != AUTH_STATE_FINISHED);
	if (len > AUTH_RESPONSE_MAX)
		return malformed(req, "response too long");
	if (response == NULL && req->state != AUTH_STATE_START)
		response = empty;
	switch (req->mech) {
	case AUTH_MECH_PLAIN:
		if (response == NULL) {
			req->state = AUTH_STATE_WAIT_INITIAL;
			return AUTH_RESULT_CONTINUE;
		}
		return step_plain(req, response, len);
	case AUTH_MECH_LOGIN:
		return step_login(req, response, len, challenge_r);
	case AUTH_MECH_SCRAM_SHA_256:
		return step_scram(req, response, len, challenge_r);
	}
	i_panic("auth: bad mechanism %d", (int)req->mech);
}

enum auth_result
auth_request_step_base64(struct auth_request *req, const char *line,
			 size_t len, buf_t *challenge_r)
{
	buf_t decoded = BUF_INIT, challenge = BUF_INIT;
	enum auth_result result;

	if (len > (AUTH_RESPONSE_MAX + 2) / 3 * 4 ||
	    base64_decode(&decoded, line, len) < 0) {
		buf_deinit(&decoded);
		return malformed(req, "response is not base64");
	}
	result = auth_request_step(req, decoded.data == NULL ?
				   (const unsigned char *)"" : decoded.data,
				   decoded.len, &challenge);
	if (result == AUTH_RESULT_CONTINUE)
		base64_encode(challenge_r, challenge.data, challenge.len);
	if (decoded.data != NULL)
		explicit_bzero(decoded.data, decoded.len);
	buf_deinit(&decoded);
	buf_deinit(&challenge);
	return result;
}
