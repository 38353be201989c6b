// SPDX-License-Identifier: Apache-2.0
#include "http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"
#include "tls.h"
#include "transport.h"

#define CLIENT_READ_CHUNK (16 * 1024)
#define CLIENT_MAX_OUT	  (8 * 1024 * 1024)

enum client_state { ST_CONNECTING, ST_HEAD, ST_BODY, ST_DONE };

struct http_client {
	struct ev_loop *loop;
	struct http_endpoint ep;
	struct http_client_cbs cbs;
	void *arg;
	struct transport *t;
	int fd;
	uint32_t armed;
	enum client_state state;
	struct ev_timer timer;
	struct ev_timer kick; /* resumes reading buffered input outside epoll */
	uint32_t timeout_ms;
	uint64_t deadline; /* ev_clock_ms() by which the exchange ends, or 0 */
	size_t max_head;
	bool is_head; /* the request was HEAD */
	struct http_keepalive *keep;
	bool reused;	/* the connection came from keep */
	bool got_bytes; /* some of the answer was read */
	bool keep_ok;	/* the answer leaves the connection reusable */
	bool stream_body, body_ended, paused;
	bool dead;	/* finished: retired, freed at the end of the turn (ev.h) */
	bool cancelled; /* no on_done for this one */
	int result;	/* for on_done, delivered in the retire step */
	struct ev_retiree retiree;
	struct buf in, out;
	const char *body; /* a whole request body, borrowed from the caller: sent after out */
	size_t body_left;
	struct http_body dec;
	struct err err;
};

static void client_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);
static void client_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg);
static void client_kick(struct ev_loop *loop, struct ev_timer *t, void *arg);

/* (Re)starts the timer after progress: timeout_ms of quiet, but never past the deadline. */
static void arm_timer(struct http_client *c)
{
	uint64_t ms = c->timeout_ms;
	if (c->deadline) {
		uint64_t now = ev_clock_ms();
		uint64_t left = c->deadline > now ? c->deadline - now : 0;
		if (left < ms)
			ms = left;
	}
	ev_timer_start(c->loop, &c->timer, ms);
}

/* The retire step: on_done (unless cancelled or upgraded), then the free. */
static void client_retired(void *obj)
{
	struct http_client *c = obj;
	/* A clean end of a keep-alive answer with nothing extra read: kept. */
	if (c->keep && !c->keep->t && c->t && c->keep_ok && !c->cancelled && c->result == 0 &&
	    !c->in.len && !transport_pending(c->t)) {
		c->keep->t = c->t;
		c->t = NULL;
		c->fd = -1;
	}
	if (c->cbs.on_done && !c->cancelled)
		c->cbs.on_done(c, c->result, c->arg);
	if (c->t)
		transport_close(c->t);
	else if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* Ends the exchange with result r: no more I/O; on_done follows at the end of the turn. */
static void client_finish(struct http_client *c, int r)
{
	if (c->dead)
		return;
	c->dead = true;
	c->state = ST_DONE;
	c->result = r;
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_stop(c->loop, &c->kick);
	if (c->fd >= 0)
		ev_del(c->loop, c->fd);
	ev_retire(c->loop, &c->retiree, client_retired, c);
}

static int fail(struct http_client *c, int errnum, const char *what)
{
	err_set(&c->err, errnum, "%s", what);
	client_finish(c, -errnum);
	return -errnum;
}

int http_endpoint_parse(struct http_endpoint *ep, const char *url, char *prefix, size_t prefix_cap,
			struct err *e)
{
	memset(ep, 0, sizeof(*ep));
	if (prefix_cap)
		prefix[0] = '\0';
	const char *rest;
	if (strncmp(url, "unix://", 7) == 0) {
		size_t n = strlen(url + 7);
		if (n == 0 || n >= sizeof(ep->path))
			return err_set(e, EINVAL, "bad unix socket URL: %s", url);
		ep->kind = HTTP_EP_UNIX;
		memcpy(ep->path, url + 7, n + 1);
		snprintf(ep->host, sizeof(ep->host), "localhost");
		return 0;
	}
	if (strncmp(url, "https://", 8) == 0) {
		ep->kind = HTTP_EP_TLS;
		ep->port = 443;
		rest = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		ep->kind = HTTP_EP_TCP;
		ep->port = 80;
		rest = url + 7;
	} else if (strncmp(url, "tcp://", 6) == 0) {
		ep->kind = HTTP_EP_TCP;
		ep->port = 0;
		rest = url + 6;
	} else {
		return err_set(e, EINVAL, "unsupported URL scheme: %s", url);
	}
	size_t alen = strcspn(rest, "/?#");
	const char *host = rest, *port = NULL;
	size_t hlen;
	if (*rest == '[') {
		const char *close = memchr(rest, ']', alen);
		if (!close)
			return err_set(e, EINVAL, "bad IPv6 host in URL: %s", url);
		host = rest + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < rest + alen) {
			if (close[1] != ':')
				return err_set(e, EINVAL, "bad URL: %s", url);
			port = close + 2;
		}
	} else {
		const char *colon = memchr(rest, ':', alen);
		hlen = colon ? (size_t)(colon - rest) : alen;
		if (colon)
			port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(ep->host))
		return err_set(e, EINVAL, "bad host in URL: %s", url);
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (end == port || end != rest + alen || p == 0 || p > 65535)
			return err_set(e, EINVAL, "bad port in URL: %s", url);
		ep->port = (uint16_t)p;
	}
	if (ep->port == 0)
		return err_set(e, EINVAL, "URL needs a port: %s", url);
	memcpy(ep->server_name, ep->host, hlen + 1);
	const char *path = rest + alen;
	size_t plen = strcspn(path, "?#");
	while (plen && path[plen - 1] == '/')
		plen--;
	if (prefix_cap) {
		if (plen >= prefix_cap)
			return err_set(e, EINVAL, "URL path too long: %s", url);
		memcpy(prefix, path, plen);
		prefix[plen] = '\0';
	}
	return 0;
}

