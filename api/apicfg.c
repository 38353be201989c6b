// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apicfg_int.h"
#include "json.h"
#include "version.h"

#define O(f) offsetof(struct apicfg, f)
const struct opt apicfg_opts[] = {
	{"host", "SANDBOX_API_HOST", "server.host", OPT_STR, O(host), "0.0.0.0", "listen address"},
	{"port", "SANDBOX_API_PORT", "server.port", OPT_INT, O(port), "8080", "listen port"},
	{"api-key", "OPENSANDBOX_SERVER_API_KEY", "server.api_key", OPT_STR, O(api_key), "",
	 "API key required in OPEN-SANDBOX-API-KEY (none: refuse to start unless "
	 "OPENSANDBOX_INSECURE_SERVER=YES)"},
	{"proxy-auth", "SANDBOX_API_PROXY_AUTH", "server.proxy_auth", OPT_BOOL, O(proxy_auth),
	 "true", "the /sandboxes/{id}/proxy/{port} routes need the API key too"},
	{"eip", "SANDBOX_API_EIP", "server.eip", OPT_STR, O(eip), "",
	 "host put in returned endpoints (default: listen host if specific, else the outbound "
	 "IPv4)"},
	{"max-timeout", "SANDBOX_API_MAX_TIMEOUT", "server.max_sandbox_timeout_seconds", OPT_INT,
	 O(max_timeout), "0", "largest sandbox timeout in seconds (0: no cap)"},
	{"state-dir", "SANDBOX_API_STATE_DIR", "server.state_dir", OPT_STR, O(state_dir),
	 "/var/lib/sandbox-api", "where renewed expiries and patched metadata are persisted"},
	{"instance", "SANDBOX_API_INSTANCE", "server.instance", OPT_STR, O(instance), "",
	 "name of this server on a shared Docker host: its containers get the label "
	 "opensandbox.io/instance=NAME and it ignores others (empty: it owns every sandbox)"},
	{"sweep-seconds", "SANDBOX_API_SWEEP_SECONDS", "server.sweep_seconds", OPT_INT,
	 O(sweep_seconds), "10", "period of the expiry sweep and Docker reconciliation"},
	{"workers", "SANDBOX_API_WORKERS", "server.workers", OPT_INT, O(workers), "16",
	 "threads making blocking Docker calls"},
	{"ready-timeout", "SANDBOX_API_READY_TIMEOUT", "server.ready_timeout_seconds", OPT_INT,
	 O(ready_timeout), "120", "seconds a new sandbox may take for execd to answer /ping"},
	{"failed-ttl", "PENDING_FAILURE_TTL", "server.pending_failure_ttl", OPT_INT, O(failed_ttl),
	 "3600",
	 "seconds a sandbox whose execd never answered /ping stays listed as Failed before it is "
	 "removed"},
	{"log-level", "SANDBOX_API_LOG_LEVEL", "log.level", OPT_STR, O(log_level), "info",
	 "debug|info|warn|error"},
	{"runtime", "SANDBOX_API_RUNTIME", "runtime.type", OPT_STR, O(runtime), "docker",
	 "docker or kubernetes"},
	{"execd-image", "SANDBOX_API_EXECD_IMAGE", "runtime.execd_image", OPT_STR, O(execd_image),
	 "sandbox/execd:latest",
	 "image holding /opt/opensandbox/{execd,bootstrap.sh}, used when no local files are found"},
	{"execd-path", "SANDBOX_API_EXECD_PATH", "runtime.execd_path", OPT_STR, O(execd_path), "",
	 "local static execd to inject (default: execd next to this binary, if present)"},
	{"bootstrap-path", "SANDBOX_API_BOOTSTRAP_PATH", "runtime.bootstrap_path", OPT_STR,
	 O(bootstrap_path), "",
	 "local bootstrap.sh (default: ../../images/bootstrap.sh from the binary)"},
	{"docker-host", "DOCKER_HOST", "docker.host", OPT_STR, O(docker_host),
	 "unix:///var/run/docker.sock", "Docker Engine API: unix:///path or tcp://host:port"},
	{"pull-policy", "SANDBOX_API_PULL_POLICY", "docker.pull_policy", OPT_STR, O(pull_policy),
	 "missing",
	 "missing: pull images that are not present (with image.auth); never: do not pull"},
	{"network-mode", "SANDBOX_API_NETWORK_MODE", "docker.network_mode", OPT_STR,
	 O(network_mode), "bridge", "bridge, host or a user-defined network name"},
	{"docker-timeout", "SANDBOX_API_DOCKER_TIMEOUT", "docker.api_timeout", OPT_INT,
	 O(docker_timeout), "180", "seconds per Docker API call without progress"},
	{"docker-host-ip", "SANDBOX_API_DOCKER_HOST_IP", "docker.host_ip", OPT_STR,
	 O(docker_host_ip), "", "host address to advertise when this server runs in a container"},
	{"drop-capabilities", "SANDBOX_API_DROP_CAPABILITIES", "docker.drop_capabilities", OPT_STR,
	 O(cap_drop),
	 "AUDIT_WRITE,MKNOD,NET_ADMIN,NET_RAW,SYS_ADMIN,SYS_MODULE,SYS_PTRACE,SYS_TIME,SYS_TTY_"
	 "CONFIG",
	 "capabilities dropped from sandboxes (comma list)"},
	{"no-new-privileges", "SANDBOX_API_NO_NEW_PRIVILEGES", "docker.no_new_privileges", OPT_BOOL,
	 O(no_new_privileges), "true", "SecurityOpt no-new-privileges"},
	{"pids-limit", "SANDBOX_API_PIDS_LIMIT", "docker.pids_limit", OPT_INT, O(pids_limit),
	 "4096", "PidsLimit per sandbox (0: none)"},
	{"apparmor-profile", "SANDBOX_API_APPARMOR_PROFILE", "docker.apparmor_profile", OPT_STR,
	 O(apparmor), "", "AppArmor profile name"},
	{"seccomp-profile", "SANDBOX_API_SECCOMP_PROFILE", "docker.seccomp_profile", OPT_STR,
	 O(seccomp), "", "seccomp profile (JSON text, or a file path whose content is sent)"},
	{"secure-runtime", "SANDBOX_API_SECURE_RUNTIME", "docker.runtime", OPT_STR,
	 O(secure_runtime), "",
	 "OCI runtime name of Docker sandboxes (e.g. runsc; default from --secure-runtime-type)"},
	{"secure-runtime-type", "SANDBOX_API_SECURE_RUNTIME_TYPE", "secure_runtime.type", OPT_STR,
	 O(secure_runtime_type), "",
	 "gvisor, kata or firecracker (Kubernetes only): the default of --secure-runtime "
	 "(runsc, kata-runtime) and of --k8s-runtime-class (gvisor, kata-qemu, kata-fc)"},
	{"allowed-host-paths", "SANDBOX_API_ALLOWED_HOST_PATHS", "storage.allowed_host_paths",
	 OPT_STR, O(allowed_host_paths), "",
	 "host path prefixes allowed for host volumes, comma list (empty: none); opened at "
	 "start-up, so they must exist then"},
	{"allowed-volumes", "SANDBOX_API_ALLOWED_VOLUMES", "storage.allowed_volumes", OPT_STR,
	 O(allowed_volumes), "",
	 "named volumes a pvc may mount besides those this server created, comma list of "
	 "globs (empty: only its own)"},
	{"publish-address", "SANDBOX_API_PUBLISH_ADDRESS", "docker.publish_address", OPT_STR,
	 O(publish_address), "0.0.0.0",
	 "host address that sandboxes' published ports (execd, 8080, egress) bind to"},
	{"gateway-listen", "SANDBOX_API_GATEWAY_LISTEN", "ingress.gateway.listen", OPT_STR,
	 O(gateway_listen), "", "ADDR:PORT of the ingress gateway listener (empty: off)"},
	{"ingress-mode", "SANDBOX_API_INGRESS_MODE", "ingress.mode", OPT_STR, O(ingress_mode),
	 "direct", "endpoints: direct (mapped ports) or gateway (--gateway-address)"},
	{"gateway-address", "SANDBOX_API_GATEWAY_ADDRESS", "ingress.gateway.address", OPT_STR,
	 O(gateway_address), "",
	 "public address of the gateway in endpoints: host[:port], or *.domain for wildcard"},
	{"gateway-route-mode", "SANDBOX_API_GATEWAY_ROUTE_MODE", "ingress.gateway.route.mode",
	 OPT_STR, O(gateway_route_mode), "header", "endpoint form: wildcard, header or uri"},
	{"gateway-route-cookie", "SANDBOX_API_GATEWAY_ROUTE_COOKIE", "ingress.gateway.route_cookie",
	 OPT_BOOL, O(gateway_route_cookie), "false",
	 "a URI route sets a cookie that routes later requests with no route of their own"},
	{"secure-access-keys", "SANDBOX_API_SECURE_ACCESS_KEYS", "ingress.secure_access.keys",
	 OPT_STR, O(secure_access_keys), "",
	 "signing keys for signed routes: comma list of KEYID:BASE64 (key id one of [0-9a-z])"},
	{"secure-access-active-key", "SANDBOX_API_SECURE_ACCESS_ACTIVE_KEY",
	 "ingress.secure_access.active_key", OPT_STR, O(secure_access_active_key), "",
	 "the key id that signs new routes"},
	{"renew-min-interval", "SANDBOX_API_RENEW_MIN_INTERVAL",
	 "renew_intent.min_interval_seconds", OPT_INT, O(renew_min_interval), "60",
	 "renew-on-access extends a sandbox at most once per this many seconds"},
	{"egress-image", "SANDBOX_API_EGRESS_IMAGE", "egress.image", OPT_STR, O(egress_image),
	 "sandbox/egressd:latest", "egress sidecar image (needed for networkPolicy)"},
	{"egress-mode", "SANDBOX_API_EGRESS_MODE", "egress.mode", OPT_STR, O(egress_mode), "dns",
	 "dns or dns+nft"},
	{"egress-env", "SANDBOX_API_EGRESS_ENV", "egress.env", OPT_STR, O(egress_env), "",
	 "extra KEY=VALUE environment for egress sidecars (comma list), e.g. "
	 "OPENSANDBOX_EGRESS_DNS_UPSTREAM=10.0.0.2"},
	{"egress-disable-ipv6", "SANDBOX_API_EGRESS_DISABLE_IPV6", "egress.disable_ipv6", OPT_BOOL,
	 O(disable_ipv6), "true", "disable IPv6 in the sandbox network namespace"},
	{"egress-ready-timeout", "SANDBOX_API_EGRESS_READY_TIMEOUT", "egress.ready_timeout_seconds",
	 OPT_INT, O(egress_ready_timeout), "30", "seconds the sidecar may take to answer /healthz"},
	{"kubeconfig", "KUBECONFIG", "kubernetes.kubeconfig_path", OPT_STR, O(kubeconfig), "",
	 "kubeconfig file (empty: the in-cluster service account)"},
	{"k8s-context", "SANDBOX_API_K8S_CONTEXT", "kubernetes.context", OPT_STR, O(k8s_context),
	 "", "kubeconfig context (empty: its current-context)"},
	{"k8s-namespace", "SANDBOX_API_K8S_NAMESPACE", "kubernetes.namespace", OPT_STR,
	 O(k8s_namespace), "", "namespace of the sandboxes (required with kubernetes)"},
	{"k8s-provider", "SANDBOX_API_K8S_PROVIDER", "kubernetes.workload_provider", OPT_STR,
	 O(k8s_provider), "batchsandbox",
	 "batchsandbox (the OpenSandbox controller's CR) or pod (plain Pods, no controller)"},
	{"k8s-template-file", "SANDBOX_API_K8S_TEMPLATE_FILE",
	 "kubernetes.batchsandbox_template_file", OPT_STR, O(k8s_template_file), "",
	 "YAML merged under every BatchSandbox (or Pod) this server creates"},
	{"k8s-image-pull-policy", "SANDBOX_API_K8S_IMAGE_PULL_POLICY",
	 "kubernetes.image_pull_policy", OPT_STR, O(k8s_pull_policy), "IfNotPresent",
	 "imagePullPolicy of the sandbox container"},
	{"k8s-service-account", "SANDBOX_API_K8S_SERVICE_ACCOUNT", "kubernetes.service_account",
	 OPT_STR, O(k8s_service_account), "", "serviceAccountName of sandbox pods (empty: none)"},
	{"k8s-create-timeout", "SANDBOX_API_K8S_CREATE_TIMEOUT",
	 "kubernetes.sandbox_create_timeout_seconds", OPT_INT, O(k8s_create_timeout), "60",
	 "seconds a new sandbox may take to become ready (then 504 and it is deleted)"},
	{"k8s-watch-timeout", "SANDBOX_API_K8S_WATCH_TIMEOUT",
	 "kubernetes.informer_watch_timeout_seconds", OPT_INT, O(k8s_watch_timeout), "60",
	 "timeoutSeconds of each watch"},
	{"k8s-resync", "SANDBOX_API_K8S_RESYNC", "kubernetes.informer_resync_seconds", OPT_INT,
	 O(k8s_resync), "300", "seconds between full relists (0: never)"},
	{"k8s-read-qps", "SANDBOX_API_K8S_READ_QPS", "kubernetes.read_qps", OPT_DOUBLE,
	 O(k8s_read_qps), "0",
	 "reads per second to the API server, fractions allowed (0: unlimited)"},
	{"k8s-read-burst", "SANDBOX_API_K8S_READ_BURST", "kubernetes.read_burst", OPT_INT,
	 O(k8s_read_burst), "0", "read burst"},
	{"k8s-write-qps", "SANDBOX_API_K8S_WRITE_QPS", "kubernetes.write_qps", OPT_DOUBLE,
	 O(k8s_write_qps), "0",
	 "writes per second to the API server, fractions allowed (0: unlimited)"},
	{"k8s-write-burst", "SANDBOX_API_K8S_WRITE_BURST", "kubernetes.write_burst", OPT_INT,
	 O(k8s_write_burst), "0", "write burst"},
	{"k8s-runtime-class", "SANDBOX_API_K8S_RUNTIME_CLASS", "secure_runtime.k8s_runtime_class",
	 OPT_STR, O(k8s_runtime_class), "",
	 "runtimeClassName of sandbox pods; the RuntimeClass must exist at start-up (default from "
	 "--secure-runtime-type, else none)"},
	{"k8s-execd-init-resources", "SANDBOX_API_K8S_EXECD_INIT_RESOURCES",
	 "kubernetes.execd_init_resources", OPT_STR, O(k8s_init_resources), "",
	 "resources of the execd-installer init container: {limits, requests} (a TOML table, or "
	 "JSON text)"},
	{"volume-default-size", "SANDBOX_API_VOLUME_DEFAULT_SIZE", "storage.volume_default_size",
	 OPT_STR, O(volume_default_size), "1Gi",
	 "size of a PVC made for createIfNotExists (Kubernetes)"},
};
#undef O
const size_t apicfg_nopts = sizeof(apicfg_opts) / sizeof(apicfg_opts[0]);

