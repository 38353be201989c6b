/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_tree: equality of two cJSON trees in linear time, for the config
 * parsers' round trips. cJSON_Compare looks every key up in the other object
 * both ways, which doubles the work at each level (2^depth for a chain of
 * one-key tables); the trees compared here keep their key order, so children
 * are compared pairwise. Numbers compare as cJSON_Compare does (to a relative
 * DBL_EPSILON: cJSON prints 15 significant digits when they read back so).
 */
#ifndef TESTS_FUZZ_TREE_H
#define TESTS_FUZZ_TREE_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <cJSON.h>

static inline bool tree_equal(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if ((a->string == NULL) != (b->string == NULL) ||
	    (a->string && strcmp(a->string, b->string)))
		return false;
	if (cJSON_IsNumber(a)) {
		double m = fmax(fabs(a->valuedouble), fabs(b->valuedouble));
		return fabs(a->valuedouble - b->valuedouble) <= m * DBL_EPSILON;
	}
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	const cJSON *x = a->child, *y = b->child;
	for (; x && y; x = x->next, y = y->next)
		if (!tree_equal(x, y))
			return false;
	return !x && !y;
}

#endif
