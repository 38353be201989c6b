// SPDX-License-Identifier: Apache-2.0
/*
 * /proxy/{port}/{rest}: a reverse proxy to 127.0.0.1:{port} for any method.
 * Bodies stream both ways with back-pressure (never buffered whole); responses
 * are written to the client as they arrive (SSE is not delayed); Upgrade
 * requests (WebSocket and others) are spliced byte for byte after the
 * upstream's 101. Idle upstream connections are kept per port for reuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "execd.h"
#include "log.h"
#include "proxy_pool.h"
#include "sock.h"
#include "splice.h"

#define PROXY_BUF_HIGH (256 * 1024)	/* pause the other side above this */
#define PROXY_HEAD_MAX (64 * 1024)
#define PROXY_UPGRADE_IDLE_MS 0		/* spliced connections live as long as both ends */

enum px_state { PX_CONNECTING, PX_HEAD, PX_BODY, PX_DONE };

struct px {
	struct execd *x;
	struct http_conn *c;		/* NULL once the client is gone */
	struct upstream *u;
	enum px_state state;
	bool reused;			/* u came from the pool: may be stale */
	bool head_method, upgrade, req_chunked;
	bool req_done;			/* the request body has been read entirely */
	bool client_paused;
	bool sent_any_body;
	bool resp_started;
	struct buf out;			/* to the upstream */
	struct buf head;		/* the request head, kept for one retry */
	struct http_body dec;
	uint32_t armed;			/* the mask asked for at the start */
	int busy;			/* > 0 inside our entry points: free later */
	bool dead;			/* finished: no more work, freed by the outermost entry */
};

static void px_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void bad_gateway(struct http_conn *c)
{
	http_resp_header(c, "X-Content-Type-Options", "nosniff");
	http_resp_send(c, 502, "text/plain; charset=utf-8", "Bad Gateway\n", 12);
}

/* Ends the exchange: releases the upstream and the client hooks at once; the
 * struct itself goes when the outermost entry point leaves (px_leave). */
static void px_free(struct px *p, bool keep_upstream)
{
	if (p->dead)
		return;
	p->dead = true;
	if (p->u) {
		if (keep_upstream)
			proxy_pool_put(p->x->proxy, p->u);
		else
			proxy_pool_discard(p->u);
	}
	if (p->c) {
		http_conn_on_close(p->c, NULL, NULL);
		http_conn_on_drain(p->c, NULL, NULL);
	}
	p->u = NULL;
	p->c = NULL;
	buf_free(&p->out);
	buf_free(&p->head);
	if (!p->busy)
		free(p);
}

static void px_enter(struct px *p)
{
	p->busy++;
}

/* Returns false once p is gone. */
static bool px_leave(struct px *p)
{
	if (--p->busy == 0 && p->dead) {
		free(p);
		return false;
	}
	return !p->dead;
}

/* Fails the exchange: 502 if nothing was answered yet, else cut the connection. */
static void px_fail(struct px *p, const char *why)
{
	log_msg(LOG_DEBUG, NULL, "proxy upstream failed", "reason", why, NULL);
	struct http_conn *c = p->c;
	p->c = NULL;
	if (c) {
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		if (p->resp_started)
			http_resp_abort(c);
		else
			bad_gateway(c);
	}
	px_free(p, false);
}

static void px_arm(struct px *p)
{
	if (!p->u)
		return;
	uint32_t ev;
	if (p->state == PX_CONNECTING)
		ev = EPOLLOUT;
	else {
		bool rd = !(p->state == PX_BODY && p->c && http_conn_out_pending(p->c) > PROXY_BUF_HIGH);
		ev = (rd ? EPOLLIN : 0) | (p->out.len ? EPOLLOUT : 0);
	}
	proxy_pool_arm(p->u, ev);
}

/* Whether a Connection value names headers beyond the usual options (which
 * are hop-by-hop anyway): only then must every header be checked against it. */
static bool names_extra_headers(const char *v, size_t n)
{
	if (!v || !n)
		return false;
	static const char *const usual[] = { "keep-alive", "close", "upgrade" };
	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		size_t a = start, b = i;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		bool known = a == b;
		for (size_t k = 0; !known && k < sizeof(usual) / sizeof(usual[0]); k++)
			known = http_span_ieq(v + a, b - a, usual[k]);
		if (!known)
			return true;
		start = i + 1;
	}
	return false;
}

