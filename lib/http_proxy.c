// SPDX-License-Identifier: Apache-2.0
/* The proxy engine's exchanges: one client request relayed to one upstream. */
#include "http_proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "http_proxy_int.h"
#include "http_upstream.h"
#include "sock.h"
#include "splice.h"

#define READ_CHUNK (64 * 1024)
/* Ended exchanges kept for reuse, and the largest buffer one keeps. */
#define SPARE_MAX     128
#define SPARE_BUF_CAP 4096

struct exch;

struct http_proxy {
	struct ev_loop *loop;
	struct http_proxy_config cfg;
	struct http_upstream_pool *pool;
	/* Retired exchanges with their buffers, reused by the next requests:
	 * a request then allocates nothing, and the allocator does not map and
	 * unmap pages as the number of exchanges in flight goes up and down. */
	struct exch *spare;
	size_t nspare;
};

enum exch_state { X_CONNECTING, X_HEAD, X_BODY };

struct exch {
	struct http_proxy *px;
	struct http_conn *c;	 /* NULL once the client side is released */
	struct http_upstream *u; /* NULL once the upstream is released */
	enum exch_state state;
	bool dead; /* ended: retired, freed at the end of the turn (ev.h) */
	bool head_method, upgrade, req_chunked, drop_request_id;
	bool replayable;    /* safe to send twice (RFC 9110 9.2.2) */
	bool req_done;	    /* the request body has been read entirely */
	bool client_paused; /* we paused the client's body */
	bool sent_any_body;
	bool resp_started;
	struct buf out;	 /* to the upstream */
	struct buf head; /* the request head, kept for one retry */
	struct http_body dec;
	struct ev_timer timer;	/* connect, then upstream silence */
	uint64_t last_progress; /* ev_now of the last upstream byte either way */
	struct ev_retiree retiree;
	struct exch *next_spare; /* in px->spare */
};

static void exch_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);
static void on_client_drain(struct http_conn *c, void *arg);

struct http_proxy *http_proxy_new(struct ev_loop *loop, const struct http_proxy_config *cfg)
{
	struct http_proxy *px = calloc(1, sizeof(*px));
	if (!px)
		return NULL;
	px->loop = loop;
	if (cfg)
		px->cfg = *cfg;
	if (!px->cfg.connect_timeout_ms)
		px->cfg.connect_timeout_ms = 30 * 1000;
	if (!px->cfg.pool_max)
		px->cfg.pool_max = 100;
	if (!px->cfg.pool_idle_ms)
		px->cfg.pool_idle_ms = 90 * 1000;
	px->pool = http_upstream_pool_new(loop, px->cfg.pool_max, px->cfg.pool_idle_ms);
	if (!px->pool) {
		free(px);
		return NULL;
	}
	return px;
}

static void exch_free(struct exch *x)
{
	buf_free(&x->out);
	buf_free(&x->head);
	free(x);
}

size_t http_proxy_idle(const struct http_proxy *px)
{
	return px ? http_upstream_pool_idle(px->pool) : 0;
}

void http_proxy_free(struct http_proxy *px)
{
	if (!px)
		return;
	ev_run_retired(px->loop); /* exchanges ended just before join the spares */
	http_upstream_pool_free(px->pool);
	while (px->spare) {
		struct exch *x = px->spare;
		px->spare = x->next_spare;
		exch_free(x);
	}
	free(px);
}

/* The retire step (ev.h): nothing refers to the exchange any more. */
static void exch_retired(void *obj)
{
	struct exch *x = obj;
	struct http_proxy *px = x->px;
	if (px->nspare == SPARE_MAX) {
		exch_free(x);
		return;
	}
	if (x->out.cap > SPARE_BUF_CAP)
		buf_free(&x->out);
	if (x->head.cap > SPARE_BUF_CAP)
		buf_free(&x->head);
	x->next_spare = px->spare;
	px->spare = x;
	px->nspare++;
}

/* A zeroed exchange, reusing a spare (and its buffers' memory) if there is one. */
static struct exch *exch_new(struct http_proxy *px)
{
	struct exch *x = px->spare;
	if (!x)
		return calloc(1, sizeof(*x));
	px->spare = x->next_spare;
	px->nspare--;
	struct buf out = x->out, head = x->head;
	memset(x, 0, sizeof(*x));
	x->out = out;
	x->head = head;
	buf_reset(&x->out);
	buf_reset(&x->head);
	return x;
}

