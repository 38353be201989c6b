// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_ws: byte 0 picks the role (masked client frames or unmasked server
 * frames) and the payload and message limits; the rest is a stream of frames.
 * Each frame that parses (and each complete header of a frame cut short) must
 * re-encode to its own header bytes (the length encoding is minimal, so there
 * is exactly one); a whole frame must also be -2 one byte short, agree
 * with the header-only parse, and unmask the same in pieces as in one go;
 * then it goes through the message assembler. The stream is also fed in
 * chunks whose sizes come from the input, which must find the same frames.
 * Every buffer is exactly its length, so a read past len is an ASan report.
 */
#include "fuzz_common.h"
#include "ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* What a frame contributes to the stream's fingerprint. */
static uint32_t frame_hash(uint32_t h, const struct ws_frame *f)
{
	uint8_t meta[3] = {f->opcode, f->fin, f->masked};
	h = fnv(h, meta, sizeof(meta));
	h = fnv(h, &f->payload_len, sizeof(f->payload_len));
	return fnv(h, f->payload, (size_t)f->payload_len);
}

/* The header re-encodes to its own bytes: the length encoding is minimal, so there is one. */
static void check_header(const char *buf, const struct ws_frame *f)
{
	char hdr[WS_HEADER_MAX];
	size_t hl =
		ws_frame_header(hdr, f->opcode, f->fin, f->payload_len, f->masked ? f->mask : NULL);
	ENSURE(hl == f->header_len && memcmp(hdr, buf, hl) == 0);
}

static void check_frame(const char *buf, size_t len, long r, const struct ws_frame *f, size_t max,
			int flags)
{
	ENSURE(r >= 2 && (size_t)r <= len);
	ENSURE(f->header_len >= 2 && f->header_len <= WS_HEADER_MAX);
	ENSURE(f->header_len + f->payload_len == (uint64_t)r);
	ENSURE(f->payload == buf + f->header_len);
	ENSURE(f->payload_len <= max);
	ENSURE(f->masked == !!(flags & WS_FROM_CLIENT));
	if (f->opcode >= WS_OP_CLOSE)
		ENSURE(f->fin && f->payload_len <= WS_CONTROL_MAX);

	check_header(buf, f);

	struct ws_frame g;
	char *shorter = dup_exact(buf, (size_t)r - 1);
	ENSURE(ws_frame_parse(shorter, (size_t)r - 1, &g, max, flags) == -2);
	free(shorter);
	ENSURE(ws_frame_parse_header(buf, len, &g, max, flags) == (long)f->header_len);
	ENSURE(g.payload_len == f->payload_len && g.payload == NULL);

	/* Unmasking in pieces of varying size gives the same bytes as in one go. */
	size_t n = (size_t)f->payload_len;
	if (f->masked && n) {
		char *whole = malloc(n), *pieces = malloc(n);
		ENSURE(whole && pieces);
		ws_unmask(whole, f->payload, n, f->mask, 0);
		for (size_t off = 0, step = 1; off < n; off += step, step = step % 7 + 1) {
			size_t take = step < n - off ? step : n - off;
			ws_unmask(pieces + off, f->payload + off, take, f->mask, off);
		}
		ENSURE(memcmp(whole, pieces, n) == 0);
		ws_unmask(whole, whole, n, f->mask, 0); /* and it is its own inverse */
		ENSURE(memcmp(whole, f->payload, n) == 0);
		free(whole);
		free(pieces);
	}
}

static void check_assembled(const struct ws_msg *m, int r, size_t max_msg)
{
	if (r < 0) {
		ENSURE(m->error);
		ENSURE(m->close_code == WS_CLOSE_PROTOCOL || m->close_code == WS_CLOSE_BAD_DATA ||
		       m->close_code == WS_CLOSE_TOO_BIG || m->close_code == WS_CLOSE_INTERNAL);
		return;
	}
	ENSURE(r == WS_MSG_MORE || r == WS_MSG_DATA || r == WS_MSG_CONTROL);
	if (r == WS_MSG_DATA) {
		ENSURE(!m->in_progress);
		ENSURE(!max_msg || m->out->len <= max_msg);
		if (m->opcode == WS_OP_TEXT)
			ENSURE(ws_utf8_valid(buf_head(m->out), m->out->len));
	}
	if (r == WS_MSG_CONTROL) {
		ENSURE(m->control_len <= WS_CONTROL_MAX);
		if (m->control_op == WS_OP_CLOSE) {
			uint16_t code;
			const char *reason;
			size_t rl;
			ENSURE(ws_close_parse(m->control, m->control_len, &code, &reason, &rl) ==
			       0);
			ENSURE(code == WS_CLOSE_NO_STATUS || ws_close_code_valid(code));
			/* Echoing the close re-encodes it to the same payload. */
			char out[WS_CLOSE_FRAME_MAX];
			uint16_t echo = code == WS_CLOSE_NO_STATUS ? 0 : code;
			size_t n = ws_close_frame(out, echo, reason, rl, NULL);
			ENSURE(n - 2 == m->control_len &&
			       memcmp(out + 2, m->control, m->control_len) == 0);
		}
	}
}

