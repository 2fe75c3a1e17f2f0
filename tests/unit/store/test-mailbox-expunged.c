/* SPDX-License-Identifier: MIT */
/*
 * test-mailbox-expunged.c: unit tests for the expunge history of
 * src/store/mailbox-index.c (NAME.exp, read through
 * store_mailbox_expunged_since) in both formats: exact answers by
 * MODSEQ, a missing or damaged history (horizon), a torn tail, a reindex,
 * messages removed behind the store's back, a failed write (the expunge
 * does not happen), a crash after every write of an expunge (the
 * history never misses a UID that is gone), compaction, and the RFC 8474
 * object identifiers.
 */
#include "test-store-common.h"
#include "mailbox-private.h"
#include "test-child.h"
#include "log.h"

#include <signal.h>

struct exp_test {
	struct store_test st;
	struct account *account;
	enum mailbox_format format;
	struct mailbox *box;
	char *exp_path;
};

static int
setup_format(void **state, enum mailbox_format format)
{
	struct exp_test *t = calloc(1, sizeof(*t));
	void *st;

	if (store_test_setup(&st) < 0)
		return -1;
	t->st = *(struct store_test *)st;
	free(st);
	t->format = format;
	t->account = store_test_new_account(&t->st, "joe", ACCOUNT_TYPE_MULTI);
	assert_int_equal(store_mailbox_create(t->account, "Box", format, NULL),
			 0);
	assert_int_equal(store_mailbox_open(t->account, "Box", &t->box), 0);
	t->exp_path = expunge_log_path(t->box->path);
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
	struct exp_test *t = *state;
	struct store_test *st = malloc(sizeof(*st));
	void *p = st;

	vfs_fault_set(NULL);
	store_mailbox_close(&t->box);
	store_account_close(&t->account);
	free(t->exp_path);
	*st = t->st;
	free(t);
	return store_test_teardown(&p);
}

/* Appends count messages (UIDs 1..count in a new mailbox). */
static void
append_n(struct exp_test *t, unsigned int count)
{
	struct store_append msg;
	unsigned int i;
	uint32_t uid;

	memset(&msg, 0, sizeof(msg));
	msg.data = (const unsigned char *)"Subject: x\r\n\r\nbody\r\n";
	msg.len = strlen((const char *)msg.data);
	for (i = 0; i < count; i++)
		assert_int_equal(store_mailbox_append(t->box, &msg, 1, &uid), 0);
	assert_int_equal(store_mailbox_sync(t->box, 0, NULL), 0);
}

static uint64_t
modseq_now(struct exp_test *t)
{
	struct mailbox_status st;

	assert_int_equal(store_mailbox_sync(t->box, 0, NULL), 0);
	store_mailbox_get_status(t->box, &st);
	return st.highestmodseq;
}

static void
mark_deleted(struct exp_test *t, uint32_t uid)
{
	assert_int_equal(store_mailbox_update_flags(t->box, &uid, 1,
						    STORE_FLAGS_ADD,
						    STORE_FLAG_DELETED, NULL,
						    0, NULL), 0);
}

static void
expunge_uid(struct exp_test *t, uint32_t uid)
{
	struct uid_array gone = { 0 };

	mark_deleted(t, uid);
	assert_int_equal(store_mailbox_expunge(t->box, &uid, 1, &gone), 0);
	assert_int_equal(gone.count, 1);
	assert_int_equal(gone.uids[0], uid);
	uid_array_free(&gone);
}

/* store_mailbox_expunged_since as "1,3,5" (or "-" when incomplete). */
static void
assert_since(struct exp_test *t, uint64_t since, const char *expect)
{
	struct uid_array uids = { 0 };
	buf_t str = BUF_INIT;
	unsigned int i;
	int ret;

	ret = store_mailbox_expunged_since(t->box, since, &uids);
	assert_true(ret >= 0);
	if (ret == 0)
		buf_append_str(&str, "-");
	for (i = 0; i < uids.count; i++)
		buf_printf(&str, "%s%u", i > 0 ? "," : "", uids.uids[i]);
	assert_string_equal(buf_cstr(&str), expect);
	buf_deinit(&str);
	uid_array_free(&uids);
}

