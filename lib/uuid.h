/* SPDX-License-Identifier: Apache-2.0 */
/* uuid: random (version 4) UUIDs from getrandom(2). */
#ifndef LIB_UUID_H
#define LIB_UUID_H

#define UUID_STR_LEN 37 /* 36 chars + NUL: 8-4-4-4-12 lowercase hex */
#define UUID_HEX_LEN 33 /* 32 chars + NUL: the same without dashes */

/* Fills 16 random bytes with the v4 version and RFC 4122 variant bits. 0 or -errno. */
int uuid_v4(unsigned char out[16]);
/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". 0 or -errno. */
int uuid_v4_str(char out[UUID_STR_LEN]);
/* The same 32 hex digits without dashes. 0 or -errno. */
int uuid_v4_hex(char out[UUID_HEX_LEN]);

#endif
