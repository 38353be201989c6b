// SPDX-License-Identifier: Apache-2.0
/* The proxy engine: its header rules, then whole exchanges through a front
 * server to an upstream server, both on the test's loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_proxy.h"
#include "http_proxy_int.h"
#include "httptest.h"
#include "sock.h"
#include "unit.h"

/* --- header rules ----------------------------------------------------------- */

static struct http_header hdr(const char *name, const char *value)
{
	struct http_header h = {
		.name = name, .name_len = strlen(name), .value = value, .value_len = strlen(value)};
	return h;
}

static bool has_line(const struct buf *b, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return memmem(buf_head(b), b->len, want, strlen(want)) != NULL;
}

static bool has_name(const struct buf *b, const char *name)
{
	char want[128];
	snprintf(want, sizeof(want), "\r\n%s:", name);
	return memmem(buf_head(b), b->len, want, strlen(want)) != NULL;
}

TEST(http_proxy_request_head_rules)
{
	struct http_header hs[] = {
		hdr("Host", "front:8080"),
		hdr("Connection", "keep-alive, X-Secret"),
		hdr("X-Secret", "hop"),
		hdr("Keep-Alive", "timeout=5"),
		hdr("TE", "trailers"),
		hdr("X-Forwarded-For", "1.2.3.4"),
		hdr("Content-Length", "5"),
		hdr("Expect", "100-continue"),
		hdr("Authorization", "Bearer x"),
		hdr("X-App", "kept"),
		hdr("X-Forwarded-Proto", "https"),
		hdr("x-token", "from-the-client"),
	};
	struct http_req req = {.method = "POST",
			       .headers = hs,
			       .num_headers = sizeof(hs) / sizeof(hs[0]),
			       .peer = "10.0.0.9:5555",
			       .body_kind = HTTP_BODY_LENGTH,
			       .content_length = 5};
	static const char *const drop[] = {"Authorization", NULL};
	static const char *const set[] = {"X-Token", "from-the-proxy", NULL};
	struct http_proxy_target t = {.addr = "127.0.0.1",
				      .port = 80,
				      .path = "/a%2Fb",
				      .query = "q=1",
				      .host = "10.1.1.1:80",
				      .drop = drop,
				      .set = set};
	struct buf b;
	buf_init(&b, 0);
	CHECK(http_proxy_request_head(&b, &req, &t, false) == 0);
	buf_cstr(&b);
	CHECK(strncmp(buf_head(&b), "POST /a%2Fb?q=1 HTTP/1.1\r\n", 26) == 0);
	CHECK(has_line(&b, "Host: 10.1.1.1:80"));
	CHECK(!has_line(&b, "Host: front:8080"));
	CHECK(has_line(&b, "X-App: kept"));
	/* A header the proxy sets replaces the client's, whatever its case. */
	CHECK(has_line(&b, "X-Token: from-the-proxy"));
	CHECK(!has_line(&b, "x-token: from-the-client"));
	CHECK(has_line(&b, "X-Forwarded-For: 1.2.3.4, 10.0.0.9"));
	CHECK(has_line(&b, "X-Forwarded-Proto: https")); /* the first hop's, kept */
	CHECK(has_line(&b, "X-Forwarded-Host: front:8080"));
	CHECK(has_line(&b, "Content-Length: 5"));
	CHECK(!has_name(&b, "X-Secret") && !has_name(&b, "Keep-Alive") && !has_name(&b, "TE"));
	CHECK(!has_name(&b, "Connection") && !has_name(&b, "Expect") &&
	      !has_name(&b, "Authorization"));
	CHECK(b.len > 4 && memcmp(buf_head(&b) + b.len - 4, "\r\n\r\n", 4) == 0);

	/* Upgrade: Connection and Upgrade are rebuilt; no X-Forwarded-Host without a Host. */
	struct http_header up[] = {hdr("Connection", "Upgrade"), hdr("Upgrade", "websocket")};
	struct http_req wreq = {.method = "GET",
				.headers = up,
				.num_headers = 2,
				.peer = "[::1]:9",
				.upgrade = true};
	struct http_proxy_target wt = {.addr = "127.0.0.1", .port = 80, .path = "/ws"};
	buf_reset(&b);
	CHECK(http_proxy_request_head(&b, &wreq, &wt, true) == 0);
	CHECK(has_line(&b, "Connection: Upgrade") && has_line(&b, "Upgrade: websocket"));
	CHECK(has_line(&b, "X-Forwarded-For: ::1"));
	CHECK(has_line(&b, "X-Forwarded-Proto: http"));
	CHECK(!has_name(&b, "X-Forwarded-Host"));

	/* A head past the buffer's cap is refused, not cut. */
	struct buf small;
	buf_init(&small, 64);
	CHECK(http_proxy_request_head(&small, &req, &t, false) < 0);
	buf_free(&small);
	buf_free(&b);
}

