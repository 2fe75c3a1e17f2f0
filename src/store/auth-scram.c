/* SPDX-License-Identifier: MIT */
/*
 * auth-scram.c: the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677):
 * parsing the client's two messages, building the server's two, and
 * checking the proof against the stored verifier (StoredKey,
 * ServerKey), never against a password. Pure functions over struct
 * auth_scram (see auth-private.h); auth.c looks the verifier up. Part of
 * src/store; OpenSSL for HMAC and SHA-256.
 *
 * Not offered: channel binding (SCRAM-SHA-256-PLUS; a client asking for
 * it with "p=" is refused, "y" is accepted as RFC 5802 §6 says since we
 * advertise no -PLUS), authorization identities other than the user
 * itself, and SASLprep beyond the identity mapping (see
 * store-password.c).
 */
#include "auth-private.h"
#include "base64.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* Iterations announced for users without a verifier: the default. */
#define AUTH_SCRAM_FAKE_ITERATIONS STORE_SCRAM_ITERATIONS

static void
hmac(const unsigned char *key, size_t key_len, const void *data,
     size_t len, unsigned char out[STORE_SCRAM_KEY_LEN])
{
	unsigned int out_len = STORE_SCRAM_KEY_LEN;

	if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out,
		 &out_len) == NULL)
		i_panic("HMAC-SHA-256 failed");
}

/*
 * RFC 5802 §7 saslname: "=2C" is ',', "=3D" is '='; any other '=' and
 * an empty name are errors. Decodes text[0..len) into a new string, or
 * returns NULL.
 */
static char *
saslname_decode(const char *text, size_t len)
{
	char *out = i_malloc(len + 1), *p = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (text[i] != '=') {
			*p++ = text[i];
		} else if (i + 2 < len && text[i + 1] == '2' &&
			   text[i + 2] == 'C') {
			*p++ = ',';
			i += 2;
		} else if (i + 2 < len && text[i + 1] == '3' &&
			   text[i + 2] == 'D') {
			*p++ = '=';
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	if (p == out) {
		free(out);
		return NULL;
	}
	*p = '\0';
	return out;
}

/* Length of the attribute value at p (up to ',' or the end). */
static size_t
attr_len(const char *p)
{
	const char *comma = strchr(p, ',');

	return comma == NULL ? strlen(p) : (size_t)(comma - p);
}

/* RFC 5802 §7 printable: %x21-2B / %x2D-7E. */
static bool
nonce_valid(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > AUTH_SCRAM_NONCE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	}
	return true;
}

/* gs2-header = gs2-cbind-flag "," [authzid] ","; returns the position
   after it, or NULL. */
static const char *
parse_gs2_header(struct auth_scram *scram, const char *msg,
		 const char **reason_r)
{
	const char *p = msg;
	size_t len;

	if (p[0] == 'p' && p[1] == '=') {
		*reason_r = "channel binding is not supported";
		return NULL;
	}
	if ((p[0] != 'n' && p[0] != 'y') || p[1] != ',') {
		*reason_r = "bad GS2 header";
		return NULL;
	}
	p += 2;
	if (p[0] == 'a' && p[1] == '=') {
		len = attr_len(p + 2);
		scram->authzid = saslname_decode(p + 2, len);
		if (scram->authzid == NULL || p[2 + len] != ',') {
			*reason_r = "bad authorization identity";
			return NULL;
		}
		p += 2 + len;
	}
	if (*p != ',') {
		*reason_r = "bad GS2 header";
		return NULL;
	}
	p++;
	scram->gs2_header = i_strndup(msg, (size_t)(p - msg));
	return p;
}

