// SPDX-License-Identifier: Apache-2.0
/*
 * The compiled matcher. Keys are hashed right to left (FNV-1a over the bytes
 * in reverse), so walking a name from its end yields the hash of every
 * suffix on the way: one pass over the name for all the lookups.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

struct slot {
	uint64_t hash;
	uint32_t off, len; /* key in the arena; len 0 = empty slot */
	int32_t idx;	   /* first rule index with this key */
	uint8_t action;
};

struct table {
	struct slot *slots;
	size_t mask;
};

struct policy_index {
	int default_action;
	size_t nkeys;
	struct table exact, wild;
	char *arena;
	size_t arena_len;
};

#define FNV_OFF	  1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t hash_rev(const char *s, size_t len)
{
	uint64_t h = FNV_OFF;
	while (len--)
		h = (h ^ (uint8_t)s[len]) * FNV_PRIME;
	return h;
}

static struct slot *find(const struct table *t, const char *arena, uint64_t h, const char *key,
			 size_t len)
{
	size_t i = (size_t)h & t->mask;
	for (;;) {
		struct slot *s = &t->slots[i];
		if (!s->len)
			return s;
		if (s->hash == h && s->len == len && memcmp(arena + s->off, key, len) == 0)
			return s;
		i = (i + 1) & t->mask;
	}
}

static int table_init(struct table *t, size_t n)
{
	size_t cap = 8;
	while (cap < 2 * n + 1)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	t->mask = cap - 1;
	return t->slots ? 0 : -1;
}

struct policy_index *policy_index_build(const struct policy *const *layers, size_t n,
					int default_action)
{
	struct policy_index *ix = calloc(1, sizeof(*ix));
	size_t nexact = 0, nwild = 0, bytes = 1;

	if (!ix)
		return NULL;
	ix->default_action = default_action;
	for (size_t l = 0; l < n; l++) {
		for (size_t i = 0; layers[l] && i < layers[l]->n; i++) {
			const struct policy_rule *r = &layers[l]->rules[i];
			if (r->kind == POLICY_DOMAIN)
				nexact++;
			else if (r->kind == POLICY_WILDCARD)
				nwild++;
			if (r->key)
				bytes += strlen(r->key);
		}
	}
	ix->arena = malloc(bytes);
	if (!ix->arena || table_init(&ix->exact, nexact) < 0 || table_init(&ix->wild, nwild) < 0)
		goto fail;
	int32_t idx = 0;
	for (size_t l = 0; l < n; l++) {
		for (size_t i = 0; layers[l] && i < layers[l]->n; i++, idx++) {
			const struct policy_rule *r = &layers[l]->rules[i];
			if (r->kind != POLICY_DOMAIN && r->kind != POLICY_WILDCARD)
				continue;
			struct table *t = r->kind == POLICY_DOMAIN ? &ix->exact : &ix->wild;
			size_t len = strlen(r->key);
			uint64_t h = hash_rev(r->key, len);
			struct slot *s = find(t, ix->arena, h, r->key, len);
			if (s->len)
				continue; /* an earlier rule has this key: it wins */
			memcpy(ix->arena + ix->arena_len, r->key, len);
			*s = (struct slot){.hash = h,
					   .off = (uint32_t)ix->arena_len,
					   .len = (uint32_t)len,
					   .idx = idx,
					   .action = r->action};
			ix->arena_len += len;
			ix->nkeys++;
		}
	}
	return ix;
fail:
	policy_index_free(ix);
	return NULL;
}

void policy_index_free(struct policy_index *ix)
{
	if (!ix)
		return;
	free(ix->exact.slots);
	free(ix->wild.slots);
	free(ix->arena);
	free(ix);
}

int policy_match(const struct policy_index *ix, const char *name, int *rule)
{
	char key[256];
	size_t len = strlen(name);
	int32_t best = -1;
	uint8_t action = (uint8_t)ix->default_action;

	if (len && name[len - 1] == '.')
		len--;
	if (len >= sizeof(key) || len == 0)
		goto out;
	for (size_t i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)name[i]);

	/* Walk from the end; at each dot the suffix after it is a wildcard key. */
	uint64_t h = FNV_OFF;
	for (size_t i = len; i-- > 0;) {
		if (key[i] == '.' && i + 1 < len) {
			struct slot *s = find(&ix->wild, ix->arena, h, key + i + 1, len - i - 1);
			if (s->len && (best < 0 || s->idx < best)) {
				best = s->idx;
				action = s->action;
			}
		}
		h = (h ^ (uint8_t)key[i]) * FNV_PRIME;
	}
	struct slot *s = find(&ix->exact, ix->arena, h, key, len);
	if (s->len && (best < 0 || s->idx < best)) {
		best = s->idx;
		action = s->action;
	}
out:
	if (rule)
		*rule = best;
	return action;
}
