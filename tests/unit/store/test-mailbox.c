/* SPDX-License-Identifier: MIT */
/*
 * test-mailbox.c: unit tests for the opened-mailbox API of
 * store-mailbox.h (src/store/mailbox.c, mailbox-sync.c, mailbox-save.c,
 * mailbox-update.c, mailbox-check.c) in both formats: append and read
 * (also zero-copy), sync results, flags and keywords with MODSEQ and
 * UNCHANGEDSINCE, expunge (also kept in the view), copy and move across
 * formats, two handles on one mailbox, all-or-nothing appends under
 * fault injection (re-executing this program with COMMUNE_VFS_FAIL set),
 * and the argument checks.
 */
#include "test-store-common.h"
#include "mailbox-private.h"
#include "test-child.h"
#include "log.h"

#include <sys/wait.h>

#define T1 1795632672LL

static const char *self_path;

static const char *const texts[] = {
	"Subject: one\r\n\r\nbody one\r\n",
	"Subject: two\n\nFrom <> (S-9) Wed Nov 25 18:51:12 2026 3\nxx\n",
	"",
	"Subject: four\r\n\r\nfour\r\n",
};

struct box_test {
	struct store_test st;
	struct account *account;
	enum mailbox_format format;
};

static int
setup_format(void **state, enum mailbox_format format)
{
	struct box_test *t = calloc(1, sizeof(*t));
	void *st;

	if (store_test_setup(&st) < 0)
		return -1;
	t->st = *(struct store_test *)st;
	free(st);
	t->format = format;
	t->account = store_test_new_account(&t->st, "joe", ACCOUNT_TYPE_MULTI);
	assert_int_equal(store_mailbox_create(t->account, "Box", format, NULL),
			 0);
	*state = t;
	return 0;
}

static int
setup_mbox(void **state)
{
	return setup_format(state, MAILBOX_FORMAT_MBOX);
}

static int
setup_mdir(void **state)
{
	return setup_format(state, MAILBOX_FORMAT_MDIR);
}

static int
teardown(void **state)
{
	struct box_test *t = *state;
	struct store_test *st = malloc(sizeof(*st));
	void *p = st;

	store_account_close(&t->account);
	*st = t->st;
	free(t);
	return store_test_teardown(&p);
}

static void
make_append(struct store_append *msgs, unsigned int count)
{
	unsigned int i;

	memset(msgs, 0, sizeof(*msgs) * count);
	for (i = 0; i < count; i++) {
		msgs[i].data = (const unsigned char *)texts[i % 4];
		msgs[i].len = strlen(texts[i % 4]);
		msgs[i].internal_date = T1 + i;
		msgs[i].flags = i == 1 ? STORE_FLAG_SEEN : 0;
	}
}

static struct mailbox *
open_box(struct box_test *t, const char *name)
{
	struct mailbox *box;

	assert_int_equal(store_mailbox_open(t->account, name, &box), 0);
	return box;
}

static void
append_n(struct mailbox *box, unsigned int count, uint32_t *uids)
{
	struct store_append msgs[8];

	assert_true(count <= 8);
	make_append(msgs, count);
	assert_int_equal(store_mailbox_append(box, msgs, count, uids), 0);
}

static void
assert_text(struct mailbox *box, uint32_t uid, const char *text)
{
	buf_t buf = BUF_INIT;

	assert_int_equal(store_mailbox_msg_read(box, uid, &buf), 0);
	assert_int_equal(buf.len, strlen(text));
	assert_memory_equal(buf.data, text, buf.len);
	buf_deinit(&buf);
}

static void
assert_clean(struct box_test *t, const char *name)
{
	buf_t report = BUF_INIT;

	if (store_mailbox_check(t->account, name, &report) != 0)
		fail_msg("check %s: %s", name, buf_cstr(&report));
	buf_deinit(&report);
}

/* ---- append, read, sync ---- */

