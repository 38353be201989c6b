/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy: the egress policy model {defaultAction, egress:[{action,target}]},
 * its strict JSON loader, the PATCH/DELETE mutations, serialisation, and the
 * compiled name matcher.
 *
 * Targets are classified as an IP literal, a CIDR (host bits cleared), a
 * wildcard "*.name" or an exact domain name; anything else is rejected with
 * a message naming the field (e.g. "egress[2].target: invalid domain name
 * \"a b\""). Domain keys are lowercase without a trailing dot.
 *
 * Ownership: a struct policy owns its rules and their strings (policy_free).
 * A struct policy_index owns copies of its keys and is independent of the
 * policies it was built from (policy_index_free).
 *
 * Matching (policy_match) checks the exact name and then every proper suffix
 * for a wildcard in two hash tables, keeping the lowest rule index (first
 * match in list order): O(length of the name), whatever the number of rules.
 */
#ifndef EGRESSD_POLICY_H
#define EGRESSD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum policy_action { POLICY_DENY = 0, POLICY_ALLOW = 1 };
enum policy_kind { POLICY_DOMAIN, POLICY_WILDCARD, POLICY_IP, POLICY_CIDR };

struct policy_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* prefix length; 32 or 128 for one address */
	uint8_t addr[16];
};

struct policy_rule {
	uint8_t action, kind;
	char *target; /* trimmed, as given (what GET echoes) */
	char *key;    /* domain kinds: lowercase, no "*." and no trailing dot; else NULL.
		       * It shares the target's allocation (policy_rule_clear frees both). */
	struct policy_prefix net; /* IP and CIDR kinds */
};

struct policy {
	int default_action;
	bool egress_present; /* false: "egress":null when serialised */
	size_t n;
	struct policy_rule *rules;
};

/* The default policy: deny, no rules. NULL on out of memory. */
struct policy *policy_new(void);
void policy_free(struct policy *p);
struct policy *policy_clone(const struct policy *p);

/* Parses a policy body. Empty (after trimming), "null" or "{}" give the
 * default deny. Unknown fields are ignored; defaultAction must be allow or
 * deny (empty or missing: deny). More than max rules (0: no limit) is -E2BIG,
 * found before any rule is read. Returns 0 or -EINVAL/-E2BIG/-ENOMEM with e set. */
int policy_parse(const char *text, size_t len, size_t max, struct policy **out, struct err *e);

/* Parses a JSON array of rules (the PATCH body) into a policy holding just
 * them (n >= 1); more than max (0: no limit) is -E2BIG before any rule is
 * read. 0 or -errno with e set ("empty array" for []). */
int policy_parse_rules(const char *text, size_t len, size_t max, struct policy **out,
		       struct err *e);

/* Parses a JSON array of target strings (the DELETE body); *targets is one
 * allocation holding the pointers and strings (free() it). 0 or -errno. */
int policy_parse_targets(const char *text, size_t len, char ***targets, size_t *n, struct err *e);

/* Fills a rule from action ("" means deny) and target (trimmed, classified).
 * field names the rule in messages ("egress[3]"). 0 or -errno with e set. */
int policy_rule_init(struct policy_rule *r, const char *action, const char *target,
		     const char *field, struct err *e);
void policy_rule_clear(struct policy_rule *r);

/* PATCH: the patch rules first (the first of equal targets wins), then the
 * base rules whose target (lowercased) is not in the patch. Consumes patch
 * (its rules move into the result; freed on failure too). Hashed: linear in
 * base->n + patch->n. NULL on OOM. */
struct policy *policy_merge(const struct policy *base, struct policy *patch);

/* DELETE: base without every rule whose target equals (trimmed, case-insensitive)
 * one of targets; *removed counts them. Linear in base->n + n. NULL on OOM. */
struct policy *policy_remove(const struct policy *base, char *const *targets, size_t n,
			     size_t *removed);

/* "allow_all", "deny_all" or "enforcing". */
const char *policy_mode(const struct policy *p);
const char *policy_action_name(int action);

/* Appends {"egress":[...],"defaultAction":".."}: compact, or indented with two
 * spaces (the persisted file). 0 or -errno. */
int policy_to_json(const struct policy *p, struct buf *b, bool indent);

/* Whether text is a valid domain pattern once lowercased ("*." allowed in front). */
bool policy_domain_valid(const char *key, size_t len);

/* Parses an IP or CIDR ("192.0.2.1", "10.0.0.1/8" -> 10.0.0.0/8). 0 or -EINVAL. */
int policy_prefix_parse(const char *text, struct policy_prefix *out);
/* Writes a prefix as text ("192.0.2.0/24", a host without the length). */
void policy_prefix_str(const struct policy_prefix *pf, char *out, size_t cap);

/* ---- matcher ---------------------------------------------------------- */

struct policy_index;

/* Compiles the domain rules of layers[0..n) as one list in that order
 * (deny.always, allow.always, user). NULL on OOM. */
struct policy_index *policy_index_build(const struct policy *const *layers, size_t n,
					int default_action);
void policy_index_free(struct policy_index *ix);

/* The verdict for a query name (any case, one trailing dot allowed); *rule
 * (if not NULL) gets the index of the deciding rule, -1 for the default. */
int policy_match(const struct policy_index *ix, const char *name, int *rule);

#endif
