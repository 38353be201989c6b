/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway: the ingress gateway, on its own listener (--gateway-listen). Every
 * sandbox port gets a stable URL; one listener takes every route form, tried
 * in this order (the OpenSandbox ingress contract):
 *   1. header OpenSandbox-Ingress-To, then the deprecated OPEN-SANDBOX-INGRESS:
 *      "<id>-<port>" or signed "<id>-<port>-<exp36>-<sig>";
 *   2. Host "<id>-<port>.<domain>" (or signed), when <id> is a sandbox;
 *   3. path "/sandboxes/<id>/port/<port>/<rest>";
 *   4. path "/<id>/<port>/<rest>" (or "/<id>/<port>/<exp36>/<sig>/<rest>");
 *   5. with --gateway-route-cookie, the route cookie a URI route set.
 * Header and Host routes forward the whole path; URI routes forward /<rest>.
 * Forwarding goes through lib/http_proxy (HTTP, SSE, WebSocket both ways);
 * the routing, secure-access and API-key headers are dropped, and execd's
 * token only reaches port 44772. A secureAccess sandbox wants
 * OpenSandbox-Secure-Access (compared in constant time) or a valid, unexpired
 * signature; then the gateway adds execd's token itself. Errors are plain
 * text "OpenSandbox Ingress: <reason>": 400 no or bad route, 401/403 secure
 * access, 404 unknown sandbox, 503 not ready (Pending, paused, being deleted,
 * no address), 502/504 upstream. GET /status.ok answers 200 OK. Traffic
 * counts as access for renew-on-access (sandbox_accessed).
 */
#ifndef API_GATEWAY_H
#define API_GATEWAY_H

#include <stdint.h>

#include "apisrv.h"
#include "buf.h"

/* Checks the ingress and secure-access settings; starts the listener when
 * --gateway-listen is set. 0, or -errno with e set. */
int gateway_start(struct apisrv *srv, struct err *e);
void gateway_stop(struct apisrv *srv);
/* Idle upstream connections the gateway keeps for reuse (0 without a gateway). */
size_t gateway_idle_upstreams(const struct apisrv *srv);

/*
 * The endpoint of (s, port) in gateway form (--ingress-mode gateway): writes
 * the endpoint string to ep and appends `"Name":"value"` pairs (comma
 * separated, no braces) for its headers to hdrs. expires > 0 asks for a signed
 * route. 0, or an HTTP status with msg filled (400: no signing key, bad expiry).
 */
int gateway_endpoint(const struct apisrv *srv, const struct sbx *s, unsigned port, uint64_t expires,
		     char *ep, size_t cap, struct buf *hdrs, char *msg, size_t msg_cap);

#endif
