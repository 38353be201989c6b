// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes objects of a sandbox: the pod pieces both providers share
 * (execd installer init container, the sandbox container, the egress
 * sidecar, volumes, pull secret, platform), the BatchSandbox around them, or
 * a plain Pod; PVCs and the image pull Secret.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "hostpath.h"
#include "json.h"
#include "runtime_k8s.h"

static void add_env(cJSON *env, const char *name, const char *value)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "value", value);
	cJSON_AddItemToArray(env, e);
}

static cJSON *mount(const char *name, const char *path, bool ro, const char *sub)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "name", name);
	cJSON_AddStringToObject(m, "mountPath", path);
	if (ro)
		cJSON_AddBoolToObject(m, "readOnly", true);
	if (sub)
		cJSON_AddStringToObject(m, "subPath", sub);
	return m;
}

cJSON *runtime_k8s_labels(const struct apisrv *srv, const struct sbx *s)
{
	cJSON *l = cJSON_Duplicate(s->metadata, 1);
	cJSON_AddStringToObject(l, LBL_ID, s->id);
	if (!s->expires_us)
		cJSON_AddStringToObject(l, LBL_MANUAL, "true");
	if (srv->cfg.instance[0])
		cJSON_AddStringToObject(l, LBL_INSTANCE, srv->cfg.instance);
	return l;
}

cJSON *runtime_k8s_annotations(const struct apisrv *srv, const struct sbx *s)
{
	char num[24], t[APIVAL_TIME_LEN];
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, LBL_EXECD_TOKEN, s->execd_token);
	if (s->secure_token[0])
		cJSON_AddStringToObject(a, LBL_SECURE_TOKEN, s->secure_token);
	if (s->egress_token[0])
		cJSON_AddStringToObject(a, LBL_EGRESS_TOKEN, s->egress_token);
	if (s->renew_extend) {
		snprintf(num, sizeof(num), "%lld", (long long)s->renew_extend);
		cJSON_AddStringToObject(a, LBL_RENEW, num);
	}
	if (s->plat_os[0]) {
		cJSON_AddStringToObject(a, LBL_OS, s->plat_os);
		cJSON_AddStringToObject(a, LBL_ARCH, s->plat_arch);
	}
	/* Plain pods have no expiry of their own: this server enforces this one. */
	if (runtime_k8s_pods(srv) && s->expires_us) {
		apival_time_format(s->expires_us, t);
		cJSON_AddStringToObject(a, LBL_EXPIRES, t);
	}
	return a;
}

/* resourceLimits as Kubernetes quantities: gpu becomes nvidia.com/gpu. */
static int resources(const struct apival_create *rq, cJSON *c, struct apival_err *ae)
{
	const cJSON *rl = cJSON_GetObjectItemCaseSensitive(rq->root, "resourceLimits");
	if (!cJSON_IsObject(rl) || !rl->child)
		return 0;
	cJSON *lim = cJSON_CreateObject();
	const cJSON *it;
	cJSON_ArrayForEach(it, rl)
	{
		if (!cJSON_IsString(it))
			continue;
		if (!strcmp(it->string, "gpu")) {
			int64_t n = 0;
			/* "all" as apival reads it (any case), as the Docker runtime does. */
			if (apival_gpu_parse(it->valuestring, &n) == 0 && n < 0) {
				cJSON_Delete(lim);
				return apival_fail(
					ae, 400, "SANDBOX::INVALID_PARAMETER",
					"resourceLimits.gpu: \"all\" is not supported on "
					"Kubernetes; give a count");
			}
			if (n > 0) { /* the count as read: " 2" or "+2" is no Kubernetes quantity */
				char q[24];
				snprintf(q, sizeof(q), "%lld", (long long)n);
				cJSON_AddStringToObject(lim, "nvidia.com/gpu", q);
			}
			continue;
		}
		cJSON_AddStringToObject(lim, it->string, it->valuestring);
	}
	cJSON *res = cJSON_AddObjectToObject(c, "resources");
	cJSON_AddItemToObject(res, "limits", cJSON_Duplicate(lim, 1));
	cJSON_AddItemToObject(res, "requests", lim);
	return 0;
}

