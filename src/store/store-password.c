/* SPDX-License-Identifier: MIT */
/*
 * store-password.c: account passwords (store-account.h). A password is
 * never stored in clear: account.settings keeps a crypt(3) hash
 * (yescrypt, else SHA-512 crypt, from libcrypt) for plain logins, and a
 * SCRAM-SHA-256 verifier (RFC 5802 §3, RFC 7677) so SASL SCRAM works
 * without the clear text:
 *
 *   CryptPassword = "$y$...";
 *   SCRAM-SHA-256 = { Salt = [..]; Iterations = 4096;
 *                     StoredKey = [..]; ServerKey = [..]; };
 *
 * Secrets are compared in constant time (CRYPTO_memcmp) and wiped with
 * explicit_bzero. Passwords are prepared with SASLprep (RFC 4013, GNU
 * libidn's stringprep): RFC 5802 §2.2 makes SCRAM clients hash the
 * prepared form, and RFC 4616 §2 asks the same of PLAIN servers, so
 * "I<U+00AD>X", "<U+2168>" and "IX" are one password everywhere.
 */
#include "store-private.h"
#include "log.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <idn-free.h>
#include <stringprep.h>

/* Longest password accepted (bytes). */
#define STORE_PASSWORD_MAX 1024

static const char *const crypt_prefixes[] = { "$y$", "$6$" };

int
store_check_password(const char *password)
{
	size_t len = strlen(password);

	if (len == 0)
		return store_set_error(STORE_ERROR_INVALID,
				       "empty password");
	if (len > STORE_PASSWORD_MAX)
		return store_set_error(STORE_ERROR_INVALID,
				       "password longer than %d bytes",
				       STORE_PASSWORD_MAX);
	return 0;
}

int
store_password_prep(const char *password, char **prepped_r)
{
	char *out = NULL;
	int ret;

	/* Code points unassigned in Unicode 3.2 (most emoji) pass as in a
	   query: RFC 4013 §2.5 would refuse them in a stored string, but
	   RFC 8265's OpaqueString, SASLprep's successor, allows them and
	   users have such passwords. */
	ret = stringprep_profile(password, &out, "SASLprep", 0);
	if (ret != STRINGPREP_OK || out[0] == '\0') {
		if (out != NULL) {
			explicit_bzero(out, strlen(out));
			idn_free(out);
		}
		return store_set_error(STORE_ERROR_INVALID,
				       "password not allowed by SASLprep "
				       "(RFC 4013): %s",
				       ret != STRINGPREP_OK ?
				       stringprep_strerror(ret) : "empty");
	}
	*prepped_r = i_strdup(out);
	explicit_bzero(out, strlen(out));
	idn_free(out);
	return 0;
}

void
store_password_free(char **prepped)
{
	if (*prepped == NULL)
		return;
	explicit_bzero(*prepped, strlen(*prepped));
	free(*prepped);
	*prepped = NULL;
}

/* crypt(3) hash of password with a fresh random salt. Caller frees. */
static int
password_crypt(const char *password, char **hash_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *hash = NULL;
	unsigned int i;

	data = i_malloc(sizeof(*data));
	for (i = 0; i < N_ELEMENTS(crypt_prefixes) && hash == NULL; i++) {
		if (crypt_gensalt_rn(crypt_prefixes[i], 0, NULL, 0, setting,
				     sizeof(setting)) == NULL)
			continue;
		hash = crypt_rn(password, setting, data, sizeof(*data));
		if (hash != NULL && hash[0] == '*')
			hash = NULL;
	}
	if (hash == NULL) {
		log_warn("crypt_rn");
		explicit_bzero(data, sizeof(*data));
		free(data);
		return store_set_error(STORE_ERROR_TEMP,
				       "password hashing failed");
	}
	*hash_r = i_strdup(hash);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return 0;
}

int
store_password_verify_hash(const char *hash, const char *password)
{
	struct crypt_data *data;
	const char *computed;
	size_t len = strlen(hash);
	int ret;

	data = i_malloc(sizeof(*data));
	computed = crypt_rn(password, hash, data, sizeof(*data));
	if (computed == NULL || computed[0] == '*') {
		log_warnx("stored password hash is not usable by crypt(3)");
		ret = store_set_error(STORE_ERROR_CORRUPT,
				      "stored password hash is not usable");
	} else {
		ret = strlen(computed) == len &&
			CRYPTO_memcmp(computed, hash, len) == 0 ? 1 : 0;
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ret;
}

int
store_password_verify(const char *hash, const char *password)
{
	char *prepped = NULL;
	int ret;

	if (store_password_prep(password, &prepped) == -1) {
		/* prohibited in SASLprep: only a password set before
		   Commune prepared them can be this */
		store_clear_error();
		return store_password_verify_hash(hash, password);
	}
	ret = store_password_verify_hash(hash, prepped);
	if (ret == 0 && strcmp(prepped, password) != 0) {
		/* hashed as given before passwords were prepared */
		ret = store_password_verify_hash(hash, password);
	}
	store_password_free(&prepped);
	return ret;
}

static int
hmac_sha256(const unsigned char *key, size_t key_len, const char *text,
	    unsigned char out[STORE_SCRAM_KEY_LEN])
{
	unsigned int out_len = STORE_SCRAM_KEY_LEN;

	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)text,
		 strlen(text), out, &out_len) == NULL)
		return -1;
	return 0;
}

int
store_scram_compute(const char *password, const unsigned char *salt,
		    size_t salt_len, unsigned int iterations,
		    struct account_scram *scram_r)
{
	unsigned char salted[STORE_SCRAM_KEY_LEN];
	unsigned char client_key[STORE_SCRAM_KEY_LEN];
	int ret = 0;

