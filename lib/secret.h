/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret: comparing credentials (API keys, access tokens, signatures)
 * without telling an attacker, through timing, where a guess went wrong.
 */
#ifndef LIB_SECRET_H
#define LIB_SECRET_H

#include <stdbool.h>

/* Whether given equals want. The time taken depends on given's length only:
 * not on where they differ, nor on want's length. */
bool secret_equal(const char *given, const char *want);

#endif
