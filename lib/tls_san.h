/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_san: IP-address names for TLS certificate checks.
 *
 * BearSSL's X.509 engine matches server names against DNS names only; when a
 * client connects by IP literal, lib/tls.c checks the end-entity certificate's
 * subjectAltName iPAddress entries with this module instead.
 *
 * Pure functions: they never allocate and never read past the given length.
 */
#ifndef LIB_TLS_SAN_H
#define LIB_TLS_SAN_H

#include <stddef.h>

/*
 * Parses an IPv4 or IPv6 literal (IPv6 optionally in brackets) into ip.
 * Returns 4 or 16 (the address length), or 0 when name is not an IP literal.
 */
int tls_san_parse_ip(const char *name, unsigned char ip[16]);

/*
 * Looks for an iPAddress subjectAltName equal to ip (ip_len 4 or 16 bytes) in
 * a DER certificate of exactly len bytes. Returns 1 when one matches, 0 when
 * none does (or there is no subjectAltName), -1 when the DER is malformed.
 */
int tls_san_match_ip(const unsigned char *cert, size_t len, const unsigned char *ip, size_t ip_len);

#endif