TEST(http_proxy_hop_by_hop_list)
{
	CHECK(http_proxy_hop_by_hop("transfer-encoding", 17, NULL, 0));
	CHECK(http_proxy_hop_by_hop("Proxy-Authorization", 19, NULL, 0));
	CHECK(http_proxy_hop_by_hop("Trailer", 7, NULL, 0));
	CHECK(!http_proxy_hop_by_hop("Trailers", 8, NULL, 0));
	CHECK(http_proxy_hop_by_hop("X-A", 3, "close, x-a", 10));
	CHECK(!http_proxy_hop_by_hop("X-A", 3, "close", 5));
	/* Every fixed name in any case, and names of the same lengths that are not. */
	static const char *const hop[] = {"connection",
					  "KEEP-ALIVE",
					  "Proxy-Connection",
					  "proxy-authenticate",
					  "Proxy-Authorization",
					  "te",
					  "trailer",
					  "Transfer-Encoding",
					  "UPGRADE"};
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		CHECK(http_proxy_hop_by_hop(hop[i], strlen(hop[i]), NULL, 0));
	static const char *const end[] = {"Tx",
					  "Upgrades",
					  "X-Trailer",
					  "Connectiox",
					  "Keep-Alivf",
					  "Proxy-Connectio",
					  "Content-Length",
					  "Proxy-Authenticatf",
					  "Transfer-Encodinh"};
	for (size_t i = 0; i < sizeof(end) / sizeof(end[0]); i++)
		CHECK(!http_proxy_hop_by_hop(end[i], strlen(end[i]), "keep-alive, close", 17));
	CHECK(http_proxy_hop_by_hop("x-secret", 8, "keep-alive, X-Secret", 20));
	CHECK(!http_proxy_hop_by_hop("x-secre", 7, "keep-alive, X-Secret", 20));
}

/* --- exchanges ---------------------------------------------------------------- */

struct px_fixture {
	struct ev_loop *loop;
	struct http_server *front, *up;
	struct http_proxy *px;
	int front_port, up_port, target_port;
	struct http_endpoint ep;
	size_t counted;
	struct http_conn *silent;
	int errors_seen;
	enum http_proxy_failure last_why;
};

static void up_hello(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *xff = http_req_header(req, "X-Forwarded-For");
	char body[128];
	int n = snprintf(body, sizeof(body), "hi %s", xff ? xff : "-");
	http_resp_header(c, "Connection", "X-Drop"); /* named hop-by-hop: must not pass */
	http_resp_header(c, "X-Drop", "1");
	http_resp_header(c, "X-Keep", "1");
	http_resp_send(c, 200, "text/plain", body, (size_t)n);
}

static void up_silent(struct http_conn *c, struct http_req *req, void *arg)
{
	struct px_fixture *f = arg;
	(void)req;
	f->silent = c; /* never answered */
}

static void count_body(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct px_fixture *f = arg;
	(void)data;
	f->counted += len;
	if (done) {
		char out[32];
		int n = snprintf(out, sizeof(out), "%zu", f->counted);
		http_resp_send(c, 200, "text/plain", out, (size_t)n);
	}
}

static void up_count(struct http_conn *c, struct http_req *req, void *arg)
{
	struct px_fixture *f = arg;
	(void)req;
	f->counted = 0;
	http_conn_read_body(c, count_body, f);
}

