/* SPDX-License-Identifier: MIT */
/*
 * test-auth.c: logins against a real store (auth.c): clear-text
 * passwords, SASL PLAIN, LOGIN and SCRAM-SHA-256 with a client computed
 * here, unknown users failing like wrong passwords, and malformed
 * responses.
 */
#include "test-store-common.h"
#include "auth.h"
#include "base64.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define USER "user"
#define PASSWORD "pencil"

static int
setup(void **state)
{
	struct store_test *t;

	if (store_test_setup(state) < 0)
		return -1;
	t = *state;
	assert_int_equal(store_account_create(t->store, USER,
					      ACCOUNT_TYPE_MULTI, PASSWORD), 0);
	assert_int_equal(store_account_create(t->store, "nopass",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	return 0;
}

static void
test_mechs(void **state)
{
	buf_t out = BUF_INIT;
	enum auth_mech mech;

	auth_mechs_append(&out, true);
	assert_string_equal(buf_cstr(&out), "PLAIN LOGIN SCRAM-SHA-256");
	buf_reset(&out);
	auth_mechs_append(&out, false);
	assert_string_equal(buf_cstr(&out), "SCRAM-SHA-256");
	buf_deinit(&out);
	assert_int_equal(auth_mech_parse("scram-sha-256", &mech), 0);
	assert_int_equal(mech, AUTH_MECH_SCRAM_SHA_256);
	assert_string_equal(auth_mech_name(mech), "SCRAM-SHA-256");
	assert_int_equal(auth_mech_parse("CRAM-MD5", &mech), -1);
	assert_true(auth_mech_is_plaintext(AUTH_MECH_PLAIN));
	assert_true(auth_mech_is_plaintext(AUTH_MECH_LOGIN));
	assert_false(auth_mech_is_plaintext(AUTH_MECH_SCRAM_SHA_256));
}

static void
test_password(void **state)
{
	struct store_test *t = *state;
	struct account *account;

	assert_int_equal(auth_password_verify(t->store, USER, PASSWORD,
					      &account), AUTH_RESULT_OK);
	assert_string_equal(store_account_name(account), USER);
	store_account_close(&account);
	/* Names are case-insensitive, passwords are not. */
	assert_int_equal(auth_password_verify(t->store, "USER", PASSWORD,
					      &account), AUTH_RESULT_OK);
	store_account_close(&account);
	assert_int_equal(auth_password_verify(t->store, USER, "Pencil",
					      &account), AUTH_RESULT_FAIL);
	assert_null(account);
	assert_int_equal(auth_password_verify(t->store, "nobody", PASSWORD,
					      &account), AUTH_RESULT_FAIL);
	assert_int_equal(auth_password_verify(t->store, "../etc", PASSWORD,
					      &account), AUTH_RESULT_FAIL);
	assert_int_equal(auth_password_verify(t->store, "", PASSWORD,
					      &account), AUTH_RESULT_FAIL);
	/* No password set: no login. */
	assert_int_equal(auth_password_verify(t->store, "nopass", "",
					      &account), AUTH_RESULT_FAIL);
}

/* A remembered success never lets a wrong or an old password in. */
static void
test_password_cache(void **state)
{
	struct store_test *t = *state;
	struct account *account;

	assert_int_equal(auth_password_verify(t->store, USER, PASSWORD,
					      &account), AUTH_RESULT_OK);
	store_account_close(&account);
	assert_int_equal(auth_password_verify(t->store, USER, PASSWORD,
					      &account), AUTH_RESULT_OK);
	store_account_close(&account);
	assert_int_equal(auth_password_verify(t->store, USER, "wrong",
					      &account), AUTH_RESULT_FAIL);
	assert_int_equal(store_account_set_password(t->store, USER, "new"),
			 0);
	assert_int_equal(auth_password_verify(t->store, USER, PASSWORD,
					      &account), AUTH_RESULT_FAIL);
	assert_int_equal(auth_password_verify(t->store, USER, "new",
					      &account), AUTH_RESULT_OK);
	store_account_close(&account);
	assert_int_equal(store_account_set_password(t->store, USER, PASSWORD),
			 0);
}

static enum auth_result
step(struct auth_request *req, const void *data, size_t len, buf_t *out)
{
	buf_reset(out);
	return auth_request_step(req, data, len, out);
}

static void
test_plain(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	struct account *account;
	buf_t out = BUF_INIT;

	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "\0user\0pencil", 12, &out),
			 AUTH_RESULT_OK);
	account = auth_request_take_account(req);
	assert_string_equal(store_account_name(account), USER);
	store_account_close(&account);
	auth_request_destroy(&req);
	assert_null(req);

	/* No initial response: an empty challenge first. */
	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, NULL, 0, &out), AUTH_RESULT_CONTINUE);
	assert_int_equal(out.len, 0);
	assert_int_equal(step(req, "user\0user\0pencil", 16, &out),
			 AUTH_RESULT_OK);
	auth_request_destroy(&req);

	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "\0user\0wrong", 11, &out),
			 AUTH_RESULT_FAIL);
	assert_string_equal(auth_request_user(req), USER);
	auth_request_destroy(&req);

	/* Another authorization identity: refused. */
	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "nopass\0user\0pencil", 18, &out),
			 AUTH_RESULT_FAIL);
	auth_request_destroy(&req);

	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "user\0pencil", 11, &out),
			 AUTH_RESULT_MALFORMED);
	assert_true(strlen(auth_request_reason(req)) > 0);
	auth_request_destroy(&req);
	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "\0user\0pencil\0", 13, &out),
			 AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(step(req, "\0\0pencil", 8, &out),
			 AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	buf_deinit(&out);
}

