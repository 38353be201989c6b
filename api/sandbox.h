/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: the lifecycle on the Docker runtime. Blocking Engine calls run
 * as jobs on worker threads; their results are applied to the store on the
 * loop thread. Create answers 202 Pending once the image is known to exist,
 * provisions in the background (egress sidecar, container, execd injection,
 * start) and turns Running when execd answers /ping.
 */
#ifndef API_SANDBOX_H
#define API_SANDBOX_H

#include "apisrv.h"
#include "apival.h"
#include "reply.h"

/* Builds the execd injection tar (local files or the execd image). 0 or -errno. */
int sandbox_inject_init(struct apisrv *srv, const char *argv0, struct err *e);
/* Start-up: rebuild the store from Docker, expire overdue sandboxes, remove
 * orphans, then follow Docker events and run the periodic sweep. 0 or -errno
 * (the daemon unreachable is not fatal: the sweep retries). */
int sandbox_start(struct apisrv *srv, struct err *e);
void sandbox_stop(struct apisrv *srv);

/* Takes ownership of req; answers through r. */
void sandbox_create(struct apisrv *srv, struct apival_create *req, struct reply *r);
void sandbox_delete(struct apisrv *srv, struct sbx *s, struct reply *r);
void sandbox_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r);
/* Sets a new expiry (persisted, timer re-armed). */
void sandbox_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us);
/* Traffic reached s through the gateway or the server proxy: a sandbox that opted
 * in (access.renew.extend.seconds) is extended to max(now + extend, current), at
 * most once per --renew-min-interval. */
void sandbox_accessed(struct apisrv *srv, struct sbx *s);
/* Re-arms the expiry timer of s. */
void sandbox_arm_expiry(struct apisrv *srv, struct sbx *s);

/* Visible to clients: not deleted while provisioning, not being deleted. */
bool sandbox_visible(const struct sbx *s);
/* JSON of a Sandbox (create_shape: CreateSandboxResponse instead). 0 or -errno. */
int sandbox_json(const struct sbx *s, bool create_shape, struct buf *out);

/* Internal, shared by sandbox*.c. */
void sandbox_set_state(struct sbx *s, enum sbx_state st, const char *reason, const char *msg);
void sandbox_expire(struct apisrv *srv, struct sbx *s);
/* Appends the container's last output to a Failed sandbox's message (asynchronously). */
void sandbox_failed_logs(struct sbx *s);
void sandbox_remove_containers(struct apisrv *srv, const char *id, const char *cid,
			       const char *managed_vols, struct reply *r, bool drop_record);
void sandbox_events_start(struct apisrv *srv);
void sandbox_reconcile(struct apisrv *srv);
/* A Docker filters object matching label (and this server's instance); extra is put
 * before "label" (e.g. "\"type\":[\"container\"],"). */
void sandbox_label_filter(struct apisrv *srv, const char *label, const char *extra, char *out,
			  size_t cap);
/* Status for a Docker failure: 503 when the daemon is unreachable, else fallback. */
int sandbox_docker_status(int r, int fallback);

#endif