static void up_big(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	static char big[2 * 1024 * 1024];
	memset(big, 'z', sizeof(big));
	http_resp_send(c, 200, "application/octet-stream", big, sizeof(big));
}

/* An upstream that writes 6 MiB in 20 KB pieces as fast as its own queue allows. */
static struct {
	struct http_conn *c;
	struct ev_timer t;
	size_t sent;
	struct ev_loop *loop;
} drip;

static void drip_gone(struct http_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	drip.c = NULL;
	ev_timer_stop(drip.loop, &drip.t);
}

static void drip_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	static char piece[20000];
	(void)arg;
	memset(piece, 'd', sizeof(piece));
	if (!drip.c)
		return;
	if (http_conn_out_pending(drip.c) < 512 * 1024) {
		http_resp_write(drip.c, piece, sizeof(piece));
		drip.sent += sizeof(piece);
	}
	if (drip.sent >= 6 * 1024 * 1024) {
		struct http_conn *c = drip.c;
		drip.c = NULL;
		http_resp_end(c);
		return;
	}
	ev_timer_start(loop, t, 1);
}

static void up_drip(struct http_conn *c, struct http_req *req, void *arg)
{
	struct px_fixture *f = arg;
	(void)req;
	drip.c = c;
	drip.sent = 0;
	drip.loop = f->loop;
	http_conn_on_close(c, drip_gone, NULL);
	http_resp_begin_stream(c, 200, "application/octet-stream");
	ev_timer_init(&drip.t, drip_tick, NULL);
	ev_timer_start(f->loop, &drip.t, 1);
}

static void front_forward(struct http_conn *c, struct http_req *req, void *arg)
{
	struct px_fixture *f = arg;
	const char *rest = http_req_param(req, "rest");
	char path[256];
	snprintf(path, sizeof(path), "/%s", rest ? rest : "");
	struct http_proxy_target t = {.addr = "127.0.0.1",
				      .port = (uint16_t)f->target_port,
				      .path = path,
				      .query = req->query};
	http_proxy_forward(f->px, c, req, &t);
}

static void on_px_error(struct http_conn *c, int status, enum http_proxy_failure why, void *arg)
{
	struct px_fixture *f = arg;
	f->errors_seen++;
	f->last_why = why;
	http_resp_error(c, status, why == HTTP_PROXY_TIMEOUT ? "TIMEOUT" : "BAD_GATEWAY",
			"upstream");
}

static void px_fixture_init_pool(struct px_fixture *f, uint32_t io_timeout_ms, uint32_t up_idle_ms,
				 uint32_t pool_idle_ms)
{
	struct err e = {0};
	memset(f, 0, sizeof(*f));
	f->loop = ev_loop_new(&e);
	struct http_server_config upcfg = {.idle_timeout_ms = up_idle_ms};
	f->up = http_server_new(f->loop, &upcfg, &e);
	f->front = http_server_new(f->loop, NULL, &e);
	int ul = sock_listen_tcp("127.0.0.1", 0, &e), fl = sock_listen_tcp("127.0.0.1", 0, &e);
	f->up_port = f->target_port = sock_local_port(ul);
	f->front_port = sock_local_port(fl);
	CHECK(http_server_listen_fd(f->up, ul, &e) == 0);
	CHECK(http_server_listen_fd(f->front, fl, &e) == 0);
	struct http_route_opts stream = {.stream_body = true};
	http_server_route(f->up, "GET", "/hello", up_hello, f, NULL);
	http_server_route(f->up, "GET", "/silent", up_silent, f, NULL);
	http_server_route(f->up, "*", "/count", up_count, f, &stream);
	http_server_route(f->up, "*", "/big", up_big, f, NULL);
	http_server_route(f->up, "GET", "/drip", up_drip, f, NULL);
	http_server_route(f->front, "*", "/p/*rest", front_forward, f, &stream);
	struct http_proxy_config cfg = {.io_timeout_ms = io_timeout_ms,
					.pool_idle_ms = pool_idle_ms,
					.on_error = on_px_error,
					.arg = f};
	f->px = http_proxy_new(f->loop, &cfg);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->front_port);
	CHECK(http_endpoint_parse(&f->ep, url, NULL, 0, &e) == 0);
}

