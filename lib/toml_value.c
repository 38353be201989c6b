// SPDX-License-Identifier: Apache-2.0
/*
 * TOML values: basic and literal strings (single- and multi-line), integers,
 * floats, booleans, arrays and inline tables.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "toml_int.h"

/* The largest integer a cJSON number (a double) holds exactly. */
#define EXACT_MAX 9007199254740991.0

static int put(struct toml_parser *p, const char *c, size_t n)
{
	if (buf_append(&p->tmp, c, n) < 0) {
		cfg_oom(&p->st);
		return -1;
	}
	return 0;
}

void toml_skip(struct toml_parser *p, bool lines)
{
	const char *s = p->s;

	for (;;) {
		if (toml_ws(s[p->pos]) || (lines && s[p->pos] == '\n'))
			p->pos++;
		else if (lines && s[p->pos] == '#')
			while (s[p->pos] && s[p->pos] != '\n')
				p->pos++;
		else
			return;
	}
}

/* The escape after the backslash at s[i]; *len counts the backslash too. */
static int escape(struct toml_parser *p, size_t i, size_t *len)
{
	static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	const char *s = p->s;
	char c = s[i + 1];

	*len = 2;
	for (size_t k = 0; k < sizeof(simple) - 1; k += 2)
		if (c == simple[k])
			return put(p, &simple[k + 1], 1);
	if (c != 'u' && c != 'U') {
		toml_fail(p, i, "invalid escape sequence");
		return -1;
	}
	size_t n = c == 'u' ? 4 : 8;
	uint32_t cp = 0;
	for (size_t k = 0; k < n; k++) {
		int h = ascii_hex_value((unsigned char)s[i + 2 + k]);
		if (h < 0) {
			toml_fail(p, i, "\\%c needs %zu hex digits", c, n);
			return -1;
		}
		cp = cp << 4 | (uint32_t)h;
	}
	*len = n + 2;
	if (cp == 0) {
		toml_fail(p, i, "NUL in a string is not supported (cJSON strings end at a NUL)");
		return -1;
	}
	int r = cfg_utf8_put(&p->tmp, cp);
	if (r == -EINVAL)
		toml_fail(p, i, "escape is not a Unicode scalar value");
	else if (r < 0)
		cfg_oom(&p->st);
	return r < 0 ? -1 : 0;
}

/* The string at pos ('"', '\'', '"""' or '\'\'\'') into tmp; pos ends after it. */
static int string(struct toml_parser *p)
{
	const char *s = p->s;
	size_t at = p->pos, i = at + 1;
	char q = s[at];
	bool multi = s[at + 1] == q && s[at + 2] == q;

	buf_reset(&p->tmp);
	if (multi) {
		i = at + 3;
		if (s[i] == '\n') /* a line break right after the quotes is not content */
			i++;
	}
	for (;;) {
		char c = s[i];
		if (c == '\0' || (c == '\n' && !multi)) {
			toml_fail(p, at, "string without its closing quote");
			return -1;
		}
		if (c == q) {
			size_t n = 1;
			while (multi && s[i + n] == q)
				n++;
			if (!multi || n >= 3) {
				if (n > 5) {
					toml_fail(p, i, "too many quotes at the end of a string");
					return -1;
				}
				/* up to two quotes just before the closing three are content */
				if (multi && put(p, s + i, n - 3) < 0)
					return -1;
				p->pos = i + n;
				return 0;
			}
			if (put(p, s + i, n) < 0)
				return -1;
			i += n;
		} else if (c == '\\' && q == '"') {
			size_t j = i + 1, len;
			while (multi && toml_ws(s[j]))
				j++;
			if (multi && s[j] == '\n') {
				/* a line-ending backslash: the break and the blanks after go */
				while (toml_ws(s[j]) || s[j] == '\n')
					j++;
				i = j;
			} else if (escape(p, i, &len) < 0) {
				return -1;
			} else {
				i += len;
			}
		} else {
			if (put(p, &c, 1) < 0)
				return -1;
			i++;
		}
	}
}

