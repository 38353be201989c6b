// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes workload builder (runtime_k8s_spec.c) for both providers:
 * create requests parsed by apival as the server parses them, a server
 * configured through apicfg's flags, the produced object read back with cJSON
 * (server.md 4.4, 4.5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apival.h"
#include "runtime_k8s.h"
#include "unit.h"
#include "yaml.h"

#define SBX_ID "5f0c2a7e-8d1b-4c3a-9e6f-1a2b3c4d5e6f"
#define T0_US  1781517600000000LL /* 2026-06-15T10:00:00Z: the sandbox's creation */
#define IMG    "'image':{'uri':'python:3.12'},'entrypoint':['python','-m','http.server']"
#define RL     "'resourceLimits':{'cpu':'500m','memory':'512Mi'}"

static const char *const providers[] = {"batchsandbox", "pod"};
static char allowed_prefix[] = "/data";

/* A server of provider with one extra flag (or NULL) and tmpl (YAML, or NULL) as
 * --k8s-template-file's content. 0, or -1 with the failure recorded. */
static int srv_open(struct apisrv *srv, const char *provider, const char *flag, const char *tmpl)
{
	char prov[64];
	snprintf(prov, sizeof(prov), "--k8s-provider=%s", provider);
	char *argv[] = {"sandbox-api", "--config=",  "--k8s-namespace=sbx",
			prov,	       (char *)flag, NULL};
	struct err e = {0};
	memset(srv, 0, sizeof(*srv));
	if (apicfg_load(&srv->cfg, flag ? 5 : 4, argv, &e) != 0) {
		unit_fail(__FILE__, __LINE__, "apicfg_load: %s", e.msg);
		return -1;
	}
	srv->host_prefixes[0] = (struct hostpath_prefix){allowed_prefix, -1};
	srv->num_host_prefixes = 1;
	if (tmpl && !(srv->k8s_template = yaml_parse(tmpl, strlen(tmpl), &e))) {
		unit_fail(__FILE__, __LINE__, "template: %s", e.msg);
		apicfg_free(&srv->cfg);
		return -1;
	}
	return 0;
}

static void srv_close(struct apisrv *srv)
{
	cJSON_Delete(srv->k8s_template);
	apicfg_free(&srv->cfg);
}

/*
 * The workload of a create request: fixture is JSON with ' for " (the fields
 * go inside {}), parsed by apival_create_parse; the sandbox gets what
 * sandbox_create gives it. NULL with ae filled when the builder refuses.
 */
static cJSON *build(const struct apisrv *srv, const char *fixture, struct apival_err *ae)
{
	char body[4096];
	int n = snprintf(body, sizeof(body), "{%s}", fixture);
	for (char *p = body; *p; p++)
		if (*p == '\'')
			*p = '"';
	struct apival_create rq;
	struct apival_err pe = {0};
	if (apival_create_parse(body, (size_t)n, 0, &rq, &pe) < 0) {
		unit_fail(__FILE__, __LINE__, "fixture refused (%d %s): %s", pe.status, pe.code,
			  pe.msg);
		return NULL;
	}
	struct sbx s = {0};
	snprintf(s.id, sizeof(s.id), SBX_ID);
	s.metadata = rq.metadata ? cJSON_Duplicate(rq.metadata, 1) : cJSON_CreateObject();
	s.created_us = T0_US;
	if (rq.timeout)
		s.expires_us = T0_US + rq.timeout * 1000000;
	snprintf(s.plat_os, sizeof(s.plat_os), "%s", rq.plat_os);
	snprintf(s.plat_arch, sizeof(s.plat_arch), "%s", rq.plat_arch);
	if (rq.network_policy)
		snprintf(s.egress_token, sizeof(s.egress_token), "egress-tok");
	snprintf(s.execd_token, sizeof(s.execd_token), "execd-tok");
	memset(ae, 0, sizeof(*ae));
	cJSON *obj = runtime_k8s_workload(srv, &s, &rq, ae);
	cJSON_Delete(s.metadata);
	apival_create_free(&rq);
	return obj;
}

/* The builder refuses fixture with 400 and code (ae keeps the message). */
#define CHECK_REFUSED(srv, fixture, ae, want_code)                                                 \
	do {                                                                                       \
		cJSON *o_ = build(srv, fixture, ae);                                               \
		CHECK(o_ == NULL);                                                                 \
		CHECK_INT((ae)->status, 400);                                                      \
		CHECK_STR((ae)->code, want_code);                                                  \
		cJSON_Delete(o_);                                                                  \
	} while (0)

/* --- lookups ------------------------------------------------------------- */

/* o[k1][k2]...: the keys end with NULL; NULL when a step is missing. */
static const cJSON *at(const cJSON *o, ...)
{
	va_list ap;
	va_start(ap, o);
	for (const char *k; o && (k = va_arg(ap, const char *));)
		o = cJSON_GetObjectItemCaseSensitive(o, k);
	va_end(ap);
	return o;
}

#define AT(...)	    at(__VA_ARGS__, NULL)
#define STR_AT(...) str_of(at(__VA_ARGS__, NULL))

static const char *str_of(const cJSON *o)
{
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

static int num_of(const cJSON *o)
{
	return cJSON_IsNumber(o) ? o->valueint : -1;
}

static const cJSON *named(const cJSON *arr, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *n = STR_AT(it, "name");
		if (n && !strcmp(n, name))
			return it;
	}
	return NULL;
}

static int count_named(const cJSON *arr, const char *name)
{
	int k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *n = STR_AT(it, "name");
		k += n && !strcmp(n, name);
	}
	return k;
}