int
auth_scram_client_first(struct auth_scram *scram, const unsigned char *data,
			size_t len, char **user_r, const char **reason_r)
{
	char *msg;
	const char *bare, *p;
	size_t n;
	int ret = -1;

	if (memchr(data, '\0', len) != NULL) {
		*reason_r = "NUL in client-first-message";
		return -1;
	}
	msg = i_strndup((const char *)data, len);
	if ((bare = parse_gs2_header(scram, msg, reason_r)) == NULL)
		goto out;
	p = bare;
	if (p[0] == 'm' && p[1] == '=') {
		*reason_r = "mandatory extension not supported";
		goto out;
	}
	if (p[0] != 'n' || p[1] != '=') {
		*reason_r = "username expected";
		goto out;
	}
	n = attr_len(p + 2);
	if (n > AUTH_USER_MAX ||
	    (*user_r = saslname_decode(p + 2, n)) == NULL) {
		*reason_r = "bad username";
		goto out;
	}
	p += 2 + n;
	if (strncmp(p, ",r=", 3) != 0 ||
	    !nonce_valid(p + 3, (n = attr_len(p + 3)))) {
		*reason_r = "bad nonce";
		i_free(*user_r);
		goto out;
	}
	/* Optional extensions after the nonce are ignored (§5.1). */
	scram->nonce = i_strndup(p + 3, n);
	scram->client_first_bare = i_strdup(bare);
	ret = 0;
out:
	free(msg);
	return ret;
}

void
auth_scram_server_first(struct auth_scram *scram,
			const struct account_scram *keys,
			const char *server_nonce, buf_t *out)
{
	buf_t msg = BUF_INIT;
	char *nonce;

	scram->keys = *keys;
	nonce = i_strdup_printf("%s%s", scram->nonce, server_nonce);
	free(scram->nonce);
	scram->nonce = nonce;
	buf_printf(&msg, "r=%s,s=", scram->nonce);
	base64_encode(&msg, keys->salt, sizeof(keys->salt));
	buf_printf(&msg, ",i=%u", keys->iterations);
	scram->server_first = i_strndup((const char *)msg.data, msg.len);
	buf_append(out, msg.data, msg.len);
	buf_deinit(&msg);
}

/* Decodes the base64 value of one attribute into exactly len bytes
   (len 0: any length into out). */
static bool
decode_attr(const char *text, size_t text_len, buf_t *out, size_t len)
{
	buf_reset(out);
	if (base64_decode(out, text, text_len) < 0)
		return false;
	return len == 0 || out->len == len;
}

/*
 * Splits the client-final-message: checks c= (our GS2 header, no
 * channel binding data) and r= (the whole nonce), finds the proof, which
 * must be the last attribute, and returns the length of the message
 * without it (",p=..." excluded).
 */
static int
parse_client_final(struct auth_scram *scram, const char *msg, buf_t *proof,
		   size_t *without_proof_r, const char **reason_r)
{
	const char *p = msg, *last;
	buf_t cbind = BUF_INIT;
	size_t n;
	bool ok;

	if (strncmp(p, "c=", 2) != 0) {
		*reason_r = "channel binding attribute expected";
		return -1;
	}
	n = attr_len(p + 2);
	ok = decode_attr(p + 2, n, &cbind, 0) &&
		cbind.len == strlen(scram->gs2_header) &&
		memcmp(cbind.data, scram->gs2_header, cbind.len) == 0;
	buf_deinit(&cbind);
	if (!ok) {
		*reason_r = "channel binding data does not match";
		return -1;
	}
	p += 2 + n;
	n = strlen(scram->nonce);
	if (strncmp(p, ",r=", 3) != 0 || strncmp(p + 3, scram->nonce, n) != 0 ||
	    (p[3 + n] != ',' && p[3 + n] != '\0')) {
		*reason_r = "nonce does not match";
		return -1;
	}
	last = strrchr(p, ',');
	if (last == NULL || last == p || strncmp(last, ",p=", 3) != 0 ||
	    !decode_attr(last + 3, strlen(last + 3), proof,
			 STORE_SCRAM_KEY_LEN)) {
		*reason_r = "bad proof";
		return -1;
	}
	*without_proof_r = (size_t)(last - msg);
	return 0;
}

