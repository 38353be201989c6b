// SPDX-License-Identifier: Apache-2.0
#include "ws.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "ws_accept.h"

static long frame_fail(struct ws_frame *f, uint16_t code, const char *why)
{
	f->error = why;
	f->close_code = code;
	return -1;
}

static bool opcode_known(unsigned op)
{
	return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

long ws_frame_parse_header(const char *buf, size_t len, struct ws_frame *f, size_t max_payload,
			   int flags)
{
	const unsigned char *b = (const unsigned char *)buf;
	uint64_t plen;
	size_t hl = 2;

	memset(f, 0, sizeof(*f));
	if (len < 1)
		return -2;
	/* Everything byte 0 decides is refused before waiting for byte 1. */
	if (b[0] & 0x70)
		return frame_fail(f, WS_CLOSE_PROTOCOL, "reserved bits set");
	f->opcode = b[0] & 0x0f;
	f->fin = b[0] & 0x80;
	if (!opcode_known(f->opcode))
		return frame_fail(f, WS_CLOSE_PROTOCOL, "unknown opcode");
	if (f->opcode >= WS_OP_CLOSE && !f->fin)
		return frame_fail(f, WS_CLOSE_PROTOCOL, "fragmented control frame");
	if (len < 2)
		return -2;
	f->masked = b[1] & 0x80;
	if (f->masked != !!(flags & WS_FROM_CLIENT))
		return frame_fail(f, WS_CLOSE_PROTOCOL,
				  f->masked ? "masked frame from server"
					    : "unmasked frame from client");
	plen = b[1] & 0x7f;
	if (f->opcode >= WS_OP_CLOSE && plen > WS_CONTROL_MAX)
		return frame_fail(f, WS_CLOSE_PROTOCOL, "control frame too long");
	if (plen == 126) {
		if (len < 4)
			return -2;
		plen = (uint64_t)b[2] << 8 | b[3];
		if (plen < 126)
			return frame_fail(f, WS_CLOSE_PROTOCOL, "length not minimally encoded");
		hl = 4;
	} else if (plen == 127) {
		if (len < 3)
			return -2;
		if (b[2] & 0x80)
			return frame_fail(f, WS_CLOSE_PROTOCOL, "length has its top bit set");
		if (len < 10)
			return -2;
		plen = 0;
		for (int i = 2; i < 10; i++)
			plen = plen << 8 | b[i];
		if (plen <= 0xffff)
			return frame_fail(f, WS_CLOSE_PROTOCOL, "length not minimally encoded");
		hl = 10;
	}
	/* Before the mask key and the payload: nothing is waited for in vain. */
	if (plen > max_payload)
		return frame_fail(f, WS_CLOSE_TOO_BIG, "frame too big");
	if (f->masked) {
		if (len < hl + 4)
			return -2;
		memcpy(f->mask, b + hl, 4);
		hl += 4;
	}
	f->payload_len = plen;
	f->header_len = hl;
	return (long)hl;
}

long ws_frame_parse(const char *buf, size_t len, struct ws_frame *f, size_t max_payload, int flags)
{
	long r = ws_frame_parse_header(buf, len, f, max_payload, flags);

	if (r < 0)
		return r;
	if (f->payload_len > len - f->header_len)
		return -2;
	f->payload = buf + f->header_len;
	return (long)(f->header_len + f->payload_len);
}

void ws_unmask(char *dst, const char *src, size_t len, const uint8_t key[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)((uint8_t)src[i] ^ key[(offset + i) & 3]);
}

size_t ws_frame_header(char out[WS_HEADER_MAX], uint8_t opcode, bool fin, uint64_t len,
		       const uint8_t *mask_key)
{
	unsigned char *o = (unsigned char *)out;
	size_t n = 2;

	o[0] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	o[1] = mask_key ? 0x80 : 0;
	if (len < 126) {
		o[1] |= (unsigned char)len;
	} else if (len <= 0xffff) {
		o[1] |= 126;
		o[2] = (unsigned char)(len >> 8);
		o[3] = (unsigned char)len;
		n = 4;
	} else {
		o[1] |= 127;
		for (int i = 0; i < 8; i++)
			o[2 + i] = (unsigned char)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask_key) {
		memcpy(o + n, mask_key, 4);
		n += 4;
	}
	return n;
}

bool ws_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t need;
		unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xc2 || c > 0xf4) /* stray continuation, overlong lead, > U+10FFFF */
			return false;
		if (c < 0xe0) {
			need = 1;
		} else if (c < 0xf0) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else {
			need = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* over U+10FFFF */
		}
		if (len - i <= need)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= need; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += need + 1;
	}
	return true;
}