/* The pod spec inside either provider's object. */
static const cJSON *pod_spec(const cJSON *obj)
{
	const char *kind = STR_AT(obj, "kind");
	if (kind && !strcmp(kind, "Pod"))
		return AT(obj, "spec");
	return AT(obj, "spec", "template", "spec");
}

static const cJSON *container(const cJSON *obj, const char *list, const char *name)
{
	return named(AT(pod_spec(obj), list), name);
}

static const char *env_of(const cJSON *c, const char *name)
{
	return STR_AT(named(AT(c, "env"), name), "value");
}

/* The strings of an array joined with ' ', to compare commands in one check. */
static const char *joined(const cJSON *arr, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		int w = snprintf(out + n, cap - n, "%s%s", n ? " " : "",
				 str_of(it) ? it->valuestring : "?");
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	return out;
}

/* --- resources ----------------------------------------------------------- */

TEST(k8s_spec_gpu)
{
	static const struct {
		const char *gpu;
		const char *want; /* nvidia.com/gpu, NULL: absent; "400": refused */
	} cases[] = {
		{"2", "2"},   {"+3", "3"},    {"0", NULL},    {"x", NULL},    {"1.5", NULL},
		{"-1", NULL}, {"4096", NULL}, {"all", "400"}, {"ALL", "400"},
	};
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, NULL) < 0)
			return;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char fx[512];
			snprintf(fx, sizeof(fx),
				 IMG ",'resourceLimits':{'cpu':'500m','memory':'1Gi','gpu':'%s',"
				     "'example.com/fpga':'1'}",
				 cases[i].gpu);
			struct apival_err ae;
			if (cases[i].want && !strcmp(cases[i].want, "400")) {
				CHECK_REFUSED(&srv, fx, &ae, "SANDBOX::INVALID_PARAMETER");
				continue;
			}
			cJSON *obj = build(&srv, fx, &ae);
			const cJSON *main = container(obj, "containers", "sandbox");
			CHECK(main != NULL);
			for (int r = 0; r < 2; r++) {
				const char *which = r ? "requests" : "limits";
				const cJSON *l = AT(main, "resources", which);
				const cJSON *g = AT(l, "nvidia.com/gpu");
				if (cases[i].want)
					CHECK_STR(str_of(g), cases[i].want);
				else
					CHECK(g == NULL);
				CHECK(AT(l, "gpu") == NULL);
				CHECK_STR(STR_AT(l, "cpu"), "500m");
				CHECK_STR(STR_AT(l, "memory"), "1Gi");
				CHECK_STR(STR_AT(l, "example.com/fpga"), "1");
			}
			cJSON_Delete(obj);
		}
		srv_close(&srv);
	}
}

/* --- volumes ------------------------------------------------------------- */

