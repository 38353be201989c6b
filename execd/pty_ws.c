// SPDX-License-Identifier: Apache-2.0
/*
 * The WebSocket side of a PTY session: frames in (stdin, resize, signal,
 * ping), frames out (replay, live output on channels, connected/exit/error/
 * pong), keep-alive pings, read and write deadlines, and the close handshake.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "json.h"
#include "pty_int.h"

struct pty_client {
	struct pty_session *s; /* NULL once detached from the session */
	struct execd *x;
	struct transport *t;
	int fd;
	uint32_t armed;
	struct buf in, out, msgbuf;
	struct ws_msg msg;
	struct ev_timer ping, read_deadline, write_deadline;
	struct ev_timer kick; /* frames held back while the output was full: go on, from the loop */
	bool closing;	      /* our close frame is queued: close TCP once written */
	bool dead;	      /* dropped: retired, freed at the end of the turn (ev.h) */
	struct ev_retiree retiree;
};

static void client_retired(void *obj)
{
	struct pty_client *cl = obj;
	if (cl->t)
		transport_close(cl->t);
	buf_free(&cl->in);
	buf_free(&cl->out);
	buf_free(&cl->msgbuf);
	free(cl);
}

/* Ends the client: it leaves the session and the loop now, and is freed at the end of the turn. */
static void client_drop(struct pty_client *cl)
{
	if (cl->dead)
		return;
	cl->dead = true;
	if (cl->s && cl->s->client == cl) {
		cl->s->client = NULL;
		pty_resume_output(cl->s); /* output goes to the ring only now */
	}
	cl->s = NULL;
	ev_timer_stop(cl->x->loop, &cl->ping);
	ev_timer_stop(cl->x->loop, &cl->read_deadline);
	ev_timer_stop(cl->x->loop, &cl->write_deadline);
	ev_timer_stop(cl->x->loop, &cl->kick);
	if (cl->t)
		ev_del(cl->x->loop, cl->fd);
	ev_retire(cl->x->loop, &cl->retiree, client_retired, cl);
}

size_t pty_client_pending(const struct pty_client *cl)
{
	return cl->out.len;
}

static void arm(struct pty_client *cl)
{
	if (cl->dead)
		return;
	/* Replies (pongs, errors) grow the output: above the mark, stop reading. */
	uint32_t ev = transport_want(
		cl->t, !cl->closing && cl->out.len<PTY_CLIENT_OUT_HIGH, cl->out.len> 0);
	if (ev != cl->armed) {
		ev_mod(cl->x->loop, cl->fd, ev);
		cl->armed = ev;
	}
	if (cl->out.len && !ev_timer_active(&cl->write_deadline))
		ev_timer_start(cl->x->loop, &cl->write_deadline, PTY_WRITE_DEADLINE_MS);
	else if (!cl->out.len)
		ev_timer_stop(cl->x->loop, &cl->write_deadline);
}

static void flush(struct pty_client *cl)
{
	bool progress = false;
	while (cl->out.len && !cl->dead) {
		ssize_t n = transport_write(cl->t, buf_head(&cl->out), cl->out.len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			client_drop(cl);
			return;
		}
		buf_consume(&cl->out, (size_t)n);
		progress = true;
	}
	if (progress)
		ev_timer_stop(cl->x->loop, &cl->write_deadline);
	if (!cl->out.len && cl->closing) {
		client_drop(cl);
		return;
	}
	if (progress && cl->s && cl->out.len < PTY_CLIENT_OUT_HIGH / 2)
		pty_resume_output(cl->s);
	if (progress && cl->in.len && cl->out.len < PTY_CLIENT_OUT_HIGH && !cl->closing)
		ev_timer_start(cl->x->loop, &cl->kick, 0);
}

static void send_frame(struct pty_client *cl, uint8_t op, const char *a, size_t alen, const char *b,
		       size_t blen)
{
	if (cl->dead || cl->closing)
		return;
	char hdr[WS_HEADER_MAX];
	size_t hl = ws_frame_header(hdr, op, true, alen + blen, NULL);
	buf_append(&cl->out, hdr, hl);
	if (alen)
		buf_append(&cl->out, a, alen);
	if (blen)
		buf_append(&cl->out, b, blen);
}

static void send_text(struct pty_client *cl, const struct buf *json)
{
	send_frame(cl, WS_OP_TEXT, buf_head(json), json->len, NULL, 0);
}

static void send_close(struct pty_client *cl, uint16_t code, const char *reason)
{
	if (cl->closing || cl->dead)
		return;
	char frame[WS_CLOSE_FRAME_MAX];
	size_t n = ws_close_frame(frame, code, reason, strlen(reason), NULL);
	buf_append(&cl->out, frame, n);
	cl->closing = true;
}

static void send_error(struct pty_client *cl, const char *msg, const char *code)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "{\"type\":\"error\",\"error\":");
	json_buf_cstr(&b, msg, JSON_ESC_HTML);
	buf_puts(&b, ",\"code\":");
	json_buf_cstr(&b, code, JSON_ESC_HTML);
	buf_puts(&b, "}");
	send_text(cl, &b);
	buf_free(&b);
}

