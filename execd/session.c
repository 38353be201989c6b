// SPDX-License-Identifier: Apache-2.0
/*
 * Bash sessions (/session): not a persistent shell. Each run starts a fresh
 * shell with the session's exported variables and cwd, runs the command, and
 * has the shell dump `export -p` and `pwd` behind random per-run markers, so
 * exported variables and the cwd persist into the next run. The script is
 * passed with -c (no temp file is left behind). bash is preferred; without it
 * a POSIX sh works too (its `export -p` format is parsed as well).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command_store.h"
#include "envs.h"
#include "execd.h"
#include "json.h"
#include "lines.h"
#include "paths.h"
#include "proc.h"
#include "respond.h"
#include "session_env.h"
#include "stream.h"
#include "uuid.h"

#define SESSION_MAX		   1024
#define SESSION_DEFAULT_TIMEOUT_MS (24LL * 3600 * 1000)
#define SESSION_SCRIPT_MAX	   (1024 * 1024)

extern char **environ;

struct session {
	struct session *next;
	char id[UUID_STR_LEN];
	struct session_env env; /* exported variables to carry over */
	char *cwd;
	struct run *runs; /* runs in progress */
};

struct session_store {
	struct session *head;
	size_t count;
};

/* One POST /session/:id/run in progress. */
struct run {
	struct run *next;
	struct session *s; /* NULL once the session is deleted */
	struct execd *x;
	pid_t pid;
	int fd; /* merged stdout+stderr */
	struct lines lines;
	struct stream stream;
	struct ev_timer timeout;
	char marker[UUID_HEX_LEN];
	bool in_dump; /* between the dump markers: nothing is shown */
	bool exited, timed_out;
	int status;
	struct session_env new_env;
	char *new_cwd;
	bool saw_end;
	uint64_t mono_start;
};

