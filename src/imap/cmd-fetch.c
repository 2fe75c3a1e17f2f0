/* SPDX-License-Identifier: MIT */
/*
 * cmd-fetch.c: FETCH and UID FETCH (RFC 3501 §6.4.5, RFC 9051 §6.4.5,
 * BINARY of RFC 3516, MODSEQ of RFC 7162): FLAGS, UID, INTERNALDATE,
 * RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, BODY, BODY[section]<partial>,
 * BODY.PEEK, RFC822, RFC822.HEADER, RFC822.TEXT, BINARY[], BINARY.PEEK,
 * BINARY.SIZE, MODSEQ, EMAILID and THREADID (RFC 8474), SAVEDATE
 * (RFC 8514), and the macros ALL, FAST, FULL. UID FETCH (CHANGEDSINCE n
 * VANISHED) first reports what vanished (RFC 7162 §3.2.6). Sections,
 * ENVELOPE and BODYSTRUCTURE come from src/mime. Fetching a body
 * without PEEK sets \Seen first (RFC 3501 §6.4.5), so the responses show
 * the new flags. Part of src/imap.
 *
 * The items are parsed on the loop thread (a bad item is BAD before
 * any store work); the messages are read on a worker. The response for
 * the whole set is built in memory before it is sent.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "imap-section.h"
#include "mime-parser.h"
#include "mime-preview.h"
#include "store.h"
#include "store-acl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define F_FLAGS 0x001u
#define F_UID 0x002u
#define F_INTERNALDATE 0x004u
#define F_SIZE 0x008u
#define F_ENVELOPE 0x010u
#define F_BODYSTRUCTURE 0x020u
#define F_BODY 0x040u
#define F_MODSEQ 0x080u
#define F_EMAILID 0x100u
#define F_THREADID 0x200u
#define F_SAVEDATE 0x400u
#define F_PREVIEW 0x8000u        /* RFC 8970 */
#define F_NEEDS_MIME (F_ENVELOPE | F_BODYSTRUCTURE | F_BODY | F_PREVIEW)

/* Sections (and the RFC822* items as sections) in request order. */
struct fetch_section {
	struct imap_section *section;
	/* "RFC822", "RFC822.HEADER", "RFC822.TEXT": the name to answer
	   with; NULL: the section's own name */
	const char *alias;
};

struct fetch_ctx {
	struct imap_seqset set;
	unsigned int items;
	struct fetch_section *sections;
	unsigned int section_count;
	bool set_seen;
	/* UIDs this FETCH gave \Seen: their responses carry FLAGS */
	struct uid_array seen_now;
	/* the messages, resolved by the first part; the next to send */
	struct uid_array uids;
	unsigned int next;
	bool started;
	buf_t data;
	/* FETCH (CHANGEDSINCE n) (RFC 7162 §3.1.4.1); 0: none */
	uint64_t changedsince;
	/* UID FETCH (CHANGEDSINCE n VANISHED) (RFC 7162 §3.2.6) */
	bool vanished;
	/* a message of the set could not be read: expunged by another
	   session since the client's last sync */
	bool gone;
};

static void
fetch_ctx_free(struct imap_conn *conn)
{
	struct fetch_ctx *ctx = conn->job_ctx;
	unsigned int i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->section_count; i++)
		imap_section_free(&ctx->sections[i].section);
	free(ctx->sections);
	imap_seqset_free(&ctx->set);
	uid_array_free(&ctx->seen_now);
	uid_array_free(&ctx->uids);
	buf_deinit(&ctx->data);
	free(ctx);
	conn->job_ctx = NULL;
}

static void
add_section(struct fetch_ctx *ctx, struct imap_section *section,
	    const char *alias)
{
	ctx->sections = i_realloc(ctx->sections, (ctx->section_count + 1) *
				  sizeof(*ctx->sections));
	ctx->sections[ctx->section_count].section = section;
	ctx->sections[ctx->section_count].alias = alias;
	ctx->section_count++;
	if (!section->peek && !imap_section_is_size(section))
		ctx->set_seen = true;
}