/* Writes what is queued, then re-arms (if that did not end the client). */
static void flush_and_rearm(struct pty_client *cl)
{
	flush(cl);
	arm(cl);
}

void pty_client_output(struct pty_client *cl, int channel, const char *data, size_t len)
{
	char ch = (char)channel;
	while (len) {
		size_t n = len > PTY_CHUNK ? PTY_CHUNK : len;
		send_frame(cl, WS_OP_BINARY, &ch, 1, data, n);
		data += n;
		len -= n;
	}
	flush_and_rearm(cl);
}

void pty_client_exit(struct pty_client *cl, int exit_code)
{
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"type\":\"exit\",\"exit_code\":%d}", exit_code);
	send_frame(cl, WS_OP_TEXT, json, (size_t)n, NULL, 0);
	send_close(cl, WS_CLOSE_NORMAL, "process exited");
	flush_and_rearm(cl);
}

void pty_client_evict(struct pty_client *cl, uint16_t code, const char *reason)
{
	/* Best effort: one try to write the close frame, then go. */
	send_close(cl, code, reason);
	flush(cl);
	client_drop(cl);
}

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"SIGINT", SIGINT},
		    {"SIGTERM", SIGTERM},
		    {"SIGKILL", SIGKILL},
		    {"SIGQUIT", SIGQUIT},
		    {"SIGHUP", SIGHUP}};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	return 0;
}

static void on_text(struct pty_client *cl, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	if (!j)
		return; /* invalid JSON is ignored */
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const char *t = cJSON_IsString(type) ? type->valuestring : "";
	if (strcmp(t, "stdin") == 0) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "data");
		if (cJSON_IsString(d) && cl->s &&
		    pty_write_stdin(cl->s, d->valuestring, strlen(d->valuestring)) < 0) {
			send_error(cl, "stdin write failed", "STDIN_WRITE_FAILED");
			send_close(cl, WS_CLOSE_INTERNAL, "stdin write failed");
		}
	} else if (strcmp(t, "resize") == 0) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cols");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "rows");
		if (cJSON_IsNumber(c) && cJSON_IsNumber(r) && c->valuedouble > 0 &&
		    r->valuedouble > 0 && c->valuedouble < 65536 && r->valuedouble < 65536 && cl->s)
			pty_resize(cl->s, (unsigned)c->valuedouble, (unsigned)r->valuedouble);
	} else if (strcmp(t, "signal") == 0) {
		const cJSON *sg = cJSON_GetObjectItemCaseSensitive(j, "signal");
		int sig = cJSON_IsString(sg) ? signal_number(sg->valuestring) : 0;
		if (sig && cl->s)
			pty_signal(cl->s, sig);
	} else if (strcmp(t, "ping") == 0) {
		static const char pong[] = "{\"type\":\"pong\"}";
		send_frame(cl, WS_OP_TEXT, pong, sizeof(pong) - 1, NULL, 0);
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown frame type \"%.64s\"", t);
		send_error(cl, msg, "INVALID_FRAME");
	}
	cJSON_Delete(j);
}

/* Handles the complete frames in cl->in. */
static void process(struct pty_client *cl)
{
	/* Frames that need a reply wait while the client is not reading ours. */
	while (!cl->dead && cl->in.len && cl->out.len < PTY_CLIENT_OUT_HIGH) {
		struct ws_frame f;
		long n = ws_frame_parse(buf_head(&cl->in), cl->in.len, &f, PTY_MSG_MAX,
					WS_FROM_CLIENT);
		if (n == -2)
			return;
		if (n < 0) {
			send_close(cl, f.close_code, f.error);
			return;
		}
		int r = ws_msg_feed(&cl->msg, &f);
		buf_consume(&cl->in, (size_t)n);
		if (r < 0) {
			send_close(cl, cl->msg.close_code, cl->msg.error);
			return;
		}
		if (r == WS_MSG_CONTROL) {
			if (cl->msg.control_op == WS_OP_PING) {
				send_frame(cl, WS_OP_PONG, cl->msg.control, cl->msg.control_len,
					   NULL, 0);
			} else if (cl->msg.control_op == WS_OP_CLOSE) {
				uint16_t code = WS_CLOSE_NORMAL;
				const char *reason;
				size_t rl;
				if (ws_close_parse(cl->msg.control, cl->msg.control_len, &code,
						   &reason, &rl) < 0 ||
				    code == WS_CLOSE_NO_STATUS)
					code = WS_CLOSE_NORMAL;
				send_close(cl, code, "");
				return;
			}
		} else if (r == WS_MSG_DATA) {
			const char *p = buf_head(cl->msg.out);
			size_t len = cl->msg.out->len;
			if (cl->msg.opcode == WS_OP_BINARY) {
				if (len > 1 && p[0] == PTY_CH_STDIN && cl->s &&
				    pty_write_stdin(cl->s, p + 1, len - 1) < 0) {
					send_error(cl, "stdin write failed", "STDIN_WRITE_FAILED");
					send_close(cl, WS_CLOSE_INTERNAL, "stdin write failed");
				}
			} else {
				on_text(cl, p, len);
			}
		}
	}
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct pty_client *cl = arg;
	(void)loop;
	(void)fd;
	if (cl->dead)
		return;
	if (events & EPOLLOUT) {
		flush(cl);
		if (!cl->dead && !cl->closing)
			process(cl); /* frames held back while the output was full */
	}
	/* Not reading (output full): a hang-up or error is reported anyway, and
	 * would spin; nothing more can be delivered to a peer that is gone. */
	if (!cl->dead && (events & (EPOLLHUP | EPOLLERR)) && cl->out.len >= PTY_CLIENT_OUT_HIGH) {
		client_drop(cl);
		return;
	}
	for (int i = 0; i < 16 && !cl->dead && !cl->closing && cl->out.len < PTY_CLIENT_OUT_HIGH &&
			(events & (EPOLLIN | EPOLLHUP | EPOLLERR));
	     i++) {
		if (buf_reserve(&cl->in, 16 * 1024) < 0) {
			send_close(cl, WS_CLOSE_TOO_BIG, "message too big");
			break;
		}
		ssize_t n = transport_read(cl->t, buf_tail(&cl->in), 16 * 1024);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			client_drop(cl);
			break;
		}
		buf_commit(&cl->in, (size_t)n);
		ev_timer_start(cl->x->loop, &cl->read_deadline, PTY_READ_DEADLINE_MS);
		process(cl);
	}
	if (!cl->dead)
		flush(cl);
	arm(cl);
}