static void arm(struct http_client *c)
{
	if (c->dead)
		return;
	uint32_t ev;
	if (c->state == ST_CONNECTING)
		ev = EPOLLOUT;
	else
		ev = transport_want(c->t, !c->paused, c->out.len > 0 || c->body_left > 0);
	if (ev != c->armed) {
		ev_mod(c->loop, c->fd, ev);
		c->armed = ev;
	}
}

static int build_request(struct http_client *c, const struct http_client_request *rq)
{
	struct buf *o = &c->out;
	int r = buf_printf(o, "%s %s HTTP/1.1\r\n", rq->method, rq->target);
	if (r)
		return r;
	if (rq->host)
		r = buf_printf(o, "Host: %s\r\n", rq->host);
	else if (c->ep.kind == HTTP_EP_UNIX)
		r = buf_puts(o, "Host: localhost\r\n");
	else if (strchr(c->ep.host, ':'))
		r = buf_printf(o, "Host: [%s]:%u\r\n", c->ep.host, c->ep.port);
	else
		r = buf_printf(o, "Host: %s:%u\r\n", c->ep.host, c->ep.port);
	for (const char *const *h = rq->headers; !r && h && *h; h++) {
		if (strpbrk(*h, "\r\n"))
			return -EINVAL;
		r = buf_printf(o, "%s\r\n", *h);
	}
	if (!r && rq->stream_body)
		r = buf_puts(o, "Transfer-Encoding: chunked\r\n");
	else if (!r && (rq->has_body || rq->body_len))
		r = buf_printf(o, "Content-Length: %zu\r\n", rq->body_len);
	if (!r)
		r = buf_puts(o, rq->keep ? "\r\n" : "Connection: close\r\n\r\n");
	if (!r && rq->body_len && !rq->stream_body) {
		/* Borrowed, not copied: an archive upload must not cost its size again. */
		c->body = rq->body;
		c->body_left = rq->body_len;
	}
	return r;
}

/* An idle kept connection the server has not closed (nor written to: an idle
 * connection has nothing to say). Checked before reuse, so a request rarely
 * goes out on a connection already gone. */
