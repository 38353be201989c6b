// SPDX-License-Identifier: Apache-2.0
/*
 * Docker snapshot artifacts: the image opensandbox-snapshots:<snapshot id>,
 * made by POST /commit (the Engine pauses the container while it copies).
 *
 * A committed image keeps the container's labels and environment, and a
 * container made from it inherits them. The sandbox's own labels
 * (opensandbox.io/...) would then describe the old sandbox (its tokens,
 * expiry, ports) on the restored one, so they are committed blank (the
 * Engine cannot drop them; recovery reads a blank label as absent), and so
 * is the old execd credential.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime_docker.h"
#include "snapshot.h"

#define SNAPSHOT_REPO "opensandbox-snapshots"

static void artifact(struct apisrv *srv, const char *sid, char *out, size_t cap)
{
	(void)srv;
	snprintf(out, cap, "%s:%s", SNAPSHOT_REPO, sid);
}

/* The image config the commit starts from (the Engine merges the container's
 * own config under it). NULL on ENOMEM. */
static cJSON *commit_config(struct apisrv *srv, const cJSON *inspect, const char *sid)
{
	cJSON *cfg = cJSON_CreateObject(), *labels = cJSON_AddObjectToObject(cfg, "Labels");
	cJSON *env = cJSON_AddArrayToObject(cfg, "Env");
	const cJSON *have = cJSON_GetObjectItem(cJSON_GetObjectItem(inspect, "Config"), "Labels");
	const cJSON *l;
	cJSON_ArrayForEach(l, have)
	{
		if (l->string && !strncmp(l->string, "opensandbox.io/", 15))
			cJSON_AddStringToObject(labels, l->string, "");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(labels, LBL_SNAPSHOT);
	cJSON_AddStringToObject(labels, LBL_SNAPSHOT, sid);
	if (srv->cfg.instance[0]) { /* so that a test run can find what it made */
		cJSON_DeleteItemFromObjectCaseSensitive(labels, LBL_INSTANCE);
		cJSON_AddStringToObject(labels, LBL_INSTANCE, srv->cfg.instance);
	}
	cJSON_AddItemToArray(env, cJSON_CreateString("EXECD_ACCESS_TOKEN="));
	if (!labels || !env || cJSON_GetArraySize(env) != 1) {
		cJSON_Delete(cfg);
		return NULL;
	}
	return cfg;
}

static int commit(struct apisrv *srv, const char *cid, const char *image, struct err *e)
{
	const char *sid = strchr(image, ':');
	if (!sid)
		return err_set(e, EINVAL, "bad snapshot image '%s'", image);
	sid++;
	cJSON *inspect = NULL;
	int r = docker_inspect(&srv->docker, cid, &inspect, e);
	if (r < 0)
		return r == -ENOENT ? err_set(e, ENOENT, "the sandbox's container is gone") : r;
	cJSON *cfg = commit_config(srv, inspect, sid);
	cJSON_Delete(inspect);
	if (!cfg)
		return err_set(e, ENOMEM, "out of memory");
	char target[512];
	snprintf(target, sizeof(target),
		 "/commit?container=%s&repo=" SNAPSHOT_REPO "&tag=%s&pause=true"
		 "&comment=opensandbox%%20snapshot",
		 cid, sid);
	r = docker_json(&srv->docker, "POST", target, cfg, NULL, e);
	cJSON_Delete(cfg);
	return r < 0 ? r : 0;
}

static int remove_image(struct apisrv *srv, const char *image, struct err *e)
{
	char target[300];
	if (!*image)
		return 0;
	snprintf(target, sizeof(target), "/images/%s", image);
	int r = docker_json(&srv->docker, "DELETE", target, NULL, NULL, e);
	if (r == -EBUSY)
		err_set(e, EBUSY,
			"The snapshot's image %s is in use (a sandbox restored from it still "
			"exists); delete that sandbox first.",
			image);
	return r == -ENOENT ? 0 : r < 0 ? r : 0;
}

static int exists(struct apisrv *srv, const char *image, struct err *e)
{
	int r = docker_image_inspect(&srv->docker, image, NULL, e);
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

const struct runtime_snapshots runtime_docker_snapshots = {
	.artifact = artifact,
	.commit = commit,
	.remove = remove_image,
	.exists = exists,
};
