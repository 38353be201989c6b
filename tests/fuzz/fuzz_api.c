// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox-api's request validators on arbitrary input: the first byte picks
 * the validator (create body, list query, metadata filter, RFC 3339 time,
 * quantities), the rest is its input. Nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apival.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	struct apival_err ae;
	int64_t v;
	switch (data[0] % 5) {
	case 0: {
		struct apival_create c;
		if (apival_create_parse(s, size - 1, 86400, &c, &ae) == 0)
			apival_create_free(&c);
		break;
	}
	case 1: {
		struct apival_list l;
		if (apival_list_parse(s, &l, &ae) == 0)
			apival_list_free(&l);
		break;
	}
	case 2: {
		cJSON *o = NULL;
		if (apival_metadata_filter_parse(s, &o, &ae) == 0)
			cJSON_Delete(o);
		break;
	}
	case 3:
		if (apival_time_parse(s, &v) == 0) {
			char out[APIVAL_TIME_LEN];
			apival_time_format(v, out);
		}
		break;
	default:
		apival_memory_parse(s, &v);
		apival_cpu_parse(s, &v);
		apival_gpu_parse(s, &v);
		break;
	}
	free(s);
	return 0;
}
