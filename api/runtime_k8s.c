// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes runtime (runtime.h): every platform call is a job on a
 * worker (k8s.h calls block); the informer (runtime_k8s_sync.c) keeps the
 * store current, so a create waits on it, not on polling, for Running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "k8s_watch.h"
#include "log.h"
#include "runtime_k8s.h"
#include "stats.h"
#include "store.h"
#include "yaml.h"

#define MERGE_PATCH "application/merge-patch+json"

int runtime_k8s_status(int r, int fallback)
{
	switch (r) {
	case -ENOENT:
		return 404;
	case -EINVAL:
		return 400;
	case -EEXIST:
	case -EBUSY:
		return 409;
	case -EHOSTUNREACH: /* no answer at all: the cluster cannot be reached (upstream 4.1) */
		return 503;
	case -EREMOTEIO: /* the API server answered 5xx: upstream 4.3, "anything else" */
		return 500;
	default:
		return fallback;
	}
}

static const char *status_code(int status, const char *fallback)
{
	return status == 404   ? "KUBERNETES::SANDBOX_NOT_FOUND"
	       : status == 400 ? "SANDBOX::INVALID_PARAMETER"
	       : status == 503 ? "KUBERNETES::INITIALIZATION_ERROR"
			       : fallback;
}

/*
 * One job for every call: the request (method, path, body) made on a worker,
 * then then() on the loop with the result. The record is found again by id:
 * it may have gone meanwhile.
 */
struct call_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN];
	char path[600];
	const char *method;
	cJSON *body, *body2; /* body2: a second PATCH right after (retry bridge) */
	const char *ctype;
	cJSON *out;
	int result;
	struct err e;
	enum { ANSWER_SANDBOX, ANSWER_EXPIRES, ANSWER_ACCEPTED, ANSWER_RESUMED } answer;
	void (*then)(struct call_job *j, struct sbx *s);
};

static void call_work(void *arg)
{
	struct call_job *j = arg;
	j->result = k8s_call(j->srv->k8s, j->method, j->path, j->body, j->ctype, &j->out, &j->e);
	if (j->result >= 0 && j->body2) {
		cJSON_Delete(j->out);
		j->out = NULL;
		j->result = k8s_call(j->srv->k8s, j->method, j->path, j->body2, j->ctype, &j->out,
				     &j->e);
	}
}

static void call_done(void *arg)
{
	struct call_job *j = arg;
	struct sbx *s = store_find(j->srv->store, j->id);
	j->then(j, s);
	cJSON_Delete(j->body);
	cJSON_Delete(j->body2);
	cJSON_Delete(j->out);
	free(j);
}

static struct call_job *call_new(struct apisrv *srv, const struct sbx *s, struct reply *r,
				 const char *method)
{
	struct call_job *j = calloc(1, sizeof(*j));
	if (!j) {
		if (r)
			reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return NULL;
	}
	j->srv = srv;
	j->reply = r;
	j->method = method;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	runtime_k8s_path(srv, s->id, j->path, sizeof(j->path));
	return j;
}

static void call_submit(struct call_job *j)
{
	if (jobs_submit(j->srv->jobs, call_work, call_done, j) < 0) {
		if (j->reply)
			reply_error(j->reply, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		cJSON_Delete(j->body);
		cJSON_Delete(j->body2);
		free(j);
	}
}

/* A failed call's answer, if anyone waits for one. */
static void fail_reply(struct call_job *j, const char *fallback_code)
{
	if (!j->reply)
		return;
	int st = runtime_k8s_status(j->result, 500);
	reply_error(j->reply, st, status_code(st, fallback_code), "%s", j->e.msg);
}

/* --- delete ---------------------------------------------------------------- */

static void deleted(struct call_job *j, struct sbx *s)
{
	if (j->result < 0 && j->result != -ENOENT) {
		if (s)
			s->deleting = false;
		fail_reply(j, "KUBERNETES::API_ERROR");
		return;
	}
	if (s && s->unsure) { /* it lingers: the workload may still come */
		s->deleting = false;
		return;
	}
	if (s) {
		/* A resume that came while the delete ran waits on s: it ends here. */
		if (s->create_reply) {
			s->deleting = true;
			runtime_k8s_create_settled(j->srv, s);
		}
		store_remove(j->srv->store, s);
	}
	if (j->reply)
		reply_empty(j->reply, 204);
	log_msg(LOG_INFO, NULL, "sandbox deleted", "sandbox_id", j->id, NULL);
}

static void delete_workload(struct apisrv *srv, struct sbx *s, struct reply *r)
{
	struct call_job *j = call_new(srv, s, r, "DELETE");
	if (!j)
		return;
	strncat(j->path, "?gracePeriodSeconds=0", sizeof(j->path) - strlen(j->path) - 1);
	j->then = deleted;
	s->deleting = true;
	call_submit(j);
}

void runtime_k8s_delete(struct apisrv *srv, struct sbx *s)
{
	delete_workload(srv, s, NULL);
}

/* --- create ---------------------------------------------------------------- */

struct create_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN];
	struct apival_create req;
	cJSON *workload, *created;
	struct sbx snapshot; /* what the pull secret needs (id), copied on the loop */
	bool unsure;	     /* the POST failed with no answer: the API server may have it */
	int result, status;
	const char *code;
	struct err e;
};

