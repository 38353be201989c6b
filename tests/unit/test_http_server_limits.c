// SPDX-License-Identifier: Apache-2.0
/* The server at its limits: eviction of strangers when full, trusted
 * connections kept, 503 when everyone is mid-request, fd exhaustion without
 * spinning, and output back-pressure that always wakes its producer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http_server.h"
#include "listener.h"
#include "sock.h"
#include "unit.h"

struct lim {
	struct ev_loop *loop;
	struct http_server *srv;
	int port;
};

static struct http_conn *hello_conn;

static void h_hello(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	hello_conn = c;
	http_resp_send(c, 200, "text/plain", "hello", 5);
}

static void h_slow_upload(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	(void)c; /* never reads the body: the request stays in progress */
}

static struct http_conn *big_conn;
static int big_drained;

static void big_drain(struct http_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	big_drained++;
}

/* 4 MiB queued at once, then it waits for on_drain (a paused producer). */
static void h_big(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	static char chunk[64 * 1024];
	memset(chunk, 'b', sizeof(chunk));
	http_resp_begin_stream(c, 200, "application/octet-stream");
	for (int i = 0; i < 64; i++)
		http_resp_write(c, chunk, sizeof(chunk));
	big_conn = c;
	http_conn_on_drain(c, big_drain, NULL);
}

static bool trust_key(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *k = http_req_header(req, "X-Key");
	if (k && !strcmp(k, "ok"))
		http_conn_trust(c);
	return true;
}

/* sndbuf > 0: the server's sockets keep at most that much in the kernel, so
 * what a slow reader leaves behind shows up in the server's own queue. */
static void lim_init_sndbuf(struct lim *l, size_t max_conns, int sndbuf)
{
	struct err e = {0};
	struct http_server_config cfg = {.max_conns = max_conns};
	memset(l, 0, sizeof(*l));
	l->loop = ev_loop_new(&e);
	l->srv = http_server_new(l->loop, &cfg, &e);
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	CHECK(lfd >= 0);
	if (sndbuf) /* accepted sockets inherit it */
		setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	l->port = sock_local_port(lfd);
	CHECK(http_server_listen_fd(l->srv, lfd, &e) == 0);
	struct http_route_opts stream = {.stream_body = true};
	http_server_route(l->srv, "GET", "/hello", h_hello, l, NULL);
	http_server_route(l->srv, "PUT", "/slow", h_slow_upload, l, &stream);
	http_server_route(l->srv, "GET", "/big", h_big, l, NULL);
	http_server_set_filter(l->srv, trust_key, l);
}

static void lim_init(struct lim *l, size_t max_conns)
{
	lim_init_sndbuf(l, max_conns, 0);
}

static void lim_free(struct lim *l)
{
	http_server_free(l->srv);
	ev_loop_free(l->loop);
}

static void pump(struct lim *l, int turns)
{
	for (int i = 0; i < turns; i++)
		ev_run_once(l->loop, 2);
}

static int dial(struct lim *l)
{
	struct err e = {0};
	int fd = sock_connect_tcp("127.0.0.1", (uint16_t)l->port, &e);
	CHECK(fd >= 0);
	pump(l, 10);
	return fd;
}

static void say(int fd, const char *s)
{
	CHECK_INT(write(fd, s, strlen(s)), (long)strlen(s));
}

/* Reads what has arrived (after pumping the server); "" if nothing, "EOF" if closed. */
static void hear(struct lim *l, int fd, char *out, size_t cap)
{
	pump(l, 10);
	ssize_t n = read(fd, out, cap - 1);
	if (n == 0)
		snprintf(out, cap, "EOF");
	else
		out[n > 0 ? n : 0] = '\0';
}

