/* SPDX-License-Identifier: Apache-2.0 */
/*
 * toml_int: what lib/toml.c (document, tables, keys) and lib/toml_value.c
 * (strings, numbers, arrays, inline tables) share. The parser reads a
 * NUL-terminated working copy (cfg_text_copy) holding no other NUL.
 */
#ifndef LIB_TOML_INT_H
#define LIB_TOML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "toml.h"

/* How a key came to be (cfg_key.kind): what may still be done with it. */
enum toml_kind {
	TOML_VALUE,    /* a value (static arrays too): nothing */
	TOML_IMPLICIT, /* a table named on the way to a [header]: one [header] of its own */
	TOML_HEADER,   /* a table defined by its [header]: sub-tables by header */
	TOML_DOTTED,   /* a table made by dotted keys: more dotted keys, sub-tables by header */
	TOML_INLINE,   /* an inline table: nothing */
	TOML_AOT,      /* an array of tables: more [[...]] (cfg_key.last is the newest) */
};

struct toml_parser {
	const char *s; /* working copy; s[pos] is the next character */
	size_t pos;
	struct buf tmp;	      /* the string being read */
	struct cfg_keys keys; /* every table's keys */
	char path[160];	      /* the key or table being read, for messages */
	size_t path_len;
	bool path_is_key;     /* path names a key (else a table, or nothing) */
	struct cfg_status st; /* the first failure; values made */
};

static inline bool toml_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Records "line N: key 'path': ..." for offset at (the first failure only);
 * returns NULL. */
void *toml_fail(struct toml_parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Counts a new value against TOML_MAX_NODES, or fails (freeing it). */
cJSON *toml_node(struct toml_parser *p, cJSON *n, size_t at);

/* Skips blanks, and also line breaks and comments if lines is set. */
void toml_skip(struct toml_parser *p, bool lines);

/* Reads the (single-line) basic or literal string at pos into tmp. 0 or -1. */
int toml_key_string(struct toml_parser *p);
/* The value at pos; depth is the depth it will have in the tree. *inline_table
 * says whether it is an inline table (which stays closed). */
cJSON *toml_value(struct toml_parser *p, int depth, bool *inline_table);
/* Reads "key = value" at pos into table t (at depth); with line set, the
 * line must end after it. 0 or -1. */
int toml_keyval(struct toml_parser *p, cJSON *t, int depth, bool line);

#endif
