// SPDX-License-Identifier: Apache-2.0
/* Running commands: spawn, pipes through the loop, events, records, logs, interrupt. */
#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command_store.h"
#include "envs.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "respond.h"
#include "stream.h"
#include "users.h"
#include "uuid.h"

#define READ_CHUNK     (64 * 1024)
#define EXIT_DRAIN_MAX (4 * 1024 * 1024) /* output read after the leader exits */

static void command_finish(struct command *cmd);

static void close_pipe(struct command *cmd, int *fd)
{
	if (*fd < 0)
		return;
	ev_del(cmd->x->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void on_line(const char *text, size_t len, void *arg)
{
	struct command_line_sink *sink = arg;
	stream_text(&sink->cmd->stream, sink->type, text, len);
}

/* Appends background output to the log file, up to its cap. */
static void log_output(struct command *cmd, const char *data, size_t len)
{
	if (cmd->log_fd < 0)
		return;
	if (cmd->log_len >= COMMAND_LOG_MAX) {
		cmd->log_dropped += len;
		return;
	}
	if (len > COMMAND_LOG_MAX - cmd->log_len) {
		cmd->log_dropped += len - (COMMAND_LOG_MAX - cmd->log_len);
		len = COMMAND_LOG_MAX - cmd->log_len;
	}
	ssize_t w = write(cmd->log_fd, data, len);
	if (w > 0)
		cmd->log_len += (uint64_t)w;
}

/* Reads what one pipe has now; returns false at EOF or error. */
static bool read_pipe(struct command *cmd, int which, size_t budget)
{
	int *fd = which ? &cmd->fd_err : &cmd->fd_out;
	char buf[READ_CHUNK];
	size_t got = 0;
	while (*fd >= 0 && got < budget) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			close_pipe(cmd, fd);
			return false;
		}
		got += (size_t)n;
		if (cmd->background)
			log_output(cmd, buf, (size_t)n);
		else
			lines_feed(which ? &cmd->err_lines : &cmd->out_lines, buf, (size_t)n);
		/* A slow client: stop reading, the child blocks on a full pipe. */
		if (!cmd->background && stream_congested(&cmd->stream))
			return true;
	}
	return *fd >= 0;
}

static void arm_pipes(struct command *cmd)
{
	uint32_t ev = cmd->paused ? 0 : EPOLLIN;
	if (cmd->fd_out >= 0)
		ev_mod(cmd->x->loop, cmd->fd_out, ev);
	if (cmd->fd_err >= 0)
		ev_mod(cmd->x->loop, cmd->fd_err, ev);
}

static void on_pipe(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct command *cmd = arg;
	(void)loop;
	(void)events;
	read_pipe(cmd, fd == cmd->fd_err, READ_CHUNK * 4);
	if (!cmd->background && stream_congested(&cmd->stream) && !cmd->paused) {
		cmd->paused = true;
		arm_pipes(cmd);
	}
	if (cmd->exited && cmd->fd_out < 0 && cmd->fd_err < 0) {
		struct command_store *store = cmd->store;
		command_finish(cmd);
		command_store_trim(store); /* cmd may be gone after this */
	}
}

static void on_drain(struct stream *s, void *arg)
{
	struct command *cmd = arg;
	(void)s;
	if (cmd->paused) {
		cmd->paused = false;
		arm_pipes(cmd);
	}
}

static void on_client_gone(struct stream *s, void *arg)
{
	struct command *cmd = arg;
	(void)s;
	/* The command keeps running (clients may still query it); stop holding
	 * its output back for a reader that is gone. */
	if (cmd->paused) {
		cmd->paused = false;
		arm_pipes(cmd);
	}
}

/* After the leader exited and the pipes are drained: the terminal event. */
static void command_finish(struct command *cmd)
{
	if (cmd->finished)
		return;
	cmd->finished = true;
	close_pipe(cmd, &cmd->fd_out);
	close_pipe(cmd, &cmd->fd_err);
	if (!cmd->background) {
		lines_flush(&cmd->out_lines);
		lines_flush(&cmd->err_lines);
	}
	ev_timer_stop(cmd->x->loop, &cmd->timeout);
	if (cmd->log_fd >= 0) {
		close(cmd->log_fd);
		cmd->log_fd = -1;
	}
	char text[64], code[16];
	proc_status_text(cmd->status, text, sizeof(text));
	int exit_code = proc_exit_code(cmd->status);
	snprintf(code, sizeof(code), "%d", exit_code);
	command_store_mark_finished(cmd, exit_code, exit_code == 0 ? NULL : text);
	if (!cmd->background && stream_alive(&cmd->stream)) {
		if (exit_code == 0)
			stream_complete(&cmd->stream, (int64_t)(ev_clock_ms() - cmd->mono_start));
		else
			stream_error(&cmd->stream, "CommandExecError", code, text);
		stream_end(&cmd->stream);
	} else {
		stream_detach(&cmd->stream);
	}
}