static const struct {
	const char *name;
	unsigned int bits;       /* more than one bit: a macro */
} simple_items[] = {
	{ "FLAGS", F_FLAGS },
	{ "UID", F_UID },
	{ "INTERNALDATE", F_INTERNALDATE },
	{ "RFC822.SIZE", F_SIZE },
	{ "ENVELOPE", F_ENVELOPE },
	{ "BODYSTRUCTURE", F_BODYSTRUCTURE },
	{ "BODY", F_BODY },
	{ "MODSEQ", F_MODSEQ },
	/* RFC 8474 §5, RFC 8514 §4 */
	{ "EMAILID", F_EMAILID },
	{ "THREADID", F_THREADID },
	{ "SAVEDATE", F_SAVEDATE },
	{ "ALL", F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE },
	{ "FAST", F_FLAGS | F_INTERNALDATE | F_SIZE },
	{ "FULL", F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE | F_BODY },
};

static const struct {
	const char *name;
	const char *section;
} rfc822_items[] = {
	{ "RFC822", "BODY[]" },
	{ "RFC822.HEADER", "BODY.PEEK[HEADER]" },
	{ "RFC822.TEXT", "BODY[TEXT]" },
};

/* One item: 0, or -1 with *error_r. */
static int
parse_item(struct fetch_ctx *ctx, const char *item, bool macros_ok,
	   const char **error_r)
{
	struct imap_section *section;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(simple_items); i++) {
		if (strcasecmp(item, simple_items[i].name) != 0)
			continue;
		if ((simple_items[i].bits & (simple_items[i].bits - 1)) != 0 &&
		    !macros_ok) {
			*error_r = "Macros cannot be in a list.";
			return -1;
		}
		ctx->items |= simple_items[i].bits;
		return 0;
	}
	for (i = 0; i < N_ELEMENTS(rfc822_items); i++) {
		if (strcasecmp(item, rfc822_items[i].name) != 0)
			continue;
		if (imap_section_parse(rfc822_items[i].section, &section,
				       error_r) < 0)
			i_panic("bad built-in section");
		add_section(ctx, section, rfc822_items[i].name);
		return 0;
	}
	if (strcasecmp(item, "PREVIEW") == 0) {
		ctx->items |= F_PREVIEW;
		return 0;
	}
	if (strchr(item, '[') == NULL) {
		*error_r = "Unknown FETCH item.";
		return -1;
	}
	if (imap_section_parse(item, &section, error_r) < 0)
		return -1;
	add_section(ctx, section, NULL);
	return 0;
}

/* RFC 8970 §3: PREVIEW's modifiers "(LAZY)" after it in the list. A
   preview is made at once either way, which LAZY allows. */
static bool
is_preview_modifiers(const struct imap_arg *prev, const struct imap_arg *arg)
{
	const struct imap_arg *list;
	unsigned int count, i;
	const char *name;

	if (!imap_arg_get_atom(prev, &name) ||
	    strcasecmp(name, "PREVIEW") != 0 ||
	    !imap_arg_get_list(arg, &list, &count) || count == 0)
		return false;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name) ||
		    strcasecmp(name, "LAZY") != 0)
			return false;
	}
	return true;
}

static int
parse_items(struct imap_conn *conn, struct fetch_ctx *ctx,
	    const struct imap_arg *arg, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count, i;
	const char *item;

	if (imap_arg_get_atom(arg, &item))
		return parse_item(ctx, item, true, error_r);
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "Invalid FETCH items.";
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (i > 0 && is_preview_modifiers(&list[i - 1], &list[i]))
			continue;
		if (!imap_arg_get_atom(&list[i], &item)) {
			*error_r = "Invalid FETCH item.";
			return -1;
		}
		if (parse_item(ctx, item, false, error_r) < 0)
			return -1;
	}
	return 0;
}