TEST(k8s_spec_host_volumes)
{
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, NULL) < 0)
			return;
		struct apival_err ae;
		cJSON *obj =
			build(&srv,
			      IMG "," RL ",'volumes':[{'name':'work','mountPath':'/work',"
				  "'readOnly':true,'subPath':'a/b','host':{'path':'/data/u1'}},"
				  "{'name':'rw','mountPath':'/rw','host':{'path':'/data'}}]",
			      &ae);
		const cJSON *vols = AT(pod_spec(obj), "volumes");
		CHECK_STR(STR_AT(cJSON_GetArrayItem(vols, 0), "name"), "opensandbox-bin");
		CHECK(AT(cJSON_GetArrayItem(vols, 0), "emptyDir") != NULL);
		CHECK_STR(STR_AT(named(vols, "work"), "hostPath", "path"), "/data/u1");
		CHECK_STR(STR_AT(named(vols, "work"), "hostPath", "type"), "DirectoryOrCreate");
		CHECK_STR(STR_AT(named(vols, "rw"), "hostPath", "path"), "/data");
		const cJSON *mounts = AT(container(obj, "containers", "sandbox"), "volumeMounts");
		const cJSON *m = named(mounts, "work");
		CHECK_STR(STR_AT(m, "mountPath"), "/work");
		CHECK(cJSON_IsTrue(AT(m, "readOnly")));
		CHECK_STR(STR_AT(m, "subPath"), "a/b");
		m = named(mounts, "rw");
		CHECK_STR(STR_AT(m, "mountPath"), "/rw");
		CHECK(!cJSON_IsTrue(AT(m, "readOnly")));
		CHECK(AT(m, "subPath") == NULL);
		CHECK_STR(STR_AT(named(mounts, "opensandbox-bin"), "mountPath"),
			  "/opt/opensandbox");
		cJSON_Delete(obj);

		/* Outside the allowlist ("/database" only shares a prefix's letters). */
		static const char *const outside[] = {"/etc", "/database", "/"};
		for (size_t i = 0; i < 3; i++) {
			char fx[512];
			snprintf(fx, sizeof(fx),
				 IMG "," RL ",'volumes':[{'name':'v','mountPath':'/m',"
				     "'host':{'path':'%s'}}]",
				 outside[i]);
			CHECK_REFUSED(&srv, fx, &ae, "VOLUME::HOST_PATH_NOT_ALLOWED");
		}
		/* No allowlist at all refuses every host path. */
		srv.num_host_prefixes = 0;
		CHECK_REFUSED(&srv,
			      IMG "," RL ",'volumes':[{'name':'v','mountPath':'/m',"
				  "'host':{'path':'/data/x'}}]",
			      &ae, "VOLUME::HOST_PATH_NOT_ALLOWED");
		CHECK(strstr(ae.msg, "none is configured") != NULL);
		srv_close(&srv);
	}
}

TEST(k8s_spec_pvc_volumes)
{
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, NULL) < 0)
			return;
		struct apival_err ae;
		/* One claim mounted twice: one pod volume, the first one's name. */
		cJSON *obj = build(&srv,
				   IMG "," RL ",'volumes':["
				       "{'name':'d1','mountPath':'/d1','pvc':{'claimName':'data'}},"
				       "{'name':'other','mountPath':'/o','pvc':{'claimName':'o'}},"
				       "{'name':'d2','mountPath':'/d2','readOnly':true,"
				       "'subPath':'sub','pvc':{'claimName':'data'}}]",
				   &ae);
		const cJSON *vols = AT(pod_spec(obj), "volumes");
		CHECK_INT(cJSON_GetArraySize(vols), 3); /* opensandbox-bin, d1, other */
		CHECK_STR(STR_AT(named(vols, "d1"), "persistentVolumeClaim", "claimName"), "data");
		CHECK_STR(STR_AT(named(vols, "other"), "persistentVolumeClaim", "claimName"), "o");
		CHECK(named(vols, "d2") == NULL);
		const cJSON *mounts = AT(container(obj, "containers", "sandbox"), "volumeMounts");
		CHECK_INT(cJSON_GetArraySize(mounts), 4);
		CHECK_INT(count_named(mounts, "d1"), 2);
		const cJSON *m = cJSON_GetArrayItem(mounts, 3);
		CHECK_STR(STR_AT(m, "name"), "d1");
		CHECK_STR(STR_AT(m, "mountPath"), "/d2");
		CHECK_STR(STR_AT(m, "subPath"), "sub");
		CHECK(cJSON_IsTrue(AT(m, "readOnly")));
		cJSON_Delete(obj);

		/* The installer's volume name is the server's. */
		CHECK_REFUSED(&srv,
			      IMG "," RL ",'volumes':[{'name':'opensandbox-bin','mountPath':'/m',"
				  "'pvc':{'claimName':'c'}}]",
			      &ae, "VOLUME::DUPLICATE_NAME");
		srv_close(&srv);
	}
}

