// SPDX-License-Identifier: Apache-2.0
/*
 * Create on Docker: port reservation on the loop; the image check as a first
 * job (so a bad image is a clear error, not a Failed sandbox later); then the
 * provisioning job (volumes, egress sidecar, container, execd, start) and
 * 202 Pending; then /ping polling on the loop until Running.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "hostpath.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "runtime_docker.h"
#include "stats.h"
#include "store.h"

#define PING_INTERVAL_MS 20

struct create_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN];
	struct apival_create req;
	cJSON *body, *sidecar_body;
	char name[96];
	char auth[1024]; /* X-Registry-Auth, or "" */
	char platform[40];
	uint64_t egress_timeout_ms;
	char token[48];
	/* results */
	int result;
	int status;
	const char *code;
	struct err e;
	char cid[DOCKER_ID_LEN], sidecar[DOCKER_ID_LEN], ip[64];
	bool made_volume[APIVAL_MAX_VOLUMES]; /* created here: removed if the create fails */
	bool staged[APIVAL_MAX_VOLUMES];      /* host volume bind-mounted in mounts_dir */
};

static void create_job_free(struct create_job *j)
{
	apival_create_free(&j->req);
	cJSON_Delete(j->body);
	cJSON_Delete(j->sidecar_body);
	free(j);
}

static void job_fail(struct create_job *j, int r, int status, const char *code)
{
	j->result = r < 0 ? r : -EIO;
	j->status = runtime_docker_status(r, status);
	j->code = j->status == 503 ? "DOCKER::INITIALIZATION_ERROR" : code;
}

