/* SPDX-License-Identifier: MIT */
/*
 * test-mailbox-index.c: unit tests for src/store/mailbox-index.c and
 * mailbox-refresh.c: header and record encoding with their checksums
 * (every single-byte corruption is detected), and through the store:
 * an index deleted or corrupted is rebuilt with the same UIDs, flags,
 * keywords, dates and sizes; an .mbox that only grew is parsed from its
 * tail; a dirty index keeps the modseqs of unchanged messages; UIDs are
 * not reused and HIGHESTMODSEQ does not go backwards when the index is
 * lost. Both formats.
 */
#include "test-store-common.h"
#include "mailbox-private.h"
#include "log.h"

#include <time.h>

/* ---- encoding ---- */

static void
sample_hdr(struct index_hdr *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->uidvalidity = 1234567;
	hdr->uidnext = 42;
	hdr->highestmodseq = 1795632672000000ULL;
	hdr->generation = 7;
	hdr->dirty = INDEX_APPENDING;
	hdr->format = MAILBOX_FORMAT_MDIR;
	hdr->ident.ino = 99;
	hdr->ident.size = 12345;
	hdr->ident.mtime_sec = 1795632672;
	hdr->ident.mtime_nsec = 999999999;
	hdr->record_count = 3;
	hdr->keyword_count = 2;
	hdr->unseen = 1;
	hdr->deleted = 2;
	hdr->bytes = 1 << 20;
}

static void
test_hdr_roundtrip(void **state)
{
	unsigned char buf[MAILBOX_INDEX_HEADER_SIZE];
	struct index_hdr hdr, out;
	unsigned int i;

	sample_hdr(&hdr);
	index_hdr_encode(&hdr, buf);
	assert_int_equal(index_hdr_decode(buf, &out), 1);
	assert_memory_equal(&hdr, &out, sizeof(hdr));
	/* little-endian magic "CMIX" */
	assert_memory_equal(buf, "CMIX", 4);
	for (i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x10;
		if (index_hdr_decode(buf, &out) != 0)
			fail_msg("header byte %u corruption not detected", i);
		buf[i] ^= 0x10;
	}
}

static void
test_rec_roundtrip(void **state)
{
	unsigned char buf[MAILBOX_INDEX_RECORD_SIZE];
	struct mail_rec rec, out;
	unsigned int i;

	memset(&rec, 0, sizeof(rec));
	rec.uid = 4000000000u;
	rec.flags = STORE_FLAG_SEEN | STORE_FLAG_KEYWORD(25);
	rec.size = 123456;
	rec.internal_date = -86400;
	rec.save_date = 1795632672;
	rec.modseq = 1795632672000001ULL;
	rec.offset = 1ULL << 35;
	rec.hdr_len = 70;
	rec.flags_off = 9;
	rec.flags_len = 8;
	index_rec_encode(&rec, buf);
	memset(&out, 0, sizeof(out));
	assert_int_equal(index_rec_decode(buf, &out), 1);
	assert_memory_equal(&rec, &out, sizeof(rec));
	for (i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x01;
		if (index_rec_decode(buf, &out) != 0)
			fail_msg("record byte %u corruption not detected", i);
		buf[i] ^= 0x01;
	}
}

/* ---- through the store ---- */

struct snap {
	unsigned int count;
	struct store_msg msgs[64];
	char keywords[64][8][16];
	struct mailbox_status status;
};

static struct account *
new_box(struct store_test *t, enum mailbox_format format)
{
	struct account *account = store_test_new_account(t, "joe",
							 ACCOUNT_TYPE_MULTI);

	assert_int_equal(store_mailbox_create(account, "Box", format, NULL), 0);
	return account;
}

