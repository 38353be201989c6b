// SPDX-License-Identifier: Apache-2.0
/*
 * Real packets. The test's namespace A (made by the harness) and a second
 * namespace B (a grandchild that unshares its own) are joined by a veth
 * pair with TEST-NET-1 and ULA addresses configured here; B runs tiny TCP
 * and UDP echo listeners. An egress ruleset built with the library in A
 * (policy drop, allow sets, a deny set, a port drop, a TCP reset, an ICMP
 * reject, a mark bypass, and a DNS-style redirect in the nat hook) must let
 * through or stop actual traffic as written, also while its sets change.
 * No packet leaves the two namespaces the test created.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "nft.h"
#include "test_netfilter.h"
#include "unit.h"

#define A4 "192.0.2.1"
#define B4 "192.0.2.2"
#define A6 "fd00:7e57::1"
#define B6 "fd00:7e57::2"
/* How long a probe waits: long enough for a passing one on a loaded machine
 * (it returns as soon as it passes), short for one that must be dropped. */
#define PASS_MS	 2000
#define BLOCK_MS 300

static const int tcp_ports[] = {8080, 8081, 8082};

static int listen_on(int type, int port)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_ANY_INIT};
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), zero = 0, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Echo service until `ctl` closes or 20 s pass: TCP echoes one read and
 * closes; UDP echoes each datagram. */
static void serve(int ctl, int *fds, int n)
{
	struct pollfd p[8];
	long long end = nftest_ms() + 20000;

	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	p[n] = (struct pollfd){.fd = ctl, .events = POLLIN};
	while (nftest_ms() < end) {
		if (poll(p, (nfds_t)n + 1, 100) < 0 || (p[n].revents & (POLLIN | POLLHUP)))
			return;
		for (int i = 0; i < n; i++) {
			char buf[512];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			if (!(p[i].revents & POLLIN))
				continue;
			int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				struct pollfd cp = {.fd = c, .events = POLLIN};
				if (poll(&cp, 1, 500) == 1 && (r = read(c, buf, sizeof(buf))) > 0)
					(void)!write(c, buf, (size_t)r);
				close(c);
				continue;
			}
			r = recvfrom(fds[i], buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (r > 0)
				sendto(fds[i], buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
		}
	}
}

/* Namespace B: waits to be given the veth end, configures it, listens. */
static void peer(int up, int down)
{
	int fds[5], n = 0;
	char c;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(2);
	if (write(up, "r", 1) != 1 || read(down, &c, 1) != 1)
		_exit(2);
	if (nftest_sh("ip link set lo up && ip addr add " B4 "/24 dev nfb && "
		      "ip -6 addr add " B6 "/64 dev nfb nodad && ip link set nfb up") != 0)
		_exit(3);
	for (size_t i = 0; i < sizeof(tcp_ports) / sizeof(tcp_ports[0]); i++)
		fds[n++] = listen_on(SOCK_STREAM, tcp_ports[i]);
	fds[n++] = listen_on(SOCK_DGRAM, 5353);
	for (int i = 0; i < n; i++)
		if (fds[i] < 0)
			_exit(4);
	if (write(up, "l", 1) != 1)
		_exit(2);
	serve(down, fds, n);
	_exit(0);
}

static int addr_of(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return (int)sizeof(*s4);
	}
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	return (int)sizeof(*s6);
}

/* A round trip to ip:port: 0 when "ping" comes back, -ETIMEDOUT when nothing
 * comes within wait_ms, -EPERM when the output hook dropped our datagram, or
 * the socket error (-ECONNREFUSED for a TCP reset or an ICMP unreachable). */
static int probe(int type, const char *ip, int port, uint32_t mark, int wait_ms)
{
	struct sockaddr_storage ss;
	int len = addr_of(ip, port, &ss), fd, err = 0, r = -ETIMEDOUT;
	socklen_t el = sizeof(err);
	struct pollfd p;
	char buf[8];

	fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, wait_ms) != 1)
		goto out;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		r = -err;
		goto out;
	}
	/* A locally sent datagram that the output hook drops fails with EPERM. */
	int sent = send(fd, "ping", 4, 0) == 4 ? 0 : -errno;
	if (sent < 0 && sent != -EPERM) {
		r = sent;
		goto out;
	}
	/* A reject's ICMP error still reaches the socket; otherwise EPERM says dropped. */
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) != 1) {
		r = sent ? sent : r;
		goto out;
	}
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	r = n == 4 && memcmp(buf, "ping", 4) == 0 ? 0 : n < 0 ? -errno : -EPROTO;
out:
	close(fd);
	return r;
}

