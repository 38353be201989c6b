// SPDX-License-Identifier: Apache-2.0
#include "glob.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define RUNE_ERROR 0xfffd
#define STAR_MEMO  8

/* Decodes one rune at s (s < e); an invalid or truncated sequence is U+FFFD, one byte. */
static size_t rune_decode(const char *s, const char *e, int32_t *r)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = (size_t)(e - s), need;
	uint32_t c = p[0], lo = 0x80, hi = 0xbf;

	*r = RUNE_ERROR;
	if (c < 0x80) {
		*r = (int32_t)c;
		return 1;
	}
	if (c < 0xc2 || c > 0xf4)
		return 1;
	if (c < 0xe0) {
		need = 1;
		c &= 0x1f;
	} else if (c < 0xf0) {
		need = 2;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		c &= 0x0f;
	} else {
		need = 3;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		c &= 0x07;
	}
	if (avail <= need || p[1] < lo || p[1] > hi)
		return 1;
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 1;
		c = c << 6 | (p[i] & 0x3f);
	}
	*r = (int32_t)c;
	return need + 1;
}

static size_t rune_len(const char *s, const char *e)
{
	int32_t r;
	return rune_decode(s, e, &r);
}

/* A class member at p: a rune, or "\" and a rune. NULL if the escape is cut off. */
static const char *class_rune(const char *p, const char *e, int32_t *r)
{
	if (*p == '\\' && ++p >= e)
		return NULL;
	return p + rune_decode(p, e, r);
}

/*
 * Scans the class at p ('['). Returns the position after its ']', or NULL if
 * it is empty or unterminated. *hit says whether rune c is matched.
 */
static const char *class_scan(const char *p, const char *e, int32_t c, bool *hit)
{
	bool neg = false, in = false;

	p++;
	if (p < e && (*p == '!' || *p == '^')) {
		neg = true;
		p++;
	}
	if (p >= e || *p == ']')
		return NULL;
	while (p < e && *p != ']') {
		int32_t lo, hi;
		p = class_rune(p, e, &lo);
		if (!p)
			return NULL;
		hi = lo;
		if (p + 1 < e && *p == '-' && p[1] != ']') {
			p = class_rune(p + 1, e, &hi);
			if (!p)
				return NULL;
		}
		in |= lo <= c && c <= hi;
	}
	if (p >= e)
		return NULL;
	*hit = in != neg;
	return p + 1;
}

static const char *group_end(const char *p, const char *e, char close);

/* The end of the element at p in a validated pattern. */
static const char *elem_end(const char *p, const char *e)
{
	bool hit;

	switch (*p) {
	case '\\':
		return p + 1 + rune_len(p + 1, e);
	case '[':
		return class_scan(p, e, 0, &hit);
	case '{':
		return group_end(p + 1, e, '}') + 1;
	case '!':
		return group_end(p + 2, e, ')') + 1;
	default:
		return p + 1;
	}
}

/* The closing character of the group whose content starts at p. */
static const char *group_end(const char *p, const char *e, char close)
{
	while (p < e && *p != close)
		p = elem_end(p, e);
	return p;
}

/* The end of the alternative at p: its separator sep at this level, or end (the group's close). */
static const char *alt_end(const char *p, const char *end, const char *e, char sep)
{
	while (p < end && *p != sep)
		p = elem_end(p, e);
	return p;
}

