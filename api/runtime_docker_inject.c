// SPDX-License-Identifier: Apache-2.0
/*
 * execd injection: execd and bootstrap.sh as one tar, built once at start-up
 * (from the files beside the binary, else from the execd image), copied into
 * every new container before it starts.
 */
#include <errno.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runtime_docker.h"
#include "tar.h"

#define INJECT_PARALLEL 3 /* archive uploads at once: each holds a copy of the tar */
#define INJECT_MAX	(64u << 20)

/* The HTTP client copies a request body into its output queue, so every upload in
 * flight costs one tar (~400 KiB): bounding them bounds the server's peak memory. */
static sem_t inject_sem;

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

int runtime_docker_inject_init(struct apisrv *srv, const char *argv0, struct err *e)
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
		int r = buf_read_file(&f1, execd);
		if (r < 0)
			err_set(e, -r, "%s: %s", execd, strerror(-r));
		int r2 = r ? r : buf_read_file(&f2, boot);
		if (!r && r2 < 0)
			r = err_set(e, -r2, "%s: %s", boot, strerror(-r2));
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

int runtime_docker_inject(struct apisrv *srv, const char *cid, struct err *e)
{
	struct docker *d = &srv->docker;
	int r;
	while (sem_wait(&inject_sem) < 0 && errno == EINTR)
		;
	if (srv->inject_from_image) {
		struct buf t;
		buf_init(&t, 0);
		tar_add_dir(&t, "opt", 0755);
		tar_end(&t);
		r = docker_put_archive(d, cid, "/", buf_head(&t), t.len, e);
		buf_free(&t);
		r = r ? r
		      : docker_put_archive(d, cid, "/opt", buf_head(&srv->inject_tar),
					   srv->inject_tar.len, e);
	} else {
		r = docker_put_archive(d, cid, "/", buf_head(&srv->inject_tar), srv->inject_tar.len,
				       e);
	}
	sem_post(&inject_sem);
	return r;
}
