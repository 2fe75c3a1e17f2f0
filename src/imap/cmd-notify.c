/* SPDX-License-Identifier: MIT */
/*
 * cmd-notify.c: NOTIFY (RFC 5465): what a session asked to hear about
 * (NOTIFY SET, NOTIFY NONE), and the check that turns changes into
 * unsolicited responses: EXISTS/EXPUNGE/FETCH for the selected mailbox
 * (through imap-sync.c), STATUS for other mailboxes, LIST for mailbox
 * names and subscriptions. imap-idle.c owns the inotify watches and
 * runs the check as a background job between commands and during IDLE.
 * Part of src/imap.
 *
 * Which mailboxes: the filters are resolved against the account's
 * mailbox list on a worker (at NOTIFY SET and on every list check), at
 * most IMAP_NOTIFY_MAILBOXES_MAX of them, each watched through its
 * index file (store_mailbox_watch_path). Mailbox creation, deletion,
 * renames and subscriptions are seen by comparing the mailbox and
 * subscription lists every IMAP_NOTIFY_LIST_MSECS while the session
 * asked for them or for a filter whose set can grow; METADATA entries
 * (RFC 5464) are compared at the same time for the mailboxes (and the
 * server) whose changes were asked for, as name + value digest.
 */
#include "imap-private.h"
#include "log.h"
#include "store.h"
#include "store-metadata.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Filters per NOTIFY SET, and mailbox names per filter. */
#define NOTIFY_FILTERS_MAX 32
#define NOTIFY_FILTER_NAMES_MAX 64

enum notify_filter_type {
	NOTIFY_FILTER_SELECTED,
	NOTIFY_FILTER_SELECTED_DELAYED,
	NOTIFY_FILTER_INBOXES,
	NOTIFY_FILTER_PERSONAL,
	NOTIFY_FILTER_SUBSCRIBED,
	NOTIFY_FILTER_SUBTREE,
	NOTIFY_FILTER_MAILBOXES,
};

struct notify_filter {
	enum notify_filter_type type;
	char **names;           /* SUBTREE, MAILBOXES: UTF-8 names */
	unsigned int name_count;
	unsigned int events;
};

/* METADATA entries as "name value-digest" strings, sorted. */
struct notify_meta {
	char **items;
	unsigned int count;
	bool known;
};

struct notify_box {
	char *name;
	struct notify_meta meta;
	char *path;             /* the watch path, NULL: polled */
	int wd;                 /* -1: not watched (polled) */
	unsigned int events;
	struct mailbox_status st;
	bool have_st;
	bool dirty;
};

struct imap_notify {
	struct notify_filter filters[NOTIFY_FILTERS_MAX];
	unsigned int filter_count;
	unsigned int selected_events;
	bool selected_delayed;
	/* MessageNew's fetch attributes for the selected mailbox */
	struct imap_fetch_items *fetch_items;
	bool status;            /* NOTIFY SET STATUS: first check sends it */

	struct notify_box *boxes;
	unsigned int box_count;
	/* the last lists seen, for MailboxName and SubscriptionChange */
	char **names;
	unsigned int name_count;
	char **subs;
	unsigned int sub_count;
	bool have_lists;
	/* the login NOTIFY SET was made in */
	struct account *account;
	char *user;
	/* a filter beside "selected" asks for something */
	bool needs_lists;
	/* ServerMetadataChange */
	bool server_meta_events;
	struct notify_meta server_meta;

	bool list_dirty;        /* the list timer fired */
	bool sel_dirty;         /* the selected mailbox's watch fired */
	bool overflow;          /* the worker gave up: NOTIFY NONE */
	/* set by the worker: watches to add, in boxes[], and to drop */
	bool rewatch;
	int *drop_wds;
	unsigned int drop_count;
	/* The watches held, for the loop thread alone (other sessions ask
	   while a job may be rebuilding boxes[]). */
	int *live_wds;
	unsigned int live_count;
};

/* ---- helpers ---- */

static void
names_free(char ***names, unsigned int *count)
{
	store_names_free(names, *count);
	*count = 0;
}

static bool
name_in(char *const *names, unsigned int count, const char *name)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

static void
meta_free(struct notify_meta *meta)
{
	store_names_free(&meta->items, meta->count);
	meta->count = 0;
	meta->known = false;
}

static void
boxes_free(struct imap_notify *notify)
{
	unsigned int i;

	for (i = 0; i < notify->box_count; i++) {
		free(notify->boxes[i].name);
		free(notify->boxes[i].path);
		meta_free(&notify->boxes[i].meta);
	}
	i_free(notify->boxes);
	notify->box_count = 0;
}