int toml_key_string(struct toml_parser *p)
{
	const char *s = p->s;

	if (s[p->pos + 1] == s[p->pos] && s[p->pos + 2] == s[p->pos]) {
		toml_fail(p, p->pos, "a key cannot be a multi-line string");
		return -1;
	}
	return string(p);
}

static int bad(struct toml_parser *p, size_t at, const char *msg)
{
	toml_fail(p, at, "%s", msg);
	return -1;
}

/* Digits of base at t[i, n), a '_' only between two digits: the index after
 * them; i itself when there is none or a '_' is misplaced. */
static size_t digits(const char *t, size_t i, size_t n, int base)
{
	size_t j = i;

	for (; j < n; j++) {
		int v = ascii_hex_value((unsigned char)t[j]);
		if (v >= 0 && v < base)
			continue;
		if (t[j] != '_' || j == i || j + 1 == n)
			break;
		v = ascii_hex_value((unsigned char)t[j + 1]);
		if (v < 0 || v >= base)
			return i;
	}
	return j;
}

static bool is_date(const char *t, size_t n)
{
	size_t d = 0;

	while (d < n && t[d] >= '0' && t[d] <= '9')
		d++;
	return (d == 4 && d < n && t[d] == '-') || (d == 2 && d < n && t[d] == ':');
}

/* The number (or date) in t[0, n): 0 and *out, or -1 after a failure. */
static int number(struct toml_parser *p, const char *t, size_t n, size_t at, double *out)
{
	size_t i = (t[0] == '+' || t[0] == '-'), j;
	bool neg = t[0] == '-';
	double v = 0;
	int base = 10;

	if (is_date(t, n))
		return bad(p, at, "dates and times are not supported");
	if (n - i == 3 && (!memcmp(t + i, "inf", 3) || !memcmp(t + i, "nan", 3)))
		return bad(p, at, "inf and nan are not supported (no JSON form)");
	if (i == 0 && n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		i = 2;
	}
	j = digits(t, i, n, base);
	if (j == i)
		goto invalid;
	if (base == 10 && t[i] == '0' && j > i + 1)
		return bad(p, at, "leading zeros are not allowed");
	if (j == n) {
		for (size_t k = i; k < n; k++) {
			if (t[k] == '_')
				continue;
			v = v * base + ascii_hex_value((unsigned char)t[k]);
			if (v > EXACT_MAX)
				return bad(p, at, "integer out of range (beyond +-(2^53-1))");
		}
		*out = neg && v ? -v : v;
		return 0;
	}
	if (base != 10)
		goto invalid;
	if (t[j] == '.') {
		size_t f = digits(t, j + 1, n, 10);
		if (f == j + 1)
			goto invalid;
		j = f;
	}
	if (j < n && (t[j] == 'e' || t[j] == 'E')) {
		size_t e = j + 1 + (j + 1 < n && (t[j + 1] == '+' || t[j + 1] == '-'));
		j = digits(t, e, n, 10);
		if (j == e)
			goto invalid;
	}
	if (j != n)
		goto invalid;
	buf_reset(&p->tmp);
	for (size_t k = 0; k < n; k++)
		if (t[k] != '_' && put(p, t + k, 1) < 0)
			return -1;
	const char *c = buf_cstr(&p->tmp);
	if (!c) {
		cfg_oom(&p->st);
		return -1;
	}
	*out = strtod(c, NULL);
	if (!isfinite(*out))
		return bad(p, at, "float out of range");
	return 0;
invalid:
	toml_fail(p, at, "invalid value '%.*s'", (int)(n < 40 ? n : 40), t);
	return -1;
}

/* Inline tables and arrays: the container at depth. */
static bool deep(struct toml_parser *p, int depth, size_t at)
{
	if (depth <= TOML_MAX_DEPTH)
		return false;
	toml_fail(p, at, "tables and arrays nested deeper than %d", TOML_MAX_DEPTH);
	return true;
}

