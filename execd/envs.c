// SPDX-License-Identifier: Apache-2.0
#include "envs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "paths.h"

extern char **environ;

struct env {
	char **v;
	size_t n, cap;
};

/* Sets KEY=VALUE (kv is taken over), replacing an existing KEY. */
static int env_put(struct env *e, char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (!v) {
			free(kv);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
	return 0;
}

static char *join(const char *k, size_t klen, const char *v)
{
	size_t vlen = strlen(v);
	char *s = malloc(klen + vlen + 2);
	if (!s)
		return NULL;
	memcpy(s, k, klen);
	s[klen] = '=';
	memcpy(s + klen + 1, v, vlen + 1);
	return s;
}

static int read_file(struct env *e, const char *path)
{
	char *expanded = paths_expand_value(path);
	FILE *f = expanded ? fopen(expanded, "re") : NULL;
	free(expanded);
	if (!f)
		return 0; /* a missing file just adds nothing */
	char line[8192];
	size_t total = 0;
	int r = 0;
	while (!r && fgets(line, sizeof(line), f) && total < ENVS_FILE_MAX) {
		total += strlen(line);
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq || eq == p) {
			log_msg(LOG_WARN, NULL, "EXECD_ENVS line without '=' skipped", NULL);
			continue;
		}
		char *val = paths_expand_value(eq + 1);
		char *kv = val ? join(p, (size_t)(eq - p), val) : NULL;
		free(val);
		r = kv ? env_put(e, kv) : -1;
	}
	fclose(f);
	return r;
}

char **envs_build(const char *file, const cJSON *overlay, const char **msg)
{
	struct env e = {0};
	*msg = NULL;
	for (char **p = environ; p && *p; p++) {
		char *kv = strdup(*p);
		if (!kv || env_put(&e, kv) < 0)
			goto fail;
	}
	if (file && *file && read_file(&e, file) < 0)
		goto fail;
	if (overlay) {
		if (!cJSON_IsObject(overlay)) {
			*msg = "envs must be an object of strings";
			goto fail;
		}
		int count = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, overlay)
		{
			if (!cJSON_IsString(it) || !it->string || !it->string[0] ||
			    strchr(it->string, '=')) {
				*msg = "envs must map variable names to strings";
				goto fail;
			}
			if (++count > ENVS_MAX_VARS) {
				*msg = "too many envs";
				goto fail;
			}
			char *kv = join(it->string, strlen(it->string), it->valuestring);
			if (!kv || env_put(&e, kv) < 0)
				goto fail;
		}
	}
	if (!e.v && env_put(&e, strdup("PATH=/usr/local/bin:/usr/bin:/bin")) < 0)
		goto fail;
	return e.v;
fail:
	if (e.v)
		envs_free(e.v);
	if (!*msg)
		*msg = "out of memory";
	return NULL;
}

void envs_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}