static cJSON *installer(const struct apisrv *srv, bool egress)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", "execd-installer");
	cJSON_AddStringToObject(c, "image", srv->cfg.execd_image);
	cJSON_AddStringToObject(c, "imagePullPolicy", srv->cfg.k8s_pull_policy);
	/* execd copies itself: the execd image needs no shell. The image's own
	 * /opt/opensandbox holds the files, so the volume goes elsewhere here. */
	cJSON *cmd = cJSON_AddArrayToObject(c, "command");
	cJSON_AddItemToArray(cmd, cJSON_CreateString(K8S_BIN_DIR "/execd"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("--install"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString(K8S_INSTALL_DIR));
	if (egress && srv->cfg.disable_ipv6) {
		cJSON_AddItemToArray(cmd, cJSON_CreateString("--disable-ipv6"));
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(c, "securityContext"), "privileged",
				      true);
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "volumeMounts"),
			     mount(K8S_BIN_VOLUME, K8S_INSTALL_DIR, false, NULL));
	if (srv->cfg.k8s_init_resources[0]) {
		cJSON *res = cJSON_Parse(srv->cfg.k8s_init_resources);
		if (cJSON_IsObject(res))
			cJSON_AddItemToObject(c, "resources", res);
		else
			cJSON_Delete(res);
	}
	return c;
}

/* The pod volume of rq->volumes[i]: a claim mounted twice has one pod volume,
 * the first volume's that names it. */
static const char *pod_volume(const struct apival_create *rq, size_t i)
{
	const struct apival_volume *v = &rq->volumes[i];
	for (size_t j = 0; v->kind == APIVAL_VOL_PVC && j < i; j++)
		if (rq->volumes[j].kind == APIVAL_VOL_PVC &&
		    !strcmp(rq->volumes[j].claim, v->claim))
			return rq->volumes[j].name;
	return v->name;
}

static cJSON *sandbox_container(const struct apisrv *srv, const struct sbx *s,
				const struct apival_create *rq, bool egress, struct apival_err *ae)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", "sandbox");
	cJSON_AddStringToObject(c, "image", rq->image);
	cJSON_AddStringToObject(c, "imagePullPolicy", srv->cfg.k8s_pull_policy);
	cJSON *cmd = cJSON_AddArrayToObject(c, "command");
	cJSON_AddItemToArray(cmd, cJSON_CreateString(K8S_BIN_DIR "/bootstrap.sh"));
	const cJSON *it;
	cJSON_ArrayForEach(it, rq->entrypoint)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(it->valuestring));
	cJSON *env = cJSON_AddArrayToObject(c, "env");
	cJSON_ArrayForEach(it, rq->env)
	{
		/* The credential and bootstrap's stage are the server's to set. */
		if (!cJSON_IsString(it) || !strcmp(it->string, "EXECD_ACCESS_TOKEN") ||
		    !strcmp(it->string, "OPENSANDBOX_BOOTSTRAP_STAGE") ||
		    !strcmp(it->string, "EXECD"))
			continue;
		add_env(env, it->string, it->valuestring);
	}
	add_env(env, "EXECD", K8S_BIN_DIR "/execd");
	add_env(env, "EXECD_ACCESS_TOKEN", s->execd_token);
	if (resources(rq, c, ae) < 0) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON *mounts = cJSON_AddArrayToObject(c, "volumeMounts");
	cJSON_AddItemToArray(mounts, mount(K8S_BIN_VOLUME, K8S_BIN_DIR, false, NULL));
	for (size_t i = 0; i < rq->num_volumes; i++) {
		const struct apival_volume *v = &rq->volumes[i];
		cJSON_AddItemToArray(
			mounts, mount(pod_volume(rq, i), v->mount_path, v->read_only, v->sub_path));
	}
	if (egress) {
		cJSON *caps = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "securityContext"),
						      "capabilities");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(caps, "drop"),
				     cJSON_CreateString("NET_ADMIN"));
	}
	return c;
}