static void create_job_free(struct create_job *j)
{
	apival_create_free(&j->req);
	cJSON_Delete(j->workload);
	cJSON_Delete(j->created);
	free(j);
}

/* PVCs asked to be created if missing (upstream 4.3 step 3). */
static int ensure_pvcs(struct create_job *j)
{
	struct apisrv *srv = j->srv;
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		const struct apival_volume *v = &j->req.volumes[i];
		if (v->kind != APIVAL_VOL_PVC || !v->create_if_missing)
			continue;
		char path[400];
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s",
			 srv->cfg.k8s_namespace, v->claim);
		int r = k8s_call(srv->k8s, "GET", path, NULL, NULL, NULL, &j->e);
		if (r == -EACCES)
			return 0; /* not allowed to look: leave PVCs to the operator */
		if (r >= 0)
			continue;
		if (r != -ENOENT)
			return r;
		cJSON *pvc = runtime_k8s_pvc(srv, v->claim);
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims",
			 srv->cfg.k8s_namespace);
		r = k8s_call(srv->k8s, "POST", path, pvc, NULL, NULL, &j->e);
		cJSON_Delete(pvc);
		if (r < 0 && r != -EEXIST)
			return err_wrap(&j->e, "volume %s", v->name);
	}
	return 0;
}

static void create_work(void *arg)
{
	struct create_job *j = arg;
	struct apisrv *srv = j->srv;
	char path[400];
	int r = ensure_pvcs(j);
	if (r < 0)
		goto fail;
	runtime_k8s_path(srv, NULL, path, sizeof(path));
	r = k8s_call(srv->k8s, "POST", path, j->workload, NULL, &j->created, &j->e);
	if (r < 0) {
		/* no answer, a 5xx, a 2xx that cannot be read: it may be applied */
		j->unsure = r == -EHOSTUNREACH || r == -EREMOTEIO || r == -EPROTO;
		goto fail;
	}
	if (j->req.auth_user) {
		const char *uid = NULL;
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j->created, "metadata"), "uid");
		if (cJSON_IsString(u))
			uid = u->valuestring;
		cJSON *sec = runtime_k8s_pull_secret(srv, &j->snapshot, &j->req, uid ? uid : "");
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets",
			 srv->cfg.k8s_namespace);
		r = sec ? k8s_call(srv->k8s, "POST", path, sec, NULL, NULL, &j->e) : -ENOMEM;
		cJSON_Delete(sec);
		if (r < 0) {
			/* No sandbox without its pull secret: take the workload back. */
			struct err e2 = {0};
			runtime_k8s_path(srv, j->id, path, sizeof(path));
			strncat(path, "?gracePeriodSeconds=0", sizeof(path) - strlen(path) - 1);
			k8s_call(srv->k8s, "DELETE", path, NULL, NULL, NULL, &e2);
			err_wrap(&j->e, "image pull secret");
			goto fail;
		}
	}
	j->result = 0;
	return;
fail:
	j->result = r;
	j->status = runtime_k8s_status(r, 500);
	j->code = status_code(j->status, "KUBERNETES::API_ERROR");
}

static void on_ready_deadline(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct sbx *s = arg;
	struct apisrv *srv = s->srv;
	if (!s->create_reply)
		return;
	if (s->resuming) {
		s->resuming = false;
		reply_error(s->create_reply, 504, "KUBERNETES::POD_READY_TIMEOUT",
			    "Sandbox %s did not resume within %lld s (state %s).", s->id,
			    (long long)srv->cfg.k8s_create_timeout, sandbox_state_name(s->state));
		s->create_reply = NULL;
		return;
	}
	char secs[24];
	snprintf(secs, sizeof(secs), "%lld", (long long)srv->cfg.k8s_create_timeout);
	reply_error(s->create_reply, 504, "KUBERNETES::POD_READY_TIMEOUT",
		    "Sandbox %s was not ready within %s s (state %s: %s); it is deleted.", s->id,
		    secs, sandbox_state_name(s->state), s->message);
	s->create_reply = NULL;
	delete_workload(srv, s, NULL);
}

