// SPDX-License-Identifier: Apache-2.0
/*
 * A stub DNS server for the sandbox-api egress test: UDP on port 53, answers
 * A queries for the names given as "name=ipv4" arguments, NXDOMAIN for any
 * other name, an empty answer for other types. Built static by the test and
 * run FROM scratch, so no real resolver is ever asked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("stub_dns: bind :53");
		return 1;
	}
	for (;;) {
		unsigned char q[512], r[600];
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&peer, &plen);
		if (n < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1)
			continue;
		/* The question name as dotted text, and where the question ends. */
		char name[256];
		size_t pos = 12, nl = 0;
		while (pos < (size_t)n && q[pos] && nl < 200) {
			size_t l = q[pos++];
			if (l > 63 || pos + l > (size_t)n)
				break;
			if (nl)
				name[nl++] = '.';
			memcpy(name + nl, q + pos, l);
			nl += l;
			pos += l;
		}
		name[nl] = '\0';
		if (pos + 5 > (size_t)n)
			continue;
		uint16_t qtype = (uint16_t)(q[pos + 1] << 8 | q[pos + 2]);
		size_t qend = pos + 5;
		const char *ip = NULL;
		for (int i = 1; i < argc; i++) {
			const char *eq = strchr(argv[i], '=');
			if (eq && (size_t)(eq - argv[i]) == nl && !strncasecmp(argv[i], name, nl))
				ip = eq + 1;
		}
		memcpy(r, q, qend);
		r[2] = 0x84 | (q[2] & 0x01); /* response, authoritative, RD copied */
		r[3] = ip ? 0x00 : 0x03;     /* NOERROR or NXDOMAIN */
		r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
		size_t len = qend;
		struct in_addr addr;
		if (ip && qtype == 1 && inet_pton(AF_INET, ip, &addr) == 1) {
			r[7] = 1;
			unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
			memcpy(r + len, rr, sizeof(rr));
			len += sizeof(rr);
			memcpy(r + len, &addr, 4);
			len += 4;
		}
		sendto(fd, r, len, 0, (struct sockaddr *)&peer, plen);
	}
}