/* ---- the worker ---- */

static void
append_date(buf_t *out, const char *name, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char date[64];

	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%d-%b-%Y %H:%M:%S +0000", &tm);
	buf_printf(out, "%s \"%s\"", name, date);
}

/* EMAILID, THREADID (RFC 8474 §5.1-2: NIL, as messages are not
   threaded) and SAVEDATE (RFC 8514 §4: when it entered this mailbox;
   NIL when that is not known). */
static void
append_objectids(struct imap_conn *conn, buf_t *out, unsigned int items,
		 const struct store_msg *msg, const char **sep)
{
	char id[STORE_OBJECTID_MAX + 1];

	if ((items & F_EMAILID) != 0) {
		store_email_id(store_mailbox_account(conn->box),
			       conn->uidvalidity, msg->uid, id);
		buf_printf(out, "%sEMAILID (%s)", *sep, id);
		*sep = " ";
	}
	if ((items & F_THREADID) != 0) {
		buf_printf(out, "%sTHREADID NIL", *sep);
		*sep = " ";
	}
	if ((items & F_SAVEDATE) != 0) {
		buf_append_str(out, *sep);
		if (msg->save_date > 0)
			append_date(out, "SAVEDATE", msg->save_date);
		else
			buf_append_str(out, "SAVEDATE NIL");
		*sep = " ";
	}
}

/* One section of one message: 0, or -1 with a NO set. */
static int
append_section(struct imap_conn *conn, buf_t *out,
	       const struct fetch_section *fs, struct mime_message *mime,
	       const buf_t *data)
{
	struct imap_section_result res;
	const char *error;
	size_t start;

	if (imap_section_fetch(fs->section, mime, data->data, data->len,
			       &res, &error) < 0) {
		imap_job_tagged(conn, "NO [%s] Cannot decode the part.",
				error);
		return -1;
	}
	if (fs->alias != NULL)
		buf_append_str(out, fs->alias);
	else
		imap_section_write_name(out, fs->section);
	if (imap_section_is_size(fs->section)) {
		buf_printf(out, " %llu", (unsigned long long)res.size);
		imap_section_result_free(&res);
		return 0;
	}
	start = out->len;
	buf_printf(out, " {%llu}\r\n", (unsigned long long)res.size);
	imap_section_result_copy(&res, data->data, out);
	if (fs->section->fetch == IMAP_SECTION_FETCH_BINARY &&
	    memchr(out->data + out->len - res.size, '\0', res.size) != NULL) {
		/* RFC 3516 §4.2: NULs need a literal8 */
		buf_t tmp = BUF_INIT;

		buf_append(&tmp, out->data + start, out->len - start);
		buf_truncate(out, start);
		buf_append_str(out, " ~");
		buf_append(out, tmp.data + 1, tmp.len - 1);
		buf_deinit(&tmp);
	}
	imap_section_result_free(&res);
	return 0;
}

/* The FETCH response of one message: 1, 0 when it is gone, -1 after
   setting the tagged NO. */
