// SPDX-License-Identifier: Apache-2.0
/*
 * The DNS relay. Clients (the sandbox, redirected here by the nat rule) reach
 * 127.0.0.1:15353 and [::1]:15353 over UDP and TCP. A query is parsed, checked
 * against the policy (denied: NXDOMAIN at once), and forwarded to the active
 * upstreams in order: UDP queries over the shared marked UDP socket of the
 * upstream with a fresh random id, TCP queries over a new marked TCP
 * connection (TCP stays TCP), and a UDP answer with TC=1 is fetched again
 * over TCP. When the answer carries A/AAAA records in dns+nft mode, the reply
 * is held until the end of the loop turn, when one nft batch commits every
 * address learned in that turn; only then are the held replies sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "egressd.h"
#include "listener.h"
#include "log.h"
#include "sock.h"

#define RELAY_SLOTS	   4096 /* queries in flight; the low 12 bits of the upstream id */
#define RELAY_TCP_CONNS	   256
#define RELAY_TCP_INFLIGHT 16 /* per client connection before reading pauses */
#define RELAY_TCP_IDLE_MS  10000
#define RELAY_MAX_ADDRS	   64
#define RELAY_LOG_RATE	   20 /* log lines per second (burst 2x) */
#define RELAY_UDP_BATCH	   64

struct tconn {
	struct relay *r;
	struct tconn *next, *prev; /* open connections, for relay_free */
	int fd;
	struct buf in, out;
	int inflight; /* queries of this connection not yet answered: each holds it */
	bool closed, paused;
	bool resume_queued; /* on the relay's resume list (end of turn) */
	struct tconn *next_resume;
	struct ev_timer idle;
	struct ev_retiree retiree; /* closed and unheld: freed at the end of the turn (ev.h) */
};

struct rq {
	struct relay *r;
	uint16_t slot, up_id;
	bool tcp_client, via_tcp;
	int lfd; /* UDP listener the query came in on */
	struct sockaddr_storage peer;
	socklen_t plen;
	struct tconn *tc;
	uint8_t *q;
	size_t qlen;
	struct dns_msg m;
	size_t order[UPSTREAM_MAX], norder, attempt;
	struct ev_timer timer;
	int ufd; /* TCP exchange with the upstream, -1 if none */
	uint8_t *rb;
	size_t rlen, wdone;
	uint8_t *reply; /* held until the turn's nft commit */
	size_t reply_len;
	struct rq *next_held;
	uint64_t t0;
};

struct relay {
	struct egressd *x;
	int udp[2], tcp[2]; /* tcp: until handed to tcp_lst */
	struct listener *tcp_lst;
	struct rq *slots[RELAY_SLOTS];
	size_t inflight, tconns;
	struct tconn *conns;
	uint16_t next_slot;
	struct rq *held, **held_tail;
	struct tconn *resume; /* paused connections that may read again (relay_turn) */
	double tokens;
	uint64_t tokens_at;
};

static void rq_free(struct rq *q);
static void attempt_next(struct rq *q);
static void on_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg);
static void tconn_close(struct tconn *c);
static void tconn_process(struct tconn *c);
static void tconn_release(struct tconn *c);

/* ---- logging ----------------------------------------------------------- */

static bool log_allowed(struct relay *r)
{
	uint64_t now = ev_now(r->x->loop);
	r->tokens += (double)(now - r->tokens_at) * RELAY_LOG_RATE / 1000.0;
	r->tokens_at = now;
	if (r->tokens > 2 * RELAY_LOG_RATE)
		r->tokens = 2 * RELAY_LOG_RATE;
	if (r->tokens < 1) {
		r->x->m.log_suppressed++;
		return false;
	}
	r->tokens -= 1;
	return true;
}

static void log_query(struct relay *r, const struct dns_msg *m, const char *action,
		      const struct dns_addr *a, int na, const char *error)
{
	struct egressd *x = r->x;
	if (!strcmp(action, "allow") && x->skip_index && m->qname[0]) {
		int rule;
		policy_match(x->skip_index, m->qname, &rule);
		if (rule >= 0)
			return;
	}
	if (!log_enabled(LOG_INFO) || !log_allowed(r))
		return;
	char ips[512] = "", sup[24];
	size_t off = 0;
	for (int i = 0; i < na && off + INET6_ADDRSTRLEN + 2 < sizeof(ips); i++) {
		if (i)
			ips[off++] = ',';
		inet_ntop(a[i].family == 4 ? AF_INET : AF_INET6, a[i].addr, ips + off,
			  (socklen_t)(sizeof(ips) - off));
		off += strlen(ips + off);
	}
	snprintf(sup, sizeof(sup), "%llu", (unsigned long long)x->m.log_suppressed);
	log_msg(!strcmp(action, "allow") ? LOG_INFO : LOG_WARN, NULL, "dns query",
		"opensandbox.event", "egress.outbound", "action", action, "target.host",
		m->qname[0] ? m->qname : ".", "target.ips", ips, "sandbox_id",
		x->sandbox_id ? x->sandbox_id : "", "error", error ? error : "",
		"log_suppressed_total", sup, NULL);
}

