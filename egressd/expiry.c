// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>

#include "expiry.h"

static size_t hash(const uint8_t a[16])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 29) & (EXPIRY_SLOTS - 1);
}

uint64_t expiry_extend(struct expiry *x, const uint8_t addr[16], uint64_t now_ms,
		       uint64_t timeout_ms)
{
	uint64_t until = now_ms + timeout_ms;
	if (!x->slot && !(x->slot = calloc(EXPIRY_SLOTS, sizeof(*x->slot))))
		return timeout_ms;
	struct expiry_slot *reuse = NULL;
	size_t i = hash(addr);
	for (size_t n = 0; n < EXPIRY_SLOTS; n++, i = (i + 1) & (EXPIRY_SLOTS - 1)) {
		struct expiry_slot *s = &x->slot[i];
		if (s->until_ms == 0) { /* end of the chain: not tracked yet */
			if (!reuse)
				reuse = s;
			break;
		}
		if (memcmp(s->addr, addr, 16) == 0) {
			if (s->until_ms > until)
				return s->until_ms - now_ms;
			s->until_ms = until;
			return timeout_ms;
		}
		if (s->until_ms <= now_ms && !reuse)
			reuse = s; /* gone from the kernel set: the slot may be taken */
	}
	if (reuse) {
		memcpy(reuse->addr, addr, 16);
		reuse->until_ms = until;
	}
	return timeout_ms;
}

void expiry_free(struct expiry *x)
{
	free(x->slot);
	x->slot = NULL;
}
