/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes: the lifecycle API (root and /v1), /health, /metrics, and the API
 * key filter (constant-time comparison; /health is always open, the proxy
 * routes unless proxy_auth is on).
 */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include "apisrv.h"

/* 0 or -errno. */
int routes_register(struct apisrv *srv);
/* Whether req carries the server's API key (true when none is configured). */
bool routes_has_key(const struct apisrv *srv, const struct http_req *req);

struct reply;
/* The visible sandbox named by :id, or NULL after answering 404 (503 while the runtime has
 * not read the platform since start-up: routes_synced). */
struct sbx *routes_sandbox(struct apisrv *srv, struct http_req *req, struct reply *r);
/* Whether the runtime has read the platform since start-up; if not, answers r with 503. */
bool routes_synced(struct apisrv *srv, struct reply *r);

/* routes_snapshot.c: POST /sandboxes/:id/snapshots, GET /snapshots,
 * GET and DELETE /snapshots/:sid. */
http_handler routes_snapshot_create, routes_snapshot_list, routes_snapshot_get,
	routes_snapshot_delete;

#endif
