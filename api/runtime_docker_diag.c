// SPDX-License-Identifier: Apache-2.0
/*
 * Diagnostics on Docker (the OpenSandbox diagnostics API): the container's logs, events made
 * from its state (created, started, finished, OOM-killed, exit code, health
 * checks), an inspect summary with secret-looking values masked, and the
 * summary of all three. A job on a worker; the answer as diag.h says.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime_docker.h"

struct diag_job {
	struct apisrv *srv;
	struct reply *reply;
	char id[UUID_STR_LEN], cid[DOCKER_ID_LEN];
	struct diag_query q;
	struct buf text;
	int result;
	struct err e;
};

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static long num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* Docker's zero time is "0001-01-01T00:00:00Z". */
static bool set_time(const char *t)
{
	return *t && strncmp(t, "0001-", 5) != 0;
}

/* Names whose values are kept out of diagnostics. */
static bool secret_name(const char *name, size_t n)
{
	static const char *const words[] = {"SECRET", "TOKEN", "PASSWORD", "KEY"};
	for (size_t w = 0; w < 4; w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= n; i++)
			if (!strncasecmp(name + i, words[w], wl))
				return true;
	}
	return false;
}

static void events_text(const cJSON *ins, long limit, struct buf *out)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(ins, "State");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(ins, "Config");
	struct buf all;
	buf_init(&all, DIAG_TEXT_MAX);
	buf_printf(&all, "%s Normal Created: container %s from image %s\n", str(ins, "Created"),
		   str(ins, "Name"), str(cfg, "Image"));
	if (set_time(str(st, "StartedAt")))
		buf_printf(&all, "%s Normal Started: started (pid %ld)\n", str(st, "StartedAt"),
			   num(st, "Pid"));
	/* Health checks, when the image has one. */
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(
				      cJSON_GetObjectItemCaseSensitive(st, "Health"), "Log"))
	{
		char output[200];
		snprintf(output, sizeof(output), "%s", str(h, "Output"));
		for (char *p = output; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		buf_printf(&all, "%s %s HealthCheck: exit code %ld: %s\n", str(h, "Start"),
			   num(h, "ExitCode") ? "Warning" : "Normal", num(h, "ExitCode"), output);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "Paused")))
		buf_puts(&all, "- Normal Paused: the container is paused\n");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "Running")) &&
	    set_time(str(st, "FinishedAt"))) {
		long code = num(st, "ExitCode");
		buf_printf(&all, "%s %s Finished: exit code %ld%s%s\n", str(st, "FinishedAt"),
			   code ? "Warning" : "Normal", code, *str(st, "Error") ? ": " : "",
			   str(st, "Error"));
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "OOMKilled")))
		buf_printf(&all, "%s Warning OOMKilled: the container ran out of memory\n",
			   str(st, "FinishedAt"));
	/* The last limit lines. */
	const char *p = buf_head(&all), *end = p + all.len;
	long lines = 0;
	for (const char *q = p; q < end; q++)
		lines += *q == '\n';
	for (; lines > limit && p < end; lines--)
		p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
	buf_append(out, p, (size_t)(end - p));
	buf_free(&all);
}