void runtime_k8s_create_settled(struct apisrv *srv, struct sbx *s)
{
	struct reply *r = s->create_reply;
	s->create_reply = NULL;
	ev_timer_stop(srv->loop, &s->ready);
	if (!r)
		return;
	if (s->resuming) {
		s->resuming = false;
		if (s->state == SBX_RUNNING && !s->deleting)
			reply_empty(r, 202);
		else
			reply_error(r, 500, "KUBERNETES::API_ERROR",
				    "Sandbox %s did not resume (state %s): %s", s->id,
				    sandbox_state_name(s->state), s->message);
		return;
	}
	if (s->state == SBX_RUNNING && !s->deleting) {
		stats_create_latency(srv->stats,
				     (double)(ev_clock_ms() - s->create_started) / 1000.0);
		log_msg(LOG_INFO, NULL, "sandbox running", "sandbox_id", s->id, NULL);
		struct buf out;
		buf_init(&out, 0);
		sandbox_json(s, true, &out);
		reply_json(r, 202, &out);
		return;
	}
	if (s->deleting) {
		reply_error(r, 409, "SANDBOX::DELETED",
			    "Sandbox %s was deleted while it was created.", s->id);
		return;
	}
	/* Upstream deletes what failed to start. */
	reply_error(r, 500, "KUBERNETES::API_ERROR", "Sandbox %s failed to start (state %s): %s",
		    s->id, sandbox_state_name(s->state), s->message);
	delete_workload(srv, s, NULL);
}

/* Creates that may still leave a workload behind: in flight, or failed unanswered. */
static size_t unsure_count(struct apisrv *srv)
{
	size_t n = 0;
	for (size_t i = 0; i < store_count(srv->store); i++) {
		const struct sbx *s = store_at(srv->store, i);
		n += s->unsure || s->provisioning;
	}
	return n;
}

static void on_unsure_end(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct sbx *s = arg;
	if (!s->deleting)
		store_remove(s->srv->store, s);
	else /* its delete is on its way: look again later */
		ev_timer_start(s->srv->loop, &s->ready, 1000);
}

static void create_done(void *arg)
{
	struct create_job *j = arg;
	struct apisrv *srv = j->srv;
	struct sbx *s = store_find(srv->store, j->id);
	if (!s) { /* cannot happen: a provisioning record stays until its job ends */
		if (j->reply)
			reply_error(j->reply, 500, "GENERAL::UNKNOWN_ERROR", "sandbox record lost");
		create_job_free(j);
		return;
	}
	s->provisioning = false;
	if (j->result < 0) {
		log_msg(LOG_ERROR, NULL, "sandbox create failed", "sandbox_id", s->id, "error",
			j->e.msg, NULL);
		reply_error(j->reply, j->status, j->code, "%s", j->e.msg);
		if (j->unsure && !srv->stopping) {
			/* The POST may yet be applied (or was, its answer lost): the
			 * record lingers out of sight and deletes the workload if it
			 * shows (runtime_k8s_apply), so no sandbox lives that its
			 * client was told failed. */
			s->unsure = true;
			s->doomed = true;
			s->ready.cb = on_unsure_end;
			s->ready.arg = s;
			ev_timer_start(srv->loop, &s->ready, K8S_UNSURE_MS);
			delete_workload(srv, s, NULL);
		} else {
			store_remove(srv->store, s);
		}
		create_job_free(j);
		return;
	}
	if (s->doomed) { /* deleted while the job ran */
		reply_error(j->reply, 409, "SANDBOX::DELETED",
			    "Sandbox %s was deleted while it was created.", s->id);
		s->doomed = false;
		delete_workload(srv, s, NULL);
		create_job_free(j);
		return;
	}
	if (srv->stopping) { /* no loop is left to wait on: as k8s_stop answers */
		reply_error(j->reply, 503, "KUBERNETES::INITIALIZATION_ERROR",
			    "sandbox-api is shutting down; sandbox %s is still starting", s->id);
		create_job_free(j);
		return;
	}
	s->create_reply = j->reply;
	s->ready.cb = on_ready_deadline;
	s->ready.arg = s;
	ev_timer_start(srv->loop, &s->ready, (uint64_t)srv->cfg.k8s_create_timeout * 1000);
	/* What the POST returned; the watch brings the rest. */
	if (j->created)
		runtime_k8s_apply(srv, j->created);
	create_job_free(j);
}

