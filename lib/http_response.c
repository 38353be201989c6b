// SPDX-License-Identifier: Apache-2.0
/* The response side of the HTTP server: heads, framing, output queue. */
#include "http_server_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "json.h"

const char *http_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Range Not Satisfiable";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

int conn_flush(struct http_conn *c, bool notify)
{
	bool progress = false;

	while (c->out.len > 0 && !c->dead) {
		ssize_t n = transport_write(c->t, buf_head(&c->out), c->out.len);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c);
			return -EPIPE;
		}
		buf_consume(&c->out, (size_t)n);
		progress = true;
	}
	if (c->dead)
		return -EPIPE;
	int r = transport_flush(c->t);
	if (r < 0 && r != -EAGAIN) {
		conn_close(c);
		return -EPIPE;
	}
	if (progress && c->timer_kind == TIMER_WRITE)
		conn_set_timer(c, TIMER_WRITE);
	/* Pipelined input waited for this drain (conn_process). */
	if (progress && c->state == CONN_HEAD && c->in.len && c->out.len < HTTP_OUT_LOW_WATER)
		c->kick = true;
	if (c->out.len == 0 && r == 0 && c->state == CONN_CLOSING) {
		transport_shutdown_write(c->t);
		conn_close(c);
		return -EPIPE;
	}
	if (notify && c->on_drain && c->out.len < HTTP_OUT_LOW_WATER) {
		http_conn_cb *cb = c->on_drain;
		c->on_drain = NULL; /* one-shot: the producer re-arms it */
		cb(c, c->drain_arg);
		if (c->dead)
			return -EPIPE;
	}
	return 0;
}

/* Flushes inside a handler's call (no callbacks), then re-arms epoll. */
static int flush_and_arm(struct http_conn *c)
{
	int r = conn_flush(c, false);
	if (c->dead)
		return -EPIPE;
	/* Drained here, with the producer waiting for on_drain: no EPOLLOUT will
	 * come to tell it, so the end of the turn does. */
	if (c->on_drain && c->out.len < HTTP_OUT_LOW_WATER)
		conn_flush_later(c);
	conn_update_events(c);
	return r;
}

/*
 * A head alone is not written at once: the first body bytes usually follow
 * within the same turn and go out in the same segment. If nothing follows
 * (an SSE stream waiting for its first event), it leaves at the end of the turn.
 */
static int arm_for_head(struct http_conn *c)
{
	conn_flush_later(c);
	return 0;
}

/* Every byte but CR and LF (what a header value must not hold). */
static const bool not_cr_lf[256] = {
	[0 ... '\n' - 1] = true, ['\n' + 1 ... '\r' - 1] = true, ['\r' + 1 ... 255] = true};

int http_resp_header_n(struct http_conn *c, const char *name, size_t nlen, const char *value,
		       size_t vlen)
{
	if (c->dead)
		return -EPIPE;
	if (c->resp_started)
		return -EALREADY;
	/* A CR or LF would let a value forge headers; the name must be a token. */
	if (nlen == 0 || ascii_span(ascii_tchar, name, 0, nlen) != nlen ||
	    ascii_span(not_cr_lf, value, 0, vlen) != vlen)
		return -EINVAL;
	return buf_append_header(&c->resp_hdrs, name, nlen, value, vlen);
}

int http_resp_header(struct http_conn *c, const char *name, const char *value)
{
	return http_resp_header_n(c, name, strlen(name), value, strlen(value));
}

enum framing { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE, FRAME_NONE };

static int write_head(struct http_conn *c, int status, const char *ctype, enum framing f,
		      uint64_t len)
{
	struct buf *o = &c->out;
	if (c->dead)
		return -EPIPE;
	if (c->resp_started)
		return -EALREADY;
	c->resp_started = true;
	c->resp_status = status;
	c->resp_head_only = c->req.method && strcmp(c->req.method, "HEAD") == 0;
	bool no_body = status < 200 || status == 204 || status == 304;
	if (f == FRAME_CLOSE)
		c->close_after = true;
	if (!c->body_done && !(c->route && c->route->opts.stream_body && c->body_cb))
		c->close_after = true; /* unread request body: the stream is not reusable */
	if (status == 101)
		c->close_after = false;

	char line[64];
	const char *text = http_status_text(status);
	memcpy(line, "HTTP/1.1 ", 9);
	line[9] = (char)('0' + status / 100 % 10);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	line[12] = ' ';
	size_t tl = strlen(text);
	memcpy(line + 13, text, tl);
	memcpy(line + 13 + tl, "\r\n", 2);
	int r = buf_append(o, line, 15 + tl);
	if (!r && ctype)
		r = buf_append_header(o, "Content-Type", 12, ctype, strlen(ctype));
	if (!r && c->resp_hdrs.len)
		r = buf_append(o, buf_head(&c->resp_hdrs), c->resp_hdrs.len);
	if (!r && c->request_id[0])
		r = buf_append_header(o, "X-Request-ID", 12, c->request_id, strlen(c->request_id));
	if (!r && !no_body) {
		if (f == FRAME_LENGTH) {
			r = buf_append(o, "Content-Length: ", 16);
			r = r ? r : buf_append_u64(o, len);
			r = r ? r : buf_append(o, "\r\n", 2);
		} else if (f == FRAME_CHUNKED) {
			r = buf_puts(o, "Transfer-Encoding: chunked\r\n");
		}
	}
	if (!r && c->close_after)
		r = buf_puts(o, "Connection: close\r\n");
	if (!r)
		r = buf_append(o, "\r\n", 2);
	if (r) {
		/* Part of a head is queued and the rest cannot be: nothing can follow it. */
		conn_close(c);
		return -EPIPE;
	}
	c->resp_chunked = f == FRAME_CHUNKED && !no_body;
	c->resp_until_close = f == FRAME_CLOSE;
	c->resp_left = f == FRAME_LENGTH && !no_body ? len : 0;
	return r;
}

