/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upstream: the resolvers egressd forwards to. The list comes from
 * OPENSANDBOX_EGRESS_DNS_UPSTREAM (literal IPs only, so egressd never needs
 * DNS itself) or /etc/resolv.conf; health probes on the ev loop keep the
 * "active" subset (the healthy ones in configured order, or all of them when
 * none answers). Every socket towards an upstream carries the mark, which the
 * redirect returns and the filter accepts only towards these ip:port pairs.
 *
 * Ownership: struct upstream_list is caller-owned; upstream_list_close()
 * closes its sockets and stops its timers.
 */
#ifndef EGRESSD_UPSTREAM_H
#define EGRESSD_UPSTREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "ev.h"

#define UPSTREAM_MAX	  10
#define UPSTREAM_FALLBACK "8.8.8.8"

struct upstream {
	struct sockaddr_storage addr;
	socklen_t alen;
	char name[64]; /* "192.0.2.1:53" or "[2001:db8::1]:53" */
	bool healthy;
	int udp_fd;   /* forwarding socket (connected, marked), owned by the list */
	int probe_fd; /* -1 between probes */
	uint16_t probe_id;
	uint64_t failures;
};

struct upstream_list {
	struct upstream u[UPSTREAM_MAX];
	size_t n;
	uint32_t mark;
	uint32_t timeout_ms;	    /* per exchange */
	uint32_t probe_interval_ms; /* between probe rounds */
	char probe_name[256];	    /* "" = ". NS", else "<name> A" */
	struct ev_loop *loop;
	struct ev_timer probe_timer, probe_deadline;
	bool probing;
	uint64_t probes;
};

/* Parses "ip", "ip:port", "[v6]", "[v6]:port" (default port 53). 0 or -EINVAL with e set. */
int upstream_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			struct err *e);
/* Adds a comma list (deduplicated, at most UPSTREAM_MAX). 0 or -EINVAL (a host name). */
int upstream_parse_list(struct upstream_list *l, const char *list, struct err *e);
/* Adds the nameservers of a resolv.conf (non-loopback first, then loopback);
 * returns how many were added (0: none or unreadable). */
int upstream_from_resolv(struct upstream_list *l, const char *path);

/* Formats ip:port of an address into out. */
void upstream_addr_str(const struct sockaddr_storage *ss, char *out, size_t cap);

/* A non-blocking, close-on-exec socket of type towards u, marked with mark; -errno. */
int upstream_socket(const struct upstream *u, int type, uint32_t mark);

/* Opens the forwarding sockets and starts probing; cb is called for every
 * readable forwarding socket. 0 or -errno. */
int upstream_start(struct upstream_list *l, struct ev_loop *loop, ev_io_cb *cb, void *arg,
		   struct err *e);
void upstream_list_close(struct upstream_list *l);

/* The indices of the upstreams to try, in order; returns how many. */
size_t upstream_active(const struct upstream_list *l, size_t *order);

#endif
