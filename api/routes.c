// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "diag.h"
#include "gateway.h"
#include "ingress.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "routes.h"
#include "sandbox.h"
#include "stats.h"
#include "store.h"

bool routes_has_key(const struct apisrv *srv, const struct http_req *req)
{
	const char *key = srv->cfg.api_key;
	const char *got = http_req_header(req, "OPEN-SANDBOX-API-KEY");
	return !key[0] || (got && secret_equal(got, key));
}

static bool auth_filter(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	if (!srv->cfg.api_key[0])
		return true;
	if (routes_has_key(srv, req)) {
		http_conn_trust(c);
		return true;
	}
	if (!strncmp(req->path, "/health", 7))
		return true;
	if (!srv->cfg.proxy_auth && ingress_path_is_proxy(req->path))
		return true;
	const char *got = http_req_header(req, "OPEN-SANDBOX-API-KEY");
	stats_request(srv->stats, "auth", 401);
	if (!got)
		http_resp_error(c, 401, "MISSING_API_KEY",
				"Authentication credentials were not provided. Send the "
				"OPEN-SANDBOX-API-KEY header.");
	else
		http_resp_error(c, 401, "INVALID_API_KEY", "The API key is not valid.");
	return false;
}

bool routes_synced(struct apisrv *srv, struct reply *r)
{
	if (!srv->rt->synced || srv->rt->synced(srv))
		return true;
	reply_error(r, 503, srv->rt->code_not_synced,
		    "The sandboxes are not read from the %s API yet; try again shortly.",
		    srv->rt->name);
	return false;
}

struct sbx *routes_sandbox(struct apisrv *srv, struct http_req *req, struct reply *r)
{
	const char *id = http_req_param(req, "id");
	struct sbx *s = id ? store_find(srv->store, id) : NULL;
	if ((!s || !sandbox_visible(s)) && !routes_synced(srv, r))
		return NULL;
	if (!s || !sandbox_visible(s)) {
		reply_error(r, 404, srv->rt->code_not_found, "Sandbox %.64s not found.",
			    id ? id : "");
		return NULL;
	}
	snprintf(r->sandbox, sizeof(r->sandbox), "%s", s->id);
	return s;
}

static void h_health(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	struct apisrv *srv = arg;
	stats_request(srv->stats, "health", 200);
	static const char body[] = "{\"status\":\"healthy\"}";
	http_resp_send(c, 200, "application/json", body, sizeof(body) - 1);
}

static void h_metrics(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	struct apisrv *srv = arg;
	stats_request(srv->stats, "metrics", 200);
	struct buf out;
	buf_init(&out, 0);
	stats_render(srv->stats, srv, &out);
	http_resp_send(c, 200, "text/plain; version=0.0.4", buf_head(&out), out.len);
	buf_free(&out);
}

static void h_client_events(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	stats_request(((struct apisrv *)arg)->stats, "client_events", 204);
	http_resp_send(c, 204, NULL, "", 0); /* SDK create telemetry: accepted, not kept */
}

static void h_create(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "create");
	if (!r)
		return;
	struct apival_create rq;
	struct apival_err ae = {0};
	if (apival_create_parse(req->body, req->body_len, srv->cfg.max_timeout, &rq, &ae) < 0) {
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		return;
	}
	/* Docker being unreachable shows as 503 from the image check job. */
	sandbox_create(srv, &rq, r);
}

static int cmp_created_desc(const void *a, const void *b)
{
	const struct sbx *x = *(void *const *)a, *y = *(void *const *)b;
	return apival_list_order(x->created_us, x->id, y->created_us, y->id);
}

static int list_item_json(const void *s, struct buf *out)
{
	return sandbox_json(s, false, out);
}

static bool matches(const struct sbx *s, const struct apival_list *q)
{
	if (q->num_states) {
		bool ok = false;
		for (size_t i = 0; i < q->num_states && !ok; i++)
			ok = strcasecmp(q->states[i], sandbox_state_name(s->state)) == 0;
		if (!ok)
			return false;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, q->metadata)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->metadata, it->string);
		if (!cJSON_IsString(v) || strcmp(v->valuestring, it->valuestring) != 0)
			return false;
	}
	return true;
}