/* Takes the client connection away from the exchange: no hook of ours stays on it. */
static struct http_conn *release_client(struct exch *x)
{
	struct http_conn *c = x->c;
	x->c = NULL;
	if (c) {
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
	}
	return c;
}

/* Ends the exchange: the upstream goes back to the pool (keep) or is closed. */
static void exch_end(struct exch *x, bool keep)
{
	if (x->dead)
		return;
	x->dead = true;
	release_client(x);
	ev_timer_stop(x->px->loop, &x->timer);
	if (x->u) {
		if (keep)
			http_upstream_put(x->u);
		else
			http_upstream_discard(x->u);
		x->u = NULL;
	}
	ev_retire(x->px->loop, &x->retiree, exch_retired, x);
}

static void report(struct http_proxy *px, int status)
{
	if (px->cfg.on_status)
		px->cfg.on_status(status, px->cfg.arg);
}

static void answer_error(struct http_proxy *px, struct http_conn *c, int status,
			 enum http_proxy_failure why)
{
	report(px, status);
	if (px->cfg.on_error) {
		px->cfg.on_error(c, status, why, px->cfg.arg);
		return;
	}
	http_resp_header(c, "X-Content-Type-Options", "nosniff");
	if (status == 504)
		http_resp_send(c, 504, "text/plain; charset=utf-8", "Gateway Timeout\n", 16);
	else
		http_resp_send(c, 502, "text/plain; charset=utf-8", "Bad Gateway\n", 12);
}

/* Fails the exchange: an error answer if nothing was answered yet, else cut the client. */
static void exch_fail(struct exch *x, enum http_proxy_failure why)
{
	struct http_conn *c = release_client(x);
	if (c) {
		if (x->resp_started)
			http_resp_abort(c);
		else
			answer_error(x->px, c, why == HTTP_PROXY_TIMEOUT ? 504 : 502, why);
	}
	exch_end(x, false);
}

static bool client_backlogged(const struct exch *x)
{
	return x->state == X_BODY && x->c && http_conn_out_pending(x->c) > HTTP_PROXY_HIGH;
}

/* Sets the upstream's epoll mask and the timer for what we now wait on. */
static void exch_arm(struct exch *x)
{
	if (x->dead || !x->u)
		return;
	bool backlog = client_backlogged(x);
	/* Reading stops while the client is behind: its drain hook restarts it,
	 * wherever the read loop happened to stop. */
	if (backlog)
		http_conn_on_drain(x->c, on_client_drain, x);
	uint32_t ev = x->state == X_CONNECTING
			      ? EPOLLOUT
			      : (backlog ? 0 : EPOLLIN) | (x->out.len ? EPOLLOUT : 0);
	http_upstream_arm(x->u, ev);
	/* The upstream is awaited while connecting, while it has bytes to take,
	 * and for its answer once the request is sent; not while we wait on the client. */
	bool awaited = x->state == X_CONNECTING || x->out.len ||
		       (x->req_done && !x->resp_started) || (x->resp_started && !backlog);
	uint32_t ms =
		x->state == X_CONNECTING ? x->px->cfg.connect_timeout_ms : x->px->cfg.io_timeout_ms;
	if (!awaited || !ms) {
		ev_timer_stop(x->px->loop, &x->timer);
	} else if (!ev_timer_active(&x->timer)) {
		x->last_progress = ev_now(x->px->loop); /* the wait starts now */
		ev_timer_start_at(x->px->loop, &x->timer, x->last_progress + ms);
	}
}

/* Progress only notes the time: the timer, when it fires, re-arms itself for
 * what is left (no heap update per read or write on the hot path). */
static void progress(struct exch *x)
{
	x->last_progress = ev_now(x->px->loop);
}

static void retry_fresh(struct exch *x);

/* A pooled connection the server had closed before this request reached it:
 * nothing came back and no body byte was taken, so it can go again. */
static bool stale_pooled(const struct exch *x)
{
	return x->replayable && x->u->reused && x->state == X_HEAD && !x->sent_any_body &&
	       x->u->in.len == 0;
}

/* A proxy must not retry on its own what is not idempotent: GET, HEAD,
 * OPTIONS and TRACE, or a request that carries an idempotency key. */
