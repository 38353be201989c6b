// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox-api: configuration, the start-up guard (no API key without
 * OPENSANDBOX_INSECURE_SERVER=YES), recovery from Docker, the listener,
 * and graceful shutdown on SIGTERM/SIGINT (stop accepting, let running
 * Docker jobs finish, persist state).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "apisrv.h"
#include "gateway.h"
#include "http_proxy.h"
#include "log.h"
#include "routes.h"
#include "sandbox.h"
#include "snapshot.h"
#include "runtime.h"
#include "sock.h"
#include "stats.h"
#include "store.h"

static struct apisrv S;

static void on_term(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	log_msg(LOG_INFO, NULL, "shutting down", "signal", signo == SIGTERM ? "SIGTERM" : "SIGINT",
		NULL);
	ev_stop(loop);
}

/* The host clients should use to reach mapped ports (upstream's order). */
static void pick_endpoint_host(struct apisrv *srv)
{
	const struct apicfg *c = &srv->cfg;
	if (c->eip[0]) {
		snprintf(srv->endpoint_host, sizeof(srv->endpoint_host), "%s", c->eip);
		return;
	}
	if (c->host[0] && strcmp(c->host, "0.0.0.0") != 0 && strcmp(c->host, "::") != 0) {
		snprintf(srv->endpoint_host, sizeof(srv->endpoint_host), "%s", c->host);
		return;
	}
	if (c->docker_host_ip[0] && access("/.dockerenv", F_OK) == 0) {
		snprintf(srv->endpoint_host, sizeof(srv->endpoint_host), "%s", c->docker_host_ip);
		return;
	}
	/* The outbound IPv4: a UDP connect() picks the route and sends nothing. */
	snprintf(srv->endpoint_host, sizeof(srv->endpoint_host), "127.0.0.1");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	inet_pton(AF_INET, "8.8.8.8", &a.sin_addr);
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0)
		inet_ntop(AF_INET, &me.sin_addr, srv->endpoint_host, sizeof(srv->endpoint_host));
	close(fd);
}

