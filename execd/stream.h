/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream: the execution event stream of /command, /session/:id/run and /code.
 * Each event is one JSON object followed by "\n\n" (no "data:" prefix), with
 * fields in the order clients expect: type, text, execution_count,
 * execution_time, timestamp, results, error. The 200 head (text/event-stream,
 * chunked) goes out lazily with the first event, so a failure before any
 * event can still be a normal JSON error. A "ping" follows "init" at once and
 * then every 3 s until the stream ends. The stream ends right after the
 * terminal event: no tail wait.
 *
 * The stream does not own the connection: if the client leaves, events are
 * dropped (stream_alive() turns false) and the owner's gone hook runs.
 */
#ifndef EXECD_STREAM_H
#define EXECD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "http_server.h"

#define STREAM_PING_MS 3000
/* Above this much unsent output the producer should pause (stream_congested). */
#define STREAM_HIGH_WATER (1024 * 1024)

struct stream;
typedef void stream_cb(struct stream *s, void *arg);

struct stream {
	struct http_conn *c; /* NULL once the client is gone or the stream ended */
	struct ev_loop *loop;
	struct ev_timer ping;
	bool started, ended;
	stream_cb *on_gone;  /* the client left before the end */
	stream_cb *on_drain; /* output fell below the low-water mark */
	void *arg;
};

void stream_init(struct stream *s, struct http_conn *c, struct ev_loop *loop, stream_cb *on_gone,
		 stream_cb *on_drain, void *arg);

/* An event with a text field (type: init, stdout, stderr, status). */
int stream_text(struct stream *s, const char *type, const char *text, size_t len);
/* execution_complete with execution_time in ms (omitted when 0). */
int stream_complete(struct stream *s, int64_t ms);
/* error{ename, evalue, traceback:[trace]} (trace NULL: traceback null). */
int stream_error(struct stream *s, const char *ename, const char *evalue, const char *trace);
/* The late-error quirk: raw {"code":"RUNTIME_ERROR","message":..} with no separator. */
int stream_late_error(struct stream *s, const char *message);
/* Ends the response now. */
void stream_end(struct stream *s);
/* Stops pings and detaches from the connection without ending it (owner cleanup). */
void stream_detach(struct stream *s);

static inline bool stream_alive(const struct stream *s)
{
	return s->c != NULL;
}
/* True while too much output is queued: pause the producer until on_drain. */
bool stream_congested(struct stream *s);

/* Milliseconds since the Unix epoch. */
int64_t stream_now_ms(void);

#endif