static void
notify_destroy(struct imap_notify **_notify)
{
	struct imap_notify *notify = *_notify;
	unsigned int i, j;

	if (notify == NULL)
		return;
	*_notify = NULL;
	for (i = 0; i < notify->filter_count; i++) {
		for (j = 0; j < notify->filters[i].name_count; j++)
			free(notify->filters[i].names[j]);
		free(notify->filters[i].names);
	}
	boxes_free(notify);
	imap_fetch_items_free(&notify->fetch_items);
	meta_free(&notify->server_meta);
	free(notify->drop_wds);
	free(notify->live_wds);
	names_free(&notify->names, &notify->name_count);
	names_free(&notify->subs, &notify->sub_count);
	free(notify->user);
	free(notify);
}

/* ---- parsing NOTIFY SET ---- */

#define EV_NEW IMAP_NOTIFY_MESSAGE_NEW
#define EV_EXPUNGE IMAP_NOTIFY_MESSAGE_EXPUNGE
#define EV_FLAGS IMAP_NOTIFY_FLAG_CHANGE
#define EV_NAME IMAP_NOTIFY_MAILBOX_NAME
#define EV_SUBS IMAP_NOTIFY_SUBSCRIPTION_CHANGE
#define EV_META 0x20u           /* MailboxMetadataChange */
#define EV_SERVER_META 0x40u    /* ServerMetadataChange */
#define EV_BOX (EV_NEW | EV_EXPUNGE | EV_FLAGS | EV_META)

/* RFC 5465 §8: what NO [BADEVENT] lists. */
#define SUPPORTED_EVENTS "MessageNew MessageExpunge FlagChange " \
	"MailboxName SubscriptionChange MailboxMetadataChange " \
	"ServerMetadataChange"

/* MessageNew's "(fetch-att ...)" (§5.1): selected mailbox only. 0, or
   -1 after the reply. */
static int
parse_fetch_items(struct imap_conn *conn, struct imap_notify *notify,
		  const struct imap_arg *arg, bool selected)
{
	const char *error;

	if (!selected || notify->fetch_items != NULL) {
		imap_conn_bad(conn, "NOTIFY: fetch attributes only once, "
			      "for the selected mailbox.");
		return -1;
	}
	notify->fetch_items = imap_fetch_items_parse(conn, arg, &error);
	if (notify->fetch_items == NULL) {
		imap_conn_bad(conn, error);
		return -1;
	}
	return 0;
}

/* Events of a group: 0 with *events_r, or -1 after the reply. */
static int
parse_events(struct imap_conn *conn, struct imap_notify *notify,
	     const struct imap_arg *arg, bool selected,
	     unsigned int *events_r)
{
	const struct imap_arg *list;
	unsigned int count, i, events = 0;
	const char *name;

	if (imap_arg_get_atom(arg, &name) && strcasecmp(name, "NONE") == 0) {
		*events_r = 0;
		return 0;
	}
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		imap_conn_bad(conn, "NOTIFY: invalid event list.");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &name)) {
			imap_conn_bad(conn, "NOTIFY: invalid event.");
			return -1;
		}
		if (strcasecmp(name, "MessageNew") == 0) {
			events |= EV_NEW;
			if (i + 1 < count && list[i + 1].type == IMAP_ARG_LIST &&
			    parse_fetch_items(conn, notify, &list[++i],
					      selected) < 0)
				return -1;
		} else if (strcasecmp(name, "MessageExpunge") == 0)
			events |= EV_EXPUNGE;
		else if (strcasecmp(name, "FlagChange") == 0)
			events |= EV_FLAGS;
		else if (strcasecmp(name, "MailboxName") == 0)
			events |= EV_NAME;
		else if (strcasecmp(name, "SubscriptionChange") == 0)
			events |= EV_SUBS;
		else if (strcasecmp(name, "MailboxMetadataChange") == 0)
			events |= EV_META;
		else if (strcasecmp(name, "ServerMetadataChange") == 0)
			events |= EV_SERVER_META;
		else if (strcasecmp(name, "AnnotationChange") == 0) {
			/* no ANNOTATE (RFC 5257) */
			imap_conn_tagged(conn, "NO [BADEVENT ("
					 SUPPORTED_EVENTS ")] %s is not "
					 "supported.", name);
			return -1;
		} else {
			imap_conn_bad(conn, "NOTIFY: unknown event.");
			return -1;
		}
	}
	/* §5.1, §5.2, §5.3: new and expunge come together; FlagChange
	   needs both. */
	if (((events & EV_NEW) != 0) != ((events & EV_EXPUNGE) != 0) ||
	    ((events & EV_FLAGS) != 0 && (events & EV_NEW) == 0)) {
		imap_conn_bad(conn, "NOTIFY: MessageNew and MessageExpunge "
			      "go together, FlagChange needs both.");
		return -1;
	}
	*events_r = events;
	return 0;
}

/* The mailbox names after "subtree" or "mailboxes": 0, or -1 after the
   reply. */
