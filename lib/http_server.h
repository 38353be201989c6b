/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_server: an HTTP/1.1 server on the ev loop.
 *
 * Routing by method + path pattern: segments match literally, ":name" matches
 * one non-empty segment, and a final "*name" matches the rest of the path
 * (possibly empty). Method "*" matches every method. Routes are tried in the
 * order they were added; the first match wins.
 *
 * A handler is called once per request with the head (and, unless the route
 * streams its body, the whole body, bounded by the route's max_body). It
 * answers at once or later: the connection stays with the request until
 * http_resp_end()/http_resp_send()/http_resp_error()/http_resp_abort(), or
 * until the client goes away, which calls the on_close hook. After on_close
 * returns, the conn must not be used. Pipelined requests wait for the
 * previous response to end.
 *
 * Callbacks (on_close, on_drain, body callbacks) come from the loop only,
 * never from inside a call the handler makes on its connection (lib/ev.h):
 * a call that finds the connection gone returns -EPIPE, and on_close follows
 * at the end of the turn. Once one of the ending calls has been made
 * (whatever it returned), no callback of that request runs again.
 *
 * Limits (see struct http_server_config) give 400/408/413/414/431/503 and
 * JSON errors {"code":"...","message":"..."}.
 *
 * Ownership: the server owns its connections and frees them on close. A
 * struct http_req and every string in it stay valid until the response ends
 * or on_close fires.
 */
#ifndef LIB_HTTP_SERVER_H
#define LIB_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ev.h"
#include "http_parse.h"
#include "transport.h"

struct http_server;
struct http_conn;
struct tls_config;

#define HTTP_MAX_PARAMS 8

struct http_req {
	const char *method;		   /* all strings NUL-terminated */
	const char *target;		   /* raw request-target */
	const char *raw_path;		   /* path part of target, not decoded */
	const char *path;		   /* percent-decoded path */
	const char *query;		   /* raw query (after '?'), "" if none */
	const struct http_header *headers; /* values NUL-terminated */
	size_t num_headers;
	int minor_version;
	bool keep_alive, upgrade, expect_continue;
	enum http_body_kind body_kind;
	uint64_t content_length;
	const char *body; /* buffered routes: the body, NUL-terminated */
	size_t body_len;
	const char *request_id; /* from X-Request-ID or generated (if enabled), else "" */
	const char *peer;	/* "ip:port" or "unix" */
	size_t num_params;
	const char *param_names[HTTP_MAX_PARAMS];
	const char *param_values[HTTP_MAX_PARAMS]; /* decoded */
};

typedef void http_handler(struct http_conn *c, struct http_req *req, void *arg);
/* Called before routing, for every request (auth, logging). Return true to go on;
 * false means the filter has answered the request itself. */
typedef bool http_filter(struct http_conn *c, struct http_req *req, void *arg);
typedef void http_conn_cb(struct http_conn *c, void *arg);
/* Streamed request body: data spans as they arrive; done=true once, at the end. */
typedef void http_body_cb(struct http_conn *c, const char *data, size_t len, bool done, void *arg);

/* fds kept free of connections for what requests open (pipes, PTYs, upstreams). */
#define HTTP_FD_HEADROOM 64

struct http_server_config {
	size_t max_conns;	      /* default 1024, lowered to fit RLIMIT_NOFILE less
				       * HTTP_FD_HEADROOM; over it: evict (below) or 503 */
	uint32_t pressure_timeout_ms; /* idle/head time for untrusted conns at 3/4 of max_conns;
				       * default 5 s */
	uint32_t header_timeout_ms;   /* whole head must arrive within; default 30 s (408) */
	uint32_t body_timeout_ms;     /* max gap between body bytes; default 60 s (408) */
	uint32_t idle_timeout_ms;     /* keep-alive idle; default 75 s */
	uint32_t write_timeout_ms;    /* output stalled this long: close; default 60 s */
	size_t max_body;	      /* default route body limit; default 1 MiB (413) */
	size_t max_out;		      /* per-connection output queue cap; default 8 MiB */
	struct http_limits limits;    /* zero fields take the http_parse defaults */
	const struct tls_config *tls; /* serve TLS on every listener (NULL: plain) */
	bool request_ids;	      /* echo or generate X-Request-ID */
	const char *log_name;	      /* prefix for log lines; NULL = no request logs */
};

struct http_route_opts {
	size_t max_body;  /* 0: the server default */
	bool stream_body; /* hand the body to an http_body_cb instead of buffering */
};

/* A server with cfg (copied; NULL for defaults). NULL with e set on failure. */
struct http_server *http_server_new(struct ev_loop *loop, const struct http_server_config *cfg,
				    struct err *e);
/* Closes every connection (their on_close hooks run) and listener, then frees. */
void http_server_free(struct http_server *s);

/* Serves on a listening socket (takes ownership). 0 or -errno. */
int http_server_listen_fd(struct http_server *s, int lfd, struct err *e);

/* Adds a route. opts may be NULL. 0, or -EINVAL (bad pattern) / -ENOMEM. */
int http_server_route(struct http_server *s, const char *method, const char *pattern,
		      http_handler *h, void *arg, const struct http_route_opts *opts);
void http_server_set_filter(struct http_server *s, http_filter *f, void *arg);
/* Requests whose path is `prefix` or starts with `prefix` + "/" are routed as
 * if it were not there, once (execd answers /proxy/<its own port>/x as /x).
 * One prefix per server; copied. 0 or -ENOMEM. */
int http_server_strip_prefix(struct http_server *s, const char *prefix);
/* Handler for requests no route matches (default: 404 JSON NOT_FOUND). */
void http_server_set_fallback(struct http_server *s, http_handler *h, void *arg);

/* Open connections. */
size_t http_server_conn_count(const struct http_server *s);
/* Connections given up for newer ones while the server was full. */
size_t http_server_evicted(const struct http_server *s);

/*
 * Marks c as carrying a valid credential (filters call this). When the server
 * is full, a new connection takes the place of one waiting for a request head:
 * the oldest never trusted first, then the oldest trusted one idling between
 * requests; only if every connection is mid-request is it refused with 503.
 * Untrusted connections also get pressure_timeout_ms to send a head once
 * three quarters of max_conns are in use. So a flood of strangers cannot
 * lock out a client that authenticates.
 */
void http_conn_trust(struct http_conn *c);

/* Value of a route parameter, or NULL. */
const char *http_req_param(const struct http_req *req, const char *name);
/* Value of the first header named name, or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* --- responses ---------------------------------------------------------- */

/* Adds a response header before the response starts. 0 or -errno (-EINVAL for CR/LF in it). */
int http_resp_header(struct http_conn *c, const char *name, const char *value);
/* The same from spans (e.g. copied from another message). */
int http_resp_header_n(struct http_conn *c, const char *name, size_t nlen, const char *value,
		       size_t vlen);

/* A complete response (Content-Length set). The request is over afterwards. 0 or -errno. */
int http_resp_send(struct http_conn *c, int status, const char *content_type, const void *body,
		   size_t len);
/* A complete {"code":..,"message":..} JSON error response. */
int http_resp_error(struct http_conn *c, int status, const char *code, const char *message);

/* Starts a streamed response: chunked (HTTP/1.1) or ended by close (1.0). */
int http_resp_begin_stream(struct http_conn *c, int status, const char *content_type);
/* Starts a response whose body length is known: exactly len bytes must follow. */
int http_resp_begin_length(struct http_conn *c, int status, const char *content_type, uint64_t len);
/* Queues body bytes and tries to send them at once. 0, or -ENOBUFS (queue cap) / -EPIPE. */
int http_resp_write(struct http_conn *c, const void *data, size_t len);
/* Ends the response (final chunk); the next pipelined request may start. 0 or -errno. */
int http_resp_end(struct http_conn *c);

/* Gives up on a response already started (e.g. its upstream failed): the
 * connection is closed at once, so the client sees a truncated body. */
void http_resp_abort(struct http_conn *c);

/* Bytes queued and not yet written to the socket. */
size_t http_conn_out_pending(const struct http_conn *c);
/* Calls cb once the output queue has drained below HTTP_OUT_LOW_WATER (back-pressure). */
#define HTTP_OUT_LOW_WATER (64 * 1024)
void http_conn_on_drain(struct http_conn *c, http_conn_cb *cb, void *arg);
/* Calls cb if the connection ends before the response is complete. */
void http_conn_on_close(struct http_conn *c, http_conn_cb *cb, void *arg);

/* stream_body routes: starts delivering the body to cb (sends 100 Continue if asked). */
void http_conn_read_body(struct http_conn *c, http_body_cb *cb, void *arg);
/* Pauses or resumes body delivery (back-pressure towards the client). */
void http_conn_pause_body(struct http_conn *c, bool pause);

/*
 * Takes the connection out of the server for an upgrade (WebSocket, CONNECT,
 * proxy splicing). The caller gets the transport, the bytes already read past
 * the request head (in) and any queued output not yet written (out, e.g. a
 * 101 head queued with http_resp_begin_length(c, 101, NULL, 0)). The conn is freed.
 */
struct http_detached {
	struct transport *t;
	struct buf in, out;
};
int http_conn_detach(struct http_conn *c, struct http_detached *d);

/* Reason phrase for a status code ("Unknown" if not known). */
const char *http_status_text(int status);

#endif