static void k8s_create(struct apisrv *srv, struct sbx *s, struct apival_create *rq, struct reply *r)
{
	struct apival_err ae = {0};
	/* Each create in flight may fail with its answer lost and then linger to delete its
	 * workload if that shows (create_done): past the cap a new one is refused, so none
	 * goes untracked. s itself is provisioning already. */
	if (unsure_count(srv) > K8S_UNSURE_MAX) {
		store_remove(srv->store, s);
		reply_error(r, 503, "KUBERNETES::API_ERROR",
			    "%d creates are in flight or unanswered by the API server; try again "
			    "later",
			    K8S_UNSURE_MAX);
		apival_create_free(rq);
		return;
	}
	struct create_job *j = calloc(1, sizeof(*j));
	if (!j || !s->image || !s->entrypoint) {
		free(j);
		store_remove(srv->store, s);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		apival_create_free(rq);
		return;
	}
	snprintf(s->reason, sizeof(s->reason), "CREATING");
	snprintf(s->message, sizeof(s->message), "Sandbox is being created.");
	j->workload = runtime_k8s_workload(srv, s, rq, &ae);
	if (!j->workload) {
		free(j);
		store_remove(srv->store, s);
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		apival_create_free(rq);
		return;
	}
	j->srv = srv;
	j->reply = r;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	snprintf(j->snapshot.id, sizeof(j->snapshot.id), "%s", s->id);
	j->req = *rq;
	rq->root = NULL; /* the job owns the tree now */
	if (jobs_submit(srv->jobs, create_work, create_done, j) < 0) {
		store_remove(srv->store, s);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		create_job_free(j);
	}
}

/* --- delete, pause, renew, metadata ------------------------------------------ */

static void k8s_remove(struct apisrv *srv, struct sbx *s, struct reply *r)
{
	if (s->provisioning) {
		s->doomed = true; /* the create job's end deletes it */
		if (r)
			reply_empty(r, 204);
		return;
	}
	if (s->create_reply) {
		s->deleting = true;
		runtime_k8s_create_settled(srv, s);
	}
	delete_workload(srv, s, r);
}

static void patched(struct call_job *j, struct sbx *s)
{
	if (j->result < 0) {
		fail_reply(j, "KUBERNETES::API_ERROR");
		return;
	}
	if (j->out)
		s = runtime_k8s_apply(j->srv, j->out);
	if (!j->reply)
		return;
	if (!s) {
		reply_error(j->reply, 404, "KUBERNETES::SANDBOX_NOT_FOUND", "Sandbox %s not found.",
			    j->id);
		return;
	}
	if (j->answer == ANSWER_EXPIRES) {
		sandbox_reply_expires(j->reply, s->expires_us);
	} else if (j->answer == ANSWER_RESUMED && s->deleting) {
		/* Nothing would answer a wait on a record that goes. */
		reply_error(j->reply, 409, "KUBERNETES::INVALID_STATE",
			    "Sandbox %s is being deleted.", s->id);
	} else if (j->answer == ANSWER_RESUMED && j->srv->stopping) {
		reply_error(j->reply, 503, "KUBERNETES::INITIALIZATION_ERROR",
			    "sandbox-api is shutting down; sandbox %s is resuming", s->id);
	} else if (j->answer == ANSWER_RESUMED && !s->create_reply) {
		/* 202 once it runs again: the SDK connects to execd right after. */
		s->create_reply = j->reply;
		s->resuming = true;
		s->ready.cb = on_ready_deadline;
		s->ready.arg = s;
		ev_timer_start(j->srv->loop, &s->ready,
			       (uint64_t)j->srv->cfg.k8s_create_timeout * 1000);
		if (s->state == SBX_RUNNING && strcmp(s->phase, "Paused") != 0)
			runtime_k8s_create_settled(j->srv, s);
	} else if (j->answer == ANSWER_ACCEPTED || j->answer == ANSWER_RESUMED) {
		reply_empty(j->reply, 202);
	} else {
		sandbox_reply(j->reply, s, 200);
	}
}

