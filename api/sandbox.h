/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: the lifecycle API over whichever runtime runs the sandboxes
 * (runtime.h). What is the same on every runtime lives here: the records'
 * shape and JSON, validation shared by all, tokens, expiry timers and
 * renew-on-access. The rest is the runtime's (srv->rt).
 */
#ifndef API_SANDBOX_H
#define API_SANDBOX_H

#include "apisrv.h"
#include "apival.h"
#include "reply.h"
#include "runtime.h"

/* The runtime's set-up, recovery and shutdown (runtime.h). */
int sandbox_init(struct apisrv *srv, const char *argv0, struct err *e);
int sandbox_start(struct apisrv *srv, struct err *e);
void sandbox_stop(struct apisrv *srv);

/* Takes ownership of req; answers through r. */
void sandbox_create(struct apisrv *srv, struct apival_create *req, struct reply *r);
void sandbox_delete(struct apisrv *srv, struct sbx *s, struct reply *r);
void sandbox_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r);
/* expires_us must be in the future and s must expire (checked by the caller). */
void sandbox_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us, struct reply *r);
void sandbox_patch_metadata(struct apisrv *srv, struct sbx *s, const cJSON *patch, struct reply *r);
/* Traffic reached s through the gateway or the server proxy: a sandbox that opted
 * in (access.renew.extend.seconds) is extended to max(now + extend, current), at
 * most once per --renew-min-interval. */
void sandbox_accessed(struct apisrv *srv, struct sbx *s);

/* Visible to clients: not deleted while provisioning. */
bool sandbox_visible(const struct sbx *s);
/* JSON of a Sandbox (create_shape: CreateSandboxResponse instead). 0 or -errno. */
int sandbox_json(const struct sbx *s, bool create_shape, struct buf *out);
/* Answers r with the Sandbox JSON of s. */
void sandbox_reply(struct reply *r, const struct sbx *s, int status);
/* Answers r with {"expiresAt": ...}. */
void sandbox_reply_expires(struct reply *r, int64_t expires_us);

#endif