static bool replayable(const struct http_req *req)
{
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE"};
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (strcmp(req->method, safe[i]) == 0)
			return true;
	return http_req_header(req, "Idempotency-Key") || http_req_header(req, "X-Idempotency-Key");
}

static void flush_upstream(struct exch *x)
{
	while (x->out.len) {
		ssize_t n = transport_write(x->u->t, buf_head(&x->out), x->out.len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			if (stale_pooled(x)) {
				retry_fresh(x);
				return;
			}
			exch_fail(x, x->resp_started || x->sent_any_body ? HTTP_PROXY_PROTOCOL
									 : HTTP_PROXY_CONNECT);
			return;
		}
		buf_consume(&x->out, (size_t)n);
		progress(x);
	}
	if (x->client_paused && x->out.len < HTTP_PROXY_HIGH / 2 && x->c) {
		x->client_paused = false;
		http_conn_pause_body(x->c, false);
	}
}

static void on_req_body(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct exch *x = arg;
	if (x->dead)
		return;
	if (len) {
		x->sent_any_body = true;
		if (x->req_chunked) {
			char hdr[20];
			buf_append(&x->out, hdr, http_chunk_header(hdr, len));
			buf_append(&x->out, data, len);
			buf_append(&x->out, "\r\n", 2);
		} else {
			buf_append(&x->out, data, len);
		}
	}
	if (done) {
		x->req_done = true;
		if (x->req_chunked)
			buf_puts(&x->out, HTTP_CHUNK_END);
	}
	if (x->state != X_CONNECTING) {
		flush_upstream(x);
		if (x->dead)
			return;
	}
	if (!done && x->out.len > HTTP_PROXY_HIGH && !x->client_paused) {
		x->client_paused = true;
		http_conn_pause_body(c, true);
	}
	exch_arm(x);
}

static void on_client_gone(struct http_conn *c, void *arg)
{
	struct exch *x = arg;
	(void)c;
	x->c = NULL;
	exch_end(x, false);
}

static void on_client_drain(struct http_conn *c, void *arg)
{
	struct exch *x = arg;
	(void)c;
	exch_arm(x); /* reading the upstream may resume */
}

/* 101: both connections go to the splicer; the upstream's head goes to the client first. */
static void start_splice(struct exch *x, size_t head_len)
{
	struct http_conn *c = release_client(x);
	struct http_detached client, up;
	struct err e = {0};
	report(x->px, 101);
	if (http_conn_detach(c, &client) < 0) {
		exch_end(x, false);
		return;
	}
	struct http_upstream *u = x->u;
	int r = buf_append(&client.out, buf_head(&u->in), head_len);
	buf_consume(&u->in, head_len);
	up.in = u->in;
	buf_init(&u->in, 0);
	buf_init(&up.out, 0);
	r = r ? r : buf_append(&up.out, buf_head(&x->out), x->out.len);
	x->u = NULL;
	up.t = http_upstream_take(u);
	exch_end(x, false);
	if (r < 0) {
		transport_close(client.t);
		transport_close(up.t);
		buf_free(&client.in);
		buf_free(&client.out);
		buf_free(&up.in);
		buf_free(&up.out);
		return;
	}
	/* splice_start owns both sides from here, even when it fails. */
	splice_start(x->px->loop, &client, &up, 0, NULL, NULL, &e);
}

