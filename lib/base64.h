/* SPDX-License-Identifier: Apache-2.0 */
/* base64: RFC 4648 standard alphabet with padding; pure functions, caller-owned output. */
#ifndef LIB_BASE64_H
#define LIB_BASE64_H

#include <stddef.h>

/* Encoded size of n bytes, excluding the terminating NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encodes src into dst (BASE64_ENCODED_LEN(n) + 1 bytes, NUL-terminated); returns the length. */
size_t base64_encode(char *dst, const void *src, size_t n);

/*
 * Decodes src (padding required, no whitespace) into dst (dst_cap bytes).
 * Returns the decoded length, or -1 if malformed or dst is too small.
 */
long base64_decode(void *dst, size_t dst_cap, const char *src, size_t n);

#endif