static struct session *find(struct execd *x, const char *id)
{
	for (struct session *s = x->sessions->head; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static void run_free(struct run *r)
{
	if (r->s) {
		for (struct run **p = &r->s->runs; *p; p = &(*p)->next) {
			if (*p == r) {
				*p = r->next;
				break;
			}
		}
	}
	ev_timer_stop(r->x->loop, &r->timeout);
	if (r->fd >= 0) {
		ev_del(r->x->loop, r->fd);
		close(r->fd);
	}
	stream_detach(&r->stream);
	lines_free(&r->lines);
	session_env_free(&r->new_env);
	free(r->new_cwd);
	free(r);
}

/* Lines of the run's output: user output is shown; the dump is parsed. */
static void on_line(const char *text, size_t len, void *arg)
{
	struct run *r = arg;
	char start[64], end[64];
	snprintf(start, sizeof(start), "__ENV_DUMP_START_%s__", r->marker);
	snprintf(end, sizeof(end), "__ENV_DUMP_END_%s__", r->marker);
	if (!r->in_dump && len == strlen(start) && memcmp(text, start, len) == 0) {
		r->in_dump = true;
		return;
	}
	if (r->in_dump) {
		if (len == strlen(end) && memcmp(text, end, len) == 0) {
			r->in_dump = false;
			r->saw_end = true;
			return;
		}
		session_env_parse_line(&r->new_env, text, len);
		return;
	}
	if (r->saw_end) {
		static const char pwd[] = "__PWD__:";
		if (len > sizeof(pwd) - 1 && memcmp(text, pwd, sizeof(pwd) - 1) == 0) {
			free(r->new_cwd);
			r->new_cwd = strndup(text + sizeof(pwd) - 1, len - (sizeof(pwd) - 1));
			return;
		}
		if (len > 14 && memcmp(text, "__EXIT_CODE__:", 14) == 0)
			return;
	}
	stream_text(&r->stream, "stdout", text, len);
}

static void run_finish(struct run *r)
{
	lines_flush(&r->lines);
	/* A run that ended through the dump (no `exit` in the user code) updates the session. */
	if (r->s && r->saw_end && !r->timed_out) {
		session_env_move(&r->s->env, &r->new_env);
		if (r->new_cwd) {
			free(r->s->cwd);
			r->s->cwd = r->new_cwd;
			r->new_cwd = NULL;
		}
	}
	char text[64], code[16];
	proc_status_text(r->status, text, sizeof(text));
	int ec = proc_exit_code(r->status);
	snprintf(code, sizeof(code), "%d", ec);
	if (stream_alive(&r->stream)) {
		if (ec == 0)
			stream_complete(&r->stream, (int64_t)(ev_clock_ms() - r->mono_start));
		else
			stream_error(&r->stream, "CommandExecError", code, text);
		stream_end(&r->stream);
	}
	run_free(r);
}

static void drain(struct run *r)
{
	char buf[64 * 1024];
	size_t total = 0;
	while (r->fd >= 0 && total < 4 * 1024 * 1024) {
		ssize_t n = read(r->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			ev_del(r->x->loop, r->fd);
			close(r->fd);
			r->fd = -1;
			return;
		}
		total += (size_t)n;
		lines_feed(&r->lines, buf, (size_t)n);
		if (!r->exited && stream_congested(&r->stream)) {
			/* A slow client: leave the rest in the pipe until it drains. */
			ev_mod(r->x->loop, r->fd, 0);
			return;
		}
	}
}

static void on_drain(struct stream *st, void *arg)
{
	struct run *r = arg;
	(void)st;
	if (r->fd >= 0)
		ev_mod(r->x->loop, r->fd, EPOLLIN);
}

static void on_out(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct run *r = arg;
	(void)loop;
	(void)fd;
	(void)events;
	drain(r);
	if (r->exited && r->fd < 0)
		run_finish(r);
}

static void on_child_exit(pid_t pid, int status, void *arg)
{
	struct run *r = arg;
	(void)pid;
	r->exited = true;
	r->status = status;
	drain(r);
	run_finish(r);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct run *r = arg;
	(void)loop;
	(void)t;
	r->timed_out = true;
	if (r->pid > 0)
		kill(-r->pid, SIGKILL);
}

static void on_gone(struct stream *st, void *arg)
{
	struct run *r = arg;
	(void)st;
	/* Nobody reads the run any more: stop it (if it was started at all: pid 0
	 * would be our own process group). */
	if (r->pid > 0)
		kill(-r->pid, SIGKILL);
	if (r->fd >= 0)
		ev_mod(r->x->loop, r->fd, EPOLLIN);
}

/* The shell script of one run. */
static int build_script(struct buf *b, struct session *s, const char *cwd, const char *command,
			const char *marker)
{
	int r = session_env_export_script(&s->env, b);
	if (!r && cwd) {
		r = buf_puts(b, "cd ");
		r = r ? r : session_env_quote(b, cwd);
		r = r ? r : buf_puts(b, " || exit 1\n");
	}
	r = r ? r : buf_puts(b, command);
	if (!r && (!*command || command[strlen(command) - 1] != '\n'))
		r = buf_puts(b, "\n");
	r = r ? r
	      : buf_printf(b,
			   "__execd_ec=$?\n"
			   "printf '\\n__ENV_DUMP_START_%s__\\n'\n"
			   "export -p\n"
			   "printf '__ENV_DUMP_END_%s__\\n__PWD__:%%s\\n__EXIT_CODE__:%%s\\n' "
			   "\"$(pwd)\" \"$__execd_ec\"\n"
			   "exit $__execd_ec\n",
			   marker, marker);
	return r;
}

static void h_run(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	struct err e = {0};
	const char *id = http_req_param(req, "sessionId");
	cJSON *j = json_parse(req->body, req->body_len, &e);
	if (!j || !cJSON_IsObject(j)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY", "error parsing request. %s",
			       j ? "body must be a JSON object" : e.msg);
		cJSON_Delete(j);
		return;
	}
	const char *command = NULL, *cwd = NULL;
	int64_t timeout = 0;
	char cwdbuf[PATHS_MAX];
	if ((json_get_string(j, "command", JSON_REQUIRED, &command, &e) < 0) ||
	    (json_get_string(j, "cwd", JSON_OPTIONAL, &cwd, &e) < 0 && e.code) ||
	    (json_get_int(j, "timeout", JSON_OPTIONAL, 0, INT64_MAX, &timeout, &e) < 0 && e.code)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY", "invalid request. %s", e.msg);
		cJSON_Delete(j);
		return;
	}
	if (cwd && *cwd) {
		struct stat st;
		if (paths_expand(cwd, cwdbuf, &e) < 0 || stat(cwdbuf, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "invalid request. working directory does not exist: %s",
				       cwd);
			cJSON_Delete(j);
			return;
		}
		cwd = cwdbuf;
	} else {
		cwd = NULL;
	}
	struct session *s = find(x, id);
	if (!s) {
		respond_error(c, 500, "RUNTIME_ERROR",
			      "error running in session. context not found");
		cJSON_Delete(j);
		return;
	}
	struct run *r = calloc(1, sizeof(*r));
	struct buf script;
	buf_init(&script, SESSION_SCRIPT_MAX);
	if (!r || uuid_v4_hex(r->marker) < 0 ||
	    build_script(&script, s, cwd ? cwd : s->cwd, command, r->marker) < 0 ||
	    !buf_cstr(&script)) {
		free(r);
		buf_free(&script);
		cJSON_Delete(j);
		respond_error(c, 500, "RUNTIME_ERROR",
			      "error running in session. script too large");
		return;
	}
	cJSON_Delete(j);
	r->x = x;
	r->s = s;
	r->fd = -1;
	r->mono_start = ev_clock_ms();
	lines_init(&r->lines, LINES_SESSION, on_line, r);
	ev_timer_init(&r->timeout, on_timeout, r);
	stream_init(&r->stream, c, x->loop, on_gone, on_drain, r);
	buf_init(&r->new_env.pending, SESSION_ENV_VALUE_MAX + 1024);
	r->next = s->runs;
	s->runs = r;

	int p[2];
	const char *shell = proc_shell();
	bool bash = strcmp(shell, "bash") == 0;
	char *argv[] = {(char *)shell,
			bash ? "--noprofile" : "-c",
			bash ? "--norc" : buf_head(&script),
			bash ? "-c" : NULL,
			bash ? buf_head(&script) : NULL,
			NULL};
	struct proc_spec spec = {.file = shell, .argv = argv, .fd_in = -1};
	if (pipe2(p, O_CLOEXEC) < 0) {
		buf_free(&script);
		stream_detach(&r->stream);
		respond_errorf(c, 500, "RUNTIME_ERROR", "error running in session. pipe: %s",
			       strerror(errno));
		run_free(r);
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	spec.fd_out = spec.fd_err = p[1];
	stream_text(&r->stream, "init", s->id, strlen(s->id));
	pid_t pid = proc_spawn(&spec, &e);
	close(p[1]);
	buf_free(&script);
	if (pid < 0) {
		close(p[0]);
		char msg[300];
		snprintf(msg, sizeof(msg), "error running in session. start %s: %s", shell, e.msg);
		stream_late_error(&r->stream, msg);
		stream_end(&r->stream);
		run_free(r);
		return;
	}
	r->pid = pid;
	r->fd = p[0];
	ev_add(x->loop, r->fd, EPOLLIN, on_out, r);
	proc_watch(pid, on_child_exit, r);
	ev_timer_start(x->loop, &r->timeout,
		       (uint64_t)(timeout > 0 ? timeout : SESSION_DEFAULT_TIMEOUT_MS));
}

static void h_create(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	struct err e = {0};
	const char *cwd = NULL;
	char cwdbuf[PATHS_MAX];
	if (req->body_len) {
		cJSON *j = json_parse(req->body, req->body_len, &e);
		if (!j || !cJSON_IsObject(j) ||
		    (json_get_string(j, "cwd", JSON_OPTIONAL, &cwd, &e) < 0 && e.code)) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY", "error parsing request. %s",
				       e.msg[0] ? e.msg : "body must be a JSON object");
			cJSON_Delete(j);
			return;
		}
		if (cwd && *cwd && paths_expand(cwd, cwdbuf, &e) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error creating session. %s",
				       e.msg);
			cJSON_Delete(j);
			return;
		}
		cwd = cwd && *cwd ? cwdbuf : NULL;
		cJSON_Delete(j);
	}
	if (cwd && paths_mkdir_all(cwd, 0777) < 0) {
		respond_errorf(c, 500, "RUNTIME_ERROR", "error creating session. mkdir %s: %s", cwd,
			       strerror(errno));
		return;
	}
	if (x->sessions->count >= SESSION_MAX) {
		respond_error(c, 500, "RUNTIME_ERROR", "error creating session. too many sessions");
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s || uuid_v4_str(s->id) < 0 || session_env_snapshot(&s->env, environ) < 0) {
		free(s);
		respond_error(c, 500, "RUNTIME_ERROR", "error creating session. out of memory");
		return;
	}
	s->cwd = cwd ? strdup(cwd) : NULL;
	s->next = x->sessions->head;
	x->sessions->head = s;
	x->sessions->count++;
	char body[80];
	int n = snprintf(body, sizeof(body), "{\"session_id\":\"%s\"}", s->id);
	http_resp_send(c, 200, RESPOND_JSON, body, (size_t)n);
}

static void session_delete(struct execd *x, struct session *s)
{
	for (struct session **p = &x->sessions->head; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	x->sessions->count--;
	for (struct run *r = s->runs; r; r = r->next) {
		if (r->pid > 0)
			kill(-r->pid, SIGKILL);
		r->s = NULL; /* the run ends on its own and frees itself */
	}
	session_env_free(&s->env);
	free(s->cwd);
	free(s);
}

bool session_close_by_id(struct execd *x, const char *id)
{
	struct session *s = find(x, id);
	if (!s)
		return false;
	session_delete(x, s);
	return true;
}

static void h_delete(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	const char *id = http_req_param(req, "sessionId");
	if (!session_close_by_id(x, id)) {
		respond_errorf(c, 404, "CONTEXT_NOT_FOUND", "session %s not found", id);
		return;
	}
	respond_ok(c);
}

int session_routes(struct execd *x)
{
	x->sessions = calloc(1, sizeof(*x->sessions));
	if (!x->sessions)
		return -ENOMEM;
	int r = http_server_route(x->srv, "POST", "/session", h_create, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/session/:sessionId/run", h_run, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/session/:sessionId", h_delete, x, NULL);
	return r;
}
