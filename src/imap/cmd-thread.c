/* SPDX-License-Identifier: MIT */
/*
 * cmd-thread.c: THREAD and UID THREAD (RFC 5256 §3) with the
 * ORDEREDSUBJECT and REFERENCES algorithms (RFC 5256 §2). The messages
 * and their keys (base subject, sent date, Message-ID, References,
 * In-Reply-To) come from imap_sort_collect(), one header read per
 * message. Message-IDs are looked up in a sorted array of every ID
 * seen (bsearch), so the whole command is O(n log n) apart from the
 * loop checks. Part of src/imap.
 */
#include "imap-sort.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Message-IDs taken from one References field; the rest is ignored
   (the last ones are the nearest ancestors, so keep those). Real
   fields hold a few dozen; Dovecot keeps hundreds. */
#define THREAD_REFERENCES_MAX 1000
/* Longest Message-ID used; longer ones count as invalid. */
#define THREAD_MSGID_MAX 998

struct thread_node {
	struct thread_node *parent, *children, *next;
	/* step 1 only: the previous sibling, so unlinking is O(1) even
	   under a message with thousands of replies */
	struct thread_node *prev;
	struct sort_msg *msg;   /* NULL: a dummy */
	/* the first child after sorting (dummies sort by it) */
	const struct sort_msg *sort_msg;
};

struct thread_ctx {
	struct imap_search *search;
	bool references;        /* else ORDEREDSUBJECT */
};

/* ---- Message-IDs ---- */

/* Where the msg-id that starts at s ("<") ends (its ">"), or NULL with
   *next_r where to look on: id-left and id-right are read leniently
   (any run without blanks or brackets), a quoted-string id-left may hold
   blanks (RFC 5322 §3.6.4 and §4.5.4 obs-id-left). */
static const char *
msgid_end(const char *s, const char **next_r)
{
	const char *end = s + 1;
	bool at = false;

	if (*end == '"') {
		for (end++; *end != '\0' && *end != '"'; end++) {
			if (*end == '\\' && end[1] != '\0')
				end++;
		}
		if (*end == '\0') {
			*next_r = s + 1;
			return NULL;
		}
		end++;
	}
	for (; *end != '\0' && *end != '>' && *end != '<' && *end != ' ' &&
	     *end != '\t' && *end != '\r' && *end != '\n'; end++)
		at = at || *end == '@';
	if (*end == '>' && at && end - s <= THREAD_MSGID_MAX)
		return end;
	*next_r = *end == '\0' ? end : end + (*end != '<');
	return NULL;
}

/* The next msg-id of a field value at *p, compared byte for byte
   (RFC 5256 §2.2 step 1: case-sensitive); a malloc'd "<...>", or NULL
   when there is none left. */
static char *
next_msgid(const char **p)
{
	const char *s = *p, *start, *end;

	while ((start = strchr(s, '<')) != NULL) {
		if ((end = msgid_end(start, &s)) != NULL) {
			*p = end + 1;
			return i_strndup(start, (size_t)(end - start + 1));
		}
	}
	*p = s + strlen(s);
	return NULL;
}

struct msg_ids {
	char *id;               /* NULL: none valid */
	char **refs;
	unsigned int ref_count;
};

/* RFC 5256 §2.2 step 1: the References IDs, or the first In-Reply-To
   ID when References has none. */
static void
msg_ids_parse(const struct sort_msg *sm, struct msg_ids *ids)
{
	unsigned int cap = 0, drop, i;
	const char *p;
	char *id;

	if (sm->message_id != NULL) {
		p = sm->message_id;
		ids->id = next_msgid(&p);
	}
	p = sm->references != NULL ? sm->references : "";
	while ((id = next_msgid(&p)) != NULL) {
		if (ids->ref_count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			ids->refs = i_realloc(ids->refs, sizeof(char *) * cap);
		}
		ids->refs[ids->ref_count++] = id;
	}
	if (ids->ref_count > THREAD_REFERENCES_MAX) {
		drop = ids->ref_count - THREAD_REFERENCES_MAX;
		for (i = 0; i < drop; i++)
			free(ids->refs[i]);
		memmove(ids->refs, ids->refs + drop,
			sizeof(char *) * THREAD_REFERENCES_MAX);
		ids->ref_count = THREAD_REFERENCES_MAX;
	}
	if (ids->ref_count == 0 && sm->in_reply_to != NULL) {
		p = sm->in_reply_to;
		if ((id = next_msgid(&p)) != NULL) {
			ids->refs = i_malloc(sizeof(char *));
			ids->refs[ids->ref_count++] = id;
		}
	}
}