static void px_fixture_init(struct px_fixture *f, uint32_t io_timeout_ms)
{
	px_fixture_init_pool(f, io_timeout_ms, 150, 0);
}

static void px_fixture_free(struct px_fixture *f)
{
	http_server_free(f->front);
	http_server_free(f->up);
	http_proxy_free(f->px);
	ev_loop_free(f->loop);
}

TEST(http_proxy_relays_and_reuses_the_upstream)
{
	struct px_fixture f;
	px_fixture_init(&f, 0);
	for (int i = 0; i < 3; i++) {
		struct ht_result r;
		ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
		CHECK_INT(r.status, 200);
		CHECK(r.body.len >= 12 && strncmp(buf_head(&r.body), "hi 127.0.0.1", 12) == 0);
		ht_result_free(&r);
	}
	/* Three exchanges, one upstream connection (keep-alive pool). */
	CHECK_INT(http_server_conn_count(f.up), 1);
	const char *rq = "GET /p/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct buf raw = ht_raw(f.loop, f.front_port, rq, strlen(rq), NULL, 0);
	CHECK(strstr(buf_head(&raw), "X-Keep: 1") != NULL);
	CHECK(strstr(buf_head(&raw), "X-Drop") == NULL);
	buf_free(&raw);
	/* The upstream closes its idle keep-alive connection: the next request still works. */
	bool never = false;
	ht_run_until(f.loop, &never, 400);
	CHECK_INT(http_server_conn_count(f.up), 0);
	struct ht_result r;
	ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	ht_result_free(&r);
	px_fixture_free(&f);
}

/* A pooled connection is dropped idle_ms after it was last given back, not
 * after it was first pooled (the idle timer is lazy). */
TEST(http_proxy_pool_idle_counts_from_the_last_use)
{
	struct px_fixture f;
	struct ht_result r;
	bool never = false;
	px_fixture_init_pool(&f, 0, 10000, 600);
	ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	ht_result_free(&r);
	ht_run_until(f.loop, &never, 300);
	ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	ht_result_free(&r);
	CHECK_INT(http_server_conn_count(f.up), 1); /* reused */
	ht_run_until(f.loop, &never, 400);
	CHECK_INT(http_server_conn_count(f.up), 1); /* past the first deadline only */
	ht_run_until(f.loop, &never, 700);
	CHECK_INT(http_server_conn_count(f.up), 0);
	px_fixture_free(&f);
}

/* An upstream that answers without a length and closes at once: the answer
 * and the FIN arrive together, in one edge, and the FIN ends the body. */
struct closer {
	struct ev_loop *loop;
	int lfd, fd;
	char req[4096];
	size_t len;
};

static void closer_read(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct closer *k = arg;
	(void)events;
	ssize_t n = recv(fd, k->req + k->len, sizeof(k->req) - 1 - k->len, 0);
	if (n > 0)
		k->len += (size_t)n;
	k->req[k->len] = '\0';
	if (n > 0 && !strstr(k->req, "\r\n\r\n"))
		return;
	static const char answer[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close";
	if (n > 0)
		CHECK(send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL) ==
		      (ssize_t)(sizeof(answer) - 1));
	ev_del(loop, fd);
	close(fd);
	k->fd = -1;
}

static void closer_accept(struct ev_loop *loop, int lfd, uint32_t events, void *arg)
{
	struct closer *k = arg;
	(void)events;
	int fd = sock_accept(lfd);
	if (fd < 0)
		return;
	k->fd = fd;
	k->len = 0;
	ev_add(loop, fd, EPOLLIN, closer_read, k);
}

TEST(http_proxy_answer_and_fin_in_one_edge)
{
	struct px_fixture f;
	struct err e = {0};
	struct closer k = {.fd = -1};
	px_fixture_init(&f, 0);
	k.loop = f.loop;
	k.lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	CHECK(k.lfd >= 0);
	f.target_port = sock_local_port(k.lfd);
	CHECK(ev_add(f.loop, k.lfd, EPOLLIN, closer_accept, &k) == 0);
	for (int i = 0; i < 3; i++) {
		struct ht_result r;
		ht_request(f.loop, &f.ep, "GET", "/p/x", NULL, NULL, &r);
		CHECK(r.done);
		CHECK_INT(r.status, 200);
		CHECK_SPAN(buf_head(&r.body), r.body.len, "until-close");
		ht_result_free(&r);
	}
	ev_del(f.loop, k.lfd);
	close(k.lfd);
	px_fixture_free(&f);
}

