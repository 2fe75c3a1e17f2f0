/* SPDX-License-Identifier: MIT */
/*
 * mailbox-objectid.c: the object identifiers of RFC 8474 (OBJECTID).
 * MAILBOXID and EMAILID are not stored: they are derived from what
 * already identifies a mailbox and a message for good. UIDVALIDITY is
 * never reused within an account (account.info's LastUIDValidity) and
 * stays with a mailbox across RENAME, while renaming INBOX gives the new
 * INBOX a new one, which is what RFC 8474 §4 asks of MAILBOXID; a
 * message is (UIDVALIDITY, UID) for as long as it is stored. Both are
 * hashed with the account's name so identifiers are unique across the
 * server, not only within an account. Part of src/store.
 */
#include "store-private.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* prefix + the first (STORE_OBJECTID_MAX - 1) / 2 bytes of SHA-256 in
   hex */
static void
objectid_make(char prefix, const char *account, uint32_t uidvalidity,
	      uint32_t uid, char out[STORE_OBJECTID_MAX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, md_len = 0;
	char data[64];
	int len;

	len = snprintf(data, sizeof(data), "%c:%u:%u:", prefix,
		       uidvalidity, uid);
	i_assert(len > 0 && (size_t)len < sizeof(data));
	{
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		i_assert(ctx != NULL);
		if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(ctx, data, (size_t)len) != 1 ||
		    EVP_DigestUpdate(ctx, account, strlen(account)) != 1 ||
		    EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
			i_panic("SHA-256 failed");
		EVP_MD_CTX_free(ctx);
	}
	out[0] = prefix;
	for (i = 0; i < (STORE_OBJECTID_MAX - 1) / 2 && i < md_len; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
	out[1 + 2 * i] = '\0';
}

void
store_mailbox_id(struct account *account, uint32_t uidvalidity,
		 char out[STORE_OBJECTID_MAX + 1])
{
	objectid_make('F', account->name, uidvalidity, 0, out);
}

void
store_email_id(struct account *account, uint32_t uidvalidity, uint32_t uid,
	       char out[STORE_OBJECTID_MAX + 1])
{
	objectid_make('M', account->name, uidvalidity, uid, out);
}