static bool idle_alive(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct http_client *http_client_start(struct ev_loop *loop, const struct http_endpoint *ep,
				      const struct http_client_request *rq,
				      const struct http_client_cbs *cbs, void *arg, struct err *e)
{
	struct http_client *c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(e, ENOMEM, "http client");
		return NULL;
	}
	c->loop = loop;
	c->ep = *ep;
	c->cbs = *cbs;
	c->arg = arg;
	c->fd = -1;
	c->timeout_ms = rq->timeout_ms ? rq->timeout_ms : 60000;
	if (rq->deadline_ms)
		c->deadline = ev_clock_ms() + rq->deadline_ms;
	c->max_head = rq->max_head ? rq->max_head : HTTP_DEFAULT_MAX_HEAD;
	c->is_head = strcmp(rq->method, "HEAD") == 0;
	c->stream_body = rq->stream_body;
	c->body_ended = !rq->stream_body;
	buf_init(&c->in, c->max_head + CLIENT_READ_CHUNK);
	buf_init(&c->out, CLIENT_MAX_OUT);
	ev_timer_init(&c->timer, client_timeout, c);
	ev_timer_init(&c->kick, client_kick, c);
	if (build_request(c, rq) < 0) {
		err_set(e, EINVAL, "cannot build the request (bad header or too large)");
		goto fail;
	}
	c->keep = rq->keep;
	if (c->keep && c->keep->t && !idle_alive(c->keep->t->fd))
		http_keepalive_close(c->keep); /* closed while idle, or it spoke: not reused */
	if (c->keep && c->keep->t) {
		c->t = c->keep->t;
		c->keep->t = NULL;
		c->fd = c->t->fd;
		c->reused = true;
		c->state = ST_HEAD;
		c->armed = transport_want(c->t, 1, 1);
		int r = ev_add(loop, c->fd, c->armed, client_io, c);
		if (r < 0) {
			err_set(e, -r, "ev_add");
			goto fail;
		}
		arm_timer(c);
		return c;
	}
	int fd = ep->kind == HTTP_EP_UNIX ? sock_connect_unix(ep->path, e)
					  : sock_connect_tcp(ep->host, ep->port, e);
	if (fd < 0)
		goto fail;
	c->fd = fd;
	if (c->keep)
		c->keep->opened++;
	c->state = ST_CONNECTING;
	c->armed = EPOLLOUT;
	int r = ev_add(loop, fd, EPOLLOUT, client_io, c);
	if (r < 0) {
		err_set(e, -r, "ev_add");
		goto fail;
	}
	arm_timer(c);
	return c;
fail:
	if (c->t)
		transport_close(c->t);
	else if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	return NULL;
}

void http_client_cancel(struct http_client *c)
{
	if (!c)
		return;
	c->cancelled = true;
	c->keep = NULL; /* the caller may free its holder now: not touched again */
	client_finish(c, -ECANCELED);
}

const char *http_client_error(const struct http_client *c)
{
	return c->err.msg;
}

bool http_client_retryable(const struct http_client *c)
{
	/* Only a close: after a timeout the server may have the request, and a
	 * POST sent twice creates twice (or fails on the first one's name). */
	return c->reused && !c->got_bytes && (c->result == -ECONNRESET || c->result == -EPIPE);
}

void http_keepalive_close(struct http_keepalive *k)
{
	transport_close(k->t);
	k->t = NULL;
}

size_t http_client_out_pending(const struct http_client *c)
{
	return c->out.len + c->body_left;
}

static void flush_out(struct http_client *c)
{
	while (c->out.len) {
		ssize_t n = transport_write(c->t, buf_head(&c->out), c->out.len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			fail(c, n == 0 ? EPIPE : (int)-n, "write to server failed");
			return;
		}
		buf_consume(&c->out, (size_t)n);
		arm_timer(c);
	}
	while (!c->out.len && c->body_left) {
		ssize_t n = transport_write(c->t, c->body, c->body_left);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			fail(c, n == 0 ? EPIPE : (int)-n, "write to server failed");
			return;
		}
		c->body += n;
		c->body_left -= (size_t)n;
		arm_timer(c);
	}
	int r = transport_flush(c->t);
	if (r < 0 && r != -EAGAIN)
		fail(c, -r, "write to server failed");
}

