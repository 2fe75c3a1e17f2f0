/* SPDX-License-Identifier: MIT */
/*
 * store-metadata.c: special-use attributes (RFC 6154) and annotations
 * (RFC 5464) of mailboxes and of the account ("server" annotations), in
 * account.info (store-info.c):
 *
 *   Mailboxes = {
 *     Sent = { UIDValidity = ...; ...; SpecialUse = (Sent);
 *              Metadata = { /private/comment = "mine"; }; };
 *   };
 *   ServerMetadata = { /shared/comment = "..."; };
 *
 * SpecialUse holds attribute names without the backslash; an empty
 * array means "none" and overrides the default by name. Values are
 * strings, or data blocks when they hold bytes a string should not
 * (NUL, controls, 8-bit). Everything is read-modify-write under the
 * exclusive account lock (account_info_update), so a change is whole
 * or absent. Part of src/store.
 */
#include "store-metadata.h"
#include "store-private.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INFO_MAILBOXES "Mailboxes"
#define INFO_SERVER_METADATA "ServerMetadata"
#define META_SPECIAL_USE "SpecialUse"
#define META_METADATA "Metadata"
#define META_CLASS "Class"
/* As store-mailbox-list.c's check_class. */
#define CLASS_MAX 64

static const struct {
	unsigned int bit;
	const char *name;
} uses[] = {
	{ STORE_USE_ALL, "All" },
	{ STORE_USE_ARCHIVE, "Archive" },
	{ STORE_USE_DRAFTS, "Drafts" },
	{ STORE_USE_FLAGGED, "Flagged" },
	{ STORE_USE_JUNK, "Junk" },
	{ STORE_USE_SENT, "Sent" },
	{ STORE_USE_TRASH, "Trash" },
};

/* Defaults by name for mailboxes never given attributes: what mail
   clients create (Thunderbird, Apple Mail, Outlook) at the top level.
   "Archive" gets none: people name ordinary folders so. */
static const struct {
	const char *name;
	unsigned int bit;
} default_uses[] = {
	{ "Drafts", STORE_USE_DRAFTS },
	{ "Junk", STORE_USE_JUNK },
	{ "Spam", STORE_USE_JUNK },
	{ "Sent", STORE_USE_SENT },
	{ "Sent Items", STORE_USE_SENT },
	{ "Sent Messages", STORE_USE_SENT },
	{ "Trash", STORE_USE_TRASH },
	{ "Deleted Items", STORE_USE_TRASH },
	{ "Deleted Messages", STORE_USE_TRASH },
};

/* ---- attribute names ---- */

unsigned int
store_special_use_parse(const char *attr)
{
	unsigned int i;

	if (attr[0] != '\\')
		return 0;
	for (i = 0; i < N_ELEMENTS(uses); i++) {
		if (strcasecmp(attr + 1, uses[i].name) == 0)
			return uses[i].bit;
	}
	return 0;
}

int
store_special_use_parse_list(const char *text, unsigned int *uses_r)
{
	char word[32];
	const char *p = text, *end;
	unsigned int bit;
	size_t len;

	*uses_r = 0;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		len = end == NULL ? strlen(p) : (size_t)(end - p);
		if (len >= sizeof(word))
			return -1;
		memcpy(word, p, len);
		word[len] = '\0';
		if ((bit = store_special_use_parse(word)) == 0)
			return -1;
		*uses_r |= bit;
		p += len;
	}
	return 0;
}

void
store_special_use_append(buf_t *out, unsigned int bits)
{
	const char *sep = "";
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(uses); i++) {
		if ((bits & uses[i].bit) == 0)
			continue;
		buf_printf(out, "%s\\%s", sep, uses[i].name);
		sep = " ";
	}
}

static unsigned int
default_use(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(default_uses); i++) {
		if (strcmp(name, default_uses[i].name) == 0)
			return default_uses[i].bit;
	}
	return 0;
}

/* The attributes an account.info entry (may be NULL) gives name. */
static unsigned int
entry_uses(const struct dict_value *entry, const char *name)
{
	const struct dict_value *arr = NULL;
	unsigned int i, j, bits = 0;

	if (entry != NULL && entry->type == DICT_TYPE_DICT)
		arr = dict_get(entry, META_SPECIAL_USE);
	if (arr == NULL || arr->type != DICT_TYPE_ARRAY)
		return default_use(name);
	for (i = 0; i < arr->count; i++) {
		if (arr->items[i]->type != DICT_TYPE_STRING)
			continue;
		for (j = 0; j < N_ELEMENTS(uses); j++) {
			if (strcasecmp((const char *)arr->items[i]->data,
				       uses[j].name) == 0)
				bits |= uses[j].bit;
		}
	}
	return bits;
}