static void
fill(struct account *account, unsigned int count)
{
	static const char *const kw_a[] = { "$Forwarded", "work", NULL };
	static const char *const kw_b[] = { "later", NULL };
	struct store_append msg;
	struct mailbox *box;
	unsigned int i;
	uint32_t uid, del[2];
	char text[128];

	for (i = 0; i < count; i++) {
		memset(&msg, 0, sizeof(msg));
		snprintf(text, sizeof(text), "Subject: %u\r\n\r\n%*s\r\n", i,
			 (int)(i * 7 % 50), "x");
		msg.data = (const unsigned char *)text;
		msg.len = strlen(text);
		msg.flags = i % 3 == 0 ? STORE_FLAG_SEEN : 0;
		msg.keywords = i % 4 == 1 ? kw_a : i % 4 == 2 ? kw_b : NULL;
		msg.internal_date = 1700000000 + (int64_t)i * 3600;
		msg.return_path = "a@b.example";
		assert_int_equal(store_deliver(account, "Box", &msg, &uid), 0);
		assert_int_equal(uid, i + 1);
	}
	/* flag some, expunge two */
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	del[0] = 2;
	del[1] = 5;
	assert_int_equal(store_mailbox_update_flags(box, del, 2,
		STORE_FLAGS_ADD, STORE_FLAG_DELETED | STORE_FLAG_FLAGGED,
		NULL, 0, NULL), 0);
	assert_int_equal(store_mailbox_expunge(box, NULL, 0, NULL), 0);
	del[0] = 3;
	assert_int_equal(store_mailbox_update_flags(box, del, 1,
		STORE_FLAGS_ADD, STORE_FLAG_ANSWERED, kw_b, 0, NULL), 0);
	store_mailbox_close(&box);
}

static void
take_snap(struct account *account, struct snap *s)
{
	struct mailbox *box;
	unsigned int i, k, n;

	memset(s, 0, sizeof(*s));
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	s->count = store_mailbox_count(box);
	assert_true(s->count <= 64);
	memcpy(s->msgs, store_mailbox_msgs(box), s->count * sizeof(s->msgs[0]));
	for (i = 0; i < s->count; i++) {
		for (k = 0, n = 0; k < STORE_KEYWORDS_MAX && n < 8; k++) {
			if ((s->msgs[i].flags & STORE_FLAG_KEYWORD(k)) != 0)
				snprintf(s->keywords[i][n++], 16, "%s",
					 store_mailbox_keyword_name(box, k));
		}
	}
	store_mailbox_get_status(box, &s->status);
	store_mailbox_close(&box);
}

/* Everything the files hold must survive; modseqs may differ. */
static void
assert_same(const struct snap *a, const struct snap *b)
{
	unsigned int i;

	assert_int_equal(a->count, b->count);
	for (i = 0; i < a->count; i++) {
		assert_int_equal(a->msgs[i].uid, b->msgs[i].uid);
		assert_int_equal(a->msgs[i].flags & STORE_FLAGS_SYSTEM,
				 b->msgs[i].flags & STORE_FLAGS_SYSTEM);
		assert_int_equal(a->msgs[i].size, b->msgs[i].size);
		assert_int_equal(a->msgs[i].internal_date,
				 b->msgs[i].internal_date);
		assert_memory_equal(a->keywords[i], b->keywords[i],
				    sizeof(a->keywords[i]));
	}
	assert_int_equal(a->status.uidvalidity, b->status.uidvalidity);
	assert_int_equal(a->status.uidnext, b->status.uidnext);
	assert_int_equal(a->status.unseen, b->status.unseen);
	assert_int_equal(a->status.bytes, b->status.bytes);
	assert_true(b->status.highestmodseq >= a->status.highestmodseq);
}

static const char *
idx_rel(enum mailbox_format format)
{
	return format == MAILBOX_FORMAT_MBOX ? "Accounts/joe.macnt/Box.mbox.idx" :
		"Accounts/joe.macnt/Box.mdir.idx";
}

static void
check_clean(struct account *account)
{
	buf_t report = BUF_INIT;

	if (store_mailbox_check(account, "Box", &report) != 0)
		fail_msg("check: %s", buf_cstr(&report));
	if (strstr(buf_cstr(&report), "note:") != NULL)
		fail_msg("check: %s", buf_cstr(&report));
	buf_deinit(&report);
}

