/* SPDX-License-Identifier: MIT */
/*
 * store-name.c: validation and normalisation of domain, account and
 * mailbox names. Every name that reaches a path is checked here first, so
 * nothing a client or administrator types can escape the base directory
 * or collide with the store's own files. The rules are documented in
 * docs/storage-format.md ("## Names"). Error texts never echo the name:
 * it may hold control characters.
 */
#include "store-private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define DOMAIN_LABEL_MAX 63

/* Suffixes of the files kept beside a mailbox (NAME.mbox, NAME.mdir/,
   NAME.mbox.idx, NAME.mbox.<anything>): a component holding one of
   them followed by '.' or its end could name another mailbox's file. */
static const char *const reserved_infixes[] = { ".mbox", ".mdir" };
/* Endings kept for caches, locks and temp files. */
static const char *const reserved_endings[] = { ".idx", ".lock", ".tmp" };
/* The same for account names, whose files sit side by side in a domain
   directory: NAME.macnt/, NAME.settings, NAME.info, NAME.lock,
   NAME.mbox, NAME.mdir/, NAME.mbox.idx. */
static const char *const account_infixes[] = { ".macnt", ".mbox", ".mdir" };
static const char *const account_endings[] = {
	".settings", ".info", ".lock", ".idx", ".tmp",
};
/* Top-level components starting with this are the account's own files
   (account.settings, account.info, account.lock, account.web/). */
#define ACCOUNT_FILE_PREFIX "account."

char *
store_str_lower(const char *s)
{
	char *ret = i_strdup(s);
	char *p;

	for (p = ret; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return ret;
}

static int
check_domain_label(const char *label, size_t len)
{
	size_t i;

	if (len == 0)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid domain name: empty label");
	if (len > DOMAIN_LABEL_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid domain name: label longer than %d bytes",
			DOMAIN_LABEL_MAX);
	if (label[0] == '-' || label[len - 1] == '-')
		return store_set_error(STORE_ERROR_INVALID,
			"invalid domain name: label starts or ends with '-'");
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)label[i]) && label[i] != '-')
			return store_set_error(STORE_ERROR_INVALID,
				"invalid domain name: only letters, digits, "
				"'-' and '.' are allowed");
	}
	return 0;
}

int
store_check_domain_name(const char *domain)
{
	size_t len = strlen(domain);
	const char *p, *dot;

	if (len == 0)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid domain name: empty");
	if (len > STORE_DOMAIN_NAME_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid domain name: longer than %d bytes",
			STORE_DOMAIN_NAME_MAX);
	for (p = domain;; p = dot + 1) {
		dot = strchr(p, '.');
		if (check_domain_label(p, dot == NULL ? strlen(p) :
				       (size_t)(dot - p)) == -1)
			return -1;
		if (dot == NULL)
			return 0;
	}
}

static bool
has_reserved_infix(const char *comp, size_t len, const char *infix)
{
	size_t ilen = strlen(infix), i;

	for (i = 0; i + ilen <= len; i++) {
		if (strncasecmp(comp + i, infix, ilen) == 0 &&
		    (i + ilen == len || comp[i + ilen] == '.'))
			return true;
	}
	return false;
}

static bool
has_ending(const char *name, size_t len, const char *ending)
{
	size_t elen = strlen(ending);

	return len >= elen && strncasecmp(name + len - elen, ending, elen) == 0;
}

/* Whether name (len bytes) holds one of infixes before a '.' or its end,
   or ends in one of endings. */
static bool
has_reserved_part(const char *name, size_t len,
		  const char *const *infixes, unsigned int infix_count,
		  const char *const *endings, unsigned int ending_count)
{
	unsigned int i;

	for (i = 0; i < infix_count; i++) {
		if (has_reserved_infix(name, len, infixes[i]))
			return true;
	}
	for (i = 0; i < ending_count; i++) {
		if (has_ending(name, len, endings[i]))
			return true;
	}
	return false;
}

/* The local part of an account name: [a-z0-9._+-], not starting with
   '.' or '-' (hidden and temp files start with '.'), 1..64 bytes. Upper
   case letters are accepted and mean their lower case. */