int glob_validate(const char *pat, size_t len, const char **reason)
{
	const char *p = pat, *e = pat + len, *why = NULL;
	char stack[GLOB_DEPTH_MAX];
	int depth = 0;
	bool hit;

	if (len > GLOB_PATTERN_MAX) {
		why = "pattern too long";
		goto bad;
	}
	while (p < e) {
		switch (*p) {
		case '\\':
			if (p + 1 >= e) {
				why = "trailing backslash";
				goto bad;
			}
			p += 1 + rune_len(p + 1, e);
			break;
		case '[':
			p = class_scan(p, e, 0, &hit);
			if (!p) {
				why = "unterminated or empty character class";
				goto bad;
			}
			break;
		case '{':
		case '!':
			if (*p == '!' && (p + 1 >= e || p[1] != '(')) {
				why = "'!' must be followed by '(' or escaped";
				goto bad;
			}
			if (depth == GLOB_DEPTH_MAX) {
				why = "groups nested too deep";
				goto bad;
			}
			stack[depth++] = *p == '{' ? '}' : ')';
			p += *p == '{' ? 1 : 2;
			break;
		case '}':
			if (!depth || stack[depth - 1] != '}') {
				why = "'}' without '{'";
				goto bad;
			}
			depth--;
			p++;
			break;
		case ')':
			if (depth && stack[depth - 1] == ')')
				depth--;
			p++;
			break;
		default:
			p++;
		}
	}
	if (depth) {
		why = stack[depth - 1] == '}' ? "unbalanced '{'" : "unterminated '!('";
		goto bad;
	}
	return 0;
bad:
	if (reason)
		*reason = why;
	return -EINVAL;
}

/*
 * One matching problem: the pattern [.., pe) against the name [.., se).
 * Every position in it has a fixed brace nesting, so the result from a
 * (pattern, name) position pair never changes; a star that failed from name
 * position s fails from any later one too, which the memo records. Where
 * no group follows (the common "*.txt" tail), match_simple needs no
 * recursion and no memo at all.
 */
struct mctx {
	const char *pe, *se;
	const char *simple; /* no '{' or '!' group from here on: see match_simple */
	long *steps;
	int nmemo;
	const char *memo_p[STAR_MEMO]; /* the pattern after a star */
	const char *memo_s[STAR_MEMO]; /* the earliest name position it failed from */
};

static bool star_failed(const struct mctx *c, const char *p, const char *s)
{
	for (int i = 0; i < c->nmemo; i++)
		if (c->memo_p[i] == p)
			return s >= c->memo_s[i];
	return false;
}

static void star_fail(struct mctx *c, const char *p, const char *s)
{
	for (int i = 0; i < c->nmemo; i++) {
		if (c->memo_p[i] == p) {
			if (s < c->memo_s[i])
				c->memo_s[i] = s;
			return;
		}
	}
	if (c->nmemo < STAR_MEMO) {
		c->memo_p[c->nmemo] = p;
		c->memo_s[c->nmemo++] = s;
	}
}

static int match_from(struct mctx *c, const char *p, const char *s, int braces);

/* Sets c->simple to the end of the last group in [p, c->pe); charges the scan to the budget. */
static void find_simple_tail(struct mctx *c, const char *p)
{
	c->simple = p;
	*c->steps -= c->pe - p;
	while (p < c->pe) {
		const char *next = elem_end(p, c->pe);
		if (*p == '{' || *p == '!')
			c->simple = next;
		p = next;
	}
}

/* Does the name run [s, t) match one of the alternatives of the "!(" group at open..close? */
static int negated_any(struct mctx *c, const char *open, const char *close, const char *s,
		       const char *t)
{
	const char *alt = open;

	while (alt) {
		const char *end = alt_end(alt, close, c->pe, '|');
		struct mctx sub = {.pe = end, .se = t, .steps = c->steps};
		find_simple_tail(&sub, alt);
		int r = match_from(&sub, alt, s, 0);
		if (r)
			return r;
		alt = end < close ? end + 1 : NULL;
	}
	return 0;
}

/* A name position that * and ? may move past (not the end, not a '/'). */
static bool can_take(const struct mctx *c, const char *s)
{
	return s < c->se && *s != '/';
}

/* One element that takes exactly one rune (?, class, escape, literal) at s. */
static bool match_one(const struct mctx *c, const char **pp, const char **ps)
{
	const char *p = *pp, *s = *ps;
	int32_t r;
	bool hit;

	if (!can_take(c, s))
		return false;
	switch (*p) {
	case '?':
		*pp = p + 1;
		*ps = s + rune_len(s, c->se);
		return true;
	case '[': {
		size_t n = rune_decode(s, c->se, &r);
		p = class_scan(p, c->pe, r, &hit);
		if (!hit)
			return false;
		*pp = p;
		*ps = s + n;
		return true;
	}
	case '\\': {
		size_t n = rune_len(p + 1, c->pe);
		if ((size_t)(c->se - s) < n || memcmp(p + 1, s, n) != 0)
			return false;
		*pp = p + 1 + n;
		*ps = s + n;
		return true;
	}
	default:
		if (*s != *p)
			return false;
		*pp = p + 1;
		*ps = s + 1;
		return true;
	}
}

