// SPDX-License-Identifier: Apache-2.0
/*
 * chaos: a hostile client mix for our HTTP servers. It keeps --conns
 * connections busy for --seconds, each running one exchange picked from a
 * profile (execd, api, gateway, egress): valid requests read to the end, requests cut
 * at a random byte, bodies cut midway, responses reset midway (RST), upgrades
 * reset after the 101, and garbage. For execd's /proxy it also serves the
 * upstream itself (--upstream): a 1 MiB body, a chunked body, a sink for
 * uploads and a WebSocket-like echo after a 101.
 *
 * It only ever talks to the loopback or namespace addresses it is given.
 * Output: one summary line; exit 1 if any connection was refused (the server
 * is down) or nothing succeeded.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCEN  32
#define MAX_CONNS 4096
#define UP_BIG	  (1024 * 1024)

struct scen {
	const char *name;
	char *req; /* the whole request, head and body */
	size_t len, head_len;
	bool upgrade;
};

enum act { A_FULL, A_CUT, A_BODY_CUT, A_RESP_RESET, A_GARBAGE, A_NACT };

struct slot {
	int fd;
	const struct scen *sc;
	enum act act;
	size_t sent, limit;	/* bytes of req sent; how many to send */
	size_t got, read_limit; /* bytes read; reset after this many (A_RESP_RESET) */
	uint64_t deadline;
	bool connected, status_seen;
	char status[4];
};

/* The upstream side: one per accepted connection. */
struct up {
	int fd;
	char in[8192];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool echo, closing;
};

static struct scen scens[MAX_SCEN];
static int nscen;
static char headers[4096];
static struct sockaddr_in target;
static int epfd, upfd = -1;
static uint64_t attempts, done_ok, refused, resets, st2, st1, st4, st5, other;
static char *up_big, *up_chunked;
static size_t up_chunked_len, up_big_len;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *m)
{
	perror(m);
	exit(2);
}

static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s;
	if (vasprintf(&s, f, ap) < 0)
		die("vasprintf");
	va_end(ap);
	return s;
}

/* A request: method, target, extra head lines, body (may be NULL). */
static void add(const char *name, const char *method, const char *tgt, const char *extra,
		const char *body, size_t blen, bool chunked)
{
	if (nscen == MAX_SCEN)
		return;
	struct scen *s = &scens[nscen++];
	s->name = name;
	char *head;
	if (!body)
		head = fmt("%s %s HTTP/1.1\r\nHost: chaos\r\n%s%sConnection: close\r\n\r\n", method,
			   tgt, headers, extra);
	else if (chunked)
		head = fmt("%s %s HTTP/1.1\r\nHost: chaos\r\n%s%sTransfer-Encoding: chunked\r\n"
			   "Connection: close\r\n\r\n",
			   method, tgt, headers, extra);
	else
		head = fmt("%s %s HTTP/1.1\r\nHost: chaos\r\n%s%sContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n",
			   method, tgt, headers, extra, blen);
	s->head_len = strlen(head);
	size_t extra_len = chunked ? blen + 64 : blen;
	s->req = malloc(s->head_len + extra_len + 1);
	memcpy(s->req, head, s->head_len);
	s->len = s->head_len;
	if (body && chunked) {
		s->len += (size_t)sprintf(s->req + s->len, "%zx\r\n", blen);
		memcpy(s->req + s->len, body, blen);
		s->len += blen;
		memcpy(s->req + s->len, "\r\n0\r\n\r\n", 7);
		s->len += 7;
	} else if (body) {
		memcpy(s->req + s->len, body, blen);
		s->len += blen;
	}
	s->upgrade = strstr(extra, "Upgrade:") != NULL;
	free(head);
}

static const char ws_extra[] =
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