void apicfg_usage(FILE *f)
{
	fprintf(f, "usage: sandbox-api [--config FILE] [--flag value | --flag=value]...\n"
		   "  --config FILE  config file, the upstream TOML or JSON (env "
		   "SANDBOX_CONFIG_PATH;\n"
		   "                 default ~/.sandbox.toml if it exists); keys as shown\n"
		   "       sandbox-api init-config PATH --example docker|k8s [--force]\n"
		   "       sandbox-api --version\n");
	for (size_t i = 0; i < apicfg_nopts; i++) {
		const struct opt *o = &apicfg_opts[i];
		fprintf(f, "  --%-22s %s\n  %24s [%s; env %s; default \"%s\"]\n", o->flag, o->help,
			"", o->key, o->env, o->def);
	}
	fprintf(f,
		"environment: OPENSANDBOX_INSECURE_SERVER=YES allows running without an API key\n");
}

int apicfg_set(struct apicfg *cfg, const struct opt *o, const char *v, const char *src,
	       struct err *e)
{
	char *p = (char *)cfg + o->off;
	switch (o->kind) {
	case OPT_STR: {
		char **s = (char **)p;
		free(*s);
		*s = strdup(v);
		return *s ? 0 : err_set(e, ENOMEM, "out of memory");
	}
	case OPT_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || *end || errno || x < 0)
			return err_set(e, EINVAL, "%s: %s must be a non-negative integer, got '%s'",
				       src, o->key, v);
		*(int64_t *)p = x;
		return 0;
	}
	case OPT_DOUBLE: {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		/* !(x >= 0) also refuses NaN; strtod's hex and inf forms are refused too */
		if (!*v || *end || errno || !(x >= 0) || x > 1e9 || strpbrk(v, "xXnN"))
			return err_set(e, EINVAL, "%s: %s must be a non-negative number, got '%s'",
				       src, o->key, v);
		*(double *)p = x;
		return 0;
	}
	case OPT_BOOL:
		if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
		    !strcasecmp(v, "on"))
			*(bool *)p = true;
		else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
			 !strcasecmp(v, "off"))
			*(bool *)p = false;
		else
			return err_set(e, EINVAL, "%s: %s must be true or false, got '%s'", src,
				       o->key, v);
		return 0;
	}
	return -EINVAL;
}