static struct dict_value *
uses_to_dict(unsigned int bits)
{
	struct dict_value *arr = dict_new_array();
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(uses); i++) {
		if ((bits & uses[i].bit) != 0)
			dict_array_add(arr, dict_new_string(uses[i].name));
	}
	return arr;
}

/* ---- account.info access ---- */

static const struct dict_value *
info_entry(const struct dict_value *info, const char *norm)
{
	const struct dict_value *boxes = dict_get(info, INFO_MAILBOXES);

	if (boxes == NULL || boxes->type != DICT_TYPE_DICT)
		return NULL;
	return dict_get(boxes, norm);
}

/* Validates and normalises name and checks that the mailbox exists. */
static int
mailbox_prepare(struct account *account, const char *name, char **norm_r)
{
	enum mailbox_format format;

	if (store_check_mailbox_name(name) == -1)
		return -1;
	*norm_r = store_mailbox_name_normalize(name);
	if (account_mailbox_locate(account, *norm_r, &format, NULL) == -1) {
		i_free(*norm_r);
		return -1;
	}
	return 0;
}

/* Under the exclusive lock: makes sure norm has a well-formed entry
   (one with UIDValidity) before keys are added to it, so that the
   entry never looks malformed to account_mailbox_meta_get. */
static int
ensure_entry(struct account *account, const char *norm)
{
	const struct dict_value *entry;
	struct dict_value *info;
	struct mailbox_meta meta;
	uint64_t n;
	int ret = 0;

	if (account_info_read(account, &info) == -1)
		return -1;
	entry = info_entry(info, norm);
	if (entry == NULL || entry->type != DICT_TYPE_DICT ||
	    dict_get_uint(entry, "UIDValidity", &n) == -1) {
		ret = account_mailbox_meta_get(account, norm, &meta);
		if (ret == 0) {
			ret = account_mailbox_meta_set(account, norm, &meta);
			mailbox_meta_free(&meta);
		}
	}
	dict_value_free(&info);
	return ret;
}

/* ---- special use ---- */

int
store_mailbox_get_special_use(struct account *account, const char *name,
			      unsigned int *uses_r)
{
	struct dict_value *info;
	char *norm;

	*uses_r = 0;
	if (mailbox_prepare(account, name, &norm) == -1)
		return -1;
	if (account_info_read(account, &info) == -1) {
		free(norm);
		return -1;
	}
	*uses_r = entry_uses(info_entry(info, norm), norm);
	dict_value_free(&info);
	free(norm);
	return 0;
}

struct uses_set_ctx {
	const char *norm;
	unsigned int uses;
};

static int
uses_set_cb(struct dict_value *info, void *context)
{
	struct uses_set_ctx *ctx = context;
	struct dict_value *entry;

	entry = (struct dict_value *)info_entry(info, ctx->norm);
	if (entry == NULL || entry->type != DICT_TYPE_DICT)
		return store_set_error(STORE_ERROR_TEMP,
				       "mailbox entry vanished");
	dict_set(entry, META_SPECIAL_USE, uses_to_dict(ctx->uses));
	return 0;
}

static int
set_special_use_locked(struct account *account, const char *norm,
		       unsigned int bits)
{
	struct uses_set_ctx ctx = { norm, bits };

	if (ensure_entry(account, norm) == -1)
		return -1;
	return account_info_update(account, uses_set_cb, &ctx);
}

int
store_mailbox_set_special_use(struct account *account, const char *name,
			      unsigned int bits)
{
	char *norm;
	int ret;

	if ((bits & ~STORE_USE_MASK) != 0)
		return store_set_error(STORE_ERROR_INVALID,
				       "unknown special-use attribute");
	if (account_lock(account, true) == -1)
		return -1;
	ret = mailbox_prepare(account, name, &norm);
	if (ret == 0) {
		ret = set_special_use_locked(account, norm, bits);
		free(norm);
	}
	account_unlock(account);
	return ret;
}