static void image_work(void *arg)
{
	struct create_job *j = arg;
	struct docker *d = &j->srv->docker;
	const char *net = j->srv->cfg.network_mode;
	int r;
	if (strcmp(net, "bridge") != 0 && strcmp(net, "host") != 0) {
		/* A user-defined network: a missing one is a configuration error worth naming. */
		char target[300];
		snprintf(target, sizeof(target), "/networks/");
		http_query_escape(net, target + strlen(target), sizeof(target) - strlen(target));
		r = docker_json(d, "GET", target, NULL, NULL, &j->e);
		if (r == -ENOENT) {
			err_set(&j->e, ENOENT,
				"the configured network '%s' does not exist on the Docker host",
				net);
			job_fail(j, r, 400, "SANDBOX::INVALID_PARAMETER");
			return;
		}
		if (r < 0) {
			job_fail(j, r, 500, "DOCKER::SANDBOX_START_FAILED");
			return;
		}
	}
	r = docker_image_inspect(d, j->req.image, NULL, &j->e);
	if (r == -ENOENT && j->req.snapshot_id) { /* never pulled: it is this host's own */
		err_set(&j->e, ENOENT, "the image of snapshot %s (%s) is gone", j->req.snapshot_id,
			j->req.image);
		job_fail(j, r, 409, "SNAPSHOT::INVALID_RESTORE_CONFIG");
		return;
	}
	if (r == -ENOENT && strcmp(j->srv->cfg.pull_policy, "never") != 0) {
		err_clear(&j->e);
		r = docker_image_pull(d, j->req.image, j->auth[0] ? j->auth : NULL,
				      j->platform[0] ? j->platform : NULL, &j->e);
		if (r < 0) {
			job_fail(j, r, r == -ENOENT ? 404 : 500,
				 "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
			return;
		}
		r = docker_image_inspect(d, j->req.image, NULL, &j->e);
	}
	if (r == -ENOENT) {
		err_set(&j->e, ENOENT, "image %s is not present on the Docker host%s", j->req.image,
			strcmp(j->srv->cfg.pull_policy, "never") == 0 ? " and pulling is disabled"
								      : "");
		job_fail(j, r, 404, "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
	} else if (r == -EINVAL) {
		job_fail(j, r, 400, "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
	} else if (r < 0) {
		job_fail(j, r, 500, "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
	}
}

/* Polls the sidecar's /healthz (every 200 ms, 1 s per try) until 2xx or the deadline. */
static int egress_wait(struct create_job *j)
{
	struct http_endpoint ep = {.kind = HTTP_EP_TCP, .port = EGRESS_PORT};
	snprintf(ep.host, sizeof(ep.host), "%s", j->ip);
	char auth[100];
	snprintf(auth, sizeof(auth), "OPENSANDBOX-EGRESS-AUTH: %s", j->token);
	const char *hdrs[] = {auth, NULL};
	uint64_t deadline = ev_clock_ms() + j->egress_timeout_ms;
	char last[ERR_MSG_MAX] = "no answer";
	while (ev_clock_ms() < deadline) {
		struct http_client_request rq = {
			.method = "GET", .target = "/healthz", .headers = hdrs, .timeout_ms = 1000};
		struct http_response resp;
		struct err e = {0};
		int r = http_request_sync(&ep, &rq, 4096, &resp, &e);
		if (r == 0 && resp.status >= 200 && resp.status < 300) {
			http_response_free(&resp);
			return 0;
		}
		if (r == 0)
			snprintf(last, sizeof(last), "HTTP %d", resp.status);
		else
			snprintf(last, sizeof(last), "%s", e.msg);
		http_response_free(&resp);
		usleep(200 * 1000);
	}
	/* A start failure (500), not a Docker call timing out (504). */
	return err_set(&j->e, EIO, "egress sidecar not ready within %llu s: %s",
		       (unsigned long long)(j->egress_timeout_ms / 1000), last);
}

/* The IP of a container on its network (the configured one first). */
static void container_ip(const cJSON *inspect, const char *mode, char *out, size_t cap)
{
	const cJSON *ns = cJSON_GetObjectItem(inspect, "NetworkSettings");
	const cJSON *nets = cJSON_GetObjectItem(ns, "Networks");
	const cJSON *n = mode ? cJSON_GetObjectItemCaseSensitive(nets, mode) : NULL;
	const cJSON *ip = n ? cJSON_GetObjectItem(n, "IPAddress") : NULL;
	if (!cJSON_IsString(ip) || !*ip->valuestring)
		ip = cJSON_GetObjectItem(ns, "IPAddress");
	if (!cJSON_IsString(ip) || !*ip->valuestring) {
		cJSON_ArrayForEach(n, nets)
		{
			ip = cJSON_GetObjectItem(n, "IPAddress");
			if (cJSON_IsString(ip) && *ip->valuestring)
				break;
		}
	}
	snprintf(out, cap, "%s", cJSON_IsString(ip) ? ip->valuestring : "");
}

/* A volume this server created (its label), or one the operator allowed by name. */
static bool volume_allowed(const struct apisrv *srv, const char *name, const cJSON *vol)
{
	const cJSON *lb = cJSON_GetObjectItem(cJSON_GetObjectItem(vol, "Labels"), LBL_MANAGED_VOLS);
	if (cJSON_IsString(lb) && !strcmp(lb->valuestring, "server"))
		return true;
	const char *list = srv->cfg.allowed_volumes;
	while (list && *list) {
		size_t n = strcspn(list, ",");
		char glob[256];
		snprintf(glob, sizeof(glob), "%.*s", (int)(n < 255 ? n : 255), list);
		if (glob[0] && fnmatch(glob, name, 0) == 0)
			return true;
		list += n + (list[n] == ',');
	}
	return false;
}

static int ensure_volumes(struct create_job *j)
{
	struct docker *d = &j->srv->docker;
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		const struct apival_volume *v = &j->req.volumes[i];
		if (v->kind != APIVAL_VOL_PVC)
			continue;
		char target[400];
		snprintf(target, sizeof(target), "/volumes/%s", v->claim);
		cJSON *vol = NULL;
		int r = docker_json(d, "GET", target, NULL, &vol, &j->e);
		bool allowed = r >= 0 && volume_allowed(j->srv, v->claim, vol);
		cJSON_Delete(vol);
		if (r >= 0 && !allowed) {
			err_set(&j->e, EPERM,
				"volume %s was not created by this server and is not in "
				"storage.allowed_volumes",
				v->claim);
			j->status = 400;
			j->code = "VOLUME::PVC_NOT_ALLOWED";
			return -EPERM;
		}
		if (r == -ENOENT && v->create_if_missing) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "Name", v->claim);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "Labels"),
						LBL_MANAGED_VOLS, "server");
			r = docker_json(d, "POST", "/volumes/create", b, NULL, &j->e);
			cJSON_Delete(b);
			j->made_volume[i] = r >= 0;
		} else if (r == -ENOENT) {
			err_set(&j->e, ENOENT, "volume %s does not exist", v->claim);
			j->status = 400;
			j->code = "VOLUME::PVC_NOT_FOUND";
			return -ENOENT;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* A named volume's subPath. Engine API 1.45 mounts it itself; older engines get the
 * local volume's directory walked like a host path (no link inside the volume may lead
 * out of it) and staged; other drivers cannot be reached that way. */
static int stage_volume_subpath(struct create_job *j, size_t i, cJSON *binds)
{
	const struct apival_volume *v = &j->req.volumes[i];
	struct docker *d = &j->srv->docker;
	j->status = 500;
	j->code = "VOLUME::PVC_INSPECT_FAILED";
	int minor = docker_api_minor(d, &j->e);
	if (minor < 0)
		return minor;
	if (minor >= 45) {
		cJSON *hc = cJSON_GetObjectItem(j->body, "HostConfig");
		cJSON *mounts = cJSON_GetObjectItem(hc, "Mounts");
		if (!mounts)
			mounts = cJSON_AddArrayToObject(hc, "Mounts");
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "Type", "volume");
		cJSON_AddStringToObject(m, "Source", v->claim);
		cJSON_AddStringToObject(m, "Target", v->mount_path);
		cJSON_AddBoolToObject(m, "ReadOnly", v->read_only);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "VolumeOptions"), "Subpath",
					v->sub_path);
		cJSON_AddItemToArray(mounts, m);
		return 0;
	}
	char target[400];
	snprintf(target, sizeof(target), "/volumes/%s", v->claim);
	cJSON *vol = NULL;
	int r = docker_json(d, "GET", target, NULL, &vol, &j->e);
	const cJSON *drv = cJSON_GetObjectItem(vol, "Driver");
	const cJSON *mp = cJSON_GetObjectItem(vol, "Mountpoint");
	char root[PATH_MAX] = "";
	if (r >= 0 && (!cJSON_IsString(drv) || strcmp(drv->valuestring, "local") != 0)) {
		r = err_set(&j->e, ENOTSUP,
			    "volume %s: subPath on driver %s needs Engine API 1.45 (this daemon "
			    "speaks 1.%d)",
			    v->name, cJSON_IsString(drv) ? drv->valuestring : "?", minor);
		j->status = 400;
		j->code = "VOLUME::PVC_SUBPATH_UNSUPPORTED_DRIVER";
	} else if (r >= 0 && cJSON_IsString(mp)) {
		snprintf(root, sizeof(root), "%s", mp->valuestring);
	}
	cJSON_Delete(vol);
	if (r < 0 || !root[0])
		return r < 0 ? r : err_set(&j->e, EPROTO, "volume %s: no Mountpoint", v->name);
	struct hostpath_prefix pre = {.path = root,
				      .fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)};
	if (pre.fd < 0)
		return err_set(&j->e, errno, "volume %s: %s: %s", v->name, root, strerror(errno));
	char path[PATH_MAX + 300], stage[PATH_MAX], bind[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/%s", root, v->sub_path);
	struct err e = {0};
	int fd = hostpath_open(&pre, 1, path, true, &e);
	close(pre.fd);
	r = fd;
	if (fd >= 0) {
		snprintf(stage, sizeof(stage), "%s/%s-%zu", j->srv->mounts_dir, j->id, i);
		r = hostpath_stage(fd, stage, &e);
		close(fd);
	}
	if (r < 0) {
		err_set(&j->e, -r, "volume %s: subPath %s: %s", v->name, v->sub_path, e.msg);
		if (fd < 0) { /* a link out of the volume, a file on the way */
			j->status = 400;
			j->code = "VOLUME::INVALID_SUB_PATH";
		}
		return r;
	}
	j->staged[i] = true;
	snprintf(bind, sizeof(bind), "%s:%s:%s", stage, v->mount_path, v->read_only ? "ro" : "rw");
	cJSON_AddItemToArray(binds, cJSON_CreateString(bind));
	return 0;
}