int
auth_scram_client_final(struct auth_scram *scram, const unsigned char *data,
			size_t len, buf_t *out, const char **reason_r)
{
	unsigned char signature[STORE_SCRAM_KEY_LEN];
	unsigned char client_key[STORE_SCRAM_KEY_LEN];
	unsigned char stored_key[STORE_SCRAM_KEY_LEN];
	buf_t proof = BUF_INIT, auth_msg = BUF_INIT;
	size_t without_proof, i;
	char *msg;
	int ret = -1;

	i_assert(scram->server_first != NULL);
	if (memchr(data, '\0', len) != NULL) {
		*reason_r = "NUL in client-final-message";
		return -1;
	}
	msg = i_strndup((const char *)data, len);
	if (parse_client_final(scram, msg, &proof, &without_proof,
			       reason_r) < 0)
		goto out;
	/* RFC 5802 §3: AuthMessage, ClientSignature, ClientKey. */
	buf_printf(&auth_msg, "%s,%s,", scram->client_first_bare,
		   scram->server_first);
	buf_append(&auth_msg, msg, without_proof);
	hmac(scram->keys.stored_key, sizeof(scram->keys.stored_key),
	     auth_msg.data, auth_msg.len, signature);
	for (i = 0; i < sizeof(client_key); i++)
		client_key[i] = proof.data[i] ^ signature[i];
	SHA256(client_key, sizeof(client_key), stored_key);
	ret = CRYPTO_memcmp(stored_key, scram->keys.stored_key,
			    sizeof(stored_key)) == 0 ? 1 : 0;
	if (ret == 1) {
		hmac(scram->keys.server_key, sizeof(scram->keys.server_key),
		     auth_msg.data, auth_msg.len, scram->server_signature);
		buf_append_str(out, "v=");
		base64_encode(out, scram->server_signature,
			      sizeof(scram->server_signature));
	}
	explicit_bzero(signature, sizeof(signature));
	explicit_bzero(client_key, sizeof(client_key));
	explicit_bzero(stored_key, sizeof(stored_key));
out:
	if (proof.data != NULL)
		explicit_bzero(proof.data, proof.len);
	buf_deinit(&proof);
	buf_deinit(&auth_msg);
	free(msg);
	return ret;
}

void
auth_scram_deinit(struct auth_scram *scram)
{
	free(scram->gs2_header);
	free(scram->authzid);
	free(scram->client_first_bare);
	free(scram->server_first);
	free(scram->nonce);
	explicit_bzero(scram, sizeof(*scram));
}

/* ---- users without a verifier ---- */

static unsigned char fake_secret[32];
static pthread_once_t fake_secret_once = PTHREAD_ONCE_INIT;

static void
fake_secret_init(void)
{
	if (RAND_bytes(fake_secret, sizeof(fake_secret)) != 1)
		i_panic("RAND_bytes failed");
}

void
auth_scram_fake_keys(const char *user, struct account_scram *keys_r)
{
	unsigned char mac[STORE_SCRAM_KEY_LEN];
	buf_t text = BUF_INIT;

	pthread_once(&fake_secret_once, fake_secret_init);
	memset(keys_r, 0, sizeof(*keys_r));
	buf_printf(&text, "salt:%s", user);
	hmac(fake_secret, sizeof(fake_secret), text.data, text.len, mac);
	memcpy(keys_r->salt, mac, sizeof(keys_r->salt));
	keys_r->iterations = AUTH_SCRAM_FAKE_ITERATIONS;
	/* Random keys: no proof can match them. */
	if (RAND_bytes(keys_r->stored_key, sizeof(keys_r->stored_key)) != 1 ||
	    RAND_bytes(keys_r->server_key, sizeof(keys_r->server_key)) != 1)
		i_panic("RAND_bytes failed");
	explicit_bzero(mac, sizeof(mac));
	buf_deinit(&text);
}
