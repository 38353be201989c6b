// SPDX-License-Identifier: Apache-2.0
#include "runtime.h"

#include <string.h>

const struct runtime *runtime_find(const char *name)
{
	static const struct runtime *const all[] = {&runtime_docker, &runtime_k8s};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
