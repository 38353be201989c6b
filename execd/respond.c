// SPDX-License-Identifier: Apache-2.0
#include "respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

int respond_ok(struct http_conn *c)
{
	return http_resp_send(c, 200, NULL, "", 0);
}

int respond_error(struct http_conn *c, int status, const char *code, const char *message)
{
	struct buf b;
	buf_init(&b, 0);
	int r = json_error_body(&b, code, message);
	r = r ? r : http_resp_send(c, status, RESPOND_JSON, buf_head(&b), b.len);
	buf_free(&b);
	return r;
}

int respond_errorf(struct http_conn *c, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return respond_error(c, status, code, msg);
}

int respond_json_buf(struct http_conn *c, int status, struct buf *b)
{
	int r = http_resp_send(c, status, RESPOND_JSON, buf_head(b), b->len);
	buf_reset(b);
	return r;
}

void respond_time(char out[40], int64_t sec, long nsec)
{
	struct tm tm;
	time_t t = (time_t)sec;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	if (nsec > 0) {
		char frac[24];
		snprintf(frac, sizeof(frac), ".%09ld", nsec % 1000000000L);
		size_t len = strlen(frac);
		while (len > 1 && frac[len - 1] == '0')
			frac[--len] = '\0';
		snprintf(out + n, 40 - n, "%sZ", frac);
	} else {
		snprintf(out + n, 40 - n, "Z");
	}
}
