/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yaml_int: what lib/yaml.c (documents, block collections), lib/yaml_flow.c
 * (flow collections, what collections share) and lib/yaml_scalar.c (plain,
 * quoted and block scalars, their resolution) share. The parser reads a NUL-terminated working copy
 * (cfg_text_copy): the text holds no NUL, so a NUL is the end and every look-ahead stops there.
 */
#ifndef LIB_YAML_INT_H
#define LIB_YAML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"

struct yaml_parser {
	const char *s; /* working copy; s[pos] is the next character */
	size_t pos;
	int depth;	      /* collections open */
	struct buf tmp;	      /* the scalar being read */
	struct cfg_keys keys; /* every mapping's keys */
	struct cfg_status st; /* the first failure; values made */
};

static inline bool yaml_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A blank, a line end or the end of the text. */
static inline bool yaml_blankz(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

static inline bool yaml_flow_indicator(char c)
{
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* Records "line L, column C: ..." for offset at (only the first failure
 * counts); returns NULL. */
void *yaml_fail(struct yaml_parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Counts a new value against YAML_MAX_NODES; frees it and fails when over
 * (or when n is NULL: out of memory). */
cJSON *yaml_node(struct yaml_parser *p, cJSON *n, size_t at);

/* Fails with "... not supported" (and says so) when an anchor, alias or tag starts at i. */
bool yaml_unsupported(struct yaml_parser *p, size_t i);
/* Fails with "unexpected 'c' <where>"; returns NULL. */
void *yaml_unexpected(struct yaml_parser *p, size_t i, const char *where);
/* Enters a collection starting at offset at: whether YAML_MAX_DEPTH allows it
 * (the caller decrements p->depth when it leaves). */
bool yaml_enter(struct yaml_parser *p, size_t at);
/* The key tmp holds (read at offset at) as a new string, or NULL after a
 * failure: out of memory, or the key is in map already. */
char *yaml_map_key(struct yaml_parser *p, cJSON *map, size_t at);
/* Adds v under key to map and to the key index; frees v on failure. 0 or -1. */
int yaml_add_key(struct yaml_parser *p, cJSON *map, const char *key, cJSON *v, size_t at);
/* The flow collection or flow scalar at pos; pos ends after it. */
cJSON *yaml_flow_node(struct yaml_parser *p);

/* Whether the line starting at i is "---" or "..." (c) followed by a blank or its end. */
bool yaml_doc_marker(const struct yaml_parser *p, size_t i, char c);
/* Whether a plain scalar may start at i (in a flow collection or not). */
bool yaml_plain_start(const char *s, size_t i, bool flow);

/* Reads the quoted scalar at pos (either quote) into tmp, lines folded;
 * pos ends after the closing quote. 0 or -1. */
int yaml_quoted(struct yaml_parser *p);
/* Reads the plain scalar at pos into tmp. Outside flow collections it goes
 * on over lines indented more than pi. pos ends after its last character
 * (at a ':' that ended it, if one did). 0 or -1. */
int yaml_plain(struct yaml_parser *p, int pi, bool flow);
/* The string tmp holds, as a new value. */
cJSON *yaml_string(struct yaml_parser *p, size_t at);
/* tmp resolved by the core schema (null, bool, int, float or string). */
cJSON *yaml_resolve(struct yaml_parser *p, size_t at);
/* The block scalar whose header ('|' or '>') is at pos, in a collection
 * indented pi; pos ends at the start of the line after it. */
cJSON *yaml_block_scalar(struct yaml_parser *p, int pi);

#endif
