// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_multipart: the input's first line is a Content-Type value (boundary
 * extraction is fuzzed on it; if it has no usable boundary, "B" is used) and
 * the rest is the body. The body is parsed in one feed and in feeds whose
 * sizes come from the input: both must report the same parts, the same
 * bytes per part and the same outcome. Every data span must lie inside the
 * chunk being fed or the parser's own delimiter copy; every chunk is a
 * buffer of exactly its size, so a read past it is an ASan report.
 */
#include "fuzz_common.h"
#include "multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
	const struct multipart *m;
	const char *chunk;
	size_t chunk_len;
	uint32_t hash; /* over every event; data is hashed byte by byte */
	unsigned parts, ends;
	uint64_t data_total;
	bool in_part;
};

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static bool inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static uint32_t hash_span(uint32_t h, const char *p, size_t n)
{
	uint8_t tag = p ? 1 : 0;
	h = fnv(h, &tag, 1);
	h = fnv(h, &n, sizeof(n));
	return p ? fnv(h, p, n) : h;
}

static int on_part(const struct multipart_part *p, void *arg)
{
	struct run *r = arg;
	const char *hdr = r->m->hdr;
	size_t hl = sizeof(r->m->hdr);

	ENSURE(!r->in_part && p->index == r->parts);
	ENSURE(!p->name || inside(p->name, p->name_len, hdr, hl));
	ENSURE(!p->filename || inside(p->filename, p->filename_len, hdr, hl));
	ENSURE(!p->content_type || inside(p->content_type, p->content_type_len, hdr, hl));
	r->hash = fnv(r->hash, "P", 1);
	r->hash = hash_span(r->hash, p->name, p->name_len);
	r->hash = hash_span(r->hash, p->filename, p->filename_len);
	r->hash = hash_span(r->hash, p->content_type, p->content_type_len);
	r->parts++;
	r->in_part = true;
	return 0;
}

static int on_data(const char *d, size_t n, void *arg)
{
	struct run *r = arg;

	ENSURE(r->in_part && n > 0);
	ENSURE(inside(d, n, r->chunk, r->chunk_len) ||
	       inside(d, n, r->m->delim, sizeof(r->m->delim)) || (n == 1 && *d == '-'));
	r->hash = fnv(r->hash, d, n);
	r->data_total += n;
	return 0;
}

static int on_end(void *arg)
{
	struct run *r = arg;

	ENSURE(r->in_part);
	r->hash = fnv(r->hash, "E", 1);
	r->ends++;
	r->in_part = false;
	return 0;
}

static const struct multipart_callbacks callbacks = {on_part, on_data, on_end};

/* Parses body in chunks (sizes from `sizes`, or one feed); returns the outcome. */
static int parse(struct run *r, const char *boundary, const char *body, size_t len,
		 const uint8_t *sizes, size_t nsizes, unsigned max_parts, const char **error)
{
	struct multipart *m = malloc(sizeof(*m));
	size_t off = 0, k = 0;
	int ret = 0;

	ENSURE(m);
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->hash = 2166136261u;
	ENSURE(multipart_init(m, boundary, strlen(boundary), &callbacks, r) == 0);
	m->max_parts = max_parts;
	while (off < len) {
		size_t n = nsizes ? (size_t)sizes[k++ % nsizes] % 41 + 1 : len;
		if (n > len - off)
			n = len - off;
		char *chunk = malloc(n);
		ENSURE(chunk);
		memcpy(chunk, body + off, n);
		r->chunk = chunk;
		r->chunk_len = n;
		long got = multipart_feed(m, chunk, n);
		free(chunk);
		if (got < 0) {
			ENSURE(got == -1 && m->error);
			ret = -1;
			break;
		}
		ENSURE((size_t)got == n);
		off += n;
	}
	if (!ret)
		ret = multipart_finish(m);
	ENSURE(ret == 0 || ret == -1);
	if (ret == 0)
		ENSURE(multipart_done(m) && !r->in_part && r->parts == r->ends);
	else
		ENSURE(m->error && multipart_feed(m, "x", 1) == -1);
	ENSURE(r->parts <= max_parts);
	*error = m->error;
	free(m);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	size_t ct_len = nl ? (size_t)(nl - in) : 0;
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	char *ct = malloc(ct_len ? ct_len : 1);

	ENSURE(ct);
	memcpy(ct, in, ct_len);
	int bl = multipart_boundary(ct, ct_len, boundary);
	free(ct);
	if (bl < 0) {
		boundary[0] = 'B';
		boundary[1] = '\0';
	} else {
		ENSURE(bl >= 1 && bl <= MULTIPART_BOUNDARY_MAX && strlen(boundary) == (size_t)bl);
	}
	const char *body = nl ? nl + 1 : in;
	size_t len = size - (size_t)(body - in);
	unsigned max_parts = size ? data[size - 1] % 8 + 1 : 1;

	struct run whole, split;
	const char *e1, *e2;
	int r1 = parse(&whole, boundary, body, len, NULL, 0, max_parts, &e1);
	int r2 = parse(&split, boundary, body, len, data, size, max_parts, &e2);
	ENSURE(r1 == r2 && e1 == e2);
	/* Even a failing parse fails at the same byte with nothing held back (every
	 * failure comes after a whole delimiter, or at the end), so all must agree. */
	ENSURE(whole.parts == split.parts && whole.ends == split.ends);
	ENSURE(whole.hash == split.hash && whole.data_total == split.data_total);
	return 0;
}
