/* SPDX-License-Identifier: MIT */
/*
 * test-lmtp-conn.c: LMTP sessions over a socketpair with a real store, a
 * real worker pool and a libevent loop, without the daemon: replies and
 * their order, a client that vanishes while its delivery runs, graceful
 * shutdown in the middle of a transaction, and destroying the server
 * with sessions open. LeakSanitizer checks that every session is freed.
 */
#include "lmtp-server.h"
#include "worker.h"
#include "store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <event2/event.h>

struct fixture {
	char base_dir[64];
	struct store *store;
	struct event_base *base;
	struct worker_pool *pool;
	struct lmtp_server *server;
	int client;
	bool client_eof;
	buf_t replies;
};

static int
setup(void **state)
{
	struct fixture *f = i_malloc(sizeof(*f));
	struct lmtp_settings set = {
		.hostname = "test.example",
		.max_message_size = 1000,
		.idle_timeout_secs = 60,
	};

	i_strlcpy(f->base_dir, "/tmp/test-lmtp-conn.XXXXXX",
		  sizeof(f->base_dir));
	assert_non_null(mkdtemp(f->base_dir));
	assert_int_equal(store_open(f->base_dir, &f->store), 0);
	assert_int_equal(store_account_create(f->store, "alice",
					      ACCOUNT_TYPE_MULTI, "pw"), 0);
	f->base = event_base_new();
	/* One thread: UIDs follow RCPT order, so replies are exact. */
	f->pool = worker_pool_create(f->base, 1);
	f->server = lmtp_server_create(&set, f->store, f->pool, f->base);
	f->client = -1;
	buf_init(&f->replies);
	*state = f;
	return 0;
}

static int block_fds[2] = { -1, -1 };
static void release_pool(void);

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	/* A failed test may leave the pool blocked. */
	if (block_fds[1] != -1)
		release_pool();
	if (f->client != -1)
		close(f->client);
	worker_pool_destroy(&f->pool);
	lmtp_server_destroy(&f->server);
	event_base_free(f->base);
	store_close(&f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base_dir);
	assert_int_equal(system(cmd), 0);
	buf_deinit(&f->replies);
	free(f);
	return 0;
}

/* Starts a session; the test talks through f->client. */
static void
connect_client(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	lmtp_server_accept(f->server, fds[0], (struct sockaddr *)&addr,
			   sizeof(addr), NULL);
	f->client = fds[1];
	f->client_eof = false;
	assert_int_equal(lmtp_server_connection_count(f->server), 1);
}

static void
client_send(struct fixture *f, const char *text)
{
	assert_int_equal(write(f->client, text, strlen(text)),
			 (ssize_t)strlen(text));
}

static void
client_read_cb(evutil_socket_t fd, short what, void *context)
{
	struct fixture *f = context;
	char data[4096];
	ssize_t n = read(fd, data, sizeof(data));

	if (n > 0) {
		buf_append(&f->replies, data, (size_t)n);
	} else {
		f->client_eof = true;
		event_base_loopbreak(f->base);
	}
}

static unsigned int
count_lines(const buf_t *buf)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < buf->len; i++)
		n += buf->data[i] == '\n';
	return n;
}

static void
check_cb(evutil_socket_t fd, short what, void *context)
{
	struct fixture *f = context;

	if (lmtp_server_connection_count(f->server) == 0 &&
	    worker_pool_pending(f->pool) == 0)
		event_base_loopbreak(f->base);
}

/*
 * Runs the loop until the client has `lines` reply lines or the server
 * closed the connection (lines > 0), or until no session and no job is
 * left (lines == 0); within 20 s.
 */
