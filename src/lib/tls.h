/* SPDX-License-Identifier: MIT */
/*
 * tls.h: server-side TLS for every front-end (POP3, IMAP, ...): one
 * OpenSSL 3 SSL_CTX loaded from a certificate chain and a private key,
 * and the two ways a session gets onto TLS over libevent bufferevents:
 *
 *   implicit TLS (pop3s, imaps)   tls_bufferevent_accept() wraps an
 *                                 accepted socket; the handshake starts
 *                                 at once.
 *   STARTTLS / STLS               tls_bufferevent_starttls() moves the
 *                                 session's socket from its plaintext
 *                                 bufferevent to an OpenSSL one, once
 *                                 the "go ahead" reply has been sent.
 *
 * Policy: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE/DHE suites with
 * AEAD ciphers (Mozilla "intermediate"); no compression, no
 * renegotiation; a peer that closes without close_notify is a plain EOF
 * (mail clients do that all the time, and POP3/IMAP have their own end
 * markers, so truncation cannot go unnoticed).
 *
 * Part of src/lib (bottom of the DAG). Threads: a tls_context may be
 * shared by threads once created; bufferevents belong to the loop thread.
 */
#ifndef TLS_H
#define TLS_H

#include "lib.h"

struct bufferevent;
struct event_base;
struct tls_context;

/*
 * Loads cert_file (PEM; the server certificate first, then its chain)
 * and key_file (PEM private key, unencrypted) and checks that they
 * match. Returns 0 and the context, or -1 with *error_r set to a static
 * or thread-local description (valid until the next call). Reads files:
 * call at start-up, not from the event loop.
 */
int tls_context_create(const char *cert_file, const char *key_file,
		       struct tls_context **ctx_r, const char **error_r);
/* Frees the context (sessions still using it keep OpenSSL's reference).
   Accepts NULL. */
void tls_context_destroy(struct tls_context **ctx);

/*
 * Implicit TLS: a server-side OpenSSL bufferevent over the accepted
 * socket fd (closed when the bufferevent is freed). Output written to it
 * before the handshake completes is sent after it. NULL when OpenSSL or
 * libevent refuse (fd is then closed). Never blocks.
 */
struct bufferevent *tls_bufferevent_accept(struct tls_context *ctx,
					   struct event_base *base, int fd);

/*
 * STARTTLS: frees plain (a socket bufferevent made with
 * BEV_OPT_CLOSE_ON_FREE) but keeps its socket, and returns a server-side
 * OpenSSL bufferevent on that socket, as tls_bufferevent_accept() does.
 *
 * The protocol: on the STARTTLS command the caller queues its "begin
 * TLS" reply, stops reading (bufferevent_disable(plain, EV_READ), so the
 * client's handshake stays in the kernel's buffer), and calls this once
 * plain's output is empty (its write callback with nothing left).
 *
 * Whatever the client sent after its STARTTLS command and is already in
 * plain's input buffer is discarded (RFC 2595 §3, RFC 3207 §4.2:
 * plaintext command injection); the caller must likewise discard any
 * input it buffered itself. The new bufferevent has no callbacks,
 * timeouts or watermarks: set them, and enable EV_READ|EV_WRITE. NULL
 * when OpenSSL refuses (the socket is closed then). Never blocks.
 */
struct bufferevent *tls_bufferevent_starttls(struct tls_context *ctx,
					     struct bufferevent *plain);

/* Sends the TLS close_notify alert when the handshake is done, before
   the caller frees bev (best effort, never blocks). */
void tls_bufferevent_close_notify(struct bufferevent *bev);

/* True when bev is one of the OpenSSL bufferevents made above. */
bool tls_bufferevent_is_tls(struct bufferevent *bev);

/*
 * "TLSv1.3 TLS_AES_256_GCM_SHA384" for bev once the handshake is done,
 * else "". The string is static storage of OpenSSL; copy it to keep it.
 */
void tls_bufferevent_describe(struct bufferevent *bev, char *out,
			      size_t size);

/* The last OpenSSL error of bev as text (for debug logs), "" if none. */
void tls_bufferevent_error(struct bufferevent *bev, char *out, size_t size);

#endif
