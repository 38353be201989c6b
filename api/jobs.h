/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jobs: a small pool of worker threads for blocking work (Docker Engine API
 * calls), so the event loop never waits on the daemon. A job runs work(arg)
 * on a worker, then done(arg) on the loop thread, in the loop's next turn.
 * The loop thread alone touches server state; work() must only use what
 * arg gives it. arg is the caller's: done() usually frees it.
 */
#ifndef API_JOBS_H
#define API_JOBS_H

#include <stddef.h>

#include "err.h"
#include "ev.h"

struct jobs;
typedef void jobs_fn(void *arg);

/* Starts n workers (n >= 1). NULL with e set. */
struct jobs *jobs_new(struct ev_loop *loop, size_t n, struct err *e);
/* Queues a job. 0 or -ENOMEM. */
int jobs_submit(struct jobs *j, jobs_fn *work, jobs_fn *done, void *arg);
/* Waits for queued jobs to finish (their done() runs), stops the workers, frees.
 * Jobs that a done() queues meanwhile run on the caller's thread. */
void jobs_free(struct jobs *j);

#endif
