// SPDX-License-Identifier: Apache-2.0
/*
 * The Docker runtime (runtime.h): its table, and the calls short enough to
 * live together: delete, pause and resume, renew, metadata, endpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "runtime_docker.h"
#include "store.h"

struct rm_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN];
	char cid[DOCKER_ID_LEN];
	char *vols;
	bool drop_record;
	int result;
	struct err e;
};

static void remove_volumes(struct docker *d, const char *vols, struct err *e)
{
	cJSON *arr = vols ? cJSON_Parse(vols) : NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			continue;
		char target[400];
		snprintf(target, sizeof(target), "/volumes/%s", it->valuestring);
		cJSON *v = NULL;
		if (docker_json(d, "GET", target, NULL, &v, e) < 0)
			continue;
		const cJSON *l =
			cJSON_GetObjectItem(cJSON_GetObjectItem(v, "Labels"), LBL_MANAGED_VOLS);
		if (cJSON_IsString(l) && strcmp(l->valuestring, "server") == 0)
			docker_json(d, "DELETE", target, NULL, NULL, e);
		cJSON_Delete(v);
	}
	cJSON_Delete(arr);
}

static void rm_work(void *arg)
{
	struct rm_job *j = arg;
	struct docker *d = &j->srv->docker;
	struct err e2 = {0};
	int r = 0;
	if (j->cid[0]) {
		r = docker_action(d, j->cid, "kill", &e2);
		if (r == -EHOSTUNREACH) {
			j->result = r;
			j->e = e2;
			return;
		}
		r = docker_remove(d, j->cid, &j->e);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0) {
		/* Anything else labelled with the id (an interrupted create), and the sidecar. */
		char label[128];
		snprintf(label, sizeof(label), "%s=%s", LBL_ID, j->id);
		int n = docker_remove_by_label(d, label, &j->e);
		if (n < 0 && n != -ENOENT)
			r = n;
		snprintf(label, sizeof(label), "%s=%s", LBL_SIDECAR_FOR, j->id);
		n = docker_remove_by_label(d, label, &e2);
		if (n < 0 && r == 0)
			r = n, j->e = e2;
	}
	if (r == 0)
		remove_volumes(d, j->vols, &e2);
	j->result = r;
}

static void rm_done(void *arg)
{
	struct rm_job *j = arg;
	struct sbx *s = store_find(j->srv->store, j->id);
	if (j->result < 0) {
		if (s)
			s->deleting = false;
		log_msg(LOG_ERROR, NULL, "sandbox removal failed", "sandbox_id", j->id, "error",
			j->e.msg, NULL);
		if (j->reply) {
			int st = runtime_docker_status(j->result, 500);
			reply_error(j->reply, st,
				    st == 503 ? "DOCKER::INITIALIZATION_ERROR"
					      : "DOCKER::SANDBOX_DELETE_FAILED",
				    "%s", j->e.msg);
		}
	} else {
		if (s && j->drop_record)
			store_remove(j->srv->store, s);
		if (j->reply)
			reply_empty(j->reply, 204);
		log_msg(LOG_INFO, NULL, "sandbox removed", "sandbox_id", j->id, NULL);
	}
	free(j->vols);
	free(j);
}

void runtime_docker_remove_containers(struct apisrv *srv, const char *id, const char *cid,
				      const char *managed_vols, struct reply *r, bool drop_record)
{
	struct rm_job *j = calloc(1, sizeof(*j));
	if (!j) {
		if (r)
			reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	j->srv = srv;
	j->reply = r;
	j->drop_record = drop_record;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->cid, sizeof(j->cid), "%s", cid ? cid : "");
	j->vols = managed_vols ? strdup(managed_vols) : NULL;
	if (jobs_submit(srv->jobs, rm_work, rm_done, j) < 0) {
		free(j->vols);
		free(j);
		if (r)
			reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
	}
}

/* Removes s: a create still running is left to clean up after itself. */
static void docker_remove_sandbox(struct apisrv *srv, struct sbx *s, struct reply *r)
{
	if (s->provisioning) {
		/* The provisioning job removes what it made when it ends. */
		s->doomed = true;
		store_dirty(srv->store);
		if (r)
			reply_empty(r, 204);
		return;
	}
	if (s->deleting) {
		if (r)
			reply_empty(r, 204);
		return;
	}
	s->deleting = true;
	runtime_docker_remove_containers(srv, s->id, s->cid, s->managed_vols, r, true);
}

struct pause_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN], cid[DOCKER_ID_LEN];
	bool resume;
	int result;
	struct err e;
};

static void pause_work(void *arg)
{
	struct pause_job *j = arg;
	j->result = docker_action(&j->srv->docker, j->cid, j->resume ? "unpause" : "pause", &j->e);
}