int
store_mailbox_special_uses(struct account *account,
			   const struct mailbox_info *infos,
			   unsigned int count, unsigned int *uses_r)
{
	struct dict_value *info;
	unsigned int i;

	memset(uses_r, 0, sizeof(*uses_r) * count);
	if (account_info_read(account, &info) == -1)
		return -1;
	for (i = 0; i < count; i++) {
		if (infos[i].selectable)
			uses_r[i] = entry_uses(info_entry(info, infos[i].name),
					       infos[i].name);
	}
	dict_value_free(&info);
	return 0;
}

int
store_mailbox_create_special(struct account *account, const char *name,
			     enum mailbox_format format, const char *class,
			     unsigned int bits)
{
	char *norm;
	int ret;

	if ((bits & ~STORE_USE_MASK) != 0)
		return store_set_error(STORE_ERROR_INVALID,
				       "unknown special-use attribute");
	if (store_check_mailbox_name(name) == -1 ||
	    account_lock(account, true) == -1)
		return -1;
	norm = store_mailbox_name_normalize(name);
	ret = store_mailbox_create(account, norm, format, class);
	if (ret == 0 && set_special_use_locked(account, norm, bits) == -1) {
		/* Take the mailbox back: a failed CREATE changes nothing. */
		enum store_error error;
		const char *text;
		char *saved;

		error = store_error(&text);
		saved = i_strdup(text);
		if (store_mailbox_delete(account, norm) == -1)
			log_warnx("%s: could not remove mailbox %s after a "
				  "failed create", account->path, norm);
		store_set_error(error, "%s", saved);
		free(saved);
		ret = -1;
	}
	account_unlock(account);
	free(norm);
	return ret;
}

/* ---- entry names ---- */

int
store_metadata_check_entry(const char *entry, bool root)
{
	const unsigned char *p;
	size_t len = strlen(entry);

	if (len > STORE_METADATA_ENTRY_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"entry name longer than %d bytes",
			STORE_METADATA_ENTRY_MAX);
	if (strncasecmp(entry, "/private", 8) == 0)
		p = (const unsigned char *)entry + 8;
	else if (strncasecmp(entry, "/shared", 7) == 0)
		p = (const unsigned char *)entry + 7;
	else
		return store_set_error(STORE_ERROR_INVALID,
			"entry names start with /private or /shared");
	if (*p == '\0' && root)
		return 0;
	if (*p != '/')
		return store_set_error(STORE_ERROR_INVALID,
			"entry name needs a component after /private or "
			"/shared");
	for (; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '*' || *p == '%')
			return store_set_error(STORE_ERROR_INVALID,
				"entry names are printable ASCII without "
				"'*' and '%%'");
		if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
			return store_set_error(STORE_ERROR_INVALID,
				"empty component in entry name");
	}
	return 0;
}

/* ---- values ---- */

/* Text that a dictionary string holds readably; the rest goes into a
   data block. */
static bool
value_is_text(const unsigned char *value, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((value[i] < 0x20 && value[i] != '\t' && value[i] != '\r' &&
		     value[i] != '\n') || value[i] >= 0x7f)
			return false;
	}
	return true;
}

static void
entries_add(struct store_metadata_entry **entries, unsigned int *count,
	    const char *name, const void *value, size_t len)
{
	struct store_metadata_entry *e;

	*entries = i_realloc(*entries, sizeof(**entries) * (*count + 1));
	e = &(*entries)[(*count)++];
	e->name = i_strdup(name);
	e->value = i_malloc(len + 1);
	memcpy(e->value, value, len);
	e->len = len;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct store_metadata_entry *ea = a, *eb = b;

	return strcmp(ea->name, eb->name);
}

/* The stored entries of a Metadata (or ServerMetadata) dictionary. */
static void
entries_from_dict(const struct dict_value *md,
		  struct store_metadata_entry **entries, unsigned int *count)
{
	const struct dict_value *v;
	unsigned int i;

	if (md == NULL || md->type != DICT_TYPE_DICT)
		return;
	for (i = 0; i < md->count; i++) {
		v = md->items[i];
		if ((v->type != DICT_TYPE_STRING && v->type != DICT_TYPE_DATA) ||
		    store_metadata_check_entry(md->keys[i], false) == -1) {
			store_clear_error();
			continue;
		}
		entries_add(entries, count, md->keys[i], v->data, v->len);
	}
}

