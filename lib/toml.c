// SPDX-License-Identifier: Apache-2.0
/*
 * TOML documents: key/value lines, [table] and [[array of tables]] headers,
 * dotted keys. Every key ever defined is in one index (cfg_keys) keyed by
 * (table, name), with how it came to be (enum toml_kind): that decides what a
 * later header or dotted key may still do with it, as TOML 1.0 says.
 */
#include "toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_int.h"

struct key {
	struct buf text;		 /* the parts, each NUL-terminated */
	size_t part[TOML_MAX_KEY_PARTS]; /* where each starts in text */
	int n;
	size_t at; /* where the key starts */
};

static const char *part(const struct key *k, int i)
{
	return buf_head(&k->text) + k->part[i];
}

void *toml_fail(struct toml_parser *p, size_t at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	unsigned line, col;
	va_list ap;

	if (p->st.failed)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_position(p->s, at, &line, &col);
	if (p->path_len)
		err_set(p->st.e, EINVAL, "line %u: %s '%s': %s", line,
			p->path_is_key ? "key" : "table", p->path, msg);
	else
		err_set(p->st.e, EINVAL, "line %u: %s", line, msg);
	p->st.failed = true;
	return NULL;
}

cJSON *toml_node(struct toml_parser *p, cJSON *n, size_t at)
{
	bool over = false;

	n = cfg_node(&p->st, n, TOML_MAX_NODES, &over);
	return over ? toml_fail(p, at, "more than %d values", TOML_MAX_NODES) : n;
}

static bool bare(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '-';
}

/* Adds a part of a key to the path for messages ("a.b", quoted when not bare). */
static void path_add(struct toml_parser *p, const char *name)
{
	size_t n = p->path_len, room = sizeof(p->path) - n;
	bool plain = *name;

	for (const char *c = name; *c; c++)
		plain &= bare(*c);
	snprintf(p->path + n, room, "%s%s%s%s", n ? "." : "", plain ? "" : "\"", name,
		 plain ? "" : "\"");
	for (; p->path[n]; n++)
		if ((unsigned char)p->path[n] < 0x20)
			p->path[n] = '?';
	p->path_len = n;
}

/* A key (bare, quoted, dotted) at pos into k; pos ends after it and blanks. */
static int read_key(struct toml_parser *p, struct key *k)
{
	const char *s = p->s;

	k->n = 0;
	k->at = p->pos;
	for (;;) {
		size_t at = p->pos, n = 0;
		int r;
		if (k->n == TOML_MAX_KEY_PARTS) {
			toml_fail(p, at, "a key has more than %d parts", TOML_MAX_KEY_PARTS);
			return -1;
		}
		k->part[k->n++] = k->text.len;
		if (s[at] == '"' || s[at] == '\'') {
			if (toml_key_string(p) < 0)
				return -1;
			r = buf_append(&k->text, buf_head(&p->tmp), p->tmp.len);
		} else {
			while (bare(s[at + n]))
				n++;
			if (n == 0) {
				if (s[at] > ' ' && s[at] < 0x7f && !strchr("=.[]#", s[at]))
					toml_fail(p, at, "'%c' cannot start a bare key", s[at]);
				else
					toml_fail(p, at, "expected a key");
				return -1;
			}
			r = buf_append(&k->text, s + at, n);
			p->pos = at + n;
		}
		if (r < 0 || buf_append(&k->text, "", 1) < 0) {
			cfg_oom(&p->st);
			return -1;
		}
		toml_skip(p, false);
		if (s[p->pos] != '.')
			return 0;
		p->pos++;
		toml_skip(p, false);
	}
}

/* Adds v (a new value, or NULL after a failure) to table t under name; its entry. */
static struct cfg_key *add(struct toml_parser *p, cJSON *t, const char *name, cJSON *v,
			   enum toml_kind kind, size_t at)
{
	struct cfg_key *e;

	if (!v)
		return NULL;
	if (!cJSON_AddItemToObject(t, name, v)) {
		cJSON_Delete(v);
		return cfg_oom(&p->st);
	}
	if (!(e = cfg_keys_add(&p->keys, t, v)))
		return cfg_oom(&p->st);
	e->kind = kind;
	e->at = at;
	return e;
}