/* --- the template -------------------------------------------------------- */

/* The pod part of a template; the BatchSandbox one nests it in spec.template. */
#define TMPL_POD                                                                                   \
	"{restartPolicy: Never, tolerations: [{operator: Exists}], nodeSelector: {disktype: ssd}," \
	" volumes: [{name: cache, emptyDir: {}}, {name: opensandbox-bin, hostPath: {path: /x}},"   \
	"  {name: work, emptyDir: {}}],"                                                           \
	" containers: [{name: sandbox, image: 'template:1', env: [{name: TEMPLATE_ENV, value: "    \
	"t}],"                                                                                     \
	"  volumeMounts: [{name: cache, mountPath: /cache}, {name: work, mountPath: "              \
	"/elsewhere}]},"                                                                           \
	"  {name: helper, image: 'helper:1'}]}"

static const char tmpl_bsbx[] = "metadata: {labels: {team: infra}}\n"
				"spec:\n"
				"  replicas: 5\n"
				"  template:\n"
				"    spec: " TMPL_POD "\n";
static const char tmpl_pod[] = "metadata: {labels: {team: infra}}\n"
			       "spec: " TMPL_POD "\n";

TEST(k8s_spec_template_merge)
{
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, p ? tmpl_pod : tmpl_bsbx) < 0)
			return;
		struct apival_err ae;
		cJSON *obj = build(&srv,
				   IMG "," RL ",'metadata':{'app':'web'},'env':{'A':'1'},"
				       "'volumes':[{'name':'work','mountPath':'/work',"
				       "'host':{'path':'/data/w'}}]",
				   &ae);
		const cJSON *spec = pod_spec(obj);
		CHECK(spec != NULL);
		/* Objects merge, the runtime's values winning. */
		CHECK_STR(STR_AT(obj, "metadata", "labels", "team"), "infra");
		CHECK_STR(STR_AT(obj, "metadata", "labels", "app"), "web");
		CHECK_STR(STR_AT(obj, "metadata", "labels", LBL_ID), SBX_ID);
		CHECK_STR(STR_AT(obj, "metadata", "name"), SBX_ID);
		if (!p)
			CHECK_INT(num_of(AT(obj, "spec", "replicas")), 1);
		CHECK_STR(STR_AT(spec, "restartPolicy"), "Never");
		CHECK_STR(STR_AT(spec, "nodeSelector", "disktype"), "ssd");
		CHECK_STR(STR_AT(cJSON_GetArrayItem(AT(spec, "tolerations"), 0), "operator"),
			  "Exists");
		/* Lists are replaced: the template's containers and their env are gone. */
		const cJSON *cs = AT(spec, "containers");
		CHECK_INT(cJSON_GetArraySize(cs), 1);
		CHECK(named(cs, "helper") == NULL);
		const cJSON *main = named(cs, "sandbox");
		CHECK_STR(STR_AT(main, "image"), "python:3.12");
		CHECK(env_of(main, "TEMPLATE_ENV") == NULL);
		CHECK_STR(env_of(main, "A"), "1");
		/* The template's own volumes and mounts come back, once, after the runtime's. */
		const cJSON *vols = AT(spec, "volumes");
		CHECK_INT(cJSON_GetArraySize(vols), 3);
		CHECK_STR(STR_AT(cJSON_GetArrayItem(vols, 2), "name"), "cache");
		CHECK(AT(named(vols, "cache"), "emptyDir") != NULL);
		CHECK_INT(count_named(vols, "opensandbox-bin"), 1);
		CHECK(AT(named(vols, "opensandbox-bin"), "emptyDir") != NULL);
		CHECK_INT(count_named(vols, "work"), 1);
		CHECK_STR(STR_AT(named(vols, "work"), "hostPath", "path"), "/data/w");
		const cJSON *mounts = AT(main, "volumeMounts");
		CHECK_INT(cJSON_GetArraySize(mounts), 3);
		CHECK_STR(STR_AT(named(mounts, "cache"), "mountPath"), "/cache");
		CHECK_INT(count_named(mounts, "work"), 1);
		CHECK_STR(STR_AT(named(mounts, "work"), "mountPath"), "/work");
		cJSON_Delete(obj);
		srv_close(&srv);
	}
}

