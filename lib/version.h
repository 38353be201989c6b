/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version: what a binary says about its build for --version. The values are
 * the Makefile's (VERSION, the git commit, SOURCE_DATE_EPOCH), generated into
 * <build>/gen/version_gen.h, so two builds of one commit are identical.
 */
#ifndef LIB_VERSION_H
#define LIB_VERSION_H

#include <stdbool.h>

extern const char version_number[]; /* "0.1.0" */
extern const char version_commit[]; /* abbreviated hash, "-dirty" when the tree had changes */
extern const char version_date[];   /* UTC, ISO 8601 */

/* Whether arg asks for the version: --version or -V. */
bool version_flag(const char *arg);
/* Prints "<prog> <version> (commit <c>, built <date>)" on stdout. */
void version_print(const char *prog);

#endif
