// SPDX-License-Identifier: Apache-2.0
/*
 * Keeping the store true to the cluster: one informer over this server's
 * workloads (BatchSandboxes or Pods labelled opensandbox.io/id); each object
 * seen is applied to its record (adopted if new), each one gone removes it.
 * Status follows upstream's mapping (docs/kubernetes.md).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "k8s_watch.h"
#include "log.h"
#include "runtime_k8s.h"
#include "store.h"

static const char *get_str(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Ids are UUIDs (this server makes them): anything else labelled so is not a
 * sandbox of ours, and would not even make a path or a URL. */
static bool id_ok(const char *id)
{
	for (int i = 0; i < UUID_STR_LEN - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !isxdigit((unsigned char)id[i]))
			return false;
	}
	return id[UUID_STR_LEN - 1] == '\0';
}

/* The sandbox's address, if v is an IP address (a name would be resolved,
 * blocking, where the proxy connects). */
static void set_ip(struct sbx *s, const char *v)
{
	unsigned char a[16];
	s->ip[0] = '\0';
	if (v && strlen(v) < sizeof(s->ip) &&
	    (inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1))
		snprintf(s->ip, sizeof(s->ip), "%s", v);
}

void runtime_k8s_path(const struct apisrv *srv, const char *name, char *out, size_t cap)
{
	if (runtime_k8s_pods(srv))
		snprintf(out, cap, "/api/v1/namespaces/%s/pods%s%s", srv->cfg.k8s_namespace,
			 name ? "/" : "", name ? name : "");
	else
		snprintf(out, cap, "/apis/%s/%s/namespaces/%s/batchsandboxes%s%s", K8S_BSBX_GROUP,
			 K8S_BSBX_VERSION, srv->cfg.k8s_namespace, name ? "/" : "",
			 name ? name : "");
}

/* The pod spec inside a workload. */
static const cJSON *pod_spec(const struct apisrv *srv, const cJSON *obj)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	if (runtime_k8s_pods(srv))
		return spec;
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "template"),
						"spec");
}

/* Image and entrypoint, from the sandbox container (its command after bootstrap.sh). */
static void adopt_container(struct sbx *s, const cJSON *spec)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(spec, "containers"), *c = NULL, *it;
	cJSON_ArrayForEach(it, cs)
	{
		const char *n = get_str(it, "name", NULL);
		if (n && !strcmp(n, "sandbox"))
			c = it;
	}
	if (!c)
		c = cJSON_GetArrayItem(cs, 0);
	const char *img = get_str(c, "image", NULL);
	free(s->image);
	s->image = strdup(img ? img : "unknown");
	cJSON *ep = cJSON_CreateArray();
	bool first = true;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "command"))
	{
		if (first && cJSON_IsString(it) && strstr(it->valuestring, "bootstrap.sh")) {
			first = false;
			continue;
		}
		first = false;
		if (cJSON_IsString(it))
			cJSON_AddItemToArray(ep, cJSON_CreateString(it->valuestring));
	}
	free(s->entrypoint);
	s->entrypoint = cJSON_PrintUnformatted(ep);
	cJSON_Delete(ep);
}

static void token_from(const cJSON *ann, const char *key, char out[48])
{
	const char *v = get_str(ann, key, NULL);
	snprintf(out, 48, "%s", v ? v : "");
}

/* What is fixed at creation: read when a record is adopted. */
static void adopt(struct apisrv *srv, struct sbx *s, const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	const char *ct = get_str(md, "creationTimestamp", NULL);
	int64_t us;
	if (ct && apival_time_parse(ct, &us) == 0)
		s->created_us = us;
	token_from(ann, LBL_EXECD_TOKEN, s->execd_token);
	token_from(ann, LBL_SECURE_TOKEN, s->secure_token);
	token_from(ann, LBL_EGRESS_TOKEN, s->egress_token);
	const char *v = get_str(ann, LBL_RENEW, NULL);
	s->renew_extend = v ? strtoll(v, NULL, 10) : 0;
	if (s->renew_extend < 300 || s->renew_extend > 86400) /* what a create may ask */
		s->renew_extend = 0;
	v = get_str(ann, LBL_OS, NULL);
	snprintf(s->plat_os, sizeof(s->plat_os), "%s", v ? v : "");
	v = get_str(ann, LBL_ARCH, NULL);
	snprintf(s->plat_arch, sizeof(s->plat_arch), "%s", v ? v : "");
	adopt_container(s, pod_spec(srv, obj));
	s->transition_us = s->created_us;
	log_msg(LOG_INFO, NULL, "sandbox adopted", "sandbox_id", s->id, NULL);
}