/* Hop-by-hop headers (RFC 9110 7.6.1) and, if asked, those the Connection header names. */
static bool is_hop_by_hop(const char *name, size_t n, const char *connection, size_t clen)
{
	static const struct {
		const char *name;
		size_t len;
	} hop[] = { { "Connection", 10 }, { "Keep-Alive", 10 }, { "Proxy-Connection", 16 },
		    { "Proxy-Authenticate", 18 }, { "Proxy-Authorization", 19 }, { "TE", 2 },
		    { "Trailer", 7 }, { "Transfer-Encoding", 17 }, { "Upgrade", 7 } };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (hop[i].len == n && http_span_ieq(name, n, hop[i].name))
			return true;
	if (!connection || !clen)
		return false;
	char tok[64];
	if (n >= sizeof(tok))
		return false;
	memcpy(tok, name, n);
	tok[n] = '\0';
	return http_list_has_token(connection, clen, tok);
}

/* The request head for the upstream. */
static int build_head(struct px *p, struct http_req *req, const char *rest)
{
	struct buf *b = &p->head;
	const char *connection = http_req_header(req, "Connection");
	size_t clen = connection ? strlen(connection) : 0;
	if (!names_extra_headers(connection, clen))
		connection = NULL;
	const char *upgrade = http_req_header(req, "Upgrade");
	int r = buf_puts(b, req->method);
	r = r ? r : buf_append(b, " /", 2);
	r = r ? r : buf_puts(b, rest);
	if (!r && req->query[0]) {
		r = buf_append(b, "?", 1);
		r = r ? r : buf_puts(b, req->query);
	}
	r = r ? r : buf_append(b, " HTTP/1.1\r\n", 11);
	const struct http_header *xff = NULL;
	for (size_t i = 0; !r && i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (is_hop_by_hop(h->name, h->name_len, connection, clen) ||
		    (h->name_len == 16 && http_span_ieq(h->name, 16, "X-Forwarded-Host")) ||
		    (h->name_len == 17 && http_span_ieq(h->name, 17, "X-Forwarded-Proto")) ||
		    (h->name_len == 6 && http_span_ieq(h->name, 6, "Expect")) ||
		    (h->name_len == 14 && http_span_ieq(h->name, 14, "Content-Length")))
			continue;
		if (h->name_len == 15 && http_span_ieq(h->name, 15, "X-Forwarded-For")) {
			xff = h;
			continue;
		}
		r = buf_append_header(b, h->name, h->name_len, h->value, h->value_len);
	}
	/* The client's address, without the port, appended as proxies do. */
	const char *peer = req->peer;
	size_t plen = strlen(peer);
	const char *colon = strrchr(peer, ':');
	if (colon && strcmp(peer, "unix") != 0)
		plen = (size_t)(colon - peer);
	if (plen >= 2 && peer[0] == '[') {
		peer++;
		plen -= 2;
	}
	r = r ? r : buf_append(b, "X-Forwarded-For: ", 17);
	if (!r && xff) {
		r = buf_append(b, xff->value, xff->value_len);
		r = r ? r : buf_append(b, ", ", 2);
	}
	r = r ? r : buf_append(b, peer, plen);
	r = r ? r : buf_puts(b, "\r\nX-Forwarded-Proto: http\r\n");
	if (!r && p->upgrade) {
		r = buf_puts(b, "Connection: Upgrade\r\n");
		r = r ? r : buf_append_header(b, "Upgrade", 7, upgrade, strlen(upgrade));
	}
	if (!r && req->body_kind == HTTP_BODY_LENGTH) {
		r = buf_append(b, "Content-Length: ", 16);
		r = r ? r : buf_append_u64(b, req->content_length);
		r = r ? r : buf_append(b, "\r\n", 2);
	} else if (!r && req->body_kind == HTTP_BODY_CHUNKED) {
		r = buf_puts(b, "Transfer-Encoding: chunked\r\n");
	}
	return r ? r : buf_append(b, "\r\n", 2);
}

static void flush_upstream(struct px *p)
{
	while (p->out.len) {
		ssize_t n = transport_write(p->u->t, buf_head(&p->out), p->out.len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			px_fail(p, "write to upstream failed");
			return;
		}
		buf_consume(&p->out, (size_t)n);
	}
	if (p->client_paused && p->out.len < PROXY_BUF_HIGH / 2 && p->c) {
		p->client_paused = false;
		http_conn_pause_body(p->c, false);
	}
}

