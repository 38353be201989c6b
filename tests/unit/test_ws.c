// SPDX-License-Identifier: Apache-2.0
/* ws: frame decoder (every truncation point), encoder, assembler, close frames, handshake. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "ws.h"

#define S(lit) lit, sizeof(lit) - 1

static const uint8_t rfc_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/*
 * Parses every proper prefix (-2 each) and then the whole frame. Short
 * prefixes (where the header is) get a heap copy of exactly their size, so a
 * read past len is an ASan report; longer ones reuse the full copy.
 */
static long parse_all_prefixes(const char *frame, size_t len, size_t max, int flags,
			       struct ws_frame *f)
{
	char *copy = malloc(len ? len : 1);
	long r;

	memcpy(copy, frame, len);
	for (size_t k = 0; k < len; k++) {
		if (k < 64) {
			char *pre = malloc(k ? k : 1);
			memcpy(pre, frame, k);
			r = ws_frame_parse(pre, k, f, max, flags);
			free(pre);
		} else {
			r = ws_frame_parse(copy, k, f, max, flags);
		}
		if (r != -2) {
			unit_fail(__FILE__, __LINE__, "prefix %zu of %zu: got %ld, expected -2", k,
				  len, r);
			free(copy);
			return r;
		}
	}
	r = ws_frame_parse(copy, len, f, max, flags);
	if (r > 0)
		f->payload = frame + (f->payload - copy); /* re-point at the caller's bytes */
	free(copy);
	return r;
}

