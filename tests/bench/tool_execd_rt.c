// SPDX-License-Identifier: Apache-2.0
/*
 * Command round trip against a running execd: POST /command {"command":"true"}
 * until the end of its event stream, N times; prints the median and p90 in µs.
 * usage: tool_execd_rt HOST:PORT TOKEN N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev.h"
#include "http_client.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tool_execd_rt HOST:PORT TOKEN N\n");
		return 2;
	}
	char url[128], tok[256];
	snprintf(url, sizeof(url), "http://%s", argv[1]);
	snprintf(tok, sizeof(tok), "X-EXECD-ACCESS-TOKEN: %s", argv[2]);
	int n = atoi(argv[3]);
	struct http_endpoint ep;
	struct err e = {0};
	if (n <= 0 || http_endpoint_parse(&ep, url, NULL, 0, &e) < 0) {
		fprintf(stderr, "tool_execd_rt: bad arguments %s\n", e.msg);
		return 2;
	}
	const char *hdrs[] = {tok, "Content-Type: application/json", NULL};
	const char body[] = "{\"command\":\"true\"}";
	struct http_client_request rq = {.method = "POST",
					 .target = "/command",
					 .headers = hdrs,
					 .body = body,
					 .body_len = sizeof(body) - 1,
					 .has_body = true};
	double *us = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		struct http_response resp;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int r = http_request_sync(&ep, &rq, 1 << 20, &resp, &e);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (r < 0 || resp.status != 200 ||
		    !memmem(buf_head(&resp.body), resp.body.len, "execution_complete", 18)) {
			fprintf(stderr, "tool_execd_rt: request %d failed: %s (status %d)\n", i,
				e.msg, resp.status);
			return 1;
		}
		http_response_free(&resp);
		us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
	}
	qsort(us, (size_t)n, sizeof(double), cmp);
	printf("%.0f %.0f\n", us[n / 2], us[n * 9 / 10]);
	free(us);
	return 0;
}
