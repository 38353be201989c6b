// SPDX-License-Identifier: Apache-2.0
#include "httptest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

bool ht_run_until(struct ev_loop *loop, const bool *flag, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;
	while (!*flag && ev_clock_ms() < end)
		ev_run_once(loop, 20);
	return *flag;
}

static void on_head(struct http_client *c, const struct http_response_head *h, void *arg)
{
	struct ht_result *res = arg;
	(void)c;
	res->status = h->status;
	const struct http_header *ct = http_header_find(h->headers, h->num_headers, "Content-Type");
	if (ct)
		snprintf(res->ctype, sizeof(res->ctype), "%.*s", (int)ct->value_len, ct->value);
	const struct http_header *rid =
		http_header_find(h->headers, h->num_headers, "X-Request-ID");
	if (rid)
		snprintf(res->request_id, sizeof(res->request_id), "%.*s", (int)rid->value_len,
			 rid->value);
}

static void on_data(struct http_client *c, const char *data, size_t len, void *arg)
{
	struct ht_result *res = arg;
	(void)c;
	buf_append(&res->body, data, len);
}

static void on_done(struct http_client *c, int result, void *arg)
{
	struct ht_result *res = arg;
	(void)c;
	res->result = result;
	res->done = true;
}

void ht_request(struct ev_loop *loop, const struct http_endpoint *ep, const char *method,
		const char *target, const char *body, const char *const *headers,
		struct ht_result *res)
{
	struct http_client_cbs cbs = {.on_head = on_head, .on_data = on_data, .on_done = on_done};
	struct http_client_request rq = {
		.method = method,
		.target = target,
		.headers = headers,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.has_body = body != NULL,
	};
	struct err e = {0};

	memset(res, 0, sizeof(*res));
	buf_init(&res->body, 0);
	struct http_client *c = http_client_start(loop, ep, &rq, &cbs, res, &e);
	if (!c) {
		res->done = true;
		res->result = -e.code;
		return;
	}
	if (!ht_run_until(loop, &res->done, HT_WAIT_MS)) {
		http_client_cancel(c);
		res->result = -ETIMEDOUT;
	}
	buf_cstr(&res->body);
}

void ht_result_free(struct ht_result *res)
{
	buf_free(&res->body);
}

int ht_count(const struct buf *b, const char *needle)
{
	int n = 0;
	size_t nl = strlen(needle);
	const char *p = b->data ? buf_head(b) : NULL, *end = p ? p + b->len : NULL;
	while (p && (size_t)(end - p) >= nl) {
		const char *f = memmem(p, (size_t)(end - p), needle, nl);
		if (!f)
			break;
		n++;
		p = f + nl;
	}
	return n;
}

struct buf ht_raw(struct ev_loop *loop, int port, const char *req, size_t req_len,
		  const char *until, int count)
{
	struct buf out;
	buf_init(&out, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		unit_fail(__FILE__, __LINE__, "raw connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return out;
	}
	size_t sent = 0;
	uint64_t end = ev_clock_ms() + HT_WAIT_MS;
	while (ev_clock_ms() < end) {
		if (sent < req_len) {
			ssize_t n =
				send(fd, req + sent, req_len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		ev_run_once(loop, 5);
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			buf_append(&out, tmp, (size_t)n);
			if (until && ht_count(&out, until) >= count)
				break;
		} else if (n == 0) {
			break;
		}
	}
	close(fd);
	buf_cstr(&out);
	return out;
}
