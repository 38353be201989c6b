/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to http_proxy*.c: the header rules, pure and unit-tested on their own. */
#ifndef LIB_HTTP_PROXY_INT_H
#define LIB_HTTP_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http_parse.h"
#include "http_proxy.h"

/* Whether a header is hop-by-hop: the fixed list, or named by the Connection value. */
bool http_proxy_hop_by_hop(const char *name, size_t n, const char *connection, size_t clen);
/* Appends the upstream request head for req to b. 0 or -errno (-ENOBUFS past b's cap). */
int http_proxy_request_head(struct buf *b, const struct http_req *req,
			    const struct http_proxy_target *t, bool upgrade);
/* Adds the upstream response's end-to-end headers to c; the Content-Type goes to ctype. */
int http_proxy_response_headers(struct http_conn *c, const struct http_response_head *h,
				bool drop_request_id, char *ctype, size_t ctype_cap);

#endif
