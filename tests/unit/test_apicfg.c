// SPDX-License-Identifier: Apache-2.0
/* sandbox-api's config: the upstream TOML read as is, JSON still, precedence, warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apicfg.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int load(struct apicfg *c, const char *path, const char *extra, struct err *e)
{
	char *argv[] = {"sandbox-api", "--config", (char *)path, (char *)extra, NULL};
	return apicfg_load(c, extra ? 4 : 3, argv, e);
}

static const char upstream_toml[] =
	"[server]\n"
	"host = \"127.0.0.1\"\n"
	"port = 9090\n"
	"api_key = \"k\"\n"
	"max_sandbox_timeout_seconds = 86400\n"
	"timeout_keep_alive = 30\n"
	"[log]\n"
	"level = \"INFO\"\n"
	"[runtime]\n"
	"type = \"kubernetes\"\n"
	"execd_image = \"opensandbox/execd:v1.0.19\"\n"
	"[docker]\n"
	"drop_capabilities = [\"NET_RAW\", \"SYS_ADMIN\"]\n"
	"no_new_privileges = false\n"
	"[storage]\n"
	"allowed_host_paths = [\"/data\", \"/srv\"]\n"
	"[kubernetes]\n"
	"namespace = \"sandboxes\"\n"
	"workload_provider = \"pod\"\n"
	"read_qps = 20\n"
	"[kubernetes.execd_init_resources.limits]\n"
	"cpu = \"100m\"\n"
	"[ingress]\n"
	"mode = \"gateway\"\n"
	"[ingress.gateway]\n"
	"address = \"*.sbx.example.com\"\n"
	"route.mode = \"wildcard\"\n"
	"[ingress.secure_access]\n"
	"active_key = \"a\"\n"
	"keys = [{key_id = \"a\", key = \"c2VjcmV0\"}, {key_id = \"b\", key = \"b3RoZXI=\"}]\n"
	"[secure_runtime]\n"
	"type = \"gvisor\"\n"
	"[egress]\n"
	"image = \"egress:1\"\n"
	"bogus = 1\n";

TEST(apicfg_upstream_toml)
{
	char dir[] = "/tmp/apicfg.XXXXXX", path[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sandbox.toml", dir);
	write_file(path, upstream_toml);
	struct apicfg c;
	struct err e = {0};
	CHECK_INT(load(&c, path, "--port=7070", &e), 0);
	CHECK_STR(c.host, "127.0.0.1");
	CHECK_INT(c.port, 7070); /* flags win over the file */
	CHECK_STR(c.api_key, "k");
	CHECK_INT(c.max_timeout, 86400);
	CHECK_STR(c.log_level, "INFO");
	CHECK_STR(c.runtime, "kubernetes");
	CHECK_STR(c.execd_image, "opensandbox/execd:v1.0.19");
	CHECK_STR(c.cap_drop, "NET_RAW,SYS_ADMIN");
	CHECK(!c.no_new_privileges);
	CHECK_STR(c.allowed_host_paths, "/data,/srv");
	CHECK_STR(c.k8s_namespace, "sandboxes");
	CHECK_STR(c.k8s_provider, "pod");
	CHECK(c.k8s_read_qps == 20.0);
	CHECK_STR(c.k8s_init_resources, "{\"limits\":{\"cpu\":\"100m\"}}");
	CHECK_STR(c.ingress_mode, "gateway");
	CHECK_STR(c.gateway_address, "*.sbx.example.com");
	CHECK_STR(c.gateway_route_mode, "wildcard");
	CHECK_STR(c.secure_access_keys, "a:c2VjcmV0,b:b3RoZXI=");
	CHECK_STR(c.secure_runtime, "runsc");
	CHECK_STR(c.k8s_runtime_class, "gvisor");
	CHECK_STR(c.egress_image, "egress:1");
	/* Keys nothing reads are named, not refused. */
	CHECK(c.warnings && strstr(c.warnings, "unknown key egress.bogus"));
	CHECK(c.warnings && strstr(c.warnings, "server.timeout_keep_alive is not used"));
	apicfg_free(&c);

	/* JSON keeps working, and errors name the line and key. */
	write_file(path,
		   "{\"server\": {\"port\": 8181}, \"docker\": {\"network_mode\": \"host\"}}");
	CHECK_INT(load(&c, path, NULL, &e), 0);
	CHECK_INT(c.port, 8181);
	CHECK_STR(c.network_mode, "host");
	apicfg_free(&c);
	snprintf(path, sizeof(path), "%s/bad.toml", dir);
	write_file(path, "[server]\nport = 1\nport = 2\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "line 3") && strstr(e.msg, "port"));
	apicfg_free(&c);
	write_file(path, "[server]\nport = \"x\"\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "server.port"));
	apicfg_free(&c);
	write_file(path, "[secure_runtime]\ntype = \"firecracker\"\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "firecracker") &&
	      strstr(e.msg, "kubernetes"));
	apicfg_free(&c);
	write_file(path, "[secure_runtime]\ntype = \"nope\"\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "'nope' is not supported"));
	apicfg_free(&c);
	/* Fractional rates survive the file; negatives, NaN and fractions of integers do not. */
	write_file(path, "[kubernetes]\nread_qps = 0.5\nwrite_qps = 1e-1\n");
	CHECK_INT(load(&c, path, NULL, &e), 0);
	CHECK(c.k8s_read_qps == 0.5 && c.k8s_write_qps == 0.1);
	apicfg_free(&c);
	write_file(path, "[kubernetes]\nread_qps = -1\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "kubernetes.read_qps") &&
	      strstr(e.msg, "non-negative number"));
	apicfg_free(&c);
	CHECK(load(&c, "/dev/null", "--k8s-write-qps=nan", &e) < 0 &&
	      strstr(e.msg, "kubernetes.write_qps"));
	apicfg_free(&c);
	CHECK(load(&c, "/dev/null", "--k8s-write-qps=inf", &e) < 0);
	apicfg_free(&c);
	/* A rate that would hold every call for ever (1e-300 once spun a worker under the lock). */
	write_file(path, "[kubernetes]\nwrite_qps = 1e-300\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "at least 0.01"));
	apicfg_free(&c);
	CHECK(load(&c, "/dev/null", "--k8s-read-qps=0.009", &e) < 0);
	apicfg_free(&c);
	CHECK_INT(load(&c, "/dev/null", "--k8s-read-qps=0.01", &e), 0);
	apicfg_free(&c);
	/* A burst past an int was cast to 1 without a word. */
	CHECK(load(&c, "/dev/null", "--k8s-read-burst=4294967297", &e) < 0 &&
	      strstr(e.msg, "burst must be at most"));
	apicfg_free(&c);
	write_file(path, "[server]\nport = 80.5\n");
	CHECK(load(&c, path, NULL, &e) < 0 && strstr(e.msg, "'80.5'"));
	apicfg_free(&c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

/* secure_runtime: the Docker OCI runtime and the Kubernetes RuntimeClass. */
TEST(apicfg_secure_runtime)
{
	char dir[] = "/tmp/apicfg.XXXXXX", path[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sandbox.toml", dir);
	struct apicfg c;
	struct err e = {0};
	static const struct {
		const char *runtime, *type, *oci, *rc;
	} maps[] = {
		{"docker", "gvisor", "runsc", "gvisor"},
		{"docker", "kata", "kata-runtime", "kata-qemu"},
		{"kubernetes", "gvisor", "runsc", "gvisor"},
		{"kubernetes", "kata", "kata-runtime", "kata-qemu"},
		{"kubernetes", "firecracker", "", "kata-fc"},
		{"kubernetes", "", "", ""},
	};
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char text[300];
		snprintf(text, sizeof(text),
			 "[runtime]\ntype = \"%s\"\n[kubernetes]\nnamespace = \"n\"\n"
			 "[secure_runtime]\ntype = \"%s\"\n",
			 maps[i].runtime, maps[i].type);
		write_file(path, text);
		CHECK_INT(load(&c, path, NULL, &e), 0);
		CHECK_STR(c.secure_runtime, maps[i].oci);
		CHECK_STR(c.k8s_runtime_class, maps[i].rc);
		CHECK(c.warnings == NULL);
		apicfg_free(&c);
	}
	/* Given names win over the type's defaults, from the file or a flag. */
	write_file(path, "[runtime]\ntype = \"kubernetes\"\n[kubernetes]\nnamespace = \"n\"\n"
			 "[secure_runtime]\ntype = \"kata\"\nk8s_runtime_class = \"kata-clh\"\n"
			 "docker_runtime = \"kata-clh\"\n");
	CHECK_INT(load(&c, path, NULL, &e), 0);
	CHECK_STR(c.k8s_runtime_class, "kata-clh");
	CHECK_STR(c.secure_runtime, "kata-clh");
	CHECK(c.warnings == NULL);
	apicfg_free(&c);
	CHECK_INT(load(&c, path, "--k8s-runtime-class=test-rc", &e), 0);
	CHECK_STR(c.k8s_runtime_class, "test-rc");
	apicfg_free(&c);
	/* firecracker is Kubernetes-only: refused on Docker, also when a flag picks Docker. */
	write_file(path, "[runtime]\ntype = \"kubernetes\"\n[kubernetes]\nnamespace = \"n\"\n"
			 "[secure_runtime]\ntype = \"firecracker\"\n");
	CHECK(load(&c, path, "--runtime=docker", &e) < 0 && strstr(e.msg, "firecracker"));
	apicfg_free(&c);
	setenv("SANDBOX_API_K8S_RUNTIME_CLASS", "from-env", 1);
	CHECK_INT(load(&c, path, NULL, &e), 0);
	CHECK_STR(c.k8s_runtime_class, "from-env");
	apicfg_free(&c);
	unsetenv("SANDBOX_API_K8S_RUNTIME_CLASS");
	/* The class goes into a URL path: only a Kubernetes object name. */
	static const char *const bad[] = {"--k8s-runtime-class=a/b", "--k8s-runtime-class=A",
					  "--k8s-runtime-class=-a", "--k8s-runtime-class=a..b",
					  "--k8s-runtime-class=a?x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(load(&c, path, bad[i], &e) < 0 && strstr(e.msg, "RuntimeClass name"));
		apicfg_free(&c);
	}
	CHECK_INT(load(&c, path, "--k8s-runtime-class=kata.fc-2", &e), 0);
	apicfg_free(&c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

TEST(apicfg_init_config_samples_load)
{
	char dir[] = "/tmp/apicfg.XXXXXX", path[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.toml", dir);
	static const char *const kinds[] = {"docker", "k8s"};
	for (int i = 0; i < 2; i++) {
		char *argv[] = {"init-config",	  path,	     "--example",
				(char *)kinds[i], "--force", NULL};
		CHECK_INT(apicfg_init_config(5, argv), 0);
		struct apicfg c;
		struct err e = {0};
		CHECK_INT(load(&c, path, NULL, &e), 0);
		CHECK(c.warnings == NULL); /* every key of a sample is one this server reads */
		CHECK_STR(c.runtime, i ? "kubernetes" : "docker");
		apicfg_free(&c);
	}
	char *argv[] = {"init-config", path, "--example", "docker", NULL};
	CHECK_INT(apicfg_init_config(4, argv), 1); /* exists, no --force */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}