static unsigned line_of(const struct toml_parser *p, size_t at)
{
	unsigned line, col;

	cfg_position(p->s, at, &line, &col);
	return line;
}

/* Why a key's tables cannot be entered here. */
static void *closed(struct toml_parser *p, size_t at, const char *name, const struct cfg_key *e)
{
	static const char *const why[] = {
		[TOML_VALUE] = "it is a value",
		[TOML_IMPLICIT] = "it is a table named by a [header]",
		[TOML_HEADER] = "it is a table defined by a [header]",
		[TOML_DOTTED] = "it is a table defined by dotted keys",
		[TOML_INLINE] = "it is an inline table, which is closed",
		[TOML_AOT] = "it is an array of tables",
	};

	return toml_fail(p, at, "cannot add to '%.64s' here: %s (line %u)", name, why[e->kind],
			 line_of(p, e->at));
}

/* After a key/value or a header: blanks, maybe a comment, the line's end. */
static int end_line(struct toml_parser *p, const char *after)
{
	const char *s = p->s;

	toml_skip(p, false);
	if (s[p->pos] == '#')
		while (s[p->pos] && s[p->pos] != '\n')
			p->pos++;
	if (s[p->pos] == '\n' || s[p->pos] == '\0')
		return 0;
	toml_fail(p, p->pos, "unexpected text after the %s", after);
	return -1;
}

int toml_keyval(struct toml_parser *p, cJSON *t, int depth, bool line)
{
	size_t saved = p->path_len;
	bool saved_is_key = p->path_is_key, inline_table;
	struct cfg_key *e;
	struct key k;
	int r = -1;

	buf_init(&k.text, 0);
	if (read_key(p, &k) < 0)
		goto out;
	for (int i = 0; i < k.n; i++)
		path_add(p, part(&k, i));
	p->path_is_key = true;
	if (p->s[p->pos] != '=') {
		toml_fail(p, p->pos, "expected '=' after the key");
		goto out;
	}
	p->pos++;
	toml_skip(p, false);
	for (int i = 0; i < k.n - 1; i++, depth++) {
		if (!(e = cfg_keys_find(&p->keys, t, part(&k, i)))) {
			if (depth + 1 > TOML_MAX_DEPTH) {
				toml_fail(p, k.at, "tables nested deeper than %d", TOML_MAX_DEPTH);
				goto out;
			}
			e = add(p, t, part(&k, i), toml_node(p, cJSON_CreateObject(), k.at),
				TOML_DOTTED, k.at);
			if (!e)
				goto out;
		} else if (e->kind == TOML_IMPLICIT) {
			/* named by a [header] below it, defined now (as tomllib has it) */
			e->kind = TOML_DOTTED;
			e->at = k.at;
		} else if (e->kind != TOML_DOTTED) {
			closed(p, k.at, part(&k, i), e);
			goto out;
		}
		t = e->item;
	}
	if ((e = cfg_keys_find(&p->keys, t, part(&k, k.n - 1)))) {
		toml_fail(p, k.at, "duplicate key (first on line %u)", line_of(p, e->at));
		goto out;
	}
	cJSON *v = toml_value(p, depth + 1, &inline_table);
	if (!add(p, t, part(&k, k.n - 1), v, inline_table ? TOML_INLINE : TOML_VALUE, k.at))
		goto out;
	r = line ? end_line(p, "value") : 0;
out:
	buf_free(&k.text);
	if (r == 0) {
		p->path_len = saved;
		p->path[saved] = '\0';
		p->path_is_key = saved_is_key;
	}
	return r;
}

