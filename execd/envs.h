/* SPDX-License-Identifier: Apache-2.0 */
/*
 * envs: the environment of a command: execd's own environment, overlaid by
 * the KEY=VALUE file named by EXECD_ENVS (re-read on every call; blank and
 * '#' lines skipped, lines without '=' skipped, values $VAR-expanded), then
 * by the request's "envs" object. Later layers win per key.
 */
#ifndef EXECD_ENVS_H
#define EXECD_ENVS_H

#include <cJSON.h>

/* Limits on what a request may add. */
#define ENVS_MAX_VARS 4096
#define ENVS_FILE_MAX (1024 * 1024)

/* A NULL-terminated, malloc'd environment; NULL on ENOMEM or bad input (msg set). */
char **envs_build(const char *file, const cJSON *overlay, const char **msg);
void envs_free(char **env);

#endif
