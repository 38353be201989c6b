// SPDX-License-Identifier: Apache-2.0
/*
 * Create: validation and port reservation on the loop; the image check as a
 * first job (so a bad image is a clear error, not a Failed sandbox later);
 * then 202 Pending and a provisioning job; then /ping polling on the loop.
 */
#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <semaphore.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "hostpath.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "sandbox.h"
#include "stats.h"
#include "store.h"
#include "tar.h"

#define PING_INTERVAL_MS 20
#define INJECT_PARALLEL	 3 /* archive uploads at once: each holds a copy of the tar */

/* The HTTP client copies a request body into its output queue, so every upload in
 * flight costs one tar (~400 KiB): bounding them bounds the server's peak memory. */
static sem_t inject_sem;
#define INJECT_MAX (64u << 20)

const char *sandbox_state_name(enum sbx_state s)
{
	static const char *const names[] = {"Pending",	  "Running", "Paused",
					    "Terminated", "Failed",  "Unknown"};
	return (unsigned)s < SBX_NSTATES ? names[s] : "Unknown";
}

void sandbox_set_state(struct sbx *s, enum sbx_state st, const char *reason, const char *msg)
{
	bool changed = s->state != st || strcmp(s->reason, reason) != 0;
	if (changed) {
		s->transition_us = apival_now_us();
		s->changed_ms = ev_clock_ms();
	}
	s->state = st;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (changed || !strstr(s->message, " Last output: "))
		snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	if (changed && st == SBX_FAILED)
		sandbox_failed_logs(s);
}

bool sandbox_visible(const struct sbx *s)
{
	return !s->doomed;
}

int sandbox_docker_status(int r, int fallback)
{
	return r == -EHOSTUNREACH ? 503 : fallback;
}

/* --- JSON -------------------------------------------------------------- */

int sandbox_json(const struct sbx *s, bool create_shape, struct buf *o)
{
	char t[APIVAL_TIME_LEN];
	int r = buf_puts(o, "{\"id\":");
	r = r ? r : json_buf_cstr(o, s->id, 0);
	if (!create_shape && s->image) {
		r = r ? r : buf_puts(o, ",\"image\":{\"uri\":");
		r = r ? r : json_buf_cstr(o, s->image, 0);
		r = r ? r : buf_puts(o, "}");
	}
	if (s->plat_os[0]) {
		r = r ? r : buf_puts(o, ",\"platform\":{\"os\":");
		r = r ? r : json_buf_cstr(o, s->plat_os, 0);
		r = r ? r : buf_puts(o, ",\"arch\":");
		r = r ? r : json_buf_cstr(o, s->plat_arch, 0);
		r = r ? r : buf_puts(o, "}");
	}
	r = r ? r : buf_puts(o, ",\"status\":{\"state\":");
	r = r ? r : json_buf_cstr(o, sandbox_state_name(s->state), 0);
	if (s->reason[0]) {
		r = r ? r : buf_puts(o, ",\"reason\":");
		r = r ? r : json_buf_cstr(o, s->reason, 0);
	}
	if (s->message[0]) {
		r = r ? r : buf_puts(o, ",\"message\":");
		r = r ? r : json_buf_cstr(o, s->message, 0);
	}
	if (s->transition_us) {
		apival_time_format(s->transition_us, t);
		r = r ? r : buf_printf(o, ",\"lastTransitionAt\":\"%s\"", t);
	}
	r = r ? r : buf_puts(o, "}");
	if (cJSON_GetArraySize(s->metadata) > 0) {
		r = r ? r : buf_puts(o, ",\"metadata\":");
		r = r ? r : json_buf_print(o, s->metadata);
	}
	r = r ? r : buf_puts(o, ",\"entrypoint\":");
	r = r ? r : buf_puts(o, s->entrypoint ? s->entrypoint : "[]");
	if (s->expires_us) {
		apival_time_format(s->expires_us, t);
		r = r ? r : buf_printf(o, ",\"expiresAt\":\"%s\"", t);
	}
	apival_time_format(s->created_us, t);
	r = r ? r : buf_printf(o, ",\"createdAt\":\"%s\"}", t);
	return r;
}

/* --- execd injection ---------------------------------------------------- */

static int read_file(const char *path, struct buf *b, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	int r = buf_read_fd(b, fd);
	close(fd);
	return r < 0 ? err_set(e, -r, "%s: %s", path, strerror(-r)) : 0;
}