/* A [table] or [[array of tables]] header at pos: *cur becomes its table. */
static int header(struct toml_parser *p, cJSON *root, cJSON **cur, int *cur_depth)
{
	static const char *const as[] = {
		[TOML_VALUE] = "a value",	   [TOML_IMPLICIT] = "a table",
		[TOML_HEADER] = "a table",	   [TOML_DOTTED] = "a table by dotted keys",
		[TOML_INLINE] = "an inline table", [TOML_AOT] = "an array of tables",
	};
	const char *s = p->s;
	size_t at = p->pos;
	bool aot = s[at + 1] == '[';
	struct cfg_key *e;
	cJSON *t = root;
	int depth = 0, r = -1;
	struct key k;

	buf_init(&k.text, 0);
	p->path_len = 0;
	p->path[0] = '\0';
	p->path_is_key = false;
	p->pos += aot ? 2 : 1;
	toml_skip(p, false);
	if (read_key(p, &k) < 0)
		goto out;
	for (int i = 0; i < k.n; i++)
		path_add(p, part(&k, i));
	if (s[p->pos] != ']' || (aot && s[p->pos + 1] != ']')) {
		toml_fail(p, p->pos, "expected '%s' after the table name", aot ? "]]" : "]");
		goto out;
	}
	p->pos += aot ? 2 : 1;
	if (end_line(p, "table header") < 0)
		goto out;
	for (int i = 0; i < k.n; i++) {
		const char *name = part(&k, i);
		bool last = i == k.n - 1;
		e = cfg_keys_find(&p->keys, t, name);
		if (last && e && !aot && e->kind == TOML_IMPLICIT) {
			e->kind = TOML_HEADER; /* named on the way before, defined now */
			e->at = at;
		} else if (last && e && (!aot || e->kind != TOML_AOT)) {
			if (e->kind == TOML_HEADER && !aot)
				toml_fail(p, at, "table defined twice (first on line %u)",
					  line_of(p, e->at));
			else
				toml_fail(p, at, "already defined on line %u (as %s)",
					  line_of(p, e->at), as[e->kind]);
			goto out;
		} else if (!e) {
			bool array = last && aot;
			cJSON *v = array ? cJSON_CreateArray() : cJSON_CreateObject();
			e = add(p, t, name, toml_node(p, v, at),
				array  ? TOML_AOT
				: last ? TOML_HEADER
				       : TOML_IMPLICIT,
				at);
			if (!e)
				goto out;
		} else if (e->kind == TOML_VALUE || e->kind == TOML_INLINE) {
			closed(p, at, name, e);
			goto out;
		}
		if (e->kind == TOML_AOT && last) {
			cJSON *item = toml_node(p, cJSON_CreateObject(), at);
			if (!item)
				goto out;
			cJSON_AddItemToArray(e->item, item);
			e->last = item;
		}
		t = e->kind == TOML_AOT ? e->last : e->item;
		depth += e->kind == TOML_AOT ? 2 : 1;
		if (depth > TOML_MAX_DEPTH) {
			toml_fail(p, at, "tables nested deeper than %d", TOML_MAX_DEPTH);
			goto out;
		}
	}
	*cur = t;
	*cur_depth = depth;
	r = 0;
out:
	buf_free(&k.text);
	return r;
}

static cJSON *document(struct toml_parser *p)
{
	const char *s = p->s;
	cJSON *root = toml_node(p, cJSON_CreateObject(), 0), *cur = root;
	int depth = 0;

	if (!root)
		return NULL;
	for (;;) {
		toml_skip(p, true);
		if (!s[p->pos])
			return root;
		if ((s[p->pos] == '[' ? header(p, root, &cur, &depth)
				      : toml_keyval(p, cur, depth, true)) < 0) {
			cJSON_Delete(root);
			return NULL;
		}
	}
}

cJSON *toml_parse(const char *text, size_t len, struct err *e)
{
	struct toml_parser p = {.st.e = e};
	const char *why;
	size_t bad, n;
	cJSON *root;

	if (len > TOML_MAX_INPUT) {
		err_set(e, EFBIG, "TOML text of %zu bytes is over the %u-byte cap", len,
			TOML_MAX_INPUT);
		return NULL;
	}
	if ((why = cfg_text_check(text, len, &bad))) {
		unsigned line, col;
		cfg_position(text, bad, &line, &col);
		err_set(e, EINVAL, "line %u: %s", line, why);
		return NULL;
	}
	char *copy = cfg_text_copy(text, len, &n);
	if (!copy) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	p.s = copy;
	buf_init(&p.tmp, 0);
	root = document(&p);
	cfg_keys_free(&p.keys);
	buf_free(&p.tmp);
	free(copy);
	return root;
}