static cJSON *egress_container(const struct apisrv *srv, const struct sbx *s,
			       const struct apival_create *rq)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", "egress");
	cJSON_AddStringToObject(c, "image", srv->cfg.egress_image);
	cJSON_AddStringToObject(c, "imagePullPolicy", srv->cfg.k8s_pull_policy);
	cJSON *env = cJSON_AddArrayToObject(c, "env");
	char *rules = cJSON_PrintUnformatted(rq->network_policy);
	add_env(env, "OPENSANDBOX_EGRESS_RULES", rules ? rules : "{}");
	free(rules);
	add_env(env, "OPENSANDBOX_EGRESS_MODE", srv->cfg.egress_mode);
	add_env(env, "OPENSANDBOX_EGRESS_TOKEN", s->egress_token);
	add_env(env, "OPENSANDBOX_EGRESS_SANDBOX_ID", s->id);
	const char *list = srv->cfg.egress_env;
	while (list && *list) { /* KEY=VALUE,KEY=VALUE */
		size_t n = strcspn(list, ",");
		char kv[512];
		snprintf(kv, sizeof(kv), "%.*s", (int)(n < 511 ? n : 511), list);
		char *eq = strchr(kv, '=');
		if (eq) {
			*eq = '\0';
			add_env(env, kv, eq + 1);
		}
		list += n + (list[n] == ',');
	}
	cJSON *caps = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "securityContext"),
					      "capabilities");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(caps, "add"), cJSON_CreateString("NET_ADMIN"));
	cJSON *port = cJSON_CreateObject();
	cJSON_AddStringToObject(port, "name", "egress-api");
	cJSON_AddNumberToObject(port, "containerPort", EGRESS_PORT);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "ports"), port);
	cJSON *probe = cJSON_AddObjectToObject(c, "readinessProbe");
	cJSON *get = cJSON_AddObjectToObject(probe, "httpGet");
	cJSON_AddStringToObject(get, "path", "/healthz");
	cJSON_AddNumberToObject(get, "port", EGRESS_PORT);
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "name", "OPENSANDBOX-EGRESS-AUTH");
	cJSON_AddStringToObject(h, "value", s->egress_token);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(get, "httpHeaders"), h);
	cJSON_AddNumberToObject(probe, "periodSeconds", 1);
	cJSON_AddNumberToObject(probe, "failureThreshold", 30);
	return c;
}

static int volumes(const struct apisrv *srv, const struct apival_create *rq, cJSON *spec,
		   struct apival_err *ae)
{
	cJSON *vols = cJSON_AddArrayToObject(spec, "volumes");
	cJSON *bin = cJSON_CreateObject();
	cJSON_AddStringToObject(bin, "name", K8S_BIN_VOLUME);
	cJSON_AddObjectToObject(bin, "emptyDir");
	cJSON_AddItemToArray(vols, bin);
	for (size_t i = 0; i < rq->num_volumes; i++) {
		const struct apival_volume *v = &rq->volumes[i];
		if (!strcmp(v->name, K8S_BIN_VOLUME))
			return apival_fail(ae, 400, "VOLUME::DUPLICATE_NAME",
					   "volume name %s is reserved", v->name);
		if (pod_volume(rq, i) != v->name)
			continue;
		cJSON *pv = cJSON_CreateObject();
		cJSON_AddStringToObject(pv, "name", v->name);
		if (v->kind == APIVAL_VOL_PVC) {
			cJSON_AddStringToObject(
				cJSON_AddObjectToObject(pv, "persistentVolumeClaim"), "claimName",
				v->claim);
		} else {
			if (!hostpath_allowed(srv->host_prefixes, srv->num_host_prefixes,
					      v->host_path)) {
				cJSON_Delete(pv);
				return apival_fail(
					ae, 400, "VOLUME::HOST_PATH_NOT_ALLOWED",
					"volume %s: host path %s is not under an allowed prefix%s",
					v->name, v->host_path,
					srv->num_host_prefixes ? "" : " (none is configured)");
			}
			cJSON *hp = cJSON_AddObjectToObject(pv, "hostPath");
			cJSON_AddStringToObject(hp, "path", v->host_path);
			cJSON_AddStringToObject(hp, "type", "DirectoryOrCreate");
		}
		cJSON_AddItemToArray(vols, pv);
	}
	return 0;
}