/* The execd image as file source: a created (never started) container's /opt/opensandbox. */
static int inject_from_image(struct apisrv *srv, struct err *e)
{
	const char *img = srv->cfg.execd_image;
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "Image", img);
	cJSON *cmd = cJSON_AddArrayToObject(body, "Cmd");
	cJSON_AddItemToArray(cmd, cJSON_CreateString("/opt/opensandbox/execd"));
	cJSON *lb = cJSON_AddObjectToObject(body, "Labels");
	cJSON_AddStringToObject(lb, "opensandbox.io/execd-source",
				srv->cfg.instance[0] ? srv->cfg.instance : "true");
	char id[DOCKER_ID_LEN], name[80], hex[UUID_HEX_LEN];
	uuid_v4_hex(hex);
	snprintf(name, sizeof(name), "sandbox-execd-%s", hex);
	int r = docker_create(&srv->docker, name, body, id, e);
	cJSON_Delete(body);
	if (r < 0)
		return err_wrap(e, "execd image %s", img);
	r = docker_get_archive(&srv->docker, id, "/opt/opensandbox", &srv->inject_tar, e);
	struct err e2 = {0};
	docker_remove(&srv->docker, id, &e2);
	if (r < 0)
		return err_wrap(e, "execd image %s", img);
	srv->inject_from_image = true;
	return 0;
}

int sandbox_inject_init(struct apisrv *srv, const char *argv0, struct err *e)
{
	char dir[PATH_MAX], execd[PATH_MAX + 32], boot[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0) {
		snprintf(dir, sizeof(dir), "%s", argv0);
		n = (ssize_t)strlen(dir);
	}
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	snprintf(execd, sizeof(execd), "%s", srv->cfg.execd_path[0] ? srv->cfg.execd_path : "");
	if (!execd[0]) {
		/* build/bin/execd next to build/bin/sandbox-api; the sanitizer build lives in
		 * build/test. */
		snprintf(execd, sizeof(execd), "%s/execd", dir);
		if (access(execd, R_OK) != 0)
			snprintf(execd, sizeof(execd), "%s/../bin/execd", dir);
	}
	snprintf(boot, sizeof(boot), "%s",
		 srv->cfg.bootstrap_path[0] ? srv->cfg.bootstrap_path : "");
	if (!boot[0])
		snprintf(boot, sizeof(boot), "%s/../../images/bootstrap.sh", dir);
	sem_init(&inject_sem, 0, INJECT_PARALLEL);
	buf_init(&srv->inject_tar, INJECT_MAX);
	if (access(execd, R_OK) == 0 && access(boot, R_OK) == 0) {
		struct buf f1, f2;
		buf_init(&f1, INJECT_MAX);
		buf_init(&f2, 1u << 20);
		int r = read_file(execd, &f1, e);
		r = r ? r : read_file(boot, &f2, e);
		r = r ? r : tar_add_dir(&srv->inject_tar, "opt", 0755);
		r = r ? r : tar_add_dir(&srv->inject_tar, "opt/opensandbox", 0755);
		r = r ? r
		      : tar_add_file(&srv->inject_tar, "opt/opensandbox/execd", 0755, buf_head(&f1),
				     f1.len);
		r = r ? r
		      : tar_add_file(&srv->inject_tar, "opt/opensandbox/bootstrap.sh", 0755,
				     buf_head(&f2), f2.len);
		r = r ? r : tar_end(&srv->inject_tar);
		buf_free(&f1);
		buf_free(&f2);
		if (r == 0) {
			log_msg(LOG_INFO, NULL, "execd injection from local files", "execd", execd,
				"bootstrap", boot, NULL);
			return 0;
		}
		return err_wrap(e, "execd injection files");
	}
	int r = inject_from_image(srv, e);
	if (r == 0)
		log_msg(LOG_INFO, NULL, "execd injection from image", "image", srv->cfg.execd_image,
			NULL);
	return r;
}

