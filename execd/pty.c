// SPDX-License-Identifier: Apache-2.0
/*
 * PTY sessions: REST (/pty, /pty/:id), the shell in a pseudo-terminal (or
 * with plain pipes, pty=0), the 1 MiB replay ring, and the WebSocket
 * upgrade that hands the connection to pty_ws.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "json.h"
#include "paths.h"
#include "proc.h"
#include "pty_int.h"
#include "respond.h"

struct pty_store {
	struct pty_session *head;
	size_t count;
};

static struct pty_session *find(struct execd *x, const char *id)
{
	for (struct pty_session *s = x->ptys->head; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static void ring_append(struct pty_session *s, const char *data, size_t len)
{
	if (len >= PTY_RING_SIZE) {
		data += len - PTY_RING_SIZE;
		s->total += len - PTY_RING_SIZE;
		len = PTY_RING_SIZE;
	}
	size_t at = (size_t)(s->total % PTY_RING_SIZE);
	size_t first = PTY_RING_SIZE - at < len ? PTY_RING_SIZE - at : len;
	memcpy(s->ring + at, data, first);
	memcpy(s->ring, data + first, len - first);
	s->total += len;
}

uint64_t pty_ring_copy(const struct pty_session *s, uint64_t since, struct buf *b)
{
	uint64_t oldest = s->total > PTY_RING_SIZE ? s->total - PTY_RING_SIZE : 0;
	if (since < oldest)
		since = oldest;
	for (uint64_t off = since; off < s->total;) {
		size_t at = (size_t)(off % PTY_RING_SIZE);
		size_t n = PTY_RING_SIZE - at;
		if (n > s->total - off)
			n = (size_t)(s->total - off);
		buf_append(b, s->ring + at, n);
		off += n;
	}
	return since;
}

/* The master's epoll mask: read unless paused, write while stdin is queued (PTY
 * mode uses one fd both ways, so both conditions must go into one mask). */
static uint32_t master_mask(const struct pty_session *s)
{
	return (s->reading_paused ? 0 : EPOLLIN) | (s->stdin_q.len ? EPOLLOUT : 0);
}