static int opt_set_key(struct apicfg *cfg, const char *key, const char *v, struct err *e)
{
	for (size_t i = 0; i < apicfg_nopts; i++)
		if (!strcmp(apicfg_opts[i].key, key))
			return apicfg_set(cfg, &apicfg_opts[i], v, "secure_runtime.type", e);
	return -EINVAL;
}

static const struct opt *find_flag(const char *name, size_t n)
{
	for (size_t i = 0; i < apicfg_nopts; i++)
		if (strlen(apicfg_opts[i].flag) == n && strncmp(apicfg_opts[i].flag, name, n) == 0)
			return &apicfg_opts[i];
	return NULL;
}

/* A Kubernetes object name (RFC 1123 subdomain): it goes into a URL path. */
static bool dns_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
		bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
		if (!alnum && (edge || (s[i] != '-' && s[i] != '.')))
			return false;
	}
	return true;
}

/* secure_runtime.type gives the runtimes not named otherwise, as upstream:
 * the OCI runtime of Docker sandboxes and the RuntimeClass of pods. */
static int secure_runtime_defaults(struct apicfg *cfg, struct err *e)
{
	static const struct {
		const char *type, *oci, *k8s_class;
	} kinds[] = {
		{"gvisor", "runsc", "gvisor"},
		{"kata", "kata-runtime", "kata-qemu"},
		{"firecracker", NULL, "kata-fc"},
	};
	const char *t = cfg->secure_runtime_type;
	if (!t[0])
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].type, t) != 0)
			continue;
		bool docker = !strcmp(cfg->runtime, "docker");
		if (docker && !kinds[i].oci)
			return err_set(e, EINVAL,
				       "secure_runtime.type '%s' needs the kubernetes runtime", t);
		int r = 0;
		if (!cfg->secure_runtime[0] && kinds[i].oci)
			r = opt_set_key(cfg, "docker.runtime", kinds[i].oci, e);
		if (!r && !cfg->k8s_runtime_class[0])
			r = opt_set_key(cfg, "secure_runtime.k8s_runtime_class", kinds[i].k8s_class,
					e);
		return r;
	}
	return err_set(e, EINVAL,
		       "secure_runtime.type '%s' is not supported (gvisor, kata, firecracker, or "
		       "empty)",
		       t);
}