/* --- create ------------------------------------------------------------- */

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
	j->status = sandbox_docker_status(r, status);
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
		docker_query_escape(net, target + strlen(target), sizeof(target) - strlen(target));
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
	return err_set(&j->e, ETIMEDOUT, "egress sidecar not ready within %llu s: %s",
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

static int stage_host_volumes(struct create_job *j);
static void unstage_host_volumes(struct create_job *j);

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
	while (sem_wait(&inject_sem) < 0 && errno == EINTR)
		;
	if (srv->inject_from_image) {
		struct buf t;
		buf_init(&t, 0);
		tar_add_dir(&t, "opt", 0755);
		tar_end(&t);
		r = docker_put_archive(d, j->cid, "/", buf_head(&t), t.len, &j->e);
		buf_free(&t);
		r = r ? r
		      : docker_put_archive(d, j->cid, "/opt", buf_head(&srv->inject_tar),
					   srv->inject_tar.len, &j->e);
	} else {
		r = docker_put_archive(d, j->cid, "/", buf_head(&srv->inject_tar),
				       srv->inject_tar.len, &j->e);
	}
	sem_post(&inject_sem);
	if (r < 0) {
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
		sandbox_remove_containers(srv, s->id, s->cid, s->managed_vols, NULL, true);
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

/* --- create bodies ------------------------------------------------------ */

static void add_csv(cJSON *arr, const char *csv)
{
	const char *p = csv;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[512];
		if (n && n < sizeof(item)) {
			memcpy(item, p, n);
			item[n] = '\0';
			cJSON_AddItemToArray(arr, cJSON_CreateString(item));
		}
		p = comma ? comma + 1 : NULL;
	}
}

static bool csv_has(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) &&
					!strcasecmp(it->valuestring, s)) return true;
	return false;
}

static void port_binding(const struct apisrv *srv, cJSON *pb, cJSON *exposed, unsigned cport,
			 unsigned hport)
{
	char key[16], hp[8];
	snprintf(key, sizeof(key), "%u/tcp", cport);
	snprintf(hp, sizeof(hp), "%u", hport);
	cJSON *arr = cJSON_AddArrayToObject(pb, key);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "HostIp", srv->cfg.publish_address);
	cJSON_AddStringToObject(b, "HostPort", hp);
	cJSON_AddItemToArray(arr, b);
	cJSON_AddObjectToObject(exposed, key);
}

/* Host volumes, on the worker: each path opened without links below its allowed prefix
 * and bind-mounted by descriptor at a staging path that the daemon is given (hostpath.h). */
