// SPDX-License-Identifier: Apache-2.0
/*
 * The config file: the upstream server's TOML (~/.sandbox.toml) read as is,
 * or the same tree as JSON. Keys are the table's "section.key" paths; a few
 * upstream shapes are translated (arrays become comma lists, secure-access
 * keys KEYID:BASE64, resource tables JSON text; secure_runtime.type is
 * mapped to runtimes in apicfg.c, once flags and env are in). Keys this server does not use are
 * warned about, not refused.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apicfg_int.h"
#include "json.h"
#include "toml.h"

#define CONFIG_MAX (1u << 20)

/* Upstream keys read as another option of ours. */
static const struct {
	const char *from, *to;
} aliases[] = {
	{"secure_runtime.docker_runtime", "docker.runtime"},
};

/* Upstream keys with no meaning here (uvicorn tuning, file logging, stores). */
static const char *const ignored[] = {
	"server.timeout_keep_alive",
	"server.limit_concurrency",
	"server.backlog",
	"server.thread_pool_size",
	"server.loop",
	"server.http",
	"log.file_enabled",
	"log.file_path",
	"log.access_file_path",
	"log.file_max_bytes",
	"log.file_backup_count",
	"store.type",
	"store.path",
	"renew_intent.enabled",
	"renew_intent.redis",
	"agent_sandbox",
	"storage.ossfs_mount_root",
	"kubernetes.sandbox_create_poll_interval_seconds",
	"kubernetes.informer_enabled",
	"kubernetes.snapshot_create_timeout_seconds",
};

static void warn(struct apicfg *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct apicfg *cfg, const char *fmt, ...)
{
	char line[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t have = cfg->warnings ? strlen(cfg->warnings) : 0;
	char *n = realloc(cfg->warnings, have + strlen(line) + 2);
	if (!n)
		return;
	snprintf(n + have, strlen(line) + 2, "%s\n", line);
	cfg->warnings = n;
}

/* The node at a dotted path, or NULL. */
static const cJSON *at_path(const cJSON *root, const char *path)
{
	const cJSON *v = root;
	for (const char *k = path; v && *k;) {
		char part[64];
		size_t n = strcspn(k, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, k);
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, part) : NULL;
		k += n + (k[n] == '.');
	}
	return v;
}

/* An array as a comma list: strings as they are, {key_id, key} tables as KEYID:KEY. */
static char *comma_list(const cJSON *arr)
{
	size_t n = 1;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "key_id");
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
		if (cJSON_IsString(it))
			n += strlen(it->valuestring) + 1;
		else if (cJSON_IsString(id) && cJSON_IsString(key))
			n += strlen(id->valuestring) + strlen(key->valuestring) + 2;
	}
	char *list = calloc(1, n);
	if (!list)
		return NULL;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "key_id");
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
		if (!cJSON_IsString(it) && !(cJSON_IsString(id) && cJSON_IsString(key)))
			continue;
		if (*list)
			strcat(list, ",");
		if (cJSON_IsString(it)) {
			strcat(list, it->valuestring);
		} else {
			strcat(list, id->valuestring);
			strcat(list, ":");
			strcat(list, key->valuestring);
		}
	}
	return list;
}

static int apply(struct apicfg *cfg, const struct opt *o, const cJSON *v, const char *path,
		 struct err *e)
{
	char num[32], *owned = NULL;
	const char *val;
	if (cJSON_IsString(v)) {
		val = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		/* Shortest text that reads back as the same double: read_qps = 0.5 stays
		 * 0.5, and a fraction given to an integer option is refused, not rounded. */
		snprintf(num, sizeof(num), "%.15g", v->valuedouble);
		if (strtod(num, NULL) != v->valuedouble)
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		val = num;
	} else if (cJSON_IsBool(v)) {
		val = cJSON_IsTrue(v) ? "true" : "false";
	} else if (cJSON_IsArray(v)) {
		val = owned = comma_list(v);
	} else if (cJSON_IsObject(v) && o->kind == OPT_STR) {
		val = owned = cJSON_PrintUnformatted(v); /* a table kept as JSON text */
	} else {
		return err_set(e, EINVAL, "config %s: %s has an unsupported type", path, o->key);
	}
	if (!val)
		return err_set(e, ENOMEM, "out of memory");
	char src[300];
	snprintf(src, sizeof(src), "config %s", path);
	int r = apicfg_set(cfg, o, val, src, e);
	free(owned);
	return r;
}

static bool known(const char *key)
{
	for (size_t i = 0; i < apicfg_nopts; i++)
		if (!strcmp(apicfg_opts[i].key, key))
			return true;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].from, key))
			return true;
	return false;
}

static bool ignored_key(const char *key)
{
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		size_t n = strlen(ignored[i]);
		if (!strncmp(key, ignored[i], n) && (key[n] == '\0' || key[n] == '.'))
			return true;
	}
	return false;
}

/* Whether some option lives below key (a table on the way to one). */
static bool is_prefix(const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < apicfg_nopts; i++)
		if (!strncmp(apicfg_opts[i].key, key, n) && apicfg_opts[i].key[n] == '.')
			return true;
	return false;
}

/* Names every key of the file that no option reads. */
static void check_keys(struct apicfg *cfg, const cJSON *node, char *key, size_t len,
		       const char *path)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, node)
	{
		int n = snprintf(key + len, 256 - len, "%s%s", len ? "." : "", it->string);
		if (n < 0 || len + (size_t)n >= 256)
			continue;
		if (known(key))
			continue;
		if (ignored_key(key))
			warn(cfg, "config %s: %s is not used by this server (ignored)", path, key);
		else if (cJSON_IsObject(it) && is_prefix(key))
			check_keys(cfg, it, key, len + (size_t)n, path);
		else
			warn(cfg, "config %s: unknown key %s (ignored)", path, key);
		key[len] = '\0';
	}
	key[len] = '\0';
}

/* JSON starts with '{'; TOML never does (a key or a [table] comes first). */
static bool looks_json(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return text[i] == '{';
	return false;
}

int apicfg_load_file(struct apicfg *cfg, const char *path, struct err *e)
{
	struct buf text;
	buf_init(&text, CONFIG_MAX);
	int r = buf_read_file(&text, path);
	if (r < 0) {
		buf_free(&text);
		return err_set(e, -r, "config %s: %s", path,
			       r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	}
	struct err pe = {0};
	bool json = looks_json(buf_head(&text), text.len);
	cJSON *root = json ? json_parse(buf_head(&text), text.len, &pe)
			   : toml_parse(buf_head(&text), text.len, &pe);
	buf_free(&text);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return err_set(e, EINVAL, "config %s: %s", path,
			       pe.msg[0] ? pe.msg : "not a table");
	}
	for (size_t i = 0; !r && i < apicfg_nopts; i++) {
		const cJSON *v = at_path(root, apicfg_opts[i].key);
		if (v && !cJSON_IsNull(v))
			r = apply(cfg, &apicfg_opts[i], v, path, e);
	}
	for (size_t i = 0; !r && i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		const cJSON *v = at_path(root, aliases[i].from);
		for (size_t k = 0; !r && v && !cJSON_IsNull(v) && k < apicfg_nopts; k++)
			if (!strcmp(apicfg_opts[k].key, aliases[i].to))
				r = apply(cfg, &apicfg_opts[k], v, path, e);
	}
	if (!r) {
		char key[256] = "";
		check_keys(cfg, root, key, 0, path);
	}
	cJSON_Delete(root);
	return r;
}
