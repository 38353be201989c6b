// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "splice.h"
#include "unit.h"

struct done_state {
	bool done;
	int result;
	uint64_t ab, ba;
};

static void on_done(int result, uint64_t ab, uint64_t ba, void *arg)
{
	struct done_state *d = arg;
	d->done = true;
	d->result = result;
	d->ab = ab;
	d->ba = ba;
}

static void run(struct ev_loop *loop, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;
	while (ev_clock_ms() < end)
		ev_run_once(loop, 5);
}

TEST(splice_both_ways_backpressure_halfclose)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int a[2], b[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
	struct http_detached da = {.t = transport_plain_new(a[1])},
			     db = {.t = transport_plain_new(b[0])};
	buf_init(&da.in, 0);
	buf_init(&da.out, 0);
	buf_init(&db.in, 0);
	buf_init(&db.out, 0);
	buf_puts(&da.in, "early-"); /* read from A before the splice: goes to B first */
	buf_puts(&da.out, "HTTP/1.1 101 Switching Protocols\r\n\r\n"); /* queued for A */
	struct done_state d = {0};
	struct err e = {0};
	CHECK(splice_start(loop, &da, &db, 0, on_done, &d, &e) != NULL);

	/* A -> B: 2 MiB written while B's reader sleeps; memory stays bounded. */
	size_t total = 2 * 1024 * 1024;
	char *src = malloc(total), *dst = malloc(total + 64);
	for (size_t i = 0; i < total; i++)
		src[i] = (char)(i * 7 + 3);
	fcntl(a[0], F_SETFL, O_NONBLOCK);
	fcntl(b[1], F_SETFL, O_NONBLOCK);
	size_t sent = 0, got = 0;
	uint64_t end = ev_clock_ms() + 5000;
	int blocked = 0;
	while (sent < total && blocked < 20 && ev_clock_ms() < end) {
		ssize_t n = write(a[0], src + sent, total - sent);
		if (n > 0) {
			sent += (size_t)n;
			blocked = 0;
		} else if (errno == EAGAIN) {
			blocked++; /* the splicer stopped reading: back-pressure */
		}
		ev_run_once(loop, 2);
	}
	CHECK(sent < total); /* the writer was held back, memory stayed bounded */
	end = ev_clock_ms() + 5000;
	while (got < total + 6 && ev_clock_ms() < end) {
		ssize_t n = read(b[1], dst + got, total + 64 - got);
		if (n > 0)
			got += (size_t)n;
		if (sent < total) {
			ssize_t w = write(a[0], src + sent, total - sent);
			if (w > 0)
				sent += (size_t)w;
		}
		ev_run_once(loop, 1);
	}
	CHECK_INT(got, total + 6);
	CHECK(memcmp(dst, "early-", 6) == 0);
	CHECK(memcmp(dst + 6, src, total) == 0);

	/* B -> A, after the queued 101 head. */
	char head[64] = "";
	CHECK_INT(write(b[1], "pong", 4), 4);
	run(loop, 20);
	ssize_t n = read(a[0], head, sizeof(head) - 1);
	CHECK(n > 0);
	head[n > 0 ? n : 0] = '\0';
	CHECK_STR(head, "HTTP/1.1 101 Switching Protocols\r\n\r\npong");

	/* Half-close from A reaches B as EOF; B keeps talking; then B closes. */
	shutdown(a[0], SHUT_WR);
	run(loop, 20);
	CHECK_INT(read(b[1], head, sizeof(head)), 0);
	CHECK(!d.done);
	CHECK_INT(write(b[1], "late", 4), 4);
	run(loop, 20);
	CHECK_INT(read(a[0], head, sizeof(head)), 4);
	close(b[1]);
	run(loop, 20);
	CHECK(d.done);
	CHECK_INT(d.result, 0);
	CHECK_INT(d.ab, total + 0);
	CHECK_INT(d.ba, 8);
	close(a[0]);
	free(src);
	free(dst);
	ev_loop_free(loop);
}

TEST(splice_idle_timeout)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int a[2], b[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
	struct http_detached da = {.t = transport_plain_new(a[1])},
			     db = {.t = transport_plain_new(b[0])};
	buf_init(&da.in, 0);
	buf_init(&da.out, 0);
	buf_init(&db.in, 0);
	buf_init(&db.out, 0);
	struct done_state d = {0};
	CHECK(splice_start(loop, &da, &db, 50, on_done, &d, NULL) != NULL);
	run(loop, 200);
	CHECK(d.done);
	CHECK_INT(d.result, -ETIMEDOUT);
	char c;
	CHECK_INT(read(a[0], &c, 1), 0); /* both sides closed */
	close(a[0]);
	close(b[1]);
	ev_loop_free(loop);
}

/* The plain transport: recv/send on sockets, read/write on pipes (learned from
 * the first ENOTSOCK), EAGAIN and EOF the same way on both. */
TEST(transport_plain_socket_and_pipe)
{
	int s[2], p[2];
	char buf[16];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	CHECK(pipe(p) == 0);
	struct transport *sa = transport_plain_new(s[0]), *sb = transport_plain_new(s[1]);
	struct transport *pr = transport_plain_new(p[0]), *pw = transport_plain_new(p[1]);
	CHECK_INT(transport_read(sb, buf, sizeof(buf)), -EAGAIN);
	CHECK_INT(transport_write(sa, "hello", 5), 5);
	CHECK_INT(transport_read(sb, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_INT(transport_read(pr, buf, sizeof(buf)), -EAGAIN);
	CHECK_INT(transport_write(pw, "pipe", 4), 4);
	CHECK_INT(transport_write(pw, "!", 1), 1);
	CHECK_INT(transport_read(pr, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "pipe!", 5) == 0);
	transport_close(sa);
	transport_close(pw);
	CHECK_INT(transport_read(sb, buf, sizeof(buf)), 0);
	CHECK_INT(transport_read(pr, buf, sizeof(buf)), 0);
	transport_close(sb);
	transport_close(pr);
}