static int stage_host_volumes(struct create_job *j)
{
	struct apisrv *srv = j->srv;
	cJSON *binds = cJSON_GetObjectItem(cJSON_GetObjectItem(j->body, "HostConfig"), "Binds");
	for (size_t i = 0; i < j->req.num_volumes; i++) {
		const struct apival_volume *v = &j->req.volumes[i];
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

static cJSON *labels_for(struct apisrv *srv, const struct apival_create *rq, const struct sbx *s)
{
	char t[APIVAL_TIME_LEN], num[16];
	cJSON *l = rq->metadata ? cJSON_Duplicate(rq->metadata, 1) : cJSON_CreateObject();
	cJSON_AddStringToObject(l, LBL_ID, s->id);
	if (s->expires_us) {
		apival_time_format(s->expires_us, t);
		cJSON_AddStringToObject(l, LBL_EXPIRES, t);
	} else {
		cJSON_AddStringToObject(l, LBL_MANUAL, "true");
	}
	if (s->plat_os[0]) {
		cJSON_AddStringToObject(l, LBL_OS, s->plat_os);
		cJSON_AddStringToObject(l, LBL_ARCH, s->plat_arch);
	}
	if (s->port_execd) {
		snprintf(num, sizeof(num), "%u", s->port_execd);
		cJSON_AddStringToObject(l, LBL_EXECD_PORT, num);
		snprintf(num, sizeof(num), "%u", s->port_http);
		cJSON_AddStringToObject(l, LBL_HTTP_PORT, num);
	}
	if (s->port_egress) {
		snprintf(num, sizeof(num), "%u", s->port_egress);
		cJSON_AddStringToObject(l, LBL_EGRESS_PORT, num);
	}
	if (s->egress_token[0])
		cJSON_AddStringToObject(l, LBL_EGRESS_TOKEN, s->egress_token);
	if (s->execd_token[0])
		cJSON_AddStringToObject(l, LBL_EXECD_TOKEN, s->execd_token);
	if (s->secure_token[0])
		cJSON_AddStringToObject(l, LBL_SECURE_TOKEN, s->secure_token);
	if (s->renew_extend) {
		snprintf(num, sizeof(num), "%lld", (long long)s->renew_extend);
		cJSON_AddStringToObject(l, LBL_RENEW, num);
	}
	if (s->managed_vols)
		cJSON_AddStringToObject(l, LBL_MANAGED_VOLS, s->managed_vols);
	cJSON_AddStringToObject(l, LBL_ENTRYPOINT, s->entrypoint);
	cJSON_AddStringToObject(l, LBL_IMAGE, s->image);
	if (srv->cfg.instance[0])
		cJSON_AddStringToObject(l, LBL_INSTANCE, srv->cfg.instance);
	return l;
}

static cJSON *main_body(struct apisrv *srv, const struct apival_create *rq, const struct sbx *s,
			bool egress, struct apival_err *ae)
{
	const struct apicfg *cfg = &srv->cfg;
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "Image", rq->image);
	cJSON *ep = cJSON_AddArrayToObject(b, "Entrypoint");
	cJSON_AddItemToArray(ep, cJSON_CreateString("/opt/opensandbox/bootstrap.sh"));
	cJSON_AddItemToObject(b, "Cmd", cJSON_Duplicate(rq->entrypoint, 1));
	cJSON *env = cJSON_AddArrayToObject(b, "Env");
	const cJSON *it;
	if (rq->env) {
		cJSON_ArrayForEach(it, rq->env)
		{
			/* The credential and bootstrap's stage are the server's to set,
			 * never the caller's. */
			if (!cJSON_IsString(it) || !strcmp(it->string, "EXECD_ACCESS_TOKEN") ||
			    !strcmp(it->string, "OPENSANDBOX_BOOTSTRAP_STAGE"))
				continue;
			size_t n = strlen(it->string) + strlen(it->valuestring) + 2;
			char *kv = malloc(n);
			if (!kv)
				continue;
			snprintf(kv, n, "%s=%s", it->string, it->valuestring);
			cJSON_AddItemToArray(env, cJSON_CreateString(kv));
			free(kv);
		}
	}
	char tok[80];
	snprintf(tok, sizeof(tok), "EXECD_ACCESS_TOKEN=%s", s->execd_token);
	cJSON_AddItemToArray(env, cJSON_CreateString(tok));
	cJSON_AddItemToObject(b, "Labels", labels_for(srv, rq, s));
	cJSON *hc = cJSON_AddObjectToObject(b, "HostConfig");
	cJSON_AddStringToObject(hc, "NetworkMode",
				egress ? "container:pending" : cfg->network_mode);
	if (!egress && !s->host_mode) {
		cJSON *exposed = cJSON_AddObjectToObject(b, "ExposedPorts");
		cJSON *pb = cJSON_AddObjectToObject(hc, "PortBindings");
		port_binding(srv, pb, exposed, EXECD_PORT, s->port_execd);
		/* secureAccess: the application is reached through the gateway only. */
		if (!s->secure_token[0])
			port_binding(srv, pb, exposed, HTTP_APP_PORT, s->port_http);
	}
	cJSON *so = cJSON_AddArrayToObject(hc, "SecurityOpt");
	if (cfg->no_new_privileges)
		cJSON_AddItemToArray(so, cJSON_CreateString("no-new-privileges:true"));
	char opt[600];
	if (cfg->apparmor[0]) {
		snprintf(opt, sizeof(opt), "apparmor=%s", cfg->apparmor);
		cJSON_AddItemToArray(so, cJSON_CreateString(opt));
	}
	if (cfg->seccomp[0]) {
		struct buf sc;
		buf_init(&sc, 1u << 20);
		buf_puts(&sc, "seccomp=");
		if (cfg->seccomp[0] == '/' || cfg->seccomp[0] == '.') {
			struct err e = {0};
			if (read_file(cfg->seccomp, &sc, &e) < 0) {
				buf_free(&sc);
				cJSON_Delete(b);
				apival_fail(ae, 500, "DOCKER::SANDBOX_START_FAILED",
					    "seccomp profile: %s", e.msg);
				return NULL;
			}
		} else {
			buf_puts(&sc, cfg->seccomp);
		}
		cJSON_AddItemToArray(so, cJSON_CreateString(buf_cstr(&sc)));
		buf_free(&sc);
	}
	cJSON *cd = cJSON_AddArrayToObject(hc, "CapDrop");
	add_csv(cd, cfg->cap_drop);
	if (egress) {
		if (!csv_has(cd, "NET_ADMIN"))
			cJSON_AddItemToArray(cd, cJSON_CreateString("NET_ADMIN"));
		if (!csv_has(cd, "NET_RAW"))
			cJSON_AddItemToArray(cd, cJSON_CreateString("NET_RAW"));
	}
	if (cfg->pids_limit)
		cJSON_AddNumberToObject(hc, "PidsLimit", (double)cfg->pids_limit);
	if (rq->memory)
		cJSON_AddNumberToObject(hc, "Memory", (double)rq->memory);
	if (rq->nano_cpus)
		cJSON_AddNumberToObject(hc, "NanoCpus", (double)rq->nano_cpus);
	if (rq->gpus) {
		cJSON *dr = cJSON_AddArrayToObject(hc, "DeviceRequests");
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "Driver", "");
		cJSON_AddNumberToObject(d, "Count", (double)rq->gpus);
		cJSON *caps = cJSON_AddArrayToObject(d, "Capabilities");
		cJSON *inner = cJSON_CreateArray();
		cJSON_AddItemToArray(inner, cJSON_CreateString("gpu"));
		cJSON_AddItemToArray(caps, inner);
		cJSON_AddItemToArray(dr, d);
	}
	if (cfg->secure_runtime[0])
		cJSON_AddStringToObject(hc, "Runtime", cfg->secure_runtime);
	cJSON *binds = cJSON_AddArrayToObject(hc, "Binds");
	for (size_t i = 0; i < rq->num_volumes; i++) {
		const struct apival_volume *v = &rq->volumes[i];
		char bind[PATH_MAX + 300];
		if (v->kind == APIVAL_VOL_HOST) {
			/* Staged on the worker (stage_host_volumes); only the allowlist here. */
			snprintf(bind, sizeof(bind), "%s%s%s", v->host_path, v->sub_path ? "/" : "",
				 v->sub_path ? v->sub_path : "");
			if (!hostpath_allowed(srv->host_prefixes, srv->num_host_prefixes, bind)) {
				cJSON_Delete(b);
				apival_fail(
					ae, 400, "VOLUME::HOST_PATH_NOT_ALLOWED",
					"volume %s: host path %s is not under an allowed prefix%s",
					v->name, bind,
					srv->num_host_prefixes ? "" : " (none is configured)");
				return NULL;
			}
			continue;
		} else {
			if (v->sub_path) {
				cJSON_Delete(b);
				apival_fail(ae, 400, "VOLUME::PVC_SUBPATH_UNSUPPORTED_DRIVER",
					    "volume %s: subPath on a named volume is not supported",
					    v->name);
				return NULL;
			}
			snprintf(bind, sizeof(bind), "%s:%s:%s", v->claim, v->mount_path,
				 v->read_only ? "ro" : "rw");
		}
		cJSON_AddItemToArray(binds, cJSON_CreateString(bind));
	}
	return b;
}

