// SPDX-License-Identifier: Apache-2.0
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "json.h"

/* "30s", "10m", "1h", "2d" in seconds; unreadable: 10 minutes (upstream). */
static long since_seconds(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (n <= 0 || n > 100000 || end == v || end[0] == '\0' || end[1] != '\0')
		return 600;
	switch (*end) {
	case 's':
		return n;
	case 'm':
		return n * 60;
	case 'h':
		return n * 3600;
	case 'd':
		return n * 86400;
	default:
		return 600;
	}
}

static long query_long(const char *q, const char *name, long def, long lo, long hi)
{
	char v[32];
	if (http_query_get(q, strlen(q), name, v, sizeof(v)) < 0)
		return def;
	char *end;
	long n = strtol(v, &end, 10);
	return *v && !*end && n >= lo && n <= hi ? n : def;
}

int diag_query_parse(const char *kind, const char *query, struct diag_query *q)
{
	memset(q, 0, sizeof(*q));
	if (!strcmp(kind, "logs"))
		q->kind = DIAG_LOGS;
	else if (!strcmp(kind, "events"))
		q->kind = DIAG_EVENTS;
	else if (!strcmp(kind, "inspect"))
		q->kind = DIAG_INSPECT;
	else if (!strcmp(kind, "summary"))
		q->kind = DIAG_SUMMARY;
	else
		return -1;
	q->tail = query_long(query, "tail", q->kind == DIAG_SUMMARY ? 50 : 100, 1, 10000);
	q->limit = query_long(query, "limit", 50, 1, 500);
	if (q->kind == DIAG_SUMMARY)
		q->limit = query_long(query, "event_limit", 20, 1, 500);
	char since[32];
	if (http_query_get(query, strlen(query), "since", since, sizeof(since)) >= 0)
		q->since_s = since_seconds(since);
	long n = http_query_get(query, strlen(query), "scope", q->scope, sizeof(q->scope));
	q->scoped = n != -ENOENT;
	if (!q->scoped)
		return 0;
	/* The JSON form exists for the container's logs and the lifecycle's events. */
	if (n < 0 || (q->kind == DIAG_LOGS && strcmp(q->scope, "container") != 0) ||
	    (q->kind == DIAG_EVENTS && strcmp(q->scope, "lifecycle") != 0) ||
	    q->kind == DIAG_INSPECT || q->kind == DIAG_SUMMARY)
		return -1;
	return 0;
}

void diag_reply(struct reply *r, const char *sandbox_id, const struct diag_query *q,
		struct buf *text)
{
	if (!q->scoped) {
		bool old = q->kind == DIAG_LOGS || q->kind == DIAG_EVENTS;
		reply_text(r, 200, old ? "Deprecation" : NULL, old ? "true" : NULL, text);
		return;
	}
	bool truncated = text->len >= DIAG_TEXT_MAX;
	struct buf out;
	buf_init(&out, 0);
	buf_puts(&out, "{\"sandboxId\":");
	json_buf_cstr(&out, sandbox_id, 0);
	buf_printf(&out, ",\"kind\":\"%s\",\"scope\":", q->kind == DIAG_LOGS ? "logs" : "events");
	json_buf_cstr(&out, q->scope, 0);
	buf_puts(&out, ",\"delivery\":\"inline\",\"contentType\":\"text/plain; charset=utf-8\","
		       "\"content\":");
	json_buf_string(&out, buf_head(text), text->len, 0);
	buf_printf(&out, ",\"contentLength\":%zu,\"truncated\":%s}", text->len,
		   truncated ? "true" : "false");
	buf_free(text);
	reply_json(r, 200, &out);
}
