/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expiry: when each learned address is due to leave the dynamic sets, so a
 * refresh never shortens an element: an address shared by a long-TTL name and
 * a short-TTL one (a CDN) keeps the later expiry across loop turns.
 *
 * A fixed open-addressing table (EXPIRY_SLOTS), allocated lazily; slots whose
 * time has passed are reused. When it is full an address is simply not
 * tracked (its refresh then uses its own timeout, the behaviour without it).
 */
#ifndef EGRESSD_EXPIRY_H
#define EGRESSD_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

#define EXPIRY_SLOTS 16384

struct expiry_slot {
	uint8_t addr[16];
	uint64_t until_ms; /* monotonic; 0: never used */
};

struct expiry {
	struct expiry_slot *slot; /* EXPIRY_SLOTS, or NULL until the first use */
};

/*
 * Records that addr (16 bytes, v4 in the first 4 with the rest zero) was asked
 * to stay timeout_ms from now_ms, and returns the timeout to program: the
 * larger of timeout_ms and what an earlier answer already promised.
 */
uint64_t expiry_extend(struct expiry *x, const uint8_t addr[16], uint64_t now_ms,
		       uint64_t timeout_ms);
void expiry_free(struct expiry *x);

#endif
