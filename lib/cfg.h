/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: what the two config parsers (lib/yaml, lib/toml) share: the check
 * every input passes before it is parsed, a NUL-terminated working copy,
 * line and column numbers for messages, the first failure and the count of
 * values made, UTF-8 for escapes, and an index of
 * (object, key) pairs so that duplicate checks and lookups stay linear
 * however many keys an object has.
 *
 * The index does not own anything: an entry points at a cJSON item (whose
 * `string` is the key) that the tree being built owns, so the index is freed
 * before or after the tree, but never looked into once items were deleted.
 */
#ifndef LIB_CFG_H
#define LIB_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"

/* NULL when text may be parsed: valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF), no NUL, no control character but TAB, LF and CR,
 * and CR only before LF. Otherwise the reason, with *at its byte offset. */
const char *cfg_text_check(const char *text, size_t len, size_t *at);

/* A checked text's working copy: CR LF becomes LF, a leading UTF-8 BOM is
 * dropped, a NUL follows the last byte (*out_len excludes it). NULL if out of
 * memory. The caller frees it. */
char *cfg_text_copy(const char *text, size_t len, size_t *out_len);

/* The 1-based line and column of byte offset off in s (columns count
 * characters, not bytes). s must hold at least off bytes. */
void cfg_position(const char *s, size_t off, unsigned *line, unsigned *col);

/* Appends code point cp in UTF-8. 0; -EINVAL for a surrogate or a value past
 * U+10FFFF; -ENOMEM or -ENOBUFS from the buffer. */
int cfg_utf8_put(struct buf *b, uint32_t cp);

/* A parse's first failure (e holds it once failed is set; later ones are
 * dropped) and the count of values made, kept the same way by both parsers. */
struct cfg_status {
	struct err *e;
	bool failed;
	size_t nodes;
};

/* Records "out of memory" unless a failure is held already; returns NULL. */
void *cfg_oom(struct cfg_status *st);
/* Counts the new value n (NULL: out of memory, recorded) against max. n when
 * it fits; otherwise n is freed, *over set, and the caller reports where. */
cJSON *cfg_node(struct cfg_status *st, cJSON *n, size_t max, bool *over);

struct cfg_key {
	const cJSON *parent; /* the object holding the key; NULL marks a free slot */
	cJSON *item;	     /* the value; item->string is the key */
	cJSON *last;	     /* the parser's own (toml: newest table of an array of tables) */
	size_t at;	     /* where the key was defined (offset in the text) */
	unsigned kind;	     /* the parser's own */
};

struct cfg_keys {
	struct cfg_key *slot;
	size_t cap, n;
};

/* The entry for key name in parent, or NULL. */
struct cfg_key *cfg_keys_find(const struct cfg_keys *k, const cJSON *parent, const char *name);
/* Records item (already named) under parent; the name must not be there yet.
 * The entry (valid until the next add), or NULL when out of memory. */
struct cfg_key *cfg_keys_add(struct cfg_keys *k, const cJSON *parent, cJSON *item);
void cfg_keys_free(struct cfg_keys *k);

#endif
