/* SPDX-License-Identifier: Apache-2.0 */
/*
 * egressd: the shared state of the sidecar. One thread, one ev loop: every
 * policy mutation, always-file reload, DNS answer and nft batch runs on it,
 * so they are serialised by construction (no lock, no stale re-apply).
 *
 * Ownership: struct egressd lives in main.c for the whole process; it owns
 * the policies, the compiled index, the relay and the kernel state.
 */
#ifndef EGRESSD_EGRESSD_H
#define EGRESSD_EGRESSD_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"
#include "http_server.h"
#include "policy.h"
#include "sets.h"
#include "upstream.h"

#define EGRESSD_DNS_PORT	  15353
#define EGRESSD_DEFAULT_MARK	  0x4f530001u /* "OS" 1: unlikely to collide with other mark users */
#define EGRESSD_DEFAULT_MAX_RULES 4096
#define EGRESSD_RULES_DIR	  "/var/egress/rules"

struct relay;

struct egressd_metrics {
	uint64_t allowed, denied, formerr, servfail, upstream_failures, tc_retries, tcp_queries;
	uint64_t log_suppressed, api_mutations, api_failures, reloads;
	uint64_t latency_us_sum, latency_count;
};

/* An always-file's last seen state. */
struct always_file {
	char path[512];
	int action;
	bool present, loaded; /* loaded false: read it at the next check */
	int64_t mtime_ns;
	int64_t size;
};

struct egressd {
	struct ev_loop *loop;
	struct http_server *srv;

	/* configuration */
	bool nft_mode, cleanup_on_exit;
	uint32_t mark;
	const char *token;
	size_t max_rules; /* 0 = unlimited */
	const char *policy_file;
	const char *sandbox_id;
	char rules_dir[256];
	uint32_t reload_ms;

	/* policy state: effective = always_deny ++ always_allow ++ user */
	struct policy *user, *always_deny, *always_allow, *log_skip;
	struct policy_index *index, *skip_index;
	struct always_file always[2]; /* deny, allow */

	struct upstream_list ups;
	struct sets sets;
	struct sets_upstream nft_upstreams[UPSTREAM_MAX];
	struct policy_prefix exempt[UPSTREAM_MAX];
	size_t nexempt;
	struct policy_prefix *doh;
	size_t ndoh;
	struct relay *relay;
	bool ready;

	struct egressd_metrics m;
};

/* Applies a new user policy and/or new always rules (NULL: keep the current
 * one): compiles the index, changes the kernel's static sets in place (nft
 * mode), then swaps. On failure nothing changes and e says why. Takes
 * ownership of the non-NULL arguments only on success. */
int egressd_apply(struct egressd *x, struct policy *user, struct policy *always_deny,
		  struct policy *always_allow, struct err *e);

/* Writes the user policy to the policy file atomically (temp, fsync, rename,
 * fsync of the directory), keeping the file's mode (0600 when new). */
int egressd_persist(const struct egressd *x, const struct policy *p, struct err *e);

/* Reads the rules files that changed (mtime+size; a deleted file means no
 * rules) into out[0] (deny) and out[1] (allow), NULL when unchanged; returns 1
 * if any changed, 0 if none, -errno if a present file is unreadable. */
int always_reload(struct egressd *x, struct policy *out[2], struct err *e);
/* Parses one always-file body: one target per line, # comments. */
struct policy *always_parse(const char *text, size_t len, int action, const char *path);

/* The policy API routes (/policy, /healthz, /metrics, /credential-vault). */
int egress_api_routes(struct egressd *x);

/* DNS relay: listeners on 127.0.0.1 and ::1, forwarding, TCP. */
struct relay *relay_new(struct egressd *x, struct err *e);
void relay_free(struct relay *r);
/* End-of-turn work: commits learned addresses, then sends the held replies. */
void relay_turn(struct ev_loop *loop, void *arg);
/* Stops accepting queries (listeners closed; queries in flight are dropped). */
void relay_stop(struct relay *r);
size_t relay_inflight(const struct relay *r);

#endif
