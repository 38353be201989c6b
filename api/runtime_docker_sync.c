// SPDX-License-Identifier: Apache-2.0
/*
 * Keeping the store true to Docker: recovery at start-up, the events stream,
 * and a periodic reconciliation + expiry sweep (the in-process timers alone
 * would miss expiries across restarts; upstream had no sweep).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "log.h"
#include "runtime_docker.h"
#include "store.h"

#define EVENTS_RETRY_MS 2000
#define EVENTS_LINE_MAX (1u << 20)

/* A blank label is no label: a restored sandbox inherits its snapshot's
 * labels blanked (runtime_docker_snapshot.c). */
static const char *label(const cJSON *labels, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Containers of other sandbox-api instances on the same daemon are not ours. */
static bool owned(const struct apisrv *srv, const cJSON *labels)
{
	const char *inst = label(labels, LBL_INSTANCE);
	return strcmp(inst ? inst : "", srv->cfg.instance) == 0;
}

/* State of a container from a list item ("State", "Status"). */
static void state_from_list(struct sbx *s, const cJSON *item)
{
	const cJSON *st = cJSON_GetObjectItem(item, "State");
	const cJSON *status = cJSON_GetObjectItem(item, "Status");
	const char *state = cJSON_IsString(st) ? st->valuestring : "";
	if (!strcmp(state, "running")) {
		if (s->state != SBX_PENDING || s->reason[0] == '\0' ||
		    strcmp(s->reason, "CONTAINER_STARTING") != 0)
			sandbox_set_state(s, SBX_RUNNING, "CONTAINER_RUNNING",
					  "Sandbox container is running.");
	} else if (!strcmp(state, "paused")) {
		if (!s->committing) /* a commit's own pause is not the user's */
			sandbox_set_state(s, SBX_PAUSED, "CONTAINER_PAUSED",
					  "Sandbox container is paused.");
	} else if (!strcmp(state, "restarting")) {
		sandbox_set_state(s, SBX_RUNNING, "CONTAINER_RESTARTING",
				  "Sandbox container is restarting.");
	} else if (!strcmp(state, "exited") || !strcmp(state, "dead")) {
		int code = 0;
		const char *p = cJSON_IsString(status) ? strchr(status->valuestring, '(') : NULL;
		if (p)
			code = atoi(p + 1);
		char msg[64];
		snprintf(msg, sizeof(msg), "Container exited with code %d.", code);
		if (code == 0)
			sandbox_set_state(s, SBX_TERMINATED, "CONTAINER_EXITED", msg);
		else
			sandbox_set_state(s, SBX_FAILED, "CONTAINER_EXITED_ERROR", msg);
	} else if (!strcmp(state, "created")) {
		sandbox_set_state(s, SBX_PENDING, "CONTAINER_STARTING",
				  "Sandbox container is starting.");
	} else {
		sandbox_set_state(s, SBX_UNKNOWN, "CONTAINER_STATE_UNKNOWN", state);
	}
}

static void ip_from_list(const cJSON *item, const char *mode, char *out, size_t cap)
{
	const cJSON *nets =
		cJSON_GetObjectItem(cJSON_GetObjectItem(item, "NetworkSettings"), "Networks");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(nets, mode);
	const cJSON *ip = n ? cJSON_GetObjectItem(n, "IPAddress") : NULL;
	if (!cJSON_IsString(ip) || !*ip->valuestring) {
		cJSON_ArrayForEach(n, nets)
		{
			ip = cJSON_GetObjectItem(n, "IPAddress");
			if (cJSON_IsString(ip) && *ip->valuestring)
				break;
		}
	}
	if (cJSON_IsString(ip) && *ip->valuestring)
		snprintf(out, cap, "%s", ip->valuestring);
}

static const cJSON *find_sidecar(const cJSON *sidecars, const char *id)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, sidecars)
	{
		const char *for_id = label(cJSON_GetObjectItem(it, "Labels"), LBL_SIDECAR_FOR);
		if (for_id && !strcmp(for_id, id))
			return it;
	}
	return NULL;
}