TEST(ws_parse_rfc_examples)
{
	struct ws_frame f;
	char out[16];

	/* RFC 6455 5.7: unmasked and masked "Hello". */
	static const char unmasked[] = "\x81\x05Hello";
	CHECK_INT(parse_all_prefixes(S(unmasked), 1024, 0, &f), 7);
	CHECK(f.fin && f.opcode == WS_OP_TEXT && !f.masked);
	CHECK_INT(f.header_len, 2);
	CHECK_SPAN(f.payload, (size_t)f.payload_len, "Hello");

	static const char masked[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
	CHECK_INT(parse_all_prefixes(S(masked), 1024, WS_FROM_CLIENT, &f), 11);
	CHECK(f.masked && memcmp(f.mask, rfc_key, 4) == 0);
	CHECK_INT(f.header_len, 6);
	ws_unmask(out, f.payload, 5, f.mask, 0);
	CHECK_SPAN(out, 5, "Hello");

	/* Fragments, a ping and a pong. */
	CHECK_INT(parse_all_prefixes(S("\x01\x03Hel"), 1024, 0, &f), 5);
	CHECK(!f.fin && f.opcode == WS_OP_TEXT);
	CHECK_INT(parse_all_prefixes(S("\x80\x02lo"), 1024, 0, &f), 4);
	CHECK(f.fin && f.opcode == WS_OP_CONT);
	CHECK_INT(parse_all_prefixes(S("\x89\x05Hello"), 1024, 0, &f), 7);
	CHECK(f.opcode == WS_OP_PING);
	CHECK_INT(parse_all_prefixes(S("\x8a\x00"), 1024, 0, &f), 2);
	CHECK(f.opcode == WS_OP_PONG && f.payload_len == 0);
	CHECK_INT(parse_all_prefixes(S("\x88\x80\x01\x02\x03\x04"), 1024, WS_FROM_CLIENT, &f), 6);
	CHECK(f.opcode == WS_OP_CLOSE && f.payload_len == 0);

	/* Bytes after the frame are not consumed. */
	CHECK_INT(ws_frame_parse(S("\x82\x01x\x82"), &f, 1024, 0), 3);
}

TEST(ws_parse_extended_lengths)
{
	struct ws_frame f;
	size_t sizes[] = {125, 126, 127, 256, 65535, 65536, 70000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		char *frame = malloc(WS_HEADER_MAX + n);
		size_t hl = ws_frame_header(frame, WS_OP_BINARY, true, n, rfc_key);
		for (size_t k = 0; k < n; k++)
			frame[hl + k] = (char)(k * 7);
		ws_unmask(frame + hl, frame + hl, n, rfc_key, 0);
		CHECK_INT(hl, n < 126 ? 6 : n <= 0xffff ? 8 : 14);
		CHECK_INT(parse_all_prefixes(frame, hl + n, 1 << 20, WS_FROM_CLIENT, &f),
			  (long)(hl + n));
		CHECK_INT(f.payload_len, n);
		CHECK_INT(f.header_len, hl);
		/* Unmasking in uneven pieces gives the bytes back. */
		char *plain = malloc(n);
		for (size_t off = 0, step = 1; off < n; off += step, step = step * 3 % 17 + 1) {
			size_t take = step < n - off ? step : n - off;
			ws_unmask(plain + off, f.payload + off, take, f.mask, off);
		}
		bool same = true;
		for (size_t k = 0; k < n; k++)
			same &= plain[k] == (char)(k * 7);
		CHECK(same);
		/* The header-only parse stops at the header. */
		CHECK_INT(ws_frame_parse_header(frame, hl, &f, 1 << 20, WS_FROM_CLIENT), (long)hl);
		CHECK(f.payload == NULL);
		free(plain);
		free(frame);
	}
}

struct bad_frame {
	const char *bytes;
	size_t len;
	size_t detect; /* the prefix length from which it is -1 */
	int flags;
	size_t max;
	uint16_t code;
};

TEST(ws_parse_malformed_every_prefix)
{
	enum { CL = WS_FROM_CLIENT };
	static const struct bad_frame bad[] = {
		{S("\xc1\x80"), 1, CL, 100, 1002},		  /* RSV1 */
		{S("\xa1\x80"), 1, CL, 100, 1002},		  /* RSV2 */
		{S("\x91\x80"), 1, CL, 100, 1002},		  /* RSV3 */
		{S("\x83\x80"), 1, CL, 100, 1002},		  /* opcode 3 */
		{S("\x8b\x80"), 1, CL, 100, 1002},		  /* opcode 0xb */
		{S("\x8f\x80"), 1, CL, 100, 1002},		  /* opcode 0xf */
		{S("\x09\x80"), 1, CL, 100, 1002},		  /* fragmented ping */
		{S("\x08\x80"), 1, CL, 100, 1002},		  /* fragmented close */
		{S("\x81\x05Hello"), 2, CL, 100, 1002},		  /* unmasked from client */
		{S("\x81\x85\x37\xfa\x21\x3d"), 2, 0, 100, 1002}, /* masked from server */
		{S("\x89\xfe\x00\x7e"), 2, CL, 100, 1002},	  /* control > 125 */
		{S("\x8a\xff"), 2, CL, 100, 1002},		  /* control > 125 */
		{S("\x82\xfe\x00\x7d"), 4, CL, 1000, 1002},	  /* 125 in 16 bits */
		{S("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00"), 3, CL, 100, 1002}, /* top bit */
		{S("\x82\xff\x00\x00\x00\x00\x00\x00\xff\xff"), 10, CL, 1 << 20, 1002},
		{S("\x82\xfe\x00\x80"), 4, CL, 100, 1009}, /* 128 > 100 */
		{S("\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00"), 10, CL, 65535, 1009},
		{S("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"), 10, 0, INT64_MAX - 1, 1009},
		{S("\x82\x8b"), 2, CL, 10, 1009}, /* before the mask key */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_frame *b = &bad[i];
		for (size_t k = 0; k <= b->len; k++) {
			struct ws_frame f;
			char *pre = malloc(k ? k : 1);
			memcpy(pre, b->bytes, k);
			long r = ws_frame_parse(pre, k, &f, b->max, b->flags);
			free(pre);
			if (k < b->detect) {
				if (r != -2)
					unit_fail(__FILE__, __LINE__, "case %zu prefix %zu: %ld", i,
						  k, r);
			} else if (r != -1 || f.close_code != b->code || !f.error) {
				unit_fail(__FILE__, __LINE__, "case %zu prefix %zu: %ld code %u", i,
					  k, r, f.close_code);
			}
		}
	}
}

TEST(ws_frame_header_encoding)
{
	struct {
		uint64_t len;
		const char *hdr;
		size_t hl;
	} t[] = {
		{0, "\x82\x00", 2},
		{125, "\x82\x7d", 2},
		{126, "\x82\x7e\x00\x7e", 4},
		{65535, "\x82\x7e\xff\xff", 4},
		{65536, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10},
		{0x7fffffffffffffffull, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10},
	};
	char out[WS_HEADER_MAX];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = ws_frame_header(out, WS_OP_BINARY, true, t[i].len, NULL);
		CHECK_INT(n, t[i].hl);
		CHECK(memcmp(out, t[i].hdr, n) == 0);
		/* It parses back to the same values. */
		struct ws_frame f;
		CHECK_INT(ws_frame_parse_header(out, n, &f, (size_t)-1, 0), (long)n);
		CHECK(f.payload_len == t[i].len && f.fin && f.opcode == WS_OP_BINARY);
	}
	CHECK_INT(ws_frame_header(out, WS_OP_TEXT, false, 5, rfc_key), 6);
	CHECK(memcmp(out, "\x01\x85\x37\xfa\x21\x3d", 6) == 0);
	CHECK_INT(ws_frame_header(out, WS_OP_PING, true, 0, NULL), 2);
	CHECK(memcmp(out, "\x89\x00", 2) == 0);
}