int http_resp_write(struct http_conn *c, const void *data, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (!c->resp_started || c->resp_ended)
		return -EINVAL;
	if (len == 0 || c->resp_head_only)
		return 0;
	int r = 0;
	if (c->resp_chunked) {
		char hdr[20];
		size_t n = http_chunk_header(hdr, len);
		if (c->out.max && c->out.len + n + len + 2 > c->out.max)
			return -ENOBUFS;
		r = buf_append(&c->out, hdr, n);
		r = r ? r : buf_append(&c->out, data, len);
		r = r ? r : buf_append(&c->out, "\r\n", 2);
	} else {
		if (!c->resp_until_close && len > c->resp_left)
			return -EINVAL; /* more than the announced Content-Length */
		r = buf_append(&c->out, data, len);
		if (!r && !c->resp_until_close)
			c->resp_left -= len;
	}
	if (r)
		return r;
	return flush_and_arm(c);
}

static int resp_end(struct http_conn *c)
{
	if (c->dead)
		return -EPIPE;
	if (!c->resp_started || c->resp_ended)
		return -EINVAL;
	c->resp_ended = true;
	if (c->resp_chunked && !c->resp_head_only)
		buf_puts(&c->out, HTTP_CHUNK_END);
	/* A body cut short leaves the framing broken: the connection must end.
	 * (A HEAD answer announces a length it never sends: that is no cut.) */
	if (c->resp_until_close || (c->resp_left && !c->resp_head_only))
		c->close_after = true;
	int r = conn_flush(c, false);
	if (!c->dead)
		conn_request_done(c); /* pipelined requests are served by the loop */
	if (!c->dead)
		conn_update_events(c);
	return r < 0 ? r : 0;
}

static int resp_send(struct http_conn *c, int status, const char *content_type, const void *body,
		     size_t len)
{
	int r = write_head(c, status, content_type, FRAME_LENGTH, len);
	if (r)
		return r;
	if (len && !c->resp_head_only && status >= 200 && status != 204 && status != 304) {
		r = buf_append(&c->out, body, len);
		if (r) {
			conn_close(c); /* a head whose body cannot follow */
			return -EPIPE;
		}
		c->resp_left = 0;
	}
	return resp_end(c);
}

size_t http_conn_out_pending(const struct http_conn *c)
{
	return c->out.len;
}

void http_conn_on_drain(struct http_conn *c, http_conn_cb *cb, void *arg)
{
	c->on_drain = cb;
	c->drain_arg = arg;
	/* Already below the mark: the loop calls it at the end of the turn. */
	if (cb && c->out.len < HTTP_OUT_LOW_WATER)
		conn_flush_later(c);
}

void http_conn_on_close(struct http_conn *c, http_conn_cb *cb, void *arg)
{
	c->on_close = cb;
	c->close_arg = arg;
}

/* The handler is done with the request, whatever happens next. */
static void request_released(struct http_conn *c)
{
	c->on_close = NULL;
	c->on_drain = NULL;
	c->body_cb = NULL;
}

void http_resp_abort(struct http_conn *c)
{
	request_released(c);
	conn_close(c);
}

int http_resp_begin_stream(struct http_conn *c, int status, const char *content_type)
{
	enum framing f = c->req.minor_version >= 1 ? FRAME_CHUNKED : FRAME_CLOSE;
	int r = write_head(c, status, content_type, f, 0);
	return r ? r : arm_for_head(c);
}

int http_resp_begin_length(struct http_conn *c, int status, const char *content_type, uint64_t len)
{
	int r = write_head(c, status, content_type, FRAME_LENGTH, len);
	return r ? r : arm_for_head(c);
}

int http_resp_end(struct http_conn *c)
{
	request_released(c);
	return resp_end(c);
}

int http_resp_send(struct http_conn *c, int status, const char *content_type, const void *body,
		   size_t len)
{
	request_released(c);
	return resp_send(c, status, content_type, body, len);
}

int http_resp_error(struct http_conn *c, int status, const char *code, const char *message)
{
	request_released(c);
	struct buf b;
	buf_init(&b, 0);
	int r = json_error_body(&b, code, message);
	if (!r)
		r = resp_send(c, status, "application/json", buf_head(&b), b.len);
	buf_free(&b);
	return r;
}
