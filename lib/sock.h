/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sock: socket set-up helpers. Every fd returned is non-blocking and
 * close-on-exec, and owned by the caller.
 */
#ifndef LIB_SOCK_H
#define LIB_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SOCK_BACKLOG 512

/*
 * Listens on host:port (TCP). host NULL or "" means every address: "::" with
 * IPv4 mapped in, or 0.0.0.0 where IPv6 is unavailable. port 0 picks a free
 * port (see sock_local_port). Returns the fd or -errno with e set.
 */
int sock_listen_tcp(const char *host, uint16_t port, struct err *e);

/* Listens on a unix socket path (a stale socket file is replaced). fd or -errno. */
int sock_listen_unix(const char *path, struct err *e);

/*
 * Starts a non-blocking connect to host:port (resolved with getaddrinfo, which
 * may block on DNS for non-literal names). The connection completes when the
 * fd becomes writable; then check sock_connect_result(). fd or -errno.
 */
int sock_connect_tcp(const char *host, uint16_t port, struct err *e);
int sock_connect_unix(const char *path, struct err *e);

/* 0 once a non-blocking connect has succeeded, else -errno (SO_ERROR). */
int sock_connect_result(int fd);

/* Accepts one connection (non-blocking, cloexec). fd, -EAGAIN or -errno. */
int sock_accept(int lfd);

/* The local port a socket is bound to, or -errno. */
int sock_local_port(int fd);

/* "ip:port" / "[ip6]:port" / "unix" of the peer into out (always terminated). */
void sock_peer_str(int fd, char *out, size_t len);

#endif
