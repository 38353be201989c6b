// SPDX-License-Identifier: Apache-2.0
/* The snapshot API (the OpenSandbox snapshot API): request parsing and listing; the records
 * and their state machine are snapshot.c's. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "json.h"
#include "reply.h"
#include "routes.h"
#include "runtime.h"
#include "snapshot.h"

/* Whether the runtime has snapshots; else answers 501. */
static bool supported(struct apisrv *srv, struct reply *r)
{
	if (srv->snaps)
		return true;
	reply_error(r, 501, "SNAPSHOT::NOT_IMPLEMENTED",
		    "Snapshots are not supported by the %s runtime.", srv->rt->name);
	return false;
}

/* The optional body {"name": "..."}: 0 with *name (NULL: none), or -1 after answering. */
static int parse_name(struct http_req *req, struct reply *r, cJSON **root, const char **name)
{
	struct err e = {0};
	*root = NULL;
	*name = NULL;
	if (!req->body_len)
		return 0;
	if (!(*root = json_parse(req->body, req->body_len, &e))) {
		reply_error(r, 400, "INVALID_REQUEST_BODY", "request body: %s", e.msg);
		return -1;
	}
	if (!cJSON_IsObject(*root)) {
		reply_error(r, 422, "VALIDATION_ERROR", "request body: must be a JSON object");
		return -1;
	}
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(*root, "name");
	if (!n || cJSON_IsNull(n))
		return 0;
	size_t at, len = cJSON_IsString(n) ? strlen(n->valuestring) : 0;
	if (!len || len > SNAPSHOT_NAME_MAX || cfg_text_check(n->valuestring, len, &at) ||
	    strcspn(n->valuestring, "\t\r\n") != len) {
		reply_error(r, 422, "VALIDATION_ERROR",
			    "name: must be UTF-8 text of 1 to %d bytes, without control characters",
			    SNAPSHOT_NAME_MAX);
		return -1;
	}
	*name = n->valuestring;
	return 0;
}

void routes_snapshot_create(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "snapshot_create");
	struct sbx *s = r && supported(srv, r) ? routes_sandbox(srv, req, r) : NULL;
	if (!s)
		return;
	cJSON *root;
	const char *name;
	if (parse_name(req, r, &root, &name) == 0)
		snapshot_create(srv, s, name, r);
	cJSON_Delete(root);
}

static int cmp_created_desc(const void *a, const void *b)
{
	const struct snap *x = *(void *const *)a, *y = *(void *const *)b;
	return apival_list_order(x->created_us, x->id, y->created_us, y->id);
}

static int list_item_json(const void *sn, struct buf *out)
{
	return snapshot_json(sn, out);
}

static bool matches(const struct snap *sn, const struct apival_list *q)
{
	if (q->sandbox_id[0] && strcmp(q->sandbox_id, sn->sandbox_id))
		return false;
	if (q->name[0] && (!sn->name || strcmp(q->name, sn->name)))
		return false;
	for (size_t i = 0; i < q->num_states; i++)
		if (!strcasecmp(q->states[i], snapshot_state_name(sn->state)))
			return true;
	return q->num_states == 0;
}

void routes_snapshot_list(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "snapshot_list");
	if (!r || !supported(srv, r))
		return;
	struct apival_list q;
	struct apival_err ae = {0};
	if (apival_list_parse(req->query, &q, &ae) < 0) {
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		return;
	}
	size_t n = snapshot_count(srv), m = 0;
	void **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		apival_list_free(&q);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (matches(snapshot_at(srv, i), &q))
			v[m++] = snapshot_at(srv, i);
	struct buf out;
	buf_init(&out, 0);
	int rc = apival_list_page(&q, v, m, cmp_created_desc, list_item_json, &out);
	free(v);
	apival_list_free(&q);
	if (rc) {
		buf_free(&out);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	reply_json(r, 200, &out);
}

void routes_snapshot_get(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "snapshot_get");
	if (!r || !supported(srv, r))
		return;
	const char *id = http_req_param(req, "sid");
	const struct snap *sn = id ? snapshot_find(srv, id) : NULL;
	if (!sn) {
		reply_error(r, 404, "SNAPSHOT::NOT_FOUND", "Snapshot %.64s not found.",
			    id ? id : "");
		return;
	}
	snapshot_reply(r, sn, 200, NULL, NULL);
}

void routes_snapshot_delete(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "snapshot_delete");
	if (!r || !supported(srv, r))
		return;
	const char *id = http_req_param(req, "sid");
	snapshot_delete(srv, id ? id : "", r);
}
