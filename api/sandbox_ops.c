// SPDX-License-Identifier: Apache-2.0
/* Delete, expiry, renew, pause and resume. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "sandbox.h"
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
			int st = sandbox_docker_status(j->result, 500);
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

void sandbox_remove_containers(struct apisrv *srv, const char *id, const char *cid,
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

void sandbox_delete(struct apisrv *srv, struct sbx *s, struct reply *r)
{
	ev_timer_stop(srv->loop, &s->expiry);
	if (s->provisioning) {
		/* The provisioning job removes what it made when it ends. */
		s->doomed = true;
		store_dirty(srv->store);
		reply_empty(r, 204);
		return;
	}
	if (s->deleting) {
		reply_empty(r, 204);
		return;
	}
	s->deleting = true;
	sandbox_remove_containers(srv, s->id, s->cid, s->managed_vols, r, true);
}

void sandbox_expire(struct apisrv *srv, struct sbx *s)
{
	log_msg(LOG_INFO, NULL, "sandbox expired", "sandbox_id", s->id, NULL);
	ev_timer_stop(srv->loop, &s->expiry);
	if (s->provisioning) {
		s->doomed = true;
		return;
	}
	if (s->deleting)
		return;
	s->deleting = true;
	sandbox_remove_containers(srv, s->id, s->cid, s->managed_vols, NULL, true);
}

static void on_expiry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)t;
	struct sbx *s = arg;
	if (!s->expires_us)
		return;
	int64_t left = s->expires_us - apival_now_us();
	if (left > 0) { /* renewed, or the clock moved: wait again */
		ev_timer_start(loop, &s->expiry, (uint64_t)(left / 1000) + 1);
		return;
	}
	sandbox_expire(s->srv, s);
}

void sandbox_arm_expiry(struct apisrv *srv, struct sbx *s)
{
	ev_timer_stop(srv->loop, &s->expiry);
	if (!s->expires_us || s->doomed)
		return;
	int64_t left = s->expires_us - apival_now_us();
	s->expiry.cb = on_expiry;
	s->expiry.arg = s;
	/* Timers are a convenience; the periodic sweep enforces expiry too. */
	ev_timer_start(srv->loop, &s->expiry, left > 0 ? (uint64_t)(left / 1000) + 1 : 0);
}

void sandbox_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us)
{
	s->expires_us = expires_us;
	sandbox_arm_expiry(srv, s);
	store_dirty(srv->store);
}

void sandbox_accessed(struct apisrv *srv, struct sbx *s)
{
	if (!s->renew_extend || !s->expires_us || s->state != SBX_RUNNING || s->deleting)
		return;
	uint64_t now_ms = ev_now(srv->loop);
	uint64_t gap =
		(uint64_t)(srv->cfg.renew_min_interval > 0 ? srv->cfg.renew_min_interval : 0) *
		1000;
	if (s->renewed_ms && now_ms - s->renewed_ms < gap)
		return;
	s->renewed_ms = now_ms;
	int64_t want = apival_now_us() + s->renew_extend * 1000000;
	if (want > s->expires_us) {
		sandbox_renew(srv, s, want);
		char extend[24];
		snprintf(extend, sizeof(extend), "%lld", (long long)s->renew_extend);
		log_msg(LOG_INFO, NULL, "sandbox renewed on access", "sandbox_id", s->id,
			"extend_seconds", extend, NULL);
	}
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
		st = sandbox_docker_status(j->result, st);
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

void sandbox_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r)
{
	/* Pending too: the SDK's own readiness ping can succeed before our readiness
	 * check marks the sandbox Running; Docker refuses a container that is not running. */
	if (!resume && (s->provisioning || (s->state != SBX_RUNNING && s->state != SBX_PENDING))) {
		reply_error(r, 409, "DOCKER::SANDBOX_NOT_RUNNING",
			    "Sandbox %s is not running (state %s).", s->id,
			    sandbox_state_name(s->state));
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