static void h_list(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "list");
	if (!r)
		return;
	struct apival_list q;
	struct apival_err ae = {0};
	if (apival_list_parse(req->query, &q, &ae) < 0) {
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		return;
	}
	if (!routes_synced(srv, r)) {
		apival_list_free(&q);
		return;
	}
	size_t n = store_count(srv->store), m = 0;
	void **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		apival_list_free(&q);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct sbx *s = store_at(srv->store, i);
		if (sandbox_visible(s) && matches(s, &q))
			v[m++] = s;
	}
	struct buf out;
	buf_init(&out, 0);
	int rc = apival_list_page(&q, v, m, cmp_created_desc, list_item_json, &out);
	free(v);
	apival_list_free(&q);
	if (rc) {
		buf_free(&out);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	reply_json(r, 200, &out);
}

static void h_get(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "get");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (s)
		sandbox_reply(r, s, 200);
}

static void h_delete(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "delete");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (s) {
		log_msg(LOG_INFO, r->rid, "sandbox delete", "sandbox_id", s->id, NULL);
		sandbox_delete(srv, s, r);
	}
}

static void h_pause(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "pause");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (s)
		sandbox_pause(srv, s, false, r);
}

static void h_resume(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "resume");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (s)
		sandbox_pause(srv, s, true, r);
}

static void h_patch(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "patch_metadata");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (!s)
		return;
	struct err e = {0};
	struct apival_err ae = {0};
	cJSON *body = json_parse(req->body, req->body_len, &e);
	if (!body) {
		reply_error(r, 400, "INVALID_REQUEST_BODY", "request body: %s", e.msg);
		return;
	}
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		reply_error(r, 422, "VALIDATION_ERROR", "request body: must be a JSON object");
		return;
	}
	if (apival_metadata_check(body, true, &ae) < 0) {
		cJSON_Delete(body);
		reply_error(r, ae.status, ae.code, "%s", ae.msg);
		return;
	}
	sandbox_patch_metadata(srv, s, body, r);
	cJSON_Delete(body);
}

static void h_renew(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "renew");
	struct sbx *s = r ? routes_sandbox(srv, req, r) : NULL;
	if (!s)
		return;
	struct err e = {0};
	cJSON *body = json_parse(req->body, req->body_len, &e);
	const char *t;
	int64_t us;
	if (!body) {
		reply_error(r, 400, "INVALID_REQUEST_BODY", "request body: %s", e.msg);
		return;
	}
	if (json_get_string(body, "expiresAt", JSON_REQUIRED, &t, &e) < 0) {
		cJSON_Delete(body);
		reply_error(r, 422, "VALIDATION_ERROR", "%s", e.msg);
		return;
	}
	if (apival_time_parse(t, &us) < 0) {
		reply_error(r, 422, "VALIDATION_ERROR",
			    "expiresAt: '%.64s' is not an ISO 8601 time", t);
		cJSON_Delete(body);
		return;
	}
	cJSON_Delete(body);
	if (!s->expires_us) {
		reply_error(r, 409, "DOCKER::INVALID_EXPIRATION",
			    "Sandbox %s does not have automatic expiration enabled.", s->id);
		return;
	}
	if (us <= apival_now_us()) {
		reply_error(r, 400, "DOCKER::INVALID_EXPIRATION",
			    "expiresAt must be in the future.");
		return;
	}
	sandbox_renew(srv, s, us, r);
}