static void on_req_body_step(struct px *p, struct http_conn *c, const char *data, size_t len,
			     bool done);

static void on_req_body(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct px *p = arg;
	px_enter(p);
	on_req_body_step(p, c, data, len, done);
	px_leave(p);
}

static void on_req_body_step(struct px *p, struct http_conn *c, const char *data, size_t len,
			     bool done)
{
	if (len) {
		p->sent_any_body = true;
		if (p->req_chunked) {
			char hdr[20];
			buf_append(&p->out, hdr, http_chunk_header(hdr, len));
			buf_append(&p->out, data, len);
			buf_append(&p->out, "\r\n", 2);
		} else {
			buf_append(&p->out, data, len);
		}
	}
	if (done) {
		p->req_done = true;
		if (p->req_chunked)
			buf_puts(&p->out, HTTP_CHUNK_END);
	}
	if (p->state != PX_CONNECTING && p->u) {
		flush_upstream(p);
		if (p->dead)
			return;
	}
	if (!done && p->out.len > PROXY_BUF_HIGH && !p->client_paused) {
		p->client_paused = true;
		http_conn_pause_body(c, true);
	}
	px_arm(p);
}

static void on_client_gone(struct http_conn *c, void *arg)
{
	struct px *p = arg;
	(void)c;
	p->c = NULL;
	px_free(p, false);
}

static void on_client_drain(struct http_conn *c, void *arg)
{
	struct px *p = arg;
	(void)c;
	if (!p->dead)
		px_arm(p); /* reading the upstream may resume */
}

static void on_splice_done(int result, uint64_t ab, uint64_t ba, void *arg)
{
	(void)result;
	(void)ab;
	(void)ba;
	(void)arg;
}

/* 101: hand both connections to the splicer. */
static void start_splice(struct px *p, const char *head, size_t head_len)
{
	struct http_conn *c = p->c;
	struct http_detached client, up;
	struct err e = { 0 };
	p->c = NULL;
	http_conn_on_close(c, NULL, NULL);
	http_conn_on_drain(c, NULL, NULL);
	if (http_conn_detach(c, &client) < 0) {
		px_free(p, false);
		return;
	}
	/* The upstream's 101 head goes to the client first. */
	buf_append(&client.out, head, head_len);
	ev_del(p->x->loop, p->u->fd);
	p->u->in_loop = false;
	up.t = p->u->t;
	up.in = p->u->in;
	buf_init(&up.out, 0);
	buf_append(&up.out, buf_head(&p->out), p->out.len);
	p->u->t = NULL;
	buf_init(&p->u->in, 0);
	proxy_pool_discard(p->u);
	p->u = NULL;
	splice_start(p->x->loop, &client, &up, PROXY_UPGRADE_IDLE_MS, on_splice_done, NULL, &e);
	px_free(p, false);
}

