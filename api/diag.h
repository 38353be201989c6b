/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag: what every runtime's diagnostics share (the OpenSandbox diagnostics API): the query
 * (tail 1..10000 = 100, since like 10m/1h/30s/2d = 10m when unreadable,
 * limit 1..500 = 50, scope) and the two answers: the legacy text/plain (with
 * "Deprecation: true" for logs and events) and, with scope=container (logs)
 * or scope=lifecycle (events), the spec's JSON form delivered inline.
 */
#ifndef API_DIAG_H
#define API_DIAG_H

#include <stdbool.h>

#include "buf.h"
#include "reply.h"

enum diag_kind { DIAG_LOGS, DIAG_EVENTS, DIAG_INSPECT, DIAG_SUMMARY };

#define DIAG_TEXT_MAX (8u << 20) /* the most of a log or listing answered */

struct diag_query {
	enum diag_kind kind;
	long tail, since_s, limit; /* since_s 0: no since */
	bool scoped;		   /* the JSON form was asked for (scope=...) */
	char scope[24];
};

/* kind is the path's last part. 0, or -1 (unknown kind, or a scope this kind
 * has no JSON form for: the caller answers 501). */
int diag_query_parse(const char *kind, const char *query, struct diag_query *q);
/* Answers r with text (freed here) in the form q asked for. */
void diag_reply(struct reply *r, const char *sandbox_id, const struct diag_query *q,
		struct buf *text);

#endif
