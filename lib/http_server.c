// SPDX-License-Identifier: Apache-2.0
/* The server object: listeners, routes, the connection set and its lifetime. */
#include "http_server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "sock.h"
#include "tls.h"

static const char busy_reply[] =
	"HTTP/1.1 503 Service Unavailable\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 62\r\nConnection: close\r\n\r\n"
	"{\"code\":\"UNAVAILABLE\",\"message\":\"too many open connections\"}";

static void accept_conn(int fd, void *arg);
static bool shed_conn(void *arg);

/* End of a loop turn: write the response heads that no body joined, and run
 * what public calls queued (pipelined requests, resumed bodies, drains). */
static void flush_pending(struct ev_loop *loop, void *arg)
{
	struct http_server *s = arg;
	/* Bounded: a producer that refills on every drain must not hold the turn. */
	for (int n = 0; s->flush_list; n++) {
		if (n == 4096) {
			ev_again(loop);
			return;
		}
		struct http_conn *c = s->flush_list;
		s->flush_list = c->next_flush;
		c->flush_queued = false;
		if (c->dead)
			continue;
		conn_flush(c, true);
		while (!c->dead && c->kick)
			conn_process(c);
		conn_update_events(c);
	}
}

void conn_flush_later(struct http_conn *c)
{
	if (c->flush_queued || c->dead)
		return;
	c->flush_queued = true;
	c->next_flush = c->srv->flush_list;
	c->srv->flush_list = c;
}

struct http_server *http_server_new(struct ev_loop *loop, const struct http_server_config *cfg,
				    struct err *e)
{
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(e, ENOMEM, "http_server_new");
		return NULL;
	}
	s->loop = loop;
	if (cfg)
		s->cfg = *cfg;
	struct http_server_config *c = &s->cfg;
	c->max_conns = c->max_conns ? c->max_conns : 1024;
	c->header_timeout_ms = c->header_timeout_ms ? c->header_timeout_ms : 30000;
	c->body_timeout_ms = c->body_timeout_ms ? c->body_timeout_ms : 60000;
	c->idle_timeout_ms = c->idle_timeout_ms ? c->idle_timeout_ms : 75000;
	c->write_timeout_ms = c->write_timeout_ms ? c->write_timeout_ms : 60000;
	c->max_body = c->max_body ? c->max_body : 1024 * 1024;
	c->max_out = c->max_out ? c->max_out : 8 * 1024 * 1024;
	if (!c->limits.max_head)
		c->limits.max_head = http_default_limits.max_head;
	if (!c->limits.max_target)
		c->limits.max_target = http_default_limits.max_target;
	if (!c->limits.max_headers || c->limits.max_headers > HTTP_MAX_HEADER_ARRAY)
		c->limits.max_headers = http_default_limits.max_headers;
	if (!c->pressure_timeout_ms)
		c->pressure_timeout_ms = 5000;
	/* A cap the fd limit can hold with room to spare for what requests open
	 * (pipes, PTYs, upstream sockets): strangers are evicted before the
	 * process runs out, so a credentialed client that gets in can also work. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < c->max_conns + HTTP_FD_HEADROOM) {
		size_t fit = rl.rlim_cur > 2 * HTTP_FD_HEADROOM ? rl.rlim_cur - HTTP_FD_HEADROOM
								: rl.rlim_cur / 4;
		c->max_conns = fit > 4 ? fit : 4;
	}
	s->lst = listener_new(loop, c->log_name ? c->log_name : "http", accept_conn, s, busy_reply,
			      sizeof(busy_reply) - 1, e);
	if (!s->lst) {
		free(s);
		return NULL;
	}
	listener_on_exhausted(s->lst, shed_conn);
	if (ev_on_turn(loop, flush_pending, s) < 0) {
		err_set(e, ENOSPC, "no free turn hook in the event loop");
		listener_free(s->lst);
		free(s);
		return NULL;
	}
	return s;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	ev_off_turn(s->loop, flush_pending, s);
	/* Close all, then run the retire steps now: the owners' on_close hooks,
	 * then the frees (a hook may close another of our connections). */
	while (s->conns) {
		for (struct http_conn *c = s->conns; c; c = c->next)
			conn_close(c);
		ev_run_retired(s->loop);
	}
	listener_free(s->lst);
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].pattern);
	}
	free(s->routes);
	free(s->strip_prefix);
	free(s);
}

/* Connections not yet closed (closed ones wait for the end of the turn). */
static size_t live_conns(const struct http_server *s)
{
	return s->nconns - s->ndead;
}

/* Three quarters of the connection cap in use. */
static bool under_pressure(const struct http_server *s)
{
	return live_conns(s) >= s->cfg.max_conns - s->cfg.max_conns / 4;
}

size_t http_server_conn_count(const struct http_server *s)
{
	return live_conns(s);
}

/* ---- routing ----------------------------------------------------------- */