static void close_fds(struct pty_session *s)
{
	if (s->in_fd == s->out_fd)
		s->in_fd = -1; /* the PTY master serves both ways: close it once */
	int *fds[3] = {&s->out_fd, &s->err_fd, &s->in_fd};
	for (int i = 0; i < 3; i++) {
		if (*fds[i] >= 0) {
			ev_del(s->x->loop, *fds[i]);
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
	buf_reset(&s->stdin_q);
}

/* Reads what the shell wrote; false at EOF (a PTY master gives EIO once the shell is gone). */
static bool read_output(struct pty_session *s, int *fd, int channel, size_t budget)
{
	char buf[PTY_CHUNK];
	size_t got = 0;
	while (*fd >= 0 && got < budget) {
		if (s->client && pty_client_pending(s->client) > PTY_CLIENT_OUT_HIGH) {
			s->reading_paused = true;
			ev_mod(s->x->loop, *fd, *fd == s->in_fd ? master_mask(s) : 0);
			return true;
		}
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			ev_del(s->x->loop, *fd);
			if (*fd != s->in_fd)
				close(*fd);
			*fd = -1;
			return false;
		}
		got += (size_t)n;
		ring_append(s, buf, (size_t)n);
		if (s->client)
			pty_client_output(s->client, channel, buf, (size_t)n);
	}
	return true;
}

void pty_resume_output(struct pty_session *s)
{
	if (!s->reading_paused)
		return;
	s->reading_paused = false;
	if (s->out_fd >= 0)
		ev_mod(s->x->loop, s->out_fd, s->out_fd == s->in_fd ? master_mask(s) : EPOLLIN);
	if (s->err_fd >= 0)
		ev_mod(s->x->loop, s->err_fd, EPOLLIN);
}

static void flush_stdin(struct pty_session *s)
{
	while (s->stdin_q.len && s->in_fd >= 0) {
		ssize_t n = write(s->in_fd, buf_head(&s->stdin_q), s->stdin_q.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_consume(&s->stdin_q, (size_t)n);
	}
}

static void on_output(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct pty_session *s = arg;
	(void)loop;
	if ((events & EPOLLOUT) && fd == s->in_fd) {
		flush_stdin(s);
		if (!s->stdin_q.len && !s->pipe_mode)
			ev_mod(s->x->loop, fd, master_mask(s));
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (fd == s->out_fd)
			read_output(s, &s->out_fd, PTY_CH_STDOUT, PTY_CHUNK * 8);
		else if (fd == s->err_fd)
			read_output(s, &s->err_fd, PTY_CH_STDERR, PTY_CHUNK * 8);
	}
}

static void on_stdin_writable(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct pty_session *s = arg;
	(void)loop;
	(void)events;
	flush_stdin(s);
	if (!s->stdin_q.len)
		ev_mod(s->x->loop, fd, 0);
}

int pty_write_stdin(struct pty_session *s, const char *data, size_t len)
{
	if (s->in_fd < 0)
		return -EPIPE;
	if (buf_append(&s->stdin_q, data, len) < 0)
		return -ENOBUFS;
	flush_stdin(s);
	if (s->stdin_q.len) /* the PTY master is one fd for both ways; pipes have their own */
		ev_mod(s->x->loop, s->in_fd, s->pipe_mode ? EPOLLOUT : master_mask(s));
	return 0;
}

void pty_resize(struct pty_session *s, unsigned cols, unsigned rows)
{
	if (s->pipe_mode || s->out_fd < 0)
		return;
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	ioctl(s->out_fd, TIOCSWINSZ, &ws);
}

void pty_signal(struct pty_session *s, int sig)
{
	if (s->running)
		kill(-s->pid, sig);
}

static void on_shell_exit(pid_t pid, int status, void *arg)
{
	struct pty_session *s = arg;
	(void)pid;
	/* Take the last output before telling the client. */
	if (s->out_fd >= 0)
		read_output(s, &s->out_fd, PTY_CH_STDOUT, PTY_RING_SIZE);
	if (s->err_fd >= 0)
		read_output(s, &s->err_fd, PTY_CH_STDERR, PTY_RING_SIZE);
	s->running = false;
	close_fds(s);
	if (s->client)
		pty_client_exit(s->client, proc_exit_code(status));
}

static int open_pty(int *master, int *slave, struct err *e)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return err_set(e, errno, "posix_openpt: %s", strerror(errno));
	char name[128];
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 ||
	    ptsname_r(*master, name, sizeof(name)) != 0) {
		int er = errno;
		close(*master);
		return err_set(e, er, "pty: %s", strerror(er));
	}
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		int er = errno;
		close(*master);
		return err_set(e, er, "open %s: %s", name, strerror(er));
	}
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	ioctl(*master, TIOCSWINSZ, &ws);
	return 0;
}

