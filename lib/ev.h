/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ev: a single-threaded epoll event loop with timers and signals.
 *
 * Every source is an fd with one callback and a void * argument. Timers are
 * caller-owned `struct ev_timer` objects kept in a min-heap (no allocation per
 * timer, O(log n) start/stop) on the monotonic clock, in milliseconds.
 * Signals are delivered through one signalfd; ev_signal() blocks the signal
 * for the process (call it before starting threads or children, which should
 * unblock what they need).
 *
 * Safety: an fd removed (or closed and re-added) during a turn does not get
 * the stale events of that turn; callbacks may freely add/delete fds and
 * start/stop timers, including their own.
 *
 * Object lifetime, the one rule every module follows:
 *   An object is never freed while a callback of its may be on the stack.
 *   Closing an object marks it dead (no callback of it runs again and its fds
 *   leave the loop at once) and hands it to ev_retire(); the loop frees retired
 *   objects once, at the end of the turn, after every I/O callback, timer and
 *   turn hook has returned. So memory stays valid for the whole turn, and code
 *   that calls out re-checks its dead flag afterwards instead of counting depth.
 *   An owner hears of an object's death from the loop (an I/O or timer callback
 *   of the object, or the object's retire step), never from inside a call it is
 *   making into that object: such a call just fails (-EPIPE) and the owner is
 *   told at the end of the turn.
 */
#ifndef LIB_EV_H
#define LIB_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ev_loop;
struct ev_timer;

typedef void ev_io_cb(struct ev_loop *loop, int fd, uint32_t events, void *arg);
typedef void ev_timer_cb(struct ev_loop *loop, struct ev_timer *t, void *arg);
typedef void ev_signal_cb(struct ev_loop *loop, int signo, void *arg);
typedef void ev_turn_cb(struct ev_loop *loop, void *arg);

/* An intrusive node for ev_retire(); zero it (or leave it as calloc made it). */
struct ev_retiree {
	struct ev_retiree *next;
	void (*fn)(void *obj); /* non-NULL while queued */
	void *obj;
};

struct ev_timer {
	uint64_t when;	 /* monotonic ms at which it fires */
	size_t heap_idx; /* position in the heap; EV_TIMER_IDLE when not armed */
	ev_timer_cb *cb;
	void *arg;
};
#define EV_TIMER_IDLE ((size_t)-1)

/* A new loop, or NULL with e set. */
struct ev_loop *ev_loop_new(struct err *e);
/* Frees the loop (fds registered in it are not closed; timers are disarmed). */
void ev_loop_free(struct ev_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT, EPOLLRDHUP...). 0 or -errno. */
int ev_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb *cb, void *arg);
/* Changes the event mask of a watched fd. 0 or -errno. */
int ev_mod(struct ev_loop *loop, int fd, uint32_t events);
/* Stops watching fd (call before closing it). 0, or -ENOENT if not watched. */
int ev_del(struct ev_loop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg);
/* (Re)arms t to fire once, delay_ms from now. */
void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms);
/* (Re)arms t to fire once at monotonic time `when` (ms, the clock of ev_now). */
void ev_timer_start_at(struct ev_loop *loop, struct ev_timer *t, uint64_t when);
/* Disarms t; harmless if it is not armed. */
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_active(const struct ev_timer *t)
{
	return t->heap_idx != EV_TIMER_IDLE;
}

/* Monotonic time in ms, cached at the start of each turn. */
uint64_t ev_now(struct ev_loop *loop);
/* Monotonic time in ms read from the clock now. */
uint64_t ev_clock_ms(void);

/* Calls cb when signo arrives (blocked and read from a signalfd). 0 or -errno. */
int ev_signal(struct ev_loop *loop, int signo, ev_signal_cb *cb, void *arg);

/* Queues obj to be finished by fn(obj) at the end of this turn (fn frees it).
 * Retiring an object twice is harmless: the first call wins. */
void ev_retire(struct ev_loop *loop, struct ev_retiree *node, void (*fn)(void *obj), void *obj);
/* Runs every retire step queued so far, and those they queue (teardown and
 * private loops; a running loop does this itself at the end of each turn). */
void ev_run_retired(struct ev_loop *loop);
/* Makes the next turn poll without waiting (work was left for it). */
void ev_again(struct ev_loop *loop);

/* Adds a hook called once at the end of every turn (at most EV_TURN_HOOKS). 0 or -ENOSPC. */
#define EV_TURN_HOOKS 8
int ev_on_turn(struct ev_loop *loop, ev_turn_cb *cb, void *arg);
/* Removes a hook added with the same cb and arg. */
void ev_off_turn(struct ev_loop *loop, ev_turn_cb *cb, void *arg);

/* One turn: waits at most timeout_ms (-1 = until an event or timer), dispatches. 0 or -errno. */
int ev_run_once(struct ev_loop *loop, int timeout_ms);
/* Runs turns until ev_stop(). 0 or -errno. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);

#endif
