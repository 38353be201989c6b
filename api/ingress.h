/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingress: the server proxy /sandboxes/{id}/proxy/{port}/{path} (and under
 * /v1), on the shared proxy engine (lib/http_proxy.h: pooled upstreams,
 * bodies streamed both ways with back-pressure, Upgrade spliced after the
 * sandbox's 101). Host becomes the sandbox's address; credentials meant for
 * this server (OPEN-SANDBOX-API-KEY, Authorization, Cookie) are not
 * forwarded. Failures answer the reference's JSON errors (502, 504).
 */
#ifndef API_INGRESS_H
#define API_INGRESS_H

#include "apisrv.h"

/* Registers the proxy routes (root and /v1). 0 or -errno. */
int ingress_routes(struct apisrv *srv);
/* True if path has the exact shape of a proxy route (for the auth exemption). */
bool ingress_path_is_proxy(const char *path);

#endif