/* ---- replies to clients ------------------------------------------------ */

static void tconn_write(struct tconn *c)
{
	while (c->out.len) {
		ssize_t n = write(c->fd, buf_head(&c->out), c->out.len);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			tconn_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	uint32_t ev = (c->paused ? 0 : EPOLLIN) | (c->out.len ? EPOLLOUT : 0);
	ev_mod(c->r->x->loop, c->fd, ev);
}

static void send_client(struct rq *q, const uint8_t *msg, size_t len)
{
	if (!q->tcp_client) {
		sendto(q->lfd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&q->peer, q->plen);
		return;
	}
	struct tconn *c = q->tc;
	if (!c || c->closed)
		return;
	uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	if (buf_append(&c->out, pre, 2) < 0 || buf_append(&c->out, msg, len) < 0) {
		tconn_close(c);
		return;
	}
	tconn_write(c);
}

static void reply_rcode(struct rq *q, int rcode)
{
	uint8_t out[600];
	int n = dns_reply_rcode(q->q, q->qlen, &q->m, rcode, false, out, sizeof(out));
	if (n > 0)
		send_client(q, out, (size_t)n);
}

/* ---- queries in flight ------------------------------------------------- */

static struct rq *rq_new(struct relay *r, const uint8_t *msg, size_t len, const struct dns_msg *m)
{
	if (r->inflight >= RELAY_SLOTS)
		return NULL;
	struct rq *q = calloc(1, sizeof(*q));
	if (!q || !(q->q = malloc(len))) {
		free(q);
		return NULL;
	}
	while (r->slots[r->next_slot])
		r->next_slot = (uint16_t)((r->next_slot + 1) % RELAY_SLOTS);
	q->slot = r->next_slot;
	r->next_slot = (uint16_t)((r->next_slot + 1) % RELAY_SLOTS);
	r->slots[q->slot] = q;
	r->inflight++;
	q->r = r;
	memcpy(q->q, msg, len);
	q->qlen = len;
	q->m = *m;
	q->ufd = -1;
	q->t0 = ev_clock_ms();
	ev_timer_init(&q->timer, on_timeout, q);
	return q;
}

static void close_upstream_tcp(struct rq *q)
{
	if (q->ufd >= 0) {
		ev_del(q->r->x->loop, q->ufd);
		close(q->ufd);
		q->ufd = -1;
	}
	free(q->rb);
	q->rb = NULL;
	q->rlen = q->wdone = 0;
}

static void rq_free(struct rq *q)
{
	struct relay *r = q->r;
	ev_timer_stop(r->x->loop, &q->timer);
	close_upstream_tcp(q);
	if (r->slots[q->slot] == q) {
		r->slots[q->slot] = NULL;
		r->inflight--;
	}
	if (q->tc) {
		struct tconn *c = q->tc;
		c->inflight--;
		/* Reading again is work for the end of the turn, not for whoever answered. */
		if (!c->closed && c->paused && !c->resume_queued &&
		    c->inflight < RELAY_TCP_INFLIGHT) {
			c->resume_queued = true;
			c->next_resume = r->resume;
			r->resume = c;
		}
		tconn_release(c);
	}
	free(q->reply);
	free(q->q);
	free(q);
}

static void finish_latency(struct rq *q)
{
	uint64_t d = ev_clock_ms() - q->t0;
	q->r->x->m.latency_us_sum += d * 1000;
	q->r->x->m.latency_count++;
}

static void fail_all(struct rq *q)
{
	struct egressd *x = q->r->x;
	x->m.servfail++;
	log_query(q->r, &q->m, "allow", NULL, 0, "all upstreams failed");
	reply_rcode(q, DNS_SERVFAIL);
	rq_free(q);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct rq *q = arg;
	q->r->x->ups.u[q->order[q->attempt]].failures++;
	q->r->x->m.upstream_failures++;
	attempt_next(q);
}

/* A complete upstream reply for q; returns true if q is finished (freed or held). */
static void got_reply(struct rq *q, uint8_t *msg, size_t len)
{
	struct relay *r = q->r;
	struct egressd *x = r->x;
	struct dns_msg m;
	int pr = dns_parse(msg, len, &m);

	if (pr < 0 || !(m.flags & DNS_F_QR) || m.qdcount != 1 || m.qtype != q->m.qtype ||
	    m.qclass != q->m.qclass || strcmp(m.qname, q->m.qname) != 0) {
		x->m.upstream_failures++;
		attempt_next(q);
		return;
	}
	if ((m.flags & DNS_F_TC) && !q->via_tcp) {
		/* B7: fetch the whole answer over TCP from the same upstream. */
		x->m.tc_retries++;
		q->via_tcp = true;
		q->attempt--;
		attempt_next(q);
		return;
	}
	int rc = DNS_RCODE(m.flags);
	if (rc != DNS_NOERROR && rc != DNS_NXDOMAIN) {
		x->ups.u[q->order[q->attempt]].failures++;
		x->m.upstream_failures++;
		attempt_next(q);
		return;
	}
	ev_timer_stop(x->loop, &q->timer);
	close_upstream_tcp(q);
	msg[0] = (uint8_t)(q->m.id >> 8);
	msg[1] = (uint8_t)q->m.id;
	/* Learned addresses live TTL+60 s, at most 6 minutes: the client must not cache longer. */
	if (x->nft_mode)
		dns_clamp_ttls(msg, len, &m, SETS_DYN_TIMEOUT_S - 60);
	struct dns_addr addrs[RELAY_MAX_ADDRS];
	int na = dns_answer_addrs(msg, len, &m, addrs, RELAY_MAX_ADDRS);
	if (na < 0)
		na = 0;
	x->m.allowed++;
	finish_latency(q);
	log_query(r, &q->m, "allow", addrs, na, NULL);

	uint8_t small[600];
	const uint8_t *out = msg;
	size_t outlen = len;
	if (!q->tcp_client && len > dns_udp_limit(&q->m)) {
		/* Too big for this client: TC=1 so it asks again over TCP. */
		int n = dns_reply_rcode(q->q, q->qlen, &q->m, rc, true, small, sizeof(small));
		out = small;
		outlen = n > 0 ? (size_t)n : 0;
	}
	/* The policy may have changed while the query was out: learn only what it still allows. */
	if (na > 0 && x->nft_mode && policy_match(x->index, q->m.qname, NULL) == POLICY_ALLOW) {
		sets_learn(&x->sets, addrs, (size_t)na);
		q->reply = malloc(outlen);
		if (q->reply) {
			memcpy(q->reply, out, outlen);
			q->reply_len = outlen;
			/* Out of the slot table: a late duplicate reply must not find it. */
			r->slots[q->slot] = NULL;
			r->inflight--;
			*r->held_tail = q;
			r->held_tail = &q->next_held;
			return;
		}
	}
	if (outlen)
		send_client(q, out, outlen);
	rq_free(q);
}

static void on_upstream_tcp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct rq *q = arg;
	(void)events;
	if (q->wdone < q->qlen + 2) {
		int r = sock_connect_result(fd);
		if (r < 0)
			goto fail;
		uint8_t hdr[4] = {(uint8_t)(q->qlen >> 8), (uint8_t)q->qlen,
				  (uint8_t)(q->up_id >> 8), (uint8_t)q->up_id};
		while (q->wdone < q->qlen + 2) {
			/* Length prefix, our id, then the rest of the client's query. */
			ssize_t n;
			if (q->wdone < 4)
				n = write(fd, hdr + q->wdone, 4 - q->wdone);
			else
				n = write(fd, q->q + q->wdone - 2, q->qlen + 2 - q->wdone);
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				goto fail;
			}
			q->wdone += (size_t)n;
		}
		ev_mod(loop, fd, EPOLLIN);
		return;
	}
	for (;;) {
		size_t need = q->rlen < 2 ? 2 : 2 + ((size_t)q->rb[0] << 8 | q->rb[1]);
		if (q->rlen == need && need > 2)
			break;
		ssize_t n = read(fd, q->rb + q->rlen, need - q->rlen);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto fail;
		q->rlen += (size_t)n;
		if (q->rlen == 2 && need == 2 && ((size_t)q->rb[0] << 8 | q->rb[1]) < DNS_HDR_LEN)
			goto fail;
	}
	uint16_t id = (uint16_t)(q->rb[2] << 8 | q->rb[3]);
	if (id != q->up_id)
		goto fail;
	uint8_t *msg = q->rb;
	q->rb = NULL; /* got_reply may close the exchange */
	got_reply(q, msg + 2, q->rlen - 2);
	free(msg);
	return;