static void
msg_ids_free(struct msg_ids *ids, unsigned int count)
{
	unsigned int i, j;

	for (i = 0; i < count; i++) {
		free(ids[i].id);
		for (j = 0; j < ids[i].ref_count; j++)
			free(ids[i].refs[j]);
		free(ids[i].refs);
	}
	free(ids);
}

static int
str_pcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the tree ---- */

struct thread_tree {
	struct thread_node *nodes;
	unsigned int node_count, node_max;
	/* every distinct ID, sorted; id_nodes[i] is its container */
	const char **idx;
	unsigned int id_count;
	struct thread_node **id_nodes;
};

static struct thread_node *
node_new(struct thread_tree *tree)
{
	i_assert(tree->node_count < tree->node_max);
	return &tree->nodes[tree->node_count++];
}

/* The container of id (RFC 5256 §2.2 step 1: a dummy until a message
   with that ID claims it). */
static struct thread_node *
id_node(struct thread_tree *tree, const char *id)
{
	const char **found;
	size_t i;

	found = bsearch(&id, tree->idx, tree->id_count, sizeof(char *),
			str_pcmp);
	i_assert(found != NULL);
	i = (size_t)(found - tree->idx);
	if (tree->id_nodes[i] == NULL)
		tree->id_nodes[i] = node_new(tree);
	return tree->id_nodes[i];
}

/* Step 1's unlinking (the lists are rebuilt without prev later). */
static void
unlink_node(struct thread_node *node)
{
	if (node->parent == NULL)
		return;
	if (node->prev != NULL)
		node->prev->next = node->next;
	else
		node->parent->children = node->next;
	if (node->next != NULL)
		node->next->prev = node->prev;
	node->next = node->prev = NULL;
	node->parent = NULL;
}

static void
add_child(struct thread_node *parent, struct thread_node *child)
{
	child->parent = parent;
	child->prev = NULL;
	child->next = parent->children;
	if (child->next != NULL)
		child->next->prev = child;
	parent->children = child;
}

/* True when a is b or below b. */
static bool
is_under(const struct thread_node *a, const struct thread_node *b)
{
	for (; a != NULL; a = a->parent) {
		if (a == b)
			return true;
	}
	return false;
}

/* Makes child a child of parent unless that would make a loop. A
   child without children can only loop onto itself: that saves the
   walk up the tree in the common case. */
static void
link_nodes(struct thread_node *parent, struct thread_node *child)
{
	if (child->children == NULL ? parent != child :
	    !is_under(parent, child))
		add_child(parent, child);
}

/* Step 1 for one message (in sequence order). */
static void
thread_add(struct thread_tree *tree, struct sort_msg *sm,
	   const struct msg_ids *ids)
{
	struct thread_node *node = NULL, *a, *b;
	unsigned int i;

	/* a missing ID, or one an earlier message has, gets a unique
	   container */
	if (ids->id != NULL) {
		node = id_node(tree, ids->id);
		if (node->msg != NULL)
			node = NULL;
	}
	if (node == NULL)
		node = node_new(tree);
	node->msg = sm;
	/* A: link the references in a chain; an existing parent stays
	   (the References field may have been truncated) */
	for (i = 0; i + 1 < ids->ref_count; i++) {
		a = id_node(tree, ids->refs[i]);
		b = id_node(tree, ids->refs[i + 1]);
		if (b->parent == NULL && a != b)
			link_nodes(a, b);
	}
	/* B: the last reference is the parent, replacing any other */
	unlink_node(node);
	if (ids->ref_count > 0) {
		a = id_node(tree, ids->refs[ids->ref_count - 1]);
		if (a != node)
			link_nodes(a, node);
	}
}

/* Every node of list and below, parents before their children
   (iterative: a References chain may be as deep as the mailbox is
   long). Caller frees; *count_r entries. */
static struct thread_node **
preorder(const struct thread_tree *tree, struct thread_node *list,
	 unsigned int *count_r)
{
	struct thread_node **out, **stack, *node;
	unsigned int n = 0, depth = 0;

	out = i_malloc(sizeof(*out) * (tree->node_count + 1));
	stack = i_malloc(sizeof(*stack) * (tree->node_count + 1));
	for (node = list; node != NULL; node = node->next)
		stack[depth++] = node;
	while (depth > 0) {
		node = stack[--depth];
		out[n++] = node;
		for (node = node->children; node != NULL; node = node->next)
			stack[depth++] = node;
	}
	free(stack);
	*count_r = n;
	return out;
}

/* Step 4: dummies go, their children move up a level; at the root a
   dummy goes only when it has one child. Returns the new root list. */
