// SPDX-License-Identifier: Apache-2.0
/*
 * multipart: boundary extraction, the SDK's upload body cut at every point
 * (and byte at a time), part header forms, limits and malformed bodies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "multipart.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

/* A log of events; data is coalesced per part so every chunking logs the same. */
struct rec {
	struct buf log, data;
	int abort_on_data; /* non-zero: on_data returns it */
	const char *chunk; /* the chunk being fed, to check data spans */
	size_t chunk_len;
	const struct multipart *m;
	bool bad_span;
};

static void put_span(struct buf *b, const char *what, const char *p, size_t n)
{
	if (p)
		buf_printf(b, " %s=%.*s", what, (int)n, p);
}

static int rec_part(const struct multipart_part *p, void *arg)
{
	struct rec *r = arg;
	buf_printf(&r->log, "[part %u", p->index);
	put_span(&r->log, "name", p->name, p->name_len);
	put_span(&r->log, "filename", p->filename, p->filename_len);
	put_span(&r->log, "type", p->content_type, p->content_type_len);
	buf_puts(&r->log, "]");
	return 0;
}

static int rec_data(const char *d, size_t n, void *arg)
{
	struct rec *r = arg;
	const char *delim = r->m->delim;
	bool in_chunk = d >= r->chunk && d + n <= r->chunk + r->chunk_len;
	bool in_state = d >= delim && d + n <= delim + sizeof(r->m->delim);
	if (!n || (!in_chunk && !in_state && !(n == 1 && *d == '-')))
		r->bad_span = true;
	buf_append(&r->data, d, n);
	return r->abort_on_data;
}

static int rec_end(void *arg)
{
	struct rec *r = arg;
	buf_printf(&r->log, "[data %zu:", r->data.len);
	buf_append(&r->log, buf_head(&r->data), r->data.len);
	buf_puts(&r->log, "][end]");
	buf_reset(&r->data);
	return 0;
}

static const struct multipart_callbacks rec_cb = {rec_part, rec_data, rec_end};

/*
 * Parses body fed at the given cut points (sorted, each in its own
 * exact-size buffer). Returns 0, or -1 from feed or finish; the log and the
 * error are in r / *err.
 */
static int parse_cuts(struct rec *r, const char *boundary, const char *body, size_t len,
		      const size_t *cuts, size_t ncuts, const char **err)
{
	struct multipart *m = malloc(sizeof(*m));
	size_t prev = 0;
	int ret = 0;

	buf_reset(&r->log);
	buf_reset(&r->data);
	r->bad_span = false;
	r->m = m;
	*err = NULL;
	CHECK_INT(multipart_init(m, boundary, strlen(boundary), &rec_cb, r), 0);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		size_t n = end - prev;
		char *chunk = malloc(n ? n : 1);
		memcpy(chunk, body + prev, n);
		r->chunk = chunk;
		r->chunk_len = n;
		long got = multipart_feed(m, chunk, n);
		free(chunk);
		if (got < 0) {
			ret = -1;
			break;
		}
		CHECK_INT(got, n);
		prev = end;
	}
	if (!ret)
		ret = multipart_finish(m);
	if (ret)
		*err = m->error;
	CHECK(!r->bad_span);
	free(m);
	return ret;
}

static int parse_whole(struct rec *r, const char *boundary, const char *body, size_t len,
		       const char **err)
{
	return parse_cuts(r, boundary, body, len, NULL, 0, err);
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->log, 0);
	buf_init(&r->data, 0);
}

static void rec_free(struct rec *r)
{
	buf_free(&r->log);
	buf_free(&r->data);
}