static int
fetch_one(struct imap_conn *conn, struct fetch_ctx *ctx, uint32_t uid,
	  buf_t *data)
{
	uint32_t seq = store_mailbox_seq(conn->box, uid);
	const struct store_msg *msg;
	struct mime_message *mime = NULL;
	buf_t *out = &conn->job_out;
	const char *sep = "";
	unsigned int i, items = ctx->items;
	enum imap_quote_flags qflags =
		(conn->enabled & IMAP_ENABLED_UTF8) != 0 ?
		IMAP_QUOTE_FLAG_UTF8 : 0;
	int ret = 1;

	if (seq == 0)
		return 0;
	msg = &store_mailbox_msgs(conn->box)[seq - 1];
	if (ctx->changedsince != 0 && msg->modseq <= ctx->changedsince)
		return 1;
	if ((conn->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		items |= F_MODSEQ;
	if ((items & F_NEEDS_MIME) == F_ENVELOPE && ctx->section_count == 0) {
		/* ENVELOPE alone: its fields come from the header cache, so
		   the message itself is not read */
		buf_reset(data);
		if (store_mailbox_msg_cached_header(conn->box, msg, data) < 0)
			return 0;
		buf_append(data, "\r\n", 2);
		mime = mime_message_parse(data->data, data->len);
	} else if ((items & F_NEEDS_MIME) != 0 || ctx->section_count > 0) {
		buf_reset(data);
		if (store_mailbox_msg_read(conn->box, uid, data) < 0)
			return 0;
		mime = mime_message_parse(data->data, data->len);
	}
	buf_printf(out, "* %u FETCH (", seq);
#define SEP() do { buf_append_str(out, sep); sep = " "; } while (0)
	if ((items & F_UID) != 0 || conn->uid) {
		SEP();
		buf_printf(out, "UID %u", uid);
	}
	if (ctx->seen_now.count > 0 &&
	    bsearch(&uid, ctx->seen_now.uids, ctx->seen_now.count,
		    sizeof(uid), imap_uid_cmp) != NULL)
		items |= F_FLAGS;
	if ((items & F_FLAGS) != 0) {
		SEP();
		buf_append_str(out, "FLAGS ");
		imap_sync_append_flags(conn, out, msg->flags);
	}
	if ((items & F_INTERNALDATE) != 0) {
		SEP();
		append_date(out, "INTERNALDATE", msg->internal_date);
	}
	if ((items & F_SIZE) != 0) {
		SEP();
		buf_printf(out, "RFC822.SIZE %llu",
			   (unsigned long long)msg->size);
	}
	if ((items & F_MODSEQ) != 0) {
		SEP();
		buf_printf(out, "MODSEQ (%llu)",
			   (unsigned long long)msg->modseq);
	}
	append_objectids(conn, out, items, msg, &sep);
	if ((items & F_ENVELOPE) != 0) {
		SEP();
		buf_append_str(out, "ENVELOPE ");
		imap_envelope_write(out, mime->root->envelope, qflags);
	}
	if ((items & F_BODYSTRUCTURE) != 0) {
		SEP();
		buf_append_str(out, "BODYSTRUCTURE ");
		imap_bodystructure_write(out, mime->root, true, qflags);
	}
	if ((items & F_BODY) != 0) {
		SEP();
		buf_append_str(out, "BODY ");
		imap_bodystructure_write(out, mime->root, false, qflags);
	}
	if ((items & F_PREVIEW) != 0) {
		buf_t preview = BUF_INIT;

		SEP();
		buf_append_str(out, "PREVIEW ");
		if (mime != NULL)
			mime_preview_append(mime, data->data, &preview);
		imap_append_nstring(out, buf_cstr(&preview), qflags);
		buf_deinit(&preview);
	}
	for (i = 0; i < ctx->section_count && ret > 0; i++) {
		SEP();
		if (append_section(conn, out, &ctx->sections[i], mime,
				   data) < 0)
			ret = -1;
	}
#undef SEP
	buf_append_str(out, ")\r\n");
	mime_message_free(&mime);
	return ret;
}

/* \Seen for the messages of a non-PEEK body fetch, before the
   responses, which then include FLAGS (RFC 3501 §6.4.5). */
static void
set_seen(struct imap_conn *conn, struct fetch_ctx *ctx,
	 const struct uid_array *uids)
{
	const struct store_msg *msgs = store_mailbox_msgs(conn->box);
	struct uid_array unseen = { 0 };
	unsigned int i;
	uint32_t seq;

	for (i = 0; i < uids->count; i++) {
		seq = store_mailbox_seq(conn->box, uids->uids[i]);
		if (seq != 0 && (msgs[seq - 1].flags & STORE_FLAG_SEEN) == 0)
			uid_array_add(&unseen, uids->uids[i]);
	}
	if (unseen.count > 0 &&
	    store_mailbox_update_flags(conn->box, unseen.uids, unseen.count,
				       STORE_FLAGS_ADD, STORE_FLAG_SEEN,
				       NULL, 0, NULL) == 0) {
		/* Their FETCH responses below show the new flags
		   (a separate untagged FETCH confuses curl). */
		conn->sync_skip = &unseen;
		(void)imap_sync_run(conn, IMAP_SYNC_NO_EXPUNGES);
		conn->sync_skip = NULL;
		ctx->seen_now = unseen;
		return;
	}
	uid_array_free(&unseen);
}

/*
 * Runs in parts: each job sends messages until IMAP_FETCH_PART_BYTES of
 * response are ready, then asks to run again once the client has read
 * them (imap_conn_job's job_continue), so a FETCH of a whole mailbox
 * never sits in memory at once.
 */
static void
fetch_run(struct imap_conn *conn)
{
	struct fetch_ctx *ctx = conn->job_ctx;
	int ret;

	if (!ctx->started) {
		ctx->started = true;
		if (imap_seqset_resolve(&ctx->set, conn->uid, conn->uids,
					conn->uid_count, &conn->searchres,
					&ctx->uids) < 0) {
			imap_job_tagged(conn, "BAD Invalid sequence set: "
					"beyond the last message.");
			return;
		}
		if (ctx->vanished &&
		    imap_sync_vanished_earlier(conn, ctx->changedsince,
					       &ctx->set, 0) < 0) {
			imap_job_store_error(conn, "UID FETCH");
			return;
		}
		/* FLAGS and MODSEQ come from the view: bring it up to date
		   first (reporting what others changed, as Dovecot does),
		   or the answer would be older than the FETCH the sync
		   after the command sends */
		if (((ctx->items & (F_FLAGS | F_MODSEQ)) != 0 ||
		     ctx->changedsince != 0 ||
		     (conn->enabled & IMAP_ENABLED_CONDSTORE) != 0) &&
		    store_mailbox_changed(conn->box))
			(void)imap_sync_run(conn, IMAP_SYNC_NO_EXPUNGES);
		/* RFC 4314 §4: \Seen only with "s" */
		if (ctx->set_seen && !conn->readonly &&
		    (conn->box_rights & STORE_ACL_SEEN) != 0)
			set_seen(conn, ctx, &ctx->uids);
	}
	for (; ctx->next < ctx->uids.count; ctx->next++) {
		if (conn->job_out.len >= IMAP_FETCH_PART_BYTES) {
			conn->job_continue = true;
			return;
		}
		ret = fetch_one(conn, ctx, ctx->uids.uids[ctx->next],
				&ctx->data);
		if (ret < 0)
			return;
		if (ret == 0)
			ctx->gone = true;
	}
	buf_deinit(&ctx->data);
	/* RFC 5530 §3, RFC 2180 §4.1: say why a message got no response,
	   so the client syncs (NOOP) instead of waiting for data */
	imap_job_tagged(conn, "OK %s%sFETCH completed.",
			ctx->gone ? "[EXPUNGEISSUED] " : "",
			conn->uid ? "UID " : "");
}

/* "(CHANGEDSINCE n [VANISHED])" with n > 0 (VANISHED in either place,
   RFC 7162 §3.2.6): 0, or -1. */
static int
parse_changedsince(const struct imap_arg *arg, struct fetch_ctx *ctx)
{
	const struct imap_arg *list;
	unsigned int i, count;
	const char *name, *num;
	char *end;

	if (!imap_arg_get_list(arg, &list, &count) || count < 2 || count > 3)
		return -1;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name))
			return -1;
		if (strcasecmp(name, "VANISHED") == 0 && !ctx->vanished) {
			ctx->vanished = true;
			continue;
		}
		if (strcasecmp(name, "CHANGEDSINCE") != 0 ||
		    ctx->changedsince != 0 || i + 1 >= count ||
		    !imap_arg_get_atom(&list[++i], &num) || num[0] < '1' ||
		    num[0] > '9')
			return -1;
		errno = 0;
		ctx->changedsince = strtoull(num, &end, 10);
		if (*end != '\0' || errno != 0)
			return -1;
	}
	return ctx->changedsince != 0 ? 0 : -1;
}