/* Returns false if the exchange has ended. */
static bool handle_head(struct exch *x)
{
	struct http_upstream *u = x->u;
	struct http_header hdrs[100];
	struct http_response_head h = {.headers = hdrs, .num_headers = 100};
	int r = http_parse_response(buf_head(&u->in), u->in.len, &h, x->head_method, NULL);
	if (r == -2) {
		if (u->in.len > HTTP_PROXY_HEAD_MAX) {
			exch_fail(x, HTTP_PROXY_PROTOCOL);
			return false;
		}
		return true;
	}
	if (r < 0) {
		exch_fail(x, HTTP_PROXY_PROTOCOL);
		return false;
	}
	if (h.status >= 100 && h.status < 200 && h.status != 101) {
		buf_consume(&u->in, (size_t)r);
		return true;
	}
	if (h.status == 101) {
		if (!x->upgrade) {
			exch_fail(x, HTTP_PROXY_PROTOCOL);
			return false;
		}
		start_splice(x, (size_t)r);
		return false;
	}
	char ctype[512];
	if (http_proxy_response_headers(x->c, &h, x->drop_request_id, ctype, sizeof(ctype)) < 0) {
		exch_fail(x, HTTP_PROXY_PROTOCOL);
		return false;
	}
	u->reusable = h.keep_alive;
	buf_consume(&u->in, (size_t)r);
	x->resp_started = true;
	report(x->px, h.status);
	http_body_init(&x->dec, h.body_kind, h.content_length);
	uint64_t cl = h.body_kind == HTTP_BODY_LENGTH ? h.content_length : 0;
	if (x->head_method) {
		/* HEAD: no body, but the length the upstream announced is passed on. */
		const struct http_header *lh =
			http_header_find(hdrs, h.num_headers, "Content-Length");
		cl = 0;
		for (size_t i = 0;
		     lh && i < lh->value_len && lh->value[i] >= '0' && lh->value[i] <= '9'; i++)
			cl = cl * 10 + (uint64_t)(lh->value[i] - '0');
	}
	const char *ct = ctype[0] ? ctype : NULL;
	int rr = h.body_kind == HTTP_BODY_LENGTH || h.body_kind == HTTP_BODY_NONE
			 ? http_resp_begin_length(x->c, h.status, ct, cl)
			 : http_resp_begin_stream(x->c, h.status, ct);
	if (rr < 0) {
		exch_fail(x, HTTP_PROXY_PROTOCOL);
		return false;
	}
	x->state = X_BODY;
	return true;
}

/* Returns false if the exchange has ended. */
static bool handle_body(struct exch *x)
{
	struct http_upstream *u = x->u;
	while (u->in.len && !x->dec.done) {
		const char *data;
		size_t dlen;
		long used = http_body_decode(&x->dec, buf_head(&u->in), u->in.len, &data, &dlen);
		if (used < 0) {
			exch_fail(x, HTTP_PROXY_PROTOCOL);
			return false;
		}
		if (dlen && http_resp_write(x->c, data, dlen) < 0) {
			exch_fail(x, HTTP_PROXY_PROTOCOL);
			return false;
		}
		buf_consume(&u->in, (size_t)used);
		if (used == 0)
			break;
	}
	if (x->dec.done || x->dec.kind == HTTP_BODY_NONE) {
		bool keep = u->reusable && x->req_done && !x->out.len && u->in.len == 0 &&
			    x->dec.kind != HTTP_BODY_UNTIL_CLOSE;
		struct http_conn *c = release_client(x);
		exch_end(x, keep);
		http_resp_end(c);
		return false;
	}
	return true;
}

static void on_connected(struct exch *x)
{
	if (sock_connect_result(x->u->fd) < 0) {
		exch_fail(x, HTTP_PROXY_CONNECT);
		return;
	}
	x->state = X_HEAD;
	ev_timer_stop(x->px->loop, &x->timer); /* exch_arm starts the io timer if awaited */
	progress(x);
	flush_upstream(x);
}

/* Sends the request again, once, on a fresh connection (stale_pooled). */
static void retry_fresh(struct exch *x)
{
	struct err e = {0};
	struct http_upstream *old = x->u;
	x->u = http_upstream_dial(x->px->pool, old->addr, old->port, &e);
	http_upstream_discard(old);
	if (!x->u) {
		exch_fail(x, HTTP_PROXY_CONNECT);
		return;
	}
	buf_reset(&x->out);
	buf_append(&x->out, buf_head(&x->head), x->head.len);
	if (x->req_chunked && x->req_done)
		buf_puts(&x->out, HTTP_CHUNK_END); /* an empty chunked body ends again */
	x->state = X_CONNECTING;
	ev_timer_stop(x->px->loop, &x->timer);
	if (http_upstream_watch(x->u, EPOLLOUT, exch_io, x) < 0) {
		exch_fail(x, HTTP_PROXY_CONNECT);
		return;
	}
	exch_arm(x); /* the connect timeout */
}

static void upstream_eof(struct exch *x, ssize_t n)
{
	struct http_upstream *u = x->u;
	if (x->state == X_BODY && n == 0 && http_body_eof(&x->dec) == 0) {
		x->dec.done = true;
		u->reusable = false;
		handle_body(x);
		return;
	}
	if (stale_pooled(x)) {
		retry_fresh(x);
		return;
	}
	exch_fail(x, HTTP_PROXY_PROTOCOL);
}