static void
rebuild_after_delete(struct store_test *t, enum mailbox_format format)
{
	struct account *account = new_box(t, format);
	struct snap before, after;

	fill(account, 12);
	take_snap(account, &before);
	assert_int_equal(before.count, 10);
	check_clean(account);
	store_test_unlink(t, idx_rel(format));
	take_snap(account, &after);
	assert_same(&before, &after);
	assert_true(after.status.highestmodseq > before.status.highestmodseq);
	assert_true(store_test_exists(t, idx_rel(format)));
	check_clean(account);
	/* reindex gives the same again */
	assert_int_equal(store_mailbox_reindex(account, "Box"), 0);
	take_snap(account, &after);
	assert_same(&before, &after);
	store_account_close(&account);
}

static void
test_rebuild_mbox(void **state)
{
	rebuild_after_delete(*state, MAILBOX_FORMAT_MBOX);
}

static void
test_rebuild_mdir(void **state)
{
	rebuild_after_delete(*state, MAILBOX_FORMAT_MDIR);
}

static void
flip_byte(struct store_test *t, const char *rel, off_t off)
{
	char *path = store_test_path(t, rel);
	unsigned char c;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x04;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
	free(path);
}

static void
corrupt_and_rebuild(struct store_test *t, enum mailbox_format format)
{
	static const off_t offsets[] = {
		0, 20, 44, 80, 121,             /* header */
		128 + 0, 128 + 4, 128 + 8 + 64, /* first, second record */
		128 + 64 * 3 + 33, 128 + 64 * 9 + 63,
	};
	struct account *account = new_box(t, format);
	struct snap before, after;
	struct mailbox *box;
	unsigned int i;

	fill(account, 12);
	take_snap(account, &before);
	for (i = 0; i < N_ELEMENTS(offsets); i++) {
		flip_byte(t, idx_rel(format), offsets[i]);
		take_snap(account, &after);
		assert_same(&before, &after);
		check_clean(account);
	}
	/* a truncated index */
	{
		char *path = store_test_path(t, idx_rel(format));

		assert_int_equal(truncate(path, 128 + 64 * 4 + 10), 0);
		free(path);
	}
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	assert_int_equal(store_mailbox_count(box), before.count);
	store_mailbox_close(&box);
	check_clean(account);
	store_account_close(&account);
}

static void
test_corrupt_mbox(void **state)
{
	corrupt_and_rebuild(*state, MAILBOX_FORMAT_MBOX);
}

static void
test_corrupt_mdir(void **state)
{
	corrupt_and_rebuild(*state, MAILBOX_FORMAT_MDIR);
}

/* Another tool appended to the .mbox: only the tail is parsed, so the
   old messages keep their modseqs. */