static void on_child_exit(pid_t pid, int status, void *arg)
{
	struct command *cmd = arg;
	(void)pid;
	cmd->exited = true;
	cmd->status = status;
	/* Background: the leader's end takes its whole group with it. */
	if (cmd->background)
		kill(-cmd->pid, SIGKILL);
	/* Everything the leader wrote is in the pipes now: take it, bounded, so a
	 * grandchild that keeps the pipe open cannot hold the stream forever. */
	cmd->paused = false;
	read_pipe(cmd, 0, EXIT_DRAIN_MAX);
	read_pipe(cmd, 1, EXIT_DRAIN_MAX);
	struct command_store *store = cmd->store;
	command_finish(cmd);
	command_store_trim(store); /* cmd may be gone after this */
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct command *cmd = arg;
	(void)loop;
	(void)t;
	if (!cmd->exited)
		kill(-cmd->pid, SIGKILL);
}

static int make_pipe(int fds[2], struct err *e)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe: %s", strerror(errno));
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Forks the command with its pipes; 0 or -errno with e set. */
static int spawn(struct command *cmd, struct command_run *run, struct err *e)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	int r = make_pipe(out, e);
	if (!r && !run->background)
		r = make_pipe(errp, e);
	if (r < 0)
		goto out;
	const char *shell = proc_shell();
	char *argv[] = {(char *)shell, "-c", (char *)run->command, NULL};
	struct proc_spec spec = {
		.file = shell,
		.argv = argv,
		.envp = run->envp,
		.cwd = run->cwd,
		.fd_in = -1,
		.fd_out = out[1],
		/* Background: one pipe for both, so the log keeps write order. */
		.fd_err = run->background ? out[1] : errp[1],
		.set_ids = run->set_ids,
		.uid = run->uid,
		.gid = run->gid,
	};
	pid_t pid = proc_spawn(&spec, e);
	if (pid < 0) {
		r = (int)pid;
		goto out;
	}
	cmd->pid = pid;
	cmd->fd_out = out[0];
	cmd->fd_err = errp[0];
	out[0] = errp[0] = -1;
	proc_watch(pid, on_child_exit, cmd);
	ev_add(cmd->x->loop, cmd->fd_out, EPOLLIN, on_pipe, cmd);
	if (cmd->fd_err >= 0)
		ev_add(cmd->x->loop, cmd->fd_err, EPOLLIN, on_pipe, cmd);
	if (run->timeout_ms > 0)
		ev_timer_start(cmd->x->loop, &cmd->timeout, (uint64_t)run->timeout_ms);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

void command_start(struct execd *x, struct http_conn *c, struct command_run *run)
{
	struct err e = {0};
	struct command *cmd = command_store_new(x->commands, run->command, run->background);
	if (!cmd) {
		envs_free(run->envp);
		respond_error(c, 500, "RUNTIME_ERROR", "error running commands out of memory");
		return;
	}
	cmd->x = x;
	cmd->out_sink = (struct command_line_sink){.cmd = cmd, .type = "stdout"};
	cmd->err_sink = (struct command_line_sink){.cmd = cmd, .type = "stderr"};
	lines_init(&cmd->out_lines, LINES_COMMAND, on_line, &cmd->out_sink);
	lines_init(&cmd->err_lines, LINES_COMMAND, on_line, &cmd->err_sink);
	ev_timer_init(&cmd->timeout, on_timeout, cmd);
	stream_init(&cmd->stream, c, x->loop, on_client_gone, on_drain, cmd);
	cmd->mono_start = ev_clock_ms();

	if (run->background) {
		snprintf(cmd->log_path, sizeof(cmd->log_path), "%s/execd-%s.output", x->tmpdir,
			 cmd->id);
		cmd->log_fd = open(cmd->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (cmd->log_fd < 0) {
			stream_detach(&cmd->stream);
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error running commands open %s: %s", cmd->log_path,
				       strerror(errno));
			command_store_remove(cmd);
			envs_free(run->envp);
			return;
		}
		/* Background: init before the spawn, then at once the end of the stream. */
		stream_text(&cmd->stream, "init", cmd->id, strlen(cmd->id));
		int r = spawn(cmd, run, &e);
		envs_free(run->envp);
		if (r < 0) {
			stream_late_error(&cmd->stream, e.msg);
			stream_end(&cmd->stream);
			cmd->exited = cmd->finished = true;
			close(cmd->log_fd);
			cmd->log_fd = -1;
			command_store_mark_finished(cmd, 255, e.msg);
			return;
		}
		stream_complete(&cmd->stream, 0);
		stream_end(&cmd->stream);
		return;
	}

	int r = spawn(cmd, run, &e);
	envs_free(run->envp);
	stream_text(&cmd->stream, "init", cmd->id, strlen(cmd->id));
	if (r < 0) {
		/* A start failure leaves no record behind. */
		stream_error(&cmd->stream, "CommandExecError", e.msg, e.msg);
		stream_end(&cmd->stream);
		lines_free(&cmd->out_lines);
		lines_free(&cmd->err_lines);
		command_store_remove(cmd);
	}
}

