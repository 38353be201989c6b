// SPDX-License-Identifier: Apache-2.0
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

/*
 * cJSON keeps no string length, only a terminating NUL: a NUL inside a string
 * ("deny\u0000allow") cuts it short, and a prefix would be judged in place
 * of the whole value. So text that would decode to one is refused before
 * parsing: a raw NUL byte, \u0000, and \u without four hex digits (which
 * cJSON reads as \u0000). Returns the offset of the first, or len.
 */
static size_t nul_at(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\0')
			return i;
		if (t[i] != '\\' || i + 1 >= len)
			continue;
		if (t[i + 1] == 'u') {
			unsigned v = 0;
			for (size_t k = i + 2; k < i + 6; k++) {
				int h = k < len ? ascii_hex_value((unsigned char)t[k]) : -1;
				if (h < 0)
					return i;
				v = v << 4 | (unsigned)h;
			}
			if (v == 0)
				return i;
		}
		i++; /* the escaped character: "\\u0000" is no escape */
	}
	return len;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key that appears twice in one object anywhere in the tree, or NULL
 * (after sorting each object's keys: linear-logarithmic, never quadratic). */
static const char *duplicate_key(const cJSON *node)
{
	for (const cJSON *it = node; it; it = it->next) {
		if (cJSON_IsObject(it)) {
			size_t n = 0;
			for (const cJSON *c = it->child; c; c = c->next)
				n++;
			const char *small[32], **keys = n <= 32 ? small : malloc(n * sizeof(*keys));
			if (!keys)
				return "(out of memory)";
			size_t k = 0;
			for (const cJSON *c = it->child; c; c = c->next)
				keys[k++] = c->string ? c->string : "";
			qsort(keys, n, sizeof(*keys), key_cmp);
			const char *dup = NULL;
			for (size_t i = 1; i < n && !dup; i++)
				if (!strcmp(keys[i - 1], keys[i]))
					dup = keys[i];
			if (keys != small)
				free(keys);
			if (dup)
				return dup;
		}
		if (it->child) {
			const char *d = duplicate_key(it->child);
			if (d)
				return d;
		}
	}
	return NULL;
}

cJSON *json_parse(const char *text, size_t len, struct err *e)
{
	const char *end = NULL;
	size_t nul = nul_at(text, len);

	if (nul < len) {
		err_set(e, EINVAL, "invalid JSON near byte %zu: NUL or bad \\u escape", nul);
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		if (len == 0)
			err_set(e, EINVAL, "empty body");
		else
			err_set(e, EINVAL, "invalid JSON near byte %zu", at);
		return NULL;
	}
	/* One value and nothing after it but blanks: "{...} xx" is no JSON. */
	for (const char *p = end; p && p < text + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			err_set(e, EINVAL, "invalid JSON near byte %zu: data after the value",
				(size_t)(p - text));
			cJSON_Delete(root);
			return NULL;
		}
	}
	/* Two values for one key: parsers differ on which wins, so neither does. */
	const char *dup = duplicate_key(root);
	if (dup) {
		err_set(e, EINVAL, "invalid JSON: duplicate key \"%.64s\"", dup);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

long json_array_len(const char *t, size_t len)
{
	size_t i = 0, depth = 0;
	long n = 0;
	bool in_string = false, empty = true;

	/* what cJSON skips: a UTF-8 BOM, then every byte up to the space */
	if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (unsigned char)t[i] <= ' ')
		i++;
	if (i == len || t[i] != '[')
		return -1;
	for (; i < len; i++) {
		char c = t[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if ((unsigned char)c <= ' ')
			continue;
		if (depth == 1 && empty && c != ']') {
			empty = false;
			n = 1;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				return c == ']' ? n : -1;
		} else if (c == ',' && depth == 1) {
			n++;
		}
	}
	return -1;
}

static int lookup(const cJSON *obj, const char *key, bool required, const cJSON **item,
		  struct err *e)
{
	*item = cJSON_IsObject(obj) ? cJSON_GetObjectItem(obj, key) : NULL;
	if (*item && !cJSON_IsNull(*item))
		return 0;
	if (required)
		err_set(e, EINVAL, "field '%s' is required", key);
	return -ENOENT;
}

int json_get_string(const cJSON *obj, const char *key, bool required, const char **out,
		    struct err *e)
{
	const cJSON *it;
	int r = lookup(obj, key, required, &it, e);
	if (r < 0)
		return r;
	if (!cJSON_IsString(it))
		return err_set(e, EINVAL, "field '%s' must be a string", key);
	*out = it->valuestring;
	return 0;
}

int json_get_bool(const cJSON *obj, const char *key, bool required, bool *out, struct err *e)
{
	const cJSON *it;
	int r = lookup(obj, key, required, &it, e);
	if (r < 0)
		return r;
	if (!cJSON_IsBool(it))
		return err_set(e, EINVAL, "field '%s' must be a boolean", key);
	*out = cJSON_IsTrue(it);
	return 0;
}

int json_get_int(const cJSON *obj, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *out, struct err *e)
{
	const cJSON *it;
	int r = lookup(obj, key, required, &it, e);
	if (r < 0)
		return r;
	double d = it->valuedouble;
	/* 2^63 is exactly representable; anything at or past it does not fit. */
	if (!cJSON_IsNumber(it) || d != floor(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0)
		return err_set(e, EINVAL, "field '%s' must be an integer", key);
	int64_t v = (int64_t)d;
	if (v < min || v > max)
		return err_set(e, ERANGE, "field '%s' must be between %lld and %lld", key,
			       (long long)min, (long long)max);
	*out = v;
	return 0;
}

int json_get_object(const cJSON *obj, const char *key, bool required, const cJSON **out,
		    struct err *e)
{
	const cJSON *it;
	int r = lookup(obj, key, required, &it, e);
	if (r < 0)
		return r;
	if (!cJSON_IsObject(it))
		return err_set(e, EINVAL, "field '%s' must be an object", key);
	*out = it;
	return 0;
}

int json_get_array(const cJSON *obj, const char *key, bool required, const cJSON **out,
		   struct err *e)
{
	const cJSON *it;
	int r = lookup(obj, key, required, &it, e);
	if (r < 0)
		return r;
	if (!cJSON_IsArray(it))
		return err_set(e, EINVAL, "field '%s' must be an array", key);
	*out = it;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	unsigned cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int json_buf_string(struct buf *b, const char *s, size_t len, int flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int r = buf_append(b, "\"", 1);

	/* Copy runs of plain bytes in one append; escape the rest. */
	while (r == 0 && i < len) {
		unsigned c = p[i];
		char esc[8];
		size_t elen = 0, adv = 1;

		if (c >= 0x80) {
			adv = utf8_seq(p + i, len - i);
			if (adv == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
			    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
				memcpy(esc, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				elen = 6;
			} else if (adv == 0) {
				memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD */
				elen = 3;
				adv = 1;
			}
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c < 0x20 ||
			   ((flags & JSON_ESC_HTML) && (c == '<' || c == '>' || c == '&'))) {
			const char *named = c == '\n'	? "\\n"
					    : c == '\r' ? "\\r"
					    : c == '\t' ? "\\t"
							: NULL;
			if (named) {
				memcpy(esc, named, 2);
				elen = 2;
			} else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				elen = 6;
			}
		}
		if (elen == 0) {
			run += adv;
			i += adv;
			continue;
		}
		if (run)
			r = buf_append(b, s + i - run, run);
		if (r == 0)
			r = buf_append(b, esc, elen);
		run = 0;
		i += adv;
	}
	if (r == 0 && run)
		r = buf_append(b, s + i - run, run);
	if (r == 0)
		r = buf_append(b, "\"", 1);
	return r;
}

int json_error_body(struct buf *b, const char *code, const char *message)
{
	int r = buf_puts(b, "{\"code\":");
	r = r ? r : json_buf_cstr(b, code, JSON_ESC_HTML);
	if (!r && message) {
		r = buf_puts(b, ",\"message\":");
		r = r ? r : json_buf_cstr(b, message, JSON_ESC_HTML);
	}
	return r ? r : buf_puts(b, "}");
}

int json_buf_cstr(struct buf *b, const char *s, int flags)
{
	if (!s)
		return buf_append(b, "null", 4);
	return json_buf_string(b, s, strlen(s), flags);
}

int json_buf_print(struct buf *b, const cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);
	if (!s)
		return -ENOMEM;
	int r = buf_puts(b, s);
	cJSON_free(s);
	return r;
}
