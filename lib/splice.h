/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splice: copies bytes both ways between two transports until both sides
 * are done (WebSocket and other Upgrade pass-through, CONNECT tunnels).
 *
 * Each direction has a bounded buffer (SPLICE_BUF_MAX); when it is full the
 * splicer stops reading the source, so a slow reader slows the writer down
 * instead of growing memory. EOF on one side is passed on as a half-close
 * after the buffered bytes are written. An error on either side, or
 * idle_ms without traffic (0 = never), closes both.
 *
 * Ownership: splice_start takes both transports and the buffers of both
 * struct http_detached (bytes already read from a side go to the other
 * side first; bytes queued for a side are written to it first). The splice
 * ends itself: done runs from the loop at the end of that turn, then it is freed.
 */
#ifndef LIB_SPLICE_H
#define LIB_SPLICE_H

#include <stdint.h>

#include "ev.h"
#include "http_server.h"

#define SPLICE_BUF_MAX (256 * 1024)

struct splice;
/* result: 0 after both sides ended cleanly, else -errno. */
typedef void splice_done_cb(int result, uint64_t bytes_a_to_b, uint64_t bytes_b_to_a, void *arg);

/* Starts splicing a and b. On failure both are closed and NULL is returned with e set. */
struct splice *splice_start(struct ev_loop *loop, struct http_detached *a, struct http_detached *b,
			    uint32_t idle_ms, splice_done_cb *done, void *arg, struct err *e);

#endif