fail:
	q->r->x->ups.u[q->order[q->attempt]].failures++;
	q->r->x->m.upstream_failures++;
	attempt_next(q);
}

static void new_up_id(struct rq *q)
{
	uint16_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint16_t)(ev_clock_ms() * 2654435761u >> 16);
	q->up_id = (uint16_t)((rnd & 0xf000u) | q->slot);
}

/* Sends q to its next upstream, or answers SERVFAIL when none is left. */
static void attempt_next(struct rq *q)
{
	struct egressd *x = q->r->x;
	ev_timer_stop(x->loop, &q->timer);
	close_upstream_tcp(q);
	if (++q->attempt >= q->norder) {
		fail_all(q);
		return;
	}
	const struct upstream *u = &x->ups.u[q->order[q->attempt]];
	new_up_id(q);
	if (!q->via_tcp) {
		uint8_t id[2] = {(uint8_t)(q->up_id >> 8), (uint8_t)q->up_id};
		struct iovec iov[2] = {{id, 2}, {q->q + 2, q->qlen - 2}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		if (sendmsg(u->udp_fd, &mh, MSG_DONTWAIT) < 0) {
			x->m.upstream_failures++;
			attempt_next(q);
			return;
		}
	} else {
		int fd = upstream_socket(u, SOCK_STREAM, x->mark);
		if (fd < 0 || !(q->rb = malloc(2 + 65535)) ||
		    ev_add(x->loop, fd, EPOLLOUT, on_upstream_tcp, q) < 0) {
			if (fd >= 0)
				close(fd);
			x->m.upstream_failures++;
			attempt_next(q);
			return;
		}
		q->ufd = fd;
	}
	ev_timer_start(x->loop, &q->timer, x->ups.timeout_ms);
}

static void on_upstream_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct relay *r = arg;
	uint8_t buf[65536];
	(void)loop;
	(void)events;
	for (int i = 0; i < RELAY_UDP_BATCH; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return;
		if (n < DNS_HDR_LEN)
			continue;
		uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
		struct rq *q = r->slots[id % RELAY_SLOTS];
		/* Only the exact id, from the upstream this attempt went to, over UDP. */
		if (!q || q->up_id != id || q->via_tcp ||
		    r->x->ups.u[q->order[q->attempt]].udp_fd != fd)
			continue;
		got_reply(q, buf, (size_t)n);
	}
}

