// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "http_client.h"
#include "ingress.h"
#include "log.h"
#include "sandbox.h"
#include "sock.h"
#include "splice.h"
#include "stats.h"
#include "store.h"

#define PX_HIGH (256 * 1024)
#define PX_MAX_HEADERS 100
#define PX_TIMEOUT_MS (180 * 1000)
#define PX_RESUME_POLL_MS 5

bool ingress_path_is_proxy(const char *p)
{
	if (!strncmp(p, "/v1/", 4))
		p += 3;
	if (strncmp(p, "/sandboxes/", 11) != 0 || strstr(p, ".."))
		return false;
	p += 11;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p || strncmp(slash, "/proxy/", 7) != 0)
		return false;
	p = slash + 7;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0' || *p == '/';
}

static bool hop_by_hop(const char *name, size_t n, const char *connection)
{
	static const char *const hop[] = { "Connection", "Keep-Alive", "Proxy-Connection",
					   "Proxy-Authenticate", "Proxy-Authorization", "TE",
					   "Trailer", "Transfer-Encoding", "Upgrade" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strlen(hop[i]) == n && http_span_ieq(name, n, hop[i]))
			return true;
	char tok[64];
	if (!connection || n >= sizeof(tok))
		return false;
	memcpy(tok, name, n);
	tok[n] = '\0';
	return http_list_has_token(connection, strlen(connection), tok);
}

/* Request headers for the sandbox: "Name: value" lines into b, one per line. */
static int forward_headers(const struct http_req *req, bool upgrade, struct buf *b)
{
	const char *connection = http_req_header(req, "Connection");
	bool has_xfp = false, has_xfh = false, has_xff = false;
	int r = 0;
	for (size_t i = 0; !r && i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (http_span_ieq(h->name, h->name_len, "Host") ||
		    http_span_ieq(h->name, h->name_len, "Content-Length") ||
		    http_span_ieq(h->name, h->name_len, "Expect") ||
		    http_span_ieq(h->name, h->name_len, "Authorization") ||
		    http_span_ieq(h->name, h->name_len, "Cookie") ||
		    http_span_ieq(h->name, h->name_len, "OPEN-SANDBOX-API-KEY"))
			continue;
		if (hop_by_hop(h->name, h->name_len, connection))
			continue;
		has_xfp |= http_span_ieq(h->name, h->name_len, "X-Forwarded-Proto");
		has_xfh |= http_span_ieq(h->name, h->name_len, "X-Forwarded-Host");
		has_xff |= http_span_ieq(h->name, h->name_len, "X-Forwarded-For");
		r = buf_append_header(b, h->name, h->name_len, h->value, h->value_len);
	}
	const char *host = http_req_header(req, "Host");
	if (!r && !has_xfp)
		r = buf_puts(b, "X-Forwarded-Proto: http\r\n");
	if (!r && !has_xfh && host)
		r = buf_append_header(b, "X-Forwarded-Host", 16, host, strlen(host));
	if (!r && !has_xff) {
		char peer[80];
		snprintf(peer, sizeof(peer), "%s", req->peer);
		char *colon = strrchr(peer, ':');
		if (colon && strcmp(peer, "unix") != 0)
			*colon = '\0';
		char *p = peer;
		if (*p == '[') {
			p++;
			p[strcspn(p, "]")] = '\0';
		}
		r = buf_append_header(b, "X-Forwarded-For", 15, p, strlen(p));
	}
	if (!r && upgrade) {
		const char *up = http_req_header(req, "Upgrade");
		r = buf_puts(b, "Connection: Upgrade\r\n");
		r = r ? r : buf_append_header(b, "Upgrade", 7, up, strlen(up));
	}
	return r;
}

/* --- plain HTTP through the async client -------------------------------- */

struct px {
	struct apisrv *srv;
	struct http_conn *c;
	struct http_client *hc;
	struct buf hdr_text;
	const char **hdrs;
	bool head_sent, client_paused, body_paused;
	struct ev_timer poll;
};

