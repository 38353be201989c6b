/* SPDX-License-Identifier: Apache-2.0 */
/*
 * respond: execd's response shapes, as the OpenSandbox clients expect them:
 * JSON with "application/json; charset=utf-8", errors {"code":..,"message":..}
 * with Go's HTML-safe escaping, and the empty 200.
 */
#ifndef EXECD_RESPOND_H
#define EXECD_RESPOND_H

#include <cJSON.h>

#include "buf.h"
#include "http_server.h"

#define RESPOND_JSON "application/json; charset=utf-8"

/* 200 with an empty body (Content-Length: 0). */
int respond_ok(struct http_conn *c);
/* {"code":code,"message":message} with status; message may be NULL (omitted). */
int respond_error(struct http_conn *c, int status, const char *code, const char *message);
/* The same with a printf-style message. */
int respond_errorf(struct http_conn *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A JSON body already built in b (sent, then b is reset). */
int respond_json_buf(struct http_conn *c, int status, struct buf *b);

/* Go's RFC3339Nano in UTC with trailing fractional zeros trimmed, e.g. 2025-12-22T09:08:05.12Z. */
void respond_time(char out[40], int64_t sec, long nsec);

#endif
