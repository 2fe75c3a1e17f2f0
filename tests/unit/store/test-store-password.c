/* SPDX-License-Identifier: MIT */
/*
 * test-store-password.c: unit tests for src/store/store-password.c: the
 * crypt(3) hash (set, verify, change, wrong password, none set) and the
 * SCRAM-SHA-256 verifier, checked against the RFC 7677 §3 example
 * exchange: the keys derived from its salt and iteration count must
 * accept its ClientProof and produce its ServerSignature.
 */
#include "test-store-common.h"
#include "base64.h"

#include <crypt.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* RFC 7677 §3: user "user", password "pencil". */
#define RFC7677_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC7677_ITERATIONS 4096
#define RFC7677_CLIENT_FIRST_BARE "n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC7677_SERVER_FIRST \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC7677_CLIENT_FINAL_NO_PROOF \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC7677_CLIENT_PROOF "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC7677_SERVER_SIGNATURE \
	"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void
decode(const char *b64, unsigned char *out, size_t len)
{
	buf_t buf = BUF_INIT;

	assert_int_equal(base64_decode(&buf, b64, strlen(b64)), 0);
	assert_int_equal(buf.len, len);
	memcpy(out, buf.data, len);
	buf_deinit(&buf);
}

static void
hmac(const unsigned char *key, const char *text,
     unsigned char out[STORE_SCRAM_KEY_LEN])
{
	unsigned int len = STORE_SCRAM_KEY_LEN;

	assert_non_null(HMAC(EVP_sha256(), key, STORE_SCRAM_KEY_LEN,
			     (const unsigned char *)text, strlen(text), out,
			     &len));
}

/* What a SCRAM server does with the stored verifier (RFC 5802 §3). */
static void
assert_rfc7677_exchange(const struct account_scram *scram)
{
	const char *auth_message = RFC7677_CLIENT_FIRST_BARE ","
		RFC7677_SERVER_FIRST "," RFC7677_CLIENT_FINAL_NO_PROOF;
	unsigned char proof[STORE_SCRAM_KEY_LEN], sig[STORE_SCRAM_KEY_LEN];
	unsigned char client_key[STORE_SCRAM_KEY_LEN];
	unsigned char stored[SHA256_DIGEST_LENGTH];
	unsigned char expect[STORE_SCRAM_KEY_LEN];
	unsigned int i;

	decode(RFC7677_CLIENT_PROOF, proof, sizeof(proof));
	hmac(scram->stored_key, auth_message, sig);
	for (i = 0; i < STORE_SCRAM_KEY_LEN; i++)
		client_key[i] = proof[i] ^ sig[i];
	SHA256(client_key, sizeof(client_key), stored);
	assert_memory_equal(stored, scram->stored_key, sizeof(stored));

	decode(RFC7677_SERVER_SIGNATURE, expect, sizeof(expect));
	hmac(scram->server_key, auth_message, sig);
	assert_memory_equal(sig, expect, sizeof(sig));
}

static void
test_scram_rfc7677(void **state)
{
	unsigned char salt[STORE_SCRAM_SALT_LEN];
	struct account_scram scram, other;

	decode(RFC7677_SALT, salt, sizeof(salt));
	assert_int_equal(store_scram_compute("pencil", salt, sizeof(salt),
					     RFC7677_ITERATIONS, &scram), 0);
	assert_int_equal(scram.iterations, RFC7677_ITERATIONS);
	assert_memory_equal(scram.salt, salt, sizeof(salt));
	assert_rfc7677_exchange(&scram);

	/* another password gives other keys */
	assert_int_equal(store_scram_compute("pencil2", salt, sizeof(salt),
					     RFC7677_ITERATIONS, &other), 0);
	assert_memory_not_equal(other.stored_key, scram.stored_key,
				sizeof(scram.stored_key));
	assert_memory_not_equal(other.server_key, scram.server_key,
				sizeof(scram.server_key));
}

static void
test_account_scram_stored(void **state)
{
	struct store_test *t = *state;
	struct account_scram scram, again, other;
	struct account *account;

	assert_int_equal(store_account_create(t->store, "user",
					      ACCOUNT_TYPE_MULTI, "pencil"), 0);
	assert_int_equal(store_account_create(t->store, "user2",
					      ACCOUNT_TYPE_MBOX, "pencil"), 0);
	assert_int_equal(store_account_open(t->store, "user", &account), 0);
	assert_int_equal(store_account_get_scram(account, &scram), 0);
	assert_int_equal(scram.iterations, STORE_SCRAM_ITERATIONS);
	/* the stored keys are those of the password with the stored salt */
	assert_int_equal(store_scram_compute("pencil", scram.salt,
		sizeof(scram.salt), scram.iterations, &again), 0);
	assert_memory_equal(&again, &scram, sizeof(scram));
	store_account_close(&account);

	/* salts are random: the same password gives other keys */
	assert_int_equal(store_account_open(t->store, "user2", &account), 0);
	assert_int_equal(store_account_get_scram(account, &other), 0);
	assert_memory_not_equal(other.salt, scram.salt, sizeof(scram.salt));
	assert_memory_not_equal(other.stored_key, scram.stored_key,
				sizeof(scram.stored_key));
	store_account_close(&account);
}