bool command_parse_request(struct execd *x, struct http_conn *c, const char *body, size_t len,
			   struct command_run *run, char *cwd_buf)
{
	struct err e = {0};
	bool ok = false;
	(void)x;
	memset(run, 0, sizeof(*run));
	cJSON *j = json_parse(body, len, &e);
	if (!j || !cJSON_IsObject(j)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "error parsing request, MAYBE invalid body format. %s",
			       j ? "body must be a JSON object" : e.msg);
		goto out;
	}
	const char *cmd = NULL, *cwd = NULL;
	int64_t timeout = 0, uid = 0, gid = 0;
	bool bg = false;
	int has_uid, has_gid;
	if ((json_get_string(j, "command", JSON_OPTIONAL, &cmd, &e) < 0 && e.code) ||
	    (json_get_string(j, "cwd", JSON_OPTIONAL, &cwd, &e) < 0 && e.code) ||
	    (json_get_bool(j, "background", JSON_OPTIONAL, &bg, &e) < 0 && e.code) ||
	    (json_get_int(j, "timeout", JSON_OPTIONAL, INT64_MIN, INT64_MAX, &timeout, &e) < 0 &&
	     e.code) ||
	    ((has_uid = json_get_int(j, "uid", JSON_OPTIONAL, 0, UINT32_MAX, &uid, &e)) < 0 &&
	     e.code) ||
	    ((has_gid = json_get_int(j, "gid", JSON_OPTIONAL, 0, UINT32_MAX, &gid, &e)) < 0 &&
	     e.code)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "error parsing request, MAYBE invalid body format. %s", e.msg);
		goto out;
	}
	if (!cmd || !*cmd) {
		respond_error(c, 400, "INVALID_REQUEST_BODY",
			      "invalid request, validation error command is required");
		goto out;
	}
	if (timeout < 0) {
		respond_error(c, 400, "INVALID_REQUEST_BODY",
			      "invalid request, validation error timeout must be >= 0");
		goto out;
	}
	if (has_gid == 0 && has_uid != 0) {
		respond_error(
			c, 400, "INVALID_REQUEST_BODY",
			"invalid request, validation error uid is required when gid is provided");
		goto out;
	}
	if (cwd && *cwd) {
		struct stat st;
		if (paths_expand(cwd, cwd_buf, &e) < 0) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "invalid request, validation error %s", e.msg);
			goto out;
		}
		if (stat(cwd_buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "invalid request, validation error working directory does "
				       "not exist: "
				       "%s: stat %s: %s",
				       cwd_buf, cwd_buf,
				       errno == ENOENT || !errno ? "no such file or directory"
								 : strerror(errno));
			goto out;
		}
		run->cwd = cwd_buf;
	}
	const cJSON *envs = cJSON_GetObjectItem(j, "envs");
	const char *msg;
	run->envp = envs_build(x->envs_file, cJSON_IsNull(envs) ? NULL : envs, &msg);
	if (!run->envp) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "invalid request, validation error %s", msg);
		goto out;
	}
	run->command = strdup(cmd);
	run->background = bg;
	run->timeout_ms = timeout;
	if (has_uid == 0) {
		run->set_ids = true;
		run->uid = (uint32_t)uid;
		gid_t g = 0;
		if (has_gid == 0)
			g = (gid_t)gid;
		else if (users_primary_gid((uid_t)uid, &g) < 0)
			g = 0;
		run->gid = (uint32_t)g;
	}
	ok = run->command != NULL;
	if (!ok) {
		envs_free(run->envp);
		respond_error(c, 500, "RUNTIME_ERROR", "error running commands out of memory");
	}
out:
	cJSON_Delete(j);
	return ok;
}

static void h_command(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	struct command_run run;
	char cwd[PATHS_MAX];
	if (!command_parse_request(x, c, req->body, req->body_len, &run, cwd))
		return;
	command_start(x, c, &run);
	free((char *)run.command);
}

int command_routes(struct execd *x)
{
	x->commands = command_store_create(x);
	if (!x->commands)
		return -ENOMEM;
	int r = http_server_route(x->srv, "POST", "/command", h_command, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/command", command_interrupt, x, NULL);
	r = r ? r : command_store_routes(x);
	return r;
}