static const char get_hello[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
static const char get_trusted[] = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Key: ok\r\n\r\n";

TEST(http_server_full_evicts_strangers_first)
{
	struct lim l;
	char got[512];
	lim_init(&l, 3);
	int trusted = dial(&l); /* the oldest, but it authenticated */
	say(trusted, get_trusted);
	hear(&l, trusted, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
	int idle = dial(&l);			/* a stranger that says nothing */
	int slow = dial(&l);			/* a stranger trickling its head */
	say(slow, "GET /hello HTTP/1.1\r\nHo"); /* the newest of the two */
	pump(&l, 5);
	CHECK_INT(http_server_conn_count(l.srv), 3);

	/* Full: the next one takes the oldest stranger's place. */
	int n1 = dial(&l);
	say(n1, get_hello);
	hear(&l, n1, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
	hear(&l, idle, got, sizeof(got));
	CHECK_STR(got, "EOF");
	CHECK_INT(http_server_evicted(l.srv), 1);
	/* Then the next stranger (the slow head); n1 went idle but is newer. */
	int n2 = dial(&l);
	say(n2, get_hello);
	hear(&l, n2, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
	hear(&l, slow, got, sizeof(got));
	CHECK_STR(got, "EOF");
	/* The trusted keep-alive connection survived both and still works. */
	say(trusted, get_trusted);
	hear(&l, trusted, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
	CHECK_INT(http_server_evicted(l.srv), 2);
	close(trusted);
	close(idle);
	close(slow);
	close(n1);
	close(n2);
	lim_free(&l);
}

TEST(http_server_full_of_requests_answers_503)
{
	struct lim l;
	char got[512];
	lim_init(&l, 2);
	int a = dial(&l), b = dial(&l);
	/* Both mid-request (bodies announced, never sent): nobody to evict. */
	say(a, "PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
	say(b, "PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
	pump(&l, 5);
	int c = dial(&l);
	hear(&l, c, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 503 ", 13) == 0);
	CHECK(strstr(got, "too many open connections") != NULL);
	CHECK_INT(http_server_evicted(l.srv), 0);
	close(a);
	close(b);
	close(c);
	lim_free(&l);
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int raw_connect(int fd, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	return r == 0 || errno == EINPROGRESS ? 0 : -errno;
}

/* At EMFILE the listener pauses instead of spinning, tells a waiting client
 * 503 through its reserve fd, and serves again once fds are free. */
TEST(http_server_fd_exhaustion_pauses)
{
	enum { CLIENTS = 24 };
	struct lim l;
	struct rlimit saved, low;
	char got[512];
	int fds[CLIENTS];
	lim_init(&l, 1024);
	/* The client sockets exist before the limit drops: connecting needs no new fd,
	 * so the server side alone runs out and the rest wait in its backlog. */
	for (int i = 0; i < CLIENTS; i++)
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
	int probe = dup(0);
	low = saved;
	low.rlim_cur = (rlim_t)probe + 4;
	close(probe);
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	for (int i = 0; i < CLIENTS; i++) {
		CHECK_INT(raw_connect(fds[i], l.port), 0);
		pump(&l, 2);
	}
	CHECK(listener_raise_fd_limit() > 0);	    /* back to the hard limit ... */
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0); /* ... and down again for the test */
	/* Clients wait in the backlog that cannot be accepted: 500 ms of loop.
	 * A spinning listener burns nearly all of it. */
	double t0 = cpu_seconds();
	for (int i = 0; i < 50; i++)
		ev_run_once(l.loop, 10);
	double spent = cpu_seconds() - t0;
	CHECK(spent < 0.15);
	/* Clients were told 503, or shed (strangers: they sent nothing), rather
	 * than left hanging. */
	int told = 0, shed = 0;
	for (int i = 0; i < CLIENTS; i++) {
		ssize_t r = read(fds[i], got, sizeof(got) - 1);
		if (r > 0) {
			got[r] = '\0';
			told += strncmp(got, "HTTP/1.1 503 ", 13) == 0;
		}
		shed += r == 0;
	}
	CHECK(told + shed >= 1);
	CHECK(http_server_evicted(l.srv) >= 1);
	CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
	for (int i = 0; i < CLIENTS; i++)
		close(fds[i]);
	pump(&l, 80); /* the pause ends (100 ms) */
	int c = dial(&l);
	say(c, get_hello);
	hear(&l, c, got, sizeof(got));
	CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
	close(c);
	lim_free(&l);
}

/* The producer waits for on_drain; a write of its own (a keep-alive ping)
 * then drains the queue inside the call, where no callback may run. The
 * loop must still tell it: no EPOLLOUT is coming any more. */
TEST(http_server_drain_after_inline_flush)
{
	struct lim l;
	static char sink[1 << 16];
	lim_init(&l, 8);
	big_conn = NULL;
	big_drained = 0;
	/* A small receive window keeps most of the answer queued in the server. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	CHECK_INT(raw_connect(fd, l.port), 0);
	pump(&l, 10);
	say(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	pump(&l, 5);
	CHECK(big_conn != NULL);
	if (!big_conn)
		goto out;
	CHECK(http_conn_out_pending(big_conn) > HTTP_OUT_LOW_WATER);
	/* Read it all without letting the loop run; flush only from inside calls. */
	for (int i = 0; i < 100000 && http_conn_out_pending(big_conn) > 0; i++) {
		while (read(fd, sink, sizeof(sink)) > 0)
			;
		http_resp_write(big_conn, "p", 1);
	}
	CHECK_INT(http_conn_out_pending(big_conn), 0);
	CHECK_INT(big_drained, 0);
	pump(&l, 3);
	CHECK_INT(big_drained, 1);
	http_resp_end(big_conn);
out:
	close(fd);
	lim_free(&l);
}

/* A client that pipelines many requests and reads nothing: the server stops
 * taking requests once answers worth HTTP_OUT_LOW_WATER wait, instead of
 * queueing up to the 8 MiB cap (and cutting an answer there); once the client
 * reads, every request is answered, none dropped. */
TEST(http_server_pipelining_waits_for_the_reader)
{
	enum { N = 20000 };
	struct lim l;
	static char sink[1 << 16];
	lim_init_sndbuf(&l, 8, 4096);
	hello_conn = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	CHECK_INT(raw_connect(fd, l.port), 0);
	pump(&l, 10);
	struct buf reqs;
	buf_init(&reqs, 0);
	for (int i = 0; i < N; i++)
		buf_puts(&reqs, get_hello);
	size_t sent = 0, answers = 0;
	char tail[16] = "";
	for (int round = 0; round < 400 && sent < reqs.len; round++) {
		ssize_t w = write(fd, buf_head(&reqs) + sent, reqs.len - sent);
		if (w > 0)
			sent += (size_t)w;
		pump(&l, 2);
	}
	CHECK(hello_conn != NULL);
	if (hello_conn) { /* bounded by one more answer past the mark */
		size_t pending = http_conn_out_pending(hello_conn);
		if (pending >= HTTP_OUT_LOW_WATER + 1024)
			unit_fail(__FILE__, __LINE__, "%zu bytes of answers queued", pending);
	}
	/* Now read everything, counting answers. */
	for (int round = 0; round < 400000 && answers < N; round++) {
		if (sent < reqs.len) {
			ssize_t w = write(fd, buf_head(&reqs) + sent, reqs.len - sent);
			if (w > 0)
				sent += (size_t)w;
		}
		ssize_t r = read(fd, sink, sizeof(sink) - 1);
		if (r > 0) {
			/* count "hello" bodies, across read boundaries too */
			struct buf w;
			buf_init(&w, 0);
			buf_puts(&w, tail);
			buf_append(&w, sink, (size_t)r);
			buf_cstr(&w);
			for (const char *p = buf_head(&w); (p = strstr(p, "\r\n\r\nhello")); p += 9)
				answers++;
			size_t keep = w.len < 8 ? w.len : 8;
			memcpy(tail, buf_head(&w) + w.len - keep, keep);
			tail[keep] = '\0';
			buf_free(&w);
		}
		ev_run_once(l.loop, r > 0 ? 0 : 2);
	}
	CHECK_INT(answers, N);
	buf_free(&reqs);
	close(fd);
	lim_free(&l);
}

/* The cap fits the fd limit, with HTTP_FD_HEADROOM left for what requests
 * open: strangers are evicted at the cap long before the process runs out. */
TEST(http_server_cap_fits_the_fd_limit)
{
	struct rlimit saved, low;
	CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
	low = saved;
	low.rlim_cur = 100; /* under 2 x headroom: a quarter of it, 25 */
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	struct lim l;
	lim_init(&l, 1024);
	CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
	int fds[30];
	for (int i = 0; i < 30; i++)
		fds[i] = dial(&l);
	pump(&l, 10);
	CHECK_INT(http_server_conn_count(l.srv), 25);
	CHECK_INT(http_server_evicted(l.srv), 5);
	for (int i = 0; i < 30; i++)
		close(fds[i]);
	lim_free(&l);
}