static void profile(const char *p, int up_port, const char *file, const char *dir, const char *id)
{
	char *body = malloc(256 * 1024);
	for (int i = 0; i < 256 * 1024; i++)
		body[i] = (char)('a' + i % 26);
	if (!strcmp(p, "execd")) {
		add("ping", "GET", "/ping", "", NULL, 0, false);
		add("proxy-big", "GET", fmt("/proxy/%d/big", up_port), "", NULL, 0, false);
		add("proxy-chunked", "GET", fmt("/proxy/%d/chunked", up_port), "", NULL, 0, false);
		add("proxy-post", "POST", fmt("/proxy/%d/sink", up_port), "", body, 200000, false);
		add("proxy-post-chunked", "POST", fmt("/proxy/%d/sink", up_port), "", body, 100000,
		    true);
		add("proxy-ws", "GET", fmt("/proxy/%d/ws", up_port), ws_extra, NULL, 0, false);
		add("proxy-refused", "GET", "/proxy/1/x", "", NULL, 0, false);
		add("download", "GET", fmt("/files/download?path=%s", file), "", NULL, 0, false);
		char *mp = fmt("--B\r\nContent-Disposition: form-data; name=\"metadata\"; "
			       "filename=\"metadata\"\r\n\r\n"
			       "{\"path\":\"%s/up\"}\r\n--B\r\nContent-Disposition: form-data; "
			       "name=\"file\"; "
			       "filename=\"f\"\r\n\r\n%.*s\r\n--B--\r\n",
			       dir, 150000, body);
		add("upload", "POST", "/files/upload",
		    "Content-Type: multipart/form-data; boundary=B\r\n", mp, strlen(mp), false);
		const char *cmd = "{\"command\":\"echo chaos\"}";
		add("command", "POST", "/command", "Content-Type: application/json\r\n", cmd,
		    strlen(cmd), false);
		add("metrics-watch", "GET", "/metrics/watch", "", NULL, 0, false);
		add("pty-ws", "GET", fmt("/pty/%s/ws", id), ws_extra, NULL, 0, false);
	} else if (!strcmp(p, "api")) {
		add("health", "GET", "/health", "", NULL, 0, false);
		add("list", "GET", "/v1/sandboxes", "", NULL, 0, false);
		add("get", "GET", fmt("/v1/sandboxes/%s", id), "", NULL, 0, false);
		add("endpoint", "GET", fmt("/v1/sandboxes/%s/endpoints/44772", id), "", NULL, 0,
		    false);
		add("sp-ping", "GET", fmt("/sandboxes/%s/proxy/44772/ping", id), "", NULL, 0,
		    false);
		add("sp-download", "GET",
		    fmt("/sandboxes/%s/proxy/44772/files/download?path=%s", id, file), "", NULL, 0,
		    false);
		const char *cmd = "{\"command\":\"echo chaos\"}";
		add("sp-command", "POST", fmt("/sandboxes/%s/proxy/44772/command", id),
		    "Content-Type: application/json\r\n", cmd, strlen(cmd), false);
		add("sp-post", "POST", fmt("/sandboxes/%s/proxy/44772/files/upload", id),
		    "Content-Type: multipart/form-data; boundary=B\r\n", body, 200000, false);
		add("sp-ws", "GET", fmt("/sandboxes/%s/proxy/44772/pty/none/ws", id), ws_extra,
		    NULL, 0, false);
		const char *bad = "{\"image\":{\"uri\":";
		add("create-bad", "POST", "/v1/sandboxes", "Content-Type: application/json\r\n",
		    bad, strlen(bad), false);
		add("unknown", "GET", "/v1/sandboxes/nope-nope", "", NULL, 0, false);
	} else if (!strcmp(p, "gateway")) {
		add("status", "GET", "/status.ok", "", NULL, 0, false);
		add("uri-page", "GET", fmt("/%s/8080/index.html", id), "", NULL, 0, false);
		add("port-page", "GET", fmt("/sandboxes/%s/port/8080/index.html", id), "", NULL, 0,
		    false);
		add("uri-post", "POST", fmt("/%s/8080/sink", id), "", body, 200000, false);
		add("uri-post-chunked", "POST", fmt("/%s/8080/sink", id), "", body, 100000, true);
		add("uri-ws", "GET", fmt("/%s/44772/pty/none/ws", id), ws_extra, NULL, 0, false);
		add("uri-refused", "GET", fmt("/%s/8099/", id), "", NULL, 0, false);
		add("no-route", "GET", "/nothing/here", "", NULL, 0, false);
		add("unknown", "GET", "/00000000-0000-4000-8000-000000000000/80/", "", NULL, 0,
		    false);
	} else if (!strcmp(p, "egress")) {
		add("healthz", "GET", "/healthz", "", NULL, 0, false);
		add("policy", "GET", "/policy", "", NULL, 0, false);
		const char *bad = "{\"egress\":[{\"action\":";
		add("policy-bad", "POST", "/policy", "Content-Type: application/json\r\n", bad,
		    strlen(bad), false);
		const char *patch = "[{\"action\":\"allow\",\"target\":\"chaos.test\"}]";
		add("policy-patch", "PATCH", "/policy", "Content-Type: application/json\r\n", patch,
		    strlen(patch), false);
		add("metrics", "GET", "/metrics", "", NULL, 0, false);
		add("big-post", "POST", "/policy", "Content-Type: application/json\r\n", body,
		    250000, false);
	} else {
		fprintf(stderr, "unknown profile %s\n", p);
		exit(2);
	}
}

