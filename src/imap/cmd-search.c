/* SPDX-License-Identifier: MIT */
/*
 * cmd-search.c: SEARCH and UID SEARCH (RFC 3501 §6.4.4) with every key
 * of RFC 3501, MODSEQ (RFC 7162 §3.1.5) and the SAVED* keys (RFC 8514
 * §5), and ESEARCH's RETURN (MIN
 * MAX COUNT ALL) (RFC 4731) and SAVE with "$" (SEARCHRES, RFC 5182). The program is parsed on the
 * loop thread into a tree (a bad key is BAD before any store work) and
 * evaluated per message on a worker; messages are read and MIME-parsed
 * only for keys that need their text. Header keys match the field
 * decoded to UTF-8 (RFC 2047 words), BODY and TEXT match every leaf
 * part's text with its transfer encoding undone and its charset
 * converted (src/mime). Matching is a substring test under RFC 5051's
 * i;unicode-casemap (mime-casemap.c). CHARSET takes any charset iconv
 * knows (RFC 9051 §6.4.4); the key strings are converted to UTF-8 once,
 * at parse time. Part of src/imap.
 */
#include "imap-private.h"
#include "imap-seqset.h"
#include "mime-casemap.h"
#include "mime-charset.h"
#include "mime-decode.h"
#include "mime-date.h"
#include "mime-header.h"
#include "mime-parser.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Nesting of NOT/OR/lists in a program. */
#define SEARCH_DEPTH_MAX 32

enum key_type {
	KEY_ALL, KEY_FLAG, KEY_NOFLAG, KEY_KEYWORD, KEY_UNKEYWORD,
	KEY_NEW, KEY_OLD, KEY_RECENT,
	KEY_LARGER, KEY_SMALLER,
	KEY_BEFORE, KEY_ON, KEY_SINCE,
	KEY_SENTBEFORE, KEY_SENTON, KEY_SENTSINCE,
	KEY_SAVEDBEFORE, KEY_SAVEDON, KEY_SAVEDSINCE,
	KEY_HEADER, KEY_BODY, KEY_TEXT,
	KEY_UID, KEY_SEQSET, KEY_MODSEQ,
	KEY_NOT, KEY_OR, KEY_AND,
};

struct search_key {
	enum key_type type;
	uint32_t flag;
	const char *field;      /* HEADER name */
	const char *str;
	/* HEADER, BODY, TEXT: str's i;unicode-casemap key */
	buf_t folded;
	/* str converted from the CHARSET, when it was not UTF-8 */
	char *owned;
	uint64_t num;
	int64_t day;            /* days since the epoch */
	struct imap_seqset set;
	struct search_key *a, *b;       /* NOT a; OR a b; AND list a..b */
	struct search_key *next;        /* in an AND list */
};

/* ESEARCH (RFC 4731) RETURN options. */

struct search_ctx {
	struct search_key *root;
	/* a MODSEQ key: answer with the highest MODSEQ found */
	bool modseq;
	bool esearch;
	unsigned int ret;
};

/* ---- parsing ---- */

struct search_parser {
	struct imap_conn *conn;
	const struct imap_arg *args;
	unsigned int count, pos;
	const char *error;
	bool modseq;
	/* CHARSET of the key strings; NULL: UTF-8 */
	const char *charset;
};

static void
key_free(struct search_key *key)
{
	struct search_key *next;

	for (; key != NULL; key = next) {
		next = key->next;
		key_free(key->a);
		key_free(key->b);
		imap_seqset_free(&key->set);
		buf_deinit(&key->folded);
		free(key->owned);
		free(key);
	}
}

static const char *
next_astring(struct search_parser *p)
{
	const char *s;

	if (p->pos >= p->count ||
	    !imap_arg_get_astring(&p->args[p->pos], &s)) {
		p->error = "Missing search argument.";
		return NULL;
	}
	p->pos++;
	return s;
}

/* RFC 3501 date: "1-Feb-1994" (quoted or not) to days since 1970. */
static int
parse_day(const char *s, int64_t *day_r)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int day, year, n = 0;
	const char *m;
	struct tm tm;

	if (sscanf(s, "%2d-%3c-%4d%n", &day, mon, &year, &n) != 3 ||
	    s[n] != '\0')
		return -1;
	mon[3] = '\0';
	m = strcasestr(months, mon);
	if (m == NULL || (m - months) % 3 != 0 || day < 1 || day > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	*day_r = (int64_t)timegm(&tm) / 86400;
	return 0;
}

