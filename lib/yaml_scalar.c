// SPDX-License-Identifier: Apache-2.0
/*
 * YAML scalars: plain, single- and double-quoted (folded over lines, with
 * every escape of YAML 1.2), literal and folded block scalars, and the core
 * schema that gives a plain scalar its type.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "yaml.h"
#include "yaml_int.h"

/* The largest integer a cJSON number (a double) holds exactly. */
#define EXACT_MAX 9007199254740991.0

static int put(struct yaml_parser *p, const char *c, size_t n)
{
	if (buf_append(&p->tmp, c, n) < 0) {
		cfg_oom(&p->st);
		return -1;
	}
	return 0;
}

static int put_breaks(struct yaml_parser *p, size_t n)
{
	while (n--)
		if (put(p, "\n", 1) < 0)
			return -1;
	return 0;
}

/*
 * At a line break inside a quoted scalar: skips it, the empty lines after it
 * (counted in *empty) and the next line's leading blanks. Returns the offset
 * of the next content, or 0 after a failure (a document marker).
 */
static size_t fold_lines(struct yaml_parser *p, size_t i, size_t *empty)
{
	const char *s = p->s;

	*empty = 0;
	for (i++;; i++) {
		if (yaml_doc_marker(p, i, '-') || yaml_doc_marker(p, i, '.')) {
			yaml_fail(p, i, "document marker inside a quoted scalar");
			return 0;
		}
		while (yaml_blank(s[i]))
			i++;
		if (s[i] != '\n')
			return i;
		(*empty)++;
	}
}