static void
test_append_read(void **state)
{
	struct box_test *t = *state;
	struct mailbox_sync_result res;
	struct mailbox_status status;
	const struct store_msg *msgs;
	struct mailbox *box = open_box(t, "Box");
	uint32_t uids[4];
	unsigned int i;
	uint64_t size;
	off_t off;
	int fd;

	assert_int_equal(store_mailbox_count(box), 0);
	store_mailbox_get_status(box, &status);
	assert_int_equal(status.uidnext, 1);
	assert_true(status.uidvalidity != 0);
	append_n(box, 4, uids);
	for (i = 0; i < 4; i++)
		assert_int_equal(uids[i], i + 1);
	/* append does not sync the view */
	assert_int_equal(store_mailbox_count(box), 0);
	assert_int_equal(store_mailbox_sync(box, 0, &res), 0);
	assert_int_equal(res.new_count, 4);
	assert_int_equal(res.expunged.count, 0);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_count(box), 4);
	msgs = store_mailbox_msgs(box);
	for (i = 0; i < 4; i++) {
		assert_int_equal(msgs[i].uid, i + 1);
		assert_int_equal(msgs[i].size, strlen(texts[i]));
		assert_int_equal(msgs[i].internal_date, T1 + i);
		assert_true(msgs[i].modseq > 0);
		assert_int_equal(store_mailbox_seq(box, i + 1), i + 1);
		assert_text(box, i + 1, texts[i]);
	}
	assert_int_equal(msgs[1].flags, STORE_FLAG_SEEN);
	assert_int_equal(store_mailbox_seq(box, 99), 0);
	/* zero-copy ranges hold exactly the message */
	assert_int_equal(store_mailbox_msg_fd(box, 2, &fd, &off, &size), 1);
	{
		char buf[256];

		assert_int_equal(size, strlen(texts[1]));
		assert_int_equal(pread(fd, buf, size, off), (ssize_t)size);
		assert_memory_equal(buf, texts[1], size);
		close(fd);
	}
	store_mailbox_get_status(box, &status);
	assert_int_equal(status.messages, 4);
	assert_int_equal(status.unseen, 3);
	assert_int_equal(status.uidnext, 5);
	{
		struct mailbox_status by_name;

		assert_int_equal(store_mailbox_status(t->account, "Box",
						      &by_name), 0);
		assert_memory_equal(&status, &by_name, sizeof(status));
	}
	assert_int_equal(store_mailbox_msg_read(box, 99, NULL), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

static void
test_deliver(void **state)
{
	struct box_test *t = *state;
	static const char *const kws[] = { "$Junk", NULL };
	struct store_append msg;
	struct mailbox *box;
	uint32_t uid;

	memset(&msg, 0, sizeof(msg));
	msg.data = (const unsigned char *)texts[0];
	msg.len = strlen(texts[0]);
	msg.return_path = "sender@example.org";
	msg.keywords = kws;
	msg.flags = STORE_FLAG_FLAGGED | 0x80000000u;  /* non-system: dropped */
	assert_int_equal(store_deliver(t->account, "Box", &msg, &uid), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(store_deliver(t->account, "box", &msg, &uid), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_deliver(t->account, "INBOX", &msg, &uid), 0);
	assert_int_equal(uid, 1);
	box = open_box(t, "Box");
	assert_int_equal(store_mailbox_count(box), 1);
	assert_int_equal(store_mailbox_msgs(box)[0].flags,
			 STORE_FLAG_FLAGGED | STORE_FLAG_KEYWORD(0));
	assert_int_equal(store_mailbox_keyword_count(box), 1);
	assert_string_equal(store_mailbox_keyword_name(box, 0), "$Junk");
	assert_null(store_mailbox_keyword_name(box, 1));
	assert_text(box, 1, texts[0]);
	store_mailbox_close(&box);
	if (t->format == MAILBOX_FORMAT_MBOX) {
		char *data = store_test_read(&t->st,
					     "Accounts/joe.macnt/Box.mbox");

		assert_non_null(strstr(data, "From <sender@example.org> "
				       "(Fa______-1) "));
		free(data);
	} else {
		char *data = store_test_read(&t->st,
					     "Accounts/joe.macnt/Box.mdir");

		assert_null(data);      /* a directory */
	}
}

static void
test_bad_arguments(void **state)
{
	struct box_test *t = *state;
	struct store_append msg;
	struct mailbox *box = open_box(t, "Box");
	static const char *const bad_kw[] = { "a b", NULL };
	unsigned int i, idx;
	uint32_t uid;
	char name[16];

	make_append(&msg, 1);
	msg.return_path = "a\r\nb";
	assert_int_equal(store_mailbox_append(box, &msg, 1, &uid), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	make_append(&msg, 1);
	msg.internal_date = 253402300800LL;
	assert_int_equal(store_mailbox_append(box, &msg, 1, &uid), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	make_append(&msg, 1);
	msg.len = STORE_MESSAGE_MAX + 1u;
	assert_int_equal(store_mailbox_append(box, &msg, 1, &uid), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	make_append(&msg, 1);
	msg.keywords = bad_kw;
	assert_int_equal(store_mailbox_append(box, &msg, 1, &uid), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	/* the keyword table holds 26 */
	for (i = 0; i < STORE_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "kw%u", i);
		assert_int_equal(store_mailbox_keyword_lookup(box, name, true,
							      &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(store_mailbox_keyword_lookup(box, "KW3", false, &idx),
			 0);
	assert_int_equal(idx, 3);
	assert_int_equal(store_mailbox_keyword_lookup(box, "one-more", true,
						      &idx), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_mailbox_keyword_lookup(box, "nope", false,
						      &idx), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_mailbox_count(box), 0);
	store_mailbox_close(&box);
	assert_int_equal(store_mailbox_open(t->account, "Nope", &box), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
}

/* ---- flags ---- */

static void
test_flags(void **state)
{
	struct box_test *t = *state;
	static const char *const kws[] = { "work", "$Label1", NULL };
	static const char *const work[] = { "WORK", NULL };
	struct mailbox_sync_result res;
	struct uid_array failed;
	const struct store_msg *msgs;
	struct mailbox *box = open_box(t, "Box");
	uint32_t uids[4], sel[3] = { 3, 1, 3 };
	uint64_t ms1, ms2;

	append_n(box, 4, uids);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	ms1 = store_mailbox_msgs(box)[0].modseq;
	assert_int_equal(store_mailbox_update_flags(box, sel, 3,
		STORE_FLAGS_ADD, STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED,
		kws, 0, NULL), 0);
	assert_int_equal(store_mailbox_sync(box, 0, &res), 0);
	assert_int_equal(res.changed.count, 2);
	assert_int_equal(res.changed.uids[0], 1);
	assert_int_equal(res.changed.uids[1], 3);
	store_mailbox_sync_result_free(&res);
	msgs = store_mailbox_msgs(box);
	assert_int_equal(msgs[0].flags, STORE_FLAG_FLAGGED |
			 STORE_FLAG_ANSWERED | STORE_FLAG_KEYWORD(0) |
			 STORE_FLAG_KEYWORD(1));
	assert_true(msgs[0].modseq > ms1);
	assert_int_equal(msgs[0].modseq, msgs[2].modseq);
	ms2 = msgs[0].modseq;
	/* keyword names match case-insensitively */
	assert_int_equal(store_mailbox_update_flags(box, sel, 1,
		STORE_FLAGS_REMOVE, STORE_FLAG_ANSWERED, work, 0, NULL), 0);
	/* UNCHANGEDSINCE: uid 3 changed after ms1, uid 1 too now */
	memset(&failed, 0, sizeof(failed));
	assert_int_equal(store_mailbox_update_flags(box, sel, 3,
		STORE_FLAGS_REPLACE, STORE_FLAG_SEEN, NULL, ms2, &failed), 0);
	assert_int_equal(failed.count, 1);
	assert_int_equal(failed.uids[0], 3);
	uid_array_free(&failed);
	assert_int_equal(store_mailbox_sync(box, 0, &res), 0);
	store_mailbox_sync_result_free(&res);
	msgs = store_mailbox_msgs(box);
	assert_int_equal(msgs[0].flags, STORE_FLAG_SEEN);
	assert_int_equal(msgs[2].flags, STORE_FLAG_FLAGGED |
			 STORE_FLAG_KEYWORD(1));
	/* nothing to change: no new modseq */
	ms1 = msgs[0].modseq;
	assert_int_equal(store_mailbox_update_flags(box, sel + 1, 1,
		STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, NULL), 0);
	assert_int_equal(store_mailbox_sync(box, 0, &res), 0);
	assert_int_equal(res.changed.count, 0);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_msgs(box)[0].modseq, ms1);
	/* unknown UIDs are ignored */
	sel[0] = 77;
	assert_int_equal(store_mailbox_update_flags(box, sel, 1,
		STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, NULL), 0);
	assert_text(box, 3, texts[2]);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

/* More keywords than the .mbox flags field holds: the file is rewritten;
   the view made before reads its old file, and after a sync the new. */
static void
test_flags_overflow(void **state)
{
	struct box_test *t = *state;
	static const char *const kws[] = {
		"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", NULL
	};
	struct mailbox *box = open_box(t, "Box"), *other;
	uint32_t uids[3];

	append_n(box, 3, uids);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	other = open_box(t, "Box");
	assert_int_equal(store_mailbox_update_flags(box, uids + 1, 1,
		STORE_FLAGS_ADD, STORE_FLAG_SEEN | STORE_FLAG_DRAFT, kws, 0,
		NULL), 0);
	assert_text(other, 2, texts[1]);
	assert_text(other, 3, texts[2]);
	assert_int_equal(store_mailbox_sync(other, 0, NULL), 0);
	assert_int_equal(store_mailbox_msgs(other)[1].flags,
			 STORE_FLAG_SEEN | STORE_FLAG_DRAFT | 0x3fe0u);
	assert_text(other, 1, texts[0]);
	assert_text(other, 2, texts[1]);
	assert_text(other, 3, texts[2]);
	store_mailbox_close(&other);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

/* ---- expunge ---- */

static void
test_expunge(void **state)
{
	struct box_test *t = *state;
	struct mailbox_sync_result res;
	struct uid_array expunged;
	struct mailbox *box = open_box(t, "Box"), *other;
	uint32_t uids[4], del[3] = { 1, 2, 4 }, only[2] = { 2, 3 };

	append_n(box, 4, uids);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	other = open_box(t, "Box");
	assert_int_equal(store_mailbox_update_flags(box, del, 3,
		STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, NULL), 0);
	/* UID EXPUNGE: only the listed ones flagged \Deleted */
	memset(&expunged, 0, sizeof(expunged));
	assert_int_equal(store_mailbox_expunge(box, only, 2, &expunged), 0);
	assert_int_equal(expunged.count, 1);
	assert_int_equal(expunged.uids[0], 2);
	uid_array_free(&expunged);
	assert_int_equal(store_mailbox_expunge(box, NULL, 0, &expunged), 0);
	assert_int_equal(expunged.count, 2);
	uid_array_free(&expunged);

	/* another view keeps reading what it has until it syncs */
	assert_int_equal(store_mailbox_count(other), 4);
	/* .mbox: the old file stays readable through the view's fd; an
	   .mdir message file is gone once unlinked */
	if (t->format == MAILBOX_FORMAT_MBOX)
		assert_text(other, 2, texts[1]);
	assert_int_equal(store_mailbox_sync(other,
		MAILBOX_SYNC_FLAG_NO_EXPUNGES, &res), 0);
	assert_int_equal(res.expunged.count, 0);
	assert_int_equal(res.changed.count, 0);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_count(other), 4);
	assert_text(other, 3, texts[2]);
	/* the kept ones: mbox file replaced, their bytes are gone */
	if (t->format == MAILBOX_FORMAT_MBOX) {
		buf_t buf = BUF_INIT;

		assert_int_equal(store_mailbox_msg_read(other, 2, &buf), -1);
		store_test_assert_error(STORE_ERROR_NOT_FOUND);
		buf_deinit(&buf);
	}
	assert_int_equal(store_mailbox_sync(other, 0, &res), 0);
	assert_int_equal(res.expunged.count, 3);
	assert_int_equal(res.expunged.uids[0], 1);
	assert_int_equal(res.expunged.uids[2], 4);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_count(other), 1);
	assert_int_equal(store_mailbox_msgs(other)[0].uid, 3);
	assert_text(other, 3, texts[2]);
	store_mailbox_close(&other);

	assert_int_equal(store_mailbox_sync(box, 0, &res), 0);
	assert_int_equal(res.expunged.count, 3);
	store_mailbox_sync_result_free(&res);
	/* the highest UID went: it is not given again */
	append_n(box, 1, uids);
	assert_int_equal(uids[0], 5);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

/* ---- copy and move ---- */

static void
copy_to(struct box_test *t, enum mailbox_format dest_format, bool move)
{
	static const char *const kws[] = { "blue", "green", NULL };
	struct mailbox_sync_result res;
	struct store_append msg;
	struct mailbox *src = open_box(t, "Box"), *dest;
	const struct store_msg *msgs;
	uint32_t uids[4], sel[3] = { 2, 9, 4 }, dest_uids[3];
	uint32_t kw;

	assert_int_equal(store_mailbox_create(t->account, "Dest", dest_format,
					      NULL), 0);
	dest = open_box(t, "Dest");
	/* dest already has a keyword, so numbers differ */
	make_append(&msg, 1);
	msg.keywords = kws + 1;
	assert_int_equal(store_mailbox_append(dest, &msg, 1, uids), 0);
	append_n(src, 4, uids);
	assert_int_equal(store_mailbox_update_flags(src, uids + 3, 1,
		STORE_FLAGS_ADD, STORE_FLAG_ANSWERED, kws, 0, NULL), 0);
	assert_int_equal(store_mailbox_sync(src, 0, NULL), 0);
	if (move)
		assert_int_equal(store_mailbox_move(src, sel, 3, dest,
						    dest_uids), 0);
	else
		assert_int_equal(store_mailbox_copy(src, sel, 3, dest,
						    dest_uids), 0);
	assert_int_equal(dest_uids[0], 2);
	assert_int_equal(dest_uids[1], 0);      /* no such message */
	assert_int_equal(dest_uids[2], 3);
	assert_int_equal(store_mailbox_sync(dest, 0, &res), 0);
	assert_int_equal(res.new_count, 3);
	store_mailbox_sync_result_free(&res);
	msgs = store_mailbox_msgs(dest);
	assert_int_equal(msgs[1].flags, STORE_FLAG_SEEN);
	assert_int_equal(msgs[1].internal_date, T1 + 1);
	assert_int_equal(store_mailbox_keyword_lookup(dest, "blue", false,
						      &kw), 0);
	assert_int_equal(kw, 1);
	assert_int_equal(msgs[2].flags, STORE_FLAG_ANSWERED |
			 STORE_FLAG_KEYWORD(0) | STORE_FLAG_KEYWORD(1));
	assert_int_equal(msgs[2].internal_date, T1 + 3);
	assert_text(dest, 2, texts[1]);
	assert_text(dest, 3, texts[3]);
	assert_int_equal(store_mailbox_sync(src, 0, &res), 0);
	assert_int_equal(res.expunged.count, move ? 2 : 0);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_count(src), move ? 2 : 4);
	store_mailbox_close(&dest);
	store_mailbox_close(&src);
	assert_clean(t, "Box");
	assert_clean(t, "Dest");
}

static void
test_copy_mbox(void **state)
{
	copy_to(*state, MAILBOX_FORMAT_MBOX, false);
}

static void
test_copy_mdir(void **state)
{
	copy_to(*state, MAILBOX_FORMAT_MDIR, false);
}

static void
test_move_mbox(void **state)
{
	copy_to(*state, MAILBOX_FORMAT_MBOX, true);
}

static void
test_move_mdir(void **state)
{
	copy_to(*state, MAILBOX_FORMAT_MDIR, true);
}

/* Copy into the same mailbox, and between handles of one account opened
   twice (one lock file: must not wait for itself). */
static void
test_copy_self_and_handles(void **state)
{
	struct box_test *t = *state;
	struct account *account2;
	struct mailbox *box = open_box(t, "Box"), *dest;
	uint32_t uids[2], copied[2];

	append_n(box, 2, uids);
	assert_int_equal(store_mailbox_copy(box, uids, 2, box, copied), 0);
	assert_int_equal(copied[0], 3);
	assert_int_equal(copied[1], 4);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(box), 4);
	assert_text(box, 4, texts[1]);

	assert_int_equal(store_mailbox_create(t->account, "Other",
					      MAILBOX_FORMAT_MDIR, NULL), 0);
	assert_int_equal(store_account_open(t->st.store, "joe", &account2), 0);
	assert_int_equal(store_mailbox_open(account2, "Other", &dest), 0);
	assert_int_equal(store_mailbox_move(box, uids, 2, dest, copied), 0);
	assert_int_equal(copied[1], 2);
	assert_true(store_mailbox_account(dest) == account2);
	assert_int_equal(store_mailbox_sync(dest, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(dest), 2);
	assert_text(dest, 1, texts[0]);
	store_mailbox_close(&dest);
	store_account_close(&account2);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
	assert_clean(t, "Other");
}

/* MOVE into the mailbox itself, through the same handle and through a
   second one: the messages get new UIDs and none is lost (the source
   view, which lacks the copies, must not rewrite them away). */
static void
test_move_self(void **state)
{
	struct box_test *t = *state;
	struct mailbox *box = open_box(t, "Box"), *other = open_box(t, "Box");
	uint32_t uids[3], moved[2];

	append_n(box, 3, uids);
	assert_int_equal(store_mailbox_move(box, uids, 2, other, moved), 0);
	assert_int_equal(moved[0], 4);
	assert_int_equal(moved[1], 5);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(box), 3);
	assert_text(box, 3, texts[2]);
	assert_text(box, 4, texts[0]);
	assert_text(box, 5, texts[1]);
	uids[0] = 3;
	assert_int_equal(store_mailbox_move(box, uids, 1, box, moved), 0);
	assert_int_equal(moved[0], 6);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	assert_int_equal(store_mailbox_sync(other, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(box), 3);
	assert_int_equal(store_mailbox_count(other), 3);
	assert_text(other, 6, texts[2]);
	store_mailbox_close(&other);
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

/* Two handles: one changes, the other sees it at its next sync. */
static void
test_two_handles(void **state)
{
	struct box_test *t = *state;
	struct mailbox_sync_result res;
	struct mailbox *a = open_box(t, "Box"), *b = open_box(t, "Box");
	uint32_t uids[3];

	assert_false(store_mailbox_changed(b));
	assert_non_null(strstr(store_mailbox_watch_path(b), "/Box.m"));
	append_n(a, 3, uids);
	assert_true(store_mailbox_changed(b));
	assert_int_equal(store_mailbox_sync(b, 0, &res), 0);
	assert_int_equal(res.new_count, 3);
	store_mailbox_sync_result_free(&res);
	assert_false(store_mailbox_changed(b));
	assert_int_equal(store_mailbox_update_flags(a, uids, 1,
		STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL, 0, NULL), 0);
	/* b reads uid 1 although its .mdir file was renamed */
	assert_text(b, 1, texts[0]);
	assert_int_equal(store_mailbox_sync(b, 0, &res), 0);
	assert_int_equal(res.changed.count, 1);
	assert_int_equal(res.new_count, 0);
	store_mailbox_sync_result_free(&res);
	assert_int_equal(store_mailbox_msgs(b)[0].flags, STORE_FLAG_FLAGGED);
	/* nothing new: an empty result */
	assert_int_equal(store_mailbox_sync(b, 0, &res), 0);
	assert_int_equal(res.changed.count + res.new_count +
			 res.expunged.count, 0);
	store_mailbox_sync_result_free(&res);
	store_mailbox_close(&a);
	store_mailbox_close(&b);
}

/* ---- all or nothing under fault injection ---- */

static int
child_append(const char *base, const char *format)
{
	struct store_append msgs[3];
	struct store *store;
	struct account *account;
	struct mailbox *box;
	uint32_t uids[3];
	int ret;

	vfs_init();
	log_init("child", LOG_LEVEL_ERROR);
	if (store_open(base, &store) < 0 ||
	    store_account_open(store, "joe", &account) < 0 ||
	    store_mailbox_open(account, "Box", &box) < 0)
		return 2;
	make_append(msgs, 3);
	ret = store_mailbox_append(box, msgs, 3, uids) == 0 ? 0 : 1;
	if (ret == 1 && store_error(NULL) != STORE_ERROR_TEMP &&
	    store_error(NULL) != STORE_ERROR_NOSPACE)
		ret = 3;
	store_mailbox_close(&box);
	store_account_close(&account);
	store_close(&store);
	(void)format;
	return ret;
}

static int
run_child(struct box_test *t, const char *env)
{
	return test_run_child(self_path, env, "--child-append", t->st.base,
			      t->format == MAILBOX_FORMAT_MBOX ? "mbox" : "mdir");
}

static void
test_append_all_or_nothing(void **state)
{
	static const char *const envs[] = {
		"COMMUNE_VFS_FAIL=write:1",             /* index mark */
		"COMMUNE_VFS_FAIL=write:2:ENOSPC",      /* first message */
		"COMMUNE_VFS_FAIL=write:3",
		"COMMUNE_VFS_FAIL=write:4",
		"COMMUNE_VFS_FAIL=fsync:1",
		"COMMUNE_VFS_FAIL=fsync:2",
		"COMMUNE_VFS_FAIL=fsync:4",
		"COMMUNE_VFS_FAIL=rename:2",
		"COMMUNE_VFS_FAIL=open:2",
	};
	struct box_test *t = *state;
	struct mailbox *box = open_box(t, "Box");
	uint32_t uids[1];
	unsigned int i;
	int ret;

	append_n(box, 1, uids);
	for (i = 0; i < N_ELEMENTS(envs); i++) {
		ret = run_child(t, envs[i]);
		/* some points are after the commit (index writes): then it
		   succeeded and all three are there */
		assert_true(ret == 0 || ret == 1);
		assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
		if (ret == 1 && store_mailbox_count(box) % 3 != 1)
			fail_msg("%s: %u messages after a failed append",
				 envs[i], store_mailbox_count(box));
		assert_clean(t, "Box");
	}
	/* and a later append works and gets fresh UIDs */
	append_n(box, 1, uids);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	assert_int_equal(store_mailbox_msgs(box)[store_mailbox_count(box) - 1].uid,
			 uids[0]);
	store_mailbox_close(&box);
}

/* ---- a change that fails changes nothing (in-process sweeps) ---- */

struct sweep {
	struct mailbox *box, *dest;
	uint32_t uids[4];
};

static const char *const sweep_kws[] = { "new1", "new2", NULL };

static int
sweep_append(struct store_test *st, void *context)
{
	struct sweep *s = context;
	struct store_append msgs[2];
	uint32_t uids[2];

	make_append(msgs, 2);
	msgs[1].keywords = sweep_kws;
	return store_mailbox_append(s->box, msgs, 2, uids);
}

static int
sweep_flags(struct store_test *st, void *context)
{
	struct sweep *s = context;
	static const char *const kws[] = { "flagkw", NULL };

	return store_mailbox_update_flags(s->box, s->uids, 2, STORE_FLAGS_ADD,
					  STORE_FLAG_FLAGGED, kws, 0, NULL);
}

static int
sweep_copy(struct store_test *st, void *context)
{
	struct sweep *s = context;
	uint32_t dest_uids[2];
	return store_mailbox_copy(s->box, s->uids + 2, 2, s->dest, dest_uids);
}

static int
sweep_move(struct store_test *st, void *context)
{
	struct sweep *s = context;
	uint32_t dest_uids[1];

	return store_mailbox_move(s->box, s->uids + 1, 1, s->dest, dest_uids);
}

static int
sweep_expunge(struct store_test *st, void *context)
{
	struct sweep *s = context;

	return store_mailbox_expunge(s->box, s->uids, 1, NULL);
}

/* Brings both views and indexes up to date, so that no repair is
   pending when an attempt starts. */
static int
sweep_settle(struct store_test *st, void *context)
{
	struct sweep *s = context;

	if (store_mailbox_sync(s->box, 0, NULL) < 0 ||
	    store_mailbox_sync(s->dest, 0, NULL) < 0)
		return -1;
	return 0;
}

/* Appends, flag changes, copies, moves and expunges made to fail at each
   of their file operations in turn leave the files as they were,
   account.info included: keywords they created are taken back, a move
   whose expunge failed takes its copies back, an expunge whose
   directory fsync failed puts the messages back. */
static void
test_failures_change_nothing(void **state)
{
	struct box_test *t = *state;
	struct sweep s;
	unsigned int kw;

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mailbox_create(t->account, "Dest", t->format,
					      NULL), 0);
	s.box = open_box(t, "Box");
	s.dest = open_box(t, "Dest");
	append_n(s.box, 4, s.uids);
	assert_int_equal(store_mailbox_update_flags(s.box, s.uids + 2, 2,
		STORE_FLAGS_ADD, 0, sweep_kws + 1, 0, NULL), 0);

	/* each is one "any" sweep; "fsync" first fails the account.info
	   write of a new keyword (file, directory), then the steps after */
	assert_true(store_test_fault_sweep_settled(&t->st, "any",
		sweep_append, sweep_settle, &s) >= 3);
	assert_true(store_test_fault_sweep_settled(&t->st, "fsync",
		sweep_flags, sweep_settle, &s) >= 3);
	assert_int_equal(store_mailbox_keyword_lookup(s.box, "flagkw", false,
						      &kw), 0);
	assert_true(store_test_fault_sweep_settled(&t->st, "fsync",
		sweep_copy, sweep_settle, &s) >= 3);
	assert_int_equal(store_mailbox_keyword_lookup(s.dest, "new2", false,
						      &kw), 0);
	assert_int_equal(kw, 0);
	assert_true(store_test_fault_sweep_settled(&t->st, "any",
		sweep_move, sweep_settle, &s) >= 6);
	assert_int_equal(store_mailbox_update_flags(s.box, s.uids, 1,
		STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, NULL), 0);
	assert_true(store_test_fault_sweep_settled(&t->st, "any",
		sweep_expunge, sweep_settle, &s) >= 3);
	assert_int_equal(store_mailbox_sync(s.box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(s.box), 4);
	assert_int_equal(store_mailbox_sync(s.dest, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(s.dest), 3);
	store_mailbox_close(&s.dest);
	store_mailbox_close(&s.box);
	assert_clean(t, "Box");
	assert_clean(t, "Dest");
}

/* Several processes deliver, flag and expunge on one mailbox at once;
   afterwards every delivery is there once and check is clean. */
#define CONC_PROCS 4
#define CONC_MSGS 15

static void
concurrent_child(struct box_test *t, unsigned int n)
{
	struct store *store;
	struct account *account;
	struct store_append msg;
	struct mailbox *box;
	uint32_t uid, last = 0;
	unsigned int i;
	char text[64];

	if (store_open(t->st.base, &store) < 0 ||
	    store_account_open(store, "joe", &account) < 0 ||
	    store_mailbox_open(account, "Box", &box) < 0)
		_exit(2);
	for (i = 0; i < CONC_MSGS; i++) {
		snprintf(text, sizeof(text), "Subject: p%u-%u\r\n\r\n.\r\n",
			 n, i);
		memset(&msg, 0, sizeof(msg));
		msg.data = (const unsigned char *)text;
		msg.len = strlen(text);
		if (store_deliver(account, "Box", &msg, &uid) < 0 ||
		    uid <= last)
			_exit(3);
		last = uid;
		if (store_mailbox_update_flags(box, &uid, 1, STORE_FLAGS_ADD,
					       STORE_FLAG_SEEN, NULL, 0,
					       NULL) < 0 ||
		    store_mailbox_sync(box, i % 2 == 0 ?
				       MAILBOX_SYNC_FLAG_NO_EXPUNGES : 0,
				       NULL) < 0)
			_exit(4);
	}
	/* each process expunges its own last message */
	if (store_mailbox_update_flags(box, &last, 1, STORE_FLAGS_ADD,
				       STORE_FLAG_DELETED, NULL, 0, NULL) < 0 ||
	    store_mailbox_expunge(box, &last, 1, NULL) < 0)
		_exit(5);
	store_mailbox_close(&box);
	store_account_close(&account);
	store_close(&store);
	_exit(0);
}

static void
test_concurrent_processes(void **state)
{
	struct box_test *t = *state;
	struct mailbox *box;
	const struct store_msg *msgs;
	pid_t pids[CONC_PROCS];
	unsigned int i;
	int status;

	for (i = 0; i < CONC_PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			concurrent_child(t, i);
	}
	for (i = 0; i < CONC_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	box = open_box(t, "Box");
	assert_int_equal(store_mailbox_count(box),
			 CONC_PROCS * (CONC_MSGS - 1));
	msgs = store_mailbox_msgs(box);
	for (i = 0; i < store_mailbox_count(box); i++) {
		assert_int_equal(msgs[i].flags, STORE_FLAG_SEEN);
		if (i > 0)
			assert_true(msgs[i].uid > msgs[i - 1].uid);
	}
	store_mailbox_close(&box);
	assert_clean(t, "Box");
}

int
main(int argc, char **argv)
{
#define BOTH(name) \
	cmocka_unit_test_setup_teardown(name, setup_mbox, teardown), \
	cmocka_unit_test_setup_teardown(name, setup_mdir, teardown)
	const struct CMUnitTest tests[] = {
		BOTH(test_append_read),
		BOTH(test_deliver),
		BOTH(test_bad_arguments),
		BOTH(test_flags),
		BOTH(test_flags_overflow),
		BOTH(test_expunge),
		BOTH(test_copy_mbox),
		BOTH(test_copy_mdir),
		BOTH(test_move_mbox),
		BOTH(test_move_mdir),
		BOTH(test_copy_self_and_handles),
		BOTH(test_move_self),
		BOTH(test_two_handles),
		BOTH(test_append_all_or_nothing),
		BOTH(test_concurrent_processes),
		BOTH(test_failures_change_nothing),
	};
#undef BOTH

	self_path = argv[0];
	if (argc == 4 && strcmp(argv[1], "--child-append") == 0)
		return child_append(argv[2], argv[3]);
	log_init("test-mailbox", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
