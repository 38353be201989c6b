// SPDX-License-Identifier: Apache-2.0
/* LIST, then WATCH from its resourceVersion; relist on 410 Gone and on resync. */
#include "k8s_watch.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* A watch that ends sooner than this without one event is a failure: answered
 * at once forever (a proxy, a 410 for every version), it would spin. */
#define BRIEF_WATCH_MS 1000

struct k8s_watch {
	struct ev_loop *loop;
	struct jobs *jobs;
	struct k8s *k;
	struct k8s_watch_cbs cbs;
	void *arg;
	char path[512];
	char selector[512]; /* escaped */
	uint32_t watch_timeout_s, resync_s;
	char rv[64];		   /* last resourceVersion seen */
	char addr[64];		   /* the API server's address as the last LIST resolved it */
	struct http_client *watch; /* the running watch, or NULL */
	int watch_status;	   /* status of its answer */
	uint64_t watch_started_ms;
	unsigned long watch_lines; /* events and bookmarks it brought */
	bool gone;		   /* the watch said 410: relist */
	bool listing;		   /* a LIST job is running */
	bool stopped;		   /* k8s_watch_stop ran while listing: the job frees */
	bool synced;
	uint32_t backoff_ms;
	struct ev_timer retry, resync;
	struct buf line;
	struct http_keepalive keep; /* a watch that ended cleanly leaves its connection here */
	struct k8s_watch_stats stats;
};

struct list_job {
	struct k8s_watch *w;
	char host[256], addr[64]; /* the API server's name, and its address (numeric) */
	char target[1200];
	cJSON *list;
	int r;
	struct err e;
};

static void list_start(struct k8s_watch *w);
static void watch_start(struct k8s_watch *w);

static void schedule_retry(struct k8s_watch *w, bool relist)
{
	w->stats.errors++;
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	if (relist)
		w->rv[0] = '\0';
	ev_timer_start(w->loop, &w->retry, w->backoff_ms);
}

static void on_retry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct k8s_watch *w = arg;
	if (w->rv[0] && w->addr[0])
		watch_start(w);
	else
		list_start(w); /* also finds the server's address again */
}

static void on_resync(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct k8s_watch *w = arg;
	/* The watch goes on; the list catches whatever it may have missed. */
	if (!w->listing)
		list_start(w);
}

/* --- LIST ------------------------------------------------------------------ */

/*
 * The API server's name resolved here, on a worker: a watch connects on the
 * loop, where getaddrinfo could wait seconds for DNS (kubeconfigs name their
 * servers: EKS, AKS) and hold every request meanwhile.
 */
static void resolve(const char *host, char *out, size_t cap)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	out[0] = '\0';
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return;
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)cap, NULL, 0,
			NI_NUMERICHOST) != 0)
		out[0] = '\0';
	freeaddrinfo(ai);
}

static void list_work(void *arg)
{
	struct list_job *j = arg;
	j->r = k8s_call(j->w->k, "GET", j->target, NULL, NULL, &j->list, &j->e);
	if (j->r >= 0)
		resolve(j->host, j->addr, sizeof(j->addr));
}

static void list_done(void *arg)
{
	struct list_job *j = arg;
	struct k8s_watch *w = j->w;
	w->listing = false;
	if (w->stopped) {
		cJSON_Delete(j->list);
		free(j);
		buf_free(&w->line);
		free(w);
		return;
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(j->list, "items");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j->list, "metadata"), "resourceVersion");
	if (j->r < 0 || !cJSON_IsArray(items) || !cJSON_IsString(rv)) {
		log_msg(LOG_WARN, NULL, "kubernetes list failed", "path", w->path, "error",
			j->r < 0 ? j->e.msg : "answer without items or resourceVersion", NULL);
		cJSON_Delete(j->list);
		free(j);
		if (!w->watch)
			schedule_retry(w, true);
		else if (w->resync_s) /* a resync's: the watch goes on, a later resync retries */
			ev_timer_start(w->loop, &w->resync, (uint64_t)w->resync_s * 1000);
		return;
	}
	w->stats.lists++;
	w->synced = true;
	snprintf(w->addr, sizeof(w->addr), "%s", j->addr);
	w->cbs.on_list(w->arg, items);
	/* A resync's list is newer than the running watch: restart it from here. */
	snprintf(w->rv, sizeof(w->rv), "%s", rv->valuestring);
	cJSON_Delete(j->list);
	free(j);
	watch_start(w); /* in place of the running one, if any */
	if (w->resync_s)
		ev_timer_start(w->loop, &w->resync, (uint64_t)w->resync_s * 1000);
}

