/* SPDX-License-Identifier: MIT */
/*
 * cmd-append.c: APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502:
 * several messages, all or none), APPENDUID (RFC 4315) and the
 * APPENDLIMIT the parser enforces on literals (RFC 7889). The messages
 * are the parser's literals, valid until the command completes. Part
 * of src/imap.
 */
#include "imap-private.h"
#include "mime-binary.h"
#include "store.h"
#include "store-acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct append_ctx {
	char *dest;
	struct store_append *msgs;
	const char ***keywords;
	/* the stored form of messages that had to change (else empty) */
	buf_t *copies;
	unsigned int count;
};

static void
append_ctx_free(struct imap_conn *conn)
{
	struct append_ctx *ctx = conn->job_ctx;
	unsigned int i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->count; i++) {
		free(ctx->keywords[i]);
		buf_deinit(&ctx->copies[i]);
	}
	free(ctx->keywords);
	free(ctx->copies);
	free(ctx->msgs);
	free(ctx->dest);
	free(ctx);
	conn->job_ctx = NULL;
}

/* RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d").
   Seconds since the epoch, or -1. REPLACE uses it too. */
int64_t
imap_date_time_parse(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char mon[4], sign;
	int day, year, hh, mm, ss, zone, n = 0;
	const char *m;

	if (sscanf(s, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year,
		   &hh, &mm, &ss, &sign, &zone, &n) != 8 ||
	    s[n] != '\0' || (sign != '+' && sign != '-'))
		return -1;
	mon[3] = '\0';
	m = strcasestr(months, mon);
	if (m == NULL || (m - months) % 3 != 0 || day < 1 || day > 31 ||
	    hh > 23 || mm > 59 || ss > 60 || year < 1970 || zone > 1400 ||
	    zone % 100 > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	zone = (zone / 100) * 3600 + (zone % 100) * 60;
	return (int64_t)timegm(&tm) - (sign == '+' ? zone : -zone);
}

int
imap_message_prepare(struct store_append *msg, buf_t *copy,
		     const char **error_r)
{
	int ret;

	/* the same for literals and literal8s: a literal cannot hold NULs
	   (the parser refuses them), but it can hold a part declared
	   binary with bare LFs, which base64 keeps exact too */
	ret = mime_binary_convert(msg->data, msg->len, copy, error_r);
	if (ret > 0) {
		msg->data = copy->data;
		msg->len = copy->len;
	}
	return ret < 0 ? -1 : 0;
}

static void
append_run(struct imap_conn *conn)
{
	struct append_ctx *ctx = conn->job_ctx;
	struct imap_acl_box dest;
	uint32_t *uids, uidvalidity;
	unsigned int i;
	const char *error;
	buf_t set = BUF_INIT;

	for (i = 0; i < ctx->count; i++) {
		if (imap_message_prepare(&ctx->msgs[i], &ctx->copies[i],
					 &error) < 0) {
			imap_job_tagged(conn, "NO [CANNOT] APPEND: %s", error);
			return;
		}
	}
	if (imap_acl_resolve(conn, ctx->dest, STORE_ACL_INSERT, "APPEND",
			     &dest) < 0)
		return;
	for (i = 0; i < ctx->count; i++)
		imap_acl_filter_flags(dest.rights, &ctx->msgs[i].flags,
				      ctx->keywords[i]);
	uids = i_malloc(ctx->count * sizeof(*uids));
	if (store_append_to(dest.account, dest.name, ctx->msgs, ctx->count,
			    uids, &uidvalidity) == 0) {
		imap_uidset_append(&set, uids, ctx->count);
		imap_job_tagged(conn, "OK [APPENDUID %u %s] APPEND completed.",
				uidvalidity, buf_cstr(&set));
	} else if (store_error(NULL) == STORE_ERROR_NOT_FOUND) {
		imap_job_tagged(conn, "NO [TRYCREATE] APPEND: no such "
				"mailbox.");
	} else {
		imap_job_store_error(conn, "APPEND");
	}
	buf_deinit(&set);
	imap_acl_box_deinit(conn, &dest);
	free(uids);
}

/* One message: [flags] [date] literal at args[*i]. 0, or -1. */
static int
parse_message(struct append_ctx *ctx, const struct imap_arg *args,
	      unsigned int count, unsigned int *i, const char **error_r)
{
	struct store_append *msg = &ctx->msgs[ctx->count];
	const char *date;
	uint32_t flags = 0;

	if (*i < count && args[*i].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(&args[*i], &flags,
				     &ctx->keywords[ctx->count],
				     error_r) < 0)
			return -1;
		(*i)++;
	}
	msg->flags = flags;
	msg->keywords = ctx->keywords[ctx->count];
	ctx->count++;
	if (*i < count && args[*i].type == IMAP_ARG_STRING) {
		(void)imap_arg_get_string(&args[*i], &date);
		if ((msg->internal_date = imap_date_time_parse(date)) < 0) {
			*error_r = "Invalid date-time.";
			return -1;
		}
		(*i)++;
	}
	if (*i >= count || (args[*i].type != IMAP_ARG_LITERAL &&
			    args[*i].type != IMAP_ARG_LITERAL8)) {
		*error_r = "APPEND needs the message as a literal.";
		return -1;
	}
	msg->data = (const unsigned char *)args[*i].str;
	msg->len = args[*i].len;
	(*i)++;
	return 0;
}

void
cmd_append(struct imap_conn *conn)
{
	const struct imap_arg *args = conn->cmd.args;
	unsigned int count = conn->cmd.arg_count, i = 1;
	struct append_ctx *ctx;
	const char *name, *error = NULL;

	if (count < 2 || !imap_arg_get_astring(&args[0], &name)) {
		imap_conn_bad(conn, "APPEND needs a mailbox and a message.");
		return;
	}
	ctx = i_malloc(sizeof(*ctx));
	/* at most one message per argument */
	ctx->msgs = i_malloc(count * sizeof(*ctx->msgs));
	ctx->keywords = i_malloc(count * sizeof(*ctx->keywords));
	ctx->copies = i_malloc(count * sizeof(*ctx->copies));
	conn->job_ctx = ctx;
	while (i < count && error == NULL)
		(void)parse_message(ctx, args, count, &i, &error);
	if (error != NULL) {
		append_ctx_free(conn);
		imap_conn_bad(conn, error);
		return;
	}
	for (i = 0; i < ctx->count; i++) {
		if (ctx->msgs[i].len == 0) {
			append_ctx_free(conn);
			imap_conn_tagged(conn, "NO Empty message refused.");
			return;
		}
	}
	if ((ctx->dest = imap_mailbox_name_in(conn, name)) == NULL) {
		append_ctx_free(conn);
		return;
	}
	imap_conn_job(conn, append_run, append_ctx_free, IMAP_SYNC_FULL);
}