cJSON *runtime_k8s_pod_spec(const struct apisrv *srv, const struct sbx *s,
			    const struct apival_create *rq, struct apival_err *ae)
{
	bool egress = rq->network_policy != NULL;
	cJSON *spec = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "initContainers"),
			     installer(srv, egress));
	cJSON *main = sandbox_container(srv, s, rq, egress, ae);
	if (!main || volumes(srv, rq, spec, ae) < 0) {
		cJSON_Delete(main);
		cJSON_Delete(spec);
		return NULL;
	}
	cJSON *cs = cJSON_AddArrayToObject(spec, "containers");
	cJSON_AddItemToArray(cs, main);
	if (egress)
		cJSON_AddItemToArray(cs, egress_container(srv, s, rq));
	if (rq->auth_user) {
		char name[96];
		snprintf(name, sizeof(name), "%s%s", K8S_PULL_SECRET_PREFIX, s->id);
		cJSON *ref = cJSON_CreateObject();
		cJSON_AddStringToObject(ref, "name", name);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "imagePullSecrets"), ref);
	}
	if (rq->plat_os[0]) {
		cJSON *ns = cJSON_AddObjectToObject(spec, "nodeSelector");
		cJSON_AddStringToObject(ns, "kubernetes.io/os", rq->plat_os);
		cJSON_AddStringToObject(ns, "kubernetes.io/arch", rq->plat_arch);
	}
	if (srv->cfg.k8s_service_account[0])
		cJSON_AddStringToObject(spec, "serviceAccountName", srv->cfg.k8s_service_account);
	if (srv->cfg.k8s_runtime_class[0]) /* the secure runtime; checked to exist at start-up */
		cJSON_AddStringToObject(spec, "runtimeClassName", srv->cfg.k8s_runtime_class);
	return spec;
}

/* --- merging onto the operator's template --------------------------------- */

/* Recursive merge: objects merge, everything else (lists too) is replaced by
 * the runtime's value; the runtime's nulls are skipped. */
static void merge(cJSON *dst, const cJSON *src)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, src)
	{
		if (cJSON_IsNull(it))
			continue;
		cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, it->string);
		if (have && cJSON_IsObject(have) && cJSON_IsObject(it)) {
			merge(have, it);
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
		cJSON_AddItemToObject(dst, it->string, cJSON_Duplicate(it, 1));
	}
}

static const cJSON *by_name(const cJSON *arr, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
			return it;
	}
	return NULL;
}

/* Adds to dst the entries of src (by name) that dst lacks. */
static void append_missing(cJSON *dst, const cJSON *src)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, src)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && !by_name(dst, n->valuestring))
			cJSON_AddItemToArray(dst, cJSON_Duplicate(it, 1));
	}
}

static cJSON *sandbox_of(const cJSON *pod_spec)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(pod_spec, "containers");
	const cJSON *c = by_name(cs, "sandbox");
	return (cJSON *)(c ? c : cJSON_GetArrayItem(cs, 0));
}

/* The template's own pod volumes and sandbox mounts survive the replaced lists. */
static void keep_template_volumes(cJSON *spec, const cJSON *tspec)
{
	if (!tspec)
		return;
	cJSON *vols = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
	if (vols)
		append_missing(vols, cJSON_GetObjectItemCaseSensitive(tspec, "volumes"));
	cJSON *main = sandbox_of(spec);
	const cJSON *tmain = sandbox_of(tspec);
	cJSON *mounts = cJSON_GetObjectItemCaseSensitive(main, "volumeMounts");
	if (mounts && tmain)
		append_missing(mounts, cJSON_GetObjectItemCaseSensitive(tmain, "volumeMounts"));
}

static cJSON *on_template(const cJSON *tmpl, cJSON *obj, const char *spec_path)
{
	if (!tmpl)
		return obj;
	cJSON *out = cJSON_Duplicate(tmpl, 1);
	merge(out, obj);
	/* spec_path: where the pod spec sits ("spec.template.spec" or "spec"). */
	cJSON *spec = out;
	const cJSON *tspec = tmpl;
	for (const char *p = spec_path; *p;) {
		char part[32];
		size_t n = strcspn(p, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		spec = cJSON_GetObjectItemCaseSensitive(spec, part);
		tspec = cJSON_GetObjectItemCaseSensitive(tspec, part);
		p += n + (p[n] == '.');
	}
	keep_template_volumes(spec, tspec);
	cJSON_Delete(obj);
	return out;
}

/* An object {apiVersion, kind, metadata: {name, namespace}}; *md gets its metadata. */
static cJSON *new_object(const struct apisrv *srv, const char *api, const char *kind,
			 const char *name, cJSON **md)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "apiVersion", api);
	cJSON_AddStringToObject(obj, "kind", kind);
	*md = cJSON_AddObjectToObject(obj, "metadata");
	cJSON_AddStringToObject(*md, "name", name);
	cJSON_AddStringToObject(*md, "namespace", srv->cfg.k8s_namespace);
	return obj;
}