TEST(k8s_spec_platform)
{
	static const struct {
		const char *os, *arch;
		int status; /* against tmpl's nodeSelector: 0 = built */
	} cases[] = {
		{"linux", "amd64", 0},
		{"Linux", "AMD64", 0}, /* apival lower-cases */
		{"linux", "arm64", 400},
	};
#define NODE_SEL "{nodeSelector: {kubernetes.io/arch: amd64, pool: gpu}}"
	static const char *const tmpls[] = {"spec: {template: {spec: " NODE_SEL "}}",
					    "spec: " NODE_SEL};
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, NULL) < 0)
			return;
		struct apival_err ae;
		cJSON *obj =
			build(&srv, IMG "," RL ",'platform':{'os':'linux','arch':'arm64'}", &ae);
		CHECK_STR(STR_AT(pod_spec(obj), "nodeSelector", "kubernetes.io/os"), "linux");
		CHECK_STR(STR_AT(pod_spec(obj), "nodeSelector", "kubernetes.io/arch"), "arm64");
		cJSON_Delete(obj);
		obj = build(&srv, IMG "," RL, &ae);
		CHECK(obj && AT(pod_spec(obj), "nodeSelector") == NULL);
		cJSON_Delete(obj);
		srv_close(&srv);

		if (srv_open(&srv, providers[p], NULL, tmpls[p]) < 0)
			return;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char fx[512];
			snprintf(fx, sizeof(fx), IMG "," RL ",'platform':{'os':'%s','arch':'%s'}",
				 cases[i].os, cases[i].arch);
			obj = build(&srv, fx, &ae);
			if (cases[i].status) {
				CHECK(obj == NULL);
				CHECK_INT(ae.status, cases[i].status);
				CHECK_STR(ae.code, "SANDBOX::INVALID_PARAMETER");
			} else {
				const cJSON *ns = AT(pod_spec(obj), "nodeSelector");
				CHECK_STR(STR_AT(ns, "kubernetes.io/arch"), "amd64");
				CHECK_STR(STR_AT(ns, "kubernetes.io/os"), "linux");
				CHECK_STR(STR_AT(ns, "pool"), "gpu");
			}
			cJSON_Delete(obj);
		}
		/* Without a platform the template's selector stands. */
		obj = build(&srv, IMG "," RL, &ae);
		CHECK_STR(STR_AT(pod_spec(obj), "nodeSelector", "kubernetes.io/arch"), "amd64");
		cJSON_Delete(obj);
		srv_close(&srv);
	}
}