static uint16_t port_label(const cJSON *labels, const char *key)
{
	const char *v = label(labels, key);
	long p = v ? strtol(v, NULL, 10) : 0;
	return p > 0 && p < 65536 ? (uint16_t)p : 0;
}

/* A record for a sandbox container found in Docker (start-up, or created elsewhere). */
static void adopt(struct apisrv *srv, const cJSON *item, const cJSON *sidecars)
{
	const cJSON *labels = cJSON_GetObjectItem(item, "Labels");
	const char *id = label(labels, LBL_ID);
	const cJSON *cid = cJSON_GetObjectItem(item, "Id");
	if (!id || strlen(id) >= UUID_STR_LEN || !cJSON_IsString(cid))
		return;
	struct sbx *s = store_add(srv->store, id);
	if (!s)
		return;
	snprintf(s->cid, sizeof(s->cid), "%s", cid->valuestring);
	const char *img = label(labels, LBL_IMAGE);
	const cJSON *image = cJSON_GetObjectItem(item, "Image");
	s->image = strdup(img ? img : cJSON_IsString(image) ? image->valuestring : "unknown");
	/* The entrypoint label is our JSON array; a container made by another server
	 * has only the list's Command string (no inspect: this runs on the loop). */
	const char *ep = label(labels, LBL_ENTRYPOINT);
	cJSON *arr = ep ? cJSON_Parse(ep) : NULL;
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		const cJSON *cmd = cJSON_GetObjectItem(item, "Command");
		arr = cJSON_CreateArray();
		if (cJSON_IsString(cmd))
			cJSON_AddItemToArray(arr, cJSON_CreateString(cmd->valuestring));
	}
	s->entrypoint = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	const cJSON *created = cJSON_GetObjectItem(item, "Created");
	s->created_us = cJSON_IsNumber(created) ? (int64_t)created->valuedouble * 1000000 : 0;
	const char *exp = label(labels, LBL_EXPIRES);
	if (exp)
		apival_time_parse(exp, &s->expires_us);
	const char *v;
	if ((v = label(labels, LBL_OS)))
		snprintf(s->plat_os, sizeof(s->plat_os), "%s", v);
	if ((v = label(labels, LBL_ARCH)))
		snprintf(s->plat_arch, sizeof(s->plat_arch), "%s", v);
	if ((v = label(labels, LBL_EGRESS_TOKEN)))
		snprintf(s->egress_token, sizeof(s->egress_token), "%s", v);
	if ((v = label(labels, LBL_EXECD_TOKEN)))
		snprintf(s->execd_token, sizeof(s->execd_token), "%s", v);
	if ((v = label(labels, LBL_SECURE_TOKEN)))
		snprintf(s->secure_token, sizeof(s->secure_token), "%s", v);
	if ((v = label(labels, LBL_MANAGED_VOLS)))
		s->managed_vols = strdup(v);
	if ((v = label(labels, LBL_RENEW)))
		s->renew_extend = atoll(v);
	if ((v = label(labels, LBL_SNAPSHOT)))
		snprintf(s->snapshot_id, sizeof(s->snapshot_id), "%s", v);
	s->port_execd = port_label(labels, LBL_EXECD_PORT);
	s->port_http = port_label(labels, LBL_HTTP_PORT);
	s->port_egress = port_label(labels, LBL_EGRESS_PORT);
	uint16_t ports[3] = {s->port_execd, s->port_http, s->port_egress};
	store_ports_mark(srv->store, ports, 3);
	const cJSON *hc = cJSON_GetObjectItem(item, "HostConfig");
	const cJSON *nm = cJSON_GetObjectItem(hc, "NetworkMode");
	s->host_mode = cJSON_IsString(nm) && !strcmp(nm->valuestring, "host");
	const cJSON *sc = find_sidecar(sidecars, id);
	if (sc) {
		const cJSON *scid = cJSON_GetObjectItem(sc, "Id");
		if (cJSON_IsString(scid))
			snprintf(s->sidecar, sizeof(s->sidecar), "%s", scid->valuestring);
		ip_from_list(sc, "bridge", s->ip, sizeof(s->ip));
	} else if (s->host_mode) {
		snprintf(s->ip, sizeof(s->ip), "127.0.0.1");
	} else {
		ip_from_list(item, cJSON_IsString(nm) ? nm->valuestring : "bridge", s->ip,
			     sizeof(s->ip));
	}
	/* User metadata: the labels minus ours and the image's well-known ones. */
	const cJSON *l;
	cJSON_ArrayForEach(l, labels)
	{
		const char *k = l->string;
		if (!cJSON_IsString(l) || !strncmp(k, "opensandbox.io/", 15) ||
		    !strncmp(k, "org.opencontainers.image.", 25) ||
		    !strncmp(k, "com.docker.", 11) || !strncmp(k, "desktop.docker.", 15) ||
		    !apival_label_key_ok(k))
			continue;
		cJSON_AddStringToObject(s->metadata, k, l->valuestring);
	}
	/* The state file wins: renewals and metadata patches since the container was made. */
	const cJSON *p = store_persisted(srv->store, id);
	if (p) {
		const cJSON *pe = cJSON_GetObjectItem(p, "expiresAt");
		int64_t us;
		if (cJSON_IsString(pe) && apival_time_parse(pe->valuestring, &us) == 0 &&
		    s->expires_us)
			s->expires_us = us;
		const cJSON *pm = cJSON_GetObjectItem(p, "metadata");
		if (cJSON_IsObject(pm)) {
			cJSON_Delete(s->metadata);
			s->metadata = cJSON_Duplicate(pm, 1);
		}
	}
	state_from_list(s, item);
	/* A sandbox whose execd never answered stays Failed (and is removed after failed_ttl). */
	const cJSON *pf = p ? cJSON_GetObjectItem(p, "failedAtUs") : NULL;
	if (cJSON_IsNumber(pf) && pf->valuedouble > 0 && s->state != SBX_TERMINATED) {
		sandbox_set_state(s, SBX_FAILED, "EXECD_NOT_READY",
				  "execd did not answer /ping before the ready timeout.");
		s->failed_at_us = (int64_t)pf->valuedouble;
	}
	s->transition_us = s->created_us;
	sandbox_arm_expiry(srv, s);
	log_msg(LOG_INFO, NULL, "sandbox adopted", "sandbox_id", s->id, "state",
		sandbox_state_name(s->state), NULL);
}