/* n (at most 8) hex digits at s: the value, or -1. */
static long long hex_digits(const char *s, int n)
{
	long long v = 0;

	for (int k = 0; k < n; k++) {
		int h = ascii_hex_value((unsigned char)s[k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* The escape at s[i] (the character after a backslash); *len is how many
 * characters it used. Returns the code point, or 0 when there is none (the
 * caller names the reason). */
static long long escape(const char *s, size_t i, size_t *len)
{
	/* pairs: the letter, what it stands for (or \0: a code point from wide[]) */
	static const char simple[] = "a\ab\bt\tn\nv\vf\fr\re\033 \040\"\"//\\\\\t\tN\0_\0L\0P\0";
	static const long wide[] = {['N'] = 0x85, ['_'] = 0xa0, ['L'] = 0x2028, ['P'] = 0x2029};

	*len = 1;
	if (s[i] == 'x' || s[i] == 'u' || s[i] == 'U') {
		int n = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : 8;
		long long cp = hex_digits(s + i + 1, n);
		if (cp <= 0)
			return 0;
		*len = (size_t)n + 1;
		/* UTF-16 surrogate pairs, as JSON writes them */
		if (n == 4 && cp >= 0xd800 && cp <= 0xdbff && s[i + 5] == '\\' && s[i + 6] == 'u') {
			long long lo = hex_digits(s + i + 7, 4);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				*len += 6;
			}
		}
		return cp;
	}
	for (size_t k = 0; k < sizeof(simple) - 1; k += 2)
		if (s[i] == simple[k])
			return simple[k + 1] ? (unsigned char)simple[k + 1]
					     : wide[(unsigned char)s[i]];
	return 0;
}

int yaml_quoted(struct yaml_parser *p)
{
	const char *s = p->s;
	char q = s[p->pos];
	size_t open = p->pos, i = p->pos + 1;
	size_t keep = 0; /* what a fold must not trim: all but raw trailing blanks */

	buf_reset(&p->tmp);
	for (;;) {
		char c = s[i];
		size_t empty;
		if (c == '\0') {
			yaml_fail(p, open, "quoted scalar without its closing quote");
			return -1;
		}
		if (c == q && !(q == '\'' && s[i + 1] == '\'')) {
			p->pos = i + 1;
			return 0;
		}
		if (c == '\n') {
			p->tmp.len = keep;
			i = fold_lines(p, i, &empty);
			if (!i || (empty ? put_breaks(p, empty) : put(p, " ", 1)) < 0)
				return -1;
			keep = p->tmp.len;
		} else if (q == '\'' && c == '\'') {
			if (put(p, "'", 1) < 0)
				return -1;
			i += 2;
			keep = p->tmp.len;
		} else if (q == '"' && c == '\\' && s[i + 1] == '\n') {
			/* an escaped line break: joined with nothing between */
			i = fold_lines(p, i + 1, &empty);
			if (!i || put_breaks(p, empty) < 0)
				return -1;
			keep = p->tmp.len;
		} else if (q == '"' && c == '\\') {
			size_t len;
			long long cp = escape(s, i + 1, &len);
			if (cp == 0) {
				if (s[i + 1] == '0' || !strncmp(s + i + 1, "x00", 3) ||
				    !strncmp(s + i + 1, "u0000", 5) ||
				    !strncmp(s + i + 1, "U00000000", 9))
					yaml_fail(p, i,
						  "NUL in a string is not supported (cJSON strings "
						  "end at a NUL)");
				else
					yaml_fail(p, i, "invalid escape sequence");
				return -1;
			}
			if (cfg_utf8_put(&p->tmp, (uint32_t)cp) < 0) {
				if (cp >= 0xd800 && cp <= 0xdfff)
					yaml_fail(p, i,
						  "unpaired UTF-16 surrogate in a \\u escape");
				else
					yaml_fail(p, i, "escape past U+10FFFF");
				return -1;
			}
			i += 1 + len;
			keep = p->tmp.len;
		} else {
			if (put(p, &c, 1) < 0)
				return -1;
			i++;
			if (!yaml_blank(c))
				keep = p->tmp.len;
		}
	}
}

/* Where a plain scalar's text ends on its line, from i. */
static size_t plain_end(const char *s, size_t i, bool flow)
{
	for (;; i++) {
		char c = s[i];
		if (c == '\0' || c == '\n' || (flow && yaml_flow_indicator(c)))
			return i;
		if (c == ':' && (yaml_blankz(s[i + 1]) || (flow && yaml_flow_indicator(s[i + 1]))))
			return i;
		if (yaml_blank(c) && s[i + 1] == '#')
			return i;
	}
}

int yaml_plain(struct yaml_parser *p, int pi, bool flow)
{
	const char *s = p->s;
	size_t i = p->pos;

	buf_reset(&p->tmp);
	for (;;) {
		size_t end = plain_end(s, i, flow), last = end;
		while (last > i && yaml_blank(s[last - 1]))
			last--;
		if (put(p, s + i, last - i) < 0)
			return -1;
		p->pos = last;
		if (flow || s[end] != '\n')
			return 0;
		/* a line indented more than the collection goes on with the scalar */
		size_t j = end + 1, empty = 0;
		for (;;) {
			if (yaml_doc_marker(p, j, '-') || yaml_doc_marker(p, j, '.'))
				return 0;
			size_t b = j;
			while (yaml_blank(s[b]))
				b++;
			if (s[b] != '\n')
				break;
			empty++;
			j = b + 1;
		}
		size_t k = j;
		while (s[k] == ' ')
			k++;
		if (s[k] == '\0' || s[k] == '#' || s[k] == '\t' || (long)(k - j) <= (long)pi)
			return 0;
		if ((empty ? put_breaks(p, empty) : put(p, " ", 1)) < 0)
			return -1;
		i = k;
	}
}

cJSON *yaml_string(struct yaml_parser *p, size_t at)
{
	const char *t = buf_cstr(&p->tmp);

	return t ? yaml_node(p, cJSON_CreateString(t), at) : cfg_oom(&p->st);
}

static bool all_digits(const char *t, int base)
{
	if (!*t)
		return false;
	for (; *t; t++) {
		int h = ascii_hex_value((unsigned char)*t);
		if (h < 0 || h >= base)
			return false;
	}
	return true;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool core_float(const char *t)
{
	size_t i = (*t == '-' || *t == '+'), ip = 0, fp = 0;

	for (; t[i] >= '0' && t[i] <= '9'; i++)
		ip++;
	if (t[i] == '.')
		for (i++; t[i] >= '0' && t[i] <= '9'; i++)
			fp++;
	if (!ip && !fp)
		return false;
	if (t[i] == 'e' || t[i] == 'E') {
		i += 1 + (t[i + 1] == '-' || t[i + 1] == '+');
		if (!(t[i] >= '0' && t[i] <= '9'))
			return false;
		while (t[i] >= '0' && t[i] <= '9')
			i++;
	}
	return t[i] == '\0';
}

static bool one_of(const char *t, const char *a, const char *b, const char *c)
{
	return !strcmp(t, a) || !strcmp(t, b) || !strcmp(t, c);
}

/*
 * A core-schema number: 1 and *out, 0 when t is no number, -1 after a
 * failure (out of range, a leading zero, infinity or NaN).
 */
static int number(struct yaml_parser *p, const char *t, size_t at, double *out)
{
	const char *u = t + (*t == '-' || *t == '+');
	int base = 10;

	if (one_of(u, ".inf", ".Inf", ".INF") || one_of(t, ".nan", ".NaN", ".NAN")) {
		yaml_fail(p, at, "'%.40s' has no JSON form (not supported)", t);
		return -1;
	}
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'o') && all_digits(t + 2, t[1] == 'x' ? 16 : 8))
		base = t[1] == 'x' ? 16 : 8, u = t + 2;
	else if (!all_digits(u, 10))
		base = 0;
	if (base) {
		double v = 0;
		if (base == 10 && u[0] == '0' && u[1]) {
			const char *z = u;
			while (*z == '0' && z[1])
				z++;
			yaml_fail(p, at,
				  "integer '%.40s' has a leading zero (YAML 1.1 reads it as octal, "
				  "YAML 1.2 as decimal): write 0o%.40s or %.40s, or quote it",
				  t, z, z);
			return -1;
		}
		for (; *u; u++) {
			v = v * base + ascii_hex_value((unsigned char)*u);
			if (v > EXACT_MAX) {
				yaml_fail(p, at, "integer out of range (beyond +-(2^53-1))");
				return -1;
			}
		}
		*out = *t == '-' && v ? -v : v;
		return 1;
	}
	if (!core_float(t))
		return 0;
	*out = strtod(t, NULL);
	if (!isfinite(*out)) {
		yaml_fail(p, at, "float out of range");
		return -1;
	}
	return 1;
}

cJSON *yaml_resolve(struct yaml_parser *p, size_t at)
{
	const char *t = buf_cstr(&p->tmp);
	double d;

	if (!t)
		return cfg_oom(&p->st);
	if (!*t || !strcmp(t, "~") || one_of(t, "null", "Null", "NULL"))
		return yaml_node(p, cJSON_CreateNull(), at);
	if (one_of(t, "true", "True", "TRUE"))
		return yaml_node(p, cJSON_CreateTrue(), at);
	if (one_of(t, "false", "False", "FALSE"))
		return yaml_node(p, cJSON_CreateFalse(), at);
	int r = number(p, t, at, &d);
	if (r < 0)
		return NULL;
	return yaml_node(p, r ? cJSON_CreateNumber(d) : cJSON_CreateString(t), at);
}

/* The block scalar's header after '|' or '>': chomping (-1 strip, 0 clip,
 * 1 keep) and indentation indicator (0: detect), in either order. */
static int header(struct yaml_parser *p, int *chomp, int *explicit)
{
	const char *s = p->s;
	size_t i = p->pos + 1;

	*chomp = *explicit = 0;
	for (int k = 0; k < 2; k++) {
		if ((s[i] == '-' || s[i] == '+') && !*chomp)
			*chomp = s[i++] == '-' ? -1 : 1;
		else if (s[i] >= '1' && s[i] <= '9' && !*explicit)
			*explicit = s[i++] - '0';
	}
	while (yaml_blank(s[i]))
		i++;
	if (s[i] == '#' && yaml_blank(s[i - 1]))
		while (s[i] && s[i] != '\n')
			i++;
	if (s[i] != '\n' && s[i] != '\0') {
		yaml_fail(p, i, "invalid block scalar header");
		return -1;
	}
	p->pos = s[i] ? i + 1 : i;
	return 0;
}

/* The content indentation of the block scalar whose lines start at pos, in a
 * collection indented pi: that of its first non-empty line, or -1 after a
 * failure. */
static long detect_indent(struct yaml_parser *p, int pi)
{
	const char *s = p->s;
	size_t i = p->pos, most = 0, empty_at = 0;

	for (;;) {
		size_t n = 0;
		while (s[i + n] == ' ')
			n++;
		if (s[i + n] == '\t') {
			yaml_fail(p, i + n, "tab in the indentation of a block scalar");
			return -1;
		}
		if (s[i + n] != '\n') {
			if (most > n && (long)n > pi && s[i + n] != '\0') {
				yaml_fail(p, empty_at,
					  "a leading empty line is indented more than the block "
					  "scalar's first line");
				return -1;
			}
			return (long)n;
		}
		if (n > most) {
			most = n;
			empty_at = i;
		}
		i += n + 1;
	}
}

cJSON *yaml_block_scalar(struct yaml_parser *p, int pi)
{
	const char *s = p->s;
	size_t at = p->pos, pending = 0;
	bool folded = s[at] == '>', any = false, prev_more = false, last_break = false;
	int chomp, explicit;
	long ci;

	if (header(p, &chomp, &explicit) < 0)
		return NULL;
	if (explicit)
		ci = (pi < 0 ? 0 : pi) + explicit;
	else if ((ci = detect_indent(p, pi)) < 0)
		return NULL;
	if (ci <= pi || ci < 1)
		ci = LONG_MAX; /* no content line: every line ends it or is empty */
	buf_reset(&p->tmp);
	size_t j = p->pos;
	while (s[j]) {
		size_t n = 0, e;
		while (s[j + n] == ' ')
			n++;
		for (e = j + n; s[e] && s[e] != '\n'; e++)
			;
		if (j + n == e && (long)n <= ci) { /* an empty line */
			pending += s[e] == '\n';
			j = s[e] ? e + 1 : e;
			continue;
		}
		if ((long)n < ci)
			break;
		const char *text = s + j + ci;
		bool more = *text == ' ' || *text == '\t';
		int r;
		if (!any)
			r = put_breaks(p, pending);
		else if (folded && !prev_more && !more)
			r = pending ? put_breaks(p, pending) : put(p, " ", 1);
		else
			r = put_breaks(p, pending + 1);
		if (r < 0 || put(p, text, (size_t)(s + e - text)) < 0)
			return NULL;
		any = true;
		prev_more = more;
		last_break = s[e] == '\n';
		pending = 0;
		j = s[e] ? e + 1 : e;
	}
	p->pos = j;
	if (chomp == 1 && any)
		pending += last_break;
	else if (chomp == 0 && any)
		pending = last_break;
	else if (chomp <= 0)
		pending = 0;
	if (put_breaks(p, pending) < 0)
		return NULL;
	return yaml_string(p, at);
}
