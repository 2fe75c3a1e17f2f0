/* SPDX-License-Identifier: MIT */
/*
 * cmd-sort.c: SORT and UID SORT (RFC 5256 §3) with the keys ARRIVAL,
 * CC, DATE, FROM, SIZE, SUBJECT, TO and REVERSE, DISPLAYFROM and
 * DISPLAYTO (SORT=DISPLAY, RFC 5957), and ESORT's RETURN (MIN MAX COUNT
 * ALL SAVE) (RFC 5267 §3). Messages are selected with SEARCH's program
 * (cmd-search.c); each selected message's header is read and parsed
 * once per command into the keys the criteria need (struct sort_msg,
 * shared with THREAD), then sorted in memory. Part of src/imap.
 */
#include "imap-sort.h"
#include "imap-seqset.h"
#include "mime-address.h"
#include "mime-arena.h"
#include "mime-casemap.h"
#include "mime-date.h"
#include "mime-header.h"
#include "mime-parser.h"
#include "mime-subject.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- reading the keys ---- */

/* The comparison key of buf's text: RFC 5051 i;unicode-casemap, the
   I18NLEVEL=1 default of RFC 5255 and what Dovecot sorts by; on ASCII it
   orders as RFC 5256's i;ascii-casemap. buf is emptied. */
static char *
steal_key(buf_t *buf)
{
	buf_t key = BUF_INIT;
	char *s;

	mime_casemap_append(buf->data, buf->len, &key);
	s = i_strdup(buf_cstr(&key));
	buf_deinit(&key);
	buf_reset(buf);
	return s;
}

/* RFC 5256 §3: FROM, TO, CC compare the first address's addr-mailbox;
   RFC 5957 §2: DISPLAYFROM and DISPLAYTO its display name (decoded),
   or its addr-spec when it has none. */
static void
address_keys(const unsigned char *value, size_t len, char **mailbox_r,
	     char **display_r)
{
	struct mime_arena *arena = mime_arena_create();
	const struct mime_address *addr;
	buf_t tmp = BUF_INIT;

	/* the first address as ENVELOPE has it: a group's start counts,
	   its name being the mailbox, and a broken address sorts by the
	   MISSING_MAILBOX/MISSING_DOMAIN placeholders (as in Dovecot) */
	addr = value == NULL ? NULL :
		mime_address_parse(arena, value, len,
				   MIME_ADDRESS_FILL_MISSING);
	if (addr != NULL && addr->mailbox != NULL && mailbox_r != NULL)
		buf_append_str(&tmp, addr->mailbox);
	if (mailbox_r != NULL)
		*mailbox_r = steal_key(&tmp);
	if (addr != NULL && display_r != NULL) {
		if (addr->name != NULL)
			mime_header_decode((const unsigned char *)addr->name,
					   strlen(addr->name), &tmp);
		if (tmp.len == 0 && addr->mailbox != NULL) {
			buf_append_str(&tmp, addr->mailbox);
			if (addr->domain != NULL)
				buf_printf(&tmp, "@%s", addr->domain);
		}
	}
	if (display_r != NULL)
		*display_r = steal_key(&tmp);
	buf_deinit(&tmp);
	mime_arena_destroy(&arena);
}

struct header_values {
	struct mime_field subject, date, from, to, cc;
	struct mime_field message_id, references, in_reply_to;
	bool has_subject, has_date, has_from, has_to, has_cc;
	bool has_message_id, has_references, has_in_reply_to;
};