/* Required node affinity: its terms are ORed, the expressions of a term ANDed. */
TEST(k8s_spec_platform_affinity)
{
#define TERM(k, op, v) "{matchExpressions: [{key: " k ", operator: " op ", values: [" v "]}]}"
#define AFF(terms)                                                                                 \
	"spec: {template: {spec: {affinity: {nodeAffinity: "                                       \
	"{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [" terms "]}}}}}}"
	static const struct {
		const char *tmpl;
		int status; /* for platform linux/arm64: 0 = built */
	} cases[] = {
		{AFF(TERM("kubernetes.io/arch", "In", "amd64")), 400},
		{AFF(TERM("kubernetes.io/arch", "In", "amd64, arm64")), 0},
		{AFF(TERM("kubernetes.io/arch", "NotIn", "arm64")), 400},
		{AFF(TERM("kubernetes.io/os", "NotIn", "windows")), 0},
		{AFF(TERM("kubernetes.io/arch", "In", "amd64") "," TERM("kubernetes.io/os", "In",
									"linux")),
		 0},
		{AFF(TERM("pool", "In", "gpu")), 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apisrv srv;
		if (srv_open(&srv, "batchsandbox", NULL, cases[i].tmpl) < 0)
			return;
		struct apival_err ae;
		cJSON *obj =
			build(&srv, IMG "," RL ",'platform':{'os':'linux','arch':'arm64'}", &ae);
		if (cases[i].status) {
			CHECK(obj == NULL);
			CHECK_INT(ae.status, cases[i].status);
			CHECK(strstr(ae.msg, "required node affinity") != NULL);
		} else {
			CHECK(obj != NULL);
		}
		cJSON_Delete(obj);
		srv_close(&srv);
	}
#undef TERM
#undef AFF
}

/* --- containers ---------------------------------------------------------- */

#define POLICY                                                                                     \
	"'networkPolicy':{'defaultAction':'deny','egress':[{'action':'allow','target':'pypi.org'}" \
	"]}"

#define INIT_RES                                                                                   \
	"--k8s-execd-init-resources={\"limits\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},"           \
	"\"requests\":{\"cpu\":\"50m\"}}"

/* The execd installer and, with a networkPolicy, the egress sidecar. */
TEST(k8s_spec_installer_egress)
{
	static const struct {
		const char *flag, *fixture;
		bool egress, privileged;
	} cases[] = {
		{NULL, IMG "," RL "," POLICY, true, true}, /* disable_ipv6 defaults on */
		{"--egress-disable-ipv6=false", IMG "," RL "," POLICY, true, false},
		{NULL, IMG "," RL, false, false},
		{INIT_RES, IMG "," RL "," POLICY, true, true},
	};
	char buf[512];
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct apisrv srv;
			if (srv_open(&srv, providers[p], cases[i].flag, NULL) < 0)
				return;
			struct apival_err ae;
			cJSON *obj = build(&srv, cases[i].fixture, &ae);
			const cJSON *init = container(obj, "initContainers", "execd-installer");
			CHECK_STR(joined(AT(init, "command"), buf, sizeof(buf)),
				  cases[i].privileged ? "/opt/opensandbox/execd --install "
							"/opt/opensandbox-install --disable-ipv6"
						      : "/opt/opensandbox/execd --install "
							"/opt/opensandbox-install");
			CHECK_INT(cJSON_IsTrue(AT(init, "securityContext", "privileged")),
				  cases[i].privileged);
			CHECK_STR(STR_AT(named(AT(init, "volumeMounts"), "opensandbox-bin"),
					 "mountPath"),
				  K8S_INSTALL_DIR);
			const cJSON *res = AT(init, "resources");
			if (cases[i].flag && strstr(cases[i].flag, "init-resources")) {
				CHECK_STR(STR_AT(res, "limits", "cpu"), "100m");
				CHECK_STR(STR_AT(res, "limits", "memory"), "64Mi");
				CHECK_STR(STR_AT(res, "requests", "cpu"), "50m");
			} else {
				CHECK(init && !res);
			}
			const cJSON *main = container(obj, "containers", "sandbox");
			const cJSON *drop = AT(main, "securityContext", "capabilities", "drop");
			CHECK_STR(joined(drop, buf, sizeof(buf)),
				  cases[i].egress ? "NET_ADMIN" : "");
			const cJSON *eg = container(obj, "containers", "egress");
			CHECK_INT(cJSON_GetArraySize(AT(pod_spec(obj), "containers")),
				  cases[i].egress ? 2 : 1);
			if (!cases[i].egress) {
				CHECK(eg == NULL);
				cJSON_Delete(obj);
				srv_close(&srv);
				continue;
			}
			CHECK_STR(STR_AT(eg, "image"), srv.cfg.egress_image);
			CHECK_STR(joined(AT(eg, "securityContext", "capabilities", "add"), buf,
					 sizeof(buf)),
				  "NET_ADMIN");
			const cJSON *port = named(AT(eg, "ports"), "egress-api");
			CHECK_INT(num_of(AT(port, "containerPort")), 18080);
			const cJSON *probe = AT(eg, "readinessProbe");
			CHECK_STR(STR_AT(probe, "httpGet", "path"), "/healthz");
			CHECK_INT(num_of(AT(probe, "httpGet", "port")), 18080);
			const cJSON *h = named(AT(probe, "httpGet", "httpHeaders"),
					       "OPENSANDBOX-EGRESS-AUTH");
			CHECK_STR(STR_AT(h, "value"), "egress-tok");
			CHECK_INT(num_of(AT(probe, "periodSeconds")), 1);
			CHECK_INT(num_of(AT(probe, "failureThreshold")), 30);
			CHECK_STR(env_of(eg, "OPENSANDBOX_EGRESS_TOKEN"), "egress-tok");
			CHECK_STR(env_of(eg, "OPENSANDBOX_EGRESS_MODE"), srv.cfg.egress_mode);
			cJSON *rules = cJSON_Parse(env_of(eg, "OPENSANDBOX_EGRESS_RULES"));
			CHECK_STR(STR_AT(rules, "defaultAction"), "deny");
			CHECK_STR(STR_AT(cJSON_GetArrayItem(AT(rules, "egress"), 0), "target"),
				  "pypi.org");
			cJSON_Delete(rules);
			cJSON_Delete(obj);
			srv_close(&srv);
		}
	}
}

