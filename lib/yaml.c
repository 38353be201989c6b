// SPDX-License-Identifier: Apache-2.0
/*
 * YAML documents and block collections: a recursive descent over lines. A block
 * collection is known by the column of its entries ("indentation"); a value
 * on the line of its key or dash may itself open a compact collection
 * ("- name: x") whose column is where it starts. Every function that reads a
 * block value leaves pos at the start of the line after it, and the caller
 * decides from that line's indentation whether its own collection goes on.
 */
#include "yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_int.h"

static cJSON *block_node(struct yaml_parser *p, int pi, int li);

void *yaml_fail(struct yaml_parser *p, size_t at, const char *fmt, ...)
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
	err_set(p->st.e, EINVAL, "line %u, column %u: %s", line, col, msg);
	p->st.failed = true;
	return NULL;
}

cJSON *yaml_node(struct yaml_parser *p, cJSON *n, size_t at)
{
	bool over = false;

	n = cfg_node(&p->st, n, YAML_MAX_NODES, &over);
	return over ? yaml_fail(p, at, "more than %d values", YAML_MAX_NODES) : n;
}

/* Past the end of the line holding i: the next line's start, or the end. */
static size_t next_line(const struct yaml_parser *p, size_t i)
{
	while (p->s[i] && p->s[i] != '\n')
		i++;
	return p->s[i] ? i + 1 : i;
}

/* Moves pos (a line start) past lines holding only blanks or a comment;
 * whether a line with content (or a document marker) is left. */
static bool next_content(struct yaml_parser *p)
{
	const char *s = p->s;

	while (s[p->pos]) {
		size_t i = p->pos;
		while (yaml_blank(s[i]))
			i++;
		if (s[i] != '\n' && s[i] != '#' && s[i] != '\0')
			return true;
		p->pos = next_line(p, i);
	}
	return false;
}

static bool at_marker(const struct yaml_parser *p)
{
	return yaml_doc_marker(p, p->pos, '-') || yaml_doc_marker(p, p->pos, '.');
}

/* The indentation of the content line at pos, or -1 (a tab in it). */
static int indent(struct yaml_parser *p)
{
	size_t n = 0;

	while (p->s[p->pos + n] == ' ')
		n++;
	if (p->s[p->pos + n] == '\t') {
		yaml_fail(p, p->pos + n, "tab in indentation (YAML indents with spaces)");
		return -1;
	}
	return (int)n;
}

/* After a value: blanks, maybe a comment, then the line's end. */
static int end_line(struct yaml_parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;

	while (yaml_blank(s[i]))
		i++;
	if (s[i] == '#' && i > p->pos)
		while (s[i] && s[i] != '\n')
			i++;
	if (s[i] != '\n' && s[i] != '\0') {
		if (s[i] == '#')
			yaml_fail(p, i, "a comment needs a blank before its '#'");
		else
			yaml_unexpected(p, i, "after the value");
		return -1;
	}
	p->pos = next_line(p, i);
	return 0;
}

static bool entry_at(const char *s, size_t i)
{
	return s[i] == '-' && yaml_blankz(s[i + 1]);
}

/* If a block mapping key ("key:" then a blank or the line's end) starts at
 * i: the offset of its ':', else 0. Keys stay on their line. */
static size_t key_colon(const char *s, size_t i)
{
	char q = s[i];
	size_t j = i + 1;

	if (q == '"' || q == '\'') {
		for (;; j++) {
			if (s[j] == '\0' || s[j] == '\n')
				return 0;
			if (q == '"' && s[j] == '\\' && s[j + 1] && s[j + 1] != '\n')
				j++;
			else if (s[j] == q && q == '\'' && s[j + 1] == '\'')
				j++;
			else if (s[j] == q)
				break;
		}
		for (j++; yaml_blank(s[j]); j++)
			;
		return s[j] == ':' && yaml_blankz(s[j + 1]) ? j : 0;
	}
	if (!yaml_plain_start(s, i, false))
		return 0;
	for (j = i; s[j] && s[j] != '\n'; j++) {
		if (s[j] == ':' && yaml_blankz(s[j + 1]))
			return j;
		if (yaml_blank(s[j]) && s[j + 1] == '#')
			return 0;
	}
	return 0;
}

/* The value at pos, on the line of its key or dash: a scalar, a flow
 * collection or a block scalar; pi is its collection's indentation. */
