/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats: Prometheus text metrics: requests by route and status, sandboxes by
 * state, a create-to-ready latency histogram, Docker call errors.
 */
#ifndef API_STATS_H
#define API_STATS_H

#include "apisrv.h"
#include "buf.h"

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *s);
/* route: a static string; status 0 = no answer sent. */
void stats_request(struct stats *s, const char *route, int status);
void stats_create_latency(struct stats *s, double seconds);
/* Renders every metric into out. 0 or -errno. */
int stats_render(struct stats *s, struct apisrv *srv, struct buf *out);

#endif
