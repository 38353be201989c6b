// SPDX-License-Identifier: Apache-2.0
/*
 * tool_egress_dnslat: closed-loop DNS latency. Sends N queries over UDP, one
 * at a time, to ADDR PORT for NAME (its first label gets the query number
 * appended: l.bench.test -> l0.bench.test, l1.bench.test, ...) and
 * prints "p50_us=.. p99_us=.. lost=..". A query without an answer in 1 s
 * counts as lost. Built on egressd's codec.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../egressd/dns.h"

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: tool_egress_dnslat ADDR PORT NAME COUNT\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	int n = atoi(argv[4]), lost = 0, got = 0;
	long long *lat = calloc((size_t)n, sizeof(*lat));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!lat || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		char name[256];
		uint8_t q[512], r[4096];
		const char *dot = strchr(argv[3], '.');
		int head = dot ? (int)(dot - argv[3]) : (int)strlen(argv[3]);
		snprintf(name, sizeof(name), "%.*s%d%s", head, argv[3], i, dot ? dot : "");
		int ql = dns_build_query(q, sizeof(q), (uint16_t)i, name, DNS_T_A, true);
		long long t0 = now_ns();
		if (ql < 0 || send(fd, q, (size_t)ql, 0) < 0)
			return 1;
		for (;;) {
			struct pollfd p = {fd, POLLIN, 0};
			if (poll(&p, 1, 1000) <= 0) {
				lost++;
				break;
			}
			ssize_t k = recv(fd, r, sizeof(r), 0);
			if (k >= 2 && r[0] == q[0] && r[1] == q[1]) {
				lat[got++] = (now_ns() - t0) / 1000;
				break;
			}
		}
	}
	qsort(lat, (size_t)got, sizeof(*lat), cmp);
	printf("p50_us=%lld p99_us=%lld lost=%d\n", got ? lat[got / 2] : -1,
	       got ? lat[(size_t)got * 99 / 100] : -1, lost);
	return 0;
}
