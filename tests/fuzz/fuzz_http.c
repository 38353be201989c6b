// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_http: the input is parsed as a pipeline of requests and as one of
 * responses. Each body is decoded twice, in one feed and in feeds whose sizes
 * come from the input bytes; both must agree byte for byte. Targets go
 * through split, percent-decoding and query lookup. Every feed lives in a
 * buffer of exactly its length, so a read past len is an ASan report.
 */
#include "fuzz_common.h"
#include "http_parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NH 16

struct feed_sizes {
	const uint8_t *p;
	size_t n, next;
};

struct body_result {
	long used; /* input consumed, or -1 */
	bool done;
	uint64_t total;
	uint32_t hash; /* FNV-1a over the decoded bytes */
};

static bool within(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static size_t next_size(struct feed_sizes *fs, size_t left)
{
	size_t n = left;

	if (fs && fs->n)
		n = (size_t)(fs->p[fs->next++ % fs->n] % 23) + 1;
	return n < left ? n : left;
}

static void decode_body(struct body_result *res, enum http_body_kind kind, uint64_t cl,
			const char *in, size_t len, struct feed_sizes *fs)
{
	struct http_body b;
	size_t off = 0;
	uint64_t seen = 0;

	http_body_init(&b, kind, cl);
	memset(res, 0, sizeof(*res));
	res->hash = 2166136261u;
	while (off < len && !b.done) {
		size_t n = next_size(fs, len - off), used = 0;
		char *piece = dup_exact(in + off, n);
		while (used < n && !b.done) {
			const char *d;
			size_t dl;
			long r = http_body_decode(&b, piece + used, n - used, &d, &dl);
			if (r < 0) {
				free(piece);
				res->used = -1;
				ENSURE(http_body_eof(&b) == -1);
				return;
			}
			/* Progress on every call, and data is a span of what was consumed. */
			ENSURE(r > 0 || b.done);
			ENSURE((size_t)r <= n - used);
			ENSURE(dl <= (size_t)r);
			ENSURE(!dl || within(d, dl, piece + used, (size_t)r));
			for (size_t i = 0; i < dl; i++)
				res->hash = (res->hash ^ (uint8_t)d[i]) * 16777619u;
			seen += dl;
			used += (size_t)r;
		}
		free(piece);
		off += used;
	}
	ENSURE(seen == b.total);
	ENSURE((http_body_eof(&b) == 0) == (b.done || kind == HTTP_BODY_UNTIL_CLOSE));
	res->used = (long)off;
	res->done = b.done;
	res->total = b.total;
}

/* Decodes whole and split, checks both agree; returns bytes used or -1. */
static long check_body(enum http_body_kind kind, uint64_t cl, const char *in, size_t len,
		       struct feed_sizes *fs)
{
	struct body_result whole, split;

	decode_body(&whole, kind, cl, in, len, NULL);
	decode_body(&split, kind, cl, in, len, fs);
	ENSURE(whole.used == split.used);
	if (whole.used >= 0) {
		ENSURE(whole.done == split.done && whole.total == split.total);
		ENSURE(whole.hash == split.hash);
	}
	return whole.done ? whole.used : -1;
}

/* The input chunk-encoded with http_chunk_header() decodes back to itself. */
static void check_chunk_roundtrip(const char *in, size_t len, struct feed_sizes *fs)
{
	/* Worst case one-byte chunks: "1\r\n" x "\r\n" per byte, then the last chunk. */
	char *enc = malloc(len * 6 + sizeof(HTTP_CHUNK_END));
	size_t off = 0, n = 0, k = 0;
	struct body_result res;
	uint32_t hash = 2166136261u;

	ENSURE(enc);
	while (off < len) {
		size_t piece = (size_t)(uint8_t)in[k++ % len] % 40 + 1;
		if (piece > len - off)
			piece = len - off;
		char hdr[20];
		size_t hl = http_chunk_header(hdr, piece);
		ENSURE(hl == strlen(hdr) && hl <= 4);
		memcpy(enc + n, hdr, hl);
		n += hl;
		memcpy(enc + n, in + off, piece);
		memcpy(enc + n + piece, "\r\n", 2);
		n += piece + 2;
		off += piece;
	}
	memcpy(enc + n, HTTP_CHUNK_END, sizeof(HTTP_CHUNK_END) - 1);
	n += sizeof(HTTP_CHUNK_END) - 1;
	for (size_t i = 0; i < len; i++)
		hash = (hash ^ (uint8_t)in[i]) * 16777619u;
	decode_body(&res, HTTP_BODY_CHUNKED, 0, enc, n, fs);
	ENSURE(res.used == (long)n && res.done && res.total == len && res.hash == hash);
	free(enc);
}

static void check_headers(const struct http_header *h, size_t n, const char *buf, size_t len)
{
	ENSURE(n <= NH);
	for (size_t i = 0; i < n; i++) {
		ENSURE(h[i].name_len > 0 && within(h[i].name, h[i].name_len, buf, len));
		ENSURE(!h[i].value_len || within(h[i].value, h[i].value_len, buf, len));
		for (size_t k = 0; k < h[i].value_len; k++) {
			unsigned char c = (unsigned char)h[i].value[k];
			ENSURE(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		(void)http_list_has_token(h[i].value, h[i].value_len, "close");

		/* Lookup by this name finds this field or an earlier one of the same name. */
		char name[32];
		if (h[i].name_len >= sizeof(name))
			continue;
		memcpy(name, h[i].name, h[i].name_len);
		name[h[i].name_len] = '\0';
		const struct http_header *f = http_header_find(h, n, name);
		ENSURE(f && f <= &h[i] && f->name_len == h[i].name_len);
	}
}

static void check_url(const char *t, size_t n)
{
	char out[128], key[64];
	const char *p, *q, *k, *v;
	size_t pl, ql, kl, vl;
	struct http_query_iter it;

	(void)http_percent_decode(out, sizeof(out), t, n, 0);
	if (http_split_target(t, n, &p, &pl, &q, &ql) < 0)
		return;
	ENSURE(pl > 0 && (within(p, pl, t, n) || (pl == 1 && *p == '/')));
	ENSURE(!ql || within(q, ql, t, n));
	long r = http_percent_decode(out, sizeof(out), p, pl, 0);
	ENSURE(r < 0 || (size_t)r == strlen(out));
	http_query_iter_init(&it, q, ql);
	while (http_query_next(&it, &k, &kl, &v, &vl)) {
		ENSURE(within(k, kl, q, ql) && (!vl || within(v, vl, q, ql)));
		if (http_percent_decode(key, sizeof(key), k, kl, HTTP_DECODE_PLUS_SPACE) < 0)
			continue;
		/* A pair whose key decodes is found by that key (this one or an earlier one). */
		ENSURE(http_query_get(q, ql, key, out, sizeof(out)) != -ENOENT);
	}
}

static void fuzz_requests(const char *buf, size_t len, struct feed_sizes *fs)
{
	size_t off = 0;

	for (int msg = 0; msg < 4 && off < len; msg++) {
		struct http_header h[NH];
		struct http_request_head req = {.headers = h, .num_headers = NH};
		const char *m = buf + off;
		size_t left = len - off;
		int r = http_parse_request(m, left, &req, NULL);

		if (r == -2)
			ENSURE(req.num_headers == NH);
		if (r == -1)
			ENSURE(req.error && (req.error_status == 400 || req.error_status == 414 ||
					     req.error_status == 431 || req.error_status == 501 ||
					     req.error_status == 505));
		if (r < 0)
			return;
		ENSURE((size_t)r <= left);
		ENSURE(within(req.method, req.method_len, m, (size_t)r));
		ENSURE(within(req.target, req.target_len, m, (size_t)r));
		ENSURE(req.minor_version == 0 || req.minor_version == 1);
		check_headers(h, req.num_headers, m, (size_t)r);

		/* The same head alone parses the same; one byte short needs more. */
		char *exact = dup_exact(m, (size_t)r);
		struct http_request_head again = {.headers = h, .num_headers = NH};
		ENSURE(http_parse_request(exact, (size_t)r, &again, NULL) == r);
		again.num_headers = NH;
		ENSURE(http_parse_request(exact, (size_t)r - 1, &again, NULL) == -2);
		free(exact);

		check_url(req.target, req.target_len);
		long used =
			check_body(req.body_kind, req.content_length, m + r, left - (size_t)r, fs);
		if (used < 0)
			return;
		off += (size_t)r + (size_t)used;
	}
}

/* Responses back to back too: a 100 Continue, then the final one. */
static void fuzz_responses(const char *buf, size_t len, bool head, struct feed_sizes *fs)
{
	size_t off = 0;

	for (int msg = 0; msg < 3 && off < len; msg++) {
		struct http_header h[NH];
		struct http_response_head res = {.headers = h, .num_headers = NH};
		const char *m = buf + off;
		size_t left = len - off;
		int r = http_parse_response(m, left, &res, head, NULL);

		if (r == -1)
			ENSURE(res.error);
		if (r < 0)
			return;
		ENSURE((size_t)r <= left && res.status >= 100 && res.status <= 999);
		ENSURE(!res.reason_len || within(res.reason, res.reason_len, m, (size_t)r));
		check_headers(h, res.num_headers, m, (size_t)r);
		if (head || res.status < 200 || res.status == 204 || res.status == 304)
			ENSURE(res.body_kind == HTTP_BODY_NONE);
		if (res.body_kind == HTTP_BODY_UNTIL_CLOSE)
			ENSURE(!res.keep_alive);
		long used =
			check_body(res.body_kind, res.content_length, m + r, left - (size_t)r, fs);
		if (used < 0)
			return;
		off += (size_t)r + (size_t)used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits tight = {
		.max_head = 200, .max_target = 16, .max_headers = 3};
	struct feed_sizes fs = {.p = data, .n = size};
	struct http_header h[NH];
	char *buf = dup_exact((const char *)data, size);

	fuzz_requests(buf, size, &fs);

	/* Tight limits reach 414 and 431 from small inputs. */
	struct http_request_head req = {.headers = h, .num_headers = NH};
	int r = http_parse_request(buf, size, &req, &tight);
	ENSURE(r <= 200 && (r != -1 || req.error_status));

	fuzz_responses(buf, size, false, &fs);
	fuzz_responses(buf, size, true, &fs);
	check_url(buf, size);
	/* A prefix is enough to exercise the encoder and keeps the run fast. */
	check_chunk_roundtrip(buf, size < 256 ? size : 256, &fs);

	char q[32];
	(void)http_query_get(buf, size, "a", q, sizeof(q));
	free(buf);
	return 0;
}