/* Host volumes, on the worker: each path opened without links below its allowed prefix
 * and bind-mounted by descriptor at a staging path that the daemon is given (hostpath.h). */
static int stage_host_volumes(struct create_job *j)
{
	struct apisrv *srv = j->srv;
	cJSON *binds = cJSON_GetObjectItem(cJSON_GetObjectItem(j->body, "HostConfig"), "Binds");
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		const struct apival_volume *v = &j->req.volumes[i];
		if (v->kind == APIVAL_VOL_PVC && v->sub_path) {
			int r = stage_volume_subpath(j, i, binds);
			if (r < 0)
				return r;
			continue;
		}
		if (v->kind != APIVAL_VOL_HOST)
			continue;
		char path[PATH_MAX], stage[PATH_MAX], bind[PATH_MAX + 300];
		snprintf(path, sizeof(path), "%s%s%s", v->host_path, v->sub_path ? "/" : "",
			 v->sub_path ? v->sub_path : "");
		struct err e = {0};
		int fd = hostpath_open(srv->host_prefixes, srv->num_host_prefixes, path, true, &e);
		int r = fd;
		if (fd >= 0) {
			snprintf(stage, sizeof(stage), "%s/%s-%zu", srv->mounts_dir, j->id, i);
			r = hostpath_stage(fd, stage, &e);
			close(fd);
		}
		if (r < 0) {
			err_set(&j->e, -r, "volume %s: %s", v->name, e.msg);
			j->status = r == -EPERM || r == -ELOOP ? 400
				    : fd < 0 && (r == -ENOTDIR || r == -EINVAL ||
						 r == -ENAMETOOLONG || r == -ENOENT)
					    ? 400
					    : 500;
			j->code = r == -EPERM || r == -ELOOP ? "VOLUME::HOST_PATH_NOT_ALLOWED"
				  : j->status == 400	     ? "VOLUME::INVALID_HOST_PATH"
							     : "VOLUME::HOST_PATH_CREATE_FAILED";
			return r;
		}
		j->staged[i] = true;
		snprintf(bind, sizeof(bind), "%s:%s:%s", stage, v->mount_path,
			 v->read_only ? "ro" : "rw");
		cJSON_AddItemToArray(binds, cJSON_CreateString(bind));
	}
	return 0;
}