static cJSON *sidecar_body(struct apisrv *srv, const struct apival_create *rq, const struct sbx *s)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "Image", srv->cfg.egress_image);
	cJSON *lb = cJSON_AddObjectToObject(b, "Labels");
	cJSON_AddStringToObject(lb, LBL_SIDECAR_FOR, s->id);
	if (srv->cfg.instance[0])
		cJSON_AddStringToObject(lb, LBL_INSTANCE, srv->cfg.instance);
	cJSON *env = cJSON_AddArrayToObject(b, "Env");
	struct buf v;
	buf_init(&v, 0);
	buf_puts(&v, "OPENSANDBOX_EGRESS_RULES=");
	json_buf_print(&v, rq->network_policy);
	cJSON_AddItemToArray(env, cJSON_CreateString(buf_cstr(&v)));
	buf_reset(&v);
	buf_printf(&v, "OPENSANDBOX_EGRESS_MODE=%s", srv->cfg.egress_mode);
	cJSON_AddItemToArray(env, cJSON_CreateString(buf_cstr(&v)));
	buf_reset(&v);
	buf_printf(&v, "OPENSANDBOX_EGRESS_TOKEN=%s", s->egress_token);
	cJSON_AddItemToArray(env, cJSON_CreateString(buf_cstr(&v)));
	buf_reset(&v);
	buf_printf(&v, "OPENSANDBOX_EGRESS_SANDBOX_ID=%s", s->id);
	cJSON_AddItemToArray(env, cJSON_CreateString(buf_cstr(&v)));
	buf_free(&v);
	add_csv(env, srv->cfg.egress_env);
	cJSON *hc = cJSON_AddObjectToObject(b, "HostConfig");
	cJSON_AddStringToObject(hc, "NetworkMode", "bridge");
	cJSON *ca = cJSON_AddArrayToObject(hc, "CapAdd");
	cJSON_AddItemToArray(ca, cJSON_CreateString("NET_ADMIN"));
	cJSON *exposed = cJSON_AddObjectToObject(b, "ExposedPorts");
	cJSON *pb = cJSON_AddObjectToObject(hc, "PortBindings");
	port_binding(srv, pb, exposed, EXECD_PORT, s->port_execd);
	if (!s->secure_token[0]) /* secureAccess: the app through the gateway only */
		port_binding(srv, pb, exposed, HTTP_APP_PORT, s->port_http);
	port_binding(srv, pb, exposed, EGRESS_PORT, s->port_egress);
	if (srv->cfg.disable_ipv6) {
		cJSON *sc = cJSON_AddObjectToObject(hc, "Sysctls");
		cJSON_AddStringToObject(sc, "net.ipv6.conf.all.disable_ipv6", "1");
		cJSON_AddStringToObject(sc, "net.ipv6.conf.default.disable_ipv6", "1");
		cJSON_AddStringToObject(sc, "net.ipv6.conf.lo.disable_ipv6", "1");
	}
	return b;
}