static int
parse_names(struct imap_conn *conn, const struct imap_arg *arg,
	    struct notify_filter *filter)
{
	const struct imap_arg *list = arg;
	unsigned int count = 1, i;
	const char *name;
	char *utf8;

	if (arg->type == IMAP_ARG_LIST)
		(void)imap_arg_get_list(arg, &list, &count);
	if (count == 0 || count > NOTIFY_FILTER_NAMES_MAX) {
		imap_conn_bad(conn, "NOTIFY: invalid mailbox list.");
		return -1;
	}
	filter->names = i_malloc(sizeof(char *) * count);
	for (i = 0; i < count; i++) {
		if (!imap_arg_get_astring(&list[i], &name) ||
		    (utf8 = imap_mailbox_pattern_in(conn, name)) == NULL) {
			imap_conn_bad(conn, "NOTIFY: invalid mailbox name.");
			return -1;
		}
		imap_mailbox_normalise_inbox(utf8);
		filter->names[filter->name_count++] = utf8;
	}
	return 0;
}

static const struct {
	const char *name;
	enum notify_filter_type type;
	bool has_names;
} filter_names[] = {
	{ "selected", NOTIFY_FILTER_SELECTED, false },
	{ "selected-delayed", NOTIFY_FILTER_SELECTED_DELAYED, false },
	{ "inboxes", NOTIFY_FILTER_INBOXES, false },
	{ "personal", NOTIFY_FILTER_PERSONAL, false },
	{ "subscribed", NOTIFY_FILTER_SUBSCRIBED, false },
	{ "subtree", NOTIFY_FILTER_SUBTREE, true },
	{ "mailboxes", NOTIFY_FILTER_MAILBOXES, true },
};

/* One "(filter-mailboxes events)": 0, or -1 after the reply. */
static int
parse_group(struct imap_conn *conn, struct imap_notify *notify,
	    const struct imap_arg *arg)
{
	struct notify_filter *filter;
	const struct imap_arg *list;
	unsigned int count, i;
	const char *name;

	if (!imap_arg_get_list(arg, &list, &count) || count < 2 ||
	    !imap_arg_get_atom(&list[0], &name)) {
		imap_conn_bad(conn, "NOTIFY: invalid event group.");
		return -1;
	}
	for (i = 0; i < N_ELEMENTS(filter_names); i++) {
		if (strcasecmp(filter_names[i].name, name) == 0)
			break;
	}
	if (i == N_ELEMENTS(filter_names) ||
	    count != (filter_names[i].has_names ? 3u : 2u)) {
		imap_conn_bad(conn, "NOTIFY: invalid mailbox filter.");
		return -1;
	}
	if (notify->filter_count == NOTIFY_FILTERS_MAX) {
		imap_conn_bad(conn, "NOTIFY: too many event groups.");
		return -1;
	}
	filter = &notify->filters[notify->filter_count++];
	filter->type = filter_names[i].type;
	if (filter_names[i].has_names &&
	    parse_names(conn, &list[1], filter) < 0)
		return -1;
	if (parse_events(conn, notify, &list[count - 1],
			 filter->type == NOTIFY_FILTER_SELECTED ||
			 filter->type == NOTIFY_FILTER_SELECTED_DELAYED,
			 &filter->events) < 0)
		return -1;
	/* §5.7: a user event, whatever the filter */
	if ((filter->events & EV_SERVER_META) != 0)
		notify->server_meta_events = true;
	if (filter->type == NOTIFY_FILTER_SELECTED ||
	    filter->type == NOTIFY_FILTER_SELECTED_DELAYED) {
		notify->selected_events = filter->events;
		notify->selected_delayed =
			filter->type == NOTIFY_FILTER_SELECTED_DELAYED;
	} else if (filter->events != 0) {
		notify->needs_lists = true;
	}
	if (notify->server_meta_events)
		notify->needs_lists = true;
	return 0;
}

/* ---- resolving the filters (worker) ---- */

static bool
filter_matches(const struct notify_filter *filter, const char *name,
	       char *const *subs, unsigned int sub_count)
{
	unsigned int i;
	size_t len;

	switch (filter->type) {
	case NOTIFY_FILTER_SELECTED:
	case NOTIFY_FILTER_SELECTED_DELAYED:
		return false;
	case NOTIFY_FILTER_INBOXES:
		/* delivery goes to INBOX only */
		return strcmp(name, "INBOX") == 0;
	case NOTIFY_FILTER_PERSONAL:
		return true;
	case NOTIFY_FILTER_SUBSCRIBED:
		return name_in(subs, sub_count, name);
	case NOTIFY_FILTER_MAILBOXES:
		return name_in(filter->names, filter->name_count, name);
	case NOTIFY_FILTER_SUBTREE:
		for (i = 0; i < filter->name_count; i++) {
			len = strlen(filter->names[i]);
			if (strncmp(name, filter->names[i], len) == 0 &&
			    (name[len] == '\0' || name[len] == '/'))
				return true;
		}
		return false;
	}
	return false;
}

