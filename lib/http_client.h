/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client: HTTP/1.1 requests over TCP, unix sockets or TLS, on the ev loop.
 *
 * One request per connection, unless the caller keeps connections
 * (struct http_keepalive). The request body is either given whole or
 * streamed (chunked) with http_client_write()/http_client_end_body(); the
 * response body is handed to on_data as it arrives (chunked, length or
 * close-delimited), with back-pressure through http_client_pause().
 * A 101 response hands the raw connection to on_upgrade.
 *
 * Ownership: the client object lives until on_done/on_upgrade has returned
 * (then it is freed) or until http_client_cancel() (no callback after it).
 * http_request_sync() runs a private loop for callers that can block.
 */
#ifndef LIB_HTTP_CLIENT_H
#define LIB_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ev.h"
#include "http_parse.h"
#include "http_server.h"

struct tls_config;
struct http_client;

enum http_endpoint_kind { HTTP_EP_TCP, HTTP_EP_UNIX, HTTP_EP_TLS };

struct http_endpoint {
	enum http_endpoint_kind kind;
	char host[256]; /* TCP/TLS host, or "localhost" for unix sockets */
	uint16_t port;
	char path[108];		      /* unix socket path */
	char server_name[256];	      /* TLS: name to send and verify (default: host) */
	const struct tls_config *tls; /* TLS: trust and client certificate */
};

/*
 * Parses "http://host[:port]", "https://host[:port]", "tcp://host:port" and
 * "unix:///path/to.sock" (IPv6 hosts in brackets). A path after the authority
 * is copied to prefix (if prefix_cap > 0) without a trailing '/'.
 * Returns 0 or -EINVAL with e set.
 */
int http_endpoint_parse(struct http_endpoint *ep, const char *url, char *prefix, size_t prefix_cap,
			struct err *e);

/*
 * A connection kept between requests to one endpoint (keep-alive), for a
 * caller that makes its requests one at a time: it passes the same holder in
 * each request. The holder owns the idle connection (NULL if none);
 * http_keepalive_close() closes it. Not thread-safe: callers serialise.
 */
struct http_keepalive {
	struct transport *t;
	unsigned long opened; /* connections opened through it */
};
void http_keepalive_close(struct http_keepalive *k);

struct http_client_request {
	const char *method;
	const char *target;	    /* origin-form: "/path?query" */
	const char *host;	    /* Host header; default: endpoint host[:port] */
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	const void *body;	    /* whole body (Content-Length), if has_body; borrowed: it must
				     * stay valid until on_done (or http_client_cancel) */
	size_t body_len;
	bool has_body;
	bool stream_body;     /* body follows via http_client_write (chunked) */
	uint32_t timeout_ms;  /* max time without progress; default 60 s */
	uint32_t deadline_ms; /* max time for the whole exchange; 0: none */
	size_t max_head;      /* response head limit; default 64 KiB */
	/* Reuse the holder's connection, and leave it there after a response that
	 * allows it (else the connection closes, as "Connection: close" asks). */
	struct http_keepalive *keep;
};

struct http_client_cbs {
	/* The response head (valid during the call). May be NULL. */
	void (*on_head)(struct http_client *c, const struct http_response_head *h, void *arg);
	/* Response body bytes. May be NULL (body discarded). */
	void (*on_data)(struct http_client *c, const char *data, size_t len, void *arg);
	/* The end: 0 after a complete response, else -errno with http_client_error() text. */
	void (*on_done)(struct http_client *c, int result, void *arg);
	/* 101 Switching Protocols: the caller owns d afterwards. May be NULL (then on_done). */
	void (*on_upgrade)(struct http_client *c, struct http_detached *d, void *arg);
};

/* Starts a request. NULL with e set if it cannot even start (no callback then). */
struct http_client *http_client_start(struct ev_loop *loop, const struct http_endpoint *ep,
				      const struct http_client_request *rq,
				      const struct http_client_cbs *cbs, void *arg, struct err *e);

/* Stops and frees; no callback runs afterwards, and rq->keep is not touched again. */
void http_client_cancel(struct http_client *c);

/* Streamed request body: queue bytes (0 or -errno), then end it. */
int http_client_write(struct http_client *c, const void *data, size_t len);
int http_client_end_body(struct http_client *c);
/* Bytes of request not yet written to the socket. */
size_t http_client_out_pending(const struct http_client *c);

/* Stops or resumes reading the response (back-pressure). */
void http_client_pause(struct http_client *c, bool pause);

/* The reason of a failure, valid in on_done. */
const char *http_client_error(const struct http_client *c);
/* In on_done after a failure: the request went over a kept connection that
 * the server closed before one byte of answer (it had closed it while idle),
 * so sending it again on a new connection is safe. Not after a timeout: the
 * server may have the request. (A kept connection found closed, or not
 * silent, before reuse is not reused.) */
bool http_client_retryable(const struct http_client *c);

/* A whole response, for http_request_sync. */
struct http_response {
	int status;
	struct buf head; /* the raw head; header pointers point into it */
	struct http_header headers[64];
	size_t num_headers;
	struct buf body; /* at most max_body bytes */
};

/*
 * Blocking request on a private loop. max_body caps the kept body (a larger
 * body fails with -EFBIG). With rq->keep, a request other than a POST that
 * fails as http_client_retryable() says is sent once more on a new
 * connection. resp must be released with
 * http_response_free. Returns 0 (any HTTP status) or -errno with e set.
 */
int http_request_sync(const struct http_endpoint *ep, const struct http_client_request *rq,
		      size_t max_body, struct http_response *resp, struct err *e);
void http_response_free(struct http_response *resp);
/* The first response header named name (value as pointer + length), or NULL. */
const struct http_header *http_response_header(const struct http_response *resp, const char *name);

#endif