static void on_ping_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct pty_client *cl = arg;
	send_frame(cl, WS_OP_PING, NULL, 0, NULL, 0);
	flush_and_rearm(cl);
	if (!cl->dead)
		ev_timer_start(loop, t, PTY_PING_MS);
}

static void on_kick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct pty_client *cl = arg;
	(void)loop;
	(void)t;
	if (cl->dead || cl->closing)
		return;
	process(cl);
	flush_and_rearm(cl);
}

static void on_deadline(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct pty_client *cl = arg;
	(void)loop;
	(void)t;
	/* Silent for too long, or not reading what we send: drop it; the shell lives on. */
	client_drop(cl);
}

void pty_client_attach(struct pty_session *s, struct http_detached *d, uint64_t since, bool started,
		       const char *start_error)
{
	struct pty_client *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		transport_close(d->t);
		buf_free(&d->in);
		buf_free(&d->out);
		return;
	}
	cl->s = s;
	cl->x = s->x;
	cl->t = d->t;
	cl->fd = d->t->fd;
	cl->in = d->in;
	cl->in.max = PTY_MSG_MAX + WS_HEADER_MAX; /* a whole frame must fit to be parsed */
	cl->out = d->out;
	cl->out.max = 0;
	buf_init(&cl->msgbuf, PTY_MSG_MAX);
	ws_msg_init(&cl->msg, &cl->msgbuf, PTY_MSG_MAX);
	ev_timer_init(&cl->ping, on_ping_timer, cl);
	ev_timer_init(&cl->read_deadline, on_deadline, cl);
	ev_timer_init(&cl->write_deadline, on_deadline, cl);
	ev_timer_init(&cl->kick, on_kick, cl);
	cl->armed = EPOLLIN | EPOLLOUT;
	if (ev_add(cl->x->loop, cl->fd, cl->armed, on_io, cl) < 0) {
		client_retired(cl); /* never reached the loop */
		return;
	}
	s->client = cl;
	if (!started) {
		send_error(cl, start_error ? start_error : "start failed", "START_FAILED");
		send_close(cl, WS_CLOSE_INTERNAL, "start failed");
	} else {
		struct buf replay;
		buf_init(&replay, 0);
		if (since < s->total) {
			uint64_t from = pty_ring_copy(s, since, &replay);
			char hdr[9];
			hdr[0] = PTY_CH_REPLAY;
			for (int i = 0; i < 8; i++)
				hdr[1 + i] = (char)(from >> (56 - 8 * i));
			send_frame(cl, WS_OP_BINARY, hdr, sizeof(hdr), buf_head(&replay),
				   replay.len);
		}
		buf_free(&replay);
		char json[160];
		int n = snprintf(json, sizeof(json),
				 "{\"type\":\"connected\",\"session_id\":\"%s\",\"mode\":\"%s\"}",
				 s->id, s->pipe_mode ? "pipe" : "pty");
		send_frame(cl, WS_OP_TEXT, json, (size_t)n, NULL, 0);
		ev_timer_start(cl->x->loop, &cl->ping, PTY_PING_MS);
		ev_timer_start(cl->x->loop, &cl->read_deadline, PTY_READ_DEADLINE_MS);
	}
	flush(cl);
	process(cl); /* frames that arrived with the handshake */
	if (!cl->dead)
		flush(cl);
	arm(cl);
}