int http_server_route(struct http_server *s, const char *method, const char *pattern,
		      http_handler *h, void *arg, const struct http_route_opts *opts)
{
	if (!pattern || pattern[0] != '/' || !method || !h)
		return -EINVAL;
	struct route *r = realloc(s->routes, (s->nroutes + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->routes = r;
	r = &s->routes[s->nroutes];
	r->method = strdup(method);
	r->pattern = strdup(pattern);
	if (!r->method || !r->pattern) {
		free(r->method);
		free(r->pattern);
		return -ENOMEM;
	}
	r->h = h;
	r->arg = arg;
	memset(&r->opts, 0, sizeof(r->opts));
	if (opts)
		r->opts = *opts;
	s->nroutes++;
	return 0;
}

void http_server_set_filter(struct http_server *s, http_filter *f, void *arg)
{
	s->filter = f;
	s->filter_arg = arg;
}

int http_server_strip_prefix(struct http_server *s, const char *prefix)
{
	char *p = strdup(prefix);
	if (!p)
		return -ENOMEM;
	free(s->strip_prefix);
	s->strip_prefix = p;
	return 0;
}

void http_server_set_fallback(struct http_server *s, http_handler *h, void *arg)
{
	s->fallback = h;
	s->fallback_arg = arg;
}

/*
 * Matches path against pattern; on success stores the parameters in req,
 * copying their values into `store` (room for strlen(path) + HTTP_MAX_PARAMS bytes).
 * A parameter name runs from after ':' or '*' to the next '/' or the end.
 */
bool route_match(const char *pattern, const char *path, struct http_req *req, char *store)
{
	const char *p = pattern, *q = path;
	size_t n = 0;

	while (*p) {
		if (*p == '*') {
			if (n == HTTP_MAX_PARAMS)
				return false;
			req->param_names[n] = p + 1;
			req->param_values[n] = store;
			memcpy(store, q, strlen(q) + 1);
			req->num_params = n + 1;
			return true;
		}
		if (*p == ':') {
			size_t plen = strcspn(p, "/");
			size_t vlen = strcspn(q, "/");
			if (vlen == 0 || n == HTTP_MAX_PARAMS)
				return false;
			req->param_names[n] = p + 1;
			memcpy(store, q, vlen);
			store[vlen] = '\0';
			req->param_values[n++] = store;
			store += vlen + 1;
			p += plen;
			q += vlen;
			continue;
		}
		if (*p != *q)
			return false;
		p++;
		q++;
	}
	if (*q)
		return false;
	req->num_params = n;
	return true;
}

const char *http_req_param(const struct http_req *req, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < req->num_params; i++) {
		const char *pn = req->param_names[i];
		if (strncmp(pn, name, len) == 0 && (pn[len] == '\0' || pn[len] == '/'))
			return req->param_values[i];
	}
	return NULL;
}

const char *http_req_header(const struct http_req *req, const char *name)
{
	const struct http_header *h = http_header_find(req->headers, req->num_headers, name);
	return h ? h->value : NULL;
}

/* ---- connection lifetime ----------------------------------------------- */

/* The retire step: the owner's on_close (the request never ended), then the free. */
static void conn_retired(void *obj)
{
	struct http_conn *c = obj;
	struct http_server *s = c->srv;
	http_conn_cb *cb = c->on_close;
	c->on_close = NULL;
	if (cb)
		cb(c, c->close_arg);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	s->ndead--;
	if (c->flush_queued) {
		for (struct http_conn **p = &s->flush_list; *p; p = &(*p)->next_flush) {
			if (*p == c) {
				*p = c->next_flush;
				break;
			}
		}
	}
	ev_timer_stop(s->loop, &c->timer);
	if (c->t)
		transport_close(c->t);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->head);
	buf_free(&c->body);
	buf_free(&c->resp_hdrs);
	free(c);
	listener_fd_freed(s->lst);
}

void conn_close(struct http_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->srv->ndead++;
	c->on_drain = NULL;
	c->body_cb = NULL;
	ev_timer_stop(c->srv->loop, &c->timer);
	if (c->t)
		ev_del(c->srv->loop, c->fd);
	ev_retire(c->srv->loop, &c->retiree, conn_retired, c);
}

/*
 * The connection's one timer is lazy: a request switches kinds several times
 * (idle, head, none, idle again), and each switch would be two heap updates.
 * Instead the kind and its deadline are noted, and the heap is touched only
 * when the new deadline comes before the armed time; a timer that fires
 * early re-arms itself for what is left (conn_on_timer), one that finds
 * nothing timed lapses.
 */
