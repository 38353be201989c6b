// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apival.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "stats.h"

static void on_gone(struct http_conn *c, void *arg)
{
	(void)c;
	struct reply *r = arg;
	r->c = NULL;
}

struct reply *reply_new(struct apisrv *srv, struct http_conn *c, const struct http_req *req,
			const char *route)
{
	struct reply *r = calloc(1, sizeof(*r));
	if (!r) {
		http_resp_error(c, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return NULL;
	}
	r->srv = srv;
	r->c = c;
	r->route = route;
	snprintf(r->rid, sizeof(r->rid), "%s", req->request_id ? req->request_id : "");
	http_conn_on_close(c, on_gone, r);
	return r;
}

static void finish(struct reply *r, int status)
{
	stats_request(r->srv->stats, r->route, status);
	if (r->c)
		http_conn_on_close(r->c, NULL, NULL);
	free(r);
}

void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char st[8];
	snprintf(st, sizeof(st), "%d", status);
	log_msg(status >= 500 ? LOG_ERROR : LOG_INFO, r->rid, "request failed", "route", r->route,
		"status", st, "code", code, "message", msg, "sandbox_id", r->sandbox, NULL);
	if (r->c) {
		http_conn_on_close(r->c, NULL, NULL);
		http_resp_error(r->c, status, code, msg);
		r->c = NULL;
	}
	finish(r, status);
}

void reply_json(struct reply *r, int status, struct buf *body)
{
	if (r->c) {
		http_conn_on_close(r->c, NULL, NULL);
		http_resp_send(r->c, status, "application/json", buf_head(body), body->len);
		r->c = NULL;
	}
	buf_free(body);
	finish(r, status);
}

void reply_empty(struct reply *r, int status)
{
	if (r->c) {
		http_conn_on_close(r->c, NULL, NULL);
		http_resp_send(r->c, status, NULL, "", 0);
		r->c = NULL;
	}
	finish(r, status);
}

void reply_text(struct reply *r, int status, const char *extra_name, const char *extra_value,
		struct buf *body)
{
	if (r->c) {
		http_conn_on_close(r->c, NULL, NULL);
		if (extra_name)
			http_resp_header(r->c, extra_name, extra_value);
		http_resp_send(r->c, status, "text/plain; charset=utf-8", buf_head(body),
			       body->len);
		r->c = NULL;
	}
	buf_free(body);
	finish(r, status);
}

int reply_status_json(struct buf *o, const char *state, const char *reason, const char *message,
		      int64_t transition_us)
{
	int r = buf_puts(o, "\"status\":{\"state\":");
	r = r ? r : json_buf_cstr(o, state, 0);
	if (reason[0]) {
		r = r ? r : buf_puts(o, ",\"reason\":");
		r = r ? r : json_buf_cstr(o, reason, 0);
	}
	if (message[0]) {
		r = r ? r : buf_puts(o, ",\"message\":");
		r = r ? r : json_buf_cstr(o, message, 0);
	}
	if (transition_us) {
		char t[APIVAL_TIME_LEN];
		apival_time_format(transition_us, t);
		r = r ? r : buf_printf(o, ",\"lastTransitionAt\":\"%s\"", t);
	}
	return r ? r : buf_puts(o, "}");
}
