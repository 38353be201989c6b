// SPDX-License-Identifier: Apache-2.0
#include "image_ref.h"

#include <string.h>

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool hex(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* over s[0..n). */
static bool path_component(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (!lower_alnum(s[i]))
			return false;
		while (i < n && lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		size_t sep = i;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n || i == sep)
			return false; /* a separator must be followed by alphanumerics */
	}
	return n > 0;
}

/* host [":" port] over s[0..n): DNS labels or a bracketed IPv6 literal. */
static bool domain(const char *s, size_t n)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!hex(s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		size_t label = 0;
		for (; i < n && s[i] != ':'; i++) {
			char c = s[i];
			if (c == '.') {
				if (label == 0 || s[i - 1] == '-')
					return false;
				label = 0;
			} else if (alpha(c) || digit(c) || (c == '-' && label > 0)) {
				label++;
			} else {
				return false;
			}
		}
		if (label == 0 || s[i - 1] == '-')
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!digit(s[i]))
			return false;
	return true;
}

static bool tag(const char *s, size_t n)
{
	if (n == 0 || n > 128 || !(alpha(s[0]) || digit(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(alpha(s[i]) || digit(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static bool digest(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return false;
	size_t an = (size_t)(colon - s), i = 0;
	/* [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* */
	while (i < an) {
		if (!alpha(s[i]))
			return false;
		for (i++; i < an && (alpha(s[i]) || digit(s[i])); i++)
			;
		if (i == an)
			break;
		if (!strchr("-_+.", s[i]) || ++i == an)
			return false;
	}
	if (an == 0)
		return false;
	size_t hn = n - an - 1;
	if (hn < 32)
		return false;
	for (size_t k = an + 1; k < n; k++)
		if (!hex(s[k]))
			return false;
	return true;
}

bool image_ref_valid(const char *ref)
{
	size_t len = strlen(ref);
	const char *at = memchr(ref, '@', len);
	size_t name_end = at ? (size_t)(at - ref) : len;
	if (at && !digest(at + 1, len - name_end - 1))
		return false;
	/* The tag's ':' is the last one after the last '/'. */
	const char *slash = NULL;
	for (size_t i = 0; i < name_end; i++)
		if (ref[i] == '/')
			slash = ref + i;
	const char *from = slash ? slash + 1 : ref;
	const char *colon = memchr(from, ':', name_end - (size_t)(from - ref));
	if (colon) {
		if (!tag(colon + 1, name_end - (size_t)(colon + 1 - ref)))
			return false;
		name_end = (size_t)(colon - ref);
	}
	if (name_end == 0 || name_end > 255)
		return false;
	size_t i = 0;
	size_t first = strcspn(ref, "/");
	if (first < name_end) {
		bool is_domain = memchr(ref, '.', first) || memchr(ref, ':', first) ||
				 (first == 9 && !memcmp(ref, "localhost", 9));
		if (is_domain) {
			if (!domain(ref, first))
				return false;
			i = first + 1;
		}
	}
	while (i <= name_end) {
		size_t n = 0;
		while (i + n < name_end && ref[i + n] != '/')
			n++;
		if (!path_component(ref + i, n))
			return false;
		i += n + 1;
	}
	return true;
}
