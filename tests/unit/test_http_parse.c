// SPDX-License-Identifier: Apache-2.0
#include "ascii.h"
#include "http_parse.h"
#include "unit.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define NH   32
#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A literal as (pointer, length), so embedded NULs count. */
#define S(lit)	  lit, sizeof(lit) - 1
#define FAIL(...) unit_fail(__FILE__, __LINE__, __VA_ARGS__)
#define G11	  "GET / HTTP/1.1\r\nHost: h\r\n"
#define P11	  "POST / HTTP/1.1\r\nHost: h\r\n"
#define G10	  "GET / HTTP/1.0\r\n"
#define R11	  "HTTP/1.1 "
#define R10	  "HTTP/1.0 "

static struct http_header hbuf[NH];

/* A copy in a buffer of exactly n bytes, so ASan reports any read past n. */
static char *dup_exact(const char *s, size_t n)
{
	char *p = malloc(n);

	if (n && !p)
		abort();
	if (n)
		memcpy(p, s, n);
	return p;
}

static int req_parse(const char *s, size_t n, struct http_request_head *req,
		     const struct http_limits *lim)
{
	memset(req, 0, sizeof(*req));
	req->headers = hbuf;
	req->num_headers = NH;
	return http_parse_request(s, n, req, lim);
}

static int res_parse(const char *s, size_t n, struct http_response_head *res, bool head)
{
	memset(res, 0, sizeof(*res));
	res->headers = hbuf;
	res->num_headers = NH;
	return http_parse_response(s, n, res, head, NULL);
}

/*
 * Feeds in[0, len) in pieces of at most `step` bytes, each in its own exact
 * buffer, until done; body data is appended to out. Returns the bytes
 * consumed or -1.
 */
static long feed(struct http_body *b, const char *in, size_t len, size_t step, char *out,
		 size_t out_cap, size_t *out_len)
{
	size_t off = 0;

	*out_len = 0;
	while (off < len && !b->done) {
		size_t n = len - off < step ? len - off : step, used = 0;
		char *piece = dup_exact(in + off, n);
		while (used < n && !b->done) {
			const char *d, *at = piece + used;
			size_t dl;
			long r = http_body_decode(b, at, n - used, &d, &dl);
			bool bad_span = dl && (d < at || d + dl > at + r);
			if (r < 0 || r == 0 || (size_t)r > n - used || bad_span ||
			    *out_len + dl > out_cap) {
				if (r >= 0)
					FAIL("bad decode result %ld (step %zu)", r, step);
				free(piece);
				return -1;
			}
			memcpy(out + *out_len, d, dl);
			*out_len += dl;
			used += (size_t)r;
		}
		free(piece);
		off += used;
	}
	return (long)off;
}

/* ---- requests ---- */

TEST(http_req_get)
{
	struct http_request_head r;
	const char m[] = "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\n"
			 "X-Pad: \t spaced  out \t\r\nEmpty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n";

	CHECK_INT(req_parse(S(m), &r, NULL), sizeof(m) - 1);
	CHECK_SPAN(r.method, r.method_len, "GET");
	CHECK_SPAN(r.target, r.target_len, "/index.html?a=1");
	CHECK_INT(r.minor_version, 1);
	CHECK_INT(r.num_headers, 4);
	CHECK_SPAN(r.headers[0].name, r.headers[0].name_len, "Host");
	CHECK_SPAN(r.headers[0].value, r.headers[0].value_len, "example.com");
	CHECK_SPAN(r.headers[1].value, r.headers[1].value_len, "spaced  out");
	CHECK_SPAN(r.headers[2].value, r.headers[2].value_len, "");
	CHECK_SPAN(r.headers[3].value, r.headers[3].value_len, "caf\xc3\xa9");
	CHECK_INT(r.body_kind, HTTP_BODY_NONE);
	CHECK(r.keep_alive && !r.expect_continue && !r.upgrade);
	CHECK(http_header_find(r.headers, r.num_headers, "HOST") == &r.headers[0]);
	CHECK(http_header_find(r.headers, r.num_headers, "x-utf8") == &r.headers[3]);
	CHECK(!http_header_find(r.headers, r.num_headers, "Hos"));
	CHECK(!http_header_find(r.headers, r.num_headers, "Hostt"));
}