static void list_start(struct k8s_watch *w)
{
	if (w->listing)
		return; /* the running list starts a new watch when it ends */
	struct list_job *j = calloc(1, sizeof(*j));
	if (!j) {
		schedule_retry(w, true);
		return;
	}
	j->w = w;
	snprintf(j->host, sizeof(j->host), "%s", w->k->ep.host);
	snprintf(j->target, sizeof(j->target), "%s%s%s", w->path,
		 w->selector[0] ? "?labelSelector=" : "", w->selector);
	w->listing = true;
	if (jobs_submit(w->jobs, list_work, list_done, j) < 0) {
		w->listing = false;
		free(j);
		schedule_retry(w, true);
	}
}

/* --- WATCH ----------------------------------------------------------------- */

static void watch_event(struct k8s_watch *w, const char *text, size_t len)
{
	cJSON *ev = cJSON_ParseWithLength(text, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		cJSON_Delete(ev);
		return;
	}
	const char *t = type->valuestring;
	if (!strcmp(t, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		if (cJSON_IsNumber(code) && code->valueint == 410) {
			w->gone = true;
			w->stats.gone++;
		}
		cJSON_Delete(ev);
		return;
	}
	w->watch_lines++;
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion");
	if (cJSON_IsString(rv))
		snprintf(w->rv, sizeof(w->rv), "%s", rv->valuestring);
	if (strcmp(t, "BOOKMARK") != 0) {
		w->stats.events++;
		w->cbs.on_event(w->arg, t, obj);
	}
	cJSON_Delete(ev);
}

static void watch_head(struct http_client *c, const struct http_response_head *h, void *arg)
{
	(void)c;
	struct k8s_watch *w = arg;
	w->watch_status = h->status;
	if (h->status == 410) {
		w->gone = true;
		w->stats.gone++;
	}
}

static void watch_data(struct http_client *c, const char *data, size_t len, void *arg)
{
	struct k8s_watch *w = arg;
	if (w->watch_status != 200)
		return; /* a Status body: the status says enough */
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (buf_append(&w->line, data, n) < 0) {
			log_msg(LOG_WARN, NULL, "kubernetes watch event too large", "path", w->path,
				NULL);
			buf_reset(&w->line);
			http_client_cancel(c);
			w->watch = NULL;
			schedule_retry(w, true);
			return;
		}
		if (!nl)
			return;
		if (w->line.len)
			watch_event(w, buf_head(&w->line), w->line.len);
		buf_reset(&w->line);
		data = nl + 1;
		len -= n + 1;
		if (w->watch != c)
			return; /* cancelled from a callback */
	}
}

static void watch_done(struct http_client *c, int result, void *arg)
{
	struct k8s_watch *w = arg;
	w->watch = NULL;
	buf_reset(&w->line);
	bool brief = !w->watch_lines && ev_clock_ms() - w->watch_started_ms < BRIEF_WATCH_MS;
	if (!brief)
		w->backoff_ms = 0; /* the server was well enough */
	if (w->gone) {
		/* History is gone: only a new LIST knows the present. */
		w->gone = false;
		w->rv[0] = '\0';
		if (brief)
			schedule_retry(w, true); /* 410 at once, again: relist after a pause */
		else
			list_start(w);
		return;
	}
	if (result < 0 && http_client_retryable(c)) {
		watch_start(w); /* the kept connection had been closed: a new one */
		return;
	}
	if (result < 0 || w->watch_status != 200) {
		log_msg(LOG_WARN, NULL, "kubernetes watch failed", "path", w->path, "error",
			result < 0 ? http_client_error(c) : "non-200 answer", NULL);
		if (result < 0)
			w->addr[0] = '\0'; /* it may have moved: the retry lists and resolves */
		schedule_retry(w, false);
		return;
	}
	if (brief) {
		log_msg(LOG_WARN, NULL, "kubernetes watch ended at once", "path", w->path, NULL);
		schedule_retry(w, false);
		return;
	}
	watch_start(w); /* timeoutSeconds ended it: go on from the last version */
}

