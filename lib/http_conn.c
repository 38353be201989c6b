// SPDX-License-Identifier: Apache-2.0
/* The request side of a server connection: read, parse, route, dispatch, body. */
#include "http_server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "uuid.h"

#define READ_CHUNK HTTP_READ_CHUNK

/* An error answer for a request we cannot go on with; the connection closes after it. */
static void reject(struct http_conn *c, int status, const char *message)
{
	c->close_after = true;
	if (c->state == CONN_HANDLER && c->on_close) {
		/* A handler owns this request (a streamed body went bad or stalled): it
		 * learns through on_close; the client just sees the connection end. */
		conn_close(c);
		return;
	}
	c->state = CONN_HANDLER;
	if (c->resp_started) {
		conn_close(c); /* too late for a status: just drop the connection */
		return;
	}
	http_resp_error(c, status,
			status == 408	? "REQUEST_TIMEOUT"
			: status == 413 ? "PAYLOAD_TOO_LARGE"
			: status == 414 ? "URI_TOO_LONG"
			: status == 431 ? "HEADERS_TOO_LARGE"
			: status == 501 ? "NOT_IMPLEMENTED"
			: status == 505 ? "VERSION_NOT_SUPPORTED"
					: "BAD_REQUEST",
			message);
}

void conn_on_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct http_conn *c = arg;
	enum conn_timer kind = c->timer_kind;
	if (kind == TIMER_NONE)
		return; /* nothing is timed now: the timer lapses (conn_set_timer) */
	if (ev_now(loop) < c->deadline) {
		ev_timer_start_at(loop, t, c->deadline); /* moved on since it was armed */
		return;
	}
	c->timer_kind = TIMER_NONE;
	if (kind == TIMER_HEAD)
		reject(c, 408, "request head not received in time");
	else if (kind == TIMER_BODY)
		reject(c, 408, "request body not received in time");
	else if (kind == TIMER_IDLE || kind == TIMER_WRITE)
		conn_close(c); /* idle keep-alive, or a client that does not read */
	if (!c->dead)
		conn_update_events(c);
}

/* No route took the method: the methods that do serve this path, for a 405. */
static void allowed_methods(struct http_conn *c, const char *path, char *params)
{
	struct http_server *s = c->srv;
	struct http_req scratch;
	size_t n = 0;
	bool get = false;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct route *r = &s->routes[i];
		memset(&scratch, 0, sizeof(scratch));
		if (!route_match(r->pattern, path, &scratch, params))
			continue;
		size_t ml = strlen(r->method);
		char *seen = strstr(c->allow, r->method);
		if (seen && (seen[ml] == '\0' || seen[ml] == ','))
			continue;
		if (n + ml + 2 >= sizeof(c->allow))
			break;
		n += (size_t)snprintf(c->allow + n, sizeof(c->allow) - n, "%s%s", n ? ", " : "",
				      r->method);
		get = get || strcmp(r->method, "GET") == 0;
	}
	if (get && n + 6 < sizeof(c->allow))
		snprintf(c->allow + n, sizeof(c->allow) - n, ", HEAD");
}

/* Copies the parsed head into c->head so pipelined input can move freely,
 * NUL-terminates every string, decodes the path and matches a route. */