/* FETCH set items; UID FETCH set items (args after "FETCH"). */
void
cmd_fetch_args(struct imap_conn *conn, const struct imap_arg *args,
	       unsigned int count)
{
	struct fetch_ctx *ctx;
	const char *set, *error = NULL;

	if ((count != 2 && count != 3) ||
	    !imap_arg_get_atom(&args[0], &set)) {
		imap_conn_bad(conn, "FETCH needs a sequence set and items.");
		return;
	}
	ctx = i_malloc(sizeof(*ctx));
	conn->job_ctx = ctx;
	if (imap_seqset_parse(set, &ctx->set) < 0)
		error = "Invalid sequence set.";
	else if (parse_items(conn, ctx, &args[1], &error) == 0 &&
		 count == 3 && parse_changedsince(&args[2], ctx) < 0)
		error = "Invalid FETCH modifier.";
	/* RFC 7162 §3.2.6: VANISHED only in UID FETCH after ENABLE
	   QRESYNC */
	if (error == NULL && ctx->vanished &&
	    (!conn->uid || (conn->enabled & IMAP_ENABLED_QRESYNC) == 0))
		error = "VANISHED needs UID FETCH and ENABLE QRESYNC.";
	if (error == NULL &&
	    ((ctx->items & F_MODSEQ) != 0 || ctx->changedsince != 0))
		imap_condstore_enable(conn);
	if (error != NULL) {
		fetch_ctx_free(conn);
		imap_conn_bad(conn, error);
		return;
	}
	imap_conn_job(conn, fetch_run, fetch_ctx_free, IMAP_SYNC_NO_EXPUNGES);
}

