/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apicfg: sandbox-api configuration from, in increasing precedence, built-in
 * defaults, a config file (--config, SANDBOX_CONFIG_PATH or ~/.sandbox.toml:
 * the upstream server's TOML read as is, or the same tree as JSON;
 * apicfg_file.c), environment variables and command-line flags. Every option is in one table, which
 * also prints --help. Strings are owned by the struct (apicfg_free).
 */
#ifndef API_APICFG_H
#define API_APICFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define K8S_QPS_MIN   0.01    /* a positive rate below this is refused */
#define K8S_BURST_MAX 1000000 /* calls a bucket may hold */

struct apicfg {
	char *host; /* listen address */
	int64_t port;
	char *api_key;
	bool proxy_auth;     /* the server proxy route needs the API key */
	char *eip;	     /* public host in returned endpoints */
	int64_t max_timeout; /* seconds; 0 = no cap */
	char *state_dir;     /* persisted expiry and metadata */
	char *instance;	     /* label value separating servers sharing a daemon, or "" */
	char *log_level;
	char *runtime;			   /* "docker" | "kubernetes" */
	char *execd_image;		   /* file source when no local execd is found */
	char *execd_path, *bootstrap_path; /* local files to inject */
	char *docker_host;
	char *pull_policy;	/* missing | never */
	char *network_mode;	/* bridge | host | <user network> */
	int64_t docker_timeout; /* seconds */
	char *docker_host_ip;
	char *cap_drop; /* comma list */
	bool no_new_privileges;
	int64_t pids_limit;
	char *apparmor, *seccomp;
	char *secure_runtime;	   /* Docker: the OCI runtime, or "" */
	char *secure_runtime_type; /* "" | gvisor | kata | firecracker (Kubernetes only) */
	char *allowed_host_paths;  /* comma list */
	char *allowed_volumes;	   /* comma list of globs */
	char *publish_address;	   /* HostIp of published ports */
	char *gateway_listen;	   /* ADDR:PORT, "" = no gateway */
	char *ingress_mode;	   /* direct | gateway */
	char *gateway_address, *gateway_route_mode;
	bool gateway_route_cookie;
	char *secure_access_keys, *secure_access_active_key;
	int64_t renew_min_interval; /* seconds */
	char *egress_image, *egress_mode;
	char *egress_env; /* comma list of KEY=VALUE added to sidecars */
	bool disable_ipv6;
	int64_t sweep_seconds;
	int64_t workers;
	int64_t ready_timeout; /* seconds to wait for execd /ping */
	int64_t egress_ready_timeout;
	int64_t failed_ttl; /* seconds a failed provisioning record is kept */
	/* kubernetes */
	char *kubeconfig, *k8s_context, *k8s_namespace;
	char *k8s_provider; /* batchsandbox | pod */
	char *k8s_template_file, *k8s_pull_policy, *k8s_service_account;
	int64_t k8s_create_timeout, k8s_watch_timeout, k8s_resync;
	double k8s_read_qps, k8s_write_qps; /* per second, fractions allowed; 0 = unlimited */
	int64_t k8s_read_burst, k8s_write_burst;
	char *k8s_runtime_class;  /* runtimeClassName of sandbox pods, or "" */
	char *k8s_init_resources; /* JSON object text, or "" */
	char *volume_default_size;
	char *warnings; /* what the config file had that is not used, one per line, or NULL */
};

/*
 * Fills cfg from defaults, file, env and argv. Returns 0, 1 when --help was
 * printed, or -EINVAL with e set (unknown flag, bad value, unreadable file).
 */
int apicfg_load(struct apicfg *cfg, int argc, char **argv, struct err *e);
void apicfg_usage(FILE *f);
/* `sandbox-api init-config PATH --example docker|k8s [--force]`: writes a commented
 * sample config (apicfg_example.c). Returns the exit status. */
int apicfg_init_config(int argc, char **argv);
void apicfg_free(struct apicfg *cfg);

#endif
