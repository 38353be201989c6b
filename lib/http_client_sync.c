// SPDX-License-Identifier: Apache-2.0
/* A blocking request on a private event loop, for callers that can wait. */
#include <errno.h>
#include <string.h>

#include "http_client.h"

struct sync_state {
	struct http_response *resp;
	size_t max_body;
	bool done;
	bool retry; /* a kept connection had been closed: send again */
	int result;
	struct err *e;
};

static void sync_head(struct http_client *c, const struct http_response_head *h, void *arg)
{
	struct sync_state *st = arg;
	struct http_response *resp = st->resp;
	(void)c;
	resp->status = h->status;
	/* Keep a copy of the headers: the client's input buffer moves on. */
	resp->num_headers = 0;
	size_t need = 0;
	for (size_t i = 0; i < h->num_headers; i++)
		need += h->headers[i].name_len + h->headers[i].value_len + 2;
	if (buf_reserve(&resp->head, need) < 0)
		return;
	char *p = buf_tail(&resp->head);
	size_t n = h->num_headers < 64 ? h->num_headers : 64;
	for (size_t i = 0; i < n; i++) {
		const struct http_header *src = &h->headers[i];
		struct http_header *dst = &resp->headers[i];
		memcpy(p, src->name, src->name_len);
		p[src->name_len] = '\0';
		dst->name = p;
		dst->name_len = src->name_len;
		p += src->name_len + 1;
		memcpy(p, src->value, src->value_len);
		p[src->value_len] = '\0';
		dst->value = p;
		dst->value_len = src->value_len;
		p += src->value_len + 1;
	}
	buf_commit(&resp->head, need);
	resp->num_headers = n;
}

static void sync_data(struct http_client *c, const char *data, size_t len, void *arg)
{
	struct sync_state *st = arg;
	if (st->result == 0 && buf_append(&st->resp->body, data, len) < 0) {
		st->result = err_set(st->e, EFBIG, "response body over %zu bytes", st->max_body);
		st->done = true;
		http_client_cancel(c);
	}
}

static void sync_done(struct http_client *c, int result, void *arg)
{
	struct sync_state *st = arg;
	if (result < 0 && st->result == 0 && http_client_retryable(c))
		st->retry = true;
	else if (result < 0 && st->result == 0)
		st->result = err_set(st->e, -result, "%s", http_client_error(c));
	st->done = true;
}

static int request_once(const struct http_endpoint *ep, const struct http_client_request *rq,
			size_t max_body, struct http_response *resp, bool *retry, struct err *e)
{
	struct sync_state st = {.resp = resp, .max_body = max_body, .e = e};
	struct http_client_cbs cbs = {
		.on_head = sync_head, .on_data = sync_data, .on_done = sync_done};

	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->head, 0);
	buf_init(&resp->body, max_body);
	struct ev_loop *loop = ev_loop_new(e);
	if (!loop)
		return -ENOMEM;
	struct http_client *c = http_client_start(loop, ep, rq, &cbs, &st, e);
	if (!c) {
		ev_loop_free(loop);
		return e && e->code ? -e->code : -EIO;
	}
	while (!st.done) {
		int r = ev_run_once(loop, -1);
		if (r < 0) {
			http_client_cancel(c);
			st.result = err_set(e, -r, "event loop failed");
			break;
		}
	}
	ev_loop_free(loop);
	*retry = st.retry;
	return st.result;
}

int http_request_sync(const struct http_endpoint *ep, const struct http_client_request *rq,
		      size_t max_body, struct http_response *resp, struct err *e)
{
	bool retry = false;
	int r = request_once(ep, rq, max_body, resp, &retry, e);
	/* A POST is not sent twice: a close right after it may have followed its
	 * processing (a second one creates twice, or fails on the first's name). */
	if (retry && strcmp(rq->method, "POST") == 0) {
		r = err_set(e, ECONNRESET, "connection closed before the response");
	} else if (retry) {
		http_response_free(resp);
		r = request_once(ep, rq, max_body, resp, &retry, e);
		if (retry) /* cannot happen: the second try is on a new connection */
			r = err_set(e, ECONNRESET, "connection closed before the response");
	}
	return r;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->head);
	buf_free(&resp->body);
	resp->num_headers = 0;
}

const struct http_header *http_response_header(const struct http_response *resp, const char *name)
{
	return http_header_find(resp->headers, resp->num_headers, name);
}