TEST(http_req_bodies_forms_versions)
{
	struct http_request_head r;

	CHECK_INT(req_parse(S(P11 "content-LENGTH: 42\r\n\r\n"), &r, NULL), 48);
	CHECK(r.body_kind == HTTP_BODY_LENGTH && r.content_length == 42);
	CHECK(req_parse(S(P11 "Content-Length: 0\r\n\r\n"), &r, NULL) > 0);
	CHECK(r.body_kind == HTTP_BODY_LENGTH && r.content_length == 0);
	CHECK(req_parse(S(P11 "Content-Length: 18446744073709551615\r\n\r\n"), &r, NULL) > 0);
	CHECK(r.content_length == UINT64_MAX);
	CHECK(req_parse(S(P11 "TRANSFER-ENCODING: CHUNKED\r\n\r\n"), &r, NULL) > 0);
	CHECK_INT(r.body_kind, HTTP_BODY_CHUNKED);
	/* Empty list elements are allowed around the one coding (RFC 9110 5.6.1). */
	CHECK(req_parse(S(P11 "Transfer-Encoding: , chunked ,\r\n\r\n"), &r, NULL) > 0);
	CHECK_INT(r.body_kind, HTTP_BODY_CHUNKED);

	CHECK(req_parse(S("GET http://h.example:8080/a?b HTTP/1.1\r\nHost: h\r\n\r\n"), &r, NULL) >
	      0);
	CHECK_SPAN(r.target, r.target_len, "http://h.example:8080/a?b");
	CHECK(req_parse(S("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), &r, NULL) > 0);
	CHECK_SPAN(r.target, r.target_len, "*");
	CHECK_INT(req_parse(S("\r\n\r\n" G11 "\r\n"), &r, NULL), 31);
	CHECK_SPAN(r.method, r.method_len, "GET");
	CHECK(req_parse(S("M-SEARCH! / HTTP/1.1\r\nHost: h\r\n\r\n"), &r, NULL) > 0);
	CHECK_SPAN(r.method, r.method_len, "M-SEARCH!");
	/* Any 1.x is accepted; above 1.1 it is treated as 1.1 (RFC 9110 2.5). */
	CHECK(req_parse(S("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), &r, NULL) > 0);
	CHECK_INT(r.minor_version, 1);
	CHECK(req_parse(S("GET / HTTP/1.0\r\n\r\n"), &r, NULL) > 0);
	CHECK(r.minor_version == 0 && !r.keep_alive);
}

TEST(http_req_connection)
{
	static const struct {
		const char *m;
		size_t n;
		bool keep_alive, upgrade, expect;
	} cases[] = {
		{S(G10 "Connection: Keep-Alive\r\n\r\n"), true, false, false},
		{S(G10 "Connection: keep-alive, close\r\n\r\n"), false, false, false},
		{S(G11 "Connection: foo, Close\r\n\r\n"), false, false, false},
		{S(G11 "Connection: closed\r\n\r\n"), true, false, false},
		{S(G11 "Connection: a\r\nconnection: close\r\n\r\n"), false, false, false},
		{S(G11 "Connection: keep-alive, Upgrade\r\nUpgrade: ws\r\n\r\n"), true, true,
		 false},
		{S(G11 "Connection: upgrade\r\n\r\n"), true, false, false},
		{S(G11 "Upgrade: websocket\r\n\r\n"), true, false, false},
		{S(G10 "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"), false, false, false},
		{S(P11 "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n"), true, false, true},
		{S(P11 "expect: 100-Continue\r\n\r\n"), true, false, true},
		{S(P11 "Expect: 200-ok\r\n\r\n"), true, false, false},
		{S("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), false, false, false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct http_request_head r;
		CHECK_INT(req_parse(cases[i].m, cases[i].n, &r, NULL), cases[i].n);
		if (r.keep_alive != cases[i].keep_alive || r.upgrade != cases[i].upgrade ||
		    r.expect_continue != cases[i].expect)
			FAIL("case %zu: ka %d up %d ex %d", i, r.keep_alive, r.upgrade,
			     r.expect_continue);
	}
}

TEST(http_list_tokens)
{
	CHECK(http_list_has_token(S("keep-alive, close"), "close"));
	CHECK(http_list_has_token(S(" ,\t CLOSE\t, "), "close"));
	CHECK(http_list_has_token(S("a,,b"), "b"));
	CHECK(!http_list_has_token(S("closed"), "close"));
	CHECK(!http_list_has_token(S("clos"), "close"));
	CHECK(!http_list_has_token(S("cl ose"), "close"));
	CHECK(!http_list_has_token(S(""), "close"));
	CHECK(!http_list_has_token(NULL, 0, "close"));
}

/* The tables and the case-insensitive compare against their definitions, for every byte. */
TEST(http_ascii_tables_and_case_compare)
{
	for (int c = 0; c < 256; c++) {
		bool field = c == '\t' || (c >= 0x20 && c != 0x7f);
		if (ascii_is_field_char((unsigned char)c) != field)
			FAIL("field char 0x%02x", c);
		for (int d = 1; d < 256; d++) {
			int lc = c >= 'A' && c <= 'Z' ? c + 32 : c;
			int ld = d >= 'A' && d <= 'Z' ? d + 32 : d;
			char p[1] = {(char)c}, q[2] = {(char)d, 0};
			if (http_span_ieq(p, 1, q) != (lc == ld))
				FAIL("span_ieq 0x%02x 0x%02x", c, d);
		}
	}
	/* A run ends at the first refused byte, wherever it falls in a step of four. */
	static const char line[] = "abcdefghij:";
	for (size_t i = 0; i < sizeof(line) - 1; i++) {
		CHECK_INT(ascii_span(ascii_tchar, line, i, sizeof(line) - 1), 10);
		CHECK_INT(ascii_span(ascii_tchar, line, 0, i), i);
	}
	CHECK(!http_span_ieq(S("Content-Length"), "content-lengthx"));
	CHECK(!http_span_ieq(S("Content-Lengthx"), "content-length"));
	CHECK(http_span_ieq(S("CONTENT-length"), "content-LENGTH"));
}

#define BAD(lit, st)                                                                               \
	{                                                                                          \
		lit, sizeof(lit) - 1, st                                                           \
	}
static const struct {
	const char *m;
	size_t n;
	int status;
} bad_requests[] = {
	/* Smuggling: conflicting or ambiguous framing. */
	BAD(P11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
	BAD(P11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
	BAD(P11 "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", 400),
	BAD(P11 "Content-Length: 5, 5\r\n\r\n", 400),
	BAD(P11 "Content-Length: +5\r\n\r\n", 400),
	BAD(P11 "Content-Length: -5\r\n\r\n", 400),
	BAD(P11 "Content-Length: 5 5\r\n\r\n", 400),
	BAD(P11 "Content-Length: 0x5\r\n\r\n", 400),
	BAD(P11 "Content-Length:\r\n\r\n", 400),
	BAD(P11 "Content-Length: 18446744073709551616\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chunked, chunked\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chunked, chunked, gzip\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding:\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: ,\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chun ked\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: \"chunked\"\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: chunked;a=b\r\n\r\n", 400),
	BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	BAD(P11 "Transfer-Encoding: gzip\r\n\r\n", 501),
	BAD(P11 "Transfer-Encoding: identity\r\n\r\n", 501),
	BAD(P11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
	BAD(P11 "Transfer-Encoding: chunked, gzip\r\n\r\n", 501),
	BAD(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 501),
	BAD(G11 "Host: a\r\nHost: b\r\n\r\n", 400),
	/* Line ends and folding. */
	BAD("GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
	BAD(G11 "Host: a\n\r\n", 400),
	BAD(G11 "Host: a\r\n\n", 400),
	BAD("\n" G11 "\r\n", 400),
	BAD("\r\r" G11 "\r\n", 400),
	BAD("GET / HTTP/1.1\rX\r\n\r\n", 400),
	BAD(G11 "Host: a\rb\r\n\r\n", 400),
	BAD(G11 "X: a\r\n b\r\n\r\n", 400),
	BAD(G11 "X: a\r\n\tb\r\n\r\n", 400),
	BAD(G11 " Host: a\r\n\r\n", 400),
	/* Header names and values. */
	BAD(G11 "Host : a\r\n\r\n", 400),
	BAD(G11 "Host\t: a\r\n\r\n", 400),
	BAD(G11 ": a\r\n\r\n", 400),
	BAD(G11 "Ho(st: a\r\n\r\n", 400),
	BAD(G11 "H\xc3\xa9: a\r\n\r\n", 400),
	BAD(G11 "NoColon\r\n\r\n", 400),
	BAD(G11 "X: a\0b\r\n\r\n", 400),
	BAD(G11 "X: a\x01\r\n\r\n", 400),
	BAD(G11 "X: a\x7f\r\n\r\n", 400),
	BAD(G11 "X: \x1b[31m\r\n\r\n", 400),
	/* Request line. */
	BAD("G(ET / HTTP/1.1\r\n\r\n", 400),
	BAD(" GET / HTTP/1.1\r\n\r\n", 400),
	BAD("GET  / HTTP/1.1\r\n\r\n", 400),
	BAD("GET /  HTTP/1.1\r\n\r\n", 400),
	BAD("GET\t/ HTTP/1.1\r\n\r\n", 400),
	BAD("GET HTTP/1.1\r\n\r\n", 400),
	BAD("GET /\r\n\r\n", 400),
	BAD("GET /a\x01 HTTP/1.1\r\n\r\n", 400),
	BAD("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
	BAD("GET / HTTP/1.1 \r\n\r\n", 400),
	BAD("GET / http/1.1\r\n\r\n", 400),
	BAD("GET / HTTP/1.10\r\n\r\n", 400),
	BAD("GET / HTTP/11\r\n\r\n", 400),
	BAD("GET / HTTP/1.x\r\n\r\n", 400),
	BAD("GET / HTTP/2.0\r\n\r\n", 505),
	BAD("GET / HTTP/0.9\r\n\r\n", 505),
	BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
};

TEST(http_req_rejects)
{
	for (size_t i = 0; i < N(bad_requests); i++) {
		struct http_request_head r;
		char *p = dup_exact(bad_requests[i].m, bad_requests[i].n);
		int ret = req_parse(p, bad_requests[i].n, &r, NULL);
		if (ret != -1 || r.error_status != bad_requests[i].status || !r.error)
			FAIL("bad_requests[%zu]: %d status %d, want %d", i, ret, r.error_status,
			     bad_requests[i].status);
		free(p);
	}
}

TEST(http_req_limits)
{
	const struct http_limits lim = {.max_head = 64, .max_target = 8, .max_headers = 2};
	struct http_request_head r;
	char crlfs[64];

	CHECK(req_parse(S("GET /1234567 HTTP/1.0\r\n\r\n"), &r, &lim) > 0);
	CHECK_INT(req_parse(S("GET /12345678 HTTP/1.0\r\n\r\n"), &r, &lim), -1);
	CHECK_INT(r.error_status, 414);
	/* Refused before the rest of the line arrives. */
	CHECK_INT(req_parse(S("GET /12345678"), &r, &lim), -1);
	CHECK_INT(r.error_status, 414);
	CHECK_INT(req_parse(S("GET /1234567"), &r, &lim), -2);

	CHECK(req_parse(S(G10 "A: 1\r\nB: 2\r\n\r\n"), &r, &lim) > 0);
	CHECK_INT(req_parse(S(G10 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &r, &lim), -1);
	CHECK_INT(r.error_status, 431);
	/* The caller's array bounds the count too. */
	memset(&r, 0, sizeof(r));
	r.headers = hbuf;
	r.num_headers = 1;
	CHECK_INT(http_parse_request(S(G10 "A: 1\r\nB: 2\r\n\r\n"), &r, NULL), -1);
	CHECK_INT(r.error_status, 431);

	/* A head of exactly max_head bytes fits; one more byte does not. */
	const char fits[] = G10 "X: 01234567890123456789012345678901234567890\r\n\r\n";
	const char big[] = G10 "X: 012345678901234567890123456789012345678901\r\n\r\n";
	CHECK_INT(req_parse(S(fits), &r, &lim), 64);
	CHECK_INT(req_parse(S(big), &r, &lim), -1);
	CHECK_INT(r.error_status, 431);
	/* Incomplete with max_head bytes in hand: it can never fit, so no waiting. */
	CHECK_INT(req_parse(big, 63, &r, &lim), -2);
	CHECK_INT(req_parse(big, 64, &r, &lim), -1);
	CHECK_INT(r.error_status, 431);
	for (size_t i = 0; i < sizeof(crlfs); i += 2)
		memcpy(crlfs + i, "\r\n", 2);
	CHECK_INT(req_parse(crlfs, sizeof(crlfs), &r, &lim), -1);
	CHECK_INT(r.error_status, 431);
}

/* After -2 the same struct is reused: num_headers must still be the capacity. */
TEST(http_req_retry_keeps_capacity)
{
	const char m[] = G10 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	struct http_header h[3];
	struct http_request_head r = {.headers = h, .num_headers = 3};

	for (size_t n = 0; n < sizeof(m) - 1; n++)
		CHECK_INT(http_parse_request(m, n, &r, NULL), -2);
	CHECK_INT(r.num_headers, 3);
	CHECK_INT(http_parse_request(S(m), &r, NULL), sizeof(m) - 1);
	CHECK_INT(r.num_headers, 3);
}

/* ---- truncation and pipelining ---- */

static const struct {
	const char *m;
	size_t n;
	const char *body;
} full_requests[] = {
	{S("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"), ""},
	{S("POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"), "hello world"},
	{S("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "5;ext=1;q=\"x\"\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"),
	 "hello world"},
	{S("\r\nGET http://h/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), ""},
	{S("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: "
	   "chunked\r\n\r\n"
	   "001\r\nZ\r\n0\r\n\r\n"),
	 "Z"},
};

/* Every proper prefix: the head needs more, then the body is not done. */
TEST(http_req_every_truncation)
{
	for (size_t k = 0; k < N(full_requests); k++) {
		struct http_request_head r;
		const char *m = full_requests[k].m;
		size_t total = full_requests[k].n;
		int head = req_parse(m, total, &r, NULL);

		CHECK(head > 0);
		for (size_t n = 0; n < total; n++) {
			char *p = dup_exact(m, n), out[64];
			size_t out_len = 0, h = (size_t)head;
			int ret = req_parse(p, n, &r, NULL);
			if (n < h) {
				if (ret != -2)
					FAIL("msg %zu len %zu: %d", k, n, ret);
				free(p);
				continue;
			}
			CHECK_INT(ret, head);
			struct http_body b;
			http_body_init(&b, r.body_kind, r.content_length);
			long used = feed(&b, p + h, n - h, n, out, sizeof(out), &out_len);
			if (used != (long)(n - h) || b.done || http_body_eof(&b) != -1)
				FAIL("msg %zu len %zu: body %ld done %d", k, n, used, b.done);
			free(p);
		}
	}
}

TEST(http_req_pipelined)
{
	char all[1024], out[64];
	size_t len = 0, off = 0;

	for (size_t k = 0; k < N(full_requests); k++) {
		memcpy(all + len, full_requests[k].m, full_requests[k].n);
		len += full_requests[k].n;
	}
	char *buf = dup_exact(all, len);
	for (size_t k = 0; k < N(full_requests); k++) {
		struct http_request_head r;
		struct http_body b;
		size_t out_len;
		int head = req_parse(buf + off, len - off, &r, NULL);
		if (head <= 0) {
			FAIL("request %zu: %d", k, head);
			break;
		}
		off += (size_t)head;
		http_body_init(&b, r.body_kind, r.content_length);
		/* The whole rest is offered; the decoder must stop at the end of this body. */
		long used = feed(&b, buf + off, len - off, len, out, sizeof(out), &out_len);
		CHECK(used >= 0 && b.done);
		CHECK_SPAN(out, out_len, full_requests[k].body);
		off += (size_t)used;
	}
	CHECK_INT(off, len);
	free(buf);
}

/* ---- chunked bodies ---- */

#define BADC(lit)                                                                                  \
	{                                                                                          \
		S(lit), NULL, 0                                                                    \
	}
static const struct {
	const char *in;
	size_t n;
	const char *body; /* NULL: malformed */
	size_t tail;	  /* bytes left over for the next message */
} chunk_cases[] = {
	{S("5\r\nhello\r\n0\r\n\r\n"), "hello", 0},
	{S("5;a=1;b;c=\"q;\\\"\"\r\n01234\r\n0;last\r\n\r\n"), "01234", 0},
	{S("5 \t;e\r\nhello\r\n0\r\n\r\n"), "hello", 0},
	{S("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"), "0123456789abcdefghij", 0},
	{S("00000003\r\nabc\r\n000\r\n\r\n"), "abc", 0},
	{S("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n"), "abc", 0},
	{S("0\r\n\r\n"), "", 0},
	{S("1\r\n\xff\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), "\xff", 16},
	/* Bare LF or no CRLF after data, bad size syntax, sizes over 2^60, bad trailers. */
	BADC("5\nhello\r\n0\r\n\r\n"),
	BADC("5\r\nhelloX\r\n0\r\n\r\n"),
	BADC("5\r\nhello\n0\r\n\r\n"),
	BADC("5\r\nhello\r0\r\n\r\n"),
	BADC("5;a\nb\r\nhello\r\n0\r\n\r\n"),
	BADC("5;a\x01\r\nhello\r\n0\r\n\r\n"),
	BADC("5\r\r\nhello\r\n0\r\n\r\n"),
	BADC("\r\n"),
	BADC(" 5\r\nhello\r\n0\r\n\r\n"),
	BADC("5 \r\nhello\r\n0\r\n\r\n"),
	BADC("5 5\r\n"),
	BADC("-5\r\n"),
	BADC("+5\r\n"),
	BADC("0x5\r\n"),
	BADC("g\r\n"),
	BADC("1000000000000001\r\n"),
	BADC("10000000000000000\r\n"),
	BADC("ffffffffffffffffff\r\n"),
	BADC("0\r\nX: a\r\n b\r\n\r\n"),
	BADC("0\r\n X: a\r\n\r\n"),
	BADC("0\r\nX: a\n\r\n"),
	BADC("0\r\nX : a\r\n\r\n"),
	BADC("0\r\nnocolon\r\n\r\n"),
	BADC("0\r\nX: a\0\r\n\r\n"),
	BADC("0\r\n\r\r\n"),
	BADC("0\r\n\n"),
};

/* Each case fed whole and in pieces down to one byte at a time. */
TEST(http_chunked_cases)
{
	static const size_t steps[] = {1, 2, 3, 7, 4096};
	char out[64];
	size_t out_len;

	for (size_t i = 0; i < N(chunk_cases); i++) {
		const char *want = chunk_cases[i].body;
		size_t n = chunk_cases[i].n;
		for (size_t s = 0; s < N(steps); s++) {
			struct http_body b;
			http_body_init(&b, HTTP_BODY_CHUNKED, 0);
			long used = feed(&b, chunk_cases[i].in, n, steps[s], out, sizeof(out),
					 &out_len);
			bool ok = used == -1 && http_body_eof(&b) == -1;
			if (want)
				ok = used == (long)(n - chunk_cases[i].tail) && b.done &&
				     b.total == out_len && http_body_eof(&b) == 0 &&
				     out_len == strlen(want) && !memcmp(out, want, out_len);
			if (!ok)
				FAIL("chunk_cases[%zu] step %zu: %ld", i, steps[s], used);
		}
	}
}

/* Two feeds split at every offset, inside sizes, extensions, CRLFs and trailers. */
TEST(http_chunked_all_splits)
{
	const char in[] = "1a;x=y\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\n123\r\n0\r\nT: v\r\n\r\n";
	const size_t n = sizeof(in) - 1;
	char out[64];

	for (size_t cut = 0; cut <= n; cut++) {
		struct http_body b;
		size_t l1, l2;
		http_body_init(&b, HTTP_BODY_CHUNKED, 0);
		CHECK_INT(feed(&b, in, cut, n, out, sizeof(out), &l1), cut);
		CHECK(b.done == (cut == n));
		CHECK_INT(feed(&b, in + cut, n - cut, n, out + l1, sizeof(out) - l1, &l2), n - cut);
		CHECK(b.done);
		CHECK_SPAN(out, l1 + l2, "abcdefghijklmnopqrstuvwxyz123");
	}
}

TEST(http_chunked_limits_and_state)
{
	static char big[HTTP_TRAILER_MAX + 2048];
	char out[8];
	size_t out_len, n;
	struct http_body b;
	const char *d;
	size_t dl;

	/* 2^60 is the largest chunk size taken. */
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(feed(&b, S("1000000000000000\r\nab"), 2, out, sizeof(out), &out_len), 20);
	CHECK(b.remaining == (1ULL << 60) - 2);

	/* A size line of leading zeros or extensions is bounded (CRLF included). */
	memset(big, '0', HTTP_CHUNK_LINE_MAX + 8);
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(feed(&b, big, HTTP_CHUNK_LINE_MAX + 8, 4096, out, sizeof(out), &out_len), -1);
	n = (size_t)snprintf(big, sizeof(big), "1;%0*d\r\n", HTTP_CHUNK_LINE_MAX - 4, 0);
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(feed(&b, big, n, n, out, sizeof(out), &out_len), n);
	n = (size_t)snprintf(big, sizeof(big), "1;%0*d\r\n", HTTP_CHUNK_LINE_MAX - 3, 0);
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(feed(&b, big, n, n, out, sizeof(out), &out_len), -1);

	/* Trailer lines each fit, but not all together. */
	n = (size_t)snprintf(big, sizeof(big), "0\r\n");
	while (n < HTTP_TRAILER_MAX + 16)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Long: %01000d\r\n", 0);
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(feed(&b, big, n, n, out, sizeof(out), &out_len), -1);
	/* Errors are sticky. */
	CHECK_INT(http_body_decode(&b, S("0\r\n\r\n"), &d, &dl), -1);

	/* Done: nothing more is taken. */
	http_body_init(&b, HTTP_BODY_CHUNKED, 0);
	CHECK_INT(http_body_decode(&b, S("0\r\n\r\nrest"), &d, &dl), 5);
	CHECK(b.done && dl == 0);
	CHECK_INT(http_body_decode(&b, S("rest"), &d, &dl), 0);
}

TEST(http_body_length_close_none)
{
	struct http_body b;
	const char *d;
	size_t dl;
	char h[20];

	http_body_init(&b, HTTP_BODY_LENGTH, 5);
	CHECK_INT(http_body_eof(&b), -1);
	CHECK_INT(http_body_decode(&b, S("he"), &d, &dl), 2);
	CHECK_SPAN(d, dl, "he");
	CHECK(!b.done && b.remaining == 3);
	CHECK_INT(http_body_decode(&b, S("lloGET"), &d, &dl), 3);
	CHECK_SPAN(d, dl, "llo");
	CHECK(b.done && b.total == 5 && http_body_eof(&b) == 0);
	http_body_init(&b, HTTP_BODY_LENGTH, 0);
	CHECK(b.done);
	CHECK_INT(http_body_decode(&b, S("x"), &d, &dl), 0);

	http_body_init(&b, HTTP_BODY_UNTIL_CLOSE, 0);
	CHECK_INT(http_body_decode(&b, S("abc"), &d, &dl), 3);
	CHECK_SPAN(d, dl, "abc");
	CHECK(!b.done && http_body_eof(&b) == 0);

	http_body_init(&b, HTTP_BODY_NONE, 0);
	CHECK(b.done && http_body_eof(&b) == 0);
	CHECK_INT(http_body_decode(&b, S("abc"), &d, &dl), 0);

	CHECK_INT(http_chunk_header(h, 0), 3);
	CHECK_STR(h, "0\r\n");
	CHECK_INT(http_chunk_header(h, 26), 4);
	CHECK_STR(h, "1a\r\n");
	CHECK_INT(http_chunk_header(h, 4096), 6);
	CHECK_STR(h, "1000\r\n");
	CHECK_INT(http_chunk_header(h, SIZE_MAX), 2 + 2 * sizeof(size_t));
	CHECK_INT(strlen(HTTP_CHUNK_END), 5);
}

/* ---- responses ---- */

#define LEN   HTTP_BODY_LENGTH
#define NONE  HTTP_BODY_NONE
#define CHUNK HTTP_BODY_CHUNKED
#define CLOSE HTTP_BODY_UNTIL_CLOSE
TEST(http_res_kinds)
{
	static const struct {
		const char *m;
		size_t n;
		bool head;
		int status;
		enum http_body_kind kind;
		bool keep_alive;
	} cases[] = {
		{S(R11 "200 OK\r\nContent-Length: 5\r\n\r\n"), false, 200, LEN, true},
		{S(R11 "200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), false, 200, CHUNK, true},
		{S(R11 "200 OK\r\n\r\n"), false, 200, CLOSE, false},
		{S(R11 "200 OK\r\nContent-Length: 5\r\n\r\n"), true, 200, NONE, true},
		{S(R11 "204 No Content\r\n\r\n"), false, 204, NONE, true},
		{S(R11 "304 Not Modified\r\nContent-Length: 10\r\n\r\n"), false, 304, NONE, true},
		{S(R11 "100 Continue\r\n\r\n"), false, 100, NONE, true},
		{S(R11 "101 Go\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n"), false, 101, NONE,
		 true},
		{S(R11 "404\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), false, 404, LEN,
		 false},
		{S(R10 "200 OK\r\nContent-Length: 1\r\n\r\n"), false, 200, LEN, false},
		{S(R10 "200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n"), false, 200,
		 LEN, true},
		{S(R11 "999 \t\xff\r\n\r\n"), false, 999, CLOSE, false},
	};
	struct http_response_head r;

	for (size_t i = 0; i < N(cases); i++) {
		int ret = res_parse(cases[i].m, cases[i].n, &r, cases[i].head);
		if (ret != (int)cases[i].n || r.status != cases[i].status ||
		    r.body_kind != cases[i].kind || r.keep_alive != cases[i].keep_alive)
			FAIL("case %zu: %d status %d kind %d ka %d", i, ret, r.status, r.body_kind,
			     r.keep_alive);
	}
	CHECK(res_parse(S(R11 "200 Very OK\r\nContent-Length: 7\r\n\r\n"), &r, false) > 0);
	CHECK_SPAN(r.reason, r.reason_len, "Very OK");
	CHECK(r.content_length == 7 && r.num_headers == 1);
	CHECK(res_parse(S(R11 "200\r\n\r\n"), &r, false) > 0);
	CHECK_SPAN(r.reason, r.reason_len, "");
}

TEST(http_res_rejects)
{
	static const struct {
		const char *m;
		size_t n;
	} bad[] = {
		{S("HTTP/2.0 200 OK\r\n\r\n")},
		{S(R11 "20 OK\r\n\r\n")},
		{S(R11 "099 OK\r\n\r\n")},
		{S(R11 "2000 OK\r\n\r\n")},
		{S(R11 " 200 OK\r\n\r\n")},
		{S(R11 "200 O\x01K\r\n\r\n")},
		{S(R11 "200 OK\n\r\n")},
		{S(R11 "200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n")},
		{S(R11 "200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")},
		{S(R11 "200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")},
		{S("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")},
		{S(R11 "200 OK\r\nX: a\r\n b\r\n\r\n")},
		{S("\r\n" R11 "200 OK\r\n\r\n")},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct http_response_head r;
		char *p = dup_exact(bad[i].m, bad[i].n);
		if (res_parse(p, bad[i].n, &r, false) != -1 || !r.error)
			FAIL("bad response %zu accepted", i);
		free(p);
	}
}

TEST(http_res_every_truncation)
{
	static const struct {
		const char *m;
		size_t n;
		const char *body;
	} msgs[] = {
		{S(R11 "200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
		 "hello"},
		{S(R11 "200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), "abc"},
		{S(R11 "204 No Content\r\nDate: x\r\n\r\n"), ""},
		{S("HTTP/1.0 404\r\n\r\n"), ""},
	};
	for (size_t k = 0; k < N(msgs); k++) {
		struct http_response_head r;
		struct http_body b;
		char out[16];
		size_t out_len;
		int head = res_parse(msgs[k].m, msgs[k].n, &r, false);
		size_t rest = msgs[k].n - (size_t)head;

		CHECK(head > 0);
		http_body_init(&b, r.body_kind, r.content_length);
		CHECK_INT(feed(&b, msgs[k].m + head, rest, 1, out, sizeof(out), &out_len), rest);
		CHECK_SPAN(out, out_len, msgs[k].body);
		CHECK_INT(http_body_eof(&b), 0);
		for (size_t n = 0; n < (size_t)head; n++) {
			char *p = dup_exact(msgs[k].m, n);
			int ret = res_parse(p, n, &r, false);
			if (ret != -2)
				FAIL("response %zu len %zu: %d", k, n, ret);
			free(p);
		}
	}
}

/* ---- targets, percent-decoding, queries ---- */

TEST(http_split_target_forms)
{
	static const struct {
		const char *t, *path, *query; /* path NULL: invalid */
	} cases[] = {
		{"/a/b?x=1&y", "/a/b", "x=1&y"},
		{"/a", "/a", ""},
		{"/?", "/", ""},
		{"//x", "//x", ""},
		{"*", "*", ""},
		{"http://h/p?q", "/p", "q"},
		{"https://u@h.example:8443/x/y", "/x/y", ""},
		{"http://h", "/", ""},
		{"http://h?q=1", "/", "q=1"},
		{"", NULL, NULL},
		{"a", NULL, NULL},
		{"*x", NULL, NULL},
		{"h.example:443", NULL, NULL},
		{"http:/x", NULL, NULL},
		{"http://", NULL, NULL},
		{"http:///x", NULL, NULL},
		{"1http://h/", NULL, NULL},
		{"/a#frag", NULL, NULL},
		{"/a b", NULL, NULL},
		{"/a\x7f", NULL, NULL},
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *p = NULL, *q = NULL;
		size_t pl = 0, ql = 0, n = strlen(cases[i].t);
		char *t = dup_exact(cases[i].t, n);
		int r = http_split_target(t, n, &p, &pl, &q, &ql);
		if (!cases[i].path) {
			if (r != -1)
				FAIL("target %zu accepted", i);
		} else {
			CHECK_INT(r, 0);
			CHECK_SPAN(p, pl, cases[i].path);
			CHECK_SPAN(q, ql, cases[i].query);
		}
		free(t);
	}
}

TEST(http_percent_decoding)
{
	char out[32];

	CHECK_INT(http_percent_decode(out, sizeof(out), S("a%2Fb%2f"), 0), 4);
	CHECK_STR(out, "a/b/");
	CHECK_INT(http_percent_decode(out, sizeof(out), S("%4a%4B%C3%A9"), 0), 4);
	CHECK_STR(out, "JK\xc3\xa9");
	CHECK_INT(http_percent_decode(out, sizeof(out), S("a+b"), 0), 3);
	CHECK_STR(out, "a+b");
	CHECK_INT(http_percent_decode(out, sizeof(out), S("a+b%2B"), HTTP_DECODE_PLUS_SPACE), 4);
	CHECK_STR(out, "a b+");
	CHECK_INT(http_percent_decode(out, sizeof(out), S(""), 0), 0);
	CHECK_STR(out, "");
	CHECK_INT(http_percent_decode(out, sizeof(out), S("%zz"), 0), -1);
	CHECK_INT(http_percent_decode(out, sizeof(out), S("%g0"), 0), -1);
	CHECK_INT(http_percent_decode(out, sizeof(out), S("%00"), 0), -1);
	CHECK_INT(http_percent_decode(out, sizeof(out), S("a\0b"), 0), -1);
	CHECK_INT(http_percent_decode(out, sizeof(out), S("ab%4"), 0), -1);
	CHECK_INT(http_percent_decode(out, sizeof(out), S("ab%"), 0), -1);
	/* Exact fit, then one byte short (the terminator counts). */
	CHECK_INT(http_percent_decode(out, 4, S("abc"), 0), 3);
	CHECK_INT(http_percent_decode(out, 3, S("abc"), 0), -1);
	CHECK_INT(http_percent_decode(out, 2, S("%41%42"), 0), -1);
	CHECK_INT(http_percent_decode(out, 0, S(""), 0), -1);
	/* Truncated escapes in exact buffers: no read past the end. */
	for (size_t n = 0; n <= 6; n++) {
		char *p = dup_exact("%41%42", n);
		CHECK_INT(http_percent_decode(out, sizeof(out), p, n, 0), n % 3 ? -1 : (long)n / 3);
		free(p);
	}
}

TEST(http_query_iteration)
{
	static const char *const want[][2] = {
		{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", ""}, {"", "x"}, {"d", "="},
	};
	struct http_query_iter it;
	const char *k, *v;
	size_t kl, vl, i = 0;

	http_query_iter_init(&it, S("&a=1&b=2&&a=3&c&=x&d==&"));
	for (; http_query_next(&it, &k, &kl, &v, &vl); i++) {
		if (i < N(want)) {
			CHECK_SPAN(k, kl, want[i][0]);
			CHECK_SPAN(v, vl, want[i][1]);
		}
	}
	CHECK_INT(i, N(want));
	http_query_iter_init(&it, NULL, 0);
	CHECK(!http_query_next(&it, &k, &kl, &v, &vl));
	http_query_iter_init(&it, S("&&&"));
	CHECK(!http_query_next(&it, &k, &kl, &v, &vl));
}

TEST(http_query_get_values)
{
	const char q[] = "a=1&na%6De=v%20x+y&a=2&flag&a+b=sp&bad=%zz&k%zz=1&big=0123456789";
	char out[8];

	CHECK_INT(http_query_get(S(q), "a", out, sizeof(out)), 1);
	CHECK_STR(out, "1");
	CHECK_INT(http_query_get(S(q), "name", out, sizeof(out)), 5);
	CHECK_STR(out, "v x y");
	CHECK_INT(http_query_get(S(q), "flag", out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_INT(http_query_get(S(q), "a b", out, sizeof(out)), 2);
	CHECK_INT(http_query_get(S(q), "missing", out, sizeof(out)), -ENOENT);
	CHECK_INT(http_query_get(S(q), "nam", out, sizeof(out)), -ENOENT);
	CHECK_INT(http_query_get(S(q), "bad", out, sizeof(out)), -EINVAL);
	CHECK_INT(http_query_get(S(q), "k", out, sizeof(out)), -ENOENT);
	CHECK_INT(http_query_get(S(q), "big", out, sizeof(out)), -EINVAL);
	CHECK_INT(http_query_get(NULL, 0, "a", out, sizeof(out)), -ENOENT);
}

TEST(http_host_values)
{
	static const char *const good[] = {
		"localhost", "api.example.com:8080", "10.0.0.1", "10.0.0.1:80",
		"[::1]",     "[fe80::1]:44772",	     "a-b.c"};
	static const char *const bad[] = {"",	       ":80", "a b",	 "a/b",	      "evil.com/x?",
					  "user@host", "h:0", "h:65536", "h:",	      "h:8a",
					  "[::1",      "[]",  "[g::1]",	 "a\r\nX: y", "h:123456"};
	for (size_t i = 0; i < N(good); i++)
		if (!http_host_valid(good[i]))
			FAIL("good host %s refused", good[i]);
	for (size_t i = 0; i < N(bad); i++)
		if (http_host_valid(bad[i]))
			FAIL("bad host %s accepted", bad[i]);
}