/* Returns false if p is gone. */
static bool handle_head(struct px *p)
{
	struct upstream *u = p->u;
	struct http_header hdrs[100];
	struct http_response_head h = { .headers = hdrs, .num_headers = 100 };
	int r = http_parse_response(buf_head(&u->in), u->in.len, &h, p->head_method, NULL);
	if (r == -2) {
		if (u->in.len > PROXY_HEAD_MAX) {
			px_fail(p, "upstream head too large");
			return false;
		}
		return true;
	}
	if (r < 0) {
		px_fail(p, "malformed upstream response");
		return false;
	}
	if (h.status >= 100 && h.status < 200 && h.status != 101) {
		buf_consume(&u->in, (size_t)r);
		return true;
	}
	if (h.status == 101) {
		if (!p->upgrade) {
			px_fail(p, "unexpected 101");
			return false;
		}
		char *head = malloc((size_t)r);
		if (!head) {
			px_fail(p, "out of memory");
			return false;
		}
		memcpy(head, buf_head(&u->in), (size_t)r);
		buf_consume(&u->in, (size_t)r);
		start_splice(p, head, (size_t)r);
		free(head);
		return false;
	}
	const struct http_header *ch = http_header_find(hdrs, h.num_headers, "Connection");
	if (ch && !names_extra_headers(ch->value, ch->value_len))
		ch = NULL;
	char ctype[512] = "";
	for (size_t i = 0; i < h.num_headers; i++) {
		const struct http_header *hd = &hdrs[i];
		if (is_hop_by_hop(hd->name, hd->name_len, ch ? ch->value : NULL, ch ? ch->value_len : 0) ||
		    (hd->name_len == 14 && http_span_ieq(hd->name, 14, "Content-Length")))
			continue;
		if (hd->name_len == 12 && http_span_ieq(hd->name, 12, "Content-Type")) {
			size_t n = hd->value_len < sizeof(ctype) - 1 ? hd->value_len : sizeof(ctype) - 1;
			memcpy(ctype, hd->value, n);
			ctype[n] = '\0';
			continue;
		}
		http_resp_header_n(p->c, hd->name, hd->name_len, hd->value, hd->value_len);
	}
	u->reusable = h.keep_alive;
	buf_consume(&u->in, (size_t)r);
	p->resp_started = true;
	http_body_init(&p->dec, h.body_kind, h.content_length);
	uint64_t cl = h.body_kind == HTTP_BODY_LENGTH ? h.content_length : 0;
	if (p->head_method) {
		/* HEAD: no body, but the length the upstream announced is passed on. */
		const struct http_header *lh = http_header_find(hdrs, h.num_headers, "Content-Length");
		cl = 0;
		for (size_t i = 0; lh && i < lh->value_len && lh->value[i] >= '0' && lh->value[i] <= '9'; i++)
			cl = cl * 10 + (uint64_t)(lh->value[i] - '0');
	}
	if (h.body_kind == HTTP_BODY_LENGTH || h.body_kind == HTTP_BODY_NONE)
		http_resp_begin_length(p->c, h.status, ctype[0] ? ctype : NULL, cl);
	else
		http_resp_begin_stream(p->c, h.status, ctype[0] ? ctype : NULL);
	p->state = PX_BODY;
	return p->c != NULL;
}

/* Returns false if p is gone. */
static bool handle_body(struct px *p)
{
	struct upstream *u = p->u;
	while (u->in.len && !p->dec.done) {
		const char *data;
		size_t dlen;
		long used = http_body_decode(&p->dec, buf_head(&u->in), u->in.len, &data, &dlen);
		if (used < 0) {
			px_fail(p, "malformed upstream body");
			return false;
		}
		if (dlen && http_resp_write(p->c, data, dlen) < 0) {
			px_fail(p, "client write failed");
			return false;
		}
		buf_consume(&u->in, (size_t)used);
		if (used == 0)
			break;
	}
	if (p->dec.done || p->dec.kind == HTTP_BODY_NONE) {
		struct http_conn *c = p->c;
		p->c = NULL;
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		bool keep = u->reusable && p->req_done && !p->out.len && u->in.len == 0 &&
			    p->dec.kind != HTTP_BODY_UNTIL_CLOSE;
		px_free(p, keep);
		http_resp_end(c);
		return false;
	}
	return true;
}

static void on_connected(struct px *p)
{
	int r = sock_connect_result(p->u->fd);
	if (r < 0) {
		px_fail(p, "connect failed");
		return;
	}
	p->state = PX_HEAD;
	flush_upstream(p);
}

static void retry_fresh(struct px *p)
{
	struct err e = { 0 };
	uint16_t port = p->u->port;
	proxy_pool_discard(p->u);
	p->u = proxy_pool_dial(p->x->proxy, port, &e);
	if (!p->u) {
		px_fail(p, "reconnect failed");
		return;
	}
	p->reused = false;
	buf_reset(&p->out);
	buf_append(&p->out, buf_head(&p->head), p->head.len);
	if (p->req_chunked && p->req_done)
		buf_puts(&p->out, HTTP_CHUNK_END); /* an empty chunked body ends again */
	p->state = PX_CONNECTING;
	if (proxy_pool_watch(p->x->proxy, p->u, EPOLLOUT, px_io, p) < 0)
		px_fail(p, "ev_add");
}

static void px_io_step(struct px *p, int fd, uint32_t events);

static void px_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct px *p = arg;
	(void)loop;
	px_enter(p);
	px_io_step(p, fd, events);
	px_leave(p);
}