void runtime_docker_label_filter(struct apisrv *srv, const char *label, const char *extra,
				 char *out, size_t cap)
{
	if (srv->cfg.instance[0])
		snprintf(out, cap, "{%s\"label\":[\"%s\",\"%s=%s\"]}", extra ? extra : "", label,
			 LBL_INSTANCE, srv->cfg.instance);
	else
		snprintf(out, cap, "{%s\"label\":[\"%s\"]}", extra ? extra : "", label);
}

struct sync_job {
	struct apisrv *srv;
	bool startup;	      /* recovery: unfinished creates are ours to remove */
	uint64_t snapshot_ms; /* when the lists were asked for (monotonic) */
	cJSON *list, *sidecars;
	int result;
	struct err e;
};

static void sync_work(void *arg)
{
	struct sync_job *j = arg;
	char f1[400], f2[400];
	runtime_docker_label_filter(j->srv, LBL_ID, NULL, f1, sizeof(f1));
	runtime_docker_label_filter(j->srv, LBL_SIDECAR_FOR, NULL, f2, sizeof(f2));
	j->result = docker_list(&j->srv->docker, f1, &j->list, &j->e);
	if (j->result == 0)
		j->result = docker_list(&j->srv->docker, f2, &j->sidecars, &j->e);
}

static bool reconciling;

/* The lists are a snapshot taken on a worker: a record created or changed since
 * (a create that finished, a ping that made it Running) knows better. */
static bool newer_than(const struct sbx *s, const struct sync_job *j)
{
	return !j->startup && s->changed_ms >= j->snapshot_ms;
}