TEST(http_proxy_502_504_and_error_mapping)
{
	struct px_fixture f;
	px_fixture_init(&f, 300);
	struct ht_result r;
	ht_request(f.loop, &f.ep, "GET", "/p/silent", NULL, NULL, &r);
	CHECK_INT(r.status, 504);
	CHECK_INT(f.last_why, HTTP_PROXY_TIMEOUT);
	ht_result_free(&r);
	/* Nothing listens there any more: connect refused, 502. */
	int l = sock_listen_tcp("127.0.0.1", 0, NULL);
	f.target_port = sock_local_port(l);
	close(l);
	ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
	CHECK_INT(r.status, 502);
	CHECK_INT(f.last_why, HTTP_PROXY_CONNECT);
	CHECK(strstr(buf_cstr(&r.body), "BAD_GATEWAY") != NULL);
	ht_result_free(&r);
	CHECK_INT(f.errors_seen, 2);
	px_fixture_free(&f);
}

TEST(http_proxy_streams_bodies_both_ways)
{
	struct px_fixture f;
	px_fixture_init(&f, 0);
	/* 1 MiB up, chunked by the client, counted by the upstream as it streams. */
	size_t n = 1024 * 1024;
	struct buf req;
	buf_init(&req, 0);
	buf_puts(&req, "PUT /p/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		       "chunked\r\nConnection: close\r\n\r\n");
	char *chunk = malloc(65536);
	memset(chunk, 'u', 65536);
	for (size_t sent = 0; sent < n; sent += 65536) {
		buf_printf(&req, "%x\r\n", 65536);
		buf_append(&req, chunk, 65536);
		buf_puts(&req, "\r\n");
	}
	buf_puts(&req, "0\r\n\r\n");
	struct buf reply = ht_raw(f.loop, f.front_port, buf_head(&req), req.len, NULL, 0);
	CHECK(strstr(buf_cstr(&reply), "\r\n\r\n1048576") != NULL);
	buf_free(&reply);
	/* 2 MiB down. */
	struct ht_result r;
	ht_request(f.loop, &f.ep, "GET", "/p/big", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.body.len, 2 * 1024 * 1024);
	ht_result_free(&r);
	free(chunk);
	buf_free(&req);
	px_fixture_free(&f);
}

TEST(http_proxy_client_reset_mid_response)
{
	struct px_fixture f;
	px_fixture_init(&f, 0);
	for (int i = 0; i < 20; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)f.front_port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
		const char *rq = "GET /p/big HTTP/1.1\r\nHost: x\r\n\r\n";
		CHECK(send(fd, rq, strlen(rq), 0) == (ssize_t)strlen(rq));
		bool never = false;
		ht_run_until(f.loop, &never, i % 4 * 5);
		struct linger lg = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd); /* RST, at a different point each time */
		ht_run_until(f.loop, &never, 5);
	}
	bool never = false;
	ht_run_until(f.loop, &never, 100);
	CHECK_INT(http_server_conn_count(f.front), 0);
	struct ht_result r;
	ht_request(f.loop, &f.ep, "GET", "/p/hello", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	ht_result_free(&r);
	px_fixture_free(&f);
}

/* --- an upstream that answers with canned bytes in one write ----------------- */

struct canned {
	int lfd, cfd;
	const char *resp;
	struct buf got;
	bool answered;
};

static void canned_read(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct canned *k = arg;
	(void)events;
	char tmp[4096];
	ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n <= 0) {
		ev_del(loop, fd);
		return;
	}
	buf_append(&k->got, tmp, (size_t)n);
	if (!k->answered && memmem(buf_head(&k->got), k->got.len, "\r\n\r\n", 4)) {
		k->answered = true;
		CHECK(send(fd, k->resp, strlen(k->resp), MSG_NOSIGNAL) == (ssize_t)strlen(k->resp));
	}
}