static void inspect_text(const char *id, const cJSON *ins, struct buf *o)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(ins, "State");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(ins, "Config");
	const cJSON *hc = cJSON_GetObjectItemCaseSensitive(ins, "HostConfig");
	const cJSON *it;
	buf_printf(o, "Sandbox: %s\nContainer: %.12s %s\nImage: %s\n", id, str(ins, "Id"),
		   str(ins, "Name"), str(cfg, "Image"));
	buf_printf(o, "State: %s (pid %ld, exit code %ld, OOM-killed %s)\n", str(st, "Status"),
		   num(st, "Pid"), num(st, "ExitCode"),
		   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "OOMKilled")) ? "yes" : "no");
	buf_printf(o, "Created: %s\nStarted: %s\nFinished: %s\n", str(ins, "Created"),
		   str(st, "StartedAt"), str(st, "FinishedAt"));
	buf_printf(o, "Resources: memory %ld bytes, nano CPUs %ld, pids limit %ld\n",
		   num(hc, "Memory"), num(hc, "NanoCpus"), num(hc, "PidsLimit"));
	buf_printf(o, "Network mode: %s\n", str(hc, "NetworkMode"));
	cJSON_ArrayForEach(
		it, cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(ins, "NetworkSettings"), "Networks"))
		buf_printf(o, "  network %s: %s\n", it->string, str(it, "IPAddress"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(hc, "PortBindings"))
	{
		const cJSON *b = cJSON_GetArrayItem(it, 0);
		buf_printf(o, "  port %s -> %s:%s\n", it->string, str(b, "HostIp"),
			   str(b, "HostPort"));
	}
	buf_puts(o, "Labels:\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, "Labels"))
	{
		bool hide = secret_name(it->string, strlen(it->string));
		buf_printf(o, "  %s=%s\n", it->string,
			   hide			? "***"
			   : cJSON_IsString(it) ? it->valuestring
						: "");
	}
	buf_puts(o, "Env:\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, "Env"))
	{
		if (!cJSON_IsString(it))
			continue;
		const char *eq = strchr(it->valuestring, '=');
		size_t n = eq ? (size_t)(eq - it->valuestring) : strlen(it->valuestring);
		if (eq && secret_name(it->valuestring, n))
			buf_printf(o, "  %.*s=***\n", (int)n, it->valuestring);
		else
			buf_printf(o, "  %s\n", it->valuestring);
	}
}

static void diag_work(void *arg)
{
	struct diag_job *j = arg;
	struct docker *d = &j->srv->docker;
	struct buf *o = &j->text;
	cJSON *ins = NULL;
	int r = 0;
	if (j->q.kind != DIAG_LOGS) {
		r = docker_inspect(d, j->cid, &ins, &j->e);
		if (r < 0)
			goto out;
	}
	switch (j->q.kind) {
	case DIAG_LOGS:
		r = docker_logs(d, j->cid, (unsigned)j->q.tail,
				j->q.since_s ? (long)(apival_now_us() / 1000000) - j->q.since_s : 0,
				true, o, &j->e);
		if (r >= 0 && !o->len)
			buf_puts(o, "(no logs)\n");
		break;
	case DIAG_EVENTS:
		events_text(ins, j->q.limit, o);
		break;
	case DIAG_INSPECT:
		inspect_text(j->id, ins, o);
		break;
	case DIAG_SUMMARY: {
		buf_puts(o, "== inspect\n");
		inspect_text(j->id, ins, o);
		buf_puts(o, "\n== events\n");
		events_text(ins, j->q.limit, o);
		buf_puts(o, "\n== logs\n");
		struct err e2 = {0};
		size_t before = o->len;
		if (docker_logs(d, j->cid, (unsigned)j->q.tail, 0, true, o, &e2) < 0)
			buf_puts(o, "[error] Failed to collect logs diagnostics.\n");
		else if (o->len == before)
			buf_puts(o, "(no logs)\n");
		break;
	}
	}
out:
	cJSON_Delete(ins);
	j->result = r;
}

static void diag_done(void *arg)
{
	struct diag_job *j = arg;
	if (j->result < 0) {
		int st = j->result == -ENOENT ? 404 : runtime_docker_status(j->result, 500);
		reply_error(j->reply, st,
			    st == 404	? "DOCKER::SANDBOX_NOT_FOUND"
			    : st == 503 ? "DOCKER::INITIALIZATION_ERROR"
					: "DOCKER::SANDBOX_QUERY_FAILED",
			    "%s", j->e.msg);
		buf_free(&j->text);
	} else {
		diag_reply(j->reply, j->id, &j->q, &j->text);
	}
	free(j);
}

void runtime_docker_diagnostics(struct apisrv *srv, struct sbx *s, const struct diag_query *q,
				struct reply *r)
{
	if (!s->cid[0]) {
		reply_error(r, 409, "DOCKER::SANDBOX_NOT_RUNNING",
			    "Sandbox %s has no container yet (state %s).", s->id,
			    sandbox_state_name(s->state));
		return;
	}
	struct diag_job *j = calloc(1, sizeof(*j));
	if (!j) {
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	j->srv = srv;
	j->reply = r;
	j->q = *q;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	snprintf(j->cid, sizeof(j->cid), "%s", s->cid);
	buf_init(&j->text, DIAG_TEXT_MAX);
	if (jobs_submit(srv->jobs, diag_work, diag_done, j) < 0) {
		buf_free(&j->text);
		free(j);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
	}
}