int apicfg_load(struct apicfg *cfg, int argc, char **argv, struct err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	const size_t nopts = apicfg_nopts;
	for (size_t i = 0; i < nopts; i++)
		if (apicfg_set(cfg, &apicfg_opts[i], apicfg_opts[i].def, "default", e) < 0)
			return -EINVAL;
	const char *file = getenv("SANDBOX_CONFIG_PATH");
	/* Like upstream: ~/.sandbox.toml when nothing else is named and it exists. */
	char home_cfg[600] = "";
	const char *home = getenv("HOME");
	if (!file && home && *home) {
		snprintf(home_cfg, sizeof(home_cfg), "%s/.sandbox.toml", home);
		if (access(home_cfg, R_OK) == 0)
			file = home_cfg;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			apicfg_usage(stdout);
			return 1;
		}
		if (version_flag(argv[i])) {
			version_print("sandbox-api");
			return 1;
		}
		if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[++i];
	}
	if (file && *file && apicfg_load_file(cfg, file, e) < 0)
		return -EINVAL;
	for (size_t i = 0; i < nopts; i++) {
		const char *v = getenv(apicfg_opts[i].env);
		if (v && *v && apicfg_set(cfg, &apicfg_opts[i], v, apicfg_opts[i].env, e) < 0)
			return -EINVAL;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "--config", 8)) {
			if (!a[8])
				i++;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return err_set(e, EINVAL, "unexpected argument '%s' (see --help)", a);
		a += 2;
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		const struct opt *o = find_flag(a, n);
		if (!o)
			return err_set(e, EINVAL, "unknown flag --%.*s (see --help)", (int)n, a);
		const char *v = eq ? eq + 1 : NULL;
		if (!v && o->kind == OPT_BOOL)
			v = "true";
		if (!v) {
			if (i + 1 >= argc)
				return err_set(e, EINVAL, "--%s needs a value", o->flag);
			v = argv[++i];
		}
		char src[64];
		snprintf(src, sizeof(src), "--%s", o->flag);
		if (apicfg_set(cfg, o, v, src, e) < 0)
			return -EINVAL;
	}
	if (cfg->port == 0 || cfg->port > 65535)
		return err_set(e, EINVAL, "port %lld is out of range", (long long)cfg->port);
	if (cfg->workers < 1 || cfg->workers > 256)
		return err_set(e, EINVAL, "workers must be 1..256");
	if (strcmp(cfg->runtime, "docker") != 0 && strcmp(cfg->runtime, "kubernetes") != 0)
		return err_set(e, EINVAL, "runtime '%s' is not supported (docker or kubernetes)",
			       cfg->runtime);
	if (!strcmp(cfg->runtime, "kubernetes") && !cfg->k8s_namespace[0])
		return err_set(e, EINVAL,
			       "the kubernetes runtime needs a namespace "
			       "(--k8s-namespace, kubernetes.namespace)");
	if (strcmp(cfg->k8s_provider, "batchsandbox") != 0 && strcmp(cfg->k8s_provider, "pod") != 0)
		return err_set(e, EINVAL, "k8s provider must be batchsandbox or pod");
	/* A rate below one call per 100 s would hold every call (they share one lock) past
	 * the call deadline; 0 is unlimited. */
	if ((cfg->k8s_read_qps > 0 && cfg->k8s_read_qps < K8S_QPS_MIN) ||
	    (cfg->k8s_write_qps > 0 && cfg->k8s_write_qps < K8S_QPS_MIN))
		return err_set(e, EINVAL, "k8s read/write qps must be 0 (unlimited) or at least %g",
			       K8S_QPS_MIN);
	if (cfg->k8s_read_burst > K8S_BURST_MAX || cfg->k8s_write_burst > K8S_BURST_MAX)
		return err_set(e, EINVAL, "k8s read/write burst must be at most %d", K8S_BURST_MAX);
	if (secure_runtime_defaults(cfg, e) < 0)
		return -EINVAL;
	if (cfg->k8s_runtime_class[0] && !dns_subdomain(cfg->k8s_runtime_class))
		return err_set(e, EINVAL,
			       "k8s runtime class '%s' is not a valid RuntimeClass name (lowercase "
			       "letters, digits, '-' and '.', at most 253)",
			       cfg->k8s_runtime_class);
	if (strcmp(cfg->egress_mode, "dns") != 0 && strcmp(cfg->egress_mode, "dns+nft") != 0)
		return err_set(e, EINVAL, "egress mode must be dns or dns+nft");
	if (strcmp(cfg->pull_policy, "missing") != 0 && strcmp(cfg->pull_policy, "never") != 0)
		return err_set(e, EINVAL, "pull policy must be missing or never");
	if (cfg->sweep_seconds == 0)
		cfg->sweep_seconds = 10;
	return 0;
}

void apicfg_free(struct apicfg *cfg)
{
	free(cfg->warnings);
	cfg->warnings = NULL;
	for (size_t i = 0; i < apicfg_nopts; i++) {
		if (apicfg_opts[i].kind != OPT_STR)
			continue;
		char **s = (char **)((char *)cfg + apicfg_opts[i].off);
		free(*s);
		*s = NULL;
	}
}
