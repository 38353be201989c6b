/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ascii: locale-free character classes for the protocol parsers (HTTP,
 * multipart, URLs). Static inline; no state.
 */
#ifndef LIB_ASCII_H
#define LIB_ASCII_H

#include <stdbool.h>
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
static inline bool ascii_is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

#endif
