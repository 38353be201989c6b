/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_netfilter: helpers shared by the netfilter tests. Every test that
 * touches the kernel runs its body in a forked child inside a network
 * namespace of its own (unshare(CLONE_NEWNET)), so the host's ruleset and
 * interfaces are never seen or changed. The body uses the usual CHECK
 * macros; the child's output is relayed by the parent, which counts the
 * child's failed checks into the parent's test, bounds the child's run
 * time, and reports a crash or a timeout as a failure. A missing
 * prerequisite (not root, no nf_tables, no nft CLI) prints "    skip: why".
 */
#ifndef TESTS_UNIT_TEST_NETFILTER_H
#define TESTS_UNIT_TEST_NETFILTER_H

#include <cJSON.h>
#include <stdbool.h>

#define NFTEST_SKIP 77

/* Runs body(arg) in a child in a fresh network namespace (loopback up),
 * for at most timeout_s seconds. Needs the nft CLI when need_nft. */
void nftest_in_netns(void (*body)(void *), void *arg, int timeout_s, bool need_nft,
		     const char *file, int line);
#define NFTEST_RUN(body, arg, timeout_s, need_nft)                                                 \
	nftest_in_netns(body, arg, timeout_s, need_nft, __FILE__, __LINE__)

/* Prints "    skip: <why>" and ends the child as skipped (child side only). */
void nftest_skip(const char *why) __attribute__((noreturn));

/* Runs a shell command (formatted); returns its exit status, -1 if it did not run. */
int nftest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `nft -j list ruleset` parsed; NULL on failure. Caller frees with cJSON_Delete. */
cJSON *nftest_ruleset(void);

/* The n-th (from 0) object of kind ("table", "chain", "set", "rule") in a
 * listing whose family, table and (if not NULL) name match; for rules, name
 * is the chain. Returns the inner object ({"family":..}) or NULL. */
cJSON *nftest_find(cJSON *ruleset, const char *kind, const char *family, const char *table,
		   const char *name, int n);

/* Removes the keys that differ between equal objects ("handle", "table",
 * "expires") at every depth. */
void nftest_strip(cJSON *j);

/* Monotonic milliseconds. */
long long nftest_ms(void);

#endif