bool ws_close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

int ws_close_parse(const char *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len)
{
	*reason = payload;
	*reason_len = 0;
	if (len == 0) {
		*code = WS_CLOSE_NO_STATUS;
		return 0;
	}
	if (len < 2) {
		*code = WS_CLOSE_PROTOCOL;
		return -1;
	}
	unsigned c = (unsigned)(uint8_t)payload[0] << 8 | (uint8_t)payload[1];
	if (!ws_close_code_valid(c)) {
		*code = WS_CLOSE_PROTOCOL;
		return -1;
	}
	if (!ws_utf8_valid(payload + 2, len - 2)) {
		*code = WS_CLOSE_BAD_DATA;
		return -1;
	}
	*code = (uint16_t)c;
	*reason = payload + 2;
	*reason_len = len - 2;
	return 0;
}

size_t ws_close_frame(char out[WS_CLOSE_FRAME_MAX], uint16_t code, const char *reason,
		      size_t reason_len, const uint8_t *mask_key)
{
	size_t cut = 0, n;

	if (code) {
		cut = reason_len < WS_CONTROL_MAX - 2 ? reason_len : WS_CONTROL_MAX - 2;
		/* Never end in the middle of a UTF-8 sequence. */
		while (cut > 0 && cut < reason_len && ((uint8_t)reason[cut] & 0xc0) == 0x80)
			cut--;
	}
	n = ws_frame_header(out, WS_OP_CLOSE, true, code ? cut + 2 : 0, mask_key);
	if (!code)
		return n;
	char *p = out + n;
	p[0] = (char)(code >> 8);
	p[1] = (char)code;
	if (cut)
		memcpy(p + 2, reason, cut);
	if (mask_key)
		ws_unmask(p, p, cut + 2, mask_key, 0);
	return n + cut + 2;
}

void ws_msg_init(struct ws_msg *m, struct buf *out, size_t max_msg)
{
	memset(m, 0, sizeof(*m));
	m->out = out;
	m->max_msg = max_msg;
}

static int msg_fail(struct ws_msg *m, uint16_t code, const char *why)
{
	m->error = why;
	m->close_code = code;
	m->in_progress = false;
	return -1;
}

/* Copies (and unmasks) a frame's payload to dst. */
static void copy_payload(char *dst, const struct ws_frame *f)
{
	if (!f->payload_len)
		return;
	if (f->masked)
		ws_unmask(dst, f->payload, (size_t)f->payload_len, f->mask, 0);
	else
		memcpy(dst, f->payload, (size_t)f->payload_len);
}