void conn_set_timer(struct http_conn *c, enum conn_timer kind)
{
	const struct http_server_config *cfg = &c->srv->cfg;
	uint32_t ms = kind == TIMER_IDLE   ? cfg->idle_timeout_ms
		      : kind == TIMER_HEAD ? cfg->header_timeout_ms
		      : kind == TIMER_BODY ? cfg->body_timeout_ms
					   : cfg->write_timeout_ms;
	/* Under pressure, strangers get less time to send a request or read an answer. */
	if ((kind == TIMER_IDLE || kind == TIMER_HEAD || kind == TIMER_WRITE) && !c->trusted &&
	    ms > cfg->pressure_timeout_ms && under_pressure(c->srv))
		ms = cfg->pressure_timeout_ms;
	c->timer_kind = kind;
	if (kind == TIMER_NONE)
		return;
	c->deadline = ev_now(c->srv->loop) + ms;
	if (!ev_timer_active(&c->timer) || c->timer.when > c->deadline)
		ev_timer_start_at(c->srv->loop, &c->timer, c->deadline);
}

void conn_update_events(struct http_conn *c)
{
	if (c->dead)
		return;
	/* Read while idle, while a body is wanted, and (bounded by the input
	 * cap) while a handler works, so a client that leaves is noticed. */
	bool rd = !c->eof && c->in.len < c->in.max && c->state != CONN_CLOSING &&
		  !(c->state == CONN_HANDLER && c->body_paused);
	/* A queued head leaves at the end of the turn without EPOLLOUT. */
	bool wr = c->out.len > 0 && !c->flush_queued;
	/* No need to hear of the peer's half-close once the EOF is known. */
	uint32_t ev = transport_want(c->t, rd, wr) | (c->eof ? 0 : EPOLLRDHUP);
	if (ev != c->armed) {
		ev_mod(c->srv->loop, c->fd, ev | EPOLLET);
		c->armed = ev;
	}
	/* Progress re-arms the write timer in conn_flush; here only switch kinds. */
	if (wr && c->timer_kind != TIMER_WRITE)
		conn_set_timer(c, TIMER_WRITE);
	else if (!wr && c->timer_kind == TIMER_WRITE)
		conn_set_timer(c, c->state == CONN_HEAD ? TIMER_IDLE : TIMER_NONE);
}

/*
 * Full: the connection to give up for a new one. Only connections between
 * requests qualify (nobody is mid-request): first the oldest never trusted
 * (answers it has not read count for nothing), then the oldest trusted one
 * idling in keep-alive with nothing in flight. NULL if every connection is
 * busy with a request.
 */
static struct http_conn *eviction_victim(struct http_server *s)
{
	struct http_conn *stranger = NULL, *idle = NULL;
	for (struct http_conn *c = s->conns; c; c = c->next) { /* newest first */
		if (c->dead)
			continue;
		/* A stranger whose last answer waits to be read before the close is done too. */
		if (!c->trusted && (c->state == CONN_HEAD || c->state == CONN_CLOSING))
			stranger = c;
		else if (c->trusted && c->state == CONN_HEAD && !c->in.len && !c->out.len)
			idle = c;
	}
	return stranger ? stranger : idle;
}

static void accept_conn(int fd, void *arg)
{
	struct http_server *s = arg;
	if (live_conns(s) >= s->cfg.max_conns) {
		struct http_conn *victim = eviction_victim(s);
		if (!victim) {
			ssize_t w = send(fd, busy_reply, sizeof(busy_reply) - 1,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			close(fd);
			return;
		}
		s->evicted++;
		conn_close(victim);
	}
	struct http_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	sock_peer_str(fd, c->peer, sizeof(c->peer));
	/* Responses are written whole or streamed on purpose: no Nagle delay
	 * (it fails harmlessly on unix sockets). */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct err e = {0};
	struct transport *t =
		s->cfg.tls ? tls_server_new(fd, s->cfg.tls, &e) : transport_plain_new(fd);
	if (!t) {
		free(c);
		return;
	}
	c->srv = s;
	c->t = t;
	c->fd = fd;
	c->state = CONN_HEAD;
	buf_init(&c->in, s->cfg.limits.max_head + HTTP_READ_CHUNK);
	buf_init(&c->out, s->cfg.max_out);
	buf_init(&c->head, 0);
	buf_init(&c->body, 0);
	buf_init(&c->resp_hdrs, 64 * 1024);
	ev_timer_init(&c->timer, conn_on_timer, c);
	c->armed = transport_want(t, 1, 0) | EPOLLRDHUP;
	if (ev_add(s->loop, fd, c->armed | EPOLLET, conn_on_io, c) < 0) {
		transport_close(t);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	conn_set_timer(c, TIMER_IDLE);
}

/* Out of fds: the same choice as when full (conn_retired tells the listener). */
static bool shed_conn(void *arg)
{
	struct http_server *s = arg;
	struct http_conn *victim = eviction_victim(s);
	if (!victim)
		return false;
	s->evicted++;
	conn_close(victim);
	return true;
}

void http_conn_trust(struct http_conn *c)
{
	c->trusted = true;
}

size_t http_server_evicted(const struct http_server *s)
{
	return s->evicted;
}

int http_server_listen_fd(struct http_server *s, int lfd, struct err *e)
{
	return listener_add_fd(s->lst, lfd, e);
}
