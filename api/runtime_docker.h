/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_docker: the Docker runtime's files share these (runtime_docker*.c).
 * Blocking Engine calls run as jobs on the worker threads; their results are
 * applied to the store on the loop thread.
 */
#ifndef API_RUNTIME_DOCKER_H
#define API_RUNTIME_DOCKER_H

#include "diag.h"
#include "sandbox_int.h"

/* Status for a Docker failure: 503 when the daemon is unreachable, 504 when it
 * did not answer in time, else fallback. */
int runtime_docker_status(int r, int fallback);

/* runtime_docker_create.c */
void runtime_docker_create(struct apisrv *srv, struct sbx *s, struct apival_create *rq,
			   struct reply *r);

/* runtime_docker_spec.c: the container bodies (NULL with ae filled). */
cJSON *runtime_docker_main_body(struct apisrv *srv, const struct apival_create *rq,
				const struct sbx *s, bool egress, struct apival_err *ae);
cJSON *runtime_docker_sidecar_body(struct apisrv *srv, const struct apival_create *rq,
				   const struct sbx *s);

/* runtime_docker_inject.c: builds the injection tar once; copies it into cid
 * (on a worker; at most a few uploads at once). 0 or -errno. */
int runtime_docker_inject_init(struct apisrv *srv, const char *argv0, struct err *e);
int runtime_docker_inject(struct apisrv *srv, const char *cid, struct err *e);

/* runtime_docker.c: removes the containers (and server-made volumes) of id on a
 * worker; answers r (may be NULL); drop_record removes the record when done. */
void runtime_docker_remove_containers(struct apisrv *srv, const char *id, const char *cid,
				      const char *managed_vols, struct reply *r, bool drop_record);

/* runtime_docker_sync.c: recovery, the events stream and the sweep. */
int runtime_docker_start(struct apisrv *srv, struct err *e);
void runtime_docker_stop(struct apisrv *srv);
void runtime_docker_reconcile(struct apisrv *srv);
/* A Docker filters object matching label (and this server's instance); extra is put
 * before "label" (e.g. "\"type\":[\"container\"],"). */
void runtime_docker_label_filter(struct apisrv *srv, const char *label, const char *extra,
				 char *out, size_t cap);

/* runtime_docker_diag.c: logs, events, inspect and summary (diag.h). */
void runtime_docker_diagnostics(struct apisrv *srv, struct sbx *s, const struct diag_query *q,
				struct reply *r);

/* runtime_docker_snapshot.c: the image of a snapshot (snapshot.h). */
extern const struct runtime_snapshots runtime_docker_snapshots;

/* runtime_docker_logs.c: appends the container's last output to a Failed
 * sandbox's message (asynchronously). */
void runtime_docker_failed_logs(struct sbx *s);

#endif