/* The workload's own object: named by the id, with its labels and annotations. */
static cJSON *workload_object(const struct apisrv *srv, const struct sbx *s, const char *api,
			      const char *kind)
{
	cJSON *md;
	cJSON *obj = new_object(srv, api, kind, s->id, &md);
	cJSON_AddItemToObject(md, "labels", runtime_k8s_labels(srv, s));
	cJSON_AddItemToObject(md, "annotations", runtime_k8s_annotations(srv, s));
	return obj;
}

/* Whether one nodeSelectorTerm of required node affinity lets a node of the platform in:
 * each In/NotIn expression on the os or arch label must admit it (others are not judged). */
static bool term_admits(const cJSON *term, const char *want[][2])
{
	const cJSON *ex;
	cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(term, "matchExpressions"))
	{
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(ex, "key");
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(ex, "operator");
		if (!cJSON_IsString(key) || !cJSON_IsString(op))
			continue;
		bool in = !strcmp(op->valuestring, "In");
		if (!in && strcmp(op->valuestring, "NotIn"))
			continue;
		for (size_t i = 0; i < 2; i++) {
			if (strcmp(key->valuestring, want[i][0]))
				continue;
			bool listed = false;
			const cJSON *v;
			cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(ex, "values"))
			{
				listed = listed ||
					 (cJSON_IsString(v) && !strcmp(v->valuestring, want[i][1]));
			}
			if (listed != in)
				return false;
		}
	}
	return true;
}

/* A platform that the template's nodeSelector or required node affinity contradicts could
 * never be scheduled. */
static int platform_conflict(const struct apisrv *srv, const struct apival_create *rq,
			     struct apival_err *ae)
{
	if (!rq->plat_os[0] || !srv->k8s_template)
		return 0;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(srv->k8s_template, "spec");
	if (!runtime_k8s_pods(srv))
		spec = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(spec, "template"), "spec");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(spec, "nodeSelector");
	const char *want[][2] = {{"kubernetes.io/os", rq->plat_os},
				 {"kubernetes.io/arch", rq->plat_arch}};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ns, want[i][0]);
		if (cJSON_IsString(v) && strcmp(v->valuestring, want[i][1]))
			return apival_fail(ae, 400, "SANDBOX::INVALID_PARAMETER",
					   "platform %s/%s conflicts with the template's "
					   "nodeSelector %s=%.64s",
					   rq->plat_os, rq->plat_arch, want[i][0], v->valuestring);
	}
	/* Terms are ORed: one that admits the platform is enough. */
	const cJSON *terms = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(spec, "affinity"), "nodeAffinity"),
			"requiredDuringSchedulingIgnoredDuringExecution"),
		"nodeSelectorTerms");
	if (!cJSON_IsArray(terms) || !cJSON_GetArraySize(terms))
		return 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, terms)
	{
		if (term_admits(t, want))
			return 0;
	}
	return apival_fail(ae, 400, "SANDBOX::INVALID_PARAMETER",
			   "platform %s/%s conflicts with the template's required node affinity",
			   rq->plat_os, rq->plat_arch);
}

cJSON *runtime_k8s_workload(const struct apisrv *srv, const struct sbx *s,
			    const struct apival_create *rq, struct apival_err *ae)
{
	if (platform_conflict(srv, rq, ae) < 0)
		return NULL;
	cJSON *spec = runtime_k8s_pod_spec(srv, s, rq, ae);
	if (!spec)
		return NULL;
	cJSON *obj;
	if (runtime_k8s_pods(srv)) {
		obj = workload_object(srv, s, "v1", "Pod");
		cJSON_AddStringToObject(spec, "restartPolicy", "Never");
		cJSON_AddItemToObject(obj, "spec", spec);
		return on_template(srv->k8s_template, obj, "spec");
	}
	obj = workload_object(srv, s, K8S_BSBX_GROUP "/" K8S_BSBX_VERSION, "BatchSandbox");
	cJSON *bs = cJSON_AddObjectToObject(obj, "spec");
	cJSON_AddNumberToObject(bs, "replicas", 1);
	if (s->expires_us) {
		char t[APIVAL_TIME_LEN];
		apival_time_format(s->expires_us, t);
		cJSON_AddStringToObject(bs, "expireTime", t);
	}
	cJSON *tpl = cJSON_AddObjectToObject(bs, "template");
	cJSON *tmd = cJSON_AddObjectToObject(tpl, "metadata");
	cJSON_AddItemToObject(tmd, "labels", runtime_k8s_labels(srv, s));
	cJSON_AddItemToObject(tmd, "annotations", cJSON_CreateObject());
	cJSON_AddItemToObject(tpl, "spec", spec);
	return on_template(srv->k8s_template, obj, "spec.template.spec");
}

