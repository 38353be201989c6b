// SPDX-License-Identifier: Apache-2.0
#include "command_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "proc.h"
#include "respond.h"

#define GC_PERIOD_MS	   (60 * 1000)
#define INTERRUPT_PROBE_MS 50

struct command_store {
	struct execd *x;
	struct command *head;
	size_t finished;
	struct ev_timer gc;
};

/* A DELETE /command waiting for the process group to go away. */
struct command_interrupt {
	struct command_interrupt *next;
	struct command *cmd;
	struct http_conn *c;
	struct ev_timer probe;
	uint64_t started;
	bool killed;
};

static uint64_t ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t d = (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
	return d > 0 ? (uint64_t)d : 0;
}

static void interrupt_free(struct command_interrupt *it)
{
	struct command *cmd = it->cmd;
	for (struct command_interrupt **p = &cmd->interrupts; *p; p = &(*p)->next) {
		if (*p == it) {
			*p = it->next;
			break;
		}
	}
	ev_timer_stop(cmd->x->loop, &it->probe);
	if (it->c)
		http_conn_on_close(it->c, NULL, NULL);
	free(it);
}

static void free_record(struct command *cmd)
{
	stream_detach(&cmd->stream);
	while (cmd->interrupts) {
		struct command_interrupt *it = cmd->interrupts;
		if (it->c)
			respond_ok(it->c);
		it->c = NULL;
		interrupt_free(it);
	}
	if (cmd->log_path[0])
		unlink(cmd->log_path);
	lines_free(&cmd->out_lines);
	lines_free(&cmd->err_lines);
	free(cmd->content);
	free(cmd->error);
	free(cmd);
}

void command_store_remove(struct command *cmd)
{
	struct command_store *s = cmd->store;
	if (cmd->prev)
		cmd->prev->next = cmd->next;
	else
		s->head = cmd->next;
	if (cmd->next)
		cmd->next->prev = cmd->prev;
	if (cmd->finished && s->finished)
		s->finished--;
	free_record(cmd);
}

static void gc(struct command_store *s, bool over_count_only)
{
	/* Newest first in the list: the tail holds the oldest records. */
	struct command *tail = s->head;
	while (tail && tail->next)
		tail = tail->next;
	for (struct command *c = tail, *prev; c; c = prev) {
		prev = c->prev;
		if (!c->finished || c->interrupts)
			continue;
		bool old = ms_since(&c->finished_at) > COMMAND_RETENTION_MS;
		if (s->finished > COMMAND_MAX_FINISHED || (!over_count_only && old))
			command_store_remove(c);
	}
}

static void on_gc(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct command_store *s = arg;
	gc(s, false);
	ev_timer_start(loop, t, GC_PERIOD_MS);
}

struct command_store *command_store_create(struct execd *x)
{
	struct command_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->x = x;
	ev_timer_init(&s->gc, on_gc, s);
	ev_timer_start(x->loop, &s->gc, GC_PERIOD_MS);
	return s;
}

struct command *command_store_new(struct command_store *s, const char *content, bool background)
{
	struct command *cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return NULL;
	cmd->content = strdup(content);
	if (!cmd->content || uuid_v4_hex(cmd->id) < 0) {
		free(cmd->content);
		free(cmd);
		return NULL;
	}
	cmd->store = s;
	cmd->x = s->x;
	cmd->background = background;
	cmd->fd_out = cmd->fd_err = cmd->log_fd = -1;
	clock_gettime(CLOCK_REALTIME, &cmd->started_at);
	cmd->next = s->head;
	if (s->head)
		s->head->prev = cmd;
	s->head = cmd;
	return cmd;
}