static void
test_exact_answers(void **state)
{
	struct exp_test *t = *state;
	uint64_t m0, m1, m2;

	append_n(t, 6);
	m0 = modseq_now(t);
	/* no history before the first expunge (opening writes none) */
	assert_since(t, m0, "-");
	assert_int_equal(access(t->exp_path, F_OK), -1);
	/* the first one starts it complete: no UID was missing */
	expunge_uid(t, 2);
	m1 = modseq_now(t);
	expunge_uid(t, 5);
	expunge_uid(t, 6);      /* the highest UID */
	m2 = modseq_now(t);
	assert_since(t, m0, "2,5,6");
	assert_since(t, m1, "5,6");
	assert_since(t, m2, "");
	/* a second handle (another session) reads the same */
	{
		struct mailbox *other;
		struct uid_array uids = { 0 };

		assert_int_equal(store_mailbox_open(t->account, "Box", &other),
				 0);
		assert_int_equal(store_mailbox_expunged_since(other, m0,
							      &uids), 1);
		assert_int_equal(uids.count, 3);
		uid_array_free(&uids);
		store_mailbox_close(&other);
	}
}

static void
test_missing_and_damaged(void **state)
{
	struct exp_test *t = *state;
	uint64_t m0, m1;
	int fd;

	append_n(t, 5);
	m0 = modseq_now(t);
	expunge_uid(t, 1);
	assert_int_equal(unlink(t->exp_path), 0);
	assert_since(t, m0, "-");
	/* starts over with the horizon at the HIGHESTMODSEQ before */
	mark_deleted(t, 3);
	m1 = modseq_now(t);
	expunge_uid(t, 3);
	assert_since(t, m0, "-");
	assert_since(t, m1, "3");
	/* a damaged header: nothing known */
	fd = open(t->exp_path, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, "XXXX", 4, 0), 4);
	close(fd);
	assert_since(t, m1, "-");
	expunge_uid(t, 4);
	assert_since(t, m1, "-");
}

static void
test_torn_tail(void **state)
{
	struct exp_test *t = *state;
	uint64_t m0;
	int fd;

	append_n(t, 4);
	m0 = modseq_now(t);
	expunge_uid(t, 1);
	/* half a record, as a crash in the middle of a write leaves */
	fd = open(t->exp_path, O_WRONLY | O_APPEND);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "\x02\0\0\0\x11\x22", 6), 6);
	close(fd);
	assert_since(t, m0, "1");
	expunge_uid(t, 3);
	assert_since(t, m0, "1,3");
}

static void
test_reindex_moves_horizon(void **state)
{
	struct exp_test *t = *state;
	uint64_t m0, m1;

	append_n(t, 3);
	m0 = modseq_now(t);
	expunge_uid(t, 2);
	assert_int_equal(store_mailbox_reindex(t->account, "Box"), 0);
	m1 = modseq_now(t);
	assert_since(t, m0, "-");
	assert_since(t, m1, "");
	expunge_uid(t, 3);
	assert_since(t, m1, "3");
}

/* A message file removed by another program: the next rebuild finds
   it gone in the old records and logs it. */