static int setup_request(struct http_conn *c, struct http_request_head *rh, size_t head_len)
{
	struct http_server *s = c->srv;
	struct http_req *req = &c->req;
	const char *base = buf_head(&c->in);

	buf_reset(&c->head);
	/* head copy + NUL + decoded path + raw path + query + route params */
	if (buf_reserve(&c->head, head_len + 1 + 3 * (rh->target_len + 1) + HTTP_MAX_PARAMS + 8) <
	    0)
		return -ENOMEM;
	char *h = buf_tail(&c->head);
	memcpy(h, base, head_len);
	h[head_len] = '\0';
	char *free_at = h + head_len + 1;

#define REBASE(p) (h + ((p)-base))
	char *method = REBASE(rh->method);
	method[rh->method_len] = '\0';
	char *target = REBASE(rh->target);
	target[rh->target_len] = '\0';
	for (size_t i = 0; i < rh->num_headers; i++) {
		struct http_header *hd = &c->hdrs[i];
		char *name = REBASE(hd->name), *value = REBASE(hd->value);
		name[hd->name_len] = '\0';
		value[hd->value_len] = '\0';
		hd->name = name;
		hd->value = value;
	}
#undef REBASE

	memset(req, 0, sizeof(*req));
	req->method = method;
	req->target = target;
	req->headers = c->hdrs;
	req->num_headers = rh->num_headers;
	req->minor_version = rh->minor_version;
	req->keep_alive = rh->keep_alive;
	req->upgrade = rh->upgrade;
	req->expect_continue = rh->expect_continue;
	req->body_kind = rh->body_kind;
	req->content_length = rh->content_length;
	req->peer = c->peer;
	req->body = "";

	const char *path, *query;
	size_t plen, qlen;
	if (http_split_target(target, rh->target_len, &path, &plen, &query, &qlen) < 0)
		return -EINVAL;
	char *raw = free_at;
	memcpy(raw, path, plen);
	raw[plen] = '\0';
	char *q = raw + plen + 1;
	memcpy(q, query ? query : "", qlen);
	q[qlen] = '\0';
	char *dec = q + qlen + 1;
	long dlen = http_percent_decode(dec, plen + 1, path, plen, 0);
	if (dlen < 0)
		return -EINVAL;
	char *params = dec + dlen + 1;
	/* The prefix is plain ASCII, so where the raw path starts with it the
	 * decoded one does too. */
	size_t sp = s->strip_prefix ? strlen(s->strip_prefix) : 0;
	if (sp && !strncmp(raw, s->strip_prefix, sp) && (raw[sp] == '/' || !raw[sp]) &&
	    !strncmp(dec, s->strip_prefix, sp)) {
		raw += sp;
		dec += sp;
		if (!*raw) { /* "/proxy/44772" alone is "/" */
			raw[-1] = '/';
			dec[-1] = '/';
			raw--;
			dec--;
		}
	}
	req->raw_path = raw;
	req->query = q;
	req->path = dec;

	c->request_id[0] = '\0';
	if (s->cfg.request_ids) {
		const char *rid = http_req_header(req, "X-Request-ID");
		size_t n = rid ? strlen(rid) : 0;
		bool ok = n > 0 && n < sizeof(c->request_id);
		for (size_t i = 0; ok && i < n; i++)
			ok = rid[i] > 0x20 && rid[i] < 0x7f;
		if (ok)
			memcpy(c->request_id, rid, n + 1);
		else
			uuid_v4_str(c->request_id);
	}
	req->request_id = c->request_id;

	c->route = NULL;
	c->allow[0] = '\0';
	/* HEAD is served by the GET route (the response sends no body). */
	bool head = strcmp(method, "HEAD") == 0;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct route *r = &s->routes[i];
		if (strcmp(r->method, "*") != 0 && strcmp(r->method, method) != 0 &&
		    !(head && strcmp(r->method, "GET") == 0))
			continue;
		if (route_match(r->pattern, dec, req, params)) {
			c->route = r;
			break;
		}
		req->num_params = 0;
	}
	if (!c->route)
		allowed_methods(c, dec, params);
	return 0;
}

static void dispatch(struct http_conn *c)
{
	struct http_server *s = c->srv;
	c->state = CONN_HANDLER;
	conn_set_timer(c, TIMER_NONE);
	if (c->route) {
		c->route->h(c, &c->req, c->route->arg);
	} else if (c->allow[0]) {
		http_resp_header(c, "Allow", c->allow);
		http_resp_error(c, 405, "METHOD_NOT_ALLOWED", "method not allowed for this path");
	} else if (s->fallback)
		s->fallback(c, &c->req, s->fallback_arg);
	else
		http_resp_error(c, 404, "NOT_FOUND", "no route for this path");
}