int
store_metadata_get(struct account *account, const char *mailbox,
		   struct store_metadata_entry **entries_r,
		   unsigned int *count_r)
{
	const struct dict_value *entry = NULL;
	struct dict_value *info;
	char *norm = NULL;
	const char *class;
	buf_t text = BUF_INIT;

	*entries_r = NULL;
	*count_r = 0;
	if (mailbox != NULL && mailbox_prepare(account, mailbox, &norm) == -1)
		return -1;
	if (account_info_read(account, &info) == -1) {
		free(norm);
		return -1;
	}
	if (norm == NULL) {
		entries_from_dict(dict_get(info, INFO_SERVER_METADATA),
				  entries_r, count_r);
	} else {
		entry = info_entry(info, norm);
		if (entry != NULL && entry->type == DICT_TYPE_DICT)
			entries_from_dict(dict_get(entry, META_METADATA),
					  entries_r, count_r);
		else
			entry = NULL;
		store_special_use_append(&text, entry_uses(entry, norm));
		if (text.len > 0)
			entries_add(entries_r, count_r,
				    STORE_METADATA_SPECIALUSE, text.data,
				    text.len);
		class = entry == NULL ? NULL : dict_get_str(entry, META_CLASS);
		if (class != NULL && class[0] != '\0')
			entries_add(entries_r, count_r, STORE_METADATA_CLASS,
				    class, strlen(class));
	}
	if (*count_r > 1)
		qsort(*entries_r, *count_r, sizeof(**entries_r), entry_cmp);
	buf_deinit(&text);
	dict_value_free(&info);
	free(norm);
	return 0;
}

void
store_metadata_entries_free(struct store_metadata_entry **entries,
			    unsigned int count)
{
	unsigned int i;

	if (*entries == NULL)
		return;
	for (i = 0; i < count; i++) {
		free((*entries)[i].name);
		free((*entries)[i].value);
	}
	i_free(*entries);
}

/* ---- SETMETADATA ---- */

struct md_set_ctx {
	const char *norm;       /* NULL: server */
	const struct store_metadata_entry *entries;
	unsigned int count;
};

static int
check_class_value(const unsigned char *value, size_t len)
{
	size_t i;

	if (len > CLASS_MAX)
		return store_set_error(STORE_ERROR_INVALID,
			"mailbox class longer than %d bytes", CLASS_MAX);
	for (i = 0; i < len; i++) {
		if (value[i] <= 0x20 || value[i] >= 0x7f)
			return store_set_error(STORE_ERROR_INVALID,
				"mailbox class must be printable ASCII "
				"without spaces (like IPF.Appointment)");
	}
	return 0;
}

/* The computed entries: special use and class go to their own keys. */
static int
set_computed(struct dict_value *entry, const struct store_metadata_entry *e)
{
	char *text;
	unsigned int bits = 0;
	int ret;

	if (strcmp(e->name, STORE_METADATA_CLASS) == 0) {
		if (e->value == NULL || e->len == 0) {
			dict_set(entry, META_CLASS, NULL);
			return 0;
		}
		if (check_class_value(e->value, e->len) == -1)
			return -1;
		text = i_strndup((const char *)e->value, e->len);
		dict_set_str(entry, META_CLASS, text);
		free(text);
		return 0;
	}
	text = e->value == NULL ? i_strdup("") :
		i_strndup((const char *)e->value, e->len);
	ret = strlen(text) != e->len && e->value != NULL ? -1 :
		store_special_use_parse_list(text, &bits);
	free(text);
	if (ret == -1)
		return store_set_error(STORE_ERROR_INVALID,
				       "unknown special-use attribute");
	dict_set(entry, META_SPECIAL_USE, uses_to_dict(bits));
	return 0;
}

static bool
is_computed(const char *name)
{
	return strcmp(name, STORE_METADATA_CLASS) == 0 ||
		strcmp(name, STORE_METADATA_SPECIALUSE) == 0;
}

/* Bytes of every stored value of the account. */
static size_t
account_metadata_bytes(const struct dict_value *info)
{
	const struct dict_value *boxes = dict_get(info, INFO_MAILBOXES), *md;
	size_t total = 0;
	unsigned int i, j;

	md = dict_get(info, INFO_SERVER_METADATA);
	for (j = 0; md != NULL && md->type == DICT_TYPE_DICT &&
	     j < md->count; j++)
		total += md->items[j]->len + strlen(md->keys[j]);
	for (i = 0; boxes != NULL && boxes->type == DICT_TYPE_DICT &&
	     i < boxes->count; i++) {
		if (boxes->items[i]->type != DICT_TYPE_DICT)
			continue;
		md = dict_get(boxes->items[i], META_METADATA);
		for (j = 0; md != NULL && md->type == DICT_TYPE_DICT &&
		     j < md->count; j++)
			total += md->items[j]->len + strlen(md->keys[j]);
	}
	return total;
}

