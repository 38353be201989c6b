// SPDX-License-Identifier: Apache-2.0
#include "gateway.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "gateway_route.h"
#include "http_proxy.h"
#include "json.h"
#include "log.h"
#include "sandbox.h"
#include "secret.h"
#include "sock.h"
#include "stats.h"
#include "store.h"

#define GW_IO_TIMEOUT_MS (180 * 1000)
#define GW_COOKIE	 "opensandbox-route"

struct gw_key {
	bool set;
	size_t len;
	unsigned char secret[128];
};

struct gateway {
	struct apisrv *srv;
	struct http_server *http;
	struct http_proxy *px;
	struct gw_key keys[36]; /* by key id [0-9a-z] */
	char active;		/* key id signing new routes, or 0 */
	uint16_t listen_port;	/* the gateway's own port (never a target) */
};

static int key_index(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
}

/* "a:BASE64,b:BASE64" */
static int parse_keys(struct gateway *g, const char *list, const char *active, struct err *e)
{
	while (list && *list) {
		size_t n = strcspn(list, ",");
		int k = n > 2 && list[1] == ':' ? key_index(list[0]) : -1;
		if (k < 0)
			return err_set(e, EINVAL, "secure-access key '%.*s': want KEYID:BASE64",
				       (int)(n < 40 ? n : 40), list);
		long len = base64_decode(g->keys[k].secret, sizeof(g->keys[k].secret), list + 2,
					 n - 2);
		if (len <= 0)
			return err_set(e, EINVAL,
				       "secure-access key %c: bad base64 (or over 128 bytes)",
				       list[0]);
		g->keys[k].set = true;
		g->keys[k].len = (size_t)len;
		list += n + (list[n] == ',');
	}
	if (active && *active) {
		int k = strlen(active) == 1 ? key_index(active[0]) : -1;
		if (k < 0 || !g->keys[k].set)
			return err_set(e, EINVAL,
				       "secure-access active key '%s' is not among the keys",
				       active);
		g->active = active[0];
	}
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static void plain_error(struct http_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void plain_error(struct http_conn *c, int status, const char *fmt, ...)
{
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "OpenSandbox Ingress: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = (int)sizeof(msg) - 1;
	http_resp_send(c, status, "text/plain; charset=utf-8", msg, (size_t)n);
}

static void on_error(struct http_conn *c, int status, enum http_proxy_failure why, void *arg)
{
	(void)arg;
	plain_error(c, status, "%s",
		    why == HTTP_PROXY_CONNECT	? "could not connect to the sandbox"
		    : why == HTTP_PROXY_TIMEOUT ? "the sandbox did not answer in time"
						: "the sandbox sent a bad answer");
}

static void on_status(int status, void *arg)
{
	struct apisrv *srv = arg;
	stats_request(srv->stats, "gateway", status);
}

enum form { FORM_HEADER, FORM_HOST, FORM_URI, FORM_COOKIE };

struct resolved {
	struct gw_route r;
	struct sbx *s;
	enum form form;
};

static struct sbx *known(struct apisrv *srv, const char *id)
{
	struct sbx *s = store_find(srv->store, id);
	return s && sandbox_visible(s) ? s : NULL;
}

/* Keeps the reading of a label or path whose sandbox exists (signed first). */
static bool pick(struct apisrv *srv, int found, struct gw_route *plain, struct gw_route *sig,
		 bool signed_needs_token, struct resolved *out, char *unknown)
{
	struct sbx *s;
	if ((found & GW_SIGNED) && (s = known(srv, sig->id)) &&
	    (!signed_needs_token || s->secure_token[0])) {
		out->r = *sig;
		out->s = s;
		return true;
	}
	if ((found & GW_PLAIN) && (s = known(srv, plain->id))) {
		out->r = *plain;
		out->s = s;
		return true;
	}
	if (found && !unknown[0])
		snprintf(unknown, GW_ID_MAX, "%s", (found & GW_PLAIN) ? plain->id : sig->id);
	return false;
}

static const char *cookie_route(const struct http_req *req, char *out, size_t cap)
{
	for (size_t i = 0; i < req->num_headers; i++) {
		if (strcasecmp(req->headers[i].name, "Cookie") != 0)
			continue;
		const char *p = req->headers[i].value;
		while (*p) {
			while (*p == ' ' || *p == ';')
				p++;
			size_t n = strcspn(p, ";");
			if (n > sizeof(GW_COOKIE) &&
			    !strncmp(p, GW_COOKIE "=", sizeof(GW_COOKIE))) {
				size_t vn = n - sizeof(GW_COOKIE);
				snprintf(out, cap, "%.*s", (int)(vn < cap ? vn : cap - 1),
					 p + sizeof(GW_COOKIE));
				return out;
			}
			p += n;
		}
	}
	return NULL;
}

/* The route of req, or an HTTP status (with the message in why). */
static int resolve(struct gateway *g, const struct http_req *req, struct resolved *out, char *why,
		   size_t cap)
{
	struct apisrv *srv = g->srv;
	struct gw_route plain, sig;
	char unknown[GW_ID_MAX] = "";
	const char *h = http_req_header(req, "OpenSandbox-Ingress-To");
	if (!h)
		h = http_req_header(req, "OPEN-SANDBOX-INGRESS");
	if (h) {
		int f = gw_route_label(h, &plain, &sig);
		out->form = FORM_HEADER;
		if (pick(srv, f, &plain, &sig, false, out, unknown))
			return 0;
		if (!f) {
			snprintf(why, cap, "bad route '%.80s': want <sandbox-id>-<port>", h);
			return 400;
		}
		snprintf(why, cap, "sandbox %s not found", unknown);
		return 404;
	}
	const char *host = http_req_header(req, "Host");
	if (host) {
		/* The gateway's own name may look like a route (gw-1.example): a Host
		 * naming no sandbox is no route, not an unknown sandbox. */
		char ignored[GW_ID_MAX] = "";
		out->form = FORM_HOST;
		if (pick(srv, gw_route_label(host, &plain, &sig), &plain, &sig, false, out,
			 ignored))
			return 0;
	}
	out->form = FORM_URI;
	if (gw_route_sandboxes_path(req->raw_path, &plain) &&
	    pick(srv, GW_PLAIN, &plain, &sig, false, out, unknown))
		return 0;
	/* A signed-looking path for a sandbox without a token is an ordinary path. */
	if (pick(srv, gw_route_path(req->raw_path, &plain, &sig), &plain, &sig, true, out, unknown))
		return 0;
	char cookie[GW_ID_MAX + 16];
	if (srv->cfg.gateway_route_cookie && cookie_route(req, cookie, sizeof(cookie))) {
		out->form = FORM_COOKIE;
		if (pick(srv, gw_route_label(cookie, &plain, &sig) & GW_PLAIN, &plain, &sig, false,
			 out, unknown))
			return 0;
	}
	if (unknown[0]) {
		snprintf(why, cap, "sandbox %s not found", unknown);
		return 404;
	}
	snprintf(why, cap, "missing header 'OpenSandbox-Ingress-To' or 'Host'");
	return 400;
}

/* 0 when the request may reach s, else 401/403 with why. */
static int secure_check(struct gateway *g, const struct resolved *rs, const struct http_req *req,
			char *why, size_t cap)
{
	const struct sbx *s = rs->s;
	if (!s->secure_token[0])
		return 0;
	const char *got = http_req_header(req, "OpenSandbox-Secure-Access");
	if (got) {
		if (secret_equal(got, s->secure_token))
			return 0;
		snprintf(why, cap, "secure access token is not valid");
		return 401;
	}
	if (!rs->r.is_signed) {
		snprintf(why, cap, "secure access required: send OpenSandbox-Secure-Access");
		return 401;
	}
	int k = key_index(rs->r.sig[8]);
	if (k < 0 || !g->keys[k].set) {
		snprintf(why, cap, "signed route: unknown key");
		return 403;
	}
	char want[GW_SIG_LEN + 1];
	gw_sign(g->keys[k].secret, g->keys[k].len, rs->r.sig[8], rs->r.id, rs->r.port, rs->r.exp36,
		want);
	if (!secret_equal(want, rs->r.sig)) {
		snprintf(why, cap, "signed route: bad signature");
		return 403;
	}
	if (rs->r.expires < (uint64_t)(apival_now_us() / 1000000)) {
		snprintf(why, cap, "signed route: expired");
		return 403;
	}
	return 0;
}

static const char *const drop_execd[] = {"OpenSandbox-Ingress-To", "OPEN-SANDBOX-INGRESS",
					 "OpenSandbox-Secure-Access", "OPEN-SANDBOX-API-KEY", NULL};
static const char *const drop_app[] = {"OpenSandbox-Ingress-To",    "OPEN-SANDBOX-INGRESS",
				       "OpenSandbox-Secure-Access", "OPEN-SANDBOX-API-KEY",
				       "X-EXECD-ACCESS-TOKEN",	    NULL};

static void h_gateway(struct http_conn *c, struct http_req *req, void *arg)
{
	struct gateway *g = arg;
	struct apisrv *srv = g->srv;
	struct resolved rs;
	char why[200];
	int st = resolve(g, req, &rs, why, sizeof(why));
	if (st) {
		stats_request(srv->stats, "gateway", st);
		plain_error(c, st, "%s", why);
		return;
	}
	struct sbx *s = rs.s;
	/* Credentials first: a stranger learns nothing of a secure sandbox's state. */
	if ((st = secure_check(g, &rs, req, why, sizeof(why)))) {
		stats_request(srv->stats, "gateway", st);
		plain_error(c, st, "%s", why);
		return;
	}
	/* A host-network sandbox's ports are the host's: reached through 127.0.0.1,
	 * where this server and anything bound to the loopback also live. Only a
	 * secureAccess sandbox, and never this server's own ports (or a loop). */
	if (s->host_mode &&
	    (!s->secure_token[0] || rs.r.port == srv->cfg.port || rs.r.port == g->listen_port)) {
		stats_request(srv->stats, "gateway", 403);
		plain_error(
			c, 403, "%s",
			s->secure_token[0]
				? "this port belongs to the server"
				: "a host-network sandbox is reachable through the gateway only "
				  "with secureAccess");
		return;
	}
	if (s->state != SBX_RUNNING || s->provisioning || s->deleting ||
	    (!s->ip[0] && !s->host_mode)) {
		stats_request(srv->stats, "gateway", 503);
		plain_error(c, 503, "sandbox %s is not ready (%s)", s->id,
			    s->deleting ? "being deleted" : sandbox_state_name(s->state));
		return;
	}
	sandbox_accessed(srv, s);
	const char *addr = s->host_mode ? "127.0.0.1" : s->ip;
	char host[96];
	if (strchr(addr, ':'))
		snprintf(host, sizeof(host), "[%s]:%u", addr, rs.r.port);
	else
		snprintf(host, sizeof(host), "%s:%u", addr, rs.r.port);
	bool uri = rs.form == FORM_URI;
	struct http_proxy_target t = {
		.addr = addr,
		.port = rs.r.port,
		.path = !uri	       ? req->raw_path
			: rs.r.rest[0] ? rs.r.rest
				       : "/",
		.query = req->query,
		.host = host,
		.drop = rs.r.port == EXECD_PORT ? drop_execd : drop_app,
	};
	/* Past secure access, execd's token is the gateway's to add; an open sandbox's
	 * callers bring it themselves (it is in their endpoint's headers). */
	const char *token[] = {"X-EXECD-ACCESS-TOKEN", s->execd_token, NULL};
	if (rs.r.port == EXECD_PORT && s->secure_token[0] && s->execd_token[0])
		t.set = token;
	if (uri && srv->cfg.gateway_route_cookie) {
		char cookie[GW_ID_MAX + 96];
		snprintf(cookie, sizeof(cookie), GW_COOKIE "=%s-%u; Path=/; HttpOnly; SameSite=Lax",
			 s->id, rs.r.port);
		http_resp_header(c, "Set-Cookie", cookie);
	}
	http_proxy_forward(g->px, c, req, &t);
}

static void h_status(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_send(c, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* ---- set-up ------------------------------------------------------------ */

static int listen_on(struct gateway *g, const char *spec, struct err *e)
{
	const char *colon = strrchr(spec, ':');
	char host[128];
	if (!colon || colon == spec || !colon[1])
		return err_set(e, EINVAL, "--gateway-listen %s: want ADDR:PORT", spec);
	size_t hn = (size_t)(colon - spec);
	if (spec[0] == '[' && hn >= 2 && spec[hn - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(hn - 2), spec + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hn, spec);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return err_set(e, EINVAL, "--gateway-listen %s: bad port", spec);
	int fd = sock_listen_tcp(strcmp(host, "0.0.0.0") ? host : NULL, (uint16_t)port, e);
	if (fd < 0)
		return fd;
	g->listen_port = (uint16_t)port;
	return http_server_listen_fd(g->http, fd, e);
}

int gateway_start(struct apisrv *srv, struct err *e)
{
	const struct apicfg *cfg = &srv->cfg;
	const char *mode = cfg->ingress_mode;
	if (strcmp(mode, "direct") && strcmp(mode, "gateway"))
		return err_set(e, EINVAL, "--ingress-mode %s: want direct or gateway", mode);
	const char *rm = cfg->gateway_route_mode;
	if (strcmp(rm, "wildcard") && strcmp(rm, "header") && strcmp(rm, "uri"))
		return err_set(e, EINVAL, "--gateway-route-mode %s: want wildcard, header or uri",
			       rm);
	if (!strcmp(mode, "gateway")) {
		const char *a = cfg->gateway_address;
		if (!a[0] || strstr(a, "://"))
			return err_set(e, EINVAL,
				       "--ingress-mode gateway needs --gateway-address host[:port] "
				       "(no scheme), or *.domain for wildcard routes");
		if (!strcmp(rm, "wildcard") != !strncmp(a, "*.", 2))
			return err_set(e, EINVAL,
				       "--gateway-route-mode wildcard goes with a *.domain address "
				       "(and only it)");
	}
	struct gateway *g = calloc(1, sizeof(*g));
	if (!g)
		return err_set(e, ENOMEM, "gateway");
	g->srv = srv;
	srv->gw = g;
	int r = parse_keys(g, cfg->secure_access_keys, cfg->secure_access_active_key, e);
	if (r < 0 || !cfg->gateway_listen[0])
		return r;
	struct http_server_config hc = {.idle_timeout_ms = 120000, .log_name = "gateway"};
	struct http_proxy_config pc = {.io_timeout_ms = GW_IO_TIMEOUT_MS,
				       .on_error = on_error,
				       .on_status = on_status,
				       .arg = srv};
	g->http = http_server_new(srv->loop, &hc, e);
	g->px = http_proxy_new(srv->loop, &pc);
	if (!g->http || !g->px)
		return g->http ? err_set(e, ENOMEM, "gateway proxy") : -EINVAL;
	struct http_route_opts stream = {.stream_body = true};
	if (http_server_route(g->http, "GET", "/status.ok", h_status, g, NULL) < 0 ||
	    http_server_route(g->http, "*", "/*rest", h_gateway, g, &stream) < 0)
		return err_set(e, ENOMEM, "gateway routes");
	if ((r = listen_on(g, cfg->gateway_listen, e)) < 0)
		return r;
	log_msg(LOG_INFO, NULL, "gateway listening", "listen", cfg->gateway_listen, "route_cookie",
		cfg->gateway_route_cookie ? "on" : "off", NULL);
	return 0;
}

void gateway_stop(struct apisrv *srv)
{
	struct gateway *g = srv->gw;
	if (!g)
		return;
	if (g->http)
		http_server_free(g->http);
	http_proxy_free(g->px);
	free(g);
	srv->gw = NULL;
}

/* ---- endpoints ---------------------------------------------------------- */

static void header_pair(struct buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_puts(b, ",");
	json_buf_cstr(b, name, 0);
	buf_puts(b, ":");
	json_buf_cstr(b, value, 0);
}

int gateway_endpoint(const struct apisrv *srv, const struct sbx *s, unsigned port, uint64_t expires,
		     char *ep, size_t cap, struct buf *hdrs, char *msg, size_t msg_cap)
{
	const struct gateway *g = srv->gw;
	const char *addr = srv->cfg.gateway_address, *rm = srv->cfg.gateway_route_mode;
	char label[GW_ID_MAX + 48], exp36[16] = "", sig[GW_SIG_LEN + 1] = "";
	if (expires) {
		if (!g || !g->active) {
			snprintf(msg, msg_cap,
				 "signed endpoints (expires) need "
				 "--secure-access-keys and --secure-access-active-key");
			return 400;
		}
		if (expires <= (uint64_t)(apival_now_us() / 1000000)) {
			snprintf(msg, msg_cap, "expires must be in the future");
			return 400;
		}
		const struct gw_key *k = &g->keys[key_index(g->active)];
		gw_base36(expires, exp36);
		gw_sign(k->secret, k->len, g->active, s->id, port, exp36, sig);
		snprintf(label, sizeof(label), "%s-%u-%s-%s", s->id, port, exp36, sig);
	} else {
		snprintf(label, sizeof(label), "%s-%u", s->id, port);
	}
	if (!strcmp(rm, "wildcard"))
		snprintf(ep, cap, "%s.%s", label, addr + 2);
	else if (!strcmp(rm, "uri") && expires)
		snprintf(ep, cap, "%s/%s/%u/%s/%s", addr, s->id, port, exp36, sig);
	else if (!strcmp(rm, "uri"))
		snprintf(ep, cap, "%s/%s/%u", addr, s->id, port);
	else
		snprintf(ep, cap, "%s", addr);
	if (!strcmp(rm, "header"))
		header_pair(hdrs, "OpenSandbox-Ingress-To", label);
	if (s->secure_token[0] && !expires)
		header_pair(hdrs, "OpenSandbox-Secure-Access", s->secure_token);
	/* A secure sandbox's execd token is added by the gateway past the check. */
	if (port == EXECD_PORT && s->execd_token[0] && !(expires && s->secure_token[0]))
		header_pair(hdrs, "X-EXECD-ACCESS-TOKEN", s->execd_token);
	if (port == EGRESS_PORT && s->egress_token[0])
		header_pair(hdrs, "OPENSANDBOX-EGRESS-AUTH", s->egress_token);
	return 0;
}

size_t gateway_idle_upstreams(const struct apisrv *srv)
{
	return srv->gw ? http_proxy_idle(srv->gw->px) : 0;
}