int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f)
{
	struct buf *out = m->out;

	if (f->opcode >= WS_OP_CLOSE) {
		uint16_t code;
		const char *reason;
		size_t reason_len;

		/* The parser guarantees this; a hand-made frame might not. */
		if (f->payload_len > WS_CONTROL_MAX || !f->fin)
			return msg_fail(m, WS_CLOSE_PROTOCOL, "invalid control frame");
		m->control_op = f->opcode;
		m->control_len = (size_t)f->payload_len;
		copy_payload(m->control, f);
		if (f->opcode == WS_OP_CLOSE &&
		    ws_close_parse(m->control, m->control_len, &code, &reason, &reason_len) < 0)
			return msg_fail(m, code, "invalid close payload");
		return WS_MSG_CONTROL;
	}
	if (f->opcode == WS_OP_CONT) {
		if (!m->in_progress)
			return msg_fail(m, WS_CLOSE_PROTOCOL, "continuation without a message");
	} else {
		if (m->in_progress)
			return msg_fail(m, WS_CLOSE_PROTOCOL,
					"new message inside a fragmented one");
		m->opcode = f->opcode;
		m->in_progress = true;
		buf_reset(out);
	}
	if (f->payload_len > SIZE_MAX - out->len ||
	    (m->max_msg && (m->max_msg < out->len || f->payload_len > m->max_msg - out->len)))
		return msg_fail(m, WS_CLOSE_TOO_BIG, "message too big");
	int r = buf_reserve(out, (size_t)f->payload_len);
	if (r == -ENOBUFS)
		return msg_fail(m, WS_CLOSE_TOO_BIG, "message too big");
	if (r < 0)
		return msg_fail(m, WS_CLOSE_INTERNAL, "out of memory");
	copy_payload(buf_tail(out), f);
	buf_commit(out, (size_t)f->payload_len);
	if (!f->fin)
		return WS_MSG_MORE;
	m->in_progress = false;
	if (m->opcode == WS_OP_TEXT && !ws_utf8_valid(buf_head(out), out->len))
		return msg_fail(m, WS_CLOSE_BAD_DATA, "text message is not UTF-8");
	return WS_MSG_DATA;
}

static bool span_eq(const char *a, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(a, s, n) == 0;
}

static bool name_is(const struct http_header *h, const char *name)
{
	size_t n = strlen(name);

	if (h->name_len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h->name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return false;
	}
	return true;
}

int ws_handshake_check(const char *method, int minor_version, const struct http_header *h, size_t n,
		       const char **key, size_t *key_len, const char **reason)
{
	bool upgrade = false, connection = false;
	const struct http_header *version = NULL, *k = NULL;
	unsigned char raw[18];

	if (!method || strcmp(method, "GET") != 0) {
		*reason = "websocket: method is not GET";
		return -1;
	}
	if (minor_version < 1) {
		*reason = "websocket: HTTP/1.1 is required";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (name_is(&h[i], "upgrade")) {
			upgrade |= http_list_has_token(h[i].value, h[i].value_len, "websocket");
		} else if (name_is(&h[i], "connection")) {
			connection |= http_list_has_token(h[i].value, h[i].value_len, "upgrade");
		} else if (name_is(&h[i], "sec-websocket-version")) {
			if (version) {
				*reason = "websocket: more than one Sec-WebSocket-Version";
				return -1;
			}
			version = &h[i];
		} else if (name_is(&h[i], "sec-websocket-key")) {
			if (k) {
				*reason = "websocket: more than one Sec-WebSocket-Key";
				return -1;
			}
			k = &h[i];
		}
	}
	if (!connection) {
		*reason = "websocket: 'upgrade' token not found in 'Connection' header";
		return -1;
	}
	if (!upgrade) {
		*reason = "websocket: 'websocket' token not found in 'Upgrade' header";
		return -1;
	}
	if (!version || !span_eq(version->value, version->value_len, "13")) {
		*reason = "websocket: unsupported version: 13 not found in "
			  "'Sec-Websocket-Version' header";
		return -1;
	}
	if (!k || k->value_len != 24 || base64_decode(raw, sizeof(raw), k->value, 24) != 16) {
		*reason = "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header "
			  "must be Base64 encoded value of 16-byte in length";
		return -1;
	}
	*key = k->value;
	*key_len = k->value_len;
	return 0;
}

int ws_handshake_response(char *out, size_t cap, const char *key, size_t key_len)
{
	char accept[WS_ACCEPT_LEN];

	ws_accept_key(key, key_len, accept);
	int n = snprintf(out, cap,
			 "HTTP/1.1 101 Switching Protocols\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n\r\n",
			 accept);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}