static struct dict_value *
value_to_dict(const struct store_metadata_entry *e)
{
	if (value_is_text(e->value, e->len))
		return dict_new_bytes(DICT_TYPE_STRING, e->value, e->len);
	return dict_new_bytes(DICT_TYPE_DATA, e->value, e->len);
}

static int
md_set_cb(struct dict_value *info, void *context)
{
	struct md_set_ctx *ctx = context;
	struct dict_value *entry, *md;
	const struct store_metadata_entry *e;
	unsigned int i;

	if (ctx->norm == NULL) {
		entry = info;
	} else {
		entry = (struct dict_value *)info_entry(info, ctx->norm);
		if (entry == NULL || entry->type != DICT_TYPE_DICT)
			return store_set_error(STORE_ERROR_TEMP,
					       "mailbox entry vanished");
	}
	md = dict_get(entry, ctx->norm == NULL ? INFO_SERVER_METADATA :
		      META_METADATA);
	if (md == NULL || md->type != DICT_TYPE_DICT) {
		dict_set(entry, ctx->norm == NULL ? INFO_SERVER_METADATA :
			 META_METADATA, dict_new_dict());
		md = dict_get(entry, ctx->norm == NULL ?
			      INFO_SERVER_METADATA : META_METADATA);
	}
	for (i = 0; i < ctx->count; i++) {
		e = &ctx->entries[i];
		if (is_computed(e->name)) {
			if (set_computed(entry, e) == -1)
				return -1;
		} else {
			dict_set(md, e->name, e->value == NULL ? NULL :
				 value_to_dict(e));
		}
	}
	if (md->count > STORE_METADATA_ENTRIES_MAX)
		return store_set_error(STORE_ERROR_OVERQUOTA,
			"more than %d entries", STORE_METADATA_ENTRIES_MAX);
	if (account_metadata_bytes(info) > STORE_METADATA_ACCOUNT_MAX)
		return store_set_error(STORE_ERROR_OVERQUOTA,
			"the account's annotations would exceed %u bytes",
			STORE_METADATA_ACCOUNT_MAX);
	if (md->count == 0)
		dict_set(entry, ctx->norm == NULL ? INFO_SERVER_METADATA :
			 META_METADATA, NULL);
	return 0;
}

/* Checks names and sizes before anything is read or locked. */
static int
check_entries(const char *mailbox, const struct store_metadata_entry *entries,
	      unsigned int count)
{
	unsigned int i;
	const char *p;

	for (i = 0; i < count; i++) {
		if (store_metadata_check_entry(entries[i].name, false) == -1)
			return -1;
		for (p = entries[i].name; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				return store_set_error(STORE_ERROR_INVALID,
					"entry names must be lower case here");
		}
		if (entries[i].value != NULL &&
		    entries[i].len > STORE_METADATA_VALUE_MAX)
			return store_set_error(STORE_ERROR_OVERQUOTA,
				"value longer than %u bytes",
				STORE_METADATA_VALUE_MAX);
		if (mailbox == NULL && is_computed(entries[i].name))
			return store_set_error(STORE_ERROR_NOT_POSSIBLE,
				"%s is an entry of mailboxes only",
				entries[i].name);
	}
	return 0;
}

int
store_metadata_set(struct account *account, const char *mailbox,
		   const struct store_metadata_entry *entries,
		   unsigned int count)
{
	struct md_set_ctx ctx;
	char *norm = NULL;
	int ret;

	if (check_entries(mailbox, entries, count) == -1 ||
	    account_lock(account, true) == -1)
		return -1;
	ret = mailbox == NULL ? 0 : mailbox_prepare(account, mailbox, &norm);
	if (ret == 0 && norm != NULL)
		ret = ensure_entry(account, norm);
	if (ret == 0) {
		ctx.norm = norm;
		ctx.entries = entries;
		ctx.count = count;
		ret = account_info_update(account, md_set_cb, &ctx);
	}
	account_unlock(account);
	free(norm);
	return ret;
}