static bool query_bool(const char *q, const char *name, bool *out, bool *present)
{
	char v[16];
	long n = http_query_get(q, strlen(q), name, v, sizeof(v));
	*present = n >= 0;
	if (n == -ENOENT)
		return true;
	if (n < 0)
		return false;
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

static void h_endpoint(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "endpoint");
	if (!r)
		return;
	const char *ps = http_req_param(req, "port");
	char *end;
	long port = strtol(ps, &end, 10);
	if (!*ps || *end || !isdigit((unsigned char)*ps)) {
		reply_error(r, 422, "VALIDATION_ERROR", "path.port: must be an integer");
		return;
	}
	bool proxy = false, has_proxy, dummy;
	if (!query_bool(req->query, "use_server_proxy", &proxy, &has_proxy)) {
		reply_error(r, 422, "VALIDATION_ERROR",
			    "query.use_server_proxy: must be a boolean");
		return;
	}
	char ex[32];
	long exn = http_query_get(req->query, strlen(req->query), "expires", ex, sizeof(ex));
	bool has_expires = exn != -ENOENT;
	if (exn < 0 && has_expires)
		ex[0] = '\0'; /* present but too long or malformed: refused below */
	(void)dummy;
	struct sbx *s = routes_sandbox(srv, req, r);
	if (!s)
		return;
	if (port < 1 || port > 65535) {
		reply_error(r, 400, srv->rt->code_invalid_port, "port %ld is not in 1..65535",
			    port);
		return;
	}
	bool gateway = !strcmp(srv->cfg.ingress_mode, "gateway");
	unsigned long long expires = 0;
	if (has_expires) {
		if (proxy) {
			reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
				    "expires cannot be combined with use_server_proxy");
			return;
		}
		if (!gateway) {
			reply_error(r, 400, "SANDBOX::API_NOT_SUPPORTED",
				    "signed endpoints (expires) need the ingress gateway "
				    "(--ingress-mode gateway)");
			return;
		}
		errno = 0;
		expires = strtoull(ex, &end, 10);
		if (!isdigit((unsigned char)ex[0]) || *end || errno || !expires) {
			reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
				    "expires: must be a positive integer (unix seconds)");
			return;
		}
	}
	struct buf out;
	buf_init(&out, 0);
	char ep[600];
	if (gateway && !proxy) {
		struct buf hdrs;
		char msg[160];
		buf_init(&hdrs, 0);
		int st = gateway_endpoint(srv, s, (unsigned)port, expires, ep, sizeof(ep), &hdrs,
					  msg, sizeof(msg));
		if (st) {
			buf_free(&hdrs);
			buf_free(&out);
			reply_error(r, st, "SANDBOX::INVALID_PARAMETER", "%s", msg);
			return;
		}
		buf_puts(&out, "{\"endpoint\":");
		json_buf_cstr(&out, ep, 0);
		if (hdrs.len) {
			buf_puts(&out, ",\"headers\":{");
			buf_append(&out, buf_head(&hdrs), hdrs.len);
			buf_puts(&out, "}");
		}
		buf_puts(&out, "}");
		buf_free(&hdrs);
		reply_json(r, 200, &out);
		return;
	}
	/* Whether the endpoint is answered by the sandbox's execd (its own port, or
	 * its /proxy/{port}), which wants the sandbox's token. */
	bool via_execd;
	if (proxy) {
		via_execd = port == EXECD_PORT;
		/* Configuration first; a client's Host only if it is one; else this
		 * server's own address and port. */
		char own[300];
		snprintf(own, sizeof(own), "%s:%lld", srv->endpoint_host, (long long)srv->cfg.port);
		const char *base = srv->cfg.eip[0] ? srv->cfg.eip : http_req_header(req, "Host");
		if (!base || (!srv->cfg.eip[0] && !http_host_valid(base)))
			base = own;
		if (!strncmp(base, "http://", 7))
			base += 7;
		else if (!strncmp(base, "https://", 8))
			base += 8;
		snprintf(ep, sizeof(ep), "%.300s/sandboxes/%s/proxy/%ld", base, s->id, port);
	} else {
		struct apival_err ae = {0};
		if (srv->rt->endpoint(srv, s, (unsigned)port, ep, sizeof(ep), &via_execd, &ae) <
		    0) {
			buf_free(&out);
			reply_error(r, ae.status, ae.code, "%s", ae.msg);
			return;
		}
	}
	buf_puts(&out, "{\"endpoint\":");
	json_buf_cstr(&out, ep, 0);
	bool egress_auth = port == EGRESS_PORT && s->egress_token[0];
	bool execd_auth = via_execd && s->execd_token[0];
	if (egress_auth || execd_auth) {
		buf_puts(&out, ",\"headers\":{");
		if (execd_auth) {
			buf_puts(&out, "\"X-EXECD-ACCESS-TOKEN\":");
			json_buf_cstr(&out, s->execd_token, 0);
		}
		if (egress_auth) {
			buf_puts(&out, execd_auth ? ",\"OPENSANDBOX-EGRESS-AUTH\":"
						  : "\"OPENSANDBOX-EGRESS-AUTH\":");
			json_buf_cstr(&out, s->egress_token, 0);
		}
		buf_puts(&out, "}");
	}
	buf_puts(&out, "}");
	reply_json(r, 200, &out);
}