static void
test_mbox_tail(void **state)
{
	struct store_test *t = *state;
	struct account *account = new_box(t, MAILBOX_FORMAT_MBOX);
	struct snap before, after;
	char *path = store_test_path(t, "Accounts/joe.macnt/Box.mbox");
	FILE *f;

	fill(account, 6);
	take_snap(account, &before);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("From <x@y> (SF-100) Wed Nov 25 18:51:12 2026 4\nabcd\n", f);
	/* and a torn one after it: truncated away */
	fputs("From <x@y> (-101) Wed Nov 25 18:51:12 2026 40\nab", f);
	fclose(f);
	take_snap(account, &after);
	assert_int_equal(after.count, before.count + 1);
	assert_memory_equal(after.msgs, before.msgs,
			    before.count * sizeof(before.msgs[0]));
	assert_int_equal(after.msgs[before.count].uid, 100);
	assert_int_equal(after.msgs[before.count].flags,
			 STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	assert_int_equal(after.msgs[before.count].size, 4);
	assert_int_equal(after.status.uidnext, 101);
	check_clean(account);
	free(path);
	store_account_close(&account);
}

/* A dirty index (a crash between marking and committing) is rebuilt
   from the files, keeping modseqs of messages that did not change. */
static void
dirty_index(struct store_test *t, enum mailbox_format format)
{
	struct account *account = new_box(t, format);
	struct snap before, after;
	struct index_hdr hdr;
	unsigned char buf[MAILBOX_INDEX_HEADER_SIZE];
	char *path;
	int fd;

	fill(account, 8);
	take_snap(account, &before);
	path = store_test_path(t, idx_rel(format));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(index_read_hdr(fd, &hdr), 1);
	hdr.dirty = INDEX_DIRTY;
	index_hdr_encode(&hdr, buf);
	assert_int_equal(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
	free(path);
	take_snap(account, &after);
	assert_memory_equal(after.msgs, before.msgs,
			    before.count * sizeof(before.msgs[0]));
	check_clean(account);
	store_account_close(&account);
}

static void
test_dirty_mbox(void **state)
{
	dirty_index(*state, MAILBOX_FORMAT_MBOX);
}

static void
test_dirty_mdir(void **state)
{
	dirty_index(*state, MAILBOX_FORMAT_MDIR);
}

/* The highest UID expunged, then the index lost: UIDNEXT from
   account.info keeps the UID from coming back. */
static void
uids_not_reused(struct store_test *t, enum mailbox_format format)
{
	struct account *account = new_box(t, format);
	struct store_append msg;
	struct mailbox *box;
	uint32_t uid = 3;
	uint64_t hms;

	fill(account, 3);
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	assert_int_equal(store_mailbox_update_flags(box, &uid, 1,
		STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, NULL), 0);
	assert_int_equal(store_mailbox_expunge(box, NULL, 0, NULL), 0);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	hms = store_mailbox_msgs(box)[0].modseq;
	store_mailbox_close(&box);
	store_test_unlink(t, idx_rel(format));
	memset(&msg, 0, sizeof(msg));
	msg.data = (const unsigned char *)"x";
	msg.len = 1;
	assert_int_equal(store_deliver(account, "Box", &msg, &uid), 0);
	assert_int_equal(uid, 4);
	assert_int_equal(store_mailbox_open(account, "Box", &box), 0);
	assert_true(store_mailbox_msgs(box)[0].modseq > hms);
	store_mailbox_close(&box);
	store_account_close(&account);
}

static void
test_uids_mbox(void **state)
{
	uids_not_reused(*state, MAILBOX_FORMAT_MBOX);
}

static void
test_uids_mdir(void **state)
{
	uids_not_reused(*state, MAILBOX_FORMAT_MDIR);
}

/* Duplicate UIDs in an .mdir (a copy bug) are reported by check and
   renumbered by the next open. */
static void
test_mdir_duplicate_uid(void **state)
{
	struct store_test *t = *state;
	struct account *account = new_box(t, MAILBOX_FORMAT_MDIR);
	buf_t report = BUF_INIT;
	struct snap after;

	fill(account, 3);
	store_test_write(t, "Accounts/joe.macnt/Box.mdir/1-F-20261125185112",
			 "dup");
	assert_int_equal(store_mailbox_check(account, "Box", &report), 1);
	assert_non_null(strstr(buf_cstr(&report), "duplicate uid 1"));
	buf_deinit(&report);
	take_snap(account, &after);
	assert_int_equal(after.count, 3);
	assert_int_equal(after.msgs[2].uid, 4);
	assert_int_equal(after.status.uidnext, 5);
	check_clean(account);
	store_account_close(&account);
}

/* Delivery reads the index header only (no records): a damaged record
   does not stop it, and the next open rebuilds. */
static void
test_deliver_header_only(void **state)
{
	struct store_test *t = *state;
	struct account *account = new_box(t, MAILBOX_FORMAT_MBOX);
	struct store_append msg;
	struct snap after;
	uint32_t uid;

	fill(account, 5);
	flip_byte(t, idx_rel(MAILBOX_FORMAT_MBOX), 128 + 8);
	memset(&msg, 0, sizeof(msg));
	msg.data = (const unsigned char *)"y";
	msg.len = 1;
	assert_int_equal(store_deliver(account, "Box", &msg, &uid), 0);
	assert_int_equal(uid, 6);
	take_snap(account, &after);
	assert_int_equal(after.count, 4);
	assert_int_equal(after.msgs[3].uid, 6);
	check_clean(account);
	store_account_close(&account);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_rec_roundtrip),
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_rebuild_mbox),
		T(test_rebuild_mdir),
		T(test_corrupt_mbox),
		T(test_corrupt_mdir),
		T(test_mbox_tail),
		T(test_dirty_mbox),
		T(test_dirty_mdir),
		T(test_uids_mbox),
		T(test_uids_mdir),
		T(test_mdir_duplicate_uid),
		T(test_deliver_header_only),
#undef T
	};

	log_init("test-mailbox-index", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