cJSON *runtime_k8s_pull_secret(const struct apisrv *srv, const struct sbx *s,
			       const struct apival_create *rq, const char *owner_uid)
{
	/* The registry: the image's first path segment if it names a host. */
	char reg[256] = "https://index.docker.io/v1/";
	const char *slash = strchr(rq->image, '/');
	if (slash) {
		size_t n = (size_t)(slash - rq->image);
		if (n < sizeof(reg) && (memchr(rq->image, '.', n) || memchr(rq->image, ':', n) ||
					(n == 9 && !strncmp(rq->image, "localhost", 9))))
			snprintf(reg, sizeof(reg), "%.*s", (int)n, rq->image);
	}
	size_t ul = strlen(rq->auth_user), pl = strlen(rq->auth_pass);
	char *up = malloc(ul + pl + 2);
	char *up64 = malloc(BASE64_ENCODED_LEN(ul + pl + 1) + 1);
	if (!up || !up64) {
		free(up);
		free(up64);
		return NULL;
	}
	snprintf(up, ul + pl + 2, "%s:%s", rq->auth_user, rq->auth_pass);
	base64_encode(up64, up, ul + pl + 1);
	cJSON *cfg = cJSON_CreateObject();
	cJSON *entry = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cfg, "auths"), reg);
	cJSON_AddStringToObject(entry, "username", rq->auth_user);
	cJSON_AddStringToObject(entry, "password", rq->auth_pass);
	cJSON_AddStringToObject(entry, "auth", up64);
	memset(up, 0, ul + pl + 2);
	free(up);
	free(up64);
	char *text = cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	char *b64 = text ? malloc(BASE64_ENCODED_LEN(strlen(text)) + 1) : NULL;
	if (!b64) {
		free(text);
		return NULL;
	}
	base64_encode(b64, text, strlen(text));
	memset(text, 0, strlen(text));
	free(text);

	char name[96];
	snprintf(name, sizeof(name), "%s%s", K8S_PULL_SECRET_PREFIX, s->id);
	cJSON *md;
	cJSON *sec = new_object(srv, "v1", "Secret", name, &md);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), LBL_ID, s->id);
	cJSON *own = cJSON_CreateObject();
	bool pods = runtime_k8s_pods(srv);
	cJSON_AddStringToObject(own, "apiVersion",
				pods ? "v1" : K8S_BSBX_GROUP "/" K8S_BSBX_VERSION);
	cJSON_AddStringToObject(own, "kind", pods ? "Pod" : "BatchSandbox");
	cJSON_AddStringToObject(own, "name", s->id);
	cJSON_AddStringToObject(own, "uid", owner_uid);
	cJSON_AddBoolToObject(own, "controller", false);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "ownerReferences"), own);
	cJSON_AddStringToObject(sec, "type", "kubernetes.io/dockerconfigjson");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(sec, "data"), ".dockerconfigjson", b64);
	free(b64);
	return sec;
}

cJSON *runtime_k8s_pvc(const struct apisrv *srv, const char *claim)
{
	cJSON *md;
	cJSON *p = new_object(srv, "v1", "PersistentVolumeClaim", claim, &md);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), LBL_MANAGED_VOLS, "server");
	cJSON *spec = cJSON_AddObjectToObject(p, "spec");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "accessModes"),
			     cJSON_CreateString("ReadWriteOnce"));
	cJSON_AddStringToObject(
		cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "resources"), "requests"),
		"storage", srv->cfg.volume_default_size);
	return p;
}
