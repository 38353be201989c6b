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

struct ev_timer {
	uint64_t when;		/* monotonic ms at which it fires */
	size_t heap_idx;	/* position in the heap; EV_TIMER_IDLE when not armed */
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
/* Gives a watched fd a new callback and mask in one step (one epoll_ctl);
 * events already pending for the old callback this turn are dropped. 0 or -errno. */
int ev_rebind(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb *cb, void *arg);
/* Stops watching fd (call before closing it). 0, or -ENOENT if not watched. */
int ev_del(struct ev_loop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg);
/* (Re)arms t to fire once, delay_ms from now. */
void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms);
/* Disarms t; harmless if it is not armed. */
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_active(const struct ev_timer *t) { return t->heap_idx != EV_TIMER_IDLE; }

/* Monotonic time in ms, cached at the start of each turn. */
uint64_t ev_now(struct ev_loop *loop);
/* Monotonic time in ms read from the clock now. */
uint64_t ev_clock_ms(void);

/* Calls cb when signo arrives (blocked and read from a signalfd). 0 or -errno. */
int ev_signal(struct ev_loop *loop, int signo, ev_signal_cb *cb, void *arg);

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
