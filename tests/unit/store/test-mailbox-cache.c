/* SPDX-License-Identifier: MIT */
/*
 * test-mailbox-cache.c: unit tests for the header cache
 * (src/store/mailbox-cache.c) in both formats: every way of saving a
 * message (delivery, append of several, copy and move within and across
 * formats, with and without the source's cache loaded) leaves its record
 * in NAME.cache before anyone reads the message; a failed save leaves
 * none; a torn tail, damage and a cache of an older mailbox are detected
 * and the records computed again; a session sees records that saves
 * wrote after it mapped the file.
 */
#include "test-store-common.h"
#include "mailbox-private.h"
#include "log.h"

#define T1 1795632672LL

static const char *const texts[] = {
	"Subject: one\r\nFrom: a@example.org\r\nX-Other: z\r\n\r\nbody one\r\n",
	"Subject: two\n Folded\nTo: b@example.org\n\nbody\n",
	"",
	"X-Only: none of the cached fields\r\n\r\nfour\r\n",
};
/* What the cache keeps of each: the cached fields as "Name:value\r\n",
   folds kept. */
static const char *const values[] = {
	"Subject: one\r\nFrom: a@example.org\r\n",
	"Subject: two\n Folded\r\nTo: b@example.org\r\n",
	"",
	"",
};

static int
setup_mbox(void **state)
{
	return store_box_test_setup(state, MAILBOX_FORMAT_MBOX);
}

static int
setup_mdir(void **state)
{
	return store_box_test_setup(state, MAILBOX_FORMAT_MDIR);
}

static const char *
ext(enum mailbox_format format)
{
	return format == MAILBOX_FORMAT_MBOX ? "mbox" : "mdir";
}

/* Relative path of the cache of mailbox name (format). */
static char *
cache_rel(const char *name, enum mailbox_format format)
{
	return i_strdup_printf("Accounts/joe.macnt/%s.%s.cache", name,
			       ext(format));
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
	}
}

