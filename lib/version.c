// SPDX-License-Identifier: Apache-2.0
#include "version.h"

#include <stdio.h>
#include <string.h>

#include "version_gen.h"

const char version_number[] = BUILD_VERSION;
const char version_commit[] = BUILD_COMMIT;
const char version_date[] = BUILD_DATE;

bool version_flag(const char *arg)
{
	return !strcmp(arg, "--version") || !strcmp(arg, "-V");
}

void version_print(const char *prog)
{
	printf("%s %s (commit %s, built %s)\n", prog, version_number, version_commit, version_date);
}