static struct thread_node *
prune(const struct thread_tree *tree, struct thread_node *roots)
{
	struct thread_node **order, *node, *c, *cnext, *k, *knext, *out;
	unsigned int n, i;

	order = preorder(tree, roots, &n);
	/* children first, so a dummy's own list is final when spliced */
	for (i = n; i-- > 0;) {
		node = order[i];
		out = NULL;
		for (c = node->children; c != NULL; c = cnext) {
			cnext = c->next;
			if (c->msg != NULL) {
				c->next = out;
				out = c;
				continue;
			}
			for (k = c->children; k != NULL; k = knext) {
				knext = k->next;
				k->parent = node;
				k->next = out;
				out = k;
			}
		}
		node->children = out;
	}
	free(order);
	out = NULL;
	for (node = roots; node != NULL; node = c) {
		c = node->next;
		if (node->msg == NULL && node->children != NULL &&
		    node->children->next == NULL) {
			node = node->children;
			node->parent = NULL;
		} else if (node->msg == NULL && node->children == NULL) {
			continue;
		}
		node->next = out;
		out = node;
	}
	return out;
}

/* Sent date, then sequence number; a dummy by its first child. */
static int
node_cmp(const void *p1, const void *p2)
{
	const struct sort_msg *a = (*(struct thread_node *const *)p1)->sort_msg;
	const struct sort_msg *b = (*(struct thread_node *const *)p2)->sort_msg;

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

/* One list of siblings (sort_msg set) in node_cmp order. */
static struct thread_node *
sort_siblings(struct thread_node *list)
{
	struct thread_node **arr, *node;
	unsigned int n = 0, i;

	for (node = list; node != NULL; node = node->next)
		n++;
	if (n < 2)
		return list;
	arr = i_malloc(sizeof(*arr) * n);
	for (i = 0, node = list; node != NULL; node = node->next)
		arr[i++] = node;
	qsort(arr, n, sizeof(*arr), node_cmp);
	for (i = 0; i + 1 < n; i++)
		arr[i]->next = arr[i + 1];
	arr[n - 1]->next = NULL;
	list = arr[0];
	free(arr);
	return list;
}

/* Step 6: every list of siblings sorted, bottom up (a dummy sorts by
   its first child, so children go first). Returns the sorted roots. */
static struct thread_node *
sort_tree(const struct thread_tree *tree, struct thread_node *roots)
{
	struct thread_node **order, *node;
	unsigned int n, i;

	order = preorder(tree, roots, &n);
	for (i = n; i-- > 0;) {
		node = order[i];
		node->children = sort_siblings(node->children);
		node->sort_msg = node->msg != NULL ? node->msg :
			node->children->sort_msg;
	}
	free(order);
	return sort_siblings(roots);
}

static const char *
thread_subject(const struct thread_node *node)
{
	/* RFC 5256 §2.2 step 5A: a dummy has its first child's subject */
	return node->msg != NULL ? node->msg->subject :
		node->sort_msg->subject;
}

static bool
is_reply(const struct thread_node *node)
{
	return node->msg != NULL && node->msg->reply;
}

static int
root_subject_cmp(const void *p1, const void *p2)
{
	struct thread_node *a = *(struct thread_node *const *)p1;
	struct thread_node *b = *(struct thread_node *const *)p2;
	int ret = strcmp(thread_subject(a), thread_subject(b));

	/* one subject's roots stay in root (date) order */
	return ret != 0 ? ret : node_cmp(p1, p2);
}

/* Step 5C for two roots of one subject: returns the new table entry. */
static struct thread_node *
merge_roots(struct thread_tree *tree, struct thread_node *table,
	    struct thread_node *cur)
{
	struct thread_node *dummy, *k, *next;

	if (table->msg == NULL && cur->msg == NULL) {
		for (k = cur->children; k != NULL; k = next) {
			next = k->next;
			add_child(table, k);
		}
		cur->children = NULL;
		return table;
	}
	if (table->msg == NULL ||
	    (is_reply(cur) && !is_reply(table))) {
		add_child(table, cur);
		return table;
	}
	dummy = node_new(tree);
	add_child(dummy, table);
	add_child(dummy, cur);
	return dummy;
}

/* Step 5: roots with one base subject are gathered. roots are sorted
   (step 6 order). Returns the new root list. */
static struct thread_node *
gather_subjects(struct thread_tree *tree, struct thread_node *roots)
{
	struct thread_node **arr, *node, *table, *out = NULL;
	unsigned int n = 0, i, j, k;

	for (node = roots; node != NULL; node = node->next)
		n++;
	if (n == 0)
		return NULL;
	arr = i_malloc(sizeof(*arr) * n);
	/* the array index is the root order the table rules see */
	for (i = 0, node = roots; node != NULL; node = node->next)
		arr[i++] = node;
	qsort(arr, n, sizeof(*arr), root_subject_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(thread_subject(arr[i]),
						thread_subject(arr[j])) == 0;
		     j++)
			;
		if (thread_subject(arr[i])[0] == '\0') {
			for (k = i; k < j; k++) {
				arr[k]->next = out;
				out = arr[k];
			}
			continue;
		}
		/* B: a dummy wins, then a message that is no reply */
		table = arr[i];
		for (k = i + 1; k < j; k++) {
			if (table->msg != NULL &&
			    (arr[k]->msg == NULL ||
			     (is_reply(table) && !is_reply(arr[k]))))
				table = arr[k];
		}
		for (k = i; k < j; k++) {
			if (arr[k] != table)
				table = merge_roots(tree, table, arr[k]);
		}
		table->parent = NULL;
		table->next = out;
		out = table;
	}
	free(arr);
	return out;
}