/* User metadata: the labels outside opensandbox.io/. */
static void metadata_from(struct sbx *s, const cJSON *labels)
{
	cJSON *m = cJSON_CreateObject();
	const cJSON *it;
	cJSON_ArrayForEach(it, labels)
	{
		if (cJSON_IsString(it) && strncmp(it->string, "opensandbox.io/", 15) != 0)
			cJSON_AddStringToObject(m, it->string, it->valuestring);
	}
	cJSON_Delete(s->metadata);
	s->metadata = m;
}

static const cJSON *condition(const cJSON *status, const char *type)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(status, "conditions"))
	{
		const char *t = get_str(it, "type", NULL);
		if (t && !strcmp(t, type))
			return it;
	}
	return NULL;
}

static bool condition_true(const cJSON *status, const char *type)
{
	const char *v = get_str(condition(status, type), "status", NULL);
	return v && !strcmp(v, "True");
}

/* BatchSandbox status (4.8): the controller's phase first. */
static void state_of_bsbx(struct sbx *s, const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	const char *eps = get_str(md, "annotations", K8S_ENDPOINTS_ANN);
	s->ip[0] = '\0';
	if (eps) {
		cJSON *arr = cJSON_Parse(eps);
		const cJSON *ip = cJSON_GetArrayItem(arr, 0);
		set_ip(s, cJSON_IsString(ip) ? ip->valuestring : NULL);
		cJSON_Delete(arr);
	}
	const char *phase = get_str(st, "phase", NULL);
	snprintf(s->phase, sizeof(s->phase), "%s", phase ? phase : "");
	s->pause_failed = condition_true(st, "PauseFailed");
	s->resume_failed = condition_true(st, "ResumeFailed");
	const cJSON *ready = cJSON_GetObjectItemCaseSensitive(st, "ready");
	if (!phase || !*phase) {
		if (cJSON_IsNumber(ready) && ready->valueint >= 1 && s->ip[0])
			sandbox_set_state(s, SBX_RUNNING, "RUNNING", "Sandbox is running.");
		else if (s->ip[0])
			sandbox_set_state(s, SBX_PENDING, "IP_ASSIGNED",
					  "Pod has an IP; waiting for it to be ready.");
		else
			sandbox_set_state(s, SBX_PENDING, "BATCHSANDBOX_PENDING",
					  "Waiting for the controller to create the pod.");
	} else if (!strcmp(phase, "Pending")) {
		sandbox_set_state(s, SBX_PENDING, "CREATING", "Sandbox is being created.");
	} else if (!strcmp(phase, "Succeed") || !strcmp(phase, "Running")) {
		/* The phase may run ahead of the endpoints annotation. */
		if (s->ip[0])
			sandbox_set_state(s, SBX_RUNNING, "RUNNING", "Sandbox is running.");
		else
			sandbox_set_state(s, SBX_PENDING, "POD_SCHEDULED",
					  "Waiting for the pod's address.");
	} else if (!strcmp(phase, "Pausing")) {
		sandbox_set_state(s, SBX_PAUSING, "PAUSING", "Sandbox is being paused.");
	} else if (!strcmp(phase, "Paused")) {
		sandbox_set_state(s, SBX_PAUSED, "PAUSED", "Sandbox is paused.");
	} else if (!strcmp(phase, "Resuming")) {
		sandbox_set_state(s, SBX_RESUMING, "RESUMING", "Sandbox is being resumed.");
	} else if (!strcmp(phase, "Failed")) {
		const char *msg = NULL;
		static const char *const kinds[] = {"PodFailed", "ResumeFailed", "PauseFailed"};
		for (size_t i = 0; !msg && i < 3; i++)
			if (condition_true(st, kinds[i]))
				msg = get_str(condition(st, kinds[i]), "message", NULL);
		sandbox_set_state(s, SBX_FAILED, "FAILED", msg ? msg : "Sandbox failed.");
	} else {
		sandbox_set_state(s, SBX_UNKNOWN, "UNKNOWN", phase);
	}
}