/* The first of each field of interest. */
static void
header_scan(const buf_t *hdr, struct header_values *v)
{
	static const struct {
		const char *name;
		size_t field, has;
	} names[] = {
#define F(n, m) { n, offsetof(struct header_values, m), \
		  offsetof(struct header_values, has_##m) }
		F("Subject", subject), F("Date", date), F("From", from),
		F("To", to), F("Cc", cc), F("Message-ID", message_id),
		F("References", references), F("In-Reply-To", in_reply_to),
#undef F
	};
	struct mime_field f;
	size_t pos = 0;
	unsigned int i;
	bool *has;

	memset(v, 0, sizeof(*v));
	while (mime_header_next_field(hdr->data, hdr->len, &pos, &f)) {
		for (i = 0; i < N_ELEMENTS(names); i++) {
			has = (bool *)((char *)v + names[i].has);
			if (*has || !mime_field_is(&f, names[i].name))
				continue;
			*has = true;
			memcpy((char *)v + names[i].field, &f, sizeof(f));
		}
	}
}

static char *
raw_value(const struct mime_field *f, bool has)
{
	return has ? i_strndup((const char *)f->value, f->value_len) : NULL;
}

/* Fills the keys of sm from its header block. */
static void
keys_from_header(struct sort_msg *sm, const buf_t *hdr, unsigned int keys)
{
	struct header_values v;
	buf_t tmp = BUF_INIT;
	time_t t;
	int tz;

	header_scan(hdr, &v);
	if ((keys & SORT_KEY_SUBJECT) != 0) {
		if (v.has_subject)
			sm->reply = mime_subject_base(v.subject.value,
						      v.subject.value_len,
						      &tmp);
		sm->subject = steal_key(&tmp);
	}
	/* RFC 5256 §2.2: the INTERNALDATE when the sent date cannot be
	   determined; the epoch itself is a mailer's placeholder, not a
	   date (Dovecot reads it so too) */
	sm->date = sm->arrival;
	if ((keys & SORT_KEY_DATE) != 0 && v.has_date &&
	    mime_date_parse(v.date.value, v.date.value_len, &t, &tz) == 0 &&
	    t != 0)
		sm->date = (int64_t)t;
	if ((keys & (SORT_KEY_FROM | SORT_KEY_DISPLAYFROM)) != 0)
		address_keys(v.has_from ? v.from.value : NULL,
			     v.from.value_len,
			     (keys & SORT_KEY_FROM) != 0 ? &sm->from : NULL,
			     (keys & SORT_KEY_DISPLAYFROM) != 0 ?
			     &sm->displayfrom : NULL);
	if ((keys & (SORT_KEY_TO | SORT_KEY_DISPLAYTO)) != 0)
		address_keys(v.has_to ? v.to.value : NULL, v.to.value_len,
			     (keys & SORT_KEY_TO) != 0 ? &sm->to : NULL,
			     (keys & SORT_KEY_DISPLAYTO) != 0 ?
			     &sm->displayto : NULL);
	if ((keys & SORT_KEY_CC) != 0)
		address_keys(v.has_cc ? v.cc.value : NULL, v.cc.value_len,
			     &sm->cc, NULL);
	if ((keys & SORT_KEY_THREAD) != 0) {
		sm->message_id = raw_value(&v.message_id, v.has_message_id);
		sm->references = raw_value(&v.references, v.has_references);
		sm->in_reply_to = raw_value(&v.in_reply_to,
					    v.has_in_reply_to);
	}
	buf_deinit(&tmp);
}

int
imap_sort_collect(struct imap_conn *conn, struct imap_search *search,
		  unsigned int keys, struct sort_msg **msgs_r,
		  unsigned int *count_r)
{
	const struct store_msg *msgs = store_mailbox_msgs(conn->box);
	struct sort_msg *out = NULL, *sm;
	unsigned int i, count = 0;
	buf_t hdr = BUF_INIT;
	uint32_t seq;
	int ret = 0;

	if (conn->uid_count > 0)
		out = i_malloc(sizeof(*out) * conn->uid_count);
	for (i = 0; i < conn->uid_count && ret == 0; i++) {
		seq = store_mailbox_seq(conn->box, conn->uids[i]);
		if (seq == 0 ||
		    !imap_search_match(conn, search, i + 1, &msgs[seq - 1]))
			continue;
		sm = &out[count++];
		sm->seq = i + 1;
		sm->uid = conn->uids[i];
		sm->size = msgs[seq - 1].size;
		sm->modseq = msgs[seq - 1].modseq;
		sm->arrival = sm->date = msgs[seq - 1].internal_date;
		if (keys == 0)
			continue;
		buf_reset(&hdr);
		/* every key's field is in the store's header cache, so a
		   SORT or THREAD after the first reads no message */
		if (store_mailbox_msg_cached_header(conn->box, &msgs[seq - 1],
						    &hdr) < 0) {
			/* expunged by another session since the view's
			   sync (it stays until the next one, RFC 3501
			   §7.4.1): it sorts with empty keys */
			if (store_error(NULL) != STORE_ERROR_NOT_FOUND)
				ret = -1;
			buf_reset(&hdr);
		}
		keys_from_header(sm, &hdr, keys);
	}
	buf_deinit(&hdr);
	*msgs_r = out;
	*count_r = count;
	if (ret < 0)
		imap_sort_msgs_free(msgs_r, count);
	return ret;
}

void
imap_sort_msgs_free(struct sort_msg **msgs, unsigned int count)
{
	unsigned int i;

	if (*msgs == NULL)
		return;
	for (i = 0; i < count; i++) {
		struct sort_msg *sm = &(*msgs)[i];

		free(sm->subject);
		free(sm->from);
		free(sm->to);
		free(sm->cc);
		free(sm->displayfrom);
		free(sm->displayto);
		free(sm->message_id);
		free(sm->references);
		free(sm->in_reply_to);
	}
	i_free(*msgs);
}

struct imap_search *
imap_sort_search_parse(struct imap_conn *conn, const struct imap_arg *args,
		       unsigned int count)
{
	struct imap_search *search;
	const char *charset, *error;

	if (count < 2 || !imap_arg_get_astring(&args[0], &charset)) {
		imap_conn_bad(conn, "Missing charset or search criteria.");
		return NULL;
	}
	if (!imap_search_charset_ok(charset)) {
		imap_conn_tagged(conn, "NO [BADCHARSET] Unsupported "
				 "charset.");
		return NULL;
	}
	search = imap_search_parse(conn, args + 1, count - 1, charset,
				   &error);
	if (search == NULL)
		imap_conn_bad(conn, error);
	return search;
}

/* ---- SORT ---- */

enum sort_key {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE,
	SORT_SUBJECT, SORT_TO, SORT_DISPLAYFROM, SORT_DISPLAYTO,
};

static const struct {
	const char *name;
	enum sort_key key;
	unsigned int read;      /* SORT_KEY_* to read */
} sort_names[] = {
	{ "ARRIVAL", SORT_ARRIVAL, 0 },
	{ "CC", SORT_CC, SORT_KEY_CC },
	{ "DATE", SORT_DATE, SORT_KEY_DATE },
	{ "FROM", SORT_FROM, SORT_KEY_FROM },
	{ "SIZE", SORT_SIZE, 0 },
	{ "SUBJECT", SORT_SUBJECT, SORT_KEY_SUBJECT },
	{ "TO", SORT_TO, SORT_KEY_TO },
	{ "DISPLAYFROM", SORT_DISPLAYFROM, SORT_KEY_DISPLAYFROM },
	{ "DISPLAYTO", SORT_DISPLAYTO, SORT_KEY_DISPLAYTO },
};

/* ESORT (RFC 5267 §3) RETURN options. */

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

struct sort_ctx {
	struct imap_search *search;
	struct sort_criterion crit[IMAP_SORT_CRITERIA_MAX];
	unsigned int crit_count;
	unsigned int read;
	bool esort;
	unsigned int ret;
};

static int
cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int
cmp_key(enum sort_key key, const struct sort_msg *a, const struct sort_msg *b)
{
	switch (key) {
	case SORT_ARRIVAL:
		return cmp_i64(a->arrival, b->arrival);
	case SORT_DATE:
		return cmp_i64(a->date, b->date);
	case SORT_SIZE:
		return a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
	case SORT_CC:
		return strcmp(a->cc, b->cc);
	case SORT_FROM:
		return strcmp(a->from, b->from);
	case SORT_TO:
		return strcmp(a->to, b->to);
	case SORT_SUBJECT:
		return strcmp(a->subject, b->subject);
	case SORT_DISPLAYFROM:
		return strcmp(a->displayfrom, b->displayfrom);
	case SORT_DISPLAYTO:
		return strcmp(a->displayto, b->displayto);
	}
	i_panic("unknown sort key %d", (int)key);
}

/* Criteria in order, then the sequence number (RFC 5256 §3: messages
   equal in every criterion keep mailbox order, whatever REVERSE). */
static int
sort_cmp(const void *p1, const void *p2, void *context)
{
	const struct sort_ctx *ctx = context;
	const struct sort_msg *a = p1, *b = p2;
	unsigned int i;
	int ret;

	for (i = 0; i < ctx->crit_count; i++) {
		ret = cmp_key(ctx->crit[i].key, a, b);
		if (ret != 0)
			return ctx->crit[i].reverse ? -ret : ret;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

/* Numbers in sorted order as a sequence-set: ascending runs become
   ranges, everything else keeps its place (RFC 5267 §3.2). */
static void
append_sorted_set(buf_t *out, const uint32_t *nums, unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < count; i = j) {
		for (j = i + 1; j < count && nums[j] == nums[j - 1] + 1; j++)
			;
		if (i > 0)
			buf_append_c(out, ',');
		if (j - i == 1)
			buf_printf(out, "%u", nums[i]);
		else
			buf_printf(out, "%u:%u", nums[i], nums[j - 1]);
	}
}

static void
append_esort(struct imap_conn *conn, const struct sort_ctx *ctx,
	     const uint32_t *nums, unsigned int count)
{
	buf_t *out = &conn->job_out;

	buf_printf(out, "* ESEARCH (TAG \"%s\")%s", conn->cmd.tag,
		   conn->uid ? " UID" : "");
	/* RFC 5267 §3.2: MIN and MAX are the first and last message in
	   the sort order */
	if (count > 0 && (ctx->ret & RET_MIN) != 0)
		buf_printf(out, " MIN %u", nums[0]);
	if (count > 0 && (ctx->ret & RET_MAX) != 0)
		buf_printf(out, " MAX %u", nums[count - 1]);
	if ((ctx->ret & RET_COUNT) != 0)
		buf_printf(out, " COUNT %u", count);
	if (count > 0 && (ctx->ret & RET_ALL) != 0) {
		buf_append_str(out, " ALL ");
		append_sorted_set(out, nums, count);
	}
}

static void
save_result(struct imap_conn *conn, const struct sort_ctx *ctx,
	    const struct sort_msg *msgs, unsigned int count)
{
	struct uid_array saved = { 0 };
	unsigned int i;

	if ((ctx->ret & (RET_COUNT | RET_ALL)) == 0 &&
	    (ctx->ret & (RET_MIN | RET_MAX)) != 0) {
		/* RFC 5182 §2.1: SAVE with MIN and/or MAX alone keeps only
		   those (the first and last in sort order, RFC 5267) */
		if (count > 0 && (ctx->ret & RET_MIN) != 0)
			uid_array_add(&saved, msgs[0].uid);
		if (count > 1 && (ctx->ret & RET_MAX) != 0)
			uid_array_add(&saved, msgs[count - 1].uid);
		if (count == 1 && (ctx->ret & RET_MIN) == 0)
			uid_array_add(&saved, msgs[0].uid);
	} else {
		for (i = 0; i < count; i++)
			uid_array_add(&saved, msgs[i].uid);
	}
	if (saved.count > 0)
		qsort(saved.uids, saved.count, sizeof(uint32_t), imap_uid_cmp);
	uid_array_free(&conn->searchres);
	conn->searchres = saved;
}

static void
sort_run(struct imap_conn *conn)
{
	struct sort_ctx *ctx = conn->job_ctx;
	struct sort_msg *msgs;
	unsigned int i, count;
	uint32_t *nums;
	uint64_t highest = 0;

	if (imap_sort_collect(conn, ctx->search, ctx->read, &msgs,
			      &count) < 0) {
		imap_job_store_error(conn, "SORT");
		return;
	}
	if (count > 1)
		qsort_r(msgs, count, sizeof(*msgs), sort_cmp, ctx);
	nums = i_malloc(sizeof(*nums) * (count + 1));
	for (i = 0; i < count; i++) {
		nums[i] = conn->uid ? msgs[i].uid : msgs[i].seq;
		if (msgs[i].modseq > highest)
			highest = msgs[i].modseq;
	}
	if ((ctx->ret & RET_SAVE) != 0)
		save_result(conn, ctx, msgs, count);
	if (ctx->ret == RET_SAVE) {
		/* RFC 5182 §2.4: SAVE alone answers nothing untagged */
	} else if (ctx->esort) {
		append_esort(conn, ctx, nums, count);
		if (imap_search_has_modseq(ctx->search) && count > 0)
			buf_printf(&conn->job_out, " MODSEQ %llu",
				   (unsigned long long)highest);
		buf_append_str(&conn->job_out, "\r\n");
	} else {
		buf_append_str(&conn->job_out, "* SORT");
		for (i = 0; i < count; i++)
			buf_printf(&conn->job_out, " %u", nums[i]);
		/* RFC 7162 §3.1.5 */
		if (imap_search_has_modseq(ctx->search) && count > 0)
			buf_printf(&conn->job_out, " (MODSEQ %llu)",
				   (unsigned long long)highest);
		buf_append_str(&conn->job_out, "\r\n");
	}
	free(nums);
	imap_sort_msgs_free(&msgs, count);
	imap_job_tagged(conn, "OK %sSORT completed.", conn->uid ? "UID " : "");
}

static void
sort_ctx_free(struct imap_conn *conn)
{
	struct sort_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	imap_search_free(&ctx->search);
	free(ctx);
	conn->job_ctx = NULL;
}


/* The sort criteria list (RFC 5256 §4: sort-criterion =
   ["REVERSE" SP] sort-key). NULL on success, or the BAD text. */
static const char *
parse_criteria(const struct imap_arg *arg, struct sort_ctx *ctx)
{
	const struct imap_arg *list;
	unsigned int count, i, j;
	const char *name;
	bool reverse = false;

	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return "Missing sort criteria.";
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name))
			return "Invalid sort criteria.";
		if (strcasecmp(name, "REVERSE") == 0 && !reverse) {
			reverse = true;
			continue;
		}
		for (j = 0; j < N_ELEMENTS(sort_names); j++) {
			if (strcasecmp(name, sort_names[j].name) == 0)
				break;
		}
		if (j == N_ELEMENTS(sort_names))
			return "Unknown sort key.";
		if (ctx->crit_count == IMAP_SORT_CRITERIA_MAX)
			return "Too many sort criteria.";
		ctx->crit[ctx->crit_count].key = sort_names[j].key;
		ctx->crit[ctx->crit_count].reverse = reverse;
		ctx->crit_count++;
		ctx->read |= sort_names[j].read;
		reverse = false;
	}
	return reverse ? "REVERSE needs a sort key." : NULL;
}

