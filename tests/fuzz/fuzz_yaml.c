// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_yaml: lib/yaml on arbitrary text (an exact-size copy, so ASan sees any
 * read past the end). A document that parses is printed as JSON, compact and
 * indented, which is YAML too: each must parse back to an equal tree (unless
 * cJSON printed a float as an integer past 2^53, or DEL raw). A refusal names
 * a line of the text.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "fuzz_common.h"
#include "fuzz_tree.h"
#include "yaml.h"

static unsigned lines(const char *s, size_t n)
{
	unsigned l = 1;

	for (size_t i = 0; i < n; i++)
		l += s[i] == '\n';
	return l;
}

/* Whether cJSON would print a number of the tree as an integer the parser
 * refuses (a float from 2^53 up to 1e17 prints without '.' or exponent). */
static bool big_integral(const cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsNumber(j) && fabs(j->valuedouble) > 9007199254740991.0)
			return true;
		if (big_integral(j->child))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = dup_exact((const char *)data, size);
	struct err e = {0};
	cJSON *j = yaml_parse(text, size, &e);

	if (j) {
		ENSURE(e.code == 0);
		for (int indent = 0; indent < 2 && !big_integral(j); indent++) {
			char *out = indent ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
			ENSURE(out);
			if (!strchr(out, 0x7f)) { /* raw DEL is no YAML text */
				struct err e2 = {0};
				cJSON *k = yaml_parse(out, strlen(out), &e2);
				if (!k)
					fprintf(stderr, "%s\n%s\n", out, e2.msg);
				ENSURE(k && tree_equal(j, k));
				cJSON_Delete(k);
			}
			free(out);
		}
		cJSON_Delete(j);
	} else if (e.code == EINVAL) {
		unsigned line, col;
		ENSURE(sscanf(e.msg, "line %u, column %u: ", &line, &col) == 2);
		ENSURE(line >= 1 && line <= lines(text, size) && col >= 1);
	} else {
		ENSURE(e.code == ENOMEM || (e.code == EFBIG && size > YAML_MAX_INPUT));
	}
	free(text);
	return 0;
}