static void px_io_step(struct px *p, int fd, uint32_t events)
{
	(void)fd;
	if (p->state == PX_CONNECTING) {
		on_connected(p);
		if (p->dead)
			return;
	} else if (events & EPOLLOUT) {
		flush_upstream(p);
		if (p->dead)
			return;
	}
	for (int i = 0; i < 8 && p->c; i++) {
		if (p->state == PX_BODY && http_conn_out_pending(p->c) > PROXY_BUF_HIGH) {
			http_conn_on_drain(p->c, on_client_drain, p);
			break;
		}
		struct upstream *u = p->u;
		if (buf_reserve(&u->in, 64 * 1024) < 0) {
			px_fail(p, "upstream head too large");
			return;
		}
		ssize_t n = transport_read(u->t, buf_tail(&u->in), 64 * 1024);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			if (p->state == PX_BODY && http_body_eof(&p->dec) == 0) {
				p->dec.done = true;
				u->reusable = false;
				handle_body(p);
				return;
			}
			/* A pooled connection the server had closed: the request never got
			 * there, so it can go again on a fresh connection. */
			if (p->reused && p->state == PX_HEAD && !p->sent_any_body && u->in.len == 0) {
				retry_fresh(p);
				return;
			}
			px_fail(p, n == 0 ? "upstream closed" : "upstream read failed");
			return;
		}
		buf_commit(&u->in, (size_t)n);
		if (p->state == PX_HEAD && !handle_head(p))
			return;
		if (p->state == PX_BODY && !handle_body(p))
			return;
		if (n < 64 * 1024)
			break; /* a short read drained the socket (level-triggered: more wakes us) */
	}
	px_arm(p);
}

static void h_proxy(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	/* rest = "{port}/{path}" from the raw path, so the upstream sees what was sent. */
	const char *raw = req->raw_path + strlen("/proxy/");
	size_t plen = strcspn(raw, "/");
	if (plen == 0) {
		http_resp_send(c, 400, "text/plain; charset=utf-8", "port is required", 16);
		return;
	}
	char portstr[16];
	char *end;
	snprintf(portstr, sizeof(portstr), "%.*s", (int)(plen < 15 ? plen : 15), raw);
	unsigned long port = strtoul(portstr, &end, 10);
	if (*end || plen > 5 || port == 0 || port > 65535) {
		bad_gateway(c);
		return;
	}
	const char *rest = raw[plen] == '/' ? raw + plen + 1 : "";
	struct px *p = calloc(1, sizeof(*p));
	if (!p) {
		bad_gateway(c);
		return;
	}
	p->x = x;
	p->c = c;
	buf_init(&p->out, 0);
	buf_init(&p->head, PROXY_HEAD_MAX);
	p->head_method = strcmp(req->method, "HEAD") == 0;
	const char *upg = http_req_header(req, "Upgrade");
	p->upgrade = upg && req->upgrade;
	p->req_chunked = req->body_kind == HTTP_BODY_CHUNKED;
	if (build_head(p, req, rest) < 0) {
		free(p);
		http_resp_send(c, 431, "text/plain; charset=utf-8", "request head too large", 22);
		return;
	}
	buf_append(&p->out, buf_head(&p->head), p->head.len);
	struct err e = { 0 };
	p->u = proxy_pool_get(x->proxy, (uint16_t)port, &e);
	if (!p->u) {
		buf_free(&p->out);
		buf_free(&p->head);
		free(p);
		bad_gateway(c);
		return;
	}
	p->reused = p->u->reused;
	p->state = p->u->connected ? PX_HEAD : PX_CONNECTING;
	/* A pooled connection takes the head at once; then wait for the answer. */
	p->armed = p->state == PX_CONNECTING ? EPOLLOUT : EPOLLIN;
	if (proxy_pool_watch(x->proxy, p->u, p->armed, px_io, p) < 0) {
		px_fail(p, "ev_add");
		return; /* not busy: px_free has freed it */
	}
	px_enter(p);
	http_conn_on_close(c, on_client_gone, p);
	http_conn_read_body(c, on_req_body, p);
	if (!p->dead && p->state == PX_HEAD && p->out.len) {
		flush_upstream(p);
		if (!p->dead)
			px_arm(p);
	}
	px_leave(p);
}

static void h_no_port(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_send(c, 400, "text/plain; charset=utf-8", "port is required", 16);
}

int proxy_routes(struct execd *x)
{
	x->proxy = proxy_pool_new(x->loop);
	if (!x->proxy)
		return -ENOMEM;
	struct http_route_opts stream = { .stream_body = true };
	int r = http_server_route(x->srv, "*", "/proxy/", h_no_port, x, NULL);
	r = r ? r : http_server_route(x->srv, "*", "/proxy/*rest", h_proxy, x, &stream);
	return r;
}
