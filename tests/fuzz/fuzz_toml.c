// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_toml: lib/toml on arbitrary text (an exact-size copy, so ASan sees any
 * read past the end). A document that parses is written back as TOML (every
 * table inline, every key quoted) and must parse to an equal tree. A refusal
 * names a line of the text.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "fuzz_common.h"
#include "fuzz_tree.h"
#include "toml.h"

static void put_string(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\u%04x", c);
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

static void put_value(struct buf *b, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		put_string(b, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		ENSURE(isfinite(d));
		if (d == floor(d) && fabs(d) <= 9007199254740991.0)
			buf_printf(b, "%.0f", d);
		else
			buf_printf(b, "%.17e", d);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		buf_puts(b, obj ? "{" : "[");
		for (const cJSON *c = v->child; c; c = c->next) {
			if (obj) {
				put_string(b, c->string);
				buf_puts(b, " = ");
			}
			put_value(b, c);
			if (c->next)
				buf_puts(b, ", ");
		}
		buf_puts(b, obj ? "}" : "]");
	} else {
		ENSURE(0); /* TOML has no null */
	}
}

static unsigned lines(const char *s, size_t n)
{
	unsigned l = 1;

	for (size_t i = 0; i < n; i++)
		l += s[i] == '\n';
	return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = dup_exact((const char *)data, size);
	struct err e = {0};
	cJSON *j = toml_parse(text, size, &e);

	if (j) {
		struct buf b;
		struct err e2 = {0};
		ENSURE(e.code == 0 && cJSON_IsObject(j));
		buf_init(&b, 0);
		for (const cJSON *c = j->child; c; c = c->next) {
			put_string(&b, c->string);
			buf_puts(&b, " = ");
			put_value(&b, c);
			buf_puts(&b, "\n");
		}
		ENSURE(buf_cstr(&b));
		cJSON *k = toml_parse(buf_head(&b), b.len, &e2);
		if (!k)
			fprintf(stderr, "%s\n%s\n", buf_head(&b), e2.msg);
		ENSURE(k && tree_equal(j, k));
		cJSON_Delete(k);
		buf_free(&b);
		cJSON_Delete(j);
	} else if (e.code == EINVAL) {
		unsigned line;
		ENSURE(sscanf(e.msg, "line %u: ", &line) == 1);
		ENSURE(line >= 1 && line <= lines(text, size));
	} else {
		ENSURE(e.code == ENOMEM || (e.code == EFBIG && size > TOML_MAX_INPUT));
	}
	free(text);
	return 0;
}