int pty_start(struct pty_session *s, bool pipe_mode, struct err *e)
{
	const char *shell = proc_shell();
	bool bash = strcmp(shell, "bash") == 0;
	char *argv[6];
	int n = 0;
	argv[n++] = (char *)shell;
	if (bash) {
		argv[n++] = "--norc";
		argv[n++] = "--noprofile";
	}
	if (s->command && *s->command) {
		argv[n++] = "-c";
		argv[n++] = s->command;
	} else if (!bash) {
		argv[n++] = "-i";
	}
	argv[n] = NULL;
	struct proc_spec spec = {.file = shell, .argv = argv, .cwd = s->cwd};
	int master = -1, slave = -1, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	int r;
	if (!pipe_mode) {
		if ((r = open_pty(&master, &slave, e)) < 0)
			return r;
		spec.fd_in = spec.fd_out = spec.fd_err = slave;
		spec.new_session = true;
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		    pipe2(errp, O_CLOEXEC) < 0) {
			r = err_set(e, errno, "pipe: %s", strerror(errno));
			goto fail;
		}
		spec.fd_in = in[0];
		spec.fd_out = out[1];
		spec.fd_err = errp[1];
	}
	pid_t pid = proc_spawn(&spec, e);
	if (pid < 0) {
		r = (int)pid;
		goto fail;
	}
	if (slave >= 0)
		close(slave);
	s->pid = pid;
	s->running = true;
	s->pipe_mode = pipe_mode;
	if (!pipe_mode) {
		s->out_fd = master;
		s->in_fd = master;
		s->err_fd = -1;
		fcntl(master, F_SETFL, O_NONBLOCK);
		ev_add(s->x->loop, master, EPOLLIN, on_output, s);
	} else {
		close(in[0]);
		close(out[1]);
		close(errp[1]);
		s->in_fd = in[1];
		s->out_fd = out[0];
		s->err_fd = errp[0];
		for (int i = 0; i < 3; i++)
			fcntl((int[]){s->in_fd, s->out_fd, s->err_fd}[i], F_SETFL, O_NONBLOCK);
		ev_add(s->x->loop, s->out_fd, EPOLLIN, on_output, s);
		ev_add(s->x->loop, s->err_fd, EPOLLIN, on_output, s);
		ev_add(s->x->loop, s->in_fd, 0, on_stdin_writable, s);
	}
	proc_watch(pid, on_shell_exit, s);
	return 0;
fail:
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

static void h_create(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	struct err e = {0};
	const char *cwd = NULL, *command = NULL;
	char cwdbuf[PATHS_MAX];
	cJSON *j = NULL;
	if (req->body_len) {
		j = json_parse(req->body, req->body_len, &e);
		if (!j || !cJSON_IsObject(j) ||
		    (json_get_string(j, "cwd", JSON_OPTIONAL, &cwd, &e) < 0 && e.code) ||
		    (json_get_string(j, "command", JSON_OPTIONAL, &command, &e) < 0 && e.code)) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY", "error parsing request: %s",
				       e.msg[0] ? e.msg : "body must be a JSON object");
			cJSON_Delete(j);
			return;
		}
	}
	if (cwd && *cwd) {
		if (paths_expand(cwd, cwdbuf, &e) < 0 || paths_mkdir_all(cwdbuf, 0777) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error creating pty session. %s",
				       e.msg[0] ? e.msg : strerror(errno));
			cJSON_Delete(j);
			return;
		}
		cwd = cwdbuf;
	} else {
		cwd = NULL;
	}
	struct pty_session *s = x->ptys->count < PTY_SESSIONS_MAX ? calloc(1, sizeof(*s)) : NULL;
	if (s)
		s->ring = malloc(PTY_RING_SIZE);
	if (!s || !s->ring || uuid_v4_str(s->id) < 0) {
		if (s)
			free(s->ring);
		free(s);
		cJSON_Delete(j);
		respond_error(c, 500, "RUNTIME_ERROR",
			      "error creating pty session. too many sessions");
		return;
	}
	s->x = x;
	s->cwd = cwd ? strdup(cwd) : NULL;
	s->command = command && *command ? strdup(command) : NULL;
	s->out_fd = s->err_fd = s->in_fd = -1;
	buf_init(&s->stdin_q, PTY_STDIN_MAX);
	cJSON_Delete(j);
	s->next = x->ptys->head;
	x->ptys->head = s;
	x->ptys->count++;
	char body[80];
	int n = snprintf(body, sizeof(body), "{\"session_id\":\"%s\"}", s->id);
	http_resp_send(c, 201, RESPOND_JSON, body, (size_t)n);
}