static struct search_key *parse_key(struct search_parser *p,
				    unsigned int depth);

/* Keys up to the end of args[from..count) as one AND node. */
static struct search_key *
parse_and(struct search_parser *p, unsigned int depth)
{
	struct search_key *and = i_malloc(sizeof(*and)), **tail = &and->a;

	and->type = KEY_AND;
	while (p->pos < p->count && p->error == NULL) {
		*tail = parse_key(p, depth);
		if (*tail != NULL)
			tail = &(*tail)->next;
	}
	if (and->a == NULL && p->error == NULL)
		p->error = "Empty search program.";
	if (p->error != NULL) {
		key_free(and);
		return NULL;
	}
	return and;
}

static const struct {
	const char *name;
	enum key_type type;
	uint32_t flag;
} flag_keys[] = {
	{ "ALL", KEY_ALL, 0 },
	{ "ANSWERED", KEY_FLAG, STORE_FLAG_ANSWERED },
	{ "DELETED", KEY_FLAG, STORE_FLAG_DELETED },
	{ "DRAFT", KEY_FLAG, STORE_FLAG_DRAFT },
	{ "FLAGGED", KEY_FLAG, STORE_FLAG_FLAGGED },
	{ "SEEN", KEY_FLAG, STORE_FLAG_SEEN },
	{ "UNANSWERED", KEY_NOFLAG, STORE_FLAG_ANSWERED },
	{ "UNDELETED", KEY_NOFLAG, STORE_FLAG_DELETED },
	{ "UNDRAFT", KEY_NOFLAG, STORE_FLAG_DRAFT },
	{ "UNFLAGGED", KEY_NOFLAG, STORE_FLAG_FLAGGED },
	{ "UNSEEN", KEY_NOFLAG, STORE_FLAG_SEEN },
	{ "NEW", KEY_NEW, 0 },
	{ "OLD", KEY_OLD, 0 },
	{ "RECENT", KEY_RECENT, 0 },
	/* RFC 8514 §5: every mailbox keeps save dates */
	{ "SAVEDATESUPPORTED", KEY_ALL, 0 },
};

static const struct {
	const char *name;
	enum key_type type;
	const char *field;
} string_keys[] = {
	{ "BCC", KEY_HEADER, "Bcc" },
	{ "CC", KEY_HEADER, "Cc" },
	{ "FROM", KEY_HEADER, "From" },
	{ "SUBJECT", KEY_HEADER, "Subject" },
	{ "TO", KEY_HEADER, "To" },
	{ "BODY", KEY_BODY, NULL },
	{ "TEXT", KEY_TEXT, NULL },
	{ "KEYWORD", KEY_KEYWORD, NULL },
	{ "UNKEYWORD", KEY_UNKEYWORD, NULL },
};

static const struct {
	const char *name;
	enum key_type type;
} date_keys[] = {
	{ "BEFORE", KEY_BEFORE }, { "ON", KEY_ON }, { "SINCE", KEY_SINCE },
	{ "SENTBEFORE", KEY_SENTBEFORE }, { "SENTON", KEY_SENTON },
	{ "SENTSINCE", KEY_SENTSINCE },
	/* RFC 8514 §5 */
	{ "SAVEDBEFORE", KEY_SAVEDBEFORE }, { "SAVEDON", KEY_SAVEDON },
	{ "SAVEDSINCE", KEY_SAVEDSINCE },
};

/* The string of a HEADER, BODY or TEXT key in UTF-8 (from the search's
   CHARSET) and its casemap key. */
static void
key_text_prepare(struct search_parser *p, struct search_key *key)
{
	buf_t utf8 = BUF_INIT;
	size_t len;

	if (key->str == NULL)
		return;
	if (p->charset != NULL) {
		if (mime_charset_to_utf8(p->charset,
					 (const unsigned char *)key->str,
					 strlen(key->str), &utf8) < 0)
			i_panic("charset %s went away", p->charset);
		buf_append_c(&utf8, '\0');
		key->owned = (char *)buf_steal(&utf8, &len);
		key->str = key->owned;
	}
	mime_casemap_append((const unsigned char *)key->str,
			    strlen(key->str), &key->folded);
}