static cJSON *pause_patch(cJSON *value)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToObject(cJSON_AddObjectToObject(p, "spec"), "pause", value);
	return p;
}

static void k8s_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r)
{
	if (runtime_k8s_pods(srv)) {
		reply_error(r, 400, "KUBERNETES::INVALID_STATE",
			    "Pause is not supported for this sandbox type (provider pod).");
		return;
	}
	const char *ph = s->phase;
	if (s->deleting) {
		reply_error(r, 409, "KUBERNETES::INVALID_STATE",
			    "Cannot %s: sandbox %s is being deleted", resume ? "resume" : "pause",
			    s->id);
		return;
	}
	if (!resume && strcmp(ph, "Succeed") != 0 && strcmp(ph, "Running") != 0) {
		reply_error(r, 409, "KUBERNETES::INVALID_STATE", "%s (phase=%s)",
			    !strcmp(ph, "Paused") ? "Sandbox is already paused"
			    : !strcmp(ph, "Pausing") || !strcmp(ph, "Resuming")
				    ? "Cannot pause: operation in progress"
				    : "Cannot pause",
			    ph[0] ? ph : "none");
		return;
	}
	if (resume && strcmp(ph, "Paused") != 0) {
		reply_error(r, 409, "KUBERNETES::INVALID_STATE", "%s (phase=%s)",
			    !strcmp(ph, "Pausing") || !strcmp(ph, "Resuming")
				    ? "Cannot resume: operation in progress"
				    : "Sandbox is not paused",
			    ph[0] ? ph : "none");
		return;
	}
	struct call_job *j = call_new(srv, s, r, "PATCH");
	if (!j)
		return;
	j->ctype = MERGE_PATCH;
	j->then = patched;
	j->answer = resume ? ANSWER_RESUMED : ANSWER_ACCEPTED;
	/* After a failed attempt the same value would change nothing: null first
	 * bumps the generation, so the controller tries again. */
	if (resume ? s->resume_failed : s->pause_failed) {
		j->body = pause_patch(cJSON_CreateNull());
		j->body2 = pause_patch(cJSON_CreateBool(!resume));
	} else {
		j->body = pause_patch(cJSON_CreateBool(!resume));
	}
	call_submit(j);
}

static void k8s_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us, struct reply *r)
{
	struct call_job *j = call_new(srv, s, r, "PATCH");
	if (!j)
		return;
	char t[APIVAL_TIME_LEN];
	apival_time_format(expires_us, t);
	j->ctype = MERGE_PATCH;
	j->then = patched;
	j->answer = ANSWER_EXPIRES;
	j->body = cJSON_CreateObject();
	if (runtime_k8s_pods(srv))
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(cJSON_AddObjectToObject(j->body, "metadata"),
						"annotations"),
			LBL_EXPIRES, t);
	else
		cJSON_AddStringToObject(cJSON_AddObjectToObject(j->body, "spec"), "expireTime", t);
	call_submit(j);
}

static void k8s_patch_metadata(struct apisrv *srv, struct sbx *s, const cJSON *patch,
			       struct reply *r)
{
	struct call_job *j = call_new(srv, s, r, "PATCH");
	if (!j)
		return;
	j->ctype = MERGE_PATCH;
	j->then = patched;
	j->body = cJSON_CreateObject();
	cJSON_AddItemToObject(cJSON_AddObjectToObject(j->body, "metadata"), "labels",
			      cJSON_Duplicate(patch, 1));
	call_submit(j);
}

static int k8s_endpoint(struct apisrv *srv, const struct sbx *s, unsigned port, char *ep,
			size_t cap, bool *via_execd, struct apival_err *ae)
{
	(void)srv;
	if (!s->ip[0])
		return apival_fail(ae, 404, "KUBERNETES::POD_IP_NOT_AVAILABLE",
				   "Sandbox %s has no pod IP yet (state %s).", s->id,
				   sandbox_state_name(s->state));
	*via_execd = port == EXECD_PORT;
	snprintf(ep, cap, strchr(s->ip, ':') ? "[%s]:%u" : "%s:%u", s->ip, port);
	return 0;
}

/* --- life ------------------------------------------------------------------ */

/*
 * A configured secure runtime must exist as a RuntimeClass, or every pod
 * would fail to start (or, worse, run without it). Called before the loop
 * runs and before any worker has a job, so the blocking call is safe here.
 */
