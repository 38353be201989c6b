// SPDX-License-Identifier: Apache-2.0
/* The HTTP server and client against each other, plus raw-socket edge cases. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_client.h"
#include "http_server.h"
#include "httptest.h"
#include "sock.h"
#include "testpki.h"
#include "tls.h"
#include "unit.h"

struct fixture {
	struct ev_loop *loop;
	struct http_server *srv;
	int port;
	struct http_endpoint ep;
	int sse_left;
	struct ev_timer sse_timer;
	struct http_conn *sse_conn;
	size_t upload_bytes;
	bool closed_seen;
};

static void h_hello(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_header(c, "X-Test", "yes");
	http_resp_send(c, 200, "text/plain", "hello", 5);
}

/* Header values with CR or LF, and names that are not tokens, are refused. */
static void h_header_rules(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	CHECK_INT(http_resp_header(c, "X-Bad", "a\r\nX-Forged: 1"), -EINVAL);
	CHECK_INT(http_resp_header(c, "X-Bad", "a\nb"), -EINVAL);
	CHECK_INT(http_resp_header(c, "X-Bad", "abcdefgh\r"), -EINVAL);
	CHECK_INT(http_resp_header(c, "X Bad", "a"), -EINVAL);
	CHECK_INT(http_resp_header(c, "X-Bad:", "a"), -EINVAL);
	CHECK_INT(http_resp_header(c, "", "a"), -EINVAL);
	CHECK_INT(http_resp_header_n(c, "X-Ctl", 5, "a\001b\tc", 5), 0); /* only CR and LF matter */
	CHECK_INT(http_resp_header(c, "X-Long-Token-Name!#$%&'*+.^_`|~", "v"), 0);
	http_resp_send(c, 200, "text/plain", "ok", 2);
}

static void h_echo(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *ct = http_req_header(req, "content-type");
	http_resp_send(c, 200, ct ? ct : "application/octet-stream", req->body, req->body_len);
}

static void h_params(struct http_conn *c, struct http_req *req, void *arg)
{
	char out[256];
	char q[64] = "";
	(void)arg;
	http_query_get(req->query, strlen(req->query), "cursor", q, sizeof(q));
	int n = snprintf(out, sizeof(out), "id=%s cursor=%s", http_req_param(req, "id"), q);
	http_resp_send(c, 200, "text/plain", out, (size_t)n);
}

static void h_rest(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *rest = http_req_param(req, "rest");
	http_resp_send(c, 200, "text/plain", rest, strlen(rest));
}

static void sse_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fixture *f = arg;
	char ev[64];
	int n = snprintf(ev, sizeof(ev), "{\"type\":\"tick\",\"left\":%d}\n\n", f->sse_left);
	http_resp_write(f->sse_conn, ev, (size_t)n);
	if (--f->sse_left > 0) {
		ev_timer_start(loop, t, 5);
		return;
	}
	http_resp_end(f->sse_conn);
	f->sse_conn = NULL;
}

static void sse_closed(struct http_conn *c, void *arg)
{
	struct fixture *f = arg;
	(void)c;
	f->closed_seen = true;
	ev_timer_stop(f->loop, &f->sse_timer);
	f->sse_conn = NULL;
}

static void h_sse(struct http_conn *c, struct http_req *req, void *arg)
{
	struct fixture *f = arg;
	(void)req;
	f->sse_left = 3;
	f->sse_conn = c;
	http_conn_on_close(c, sse_closed, f);
	http_resp_begin_stream(c, 200, "text/event-stream");
	ev_timer_init(&f->sse_timer, sse_tick, f);
	ev_timer_start(f->loop, &f->sse_timer, 5);
}

/* The same stream, a tick every 5 ms for 5 s: always progressing, never done soon. */
static void h_drip(struct http_conn *c, struct http_req *req, void *arg)
{
	h_sse(c, req, arg);
	((struct fixture *)arg)->sse_left = 1000;
}

static void upload_data(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct fixture *f = arg;
	(void)data;
	f->upload_bytes += len;
	if (done) {
		char out[32];
		int n = snprintf(out, sizeof(out), "%zu", f->upload_bytes);
		http_resp_send(c, 200, "text/plain", out, (size_t)n);
	}
}

static void h_upload(struct http_conn *c, struct http_req *req, void *arg)
{
	struct fixture *f = arg;
	(void)req;
	f->upload_bytes = 0;
	http_conn_read_body(c, upload_data, f);
}