/* ---- output ---- */

static void
append_num(struct imap_conn *conn, const struct sort_msg *sm)
{
	buf_printf(&conn->job_out, "%u", conn->uid ? sm->uid : sm->seq);
}

/* One thread as a thread-list (RFC 5256 §4): a chain of single
   children as numbers, the children of a branching node each in its
   own nested list. Iterative, with stack (node_count entries) holding
   the next sibling of every open branching level. */
static void
append_thread(struct imap_conn *conn, const struct thread_node *root,
	      const struct thread_node **stack)
{
	buf_t *out = &conn->job_out;
	const struct thread_node *cur = root;
	unsigned int depth = 0;
	bool sep;

	buf_append_c(out, '(');
	for (;;) {
		for (sep = false;; cur = cur->children) {
			if (cur->msg != NULL) {
				if (sep)
					buf_append_c(out, ' ');
				append_num(conn, cur->msg);
				sep = true;
			}
			if (cur->children == NULL ||
			    cur->children->next != NULL)
				break;
		}
		if (cur->children != NULL) {
			/* branching: open the first child's list */
			if (sep)
				buf_append_c(out, ' ');
			stack[depth++] = cur->children->next;
			buf_append_c(out, '(');
			cur = cur->children;
			continue;
		}
		buf_append_c(out, ')');
		/* climb out of the levels whose children are all written */
		while (depth > 0 && stack[depth - 1] == NULL) {
			depth--;
			buf_append_c(out, ')');
		}
		if (depth == 0)
			return;
		cur = stack[depth - 1];
		stack[depth - 1] = cur->next;
		buf_append_c(out, '(');
	}
}

static void
append_threads(struct imap_conn *conn, const struct thread_tree *tree,
	       const struct thread_node *roots)
{
	const struct thread_node **stack;

	stack = i_malloc(sizeof(*stack) * (tree->node_count + 1));
	buf_append_str(&conn->job_out, "* THREAD ");
	for (; roots != NULL; roots = roots->next)
		append_thread(conn, roots, stack);
	free(stack);
	/* "* THREAD " with nothing after it when there are no threads,
	   as RFC 5256 §4 (thread-data) allows */
	buf_truncate(&conn->job_out, conn->job_out.len -
		     (conn->job_out.data[conn->job_out.len - 1] == ' '));
	buf_append_str(&conn->job_out, "\r\n");
}

/* ---- the algorithms ---- */

