// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "policy_int.h"

static uint64_t key[2];
static bool keyed;

/* The key only has to be unknown to API callers; a clock value is the
 * fallback where getrandom is refused (old kernels, seccomp). */
static void key_init(void)
{
	if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ts;
		key[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)key;
	}
	keyed = true;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13) ^ v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17) ^ v[2];
	v[2] = ROTL(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-1-3 of s with A-Z folded to a-z, as strcasecmp compares in the C locale. */
static uint64_t hash_fold(const char *s)
{
	uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
			 key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
	uint64_t m = 0;
	size_t n = 0;

	for (; *s; s++, n++) {
		uint8_t c = (uint8_t)*s;
		if (c >= 'A' && c <= 'Z')
			c += 32;
		m |= (uint64_t)c << (8 * (n & 7));
		if ((n & 7) == 7) {
			sip_block(v, m);
			m = 0;
		}
	}
	sip_block(v, m | (uint64_t)(n & 0xff) << 56);
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int policy_set_init(struct policy_set *s, size_t n)
{
	size_t cap = 8;

	if (!keyed)
		key_init();
	memset(s, 0, sizeof(*s));
	/* at most half full: short probe runs */
	while (cap < 2 * n + 1) {
		if (cap > SIZE_MAX / 2 / sizeof(*s->slots))
			return -ENOMEM;
		cap <<= 1;
	}
	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->mask = cap - 1;
	return 0;
}

void policy_set_free(struct policy_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* The slot holding t, or the empty slot where it would go. */
static struct policy_set_slot *slot_for(struct policy_set *s, const char *t, uint64_t h)
{
	for (size_t i = (size_t)h & s->mask;; i = (i + 1) & s->mask) {
		struct policy_set_slot *sl = &s->slots[i];
		s->probes++;
		if (!sl->s || (sl->hash == h && strcasecmp(sl->s, t) == 0))
			return sl;
	}
}

int policy_set_add(struct policy_set *s, const char *t)
{
	uint64_t h = hash_fold(t);
	struct policy_set_slot *sl = slot_for(s, t, h);

	if (sl->s)
		return 0;
	if (2 * (s->n + 1) > s->mask + 1)
		return -ENOSPC;
	sl->hash = h;
	sl->s = t;
	s->n++;
	return 1;
}

bool policy_set_has(struct policy_set *s, const char *t)
{
	return slot_for(s, t, hash_fold(t))->s != NULL;
}
