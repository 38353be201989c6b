/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listener: accepting connections on the ev loop, and what to do when the
 * process runs out of file descriptors.
 *
 * Each wake-up accepts a bounded batch (so one busy listener cannot starve
 * the loop) and hands every fd to the owner's callback. At EMFILE/ENFILE a
 * level-triggered listener would wake the loop forever with a pending
 * connection it cannot accept; instead:
 *   - the owner may give up a connection it values least (listener_on_exhausted:
 *     a stranger that has not authenticated); the waiting client is accepted
 *     once that fd is closed;
 *   - otherwise a reserve fd is given up for a moment to accept the waiting
 *     client, send it the owner's refusal (e.g. a 503) and close it, so
 *     clients are told rather than left to time out;
 *   - every listener is paused for LISTENER_PAUSE_MS, or until the owner says
 *     an fd was freed (listener_fd_freed);
 *   - it is logged at most once per LISTENER_LOG_INTERVAL_MS.
 *
 * Ownership: the listener owns its listening fds and closes them in
 * listener_free(); accepted fds belong to the callback.
 */
#ifndef LIB_LISTENER_H
#define LIB_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ev.h"

#define LISTENER_MAX_FDS	 8
#define LISTENER_BATCH		 64
#define LISTENER_PAUSE_MS	 100
#define LISTENER_LOG_INTERVAL_MS 10000

/* Takes ownership of a freshly accepted fd (non-blocking, close-on-exec). */
typedef void listener_accept_cb(int fd, void *arg);

struct listener;

/*
 * A listener that logs as `name` and, at fd exhaustion, sends `refusal`
 * (copied; NULL or len 0: just close) to the client it cannot serve.
 * NULL with e set on failure.
 */
struct listener *listener_new(struct ev_loop *loop, const char *name, listener_accept_cb *cb,
			      void *arg, const void *refusal, size_t refusal_len, struct err *e);
/* Out of fds: shed(arg) closes one connection the owner can spare and returns
 * true, or returns false. The owner must call listener_fd_freed() once the fd
 * is really closed. */
typedef bool listener_shed_cb(void *arg);
void listener_on_exhausted(struct listener *l, listener_shed_cb *shed);

/* Closes the listening fds and frees. */
void listener_free(struct listener *l);

/* Starts accepting on lfd (takes ownership, closed on failure). 0 or -errno. */
int listener_add_fd(struct listener *l, int lfd, struct err *e);

/* An fd was closed: a paused listener resumes at once. Cheap; call on every close. */
void listener_fd_freed(struct listener *l);

/* Whether accepting is paused for fd exhaustion (tests, metrics). */
int listener_paused(const struct listener *l);

/* Raises the soft RLIMIT_NOFILE to the hard limit (call once at start-up).
 * Returns the new soft limit, or -errno. */
long listener_raise_fd_limit(void);

#endif
