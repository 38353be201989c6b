// SPDX-License-Identifier: Apache-2.0
#include "secret.h"

#include <string.h>

bool secret_equal(const char *given, const char *want)
{
	size_t lg = strlen(given), lw = strlen(want);
	unsigned char d = (unsigned char)(lg != lw);
	for (size_t i = 0; i < lg; i++)
		d |= (unsigned char)(given[i] ^ want[lw ? i % lw : 0]);
	return d == 0;
}
