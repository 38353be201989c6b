// SPDX-License-Identifier: Apache-2.0
/*
 * /code without a Jupyter server: the "command" language (or none) runs the
 * code as a foreground command, "background-command" in the background;
 * the Jupyter languages answer the reference's 500 until a Jupyter bridge
 * exists. DELETE /code?id= interrupts like DELETE /command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "envs.h"
#include "json.h"
#include "respond.h"

static const char *const jupyter_languages[] = {"python",     "bash", "java", "javascript",
						"typescript", "go",   "sql"};

static bool is_jupyter(const char *lang)
{
	for (size_t i = 0; i < sizeof(jupyter_languages) / sizeof(jupyter_languages[0]); i++)
		if (strcmp(lang, jupyter_languages[i]) == 0)
			return true;
	return false;
}

static void h_code(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	struct err e = {0};
	cJSON *j = json_parse(req->body, req->body_len, &e);
	const char *code = NULL, *lang = "";
	const cJSON *ctx = NULL;
	if (!j || !cJSON_IsObject(j) || json_get_string(j, "code", JSON_REQUIRED, &code, &e) < 0 ||
	    (json_get_object(j, "context", JSON_OPTIONAL, &ctx, &e) < 0 && e.code) ||
	    (ctx && json_get_string(ctx, "language", JSON_OPTIONAL, &lang, &e) < 0 && e.code)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "error parsing request, MAYBE invalid body format. %s",
			       e.msg[0] ? e.msg : "body must be a JSON object");
		cJSON_Delete(j);
		return;
	}
	if (!*code) {
		respond_error(c, 400, "INVALID_REQUEST_BODY",
			      "invalid request, validation error code is required");
		cJSON_Delete(j);
		return;
	}
	bool bg = strcmp(lang, "background-command") == 0;
	if (*lang && strcmp(lang, "command") != 0 && !bg) {
		if (is_jupyter(lang))
			respond_error(c, 500, "RUNTIME_ERROR",
				      "error running codes language runtime server not configured, "
				      "please check your image runtime");
		else
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error running codes unknown language: %s", lang);
		cJSON_Delete(j);
		return;
	}
	const char *msg;
	struct command_run run = {.command = strdup(code), .background = bg};
	run.envp = envs_build(x->envs_file, NULL, &msg);
	cJSON_Delete(j);
	if (!run.command || !run.envp) {
		free((char *)run.command);
		envs_free(run.envp);
		respond_error(c, 500, "RUNTIME_ERROR", "error running codes out of memory");
		return;
	}
	command_start(x, c, &run);
	free((char *)run.command);
}

static void h_contexts(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_send(c, 200, RESPOND_JSON, "[]", 2);
}

static void h_no_runtime(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	/* Upstream retries Jupyter for minutes here; without one, say so at once. */
	respond_error(c, 500, "RUNTIME_ERROR",
		      "error creating code context language runtime server not configured, please "
		      "check your image runtime");
}

static void h_context_by_id(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	respond_errorf(c, 404, "CONTEXT_NOT_FOUND", "context %s not found",
		       http_req_param(req, "contextId"));
}

static void h_delete_contexts(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char lang[64];
	if (http_query_get(req->query, strlen(req->query), "language", lang, sizeof(lang)) <= 0) {
		respond_error(c, 400, "MISSING_QUERY", "missing query parameter 'language'");
		return;
	}
	respond_ok(c);
}

int code_routes(struct execd *x)
{
	int r = http_server_route(x->srv, "POST", "/code", h_code, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/code", command_interrupt, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/code/context", h_no_runtime, x, NULL);
	r = r ? r : http_server_route(x->srv, "GET", "/code/contexts", h_contexts, x, NULL);
	r = r ? r
	      : http_server_route(x->srv, "DELETE", "/code/contexts", h_delete_contexts, x, NULL);
	r = r ? r
	      : http_server_route(x->srv, "GET", "/code/contexts/:contextId", h_context_by_id, x,
				  NULL);
	r = r ? r
	      : http_server_route(x->srv, "DELETE", "/code/contexts/:contextId", h_context_by_id, x,
				  NULL);
	return r;
}