static int
subject_date_cmp(const void *p1, const void *p2)
{
	const struct sort_msg *a = p1, *b = p2;
	int ret = strcmp(a->subject, b->subject);

	if (ret != 0)
		return ret;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

/* RFC 5256 §2.1 ORDEREDSUBJECT: by base subject and date; each run of
   one subject is a thread whose first message is the parent of all the
   others; threads in the order of their first message's date. */
static struct thread_node *
ordered_subject(struct thread_tree *tree, struct sort_msg *msgs,
		unsigned int count)
{
	struct thread_node *root = NULL, *node, *roots = NULL;
	unsigned int i;

	tree->node_max = count + 1;
	tree->nodes = i_malloc(sizeof(*tree->nodes) * tree->node_max);
	if (count > 1)
		qsort(msgs, count, sizeof(*msgs), subject_date_cmp);
	for (i = 0; i < count; i++) {
		node = node_new(tree);
		node->msg = &msgs[i];
		if (i > 0 && strcmp(msgs[i].subject,
				    msgs[i - 1].subject) == 0) {
			add_child(root, node);
			continue;
		}
		root = node;
		root->next = roots;
		roots = root;
	}
	return sort_tree(tree, roots);
}

/* RFC 5256 §2.2 REFERENCES (steps 1-6). */
static struct thread_node *
references(struct thread_tree *tree, struct sort_msg *msgs,
	   unsigned int count)
{
	struct msg_ids *ids = i_malloc(sizeof(*ids) * (count + 1));
	struct thread_node *roots = NULL, *node;
	unsigned int i, j, n = 0;

	for (i = 0; i < count; i++) {
		msg_ids_parse(&msgs[i], &ids[i]);
		n += ids[i].ref_count + (ids[i].id != NULL);
	}
	tree->idx = i_malloc(sizeof(char *) * (n + 1));
	for (i = 0; i < count; i++) {
		if (ids[i].id != NULL)
			tree->idx[tree->id_count++] = ids[i].id;
		for (j = 0; j < ids[i].ref_count; j++)
			tree->idx[tree->id_count++] = ids[i].refs[j];
	}
	qsort(tree->idx, tree->id_count, sizeof(char *), str_pcmp);
	for (i = j = 0; i < tree->id_count; i++) {
		if (j == 0 || strcmp(tree->idx[j - 1], tree->idx[i]) != 0)
			tree->idx[j++] = tree->idx[i];
	}
	tree->id_count = j;
	tree->id_nodes = i_malloc(sizeof(*tree->id_nodes) * (j + 1));
	/* messages without their own ID, ID containers, and at most one
	   dummy per root for step 5 */
	tree->node_max = 2 * count + tree->id_count + 1;
	tree->nodes = i_malloc(sizeof(*tree->nodes) * tree->node_max);
	/* step 1 */
	for (i = 0; i < count; i++)
		thread_add(tree, &msgs[i], &ids[i]);
	/* step 2: the root set */
	for (i = 0; i < tree->node_count; i++) {
		node = &tree->nodes[i];
		if (node->parent == NULL) {
			node->next = roots;
			roots = node;
		}
	}
	roots = sort_tree(tree, prune(tree, roots));    /* steps 4, 6 */
	roots = gather_subjects(tree, roots);           /* step 5 */
	roots = sort_tree(tree, roots);                 /* step 6 */
	msg_ids_free(ids, count);
	return roots;
}

static void
thread_run(struct imap_conn *conn)
{
	struct thread_ctx *ctx = conn->job_ctx;
	struct thread_tree tree = { 0 };
	struct thread_node *roots;
	struct sort_msg *msgs;
	unsigned int count;

	if (imap_sort_collect(conn, ctx->search, SORT_KEY_SUBJECT |
			      SORT_KEY_DATE | (ctx->references ?
					       SORT_KEY_THREAD : 0),
			      &msgs, &count) < 0) {
		imap_job_store_error(conn, "THREAD");
		return;
	}
	roots = ctx->references ? references(&tree, msgs, count) :
		ordered_subject(&tree, msgs, count);
	append_threads(conn, &tree, roots);
	free(tree.nodes);
	free(tree.idx);
	free(tree.id_nodes);
	imap_sort_msgs_free(&msgs, count);
	imap_job_tagged(conn, "OK %sTHREAD completed.",
			conn->uid ? "UID " : "");
}

static void
thread_ctx_free(struct imap_conn *conn)
{
	struct thread_ctx *ctx = conn->job_ctx;

	if (ctx == NULL)
		return;
	imap_search_free(&ctx->search);
	free(ctx);
	conn->job_ctx = NULL;
}

void
cmd_thread_args(struct imap_conn *conn, const struct imap_arg *args,
		unsigned int count)
{
	struct thread_ctx *ctx;
	const char *algo;
	bool refs;

	if (count < 1 || !imap_arg_get_atom(&args[0], &algo)) {
		imap_conn_bad(conn, "Missing threading algorithm.");
		return;
	}
	if (strcasecmp(algo, "REFERENCES") == 0)
		refs = true;
	else if (strcasecmp(algo, "ORDEREDSUBJECT") == 0)
		refs = false;
	else {
		imap_conn_bad(conn, "Unknown threading algorithm.");
		return;
	}
	ctx = i_malloc(sizeof(*ctx));
	ctx->references = refs;
	ctx->search = imap_sort_search_parse(conn, args + 1, count - 1);
	if (ctx->search == NULL) {
		free(ctx);
		return;
	}
	conn->job_ctx = ctx;
	imap_conn_job(conn, thread_run, thread_ctx_free,
		      IMAP_SYNC_NO_EXPUNGES);
}

void
cmd_thread(struct imap_conn *conn)
{
	cmd_thread_args(conn, conn->cmd.args, conn->cmd.arg_count);
}