static void exch_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct exch *x = arg;
	(void)loop;
	(void)fd;
	if (x->dead)
		return;
	if (x->state == X_CONNECTING) {
		on_connected(x);
		if (x->dead)
			return;
	} else if (events & EPOLLOUT) {
		flush_upstream(x);
		if (x->dead)
			return;
	}
	/* A hang-up or error is reported even with reading off: handle it (read
	 * to the EOF or error) rather than be woken for it again and again. */
	bool hup = events & (EPOLLHUP | EPOLLERR);
	bool peer_done = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	bool drained = false;
	for (int i = 0; i < 8 && x->c && !drained; i++) {
		if (client_backlogged(x) && !hup)
			break; /* exch_arm turns reading off and hooks the drain */
		struct http_upstream *u = x->u;
		if (buf_reserve(&u->in, READ_CHUNK) < 0) {
			exch_fail(x, HTTP_PROXY_PROTOCOL);
			return;
		}
		ssize_t n = transport_read(u->t, buf_tail(&u->in), READ_CHUNK);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			upstream_eof(x, n);
			return;
		}
		buf_commit(&u->in, (size_t)n);
		progress(x);
		/* Interim (1xx) heads are dropped one by one; the final head may
		 * follow in the same bytes, so parse on while the buffer shrinks. */
		while (x->state == X_HEAD && u->in.len) {
			size_t before = u->in.len;
			if (!handle_head(x))
				return;
			if (u->in.len == before)
				break; /* need more bytes */
		}
		if (x->state == X_BODY && !handle_body(x))
			return;
		/* A short read drained the socket: the next bytes bring a new edge,
		 * but a FIN that was already there does not (http_upstream.h). */
		drained = n < READ_CHUNK && !peer_done;
		if (!drained && i == 7)
			http_upstream_poll_again(x->u); /* bytes left after our share of the turn */
	}
	exch_arm(x);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct exch *x = arg;
	uint32_t ms = x->px->cfg.io_timeout_ms;
	uint64_t quiet = ev_now(loop) - x->last_progress;
	if (x->state != X_CONNECTING && (!ms || quiet < ms)) {
		if (ms)
			ev_timer_start(loop, t, ms - quiet);
		return;
	}
	exch_fail(x, x->state == X_CONNECTING ? HTTP_PROXY_CONNECT : HTTP_PROXY_TIMEOUT);
}

void http_proxy_forward(struct http_proxy *px, struct http_conn *c, struct http_req *req,
			const struct http_proxy_target *t)
{
	struct exch *x = exch_new(px);
	if (!x) {
		http_resp_error(c, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	x->px = px;
	x->c = c;
	x->out.max = 0;
	x->head.max = HTTP_PROXY_HEAD_MAX;
	ev_timer_init(&x->timer, on_timeout, x);
	x->head_method = strcmp(req->method, "HEAD") == 0;
	const char *upg = http_req_header(req, "Upgrade");
	x->upgrade = upg && upg[0] && req->upgrade;
	x->req_chunked = req->body_kind == HTTP_BODY_CHUNKED;
	x->drop_request_id = req->request_id && req->request_id[0];
	x->replayable = replayable(req);
	if (http_proxy_request_head(&x->head, req, t, x->upgrade) < 0) {
		exch_retired(x);
		http_resp_error(c, 431, "HEADERS_TOO_LARGE", "request head too large to forward");
		return;
	}
	buf_append(&x->out, buf_head(&x->head), x->head.len);
	struct err e = {0};
	x->u = http_upstream_get(px->pool, t->addr, t->port, &e);
	if (!x->u) {
		exch_retired(x);
		answer_error(px, c, 502, HTTP_PROXY_CONNECT);
		return;
	}
	x->state = x->u->connected ? X_HEAD : X_CONNECTING;
	if (http_upstream_watch(x->u, x->state == X_CONNECTING ? EPOLLOUT : EPOLLIN, exch_io, x) <
	    0) {
		exch_fail(x, HTTP_PROXY_CONNECT);
		return;
	}
	http_conn_on_close(c, on_client_gone, x);
	/* The body (or its end) arrives from the loop; a pooled connection takes the head now. */
	http_conn_read_body(c, on_req_body, x);
	if (x->state == X_HEAD)
		flush_upstream(x);
	exch_arm(x);
}
