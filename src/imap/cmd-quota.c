/* SPDX-License-Identifier: MIT */
/*
 * cmd-quota.c: the QUOTA extension (RFC 9208): GETQUOTA, GETQUOTAROOT,
 * SETQUOTA, the untagged QUOTA response sent with NO [OVERQUOTA], and
 * STATUS DELETED-STORAGE. Part of src/imap, over src/store/store-quota.h.
 *
 * Each account is one quota root, named "" (as in RFC 9208's
 * examples), holding every mailbox of the account. Its resources are
 * STORAGE (RFC 9208 §5.1: units of 1024 octets; usage rounded up and
 * limits down, as Dovecot does) and MESSAGE (§5.2); a resource without a limit is not
 * listed, and an account with no limit at all has no quota root.
 * Limits are the administrator's (`commune account quota`), so SETQUOTA
 * is refused with NO [NOPERM] and QUOTASET is not announced.
 */
#include "imap-private.h"
#include "store.h"
#include "store-quota.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one quota root of an account. */
#define QUOTA_ROOT "\"\""
/* SETQUOTA: the most resources one command may name. */
#define QUOTA_SET_RESOURCES_MAX 16

struct quota_cmd {
	char *name;             /* GETQUOTAROOT's mailbox, store form */
};

static void
quota_cmd_free(struct imap_conn *conn)
{
	struct quota_cmd *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	free(ctx->name);
	free(ctx);
	conn->job_ctx = NULL;
}

static bool
quota_has_limit(const struct store_quota *quota)
{
	return quota->storage_limit != STORE_QUOTA_UNLIMITED ||
		quota->message_limit != STORE_QUOTA_UNLIMITED;
}

/* Bytes in KiB, a part counting as a whole one. */
static uint64_t
kib_up(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)\r\n" */
static void
quota_response(buf_t *out, const struct store_quota *quota)
{
	const char *sep = "";

	buf_append_str(out, "* QUOTA " QUOTA_ROOT " (");
	if (quota->storage_limit != STORE_QUOTA_UNLIMITED) {
		buf_printf(out, "STORAGE %llu %llu",
			   (unsigned long long)kib_up(quota->storage_used),
			   (unsigned long long)(quota->storage_limit / 1024));
		sep = " ";
	}
	if (quota->message_limit != STORE_QUOTA_UNLIMITED) {
		buf_printf(out, "%sMESSAGE %llu %llu", sep,
			   (unsigned long long)quota->messages_used,
			   (unsigned long long)quota->message_limit);
	}
	buf_append_str(out, ")\r\n");
}

void
imap_quota_append_untagged(struct imap_conn *conn, buf_t *out)
{
	struct store_quota quota;

	/* The refusal stands even if the usage cannot be read now. */
	if (store_quota_get(conn->account, &quota) == 0 &&
	    quota_has_limit(&quota))
		quota_response(out, &quota);
}

int
imap_quota_deleted_storage(struct account *account, const char *name,
			   uint64_t *kib_r)
{
	uint64_t bytes;

	if (store_quota_deleted_bytes(account, name, &bytes) < 0)
		return -1;
	*kib_r = kib_up(bytes);
	return 0;
}

/* ---- GETQUOTA ---- */

static void
getquota_run(struct imap_conn *conn)
{
	struct store_quota quota;

	if (store_quota_get(conn->account, &quota) < 0) {
		imap_job_store_error(conn, "GETQUOTA");
		return;
	}
	if (!quota_has_limit(&quota)) {
		imap_job_tagged(conn, "NO [NONEXISTENT] No such quota root.");
		return;
	}
	quota_response(&conn->job_out, &quota);
	imap_job_tagged(conn, "OK GETQUOTA completed.");
}

void
cmd_getquota(struct imap_conn *conn)
{
	const char *root;

	if (conn->cmd.arg_count != 1 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &root)) {
		imap_conn_bad(conn, "GETQUOTA needs a quota root.");
		return;
	}
	if (root[0] != '\0') {
		imap_conn_tagged(conn, "NO [NONEXISTENT] No such quota root.");
		return;
	}
	imap_conn_job(conn, getquota_run, NULL, IMAP_SYNC_FULL);
}

/* ---- GETQUOTAROOT ---- */

static void
getquotaroot_run(struct imap_conn *conn)
{
	struct quota_cmd *ctx = conn->job_ctx;
	struct store_quota quota;
	buf_t *out = &conn->job_out;

	if (!store_mailbox_exists(conn->account, ctx->name)) {
		imap_job_tagged(conn, "NO [NONEXISTENT] No such mailbox.");
		return;
	}
	if (store_quota_get(conn->account, &quota) < 0) {
		imap_job_store_error(conn, "GETQUOTAROOT");
		return;
	}
	buf_append_str(out, "* QUOTAROOT ");
	imap_mailbox_name_out(conn, out, ctx->name);
	if (quota_has_limit(&quota))
		buf_append_str(out, " " QUOTA_ROOT);
	buf_append_str(out, "\r\n");
	if (quota_has_limit(&quota))
		quota_response(out, &quota);
	imap_job_tagged(conn, "OK GETQUOTAROOT completed.");
}

void
cmd_getquotaroot(struct imap_conn *conn)
{
	struct quota_cmd *ctx;
	const char *name;
	char *store_name;

	if (conn->cmd.arg_count != 1 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &name)) {
		imap_conn_bad(conn, "GETQUOTAROOT needs a mailbox name.");
		return;
	}
	if ((store_name = imap_mailbox_name_in(conn, name)) == NULL)
		return;
	ctx = i_malloc(sizeof(*ctx));
	ctx->name = store_name;
	conn->job_ctx = ctx;
	imap_conn_job(conn, getquotaroot_run, quota_cmd_free, IMAP_SYNC_FULL);
}

/* ---- SETQUOTA ---- */

/* A limit: digits only, at most 63 bits (number64 in RFC 9208's
   formal syntax). */
static bool
limit_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 19 || strspn(s, "0123456789") != len)
		return false;
	return len < 19 || strcmp(s, "9223372036854775807") <= 0;
}

void
cmd_setquota(struct imap_conn *conn)
{
	const struct imap_arg *list;
	const char *root, *name, *limit;
	unsigned int count, i;

	if (conn->cmd.arg_count != 2 ||
	    !imap_arg_get_astring(&conn->cmd.args[0], &root) ||
	    !imap_arg_get_list(&conn->cmd.args[1], &list, &count) ||
	    count % 2 != 0 || count / 2 > QUOTA_SET_RESOURCES_MAX) {
		imap_conn_bad(conn, "SETQUOTA needs a quota root and a list "
			      "of resource names and limits.");
		return;
	}
	for (i = 0; i < count; i += 2) {
		if (!imap_arg_get_atom(&list[i], &name) ||
		    !imap_arg_get_atom(&list[i + 1], &limit) ||
		    !limit_valid(limit)) {
			imap_conn_bad(conn, "SETQUOTA: invalid resource limit.");
			return;
		}
	}
	/* RFC 9208: a server without QUOTASET may refuse SETQUOTA. */
	imap_conn_tagged(conn, "NO [NOPERM] Quota limits are set by the "
			 "administrator.");
}
