/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proxy_pool: connections from the /proxy route to 127.0.0.1:{port}, and the
 * idle ones kept for reuse (keep-alive): at most PROXY_POOL_MAX idle in all,
 * each for at most PROXY_POOL_IDLE_MS. An idle connection that becomes
 * readable (the server closed it, or sent something unasked) is dropped.
 * The pool owns idle connections; a connection handed out by get/dial is the
 * caller's until put (back to the pool) or discard.
 */
#ifndef EXECD_PROXY_POOL_H
#define EXECD_PROXY_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ev.h"
#include "transport.h"

#define PROXY_POOL_MAX 100
#define PROXY_POOL_IDLE_MS (90 * 1000)

struct proxy;

struct upstream {
	struct upstream *next, *prev;	/* in the idle list */
	struct proxy *pool;
	struct transport *t;
	int fd;
	uint16_t port;
	bool connected;		/* connect() has completed */
	bool reused;		/* came from the idle list */
	bool reusable;		/* the last response allows keep-alive */
	bool in_loop;		/* fd is registered with the loop */
	uint32_t armed;		/* its epoll mask */
	ev_io_cb *owner_cb;	/* the exchange using it (NULL while idle) */
	void *owner;
	struct buf in;		/* bytes read from the upstream, not yet used */
	struct ev_timer idle;
};

struct proxy *proxy_pool_new(struct ev_loop *loop);
/* An idle connection to port, or a new one (connect in progress). NULL with e set. */
struct upstream *proxy_pool_get(struct proxy *pool, uint16_t port, struct err *e);
/* Always a new connection. */
struct upstream *proxy_pool_dial(struct proxy *pool, uint16_t port, struct err *e);
/*
 * Makes cb(arg) the receiver of u's events and sets its epoll mask. The fd
 * stays registered for its whole life with one callback that dispatches to
 * the current owner, so taking and returning pooled connections costs no
 * epoll_ctl, and a mask change only when it differs. 0 or -errno.
 */
int proxy_pool_watch(struct proxy *pool, struct upstream *u, uint32_t events, ev_io_cb *cb, void *arg);
/* Changes the epoll mask of an owned connection (no syscall if unchanged). */
void proxy_pool_arm(struct upstream *u, uint32_t events);
/* Returns a connection after a complete exchange. */
void proxy_pool_put(struct proxy *pool, struct upstream *u);
/* Closes and frees a connection that is not in the idle list (unregistering it). */
void proxy_pool_discard(struct upstream *u);

#endif