static int
check_account_local(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid account name: empty");
	if (len > STORE_ACCOUNT_NAME_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid account name: longer than %d bytes",
			STORE_ACCOUNT_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return store_set_error(STORE_ERROR_INVALID,
			"invalid account name: must not start with '.' or '-'");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isascii(c) || (!isalnum(c) && strchr("._+-", c) == NULL))
			return store_set_error(STORE_ERROR_INVALID,
				"invalid account name: only letters, digits "
				"and . _ + - are allowed");
	}
	if (has_reserved_part(name, len, account_infixes,
			      N_ELEMENTS(account_infixes), account_endings,
			      N_ELEMENTS(account_endings)))
		return store_set_error(STORE_ERROR_INVALID,
			"invalid account name: must not contain .macnt, .mbox "
			"or .mdir, nor end in .settings, .info, .lock, .idx "
			"or .tmp");
	return 0;
}

int
store_check_account_name(const char *name)
{
	const char *at = strchr(name, '@');

	if (at == NULL)
		return check_account_local(name, strlen(name));
	if (check_account_local(name, (size_t)(at - name)) == -1)
		return -1;
	return store_check_domain_name(at + 1);
}

/* Length of the valid UTF-8 sequence at p (at most len bytes), 0 when
   invalid (overlong forms, surrogates, beyond U+10FFFF, truncated). */
static size_t
utf8_seq_len(const unsigned char *p, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/* UTF-8 without C0/C1 control characters, DEL or backslash. */
static int
check_mailbox_chars(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), n;

	while (len > 0) {
		n = utf8_seq_len(p, len);
		if (n == 0)
			return store_set_error(STORE_ERROR_INVALID,
				"invalid mailbox name: not valid UTF-8");
		if ((n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			return store_set_error(STORE_ERROR_INVALID,
				"invalid mailbox name: control characters "
				"are not allowed");
		if (p[0] == '\\')
			return store_set_error(STORE_ERROR_INVALID,
				"invalid mailbox name: '\\' is not allowed");
		p += n;
		len -= n;
	}
	return 0;
}

static const char *
component_problem(const char *comp, size_t len, bool top)
{
	if (len == 0)
		return "empty hierarchy component (leading, trailing or "
			"double '/')";
	if (len > STORE_MAILBOX_COMPONENT_MAX)
		return "hierarchy component too long";
	if (comp[0] == '.')
		return "a component must not start with '.' "
			"('.' and '..' included)";
	if (top && comp[0] == '~')
		return "a name must not start with '~' "
			"(other users' mailboxes)";
	if (top && len >= strlen(ACCOUNT_FILE_PREFIX) &&
	    strncasecmp(comp, ACCOUNT_FILE_PREFIX,
			strlen(ACCOUNT_FILE_PREFIX)) == 0)
		return "names starting with 'account.' are reserved";
	if (has_reserved_part(comp, len, reserved_infixes,
			      N_ELEMENTS(reserved_infixes), NULL, 0))
		return "a component must not contain '.mbox' or '.mdir' "
			"before a '.' or its end";
	if (has_reserved_part(comp, len, NULL, 0, reserved_endings,
			      N_ELEMENTS(reserved_endings)))
		return "a component must not end in '.idx', '.lock' or "
			"'.tmp'";
	return NULL;
}

bool
store_mailbox_component_valid(const char *comp, size_t len, bool top)
{
	return component_problem(comp, len, top) == NULL;
}

int
store_check_mailbox_name(const char *name)
{
	const char *p, *slash, *problem;
	unsigned int depth = 0;
	size_t len;

	if (name[0] == '\0')
		return store_set_error(STORE_ERROR_INVALID,
			"invalid mailbox name: empty");
	if (strlen(name) > STORE_MAILBOX_NAME_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"invalid mailbox name: longer than %d bytes",
			STORE_MAILBOX_NAME_MAX);
	if (check_mailbox_chars(name) == -1)
		return -1;
	for (p = name;; p = slash + 1) {
		slash = strchr(p, '/');
		len = slash == NULL ? strlen(p) : (size_t)(slash - p);
		if (++depth > STORE_MAILBOX_DEPTH_MAX)
			return store_set_error(STORE_ERROR_INVALID,
				"invalid mailbox name: more than %d levels",
				STORE_MAILBOX_DEPTH_MAX);
		problem = component_problem(p, len, p == name);
		if (problem != NULL)
			return store_set_error(STORE_ERROR_INVALID,
				"invalid mailbox name: %s", problem);
		if (slash == NULL)
			return 0;
	}
}

char *
store_mailbox_name_normalize(const char *name)
{
	char *ret = i_strdup(name);
	size_t len = strcspn(name, "/");

	if (len == 5 && strncasecmp(name, "INBOX", 5) == 0)
		memcpy(ret, "INBOX", 5);
	return ret;
}

bool
store_mailbox_name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}
