// SPDX-License-Identifier: Apache-2.0
/*
 * The policy API, with the reference's shapes: JSON replies end with "\n";
 * errors are text/plain "message\n" (Go's http.Error), as the SDKs and the
 * upstream tests expect. Every mutation runs the same pipeline: validate ->
 * kernel (static sets in place, one batch) -> policy file (atomic) -> swap,
 * with the kernel rolled back if the file cannot be written (B6).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "egressd.h"
#include "json.h"
#include "log.h"

#define TEXT "text/plain; charset=utf-8"
#define JSON "application/json"

static void text_error(struct http_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void text_error(struct http_conn *c, int status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	http_resp_header(c, "X-Content-Type-Options", "nosniff");
	http_resp_send(c, status, TEXT, msg, (size_t)n);
}

static bool auth_filter(struct http_conn *c, struct http_req *req, void *arg)
{
	struct egressd *x = arg;
	bool guarded = !strcmp(req->path, "/policy") || !strcmp(req->path, "/metrics") ||
		       !strncmp(req->path, "/credential-vault", 17);
	if (!x->token || !*x->token || !guarded)
		return true;
	const char *got = http_req_header(req, "OPENSANDBOX-EGRESS-AUTH");
	if (got && secret_equal(got, x->token)) {
		http_conn_trust(c);
		return true;
	}
	text_error(c, 401, "unauthorized");
	return false;
}

static const char *enforcement(const struct egressd *x)
{
	return x->nft_mode ? "dns+nft" : "dns";
}

static void ok_reply(struct egressd *x, struct http_conn *c, const char *mode, bool with_enf,
		     const char *reason)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "{\"status\":\"ok\",\"mode\":\"%s\"", mode);
	if (with_enf)
		buf_printf(&b, ",\"enforcementMode\":\"%s\"", enforcement(x));
	if (reason)
		buf_printf(&b, ",\"reason\":\"%s\"", reason);
	buf_puts(&b, "}\n");
	http_resp_send(c, 200, JSON, buf_head(&b), b.len);
	buf_free(&b);
}

static void get_policy(struct egressd *x, struct http_conn *c)
{
	struct buf b;
	buf_init(&b, 0);
	int r = buf_printf(
		&b, "{\"status\":\"ok\",\"mode\":\"%s\",\"enforcementMode\":\"%s\",\"policy\":",
		policy_mode(x->user), enforcement(x));
	r = r ? r : policy_to_json(x->user, &b, false);
	r = r ? r : buf_puts(&b, "}\n");
	if (r < 0)
		text_error(c, 500, "internal error: out of memory");
	else
		http_resp_send(c, 200, JSON, buf_head(&b), b.len);
	buf_free(&b);
}

static bool over_limit(struct egressd *x, struct http_conn *c, const struct policy *p)
{
	if (x->max_rules && p->n > x->max_rules) {
		text_error(c, 413, "egress rule total count %zu exceeds limit %zu", p->n,
			   x->max_rules);
		policy_free((struct policy *)p);
		return true;
	}
	return false;
}

/* The shared commit pipeline; takes ownership of cand. */
static void commit(struct egressd *x, struct http_conn *c, struct policy *cand, bool reset)
{
	struct err e = {0};
	struct policy *old = x->user;
	char *dump = NULL;
	struct buf b;

	/* The current policy is kept for a rollback: taken out of x, the swap
	 * does not free it (and no copy of 20k rules is made). */
	x->user = NULL;
	if (egressd_apply(x, cand, NULL, NULL, &e) < 0) {
		x->user = old;
		x->m.api_failures++;
		log_msg(LOG_ERROR, NULL, "policy update failed", "opensandbox.event",
			"egress.update_failed", "error", e.msg, NULL);
		policy_free(cand);
		text_error(c, 500, "failed to apply nftables policy: %s", e.msg);
		return;
	}
	if (egressd_persist(x, x->user, &e) < 0) {
		struct err e2 = {0};
		x->m.api_failures++;
		log_msg(LOG_ERROR, NULL, "policy update failed", "opensandbox.event",
			"egress.update_failed", "error", e.msg, NULL);
		if (egressd_apply(x, old, NULL, NULL, &e2) < 0) {
			log_msg(LOG_ERROR, NULL, "rollback failed", "error", e2.msg, NULL);
			policy_free(old);
		}
		text_error(c, 500, "failed to persist policy: %s", e.msg);
		return;
	}
	policy_free(old);
	x->m.api_mutations++;
	buf_init(&b, 3000);
	if (policy_to_json(x->user, &b, false) == 0)
		dump = buf_cstr(&b);
	log_msg(LOG_INFO, NULL, "policy updated", "opensandbox.event", "egress.updated",
		"egress.default", policy_action_name(x->user->default_action), "rules",
		dump ? dump : "(too long)", NULL);
	buf_free(&b);
	if (reset)
		ok_reply(x, c, "deny_all", false, "policy reset to default deny-all");
	else
		ok_reply(x, c, policy_mode(x->user), true, NULL);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static void h_policy(struct http_conn *c, struct http_req *req, void *arg)
{
	struct egressd *x = arg;
	const char *m = req->method;
	struct err e = {0};
	struct policy *p = NULL;
	const char *body = req->body ? req->body : "";
	size_t len = req->body ? req->body_len : 0;

	if (!strcmp(m, "GET")) {
		get_policy(x, c);
	} else if (!strcmp(m, "POST") || !strcmp(m, "PUT")) {
		if (blank(body, len)) {
			commit(x, c, policy_new(), true);
			return;
		}
		int r = policy_parse(body, len, x->max_rules, &p, &e);
		if (r == -E2BIG) {
			text_error(c, 413, "%s", e.msg);
			return;
		}
		if (r < 0) {
			text_error(c, 400, "invalid policy: %s", e.msg);
			return;
		}
		if (!over_limit(x, c, p))
			commit(x, c, p, false);
	} else if (!strcmp(m, "PATCH")) {
		struct policy *patch;
		if (blank(body, len)) {
			text_error(c, 400, "empty body");
			return;
		}
		/* The cap is checked on the array before any rule is read, and again
		 * on the merged total; the merge itself is hashed (linear). */
		int r = policy_parse_rules(body, len, x->max_rules, &patch, &e);
		if (r == -E2BIG) {
			text_error(c, 413, "%s", e.msg);
			return;
		}
		if (r < 0) {
			text_error(c, 400, "invalid patch rules: %s", e.msg);
			return;
		}
		p = policy_merge(x->user, patch);
		if (!p) {
			text_error(c, 500, "internal error: out of memory");
			return;
		}
		if (!over_limit(x, c, p))
			commit(x, c, p, false);
	} else if (!strcmp(m, "DELETE")) {
		char **targets;
		size_t n, removed;
		if (blank(body, len)) {
			text_error(c, 400, "empty body");
			return;
		}
		if (policy_parse_targets(body, len, &targets, &n, &e) < 0) {
			text_error(c, 400, "invalid delete targets: %s", e.msg);
			return;
		}
		p = policy_remove(x->user, targets, n, &removed);
		free(targets);
		if (!p) {
			text_error(c, 500, "internal error: out of memory");
			return;
		}
		if (removed == 0) {
			policy_free(p);
			ok_reply(x, c, policy_mode(x->user), true, "no matching targets found");
			return;
		}
		commit(x, c, p, false);
	} else {
		http_resp_header(c, "Allow", "GET, POST, PUT, PATCH, DELETE");
		text_error(c, 405, "method not allowed");
	}
}

static void h_healthz(struct http_conn *c, struct http_req *req, void *arg)
{
	struct egressd *x = arg;
	(void)req;
	if (x->ready)
		http_resp_send(c, 200, TEXT, "ok", 2);
	else
		text_error(c, 503, "not ready");
}

static void h_vault(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	text_error(c, 412, "credential vault not enabled (egressd has no MITM proxy)");
}

static void h_not_found(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	text_error(c, 404, "404 page not found");
}

static void h_metrics(struct http_conn *c, struct http_req *req, void *arg)
{
	struct egressd *x = arg;
	const struct egressd_metrics *m = &x->m;
	struct buf b;
	(void)req;
	buf_init(&b, 0);
	buf_puts(&b, "# TYPE egress_dns_queries_total counter\n");
	const char *res[4] = {"allowed", "denied", "formerr", "servfail"};
	uint64_t val[4] = {m->allowed, m->denied, m->formerr, m->servfail};
	for (int i = 0; i < 4; i++)
		buf_printf(&b, "egress_dns_queries_total{result=\"%s\"} %llu\n", res[i],
			   (unsigned long long)val[i]);
	buf_printf(
		&b,
		"# TYPE egress_policy_denied_total counter\negress_policy_denied_total %llu\n"
		"# TYPE egress_dns_upstream_failures_total counter\n"
		"egress_dns_upstream_failures_total %llu\n"
		"# TYPE egress_dns_tc_retries_total counter\negress_dns_tc_retries_total %llu\n"
		"# TYPE egress_dns_tcp_queries_total counter\negress_dns_tcp_queries_total %llu\n"
		"# TYPE egress_dns_inflight gauge\negress_dns_inflight %zu\n"
		"# TYPE egress_dns_query_duration_seconds summary\n"
		"egress_dns_query_duration_seconds_sum %.6f\n"
		"egress_dns_query_duration_seconds_count %llu\n"
		"# TYPE egress_log_suppressed_total counter\negress_log_suppressed_total %llu\n"
		"# TYPE egress_nftables_updates_total counter\negress_nftables_updates_total %llu\n"
		"# TYPE egress_nftables_errors_total counter\negress_nftables_errors_total %llu\n"
		"# TYPE egress_nftables_learned_total counter\negress_nftables_learned_total %llu\n"
		"# TYPE egress_policy_updates_total counter\negress_policy_updates_total %llu\n"
		"# TYPE egress_policy_update_failures_total counter\n"
		"egress_policy_update_failures_total %llu\n"
		"# TYPE egress_always_reloads_total counter\negress_always_reloads_total %llu\n",
		(unsigned long long)m->denied, (unsigned long long)m->upstream_failures,
		(unsigned long long)m->tc_retries, (unsigned long long)m->tcp_queries,
		x->relay ? relay_inflight(x->relay) : 0, (double)m->latency_us_sum / 1e6,
		(unsigned long long)m->latency_count, (unsigned long long)m->log_suppressed,
		(unsigned long long)x->sets.updates, (unsigned long long)x->sets.errors,
		(unsigned long long)x->sets.learned, (unsigned long long)m->api_mutations,
		(unsigned long long)m->api_failures, (unsigned long long)m->reloads);
	buf_puts(&b, "# TYPE egress_policy_rules gauge\n");
	const struct policy *layers[3] = {x->user, x->always_deny, x->always_allow};
	const char *lname[3] = {"user", "deny_always", "allow_always"};
	for (int i = 0; i < 3; i++)
		buf_printf(&b, "egress_policy_rules{layer=\"%s\"} %zu\n", lname[i],
			   layers[i] ? layers[i]->n : 0);
	if (x->nft_mode) {
		const char *sn[4] = {"allow_v4", "deny_v4", "allow_v6", "deny_v6"};
		buf_puts(&b, "# TYPE egress_nftables_set_elements gauge\n");
		for (int i = 0; i < 4; i++)
			buf_printf(&b, "egress_nftables_set_elements{set=\"%s\"} %zu\n", sn[i],
				   x->sets.static_count[i]);
		for (int f = 0; f < 2; f++)
			buf_printf(&b, "egress_nftables_set_elements{set=\"dyn_allow_v%d\"} %d\n",
				   f ? 6 : 4, sets_dyn_count(&x->sets, f));
	}
	buf_puts(&b, "# TYPE egress_dns_upstream_healthy gauge\n");
	for (size_t i = 0; i < x->ups.n; i++)
		buf_printf(&b, "egress_dns_upstream_healthy{upstream=\"%s\"} %d\n",
			   x->ups.u[i].name, x->ups.u[i].healthy);
	http_resp_send(c, 200, "text/plain; version=0.0.4", buf_head(&b), b.len);
	buf_free(&b);
}

int egress_api_routes(struct egressd *x)
{
	struct http_server *s = x->srv;
	int r = 0;
	http_server_set_filter(s, auth_filter, x);
	http_server_set_fallback(s, h_not_found, x);
	r |= http_server_route(s, "GET", "/healthz", h_healthz, x, NULL);
	r |= http_server_route(s, "*", "/policy", h_policy, x, NULL);
	r |= http_server_route(s, "GET", "/metrics", h_metrics, x, NULL);
	r |= http_server_route(s, "*", "/credential-vault", h_vault, x, NULL);
	r |= http_server_route(s, "*", "/credential-vault/*rest", h_vault, x, NULL);
	return r ? -EINVAL : 0;
}
