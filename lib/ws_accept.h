/* SPDX-License-Identifier: Apache-2.0 */
/* ws_accept: the RFC 6455 handshake digest (SHA-1 from BearSSL, then base64). */
#ifndef LIB_WS_ACCEPT_H
#define LIB_WS_ACCEPT_H

#include <stddef.h>

#define WS_ACCEPT_LEN 29 /* 28 base64 chars + NUL */

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key value. */
void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN]);

#endif
