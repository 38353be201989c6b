// SPDX-License-Identifier: Apache-2.0
/*
 * YAML flow collections ([a, b], {k: v}, over lines too) and what block and
 * flow collections share: the depth cap, mapping keys and their duplicate
 * check, the refusals of anchors, aliases and tags.
 */
#include <stdlib.h>
#include <string.h>

#include "yaml.h"
#include "yaml_int.h"

bool yaml_doc_marker(const struct yaml_parser *p, size_t i, char c)
{
	const char *s = p->s;

	return (i == 0 || s[i - 1] == '\n') && s[i] == c && s[i + 1] == c && s[i + 2] == c &&
	       yaml_blankz(s[i + 3]);
}

bool yaml_plain_start(const char *s, size_t i, bool flow)
{
	char c = s[i];

	if (yaml_blankz(c))
		return false;
	if (c == '-' || c == '?' || c == ':')
		return !yaml_blankz(s[i + 1]) && !(flow && yaml_flow_indicator(s[i + 1]));
	return !strchr(",[]{}#&*!|>'\"%@`", c);
}

/* Fails with "... not supported" when an anchor, alias or tag starts at i. */
bool yaml_unsupported(struct yaml_parser *p, size_t i)
{
	static const char *const what[] = {['&'] = "anchors", ['*'] = "aliases", ['!'] = "tags"};
	char c = p->s[i];

	if (c != '&' && c != '*' && c != '!')
		return false;
	yaml_fail(p, i, "%s ('%c') are not supported", what[(unsigned char)c], c);
	return true;
}

void *yaml_unexpected(struct yaml_parser *p, size_t i, const char *where)
{
	char c = p->s[i];

	if (c == '\0')
		return yaml_fail(p, i, "unexpected end %s", where);
	if (c > ' ' && c < 0x7f)
		return yaml_fail(p, i, "unexpected '%c' %s", c, where);
	return yaml_fail(p, i, "unexpected character %s", where);
}

/* Enters a collection at offset at: whether YAML_MAX_DEPTH allows it. */
bool yaml_enter(struct yaml_parser *p, size_t at)
{
	if (p->depth >= YAML_MAX_DEPTH) {
		yaml_fail(p, at, "collections nested deeper than %d", YAML_MAX_DEPTH);
		return false;
	}
	p->depth++;
	return true;
}

/* Adds v under key in map, or fails if the key is there already; v is
 * freed on failure. */
int yaml_add_key(struct yaml_parser *p, cJSON *map, const char *key, cJSON *v, size_t at)
{
	struct cfg_key *k;

	if (!cJSON_AddItemToObject(map, key, v)) {
		cJSON_Delete(v);
		cfg_oom(&p->st);
		return -1;
	}
	if (!(k = cfg_keys_add(&p->keys, map, v))) {
		cfg_oom(&p->st);
		return -1;
	}
	k->at = at;
	return 0;
}

/* The key tmp holds (read at offset at), checked against map's keys, as a
 * new string; NULL after a failure. */
char *yaml_map_key(struct yaml_parser *p, cJSON *map, size_t at)
{
	struct cfg_key *k;
	char *key = buf_cstr(&p->tmp);

	if (!key)
		return cfg_oom(&p->st);
	if ((k = cfg_keys_find(&p->keys, map, key))) {
		unsigned line, col;
		cfg_position(p->s, k->at, &line, &col);
		return yaml_fail(p, at, "duplicate key '%.64s' (first on line %u)", key, line);
	}
	if (!(key = strdup(key)))
		return cfg_oom(&p->st);
	return key;
}

/* Skips blanks, line breaks and comments inside a flow collection. */
static int flow_space(struct yaml_parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;

	for (;;) {
		if (yaml_blank(s[i])) {
			i++;
		} else if (s[i] == '\n') {
			if (yaml_doc_marker(p, ++i, '-') || yaml_doc_marker(p, i, '.')) {
				yaml_fail(p, i, "document marker inside a flow collection");
				return -1;
			}
		} else if (s[i] == '#') {
			if (!yaml_blankz(s[i - 1])) {
				yaml_fail(p, i, "a comment needs a blank before its '#'");
				return -1;
			}
			while (s[i] && s[i] != '\n')
				i++;
		} else {
			p->pos = i;
			return 0;
		}
	}
}