static void pause_done(void *arg)
{
	struct pause_job *j = arg;
	struct sbx *s = store_find(j->srv->store, j->id);
	if (j->result < 0) {
		int st = j->result == -ENOENT ? 404 : j->result == -EBUSY ? 409 : 500;
		st = runtime_docker_status(j->result, st);
		const char *code = st == 404   ? "DOCKER::SANDBOX_NOT_FOUND"
				   : st == 503 ? "DOCKER::INITIALIZATION_ERROR"
				   : st == 409 ? (j->resume ? "DOCKER::SANDBOX_NOT_PAUSED"
							    : "DOCKER::SANDBOX_NOT_RUNNING")
				   : j->resume ? "DOCKER::SANDBOX_RESUME_FAILED"
					       : "DOCKER::SANDBOX_PAUSE_FAILED";
		reply_error(j->reply, st, code, "%s", j->e.msg);
	} else {
		if (s && j->resume)
			sandbox_set_state(s, SBX_RUNNING, "CONTAINER_RUNNING",
					  "Sandbox container is running.");
		else if (s)
			sandbox_set_state(s, SBX_PAUSED, "CONTAINER_PAUSED",
					  "Sandbox container is paused.");
		reply_empty(j->reply, 202);
	}
	free(j);
}

static void docker_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r)
{
	/* Pending too: the SDK's own readiness ping can succeed before our readiness
	 * check marks the sandbox Running; Docker refuses a container that is not running. */
	if (!resume && (s->provisioning || (s->state != SBX_RUNNING && s->state != SBX_PENDING))) {
		reply_error(r, 409, "DOCKER::SANDBOX_NOT_RUNNING",
			    "Sandbox %s is not running (state %s).", s->id,
			    sandbox_state_name(s->state));
		return;
	}
	if (s->committing) { /* Docker has it paused for the commit and unpauses it after */
		reply_error(
			r, 409,
			resume ? "DOCKER::SANDBOX_NOT_PAUSED" : "DOCKER::SANDBOX_NOT_RUNNING",
			"Sandbox %s is being snapshotted; try again when the snapshot is Ready.",
			s->id);
		return;
	}
	if (resume && s->state != SBX_PAUSED) {
		reply_error(r, 409, "DOCKER::SANDBOX_NOT_PAUSED",
			    "Sandbox %s is not paused (state %s).", s->id,
			    sandbox_state_name(s->state));
		return;
	}
	struct pause_job *j = calloc(1, sizeof(*j));
	if (!j) {
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	j->srv = srv;
	j->reply = r;
	j->resume = resume;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	snprintf(j->cid, sizeof(j->cid), "%s", s->cid);
	if (jobs_submit(srv->jobs, pause_work, pause_done, j) < 0) {
		free(j);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
	}
}

/* Docker labels cannot change: expiry and metadata live in the state file. */
static void docker_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us, struct reply *r)
{
	s->expires_us = expires_us;
	sandbox_arm_expiry(srv, s);
	store_dirty(srv->store);
	if (r)
		sandbox_reply_expires(r, expires_us);
}

static void docker_patch_metadata(struct apisrv *srv, struct sbx *s, const cJSON *patch,
				  struct reply *r)
{
	sandbox_metadata_apply(s, patch);
	store_dirty(srv->store);
	sandbox_reply(r, s, 200);
}

/* Published host ports: 8080 directly, anything else through execd's /proxy/{port}. */
static int docker_endpoint(struct apisrv *srv, const struct sbx *s, unsigned port, char *ep,
			   size_t cap, bool *via_execd, struct apival_err *ae)
{
	if (s->host_mode) {
		*via_execd = port == EXECD_PORT;
		snprintf(ep, cap, "%s:%u", srv->endpoint_host, port);
	} else if (port == HTTP_APP_PORT) {
		*via_execd = false;
		if (!s->port_http)
			return apival_fail(ae, 500, "DOCKER::NETWORK_MODE_ENDPOINT_UNAVAILABLE",
					   "Missing host port mapping for container port 8080.");
		snprintf(ep, cap, "%s:%u", srv->endpoint_host, s->port_http);
	} else {
		if (!s->port_execd)
			return apival_fail(ae, 500, "DOCKER::NETWORK_MODE_ENDPOINT_UNAVAILABLE",
					   "Missing host port mapping for execd proxy port 44772.");
		*via_execd = true;
		snprintf(ep, cap, "%s:%u/proxy/%u", srv->endpoint_host, s->port_execd, port);
	}
	return 0;
}

static int docker_init_runtime(struct apisrv *srv, const char *argv0, struct err *e)
{
	int r = docker_init(&srv->docker, srv->cfg.docker_host,
			    (uint32_t)srv->cfg.docker_timeout * 1000, e);
	return r < 0 ? r : runtime_docker_inject_init(srv, argv0, e);
}

int runtime_docker_status(int r, int fallback)
{
	return r == -EHOSTUNREACH ? 503 : r == -ETIMEDOUT ? 504 : fallback;
}

const struct runtime runtime_docker = {
	.name = "docker",
	.code_not_found = "DOCKER::SANDBOX_NOT_FOUND",
	.code_invalid_port = "DOCKER::INVALID_PORT",
	.init = docker_init_runtime,
	.start = runtime_docker_start,
	.stop = runtime_docker_stop,
	.create = runtime_docker_create,
	.remove = docker_remove_sandbox,
	.pause = docker_pause,
	.renew = docker_renew,
	.patch_metadata = docker_patch_metadata,
	.endpoint = docker_endpoint,
	.diagnostics = runtime_docker_diagnostics,
	.snapshots = &runtime_docker_snapshots,
	.failed = runtime_docker_failed_logs,
};