static void px_free(struct px *p)
{
	if (p->c) {
		http_conn_on_close(p->c, NULL, NULL);
		http_conn_on_drain(p->c, NULL, NULL);
	}
	if (p->hc)
		http_client_cancel(p->hc);
	ev_timer_stop(p->srv->loop, &p->poll);
	buf_free(&p->hdr_text);
	free(p->hdrs);
	free(p);
}

static void px_client_gone(struct http_conn *c, void *arg)
{
	(void)c;
	struct px *p = arg;
	p->c = NULL;
	px_free(p);
}

static void px_client_drain(struct http_conn *c, void *arg)
{
	(void)c;
	struct px *p = arg;
	if (p->client_paused && p->hc) {
		p->client_paused = false;
		http_client_pause(p->hc, false);
	}
}

static void px_head(struct http_client *hc, const struct http_response_head *h, void *arg)
{
	(void)hc;
	struct px *p = arg;
	const struct http_header *ch = http_header_find(h->headers, h->num_headers, "Connection");
	char conn[256] = "", ctype[256] = "";
	if (ch)
		snprintf(conn, sizeof(conn), "%.*s", (int)ch->value_len, ch->value);
	for (size_t i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];
		if (hop_by_hop(x->name, x->name_len, conn) ||
		    http_span_ieq(x->name, x->name_len, "Content-Length") ||
		    http_span_ieq(x->name, x->name_len, "X-Request-ID"))
			continue;
		if (http_span_ieq(x->name, x->name_len, "Content-Type")) {
			snprintf(ctype, sizeof(ctype), "%.*s", (int)x->value_len, x->value);
			continue;
		}
		http_resp_header_n(p->c, x->name, x->name_len, x->value, x->value_len);
	}
	p->head_sent = true;
	stats_request(p->srv->stats, "proxy", h->status);
	if (h->body_kind == HTTP_BODY_LENGTH || h->body_kind == HTTP_BODY_NONE)
		http_resp_begin_length(p->c, h->status, ctype[0] ? ctype : NULL,
				       h->body_kind == HTTP_BODY_LENGTH ? h->content_length : 0);
	else
		http_resp_begin_stream(p->c, h->status, ctype[0] ? ctype : NULL);
}

static void px_data(struct http_client *hc, const char *data, size_t len, void *arg)
{
	struct px *p = arg;
	if (!p->c)
		return;
	if (http_resp_write(p->c, data, len) < 0) {
		/* Both sides end here: no callback may reach p or the connection again. */
		struct http_conn *c = p->c;
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		p->c = NULL;
		http_resp_abort(c);
		px_free(p); /* cancels hc: freed once this callback returns */
		return;
	}
	if (http_conn_out_pending(p->c) > PX_HIGH && !p->client_paused) {
		p->client_paused = true;
		http_client_pause(hc, true);
	}
}

static void px_done(struct http_client *hc, int result, void *arg)
{
	struct px *p = arg;
	p->hc = NULL;
	struct http_conn *c = p->c;
	if (c) {
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		p->c = NULL;
		if (result == 0 && p->head_sent) {
			http_resp_end(c);
		} else if (p->head_sent) {
			http_resp_abort(c);
		} else {
			const char *why = http_client_error(hc);
			bool connect = strstr(why, "connect") || result == -ECONNREFUSED ||
				       result == -EHOSTUNREACH || result == -ETIMEDOUT;
			stats_request(p->srv->stats, "proxy", connect ? 502 : 500);
			if (connect)
				http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
						"Could not connect to the backend sandbox");
			else
				http_resp_error(c, 502, "SANDBOX::PROXY_ERROR",
						"The backend sandbox failed to answer");
		}
	}
	px_free(p);
}

static void px_poll(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct px *p = arg;
	if (!p->c || !p->hc || !p->body_paused)
		return;
	if (http_client_out_pending(p->hc) < PX_HIGH / 2) {
		p->body_paused = false;
		http_conn_pause_body(p->c, false);
	} else {
		ev_timer_start(loop, t, PX_RESUME_POLL_MS);
	}
}