/* RFC 7162 §3.1.5: MODSEQ "/flags/<flag>" <priv|shared|all> <n>.
   One mod-sequence is kept per message, so the entry is checked and
   ignored, as the RFC asks of such servers. Returns the number's
   argument, or NULL with p->error set. */
static const char *
modseq_entry_skip(struct search_parser *p, const char *entry)
{
	const char *type;

	if (strncasecmp(entry, "/flags/", 7) != 0 || entry[7] == '\0' ||
	    (type = next_astring(p)) == NULL ||
	    (strcasecmp(type, "priv") != 0 &&
	     strcasecmp(type, "shared") != 0 &&
	     strcasecmp(type, "all") != 0)) {
		p->error = "Invalid MODSEQ entry.";
		return NULL;
	}
	return next_astring(p);
}

/* Keys taking an argument other than flags. 0 handled, -1 not. */
static int
parse_arg_key(struct search_parser *p, const char *name,
	      struct search_key *key)
{
	const char *s;
	unsigned int i;
	char *end;

	for (i = 0; i < N_ELEMENTS(string_keys); i++) {
		if (strcasecmp(name, string_keys[i].name) != 0)
			continue;
		key->type = string_keys[i].type;
		key->field = string_keys[i].field;
		key->str = next_astring(p);
		if (key->type != KEY_KEYWORD && key->type != KEY_UNKEYWORD)
			key_text_prepare(p, key);
		return 0;
	}
	for (i = 0; i < N_ELEMENTS(date_keys); i++) {
		if (strcasecmp(name, date_keys[i].name) != 0)
			continue;
		key->type = date_keys[i].type;
		if ((s = next_astring(p)) != NULL &&
		    parse_day(s, &key->day) < 0)
			p->error = "Invalid search date.";
		return 0;
	}
	if (strcasecmp(name, "HEADER") == 0) {
		key->type = KEY_HEADER;
		key->field = next_astring(p);
		if (key->field != NULL)
			key->str = next_astring(p);
		key_text_prepare(p, key);
		return 0;
	}
	if (strcasecmp(name, "LARGER") == 0 ||
	    strcasecmp(name, "SMALLER") == 0 ||
	    strcasecmp(name, "MODSEQ") == 0) {
		key->type = name[0] == 'L' || name[0] == 'l' ? KEY_LARGER :
			name[0] == 'S' || name[0] == 's' ? KEY_SMALLER :
			KEY_MODSEQ;
		if (key->type == KEY_MODSEQ)
			p->modseq = true;
		if ((s = next_astring(p)) == NULL)
			return 0;
		if (key->type == KEY_MODSEQ && (s[0] < '0' || s[0] > '9') &&
		    (s = modseq_entry_skip(p, s)) == NULL)
			return 0;
		errno = 0;
		key->num = strtoull(s, &end, 10);
		/* RFC 9051 §9 number64, RFC 7162 mod-sequence-valzer:
		   at most 2^63-1 */
		if (s[0] < '0' || s[0] > '9' || *end != '\0' ||
		    errno == ERANGE || key->num > INT64_MAX)
			p->error = "Invalid search number.";
		return 0;
	}
	if (strcasecmp(name, "UID") == 0) {
		key->type = KEY_UID;
		if ((s = next_astring(p)) != NULL &&
		    imap_seqset_parse(s, &key->set) < 0)
			p->error = "Invalid UID set.";
		return 0;
	}
	return -1;
}