int http_client_write(struct http_client *c, const void *data, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (!c->stream_body || c->body_ended)
		return -EINVAL;
	if (len == 0)
		return 0;
	char hdr[20];
	size_t n = http_chunk_header(hdr, len);
	if (c->out.len + n + len + 2 > c->out.max)
		return -ENOBUFS;
	buf_append(&c->out, hdr, n);
	buf_append(&c->out, data, len);
	buf_append(&c->out, "\r\n", 2);
	if (c->state != ST_CONNECTING) {
		flush_out(c);
		if (c->dead)
			return -EPIPE;
		arm(c);
	}
	return 0;
}

int http_client_end_body(struct http_client *c)
{
	if (c->dead)
		return -EPIPE;
	if (!c->stream_body || c->body_ended)
		return -EINVAL;
	c->body_ended = true;
	buf_puts(&c->out, HTTP_CHUNK_END);
	if (c->state != ST_CONNECTING) {
		flush_out(c);
		if (c->dead)
			return -EPIPE;
		arm(c);
	}
	return 0;
}

void http_client_pause(struct http_client *c, bool pause)
{
	if (c->dead)
		return;
	c->paused = pause;
	arm(c);
	/* Input may already be buffered: deliver it from the loop, not from here. */
	if (!pause && c->state != ST_CONNECTING)
		ev_timer_start(c->loop, &c->kick, 0);
}

/* Returns false if the client has been finished (and freed). */
static bool handle_head(struct http_client *c)
{
	struct http_header hdrs[100];
	struct http_response_head h = {.headers = hdrs, .num_headers = 100};
	struct http_limits lim = http_default_limits;
	lim.max_head = c->max_head;
	int r = http_parse_response(buf_head(&c->in), c->in.len, &h, c->is_head, &lim);
	if (r == -2) {
		if (c->in.len >= c->max_head) {
			fail(c, EPROTO, "response head too large");
			return false;
		}
		return true;
	}
	if (r < 0) {
		err_set(&c->err, EPROTO, "malformed response: %s", h.error ? h.error : "?");
		client_finish(c, -EPROTO);
		return false;
	}
	if (h.status >= 100 && h.status < 200 && h.status != 101) {
		buf_consume(&c->in,
			    (size_t)r); /* 100 Continue and friends: wait for the real one */
		return true;
	}
	if (c->cbs.on_head)
		c->cbs.on_head(c, &h, c->arg);
	if (c->dead)
		return false;
	buf_consume(&c->in, (size_t)r);
	if (h.status == 101 && c->cbs.on_upgrade) {
		struct http_detached d = {.t = c->t, .in = c->in, .out = c->out};
		ev_del(c->loop, c->fd);
		c->t = NULL;
		c->fd = -1;
		buf_init(&c->in, 0);
		buf_init(&c->out, 0);
		c->cancelled = true; /* the caller has the connection: no on_done */
		client_finish(c, 0);
		c->cbs.on_upgrade(c, &d, c->arg);
		return false;
	}
	c->keep_ok = c->keep && h.keep_alive && h.body_kind != HTTP_BODY_UNTIL_CLOSE;
	http_body_init(&c->dec, h.body_kind, h.content_length);
	c->state = ST_BODY;
	/* "Content-Length: 0" is complete too: a kept connection sends nothing more. */
	if (h.body_kind == HTTP_BODY_NONE || c->dec.done) {
		client_finish(c, 0);
		return false;
	}
	return true;
}

static bool handle_body(struct http_client *c)
{
	while (c->in.len && !c->paused) {
		const char *data;
		size_t dlen;
		long used = http_body_decode(&c->dec, buf_head(&c->in), c->in.len, &data, &dlen);
		if (used < 0) {
			fail(c, EPROTO, "malformed response body");
			return false;
		}
		if (dlen && c->cbs.on_data) {
			c->cbs.on_data(c, data, dlen, c->arg);
			if (c->dead)
				return false;
		}
		buf_consume(&c->in, (size_t)used);
		if (c->dec.done) {
			client_finish(c, 0);
			return false;
		}
		if (used == 0)
			break;
	}
	return true;
}

