// SPDX-License-Identifier: Apache-2.0
/* range: the download Range header and the line-mode offset/limit parameters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"
#include "unit.h"

struct range_case {
	const char *value;
	uint64_t size;
	int want;
	uint64_t start, len;
};

static const struct range_case cases[] = {
	{"bytes=0-4", 10, 0, 0, 5},
	{"bytes=2-2", 10, 0, 2, 1},
	{"bytes=5-", 10, 0, 5, 5},
	{"bytes=-3", 10, 0, 7, 3},
	{"bytes=-30", 10, 0, 0, 10},  /* suffix longer than the file: all of it */
	{"bytes=0-99", 10, 0, 0, 10}, /* end clamped */
	{"bytes=9-", 10, 0, 9, 1},
	{"bytes=0-0", 1, 0, 0, 1},
	/* only the first surviving range counts; non-overlapping ones are dropped */
	{"bytes=0-1,4-5", 10, 0, 0, 2},
	{"bytes=20-30,4-5", 10, 0, 4, 2},
	{"bytes=10-,-0,3-", 10, 0, 3, 7},
	/* whitespace and empty elements */
	{"bytes= 1 - 2 ", 10, 0, 1, 2},
	{"bytes=\t1-2\t, 3-4", 10, 0, 1, 2},
	{"bytes=,,1-2,", 10, 0, 1, 2},
	{"bytes=+1-+2", 10, 0, 1, 2},
	{"bytes=9223372036854775807-", 10, -ERANGE, 0, 0},
	/* nothing overlaps: ServeContent's 416 */
	{"bytes=10-", 10, -ERANGE, 0, 0},
	{"bytes=10-20", 10, -ERANGE, 0, 0},
	{"bytes=-0", 10, -ERANGE, 0, 0},
	{"bytes=0-", 0, -ERANGE, 0, 0},
	{"bytes=-5", 0, -ERANGE, 0, 0},
	{"bytes=11-12,20-", 10, -ERANGE, 0, 0},
	/* no element at all: the header is ignored */
	{"bytes=", 10, 1, 0, 0},
	{"bytes= , ,", 10, 1, 0, 0},
	/* garbage, negative, reversed: execd's own 416 */
	{"", 10, -EINVAL, 0, 0},
	{"bytes", 10, -EINVAL, 0, 0},
	{"Bytes=0-1", 10, -EINVAL, 0, 0},
	{"items=0-1", 10, -EINVAL, 0, 0},
	{" bytes=0-1", 10, -EINVAL, 0, 0},
	{"bytes=5", 10, -EINVAL, 0, 0},
	{"bytes=a-b", 10, -EINVAL, 0, 0},
	{"bytes=1-a", 10, -EINVAL, 0, 0},
	{"bytes=-", 10, -EINVAL, 0, 0},
	{"bytes=--5", 10, -EINVAL, 0, 0},
	{"bytes=5--3", 10, -EINVAL, 0, 0},
	{"bytes=-+", 10, -EINVAL, 0, 0},
	{"bytes=5-3", 10, -EINVAL, 0, 0},
	{"bytes=50-30", 10, -EINVAL, 0, 0},   /* reversed even past EOF */
	{"bytes=0-1,5-3", 10, -EINVAL, 0, 0}, /* a bad element anywhere */
	{"bytes=0-1,x", 10, -EINVAL, 0, 0},
	{"bytes=1 2-3", 10, -EINVAL, 0, 0},
	{"bytes=0x1-2", 10, -EINVAL, 0, 0},
	{"bytes=9223372036854775808-", 10, -EINVAL, 0, 0}, /* over int64 */
	{"bytes=-9223372036854775808", 10, -EINVAL, 0, 0},
	{"bytes=0-1;2-3", 10, -EINVAL, 0, 0},
};

TEST(range_header_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *c = &cases[i];
		size_t n = strlen(c->value);
		char *v = malloc(n ? n : 1); /* exact size: ASan sees overreads */
		struct range r = {99, 99};
		memcpy(v, c->value, n);
		int got = range_parse(v, n, c->size, &r);
		free(v);
		if (got != c->want || (got == 0 && (r.start != c->start || r.len != c->len)))
			unit_fail(__FILE__, __LINE__, "\"%s\" size %llu: %d [%llu +%llu]", c->value,
				  (unsigned long long)c->size, got, (unsigned long long)r.start,
				  (unsigned long long)r.len);
	}
}

TEST(range_content_range_text)
{
	char out[RANGE_CONTENT_RANGE_MAX];
	struct range r = {2, 3};

	CHECK_INT(range_content_range(out, &r, 10), 12);
	CHECK_STR(out, "bytes 2-4/10");
	CHECK_INT(range_content_range(out, NULL, 10), 10);
	CHECK_STR(out, "bytes */10");
	r.start = 0;
	r.len = UINT64_MAX / 2;
	range_content_range(out, &r, UINT64_MAX);
	CHECK_STR(out, "bytes 0-9223372036854775806/18446744073709551615");
}

#define SPAN(s) s, (s) ? strlen(s) : 0

TEST(range_line_params_table)
{
	static const struct {
		const char *offset, *limit;
		int want;
		uint64_t off, lim;
		const char *bad;
	} t[] = {
		{NULL, NULL, 0, 1, 0, NULL},
		{"2", "2", 0, 2, 2, NULL},
		{"2", NULL, 0, 2, 0, NULL},
		{NULL, "3", 0, 1, 3, NULL},
		{"100", NULL, 0, 100, 0, NULL},
		{"", "", 0, 1, 0, NULL},
		{"+4", NULL, 0, 4, 0, NULL},
		{"0", NULL, -EINVAL, 0, 0, "offset"},
		{"-1", NULL, -EINVAL, 0, 0, "offset"},
		{"abc", NULL, -EINVAL, 0, 0, "offset"},
		{"1.5", NULL, -EINVAL, 0, 0, "offset"},
		{" 1", NULL, -EINVAL, 0, 0, "offset"},
		{"99999999999999999999", NULL, -EINVAL, 0, 0, "offset"},
		{NULL, "0", -EINVAL, 0, 0, "limit"},
		{"1", "-1", -EINVAL, 0, 0, "limit"},
		{"2", "abc", -EINVAL, 0, 0, "limit"},
		{"abc", "abc", -EINVAL, 0, 0, "offset"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct range_lines rl;
		const char *bad = NULL;
		int r = range_line_params(SPAN(t[i].offset), SPAN(t[i].limit), &rl, &bad);
		CHECK_INT(r, t[i].want);
		if (r == 0) {
			CHECK_INT(rl.offset, t[i].off);
			CHECK_INT(rl.limit, t[i].lim);
		} else {
			CHECK_STR(bad, t[i].bad);
		}
	}
	CHECK(!range_line_mode(NULL, 0, NULL, 0));
	CHECK(!range_line_mode("", 0, "", 0));
	CHECK(range_line_mode("2", 1, NULL, 0));
	CHECK(range_line_mode(NULL, 0, "0", 1));
}