static struct search_key *
parse_key(struct search_parser *p, unsigned int depth)
{
	const struct imap_arg *arg = &p->args[p->pos++];
	struct search_key *key = i_malloc(sizeof(*key));
	const char *name;
	unsigned int i;

	if (depth > SEARCH_DEPTH_MAX) {
		p->error = "Search program nested too deeply.";
		goto fail;
	}
	if (arg->type == IMAP_ARG_LIST) {
		struct search_parser sub = *p;

		free(key);
		sub.args = arg->list;
		sub.count = arg->list_count;
		sub.pos = 0;
		key = parse_and(&sub, depth + 1);
		p->error = sub.error;
		return key;
	}
	if (!imap_arg_get_atom(arg, &name)) {
		p->error = "Invalid search key.";
		goto fail;
	}
	for (i = 0; i < N_ELEMENTS(flag_keys); i++) {
		if (strcasecmp(name, flag_keys[i].name) == 0) {
			key->type = flag_keys[i].type;
			key->flag = flag_keys[i].flag;
			return key;
		}
	}
	if (strcasecmp(name, "NOT") == 0 || strcasecmp(name, "OR") == 0) {
		key->type = name[0] == 'N' || name[0] == 'n' ? KEY_NOT :
			KEY_OR;
		if (p->pos >= p->count ||
		    (key->a = parse_key(p, depth + 1)) == NULL)
			goto fail;
		if (key->type == KEY_OR &&
		    (p->pos >= p->count ||
		     (key->b = parse_key(p, depth + 1)) == NULL))
			goto fail;
		return key;
	}
	if (parse_arg_key(p, name, key) == 0) {
		if (p->error != NULL)
			goto fail;
		return key;
	}
	if (imap_seqset_parse(name, &key->set) == 0) {
		key->type = KEY_SEQSET;
		return key;
	}
	p->error = "Unknown search key.";
fail:
	if (p->error == NULL)
		p->error = "Missing search key.";
	key_free(key);
	return NULL;
}

/* ---- matching ---- */

struct search_msg {
	struct imap_conn *conn;
	const struct store_msg *msg;
	uint32_t seq;
	buf_t data;
	bool loaded;
	struct mime_message *mime;
	/* the fields of the store's header cache, when the keys need only
	   those: then the message itself is not read */
	buf_t hdr;
	bool hdr_loaded, hdr_ok;
};

static bool
load(struct search_msg *sm)
{
	if (!sm->loaded) {
		sm->loaded = true;
		buf_reset(&sm->data);
		if (store_mailbox_msg_read(sm->conn->box, sm->msg->uid,
					   &sm->data) == 0)
			sm->mime = mime_message_parse(sm->data.data,
						      sm->data.len);
	}
	return sm->mime != NULL;
}

/* RFC 5051 substring match of the key's string in UTF-8 text. */
static bool
text_has(const buf_t *text, const struct search_key *key)
{
	return mime_casemap_contains(text->data, text->len, &key->folded);
}

/* The header of part (the message, or one a message/rfc822 part
   encapsulates). field NULL: every field, as "Name: value" (TEXT, as
   Dovecot matches it). */
static bool
match_header_part(struct search_msg *sm, const struct mime_part *root,
		  const char *field, const struct search_key *key)
{
	struct mime_field f;
	size_t pos = 0;
	buf_t value = BUF_INIT;
	bool found = false;

	while (!found && mime_header_next_field(sm->data.data + root->offset,
						root->header.physical, &pos,
						&f)) {
		if (field != NULL && !mime_field_is(&f, field))
			continue;
		buf_reset(&value);
		if (field == NULL) {
			buf_append(&value, f.name, f.name_len);
			buf_append_c(&value, ':');
		}
		buf_append_c(&value, ' ');
		mime_header_decode(f.value, f.value_len, &value);
		found = key->str[0] == '\0' || text_has(&value, key);
	}
	buf_deinit(&value);
	return found;
}

/* The header block to look for field in (data_r, len_r): the cached
   fields when field is one and the message is not read anyway. False
   when there is none. */
static bool
header_block(struct search_msg *sm, const char *field,
	     const unsigned char **data_r, size_t *len_r)
{
	if (!sm->loaded && store_header_field_cached(field)) {
		if (!sm->hdr_loaded) {
			sm->hdr_loaded = true;
			buf_reset(&sm->hdr);
			sm->hdr_ok = store_mailbox_msg_cached_header(
				sm->conn->box, sm->msg, &sm->hdr) == 0;
		}
		*data_r = sm->hdr.data;
		*len_r = sm->hdr.len;
		return sm->hdr_ok;
	}
	if (!load(sm))
		return false;
	*data_r = sm->data.data + sm->mime->root->offset;
	*len_r = sm->mime->root->header.physical;
	return true;
}

