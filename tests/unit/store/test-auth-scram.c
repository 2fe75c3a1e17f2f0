/* SPDX-License-Identifier: MIT */
/*
 * test-auth-scram.c: the SCRAM-SHA-256 server messages (auth-scram.c)
 * against the test vector of RFC 7677 §3 (user "user", password
 * "pencil"), and the malformed messages they must refuse.
 */
#include "auth-private.h"
#include "base64.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_SERVER_FIRST                                                     \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"             \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL                                                     \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"      \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void
rfc_keys(struct account_scram *keys)
{
	buf_t salt = BUF_INIT;

	assert_int_equal(base64_decode(&salt, RFC_SALT, strlen(RFC_SALT)), 0);
	assert_int_equal(salt.len, STORE_SCRAM_SALT_LEN);
	assert_int_equal(store_scram_compute("pencil", salt.data, salt.len,
					     4096, keys), 0);
	buf_deinit(&salt);
}

/* Runs client-first and server-first; returns the server-first text. */
static void
start(struct auth_scram *scram, const char *client_first, buf_t *out)
{
	struct account_scram keys;
	const char *reason;
	char *user = NULL;

	memset(scram, 0, sizeof(*scram));
	rfc_keys(&keys);
	assert_int_equal(auth_scram_client_first(scram,
		(const unsigned char *)client_first, strlen(client_first),
		&user, &reason), 0);
	assert_string_equal(user, "user");
	free(user);
	auth_scram_server_first(scram, &keys, RFC_SERVER_NONCE, out);
}

static int
final(struct auth_scram *scram, const char *client_final, buf_t *out)
{
	const char *reason = NULL;

	return auth_scram_client_final(scram,
		(const unsigned char *)client_final, strlen(client_final), out,
		&reason);
}

static void
test_rfc7677_vector(void **state)
{
	struct auth_scram scram;
	buf_t out = BUF_INIT;

	start(&scram, RFC_CLIENT_FIRST, &out);
	assert_string_equal(buf_cstr(&out), RFC_SERVER_FIRST);
	buf_reset(&out);
	assert_int_equal(final(&scram, RFC_CLIENT_FINAL, &out), 1);
	assert_string_equal(buf_cstr(&out), RFC_SERVER_FINAL);
	auth_scram_deinit(&scram);
	buf_deinit(&out);
}

static void
test_wrong_proof(void **state)
{
	struct auth_scram scram;
	buf_t out = BUF_INIT;
	char *bad = strdup(RFC_CLIENT_FINAL);

	/* One bit of the proof flipped ('d' -> 'e' in base64). */
	strstr(bad, "p=d")[2] = 'e';
	start(&scram, RFC_CLIENT_FIRST, &out);
	buf_reset(&out);
	assert_int_equal(final(&scram, bad, &out), 0);
	assert_int_equal(out.len, 0);
	auth_scram_deinit(&scram);
	buf_deinit(&out);
	free(bad);
}

static void
test_client_first_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"n,,",
		"x,,n=user,r=abc",
		"p=tls-unique,,n=user,r=abc",     /* channel binding */
		"n,,m=ext,n=user,r=abc",          /* mandatory extension */
		"n,,n=,r=abc",                    /* empty user */
		"n,,n=us=er,r=abc",               /* bad escape */
		"n,,n=user",                      /* no nonce */
		"n,,n=user,r=",                   /* empty nonce */
		"n,,n=user,r=a b",                /* space in nonce */
		"n,a=,n=user,r=abc",              /* empty authzid */
		"n,n=user,r=abc",                 /* GS2 header cut */
		"nn,,n=user,r=abc",
	};
	struct auth_scram scram;
	const char *reason;
	char *user;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&scram, 0, sizeof(scram));
		user = NULL;
		reason = NULL;
		if (auth_scram_client_first(&scram,
				(const unsigned char *)bad[i], strlen(bad[i]),
				&user, &reason) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(reason);
		assert_null(user);
		auth_scram_deinit(&scram);
	}
	/* NUL inside */
	memset(&scram, 0, sizeof(scram));
	assert_int_equal(auth_scram_client_first(&scram,
		(const unsigned char *)"n,,n=u\0x,r=abc", 14, &user, &reason),
		-1);
	auth_scram_deinit(&scram);
}

static void
test_client_first_escapes(void **state)
{
	struct auth_scram scram;
	const char *reason;
	const char *msg = "y,a=a=2Cb,n=a=2Cb=3Dc,r=xyz,ext=1";
	char *user = NULL;

	memset(&scram, 0, sizeof(scram));
	assert_int_equal(auth_scram_client_first(&scram,
		(const unsigned char *)msg, strlen(msg), &user, &reason), 0);
	assert_string_equal(user, "a,b=c");
	assert_string_equal(scram.authzid, "a,b");
	assert_string_equal(scram.gs2_header, "y,a=a=2Cb,");
	assert_string_equal(scram.client_first_bare, "n=a=2Cb=3Dc,r=xyz,ext=1");
	assert_string_equal(scram.nonce, "xyz");
	free(user);
	auth_scram_deinit(&scram);
}

static void
test_client_final_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		/* channel binding of another GS2 header ("y,,") */
		"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* nonce without the server part */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* nonce with more */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0X,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* no proof */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		/* proof too short */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzb",
		/* proof not last */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	};
	struct auth_scram scram;
	buf_t out = BUF_INIT;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(&scram, RFC_CLIENT_FIRST, &out);
		buf_reset(&out);
		if (final(&scram, bad[i], &out) != -1)
			fail_msg("accepted: %s", bad[i]);
		auth_scram_deinit(&scram);
	}
	buf_deinit(&out);
}

static void
test_fake_keys_stable(void **state)
{
	struct account_scram a, b, c;

	auth_scram_fake_keys("nobody", &a);
	auth_scram_fake_keys("nobody", &b);
	auth_scram_fake_keys("somebody", &c);
	assert_memory_equal(a.salt, b.salt, sizeof(a.salt));
	assert_memory_not_equal(a.salt, c.salt, sizeof(a.salt));
	assert_int_equal(a.iterations, STORE_SCRAM_ITERATIONS);
	assert_memory_not_equal(a.stored_key, b.stored_key,
				sizeof(a.stored_key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_vector),
		cmocka_unit_test(test_wrong_proof),
		cmocka_unit_test(test_client_first_malformed),
		cmocka_unit_test(test_client_first_escapes),
		cmocka_unit_test(test_client_final_malformed),
		cmocka_unit_test(test_fake_keys_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