/* Why a pod failed: its message, else the first container that ended badly. */
static void failure_of(const cJSON *st, char *out, size_t cap)
{
	const char *msg = get_str(st, "message", NULL);
	if (msg) {
		snprintf(out, cap, "%s", msg);
		return;
	}
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(st, lists[i]))
		{
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(it, "state"), "terminated");
			const cJSON *code = cJSON_GetObjectItemCaseSensitive(t, "exitCode");
			if (!cJSON_IsNumber(code) || code->valueint == 0)
				continue;
			const char *r = get_str(t, "reason", NULL),
				   *m = get_str(t, "message", NULL);
			const char *n = get_str(it, "name", NULL);
			snprintf(out, cap, "container %s exited with code %d%s%s%s%s%s",
				 n ? n : "?", code->valueint, r ? " (" : "", r ? r : "",
				 r ? ")" : "", m ? ": " : "", m ? m : "");
			return;
		}
	}
	snprintf(out, cap, "Pod failed.");
}

/* Pod status: Running and Ready is Running. */
static void state_of_pod(struct sbx *s, const cJSON *obj)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	const char *phase = get_str(st, "phase", NULL);
	set_ip(s, get_str(st, "podIP", NULL));
	snprintf(s->phase, sizeof(s->phase), "%s", phase ? phase : "");
	const cJSON *sched = condition(st, "PodScheduled");
	const char *unsched = get_str(sched, "message", NULL);
	if ((!phase || !strcmp(phase, "Pending")) && !condition_true(st, "PodScheduled") &&
	    unsched) {
		char msg[400];
		snprintf(msg, sizeof(msg), "Pod cannot be scheduled: %s", unsched);
		sandbox_set_state(s, SBX_PENDING, "POD_UNSCHEDULABLE", msg);
	} else if (!phase || !strcmp(phase, "Pending")) {
		sandbox_set_state(s, SBX_PENDING, "POD_PENDING", "Pod is being created.");
	} else if (!strcmp(phase, "Running")) {
		if (condition_true(st, "Ready") && s->ip[0])
			sandbox_set_state(s, SBX_RUNNING, "RUNNING", "Sandbox is running.");
		else
			sandbox_set_state(s, SBX_PENDING, "POD_NOT_READY",
					  "Pod is running; waiting for it to be ready.");
	} else if (!strcmp(phase, "Succeeded")) {
		sandbox_set_state(s, SBX_TERMINATED, "POD_SUCCEEDED", "Pod exited with code 0.");
	} else if (!strcmp(phase, "Failed")) {
		char why[400];
		failure_of(st, why, sizeof(why));
		sandbox_set_state(s, SBX_FAILED, "POD_FAILED", why);
	} else {
		sandbox_set_state(s, SBX_UNKNOWN, "UNKNOWN", phase);
	}
}

static bool ours(const struct apisrv *srv, const cJSON *labels)
{
	const char *inst = get_str(labels, LBL_INSTANCE, NULL);
	return srv->cfg.instance[0] ? inst && !strcmp(inst, srv->cfg.instance) : !inst;
}