static bool
match_header(struct search_msg *sm, const char *field,
	     const struct search_key *key)
{
	const unsigned char *data;
	struct mime_field f;
	size_t len, pos = 0;
	buf_t value = BUF_INIT;
	bool found = false;

	if (field == NULL)
		return load(sm) &&
			match_header_part(sm, sm->mime->root, NULL, key);
	if (!header_block(sm, field, &data, &len))
		return false;
	while (!found && mime_header_next_field(data, len, &pos, &f)) {
		if (!mime_field_is(&f, field))
			continue;
		buf_reset(&value);
		buf_append_c(&value, ' ');
		mime_header_decode(f.value, f.value_len, &value);
		found = key->str[0] == '\0' || text_has(&value, key);
	}
	buf_deinit(&value);
	return found;
}

/* Text parts below part; with headers (TEXT) also the header of every
   encapsulated message (RFC 3501 §6.4.4: TEXT is header or body). */
static bool
match_parts(struct search_msg *sm, const struct mime_part *part,
	    const struct search_key *key, bool headers)
{
	buf_t text = BUF_INIT;
	bool found = false;

	/* TEXT: every header inside the body counts, an encapsulated
	   message's and a body part's MIME header alike (they are body
	   text of the message, RFC 3501 §6.4.4; Dovecot reads them too) */
	if (headers && part->parent != NULL &&
	    match_header_part(sm, part, NULL, key))
		return true;
	if (part->children == NULL) {
		/* text parts only, as Dovecot: an attachment's bytes
		   are not the message's text */
		if (part->type != NULL && part->type[0] != '\0' &&
		    strcasecmp(part->type, "text") != 0)
			return false;
		if (mime_decode_part_text(part, sm->data.data, &text) == 0)
			found = text_has(&text, key);
		buf_deinit(&text);
		return found;
	}
	for (part = part->children; part != NULL && !found;
	     part = part->next)
		found = match_parts(sm, part, key, headers);
	return found;
}

static bool
match_body(struct search_msg *sm, const struct search_key *key,
	   bool headers)
{
	/* every body holds the empty string, even one without text */
	if (key->folded.len == 0)
		return true;
	return load(sm) && match_parts(sm, sm->mime->root, key, headers);
}

/* The day of the Date: field in its own zone (RFC 3501 §6.4.4);
   without a parsable one, the INTERNALDATE's day as SORT takes it
   (RFC 5256 §2.2), so SEARCH and SORT agree on every message. */
static int64_t
sent_day(struct search_msg *sm)
{
	buf_t value = BUF_INIT;
	const unsigned char *data;
	size_t len;
	time_t t;
	int tz;
	int64_t day = sm->msg->internal_date / 86400;

	if (header_block(sm, "Date", &data, &len) &&
	    mime_header_find(data, len, "Date", &value) == 1 &&
	    mime_date_parse(value.data, value.len, &t, &tz) == 0)
		day = ((int64_t)t + tz * 60) / 86400;
	buf_deinit(&value);
	return day;
}

static bool
match_day(enum key_type type, int64_t day, int64_t want)
{
	switch (type) {
	case KEY_BEFORE:
	case KEY_SENTBEFORE:
	case KEY_SAVEDBEFORE:
		return day < want;
	case KEY_ON:
	case KEY_SENTON:
	case KEY_SAVEDON:
		return day == want;
	default:
		return day >= want;
	}
}

static bool match(struct search_msg *sm, const struct search_key *key);

static bool
match_set(struct search_msg *sm, const struct search_key *key)
{
	struct imap_conn *conn = sm->conn;
	uint32_t n = key->type == KEY_UID ? sm->msg->uid : sm->seq;
	uint32_t star = key->type == KEY_UID ?
		(conn->uid_count > 0 ? conn->uids[conn->uid_count - 1] : 0) :
		conn->uid_count;
	unsigned int i;

	if (key->set.dollar)
		return bsearch(&sm->msg->uid, conn->searchres.uids,
			       conn->searchres.count, sizeof(uint32_t),
			       imap_uid_cmp) != NULL;
	for (i = 0; i < key->set.count; i++) {
		uint32_t a = key->set.ranges[i].first;
		uint32_t b = key->set.ranges[i].last;

		a = a == IMAP_SEQSET_STAR ? star : a;
		b = b == IMAP_SEQSET_STAR ? star : b;
		if ((n >= a && n <= b) || (n >= b && n <= a))
			return true;
	}
	return false;
}

