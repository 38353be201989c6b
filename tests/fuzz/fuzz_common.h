/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common: what every fuzz harness shares: the entry point's prototype,
 * a check that holds in every build (not assert), and exact-size copies so
 * ASan sees any read past the input.
 */
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENSURE(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* Exactly n bytes (at least one allocated byte for n == 0), copied from p. */
static inline char *dup_exact(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	ENSURE(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

#endif
