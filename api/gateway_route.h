/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway_route: reading a sandbox route out of a gateway request, and the
 * signatures of signed routes (the OpenSandbox ingress contract, OSEP-0011). Pure: no
 * sandbox lookup here; a label or path may read two ways (plain, signed) and
 * the gateway keeps the reading whose sandbox exists.
 *
 *   label  "<id>-<port>"                  (header OpenSandbox-Ingress-To, or the
 *          "<id>-<port>-<exp36>-<sig>"     first DNS label of Host / the header)
 *   path   "/<id>/<port>[/<rest>]", "/<id>/<port>/<exp36>/<sig>[/<rest>]",
 *          "/sandboxes/<id>/port/<port>[/<rest>]"
 * exp36 is the expiry in lowercase base36; sig is 8 hex digits of
 * sha256(BE32(len(secret)) || secret || BE32(len(canon)) || canon), canon =
 * "v1\nshort\n<id>\n<port>\n<exp36>\n", then the one-character key id.
 */
#ifndef API_GATEWAY_ROUTE_H
#define API_GATEWAY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_ID_MAX  128
#define GW_SIG_LEN 9

struct gw_route {
	char id[GW_ID_MAX];
	uint16_t port;
	bool is_signed;
	uint64_t expires; /* unix seconds, signed routes */
	char exp36[16];
	char sig[GW_SIG_LEN + 1];
	const char *rest; /* path forms: the raw rest of the path, "" if none */
};

#define GW_PLAIN  1 /* the plain reading was filled */
#define GW_SIGNED 2 /* the signed reading was filled */

/* Reads a label (a leading "http://" or "https://" and everything from the
 * first '.' or ':' are ignored). Returns GW_PLAIN and/or GW_SIGNED, 0 if it
 * is no route. */
int gw_route_label(const char *value, struct gw_route *plain, struct gw_route *sig);
/* Reads "/<id>/<port>..." the same way (a signed reading always has a plain one). */
int gw_route_path(const char *raw_path, struct gw_route *plain, struct gw_route *sig);
/* Reads "/sandboxes/<id>/port/<port>[/<rest>]": GW_PLAIN or 0. */
int gw_route_sandboxes_path(const char *raw_path, struct gw_route *r);

/* Lowercase base36 of v, no leading zeros ("0" for 0). */
void gw_base36(uint64_t v, char out[16]);
/* The 9-character signature of (id, port, exp36) with secret and key_id. */
void gw_sign(const void *secret, size_t secret_len, char key_id, const char *id, unsigned port,
	     const char *exp36, char out[GW_SIG_LEN + 1]);

#endif
