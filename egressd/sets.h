/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sets: egressd's kernel state, through netfilter/ (raw netlink, no nft binary).
 *
 *   table ip  opensandbox_dns_redirect  chain output (nat, output, -100):
 *       exempt nameservers return; our marked upstream sockets return;
 *       udp/tcp dport 53 redirect to :15353          (both modes)
 *   table ip6 opensandbox_dns_redirect  the same for IPv6 (to [::1]:15353)
 *   table inet opensandbox              (dns+nft)    sets allow_v4 deny_v4
 *       allow_v6 deny_v6 (interval), dyn_allow_v4 dyn_allow_v6 (timeout 360 s),
 *       [doh_block_v4 doh_block_v6]; chain egress (filter, output, 0, policy
 *       from defaultAction).
 *
 * sets_install() replaces all of it in ONE transaction, re-adding the live
 * dynamic elements of a previous run with their remaining timeouts (restart
 * adopts what was learned). sets_update() changes only the static sets and the
 * chain policy, in one transaction, never touching the dynamic sets.
 * sets_learn() queues resolved addresses; sets_flush() (once per loop turn)
 * commits every address of the turn in one batch that restarts each timeout.
 *
 * Ownership: struct sets is caller-owned (it embeds the netlink socket);
 * sets_close() releases what it allocated.
 */
#ifndef EGRESSD_SETS_H
#define EGRESSD_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dns.h"
#include "err.h"
#include "expiry.h"
#include "nft.h"
#include "policy.h"

#define SETS_TABLE	    "opensandbox"
#define SETS_REDIRECT_TABLE "opensandbox_dns_redirect"
#define SETS_CHAIN	    "egress"
#define SETS_INPUT_CHAIN    "spoof_guard" /* drops forged replies looped back via lo */
#define SETS_DYN_TIMEOUT_S  360
#define SETS_PENDING_MAX    4096 /* addresses queued per turn before an early commit */

struct sets_upstream {
	struct policy_prefix ip;
	uint16_t port;
};

struct sets_config {
	bool nft;			       /* dns+nft */
	uint32_t mark;			       /* SO_MARK of our upstream sockets */
	uint16_t dns_port;		       /* 15353 */
	const struct sets_upstream *upstreams; /* accepted only with the mark, to ip:port */
	size_t nupstreams;
	const struct policy_prefix *exempt; /* nameservers the app may reach directly on 53 */
	size_t nexempt;
	bool block_doh;			 /* tcp/443 drop */
	const struct policy_prefix *doh; /* ... limited to these (NULL: everywhere) */
	size_t ndoh;
};

struct sets {
	struct nft_sock sock;
	bool open, ipv6_nat;
	struct sets_config cfg;
	struct nft_elem *pend[2]; /* [0] v4, [1] v6 */
	size_t npend[2];
	struct expiry expiry; /* promised expiry per learned address */
	uint64_t updates, errors, learned;
	size_t static_count[4]; /* allow_v4 deny_v4 allow_v6 deny_v6 */
	int policy;		/* chain policy now in the kernel */
};

/* Timeout for a learned address: clamp(ttl + 60, 60, 360) seconds. */
uint32_t sets_timeout_s(uint32_t ttl);

/* Normalises prefixes in place: masked, deduplicated, and any prefix contained
 * in another of the same family dropped. Returns the new count. */
size_t sets_normalize(struct policy_prefix *v, size_t n);

/* Opens the netlink socket; cfg (and the arrays it points to) must outlive s. */
int sets_open(struct sets *s, const struct sets_config *cfg, struct err *e);
void sets_close(struct sets *s);

/* The whole ruleset for the effective policy (layers as in policy_index_build). */
int sets_install(struct sets *s, const struct policy *const *layers, size_t n, int default_action,
		 struct err *e);
/* Static sets and chain policy only (dns+nft; a no-op in dns mode). */
int sets_update(struct sets *s, const struct policy *const *layers, size_t n, int default_action,
		struct err *e);

/* Queues addresses for the dynamic sets (dns+nft; ignored otherwise). */
void sets_learn(struct sets *s, const struct dns_addr *a, size_t n);
/* Commits the queued addresses; 0 (also when none) or -errno. */
int sets_flush(struct sets *s, struct err *e);
size_t sets_pending(const struct sets *s);

/* On exit: cleanup deletes our tables; otherwise the filter is left in place
 * with policy drop (created if absent) and DNS stays redirected (fail closed). */
int sets_shutdown(struct sets *s, bool cleanup, struct err *e);

/* Number of elements in a dynamic set (for metrics), or -errno. */
int sets_dyn_count(struct sets *s, int v6);

#endif
