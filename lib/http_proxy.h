/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_proxy: the one reverse-proxy engine. execd's /proxy/{port}, sandbox-api's
 * server proxy and the ingress gateway all forward through it.
 *
 * - Upstream connections come from a keep-alive pool (lib/http_upstream); a
 *   request that finds its pooled connection closed before any byte came back
 *   is sent again once on a fresh one.
 * - Bodies stream both ways, never buffered whole. Back-pressure: above
 *   HTTP_PROXY_HIGH bytes queued towards the upstream the client's body is
 *   paused, and resumed when the upstream socket drains; above it towards the
 *   client the upstream is not read until the client connection's on_drain.
 *   Responses are relayed as they arrive (SSE is not delayed).
 * - Upgrade (WebSocket and others): after the upstream's 101 both connections
 *   are spliced byte for byte (lib/splice).
 * - Headers, one rule set for every caller: hop-by-hop headers (RFC 9110
 *   7.6.1: Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
 *   Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade, and those
 *   the Connection header names) are dropped both ways, and Content-Length and
 *   Expect are re-derived. X-Forwarded-For gets the client's address appended;
 *   X-Forwarded-Proto (default "http") and X-Forwarded-Host (default: the
 *   client's Host) are kept when the client sent them, so a chain of our
 *   proxies reports the first hop. An upstream X-Request-ID is dropped when
 *   the server sets its own.
 * - Failures: connect errors and bad upstream responses answer 502, a silent
 *   upstream 504 (before the response head); after the head the client
 *   connection is cut, so the client sees a truncated body.
 *
 * Ownership: each exchange belongs to the engine from http_proxy_forward()
 * until its response ends or either side goes; it follows the ev.h lifetime rule.
 */
#ifndef LIB_HTTP_PROXY_H
#define LIB_HTTP_PROXY_H

#include <stdint.h>

#include "ev.h"
#include "http_server.h"

#define HTTP_PROXY_HIGH	    (256 * 1024) /* bytes queued on one side before pausing the other */
#define HTTP_PROXY_HEAD_MAX (64 * 1024)	 /* request and response heads */

enum http_proxy_failure {
	HTTP_PROXY_CONNECT,  /* refused, unreachable, or connect timed out: 502 */
	HTTP_PROXY_PROTOCOL, /* malformed or cut response before its head: 502 */
	HTTP_PROXY_TIMEOUT,  /* the upstream went silent before answering: 504 */
};

/* Answers a failed exchange on c (status 502 or 504). Must end the response. */
typedef void http_proxy_error_cb(struct http_conn *c, int status, enum http_proxy_failure why,
				 void *arg);
/* Told the status of every exchange (the upstream's, or the error's). */
typedef void http_proxy_status_cb(int status, void *arg);

struct http_proxy_config {
	uint32_t connect_timeout_ms;	 /* default 30 s */
	uint32_t io_timeout_ms;		 /* upstream silent while awaited; 0: never */
	size_t pool_max;		 /* idle upstream connections kept; default 100 */
	uint32_t pool_idle_ms;		 /* default 90 s */
	http_proxy_error_cb *on_error;	 /* NULL: text/plain "Bad Gateway" / "Gateway Timeout" */
	http_proxy_status_cb *on_status; /* may be NULL */
	void *arg;			 /* for both callbacks */
};

struct http_proxy_target {
	const char *addr; /* numeric IPv4/IPv6 address */
	uint16_t port;
	const char *path;	 /* raw (still encoded) path, "/..." */
	const char *query;	 /* raw query without '?'; NULL or "" for none */
	const char *host;	 /* Host header to send; NULL keeps the client's */
	const char *const *drop; /* more request headers not to forward; NULL-terminated */
	const char *const *set;	 /* request headers to send instead of the client's:
				  * name, value, ..., NULL */
};

struct http_proxy;

/* An engine on loop with cfg (copied; NULL for defaults), or NULL (ENOMEM). */
struct http_proxy *http_proxy_new(struct ev_loop *loop, const struct http_proxy_config *cfg);
/* Frees the engine and its idle pool; call after the server's connections are gone. */
/* Idle upstream connections the engine keeps for reuse now (each holds an fd). */
size_t http_proxy_idle(const struct http_proxy *px);
void http_proxy_free(struct http_proxy *px);

/* Forwards req (on a stream_body route) to t and relays the answer on c. */
void http_proxy_forward(struct http_proxy *px, struct http_conn *c, struct http_req *req,
			const struct http_proxy_target *t);

#endif