static void hard_close(int fd)
{
	struct linger l = {1, 0}; /* RST */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
	resets++;
}

static void slot_start(struct slot *s)
{
	memset(s, 0, sizeof(*s));
	s->sc = &scens[rand() % nscen];
	s->act = (enum act)(rand() % A_NACT);
	if (s->act == A_BODY_CUT && s->sc->len == s->sc->head_len)
		s->act = A_RESP_RESET;
	s->limit = s->sc->len;
	if (s->act == A_CUT)
		s->limit = (size_t)rand() % s->sc->len;
	else if (s->act == A_BODY_CUT)
		s->limit = s->sc->head_len + (size_t)rand() % (s->sc->len - s->sc->head_len);
	else if (s->act == A_GARBAGE)
		s->limit = 1 + (size_t)rand() % 2048;
	s->read_limit = s->act == A_RESP_RESET ? 1 + (size_t)rand() % (256 * 1024) : SIZE_MAX;
	s->deadline = now_ms() + 500 + (uint64_t)(rand() % 2500);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		die("socket");
	attempts++;
	int r = connect(s->fd, (struct sockaddr *)&target, sizeof(target));
	if (r < 0 && errno != EINPROGRESS) {
		refused++;
		close(s->fd);
		s->fd = -1;
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = s};
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

static void tally(struct slot *s)
{
	if (!s->status_seen)
		return;
	switch (s->status[0]) {
	case '1':
		st1++;
		break;
	case '2':
		st2++;
		break;
	case '4':
		st4++;
		break;
	case '5':
		st5++;
		break;
	default:
		other++;
	}
}

/* Ends the slot's exchange; a normal end after a response counts as done. */
static void slot_end(struct slot *s, bool reset)
{
	if (s->fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
	tally(s);
	if (s->status_seen && s->act == A_FULL)
		done_ok++;
	if (reset)
		hard_close(s->fd);
	else
		close(s->fd);
	s->fd = -1;
}

static void slot_io(struct slot *s, uint32_t events)
{
	if (!s->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			if (err == ECONNREFUSED)
				refused++;
			slot_end(s, false);
			return;
		}
		s->connected = true;
	}
	if (s->sent < s->limit) {
		char junk[2048];
		const char *src = s->sc->req + s->sent;
		size_t n = s->limit - s->sent;
		if (s->act == A_GARBAGE) {
			for (size_t i = 0; i < sizeof(junk); i++)
				junk[i] = (char)rand();
			src = junk;
			n = n > sizeof(junk) ? sizeof(junk) : n;
		}
		ssize_t w = send(s->fd, src, n, MSG_NOSIGNAL);
		if (w > 0)
			s->sent += (size_t)w;
		else if (w < 0 && errno != EAGAIN) {
			slot_end(s, false);
			return;
		}
		if (s->sent >= s->limit && (s->act == A_CUT || s->act == A_BODY_CUT)) {
			slot_end(s, rand() % 2);
			return;
		}
	}
	if (s->sent >= s->limit) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
		epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		char buf[65536];
		for (int i = 0; i < 4; i++) {
			ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				slot_end(s, false);
				return;
			}
			if (n < 0)
				break;
			if (!s->status_seen && s->got == 0 && n >= 12 &&
			    !memcmp(buf, "HTTP/1.", 7)) {
				memcpy(s->status, buf + 9, 3);
				s->status_seen = true;
				/* After a 101, talk a little: a masked text frame, then carry on.
				 */
				if (!memcmp(s->status, "101", 3)) {
					static const char frame[] = "\x81\x84\x01\x02\x03\x04"
								    "ab"
								    "cd";
					if (send(s->fd, frame, 10, MSG_NOSIGNAL) < 0) {
						slot_end(s, false);
						return;
					}
				}
			}
			s->got += (size_t)n;
			if (s->got >= s->read_limit) {
				slot_end(s, true);
				return;
			}
		}
	}
}