static void fixture_init(struct fixture *f, const struct http_server_config *cfg)
{
	struct err e = {0};
	memset(f, 0, sizeof(*f));
	f->loop = ev_loop_new(&e);
	f->srv = http_server_new(f->loop, cfg, &e);
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	CHECK(lfd >= 0);
	f->port = sock_local_port(lfd);
	CHECK(http_server_listen_fd(f->srv, lfd, &e) == 0);
	struct http_route_opts small = {.max_body = 1024};
	struct http_route_opts stream = {.stream_body = true};
	http_server_route(f->srv, "GET", "/hello", h_hello, f, NULL);
	http_server_route(f->srv, "GET", "/header-rules", h_header_rules, f, NULL);
	http_server_route(f->srv, "POST", "/echo", h_echo, f, NULL);
	http_server_route(f->srv, "POST", "/small", h_echo, f, &small);
	http_server_route(f->srv, "GET", "/items/:id/logs", h_params, f, NULL);
	http_server_route(f->srv, "*", "/files/*rest", h_rest, f, NULL);
	http_server_route(f->srv, "GET", "/sse", h_sse, f, NULL);
	http_server_route(f->srv, "GET", "/drip", h_drip, f, NULL);
	http_server_route(f->srv, "PUT", "/upload", h_upload, f, &stream);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	CHECK(http_endpoint_parse(&f->ep, url, NULL, 0, &e) == 0);
}

static void fixture_free(struct fixture *f)
{
	http_server_free(f->srv);
	ev_loop_free(f->loop);
}

TEST(http_server_basic_routes)
{
	struct fixture f;
	struct ht_result r;
	fixture_init(&f, NULL);

	ht_request(f.loop, &f.ep, "GET", "/hello", NULL, NULL, &r);
	CHECK_INT(r.result, 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "hello");
	CHECK_STR(r.ctype, "text/plain");
	ht_result_free(&r);

	ht_request(f.loop, &f.ep, "GET", "/items/abc%20d/logs?cursor=42", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "id=abc d cursor=42");
	ht_result_free(&r);

	ht_request(f.loop, &f.ep, "DELETE", "/files/a/b/c.txt", NULL, NULL, &r);
	CHECK_STR(r.body.data, "a/b/c.txt");
	ht_result_free(&r);

	ht_request(f.loop, &f.ep, "GET", "/nope", NULL, NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK(strstr(r.body.data, "\"code\":\"NOT_FOUND\"") != NULL);
	CHECK_STR(r.ctype, "application/json");
	ht_result_free(&r);

	/* Wrong method on a known path: 405 (its Allow is checked below). */
	ht_request(f.loop, &f.ep, "POST", "/hello", "x", NULL, &r);
	CHECK_INT(r.status, 405);
	ht_result_free(&r);
	fixture_free(&f);
}

TEST(http_server_head_405_and_host)
{
	struct fixture f;
	fixture_init(&f, NULL);
	/* HEAD is answered by the GET route, with the length and no body. */
	const char head[] = "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct buf b = ht_raw(f.loop, f.port, head, sizeof(head) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 200 ", 13) == 0);
	CHECK(b.data && strstr(b.data, "Content-Length: 5\r\n") != NULL);
	CHECK(b.data && strstr(b.data, "hello") == NULL);
	buf_free(&b);
	/* A path served for other methods: 405 naming them. */
	const char post[] = "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n";
	b = ht_raw(f.loop, f.port, post, sizeof(post) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 405 ", 13) == 0);
	CHECK(b.data && strstr(b.data, "Allow: GET, HEAD\r\n") != NULL);
	CHECK(b.data && strstr(b.data, "METHOD_NOT_ALLOWED") != NULL);
	buf_free(&b);
	const char del[] = "DELETE /items/7/logs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	b = ht_raw(f.loop, f.port, del, sizeof(del) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 405 ", 13) == 0);
	buf_free(&b);
	/* Unknown paths stay 404. */
	const char nope[] = "PUT /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	b = ht_raw(f.loop, f.port, nope, sizeof(nope) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 404 ", 13) == 0);
	buf_free(&b);
	/* HTTP/1.0 needs no Host; 1.1 does (the case is in rejects_malformed). */
	const char old[] = "GET /hello HTTP/1.0\r\n\r\n";
	b = ht_raw(f.loop, f.port, old, sizeof(old) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 200 ", 13) == 0);
	buf_free(&b);
	fixture_free(&f);
}