/* The events the client wants for a mailbox that is not selected: the
   first filter that names it decides, so a client writes the specific
   ones ("mailboxes Lists/x NONE") before the broad ones. */
static unsigned int
box_events(const struct imap_notify *notify, const char *name,
	   char *const *subs, unsigned int sub_count)
{
	unsigned int i;

	for (i = 0; i < notify->filter_count; i++) {
		if (filter_matches(&notify->filters[i], name, subs,
				   sub_count))
			return notify->filters[i].events;
	}
	return 0;
}

static struct notify_box *
box_find(struct imap_notify *notify, const char *name)
{
	unsigned int i;

	for (i = 0; i < notify->box_count; i++) {
		if (strcmp(notify->boxes[i].name, name) == 0)
			return &notify->boxes[i];
	}
	return NULL;
}

/* The watch path of a mailbox (opens it: reads its index). */
static char *
box_watch_path(struct imap_conn *conn, const char *name)
{
	struct mailbox *box;
	char *path;

	if (store_mailbox_open(conn->account, name, &box) < 0) {
		store_clear_error();    /* polled instead */
		return NULL;
	}
	path = i_strdup(store_mailbox_watch_path(box));
	store_mailbox_close(&box);
	return path;
}

/* Worker: the watches of boxes no longer in the set, for the loop
   thread to remove. */
static void
drop_unused(struct imap_notify *notify, const struct notify_box *boxes,
	    unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < notify->box_count; i++) {
		if (notify->boxes[i].wd == -1)
			continue;
		for (j = 0; j < count; j++) {
			if (boxes[j].wd == notify->boxes[i].wd)
				break;
		}
		if (j < count)
			continue;
		notify->drop_wds = i_realloc(notify->drop_wds,
					     sizeof(int) *
					     (notify->drop_count + 1));
		notify->drop_wds[notify->drop_count++] = notify->boxes[i].wd;
		notify->rewatch = true;
	}
}

/*
 * Worker: the mailboxes to watch now, keeping what is known of those
 * already watched. -1 when there would be more than
 * IMAP_NOTIFY_MAILBOXES_MAX.
 */
static int
boxes_resolve(struct imap_conn *conn, struct imap_notify *notify,
	      char **names, unsigned int name_count, char **subs,
	      unsigned int sub_count)
{
	struct notify_box *boxes, *box, *old;
	unsigned int i, count = 0, events;

	boxes = i_malloc(sizeof(*boxes) * (name_count + 1));
	for (i = 0; i < name_count; i++) {
		events = box_events(notify, names[i], subs, sub_count);
		if ((events & EV_BOX) == 0)
			continue;
		if (count == IMAP_NOTIFY_MAILBOXES_MAX) {
			while (count > 0) {
				count--;
				free(boxes[count].name);
				free(boxes[count].path);
			}
			free(boxes);
			return -1;
		}
		box = &boxes[count++];
		box->events = events;
		box->name = i_strdup(names[i]);
		box->wd = -1;
		old = box_find(notify, names[i]);
		if (old != NULL) {
			box->st = old->st;
			box->have_st = old->have_st;
			box->wd = old->wd;
			box->dirty = old->dirty;
			box->path = old->path != NULL ?
				i_strdup(old->path) : NULL;
			/* the old set is freed below: take its lists */
			box->meta = old->meta;
			memset(&old->meta, 0, sizeof(old->meta));
		} else {
			box->dirty = true;
			notify->rewatch = true;
		}
		if (box->path == NULL)
			box->path = box_watch_path(conn, names[i]);
	}
	drop_unused(notify, boxes, count);
	boxes_free(notify);
	notify->boxes = boxes;
	notify->box_count = count;
	return 0;
}

/* ---- the check (worker) ---- */

static void
append_list(struct imap_conn *conn, buf_t *out, const char *attrs,
	    const char *name, const char *old_name)
{
	buf_printf(out, "* LIST (%s) \"/\" ", attrs);
	imap_mailbox_name_out(conn, out, name);
	if (old_name != NULL) {
		/* RFC 5465 §5.4 with RFC 5258's OLDNAME extended data */
		buf_append_str(out, " (\"OLDNAME\" (");
		imap_mailbox_name_out(conn, out, old_name);
		buf_append_str(out, "))");
	}
	buf_append_str(out, "\r\n");
}

static bool
wants_name_event(const struct imap_notify *notify, const char *name,
		 char *const *subs, unsigned int sub_count, unsigned int ev)
{
	return (box_events(notify, name, subs, sub_count) & ev) != 0;
}