int main(int argc, char **argv)
{
	struct apisrv *srv = &S;
	struct err e = {0};
	int rc = 1;
	if (argc > 1 && !strcmp(argv[1], "init-config"))
		return apicfg_init_config(argc - 1, argv + 1);
	int r = apicfg_load(&srv->cfg, argc, argv, &e);
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "sandbox-api: %s\n", e.msg);
		return 2;
	}
	int level = log_level_parse(srv->cfg.log_level);
	log_init("sandbox-api", level < 0 ? LOG_INFO : (enum log_level)level, 2);
	for (char *w = srv->cfg.warnings, *nl; w && *w; w = nl + 1) {
		nl = strchr(w, '\n');
		if (!nl)
			break;
		*nl = '\0';
		log_msg(LOG_WARN, NULL, w, NULL);
	}
	/* Every connection is an fd: run out at the hard limit, not at 1024. */
	if (listener_raise_fd_limit() < 0)
		log_msg(LOG_WARN, NULL, "could not raise the open-file limit", NULL);
	if (!srv->cfg.api_key[0]) {
		const char *insecure = getenv("OPENSANDBOX_INSECURE_SERVER");
		if (!insecure || strcmp(insecure, "YES") != 0) {
			fprintf(stderr, "sandbox-api: no API key configured (--api-key or "
					"OPENSANDBOX_SERVER_API_KEY); set "
					"OPENSANDBOX_INSECURE_SERVER=YES to "
					"run without authentication\n");
			goto out_cfg;
		}
		log_msg(LOG_WARN, NULL,
			"running WITHOUT an API key (OPENSANDBOX_INSECURE_SERVER=YES)", NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	pick_endpoint_host(srv);
	srv->rt = runtime_find(srv->cfg.runtime);
	if (!srv->rt) {
		fprintf(stderr, "sandbox-api: unknown runtime '%s'\n", srv->cfg.runtime);
		goto out_cfg;
	}
	srv->loop = ev_loop_new(&e);
	if (!srv->loop) {
		fprintf(stderr, "sandbox-api: %s\n", e.msg);
		goto out_cfg;
	}
	/* Zeroed timers would look armed at heap index 0. */
	ev_timer_init(&srv->sweep, NULL, srv);
	ev_timer_init(&srv->events_retry, NULL, srv);
	/* Signals are blocked before the workers start, so they stay on the loop's signalfd. */
	ev_signal(srv->loop, SIGTERM, on_term, NULL);
	ev_signal(srv->loop, SIGINT, on_term, NULL);
	srv->stats = stats_new();
	srv->jobs = jobs_new(srv->loop, (size_t)srv->cfg.workers, &e);
	srv->store = srv->jobs ? store_new(srv, srv->cfg.state_dir, &e) : NULL;
	if (!srv->stats || !srv->store) {
		fprintf(stderr, "sandbox-api: %s\n", e.msg);
		goto out;
	}
	struct err warn = {0};
	srv->num_host_prefixes = hostpath_prefixes_open(
		srv->cfg.allowed_host_paths, srv->host_prefixes, APISRV_MAX_HOST_PREFIXES, &warn);
	if (warn.msg[0])
		log_msg(LOG_WARN, NULL, warn.msg, NULL);
	if (sandbox_init(srv, argv[0], &e) < 0) {
		fprintf(stderr, "sandbox-api: %s runtime: %s\n", srv->rt->name, e.msg);
		goto out;
	}
	if (snapshots_init(srv, srv->cfg.state_dir, &e) < 0) {
		fprintf(stderr, "sandbox-api: snapshots: %s\n", e.msg);
		goto out;
	}
	struct http_server_config hc = {
		.request_ids = true,
		.max_body = 1024 * 1024,
		.idle_timeout_ms = 120000,
		.log_name = "sandbox-api",
	};
	srv->http = http_server_new(srv->loop, &hc, &e);
	if (!srv->http || routes_register(srv) < 0) {
		fprintf(stderr, "sandbox-api: cannot set up the HTTP server: %s\n", e.msg);
		goto out;
	}
	if (gateway_start(srv, &e) < 0) {
		fprintf(stderr, "sandbox-api: gateway: %s\n", e.msg);
		goto out;
	}
	if (sandbox_start(srv, &e) < 0) /* recovery trouble is not fatal: the sweep retries */
		log_msg(LOG_WARN, NULL, "start-up reconciliation incomplete", "error", e.msg, NULL);
	snapshots_start(srv);
	err_clear(&e);
	int fd = sock_listen_tcp(strcmp(srv->cfg.host, "0.0.0.0") ? srv->cfg.host : NULL,
				 (uint16_t)srv->cfg.port, &e);
	if (fd < 0 || http_server_listen_fd(srv->http, fd, &e) < 0) {
		fprintf(stderr, "sandbox-api: cannot listen on %s:%lld: %s\n", srv->cfg.host,
			(long long)srv->cfg.port, e.msg);
		goto out;
	}
	char port[8], n[16];
	snprintf(port, sizeof(port), "%lld", (long long)srv->cfg.port);
	snprintf(n, sizeof(n), "%zu", store_count(srv->store));
	log_msg(LOG_INFO, NULL, "listening", "port", port, "runtime", srv->rt->name,
		"endpoint_host", srv->endpoint_host, "network_mode", srv->cfg.network_mode,
		"sandboxes", n, "auth", srv->cfg.api_key[0] ? "api-key" : "none", NULL);
	ev_run(srv->loop);
	rc = 0;
out:
	sandbox_stop(srv);
	gateway_stop(srv);
	if (srv->http)
		http_server_free(srv->http);
	http_proxy_free(srv->proxy);
	jobs_free(srv->jobs); /* finishes queued platform work; replies go nowhere */
	snapshots_fini(srv);
	if (srv->rt && srv->rt->fini)
		srv->rt->fini(srv);
	store_free(srv->store);
	stats_free(srv->stats);
	buf_free(&srv->inject_tar);
	hostpath_prefixes_close(srv->host_prefixes, srv->num_host_prefixes);
	if (srv->loop)
		ev_loop_free(srv->loop);
out_cfg:
	apicfg_free(&srv->cfg);
	return rc;
}
