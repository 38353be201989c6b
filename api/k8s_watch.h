/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k8s_watch: an informer for one resource collection. It LISTs (on a worker),
 * then WATCHes from the list's resourceVersion (on the loop, one long HTTPS
 * response of newline-delimited events), re-watching from the last version
 * seen when a watch ends, relisting on 410 Gone and every resync period, and
 * retrying with a capped backoff when the server cannot be reached or when a
 * watch ends within a second without an event (410 for every version, an
 * empty answer). One LIST and one watch at a time. A watch that ends cleanly
 * (timeoutSeconds) leaves its connection for the next one.
 *
 * Ownership: the informer is the caller's (k8s_watch_stop frees it); objects
 * handed to callbacks are valid during the call only.
 */
#ifndef API_K8S_WATCH_H
#define API_K8S_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "ev.h"
#include "jobs.h"
#include "k8s.h"

#define K8S_WATCH_LINE_MAX (4u << 20) /* one event: the API server caps objects at 1.5 MiB */

struct k8s_watch;

struct k8s_watch_cbs {
	/* A complete LIST: items is its array (objects absent from it are gone). */
	void (*on_list)(void *arg, const cJSON *items);
	/* type "ADDED", "MODIFIED" or "DELETED" and the object. */
	void (*on_event)(void *arg, const char *type, const cJSON *obj);
};

struct k8s_watch_config {
	const char *path;	    /* collection, e.g. /api/v1/namespaces/ns/pods */
	const char *label_selector; /* may be NULL */
	uint32_t watch_timeout_s;   /* timeoutSeconds of each watch (default 60) */
	uint32_t resync_s;	    /* full relist period (default 300; 0 = never) */
};

struct k8s_watch *k8s_watch_start(struct ev_loop *loop, struct jobs *jobs, struct k8s *k,
				  const struct k8s_watch_config *cfg,
				  const struct k8s_watch_cbs *cbs, void *arg, struct err *e);
/* Stops and frees (a LIST job still running finishes without calling back). */
void k8s_watch_stop(struct k8s_watch *w);
/* A LIST has completed at least once. */
bool k8s_watch_synced(const struct k8s_watch *w);

struct k8s_watch_stats {
	unsigned long lists, watches, events, gone, errors;
	unsigned long connections; /* opened for watches (one is kept between them) */
};
void k8s_watch_get_stats(const struct k8s_watch *w, struct k8s_watch_stats *out);

#endif
