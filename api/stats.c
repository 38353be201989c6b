// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#include "gateway.h"
#include "http_proxy.h"
#include "k8s.h"
#include "k8s_watch.h"
#include "store.h"

#define STATS_MAX_SERIES 256

static const double buckets[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	const char *route;
	int status;
	unsigned long count;
};

struct stats {
	struct series s[STATS_MAX_SERIES];
	size_t n;
	unsigned long hist[NBUCKETS + 1];
	double sum;
	unsigned long count;
};

struct stats *stats_new(void)
{
	return calloc(1, sizeof(struct stats));
}

void stats_free(struct stats *s)
{
	free(s);
}

void stats_request(struct stats *s, const char *route, int status)
{
	if (!s || !route)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->s[i].status == status && strcmp(s->s[i].route, route) == 0) {
			s->s[i].count++;
			return;
		}
	}
	if (s->n < STATS_MAX_SERIES)
		s->s[s->n++] = (struct series){route, status, 1};
}

void stats_create_latency(struct stats *s, double seconds)
{
	size_t i = 0;
	while (i < NBUCKETS && seconds > buckets[i])
		i++;
	s->hist[i]++;
	s->sum += seconds;
	s->count++;
}

/* The Kubernetes client's connections and watch counters. */
static int k8s_render(struct apisrv *srv, struct buf *o)
{
	struct k8s_watch_stats w = {0};
	if (srv->k8s_watch)
		k8s_watch_get_stats(srv->k8s_watch, &w);
	return buf_printf(
		o,
		"# HELP sandbox_api_k8s_connections_total Connections opened to the API server.\n"
		"# TYPE sandbox_api_k8s_connections_total counter\n"
		"sandbox_api_k8s_connections_total{use=\"calls\"} %lu\n"
		"sandbox_api_k8s_connections_total{use=\"watch\"} %lu\n"
		"# HELP sandbox_api_k8s_watch_total Informer LISTs, WATCHes, events and 410s.\n"
		"# TYPE sandbox_api_k8s_watch_total counter\n"
		"sandbox_api_k8s_watch_total{what=\"lists\"} %lu\n"
		"sandbox_api_k8s_watch_total{what=\"watches\"} %lu\n"
		"sandbox_api_k8s_watch_total{what=\"events\"} %lu\n"
		"sandbox_api_k8s_watch_total{what=\"gone\"} %lu\n"
		"sandbox_api_k8s_watch_total{what=\"errors\"} %lu\n",
		k8s_connections(srv->k8s), w.connections, w.lists, w.watches, w.events, w.gone,
		w.errors);
}

int stats_render(struct stats *s, struct apisrv *srv, struct buf *o)
{
	int r = buf_puts(o, "# HELP sandbox_api_requests_total API requests by route and status.\n"
			    "# TYPE sandbox_api_requests_total counter\n");
	for (size_t i = 0; !r && i < s->n; i++)
		r = buf_printf(o, "sandbox_api_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
			       s->s[i].route, s->s[i].status, s->s[i].count);
	unsigned long by[SBX_NSTATES] = {0};
	for (size_t i = 0; i < store_count(srv->store); i++) {
		struct sbx *x = store_at(srv->store, i);
		if (!x->doomed)
			by[x->state]++;
	}
	r = r ? r
	      : buf_puts(o, "# HELP sandbox_api_sandboxes Sandboxes by state.\n"
			    "# TYPE sandbox_api_sandboxes gauge\n");
	for (int i = 0; !r && i < SBX_NSTATES; i++)
		r = buf_printf(o, "sandbox_api_sandboxes{state=\"%s\"} %lu\n",
			       sandbox_state_name((enum sbx_state)i), by[i]);
	r = r ? r
	      : buf_puts(o, "# HELP sandbox_api_create_seconds Create request to execd ready.\n"
			    "# TYPE sandbox_api_create_seconds histogram\n");
	unsigned long cum = 0;
	for (size_t i = 0; !r && i < NBUCKETS; i++) {
		cum += s->hist[i];
		r = buf_printf(o, "sandbox_api_create_seconds_bucket{le=\"%g\"} %lu\n", buckets[i],
			       cum);
	}
	cum += s->hist[NBUCKETS];
	r = r ? r
	      : buf_printf(o,
			   "sandbox_api_create_seconds_bucket{le=\"+Inf\"} %lu\n"
			   "sandbox_api_create_seconds_sum %.6f\n"
			   "sandbox_api_create_seconds_count %lu\n",
			   cum, s->sum, s->count);
	r = r ? r
	      : buf_printf(o,
			   "# HELP sandbox_api_docker_errors_total Failed Docker API calls.\n"
			   "# TYPE sandbox_api_docker_errors_total counter\n"
			   "sandbox_api_docker_errors_total %lu\n",
			   __atomic_load_n(&srv->docker.errors, __ATOMIC_RELAXED));
	r = r ? r
	      : buf_printf(o,
			   "# HELP sandbox_api_upstream_idle Idle upstream connections kept for "
			   "reuse.\n"
			   "# TYPE sandbox_api_upstream_idle gauge\n"
			   "sandbox_api_upstream_idle{proxy=\"server\"} %zu\n"
			   "sandbox_api_upstream_idle{proxy=\"gateway\"} %zu\n",
			   http_proxy_idle(srv->proxy), gateway_idle_upstreams(srv));
	if (!r && srv->k8s)
		r = k8s_render(srv, o);
	return r;
}