static int udp_redirect_listener(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(15353),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Sends to B4:53 (nothing listens there), which the nat rule redirects to
 * our 127.0.0.1:15353; answers from there. 0 when the answer arrives. */
static int dns_redirected(int lfd)
{
	struct sockaddr_storage ss;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	int len = addr_of(B4, 53, &ss), fd, r = -ETIMEDOUT;
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	char buf[16];

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, "q", 1, 0, (struct sockaddr *)&ss, (socklen_t)len) != 1)
		goto out;
	if (poll(&p, 1, PASS_MS) != 1 ||
	    recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) != 1)
		goto out;
	sendto(lfd, "a", 1, 0, (struct sockaddr *)&from, fl);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, PASS_MS) == 1 && recv(fd, buf, sizeof(buf), 0) == 1 && buf[0] == 'a')
		r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static const struct nft_set allow4 = {"allow_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set allow6 = {"allow_v6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};
static const struct nft_set deny4 = {"deny_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set dyn4 = {"dyn_v4", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 0};

#define RULE(...)                                                                                  \
	do {                                                                                       \
		CHECK_INT(nft_rule_begin(b, NFT_INET, "egress", "out", &e), 0);                    \
		__VA_ARGS__;                                                                       \
		if (nft_rule_end(b, &e) < 0)                                                       \
			unit_fail(__FILE__, __LINE__, "%s", e.msg);                                \
	} while (0)

static void egress_ruleset(struct nft_batch *b)
{
	static const struct nft_chain_hook out = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0, NFT_V_DROP},
					   nat = {NFT_TYPE_NAT, NFT_HOOK_OUTPUT, -100,
						  NFT_V_ACCEPT};
	struct nft_elem a4, a6, lo;
	struct err e = {0};

	nft_elem_parse(&a4, "192.0.2.0/30");
	nft_elem_parse(&a6, B6);
	nft_elem_parse(&lo, "127.0.0.1");
	CHECK_INT(nft_table_recreate(b, NFT_INET, "egress", &e), 0);
	CHECK_INT(nft_set_add(b, NFT_INET, "egress", &allow4, &e), 0);
	CHECK_INT(nft_set_add(b, NFT_INET, "egress", &allow6, &e), 0);
	CHECK_INT(nft_set_add(b, NFT_INET, "egress", &deny4, &e), 0);
	CHECK_INT(nft_set_add(b, NFT_INET, "egress", &dyn4, &e), 0);
	CHECK_INT(nft_elem_add(b, NFT_INET, "egress", &allow4, &a4, 1, &e), 0);
	CHECK_INT(nft_elem_add(b, NFT_INET, "egress", &allow6, &a6, 1, &e), 0);
	CHECK_INT(nft_chain_add(b, NFT_INET, "egress", "out", &out, &e), 0);
	CHECK_INT(nft_chain_add(b, NFT_INET, "egress", "nat", &nat, &e), 0);
	RULE(nft_match_ct_state(b, NFT_CTS_ESTABLISHED | NFT_CTS_RELATED),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_mark(b, 1), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_oifname(b, "lo"), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_daddr(b, NFT_KEY_IPV4, &lo), nft_match_dport(b, IPPROTO_UDP, 15353),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_l4proto(b, IPPROTO_ICMPV6), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_dport(b, IPPROTO_TCP, 8081), nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE(nft_match_dport(b, IPPROTO_TCP, 8082), nft_expr_reject(b, NFT_RJ_TCP_RST, 0));
	RULE(nft_match_dport(b, IPPROTO_UDP, 5354),
	     nft_expr_reject(b, NFT_RJ_ICMPX, NFT_RJ_PORT_UNREACH));
	RULE(nft_match_daddr_set(b, NFT_KEY_IPV4, "deny_v4", false), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE(nft_match_daddr_set(b, NFT_KEY_IPV4, "dyn_v4", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_daddr_set(b, NFT_KEY_IPV4, "allow_v4", false), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE(nft_match_daddr_set(b, NFT_KEY_IPV6, "allow_v6", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	CHECK_INT(nft_rule_begin(b, NFT_INET, "egress", "nat", &e), 0);
	CHECK_INT(nft_match_dport(b, IPPROTO_UDP, 53), 0);
	CHECK_INT(nft_expr_redir_port(b, 15353), 0);
	CHECK_INT(nft_rule_end(b, &e), 0);
}

static long long counter_packets(const char *set)
{
	cJSON *rs = nftest_ruleset(), *rule, *x;
	long long n = -1;

	for (int i = 0; (rule = nftest_find(rs, "rule", "inet", "egress", "out", i)); i++) {
		char *t = cJSON_PrintUnformatted(rule);
		bool mine = t && strstr(t, set);
		free(t);
		if (!mine)
			continue;
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(rule, "expr"))
		{
			cJSON *c = cJSON_GetObjectItem(x, "counter");
			if (c)
				n = (long long)cJSON_GetNumberValue(
					cJSON_GetObjectItem(c, "packets"));
		}
	}
	cJSON_Delete(rs);
	return n;
}

static void traffic_body(void *arg)
{
	static unsigned char mem[64 * 1024] __attribute__((aligned(8)));
	int up[2], down[2], lfd;
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem peer4, dyn;
	pid_t pid;
	char c;

	(void)arg;
	if (nftest_sh("ip -V >/dev/null 2>&1") != 0)
		nftest_skip("iproute2 (ip) is not installed");
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		peer(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	struct pollfd p = {.fd = up[0], .events = POLLIN};
	CHECK(poll(&p, 1, 3000) == 1 && read(up[0], &c, 1) == 1 && c == 'r');
	CHECK_INT(nftest_sh("ip link add nfa type veth peer name nfb && "
			    "ip link set nfb netns %d && ip addr add " A4 "/24 dev nfa && "
			    "ip -6 addr add " A6 "/64 dev nfa nodad && ip link set nfa up",
			    (int)pid),
		  0);
	CHECK(write(down[1], "m", 1) == 1);
	CHECK(poll(&p, 1, 5000) == 1 && read(up[0], &c, 1) == 1 && c == 'l');

	/* Without a ruleset everything passes (and the link is up). */
	int ok = -1;
	for (int i = 0; i < 20 && ok != 0; i++)
		ok = probe(SOCK_STREAM, B4, 8080, 0, BLOCK_MS);
	CHECK_INT(ok, 0);
	CHECK_INT(probe(SOCK_STREAM, B4, 8081, 0, PASS_MS), 0);

	CHECK_INT(nft_open(&s, &e), 0);
	nft_batch_init(&b, &s, mem, sizeof(mem));
	egress_ruleset(&b);
	if (nft_batch_commit(&b, &e) < 0)
		unit_fail(__FILE__, __LINE__, "commit: %s", e.msg);

	CHECK_INT(probe(SOCK_STREAM, B4, 8080, 0, PASS_MS), 0);		    /* allow_v4 */
	CHECK_INT(probe(SOCK_DGRAM, B4, 5353, 0, PASS_MS), 0);		    /* allow_v4, udp */
	CHECK_INT(probe(SOCK_STREAM, B6, 8080, 0, PASS_MS), 0);		    /* allow_v6 */
	CHECK_INT(probe(SOCK_STREAM, B4, 8081, 0, BLOCK_MS), -ETIMEDOUT);   /* tcp dport drop */
	CHECK_INT(probe(SOCK_STREAM, B4, 8082, 0, PASS_MS), -ECONNREFUSED); /* reject tcp reset */
	CHECK_INT(probe(SOCK_DGRAM, B4, 5354, 0, PASS_MS), -ECONNREFUSED);  /* reject icmpx */
	CHECK(counter_packets("allow_v4") > 0);
	lfd = udp_redirect_listener();
	CHECK(lfd >= 0);
	CHECK_INT(dns_redirected(lfd), 0); /* nat redirect */

	/* Deny beats allow; the mark bypasses both; deleting the deny restores. */
	nft_elem_parse(&peer4, B4);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "egress", &deny4, &peer4, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(probe(SOCK_STREAM, B4, 8080, 0, BLOCK_MS), -ETIMEDOUT);
	CHECK_INT(probe(SOCK_STREAM, B4, 8080, 1, PASS_MS), 0); /* meta mark 0x1 accept */
	CHECK(counter_packets("deny_v4") > 0);
	CHECK_INT(nft_elem_del(&b, NFT_INET, "egress", &deny4, &peer4, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(probe(SOCK_STREAM, B4, 8080, 0, PASS_MS), 0);

	/* Without the static allow the policy drops, until a dynamic element allows. */
	CHECK_INT(nft_set_flush(&b, NFT_INET, "egress", "allow_v4", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(probe(SOCK_DGRAM, B4, 5353, 0, BLOCK_MS), -EPERM); /* policy drop */
	dyn = peer4;
	dyn.timeout_ms = 60000;
	CHECK_INT(nft_elem_refresh(&b, NFT_INET, "egress", &dyn4, &dyn, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(probe(SOCK_DGRAM, B4, 5353, 0, PASS_MS), 0);

	if (lfd >= 0)
		close(lfd);
	nft_close(&s);
	close(down[1]);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(up[0]);
}

TEST(netfilter_traffic_veth_pair)
{
	NFTEST_RUN(traffic_body, NULL, 20, true);
}