static void watch_start(struct k8s_watch *w)
{
	char target[1700], auth[K8S_TOKEN_MAX + 32], host[300];
	if (!w->addr[0]) { /* the LIST's worker could not resolve the name: no lookup here */
		if (w->watch)
			http_client_cancel(w->watch);
		w->watch = NULL;
		log_msg(LOG_WARN, NULL, "kubernetes watch failed", "path", w->path, "error",
			"cannot resolve the API server's name", NULL);
		schedule_retry(w, false);
		return;
	}
	snprintf(
		target, sizeof(target),
		"%s%s?watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%u%s%s",
		w->k->prefix, w->path, w->rv, w->watch_timeout_s,
		w->selector[0] ? "&labelSelector=" : "", w->selector);
	k8s_auth_header(w->k, auth, sizeof(auth));
	const char *hdrs[] = {auth[0] ? auth : "Accept: application/json",
			      "Accept: application/json", NULL};
	struct http_client_request rq = {
		.method = "GET",
		.target = target,
		.headers = hdrs,
		.timeout_ms = (w->watch_timeout_s + 30) * 1000,
		.deadline_ms = (w->watch_timeout_s + 60) * 1000, /* past timeoutSeconds: stuck */
		.keep = &w->keep, /* the next watch goes on the same connection */
	};
	struct http_client_cbs cbs = {
		.on_head = watch_head, .on_data = watch_data, .on_done = watch_done};
	/* To the address the LIST resolved; Host and the TLS name stay the server's. */
	struct http_endpoint ep = w->k->ep;
	snprintf(host, sizeof(host), strchr(ep.host, ':') ? "[%s]:%u" : "%s:%u", ep.host, ep.port);
	snprintf(ep.host, sizeof(ep.host), "%s", w->addr);
	rq.host = host;
	struct err e = {0};
	/* One watch at a time: a retry timer armed before a list restarted the
	 * watch must not start a second one, and a line cut short is no event. */
	ev_timer_stop(w->loop, &w->retry);
	if (w->watch)
		http_client_cancel(w->watch);
	buf_reset(&w->line);
	w->watch_status = 0;
	w->watch_lines = 0;
	w->watch_started_ms = ev_clock_ms();
	w->gone = false;
	w->watch = http_client_start(w->loop, &ep, &rq, &cbs, w, &e);
	memset(auth, 0, sizeof(auth));
	if (!w->watch) {
		log_msg(LOG_WARN, NULL, "kubernetes watch failed", "path", w->path, "error", e.msg,
			NULL);
		w->addr[0] = '\0';
		schedule_retry(w, false);
		return;
	}
	w->stats.watches++;
}

/* --- life ------------------------------------------------------------------ */

struct k8s_watch *k8s_watch_start(struct ev_loop *loop, struct jobs *jobs, struct k8s *k,
				  const struct k8s_watch_config *cfg,
				  const struct k8s_watch_cbs *cbs, void *arg, struct err *e)
{
	struct k8s_watch *w = calloc(1, sizeof(*w));
	if (!w) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	w->loop = loop;
	w->jobs = jobs;
	w->k = k;
	w->cbs = *cbs;
	w->arg = arg;
	snprintf(w->path, sizeof(w->path), "%s", cfg->path);
	if (cfg->label_selector)
		http_query_escape(cfg->label_selector, w->selector, sizeof(w->selector));
	w->watch_timeout_s = cfg->watch_timeout_s ? cfg->watch_timeout_s : 60;
	w->resync_s = cfg->resync_s;
	buf_init(&w->line, K8S_WATCH_LINE_MAX);
	ev_timer_init(&w->retry, on_retry, w);
	ev_timer_init(&w->resync, on_resync, w);
	list_start(w);
	return w;
}

void k8s_watch_stop(struct k8s_watch *w)
{
	if (!w)
		return;
	ev_timer_stop(w->loop, &w->retry);
	ev_timer_stop(w->loop, &w->resync);
	if (w->watch)
		http_client_cancel(w->watch);
	w->watch = NULL;
	http_keepalive_close(&w->keep);
	if (w->listing) {
		w->stopped = true; /* list_done frees */
		return;
	}
	buf_free(&w->line);
	free(w);
}

bool k8s_watch_synced(const struct k8s_watch *w)
{
	return w->synced;
}

void k8s_watch_get_stats(const struct k8s_watch *w, struct k8s_watch_stats *out)
{
	*out = w->stats;
	out->connections = w->keep.opened;
}