struct command *command_store_find(struct command_store *s, const char *id)
{
	for (struct command *c = s->head; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

void command_store_mark_finished(struct command *cmd, int exit_code, const char *error)
{
	cmd->finished = true;
	cmd->exit_code = exit_code;
	free(cmd->error);
	cmd->error = error ? strdup(error) : NULL;
	clock_gettime(CLOCK_REALTIME, &cmd->finished_at);
	cmd->store->finished++;
}

void command_store_trim(struct command_store *s)
{
	gc(s, true);
}

static void put_time(struct buf *b, const char *key, const struct timespec *t)
{
	char s[40];
	respond_time(s, (int64_t)t->tv_sec, t->tv_nsec);
	buf_printf(b, ",\"%s\":\"%s\"", key, s);
}

static void h_status(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	const char *id = http_req_param(req, "id");
	struct command *cmd = command_store_find(x->commands, id);
	if (!cmd) {
		respond_errorf(c, 404, "INVALID_REQUEST_BODY", "command not found: %s", id);
		return;
	}
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "{\"id\":");
	json_buf_cstr(&b, cmd->id, JSON_ESC_HTML);
	buf_puts(&b, ",\"content\":");
	json_buf_cstr(&b, cmd->content, JSON_ESC_HTML);
	buf_printf(&b, ",\"running\":%s", cmd->finished ? "false" : "true");
	if (cmd->finished) {
		buf_printf(&b, ",\"exit_code\":%d", cmd->exit_code);
		if (cmd->error) {
			buf_puts(&b, ",\"error\":");
			json_buf_cstr(&b, cmd->error, JSON_ESC_HTML);
		}
	}
	put_time(&b, "started_at", &cmd->started_at);
	if (cmd->finished)
		put_time(&b, "finished_at", &cmd->finished_at);
	buf_puts(&b, "}");
	respond_json_buf(c, 200, &b);
	buf_free(&b);
}

static void h_logs(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	const char *id = http_req_param(req, "id");
	struct command *cmd = command_store_find(x->commands, id);
	if (!cmd) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY", "command not found: %s", id);
		return;
	}
	if (!cmd->background) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "command %s is not running in background", id);
		return;
	}
	char v[32];
	long long cursor = 0;
	if (http_query_get(req->query, strlen(req->query), "cursor", v, sizeof(v)) >= 0) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (*v && !*end)
			cursor = n; /* a non-integer cursor counts as 0 */
	}
	if (cursor < 0) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY", "error seek file: invalid argument");
		return;
	}
	uint64_t size = cmd->log_len;
	uint64_t from = (uint64_t)cursor < size ? (uint64_t)cursor : size;
	uint64_t len = size - from;
	if (len > COMMAND_LOGS_CHUNK)
		len = COMMAND_LOGS_CHUNK; /* the tail cursor tells the client where to go on */
	char *data = len ? malloc(len) : NULL;
	size_t got = 0;
	int fd = len ? open(cmd->log_path, O_RDONLY | O_CLOEXEC) : -1;
	while (fd >= 0 && got < len) {
		ssize_t n = pread(fd, data + got, len - got, (off_t)(from + got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	char tail[32];
	snprintf(tail, sizeof(tail), "%" PRIu64,
		 (uint64_t)cursor > size ? (uint64_t)cursor : from + got);
	http_resp_header(c, "EXECD-COMMANDS-TAIL-CURSOR", tail);
	http_resp_send(c, 200, "text/plain; charset=utf-8", data ? data : "", got);
	free(data);
}

static void on_interrupt_client_gone(struct http_conn *c, void *arg)
{
	struct command_interrupt *it = arg;
	(void)c;
	it->c = NULL;
	interrupt_free(it);
}

/* Probes the process group until it is gone; SIGKILL after the grace time. */
static void on_probe(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct command_interrupt *it = arg;
	struct command *cmd = it->cmd;
	bool gone = kill(-cmd->pid, 0) < 0 && errno == ESRCH;
	uint64_t waited = ev_clock_ms() - it->started;
	if (!gone && !it->killed && waited >= COMMAND_INTERRUPT_GRACE_MS) {
		kill(-cmd->pid, SIGKILL);
		it->killed = true;
	}
	/* A group that outlives SIGKILL (uninterruptible sleep) does not hold the client forever.
	 */
	if (gone || waited >= COMMAND_INTERRUPT_GRACE_MS + 2000) {
		struct http_conn *c = it->c;
		it->c = NULL;
		if (c)
			http_conn_on_close(c, NULL, NULL);
		interrupt_free(it);
		if (c)
			respond_ok(c);
		return;
	}
	ev_timer_start(loop, t, INTERRUPT_PROBE_MS);
}

void command_interrupt(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	char id[128];
	if (http_query_get(req->query, strlen(req->query), "id", id, sizeof(id)) <= 0) {
		respond_error(c, 400, "MISSING_QUERY", "missing query parameter 'id'");
		return;
	}
	struct command *cmd = command_store_find(x->commands, id);
	if (!cmd) {
		if (session_close_by_id(x, id)) {
			respond_ok(c);
			return;
		}
		respond_errorf(c, 500, "RUNTIME_ERROR",
			       "error interruptting code context. no such session: %s", id);
		return;
	}
	if (cmd->finished || cmd->exited) {
		respond_errorf(
			c, 500, "RUNTIME_ERROR",
			"error interruptting code context. command session %s is not running", id);
		return;
	}
	struct command_interrupt *it = calloc(1, sizeof(*it));
	if (!it) {
		respond_error(c, 500, "RUNTIME_ERROR", "out of memory");
		return;
	}
	it->cmd = cmd;
	it->c = c;
	it->started = ev_clock_ms();
	it->next = cmd->interrupts;
	cmd->interrupts = it;
	ev_timer_init(&it->probe, on_probe, it);
	http_conn_on_close(c, on_interrupt_client_gone, it);
	kill(-cmd->pid, SIGTERM);
	ev_timer_start(x->loop, &it->probe, INTERRUPT_PROBE_MS);
}

int command_store_routes(struct execd *x)
{
	int r = http_server_route(x->srv, "GET", "/command/status/:id", h_status, x, NULL);
	r = r ? r : http_server_route(x->srv, "GET", "/command/:id/logs", h_logs, x, NULL);
	return r;
}
