// SPDX-License-Identifier: Apache-2.0
#include "http_upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sock.h"

struct http_upstream_pool {
	struct ev_loop *loop;
	struct http_upstream *idle;
	size_t nidle, max_idle;
	uint32_t idle_ms;
};

struct http_upstream_pool *http_upstream_pool_new(struct ev_loop *loop, size_t max_idle,
						  uint32_t idle_ms)
{
	struct http_upstream_pool *p = calloc(1, sizeof(*p));
	if (p) {
		p->loop = loop;
		p->max_idle = max_idle;
		p->idle_ms = idle_ms;
	}
	return p;
}

static void upstream_retired(void *obj)
{
	struct http_upstream *u = obj;
	if (u->t)
		transport_close(u->t);
	buf_free(&u->in);
	free(u);
}

void http_upstream_discard(struct http_upstream *u)
{
	if (!u || u->dead)
		return;
	u->dead = true;
	u->owner_cb = NULL;
	if (u->in_loop)
		ev_del(u->pool->loop, u->fd);
	u->in_loop = false;
	ev_timer_stop(u->pool->loop, &u->idle);
	ev_retire(u->pool->loop, &u->retiree, upstream_retired, u);
}

static void unlink_idle(struct http_upstream *u)
{
	struct http_upstream_pool *pool = u->pool;
	if (u->prev)
		u->prev->next = u->next;
	else
		pool->idle = u->next;
	if (u->next)
		u->next->prev = u->prev;
	u->next = u->prev = NULL;
	u->pooled = false;
	pool->nidle--;
	/* The idle timer stays armed and lapses (on_idle_timeout): taking a pooled
	 * connection and giving it back costs no heap update per request. */
}

size_t http_upstream_pool_idle(const struct http_upstream_pool *pool)
{
	return pool->nidle;
}

void http_upstream_pool_free(struct http_upstream_pool *pool)
{
	if (!pool)
		return;
	while (pool->idle) {
		struct http_upstream *u = pool->idle;
		unlink_idle(u);
		http_upstream_discard(u);
	}
	ev_run_retired(pool->loop);
	free(pool);
}

static void on_idle_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct http_upstream *u = arg;
	if (!u->pooled)
		return; /* in use: http_upstream_put arms it again */
	if (ev_now(loop) < u->idle_until) {
		ev_timer_start_at(loop, t, u->idle_until); /* idle again since it was armed */
		return;
	}
	unlink_idle(u);
	http_upstream_discard(u);
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_upstream *u = arg;
	if (u->dead)
		return;
	if (u->owner_cb) {
		u->owner_cb(loop, fd, events, u->owner);
		return;
	}
	/* Nothing is expected on an idle connection: EOF or junk, drop it. */
	unlink_idle(u);
	http_upstream_discard(u);
}

/* Edge-triggered: a request reads its answer with one read that ends short,
 * and the loop does not poll the socket again on the next turn to find it
 * drained, as it does for a level-triggered fd. RDHUP says whether the FIN
 * was already there when the event was reported (see the header). */
#define EDGE (EPOLLET | EPOLLRDHUP)

void http_upstream_arm(struct http_upstream *u, uint32_t events)
{
	if (u->in_loop && events != u->armed && ev_mod(u->pool->loop, u->fd, events | EDGE) == 0)
		u->armed = events;
}

void http_upstream_poll_again(struct http_upstream *u)
{
	if (u->in_loop)
		ev_mod(u->pool->loop, u->fd, u->armed | EDGE);
}

struct http_upstream *http_upstream_dial(struct http_upstream_pool *pool, const char *addr,
					 uint16_t port, struct err *e)
{
	size_t alen = strlen(addr);
	if (alen >= HTTP_UPSTREAM_ADDR_MAX) {
		err_set(e, EINVAL, "upstream address too long");
		return NULL;
	}
	struct http_upstream *u = calloc(1, sizeof(*u));
	if (!u) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	int fd = sock_connect_tcp(addr, port, e);
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
	memcpy(u->addr, addr, alen + 1);
	u->port = port;
	buf_init(&u->in, 0);
	ev_timer_init(&u->idle, on_idle_timeout, u);
	return u;
}

struct http_upstream *http_upstream_get(struct http_upstream_pool *pool, const char *addr,
					uint16_t port, struct err *e)
{
	for (struct http_upstream *u = pool->idle; u; u = u->next) {
		if (u->port == port && strcmp(u->addr, addr) == 0) {
			unlink_idle(u);
			u->reused = true;
			u->reusable = false;
			return u;
		}
	}
	return http_upstream_dial(pool, addr, port, e);
}

int http_upstream_watch(struct http_upstream *u, uint32_t events, ev_io_cb *cb, void *arg)
{
	u->owner_cb = cb;
	u->owner = arg;
	if (u->in_loop) {
		http_upstream_arm(u, events);
		return 0;
	}
	int r = ev_add(u->pool->loop, u->fd, events | EDGE, on_io, u);
	if (r == 0) {
		u->in_loop = true;
		u->armed = events;
	}
	return r;
}

void http_upstream_put(struct http_upstream *u)
{
	struct http_upstream_pool *pool = u->pool;
	u->owner_cb = NULL;
	u->owner = NULL;
	if (!u->reusable || u->in.len || pool->nidle >= pool->max_idle || !u->in_loop) {
		http_upstream_discard(u);
		return;
	}
	/* Idle: any readable event (EOF or junk) drops it. EPOLLIN is all we need. */
	http_upstream_arm(u, EPOLLIN);
	u->connected = true;
	u->next = pool->idle;
	u->prev = NULL;
	if (pool->idle)
		pool->idle->prev = u;
	pool->idle = u;
	pool->nidle++;
	u->pooled = true;
	u->idle_until = ev_now(pool->loop) + pool->idle_ms;
	if (!ev_timer_active(&u->idle) || u->idle.when > u->idle_until)
		ev_timer_start_at(pool->loop, &u->idle, u->idle_until);
}

struct transport *http_upstream_take(struct http_upstream *u)
{
	struct transport *t = u->t;
	if (u->in_loop)
		ev_del(u->pool->loop, u->fd);
	u->in_loop = false;
	u->t = NULL;
	http_upstream_discard(u);
	return t;
}