static void unstage_host_volumes(struct create_job *j)
{
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		if (!j->staged[i])
			continue;
		char stage[PATH_MAX];
		snprintf(stage, sizeof(stage), "%s/%s-%zu", j->srv->mounts_dir, j->id, i);
		hostpath_unstage(stage);
		j->staged[i] = false;
	}
}

static void provision_work(void *arg)
{
	struct create_job *j = arg;
	struct apisrv *srv = j->srv;
	struct docker *d = &srv->docker;
	int r = 0;
	cJSON *ins = NULL;
	j->code = "DOCKER::SANDBOX_START_FAILED";
	j->status = 500;
	if ((r = ensure_volumes(j)) < 0 || (r = stage_host_volumes(j)) < 0)
		goto fail;
	if (j->sidecar_body) {
		char name[96];
		snprintf(name, sizeof(name), "sandbox-egress-%s", j->id);
		if ((r = docker_create(d, name, j->sidecar_body, j->sidecar, &j->e)) < 0 ||
		    (r = docker_action(d, j->sidecar, "start", &j->e)) < 0 ||
		    (r = docker_inspect(d, j->sidecar, &ins, &j->e)) < 0) {
			err_wrap(&j->e, "egress sidecar");
			goto fail;
		}
		container_ip(ins, "bridge", j->ip, sizeof(j->ip));
		cJSON_Delete(ins);
		ins = NULL;
		if ((r = egress_wait(j)) < 0)
			goto fail;
		char mode[100];
		snprintf(mode, sizeof(mode), "container:%s", j->sidecar);
		cJSON *hc = cJSON_GetObjectItem(j->body, "HostConfig");
		cJSON_ReplaceItemInObject(hc, "NetworkMode", cJSON_CreateString(mode));
	}
	if ((r = docker_create(d, j->name, j->body, j->cid, &j->e)) < 0)
		goto fail;
	if ((r = runtime_docker_inject(srv, j->cid, &j->e)) < 0) {
		err_wrap(&j->e, "installing execd");
		j->code = "DOCKER::SANDBOX_EXECD_DISTRIBUTION_FAILED";
		goto fail;
	}
	if ((r = docker_action(d, j->cid, "start", &j->e)) < 0)
		goto fail;
	unstage_host_volumes(j); /* the container holds its own copies of the mounts now */
	if (!j->sidecar_body && strcmp(srv->cfg.network_mode, "host") != 0) {
		if ((r = docker_inspect(d, j->cid, &ins, &j->e)) < 0)
			goto fail;
		container_ip(ins, srv->cfg.network_mode, j->ip, sizeof(j->ip));
		cJSON_Delete(ins);
	} else if (!j->sidecar_body) {
		snprintf(j->ip, sizeof(j->ip), "127.0.0.1");
	}
	j->result = 0;
	return;
fail:
	job_fail(j, r, j->status, j->code);
	unstage_host_volumes(j);
	struct err e2 = {0};
	if (j->cid[0])
		docker_remove(d, j->cid, &e2);
	if (j->sidecar[0])
		docker_remove(d, j->sidecar, &e2);
	/* A call that timed out may still have created its container: go by the labels too. */
	if (r != -EHOSTUNREACH) {
		char label[128];
		snprintf(label, sizeof(label), "%s=%s", LBL_ID, j->id);
		docker_remove_by_label(d, label, &e2);
		snprintf(label, sizeof(label), "%s=%s", LBL_SIDECAR_FOR, j->id);
		docker_remove_by_label(d, label, &e2);
	}
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		if (!j->made_volume[i])
			continue;
		char target[400];
		snprintf(target, sizeof(target), "/volumes/%s", j->req.volumes[i].claim);
		docker_json(d, "DELETE", target, NULL, NULL, &e2);
	}
	j->cid[0] = j->sidecar[0] = '\0';
}