struct sbx *runtime_k8s_apply(struct apisrv *srv, const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	const char *id = get_str(labels, LBL_ID, NULL);
	if (!id || !id_ok(id) || !ours(srv, labels))
		return NULL;
	struct sbx *s = store_find(srv->store, id);
	if (s && s->unsure) { /* its create failed: the workload is not to be */
		if (!s->deleting)
			runtime_k8s_delete(srv, s);
		return NULL;
	}
	if (!s) {
		if (store_removed_since(srv->store, id, ev_clock_ms() - 5000))
			return NULL; /* an event that was on its way when we deleted it */
		if (!(s = store_add(srv->store, id)))
			return NULL;
		adopt(srv, s, obj);
	}
	metadata_from(s, labels);
	const char *exp = runtime_k8s_pods(srv)
				  ? get_str(md, "annotations", LBL_EXPIRES)
				  : get_str(cJSON_GetObjectItemCaseSensitive(obj, "spec"),
					    "expireTime", NULL);
	int64_t us = 0;
	s->expires_us = exp && apival_time_parse(exp, &us) == 0 ? us : 0;
	if (get_str(md, "deletionTimestamp", NULL))
		s->deleting = true;
	if (runtime_k8s_pods(srv)) {
		state_of_pod(s, obj);
		sandbox_arm_expiry(srv, s); /* ours to enforce */
	} else {
		state_of_bsbx(s, obj);
	}
	/* A create waits while Pending; a resume while Paused or Resuming. */
	bool waiting = s->resuming ? s->state == SBX_PAUSED || s->state == SBX_RESUMING ||
					     s->state == SBX_PENDING
				   : s->state == SBX_PENDING;
	if (s->create_reply && (!waiting || s->deleting))
		runtime_k8s_create_settled(srv, s);
	return s;
}

static void gone(struct apisrv *srv, struct sbx *s)
{
	if (s->provisioning || s->unsure)
		return; /* its create job decides, or its timer */
	s->deleting = true;
	if (s->create_reply)
		runtime_k8s_create_settled(srv, s);
	log_msg(LOG_INFO, NULL, "sandbox removed", "sandbox_id", s->id, NULL);
	store_remove(srv->store, s);
}

static void on_list(void *arg, const cJSON *items)
{
	struct apisrv *srv = arg;
	const cJSON *it;
	cJSON_ArrayForEach(it, items) runtime_k8s_apply(srv, it);
	/* Whatever the list no longer has is gone. */
	for (size_t i = store_count(srv->store); i-- > 0;) {
		struct sbx *s = store_at(srv->store, i);
		bool found = false;
		cJSON_ArrayForEach(it, items)
		{
			const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(it, "metadata"), "labels");
			const char *lid = get_str(labels, LBL_ID, NULL);
			if (lid && !strcmp(lid, s->id)) {
				found = true;
				break;
			}
		}
		if (!found)
			gone(srv, s);
	}
	/* The server owns pod expiry: the resync is its sweep. */
	if (runtime_k8s_pods(srv)) {
		int64_t now = apival_now_us();
		for (size_t i = store_count(srv->store); i-- > 0;) {
			struct sbx *s = store_at(srv->store, i);
			if (s->expires_us && s->expires_us <= now && !s->deleting)
				sandbox_expire(srv, s);
		}
	}
}

static void on_event(void *arg, const char *type, const cJSON *obj)
{
	struct apisrv *srv = arg;
	if (strcmp(type, "DELETED") != 0) {
		runtime_k8s_apply(srv, obj);
		return;
	}
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels");
	const char *id = get_str(labels, LBL_ID, NULL);
	struct sbx *s = id && ours(srv, labels) ? store_find(srv->store, id) : NULL;
	if (s)
		gone(srv, s);
}

int runtime_k8s_watch_start(struct apisrv *srv, struct err *e)
{
	char path[400], sel[300];
	runtime_k8s_path(srv, NULL, path, sizeof(path));
	if (srv->cfg.instance[0])
		snprintf(sel, sizeof(sel), "%s,%s=%s", LBL_ID, LBL_INSTANCE, srv->cfg.instance);
	else
		snprintf(sel, sizeof(sel), "%s,!%s", LBL_ID, LBL_INSTANCE);
	struct k8s_watch_config wc = {
		.path = path,
		.label_selector = sel,
		.watch_timeout_s = (uint32_t)srv->cfg.k8s_watch_timeout,
		.resync_s = (uint32_t)srv->cfg.k8s_resync,
	};
	struct k8s_watch_cbs cbs = {.on_list = on_list, .on_event = on_event};
	srv->k8s_watch = k8s_watch_start(srv->loop, srv->jobs, srv->k8s, &wc, &cbs, srv, e);
	return srv->k8s_watch ? 0 : -ENOMEM;
}
