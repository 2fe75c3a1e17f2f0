/* SPDX-License-Identifier: MIT */
/*
 * store-quota-private.h: the quota check the store's save paths call
 * (mailbox-save.c); implemented in store-quota.c.
 */
#ifndef STORE_QUOTA_PRIVATE_H
#define STORE_QUOTA_PRIVATE_H

#include "store-quota.h"

struct mailbox;

/*
 * Called with box's account locked exclusively and box->hdr fresh,
 * before count messages of bytes in all are added to box: 0 when they
 * fit the account's limits, else -1 with STORE_ERROR_OVERQUOTA (or an
 * I/O error). Costs nothing beyond reading the settings when the
 * account has no limit.
 */
int quota_check_add(struct mailbox *box, uint64_t bytes, uint64_t count);

#endif