static void send_continue(struct http_conn *c)
{
	if (c->req.expect_continue && !c->continue_sent && !c->body_done &&
	    c->req.minor_version >= 1) {
		c->continue_sent = true;
		buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c, false);
	}
}

/* Feeds buffered input to the body decoder; returns false if the conn is gone or failed. */
static bool pump_body(struct http_conn *c)
{
	bool streaming = c->route && c->route->opts.stream_body;
	size_t limit = c->route && c->route->opts.max_body ? c->route->opts.max_body
							   : c->srv->cfg.max_body;

	while (!c->body_done && c->in.len > 0 && !c->dead) {
		if (streaming && (!c->body_cb || c->body_paused))
			return true;
		const char *data;
		size_t dlen;
		long used = http_body_decode(&c->dec, buf_head(&c->in), c->in.len, &data, &dlen);
		if (used < 0) {
			reject(c, 400, "malformed chunked body");
			return false;
		}
		if (!streaming && c->dec.total > limit) {
			reject(c, 413, "request body too large");
			return false;
		}
		if (dlen) {
			if (streaming) {
				c->body_cb(c, data, dlen, false, c->body_arg);
				if (c->dead)
					return false;
			} else if (buf_append(&c->body, data, dlen) < 0) {
				reject(c, 413, "request body too large");
				return false;
			}
		}
		buf_consume(&c->in, (size_t)used);
		if (c->dec.done)
			c->body_done = true;
		if (used == 0 && !c->dec.done)
			break;
	}
	if (c->body_done && streaming && c->timer_kind == TIMER_BODY)
		conn_set_timer(c, TIMER_NONE);
	if (c->body_done && streaming && c->body_cb) {
		http_body_cb *cb = c->body_cb;
		c->body_cb = NULL; /* deliver `done` once */
		cb(c, NULL, 0, true, c->body_arg);
	}
	return !c->dead;
}

static void start_request(struct http_conn *c)
{
	struct http_request_head rh = {.headers = c->hdrs,
				       .num_headers = c->srv->cfg.limits.max_headers};
	/* A head can only complete with a new LF: without one, parsing again from
	 * the start would make a byte-at-a-time client cost O(n^2). */
	if (c->head_scanned && c->head_scanned < c->in.len &&
	    !memchr(buf_head(&c->in) + c->head_scanned, '\n', c->in.len - c->head_scanned) &&
	    c->in.len < c->srv->cfg.limits.max_head) {
		c->head_scanned = c->in.len;
		return;
	}
	int r = http_parse_request(buf_head(&c->in), c->in.len, &rh, &c->srv->cfg.limits);
	c->head_scanned = r == -2 ? c->in.len : 0;

	/* Nothing of the previous request may leak into an error answer. */
	memset(&c->req, 0, sizeof(c->req));
	c->request_id[0] = '\0';
	c->route = NULL;

	if (r == -2) {
		if (c->in.len >= c->srv->cfg.limits.max_head)
			reject(c, 431, "request head too large");
		return;
	}
	if (r < 0) {
		reject(c, rh.error_status ? rh.error_status : 400,
		       rh.error ? rh.error : "bad request");
		return;
	}
	if (setup_request(c, &rh, (size_t)r) < 0) {
		buf_consume(&c->in, (size_t)r);
		reject(c, 400, "malformed request target");
		return;
	}
	buf_consume(&c->in, (size_t)r);
	c->started_ms = ev_now(c->srv->loop);
	c->resp_started = c->resp_ended = c->resp_chunked = c->resp_until_close = false;
	c->continue_sent = c->body_paused = false;
	c->body_cb = NULL;
	c->on_close = c->on_drain = NULL;
	buf_reset(&c->body);
	buf_reset(&c->resp_hdrs);
	c->close_after = !c->req.keep_alive;
	http_body_init(&c->dec, rh.body_kind, rh.content_length);
	c->body_done = c->dec.done; /* no body, or Content-Length: 0 */

	if (c->srv->filter) {
		c->state = CONN_HANDLER;
		if (!c->srv->filter(c, &c->req, c->srv->filter_arg)) {
			/* The filter answered; an unread body cannot be skipped safely. */
			if (!c->body_done)
				c->close_after = true;
			return;
		}
	}
	bool streaming = c->route && c->route->opts.stream_body;
	size_t limit = c->route && c->route->opts.max_body ? c->route->opts.max_body
							   : c->srv->cfg.max_body;
	if (!streaming && rh.body_kind == HTTP_BODY_LENGTH && rh.content_length > limit) {
		reject(c, 413, "request body too large");
		return;
	}
	if (streaming || c->body_done) {
		dispatch(c);
		return;
	}
	c->state = CONN_BODY;
	c->body.max = limit;
	send_continue(c);
	conn_set_timer(c, TIMER_BODY);
}