static void ping_start(struct sbx *s);

static void on_ping_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	ping_start(arg);
}

static void ping_retry(struct sbx *s)
{
	if (ev_now(s->srv->loop) >= s->ready_deadline) {
		char msg[160];
		snprintf(msg, sizeof(msg), "execd did not answer /ping within %lld s",
			 (long long)s->srv->cfg.ready_timeout);
		sandbox_set_state(s, SBX_FAILED, "EXECD_NOT_READY", msg);
		s->failed_at_us = apival_now_us();
		store_dirty(s->srv->store); /* persisted: it stays Failed across restarts */
		log_msg(LOG_WARN, NULL, "sandbox not ready", "sandbox_id", s->id, NULL);
		return;
	}
	s->ready.cb = on_ping_timer;
	ev_timer_start(s->srv->loop, &s->ready, PING_INTERVAL_MS);
}

static void on_ping_head(struct http_client *c, const struct http_response_head *h, void *arg)
{
	(void)c;
	struct sbx *s = arg;
	if (h->status >= 200 && h->status < 300 && s->state == SBX_PENDING) {
		sandbox_set_state(s, SBX_RUNNING, "CONTAINER_RUNNING",
				  "Sandbox container started successfully.");
		stats_create_latency(s->srv->stats,
				     (double)(ev_clock_ms() - s->create_started) / 1000.0);
		log_msg(LOG_INFO, NULL, "sandbox running", "sandbox_id", s->id, NULL);
	}
}

