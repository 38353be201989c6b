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

#endif
