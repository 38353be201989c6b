// SPDX-License-Identifier: Apache-2.0
/* The Engine API bodies of a sandbox's containers: the main one and the egress sidecar. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "runtime_docker.h"

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
	if (s->snapshot_id[0])
		cJSON_AddStringToObject(l, LBL_SNAPSHOT, s->snapshot_id);
	cJSON_AddStringToObject(l, LBL_ENTRYPOINT, s->entrypoint);
	cJSON_AddStringToObject(l, LBL_IMAGE, s->image);
	if (srv->cfg.instance[0])
		cJSON_AddStringToObject(l, LBL_INSTANCE, srv->cfg.instance);
	return l;
}

cJSON *runtime_docker_main_body(struct apisrv *srv, const struct apival_create *rq,
				const struct sbx *s, bool egress, struct apival_err *ae)
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
			int r = buf_read_file(&sc, cfg->seccomp);
			if (r < 0) {
				buf_free(&sc);
				cJSON_Delete(b);
				apival_fail(ae, 500, "DOCKER::SANDBOX_START_FAILED",
					    "seccomp profile %s: %s", cfg->seccomp, strerror(-r));
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
			if (v->sub_path)
				continue; /* mounted on the worker, once the volume is known */
			snprintf(bind, sizeof(bind), "%s:%s:%s", v->claim, v->mount_path,
				 v->read_only ? "ro" : "rw");
		}
		cJSON_AddItemToArray(binds, cJSON_CreateString(bind));
	}
	return b;
}

cJSON *runtime_docker_sidecar_body(struct apisrv *srv, const struct apival_create *rq,
				   const struct sbx *s)
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