TEST(multipart_boundary_from_content_type)
{
	static const struct {
		const char *ct, *want;
	} t[] = {
		{"multipart/form-data; boundary=abc", "abc"},
		{"multipart/form-data;boundary=abc", "abc"},
		{"Multipart/Form-Data; BOUNDARY=x", "x"},
		{"multipart/form-data; charset=utf-8; boundary=----formdata-undici-0123",
		 "----formdata-undici-0123"},
		{"multipart/form-data; boundary=\"a b:c\"", "a b:c"},
		{"multipart/form-data; boundary=\"a\\\"b\"", "a\"b"},
		{"multipart/form-data ; boundary = abc ;", "abc"},
		{"multipart/form-data; boundary="
		 "0123456789012345678901234567890123456789012345678901234567890123456789",
		 "0123456789012345678901234567890123456789012345678901234567890123456789"},
		{"multipart/form-data; boundary="
		 "01234567890123456789012345678901234567890123456789012345678901234567890",
		 NULL},
		{"multipart/form-data", NULL},
		{"multipart/form-data; charset=utf-8", NULL},
		{"multipart/mixed; boundary=abc", NULL},
		{"text/plain; boundary=abc", NULL},
		{"multipart/form-data; boundary=", NULL},
		{"multipart/form-data; boundary=\"\"", NULL},
		{"multipart/form-data; boundary=\"ab \"", NULL},
		{"multipart/form-data; boundary=\"a\x01\"", NULL},
		{"multipart/form-data; boundary=\"abc", NULL},
		{"multipart/form-data; boundary=a; boundary=b", NULL},
		{"multipart/form-data boundary=abc", NULL},
		{"multipart/form-data; boundary", NULL},
		{"multipart/form-data; =abc", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[MULTIPART_BOUNDARY_MAX + 1];
		size_t n = strlen(t[i].ct);
		char *ct = malloc(n ? n : 1);
		memcpy(ct, t[i].ct, n);
		int r = multipart_boundary(ct, n, out);
		free(ct);
		if (t[i].want) {
			CHECK_INT(r, strlen(t[i].want));
			if (r >= 0)
				CHECK_STR(out, t[i].want);
		} else if (r != -EINVAL) {
			unit_fail(__FILE__, __LINE__, "\"%s\" gave %d", t[i].ct, r);
		}
	}
}

/* The JS SDK's upload: metadata part, then the file part (binary, with traps). */
#define SDK_BOUNDARY "----formdata-undici-012345678901"
static const char sdk_body[] =
	"--" SDK_BOUNDARY "\r\n"
	"Content-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
	"Content-Type: application/json\r\n"
	"\r\n"
	"{\"path\":\"/tmp/x.bin\",\"mode\":644}\r\n"
	"--" SDK_BOUNDARY "\r\n"
	"Content-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
	"Content-Type: application/octet-stream\r\n"
	"\r\n"
	"\r\n\r\r\n\n\x00\xff--" SDK_BOUNDARY "\r\n-\r\n--\r\n--" SDK_BOUNDARY "X"
	"\r\n--" SDK_BOUNDARY "-x\r\n--" SDK_BOUNDARY "-\r\n--" SDK_BOUNDARY "\x00"
	"\r\n--"
	"----formdata-undici-01234567890"
	"\r\r\n"
	"\r\n--" SDK_BOUNDARY "--\r\n";

static const char sdk_file[] =
	"\r\n\r\r\n\n\x00\xff--" SDK_BOUNDARY "\r\n-\r\n--\r\n--" SDK_BOUNDARY "X"
	"\r\n--" SDK_BOUNDARY "-x\r\n--" SDK_BOUNDARY "-\r\n--" SDK_BOUNDARY "\x00"
	"\r\n--"
	"----formdata-undici-01234567890"
	"\r\r\n";

static void sdk_expected(struct buf *b)
{
	buf_reset(b);
	buf_puts(b, "[part 0 name=metadata filename=metadata type=application/json]"
		    "[data 32:{\"path\":\"/tmp/x.bin\",\"mode\":644}][end]"
		    "[part 1 name=file filename=x.bin type=application/octet-stream]");
	buf_printf(b, "[data %zu:", sizeof(sdk_file) - 1);
	buf_append(b, sdk_file, sizeof(sdk_file) - 1);
	buf_puts(b, "][end]");
}

static bool log_is(const struct rec *r, const struct buf *want)
{
	return r->log.len == want->len && memcmp(buf_head(&r->log), buf_head(want), want->len) == 0;
}

TEST(multipart_sdk_body_every_split)
{
	struct rec r;
	struct buf want;
	const char *err;
	const size_t n = sizeof(sdk_body) - 1;

	rec_init(&r);
	buf_init(&want, 0);
	sdk_expected(&want);
	CHECK_INT(parse_whole(&r, SDK_BOUNDARY, sdk_body, n, &err), 0);
	CHECK(log_is(&r, &want));
	for (size_t cut = 0; cut <= n; cut++) {
		CHECK_INT(parse_cuts(&r, SDK_BOUNDARY, sdk_body, n, &cut, 1, &err), 0);
		if (!log_is(&r, &want)) {
			unit_fail(__FILE__, __LINE__, "split at %zu differs", cut);
			break;
		}
	}
	/* Byte at a time, and three-way cuts around the delimiters. */
	size_t *cuts = malloc(n * sizeof(*cuts));
	for (size_t i = 0; i < n; i++)
		cuts[i] = i;
	CHECK_INT(parse_cuts(&r, SDK_BOUNDARY, sdk_body, n, cuts, n, &err), 0);
	CHECK(log_is(&r, &want));
	for (size_t a = 0; a < n; a += 7) {
		for (size_t b = a; b <= n && b < a + 80; b++) {
			size_t c2[2] = {a, b};
			parse_cuts(&r, SDK_BOUNDARY, sdk_body, n, c2, 2, &err);
			if (!log_is(&r, &want))
				unit_fail(__FILE__, __LINE__, "cuts %zu,%zu differ", a, b);
		}
	}
	free(cuts);
	buf_free(&want);
	rec_free(&r);
}

struct mp_case {
	const char *body;
	size_t len;
	const char *log;   /* NULL: must fail */
	const char *error; /* the expected m->error when failing */
};

#define OK(b, l)                                                                                   \
	{                                                                                          \
		S(b), l, NULL                                                                      \
	}
#define BAD(b, e)                                                                                  \
	{                                                                                          \
		S(b), NULL, e                                                                      \
	}

static const struct mp_case cases[] = {
	/* preamble, padding, epilogue; parts without headers or body */
	OK("preamble\r\nxx--B\r\n--B \t\r\n\r\nbody\r\n--B--\r\nepilogue --B\r\n",
	   "[part 0][data 4:body][end]"),
	OK("--B\r\nContent-Type: text/plain\r\n\r\n\r\n--B--",
	   "[part 0 type=text/plain][data 0:][end]"),
	OK("--B--", ""),
	OK("--B--junk", ""),
	OK("\r\n--B\r\n\r\n\r\n--B--", "[part 0][data 0:][end]"),
	OK("--Bx\r\n--B\r\n\r\na\r\n--B--", "[part 0][data 1:a][end]"),
	/* header forms */
	OK("--B\r\ncontent-disposition:form-data;name=a;filename=b.txt\r\n\r\nx\r\n--B--",
	   "[part 0 name=a filename=b.txt][data 1:x][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=\"a\\\"b\"; filename=\"C:\\dir\\f.txt\"\r\n"
	   "\r\n\r\n--B--",
	   "[part 0 name=a\"b filename=C:\\dir\\f.txt][data 0:][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"; "
	   "filename*=UTF-8''%E6%B5%8B%E8%AF%95.txt\r\n\r\n\r\n--B--",
	   "[part 0 name=f filename=\xe6\xb5\x8b\xe8\xaf\x95.txt][data 0:][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=f; filename*=latin1''x; filename=y\r\n"
	   "\r\n\r\n--B--",
	   "[part 0 name=f filename=y][data 0:][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\n\r\n--B--",
	   "[part 0 name=f filename=][data 0:][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=a; name=\"a\";\r\n\r\n\r\n--B--",
	   "[part 0 name=a][data 0:][end]"),
	OK("--B\r\nContent-Disposition: attachment; name=a\r\nX-Other: 1\r\n\r\n\r\n--B--",
	   "[part 0][data 0:][end]"),
	OK("--B\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	   "--B\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--B--\r\n",
	   "[part 0 name=a][data 1:1][end][part 1 name=b][data 1:2][end]"),
	/* malformed */
	BAD("", "no boundary found"),
	BAD("hello world", "no boundary found"),
	BAD("x--B\r\n\r\n", "no boundary found"),
	OK("x--B\r\n\r\n\r\n--B--", ""),
	BAD("--B\r\n\r\nbody", "missing final boundary"),
	BAD("--B\r\n\r\nbody\r\n--B\r\n", "unexpected end in part headers"),
	BAD("--B\r\n\r\nbody\r\n--B", "missing final boundary"),
	BAD("--B\r\n\r\nbody\r\n--B-", "missing final boundary"),
	BAD("--B\r\nContent-Type: x", "unexpected end in part headers"),
	BAD("--B\n\r\n", "bare LF after boundary"),
	BAD("--B x\r\n", "junk after boundary"),
	BAD("--B\rx", "boundary line not ended by CRLF"),
	BAD("--B\r\nContent-Type: x\n\r\n", "bare LF in part header"),
	BAD("--B\r\nContent-Type: x\rx\r\n\r\n", "bare CR in part header"),
	BAD("--B\r\nContent-Type: x\r\n folded\r\n\r\n", "folded part header line"),
	BAD("--B\r\nno colon\r\n\r\n", "malformed part header line"),
	BAD("--B\r\n: empty\r\n\r\n", "malformed part header line"),
	BAD("--B\r\nBad Name: x\r\n\r\n", "malformed part header line"),
	BAD("--B\r\nX: a\x01\r\n\r\n", "control character in part header"),
	BAD("--B\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", "duplicate Content-Type"),
	BAD("--B\r\nContent-Disposition: form-data\r\nContent-Disposition: form-data\r\n\r\n",
	    "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n",
	    "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n",
	    "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: form-data; name\r\n\r\n", "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: form-data name=a\r\n\r\n", "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: ; name=a\r\n\r\n", "invalid Content-Disposition"),
	BAD("--B\r\nContent-Disposition: form-data; name=\r\n\r\n", "invalid Content-Disposition"),
};

TEST(multipart_cases)
{
	struct rec r;
	const char *err;

	rec_init(&r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mp_case *c = &cases[i];
		for (size_t cut = 0; cut <= c->len; cut++) {
			int got = parse_cuts(&r, "B", c->body, c->len, &cut, 1, &err);
			const char *log = buf_cstr(&r.log);
			if (c->log && (got != 0 || strcmp(log, c->log) != 0)) {
				unit_fail(__FILE__, __LINE__, "case %zu cut %zu: %d %s, log \"%s\"",
					  i, cut, got, err ? err : "", log);
				break;
			}
			if (!c->log && (got != -1 || !err || strcmp(err, c->error) != 0)) {
				unit_fail(__FILE__, __LINE__, "case %zu cut %zu: %d \"%s\"", i, cut,
					  got, err ? err : "(none)");
				break;
			}
		}
	}
	rec_free(&r);
}

TEST(multipart_limits)
{
	struct rec r;
	const char *err;
	struct buf body;

	rec_init(&r);
	buf_init(&body, 0);
	/* A header block of exactly MULTIPART_HEADER_MAX bytes passes; one more fails. */
	for (int extra = 0; extra <= 1; extra++) {
		buf_reset(&body);
		buf_puts(&body, "--B\r\nX: ");
		size_t fill = MULTIPART_HEADER_MAX - strlen("X: ") - 4 + (size_t)extra;
		for (size_t i = 0; i < fill; i++)
			buf_puts(&body, "v");
		buf_puts(&body, "\r\n\r\nx\r\n--B--");
		int got = parse_whole(&r, "B", buf_head(&body), body.len, &err);
		if (extra) {
			CHECK_INT(got, -1);
			CHECK_STR(err, "part header too large");
		} else {
			CHECK_INT(got, 0);
			CHECK_STR(buf_cstr(&r.log), "[part 0][data 1:x][end]");
		}
	}

	/* Part count. */
	struct multipart *m = malloc(sizeof(*m));
	static const char two[] = "--B\r\n\r\na\r\n--B\r\n\r\nb\r\n--B--";
	CHECK_INT(multipart_init(m, "B", 1, &rec_cb, &r), 0);
	m->max_parts = 1;
	r.m = m;
	r.chunk = two;
	r.chunk_len = sizeof(two) - 1;
	CHECK_INT(multipart_feed(m, S(two)), -1);
	CHECK_STR(m->error, "too many parts");
	CHECK_INT(multipart_feed(m, S("more")), -1); /* stays failed */
	CHECK_INT(multipart_finish(m), -1);

	/* A callback stops the parse. */
	buf_reset(&r.log);
	CHECK_INT(multipart_init(m, "B", 1, &rec_cb, &r), 0);
	r.abort_on_data = -5;
	CHECK_INT(multipart_feed(m, S(two)), -1);
	CHECK_INT(m->cb_error, -5);
	CHECK_STR(m->error, "aborted by a callback");
	r.abort_on_data = 0;

	/* Boundaries the parser cannot take. */
	CHECK_INT(multipart_init(m, "", 0, NULL, NULL), -EINVAL);
	CHECK_INT(multipart_init(m, "a\rb", 3, NULL, NULL), -EINVAL);
	CHECK_INT(multipart_init(m,
				 "0123456789012345678901234567890123456789012345678901234567890"
				 "1234567890",
				 71, NULL, NULL),
		  -EINVAL);
	/* No callbacks at all is fine. */
	CHECK_INT(multipart_init(m, "B", 1, NULL, NULL), 0);
	CHECK_INT(multipart_feed(m, S(two)), sizeof(two) - 1);
	CHECK(multipart_done(m));
	CHECK_INT(multipart_finish(m), 0);
	free(m);

	/* A large body streams through without being held: data arrives per chunk. */
	buf_reset(&body);
	buf_puts(&body, "--B\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		buf_puts(&body, "0123456789\r\n-");
	buf_puts(&body, "\r\n--B--");
	size_t cuts[64];
	for (size_t i = 0; i < 64; i++)
		cuts[i] = (i + 1) * (body.len / 65);
	CHECK_INT(parse_cuts(&r, "B", buf_head(&body), body.len, cuts, 64, &err), 0);
	CHECK(strncmp(buf_cstr(&r.log), "[part 0][data 1300000:0123", 26) == 0);
	buf_free(&body);
	rec_free(&r);
}
