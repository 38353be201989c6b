// SPDX-License-Identifier: Apache-2.0
#include "proxy_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sock.h"

struct proxy {
	struct ev_loop *loop;
	struct upstream *idle;
	size_t nidle;
};

struct proxy *proxy_pool_new(struct ev_loop *loop)
{
	struct proxy *p = calloc(1, sizeof(*p));
	if (p)
		p->loop = loop;
	return p;
}

void proxy_pool_discard(struct upstream *u)
{
	if (!u)
		return;
	if (u->in_loop)
		ev_del(u->pool->loop, u->fd);
	ev_timer_stop(u->pool->loop, &u->idle);
	if (u->t)
		transport_close(u->t);
	buf_free(&u->in);
	free(u);
}

static void unlink_idle(struct upstream *u)
{
	struct proxy *pool = u->pool;
	if (u->prev)
		u->prev->next = u->next;
	else
		pool->idle = u->next;
	if (u->next)
		u->next->prev = u->prev;
	u->next = u->prev = NULL;
	pool->nidle--;
	ev_timer_stop(pool->loop, &u->idle);
}

static void on_idle_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct upstream *u = arg;
	(void)loop;
	(void)t;
	unlink_idle(u);
	proxy_pool_discard(u);
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct upstream *u = arg;
	if (u->owner_cb) {
		u->owner_cb(loop, fd, events, u->owner);
		return;
	}
	/* Nothing is expected on an idle connection: EOF or junk, drop it. */
	unlink_idle(u);
	proxy_pool_discard(u);
}

void proxy_pool_arm(struct upstream *u, uint32_t events)
{
	if (u->in_loop && events != u->armed && ev_mod(u->pool->loop, u->fd, events) == 0)
		u->armed = events;
}

struct upstream *proxy_pool_dial(struct proxy *pool, uint16_t port, struct err *e)
{
	struct upstream *u = calloc(1, sizeof(*u));
	if (!u) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	int fd = sock_connect_tcp("127.0.0.1", port, e);
	if (fd < 0) {
		free(u);
		return NULL;
	}
	u->t = transport_plain_new(fd);
	if (!u->t) {
		free(u);
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	u->pool = pool;
	u->fd = fd;
	u->port = port;
	buf_init(&u->in, 0);
	ev_timer_init(&u->idle, on_idle_timeout, u);
	return u;
}

struct upstream *proxy_pool_get(struct proxy *pool, uint16_t port, struct err *e)
{
	for (struct upstream *u = pool->idle; u; u = u->next) {
		if (u->port == port) {
			unlink_idle(u);
			u->reused = true;
			u->reusable = false;
			return u;
		}
	}
	return proxy_pool_dial(pool, port, e);
}

int proxy_pool_watch(struct proxy *pool, struct upstream *u, uint32_t events, ev_io_cb *cb, void *arg)
{
	u->owner_cb = cb;
	u->owner = arg;
	if (u->in_loop) {
		proxy_pool_arm(u, events);
		return 0;
	}
	int r = ev_add(pool->loop, u->fd, events, on_io, u);
	if (r == 0) {
		u->in_loop = true;
		u->armed = events;
	}
	return r;
}

void proxy_pool_put(struct proxy *pool, struct upstream *u)
{
	u->owner_cb = NULL;
	u->owner = NULL;
	if (!u->reusable || u->in.len || pool->nidle >= PROXY_POOL_MAX || !u->in_loop) {
		proxy_pool_discard(u);
		return;
	}
	/* Idle: any readable event (EOF or junk) drops it. EPOLLIN is all we need. */
	proxy_pool_arm(u, EPOLLIN);
	u->connected = true;
	u->next = pool->idle;
	u->prev = NULL;
	if (pool->idle)
		pool->idle->prev = u;
	pool->idle = u;
	pool->nidle++;
	ev_timer_start(pool->loop, &u->idle, PROXY_POOL_IDLE_MS);
}
