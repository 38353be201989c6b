// SPDX-License-Identifier: Apache-2.0
#include "http_parse.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ascii.h"

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Length of "scheme://authority" at the start of an absolute-form target
 * (RFC 3986 3.1, 3.2), or 0 if it is not one. The authority must not be
 * empty: an http(s) URI always names a host.
 */
static size_t absolute_prefix(const char *t, size_t len)
{
	size_t i = 0;

	if (!len || !is_alpha(t[0]))
		return 0;
	while (i < len && (is_alpha(t[i]) || (t[i] >= '0' && t[i] <= '9') || t[i] == '+' ||
			   t[i] == '-' || t[i] == '.'))
		i++;
	if (len - i < 3 || memcmp(t + i, "://", 3) != 0)
		return 0;
	i += 3;
	size_t host = i;
	while (i < len && t[i] != '/' && t[i] != '?')
		i++;
	return i > host ? i : 0;
}

int http_split_target(const char *target, size_t len, const char **path, size_t *path_len,
		      const char **query, size_t *query_len)
{
	size_t start;

	if (!target || !len)
		return -1;
	/*
	 * The head parser already ensures this, other callers may pass anything.
	 * A fragment is never part of a request-target (RFC 9112 3.2).
	 */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];
		if (c <= 0x20 || c >= 0x7f || c == '#')
			return -1;
	}
	if (len == 1 && target[0] == '*') {
		*path = target;
		*path_len = 1;
		*query = target + len;
		*query_len = 0;
		return 0;
	}
	if (target[0] == '/') {
		start = 0;
	} else {
		start = absolute_prefix(target, len);
		if (!start)
			return -1;
	}

	const char *p = target + start;
	const char *q = memchr(p, '?', len - start);
	size_t n = (size_t)((q ? q : target + len) - p);
	/* "http://host" and "http://host?x" mean the path "/" (RFC 9112 3.2.1). */
	if (n == 0) {
		p = "/";
		n = 1;
	}
	*path = p;
	*path_len = n;
	*query = q ? q + 1 : target + len;
	*query_len = q ? (size_t)(target + len - (q + 1)) : 0;
	return 0;
}

/*
 * Decodes one character of src at *i: a %XX escape or a plain byte, '+'
 * as SP if asked. Returns the byte, or -1 on a malformed or truncated escape.
 */
static int decode_one(const char *src, size_t len, size_t *i, int flags)
{
	unsigned char c = (unsigned char)src[*i];

	if (c == '%') {
		if (len - *i < 3)
			return -1;
		int hi = ascii_hex_value((unsigned char)src[*i + 1]);
		int lo = ascii_hex_value((unsigned char)src[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		*i += 3;
		return hi << 4 | lo;
	}
	*i += 1;
	if (c == '+' && (flags & HTTP_DECODE_PLUS_SPACE))
		return ' ';
	return c;
}

long http_percent_decode(char *dst, size_t dst_cap, const char *src, size_t len, int flags)
{
	size_t i = 0, o = 0;

	if (!dst || !dst_cap)
		return -1;
	if (dst_cap > LONG_MAX)
		dst_cap = LONG_MAX;
	while (i < len) {
		int c = decode_one(src, len, &i, flags);
		/* A NUL would cut the C string short of what the client meant. */
		if (c <= 0 || o + 1 >= dst_cap)
			goto bad;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return (long)o;
bad:
	dst[0] = '\0';
	return -1;
}

void http_query_iter_init(struct http_query_iter *it, const char *query, size_t len)
{
	it->p = query;
	it->end = query ? query + len : query;
}

bool http_query_next(struct http_query_iter *it, const char **key, size_t *key_len,
		     const char **val, size_t *val_len)
{
	while (it->p < it->end) {
		const char *s = it->p;
		const char *amp = memchr(s, '&', (size_t)(it->end - s));
		const char *e = amp ? amp : it->end;

		it->p = amp ? amp + 1 : it->end;
		if (e == s)
			continue;
		const char *eq = memchr(s, '=', (size_t)(e - s));
		*key = s;
		*key_len = (size_t)((eq ? eq : e) - s);
		*val = eq ? eq + 1 : e;
		*val_len = eq ? (size_t)(e - (eq + 1)) : 0;
		return true;
	}
	return false;
}

/* Compares the decoded form of a raw key with name, without a scratch buffer. */
static bool key_is(const char *key, size_t len, const char *name)
{
	size_t i = 0, j = 0;

	while (i < len) {
		int c = decode_one(key, len, &i, HTTP_DECODE_PLUS_SPACE);
		if (c <= 0 || (unsigned char)name[j] != c)
			return false;
		j++;
	}
	return name[j] == '\0';
}

long http_query_get(const char *query, size_t len, const char *name, char *out, size_t out_cap)
{
	struct http_query_iter it;
	const char *k, *v;
	size_t kl, vl;

	if (out && out_cap)
		out[0] = '\0';
	http_query_iter_init(&it, query, len);
	while (http_query_next(&it, &k, &kl, &v, &vl)) {
		/* A key that does not decode cannot be the one asked for. */
		if (!key_is(k, kl, name))
			continue;
		long r = http_percent_decode(out, out_cap, v, vl, HTTP_DECODE_PLUS_SPACE);
		return r < 0 ? -EINVAL : r;
	}
	return -ENOENT;
}

bool http_host_valid(const char *s)
{
	size_t n = strlen(s), i = 0;
	if (n == 0 || n > 255)
		return false;
	if (s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (ascii_hex_value((unsigned char)s[i]) < 0 && s[i] != ':' && s[i] != '.')
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++)
			if (!is_alpha(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' &&
			    s[i] != '.')
				return false;
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':' || i + 1 == n || n - i - 1 > 5)
		return false;
	unsigned long port = 0;
	for (i++; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

void http_query_escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	if (!cap)
		return;
	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}