static void h_status(struct http_conn *c, struct http_req *req, void *arg)
{
	const char *id = http_req_param(req, "sessionId");
	struct pty_session *s = find(arg, id);
	if (!s) {
		respond_errorf(c, 404, "CONTEXT_NOT_FOUND", "pty session %s not found", id);
		return;
	}
	char body[160];
	int n = snprintf(body, sizeof(body),
			 "{\"session_id\":\"%s\",\"running\":%s,\"output_offset\":%llu}", s->id,
			 s->running ? "true" : "false", (unsigned long long)s->total);
	http_resp_send(c, 200, RESPOND_JSON, body, (size_t)n);
}

static void h_delete(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	const char *id = http_req_param(req, "sessionId");
	struct pty_session *s = find(x, id);
	if (!s) {
		respond_errorf(c, 404, "CONTEXT_NOT_FOUND", "pty session %s not found", id);
		return;
	}
	for (struct pty_session **p = &x->ptys->head; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	x->ptys->count--;
	if (s->client)
		pty_client_evict(s->client, WS_CLOSE_NORMAL, "session deleted");
	if (s->running) {
		kill(-s->pid, SIGKILL);
		proc_unwatch(s->pid);
	}
	close_fds(s);
	buf_free(&s->stdin_q);
	free(s->ring);
	free(s->cwd);
	free(s->command);
	free(s);
	respond_ok(c);
}

static void h_ws(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	const char *id = http_req_param(req, "sessionId");
	struct pty_session *s = find(x, id);
	if (!s) {
		respond_errorf(c, 404, "CONTEXT_NOT_FOUND", "pty session %s not found", id);
		return;
	}
	char v[32];
	bool takeover =
		http_query_get(req->query, strlen(req->query), "takeover", v, sizeof(v)) > 0 &&
		(strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
	bool pipe_mode = http_query_get(req->query, strlen(req->query), "pty", v, sizeof(v)) > 0 &&
			 (strcmp(v, "0") == 0 || strcmp(v, "false") == 0);
	uint64_t since = 0;
	if (http_query_get(req->query, strlen(req->query), "since", v, sizeof(v)) > 0)
		since = strtoull(v, NULL, 10); /* loose, like the reference: "12abc" is 12 */
	const char *key, *reason;
	size_t key_len;
	bool handshake_ok = ws_handshake_check(req->method, req->minor_version, req->headers,
					       req->num_headers, &key, &key_len, &reason) == 0;
	if (s->client && !(takeover && handshake_ok)) {
		respond_errorf(c, 409, "ALREADY_CONNECTED",
			       "another client is already connected to pty session %s", s->id);
		return;
	}
	if (!handshake_ok) {
		http_resp_send(c, 400, "text/plain; charset=utf-8", "Bad Request", 11);
		return;
	}
	char head[WS_HANDSHAKE_RESPONSE_MAX];
	int hl = ws_handshake_response(head, sizeof(head), key, key_len);
	struct http_detached d;
	if (hl < 0 || http_conn_detach(c, &d) < 0)
		return;
	buf_append(&d.out, head, (size_t)hl);
	if (s->client)
		pty_client_evict(s->client, 4001, "TAKEN_OVER");
	struct err e = {0};
	bool started = true;
	if (!s->running) {
		/* A shell that exited is started anew; its old output stays replayable. */
		started = pty_start(s, pipe_mode, &e) == 0;
	}
	pty_client_attach(s, &d, since, started, started ? NULL : e.msg);
}

int pty_routes(struct execd *x)
{
	x->ptys = calloc(1, sizeof(*x->ptys));
	if (!x->ptys)
		return -ENOMEM;
	int r = http_server_route(x->srv, "POST", "/pty", h_create, x, NULL);
	r = r ? r : http_server_route(x->srv, "GET", "/pty/:sessionId", h_status, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/pty/:sessionId", h_delete, x, NULL);
	r = r ? r : http_server_route(x->srv, "GET", "/pty/:sessionId/ws", h_ws, x, NULL);
	return r;
}