TEST(http_server_response_header_rules)
{
	struct fixture f;
	fixture_init(&f, NULL);
	const char rq[] = "GET /header-rules HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct buf b = ht_raw(f.loop, f.port, rq, sizeof(rq) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 200 OK", 15) == 0);
	CHECK(strstr(buf_head(&b), "X-Forged") == NULL && strstr(buf_head(&b), "X-Bad") == NULL);
	CHECK(strstr(buf_head(&b), "X-Long-Token-Name!#$%&'*+.^_`|~: v\r\n") != NULL);
	buf_free(&b);
	fixture_free(&f);
}

TEST(http_server_echo_body_and_limits)
{
	struct fixture f;
	struct ht_result r;
	fixture_init(&f, NULL);
	const char *hdrs[] = {"Content-Type: application/json", NULL};

	ht_request(f.loop, &f.ep, "POST", "/echo", "{\"a\":1}", hdrs, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "{\"a\":1}");
	CHECK_STR(r.ctype, "application/json");
	ht_result_free(&r);

	char *big = malloc(2000);
	memset(big, 'x', 1999);
	big[1999] = '\0';
	ht_request(f.loop, &f.ep, "POST", "/small", big, NULL, &r);
	CHECK_INT(r.status, 413);
	CHECK(strstr(r.body.data, "PAYLOAD_TOO_LARGE") != NULL);
	ht_result_free(&r);
	free(big);

	/* A chunked body has no length up front: it is cut off once over the limit. */
	struct buf req;
	buf_init(&req, 0);
	buf_puts(&req,
		 "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n");
	for (int i = 0; i < 0x401; i++)
		buf_puts(&req, "x");
	buf_puts(&req, "\r\n0\r\n\r\n");
	struct buf b = ht_raw(f.loop, f.port, buf_head(&req), req.len, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 413 ", 13) == 0);
	buf_free(&b);
	buf_free(&req);
	fixture_free(&f);
}

TEST(http_server_pipelining_and_keepalive)
{
	struct fixture f;
	fixture_init(&f, NULL);
	const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
			   "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
			   "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "2\r\nde\r\n1;ext=1\r\nf\r\n0\r\nX-Trailer: t\r\n\r\n"
			   "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct buf b = ht_raw(f.loop, f.port, req, sizeof(req) - 1, NULL, 0);
	CHECK_INT(ht_count(&b, "HTTP/1.1 200 OK"), 4);
	CHECK(strstr(b.data, "\r\n\r\nhello") != NULL);
	CHECK(strstr(b.data, "\r\n\r\nabc") != NULL);
	CHECK(strstr(b.data, "\r\n\r\ndef") != NULL);
	CHECK_INT(ht_count(&b, "Connection: close"), 1);
	/* Responses come in request order. */
	const char *p1 = strstr(b.data, "abc"), *p2 = strstr(b.data, "def");
	CHECK(p1 && p2 && p1 < p2);
	buf_free(&b);
	fixture_free(&f);
}

TEST(http_server_rejects_malformed)
{
	struct fixture f;
	fixture_init(&f, NULL);
	static const struct {
		const char *req;
		const char *status;
	} cases[] = {
		{"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: "
		 "1\r\n\r\nab",
		 "400"},
		{"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "400"},
		{"GET /hello HTTP/1.1\nHost: x\n\n", "400"},
		{"GET /hello HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "400"},
		{"GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", "400"},
		{"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "505"},
		{"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		{"GET /hello HTTP/1.1\r\n\r\n", "400"},
		{"GET /hello HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "400"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = ht_raw(f.loop, f.port, cases[i].req, strlen(cases[i].req), NULL, 0);
		char want[32];
		snprintf(want, sizeof(want), "HTTP/1.1 %s ", cases[i].status);
		if (!b.data || strncmp(b.data, want, strlen(want)) != 0)
			unit_fail(__FILE__, __LINE__, "case %zu: got \"%.40s\", want %s", i,
				  b.data ? b.data : "", want);
		else
			CHECK(strstr(b.data, "Connection: close") != NULL);
		buf_free(&b);
	}
	fixture_free(&f);
}

TEST(http_server_oversize_head_and_target)
{
	struct http_server_config cfg = {.limits = {.max_head = 4096, .max_target = 256}};
	struct fixture f;
	fixture_init(&f, &cfg);

	struct buf req;
	buf_init(&req, 0);
	buf_puts(&req, "GET /");
	for (int i = 0; i < 300; i++)
		buf_puts(&req, "a");
	buf_puts(&req, " HTTP/1.1\r\nHost: x\r\n\r\n");
	struct buf b = ht_raw(f.loop, f.port, buf_head(&req), req.len, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 414 ", 13) == 0);
	buf_free(&b);

	buf_reset(&req);
	buf_puts(&req, "GET /hello HTTP/1.1\r\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&req, "X-Filler-%d: %s\r\n", i, "0123456789012345678901234567890");
	buf_puts(&req, "\r\n");
	b = ht_raw(f.loop, f.port, buf_head(&req), req.len, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 431 ", 13) == 0);
	buf_free(&b);
	buf_free(&req);
	fixture_free(&f);
}

TEST(http_server_slowloris_header_timeout)
{
	struct http_server_config cfg = {.header_timeout_ms = 150};
	struct fixture f;
	fixture_init(&f, &cfg);
	/* Never finishes the head: the server answers 408 and closes. */
	const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	uint64_t t0 = ev_clock_ms();
	struct buf b = ht_raw(f.loop, f.port, req, sizeof(req) - 1, NULL, 0);
	uint64_t took = ev_clock_ms() - t0;
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 408 ", 13) == 0);
	CHECK(took < 3000);
	buf_free(&b);
	fixture_free(&f);
}

TEST(http_server_expect_continue)
{
	struct fixture f;
	fixture_init(&f, NULL);
	const char req[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
			   "Expect: 100-continue\r\n\r\n";
	/* The interim response arrives before any body byte is sent. */
	struct buf b = ht_raw(f.loop, f.port, req, sizeof(req) - 1, "100 Continue\r\n\r\n", 1);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
	buf_free(&b);

	/* Too large: a final 413 instead of 100, and no body is read. */
	const char big[] = "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n"
			   "Expect: 100-continue\r\n\r\n";
	b = ht_raw(f.loop, f.port, big, sizeof(big) - 1, NULL, 0);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 413 ", 13) == 0);
	CHECK_INT(ht_count(&b, "100 Continue"), 0);
	buf_free(&b);
	fixture_free(&f);
}

struct drip_result {
	bool done;
	int result;
	size_t bytes;
	char error[128];
};

static void drip_data(struct http_client *c, const char *data, size_t len, void *arg)
{
	(void)c;
	(void)data;
	((struct drip_result *)arg)->bytes += len;
}

static void drip_done(struct http_client *c, int result, void *arg)
{
	struct drip_result *d = arg;
	d->done = true;
	d->result = result;
	snprintf(d->error, sizeof(d->error), "%s", http_client_error(c));
}

/* A server that drips keeps a no-progress timeout from ever firing; the
 * deadline ends the exchange anyway. */
TEST(http_client_deadline)
{
	struct fixture f;
	struct err e = {0};
	fixture_init(&f, NULL);
	struct http_client_request rq = {
		.method = "GET", .target = "/drip", .timeout_ms = 2000, .deadline_ms = 300};
	struct http_client_cbs cbs = {.on_data = drip_data, .on_done = drip_done};
	struct drip_result d = {0};
	uint64_t t0 = ev_clock_ms();
	CHECK(http_client_start(f.loop, &f.ep, &rq, &cbs, &d, &e) != NULL);
	ht_run_until(f.loop, &d.done, 3000);
	CHECK(d.done);
	CHECK_INT(d.result, -ETIMEDOUT);
	CHECK(strstr(d.error, "deadline") != NULL);
	CHECK(d.bytes > 0);
	CHECK(ev_clock_ms() - t0 < 1500);
	fixture_free(&f);
}

TEST(http_server_streaming_response_and_client_gone)
{
	struct fixture f;
	struct ht_result r;
	fixture_init(&f, NULL);
	ht_request(f.loop, &f.ep, "GET", "/sse", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.ctype, "text/event-stream");
	CHECK_INT(ht_count(&r.body, "\"type\":\"tick\""), 3);
	CHECK(strstr(r.body.data, "{\"type\":\"tick\",\"left\":3}\n\n") == r.body.data);
	CHECK(!f.closed_seen);
	ht_result_free(&r);

	/* A client that leaves mid-stream: the handler's on_close runs. */
	const char req[] = "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n";
	struct buf b = ht_raw(f.loop, f.port, req, sizeof(req) - 1, "left\":3", 1);
	buf_free(&b);
	bool *seen = &f.closed_seen;
	CHECK(ht_run_until(f.loop, seen, 2000));
	fixture_free(&f);
}

TEST(http_server_streamed_request_body)
{
	struct fixture f;
	fixture_init(&f, NULL);
	size_t n = 3 * 1024 * 1024;
	struct buf req;
	buf_init(&req, 0);
	buf_printf(&req, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
	buf_reserve(&req, n);
	memset(buf_tail(&req), 'z', n);
	buf_commit(&req, n);
	/* 3 MiB through a route whose body is never buffered (the default limit is 1 MiB). */
	struct buf b = ht_raw(f.loop, f.port, buf_head(&req), req.len, "3145728", 1);
	CHECK(b.data && strncmp(b.data, "HTTP/1.1 200 OK", 15) == 0);
	CHECK_INT(ht_count(&b, "\r\n\r\n3145728"), 1);
	buf_free(&b);
	buf_free(&req);
	fixture_free(&f);
}

TEST(http_server_request_id)
{
	struct http_server_config cfg = {.request_ids = true};
	struct fixture f;
	struct ht_result r;
	fixture_init(&f, &cfg);
	const char *hdrs[] = {"X-Request-ID: abc-123", NULL};
	ht_request(f.loop, &f.ep, "GET", "/hello", NULL, hdrs, &r);
	CHECK_STR(r.request_id, "abc-123");
	ht_result_free(&r);
	ht_request(f.loop, &f.ep, "GET", "/nope", NULL, NULL, &r);
	CHECK_INT(strlen(r.request_id), 36); /* generated UUID, on errors too */
	ht_result_free(&r);
	fixture_free(&f);
}

TEST(http_client_over_unix_socket)
{
	struct fixture f;
	struct err e = {0};
	struct ht_result r;
	fixture_init(&f, NULL);
	char dir[] = "/tmp/httptest.XXXXXX", path[128], url[160];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	int lfd = sock_listen_unix(path, &e);
	CHECK(lfd >= 0);
	CHECK(http_server_listen_fd(f.srv, lfd, &e) == 0);
	struct http_endpoint ep;
	snprintf(url, sizeof(url), "unix://%s", path);
	CHECK(http_endpoint_parse(&ep, url, NULL, 0, &e) == 0);
	CHECK_INT(ep.kind, HTTP_EP_UNIX);
	ht_request(f.loop, &ep, "GET", "/items/7/logs", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "id=7 cursor=");
	ht_result_free(&r);
	fixture_free(&f);
	unlink(path);
	rmdir(dir);
}

/* The keep-alive idle timeout counts from the last response, not from the
 * first arming of the connection's (lazy) timer. */
static bool conn_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	return n < 0 && errno == EAGAIN;
}

static void run_for(struct ev_loop *loop, int ms)
{
	bool never = false;
	ht_run_until(loop, &never, ms);
}

TEST(http_server_idle_timeout_counts_from_the_last_response)
{
	struct http_server_config cfg = {.idle_timeout_ms = 600};
	struct fixture f;
	struct err e = {0};
	fixture_init(&f, &cfg);
	int fd = sock_connect_tcp("127.0.0.1", (uint16_t)f.port, &e);
	CHECK(fd >= 0);
	static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
	char in[512];
	run_for(f.loop, 300);
	CHECK(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1));
	run_for(f.loop, 50);
	CHECK(recv(fd, in, sizeof(in), MSG_DONTWAIT) > 0);
	/* Past the deadline the timer was first armed for, but not the new one. */
	run_for(f.loop, 350);
	CHECK(conn_open(fd));
	run_for(f.loop, 700);
	CHECK(!conn_open(fd));
	CHECK_INT(http_server_conn_count(f.srv), 0);
	close(fd);
	fixture_free(&f);
}

/* Edge-triggered reads: a body already queued whole in the socket, larger
 * than one turn's share of reads, is still read to its end (the connection
 * asks the loop to report the socket again; no new bytes will come). */
TEST(http_server_reads_past_its_share_of_a_turn)
{
	struct fixture f;
	struct err e = {0};
	fixture_init(&f, NULL);
	char dir[] = "/tmp/httptest.XXXXXX", path[128];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/share.sock", dir);
	int lfd = sock_listen_unix(path, &e);
	CHECK(lfd >= 0);
	CHECK(http_server_listen_fd(f.srv, lfd, &e) == 0);
	int fd = sock_connect_unix(path, &e);
	CHECK(fd >= 0);
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* The whole request queued before the loop runs, then nothing more. 300 KiB
	 * fits even where SO_SNDBUF is capped at the usual wmem_max (2 x 208 KiB). */
	static char body[300 * 1024];
	size_t n = sizeof(body);
	char head[128];
	int hn = snprintf(head, sizeof(head),
			  "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
	memset(body, 'z', n);
	CHECK(send(fd, head, (size_t)hn, MSG_DONTWAIT | MSG_NOSIGNAL) == hn);
	CHECK(send(fd, body, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n);
	char want[32], in[512];
	snprintf(want, sizeof(want), "\r\n\r\n%zu", n);
	bool never = false;
	ht_run_until(f.loop, &never, 300);
	ssize_t got = recv(fd, in, sizeof(in) - 1, MSG_DONTWAIT);
	CHECK(got > 0);
	in[got > 0 ? got : 0] = '\0';
	CHECK(strstr(in, want) != NULL);
	close(fd);
	fixture_free(&f);
	unlink(path);
	rmdir(dir);
}

/* A request and the client's FIN in one edge: the answer goes out and the
 * connection closes, not left open until the idle timeout. */
TEST(http_server_request_and_fin_in_one_edge)
{
	struct fixture f;
	struct err e = {0};
	fixture_init(&f, NULL);
	int fd = sock_connect_tcp("127.0.0.1", (uint16_t)f.port, &e);
	CHECK(fd >= 0);
	bool never = false;
	ht_run_until(f.loop, &never, 50); /* accepted, nothing to read yet */
	static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1));
	CHECK(shutdown(fd, SHUT_WR) == 0);
	ht_run_until(f.loop, &never, 300);
	char in[512];
	size_t got = 0;
	ssize_t n;
	while ((n = recv(fd, in + got, sizeof(in) - 1 - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	in[got] = '\0';
	CHECK(strncmp(in, "HTTP/1.1 200 OK", 15) == 0);
	CHECK_INT(n, 0); /* the server closed its side */
	CHECK_INT(http_server_conn_count(f.srv), 0);
	close(fd);
	fixture_free(&f);
}

TEST(http_client_errors)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	struct http_endpoint ep;
	struct ht_result r;
	struct err e = {0};
	/* A port nothing listens on (bound, then closed). */
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	int port = sock_local_port(lfd);
	close(lfd);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/base/", port);
	char prefix[32];
	CHECK(http_endpoint_parse(&ep, url, prefix, sizeof(prefix), &e) == 0);
	CHECK_STR(prefix, "/base");
	ht_request(loop, &ep, "GET", "/", NULL, NULL, &r);
	CHECK_INT(r.result, -ECONNREFUSED);
	ht_result_free(&r);

	CHECK(http_endpoint_parse(&ep, "ftp://x", NULL, 0, &e) < 0);
	CHECK(http_endpoint_parse(&ep, "http://[::1]:99999", NULL, 0, &e) < 0);
	CHECK(http_endpoint_parse(&ep, "https://[::1]:6443", NULL, 0, &e) == 0);
	CHECK_STR(ep.host, "::1");
	CHECK_INT(ep.port, 6443);
	ev_loop_free(loop);
}

/* A kept connection carries several requests; one the server closed while
 * idle is noticed and the request goes again on a new connection. */
TEST(http_client_keepalive_reuse_and_retry)
{
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	int port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct ev_loop *loop = ev_loop_new(NULL);
		struct http_server_config cfg = {.idle_timeout_ms = 300};
		struct http_server *s = http_server_new(loop, &cfg, NULL);
		http_server_route(s, "POST", "/echo", h_echo, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 4000;
		while (ev_clock_ms() < end)
			ev_run_once(loop, 50);
		_exit(0);
	}
	close(lfd);
	struct http_endpoint ep;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	http_endpoint_parse(&ep, url, NULL, 0, &e);
	struct http_keepalive keep = {0};
	struct http_client_request rq = {.method = "POST",
					 .target = "/echo",
					 .body = "ping",
					 .body_len = 4,
					 .has_body = true,
					 .keep = &keep};
	struct http_response resp;
	for (int i = 0; i < 3; i++) {
		CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
		CHECK_INT(resp.status, 200);
		CHECK_SPAN(buf_head(&resp.body), resp.body.len, "ping");
		http_response_free(&resp);
		CHECK(keep.t != NULL);
	}
	CHECK_INT(keep.opened, 1);
	/* The server drops the idle connection after 300 ms. */
	usleep(700 * 1000);
	CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
	CHECK_INT(resp.status, 200);
	http_response_free(&resp);
	CHECK_INT(keep.opened, 2);
	/* A body over max_body: the connection is not kept (the rest is unread). */
	CHECK_INT(http_request_sync(&ep, &rq, 2, &resp, &e), -EFBIG);
	http_response_free(&resp);
	CHECK(keep.t == NULL);
	http_keepalive_close(&keep);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static int hang_hits;

static void h_hang(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)c;
	(void)req;
	(void)arg;
	hang_hits++; /* and no answer */
}

static void h_hang_count(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	char out[16];
	int n = snprintf(out, sizeof(out), "%d", hang_hits);
	http_resp_send(c, 200, "text/plain", out, (size_t)n);
}

/* A request on a kept connection that times out is not sent again: the
 * server has it (a POST twice would create twice). */
TEST(http_client_keepalive_timeout_not_retried)
{
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	int port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct ev_loop *loop = ev_loop_new(NULL);
		struct http_server *s = http_server_new(loop, NULL, NULL);
		http_server_route(s, "POST", "/echo", h_echo, NULL, NULL);
		http_server_route(s, "POST", "/hang", h_hang, NULL, NULL);
		http_server_route(s, "GET", "/count", h_hang_count, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 4000;
		while (ev_clock_ms() < end)
			ev_run_once(loop, 50);
		_exit(0);
	}
	close(lfd);
	struct http_endpoint ep;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	http_endpoint_parse(&ep, url, NULL, 0, &e);
	struct http_keepalive keep = {0};
	struct http_client_request rq = {.method = "POST",
					 .target = "/echo",
					 .body = "ping",
					 .body_len = 4,
					 .has_body = true,
					 .timeout_ms = 300,
					 .keep = &keep};
	struct http_response resp;
	CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
	http_response_free(&resp);
	CHECK(keep.t != NULL);
	rq.target = "/hang";
	CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), -ETIMEDOUT);
	http_response_free(&resp);
	rq.method = "GET";
	rq.target = "/count";
	rq.has_body = false;
	rq.body_len = 0;
	CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
	CHECK_SPAN(buf_head(&resp.body), resp.body.len, "1");
	http_response_free(&resp);
	http_keepalive_close(&keep);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* "Content-Length: 0" ends the answer at its head: on a kept connection the
 * server stays silent after it, so waiting for body bytes would wait until
 * the timeout. */
TEST(http_client_keepalive_empty_body)
{
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	int port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct ev_loop *loop = ev_loop_new(NULL);
		struct http_server *s = http_server_new(loop, NULL, NULL);
		http_server_route(s, "POST", "/echo", h_echo, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 4000;
		while (ev_clock_ms() < end)
			ev_run_once(loop, 50);
		_exit(0);
	}
	close(lfd);
	struct http_endpoint ep;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	http_endpoint_parse(&ep, url, NULL, 0, &e);
	struct http_keepalive keep = {0};
	struct http_client_request rq = {.method = "POST",
					 .target = "/echo",
					 .body = "",
					 .body_len = 0,
					 .has_body = true,
					 .timeout_ms = 2000,
					 .keep = &keep};
	struct http_response resp;
	for (int i = 0; i < 2; i++) {
		uint64_t t0 = ev_clock_ms();
		CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
		CHECK(ev_clock_ms() - t0 < 1000);
		CHECK_INT(resp.status, 200);
		CHECK_INT(resp.body.len, 0);
		http_response_free(&resp);
		CHECK(keep.t != NULL); /* and the connection is kept */
	}
	CHECK_INT(keep.opened, 1);
	http_keepalive_close(&keep);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

TEST(http_client_sync_request)
{
	/* The sync client needs the server on another thread's loop: fork a child server. */
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	int port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct ev_loop *loop = ev_loop_new(NULL);
		struct http_server *s = http_server_new(loop, NULL, NULL);
		http_server_route(s, "POST", "/echo", h_echo, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 3000;
		while (ev_clock_ms() < end)
			ev_run_once(loop, 50);
		_exit(0);
	}
	close(lfd);
	struct http_endpoint ep;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	http_endpoint_parse(&ep, url, NULL, 0, &e);
	struct http_client_request rq = {.method = "POST",
					 .target = "/echo",
					 .body = "ping",
					 .body_len = 4,
					 .has_body = true};
	struct http_response resp;
	CHECK_INT(http_request_sync(&ep, &rq, 1024, &resp, &e), 0);
	CHECK_INT(resp.status, 200);
	CHECK_SPAN(buf_head(&resp.body), resp.body.len, "ping");
	const struct http_header *cl = http_response_header(&resp, "content-length");
	CHECK(cl && cl->value_len == 1 && cl->value[0] == '4');
	http_response_free(&resp);

	/* A body over max_body fails cleanly. */
	CHECK_INT(http_request_sync(&ep, &rq, 2, &resp, &e), -EFBIG);
	http_response_free(&resp);

	/* A large whole body is sent from the caller's memory (borrowed, in several writes). */
	size_t big_len = 900 * 1024;
	char *big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 23);
	struct http_client_request brq = {.method = "POST",
					  .target = "/echo",
					  .body = big,
					  .body_len = big_len,
					  .has_body = true};
	CHECK_INT(http_request_sync(&ep, &brq, big_len, &resp, &e), 0);
	CHECK_INT(resp.status, 200);
	CHECK(resp.body.len == big_len && memcmp(buf_head(&resp.body), big, big_len) == 0);
	http_response_free(&resp);
	free(big);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(http_server_and_client_over_tls)
{
	if (!testpki_ready())
		return;
	struct err e = {0};
	struct tls_config *scfg = tls_config_server(
		testpki_path("srv.pem"), testpki_path("srv.key"), testpki_path("ca.pem"), &e);
	struct tls_config *ccfg = tls_config_client(
		testpki_path("ca.pem"), testpki_path("cliec.pem"), testpki_path("cliec.key"), &e);
	struct tls_config *anon = tls_config_client(testpki_path("ca.pem"), NULL, NULL, &e);
	CHECK(scfg && ccfg && anon);
	if (!scfg || !ccfg || !anon)
		goto out;
	struct http_server_config cfg = {.tls = scfg};
	struct fixture f;
	struct ht_result r;
	fixture_init(&f, &cfg);

	/* mTLS, name checked against the DNS SAN. */
	char url[64];
	snprintf(url, sizeof(url), "https://localhost:%d", f.port);
	struct http_endpoint ep;
	CHECK(http_endpoint_parse(&ep, url, NULL, 0, &e) == 0);
	ep.tls = ccfg;
	ht_request(f.loop, &ep, "GET", "/hello", NULL, NULL, &r);
	CHECK_INT(r.result, 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "hello");
	ht_result_free(&r);

	/* Limits and streaming behave the same through TLS. */
	char *big = malloc(1000001);
	memset(big, 'q', 1000000);
	big[1000000] = '\0';
	ht_request(f.loop, &ep, "POST", "/small", big, NULL, &r);
	CHECK_INT(r.status, 413);
	ht_result_free(&r);
	free(big);
	ht_request(f.loop, &ep, "GET", "/sse", NULL, NULL, &r);
	CHECK_INT(ht_count(&r.body, "\"type\":\"tick\""), 3);
	ht_result_free(&r);

	/* By IP literal: the IP-address SAN is checked. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f.port);
	CHECK(http_endpoint_parse(&ep, url, NULL, 0, &e) == 0);
	ep.tls = ccfg;
	ht_request(f.loop, &ep, "GET", "/items/9/logs", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body.data, "id=9 cursor=");
	ht_result_free(&r);

	/* A wrong name and a missing client certificate both fail. */
	snprintf(ep.server_name, sizeof(ep.server_name), "other.example");
	ht_request(f.loop, &ep, "GET", "/hello", NULL, NULL, &r);
	CHECK(r.result < 0);
	ht_result_free(&r);
	snprintf(ep.server_name, sizeof(ep.server_name), "localhost");
	ep.tls = anon;
	ht_request(f.loop, &ep, "GET", "/hello", NULL, NULL, &r);
	CHECK(r.result < 0);
	CHECK_INT(r.status, 0);
	ht_result_free(&r);
	fixture_free(&f);
out:
	tls_config_free(scfg);
	tls_config_free(ccfg);
	tls_config_free(anon);
}
