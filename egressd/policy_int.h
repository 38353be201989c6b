/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_int: what the policy module's files share. A set of rule targets
 * compared case-insensitively (ASCII), the identity PATCH and DELETE use, so
 * both run in time linear in the rules. The hash is keyed per process
 * (SipHash-1-3 over a random key): an API caller cannot choose targets that
 * pile into one probe chain.
 *
 * Ownership: the set holds pointers to the caller's strings, which must
 * outlive it; policy_set_free releases only the table.
 */
#ifndef EGRESSD_POLICY_INT_H
#define EGRESSD_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy_set_slot {
	uint64_t hash;
	const char *s; /* NULL: empty */
};

struct policy_set {
	struct policy_set_slot *slots;
	size_t mask, n;
	size_t probes; /* slots looked at so far: tests check it stays linear */
};

/* Room for up to n strings. 0 or -ENOMEM. */
int policy_set_init(struct policy_set *s, size_t n);
void policy_set_free(struct policy_set *s);
/* 1 if t was added, 0 if an equal string is already in, -ENOSPC once the
 * table is half full (never within the n it was sized for). */
int policy_set_add(struct policy_set *s, const char *t);
bool policy_set_has(struct policy_set *s, const char *t);

#endif
