/* SPDX-License-Identifier: MIT */
/*
 * store-quota.c: account quotas (store-quota.h): the limits from the
 * settings files, usage from the mailboxes' index headers, and the
 * check the save paths of mailbox-save.c run under the account lock.
 * Part of the store (see store-private.h).
 *
 * Usage keeps no counter of its own: a counter next to the mailboxes
 * would need its own crash recovery, while the index header of every
 * mailbox already holds its message count and bytes and is validated
 * against the mailbox file (identity: inode, size, mtime) on every
 * read. A header that is not clean or not current is brought up to date
 * through the normal refresh (mailbox_lock), which also repairs it.
 */
#include "store-quota-private.h"
#include "mailbox-private.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* limits                                                               */
/* ------------------------------------------------------------------ */

int
store_quota_parse(const char *value, bool bytes, uint64_t *limit_r)
{
	uint64_t n = 0, mult = 1;
	const char *p = value;

	if (value == NULL || strlen(value) > STORE_QUOTA_VALUE_MAX)
		goto invalid;
	if (strcasecmp(value, "unlimited") == 0) {
		*limit_r = STORE_QUOTA_UNLIMITED;
		return 0;
	}
	if (*p < '0' || *p > '9')
		goto invalid;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > STORE_QUOTA_LIMIT_MAX)
			goto invalid;
	}
	if (bytes && *p != '\0' && p[1] == '\0') {
		switch (*p) {
		case 'K': case 'k': mult = 1ULL << 10; p++; break;
		case 'M': case 'm': mult = 1ULL << 20; p++; break;
		case 'G': case 'g': mult = 1ULL << 30; p++; break;
		case 'T': case 't': mult = 1ULL << 40; p++; break;
		default: break;
		}
	}
	if (*p != '\0' || n > STORE_QUOTA_LIMIT_MAX / mult)
		goto invalid;
	*limit_r = n * mult;
	return 0;
invalid:
	return store_set_error(STORE_ERROR_INVALID,
		"invalid quota value (a number%s, or \"unlimited\")",
		bytes ? " with an optional K, M, G or T" : "");
}

static const char *
resource_key(enum store_quota_resource res)
{
	return res == STORE_QUOTA_STORAGE ? STORE_QUOTA_KEY_STORAGE :
		STORE_QUOTA_KEY_MESSAGES;
}

/* Fills the limits still UINT64_MAX - 1 ("not yet found") from the
   dictionary file at path. A malformed value is logged and ignored:
   an administrator's typo must not stop delivery. */
#define LIMIT_UNSET (UINT64_MAX - 1)
static int
limits_from_file(const char *path, struct store_quota *quota)
{
	struct dict_value *dict;
	uint64_t *limits[2] = { &quota->storage_limit, &quota->message_limit };
	const char *value;
	unsigned int i;

	if (store_dict_file_read(path, &dict) < 0)
		return -1;
	for (i = 0; i < N_ELEMENTS(limits); i++) {
		if (*limits[i] != LIMIT_UNSET)
			continue;
		value = dict_get_str(dict, resource_key(i));
		if (value == NULL)
			continue;
		if (store_quota_parse(value, i == STORE_QUOTA_STORAGE,
				      limits[i]) < 0) {
			log_warnx("%s: %s: invalid value ignored", path,
				  resource_key(i));
			store_clear_error();
			*limits[i] = LIMIT_UNSET;
		}
	}
	dict_value_free(&dict);
	return 0;
}

int
store_quota_get_limits(struct account *account, struct store_quota *quota_r)
{
	char *path;
	int ret;

	memset(quota_r, 0, sizeof(*quota_r));
	quota_r->storage_limit = quota_r->message_limit = LIMIT_UNSET;
	if (limits_from_file(account->settings_path, quota_r) < 0)
		return -1;
	if (!account->main_domain) {
		path = i_strdup_printf("%s/Domains/%s/Settings/"
				       "AccountDefaults.settings",
				       account->store->base_dir,
				       account->domain);
		ret = limits_from_file(path, quota_r);
		free(path);
		if (ret < 0)
			return -1;
	}
	path = i_strdup_printf("%s/Settings/AccountDefaults.settings",
			       account->store->base_dir);
	ret = limits_from_file(path, quota_r);
	free(path);
	if (quota_r->storage_limit == LIMIT_UNSET)
		quota_r->storage_limit = STORE_QUOTA_UNLIMITED;
	if (quota_r->message_limit == LIMIT_UNSET)
		quota_r->message_limit = STORE_QUOTA_UNLIMITED;
	return ret;
}