static void
test_removed_behind_our_back(void **state)
{
	struct exp_test *t = *state;
	const struct store_msg *msgs;
	struct mail_rec rec;
	uint64_t m0;
	char *path;

	if (t->format != MAILBOX_FORMAT_MDIR)
		skip();
	append_n(t, 3);
	m0 = modseq_now(t);
	msgs = store_mailbox_msgs(t->box);
	memset(&rec, 0, sizeof(rec));
	rec.uid = msgs[1].uid;
	rec.flags = msgs[1].flags;
	rec.internal_date = msgs[1].internal_date;
	path = mdir_msg_path(t->box->path, &rec);
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(store_mailbox_sync(t->box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(t->box), 2);
	assert_since(t, m0, "2");
}

/* The history is written before the files change: when that fails the
   expunge fails and the message stays. */
static void
test_failed_write_keeps_message(void **state)
{
	struct exp_test *t = *state;
	struct uid_array gone = { 0 };
	uint32_t uid = 2;
	uint64_t m0;

	append_n(t, 3);
	expunge_uid(t, 1);      /* the history exists now */
	m0 = modseq_now(t);
	assert_int_equal(store_mailbox_update_flags(t->box, &uid, 1,
						    STORE_FLAGS_ADD,
						    STORE_FLAG_DELETED, NULL,
						    0, NULL), 0);
	vfs_fault_set("fsync:1");
	assert_int_equal(store_mailbox_expunge(t->box, &uid, 1, &gone), -1);
	vfs_fault_set(NULL);
	assert_int_equal(gone.count, 0);
	assert_int_equal(store_mailbox_sync(t->box, 0, NULL), 0);
	assert_int_equal(store_mailbox_count(t->box), 2);
	assert_int_equal(store_mailbox_seq(t->box, 2), 1);
	/* a reader may see the UID (the caller drops what is present) */
	expunge_uid(t, 2);
	assert_since(t, m0, "2");
}

static void
test_compaction(void **state)
{
	struct exp_test *t = *state;
	unsigned int i, n = EXPUNGE_LOG_RECORDS_MAX / 2 - 2;
	uint32_t *uids = calloc(n, sizeof(*uids));
	struct uid_array out = { 0 };
	uint64_t base;
	struct stat st;

	append_n(t, 1);
	base = modseq_now(t);
	for (i = 0; i < n; i++)
		uids[i] = 1000 + i;
	assert_int_equal(mailbox_lock(t->box, true, true), 0);
	assert_int_equal(expunge_log_append(t->box, uids, n, base + 1), 0);
	assert_int_equal(expunge_log_append(t->box, uids, n, base + 2), 0);
	/* the third passes the limit: the oldest go, the horizon rises */
	assert_int_equal(expunge_log_append(t->box, uids, 5, base + 3), 0);
	mailbox_unlock(t->box);
	assert_int_equal(stat(t->exp_path, &st), 0);
	assert_true(st.st_size <= EXPUNGE_LOG_SIZE_MAX);
	assert_int_equal(store_mailbox_expunged_since(t->box, base, &out), 0);
	assert_int_equal(store_mailbox_expunged_since(t->box, base + 2, &out),
			 1);
	assert_int_equal(out.count, 5);
	uid_array_free(&out);
	/* more than half the limit at once: only the horizon records it */
	free(uids);
	n = EXPUNGE_LOG_RECORDS_MAX / 2 + 1;
	uids = calloc(n, sizeof(*uids));
	for (i = 0; i < n; i++)
		uids[i] = 100000 + i;
	assert_int_equal(mailbox_lock(t->box, true, true), 0);
	assert_int_equal(expunge_log_append(t->box, uids, n, base + 4), 0);
	mailbox_unlock(t->box);
	assert_int_equal(store_mailbox_expunged_since(t->box, base + 3, &out),
			 0);
	assert_int_equal(store_mailbox_expunged_since(t->box, base + 4, &out),
			 1);
	assert_int_equal(out.count, 0);
	uid_array_free(&out);
	free(uids);
}

/* ---- crash after the N-th write ---- */

#define CRASH_ROUNDS_MAX 80

/* Child: expunges the \Deleted messages of mailbox name. */
static int
child_expunge(const char *base, const char *name)
{
	struct store *store;
	struct account *account;
	struct mailbox *box;
	int ret;

	vfs_init();
	log_init("child", LOG_LEVEL_ERROR);
	if (store_open(base, &store) < 0 ||
	    store_account_open(store, "joe", &account) < 0 ||
	    store_mailbox_open(account, name, &box) < 0)
		return 2;
	ret = store_mailbox_expunge(box, NULL, 0, NULL) == 0 ? 0 : 1;
	store_mailbox_close(&box);
	store_account_close(&account);
	store_close(&store);
	return ret;
}

/* Runs the child with COMMUNE_VFS_CRASH=n: true when it was killed
   (the crash point was reached), false when it finished. */
static bool
crash_child(const char *base, const char *name, unsigned int n)
{
	char env[64];
	const char *self = test_self_exe();
	pid_t pid;
	int status;

	snprintf(env, sizeof(env), "COMMUNE_VFS_CRASH=%u", n);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		putenv(env);
		execl(self, self, "--child-expunge", base, name, (char *)NULL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGKILL);
		return true;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return false;
}

/*
 * For every write of an expunge of UIDs 2, 3 and 5 (of 5; 5 is the
 * highest, so account.info is written too): a process killed there
 * leaves a mailbox whose history, read from the MODSEQ before, holds
 * every UID that is gone (or says it does not reach back), and only
 * 2, 3 and 5 can be gone.
 */
static void
test_crash_never_loses_an_expunge(void **state)
{
	struct exp_test *t = *state;
	uint32_t del[3] = { 2, 3, 5 };
	unsigned int n, i, j;
	bool killed = true;

	for (n = 1; killed && n <= CRASH_ROUNDS_MAX; n++) {
		struct mailbox *box;
		struct uid_array gone = { 0 };
		char name[32];
		uint64_t m0;
		int ret;

		snprintf(name, sizeof(name), "Crash%u", n);
		assert_int_equal(store_mailbox_create(t->account, name,
						      t->format, NULL), 0);
		store_mailbox_close(&t->box);
		assert_int_equal(store_mailbox_open(t->account, name, &t->box),
				 0);
		append_n(t, 5);
		assert_int_equal(store_mailbox_update_flags(t->box, del, 3,
			STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, NULL), 0);
		m0 = modseq_now(t);
		killed = crash_child(t->st.base, name, n);
		/* a fresh handle repairs what the crash left */
		assert_int_equal(store_mailbox_open(t->account, name, &box), 0);
		ret = store_mailbox_expunged_since(box, m0, &gone);
		assert_true(ret >= 0);
		for (i = 1; i <= 5; i++) {
			if (store_mailbox_seq(box, i) != 0)
				continue;
			assert_true(i == 2 || i == 3 || i == 5);
			for (j = 0; ret == 1 && j < gone.count; j++) {
				if (gone.uids[j] == i)
					break;
			}
			if (ret == 1 && j == gone.count)
				fail_msg("crash at write %u: UID %u gone, not "
					 "in the history", n, i);
		}
		uid_array_free(&gone);
		store_mailbox_close(&box);
	}
	/* the last run was not killed: every crash point was tried (the
	   expunge makes several writes: history, info, index, files) */
	assert_false(killed);
	assert_true(n > 6);
}

static void
test_object_ids(void **state)
{
	struct exp_test *t = *state;
	char a[STORE_OBJECTID_MAX + 1], b[STORE_OBJECTID_MAX + 1];
	size_t i;

	store_mailbox_id(t->account, 100, a);
	assert_int_equal(strlen(a), STORE_OBJECTID_MAX);
	assert_int_equal(a[0], 'F');
	for (i = 1; i < strlen(a); i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	store_mailbox_id(t->account, 100, b);
	assert_string_equal(a, b);
	store_mailbox_id(t->account, 101, b);
	assert_string_not_equal(a, b);
	store_email_id(t->account, 100, 1, a);
	assert_int_equal(a[0], 'M');
	store_email_id(t->account, 100, 2, b);
	assert_string_not_equal(a, b);
	store_email_id(t->account, 101, 1, b);
	assert_string_not_equal(a, b);
}

int
main(int argc, char **argv)
{
#define BOTH(name) \
	cmocka_unit_test_setup_teardown(name, setup_mbox, teardown), \
	cmocka_unit_test_setup_teardown(name, setup_mdir, teardown)
	const struct CMUnitTest tests[] = {
		BOTH(test_exact_answers),
		BOTH(test_missing_and_damaged),
		BOTH(test_torn_tail),
		BOTH(test_reindex_moves_horizon),
		BOTH(test_removed_behind_our_back),
		BOTH(test_failed_write_keeps_message),
		BOTH(test_compaction),
		BOTH(test_crash_never_loses_an_expunge),
		BOTH(test_object_ids),
	};
#undef BOTH

	if (argc == 4 && strcmp(argv[1], "--child-expunge") == 0)
		return child_expunge(argv[2], argv[3]);
	log_init("test-mailbox-expunged", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
