// SPDX-License-Identifier: Apache-2.0
/*
 * tool_egress_stub: test servers for the egressd suites, built on egressd's
 * own DNS codec.
 *
 *   tool_egress_stub dns ZONEFILE ADDR:PORT...    authoritative stub, UDP + TCP
 *   tool_egress_stub http ADDR:PORT...            answers "hello <local address>"
 *
 * Zone file lines: NAME TYPE VALUE TTL [tc]; TYPE is A, AAAA, CNAME or TXT;
 * NAME may start with "*." (any name below it); "tc" answers UDP queries for
 * NAME with TC=1 and no records (truncation on demand). CNAME chains are
 * followed inside the zone. Unknown names get NXDOMAIN. Every query is logged
 * to stdout as "dns udp|tcp NAME TYPE" (flushed), so tests can see what
 * reached the upstream. Single-threaded, poll(2), bounded buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../egressd/dns.h"

#define MAX_ENTRIES 256
#define MAX_FDS	    64

struct entry {
	char name[256];
	int type;
	char value[256];
	uint32_t ttl;
	int tc;
	int drop; /* never answered: the client's query times out */
};

static struct entry zone[MAX_ENTRIES];
static int nzone;
static int quiet;

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[') {
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	int port = atoi(colon + 1);
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static int bind_sock(const char *spec, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	if (parse_addr(spec, &ss, &len) < 0) {
		fprintf(stderr, "stub: bad address %s\n", spec);
		exit(2);
	}
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		fprintf(stderr, "stub: bind %s: %s\n", spec, strerror(errno));
		exit(2);
	}
	if (type == SOCK_DGRAM) {
		int b = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof(b));
	}
	return fd;
}

static int type_of(const char *s)
{
	return !strcasecmp(s, "A")	 ? DNS_T_A
	       : !strcasecmp(s, "AAAA")	 ? DNS_T_AAAA
	       : !strcasecmp(s, "CNAME") ? DNS_T_CNAME
	       : !strcasecmp(s, "TXT")	 ? DNS_T_TXT
					 : -1;
}

static void load_zone(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) && nzone < MAX_ENTRIES) {
		struct entry *e = &zone[nzone];
		char type[16], flag[16] = "";
		if (line[0] == '#' || sscanf(line, "%255s %15s %255s %u %15s", e->name, type,
					     e->value, &e->ttl, flag) < 4)
			continue;
		e->type = type_of(type);
		e->tc = !strcmp(flag, "tc");
		e->drop = !strcmp(flag, "drop");
		if (e->type > 0)
			nzone++;
	}
	fclose(f);
}

static bool name_match(const char *pattern, const char *name)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t pl = strlen(pattern + 1), nl = strlen(name);
		return nl > pl && !strcasecmp(name + nl - pl, pattern + 1);
	}
	return !strcasecmp(pattern, name);
}

static void put_rr(struct dns_writer *w, const char *owner, const struct entry *e, int *count)
{
	dns_w_name(w, owner);
	dns_w_u16(w, (uint16_t)e->type);
	dns_w_u16(w, DNS_CLASS_IN);
	dns_w_u32(w, e->ttl);
	if (e->type == DNS_T_A || e->type == DNS_T_AAAA) {
		uint8_t a[16];
		int fam = e->type == DNS_T_A ? AF_INET : AF_INET6;
		inet_pton(fam, e->value, a);
		dns_w_u16(w, e->type == DNS_T_A ? 4 : 16);
		dns_w_bytes(w, a, e->type == DNS_T_A ? 4 : 16);
	} else if (e->type == DNS_T_CNAME) {
		uint8_t tmp[300];
		struct dns_writer nw;
		dns_w_init(&nw, tmp, sizeof(tmp));
		dns_w_name(&nw, e->value);
		dns_w_u16(w, (uint16_t)nw.len);
		dns_w_bytes(w, tmp, nw.len);
	} else {
		size_t l = strlen(e->value);
		uint8_t n = (uint8_t)(l > 255 ? 255 : l);
		dns_w_u16(w, (uint16_t)(n + 1));
		dns_w_bytes(w, &n, 1);
		dns_w_bytes(w, e->value, n);
	}
	(*count)++;
}