/* --- the upstream for /proxy ---------------------------------------------- */

static void up_close(struct up *u)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, u->fd, NULL);
	close(u->fd);
	free(u);
}

static void up_flush(struct up *u)
{
	while (u->outoff < u->outlen) {
		ssize_t n = send(u->fd, u->out + u->outoff, u->outlen - u->outoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				u->closing = true, u->outoff = u->outlen;
			break;
		}
		u->outoff += (size_t)n;
	}
	struct epoll_event ev = {.events = EPOLLIN | (u->outoff < u->outlen ? EPOLLOUT : 0),
				 .data.ptr = u};
	epoll_ctl(epfd, EPOLL_CTL_MOD, u->fd, &ev);
}

static void up_answer(struct up *u)
{
	char *end = memmem(u->in, u->inlen, "\r\n\r\n", 4);
	if (!end)
		return;
	size_t hl = (size_t)(end - u->in) + 4;
	static char small[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
	if (!strncmp(u->in, "GET /big", 8)) {
		u->out = up_big;
		u->outlen = up_big_len;
	} else if (!strncmp(u->in, "GET /chunked", 12)) {
		u->out = up_chunked;
		u->outlen = up_chunked_len;
	} else if (!strncmp(u->in, "GET /ws", 7)) {
		static char sw[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\n\r\n";
		u->out = sw;
		u->outlen = sizeof(sw) - 1;
		u->echo = true;
	} else {
		/* Anything else (uploads included): answer at once, drop the rest and close. */
		static char sink[] =
			"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
		u->out = strncmp(u->in, "POST", 4) ? small : sink;
		u->outlen = strlen(u->out);
		u->closing = u->out == sink;
	}
	u->outoff = 0;
	memmove(u->in, u->in + hl, u->inlen - hl);
	u->inlen -= hl;
	up_flush(u);
}

static void up_io(struct up *u, uint32_t events)
{
	if (events & EPOLLOUT)
		up_flush(u);
	for (;;) {
		if (u->echo) {
			char buf[16384];
			ssize_t n = recv(u->fd, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				up_close(u);
				return;
			}
			if (n < 0)
				return;
			if (send(u->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
			    errno != EAGAIN) {
				up_close(u);
				return;
			}
			continue;
		}
		if (u->inlen == sizeof(u->in))
			u->inlen = 0; /* a body we do not parse: drop it */
		ssize_t n = recv(u->fd, u->in + u->inlen, sizeof(u->in) - u->inlen, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			up_close(u);
			return;
		}
		if (n < 0)
			break;
		u->inlen += (size_t)n;
		if (u->outoff >= u->outlen && !u->closing)
			up_answer(u);
	}
	if (u->closing && u->outoff >= u->outlen)
		up_close(u);
}

static int up_listen(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
		die("upstream listen");
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	upfd = fd;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &upfd};
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	/* The bodies, built once. */
	char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
		      "application/octet-stream\r\nContent-Length: 1048576\r\n\r\n";
	up_big = malloc(sizeof(head) + UP_BIG);
	memcpy(up_big, head, sizeof(head) - 1);
	memset(up_big + sizeof(head) - 1, 'b', UP_BIG);
	up_big_len = sizeof(head) - 1 + UP_BIG;
	up_chunked = malloc(300 * 1024);
	size_t n = (size_t)sprintf(up_chunked,
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 16; i++) {
		n += (size_t)sprintf(up_chunked + n, "4000\r\n");
		memset(up_chunked + n, 'c', 0x4000);
		n += 0x4000;
		memcpy(up_chunked + n, "\r\n", 2);
		n += 2;
	}
	memcpy(up_chunked + n, "0\r\n\r\n", 5);
	up_chunked_len = n + 5;
	return ntohs(a.sin_port);
}

static void up_accept(void)
{
	for (;;) {
		int fd = accept4(upfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct up *u = calloc(1, sizeof(*u));
		u->fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = u};
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

int main(int argc, char **argv)
{
	const char *prof = "execd", *file = "/etc/hostname", *dir = "/tmp", *id = "none";
	const char *host = "127.0.0.1";
	int port = 0, conns = 100, seconds = 10, up_port = -1;
	unsigned seed = (unsigned)time(NULL);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--target")) {
			static char h[64];
			snprintf(h, sizeof(h), "%s", v);
			char *c = strrchr(h, ':');
			if (!c)
				die("--target host:port");
			*c = '\0';
			host = h;
			port = atoi(c + 1);
		} else if (!strcmp(k, "--profile"))
			prof = v;
		else if (!strcmp(k, "--conns"))
			conns = atoi(v);
		else if (!strcmp(k, "--seconds"))
			seconds = atoi(v);
		else if (!strcmp(k, "--file"))
			file = v;
		else if (!strcmp(k, "--dir"))
			dir = v;
		else if (!strcmp(k, "--id"))
			id = v;
		else if (!strcmp(k, "--seed"))
			seed = (unsigned)atoi(v);
		else if (!strcmp(k, "--upstream"))
			up_port = atoi(v);
		else if (!strcmp(k, "--header")) {
			size_t n = strlen(headers);
			snprintf(headers + n, sizeof(headers) - n, "%s\r\n", v);
		} else {
			fprintf(stderr, "unknown option %s\n", k);
			return 2;
		}
	}
	if (!port || conns < 1 || conns > MAX_CONNS)
		die("usage: chaos --target HOST:PORT [--profile execd|api|gateway|egress] [--conns "
		    "N] "
		    "[--seconds S]");
	srand(seed);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &target.sin_addr) != 1)
		die("target must be a numeric IPv4 address");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (up_port >= 0)
		up_port = up_listen(up_port);
	profile(prof, up_port, file, dir, id);

	struct slot *slots = calloc((size_t)conns, sizeof(*slots));
	for (int i = 0; i < conns; i++)
		slot_start(&slots[i]);
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	struct epoll_event evs[256];
	while (now_ms() < end && refused < 50) {
		int n = epoll_wait(epfd, evs, 256, 50);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &upfd)
				up_accept();
			else if (p >= (void *)slots && p < (void *)(slots + conns))
				slot_io(p, evs[i].events);
			else
				up_io(p, evs[i].events);
		}
		uint64_t t = now_ms();
		for (int i = 0; i < conns; i++) {
			struct slot *s = &slots[i];
			if (s->fd >= 0 && t > s->deadline)
				slot_end(s, rand() % 2);
			if (s->fd < 0)
				slot_start(s);
		}
	}
	for (int i = 0; i < conns; i++)
		slot_end(&slots[i], true);
	printf("chaos %s: %llu exchanges, %llu whole, %llu resets, %llu refused; status 1xx %llu "
	       "2xx %llu "
	       "4xx %llu 5xx %llu other %llu\n",
	       prof, (unsigned long long)attempts, (unsigned long long)done_ok,
	       (unsigned long long)resets, (unsigned long long)refused, (unsigned long long)st1,
	       (unsigned long long)st2, (unsigned long long)st4, (unsigned long long)st5,
	       (unsigned long long)other);
	return refused || !(st2 + st1) ? 1 : 0;
}