static void
test_verify_password(void **state)
{
	struct store_test *t = *state;
	struct account *account;
	char *text;

	assert_int_equal(store_account_create(t->store, "john",
					      ACCOUNT_TYPE_MULTI, "Tr0ub4dor&3"),
			 0);
	assert_int_equal(store_account_open(t->store, "john", &account), 0);
	assert_int_equal(store_account_verify_password(account,
						       "Tr0ub4dor&3"), 1);
	assert_int_equal(store_account_verify_password(account,
						       "tr0ub4dor&3"), 0);
	assert_int_equal(store_account_verify_password(account, ""), 0);
	assert_int_equal(store_account_verify_password(account,
						       "Tr0ub4dor&3 "), 0);
	text = store_test_read(t, "Accounts/john.macnt/account.settings");
	assert_null(strstr(text, "Tr0ub4dor"));
	/* yescrypt where libcrypt has it, else SHA-512 crypt */
	assert_true(strstr(text, "CryptPassword = $y$") != NULL ||
		    strstr(text, "CryptPassword = $6$") != NULL);
	free(text);

	assert_int_equal(store_account_set_password(t->store, "John",
						    "correct horse"), 0);
	assert_int_equal(store_account_verify_password(account,
						       "Tr0ub4dor&3"), 0);
	assert_int_equal(store_account_verify_password(account,
						       "correct horse"), 1);
	store_account_close(&account);

	assert_int_equal(store_account_set_password(t->store, "nobody", "x"),
			 -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_account_set_password(t->store, "john", ""),
			 -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	store_clear_error();
}

static void
test_no_password(void **state)
{
	struct store_test *t = *state;
	struct account_scram scram;
	struct account *account;

	assert_int_equal(store_account_create(t->store, "nopw",
					      ACCOUNT_TYPE_MDIR, NULL), 0);
	assert_int_equal(store_account_open(t->store, "nopw", &account), 0);
	assert_int_equal(store_account_verify_password(account, ""), 0);
	assert_int_equal(store_account_verify_password(account, "x"), 0);
	assert_int_equal(store_account_get_scram(account, &scram), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	store_account_close(&account);

	assert_int_equal(store_account_set_password(t->store, "nopw", "now"),
			 0);
	assert_int_equal(store_account_open(t->store, "nopw", &account), 0);
	assert_int_equal(store_account_verify_password(account, "now"), 1);
	assert_int_equal(store_account_get_scram(account, &scram), 0);
	store_account_close(&account);
	store_clear_error();
}

static void
test_damaged_secrets(void **state)
{
	struct store_test *t = *state;
	struct account_scram scram;
	struct account *account;
	char *text;

	assert_int_equal(store_account_create(t->store, "cg",
					      ACCOUNT_TYPE_MBOX, NULL), 0);
	/* as CommuniGate might have it: a clear Password, no hash */
	store_test_write(t, "Accounts/cg.settings",
			 "{ Password = \"clear\"; CryptPassword = \"*\"; "
			 "SCRAM-SHA-256 = { Salt = [AAAA]; "
			 "Iterations = 4096; }; }");
	assert_int_equal(store_account_open(t->store, "cg", &account), 0);
	assert_int_equal(store_account_verify_password(account, "clear"), -1);
	store_test_assert_error(STORE_ERROR_CORRUPT);
	assert_int_equal(store_account_get_scram(account, &scram), -1);
	store_test_assert_error(STORE_ERROR_CORRUPT);
	assert_null(store_account_setting(account, "Password"));

	/* setting a password replaces all of it, clear text included */
	assert_int_equal(store_account_set_password(t->store, "cg", "new"), 0);
	assert_int_equal(store_account_verify_password(account, "new"), 1);
	assert_int_equal(store_account_get_scram(account, &scram), 0);
	store_account_close(&account);
	text = store_test_read(t, "Accounts/cg.settings");
	assert_null(strstr(text, "clear"));
	free(text);
	store_clear_error();
}

static int
set_password_op(struct store_test *t, void *context)
{
	return store_account_set_password(t->store, "john", context);
}

/* A password change that fails at any step leaves the old password. */
static void
test_set_password_faults(void **state)
{
	struct store_test *t = *state;
	struct account *account =
		store_test_new_account(t, "john", ACCOUNT_TYPE_MULTI);

	assert_int_equal(store_account_set_password(t->store, "john", "old"),
			 0);
	assert_true(store_test_fault_sweep(t, "any", set_password_op,
					   "new") >= 5);
	assert_int_equal(store_account_verify_password(account, "new"), 1);
	assert_int_equal(store_test_fault_sweep(t, "fsync", set_password_op,
						"newer"), 2);
	assert_int_equal(store_account_verify_password(account, "newer"), 1);
	store_account_close(&account);
}

static void
test_password_rules(void **state)
{
	char long_pw[1100];

	assert_int_equal(store_check_password("x"), 0);
	assert_int_equal(store_check_password(""), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_int_equal(store_check_password(long_pw), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	long_pw[1024] = '\0';
	assert_int_equal(store_check_password(long_pw), 0);
	store_clear_error();
}

/* RFC 4013 §3's examples */
static void
test_saslprep(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "I\xc2\xadX", "IX" },          /* SOFT HYPHEN mapped out */
		{ "user", "user" },
		{ "USER", "USER" },               /* case is kept */
		{ "\xc2\xaa", "a" },              /* NFKC */
		{ "\xe2\x85\xa8", "IX" },         /* ROMAN NUMERAL NINE */
		{ "a\xc2\xa0" "b", "a b" },        /* non-ASCII space */
		{ "\xf0\x9f\x94\x91key", "\xf0\x9f\x94\x91key" }, /* emoji */
	};
	static const char *const bad[] = {
		"\x07",                          /* control character */
		"\xd8\xa7" "1",                   /* bidi: RandALCat + L */
		"\xc2\xad",                       /* nothing left */
		"\xff\xfe",                       /* not UTF-8 */
	};
	unsigned int i;
	char *out;

	(void)state;
	for (i = 0; i < N_ELEMENTS(ok); i++) {
		assert_int_equal(store_password_prep(ok[i].in, &out), 0);
		assert_string_equal(out, ok[i].out);
		store_password_free(&out);
		assert_null(out);
	}
	for (i = 0; i < N_ELEMENTS(bad); i++) {
		assert_int_equal(store_password_prep(bad[i], &out), -1);
		store_test_assert_error(STORE_ERROR_INVALID);
	}
	store_clear_error();
}

/* Passwords are set and checked in their SASLprep form; a hash made
   from the bytes as given (before SASLprep) still verifies. */
static void
test_saslprep_accounts(void **state)
{
	struct store_test *t = *state;
	struct account_scram scram, ix;
	struct account *account;
	struct crypt_data *data;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	assert_int_equal(store_account_create(t->store, "nine",
					      ACCOUNT_TYPE_MULTI,
					      "I\xc2\xadX"), 0);
	assert_int_equal(store_account_open(t->store, "nine", &account), 0);
	assert_int_equal(store_account_verify_password(account, "IX"), 1);
	assert_int_equal(store_account_verify_password(account,
						       "\xe2\x85\xa8"), 1);
	assert_int_equal(store_account_verify_password(account,
						       "I\xc2\xadX"), 1);
	assert_int_equal(store_account_verify_password(account, "ix"), 0);
	assert_int_equal(store_account_verify_password(account, "\x07"), 0);
	/* SCRAM clients hash the prepared password (RFC 5802 §2.2) */
	assert_int_equal(store_account_get_scram(account, &scram), 0);
	assert_int_equal(store_scram_compute("IX", scram.salt,
		sizeof(scram.salt), scram.iterations, &ix), 0);
	assert_memory_equal(&ix, &scram, sizeof(scram));
	store_account_close(&account);
	assert_int_equal(store_account_set_password(t->store, "nine", "\x07"),
			 -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	store_clear_error();

	data = calloc(1, sizeof(*data));
	assert_non_null(data);
	assert_non_null(crypt_gensalt_rn("$6$", 0, NULL, 0, setting,
					 sizeof(setting)));
	assert_non_null(crypt_rn("I\xc2\xadX", setting, data, sizeof(*data)));
	assert_int_equal(store_password_verify(data->output, "I\xc2\xadX"), 1);
	assert_int_equal(store_password_verify(data->output, "IX"), 0);
	assert_non_null(crypt_rn("\x07", setting, data, sizeof(*data)));
	assert_int_equal(store_password_verify(data->output, "\x07"), 1);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		cmocka_unit_test(test_scram_rfc7677),
		T(test_account_scram_stored),
		T(test_verify_password),
		T(test_no_password),
		T(test_damaged_secrets),
		cmocka_unit_test(test_password_rules),
		cmocka_unit_test(test_saslprep),
		T(test_saslprep_accounts),
		T(test_set_password_faults),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
