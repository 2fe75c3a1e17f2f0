/* SPDX-License-Identifier: MIT */
/*
 * net.h: small socket-address helpers the protocol front-ends share
 * (session names in logs). Bottom of the DAG (lib).
 */
#ifndef NET_H
#define NET_H

#include "lib.h"

#include <sys/socket.h>

/* "1.2.3.4:port" or "[::1]:port" ("?:0" for other families or short
   addresses). Caller frees. Never blocks. */
char *net_peer_name(const struct sockaddr *addr, socklen_t addrlen);

#endif