/* Parses the whole stream; returns the fingerprint of the frames that parsed. */
static uint32_t parse_stream(const char *buf, size_t len, size_t max, int flags, size_t max_msg,
			     size_t *frames, long *last)
{
	struct buf out;
	struct ws_msg m;
	uint32_t h = 2166136261u;
	size_t off = 0;
	bool assembling = true;

	buf_init(&out, 0);
	ws_msg_init(&m, &out, max_msg);
	*frames = 0;
	*last = -2;
	while (off < len) {
		struct ws_frame f;
		char *rest = dup_exact(buf + off, len - off);
		long r = ws_frame_parse(rest, len - off, &f, max, flags);
		*last = r;
		if (r == -1)
			ENSURE(f.error && (f.close_code == WS_CLOSE_PROTOCOL ||
					   f.close_code == WS_CLOSE_TOO_BIG));
		if (r == -2 && ws_frame_parse_header(rest, len - off, &f, max, flags) >= 0)
			check_header(rest, &f); /* a long frame cut short: its header still */
		if (r < 0) {
			free(rest);
			break;
		}
		check_frame(rest, len - off, r, &f, max, flags);
		h = frame_hash(h, &f);
		if (assembling) {
			int a = ws_msg_feed(&m, &f);
			check_assembled(&m, a, max_msg);
			assembling = a >= 0;
		}
		free(rest);
		(*frames)++;
		off += (size_t)r;
	}
	buf_free(&out);
	return h;
}

/* The same stream arriving in chunks: frames are parsed off the front as they complete. */
static uint32_t parse_chunked(const char *buf, size_t len, size_t max, int flags,
			      const uint8_t *sizes, size_t nsizes, size_t *frames)
{
	uint32_t h = 2166136261u;
	size_t have = 0, start = 0, k = 0, need = 0;

	*frames = 0;
	while (have < len) {
		size_t step = nsizes ? (size_t)sizes[k++ % nsizes] % 37 + 1 : len;
		have = have + step < len ? have + step : len;
		/* Once the header said how long the frame is, wait for all of it. */
		while (have - start >= need) {
			struct ws_frame f;
			char *pending = dup_exact(buf + start, have - start);
			long r = ws_frame_parse(pending, have - start, &f, max, flags);
			if (r < 0) {
				if (r == -2 && ws_frame_parse_header(pending, have - start, &f, max,
								     flags) >= 0)
					need = f.header_len + (size_t)f.payload_len;
				free(pending);
				if (r == -1)
					return h; /* the whole parse stops at the same frame */
				break;
			}
			need = 0;
			h = frame_hash(h, &f);
			free(pending);
			(*frames)++;
			start += (size_t)r;
		}
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = {0, 1, 125, 126, 1000, 65535, 65536, SIZE_MAX};
	static const size_t msg_maxes[] = {0, 16, 4096, 1 << 20};

	if (size < 1)
		return 0;
	int flags = data[0] & 1 ? WS_FROM_CLIENT : 0;
	size_t max = maxes[(data[0] >> 1) & 7];
	size_t max_msg = msg_maxes[(data[0] >> 4) & 3];
	char *buf = dup_exact((const char *)data + 1, size - 1);
	size_t len = size - 1, n1, n2;
	long last;

	uint32_t h1 = parse_stream(buf, len, max, flags, max_msg, &n1, &last);
	uint32_t h2 = parse_chunked(buf, len, max, flags, data, size, &n2);
	ENSURE(n1 == n2 && h1 == h2);

	/* The raw input as a close payload and as text. */
	uint16_t code;
	const char *reason;
	size_t rl;
	if (len <= WS_CONTROL_MAX && ws_close_parse(buf, len, &code, &reason, &rl) == 0)
		ENSURE(len == 0 || (ws_close_code_valid(code) && rl == len - 2));
	(void)ws_utf8_valid(buf, len);
	free(buf);
	return 0;
}