/* ---- incoming queries -------------------------------------------------- */

/* Handles one client query; for TCP, c is the connection. */
static void handle_query(struct relay *r, const uint8_t *msg, size_t len, int lfd,
			 const struct sockaddr_storage *peer, socklen_t plen, struct tconn *c)
{
	struct egressd *x = r->x;
	struct dns_msg m;
	uint8_t out[600];
	int n, pr = dns_parse(msg, len, &m);
	struct rq tmp = {.r = r, .lfd = lfd, .tc = c, .tcp_client = c != NULL};

	if (peer)
		memcpy(&tmp.peer, peer, plen);
	tmp.plen = plen;
	if (len < DNS_HDR_LEN || (msg[2] & 0x80))
		return; /* too short to answer, or a response: drop */
	if (pr < 0 || (size_t)pr != len || m.qdcount != 1) {
		x->m.formerr++;
		n = pr < 0 ? dns_reply_formerr_raw(msg, len, out, sizeof(out))
			   : dns_reply_rcode(msg, len, &m, DNS_FORMERR, false, out, sizeof(out));
		tmp.m = m;
		if (n > 0)
			send_client(&tmp, out, (size_t)n);
		return;
	}
	tmp.m = m;
	tmp.q = (uint8_t *)msg;
	tmp.qlen = len;
	if (DNS_OPCODE(m.flags) != 0) {
		reply_rcode(&tmp, DNS_NOTIMP);
		return;
	}
	if (policy_match(x->index, m.qname, NULL) != POLICY_ALLOW) {
		x->m.denied++;
		log_query(r, &m, "deny", NULL, 0, NULL);
		reply_rcode(&tmp, DNS_NXDOMAIN);
		return;
	}
	struct rq *q = rq_new(r, msg, len, &m);
	if (!q) {
		x->m.servfail++;
		reply_rcode(&tmp, DNS_SERVFAIL);
		return;
	}
	q->lfd = lfd;
	q->peer = tmp.peer;
	q->plen = plen;
	q->tcp_client = c != NULL;
	q->via_tcp = c != NULL; /* B7: TCP is forwarded as TCP */
	q->tc = c;
	if (c) {
		c->inflight++;
		x->m.tcp_queries++;
	}
	q->norder = upstream_active(&x->ups, q->order);
	q->attempt = (size_t)-1;
	attempt_next(q);
}

