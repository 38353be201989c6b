// SPDX-License-Identifier: Apache-2.0
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0, n) that starts with a byte of
 * 0x80 or more, or 0 (RFC 3629: the second byte's range depends on the first,
 * which rules out overlong forms, surrogates and values past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

const char *cfg_text_check(const char *text, size_t len, size_t *at)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t n = utf8_seq(s + i, len - i);
			if (!n) {
				*at = i;
				return "invalid UTF-8";
			}
			i += n - 1;
		} else if (c == '\0') {
			*at = i;
			return "NUL byte";
		} else if (c == '\r') {
			if (i + 1 == len || s[i + 1] != '\n') {
				*at = i;
				return "carriage return not followed by a line feed";
			}
		} else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
			*at = i;
			return "control character";
		}
	}
	return NULL;
}

char *cfg_text_copy(const char *text, size_t len, size_t *out_len)
{
	char *t = malloc(len + 1);
	size_t n = 0, i = 0;

	if (!t)
		return NULL;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < len; i++)
		if (text[i] != '\r')
			t[n++] = text[i];
	t[n] = '\0';
	*out_len = n;
	return t;
}

void cfg_position(const char *s, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int cfg_utf8_put(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -EINVAL;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* FNV-1a over the key, mixed with the parent's address. The text comes from
 * the operator's own config file, so no keyed hash is needed against floods. */
static size_t key_hash(const cJSON *parent, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	h ^= (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	return (size_t)h;
}

struct cfg_key *cfg_keys_find(const struct cfg_keys *k, const cJSON *parent, const char *name)
{
	if (!k->cap)
		return NULL;
	for (size_t i = key_hash(parent, name) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
		struct cfg_key *s = &k->slot[i];
		if (!s->parent)
			return NULL;
		if (s->parent == parent && !strcmp(s->item->string, name))
			return s;
	}
}

static struct cfg_key *place(struct cfg_key *slot, size_t cap, const struct cfg_key *entry)
{
	size_t i = key_hash(entry->parent, entry->item->string) & (cap - 1);

	while (slot[i].parent)
		i = (i + 1) & (cap - 1);
	slot[i] = *entry;
	return &slot[i];
}

struct cfg_key *cfg_keys_add(struct cfg_keys *k, const cJSON *parent, cJSON *item)
{
	/* at most half full, so every probe ends at a free slot soon */
	if ((k->n + 1) * 2 > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct cfg_key *slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return NULL;
		for (size_t i = 0; i < k->cap; i++)
			if (k->slot[i].parent)
				place(slot, cap, &k->slot[i]);
		free(k->slot);
		k->slot = slot;
		k->cap = cap;
	}
	struct cfg_key entry = {.parent = parent, .item = item};
	k->n++;
	return place(k->slot, k->cap, &entry);
}

void cfg_keys_free(struct cfg_keys *k)
{
	free(k->slot);
	k->slot = NULL;
	k->cap = k->n = 0;
}

void *cfg_oom(struct cfg_status *st)
{
	if (!st->failed)
		err_set(st->e, ENOMEM, "out of memory");
	st->failed = true;
	return NULL;
}

cJSON *cfg_node(struct cfg_status *st, cJSON *n, size_t max, bool *over)
{
	if (!n)
		return cfg_oom(st);
	if (++st->nodes > max) {
		cJSON_Delete(n);
		*over = true;
		return NULL;
	}
	return n;
}
