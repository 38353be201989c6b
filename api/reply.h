/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply: the answer to one API request, which may come later (after a
 * worker job). A struct reply follows its connection: if the client goes
 * away first, the answer is dropped. Every reply_* call that answers also
 * frees the struct reply, counts the request in the metrics and logs errors
 * with the request id.
 */
#ifndef API_REPLY_H
#define API_REPLY_H

#include "apisrv.h"
#include "buf.h"
#include "http_server.h"

struct reply {
	struct apisrv *srv;
	struct http_conn *c;	    /* NULL once the client is gone */
	const char *route;	    /* metrics label (static string) */
	char rid[80];		    /* request id */
	char sandbox[UUID_STR_LEN]; /* for log lines, may be "" */
};

/* NULL on ENOMEM (then a 500 has been sent). */
struct reply *reply_new(struct apisrv *srv, struct http_conn *c, const struct http_req *req,
			const char *route);
void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Sends body (JSON) and frees it. */
void reply_json(struct reply *r, int status, struct buf *body);
void reply_empty(struct reply *r, int status);
/* Appends "status":{"state","reason"?,"message"?,"lastTransitionAt"?} (the shape
 * sandboxes and snapshots share; empty strings and 0 are left out). 0 or -errno. */
int reply_status_json(struct buf *o, const char *state, const char *reason, const char *message,
		      int64_t transition_us);
/* Sends body as text/plain (and one extra header if extra_name) and frees it. */
void reply_text(struct reply *r, int status, const char *extra_name, const char *extra_value,
		struct buf *body);

#endif
