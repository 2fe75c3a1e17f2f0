/* SPDX-License-Identifier: MIT */
/*
 * test-tls.c: the server TLS context and bufferevents (src/lib/tls.c):
 * loading certificate and key (and refusing bad ones), an implicit-TLS
 * handshake and round trip over a socketpair, and STARTTLS discarding
 * the plaintext a client pipelined after its STARTTLS command.
 */
#include "tls.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct files {
	char dir[64];
	char cert[96], key[96], other_key[96];
};

static EVP_PKEY *
make_key(void)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");

	assert_non_null(pkey);
	return pkey;
}

static void
write_key(const char *path, EVP_PKEY *pkey)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL,
					      NULL), 1);
	fclose(f);
}

/* A self-signed certificate for CN=localhost and its key, plus a second
   key that does not match it. */
static int
setup(void **state)
{
	struct files *fs = calloc(1, sizeof(*fs));
	EVP_PKEY *pkey = make_key(), *other = make_key();
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	strcpy(fs->dir, "/tmp/test-tls-XXXXXX");
	assert_non_null(mkdtemp(fs->dir));
	snprintf(fs->cert, sizeof(fs->cert), "%s/server.crt", fs->dir);
	snprintf(fs->key, sizeof(fs->key), "%s/server.key", fs->dir);
	snprintf(fs->other_key, sizeof(fs->other_key), "%s/other.key",
		 fs->dir);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	f = fopen(fs->cert, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	write_key(fs->key, pkey);
	write_key(fs->other_key, other);
	X509_free(x);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(other);
	*state = fs;
	return 0;
}

static int
teardown(void **state)
{
	struct files *fs = *state;

	unlink(fs->cert);
	unlink(fs->key);
	unlink(fs->other_key);
	rmdir(fs->dir);
	free(fs);
	return 0;
}

static void
test_context_load(void **state)
{
	struct files *fs = *state;
	struct tls_context *ctx = NULL;
	const char *error;

	assert_int_equal(tls_context_create(fs->cert, fs->key, &ctx, &error),
			 0);
	assert_non_null(ctx);
	tls_context_destroy(&ctx);
	assert_null(ctx);
	tls_context_destroy(&ctx);

	assert_int_equal(tls_context_create("/nonexistent/x.crt", fs->key,
					    &ctx, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/x.crt"));
	assert_int_equal(tls_context_create(fs->cert, "/nonexistent/x.key",
					    &ctx, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/x.key"));
	/* A key of another certificate. */
	assert_int_equal(tls_context_create(fs->cert, fs->other_key, &ctx,
					    &error), -1);
	/* OpenSSL notices the mismatch while loading the key. */
	assert_true(strstr(error, "other.key") != NULL ||
		    strstr(error, "does not match") != NULL);
	assert_non_null(strstr(error, "mismatch"));
	/* The key given as certificate. */
	assert_int_equal(tls_context_create(fs->key, fs->key, &ctx, &error),
			 -1);
}

/* ---- a blocking TLS client in a thread ---- */

struct client {
	int fd;
	/* STARTTLS: what to send in clear first, and the reply to await */
	const char *clear_send;
	const char *clear_expect;
	const char *tls_send;
	char reply[256];
	char version[32];
	bool ok;
};

static bool
read_until(int fd, SSL *ssl, char *out, size_t size, const char *end)
{
	size_t len = 0;
	int n;

	while (len + 1 < size) {
		n = ssl == NULL ? (int)read(fd, out + len, 1) :
			SSL_read(ssl, out + len, 1);
		if (n <= 0)
			return false;
		len += (size_t)n;
		out[len] = '\0';
		if (len >= strlen(end) &&
		    strcmp(out + len - strlen(end), end) == 0)
			return true;
	}
	return false;
}

static void *
client_thread(void *context)
{
	struct client *cl = context;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	char clear[64];

	if (cl->clear_send != NULL) {
		if (write(cl->fd, cl->clear_send, strlen(cl->clear_send)) < 0 ||
		    !read_until(cl->fd, NULL, clear, sizeof(clear),
				cl->clear_expect))
			goto out;
	}
	SSL_set_fd(ssl, cl->fd);
	if (SSL_connect(ssl) != 1)
		goto out;
	snprintf(cl->version, sizeof(cl->version), "%s",
		 SSL_get_version(ssl));
	if (SSL_write(ssl, cl->tls_send, (int)strlen(cl->tls_send)) <= 0)
		goto out;
	cl->ok = read_until(cl->fd, ssl, cl->reply, sizeof(cl->reply),
			    "\r\n");
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	shutdown(cl->fd, SHUT_RDWR);
	return NULL;
}

/* ---- the server side on libevent ---- */

struct server {
	struct event_base *base;
	struct tls_context *tls;
	struct bufferevent *bev;
	char got[256];
	bool stls_seen;
	bool upgraded;
	bool closed;
};

static void
echo_read_cb(struct bufferevent *bev, void *context)
{
	struct server *srv = context;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF_STRICT);

	if (line == NULL)
		return;
	snprintf(srv->got, sizeof(srv->got), "%s", line);
	evbuffer_add_printf(bufferevent_get_output(bev), "echo %s\r\n", line);
	free(line);
}

static void
event_cb(struct bufferevent *bev, short what, void *context)
{
	struct server *srv = context;

	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0) {
		srv->closed = true;
		event_base_loopbreak(srv->base);
	}
}

/* Once "+OK go" is out: switch to TLS. */
static void
starttls_write_cb(struct bufferevent *bev, void *context)
{
	struct server *srv = context;

	if (!srv->stls_seen || srv->upgraded ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	srv->bev = tls_bufferevent_starttls(srv->tls, bev);
	assert_non_null(srv->bev);
	assert_true(tls_bufferevent_is_tls(srv->bev));
	srv->upgraded = true;
	bufferevent_setcb(srv->bev, echo_read_cb, NULL, event_cb, srv);
	bufferevent_enable(srv->bev, EV_READ | EV_WRITE);
}

/* The plaintext phase: on "STLS", reply and stop reading. */
static void
starttls_read_cb(struct bufferevent *bev, void *context)
{
	struct server *srv = context;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF_STRICT);

	if (line == NULL)
		return;
	assert_string_equal(line, "STLS");
	free(line);
	/* The pipelined injection is still buffered here. */
	assert_true(evbuffer_get_length(in) > 0);
	bufferevent_disable(bev, EV_READ);
	srv->stls_seen = true;
	evbuffer_add(bufferevent_get_output(bev), "+OK go\r\n", 8);
}

static void
run_loop(struct server *srv, struct client *cl)
{
	struct timeval limit = { 20, 0 };
	pthread_t thread;

	assert_int_equal(pthread_create(&thread, NULL, client_thread, cl), 0);
	event_base_loopexit(srv->base, &limit);
	event_base_dispatch(srv->base);
	pthread_join(thread, NULL);
}

static void
server_init(struct server *srv, struct files *fs)
{
	const char *error;

	memset(srv, 0, sizeof(*srv));
	srv->base = event_base_new();
	assert_int_equal(tls_context_create(fs->cert, fs->key, &srv->tls,
					    &error), 0);
}

static void
server_deinit(struct server *srv)
{
	if (srv->bev != NULL)
		bufferevent_free(srv->bev);
	tls_context_destroy(&srv->tls);
	event_base_free(srv->base);
}

static void
test_implicit_tls(void **state)
{
	struct server srv;
	struct client cl = { .tls_send = "hello\r\n" };
	char desc[128];
	int sv[2];

	server_init(&srv, *state);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cl.fd = sv[1];
	srv.bev = tls_bufferevent_accept(srv.tls, srv.base, sv[0]);
	assert_non_null(srv.bev);
	assert_true(tls_bufferevent_is_tls(srv.bev));
	bufferevent_setcb(srv.bev, echo_read_cb, NULL, event_cb, &srv);
	bufferevent_enable(srv.bev, EV_READ | EV_WRITE);
	run_loop(&srv, &cl);
	assert_true(cl.ok);
	assert_string_equal(srv.got, "hello");
	assert_string_equal(cl.reply, "echo hello\r\n");
	/* TLS 1.2 at least; the client asked for the best. */
	assert_string_equal(cl.version, "TLSv1.3");
	tls_bufferevent_describe(srv.bev, desc, sizeof(desc));
	assert_non_null(strstr(desc, "TLSv1.3"));
	close(sv[1]);
	server_deinit(&srv);
}

/* RFC 2595 §3: "INJECTED" was sent in clear after STLS, in the same
   packet; it must never reach the TLS session as a command. */
static void
test_starttls_discards_plaintext(void **state)
{
	struct server srv;
	struct client cl = {
		.clear_send = "STLS\r\nINJECTED\r\n",
		.clear_expect = "+OK go\r\n",
		.tls_send = "after\r\n",
	};
	struct bufferevent *plain;
	int sv[2];

	server_init(&srv, *state);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cl.fd = sv[1];
	plain = bufferevent_socket_new(srv.base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	assert_false(tls_bufferevent_is_tls(plain));
	bufferevent_setcb(plain, starttls_read_cb, starttls_write_cb, event_cb,
			  &srv);
	bufferevent_enable(plain, EV_READ | EV_WRITE);
	run_loop(&srv, &cl);
	assert_true(srv.upgraded);
	assert_true(cl.ok);
	assert_string_equal(srv.got, "after");
	tls_bufferevent_close_notify(srv.bev);
	assert_string_equal(cl.reply, "echo after\r\n");
	close(sv[1]);
	server_deinit(&srv);
}

/* A client that speaks no TLS at all: the server sees an error or EOF
   and nothing is echoed. */
static void
test_handshake_garbage(void **state)
{
	struct server srv;
	char err[256];
	int sv[2];

	server_init(&srv, *state);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	srv.bev = tls_bufferevent_accept(srv.tls, srv.base, sv[0]);
	bufferevent_setcb(srv.bev, echo_read_cb, NULL, event_cb, &srv);
	bufferevent_enable(srv.bev, EV_READ | EV_WRITE);
	assert_int_equal(write(sv[1], "USER x\r\nPASS y\r\n", 16), 16);
	{
		struct timeval limit = { 10, 0 };

		event_base_loopexit(srv.base, &limit);
		event_base_dispatch(srv.base);
	}
	assert_true(srv.closed);
	assert_string_equal(srv.got, "");
	tls_bufferevent_error(srv.bev, err, sizeof(err));
	close(sv[1]);
	server_deinit(&srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_context_load),
		cmocka_unit_test(test_implicit_tls),
		cmocka_unit_test(test_starttls_discards_plaintext),
		cmocka_unit_test(test_handshake_garbage),
	};

	/* As in the daemon: a peer that is gone makes writes fail. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