int
store_quota_set(struct account *account, const char *storage,
		const char *messages)
{
	const char *values[2] = { storage, messages };
	struct dict_value *settings;
	uint64_t limit;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(values); i++) {
		if (values[i] != NULL && strcmp(values[i], "default") != 0 &&
		    store_quota_parse(values[i], i == STORE_QUOTA_STORAGE,
				      &limit) < 0)
			return -1;
	}
	if (account_lock(account, true) < 0)
		return -1;
	ret = account_settings_read(account, &settings);
	if (ret == 0) {
		for (i = 0; i < N_ELEMENTS(values); i++) {
			if (values[i] == NULL)
				continue;
			dict_set(settings, resource_key(i),
				 strcmp(values[i], "default") == 0 ? NULL :
				 dict_new_string(values[i]));
		}
		ret = account_settings_write(account, settings);
		dict_value_free(&settings);
	}
	account_unlock(account);
	return ret;
}

/* ------------------------------------------------------------------ */
/* usage                                                                */
/* ------------------------------------------------------------------ */

/* The counts of a clean index that describes the mailbox file as it is
   now: 1 and the counts, 0 when the index must be refreshed first. */
static int
usage_from_index(struct account *account, const struct mailbox_info *info,
		 struct index_hdr *hdr_r)
{
	struct file_ident cur;
	char *path, *index_path;
	int fd, ret = 0;

	path = account_mailbox_path(account, info->name, info->format);
	index_path = account_mailbox_index_path(account, info->name,
						info->format);
	fd = open(index_path, O_RDONLY | O_CLOEXEC);
	if (fd != -1 && index_read_hdr(fd, hdr_r) == 1 &&
	    hdr_r->dirty == INDEX_CLEAN && hdr_r->format == info->format &&
	    file_ident_get(path, &cur) == 0 &&
	    file_ident_equal(&hdr_r->ident, &cur))
		ret = 1;
	if (fd != -1)
		close(fd);
	free(path);
	free(index_path);
	return ret;
}

/* Counts of one mailbox through the refresh (repairing its index). */
static int
usage_from_refresh(struct account *account, const char *name,
		   struct index_hdr *hdr_r)
{
	struct mailbox *box;
	int ret;

	if (mailbox_alloc(account, name, &box) < 0)
		return -1;
	ret = mailbox_lock(box, false, false);
	if (ret == 0) {
		*hdr_r = box->hdr;
		mailbox_unlock(box);
	}
	mailbox_free(&box);
	return ret;
}

/* Sums the mailboxes of account; box (may be NULL) is locked and its
   header fresh, so it is taken as it is. The account lock is held. */
static int
usage_sum(struct account *account, struct mailbox *box,
	  struct store_quota *quota)
{
	struct mailbox_info *infos;
	struct index_hdr hdr;
	unsigned int i, count;
	int ret = 0;

	quota->storage_used = quota->messages_used = 0;
	if (store_mailbox_list(account, &infos, &count) < 0)
		return -1;
	for (i = 0; i < count && ret == 0; i++) {
		if (!infos[i].selectable)
			continue;
		if (box != NULL && box->hdr_valid &&
		    strcmp(infos[i].name, box->name) == 0)
			hdr = box->hdr;
		else if (usage_from_index(account, &infos[i], &hdr) == 0)
			ret = usage_from_refresh(account, infos[i].name, &hdr);
		if (ret == 0) {
			quota->storage_used += hdr.bytes;
			quota->messages_used += hdr.record_count;
		}
	}
	store_mailbox_infos_free(&infos, count);
	return ret;
}