static void
run_until(struct fixture *f, unsigned int lines)
{
	struct timeval tick = { 0, 10000 }, limit = { 20, 0 };
	struct event *rd = NULL, *check;
	int64_t deadline = time(NULL) + 20;

	if (f->client != -1 && !f->client_eof) {
		rd = event_new(f->base, f->client, EV_READ | EV_PERSIST,
			       client_read_cb, f);
		event_add(rd, NULL);
	}
	check = event_new(f->base, -1, EV_PERSIST, check_cb, f);
	if (lines == 0)
		event_add(check, &tick);
	while (time(NULL) < deadline) {
		if (lines > 0 && (count_lines(&f->replies) >= lines ||
				  f->client_eof))
			break;
		event_base_loopexit(f->base, &limit);
		event_base_loop(f->base, EVLOOP_ONCE);
		if (lines == 0 && lmtp_server_connection_count(f->server) == 0 &&
		    worker_pool_pending(f->pool) == 0)
			break;
	}
	if (rd != NULL)
		event_free(rd);
	event_free(check);
}

static unsigned int
inbox_count(struct fixture *f)
{
	struct account *account;
	struct mailbox_status status;

	assert_int_equal(store_account_open(f->store, "alice", &account), 0);
	assert_int_equal(store_mailbox_status(account, "INBOX", &status), 0);
	store_account_close(&account);
	return status.messages;
}

#define TRANSACTION \
	"LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n" \
	"RCPT TO:<nobody>\r\nRCPT TO:<ALICE@localhost>\r\nDATA\r\n" \
	"Subject: t\r\n\r\n..x\r\n.\r\n"

static void
test_session(void **state)
{
	struct fixture *f = *state;
	const char *expect =
		"220 test.example Commune LMTP ready\r\n"
		"250-test.example\r\n250-PIPELINING\r\n"
		"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
		"250-CHUNKING\r\n250 SIZE 1000\r\n"
		"250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
		"550 5.1.1 <nobody> User unknown\r\n250 2.1.5 OK\r\n"
		"354 Start mail input; end with <CRLF>.<CRLF>\r\n"
		"250 2.0.0 <alice> Saved as UID 1\r\n"
		"250 2.0.0 <ALICE@localhost> Saved as UID 2\r\n"
		"221 2.0.0 test.example Bye\r\n";

	connect_client(f);
	client_send(f, TRANSACTION "QUIT\r\n");
	run_until(f, 0);
	run_until(f, 15);
	assert_string_equal(buf_cstr(&f->replies), expect);
	assert_int_equal(inbox_count(f), 2);
}

/* A job that holds the pool's only thread until release_pool(). */
static void
block_run(void *context)
{
	char c;

	while (read(block_fds[0], &c, 1) == -1)
		;
	close(block_fds[0]);
}

static void
block_pool(struct fixture *f)
{
	assert_int_equal(pipe(block_fds), 0);
	worker_pool_submit(f->pool, block_run, NULL, NULL);
}

static void
release_pool(void)
{
	assert_int_equal(write(block_fds[1], "x", 1), 1);
	close(block_fds[1]);
	block_fds[1] = -1;
}

/* Runs the loop for about ms milliseconds. */
static void
run_for(struct fixture *f, unsigned int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* A TCP connection over loopback (a reset needs TCP). */
static void
connect_tcp(struct fixture *f)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int lfd, fd;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, len), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
	f->client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(f->client, (struct sockaddr *)&addr, len), 0);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	close(lfd);
	lmtp_server_accept(f->server, fd, (struct sockaddr *)&addr, len,
			   NULL);
}

static void
test_client_vanishes_during_rcpt(void **state)
{
	struct fixture *f = *state;

	/* The client is gone while its RCPT lookup waits in the pool: the
	   lookup's completion frees the session. */
	block_pool(f);
	connect_client(f);
	run_until(f, 1);
	/* The replies to LHLO and MAIL fail to go out: EPIPE. */
	client_send(f, "LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n");
	close(f->client);
	f->client = -1;
	run_for(f, 200);
	assert_int_equal(lmtp_server_connection_count(f->server), 1);
	release_pool();
	run_until(f, 0);
	assert_int_equal(lmtp_server_connection_count(f->server), 0);
	assert_int_equal(inbox_count(f), 0);
}

