// SPDX-License-Identifier: Apache-2.0
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

int64_t stream_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_conn_close(struct http_conn *c, void *arg)
{
	struct stream *s = arg;
	(void)c;
	s->c = NULL;
	ev_timer_stop(s->loop, &s->ping);
	if (s->on_gone)
		s->on_gone(s, s->arg);
}

static void on_conn_drain(struct http_conn *c, void *arg)
{
	struct stream *s = arg;
	(void)c;
	if (s->on_drain)
		s->on_drain(s, s->arg);
}

static void on_ping(struct ev_loop *loop, struct ev_timer *t, void *arg);

void stream_init(struct stream *s, struct http_conn *c, struct ev_loop *loop, stream_cb *on_gone,
		 stream_cb *on_drain, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->loop = loop;
	s->on_gone = on_gone;
	s->on_drain = on_drain;
	s->arg = arg;
	ev_timer_init(&s->ping, on_ping, s);
	http_conn_on_close(c, on_conn_close, s);
}

static int start(struct stream *s)
{
	if (s->started)
		return 0;
	s->started = true;
	http_resp_header(s->c, "Cache-Control", "no-cache");
	http_resp_header(s->c, "X-Accel-Buffering", "no");
	return http_resp_begin_stream(s->c, 200, "text/event-stream");
}

/* Writes one event built in b (the JSON object, without the separator). */
static int emit(struct stream *s, struct buf *b)
{
	int r = 0;
	if (s->c && !s->ended) {
		r = start(s);
		if (!r && s->c)
			r = buf_append(b, "\n\n", 2);
		if (!r && s->c)
			r = http_resp_write(s->c, buf_head(b), b->len);
	}
	buf_free(b);
	return r;
}

static int head(struct buf *b, const char *type)
{
	buf_init(b, 0);
	int r = buf_puts(b, "{\"type\":");
	return r ? r : json_buf_cstr(b, type, JSON_ESC_HTML);
}

int stream_text(struct stream *s, const char *type, const char *text, size_t len)
{
	struct buf b;
	int r = head(&b, type);
	if (!r && len) {
		r = buf_puts(&b, ",\"text\":");
		r = r ? r : json_buf_string(&b, text, len, JSON_ESC_HTML);
	}
	r = r ? r : buf_printf(&b, ",\"timestamp\":%lld}", (long long)stream_now_ms());
	if (r) {
		buf_free(&b);
		return r;
	}
	r = emit(s, &b);
	/* The first ping follows init at once; later ones every STREAM_PING_MS. */
	if (!r && strcmp(type, "init") == 0 && s->c) {
		on_ping(s->loop, &s->ping, s);
	}
	return r;
}

static void on_ping(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct stream *s = arg;
	if (!s->c || s->ended)
		return;
	struct buf b;
	int r = head(&b, "ping");
	r = r ? r
	      : buf_printf(&b, ",\"text\":\"pong\",\"timestamp\":%lld}",
			   (long long)stream_now_ms());
	if (r)
		buf_free(&b);
	else
		emit(s, &b);
	if (s->c)
		ev_timer_start(loop, t, STREAM_PING_MS);
}

int stream_complete(struct stream *s, int64_t ms)
{
	struct buf b;
	int r = head(&b, "execution_complete");
	if (!r && ms > 0)
		r = buf_printf(&b, ",\"execution_time\":%lld", (long long)ms);
	r = r ? r : buf_printf(&b, ",\"timestamp\":%lld}", (long long)stream_now_ms());
	if (r) {
		buf_free(&b);
		return r;
	}
	return emit(s, &b);
}

int stream_error(struct stream *s, const char *ename, const char *evalue, const char *trace)
{
	struct buf b;
	int r = head(&b, "error");
	r = r ? r
	      : buf_printf(&b,
			   ",\"timestamp\":%lld,\"error\":{\"ename\":", (long long)stream_now_ms());
	r = r ? r : json_buf_cstr(&b, ename, JSON_ESC_HTML);
	r = r ? r : buf_puts(&b, ",\"evalue\":");
	r = r ? r : json_buf_cstr(&b, evalue, JSON_ESC_HTML);
	r = r ? r : buf_puts(&b, ",\"traceback\":");
	if (!r && trace) {
		r = buf_puts(&b, "[");
		r = r ? r : json_buf_cstr(&b, trace, JSON_ESC_HTML);
		r = r ? r : buf_puts(&b, "]");
	} else if (!r) {
		r = buf_puts(&b, "null");
	}
	r = r ? r : buf_puts(&b, "}}");
	if (r) {
		buf_free(&b);
		return r;
	}
	return emit(s, &b);
}

int stream_late_error(struct stream *s, const char *message)
{
	struct buf b;
	buf_init(&b, 0);
	int r = json_error_body(&b, "RUNTIME_ERROR", message);
	if (!r && s->c && !s->ended) {
		r = start(s);
		if (!r && s->c)
			r = http_resp_write(s->c, buf_head(&b), b.len);
	}
	buf_free(&b);
	return r;
}

void stream_end(struct stream *s)
{
	ev_timer_stop(s->loop, &s->ping);
	if (!s->c || s->ended)
		return;
	s->ended = true;
	struct http_conn *c = s->c;
	s->c = NULL;
	http_conn_on_close(c, NULL, NULL);
	http_conn_on_drain(c, NULL, NULL);
	if (!s->started)
		http_resp_begin_stream(c, 200, "text/event-stream");
	http_resp_end(c);
}

void stream_detach(struct stream *s)
{
	ev_timer_stop(s->loop, &s->ping);
	if (s->c) {
		http_conn_on_close(s->c, NULL, NULL);
		http_conn_on_drain(s->c, NULL, NULL);
	}
	s->c = NULL;
}

bool stream_congested(struct stream *s)
{
	if (!s->c || http_conn_out_pending(s->c) < STREAM_HIGH_WATER)
		return false;
	http_conn_on_drain(s->c, on_conn_drain, s);
	return true;
}