/*
 * The pattern from p has only stars and one-rune elements, so only the
 * latest star ever needs to take more: if the rest fails after it from
 * every position, giving an earlier star more cannot help (any match it
 * would allow, the latest star allows too). Iterative, O(pattern x name).
 */
static int match_simple(struct mctx *c, const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (--*c->steps < 0)
			return -E2BIG;
		if (p < c->pe && *p == '*') {
			while (p < c->pe && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (s == c->se && p == c->pe)
			return 1;
		if (p < c->pe && match_one(c, &p, &s))
			continue;
		if (!star_p || !can_take(c, star_s))
			return 0;
		star_s += rune_len(star_s, c->se);
		p = star_p;
		s = star_s;
	}
}

static int match_star(struct mctx *c, const char *p, const char *s, int braces)
{
	if (p >= c->simple)
		return match_simple(c, p, s);
	while (p < c->pe && *p == '*')
		p++;
	if (p == c->pe) {
		/* Nothing follows: the rest of the name must simply have no '/'. */
		return s == c->se || memchr(s, '/', (size_t)(c->se - s)) == NULL;
	}
	if (star_failed(c, p, s))
		return 0;
	for (const char *t = s;; t += rune_len(t, c->se)) {
		int r = match_from(c, p, t, braces);
		if (r)
			return r;
		if (!can_take(c, t))
			break;
	}
	star_fail(c, p, s);
	return 0;
}

static int match_braces(struct mctx *c, const char *p, const char *s, int braces)
{
	const char *close = group_end(p + 1, c->pe, '}');

	for (const char *alt = p + 1;;) {
		/* Each alternative runs on past its ',' or '}' (see match_from). */
		int r = match_from(c, alt, s, braces + 1);
		if (r)
			return r;
		alt = alt_end(alt, close, c->pe, ',');
		if (alt == close)
			return 0;
		alt++;
	}
}

static int match_negation(struct mctx *c, const char *p, const char *s, int braces)
{
	const char *open = p + 2, *close = group_end(open, c->pe, ')');

	for (const char *t = s;; t += rune_len(t, c->se)) {
		int r = negated_any(c, open, close, s, t);
		if (r < 0)
			return r;
		if (!r) {
			r = match_from(c, close + 1, t, braces);
			if (r)
				return r;
		}
		if (!can_take(c, t))
			return 0;
	}
}

/*
 * Matches the pattern from p against the name from s. braces counts the
 * '{' groups entered: in one, a ',' ends the alternative (skip to after its
 * '}') and the '}' just closes it; outside any, ',' is a literal.
 */
static int match_from(struct mctx *c, const char *p, const char *s, int braces)
{
	for (;;) {
		if (--*c->steps < 0)
			return -E2BIG;
		if (p == c->pe)
			return s == c->se;
		switch (*p) {
		case '*':
			return match_star(c, p, s, braces);
		case '{':
			return match_braces(c, p, s, braces);
		case '!':
			return match_negation(c, p, s, braces);
		case ',':
			if (!braces)
				break;
			p = group_end(p + 1, c->pe, '}') + 1;
			braces--;
			continue;
		case '}':
			p++;
			braces--;
			continue;
		default:
			break;
		}
		/* A literal '/' never matches since names have none. */
		if (*p == '/' || !match_one(c, &p, &s))
			return 0;
	}
}

int glob_match(const char *pat, size_t plen, const char *name, size_t nlen)
{
	long steps = GLOB_STEPS_MAX;
	int r = glob_validate(pat, plen, NULL);

	if (r < 0)
		return r;
	/* A leading '**' '/' matches zero directories, which is all a basename has. */
	while (plen >= 3 && memcmp(pat, "**/", 3) == 0) {
		pat += 3;
		plen -= 3;
	}
	struct mctx c = {.pe = pat + plen, .se = name + nlen, .steps = &steps};
	find_simple_tail(&c, pat);
	return match_from(&c, pat, name, 0);
}
