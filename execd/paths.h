/* SPDX-License-Identifier: Apache-2.0 */
/*
 * paths: the path rules of every execd API. "$VAR" and "${VAR}" are expanded
 * from execd's environment (an undefined variable is an error; shell-special
 * "$1", "$*"... expand to nothing), a leading "~" or "~/" becomes $HOME.
 * paths_abs() then makes the result absolute against execd's cwd and cleans
 * it ("." and ".." and repeated slashes resolved lexically).
 */
#ifndef EXECD_PATHS_H
#define EXECD_PATHS_H

#include <stddef.h>

#include "err.h"

#define PATHS_MAX 4096

/* Expands in into out (PATHS_MAX bytes). 0 or -errno with e set
 * ("path references undefined environment variables: A,B"). */
int paths_expand(const char *in, char *out, struct err *e);
/* Expands, makes absolute and cleans. 0 or -errno. */
int paths_abs(const char *in, char *out, struct err *e);
/* Lexical clean of an absolute or relative path, in place (Go's path.Clean). */
void paths_clean(char *p);
/* Expands $VAR references in a value against getenv (undefined: empty). Returns a malloc'd string.
 */
char *paths_expand_value(const char *in);

/* mkdir -p with mode for the directories it creates (masked by umask). 0 or -1 with errno. */
int paths_mkdir_all(const char *path, unsigned mode);

#endif