/* MailboxName (§5.4): LIST for created, deleted and renamed mailboxes;
   a check that saw exactly one go and one come reports a rename. */
static void
list_changes(struct imap_conn *conn, struct imap_notify *notify,
	     char **names, unsigned int name_count, buf_t *out)
{
	const char *gone = NULL, *came = NULL;
	unsigned int i, gone_count = 0, came_count = 0;

	for (i = 0; i < notify->name_count; i++) {
		if (!name_in(names, name_count, notify->names[i])) {
			gone = notify->names[i];
			gone_count++;
		}
	}
	for (i = 0; i < name_count; i++) {
		if (!name_in(notify->names, notify->name_count, names[i])) {
			came = names[i];
			came_count++;
		}
	}
	if (gone_count == 1 && came_count == 1 &&
	    wants_name_event(notify, came, notify->subs,
				     notify->sub_count, EV_NAME)) {
		append_list(conn, out, "", came, gone);
		return;
	}
	for (i = 0; i < notify->name_count; i++) {
		if (!name_in(names, name_count, notify->names[i]) &&
		    wants_name_event(notify, notify->names[i], notify->subs,
				     notify->sub_count, EV_NAME))
			append_list(conn, out, "\\NonExistent",
				    notify->names[i], NULL);
	}
	for (i = 0; i < name_count; i++) {
		if (!name_in(notify->names, notify->name_count, names[i]) &&
		    wants_name_event(notify, names[i], notify->subs,
				     notify->sub_count, EV_NAME))
			append_list(conn, out, "", names[i], NULL);
	}
}

/* SubscriptionChange (§5.5): LIST with or without \Subscribed. */
static void
subscription_changes(struct imap_conn *conn, struct imap_notify *notify,
		     char **subs, unsigned int sub_count, buf_t *out)
{
	unsigned int i;

	for (i = 0; i < sub_count; i++) {
		if (!name_in(notify->subs, notify->sub_count, subs[i]) &&
		    wants_name_event(notify, subs[i], subs, sub_count,
				     EV_SUBS))
			append_list(conn, out, "\\Subscribed", subs[i], NULL);
	}
	for (i = 0; i < notify->sub_count; i++) {
		if (!name_in(subs, sub_count, notify->subs[i]) &&
		    wants_name_event(notify, notify->subs[i], notify->subs,
				     notify->sub_count, EV_SUBS))
			append_list(conn, out, "", notify->subs[i], NULL);
	}
}

/* The selectable mailboxes, sorted (as store_mailbox_list gives them). */
static int
mailbox_names(struct imap_conn *conn, char ***names_r, unsigned int *count_r)
{
	struct mailbox_info *infos;
	unsigned int count, i, n = 0;
	char **names;

	if (store_mailbox_list(conn->account, &infos, &count) < 0)
		return -1;
	names = i_malloc(sizeof(char *) * (count + 1));
	for (i = 0; i < count; i++) {
		if (infos[i].selectable)
			names[n++] = i_strdup(infos[i].name);
	}
	store_mailbox_infos_free(&infos, count);
	*names_r = names;
	*count_r = n;
	return 0;
}

