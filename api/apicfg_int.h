/* SPDX-License-Identifier: Apache-2.0 */
/* apicfg_int: the option table, shared by apicfg.c (flags, env) and apicfg_file.c. */
#ifndef API_APICFG_INT_H
#define API_APICFG_INT_H

#include <stddef.h>

#include "apicfg.h"

enum opt_kind { OPT_STR, OPT_INT, OPT_DOUBLE, OPT_BOOL };

struct opt {
	const char *flag; /* --flag */
	const char *env;  /* environment variable, or NULL */
	const char *key;  /* "section.key" in the JSON file */
	enum opt_kind kind;
	size_t off;
	const char *def;
	const char *help;
};

extern const struct opt apicfg_opts[];
extern const size_t apicfg_nopts;

/* Sets o from the text v (src names where it came from, for errors). 0 or -EINVAL. */
int apicfg_set(struct apicfg *cfg, const struct opt *o, const char *v, const char *src,
	       struct err *e);
/* Applies a config file (JSON or TOML). 0 or -errno with e set. */
int apicfg_load_file(struct apicfg *cfg, const char *path, struct err *e);

#endif