static void
test_client_resets_during_delivery(void **state)
{
	struct fixture *f = *state;
	struct linger lg = { 1, 0 };

	/* The message is complete and queued for delivery when the client
	   resets the connection: the deliveries still run (nothing is
	   acknowledged, the sender retries) and the last one frees the
	   session. */
	connect_tcp(f);
	client_send(f, "LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n"
		       "RCPT TO:<ALICE@localhost>\r\nDATA\r\n");
	run_until(f, 11);
	block_pool(f);
	client_send(f, "Subject: t\r\n\r\nx\r\n.\r\n");
	run_for(f, 200);
	assert_int_equal(setsockopt(f->client, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg)), 0);
	close(f->client);
	f->client = -1;
	run_for(f, 200);
	assert_int_equal(lmtp_server_connection_count(f->server), 1);
	release_pool();
	run_until(f, 0);
	assert_int_equal(lmtp_server_connection_count(f->server), 0);
	assert_int_equal(inbox_count(f), 2);
}

static void
test_shutdown_mid_transaction(void **state)
{
	struct fixture *f = *state;
	const char *tail;

	connect_client(f);
	client_send(f, "LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n"
		       "DATA\r\n");
	run_until(f, 10);
	/* Shut down with the message half sent: the session waits for
	   it, delivers, replies, then says goodbye. */
	lmtp_server_shutdown(f->server);
	assert_int_equal(lmtp_server_connection_count(f->server), 1);
	client_send(f, "Subject: late\r\n\r\nbody\r\n.\r\nNOOP\r\n");
	run_until(f, 0);
	run_until(f, 12);
	tail = strstr(buf_cstr(&f->replies), "354 ");
	assert_non_null(tail);
	tail = strchr(tail, '\n') + 1;
	assert_string_equal(tail, "250 2.0.0 <alice> Saved as UID 1\r\n"
			    "421 4.3.2 test.example Service shutting down\r\n");
	assert_int_equal(inbox_count(f), 1);
}

static void
test_shutdown_idle(void **state)
{
	struct fixture *f = *state;

	/* An idle session is told 421 at once and closed; one accepted
	   during the shutdown too. */
	connect_client(f);
	run_until(f, 1);
	lmtp_server_shutdown(f->server);
	run_until(f, 0);
	run_until(f, 2);
	assert_string_equal(buf_cstr(&f->replies),
			    "220 test.example Commune LMTP ready\r\n"
			    "421 4.3.2 test.example Service shutting down\r\n");
	close(f->client);
	buf_reset(&f->replies);
	connect_client(f);
	run_until(f, 0);
	run_until(f, 2);
	assert_string_equal(buf_cstr(&f->replies),
			    "220 test.example Commune LMTP ready\r\n"
			    "421 4.3.2 test.example Service shutting down\r\n");
}

static void
test_destroy_with_open_session(void **state)
{
	struct fixture *f = *state;

	/* teardown destroys the server while this session is open. */
	connect_client(f);
	client_send(f, "LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n");
	run_until(f, 9);
	assert_int_equal(lmtp_server_connection_count(f->server), 1);
}

static void
test_too_large_then_good(void **state)
{
	struct fixture *f = *state;
	char big[1200];

	memset(big, 'x', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	connect_client(f);
	client_send(f, "LHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n"
		       "DATA\r\n");
	client_send(f, big);
	client_send(f, ".\r\n" TRANSACTION);
	run_until(f, 24);
	assert_non_null(strstr(buf_cstr(&f->replies),
			       "\r\n552 5.3.4 <alice> Message too big\r\n"
			       "250-test.example\r\n"));
	assert_non_null(strstr(buf_cstr(&f->replies),
			       "<ALICE@localhost> Saved as UID 2\r\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_client_vanishes_during_rcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_client_resets_during_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_mid_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_idle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy_with_open_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_then_good, setup,
						teardown),
	};

	/* As in the daemon: a vanished client gives EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