static void sync_done(void *arg)
{
	struct sync_job *j = arg;
	struct apisrv *srv = j->srv;
	reconciling = false;
	if (j->result < 0) {
		if (srv->docker_ok)
			log_msg(LOG_ERROR, NULL, "Docker reconciliation failed", "error", j->e.msg,
				NULL);
		srv->docker_ok = false;
		goto out;
	}
	bool was_ok = srv->docker_ok;
	srv->docker_ok = true;
	const cJSON *it;
	cJSON_ArrayForEach(it, j->list)
	{
		const cJSON *labels = cJSON_GetObjectItem(it, "Labels");
		const char *id = label(labels, LBL_ID);
		const cJSON *cid = cJSON_GetObjectItem(it, "Id");
		const cJSON *state = cJSON_GetObjectItem(it, "State");
		if (!id || !cJSON_IsString(cid) || !owned(srv, labels))
			continue;
		struct sbx *s = store_find(srv->store, id);
		if (!s) {
			if (cJSON_IsString(state) && !strcmp(state->valuestring, "created")) {
				/* Left over by a create that never finished (the server died).
				 * Later on, a created container we do not know is someone else's
				 * create in progress: leave it alone. */
				if (j->startup) {
					log_msg(LOG_INFO, NULL,
						"removing unfinished sandbox container",
						"sandbox_id", id, NULL);
					runtime_docker_remove_containers(srv, id, cid->valuestring,
									 NULL, NULL, false);
				}
				continue;
			}
			if (!j->startup && store_removed_since(srv->store, id, j->snapshot_ms))
				continue; /* deleted after the list was taken */
			adopt(srv, it, j->sidecars);
			continue;
		}
		if (s->provisioning || s->deleting || s->doomed || s->failed_at_us ||
		    ev_timer_active(&s->ready) || s->ping || newer_than(s, j))
			continue;
		state_from_list(s, it);
	}
	/* Records whose container is gone (removed behind our back). */
	for (size_t i = 0; i < store_count(srv->store);) {
		struct sbx *s = store_at(srv->store, i);
		bool found = false;
		cJSON_ArrayForEach(it, j->list)
		{
			const char *id = label(cJSON_GetObjectItem(it, "Labels"), LBL_ID);
			if (id && !strcmp(id, s->id)) {
				found = true;
				break;
			}
		}
		if (!found && !s->provisioning && !s->deleting && !s->doomed && !s->failed_at_us &&
		    !s->ping && !ev_timer_active(&s->ready) && !newer_than(s, j)) {
			log_msg(LOG_INFO, NULL, "sandbox container vanished", "sandbox_id", s->id,
				NULL);
			if (s->sidecar[0])
				runtime_docker_remove_containers(srv, s->id, NULL, NULL, NULL,
								 false);
			store_remove(srv->store, s);
			continue;
		}
		i++;
	}
	/* Orphan sidecars: their sandbox is gone. */
	cJSON_ArrayForEach(it, j->sidecars)
	{
		const cJSON *labels = cJSON_GetObjectItem(it, "Labels");
		const char *for_id = label(labels, LBL_SIDECAR_FOR);
		const cJSON *cid = cJSON_GetObjectItem(it, "Id");
		if (!for_id || !cJSON_IsString(cid) || !owned(srv, labels))
			continue;
		struct sbx *s = store_find(srv->store, for_id);
		if (s && (s->provisioning || !s->doomed))
			continue;
		/* After start-up, a young unknown sidecar may be another server's create. */
		const cJSON *created = cJSON_GetObjectItem(it, "Created");
		if (!s && !j->startup && cJSON_IsNumber(created) &&
		    apival_now_us() / 1000000 - (int64_t)created->valuedouble < 300)
			continue;
		if (s && s->deleting)
			continue;
		log_msg(LOG_INFO, NULL, "removing orphan egress sidecar", "sandbox_id", for_id,
			NULL);
		runtime_docker_remove_containers(srv, for_id, cid->valuestring, NULL, NULL, false);
	}
	store_forget_persisted(srv->store);
	store_dirty(srv->store);
	if (!was_ok)
		log_msg(LOG_INFO, NULL, "Docker reachable", NULL);
out:
	cJSON_Delete(j->list);
	cJSON_Delete(j->sidecars);
	free(j);
}