/* Parses and serves as much buffered input as the current state allows. */
void conn_process(struct http_conn *c)
{
	for (int rounds = 0; rounds < 64 && !c->dead; rounds++) {
		c->kick = false;
		if (c->state == CONN_HEAD) {
			if (c->in.len == 0)
				return;
			/* Answers the client has not read yet: no next request until they
			 * drain (conn_flush kicks), so a pipelining client that never reads
			 * holds one answer's worth of output, not the 8 MiB cap. */
			if (c->out.len >= HTTP_OUT_LOW_WATER)
				return;
			size_t before = c->in.len;
			start_request(c);
			if (c->state == CONN_HEAD && c->in.len == before) {
				/* Started once per head, when its first bytes came (now), not
				 * per read: a slow drip cannot extend it. A head that came
				 * whole never needed it. */
				if (!c->dead && c->timer_kind != TIMER_HEAD)
					conn_set_timer(c, TIMER_HEAD);
				return; /* need more bytes */
			}
			continue;
		}
		if (c->state == CONN_BODY) {
			size_t before = c->in.len;
			if (!pump_body(c))
				return;
			if (c->body_done) {
				buf_cstr(&c->body);
				c->req.body = c->body.len ? buf_head(&c->body) : "";
				c->req.body_len = c->body.len;
				dispatch(c);
				continue;
			}
			if (c->in.len != before)
				conn_set_timer(c, TIMER_BODY);
			return;
		}
		if (c->state == CONN_HANDLER) {
			if (c->body_cb && c->route && c->route->opts.stream_body)
				pump_body(c);
			if (!c->kick)
				return;
			continue;
		}
		return;
	}
}

/* A response has ended: close, or go on with the next request. */
void conn_request_done(struct http_conn *c)
{
	struct http_server *s = c->srv;
	if (s->cfg.log_name && log_enabled(LOG_DEBUG)) {
		char st[8], ms[24];
		snprintf(st, sizeof(st), "%d", c->resp_status);
		snprintf(ms, sizeof(ms), "%llu",
			 (unsigned long long)(ev_clock_ms() - c->started_ms));
		log_msg(LOG_DEBUG, c->request_id, "request", "server", s->cfg.log_name, "method",
			c->req.method, "path", c->req.raw_path, "status", st, "ms", ms, NULL);
	}
	c->on_close = c->on_drain = NULL;
	c->body_cb = NULL;
	/* Idle keep-alive connections should not pin a large body's memory. */
	if (c->body.cap > 64 * 1024)
		buf_free(&c->body);
	if (c->close_after || !c->body_done) {
		c->state = CONN_CLOSING;
		if (c->out.len == 0) {
			transport_shutdown_write(c->t);
			conn_close(c);
			return;
		}
		conn_update_events(c);
		return;
	}
	c->state = CONN_HEAD;
	conn_set_timer(c, TIMER_IDLE);
	c->kick = true;	     /* pipelined input may be waiting */
	conn_flush_later(c); /* the loop serves it, not the handler's call */
}

/*
 * Connections are edge-triggered: a keep-alive request is read with one read
 * that ends short, and the loop does not poll the socket again next turn to
 * find it drained. So reading stops only at EAGAIN, a short read (the next
 * bytes, or the peer's FIN, bring a new edge), or with EPOLLIN turned off by
 * conn_update_events (turning it on again reports what is waiting); after its
 * share of the turn with bytes left, it asks the loop to report the socket
 * again. A FIN that had come before the event was reported (EPOLLRDHUP in
 * `events`) brings no new edge: then a short read proves nothing, and reading
 * goes on to the EOF.
 */
