// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshot records and their state machine. Everything here runs on the loop
 * thread; the runtime's commit, removal and existence check run as jobs on
 * the snapshots' own workers (jobs.h) and come back through *_done.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "json.h"
#include "log.h"
#include "runtime.h"
#include "snapshot.h"
#include "snapshot_int.h"
#include "store.h"

#define SNAPSHOT_WORKERS  2
#define RECOVERY_RETRY_MS 15000

const char *snapshot_state_name(enum snap_state st)
{
	static const char *const names[] = {"Creating", "Ready", "Failed", "Deleting"};
	return (unsigned)st < 4 ? names[st] : "Failed";
}

struct snap *snapshot_find(struct apisrv *srv, const char *id)
{
	struct snapshots *ss = srv->snaps;
	for (size_t i = 0; ss && i < ss->n; i++)
		if (!strcmp(ss->v[i]->id, id))
			return ss->v[i];
	return NULL;
}

size_t snapshot_count(struct apisrv *srv)
{
	return srv->snaps ? srv->snaps->n : 0;
}

struct snap *snapshot_at(struct apisrv *srv, size_t i)
{
	return i < snapshot_count(srv) ? srv->snaps->v[i] : NULL;
}

static void set_state(struct snap *sn, enum snap_state st, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_state(struct snap *sn, enum snap_state st, const char *reason, const char *fmt, ...)
{
	va_list ap;
	sn->state = st;
	snprintf(sn->reason, sizeof(sn->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(sn->message, sizeof(sn->message), fmt, ap);
	va_end(ap);
	sn->transition_us = apival_now_us();
}

/* Every change is written before it is answered; a failed write is logged
 * (the record stays in memory and the next change writes it again). */
static int persist(struct apisrv *srv)
{
	struct err e = {0};
	int r = snapshots_save(srv->snaps, &e);
	if (r < 0)
		log_msg(LOG_ERROR, NULL, "cannot persist snapshots", "error", e.msg, NULL);
	return r;
}

static void drop(struct apisrv *srv, struct snap *sn)
{
	struct snapshots *ss = srv->snaps;
	for (size_t i = 0; i < ss->n; i++) {
		if (ss->v[i] != sn)
			continue;
		memmove(ss->v + i, ss->v + i + 1, (ss->n - i - 1) * sizeof(*ss->v));
		ss->n--;
		snapshot_free(sn);
		return;
	}
}

struct snap_job {
	struct apisrv *srv;
	struct reply *reply; /* a delete's, or NULL */
	char id[UUID_STR_LEN];
	char cid[DOCKER_ID_LEN];
	char image[SNAPSHOT_IMAGE_MAX];
	int result;
	struct err e;
};

static struct snap_job *job_new(struct apisrv *srv, const struct snap *sn, struct reply *r)
{
	struct snap_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->srv = srv;
	j->reply = r;
	snprintf(j->id, sizeof(j->id), "%s", sn->id);
	snprintf(j->image, sizeof(j->image), "%s", sn->image);
	return j;
}

/* --- create ------------------------------------------------------------------ */

static void commit_work(void *arg)
{
	struct snap_job *j = arg;
	j->result = j->srv->rt->snapshots->commit(j->srv, j->cid, j->image, &j->e);
}

static void commit_done(void *arg)
{
	struct snap_job *j = arg;
	struct snap *sn = snapshot_find(j->srv, j->id);
	struct sbx *s = sn ? store_find(j->srv->store, sn->sandbox_id) : NULL;
	if (s && s->committing)
		s->committing--;
	if (sn) {
		sn->busy = false;
		if (j->result >= 0)
			set_state(sn, SNAP_READY, "snapshot_runtime_ready", "Snapshot is ready.");
		else if (j->result == -ETIMEDOUT)
			set_state(sn, SNAP_FAILED, "snapshot_runtime_timeout", "%s", j->e.msg);
		else
			set_state(sn, SNAP_FAILED, "snapshot_runtime_failed", "%s", j->e.msg);
		persist(j->srv);
		log_msg(j->result >= 0 ? LOG_INFO : LOG_WARN, NULL, "snapshot committed",
			"snapshot_id", sn->id, "sandbox_id", sn->sandbox_id, "state",
			snapshot_state_name(sn->state), "message", sn->message, NULL);
	}
	free(j);
}

void snapshot_create(struct apisrv *srv, struct sbx *s, const char *name, struct reply *r)
{
	struct snapshots *ss = srv->snaps;
	if (!srv->rt->snapshots || !ss) {
		reply_error(r, 501, "SNAPSHOT::NOT_IMPLEMENTED",
			    "Snapshots are not supported by the %s runtime.", srv->rt->name);
		return;
	}
	if (s->state != SBX_RUNNING || s->provisioning || s->deleting) {
		reply_error(r, 409, "SNAPSHOT::INVALID_SOURCE_STATE",
			    "Sandbox %s is %s; only a Running sandbox can be snapshotted.", s->id,
			    sandbox_state_name(s->state));
		return;
	}
	if (ss->n >= SNAPSHOT_MAX) {
		reply_error(r, 409, "SNAPSHOT::LIMIT_REACHED",
			    "This server keeps at most %d snapshots; delete some first.",
			    SNAPSHOT_MAX);
		return;
	}
	struct snap *sn = snapshot_add(ss);
	if (!sn || (name && !(sn->name = strdup(name)))) {
		if (sn)
			drop(srv, sn);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	uuid_v4_str(sn->id);
	snprintf(sn->sandbox_id, sizeof(sn->sandbox_id), "%s", s->id);
	srv->rt->snapshots->artifact(srv, sn->id, sn->image, sizeof(sn->image));
	sn->created_us = apival_now_us();
	set_state(sn, SNAP_CREATING, "snapshot_accepted", "Snapshot accepted.");
	struct snap_job *j = job_new(srv, sn, NULL);
	if (!j || persist(srv) < 0) {
		free(j);
		drop(srv, sn);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "cannot record the snapshot");
		return;
	}
	snprintf(j->cid, sizeof(j->cid), "%s", s->cid);
	if (jobs_submit(ss->jobs, commit_work, commit_done, j) < 0) {
		free(j);
		set_state(sn, SNAP_FAILED, "snapshot_runtime_failed", "out of memory");
		persist(srv);
	} else {
		sn->busy = true;
		s->committing++;
	}
	log_msg(LOG_INFO, r->rid, "snapshot accepted", "snapshot_id", sn->id, "sandbox_id", s->id,
		NULL);
	char loc[64];
	snprintf(loc, sizeof(loc), "/v1/snapshots/%s", sn->id);
	snapshot_reply(r, sn, 202, "Location", loc);
}

void snapshot_reply(struct reply *r, const struct snap *sn, int status, const char *extra_name,
		    const char *extra_value)
{
	struct buf out;
	buf_init(&out, 0);
	if (snapshot_json(sn, &out) < 0) {
		buf_free(&out);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	if (r->c && extra_name)
		http_resp_header(r->c, extra_name, extra_value);
	reply_json(r, status, &out);
}

/* --- delete ------------------------------------------------------------------ */

static void remove_work(void *arg)
{
	struct snap_job *j = arg;
	j->result = j->srv->rt->snapshots->remove(j->srv, j->image, &j->e);
}

static void remove_done(void *arg)
{
	struct snap_job *j = arg;
	struct apisrv *srv = j->srv;
	struct snap *sn = snapshot_find(srv, j->id);
	if (!sn) { /* cannot happen: a busy record is not dropped */
		if (j->reply)
			reply_empty(j->reply, 204);
		free(j);
		return;
	}
	sn->busy = false;
	if (j->result >= 0) {
		log_msg(LOG_INFO, NULL, "snapshot deleted", "snapshot_id", sn->id, NULL);
		drop(srv, sn);
		persist(srv);
		if (j->reply)
			reply_empty(j->reply, 204);
		free(j);
		return;
	}
	if (!j->reply && j->result != -EBUSY) {
		/* A delete the server had promised before it stopped: tried again later. */
		log_msg(LOG_WARN, NULL, "snapshot delete (recovery) failed, will retry",
			"snapshot_id", sn->id, "error", j->e.msg, NULL);
		free(j);
		return;
	}
	/* Refused or failed: the snapshot is still there, as it was. */
	sn->state = sn->before_delete;
	persist(srv);
	if (!j->reply)
		log_msg(LOG_INFO, NULL, "snapshot kept: its image is in use", "snapshot_id", sn->id,
			NULL);
	else if (j->result == -EBUSY)
		reply_error(j->reply, 409, "SNAPSHOT::DELETE_CONFLICT", "%s", j->e.msg);
	else if (j->result == -EHOSTUNREACH)
		reply_error(j->reply, 503, "SNAPSHOT::RUNTIME_UNAVAILABLE", "%s", j->e.msg);
	else if (j->result == -ETIMEDOUT)
		reply_error(j->reply, 504, "SNAPSHOT::RUNTIME_TIMEOUT", "%s", j->e.msg);
	else
		reply_error(j->reply, 500, "GENERAL::UNKNOWN_ERROR", "%s", j->e.msg);
	free(j);
}

static int start_remove(struct apisrv *srv, struct snap *sn, struct reply *r)
{
	struct snap_job *j = job_new(srv, sn, r);
	if (!j || jobs_submit(srv->snaps->jobs, remove_work, remove_done, j) < 0) {
		free(j);
		return -ENOMEM;
	}
	sn->busy = true;
	return 0;
}

void snapshot_delete(struct apisrv *srv, const char *id, struct reply *r)
{
	struct snap *sn = snapshot_find(srv, id);
	if (!sn) {
		reply_error(r, 404, "SNAPSHOT::NOT_FOUND", "Snapshot %.64s not found.", id);
		return;
	}
	if (sn->busy || sn->state == SNAP_CREATING) {
		reply_error(r, 409, "SNAPSHOT::INVALID_STATE",
			    "Snapshot %s is %s; try again once it is done.", sn->id,
			    snapshot_state_name(sn->state));
		return;
	}
	/* A restore whose container does not exist yet holds no reference Docker
	 * could see: the store knows of it from the moment it was asked for. */
	for (size_t i = 0; i < store_count(srv->store); i++) {
		const struct sbx *s = store_at(srv->store, i);
		if (!strcmp(s->snapshot_id, sn->id) && !s->doomed) {
			reply_error(
				r, 409, "SNAPSHOT::DELETE_CONFLICT",
				"Snapshot %s is in use by sandbox %s; delete that sandbox first.",
				sn->id, s->id);
			return;
		}
	}
	if (sn->state != SNAP_DELETING) /* a recovered Deleting one is simply retried */
		sn->before_delete = sn->state;
	sn->state = SNAP_DELETING;
	if (persist(srv) < 0 || start_remove(srv, sn, r) < 0) {
		sn->state = sn->before_delete;
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "cannot start the delete");
	}
}

/* --- restore ----------------------------------------------------------------- */

int snapshot_restore_image(struct apisrv *srv, const char *id, char *image, size_t cap,
			   struct apival_err *ae)
{
	if (!srv->rt->snapshots || !srv->snaps)
		return apival_fail(ae, 501, "SNAPSHOT::NOT_IMPLEMENTED",
				   "Snapshots are not supported by the %s runtime.", srv->rt->name);
	const struct snap *sn = snapshot_find(srv, id);
	if (!sn)
		return apival_fail(ae, 404, "SNAPSHOT::NOT_FOUND", "Snapshot %.64s not found.", id);
	if (sn->state != SNAP_READY)
		return apival_fail(ae, 409, "SNAPSHOT::NOT_READY", "Snapshot %s is %s, not Ready.",
				   sn->id, snapshot_state_name(sn->state));
	if (!sn->image[0] || strlen(sn->image) >= cap)
		return apival_fail(ae, 409, "SNAPSHOT::INVALID_RESTORE_CONFIG",
				   "Snapshot %s has no image to restore from.", sn->id);
	snprintf(image, cap, "%s", sn->image);
	return 0;
}

/* --- start-up recovery ------------------------------------------------------- */

static void exists_work(void *arg)
{
	struct snap_job *j = arg;
	j->result = j->srv->rt->snapshots->exists(j->srv, j->image, &j->e);
}

static void exists_done(void *arg)
{
	struct snap_job *j = arg;
	struct snap *sn = snapshot_find(j->srv, j->id);
	if (sn) {
		sn->busy = false;
		/* The Engine finishes a commit the server stopped waiting for, within its
		 * call timeout: missing before then may still come. */
		int64_t grace_us = ((int64_t)j->srv->cfg.docker_timeout + 60) * 1000000;
		if (j->result > 0) {
			set_state(sn, SNAP_READY, "snapshot_runtime_ready",
				  "Snapshot is ready (found at start-up).");
			persist(j->srv);
		} else if (j->result == 0 && apival_now_us() - sn->created_us > grace_us) {
			set_state(sn, SNAP_FAILED, "snapshot_recovery_missing_image",
				  "The server stopped while the snapshot was being made; no image "
				  "was found.");
			persist(j->srv);
		}
	}
	free(j);
}

static void recover(struct apisrv *srv)
{
	struct snapshots *ss = srv->snaps;
	bool again = false;
	for (size_t i = 0; i < ss->n; i++) {
		struct snap *sn = ss->v[i];
		if (sn->busy || (sn->state != SNAP_CREATING && sn->state != SNAP_DELETING))
			continue;
		again = true; /* until the runtime has answered for it */
		if (sn->state == SNAP_DELETING) {
			start_remove(srv, sn, NULL);
			continue;
		}
		struct snap_job *j = job_new(srv, sn, NULL);
		if (j && jobs_submit(ss->jobs, exists_work, exists_done, j) == 0)
			sn->busy = true;
		else
			free(j);
	}
	if (again)
		ev_timer_start(srv->loop, &ss->retry, RECOVERY_RETRY_MS);
}

static void on_retry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	recover(arg);
}

/* --- set-up ------------------------------------------------------------------ */

int snapshots_init(struct apisrv *srv, const char *dir, struct err *e)
{
	if (!srv->rt->snapshots)
		return 0;
	struct snapshots *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return err_set(e, ENOMEM, "out of memory");
	snprintf(ss->path, sizeof(ss->path), "%s/snapshots.json", dir);
	ev_timer_init(&ss->retry, on_retry, srv);
	int r = snapshots_load(ss, e);
	if (r == 0 && !(ss->jobs = jobs_new(srv->loop, SNAPSHOT_WORKERS, e)))
		r = -ENOMEM;
	/* The file names what a delete removes: only what this runtime would have made. */
	for (size_t i = 0; r == 0 && i < ss->n;) {
		char want[SNAPSHOT_IMAGE_MAX];
		srv->rt->snapshots->artifact(srv, ss->v[i]->id, want, sizeof(want));
		if (!strcmp(want, ss->v[i]->image)) {
			i++;
			continue;
		}
		log_msg(LOG_WARN, NULL, "snapshots file: a record naming a foreign image skipped",
			"snapshot_id", ss->v[i]->id, "image", ss->v[i]->image, NULL);
		snapshot_free(ss->v[i]);
		memmove(ss->v + i, ss->v + i + 1, (ss->n - i - 1) * sizeof(*ss->v));
		ss->n--;
	}
	if (r < 0) {
		snapshots_clear(ss);
		free(ss);
		return r;
	}
	srv->snaps = ss;
	return 0;
}

void snapshots_start(struct apisrv *srv)
{
	if (srv->snaps)
		recover(srv);
}

void snapshots_fini(struct apisrv *srv)
{
	struct snapshots *ss = srv->snaps;
	if (!ss)
		return;
	ev_timer_stop(srv->loop, &ss->retry);
	jobs_free(ss->jobs); /* a running commit ends first; recovery covers a kill */
	snapshots_clear(ss);
	free(ss);
	srv->snaps = NULL;
}