TEST(k8s_spec_main_container)
{
	char buf[512];
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], p ? NULL : "--k8s-image-pull-policy=Always",
			     NULL) < 0)
			return;
		struct apival_err ae;
		cJSON *obj = build(&srv,
				   IMG "," RL ",'env':{'APP_MODE':'prod','EMPTY':'','GONE':null,"
				       "'EXECD':'/bin/false','EXECD_ACCESS_TOKEN':'stolen',"
				       "'OPENSANDBOX_BOOTSTRAP_STAGE':'x'}",
				   &ae);
		const cJSON *main = container(obj, "containers", "sandbox");
		CHECK_STR(joined(AT(main, "command"), buf, sizeof(buf)),
			  "/opt/opensandbox/bootstrap.sh python -m http.server");
		CHECK(AT(main, "args") == NULL);
		CHECK_STR(STR_AT(main, "image"), "python:3.12");
		CHECK_STR(STR_AT(main, "imagePullPolicy"), p ? "IfNotPresent" : "Always");
		const cJSON *env = AT(main, "env");
		CHECK_STR(env_of(main, "APP_MODE"), "prod");
		CHECK_STR(env_of(main, "EMPTY"), "");
		CHECK(named(env, "GONE") == NULL);
		CHECK_INT(count_named(env, "EXECD"), 1);
		CHECK_STR(env_of(main, "EXECD"), "/opt/opensandbox/execd");
		CHECK_INT(count_named(env, "EXECD_ACCESS_TOKEN"), 1);
		CHECK_STR(env_of(main, "EXECD_ACCESS_TOKEN"), "execd-tok");
		CHECK(named(env, "OPENSANDBOX_BOOTSTRAP_STAGE") == NULL);
		/* User env first, then the server's. */
		CHECK_STR(STR_AT(cJSON_GetArrayItem(env, 0), "name"), "APP_MODE");
		CHECK(AT(main, "securityContext") == NULL);
		cJSON_Delete(obj);
		srv_close(&srv);
	}
}

/* --- expiry -------------------------------------------------------------- */

TEST(k8s_spec_expiry)
{
	for (size_t p = 0; p < 2; p++) {
		struct apisrv srv;
		if (srv_open(&srv, providers[p], NULL, NULL) < 0)
			return;
		struct apival_err ae;
		/* Manual cleanup: no expiry anywhere, the label says so. */
		cJSON *obj = build(&srv, IMG "," RL, &ae);
		CHECK(obj && AT(obj, "spec", "expireTime") == NULL);
		CHECK(AT(obj, "metadata", "annotations", LBL_EXPIRES) == NULL);
		CHECK_STR(STR_AT(obj, "metadata", "labels", LBL_MANUAL), "true");
		if (!p)
			CHECK_STR(STR_AT(obj, "spec", "template", "metadata", "labels", LBL_MANUAL),
				  "true");
		cJSON_Delete(obj);

		obj = build(&srv, IMG "," RL ",'timeout':3600", &ae);
		CHECK(obj && AT(obj, "metadata", "labels", LBL_MANUAL) == NULL);
		/* BatchSandbox: spec.expireTime; a plain Pod: the server's annotation. */
		const char *t = p ? STR_AT(obj, "metadata", "annotations", LBL_EXPIRES)
				  : STR_AT(obj, "spec", "expireTime");
		CHECK_STR(t, "2026-06-15T11:00:00Z");
		int64_t us = 0;
		CHECK(t && apival_time_parse(t, &us) == 0 && us == T0_US + 3600000000LL);
		if (p)
			CHECK(AT(obj, "spec", "expireTime") == NULL);
		else
			CHECK(AT(obj, "metadata", "annotations", LBL_EXPIRES) == NULL);
		cJSON_Delete(obj);
		srv_close(&srv);
	}
}