static int runtime_class_check(struct apisrv *srv, struct err *e)
{
	const char *rc = srv->cfg.k8s_runtime_class;
	if (!rc[0])
		return 0;
	char path[400];
	snprintf(path, sizeof(path), "/apis/node.k8s.io/v1/runtimeclasses/%s", rc);
	cJSON *obj = NULL;
	int r = k8s_call(srv->k8s, "GET", path, NULL, NULL, &obj, e);
	cJSON_Delete(obj);
	if (r == -ENOENT)
		return err_set(e, ENOENT,
			       "RuntimeClass '%s' (the secure runtime) does not exist in the "
			       "cluster",
			       rc);
	if (r < 0)
		return err_wrap(e, "RuntimeClass '%s' (the secure runtime) cannot be checked", rc);
	log_msg(LOG_INFO, NULL, "secure runtime", "runtimeClassName", rc, NULL);
	return 0;
}

static int k8s_init(struct apisrv *srv, const char *argv0, struct err *e)
{
	(void)argv0;
	struct k8s *k = calloc(1, sizeof(*k));
	if (!k)
		return err_set(e, ENOMEM, "out of memory");
	const struct apicfg *c = &srv->cfg;
	int r = c->kubeconfig[0] ? k8s_init_kubeconfig(k, c->kubeconfig, c->k8s_context, e)
				 : k8s_init_incluster(k, e);
	if (r < 0) {
		free(k);
		return r;
	}
	k8s_set_limits(k, c->k8s_read_qps, (int)c->k8s_read_burst, c->k8s_write_qps,
		       (int)c->k8s_write_burst);
	srv->k8s = k;
	if (c->k8s_template_file[0]) {
		struct buf b;
		buf_init(&b, 4u << 20);
		r = buf_read_file(&b, c->k8s_template_file);
		if (r < 0) {
			buf_free(&b);
			return err_set(e, -r, "template %s: %s", c->k8s_template_file,
				       strerror(-r));
		}
		srv->k8s_template = yaml_parse(buf_head(&b), b.len, e);
		buf_free(&b);
		if (!cJSON_IsObject(srv->k8s_template))
			return err_wrap(e, "template %s", c->k8s_template_file);
	}
	return runtime_class_check(srv, e);
}

static int k8s_start(struct apisrv *srv, struct err *e)
{
	log_msg(LOG_INFO, NULL, "kubernetes runtime", "server", srv->k8s->server, "namespace",
		srv->cfg.k8s_namespace, "provider", srv->cfg.k8s_provider, NULL);
	return runtime_k8s_watch_start(srv, e);
}

static void k8s_stop(struct apisrv *srv)
{
	srv->stopping = true; /* jobs that end from now on answer at once (jobs_free) */
	k8s_watch_stop(srv->k8s_watch);
	srv->k8s_watch = NULL;
	/* Creates still waiting for Running get an answer (their workloads stay:
	 * the next server adopts them). */
	for (size_t i = 0; srv->store && i < store_count(srv->store); i++) {
		struct sbx *s = store_at(srv->store, i);
		if (!s->create_reply)
			continue;
		ev_timer_stop(srv->loop, &s->ready);
		reply_error(s->create_reply, 503, "KUBERNETES::INITIALIZATION_ERROR",
			    "sandbox-api is shutting down; sandbox %s is still starting", s->id);
		s->create_reply = NULL;
	}
}

static void k8s_fini(struct apisrv *srv)
{
	if (srv->k8s) {
		k8s_free(srv->k8s);
		free(srv->k8s);
		srv->k8s = NULL;
	}
	cJSON_Delete(srv->k8s_template);
	srv->k8s_template = NULL;
}

static bool k8s_synced(const struct apisrv *srv)
{
	return srv->k8s_watch && k8s_watch_synced(srv->k8s_watch);
}

const struct runtime runtime_k8s = {
	.name = "kubernetes",
	.code_not_found = "KUBERNETES::SANDBOX_NOT_FOUND",
	.code_invalid_port = "SANDBOX::INVALID_PARAMETER",
	.init = k8s_init,
	.start = k8s_start,
	.stop = k8s_stop,
	.fini = k8s_fini,
	.create = k8s_create,
	.remove = k8s_remove,
	.pause = k8s_pause,
	.renew = k8s_renew,
	.patch_metadata = k8s_patch_metadata,
	.endpoint = k8s_endpoint,
	.diagnostics = runtime_k8s_diagnostics,
	.synced = k8s_synced,
	.code_not_synced = "KUBERNETES::INITIALIZATION_ERROR",
};