static bool
match_keyword(struct search_msg *sm, const char *name)
{
	unsigned int i;

	if (store_mailbox_keyword_lookup(sm->conn->box, name, false,
					 &i) < 0)
		return false;
	return (sm->msg->flags & STORE_FLAG_KEYWORD(i)) != 0;
}

static bool
match(struct search_msg *sm, const struct search_key *key)
{
	const struct search_key *k;

	switch (key->type) {
	case KEY_ALL:
	case KEY_OLD:
		return true;
	case KEY_NEW:
	case KEY_RECENT:
		return false;   /* \Recent is not kept */
	case KEY_FLAG:
		return (sm->msg->flags & key->flag) != 0;
	case KEY_NOFLAG:
		return (sm->msg->flags & key->flag) == 0;
	case KEY_KEYWORD:
		return match_keyword(sm, key->str);
	case KEY_UNKEYWORD:
		return !match_keyword(sm, key->str);
	case KEY_LARGER:
		return sm->msg->size > key->num;
	case KEY_SMALLER:
		return sm->msg->size < key->num;
	case KEY_MODSEQ:
		return sm->msg->modseq >= key->num;
	case KEY_BEFORE:
	case KEY_ON:
	case KEY_SINCE:
		return match_day(key->type, sm->msg->internal_date / 86400,
				 key->day);
	case KEY_SAVEDBEFORE:
	case KEY_SAVEDON:
	case KEY_SAVEDSINCE:
		/* the save date as the internal date: in UTC */
		return sm->msg->save_date > 0 &&
			match_day(key->type, sm->msg->save_date / 86400,
				  key->day);
	case KEY_SENTBEFORE:
	case KEY_SENTON:
	case KEY_SENTSINCE:
		return match_day(key->type, sent_day(sm), key->day);
	case KEY_HEADER:
		return match_header(sm, key->field, key);
	case KEY_BODY:
		return match_body(sm, key, false);
	case KEY_TEXT:
		return match_header(sm, NULL, key) ||
			match_body(sm, key, true);
	case KEY_UID:
	case KEY_SEQSET:
		return match_set(sm, key);
	case KEY_NOT:
		return !match(sm, key->a);
	case KEY_OR:
		return match(sm, key->a) || match(sm, key->b);
	case KEY_AND:
		for (k = key->a; k != NULL; k = k->next) {
			if (!match(sm, k))
				return false;
		}
		return true;
	}
	return false;
}

/* ---- the command ---- */

/* The ESEARCH response of RFC 4731 §3.1 for the matches. */
static void
append_esearch(struct imap_conn *conn, const struct search_ctx *ctx,
	       const struct uid_array *hits)
{
	buf_t *out = &conn->job_out;

	buf_printf(out, "* ESEARCH (TAG \"%s\")%s", conn->cmd.tag,
		   conn->uid ? " UID" : "");
	if (hits->count > 0 && (ctx->ret & RET_MIN) != 0)
		buf_printf(out, " MIN %u", hits->uids[0]);
	if (hits->count > 0 && (ctx->ret & RET_MAX) != 0)
		buf_printf(out, " MAX %u", hits->uids[hits->count - 1]);
	if ((ctx->ret & RET_COUNT) != 0)
		buf_printf(out, " COUNT %u", hits->count);
	if (hits->count > 0 && (ctx->ret & RET_ALL) != 0) {
		buf_append_str(out, " ALL ");
		imap_uidset_append(out, hits->uids, hits->count);
	}
	buf_append_str(out, "\r\n");
}

/* RFC 5182 §2.4: SAVE with MIN and/or MAX but neither ALL nor COUNT
   keeps only the lowest and/or highest match. */
static void
save_min_max(unsigned int ret, struct uid_array *saved)
{
	uint32_t lo, hi;

	if ((ret & (RET_MIN | RET_MAX)) == 0 ||
	    (ret & (RET_ALL | RET_COUNT)) != 0 || saved->count == 0)
		return;
	lo = saved->uids[0];
	hi = saved->uids[saved->count - 1];
	saved->count = 0;
	if ((ret & RET_MIN) != 0)
		uid_array_add(saved, lo);
	if ((ret & RET_MAX) != 0 && (hi != lo || (ret & RET_MIN) == 0))
		uid_array_add(saved, hi);
}