static void conn_read(struct http_conn *c, uint32_t events)
{
	bool peer_done = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	for (int i = 0; !c->dead && !c->eof; i++) {
		if (i == 16) {
			ev_mod(c->srv->loop, c->fd, c->armed | EPOLLET);
			break;
		}
		if (c->in.len >= c->in.max)
			break;
		size_t room = c->in.max - c->in.len;
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		if (buf_reserve(&c->in, room) < 0) {
			conn_close(c);
			return;
		}
		ssize_t n = transport_read(c->t, buf_tail(&c->in), room);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			c->eof = true;
			break;
		}
		buf_commit(&c->in, (size_t)n);
		/* A streamed body that is being read gets the body timeout too, re-armed
		 * on every read, so a client that stalls mid-upload is dropped. */
		if (c->state == CONN_HANDLER && !c->body_done && c->body_cb && !c->body_paused)
			conn_set_timer(c, TIMER_BODY);
		conn_process(c);
		if (c->dead)
			break; /* closed or detached (upgrade) by a handler */
		/* A short read drained the socket. TLS may hold decrypted bytes, so
		 * it goes on until EAGAIN. */
		if ((size_t)n < room && transport_short_read_drains(c->t) && !peer_done)
			break;
	}
	if (c->dead)
		return;
	if (!c->eof && c->in.len >= c->in.max && (events & (EPOLLRDHUP | EPOLLHUP))) {
		/* Input full and the peer hung up: nothing more will be parsed. */
		c->eof = true;
	}
	if (c->eof) {
		/* A client that closes mid-request or mid-response is gone: as in Go,
		 * the handler's on_close hook tells it to stop. Between requests,
		 * what is already queued is still delivered. */
		if (c->state == CONN_HEAD && c->out.len > 0)
			c->state = CONN_CLOSING;
		else if (c->state != CONN_CLOSING)
			conn_close(c);
	}
}

void conn_on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_conn *c = arg;
	(void)loop;
	(void)fd;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		conn_flush(c, true);
	if (!c->dead && (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
		conn_read(c, events);
	if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		conn_close(c);
	while (!c->dead && c->kick)
		conn_process(c);
	if (!c->dead)
		conn_update_events(c);
}

void http_conn_read_body(struct http_conn *c, http_body_cb *cb, void *arg)
{
	if (c->dead)
		return;
	c->body_cb = cb;
	c->body_arg = arg;
	c->body_paused = false;
	send_continue(c);
	if (c->dead)
		return;
	/* Buffered bytes (or the end) are delivered by the loop, not inside this call. */
	c->kick = true;
	if (!c->body_done && c->timer_kind == TIMER_NONE)
		conn_set_timer(c, TIMER_BODY);
	conn_flush_later(c);
	conn_update_events(c);
}

void http_conn_pause_body(struct http_conn *c, bool pause)
{
	if (c->dead)
		return;
	c->body_paused = pause;
	/* Waiting on our own back-pressure is not the client's delay. */
	if (pause && c->timer_kind == TIMER_BODY)
		conn_set_timer(c, TIMER_NONE);
	if (!pause) {
		c->kick = true;
		if (!c->body_done && c->timer_kind == TIMER_NONE)
			conn_set_timer(c, TIMER_BODY);
		conn_flush_later(c);
	}
	conn_update_events(c);
}

int http_conn_detach(struct http_conn *c, struct http_detached *d)
{
	if (c->dead)
		return -EPIPE;
	ev_del(c->srv->loop, c->fd);
	d->t = c->t;
	d->in = c->in;
	d->out = c->out;
	c->t = NULL;
	buf_init(&c->in, 0);
	buf_init(&c->out, 0);
	c->on_close = NULL;
	conn_close(c);
	return 0;
}
