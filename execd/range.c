// SPDX-License-Identifier: Apache-2.0
#include "range.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_space((*p)[*n - 1]))
		(*n)--;
}

/* Go ParseInt(s, 10, 64) restricted to non-negative results: '+'? DIGIT+, ≤ 2^63-1. */
static bool parse_uint63(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n && *p == '+') {
		p++;
		n--;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * One "a-b" / "a-" / "-n" element. Returns 0 and sets *r, 1 if it is valid
 * but does not overlap the file, or -EINVAL.
 */
static int parse_spec(const char *p, size_t n, uint64_t size, struct range *r)
{
	const char *dash = memchr(p, '-', n);
	uint64_t a, b;

	if (!dash)
		return -EINVAL;
	const char *sp = p, *ep = dash + 1;
	size_t sn = (size_t)(dash - p), en = n - sn - 1;
	trim(&sp, &sn);
	trim(&ep, &en);
	if (!sn) {
		/* A suffix: the last b bytes. */
		if (!parse_uint63(ep, en, &b))
			return -EINVAL;
		if (b > size)
			b = size;
		if (!b)
			return 1;
		r->start = size - b;
		r->len = b;
		return 0;
	}
	if (!parse_uint63(sp, sn, &a))
		return -EINVAL;
	if (en) {
		if (!parse_uint63(ep, en, &b) || b < a)
			return -EINVAL;
	} else {
		b = UINT64_MAX;
	}
	if (a >= size)
		return 1;
	if (b > size - 1)
		b = size - 1;
	r->start = a;
	r->len = b - a + 1;
	return 0;
}

int range_parse(const char *value, size_t len, uint64_t size, struct range *r)
{
	static const char prefix[] = "bytes=";
	const size_t pl = sizeof(prefix) - 1;
	bool any = false, found = false;

	if (len < pl || memcmp(value, prefix, pl) != 0)
		return -EINVAL;
	const char *p = value + pl, *end = value + len;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *e = p;
		size_t n = (size_t)(stop - p);
		struct range cand;

		trim(&e, &n);
		if (n) {
			any = true;
			int k = parse_spec(e, n, size, &cand);
			if (k < 0)
				return k;
			if (k == 0 && !found) {
				*r = cand;
				found = true;
			}
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!any)
		return 1;
	return found ? 0 : -ERANGE;
}

int range_content_range(char out[RANGE_CONTENT_RANGE_MAX], const struct range *r, uint64_t size)
{
	if (!r)
		return snprintf(out, RANGE_CONTENT_RANGE_MAX, "bytes */%" PRIu64, size);
	return snprintf(out, RANGE_CONTENT_RANGE_MAX, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
			r->start, r->start + r->len - 1, size);
}

bool range_line_mode(const char *offset, size_t offset_len, const char *limit, size_t limit_len)
{
	return (offset && offset_len) || (limit && limit_len);
}

/* An absent/empty value keeps *out; else it must be an integer ≥ 1. */
static bool line_param(const char *v, size_t n, uint64_t *out)
{
	uint64_t x;

	if (!v || !n)
		return true;
	if (!parse_uint63(v, n, &x) || x < 1)
		return false;
	*out = x;
	return true;
}

int range_line_params(const char *offset, size_t offset_len, const char *limit, size_t limit_len,
		      struct range_lines *out, const char **bad_name)
{
	out->offset = 1;
	out->limit = 0;
	if (!line_param(offset, offset_len, &out->offset)) {
		*bad_name = "offset";
		return -EINVAL;
	}
	if (!line_param(limit, limit_len, &out->limit)) {
		*bad_name = "limit";
		return -EINVAL;
	}
	return 0;
}