static uint32_t
uidvalidity_of(struct store_box_test *t, const char *name)
{
	struct mailbox_status status;

	assert_int_equal(store_mailbox_status(t->account, name, &status), 0);
	return status.uidvalidity;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Reads the cache of name: every record must check (as a reader sees
 * it: mailbox_cache_parse_buf), there must be exactly count of them,
 * and the record of uids[i] must hold values[vals[i]].
 */
static void
assert_cache(struct store_box_test *t, const char *name,
	     enum mailbox_format format, const uint32_t *uids,
	     const unsigned int *vals, unsigned int count)
{
	char *rel = cache_rel(name, format), *path;
	unsigned char *data;
	uint32_t first, last;
	unsigned int i;
	size_t len, pos;
	bool rewrite;

	path = store_test_path(&t->st, rel);
	if (vfs_read_file(path, &data, &len) != 0)
		fail_msg("%s: no header cache", rel);
	assert_int_equal(mailbox_cache_parse_buf(data, len,
						 uidvalidity_of(t, name),
						 &rewrite, &first, &last),
			 count);
	assert_false(rewrite);
	for (i = 0; i < count; i++) {
		bool found = false;

		for (pos = 16; pos + 12 <= len; pos += 12 + le32(data + pos + 4)) {
			size_t vlen = le32(data + pos + 4);

			if (le32(data + pos) != uids[i])
				continue;
			assert_false(found);
			found = true;
			assert_int_equal(vlen, strlen(values[vals[i]]));
			assert_memory_equal(data + pos + 12, values[vals[i]],
					    vlen);
		}
		if (!found)
			fail_msg("%s: no record of UID %u", rel, uids[i]);
	}
	free(data);
	free(path);
	free(rel);
}

/* The cached header of uid as a session gets it. */
static void
assert_session_value(struct mailbox *box, uint32_t uid, const char *want)
{
	const struct store_msg *msgs = store_mailbox_msgs(box);
	unsigned int seq = store_mailbox_seq(box, uid);
	buf_t out = BUF_INIT;

	assert_true(seq > 0);
	assert_int_equal(store_mailbox_msg_cached_header(box, &msgs[seq - 1],
							 &out), 0);
	assert_int_equal(out.len, strlen(want));
	if (out.len > 0)
		assert_memory_equal(out.data, want, out.len);
	buf_deinit(&out);
}

/* Overwrites "Subject: one" in the stored message uid with a text of
   the same length, behind the store's back (messages never change, so
   a value that still says "one" came from the cache, not the file). */
static void
change_behind_back(struct store_box_test *t, struct mailbox *box, uint32_t uid)
{
	unsigned char buf[512];
	uint64_t size;
	off_t off;
	int fd, wfd;
	char *path;

	assert_int_equal(store_mailbox_msg_fd(box, uid, &fd, &off, &size), 1);
	assert_true(size < sizeof(buf));
	assert_int_equal(pread(fd, buf, size, off), (ssize_t)size);
	assert_memory_equal(buf, "Subject: one", 12);
	if (t->format == MAILBOX_FORMAT_MBOX) {
		path = store_test_path(&t->st, "Accounts/joe.macnt/Box.mbox");
		wfd = open(path, O_WRONLY);
		free(path);
	} else {
		/* the mdir file: the descriptor we got is read-only */
		char link[64], target[512];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		assert_true(n > 0);
		target[n] = '\0';
		wfd = open(target, O_WRONLY);
	}
	assert_true(wfd != -1);
	assert_int_equal(pwrite(wfd, "Subject: ONE", 12, off), 12);
	close(wfd);
	close(fd);
}

/* ---- every save writes the records ---- */

static void
test_deliver(void **state)
{
	struct store_box_test *t = *state;
	struct store_append msg[4];
	uint32_t uids[4];
	unsigned int i, vals[4] = { 0, 1, 2, 3 };

	make_append(msg, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(store_deliver(t->account, "Box", &msg[i],
					       &uids[i]), 0);
	/* no view was opened, no message read */
	assert_cache(t, "Box", t->format, uids, vals, 4);
}

static void
test_append_many(void **state)
{
	struct store_box_test *t = *state;
	struct store_append msgs[8];
	uint32_t uids[8], uidvalidity;
	unsigned int i, vals[8];
	struct mailbox *box;

	make_append(msgs, 8);
	for (i = 0; i < 8; i++)
		vals[i] = i % 4;
	assert_int_equal(store_append_to(t->account, "Box", msgs, 4, uids,
					 &uidvalidity), 0);
	assert_int_equal(uidvalidity, uidvalidity_of(t, "Box"));
	assert_cache(t, "Box", t->format, uids, vals, 4);
	assert_int_equal(store_mailbox_open(t->account, "Box", &box), 0);
	assert_int_equal(store_mailbox_append(box, msgs + 4, 4, uids + 4), 0);
	assert_cache(t, "Box", t->format, uids, vals, 8);
	/* a session takes the value from the cache, not the message */
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	change_behind_back(t, box, uids[0]);
	assert_session_value(box, uids[0], values[0]);
	assert_session_value(box, uids[1], values[1]);
	assert_session_value(box, uids[3], values[3]);
	store_mailbox_close(&box);
	/* and adds nothing to it */
	assert_cache(t, "Box", t->format, uids, vals, 8);
}

/* Copies and moves Box's messages to Dest of format, with Box's cache
   loaded by a session or not. */
static void
copy_to(struct store_box_test *t, enum mailbox_format format, bool loaded)
{
	struct store_append msgs[4];
	struct mailbox *box, *dest;
	uint32_t uids[4], copies[4], moved[4];
	unsigned int i, vals[4] = { 0, 1, 2, 3 };
	char *rel = cache_rel("Box", t->format);

	assert_int_equal(store_mailbox_create(t->account, "Dest", format,
					      NULL), 0);
	make_append(msgs, 4);
	assert_int_equal(store_append_to(t->account, "Box", msgs, 4, uids,
					 NULL), 0);
	assert_int_equal(store_mailbox_open(t->account, "Box", &box), 0);
	if (loaded) {
		for (i = 0; i < 4; i++)
			assert_session_value(box, uids[i], values[i]);
	} else {
		/* without a loaded cache the copy computes the values */
		store_test_unlink(&t->st, rel);
	}
	assert_int_equal(store_mailbox_open(t->account, "Dest", &dest), 0);
	assert_int_equal(store_mailbox_copy(box, uids, 2, dest, copies), 0);
	assert_cache(t, "Dest", format, copies, vals, 2);
	assert_int_equal(store_mailbox_move(box, uids + 2, 2, dest, moved), 0);
	copies[2] = moved[0];
	copies[3] = moved[1];
	assert_cache(t, "Dest", format, copies, vals, 4);
	store_mailbox_close(&dest);
	store_mailbox_close(&box);
	free(rel);
}

static void
test_copy_same_format(void **state)
{
	struct store_box_test *t = *state;

	copy_to(t, t->format, true);
}

static void
test_copy_same_format_unloaded(void **state)
{
	struct store_box_test *t = *state;

	copy_to(t, t->format, false);
}

static void
test_copy_other_format(void **state)
{
	struct store_box_test *t = *state;

	copy_to(t, t->format == MAILBOX_FORMAT_MBOX ? MAILBOX_FORMAT_MDIR :
		MAILBOX_FORMAT_MBOX, false);
}

/* ---- failures and damage ---- */

/* Each of a save's writes, fsyncs and renames failing in turn: the
   saves that fail leave no cache (their UIDs may be handed out again),
   the first that succeeds has its records. */
static void
test_failed_save_writes_none(void **state)
{
	static const char *const kinds[] = { "write", "fsync", "rename" };
	struct store_box_test *t = *state;
	struct store_append msgs[2];
	unsigned int k, n, vals[2] = { 0, 1 };
	char *rel = cache_rel("Box", t->format), *spec;
	uint32_t uids[2];
	int ret;

	make_append(msgs, 2);
	for (k = 0; k < N_ELEMENTS(kinds); k++) {
		for (n = 1, ret = -1; ret != 0 && n < 100; n++) {
			spec = i_strdup_printf("%s:%u", kinds[k], n);
			vfs_fault_set(spec);
			ret = store_append_to(t->account, "Box", msgs, 2, uids,
					      NULL);
			vfs_fault_set(NULL);
			store_clear_error();
			if (ret != 0 && store_test_exists(&t->st, rel))
				fail_msg("%s: a failed save wrote the cache",
					 spec);
			free(spec);
		}
		assert_int_equal(ret, 0);
		assert_true(n > 1);
		assert_cache(t, "Box", t->format, uids, vals, 2);
		store_test_unlink(&t->st, rel);
	}
	free(rel);
}

/* Writes data over the cache file of Box. */
static void
cache_put(struct store_box_test *t, const unsigned char *data, size_t len)
{
	char *rel = cache_rel("Box", t->format);
	char *path = store_test_path(&t->st, rel);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(path);
	free(rel);
}

static void
test_torn_tail_recomputed(void **state)
{
	struct store_box_test *t = *state;
	struct store_append msgs[8];
	uint32_t uids[8];
	unsigned int i, vals[8];
	unsigned char *data;
	struct mailbox *box;
	char *rel = cache_rel("Box", t->format), *path;
	size_t len;

	make_append(msgs, 8);
	for (i = 0; i < 8; i++)
		vals[i] = i % 4;
	assert_int_equal(store_append_to(t->account, "Box", msgs, 2, uids,
					 NULL), 0);
	/* a crash tore the last record (its value cut short)... */
	path = store_test_path(&t->st, rel);
	assert_int_equal(vfs_read_file(path, &data, &len), 0);
	cache_put(t, data, len - 5);
	free(data);
	/* ...and later saves append after it */
	assert_int_equal(store_append_to(t->account, "Box", msgs + 2, 2,
					 uids + 2, NULL), 0);
	assert_int_equal(store_mailbox_open(t->account, "Box", &box), 0);
	for (i = 0; i < 4; i++)
		assert_session_value(box, uids[i], values[vals[i]]);
	store_mailbox_close(&box);
	/* the reader rewrote it whole */
	assert_cache(t, "Box", t->format, uids, vals, 4);

	/* a tail cut inside a record header, and zeros (a file extended
	   but never written, as a power loss can leave it) */
	assert_int_equal(vfs_read_file(path, &data, &len), 0);
	cache_put(t, data, 16 + 12 + strlen(values[0]) + 5);
	free(data);
	assert_int_equal(store_append_to(t->account, "Box", msgs + 4, 2,
					 uids + 4, NULL), 0);
	assert_int_equal(vfs_read_file(path, &data, &len), 0);
	data = i_realloc(data, len + 100);
	memset(data + len, 0, 100);
	cache_put(t, data, len + 100);
	free(data);
	assert_int_equal(store_append_to(t->account, "Box", msgs + 6, 2,
					 uids + 6, NULL), 0);
	assert_int_equal(store_mailbox_open(t->account, "Box", &box), 0);
	for (i = 0; i < 8; i++)
		assert_session_value(box, uids[i], values[vals[i]]);
	store_mailbox_close(&box);
	assert_cache(t, "Box", t->format, uids, vals, 8);
	free(path);
	free(rel);
}

static void
test_foreign_cache_replaced(void **state)
{
	struct store_box_test *t = *state;
	static const unsigned char foreign[16] = {
		'C', 'M', 'C', 'H', 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0
	};
	struct store_append msg;
	unsigned int val = 0;
	uint32_t uid;

	cache_put(t, foreign, sizeof(foreign));
	make_append(&msg, 1);
	assert_int_equal(store_deliver(t->account, "Box", &msg, &uid), 0);
	assert_cache(t, "Box", t->format, &uid, &val, 1);
	cache_put(t, (const unsigned char *)"garbage", 7);
	assert_int_equal(store_deliver(t->account, "Box", &msg, &uid), 0);
	assert_cache(t, "Box", t->format, &uid, &val, 1);
}

/* A session that mapped the cache before a delivery finds the
   delivered message's record after its next sync. */
static void
test_session_sees_later_saves(void **state)
{
	struct store_box_test *t = *state;
	struct store_append msgs[2];
	struct mailbox *box;
	uint32_t uids[2];

	make_append(msgs, 2);
	assert_int_equal(store_deliver(t->account, "Box", &msgs[1], &uids[1]),
			 0);
	assert_int_equal(store_mailbox_open(t->account, "Box", &box), 0);
	assert_session_value(box, uids[1], values[1]);
	assert_int_equal(store_deliver(t->account, "Box", &msgs[0], &uids[0]),
			 0);
	assert_int_equal(store_mailbox_sync(box, 0, NULL), 0);
	change_behind_back(t, box, uids[0]);
	assert_session_value(box, uids[0], values[0]);
	store_mailbox_close(&box);
}

int
main(void)
{
#define BOTH(name) \
	cmocka_unit_test_setup_teardown(name, setup_mbox, \
					store_box_test_teardown), \
	cmocka_unit_test_setup_teardown(name, setup_mdir, \
					store_box_test_teardown)
	const struct CMUnitTest tests[] = {
		BOTH(test_deliver),
		BOTH(test_append_many),
		BOTH(test_copy_same_format),
		BOTH(test_copy_same_format_unloaded),
		BOTH(test_copy_other_format),
		BOTH(test_failed_save_writes_none),
		BOTH(test_torn_tail_recomputed),
		BOTH(test_foreign_cache_replaced),
		BOTH(test_session_sees_later_saves),
	};

	log_init("test-mailbox-cache", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