static bool process_input(struct http_client *c)
{
	/* Interim (1xx) heads are dropped one by one; the final head may follow
	 * in the same bytes, so parse on while the buffer shrinks. */
	while (c->state == ST_HEAD && c->in.len) {
		size_t before = c->in.len;
		if (!handle_head(c))
			return false;
		if (c->in.len == before)
			break; /* need more bytes */
	}
	if (c->state == ST_BODY && !handle_body(c))
		return false;
	return true;
}

static void on_connected(struct http_client *c)
{
	int r = sock_connect_result(c->fd);
	if (r < 0) {
		err_set(&c->err, -r, "connect: %s", strerror(-r));
		client_finish(c, r);
		return;
	}
	struct err e = {0};
	int fd = c->fd;
	c->t = c->ep.kind == HTTP_EP_TLS
		       ? tls_client_new(fd, c->ep.tls,
					c->ep.server_name[0] ? c->ep.server_name : c->ep.host, &e)
		       : transport_plain_new(fd);
	if (!c->t) {
		/* The transport constructors close the fd on failure. */
		ev_del(c->loop, fd);
		c->fd = -1;
		err_set(&c->err, e.code ? e.code : ENOMEM, "%s", e.msg[0] ? e.msg : "transport");
		client_finish(c, -(e.code ? e.code : ENOMEM));
		return;
	}
	c->state = ST_HEAD;
	flush_out(c);
}

static void client_read(struct http_client *c, uint32_t events);

static void client_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_client *c = arg;
	(void)loop;
	(void)fd;
	client_read(c, events);
	arm(c);
}

static void client_read(struct http_client *c, uint32_t events)
{
	if (c->state == ST_CONNECTING) {
		on_connected(c);
		if (c->dead)
			return;
	} else if (events & EPOLLOUT) {
		flush_out(c);
		if (c->dead)
			return;
	}
	/* TLS may hold decrypted bytes the socket no longer signals. */
	for (int i = 0; i < 16 && !c->paused && !c->dead; i++) {
		if (buf_reserve(&c->in, CLIENT_READ_CHUNK) < 0) {
			fail(c, EPROTO, "response head too large");
			return;
		}
		ssize_t n = transport_read(c->t, buf_tail(&c->in), CLIENT_READ_CHUNK);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			err_set(&c->err, (int)-n, "read from server: %s", strerror((int)-n));
			client_finish(c, (int)n);
			return;
		}
		if (n == 0) {
			if (c->state == ST_BODY && !c->in.len && http_body_eof(&c->dec) == 0) {
				client_finish(c, 0);
			} else if (c->state == ST_BODY && c->dec.kind == HTTP_BODY_UNTIL_CLOSE) {
				if (process_input(c))
					client_finish(c, 0);
			} else {
				fail(c, ECONNRESET,
				     c->state == ST_HEAD ? "connection closed before the response"
							 : "connection closed mid-body");
			}
			return;
		}
		buf_commit(&c->in, (size_t)n);
		c->got_bytes = true;
		arm_timer(c);
		if (!process_input(c))
			return;
	}
	/* Decrypted bytes left inside TLS wake no epoll event: come back for them. */
	if (!c->dead && !c->paused && transport_pending(c->t))
		ev_timer_start(c->loop, &c->kick, 0);
}

static void client_kick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct http_client *c = arg;
	(void)loop;
	(void)t;
	if (c->paused || c->state == ST_CONNECTING || c->dead)
		return;
	if (process_input(c))
		client_read(c, EPOLLIN);
	arm(c);
}

static void client_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct http_client *c = arg;
	(void)loop;
	(void)t;
	const char *why = "server timed out";
	if (c->state == ST_CONNECTING)
		why = "connect timed out";
	else if (c->deadline && ev_clock_ms() >= c->deadline)
		why = "server too slow (deadline)";
	fail(c, ETIMEDOUT, why);
}
