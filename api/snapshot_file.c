// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshot records in memory and on disk: the Snapshot JSON the API answers
 * with, and <state-dir>/snapshots.json ({"version": 1, "snapshots": [...]},
 * times in microseconds), replaced atomically (lib/file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "snapshot_int.h"

#define SNAPSHOTS_FILE_MAX (16u << 20)

struct snap *snapshot_add(struct snapshots *ss)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 16;
		struct snap **v = realloc(ss->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ss->v = v;
		ss->cap = cap;
	}
	struct snap *sn = calloc(1, sizeof(*sn));
	if (sn)
		ss->v[ss->n++] = sn;
	return sn;
}

void snapshot_free(struct snap *sn)
{
	if (sn)
		free(sn->name);
	free(sn);
}

void snapshots_clear(struct snapshots *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		snapshot_free(ss->v[i]);
	free(ss->v);
	ss->v = NULL;
	ss->n = ss->cap = 0;
}

int snapshot_json(const struct snap *sn, struct buf *o)
{
	char t[APIVAL_TIME_LEN];
	int r = buf_puts(o, "{\"id\":");
	r = r ? r : json_buf_cstr(o, sn->id, 0);
	r = r ? r : buf_puts(o, ",\"sandboxId\":");
	r = r ? r : json_buf_cstr(o, sn->sandbox_id, 0);
	if (sn->name) {
		r = r ? r : buf_puts(o, ",\"name\":");
		r = r ? r : json_buf_cstr(o, sn->name, 0);
	}
	r = r ? r : buf_puts(o, ",");
	r = r ? r
	      : reply_status_json(o, snapshot_state_name(sn->state), sn->reason, sn->message,
				  sn->transition_us);
	apival_time_format(sn->created_us, t);
	r = r ? r : buf_printf(o, ",\"createdAt\":\"%s\"}", t);
	return r;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A time in microseconds, from 1970 to the end of year 9999 (else 0: unknown). */
static int64_t when(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 253402300799e6))
		return 0;
	return (int64_t)v->valuedouble;
}

/* What this server makes ids of: uuid text (hex digits and dashes). */
static bool id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n >= UUID_STR_LEN)
		return false;
	return strspn(s, "0123456789abcdef-") == n;
}

static enum snap_state state_parse(const char *s)
{
	for (int st = SNAP_CREATING; st <= SNAP_DELETING; st++)
		if (s && !strcmp(s, snapshot_state_name(st)))
			return st;
	return SNAP_FAILED;
}

/* One record of the file; entries without a usable id are skipped. */
static int load_one(struct snapshots *ss, const cJSON *o)
{
	const char *id = str(o, "id"), *sid = str(o, "sandboxId"), *name = str(o, "name");
	const char *image = str(o, "image");
	if (!id_ok(id) || !id_ok(sid)) {
		log_msg(LOG_WARN, NULL, "snapshots file: a record without valid ids skipped", NULL);
		return 0;
	}
	for (size_t i = 0; i < ss->n; i++) {
		if (!strcmp(ss->v[i]->id, id)) {
			log_msg(LOG_WARN, NULL, "snapshots file: a second record of one id skipped",
				"snapshot_id", id, NULL);
			return 0;
		}
	}
	struct snap *sn = snapshot_add(ss);
	if (!sn || (name && !(sn->name = strdup(name))))
		return -ENOMEM;
	snprintf(sn->id, sizeof(sn->id), "%s", id);
	snprintf(sn->sandbox_id, sizeof(sn->sandbox_id), "%s", sid);
	snprintf(sn->image, sizeof(sn->image), "%s", image ? image : "");
	sn->state = state_parse(str(o, "state"));
	sn->before_delete = state_parse(str(o, "beforeDelete"));
	snprintf(sn->reason, sizeof(sn->reason), "%s", str(o, "reason") ? str(o, "reason") : "");
	snprintf(sn->message, sizeof(sn->message), "%s",
		 str(o, "message") ? str(o, "message") : "");
	sn->created_us = when(o, "createdUs");
	sn->transition_us = when(o, "transitionUs");
	return 0;
}

int snapshots_load(struct snapshots *ss, struct err *e)
{
	struct buf b;
	buf_init(&b, SNAPSHOTS_FILE_MAX);
	int r = buf_read_file(&b, ss->path);
	if (r == -ENOENT) {
		buf_free(&b);
		return 0;
	}
	if (r < 0) {
		buf_free(&b);
		return err_set(e, -r, "%s: %s", ss->path, strerror(-r));
	}
	cJSON *root = json_parse(buf_head(&b), b.len, e);
	buf_free(&b);
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(root, "snapshots");
	if (!root || !cJSON_IsArray(all)) {
		cJSON_Delete(root);
		return err_set(e, EINVAL, "%s: not a snapshots file (move it away to start afresh)",
			       ss->path);
	}
	const cJSON *o;
	r = 0;
	int past = 0; /* a hand-made file: no more records than the server itself keeps */
	cJSON_ArrayForEach(o, all)
	{
		if (r != 0 || !cJSON_IsObject(o))
			continue;
		if (ss->n >= SNAPSHOT_MAX)
			past++;
		else
			r = load_one(ss, o);
	}
	cJSON_Delete(root);
	if (past) {
		char n[16];
		snprintf(n, sizeof(n), "%d", past);
		log_msg(LOG_WARN, NULL, "snapshots file: records past the limit skipped", "count",
			n, NULL);
	}
	return r < 0 ? err_set(e, -r, "%s: out of memory", ss->path) : 0;
}

int snapshots_save(const struct snapshots *ss, struct err *e)
{
	struct buf b;
	buf_init(&b, 0);
	int r = buf_puts(&b, "{\"version\":1,\"snapshots\":[");
	for (size_t i = 0; i < ss->n && !r; i++) {
		const struct snap *sn = ss->v[i];
		r = buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		r = r ? r : json_buf_cstr(&b, sn->id, 0);
		r = r ? r : buf_puts(&b, ",\"sandboxId\":");
		r = r ? r : json_buf_cstr(&b, sn->sandbox_id, 0);
		if (sn->name) {
			r = r ? r : buf_puts(&b, ",\"name\":");
			r = r ? r : json_buf_cstr(&b, sn->name, 0);
		}
		r = r ? r : buf_puts(&b, ",\"image\":");
		r = r ? r : json_buf_cstr(&b, sn->image, 0);
		r = r ? r
		      : buf_printf(&b, ",\"state\":\"%s\",\"beforeDelete\":\"%s\",\"reason\":",
				   snapshot_state_name(sn->state),
				   snapshot_state_name(sn->before_delete));
		r = r ? r : json_buf_cstr(&b, sn->reason, 0);
		r = r ? r : buf_puts(&b, ",\"message\":");
		r = r ? r : json_buf_cstr(&b, sn->message, 0);
		r = r ? r
		      : buf_printf(&b, ",\"createdUs\":%lld,\"transitionUs\":%lld}",
				   (long long)sn->created_us, (long long)sn->transition_us);
	}
	r = r ? r : buf_puts(&b, "]}\n");
	if (r == 0 && (r = file_write_atomic(ss->path, buf_head(&b), b.len, 0600)) < 0)
		err_set(e, -r, "%s: %s", ss->path, strerror(-r));
	else if (r < 0)
		err_set(e, -r, "out of memory");
	buf_free(&b);
	return r;
}