	i_assert(salt_len == STORE_SCRAM_SALT_LEN);
	memset(scram_r, 0, sizeof(*scram_r));
	memcpy(scram_r->salt, salt, salt_len);
	scram_r->iterations = iterations;
	/* RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i) */
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
			      (int)salt_len, (int)iterations, EVP_sha256(),
			      sizeof(salted), salted) != 1 ||
	    hmac_sha256(salted, sizeof(salted), "Client Key",
			client_key) == -1 ||
	    hmac_sha256(salted, sizeof(salted), "Server Key",
			scram_r->server_key) == -1 ||
	    SHA256(client_key, sizeof(client_key),
		   scram_r->stored_key) == NULL) {
		log_warnx("SCRAM-SHA-256 key derivation failed");
		ret = store_set_error(STORE_ERROR_TEMP,
				      "SCRAM key derivation failed");
	}
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	return ret;
}

/* Puts CryptPassword and SCRAM-SHA-256 of password into settings. */
int
account_settings_set_password(struct dict_value *settings,
			      const char *password)
{
	unsigned char salt[STORE_SCRAM_SALT_LEN];
	struct account_scram scram;
	struct dict_value *sdict;
	char *hash = NULL;

	char *prepped = NULL;
	int ret;

	if (store_check_password(password) == -1 ||
	    store_password_prep(password, &prepped) == -1)
		return -1;
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		log_warnx("RAND_bytes failed");
		store_password_free(&prepped);
		return store_set_error(STORE_ERROR_TEMP,
				       "no random bytes for the salt");
	}
	ret = password_crypt(prepped, &hash);
	if (ret == 0 &&
	    store_scram_compute(prepped, salt, sizeof(salt),
				STORE_SCRAM_ITERATIONS, &scram) == -1) {
		free(hash);
		ret = -1;
	}
	store_password_free(&prepped);
	if (ret == -1)
		return -1;
	sdict = dict_new_dict();
	dict_set(sdict, "Salt", dict_new_bytes(DICT_TYPE_DATA, scram.salt,
					       sizeof(scram.salt)));
	dict_set_uint(sdict, "Iterations", scram.iterations);
	dict_set(sdict, "StoredKey", dict_new_bytes(DICT_TYPE_DATA,
		scram.stored_key, sizeof(scram.stored_key)));
	dict_set(sdict, "ServerKey", dict_new_bytes(DICT_TYPE_DATA,
		scram.server_key, sizeof(scram.server_key)));
	explicit_bzero(&scram, sizeof(scram));
	dict_set(settings, "SCRAM-SHA-256", sdict);
	dict_set_str(settings, "CryptPassword", hash);
	/* A clear-text password imported from CommuniGate goes away. */
	dict_set(settings, "Password", NULL);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return 0;
}

int
store_account_set_password(struct store *store, const char *name,
			   const char *password)
{
	struct dict_value *settings = NULL;
	struct account *account;
	int ret = -1;

	if (store_check_password(password) == -1)
		return -1;
	if (store_account_open(store, name, &account) == -1)
		return -1;
	if (account_lock(account, true) == -1)
		goto out;
	if (account_settings_read(account, &settings) == 0 &&
	    account_settings_set_password(settings, password) == 0)
		ret = account_settings_write(account, settings);
	account_unlock(account);
out:
	dict_value_free(&settings);
	store_account_close(&account);
	return ret;
}

int
store_account_verify_password(struct account *account, const char *password)
{
	struct dict_value *settings;
	const char *hash;
	int ret;

	if (account_settings_read(account, &settings) == -1)
		return -1;
	hash = dict_get_str(settings, "CryptPassword");
	/* No hash: no password login possible. */
	ret = hash == NULL || hash[0] == '\0' ? 0 :
		store_password_verify(hash, password);
	dict_value_free(&settings);
	return ret;
}

/* Copies a data block of exactly len bytes. */
static bool
scram_get_bytes(const struct dict_value *dict, const char *key,
		unsigned char *out, size_t len)
{
	const struct dict_value *value = dict_get(dict, key);

	if (value == NULL || value->type != DICT_TYPE_DATA ||
	    value->len != len)
		return false;
	memcpy(out, value->data, len);
	return true;
}

int
store_account_get_scram(struct account *account,
			struct account_scram *scram_r)
{
	struct dict_value *settings;
	const struct dict_value *sdict;
	uint64_t iterations;
	int ret = 0;

	if (account_settings_read(account, &settings) == -1)
		return -1;
	memset(scram_r, 0, sizeof(*scram_r));
	sdict = dict_get(settings, "SCRAM-SHA-256");
	if (sdict == NULL) {
		ret = store_set_error(STORE_ERROR_NOT_FOUND,
			"account %s has no SCRAM-SHA-256 verifier",
			account->name);
	} else if (sdict->type != DICT_TYPE_DICT ||
		   dict_get_uint(sdict, "Iterations", &iterations) == -1 ||
		   iterations == 0 || iterations > UINT32_MAX ||
		   !scram_get_bytes(sdict, "Salt", scram_r->salt,
				    sizeof(scram_r->salt)) ||
		   !scram_get_bytes(sdict, "StoredKey", scram_r->stored_key,
				    sizeof(scram_r->stored_key)) ||
		   !scram_get_bytes(sdict, "ServerKey", scram_r->server_key,
				    sizeof(scram_r->server_key))) {
		log_warnx("%s: malformed SCRAM-SHA-256 entry",
			  account->settings_path);
		ret = store_set_error(STORE_ERROR_CORRUPT,
			"account %s: malformed SCRAM-SHA-256 verifier",
			account->name);
	} else {
		scram_r->iterations = (unsigned int)iterations;
	}
	if (ret == -1)
		explicit_bzero(scram_r, sizeof(*scram_r));
	dict_value_free(&settings);
	return ret;
}
