// SPDX-License-Identifier: Apache-2.0
/* `sandbox-api init-config`: commented sample configs in the upstream TOML layout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apicfg.h"

static const char docker_example[] =
	"# sandbox-api configuration (the upstream OpenSandbox server's layout).\n"
	"# Precedence: defaults < this file < environment < flags; see sandbox-api --help.\n"
	"\n"
	"[server]\n"
	"host = \"0.0.0.0\"\n"
	"port = 8080\n"
	"# api_key = \"change-me\"            # or OPENSANDBOX_SERVER_API_KEY\n"
	"# eip = \"sandbox.example.com\"      # host put in returned endpoints\n"
	"max_sandbox_timeout_seconds = 86400\n"
	"\n"
	"[log]\n"
	"level = \"INFO\"\n"
	"\n"
	"[runtime]\n"
	"type = \"docker\"\n"
	"execd_image = \"sandbox/execd:latest\"\n"
	"\n"
	"[docker]\n"
	"network_mode = \"bridge\"             # bridge, host or a user-defined network\n"
	"drop_capabilities = [\"AUDIT_WRITE\", \"MKNOD\", \"NET_ADMIN\", \"NET_RAW\", "
	"\"SYS_ADMIN\",\n"
	"                     \"SYS_MODULE\", \"SYS_PTRACE\", \"SYS_TIME\", \"SYS_TTY_CONFIG\"]\n"
	"no_new_privileges = true\n"
	"pids_limit = 4096\n"
	"\n"
	"[storage]\n"
	"allowed_host_paths = []              # host path prefixes for host volumes; empty: none\n"
	"\n"
	"[egress]\n"
	"image = \"sandbox/egressd:latest\"\n"
	"mode = \"dns\"                         # dns or dns+nft\n"
	"\n"
	"[ingress]\n"
	"mode = \"direct\"\n";

static const char k8s_example[] =
	"# sandbox-api on Kubernetes (the upstream OpenSandbox server's layout).\n"
	"# Precedence: defaults < this file < environment < flags; see sandbox-api --help.\n"
	"\n"
	"[server]\n"
	"host = \"0.0.0.0\"\n"
	"port = 8080\n"
	"# api_key = \"change-me\"            # or OPENSANDBOX_SERVER_API_KEY\n"
	"\n"
	"[log]\n"
	"level = \"INFO\"\n"
	"\n"
	"[runtime]\n"
	"type = \"kubernetes\"\n"
	"execd_image = \"sandbox/execd:latest\"\n"
	"\n"
	"[kubernetes]\n"
	"# kubeconfig_path = \"~/.kube/config\"  # unset: the in-cluster service account\n"
	"namespace = \"opensandbox\"\n"
	"workload_provider = \"batchsandbox\"   # or \"pod\" (no controller needed)\n"
	"image_pull_policy = \"IfNotPresent\"\n"
	"sandbox_create_timeout_seconds = 60\n"
	"informer_resync_seconds = 300\n"
	"informer_watch_timeout_seconds = 60\n"
	"# batchsandbox_template_file = \"/etc/sandbox-api/template.yaml\"\n"
	"\n"
	"[kubernetes.execd_init_resources.limits]\n"
	"cpu = \"100m\"\n"
	"memory = \"64Mi\"\n"
	"\n"
	"[storage]\n"
	"volume_default_size = \"1Gi\"\n"
	"\n"
	"[egress]\n"
	"image = \"sandbox/egressd:latest\"\n"
	"mode = \"dns\"\n"
	"\n"
	"[ingress]\n"
	"mode = \"direct\"\n";

int apicfg_init_config(int argc, char **argv)
{
	const char *path = NULL, *example = "docker";
	bool force = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--example") && i + 1 < argc)
			example = argv[++i];
		else if (!strncmp(argv[i], "--example=", 10))
			example = argv[i] + 10;
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			path = NULL, i = argc; /* unknown: usage below */
	}
	const char *text = !strcmp(example, "docker") ? docker_example
			   : !strcmp(example, "k8s")  ? k8s_example
						      : NULL;
	if (!path || !text) {
		fprintf(stderr,
			"usage: sandbox-api init-config PATH --example docker|k8s [--force]\n");
		return 2;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0) {
		fprintf(stderr, "sandbox-api: init-config %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (--force overwrites it)" : "");
		return 1;
	}
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "sandbox-api: init-config %s: write failed\n", path);
		return 1;
	}
	printf("wrote %s (%s example)\n", path, example);
	return 0;
}