TEST(ws_utf8_table)
{
	struct {
		const char *s;
		size_t n;
		bool ok;
	} t[] = {
		{S(""), true},
		{S("plain ascii"), true},
		{S("\xc2\x80"), true},
		{S("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), true}, /* κόσμε */
		{S("\xef\xbf\xbf"), true},
		{S("\xf0\x90\x80\x80"), true},
		{S("\xf4\x8f\xbf\xbf"), true}, /* U+10FFFF */
		{S("\x00"), true},
		{S("\x80"), false},	/* lone continuation */
		{S("\xc0\xaf"), false}, /* overlong / */
		{S("\xc1\xbf"), false},
		{S("\xe0\x80\xaf"), false}, /* overlong */
		{S("\xe0\x9f\xbf"), false},
		{S("\xed\xa0\x80"), false}, /* surrogate */
		{S("\xed\xbf\xbf"), false},
		{S("\xf0\x8f\xbf\xbf"), false}, /* overlong */
		{S("\xf4\x90\x80\x80"), false}, /* over U+10FFFF */
		{S("\xf5\x80\x80\x80"), false},
		{S("\xff"), false},
		{S("\xce"), false}, /* truncated */
		{S("\xe1\xbd"), false},
		{S("\xf0\x90\x80"), false},
		{S("\xe1\x41\x80"), false}, /* bad continuation */
		{S("\xf0\x90\x41\x80"), false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ws_utf8_valid(t[i].s, t[i].n) != t[i].ok)
			unit_fail(__FILE__, __LINE__, "utf8 case %zu", i);
}

TEST(ws_close_payloads)
{
	uint16_t code;
	const char *reason;
	size_t rl;

	CHECK_INT(ws_close_parse("", 0, &code, &reason, &rl), 0);
	CHECK_INT(code, 1005);
	CHECK_INT(rl, 0);
	CHECK_INT(ws_close_parse(S("\x03\xe8"), &code, &reason, &rl), 0);
	CHECK_INT(code, 1000);
	CHECK_INT(ws_close_parse(S("\x0f\xa1TAKEN_OVER"), &code, &reason, &rl), 0);
	CHECK_INT(code, 4001);
	CHECK_SPAN(reason, rl, "TAKEN_OVER");
	CHECK_INT(ws_close_parse(S("\x03"), &code, &reason, &rl), -1);
	CHECK_INT(code, 1002);
	CHECK_INT(ws_close_parse(S("\x03\xe8\xff"), &code, &reason, &rl), -1);
	CHECK_INT(code, 1007);

	static const struct {
		unsigned code;
		bool ok;
	} codes[] = {{0, false},    {999, false},  {1000, true},  {1003, true}, {1004, false},
		     {1005, false}, {1006, false}, {1007, true},  {1011, true}, {1014, true},
		     {1015, false}, {1016, false}, {2999, false}, {3000, true}, {4999, true},
		     {5000, false}, {65535, false}};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char p[2] = {(char)(codes[i].code >> 8), (char)codes[i].code};
		CHECK(ws_close_code_valid(codes[i].code) == codes[i].ok);
		CHECK_INT(ws_close_parse(p, 2, &code, &reason, &rl), codes[i].ok ? 0 : -1);
	}

	/* Encoding: unmasked, masked, no code, a long reason cut at a UTF-8 boundary. */
	char out[WS_CLOSE_FRAME_MAX];
	size_t n = ws_close_frame(out, 1000, S("process exited"), NULL);
	CHECK_INT(n, 2 + 2 + 14);
	CHECK(memcmp(out, "\x88\x10\x03\xe8process exited", n) == 0);
	CHECK_INT(ws_close_frame(out, 0, NULL, 0, NULL), 2);
	CHECK(memcmp(out, "\x88\x00", 2) == 0);

	n = ws_close_frame(out, 4001, S("TAKEN_OVER"), rfc_key);
	struct ws_frame f;
	CHECK_INT(ws_frame_parse(out, n, &f, 125, WS_FROM_CLIENT), (long)n);
	char plain[125];
	ws_unmask(plain, f.payload, (size_t)f.payload_len, f.mask, 0);
	CHECK_INT(ws_close_parse(plain, (size_t)f.payload_len, &code, &reason, &rl), 0);
	CHECK_INT(code, 4001);
	CHECK_SPAN(reason, rl, "TAKEN_OVER");

	char longr[200];
	memset(longr, 'x', sizeof(longr));
	memcpy(longr + 121, "\xe2\x82\xac", 3); /* a 3-byte rune across the 123-byte cut */
	n = ws_close_frame(out, 1001, longr, sizeof(longr), NULL);
	CHECK_INT(n, 2 + 2 + 121);
	CHECK_INT(ws_close_parse(out + 2, n - 2, &code, &reason, &rl), 0);
	n = ws_close_frame(out, 1001, longr, sizeof(longr) - 50, NULL);
	CHECK_INT(n, 2 + 2 + 121);
	memset(longr, 'y', sizeof(longr));
	n = ws_close_frame(out, 1001, longr, sizeof(longr), NULL);
	CHECK_INT(n, 2 + 125);
}

/* Parses and feeds one frame; returns the assembler's result. */
static int feed(struct ws_msg *m, const char *bytes, size_t len, int flags)
{
	struct ws_frame f;
	long r = ws_frame_parse(bytes, len, &f, 1 << 20, flags);

	if (r != (long)len) {
		unit_fail(__FILE__, __LINE__, "frame parse %ld", r);
		return -100;
	}
	return ws_msg_feed(m, &f);
}

TEST(ws_assembler_fragments_and_control)
{
	struct buf out;
	struct ws_msg m;

	buf_init(&out, 0);
	ws_msg_init(&m, &out, 1024);
	CHECK_INT(feed(&m, S("\x01\x03Hel"), 0), WS_MSG_MORE);
	CHECK(m.in_progress);
	CHECK_INT(feed(&m, S("\x89\x02hi"), 0), WS_MSG_CONTROL); /* ping between fragments */
	CHECK_INT(m.control_op, WS_OP_PING);
	CHECK_SPAN(m.control, m.control_len, "hi");
	CHECK_INT(feed(&m, S("\x00\x00"), 0), WS_MSG_MORE); /* empty continuation */
	CHECK_INT(feed(&m, S("\x80\x02lo"), 0), WS_MSG_DATA);
	CHECK_INT(m.opcode, WS_OP_TEXT);
	CHECK_SPAN(buf_head(&out), out.len, "Hello");

	/* Masked frames are unmasked on the way in; the next message replaces the last. */
	CHECK_INT(feed(&m, S("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), WS_FROM_CLIENT),
		  WS_MSG_DATA);
	CHECK_SPAN(buf_head(&out), out.len, "Hello");
	CHECK_INT(feed(&m, S("\x82\x83\x01\x02\x03\x04\x01\x02\x03"), WS_FROM_CLIENT), WS_MSG_DATA);
	CHECK_INT(m.opcode, WS_OP_BINARY);
	CHECK(out.len == 3 && memcmp(buf_head(&out), "\0\0\0", 3) == 0);
	CHECK_INT(feed(&m, S("\x8a\x81\x01\x02\x03\x04\x71"), WS_FROM_CLIENT), WS_MSG_CONTROL);
	CHECK_SPAN(m.control, m.control_len, "p");
	CHECK_INT(feed(&m, S("\x88\x02\x03\xe8"), 0), WS_MSG_CONTROL);
	CHECK_INT(m.control_op, WS_OP_CLOSE);

	/* UTF-8 is checked on the whole message: a rune split over fragments is fine. */
	CHECK_INT(feed(&m, S("\x01\x01\xce"), 0), WS_MSG_MORE);
	CHECK_INT(feed(&m, S("\x80\x01\xba"), 0), WS_MSG_DATA);
	CHECK_SPAN(buf_head(&out), out.len, "\xce\xba");
	CHECK_INT(feed(&m, S("\x82\x01\xff"), 0), WS_MSG_DATA); /* binary is not checked */
	buf_free(&out);
}

TEST(ws_assembler_errors)
{
	struct buf out;
	struct ws_msg m;

	buf_init(&out, 0);
	ws_msg_init(&m, &out, 4);
	CHECK_INT(feed(&m, S("\x80\x01x"), 0), -1);
	CHECK_INT(m.close_code, 1002);

	ws_msg_init(&m, &out, 4);
	CHECK_INT(feed(&m, S("\x01\x01x"), 0), WS_MSG_MORE);
	CHECK_INT(feed(&m, S("\x81\x01y"), 0), -1);
	CHECK_INT(m.close_code, 1002);

	ws_msg_init(&m, &out, 4);
	CHECK_INT(feed(&m, S("\x02\x03xyz"), 0), WS_MSG_MORE);
	CHECK_INT(feed(&m, S("\x80\x02zz"), 0), -1);
	CHECK_INT(m.close_code, 1009);

	ws_msg_init(&m, &out, 4);
	CHECK_INT(feed(&m, S("\x82\x04wxyz"), 0), WS_MSG_DATA); /* exactly the limit */
	CHECK_INT(feed(&m, S("\x82\x05vwxyz"), 0), -1);
	CHECK_INT(m.close_code, 1009);

	ws_msg_init(&m, &out, 0);
	CHECK_INT(feed(&m, S("\x81\x02\xc3\x28"), 0), -1);
	CHECK_INT(m.close_code, 1007);
	ws_msg_init(&m, &out, 0);
	CHECK_INT(feed(&m, S("\x01\x01\xce"), 0), WS_MSG_MORE);
	CHECK_INT(feed(&m, S("\x80\x00"), 0), -1); /* truncated rune at the end */
	CHECK_INT(m.close_code, 1007);

	ws_msg_init(&m, &out, 0);
	CHECK_INT(feed(&m, S("\x88\x01\x03"), 0), -1);
	CHECK_INT(m.close_code, 1002);
	CHECK_INT(feed(&m, S("\x88\x02\x03\xed"), 0), -1); /* 1005 may not be sent */
	CHECK_INT(m.close_code, 1002);
	CHECK_INT(feed(&m, S("\x88\x03\x03\xe8\xff"), 0), -1);
	CHECK_INT(m.close_code, 1007);

	/* The buf's own limit counts as too big too. */
	struct buf small;
	buf_init(&small, 2);
	ws_msg_init(&m, &small, 0);
	CHECK_INT(feed(&m, S("\x82\x03xyz"), 0), -1);
	CHECK_INT(m.close_code, 1009);
	buf_free(&small);
	buf_free(&out);
}

#define HDR(n, v)                                                                                  \
	{                                                                                          \
		n, sizeof(n) - 1, v, sizeof(v) - 1                                                 \
	}

TEST(ws_handshake)
{
	struct http_header ok[] = {
		HDR("Host", "server.example.com"),
		HDR("Upgrade", "websocket"),
		HDR("Connection", "Upgrade"),
		HDR("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
		HDR("Sec-WebSocket-Version", "13"),
	};
	const size_t n = sizeof(ok) / sizeof(ok[0]);
	const char *key, *why = NULL;
	size_t kl;

	CHECK_INT(ws_handshake_check("GET", 1, ok, n, &key, &kl, &why), 0);
	CHECK_SPAN(key, kl, "dGhlIHNhbXBsZSBub25jZQ==");
	char resp[WS_HANDSHAKE_RESPONSE_MAX];
	int rl = ws_handshake_response(resp, sizeof(resp), key, kl);
	CHECK(rl > 0);
	CHECK_STR(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\n"
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
	CHECK_INT(ws_handshake_response(resp, 20, key, kl), -1);

	/* Token lists, case and a Connection split over two lines. */
	struct http_header lists[] = {
		HDR("upgrade", "h2c, WebSocket"),
		HDR("CONNECTION", "keep-alive"),
		HDR("connection", "foo, UPGRADE"),
		HDR("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA=="),
		HDR("sec-websocket-version", "13"),
	};
	CHECK_INT(ws_handshake_check("GET", 1, lists, 5, &key, &kl, &why), 0);

	CHECK_INT(ws_handshake_check("POST", 1, ok, n, &key, &kl, &why), -1);
	CHECK_INT(ws_handshake_check("GET", 0, ok, n, &key, &kl, &why), -1);
	CHECK(why != NULL);

	/* Each field broken in turn. */
	static const struct {
		size_t idx;
		struct http_header h;
	} broken[] = {
		{1, HDR("Upgrade", "websockets")},
		{1, HDR("X-Upgrade", "websocket")},
		{2, HDR("Connection", "keep-alive")},
		{2, HDR("Connection", "upgraded")},
		{3, HDR("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=")},
		{3, HDR("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==x")},
		{3, HDR("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!!")},
		{3, HDR("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAA")}, /* 18 bytes */
		{3, HDR("Sec-WebSocket-Key", "")},
		{3, HDR("X", "y")},
		{4, HDR("Sec-WebSocket-Version", "8")},
		{4, HDR("Sec-WebSocket-Version", "13, 8")},
		{4, HDR("X", "y")},
		{0, HDR("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")}, /* a second key */
		{0, HDR("Sec-WebSocket-Version", "13")},
	};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct http_header h[5];
		memcpy(h, ok, sizeof(h));
		h[broken[i].idx] = broken[i].h;
		why = NULL;
		if (ws_handshake_check("GET", 1, h, n, &key, &kl, &why) != -1 || !why)
			unit_fail(__FILE__, __LINE__, "handshake case %zu accepted", i);
	}
}
