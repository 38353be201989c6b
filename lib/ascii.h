/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ascii: locale-free character classes for the protocol parsers (HTTP,
 * multipart, URLs). Static inline; no state.
 */
#ifndef LIB_ASCII_H
#define LIB_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Value of a hex digit, or -1. */
static inline int ascii_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 9110 5.6.2 tchar, as a table: header names are checked byte by byte. */
extern const bool ascii_tchar[256];
static inline bool ascii_is_tchar(unsigned char c)
{
	return ascii_tchar[c];
}

/* field-vchar, SP or HTAB: every CTL but HTAB is refused, obs-text is allowed. */
extern const bool ascii_field_char[256];
static inline bool ascii_is_field_char(unsigned char c)
{
	return ascii_field_char[c];
}

/* The end of the run of bytes from buf[i] that `table` admits, at most `end`.
 * Four bytes a step: header lines are scanned byte by byte on every request. */
static inline size_t ascii_span(const bool *table, const char *buf, size_t i, size_t end)
{
	const unsigned char *p = (const unsigned char *)buf;
	while (end - i >= 4 && table[p[i]] && table[p[i + 1]] && table[p[i + 2]] && table[p[i + 3]])
		i += 4;
	while (i < end && table[p[i]])
		i++;
	return i;
}

#endif
