// SPDX-License-Identifier: Apache-2.0
#include "upstream.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "dns.h"
#include "log.h"

void upstream_addr_str(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

int upstream_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			struct err *e)
{
	char host[64];
	const char *port = NULL;
	size_t tl = strlen(text);

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || (size_t)(close - text - 1) >= sizeof(host))
			return err_set(e, EINVAL, "invalid upstream %s", text);
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return err_set(e, EINVAL, "invalid upstream %s", text);
	} else {
		const char *colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 literal */
		size_t hl = colon ? (size_t)(colon - text) : tl;
		if (hl >= sizeof(host))
			return err_set(e, EINVAL, "invalid upstream %s", text);
		memcpy(host, text, hl);
		host[hl] = '\0';
		if (colon)
			port = colon + 1;
	}
	unsigned long p = 53;
	if (port) {
		char *end;
		p = strtoul(port, &end, 10);
		if (!*port || *end || p == 0 || p > 65535)
			return err_set(e, EINVAL, "invalid upstream port in %s", text);
	}
	struct sockaddr_in *in = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
	} else {
		return err_set(
			e, EINVAL,
			"upstream %s is not an IP literal (a host name would need DNS, which "
			"goes through this proxy)",
			text);
	}
	return 0;
}

static int add(struct upstream_list *l, const struct sockaddr_storage *ss, socklen_t len)
{
	char name[64];
	upstream_addr_str(ss, name, sizeof(name));
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->u[i].name, name) == 0)
			return 0;
	if (l->n == UPSTREAM_MAX)
		return 0;
	struct upstream *u = &l->u[l->n++];
	memset(u, 0, sizeof(*u));
	u->addr = *ss;
	u->alen = len;
	u->healthy = true;
	u->udp_fd = u->probe_fd = -1;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 1;
}

int upstream_parse_list(struct upstream_list *l, const char *list, struct err *e)
{
	char item[128];
	const char *p = list;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n >= sizeof(item))
			return err_set(e, EINVAL, "upstream entry too long");
		if (n) {
			struct sockaddr_storage ss;
			socklen_t len;
			memcpy(item, p, n);
			item[n] = '\0';
			int r = upstream_parse_addr(item, &ss, &len, e);
			if (r < 0)
				return r;
			add(l, &ss, len);
		}
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr) >>
			24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
}

int upstream_from_resolv(struct upstream_list *l, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	struct sockaddr_storage loop[UPSTREAM_MAX];
	socklen_t looplen[UPSTREAM_MAX];
	size_t nloop = 0;
	int added = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		char *pct = strchr(addr, '%'); /* fe80::1%eth0: zones are not usable here */
		if (pct)
			*pct = '\0';
		struct sockaddr_storage ss;
		socklen_t len;
		if (upstream_parse_addr(addr, &ss, &len, NULL) < 0)
			continue;
		if (ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)(void *)&ss)->sin_addr.s_addr == 0)
			continue;
		if (is_loopback(&ss)) {
			if (nloop < UPSTREAM_MAX) {
				loop[nloop] = ss;
				looplen[nloop++] = len;
			}
			continue;
		}
		added += add(l, &ss, len);
	}
	fclose(f);
	for (size_t i = 0; i < nloop; i++)
		added += add(l, &loop[i], looplen[i]);
	return added;
}

int upstream_socket(const struct upstream *u, int type, uint32_t mark)
{
	int fd = socket(u->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (connect(fd, (const struct sockaddr *)&u->addr, u->alen) < 0 && errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

size_t upstream_active(const struct upstream_list *l, size_t *order)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->u[i].healthy)
			order[n++] = i;
	if (n == 0)
		for (size_t i = 0; i < l->n; i++)
			order[n++] = i;
	return n;
}

static void probe_end(struct upstream_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct upstream *u = &l->u[i];
		if (u->probe_fd >= 0) {
			ev_del(l->loop, u->probe_fd);
			close(u->probe_fd);
			u->probe_fd = -1;
			if (u->healthy)
				log_msg(LOG_WARN, NULL, "[dns] upstream probe failed", "upstream",
					u->name, NULL);
			u->healthy = false;
		}
	}
	l->probing = false;
}

static void on_probe_reply(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct upstream *u = arg;
	uint8_t buf[1500];
	struct dns_msg m;
	(void)loop;
	(void)events;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return; /* EAGAIN, or ECONNREFUSED: the deadline decides */
		/* Any well-formed reply to our id, whatever its rcode, means alive. */
		if (n >= DNS_HDR_LEN && dns_parse(buf, (size_t)n, &m) > 0 && m.id == u->probe_id &&
		    (m.flags & DNS_F_QR)) {
			if (!u->healthy)
				log_msg(LOG_INFO, NULL, "[dns] upstream probe ok", "upstream",
					u->name, NULL);
			u->healthy = true;
			ev_del(loop, fd);
			close(fd);
			u->probe_fd = -1;
			return;
		}
	}
}

static void on_probe_deadline(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	probe_end(arg);
}

static void on_probe_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct upstream_list *l = arg;
	uint8_t q[300];

	if (l->probing)
		probe_end(l);
	l->probing = true;
	l->probes++;
	for (size_t i = 0; i < l->n; i++) {
		struct upstream *u = &l->u[i];
		getrandom(&u->probe_id, sizeof(u->probe_id), 0);
		int len = l->probe_name[0]
				  ? dns_build_query(q, sizeof(q), u->probe_id, l->probe_name,
						    DNS_T_A, true)
				  : dns_build_query(q, sizeof(q), u->probe_id, "", DNS_T_NS, true);
		int fd = upstream_socket(u, SOCK_DGRAM, l->mark);
		if (fd < 0 || len < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (send(fd, q, (size_t)len, 0) < 0 ||
		    ev_add(loop, fd, EPOLLIN, on_probe_reply, u) < 0) {
			close(fd);
			u->healthy = false;
			continue;
		}
		u->probe_fd = fd;
	}
	uint32_t deadline = l->timeout_ms < 2000 ? l->timeout_ms : 2000;
	ev_timer_start(loop, &l->probe_deadline, deadline);
	ev_timer_start(loop, t, l->probe_interval_ms);
}

int upstream_start(struct upstream_list *l, struct ev_loop *loop, ev_io_cb *cb, void *arg,
		   struct err *e)
{
	l->loop = loop;
	for (size_t i = 0; i < l->n; i++) {
		struct upstream *u = &l->u[i];
		int fd = upstream_socket(u, SOCK_DGRAM, l->mark);
		if (fd < 0)
			return err_set(e, -fd, "upstream socket %s", u->name);
		int rcv = 1 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		u->udp_fd = fd;
		int r = ev_add(loop, fd, EPOLLIN, cb, arg);
		if (r < 0)
			return err_set(e, -r, "watch upstream socket");
	}
	ev_timer_init(&l->probe_timer, on_probe_timer, l);
	ev_timer_init(&l->probe_deadline, on_probe_deadline, l);
	ev_timer_start(loop, &l->probe_timer, 0);
	return 0;
}

void upstream_list_close(struct upstream_list *l)
{
	if (l->loop) {
		ev_timer_stop(l->loop, &l->probe_timer);
		ev_timer_stop(l->loop, &l->probe_deadline);
	}
	for (size_t i = 0; i < l->n; i++) {
		struct upstream *u = &l->u[i];
		for (int k = 0; k < 2; k++) {
			int *fd = k ? &u->probe_fd : &u->udp_fd;
			if (*fd >= 0) {
				if (l->loop)
					ev_del(l->loop, *fd);
				close(*fd);
				*fd = -1;
			}
		}
	}
}