void runtime_docker_reconcile(struct apisrv *srv)
{
	if (reconciling)
		return;
	struct sync_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->srv = srv;
	j->snapshot_ms = ev_clock_ms();
	reconciling = true;
	if (jobs_submit(srv->jobs, sync_work, sync_done, j) < 0) {
		reconciling = false;
		free(j);
	}
}

/* --- events ------------------------------------------------------------- */

static void events_connect(struct apisrv *srv);

static void on_event(struct apisrv *srv, const cJSON *ev)
{
	const cJSON *action = cJSON_GetObjectItem(ev, "Action");
	const cJSON *attrs = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "Actor"), "Attributes");
	const char *id = label(attrs, LBL_ID);
	if (!cJSON_IsString(action) || !id || !owned(srv, attrs))
		return;
	struct sbx *s = store_find(srv->store, id);
	const char *a = action->valuestring;
	if (s && s->provisioning && !strcmp(a, "die")) {
		const char *code = label(attrs, "exitCode");
		s->died = true;
		s->died_code = code ? atoi(code) : 0;
		return;
	}
	if (!s || s->provisioning || s->doomed)
		return;
	if (!strcmp(a, "die") && !s->deleting) {
		const char *code = label(attrs, "exitCode");
		int c = code ? atoi(code) : 0;
		char msg[64];
		snprintf(msg, sizeof(msg), "Container exited with code %d.", c);
		sandbox_set_state(s, c ? SBX_FAILED : SBX_TERMINATED,
				  c ? "CONTAINER_EXITED_ERROR" : "CONTAINER_EXITED", msg);
	} else if (!strcmp(a, "pause")) {
		if (!s->committing)
			sandbox_set_state(s, SBX_PAUSED, "CONTAINER_PAUSED",
					  "Sandbox container is paused.");
	} else if (!strcmp(a, "unpause") ||
		   (!strcmp(a, "start") && !s->ping && !ev_timer_active(&s->ready) &&
		    s->state != SBX_PENDING)) {
		sandbox_set_state(s, SBX_RUNNING, "CONTAINER_RUNNING",
				  "Sandbox container is running.");
	} else if (!strcmp(a, "destroy") && !s->deleting) {
		log_msg(LOG_INFO, NULL, "sandbox container removed outside the server",
			"sandbox_id", s->id, NULL);
		if (s->sidecar[0])
			runtime_docker_remove_containers(srv, s->id, NULL, NULL, NULL, false);
		store_remove(srv->store, s);
	}
}

static void events_data(struct http_client *c, const char *data, size_t len, void *arg)
{
	(void)c;
	struct apisrv *srv = arg;
	if (buf_append(&srv->events_buf, data, len) < 0) {
		buf_reset(&srv->events_buf);
		return;
	}
	for (;;) {
		char *head = buf_head(&srv->events_buf);
		char *nl = memchr(head, '\n', srv->events_buf.len);
		if (!nl)
			break;
		size_t n = (size_t)(nl - head);
		cJSON *ev = n ? cJSON_ParseWithLength(head, n) : NULL;
		if (ev)
			on_event(srv, ev);
		cJSON_Delete(ev);
		buf_consume(&srv->events_buf, n + 1);
	}
}

static void on_events_retry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	events_connect(arg);
}

static void events_done(struct http_client *c, int result, void *arg)
{
	(void)c;
	(void)result;
	struct apisrv *srv = arg;
	srv->events = NULL;
	if (srv->stopping)
		return;
	srv->events_retry.cb = on_events_retry;
	ev_timer_start(srv->loop, &srv->events_retry, EVENTS_RETRY_MS);
}