int
store_quota_get(struct account *account, struct store_quota *quota_r)
{
	int ret;

	if (store_quota_get_limits(account, quota_r) < 0)
		return -1;
	if (account_lock(account, false) < 0)
		return -1;
	ret = usage_sum(account, NULL, quota_r);
	account_unlock(account);
	return ret;
}

/* ------------------------------------------------------------------ */
/* the check                                                            */
/* ------------------------------------------------------------------ */

/* used + add > limit, without overflow */
static bool
over_limit(uint64_t used, uint64_t add, uint64_t limit)
{
	if (limit == STORE_QUOTA_UNLIMITED)
		return false;
	return add > limit || used > limit - add;
}

/* -1 with STORE_ERROR_OVERQUOTA when bytes and count do not fit. */
static int
quota_compare(struct account *account, const struct store_quota *quota,
	      uint64_t bytes, uint64_t count)
{
	if (over_limit(quota->storage_used, bytes, quota->storage_limit)) {
		return store_set_error(STORE_ERROR_OVERQUOTA,
			"Over quota: account %s uses %llu of %llu bytes, "
			"%llu more do not fit", account->name,
			(unsigned long long)quota->storage_used,
			(unsigned long long)quota->storage_limit,
			(unsigned long long)bytes);
	}
	if (over_limit(quota->messages_used, count, quota->message_limit)) {
		return store_set_error(STORE_ERROR_OVERQUOTA,
			"Over quota: account %s holds %llu of %llu messages, "
			"%llu more do not fit", account->name,
			(unsigned long long)quota->messages_used,
			(unsigned long long)quota->message_limit,
			(unsigned long long)count);
	}
	return 0;
}

static bool
quota_unlimited(const struct store_quota *quota)
{
	return quota->storage_limit == STORE_QUOTA_UNLIMITED &&
		quota->message_limit == STORE_QUOTA_UNLIMITED;
}

int
quota_check_add(struct mailbox *box, uint64_t bytes, uint64_t count)
{
	struct account *account = box->account;
	struct store_quota quota;

	i_assert(account->lock_exclusive && box->hdr_valid);
	if (count == 0)
		return 0;
	if (store_quota_get_limits(account, &quota) < 0)
		return -1;
	if (quota_unlimited(&quota))
		return 0;
	if (usage_sum(account, box, &quota) < 0)
		return -1;
	return quota_compare(account, &quota, bytes, count);
}

int
store_quota_check(struct account *account, uint64_t bytes, uint64_t count)
{
	struct store_quota quota;
	int ret;

	if (store_quota_get_limits(account, &quota) < 0)
		return -1;
	if (quota_unlimited(&quota))
		return 0;
	if (account_lock(account, false) < 0)
		return -1;
	ret = usage_sum(account, NULL, &quota);
	account_unlock(account);
	if (ret < 0)
		return -1;
	return quota_compare(account, &quota, bytes, count);
}

/* ------------------------------------------------------------------ */
/* STATUS DELETED-STORAGE                                               */
/* ------------------------------------------------------------------ */

int
store_quota_deleted_bytes(struct account *account, const char *name,
			  uint64_t *bytes_r)
{
	struct mailbox *box;
	unsigned int i;
	int ret;

	*bytes_r = 0;
	if (mailbox_alloc(account, name, &box) < 0)
		return -1;
	/* the header counts them: most mailboxes need no record read */
	ret = mailbox_lock(box, false, false);
	if (ret == 0 && box->hdr.deleted > 0) {
		mailbox_unlock(box);
		ret = mailbox_lock(box, false, true);
	}
	if (ret < 0) {
		mailbox_free(&box);
		return -1;
	}
	for (i = 0; box->hdr.deleted > 0 && i < box->rec_count; i++) {
		if ((box->recs[i].flags & STORE_FLAG_DELETED) != 0)
			*bytes_r += box->recs[i].size;
	}
	mailbox_unlock(box);
	mailbox_free(&box);
	return 0;
}
