// SPDX-License-Identifier: Apache-2.0
/*
 * Legacy text diagnostics on Kubernetes (the OpenSandbox diagnostics API): the log of the
 * sandbox container (pods/log) and the events of its pod, as text/plain with
 * "Deprecation: true", as upstream answers them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "runtime_k8s.h"

struct diag_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN];
	struct diag_query q;
	struct buf text;
	int result;
	struct err e;
};

/* The pod of the sandbox: its own name with plain pods, else found by label. */
static int pod_name(struct diag_job *j, char *out, size_t cap)
{
	struct apisrv *srv = j->srv;
	if (runtime_k8s_pods(srv)) {
		snprintf(out, cap, "%s", j->id);
		return 0;
	}
	char path[400];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s%%3D%s",
		 srv->cfg.k8s_namespace, LBL_ID, j->id);
	cJSON *list = NULL;
	int r = k8s_call(srv->k8s, "GET", path, NULL, NULL, &list, &j->e);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(list, "items"), 0),
			"metadata"),
		"name");
	if (r >= 0 && !cJSON_IsString(name))
		r = err_set(&j->e, ENOENT, "sandbox %s has no pod", j->id);
	if (r >= 0)
		snprintf(out, cap, "%s", name->valuestring);
	cJSON_Delete(list);
	return r;
}

static const char *field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int events_text(struct diag_job *j, const char *pod)
{
	struct apisrv *srv = j->srv;
	char path[500];
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%s",
		 srv->cfg.k8s_namespace, pod);
	cJSON *list = NULL;
	int r = k8s_call(srv->k8s, "GET", path, NULL, NULL, &list, &j->e);
	if (r < 0)
		return r;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items"), *it;
	long n = cJSON_GetArraySize(items), skip = n > j->q.limit ? n - j->q.limit : 0, i = 0;
	cJSON_ArrayForEach(it, items)
	{
		if (i++ < skip)
			continue;
		const char *t = field(it, "lastTimestamp");
		if (!*t)
			t = field(it, "eventTime");
		buf_printf(&j->text, "%s %s %s: %s\n", *t ? t : "-", field(it, "type"),
			   field(it, "reason"), field(it, "message"));
	}
	if (!j->text.len)
		buf_puts(&j->text, "(no events)\n");
	cJSON_Delete(list);
	return 0;
}

static void diag_work(void *arg)
{
	struct diag_job *j = arg;
	char pod[256], path[700];
	int r = pod_name(j, pod, sizeof(pod));
	if (r >= 0 && j->q.kind == DIAG_EVENTS) {
		r = events_text(j, pod);
	} else if (r >= 0) {
		int n = snprintf(
			path, sizeof(path),
			"/api/v1/namespaces/%s/pods/%s/log?container=sandbox&tailLines=%ld",
			j->srv->cfg.k8s_namespace, pod, j->q.tail);
		if (j->q.since_s)
			snprintf(path + n, sizeof(path) - (size_t)n, "&sinceSeconds=%ld",
				 j->q.since_s);
		r = k8s_call_text(j->srv->k8s, path, DIAG_TEXT_MAX, &j->text, &j->e);
		if (r >= 0 && !j->text.len)
			buf_puts(&j->text, "(no logs)\n");
	}
	j->result = r;
}

static void diag_done(void *arg)
{
	struct diag_job *j = arg;
	if (j->result < 0) {
		int st = runtime_k8s_status(j->result, 500);
		reply_error(j->reply, st,
			    st == 404 ? "KUBERNETES::SANDBOX_NOT_FOUND" : "KUBERNETES::API_ERROR",
			    "%s", j->e.msg);
		buf_free(&j->text);
	} else {
		diag_reply(j->reply, j->id, &j->q, &j->text);
	}
	free(j);
}

void runtime_k8s_diagnostics(struct apisrv *srv, struct sbx *s, const struct diag_query *q,
			     struct reply *r)
{
	if (q->kind != DIAG_LOGS && q->kind != DIAG_EVENTS) {
		reply_error(r, 501, "DIAGNOSTICS_NOT_IMPLEMENTED",
			    "Only logs and events are implemented on Kubernetes.");
		return;
	}
	struct diag_job *j = calloc(1, sizeof(*j));
	if (!j) {
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	j->srv = srv;
	j->reply = r;
	j->q = *q;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	buf_init(&j->text, DIAG_TEXT_MAX);
	if (jobs_submit(srv->jobs, diag_work, diag_done, j) < 0) {
		buf_free(&j->text);
		free(j);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
	}
}