static void px_body(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct px *p = arg;
	if (!p->hc)
		return;
	if (len && http_client_write(p->hc, data, len) < 0) {
		http_client_cancel(p->hc);
		p->hc = NULL;
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		p->c = NULL;
		http_resp_abort(c);
		px_free(p);
		return;
	}
	if (done) {
		http_client_end_body(p->hc);
		return;
	}
	if (http_client_out_pending(p->hc) > PX_HIGH && !p->body_paused) {
		p->body_paused = true;
		http_conn_pause_body(c, true);
		ev_timer_start(p->srv->loop, &p->poll, PX_RESUME_POLL_MS);
	}
}

static void proxy_http(struct apisrv *srv, struct http_conn *c, struct http_req *req,
		       const struct http_endpoint *ep, const char *target)
{
	struct px *p = calloc(1, sizeof(*p));
	if (!p) {
		http_resp_error(c, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	p->srv = srv;
	p->c = c;
	ev_timer_init(&p->poll, px_poll, p);
	buf_init(&p->hdr_text, 0);
	int r = forward_headers(req, false, &p->hdr_text);
	size_t n = 0;
	for (size_t i = 0; i < p->hdr_text.len; i++)
		n += buf_head(&p->hdr_text)[i] == '\n';
	p->hdrs = calloc(n + 1, sizeof(char *));
	if (r || !p->hdrs || !buf_cstr(&p->hdr_text)) {
		px_free(p);
		http_resp_error(c, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	/* Split "A: b\r\nC: d\r\n" in place into C strings. */
	char *s = buf_head(&p->hdr_text);
	for (size_t i = 0; i < n; i++) {
		char *crlf = strstr(s, "\r\n");
		*crlf = '\0';
		p->hdrs[i] = s;
		s = crlf + 2;
	}
	bool body = req->body_kind != HTTP_BODY_NONE;
	struct http_client_request rq = {
		.method = req->method,
		.target = target,
		.headers = p->hdrs,
		.stream_body = body,
		.timeout_ms = PX_TIMEOUT_MS,
	};
	struct http_client_cbs cbs = { .on_head = px_head, .on_data = px_data, .on_done = px_done };
	struct err e = { 0 };
	http_conn_on_close(c, px_client_gone, p);
	http_conn_on_drain(c, px_client_drain, p);
	p->hc = http_client_start(srv->loop, ep, &rq, &cbs, p, &e);
	if (!p->hc) {
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		p->c = NULL;
		px_free(p);
		stats_request(srv->stats, "proxy", 502);
		http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
				"Could not connect to the backend sandbox");
		return;
	}
	if (body)
		http_conn_read_body(c, px_body, p);
}

/* --- upgrades: forward the head, then splice ----------------------------- */

struct tunnel {
	struct apisrv *srv;
	struct http_conn *c;
	int fd;
	struct buf head;
};

static void tunnel_free(struct tunnel *t)
{
	if (t->c)
		http_conn_on_close(t->c, NULL, NULL);
	if (t->fd >= 0) {
		ev_del(t->srv->loop, t->fd);
		close(t->fd);
	}
	buf_free(&t->head);
	free(t);
}

static void tunnel_gone(struct http_conn *c, void *arg)
{
	(void)c;
	struct tunnel *t = arg;
	t->c = NULL;
	tunnel_free(t);
}

static void splice_done(int result, uint64_t ab, uint64_t ba, void *arg)
{
	(void)result;
	(void)ab;
	(void)ba;
	(void)arg;
}

static void tunnel_connected(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct tunnel *t = arg;
	struct http_conn *c = t->c;
	ev_del(loop, fd);
	if (sock_connect_result(fd) < 0) {
		close(fd);
		t->fd = -1;
		http_conn_on_close(c, NULL, NULL);
		t->c = NULL;
		stats_request(t->srv->stats, "proxy", 502);
		http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
				"Could not connect to the backend sandbox");
		tunnel_free(t);
		return;
	}
	t->fd = -1;
	http_conn_on_close(c, NULL, NULL);
	t->c = NULL;
	struct http_detached client, up;
	struct err e = { 0 };
	if (http_conn_detach(c, &client) < 0) {
		close(fd);
		tunnel_free(t);
		return;
	}
	up.t = transport_plain_new(fd);
	if (!up.t) {
		transport_close(client.t);
		buf_free(&client.in);
		buf_free(&client.out);
		tunnel_free(t);
		return;
	}
	buf_init(&up.in, 0);
	up.out = t->head;
	buf_init(&t->head, 0);
	stats_request(t->srv->stats, "proxy", 101);
	splice_start(loop, &client, &up, 0, splice_done, NULL, &e);
	tunnel_free(t);
}

static void proxy_upgrade(struct apisrv *srv, struct http_conn *c, struct http_req *req,
			  const struct http_endpoint *ep, const char *target)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	if (!t) {
		http_resp_error(c, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	t->srv = srv;
	t->c = c;
	t->fd = -1;
	buf_init(&t->head, 0);
	int r = buf_printf(&t->head, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n", req->method, target,
			   ep->host, ep->port);
	r = r ? r : forward_headers(req, true, &t->head);
	r = r ? r : buf_puts(&t->head, "\r\n");
	struct err e = { 0 };
	int fd = r ? r : sock_connect_tcp(ep->host, ep->port, &e);
	if (fd < 0 || ev_add(srv->loop, fd, EPOLLOUT, tunnel_connected, t) < 0) {
		if (fd >= 0)
			close(fd);
		tunnel_free(t);
		stats_request(srv->stats, "proxy", 502);
		http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
				"Could not connect to the backend sandbox");
		return;
	}
	t->fd = fd;
	http_conn_on_close(c, tunnel_gone, t);
}

static void h_proxy(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	const char *id = http_req_param(req, "id");
	const char *ps = http_req_param(req, "port");
	const char *rest = http_req_param(req, "rest");
	char *end;
	long port = strtol(ps, &end, 10);
	if (*end || port < 1 || port > 65535) {
		stats_request(srv->stats, "proxy", 400);
		http_resp_error(c, 400, "DOCKER::INVALID_PORT", "port must be 1..65535");
		return;
	}
	struct sbx *s = store_find(srv->store, id);
	if (!s || !sandbox_visible(s)) {
		stats_request(srv->stats, "proxy", 404);
		http_resp_error(c, 404, "DOCKER::SANDBOX_NOT_FOUND", "Sandbox not found");
		return;
	}
	if (!s->ip[0]) {
		stats_request(srv->stats, "proxy", 502);
		http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
				"The sandbox has no network address yet (state Pending)");
		return;
	}
	struct http_endpoint ep = { .kind = HTTP_EP_TCP, .port = (uint16_t)port };
	snprintf(ep.host, sizeof(ep.host), "%s", s->ip);
	/* The raw (still encoded) rest of the path, as the client sent it. */
	const char *raw = req->raw_path;
	const char *rp = strstr(raw, "/proxy/");
	const char *raw_rest = "";
	if (rp) {
		rp += 7;
		while (*rp && *rp != '/')
			rp++;
		raw_rest = *rp == '/' ? rp + 1 : "";
	}
	(void)rest;
	struct buf target;
	buf_init(&target, 0);
	buf_printf(&target, "/%s%s%s", raw_rest, req->query[0] ? "?" : "", req->query);
	const char *up = http_req_header(req, "Upgrade");
	if (up && *up)
		proxy_upgrade(srv, c, req, &ep, buf_cstr(&target));
	else
		proxy_http(srv, c, req, &ep, buf_cstr(&target));
	buf_free(&target);
}

int ingress_routes(struct apisrv *srv)
{
	static const char *const pats[] = { "/sandboxes/:id/proxy/:port", "/sandboxes/:id/proxy/:port/*rest",
					    "/v1/sandboxes/:id/proxy/:port",
					    "/v1/sandboxes/:id/proxy/:port/*rest" };
	struct http_route_opts o = { .stream_body = true };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		int r = http_server_route(srv->http, "*", pats[i], h_proxy, srv, &o);
		if (r < 0)
			return r;
	}
	return 0;
}