/* A flow scalar's key or entry, read into tmp. */
static int flow_scalar(struct yaml_parser *p)
{
	char c = p->s[p->pos];

	if (c == '"' || c == '\'')
		return yaml_quoted(p);
	if (yaml_unsupported(p, p->pos))
		return -1;
	if (!yaml_plain_start(p->s, p->pos, true)) {
		yaml_unexpected(p, p->pos, "in a flow collection");
		return -1;
	}
	return yaml_plain(p, -1, true);
}

/* After an entry of the collection opened at offset at: ',' (skipped) or the
 * closing bracket; 1 at the end. */
static int flow_next(struct yaml_parser *p, size_t at, char close)
{
	if (flow_space(p) < 0)
		return -1;
	char c = p->s[p->pos];
	if (c == ',' || c == close) {
		p->pos++;
		return c == close;
	}
	if (c == '\0')
		yaml_fail(p, at, "'%c' without its closing '%c'", close == ']' ? '[' : '{', close);
	else if (c == ':' && close == ']')
		yaml_fail(p, p->pos,
			  "single-pair mappings in a flow sequence are not supported "
			  "(write {key: value})");
	else
		yaml_unexpected(p, p->pos,
				close == ']' ? "(expected ',' or ']')" : "(expected ',' or '}')");
	return -1;
}

/* The flow sequence or mapping at pos; pos ends after its closing bracket. */
static cJSON *flow_collection(struct yaml_parser *p)
{
	const char *s = p->s;
	size_t at = p->pos;
	bool map = s[at] == '{';
	char close = map ? '}' : ']';
	int r = 0;
	cJSON *c;

	if (!yaml_enter(p, at))
		return NULL;
	if (!(c = yaml_node(p, map ? cJSON_CreateObject() : cJSON_CreateArray(), at)))
		goto fail;
	p->pos++;
	while (r == 0) {
		if (flow_space(p) < 0)
			goto fail;
		size_t i = p->pos;
		if (s[i] == close) {
			p->pos++;
			break;
		}
		if (s[i] == ',' || s[i] == '\0') {
			if (s[i])
				yaml_fail(p, i, "empty entry in a flow collection");
			else
				yaml_fail(p, at, "'%c' without its closing '%c'", s[at], close);
			goto fail;
		}
		if (!map) {
			cJSON *v = yaml_flow_node(p);
			if (!v)
				goto fail;
			cJSON_AddItemToArray(c, v);
			r = flow_next(p, at, close);
			continue;
		}
		if (s[i] == '[' || s[i] == '{' || (s[i] == '?' && yaml_blankz(s[i + 1]))) {
			yaml_fail(p, i, "complex keys are not supported");
			goto fail;
		}
		char *key = flow_scalar(p) < 0 ? NULL : yaml_map_key(p, c, i);
		if (!key)
			goto fail;
		cJSON *v = NULL;
		if (flow_space(p) == 0) {
			if (s[p->pos] == ':') {
				p->pos++;
				if (flow_space(p) == 0)
					v = s[p->pos] == ',' || s[p->pos] == '}'
						    ? yaml_node(p, cJSON_CreateNull(), p->pos)
						    : yaml_flow_node(p);
			} else if (s[p->pos] == ',' || s[p->pos] == '}') {
				v = yaml_node(p, cJSON_CreateNull(), p->pos);
			} else {
				yaml_unexpected(p, p->pos, "(expected ':', ',' or '}')");
			}
		}
		r = v ? yaml_add_key(p, c, key, v, i) : -1;
		free(key);
		if (r == 0)
			r = flow_next(p, at, close);
	}
	if (r < 0)
		goto fail;
	p->depth--;
	return c;
fail:
	p->depth--;
	cJSON_Delete(c);
	return NULL;
}

cJSON *yaml_flow_node(struct yaml_parser *p)
{
	size_t at = p->pos;
	char c = p->s[at];

	if (c == '[' || c == '{')
		return flow_collection(p);
	if (flow_scalar(p) < 0)
		return NULL;
	return c == '"' || c == '\'' ? yaml_string(p, at) : yaml_resolve(p, at);
}