/* Builds the answer to q into out; returns the length or -1 (no answer). */
static int answer(const uint8_t *q, size_t qlen, bool udp, uint8_t *out, size_t cap)
{
	struct dns_msg m;
	if (dns_parse(q, qlen, &m) < 0 || m.qdcount != 1 || (m.flags & DNS_F_QR))
		return -1;
	if (!quiet) {
		printf("dns %s %s %u\n", udp ? "udp" : "tcp", m.qname, m.qtype);
		fflush(stdout);
	}
	char name[256];
	snprintf(name, sizeof(name), "%s", m.qname);
	bool found = false, tc = false;
	int an = 0;
	struct dns_writer w;
	uint8_t body[8192];
	dns_w_init(&w, body, sizeof(body));
	for (int hops = 0; hops < 8; hops++) {
		bool cname = false;
		for (int i = 0; i < nzone; i++) {
			if (!name_match(zone[i].name, name))
				continue;
			found = true;
			if (zone[i].drop)
				return 0;
			if (zone[i].tc && udp)
				tc = true;
			if (zone[i].type == DNS_T_CNAME) {
				put_rr(&w, name, &zone[i], &an);
				snprintf(name, sizeof(name), "%s", zone[i].value);
				cname = true;
				break;
			}
			if (zone[i].type == m.qtype)
				put_rr(&w, name, &zone[i], &an);
		}
		if (!cname)
			break;
	}
	struct dns_writer o;
	dns_w_init(&o, out, cap);
	uint16_t flags = (uint16_t)(DNS_F_QR | DNS_F_AA | (m.flags & DNS_F_RD) |
				    (found ? DNS_NOERROR : DNS_NXDOMAIN) | (tc ? DNS_F_TC : 0));
	dns_w_header(&o, m.id, flags, 1, tc ? 0 : (uint16_t)an, 0, m.has_opt ? 1 : 0);
	dns_w_bytes(&o, q + DNS_HDR_LEN, m.question_end - DNS_HDR_LEN);
	if (!tc)
		dns_w_bytes(&o, body, w.len);
	if (m.has_opt)
		dns_w_opt(&o, 1232, 0);
	return dns_w_done(&o);
}

static void serve_tcp_dns(int cfd)
{
	uint8_t in[65537], out[65537];
	struct timeval tv = {2, 0};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int k = 0; k < 64; k++) {
		size_t got = 0, need = 2;
		while (got < need) {
			ssize_t n = read(cfd, in + got, need - got);
			if (n <= 0)
				return;
			got += (size_t)n;
			if (got == 2)
				need = 2 + ((size_t)in[0] << 8 | in[1]);
		}
		int l = answer(in + 2, need - 2, false, out + 2, sizeof(out) - 2);
		if (l < 0)
			return;
		out[0] = (uint8_t)(l >> 8);
		out[1] = (uint8_t)l;
		if (write(cfd, out, (size_t)l + 2) < 0)
			return;
	}
}

static void serve_http(int cfd, const char *local)
{
	char req[2048], resp[512];
	struct timeval tv = {2, 0};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = read(cfd, req, sizeof(req));
	(void)n;
	int l = snprintf(resp, sizeof(resp),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\nhello %s\n",
			 strlen(local) + 7, local);
	if (write(cfd, resp, (size_t)l) < 0)
		return;
}

int main(int argc, char **argv)
{
	struct pollfd pf[MAX_FDS];
	int kind[MAX_FDS]; /* 0 udp dns, 1 tcp dns, 2 http */
	const char *spec[MAX_FDS];
	int n = 0, first = 2;
	static uint8_t in[65536], out[65536];

	signal(SIGPIPE, SIG_IGN);
	if (argc < 3) {
		fprintf(stderr,
			"usage: tool_egress_stub dns ZONE ADDR:PORT... | http ADDR:PORT...\n");
		return 2;
	}
	bool dns = !strcmp(argv[1], "dns");
	quiet = getenv("STUB_QUIET") != NULL;
	if (dns) {
		load_zone(argv[2]);
		first = 3;
	}
	for (int i = first; i < argc && n + 2 <= MAX_FDS; i++) {
		if (dns) {
			spec[n] = argv[i];
			kind[n] = 0;
			pf[n++] = (struct pollfd){bind_sock(argv[i], SOCK_DGRAM), POLLIN, 0};
			spec[n] = argv[i];
			kind[n] = 1;
			pf[n++] = (struct pollfd){bind_sock(argv[i], SOCK_STREAM), POLLIN, 0};
		} else {
			spec[n] = argv[i];
			kind[n] = 2;
			pf[n++] = (struct pollfd){bind_sock(argv[i], SOCK_STREAM), POLLIN, 0};
		}
	}
	printf("stub ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			if (kind[i] == 0) {
				for (int k = 0; k < 64; k++) {
					struct sockaddr_storage peer;
					socklen_t pl = sizeof(peer);
					ssize_t r = recvfrom(pf[i].fd, in, sizeof(in), MSG_DONTWAIT,
							     (struct sockaddr *)&peer, &pl);
					if (r < 0)
						break;
					int l = answer(in, (size_t)r, true, out, sizeof(out));
					if (l > 0)
						sendto(pf[i].fd, out, (size_t)l, 0,
						       (struct sockaddr *)&peer, pl);
				}
				continue;
			}
			int cfd = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd < 0)
				continue;
			if (kind[i] == 1)
				serve_tcp_dns(cfd);
			else
				serve_http(cfd, spec[i]);
			close(cfd);
		}
	}
}