static void
search_run(struct imap_conn *conn)
{
	struct search_ctx *ctx = conn->job_ctx;
	const struct store_msg *msgs = store_mailbox_msgs(conn->box);
	struct search_msg sm = { .conn = conn };
	struct uid_array hits = { 0 }, saved = { 0 };
	unsigned int i;
	uint32_t seq;
	uint64_t highest = 0;

	for (i = 0; i < conn->uid_count; i++) {
		seq = store_mailbox_seq(conn->box, conn->uids[i]);
		if (seq == 0)
			continue;
		sm.msg = &msgs[seq - 1];
		sm.seq = i + 1;
		sm.loaded = false;
		sm.hdr_loaded = false;
		if (match(&sm, ctx->root)) {
			uid_array_add(&hits, conn->uid ? conn->uids[i] :
				      i + 1);
			if (sm.msg->modseq > highest)
				highest = sm.msg->modseq;
			if ((ctx->ret & RET_SAVE) != 0)
				uid_array_add(&saved, conn->uids[i]);
		}
		mime_message_free(&sm.mime);
	}
	if ((ctx->ret & RET_SAVE) != 0) {
		save_min_max(ctx->ret, &saved);
		uid_array_free(&conn->searchres);
		conn->searchres = saved;
	}
	if (ctx->ret == RET_SAVE) {
		/* RFC 5182 §2.4: SAVE alone answers nothing untagged */
	} else if (ctx->esearch) {
		append_esearch(conn, ctx, &hits);
		if (ctx->modseq && hits.count > 0) {
			/* before the CRLF: RFC 7162 §3.1.5 */
			buf_truncate(&conn->job_out, conn->job_out.len - 2);
			buf_printf(&conn->job_out, " MODSEQ %llu\r\n",
				   (unsigned long long)highest);
		}
	} else {
		buf_append_str(&conn->job_out, "* SEARCH");
		for (i = 0; i < hits.count; i++)
			buf_printf(&conn->job_out, " %u", hits.uids[i]);
		if (ctx->modseq && hits.count > 0)
			buf_printf(&conn->job_out, " (MODSEQ %llu)",
				   (unsigned long long)highest);
		buf_append_str(&conn->job_out, "\r\n");
	}
	uid_array_free(&hits);
	buf_deinit(&sm.data);
	buf_deinit(&sm.hdr);
	imap_job_tagged(conn, "OK %sSEARCH completed.",
			conn->uid ? "UID " : "");
}

static void
search_ctx_free(struct imap_conn *conn)
{
	struct search_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	key_free(ctx->root);
	free(ctx);
	conn->job_ctx = NULL;
}

/* The charsets BADCHARSET names (RFC 9051 §7.1); others iconv knows
   work too. */
#define SEARCH_CHARSETS "UTF-8 US-ASCII ISO-8859-1 ISO-8859-2 " \
	"ISO-8859-5 ISO-8859-7 ISO-8859-15 WINDOWS-1250 WINDOWS-1251 " \
	"WINDOWS-1252 KOI8-R ISO-2022-JP EUC-JP SHIFT_JIS GB2312 GBK " \
	"GB18030 BIG5 EUC-KR"

/* A CHARSET SEARCH can convert its strings from. */
static bool
search_charset_ok(const char *charset)
{
	buf_t probe = BUF_INIT;
	bool ok = mime_charset_to_utf8(charset,
				       (const unsigned char *)"", 0,
				       &probe) == 0;

	buf_deinit(&probe);
	return ok;
}

int
imap_return_parse(const struct imap_arg *arg, unsigned int *ret_r)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} opts[] = {
		{ "MIN", RET_MIN }, { "MAX", RET_MAX },
		{ "COUNT", RET_COUNT }, { "ALL", RET_ALL },
		{ "SAVE", RET_SAVE },
	};
	const struct imap_arg *list;
	unsigned int count, i, j, ret = 0;
	const char *name;

	if (!imap_arg_get_list(arg, &list, &count))
		return -1;
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name))
			return -1;
		for (j = 0; j < N_ELEMENTS(opts); j++) {
			if (strcasecmp(name, opts[j].name) == 0)
				break;
		}
		if (j == N_ELEMENTS(opts))
			return -1;
		ret |= opts[j].bit;
	}
	*ret_r = ret == 0 ? RET_ALL : ret;
	return 0;
}