/* FNV-1a: a value's digest, to tell a changed value from the same. */
static uint64_t
digest(const unsigned char *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
meta_read(struct imap_conn *conn, const char *mailbox,
	  struct notify_meta *now)
{
	struct store_metadata_entry *entries;
	unsigned int count, i;

	if (store_metadata_get(conn->account, mailbox, &entries, &count) < 0) {
		store_clear_error();
		return -1;
	}
	now->items = i_malloc(sizeof(char *) * (count + 1));
	for (i = 0; i < count; i++) {
		now->items[i] = i_strdup_printf(
			"%s %016llx", entries[i].name,
			(unsigned long long)digest(entries[i].value,
						   entries[i].len));
	}
	now->count = count;
	now->known = true;
	store_metadata_entries_free(&entries, count);
	return 0;
}

static bool
meta_has_name(const struct notify_meta *meta, const char *item)
{
	size_t len = strcspn(item, " ");
	unsigned int i;

	for (i = 0; i < meta->count; i++) {
		if (strncmp(meta->items[i], item, len) == 0 &&
		    meta->items[i][len] == ' ')
			return true;
	}
	return false;
}

/* §5.6, §5.7: "* METADATA mailbox entry ..." (RFC 5464 §4.4.2) for
   entries set, changed or removed since the last look. */
static void
meta_check(struct imap_conn *conn, const char *mailbox,
	   struct notify_meta *meta, buf_t *out)
{
	struct notify_meta now = { NULL, 0, false };
	buf_t names = BUF_INIT;
	unsigned int i;

	if (meta_read(conn, mailbox, &now) < 0)
		return;
	for (i = 0; i < now.count && meta->known; i++) {
		if (!name_in(meta->items, meta->count, now.items[i]))
			buf_printf(&names, " %.*s",
				   (int)strcspn(now.items[i], " "),
				   now.items[i]);
	}
	for (i = 0; i < meta->count; i++) {
		if (!meta_has_name(&now, meta->items[i]))
			buf_printf(&names, " %.*s",
				   (int)strcspn(meta->items[i], " "),
				   meta->items[i]);
	}
	if (names.len > 0) {
		buf_append_str(out, "* METADATA ");
		if (mailbox == NULL)
			buf_append_str(out, "\"\"");
		else
			imap_mailbox_name_out(conn, out, mailbox);
		buf_append(out, names.data, names.len);
		buf_append_str(out, "\r\n");
	}
	buf_deinit(&names);
	meta_free(meta);
	*meta = now;
}

static void
meta_checks(struct imap_conn *conn, struct imap_notify *notify, buf_t *out)
{
	unsigned int i;

	for (i = 0; i < notify->box_count; i++) {
		if ((notify->boxes[i].events & EV_META) != 0)
			meta_check(conn, notify->boxes[i].name,
				   &notify->boxes[i].meta, out);
	}
	if (notify->server_meta_events)
		meta_check(conn, NULL, &notify->server_meta, out);
}

/* Worker: new lists; LIST for what changed; the watched set again. */
static int
lists_check(struct imap_conn *conn, struct imap_notify *notify, buf_t *out)
{
	char **names, **subs;
	unsigned int name_count, sub_count;

	if (mailbox_names(conn, &names, &name_count) < 0)
		return -1;
	if (store_subscription_list(conn->account, &subs, &sub_count) < 0) {
		store_names_free(&names, name_count);
		return -1;
	}
	if (notify->have_lists) {
		list_changes(conn, notify, names, name_count, out);
		subscription_changes(conn, notify, subs, sub_count, out);
	}
	names_free(&notify->names, &notify->name_count);
	names_free(&notify->subs, &notify->sub_count);
	notify->names = names;
	notify->name_count = name_count;
	notify->subs = subs;
	notify->sub_count = sub_count;
	notify->have_lists = true;
	if (boxes_resolve(conn, notify, names, name_count, subs,
			  sub_count) < 0)
		notify->overflow = true;
	else
		meta_checks(conn, notify, out);
	return 0;
}

static void
append_status(struct imap_conn *conn, buf_t *out, const char *name,
	      const struct mailbox_status *st, unsigned int events)
{
	buf_append_str(out, "* STATUS ");
	imap_mailbox_name_out(conn, out, name);
	buf_printf(out, " (MESSAGES %u UIDNEXT %u UIDVALIDITY %u",
		   st->messages, st->uidnext, st->uidvalidity);
	if ((events & EV_FLAGS) != 0 || (events & EV_NEW) != 0)
		buf_printf(out, " UNSEEN %u", st->unseen);
	if ((conn->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		buf_printf(out, " HIGHESTMODSEQ %llu",
			   (unsigned long long)st->highestmodseq);
	buf_append_str(out, ")\r\n");
}

/* Worker: STATUS for a mailbox whose status moved in a way the client
   asked to hear about (§5.1-§5.3). */
static void
box_check(struct imap_conn *conn, struct notify_box *box, bool force,
	  buf_t *out)
{
	struct mailbox_status st;
	bool changed;

	box->dirty = false;
	if (conn->box != NULL &&
	    strcmp(store_mailbox_name(conn->box), box->name) == 0)
		return;         /* the selected one: see "selected" */
	if (store_mailbox_status(conn->account, box->name, &st) < 0) {
		store_clear_error();
		return;
	}
	if (!box->have_st) {
		changed = force;
	} else if (st.uidvalidity != box->st.uidvalidity ||
		   st.uidnext != box->st.uidnext) {
		changed = (box->events & EV_NEW) != 0;
	} else if (st.messages != box->st.messages) {
		changed = (box->events & EV_EXPUNGE) != 0;
	} else {
		changed = (box->events & EV_FLAGS) != 0 &&
			(st.unseen != box->st.unseen ||
			 st.highestmodseq != box->st.highestmodseq);
	}
	box->st = st;
	box->have_st = true;
	if (changed)
		append_status(conn, out, box->name, &st, box->events);
}

static void
notify_check(struct imap_conn *conn, struct imap_notify *notify)
{
	buf_t out = BUF_INIT;
	unsigned int i;

	if (notify == NULL || notify->overflow)
		return;
	if (notify->list_dirty || !notify->have_lists) {
		notify->list_dirty = false;
		/* "selected" alone needs no lists (only its poll) */
		if (notify->needs_lists &&
		    lists_check(conn, notify, &out) < 0)
			store_clear_error();
	}
	for (i = 0; i < notify->box_count && !notify->overflow; i++) {
		if (notify->boxes[i].dirty)
			box_check(conn, &notify->boxes[i], notify->status,
				  &out);
	}
	notify->status = false;
	if (out.len > IMAP_NOTIFY_OUTPUT_MAX)
		notify->overflow = true;
	if (notify->overflow) {
		/* RFC 5465 §5.8: the client must resynchronise itself */
		buf_append_str(&conn->job_out, "* OK [NOTIFICATIONOVERFLOW] "
			       "Too many notifications, NOTIFY is off.\r\n");
	} else {
		buf_append(&conn->job_out, out.data, out.len);
	}
	buf_deinit(&out);
}

void
imap_notify_sync_selected(struct imap_conn *conn, enum imap_sync sync)
{
	struct imap_fetch_items *items = conn->notify == NULL ? NULL :
		conn->notify->fetch_items;
	uint32_t last = conn->uid_count == 0 ? 0 :
		conn->uids[conn->uid_count - 1];
	unsigned int i;

	if (imap_sync_run(conn, sync) < 0 || items == NULL)
		return;
	/* §5.1: the new messages' FETCH right after their EXISTS, at a
	   command's sync too */
	for (i = 0; i < conn->uid_count; i++) {
		if (conn->uids[i] <= last)
			continue;
		if (imap_fetch_items_write(conn, items, conn->uids[i]) < 0) {
			store_clear_error();
			break;
		}
	}
}

void
imap_notify_check_run(struct imap_conn *conn)
{
	notify_check(conn, conn->notify);
}

/* ---- the loop thread's side ---- */

bool
imap_notify_selected(struct imap_conn *conn, bool *delayed_r)
{
	if (conn->notify == NULL || conn->notify->overflow ||
	    conn->notify->selected_events == 0)
		return false;
	*delayed_r = conn->notify->selected_delayed;
	return true;
}

bool
imap_notify_pending(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->notify;
	unsigned int i;

	if (notify == NULL || notify->overflow)
		return false;
	if (notify->list_dirty || notify->sel_dirty || !notify->have_lists)
		return true;
	for (i = 0; i < notify->box_count; i++) {
		if (notify->boxes[i].dirty)
			return true;
	}
	return false;
}

bool
imap_notify_take_selected(struct imap_conn *conn)
{
	bool ret;

	if (conn->notify == NULL)
		return false;
	ret = conn->notify->sel_dirty;
	conn->notify->sel_dirty = false;
	return ret;
}

void
imap_notify_set_dirty(struct imap_conn *conn, bool lists, bool selected)
{
	unsigned int i;

	if (conn->notify == NULL)
		return;
	if (lists) {
		conn->notify->list_dirty = true;
		/* polled boxes (no watch) are checked with the lists */
		for (i = 0; i < conn->notify->box_count; i++) {
			if (conn->notify->boxes[i].wd == -1)
				conn->notify->boxes[i].dirty = true;
		}
	}
	if (selected)
		conn->notify->sel_dirty = true;
}

void
imap_notify_mark_all(struct imap_conn *conn)
{
	unsigned int i;

	if (conn->notify == NULL)
		return;
	for (i = 0; i < conn->notify->box_count; i++)
		conn->notify->boxes[i].dirty = true;
}

static void
live_add(struct imap_notify *notify, int wd)
{
	unsigned int i;

	for (i = 0; i < notify->live_count; i++) {
		if (notify->live_wds[i] == wd)
			return;
	}
	notify->live_wds = i_realloc(notify->live_wds, sizeof(int) *
				     (notify->live_count + 1));
	notify->live_wds[notify->live_count++] = wd;
}

static void
live_remove(struct imap_notify *notify, int wd)
{
	unsigned int i;

	for (i = 0; i < notify->live_count; i++) {
		if (notify->live_wds[i] == wd) {
			notify->live_wds[i] =
				notify->live_wds[--notify->live_count];
			return;
		}
	}
}

bool
imap_notify_wd_event(struct imap_conn *conn, int wd, bool ignored)
{
	struct imap_notify *notify = conn->notify;
	bool found = false;
	unsigned int i;

	if (notify == NULL)
		return false;
	for (i = 0; i < notify->box_count; i++) {
		if (notify->boxes[i].wd != wd)
			continue;
		notify->boxes[i].dirty = true;
		if (ignored) {
			notify->boxes[i].wd = -1;
			notify->rewatch = true;
		}
		found = true;
	}
	if (found && ignored)
		live_remove(notify, wd);        /* the kernel dropped it */
	return found;
}

bool
imap_notify_uses_wd(struct imap_conn *conn, int wd)
{
	unsigned int i;

	if (conn->notify == NULL)
		return false;
	for (i = 0; i < conn->notify->live_count; i++) {
		if (conn->notify->live_wds[i] == wd)
			return true;
	}
	return false;
}

void
imap_notify_rewatch(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->notify;
	unsigned int i;

	if (notify == NULL || !notify->rewatch)
		return;
	notify->rewatch = false;
	for (i = 0; i < notify->drop_count; i++) {
		live_remove(notify, notify->drop_wds[i]);
		imap_idle_unwatch_wd(conn->server, notify->drop_wds[i]);
	}
	i_free(notify->drop_wds);
	notify->drop_count = 0;
	for (i = 0; i < notify->box_count; i++) {
		if (notify->boxes[i].wd != -1 || notify->boxes[i].path == NULL)
			continue;
		notify->boxes[i].wd = imap_idle_watch_path(
			conn->server, notify->boxes[i].path);
		if (notify->boxes[i].wd != -1)
			live_add(notify, notify->boxes[i].wd);
	}
}

/* Drops conn's notify state and the watches only it held. */
void
imap_notify_deinit(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->notify;
	unsigned int i;

	if (notify == NULL)
		return;
	/* first, so that this session no longer counts as a user */
	conn->notify = NULL;
	for (i = 0; i < notify->live_count; i++)
		imap_idle_unwatch_wd(conn->server, notify->live_wds[i]);
	notify_destroy(&notify);
	/* the list timer and the selected mailbox's watch go too */
	imap_conn_notify_started(conn);
}

bool
imap_notify_owned(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->notify;

	return notify != NULL && conn->account == notify->account &&
		conn->user != NULL && strcmp(conn->user, notify->user) == 0;
}

bool
imap_notify_overflowed(struct imap_conn *conn)
{
	return conn->notify != NULL && conn->notify->overflow;
}

/* ---- NOTIFY ---- */

static void
notify_set_run(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->job_ctx;
	char **names, **subs;
	unsigned int name_count, sub_count;

	if (mailbox_names(conn, &names, &name_count) < 0) {
		imap_job_store_error(conn, "NOTIFY");
		return;
	}
	if (store_subscription_list(conn->account, &subs, &sub_count) < 0) {
		store_names_free(&names, name_count);
		imap_job_store_error(conn, "NOTIFY");
		return;
	}
	notify->names = names;
	notify->name_count = name_count;
	notify->subs = subs;
	notify->sub_count = sub_count;
	notify->have_lists = true;
	if (boxes_resolve(conn, notify, names, name_count, subs,
			  sub_count) < 0) {
		imap_job_tagged(conn, "NO [LIMIT] NOTIFY would watch more "
				"than %u mailboxes.",
				IMAP_NOTIFY_MAILBOXES_MAX);
		return;
	}
	/* the baseline of every mailbox; STATUS now if asked (§3.1) */
	meta_checks(conn, notify, &conn->job_out);
	notify_check(conn, notify);
	imap_job_tagged(conn, "OK NOTIFY completed.");
	conn->job_result = 1;
}

static void
notify_set_done(struct imap_conn *conn)
{
	struct imap_notify *notify = conn->job_ctx;

	conn->job_ctx = NULL;
	if (conn->job_result != 1) {
		notify_destroy(&notify);
		return;
	}
	imap_notify_deinit(conn);
	conn->notify = notify;
	notify->account = conn->account;
	notify->user = i_strdup(conn->user);
	notify->rewatch = true;
	imap_notify_rewatch(conn);
	imap_conn_notify_started(conn);
}

void
cmd_notify(struct imap_conn *conn)
{
	const struct imap_arg *args = conn->cmd.args;
	unsigned int count = conn->cmd.arg_count, i = 1;
	struct imap_notify *notify;
	const char *word;

	if (count == 1 && imap_arg_get_atom(&args[0], &word) &&
	    strcasecmp(word, "NONE") == 0) {
		imap_notify_deinit(conn);
		imap_conn_notify_started(conn);
		imap_conn_tagged(conn, "OK NOTIFY completed.");
		return;
	}
	if (count < 2 || !imap_arg_get_atom(&args[0], &word) ||
	    strcasecmp(word, "SET") != 0) {
		imap_conn_bad(conn, "NOTIFY SET or NOTIFY NONE.");
		return;
	}
	notify = i_malloc(sizeof(*notify));
	if (imap_arg_get_atom(&args[1], &word) &&
	    strcasecmp(word, "STATUS") == 0) {
		notify->status = true;
		i++;
	}
	if (i == count) {
		imap_conn_bad(conn, "NOTIFY SET needs event groups.");
		notify_destroy(&notify);
		return;
	}
	for (; i < count; i++) {
		if (parse_group(conn, notify, &args[i]) < 0) {
			notify_destroy(&notify);
			return;
		}
	}
	conn->job_ctx = notify;
	conn->job_result = 0;
	imap_conn_job(conn, notify_set_run, notify_set_done, IMAP_SYNC_NONE);
}
