/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_env: the exported variables a bash session carries from one run to
 * the next. Parsed from `export -p` output (bash: declare -x NAME="v", with
 * backslash escapes; POSIX sh/busybox: export NAME='v'), written back as
 * `export NAME='v'` lines. Only valid names, values of at most
 * SESSION_ENV_VALUE_MAX bytes, at most SESSION_ENV_MAX variables, and never
 * PS1-PS4, PROMPT_COMMAND, SHLVL or _ (the shell's own).
 */
#ifndef EXECD_SESSION_ENV_H
#define EXECD_SESSION_ENV_H

#include <stddef.h>

#include "buf.h"

#define SESSION_ENV_VALUE_MAX (8 * 1024)
#define SESSION_ENV_MAX	      4096

struct session_env {
	char **names, **values; /* sorted by name */
	size_t n, cap;
	struct buf pending; /* a quoted value that spans lines */
};

/* Takes every valid variable of envp. 0 or -ENOMEM. */
int session_env_snapshot(struct session_env *e, char **envp);
/* Parses one line of `export -p` output into e. */
void session_env_parse_line(struct session_env *e, const char *line, size_t len);
/* Replaces dst's variables with src's (src is emptied). */
void session_env_move(struct session_env *dst, struct session_env *src);
/* Appends "export NAME='value'\n" for each variable. 0 or -errno. */
int session_env_export_script(const struct session_env *e, struct buf *b);
/* Appends s single-quoted for sh. 0 or -errno. */
int session_env_quote(struct buf *b, const char *s);
/* Sets one variable (copies). 0, -EINVAL (filtered out) or -ENOMEM. */
int session_env_set(struct session_env *e, const char *name, size_t nlen, const char *value,
		    size_t vlen);
void session_env_free(struct session_env *e);

#endif