void
cmd_search_args(struct imap_conn *conn, const struct imap_arg *args,
		unsigned int count)
{
	struct search_parser p = {
		.conn = conn, .args = args, .count = count,
	};
	struct search_ctx *ctx = i_malloc(sizeof(*ctx));
	const char *name, *charset;

	if (count >= 2 && imap_arg_get_atom(&args[0], &name) &&
	    strcasecmp(name, "RETURN") == 0) {
		if (imap_return_parse(&args[1], &ctx->ret) < 0) {
			free(ctx);
			imap_conn_bad(conn, "Invalid SEARCH RETURN options.");
			return;
		}
		ctx->esearch = true;
		p.pos = 2;
	}
	if (!ctx->esearch && (conn->enabled & IMAP_ENABLED_IMAP4REV2) != 0) {
		/* RFC 9051 §6.4.4: no SEARCH response; RETURN () */
		ctx->esearch = true;
		ctx->ret = RET_ALL;
	}
	if (count >= p.pos + 2 && imap_arg_get_atom(&args[p.pos], &name) &&
	    strcasecmp(name, "CHARSET") == 0) {
		if (!imap_arg_get_astring(&args[p.pos + 1], &charset) ||
		    !search_charset_ok(charset)) {
			free(ctx);
			imap_conn_tagged(conn, "NO [BADCHARSET ("
					 SEARCH_CHARSETS ")] Unsupported "
					 "charset.");
			return;
		}
		if (strcasecmp(charset, "UTF-8") != 0 &&
		    strcasecmp(charset, "US-ASCII") != 0)
			p.charset = charset;
		p.pos += 2;
	}
	ctx->root = parse_and(&p, 0);
	ctx->modseq = p.modseq;
	if (p.modseq)
		imap_condstore_enable(conn);
	if (ctx->root == NULL) {
		free(ctx);
		imap_conn_bad(conn, p.error);
		return;
	}
	conn->job_ctx = ctx;
	imap_conn_job(conn, search_run, search_ctx_free,
		      IMAP_SYNC_NO_EXPUNGES);
}

void
cmd_search(struct imap_conn *conn)
{
	cmd_search_args(conn, conn->cmd.args, conn->cmd.arg_count);
}

/* ---- the program for SORT and THREAD (RFC 5256 §3: SEARCH's keys) ---- */

struct imap_search {
	struct search_key *root;
	bool modseq;
};

bool
imap_search_charset_ok(const char *charset)
{
	return search_charset_ok(charset);
}

struct imap_search *
imap_search_parse(struct imap_conn *conn, const struct imap_arg *args,
		  unsigned int count, const char *charset,
		  const char **error_r)
{
	struct search_parser p = {
		.conn = conn, .args = args, .count = count,
	};
	struct imap_search *search;
	struct search_key *root;

	i_assert(imap_search_charset_ok(charset));
	/* UTF-8 and US-ASCII need no conversion of the key strings */
	if (strcasecmp(charset, "UTF-8") != 0 &&
	    strcasecmp(charset, "US-ASCII") != 0)
		p.charset = charset;
	if (count == 0) {
		*error_r = "Missing search criteria.";
		return NULL;
	}
	root = parse_and(&p, 0);
	if (root == NULL) {
		*error_r = p.error;
		return NULL;
	}
	if (p.modseq)
		imap_condstore_enable(conn);
	search = i_malloc(sizeof(*search));
	search->root = root;
	search->modseq = p.modseq;
	return search;
}

bool
imap_search_match(struct imap_conn *conn, struct imap_search *search,
		  uint32_t seq, const struct store_msg *msg)
{
	struct search_msg sm = { .conn = conn, .msg = msg, .seq = seq };
	bool ret;

	ret = match(&sm, search->root);
	mime_message_free(&sm.mime);
	buf_deinit(&sm.data);
	buf_deinit(&sm.hdr);
	return ret;
}

bool
imap_search_has_modseq(const struct imap_search *search)
{
	return search->modseq;
}

void
imap_search_free(struct imap_search **search)
{
	if (*search == NULL)
		return;
	key_free((*search)->root);
	i_free(*search);
}