static void on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct relay *r = arg;
	uint8_t buf[65536];
	(void)loop;
	(void)events;
	for (int i = 0; i < RELAY_UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return;
		handle_query(r, buf, (size_t)n, fd, &peer, plen, NULL);
	}
}

static void tconn_close(struct tconn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	c->r->tconns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->resume_queued) {
		for (struct tconn **p = &c->r->resume; *p; p = &(*p)->next_resume) {
			if (*p == c) {
				*p = c->next_resume;
				break;
			}
		}
		c->resume_queued = false;
	}
	ev_timer_stop(c->r->x->loop, &c->idle);
	ev_del(c->r->x->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	listener_fd_freed(c->r->tcp_lst);
	tconn_release(c);
}

static void tconn_retired(void *obj)
{
	struct tconn *c = obj;
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* A closed connection goes once no query holds it any more. */
static void tconn_release(struct tconn *c)
{
	if (c->closed && c->inflight == 0)
		ev_retire(c->r->x->loop, &c->retiree, tconn_retired, c);
}

static void on_tconn_idle(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct tconn *c = arg;
	if (c->inflight)
		ev_timer_start(loop, &c->idle, RELAY_TCP_IDLE_MS);
	else
		tconn_close(c);
}

/* Runs every complete query in the input buffer (stops when paused). */
static void tconn_process(struct tconn *c)
{
	while (!c->closed && c->in.len >= 2) {
		const uint8_t *p = (const uint8_t *)buf_head(&c->in);
		size_t l = (size_t)p[0] << 8 | p[1];
		if (c->in.len < 2 + l)
			break;
		if (c->inflight >= RELAY_TCP_INFLIGHT) {
			c->paused = true;
			ev_mod(c->r->x->loop, c->fd, c->out.len ? EPOLLOUT : 0);
			return;
		}
		/* handle_query copies what it keeps, so consuming afterwards is safe. */
		handle_query(c->r, p + 2, l, -1, NULL, 0, c);
		if (!c->closed)
			buf_consume(&c->in, 2 + l);
	}
}

static void on_tconn(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct tconn *c = arg;
	if (c->closed)
		return;
	if (events & EPOLLOUT)
		tconn_write(c);
	if (c->closed || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		goto out;
	if (c->paused) {
		if (events & (EPOLLHUP | EPOLLERR))
			tconn_close(c);
		goto out;
	}
	ev_timer_start(loop, &c->idle, RELAY_TCP_IDLE_MS);
	if (buf_reserve(&c->in, 4096) < 0) {
		tconn_close(c);
		goto out;
	}
	ssize_t n = read(fd, buf_tail(&c->in), 4096);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		tconn_close(c);
		goto out;
	}
	if (n > 0) {
		buf_commit(&c->in, (size_t)n);
		tconn_process(c);
	}
out:
	tconn_release(c);
}

static void accept_tcp(int fd, void *arg)
{
	struct relay *r = arg;
	struct ev_loop *loop = r->x->loop;
	struct tconn *c = r->tconns < RELAY_TCP_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	buf_init(&c->in, 2 + 65535 + 4096);
	buf_init(&c->out, 1 << 20);
	ev_timer_init(&c->idle, on_tconn_idle, c);
	if (ev_add(loop, fd, EPOLLIN, on_tconn, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	r->tconns++;
	c->next = r->conns;
	if (c->next)
		c->next->prev = c;
	r->conns = c;
	ev_timer_start(loop, &c->idle, RELAY_TCP_IDLE_MS);
}

/* ---- set-up ------------------------------------------------------------ */

static int bind_dns(int family, int type, struct err *e)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return err_set(e, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(EGRESSD_DNS_PORT);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(EGRESSD_DNS_PORT);
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, SOCK_BACKLOG) < 0)) {
		int r = err_set(e, errno, "bind %s %s:%d", type == SOCK_STREAM ? "tcp" : "udp",
				family == AF_INET ? "127.0.0.1" : "[::1]", EGRESSD_DNS_PORT);
		close(fd);
		return r;
	}
	if (type == SOCK_DGRAM) {
		int buf = 1 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	return fd;
}

struct relay *relay_new(struct egressd *x, struct err *e)
{
	struct relay *r = calloc(1, sizeof(*r));
	if (!r) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	r->x = x;
	r->held_tail = &r->held;
	r->tokens = 2 * RELAY_LOG_RATE;
	r->tokens_at = ev_now(x->loop);
	r->udp[0] = r->udp[1] = r->tcp[0] = r->tcp[1] = -1;
	r->tcp_lst = listener_new(x->loop, "dns-tcp", accept_tcp, r, NULL, 0, e);
	if (!r->tcp_lst)
		goto fail;
	/* Both sockets of 127.0.0.1 must bind; ::1 is optional (IPv6 may be off). */
	for (int f = 0; f < 2; f++) {
		int fam = f ? AF_INET6 : AF_INET;
		struct err e6 = {0};
		r->udp[f] = bind_dns(fam, SOCK_DGRAM, f ? &e6 : e);
		r->tcp[f] = r->udp[f] >= 0 ? bind_dns(fam, SOCK_STREAM, f ? &e6 : e) : -1;
		if (r->udp[f] < 0 || r->tcp[f] < 0) {
			if (!f)
				goto fail;
			log_msg(LOG_WARN, NULL, "no DNS listener on [::1] (IPv6 off?)", "error",
				e6.msg, NULL);
			if (r->udp[1] >= 0)
				close(r->udp[1]);
			r->udp[1] = -1;
			continue;
		}
		if (ev_add(x->loop, r->udp[f], EPOLLIN, on_udp, r) < 0) {
			err_set(e, EIO, "watch DNS listeners");
			goto fail;
		}
		int tfd = r->tcp[f];
		r->tcp[f] = -1; /* the listener's now, closed by it even on failure */
		if (listener_add_fd(r->tcp_lst, tfd, e) < 0)
			goto fail;
	}
	if (upstream_start(&x->ups, x->loop, on_upstream_udp, r, e) < 0)
		goto fail;
	return r;
fail:
	relay_free(r);
	return NULL;
}

void relay_stop(struct relay *r)
{
	listener_free(r->tcp_lst);
	r->tcp_lst = NULL;
	for (int f = 0; f < 2; f++) {
		int *fds[2] = {&r->udp[f], &r->tcp[f]};
		for (int k = 0; k < 2; k++)
			if (*fds[k] >= 0) {
				ev_del(r->x->loop, *fds[k]);
				close(*fds[k]);
				*fds[k] = -1;
			}
	}
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	relay_stop(r);
	while (r->conns)
		tconn_close(r->conns);
	while (r->held) {
		struct rq *q = r->held;
		r->held = q->next_held;
		rq_free(q);
	}
	for (size_t i = 0; i < RELAY_SLOTS; i++)
		if (r->slots[i])
			rq_free(r->slots[i]);
	free(r);
}

size_t relay_inflight(const struct relay *r)
{
	return r->inflight;
}

/* Paused TCP clients whose slots freed up read again. */
static void resume_paused(struct relay *r)
{
	while (r->resume) {
		struct tconn *c = r->resume;
		r->resume = c->next_resume;
		c->resume_queued = false;
		if (c->closed || !c->paused || c->inflight >= RELAY_TCP_INFLIGHT)
			continue;
		c->paused = false;
		tconn_write(c);
		tconn_process(c);
	}
}

void relay_turn(struct ev_loop *loop, void *arg)
{
	struct relay *r = arg;
	struct egressd *x = r->x;
	/* Sending held answers frees slots (resumes), and resumed clients may
	 * add held answers: go round until both are done, a bounded number of times. */
	for (int round = 0; round < 8; round++) {
		resume_paused(r);
		if (!r->held && !sets_pending(&x->sets))
			return;
		struct err e = {0};
		if (sets_flush(&x->sets, &e) < 0)
			log_msg(LOG_WARN, NULL, "nft insert failed; answering anyway", "error",
				e.msg, NULL);
		struct rq *q = r->held;
		r->held = NULL;
		r->held_tail = &r->held;
		while (q) {
			struct rq *next = q->next_held;
			send_client(q, q->reply, q->reply_len);
			rq_free(q);
			q = next;
		}
	}
	if (r->resume || r->held)
		ev_again(loop); /* the next turn goes on without waiting */
}
