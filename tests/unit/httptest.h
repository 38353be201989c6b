/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httptest: helpers for tests that run an HTTP server and clients on one
 * event loop in the test's own thread. Every wait is bounded (HT_WAIT_MS).
 */
#ifndef TESTS_HTTPTEST_H
#define TESTS_HTTPTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ev.h"
#include "http_client.h"

#define HT_WAIT_MS 5000

struct ht_result {
	bool done;
	int result; /* on_done result */
	int status;
	char ctype[128];
	char request_id[96];
	struct buf body;
};

/* Runs one request with the async client on loop; waits for it (bounded). */
void ht_request(struct ev_loop *loop, const struct http_endpoint *ep, const char *method,
		const char *target, const char *body, const char *const *headers,
		struct ht_result *res);
void ht_result_free(struct ht_result *res);

/* Runs the loop until *flag is true or ms pass; returns *flag. */
bool ht_run_until(struct ev_loop *loop, const bool *flag, int ms);

/* Raw exchange: connects a plain socket to 127.0.0.1:port, sends req, reads
 * until the server closes or `until` appears `count` times in the reply (or the
 * wait ends). Returns the reply (caller frees with buf_free). */
struct buf ht_raw(struct ev_loop *loop, int port, const char *req, size_t req_len,
		  const char *until, int count);
/* Number of non-overlapping occurrences of needle in b. */
int ht_count(const struct buf *b, const char *needle);

#endif
