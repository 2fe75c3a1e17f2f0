/* SPDX-License-Identifier: MIT */
/*
 * tls.c: the server's OpenSSL context and the TLS bufferevents every
 * front-end uses for implicit TLS and STARTTLS (see tls.h). Bottom of
 * the DAG (lib): OpenSSL 3 and libevent's bufferevent_openssl only.
 */
#include "tls.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* TLS 1.2 suites (TLS 1.3 keeps OpenSSL's defaults, all AEAD): forward
   secrecy and AEAD only, as Mozilla's "intermediate" profile. */
#define TLS_CIPHERS_TLS12                                                    \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"         \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"         \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"         \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"               \
	"DHE-RSA-CHACHA20-POLY1305"
/* Session resumption: cached sessions are only valid for this server. */
#define TLS_SESSION_ID_CONTEXT "commune"

struct tls_context {
	SSL_CTX *ssl_ctx;
};

static __thread char tls_error_text[512];

/* The oldest queued OpenSSL error as text, prefixed by what failed. */
static const char *
openssl_error(const char *what)
{
	unsigned long err = ERR_get_error();
	char reason[256] = "unknown error";

	if (err != 0)
		ERR_error_string_n(err, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(tls_error_text, sizeof(tls_error_text), "%s: %s", what,
		 reason);
	return tls_error_text;
}

static int
ctx_configure(SSL_CTX *ssl_ctx, const char **error_r)
{
	if (SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION) != 1) {
		*error_r = openssl_error("SSL_CTX_set_min_proto_version");
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ssl_ctx, TLS_CIPHERS_TLS12) != 1) {
		*error_r = openssl_error("SSL_CTX_set_cipher_list");
		return -1;
	}
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION |
			    SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Idle sessions (IMAP IDLE) hold no 34 KB read/write buffers. */
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_dh_auto(ssl_ctx, 1);
	SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ssl_ctx,
		(const unsigned char *)TLS_SESSION_ID_CONTEXT,
		sizeof(TLS_SESSION_ID_CONTEXT) - 1);
	return 0;
}

int
tls_context_create(const char *cert_file, const char *key_file,
		   struct tls_context **ctx_r, const char **error_r)
{
	struct tls_context *ctx;
	SSL_CTX *ssl_ctx;

	ERR_clear_error();
	ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (ssl_ctx == NULL) {
		*error_r = openssl_error("SSL_CTX_new");
		return -1;
	}
	if (ctx_configure(ssl_ctx, error_r) < 0)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert_file) != 1) {
		*error_r = openssl_error(cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl_ctx, key_file,
					SSL_FILETYPE_PEM) != 1) {
		*error_r = openssl_error(key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
		*error_r = openssl_error("the key does not match the "
					 "certificate");
		goto fail;
	}
	ctx = i_malloc(sizeof(*ctx));
	ctx->ssl_ctx = ssl_ctx;
	*ctx_r = ctx;
	return 0;
fail:
	SSL_CTX_free(ssl_ctx);
	return -1;
}

void
tls_context_destroy(struct tls_context **_ctx)
{
	struct tls_context *ctx = *_ctx;

	if (ctx == NULL)
		return;
	*_ctx = NULL;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

static SSL *
ssl_new(struct tls_context *ctx)
{
	SSL *ssl = SSL_new(ctx->ssl_ctx);

	if (ssl == NULL)
		log_warnx("%s", openssl_error("SSL_new"));
	return ssl;
}

struct bufferevent *
tls_bufferevent_accept(struct tls_context *ctx, struct event_base *base,
		       int fd)
{
	struct bufferevent *bev;
	SSL *ssl = ssl_new(ctx);

	if (ssl == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	/* On failure libevent frees neither ssl nor fd. */
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("tls: cannot create an OpenSSL bufferevent");
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *
tls_bufferevent_starttls(struct tls_context *ctx, struct bufferevent *plain)
{
	struct evbuffer *in = bufferevent_get_input(plain);
	evutil_socket_t fd = bufferevent_getfd(plain);
	struct event_base *base = bufferevent_get_base(plain);

	i_assert(fd != -1);
	i_assert(evbuffer_get_length(bufferevent_get_output(plain)) == 0);
	/* RFC 2595 §3: nothing sent before the handshake is a command. */
	evbuffer_drain(in, evbuffer_get_length(in));
	/* Keep the socket open when plain goes. */
	bufferevent_setfd(plain, -1);
	bufferevent_free(plain);
	return tls_bufferevent_accept(ctx, base, fd);
}

void
tls_bufferevent_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return;
	/* One non-blocking attempt: the alert goes into the socket buffer
	   or not at all. */
	(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

bool
tls_bufferevent_is_tls(struct bufferevent *bev)
{
	return bufferevent_openssl_get_ssl(bev) != NULL;
}

void
tls_bufferevent_describe(struct bufferevent *bev, char *out, size_t size)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (size == 0)
		return;
	out[0] = '\0';
	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return;
	snprintf(out, size, "%s %s", SSL_get_version(ssl),
		 SSL_get_cipher_name(ssl));
}

void
tls_bufferevent_error(struct bufferevent *bev, char *out, size_t size)
{
	unsigned long err = bufferevent_get_openssl_error(bev);

	if (size == 0)
		return;
	out[0] = '\0';
	if (err != 0)
		ERR_error_string_n(err, out, size);
}