static void
test_login(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	buf_t out = BUF_INIT;

	req = auth_request_create(t->store, AUTH_MECH_LOGIN);
	assert_int_equal(step(req, NULL, 0, &out), AUTH_RESULT_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Username:");
	assert_int_equal(step(req, "user", 4, &out), AUTH_RESULT_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Password:");
	assert_int_equal(step(req, "pencil", 6, &out), AUTH_RESULT_OK);
	auth_request_destroy(&req);

	/* The user name as initial response. */
	req = auth_request_create(t->store, AUTH_MECH_LOGIN);
	assert_int_equal(step(req, "user", 4, &out), AUTH_RESULT_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Password:");
	assert_int_equal(step(req, "pencils", 7, &out), AUTH_RESULT_FAIL);
	auth_request_destroy(&req);

	req = auth_request_create(t->store, AUTH_MECH_LOGIN);
	assert_int_equal(step(req, "", 0, &out), AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	buf_deinit(&out);
}

/* ---- a SCRAM-SHA-256 client (RFC 5802 §3) ---- */

struct scram_client {
	char first_bare[128];
	char final_no_proof[512];
	unsigned char server_key[32];
	char auth_msg[1024];
};

static void
hmac256(const void *key, size_t key_len, const char *text, unsigned char *out)
{
	unsigned int len = 32;

	assert_non_null(HMAC(EVP_sha256(), key, (int)key_len,
			     (const unsigned char *)text, strlen(text), out,
			     &len));
}

/* From server-first, computes the client-final message. */
static void
scram_client_final(struct scram_client *cl, const char *server_first,
		   const char *password, buf_t *out)
{
	unsigned char salted[32], client_key[32], stored[32], sig[32];
	unsigned char proof[32];
	char nonce[256];
	buf_t salt = BUF_INIT;
	const char *s, *i;
	unsigned int k;

	assert_int_equal(sscanf(server_first, "r=%255[^,]", nonce), 1);
	s = strstr(server_first, ",s=");
	i = strstr(server_first, ",i=");
	assert_non_null(s);
	assert_non_null(i);
	assert_int_equal(base64_decode(&salt, s + 3, (size_t)(i - s - 3)), 0);
	assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
		salt.data, (int)salt.len, atoi(i + 3), EVP_sha256(), 32,
		salted), 1);
	hmac256(salted, 32, "Client Key", client_key);
	hmac256(salted, 32, "Server Key", cl->server_key);
	SHA256(client_key, 32, stored);
	snprintf(cl->final_no_proof, sizeof(cl->final_no_proof),
		 "c=biws,r=%s", nonce);
	snprintf(cl->auth_msg, sizeof(cl->auth_msg), "%s,%s,%s",
		 cl->first_bare, server_first, cl->final_no_proof);
	hmac256(stored, 32, cl->auth_msg, sig);
	for (k = 0; k < 32; k++)
		proof[k] = client_key[k] ^ sig[k];
	buf_printf(out, "%s,p=", cl->final_no_proof);
	base64_encode(out, proof, 32);
	buf_deinit(&salt);
}

/* Runs an exchange; returns the result of the client-final step and
   leaves the server's last challenge in out. */
static enum auth_result
scram_login(struct store *store, const char *user, const char *password,
	    struct auth_request **req_r, struct scram_client *cl, buf_t *out)
{
	struct auth_request *req = auth_request_create(store,
						      AUTH_MECH_SCRAM_SHA_256);
	char first[160];
	buf_t final = BUF_INIT;
	enum auth_result result;

	snprintf(cl->first_bare, sizeof(cl->first_bare),
		 "n=%s,r=fyko+d2lbbFgONRv9qkxdawL", user);
	snprintf(first, sizeof(first), "n,,%s", cl->first_bare);
	assert_int_equal(step(req, first, strlen(first), out),
			 AUTH_RESULT_CONTINUE);
	assert_memory_equal(out->data, "r=fyko+d2lbbFgONRv9qkxdawL", 26);
	scram_client_final(cl, buf_cstr(out), password, &final);
	result = step(req, final.data, final.len, out);
	buf_deinit(&final);
	*req_r = req;
	return result;
}

static void
test_scram(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	struct scram_client cl;
	struct account *account;
	unsigned char sig[32];
	buf_t out = BUF_INIT, expect = BUF_INIT;

	assert_int_equal(scram_login(t->store, USER, PASSWORD, &req, &cl,
				     &out), AUTH_RESULT_CONTINUE);
	/* The server proves it knows the ServerKey. */
	hmac256(cl.server_key, 32, cl.auth_msg, sig);
	buf_append_str(&expect, "v=");
	base64_encode(&expect, sig, 32);
	assert_string_equal(buf_cstr(&out), buf_cstr(&expect));
	assert_int_equal(step(req, "", 0, &out), AUTH_RESULT_OK);
	account = auth_request_take_account(req);
	assert_string_equal(store_account_name(account), USER);
	store_account_close(&account);
	auth_request_destroy(&req);

	assert_int_equal(scram_login(t->store, USER, "wrong", &req, &cl,
				     &out), AUTH_RESULT_FAIL);
	auth_request_destroy(&req);
	/* Data where the empty answer to server-final belongs. */
	assert_int_equal(scram_login(t->store, USER, PASSWORD, &req, &cl,
				     &out), AUTH_RESULT_CONTINUE);
	assert_int_equal(step(req, "x", 1, &out), AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	buf_deinit(&out);
	buf_deinit(&expect);
}

/* An unknown user gets a salt like anyone else, the same one each
   time, and fails only at the proof. */
static void
test_scram_unknown_user(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	struct scram_client cl;
	buf_t out = BUF_INIT;
	char *first_salt;

	assert_int_equal(scram_login(t->store, "nobody", "x", &req, &cl,
				     &out), AUTH_RESULT_FAIL);
	auth_request_destroy(&req);
	req = auth_request_create(t->store, AUTH_MECH_SCRAM_SHA_256);
	assert_int_equal(step(req, "n,,n=nobody,r=abc", 17, &out),
			 AUTH_RESULT_CONTINUE);
	first_salt = strdup(strstr(buf_cstr(&out), ",s="));
	auth_request_destroy(&req);
	req = auth_request_create(t->store, AUTH_MECH_SCRAM_SHA_256);
	assert_int_equal(step(req, "n,,n=nobody,r=abc", 17, &out),
			 AUTH_RESULT_CONTINUE);
	assert_string_equal(strstr(buf_cstr(&out), ",s="), first_salt);
	auth_request_destroy(&req);
	free(first_salt);
	/* An account without a verifier behaves the same. */
	assert_int_equal(scram_login(t->store, "nopass", "x", &req, &cl,
				     &out), AUTH_RESULT_FAIL);
	auth_request_destroy(&req);
	buf_deinit(&out);
}

static void
test_scram_fixed_nonce_and_empty_start(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	buf_t out = BUF_INIT;

	req = auth_request_create(t->store, AUTH_MECH_SCRAM_SHA_256);
	auth_request_set_nonce(req, "SERVER");
	/* No initial response: an empty challenge, then client-first. */
	assert_int_equal(step(req, NULL, 0, &out), AUTH_RESULT_CONTINUE);
	assert_int_equal(out.len, 0);
	assert_int_equal(step(req, "n,,n=user,r=abc", 15, &out),
			 AUTH_RESULT_CONTINUE);
	assert_memory_equal(out.data, "r=abcSERVER,s=", 14);
	assert_int_equal(step(req, "c=biws,r=abc,p=AAAA", 19, &out),
			 AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	buf_deinit(&out);
}

static void
test_base64(void **state)
{
	struct store_test *t = *state;
	struct auth_request *req;
	buf_t out = BUF_INIT, line = BUF_INIT;

	req = auth_request_create(t->store, AUTH_MECH_LOGIN);
	base64_encode(&line, "user", 4);
	assert_int_equal(auth_request_step_base64(req, buf_cstr(&line),
						  line.len, &out),
			 AUTH_RESULT_CONTINUE);
	assert_string_equal(buf_cstr(&out), "UGFzc3dvcmQ6");
	buf_reset(&line);
	buf_reset(&out);
	base64_encode(&line, PASSWORD, strlen(PASSWORD));
	assert_int_equal(auth_request_step_base64(req, buf_cstr(&line),
						  line.len, &out),
			 AUTH_RESULT_OK);
	auth_request_destroy(&req);

	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(auth_request_step_base64(req, "not base64!", 11,
						  &out),
			 AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	/* Longer than AUTH_RESPONSE_MAX decoded. */
	buf_reset(&line);
	while (line.len < AUTH_RESPONSE_MAX * 2)
		buf_append_str(&line, "QUFB");
	req = auth_request_create(t->store, AUTH_MECH_PLAIN);
	assert_int_equal(auth_request_step_base64(req, buf_cstr(&line),
						  line.len, &out),
			 AUTH_RESULT_MALFORMED);
	auth_request_destroy(&req);
	buf_deinit(&out);
	buf_deinit(&line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechs),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_password_cache),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_scram),
		cmocka_unit_test(test_scram_unknown_user),
		cmocka_unit_test(test_scram_fixed_nonce_and_empty_start),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, setup, store_test_teardown);
}