static void canned_accept(struct ev_loop *loop, int lfd, uint32_t events, void *arg)
{
	struct canned *k = arg;
	(void)events;
	int fd = sock_accept(lfd);
	if (fd < 0)
		return;
	if (k->cfd >= 0) {
		ev_del(loop, k->cfd);
		close(k->cfd);
	}
	k->cfd = fd;
	k->answered = false;
	buf_reset(&k->got);
	ev_add(loop, fd, EPOLLIN, canned_read, k);
}

/* 1xx heads and the final answer in one write (as an upstream answering
 * Expect: 100-continue may send them): the final head is not left waiting. */
TEST(http_proxy_and_client_interim_and_final_head_in_one_read)
{
	struct px_fixture f;
	px_fixture_init(&f, 5000);
	struct canned k = {.cfd = -1,
			   .resp = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
	buf_init(&k.got, 0);
	k.lfd = sock_listen_tcp("127.0.0.1", 0, NULL);
	CHECK(ev_add(f.loop, k.lfd, EPOLLIN, canned_accept, &k) == 0);
	f.target_port = sock_local_port(k.lfd);
	uint64_t t0 = ev_clock_ms();
	struct ht_result r;
	ht_request(f.loop, &f.ep, "GET", "/p/x", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(buf_cstr(&r.body), "ok");
	CHECK(ev_clock_ms() - t0 < 2000); /* not the 5 s upstream timeout */
	ht_result_free(&r);
	/* The client on its own, straight to the upstream. */
	struct http_endpoint ep;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.target_port);
	CHECK(http_endpoint_parse(&ep, url, NULL, 0, NULL) == 0);
	ht_request(f.loop, &ep, "GET", "/y", NULL, NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(buf_cstr(&r.body), "ok");
	ht_result_free(&r);
	ev_del(f.loop, k.lfd);
	close(k.lfd);
	if (k.cfd >= 0) {
		ev_del(f.loop, k.cfd);
		close(k.cfd);
	}
	buf_free(&k.got);
	px_fixture_free(&f);
}

/* A client that falls behind and then reads fast gets the whole body: reading
 * the upstream resumes on its drain, wherever the read loop had stopped. */
TEST(http_proxy_slow_reader_gets_everything)
{
	struct px_fixture f;
	px_fixture_init(&f, 0);
	for (int round = 0; round < 3; round++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int small = 16384;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)f.front_port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
		const char *rq = "GET /p/drip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		CHECK(send(fd, rq, strlen(rq), 0) == (ssize_t)strlen(rq));
		bool never = false;
		ht_run_until(f.loop, &never, 500); /* the backlog builds */
		size_t got = 0;
		char tmp[8192];
		uint64_t t0 = ev_clock_ms();
		bool eof = false;
		while (!eof && ev_clock_ms() - t0 < 8000) {
			for (int k = 0; k < 4; k++) {
				ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
				if (n == 0)
					eof = true;
				if (n <= 0)
					break;
				got += (size_t)n;
			}
			ev_run_once(f.loop, 0);
		}
		CHECK(eof);
		CHECK(got > 6 * 1024 * 1024); /* the body and its chunk framing */
		close(fd);
		ht_run_until(f.loop, &never, 20);
	}
	px_fixture_free(&f);
}

/* A proxied HEAD keeps the connection: the next request on it is answered. */
TEST(http_proxy_head_keeps_the_connection)
{
	struct px_fixture f;
	px_fixture_init(&f, 0);
	const char *rq =
		"HEAD /p/big HTTP/1.1\r\nHost: x\r\n\r\nGET /p/hello HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\n\r\n";
	struct buf b = ht_raw(f.loop, f.front_port, rq, strlen(rq), NULL, 0);
	CHECK(strstr(buf_head(&b), "Content-Length: 2097152") != NULL);
	CHECK(strstr(buf_head(&b), "hi 127.0.0.1") != NULL);
	CHECK(strstr(buf_head(&b), "zzzz") == NULL); /* no body for HEAD */
	buf_free(&b);
	px_fixture_free(&f);
}