static void on_ping_done(struct http_client *c, int result, void *arg)
{
	(void)c;
	(void)result;
	struct sbx *s = arg;
	s->ping = NULL;
	if (s->state == SBX_PENDING)
		ping_retry(s);
}

static void ping_start(struct sbx *s)
{
	struct http_endpoint ep = {.kind = HTTP_EP_TCP, .port = EXECD_PORT};
	snprintf(ep.host, sizeof(ep.host), "%s", s->ip);
	char auth[96];
	snprintf(auth, sizeof(auth), "X-EXECD-ACCESS-TOKEN: %s", s->execd_token);
	const char *hdrs[] = {auth, NULL};
	struct http_client_request rq = {.method = "GET",
					 .target = "/ping",
					 .timeout_ms = 2000,
					 .headers = s->execd_token[0] ? hdrs : NULL};
	struct http_client_cbs cbs = {.on_head = on_ping_head, .on_done = on_ping_done};
	struct err e = {0};
	s->ping = http_client_start(s->srv->loop, &ep, &rq, &cbs, s, &e);
	if (!s->ping)
		ping_retry(s);
}

static void provision_done(void *arg)
{
	struct create_job *j = arg;
	struct apisrv *srv = j->srv;
	struct sbx *s = store_find(srv->store, j->id);
	if (!s) { /* cannot happen: records of running jobs stay until the job ends */
		if (j->reply)
			reply_error(j->reply, 500, "GENERAL::UNKNOWN_ERROR", "sandbox record lost");
		create_job_free(j);
		return;
	}
	s->provisioning = false;
	s->changed_ms = ev_clock_ms();
	snprintf(s->cid, sizeof(s->cid), "%s", j->cid);
	snprintf(s->sidecar, sizeof(s->sidecar), "%s", j->sidecar);
	snprintf(s->ip, sizeof(s->ip), "%s", j->ip);
	if (j->result < 0) {
		/* Nothing is left behind (the job removed what it made): a clear error. */
		log_msg(LOG_ERROR, NULL, "sandbox provisioning failed", "sandbox_id", s->id,
			"error", j->e.msg, NULL);
		if (j->reply)
			reply_error(j->reply, j->status, j->code, "%s", j->e.msg);
		store_remove(srv->store, s);
	} else if (s->doomed) {
		if (j->reply)
			reply_error(j->reply, 409, "SANDBOX::DELETED",
				    "Sandbox %s was deleted while it was created.", s->id);
		s->deleting = true;
		runtime_docker_remove_containers(srv, s->id, s->cid, s->managed_vols, NULL, true);
	} else {
		/* 202 Pending once the container runs (so clients never probe a port whose
		 * forwarding is still being set up: a lost SYN costs them a 1 s retransmit);
		 * Running when execd answers /ping. */
		if (j->reply) {
			struct buf out;
			buf_init(&out, 0);
			sandbox_json(s, true, &out);
			reply_json(j->reply, 202, &out);
		}
		if (s->died) { /* it exited already (its "die" event came while we were busy) */
			char msg[64];
			snprintf(msg, sizeof(msg), "Container exited with code %d.", s->died_code);
			sandbox_set_state(
				s, s->died_code ? SBX_FAILED : SBX_TERMINATED,
				s->died_code ? "CONTAINER_EXITED_ERROR" : "CONTAINER_EXITED", msg);
		} else {
			s->ready_deadline =
				ev_now(srv->loop) + (uint64_t)srv->cfg.ready_timeout * 1000;
			ping_start(s);
		}
	}
	j->reply = NULL;
	create_job_free(j);
}

