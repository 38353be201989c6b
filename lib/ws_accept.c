// SPDX-License-Identifier: Apache-2.0
#include "ws_accept.h"

#include <bearssl_hash.h>

#include "base64.h"

void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char digest[br_sha1_SIZE];
	br_sha1_context ctx;

	br_sha1_init(&ctx);
	br_sha1_update(&ctx, key, key_len);
	br_sha1_update(&ctx, guid, sizeof(guid) - 1);
	br_sha1_out(&ctx, digest);
	base64_encode(out, digest, sizeof(digest));
}