static cJSON *inline_value(struct yaml_parser *p, int pi)
{
	const char *s = p->s;
	size_t at = p->pos;
	char c = s[at];
	cJSON *v;

	if (yaml_unsupported(p, at))
		return NULL;
	if (c == '|' || c == '>')
		return yaml_block_scalar(p, pi);
	if (c == '[' || c == '{') {
		v = yaml_flow_node(p);
	} else if (c == '"' || c == '\'') {
		v = yaml_quoted(p) < 0 ? NULL : yaml_string(p, at);
	} else if (c == '?' && yaml_blankz(s[at + 1])) {
		return yaml_fail(p, at, "complex keys ('? ') are not supported");
	} else if (entry_at(s, at)) {
		return yaml_fail(p, at, "a sequence entry cannot start here");
	} else if (!yaml_plain_start(s, at, false)) {
		return yaml_unexpected(p, at, "at the start of a value");
	} else {
		if (yaml_plain(p, pi, false) < 0)
			return NULL;
		if (s[p->pos] == ':')
			return yaml_fail(p, p->pos, "mapping values are not allowed here%s",
					 memchr(s + at, '\n', p->pos - at) ? " (a key indented "
									     "too far?)"
									   : "");
		v = yaml_resolve(p, at);
	}
	if (v && end_line(p) < 0) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* After "key:" or "-" with nothing more on the line: the value on the next
 * lines, if indented more than ind (or, for a key, a sequence at ind). */
static cJSON *value_below(struct yaml_parser *p, int ind, bool key)
{
	size_t at = p->pos;

	p->pos = next_line(p, p->pos); /* the rest is blank or a comment */
	if (!next_content(p) || at_marker(p))
		return yaml_node(p, cJSON_CreateNull(), at);
	int li = indent(p);
	if (li < 0)
		return NULL;
	if (li > ind || (key && li == ind && entry_at(p->s, p->pos + (size_t)li)))
		return block_node(p, ind, li);
	return yaml_node(p, cJSON_CreateNull(), at);
}

static cJSON *block_seq(struct yaml_parser *p, int ind);
static cJSON *block_map(struct yaml_parser *p, int ind);

/* After a collection's entry: whether another follows at ind (pos then at
 * it); false at the collection's end or after a failure (p->st.failed). */
static bool next_entry(struct yaml_parser *p, int ind)
{
	if (!next_content(p) || at_marker(p))
		return false;
	int li = indent(p);
	if (li < 0)
		return false;
	if (li > ind) {
		yaml_fail(p, p->pos + (size_t)li, "inconsistent indentation (expected column %d)",
			  ind + 1);
		return false;
	}
	if (li < ind)
		return false;
	p->pos += (size_t)li;
	return true;
}

/* A block sequence whose first '-' is at pos, in column ind. */
static cJSON *block_seq(struct yaml_parser *p, int ind)
{
	const char *s = p->s;
	size_t at = p->pos;
	cJSON *a;

	if (!yaml_enter(p, at))
		return NULL;
	if (!(a = yaml_node(p, cJSON_CreateArray(), at)))
		goto fail;
	for (;;) {
		size_t i = ++p->pos;
		bool tab = false;
		cJSON *v;
		while (yaml_blank(s[i]))
			tab |= s[i++] == '\t';
		p->pos = i;
		if (s[i] == '\n' || s[i] == '\0' || s[i] == '#') {
			v = value_below(p, ind, false);
		} else if (entry_at(s, i) || key_colon(s, i)) {
			if (tab) {
				yaml_fail(p, i,
					  "tab before a nested collection (indent with spaces)");
				goto fail;
			}
			/* a compact collection: its column is where it starts */
			int col = ind + (int)(i - at);
			v = entry_at(s, i) ? block_seq(p, col) : block_map(p, col);
		} else {
			v = inline_value(p, ind);
		}
		if (!v)
			goto fail;
		cJSON_AddItemToArray(a, v);
		if (!next_entry(p, ind)) {
			if (p->st.failed)
				goto fail;
			break;
		}
		if (!entry_at(s, p->pos)) { /* the line is for the collection around */
			p->pos -= (size_t)ind;
			break;
		}
		at = p->pos;
	}
	p->depth--;
	return a;
fail:
	p->depth--;
	cJSON_Delete(a);
	return NULL;
}

/* A key's text, read into tmp; pos ends after it. */
static int read_key(struct yaml_parser *p, size_t colon)
{
	const char *s = p->s;

	if (s[p->pos] == '"' || s[p->pos] == '\'')
		return yaml_quoted(p);
	size_t end = colon;
	while (end > p->pos && yaml_blank(s[end - 1]))
		end--;
	buf_reset(&p->tmp);
	if (buf_append(&p->tmp, s + p->pos, end - p->pos) < 0 || !buf_cstr(&p->tmp)) {
		cfg_oom(&p->st);
		return -1;
	}
	p->pos = end;
	return 0;
}

/* A block mapping whose first key is at pos, in column ind. */
static cJSON *block_map(struct yaml_parser *p, int ind)
{
	const char *s = p->s;
	cJSON *m;

	if (!yaml_enter(p, p->pos))
		return NULL;
	if (!(m = yaml_node(p, cJSON_CreateObject(), p->pos)))
		goto fail;
	do {
		size_t at = p->pos, colon = key_colon(s, at);
		if (!colon) {
			if (!yaml_unsupported(p, at))
				yaml_fail(p, at, "%s",
					  entry_at(s, at)
						  ? "a sequence entry where a key was expected "
						    "(inconsistent indentation?)"
						  : "expected a key ('key: value')");
			goto fail;
		}
		char *key = read_key(p, colon) < 0 ? NULL : yaml_map_key(p, m, at);
		if (!key)
			goto fail;
		p->pos = colon + 1;
		while (yaml_blank(s[p->pos]))
			p->pos++;
		cJSON *v;
		if (s[p->pos] == '\n' || s[p->pos] == '\0' || s[p->pos] == '#')
			v = value_below(p, ind, true);
		else
			v = inline_value(p, ind);
		int r = v ? yaml_add_key(p, m, key, v, at) : -1;
		free(key);
		if (r < 0)
			goto fail;
	} while (next_entry(p, ind));
	if (p->st.failed)
		goto fail;
	p->depth--;
	return m;
fail:
	p->depth--;
	cJSON_Delete(m);
	return NULL;
}

/* The block node on the line at pos, indented li, in a collection at pi. */
static cJSON *block_node(struct yaml_parser *p, int pi, int li)
{
	p->pos += (size_t)li;
	if (entry_at(p->s, p->pos))
		return block_seq(p, li);
	if (key_colon(p->s, p->pos))
		return block_map(p, li);
	return inline_value(p, pi);
}

/* After the root value: nothing, or a "..." line and then nothing. */
static int document_end(struct yaml_parser *p, const cJSON *root, int root_indent)
{
	if (!next_content(p))
		return 0;
	if (yaml_doc_marker(p, p->pos, '.')) {
		p->pos += 3;
		if (end_line(p) < 0)
			return -1;
		if (!next_content(p))
			return 0;
		yaml_fail(p, p->pos, "multiple documents are not supported");
		return -1;
	}
	if (at_marker(p)) {
		yaml_fail(p, p->pos, "multiple documents are not supported");
		return -1;
	}
	int li = indent(p);
	if (li < 0)
		return -1;
	if (li < root_indent)
		yaml_fail(
			p, p->pos + (size_t)li,
			"inconsistent indentation (less indented than the document's first line)");
	else if (cJSON_IsArray(root))
		yaml_fail(p, p->pos + (size_t)li, "expected a sequence entry ('- ')");
	else
		yaml_fail(p, p->pos + (size_t)li, "unexpected content after the document's value");
	return -1;
}

static cJSON *document(struct yaml_parser *p)
{
	const char *s = p->s;
	cJSON *root;
	int li = 0;

	if (next_content(p) && s[p->pos] == '%')
		return yaml_fail(p, p->pos, "directives ('%%YAML', '%%TAG') are not supported");
	if (next_content(p) && yaml_doc_marker(p, p->pos, '-')) {
		p->pos += 3;
		while (yaml_blank(s[p->pos]))
			p->pos++;
		if (s[p->pos] != '#' && s[p->pos] != '\n' && s[p->pos] != '\0')
			return yaml_fail(p, p->pos,
					 "a value on the '---' line is not supported (start it "
					 "on the next line)");
		p->pos = next_line(p, p->pos);
	}
	if (!next_content(p) || yaml_doc_marker(p, p->pos, '.')) {
		root = yaml_node(p, cJSON_CreateNull(), p->pos);
	} else if (yaml_doc_marker(p, p->pos, '-')) {
		return yaml_fail(p, p->pos, "multiple documents are not supported");
	} else {
		if ((li = indent(p)) < 0)
			return NULL;
		root = block_node(p, -1, li);
	}
	if (root && document_end(p, root, li) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

cJSON *yaml_parse(const char *text, size_t len, struct err *e)
{
	struct yaml_parser p = {.st.e = e};
	const char *why;
	size_t bad, n;
	cJSON *root;

	if (len > YAML_MAX_INPUT) {
		err_set(e, EFBIG, "YAML text of %zu bytes is over the %u-byte cap", len,
			YAML_MAX_INPUT);
		return NULL;
	}
	if ((why = cfg_text_check(text, len, &bad))) {
		unsigned line, col;
		cfg_position(text, bad, &line, &col);
		err_set(e, EINVAL, "line %u, column %u: %s", line, col, why);
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