static void events_connect(struct apisrv *srv)
{
	static bool first = true;
	char filters[400], esc[1200], target[1300];
	runtime_docker_label_filter(srv, LBL_ID, "\"type\":[\"container\"],", filters,
				    sizeof(filters));
	http_query_escape(filters, esc, sizeof(esc));
	snprintf(target, sizeof(target), "/events?filters=%s", esc);
	struct http_client_request rq = {
		.method = "GET", .target = target, .timeout_ms = UINT32_MAX};
	struct http_client_cbs cbs = {.on_data = events_data, .on_done = events_done};
	struct err e = {0};
	buf_reset(&srv->events_buf);
	srv->events = http_client_start(srv->loop, &srv->docker.ep, &rq, &cbs, srv, &e);
	if (!srv->events) {
		events_done(NULL, -EIO, srv);
		return;
	}
	if (!first) /* events may have been missed while disconnected */
		runtime_docker_reconcile(srv);
	first = false;
}

static void events_start(struct apisrv *srv)
{
	buf_init(&srv->events_buf, EVENTS_LINE_MAX);
	events_connect(srv);
}

/* --- sweep -------------------------------------------------------------- */

static void on_sweep(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct apisrv *srv = arg;
	int64_t now = apival_now_us();
	for (size_t i = 0; i < store_count(srv->store);) {
		struct sbx *s = store_at(srv->store, i);
		if (s->failed_at_us && !s->deleting &&
		    now - s->failed_at_us > srv->cfg.failed_ttl * 1000000) {
			log_msg(LOG_INFO, NULL, "removing a sandbox that never became ready",
				"sandbox_id", s->id, NULL);
			sandbox_expire(srv, s);
		} else if (s->doomed && !s->provisioning && !s->deleting) {
			/* Deleted while provisioning and its removal failed: try again. */
			s->deleting = true;
			runtime_docker_remove_containers(srv, s->id, s->cid, s->managed_vols, NULL,
							 true);
		} else if (s->expires_us && s->expires_us <= now && !s->deleting && !s->doomed) {
			sandbox_expire(srv, s);
		}
		i++;
	}
	runtime_docker_reconcile(srv);
	ev_timer_start(loop, t, (uint64_t)srv->cfg.sweep_seconds * 1000);
}

/* Host volumes are staged in a root-only directory; a crash may leave some behind. */
static void mounts_dir_init(struct apisrv *srv)
{
	snprintf(srv->mounts_dir, sizeof(srv->mounts_dir), "%s/mounts", srv->cfg.state_dir);
	if (mkdir(srv->mounts_dir, 0700) < 0 && errno != EEXIST)
		log_msg(LOG_WARN, NULL, "cannot create the host volume staging directory", "path",
			srv->mounts_dir, "error", strerror(errno), NULL);
	chmod(srv->mounts_dir, 0700);
	DIR *d = opendir(srv->mounts_dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", srv->mounts_dir, de->d_name);
		hostpath_unstage(path);
	}
	if (d)
		closedir(d);
}

int runtime_docker_start(struct apisrv *srv, struct err *e)
{
	mounts_dir_init(srv);
	/* Recovery runs before serving: the same reconciliation, waited for. */
	struct sync_job *j = calloc(1, sizeof(*j));
	if (!j)
		return err_set(e, ENOMEM, "out of memory");
	j->srv = srv;
	j->startup = true;
	sync_work(j);
	int r = j->result;
	if (r < 0)
		log_msg(LOG_WARN, NULL, "Docker not reachable at start-up; will retry", "error",
			j->e.msg, NULL);
	srv->docker_ok = true; /* so a failure below is logged once */
	sync_done(j);
	/* Leftover execd source containers. */
	struct err e2 = {0};
	char lbl[300];
	snprintf(lbl, sizeof(lbl), "opensandbox.io/execd-source=%s",
		 srv->cfg.instance[0] ? srv->cfg.instance : "true");
	if (r == 0)
		docker_remove_by_label(&srv->docker, lbl, &e2);
	events_start(srv);
	srv->sweep.cb = on_sweep;
	ev_timer_start(srv->loop, &srv->sweep, (uint64_t)srv->cfg.sweep_seconds * 1000);
	return 0;
}

void runtime_docker_stop(struct apisrv *srv)
{
	srv->stopping = true;
	ev_timer_stop(srv->loop, &srv->sweep);
	ev_timer_stop(srv->loop, &srv->events_retry);
	if (srv->events)
		http_client_cancel(srv->events);
	srv->events = NULL;
	buf_free(&srv->events_buf);
}
