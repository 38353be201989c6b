// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_policy: egressd's policy JSON loader. The input is tried as a policy
 * body, a PATCH rule array and a DELETE target array. A policy that loads
 * must serialise (compact and indented) into text that loads back to the same
 * serialisation; its compiled index must answer for names taken from the
 * input; merge and remove must keep the rule counts consistent.
 */
#include <ctype.h>

#include "fuzz_common.h"
#include "json.h"
#include "policy.h"

static char *dump(const struct policy *p, bool indent)
{
	struct buf b;
	buf_init(&b, 0);
	ENSURE(policy_to_json(p, &b, indent) == 0);
	char *s = strdup(buf_cstr(&b));
	buf_free(&b);
	ENSURE(s);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = dup_exact((const char *)data, size);
	struct policy *p = NULL, *patch = NULL;
	struct err e = {0};

	if (policy_parse(text, size, 0, &p, &e) == 0) {
		char *a = dump(p, false), *b = dump(p, true);
		struct policy *q = NULL;
		ENSURE(policy_parse(b, strlen(b), 0, &q, &e) == 0);
		char *c = dump(q, false);
		ENSURE(!strcmp(a, c));
		const struct policy *layers[2] = {p, q};
		struct policy_index *ix = policy_index_build(layers, 2, p->default_action);
		ENSURE(ix);
		for (size_t i = 0; i < p->n; i++) {
			const char *k = p->rules[i].key ? p->rules[i].key : p->rules[i].target;
			int rule, v = policy_match(ix, k, &rule);
			ENSURE(v == POLICY_ALLOW || v == POLICY_DENY);
			ENSURE(rule >= -1 && rule < (int)(2 * p->n));
			if (p->rules[i].kind == POLICY_DOMAIN)
				ENSURE(rule >= 0 && rule <= (int)i);
		}
		size_t qn = q->n;
		struct policy *m = policy_merge(p, q); /* consumes q */
		ENSURE(m && m->n <= p->n && m->n <= qn);
		char *targets[1] = {p->n ? p->rules[0].target : (char *)"x"};
		size_t removed;
		struct policy *d = policy_remove(p, targets, 1, &removed);
		ENSURE(d && d->n + removed == p->n);
		policy_free(d);
		policy_free(m);
		policy_index_free(ix);
		free(a);
		free(b);
		free(c);
		policy_free(p);
	}
	/* the byte count that checks the cap before a parse agrees with cJSON */
	long count = json_array_len(text, size);
	cJSON *j = json_parse(text, size, &e);
	if (j && cJSON_IsArray(j))
		ENSURE(count == cJSON_GetArraySize(j));
	else if (j)
		ENSURE(count == -1);
	cJSON_Delete(j);
	/* policy_parse_rules counts the text its trim leaves (a BOM may lead it then) */
	size_t skip = 0;
	while (skip < size && isspace((unsigned char)text[skip]))
		skip++;
	count = json_array_len(text + skip, size - skip);
	if (policy_parse_rules(text, size, 0, &patch, &e) == 0) {
		ENSURE(patch->n >= 1 && (long)patch->n == count);
		policy_free(patch);
	}
	char **t;
	size_t n;
	if (policy_parse_targets(text, size, &t, &n, &e) == 0) {
		ENSURE(n >= 1);
		free(t);
	}
	free(text);
	return 0;
}