void
cmd_fetch(struct imap_conn *conn)
{
	cmd_fetch_args(conn, conn->cmd.args, conn->cmd.arg_count);
}

/* ---- NOTIFY's MessageNew fetch attributes (RFC 5465 §5.1) ---- */

struct imap_fetch_items {
	struct fetch_ctx ctx;
};

struct imap_fetch_items *
imap_fetch_items_parse(struct imap_conn *conn, const struct imap_arg *arg,
		       const char **error_r)
{
	struct imap_fetch_items *items = i_malloc(sizeof(*items));

	if (parse_items(conn, &items->ctx, arg, error_r) < 0) {
		imap_fetch_items_free(&items);
		return NULL;
	}
	if (items->ctx.set_seen) {
		/* a notification must not change the message */
		*error_r = "MessageNew takes BODY.PEEK, not BODY.";
		imap_fetch_items_free(&items);
		return NULL;
	}
	return items;
}

int
imap_fetch_items_write(struct imap_conn *conn,
		       struct imap_fetch_items *items, uint32_t uid)
{
	buf_t data = BUF_INIT;
	bool uid_command = conn->uid;
	int ret;

	/* not the UID of the last command's "UID FETCH" */
	conn->uid = false;
	ret = fetch_one(conn, &items->ctx, uid, &data);
	conn->uid = uid_command;
	buf_deinit(&data);
	return ret < 0 ? -1 : 0;
}

void
imap_fetch_items_free(struct imap_fetch_items **_items)
{
	struct imap_fetch_items *items = *_items;
	unsigned int i;

	if (items == NULL)
		return;
	*_items = NULL;
	for (i = 0; i < items->ctx.section_count; i++)
		imap_section_free(&items->ctx.sections[i].section);
	free(items->ctx.sections);
	free(items);
}