static void h_pools(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "not_implemented");
	if (r)
		reply_error(r, 501, "KUBERNETES::POOL_NOT_SUPPORTED",
			    "Pools are only supported by the Kubernetes runtime.");
}

/* Diagnostics (diag.h) where the runtime has them; else 501. */
static void h_diagnostics(struct http_conn *c, struct http_req *req, void *arg)
{
	struct apisrv *srv = arg;
	struct reply *r = reply_new(srv, c, req, "diagnostics");
	if (!r)
		return;
	struct diag_query q;
	const char *kind = http_req_param(req, "rest");
	if (!srv->rt->diagnostics || !kind || strcmp(req->method, "GET") != 0 ||
	    diag_query_parse(kind, req->query, &q) < 0) {
		reply_error(r, 501, "DIAGNOSTICS_NOT_IMPLEMENTED",
			    "Diagnostics are not implemented for this form.");
		return;
	}
	struct sbx *s = routes_sandbox(srv, req, r);
	if (s)
		srv->rt->diagnostics(srv, s, &q, r);
}

static void h_fallback(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	struct apisrv *srv = arg;
	stats_request(srv->stats, "unknown", 404);
	http_resp_error(c, 404, "NOT_FOUND", "Not Found");
}

struct route {
	const char *method, *pattern;
	http_handler *h;
};

int routes_register(struct apisrv *srv)
{
	static const struct route rs[] = {
		{"POST", "/sandboxes", h_create},
		{"GET", "/sandboxes", h_list},
		{"GET", "/sandboxes/:id", h_get},
		{"DELETE", "/sandboxes/:id", h_delete},
		{"PATCH", "/sandboxes/:id/metadata", h_patch},
		{"POST", "/sandboxes/:id/pause", h_pause},
		{"POST", "/sandboxes/:id/resume", h_resume},
		{"POST", "/sandboxes/:id/renew-expiration", h_renew},
		{"GET", "/sandboxes/:id/endpoints/:port", h_endpoint},
		{"POST", "/sandboxes/:id/snapshots", routes_snapshot_create},
		{"GET", "/snapshots", routes_snapshot_list},
		{"GET", "/snapshots/:sid", routes_snapshot_get},
		{"DELETE", "/snapshots/:sid", routes_snapshot_delete},
		{"*", "/sandboxes/:id/diagnostics/*rest", h_diagnostics},
		{"*", "/pools", h_pools},
		{"*", "/pools/*rest", h_pools},
		{"POST", "/metrics/events", h_client_events},
	};
	http_server_set_filter(srv->http, auth_filter, srv);
	http_server_set_fallback(srv->http, h_fallback, srv);
	int r = http_server_route(srv->http, "GET", "/health", h_health, srv, NULL);
	r = r ? r : http_server_route(srv->http, "GET", "/metrics", h_metrics, srv, NULL);
	for (size_t i = 0; !r && i < sizeof(rs) / sizeof(rs[0]); i++) {
		char v1[128];
		snprintf(v1, sizeof(v1), "/v1%s", rs[i].pattern);
		r = http_server_route(srv->http, rs[i].method, rs[i].pattern, rs[i].h, srv, NULL);
		r = r ? r : http_server_route(srv->http, rs[i].method, v1, rs[i].h, srv, NULL);
	}
	return r ? r : ingress_routes(srv);
}
