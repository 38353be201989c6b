// SPDX-License-Identifier: Apache-2.0
/*
 * /proxy/{port}/{rest}: forwards any method to 127.0.0.1:{port} through the
 * shared engine (lib/http_proxy): pooled keep-alive upstreams, bodies streamed
 * both ways with back-pressure, Upgrade spliced after the upstream's 101.
 * The client's Host is kept; the path goes on still encoded, as it was sent;
 * execd's token and the lifecycle API key are not forwarded. execd's own port
 * is served in place (/proxy/44772/x is /x, the SDK's endpoint form) and is
 * never dialled, so nested /proxy/44772 segments cannot loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execd.h"
#include "http_proxy.h"

/* Upstream silence tolerated once it is awaited (long polls are fine below it). */
#define EXECD_PROXY_IO_TIMEOUT_MS (600 * 1000)

static void bad_request(struct http_conn *c, const char *why)
{
	http_resp_send(c, 400, "text/plain; charset=utf-8", why, strlen(why));
}

/* Credentials meant for execd or the lifecycle API never reach the application
 * (the official JS SDK sends its API key to execd too, upstream #1689). */
static const char *const execd_credentials[] = {"X-EXECD-ACCESS-TOKEN", "OPEN-SANDBOX-API-KEY",
						NULL};

static void h_proxy(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	/* rest = "{port}/{path}" from the raw path, so the upstream sees what was sent. */
	const char *raw = req->raw_path + strlen("/proxy/");
	size_t plen = strcspn(raw, "/");
	if (plen == 0) {
		bad_request(c, "port is required");
		return;
	}
	unsigned long port = 0;
	for (size_t i = 0; i < plen && port <= 65535; i++)
		port = raw[i] >= '0' && raw[i] <= '9' ? port * 10 + (unsigned long)(raw[i] - '0')
						      : 65536;
	if (port == 0 || port > 65535) {
		bad_request(c, "port must be a number in 1..65535");
		return;
	}
	/* /proxy/<own port>/x is served as /x by the server (http_server_strip_prefix);
	 * what still names it here is a loop. */
	if (port == x->port) {
		bad_request(c, "execd does not proxy to itself");
		return;
	}
	const char *rest = raw + plen; /* "" or "/..." */
	struct http_proxy_target t = {
		.addr = "127.0.0.1",
		.port = (uint16_t)port,
		.path = rest[0] ? rest : "/",
		.query = req->query,
		.drop = execd_credentials,
	};
	http_proxy_forward(x->proxy, c, req, &t);
}

static void h_no_port(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	bad_request(c, "port is required");
}

int proxy_routes(struct execd *x)
{
	struct http_proxy_config cfg = {.io_timeout_ms = EXECD_PROXY_IO_TIMEOUT_MS};
	x->proxy = http_proxy_new(x->loop, &cfg);
	if (!x->proxy)
		return -ENOMEM;
	struct http_route_opts stream = {.stream_body = true};
	char self[16];
	snprintf(self, sizeof(self), "/proxy/%u", x->port);
	int r = http_server_strip_prefix(x->srv, self);
	r = r ? r : http_server_route(x->srv, "*", "/proxy/", h_no_port, x, NULL);
	r = r ? r : http_server_route(x->srv, "*", "/proxy/*rest", h_proxy, x, &stream);
	return r;
}
