/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingress: the server proxy /sandboxes/{id}/proxy/{port}/{path} (and under
 * /v1). Plain requests go through the async HTTP client with both bodies
 * streamed and back-pressure both ways (SSE is passed on as it arrives);
 * requests carrying Upgrade (WebSocket) are forwarded as a head and then
 * spliced byte for byte with the sandbox, so frames, close codes and
 * subprotocols pass unchanged. Credentials meant for this server
 * (OPEN-SANDBOX-API-KEY, Authorization, Cookie) are not forwarded.
 */
#ifndef API_INGRESS_H
#define API_INGRESS_H

#include "apisrv.h"

/* Registers the proxy routes (root and /v1). 0 or -errno. */
int ingress_routes(struct apisrv *srv);
/* True if path has the exact shape of a proxy route (for the auth exemption). */
bool ingress_path_is_proxy(const char *path);

#endif