static cJSON *array(struct toml_parser *p, int depth)
{
	const char *s = p->s;
	size_t at = p->pos, saved = p->path_len;
	cJSON *a = deep(p, depth, at) ? NULL : toml_node(p, cJSON_CreateArray(), at);
	bool table;

	if (!a)
		return NULL;
	p->pos++;
	for (int n = 0;; n++) {
		toml_skip(p, true);
		if (s[p->pos] == ']')
			break;
		if (s[p->pos] == '\0') {
			toml_fail(p, at, "array without its closing ']'");
			goto fail;
		}
		if (p->path_len < sizeof(p->path) - 16)
			p->path_len += (size_t)snprintf(p->path + p->path_len,
							sizeof(p->path) - p->path_len, "[%d]", n);
		cJSON *v = toml_value(p, depth + 1, &table);
		p->path_len = saved;
		p->path[saved] = '\0';
		if (!v)
			goto fail;
		cJSON_AddItemToArray(a, v);
		toml_skip(p, true);
		if (s[p->pos] == ']')
			break;
		if (s[p->pos] != ',') {
			if (s[p->pos])
				toml_fail(p, p->pos, "expected ',' or ']' in an array");
			else
				toml_fail(p, at, "array without its closing ']'");
			goto fail;
		}
		p->pos++;
	}
	p->pos++;
	return a;
fail:
	cJSON_Delete(a);
	return NULL;
}

static cJSON *inline_table(struct toml_parser *p, int depth)
{
	const char *s = p->s;
	size_t at = p->pos;
	cJSON *t = deep(p, depth, at) ? NULL : toml_node(p, cJSON_CreateObject(), at);

	if (!t)
		return NULL;
	p->pos++;
	toml_skip(p, false);
	if (s[p->pos] != '}') {
		for (;;) {
			if (toml_keyval(p, t, depth, false) < 0)
				goto fail;
			toml_skip(p, false);
			if (s[p->pos] == '}')
				break;
			if (s[p->pos] != ',') {
				toml_fail(p, p->pos, "%s",
					  s[p->pos] == '\n' || s[p->pos] == '#'
						  ? "an inline table stays on one line (TOML 1.0)"
						  : "expected ',' or '}' in an inline table");
				goto fail;
			}
			p->pos++;
			toml_skip(p, false);
			if (s[p->pos] == '}') {
				toml_fail(p, p->pos,
					  "no trailing comma in an inline table (TOML 1.0)");
				goto fail;
			}
		}
	}
	p->pos++;
	return t;
fail:
	cJSON_Delete(t);
	return NULL;
}

/* Characters of a bare value (number, date, boolean, inf, nan). */
static bool bare_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '+' || c == '-' || c == '.' || c == ':';
}

cJSON *toml_value(struct toml_parser *p, int depth, bool *inline_table_out)
{
	const char *s = p->s;
	size_t at = p->pos, n = 0;
	double d;

	*inline_table_out = false;
	switch (s[at]) {
	case '"':
	case '\'':
		if (string(p) < 0)
			return NULL;
		return buf_cstr(&p->tmp) ? toml_node(p, cJSON_CreateString(buf_head(&p->tmp)), at)
					 : cfg_oom(&p->st);
	case '[':
		return array(p, depth);
	case '{':
		*inline_table_out = true;
		return inline_table(p, depth);
	case '\n':
	case '\0':
	case '#':
		return toml_fail(p, at, "missing value");
	}
	while (bare_char(s[at + n]))
		n++;
	p->pos = at + n;
	if (n == 4 && !memcmp(s + at, "true", 4))
		return toml_node(p, cJSON_CreateTrue(), at);
	if (n == 5 && !memcmp(s + at, "false", 5))
		return toml_node(p, cJSON_CreateFalse(), at);
	if (n && !((s[at] >= '0' && s[at] <= '9') || s[at] == '+' || s[at] == '-' || s[at] == 'i' ||
		   s[at] == 'n'))
		return toml_fail(p, at, "invalid value '%.*s'", (int)(n < 40 ? n : 40), s + at);
	if (n == 0) {
		if (s[at] > ' ' && s[at] < 0x7f)
			return toml_fail(p, at, "invalid value (starting with '%c')", s[at]);
		return toml_fail(p, at, "invalid value");
	}
	if (number(p, s + at, n, at, &d) < 0)
		return NULL;
	return toml_node(p, cJSON_CreateNumber(d), at);
}
