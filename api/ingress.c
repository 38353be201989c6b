// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "http_proxy.h"
#include "ingress.h"
#include "log.h"
#include "routes.h"
#include "sandbox.h"
#include "stats.h"
#include "store.h"

#define INGRESS_IO_TIMEOUT_MS (180 * 1000) /* upstream silence, as upstream's 180 s */

bool ingress_path_is_proxy(const char *p)
{
	if (!strncmp(p, "/v1/", 4))
		p += 3;
	if (strncmp(p, "/sandboxes/", 11) != 0 || strstr(p, ".."))
		return false;
	p += 11;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p || strncmp(slash, "/proxy/", 7) != 0)
		return false;
	p = slash + 7;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0' || *p == '/';
}

/* Credentials meant for this server never reach the sandbox, nor does an execd token reach an
 * application on another port. */
static const char *const server_credentials[] = {"Authorization", "Cookie", "OPEN-SANDBOX-API-KEY",
						 NULL};
static const char *const app_credentials[] = {"Authorization", "Cookie", "OPEN-SANDBOX-API-KEY",
					      "X-EXECD-ACCESS-TOKEN", NULL};

static void on_error(struct http_conn *c, int status, enum http_proxy_failure why, void *arg)
{
	(void)arg;
	if (why == HTTP_PROXY_CONNECT)
		http_resp_error(c, status, "SANDBOX::PROXY_CONNECT_FAILED",
				"Could not connect to the backend sandbox");
	else if (why == HTTP_PROXY_TIMEOUT)
		http_resp_error(c, status, "SANDBOX::PROXY_TIMEOUT",
				"The backend sandbox did not answer in time");
	else
		http_resp_error(c, status, "SANDBOX::PROXY_ERROR",
				"The backend sandbox failed to answer");
}

static void on_status(int status, void *arg)
{
	struct apisrv *srv = arg;
	stats_request(srv->stats, "proxy", status);
}

static void h_proxy(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	const char *id = http_req_param(req, "id");
	const char *ps = http_req_param(req, "port");
	const char *rest = http_req_param(req, "rest");
	char *end;
	long port = strtol(ps, &end, 10);
	if (*end || port < 1 || port > 65535) {
		stats_request(srv->stats, "proxy", 400);
		http_resp_error(c, 400, srv->rt->code_invalid_port, "port must be 1..65535");
		return;
	}
	struct sbx *s = store_find(srv->store, id);
	if (!s || !sandbox_visible(s)) {
		stats_request(srv->stats, "proxy", 404);
		http_resp_error(c, 404, srv->rt->code_not_found, "Sandbox not found");
		return;
	}
	if (!s->ip[0]) {
		stats_request(srv->stats, "proxy", 502);
		http_resp_error(c, 502, "SANDBOX::PROXY_CONNECT_FAILED",
				"The sandbox has no network address yet (state Pending)");
		return;
	}
	/* The raw (still encoded) rest of the path, as the client sent it. */
	const char *raw = req->raw_path;
	const char *rp = strstr(raw, "/proxy/");
	const char *path = "/";
	if (rp) {
		rp += 7;
		while (*rp && *rp != '/')
			rp++;
		if (*rp == '/')
			path = rp;
	}
	(void)rest;
	char host[80];
	if (strchr(s->ip, ':'))
		snprintf(host, sizeof(host), "[%s]:%ld", s->ip, port);
	else
		snprintf(host, sizeof(host), "%s:%ld", s->ip, port);
	struct http_proxy_target t = {
		.addr = s->ip,
		.port = (uint16_t)port,
		.path = path,
		.query = req->query,
		.host = host,
		.drop = port == EXECD_PORT ? server_credentials : app_credentials,
	};
	/* execd gets the sandbox's token from us when the caller proved it may
	 * use this server (its API key); anyone else must bring the token. */
	const char *token[] = {"X-EXECD-ACCESS-TOKEN", s->execd_token, NULL};
	if (port == EXECD_PORT && s->execd_token[0] && routes_has_key(srv, req))
		t.set = token;
	sandbox_accessed(srv, s);
	http_proxy_forward(srv->proxy, c, req, &t);
}

int ingress_routes(struct apisrv *srv)
{
	struct http_proxy_config cfg = {.io_timeout_ms = INGRESS_IO_TIMEOUT_MS,
					.on_error = on_error,
					.on_status = on_status,
					.arg = srv};
	srv->proxy = http_proxy_new(srv->loop, &cfg);
	if (!srv->proxy)
		return -ENOMEM;
	static const char *const pats[] = {
		"/sandboxes/:id/proxy/:port", "/sandboxes/:id/proxy/:port/*rest",
		"/v1/sandboxes/:id/proxy/:port", "/v1/sandboxes/:id/proxy/:port/*rest"};
	struct http_route_opts o = {.stream_body = true};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		int r = http_server_route(srv->http, "*", pats[i], h_proxy, srv, &o);
		if (r < 0)
			return r;
	}
	return 0;
}