/* base64url(24 random bytes): 32 characters. */
static void random_token(char out[48])
{
	unsigned char raw[24];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		uuid_v4(raw), uuid_v4(raw + 8);
	char b64[BASE64_ENCODED_LEN(24) + 1];
	base64_encode(b64, raw, sizeof(raw));
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	snprintf(out, 48, "%s", b64);
}

void sandbox_create(struct apisrv *srv, struct apival_create *rq, struct reply *r)
{
	struct apival_err ae = {0};
	const struct apicfg *cfg = &srv->cfg;
	bool egress = rq->network_policy != NULL;
	bool host_mode = strcmp(cfg->network_mode, "host") == 0;
	struct create_job *j = NULL;
	if (egress && !cfg->egress_image[0]) {
		reply_error(
			r, 400, "SANDBOX::INVALID_PARAMETER",
			"networkPolicy needs an egress sidecar image (egress.image) configured");
		goto out;
	}
	if (rq->secure_access && strcmp(cfg->ingress_mode, "gateway") != 0) {
		reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
			    "secureAccess needs the ingress gateway (--ingress-mode gateway)");
		goto out;
	}
	if (egress && strcmp(cfg->network_mode, "bridge") != 0) {
		reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
			    "networkPolicy is not supported with network mode '%s' (bridge only)",
			    cfg->network_mode);
		goto out;
	}
	char id[UUID_STR_LEN];
	uuid_v4_str(id);
	struct sbx *s = store_add(srv->store, id);
	if (!s) {
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		goto out;
	}
	snprintf(r->sandbox, sizeof(r->sandbox), "%s", id);
	s->provisioning = true;
	s->host_mode = host_mode;
	s->created_us = apival_now_us();
	s->transition_us = s->created_us;
	s->create_started = ev_clock_ms();
	if (rq->timeout)
		s->expires_us = s->created_us + rq->timeout * 1000000;
	snprintf(s->reason, sizeof(s->reason), "CONTAINER_STARTING");
	snprintf(s->message, sizeof(s->message), "Sandbox is being provisioned.");
	s->image = strdup(rq->image);
	s->entrypoint = cJSON_PrintUnformatted(rq->entrypoint);
	if (rq->metadata) {
		cJSON_Delete(s->metadata);
		s->metadata = cJSON_Duplicate(rq->metadata, 1);
	}
	snprintf(s->plat_os, sizeof(s->plat_os), "%s", rq->plat_os);
	snprintf(s->plat_arch, sizeof(s->plat_arch), "%s", rq->plat_arch);
	s->renew_extend = rq->renew_extend;
	if (egress)
		random_token(s->egress_token);
	random_token(s->execd_token);
	if (rq->secure_access)
		random_token(s->secure_token);
	cJSON *mv = NULL;
	for (size_t i = 0; i < rq->num_volumes; i++) {
		if (rq->volumes[i].kind != APIVAL_VOL_PVC || !rq->volumes[i].delete_on_termination)
			continue;
		if (!mv)
			mv = cJSON_CreateArray();
		cJSON_AddItemToArray(mv, cJSON_CreateString(rq->volumes[i].claim));
	}
	if (mv) {
		s->managed_vols = cJSON_PrintUnformatted(mv);
		cJSON_Delete(mv);
	}
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
	j->body = main_body(srv, rq, s, egress, &ae);
	if (!j->body) {
		store_remove(srv->store, s);
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		free(j);
		j = NULL;
		goto out;
	}
	if (egress)
		j->sidecar_body = sidecar_body(srv, rq, s);
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
