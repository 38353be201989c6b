/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_upstream: connections from a reverse proxy to its upstreams, and the
 * idle ones kept for reuse (keep-alive): at most max_idle in all, each for at
 * most idle_ms. An idle connection that becomes readable (the server closed
 * it, or sent something unasked) is dropped.
 *
 * Ownership: the pool owns idle connections; a connection handed out by
 * get/dial is the caller's until put (back to the pool) or discard. Every fd
 * stays registered with the loop for its whole life under one callback that
 * dispatches to the current owner, so taking and returning a pooled
 * connection costs no epoll_ctl. Discarded connections are retired (ev.h):
 * the struct stays valid until the end of the turn.
 *
 * The fds are edge-triggered (EPOLLET and EPOLLRDHUP are added to every
 * mask): an owner reads until EAGAIN, or a short read unless the event
 * carried EPOLLRDHUP/EPOLLHUP/EPOLLERR (a FIN already there brings no new
 * edge: read to the EOF), or turns EPOLLIN off and on again (which reports
 * what is waiting), or calls http_upstream_poll_again().
 */
#ifndef LIB_HTTP_UPSTREAM_H
#define LIB_HTTP_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ev.h"
#include "transport.h"

#define HTTP_UPSTREAM_ADDR_MAX 64 /* numeric IPv4/IPv6 text */

struct http_upstream_pool;

struct http_upstream {
	struct http_upstream *next, *prev; /* in the idle list */
	struct http_upstream_pool *pool;
	struct transport *t;
	int fd;
	char addr[HTTP_UPSTREAM_ADDR_MAX];
	uint16_t port;
	bool connected;	    /* connect() has completed */
	bool reused;	    /* came from the idle list */
	bool reusable;	    /* the last response allows keep-alive */
	bool in_loop;	    /* fd is registered with the loop */
	bool dead;	    /* discarded: retired */
	bool pooled;	    /* in the idle list */
	uint32_t armed;	    /* its epoll mask */
	ev_io_cb *owner_cb; /* the exchange using it (NULL while idle) */
	void *owner;
	struct buf in;	      /* bytes read from the upstream, not yet used */
	struct ev_timer idle; /* armed no later than idle_until; lapses while in use */
	uint64_t idle_until;  /* when an idle connection is dropped (ev_now clock) */
	struct ev_retiree retiree;
};

/* A pool keeping at most max_idle idle connections for idle_ms each. NULL on ENOMEM. */
struct http_upstream_pool *http_upstream_pool_new(struct ev_loop *loop, size_t max_idle,
						  uint32_t idle_ms);
/* How many idle connections the pool keeps now. */
size_t http_upstream_pool_idle(const struct http_upstream_pool *pool);
/* Closes the idle connections and frees the pool (connections in use are the callers'). */
void http_upstream_pool_free(struct http_upstream_pool *pool);

/* An idle connection to addr:port, or a new one (connect in progress). NULL with e set. */
struct http_upstream *http_upstream_get(struct http_upstream_pool *pool, const char *addr,
					uint16_t port, struct err *e);
/* Always a new connection. */
struct http_upstream *http_upstream_dial(struct http_upstream_pool *pool, const char *addr,
					 uint16_t port, struct err *e);
/* Makes cb(arg) the receiver of u's events with this epoll mask. 0 or -errno. */
int http_upstream_watch(struct http_upstream *u, uint32_t events, ev_io_cb *cb, void *arg);
/* Changes the epoll mask of an owned connection (no syscall if unchanged). */
void http_upstream_arm(struct http_upstream *u, uint32_t events);
/* Has the loop report u's ready events again (a reader that stopped with bytes left). */
void http_upstream_poll_again(struct http_upstream *u);
/* Returns a connection after a complete exchange (it is discarded if not reusable). */
void http_upstream_put(struct http_upstream *u);
/* Takes the transport out (for a splice); the connection is then discarded. */
struct transport *http_upstream_take(struct http_upstream *u);
/* Closes a connection that is not in the idle list. */
void http_upstream_discard(struct http_upstream *u);

#endif
