// SPDX-License-Identifier: Apache-2.0
#include "session_env.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	static const char *const skip[] = {"PS1",   "PS2", "PS3", "PS4", "PROMPT_COMMAND",
					   "SHLVL", "_"};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strlen(skip[i]) == n && memcmp(skip[i], s, n) == 0)
			return false;
	return true;
}

int session_env_set(struct session_env *e, const char *name, size_t nlen, const char *value,
		    size_t vlen)
{
	if (!valid_name(name, nlen) || vlen > SESSION_ENV_VALUE_MAX)
		return -EINVAL;
	size_t lo = 0, hi = e->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(e->names[mid], name, nlen);
		if (c == 0 && e->names[mid][nlen] != '\0')
			c = 1;
		if (c == 0) {
			char *v = strndup(value, vlen);
			if (!v)
				return -ENOMEM;
			free(e->values[mid]);
			e->values[mid] = v;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (e->n >= SESSION_ENV_MAX)
		return -ENOSPC;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **nn = realloc(e->names, cap * sizeof(char *));
		if (!nn)
			return -ENOMEM;
		e->names = nn;
		char **vv = realloc(e->values, cap * sizeof(char *));
		if (!vv)
			return -ENOMEM;
		e->values = vv;
		e->cap = cap;
	}
	char *n = strndup(name, nlen), *v = strndup(value, vlen);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	memmove(e->names + lo + 1, e->names + lo, (e->n - lo) * sizeof(char *));
	memmove(e->values + lo + 1, e->values + lo, (e->n - lo) * sizeof(char *));
	e->names[lo] = n;
	e->values[lo] = v;
	e->n++;
	return 0;
}

int session_env_snapshot(struct session_env *e, char **envp)
{
	memset(e, 0, sizeof(*e));
	buf_init(&e->pending, SESSION_ENV_VALUE_MAX + 1024);
	for (char **p = envp; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (!eq)
			continue;
		if (session_env_set(e, *p, (size_t)(eq - *p), eq + 1, strlen(eq + 1)) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

/* Decodes a quoted value starting at q (the opening quote). Returns the
 * length used, or 0 if the closing quote is not in [q, end). */
static size_t unquote(const char *q, const char *end, struct buf *out)
{
	char quote = *q;
	const char *p = q + 1;
	while (p < end) {
		if (quote == '"' && *p == '\\' && p + 1 < end && strchr("\"\\$`", p[1])) {
			buf_append(out, p + 1, 1);
			p += 2;
			continue;
		}
		if (*p == quote) {
			/* sh writes a quote inside a value as '\'' */
			if (quote == '\'' && end - p >= 4 && memcmp(p, "'\\''", 4) == 0) {
				buf_append(out, "'", 1);
				p += 4;
				continue;
			}
			return (size_t)(p + 1 - q);
		}
		buf_append(out, p, 1);
		p++;
	}
	return 0;
}

void session_env_parse_line(struct session_env *e, const char *line, size_t len)
{
	/* A value with newlines arrives over several lines: join them first. */
	if (e->pending.len) {
		if (buf_append(&e->pending, "\n", 1) < 0 ||
		    buf_append(&e->pending, line, len) < 0) {
			buf_reset(&e->pending);
			return;
		}
		line = buf_head(&e->pending);
		len = e->pending.len;
	}
	const char *p = line, *end = line + len;
	static const char decl[] = "declare -x ", exp[] = "export ";
	if ((size_t)(end - p) > sizeof(decl) - 1 && memcmp(p, decl, sizeof(decl) - 1) == 0)
		p += sizeof(decl) - 1;
	else if ((size_t)(end - p) > sizeof(exp) - 1 && memcmp(p, exp, sizeof(exp) - 1) == 0)
		p += sizeof(exp) - 1;
	else {
		buf_reset(&e->pending);
		return;
	}
	const char *name = p;
	while (p < end && *p != '=')
		p++;
	if (p == end || p + 1 == end) { /* declared without a value */
		buf_reset(&e->pending);
		return;
	}
	size_t nlen = (size_t)(p - name);
	p++;
	struct buf val;
	buf_init(&val, SESSION_ENV_VALUE_MAX + 1);
	if (*p == '"' || *p == '\'') {
		size_t used = unquote(p, end, &val);
		if (used == 0) {
			/* Unbalanced: wait for the next line (bounded by pending's cap). */
			if (!e->pending.len && buf_append(&e->pending, line, len) < 0)
				buf_reset(&e->pending);
			buf_free(&val);
			return;
		}
	} else {
		buf_append(&val, p, (size_t)(end - p));
	}
	session_env_set(e, name, nlen, val.len ? buf_head(&val) : "", val.len);
	buf_free(&val);
	buf_reset(&e->pending);
}

void session_env_move(struct session_env *dst, struct session_env *src)
{
	session_env_free(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
	buf_init(&src->pending, SESSION_ENV_VALUE_MAX + 1024);
	buf_reset(&dst->pending);
}

int session_env_quote(struct buf *b, const char *s)
{
	int r = buf_puts(b, "'");
	for (const char *p = s; !r && *p;) {
		size_t n = strcspn(p, "'");
		r = buf_append(b, p, n);
		p += n;
		if (!r && *p == '\'') {
			r = buf_puts(b, "'\\''");
			p++;
		}
	}
	return r ? r : buf_puts(b, "'");
}

int session_env_export_script(const struct session_env *e, struct buf *b)
{
	int r = 0;
	for (size_t i = 0; !r && i < e->n; i++) {
		r = buf_printf(b, "export %s=", e->names[i]);
		r = r ? r : session_env_quote(b, e->values[i]);
		r = r ? r : buf_puts(b, "\n");
	}
	return r;
}

void session_env_free(struct session_env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->names[i]);
		free(e->values[i]);
	}
	free(e->names);
	free(e->values);
	buf_free(&e->pending);
	memset(e, 0, sizeof(*e));
}