static void image_done(void *arg)
{
	struct create_job *j = arg;
	struct apisrv *srv = j->srv;
	struct sbx *s = store_find(srv->store, j->id);
	if (j->result < 0 || !s) {
		if (j->reply)
			reply_error(j->reply, j->status, j->code, "%s", j->e.msg);
		if (s)
			store_remove(srv->store, s);
		create_job_free(j);
		return;
	}
	if (jobs_submit(srv->jobs, provision_work, provision_done, j) < 0) {
		reply_error(j->reply, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		store_remove(srv->store, s);
		j->reply = NULL;
		create_job_free(j);
	}
}

void runtime_docker_create(struct apisrv *srv, struct sbx *s, struct apival_create *rq,
			   struct reply *r)
{
	struct apival_err ae = {0};
	const struct apicfg *cfg = &srv->cfg;
	bool egress = rq->network_policy != NULL;
	bool host_mode = strcmp(cfg->network_mode, "host") == 0;
	struct create_job *j = NULL;
	const char *id = s->id;
	if (egress && strcmp(cfg->network_mode, "bridge") != 0) {
		store_remove(srv->store, s);
		reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
			    "networkPolicy is not supported with network mode '%s' (bridge only)",
			    cfg->network_mode);
		goto out;
	}
	s->host_mode = host_mode;
	if (!host_mode) {
		uint16_t ports[3] = {0};
		if (store_ports_reserve(srv->store, ports, egress ? 3 : 2) < 0) {
			store_remove(srv->store, s);
			reply_error(r, 503, "DOCKER::SANDBOX_START_FAILED", "no free host port");
			goto out;
		}
		s->port_execd = ports[0];
		s->port_http = ports[1];
		s->port_egress = ports[2];
	}
	if (!s->image || !s->entrypoint || !(j = calloc(1, sizeof(*j)))) {
		store_remove(srv->store, s);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		goto out;
	}
	j->body = runtime_docker_main_body(srv, rq, s, egress, &ae);
	if (!j->body) {
		store_remove(srv->store, s);
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		free(j);
		j = NULL;
		goto out;
	}
	if (egress)
		j->sidecar_body = runtime_docker_sidecar_body(srv, rq, s);
	j->srv = srv;
	j->reply = r;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->token, sizeof(j->token), "%s", s->egress_token);
	j->egress_timeout_ms = (uint64_t)cfg->egress_ready_timeout * 1000;
	if (rq->plat_os[0]) {
		snprintf(j->platform, sizeof(j->platform), "%s/%s", rq->plat_os, rq->plat_arch);
		snprintf(j->name, sizeof(j->name), "sandbox-%s&platform=%s%%2F%s", id, rq->plat_os,
			 rq->plat_arch);
	} else {
		snprintf(j->name, sizeof(j->name), "sandbox-%s", id);
	}
	if (rq->auth_user) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "username", rq->auth_user);
		cJSON_AddStringToObject(a, "password", rq->auth_pass);
		char *text = cJSON_PrintUnformatted(a);
		cJSON_Delete(a);
		if (text && BASE64_ENCODED_LEN(strlen(text)) < sizeof(j->auth)) {
			base64_encode(j->auth, text, strlen(text));
			for (char *p = j->auth; *p; p++)
				*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
		}
		free(text);
	}
	j->req = *rq;
	rq->root = NULL; /* the job owns the tree now */
	sandbox_arm_expiry(srv, s);
	if (jobs_submit(srv->jobs, image_work, image_done, j) < 0) {
		store_remove(srv->store, s);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		create_job_free(j);
	}
	store_dirty(srv->store);
	return;
out:
	apival_create_free(rq);
}