void
cmd_sort_args(struct imap_conn *conn, const struct imap_arg *args,
	      unsigned int count)
{
	struct sort_ctx *ctx = i_malloc(sizeof(*ctx));
	const char *name, *error;
	unsigned int pos = 0;

	if (count >= 2 && imap_arg_get_atom(&args[0], &name) &&
	    strcasecmp(name, "RETURN") == 0) {
		if (imap_return_parse(&args[1], &ctx->ret) < 0) {
			free(ctx);
			imap_conn_bad(conn, "Invalid SORT RETURN options.");
			return;
		}
		ctx->esort = true;
		pos = 2;
	}
	if (pos >= count) {
		free(ctx);
		imap_conn_bad(conn, "Missing sort criteria.");
		return;
	}
	if ((error = parse_criteria(&args[pos], ctx)) != NULL) {
		free(ctx);
		imap_conn_bad(conn, error);
		return;
	}
	ctx->search = imap_sort_search_parse(conn, args + pos + 1,
					     count - pos - 1);
	if (ctx->search == NULL) {
		free(ctx);
		return;
	}
	conn->job_ctx = ctx;
	imap_conn_job(conn, sort_run, sort_ctx_free, IMAP_SYNC_NO_EXPUNGES);
}

void
cmd_sort(struct imap_conn *conn)
{
	cmd_sort_args(conn, conn->cmd.args, conn->cmd.arg_count);
}
